// dense: a fully connected layer, y = x W^T + b, with an optional fused activation.
//
//   %f: f32[2, 12] = dense(%e) {units=12, act=tanh, bias=true}
//
// x [N, In] -> [N, U]. Weight [U, In], bias [U].

public enum DenseOp: OpDefinition {
  public static let kind = OpKind.dense
  public static let summary = "fully connected layer y = x W^T + b"
  public static let arity = Arity.exactly(1)
  public static let parameters = [
    ParamSpec("units", .int(min: 1)),
    ParamSpec("act", .activation, default: .string("none")),
    ParamSpec("bias", .bool, default: .bool(true)),
  ]

  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let x = inputs[0]
    guard x.rank == 2 else {
      throw OpError("expects [N, features] (rank 2), got \(x); flatten it first", operand: 0)
    }
    return TensorType([x.shape[0], a.int("units")])
  }

  public static let example: OpExample? = OpExample("[N, 6]", "y = dense(x, units=4, act=sigmoid)")

  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    let u = a.int("units"), n = inputs[0].shape[1]
    let w = WeightSpec("weight", [u, n], .glorotUniform(fanIn: n, fanOut: u))
    return a.bool("bias") ? [w, WeightSpec("bias", [u], .zeros)] : [w]
  }

  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    2 * Double(output.count) * Double(inputs[0].shape[1])
  }
}

extension DenseOp {
  /// Through the fused activation (from the output), then dx = dz W, dW = dz^T x, db = sum dz.
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node], x = n.inputs[0], params = b.graph.parameters(of: node)
    var dz = grad
    if let act = n.attributes.activation {
      dz = try b.throughActivation(act, alpha: 0.01, output: node, grad: grad, name: b.unique(n.name + ".dz"))
    }
    if b.needsGradient(x) {
      let dx = try b.emit(.denseGradInput, [dz], params: [params[0]],
                          ["features": .int(b.graph.type(of: x).shape[1])], name: b.gradName(x))
      b.accumulate(x, dx)
    }
    let dw = try b.emit(.denseGradParams, [dz, x], ["bias": .bool(params.count > 1)], name: b.gradName(params[0]))
    try b.setParameterGradient(params[0], dw)
    if params.count > 1 { try b.setParameterGradient(params[1], ValueID(dw.index, result: 1)) }
  }
}
