// libFuzzer target: the .mlcn front door. Bytes -> UTF-8 check -> lex + parse -> lower
// (batch 2) -> verify -> the standard pass pipeline -> the IR printer. Diagnostics are
// rendered too, since every user error is printed that way. Thrown errors are expected;
// a crash, trap, hang or huge allocation is a bug. Built by tools/fuzz.
import Foundation
import MLCNFrontend
import MLCNGraph

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrontend(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(bytes: data, count: size)
  do {
    let source = try SourceFile.decode(bytes, path: "fuzz.mlcn")
    var graph = try Lowering.lower(source: source, batch: 2)
    try Verifier.verify(graph)
    try PassPipeline.standard.run(&graph)
    _ = Printer.print(graph)
  } catch let e as DiagnosticError {
    _ = e.description
  } catch {
    _ = "\(error)"
  }
  return 0
}
