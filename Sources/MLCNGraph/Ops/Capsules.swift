// squash, length, primary_caps and capsule: the capsule-network ops.
//
//   %z: f32[2, 18, 8] = squash(%q)
//   %y: f32[2, 10] = length(%v)
//   %p: f32[2, 288, 6], %p.conv: f32[2, 24, 12, 12] = primary_caps(%h, %p.weight, %p.bias) {caps=4, dim=6, ...}
//   %v: f32[2, 3, 5], %v.predictions: f32[2, 288, 3, 5], %v.couplings: f32[2, 288, 3] = capsule(%p, %v.weight) {...}
//
// squash(s) = s * (|s|^2 / (1 + |s|^2)) / sqrt(|s|^2 + 1e-7) over the last axis.
// primary_caps is a conv2d with caps*dim filters whose output [N, C*D, H, W] is regrouped
// so capsule (c*H + h)*W + w holds channels c*D ..< (c+1)*D, then squashed.
// capsule predicts u[n,i,j] = W[i,j] x[n,i] and routes by agreement `routing` times.
// Extra results: primary caps' convolution before regrouping and squashing (`conv`), the
// capsule layer's predictions u and its last coupling coefficients c.

public enum SquashOp: OpDefinition {
  public static let kind = OpKind.squash
  public static let summary = "capsule squashing nonlinearity over the last axis"
  public static let arity = Arity.exactly(1)
  public static let parameters: [ParamSpec] = []
  public static let example: OpExample? = OpExample("[N, 4, 6]", "y = squash(x)")
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    guard inputs[0].rank >= 2 else { throw OpError("expects [N, ..., D], got \(inputs[0])", operand: 0) }
    return inputs[0]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    4 * Double(inputs[0].count)
  }
}

public enum LengthOp: OpDefinition {
  public static let kind = OpKind.length
  public static let summary = "Euclidean length over the last axis"
  public static let arity = Arity.exactly(1)
  public static let parameters: [ParamSpec] = []
  public static let example: OpExample? = OpExample("[N, 4, 6]", "y = length(x)")
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    guard inputs[0].rank >= 2 else { throw OpError("expects [N, ..., D], got \(inputs[0])", operand: 0) }
    return TensorType(Array(inputs[0].shape.dropLast()))
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    2 * Double(inputs[0].count)
  }
}

public enum PrimaryCapsOp: OpDefinition {
  public static let kind = OpKind.primaryCaps
  public static let summary = "convolutional primary capsules: conv2d, regroup into capsules, squash"
  public static let arity = Arity.exactly(1)
  public static let parameters = [
    ParamSpec("caps", .int(min: 1)),
    ParamSpec("dim", .int(min: 1)),
    ParamSpec("kernel", .pair(min: 1)),
    ParamSpec("stride", .pair(min: 1), default: .ints([1, 1])),
    ParamSpec("padding", .padding, default: .ints([0, 0])),
  ]

  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let x = inputs[0]
    try requireRank(x, 4, "an NCHW image")
    let (h, w) = try windowOutput(x, &a, sameAllowed: true)
    return TensorType([x.shape[0], a.int("caps") * h * w, a.int("dim")])
  }

  public static let example: OpExample? = OpExample("[N, 3, 9, 9]", "y = primary_caps(x, caps=2, dim=3, kernel=3, stride=2)")

  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    let k = a.ints("kernel"), f = a.int("caps") * a.int("dim"), c = inputs[0].shape[1]
    return [WeightSpec("weight", [f, c, k[0], k[1]], .glorotUniform(fanIn: c * k[0] * k[1], fanOut: f * k[0] * k[1])),
            WeightSpec("bias", [f], .zeros)]
  }

  /// The convolution's output `[N, caps*dim, H, W]` before regrouping and squashing.
  public static func extraResults(inputs: [TensorType], attributes a: Attributes) -> [ResultSpec] {
    var b = a
    guard let (h, w) = try? windowOutput(inputs[0], &b, sameAllowed: true) else { return [] }
    return [ResultSpec("conv", TensorType([inputs[0].shape[0], a.int("caps") * a.int("dim"), h, w]))]
  }

  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    let k = a.ints("kernel")
    return 2 * Double(output.count) * Double(inputs[0].shape[1] * k[0] * k[1]) + 4 * Double(output.count)
  }
}

public enum CapsuleOp: OpDefinition {
  public static let kind = OpKind.capsule
  public static let summary = "capsule layer with dynamic routing by agreement"
  public static let arity = Arity.exactly(1)
  public static let parameters = [
    ParamSpec("caps", .int(min: 1)),
    ParamSpec("dim", .int(min: 1)),
    ParamSpec("routing", .int(min: 1), default: .int(3)),
  ]

  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let x = inputs[0]
    try requireRank(x, 3, "capsules [N, I, D]")
    return TensorType([x.shape[0], a.int("caps"), a.int("dim")])
  }

  public static let example: OpExample? = OpExample("[N, 12, 4]", "y = capsule(x, caps=3, dim=5, routing=3)")

  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    let x = inputs[0], d = a.int("dim")
    // Each W[i, j] maps Din to D: those are its fans.
    return [WeightSpec("weight", [x.shape[1], a.int("caps"), d, x.shape[2]], .glorotUniform(fanIn: x.shape[2], fanOut: d))]
  }

  /// The predictions u `[N, I, J, D]` and the coupling coefficients c `[N, I, J]` of the
  /// last routing iteration.
  public static func extraResults(inputs: [TensorType], attributes a: Attributes) -> [ResultSpec] {
    let x = inputs[0].shape, j = a.int("caps")
    return [ResultSpec("predictions", TensorType([x[0], x[1], j, a.int("dim")])),
            ResultSpec("couplings", TensorType([x[0], x[1], j]))]
  }

  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    let x = inputs[0].shape
    let (batch, i, din) = (Double(x[0]), Double(x[1]), Double(x[2]))
    let j = Double(a.int("caps")), d = Double(a.int("dim")), r = Double(a.int("routing"))
    let u = batch * i * j * d
    return 2 * u * din + r * (6 * batch * i * j + 2 * u) + (r - 1) * 2 * u
  }
}

extension SquashOp {
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let x = b.graph[node].inputs[0]
    b.accumulate(x, try b.emit(.squashGrad, [grad, x], name: b.gradName(x)))
  }
}

extension LengthOp {
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let x = b.graph[node].inputs[0]
    b.accumulate(x, try b.emit(.lengthGrad, [grad, x], name: b.gradName(x)))
  }
}

extension PrimaryCapsOp {
  /// Squash and regrouping backwards onto the convolution (its extra result), then the convolution's.
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node]
    let dconv = try b.emit(.primaryCapsGrad, [grad, ValueID(node.index, result: 1)],
                           ["caps": n.attributes["caps"]!, "dim": n.attributes["dim"]!], name: b.unique(n.name + ".dconv"))
    try b.convolutionGradients(node, dz: dconv, x: n.inputs[0], params: b.graph.parameters(of: node))
  }
}

extension CapsuleOp {
  /// Through every routing iteration (capsule_grad replays them), to x and W.
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node], x = n.inputs[0], w = b.graph.parameters(of: node)[0]
    let g = try b.emit(.capsuleGrad, [grad, x, ValueID(node.index, result: 1)], params: [w], n.attributes,
                       name: b.gradName(x))
    b.accumulate(x, g)
    try b.setParameterGradient(w, ValueID(g.index, result: 1))
  }
}
