// maxpool2d and avgpool2d: one pooling kernel, the mode chosen at build time.

import MLCNGraph

enum PoolKernels {
  static func pool(_ id: ValueID, _ g: Graph) -> NodeKernels {
    let n = g[id], x = g.type(of: n.inputs[0]).shape, y = n.type.shape
    let k = n.attributes.ints("kernel"), s = n.attributes.ints("stride"), p = n.attributes.ints("padding")
    let options = Codegen.defines([
      "C": x[1], "H": x[2], "W": x[3], "OH": y[2], "OW": y[3], "KH": k[0], "KW": k[1],
      "SH": s[0], "SW": s[1], "PH": p[0], "PW": p[1], "POOL_MAX": n.op == .maxpool2d ? 1 : 0,
    ])
    var out = NodeKernels()
    out.launches = [Launch(ProgramSource(file: "pool2d.cl", options: options), "pool2d",
                           args: [.buffer(.value(n.inputs[0])), .buffer(.value(id))],
                           global: [y[2] * y[3], y[1], y[0]])]
    return out
  }
}
