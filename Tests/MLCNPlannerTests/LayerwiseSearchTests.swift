// The layer-wise search: node and edge elimination must find the same optimal cost as
// enumerating every combination of configurations, on random small networks with the
// real cost model and on random cost tables over graphs that are not series-parallel.

import Foundation
import MLCNBase
import MLCNCodegen
import Testing
import MLCNFrontend
import MLCNGraph
@testable import MLCNPlanner

/// Every combination of configurations, the cheapest total.
func bruteForce(_ p: EliminationProblem) -> Double {
  var choice = Array(repeating: 0, count: p.nodeCosts.count)
  var best = Double.infinity
  while true {
    best = min(best, p.cost(choice))
    var i = 0
    while i < choice.count {
      choice[i] += 1
      if choice[i] < p.nodeCosts[i].count { break }
      choice[i] = 0
      i += 1
    }
    if i == choice.count { return best }
  }
}

func machine(_ devices: Int, seed: UInt64) -> Machine {
  var rng = SplitMix64(seed: seed)
  // Unequal devices and links, so proportional splits and link choice matter.
  let ds = (0..<devices).map { d in
    DeviceDescriptor(name: "d\(d)", kind: d == 0 ? .gpu : .cpu, gflops: 50 + 400 * Double(rng.nextUnit()),
                     bandwidthGBs: 10 + 100 * Double(rng.nextUnit()), memoryBytes: 8 << 30)
  }
  return Machine(devices: ds, defaultLink: LinkModel(bandwidthGBs: 1 + 10 * Double(rng.nextUnit()), latencySeconds: 10e-6))
}

/// A random network of up to `layers` layers on an image input: convolutions, pooling,
/// activations, adds and concats of earlier same-shape values, and a dense head.
func randomNetwork(_ seed: UInt64, layers: Int) -> String {
  var rng = SplitMix64(seed: seed)
  func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
  var text = "network r\ninput x: [N, 3, 8, 8]\n"
  var values: [(name: String, channels: Int, size: Int)] = [("x", 3, 8)]
  for i in 0..<layers - 1 {
    let v = values[pick(values.count)]
    let name = "v\(i)"
    switch pick(5) {
    case 0, 1:
      let f = 2 + pick(6)
      text += "\(name) = conv2d(\(v.name), filters=\(f), kernel=3, padding=1)\n"
      values.append((name, f, v.size))
    case 2 where v.size >= 4:
      text += "\(name) = maxpool2d(\(v.name), kernel=2)\n"
      values.append((name, v.channels, v.size / 2))
    case 3:
      if let w = values.last(where: { $0.name != v.name && $0.channels == v.channels && $0.size == v.size }) {
        text += "\(name) = add(\(v.name), \(w.name))\n"
      } else if let w = values.last(where: { $0.name != v.name && $0.size == v.size }) {
        text += "\(name) = concat(\(v.name), \(w.name), axis=1)\n"
        values.append((name, v.channels + w.channels, v.size))
        continue
      } else {
        text += "\(name) = tanh(\(v.name))\n"
      }
      values.append((name, v.channels, v.size))
    default:
      text += "\(name) = relu(\(v.name))\n"
      values.append((name, v.channels, v.size))
    }
  }
  let last = values.last!
  text += "f = flatten(\(last.name))\ny = dense(f, units=4)\noutput y\n"
  return text
}

@Test func eliminationFindsTheBruteForceOptimumOnRandomNetworks() throws {
  var checked = 0, seed: UInt64 = 1
  while checked < 24 {
    seed += 1
    let devices = 2 + Int(seed % 2)
    let text = randomNetwork(seed, layers: 3 + Int(seed % 3))
    let g = try graph(text, batch: 4)
    let model = LayerwiseCostModel(graph: g, times: TimeModel(machine: machine(devices, seed: seed)))
    let (problem, nodes, _) = Layerwise.problem(model)
    // At most 6 layers, and few enough combinations to enumerate them all.
    let combinations = problem.nodeCosts.reduce(1.0) { $0 * Double($1.count) }
    guard nodes.count <= 8, combinations <= 3e5 else { continue }
    let result = Elimination.solve(problem)
    let best = bruteForce(problem)
    #expect(abs(result.cost - best) <= 1e-12 * max(1, best), "seed \(seed), \(devices) devices:\n\(text)search \(result.cost), brute force \(best)")
    #expect(result.exact)
    #expect(abs(problem.cost(result.choice) - result.cost) <= 1e-15 * max(1, best))
    checked += 1
  }
}

