// Rearranges weights from their contract layout into the layout a kernel reads.

public extension WeightLayout {
  /// Floats the packed tensor holds (padding included).
  func packedCount(shape: [Int]) -> Int {
    switch self {
    case .plain: return shape.reduce(1, *)
    case .filterBlocked(let block):
      return (shape[0] + block - 1) / block * block * shape.dropFirst().reduce(1, *)
    case .capsuleBlocked(let block):
      let rows = shape[1] * shape[2]
      return shape[0] * ((rows + block - 1) / block * block) * shape[3]
    }
  }

  /// Packs `data` of the contract shape `shape`.
  func pack(_ data: [Float], shape: [Int]) -> [Float] {
    switch self {
    case .plain:
      return data
    case .filterBlocked(let block):
      return Self.blockRows(data, groups: 1, rows: shape[0], inner: shape[1...].reduce(1, *), block: block)
    case .capsuleBlocked(let block):
      return Self.blockRows(data, groups: shape[0], rows: shape[1] * shape[2], inner: shape[3], block: block)
    }
  }

  /// `groups` matrices [rows][inner], each packed as [ceil(rows/block)][inner][block],
  /// zero-padded: the `block` values a kernel multiplies by one input are adjacent.
  private static func blockRows(_ data: [Float], groups: Int, rows: Int, inner: Int, block: Int) -> [Float] {
    let blocks = (rows + block - 1) / block, packed = blocks * inner * block
    var out = [Float](repeating: 0, count: groups * packed)
    data.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for g in 0..<groups {
          let s = g * rows * inner, d = g * packed
          for r in 0..<rows {
            let b = r / block, lane = r % block
            for i in 0..<inner { dst[d + (b * inner + i) * block + lane] = src[s + r * inner + i] }
          }
        }
      }
    }
    return out
  }
}
