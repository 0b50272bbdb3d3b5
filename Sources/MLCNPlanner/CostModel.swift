// Pure cost functions: how long an op takes on a device (a roofline estimate from the
// op's own flops and bytes and codegen's launch count, replaced by a measured time when
// one is known), and the one memory model every plan is checked against.

import MLCNBase
import MLCNGraph

public enum CostModel {
  public static func cost(of id: ValueID, in g: Graph) -> OpCost {
    let n = g[id]
    return n.op.cost(inputs: g.inputTypes(of: id), output: n.type, attributes: n.attributes)
  }

  /// Roofline time of an op on a device: the slower of compute and memory, plus launches.
  public static func seconds(_ c: OpCost, launches: Int, on d: DeviceDescriptor) -> Double {
    let compute = c.flops / (d.effectiveGFLOPS * 1e9)
    let memory = c.bytes / (d.bandwidthGBs * 1e9)
    return max(compute, memory) + Double(launches) * d.launchOverheadSeconds
  }
}

/// Device memory of a placed graph: what the runtime will allocate, byte for byte. The
/// buffers and their lifetimes come from `BufferLayout` (codegen's footprints for each
/// node's scratch and packed parameters); buffers never alive at the same time share
/// memory (`MemoryPlanning`), as in the kernel program.
public enum MemoryModel {
  public static func bytesPerDevice(_ g: Graph, placement: [Int], devices: [DeviceDescriptor],
                                    kernels: any KernelReporter) -> [Int] {
    let specs = BufferLayout.buffers(g, placement: placement) { id, d in kernels.footprint(of: id, in: g, on: devices[d]) }
    return MemoryPlanning.bytesPerDevice(specs.map(\.lifetime), devices: devices.count)
  }

  /// Device memory without reuse: every buffer its own (for comparison in reports).
  public static func bytesWithoutReuse(_ g: Graph, placement: [Int], devices: [DeviceDescriptor],
                                       kernels: any KernelReporter) -> [Int] {
    var used = Array(repeating: 0, count: devices.count)
    let specs = BufferLayout.buffers(g, placement: placement) { id, d in kernels.footprint(of: id, in: g, on: devices[d]) }
    for s in specs { used[s.lifetime.device] += s.lifetime.bytes }
    return used
  }

  /// What a node holds on its device: its results, packed parameters and scratch (copies
  /// of operands from other devices not included).
  public static func nodeBytes(_ id: ValueID, in g: Graph, on device: DeviceDescriptor, kernels: any KernelReporter) -> Int {
    let n = g[id]
    if n.op.isHostProvided || n.op.isView { return 0 }
    let f = kernels.footprint(of: id, in: g, on: device)
    return g.results(of: id).reduce(0) { $0 + g.type(of: $1).bytes } + f.scratchBytes + f.parameterBytes
  }
}
