// Lowers the AST of a .mlcn file to the graph IR for one batch size: resolves names and
// lane scopes, checks operators and attributes against their definitions, infers shapes.
// Every semantic error of the language is reported here, at its source location.
//
// Algorithm:
//  1. Walk statements in order, keeping a global scope (name -> value or lane list).
//  2. A lane block is lowered once per lane instance with a local scope on top of the
//     enclosing ones; value names get the instance prefix (`L.0.`, nested `A.M.1.`), nodes
//     record the lane instance, and no lane reads a value of an unrelated lane.
//  3. Each op call: resolve operands (lane lists expand for variadic ops), convert
//     keyword arguments by the op's parameter kinds, fill defaults, infer the type, then
//     add one `parameter` node per weight the op reads (named as in the contract) just
//     before the op, which reads them after its data operands.
//  4. Outputs name values of the global scope.

import MLCNBase
import MLCNFrontend

public enum Lowering {
  /// Builds the graph IR of `program` with `N` = `batch`.
  public static func lower(_ program: Program, source: SourceFile, batch: Int) throws(DiagnosticError) -> Graph {
    var state = State(source: source, batch: batch, graph: Graph(name: program.name.text, batch: batch))
    try state.lowerTop(program.statements)
    guard !state.graph.outputs.isEmpty else {
      throw state.error(program.name.location, "network '\(program.name.text)' has no 'output' statement")
    }
    return state.graph
  }

  /// Parses and lowers a file in one step.
  public static func lower(source: SourceFile, batch: Int) throws(DiagnosticError) -> Graph {
    try lower(Parser.parse(source), source: source, batch: batch)
  }
}

private enum Binding {
  case value(ValueID)
  case lanes([ValueID])
}

private struct Scope {
  var bindings: [String: (binding: Binding, location: SourceLocation)] = [:]
}

private struct State {
  let source: SourceFile
  let batch: Int
  var graph: Graph
  /// Innermost last: the global scope, then one per lane block being lowered.
  var scopes = [Scope()]
  var outputNames: Set<String> = []

  init(source: SourceFile, batch: Int, graph: Graph) {
    self.source = source
    self.batch = batch
    self.graph = graph
  }

  func error(_ loc: SourceLocation, _ message: String) -> DiagnosticError {
    DiagnosticError(source: source, Diagnostic(loc, message))
  }

  func lookup(_ name: String) -> (binding: Binding, location: SourceLocation)? {
    for scope in scopes.reversed() { if let b = scope.bindings[name] { return b } }
    return nil
  }

  /// Fails with the duplicate-name diagnostic when `name` is bound in the innermost scope
  /// (or, with `anyScope`, in any enclosing one).
  func checkUnbound(_ name: Name, anyScope: Bool = false) throws(DiagnosticError) {
    if let previous = anyScope ? lookup(name.text) : scopes[scopes.count - 1].bindings[name.text] {
      throw error(name.location, "duplicate name '\(name.text)' (first defined at line \(previous.location.line))")
    }
  }

  /// Binds `name` in the innermost scope. A name may be defined once per scope, and a
  /// lane-local name may not hide an outer one (readers would not know which is meant).
  mutating func bind(_ name: Name, _ binding: Binding) throws(DiagnosticError) {
    try checkUnbound(name)
    if scopes.count > 1, let outer = lookup(name.text) {
      throw error(name.location, "'\(name.text)' is already defined outside the lane (line \(outer.location.line)); lane-local names must be new")
    }
    scopes[scopes.count - 1].bindings[name.text] = (binding, name.location)
  }

  // MARK: Statements

  mutating func lowerTop(_ statements: [Statement]) throws(DiagnosticError) {
    for stmt in statements {
      switch stmt {
      case .input(let name, let shape, let shapeLoc):
        guard shape.first == .batch else {
          throw error(shapeLoc, "the first dimension of input '\(name.text)' must be N (the batch size)")
        }
        var dims = [batch]
        for d in shape.dropFirst() {
          guard case .fixed(let n) = d else {
            throw error(shapeLoc, "N (the batch size) may only be the first dimension of input '\(name.text)'")
          }
          dims.append(n)
        }
        try checkUnbound(name, anyScope: true)
        try checkSize(TensorType(dims), what: "input '\(name.text)'", at: shapeLoc)
        let id = append(Node(name: name.text, op: .input, inputs: [], attributes: Attributes(),
                             type: TensorType(dims), lane: nil, location: name.location))
        try bind(name, .value(id))
      case .assign, .lane:
        try lowerStatement(stmt, lane: nil)
      case .output(let names):
        for n in names {
          guard let bound = lookup(n.text) else {
            throw error(n.location, "undefined name '\(n.text)' in output")
          }
          guard case .value(let id) = bound.binding else {
            throw error(n.location, "'\(n.text)' is a list of lanes; output one value, e.g. concat(\(n.text), axis=-1)")
          }
          guard outputNames.insert(n.text).inserted else {
            throw error(n.location, "'\(n.text)' is already an output")
          }
          graph.outputs.append(Graph.Output(name: n.text, value: id))
        }
      }
    }
  }

