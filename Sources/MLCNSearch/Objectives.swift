// What a candidate network scores: accuracy after a short training (measured by the
// caller, which owns data and devices), and what the planner predicts on a machine for
// its lanes plan: latency per batch, peak memory per device, and the balance of its
// lanes (max over mean device busy time). A network that does not fit the machine is
// infeasible: its violation is how many times over the largest device it needs.

import Foundation
import MLCNBase
import MLCNDriver
import MLCNFrontend
import MLCNGraph
import MLCNPlanner

public enum Objective: String, CaseIterable, Sendable, Codable {
  case accuracy, latency, memory, balance

  public static func parse(_ list: String) throws -> [Objective] {
    let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let objectives = try names.map { n throws -> Objective in
      guard let o = Objective(rawValue: n) else {
        throw SearchError("unknown objective '\(n)' (objectives: \(allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      return o
    }
    guard objectives.count >= 2, Set(objectives).count == objectives.count else {
      throw SearchError("give at least two different objectives, e.g. accuracy,latency")
    }
    return objectives
  }
}

/// A candidate's scores; accuracy and weights only when it was trained.
public struct CandidateScore: Codable, Sendable, Hashable {
  public var name: String
  public var accuracy: Double?
  public var weights: String?
  public var latencySeconds: Double
  public var memoryBytes: Int
  public var balance: Double
  /// 0 when the candidate fits the machine.
  public var violation: Double
  /// Why it is infeasible, when it is.
  public var why: String?

  enum CodingKeys: String, CodingKey {
    case name, accuracy, weights, balance, violation, why
    case latencySeconds = "latency_seconds"
    case memoryBytes = "memory_bytes"
  }

  /// The values NSGA-II minimises, in the order of `objectives`.
  public func evaluation(_ objectives: [Objective]) -> Evaluation {
    Evaluation(objectives: objectives.map {
      switch $0 {
      case .accuracy: 1 - (accuracy ?? 0)
      case .latency: latencySeconds
      case .memory: Double(memoryBytes)
      case .balance: balance
      }
    }, violation: violation)
  }
}

public enum HardwareObjectives {
  /// Latency, memory and balance of the lanes plan of `source` at `batch` on the machine
  /// of `times`. A network that fits no device (or whose lanes do not) is infeasible.
  public static func score(_ source: String, name: String, batch: Int, times: TimeModel) throws -> CandidateScore {
    let graph = try Pipeline.ir(SourceFile(path: "\(name).mlcn", text: source), batch: batch)
    let machine = times.machine
    switch lanesPlan(graph, times) {
    case .success(let (plan, placement)):
      let busy = Simulator.run(graph, placement: placement, times: times).busy
      let mean = busy.reduce(0, +) / Double(busy.count)
      return CandidateScore(name: name, latencySeconds: plan.predictedSeconds, memoryBytes: plan.memoryBytes?.values.max() ?? 0,
                            balance: mean > 0 ? busy.max()! / mean : 1, violation: 0)
    case .failure(let error):
      // Infeasible: scored as if on the largest device, violation = need / capacity.
      let largest = machine.devices.indices.max { machine.devices[$0].memoryBytes < machine.devices[$1].memoryBytes }!
      let placement = Array(repeating: largest, count: graph.nodes.count)
      let need = MemoryModel.bytesPerDevice(graph, placement: placement, devices: machine.devices, kernels: times.kernels)[largest]
      let schedule = Simulator.run(graph, placement: placement, times: times)
      return CandidateScore(name: name, latencySeconds: schedule.makespan, memoryBytes: need, balance: Double(machine.devices.count),
                            violation: max(Double(need) / Double(machine.devices[largest].memoryBytes), 1e-3), why: error.message)
    }
  }

  /// The lanes plan and its placement (machine device indices), or why there is none.
  static func lanesPlan(_ graph: Graph, _ times: TimeModel) -> Result<(Plan, [Int]), PlanError> {
    Result { () throws(PlanError) -> (Plan, [Int]) in
      let plan = try Planner.plan(graph, PlanRequest(strategy: .lanes, times: times))
      let names = times.machine.devices.map(\.name)
      return (plan, try plan.placement(for: graph).map { names.firstIndex(of: plan.devices[$0])! })
    }
  }
}
