// The loss (DESIGN.md section 7) and the optimizer updates, as ops of the training graph.
//
//   %loss: f32[2], %loss.grad: f32[2, 10] = loss(%y, %labels) {kind=margin, scale=0.5}
//   %a.weight.next: f32[6, 2, 3, 3], %a.weight.next.momentum_buffer: f32[6, 2, 3, 3]
//       = sgd_update(%a.weight.grad, %a.weight, %a.weight.momentum_buffer) {lr=0.1, momentum=0.9}
//   %a.weight.next: ..., %a.weight.next.exp_avg: ..., %a.weight.next.exp_avg_sq: ...
//       = adam_update(%a.weight.grad, %a.weight, %a.weight.exp_avg, %a.weight.exp_avg_sq, %optimizer.step) {...}
//
// loss: per-sample losses [N] (the host averages them) and, as extra result, the gradient
// of the batch's mean loss: the per-sample gradient times `scale` (1 / the batch).
// margin on lengths v: T max(0, 0.9 - v)^2 + 0.5 (1 - T) max(0, v - 0.1)^2 summed over
// classes; xent on logits z: -log softmax(z)[label]. Labels are class indices held as
// f32 (exact for any class count a network has).
// sgd_update as torch.optim.SGD: buf = momentum buf + g (buf = g on the first step, where
// buf is zero), w -= lr buf. adam_update as torch.optim.Adam: m = b1 m + (1 - b1) g,
// v = b2 v + (1 - b2) g^2, w -= step_size m / (sqrt(v) / bc2_sqrt + eps), with
// optimizer.step = [lr / (1 - b1^t), sqrt(1 - b2^t)] written by the host each step.

public enum LossOp: InternalOp {
  public static let kind = OpKind.loss
  public static let summary = "per-sample loss (margin or cross-entropy) and its scaled gradient"
  public static let arity = Arity.exactly(2)
  public static let parameters = [
    ParamSpec("kind", .choice(["margin", "xent"])),
    ParamSpec("scale", .float(min: 0, max: 1e30)),
  ]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try requireRank(inputs[0], 2, "[N, classes]")
    guard inputs[1].shape == [inputs[0].shape[0]] else { throw OpError("labels must be [N], got \(inputs[1])", operand: 1) }
    return TensorType([inputs[0].shape[0]])
  }
  public static func extraResults(inputs: [TensorType], attributes a: Attributes) -> [ResultSpec] {
    [ResultSpec("grad", inputs[0])]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double { 6 * Double(inputs[0].count) }
}

public enum SGDUpdateOp: InternalOp {
  public static let kind = OpKind.sgdUpdate
  public static let summary = "one step of SGD with momentum (PyTorch semantics)"
  public static let arity = Arity.exactly(1)
  public static let parameters = [
    ParamSpec("lr", .float(min: 0, max: 1e30)),
    ParamSpec("momentum", .float(min: 0, max: 1e30)),
  ]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType { inputs[0] }
  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    let w = readOnly("weight", inputs[0].shape)
    return a.float("momentum") > 0 ? [w, readOnly("momentum_buffer", inputs[0].shape)] : [w]
  }
  public static func extraResults(inputs: [TensorType], attributes a: Attributes) -> [ResultSpec] {
    a.float("momentum") > 0 ? [ResultSpec("momentum_buffer", inputs[0])] : []
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double { 3 * Double(output.count) }
}

public enum AdamUpdateOp: InternalOp {
  public static let kind = OpKind.adamUpdate
  public static let summary = "one step of Adam (PyTorch semantics)"
  public static let arity = Arity.exactly(1)
  public static let parameters = [
    ParamSpec("beta1", .float(min: 0, max: 1)),
    ParamSpec("beta2", .float(min: 0, max: 1)),
    ParamSpec("eps", .float(min: 0, max: 1)),
  ]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType { inputs[0] }
  public static func weights(inputs: [TensorType], attributes a: Attributes) -> [WeightSpec] {
    [readOnly("weight", inputs[0].shape), readOnly("exp_avg", inputs[0].shape), readOnly("exp_avg_sq", inputs[0].shape),
     readOnly("step", [2])]
  }
  public static func extraResults(inputs: [TensorType], attributes a: Attributes) -> [ResultSpec] {
    [ResultSpec("exp_avg", inputs[0]), ResultSpec("exp_avg_sq", inputs[0])]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double { 10 * Double(output.count) }
}
