// The placement strategies of `--strategy`, each a function from a graph and devices to
// a plan. `single` runs everything on the first device.

import MLCNGraph

public enum Strategy: String, CaseIterable, Sendable, Codable {
  case single
  case auto

  public var summary: String {
    switch self {
    case .single: "every op on the first device"
    case .auto: "the strategy with the best predicted time"
    }
  }
}

public enum Planner {
  /// Places every op of `graph` on `devices` by `strategy`.
  public static func plan(_ graph: Graph, devices: [DeviceDescriptor], strategy: Strategy) throws(PlanError) -> Plan {
    guard !devices.isEmpty else { throw PlanError("no devices to plan for") }
    switch strategy {
    case .single, .auto:
      return placed(graph, devices: devices, strategy: .single, placement: Array(repeating: 0, count: graph.nodes.count))
    }
  }

  /// A plan from a device index per node, with its predicted time.
  static func placed(_ g: Graph, devices: [DeviceDescriptor], strategy: Strategy, placement: [Int]) -> Plan {
    var busy = Array(repeating: 0.0, count: devices.count)
    var ops: [Plan.Op] = []
    for id in g.ids where g[id].op != .input {
      let d = placement[id.index]
      let t = CostModel.seconds(CostModel.cost(of: id, in: g), on: devices[d])
      busy[d] += t
      ops.append(Plan.Op(name: g[id].name, device: devices[d].name, predictedSeconds: t))
    }
    return Plan(strategy: strategy.rawValue, devices: devices.map(\.name), predictedSeconds: busy.max() ?? 0,
                batch: g.batch, ops: ops, lanes: [])
  }
}
