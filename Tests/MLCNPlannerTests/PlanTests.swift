// Plans: JSON round trip, placement of every node, and the cost model's basic sense.

import Foundation
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
  #expect(try plan.placement(for: g) == [0, 0, 0])
  let back = try Plan.decode(Data(plan.json().utf8), file: "p.json")
  #expect(back == plan)
  #expect(plan.json().contains("\"predicted_seconds\""))
}

@Test func costGrowsWithWork() throws {
  let small = try graph("network t\ninput x: [N, 1, 16, 16]\na = conv2d(x, filters=4, kernel=3)\noutput a\n")
  let big = try graph("network t\ninput x: [N, 1, 16, 16]\na = conv2d(x, filters=64, kernel=3)\noutput a\n")
  let cs = CostModel.cost(of: ValueID(1), in: small), cb = CostModel.cost(of: ValueID(1), in: big)
  #expect(cs.flops == 2 * 4 * 14 * 14 * 9)
  #expect(cb.flops == 16 * cs.flops)
  #expect(CostModel.seconds(cb, on: cpu) > CostModel.seconds(cs, on: cpu))
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
  let a = ValueID(1)
  measured.record(0.5, signature: MeasuredTimes.signature(a, in: g), device: "PoCL|cpu|test")
  measured.record(0.7, signature: MeasuredTimes.signature(a, in: g), device: "PoCL|cpu|test")
  let times = TimeModel(machine: Machine(devices: [dev]), measured: measured)
  #expect(times.seconds(a, in: g, device: 0) == 0.5, "keeps the fastest measurement")
  // b has the same signature as a (same op, shapes, attributes): it gets the measurement too.
  #expect(times.seconds(ValueID(2), in: g, device: 0) == 0.5)
  #expect(times.seconds(ValueID(3), in: g, device: 0) == CostModel.seconds(CostModel.cost(of: ValueID(3), in: g), on: dev))
  let roofline = TimeModel(machine: Machine(devices: [cpu]), measured: measured)
  #expect(roofline.seconds(a, in: g, device: 0) < 0.01, "a virtual device has no measurements")
}
