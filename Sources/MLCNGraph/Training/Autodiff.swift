// autodiff: reverse-mode differentiation of the (training-mode) forward graph. It appends
// the loss and the backward graph built from each op's vector-Jacobian rule (`vjp` in the
// op's own file); the result's outputs are the per-sample losses (`loss`) and one
// gradient per trainable weight (`grad:<weight name>`), the batch's mean loss differentiated.
//
// Algorithm:
//  1. Mark the values that need a gradient: trainable parameters and every value computed
//     from one (graph inputs and what depends only on them need none).
//  2. Append the labels input and the loss node on the loss's target value; its extra
//     result (the gradient of the mean loss) seeds the target's gradient.
//  3. Walk the forward nodes from last to first; for each one that needs a gradient and
//     was reached, sum the contributions to its result into one gradient and run the op's
//     rule, which appends backward nodes and contributes to its operands' gradients and
//     sets its parameters' gradients.
//  4. Every trainable weight must have received a gradient; the outputs become the loss
//     and the weight gradients.

public struct Autodiff: Pass {
  public let name = "autodiff"
  public var loss: LossKind?
  /// The batch the loss is averaged over (nil: the graph's batch). A data-parallel replica
  /// of a slice averages over the whole batch.
  public var meanOver: Int?
  public init(loss: LossKind? = nil, meanOver: Int? = nil) { self.loss = loss; self.meanOver = meanOver }

  public func run(_ g: inout Graph) {
    do { g = try differentiate(g) } catch {
      // A pass cannot throw: leave a graph the verifier rejects with the rule's message.
      g.outputs = []
      g.name = "autodiff failed: \(error.message)"
    }
  }

  public func differentiate(_ forward: Graph) throws(OpError) -> Graph {
    let lossKind = loss ?? LossKind.defaultFor(forward)
    // 1. Values that need gradients.
    var needs = Set<ValueID>()
    for id in forward.ids {
      let n = forward[id]
      let reached = n.op == .parameter ? n.attributes["trainable"] != .bool(false)
                                       : n.inputs.contains { needs.contains($0) }
      if reached { for r in forward.results(of: id) { needs.insert(r) } }
    }
    var b = GradientBuilder(graph: forward, needsGrad: needs)
    // 2. Labels and loss.
    let target = lossKind.target(in: forward)
    guard forward.type(of: target).rank == 2 else {
      throw OpError("the \(lossKind.rawValue) loss needs an output [N, classes], '\(forward.name(of: target))' is \(forward.type(of: target))")
    }
    b.current = target
    b.graph.nodes.append(Node(name: b.unique("labels"), op: .input, inputs: [], attributes: Attributes(),
                              type: TensorType([forward.batch]), lane: nil, location: forward[target].location))
    let labels = ValueID(b.graph.nodes.count - 1)
    b.graph[labels].lane = nil
    let lossNode = try b.emit(.loss, [target, labels],
                              ["kind": .string(lossKind.rawValue), "scale": .float(1 / Double(meanOver ?? forward.batch))],
                              name: b.unique("loss"))
    b.graph[lossNode].lane = nil
    b.accumulate(target, ValueID(lossNode.index, result: 1))
    // 3. Reverse walk.
    for id in forward.ids.reversed() where !forward[id].op.isHostProvided && needs.contains(id) {
      b.current = id
      guard let grad = try b.total(id) else { continue }
      try forward[id].op.definition.vjp(id, grad, &b)
    }
    // 4. Outputs.
    var out = b.graph
    out.outputs = [Graph.Output(name: "loss", value: lossNode)]
    for p in forward.parameters where forward[p].attributes["trainable"] != .bool(false) {
      guard let grad = b.parameterGradients[p] else {
        throw OpError("weight '\(forward[p].name)' does not affect the loss on output '\(forward.outputs[0].name)'")
      }
      out.outputs.append(Graph.Output(name: "grad:" + forward[p].name, value: grad))
    }
    return out
  }
}