@Test func eliminationIsExactOnGraphsThatAreNotSeriesParallel() {
  // Random cost tables on random graphs with up to 6 nodes and dense edges (K4 minors
  // included), 2-5 configurations per node: branching keeps the search exact.
  var rng = SplitMix64(seed: 99)
  for trial in 0..<30 {
    let n = 3 + trial % 4
    let counts = (0..<n).map { _ in 2 + Int(rng.next() % 4) }
    let nodeCosts = counts.map { c in (0..<c).map { _ in Double(rng.nextUnit()) } }
    var edges: [EliminationProblem.Edge] = []
    for a in 0..<n { for b in (a + 1)..<n where rng.next() % 3 != 0 {
      edges.append(.init(from: a, to: b, cost: (0..<(counts[a] * counts[b])).map { _ in Double(rng.nextUnit()) }))
    } }
    // A parallel edge too: edge elimination must add it.
    if let e = edges.first { edges.append(.init(from: e.to, to: e.from, cost: (0..<e.cost.count).map { _ in Double(rng.nextUnit()) })) }
    let p = EliminationProblem(nodeCosts: nodeCosts, edges: edges)
    let r = Elimination.solve(p)
    let best = bruteForce(p)
    #expect(abs(r.cost - best) <= 1e-12, "trial \(trial): search \(r.cost), brute force \(best)")
    #expect(r.exact)
  }
}

@Test func layerwisePlanSplitsTheWideConvolutionsAndRoundTrips() throws {
  let text = "network c\ninput x: [N, 3, 32, 32]\nc1 = conv2d(x, filters=64, kernel=5, act=relu)\np1 = maxpool2d(c1, kernel=2)\nf = flatten(p1)\ny = dense(f, units=10)\noutput y\n"
  let g = try graph(text, batch: 16)
  let gpu = DeviceDescriptor(name: "g0", kind: .gpu, gflops: 1000, bandwidthGBs: 200, memoryBytes: 8 << 30)
  let m = Machine(devices: [gpu, DeviceDescriptor(name: "g1", kind: .gpu, gflops: 1000, bandwidthGBs: 200, memoryBytes: 8 << 30)],
                  defaultLink: LinkModel(bandwidthGBs: 10, latencySeconds: 10e-6))
  let times = TimeModel(machine: m)
  let plan = try Planner.plan(g, PlanRequest(strategy: .layerwise, times: times))
  let conv = try #require(plan.ops.first { $0.name == "c1" })
  #expect(conv.parts?.count == 2, "two equal devices: the big convolution is split")
  let single = try Planner.plan(g, PlanRequest(strategy: .single, times: times))
  #expect(plan.predictedSeconds < single.predictedSeconds)
  let back = try Plan.decode(Data(plan.json().utf8), file: "p.json")
  #expect(back == plan)
  try Planner.validate(back, for: g, times: times)
  let auto = try Planner.plan(g, PlanRequest(strategy: .auto, times: times))
  #expect(auto.predictedSeconds <= plan.predictedSeconds && auto.predictedSeconds < single.predictedSeconds)
}

