// Small owning wrappers over OpenCL objects: each releases its handle when it goes away,
// and every call goes through `check`, so an error names the call and the device.

import COpenCL
import Foundation

/// A context over devices of one platform.
public final class CLContext: @unchecked Sendable {
  public let handle: cl_context
  public let devices: [CLDevice]

  public init(devices: [CLDevice]) throws(CLError) {
    var status: cl_int = 0
    var ids: [cl_device_id?] = devices.map { $0.id }
    guard let ctx = clCreateContext(nil, cl_uint(ids.count), &ids, nil, nil, &status), status == CL_SUCCESS else {
      throw CLError(call: "clCreateContext", code: status, device: devices.map(\.name).joined(separator: ","))
    }
    self.handle = ctx
    self.devices = devices
    CLCensus.made(.context)
  }

  deinit { clReleaseContext(handle); CLCensus.released(.context) }
}

/// An in-order queue with profiling on, so every op can be timed.
public final class CLQueue: @unchecked Sendable {
  public let handle: cl_command_queue
  public let device: CLDevice
  public let context: CLContext

  public init(context: CLContext, device: CLDevice) throws(CLError) {
    var status: cl_int = 0
    guard let q = clCreateCommandQueue(context.handle, device.id, cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE), &status),
          status == CL_SUCCESS else {
      throw CLError(call: "clCreateCommandQueue", code: status, device: device.name)
    }
    self.handle = q
    self.device = device
    self.context = context
    CLCensus.made(.queue)
  }

  public func finish() throws(CLError) { try check(clFinish(handle), "clFinish", device: device.name) }

  /// Submits what is enqueued, so events another queue waits on can complete.
  public func flush() throws(CLError) { try check(clFlush(handle), "clFlush", device: device.name) }

  deinit { clReleaseCommandQueue(handle); CLCensus.released(.queue) }
}

public final class CLBuffer: @unchecked Sendable {
  public let handle: cl_mem
  public let bytes: Int

  public init(context: CLContext, bytes: Int, device: String, purpose: String) throws(CLError) {
    try Faults.check(.oom, device, device: device, context: "\(bytes) bytes for \(purpose)")
    var status: cl_int = 0
    guard let m = clCreateBuffer(context.handle, cl_mem_flags(CL_MEM_READ_WRITE), max(bytes, 4), nil, &status),
          status == CL_SUCCESS else {
      throw CLError(call: "clCreateBuffer", code: status, device: device, context: "\(bytes) bytes for \(purpose)")
    }
    self.handle = m
    self.bytes = bytes
    CLCensus.made(.buffer)
  }

  deinit { clReleaseMemObject(handle); CLCensus.released(.buffer) }
}

/// An event of an enqueued command; released when dropped.
public final class CLEvent: @unchecked Sendable {
  public let handle: cl_event
  init(_ handle: cl_event) { self.handle = handle; CLCensus.made(.event) }
  deinit { clReleaseEvent(handle); CLCensus.released(.event) }

  /// Blocks until the command has finished.
  public func wait() throws(CLError) {
    var h: cl_event? = handle
    try check(clWaitForEvents(1, &h), "clWaitForEvents", device: "", context: "waiting for a command")
  }

  /// Start and end of the command on the device clock, in nanoseconds.
  public func profile() -> (start: UInt64, end: UInt64)? {
    var start: cl_ulong = 0, end: cl_ulong = 0
    guard clGetEventProfilingInfo(handle, cl_profiling_info(CL_PROFILING_COMMAND_START), 8, &start, nil) == CL_SUCCESS,
          clGetEventProfilingInfo(handle, cl_profiling_info(CL_PROFILING_COMMAND_END), 8, &end, nil) == CL_SUCCESS
    else { return nil }
    return (start, end)
  }
}

public final class CLProgram: @unchecked Sendable {
  public let handle: cl_program
  init(_ handle: cl_program) { self.handle = handle; CLCensus.made(.program) }
  deinit { clReleaseProgram(handle); CLCensus.released(.program) }
}

public final class CLKernel: @unchecked Sendable {
  public let handle: cl_kernel
  public let name: String

