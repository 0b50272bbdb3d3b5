// Lane balancing and the simulator on made-up machines: exact is never worse than
// greedy, greedy beats random on heterogeneous lanes, memory limits are respected, and
// lanes on different devices overlap in time.

import Foundation
import Testing
import MLCNGraph
@testable import MLCNPlanner

func machine(_ file: String) throws -> Machine { try Machine.load(root.appending(path: "graphs/machines/\(file)").path) }

func makespan(_ g: Graph, _ m: Machine, _ s: Strategy, seed: UInt64 = 0) throws -> Double {
  try Planner.plan(g, PlanRequest(strategy: s, times: TimeModel(machine: m), seed: seed)).predictedSeconds
}

@Test(arguments: ["two_gpus.json", "four_gpus.json", "cpu_two_gpus.json", "four_cpus.json"])
func greedyBeatsRandomAndExactBeatsGreedy(_ file: String) throws {
  let g = try graphFile("mlcn_hetero.mlcn", batch: 32)
  let m = try machine(file)
  let single = try makespan(g, m, .single)
  let greedy = try makespan(g, m, .lanes)
  let exact = try makespan(g, m, .lanesExact)
  let random = try (0..<10).map { try makespan(g, m, .lanesRandom, seed: $0) }.reduce(0, +) / 10
  #expect(greedy < single, "lanes on \(m.devices.count) devices must beat one device")
  #expect(greedy < random)
  #expect(exact <= greedy * 1.05)
  #expect(try makespan(g, m, .auto) <= min(single, greedy) * (1 + 1e-9))
}

@Test func exactIsOptimalForTheLaneModel() throws {
  // 6 lanes of very different widths on a CPU and two unequal GPUs: compare the branch
  // and bound with brute force over all 3^6 placements of the balancer's own cost model.
  var text = "network t\ninput x: [N, 1, 28, 28]\n"
  for (i, w) in [1, 7, 3, 8, 2, 5].enumerated() {
    text += "lane l\(i) {\n h = conv2d(x, filters=\(4 * w), kernel=5, act=relu)\n p = primary_caps(h, caps=\(2 * w), dim=8, kernel=5, stride=2)\n c = capsule(p, caps=10, dim=2)\n yield c\n}\n"
  }
  text += "v = concat(l0, l1, l2, l3, l4, l5, axis=-1)\ny = length(v)\noutput y\n"
  let g = try graph(text, batch: 16)
  let m = try machine("cpu_two_gpus.json")
  let b = LaneBalancer(graph: g, analysis: LaneDetection.analyze(g), times: TimeModel(machine: m))
  var used = b.baseMemory()
  let exact = try b.exact(b.groups[0], &used)
  func model(_ a: [Int]) -> Double {
    var load = Array(repeating: 0.0, count: 3)
    for (k, d) in a.enumerated() { load[d] += b.cost[k][d] + (load[d] == 0 ? b.setup[0][d] : 0) }
    return load.max()!
  }
  var best = Double.infinity
  for code in 0..<729 {
    var c = code
    best = min(best, model((0..<6).map { _ in defer { c /= 3 }; return c % 3 }))
  }
  #expect(abs(model(exact) - best) < 1e-12)
  var greedyUsed = b.baseMemory()
  #expect(model(try b.greedy(b.groups[0], &greedyUsed)) >= best)
}

@Test func aLaneThatFitsNowhereIsNamed() throws {
  let tiny = try Machine.decode(Data("""
    {"devices": [{"name": "a", "type": "gpu", "gflops": 1000, "bandwidth_gbs": 100, "memory_gb": 0.02},
                 {"name": "b", "type": "gpu", "gflops": 1000, "bandwidth_gbs": 100, "memory_gb": 0.02}]}
    """.utf8), file: "tiny.json")
  let g = try graphFile("mlcn_hetero.mlcn", batch: 64)
  #expect { _ = try makespan(g, tiny, .lanes) } throws: { e in
    let m = (e as? PlanError)?.message ?? ""
    return m.contains("lane 'wide'") && m.contains("MiB") && m.contains("fits no device")
  }
}

@Test func lanesOnTwoDevicesOverlapInTheSimulator() throws {
  let g = try graphFile("mlcn2.mlcn", batch: 8)
  let times = TimeModel(machine: try machine("two_gpus.json"))
  let lanes = LaneDetection.analyze(g).lanes
  var split = Array(repeating: 0, count: g.nodes.count)
  for v in lanes[1] { split[v.index] = 1 }
  let one = Simulator.run(g, placement: Array(repeating: 0, count: g.nodes.count), times: times)
  let two = Simulator.run(g, placement: split, times: times)
  #expect(two.busy[0] > 0 && two.busy[1] > 0)
  // The second lane starts before the first one ends, on the other device.
  let firstLaneEnd = lanes[0].map { two.finish[$0.index] }.max()!
  let secondLaneStart = lanes[1].map { two.start[$0.index] }.min()!
  #expect(secondLaneStart < firstLaneEnd)
  #expect(two.makespan < one.makespan)
  #expect(two.transfers.count == 1 && two.transfers[0].bytes == g.type(of: lanes[1].last!).bytes)
}

@Test func machineFilesAreValidated() {
  func message(_ json: String) -> String {
    do { _ = try Machine.decode(Data(json.utf8), file: "m.json"); return "" } catch { return error.message }
  }
  #expect(message("[]").contains("m.json: not a JSON object"))
  #expect(message(#"{"devices": []}"#).contains("non-empty \"devices\""))
  #expect(message(#"{"devices": [{"name": "g", "type": "tpu", "gflops": 1, "bandwidth_gbs": 1, "memory_gb": 1}]}"#).contains("\"type\" must be one of"))
  #expect(message(#"{"devices": [{"name": "g", "type": "gpu", "bandwidth_gbs": 1, "memory_gb": 1}]}"#).contains("lacks \"gflops\""))
  #expect(message(#"{"devices": [{"name": "g", "type": "gpu", "gflops": 1, "bandwidth_gbs": 1, "memory_gb": 1}], "links": [{"between": ["g", "h"], "bandwidth_gbs": 1, "latency_us": 1}]}"#).contains("unknown device 'h'"))
}

@Test func planExportsNameDevicesLanesAndTransfers() throws {
  let g = try graphFile("mlcn_hetero.mlcn", batch: 8)
  let times = TimeModel(machine: try machine("cpu_two_gpus.json"))
  let plan = try Planner.plan(g, PlanRequest(strategy: .lanes, times: times))
  let back = try Plan.decode(Data(plan.json().utf8), file: "p.json")
  #expect(back == plan)
  #expect(plan.lanes.count == 4 && plan.laneDevices?.count == 4)
  #expect(plan.ops.allSatisfy { $0.device != nil && plan.devices.contains($0.device!) })
  let report = try PlanReport(graph: g, plan: plan, times: times)
  let dot = report.dot()
  let used = Set(plan.ops.compactMap(\.device))
  for d in used { #expect(dot.contains("label=\"\(d) (")) }
  #expect(dot.contains("color=red") == (used.count > 1))
  #expect(dot.contains("KiB,"))
  #expect(report.table().contains("predicted busy"))
  // Graphviz must accept it, where Graphviz is installed.
  if FileManager.default.isExecutableFile(atPath: "/usr/bin/dot") {
    let dir = FileManager.default.temporaryDirectory.appending(path: "mlcnc-dot-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    try dot.write(to: dir.appending(path: "p.dot"), atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
    p.arguments = ["-Tsvg", dir.appending(path: "p.dot").path, "-o", dir.appending(path: "p.svg").path]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
  }
}
