// relu, sigmoid, tanh, leaky_relu (activations) and add: elementwise ops, result shaped
// as the input. Activations are also accepted as `act=` on conv2d and dense.
//
//   %r: f32[2, 4, 6, 6] = relu(%s)
//   %l: f32[2, 4, 6, 6] = leaky_relu(%s) {alpha=0.3}
//   %s: f32[2, 4, 6, 6] = add(%a, %b)

/// What the activation ops share: one operand, same shape, a few flops per element.
public protocol ActivationOp: OpDefinition {
  static var flopsPerElement: Double { get }
}

extension ActivationOp {
  public static var arity: Arity { .exactly(1) }
  public static var isActivation: Bool { true }
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType { inputs[0] }
  public static func work(inputs: [TensorType], output: TensorType, attributes: Attributes) -> Double {
    flopsPerElement * Double(output.count)
  }
}

public enum ReluOp: ActivationOp {
  public static let kind = OpKind.relu
  public static let summary = "max(x, 0), elementwise"
  public static let parameters: [ParamSpec] = []
  public static let flopsPerElement = 1.0
  public static let example: OpExample? = OpExample("[N, 3, 5]", "a = reshape(x, shape=[15])\nb = dense(a, units=6)\nc = relu(b)\ny = add(c, b)")
}

public enum SigmoidOp: ActivationOp {
  public static let kind = OpKind.sigmoid
  public static let summary = "1 / (1 + exp(-x)), elementwise"
  public static let parameters: [ParamSpec] = []
  public static let flopsPerElement = 4.0
  public static let example: OpExample? = OpExample("[N, 3, 5]", "y = sigmoid(x)")
}

public enum TanhOp: ActivationOp {
  public static let kind = OpKind.tanh
  public static let summary = "tanh(x), elementwise"
  public static let parameters: [ParamSpec] = []
  public static let flopsPerElement = 4.0
  public static let example: OpExample? = OpExample("[N, 3, 5]", "y = tanh(x)")
}

public enum LeakyReluOp: ActivationOp {
  public static let kind = OpKind.leakyRelu
  public static let summary = "x where x > 0, else alpha * x, elementwise"
  public static let parameters = [ParamSpec("alpha", .float(min: 0, max: 1e6), default: .float(0.01))]
  public static let flopsPerElement = 2.0
  public static let example: OpExample? = OpExample("[N, 2, 5, 5]",
    "a = conv2d(x, filters=3, kernel=3, act=leaky_relu)\nb = flatten(a)\ny = leaky_relu(b, alpha=0.3)")
}

public enum AddOp: OpDefinition {
  public static let kind = OpKind.add
  public static let summary = "a + b, elementwise, same shapes"
  public static let arity = Arity.exactly(2)
  public static let parameters: [ParamSpec] = []
  public static let example: OpExample? = OpExample("[N, 3, 5]", "a = tanh(x)\ny = add(x, a)")
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    guard inputs[0] == inputs[1] else {
      throw OpError("operands must have the same shape, got \(inputs[0]) and \(inputs[1])", operand: 1)
    }
    return inputs[0]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes: Attributes) -> Double { Double(output.count) }
}

extension ActivationOp {
  /// The activation's derivative from its output.
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node]
    let alpha = n.attributes["alpha"].map { _ in n.attributes.float("alpha") } ?? 0.01
    let dx = try b.throughActivation(kind, alpha: alpha, output: node, grad: grad, name: b.gradName(n.inputs[0]))
    b.accumulate(n.inputs[0], dx)
  }
}

extension AddOp {
  /// Both operands receive the gradient unchanged (twice when both are the same value).
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    for x in b.graph[node].inputs { b.accumulate(x, grad) }
  }
}
