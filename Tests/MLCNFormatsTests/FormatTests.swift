// .npy and safetensors: round trips and clear errors on damaged files.

import Foundation
import Testing
@testable import MLCNFormats

private func tempPath(_ name: String) -> String {
  let dir = FileManager.default.temporaryDirectory.appending(path: "mlcnc-format-tests-\(UUID().uuidString)")
  try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir.appending(path: name).path
}

@Test func npyRoundTrip() throws {
  let t = HostTensor(shape: [2, 3, 1], data: [1, -2, 3.5, 4, 5, .pi])
  let p = tempPath("a.npy")
  try NPY.write(t, to: p)
  #expect(try NPY.read(p) == t)
  let scalarish = HostTensor(shape: [3], data: [1, 2, 3])
  try NPY.write(scalarish, to: p)
  #expect(try NPY.read(p) == scalarish)
}

@Test func npyErrorsNameTheFile() throws {
  let p = tempPath("bad.npy")
  try Data("not numpy".utf8).write(to: URL(fileURLWithPath: p))
  #expect { try NPY.read(p) } throws: { ($0 as? FormatError)?.description.contains("bad.npy: error: not a valid .npy") == true }
  try NPY.write(HostTensor(shape: [4, 4], data: Array(repeating: 1, count: 16)), to: p)
  let whole = try Data(contentsOf: URL(fileURLWithPath: p))
  try whole.prefix(whole.count - 8).write(to: URL(fileURLWithPath: p))
  #expect { try NPY.read(p) } throws: { ($0 as? FormatError)?.message.contains("truncated") == true }
  #expect { try NPY.read(tempPath("missing.npy")) } throws: { ($0 as? FormatError)?.message == "no such file" }
}

@Test func safetensorsRoundTripWithMetadata() throws {
  let file = TensorFile(tensors: ["a.weight": HostTensor(shape: [2, 2], data: [1, 2, 3, 4]),
                                  "b": HostTensor(shape: [3], data: [5, 6, 7])],
                        metadata: ["source": "network n\n", "batch": "4"])
  let p = tempPath("w.safetensors")
  try Safetensors.write(file, to: p)
  let back = try Safetensors.read(p)
  #expect(back.tensors == file.tensors)
  #expect(back.metadata == file.metadata)
}

@Test func truncatedSafetensorsIsAnError() throws {
  let p = tempPath("t.safetensors")
  let data = Safetensors.encode(TensorFile(tensors: ["w": HostTensor(shape: [64], data: Array(repeating: 1, count: 64))]))
  try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: p))
  #expect { try Safetensors.read(p) } throws: { ($0 as? FormatError)?.message.contains("truncated") == true }
  try data.prefix(5).write(to: URL(fileURLWithPath: p))
  #expect { try Safetensors.read(p) } throws: { ($0 as? FormatError)?.message.contains("not a valid safetensors") == true }
}

@Test func absurdSizesInHeadersAreErrorsNotCrashes() throws {
  let p = tempPath("huge.npy")
  var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"
  header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
  var d = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
  d.append(Data(header.utf8))
  try d.write(to: URL(fileURLWithPath: p))
  #expect { try NPY.read(p) } throws: { ($0 as? FormatError)?.message.contains("too large") == true }

  for tensor in [#"{"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 16]}}"#,
                 #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [-9223372036854775807, 8]}}"#,
                 #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [9223372036854775799, 9223372036854775807]}}"#] {
    let json = Data(tensor.utf8)
    var n = UInt64(json.count).littleEndian
    var file = Data()
    withUnsafeBytes(of: &n) { file.append(contentsOf: $0) }
    file.append(json)
    file.append(Data(count: 16))
    let st = tempPath("bad.safetensors")
    try file.write(to: URL(fileURLWithPath: st))
    #expect(throws: FormatError.self) { try Safetensors.read(st) }
  }
}

// Found by fuzzing (Tests/fuzz/regressions/npy): a version 2 header is 12 bytes before
// the dict, so a 10-byte file must be an error, not an out-of-bounds read.
@Test func shortVersion2NPYIsAnError() throws {
  let d = Data([0x93]) + Data("NUMPY".utf8) + Data([2, 0, 0x25, 0])
  #expect { try NPY.decode(d, file: "short.npy") } throws: {
    ($0 as? FormatError)?.description == "short.npy: error: not a valid .npy file: truncated header length"
  }
}
