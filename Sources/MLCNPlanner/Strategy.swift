// The placement strategies of `--strategy` and the planner's entry point. Each strategy
// turns a graph and a machine into a device per node; every plan is then scored by the
// makespan simulator, so all strategies are compared on the same footing.

import MLCNBase
import MLCNGraph

public enum Strategy: String, CaseIterable, Sendable, Codable {
  case single
  case dataParallel = "data-parallel"
  case lanes
  case lanesRandom = "lanes-random"
  case lanesExact = "lanes-exact"
  case layerwise
  case modelParallel = "model-parallel"
  case lanesLayerwise = "lanes-layerwise"
  case auto

  public var summary: String {
    switch self {
    case .single: "every op on the fastest device"
    case .dataParallel: "the batch split over the devices in proportion to their speed, parameters replicated"
    case .lanes: "lanes balanced greedily (largest first onto the device that finishes it earliest)"
    case .lanesRandom: "lanes placed at random (seeded; the MLCN paper's baseline)"
    case .lanesExact: "lanes placed optimally by branch and bound (groups of up to 16 lanes)"
    case .layerwise: "each layer split its own way (batch, channels, height or width over a set of devices), searched by node and edge elimination (OptCNN)"
    case .modelParallel: "layer-wise without splitting the batch: ops whole or split by channels, height or width (the heterogeneous CPU/GPU paper's kind)"
    case .lanesLayerwise: "lanes balanced greedily, the layers outside them split layer-wise"
    case .auto: "the strategy with the best predicted time"
    }
  }
}

public struct PlanRequest: Sendable {
  public var strategy: Strategy
  public var times: TimeModel
  public var seed: UInt64
  /// What each node of the graph holds on its device when that is more than its own
  /// results and scratch: for a training step, its share of the training graph (saved
  /// activations, gradients, optimizer state). The lane balancer caps memory with it.
  public var nodeBytes: [Int]?
  /// Plans a training step: the layer-wise searches charge the gradient synchronisation
  /// of parameters a split replicates (a ring all-reduce per step).
  public var training = false
  var gradientSync: any GradientSync { training ? RingAllReduce() : NoGradientSync() }
  public init(strategy: Strategy, times: TimeModel, seed: UInt64 = 0) {
    self.strategy = strategy
    self.times = times
    self.seed = seed
  }
}

