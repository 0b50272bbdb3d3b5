// The lane placement problem the balancers solve: the top-level lanes of a graph, what
// each costs on each device and how much memory it holds. Everything outside lanes runs
// on the machine's main (fastest) device.
//
// A lane's cost on a device counts its ops and, off the main device, moving its results
// back; a device's first lane of a set also pays for moving the values the set's lanes
// share (graph inputs, and views of them, excepted: the host writes those to every
// device). Lane groups that can run at the same time (neither reaches the other) are
// balanced together as one set; sets that follow one another are balanced in turn.

import Foundation
import MLCNBase
import MLCNGraph

struct LaneProblem {
  let graph: Graph
  let analysis: LaneAnalysis
  let times: TimeModel
  let main: Int
  /// cost[l][d]: seconds of lane l on device d, transfers included.
  let cost: [[Double]]
  let memory: [Int]
  /// Lanes balanced together, by index into `analysis.lanes`.
  let sets: [[Int]]
  /// setup[s][d]: moving the values set s's lanes read from outside onto device d.
  let setup: [[Double]]
  /// What each node holds when more than its own results (a training step's share); nil: inference.
  let nodeBytes: [Int]?

  var devices: [DeviceDescriptor] { times.machine.devices }

  init(graph: Graph, analysis: LaneAnalysis, times: TimeModel, nodeBytes: [Int]? = nil) {
    self.graph = graph
    self.analysis = analysis
    self.times = times
    self.nodeBytes = nodeBytes
    let machine = times.machine
    let main = machine.mainDevice
    self.main = main
    let lanes = analysis.lanes
    let sets = Self.concurrentSets(graph, analysis)
    self.sets = sets
    let users = graph.users()
    var cost = Array(repeating: [Double](), count: lanes.count)
    var memory = Array(repeating: 0, count: lanes.count)
    var setup: [[Double]] = []
    for set in sets {
      var shared = Set<ValueID>()
      for l in set {
        let lane = lanes[l]
        let members = Set(lane.map(\.index))
        shared.formUnion(lane.flatMap { graph[$0].inputs }.filter {
          !members.contains($0.index) && !graph[graph.root($0)].op.isHostProvided
        })
        let outBytes = lane.filter { v in
          users[v.index].contains { !members.contains($0.index) } || graph.outputs.contains { $0.value == v }
        }.map { graph.type(of: $0).bytes }
        cost[l] = machine.devices.indices.map { d in
          lane.reduce(0.0) { $0 + times.seconds($1, in: graph, device: d) }
            + outBytes.reduce(0.0) { $0 + machine.transferSeconds($1, from: d, to: main) }
        }
        memory[l] = lane.reduce(0) { $0 + Self.bytes($1, graph, nodeBytes, machine.devices[main], times.kernels) }
      }
      setup.append(machine.devices.indices.map { d in
        shared.reduce(0.0) { $0 + machine.transferSeconds(graph.type(of: $1).bytes, from: main, to: d) }
      })
    }
    self.cost = cost
    self.memory = memory
    self.setup = setup
  }

  /// Groups whose lanes can run at the same time (no path between them), merged into sets.
  static func concurrentSets(_ g: Graph, _ analysis: LaneAnalysis) -> [[Int]] {
    var firstLane = 0
    var groupLanes: [[Int]] = []
    for group in analysis.groups {
      groupLanes.append(Array(firstLane..<firstLane + group.lanes.count))
      firstLane += group.lanes.count
    }
    let members = analysis.groups.map(\.members)
    let users = g.users()
    let reach: [Set<Int>] = members.map { start in
      var seen = start
      var stack = Array(start)
      while let v = stack.popLast() { for u in users[v] where seen.insert(u.index).inserted { stack.append(u.index) } }
      return seen
    }
    var parent = Array(members.indices)
    func find(_ i: Int) -> Int { parent[i] == i ? i : find(parent[i]) }
    for i in members.indices {
      for j in members.indices where i < j && reach[i].isDisjoint(with: members[j]) && reach[j].isDisjoint(with: members[i]) {
        parent[find(j)] = find(i)
      }
    }
    var sets: [Int: [Int]] = [:]
    for i in members.indices { sets[find(i), default: []] += groupLanes[i] }
    return sets.values.sorted { $0[0] < $1[0] }
  }

