// NumPy `.npz` archives (a zip of `.npy` files, as `np.savez` writes them) and integer
// `.npy` arrays (class labels): the training data of DESIGN.md section 7.
import Foundation
import MLCNBase

/// A training data file: inputs `x` [N, ...] and integer class labels `y` [N].
public struct Dataset: Sendable {
  public var x: HostTensor
  public var labels: [Int]
  public var count: Int { labels.count }
  public init(x: HostTensor, labels: [Int]) { self.x = x; self.labels = labels }

  /// Reads `x` and `y` from an `.npz`; checks that they agree on N and that `y` is integer.
  public static func read(_ path: String) throws(FormatError) -> Dataset {
    let members = try NPZ.read(path)
    guard let xData = members["x"] else {
      throw FormatError(path, "has no array 'x' (the inputs); it holds \(members.keys.sorted().joined(separator: ", "))")
    }
    guard let yData = members["y"] else {
      throw FormatError(path, "has no array 'y' (the labels); it holds \(members.keys.sorted().joined(separator: ", "))")
    }
    let x = try NPY.decode(xData, file: path + ":x.npy")
    let y = try NPY.decodeIntegers(yData, file: path + ":y.npy")
    guard y.shape.count == 1 else { throw FormatError(path, "labels 'y' must be [N], got shape \(y.shape)") }
    guard x.shape.first == y.values.count else {
      throw FormatError(path, "'x' has \(x.shape.first ?? 0) samples but 'y' has \(y.values.count) labels")
    }
    return Dataset(x: x, labels: y.values)
  }

  /// Samples `indices`, in that order.
  public func batch(_ indices: ArraySlice<Int>) -> (x: HostTensor, labels: [Int]) {
    let per = x.shape.dropFirst().reduce(1, *)
    var data = [Float]()
    data.reserveCapacity(indices.count * per)
    for i in indices { data.append(contentsOf: x.data[i * per ..< (i + 1) * per]) }
    return (HostTensor(shape: [indices.count] + x.shape.dropFirst(), data: data), indices.map { labels[$0] })
  }
}

public enum NPZ {
  /// The members of an `.npz` by array name (`x.npy` -> `x`). Stored (uncompressed) members only.
  public static func read(_ path: String) throws(FormatError) -> [String: Data] {
    let d = try readFile(path)
    func bad(_ m: String) -> FormatError { FormatError(path, "not a valid .npz file: \(m)") }
    guard d.count >= 4, d.littleEndianUInt(at: 0, bytes: 4) == 0x0403_4b50 else { throw bad("missing the zip signature") }
    var out: [String: Data] = [:]
    var at = 0
    // Local file headers in order: signature, ..., method (8), sizes (18, 22), name (26), extra (28).
    while at + 30 <= d.count, d.littleEndianUInt(at: at, bytes: 4) == 0x0403_4b50 {
      let flags = d.littleEndianUInt(at: at + 6, bytes: 2), method = d.littleEndianUInt(at: at + 8, bytes: 2)
      var size = Int(d.littleEndianUInt(at: at + 18, bytes: 4))
      let nameLen = Int(d.littleEndianUInt(at: at + 26, bytes: 2)), extraLen = Int(d.littleEndianUInt(at: at + 28, bytes: 2))
      guard at + 30 + nameLen <= d.count else { throw bad("truncated") }
      let name = String(decoding: d.subdata(in: d.startIndex + at + 30 ..< d.startIndex + at + 30 + nameLen), as: UTF8.self)
      guard method == 0 else {
        throw FormatError(path, "member '\(name)' is compressed; write the file with np.savez (not savez_compressed)")
      }
      let start = at + 30 + nameLen + extraLen
      if size == 0xFFFF_FFFF || flags & 8 != 0 {
        // zip64 or streamed sizes: take the size from the zip64 extra field.
        var e = at + 30 + nameLen
        while e + 4 <= at + 30 + nameLen + extraLen {
          let id = d.littleEndianUInt(at: e, bytes: 2), len = Int(d.littleEndianUInt(at: e + 2, bytes: 2))
          if id == 1 { size = Int(d.littleEndianUInt(at: e + 4 + 8, bytes: 8)) }
          e += 4 + len
        }
      }
      guard size >= 0, start + size <= d.count else { throw bad("member '\(name)' is truncated") }
      out[name.hasSuffix(".npy") ? String(name.dropLast(4)) : name] = d.subdata(in: d.startIndex + start ..< d.startIndex + start + size)
      at = start + size
    }
    guard !out.isEmpty else { throw bad("no members") }
    return out
  }
}

extension NPY {
  /// An integer array (int8..int64, uint8..uint64) as Ints, with its shape.
  public static func decodeIntegers(_ d: Data, file path: String) throws(FormatError) -> (shape: [Int], values: [Int]) {
    func bad(_ m: String) -> FormatError { FormatError(path, "not a valid .npy file: \(m)") }
    guard d.count >= 10, d.prefix(6) == Data([0x93]) + Data("NUMPY".utf8) else { throw bad("missing the \\x93NUMPY magic") }
    let lenBytes = d[d.startIndex + 6] == 1 ? 2 : 4
    let headerLen = Int(d.littleEndianUInt(at: 8, bytes: lenBytes))
    let dataStart = 8 + lenBytes + headerLen
    guard d.count >= dataStart, let header = String(data: d.subdata(in: d.startIndex + 8 + lenBytes ..< d.startIndex + dataStart), encoding: .utf8),
          let descr = field(header, "descr")?.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")),
          let shapeText = field(header, "shape") else { throw bad("truncated or malformed header") }
    let kinds: [String: (bytes: Int, signed: Bool)] = [
      "|i1": (1, true), "<i2": (2, true), "<i4": (4, true), "<i8": (8, true),
      "|u1": (1, false), "<u2": (2, false), "<u4": (4, false), "<u8": (8, false),
    ]
    guard let kind = kinds[descr] else {
      throw FormatError(path, "labels must be integers (int64, int32, uint8, ...), got dtype \(descr)")
    }
    let shape = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",")
      .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    let count = shape.reduce(1, *)
    guard d.count - dataStart >= count * kind.bytes else { throw FormatError(path, "truncated: \(count) labels need \(count * kind.bytes) bytes") }
    var values = [Int](repeating: 0, count: count)
    for i in 0..<count {
      let raw = d.littleEndianUInt(at: dataStart + i * kind.bytes, bytes: kind.bytes)
      let bits = UInt64(kind.bytes * 8)
      values[i] = kind.signed && bits < 64 && raw >> (bits - 1) == 1 ? Int(Int64(bitPattern: raw) - (1 << Int64(bits)))
                                                                      : Int(Int64(bitPattern: raw))
    }
    return (shape, values)
  }

  public static func readIntegers(_ path: String) throws(FormatError) -> (shape: [Int], values: [Int]) {
    try decodeIntegers(readFile(path), file: path)
  }
}
