// What a node's kernels need on a device, as codegen reports it. The cost model, the
// planner's memory check and the runtime's buffers all read this one report, so launch
// counts and memory are never derived twice. Codegen implements `KernelReporter`; the
// planner receives it as a value, so it depends on codegen's answers, not on codegen.

import MLCNBase

public struct KernelFootprint: Hashable, Sendable {
  /// Kernel launches and library calls (each pays the device's launch overhead).
  public var launches: Int
  /// Scratch buffers the kernels use for themselves, in bytes each.
  public var scratch: [Int]
  /// Each parameter the node reads as packed on the device (layouts may pad), in bytes.
  public var parameters: [Int]
  public init(launches: Int, scratch: [Int], parameters: [Int]) {
    self.launches = launches
    self.scratch = scratch
    self.parameters = parameters
  }
  public var scratchBytes: Int { scratch.reduce(0, +) }
  public var parameterBytes: Int { parameters.reduce(0, +) }
}

public protocol KernelReporter: Sendable {
  func footprint(of id: ValueID, in g: Graph, on device: DeviceDescriptor) -> KernelFootprint
}
