// OpenCL platforms and devices: discovery (once per process, behind a lock, because
// concurrent discovery fails at random on some ICDs) and the properties the planner uses.

import COpenCL
import Foundation
import MLCNBase

/// One OpenCL device with its platform and the properties mlcnc reads.
public struct CLDevice: @unchecked Sendable, Hashable {
  public let id: cl_device_id
  public let platform: cl_platform_id
  /// `platform:device`, as `--devices` takes it.
  public let name: String
  public let platformIndex: Int
  public let deviceIndex: Int
  public let deviceName: String
  public let platformName: String
  public let vendor: String
  public let driverVersion: String
  public let version: String
  public let type: DeviceKind
  public let computeUnits: Int
  public let clockMHz: Int
  public let globalMemoryBytes: Int
  public let maxAllocationBytes: Int
  public let localMemoryBytes: Int
  public let maxWorkGroupSize: Int
  public let preferredFloatVectorWidth: Int

  public static func == (a: CLDevice, b: CLDevice) -> Bool { a.id == b.id }
  public func hash(into h: inout Hasher) { h.combine(name) }

  /// Peak float32 GFLOP/s from the device's own properties: a rough figure the planner
  /// refines with measured op times.
  public var peakGFLOPS: Double {
    let ghz = Double(max(clockMHz, 1000)) / 1000
    switch type {
    case .cpu:
      // SIMD lanes x FMA (2 flops) x 2 FMA pipes per core.
      return Double(computeUnits) * ghz * Double(max(preferredFloatVectorWidth, 4)) * 2 * 2
    case .gpu, .accelerator:
      // Vendors do not report cores per compute unit; 64 lanes x FMA is typical.
      return Double(computeUnits) * ghz * 64 * 2
    }
  }

  /// The planner's view of this device, with its memory bandwidth as measured by `DeviceProbe`.
  public func descriptor(bandwidthGBs: Double) -> DeviceDescriptor {
    DeviceDescriptor(name: name, kind: type, gflops: peakGFLOPS,
                     bandwidthGBs: bandwidthGBs, memoryBytes: globalMemoryBytes,
                     computeUnits: computeUnits, maxWorkGroupSize: maxWorkGroupSize,
                     localMemoryBytes: localMemoryBytes, identity: compilerIdentity)
  }

  /// What identifies the compiler that builds this device's programs (for the binary cache).
  public var compilerIdentity: String { "\(platformName)|\(vendor)|\(deviceName)|\(driverVersion)|\(version)" }
}

public enum CLDevices {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var cached: Result<[CLDevice], CLError>?

  /// Every device of every platform, discovered once per process.
  public static func all() throws(CLError) -> [CLDevice] {
    lock.lock()
    defer { lock.unlock() }
    if let cached { return try cached.get() }
    ensurePoCLCacheFolder()
    let result: Result<[CLDevice], CLError>
    do { result = .success(try discover()) } catch { result = .failure(error) }
    cached = result
    return try result.get()
  }

