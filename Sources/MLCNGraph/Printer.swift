// The textual form of the graph IR, printed by `mlcnc ir` and checked by lit tests:
//
//   network c01_cnn (batch 2)
//     %x: f32[2, 2, 14, 14] = input
//     %a: f32[2, 6, 14, 14] = conv2d(%x) {filters=6, kernel=[3, 3], stride=[1, 1], padding=[1, 1], act=relu, bias=true}
//     %L.0.h: f32[2, 16, 4, 4] = conv2d(%x) {...} lane L.0
//     output y = %y

public enum Printer {
  public static func print(_ g: Graph) -> String {
    var out = "network \(g.name) (batch \(g.batch))\n"
    for id in g.ids { out += "  " + line(g, id) + "\n" }
    for o in g.outputs { out += "  output \(o.name) = %\(g[o.value].name)\n" }
    return out
  }

  public static func line(_ g: Graph, _ id: ValueID) -> String {
    let n = g[id]
    var s = "%\(n.name): \(n.type) = \(n.op.rawValue)"
    if n.op != .input { s += "(" + n.inputs.map { "%" + g[$0].name }.joined(separator: ", ") + ")" }
    let attrs = n.op.definition.parameters.compactMap { p in n.attributes[p.name].map { "\(p.name)=\($0)" } }
    if !attrs.isEmpty { s += " {" + attrs.joined(separator: ", ") + "}" }
    if n.weightPrefix != n.name { s += " weights \(n.weightPrefix)" }
    if let lane = n.lane { s += " lane \(lane)" }
    return s
  }
}
