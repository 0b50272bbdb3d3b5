// A network ready to run: its source, weights and placement choices, from a compiled
// package or straight from a .mlcn file. It lowers to a graph for any batch size and
// plans that graph for the chosen devices.

import Foundation
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNPlanner

public struct Model: Sendable {
  public var source: SourceFile
  public var weights: [String: HostTensor]
  public var weightsOrigin: String
  public var compiledBatch: Int
  public var strategy: Strategy
  public var devices: String?
  public var plan: Plan?

  public init(source: SourceFile, weights: [String: HostTensor], weightsOrigin: String, compiledBatch: Int,
              strategy: Strategy, devices: String?, plan: Plan?) {
    self.source = source
    self.weights = weights
    self.weightsOrigin = weightsOrigin
    self.compiledBatch = compiledBatch
    self.strategy = strategy
    self.devices = devices
    self.plan = plan
  }

  public init(package path: String) throws {
    let p = try CompiledPackage.read(path)
    var plan: Plan?
    if let json = p.planJSON { plan = try Plan.decode(Data(json.utf8), file: path) }
    self.init(source: p.source, weights: p.weights, weightsOrigin: p.weightsOrigin, compiledBatch: p.batch,
              strategy: Strategy(rawValue: p.strategy) ?? .auto, devices: p.devices, plan: plan)
  }

  /// The plan to run `graph` on the machine: an explicit one, the stored one when it was
  /// made for this batch and these devices, else a new one by `strategy`.
  public func plan(for graph: Graph, times: TimeModel, strategy: Strategy?, seed: UInt64 = 0,
                   explicit: Plan?) throws -> Plan {
    if let explicit {
      try Planner.validate(explicit, for: graph, times: times)
      return explicit
    }
    let names = times.machine.devices.map(\.name)
    if strategy == nil, let plan, plan.batch == graph.batch, plan.devices == names { return plan }
    return try Planner.plan(graph, PlanRequest(strategy: strategy ?? self.strategy, times: times, seed: seed))
  }
}
