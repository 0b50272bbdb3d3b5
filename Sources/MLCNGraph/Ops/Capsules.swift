// squash, length, primary_caps and capsule: the capsule-network ops.
//
//   %z: f32[2, 18, 8] = squash(%q)
//   %y: f32[2, 10] = length(%v)
//   %p: f32[2, 288, 6] = primary_caps(%h) {caps=4, dim=6, kernel=[4, 4], stride=[2, 2], padding=[0, 0]}
//   %v: f32[2, 3, 5] = capsule(%p) {caps=3, dim=5, routing=3}
//
// squash(s) = s * (|s|^2 / (1 + |s|^2)) / sqrt(|s|^2 + 1e-7) over the last axis.
// primary_caps is a conv2d with caps*dim filters whose output [N, C*D, H, W] is regrouped
// so capsule (c*H + h)*W + w holds channels c*D ..< (c+1)*D, then squashed.
// capsule predicts u[n,i,j] = W[i,j] x[n,i] and routes by agreement `routing` times.

public enum SquashOp: OpDefinition {
  public static let kind = OpKind.squash
  public static let summary = "capsule squashing nonlinearity over the last axis"
  public static let arity = Arity.exactly(1)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    guard inputs[0].rank >= 2 else { throw OpError("expects [N, ..., D], got \(inputs[0])", operand: 0) }
    return inputs[0]
  }
}

public enum LengthOp: OpDefinition {
  public static let kind = OpKind.length
  public static let summary = "Euclidean length over the last axis"
  public static let arity = Arity.exactly(1)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    guard inputs[0].rank >= 2 else { throw OpError("expects [N, ..., D], got \(inputs[0])", operand: 0) }
    return TensorType(Array(inputs[0].shape.dropLast()))
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

  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    let k = a.ints("kernel"), f = a.int("caps") * a.int("dim")
    return [WeightSpec("weight", [f, inputs[0].shape[1], k[0], k[1]]), WeightSpec("bias", [f])]
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

  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    let x = inputs[0]
    return [WeightSpec("weight", [x.shape[1], a.int("caps"), a.int("dim"), x.shape[2]])]
  }
}
