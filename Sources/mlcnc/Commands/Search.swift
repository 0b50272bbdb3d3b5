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
  @Option(help: "Adam's learning rate for the candidates' training.") var lr = 0.003
  @Option(help: "Seed of the search (and of each candidate's initial weights).") var seed: UInt64 = 0
  @Option(help: "Output folder.") var out: String
  @Flag(help: "Print the Pareto front as JSON.") var json = false

  func validate() throws {
    guard (machine == nil) != (devices == nil) else { throw ValidationError("give either --machine M.json or --devices IDS") }
    guard population >= 4 else { throw ValidationError("--population must be at least 4") }
    guard generations >= 0 else { throw ValidationError("--generations must be 0 or more") }
    guard epochs >= 1, batch >= 1 else { throw ValidationError("--epochs and --batch must be at least 1") }
    guard lr > 0 else { throw ValidationError("--lr must be positive") }
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
      // Candidates train one per device at the same time: on --devices, else on the default device.
      var training: Training?
      if objectives.contains(.accuracy), let data, let val {
        // Read once here, so that a bad file stops the search before any candidate runs.
        _ = try Dataset.read(data)
        _ = try Dataset.read(val)
        training = Training(trainFile: data, valFile: val,
                            devices: machine == nil ? target.devices : try realTarget(nil).devices,
                            epochs: epochs, lr: lr)
      }
      let scorer = CandidateScorer(objectives: objectives, batch: batch, seed: seed, directory: dir, times: target.times,
                                   devices: machine == nil ? target.devices : [], training: training)
      let settings = [self.space, machine ?? "devices \(devices!)", objectives.map(\.rawValue).joined(separator: ","),
                      "batch \(batch)", "epochs \(epochs)", "lr \(lr)", "seed \(seed)", data ?? "", val ?? ""].joined(separator: " | ")
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

/// How candidates are trained for the accuracy objective: `mlcnc train` with Adam for
/// `epochs` on `trainFile` (shuffled per epoch from the search seed), evaluated on `valFile`.
struct Training {
  var trainFile: String
  var valFile: String
  var devices: [CLDevice]
  var epochs: Int
  var lr: Double
}

/// Scores candidates: the planner's (or the devices') view of each, and its accuracy after
/// training when that is an objective.
struct CandidateScorer {
  var objectives: [Objective]
  var batch: Int
  var seed: UInt64
  var directory: URL
  var times: TimeModel
  /// Real devices to measure latency on (empty: predicted on the machine file).
  var devices: [CLDevice]
  var training: Training?

  func score(_ candidates: [Candidate]) throws -> [CandidateScore] {
    var scores = try candidates.map { c in
      var s = try HardwareObjectives.score(c.source, name: c.name, batch: batch, times: times)
      if s.violation <= 0 && !devices.isEmpty { s.latencySeconds = try measuredLatency(c) }
      return s
    }
    guard let training else { return scores }
    // Feasible candidates train side by side, one per device.
    let feasible = scores.indices.filter { scores[$0].violation <= 0 }
    let results = try inParallel(feasible.count, workers: training.devices.count) { k, worker in
      try train(candidates[feasible[k]], training, device: training.devices[worker])
    }
    for (k, i) in feasible.enumerated() { (scores[i].accuracy, scores[i].weights) = results[k] }
    return scores
  }

  /// Trains candidate `c` on `device` with `mlcnc train` in a process of its own, saves
  /// its weights in the output folder and returns its validation accuracy and the
  /// weights' file name. A process per candidate, because PoCL aborts when one process
  /// releases OpenCL objects from several threads while identical kernels run on another
  /// device; a failing candidate leaves its log (`<name>.log`) and stops the search.
  func train(_ c: Candidate, _ t: Training, device: CLDevice) throws -> (Double, String) {
    let network = directory.appendingPathComponent("\(c.name).mlcn").path
    let file = "\(c.name).safetensors", log = directory.appendingPathComponent("\(c.name).log").path
    try writeText(c.source, to: network)
    guard FileManager.default.createFile(atPath: log, contents: nil), let logHandle = FileHandle(forWritingAtPath: log) else {
      throw SearchError("\(log): cannot create the candidate's training log")
    }
    defer { try? logHandle.close() }
    let process = Process()
    process.executableURL = Bundle.main.executableURL
    process.arguments = ["train", network, "--data", t.trainFile, "--val", t.valFile, "--epochs", "\(t.epochs)",
                         "--batch", "\(batch)", "--optimizer", "adam", "--lr", "\(t.lr)", "--seed", "\(seed)",
                         "--devices", device.name, "--save", directory.appendingPathComponent(file).path, "--json"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = logHandle
    do { try process.run() } catch { throw SearchError("cannot start mlcnc train for candidate \(c.name): \(error.localizedDescription)") }
    let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let epochs = printed.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    guard process.terminationStatus == 0, let accuracy = epochs.last?["val_accuracy"] as? Double else {
      let why = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").suffix(3).joined(separator: "\n") ?? ""
      throw SearchError("candidate \(c.name) (\(network)): training failed (exit \(process.terminationStatus)); see \(log):\n\(why)")
    }
    return (accuracy, file)
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

/// Runs `work(k, worker)` for k in 0..<count on `workers` threads (worker w takes the next k
/// when it is free) and returns the results in order; the first error wins.
func inParallel<T>(_ count: Int, workers: Int, _ work: @escaping (Int, Int) throws -> T) throws -> [T] {
  let state = ParallelWork(count: count, work: work)
  let group = DispatchGroup()
  for w in 0..<max(1, min(workers, count)) {
    group.enter()
    Thread { [state] in
      defer { group.leave() }
      state.drain(worker: w)
    }.start()
  }
  group.wait()
  if let failure = state.failure { throw failure }
  return state.results.map { $0! }
}

/// The shared queue of `inParallel`: every field is read and written under `lock`.
private final class ParallelWork<T>: @unchecked Sendable {
  let lock = NSLock()
  var results: [T?]
  var next = 0
  var failure: Error?
  let work: (Int, Int) throws -> T

  init(count: Int, work: @escaping (Int, Int) throws -> T) {
    results = Array(repeating: nil, count: count)
    self.work = work
  }

  func drain(worker: Int) {
    while true {
      let k: Int? = lock.withLock {
        guard failure == nil, next < results.count else { return nil }
        next += 1
        return next - 1
      }
      guard let k else { return }
      do {
        let r = try work(k, worker)
        lock.withLock { results[k] = r }
      } catch {
        lock.withLock { failure = failure ?? error }
      }
    }
  }
}
