// Checks, before a plan is final, that every device can hold what the plan puts on it
// (the memory model is the runtime's own accounting).

import MLCNBase
import MLCNGraph

enum MemoryValidator {
  static func check(_ g: Graph, placement: [Int], times: TimeModel) throws(PlanError) {
    let machine = times.machine
    let used = MemoryModel.bytesPerDevice(g, placement: placement, devices: machine.devices, kernels: times.kernels)
    for (d, dev) in machine.devices.enumerated() where used[d] > dev.memoryBytes {
      throw PlanError("the plan needs \(ByteCount.format(used[d])) on device \(dev.name), which has \(ByteCount.format(dev.memoryBytes)); use a smaller --batch or more devices")
    }
  }
}
