// Tile sizes of the tunable kernels and the table of tuned ones. `mlcnc tune` measures the
// candidates a kernel offers (`Codegen.candidates`) and keeps the fastest per device
// identity and op shape; codegen reads the table and falls back to its defaults.

/// One kernel's free choices. Each kernel says what its two sizes mean (for the CPU
/// convolution: output channels per work-item, the vector width, and output pixels per
/// work-item; for the CPU GEMM: columns and rows of the register tile).
public struct TileConfig: Codable, Hashable, Sendable, CustomStringConvertible {
  /// Elements of the vector dimension per work-item (4, 8 or 16).
  public var vector: Int
  /// Register-tile length along the other dimension.
  public var tile: Int
  /// The work-group size along dimension 0 (nil: the driver chooses).
  public var local: Int?

  public init(vector: Int, tile: Int, local: Int? = nil) {
    self.vector = vector
    self.tile = tile
    self.local = local
  }

  public var description: String { "vector=\(vector) tile=\(tile)" + (local.map { " local=\($0)" } ?? "") }
}

/// Tuned tile sizes: device identity -> tuning key (variant, op and shape) -> config.
public struct TuningTable: Codable, Hashable, Sendable {
  public var devices: [String: [String: TileConfig]]

  public init(devices: [String: [String: TileConfig]] = [:]) { self.devices = devices }

  public func config(identity: String?, key: String) -> TileConfig? {
    identity.flatMap { devices[$0]?[key] }
  }

  public mutating func set(_ config: TileConfig, identity: String, key: String) {
    devices[identity, default: [:]][key] = config
  }

  public var isEmpty: Bool { devices.values.allSatisfy(\.isEmpty) }
}
