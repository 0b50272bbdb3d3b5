// `mlcnc plan`: place a network's ops on real or virtual devices, print a summary table
// and export the plan as JSON (readable back with --plan) or Graphviz DOT.

import ArgumentParser
import Foundation
import MLCNBase
import MLCNCodegen
import MLCNDriver
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

struct PlanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan",
    abstract: "Plan where each op runs; print a per-device table and export JSON or Graphviz DOT.",
    discussion: """
      Strategies: \(Strategy.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")).

      Plan for this host's OpenCL devices with --devices, or for a machine that need not \
      exist here with --machine M.json (see graphs/machines/). Predicted times come from \
      the makespan simulator, with op times measured by earlier runs where known.
      """)

  @Argument(help: "A network (.mlcn) or package (.mlcnpkg).") var network: String
  @Option(help: "The batch size N.") var batch = 1
  @Option(name: .customLong("devices"), help: "OpenCL devices: ids like 0:0,0:1, or 'all'.") var devices: String?
  @Option(help: "A machine file describing devices and links (instead of --devices).") var machine: String?
  @Option(help: "Placement strategy: \(Strategy.allCases.map(\.rawValue).joined(separator: ", ")).") var strategy: Strategy = .auto
  @Option(help: "Seed for lanes-random.") var seed: UInt64 = 0
  @Option(help: "Write the plan as Graphviz DOT to this file.") var dot: String?
  @Option(name: .customLong("json"), help: "Write the plan as JSON to this file (- for stdout).") var jsonPath: String?
  @Flag(help: "Plan a training step (forward, backward, update; see `mlcnc ir --train`) and report its peak memory per device. Lanes are balanced with the training step's memory as each device's cap.")
  var train = false
  @OptionGroup var lossOption: LossOption
  @Option(help: "With --train: the optimizer (sgd or adam).") var optimizer: Optimizer.Kind = .sgd
  @Option(help: "With --train: SGD momentum (adds a buffer per weight).") var momentum = 0.0

  func validate() throws {
    guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    if devices != nil && machine != nil { throw ValidationError("give either --devices or --machine, not both") }
  }

  func run() throws {
    try reportingErrors {
      let source = network.hasSuffix(".mlcn") ? try SourceFile.load(path: network) : try Model(package: network).source
      let graph = try Pipeline.ir(source, batch: batch)
      let times = try machine.map { TimeModel(machine: try Machine.load($0), kernels: Codegen.reporter()) } ?? realTarget(devices).times
      let plan = try Planner.plan(graph, PlanRequest(strategy: strategy, times: times, seed: seed))
      if train { return try reportTraining(source, graph, plan, times) }
      if let jsonPath, jsonPath != "-", plan.ops.first?.parts != nil { try writeText(plan.json(), to: jsonPath) }
      if plan.isLayerwise(for: graph) {
        // Split ops: the report is drawn on the expanded graph (parts, slices, gathers).
        let names = times.machine.devices.map(\.name)
        let split = try SplitGraph.build(graph, configurations: try plan.configurations(for: graph, devices: names))
        let report = PlanReport(split: split, plan: plan, times: times)
        if let jsonPath {
          if jsonPath == "-" { print(plan.json(), terminator: ""); return }
          try writeText(plan.json(), to: jsonPath)
        }
        if let dot { try writeText(report.dot(), to: dot) }
        print("plan for \(graph.name) (batch \(batch)): strategy \(plan.strategy), predicted \(String(format: "%.3f", plan.predictedSeconds * 1000)) ms per batch")
        print(PlanReport.splits(graph, plan), terminator: "")
        print(report.table(), terminator: "")
        return
      }
      if let split = try plan.batchSplit(for: graph) {
        // A data-parallel plan: every device runs the whole network on its samples.
        if jsonPath == "-" { print(plan.json(), terminator: ""); return }
        if let dot { try writeText(batchSplitDot(graph, plan, split), to: dot) }
        print("plan for \(graph.name) (batch \(batch)): strategy \(plan.strategy), predicted \(String(format: "%.3f", plan.predictedSeconds * 1000)) ms per batch")
        for part in split {
          print("  \(part.device): samples \(part.range.lowerBound)..<\(part.range.upperBound) (\(part.range.count)), the whole network, parameters replicated")
        }
        return
      }
      let report = try PlanReport(graph: graph, plan: plan, times: times)
      if let jsonPath {
        if jsonPath == "-" { print(plan.json(), terminator: "") } else { try writeText(plan.json(), to: jsonPath) }
      }
      if let dot { try writeText(report.dot(), to: dot) }
      guard jsonPath != "-" else { return }
      let lanes = LaneDetection.analyze(graph)
      print("plan for \(graph.name) (batch \(batch)): strategy \(plan.strategy), predicted \(String(format: "%.3f", plan.predictedSeconds * 1000)) ms per batch; "
        + "\(lanes.lanes.count) lanes detected" + (lanes.nestingDepth > 1 ? " (lanes nested \(lanes.nestingDepth) deep; the outer ones are balanced)" : ""))
      print(report.table(), terminator: "")
      let reused = MemoryModel.bytesPerDevice(graph, placement: report.placement, devices: times.machine.devices, kernels: times.kernels)
      let whole = MemoryModel.bytesWithoutReuse(graph, placement: report.placement, devices: times.machine.devices, kernels: times.kernels)
      print("peak device memory: \(ByteCount.format(reused.max() ?? 0)) (\(ByteCount.format(whole.max() ?? 0)) without buffer reuse)")
    }
  }
}

