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
