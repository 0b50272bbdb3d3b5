// Human-facing views of a plan: a Graphviz DOT drawing (one cluster per device, ops as
// nodes with predicted times, transfers as edges labelled with bytes) and a short table
// per device (lanes, ops, predicted busy time, memory).

import Foundation
import MLCNBase
import MLCNGraph

public struct PlanReport: Sendable {
  public let graph: Graph
  public let plan: Plan
  public let schedule: Schedule
  public let machine: Machine
  public let placement: [Int]
  let times: TimeModel
  /// Extra label lines per node (a split op's part: its axis and range).
  var notes: [Int: String] = [:]

  public init(graph: Graph, plan: Plan, times: TimeModel) throws(PlanError) {
    let names = times.machine.devices.map(\.name)
    guard plan.devices.allSatisfy(names.contains) else {
      throw PlanError("the plan uses devices \(plan.devices.joined(separator: ", ")), the machine has \(names.joined(separator: ", "))")
    }
    // The plan numbers devices in its own list; the report uses the machine's order.
    self.placement = try plan.placement(for: graph).map { names.firstIndex(of: plan.devices[$0])! }
    self.graph = graph
    self.plan = plan
    self.machine = times.machine
    self.times = times
    self.schedule = Simulator.run(graph, placement: placement, times: times)
  }

  static func ms(_ s: Double) -> String { String(format: "%.3f ms", s * 1000) }

  static func bytes(_ b: Int) -> String { ByteCount.format(b) }

  /// Graphviz DOT: `dot -Tsvg plan.dot -o plan.svg`.
  public func dot() -> String {
    func q(_ s: String) -> String {
      "\"" + s.replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
    var out = "digraph \(q(graph.name)) {\n"
    out += "  label=\(q("\(graph.name), strategy \(plan.strategy), predicted \(Self.ms(plan.predictedSeconds)) per batch of \(graph.batch)"));\n"
    out += "  labelloc=t; rankdir=TB; compound=true;\n  node [shape=box, style=rounded, fontsize=10];\n"
    for id in graph.inputs { out += "  \(q(graph[id].name)) [shape=ellipse, label=\(q("\(graph[id].name)\n\(graph[id].type)"))];\n" }
    for (d, dev) in machine.devices.enumerated() {
      let members = graph.ids.filter { !graph[$0].op.isHostProvided && schedule.home[$0.index] == d }
      guard !members.isEmpty else { continue }
      out += "  subgraph \(q("cluster_\(d)")) {\n"
      out += "    label=\(q("\(dev.name) (\(dev.kind.rawValue)), busy \(Self.ms(schedule.busy[d]))")); style=filled; color=\(["lightblue", "lightyellow", "palegreen", "mistyrose", "lavender", "wheat"][d % 6]);\n"
      for id in members {
        let n = graph[id]
        let t = schedule.finish[id.index] - schedule.start[id.index]
        let note = notes[id.index].map { "\n" + $0 } ?? ""
        out += "    \(q(n.name)) [label=\(q("\(n.name)\n\(n.op.rawValue) \(n.type)\(note)\n\(Self.ms(t))"))];\n"
      }
      out += "  }\n"
    }
    let moved = Dictionary(schedule.transfers.map { (("\($0.value.index)>\($0.to)"), $0) }, uniquingKeysWith: { a, _ in a })
    for id in graph.ids where graph[id].op != .parameter {
      for operand in Set(graph.operands(of: id)) {
        let from = schedule.home[operand.index], to = schedule.home[id.index]
        if graph[id].op != .input, from != to || graph[operand].op == .input,
           let t = moved["\(operand.index)>\(to)"] {
          out += "  \(q(graph[operand].name)) -> \(q(graph[id].name)) [label=\(q("\(Self.bytes(t.bytes)), \(Self.ms(t.finish - t.start))")), color=red, fontcolor=red];\n"
        } else {
          out += "  \(q(graph[operand].name)) -> \(q(graph[id].name));\n"
        }
      }
    }
    for o in graph.outputs {
      out += "  \(q("output \(o.name)")) [shape=ellipse];\n  \(q(graph[o.value].name)) -> \(q("output \(o.name)"));\n"
    }
    return out + "}\n"
  }

  /// One line per device: lanes, op count, predicted busy time, memory.
  public func table() -> String {
    let lanesOn: [Int: [String]] = {
      var m: [Int: [String]] = [:]
      for (i, lane) in plan.lanes.enumerated() {
        guard let first = lane.first, let id = graph.id(named: first) else { continue }
        m[schedule.home[id.index], default: []].append(graph[id].lane ?? "lane \(i)")
      }
      return m
    }()
    let memory = MemoryModel.bytesPerDevice(graph, placement: placement, devices: machine.devices, kernels: times.kernels)
    var ops = Array(repeating: 0, count: machine.devices.count)
    for id in graph.ids where !graph[id].op.isHostProvided { ops[schedule.home[id.index]] += 1 }
    var rows = [["device", "type", "lanes", "ops", "predicted busy", "memory"]]
    for (d, dev) in machine.devices.enumerated() {
      let lanes = lanesOn[d].map { $0.count > 6 ? $0.prefix(6).joined(separator: ",") + ",... (\($0.count))" : $0.joined(separator: ",") } ?? "-"
      rows.append([dev.name, dev.kind.rawValue, lanes, "\(ops[d])", Self.ms(schedule.busy[d]),
                   "\(Self.bytes(memory[d])) of \(Self.bytes(dev.memoryBytes))"])
    }
    let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max()! }
    return rows.map { r in r.indices.map { r[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
      .joined(separator: "\n") + "\n"
  }
}
