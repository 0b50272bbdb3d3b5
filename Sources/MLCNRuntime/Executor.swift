// Runs a kernel program on OpenCL devices. Setup instantiates the program: one context
// per platform and one in-order queue per device, every buffer it lists, the parameters
// packed and uploaded once, the programs built and the kernel arguments bound. Each run
// then only writes inputs, enqueues the steps and reads outputs. What to allocate and run
// was decided by `KernelProgram.build`, without a device.
//
// Algorithm (run):
//  1. One host thread per device writes that device's inputs and enqueues its steps in
//     program order. A step that reads a buffer another device's step wrote waits (on the
//     host) until that step is enqueued, then on its OpenCL event: no host synchronisation
//     between independent ops, and drivers that execute in the flushing thread (PoCL
//     `basic`) run the devices at the same time.
//  2. Each thread waits once for its queue; then the outputs are read.
//  3. A failure on one device stops the others at their next cross-device wait; every
//     queue is finished before the error is reported.
//
// Streaming (`prefetch`): while a run computes, the next run's inputs are written on a
// second queue per device, each as soon as the run in flight has finished its last read
// of that input buffer; the next run's first reader waits on that upload instead of
// writing the input itself.

import COpenCL
import Foundation
import MLCNBase
import MLCNCodegen
import MLCNFormats
import MLCNGraph

public struct RuntimeError: Error, Sendable, CustomStringConvertible {
  public var message: String
  /// The device at fault, when one is.
  public var device: String?
  public init(_ message: String, device: String? = nil) { self.message = message; self.device = device }
  public var description: String { "error: \(message)" }
}

/// The measured time of one step of the last run.
public struct StepTiming: Sendable {
  /// Kernels and library calls; copies between devices; host writes and reads.
  public enum Kind: String, Sendable { case kernel, copy, upload, download }
  public var node: String
  public var kernel: String
  public var device: String
  public var startNanoseconds: UInt64
  public var endNanoseconds: UInt64
  public var kind: Kind = .kernel
  /// Bytes moved (copies, uploads, downloads).
  public var bytes: Int = 0
  /// Which run of a stream of batches it belongs to (0 for a single run).
  public var batch: Int = 0
  public var seconds: Double { Double(endNanoseconds &- startNanoseconds) * 1e-9 }
}

public final class Executor {
  public let program: KernelProgram
  public let devices: [CLDevice]
  private var queues: [CLQueue] = []
  private var buffers: [CLBuffer] = []
  private var kernels: [CLKernel?] = []
  private var lastEvents: [(KernelProgram.Step, CLEvent)] = []
  /// Host writes and reads of the last run: (what, device, bytes, kind, event).
  private var lastTransfers: [(String, Int, Int, StepTiming.Kind, CLEvent)] = []
  private let transferLock = NSLock()
  private let inputShapes: [String: [Int]]
  /// The contract shape of each parameter the program uploads (for `write(parameters:)`).
  private var parameterShapes: [ValueID: [Int]] = [:]
  private let outputShapes: [String: [Int]]
  /// Per device: nanoseconds to add to its profiling times to get host time.
  private var clockOffsets: [Int64] = []
  /// One host thread per device, for the executor's life (made once setup has succeeded).
  private var threads: [DeviceThread] = []
  /// The run in flight: its event board and each device's error.
  private var pending: (board: EventBoard, errors: [Error?])?
  /// For each step, the steps on other devices whose results it reads.
  private let dependencies: [[Int]]
  /// Per input buffer: its first and last reading steps.
  private let inputReaders: [Int: (first: Int, last: Int)]
  /// Per device: the queue that uploads the next run's inputs while a run computes.
  private var uploadQueues: [CLQueue] = []
  private let uploader = DeviceThread()
  /// Inputs of the next run already uploaded (input buffer -> its upload), or the upload's error.
  private var staged: Result<[Int: CLEvent], Error>?
  /// Steps some other device's step waits on.
  private let crossReaders: Set<Int>

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
    var lastWriter: [Int: Int] = [:]
    var deps: [[Int]] = []
    for (i, step) in program.steps.enumerated() {
      deps.append(Set(step.reads.compactMap { lastWriter[$0] }.filter { program.steps[$0].device != step.device }).sorted())
      for w in step.writes { lastWriter[w] = i }
    }
    dependencies = deps
    crossReaders = Set(deps.joined())
    var readers: [Int: (first: Int, last: Int)] = [:]
    for (i, step) in program.steps.enumerated() {
      for b in step.reads where program.inputs.contains(where: { $0.buffer == b }) {
        readers[b] = (readers[b]?.first ?? i, i)
      }
    }
    inputReaders = readers

