// `mlcnc-bench ops`: the median kernel time of every op (and of each of its kernels) of a
// network, and of whole runs,
// on one device with the tuned tiles (as `mlcnc run` uses them), as JSON on stdout; whole
// runs also in process CPU time.
// tools/bench_kernels.py puts these beside NumPy, PyTorch and ONNX Runtime.

import ArgumentParser
import Foundation
import MLCNCodegen
import MLCNDriver
import MLCNFormats
import MLCNFrontend
import MLCNRuntime

struct OpTimesBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ops", abstract: "Median kernel time per op of one network on one device (JSON).")

  @Argument(help: "The network (.mlcn).") var network: String
  @Option(help: "Batch size.") var batch = 1
  @Option(help: "Timed runs after one warm-up run.") var `repeat` = 10
  @Option(help: "Weights (.safetensors); default: seeded.") var weights: String?
  @Option(help: "The input (.npy) of a one-input network; default: random.") var input: String?
  @Option(help: "Write the first output here (.npy), to check it against other frameworks.") var output: String?
  @Option(help: "Device id (see `mlcnc devices`).") var device: String?
  @Flag(help: "Ignore the tuning table: default tiles.") var untuned = false

  func run() throws {
    let graph = try Pipeline.ir(try SourceFile.load(path: network), batch: batch)
    let dev = try CLDevices.select(device)[0]
    let env = ProcessInfo.processInfo.environment
    let kernels = ProgramCache.defaultDirectory(environment: env)
    let tuning = untuned ? TuningTable() : try TuningStore.load(kernels.map(TuningStore.file(in:)))
    let program = KernelProgram.build(graph, placement: Array(repeating: 0, count: graph.nodes.count),
                                      devices: [dev.descriptor(bandwidthGBs: 1)], options: CodegenOptions(tuning: tuning))
    let w = try weights.map { try Weights.load($0, for: graph).weights } ?? Weights.initialize(graph, seed: 0)
    let executor = try Executor(program: program, graph: graph, devices: [dev], parameters: Weights.bind(w, to: graph),
                                programs: ProgramCache(directory: kernels))
    var inputs: [String: HostTensor] = [:]
    for id in graph.inputs {
      let shape = graph[id].type.shape
      inputs[graph[id].name] = try input.map { try NPY.read($0) }
        ?? HostTensor(shape: shape, data: (0..<shape.reduce(1, *)).map { Float($0 % 255) / 255 })
    }
    let first = try executor.run(inputs)
    var perOp: [String: [Double]] = [:], perKernel: [String: [Double]] = [:], wall: [Double] = [], cpu: [Double] = []
    for _ in 0..<self.repeat {
      let start = Date(), cpuStart = processCPUSeconds()
      _ = try executor.run(inputs)
      wall.append(Date().timeIntervalSince(start))
      cpu.append(processCPUSeconds() - cpuStart)
      var sums: [String: Double] = [:], kernelSums: [String: Double] = [:]
      for t in executor.timings() where t.kind == .kernel {
        sums[t.node, default: 0] += t.seconds
        kernelSums["\(t.node) \(t.kernel)", default: 0] += t.seconds
      }
      for (node, s) in sums { perOp[node, default: []].append(s) }
      for (k, s) in kernelSums { perKernel[k, default: []].append(s) }
    }
    if let output, let name = graph.outputs.first?.name, let y = first[name] { try NPY.write(y, to: output) }
    let result: [String: Any] = ["network": graph.name, "batch": batch, "device": dev.deviceName,
                                 "ops": perOp.mapValues(median), "kernels": perKernel.mapValues(median), "run_seconds": median(wall),
                                 "run_cpu_seconds": median(cpu)]
    let data = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }

  private func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

  /// CPU time of all the process's threads (PoCL's workers included): on a shared host it
  /// counts what the run computed, not how long it waited for a core.
  private func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
  }
}