  /// An assignment or a lane block, at the top level (`lane` nil) or inside a lane instance.
  mutating func lowerStatement(_ stmt: Statement, lane: String?) throws(DiagnosticError) {
    let prefix = lane.map { $0 + "." } ?? ""
    switch stmt {
    case .assign(let name, let op, let args):
      try checkUnbound(name)  // before the call, so a duplicate is reported ahead of op errors
      let id = try lowerCall(name: name, op: op, args: args, prefix: prefix, lane: lane)
      try bind(name, .value(id))
    case .lane(let name, let count, let body, let yielded):
      try checkUnbound(name, anyScope: true)
      if let count {
        var ids: [ValueID] = []
        for i in 0..<count { ids.append(try lowerLane(body, yielded: yielded, instance: "\(prefix)\(name.text).\(i)")) }
        try bind(name, .lanes(ids))
      } else {
        try bind(name, .value(try lowerLane(body, yielded: yielded, instance: prefix + name.text)))
      }
    case .input, .output:
      break  // the parser admits neither inside a lane block
    }
  }

  /// Lowers one instance of a lane body in a new scope and returns the yielded value.
  mutating func lowerLane(_ body: [Statement], yielded: Name, instance: String) throws(DiagnosticError) -> ValueID {
    graph.declaredLanes.append(instance)
    scopes.append(Scope())
    for stmt in body { try lowerStatement(stmt, lane: instance) }
    let local = scopes.removeLast()
    guard let bound = local.bindings[yielded.text], case .value(let id) = bound.binding else {
      if case .lanes(let ids) = local.bindings[yielded.text]?.binding {
        throw error(yielded.location, "'\(yielded.text)' is a list of \(ids.count) lanes; yield one value, e.g. concat(\(yielded.text), axis=-1)")
      }
      if lookup(yielded.text) != nil {
        throw error(yielded.location, "a lane must yield a value computed inside it; '\(yielded.text)' is defined outside")
      }
      throw error(yielded.location, "undefined name '\(yielded.text)' in yield")
    }
    return id
  }

  mutating func append(_ node: Node) -> ValueID {
    graph.nodes.append(node)
    return ValueID(graph.nodes.count - 1)
  }

  // MARK: Op calls

  mutating func lowerCall(name: Name, op: Name, args: [CallArgument], prefix: String,
                          lane: String?) throws(DiagnosticError) -> ValueID {
    guard let kind = OpKind(rawValue: op.text), OpKind.callable.contains(kind) else {
      let known = OpKind.callable.map(\.rawValue).joined(separator: ", ")
      throw error(op.location, "unknown operator '\(op.text)' (known: \(known))")
    }
    let def = kind.definition

    // Operands: positional identifiers first.
    var operands: [ValueID] = []
    var operandLocs: [SourceLocation] = []
    var seenKeyword = false
    var attrs = Attributes()
    var attrLocs: [String: SourceLocation] = [:]
    for arg in args {
      guard let key = arg.key else {
        guard !seenKeyword else {
          throw error(arg.location, "operand after a keyword argument: tensor operands come first")
        }
        guard case .identifier(let ref) = arg.value.kind else { continue }
        guard let bound = lookup(ref) else {
          throw error(arg.location, "undefined name '\(ref)'")
        }
        // Lanes are independent: a lane may read outside values, its own, and its nested
        // lanes' results, but not another lane's.
        let ids: [ValueID] = switch bound.binding { case .value(let id): [id]; case .lanes(let l): l }
        for id in ids {
          if let mine = lane, let theirs = graph[id].lane, !Lanes.related(mine, theirs) {
            throw error(arg.location, "lane '\(mine)' reads '\(ref)', a value of lane '\(theirs)': lanes must be independent (compute it outside the lanes, or inside this one)")
          }
        }
        switch bound.binding {
        case .value(let id):
          operands.append(id); operandLocs.append(arg.location)
        case .lanes(let ids):
          guard case .atLeast = def.arity else {
            throw error(arg.location, "'\(ref)' is a list of \(ids.count) lanes; only variadic operators such as concat take lane lists")
          }
          operands += ids; operandLocs += Array(repeating: arg.location, count: ids.count)
        }
        continue
      }
      seenKeyword = true
      guard let spec = def.parameters.first(where: { $0.name == key }) else {
        let known = def.parameters.map(\.name)
        let hint = known.isEmpty ? "it takes no parameters" : "parameters: " + known.joined(separator: ", ")
        throw error(arg.location, "\(kind.rawValue) has no parameter '\(key)' (\(hint))")
      }
      guard attrLocs[key] == nil else { throw error(arg.location, "parameter '\(key)' given twice") }
      attrs[key] = try convert(arg.value, spec)
      attrLocs[key] = arg.value.location
    }
    guard def.arity.accepts(operands.count) else {
      throw error(op.location, "\(kind.rawValue) takes \(def.arity.description), got \(operands.count)")
    }
    for spec in def.parameters where attrs[spec.name] == nil {
      if let d = spec.defaultValue { attrs[spec.name] = d }
      else if spec.required { throw error(op.location, "\(kind.rawValue) needs parameter '\(spec.name)' (\(spec.kind.expectation))") }
    }

    let inputTypes = operands.map { graph.type(of: $0) }
    let type: TensorType
    do {
      type = try def.infer(inputTypes, &attrs)
      try def.checkSource(attrs)
    } catch {
      var loc = op.location
      if let p = error.parameter, let l = attrLocs[p] { loc = l }
      if let i = error.operand, i < operandLocs.count { loc = operandLocs[i] }
      throw self.error(loc, "\(kind.rawValue): \(error.message)")
    }
    try checkSize(type, what: "the result of \(kind.rawValue)", at: op.location)
    var parameters: [ValueID] = []
    for w in def.weights(inputs: inputTypes, attributes: attrs) {
      try checkSize(TensorType(w.shape), what: "its \(w.suffix)", at: op.location)
      parameters.append(append(Node(name: "\(prefix)\(name.text).\(w.suffix)", op: .parameter, inputs: [],
                                    attributes: ParameterOp.attributes(w), type: TensorType(w.shape), lane: lane,
                                    location: name.location)))
    }
    let extra = def.extraResults(inputs: inputTypes, attributes: attrs)
    for r in extra { try checkSize(r.type, what: "its \(r.suffix)", at: op.location) }
    return append(Node(name: prefix + name.text, op: kind, inputs: operands + parameters, attributes: attrs, type: type,
                       extraResults: extra, lane: lane, location: name.location))
  }

