// OptCNN's search for the cheapest configuration of every node under an additive cost:
// the sum of each node's cost in its configuration and each edge's cost for the
// configurations at its two ends.
//
// Algorithm:
//  1. Edge elimination: edges between the same two nodes are one edge (their tables added).
//  2. Node elimination: a node with two neighbours u, v is replaced by an edge u-v whose
//     table is min over the node's configurations of (edge u + node + edge v); a node with
//     one neighbour is folded into it the same way; a node with none takes its cheapest
//     configuration. Each records its best configuration for every choice of its
//     neighbours. This is exact, and on series-parallel graphs it removes every node.
//  3. Where every node left has three or more neighbours, the one with the most is fixed
//     in each of its configurations in turn (its tables become node costs of its
//     neighbours, so it can be eliminated) and the search goes on below each: exact, as
//     long as the number of branches stays within a budget; past it, the configuration
//     with the cheapest immediate cost is taken, and the result is not guaranteed optimal.
//  4. Undoing the eliminations in reverse gives every node its configuration; then a local
//     search changes one node at a time while that lowers the total (it can only help
//     where 3 guessed).

public struct EliminationProblem: Sendable {
  public struct Edge: Sendable {
    public var from: Int
    public var to: Int
    /// cost[cFrom * count(to) + cTo]
    public var cost: [Double]
    public init(from: Int, to: Int, cost: [Double]) { self.from = from; self.to = to; self.cost = cost }
  }
  /// Per node, the cost of each of its configurations.
  public var nodeCosts: [[Double]]
  public var edges: [Edge]
  public init(nodeCosts: [[Double]], edges: [Edge]) { self.nodeCosts = nodeCosts; self.edges = edges }

  /// The total cost of one configuration per node.
  public func cost(_ choice: [Int]) -> Double {
    var total = 0.0
    for (i, c) in choice.enumerated() { total += nodeCosts[i][c] }
    for e in edges { total += e.cost[choice[e.from] * nodeCosts[e.to].count + choice[e.to]] }
    return total
  }
}

public struct EliminationResult: Sendable {
  public var choice: [Int]
  public var cost: Double
  /// True when the elimination (and any branching) was exhaustive: `choice` is optimal.
  public var exact: Bool
}

public enum Elimination {
  /// Branches of step 3 explored before it turns greedy.
  public static let branchBudget = 4096

  public static func solve(_ p: EliminationProblem) -> EliminationResult {
    var state = State(p)
    var budget = branchBudget
    let (choice, exact) = state.solve(p, &budget)
    let improved = localSearch(p, choice)
    return EliminationResult(choice: improved, cost: p.cost(improved), exact: exact)
  }

  /// Step 4's local search: one node at a time to its best configuration given the others.
  static func localSearch(_ p: EliminationProblem, _ start: [Int]) -> [Int] {
    var choice = start
    var incident = Array(repeating: [Int](), count: p.nodeCosts.count)
    for (k, e) in p.edges.enumerated() { incident[e.from].append(k); incident[e.to].append(k) }
    func local(_ i: Int, _ c: Int) -> Double {
      var t = p.nodeCosts[i][c]
      for k in incident[i] {
        let e = p.edges[k]
        let a = e.from == i ? c : choice[e.from], b = e.to == i ? c : choice[e.to]
        t += e.cost[a * p.nodeCosts[e.to].count + b]
      }
      return t
    }
    var improved = true, rounds = 0
    while improved && rounds < 50 {
      improved = false
      rounds += 1
      for i in choice.indices {
        var best = choice[i], bestCost = local(i, choice[i])
        for c in p.nodeCosts[i].indices {
          let t = local(i, c)
          if t < bestCost - 1e-12 * max(1, abs(bestCost)) { best = c; bestCost = t }
        }
        if best != choice[i] { choice[i] = best; improved = true }
      }
    }
    return choice
  }

  /// The working graph: node tables, edge tables keyed by their two ends (lower first).
  struct State {
    enum Step {
      case alone(Int, Int)
      case leaf(node: Int, neighbour: Int, best: [Int])
      case series(node: Int, u: Int, v: Int, best: [Int])
    }
    struct Pair: Hashable {
      var a: Int
      var b: Int
      init(_ x: Int, _ y: Int) { a = min(x, y); b = max(x, y) }
    }

    var node: [[Double]]
    var edge: [Pair: [Double]] = [:]
    var neighbours: [Set<Int>]
    var alive: Set<Int>
    var steps: [Step] = []

    init(_ p: EliminationProblem) {
      node = p.nodeCosts
      neighbours = Array(repeating: [], count: p.nodeCosts.count)
      alive = Set(p.nodeCosts.indices)
      for e in p.edges where e.from != e.to {
        // 1. Edge elimination: parallel edges add up.
        addEdge(e.from, e.to, e.cost)
      }
    }

    var count: [Int] { node.map(\.count) }

