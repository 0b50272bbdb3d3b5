// Chrome trace export of a measured run: one row per device, one slice per step, so the
// overlap of lanes on different devices can be seen in chrome://tracing or Perfetto.

import Foundation
import MLCNFormats

public enum Trace {
  public static func json(_ timings: [StepTiming]) -> Data {
    let origin = timings.map(\.startNanoseconds).min() ?? 0
    let devices = Array(Set(timings.map(\.device))).sorted()
    var events: [[String: Any]] = devices.enumerated().map { i, d in
      ["name": "thread_name", "ph": "M", "pid": 0, "tid": i, "args": ["name": "device \(d)"]]
    }
    for t in timings {
      events.append(["name": "\(t.node) \(t.kernel)", "cat": "op", "ph": "X", "pid": 0,
                     "tid": devices.firstIndex(of: t.device)!,
                     "ts": Double(t.startNanoseconds &- origin) / 1000, "dur": Double(t.endNanoseconds &- t.startNanoseconds) / 1000])
    }
    return try! JSONSerialization.data(withJSONObject: ["traceEvents": events, "displayTimeUnit": "ms"], options: [.sortedKeys])
  }

  public static func write(_ timings: [StepTiming], to path: String) throws {
    do { try json(timings).write(to: URL(fileURLWithPath: path)) } catch {
      throw FormatError(path, "cannot write trace (\(error.localizedDescription))")
    }
  }
}
