// A parallelization configuration of one node (OptCNN's term): the node whole on one
// device, or its result divided along one axis into ranges, one per device.

import MLCNGraph

public struct Configuration: Hashable, Sendable, CustomStringConvertible {
  /// The axis of the node's result the parts divide; nil for a whole node.
  public var axis: Int?
  /// The device of each part (one device for a whole node).
  public var devices: [Int]
  /// The range of `axis` each part computes, in order and covering the axis (empty for a whole node).
  public var ranges: [Range<Int>]

  public init(axis: Int?, devices: [Int], ranges: [Range<Int>]) {
    self.axis = axis
    self.devices = devices
    self.ranges = ranges
  }

  public static func whole(_ device: Int) -> Configuration { Configuration(axis: nil, devices: [device], ranges: []) }

  public var isWhole: Bool { axis == nil }

  /// Each part's device and the region of the node's result it computes.
  public var parts: [(device: Int, region: Region)] {
    guard let axis else { return [(devices[0], .whole)] }
    return zip(devices, ranges).map { ($0, .range(axis: axis, $1)) }
  }

  public var description: String {
    guard let axis else { return "whole on \(devices[0])" }
    return "axis \(axis): " + zip(devices, ranges).map { "\($1.lowerBound)..<\($1.upperBound) on \($0)" }.joined(separator: ", ")
  }
}
