// `mlcnc ir`: print the graph IR after the passes (or after one named pass).

import ArgumentParser
import MLCNDriver
import MLCNGraph

struct IR: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the graph IR of a network after the pass pipeline.",
    discussion: "Passes, in order: \(PassPipeline.standard.names.joined(separator: ", ")).")

  @Argument(help: "The network (.mlcn).") var network: String
  @Option(help: "The batch size N.") var batch = 1
  @Option(help: "Stop after this pass (\(PassPipeline.standard.names.joined(separator: ", "))).") var after: String?
  @Flag(help: "Print the IR as lowered, before any pass.") var noPasses = false

  func validate() throws {
    if let after, !PassPipeline.standard.names.contains(after) {
      throw ValidationError("unknown pass '\(after)' (passes: \(PassPipeline.standard.names.joined(separator: ", ")))")
    }
    guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    if noPasses && after != nil { throw ValidationError("--no-passes and --after contradict each other: give one") }
  }

  func run() throws {
    try reportingErrors {
      var options = CompileOptions(batch: batch)
      options.stopAfter = after
      options.runPasses = !noPasses
      print(Printer.print(try Compiler.graph(path: network, options: options)), terminator: "")
    }
  }
}
