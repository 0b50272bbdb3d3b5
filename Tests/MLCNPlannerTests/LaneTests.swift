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
  // Nothing at the fork x (the cross edge a<-b makes its branches one); b itself forks,
  // and a, read by a2 alone, goes with it.
  let groups = LaneDetection.analyze(crossed).groups
  #expect(groups.count == 1 && groups[0].fork.map { crossed[$0].name } == "b")
  // A lane holds the parameters its ops read.
  #expect(groups[0].lanes.map { $0.map { crossed[$0].name } } == [["a.weight", "a.bias", "a", "a2"], ["b2"]])
  #expect(LaneDetection.analyze(crossed).names(in: crossed) == [["a", "a2"], ["b2"]], "plans list ops, not parameters")
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

@Test func lanesKeepTheirOpsOnASharedOutsideValue() throws {
  // Both lanes read s, computed outside them: the fork is s, but each lane's own dense
  // (read by that lane alone) belongs to it, as the lane blocks declare.
  let g = try graph("""
    network t
    input x: [N, 8]
    s = dense(x, units=4)
    lanes L[2] {
      h = dense(x, units=4)
      p = add(h, s)
      yield p
    }
    v = concat(L, axis=1)
    output v
    """)
  #expect(LaneDetection.analyze(g).lanes.map { $0.map(\.index) } == declaredLanes(g))
}

@Test func aLaneResultThatIsAlsoAnOutputKeepsItsLanes() throws {
  let g = try graph("""
    network t
    input x: [N, 8]
    lane A {
      a = dense(x, units=4)
      yield a
    }
    lane B {
      b = dense(x, units=4)
      yield b
    }
    v = add(A, B)
    output v, A
    """)
  #expect(LaneDetection.analyze(g).names(in: g) == [["A.a"], ["B.b"]])
}

@Test func lanesFromDifferentInputsAreFoundOnce() throws {
  // No value forks here: the lanes start at two inputs. And both lanes start by reading
  // both inputs, so x and y would each report the same lanes: one group.
  let g = try graph("""
    network t
    input x: [N, 8]
    input y: [N, 8]
    lane A {
      a = add(x, y)
      a2 = dense(a, units=3)
      yield a2
    }
    lane B {
      b = add(y, x)
      b2 = dense(b, units=3)
      yield b2
    }
    v = concat(A, B, axis=1)
    output v
    """)
  let found = LaneDetection.analyze(g)
  #expect(found.groups.count == 1)
  #expect(found.lanes.map { $0.map(\.index) } == declaredLanes(g))
  let separate = try graph("""
    network t
    input x: [N, 8]
    input z: [N, 8]
    lane A {
      a = dense(x, units=3)
      yield a
    }
    lane B {
      b = dense(z, units=3)
      yield b
    }
    v = concat(A, B, axis=1)
    output v
    """)
  let s = LaneDetection.analyze(separate)
  #expect(s.groups.count == 1 && s.groups[0].fork == nil)
  #expect(s.names(in: separate) == [["A.a"], ["B.b"]])
}
