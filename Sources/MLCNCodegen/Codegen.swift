// Chooses and specialises the kernels of each node for a device. The sizes of the node go
// into `-D` constants, so each program is compiled for exactly one shape; the device's
// kind picks the variant (register-tiled kernels for CPUs, light work-items for GPUs) and
// the tuning table the tile sizes. One entry per op kind.

import MLCNBase
import MLCNGraph

public enum Codegen {
  /// `placed`: operand positions that a transfer writes into the result (concat only).
  public static func kernels(for id: ValueID, in g: Graph, device: DeviceDescriptor,
                             options: CodegenOptions = CodegenOptions(), placed: Set<Int> = []) -> NodeKernels {
    let node = g[id]
    if node.op.isView {
      var k = NodeKernels()
      k.aliasesOperand = true
      return k
    }
    switch node.op {
    case .input, .parameter, .flatten, .reshape, .dropout: return NodeKernels()
    case .conv2d: return ConvKernels.conv2d(id, g, device, options)
    case .primaryCaps: return ConvKernels.primaryCaps(id, g, device, options)
    case .maxpool2d, .avgpool2d: return PoolKernels.pool(id, g)
    case .dense: return DenseKernels.kernels(id, g, device, options)
    case .relu, .sigmoid, .tanh, .leakyRelu, .add, .mul: return ElementwiseKernels.map(id, g)
    case .softmax: return ElementwiseKernels.softmax(id, g)
    case .batchnorm:
      let x = g.type(of: node.inputs[0]).shape, inner = x.dropFirst(2).reduce(1, *)
      var k = NodeKernels()
      k.launches = [Launch(ProgramSource(file: "batchnorm.cl", options: defines(["C": x[1], "INNER": inner])
                                           + ["-DEPS=\(Float(node.attributes.float("eps")))f"]),
                           "batchnorm_infer", args: node.inputs.map { .buffer(.value($0)) } + [.buffer(.value(id))],
                           global: [inner, x[1], x[0]])]
      return k
    case .concat: return ElementwiseKernels.concat(id, g, placed: placed)
    case .slice: return SliceKernels.slice(id, g)
    case .squash, .length: return CapsuleKernels.rows(id, g)
    case .capsule: return CapsuleKernels.routing(id, g, device, options)
    case .activationGrad, .softmaxGrad, .conv2dGradInput, .conv2dGradParams, .denseGradInput, .denseGradParams,
         .pool2dGrad, .sliceGrad, .squashGrad, .lengthGrad, .primaryCapsGrad, .capsuleGrad, .batchnormTrain,
         .batchnormGrad, .loss, .sgdUpdate, .adamUpdate:
      return TrainingKernels.kernels(id, g, device, options)
    }
  }

  /// The tile sizes node `id` can be built with on `device` and the key its choice is
  /// kept under in a tuning table; nil for nodes without a choice.
  public static func candidates(for id: ValueID, in g: Graph, device: DeviceDescriptor,
                                options: CodegenOptions = CodegenOptions()) -> (key: String, configs: [TileConfig])? {
    let node = g[id], cpu = options.usesCPUKernels(device)
    switch node.op {
    case .conv2d, .primaryCaps:
      let a = node.attributes
      let s = ConvKernels.Shape(g, id, filters: node.op == .conv2d ? a.int("filters") : a.int("caps") * a.int("dim"))
      return (s.key(node.op, cpu: cpu), ConvKernels.candidates(s, cpu: cpu))
    case .dense where cpu && options.gemm != .clblast && g.onlyReader(id, of: g.parameters(of: id)[0]):
      let m = g.type(of: node.inputs[0]).shape[0]
      return (DenseKernels.key(id, g), DenseKernels.candidates(m: m, n: node.attributes.int("units")))
    case .capsule where cpu && g.onlyReader(id, of: g.parameters(of: id)[0]):
      return (CapsuleKernels.key(id, g),
              CapsuleKernels.candidates(n: g.batch, jd: node.attributes.int("caps") * node.attributes.int("dim")))
    default:
      return nil
    }
  }

  /// Build option of the CPU kernels: clang warns that float16 arguments change the ABI
  /// without AVX-512, once per use, although every such function is inlined; PoCL prints
  /// that to stderr on each build.
  static let quietVectorABI = "-w"

  /// `-DNAME=value` options in order.
  static func defines(_ pairs: KeyValuePairs<String, Int>) -> [String] {
    pairs.map { "-D\($0.key)=\($0.value)" }
  }

  /// Codegen's report of launches and memory, for the planner's cost and memory models.
  public static func reporter(_ options: CodegenOptions = CodegenOptions()) -> any KernelReporter {
    Reporter(options: options)
  }

  struct Reporter: KernelReporter {
    var options: CodegenOptions
    func footprint(of id: ValueID, in g: Graph, on device: DeviceDescriptor) -> KernelFootprint {
      Codegen.kernels(for: id, in: g, device: device, options: options).footprint(id, g)
    }
  }
}

extension NodeKernels {
  /// Launches, scratch bytes and packed parameter bytes of node `id`.
  public func footprint(_ id: ValueID, _ g: Graph) -> KernelFootprint {
    let params = g.parameters(of: id).map { (weightLayouts[$0] ?? .plain).packedCount(shape: g.type(of: $0).shape) * 4 }
    return KernelFootprint(launches: steps.count, scratch: scratch.map { $0 * 4 }, parameters: params)
  }
}