    // Memory first: fail naming the device before allocating anything.
    for (d, need) in program.bytesPerDevice.enumerated() where need > 0 {
      let dev = devices[d]
      if need > dev.globalMemoryBytes {
        throw RuntimeError("device \(dev.name) (\(dev.deviceName)) is out of memory: this plan needs \(need >> 20) MiB there, it has \(dev.globalMemoryBytes >> 20) MiB; use a smaller --batch or more devices", device: dev.name)
      }
      if let largest = program.storages.filter({ $0.device == d }).map(\.bytes).max(), largest > dev.maxAllocationBytes {
        throw RuntimeError("device \(dev.name) (\(dev.deviceName)) cannot hold a \(largest >> 20) MiB buffer (its largest allocation is \(dev.maxAllocationBytes >> 20) MiB); use a smaller --batch", device: dev.name)
      }
    }
    var contexts: [cl_platform_id: CLContext] = [:]
    for d in devices where contexts[d.platform] == nil {
      contexts[d.platform] = try CLContext(devices: devices.filter { $0.platform == d.platform })
    }
    queues = try devices.map { d throws(CLError) in try CLQueue(context: contexts[d.platform]!, device: d) }
    uploadQueues = try devices.map { d throws(CLError) in try CLQueue(context: contexts[d.platform]!, device: d) }
    // One OpenCL buffer per storage; the program's buffers that share a storage (never
    // alive at the same time) use the same one.
    let storages = try program.storages.enumerated().map { i, st throws(CLError) in
      let users = program.buffers.filter { $0.storage == i }.map(\.purpose)
      return try CLBuffer(context: queues[st.device].context, bytes: st.bytes, device: devices[st.device].name,
                          purpose: users.count == 1 ? users[0] : "\(users[0]) and \(users.count - 1) more")
    }
    buffers = program.buffers.map { storages[$0.storage] }
    for (value, b) in program.parameters {
      let name = graph[value].name, shape = graph.type(of: value).shape
      guard let t = parameters[value] else { throw RuntimeError("missing weight '\(name)'") }
      guard t.shape == shape else { throw RuntimeError("weight '\(name)' has shape \(t.shape), expected \(shape)") }
      guard case .parameter(let layout) = program.buffers[b].role else { continue }
      parameterShapes[value] = shape
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
    // One clock per platform: its devices share it; other platforms are shifted onto the host's.
    var offsets: [cl_platform_id: Int64] = [:]
    for (d, dev) in devices.enumerated() where offsets[dev.platform] == nil {
      offsets[dev.platform] = try queues[d].hostClockOffset()
    }
    clockOffsets = devices.map { offsets[$0.platform]! }
    threads = devices.map { _ in DeviceThread() }
  }

  /// Overwrites parameters between runs (training writes back the updated weights and
  /// optimizer state), packed as at setup; values not given keep their contents.
  public func write(parameters: [ValueID: HostTensor]) throws {
    for (value, b) in program.parameters {
      guard let t = parameters[value], let shape = parameterShapes[value],
            case .parameter(let layout) = program.buffers[b].role else { continue }
      guard t.shape == shape else { throw RuntimeError("parameter has shape \(t.shape), expected \(shape)") }
      _ = try queues[program.buffers[b].device].write(buffers[b], layout.pack(t.data, shape: shape), label: "parameter")
    }
    for q in queues { try q.finish() }
  }

  /// Runs the graph once on `inputs` (by input name) and returns the outputs by name.
  public func run(_ inputs: [String: HostTensor]) throws -> [String: HostTensor] {
    try start(inputs)
    return try finish()
  }

  /// Starts a run on `inputs`: each device's thread writes its inputs and enqueues its
  /// steps. `finish` waits for it and reads the outputs.
  public func start(_ inputs: [String: HostTensor]) throws {
    try checkInputs(inputs)
    let board = EventBoard(steps: program.steps.count)
    lastTransfers = []
    // Inputs uploaded while the previous run computed: their first readers wait on them.
    uploader.wait()
    let uploads = try staged?.get() ?? [:]
    staged = nil
    var uploaded = Uploads(buffers: Set(uploads.keys))
    for (b, ev) in uploads {
      if let r = inputReaders[b] { uploaded.waits[r.first, default: []].append(ev) }
      let name = program.inputs.first { $0.buffer == b }!.name
      lastTransfers.append(("input \(name)", program.buffers[b].device, program.buffers[b].bytes, .upload, ev))
    }
    pending = (board, Array(repeating: nil, count: devices.count))
    // One host thread per device, kept for the executor's life: PoCL's `basic` driver runs
    // commands in the thread that flushes or waits on the queue, so only a thread per
    // queue lets devices overlap.
    for d in devices.indices {
      threads[d].submit { [self] in
        do { try drive(device: d, inputs: inputs, board: board, uploaded: uploaded) } catch { pending?.errors[d] = error }
      }
    }
  }

