// relu, sigmoid, tanh (unary) and add (binary): elementwise ops, result shaped as the input.
//
//   %r: f32[2, 4, 6, 6] = relu(%s)
//   %s: f32[2, 4, 6, 6] = add(%a, %b)

enum Unary {
  static func infer(_ inputs: [TensorType]) -> TensorType { inputs[0] }
}

public enum ReluOp: OpDefinition {
  public static let kind = OpKind.relu
  public static let summary = "max(x, 0), elementwise"
  public static let arity = Arity.exactly(1)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ i: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType { Unary.infer(i) }
}

public enum SigmoidOp: OpDefinition {
  public static let kind = OpKind.sigmoid
  public static let summary = "1 / (1 + exp(-x)), elementwise"
  public static let arity = Arity.exactly(1)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ i: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType { Unary.infer(i) }
}

public enum TanhOp: OpDefinition {
  public static let kind = OpKind.tanh
  public static let summary = "tanh(x), elementwise"
  public static let arity = Arity.exactly(1)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ i: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType { Unary.infer(i) }
}

public enum AddOp: OpDefinition {
  public static let kind = OpKind.add
  public static let summary = "a + b, elementwise, same shapes"
  public static let arity = Arity.exactly(2)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    guard inputs[0] == inputs[1] else {
      throw OpError("operands must have the same shape, got \(inputs[0]) and \(inputs[1])", operand: 1)
    }
    return inputs[0]
  }
}
