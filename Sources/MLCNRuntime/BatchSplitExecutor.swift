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
  /// Starts a run; `finish` waits for it and returns the outputs.
  func start(_ inputs: [String: HostTensor]) throws
  func finish() throws -> [String: HostTensor]
  /// Uploads the next run's inputs while the run in flight computes.
  func prefetch(_ inputs: [String: HostTensor]) throws
  func timings() -> [StepTiming]
  /// Device memory allocated, by device name.
  var memoryBytes: [String: Int] { get }
}

extension Executor: GraphRunner {}

public final class BatchSplitExecutor: GraphRunner {
  public let parts: [(range: Range<Int>, executor: Executor)]
  public var devices: [CLDevice] { parts.flatMap(\.executor.devices) }

  /// The replicas started by `start` and not yet finished.
  private var started: [Executor] = []
  private var startFailure: Error?

  public init(parts: [(range: Range<Int>, executor: Executor)]) { self.parts = parts }

  public func run(_ inputs: [String: HostTensor]) throws -> [String: HostTensor] {
    try start(inputs)
    return try finish()
  }

  private func slice(_ inputs: [String: HostTensor], _ range: Range<Int>) -> [String: HostTensor] {
    inputs.mapValues { $0.samples(range) }
  }

  /// Starts every replica's slice: the devices' own threads run them.
  public func start(_ inputs: [String: HostTensor]) throws {
    started = []
    startFailure = nil
    for part in parts {
      do { try part.executor.start(slice(inputs, part.range)); started.append(part.executor) } catch {
        startFailure = error
        break
      }
    }
    if let startFailure, started.isEmpty { throw startFailure }
  }

  public func prefetch(_ inputs: [String: HostTensor]) throws {
    for part in parts { try part.executor.prefetch(slice(inputs, part.range)) }
  }

  /// Waits for every started replica (also after a failure), then gathers the outputs.
  public func finish() throws -> [String: HostTensor] {
    var failure = startFailure
    var outputs: [[String: HostTensor]] = []
    for e in started {
      do { outputs.append(try e.finish()) } catch { failure = failure ?? error }
    }
    started = []
    startFailure = nil
    if let failure { throw failure }
    var out: [String: HostTensor] = [:]
    for name in outputs[0].keys { out[name] = HostTensor(concatenatingSamples: outputs.map { $0[name]! }) }
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
