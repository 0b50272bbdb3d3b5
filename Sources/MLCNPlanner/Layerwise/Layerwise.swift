// The layer-wise strategy (OptCNN): every node gets its own configuration, whole on a
// device or split along one axis of its result over a set of devices, chosen to minimise
// the additive cost of `LayerwiseCostModel` by node and edge elimination. The plan that
// comes out is then expanded (`SplitGraph`) and scored by the makespan simulator, like
// every other strategy's.
//
// Algorithm:
//  1. The search graph: every node that is not a graph input or parameter (views
//     included: they cost nothing but pass a sample split through); an edge for every
//     value one of them reads from another.
//  2. Configurations per node (`fixed` nodes keep theirs: the lanes plan's devices when
//     lanes are combined with split layers), their costs, and each edge's table.
//  3. `Elimination.solve`.
//  4. The configurations become a plan: the graph expanded, checked against device
//     memory, simulated; predicted seconds are the makespan.

import MLCNBase
import MLCNGraph

public enum Layerwise {
  public static func plan(_ g: Graph, _ request: PlanRequest, _ analysis: LaneAnalysis,
                          strategy: Strategy = .layerwise, fixed: [Int: Int] = [:],
                          axes: @escaping @Sendable (Int) -> Bool = { _ in true },
                          sync: any GradientSync = NoGradientSync()) throws(PlanError) -> Plan {
    var model = LayerwiseCostModel(graph: g, times: request.times, sync: sync)
    model.axes = axes
    let (configurations, _) = search(model, fixed: fixed)
    return try plan(g, configurations: configurations, request.times, strategy: strategy.rawValue, analysis)
  }

  /// 1-3: the best configuration of every node (host-provided ones get a placeholder), and
  /// whether the search proved it optimal under the additive cost.
  public static func search(_ model: LayerwiseCostModel, fixed: [Int: Int] = [:]) -> ([Configuration], Bool) {
    let (problem, nodes, configs) = problem(model, fixed: fixed)
    let result = Elimination.solve(problem)
    var out = Array(repeating: Configuration.whole(0), count: model.graph.nodes.count)
    for (k, id) in nodes.enumerated() { out[id.index] = configs[k][result.choice[k]] }
    return (out, result.exact)
  }

  /// 1-2: the elimination problem of a graph, with its nodes and their configurations.
  public static func problem(_ model: LayerwiseCostModel, fixed: [Int: Int] = [:])
    -> (EliminationProblem, [ValueID], [[Configuration]]) {
    let g = model.graph
    let nodes = g.ids.filter { !g[$0].op.isHostProvided }
    var index = Array(repeating: -1, count: g.nodes.count)
    for (k, id) in nodes.enumerated() { index[id.index] = k }
    let subsets = model.subsets()
    let configs = nodes.map { id in fixed[id.index].map { [Configuration.whole($0)] } ?? model.configurations(of: id, subsets: subsets) }
    let nodeCosts = zip(nodes, configs).map { id, cs in cs.map { model.seconds(id, $0) } }
    var edges: [EliminationProblem.Edge] = []
    for (k, w) in nodes.enumerated() {
      var seen = Set<ValueID>()
      for (j, v) in g.operands(of: w).enumerated() where !g[v].op.isHostProvided && seen.insert(v).inserted {
        let u = index[v.index], shape = g.type(of: v).shape
        let have = configs[u].map { model.layout(of: v, $0) }
        let need = configs[k].map { model.needs(w, operand: j, $0) }
        var table: [Double] = []
        table.reserveCapacity(have.count * need.count)
        for h in have { for n in need { table.append(model.transferSeconds(shape, have: h, need: n)) } }
        edges.append(EliminationProblem.Edge(from: u, to: k, cost: table))
      }
    }
    return (EliminationProblem(nodeCosts: nodeCosts, edges: edges), nodes, configs)
  }

  /// 4. The plan of one configuration per node.
  public static func plan(_ g: Graph, configurations: [Configuration], _ times: TimeModel, strategy: String,
                          _ analysis: LaneAnalysis) throws(PlanError) -> Plan {
    let machine = times.machine, names = machine.devices.map(\.name)
    let split = try SplitGraph.build(g, configurations: configurations)
    let calibrated = split.calibrated(times)
    try MemoryValidator.check(split.graph, placement: split.placement, times: calibrated)
    let schedule = Simulator.run(split.graph, placement: split.placement, times: calibrated)
    var seconds = Array(repeating: 0.0, count: g.nodes.count)
    for (i, o) in split.origin.enumerated() {
      if let o, !g[o].op.isHostProvided { seconds[o.index] = max(seconds[o.index], schedule.finish[i] - schedule.start[i]) }
    }
    var ops: [Plan.Op] = []
    for id in g.ids where !g[id].op.isHostProvided {
      let c = configurations[id.index]
      if let axis = c.axis {
        ops.append(Plan.Op(name: g[id].name, device: nil,
                           parts: zip(c.devices, c.ranges).map { Plan.Part(device: names[$0], axis: axis, range: [$1.lowerBound, $1.upperBound]) },
                           predictedSeconds: seconds[id.index]))
      } else {
        ops.append(Plan.Op(name: g[id].name, device: names[c.devices[0]], predictedSeconds: seconds[id.index]))
      }
    }
    var plan = Plan(strategy: strategy, devices: names, predictedSeconds: schedule.makespan, batch: g.batch, ops: ops,
                    lanes: analysis.names(in: g))
    let memory = MemoryModel.bytesPerDevice(split.graph, placement: split.placement, devices: machine.devices, kernels: times.kernels)
    plan.memoryBytes = Dictionary(uniqueKeysWithValues: zip(names, memory).filter { $0.1 > 0 })
    return plan
  }
}

extension SplitGraph {
  /// `times` with an estimate for every part that has no measured time of its own, from
  /// the layer-wise cost model (the whole op's measured time scaled to the part), so the
  /// simulator prices parts as the search did.
  public func calibrated(_ times: TimeModel) -> TimeModel {
    var t = times
    let model = LayerwiseCostModel(graph: original, times: times)
    for (i, o) in origin.enumerated() {
      let id = ValueID(i), node = graph[id]
      guard let o, node.op == original[o].op, !node.op.isHostProvided, !node.op.isView,
            let key = times.machine.devices[placement[i]].identity else { continue }
      let signature = MeasuredTimes.signature(id, in: graph)
      guard times.measured.devices[key]?[signature] == nil else { continue }
      t.measured.devices[key, default: [:]][signature] =
        model.opSeconds(o, inputs: graph.inputTypes(of: id), output: node.type, attributes: node.attributes, device: placement[i])
    }
    return t
  }
}
