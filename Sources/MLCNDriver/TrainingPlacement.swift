// Where a training step runs on several devices: the forward graph is planned (lanes,
// layer-wise, ...), and every node of the training graph runs on the device of the
// forward node it belongs to (backward and update nodes carry its name, `derivedFrom`).
//
// Algorithm (`TrainingGraph.place`):
//  1. The forward graph in training mode, its output cut to what the loss reads (under
//     xent a final softmax is left out: the loss reads the logits).
//  2. The whole training graph; each forward node's share of it (its saved results, its
//     backward nodes, its weights' gradients and optimizer state) becomes the planner's
//     `nodeBytes`, so the lane balancer caps each device with what training needs; the
//     layer-wise searches charge the gradient all-reduce of weights a split replicates.
//  3. The forward plan. A plan that splits ops (layer-wise) is expanded into a split
//     graph; its parameter regions get names of their own (`w[axis 0 0..<8]`), split
//     outputs are gathered for the loss, and that graph is differentiated: the parts'
//     backward nodes run on the parts' devices, and weights shared by parts (a batch
//     split) get their gradients summed.
//  4. The training graph must fit: its buffers, placed, against each device's memory.

import MLCNBase
import MLCNCodegen
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNPlanner

/// Where a parameter of a split training graph lies in the network's parameter.
public struct ParameterRegion: Sendable {
  public var source: String
  public var region: Region
  /// The network parameter's shape.
  public var shape: [Int]
}

/// A training step placed on a machine.
public struct PlacedTraining {
  /// The forward graph's plan.
  public var plan: Plan
  /// Forward, loss, backward and update.
  public var graph: Graph
  /// A device (index into the machine's devices) per node of `graph`.
  public var placement: [Int]
  /// Parameters of `graph` that hold a region of a network parameter, by name (layer-wise
  /// plans that split a layer's weights); optimizer state `<name>.<suffix>` follows its weight.
  public var regions: [String: ParameterRegion] = [:]
  /// With split ops: the forward graph that was split (training mode), and the graph
  /// inputs cut from its inputs on the host.
  public var split: (forward: Graph, inputs: [SplitGraph.InputPiece])?

  /// The inputs of `graph` from the forward graph's (`given`, by name): cut into pieces
  /// when ops are split.
  public func cut(_ given: [String: HostTensor]) -> [String: HostTensor] {
    guard let split else { return given }
    var out: [String: HostTensor] = [:]
    for piece in split.inputs { out[piece.name] = given[piece.source]?.region(piece.region) }
    return out
  }

  /// The network parameter and region a parameter of `graph` stands for (nil: itself, whole).
  public func region(of name: String) -> (name: String, region: ParameterRegion)? {
    if let r = regions[name] { return (r.source, r) }
    guard let dot = name.lastIndex(of: "."), let r = regions[String(name[..<dot])] else { return nil }
    return (r.source + name[dot...], r)
  }
}

extension TrainingGraph {
  /// Each node of the training graph `g` on the device of the forward node it belongs to
  /// (`placement` places `forward`'s nodes); the loss and anything else with the first output.
  public static func placement(_ g: Graph, forward: Graph, placement: [Int]) -> [Int] {
    var at: [String: Int] = [:]
    for (i, n) in forward.nodes.enumerated() where !n.op.isHostProvided { at[n.name] = placement[i] }
    let main = placement[forward.outputs[0].value.index]
    return g.nodes.map { at[$0.derivedFrom ?? $0.name] ?? main }
  }

  /// What each node of `forward` holds during a training step `g`: the results and
  /// scratch of its nodes in `g` and of the backward and update nodes derived from it,
  /// and the parameters (weights, optimizer state) they read.
  public static func bytesPerForwardNode(_ g: Graph, forward: Graph, device: DeviceDescriptor,
                                         kernels: any KernelReporter) -> [Int] {
    var index: [String: Int] = [:]
    for id in forward.ids { index[forward[id].name] = id.index }
    var bytes = Array(repeating: 0, count: forward.nodes.count)
    let users = g.users()
    for id in g.ids {
      let n = g[id]
      if n.op == .parameter {
        guard let reader = users[id.index].first, let f = index[g[reader].derivedFrom ?? g[reader].name] else { continue }
        bytes[f] += n.type.bytes
      } else if !n.op.isHostProvided, let f = index[n.derivedFrom ?? n.name] {
        bytes[f] += MemoryModel.nodeBytes(id, in: g, on: device, kernels: kernels)
      }
    }
    return bytes
  }

