// A region of a tensor: all of it, or a range of one axis (all of the others). Split ops
// produce regions of their results and read regions of their operands; where a reader's
// region differs from how the value was produced, data moves.

import MLCNGraph

public enum Region: Hashable, Sendable, CustomStringConvertible {
  case whole
  case range(axis: Int, Range<Int>)

  /// Elements of a tensor of `shape` inside the region.
  public func count(in shape: [Int]) -> Int {
    switch self {
    case .whole: shape.reduce(1, *)
    case .range(let axis, let r): shape.reduce(1, *) / max(shape[axis], 1) * r.count
    }
  }

  /// The region as a range of `axis` (the whole extent when it does not restrict that axis).
  public func range(along axis: Int, in shape: [Int]) -> Range<Int> {
    if case .range(let a, let r) = self, a == axis { return r }
    return 0..<shape[axis]
  }

  /// Elements of a tensor of `shape` inside both regions.
  public func overlap(_ other: Region, in shape: [Int]) -> Int {
    switch (self, other) {
    case (.whole, _): return other.count(in: shape)
    case (_, .whole): return count(in: shape)
    case (.range(let a, let r), .range(let b, let s)):
      if a == b { return shape.reduce(1, *) / max(shape[a], 1) * r.clamped(to: s).count }
      return shape.reduce(1, *) / max(shape[a] * shape[b], 1) * r.count * s.count
    }
  }

  /// Whether the region is all of a tensor of `shape`.
  public func isWhole(in shape: [Int]) -> Bool { count(in: shape) == shape.reduce(1, *) }

  /// The type of the region's elements.
  public func type(of t: TensorType) -> TensorType {
    guard case .range(let axis, let r) = self else { return t }
    var shape = t.shape
    shape[axis] = r.count
    return TensorType(shape, t.dtype)
  }

  public var description: String {
    switch self {
    case .whole: "all"
    case .range(let a, let r): "axis \(a) \(r.lowerBound)..<\(r.upperBound)"
    }
  }
}
