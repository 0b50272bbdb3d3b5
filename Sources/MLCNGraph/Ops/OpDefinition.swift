// What every op declares once, in its own file: a summary, its operands, its attributes
// with their kinds and defaults, how it infers its result type (canonicalising its
// attributes on the way), the parameters (weights) it reads with their initializers, the
// named intermediates it exposes as extra results, its cost in flops and bytes, and a
// small example network. The IR builder, verifier, printer, cost model, weight
// initialisation and the op coverage test all work from this; nothing else knows an op.

import MLCNBase

/// The kind of value a parameter accepts in source, and how it is stored.
public enum ParamKind: Sendable, Equatable {
  /// A positive INT (or >= `min`).
  case int(min: Int)
  /// An INT or `[h, w]`, each >= `min`; stored as `.ints([h, w])`.
  case pair(min: Int)
  /// Like `.pair(min: 0)`, or `same`; stored as `.ints` or `.string("same")` until resolved.
  case padding
  /// `none` or the name of an activation op (`relu`, ...); stored as `.string`.
  case activation
  /// A number in `min ..< max` (an INT is accepted); stored as `.float`.
  case float(min: Double, max: Double)
  /// One of a fixed set of words; stored as `.string`.
  case choice([String])
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
    case .activation: "one of " + (["none"] + OpKind.activations.map(\.rawValue)).joined(separator: ", ")
    case .float(let lo, let hi): "a number in [\(lo.formatted), \(hi.formatted))"
    case .choice(let words): "one of " + words.joined(separator: ", ")
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

/// How a parameter is initialised when no weights file gives it.
public enum Initializer: Hashable, Sendable {
  /// Uniform in +-sqrt(6 / (fanIn + fanOut)), as Keras and PyTorch count the fans.
  case glorotUniform(fanIn: Int, fanOut: Int)
  case zeros
  case ones
}

/// A parameter tensor an op reads: `<value name>.<suffix>` in the contract.
public struct WeightSpec: Sendable, Equatable {
  public var suffix: String  // "weight", "bias", "running_mean", ...
  public var shape: [Int]
  public var initializer: Initializer
  /// False for state that training updates by rule, not by gradient (batchnorm's running statistics).
  public var trainable: Bool
  public init(_ suffix: String, _ shape: [Int], _ initializer: Initializer, trainable: Bool = true) {
    self.suffix = suffix
    self.shape = shape
    self.initializer = initializer
    self.trainable = trainable
  }
}

/// A named intermediate an op exposes as an extra result (`<value name>.<suffix>`), so
/// later passes (training) can read it; it is a value like any other.
public struct ResultSpec: Sendable, Hashable {
  public var suffix: String
  public var type: TensorType
  public init(_ suffix: String, _ type: TensorType) { self.suffix = suffix; self.type = type }
}

/// The work of one op for the cost model: arithmetic and device-memory traffic.
public struct OpCost: Sendable, Hashable {
  public var flops: Double
  /// Bytes read and written in device memory.
  public var bytes: Double
  public init(flops: Double, bytes: Double) { self.flops = flops; self.bytes = bytes }
}

/// A one-op network that exercises an op, for the coverage test against the reference.
public struct OpExample: Sendable {
  /// The shape of input `x` (`N` first).
  public var input: String
  /// Statements computing `y` from `x`.
  public var body: String
  public init(_ input: String, _ body: String) { self.input = input; self.body = body }
}

public protocol OpDefinition: Sendable {
  static var kind: OpKind { get }
  /// One line, shown by `mlcnc ops`.
  static var summary: String { get }
  /// Data operands (parameters come after them and are not counted).
  static var arity: Arity { get }
  /// The attributes (keyword arguments in source).
  static var parameters: [ParamSpec] { get }
  /// Infers the result type from the data operands; may canonicalise attributes (resolve
  /// `same`, negative axes, -1 in shapes) so the IR holds one spelling of each meaning.
  /// Must be idempotent.
  static func infer(_ inputs: [TensorType], _ attributes: inout Attributes) throws(OpError) -> TensorType
  /// The parameters it reads, in operand order after the data operands.
  static func weights(inputs: [TensorType], attributes: Attributes) -> [WeightSpec]
  /// Named intermediates beyond the main result.
  static func extraResults(inputs: [TensorType], attributes: Attributes) -> [ResultSpec]
  /// Arithmetic and memory traffic for the cost model (operand, parameter and result bytes
  /// are added by `OpKind.cost`).
  static func work(inputs: [TensorType], output: TensorType, attributes: Attributes) -> Double
  /// An elementwise activation: shape-preserving, one operand, usable as `act=` on
  /// conv2d and dense (with its default attributes).
  static var isActivation: Bool { get }
  /// Only reinterprets its operand's buffer at inference: no kernel, no memory.
  static var isView: Bool { get }
  /// A one-op network for the coverage test (nil only for `input`, `parameter` and internal ops).
  static var example: OpExample? { get }
  /// Made by the training passes (backward, loss and update ops), not written in source.
  static var isInternal: Bool { get }
  /// The vector-Jacobian product: given the gradient of the node's main result, emits
  /// the nodes computing the gradients of its data operands and trainable parameters
  /// (see Autodiff). Nil: the op is not differentiable.
  static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError)
  /// Rules of the language beyond type inference, checked on ops written in source (after
  /// `infer` canonicalised the attributes); graph-internal nodes of the kind may break them.
  static func checkSource(_ attributes: Attributes) throws(OpError)
}

extension OpDefinition {
  public static func weights(inputs: [TensorType], attributes: Attributes) -> [WeightSpec] { [] }
  public static func extraResults(inputs: [TensorType], attributes: Attributes) -> [ResultSpec] { [] }
  public static func work(inputs: [TensorType], output: TensorType, attributes: Attributes) -> Double { 0 }
  public static var isActivation: Bool { false }
  public static var isView: Bool { false }
  public static var isInternal: Bool { false }
  public static func checkSource(_ attributes: Attributes) throws(OpError) {}
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    throw OpError("\(kind.rawValue) has no gradient rule")
  }
}

extension OpKind {
  /// The attributes an op has when none is given: what `act=` fuses an activation with.
  public var defaultAttributes: Attributes {
    var a = Attributes()
    for p in definition.parameters { a[p.name] = p.defaultValue }
    return a
  }

  /// Flops and bytes of one node: the op's own work plus every operand, parameter and
  /// result it moves through device memory.
  public func cost(inputs: [TensorType], output: TensorType, attributes: Attributes) -> OpCost {
    let def = definition
    if isView || isHostProvided { return OpCost(flops: 0, bytes: 0) }
    let weights = def.weights(inputs: inputs, attributes: attributes).reduce(0) { $0 + $1.shape.reduce(1, *) * 4 }
    let extra = def.extraResults(inputs: inputs, attributes: attributes).reduce(0) { $0 + $1.type.bytes }
    let bytes = inputs.reduce(0) { $0 + $1.bytes } + weights + output.bytes + 2 * extra
    return OpCost(flops: def.work(inputs: inputs, output: output, attributes: attributes), bytes: Double(bytes))
  }
}

extension Double {
  /// Shortest spelling that reads back the same (1e-05, 0.3).
  var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : "\(self)" }
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
