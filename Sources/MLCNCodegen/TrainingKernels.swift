// The kernels of the training ops (backward, loss, update): one entry per internal op,
// specialised with `-D` sizes like the forward kernels. Backward kernels that read a
// weight read it in the layout its forward kernel packed it in (a parameter has one
// buffer per device, packed as its first reader wants).

import MLCNBase
import MLCNGraph

enum TrainingKernels {
  static func kernels(_ id: ValueID, _ g: Graph, _ device: DeviceDescriptor, _ options: CodegenOptions) -> NodeKernels {
    let n = g[id]
    let out: (ValueID) -> KernelArg = { .buffer(.value($0)) }
    let input: (Int) -> KernelArg = { .buffer(.value(n.inputs[$0])) }
    let result: (Int) -> KernelArg = { .buffer(.value(ValueID(id.index, result: $0))) }
    var k = NodeKernels()
    switch n.op {
    case .activationGrad:
      let act = OpKind(rawValue: n.attributes.string("act"))!
      let expr: String = switch act {
      case .relu: "(b>0.0f?a:0.0f)"
      case .sigmoid: "a*b*(1.0f-b)"
      case .tanh: "a*(1.0f-b*b)"
      default: "(b>0.0f?a:\(Float(n.attributes.float("alpha")))f*a)"
      }
      k.launches = [Launch(ProgramSource(file: "elementwise.cl", options: ["-DEXPR2=" + expr]), "map2",
                           args: [input(0), input(1), out(id), .int(Int32(n.type.count))], global: [n.type.count])]
    case .softmaxGrad:
      let (outer, a, inner) = ElementwiseKernels.around(n.type.shape, n.attributes.int("axis"))
      k.launches = [Launch(ProgramSource(file: "train.cl", options: Codegen.defines(["A": a, "INNER": inner])),
                           "softmax_grad", args: [input(0), input(1), out(id)], global: [inner, outer])]
    case .sliceGrad:
      let a = n.attributes, axis = a.int("axis")
      let (_, total, inner) = ElementwiseKernels.around(n.type.shape, axis), count = n.type.count
      k.launches = [Launch(ProgramSource(file: "train.cl", options: []), "slice_grad",
                           args: [input(0), out(id), .int(Int32(a.int("begin"))), .int(Int32(a.int("end"))),
                                  .int(Int32(total)), .int(Int32(inner)), .int(Int32(count))],
                           global: [count])]
    case .conv2dGradInput:
      let dy = g.type(of: n.inputs[0]).shape, x = n.type.shape, w = g.parameters(of: id)[0]
      let block: Int = switch Codegen.layout(of: w, in: g, device: device, options: options) {
      case .filterBlocked(let b): b
      // Capsule weights are packed only when the capsule op is their one reader: never in
      // a training graph, where the backward and update ops read them too.
      case .plain, .capsuleBlocked: 1
      }
      k.launches = [Launch(conv(n, x: x, dy: dy, block: block), "conv2d_grad_input", args: [input(0), input(1), out(id)],
                           global: [x[2] * x[3], (x[1] + channelBlock - 1) / channelBlock, x[0]])]
    case .conv2dGradParams:
      let dy = g.type(of: n.inputs[0]).shape, x = g.type(of: n.inputs[1]).shape, kk = n.attributes.ints("kernel")
      let program = conv(n, x: x, dy: dy, block: 1)
      k.launches = [Launch(program, "conv2d_grad_weight", args: [input(0), input(1), out(id), .int(Int32(x[0]))],
                           global: [kk[0] * kk[1], x[1], (dy[1] + filterBlock - 1) / filterBlock])]
      if n.attributes.bool("bias") {
        k.launches.append(Launch(program, "conv2d_grad_bias", args: [input(0), result(1), .int(Int32(x[0]))], global: [dy[1]]))
      }
    case .denseGradInput:
      let dy = g.type(of: n.inputs[0]).shape, features = n.type.shape[1]
      k.launches = [Launch(ProgramSource(file: "dense_grad.cl", options: Codegen.defines(["IN": features, "U": dy[1], "NB": dy[0]])),
                           "dense_grad_input", args: [input(0), input(1), out(id)], global: [features, dy[0]])]
    case .denseGradParams:
      let dy = g.type(of: n.inputs[0]).shape, features = g.type(of: n.inputs[1]).shape[1]
      let program = ProgramSource(file: "dense_grad.cl", options: Codegen.defines(["IN": features, "U": dy[1], "NB": dy[0]]))
      k.launches = [Launch(program, "dense_grad_weight", args: [input(0), input(1), out(id)], global: [features, dy[1]])]
      if n.attributes.bool("bias") {
        k.launches.append(Launch(program, "dense_grad_bias", args: [input(0), result(1)], global: [dy[1]]))
      }
    case .pool2dGrad:
      let x = n.type.shape, y = g.type(of: n.inputs[0]).shape, a = n.attributes
      let kk = a.ints("kernel"), s = a.ints("stride"), p = a.ints("padding")
      let options = Codegen.defines([
        "C": x[1], "H": x[2], "W": x[3], "OH": y[2], "OW": y[3], "KH": kk[0], "KW": kk[1],
        "SH": s[0], "SW": s[1], "PH": p[0], "PW": p[1], "POOL_MAX": a.string("mode") == "max" ? 1 : 0,
      ])
      k.launches = [Launch(ProgramSource(file: "pool2d_grad.cl", options: options), "pool2d_grad",
                           args: [input(0), input(1), out(id)], global: [x[2] * x[3], x[1], x[0]])]
    case .squashGrad, .lengthGrad:
      let x = g.type(of: n.inputs[1]).shape, d = x.last!, rows = x.reduce(1, *) / d
      k.launches = [Launch(ProgramSource(file: "capsules_grad.cl", options: Codegen.defines(["ROWS": rows, "D": d])),
                           n.op == .squashGrad ? "squash_grad_rows" : "length_grad_rows",
                           args: [input(0), input(1), out(id)], global: [rows])]
    case .primaryCapsGrad:
      let conv = n.type.shape, caps = n.attributes.int("caps"), dim = n.attributes.int("dim"), hw = conv[2] * conv[3]
      k.launches = [Launch(ProgramSource(file: "capsules_grad.cl", options: Codegen.defines(["CAPS": caps, "HW": hw, "D": dim])),
                           "primary_caps_grad", args: [input(0), input(1), out(id)], global: [caps * hw, conv[0]])]
    case .capsuleGrad:
      return capsule(id, g)
    case .batchnormTrain:
      let x = n.type.shape, inner = x.dropFirst(2).reduce(1, *)
      let program = ProgramSource(file: "batchnorm_train.cl", options: Codegen.defines(["NB": x[0], "C": x[1], "INNER": inner])
        + ["-DEPS=\(Float(n.attributes.float("eps")))f", "-DMOMENTUM=\(Float(n.attributes.float("momentum")))f"])
      k.launches = [
        Launch(program, "batchnorm_stats", args: [input(0), input(3), input(4), result(1), result(2), result(3), result(4)],
               global: [x[1]]),
        Launch(program, "batchnorm_apply", args: [input(0), input(1), input(2), result(1), result(2), out(id)],
               global: [inner, x[1], x[0]]),
      ]
    case .batchnormGrad:
      let x = n.type.shape, inner = x.dropFirst(2).reduce(1, *)
      let program = ProgramSource(file: "batchnorm_train.cl", options: Codegen.defines(["NB": x[0], "C": x[1], "INNER": inner])
        + ["-DEPS=0.0f", "-DMOMENTUM=0.0f"])
      k.launches = [
        Launch(program, "batchnorm_grad_params", args: [input(0), input(1), input(2), input(3), result(1), result(2)],
               global: [x[1]]),
        Launch(program, "batchnorm_grad_input",
               args: [input(0), input(1), input(2), input(3), input(4), result(1), result(2), out(id)],
               global: [inner, x[1], x[0]]),
      ]
    case .loss:
      let z = g.type(of: n.inputs[0]).shape
      let options = Codegen.defines(["CLASSES": z[1], "MARGIN": n.attributes.string("kind") == "margin" ? 1 : 0])
        + ["-DSCALE=\(Float(n.attributes.float("scale")))f"]
      k.launches = [Launch(ProgramSource(file: "train.cl", options: options), "loss",
                           args: [input(0), input(1), out(id), result(1), .int(Int32(z[0]))], global: [z[0]])]
    case .sgdUpdate, .adamUpdate:
      let params = g.parameters(of: id), w = params[0], shape = n.type.shape, count = n.type.count
      let block: Int = switch Codegen.layout(of: w, in: g, device: device, options: options) {
      case .filterBlocked(let b): b
      // Capsule weights are packed only when the capsule op is their one reader: never in
      // a training graph, where the backward and update ops read them too.
      case .plain, .capsuleBlocked: 1
      }
      var defines = Codegen.defines(["PACK_BLOCK": block, "PACK_INNER": shape.dropFirst().reduce(1, *)])
      let a = n.attributes
      if n.op == .sgdUpdate {
        let momentum = a.float("momentum") > 0
        defines += ["-DLR=\(Float(a.float("lr")))f", "-DMOMENTUM=\(Float(a.float("momentum")))f",
                    "-DHAS_MOMENTUM=\(momentum ? 1 : 0)"]
        // Without momentum the weight stands in for the unused buffer arguments.
        let buf: KernelArg = momentum ? input(2) : input(1), bufOut: KernelArg = momentum ? result(1) : out(id)
        k.launches = [Launch(ProgramSource(file: "train.cl", options: defines), "sgd_update",
                             args: [input(0), input(1), buf, out(id), bufOut, .int(Int32(count))], global: [count])]
      } else {
        defines += ["-DBETA1=\(Float(a.float("beta1")))f", "-DBETA2=\(Float(a.float("beta2")))f", "-DEPS=\(Float(a.float("eps")))f"]
        k.launches = [Launch(ProgramSource(file: "train.cl", options: defines), "adam_update",
                             args: [input(0), input(1), input(2), input(3), input(4), out(id), result(1), result(2),
                                    .int(Int32(count))], global: [count])]
      }
    default:
      preconditionFailure("\(n.op.rawValue) is not a training op")
    }
    return k
  }

