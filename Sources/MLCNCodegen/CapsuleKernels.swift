// squash and length (row-wise over the last axis) and the capsule layer's routing:
// predict once, then per iteration softmax the logits, sum and squash, and (except after
// the last) update the logits by agreement.

import MLCNGraph

enum CapsuleKernels {
  static func rows(_ id: ValueID, _ g: Graph) -> NodeKernels {
    let n = g[id], x = g.type(of: n.inputs[0]).shape
    let d = x.last!, rows = x.reduce(1, *) / d
    var out = NodeKernels()
    out.launches = [Launch(ProgramSource(file: "capsules.cl", options: Codegen.defines(["ROWS": rows, "D": d])),
                           n.op == .squash ? "squash_rows" : "length_rows",
                           args: [.buffer(.value(n.inputs[0])), .buffer(.value(id))], global: [rows])]
    return out
  }

  static func routing(_ id: ValueID, _ g: Graph) -> NodeKernels {
    let n = g[id], x = g.type(of: n.inputs[0]).shape
    let batch = x[0], inCaps = x[1], dimIn = x[2]
    let caps = n.attributes.int("caps"), dim = n.attributes.int("dim"), iterations = n.attributes.int("routing")
    let program = ProgramSource(file: "capsules.cl",
                                options: Codegen.defines(["ROUTING": 1, "I": inCaps, "J": caps, "D": dim, "DIN": dimIn]))
    // Predictions and couplings are the node's extra results; the routing logits are scratch.
    let u = BufferRef.value(ValueID(id.index, result: 1)), c = BufferRef.value(ValueID(id.index, result: 2))
    let b = BufferRef.scratch(0)
    var out = NodeKernels()
    out.scratch = [batch * inCaps * caps]
    out.launches = [Launch(program, "caps_predict",
                           args: [.buffer(.value(n.inputs[0])), .buffer(.value(g.parameters(of: id)[0])), .buffer(u)],
                           global: [caps * dim, inCaps, batch])]
    for r in 0..<iterations {
      out.launches.append(Launch(program, "caps_softmax", args: [.buffer(b), .buffer(c), .int(r == 0 ? 1 : 0)],
                                 global: [inCaps, batch]))
      out.launches.append(Launch(program, "caps_weighted_sum", args: [.buffer(u), .buffer(c), .buffer(.value(id))],
                                 global: [caps, batch]))
      if r < iterations - 1 {
        out.launches.append(Launch(program, "caps_agree", args: [.buffer(u), .buffer(.value(id)), .buffer(b), .int(r == 0 ? 0 : 1)],
                                   global: [caps, inCaps, batch]))
      }
    }
    return out
  }
}
