// What the internal ops of training (backward, loss and update ops) share: they are made
// by the training passes, never written in source, and have no example network (their
// numerics are checked through `mlcnc grad` and `mlcnc train` against PyTorch).

public protocol InternalOp: OpDefinition {}

extension InternalOp {
  public static var isInternal: Bool { true }
  public static var example: OpExample? { nil }
}

/// Checks that two operands have the same type.
func requireSame(_ a: TensorType, _ b: TensorType, operand: Int = 1) throws(OpError) {
  guard a == b else { throw OpError("operands must have the same shape, got \(a) and \(b)", operand: operand) }
}

/// A parameter that a backward or update op reads: its initializer is never used (the
/// forward op or the update pass made the parameter).
func readOnly(_ suffix: String, _ shape: [Int]) -> WeightSpec { WeightSpec(suffix, shape, .zeros) }
