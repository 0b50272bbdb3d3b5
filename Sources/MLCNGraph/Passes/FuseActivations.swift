// fuse-activations: folds an activation (relu, sigmoid, tanh, leaky_relu with its default
// alpha) into the conv2d or dense that feeds it, so the activation costs no extra kernel
// or memory round trip.
//
// Algorithm:
//  1. For each activation node A with default attributes whose operand P is a
//     conv2d/dense with act=none, read by A alone and not itself a graph output:
//  2. set P's act to A's, give P A's value name (P's parameters keep their names),
//  3. drop A and let every reader of A read P.

public struct FuseActivations: Pass {
  public let name = "fuse-activations"
  public init() {}

  public func run(_ g: inout Graph) {
    let users = g.users()
    let outputs = Set(g.outputs.map(\.value))
    var keep = Array(repeating: true, count: g.nodes.count)
    var replace: [ValueID: ValueID] = [:]
    for id in g.ids {
      let a = g[id]
      guard a.op.definition.isActivation, let p = a.inputs.first, p.result == 0 else { continue }
      let producer = g[p]
      guard a.attributes == a.op.defaultAttributes, producer.op == .conv2d || producer.op == .dense, producer.attributes.activation == nil,
            users[p.index].count == 1, !outputs.contains(p), keep[p.index] else { continue }
      g[p].attributes["act"] = .string(a.op.rawValue)
      g[p].name = a.name
      g[p].lane = producer.lane ?? a.lane
      keep[id.index] = false
      replace[id] = p
    }
    g = g.compacted(keeping: keep, replacing: replace)
  }
}
