// dense: y = x W^T + b with the activation fused. CPUs run the register-tiled GEMM
// (gemm_cpu.cl, the weight packed in column blocks); GPUs run CLBlast's SGEMM followed by
// a small bias-and-activation kernel, or our simple kernel (dense.cl) when asked.

import MLCNBase
import MLCNGraph

enum DenseKernels {
  static func kernels(_ id: ValueID, _ g: Graph, _ device: DeviceDescriptor, _ options: CodegenOptions) -> NodeKernels {
    // The tiled GEMM packs the weight; a weight other kernels read too stays plain.
    let tiled = options.usesCPUKernels(device) && g.onlyReader(id, of: g.parameters(of: id)[0])
    switch options.gemm {
    case .clblast: return gemm(id, g)
    case .builtin: return tiled ? self.tiled(id, g, device, options) : dense(id, g)
    case .auto: return tiled ? self.tiled(id, g, device, options) : (options.usesCPUKernels(device) ? dense(id, g) : gemm(id, g))
    }
  }

  /// The tuning key of the CPU GEMM of a dense node.
  static func key(_ id: ValueID, _ g: Graph) -> String {
    let x = g.type(of: g[id].inputs[0]).shape
    return "cpu dense m=\(x[0]) n=\(g[id].attributes.int("units")) k=\(x[1])"
  }

  /// Default register tile: 6 rows of 16 columns (12 AVX accumulators), fewer rows when
  /// there are fewer, narrower vectors for narrow outputs.
  static func defaultTile(m: Int, n: Int) -> TileConfig {
    TileConfig(vector: n >= 16 ? 16 : 8, tile: min(m, n >= 16 ? 6 : 12))
  }

  static func candidates(m: Int, n: Int) -> [TileConfig] {
    let wide = n >= 16 ? [2, 4, 6].map { TileConfig(vector: 16, tile: min($0, m)) } : []
    return Array(Set(wide + [4, 8, 12].map { TileConfig(vector: 8, tile: min($0, m)) }))
      .sorted { ($0.vector, $0.tile) < ($1.vector, $1.tile) }
  }

  static func tiled(_ id: ValueID, _ g: Graph, _ device: DeviceDescriptor, _ options: CodegenOptions) -> NodeKernels {
    let n = g[id], x = g.type(of: n.inputs[0]).shape, units = n.attributes.int("units")
    let params = g.parameters(of: id), hasBias = params.count > 1
    let cfg = options.tuning.config(identity: device.identity, key: key(id, g)) ?? defaultTile(m: x[0], n: units)
    let mr = min(cfg.tile, x[0])
    let defines = Codegen.defines(["M": x[0], "N": units, "K": x[1], "MR": mr, "NR": cfg.vector, "HAS_BIAS": hasBias ? 1 : 0])
      + [Expressions.fusedActivation(n.attributes.activation), Codegen.quietVectorABI]
    var out = NodeKernels()
    out.launches = [Launch(ProgramSource(file: "gemm_cpu.cl", options: defines), "gemm_cpu",
                           args: [.buffer(.value(n.inputs[0])), .buffer(.value(params[0])),
                                  .buffer(.value(params.last!)),  // the weight stands in for a missing bias
                                  .buffer(.value(id))],
                           global: [(x[0] + mr - 1) / mr, (units + cfg.vector - 1) / cfg.vector], local: [1, 1])]
    out.weightLayouts[params[0]] = .filterBlocked(cfg.vector)
    return out
  }

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
