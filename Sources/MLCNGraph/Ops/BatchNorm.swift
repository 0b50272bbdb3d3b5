// batchnorm: normalisation over axis 1 (channels), as PyTorch's BatchNorm1d/2d. At
// inference: (x - running_mean) / sqrt(running_var + eps) * weight + bias.
//
//   %b: f32[2, 5, 9, 11] = batchnorm(%a, %b.weight, %b.bias, %b.running_mean, %b.running_var) {eps=1e-05, momentum=0.1}
//
// x [N, C, ...]; every parameter is [C]. Training (batch statistics, running-statistic
// updates with `momentum`) comes with the training pipeline.

public enum BatchNormOp: OpDefinition {
  public static let kind = OpKind.batchnorm
  public static let summary = "batch normalisation over channels (axis 1), inference form"
  public static let arity = Arity.exactly(1)
  public static let parameters = [
    ParamSpec("eps", .float(min: 0, max: 1), default: .float(1e-5)),
    ParamSpec("momentum", .float(min: 0, max: 1.000001), default: .float(0.1)),
  ]
  public static let example: OpExample? = OpExample("[N, 3, 4, 5]", "a = batchnorm(x)\nb = flatten(a)\nc = dense(b, units=4)\ny = batchnorm(c, eps=0.001)")

  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    guard inputs[0].rank >= 2 else { throw OpError("expects [N, C, ...], got \(inputs[0])", operand: 0) }
    return inputs[0]
  }

  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    let c = [inputs[0].shape[1]]
    return [WeightSpec("weight", c, .ones), WeightSpec("bias", c, .zeros),
            WeightSpec("running_mean", c, .zeros, trainable: false), WeightSpec("running_var", c, .ones, trainable: false)]
  }

  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    2 * Double(output.count)
  }
}
