// Checks the invariants every pass must keep: topological order, operand counts,
// attributes that match the op's parameters and are canonical, types that match shape
// inference, unique names, valid outputs, and no edge from one lane instance into another.

public struct VerifyError: Error, Sendable, CustomStringConvertible {
  public var node: String
  public var message: String
  public var description: String { "IR verification failed at '\(node)': \(message)" }
}

public enum Verifier {
  public static func verify(_ g: Graph) throws(VerifyError) {
    var names: Set<String> = []
    for id in g.ids {
      let n = g[id]
      func fail(_ m: String) -> VerifyError { VerifyError(node: n.name, message: m) }
      guard names.insert(n.name).inserted else { throw fail("duplicate value name") }
      for i in n.inputs where i.index >= id.index || i.index < 0 {
        throw fail("reads \(i), which is not defined before it")
      }
      let def = n.op.definition
      guard def.arity.accepts(n.inputs.count) else {
        throw fail("\(n.op.rawValue) takes \(def.arity.description), has \(n.inputs.count)")
      }
      for key in n.attributes.values.keys where !def.parameters.contains(where: { $0.name == key }) {
        throw fail("unknown attribute '\(key)'")
      }
      for p in def.parameters where p.required && n.attributes[p.name] == nil {
        throw fail("missing attribute '\(p.name)'")
      }
      if n.op == .input {
        guard n.type.shape.first == g.batch else { throw fail("input's first dimension is not the batch \(g.batch)") }
      } else {
        var attrs = n.attributes
        let inferred: TensorType
        do { inferred = try def.infer(g.inputTypes(of: id), &attrs) } catch { throw fail(error.message) }
        guard inferred == n.type else { throw fail("type \(n.type) but inference gives \(inferred)") }
        guard attrs == n.attributes else { throw fail("attributes are not canonical") }
      }
      if let lane = n.lane {
        for i in n.inputs {
          if let other = g[i].lane, !Lanes.related(lane, other) {
            throw fail("lane \(lane) reads \(g[i].name) of lane \(other); lanes must be independent")
          }
        }
      }
    }
    guard !g.outputs.isEmpty else { throw VerifyError(node: g.name, message: "graph has no outputs") }
    for o in g.outputs where o.value.index < 0 || o.value.index >= g.nodes.count {
      throw VerifyError(node: o.name, message: "output refers to a missing value")
    }
  }
}
