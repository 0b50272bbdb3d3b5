// slice: the elements begin ..< end of one axis (all of the others). Layer-wise plans use
// it to hand each part of a split op what it reads (a range of channels, rows with their
// halo); it is also an op of the language.
//
//   %s: f32[2, 3, 5] = slice(%x) {axis=1, begin=1, end=4}
//
// The axis is stored non-negative; the batch axis cannot be sliced in source (the plans
// slice samples on the host or with graph-internal nodes of the same kind).

public enum SliceOp: OpDefinition {
  public static let kind = OpKind.slice
  public static let summary = "elements begin..<end along one axis"
  public static let arity = Arity.exactly(1)
  public static let parameters = [ParamSpec("axis", .axis), ParamSpec("begin", .int(min: 0)), ParamSpec("end", .int(min: 1))]
  public static let example: OpExample? = OpExample("[N, 6, 5]", "a = tanh(x)\ny = slice(a, axis=1, begin=1, end=4)")

  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let x = inputs[0]
    let axis = try canonicalAxis(a.int("axis"), rank: x.rank)
    a["axis"] = .int(axis)
    return try slicedType(x, axis: axis, begin: a.int("begin"), end: a.int("end"))
  }

  /// Samples are cut on the host, or by the split plans' own nodes (a batch split's parts).
  public static func checkSource(_ a: Attributes) throws(OpError) {
    guard a.int("axis") != 0 else { throw OpError("cannot slice along axis 0, the batch", parameter: "axis") }
  }

  /// The type of `x` cut to begin ..< end along `axis` (any axis, the batch included).
  public static func slicedType(_ x: TensorType, axis: Int, begin: Int, end: Int) throws(OpError) -> TensorType {
    guard begin >= 0, begin < end, end <= x.shape[axis] else {
      throw OpError("range \(begin)..<\(end) is not inside axis \(axis) of \(x) (size \(x.shape[axis]))", parameter: "end")
    }
    var shape = x.shape
    shape[axis] = end - begin
    return TensorType(shape, x.dtype)
  }
}

extension SliceOp {
  /// The gradient of a slice: the result's gradient in its range, zeros elsewhere.
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node], x = n.inputs[0], a = n.attributes
    guard b.needsGradient(x) else { return }
    let dx = try b.emit(.sliceGrad, [grad], ["axis": a["axis"]!, "begin": a["begin"]!, "end": a["end"]!,
                                             "size": .int(b.graph.type(of: x).shape[a.int("axis")])],
                        name: b.gradName(x))
    b.accumulate(x, dx)
  }
}
