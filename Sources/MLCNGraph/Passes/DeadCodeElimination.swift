// dead-code: removes nodes whose values no output depends on. Graph inputs stay: they are
// the compiled network's interface even when unused.
//
// Algorithm:
//  1. Mark the outputs live.
//  2. Walk nodes from last to first; a live node marks its operands live.
//  3. Keep live nodes and inputs.

public struct DeadCodeElimination: Pass {
  public let name = "dead-code"
  public init() {}

  public func run(_ g: inout Graph) {
    var live = Array(repeating: false, count: g.nodes.count)
    for o in g.outputs { live[o.value.index] = true }
    for id in g.ids.reversed() where live[id.index] {
      for i in g[id].inputs { live[i.index] = true }
    }
    for id in g.inputs { live[id.index] = true }
    g.declaredLanes = g.declaredLanes.filter { lane in g.ids.contains { live[$0.index] && g[$0].lane == lane } }
    g = g.compacted(keeping: live)
  }
}
