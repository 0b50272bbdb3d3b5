// optimizer-update: appends one optimizer step to a differentiated graph, so a training
// step is one graph: forward, backward, update. The optimizer's state (momentum buffers,
// Adam's moments) are parameters like the weights, named `<weight>.momentum_buffer`,
// `<weight>.exp_avg`, `<weight>.exp_avg_sq`; Adam's per-step factors are the parameter
// `optimizer.step`. Outputs `update:<parameter name>` give each parameter's new value
// (weights, optimizer state, batchnorm's running statistics), which the host writes back
// before the next step.

import Foundation
import MLCNBase
//
// Algorithm:
//  1. For each `grad:<w>` output: new zero-initialised state parameters, then the update
//     node reading the gradient, the weight and the state (in the weight's lane).
//  2. For each batchnorm_train node: its new running statistics update its parameters.
//  3. Outputs: the loss (when there is one), then every update.

public struct Optimizer: Sendable, Hashable {
  public enum Kind: String, CaseIterable, Sendable { case sgd, adam }
  public var kind: Kind
  public var lr: Double
  public var momentum: Double
  public var beta1 = 0.9, beta2 = 0.999, eps = 1e-8
  public init(kind: Kind, lr: Double? = nil, momentum: Double = 0) {
    self.kind = kind
    self.lr = lr ?? (kind == .sgd ? 0.01 : 0.001)
    self.momentum = momentum
  }

  /// Adam's `optimizer.step` values for step t (1-based): [lr / (1 - b1^t), sqrt(1 - b2^t)].
  public func adamFactors(step t: Int) -> [Float] {
    [Float(lr / (1 - pow(beta1, Double(t)))), Float((1 - pow(beta2, Double(t))).squareRoot())]
  }
}

public struct OptimizerUpdate: Pass {
  public let name = "optimizer-update"
  public var optimizer: Optimizer
  public init(_ optimizer: Optimizer) { self.optimizer = optimizer }

  public static let stepParameter = "optimizer.step"

  public func run(_ g: inout Graph) {
    var out = g
    var outputs = g.outputs.filter { !$0.name.hasPrefix("grad:") }
    func parameter(_ name: String, _ shape: [Int], lane: String?, at loc: Node) -> ValueID {
      out.nodes.append(Node(name: name, op: .parameter, inputs: [],
                            attributes: ParameterOp.attributes(WeightSpec("", shape, .zeros, trainable: false)),
                            type: TensorType(shape), lane: lane, location: loc.location))
      return ValueID(out.nodes.count - 1)
    }
    var step: ValueID?
    // 1. One update per weight gradient.
    for o in g.outputs where o.name.hasPrefix("grad:") {
      let wname = String(o.name.dropFirst(5))
      guard let w = g.id(named: wname) else { continue }
      let wnode = g[w], shape = wnode.type.shape, lane = wnode.lane
      var params = [w]
      var attrs = Attributes()
      let op: OpKind
      switch optimizer.kind {
      case .sgd:
        op = .sgdUpdate
        attrs = ["lr": .float(optimizer.lr), "momentum": .float(optimizer.momentum)]
        if optimizer.momentum > 0 { params.append(parameter(wname + ".momentum_buffer", shape, lane: lane, at: wnode)) }
      case .adam:
        op = .adamUpdate
        attrs = ["beta1": .float(optimizer.beta1), "beta2": .float(optimizer.beta2), "eps": .float(optimizer.eps)]
        params.append(parameter(wname + ".exp_avg", shape, lane: lane, at: wnode))
        params.append(parameter(wname + ".exp_avg_sq", shape, lane: lane, at: wnode))
        if step == nil { step = parameter(Self.stepParameter, [2], lane: nil, at: wnode) }
        params.append(step!)
      }
      let def = op.definition
      let types = [g.type(of: o.value)]
      var node = Node(name: wname + ".next", op: op, inputs: [o.value] + params, attributes: attrs,
                      type: try! def.infer(types, &attrs), extraResults: def.extraResults(inputs: types, attributes: attrs),
                      lane: lane, location: wnode.location)
      // With the gradient: the update runs where the weight's gradient is computed.
      node.derivedFrom = g[o.value].derivedFrom
      out.nodes.append(node)
      let update = ValueID(out.nodes.count - 1)
      outputs.append(Graph.Output(name: "update:" + wname, value: update))
      for (r, state) in params.dropFirst().filter({ out[$0].name != Self.stepParameter }).enumerated() {
        outputs.append(Graph.Output(name: "update:" + out[state].name, value: ValueID(update.index, result: r + 1)))
      }
    }
    // 2. Running statistics.
    out.outputs = outputs + Self.runningStatistics(g)
    g = out
  }

  /// The outputs that give batchnorm's new running statistics (`update:<name>`).
  public static func runningStatistics(_ g: Graph) -> [Graph.Output] {
    g.ids.filter { g[$0].op == .batchnormTrain }.flatMap { id in
      let params = g.parameters(of: id)
      return [Graph.Output(name: "update:" + g[params[2]].name, value: ValueID(id.index, result: 3)),
              Graph.Output(name: "update:" + g[params[3]].name, value: ValueID(id.index, result: 4))]
    }
  }

  /// The update alone, for gradients computed elsewhere (summed over data-parallel
  /// replicas): per weight an unbatched input `<name>.grad`, the weight, its state and
  /// its update.
  public static func standalone(_ weights: [(name: String, shape: [Int])], optimizer: Optimizer, name: String) -> Graph {
    var g = Graph(name: name, batch: 1)
    for (w, shape) in weights {
      g.nodes.append(Node(name: w + ".grad", op: .input, inputs: [], attributes: ["unbatched": .bool(true)],
                          type: TensorType(shape), lane: nil, location: .unknown))
      let grad = ValueID(g.nodes.count - 1)
      g.nodes.append(Node(name: w, op: .parameter, inputs: [], attributes: ParameterOp.attributes(WeightSpec("", shape, .zeros)),
                          type: TensorType(shape), lane: nil, location: .unknown))
      g.outputs.append(Graph.Output(name: "grad:" + w, value: grad))
    }
    OptimizerUpdate(optimizer).run(&g)
    return g
  }
}
