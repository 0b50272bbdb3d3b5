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
    do { g = try Autodiff(loss: loss, meanOver: meanOver).differentiate(g) } catch {
      throw TrainingError("network '\(g.name)': \(error.message)")
    }
    if let optimizer { OptimizerUpdate(optimizer).run(&g) }
    DeadCodeElimination().run(&g)
    try Verifier.verify(g)
    return g
  }

  /// The dropout masks of one step: for each mask input (attribute `dropout=p`), in graph
  /// order, element by element from one SplitMix64 stream seeded with `seed + (step << 32)`:
  /// 0 where the draw is below p, else 1/(1-p). tools/torch_ref.py draws the same.
  public static func masks(_ g: Graph, seed: UInt64, step: Int) -> [String: HostTensor] {
    var rng = SplitMix64(seed: seed &+ (UInt64(step) << 32))
    var out: [String: HostTensor] = [:]
    for id in g.inputs {
      guard case .float(let p) = g[id].attributes["dropout"] else { continue }
      let keep = Float(1 / (1 - p))
      out[g[id].name] = HostTensor(shape: g[id].type.shape,
                                   data: (0..<g[id].type.count).map { _ in rng.nextUnit() < Float(p) ? 0 : keep })
    }
    return out
  }
}

/// Runs training steps (or gradient computations) on one device.
public final class TrainingSession {
  public let source: SourceFile
  public let loss: LossKind?
  public let optimizer: Optimizer?
  public let seed: UInt64
  /// Every parameter's value by name: weights, optimizer state, running statistics.
  public private(set) var parameters: [String: HostTensor]
  /// Steps taken (each draws its own dropout masks; Adam counts them).
  public private(set) var steps = 0
  let device: CLDevice
  let descriptor: DeviceDescriptor
  let cache: ProgramCache
  private var stages: [Int: (graph: Graph, executor: Executor)] = [:]

  public init(source: SourceFile, weights: [String: HostTensor], loss: LossKind?, optimizer: Optimizer?, seed: UInt64,
              device: CLDevice, descriptor: DeviceDescriptor, cache: ProgramCache) {
    self.source = source
    self.parameters = weights
    self.loss = loss
    self.optimizer = optimizer
    self.seed = seed
    self.device = device
    self.descriptor = descriptor
    self.cache = cache
  }

  /// The training graph for a batch size (built once).
  public func graph(batch: Int) throws -> Graph { try stage(batch).graph }

  private func stage(_ batch: Int) throws -> (graph: Graph, executor: Executor) {
    if let s = stages[batch] { return s }
    let g = try TrainingGraph.build(source, batch: batch, loss: loss, optimizer: optimizer)
    // State the optimizer adds starts at its initializer (zeros).
    for (name, t) in Weights.initialize(g, seed: 0) where parameters[name] == nil { parameters[name] = t }
    let program = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [descriptor])
    let executor = try Executor(program: program, graph: g, devices: [device], parameters: Weights.bind(parameters, to: g),
                                programs: cache)
    stages[batch] = (g, executor)
    return (g, executor)
  }

  /// One step on a batch: the per-sample losses; the `grad:` outputs by weight name when
  /// there is no optimizer, else the parameters move by one update.
  @discardableResult
  public func step(x: HostTensor, inputName: String, labels: [Int]) throws -> (losses: [Float], gradients: [String: HostTensor]) {
    let batch = x.shape[0]
    let (g, executor) = try stage(batch)
    // 2. Parameters, inputs, masks.
    if let optimizer, optimizer.kind == .adam {
      parameters[OptimizerUpdate.stepParameter] = HostTensor(shape: [2], data: optimizer.adamFactors(step: steps + 1))
    }
    try executor.write(parameters: Weights.bind(parameters, to: g))
    var inputs = TrainingGraph.masks(g, seed: seed, step: steps)
    inputs[inputName] = x
    let labelsName = g.inputs.map { g[$0].name }.first { $0 == "labels" || $0.hasPrefix("labels.") } ?? "labels"
    inputs[labelsName] = HostTensor(shape: [batch], data: labels.map(Float.init))
    // 3. Run and take the results.
    let out = try executor.run(inputs)
    steps += 1
    var gradients: [String: HostTensor] = [:]
    for (name, t) in out {
      if name.hasPrefix("update:") { parameters[String(name.dropFirst(7))] = t }
      if name.hasPrefix("grad:") { gradients[String(name.dropFirst(5))] = t }
    }
    return (out["loss"]!.data, gradients)
  }

  /// The network's weights (the parameters the forward graph reads), without optimizer state.
  public func weights(for forward: Graph) -> [String: HostTensor] {
    var out: [String: HostTensor] = [:]
    for (name, _) in forward.weights() { out[name] = parameters[name] }
    return out
  }
}
