// Finds lanes: data-independent paths between a fork (a value read by several branches)
// and the join that post-dominates it. Lane blocks in the source are only hints; this
// analysis reads the graph's edges alone, so a network written without lane blocks gets
// the same lanes.
//
// Algorithm:
//  1. Compute immediate post-dominators (PostDominators).
//  2. Forks: each value with two or more distinct readers; and, when the graph has two or
//     more inputs, the inputs together (branches may start at different inputs).
//  3. The join j: the nearest common post-dominator of the fork (the virtual sink when
//     the branches only end at separate outputs).
//  4. The region: nodes reachable from the fork that j does not reach, the fork, j and
//     graph inputs excluded. Its connected components are the branches (an edge between
//     two branches merges them).
//  5. Each branch also takes the values only it reads, computed outside the region (a
//     lane's ops on a value shared by all lanes, say), working backwards.
//  6. Two or more branches are the lanes of the fork. Groups with the same lanes are
//     one group. A group inside a lane of another is nested under it; the top level is
//     what the planner balances, larger groups first, overlapping ones left out.

import MLCNGraph

public struct LaneGroup: Hashable, Sendable {
  /// The forking value; nil when the lanes start at different graph inputs.
  public var fork: ValueID?
  /// nil when the branches end at different outputs.
  public var join: ValueID?
  /// The lanes, each a list of nodes in graph order; lanes ordered by their first node.
  public var lanes: [[ValueID]]
  /// Groups found inside the lanes (lanes within lanes).
  public var nested: [LaneGroup]

  var members: Set<Int> { Set(lanes.joined().map(\.index)) }
}

public struct LaneAnalysis: Hashable, Sendable {
  public var groups: [LaneGroup]

  /// The top-level lanes of every top-level group, in order.
  public var lanes: [[ValueID]] { groups.flatMap(\.lanes) }

  /// Lanes as op names (lane prefix included), as plan JSON lists them; parameters are
  /// not ops and are left out.
  public func names(in g: Graph) -> [[String]] { lanes.map { $0.filter { !g[$0].op.isHostProvided }.map { g[$0].name } } }

  /// How deep lanes nest (1: lanes without lanes inside).
  public var nestingDepth: Int {
    func depth(_ gs: [LaneGroup]) -> Int { gs.map { 1 + depth($0.nested) }.max() ?? 0 }
    return depth(groups)
  }
}

public enum LaneDetection {
  public static func analyze(_ g: Graph) -> LaneAnalysis {
    let pd = PostDominators(g)
    let inputs = Set(g.inputs.map(\.index))
    let outputs = Set(g.outputs.map(\.value.index))
    // 2. Forks.
    var forks: [[Int]] = g.ids.map(\.index).filter { f in pd.successors[f].filter { $0 != pd.sink }.count >= 2 }.map { [$0] }
    let readInputs = inputs.filter { pd.successors[$0] != [pd.sink] }.sorted()
    if readInputs.count >= 2 { forks.append(readInputs) }

    let users = g.users()
    var found: [LaneGroup] = []
    for fork in forks {
      // 3. Join.
      let j = fork.count == 1 ? pd.ipdom[fork[0]] : pd.common(fork)
      // 4. Region and branches.
      let afterJoin = j == pd.sink ? Set<Int>() : reachable(from: [j], pd)
      let region = reachable(from: fork, pd).subtracting(afterJoin).subtracting(fork).subtracting(inputs)
        .subtracting([pd.sink])
      var components = connectedComponents(region, g).map(Set.init)
      guard components.count >= 2 else { continue }
      // 5. Values read by one branch alone join it.
      var changed = true
      while changed {
        changed = false
        for v in stride(from: g.nodes.count - 1, through: 0, by: -1)
        where !inputs.contains(v) && !outputs.contains(v) && !fork.contains(v) && !afterJoin.contains(v)
          && !components.contains(where: { $0.contains(v) }) {
          let readers = Set(users[v].map(\.index))
          guard !readers.isEmpty, let c = components.firstIndex(where: { readers.isSubset(of: $0) }) else { continue }
          components[c].insert(v)
          changed = true
        }
      }
      let lanes = components.map { $0.sorted().map { ValueID($0) } }.sorted { $0[0] < $1[0] }
      // 6. One group per set of lanes.
      if found.contains(where: { $0.lanes == lanes }) { continue }
      found.append(LaneGroup(fork: fork.count == 1 ? ValueID(fork[0]) : nil, join: j == pd.sink ? nil : ValueID(j),
                             lanes: lanes, nested: []))
    }
    return LaneAnalysis(groups: nest(found))
  }

  /// Puts each group under the smallest lane of another group that holds all its nodes;
  /// keeps the top level free of overlaps, larger groups first.
  static func nest(_ found: [LaneGroup]) -> [LaneGroup] {
    let members = found.map(\.members)
    func parent(_ i: Int) -> Int? {
      var best: (group: Int, size: Int)?
      for (k, other) in found.enumerated() where k != i {
        for lane in other.lanes {
          let set = Set(lane.map(\.index))
          if members[i].isSubset(of: set), best == nil || set.count < best!.size { best = (k, set.count) }
        }
      }
      return best?.group
    }
    let parents = found.indices.map(parent)
    func build(_ i: Int) -> LaneGroup {
      var group = found[i]
      group.nested = found.indices.filter { parents[$0] == i }.map(build)
      return group
    }
    var top: [Int] = []
    var taken = Set<Int>()
    for i in found.indices.filter({ parents[$0] == nil }).sorted(by: { members[$0].count > members[$1].count })
    where members[i].isDisjoint(with: taken) {
      top.append(i)
      taken.formUnion(members[i])
    }
    return top.sorted { found[$0].lanes[0][0] < found[$1].lanes[0][0] }.map(build)
  }

  static func reachable(from starts: [Int], _ pd: PostDominators) -> Set<Int> {
    var seen = Set(starts)
    var stack = starts
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
