// Options shared by several commands and the helpers that turn them into pipeline inputs.

import ArgumentParser
import Foundation
import MLCNBase
import MLCNCodegen
import MLCNDriver
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

struct DeviceOptions: ParsableArguments {
  @Option(name: .customLong("devices"),
          help: "OpenCL devices: ids like 0:0,0:1 (see `mlcnc devices`), or 'all'. Default: the first GPU, else the first device.")
  var devices: String?

  @Option(help: "Placement strategy: \(Strategy.allCases.map(\.rawValue).joined(separator: ", ")).")
  var strategy: Strategy?
}

extension Strategy: ExpressibleByArgument {}

/// The kernel binary cache folder, the measured op times and device facts beside it.
enum Caches {
  static let kernels = ProgramCache.defaultDirectory(environment: ProcessInfo.processInfo.environment)
  static var timesFile: URL? { kernels.map(TimingStore.file(in:)) }
  static var factsFile: URL? { kernels.map { $0.deletingLastPathComponent().appending(path: "device-facts.json") } }
  static var tuningFile: URL? { kernels.map(TuningStore.file(in:)) }
}

/// Codegen's choices: the tile sizes `mlcnc tune` found (kernels it did not tune keep
/// their defaults).
func codegenOptions() throws -> CodegenOptions {
  CodegenOptions(tuning: try TuningStore.load(Caches.tuningFile))
}

/// The real devices selected by `--devices` and the machine they form (measured
/// bandwidths and links), with measured op times.
func realTarget(_ spec: String?) throws -> (devices: [CLDevice], times: TimeModel) {
  let devices = try CLDevices.select(spec)
  return (devices, try Pipeline.target(devices, facts: Caches.factsFile, times: Caches.timesFile, codegen: try codegenOptions()))
}

struct WeightOptions: ParsableArguments {
  @Option(help: "Weights (.safetensors) with the contract's names. Without it, weights are initialised from --seed.")
  var weights: String?

  @Option(help: "Seed for the deterministic weight initialisation (Glorot uniform, zero bias).")
  var seed: UInt64 = 0
}

/// Runs a command body, turning any error into one message on stderr and exit code 1.
func reportingErrors(_ body: () throws -> Void) throws {
  // Everything `body` made is gone when it returns: the leak check counts what is left.
  defer { if ProcessInfo.processInfo.environment["MLCNC_CHECK_RELEASED"] == "1" { reportUnreleased() } }
  do { try body() } catch let e as ExitCode { throw e } catch let e as CleanExit { throw e } catch {
    printError(errorMessage(error))
    throw ExitCode(1)
  }
}

/// The leak check: OpenCL objects still alive when a command ends.
private func reportUnreleased() {
  let alive = CLCensus.alive
  printError(alive.isEmpty ? "OpenCL objects alive: none"
             : "OpenCL objects alive: " + alive.map { "\($0.count) \($0.kind.rawValue)" }.joined(separator: ", "))
}

/// An error as one message: our error types say `error:` themselves (after the file when
/// there is one); anything else gets the prefix here.
func errorMessage(_ error: Error) -> String {
  let text = (error as? ValidationError)?.message ?? String(describing: error)
  return text.hasPrefix("error: ") || text.contains(": error: ") ? text : "error: " + text
}

func printError(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }
func note(_ s: String) { printError("note: " + s) }

/// Prints a JSON object to stdout.
func printJSON(_ object: Any) {
  let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
  print(String(decoding: data, as: UTF8.self))
}

/// Weights for `graph`: from a file, or the seeded initialisation (announced on stderr).
func weightsFor(_ graph: Graph, _ options: WeightOptions) throws -> (weights: [String: HostTensor], origin: String) {
  if let path = options.weights {
    let (weights, unused) = try Weights.load(path, for: graph)
    if !unused.isEmpty {
      note("\(path): \(unused.count) tensor(s) not used by network '\(graph.name)' (e.g. '\(unused[0])')")
    }
    return (weights, path)
  }
  // Refuse before allocating: weights that cannot fit in this host's memory.
  let bytes = graph.weights().reduce(0) { $0 + $1.shape.reduce(1, *) * 4 }
  if bytes > Int(ProcessInfo.processInfo.physicalMemory) {
    throw RuntimeError("network '\(graph.name)' has \(bytes >> 20) MiB of weights, more than this host's \(ProcessInfo.processInfo.physicalMemory >> 20) MiB of memory")
  }
  if !graph.weights().isEmpty {
    note("no --weights given: initialising \(graph.weights().count) weights deterministically (Glorot uniform, zero bias, seed \(options.seed))")
  }
  return (Weights.initialize(graph, seed: options.seed), "seed \(options.seed)")
}

/// `name=path` pairs, or a bare path when the network has exactly one such tensor.
func namedPaths(_ specs: [String], names: [String], what: String) throws -> [(name: String, path: String)] {
  let pairs: [(name: String, path: String)] = try specs.map { spec in
    if let eq = spec.firstIndex(of: "="), !spec[..<eq].contains("/") {
      let name = String(spec[..<eq])
      guard names.contains(name) else {
        throw ValidationError("the network has no \(what) named '\(name)' (\(what)s: \(names.joined(separator: ", ")))")
      }
      return (name, String(spec[spec.index(after: eq)...]))
    }
    guard names.count == 1 else {
      throw ValidationError("the network has \(names.count) \(what)s (\(names.joined(separator: ", "))): write --\(what) NAME=FILE")
    }
    return (names[0], spec)
  }
  for (i, p) in pairs.enumerated() where pairs[..<i].contains(where: { $0.name == p.name }) {
    throw ValidationError("\(what) '\(p.name)' is given twice")
  }
  return pairs
}