@Test func aPlanThatDoesNotFitIsRejectedNamingTheOp() throws {
  let g = try graph("network t\ninput x: [N, 4, 6, 6]\na = conv2d(x, filters=6, kernel=3)\ny = softmax(a, axis=1)\noutput y\n", batch: 4)
  let m = Machine(devices: [cpu, DeviceDescriptor(name: "cpu1", kind: .cpu, gflops: 100, bandwidthGBs: 20, memoryBytes: 8 << 30)])
  let times = TimeModel(machine: m)
  func plan(_ a: [Plan.Part]?, _ y: [Plan.Part]?) -> Plan {
    Plan(strategy: "layerwise", devices: ["cpu0", "cpu1"], predictedSeconds: 0, batch: 4,
         ops: [Plan.Op(name: "a", device: a == nil ? "cpu0" : nil, parts: a), Plan.Op(name: "y", device: y == nil ? "cpu1" : nil, parts: y)],
         lanes: [])
  }
  func message(_ p: Plan) -> String {
    do { try Planner.validate(p, for: g, times: times); return "" } catch { return error.message }
  }
  #expect(message(plan([.init(device: "cpu0", axis: 1, range: [0, 2]), .init(device: "cpu1", axis: 1, range: [2, 6])], nil)) == "")
  #expect(message(plan(nil, [.init(device: "cpu0", axis: 1, range: [0, 3]), .init(device: "cpu1", axis: 1, range: [3, 6])]))
    .contains("op 'y' (softmax, result f32[4, 6, 4, 4]) cannot be split along axis 1"))
  #expect(message(plan([.init(device: "cpu0", axis: 0, range: [0, 2]), .init(device: "cpu1", axis: 0, range: [1, 4])], nil))
    .contains("op 'a': part ranges must cover axis 0 (size 4) in order without gaps or overlaps"))
  #expect(message(plan([.init(device: "cpu0", axis: 0, range: [0, 1]), .init(device: "cpu1", axis: 0, range: [1, 3])], nil))
    .contains("op 'a': the parts cover 0..<3 of axis 0, which has size 4 (the batch"))
  #expect(message(plan([.init(device: "cpu0", axis: 2, range: [0, 2]), .init(device: "gpu9", axis: 2, range: [2, 4])], nil))
    .contains("op 'a' is placed on unknown device 'gpu9'"))
}

@Test func gradientSynchronisationIsChargedOnlyWhenTraining() throws {
  let g = try graph("network t\ninput x: [N, 64]\ny = dense(x, units=256)\noutput y\n", batch: 32)
  let m = Machine(devices: [cpu, DeviceDescriptor(name: "cpu1", kind: .cpu, gflops: 100, bandwidthGBs: 20, memoryBytes: 8 << 30)],
                  defaultLink: LinkModel(bandwidthGBs: 1, latencySeconds: 0))
  let id = try #require(g.id(named: "y"))
  let samples = Configuration(axis: 0, devices: [0, 1], ranges: [0..<16, 16..<32])
  let units = Configuration(axis: 1, devices: [0, 1], ranges: [0..<128, 128..<256])
  let inference = LayerwiseCostModel(graph: g, times: TimeModel(machine: m))
  let training = LayerwiseCostModel(graph: g, times: TimeModel(machine: m), sync: RingAllReduce())
  // Sample split: weights replicated, so training pays an all-reduce of (64*256 + 256) floats.
  let bytes = (64 * 256 + 256) * 4
  #expect(abs(training.seconds(id, samples) - inference.seconds(id, samples) - Double(bytes) / 1e9) < 1e-12)
  // Split by units: each device holds its own rows of the weight, nothing to synchronise.
  #expect(training.seconds(id, units) == inference.seconds(id, units))
}

@Test func trainingPlansChargeTheGradientAllReduce() throws {
  // A dense layer with a large weight and a small batch, over a slow link: splitting the
  // samples replicates 4 MiB of weights, which a training step must all-reduce.
  let g = try graph("network t\ninput x: [N, 1024]\ny = dense(x, units=1024)\noutput y\n", batch: 8)
  let m = Machine(devices: [cpu, DeviceDescriptor(name: "cpu1", kind: .cpu, gflops: 100, bandwidthGBs: 20, memoryBytes: 8 << 30)],
                  defaultLink: LinkModel(bandwidthGBs: 1, latencySeconds: 0))
  var request = PlanRequest(strategy: .layerwise, times: TimeModel(machine: m))
  let inference = try Planner.plan(g, request)
  request.training = true
  let training = try Planner.plan(g, request)
  let op = { (p: Plan) in p.ops.first { $0.name == "y" }! }
  #expect(op(inference).parts?.first?.axis == 0)
  #expect(op(training).parts?.first?.axis != 0)
}
