// Training (DESIGN.md section 7) on top of the compile pipeline: the training graph
// (forward in training mode, loss, backward, optionally the optimizer update) and a
// session that runs training steps on devices, keeping every parameter's value (weights,
// optimizer state, running statistics) on the host between steps.
//
// A step (TrainingSession.step):
//  1. Take (or build once per batch size) the training graph's executor.
//  2. Write every parameter's current value, the batch, its labels and the dropout masks
//     drawn for this step.
//  3. Run; the per-sample losses and the `update:` (or `grad:`) outputs come back; the
//     updates become the parameters' values.

import Foundation
import MLCNBase
import MLCNCodegen
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

public struct TrainingError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { "error: \(message)" }
}

public enum TrainingGraph {
  /// Forward (training mode) + loss + backward, and the update when `optimizer` is given.
  /// `meanOver`: the batch the loss is averaged over (default: `batch`).
  public static func build(_ source: SourceFile, batch: Int, loss: LossKind?, optimizer: Optimizer?,
                           meanOver: Int? = nil) throws -> Graph {
    var g = try Compiler.graph(source, options: CompileOptions(batch: batch))
    TrainingMode().run(&g)
    try Verifier.verify(g)
    return try differentiate(g, loss: loss, optimizer: optimizer, meanOver: meanOver)
  }

  /// Loss, backward and (with `optimizer`) update appended to a training-mode forward graph.
  /// `verify`: false for a split graph, whose parts hold fewer samples than the batch.
  static func differentiate(_ forward: Graph, loss: LossKind?, optimizer: Optimizer?, meanOver: Int? = nil,
                            verify: Bool = true) throws -> Graph {
    var g: Graph
    do { g = try Autodiff(loss: loss, meanOver: meanOver).differentiate(forward) } catch {
      throw TrainingError("network '\(forward.name)': \(error.message)")
    }
    if let optimizer { OptimizerUpdate(optimizer).run(&g) } else { g.outputs += OptimizerUpdate.runningStatistics(g) }
    DeadCodeElimination().run(&g)
    if verify { try Verifier.verify(g) }
    return g
  }

  /// The dropout masks of one step: for each mask input (attribute `dropout=p`), in graph
  /// order, element by element from one SplitMix64 stream seeded with `seed + (step << 32)`:
  /// 0 where the draw is below p, else 1/(1-p). tools/torch_ref.py draws the same.
  /// `batch`: the whole batch when `g` is a replica's graph for a slice of it (the masks
  /// are drawn for the whole batch, so a split batch gets the same masks).
  public static func masks(_ g: Graph, seed: UInt64, step: Int, batch: Int? = nil) -> [String: HostTensor] {
    var rng = SplitMix64(seed: seed &+ (UInt64(step) << 32))
    var out: [String: HostTensor] = [:]
    for id in g.inputs {
      guard case .float(let p) = g[id].attributes["dropout"] else { continue }
      let keep = Float(1 / (1 - p))
      let shape = [batch ?? g.batch] + g[id].type.shape.dropFirst()
      out[g[id].name] = HostTensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.nextUnit() < Float(p) ? 0 : keep })
    }
    return out
  }
}

/// Runs training steps (or gradient computations) on one or several devices.
public final class TrainingSession {
  public let source: SourceFile
  public let loss: LossKind?
  public let optimizer: Optimizer?
  public let seed: UInt64
  /// single, data-parallel (a training graph per replica, gradients summed on the host),
  /// or a planner strategy whose forward plan the training graph follows (lanes, layerwise, ...).
  public let strategy: Strategy
  /// Every parameter's value by name: weights, optimizer state, running statistics.
  public private(set) var parameters: [String: HostTensor]
  /// Steps taken (each draws its own dropout masks; Adam counts them).
  public private(set) var steps = 0
  let devices: [CLDevice]
  let times: TimeModel
  let cache: ProgramCache
  private var stages: [Int: Stage] = [:]
  private var updater: (graph: Graph, executor: Executor)?

  private enum Stage {
    /// One training graph over the devices; `placed` says which of its parameters hold
    /// regions of the network's (a layer-wise plan).
    case whole(Graph, Executor, placed: PlacedTraining?)
    /// Per device: the samples, the gradient graph for them and its executor.
    case split([(range: Range<Int>, graph: Graph, executor: Executor)])
  }

