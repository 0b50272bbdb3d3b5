// The value types of the graph IR: tensor types with an element type and a static
// shape, value ids, attribute values. Tensors are batch first, row-major (C order).

import MLCNBase

/// Element types. Networks compute in f32; i32 holds integer class labels.
public enum DType: String, Hashable, Sendable, CaseIterable {
  case f32, i32
  public var bytes: Int { 4 }
}

/// The type of a tensor: an element type and a static shape (batch included as axis 0).
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
  public var shape: [Int]
  public var dtype: DType
  public init(_ shape: [Int], _ dtype: DType = .f32) { self.shape = shape; self.dtype = dtype }
  public var rank: Int { shape.count }
  public var count: Int { shape.reduce(1, *) }
  /// The element count, or nil when it does not fit in an Int.
  public var checkedCount: Int? { checkedProduct(shape) }
  public var bytes: Int { count * dtype.bytes }
  public var description: String { dtype.rawValue + "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}



/// A value is identified by the node that defines it and which of the node's results it
/// is (0: the node's main result; 1...: named extra results such as capsule predictions).
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let index: Int
  public let result: Int
  public init(_ index: Int, result: Int = 0) { self.index = index; self.result = result }
  public static func < (a: ValueID, b: ValueID) -> Bool { (a.index, a.result) < (b.index, b.result) }
  public var description: String { result == 0 ? "#\(index)" : "#\(index).\(result)" }
}

/// An attribute value after lowering: canonical and typed.
public enum AttrValue: Hashable, Sendable, CustomStringConvertible {
  case int(Int)
  case ints([Int])
  case float(Double)
  case string(String)
  case bool(Bool)

  public var description: String {
    switch self {
    case .int(let i): "\(i)"
    case .ints(let v): "[" + v.map(String.init).joined(separator: ", ") + "]"
    case .float(let f): f.formatted
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

  public func float(_ key: String) -> Double {
    if case .float(let f) = values[key] { return f }
    preconditionFailure("attribute '\(key)' is not a number (the verifier should have caught this)")
  }

  public func string(_ key: String) -> String {
    if case .string(let s) = values[key] { return s }
    preconditionFailure("attribute '\(key)' is not a string (the verifier should have caught this)")
  }

  /// The activation op fused by `act=` (nil for `none`).
  public var activation: OpKind? { OpKind(rawValue: string("act")).flatMap { $0.definition.isActivation ? $0 : nil } }
}
