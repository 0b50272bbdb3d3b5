// How long an op takes on a device: a measured time when one is known for that device
// and op signature (profiled OpenCL events, cached per device), else the roofline estimate.

import Foundation
import MLCNBase
import MLCNGraph

/// Measured op times: device identity -> op signature -> seconds.
public struct MeasuredTimes: Codable, Sendable, Hashable {
  public var devices: [String: [String: Double]] = [:]
  public init() {}

  /// What makes two ops cost the same: kind, operand shapes, result shape, attributes.
  public static func signature(_ id: ValueID, in g: Graph) -> String {
    let n = g[id]
    return signature(n.op, inputs: g.inputTypes(of: id), output: n.type, attributes: n.attributes)
  }

  public static func signature(_ op: OpKind, inputs: [TensorType], output: TensorType, attributes: Attributes) -> String {
    let attrs = attributes.values.keys.sorted().map { "\($0)=\(attributes.values[$0]!)" }.joined(separator: ",")
    return "\(op.rawValue)(\(inputs.map(\.description).joined(separator: ";")))->\(output){\(attrs)}"
  }

  public func seconds(_ id: ValueID, in g: Graph, device: DeviceDescriptor) -> Double? {
    guard let key = device.identity else { return nil }
    return devices[key]?[Self.signature(id, in: g)]
  }

  /// Records a measurement, keeping the fastest seen (the least disturbed by other load).
  public mutating func record(_ seconds: Double, signature: String, device identity: String) {
    let old = devices[identity]?[signature]
    devices[identity, default: [:]][signature] = min(old ?? .infinity, seconds)
  }
}

public struct TimeModel: Sendable {
  public var machine: Machine
  public var measured: MeasuredTimes
  /// Codegen's report of each node's launches and memory.
  public var kernels: any KernelReporter

  public init(machine: Machine, measured: MeasuredTimes = MeasuredTimes(), kernels: any KernelReporter) {
    self.machine = machine
    self.measured = measured
    self.kernels = kernels
  }

  /// Seconds for node `id` of `g` on device `d` (an index into the machine's devices).
  public func seconds(_ id: ValueID, in g: Graph, device d: Int) -> Double {
    let dev = machine.devices[d]
    if let t = measured.seconds(id, in: g, device: dev) { return t }
    if g[id].op.isHostProvided || g[id].op.isView { return 0 }
    return CostModel.seconds(CostModel.cost(of: id, in: g), launches: kernels.footprint(of: id, in: g, on: dev).launches, on: dev)
  }
}