  public init(program: CLProgram, name: String, device: String) throws(CLError) {
    var status: cl_int = 0
    guard let k = clCreateKernel(program.handle, name, &status), status == CL_SUCCESS else {
      throw CLError(call: "clCreateKernel", code: status, device: device, context: "kernel \(name)")
    }
    self.handle = k
    self.name = name
    CLCensus.made(.kernel)
  }

  public func setArg(_ index: Int, buffer: CLBuffer, device: String) throws(CLError) {
    var m: cl_mem? = buffer.handle
    try check(clSetKernelArg(handle, cl_uint(index), MemoryLayout<cl_mem?>.size, &m), "clSetKernelArg",
              device: device, context: "\(name) argument \(index)")
  }

  public func setArg(_ index: Int, int value: Int32, device: String) throws(CLError) {
    var v = value
    try check(clSetKernelArg(handle, cl_uint(index), 4, &v), "clSetKernelArg", device: device,
              context: "\(name) argument \(index)")
  }

  deinit { clReleaseKernel(handle); CLCensus.released(.kernel) }
}

extension CLQueue {
  /// Calls `body` with the event wait list as OpenCL wants it (nil when empty).
  private func withWaitList<R>(_ events: [CLEvent], _ body: (cl_uint, UnsafePointer<cl_event?>?) -> R) -> R {
    let list: [cl_event?] = events.map { $0.handle }
    return list.withUnsafeBufferPointer { body(cl_uint(list.count), list.isEmpty ? nil : $0.baseAddress) }
  }

  public func write(_ buffer: CLBuffer, _ data: [Float], wait: [CLEvent] = [], label: String) throws(CLError) -> CLEvent {
    var ev: cl_event?
    let status = data.withUnsafeBytes { raw in
      withWaitList(wait) { n, list in
        // Blocking: the host array may go away as soon as this returns.
        clEnqueueWriteBuffer(handle, buffer.handle, cl_bool(CL_TRUE), 0, raw.count, raw.baseAddress, n, list, &ev)
      }
    }
    try check(status, "clEnqueueWriteBuffer", device: device.name, context: label)
    return CLEvent(ev!)
  }

  public func read(_ buffer: CLBuffer, count: Int, wait: [CLEvent] = [], label: String) throws(CLError) -> [Float] {
    var out = [Float](repeating: 0, count: count)
    let status = out.withUnsafeMutableBytes { raw in
      withWaitList(wait) { n, list in
        clEnqueueReadBuffer(handle, buffer.handle, cl_bool(CL_TRUE), 0, raw.count, raw.baseAddress, n, list, nil)
      }
    }
    try check(status, "clEnqueueReadBuffer", device: device.name, context: label)
    return out
  }

  /// The offset from this device's profiling clock to the host's monotonic clock: a marker
  /// is enqueued and finished between two host readings, and its device time is taken to
  /// lie midway (best of 5). Traces add it so devices of different platforms line up.
  public func hostClockOffset() throws(CLError) -> Int64 {
    var best: (width: UInt64, offset: Int64)?
    for _ in 0..<5 {
      var ev: cl_event?
      let t0 = DispatchTime.now().uptimeNanoseconds
      try check(clEnqueueMarkerWithWaitList(handle, 0, nil, &ev), "clEnqueueMarkerWithWaitList", device: device.name)
      try finish()
      let t1 = DispatchTime.now().uptimeNanoseconds
      guard let ev, let p = CLEvent(ev).profile() else { continue }
      let offset = Int64(bitPattern: (t0 / 2 &+ t1 / 2) &- p.end)
      if best == nil || t1 - t0 < best!.width { best = (t1 - t0, offset) }
    }
    return best?.offset ?? 0
  }

  /// A blocking read that also returns its event (for traces).
  public func readWithEvent(_ buffer: CLBuffer, count: Int, label: String) throws(CLError) -> ([Float], CLEvent) {
    var out = [Float](repeating: 0, count: count)
    var ev: cl_event?
    let status = out.withUnsafeMutableBytes { raw in
      clEnqueueReadBuffer(handle, buffer.handle, cl_bool(CL_TRUE), 0, raw.count, raw.baseAddress, 0, nil, &ev)
    }
    try check(status, "clEnqueueReadBuffer", device: device.name, context: label)
    return (out, CLEvent(ev!))
  }

