// Lane detection: the lanes found from the graph's edges alone must equal the lane blocks
// the source declares, and branches joined by a cross edge are not separate lanes.

import Foundation
import Testing
import MLCNFrontend
import MLCNGraph
@testable import MLCNPlanner

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func graphFile(_ name: String, batch: Int = 1) throws -> Graph {
  let text = try String(contentsOf: root.appending(path: "graphs/\(name)"), encoding: .utf8)
  return try graph(text, batch: batch)
}

/// The lanes the source's lane blocks declare, as lists of node indices.
func declaredLanes(_ g: Graph) -> [[Int]] {
  g.declaredLanes.map { lane in g.ids.filter { g[$0].lane == lane }.map(\.index) }
}

@Test(arguments: ["mlcn2.mlcn", "mlcn4.mlcn", "mlcn8.mlcn", "mlcn_hetero.mlcn"])
func detectionFindsTheDeclaredLanes(_ file: String) throws {
  let g = try graphFile(file)
  let found = LaneDetection.analyze(g)
  #expect(found.lanes.map { $0.map(\.index) } == declaredLanes(g))
  #expect(found.groups.count == 1)
  #expect(found.groups[0].fork == g.inputs[0])
  #expect(found.groups[0].join.map { g[$0].op } == .concat)
}

@Test func aFlatRewriteHasTheSameLanes() throws {
  let lanes = try graphFile("mlcn4.mlcn")
  var flat = "network mlcn4_flat\ninput x: [N, 1, 28, 28]\n"
  for i in 0..<4 {
    flat += "h\(i) = conv2d(x, filters=16, kernel=9)\nr\(i) = relu(h\(i))\n"
    flat += "p\(i) = primary_caps(r\(i), caps=32, dim=8, kernel=6, stride=2)\nc\(i) = capsule(p\(i), caps=10, dim=4, routing=3)\n"
  }
  flat += "v = concat(c0, c1, c2, c3, axis=-1)\ny = length(v)\noutput y\n"
  let g = try graph(flat)
  #expect(g.declaredLanes.isEmpty)
  let found = LaneDetection.analyze(g).lanes.map { $0.map(\.index) }
  #expect(found == declaredLanes(lanes))
  #expect(found.map { $0.map { g.nodes[$0].op } } == declaredLanes(lanes).map { $0.map { lanes.nodes[$0].op } })
}

@Test func aCrossEdgeJoinsTwoBranchesIntoOne() throws {
  let crossed = try graph("""
    network t
    input x: [N, 8]
    a = dense(x, units=4)
    b = dense(x, units=4)
    a2 = add(a, b)
    b2 = tanh(b)
    y = concat(a2, b2, axis=1)
    output y
    """)
  // Nothing at the fork x (the cross edge a<-b makes its branches one); b itself forks.
  let groups = LaneDetection.analyze(crossed).groups
  #expect(groups.count == 1 && crossed[groups[0].fork].name == "b")
  #expect(groups[0].lanes.map { $0.map { crossed[$0].name } } == [["a2"], ["b2"]])
  let three = try graph("""
    network t
    input x: [N, 8]
    a = dense(x, units=4)
    b = dense(x, units=4)
    c = dense(x, units=4)
    b2 = add(b, c)
    a2 = sigmoid(a)
    y = concat(a2, b2, axis=1)
    output y
    """)
  let names = LaneDetection.analyze(three).names(in: three)
  // (sigmoid(a) is fused into a's dense, which takes the name a2.)
  #expect(names == [["a2"], ["b", "c", "b2"]])
}

@Test func lanesInsideLanesAreNested() throws {
  let g = try graph("""
    network t
    input x: [N, 8]
    a = dense(x, units=6)
    a1 = relu(a)
    a2 = tanh(a)
    a3 = add(a1, a2)
    b = dense(x, units=6)
    y = concat(a3, b, axis=1)
    output y
    """)
  let found = LaneDetection.analyze(g)
  #expect(found.nestingDepth == 2)
  #expect(found.names(in: g) == [["a", "a1", "a2", "a3"], ["b"]])
  #expect(found.groups[0].nested.first?.lanes.map { $0.map { g[$0].name } } == [["a1"], ["a2"]])
}

@Test func branchesEndingAtSeparateOutputsAreLanes() throws {
  let g = try graph("network t\ninput x: [N, 8]\na = dense(x, units=2)\nb = dense(x, units=3)\noutput a, b\n")
  let found = LaneDetection.analyze(g)
  #expect(found.groups.first?.join == nil)
  #expect(found.names(in: g) == [["a"], ["b"]])
}

@Test func postDominatorsOfADiamond() throws {
  let g = try graph("network t\ninput x: [N, 8]\na = relu(x)\nb = tanh(x)\nc = add(a, b)\noutput c\n")
  let pd = PostDominators(g)
  #expect(pd.ipdom == [3, 3, 3, 4, 4])
  #expect(pd.postDominates(3, 0) && !pd.postDominates(1, 0))
}
