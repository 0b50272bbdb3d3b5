// mlcnc-bench: benchmarks that are not tests. `lanes` grades the lane balancers on
// generated heterogeneous MLCNs over machine files: makespan ratios random/greedy (the
// MLCN paper reports greedy almost 50% faster) and greedy/exact (how far from optimal).
// `ops` times each op's kernels of one network (tools/bench_kernels.py compares them).

import ArgumentParser
import Foundation
import MLCNBase
import MLCNCodegen
import MLCNDriver
import MLCNFrontend
import MLCNGraph
import MLCNPlanner

@main
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mlcnc-bench", abstract: "mlcnc's benchmarks (results go to docs/PERFORMANCE.md).",
    subcommands: [LanesBench.self, OpTimesBench.self])
}

struct LanesBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lanes",
    abstract: "Makespans of greedy, random and exact lane placement on generated heterogeneous MLCNs.")

  @Option(help: "How many networks to generate.") var count = 60
  @Option(help: "Seed of the network generator.") var seed: UInt64 = 1
  @Option(help: "Random placements per network and machine (their mean is the random makespan).") var draws = 10
  @Option(help: "The batch size planned for.") var batch = 32
  @Option(help: "Exact placement only for networks with at most this many lanes.") var exactMaxLanes = 12
  @Argument(help: "Machine files.") var machines: [String] = []

  func run() throws {
    let files = machines.isEmpty
      ? ["graphs/machines/two_gpus.json", "graphs/machines/four_gpus.json", "graphs/machines/cpu_two_gpus.json", "graphs/machines/four_cpus.json"]
      : machines
    var rng = SplitMix64(seed: seed)
    var nets: [(String, Graph)] = []
    for i in 0..<count {
      let text = Self.network(index: i, rng: &rng)
      let g = try Compiler.graph(SourceFile(path: "generated\(i).mlcn", text: text), options: CompileOptions(batch: batch))
      nets.append((text, g))
    }
    var summary = "| machine | nets | random/greedy mean | random/greedy worst (lowest) | nets with exact | greedy/exact mean | greedy/exact worst (highest) |\n|---|---|---|---|---|---|---|\n"
    var allRandom: [Double] = [], allExact: [Double] = []
    for file in files {
      let times = TimeModel(machine: try Machine.load(file), kernels: Codegen.reporter())
      var randomRatios: [Double] = [], exactRatios: [Double] = []
      for (k, (_, g)) in nets.enumerated() {
        let greedy = try Planner.plan(g, PlanRequest(strategy: .lanes, times: times)).predictedSeconds
        var random = 0.0
        for s in 0..<draws {
          random += try Planner.plan(g, PlanRequest(strategy: .lanesRandom, times: times, seed: UInt64(s) &+ seed &* 1000)).predictedSeconds
        }
        randomRatios.append(random / Double(draws) / greedy)
        if LaneDetection.analyze(g).lanes.count <= exactMaxLanes {
          let exact = try Planner.plan(g, PlanRequest(strategy: .lanesExact, times: times)).predictedSeconds
          exactRatios.append(greedy / exact)
        }
        if k % 20 == 19 { FileHandle.standardError.write("\(file): \(k + 1)/\(nets.count) nets\n".data(using: .utf8)!) }
      }
      allRandom += randomRatios
      allExact += exactRatios
      summary += row(URL(fileURLWithPath: file).lastPathComponent, nets.count, randomRatios, exactRatios)
    }
    summary += row("**all**", nets.count * files.count, allRandom, allExact)
    let lanes = nets.map { LaneDetection.analyze($0.1).lanes.count }
    print("\(nets.count) generated MLCNs (\(lanes.min()!)-\(lanes.max()!) lanes, widths 1x-8x), batch \(batch), \(draws) random draws each\n")
    print(summary, terminator: "")
  }

  func row(_ name: String, _ n: Int, _ random: [Double], _ exact: [Double]) -> String {
    func mean(_ v: [Double]) -> String { v.isEmpty ? "-" : String(format: "%.3f", v.reduce(0, +) / Double(v.count)) }
    func worst(_ v: [Double], _ pick: ([Double]) -> Double?) -> String { pick(v).map { String(format: "%.3f", $0) } ?? "-" }
    return "| \(name) | \(n) | \(mean(random)) | \(worst(random) { $0.min() }) | \(exact.count) | \(mean(exact)) | \(worst(exact) { $0.max() }) |\n"
  }

  /// A heterogeneous MLCN: 4-32 lanes, each a CapsNet lane whose width is 1x-8x a base
  /// and whose kernel sizes vary, joined by a concat of their class capsules.
  static func network(index: Int, rng: inout SplitMix64) -> String {
    let laneCounts = [4, 6, 8, 10, 12, 16, 24, 32]
    let lanes = laneCounts[Int(rng.next() % UInt64(laneCounts.count))]
    var text = "network gen\(index)\ninput x: [N, 1, 28, 28]\n"
    var names: [String] = []
    for l in 0..<lanes {
      let width = 1 + Int(rng.next() % 8)
      let k1 = [5, 7, 9][Int(rng.next() % 3)]
      let k2 = [3, 5, 6][Int(rng.next() % 3)]
      text += """
        lane l\(l) {
          h = conv2d(x, filters=\(4 * width), kernel=\(k1), act=relu)
          p = primary_caps(h, caps=\(2 * width), dim=8, kernel=\(k2), stride=2)
          c = capsule(p, caps=10, dim=2, routing=3)
          yield c
        }

        """
      names.append("l\(l)")
    }
    text += "v = concat(\(names.joined(separator: ", ")), axis=-1)\ny = length(v)\noutput y\n"
    return text
  }
}