    /// Adds table t[cx * count(y) + cy] to the edge x-y.
    mutating func addEdge(_ x: Int, _ y: Int, _ t: [Double]) {
      let key = Pair(x, y)
      let oriented: [Double]
      if x == key.a { oriented = t } else {
        let cx = node[x].count, cy = node[y].count
        var u = Array(repeating: 0.0, count: t.count)
        for i in 0..<cx { for j in 0..<cy { u[j * cx + i] = t[i * cy + j] } }
        oriented = u
      }
      if let old = edge[key] { edge[key] = zip(old, oriented).map(+) } else { edge[key] = oriented }
      neighbours[x].insert(y)
      neighbours[y].insert(x)
    }

    /// The table of edge x-y oriented as [cx][cy].
    func table(_ x: Int, _ y: Int) -> [Double] {
      let key = Pair(x, y), t = edge[key]!
      if x == key.a { return t }
      let cx = node[x].count, cy = node[y].count
      var u = Array(repeating: 0.0, count: t.count)
      for j in 0..<cy { for i in 0..<cx { u[i * cy + j] = t[j * cx + i] } }
      return u
    }

    mutating func remove(_ w: Int) {
      for u in neighbours[w] { neighbours[u].remove(w); edge[Pair(u, w)] = nil }
      neighbours[w] = []
      alive.remove(w)
    }

    /// 2. Node elimination until none applies.
    mutating func eliminate() {
      // A worklist in a fixed order, so equal-cost ties resolve the same way every run.
      var queue = alive.filter { neighbours[$0].count <= 2 }.sorted(by: >)
      while let w = queue.popLast() {
        guard alive.contains(w), neighbours[w].count <= 2 else { continue }
        let ns = neighbours[w].sorted()
        let cw = node[w].count
        switch ns.count {
        case 0:
          let best = node[w].indices.min { node[w][$0] < node[w][$1] }!
          steps.append(.alone(w, best))
          remove(w)
        case 1:
          let v = ns[0], cv = node[v].count, t = table(w, v)
          var best = Array(repeating: 0, count: cv)
          for j in 0..<cv {
            var m = Double.infinity
            for i in 0..<cw where node[w][i] + t[i * cv + j] < m { m = node[w][i] + t[i * cv + j]; best[j] = i }
            node[v][j] += m
          }
          steps.append(.leaf(node: w, neighbour: v, best: best))
          remove(w)
          queue.append(v)
        default:
          let u = ns[0], v = ns[1], cu = node[u].count, cv = node[v].count
          let tu = table(u, w), tv = table(w, v)
          var m = Array(repeating: Double.infinity, count: cu * cv)
          var best = Array(repeating: 0, count: cu * cv)
          for a in 0..<cu {
            for i in 0..<cw {
              let head = tu[a * cw + i] + node[w][i]
              let row = i * cv
              for b in 0..<cv where head + tv[row + b] < m[a * cv + b] {
                m[a * cv + b] = head + tv[row + b]
                best[a * cv + b] = i
              }
            }
          }
          steps.append(.series(node: w, u: u, v: v, best: best))
          remove(w)
          addEdge(u, v, m)
          queue.append(u)
          queue.append(v)
        }
      }
    }

    /// Fixes node w in configuration c: its edges become its neighbours' node costs.
    mutating func fix(_ w: Int, _ c: Int) {
      for u in neighbours[w] {
        let t = table(u, w), cw = node[w].count
        for a in node[u].indices { node[u][a] += t[a * cw + c] }
      }
      var only = Array(repeating: Double.infinity, count: node[w].count)
      only[c] = node[w][c]
      node[w] = only
      remove(w)
      steps.append(.alone(w, c))
    }

    /// 2-4: every node's configuration, and whether it is guaranteed optimal.
    mutating func solve(_ p: EliminationProblem, _ budget: inout Int) -> ([Int], Bool) {
      eliminate()
      var exact = true
      if let w = alive.max(by: { (neighbours[$0].count, $1) < (neighbours[$1].count, $0) }) {
        // 3. Branch on the node with the most neighbours.
        let cw = node[w].count
        if budget >= cw {
          budget -= cw
          var best: ([Int], Bool, Double)?
          for c in 0..<cw {
            var branch = self
            branch.fix(w, c)
            let (choice, ok) = branch.solve(p, &budget)
            let cost = p.cost(choice)
            if best == nil || cost < best!.2 { best = (choice, ok, cost) }
            exact = exact && ok
          }
          return (best!.0, exact && best!.1)
        }
        // Past the budget: the configuration cheapest with its neighbours at their best.
        var score = node[w]
        for u in neighbours[w] {
          let t = table(u, w), cu = node[u].count
          for c in 0..<cw { score[c] += (0..<cu).map { node[u][$0] + t[$0 * cw + c] }.min()! }
        }
        fix(w, score.indices.min { score[$0] < score[$1] }!)
        let (choice, _) = solve(p, &budget)
        return (choice, false)
      }
      return (undo(), exact)
    }

    /// 4. The configurations, undoing the eliminations in reverse.
    func undo() -> [Int] {
      var choice = Array(repeating: -1, count: node.count)
      for s in steps.reversed() {
        switch s {
        case .alone(let w, let c): choice[w] = c
        case .leaf(let w, let v, let best): choice[w] = best[choice[v]]
        case .series(let w, let u, let v, let best): choice[w] = best[choice[u] * node[v].count + choice[v]]
        }
      }
      return choice
    }
  }
}
