// How each op kind splits: the axes of its result it may be divided along, and for one
// part (a range of that axis) what the part reads (a region of each operand and of each
// parameter), the attributes of the op that computes it, and the rows to keep when the
// part computes a few more than asked (spatial splits). One exhaustive switch: a new op
// kind does not compile until it says how it splits.
//
// Spatial splits of a window op (conv2d, pooling) along H (or W), output rows lo..<hi,
// kernel k, stride s, padding p, input size H:
//  1. The part reads input rows a..<b with a = max(0, (lo - ceil(p/s)) * s) and
//     b = min(H, (hi - 1) * s - p + k): the rows its windows need (the halo) and, near the
//     top, enough for its padded windows to line up with the whole op's.
//  2. It runs the op unchanged (padding p on both sides) on those rows; local row r is
//     global row a/s + r, so the wanted rows start at r0 = lo - a/s.
//  3. Rows r0 ..< r0 + (hi - lo) are kept: their windows read only real rows of the slice
//     or the image's own padding, never the padding the slice adds at a cut.

import MLCNGraph

/// What one part of a split node computes and reads.
public struct PartSpec: Hashable, Sendable {
  /// The region of each data operand it reads (in `Graph.operands(of:)` order).
  public var operands: [Region]
  /// The region of each parameter it reads (in `Graph.parameters(of:)` order).
  public var parameters: [Region]
  /// The attributes of the op computing the part.
  public var attributes: Attributes
  /// The rows of the part op's result that are wanted, when it computes more (spatial splits).
  public var crop: Region
  /// The region of each extra result the part produces.
  public var extraResults: [Region]
}

public enum SplitRules {
  /// The axes of node `id`'s result it can be split along, each with the size of the
  /// smallest piece (split points fall on multiples of it). Empty: the node runs whole.
  public static func axes(_ id: ValueID, in g: Graph) -> [(axis: Int, unit: Int)] {
    let n = g[id], rank = n.type.rank
    let all = Array(0..<rank)
    let axes: [Int]
    var unit = [Int: Int]()
    switch n.op {
    case .input, .parameter: return []
    case .relu, .sigmoid, .tanh, .leakyRelu, .add, .batchnorm: axes = all
    case .flatten, .reshape, .dropout, .capsule: axes = [0]
    case .softmax, .concat, .slice: axes = all.filter { $0 != n.attributes.int("axis") }
    case .squash: axes = all.filter { $0 != rank - 1 }
    case .length: axes = all
    case .conv2d, .maxpool2d, .avgpool2d: axes = all
    case .dense: axes = [0, 1]
    case .primaryCaps:
      // Whole capsule maps: capsule (c*H + h)*W + w, so c..<c' is a range of H*W-sized blocks.
      let conv = g.type(of: ValueID(id.index, result: 1)).shape
      unit[1] = conv[2] * conv[3]
      axes = [0, 1]
    default:
      return []  // the training passes' internal ops run whole (their parameter gradients sum over samples)
    }
    return axes.filter { n.type.shape[$0] >= 2 * (unit[$0] ?? 1) }.map { ($0, unit[$0] ?? 1) }
  }

  /// What the part of node `id` computing `range` of result axis `axis` reads and runs.
  public static func part(_ id: ValueID, in g: Graph, axis: Int, range: Range<Int>) -> PartSpec {
    let n = g[id], out = Region.range(axis: axis, range)
    let operands = g.operands(of: id), params = g.parameters(of: id)
    var spec = PartSpec(operands: operands.map { _ in out }, parameters: params.map { _ in .whole },
                        attributes: n.attributes, crop: .whole,
                        extraResults: n.extraResults.map { _ in axis == 0 ? out : .whole })
    switch n.op {
    case .input, .parameter:
      preconditionFailure("host-provided values are not split")
    case .relu, .sigmoid, .tanh, .leakyRelu, .add, .flatten, .reshape, .dropout, .capsule, .softmax, .concat, .slice,
         .squash, .length:
      break  // the same region of every operand (length drops the last axis, which is never the split one)
    case .batchnorm:
      if axis == 1 { spec.parameters = params.map { _ in .range(axis: 0, range) } }
    case .dense:
      if axis == 1 {
        spec.operands = [.whole]
        spec.parameters = params.map { _ in .range(axis: 0, range) }
        spec.attributes["units"] = .int(range.count)
      }
    case .conv2d, .maxpool2d, .avgpool2d:
      if axis == 1 && n.op == .conv2d {
        spec.operands = [.whole]
        spec.parameters = params.map { _ in .range(axis: 0, range) }
        spec.attributes["filters"] = .int(range.count)
      } else if axis >= 2 {
        let j = axis - 2
        let k = n.attributes.ints("kernel")[j], s = n.attributes.ints("stride")[j], p = n.attributes.ints("padding")[j]
        let size = g.type(of: operands[0]).shape[axis]
        // 1-3 of the algorithm above.
        let a = max(0, (range.lowerBound - (p + s - 1) / s) * s)
        let b = min(size, (range.upperBound - 1) * s - p + k)
        spec.operands = [.range(axis: axis, a..<b)]
        let r0 = range.lowerBound - a / s
        let computed = (b - a + 2 * p - k) / s + 1
        if r0 != 0 || computed != range.count { spec.crop = .range(axis: axis, r0..<(r0 + range.count)) }
      }
    case .primaryCaps:
      if axis == 1 {
        let conv = g.type(of: ValueID(id.index, result: 1)).shape, hw = conv[2] * conv[3], dim = n.attributes.int("dim")
        let caps = (range.lowerBound / hw)..<(range.upperBound / hw)
        let filters = (caps.lowerBound * dim)..<(caps.upperBound * dim)
        spec.operands = [.whole]
        spec.parameters = params.map { _ in .range(axis: 0, filters) }
        spec.attributes["caps"] = .int(caps.count)
        spec.extraResults = [.range(axis: 1, filters)]
      }
    default:
      preconditionFailure("internal ops are not split: axes(_:in:) offers them no axis")
    }
    return spec
  }
}
