// libFuzzer target: reading a safetensors weight file (Safetensors.decode, what
// `--weights` and .mlcnpkg packages read). Thrown FormatErrors are expected; a crash,
// trap, hang or huge allocation is a bug. Round-trips what it reads through encode.
import Foundation
import MLCNFormats

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  do {
    let file = try Safetensors.decode(Data(bytes: data, count: size), file: "fuzz.safetensors")
    let again = try Safetensors.decode(Safetensors.encode(file), file: "again.safetensors")
    precondition(again.tensors.keys.sorted() == file.tensors.keys.sorted(), "encode/decode lost tensors")
  } catch {
    _ = error.description
  }
  return 0
}
