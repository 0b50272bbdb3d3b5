// The passes: activation fusion, dead-code elimination, and the verifier that guards them.

import Testing
import MLCNFrontend
@testable import MLCNGraph

@Test func fusesActivationIntoConvAndDense() throws {
  var g = try lower("""
    network t
    input x: [N, 1, 6, 6]
    c = conv2d(x, filters=2, kernel=3)
    r = relu(c)
    f = flatten(r)
    d = dense(f, units=3)
    s = sigmoid(d)
    output s
    """)
  try PassPipeline.standard.run(&g)
  #expect(g.nodes.map(\.op) == [.input, .parameter, .parameter, .conv2d, .flatten, .parameter, .parameter, .dense])
  #expect(g.nodes.map(\.name) == ["x", "c.weight", "c.bias", "r", "f", "d.weight", "d.bias", "s"])
  #expect(g.nodes[3].attributes["act"] == .string("relu"))
  #expect(g.nodes[7].attributes["act"] == .string("sigmoid"))
  // The fused node keeps reading its parameters, which keep their contract names.
  #expect(g.weights().map(\.name) == ["c.weight", "c.bias", "d.weight", "d.bias"])
  #expect(g.outputs.map(\.name) == ["s"] && g[g.outputs[0].value].name == "s")
  #expect(Printer.print(g).contains("%r: f32[2, 2, 4, 4] = conv2d(%x, %c.weight, %c.bias) {filters=2, kernel=[3, 3], stride=[1, 1], padding=[0, 0], act=relu, bias=true}"))
}

@Test func leakyReluFusesOnlyWithItsDefaultAlpha() throws {
  var g = try lower("network t\ninput x: [N, 4]\na = dense(x, units=3)\nb = leaky_relu(a)\nc = dense(b, units=2)\nd = leaky_relu(c, alpha=0.3)\noutput d\n")
  try PassPipeline.standard.run(&g)
  #expect(g.nodes.filter { $0.op == .dense }.map { $0.attributes["act"] } == [.string("leaky_relu"), .string("none")])
  #expect(g.nodes.last?.op == .leakyRelu && g.nodes.last?.attributes["alpha"] == .float(0.3))
}

@Test func doesNotFuseWhenTheProducerHasOtherReaders() throws {
  var g = try lower("""
    network t
    input x: [N, 4]
    d = dense(x, units=3)
    r = relu(d)
    t = tanh(d)
    a = add(r, t)
    output a, d
    """)
  try PassPipeline.standard.run(&g)
  #expect(g.nodes.map(\.op) == [.input, .parameter, .parameter, .dense, .relu, .tanh, .add])
}

@Test func removesDeadValuesButKeepsInputs() throws {
  var g = try lower("""
    network t
    input x: [N, 4]
    input unused: [N, 2]
    a = relu(x)
    dead = tanh(a)
    b = sigmoid(a)
    output b
    """)
  try PassPipeline.standard.run(&g)
  #expect(g.nodes.map(\.name) == ["x", "unused", "a", "b"])
  #expect(g.outputs.first.map { g[$0.value].name } == "b")
}

@Test func stopsAfterANamedPass() throws {
  var g = try lower("network t\ninput x: [N, 4]\nd = dense(x, units=2)\nr = relu(d)\ndead = tanh(x)\noutput r\n")
  try PassPipeline.standard.run(&g, stopAfter: "fuse-activations")
  #expect(g.nodes.map(\.name) == ["x", "d.weight", "d.bias", "r", "dead"])
}

/// The verifier's complaint about `g`, or nil when it accepts it.
func verifyError(_ g: Graph) -> VerifyError? {
  do { try Verifier.verify(g); return nil } catch { return error }
}

@Test func verifierRejectsBrokenIR() throws {
  // x: f32[2, 4] (#0), a.weight (#1), a.bias (#2), a = dense(x, units=3): f32[2, 3] (#3), b = relu(a) (#4)
  let good = try lower("network t\ninput x: [N, 4]\na = dense(x, units=3)\nb = relu(a)\noutput b\n")
  #expect(verifyError(good) == nil)
  /// Each broken graph must be rejected by the invariant it breaks, at the node that breaks it.
  func rejects(_ g: Graph, at node: String, _ message: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let e = verifyError(g)
    #expect(e?.node == node, "\(e.map(String.init(describing:)) ?? "accepted")", sourceLocation: sourceLocation)
    #expect(e?.message == message, sourceLocation: sourceLocation)
  }
  var badType = good
  badType.nodes[3].type = TensorType([2, 4])
  rejects(badType, at: "a", "type f32[2, 4] but inference gives f32[2, 3]")
  var badOrder = good
  badOrder.nodes[3].inputs = [ValueID(4), ValueID(1), ValueID(2)]
  rejects(badOrder, at: "a", "reads #4, which is not defined before it")
  var selfLoop = good
  selfLoop.nodes[4].inputs = [ValueID(4)]
  rejects(selfLoop, at: "b", "reads #4, which is not defined before it")
  var badAttr = good
  badAttr.nodes[3].attributes["bogus"] = .int(1)
  rejects(badAttr, at: "a", "unknown attribute 'bogus'")
  var missingAttr = good
  missingAttr.nodes[3].attributes["units"] = nil
  rejects(missingAttr, at: "a", "missing attribute 'units'")
  var badArity = good
  badArity.nodes[4].inputs = [ValueID(0), ValueID(3)]
  rejects(badArity, at: "b", "relu takes 1 operand, has 2")
  var duplicate = good
  duplicate.nodes[4].name = "a"
  rejects(duplicate, at: "a", "duplicate value name 'a'")
  var badBatch = good
  badBatch.nodes[0].type = TensorType([3, 4])
  rejects(badBatch, at: "x", "input's first dimension is not the batch 2")
  var missingParameter = good
  missingParameter.nodes[3].inputs = [ValueID(0), ValueID(1)]
  rejects(missingParameter, at: "a", "reads 1 parameters, the op needs 2")
  var wrongParameter = good
  wrongParameter.nodes[2].type = TensorType([4])
  rejects(wrongParameter, at: "a", "parameter a.bias is f32[4], the op needs f32[3]")
  var parameterFirst = good
  parameterFirst.nodes[3].inputs = [ValueID(1), ValueID(0), ValueID(2)]
  rejects(parameterFirst, at: "a", "reads a parameter before a data operand")
  var badExtra = good
  badExtra.nodes[3].extraResults = [ResultSpec("u", TensorType([2]))]
  rejects(badExtra, at: "a", "extra results [\"u\"] but the op defines []")
  var crossLane = good
  crossLane.nodes[3].lane = "A"
  crossLane.nodes[4].lane = "B"
  rejects(crossLane, at: "b", "lane B reads a of lane A; lanes must be independent")
  var nestedLane = good  // a nested lane may read its enclosing lane
  nestedLane.nodes[3].lane = "A"
  nestedLane.nodes[4].lane = "A.0"
  #expect(verifyError(nestedLane) == nil)
  var noOutputs = good
  noOutputs.outputs = []
  rejects(noOutputs, at: "t", "graph has no outputs")
  var danglingOutput = good
  danglingOutput.outputs[0] = Graph.Output(name: "b", value: ValueID(9))
  rejects(danglingOutput, at: "b", "output refers to a missing value")
}

@Test func everyOpDeclaresItsSpec() {
  for op in OpKind.allCases {
    let def = op.definition
    #expect(def.kind == op, "\(op) maps to the definition of \(def.kind)")
    #expect(!def.summary.isEmpty)
    #expect(Set(def.parameters.map(\.name)).count == def.parameters.count, "\(op) repeats a parameter")
  }
}