  /// Devices by `platform:device` ids (comma-separated), `all`, or the default when nil:
  /// the first GPU, else the first device.
  public static func select(_ spec: String?) throws(DeviceSelectionError) -> [CLDevice] {
    let devices: [CLDevice]
    do { devices = try all() } catch { throw DeviceSelectionError(message: "cannot list OpenCL devices: \(error)") }
    guard !devices.isEmpty else { throw DeviceSelectionError(message: noDevicesExplanation()) }
    guard let spec, !spec.isEmpty else {
      return [devices.first { $0.type == .gpu } ?? devices[0]]
    }
    if spec == "all" { return devices }
    var chosen: [CLDevice] = []
    for part in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      let want = part.contains(":") ? part : "0:\(part)"
      guard let d = devices.first(where: { $0.name == want }) else {
        let known = devices.map(\.name).joined(separator: ", ")
        throw DeviceSelectionError(message: "no OpenCL device '\(part)' (devices: \(known); see `mlcnc devices`)", missing: want)
      }
      guard !chosen.contains(d) else { throw DeviceSelectionError(message: "device '\(part)' is listed twice") }
      chosen.append(d)
    }
    return chosen
  }

  /// PoCL shows no devices when its cache folder is not writable, and aborts when
  /// POCL_CACHE_DIR is empty. Before OpenCL starts, keep a usable POCL_CACHE_DIR, else pick
  /// the first writable of PoCL's own default and a folder in the temporary directory, so
  /// users never need to set it.
  static func ensurePoCLCacheFolder() {
    let env = ProcessInfo.processInfo.environment
    if let given = env["POCL_CACHE_DIR"], !given.isEmpty, canWrite(in: given) { return }
    let home = (env["XDG_CACHE_HOME"] ?? ((env["HOME"] ?? "/") + "/.cache")) + "/pocl"
    let temp = FileManager.default.temporaryDirectory.appending(path: "mlcnc-pocl-\(getuid())").path
    guard let dir = [home, temp].first(where: canWrite) else { return }
    if let given = env["POCL_CACHE_DIR"] {
      FileHandle.standardError.write(Data("note: POCL_CACHE_DIR '\(given)' is not a writable folder; using \(dir)\n".utf8))
    }
    setenv("POCL_CACHE_DIR", dir, 1)
  }

  /// Why no device shows up, in the terms a user can act on.
  public static func noDevicesExplanation() -> String {
    var s = "no OpenCL devices found."
    let env = ProcessInfo.processInfo.environment
    if FileManager.default.fileExists(atPath: "/etc/OpenCL/vendors") == false {
      s += " No OpenCL driver is registered (/etc/OpenCL/vendors is missing): install one, e.g. pocl-opencl-icd (tools/setup does)."
    }
    let cacheDir = env["POCL_CACHE_DIR"] ?? ((env["XDG_CACHE_HOME"] ?? ((env["HOME"] ?? "/") + "/.cache")) + "/pocl")
    let state = canWrite(in: cacheDir) ? "writable" : "not writable"
    s += " PoCL (the CPU driver) silently shows no devices when its cache folder is not writable: set POCL_CACHE_DIR to a writable folder (POCL_CACHE_DIR is \(env["POCL_CACHE_DIR"].map { "'\($0)'" } ?? "unset"); the folder PoCL uses, \(cacheDir), is \(state))."
    return s
  }

  /// Whether a file can be created in `dir` (made if missing): the only reliable test.
  static func canWrite(in dir: String) -> Bool {
    let fm = FileManager.default
    guard (try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil else { return false }
    let probe = dir + "/.mlcnc-write-test-\(getpid())"
    guard fm.createFile(atPath: probe, contents: Data()) else { return false }
    try? fm.removeItem(atPath: probe)
    return true
  }

  private static func discover() throws(CLError) -> [CLDevice] {
    var count: cl_uint = 0
    let status = clGetPlatformIDs(0, nil, &count)
    if status == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: no driver installed */ || count == 0 { return [] }
    try check(status, "clGetPlatformIDs")
    var platforms = [cl_platform_id?](repeating: nil, count: Int(count))
    try check(clGetPlatformIDs(count, &platforms, nil), "clGetPlatformIDs")
    var out: [CLDevice] = []
    for (pi, platform) in platforms.enumerated() {
      guard let platform else { continue }
      var n: cl_uint = 0
      let s = clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &n)
      if s == CL_DEVICE_NOT_FOUND || n == 0 { continue }
      try check(s, "clGetDeviceIDs")
      var ids = [cl_device_id?](repeating: nil, count: Int(n))
      try check(clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), n, &ids, nil), "clGetDeviceIDs")
      let platformName = platformString(platform, CL_PLATFORM_NAME)
      for (di, id) in ids.enumerated() {
        guard let id, !Faults.active(.missing, "\(pi):\(di)") else { continue }
        let typeBits = deviceValue(id, CL_DEVICE_TYPE, cl_device_type.self)
        let kind: DeviceKind = typeBits & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 ? .gpu
          : typeBits & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? .cpu : .accelerator
        out.append(CLDevice(
          id: id, platform: platform, name: "\(pi):\(di)", platformIndex: pi, deviceIndex: di,
          deviceName: deviceString(id, CL_DEVICE_NAME), platformName: platformName,
          vendor: deviceString(id, CL_DEVICE_VENDOR), driverVersion: deviceString(id, CL_DRIVER_VERSION),
          version: deviceString(id, CL_DEVICE_VERSION), type: kind,
          computeUnits: Int(deviceValue(id, CL_DEVICE_MAX_COMPUTE_UNITS, cl_uint.self)),
          clockMHz: Int(deviceValue(id, CL_DEVICE_MAX_CLOCK_FREQUENCY, cl_uint.self)),
          globalMemoryBytes: Int(deviceValue(id, CL_DEVICE_GLOBAL_MEM_SIZE, cl_ulong.self)),
          maxAllocationBytes: Int(deviceValue(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, cl_ulong.self)),
          localMemoryBytes: Int(deviceValue(id, CL_DEVICE_LOCAL_MEM_SIZE, cl_ulong.self)),
          maxWorkGroupSize: Int(deviceValue(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, Int.self)),
          preferredFloatVectorWidth: Int(deviceValue(id, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, cl_uint.self))))
      }
    }
    return out
  }

  static func deviceValue<T: FixedWidthInteger>(_ id: cl_device_id, _ param: Int32, _: T.Type) -> T {
    var v: T = 0
    _ = clGetDeviceInfo(id, cl_device_info(param), MemoryLayout<T>.size, &v, nil)
    return v
  }

  static func deviceString(_ id: cl_device_id, _ param: Int32) -> String {
    infoString { clGetDeviceInfo(id, cl_device_info(param), $0, $1, $2) }
  }

  static func platformString(_ id: cl_platform_id, _ param: Int32) -> String {
    infoString { clGetPlatformInfo(id, cl_platform_info(param), $0, $1, $2) }
  }

  /// A string property through OpenCL's two-call protocol: ask the size, then the bytes.
  static func infoString(_ get: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) -> String {
    var size = 0
    guard get(0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
    var buf = [CChar](repeating: 0, count: size + 1)
    _ = get(size, &buf, nil)
    return String(cString: buf).trimmingCharacters(in: .whitespaces)
  }
}

public struct DeviceSelectionError: Error, Sendable, CustomStringConvertible {
  public var message: String
  /// The requested device that is not there, when that is the problem.
  public var missing: String? = nil
  public var description: String { "error: \(message)" }
}