  /// Uploads `inputs` for the next run while the run in flight computes (or at once when
  /// none is): each input buffer is written on its device's upload queue after the run in
  /// flight's last read of it. The next `start` must get the same inputs.
  public func prefetch(_ inputs: [String: HostTensor]) throws {
    try checkInputs(inputs)
    uploader.wait()
    let board = pending?.board
    uploader.submit { [self] in
      do {
        var events: [Int: CLEvent] = [:]
        for (name, b) in program.inputs {
          let d = program.buffers[b].device
          // Wait until the run in flight has enqueued its last reader of this buffer.
          let after = board.flatMap { board in inputReaders[b].map { board.wait(for: [$0.last]) } } ?? []
          guard let after else { throw RuntimeError("the run in flight failed before input '\(name)' could be uploaded") }
          let ev = try uploadQueues[d].write(buffers[b], inputs[name]!.data, wait: after, label: "input \(name)")
          events[b] = ev
        }
        staged = .success(events)
      } catch {
        staged = .failure(error)
      }
    }
  }

  private func checkInputs(_ inputs: [String: HostTensor]) throws {
    for (name, shape) in inputShapes {
      guard let t = inputs[name] else { throw RuntimeError("no value given for input '\(name)'") }
      guard t.shape == shape else {
        throw RuntimeError("input '\(name)' has shape \(t.shape), the network expects \(shape)")
      }
    }
  }

  /// Waits for the run `start` began and returns its outputs by name.
  public func finish() throws -> [String: HostTensor] {
    for t in threads { t.wait() }
    guard let (board, errors) = pending else { throw RuntimeError("no run was started") }
    pending = nil
    if let error = errors.compactMap({ $0 }).first { throw error }
    lastEvents = program.steps.indices.map { (program.steps[$0], board.events[$0]!) }
    var out: [String: HostTensor] = [:]
    for (name, b) in program.outputs {
      let shape = outputShapes[name] ?? []
      let d = program.buffers[b].device
      let (data, ev) = try queues[d].readWithEvent(buffers[b], count: shape.reduce(1, *), label: "output \(name)")
      lastTransfers.append(("output \(name)", d, data.count * 4, .download, ev))
      out[name] = HostTensor(shape: shape, data: data)
    }
    return out
  }

