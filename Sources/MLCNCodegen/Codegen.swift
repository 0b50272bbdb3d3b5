// Chooses and specialises the kernels of each node for a device. The sizes of the node go
// into `-D` constants, so each program is compiled for exactly one shape; the device's
// kind picks the variant (tile sizes that suit CPUs or GPUs). One entry per op kind.

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
    case .conv2d: return ConvKernels.conv2d(id, g, device)
    case .primaryCaps: return ConvKernels.primaryCaps(id, g, device)
    case .maxpool2d, .avgpool2d: return PoolKernels.pool(id, g)
    case .dense:
      let clblast = options.gemm == .clblast || (options.gemm == .auto && device.kind != .cpu)
      return clblast ? DenseKernels.gemm(id, g) : DenseKernels.dense(id, g)
    case .relu, .sigmoid, .tanh, .leakyRelu, .add: return ElementwiseKernels.map(id, g)
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
    case .capsule: return CapsuleKernels.routing(id, g)
    }
  }

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
