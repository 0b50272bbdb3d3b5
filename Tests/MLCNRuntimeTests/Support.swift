// Shared helpers of the runtime tests: the package root, a writable PoCL cache, temp
// folders, and the NumPy reference run as a subprocess.

import Foundation
import MLCNCodegen
import MLCNDriver
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNRuntime

enum TestSupport {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// PoCL needs a writable cache folder before the first OpenCL call; two PoCL devices
  /// (unless the caller chose otherwise) let split plans run in-process.
  static let environmentReady: Bool = {
    if ProcessInfo.processInfo.environment["POCL_DEVICES"] == nil { setenv("POCL_DEVICES", "pthread pthread", 1) }
    if ProcessInfo.processInfo.environment["POCL_CACHE_DIR"] == nil {
      let dir = root.appending(path: ".build/pocl-cache").path
      try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      setenv("POCL_CACHE_DIR", dir, 1)
    }
    return true
  }()

  /// The kernel program of `g` (all on device 0 unless placed) instantiated on `devices`.
  static func executor(_ g: Graph, placement: [Int]? = nil, devices: [CLDevice], weights: [String: HostTensor],
                       programs: ProgramCache = ProgramCache(directory: nil),
                       options: CodegenOptions = CodegenOptions()) throws -> Executor {
    let program = KernelProgram.build(g, placement: placement ?? Array(repeating: 0, count: g.nodes.count),
                                      devices: devices.map { $0.descriptor(bandwidthGBs: 10) }, options: options)
    return try Executor(program: program, graph: g, devices: devices, parameters: Weights.bind(weights, to: g),
                        programs: programs)
  }

  static func devices() throws -> [CLDevice] {
    _ = environmentReady
    return try CLDevices.all()
  }

  static func tempDir() -> URL {
    let d = FileManager.default.temporaryDirectory.appending(path: "mlcnc-tests-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d
  }

  /// Runs tools/mlcn_ref.py with `args`; throws with its stderr when it fails.
  static func reference(_ args: [String]) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", root.appending(path: "tools/mlcn_ref.py").path] + args
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw RuntimeError("mlcn_ref.py \(args.joined(separator: " ")) failed: \(message)") }
  }

  /// The numerics tests' check of `got` against `expected`: max |got - expected| <=
  /// rtol * (1 + max |expected|). Unlike a plain `.max()` (which skips a NaN unless it
  /// comes first) it fails on any NaN, on an infinity where the expected value is finite,
  /// on an infinity of the wrong sign, and on a shape or element-count mismatch.
  static func compare(_ got: HostTensor, _ expected: HostTensor, rtol: Float = 1e-4) -> Comparison {
    var c = Comparison()
    guard got.shape == expected.shape, got.data.count == expected.data.count else {
      c.mismatch = "shape \(got.shape) (\(got.data.count) elements), expected \(expected.shape) (\(expected.data.count) elements)"
      return c
    }
    var largest: Float = 0
    for (i, (g, e)) in zip(got.data, expected.data).enumerated() {
      if e.isFinite {
        largest = max(largest, abs(e))
        if g.isFinite {
          c.error = max(c.error, abs(g - e))
          continue
        }
      } else if !e.isNaN && g == e {
        continue  // the same infinity
      }
      if c.firstBad == nil { c.firstBad = (i, g, e) }
      c.nonFinite += 1
    }
    c.tolerance = rtol * (1 + largest)
    return c
  }

  struct Comparison: CustomStringConvertible {
    var error: Float = 0
    var tolerance: Float = 0
    /// Elements where either side is NaN, or an infinity is not matched exactly.
    var nonFinite = 0
    var firstBad: (index: Int, got: Float, expected: Float)?
    var mismatch: String?
    var ok: Bool { mismatch == nil && nonFinite == 0 && error <= tolerance }
    var description: String {
      if let mismatch { return mismatch }
      var s = "max error \(error), tolerance \(tolerance)"
      if let b = firstBad { s += "; \(nonFinite) non-finite mismatch(es), first at [\(b.index)]: got \(b.got), expected \(b.expected)" }
      return s
    }
  }

  /// Generates weights, inputs and expected outputs for `text` with the reference, and
  /// returns the graph plus those files' contents.
  static func referenceCase(_ text: String, batch: Int, seed: Int = 1) throws
    -> (graph: Graph, weights: [String: HostTensor], inputs: [String: HostTensor], expected: [String: HostTensor]) {
    let dir = tempDir()
    let net = dir.appending(path: "net.mlcn")
    try text.write(to: net, atomically: true, encoding: .utf8)
    try reference(["gen", net.path, "--batch", "\(batch)", "--seed", "\(seed)", "--dir", dir.path])
    let graph = try Compiler.graph(path: net.path, options: CompileOptions(batch: batch))
    let weights = try Weights.load(dir.appending(path: "weights.safetensors").path, for: graph).weights
    var inputs: [String: HostTensor] = [:]
    for id in graph.inputs { inputs[graph[id].name] = try NPY.read(dir.appending(path: "\(graph[id].name).npy").path) }
    var expected: [String: HostTensor] = [:]
    for o in graph.outputs { expected[o.name] = try NPY.read(dir.appending(path: "expected.\(o.name).npy").path) }
    return (graph, weights, inputs, expected)
  }
}
