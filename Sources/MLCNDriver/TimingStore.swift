// Measured op times kept between runs (one JSON file in the cache folder), so the planner
// can replace roofline estimates with what the devices really did.

import Foundation
import MLCNGraph
import MLCNPlanner

import MLCNRuntime

public enum TimingStore {
  public static func file(in cacheDirectory: URL) -> URL {
    cacheDirectory.deletingLastPathComponent().appending(path: "op-times.json")
  }

  public static func load(_ url: URL?) -> MeasuredTimes {
    guard let url, let data = try? Data(contentsOf: url),
          let t = try? JSONDecoder().decode(MeasuredTimes.self, from: data) else { return MeasuredTimes() }
    return t
  }

  public static func save(_ times: MeasuredTimes, to url: URL?) {
    guard let url else { return }
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys]
    try? enc.encode(times).write(to: url, options: .atomic)
  }

  /// Adds the per-op device times of an executor's last run.
  public static func record(_ timings: [StepTiming], graph: Graph, devices: [CLDevice], into times: inout MeasuredTimes) {
    var perOp: [String: [String: Double]] = [:]  // device -> node -> seconds
    for t in timings where t.kind == .kernel {
      perOp[t.device, default: [:]][t.node, default: 0] += t.seconds
    }
    for (deviceName, ops) in perOp {
      guard let device = devices.first(where: { $0.name == deviceName }) else { continue }
      for (node, seconds) in ops {
        guard let id = graph.id(named: node) else { continue }
        times.record(seconds, signature: MeasuredTimes.signature(id, in: graph), device: device.compilerIdentity)
      }
    }
  }
}
