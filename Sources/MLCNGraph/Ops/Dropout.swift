// dropout: zero each element with probability p and scale the rest by 1 / (1 - p) in
// training; the identity at inference, so there it is a view of its operand.
//
//   %d: f32[2, 5, 9, 11] = dropout(%c) {p=0.25}

public enum DropoutOp: OpDefinition {
  public static let kind = OpKind.dropout
  public static let summary = "random zeroing in training, identity at inference"
  public static let arity = Arity.exactly(1)
  public static let parameters = [ParamSpec("p", .float(min: 0, max: 1), default: .float(0.5))]
  public static let isView = true
  public static let example: OpExample? = OpExample("[N, 3, 5]", "a = tanh(x)\ny = dropout(a, p=0.25)")
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType { inputs[0] }
}
