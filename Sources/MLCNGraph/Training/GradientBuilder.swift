// What a vector-Jacobian rule sees while Autodiff builds the backward graph: the graph
// so far (forward nodes, then backward nodes appended), which values need a gradient,
// and where to put the gradients it computes. Each op's rule lives in its own file
// (`vjp`); this type only appends nodes and collects gradient contributions.

import MLCNBase

public struct GradientBuilder {
  public internal(set) var graph: Graph
  /// Values that depend on a trainable parameter: only they get gradients.
  let needsGrad: Set<ValueID>
  /// Gradient contributions per value, summed when its producer is differentiated.
  var contributions: [ValueID: [ValueID]] = [:]
  /// The gradient of each trainable parameter.
  public internal(set) var parameterGradients: [ValueID: ValueID] = [:]
  /// The forward node whose rule is running: its lane and location go to the new nodes.
  var current: ValueID

  init(graph: Graph, needsGrad: Set<ValueID>) {
    self.graph = graph
    self.needsGrad = needsGrad
    self.current = ValueID(0)
  }

  public func needsGradient(_ v: ValueID) -> Bool { needsGrad.contains(v) }

  /// The name for a gradient of value `v` (a parameter's: `<weight>.grad`), unique in the graph.
  public func gradName(_ v: ValueID) -> String { unique(graph.name(of: v) + ".grad") }

  /// `base`, or `base.1`, `base.2`, ... when taken.
  public func unique(_ base: String) -> String {
    let taken = Set(graph.ids.flatMap { graph.results(of: $0).map { graph.name(of: $0) } })
    if !taken.contains(base) { return base }
    var i = 1
    while taken.contains("\(base).\(i)") { i += 1 }
    return "\(base).\(i)"
  }

  /// Appends a node of `op` reading `data` then `params`, with its type and extra results
  /// from the op's definition, in the lane of the forward node being differentiated.
  @discardableResult
  public mutating func emit(_ op: OpKind, _ data: [ValueID], params: [ValueID] = [], _ attributes: Attributes = Attributes(),
                            name: String) throws(OpError) -> ValueID {
    let def = op.definition
    var attrs = attributes
    for p in def.parameters where attrs[p.name] == nil { attrs[p.name] = p.defaultValue }
    let types = data.map(graph.type(of:))
    let type = try def.infer(types, &attrs)
    let from = graph[current]
    var node = Node(name: name, op: op, inputs: data + params, attributes: attrs, type: type,
                    extraResults: def.extraResults(inputs: types, attributes: attrs), lane: from.lane, location: from.location)
    node.derivedFrom = from.derivedFrom ?? from.name
    graph.nodes.append(node)
    return ValueID(graph.nodes.count - 1)
  }

  /// Adds `grad` to the gradient of `v` (ignored when `v` needs none, e.g. a graph input).
  public mutating func accumulate(_ v: ValueID, _ grad: ValueID) {
    guard needsGrad.contains(v) else { return }
    contributions[v, default: []].append(grad)
  }

  /// Sets the gradient of parameter `p`, or adds to it when another node reads `p` too
  /// (the parts of a layer split by samples share its weights).
  public mutating func setParameterGradient(_ p: ValueID, _ grad: ValueID) throws(OpError) {
    guard graph[p].attributes["trainable"] != .bool(false) else { return }
    guard let earlier = parameterGradients[p] else { parameterGradients[p] = grad; return }
    parameterGradients[p] = try emit(.add, [earlier, grad], name: unique(graph[p].name + ".grad.sum"))
  }

  /// The gradient of `v`: its contributions summed (nil when nothing reached it).
  mutating func total(_ v: ValueID) throws(OpError) -> ValueID? {
    guard var parts = contributions[v], !parts.isEmpty else { return nil }
    while parts.count > 1 {
      let a = parts.removeFirst(), b = parts.removeFirst()
      parts.append(try emit(.add, [a, b], name: unique(graph.name(of: v) + ".grad.sum")))
    }
    return parts[0]
  }
}

extension Attributes: ExpressibleByDictionaryLiteral {
  public init(dictionaryLiteral elements: (String, AttrValue)...) {
    self.init(Dictionary(uniqueKeysWithValues: elements))
  }
}
