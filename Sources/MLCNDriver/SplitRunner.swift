// Runs a plan with split ops: one executor over the expanded graph (`SplitGraph`), the
// host cutting each input into the regions the parts read and putting split outputs
// together from their parts. Parameters are sliced on the host once, at setup.

import Foundation
import MLCNFormats
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

public final class SplitRunner: GraphRunner {
  public let executor: Executor
  public let split: SplitGraph
  public var devices: [CLDevice] { executor.devices }

  public init(executor: Executor, split: SplitGraph) {
    self.executor = executor
    self.split = split
  }

  /// The expanded graph's parameters from the network's weights (by name), each cut to
  /// the region its parts read.
  public static func parameters(_ weights: [String: HostTensor], for split: SplitGraph) -> [ValueID: HostTensor] {
    var out: [ValueID: HostTensor] = [:]
    for (v, source) in split.parameterSources {
      guard let t = weights[split.original[source.source].name] else { continue }
      out[v] = t.region(source.region)
    }
    return out
  }

  public func run(_ inputs: [String: HostTensor]) throws -> [String: HostTensor] {
    try start(inputs)
    return try finish()
  }

  public func start(_ inputs: [String: HostTensor]) throws { try executor.start(try pieces(inputs)) }

  public func prefetch(_ inputs: [String: HostTensor]) throws { try executor.prefetch(try pieces(inputs)) }

  public func finish() throws -> [String: HostTensor] {
    let results = try executor.finish()
    var out: [String: HostTensor] = [:]
    for o in split.original.outputs {
      var t = HostTensor(zeros: split.original.type(of: o.value).shape)
      for piece in split.outputs where piece.output == o.name { t.place(results[piece.name]!, at: piece.region) }
      out[o.name] = t
    }
    return out
  }

  /// The expanded graph's inputs: each original input cut to the regions the parts read.
  private func pieces(_ inputs: [String: HostTensor]) throws -> [String: HostTensor] {
    var pieces: [String: HostTensor] = [:]
    for piece in split.inputs {
      guard let t = inputs[piece.source] else { throw RuntimeError("no value given for input '\(piece.source)'") }
      pieces[piece.name] = t.region(piece.region)
    }
    return pieces
  }

  public func timings() -> [StepTiming] { executor.timings() }
  public var memoryBytes: [String: Int] { executor.memoryBytes }
}

extension HostTensor {
  /// The elements of `region`.
  public func region(_ region: Region) -> HostTensor {
    guard case .range(let axis, let r) = region else { return self }
    let (outer, total, inner) = around(axis)
    var data: [Float] = []
    data.reserveCapacity(outer * r.count * inner)
    for o in 0..<outer { data += self.data[(o * total + r.lowerBound) * inner..<(o * total + r.upperBound) * inner] }
    var s = shape
    s[axis] = r.count
    return HostTensor(shape: s, data: data)
  }

  /// Writes `part` (the elements of `region`) into place.
  public mutating func place(_ part: HostTensor, at region: Region) {
    guard case .range(let axis, let r) = region else { self = part; return }
    let (outer, total, inner) = around(axis)
    let block = r.count * inner
    for o in 0..<outer {
      data.replaceSubrange((o * total + r.lowerBound) * inner..<(o * total + r.upperBound) * inner,
                           with: part.data[o * block..<(o + 1) * block])
    }
  }

  private func around(_ axis: Int) -> (Int, Int, Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
  }
}
