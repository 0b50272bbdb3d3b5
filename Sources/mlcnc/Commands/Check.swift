// `mlcnc check`: parse and verify a network; diagnostics only.

import ArgumentParser
import MLCNDriver
import MLCNFrontend
import MLCNGraph

struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Parse and verify a network; print diagnostics (file:line:col) and exit 1 on errors.")

  @Argument(help: "The network (.mlcn).") var network: String
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    if json {
      // With --json, failures are reported in the JSON object too (and exit 1).
      do { _ = try Compiler.graph(path: network, options: CompileOptions(batch: 1)) } catch {
        var object: [String: Any] = ["file": network, "ok": false, "error": errorMessage(error)]
        if let d = error as? DiagnosticError, d.diagnostic.location.line > 0 {
          object["line"] = d.diagnostic.location.line
          object["column"] = d.diagnostic.location.column
          object["message"] = d.diagnostic.message
        }
        printJSON(object)
        printError(errorMessage(error))
        throw ExitCode(1)
      }
    }
    try reportingErrors {
      let g = try Compiler.graph(path: network, options: CompileOptions(batch: 1))
      let ops = g.nodes.filter { !$0.op.isHostProvided }.count
      if json {
        printJSON(["file": network, "network": g.name, "ok": true, "ops": ops, "inputs": g.inputs.count,
                   "outputs": g.outputs.map(\.name), "lanes": g.declaredLanes, "weights": g.weights().count])
      } else {
        print("\(network): ok: network \(g.name), \(ops) ops, \(g.inputs.count) input(s), outputs \(g.outputs.map(\.name).joined(separator: ", ")), \(g.declaredLanes.count) lane(s), \(g.weights().count) weights")
      }
    }
  }
}
