// Lane balancing and the simulator on made-up machines: exact is optimal (against brute
// force), greedy keeps its proven bounds and beats random on heterogeneous lanes, memory
// limits are respected, and lanes on different devices overlap in time.

import Foundation
import MLCNBase
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

/// A net of one lane per width, each lane's work growing with its width.
func lanesOfWidths(_ widths: [Int], batch: Int = 16) throws -> Graph {
  var text = "network t\ninput x: [N, 1, 28, 28]\n"
  for (i, w) in widths.enumerated() {
    text += "lane l\(i) {\n h = conv2d(x, filters=\(4 * w), kernel=5, act=relu)\n p = primary_caps(h, caps=\(2 * w), dim=8, kernel=5, stride=2)\n c = capsule(p, caps=10, dim=2)\n yield c\n}\n"
  }
  text += "v = concat(\(widths.indices.map { "l\($0)" }.joined(separator: ", ")), axis=-1)\ny = length(v)\noutput y\n"
  return try graph(text, batch: batch)
}

/// The optimum of set 0 by brute force over all device^lane placements.
func bruteForceOptimum(_ p: LaneProblem) -> Double {
  let lanes = p.sets[0].count, devices = p.devices.count
  var best = Double.infinity
  for code in 0..<Int(pow(Double(devices), Double(lanes))) {
    var c = code
    best = min(best, p.makespan((0..<lanes).map { _ in defer { c /= devices }; return c % devices }, set: 0))
  }
  return best
}

func greedyMakespan(_ p: LaneProblem) throws -> Double {
  var used = p.baseMemory()
  var greedy = GreedyBalancer()
  return p.makespan(try greedy.place(0, in: p, used: &used), set: 0)
}

@Test func exactIsOptimalForTheLaneModel() throws {
  // 6 lanes of very different widths on a CPU and two unequal GPUs: compare the branch
  // and bound with brute force over all 3^6 placements of the balancer's own cost model.
  let g = try lanesOfWidths([1, 7, 3, 8, 2, 5])
  let m = try machine("cpu_two_gpus.json")
  let p = LaneProblem(graph: g, analysis: LaneDetection.analyze(g), times: TimeModel(machine: m))
  #expect(p.sets.count == 1 && p.sets[0].count == 6)
  var used = p.baseMemory()
  let exact = try ExactBalancer().place(0, in: p, used: &used)
  let best = bruteForceOptimum(p)
  #expect(abs(p.makespan(exact, set: 0) - best) < 1e-12)
  // Earliest finish never makes the largest load grow by more than the lane's cheapest
  // cost (plus that device's setup), so greedy is at most the sum of those minima; and no
  // placement beats the cheapest work of all lanes spread evenly over the devices.
  let cheapest = p.sets[0].map { l in p.devices.indices.map { p.cost[l][$0] + p.setup[0][$0] }.min()! }
  let greedy = try greedyMakespan(p)
  #expect(greedy <= cheapest.reduce(0, +) * (1 + 1e-12), "greedy \(greedy)")
  let work = p.sets[0].map { p.cost[$0].min()! }.reduce(0, +)
  #expect(best >= work / Double(p.devices.count) * (1 - 1e-12))
}

/// Identical GPUs joined by a free link: each lane costs the same on every device, so lane
/// balancing is plain P||Cmax and greedy (largest first, onto the least loaded) is LPT.
func identicalGPUs(_ count: Int) -> Machine {
  Machine(devices: (0..<count).map { DeviceDescriptor(name: "gpu\($0)", kind: .gpu, gflops: 14000, bandwidthGBs: 900, memoryBytes: 16 << 30) },
          defaultLink: LinkModel(bandwidthGBs: .infinity, latencySeconds: 0))
}

