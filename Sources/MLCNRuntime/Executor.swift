// Runs a compiled graph on one or more OpenCL devices. Setup allocates every buffer,
// uploads and packs the weights, builds the programs and binds the kernel arguments once;
// each run then only writes inputs, enqueues the steps and reads outputs.
//
// Algorithm (setup):
//  1. One context per platform over the chosen devices, one in-order queue per device.
//  2. Each value gets a home device: where its node runs (views: their operand's home).
//  3. Codegen gives each node its launches; each value read on a device other than its
//     home gets a copy there, filled by a transfer step just before its first reader
//     (graph inputs are instead written by the host to every device that reads them).
//  4. Steps are kept in graph order; a step waits on the events of the buffers it reads
//     that another queue wrote, so independent lanes run concurrently on their devices.

import COpenCL
import Foundation
import MLCNCodegen
import MLCNFormats
import MLCNGraph
import MLCNPlanner

public struct RuntimeError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { "error: \(message)" }
}

/// The measured time of one step of the last run.
public struct StepTiming: Sendable {
  public var node: String
  public var kernel: String
  public var device: String
  public var startNanoseconds: UInt64
  public var endNanoseconds: UInt64
  public var seconds: Double { Double(endNanoseconds &- startNanoseconds) * 1e-9 }
}

public final class Executor {
  public let graph: Graph
  public let devices: [CLDevice]
  public let placement: [Int]
  private var queues: [CLQueue] = []
  private var home: [Int] = []
  /// Buffer of value v on device d (views have none: they use their root's).
  private var valueBuffers: [BufferKey: CLBuffer] = [:]
  private var weightBuffers: [String: CLBuffer] = [:]
  /// Scratch buffers, kept alive here because kernels hold only their handles.
  private var scratchBuffers: [CLBuffer] = []
  private var steps: [Step] = []
  private var lastEvents: [(Step, CLEvent)] = []

  private struct BufferKey: Hashable { var value: ValueID; var device: Int }

  private enum Action {
    case kernel(CLKernel, global: [Int], local: [Int]?)
    case gemm(Gemm, a: CLBuffer, b: CLBuffer, c: CLBuffer)
    case copy(from: CLBuffer, to: CLBuffer, bytes: Int, sameContext: Bool, fromDevice: Int)
  }

  private struct Step {
    var action: Action
    var device: Int
    var node: String
    var label: String
    var reads: [BufferKey]
    var writes: BufferKey?
  }

