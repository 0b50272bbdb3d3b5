// The textual form of the graph IR, printed by `mlcnc ir` and checked by lit tests:
//
//   network c01_cnn (batch 2)
//     %x: f32[2, 2, 14, 14] = input
//     %a.weight: f32[6, 2, 3, 3] = parameter {init=glorot_uniform, fan_in=18, fan_out=54, trainable=true}
//     %a.bias: f32[6] = parameter {init=zeros, trainable=true}
//     %a: f32[2, 6, 14, 14] = conv2d(%x, %a.weight, %a.bias) {filters=6, kernel=[3, 3], ..., act=relu, bias=true}
//     %c: f32[2, 3, 5], %c.predictions: f32[2, 12, 3, 5], %c.couplings: f32[2, 12, 3] = capsule(%p, %c.weight) {...} lane L.0
//     output y = %y

public enum Printer {
  public static func print(_ g: Graph) -> String {
    var out = "network \(g.name) (batch \(g.batch))\n"
    for id in g.ids { out += "  " + line(g, id) + "\n" }
    for o in g.outputs { out += "  output \(o.name) = %\(g.name(of: o.value))\n" }
    return out
  }

  public static func line(_ g: Graph, _ id: ValueID) -> String {
    let n = g[id]
    var s = g.results(of: id).map { "%\(g.name(of: $0)): \(g.type(of: $0))" }.joined(separator: ", ")
    s += " = \(n.op.rawValue)"
    if !n.op.isHostProvided { s += "(" + n.inputs.map { "%" + g.name(of: $0) }.joined(separator: ", ") + ")" }
    let attrs = n.op.definition.parameters.compactMap { p in n.attributes[p.name].map { "\(p.name)=\($0)" } }
    if !attrs.isEmpty { s += " {" + attrs.joined(separator: ", ") + "}" }
    if let lane = n.lane { s += " lane \(lane)" }
    return s
  }
}
