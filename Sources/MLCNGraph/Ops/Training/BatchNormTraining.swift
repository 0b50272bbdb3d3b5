// batchnorm in training mode (PyTorch's BatchNorm in train()) and its backward op.
//
//   %b: f32[2, 3, 4, 5], %b.mean: f32[3], %b.invstd: f32[3], %b.new_running_mean: f32[3], %b.new_running_var: f32[3]
//       = batchnorm_train(%x, %b.weight, %b.bias, %b.running_mean, %b.running_var) {eps=1e-05, momentum=0.1}
//   %x.grad: f32[2, 3, 4, 5], %b.weight.grad: f32[3], %b.bias.grad: f32[3]
//       = batchnorm_grad(%b.grad, %x, %b.mean, %b.invstd, %b.weight)
//
// Over the M = N * (spatial) values of each channel: mean, biased variance v,
// invstd = 1 / sqrt(v + eps), y = (x - mean) invstd weight + bias; the running statistics
// become (1 - momentum) r + momentum * (mean, v M / (M - 1)).
// Backward, xhat = (x - mean) invstd: dx = weight invstd / M (M dy - sum dy - xhat sum(dy xhat)),
// dweight = sum(dy xhat), dbias = sum dy.

public enum BatchNormTrainOp: InternalOp {
  public static let kind = OpKind.batchnormTrain
  public static let summary = "batch normalisation with batch statistics, updating the running statistics"
  public static let arity = Arity.exactly(1)
  public static let parameters = BatchNormOp.parameters
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try BatchNormOp.infer(inputs, &a)
  }
  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    BatchNormOp.weights(inputs: inputs, attributes: a)
  }
  public static func extraResults(inputs: [TensorType], attributes a: Attributes) -> [ResultSpec] {
    let c = TensorType([inputs[0].shape[1]])
    return [ResultSpec("mean", c), ResultSpec("invstd", c), ResultSpec("new_running_mean", c), ResultSpec("new_running_var", c)]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double { 6 * Double(output.count) }
}

public enum BatchNormGradOp: InternalOp {
  public static let kind = OpKind.batchnormGrad
  public static let summary = "gradient of training-mode batch normalisation"
  public static let arity = Arity.exactly(4)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try requireSame(inputs[1], inputs[0], operand: 0)
    let c = TensorType([inputs[1].shape[1]])
    guard inputs[2] == c, inputs[3] == c else { throw OpError("statistics must be \(c)", operand: 2) }
    return inputs[1]
  }
  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    [readOnly("weight", [inputs[1].shape[1]])]
  }
  public static func extraResults(inputs: [TensorType], attributes a: Attributes) -> [ResultSpec] {
    let c = TensorType([inputs[1].shape[1]])
    return [ResultSpec("weight", c), ResultSpec("bias", c)]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double { 8 * Double(output.count) }
}

extension BatchNormTrainOp {
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node], x = n.inputs[0], params = b.graph.parameters(of: node)
    let g = try b.emit(.batchnormGrad, [grad, x, ValueID(node.index, result: 1), ValueID(node.index, result: 2)],
                       params: [params[0]], name: b.gradName(x))
    b.accumulate(x, g)
    try b.setParameterGradient(params[0], ValueID(g.index, result: 1))
    try b.setParameterGradient(params[1], ValueID(g.index, result: 2))
  }
}
