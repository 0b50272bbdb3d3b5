// Rearranges weights from their contract layout into the layout a kernel reads.

public extension WeightLayout {
  /// Floats the packed tensor holds (padding included).
  func packedCount(shape: [Int]) -> Int {
    switch self {
    case .plain: return shape.reduce(1, *)
    case .filterBlocked(let block):
      return (shape[0] + block - 1) / block * block * shape.dropFirst().reduce(1, *)
    }
  }

  /// Packs `data` of the contract shape `shape`.
  func pack(_ data: [Float], shape: [Int]) -> [Float] {
    switch self {
    case .plain:
      return data
    case .filterBlocked(let block):
      let f = shape[0], inner = shape[1...].reduce(1, *)  // inner = C*KH*KW
      let blocks = (f + block - 1) / block
      var out = [Float](repeating: 0, count: blocks * inner * block)
      data.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
          for fo in 0..<f {
            let b = fo / block, lane = fo % block
            for i in 0..<inner { dst[(b * inner + i) * block + lane] = src[fo * inner + i] }
          }
        }
      }
      return out
    }
  }
}