  /// Rejects tensors too large for the kernels' 32-bit indexing (and for memory).
  func checkSize(_ t: TensorType, what: String, at loc: SourceLocation) throws(DiagnosticError) {
    guard let n = t.checkedCount, n <= Limits.maxElements else {
      let dims = t.shape.map(String.init).joined(separator: ", ")
      throw error(loc, "\(what) would be [\(dims)], too large: mlcnc handles tensors of at most \(Limits.maxElements) elements")
    }
  }

  /// Converts a source value to an attribute of the parameter's kind.
  func convert(_ v: Value, _ spec: ParamSpec) throws(DiagnosticError) -> AttrValue {
    let bad = error(v.location, "parameter '\(spec.name)' expects \(spec.kind.expectation), got \(v.spelling)")
    if let big = largestInteger(v), big > Limits.maxInteger {
      throw error(v.location, "parameter '\(spec.name)' is too large: \(big) (at most \(Limits.maxInteger))")
    }
    switch spec.kind {
    case .int(let min):
      guard case .int(let i) = v.kind, i >= min else { throw bad }
      return .int(i)
    case .pair(let min):
      return try pair(v, min: min, bad)
    case .padding:
      if case .identifier("same") = v.kind { return .string("same") }
      if case .string("same") = v.kind { return .string("same") }
      return try pair(v, min: 0, bad)
    case .activation:
      switch v.kind {
      case .identifier(let s), .string(let s):
        guard s == "none" || OpKind(rawValue: s)?.definition.isActivation == true else { throw bad }
        return .string(s)
      default: throw bad
      }
    case .choice(let words):
      switch v.kind {
      case .identifier(let s), .string(let s):
        guard words.contains(s) else { throw bad }
        return .string(s)
      default: throw bad
      }
    case .float(let lo, let hi):
      let x: Double
      switch v.kind {
      case .int(let i): x = Double(i)
      case .float(let f): x = f
      default: throw bad
      }
      guard x >= lo && x < hi else { throw bad }
      return .float(x)
    case .bool:
      switch v.kind {
      case .identifier("true"): return .bool(true)
      case .identifier("false"): return .bool(false)
      default: throw bad
      }
    case .axis:
      guard case .int(let i) = v.kind else { throw bad }
      return .int(i)
    case .shape:
      guard case .list(let items) = v.kind else { throw bad }
      var dims: [Int] = []
      for item in items {
        guard case .int(let i) = item.kind, i > 0 || i == -1 else { throw bad }
        dims.append(i)
      }
      guard dims.filter({ $0 == -1 }).count <= 1 else {
        throw error(v.location, "parameter '\(spec.name)' may contain at most one -1")
      }
      return .ints(dims)
    }
  }

  /// The largest absolute integer in a value (lists included).
  func largestInteger(_ v: Value) -> Int? {
    switch v.kind {
    case .int(let i): return i == Int.min ? Int.max : abs(i)
    case .list(let items): return items.compactMap(largestInteger).max()
    default: return nil
    }
  }

  func pair(_ v: Value, min: Int, _ bad: DiagnosticError) throws(DiagnosticError) -> AttrValue {
    switch v.kind {
    case .int(let i) where i >= min: return .ints([i, i])
    case .list(let items) where items.count == 2:
      guard case .int(let h) = items[0].kind, case .int(let w) = items[1].kind, h >= min, w >= min else { throw bad }
      return .ints([h, w])
    default: throw bad
    }
  }
}
