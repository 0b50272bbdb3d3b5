// `mlcnc ir`: print the graph IR after the passes (or after one named pass).

import ArgumentParser
import MLCNDriver
import MLCNFrontend
import MLCNGraph

struct IR: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the graph IR of a network after the pass pipeline.",
    discussion: "Passes, in order: \(PassPipeline.standard.names.joined(separator: ", ")).")

  @Argument(help: "The network (.mlcn).") var network: String
  @Option(help: "The batch size N.") var batch = 1
  @Option(help: "Stop after this pass (\(PassPipeline.standard.names.joined(separator: ", "))).") var after: String?
  @Flag(help: "Print the IR as lowered, before any pass.") var noPasses = false
  @Flag(help: "Print the IR as one JSON object.") var json = false
  @Flag(help: "Print the training graph: forward (training mode), loss, backward and the optimizer's update.") var train = false
  @OptionGroup var lossOption: LossOption
  @Option(help: "With --train: the update's optimizer (sgd or adam); 'none' prints forward and backward only.") var optimizer = "sgd"
  @Option(help: "With --train: the learning rate.") var lr: Double?
  @Option(help: "With --train: SGD momentum.") var momentum = 0.0

  func validate() throws {
    if let after, !PassPipeline.standard.names.contains(after) {
      throw ValidationError("unknown pass '\(after)' (passes: \(PassPipeline.standard.names.joined(separator: ", ")))")
    }
    guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    if noPasses && after != nil { throw ValidationError("--no-passes and --after contradict each other: give one") }
    if train && (noPasses || after != nil) { throw ValidationError("--train prints the whole training graph: drop --no-passes/--after") }
    guard optimizer == "none" || Optimizer.Kind(rawValue: optimizer) != nil else {
      throw ValidationError("--optimizer must be sgd, adam or none")
    }
  }

  func run() throws {
    try reportingErrors {
      var options = CompileOptions(batch: batch)
      options.stopAfter = after
      options.runPasses = !noPasses
      let g = train
        ? try TrainingGraph.build(SourceFile.load(path: network), batch: batch, loss: lossOption.loss,
                                  optimizer: Optimizer.Kind(rawValue: optimizer).map { Optimizer(kind: $0, lr: lr, momentum: momentum) })
        : try Compiler.graph(path: network, options: options)
      guard json else { print(Printer.print(g), terminator: ""); return }
      let nodes: [[String: Any]] = g.ids.map { id in
        let n = g[id]
        var attrs: [String: Any] = [:]
        for (k, v) in n.attributes.values {
          switch v {
          case .int(let i): attrs[k] = i
          case .ints(let l): attrs[k] = l
          case .string(let s): attrs[k] = s
          case .bool(let b): attrs[k] = b
          case .float(let f): attrs[k] = f
          }
        }
        var o: [String: Any] = ["name": n.name, "op": n.op.rawValue, "inputs": n.inputs.map { g.name(of: $0) },
                                "shape": n.type.shape, "dtype": n.type.dtype.rawValue, "attributes": attrs,
                                "line": n.location.line]
        if !n.extraResults.isEmpty {
          o["extra_results"] = n.extraResults.map { ["name": "\(n.name).\($0.suffix)", "shape": $0.type.shape] as [String: Any] }
        }
        if let lane = n.lane { o["lane"] = lane }
        return o
      }
      printJSON(["network": g.name, "batch": g.batch, "nodes": nodes, "lanes": g.declaredLanes,
                 "outputs": g.outputs.map { ["name": $0.name, "value": g.name(of: $0.value)] }])
    }
  }
}
