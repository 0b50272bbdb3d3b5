// dense: y = x W^T + b with the activation fused: our kernel, or CLBlast's SGEMM followed
// by a small bias-and-activation kernel.

import MLCNGraph

enum DenseKernels {
  static func dense(_ id: ValueID, _ g: Graph) -> NodeKernels {
    let n = g[id], x = g.type(of: n.inputs[0]).shape, units = n.attributes.int("units")
    let params = g.parameters(of: id), hasBias = params.count > 1
    let options = Codegen.defines(["IN": x[1], "U": units, "HAS_BIAS": hasBias ? 1 : 0])
      + [Expressions.fusedActivation(n.attributes.activation)]
    var out = NodeKernels()
    out.launches = [Launch(ProgramSource(file: "dense.cl", options: options), "dense",
                           args: [.buffer(.value(n.inputs[0])), .buffer(.value(params[0])),
                                  .buffer(.value(params.last!)),  // the weight stands in for a missing bias
                                  .buffer(.value(id))],
                           global: [units, x[0]])]
    return out
  }

  static func gemm(_ id: ValueID, _ g: Graph) -> NodeKernels {
    let n = g[id], x = g.type(of: n.inputs[0]).shape, units = n.attributes.int("units")
    let params = g.parameters(of: id), hasBias = params.count > 1, act = n.attributes.activation
    var out = NodeKernels()
    out.steps = [.gemm(Gemm(m: x[0], n: units, k: x[1], a: .value(n.inputs[0]), b: .value(params[0]), c: .value(id)))]
    if hasBias || act != nil {
      let options = Codegen.defines(["U": units, "HAS_BIAS": hasBias ? 1 : 0]) + [Expressions.fusedActivation(act)]
      let bias: BufferRef = .value(params.last!)
      out.steps.append(.launch(Launch(ProgramSource(file: "dense.cl", options: options), "bias_act",
                                      args: [.buffer(.value(id)), .buffer(bias)], global: [units, x[0]])))
    }
    return out
  }
}