  /// Prepares `graph` to run with node i on `devices[placement[i]]`.
  public init(graph: Graph, placement: [Int], devices: [CLDevice], weights: [String: HostTensor],
              programs: ProgramCache, options: CodegenOptions = CodegenOptions()) throws {
    self.graph = graph
    self.devices = devices
    self.placement = placement

    // 1. Contexts and queues.
    var contexts: [cl_platform_id: CLContext] = [:]
    for d in devices where contexts[d.platform] == nil {
      contexts[d.platform] = try CLContext(devices: devices.filter { $0.platform == d.platform })
    }
    queues = try devices.map { d throws(CLError) in try CLQueue(context: contexts[d.platform]!, device: d) }

    // 2. Homes.
    home = placement
    for id in graph.ids where graph[id].op.isView { home[id.index] = home[graph[id].inputs[0].index] }

    // 3. Kernels per node, then the memory check, then buffers.
    let kernels = graph.ids.map {
      Codegen.kernels(for: $0, in: graph, device: devices[placement[$0.index]].descriptor, options: options)
    }
    try checkMemory(kernels)
    for id in graph.ids where !graph[id].op.isView {
      let d = home[id.index]
      valueBuffers[BufferKey(value: id, device: d)] = try CLBuffer(
        context: queues[d].context, bytes: graph[id].type.bytes, device: devices[d].name, purpose: "value \(graph[id].name)")
    }

    for id in graph.ids {
      let node = graph[id], d = placement[id.index], nk = kernels[id.index]
      if nk.aliasesOperand || node.op == .input { continue }
      // Operands from elsewhere: copy them here first.
      for operand in node.inputs { try ensureCopy(of: operand, on: d) }
      try uploadWeights(of: id, layouts: nk.weightLayouts, weights: weights, device: d)
      let scratch = try nk.scratch.enumerated().map { (i, n) throws(CLError) in
        try CLBuffer(context: queues[d].context, bytes: n * 4, device: devices[d].name, purpose: "scratch \(i) of \(node.name)")
      }
      scratchBuffers += scratch
      func buffer(_ ref: BufferRef) -> CLBuffer {
        switch ref {
        case .value(let v): valueBuffers[BufferKey(value: root(v), device: d)]!
        case .weight(let w): weightBuffers["\(d)|\(w)"]!
        case .scratch(let s): scratch[s]
        }
      }
      func reads(_ refs: [BufferRef]) -> [BufferKey] {
        refs.compactMap { if case .value(let v) = $0, v != id { BufferKey(value: root(v), device: d) } else { nil } }
      }
      for step in nk.steps {
        switch step {
        case .gemm(let gemm):
          steps.append(Step(action: .gemm(gemm, a: buffer(gemm.a), b: buffer(gemm.b), c: buffer(gemm.c)), device: d,
                            node: node.name, label: "CLBlastSgemm", reads: reads([gemm.a, gemm.b]),
                            writes: BufferKey(value: root(id), device: d)))
        case .launch(let launch):
          let program = try programs.program(launch.program, context: queues[d].context, device: devices[d],
                                             purpose: "op '\(node.name)'")
          let kernel = try CLKernel(program: program, name: launch.kernel, device: devices[d].name)
          var refs: [BufferRef] = []
          for (i, arg) in launch.args.enumerated() {
            switch arg {
            case .int(let v): try kernel.setArg(i, int: v, device: devices[d].name)
            case .buffer(let ref):
              try kernel.setArg(i, buffer: buffer(ref), device: devices[d].name)
              refs.append(ref)
            }
          }
          let writes = refs.contains(.value(id)) ? BufferKey(value: root(id), device: d) : nil
          steps.append(Step(action: .kernel(kernel, global: launch.global, local: launch.local), device: d,
                            node: node.name, label: launch.kernel, reads: reads(refs), writes: writes))
        }
      }
    }
    // Outputs are read from their home buffers; nothing more to set up.
  }

  private func root(_ v: ValueID) -> ValueID { graph.root(v) }

  /// Makes sure value `v` has a buffer on device `d`, adding a transfer step if needed.
  private func ensureCopy(of value: ValueID, on d: Int) throws {
    let v = root(value)
    let key = BufferKey(value: v, device: d)
    if valueBuffers[key] != nil { return }
    let from = home[v.index]
    let src = valueBuffers[BufferKey(value: v, device: from)]!
    let bytes = graph[v].type.bytes
    let dst = try CLBuffer(context: queues[d].context, bytes: bytes, device: devices[d].name, purpose: "copy of \(graph[v].name)")
    valueBuffers[key] = dst
    // Inputs come from the host: it writes every copy at the start of a run.
    if graph[v].op == .input { return }
    steps.append(Step(action: .copy(from: src, to: dst, bytes: bytes, sameContext: queues[from].context === queues[d].context,
                                    fromDevice: from),
                      device: d, node: graph[v].name, label: "transfer \(devices[from].name)->\(devices[d].name)",
                      reads: [BufferKey(value: v, device: from)], writes: key))
  }

  private func uploadWeights(of id: ValueID, layouts: [String: WeightLayout], weights: [String: HostTensor], device d: Int) throws {
    for (name, shape) in graph[id].weights(inputTypes: graph.inputTypes(of: id)) {
      guard let t = weights[name] else { throw RuntimeError("missing weight '\(name)'") }
      guard t.shape == shape else { throw RuntimeError("weight '\(name)' has shape \(t.shape), expected \(shape)") }
      let packed = (layouts[name] ?? .plain).pack(t.data, shape: shape)
      let buf = try CLBuffer(context: queues[d].context, bytes: packed.count * 4, device: devices[d].name, purpose: "weight \(name)")
      _ = try queues[d].write(buf, packed, label: "weight \(name)")
      weightBuffers["\(d)|\(name)"] = buf
    }
  }

