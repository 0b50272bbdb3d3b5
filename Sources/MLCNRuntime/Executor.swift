// Runs a kernel program on OpenCL devices. Setup instantiates the program: one context
// per platform and one in-order queue per device, every buffer it lists, the parameters
// packed and uploaded once, the programs built and the kernel arguments bound. Each run
// then only writes inputs, enqueues the steps and reads outputs. What to allocate and run
// was decided by `KernelProgram.build`, without a device.
//
// Algorithm (run):
//  1. Write each input buffer.
//  2. Enqueue the steps in order; a step waits on the events of the buffers it reads that
//     another queue wrote, so independent lanes run concurrently on their devices.
//  3. Flush every queue, wait for all, read the outputs.

import COpenCL
import Foundation
import MLCNBase
import MLCNCodegen
import MLCNFormats
import MLCNGraph

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
  public let program: KernelProgram
  public let devices: [CLDevice]
  private var queues: [CLQueue] = []
  private var buffers: [CLBuffer] = []
  private var kernels: [CLKernel?] = []
  private var lastEvents: [(KernelProgram.Step, CLEvent)] = []
  private let inputShapes: [String: [Int]]
  private let outputShapes: [String: [Int]]

  /// Instantiates `program` (built for `graph`) on `devices` (the program's device
  /// indices), uploading `parameters` (by parameter value).
  public init(program: KernelProgram, graph: Graph, devices: [CLDevice], parameters: [ValueID: HostTensor],
              programs: ProgramCache) throws {
    self.program = program
    self.devices = devices
    var inShapes: [String: [Int]] = [:]
    for id in graph.inputs { inShapes[graph[id].name] = graph[id].type.shape }
    inputShapes = inShapes
    var outShapes: [String: [Int]] = [:]
    for o in graph.outputs { outShapes[o.name] = graph.type(of: o.value).shape }
    outputShapes = outShapes

    // Memory first: fail naming the device before allocating anything.
    for (d, need) in program.bytesPerDevice.enumerated() where need > 0 {
      let dev = devices[d]
      if need > dev.globalMemoryBytes {
        throw RuntimeError("device \(dev.name) (\(dev.deviceName)) is out of memory: this plan needs \(need >> 20) MiB there, it has \(dev.globalMemoryBytes >> 20) MiB; use a smaller --batch or more devices")
      }
      if let largest = program.buffers.filter({ $0.device == d }).map(\.bytes).max(), largest > dev.maxAllocationBytes {
        throw RuntimeError("device \(dev.name) (\(dev.deviceName)) cannot hold a \(largest >> 20) MiB buffer (its largest allocation is \(dev.maxAllocationBytes >> 20) MiB); use a smaller --batch")
      }
    }
    var contexts: [cl_platform_id: CLContext] = [:]
    for d in devices where contexts[d.platform] == nil {
      contexts[d.platform] = try CLContext(devices: devices.filter { $0.platform == d.platform })
    }
    queues = try devices.map { d throws(CLError) in try CLQueue(context: contexts[d.platform]!, device: d) }
    buffers = try program.buffers.map { b throws(CLError) in
      try CLBuffer(context: queues[b.device].context, bytes: b.bytes, device: devices[b.device].name, purpose: b.purpose)
    }
    for (value, b) in program.parameters {
      let name = graph[value].name, shape = graph.type(of: value).shape
      guard let t = parameters[value] else { throw RuntimeError("missing weight '\(name)'") }
      guard t.shape == shape else { throw RuntimeError("weight '\(name)' has shape \(t.shape), expected \(shape)") }
      guard case .parameter(let layout) = program.buffers[b].role else { continue }
      _ = try queues[program.buffers[b].device].write(buffers[b], layout.pack(t.data, shape: shape), label: "weight \(name)")
    }
    for step in program.steps {
      guard case .launch(let source, let name, let args, _, _) = step.action else { kernels.append(nil); continue }
      let d = devices[step.device]
      let built = try programs.program(source, context: queues[step.device].context, device: d, purpose: "op '\(step.node)'")
      let kernel = try CLKernel(program: built, name: name, device: d.name)
      for (i, arg) in args.enumerated() {
        switch arg {
        case .int(let v): try kernel.setArg(i, int: v, device: d.name)
        case .buffer(let b): try kernel.setArg(i, buffer: buffers[b], device: d.name)
        }
      }
      kernels.append(kernel)
    }
    for q in queues { try q.finish() }
  }

  /// Runs the graph once on `inputs` (by input name) and returns the outputs by name.
  public func run(_ inputs: [String: HostTensor]) throws -> [String: HostTensor] {
    var written: [Int: (device: Int, event: CLEvent)] = [:]
    for (name, b) in program.inputs {
      guard let t = inputs[name] else { throw RuntimeError("no value given for input '\(name)'") }
      guard t.shape == inputShapes[name] else {
        throw RuntimeError("input '\(name)' has shape \(t.shape), the network expects \(inputShapes[name] ?? [])")
      }
      let d = program.buffers[b].device
      written[b] = (d, try queues[d].write(buffers[b], t.data, label: "input \(name)"))
    }
    var events: [(KernelProgram.Step, CLEvent)] = []
    for (i, step) in program.steps.enumerated() {
      let q = queues[step.device]
      // Wait only for buffers another queue wrote (flushing that queue, as OpenCL requires
      // for a cross-queue wait); the in-order queue orders the rest.
      let foreign = step.reads.compactMap { written[$0] }.filter { $0.device != step.device }
      for d in Set(foreign.map(\.device)) { try queues[d].flush() }
      let waits = foreign.map(\.event)
      let label = "op '\(step.node)' \(step.label)"
      let event: CLEvent
      switch step.action {
      case .launch(_, _, _, let global, let local):
        event = try q.run(kernels[i]!, global: global, local: local, wait: waits, label: label)
      case .gemm(let m, let n, let k, let a, let b, let c):
        event = try CLBlast.gemm(m: m, n: n, k: k, a: buffers[a], b: buffers[b], c: buffers[c], queue: q, wait: waits, label: label)
      case .copy(let src, let dst, let bytes):
        let from = program.buffers[src].device
        if queues[from].context === q.context {
          event = try q.copy(from: buffers[src], to: buffers[dst], bytes: bytes, wait: waits, label: step.label)
        } else {
          // Different platforms share no events: stage through the host.
          let host = try queues[from].read(buffers[src], count: bytes / 4, label: step.label)
          event = try q.write(buffers[dst], host, label: step.label)
        }
      }
      for w in step.writes { written[w] = (step.device, event) }
      events.append((step, event))
    }
    for q in queues { try q.flush() }
    for q in queues { try q.finish() }
    lastEvents = events
    var out: [String: HostTensor] = [:]
    for (name, b) in program.outputs {
      let shape = outputShapes[name] ?? []
      let d = program.buffers[b].device
      out[name] = HostTensor(shape: shape, data: try queues[d].read(buffers[b], count: shape.reduce(1, *), label: "output \(name)"))
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
