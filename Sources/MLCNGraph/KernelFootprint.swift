// What a node's kernels need on a device, as codegen reports it. The cost model, the
// planner's memory check and the runtime's buffers all read this one report, so launch
// counts and memory are never derived twice. Codegen implements `KernelReporter`; the
// planner receives it as a value, so it depends on codegen's answers, not on codegen.

import MLCNBase

public struct KernelFootprint: Hashable, Sendable {
  /// Kernel launches and library calls (each pays the device's launch overhead).
  public var launches: Int
  /// Device memory the kernels use for themselves, beyond the node's values.
  public var scratchBytes: Int
  /// The node's parameters as packed on the device (layouts may pad).
  public var parameterBytes: Int
  public init(launches: Int, scratchBytes: Int, parameterBytes: Int) {
    self.launches = launches
    self.scratchBytes = scratchBytes
    self.parameterBytes = parameterBytes
  }
}

public protocol KernelReporter: Sendable {
  func footprint(of id: ValueID, in g: Graph, on device: DeviceDescriptor) -> KernelFootprint
}
