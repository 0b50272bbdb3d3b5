// The compile pipeline, one stage per step of DESIGN.md section 1, each producing an
// artifact that can be written out (`mlcnc compile --emit ir|plan|kernels`):
//
//   source --ir--> Graph --plan--> Plan --kernels--> Programs --executable--> GraphRunner
//
// The graph is lowered once per batch size; every later stage reads that one graph (a
// data-parallel plan lowers it once more per slice size, for the replicas).

import Foundation
import MLCNBase
import MLCNCodegen
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

public enum Pipeline {
  /// The machine of real devices as the planner sees it: OpenCL's properties, measured
  /// bandwidths and links (cached in `facts`), measured op times (from `times`), and
  /// codegen's report of each op's launches and memory.
  public static func target(_ devices: [CLDevice], facts: URL?, times: URL?,
                            codegen: CodegenOptions = CodegenOptions()) throws -> TimeModel {
    TimeModel(machine: try DeviceProbe.machine(devices, file: facts), measured: TimingStore.load(times),
              kernels: Codegen.reporter(codegen))
  }

  /// Stage 1: source to verified, optimised IR for one batch size.
  public static func ir(_ source: SourceFile, batch: Int) throws -> Graph {
    try Compiler.graph(source, options: CompileOptions(batch: batch))
  }

  /// Stage 3: the kernel programs of a planned graph, for the plan's devices (described
  /// by `machine`): one program for a plan of whole ops, one per slice for a batch split.
  public static func kernels(_ source: SourceFile, _ graph: Graph, plan: Plan, machine: Machine,
                             options: CodegenOptions = CodegenOptions()) throws -> Programs {
    func device(_ name: String) throws(PlanError) -> DeviceDescriptor {
      guard let d = machine.devices.first(where: { $0.name == name }) else {
        throw PlanError("the plan uses device '\(name)', which is not among the devices (\(machine.devices.map(\.name).joined(separator: ", ")))")
      }
      return d
    }
    if plan.isLayerwise(for: graph) {
      // Split ops: the graph expanded into parts and the slices and concats between them.
      let devices = try plan.devices.map(device)
      let split = try SplitGraph.build(graph, configurations: try plan.configurations(for: graph, devices: plan.devices))
      let program = KernelProgram.build(split.graph, placement: split.placement, devices: devices, options: options)
      return Programs(parts: [Programs.Part(range: nil, graph: split.graph, program: program, split: split)])
    }
    if let split = try plan.batchSplit(for: graph) {
      return Programs(parts: try split.map { part in
        let g = part.range.count == graph.batch ? graph : try ir(source, batch: part.range.count)
        let program = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count),
                                          devices: [try device(part.device)], options: options)
        return Programs.Part(range: part.range, graph: g, program: program)
      })
    }
    let devices = try plan.devices.map(device)
    let program = KernelProgram.build(graph, placement: try plan.placement(for: graph), devices: devices, options: options)
    return Programs(parts: [Programs.Part(range: nil, graph: graph, program: program)])
  }

  /// Stage 4: the programs instantiated on real devices, with the weights uploaded (once
  /// per device that holds a replica).
  public static func executable(_ programs: Programs, devices: [CLDevice], weights: [String: HostTensor],
                                weightsOrigin: String, cache: ProgramCache) throws -> any GraphRunner {
    let executors = try programs.parts.map { part in
      try Weights.validate(weights, for: part.split?.original ?? part.graph, file: weightsOrigin)
      let used = try part.program.devices.map { d in
        guard let dev = devices.first(where: { $0.name == d.name }) else {
          throw PlanError("the plan uses device '\(d.name)', which is not among the selected devices (\(devices.map(\.name).joined(separator: ", ")))")
        }
        return dev
      }
      let parameters = part.split.map { SplitRunner.parameters(weights, for: $0) } ?? Weights.bind(weights, to: part.graph)
      return try Executor(program: part.program, graph: part.graph, devices: used, parameters: parameters, programs: cache)
    }
    if let split = programs.parts[0].split { return SplitRunner(executor: executors[0], split: split) }
    guard programs.parts.count > 1 || programs.parts[0].range != nil else { return executors[0] }
    return BatchSplitExecutor(parts: zip(programs.parts, executors).map { ($0.range!, $1) })
  }
}

/// The kernel programs of a plan: one for whole ops, or one per slice of a batch split.
public struct Programs: Sendable {
  public struct Part: Sendable {
    /// The samples this part runs (nil: the whole batch, ops placed whole).
    public var range: Range<Int>?
    public var graph: Graph
    public var program: KernelProgram
    /// For a plan with split ops: how `graph` was expanded from the network's.
    public var split: SplitGraph? = nil
  }
  public var parts: [Part]

  public func listing() -> String {
    parts.map { part in
      (part.range.map { "// ===== samples \($0.lowerBound)..<\($0.upperBound) (a replica of the network)\n" } ?? "")
        + part.program.listing()
    }.joined()
  }
}

extension KernelProgram {
  /// The specialised OpenCL C of every program, per device: each program's `-D` options
  /// as `#define` lines in front of its source, then which steps run it.
  public func listing() -> String {
    var out = ""
    for (d, device) in devices.enumerated() {
      let mine = steps.filter { $0.device == d }
      guard !mine.isEmpty else { continue }
      out += "// ===== device \(device.name) (\(device.kind.rawValue)): \(mine.count) steps, \(ByteCount.format(bytesPerDevice[d])) of buffers\n"
      var seen: [ProgramSource] = []
      for step in mine {
        switch step.action {
        case .launch(let program, let kernel, _, let global, _):
          out += "// step: op '\(step.node)' kernel \(kernel) global \(global)\n"
          if !seen.contains(program) { seen.append(program) }
        case .gemm(let m, let n, let k, _, _, _): out += "// step: op '\(step.node)' gemm \(m)x\(n)x\(k) (CLBlast)\n"
        case .copy(_, _, let bytes): out += "// step: \(step.label) of '\(step.node)', \(ByteCount.format(bytes))\n"
        case .place(_, _, let r):
          out += "// step: \(step.label) of '\(step.node)', \(ByteCount.format(r.bytes)) as \(r.rows) rows of \(r.rowBytes) bytes at \(r.offset) + i * \(r.pitch)\n"
        }
      }
      for program in seen {
        out += "\n// ----- \(program.file) for device \(device.name)\n"
        for option in program.options where option.hasPrefix("-D") {
          let body = option.dropFirst(2)
          let parts = body.split(separator: "=", maxSplits: 1)
          out += "#define \(parts[0]) \(parts.count > 1 ? String(parts[1]) : "1")\n"
        }
        out += program.text + "\n"
      }
    }
    return out
  }
}
