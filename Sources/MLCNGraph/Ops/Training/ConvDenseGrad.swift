// The backward ops of conv2d (and primary_caps' convolution) and dense.
//
//   %b.grad: f32[2, 6, 7, 7] = conv2d_grad_input(%c.dconv, %c.weight) {input=[6, 7, 7], kernel=[3, 2], ...}
//   %c.weight.grad: f32[8, 6, 3, 2], %c.weight.grad.bias: f32[8] = conv2d_grad_params(%c.dconv, %b) {...}
//   %e.grad: f32[2, 72] = dense_grad_input(%f.dz, %f.weight) {features=72}
//   %f.weight.grad: f32[12, 72], %f.weight.grad.bias: f32[12] = dense_grad_params(%f.dz, %e) {bias=true}
//
// dy is the gradient of the op before its activation. conv2d_grad_input is the
// transposed convolution of dy with the weight; conv2d_grad_params correlates dy with
// the input (and sums dy for the bias). dense: dx = dy W, dW = dy^T x, db = sum_n dy.

public enum Conv2DGradInputOp: InternalOp {
  public static let kind = OpKind.conv2dGradInput
  public static let summary = "gradient of a convolution's input (transposed convolution)"
  public static let arity = Arity.exactly(1)
  public static let parameters = [
    ParamSpec("input", .shape),
    ParamSpec("kernel", .pair(min: 1)),
    ParamSpec("stride", .pair(min: 1)),
    ParamSpec("padding", .pair(min: 0)),
  ]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let dy = inputs[0], x = a.ints("input"), k = a.ints("kernel"), s = a.ints("stride"), p = a.ints("padding")
    try requireRank(dy, 4, "an NCHW gradient")
    guard x.count == 3,
          windowExtent(x[1], kernel: k[0], stride: s[0], pad: p[0]) == dy.shape[2],
          windowExtent(x[2], kernel: k[1], stride: s[1], pad: p[1]) == dy.shape[3] else {
      throw OpError("gradient \(dy) does not match a convolution of input \(x)", parameter: "input")
    }
    return TensorType([dy.shape[0]] + x)
  }
  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    [readOnly("weight", [inputs[0].shape[1], a.ints("input")[0]] + a.ints("kernel"))]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    2 * Double(inputs[0].count) * Double(a.ints("input")[0] * a.ints("kernel").reduce(1, *))
  }
}

public enum Conv2DGradParamsOp: InternalOp {
  public static let kind = OpKind.conv2dGradParams
  public static let summary = "gradients of a convolution's weight and bias"
  public static let arity = Arity.exactly(2)
  public static let parameters = [
    ParamSpec("kernel", .pair(min: 1)),
    ParamSpec("stride", .pair(min: 1)),
    ParamSpec("padding", .pair(min: 0)),
    ParamSpec("bias", .bool),
  ]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let dy = inputs[0], x = inputs[1], k = a.ints("kernel"), s = a.ints("stride"), p = a.ints("padding")
    try requireRank(dy, 4, "an NCHW gradient")
    try requireRank(x, 4, "an NCHW image", operand: 1)
    guard dy.shape[0] == x.shape[0],
          windowExtent(x.shape[2], kernel: k[0], stride: s[0], pad: p[0]) == dy.shape[2],
          windowExtent(x.shape[3], kernel: k[1], stride: s[1], pad: p[1]) == dy.shape[3] else {
      throw OpError("gradient \(dy) does not match a convolution of \(x)", operand: 1)
    }
    return TensorType([dy.shape[1], x.shape[1]] + k)
  }
  public static func extraResults(inputs: [TensorType], attributes a: Attributes) -> [ResultSpec] {
    a.bool("bias") ? [ResultSpec("bias", TensorType([inputs[0].shape[1]]))] : []
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    2 * Double(inputs[0].count) * Double(inputs[1].shape[1] * a.ints("kernel").reduce(1, *))
  }
}

public enum DenseGradInputOp: InternalOp {
  public static let kind = OpKind.denseGradInput
  public static let summary = "gradient of a dense layer's input: dy W"
  public static let arity = Arity.exactly(1)
  public static let parameters = [ParamSpec("features", .int(min: 1))]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try requireRank(inputs[0], 2, "a [N, units] gradient")
    return TensorType([inputs[0].shape[0], a.int("features")])
  }
  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    [readOnly("weight", [inputs[0].shape[1], a.int("features")])]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    2 * Double(inputs[0].count) * Double(a.int("features"))
  }
}

public enum DenseGradParamsOp: InternalOp {
  public static let kind = OpKind.denseGradParams
  public static let summary = "gradients of a dense layer's weight (dy^T x) and bias"
  public static let arity = Arity.exactly(2)
  public static let parameters = [ParamSpec("bias", .bool)]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try requireRank(inputs[0], 2, "a [N, units] gradient")
    try requireRank(inputs[1], 2, "[N, features]", operand: 1)
    guard inputs[0].shape[0] == inputs[1].shape[0] else { throw OpError("batch sizes differ", operand: 1) }
    return TensorType([inputs[0].shape[1], inputs[1].shape[1]])
  }
  public static func extraResults(inputs: [TensorType], attributes a: Attributes) -> [ResultSpec] {
    a.bool("bias") ? [ResultSpec("bias", TensorType([inputs[0].shape[1]]))] : []
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    2 * Double(inputs[0].count) * Double(inputs[1].shape[1])
  }
}

extension GradientBuilder {
  /// The gradients of a convolution from `dz` (its gradient before the activation):
  /// operand `x` and the weight and bias `params`.
  mutating func convolutionGradients(_ node: ValueID, dz: ValueID, x: ValueID, params: [ValueID]) throws(OpError) {
    let a = graph[node].attributes
    let window: Attributes = ["kernel": a["kernel"]!, "stride": a["stride"]!, "padding": a["padding"]!]
    if needsGradient(x) {
      var attrs = window
      attrs["input"] = .ints(Array(graph.type(of: x).shape.dropFirst()))
      let dx = try emit(.conv2dGradInput, [dz], params: [params[0]], attrs, name: gradName(x))
      accumulate(x, dx)
    }
    var attrs = window
    attrs["bias"] = .bool(params.count > 1)
    let dw = try emit(.conv2dGradParams, [dz, x], attrs, name: gradName(params[0]))
    try setParameterGradient(params[0], dw)
    if params.count > 1 { try setParameterGradient(params[1], ValueID(dw.index, result: 1)) }
  }
}
