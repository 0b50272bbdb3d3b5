// Finds lanes: data-independent paths between a fork (a value read by several branches)
// and the join that post-dominates it. Lane blocks in the source are only hints; this
// analysis reads the graph's edges alone, so a network written without lane blocks gets
// the same lanes.
//
// Algorithm:
//  1. Compute immediate post-dominators (PostDominators).
//  2. For each fork f (a value with two or more distinct readers), its join j = ipdom(f)
//     (the virtual sink when the branches only end at separate outputs).
//  3. The region of f: nodes reachable from f that j does not reach, f and j excluded.
//  4. Split the region into connected components (an edge between two branches merges
//     them). Two or more components are the lanes of f; each is one lane.
//  5. A group nested inside a lane of another group is kept under it; groups not inside
//     any other group's lane are the top level, which the planner balances.

import MLCNGraph

public struct LaneGroup: Hashable, Sendable {
  public var fork: ValueID
  /// nil when the branches end at different outputs.
  public var join: ValueID?
  /// The lanes, each a list of nodes in graph order; lanes ordered by their first node.
  public var lanes: [[ValueID]]
  /// Groups found inside the lanes (lanes within lanes).
  public var nested: [LaneGroup]
}

public struct LaneAnalysis: Hashable, Sendable {
  public var groups: [LaneGroup]

  /// The top-level lanes of every top-level group, in order.
  public var lanes: [[ValueID]] { groups.flatMap(\.lanes) }

  /// Lanes as op names (lane prefix included), as plan JSON lists them.
  public func names(in g: Graph) -> [[String]] { lanes.map { $0.map { g[$0].name } } }

  /// How deep lanes nest (1: lanes without lanes inside).
  public var nestingDepth: Int {
    func depth(_ gs: [LaneGroup]) -> Int { gs.map { 1 + depth($0.nested) }.max() ?? 0 }
    return depth(groups)
  }
}

public enum LaneDetection {
  public static func analyze(_ g: Graph) -> LaneAnalysis {
    let pd = PostDominators(g)
    let n = g.nodes.count
    var found: [LaneGroup] = []
    var regions: [Set<Int>] = []
    for f in 0..<n {
      let readers = pd.successors[f].filter { $0 != pd.sink }
      guard readers.count >= 2 else { continue }
      let j = pd.ipdom[f]
      // 3. Region: forward from f, stopping at j.
      let afterJoin = j == pd.sink ? Set<Int>() : reachable(from: j, pd)
      var region = reachable(from: f, pd).subtracting(afterJoin)
      region.remove(f)
      region.remove(pd.sink)
      // 4. Connected components inside the region.
      let components = connectedComponents(region, g)
      guard components.count >= 2 else { continue }
      found.append(LaneGroup(fork: ValueID(f), join: j == pd.sink ? nil : ValueID(j),
                             lanes: components.map { $0.map(ValueID.init) }, nested: []))
      regions.append(region)
    }
    // 5. Nest each group into the smallest lane of another group that contains its region.
    func containingLane(_ i: Int) -> (Int, Int)? {
      var best: (Int, Int, Int)?
      for (k, other) in found.enumerated() where k != i {
        for (li, lane) in other.lanes.enumerated() {
          let set = Set(lane.map(\.index))
          if regions[i].isSubset(of: set) {
            if best == nil || set.count < best!.2 { best = (k, li, set.count) }
          }
        }
      }
      return best.map { ($0.0, $0.1) }
    }
    let parents = found.indices.map(containingLane)
    func build(_ i: Int) -> LaneGroup {
      var group = found[i]
      group.nested = found.indices.filter { parents[$0]?.0 == i }.map(build)
      return group
    }
    return LaneAnalysis(groups: found.indices.filter { parents[$0] == nil }.map(build))
  }

  static func reachable(from start: Int, _ pd: PostDominators) -> Set<Int> {
    var seen: Set<Int> = [start]
    var stack = [start]
    while let v = stack.popLast() {
      for s in pd.successors[v] where seen.insert(s).inserted { stack.append(s) }
    }
    return seen
  }

  /// Components of the region under edges between region nodes, each sorted.
  static func connectedComponents(_ region: Set<Int>, _ g: Graph) -> [[Int]] {
    var parent = Dictionary(uniqueKeysWithValues: region.map { ($0, $0) })
    func find(_ v: Int) -> Int {
      var v = v
      while parent[v]! != v { parent[v] = parent[parent[v]!]!; v = parent[v]! }
      return v
    }
    for v in region {
      for i in g.nodes[v].inputs where region.contains(i.index) {
        let a = find(v), b = find(i.index)
        if a != b { parent[a] = b }
      }
    }
    var groups: [Int: [Int]] = [:]
    for v in region { groups[find(v), default: []].append(v) }
    return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
  }
}
