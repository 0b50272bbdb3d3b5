// squash and length (row-wise over the last axis) and the capsule layer's routing:
// predict once, then per iteration softmax the logits, sum and squash, and (except after
// the last) update the logits by agreement. CPUs run capsule_cpu.cl: the predictions as a
// register-tiled batched GEMM and the iterations fused into one kernel per sample; GPUs
// run one light kernel per step (capsules.cl).

import MLCNBase
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

  /// The tuning key of the CPU predictions of a capsule node.
  static func key(_ id: ValueID, _ g: Graph) -> String {
    let x = g.type(of: g[id].inputs[0]).shape, a = g[id].attributes
    return "cpu caps_predict n=\(x[0]) i=\(x[1]) jd=\(a.int("caps") * a.int("dim")) din=\(x[2])"
  }

  /// Default tile: 4 samples by 16 outputs (8 AVX accumulators), 8 outputs when J*D is
  /// not a multiple of 16.
  static func defaultTile(n: Int, jd: Int) -> TileConfig {
    TileConfig(vector: jd % 16 == 0 ? 16 : (jd % 8 == 0 || jd > 8 ? 8 : 4), tile: min(n, 4))
  }

  static func candidates(n: Int, jd: Int) -> [TileConfig] {
    let vectors = jd >= 16 ? [8, 16] : [4, 8]
    return Array(Set(vectors.flatMap { v in [1, 2, 4, 8].map { TileConfig(vector: v, tile: min($0, n)) } }))
      .sorted { ($0.vector, $0.tile) < ($1.vector, $1.tile) }
  }

  static func routing(_ id: ValueID, _ g: Graph, _ device: DeviceDescriptor, _ options: CodegenOptions) -> NodeKernels {
    // The CPU predictions pack the weight; a weight other kernels read too stays plain.
    options.usesCPUKernels(device) && g.onlyReader(id, of: g.parameters(of: id)[0])
      ? routingCPU(id, g, device, options) : routing(id, g)
  }

  static func routingCPU(_ id: ValueID, _ g: Graph, _ device: DeviceDescriptor, _ options: CodegenOptions) -> NodeKernels {
    let n = g[id], x = g.type(of: n.inputs[0]).shape, a = n.attributes
    let (batch, inCaps) = (x[0], x[1]), jd = a.int("caps") * a.int("dim")
    let cfg = options.tuning.config(identity: device.identity, key: key(id, g)) ?? defaultTile(n: batch, jd: jd)
    let mr = min(cfg.tile, batch), w = g.parameters(of: id)[0]
    let program = ProgramSource(file: "capsule_cpu.cl", options: Codegen.defines([
      "N": batch, "I": inCaps, "J": a.int("caps"), "D": a.int("dim"), "DIN": x[2], "MR": mr, "NR": cfg.vector,
      "ITERS": a.int("routing"),
    ]) + [Codegen.quietVectorABI])
    let u = BufferRef.value(ValueID(id.index, result: 1)), c = BufferRef.value(ValueID(id.index, result: 2))
    var out = NodeKernels()
    out.scratch = [batch * inCaps * a.int("caps")]  // the routing logits
    out.weightLayouts[w] = .capsuleBlocked(cfg.vector)
    out.launches = [
      Launch(program, "caps_predict_cpu", args: [.buffer(.value(n.inputs[0])), .buffer(.value(w)), .buffer(u)],
             global: [(batch + mr - 1) / mr, inCaps], local: [1, 1]),
      Launch(program, "caps_route_cpu", args: [.buffer(u), .buffer(.scratch(0)), .buffer(c), .buffer(.value(id))],
             global: [batch], local: [1]),
    ]
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
