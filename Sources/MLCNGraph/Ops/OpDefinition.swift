// What every op declares once: a summary, its operands, its parameters with their kinds
// and defaults, how it infers its result type (canonicalising its attributes on the way),
// and the weights it reads. The IR builder, verifier and printer all work from this.

/// The kind of value a parameter accepts in source, and how it is stored.
public enum ParamKind: Sendable, Equatable {
  /// A positive INT (or >= `min`).
  case int(min: Int)
  /// An INT or `[h, w]`, each >= `min`; stored as `.ints([h, w])`.
  case pair(min: Int)
  /// Like `.pair(min: 0)`, or `same`; stored as `.ints` or `.string("same")` until resolved.
  case padding
  /// `none`, `relu`, `sigmoid` or `tanh`; stored as `.string`.
  case activation
  /// `true` or `false`.
  case bool
  /// An INT axis, negative counting from the end; stored canonical (non-negative).
  case axis
  /// A list of INT, positive or one -1.
  case shape

  public var expectation: String {
    switch self {
    case .int(let m): m <= 0 ? "an integer >= \(m)" : "a positive integer"
    case .pair(let m): m <= 0 ? "an integer >= \(m) or [h, w]" : "a positive integer or [h, w]"
    case .padding: "a non-negative integer, [h, w] or same"
    case .activation: "one of none, relu, sigmoid, tanh"
    case .bool: "true or false"
    case .axis: "an integer axis"
    case .shape: "a list of positive integers with at most one -1"
    }
  }
}

public struct ParamSpec: Sendable {
  public var name: String
  public var kind: ParamKind
  public var defaultValue: AttrValue?
  /// Required unless it has a default or the op fills it in itself.
  public var required: Bool
  public init(_ name: String, _ kind: ParamKind, default defaultValue: AttrValue? = nil, required: Bool? = nil) {
    self.name = name
    self.kind = kind
    self.defaultValue = defaultValue
    self.required = required ?? (defaultValue == nil)
  }
}

/// How many tensor operands an op takes.
public enum Arity: Sendable, Equatable {
  case exactly(Int)
  case atLeast(Int)

  public func accepts(_ n: Int) -> Bool {
    switch self { case .exactly(let k): n == k; case .atLeast(let k): n >= k }
  }
  public var description: String {
    switch self {
    case .exactly(let k): k == 1 ? "1 operand" : "\(k) operands"
    case .atLeast(let k): k == 1 ? "at least 1 operand" : "at least \(k) operands"
    }
  }
}

/// A type error found while inferring an op's result; `parameter` or `operand` says where.
public struct OpError: Error, Sendable {
  public var message: String
  public var parameter: String?
  public var operand: Int?
  public init(_ message: String, parameter: String? = nil, operand: Int? = nil) {
    self.message = message
    self.parameter = parameter
    self.operand = operand
  }
}

public struct WeightSpec: Sendable, Equatable {
  public var suffix: String  // "weight" or "bias"
  public var shape: [Int]
  public init(_ suffix: String, _ shape: [Int]) { self.suffix = suffix; self.shape = shape }
}

public protocol OpDefinition: Sendable {
  static var kind: OpKind { get }
  /// One line, shown by `mlcnc ops` and in unknown-op errors.
  static var summary: String { get }
  static var arity: Arity { get }
  static var parameters: [ParamSpec] { get }
  /// Infers the result type; may canonicalise attributes (resolve `same`, negative axes,
  /// -1 in shapes) so the IR holds one spelling of each meaning. Must be idempotent.
  static func infer(_ inputs: [TensorType], _ attributes: inout Attributes) throws(OpError) -> TensorType
  static func weights(inputs: [TensorType], attributes: Attributes) -> [WeightSpec]
}

extension OpDefinition {
  public static func weights(inputs: [TensorType], attributes: Attributes) -> [WeightSpec] { [] }
}

// MARK: - Helpers shared by the op files

/// Output extent of a sliding window: `floor((size + 2 pad - kernel) / stride) + 1`.
func windowExtent(_ size: Int, kernel: Int, stride: Int, pad: Int) -> Int {
  let span = size + 2 * pad - kernel
  return span < 0 ? 0 : span / stride + 1
}

func requireRank(_ t: TensorType, _ rank: Int, _ what: String, operand: Int = 0) throws(OpError) {
  guard t.rank == rank else {
    throw OpError("expects \(what) (rank \(rank)), got \(t)", operand: operand)
  }
}

/// Canonicalises an axis against a rank; throws naming the `axis` parameter.
func canonicalAxis(_ axis: Int, rank: Int) throws(OpError) -> Int {
  let a = axis < 0 ? axis + rank : axis
  guard a >= 0 && a < rank else {
    throw OpError("axis \(axis) is out of range for rank \(rank)", parameter: "axis")
  }
  return a
}

/// Output spatial size of a 2-D window op on `[N, C, H, W]`; resolves `padding=same`.
func windowOutput(_ x: TensorType, _ a: inout Attributes, sameAllowed: Bool) throws(OpError) -> (Int, Int) {
  let k = a.ints("kernel"), s = a.ints("stride")
  if case .string("same") = a["padding"] {
    guard sameAllowed else { throw OpError("padding=same is not supported here", parameter: "padding") }
    guard s == [1, 1] else { throw OpError("padding=same needs stride 1", parameter: "padding") }
    guard k[0] % 2 == 1 && k[1] % 2 == 1 else {
      throw OpError("padding=same needs an odd kernel size, got \(k[0])x\(k[1])", parameter: "padding")
    }
    a["padding"] = .ints([(k[0] - 1) / 2, (k[1] - 1) / 2])
  }
  let p = a.ints("padding")
  let h = windowExtent(x.shape[2], kernel: k[0], stride: s[0], pad: p[0])
  let w = windowExtent(x.shape[3], kernel: k[1], stride: s[1], pad: p[1])
  guard h >= 1 && w >= 1 else {
    throw OpError("kernel \(k[0])x\(k[1]) with padding \(p[0])x\(p[1]) does not fit the \(x.shape[2])x\(x.shape[3]) input",
                  parameter: "kernel")
  }
  return (h, w)
}
