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

/// Device memory of a placed graph: what the runtime will allocate, byte for byte.
///  1. Every value computed on a device (every result of a node that is not a view or a
///     parameter) has a buffer on its home device.
///  2. A value read on another device gets a copy there (graph inputs: a host-written
///     buffer on every device that reads them).
///  3. Each node's parameters are held, packed, on the node's device; its scratch too.
public enum MemoryModel {
  public static func bytesPerDevice(_ g: Graph, placement: [Int], devices: [DeviceDescriptor],
                                    kernels: any KernelReporter) -> [Int] {
    var used = Array(repeating: 0, count: devices.count)
    let home = g.homes(placement: placement)
    var copies = Set<[Int]>()  // [value index, result, device]
    for id in g.ids {
      let n = g[id], d = home[id.index]
      if n.op == .parameter || n.op.isView { continue }
      if n.op == .input {
        // Written by the host wherever it is read (or on its home when nobody reads it).
        copies.insert([id.index, 0, d])
        continue
      }
      used[d] += nodeBytes(id, in: g, on: devices[d], kernels: kernels)
      for operand in g.operands(of: id) {
        let r = g.root(operand)
        if home[r.index] != d || g[r].op == .input { copies.insert([r.index, r.result, d]) }
      }
    }
    for c in copies { used[c[2]] += g.type(of: ValueID(c[0], result: c[1])).bytes }
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