  /// Input channels per work-item of conv2d_grad_input and filters per work-item of
  /// conv2d_grad_weight: each load is reused that many times from registers.
  static let channelBlock = 4, filterBlock = 8

  /// The conv2d_grad program for input `x` [N, C, H, W] and output gradient `dy` [N, F, OH, OW].
  static func conv(_ n: Node, x: [Int], dy: [Int], block: Int) -> ProgramSource {
    let kk = n.attributes.ints("kernel"), s = n.attributes.ints("stride"), p = n.attributes.ints("padding")
    return ProgramSource(file: "conv2d_grad.cl", options: Codegen.defines([
      "C": x[1], "H": x[2], "W": x[3], "F": dy[1], "OH": dy[2], "OW": dy[3],
      "KH": kk[0], "KW": kk[1], "SH": s[0], "SW": s[1], "PH": p[0], "PW": p[1], "FT": block,
      "CB": min(channelBlock, x[1]), "FB": min(filterBlock, dy[1]),
    ]))
  }

  /// capsule_grad: replay the routing, run it backwards, then dx and dW.
  static func capsule(_ id: ValueID, _ g: Graph) -> NodeKernels {
    let n = g[id], x = g.type(of: n.inputs[1]).shape
    let batch = x[0], inCaps = x[1], dimIn = x[2]
    let caps = n.attributes.int("caps"), dim = n.attributes.int("dim"), iterations = n.attributes.int("routing")
    let program = ProgramSource(file: "capsules_grad.cl", options: Codegen.defines(
      ["ROUTING": 1, "NB": batch, "I": inCaps, "J": caps, "D": dim, "DIN": dimIn]))
    let dy = BufferRef.value(n.inputs[0]), xs = BufferRef.value(n.inputs[1]), u = BufferRef.value(n.inputs[2])
    let w = BufferRef.value(n.inputs[3])
    let (call, sall, vall, b, gb, gs, gu) = (BufferRef.scratch(0), BufferRef.scratch(1), BufferRef.scratch(2),
                                             BufferRef.scratch(3), BufferRef.scratch(4), BufferRef.scratch(5), BufferRef.scratch(6))
    let logits = batch * inCaps * caps, vectors = batch * caps * dim
    var k = NodeKernels()
    k.scratch = [iterations * logits, iterations * vectors, iterations * vectors, logits, logits, vectors, logits * dim]
    for r in 0..<iterations {
      k.launches.append(Launch(program, "caps_replay_softmax", args: [.buffer(b), .buffer(call), .int(Int32(r))],
                               global: [inCaps, batch]))
      k.launches.append(Launch(program, "caps_replay_sum", args: [.buffer(u), .buffer(call), .buffer(sall), .buffer(vall), .int(Int32(r))],
                               global: [caps, batch]))
      if r < iterations - 1 {
        k.launches.append(Launch(program, "caps_replay_agree", args: [.buffer(u), .buffer(vall), .buffer(b), .int(Int32(r))],
                                 global: [caps, inCaps, batch]))
      }
    }
    for r in (0..<iterations).reversed() {
      let last: KernelArg = .int(r == iterations - 1 ? 1 : 0)
      k.launches.append(Launch(program, "caps_back_v",
                               args: [.buffer(dy), .buffer(u), .buffer(gb), .buffer(sall), .buffer(gs), .int(Int32(r)), last],
                               global: [caps, batch]))
      k.launches.append(Launch(program, "caps_back_c",
                               args: [.buffer(u), .buffer(call), .buffer(vall), .buffer(gs), .buffer(gb), .buffer(gu),
                                      .int(Int32(r)), last], global: [inCaps, batch]))
    }
    k.launches.append(Launch(program, "caps_grad_input", args: [.buffer(w), .buffer(gu), .buffer(.value(id))],
                             global: [inCaps, batch]))
    k.launches.append(Launch(program, "caps_grad_weight",
                             args: [.buffer(xs), .buffer(gu), .buffer(.value(ValueID(id.index, result: 1)))],
                             global: [caps * dim, inCaps]))
    return k
  }
}

extension Codegen {
  /// The layout parameter `p` is packed in on `device`: as its first reader's kernels want.
  static func layout(of p: ValueID, in g: Graph, device: DeviceDescriptor, options: CodegenOptions) -> WeightLayout {
    guard let first = g.users()[p.index].first, !g[first].op.definition.isInternal else { return .plain }
    return kernels(for: first, in: g, device: device, options: options).weightLayouts[p] ?? .plain
  }
}
