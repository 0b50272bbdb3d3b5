// `mlcnc compile`: source to a package holding the source, weights and plan.

import ArgumentParser
import Foundation
import MLCNDriver
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

struct Compile: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compile a network into a package (.mlcnpkg) with its weights and placement plan.")

  @Argument(help: "The network (.mlcn).") var network: String
  @Option(name: .shortAndLong, help: "The package to write.") var output: String
  @Option(help: "The batch size N to compile and plan for (running another batch size also works).") var batch = 1
  @OptionGroup var weightOptions: WeightOptions
  @OptionGroup var deviceOptions: DeviceOptions
  @Option(help: "Use this plan (JSON from `mlcnc plan --json`) instead of planning.") var plan: String?
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws { guard batch >= 1 else { throw ValidationError("--batch must be at least 1") } }

  func run() throws {
    try reportingErrors {
      let start = Date()
      let source = try SourceFile.load(path: network)
      let graph = try Compiler.graph(source, options: CompileOptions(batch: batch))
      let strategy = deviceOptions.strategy ?? .auto
      let model = Model(source: source, weights: [:], weightsOrigin: "", compiledBatch: batch,
                        strategy: strategy, devices: deviceOptions.devices, plan: nil)
      let explicit = try plan.map { path in try Plan.decode(try readPlanFile(path), file: path) }
      let target = try realTarget(deviceOptions.devices)
      // Plan first: it checks that the network fits the devices before any weight is made.
      let thePlan = try model.plan(for: graph, times: target.times, strategy: strategy, seed: weightOptions.seed,
                                   explicit: explicit)
      _ = try thePlan.placement(for: graph)
      let (weights, origin) = try weightsFor(graph, weightOptions)
      let compileSeconds = Date().timeIntervalSince(start)
      try CompiledPackage(source: source, batch: batch, strategy: thePlan.strategy, devices: deviceOptions.devices,
                          planJSON: thePlan.json(), weights: weights, weightsOrigin: origin).write(to: output)
      let ops = graph.nodes.filter { $0.op != .input }.count
      if json {
        printJSON(["package": output, "network": graph.name, "batch": batch, "ops": ops, "strategy": thePlan.strategy,
                   "devices": thePlan.devices, "predicted_seconds": thePlan.predictedSeconds,
                   "compile_seconds": compileSeconds, "weights": origin])
      } else {
        print("compiled \(graph.name): \(ops) ops, batch \(batch), strategy \(thePlan.strategy) on \(thePlan.devices.joined(separator: ", ")), "
          + "weights from \(origin), in \(String(format: "%.3f", compileSeconds)) s -> \(output)")
      }
    }
  }
}

func readPlanFile(_ path: String) throws -> Data {
  guard let d = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read plan file \(path)") }
  return d
}
