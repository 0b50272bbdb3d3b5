// The report of a plan with split ops: drawn and tabulated on the expanded graph (each
// part a node in its device's cluster, labelled with its axis and range; slices and
// gathers between devices as edges with their bytes), plus one line per op saying how it
// is split.

import MLCNBase
import MLCNGraph

extension PlanReport {
  public init(split: SplitGraph, plan: Plan, times: TimeModel) {
    let calibrated = split.calibrated(times)
    self.graph = split.graph
    self.plan = plan
    self.machine = times.machine
    self.times = calibrated
    self.placement = split.placement
    self.schedule = Simulator.run(split.graph, placement: split.placement, times: calibrated)
    var notes: [Int: String] = [:]
    for (i, o) in split.origin.enumerated() {
      guard let o, let op = plan.ops.first(where: { $0.name == split.original[o].name }), let parts = op.parts else { continue }
      let name = split.graph[ValueID(i)].name
      // Parts are named `<op>.part<k>` (`.full` before their crop).
      guard let k = name.split(separator: ".").last(where: { $0.hasPrefix("part") }).flatMap({ Int($0.dropFirst(4)) }),
            k < parts.count else { continue }
      notes[i] = "part \(k + 1)/\(parts.count): axis \(parts[k].axis) [\(parts[k].range[0]), \(parts[k].range[1]))"
    }
    self.notes = notes
  }

  /// One line per op: whole on a device, or its parts (device, axis, range).
  public static func splits(_ g: Graph, _ plan: Plan) -> String {
    var rows = [["op", "kind", "result", "placement"]]
    for op in plan.ops {
      guard let id = g.id(named: op.name) else { continue }
      let n = g[id]
      let placement = op.parts.map { parts in
        "axis \(parts[0].axis) (\(axisName(n, parts[0].axis))): " + parts.map { "\($0.device) [\($0.range[0]), \($0.range[1]))" }.joined(separator: ", ")
      } ?? "whole on \(op.device ?? "?")"
      rows.append([op.name, n.op.rawValue, n.type.description, placement])
    }
    let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max()! }
    return rows.map { r in r.indices.map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
      .joined(separator: "\n") + "\n"
  }

  static func axisName(_ n: Node, _ axis: Int) -> String {
    if axis == 0 { return "samples" }
    if n.type.rank == 4 { return ["samples", "channels", "height", "width"][axis] }
    return n.op == .dense && axis == 1 ? "units" : "axis \(axis)"
  }
}
