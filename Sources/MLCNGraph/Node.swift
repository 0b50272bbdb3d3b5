// A node of the graph IR: one operation that defines one value, or several (its main
// result and named extra results). Its operands are its data operands followed by the
// parameters it reads.

import MLCNBase

public struct Node: Hashable, Sendable {
  /// The value's name, lane prefix included as in weight names (`L.0.h`).
  public var name: String
  public var op: OpKind
  /// Data operands first, then parameter values (in the op's `weights` order).
  public var inputs: [ValueID]
  public var attributes: Attributes
  /// The type of the main result.
  public var type: TensorType
  /// Named intermediates beyond the main result, value `name.suffix` (result 1, 2, ...).
  public var extraResults: [ResultSpec]
  /// The lane instance this node belongs to (`L.0`, `solo`), nil outside lanes.
  public var lane: String?
  public var location: SourceLocation
  /// For a node that differentiation (or the optimizer update) adds: the name of the
  /// forward node it belongs to, so a training step runs it on that node's device.
  public var derivedFrom: String?

  public init(name: String, op: OpKind, inputs: [ValueID], attributes: Attributes, type: TensorType,
              extraResults: [ResultSpec] = [], lane: String?, location: SourceLocation) {
    self.name = name
    self.op = op
    self.inputs = inputs
    self.attributes = attributes
    self.type = type
    self.extraResults = extraResults
    self.lane = lane
    self.location = location
  }

  /// Every result: the main one, then the extra ones.
  public var resultTypes: [TensorType] { [type] + extraResults.map(\.type) }
  public func resultName(_ r: Int) -> String { r == 0 ? name : name + "." + extraResults[r - 1].suffix }
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
