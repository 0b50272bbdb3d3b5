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
  #expect(g.nodes.map(\.op) == [.input, .conv2d, .flatten, .dense])
  #expect(g.nodes.map(\.name) == ["x", "r", "f", "s"])
  #expect(g.nodes[1].attributes["act"] == .string("relu"))
  #expect(g.nodes[1].weightPrefix == "c")
  #expect(g.nodes[3].attributes["act"] == .string("sigmoid"))
  #expect(g.weights().map(\.name) == ["c.weight", "c.bias", "d.weight", "d.bias"])
  #expect(g.outputs.map(\.name) == ["s"] && g[g.outputs[0].value].name == "s")
  #expect(Printer.print(g).contains("%r: f32[2, 2, 4, 4] = conv2d(%x) {filters=2, kernel=[3, 3], stride=[1, 1], padding=[0, 0], act=relu, bias=true} weights c"))
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
  #expect(g.nodes.map(\.op) == [.input, .dense, .relu, .tanh, .add])
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
  #expect(g.nodes.map(\.name) == ["x", "r", "dead"])
}

@Test func verifierRejectsBrokenIR() throws {
  let good = try lower("network t\ninput x: [N, 4]\na = dense(x, units=3)\nb = relu(a)\noutput b\n")
  var badType = good
  badType.nodes[1].type = TensorType([2, 4])
  #expect(throws: VerifyError.self) { try Verifier.verify(badType) }
  var badOrder = good
  badOrder.nodes[1].inputs = [ValueID(2)]
  #expect(throws: VerifyError.self) { try Verifier.verify(badOrder) }
  var badAttr = good
  badAttr.nodes[1].attributes["bogus"] = .int(1)
  #expect(throws: VerifyError.self) { try Verifier.verify(badAttr) }
  var crossLane = good
  crossLane.nodes[1].lane = "A"
  crossLane.nodes[2].lane = "B"
  #expect(throws: VerifyError.self) { try Verifier.verify(crossLane) }
  try Verifier.verify(good)
}

@Test func everyOpDeclaresItsSpec() {
  for op in OpKind.allCases {
    let def = op.definition
    #expect(def.kind == op, "\(op) maps to the definition of \(def.kind)")
    #expect(!def.summary.isEmpty)
    #expect(Set(def.parameters.map(\.name)).count == def.parameters.count, "\(op) repeats a parameter")
  }
}