extension PlanCommand {
  /// The training step's memory: data-parallel, every device holds a replica's training
  /// graph for its slice (the first also the update); otherwise the training graph placed
  /// as the plan places its forward ops.
  func reportTraining(_ source: SourceFile, _ forward: Graph, _ plan: Plan, _ times: TimeModel) throws {
    let opt = Optimizer(kind: optimizer, momentum: momentum)
    let devices = times.machine.devices
    var peak = Array(repeating: 0, count: devices.count), whole = peak
    func add(_ g: Graph, _ placement: [Int], on subset: [Int]) {
      let descriptors = subset.map { devices[$0] }
      let reused = MemoryModel.bytesPerDevice(g, placement: placement, devices: descriptors, kernels: times.kernels)
      let all = MemoryModel.bytesWithoutReuse(g, placement: placement, devices: descriptors, kernels: times.kernels)
      for (i, d) in subset.enumerated() { peak[d] += reused[i]; whole[d] += all[i] }
    }
    let index = plan.devices.map { name in devices.firstIndex { $0.name == name }! }
    // Data-parallel training runs a training graph per replica; any other plan (a
    // layer-wise one included) is followed by one training graph over the devices.
    if plan.strategy == Strategy.dataParallel.rawValue, let split = try plan.batchSplit(for: forward) {
      for part in split {
        let g = try TrainingGraph.build(source, batch: part.range.count, loss: lossOption.loss, optimizer: nil, meanOver: forward.batch)
        add(g, Array(repeating: 0, count: g.nodes.count), on: [devices.firstIndex { $0.name == part.device }!])
      }
      let trainable = forward.parameters.filter { forward[$0].attributes["trainable"] != .bool(false) }
      let update = OptimizerUpdate.standalone(trainable.map { (forward[$0].name, forward[$0].type.shape) }, optimizer: opt, name: "update")
      add(update, Array(repeating: 0, count: update.nodes.count), on: [index[0]])
    } else {
      // Planned again for the training step: the lanes get its memory as their caps.
      let placed = try TrainingGraph.place(source, batch: forward.batch, loss: lossOption.loss, optimizer: opt,
                                           strategy: Strategy(rawValue: plan.strategy) ?? strategy, times: times, seed: seed)
      add(placed.graph, placed.placement, on: Array(devices.indices))
      if let lanes = placed.plan.laneDevices, !lanes.isEmpty {
        print("lanes of \(forward.name) for training: " + zip(placed.plan.lanes, lanes).map { "\($0.0.first ?? "?") on \($0.1)" }.joined(separator: ", "))
      }
    }
    print("training step of \(forward.name) (batch \(forward.batch), \(optimizer.rawValue)): strategy \(plan.strategy)")
    for (d, device) in devices.enumerated() {
      print("  \(device.name): peak memory \(ByteCount.format(peak[d])) (\(ByteCount.format(whole[d])) without buffer reuse)")
    }
    print("peak device memory: \(ByteCount.format(peak.max() ?? 0))")
  }
}

func writeText(_ text: String, to path: String) throws {
  do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
    throw ValidationError("cannot write \(path): \(error.localizedDescription)")
  }
}

/// Graphviz DOT of a data-parallel plan: one cluster per device with its slice of the batch.
func batchSplitDot(_ g: Graph, _ plan: Plan, _ split: [(device: String, range: Range<Int>)]) -> String {
  var out = "digraph \"\(g.name)\" {\n  label=\"\(g.name), strategy \(plan.strategy), predicted \(String(format: "%.3f", plan.predictedSeconds * 1000)) ms per batch of \(g.batch)\";\n  labelloc=t;\n"
  out += "  \"inputs\" [shape=ellipse];\n  \"outputs\" [shape=ellipse];\n"
  for (i, part) in split.enumerated() {
    out += "  subgraph \"cluster_\(i)\" {\n    label=\"\(part.device)\"; style=filled; color=lightblue;\n"
    out += "    \"part\(i)\" [shape=box, label=\"\(g.name)\\nsamples \(part.range.lowerBound)..<\(part.range.upperBound)\"];\n  }\n"
    out += "  \"inputs\" -> \"part\(i)\";\n  \"part\(i)\" -> \"outputs\";\n"
  }
  return out + "}\n"
}
