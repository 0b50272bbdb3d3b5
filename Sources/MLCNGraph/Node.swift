// A node of the graph IR: one operation that defines one value.

import MLCNFrontend

public struct Node: Hashable, Sendable {
  /// The value's name, lane prefix included as in weight names (`L.0.h`).
  public var name: String
  public var op: OpKind
  public var inputs: [ValueID]
  public var attributes: Attributes
  public var type: TensorType
  /// The lane instance this node belongs to (`L.0`, `solo`), nil outside lanes.
  public var lane: String?
  /// Prefix of this node's weight names; stays the source name when a pass renames the value.
  public var weightPrefix: String
  public var location: SourceLocation

  public init(name: String, op: OpKind, inputs: [ValueID], attributes: Attributes, type: TensorType,
              lane: String?, weightPrefix: String? = nil, location: SourceLocation) {
    self.name = name
    self.op = op
    self.inputs = inputs
    self.attributes = attributes
    self.type = type
    self.lane = lane
    self.weightPrefix = weightPrefix ?? name
    self.location = location
  }

  /// The weights this node reads, by full name, with their shapes.
  public func weights(inputTypes: [TensorType]) -> [(name: String, shape: [Int])] {
    op.definition.weights(inputs: inputTypes, attributes: attributes).map { ("\(weightPrefix).\($0.suffix)", $0.shape) }
  }
}

/// Lane instance names nest by prefix: `A.M.1` is inside `A`.
public enum Lanes {
  /// Whether a node of lane `a` may read a value of lane `b`: the same lane, or one lane
  /// nested inside the other (a lane reads its parent's values; a parent reads its nested
  /// lanes' results).
  public static func related(_ a: String, _ b: String) -> Bool {
    a == b || a.hasPrefix(b + ".") || b.hasPrefix(a + ".")
  }
}