@Test func greedyIsWithinGrahamsBoundOnIdenticalDevices() throws {
  // Graham (1969): LPT's makespan is at most (4/3 - 1/(3m)) times the optimum on m
  // identical machines. The optimum comes from brute force over all 4^6 placements.
  let g = try lanesOfWidths([1, 7, 3, 8, 2, 5])
  let p = LaneProblem(graph: g, analysis: LaneDetection.analyze(g), times: TimeModel(machine: identicalGPUs(4)))
  for l in p.sets[0] { #expect(Set(p.cost[l]).count == 1, "lane \(l) costs differ by device: \(p.cost[l])") }
  #expect(p.setup[0] == [0, 0, 0, 0])
  let best = bruteForceOptimum(p)
  let greedy = try greedyMakespan(p)
  #expect(greedy <= (4.0 / 3 - 1.0 / 12) * best * (1 + 1e-12), "greedy \(greedy), optimum \(best)")
  // The optimum is at least the largest lane and at least the average load.
  let costs = p.sets[0].map { p.cost[$0][0] }
  #expect(best >= max(costs.max()!, costs.reduce(0, +) / 4) * (1 - 1e-12))
}

@Test func greedyIsOptimalWithADeviceForEveryLane() throws {
  // No more lanes than identical devices: greedy gives each lane a device of its own, and
  // the makespan is the largest lane, which no placement can beat.
  let g = try lanesOfWidths([1, 7, 3])
  let p = LaneProblem(graph: g, analysis: LaneDetection.analyze(g), times: TimeModel(machine: identicalGPUs(4)))
  var used = p.baseMemory()
  var balancer = GreedyBalancer()
  let placement = try balancer.place(0, in: p, used: &used)
  #expect(Set(placement).count == 3, "\(placement)")
  let largest = p.sets[0].map { p.cost[$0][0] }.max()!
  #expect(p.makespan(placement, set: 0) == largest)
  #expect(bruteForceOptimum(p) == largest)
}

@Test func aLaneThatFitsNowhereIsNamed() throws {
  let tiny = try Machine.decode(Data("""
    {"devices": [{"name": "a", "type": "gpu", "gflops": 1000, "bandwidth_gbs": 100, "memory_gb": 0.02},
                 {"name": "b", "type": "gpu", "gflops": 1000, "bandwidth_gbs": 100, "memory_gb": 0.02}]}
    """.utf8), file: "tiny.json")
  let g = try graphFile("mlcn_hetero.mlcn", batch: 64)
  #expect { _ = try makespan(g, tiny, .lanes) } throws: { e in
    let m = (e as? PlanError)?.message ?? ""
    return m.contains("lane 'wide'") && m.contains("MiB") && m.contains("that is more than any device has")
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

/// Four identical one-unit CPU devices running four independent lanes: with a core each
/// the lanes overlap fully; sharing two cores, the four take about twice as long (each
/// runs at half speed while all are busy); sharing one, about four times.
@Test func devicesSharingCoresSlowEachOtherDown() throws {
  let g = try graphFile("mlcn4.mlcn", batch: 8)
  func file(cores: Int?) -> String {
    let devices = (0..<4).map { #"{"name": "c\#($0)", "type": "cpu", "gflops": 80, "bandwidth_gbs": 30, "memory_gb": 4}"# }
    let shared = cores.map { #", "shared_cores": [{"devices": ["c0", "c1", "c2", "c3"], "cores": \#($0)}]"# } ?? ""
    return #"{"devices": [\#(devices.joined(separator: ", "))], "default_link": {"bandwidth_gbs": 1000, "latency_us": 0}\#(shared)}"#
  }
  let lanes = LaneDetection.analyze(g).lanes
  var placement = Array(repeating: 0, count: g.nodes.count)
  for (l, lane) in lanes.enumerated() { for v in lane { placement[v.index] = l } }
  func makespan(_ cores: Int?) throws -> Double {
    let times = TimeModel(machine: try Machine.decode(Data(file(cores: cores).utf8), file: "m.json"))
    return Simulator.run(g, placement: placement, times: times).makespan
  }
  let own = try makespan(nil), four = try makespan(4), two = try makespan(2), one = try makespan(1)
  #expect(four == own)
  #expect(two > 1.8 * own && two < 2.1 * own)
  #expect(one > 3.6 * own && one < 4.1 * own)
  #expect(throws: MachineError.self) {
    _ = try Machine.decode(Data(#"{"devices": [{"name": "a", "type": "cpu", "gflops": 1, "bandwidth_gbs": 1, "memory_gb": 1}], "shared_cores": [{"devices": ["b"], "cores": 1}]}"#.utf8), file: "m.json")
  }
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

@Test func lanesThatRunAtTheSameTimeAreBalancedTogether() throws {
  // Two lane groups from two inputs, joined by one concat: four lanes for four GPUs.
  var text = "network t\ninput x: [N, 1, 28, 28]\ninput z: [N, 1, 28, 28]\n"
  for (name, input) in [("L", "x"), ("M", "z")] {
    text += "lanes \(name)[2] {\n h = conv2d(\(input), filters=64, kernel=9, act=relu)\n p = primary_caps(h, caps=32, dim=8, kernel=6, stride=2)\n c = capsule(p, caps=10, dim=4)\n yield c\n}\n"
  }
  text += "v = concat(L, M, axis=-1)\ny = length(v)\noutput y\n"
  let g = try graph(text, batch: 32)
  let times = TimeModel(machine: try machine("four_gpus.json"))
  for s in [Strategy.lanes, .lanesExact] {
    let plan = try Planner.plan(g, PlanRequest(strategy: s, times: times))
    #expect(Set(plan.laneDevices ?? []).count == 4, "\(s): \(plan.laneDevices ?? [])")
  }
}

@Test func tightMemoryStillFindsTheFeasiblePlacement() throws {
  // Greedy's cost order would put the small-but-slow lane A on the fast device and leave
  // no room for B; the memory-ordered retry (and exact) find A on slow, B on fast.
  let g = try graph("""
    network t
    input x: [N, 1024]
    lane A {
      r = reshape(x, shape=[128, 8])
      c = capsule(r, caps=10, dim=8, routing=200)
      f = flatten(c)
      yield f
    }
    lane B {
      d = dense(x, units=4096)
      yield d
    }
    v = concat(A, B, axis=-1)
    output v
    """)
  let m = try Machine.decode(Data("""
    {"devices": [{"name": "fast", "type": "gpu", "gflops": 10000, "bandwidth_gbs": 900, "memory_gb": 0.01574},
                 {"name": "slow", "type": "gpu", "gflops": 2000, "bandwidth_gbs": 300, "memory_gb": 0.005}]}
    """.utf8), file: "m.json")
  for s in [Strategy.lanes, .lanesExact, .lanesRandom] {
    let plan = try Planner.plan(g, PlanRequest(strategy: s, times: TimeModel(machine: m)))
    #expect(plan.laneDevices == ["slow", "fast"], "\(s)")
  }
}

@Test func inputViewsAreNotTransferred() throws {
  // Lane A reads a reshape of the input: the host writes the input to every device, so
  // the simulator must not charge a device-to-device copy for the view.
  let g = try graph("network t\ninput x: [N, 64]\nlane A {\n r = reshape(x, shape=[8, 8])\n s = squash(r)\n yield s\n}\nlane B {\n d = dense(x, units=64)\n e = reshape(d, shape=[8, 8])\n yield e\n}\nv = concat(A, B, axis=1)\noutput v\n", batch: 4)
  let times = TimeModel(machine: try machine("two_gpus.json"))
  let lanes = LaneDetection.analyze(g).lanes
  var placement = Array(repeating: 0, count: g.nodes.count)
  for v in lanes[0] { placement[v.index] = 1 }
  let schedule = Simulator.run(g, placement: placement, times: times)
  #expect(schedule.transfers.map { g[$0.value].name } == ["A.s"])
}

@Test func hugeNumbersInMachineFilesAreRejected() {
  for field in [#""memory_gb": 1e12"#, #""memory_gb": 1, "compute_units": 1e30"#] {
    let json = #"{"devices": [{"name": "g", "type": "gpu", "gflops": 1, "bandwidth_gbs": 1, "# + field + "}]}"
    #expect { _ = try Machine.decode(Data(json.utf8), file: "m.json") } throws: { ($0 as? MachineError)?.message.contains("below 1e9") == true }
  }
}
