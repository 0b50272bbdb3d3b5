// mul (dropout in training: x times a mask drawn by the host), and the backward ops of
// elementwise activations and softmax.
//
//   %d: f32[2, 5] = mul(%c, %d.mask)
//   %c.grad: f32[2, 5] = activation_grad(%d.grad, %c) {act=tanh, alpha=0.01}
//   %g.grad: f32[2, 5] = softmax_grad(%y.grad, %y) {axis=1}
//
// activation_grad reads the activation's output y: relu' = y > 0, sigmoid' = y (1 - y),
// tanh' = 1 - y^2, leaky_relu' = y > 0 ? 1 : alpha. softmax_grad: y (dy - sum(dy y)).

public enum MulOp: InternalOp {
  public static let kind = OpKind.mul
  public static let summary = "a * b, elementwise, same shapes (dropout's mask in training)"
  public static let arity = Arity.exactly(2)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try requireSame(inputs[0], inputs[1])
    return inputs[0]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes: Attributes) -> Double { Double(output.count) }
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node]
    // Only the data operand needs a gradient (the mask is an input): d(x*m)/dx = m.
    let g = try b.emit(.mul, [grad, n.inputs[1]], name: b.gradName(n.inputs[0]))
    b.accumulate(n.inputs[0], g)
  }
}

public enum ActivationGradOp: InternalOp {
  public static let kind = OpKind.activationGrad
  public static let summary = "gradient of an activation from its output"
  public static let arity = Arity.exactly(2)
  public static let parameters = [
    ParamSpec("act", .choice(["relu", "sigmoid", "tanh", "leaky_relu"])),
    ParamSpec("alpha", .float(min: 0, max: 1e6), default: .float(0.01)),
  ]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try requireSame(inputs[0], inputs[1])
    return inputs[0]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes: Attributes) -> Double { 2 * Double(output.count) }
}

public enum SoftmaxGradOp: InternalOp {
  public static let kind = OpKind.softmaxGrad
  public static let summary = "gradient of softmax from its output: y (dy - sum(dy y))"
  public static let arity = Arity.exactly(2)
  public static let parameters = [ParamSpec("axis", .axis)]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try requireSame(inputs[0], inputs[1])
    a["axis"] = .int(try canonicalAxis(a.int("axis"), rank: inputs[0].rank))
    return inputs[0]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes: Attributes) -> Double { 4 * Double(output.count) }
}

extension GradientBuilder {
  /// The gradient through an activation `act` (with `alpha`) whose output is `y`.
  mutating func throughActivation(_ act: OpKind, alpha: Double, output y: ValueID, grad: ValueID,
                                  name: String) throws(OpError) -> ValueID {
    try emit(.activationGrad, [grad, y], ["act": .string(act.rawValue), "alpha": .float(alpha)], name: name)
  }
}
