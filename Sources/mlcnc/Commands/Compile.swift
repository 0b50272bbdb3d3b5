// `mlcnc compile`: source to a package holding the source, weights and plan.

import ArgumentParser
import Foundation
import MLCNDriver
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

/// The artifacts of the pipeline's stages that `compile --emit` writes.
enum Stage: String, ExpressibleByArgument, CaseIterable {
  case ir, plan, kernels, package
}

struct Compile: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compile a network into a package (.mlcnpkg) with its weights and placement plan.",
    discussion: "With --emit, write the artifact of one stage of the pipeline instead: the graph IR (ir), the placement plan as JSON (plan), or the specialised OpenCL C of every kernel per device with the steps that run it (kernels). Without -o it goes to standard output.")

  @Argument(help: "The network (.mlcn).") var network: String
  @Option(name: .shortAndLong, help: "The file to write (the package, or the --emit artifact).") var output: String?
  @Option(help: "The stage whose artifact to write: \(Stage.allCases.map(\.rawValue).joined(separator: ", ")).")
  var emit: Stage = .package
  @Option(help: "The batch size N to compile and plan for (running another batch size also works).") var batch = 1
  @OptionGroup var weightOptions: WeightOptions
  @OptionGroup var deviceOptions: DeviceOptions
  @Option(help: "Use this plan (JSON from `mlcnc plan --json`) instead of planning.") var plan: String?
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws {
    guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    guard output != nil || emit != .package else { throw ValidationError("give the package to write with -o FILE.mlcnpkg") }
  }

  /// Writes an artifact to -o, or to stdout.
  private func write(_ text: String) throws {
    guard let output else { print(text, terminator: ""); return }
    try writeText(text, to: output)
  }

  func run() throws {
    try reportingErrors {
      let start = Date()
      let source = try SourceFile.load(path: network)
      let graph = try Pipeline.ir(source, batch: batch)
      if emit == .ir { return try write(Printer.print(graph)) }
      let strategy = deviceOptions.strategy ?? .auto
      let model = Model(source: source, weights: [:], weightsOrigin: "", compiledBatch: batch,
                        strategy: strategy, devices: deviceOptions.devices, plan: nil)
      let explicit = try plan.map { path in try Plan.decode(try readPlanFile(path), file: path) }
      let target = try realTarget(deviceOptions.devices)
      // Plan first: it checks that the network fits the devices before any weight is made.
      let thePlan = try model.plan(for: graph, times: target.times, strategy: strategy, seed: weightOptions.seed,
                                   explicit: explicit)
      let programs = try Pipeline.kernels(source, graph, plan: thePlan, machine: target.times.machine,
                                                options: try codegenOptions())
      if emit == .plan { return try write(thePlan.json()) }
      if emit == .kernels { return try write(programs.listing()) }
      guard let output else { return }
      let (weights, origin) = try weightsFor(graph, weightOptions)
      let compileSeconds = Date().timeIntervalSince(start)
      try CompiledPackage(source: source, batch: batch, strategy: thePlan.strategy, devices: deviceOptions.devices,
                          planJSON: thePlan.json(), weights: weights, weightsOrigin: origin).write(to: output)
      let ops = graph.nodes.filter { !$0.op.isHostProvided }.count
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
