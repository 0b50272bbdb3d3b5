// The backward ops of the capsule ops.
//
//   %q.grad: f32[2, 18, 8] = squash_grad(%z.grad, %q)
//   %w.grad: f32[2, 10, 4] = length_grad(%y.grad, %w)
//   %p.dconv: f32[2, 24, 6, 6] = primary_caps_grad(%p.grad, %p.conv) {caps=4, dim=6}
//   %p.grad: f32[2, 36, 4], %v.weight.grad: f32[36, 3, 5, 4] = capsule_grad(%v.grad, %p, %v.predictions, %v.weight) {...}
//
// squash(s) = s k(q), q = |s|^2, k(q) = q / ((1 + q) sqrt(q + e)):
// ds = k dy + 2 s (s . dy) k'(q), k'(q) = (2 (q + e) - q (1 + q)) / (2 (1 + q)^2 (q + e)^1.5).
// length: dx = dy x / |x| (0 where |x| = 0). primary_caps_grad: squash's gradient on the
// regrouped convolution, regrouped back to the convolution's layout. capsule_grad
// replays the routing (keeping every iteration's couplings and outputs) and then runs it
// backwards through all iterations: the softmax of the couplings, the weighted sums, the
// squashes and the agreement updates; from the predictions' gradient it forms dx and dW.

public enum SquashGradOp: InternalOp {
  public static let kind = OpKind.squashGrad
  public static let summary = "gradient of squash"
  public static let arity = Arity.exactly(2)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try requireSame(inputs[0], inputs[1])
    return inputs[1]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes: Attributes) -> Double { 8 * Double(output.count) }
}

public enum LengthGradOp: InternalOp {
  public static let kind = OpKind.lengthGrad
  public static let summary = "gradient of length"
  public static let arity = Arity.exactly(2)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    guard inputs[1].rank >= 2, inputs[0].shape == Array(inputs[1].shape.dropLast()) else {
      throw OpError("gradient \(inputs[0]) does not match the length of \(inputs[1])", operand: 0)
    }
    return inputs[1]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes: Attributes) -> Double { 4 * Double(output.count) }
}

public enum PrimaryCapsGradOp: InternalOp {
  public static let kind = OpKind.primaryCapsGrad
  public static let summary = "gradient of primary capsules' regrouping and squash, in the convolution's layout"
  public static let arity = Arity.exactly(2)
  public static let parameters = [ParamSpec("caps", .int(min: 1)), ParamSpec("dim", .int(min: 1))]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let dy = inputs[0], conv = inputs[1]
    try requireRank(conv, 4, "a convolution [N, C*D, H, W]", operand: 1)
    let c = a.int("caps"), d = a.int("dim")
    guard conv.shape[1] == c * d, dy.shape == [conv.shape[0], c * conv.shape[2] * conv.shape[3], d] else {
      throw OpError("gradient \(dy) does not match primary capsules of \(conv)", operand: 0)
    }
    return conv
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes: Attributes) -> Double { 8 * Double(output.count) }
}

public enum CapsuleGradOp: InternalOp {
  public static let kind = OpKind.capsuleGrad
  public static let summary = "gradient of a capsule layer through every routing iteration"
  public static let arity = Arity.exactly(3)
  public static let parameters = CapsuleOp.parameters
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let dy = inputs[0], x = inputs[1], u = inputs[2]
    try requireRank(x, 3, "capsules [N, I, D]", operand: 1)
    let j = a.int("caps"), d = a.int("dim")
    guard dy.shape == [x.shape[0], j, d], u.shape == [x.shape[0], x.shape[1], j, d] else {
      throw OpError("gradient \(dy) or predictions \(u) do not match a capsule layer on \(x)", operand: 0)
    }
    return x
  }
  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    let x = inputs[1].shape
    return [readOnly("weight", [x[1], a.int("caps"), a.int("dim"), x[2]])]
  }
  public static func extraResults(inputs: [TensorType], attributes a: Attributes) -> [ResultSpec] {
    let x = inputs[1].shape
    return [ResultSpec("weight", TensorType([x[1], a.int("caps"), a.int("dim"), x[2]]))]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    3 * CapsuleOp.work(inputs: [inputs[1]], output: inputs[0], attributes: a)
  }
}
