// The value types of the graph IR: tensor types with static shapes, attribute values,
// activations. Tensors are float32, batch first, row-major (C order).

/// The type of a tensor: float32 with a static shape (batch included as axis 0).
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
  public var shape: [Int]
  public init(_ shape: [Int]) { self.shape = shape }
  public var rank: Int { shape.count }
  public var count: Int { shape.reduce(1, *) }
  /// The element count, or nil when it does not fit in an Int.
  public var checkedCount: Int? { checkedProduct(shape) }
  public var bytes: Int { count * 4 }
  public var description: String { "f32[" + shape.map(String.init).joined(separator: ", ") + "]" }
}

/// Sizes mlcnc accepts: kernels index tensors with 32-bit integers.
public enum Limits {
  public static let maxInteger = Int(Int32.max)
  public static let maxElements = Int(Int32.max)
}

/// The product of `values`, or nil on overflow.
public func checkedProduct<S: Sequence>(_ values: S) -> Int? where S.Element == Int {
  var p = 1
  for v in values {
    let (r, overflow) = p.multipliedReportingOverflow(by: v)
    if overflow { return nil }
    p = r
  }
  return p
}

/// A value is identified by the index of the node that defines it.
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let index: Int
  public init(_ index: Int) { self.index = index }
  public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }
  public var description: String { "#\(index)" }
}

/// An attribute value after lowering: canonical and typed.
public enum AttrValue: Hashable, Sendable, CustomStringConvertible {
  case int(Int)
  case ints([Int])
  case string(String)
  case bool(Bool)

  public var description: String {
    switch self {
    case .int(let i): "\(i)"
    case .ints(let v): "[" + v.map(String.init).joined(separator: ", ") + "]"
    case .string(let s): s
    case .bool(let b): b ? "true" : "false"
    }
  }
}

/// Named attributes of a node; printed in the order of the op's parameter list.
public struct Attributes: Hashable, Sendable {
  public var values: [String: AttrValue] = [:]
  public init(_ values: [String: AttrValue] = [:]) { self.values = values }

  public subscript(_ key: String) -> AttrValue? {
    get { values[key] }
    set { values[key] = newValue }
  }

  public func int(_ key: String) -> Int {
    if case .int(let i) = values[key] { return i }
    preconditionFailure("attribute '\(key)' is not an int (the verifier should have caught this)")
  }

  public func ints(_ key: String) -> [Int] {
    if case .ints(let v) = values[key] { return v }
    preconditionFailure("attribute '\(key)' is not an int list (the verifier should have caught this)")
  }

  public func bool(_ key: String) -> Bool {
    if case .bool(let b) = values[key] { return b }
    preconditionFailure("attribute '\(key)' is not a bool (the verifier should have caught this)")
  }

  public func string(_ key: String) -> String {
    if case .string(let s) = values[key] { return s }
    preconditionFailure("attribute '\(key)' is not a string (the verifier should have caught this)")
  }

  public var activation: Activation { Activation(rawValue: string("act")) ?? .none }
}

/// Elementwise activations, usable as ops and fused into conv2d/dense (`act=`).
public enum Activation: String, CaseIterable, Sendable {
  case none, relu, sigmoid, tanh
}
