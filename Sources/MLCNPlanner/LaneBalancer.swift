// Places the top-level lanes of a graph on devices; everything outside lanes runs on the
// machine's main (fastest) device. Three balancers, all under the devices' memory:
//  - greedy: largest lane first, onto the device where it would finish earliest;
//  - random: each lane on a device drawn at random (seeded): the MLCN paper's baseline;
//  - exact: branch and bound over all assignments, to grade the heuristics.
// A lane's cost on a device counts its ops and, off the main device, moving its results
// back; a device's first lane of a group also pays for moving the values the group's lanes
// share (graph inputs excepted: the host writes those to every device). Groups of lanes
// (fork..join) are balanced one after another.

import Foundation
import MLCNGraph

struct LaneBalancer {
  let graph: Graph
  let analysis: LaneAnalysis
  let times: TimeModel
  let main: Int
  /// cost[l][d]: seconds of lane l on device d, transfers included.
  let cost: [[Double]]
  let memory: [Int]
  /// Lanes of each group, by index into `analysis.lanes`.
  let groups: [[Int]]
  /// setup[g][d]: moving the values group g's lanes read from outside onto device d.
  let setup: [[Double]]

  static let exactLimit = 16

  init(graph: Graph, analysis: LaneAnalysis, times: TimeModel) {
    self.graph = graph
    self.analysis = analysis
    self.times = times
    let machine = times.machine
    let main = machine.mainDevice
    self.main = main
    var groups: [[Int]] = []
    var next = 0
    for g in analysis.groups {
      groups.append(Array(next..<next + g.lanes.count))
      next += g.lanes.count
    }
    self.groups = groups
    let users = graph.users()
    var cost: [[Double]] = []
    var memory: [Int] = []
    var shared: [[ValueID]] = Array(repeating: [], count: groups.count)
    for (gi, group) in groups.enumerated() {
      for l in group {
        let lane = analysis.lanes[l]
        let members = Set(lane.map(\.index))
        // Values the lane reads from outside (graph inputs are written to every device by
        // the host), and its values read outside.
        let reads = Set(lane.flatMap { graph[$0].inputs }.filter { !members.contains($0.index) && graph[$0].op != .input })
        shared[gi] = Array(Set(shared[gi]).union(reads)).sorted()
        let outBytes = lane.filter { v in users[v.index].contains { !members.contains($0.index) } || graph.outputs.contains { $0.value == v } }
          .map { graph.type(of: $0).bytes }
        cost.append(machine.devices.indices.map { d in
          let compute = lane.reduce(0.0) { $0 + times.seconds($1, in: graph, device: d) }
          return compute + outBytes.reduce(0.0) { $0 + machine.transferSeconds($1, from: d, to: main) }
        })
        memory.append(lane.reduce(0) { $0 + CostModel.memoryBytes(of: $1, in: graph) })
      }
    }
    // A device that runs any lane of a group first receives the values its lanes share.
    setup = shared.map { values in
      machine.devices.indices.map { d in values.reduce(0.0) { $0 + machine.transferSeconds(graph.type(of: $1).bytes, from: main, to: d) } }
    }
    self.cost = cost
    self.memory = memory
  }

  /// A device per node.
  func placement(_ strategy: Strategy, seed: UInt64) throws(PlanError) -> [Int] {
    var assignment = Array(repeating: main, count: analysis.lanes.count)
    var used = baseMemory()
    var rng = SplitMix64(seed: seed)
    for group in groups {
      let chosen: [Int]
      switch strategy {
      case .lanesRandom: chosen = try random(group, &used, &rng)
      case .lanesExact: chosen = try exact(group, &used)
      default: chosen = try greedy(group, &used)
      }
      for (l, d) in zip(group, chosen) { assignment[l] = d }
    }
    var placement = Array(repeating: main, count: graph.nodes.count)
    for (l, lane) in analysis.lanes.enumerated() { for v in lane { placement[v.index] = assignment[l] } }
    return placement
  }

  /// Memory of everything outside lanes, all on the main device.
  func baseMemory() -> [Int] {
    let inLanes = Set(analysis.lanes.flatMap { $0.map(\.index) })
    var used = Array(repeating: 0, count: times.machine.devices.count)
    for id in graph.ids where !inLanes.contains(id.index) { used[main] += CostModel.memoryBytes(of: id, in: graph) }
    return used
  }

  func fits(_ l: Int, _ d: Int, _ used: [Int]) -> Bool { used[d] + memory[l] <= times.machine.devices[d].memoryBytes }

  func noRoom(_ l: Int, _ used: [Int]) -> PlanError {
    let lane = analysis.lanes[l]
    let name = graph[lane[0]].lane ?? graph[lane[0]].name
    let free = times.machine.devices.indices.map { d in
      "\(times.machine.devices[d].name) \(mib(times.machine.devices[d].memoryBytes - used[d])) free"
    }
    return PlanError("lane '\(name)' (\(lane.count) ops from '\(graph[lane[0]].name)') needs \(mib(memory[l])) and fits no device (\(free.joined(separator: ", "))); use a smaller --batch or devices with more memory")
  }

