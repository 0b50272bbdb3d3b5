// Evaluation in inference mode (DESIGN.md section 7, `mlcnc eval` and `train --val`):
// accuracy and mean loss of a network's first output over a data set, in batches, with
// the loss computed on the host from the loss's target value (the logits for xent).

import Foundation
import MLCNBase
import MLCNCodegen
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNRuntime

public struct EvaluationResult: Sendable {
  public var accuracy: Double
  public var loss: Double
  public var count: Int
}

public final class Evaluator {
  let source: SourceFile
  let loss: LossKind?
  let device: CLDevice
  let descriptor: DeviceDescriptor
  let cache: ProgramCache
  private var stages: [Int: (graph: Graph, executor: Executor)] = [:]

  public init(source: SourceFile, loss: LossKind?, device: CLDevice, descriptor: DeviceDescriptor, cache: ProgramCache) {
    self.source = source
    self.loss = loss
    self.device = device
    self.descriptor = descriptor
    self.cache = cache
  }

  /// The inference graph for a batch size, with the loss's target as an extra output.
  public func graph(batch: Int) throws -> Graph { try stage(batch, weights: nil).graph }

  private func stage(_ batch: Int, weights: [String: HostTensor]?) throws -> (graph: Graph, executor: Executor) {
    if let s = stages[batch] {
      if let weights { try s.executor.write(parameters: Weights.bind(weights, to: s.graph)) }
      return s
    }
    var g = try Compiler.graph(source, options: CompileOptions(batch: batch))
    let kind = loss ?? LossKind.defaultFor(g)
    g.outputs.append(Graph.Output(name: "loss-target", value: kind.target(in: g)))
    let w = weights ?? Weights.initialize(g, seed: 0)
    let program = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [descriptor])
    let executor = try Executor(program: program, graph: g, devices: [device], parameters: Weights.bind(w, to: g), programs: cache)
    stages[batch] = (g, executor)
    return (g, executor)
  }

  /// Accuracy (argmax of the first output against the labels) and mean loss over `data`.
  public func evaluate(_ data: Dataset, inputName: String, weights: [String: HostTensor], batch: Int) throws -> EvaluationResult {
    var correct = 0, total = 0.0
    var fresh = Set<Int>()
    for start in stride(from: 0, to: data.count, by: batch) {
      let range = start..<min(start + batch, data.count)
      let (x, labels) = data.batch(Array(range)[...])
      // Parameters are written once per evaluation and batch size.
      let (g, executor) = try stage(range.count, weights: fresh.insert(range.count).inserted ? weights : nil)
      let out = try executor.run([inputName: x])
      let y = out[g.outputs[0].name]!, z = out["loss-target"]!
      let kind = loss ?? LossKind.defaultFor(g)
      let classes = z.shape[1]
      for (n, label) in labels.enumerated() {
        let yr = y.data[n * y.shape[1] ..< (n + 1) * y.shape[1]]
        if yr.indices.max(by: { yr[$0] < yr[$1] })! - n * y.shape[1] == label { correct += 1 }
        let zr = Array(z.data[n * classes ..< (n + 1) * classes]).map(Double.init)
        total += LossKind.sampleLoss(kind, zr, label: label)
      }
    }
    return EvaluationResult(accuracy: Double(correct) / Double(data.count), loss: total / Double(data.count), count: data.count)
  }
}

extension LossKind {
  /// One sample's loss on its target row (lengths for margin, logits for xent), in double.
  public static func sampleLoss(_ kind: LossKind, _ z: [Double], label: Int) -> Double {
    switch kind {
    case .margin:
      return z.enumerated().reduce(0) { s, e in
        e.offset == label ? s + pow(max(0, 0.9 - e.element), 2) : s + 0.5 * pow(max(0, e.element - 0.1), 2)
      }
    case .xent:
      let m = z.max()!
      return m + log(z.reduce(0) { $0 + exp($1 - m) }) - z[label]
    }
  }
}
