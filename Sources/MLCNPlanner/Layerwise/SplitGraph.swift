// A graph with every node placed whole or split into parts, expanded into an ordinary
// graph the kernel program, the memory model and the makespan simulator already handle:
// each part is a node of the same op on its region (sliced parameters, fewer filters,
// rows with their halo), and data moves through explicit `slice` and `concat` nodes.
//
// Algorithm (nodes in graph order):
//  1. A whole node is copied, reading its operands whole.
//  2. A split node gets one node per part. Each part reads, per operand, the region
//     `SplitRules.part` asks for; a parameter region becomes a parameter of its own,
//     sliced on the host when the weights are bound; a spatial part is cropped to its rows.
//  3. A region of a value is made from the value's parts: each part that overlaps it is
//     used as is when it lies inside the region, else sliced on its own device (so only
//     the needed elements cross to another device); several pieces are joined by a concat
//     on the reader's device. A reader whose region is a part of the same device reads that
//     part directly: consecutive layers split alike exchange nothing.
//  4. Graph inputs are cut on the host: one input per region read. Split outputs are
//     gathered on the host: one output per part.

import MLCNBase
import MLCNGraph

public struct SplitGraph: Sendable {
  /// A graph input of the expanded graph: `region` of the original input `source`.
  public struct InputPiece: Hashable, Sendable {
    public var name: String
    public var source: String
    public var region: Region
  }
  /// A graph output of the expanded graph: `region` of the original output `output`.
  public struct OutputPiece: Hashable, Sendable {
    public var name: String
    public var output: String
    public var region: Region
  }

  public var original: Graph
  public var graph: Graph
  /// The device of each node of `graph`.
  public var placement: [Int]
  /// For each parameter of `graph`: the original parameter and the region of it it holds.
  public var parameterSources: [ValueID: (source: ValueID, region: Region)]
  public var inputs: [InputPiece]
  public var outputs: [OutputPiece]
  /// For each node of `graph`: the original node it computes (a part of), or nil for
  /// the slices and concats that move data.
  public var origin: [ValueID?]

  /// Expands `g` with `configurations[i]` for node i (ignored for inputs and parameters).
  public static func build(_ g: Graph, configurations: [Configuration]) throws(PlanError) -> SplitGraph {
    var b = Builder(g)
    for id in g.ids where !g[id].op.isHostProvided { try b.expand(id, configurations[id.index]) }
    try b.gatherOutputs()
    return SplitGraph(original: g, graph: b.out, placement: b.placement, parameterSources: b.parameterSources,
                      inputs: b.inputs, outputs: b.outputPieces, origin: b.origin)
  }

  private struct Builder {
    struct Part {
      var device: Int
      var region: Region
      var value: ValueID
    }
    struct Key: Hashable {
      var value: ValueID
      var region: Region
      var device: Int
    }

    let g: Graph
    var out: Graph
    var placement: [Int] = []
    var origin: [ValueID?] = []
    var parameterSources: [ValueID: (source: ValueID, region: Region)] = [:]
    var inputs: [InputPiece] = []
    var outputPieces: [OutputPiece] = []
    /// The parts of every original value computed so far.
    var layout: [ValueID: [Part]] = [:]
    /// Regions of original values already made, by (original value, region, device).
    var made: [Key: ValueID] = [:]
    /// Slices of expanded values already made, by (expanded value, region, device): a
    /// separate table, as expanded and original value ids share one number space.
    var sliced: [Key: ValueID] = [:]
    var counter = 0

    init(_ g: Graph) {
      self.g = g
      out = Graph(name: g.name, batch: g.batch, declaredLanes: g.declaredLanes)
    }

    mutating func add(_ node: Node, device: Int, origin o: ValueID?) -> ValueID {
      out.nodes.append(node)
      placement.append(device)
      origin.append(o)
      return ValueID(out.nodes.count - 1)
    }

    mutating func unique(_ base: String) -> String {
      counter += 1
      return "\(base).\(counter)"
    }

    mutating func expand(_ id: ValueID, _ c: Configuration) throws(PlanError) {
      let n = g[id], operands = g.operands(of: id), params = g.parameters(of: id)
      // 1. Whole.
      guard let axis = c.axis else {
        let d = c.devices[0]
        var inputs: [ValueID] = []
        for v in operands { inputs.append(try obtain(v, .whole, on: d)) }
        for p in params { inputs.append(parameter(p, .whole)) }
        var node = n
        node.inputs = inputs
        let v = add(node, device: d, origin: id)
        for r in g.results(of: id) { layout[r] = [Part(device: d, region: .whole, value: ValueID(v.index, result: r.result))] }
        return
      }
      // 2. Parts.
      for (i, (d, range)) in zip(c.devices, c.ranges).enumerated() {
        let spec = SplitRules.part(id, in: g, axis: axis, range: range)
        var inputs: [ValueID] = []
        for (v, region) in zip(operands, spec.operands) { inputs.append(try obtain(v, region, on: d)) }
        for (p, region) in zip(params, spec.parameters) { inputs.append(parameter(p, region)) }
        var attributes = spec.attributes
        let types = inputs.prefix(operands.count).map(out.type(of:))
        let type: TensorType
        do { type = try n.op.definition.infer(types, &attributes) } catch {
          throw PlanError("op '\(n.name)': its part \(range.lowerBound)..<\(range.upperBound) along axis \(axis) cannot be computed (\(error.message))")
        }
        let extra = n.op.definition.extraResults(inputs: types, attributes: attributes)
        let name = spec.crop == .whole ? "\(n.name).part\(i)" : "\(n.name).part\(i).full"
        var v = add(Node(name: name, op: n.op, inputs: inputs, attributes: attributes, type: type, extraResults: extra,
                         lane: n.lane, location: n.location), device: d, origin: id)
        if case .range(let cropAxis, let rows) = spec.crop {
          v = slice(v, axis: cropAxis, rows, name: "\(n.name).part\(i)", device: d, origin: id)
        }
        layout[id, default: []].append(Part(device: d, region: .range(axis: axis, range), value: v))
        for (r, region) in spec.extraResults.enumerated() {
          layout[ValueID(id.index, result: r + 1), default: []].append(Part(device: d, region: region, value: ValueID(v.index, result: r + 1)))
        }
      }
    }

