// NumPy .npy files: the inputs and outputs of `mlcnc run`. Reads float32 (and float64,
// converted) arrays in C order, versions 1-3; writes version 1 float32.
import Foundation
import MLCNBase

public enum NPY {
  public static func read(_ path: String) throws(FormatError) -> HostTensor {
    try decode(readFile(path), file: path)
  }

  /// The array in the bytes of a `.npy` file; `file` names it in errors.
  public static func decode(_ d: Data, file path: String) throws(FormatError) -> HostTensor {
    func bad(_ m: String) -> FormatError { FormatError(path, "not a valid .npy file: \(m)") }
    guard d.count >= 10, d.prefix(6) == Data([0x93]) + Data("NUMPY".utf8) else { throw bad("missing the \\x93NUMPY magic") }
    let major = d[d.startIndex + 6]
    let lenBytes: Int
    switch major {
    case 1: lenBytes = 2
    case 2, 3: lenBytes = 4
    default: throw bad("unsupported format version \(major)")
    }
    guard d.count >= 8 + lenBytes else { throw bad("truncated header length") }
    let headerLen = Int(d.littleEndianUInt(at: 8, bytes: lenBytes))
    let dataStart = 8 + lenBytes + headerLen
    guard d.count >= dataStart else { throw bad("truncated header") }
    guard let header = String(data: d.subdata(in: d.startIndex + 8 + lenBytes ..< d.startIndex + dataStart), encoding: .utf8) else {
      throw bad("header is not text")
    }
    guard let descr = field(header, "descr") else { throw bad("header has no 'descr'") }
    let elementBytes: Int
    switch descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")) {
    case "<f4", "|f4", "=f4": elementBytes = 4
    case "<f8", "=f8": elementBytes = 8
    case let other: throw FormatError(path, "dtype \(other) is not supported; expected float32 ('<f4')")
    }
    if let fortran = field(header, "fortran_order"), fortran.contains("True") {
      throw FormatError(path, "Fortran-ordered arrays are not supported; save with C order")
    }
    guard let shapeText = field(header, "shape") else { throw bad("header has no 'shape'") }
    var shape: [Int] = []
    for part in shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",") {
      let t = part.trimmingCharacters(in: .whitespaces)
      if t.isEmpty { continue }
      guard let n = Int(t), n >= 0 else { throw bad("bad shape \(shapeText)") }
      shape.append(n)
    }
    guard let count = checkedProduct(shape), let needed = checkedProduct([count, elementBytes]) else {
      throw bad("shape \(shape) is too large")
    }
    guard d.count - dataStart >= needed else {
      throw FormatError(path, "truncated: shape \(shape) needs \(needed) bytes of data, the file has \(d.count - dataStart)")
    }
    return HostTensor(shape: shape, data: d.floats(at: dataStart, count: count, elementBytes: elementBytes))
  }

  /// The text of `'key': value` in a header dict; value ends at the next top-level comma.
  static func field(_ header: String, _ key: String) -> String? {
    guard let r = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
    var rest = header[r.upperBound...].drop { $0 == " " || $0 == ":" }
    if rest.first == "(" {
      guard let close = rest.firstIndex(of: ")") else { return nil }
      return String(rest[...close])
    }
    rest = rest.prefix { $0 != "," && $0 != "}" }
    return String(rest)
  }

  public static func write(_ t: HostTensor, to path: String) throws(FormatError) {
    let dims = t.shape.map(String.init).joined(separator: ", ") + (t.shape.count == 1 ? "," : "")
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
    // Pad so the data starts on a 64-byte boundary, header ending in a newline.
    let total = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
    var d = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
    let n = UInt16(header.utf8.count)
    d.append(contentsOf: [UInt8(n & 0xff), UInt8(n >> 8)])
    d.append(Data(header.utf8))
    d.append(t.data.rawBytes)
    try writeFile(d, to: path)
  }
}
