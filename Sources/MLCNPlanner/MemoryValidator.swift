// Checks, before a plan is final, that every device can hold what the plan puts on it
// (the memory model is the runtime's own accounting).

import MLCNBase
import MLCNGraph

public enum MemoryValidator {
  /// `what`: what needs the memory, for the message (a training step checks its training graph).
  public static func check(_ g: Graph, placement: [Int], times: TimeModel, what: String = "the plan") throws(PlanError) {
    let machine = times.machine
    let used = MemoryModel.bytesPerDevice(g, placement: placement, devices: machine.devices, kernels: times.kernels)
    for (d, dev) in machine.devices.enumerated() where used[d] > dev.memoryBytes {
      throw PlanError("\(what) needs \(ByteCount.format(used[d])) on device \(dev.name), which has \(ByteCount.format(dev.memoryBytes)); use a smaller --batch or more devices")
    }
  }
}