  private static func bytes(_ id: ValueID, _ g: Graph, _ nodeBytes: [Int]?, _ device: DeviceDescriptor,
                            _ kernels: any KernelReporter) -> Int {
    nodeBytes?[id.index] ?? MemoryModel.nodeBytes(id, in: g, on: device, kernels: kernels)
  }

  func fits(_ l: Int, _ d: Int, _ used: [Int]) -> Bool { used[d] + memory[l] <= devices[d].memoryBytes }

  /// Memory of everything outside lanes, all on the main device.
  func baseMemory() -> [Int] {
    let inLanes = Set(analysis.lanes.flatMap { $0.map(\.index) })
    var used = Array(repeating: 0, count: devices.count)
    for id in graph.ids where !inLanes.contains(id.index) {
      used[main] += Self.bytes(id, graph, nodeBytes, devices[main], times.kernels)
    }
    return used
  }

  /// A device's load after adding lane l of set s (its first lane pays the set's setup).
  func added(_ l: Int, to load: Double, on d: Int, set s: Int) -> Double {
    load + cost[l][d] + (load == 0 ? setup[s][d] : 0)
  }

  /// The lane-level makespan of an assignment of set s's lanes (in set order).
  func makespan(_ assignment: [Int], set s: Int) -> Double {
    var load = Array(repeating: 0.0, count: devices.count)
    for (k, d) in assignment.enumerated() { load[d] = added(sets[s][k], to: load[d], on: d, set: s) }
    return load.max() ?? 0
  }

  func noRoom(_ l: Int, _ used: [Int]) -> PlanError {
    let lane = analysis.lanes[l]
    let name = graph[lane[0]].lane ?? graph[lane[0]].name
    let free = devices.indices.map { d in "\(devices[d].name) \(ByteCount.format(devices[d].memoryBytes - used[d])) free" }
    let fitsEmpty = devices.contains { memory[l] <= $0.memoryBytes }
    let why = fitsEmpty ? "no device has that much left once the other lanes are placed" : "that is more than any device has"
    let ops = lane.filter { !graph[$0].op.isHostProvided }
    let needs = nodeBytes == nil ? "needs" : "needs, to train,"
    return PlanError("lane '\(name)' (\(ops.count) ops from '\(graph[ops.first ?? lane[0]].name)') \(needs) \(ByteCount.format(memory[l])): \(why) (\(free.joined(separator: ", "))); use a smaller --batch or devices with more memory")
  }

  /// A device per node from a device per lane.
  func placement(_ assignment: [Int]) -> [Int] {
    var placement = Array(repeating: main, count: graph.nodes.count)
    for (l, lane) in analysis.lanes.enumerated() { for v in lane { placement[v.index] = assignment[l] } }
    return placement
  }
}

/// The balancers, one per lane strategy; each places one set of lanes given the memory
/// already used, and returns a device per lane of the set.
protocol LaneBalancer {
  mutating func place(_ set: Int, in problem: LaneProblem, used: inout [Int]) throws(PlanError) -> [Int]
}

extension LaneProblem {
  /// Places every set in turn with `balancer`; returns a device per node.
  func solve(_ balancer: inout some LaneBalancer) throws(PlanError) -> [Int] {
    var assignment = Array(repeating: main, count: analysis.lanes.count)
    var used = baseMemory()
    for s in sets.indices {
      for (l, d) in zip(sets[s], try balancer.place(s, in: self, used: &used)) { assignment[l] = d }
    }
    return placement(assignment)
  }
}

