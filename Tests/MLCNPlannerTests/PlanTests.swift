// Plans: JSON round trip, placement of every node, and the cost model's basic sense.

import Foundation
import MLCNBase
import MLCNCodegen
import Testing
import MLCNFrontend
import MLCNGraph
@testable import MLCNPlanner

func graph(_ text: String, batch: Int = 1) throws -> Graph {
  var g = try Lowering.lower(source: SourceFile(path: "t.mlcn", text: text), batch: batch)
  try PassPipeline.standard.run(&g)
  return g
}

let cpu = DeviceDescriptor(name: "cpu0", kind: .cpu, gflops: 100, bandwidthGBs: 20, memoryBytes: 8 << 30)

@Test func singlePlanPlacesEveryOpAndRoundTrips() throws {
  let g = try graph("network t\ninput x: [N, 4]\na = dense(x, units=3)\nb = relu(a)\nf = flatten(b)\noutput f\n")
  let plan = try Planner.plan(g, PlanRequest(strategy: .single, times: TimeModel(machine: Machine(devices: [cpu]))))
  #expect(plan.ops.map(\.name) == ["b", "f"])
  #expect(try plan.placement(for: g) == [0, 0, 0, 0, 0], "x, a.weight, a.bias, b, f")
  let back = try Plan.decode(Data(plan.json().utf8), file: "p.json")
  #expect(back == plan)
  #expect(plan.json().contains("\"predicted_seconds\""))
}

@Test func costGrowsWithWork() throws {
  let small = try graph("network t\ninput x: [N, 1, 16, 16]\na = conv2d(x, filters=4, kernel=3)\noutput a\n")
  let big = try graph("network t\ninput x: [N, 1, 16, 16]\na = conv2d(x, filters=64, kernel=3)\noutput a\n")
  // x, a.weight, a.bias, a: the conv is node 3.
  let cs = CostModel.cost(of: ValueID(3), in: small), cb = CostModel.cost(of: ValueID(3), in: big)
  let kernels = Codegen.reporter()
  #expect(kernels.footprint(of: ValueID(3), in: small, on: cpu).launches == 1)
  #expect(cs.flops == 2 * 4 * 14 * 14 * 9)
  #expect(cb.flops == 16 * cs.flops)
  // Bytes: input 1*16*16, output F*14*14, weights F*9 + F bias, 4 bytes each.
  #expect(cs.bytes == 4 * (256 + 4 * 196 + 4 * 10))
  #expect(cb.bytes == 4 * (256 + 64 * 196 + 64 * 10))
  // On cpu (100 GFLOP/s at the CPU efficiency 0.25, 20 GB/s, 20 us per launch):
  // small: compute 14112 / 25e9 = 0.56448 us beats memory 4320 / 20e9 = 0.216 us;
  // big: compute 225792 / 25e9 = 9.03168 us beats memory 53760 / 20e9 = 2.688 us.
  #expect(nearly(CostModel.seconds(cs, launches: 1, on: cpu), 20.56448e-6))
  #expect(nearly(CostModel.seconds(cb, launches: 1, on: cpu), 29.03168e-6))
  // Memory-bound: an add of two f32[1, 4, 14, 14] reads 2 * 3136 and writes 3136 bytes,
  // 9408 / 20e9 = 0.4704 us against 784 / 25e9 = 0.03136 us of compute.
  let sum = try graph("network t\ninput x: [N, 4, 14, 14]\na = tanh(x)\nb = add(a, x)\noutput b\n")
  let add = CostModel.cost(of: ValueID(2), in: sum)
  #expect(add.flops == 784 && add.bytes == 9408)
  #expect(nearly(CostModel.seconds(add, launches: 1, on: cpu), 20.4704e-6))
}

/// Equal up to rounding: the hand-computed values below are exact in decimal, not in binary.
func nearly(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * abs(b) }

@Test func costOfOpsWithoutKernels() throws {
  let g = try graph("network t\ninput x: [N, 2, 3, 4]\na = tanh(x)\nf = flatten(a)\nr = reshape(f, shape=[4, 6])\noutput r\n")
  let kernels = Codegen.reporter()
  for id in [ValueID(2), ValueID(3)] {
    #expect(CostModel.cost(of: id, in: g) == OpCost(flops: 0, bytes: 0), "\(g[id].name)")
    #expect(kernels.footprint(of: id, in: g, on: cpu).launches == 0)
    #expect(MemoryModel.nodeBytes(id, in: g, on: cpu, kernels: kernels) == 0, "views hold no memory")
  }
  #expect(MemoryModel.nodeBytes(ValueID(1), in: g, on: cpu, kernels: kernels) == 4 * 24)
}

