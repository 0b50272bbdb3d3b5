// dense: y = x W^T + b with the activation fused.

import MLCNGraph

enum DenseKernels {
  static func dense(_ id: ValueID, _ g: Graph) -> NodeKernels {
    let n = g[id], x = g.type(of: n.inputs[0]).shape, units = n.attributes.int("units")
    let hasBias = n.attributes.bool("bias")
    let w = n.weightPrefix + ".weight"
    let options = Codegen.defines(["IN": x[1], "U": units, "HAS_BIAS": hasBias ? 1 : 0])
      + [Expressions.fusedActivation(n.attributes.activation)]
    var out = NodeKernels()
    out.launches = [Launch(ProgramSource(file: "dense.cl", options: options), "dense",
                           args: [.buffer(.value(n.inputs[0])), .buffer(.weight(w)),
                                  .buffer(hasBias ? .weight(n.weightPrefix + ".bias") : .weight(w)),
                                  .buffer(.value(id))],
                           global: [units, x[0]])]
    return out
  }
}
