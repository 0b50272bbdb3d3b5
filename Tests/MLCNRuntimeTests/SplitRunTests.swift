// Split and unsplit runs must agree: the same graph on one device and with its lanes
// spread over two devices (copies between devices, concurrent queues) gives the same
// outputs, and the trace shows both devices at work.

import Foundation
import MLCNBase
import Testing
import MLCNDriver
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

@Test(arguments: ["mlcn4.mlcn", "mlcn_hetero.mlcn"])
func lanesOverTwoDevicesMatchOneDevice(_ file: String) throws {
  let devices = try TestSupport.devices()
  try #require(devices.count >= 2, "needs two OpenCL devices (POCL_DEVICES=\"pthread pthread\")")
  let pair = Array(devices.prefix(2))
  let g = try Compiler.graph(path: TestSupport.root.appending(path: "graphs/\(file)").path, options: CompileOptions(batch: 3))
  let weights = Weights.initialize(g, seed: 7)
  var rng = SplitMix64(seed: 11)  // fixed: a failure must reproduce with the same input
  let x = HostTensor(shape: [3, 1, 28, 28], data: (0..<(3 * 784)).map { _ in rng.nextUnit() })
  let cache = ProgramCache(directory: nil)

  let one = try TestSupport.executor(g, devices: [pair[0]], weights: weights, programs: cache).run(["x": x])

  let plan = try Planner.plan(g, PlanRequest(strategy: .lanes, times: TimeModel(machine: try DeviceProbe.machine(pair, file: nil))))
  let placement = try plan.placement(for: g)
  #expect(Set(placement).count == 2, "the lanes plan should use both devices")
  let split = try TestSupport.executor(g, placement: placement, devices: pair, weights: weights, programs: cache)
  let before = DispatchTime.now().uptimeNanoseconds
  let two = try split.run(["x": x])
  let after = DispatchTime.now().uptimeNanoseconds
  #expect(two == one, "split run differs from the unsplit one")

  let timings = split.timings()
  // Device clocks are put on the host's: every step lies within the run as the host saw it
  // (give or take the 1 ms the clock offset may be off by).
  let slack: UInt64 = 1_000_000
  #expect(timings.allSatisfy { $0.startNanoseconds + slack >= before && $0.endNanoseconds <= after + slack && $0.startNanoseconds <= $0.endNanoseconds })
  #expect(Set(timings.map(\.device)) == Set(pair.map(\.name)))
  #expect(timings.contains { $0.kind == .copy && $0.kernel.hasPrefix("transfer") && $0.bytes > 0 })
  #expect(timings.contains { $0.kind == .upload && $0.node == "input x" && $0.bytes == 3 * 784 * 4 })
  #expect(timings.contains { $0.kind == .download && $0.node == "output y" && $0.bytes == 3 * 10 * 4 })
  let trace = try JSONSerialization.jsonObject(with: Trace.json(timings)) as? [String: Any]
  #expect((trace?["traceEvents"] as? [Any])?.count ?? 0 > timings.count)
}
