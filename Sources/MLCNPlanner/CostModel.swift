// Pure cost functions: how much work and memory traffic each op is, and how long it takes
// on a device (a roofline estimate, replaced by a measured time when one is known).

import MLCNGraph

public struct OpCost: Sendable, Hashable {
  public var flops: Double
  /// Bytes read and written in device memory.
  public var bytes: Double
  /// Kernel launches (each pays the device's launch overhead).
  public var launches: Int
}

public enum CostModel {
  /// Fraction of peak our kernels reach, by device kind (calibrated on PoCL and GPUs).
  public static func efficiency(_ kind: DeviceKind) -> Double {
    switch kind { case .cpu: 0.25; case .gpu: 0.3; case .accelerator: 0.2 }
  }

  public static func cost(of id: ValueID, in g: Graph) -> OpCost {
    let n = g[id], a = n.attributes, y = n.type
    let ins = n.inputs.map { g.type(of: $0) }
    let weightBytes = Double(n.weights(inputTypes: ins).reduce(0) { $0 + $1.shape.reduce(1, *) }) * 4
    let io = Double(ins.reduce(0) { $0 + $1.bytes } + y.bytes) + weightBytes
    let count = Double(y.count)
    switch n.op {
    case .input, .flatten, .reshape:
      return OpCost(flops: 0, bytes: 0, launches: 0)
    case .conv2d:
      let k = a.ints("kernel"), c = Double(ins[0].shape[1])
      return OpCost(flops: 2 * count * c * Double(k[0] * k[1]), bytes: io, launches: 1)
    case .primaryCaps:
      let k = a.ints("kernel"), c = Double(ins[0].shape[1])
      return OpCost(flops: 2 * count * c * Double(k[0] * k[1]) + 4 * count, bytes: io + 2 * Double(y.bytes), launches: 2)
    case .dense:
      return OpCost(flops: 2 * count * Double(ins[0].shape[1]), bytes: io, launches: 1)
    case .maxpool2d, .avgpool2d:
      let k = a.ints("kernel")
      return OpCost(flops: count * Double(k[0] * k[1]), bytes: io, launches: 1)
    case .relu, .sigmoid, .tanh, .add:
      return OpCost(flops: count * (n.op == .relu || n.op == .add ? 1 : 4), bytes: io, launches: 1)
    case .softmax:
      return OpCost(flops: 5 * count, bytes: io, launches: 1)
    case .concat:
      return OpCost(flops: 0, bytes: io, launches: n.inputs.count)
    case .squash, .length:
      return OpCost(flops: 4 * Double(ins[0].count), bytes: io, launches: 1)
    case .capsule:
      let x = ins[0].shape
      let (batch, i, din) = (Double(x[0]), Double(x[1]), Double(x[2]))
      let j = Double(a.int("caps")), d = Double(a.int("dim")), r = Double(a.int("routing"))
      let u = batch * i * j * d
      let flops = 2 * u * din + r * (6 * batch * i * j + 2 * u) + (r - 1) * 2 * u
      let bytes = io + 4 * (u * (2 * r) + batch * i * j * 4 * r)
      return OpCost(flops: flops, bytes: bytes, launches: 1 + 3 * Int(r) - 1)
    }
  }

  /// Device memory an op holds while the graph runs: its result (views share their
  /// operand's), its weights and its kernels' scratch buffers.
  public static func memoryBytes(of id: ValueID, in g: Graph) -> Int {
    let n = g[id]
    if n.op.isView { return 0 }
    let weights = n.weights(inputTypes: g.inputTypes(of: id)).reduce(0) { $0 + $1.shape.reduce(1, *) } * 4
    var scratch = 0
    switch n.op {
    case .primaryCaps: scratch = n.type.bytes
    case .capsule:
      let x = g.type(of: n.inputs[0]).shape
      let pairs = x[0] * x[1] * n.attributes.int("caps")
      scratch = 4 * (pairs * n.attributes.int("dim") + 2 * pairs)
    default: break
    }
    return n.type.bytes + weights + scratch
  }

  /// Roofline time of an op on a device: the slower of compute and memory, plus launches.
  public static func seconds(_ c: OpCost, on d: DeviceDescriptor) -> Double {
    let compute = c.flops / (d.gflops * 1e9 * (d.efficiency ?? efficiency(d.kind)))
    let memory = c.bytes / (d.bandwidthGBs * 1e9)
    return max(compute, memory) + Double(c.launches) * d.launchOverheadSeconds
  }
}
