// conv2d and primary_caps: both run the direct convolution kernel (conv2d.cl); primary
// capsules then regroup the channels into capsules and squash them (capsules.cl).

import MLCNBase
import MLCNGraph

enum ConvKernels {
  /// Output channels per work-item: enough to reuse each input load, few enough to stay in registers.
  static func filterBlock(_ filters: Int, _ device: DeviceDescriptor) -> Int {
    let preferred = device.kind == .cpu ? 16 : 8
    return filters >= preferred ? preferred : (filters >= 4 ? 4 : 1)
  }

  /// The conv launch writing `output` from the node's weight and bias parameters.
  static func convLaunch(_ g: Graph, _ id: ValueID, filters: Int, outShape: (Int, Int), output: BufferRef,
                         act: OpKind?, block: Int) -> Launch {
    let n = g[id], x = g.type(of: n.inputs[0]).shape, params = g.parameters(of: id)
    let k = n.attributes.ints("kernel"), s = n.attributes.ints("stride"), p = n.attributes.ints("padding")
    let options = Codegen.defines([
      "C": x[1], "H": x[2], "W": x[3], "F": filters, "OH": outShape.0, "OW": outShape.1,
      "KH": k[0], "KW": k[1], "SH": s[0], "SW": s[1], "PH": p[0], "PW": p[1], "FT": block,
      "HAS_BIAS": params.count > 1 ? 1 : 0,
    ]) + [Expressions.fusedActivation(act)]
    // Without a bias the weight stands in for the unused argument.
    return Launch(ProgramSource(file: "conv2d.cl", options: options), "conv2d",
                  args: [.buffer(.value(n.inputs[0])), .buffer(.value(params[0])), .buffer(.value(params.last!)), .buffer(output)],
                  global: [outShape.0 * outShape.1, (filters + block - 1) / block, x[0]])
  }

  static func conv2d(_ id: ValueID, _ g: Graph, _ device: DeviceDescriptor) -> NodeKernels {
    let n = g[id], y = n.type.shape, filters = n.attributes.int("filters")
    let block = filterBlock(filters, device)
    var k = NodeKernels()
    k.launches = [convLaunch(g, id, filters: filters, outShape: (y[2], y[3]), output: .value(id),
                             act: n.attributes.activation, block: block)]
    k.weightLayouts[g.parameters(of: id)[0]] = .filterBlocked(block)
    return k
  }

  static func primaryCaps(_ id: ValueID, _ g: Graph, _ device: DeviceDescriptor) -> NodeKernels {
    let n = g[id], a = n.attributes, x = g.type(of: n.inputs[0]).shape
    let caps = a.int("caps"), dim = a.int("dim")
    let kk = a.ints("kernel"), s = a.ints("stride"), p = a.ints("padding")
    let oh = (x[2] + 2 * p[0] - kk[0]) / s[0] + 1, ow = (x[3] + 2 * p[1] - kk[1]) / s[1] + 1
    let filters = caps * dim, block = filterBlock(filters, device)
    // The convolution's output is the node's extra result `conv`.
    let conv = BufferRef.value(ValueID(id.index, result: 1))
    var k = NodeKernels()
    k.launches = [
      convLaunch(g, id, filters: filters, outShape: (oh, ow), output: conv, act: nil, block: block),
      Launch(ProgramSource(file: "capsules.cl", options: Codegen.defines(["CAPS": caps, "HW": oh * ow, "D": dim])),
             "primary_caps_regroup", args: [.buffer(conv), .buffer(.value(id))], global: [caps * oh * ow, x[0]]),
    ]
    k.weightLayouts[g.parameters(of: id)[0]] = .filterBlocked(block)
    return k
  }
}
