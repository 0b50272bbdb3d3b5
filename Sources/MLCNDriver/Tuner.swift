// Autotuning: for every node whose kernel offers tile sizes (`Codegen.candidates`), runs
// the network with each candidate on each device and keeps the fastest in the tuning
// table, per device identity and op shape. Compile and run read the table (TuningStore).
//
// Algorithm:
//  1. Per device, list the tunable nodes; nodes with the same key (same op and shape)
//     are measured once.
//  2. Per candidate: build the network's kernel program with that tile for the node (the
//     table's choices for the others), instantiate it with seeded weights, run it once to
//     warm up and then `repeats` times; the node's time is the least of its kernel times.
//  3. Keep the fastest candidate in the table.

import Foundation
import MLCNBase
import MLCNCodegen
import MLCNFormats
import MLCNGraph
import MLCNRuntime

public enum Tuner {
  public struct Outcome: Sendable {
    public var device: String
    public var node: String
    public var key: String
    public var best: TileConfig
    public var bestSeconds: Double
    /// The default tile's time (nil when the default is not among the candidates).
    public var defaultSeconds: Double?
    public var candidates: Int
  }

  /// The number of measurements `tune` will make (for a progress bar).
  public static func measurements(_ graph: Graph, devices: [CLDevice], options: CodegenOptions) -> Int {
    devices.reduce(0) { $0 + tunable(graph, $1.descriptor(bandwidthGBs: 1), options).reduce(0) { $0 + $1.configs.count } }
  }

  public static func tune(_ graph: Graph, devices: [CLDevice], table: inout TuningTable, options: CodegenOptions = CodegenOptions(),
                          repeats: Int = 3, cache: ProgramCache,
                          progress: (_ done: Int, _ label: String) -> Void = { _, _ in }) throws -> [Outcome] {
    let weights = Weights.bind(Weights.initialize(graph, seed: 1), to: graph)
    var rng = SplitMix64(seed: 2)
    var inputs: [String: HostTensor] = [:]
    for id in graph.inputs {
      let shape = graph[id].type.shape
      inputs[graph[id].name] = HostTensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.nextUnit() })
    }
    var outcomes: [Outcome] = []
    var done = 0
    for device in devices {
      let descriptor = device.descriptor(bandwidthGBs: 1)
      let identity = device.compilerIdentity
      // 1. Tunable nodes, one per key.
      for (id, key, configs) in tunable(graph, descriptor, options) {
        let name = graph[id].name
        let fallback = Codegen.kernels(for: id, in: graph, device: descriptor, options: options)
        var best: (TileConfig, Double)?
        var defaultSeconds: Double?
        for config in configs {
          progress(done, "\(device.name) \(name) \(config)")
          // 2. The network with this tile for the node.
          var trial = table
          trial.set(config, identity: identity, key: key)
          var o = options
          o.tuning = trial
          let program = KernelProgram.build(graph, placement: Array(repeating: 0, count: graph.nodes.count),
                                            devices: [descriptor], options: o)
          let executor = try Executor(program: program, graph: graph, devices: [device], parameters: weights, programs: cache)
          var seconds = Double.infinity
          for run in 0...repeats {
            _ = try executor.run(inputs)
            if run == 0 { continue }
            let t = executor.timings().filter { $0.kind == .kernel && $0.node == name }.reduce(0) { $0 + $1.seconds }
            seconds = min(seconds, t)
          }
          if Codegen.kernels(for: id, in: graph, device: descriptor, options: o) == fallback { defaultSeconds = seconds }
          if seconds < best?.1 ?? .infinity { best = (config, seconds) }
          done += 1
        }
        // 3. The fastest is kept.
        guard let (config, seconds) = best else { continue }
        table.set(config, identity: identity, key: key)
        outcomes.append(Outcome(device: device.name, node: name, key: key, best: config, bestSeconds: seconds,
                                defaultSeconds: defaultSeconds, candidates: configs.count))
      }
    }
    progress(done, "done")
    return outcomes
  }

  /// The nodes with a tile choice on `device`, the first of each key.
  static func tunable(_ graph: Graph, _ device: DeviceDescriptor, _ options: CodegenOptions)
    -> [(id: ValueID, key: String, configs: [TileConfig])] {
    var seen = Set<String>()
    return graph.ids.compactMap { id in
      guard let (key, configs) = Codegen.candidates(for: id, in: graph, device: device, options: options),
            seen.insert(key).inserted else { return nil }
      return (id, key, configs)
    }
  }
}

/// The tuning table kept between runs: one JSON file beside the kernel cache.
public enum TuningStore {
  public static func file(in cacheDirectory: URL) -> URL {
    cacheDirectory.deletingLastPathComponent().appending(path: "tuning.json")
  }

  /// The table in `url`; an empty one when there is none. A file that is not a table is an
  /// error (it would silently undo a tuning run otherwise).
  public static func load(_ url: URL?) throws -> TuningTable {
    guard let url, let data = try? Data(contentsOf: url) else { return TuningTable() }
    do { return try JSONDecoder().decode(TuningTable.self, from: data) } catch {
      throw RuntimeError("\(url.path): not a tuning table (\(error)); delete it or run `mlcnc tune` again")
    }
  }

  public static func save(_ table: TuningTable, to url: URL) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .prettyPrinted]
    try enc.encode(table).write(to: url, options: .atomic)
  }
}
