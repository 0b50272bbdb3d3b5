// concat: joins tensors along one axis; lane lists expand to their lanes in order.
//
//   %v: f32[2, 10, 4] = concat(%L.0.c, %L.1.c, %L.2.c, %L.3.c) {axis=2}
//
// All other dimensions must agree. The axis is stored non-negative.

public enum ConcatOp: OpDefinition {
  public static let kind = OpKind.concat
  public static let summary = "join tensors along an axis"
  public static let arity = Arity.atLeast(1)
  public static let parameters = [ParamSpec("axis", .axis, default: .int(-1))]
  public static let example: OpExample? = OpExample("[N, 3, 5]", "a = tanh(x)\ny = concat(x, a, x, axis=1)")
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let first = inputs[0]
    let axis = try canonicalAxis(a.int("axis"), rank: first.rank)
    a["axis"] = .int(axis)
    var shape = first.shape
    for (i, t) in inputs.enumerated().dropFirst() {
      var other = t.shape
      guard other.count == shape.count else {
        throw OpError("operand \(i + 1) has rank \(t.rank), operand 1 has rank \(first.rank)", operand: i)
      }
      other[axis] = shape[axis]
      guard other == shape else {
        throw OpError("operand \(i + 1) is \(t), which does not match \(first) outside axis \(axis)", operand: i)
      }
      shape[axis] += t.shape[axis]
    }
    return TensorType(shape)
  }

  /// Samples are joined on the host, or by the split plans' own nodes (a batch split's parts).
  public static func checkSource(_ a: Attributes) throws(OpError) {
    guard a.int("axis") != 0 else { throw OpError("cannot concatenate along axis 0, the batch", parameter: "axis") }
  }
}

extension ConcatOp {
  /// Each operand's gradient is its slice of the result's gradient.
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node], axis = n.attributes.int("axis")
    var start = 0
    for x in n.inputs {
      let length = b.graph.type(of: x).shape[axis]
      if b.needsGradient(x) {
        let dx = try b.emit(.slice, [grad], ["axis": .int(axis), "begin": .int(start), "end": .int(start + length)],
                            name: b.gradName(x))
        b.accumulate(x, dx)
      }
      start += length
    }
  }
}
