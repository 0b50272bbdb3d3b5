// libFuzzer target: reading a NumPy .npy file (NPY.decode, what `mlcnc run --input`
// reads). Thrown FormatErrors are expected; a crash, trap, hang or huge allocation is a bug.
import Foundation
import MLCNFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  do {
    let t = try NPY.decode(Data(bytes: data, count: size), file: "fuzz.npy")
    precondition(t.shape.reduce(1, *) == t.count)
  } catch {
    _ = error.description
  }
  return 0
}
