// flatten and reshape: views that give a tensor's elements a new shape (no data moves).
//
//   %e: f32[2, 72] = flatten(%d)
//   %q: f32[2, 18, 8] = reshape(%r) {shape=[18, 8]}
//
// reshape's shape excludes the batch axis; one -1 is inferred (resolved in the IR).

import MLCNBase

public enum FlattenOp: OpDefinition {
  public static let kind = OpKind.flatten
  public static let summary = "[N, ...] -> [N, prod(...)]"
  public static let arity = Arity.exactly(1)
  public static let parameters: [ParamSpec] = []
  public static let isView = true
  public static let example: OpExample? = OpExample("[N, 2, 3, 4]", "a = relu(x)\ny = flatten(a)")
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let x = inputs[0]
    guard x.rank >= 1 else { throw OpError("expects a tensor with a batch axis", operand: 0) }
    return TensorType([x.shape[0], x.shape.dropFirst().reduce(1, *)])
  }
}

public enum ReshapeOp: OpDefinition {
  public static let kind = OpKind.reshape
  public static let summary = "new shape for the same elements (batch axis kept)"
  public static let arity = Arity.exactly(1)
  public static let parameters = [ParamSpec("shape", .shape)]
  public static let isView = true
  public static let example: OpExample? = OpExample("[N, 2, 3, 4]", "a = tanh(x)\ny = reshape(a, shape=[4, -1])")

  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let x = inputs[0]
    var shape = a.ints("shape")
    let per = x.shape.dropFirst().reduce(1, *)
    guard let known = checkedProduct(shape.filter { $0 != -1 }) else {
      throw OpError("shape \(a.ints("shape")) has too many elements", parameter: "shape")
    }
    if let i = shape.firstIndex(of: -1) {
      guard known > 0, per % known == 0 else {
        throw OpError("cannot reshape \(x) to [N, \(a.ints("shape").map(String.init).joined(separator: ", "))]: \(per) elements per sample are not a multiple of \(known)",
                      parameter: "shape")
      }
      shape[i] = per / known
    }
    guard checkedProduct(shape) == per else {
      throw OpError("cannot reshape \(x) to [N, \(shape.map(String.init).joined(separator: ", "))]: \(per) elements per sample, not \(shape.reduce(1, *))",
                    parameter: "shape")
    }
    a["shape"] = .ints(shape)
    return TensorType([x.shape[0]] + shape)
  }
}

/// flatten and reshape: the gradient is the result's gradient in the operand's shape (a view).
func viewGradient(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
  let x = b.graph[node].inputs[0]
  let dx = try b.emit(.reshape, [grad], ["shape": .ints(Array(b.graph.type(of: x).shape.dropFirst()))], name: b.gradName(x))
  b.accumulate(x, dx)
}

extension FlattenOp {
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    try viewGradient(node, grad, &b)
  }
}

extension ReshapeOp {
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    try viewGradient(node, grad, &b)
  }
}
