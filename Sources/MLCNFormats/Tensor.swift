// A host tensor (float32, C order) and the one error type of the file formats, which
// always names the file and what is wrong with it.
import Foundation

public struct HostTensor: Equatable, Sendable {
  public var shape: [Int]
  public var data: [Float]
  public init(shape: [Int], data: [Float]) {
    precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) elements")
    self.shape = shape
    self.data = data
  }
  public init(zeros shape: [Int]) { self.init(shape: shape, data: Array(repeating: 0, count: shape.reduce(1, *))) }
  public var count: Int { data.count }
}

public struct FormatError: Error, Sendable, CustomStringConvertible {
  public var file: String
  public var message: String
  public init(_ file: String, _ message: String) { self.file = file; self.message = message }
  public var description: String { "\(file): error: \(message)" }
}

func readFile(_ path: String) throws(FormatError) -> Data {
  var isDir: ObjCBool = false
  guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw FormatError(path, "no such file") }
  guard !isDir.boolValue else { throw FormatError(path, "is a directory, not a file") }
  guard let data = FileManager.default.contents(atPath: path) else { throw FormatError(path, "cannot read file") }
  return data
}

func writeFile(_ data: Data, to path: String) throws(FormatError) {
  do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
    throw FormatError(path, "cannot write file (\(error.localizedDescription))")
  }
}


extension Data {
  func littleEndianUInt(at offset: Int, bytes: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<bytes { v |= UInt64(self[startIndex + offset + i]) << (8 * UInt64(i)) }
    return v
  }

  /// Little-endian float32 or float64 elements starting at `offset`, as Float.
  func floats(at offset: Int, count: Int, elementBytes: Int) -> [Float] {
    var out = [Float](repeating: 0, count: count)
    withUnsafeBytes { raw in
      let base = raw.baseAddress!.advanced(by: offset)
      if elementBytes == 4 {
        out.withUnsafeMutableBytes { dst in dst.copyMemory(from: UnsafeRawBufferPointer(start: base, count: count * 4)) }
      } else {
        for i in 0..<count { out[i] = Float(base.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
      }
    }
    return out
  }
}

extension Array where Element == Float {
  var rawBytes: Data { withUnsafeBytes { Data($0) } }
}
