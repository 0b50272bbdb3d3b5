// The closed set of operators of the IR (DESIGN.md section 3). Each case maps to the one
// file that defines it; `OpKind.allCases` is what the completeness test walks.

public enum OpKind: String, CaseIterable, Hashable, Sendable {
  case input
  case conv2d, maxpool2d, avgpool2d, dense
  case flatten, reshape
  case relu, sigmoid, tanh, softmax
  case add, concat
  case squash, length
  case primaryCaps = "primary_caps"
  case capsule

  public var definition: any OpDefinition.Type {
    switch self {
    case .input: InputOp.self
    case .conv2d: Conv2DOp.self
    case .maxpool2d: MaxPool2DOp.self
    case .avgpool2d: AvgPool2DOp.self
    case .dense: DenseOp.self
    case .flatten: FlattenOp.self
    case .reshape: ReshapeOp.self
    case .relu: ReluOp.self
    case .sigmoid: SigmoidOp.self
    case .tanh: TanhOp.self
    case .softmax: SoftmaxOp.self
    case .add: AddOp.self
    case .concat: ConcatOp.self
    case .squash: SquashOp.self
    case .length: LengthOp.self
    case .primaryCaps: PrimaryCapsOp.self
    case .capsule: CapsuleOp.self
    }
  }

  /// Ops a user may write in source (`input` is a statement, not an op call).
  public static var callable: [OpKind] { allCases.filter { $0 != .input } }

  /// Ops that only reinterpret their operand's buffer (a view, no kernel).
  public var isView: Bool { self == .flatten || self == .reshape }

  /// Elementwise activation ops and the activation each computes.
  public var activation: Activation? {
    switch self { case .relu: .relu; case .sigmoid: .sigmoid; case .tanh: .tanh; default: nil }
  }
}

/// A graph input. Not callable from source; its type comes from the `input` statement.
public enum InputOp: OpDefinition {
  public static let kind = OpKind.input
  public static let summary = "a graph input"
  public static let arity = Arity.exactly(0)
  public static let parameters: [ParamSpec] = []
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    throw OpError("an input node's type comes from its input statement")
  }
}
