// Calls into CLBlast, the tuned OpenCL BLAS library. CLBlast takes no event wait list, so
// a barrier on the (in-order) queue stands in for one when other queues must finish first.
// On PoCL, which CLBlast has no tuning for, its Xgemm gets the best parameters measured
// there (DESIGN.md section 6: 5-8x its defaults); GPUs keep CLBlast's per-vendor tuning.

import CCLBlast
import COpenCL
import Foundation
import MLCNCodegen

enum CLBlast {
  /// Xgemm parameters for PoCL: 64x64 tiles of 8x8 work-items, K by 32, 8-wide vectors.
  static let poclXgemm: [(String, Int)] = [
    ("GEMMK", 0), ("KREG", 1), ("KWG", 32), ("KWI", 2), ("MDIMA", 8), ("MDIMC", 8), ("MWG", 64), ("NDIMB", 8),
    ("NDIMC", 8), ("NWG", 64), ("SA", 0), ("SB", 1), ("STRM", 0), ("STRN", 0), ("VWM", 8), ("VWN", 8),
  ]
  nonisolated(unsafe) private static var overridden = Set<cl_device_id>()
  private static let lock = NSLock()

  /// Sets the PoCL parameters once per device before its first GEMM.
  static func prepare(_ device: CLDevice) throws(CLError) {
    guard device.platformName.contains("Portable Computing Language") else { return }
    let first = lock.withLock { overridden.insert(device.id).inserted }
    guard first else { return }
    let names = poclXgemm.map { strdup($0.0) }
    defer { names.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = names.map { UnsafePointer($0) }
    let values = poclXgemm.map { $0.1 }
    let status = CLBlastOverrideParameters(device.id, "Xgemm", CLBlastPrecisionSingle, values.count, &pointers, values)
    guard status == CLBlastSuccess else {
      throw CLError(call: "CLBlastOverrideParameters", code: status.rawValue, device: device.name, context: "Xgemm for PoCL")
    }
  }

  /// C = A B^T (row-major), waiting for `wait` first; returns the event of the GEMM.
  static func gemm(m: Int, n: Int, k: Int, a: CLBuffer, b: CLBuffer, c: CLBuffer, queue: CLQueue, wait: [CLEvent],
                   label: String) throws(CLError) -> CLEvent {
    try prepare(queue.device)
    if !wait.isEmpty {
      let list: [cl_event?] = wait.map { $0.handle }
      let status = list.withUnsafeBufferPointer { clEnqueueBarrierWithWaitList(queue.handle, cl_uint(list.count), $0.baseAddress, nil) }
      try check(status, "clEnqueueBarrierWithWaitList", device: queue.device.name, context: label)
    }
    var q: cl_command_queue? = queue.handle
    var event: cl_event?
    let status = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes,
                              m, n, k, 1, a.handle, 0, k, b.handle, 0, k, 0, c.handle, 0, n, &q, &event)
    guard status == CLBlastSuccess, let event else {
      throw CLError(call: "CLBlastSgemm", code: status.rawValue, device: queue.device.name,
                    context: "\(label), \(m)x\(n)x\(k)")
    }
    return CLEvent(event)
  }
}
