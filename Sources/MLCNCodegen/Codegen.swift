// Chooses and specialises the kernels of each node for a device. The sizes of the node go
// into `-D` constants, so each program is compiled for exactly one shape; the device's
// kind picks the variant (tile sizes that suit CPUs or GPUs).

import MLCNGraph
import MLCNPlanner

public enum Codegen {
  public static func kernels(for id: ValueID, in g: Graph, device: DeviceDescriptor,
                             options: CodegenOptions = CodegenOptions()) -> NodeKernels {
    let node = g[id]
    switch node.op {
    case .input: return NodeKernels()
    case .flatten, .reshape:
      var k = NodeKernels()
      k.aliasesOperand = true
      return k
    case .conv2d: return ConvKernels.conv2d(id, g, device)
    case .primaryCaps: return ConvKernels.primaryCaps(id, g, device)
    case .maxpool2d, .avgpool2d: return PoolKernels.pool(id, g)
    case .dense:
      let clblast = options.gemm == .clblast || (options.gemm == .auto && device.kind != .cpu)
      return clblast ? DenseKernels.gemm(id, g) : DenseKernels.dense(id, g)
    case .relu, .sigmoid, .tanh, .add: return ElementwiseKernels.map(id, g)
    case .softmax: return ElementwiseKernels.softmax(id, g)
    case .concat: return ElementwiseKernels.concat(id, g)
    case .squash, .length: return CapsuleKernels.rows(id, g)
    case .capsule: return CapsuleKernels.routing(id, g)
    }
  }

  /// `-DNAME=value` options in order.
  static func defines(_ pairs: KeyValuePairs<String, Int>) -> [String] {
    pairs.map { "-D\($0.key)=\($0.value)" }
  }
}
