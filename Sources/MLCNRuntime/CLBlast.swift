// Calls into CLBlast, the tuned OpenCL BLAS library. CLBlast takes no event wait list, so
// a barrier on the (in-order) queue stands in for one when other queues must finish first.

import CCLBlast
import COpenCL
import MLCNCodegen

enum CLBlast {
  /// C = A B^T (row-major), waiting for `wait` first; returns the event of the GEMM.
  static func gemm(m: Int, n: Int, k: Int, a: CLBuffer, b: CLBuffer, c: CLBuffer, queue: CLQueue, wait: [CLEvent],
                   label: String) throws(CLError) -> CLEvent {
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
