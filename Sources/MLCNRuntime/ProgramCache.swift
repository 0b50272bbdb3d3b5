// Builds OpenCL programs once: in memory for the life of the process and on disk as
// program binaries keyed by the device's compiler identity, the source and the options,
// so a second `mlcnc run` loads binaries instead of compiling again.

import COpenCL
import Foundation
import MLCNCodegen

public final class ProgramCache: @unchecked Sendable {
  /// Where binaries are kept; nil keeps them in memory only.
  public let directory: URL?
  private var programs: [String: CLProgram] = [:]
  private let lock = NSLock()

  public private(set) var compiledFromSource = 0
  public private(set) var loadedFromDisk = 0
  /// Called before compiling a program from source (slow: 0.3-30 s), e.g. to show progress.
  public var onCompile: (@Sendable (_ file: String, _ device: String) -> Void)?

  public init(directory: URL?) {
    self.directory = directory
    if let directory { try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
  }

  /// The default folder: $MLCNC_CACHE_DIR, else $XDG_CACHE_HOME/mlcnc, else ~/.cache/mlcnc,
  /// else a folder under the temporary directory, whichever is writable first.
  public static func defaultDirectory(environment env: [String: String]) -> URL? {
    var candidates: [String] = []
    if let d = env["MLCNC_CACHE_DIR"], !d.isEmpty { candidates.append(d) }
    if let d = env["XDG_CACHE_HOME"], !d.isEmpty { candidates.append(d + "/mlcnc") }
    if let h = env["HOME"], !h.isEmpty { candidates.append(h + "/.cache/mlcnc") }
    candidates.append(NSTemporaryDirectory() + "mlcnc-cache")
    let fm = FileManager.default
    for c in candidates {
      let url = URL(fileURLWithPath: c).appending(path: "kernels")
      if (try? fm.createDirectory(at: url, withIntermediateDirectories: true)) != nil, fm.isWritableFile(atPath: url.path) {
        return url
      }
    }
    return nil
  }

  /// The built program of `source` for `device`, from memory, disk, or the compiler.
  public func program(_ source: ProgramSource, context: CLContext, device: CLDevice, purpose: String) throws(CLError) -> CLProgram {
    try Faults.check(.build, device.name, device: device.name, context: purpose + " (" + source.file + ")")
    let text = source.text, options = source.optionString
    let key = ProgramCache.hash(device.compilerIdentity + "\u{0}" + options + "\u{0}" + text)
    // A program keeps its context alive, so the context's handle cannot be reused while
    // the program is cached here.
    let memoryKey = "\(UInt(bitPattern: context.handle))|\(device.name)|\(key)"
    lock.lock()
    defer { lock.unlock() }
    if let p = programs[memoryKey] { return p }
    let file = directory?.appending(path: key + ".bin")
    var program: CLProgram?
    if let file, let binary = try? Data(contentsOf: file) {
      program = try? loadBinary(binary, context: context, device: device, options: options)
      if program != nil { loadedFromDisk += 1 }
    }
    if program == nil {
      onCompile?(source.file, device.name)
      let built = try compile(text, options: options, context: context, device: device, purpose: purpose + " (" + source.file + ")")
      compiledFromSource += 1
      if let file, let binary = binaryOf(built) { try? binary.write(to: file, options: .atomic) }
      program = built
    }
    programs[memoryKey] = program!
    return program!
  }

  private func compile(_ text: String, options: String, context: CLContext, device: CLDevice, purpose: String) throws(CLError) -> CLProgram {
    var status: cl_int = 0
    let handle: cl_program? = text.withCString { ptr in
      var p: UnsafePointer<CChar>? = ptr
      return clCreateProgramWithSource(context.handle, 1, &p, nil, &status)
    }
    guard let handle, status == CL_SUCCESS else {
      throw CLError(call: "clCreateProgramWithSource", code: status, device: device.name, context: purpose)
    }
    let program = CLProgram(handle)
    try build(program, options: options, device: device, purpose: purpose)
    return program
  }

  private func build(_ program: CLProgram, options: String, device: CLDevice, purpose: String) throws(CLError) {
    var dev: cl_device_id? = device.id
    let status = clBuildProgram(program.handle, 1, &dev, options, nil, nil)
    guard status == CL_SUCCESS else {
      throw CLError(call: "clBuildProgram", code: status, device: device.name, context: purpose,
                    buildLog: buildLog(program, device))
    }
  }

  private func buildLog(_ program: CLProgram, _ device: CLDevice) -> String {
    var size = 0
    guard clGetProgramBuildInfo(program.handle, device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), 0, nil, &size) == CL_SUCCESS,
          size > 0 else { return "" }
    var buf = [CChar](repeating: 0, count: size + 1)
    _ = clGetProgramBuildInfo(program.handle, device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, &buf, nil)
    return String(cString: buf)
  }

  private func loadBinary(_ binary: Data, context: CLContext, device: CLDevice, options: String) throws(CLError) -> CLProgram {
    var status: cl_int = 0
    var binaryStatus: cl_int = 0
    var dev: cl_device_id? = device.id
    var length = binary.count
    let handle: cl_program? = binary.withUnsafeBytes { raw in
      var ptr: UnsafePointer<UInt8>? = raw.bindMemory(to: UInt8.self).baseAddress
      return clCreateProgramWithBinary(context.handle, 1, &dev, &length, &ptr, &binaryStatus, &status)
    }
    guard let handle, status == CL_SUCCESS, binaryStatus == CL_SUCCESS else {
      throw CLError(call: "clCreateProgramWithBinary", code: status == CL_SUCCESS ? binaryStatus : status, device: device.name)
    }
    let program = CLProgram(handle)
    try build(program, options: options, device: device, purpose: "cached binary")
    return program
  }

  private func binaryOf(_ program: CLProgram) -> Data? {
    var size = 0
    guard clGetProgramInfo(program.handle, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil) == CL_SUCCESS,
          size > 0 else { return nil }
    var bytes = [UInt8](repeating: 0, count: size)
    let ok = bytes.withUnsafeMutableBufferPointer { buf -> Bool in
      var ptr: UnsafeMutablePointer<UInt8>? = buf.baseAddress
      return clGetProgramInfo(program.handle, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutablePointer<UInt8>?>.size, &ptr, nil) == CL_SUCCESS
    }
    return ok ? Data(bytes) : nil
  }

  /// 128-bit FNV-1a (two 64-bit lanes with different offsets), as 32 hex digits.
  static func hash(_ s: String) -> String {
    var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x6c62_272e_07bb_0142
    for byte in s.utf8 {
      a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
      b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
      b = (b << 7) | (b >> 57)
    }
    return String(a, radix: 16).leftPadded(16) + String(b, radix: 16).leftPadded(16)
  }
}

extension String {
  func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
