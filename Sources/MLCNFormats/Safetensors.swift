// safetensors files: named weights (F32, or F64 converted) with optional string metadata.
// Layout: u64 little-endian header length, a JSON header, then the raw tensor bytes.
import Foundation
import MLCNBase

public struct TensorFile: Sendable {
  public var tensors: [String: HostTensor]
  public var metadata: [String: String]
  public init(tensors: [String: HostTensor] = [:], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }
}

public enum Safetensors {
  public static func read(_ path: String) throws(FormatError) -> TensorFile {
    try decode(readFile(path), file: path)
  }

  /// The tensors in the bytes of a safetensors file; `file` names it in errors.
  public static func decode(_ d: Data, file path: String) throws(FormatError) -> TensorFile {
    func bad(_ m: String) -> FormatError { FormatError(path, "not a valid safetensors file: \(m)") }
    guard d.count >= 8 else { throw bad("shorter than its 8-byte header length") }
    let n = d.littleEndianUInt(at: 0, bytes: 8)
    guard n <= UInt64(d.count - 8) else { throw bad("header length \(n) runs past the end of the file (\(d.count) bytes); truncated?") }
    let headerData = d.subdata(in: d.startIndex + 8 ..< d.startIndex + 8 + Int(n))
    guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
      throw bad("header is not a JSON object")
    }
    let base = 8 + Int(n)
    var file = TensorFile()
    // In name order, so a damaged file always gets the same message.
    for name in header.keys.sorted() {
      let entry = header[name]!
      if name == "__metadata__" {
        guard let m = entry as? [String: Any] else { throw bad("__metadata__ is not an object") }
        for (k, v) in m { file.metadata[k] = v as? String ?? "\(v)" }
        continue
      }
      guard let e = entry as? [String: Any], let dtype = e["dtype"] as? String,
            let shape = (e["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
            let offsets = (e["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
            offsets.count == 2 else {
        throw bad("tensor '\(name)' lacks dtype, shape or data_offsets")
      }
      let elementBytes: Int
      switch dtype {
      case "F32": elementBytes = 4
      case "F64": elementBytes = 8
      default: throw FormatError(path, "tensor '\(name)' has dtype \(dtype); only F32 (or F64) is supported")
      }
      guard shape.allSatisfy({ $0 >= 0 }), let count = checkedProduct(shape),
            let bytes = checkedProduct([count, elementBytes]),
            offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] - offsets[0] == bytes else {
        throw bad("tensor '\(name)': data_offsets \(offsets) do not hold shape \(shape) of \(dtype)")
      }
      guard offsets[1] <= d.count - base else {
        throw FormatError(path, "truncated: tensor '\(name)' ends at byte \(offsets[1]) of the data, which has \(d.count - base) bytes")
      }
      file.tensors[name] = HostTensor(shape: shape, data: d.floats(at: base + offsets[0], count: count, elementBytes: elementBytes))
    }
    return file
  }

  public static func write(_ file: TensorFile, to path: String) throws(FormatError) {
    try writeFile(encode(file), to: path)
  }

  public static func encode(_ file: TensorFile) -> Data {
    var header: [String: Any] = [:]
    if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
    var offset = 0
    let names = file.tensors.keys.sorted()
    for name in names {
      let t = file.tensors[name]!
      header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.count * 4]] as [String: Any]
      offset += t.count * 4
    }
    var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    // Pad the header with spaces so tensor data is 8-byte aligned, as the format recommends.
    json.append(contentsOf: Array(repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
    var d = Data()
    var n = UInt64(json.count).littleEndian
    withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
    d.append(json)
    for name in names { d.append(file.tensors[name]!.data.rawBytes) }
    return d
  }
}
