// The table of elementwise expressions, in OpenCL C without spaces so each fits in one
// `-D` build option: one row per activation op (an expression of `x` for the standalone
// op, of `v` when fused into conv2d/dense) and per binary op (of `a` and `b`).

import MLCNGraph

enum Expressions {
  /// The activation `op` with attributes `a` applied to `v`.
  static func activation(_ op: OpKind, _ a: Attributes, of v: String) -> String {
    switch op {
    case .relu: "fmax(\(v),0.0f)"
    case .sigmoid: "1.0f/(1.0f+exp(-\(v)))"
    case .tanh: "tanh(\(v))"
    case .leakyRelu: "(\(v)>0.0f?\(v):\(Float(a.float("alpha")))f*\(v))"
    default: preconditionFailure("\(op.rawValue) is not an activation")
    }
  }

  static func binary(_ op: OpKind) -> String? {
    switch op {
    case .add: "a+b"
    case .mul: "a*b"
    default: nil
    }
  }

  /// The `-DACT_EXPR=...` option for a fused activation (`act=`, with the op's defaults).
  static func fusedActivation(_ act: OpKind?) -> String {
    guard let act else { return "-DACT_EXPR=v" }
    return "-DACT_EXPR=" + activation(act, act.defaultAttributes, of: "v")
  }
}
