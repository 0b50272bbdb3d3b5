// softmax: exp(x - max) / sum exp(x - max) along one axis (numerically stable).
//
//   %y: f32[2, 5] = softmax(%g) {axis=1}
//
// The axis is stored non-negative.

public enum SoftmaxOp: OpDefinition {
  public static let kind = OpKind.softmax
  public static let summary = "softmax along an axis (default the last)"
  public static let arity = Arity.exactly(1)
  public static let parameters = [ParamSpec("axis", .axis, default: .int(-1))]
  public static let example: OpExample? = OpExample("[N, 3, 5]", "y = softmax(x, axis=1)")
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    5 * Double(output.count)
  }
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    a["axis"] = .int(try canonicalAxis(a.int("axis"), rank: inputs[0].rank))
    return inputs[0]
  }
}

extension SoftmaxOp {
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node]
    let dx = try b.emit(.softmaxGrad, [grad, node], ["axis": n.attributes["axis"]!], name: b.gradName(n.inputs[0]))
    b.accumulate(n.inputs[0], dx)
  }
}
