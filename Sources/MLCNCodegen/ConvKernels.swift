// conv2d and primary_caps: a direct convolution with bias and activation fused, in two
// variants. CPUs run conv2d_cpu.cl: a register tile of output channels (one vector) by
// output pixels per work-item, weights blocked by the vector width, primary capsules
// regrouped and squashed in the epilogue. GPUs run conv2d.cl: one pixel and a few
// channels per work-item, then a regrouping kernel for primary capsules.

import MLCNBase
import MLCNGraph

enum ConvKernels {
  /// The sizes of one convolution.
  struct Shape {
    var n, c, h, w, f, oh, ow, kh, kw, sh, sw, ph, pw: Int
    var hasBias: Bool

    init(_ g: Graph, _ id: ValueID, filters: Int) {
      let node = g[id], x = g.type(of: node.inputs[0]).shape, a = node.attributes
      let k = a.ints("kernel"), s = a.ints("stride"), p = a.ints("padding")
      (n, c, h, w, f) = (x[0], x[1], x[2], x[3], filters)
      (kh, kw, sh, sw, ph, pw) = (k[0], k[1], s[0], s[1], p[0], p[1])
      oh = (h + 2 * ph - kh) / sh + 1
      ow = (w + 2 * pw - kw) / sw + 1
      hasBias = g.parameters(of: id).count > 1
    }

    var defines: [String] {
      Codegen.defines(["C": c, "H": h, "W": w, "F": f, "OH": oh, "OW": ow, "KH": kh, "KW": kw,
                       "SH": sh, "SW": sw, "PH": ph, "PW": pw, "HAS_BIAS": hasBias ? 1 : 0])
    }

    /// The tuning key: what the best tiles depend on.
    func key(_ op: OpKind, cpu: Bool) -> String {
      "\(cpu ? "cpu" : "gpu") \(op.rawValue) n=\(n) c=\(c) hw=\(h)x\(w) f=\(f) k=\(kh)x\(kw) s=\(sh)x\(sw) p=\(ph)x\(pw)"
    }
  }

  /// Default tiles. CPU: 16 channels (two AVX registers) by 6 pixels keeps 12 accumulators
  /// in the 16 vector registers; fewer channels get longer pixel tiles, in a full AVX
  /// register unless there are at most 4. GPU: a few channels per work-item, enough to
  /// reuse each input load.
  static func defaultTile(_ s: Shape, cpu: Bool) -> TileConfig {
    if cpu {
      return s.f >= 16 ? TileConfig(vector: 16, tile: 6) : TileConfig(vector: s.f > 4 ? 8 : 4, tile: 12)
    }
    return TileConfig(vector: s.f >= 8 ? 8 : (s.f >= 4 ? 4 : 1), tile: 1)
  }

  static func candidates(_ s: Shape, cpu: Bool) -> [TileConfig] {
    if cpu {
      let wide = s.f >= 16 ? [3, 4, 6].map { TileConfig(vector: 16, tile: $0) } : []
      return wide + [4, 8, 12].map { TileConfig(vector: 8, tile: $0) } + [TileConfig(vector: 4, tile: 12)]
    }
    return [4, 8].flatMap { ft in [nil, 32, 64].map { TileConfig(vector: ft, tile: 1, local: $0) } }
  }

  /// Tiles per work-item and channels per block of the CPU kernel. With many input
  /// channels, one work-item covers up to 24 tiles (all of a small output) and walks the
  /// channels in blocks of 32, so a block's weights serve every tile from cache: 9% less
  /// CPU time on cifar_conv's c2. Few channels, or too few work-items to keep every core
  /// busy four times over, keep one tile per work-item.
  static func channelBlocking(_ s: Shape, tiles: Int, filterBlocks: Int, _ device: DeviceDescriptor) -> (Int, Int) {
    let cb = 32
    guard s.c > cb else { return (1, s.c) }
    let groups = (tiles + 23) / 24, tpw = (tiles + groups - 1) / groups
    guard groups * filterBlocks * s.n >= 4 * device.computeUnits else { return (1, cb) }
    return (tpw, cb)
  }

  static func conv2d(_ id: ValueID, _ g: Graph, _ device: DeviceDescriptor, _ options: CodegenOptions) -> NodeKernels {
    let n = g[id], shape = Shape(g, id, filters: n.attributes.int("filters"))
    return kernels(g, id, shape, device, options, act: n.attributes.activation, capsuleDim: nil)
  }

  static func primaryCaps(_ id: ValueID, _ g: Graph, _ device: DeviceDescriptor, _ options: CodegenOptions) -> NodeKernels {
    let a = g[id].attributes
    let shape = Shape(g, id, filters: a.int("caps") * a.int("dim"))
    return kernels(g, id, shape, device, options, act: nil, capsuleDim: a.int("dim"))
  }

