// `mlcnc search`: hardware-aware architecture search (DESIGN.md section 8). NSGA-II over
// a search space of multi-lane capsule networks or plain CNNs, with objectives chosen on
// the command line: accuracy after a short training, latency per batch (predicted for a
// machine file, or measured on real devices), peak memory per device and lane balance.

import ArgumentParser
import Foundation
import MLCNBase
import MLCNCodegen
import MLCNDriver
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime
import MLCNSearch

struct Search: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Search network architectures that fit and balance on a machine (NSGA-II).",
    discussion: """
      SPACE.json describes a family of networks (kind mlcn: lanes, conv_filters, \
      conv_kernel, primary_caps, primary_dim, primary_kernel, primary_stride, class_dim, \
      routing; kind cnn: depth, filters, kernel, dense); see DESIGN.md section 8. \
      Objectives: accuracy (training each candidate for --epochs on --data, evaluated on \
      --val), latency (the lanes plan's predicted time per batch on --machine, or measured \
      on --devices), memory (peak per device) and balance (max over mean device busy \
      time of the lanes plan). A candidate that does not fit the machine is infeasible. \
      Scores are cached in DIR/evaluated.json, so a rerun with the same settings resumes. \
      DIR receives pareto.json, pareto.md, front.svg and each Pareto-optimal network \
      (.mlcn, with its trained .safetensors).
      """)

  @Argument(help: "The search space (JSON).") var space: String
  @Option(help: "A machine file: latency and memory as the planner predicts them there.") var machine: String?
  @Option(name: .customLong("devices"), help: "OpenCL devices (ids or 'all'): latency measured on them.") var devices: String?
  @Option(help: "Training data (.npz with x and y), for the accuracy objective.") var data: String?
  @Option(help: "Validation data (.npz), for the accuracy objective.") var val: String?
  @Option(help: "Comma-separated objectives: accuracy, latency, memory, balance.") var objectives = "accuracy,latency"
  @Option(help: "Candidates per generation.") var population = 16
  @Option(help: "Generations after the first population.") var generations = 8
  @Option(help: "Training epochs per candidate (accuracy).") var epochs = 1
  @Option(help: "Batch size: of training, and of the latency per batch.") var batch = 1
  @Option(help: "Seed of the search (and of each candidate's initial weights).") var seed: UInt64 = 0
  @Option(help: "Output folder.") var out: String
  @Flag(help: "Print the Pareto front as JSON.") var json = false

  func validate() throws {
    guard (machine == nil) != (devices == nil) else { throw ValidationError("give either --machine M.json or --devices IDS") }
    guard population >= 4 else { throw ValidationError("--population must be at least 4") }
    guard generations >= 0 else { throw ValidationError("--generations must be 0 or more") }
    guard epochs >= 1, batch >= 1 else { throw ValidationError("--epochs and --batch must be at least 1") }
  }

  func run() throws {
    try reportingErrors {
      let space = try SearchSpace.load(self.space)
      let objectives = try Objective.parse(self.objectives)
      if objectives.contains(.accuracy) && (data == nil || val == nil) {
        throw ValidationError("the accuracy objective needs --data train.npz and --val val.npz")
      }
      let dir = URL(fileURLWithPath: out)
      do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
        throw SearchError("\(out): cannot create the output folder (\(error.localizedDescription))")
      }
      let target = try machine.map { (devices: [CLDevice](), times: TimeModel(machine: try Machine.load($0), kernels: Codegen.reporter())) }
        ?? realTarget(devices)
      let scorer = CandidateScorer(objectives: objectives, batch: batch, epochs: epochs, seed: seed, directory: dir,
                                   times: target.times, devices: machine == nil ? target.devices : [],
                                   data: data, val: val)
      let settings = [self.space, machine ?? "devices \(devices!)", objectives.map(\.rawValue).joined(separator: ","),
                      "batch \(batch)", "epochs \(epochs)", "seed \(seed)", data ?? "", val ?? ""].joined(separator: " | ")
      let search = ArchitectureSearch(space: space, objectives: objectives, population: population, generations: generations,
                                      seed: seed, directory: dir, settings: settings, score: scorer.score,
                                      progress: { printError($0) })
      let result = try search.run()
      try ParetoReport.write(result, objectives: objectives, to: dir)
      if json {
        print(String(decoding: try Data(contentsOf: dir.appendingPathComponent("pareto.json")), as: UTF8.self), terminator: "")
        return
      }
      print("\(result.front.count) Pareto-optimal networks of \(result.scored.count) evaluated (\(result.reused) from an earlier run), in \(out):")
      print(ParetoReport.table(result), terminator: "")
    }
  }
}

/// Scores candidates: the planner's (or the devices') view of each, and its accuracy after
/// training when that is an objective.
struct CandidateScorer {
  var objectives: [Objective]
  var batch: Int
  var epochs: Int
  var seed: UInt64
  var directory: URL
  var times: TimeModel
  /// Real devices to measure latency on (empty: predicted on the machine file).
  var devices: [CLDevice]
  var data: String?
  var val: String?

  func score(_ candidates: [Candidate]) throws -> [CandidateScore] {
    try candidates.map { c in
      var s = try HardwareObjectives.score(c.source, name: c.name, batch: batch, times: times)
      if s.violation <= 0 && !devices.isEmpty { s.latencySeconds = try measuredLatency(c) }
      if s.violation <= 0 && objectives.contains(.accuracy) {
        throw SearchError("the accuracy objective needs training, which this build of mlcnc does not have yet")
      }
      return s
    }
  }

  /// Median of 3 timed runs of the lanes plan on the devices (after one warm-up).
  func measuredLatency(_ c: Candidate) throws -> Double {
    let source = SourceFile(path: "\(c.name).mlcn", text: c.source)
    let graph = try Pipeline.ir(source, batch: batch)
    let plan = try Planner.plan(graph, PlanRequest(strategy: .lanes, times: times))
    let programs = try Pipeline.kernels(source, graph, plan: plan, machine: times.machine)
    let runner = try Pipeline.executable(programs, devices: devices, weights: Weights.initialize(graph, seed: seed),
                                         weightsOrigin: "seed \(seed)",
                                         cache: ProgramCache(directory: Caches.kernels))
    var inputs: [String: HostTensor] = [:]
    for id in graph.inputs {
      let shape = graph[id].type.shape
      inputs[graph[id].name] = HostTensor(shape: shape, data: [Float](repeating: 0.5, count: shape.reduce(1, *)))
    }
    _ = try runner.run(inputs)
    let times = try (0..<3).map { _ in
      let start = Date()
      _ = try runner.run(inputs)
      return Date().timeIntervalSince(start)
    }
    return times.sorted()[1]
  }
}
