// A machine: the devices a plan may use and the links between them. Real machines come
// from OpenCL queries; virtual ones from a machine file (`--machine M.json`), so plans for
// GPUs and clusters can be made and simulated on any host.
//
//   {"devices": [{"name": "gpu0", "type": "gpu", "gflops": 14000, "bandwidth_gbs": 900, "memory_gb": 16}, ...],
//    "links": [{"between": ["gpu0", "cpu0"], "bandwidth_gbs": 12, "latency_us": 10}],
//    "default_link": {"bandwidth_gbs": 12, "latency_us": 10}}
//
// Optional device fields: compute_units, launch_overhead_us, efficiency (fraction of peak).
// Optional "shared_cores": [{"devices": ["cpu0", "cpu1"], "cores": 2}]: devices that run on
// the same processor cores (several OpenCL CPU devices of one host), so that when their
// compute units together exceed the cores, they slow each other down.

import Foundation

public struct LinkModel: Hashable, Sendable, Codable {
  public var bandwidthGBs: Double
  public var latencySeconds: Double
  public init(bandwidthGBs: Double, latencySeconds: Double) {
    self.bandwidthGBs = bandwidthGBs
    self.latencySeconds = latencySeconds
  }
  /// Time to move `bytes` over the link.
  public func seconds(_ bytes: Int) -> Double { latencySeconds + Double(bytes) / (bandwidthGBs * 1e9) }
}

/// Devices that share processor cores: together they run at most `cores` compute units.
public struct CoreGroup: Hashable, Sendable {
  /// Indices into the machine's devices.
  public var devices: [Int]
  public var cores: Int
  public init(devices: [Int], cores: Int) { self.devices = devices; self.cores = cores }
}

public struct Machine: Sendable {
  public var devices: [DeviceDescriptor]
  public var links: [Set<String>: LinkModel]
  public var defaultLink: LinkModel
  public var sharedCores: [CoreGroup]

  public init(devices: [DeviceDescriptor], links: [Set<String>: LinkModel] = [:],
              defaultLink: LinkModel = LinkModel(bandwidthGBs: 8, latencySeconds: 20e-6), sharedCores: [CoreGroup] = []) {
    self.devices = devices
    self.links = links
    self.defaultLink = defaultLink
    self.sharedCores = sharedCores
  }

  /// Per device, the fraction of full speed each runs at when the devices in `running` are
  /// busy at once: 1, unless a core group's busy devices want more compute units than it
  /// has cores, which they then share in proportion.
  public func speeds(running: [Bool]) -> [Double] {
    var speed = Array(repeating: 1.0, count: devices.count)
    for group in sharedCores {
      let demand = group.devices.filter { running[$0] }.reduce(0) { $0 + max(devices[$1].computeUnits, 1) }
      guard demand > group.cores else { continue }
      for d in group.devices { speed[d] = Double(group.cores) / Double(demand) }
    }
    return speed
  }

  /// The link from device `a` to device `b` (indices); nil when they are the same device.
  public func link(_ a: Int, _ b: Int) -> LinkModel? {
    if a == b { return nil }
    return links[[devices[a].name, devices[b].name]] ?? defaultLink
  }

  /// Time to move `bytes` from device `a` to `b` (0 on the same device).
  public func transferSeconds(_ bytes: Int, from a: Int, to b: Int) -> Double { link(a, b)?.seconds(bytes) ?? 0 }

  /// Index of the device best suited to run the ops outside lanes: the fastest.
  public var mainDevice: Int {
    devices.indices.max { devices[$0].effectiveGFLOPS
      < devices[$1].effectiveGFLOPS } ?? 0
  }

  // MARK: - Machine files

  public static func load(_ path: String) throws(MachineError) -> Machine {
    guard let data = FileManager.default.contents(atPath: path) else { throw MachineError("\(path): cannot read machine file") }
    return try decode(data, file: path)
  }

  public static func decode(_ data: Data, file: String) throws(MachineError) -> Machine {
    func bad(_ m: String) -> MachineError { MachineError("\(file): \(m)") }
    guard let json = try? JSONSerialization.jsonObject(with: data), let root = json as? [String: Any] else {
      throw bad("not a JSON object")
    }
    guard let list = root["devices"] as? [[String: Any]], !list.isEmpty else {
      throw bad("needs a non-empty \"devices\" list")
    }
    func number(_ o: [String: Any], _ key: String, _ what: String, required: Bool = true) throws(MachineError) -> Double? {
      guard let v = o[key] else {
        if required { throw bad("\(what) lacks \"\(key)\"") }
        return nil
      }
      // Bounded so the conversions to whole bytes and counts cannot overflow.
      guard let n = (v as? NSNumber)?.doubleValue, n > 0 || (key == "latency_us" && n >= 0), n < 1e9 else {
        throw bad("\(what): \"\(key)\" must be a positive number below 1e9")
      }
      return n
    }
    var devices: [DeviceDescriptor] = []
    for (i, d) in list.enumerated() {
      guard let name = d["name"] as? String, !name.isEmpty else { throw bad("device \(i + 1) lacks a \"name\"") }
      guard !devices.contains(where: { $0.name == name }) else { throw bad("device name '\(name)' is used twice") }
      let what = "device '\(name)'"
      guard let typeName = d["type"] as? String, let kind = DeviceKind(rawValue: typeName) else {
        throw bad("\(what): \"type\" must be one of \(DeviceKind.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      devices.append(DeviceDescriptor(
        name: name, kind: kind, gflops: try number(d, "gflops", what)!, bandwidthGBs: try number(d, "bandwidth_gbs", what)!,
        memoryBytes: Int(try number(d, "memory_gb", what)! * Double(1 << 30)),
        computeUnits: Int(try number(d, "compute_units", what, required: false) ?? 1),
        launchOverheadSeconds: try number(d, "launch_overhead_us", what, required: false).map { $0 * 1e-6 },
        efficiency: try number(d, "efficiency", what, required: false)))
    }
    func linkModel(_ o: [String: Any], _ what: String) throws(MachineError) -> LinkModel {
      LinkModel(bandwidthGBs: try number(o, "bandwidth_gbs", what)!, latencySeconds: (try number(o, "latency_us", what)!) * 1e-6)
    }
    var machine = Machine(devices: devices)
    if let d = root["default_link"] {
      guard let o = d as? [String: Any] else { throw bad("\"default_link\" must be an object") }
      machine.defaultLink = try linkModel(o, "default_link")
    }
    for (i, l) in ((root["links"] as? [[String: Any]]) ?? []).enumerated() {
      guard let between = l["between"] as? [String], between.count == 2, between[0] != between[1] else {
        throw bad("link \(i + 1): \"between\" must name two different devices")
      }
      for n in between where !devices.contains(where: { $0.name == n }) { throw bad("link \(i + 1) names unknown device '\(n)'") }
      machine.links[Set(between)] = try linkModel(l, "link \(i + 1)")
    }
    for (i, group) in ((root["shared_cores"] as? [[String: Any]]) ?? []).enumerated() {
      let what = "shared_cores \(i + 1)"
      guard let names = group["devices"] as? [String], !names.isEmpty else { throw bad("\(what): \"devices\" must list device names") }
      var members: [Int] = []
      for n in names {
        guard let d = devices.firstIndex(where: { $0.name == n }) else { throw bad("\(what) names unknown device '\(n)'") }
        members.append(d)
      }
      machine.sharedCores.append(CoreGroup(devices: members, cores: Int(try number(group, "cores", what)!)))
    }
    return machine
  }
}

/// A machine file that cannot be read, with the file named in the message.
public struct MachineError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { "error: \(message)" }
}
