// A plan says where each op of a graph runs. It is exported as versioned JSON (readable
// back with --plan) and is what the runtime executes.
import Foundation
import MLCNGraph

public struct Plan: Codable, Hashable, Sendable {
  public static let currentVersion = 1

  public struct Part: Codable, Hashable, Sendable {
    public var device: String
    public var axis: Int
    public var range: [Int]
    public init(device: String, axis: Int, range: [Int]) { self.device = device; self.axis = axis; self.range = range }
  }

  public struct Op: Codable, Hashable, Sendable {
    /// The op's value name, lane prefix included.
    public var name: String
    public var device: String?
    public var parts: [Part]?
    public var predictedSeconds: Double?
    public init(name: String, device: String?, parts: [Part]? = nil, predictedSeconds: Double? = nil) {
      self.name = name
      self.device = device
      self.parts = parts
      self.predictedSeconds = predictedSeconds
    }
  }

  public var version: Int
  public var strategy: String
  public var devices: [String]
  public var predictedSeconds: Double
  public var batch: Int?
  public var ops: [Op]
  public var lanes: [[String]]
  /// The device of each lane in `lanes` (lane strategies only).
  public var laneDevices: [String]?
  /// Device memory the plan needs per device (buffers that are never alive at the same
  /// time share memory), as the runtime allocates it.
  public var memoryBytes: [String: Int]?

  public init(strategy: String, devices: [String], predictedSeconds: Double, batch: Int?, ops: [Op], lanes: [[String]]) {
    self.version = Plan.currentVersion
    self.strategy = strategy
    self.devices = devices
    self.predictedSeconds = predictedSeconds
    self.batch = batch
    self.ops = ops
    self.lanes = lanes
  }

  enum CodingKeys: String, CodingKey {
    case version, strategy, devices, batch, ops, lanes
    case laneDevices = "lane_devices"
    case memoryBytes = "memory_bytes"
    case predictedSeconds = "predicted_seconds"
  }

  /// Device index (into `devices`) of every node of `graph`, or an error naming the op
  /// the plan does not place or places on an unknown device.
  public func placement(for graph: Graph) throws(PlanError) -> [Int] {
    var byName: [String: Int] = [:]
    for op in ops {
      guard let d = op.device else {
        throw PlanError("op '\(op.name)' is split into parts; this runtime executes whole ops only")
      }
      guard let i = devices.firstIndex(of: d) else { throw PlanError("op '\(op.name)' is placed on unknown device '\(d)'") }
      byName[op.name] = i
    }
    var placement: [Int] = []
    for n in graph.nodes {
      if let d = byName[n.name] { placement.append(d); continue }
      guard n.op.isHostProvided else { throw PlanError("the plan does not place op '\(n.name)'") }
      placement.append(-1)
    }
    // Inputs and parameters need no kernel: they are written where their first reader runs.
    let users = graph.users()
    for id in graph.ids where placement[id.index] < 0 {
      placement[id.index] = users[id.index].first.map { placement[$0.index] } ?? 0
    }
    return placement
  }

  public func json() -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try! enc.encode(self), as: UTF8.self) + "\n"
  }

  public static func decode(_ data: Data, file: String) throws(PlanError) -> Plan {
    let plan: Plan
    do { plan = try JSONDecoder().decode(Plan.self, from: data) } catch {
      throw PlanError("\(file): not a valid plan JSON (\(error))")
    }
    guard Set(plan.devices).count == plan.devices.count else {
      throw PlanError("\(file): the plan lists a device twice (\(plan.devices.joined(separator: ", ")))")
    }
    guard plan.version == currentVersion else {
      throw PlanError("\(file): plan version \(plan.version) is not supported (this mlcnc reads version \(currentVersion))")
    }
    return plan
  }
}

public struct PlanError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { "error: \(message)" }
}
