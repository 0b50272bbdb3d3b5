// Chrome trace export of a measured run (chrome://tracing, Perfetto), on the host clock
// (each platform's device clock is shifted onto it): per device one track
// of kernels, named by the IR value they compute, one track of copies arriving from other
// devices, and one of host uploads and downloads, each transfer with its bytes, so the
// overlap of lanes and the cost of moving data can be read off. A stream of batches has
// every batch in it, each span tagged with its batch.

import Foundation
import MLCNFormats

public enum Trace {
  public static func json(_ timings: [StepTiming]) -> Data {
    let origin = timings.map(\.startNanoseconds).min() ?? 0
    let devices = Array(Set(timings.map(\.device))).sorted()
    func track(_ t: StepTiming) -> (tid: Int, name: String) {
      let d = devices.firstIndex(of: t.device)!
      switch t.kind {
      case .kernel: return (3 * d, "device \(t.device)")
      case .copy: return (3 * d + 1, "device \(t.device) copies in")
      case .upload, .download: return (3 * d + 2, "device \(t.device) host transfers")
      }
    }
    let batches = Set(timings.map(\.batch)).count > 1
    var named: [Int: String] = [:]
    for t in timings { let k = track(t); named[k.tid] = k.name }
    var events: [[String: Any]] = named.keys.sorted().map { tid in
      ["name": "thread_name", "ph": "M", "pid": 0, "tid": tid, "args": ["name": named[tid]!]]
    }
    for t in timings {
      var e: [String: Any] = ["name": t.kind == .kernel ? "\(t.node) \(t.kernel)" : "\(t.kind.rawValue) \(t.node)",
                              "cat": t.kind == .kernel ? "op" : "transfer", "ph": "X", "pid": 0, "tid": track(t).tid,
                              "ts": Double(t.startNanoseconds &- origin) / 1000,
                              "dur": Double(t.endNanoseconds &- t.startNanoseconds) / 1000]
      var args: [String: Any] = t.kind == .kernel ? [:] : ["bytes": t.bytes, "label": t.kernel]
      if batches { args["batch"] = t.batch }
      if !args.isEmpty { e["args"] = args }
      events.append(e)
    }
    return try! JSONSerialization.data(withJSONObject: ["traceEvents": events, "displayTimeUnit": "ms"], options: [.sortedKeys])
  }

  public static func write(_ timings: [StepTiming], to path: String) throws {
    do { try json(timings).write(to: URL(fileURLWithPath: path)) } catch {
      throw FormatError(path, "cannot write trace (\(error.localizedDescription))")
    }
  }
}
