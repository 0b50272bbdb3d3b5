// `mlcnc tune`: measures the tile sizes each tunable kernel of a network offers on the
// selected devices and keeps the fastest in $MLCNC_CACHE_DIR/../tuning.json, which
// `compile` and `run` read.

import ArgumentParser
import Foundation
import MLCNCodegen
import MLCNDriver
import MLCNFrontend
import MLCNRuntime

struct Tune: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Search tile sizes, vector widths and work-group sizes of the network's kernels for each device.",
    discussion: "Each kernel with a choice is measured with every candidate (the whole network runs, the op's kernel time counts) and the fastest is kept per device identity and op shape in the tuning cache beside the kernel cache ($MLCNC_CACHE_DIR). `compile` and `run` use it from then on.")

  @Argument(help: "The network (.mlcn).") var network: String
  @Option(name: .customLong("devices"), help: "OpenCL devices to tune for: ids like 0:0,0:1, or 'all'. Default: the first GPU, else the first device.")
  var devices: String?
  @Option(help: "The batch size to tune for.") var batch = 1
  @Option(help: "Timed runs per candidate, after one warm-up run.") var repeats = 3
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws {
    guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
  }

  func run() throws {
    try reportingErrors {
      guard let file = Caches.tuningFile else {
        throw RuntimeError("no writable cache folder for the tuning results: set MLCNC_CACHE_DIR")
      }
      let graph = try Pipeline.ir(try SourceFile.load(path: network), batch: batch)
      let selected = try CLDevices.select(devices)
      var table = try TuningStore.load(file)
      let options = try codegenOptions()
      let total = Tuner.measurements(graph, devices: selected, options: options)
      let bar = ProgressBar(total: total, terminal: isatty(STDERR_FILENO) != 0)
      let outcomes = try Tuner.tune(graph, devices: selected, table: &table, options: options, repeats: repeats,
                                    cache: ProgramCache(directory: Caches.kernels), progress: bar.update)
      bar.finish()
      try TuningStore.save(table, to: file)
      if json {
        printJSON(["network": graph.name, "batch": batch, "cache": file.path,
                   "kernels": outcomes.map { o -> [String: Any] in
                     var r: [String: Any] = ["device": o.device, "node": o.node, "key": o.key, "vector": o.best.vector,
                                             "tile": o.best.tile, "seconds": o.bestSeconds, "candidates": o.candidates]
                     if let l = o.best.local { r["local"] = l }
                     if let d = o.defaultSeconds { r["default_seconds"] = d }
                     return r
                   }])
        return
      }
      for o in outcomes {
        let speedup = o.defaultSeconds.map { String(format: ", %.2fx the default", $0 / o.bestSeconds) } ?? ""
        print("\(o.device) \(o.node): \(o.best) of \(o.candidates) in \(String(format: "%.3f", o.bestSeconds * 1e3)) ms\(speedup)")
      }
      print("tuned \(outcomes.count) kernel(s) of \(graph.name) at batch \(batch) -> \(file.path)")
    }
  }
}

/// Progress on stderr: a bar redrawn in place on a terminal, plain lines otherwise.
final class ProgressBar {
  let total: Int
  let terminal: Bool
  init(total: Int, terminal: Bool) { self.total = max(total, 1); self.terminal = terminal }

  func update(_ done: Int, _ label: String) {
    if terminal {
      let width = 30, filled = width * done / total
      let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
      FileHandle.standardError.write("\r\u{1B}[K[\(bar)] \(done)/\(total) \(label)".data(using: .utf8)!)
    } else if label != "done" {
      printError("tune: \(done + 1)/\(total) \(label)")
    }
  }

  func finish() { if terminal { FileHandle.standardError.write("\n".data(using: .utf8)!) } }
}
