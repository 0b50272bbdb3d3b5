// The time to make replicated parameters' gradients agree after each training step: the
// layer-wise cost model charges it to every configuration that keeps a node's parameters
// on several devices (sample and spatial splits). Inference needs none.

import MLCNBase

public protocol GradientSync: Sendable {
  /// Seconds per step to combine the gradients of `bytes` of parameters held by `devices`.
  func seconds(bytes: Int, devices: [Int], machine: Machine) -> Double
}

/// Inference: parameters never change, so replicas need no synchronisation.
public struct NoGradientSync: GradientSync {
  public init() {}
  public func seconds(bytes: Int, devices: [Int], machine: Machine) -> Double { 0 }
}

/// A ring all-reduce: each of k devices sends and receives 2 (k - 1) / k of the bytes in
/// 2 (k - 1) steps, at the pace of the slowest link of the ring.
public struct RingAllReduce: GradientSync {
  public init() {}
  public func seconds(bytes: Int, devices: [Int], machine: Machine) -> Double {
    let k = devices.count
    guard k > 1 else { return 0 }
    let links = (0..<k).compactMap { machine.link(devices[$0], devices[($0 + 1) % k]) }
    guard let slowest = links.min(by: { $0.bandwidthGBs < $1.bandwidthGBs }) else { return 0 }
    let steps = 2 * (k - 1)
    return Double(steps) * slowest.latencySeconds + Double(steps) / Double(k) * Double(bytes) / (slowest.bandwidthGBs * 1e9)
  }
}
