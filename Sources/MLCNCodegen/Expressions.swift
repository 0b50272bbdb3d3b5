// The table of elementwise expressions, in OpenCL C without spaces so each fits in one
// `-D` build option. Activations are expressions of `v` (fused into conv2d/dense) or `x`
// (the standalone op); binary ops of `a` and `b`.

import MLCNGraph

enum Expressions {
  static func activation(_ act: Activation, of variable: String) -> String {
    switch act {
    case .none: variable
    case .relu: "fmax(\(variable),0.0f)"
    case .sigmoid: "1.0f/(1.0f+exp(-\(variable)))"
    case .tanh: "tanh(\(variable))"
    }
  }

  static func binary(_ op: OpKind) -> String? {
    switch op {
    case .add: "a+b"
    default: nil
    }
  }

  /// The `-DACT_EXPR=...` option for a fused activation.
  static func fusedActivation(_ act: Activation) -> String { "-DACT_EXPR=" + activation(act, of: "v") }
}
