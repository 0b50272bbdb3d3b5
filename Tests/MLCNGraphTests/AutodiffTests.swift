// The training passes: training mode, reverse-mode differentiation and the optimizer
// update, checked on the IR (numerics are checked against PyTorch by the lit tests).

import Testing
import MLCNFrontend
@testable import MLCNGraph

private func train(_ text: String, loss: LossKind? = nil, optimizer: Optimizer? = nil) throws -> Graph {
  var g = try lower(text)
  try PassPipeline.standard.run(&g)
  TrainingMode().run(&g)
  g = try Autodiff(loss: loss).differentiate(g)
  if let optimizer { OptimizerUpdate(optimizer).run(&g) }
  try Verifier.verify(g)
  return g
}

@Test func everyCallableOpHasAGradientRuleOrATrainingForm() throws {
  // dropout and batchnorm become mul and batchnorm_train in training mode; every other
  // op must differentiate itself.
  for op in OpKind.callable where op != .dropout && op != .batchnorm {
    let sample = op.definition.example
    let example = try #require(sample)
    var g = try lower("network t\ninput x: \(example.input)\n\(example.body)\noutput y\n")
    TrainingMode().run(&g)
    var b = GradientBuilder(graph: g, needsGrad: Set(g.ids))
    let id = try #require(g.ids.last { g[$0].op == op || g[$0].attributes["act"] == .string(op.rawValue) })
    b.current = id
    do { try g[id].op.definition.vjp(id, id, &b) } catch {
      Issue.record("\(op): \(error.message)")
    }
    #expect(b.graph.nodes.count > g.nodes.count || op == .add, "\(op)'s rule added no node")
  }
}

@Test func aValueReadTwiceSumsItsGradients() throws {
  let g = try train("network t\ninput x: [N, 3]\na = dense(x, units=4)\nb = tanh(a)\nc = add(a, b)\ny = dense(c, units=2)\noutput y\n")
  // a's gradient comes from add directly and through tanh: one add node sums them.
  let sums = g.nodes.filter { $0.op == .add && $0.name.hasPrefix("a.grad.sum") }
  #expect(sums.count == 1)
  #expect(g.outputs.map(\.name) == ["loss", "grad:a.weight", "grad:a.bias", "grad:y.weight", "grad:y.bias"])
}

@Test func theLossReadsTheLogitsBeforeAFinalSoftmax() throws {
  let g = try train("network t\ninput x: [N, 3]\nz = dense(x, units=4)\ny = softmax(z)\noutput y\n")
  let loss = try #require(g.nodes.first { $0.op == .loss })
  #expect(loss.attributes["kind"] == .string("xent"))
  #expect(g[loss.inputs[0]].name == "z")
  #expect(loss.attributes["scale"] == .float(0.5))  // the mean over the batch of 2
}

@Test func marginIsTheDefaultForLengths() throws {
  let g = try train("network t\ninput x: [N, 12]\na = dense(x, units=12)\nb = reshape(a, shape=[3, 4])\ny = length(b)\noutput y\n")
  #expect(g.nodes.first { $0.op == .loss }?.attributes["kind"] == .string("margin"))
}

@Test func aWeightThatDoesNotReachTheLossIsAnError() throws {
  var g = try lower("network t\ninput x: [N, 3]\na = dense(x, units=2)\nb = dense(x, units=2)\noutput a, b\n")
  try PassPipeline.standard.run(&g)
  #expect { _ = try Autodiff().differentiate(g) } throws: { e in
    (e as? OpError)?.message == "weight 'b.weight' does not affect the loss on output 'a'"
  }
}

@Test func inputsGetNoGradient() throws {
  let g = try train("network t\ninput x: [N, 1, 5, 5]\nc = conv2d(x, filters=2, kernel=3)\nf = flatten(c)\ny = dense(f, units=2)\noutput y\n")
  #expect(!g.nodes.contains { $0.op == .conv2dGradInput })
  #expect(g.nodes.contains { $0.op == .conv2dGradParams })
}

@Test func adamAddsItsStateAndOneStepParameter() throws {
  let g = try train("network t\ninput x: [N, 3]\na = dense(x, units=4, bias=false)\ny = dense(a, units=2, bias=false)\noutput y\n",
                    optimizer: Optimizer(kind: .adam, lr: 0.01))
  #expect(g.nodes.filter { $0.name == OptimizerUpdate.stepParameter }.count == 1)
  #expect(g.outputs.map(\.name) == ["loss", "update:a.weight", "update:a.weight.exp_avg", "update:a.weight.exp_avg_sq",
                                    "update:y.weight", "update:y.weight.exp_avg", "update:y.weight.exp_avg_sq"])
  #expect(Optimizer(kind: .adam, lr: 0.01).adamFactors(step: 1) == [Float(0.01 / 0.1), Float((0.001).squareRoot())])
}

@Test func trainingModeReplacesDropoutWithAMaskInput() throws {
  var g = try lower("network t\ninput x: [N, 3]\na = dense(x, units=4)\nb = dropout(a, p=0.25)\noutput b\n")
  TrainingMode().run(&g)
  try Verifier.verify(g)
  let mask = try #require(g.nodes.first { $0.name == "b.mask" })
  #expect(mask.op == .input && mask.attributes["dropout"] == .float(0.25))
  #expect(g.nodes.last?.op == .mul)
}
