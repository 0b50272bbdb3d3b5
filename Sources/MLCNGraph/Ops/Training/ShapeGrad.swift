// The backward ops of pooling and concat.
//
//   %a.grad: f32[2, 6, 14, 14] = pool2d_grad(%b.grad, %a) {mode=max, kernel=[2, 2], stride=[2, 2], padding=[0, 0]}
//   %t.grad: f32[2, 2, 8] = slice(%m.grad) {axis=1, begin=0, end=2}
//   %x.grad: f32[2, 6, 5] = slice_grad(%s.grad) {axis=1, begin=1, end=4, size=6}
//
// Max pooling sends each window's gradient to its first largest in-bounds cell (PyTorch's
// choice on ties); average pooling spreads it evenly over the window's in-bounds cells.
// concat's gradient per operand is a slice of the result's; slice's gradient puts its
// result's gradient back in its range and zeros around it.

public enum Pool2DGradOp: InternalOp {
  public static let kind = OpKind.pool2dGrad
  public static let summary = "gradient of max or average pooling"
  public static let arity = Arity.exactly(2)
  public static let parameters = [
    ParamSpec("mode", .choice(["max", "avg"])),
    ParamSpec("kernel", .pair(min: 1)),
    ParamSpec("stride", .pair(min: 1)),
    ParamSpec("padding", .pair(min: 0)),
  ]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    var pool = a
    pool["mode"] = nil
    let y = try Pool2D.infer([inputs[1]], &pool)
    guard y == inputs[0] else { throw OpError("gradient \(inputs[0]) does not match pooling's output \(y)", operand: 0) }
    return inputs[1]
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    2 * Double(output.count * a.ints("kernel").reduce(1, *))
  }
}

public enum SliceGradOp: InternalOp {
  public static let kind = OpKind.sliceGrad
  public static let summary = "gradient of slice: its gradient at begin ..< end along an axis, zeros elsewhere"
  public static let arity = Arity.exactly(1)
  public static let parameters = [
    ParamSpec("axis", .axis),
    ParamSpec("begin", .int(min: 0)),
    ParamSpec("end", .int(min: 1)),
    ParamSpec("size", .int(min: 1)),
  ]
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let axis = try canonicalAxis(a.int("axis"), rank: inputs[0].rank)
    a["axis"] = .int(axis)
    var shape = inputs[0].shape
    guard a.int("end") - a.int("begin") == shape[axis], a.int("end") <= a.int("size") else {
      throw OpError("gradient \(inputs[0]) does not fit \(a.int("begin")) ..< \(a.int("end")) of an axis of \(a.int("size"))")
    }
    shape[axis] = a.int("size")
    return TensorType(shape)
  }
}