  /// The training step of `source` at `batch` placed by `strategy` on `times`'s machine
  /// (any strategy but data-parallel, which runs a training graph per replica).
  public static func place(_ source: SourceFile, batch: Int, loss: LossKind?, optimizer: Optimizer?, strategy: Strategy,
                           times: TimeModel, seed: UInt64) throws -> PlacedTraining {
    // 1.
    var forward = try Compiler.graph(source, options: CompileOptions(batch: batch))
    TrainingMode().run(&forward)
    let kind = loss ?? LossKind.defaultFor(forward)
    forward.outputs = [Graph.Output(name: forward.outputs[0].name, value: kind.target(in: forward))]
    DeadCodeElimination().run(&forward)
    // 2.
    let whole = try differentiate(forward, loss: kind, optimizer: optimizer)
    var request = PlanRequest(strategy: strategy, times: times, seed: seed)
    request.training = true
    let machine = times.machine
    request.nodeBytes = bytesPerForwardNode(whole, forward: forward, device: machine.devices[machine.mainDevice],
                                            kernels: times.kernels)
    // 3.
    let plan = try Planner.plan(forward, request)
    var placed: PlacedTraining
    if plan.ops.contains(where: { $0.parts != nil }) {
      placed = try split(forward, plan: plan, loss: kind, optimizer: optimizer, times: times)
    } else {
      placed = PlacedTraining(plan: plan, graph: whole,
                              placement: placement(whole, forward: forward, placement: try plan.placement(for: forward)))
    }
    // 4.
    try MemoryValidator.check(placed.graph, placement: placed.placement, times: times,
                              what: "a training step of '\(forward.name)' (batch \(batch), strategy \(plan.strategy))")
    return placed
  }

  /// 3. The training graph of a plan with split ops.
  private static func split(_ forward: Graph, plan: Plan, loss: LossKind, optimizer: Optimizer?,
                            times: TimeModel) throws -> PlacedTraining {
    let names = times.machine.devices.map(\.name)
    let split = try SplitGraph.build(forward, configurations: try plan.configurations(for: forward, devices: names))
    var g = split.graph
    var devices = split.placement
    var regions: [String: ParameterRegion] = [:]
    for (v, source) in split.parameterSources where source.region != .whole {
      let original = forward[source.source]
      g.nodes[v.index].name = "\(original.name)[\(source.region)]"
      regions[g[v].name] = ParameterRegion(source: original.name, region: source.region, shape: original.type.shape)
    }
    // The loss reads the output whole: its parts are joined on the device of the first.
    func start(_ r: Region) -> Int { if case .range(_, let rows) = r { rows.lowerBound } else { 0 } }
    let pieces = split.outputs.enumerated().sorted { start($0.element.region) < start($1.element.region) }
    if pieces.count > 1, case .range(let axis, _) = pieces[0].element.region {
      let parts = pieces.map { g.outputs[$0.offset].value }
      let out = forward.outputs[0]
      g.nodes.append(Node(name: out.name, op: .concat, inputs: parts, attributes: ["axis": .int(axis)],
                          type: forward.type(of: out.value), lane: nil, location: forward[out.value].location))
      devices.append(devices[parts[0].index])
      g.outputs = [Graph.Output(name: out.name, value: ValueID(g.nodes.count - 1))]
    }
    let training = try differentiate(g, loss: loss, optimizer: optimizer, verify: false)
    return PlacedTraining(plan: plan, graph: training, placement: placement(training, forward: g, placement: devices),
                          regions: regions, split: (forward, split.inputs))
  }
}
