// Weights of a graph: loaded from a safetensors file and checked against the names and
// shapes the graph needs, or initialised deterministically (Glorot uniform, zero bias).

import Foundation
import MLCNFormats
import MLCNGraph
import MLCNPlanner

public enum Weights {
  /// Loads `path` and checks that it holds every weight of `graph` with the right shape;
  /// also returns the names of tensors the graph does not use.
  public static func load(_ path: String, for graph: Graph) throws(FormatError) -> (weights: [String: HostTensor], unused: [String]) {
    let file = try Safetensors.read(path)
    try validate(file.tensors, for: graph, file: path)
    let needed = Set(graph.weights().map(\.name))
    return (file.tensors, file.tensors.keys.filter { !needed.contains($0) }.sorted())
  }

  public static func validate(_ tensors: [String: HostTensor], for graph: Graph, file: String) throws(FormatError) {
    var problems: [String] = []
    for (name, shape) in graph.weights() {
      guard let t = tensors[name] else { problems.append("missing '\(name)' (shape \(shape))"); continue }
      if t.shape != shape { problems.append("'\(name)' has shape \(t.shape), the network needs \(shape)") }
    }
    guard problems.isEmpty else {
      let shown = problems.prefix(8).joined(separator: "; ") + (problems.count > 8 ? "; and \(problems.count - 8) more" : "")
      throw FormatError(file, "weights do not match network '\(graph.name)': \(shown)")
    }
  }

  /// Glorot-uniform weights and zero biases from `seed`; the same seed gives the same weights.
  public static func initialize(_ graph: Graph, seed: UInt64) -> [String: HostTensor] {
    var rng = SplitMix64(seed: seed)
    var out: [String: HostTensor] = [:]
    for id in graph.ids {
      let node = graph[id]
      for (name, shape) in node.weights(inputTypes: graph.inputTypes(of: id)) {
        let count = shape.reduce(1, *)
        if name.hasSuffix(".bias") { out[name] = HostTensor(zeros: shape); continue }
        let (fanIn, fanOut) = fans(node.op, shape)
        let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
        out[name] = HostTensor(shape: shape, data: (0..<count).map { _ in (rng.nextUnit() * 2 - 1) * limit })
      }
    }
    return out
  }

  /// Fan-in and fan-out of a weight, as Keras and PyTorch count them.
  static func fans(_ op: OpKind, _ shape: [Int]) -> (Int, Int) {
    switch op {
    case .conv2d, .primaryCaps:  // [F, C, KH, KW]
      let receptive = shape[2] * shape[3]
      return (shape[1] * receptive, shape[0] * receptive)
    case .capsule:  // [I, J, D, Din]: each W[i, j] maps Din to D
      return (shape[3], shape[2])
    default:  // dense [U, In]
      return (shape[1], shape[0])
    }
  }
}
