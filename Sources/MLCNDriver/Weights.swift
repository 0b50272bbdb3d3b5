// Weights of a graph: loaded from a safetensors file and checked against the graph's
// parameter values (names and shapes), or initialised deterministically from each
// parameter's initializer; then bound to the parameter values for the runtime.

import Foundation
import MLCNBase
import MLCNFormats
import MLCNGraph


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

  /// Every parameter from its initializer, drawing from `seed` in parameter order; the
  /// same seed gives the same weights.
  public static func initialize(_ graph: Graph, seed: UInt64) -> [String: HostTensor] {
    var rng = SplitMix64(seed: seed)
    var out: [String: HostTensor] = [:]
    for p in graph.parameters {
      let node = graph[p], shape = node.type.shape
      switch ParameterOp.initializer(node.attributes) {
      case .zeros: out[node.name] = HostTensor(zeros: shape)
      case .ones: out[node.name] = HostTensor(shape: shape, data: [Float](repeating: 1, count: node.type.count))
      case .glorotUniform(let fanIn, let fanOut):
        let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
        out[node.name] = HostTensor(shape: shape, data: (0..<node.type.count).map { _ in (rng.nextUnit() * 2 - 1) * limit })
      }
    }
    return out
  }

  /// The weights as the values of the graph's parameters (checked by `validate` first).
  public static func bind(_ weights: [String: HostTensor], to graph: Graph) -> [ValueID: HostTensor] {
    var out: [ValueID: HostTensor] = [:]
    for p in graph.parameters { out[p] = weights[graph[p].name] }
    return out
  }
}