  public init(source: SourceFile, weights: [String: HostTensor], loss: LossKind?, optimizer: Optimizer?, seed: UInt64,
              devices: [CLDevice], times: TimeModel, strategy: Strategy, cache: ProgramCache) {
    self.source = source
    self.parameters = weights
    self.loss = loss
    self.optimizer = optimizer
    self.seed = seed
    self.devices = devices
    self.times = times
    self.strategy = devices.count > 1 ? strategy : .single
    self.cache = cache
  }

  /// The training graph for a batch size (a data-parallel replica's for its slice).
  public func graph(batch: Int) throws -> Graph {
    switch try stage(batch) {
    case .whole(let g, _, _): g
    case .split(let parts): parts[0].graph
    }
  }

  private func executor(_ g: Graph, placement: [Int], devices: [CLDevice], placed: PlacedTraining? = nil) throws -> Executor {
    // State the optimizer adds starts at its initializer (zeros), at the network parameter's shape.
    for (name, t) in Weights.initialize(g, seed: 0) {
      if let (full, r) = placed?.region(of: name) {
        if parameters[full] == nil { parameters[full] = HostTensor(zeros: r.shape) }
      } else if parameters[name] == nil {
        parameters[name] = t
      }
    }
    let descriptors = devices.map { d in times.machine.devices.first { $0.name == d.name }! }
    let program = KernelProgram.build(g, placement: placement, devices: descriptors)
    return try Executor(program: program, graph: g, devices: devices, parameters: bound(g, placed), programs: cache)
  }

  /// The values of `g`'s parameters: the network's, cut to the regions a split graph holds.
  private func bound(_ g: Graph, _ placed: PlacedTraining?) -> [ValueID: HostTensor] {
    var out: [ValueID: HostTensor] = [:]
    for p in g.parameters {
      let name = g[p].name
      if let (full, r) = placed?.region(of: name) { out[p] = parameters[full]?.region(r.region) } else { out[p] = parameters[name] }
    }
    return out
  }

  private func stage(_ batch: Int) throws -> Stage {
    if let s = stages[batch] { return s }
    let s: Stage
    switch strategy {
    case .single:
      let g = try TrainingGraph.build(source, batch: batch, loss: loss, optimizer: optimizer)
      s = .whole(g, try executor(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [devices[0]]), placed: nil)
    case .dataParallel:
      let k = min(devices.count, batch)
      let ranges = (0..<k).map { i in (i * batch / k) ..< ((i + 1) * batch / k) }
      s = .split(try ranges.enumerated().map { i, range in
        let g = try TrainingGraph.build(source, batch: range.count, loss: loss, optimizer: nil, meanOver: batch)
        return (range, g, try executor(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [devices[i]]))
      })
      if updater == nil, let optimizer {
        let forward = try Compiler.graph(source, options: CompileOptions(batch: 1))
        let trainable = forward.parameters.filter { forward[$0].attributes["trainable"] != .bool(false) }
        let g = OptimizerUpdate.standalone(trainable.map { (forward[$0].name, forward[$0].type.shape) }, optimizer: optimizer,
                                           name: forward.name + ".update")
        try Verifier.verify(g)
        updater = (g, try executor(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [devices[0]]))
      }
    default:
      // The forward plan (with the training step's memory as the lanes' caps), carried
      // over to the training graph.
      let placed = try TrainingGraph.place(source, batch: batch, loss: loss, optimizer: optimizer, strategy: strategy,
                                           times: times, seed: seed)
      let index = times.machine.devices.map { d in devices.firstIndex { $0.name == d.name }! }
      s = .whole(placed.graph, try executor(placed.graph, placement: placed.placement.map { index[$0] }, devices: devices,
                                            placed: placed), placed: placed)
    }
    stages[batch] = s
    return s
  }

  /// Device times of every step of the last training step (for `--trace`).
  public func timings() -> [StepTiming] {
    stages.values.flatMap { stage -> [StepTiming] in
      switch stage {
      case .whole(_, let e, _): e.timings()
      case .split(let parts): parts.flatMap { $0.executor.timings() }
      }
    } + (updater?.executor.timings() ?? [])
  }

  /// How many steps (kernels, library calls, copies) each device runs per training step of `batch` (device name, steps).
  public func deviceUse(batch: Int) throws -> [(device: String, steps: Int)] {
    var count: [String: Int] = [:]
    switch try stage(batch) {
    case .whole(_, let e, _):
      for s in e.program.steps where s.label != "copy" { count[e.devices[s.device].name, default: 0] += 1 }
    case .split(let parts):
      for p in parts { count[p.executor.devices[0].name, default: 0] += p.executor.program.steps.count }
      if let (_, e) = updater { count[e.devices[0].name, default: 0] += e.program.steps.count }
    }
    return devices.map { ($0.name, count[$0.name] ?? 0) }
  }

