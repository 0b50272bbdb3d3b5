// conv2d: 2-D cross-correlation as in PyTorch, with an optional fused activation.
//
//   %a: f32[2, 6, 14, 14] = conv2d(%x) {filters=6, kernel=[3, 3], stride=[1, 1], padding=[1, 1], act=relu, bias=true}
//
// x [N, C, H, W] -> [N, F, Ho, Wo], Ho = floor((H + 2p - kh) / s) + 1. Weight [F, C, KH, KW], bias [F].

public enum Conv2DOp: OpDefinition {
  public static let kind = OpKind.conv2d
  public static let summary = "2-D convolution (cross-correlation) with optional bias and activation"
  public static let arity = Arity.exactly(1)
  public static let parameters = [
    ParamSpec("filters", .int(min: 1)),
    ParamSpec("kernel", .pair(min: 1)),
    ParamSpec("stride", .pair(min: 1), default: .ints([1, 1])),
    ParamSpec("padding", .padding, default: .ints([0, 0])),
    ParamSpec("act", .activation, default: .string("none")),
    ParamSpec("bias", .bool, default: .bool(true)),
  ]

  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let x = inputs[0]
    try requireRank(x, 4, "an NCHW image")
    let (h, w) = try windowOutput(x, &a, sameAllowed: true)
    return TensorType([x.shape[0], a.int("filters"), h, w])
  }

  public static let example: OpExample? = OpExample("[N, 3, 8, 8]", "y = conv2d(x, filters=5, kernel=3, stride=2, padding=1, act=tanh)")

  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    let k = a.ints("kernel"), f = a.int("filters"), c = inputs[0].shape[1]
    let w = WeightSpec("weight", [f, c, k[0], k[1]], .glorotUniform(fanIn: c * k[0] * k[1], fanOut: f * k[0] * k[1]))
    return a.bool("bias") ? [w, WeightSpec("bias", [f], .zeros)] : [w]
  }

  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    let k = a.ints("kernel")
    return 2 * Double(output.count) * Double(inputs[0].shape[1] * k[0] * k[1])
  }
}

extension Conv2DOp {
  /// Through the fused activation (from the output), then the convolution's input, weight and bias.
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node]
    var dz = grad
    if let act = n.attributes.activation {
      dz = try b.throughActivation(act, alpha: 0.01, output: node,
                                   grad: grad, name: b.unique(n.name + ".dz"))
    }
    try b.convolutionGradients(node, dz: dz, x: n.inputs[0], params: b.graph.parameters(of: node))
  }
}
