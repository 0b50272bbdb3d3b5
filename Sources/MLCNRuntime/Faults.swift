// Fault injection, for tests of the failure paths only: MLCNC_FAULTS=KIND:TARGET[,...]
// makes the runtime fail as a real device would. Kinds: `missing:DEVICE` (absent at
// start-up), `build:DEVICE` (every kernel build fails), `oom:DEVICE` (buffer allocation
// fails), `run:OP` or `run:OP@DEVICE` (the first step of op OP, on any device or on that
// one, fails in the middle of a batch).

import COpenCL
import Foundation

public enum Faults {
  public enum Kind: String, Sendable { case missing, build, oom, run }

  static let injected: [(kind: Kind, target: String)] = {
    guard let spec = ProcessInfo.processInfo.environment["MLCNC_FAULTS"], !spec.isEmpty else { return [] }
    return spec.split(separator: ",").compactMap { item in
      guard let colon = item.firstIndex(of: ":"), let kind = Kind(rawValue: String(item[..<colon])) else { return nil }
      return (kind, String(item[item.index(after: colon)...]))
    }
  }()

  static func active(_ kind: Kind, _ target: String) -> Bool {
    injected.contains { $0.kind == kind && $0.target == target }
  }

  /// The error a device reports when `kind` is injected for `target`.
  static func check(_ kind: Kind, _ target: String, device: String, context: String) throws(CLError) {
    guard active(kind, target) || (kind == .run && active(kind, "\(target)@\(device)")) else { return }
    switch kind {
    case .build:
      throw CLError(call: "clBuildProgram", code: CL_BUILD_PROGRAM_FAILURE, device: device, context: context,
                    buildLog: "error: injected build failure (MLCNC_FAULTS)")
    case .oom:
      throw CLError(call: "clCreateBuffer", code: CL_MEM_OBJECT_ALLOCATION_FAILURE, device: device, context: context)
    case .run:
      throw CLError(call: "clEnqueueNDRangeKernel", code: CL_DEVICE_NOT_AVAILABLE, device: device,
                    context: "\(context), injected (MLCNC_FAULTS)")
    case .missing:
      return
    }
  }
}

/// The device an error blames, if any: what `--fallback` leaves out when it replans.
public func failingDevice(_ error: Error) -> String? {
  switch error {
  case let e as CLError: e.device
  case let e as RuntimeError: e.device
  case let e as DeviceSelectionError: e.missing
  default: nil
  }
}