    mutating func slice(_ v: ValueID, axis: Int, _ range: Range<Int>, name: String, device: Int, origin o: ValueID?) -> ValueID {
      let t = out.type(of: v)
      var a = Attributes()
      a["axis"] = .int(axis)
      a["begin"] = .int(range.lowerBound)
      a["end"] = .int(range.upperBound)
      return add(Node(name: name, op: .slice, inputs: [v], attributes: a, type: Region.range(axis: axis, range).type(of: t),
                      lane: nil, location: out[v].location), device: device, origin: o)
    }

    /// The node holding `region` of parameter `p` (one per region; the host writes it to
    /// every device that reads it).
    mutating func parameter(_ p: ValueID, _ region: Region) -> ValueID {
      let key = Key(value: p, region: region, device: -1)
      if let v = made[key] { return v }
      var node = g[p]
      node.type = region.type(of: node.type)
      let v = add(node, device: 0, origin: p)
      parameterSources[v] = (p, region)
      made[key] = v
      return v
    }

    /// 3-4. The value holding `region` of original value `v` on device `d`.
    mutating func obtain(_ v: ValueID, _ region: Region, on d: Int) throws(PlanError) -> ValueID {
      let vt = g.type(of: v)
      let region = region.isWhole(in: vt.shape) ? Region.whole : region
      if g[v].op == .input {
        let key = Key(value: v, region: region, device: -1)
        if let e = made[key] { return e }
        var node = g[v]
        node.type = region.type(of: vt)
        if region != .whole { node.name = "\(g[v].name)[\(region)]" }
        let e = add(node, device: d, origin: v)
        inputs.append(InputPiece(name: node.name, source: g[v].name, region: region))
        made[key] = e
        return e
      }
      let key = Key(value: v, region: region, device: d)
      if let e = made[key] { return e }
      guard let parts = layout[v] else {
        throw PlanError("op '\(g.name(of: v))' is read before it is computed")
      }
      var pieces: [ValueID] = []
      var joinAxis = 0
      for part in parts where part.region.overlap(region, in: vt.shape) > 0 {
        // The piece of this part inside `region`, in the part's own coordinates.
        var local = Region.whole
        if case .range(let c, let wanted) = region {
          if case .range(let p, let have) = part.region, p == c {
            let inside = have.clamped(to: wanted)
            if inside != have { local = .range(axis: c, (inside.lowerBound - have.lowerBound)..<(inside.upperBound - have.lowerBound)) }
          } else {
            local = region
          }
        }
        if case .range(let a, _) = part.region { joinAxis = a }
        if case .range(let a, let r) = local {
          let k = Key(value: part.value, region: local, device: part.device)
          if let e = sliced[k] { pieces.append(e); continue }
          let e = slice(part.value, axis: a, r, name: unique("\(g.name(of: v)).slice"), device: part.device, origin: nil)
          sliced[k] = e
          pieces.append(e)
        } else {
          pieces.append(part.value)
        }
      }
      guard !pieces.isEmpty else { throw PlanError("op '\(g.name(of: v))': no part computes \(region)") }
      var e = pieces[0]
      if pieces.count > 1 {
        var a = Attributes()
        a["axis"] = .int(joinAxis)
        e = add(Node(name: unique("\(g.name(of: v)).gather"), op: .concat, inputs: pieces, attributes: a,
                     type: region.type(of: vt), lane: nil, location: g[v].location), device: d, origin: nil)
      }
      made[key] = e
      return e
    }

    mutating func gatherOutputs() throws(PlanError) {
      for o in g.outputs {
        // An output that is a graph input itself is written whole and read back.
        var parts = layout[o.value] ?? []
        if parts.isEmpty { parts = [Part(device: 0, region: .whole, value: try obtain(o.value, .whole, on: 0))] }
        if parts.count == 1 && parts[0].region == .whole {
          out.outputs.append(Graph.Output(name: o.name, value: parts[0].value))
          outputPieces.append(OutputPiece(name: o.name, output: o.name, region: .whole))
          continue
        }
        for (i, part) in parts.enumerated() {
          let name = "\(o.name).part\(i)"
          out.outputs.append(Graph.Output(name: name, value: part.value))
          outputPieces.append(OutputPiece(name: name, output: o.name, region: part.region))
        }
      }
    }
  }
}
