// `mlcnc check`: parse and verify a network; diagnostics only.

import ArgumentParser
import MLCNDriver
import MLCNGraph

struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Parse and verify a network; print diagnostics (file:line:col) and exit 1 on errors.")

  @Argument(help: "The network (.mlcn).") var network: String
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    try reportingErrors {
      let g = try Compiler.graph(path: network, options: CompileOptions(batch: 1))
      let ops = g.nodes.filter { $0.op != .input }.count
      if json {
        printJSON(["file": network, "network": g.name, "ok": true, "ops": ops, "inputs": g.inputs.count,
                   "outputs": g.outputs.map(\.name), "lanes": g.declaredLanes, "weights": g.weights().count])
      } else {
        print("\(network): ok: network \(g.name), \(ops) ops, \(g.inputs.count) input(s), outputs \(g.outputs.map(\.name).joined(separator: ", ")), \(g.declaredLanes.count) lane(s), \(g.weights().count) weights")
      }
    }
  }
}
