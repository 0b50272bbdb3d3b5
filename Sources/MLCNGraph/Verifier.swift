// Checks the invariants every pass must keep: topological order, operand counts,
// attributes that match the op's parameters and are canonical, types that match shape
// inference, parameters that match what their reader declares, unique names, valid
// outputs, and no edge from one lane instance into another.

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
      for r in g.results(of: id) where !names.insert(g.name(of: r)).inserted {
        throw fail("duplicate value name '\(g.name(of: r))'")
      }
      for i in n.inputs where i.index >= id.index || i.index < 0 || i.result > g[i].extraResults.count {
        throw fail("reads \(i), which is not defined before it")
      }
      let def = n.op.definition
      let data = g.operands(of: id), params = g.parameters(of: id)
      guard n.inputs == data + params else { throw fail("reads a parameter before a data operand") }
      guard def.arity.accepts(data.count) else {
        throw fail("\(n.op.rawValue) takes \(def.arity.description), has \(data.count)")
      }
      for key in n.attributes.values.keys where !def.parameters.contains(where: { $0.name == key }) {
        throw fail("unknown attribute '\(key)'")
      }
      for p in def.parameters where p.required && n.attributes[p.name] == nil {
        throw fail("missing attribute '\(p.name)'")
      }
      switch n.op {
      case .input:
        guard n.type.shape.first == g.batch || n.attributes["unbatched"] == .bool(true) else {
          throw fail("input's first dimension is not the batch \(g.batch)")
        }
      case .parameter:
        guard n.extraResults.isEmpty else { throw fail("a parameter has one result") }
      default:
        var attrs = n.attributes
        let inferred: TensorType
        do { inferred = try def.infer(g.inputTypes(of: id), &attrs) } catch { throw fail(error.message) }
        guard inferred == n.type else { throw fail("type \(n.type) but inference gives \(inferred)") }
        guard attrs == n.attributes else { throw fail("attributes are not canonical") }
        let extra = def.extraResults(inputs: g.inputTypes(of: id), attributes: attrs)
        guard extra == n.extraResults else { throw fail("extra results \(n.extraResults.map(\.suffix)) but the op defines \(extra.map(\.suffix))") }
        let weights = def.weights(inputs: g.inputTypes(of: id), attributes: attrs)
        guard weights.count == params.count else { throw fail("reads \(params.count) parameters, the op needs \(weights.count)") }
        for (w, p) in zip(weights, params) where g.type(of: p).shape != w.shape || g.type(of: p).dtype != .f32 {
          throw fail("parameter \(g[p].name) is \(g.type(of: p)), the op needs f32\(w.shape)")
        }
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