  /// Device `d`'s share of a run, on its own thread: write its inputs, enqueue its steps in
  /// order (a step that reads another device's result waits on that step's event, once it
  /// is enqueued), then wait once for its queue.
  private func drive(device d: Int, inputs: [String: HostTensor], board: EventBoard, uploaded: Uploads) throws {
    let q = queues[d]
    do {
      for (name, b) in program.inputs where program.buffers[b].device == d && !uploaded.buffers.contains(b) {
        let ev = try q.write(buffers[b], inputs[name]!.data, label: "input \(name)")
        transferLock.withLock { lastTransfers.append(("input \(name)", d, program.buffers[b].bytes, .upload, ev)) }
      }
      for (i, step) in program.steps.enumerated() where step.device == d {
        guard var waits = board.wait(for: dependencies[i]) else {  // another device failed
          try? q.finish()
          return
        }
        waits += uploaded.waits[i] ?? []
        let label = "op '\(step.node)' \(step.label)"
        try Faults.check(.run, step.node, device: devices[d].name, context: label)
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
            for w in waits { try w.wait() }
            let host = try queues[from].read(buffers[src], count: bytes / 4, label: step.label)
            event = try q.write(buffers[dst], host, label: step.label)
          }
        case .place(let src, let dst, let r):
          let from = program.buffers[src].device
          if queues[from].context === q.context {
            event = try q.copyRows(from: buffers[src], to: buffers[dst], rows: r.rows, rowBytes: r.rowBytes, offset: r.offset,
                                   pitch: r.pitch, wait: waits, label: step.label)
          } else {
            for w in waits { try w.wait() }
            let host = try queues[from].read(buffers[src], count: r.bytes / 4, label: step.label)
            event = try q.writeRows(host, to: buffers[dst], rows: r.rows, rowBytes: r.rowBytes, offset: r.offset,
                                    pitch: r.pitch, label: step.label)
          }
        }
        // Others may wait on this event from their queues: flush so it makes progress.
        if crossReaders.contains(i) { try q.flush() }
        board.post(event, for: i)
      }
      try q.finish()
    } catch {
      board.fail()
      try? q.finish()
      throw error
    }
  }

  public var memoryBytes: [String: Int] {
    Dictionary(uniqueKeysWithValues: zip(devices.map(\.name), program.bytesPerDevice))
  }

  deinit {
    for t in threads { t.stop() }
    uploader.stop()
  }

  /// A device profiling time on the host's clock.
  private func hostTime(_ t: UInt64, _ d: Int) -> UInt64 { UInt64(bitPattern: Int64(bitPattern: t) &+ clockOffsets[d]) }

  /// Device times of every step of the last run.
  public func timings() -> [StepTiming] {
    let steps = lastEvents.compactMap { step, ev -> StepTiming? in
      var bytes = 0, kind = StepTiming.Kind.kernel
      if case .copy(_, _, let b) = step.action { bytes = b; kind = .copy }
      if case .place(_, _, let r) = step.action { bytes = r.bytes; kind = .copy }
      return ev.profile().map { StepTiming(node: step.node, kernel: step.label, device: devices[step.device].name,
                                           startNanoseconds: hostTime($0.start, step.device),
                                           endNanoseconds: hostTime($0.end, step.device), kind: kind, bytes: bytes) }
    }
    let host = lastTransfers.compactMap { what, d, bytes, kind, ev in
      ev.profile().map { StepTiming(node: what, kernel: kind.rawValue, device: devices[d].name,
                                    startNanoseconds: hostTime($0.start, d), endNanoseconds: hostTime($0.end, d),
                                    kind: kind, bytes: bytes) }
    }
    return steps + host
  }
}

/// Inputs of a run that were uploaded ahead of it, and the steps that wait on those uploads.
struct Uploads {
  var buffers: Set<Int>
  var waits: [Int: [CLEvent]] = [:]
}

/// The events of a run's steps as their threads enqueue them; a thread waiting for another
/// device's step blocks until it is posted (or until some device failed).
final class EventBoard: @unchecked Sendable {
  private let condition = NSCondition()
  private(set) var events: [CLEvent?]
  private var failed = false

  init(steps: Int) { events = Array(repeating: nil, count: steps) }

  func post(_ event: CLEvent, for step: Int) {
    condition.lock()
    events[step] = event
    condition.broadcast()
    condition.unlock()
  }

  func fail() {
    condition.lock()
    failed = true
    condition.broadcast()
    condition.unlock()
  }

  /// The events of `steps`, or nil when a device failed first.
  func wait(for steps: [Int]) -> [CLEvent]? {
    if steps.isEmpty { return [] }
    condition.lock()
    defer { condition.unlock() }
    while !failed && steps.contains(where: { events[$0] == nil }) { condition.wait() }
    return failed ? nil : steps.map { events[$0]! }
  }
}

/// A host thread that runs the jobs it is given, one at a time, until stopped.
final class DeviceThread: @unchecked Sendable {
  private let condition = NSCondition()
  private var job: (() -> Void)?
  private var busy = false
  private var stopping = false

  init() {
    let thread = Thread { [self] in loop() }
    thread.stackSize = 1 << 22
    thread.start()
  }

  func submit(_ job: @escaping () -> Void) {
    condition.lock()
    self.job = job
    busy = true
    condition.broadcast()
    condition.unlock()
  }

  /// Blocks until the submitted job has run.
  func wait() {
    condition.lock()
    while busy { condition.wait() }
    condition.unlock()
  }

  func stop() {
    condition.lock()
    stopping = true
    condition.broadcast()
    condition.unlock()
  }

  private func loop() {
    while true {
      condition.lock()
      while job == nil && !stopping { condition.wait() }
      guard var j = job else { condition.unlock(); return }
      job = nil
      condition.unlock()
      j()
      // Drop the job (and what it holds, such as its executor) before saying it is done.
      j = {}
      condition.lock()
      busy = false
      condition.broadcast()
      condition.unlock()
    }
  }
}
