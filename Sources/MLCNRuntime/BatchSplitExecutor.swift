// Runs a data-parallel plan: one executor per device, each holding the whole network for
// its slice of the batch and its own copy of the parameters (uploaded once at setup). A
// run writes each slice, runs the devices at the same time (a host thread each), and
// gathers the outputs along the batch axis.

import Foundation
import MLCNFormats

/// What the CLI runs: a whole-op executor or a batch split over several.
public protocol GraphRunner: AnyObject {
  var devices: [CLDevice] { get }
  func run(_ inputs: [String: HostTensor]) throws -> [String: HostTensor]
  func timings() -> [StepTiming]
  /// Device memory allocated, by device name.
  var memoryBytes: [String: Int] { get }
}

extension Executor: GraphRunner {}

public final class BatchSplitExecutor: GraphRunner {
  public let parts: [(range: Range<Int>, executor: Executor)]
  public var devices: [CLDevice] { parts.flatMap(\.executor.devices) }

  public init(parts: [(range: Range<Int>, executor: Executor)]) { self.parts = parts }

  public func run(_ inputs: [String: HostTensor]) throws -> [String: HostTensor] {
    let workers = parts.map { part in
      Worker { [part] in
        var slice: [String: HostTensor] = [:]
        for (name, t) in inputs { slice[name] = t.samples(part.range) }
        part.executor.lastOutputs = try part.executor.run(slice)
      }
    }
    for w in workers { w.start() }
    for w in workers { w.join() }
    if let error = workers.compactMap(\.error).first { throw error }
    var out: [String: HostTensor] = [:]
    for name in parts[0].executor.lastOutputs.keys {
      out[name] = HostTensor(concatenatingSamples: parts.map { $0.executor.lastOutputs[name]! })
    }
    return out
  }

  public func timings() -> [StepTiming] { parts.flatMap { $0.executor.timings() } }

  public var memoryBytes: [String: Int] {
    parts.reduce(into: [:]) { sum, p in sum.merge(p.executor.memoryBytes, uniquingKeysWith: +) }
  }
}

extension HostTensor {
  /// Samples `range` of the batch axis.
  public func samples(_ range: Range<Int>) -> HostTensor {
    let per = shape.dropFirst().reduce(1, *)
    return HostTensor(shape: [range.count] + shape.dropFirst(), data: Array(data[range.lowerBound * per..<range.upperBound * per]))
  }

  /// Tensors of equal sample shape stacked along the batch axis.
  public init(concatenatingSamples parts: [HostTensor]) {
    self.init(shape: [parts.reduce(0) { $0 + $1.shape[0] }] + parts[0].shape.dropFirst(), data: parts.flatMap(\.data))
  }
}
