// Lowering to the graph IR: names, lanes, shapes, canonical attributes and semantic errors.

import MLCNBase
import Testing
import MLCNFrontend
@testable import MLCNGraph

func lower(_ text: String, batch: Int = 2) throws -> Graph {
  try Lowering.lower(source: SourceFile(path: "t.mlcn", text: text), batch: batch)
}

func loweringError(_ text: String) -> DiagnosticError? {
  do { _ = try lower(text); return nil } catch { return error as? DiagnosticError }
}

@Test func lanesGetPrefixedNamesAndMembership() throws {
  let g = try lower("""
    network t
    input x: [N, 1, 12, 12]
    lane solo {
      a = conv2d(x, filters=8, kernel=3, act=relu)
      yield a
    }
    lanes L[2] {
      a = conv2d(x, filters=4, kernel=3)
      yield a
    }
    v = concat(solo, L, axis=1)
    output v
    """)
  // Each conv reads its parameters, placed just before it in its lane.
  #expect(g.nodes.map(\.name) == ["x", "solo.a.weight", "solo.a.bias", "solo.a", "L.0.a.weight", "L.0.a.bias", "L.0.a",
                                   "L.1.a.weight", "L.1.a.bias", "L.1.a", "v"])
  #expect(g.nodes.map(\.lane) == [nil, "solo", "solo", "solo", "L.0", "L.0", "L.0", "L.1", "L.1", "L.1", nil])
  #expect(g.declaredLanes == ["solo", "L.0", "L.1"])
  #expect(g[ValueID(10)].type.shape == [2, 16, 10, 10])
  #expect(g.parameters(of: ValueID(6)).map { g[$0].name } == ["L.0.a.weight", "L.0.a.bias"])
  #expect(g.operands(of: ValueID(6)).map { g[$0].name } == ["x"])
  #expect(g.weights().map(\.name) == ["solo.a.weight", "solo.a.bias", "L.0.a.weight", "L.0.a.bias", "L.1.a.weight", "L.1.a.bias"])
  try Verifier.verify(g)
}

@Test func shapeInferenceFollowsTheOperatorTable() throws {
  let g = try lower("""
    network t
    input x: [N, 2, 14, 14]
    a = conv2d(x, filters=6, kernel=3, padding=same, act=relu)
    b = maxpool2d(a, kernel=2)
    c = conv2d(b, filters=8, kernel=[3, 2], stride=[2, 1], padding=[1, 0])
    d = avgpool2d(c, kernel=2, stride=1)
    e = flatten(d)
    f = dense(e, units=12)
    q = reshape(f, shape=[-1, 4])
    s = squash(q)
    l = length(s)
    p = primary_caps(a, caps=4, dim=6, kernel=4, stride=2)
    k = capsule(p, caps=3, dim=5, routing=2)
    m = softmax(k, axis=-2)
    output l, m
    """)
  let shapes = Dictionary(uniqueKeysWithValues: g.nodes.map { ($0.name, $0.type.shape) })
  #expect(shapes["a"] == [2, 6, 14, 14])
  #expect(shapes["b"] == [2, 6, 7, 7])
  #expect(shapes["c"] == [2, 8, 4, 6])
  #expect(shapes["d"] == [2, 8, 3, 5])
  #expect(shapes["e"] == [2, 120])
  #expect(shapes["q"] == [2, 3, 4])
  #expect(shapes["l"] == [2, 3])
  #expect(shapes["p"] == [2, 4 * 6 * 6, 6])
  #expect(shapes["k"] == [2, 3, 5])
  #expect(g[g.id(named: "a")!].attributes["padding"] == .ints([1, 1]))
  #expect(g[g.id(named: "b")!].attributes["stride"] == .ints([2, 2]))
  #expect(g[g.id(named: "m")!].attributes["axis"] == .int(1))
  #expect(g[g.id(named: "q")!].attributes["shape"] == .ints([3, 4]))
  #expect(g.weights().first { $0.name == "k.weight" }?.shape == [144, 3, 5, 6])
  try Verifier.verify(g)
}

@Test(arguments: [
  ("a = frob(x)", 3, 5, "unknown operator 'frob'"),
  ("a = dense(x, units=3, color=1)", 3, 23, "dense has no parameter 'color'"),
  ("a = dense(x, units=relu)", 3, 20, "expects a positive integer"),
  ("a = dense(x)", 3, 5, "needs parameter 'units'"),
  ("a = dense(x, units=2, units=3)", 3, 23, "given twice"),
  ("a = dense(units=2, x)", 3, 20, "operand after a keyword"),
  ("a = add(x)", 3, 5, "takes 2 operands, got 1"),
  ("a = relu(y)", 3, 10, "undefined name 'y'"),
  ("x = relu(x)", 3, 1, "duplicate name 'x'"),
  ("a = dense(x, units=2)\nb = add(a, x)", 4, 12, "same shape"),
  ("a = reshape(x, shape=[5, -1])", 3, 22, "cannot reshape"),
  ("a = softmax(x, axis=2)", 3, 21, "out of range"),
  ("a = conv2d(x, filters=2, kernel=3)", 3, 12, "NCHW image"),
  ("a = dense(x, act=softplus, units=1)", 3, 18, "one of none, relu"),
])
func semanticErrorsPointAtTheCause(stmt: String, line: Int, column: Int, message: String) {
  let text = "network t\ninput x: [N, 4]\n" + stmt + "\noutput a\n"
  guard let d = loweringError(text) else { Issue.record("no error for \(stmt)"); return }
  #expect(d.diagnostic.location == SourceLocation(line: line, column: column), "\(d)")
  #expect(d.diagnostic.message.contains(message), "\(d)")
}

@Test func laneScopingErrors() {
  let outside = loweringError("network t\ninput x: [N, 4]\nlanes L[2] {\n  h = relu(x)\n  yield h\n}\na = relu(h)\noutput a\n")
  #expect(outside?.diagnostic.message == "undefined name 'h'")
  let list = loweringError("network t\ninput x: [N, 4]\nlanes L[2] {\n  h = relu(x)\n  yield h\n}\na = relu(L)\noutput a\n")
  #expect(list?.diagnostic.message.contains("list of 2 lanes") == true)
  let yieldOuter = loweringError("network t\ninput x: [N, 4]\nlane A {\n  h = relu(x)\n  yield x\n}\noutput A\n")
  #expect(yieldOuter?.diagnostic.message.contains("computed inside it") == true)
  let noOutput = loweringError("network t\ninput x: [N, 4]\na = relu(x)\n")
  #expect(noOutput?.diagnostic.message.contains("no 'output'") == true)
  let notN = loweringError("network t\ninput x: [3, 4]\na = relu(x)\noutput a\n")
  #expect(notN?.diagnostic.message.contains("must be N") == true)
}