  /// The tile `options` holds for this op on `device`, else the default.
  static func tile(_ g: Graph, _ id: ValueID, _ s: Shape, _ device: DeviceDescriptor, _ options: CodegenOptions) -> TileConfig {
    let cpu = options.usesCPUKernels(device)
    return options.tuning.config(identity: device.identity, key: s.key(g[id].op, cpu: cpu)) ?? defaultTile(s, cpu: cpu)
  }

  private static func kernels(_ g: Graph, _ id: ValueID, _ s: Shape, _ device: DeviceDescriptor, _ options: CodegenOptions,
                              act: OpKind?, capsuleDim: Int?) -> NodeKernels {
    let params = g.parameters(of: id), cfg = tile(g, id, s, device, options)
    let x = BufferRef.value(g[id].inputs[0]), w = BufferRef.value(params[0])
    let bias = BufferRef.value(params.last!)  // without a bias the weight stands in for the unused argument
    let conv = BufferRef.value(ValueID(id.index, result: capsuleDim == nil ? 0 : 1))
    var k = NodeKernels()
    k.weightLayouts[params[0]] = .filterBlocked(cfg.vector)
    if options.usesCPUKernels(device) {
      // A padded input is first copied into a zero border (scratch), so the conv kernel
      // never tests bounds: the copy is one pass over the input, the tests were one per tap.
      var input = x, padded = s
      if s.ph > 0 || s.pw > 0 {
        (padded.h, padded.w, padded.ph, padded.pw) = (s.h + 2 * s.ph, s.w + 2 * s.pw, 0, 0)
        k.scratch = [s.n * s.c * padded.h * padded.w]
        input = .scratch(0)
        let pad = Codegen.defines(["PAD_INPUT": 1, "C": s.c, "H": s.h, "W": s.w, "PH": s.ph, "PW": s.pw])
        k.launches = [Launch(ProgramSource(file: "conv2d_cpu.cl", options: pad), "pad_input",
                             args: [.buffer(x), .buffer(input)], global: [padded.w, padded.h, s.n * s.c])]
      }
      // Primary capsules are squashed in the epilogue when each capsule lies in one
      // work-item's channels and nothing else reads the unsquashed convolution.
      let fused = capsuleDim.map { cfg.vector % $0 == 0 && !g.isRead(ValueID(id.index, result: 1)) } ?? false
      let px = min(cfg.tile, s.oh * s.ow), tiles = (s.oh * s.ow + px - 1) / px
      let (tpw, cb) = channelBlocking(s, tiles: tiles, filterBlocks: (s.f + cfg.vector - 1) / cfg.vector, device)
      let options = padded.defines + Codegen.defines(["OCB": cfg.vector, "PX": px, "TPW": tpw, "CB": cb])
        + [Expressions.fusedActivation(act)]
        + (fused ? Codegen.defines(["CAPS_D": capsuleDim!]) : []) + [Codegen.quietVectorABI]
      k.launches.append(Launch(ProgramSource(file: "conv2d_cpu.cl", options: options), "conv2d_cpu",
                               args: [.buffer(input), .buffer(w), .buffer(bias), .buffer(fused ? .value(id) : conv)],
                               global: [(tiles + tpw - 1) / tpw, (s.f + cfg.vector - 1) / cfg.vector, s.n],
                               local: [1, 1, 1]))
      if fused { return k }
    } else {
      let options = s.defines + Codegen.defines(["FT": cfg.vector]) + [Expressions.fusedActivation(act)]
      let pixels = s.oh * s.ow, local = cfg.local.map { min($0, pixels) }
      // The kernel skips the pixels past the end, so the global size may round up to the work-group size.
      let global0 = local.map { (pixels + $0 - 1) / $0 * $0 } ?? pixels
      k.launches = [Launch(ProgramSource(file: "conv2d.cl", options: options), "conv2d",
                           args: [.buffer(x), .buffer(w), .buffer(bias), .buffer(conv)],
                           global: [global0, (s.f + cfg.vector - 1) / cfg.vector, s.n], local: local.map { [$0, 1, 1] })]
    }
    if let dim = capsuleDim {
      let caps = s.f / dim, hw = s.oh * s.ow
      k.launches.append(Launch(ProgramSource(file: "capsules.cl", options: Codegen.defines(["CAPS": caps, "HW": hw, "D": dim])),
                               "primary_caps_regroup", args: [.buffer(conv), .buffer(.value(id))], global: [caps * hw, s.n]))
    }
    return k
  }
}

extension Graph {
  /// Whether any node or output reads `v`.
  func isRead(_ v: ValueID) -> Bool {
    nodes.contains { $0.inputs.contains(v) } || outputs.contains { $0.value == v }
  }

  /// Whether node `id` is the only reader of `v` (a weight that no gradient kernel reads,
  /// so the forward kernel may pack it in a layout only it understands).
  func onlyReader(_ id: ValueID, of v: ValueID) -> Bool {
    !outputs.contains { $0.value == v } && ids.allSatisfy { $0 == id || !self[$0].inputs.contains(v) }
  }
}
