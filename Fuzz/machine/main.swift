// libFuzzer target: reading a machine file (`--machine M.json`, Machine.decode), then
// planning mlcn2 on it with the auto and exact strategies, as `mlcnc plan --machine` does.
// Thrown MachineErrors and PlanErrors are expected; a crash, trap, hang or huge allocation is a bug.
import Foundation
import MLCNBase
import MLCNGraph
import MLCNPlanner

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMachine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  do {
    let machine = try Machine.decode(Data(bytes: data, count: size), file: "fuzz.json")
    // Planning cost grows with the device count; the planner is not the front door here.
    guard machine.devices.count <= 16 else { return 0 }
    let graph = smallGraph(batch: 1)
    for strategy in [Strategy.auto, .lanesExact] {
      let plan = try Planner.plan(graph, PlanRequest(strategy: strategy, times: fuzzTimes(machine)))
      try Planner.validate(plan, for: graph, times: fuzzTimes(machine))
      _ = try PlanReport(graph: graph, plan: plan, times: fuzzTimes(machine)).table()
    }
  } catch {
    _ = String(describing: error)
  }
  return 0
}
