// The graph IR: nodes in topological order (a node reads only earlier nodes), graph
// inputs as `input` nodes, weights as `parameter` nodes, named outputs. Shapes are static
// for one batch size.

public struct Graph: Hashable, Sendable {
  public var name: String
  public var batch: Int
  public var nodes: [Node]
  public var outputs: [Output]
  /// The lane instances declared by lane blocks, in source order (`solo`, `L.0`, `L.1`, ...).
  public var declaredLanes: [String]

  public struct Output: Hashable, Sendable {
    public var name: String
    public var value: ValueID
    public init(name: String, value: ValueID) { self.name = name; self.value = value }
  }

  public init(name: String, batch: Int, nodes: [Node] = [], outputs: [Output] = [], declaredLanes: [String] = []) {
    self.name = name
    self.batch = batch
    self.nodes = nodes
    self.outputs = outputs
    self.declaredLanes = declaredLanes
  }

  public subscript(_ id: ValueID) -> Node {
    get { nodes[id.index] }
    set { nodes[id.index] = newValue }
  }

  /// The nodes, as the ids of their main results.
  public var ids: [ValueID] { nodes.indices.map { ValueID($0) } }
  public var inputs: [ValueID] { ids.filter { self[$0].op == .input } }
  /// The parameter values, in node order.
  public var parameters: [ValueID] { ids.filter { self[$0].op == .parameter } }

  /// Every value a node defines: its main result and its extra results.
  public func results(of id: ValueID) -> [ValueID] {
    (0...nodes[id.index].extraResults.count).map { ValueID(id.index, result: $0) }
  }

  public func type(of id: ValueID) -> TensorType {
    id.result == 0 ? nodes[id.index].type : nodes[id.index].extraResults[id.result - 1].type
  }
  public func name(of id: ValueID) -> String { nodes[id.index].resultName(id.result) }

  /// The data operands of a node (its parameters excluded).
  public func operands(of id: ValueID) -> [ValueID] { nodes[id.index].inputs.filter { self[$0].op != .parameter } }
  /// The parameters a node reads, in the order of its op's `weights`.
  public func parameters(of id: ValueID) -> [ValueID] { nodes[id.index].inputs.filter { self[$0].op == .parameter } }
  /// The types of a node's data operands: what its op's shape inference takes.
  public func inputTypes(of id: ValueID) -> [TensorType] { operands(of: id).map(type(of:)) }

  /// For each value, the nodes that read it (in order, one entry per use).
  public func users() -> [[ValueID]] {
    var users = Array(repeating: [ValueID](), count: nodes.count)
    for id in ids { for i in self[id].inputs { users[i.index].append(id) } }
    return users
  }

  /// The value whose buffer `v` uses: views (flatten, reshape) share their operand's.
  public func root(_ v: ValueID) -> ValueID {
    var v = v
    while self[v].op.isView { v = self[v].inputs[0] }
    return v
  }

  public func id(named name: String) -> ValueID? {
    nodes.firstIndex { $0.name == name }.map { ValueID($0) }
  }

  /// All weights of the graph (its parameter values) with their names and shapes, in node order.
  public func weights() -> [(name: String, shape: [Int])] {
    parameters.map { (self[$0].name, self[$0].type.shape) }
  }

  /// The device each value lives on, given each node's device: a view's is its operand's;
  /// a graph input or a parameter is written by the host where its first reader runs.
  public func homes(placement: [Int]) -> [Int] {
    var home = placement
    let readers = users()
    for id in ids where self[id].op.isHostProvided {
      if let first = readers[id.index].first { home[id.index] = placement[first.index] }
    }
    for id in ids where self[id].op.isView { home[id.index] = home[self[id].inputs[0].index] }
    return home
  }

  /// Keeps the nodes for which `keep` is true, renumbering values. Kept nodes must only
  /// read kept nodes; `replace` maps a removed value to the one that stands for it.
  public func compacted(keeping keep: [Bool], replacing replace: [ValueID: ValueID] = [:]) -> Graph {
    func resolve(_ v: ValueID) -> ValueID {
      var v = v
      while let r = replace[v] { v = r }
      return v
    }
    var newIndex = Array(repeating: -1, count: nodes.count)
    var out = self
    out.nodes = []
    for (i, node) in nodes.enumerated() where keep[i] {
      newIndex[i] = out.nodes.count
      var n = node
      n.inputs = node.inputs.map { let r = resolve($0); return ValueID(newIndex[r.index], result: r.result) }
      out.nodes.append(n)
    }
    out.outputs = outputs.map { o in
      let r = resolve(o.value)
      return Output(name: o.name, value: ValueID(newIndex[r.index], result: r.result))
    }
    return out
  }
}