  public func copy(from src: CLBuffer, to dst: CLBuffer, bytes: Int, wait: [CLEvent], label: String) throws(CLError) -> CLEvent {
    var ev: cl_event?
    let status = withWaitList(wait) { n, list in
      clEnqueueCopyBuffer(handle, src.handle, dst.handle, 0, 0, bytes, n, list, &ev)
    }
    try check(status, "clEnqueueCopyBuffer", device: device.name, context: label)
    return CLEvent(ev!)
  }

  /// Copies all of `src` into `rows` rows of `dst`: row i (`rowBytes` long) goes to byte
  /// `offset + i * pitch`.
  public func copyRows(from src: CLBuffer, to dst: CLBuffer, rows: Int, rowBytes: Int, offset: Int, pitch: Int,
                       wait: [CLEvent], label: String) throws(CLError) -> CLEvent {
    var ev: cl_event?
    let srcOrigin = [0, 0, 0], dstOrigin = [offset, 0, 0], region = [rowBytes, rows, 1]
    let status = withWaitList(wait) { n, list in
      clEnqueueCopyBufferRect(handle, src.handle, dst.handle, srcOrigin, dstOrigin, region, rowBytes, 0, pitch, 0, n, list, &ev)
    }
    try check(status, "clEnqueueCopyBufferRect", device: device.name, context: label)
    return CLEvent(ev!)
  }

  /// Writes host rows into `dst` as `copyRows` does (blocking).
  public func writeRows(_ data: [Float], to dst: CLBuffer, rows: Int, rowBytes: Int, offset: Int, pitch: Int,
                        label: String) throws(CLError) -> CLEvent {
    var ev: cl_event?
    let bufferOrigin = [offset, 0, 0], hostOrigin = [0, 0, 0], region = [rowBytes, rows, 1]
    let status = data.withUnsafeBytes { raw in
      clEnqueueWriteBufferRect(handle, dst.handle, cl_bool(CL_TRUE), bufferOrigin, hostOrigin, region, pitch, 0,
                               rowBytes, 0, raw.baseAddress, 0, nil, &ev)
    }
    try check(status, "clEnqueueWriteBufferRect", device: device.name, context: label)
    return CLEvent(ev!)
  }

  public func run(_ kernel: CLKernel, global: [Int], local: [Int]?, wait: [CLEvent], label: String) throws(CLError) -> CLEvent {
    var ev: cl_event?
    let status = withWaitList(wait) { n, list in
      global.withUnsafeBufferPointer { g in
        (local ?? []).withUnsafeBufferPointer { l in
          clEnqueueNDRangeKernel(handle, kernel.handle, cl_uint(g.count), nil, g.baseAddress,
                                 local == nil ? nil : l.baseAddress, n, list, &ev)
        }
      }
    }
    try check(status, "clEnqueueNDRangeKernel", device: device.name, context: label)
    return CLEvent(ev!)
  }
}

/// How many OpenCL objects of each kind are alive: what the leak check
/// (`MLCNC_CHECK_RELEASED=1`) reports when a command ends, after an error as after success.
public enum CLCensus {
  public enum Kind: String, CaseIterable, Sendable { case context, queue, buffer, program, kernel, event }
  private static let lock = NSLock()
  nonisolated(unsafe) private static var counts: [Kind: Int] = [:]

  static func made(_ kind: Kind) { lock.withLock { counts[kind, default: 0] += 1 } }
  static func released(_ kind: Kind) { lock.withLock { counts[kind, default: 0] -= 1 } }

  /// The kinds with objects still alive, and how many.
  public static var alive: [(kind: Kind, count: Int)] {
    lock.withLock { Kind.allCases.compactMap { k in counts[k].flatMap { $0 != 0 ? (k, $0) : nil } } }
  }
}