  /// One step on a batch: the per-sample losses; the gradients by weight name when there
  /// is no optimizer, else the parameters move by one update.
  @discardableResult
  public func step(x: HostTensor, inputName: String, labels: [Int]) throws -> (losses: [Float], gradients: [String: HostTensor]) {
    let batch = x.shape[0]
    if let optimizer, optimizer.kind == .adam {
      parameters[OptimizerUpdate.stepParameter] = HostTensor(shape: [2], data: optimizer.adamFactors(step: steps + 1))
    }
    let labelTensor = HostTensor(shape: [batch], data: labels.map(Float.init))
    var losses: [Float] = []
    var gradients: [String: HostTensor] = [:]
    switch try stage(batch) {
    case .whole(let g, let executor, let placed):
      try executor.write(parameters: bound(g, placed))
      var inputs = TrainingGraph.masks(placed?.split?.forward ?? g, seed: seed, step: steps)
      inputs[inputName] = x
      inputs = placed?.cut(inputs) ?? inputs
      inputs[labelsName(g)] = labelTensor
      let out = try executor.run(inputs)
      losses = out["loss"]!.data
      take(out, into: &gradients, placed: placed)
    case .split(let parts):
      // Every replica computes its slice's gradients at the same time (each device's own
      // thread), then the gradients are summed in replica order.
      let masks = TrainingGraph.masks(parts[0].graph, seed: seed, step: steps, batch: batch)
      for p in parts {
        try p.executor.write(parameters: Weights.bind(parameters, to: p.graph))
        var inputs = masks.mapValues { $0.samples(p.range) }
        inputs[inputName] = x.samples(p.range)
        inputs[labelsName(p.graph)] = labelTensor.samples(p.range)
        try p.executor.start(inputs)
      }
      var outs: [[String: HostTensor]] = []
      var failure: Error?
      for p in parts {
        do { outs.append(try p.executor.finish()) } catch { failure = failure ?? error }
      }
      if let failure { throw failure }
      losses = outs.flatMap { $0["loss"]!.data }
      for (name, t) in outs[0] where name.hasPrefix("grad:") {
        var sum = t.data
        for o in outs.dropFirst() { for (i, v) in o[name]!.data.enumerated() { sum[i] += v } }
        gradients[String(name.dropFirst(5))] = HostTensor(shape: t.shape, data: sum)
      }
      // Running statistics: the first replica's (each replica normalises its own slice).
      for (name, t) in outs[0] where name.hasPrefix("update:") { parameters[String(name.dropFirst(7))] = t }
      if let (g, executor) = updater {
        try executor.write(parameters: Weights.bind(parameters, to: g))
        var inputs: [String: HostTensor] = [:]
        for (name, t) in gradients { inputs[name + ".grad"] = t }
        take(try executor.run(inputs), into: &gradients)
        gradients = [:]
      }
    }
    steps += 1
    return (losses, gradients)
  }

  private func labelsName(_ g: Graph) -> String {
    g.inputs.map { g[$0].name }.last { $0 == "labels" || $0.hasPrefix("labels.") } ?? "labels"
  }

  /// `update:` outputs become the parameters' values; `grad:` outputs are returned. A
  /// region of a network parameter (`placed`) goes into its place.
  private func take(_ out: [String: HostTensor], into gradients: inout [String: HostTensor], placed: PlacedTraining? = nil) {
    for (name, t) in out {
      let update = name.hasPrefix("update:"), grad = name.hasPrefix("grad:")
      guard update || grad else { continue }
      let key = String(name.dropFirst(update ? 7 : 5))
      if let (full, r) = placed?.region(of: key) {
        if update { parameters[full]!.place(t, at: r.region) } else {
          gradients[full, default: HostTensor(zeros: r.shape)].place(t, at: r.region)
        }
      } else if update {
        parameters[key] = t
      } else {
        gradients[key] = t
      }
    }
  }

  /// The network's weights (the parameters the forward graph reads), without optimizer state.
  public func weights(for forward: Graph) -> [String: HostTensor] {
    var out: [String: HostTensor] = [:]
    for (name, _) in forward.weights() { out[name] = parameters[name] }
    return out
  }
}