@Test func planVersionIsChecked() {
  let json = #"{"version": 99, "strategy": "single", "devices": [], "predicted_seconds": 0, "ops": [], "lanes": []}"#
  #expect { _ = try Plan.decode(Data(json.utf8), file: "p.json") } throws: { ($0 as? PlanError)?.message.contains("version 99") == true }
}

@Test func measuredTimesReplaceTheRoofline() throws {
  let g = try graph("network t\ninput x: [N, 1, 16, 16]\na = conv2d(x, filters=4, kernel=3)\nb = conv2d(x, filters=4, kernel=3)\nc = add(a, b)\noutput c\n")
  var dev = cpu
  dev.identity = "PoCL|cpu|test"
  var measured = MeasuredTimes()
  let a = ValueID(3)  // x, a.weight, a.bias, a, b.weight, b.bias, b, c
  measured.record(0.5, signature: MeasuredTimes.signature(a, in: g), device: "PoCL|cpu|test")
  measured.record(0.7, signature: MeasuredTimes.signature(a, in: g), device: "PoCL|cpu|test")
  let times = TimeModel(machine: Machine(devices: [dev]), measured: measured)
  #expect(times.seconds(a, in: g, device: 0) == 0.5, "keeps the fastest measurement")
  // b has the same signature as a (same op, shapes, attributes): it gets the measurement too.
  #expect(times.seconds(ValueID(6), in: g, device: 0) == 0.5)
  // c = add(a, b) has no measurement: the roofline, by hand as in costGrowsWithWork.
  #expect(nearly(times.seconds(ValueID(7), in: g, device: 0), 20.4704e-6))
  let roofline = TimeModel(machine: Machine(devices: [cpu]), measured: measured)
  #expect(nearly(roofline.seconds(a, in: g, device: 0), 20.56448e-6), "a virtual device has no measurements")
}

@Test func dataParallelSplitsTheBatchByDeviceSpeed() throws {
  let g = try graph("network t\ninput x: [N, 1, 16, 16]\na = conv2d(x, filters=64, kernel=3)\nf = flatten(a)\ny = dense(f, units=10)\noutput y\n",
                    batch: 30)
  // Same memory and launch costs, one device twice as fast: it takes about two thirds.
  let slow = DeviceDescriptor(name: "slow", kind: .gpu, gflops: 100, bandwidthGBs: 1000, memoryBytes: 8 << 30, launchOverheadSeconds: 0)
  let fast = DeviceDescriptor(name: "fast", kind: .gpu, gflops: 200, bandwidthGBs: 2000, memoryBytes: 8 << 30, launchOverheadSeconds: 0)
  let plan = try Planner.plan(g, PlanRequest(strategy: .dataParallel, times: TimeModel(machine: Machine(devices: [slow, fast]))))
  let split = try #require(try plan.batchSplit(for: g))
  #expect(split.map(\.device) == ["slow", "fast"] && split.map(\.range) == [0..<10, 10..<30])
  #expect(plan.ops.count == 3 && plan.ops.allSatisfy { $0.parts?.count == 2 && $0.device == nil })
  // The predicted time is the slower share's: a third of the batch on the slow device.
  let alone = Simulator.run(g, placement: Array(repeating: 0, count: g.nodes.count),
                            times: TimeModel(machine: Machine(devices: [slow]))).makespan
  #expect(abs(plan.predictedSeconds - alone / 3) <= 1e-9 * alone)
  // Parts that leave a gap, or do not cover the batch, are rejected with the reason.
  var gap = plan, short = plan
  for i in plan.ops.indices { gap.ops[i].parts![1].range = [11, 30]; short.ops[i].parts![1].range = [10, 29] }
  #expect { _ = try gap.batchSplit(for: g) } throws: { ($0 as? PlanError)?.message.contains("op 'a': part ranges must cover the batch in order") == true }
  #expect { _ = try short.batchSplit(for: g) } throws: { ($0 as? PlanError)?.message == "the plan splits a batch of 29, the network runs a batch of 30" }
}
