// `mlcnc devices`: the OpenCL platforms and devices, with the ids other commands take.

import ArgumentParser
import Foundation
import MLCNRuntime

struct Devices: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List OpenCL devices: id (platform:device), type, compute units, memory, peak estimate.")

  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    try reportingErrors {
      let devices = try CLDevices.all()
      if json && devices.isEmpty {
        printJSON(["devices": [Any](), "error": CLDevices.noDevicesExplanation()])
        throw ExitCode(1)
      }
      if json {
        printJSON(["devices": devices.map { d in
          ["id": d.name, "name": d.deviceName, "platform": d.platformName, "type": d.type.rawValue,
           "compute_units": d.computeUnits, "memory_bytes": d.globalMemoryBytes, "clock_mhz": d.clockMHz,
           "peak_gflops": (d.peakGFLOPS * 10).rounded() / 10, "driver": d.driverVersion] as [String: Any]
        }])
        return
      }
      guard !devices.isEmpty else {
        printError("error: " + CLDevices.noDevicesExplanation())
        throw ExitCode(1)
      }
      print("id    type  CUs  memory     peak GFLOP/s  name (platform)")
      for d in devices {
        let mem = String(format: "%.1f GiB", Double(d.globalMemoryBytes) / Double(1 << 30))
        print(d.name.padding(toLength: 6, withPad: " ", startingAt: 0) + d.type.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
          + String(d.computeUnits).padding(toLength: 5, withPad: " ", startingAt: 0) + mem.padding(toLength: 11, withPad: " ", startingAt: 0)
          + String(format: "%-14.0f", d.peakGFLOPS) + "\(d.deviceName) (\(d.platformName))")
      }
    }
  }
}