  /// Greedy: largest lane first (by its cost on the main device), onto the device where it finishes first.
  func greedy(_ group: [Int], _ used: inout [Int]) throws(PlanError) -> [Int] {
    let gi = groupIndex(group)
    var load = Array(repeating: 0.0, count: times.machine.devices.count)
    var chosen = Array(repeating: main, count: group.count)
    let order = group.indices.sorted { cost[group[$0]][main] > cost[group[$1]][main] }
    // A device's finish time with lane l added (paying the setup on its first lane).
    func finish(_ l: Int, _ d: Int) -> Double { load[d] + cost[l][d] + (load[d] == 0 ? setup[gi][d] : 0) }
    for k in order {
      let l = group[k]
      var best: Int?
      for d in load.indices where fits(l, d, used) {
        if best == nil || finish(l, d) < finish(l, best!) - 1e-15 { best = d }
      }
      guard let d = best else { throw noRoom(l, used) }
      chosen[k] = d
      load[d] = finish(l, d)
      used[d] += memory[l]
    }
    return chosen
  }

  func groupIndex(_ group: [Int]) -> Int { groups.firstIndex(of: group)! }

  /// Random: each lane on a uniformly drawn device that has room for it.
  func random(_ group: [Int], _ used: inout [Int], _ rng: inout SplitMix64) throws(PlanError) -> [Int] {
    try group.map { l throws(PlanError) in
      let candidates = times.machine.devices.indices.filter { fits(l, $0, used) }
      guard !candidates.isEmpty else { throw noRoom(l, used) }
      let d = candidates[Int(rng.next() % UInt64(candidates.count))]
      used[d] += memory[l]
      return d
    }
  }

  /// Exact: depth-first over assignments, largest lanes first, starting from the greedy
  /// answer as the bound. Prunes with max(current load, average of the work left) and
  /// tries only one of several identical empty devices.
  func exact(_ group: [Int], _ used: inout [Int]) throws(PlanError) -> [Int] {
    guard group.count <= Self.exactLimit else {
      throw PlanError("lanes-exact enumerates placements and handles groups of up to \(Self.exactLimit) lanes; this graph has a group of \(group.count): use --strategy lanes")
    }
    var greedyUsed = used
    let start = try greedy(group, &greedyUsed)
    let devices = times.machine.devices.count
    let setup = self.setup[groupIndex(group)]
    func makespan(_ a: [Int]) -> Double {
      var load = Array(repeating: 0.0, count: devices)
      for (k, d) in a.enumerated() { load[d] += cost[group[k]][d] + (load[d] == 0 ? setup[d] : 0) }
      return load.max() ?? 0
    }
    var best = start, bestTime = makespan(start)
    let order = group.indices.sorted { cost[group[$0]][main] > cost[group[$1]][main] }
    let minCost = order.map { k in cost[group[k]].min() ?? 0 }
    var suffixMin = Array(repeating: 0.0, count: order.count + 1)
    for i in stride(from: order.count - 1, through: 0, by: -1) { suffixMin[i] = suffixMin[i + 1] + minCost[i] }
    // Devices that are interchangeable: same costs for every lane of the group and same memory.
    let signature = (0..<devices).map { d in group.map { cost[$0][d] } + [setup[d], Double(times.machine.devices[d].memoryBytes - used[d])] }
    var load = Array(repeating: 0.0, count: devices)
    var mem = used
    var current = Array(repeating: main, count: group.count)
    func search(_ i: Int) {
      if i == order.count {
        let t = load.max() ?? 0
        if t < bestTime - 1e-15 { bestTime = t; best = current }
        return
      }
      let lower = max(load.max() ?? 0, (load.reduce(0, +) + suffixMin[i]) / Double(devices))
      if lower >= bestTime - 1e-15 { return }
      let k = order[i], l = group[k]
      var triedEmpty: [[Double]] = []
      for d in 0..<devices where mem[d] + memory[l] <= times.machine.devices[d].memoryBytes {
        if load[d] == 0 {
          if triedEmpty.contains(signature[d]) { continue }
          triedEmpty.append(signature[d])
        }
        let add = cost[l][d] + (load[d] == 0 ? setup[d] : 0)
        if load[d] + add >= bestTime - 1e-15 { continue }
        load[d] += add; mem[d] += memory[l]; current[k] = d
        search(i + 1)
        load[d] -= add; mem[d] -= memory[l]
      }
    }
    search(0)
    for (k, d) in best.enumerated() { used[d] += memory[group[k]] }
    return best
  }
}

func mib(_ bytes: Int) -> String {
  bytes >= 1 << 30 ? String(format: "%.2f GiB", Double(bytes) / Double(1 << 30)) : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
}

/// A small seedable generator (SplitMix64), so random plans are the same on every platform.
public struct SplitMix64: Sendable {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
