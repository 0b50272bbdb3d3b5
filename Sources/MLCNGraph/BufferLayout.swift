// The device buffers a placed graph needs, with their lifetimes: the one description that
// both the planner's memory model and the kernel program's allocation are computed from.
//
// Algorithm (graph order; each computing node n runs on its device d):
//  1. A data operand that is a graph input gets a host-written buffer on d (pinned); one
//     computed on another device gets a copy on d, alive from n to its last reader on d,
//     and the original is pinned (another queue reads it). A concat's operand computed on
//     another device needs no copy: the transfer writes it straight into its place in the
//     concat's result (`concatInPlace`).
//  2. Each parameter gets one pinned buffer per device that reads it, packed as the
//     reader's kernels want (the footprint's bytes).
//  3. Scratch buffers live during n only; each result lives from n to its last reader on
//     d (views read their root); outputs are pinned (the host reads them).
//  4. A graph input nobody reads still gets its buffer on its home device.

import MLCNBase

public struct BufferSpec: Hashable, Sendable {
  public enum Kind: Hashable, Sendable {
    /// A result computed on its home device.
    case value(ValueID)
    /// A value computed on another device, copied here before its first reader.
    case copy(ValueID)
    /// A graph input, written by the host.
    case input(ValueID)
    case parameter(ValueID)
    /// Scratch buffer `index` of node `node`.
    case scratch(node: Int, index: Int)
  }
  public var kind: Kind
  public var lifetime: Lifetime
}

public enum BufferLayout {
  public static func buffers(_ g: Graph, placement: [Int],
                             footprint: (ValueID, Int) -> KernelFootprint) -> [BufferSpec] {
    let home = g.homes(placement: placement)
    var specs: [BufferSpec] = []
    var at: [Key: Int] = [:]
    func add(_ kind: BufferSpec.Kind, _ key: Key?, device: Int, bytes: Int, first: Int, last: Int, pinned: Bool) {
      if let key { at[key] = specs.count }
      specs.append(BufferSpec(kind: kind, lifetime: Lifetime(device: device, bytes: bytes, first: first, last: last, pinned: pinned)))
    }
    let outputs = Set(g.outputs.map { g.root($0.value) })
    for id in g.ids where !g[id].op.isHostProvided && !g[id].op.isView {
      let n = id.index, d = placement[n]
      // 1. Operands.
      for operand in g.operands(of: id) {
        let v = g.root(operand)
        if let i = at[Key(v, d)] { specs[i].lifetime.last = max(specs[i].lifetime.last, n); continue }
        let bytes = g.type(of: v).bytes
        if g[v].op == .input {
          add(.input(v), Key(v, d), device: d, bytes: bytes, first: 0, last: n, pinned: true)
        } else {
          if let i = at[Key(v, home[v.index])] { specs[i].lifetime.pinned = true }
          if concatInPlace(g, id, reading: v, home: home) { continue }
          add(.copy(v), Key(v, d), device: d, bytes: bytes, first: n, last: n, pinned: false)
        }
      }
      // 2. Parameters.
      let f = footprint(id, d)
      for (p, bytes) in zip(g.parameters(of: id), f.parameters) where at[Key(p, d)] == nil {
        add(.parameter(p), Key(p, d), device: d, bytes: bytes, first: 0, last: n, pinned: true)
      }
      // 3. Scratch and results.
      for (i, bytes) in f.scratch.enumerated() {
        add(.scratch(node: n, index: i), nil, device: d, bytes: bytes, first: n, last: n, pinned: false)
      }
      for r in g.results(of: id) {
        add(.value(r), Key(r, d), device: d, bytes: g.type(of: r).bytes, first: n, last: n, pinned: outputs.contains(r))
      }
    }
    // 4. Unread inputs.
    for id in g.inputs where !at.keys.contains(where: { $0.value == id }) {
      add(.input(id), Key(id, home[id.index]), device: home[id.index], bytes: g.type(of: id).bytes, first: 0, last: 0,
          pinned: true)
    }
    return specs
  }

  /// Whether `node` is a concat that receives operand `v` (a computed value) by a transfer
  /// from another device straight into its result, rather than through a copy buffer.
  /// `home` is `g.homes(placement:)`.
  public static func concatInPlace(_ g: Graph, _ node: ValueID, reading v: ValueID, home: [Int]) -> Bool {
    g[node].op == .concat && g[v].op != .input && home[v.index] != home[node.index]
  }

  private struct Key: Hashable {
    var value: ValueID
    var device: Int
    init(_ value: ValueID, _ device: Int) { self.value = value; self.device = device }
  }
}
