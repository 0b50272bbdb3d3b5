// training-mode: the forward graph as training evaluates it (DESIGN.md section 7).
// batchnorm normalises with batch statistics (`batchnorm_train`, which also computes the
// new running statistics), and dropout multiplies by a mask the host draws from the seed
// each step: a graph input `<name>.mask` with attribute `dropout=p` holding 0 or 1/(1-p).
//
// Algorithm:
//  1. Copy the nodes in order; a dropout node is preceded by its mask input and becomes
//     `mul(x, mask)`; a batchnorm node becomes `batchnorm_train` (same operands).
//  2. Renumber every operand and output through the old-to-new map.

public struct TrainingMode: Pass {
  public let name = "training-mode"
  public init() {}

  public func run(_ g: inout Graph) {
    var out = g
    out.nodes = []
    var map: [Int: Int] = [:]
    func remap(_ v: ValueID) -> ValueID { ValueID(map[v.index]!, result: v.result) }
    for id in g.ids {
      var n = g[id]
      n.inputs = n.inputs.map(remap)
      switch n.op {
      case .dropout:
        let mask = Node(name: n.name + ".mask", op: .input, inputs: [], attributes: ["dropout": n.attributes["p"]!],
                        type: n.type, lane: nil, location: n.location)
        out.nodes.append(mask)
        n.op = .mul
        n.attributes = Attributes()
        n.inputs.append(ValueID(out.nodes.count - 1))
      case .batchnorm:
        n.op = .batchnormTrain
        n.extraResults = BatchNormTrainOp.extraResults(inputs: [out.type(of: n.inputs[0])], attributes: n.attributes)
      default: break
      }
      map[id.index] = out.nodes.count
      out.nodes.append(n)
    }
    out.outputs = g.outputs.map { Graph.Output(name: $0.name, value: remap($0.value)) }
    g = out
  }
}