  /// Fails early, naming the device, when the buffers of a plan cannot fit on it.
  private func checkMemory(_ kernels: [NodeKernels]) throws {
    var need = Array(repeating: 0, count: devices.count)
    var largest = Array(repeating: 0, count: devices.count)
    func add(_ bytes: Int, _ d: Int) { need[d] += bytes; largest[d] = max(largest[d], bytes) }
    for id in graph.ids {
      let d = placement[id.index]
      if !graph[id].op.isView { add(graph[id].type.bytes, d) }
      for w in graph[id].weights(inputTypes: graph.inputTypes(of: id)) { add(w.shape.reduce(1, *) * 4, d) }
      for s in kernels[id.index].scratch { add(s * 4, d) }
    }
    for (d, dev) in devices.enumerated() where need[d] > 0 {
      if need[d] > dev.globalMemoryBytes {
        throw RuntimeError("device \(dev.name) (\(dev.deviceName)) is out of memory: this plan needs \(need[d] >> 20) MiB there, it has \(dev.globalMemoryBytes >> 20) MiB; use a smaller --batch or more devices")
      }
      if largest[d] > dev.maxAllocationBytes {
        throw RuntimeError("device \(dev.name) (\(dev.deviceName)) cannot hold a \(largest[d] >> 20) MiB buffer (its largest allocation is \(dev.maxAllocationBytes >> 20) MiB); use a smaller --batch")
      }
    }
  }

  /// Runs the graph once on `inputs` (by input name) and returns the outputs by name.
  public func run(_ inputs: [String: HostTensor]) throws -> [String: HostTensor] {
    var written: [BufferKey: CLEvent] = [:]
    for id in graph.inputs {
      let node = graph[id]
      guard let t = inputs[node.name] else { throw RuntimeError("no value given for input '\(node.name)'") }
      guard t.shape == node.type.shape else {
        throw RuntimeError("input '\(node.name)' has shape \(t.shape), the network expects \(node.type.shape)")
      }
      for d in devices.indices {
        let key = BufferKey(value: id, device: d)
        guard let buffer = valueBuffers[key] else { continue }
        written[key] = try queues[d].write(buffer, t.data, label: "input \(node.name)")
      }
    }
    var events: [(Step, CLEvent)] = []
    for step in steps {
      let q = queues[step.device]
      // Wait only for buffers another queue wrote (flushing that queue, as OpenCL requires
      // for a cross-queue wait); the in-order queue orders the rest.
      let foreign = step.reads.filter { $0.device != step.device && written[$0] != nil }
      for d in Set(foreign.map(\.device)) { try queues[d].flush() }
      let waits = foreign.map { written[$0]! }
      let event: CLEvent
      switch step.action {
      case .kernel(let k, let global, let local):
        event = try q.run(k, global: global, local: local, wait: waits, label: "op '\(step.node)' kernel \(step.label)")
      case .gemm(let g, let a, let b, let c):
        event = try CLBlast.gemm(g, a: a, b: b, c: c, queue: q, wait: waits, label: "op '\(step.node)'")
      case .copy(let src, let dst, let bytes, let sameContext, let from):
        if sameContext {
          event = try q.copy(from: src, to: dst, bytes: bytes, wait: waits, label: step.label)
        } else {
          // Different platforms share no events: stage through the host.
          let host = try queues[from].read(src, count: bytes / 4, label: step.label)
          event = try q.write(dst, host, label: step.label)
        }
      }
      if let w = step.writes { written[w] = event }
      events.append((step, event))
    }
    for q in queues { try q.flush() }
    for q in queues { try q.finish() }
    lastEvents = events
    var out: [String: HostTensor] = [:]
    for o in graph.outputs {
      let t = graph.type(of: o.value)
      let key = BufferKey(value: root(o.value), device: home[o.value.index])
      out[o.name] = HostTensor(shape: t.shape, data: try queues[key.device].read(valueBuffers[key]!, count: t.count, label: "output \(o.name)"))
    }
    return out
  }

  /// Device times of every step of the last run.
  public func timings() -> [StepTiming] {
    lastEvents.compactMap { step, ev in
      ev.profile().map { StepTiming(node: step.node, kernel: step.label, device: devices[step.device].name,
                                    startNanoseconds: $0.start, endNanoseconds: $0.end) }
    }
  }

}
