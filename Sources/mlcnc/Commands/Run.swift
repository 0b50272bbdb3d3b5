// `mlcnc run`: run a package (or a .mlcn, compiled on the fly) on .npy inputs.

import ArgumentParser
import Foundation
import MLCNDriver
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a compiled package (or a .mlcn directly) on OpenCL devices.",
    discussion: """
      Inputs and outputs are NumPy .npy files (float32, C order). The inputs may hold any \
      number of samples: they run in batches of --batch (a package: its compiled batch), \
      the last one smaller, and all outputs are written. Without --output the outputs \
      are printed. --repeat K runs K more times after the first run and reports the \
      median time per batch.
      """)

  @Argument(help: "A package (.mlcnpkg) or a network (.mlcn).") var network: String
  @Option(name: .customLong("input"), help: "NAME=FILE.npy for each input (a bare FILE.npy when there is one).")
  var inputs: [String] = []
  @Option(name: .customLong("output"), help: "NAME=FILE.npy for each output to save (a bare FILE.npy when there is one).")
  var outputs: [String] = []
  @OptionGroup var weightOptions: WeightOptions
  @OptionGroup var deviceOptions: DeviceOptions
  @Option(help: "Run with this plan (JSON from `mlcnc plan --json`).") var plan: String?
  @Option(name: .customLong("repeat"), help: "Timed runs after the first one.") var repeatCount = 0
  @Option(name: .customLong("batch"), help: "Run the inputs in batches of this many samples (the last may be smaller). Default: a package's compiled batch when the inputs hold more samples, else all of them at once.")
  var batchSize: Int?
  @Option(help: "Write a Chrome trace (chrome://tracing, Perfetto) of the last run.") var trace: String?
  @Flag(help: "Print one JSON object.") var json = false
  @Flag(help: "When a device fails (it is missing, a kernel does not build there, it runs out of memory, or an OpenCL call fails during a batch), plan again over the other devices, with a warning, and run there.")
  var fallback = false

  func validate() throws {
    guard repeatCount >= 0 else { throw ValidationError("--repeat must be 0 or more") }
    if let batchSize, batchSize < 1 { throw ValidationError("--batch must be at least 1") }
    guard !inputs.isEmpty else { throw ValidationError("give the network's inputs with --input NAME=FILE.npy") }
  }

  func run() throws {
    try reportingErrors {
      var model = try loadModel()
      // The input names come from the source itself: the graph is lowered once, for the
      // batch the inputs hold.
      let statements = try Parser.parse(model.source).statements
      let inputNames = statements.compactMap { stmt -> String? in
        if case .input(let name, _, _) = stmt { name.text } else { nil }
      }
      let outputNames = statements.flatMap { stmt -> [String] in
        if case .output(let names) = stmt { names.map(\.text) } else { [] }
      }
      var tensors: [String: HostTensor] = [:]
      var files: [String: String] = [:]
      for (name, path) in try namedPaths(inputs, names: inputNames, what: "input") {
        tensors[name] = try NPY.read(path)
        files[name] = path
      }
      for name in inputNames where tensors[name] == nil { throw ValidationError("missing --input \(name)=FILE.npy") }
      let total = tensors[inputNames[0]]!.shape.first ?? 0
      guard total >= 1 else { throw RuntimeError("\(files[inputNames[0]]!): input has no batch dimension") }
      for name in inputNames where tensors[name]!.shape.first != total {
        throw RuntimeError("\(files[name]!): \(tensors[name]!.shape.first ?? 0) samples, but \(files[inputNames[0]]!) has \(total)")
      }
      // Batches: --batch, else a package's compiled batch when the inputs hold more, else all.
      let batch = min(batchSize ?? (network.hasSuffix(".mlcn") ? total : max(model.compiledBatch, 1)), total)
      let chunks = stride(from: 0, to: total, by: batch).map { $0..<min($0 + batch, total) }
      var target = try selectTarget(deviceOptions.devices ?? storedDevices(model))
      var explicit = try plan.map { path in try Plan.decode(try readPlanFile(path), file: path) }
      let cache = ProgramCache(directory: Caches.kernels)
      if isatty(STDERR_FILENO) != 0 {
        cache.onCompile = { file, device in printError("compiling \(file) for device \(device) (cached for later runs)...") }
      }

      // Graph, plan, programs and runner per batch size: the full batches and, when the
      // inputs do not divide evenly, the last one.
      var stages: [Int: BatchStage] = [:]
      var setupSeconds = 0.0
      var weightsLoaded = false  // read or made once, even when --fallback plans again
      func stage(_ size: Int) throws -> BatchStage {
        if let s = stages[size] { return s }
        let graph = try Pipeline.ir(model.source, batch: size)
        for id in graph.inputs {
          let n = graph[id], t = tensors[n.name]!
          guard Array(t.shape.dropFirst()) == Array(n.type.shape.dropFirst()) else {
            let want = "[N, " + n.type.shape.dropFirst().map(String.init).joined(separator: ", ") + "]"
            throw RuntimeError("\(files[n.name]!): shape \(t.shape) does not match input '\(n.name)' \(want)")
          }
        }
        let thePlan = try model.plan(for: graph, times: target.times, strategy: deviceOptions.strategy, seed: weightOptions.seed,
                                     explicit: size == batch ? explicit : nil)
        let programs = try Pipeline.kernels(model.source, graph, plan: thePlan, machine: target.times.machine,
                                                options: try codegenOptions())
        // A .mlcn gets its weights only now, once its inputs and a plan that fits are known.
        if !weightsLoaded && (network.hasSuffix(".mlcn") || weightOptions.weights != nil) {
          (model.weights, model.weightsOrigin) = try weightsFor(graph, weightOptions)
          weightsLoaded = true
        }
        let start = Date()
        let runner = try Pipeline.executable(programs, devices: target.devices, weights: model.weights,
                                             weightsOrigin: model.weightsOrigin, cache: cache)
        setupSeconds += Date().timeIntervalSince(start)
        let s = BatchStage(graph: graph, plan: thePlan, programs: programs, runner: runner)
        stages[size] = s
        return s
      }
      let outputPaths = try namedPaths(outputs, names: outputNames, what: "output")

      // Runs every batch once, streaming: while a batch computes, the next batch's inputs
      // are uploaded (when it runs on the same runner). Returns the gathered outputs, each
      // batch's seconds (start to outputs read) and, with --trace, every batch's timings.
      func pass() throws -> (outputs: [String: HostTensor], seconds: [Double], timings: [StepTiming]) {
        var parts: [String: [HostTensor]] = [:]
        var seconds: [Double] = []
        var timings: [StepTiming] = []
        var inFlight: (runner: any GraphRunner, began: Date)?
        func land() throws {
          guard let f = inFlight else { return }
          inFlight = nil
          let out = try f.runner.finish()
          seconds.append(Date().timeIntervalSince(f.began))
          if trace != nil {
            timings += f.runner.timings().map { t in var t = t; t.batch = seconds.count - 1; return t }
          }
          for (name, t) in out { parts[name, default: []].append(t) }
        }
        do {
          for chunk in chunks {
            let s = try stage(chunk.count)
            let slice = chunks.count == 1 ? tensors : tensors.mapValues { $0.samples(chunk) }
            if let f = inFlight, f.runner === s.runner { try s.runner.prefetch(slice) }
            try land()
            try s.runner.start(slice)
            inFlight = (s.runner, Date())
          }
          try land()
        } catch {
          // Every queue finishes before the error is reported.
          if let f = inFlight { _ = try? f.runner.finish() }
          throw error
        }
        return (parts.mapValues { $0.count == 1 ? $0[0] : HostTensor(concatenatingSamples: $0) }, seconds, timings)
      }
      // The first pass: with --fallback, a device that fails is left out and the network
      // planned again over the others.
      var start = Date()
      var first: (outputs: [String: HostTensor], seconds: [Double], timings: [StepTiming])
      while true {
        do {
          start = Date()
          first = try pass()
          break
        } catch {
          target = try selectTarget(try leavingOut(error, of: target.devices.map(\.name)))
          stages = [:]
          setupSeconds = 0
          explicit = nil
        }
      }
      let main = try stage(batch)
      let graph = main.graph, thePlan = main.plan
      var results = first.outputs
      var lastTimings = first.timings
      let firstSeconds = Date().timeIntervalSince(start)
      var runTimes: [Double] = []
      var batchTimes = zip(chunks, first.seconds).filter { $0.0.count == batch }.map(\.1)
      for k in 0..<repeatCount {
        start = Date()
        let r = try pass()
        runTimes.append(Date().timeIntervalSince(start))
        results = r.outputs
        lastTimings = r.timings
        let full = zip(chunks, r.seconds).filter { $0.0.count == batch }.map(\.1)
        batchTimes = k == 0 ? full : batchTimes + full
      }
      // The median time of a full batch (after the warm-up pass when there are repeats).
      let perBatch = batchTimes.sorted()[batchTimes.count / 2]
      let samplesPerSecond = Double(total) / (runTimes.isEmpty ? firstSeconds : runTimes.sorted()[runTimes.count / 2])
      let executor = main.runner
      let used = executor.devices

      // Op times are kept per op signature, which includes the batch: a batch split's
      // slices run other shapes than `graph`, so only runs of one program are recorded
      // (a plan with split ops under its expanded graph: each part with its own shape).
      if main.programs.parts.count == 1 && main.programs.parts[0].range == nil {
        var measured = target.times.measured
        TimingStore.record(executor.timings(), graph: main.programs.parts[0].graph, devices: used, into: &measured)
        TimingStore.save(measured, to: Caches.timesFile)
      }
      for (name, path) in outputPaths { try NPY.write(results[name]!, to: path) }
      if let trace { try Trace.write(lastTimings, to: trace) }

      if json {
        var outs: [String: Any] = [:]
        for o in graph.outputs {
          let t = results[o.name]!
          outs[o.name] = ["shape": t.shape, "values": t.data.map(Double.init)] as [String: Any]
        }
        printJSON(["network": graph.name, "batch": batch, "samples": total, "batches": chunks.count,
                   "samples_per_second": samplesPerSecond, "device_memory_bytes": executor.memoryBytes, "devices": used.map(\.name), "strategy": thePlan.strategy,
                   "seconds_per_batch": perBatch, "first_run_seconds": firstSeconds, "setup_seconds": setupSeconds,
                   "runs": runTimes.count + 1, "kernels_compiled": cache.compiledFromSource,
                   "kernels_loaded_from_cache": cache.loadedFromDisk, "outputs": outs])
        return
      }
      for o in graph.outputs where !outputPaths.contains(where: { $0.name == o.name }) {
        print(format(o.name, results[o.name]!))
      }
      for (name, path) in outputPaths { print("\(name): \(results[name]!.shape) -> \(path)") }
      let devs = used.map { "\($0.name) (\($0.deviceName))" }.joined(separator: ", ")
      print(String(format: "time per batch: %.3f ms (batch %d, %@, %@)", perBatch * 1000, batch,
                   runTimes.isEmpty ? "first run" : "median of \(runTimes.count) runs", devs))
      if chunks.count > 1 {
        print(String(format: "%d samples in %d batches: %.1f samples per second", total, chunks.count, samplesPerSecond))
      }
      printError(String(format: "setup %.3f s (%d kernels compiled, %d loaded from cache), first run %.3f s",
                        setupSeconds, cache.compiledFromSource, cache.loadedFromDisk, firstSeconds))
    }
  }

  private func loadModel() throws -> Model {
    if network.hasSuffix(".mlcn") {
      // Weights come after the inputs are checked (see run()).
      return Model(source: try SourceFile.load(path: network), weights: [:], weightsOrigin: "", compiledBatch: 1,
                   strategy: deviceOptions.strategy ?? .auto, devices: nil, plan: nil)
    }
    return try Model(package: network)
  }

  /// The devices of `spec` and their machine; with --fallback a device that is missing or
  /// fails to be measured is left out, with a warning.
  private func selectTarget(_ spec: String?) throws -> (devices: [CLDevice], times: TimeModel) {
    var spec = spec
    while true {
      do { return try realTarget(spec) } catch {
        let names: [String]
        if let e = error as? DeviceSelectionError, e.missing != nil {
          names = (spec ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0.contains(":") ? $0 : "0:\($0)" }
        } else {
          names = (try? CLDevices.select(spec))?.map(\.name) ?? []
        }
        spec = try leavingOut(error, of: names)
      }
    }
  }

  /// With --fallback, the devices of `names` other than the one `error` blames (as a
  /// `--devices` list), after a warning; otherwise, or when none would be left, `error`.
  private func leavingOut(_ error: Error, of names: [String]) throws -> String {
    guard fallback, let bad = failingDevice(error), names.contains(bad), names.count > 1 else { throw error }
    let rest = names.filter { $0 != bad }.joined(separator: ",")
    if (error as? DeviceSelectionError)?.missing != nil {
      printError("warning: device \(bad) is missing; planning over \(rest) instead")
    } else {
      let why = errorMessage(error).split(separator: "\n").first.map(String.init) ?? ""
      printError("warning: device \(bad) failed (\(why.replacingOccurrences(of: "error: ", with: ""))); planning again over \(rest)")
    }
    return rest
  }

  /// The package's devices when they exist here; otherwise the default device, with a note.
  private func storedDevices(_ model: Model) -> String? {
    guard let stored = model.devices else { return nil }
    if (try? CLDevices.select(stored)) != nil { return stored }
    note("the package was compiled for devices '\(stored)', which are not all here; using the default device")
    return nil
  }

  /// Small matrices (a batch of class scores) row by row with each row's argmax; other
  /// tensors as their first values.
  private func format(_ name: String, _ t: HostTensor) -> String {
    func list(_ v: ArraySlice<Float>) -> String { v.map { String(format: "%.6g", $0) }.joined(separator: ", ") }
    if t.shape.count == 2, t.shape[0] <= 16, t.shape[1] <= 16 {
      let cols = t.shape[1]
      let rows = (0..<t.shape[0]).map { r in
        let row = t.data[r * cols..<(r + 1) * cols]
        return "  \(name)[\(r)] = [\(list(row))]  argmax \(row.indices.max { row[$0] < row[$1] }! - r * cols)"
      }
      return "\(name) \(t.shape):\n" + rows.joined(separator: "\n")
    }
    return "\(name) \(t.shape): [\(list(t.data.prefix(64)))\(t.count > 64 ? ", ... (\(t.count) values)" : "")]"
  }
}

/// What runs one batch size: its graph, plan, kernel programs and runner.
struct BatchStage {
  var graph: Graph
  var plan: Plan
  var programs: Programs
  var runner: any GraphRunner
}
