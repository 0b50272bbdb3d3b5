// What the planner and codegen know about a device: real ones are described by OpenCL
// queries and measurements (the runtime's device probe), virtual ones by a machine file.
// Nothing here touches OpenCL.

public enum DeviceKind: String, Codable, Hashable, Sendable, CaseIterable {
  case cpu, gpu, accelerator

  /// Fraction of peak our kernels reach on such a device when nothing better is known
  /// (calibrated on PoCL and GPUs).
  public var defaultEfficiency: Double {
    switch self { case .cpu: 0.25; case .gpu: 0.3; case .accelerator: 0.2 }
  }
}

public struct DeviceDescriptor: Codable, Hashable, Sendable {
  /// Unique within a plan: `0:1` for real devices, the machine file's name for virtual ones.
  public var name: String
  public var kind: DeviceKind
  /// Peak single-precision throughput estimate.
  public var gflops: Double
  /// Memory bandwidth in GB/s.
  public var bandwidthGBs: Double
  public var memoryBytes: Int
  public var computeUnits: Int
  public var maxWorkGroupSize: Int
  public var localMemoryBytes: Int
  /// Fixed cost of one kernel launch.
  public var launchOverheadSeconds: Double
  /// Fraction of peak our kernels reach on it (nil: the cost model's default for its kind).
  public var efficiency: Double?
  /// For real devices: what identifies the device and driver, to key measured op times.
  public var identity: String?

  public init(name: String, kind: DeviceKind, gflops: Double, bandwidthGBs: Double, memoryBytes: Int,
              computeUnits: Int = 1, maxWorkGroupSize: Int = 256, localMemoryBytes: Int = 32 << 10,
              launchOverheadSeconds: Double? = nil, efficiency: Double? = nil, identity: String? = nil) {
    self.name = name
    self.kind = kind
    self.gflops = gflops
    self.bandwidthGBs = bandwidthGBs
    self.memoryBytes = memoryBytes
    self.computeUnits = computeUnits
    self.maxWorkGroupSize = maxWorkGroupSize
    self.localMemoryBytes = localMemoryBytes
    self.launchOverheadSeconds = launchOverheadSeconds ?? (kind == .cpu ? 20e-6 : 8e-6)
    self.efficiency = efficiency
    self.identity = identity
  }

  /// Peak throughput our kernels are expected to reach.
  public var effectiveGFLOPS: Double { gflops * (efficiency ?? kind.defaultEfficiency) }
}