public enum Planner {
  /// Places every op of `graph` on the machine's devices by the request's strategy.
  public static func plan(_ graph: Graph, _ request: PlanRequest) throws(PlanError) -> Plan {
    let machine = request.times.machine
    guard !machine.devices.isEmpty else { throw PlanError("no devices to plan for") }
    let analysis = LaneDetection.analyze(graph)
    switch request.strategy {
    case .single:
      let main = machine.mainDevice
      try MemoryValidator.check(graph, placement: Array(repeating: main, count: graph.nodes.count), times: request.times)
      return placed(graph, request, .single, Array(repeating: main, count: graph.nodes.count), analysis)
    case .dataParallel:
      return try DataParallel.plan(graph, request, analysis)
    case .lanes, .lanesRandom, .lanesExact:
      let problem = LaneProblem(graph: graph, analysis: analysis, times: request.times, nodeBytes: request.nodeBytes)
      let placement: [Int]
      switch request.strategy {
      case .lanesRandom:
        var b = RandomBalancer(rng: SplitMix64(seed: request.seed))
        placement = try problem.solve(&b)
      case .lanesExact:
        var b = ExactBalancer()
        placement = try problem.solve(&b)
      default:
        var b = GreedyBalancer()
        placement = try problem.solve(&b)
      }
      try MemoryValidator.check(graph, placement: placement, times: request.times)
      return placed(graph, request, request.strategy, placement, analysis)
    case .layerwise:
      return try Layerwise.plan(graph, request, analysis, sync: request.gradientSync)
    case .modelParallel:
      return try Layerwise.plan(graph, request, analysis, strategy: .modelParallel, axes: { $0 != 0 }, sync: request.gradientSync)
    case .lanesLayerwise:
      // The lanes plan's devices for the nodes inside lanes; the others searched.
      let problem = LaneProblem(graph: graph, analysis: analysis, times: request.times, nodeBytes: request.nodeBytes)
      var b = GreedyBalancer()
      let placement = try problem.solve(&b)
      var fixed: [Int: Int] = [:]
      for lane in analysis.lanes { for id in lane where !graph[id].op.isHostProvided { fixed[id.index] = placement[id.index] } }
      return try Layerwise.plan(graph, request, analysis, strategy: .lanesLayerwise, fixed: fixed, sync: request.gradientSync)
    case .auto:
      var candidates: [Plan] = []
      var firstError: PlanError?
      let several = machine.devices.count > 1, lanes = !analysis.lanes.isEmpty
      let choices: [Strategy] = [.single] + (several ? [.dataParallel] : []) + (several && lanes ? [.lanes] : [])
        + (several ? [.layerwise] : []) + (several && lanes ? [.lanesLayerwise] : [])
      for s in choices {
        var r = request
        r.strategy = s
        do { candidates.append(try plan(graph, r)) } catch { firstError = firstError ?? error }
      }
      // Ties go to the simpler plan (listed first).
      guard let best = candidates.min(by: { $0.predictedSeconds < $1.predictedSeconds * (1 - 1e-9) }) else {
        throw firstError ?? PlanError("no strategy could place this graph")
      }
      return best
    }
  }

  /// Checks a plan made elsewhere (read from JSON) against a graph and machine: every op
  /// placed on a device the machine has, and each device's memory enough.
  public static func validate(_ plan: Plan, for g: Graph, times: TimeModel) throws(PlanError) {
    let machine = times.machine
    let names = machine.devices.map(\.name)
    for d in plan.devices where !names.contains(d) {
      throw PlanError("the plan uses device '\(d)', which is not among the devices (\(names.joined(separator: ", ")))")
    }
    if plan.isLayerwise(for: g) {
      let configurations = try plan.configurations(for: g, devices: names)
      let split = try SplitGraph.build(g, configurations: configurations)
      try MemoryValidator.check(split.graph, placement: split.placement, times: times)
      return
    }
    if try plan.batchSplit(for: g) != nil { return }
    let placement = try plan.placement(for: g).map { names.firstIndex(of: plan.devices[$0])! }
    try MemoryValidator.check(g, placement: placement, times: times)
  }

  /// The plan of a placement, scored by the simulator.
  static func placed(_ g: Graph, _ request: PlanRequest, _ strategy: Strategy, _ placement: [Int],
                     _ analysis: LaneAnalysis) -> Plan {
    let times = request.times
    let schedule = Simulator.run(g, placement: placement, times: times)
    var ops: [Plan.Op] = []
    for id in g.ids where !g[id].op.isHostProvided {
      let d = schedule.home[id.index]
      ops.append(Plan.Op(name: g[id].name, device: times.machine.devices[d].name,
                         predictedSeconds: schedule.finish[id.index] - schedule.start[id.index]))
    }
    var plan = Plan(strategy: strategy.rawValue, devices: times.machine.devices.map(\.name),
                    predictedSeconds: schedule.makespan, batch: g.batch, ops: ops, lanes: analysis.names(in: g))
    let memory = MemoryModel.bytesPerDevice(g, placement: placement, devices: times.machine.devices, kernels: times.kernels)
    plan.memoryBytes = Dictionary(uniqueKeysWithValues: zip(times.machine.devices.map(\.name), memory).filter { $0.1 > 0 })
    if strategy != .single {
      plan.laneDevices = analysis.lanes.map { times.machine.devices[placement[$0[0].index]].name }
    }
    return plan
  }
}
