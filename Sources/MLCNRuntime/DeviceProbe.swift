// Measures what OpenCL does not report: each device's memory bandwidth and the links
// between devices (bandwidth and latency of a copy), so the real machine handed to the
// planner holds measured facts, not guesses. Results are kept per device identity in a
// JSON file of the cache folder; a probe costs a few tens of milliseconds the first time.

import Foundation
import MLCNBase

public struct DeviceFacts: Codable, Sendable, Hashable {
  /// Device identity -> memory bandwidth (GB/s) of a device-local copy.
  public var bandwidthGBs: [String: Double] = [:]
  /// "identityA|identityB|same-context" -> link.
  public var links: [String: MeasuredLink] = [:]
  public init() {}

  public struct MeasuredLink: Codable, Sendable, Hashable {
    public var bandwidthGBs: Double
    public var latencySeconds: Double
  }
}

public enum DeviceProbe {
  static let probeBytes = 8 << 20

  /// The machine made of `devices`, measuring what `facts` (loaded from and saved to
  /// `file`) does not hold yet.
  public static func machine(_ devices: [CLDevice], file: URL?) throws -> Machine {
    var facts = load(file)
    var changed = false
    for d in devices where facts.bandwidthGBs[d.compilerIdentity] == nil {
      facts.bandwidthGBs[d.compilerIdentity] = try bandwidth(d)
      changed = true
    }
    var links: [Set<String>: LinkModel] = [:]
    for a in devices {
      for b in devices where a.name < b.name {
        let key = linkKey(a, b)
        if facts.links[key] == nil { facts.links[key] = try link(a, b); changed = true }
        let l = facts.links[key]!
        links[[a.name, b.name]] = LinkModel(bandwidthGBs: l.bandwidthGBs, latencySeconds: l.latencySeconds)
      }
    }
    if changed { save(facts, to: file) }
    // OpenCL CPU devices all run on this host's cores (PoCL's `basic` device on one of them).
    let cpus = devices.indices.filter { devices[$0].type == .cpu }
    let shared = cpus.count > 1 ? [CoreGroup(devices: cpus, cores: ProcessInfo.processInfo.activeProcessorCount)] : []
    return Machine(devices: devices.map { $0.descriptor(bandwidthGBs: facts.bandwidthGBs[$0.compilerIdentity]!) }, links: links,
                   sharedCores: shared)
  }

  static func linkKey(_ a: CLDevice, _ b: CLDevice) -> String {
    [a.compilerIdentity, b.compilerIdentity].sorted().joined(separator: "|") + (a.platform == b.platform ? "|same-context" : "|host")
  }

  /// Bytes read plus bytes written per second by a device-local buffer copy, best of 3.
  static func bandwidth(_ d: CLDevice) throws -> Double {
    let ctx = try CLContext(devices: [d])
    let q = try CLQueue(context: ctx, device: d)
    let a = try CLBuffer(context: ctx, bytes: probeBytes, device: d.name, purpose: "bandwidth probe")
    let b = try CLBuffer(context: ctx, bytes: probeBytes, device: d.name, purpose: "bandwidth probe")
    var best = Double.infinity
    for _ in 0..<3 {
      let ev = try q.copy(from: a, to: b, bytes: probeBytes, wait: [], label: "bandwidth probe")
      try q.finish()
      if let p = ev.profile(), p.end > p.start { best = min(best, Double(p.end - p.start) * 1e-9) }
    }
    return best.isFinite ? 2 * Double(probeBytes) / best / 1e9 : 10
  }

  /// A copy from `a` to `b`: device to device in a shared context, else staged through
  /// the host. Latency from a 4-byte copy, bandwidth from a large one.
  static func link(_ a: CLDevice, _ b: CLDevice) throws -> DeviceFacts.MeasuredLink {
    func seconds(_ bytes: Int) throws -> Double {
      var best = Double.infinity
      if a.platform == b.platform {
        let ctx = try CLContext(devices: [a, b])
        let qa = try CLQueue(context: ctx, device: a), qb = try CLQueue(context: ctx, device: b)
        let src = try CLBuffer(context: ctx, bytes: bytes, device: a.name, purpose: "link probe")
        let dst = try CLBuffer(context: ctx, bytes: bytes, device: b.name, purpose: "link probe")
        _ = try qa.write(src, [Float](repeating: 0, count: bytes / 4), label: "link probe")
        try qa.finish()
        for _ in 0..<3 {
          let t0 = DispatchTime.now().uptimeNanoseconds
          _ = try qb.copy(from: src, to: dst, bytes: bytes, wait: [], label: "link probe")
          try qb.finish()
          best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
      } else {
        let ca = try CLContext(devices: [a]), cb = try CLContext(devices: [b])
        let qa = try CLQueue(context: ca, device: a), qb = try CLQueue(context: cb, device: b)
        let src = try CLBuffer(context: ca, bytes: bytes, device: a.name, purpose: "link probe")
        let dst = try CLBuffer(context: cb, bytes: bytes, device: b.name, purpose: "link probe")
        for _ in 0..<3 {
          let t0 = DispatchTime.now().uptimeNanoseconds
          let host = try qa.read(src, count: bytes / 4, label: "link probe")
          _ = try qb.write(dst, host, label: "link probe")
          try qb.finish()
          best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
      }
      return best
    }
    let latency = try seconds(4)
    let big = try seconds(probeBytes)
    return .init(bandwidthGBs: Double(probeBytes) / max(big - latency, 1e-9) / 1e9, latencySeconds: latency)
  }

  static func load(_ url: URL?) -> DeviceFacts {
    guard let url, let data = try? Data(contentsOf: url), let f = try? JSONDecoder().decode(DeviceFacts.self, from: data) else {
      return DeviceFacts()
    }
    return f
  }

  static func save(_ facts: DeviceFacts, to url: URL?) {
    guard let url else { return }
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .prettyPrinted]
    try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try? enc.encode(facts).write(to: url, options: .atomic)
  }
}
