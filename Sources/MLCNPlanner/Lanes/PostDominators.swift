// Immediate post-dominators of the graph's nodes, with a virtual sink after every value
// nobody reads (the outputs, unless ops read them too). Nodes are in topological order, so a node's
// post-dominators all come after it and one reverse sweep suffices (Cooper, Harvey and
// Kennedy's intersection on the post-dominator tree).

import MLCNGraph

public struct PostDominators: Sendable {
  /// The virtual sink's index: `graph.nodes.count`.
  public let sink: Int
  /// `ipdom[v]`: the immediate post-dominator of node v (the sink for the sink itself).
  public let ipdom: [Int]
  /// Distinct successors of each node (the sink included).
  public let successors: [[Int]]

  public init(_ g: Graph) {
    let n = g.nodes.count
    sink = n
    var succ = Array(repeating: [Int](), count: n + 1)
    for (v, users) in g.users().enumerated() {
      // Only values nobody reads flow to the sink: an output that ops also read is
      // post-dominated through those readers, so a lane's result that is also an output
      // does not hide the lane's join.
      var s = Array(Set(users.map(\.index))).sorted()
      if s.isEmpty { s.append(n) }
      succ[v] = s
    }
    successors = succ
    var dom = Array(repeating: -1, count: n + 1)
    dom[n] = n
    // 1. Visit nodes from last to first; every successor already has its ipdom.
    for v in stride(from: n - 1, through: 0, by: -1) {
      // 2. ipdom(v) is the nearest common post-dominator of all successors.
      var common = succ[v][0]
      for s in succ[v].dropFirst() {
        var a = common, b = s
        while a != b { if a < b { a = dom[a] } else { b = dom[b] } }
        common = a
      }
      dom[v] = common
    }
    ipdom = dom
  }

  /// The nearest common post-dominator of `nodes` (the sink when they share none).
  public func common(_ nodes: [Int]) -> Int {
    guard var c = nodes.first else { return sink }
    for v in nodes.dropFirst() {
      var a = c, b = v
      while a != b { if a < b { a = ipdom[a] } else { b = ipdom[b] } }
      c = a
    }
    return c
  }

  /// Whether `a` post-dominates `b` (every path from b to the sink passes a).
  public func postDominates(_ a: Int, _ b: Int) -> Bool {
    var v = b
    while v != sink { if v == a { return true }; v = ipdom[v] }
    return a == sink
  }
}
