// Checks, before a plan is final, that every device can hold what the plan puts on it.

import MLCNGraph

enum MemoryValidator {
  static func check(_ g: Graph, placement: [Int], machine: Machine) throws(PlanError) {
    var used = Array(repeating: 0, count: machine.devices.count)
    for id in g.ids { used[placement[id.index]] += CostModel.memoryBytes(of: id, in: g) }
    for (d, dev) in machine.devices.enumerated() where used[d] > dev.memoryBytes {
      throw PlanError("the plan needs \(ByteCount.format(used[d])) on device \(dev.name), which has \(ByteCount.format(dev.memoryBytes)); use a smaller --batch or more devices")
    }
  }
}
