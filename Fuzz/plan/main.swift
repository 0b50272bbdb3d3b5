// libFuzzer target: reading a plan JSON (`--plan P.json`, Plan.decode), then checking it
// against mlcn2 and a machine holding every device name of graphs/machines
// (Planner.validate), and drawing its report (simulator, DOT, table), as `mlcnc run` and
// `compile --plan` do. Thrown PlanErrors are expected; a crash, trap, hang or huge
// allocation is a bug.
import Foundation
import MLCNBase
import MLCNGraph
import MLCNPlanner

private let machine: Machine = {
  var devices: [String] = []
  for (kind, gflops) in [("cpu", 1500), ("gpu", 14000)] {
    for i in 0..<4 {
      devices.append(#"{"name": "\#(kind)\#(i)", "type": "\#(kind)", "gflops": \#(gflops), "bandwidth_gbs": 300, "memory_gb": 16}"#)
    }
  }
  let json = #"{"devices": [\#(devices.joined(separator: ", "))], "default_link": {"bandwidth_gbs": 12, "latency_us": 10}}"#
  return try! Machine.decode(Data(json.utf8), file: "fuzz-machine.json")
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPlan(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  do {
    let plan = try Plan.decode(Data(bytes: data, count: size), file: "fuzz.json")
    let graph = smallGraph(batch: plan.batch.map { min(max($0, 1), 4) } ?? 1)
    try Planner.validate(plan, for: graph, times: fuzzTimes(machine))
    let report = try PlanReport(graph: graph, plan: plan, times: fuzzTimes(machine))
    _ = report.dot()
    _ = report.table()
    _ = plan.json()
  } catch {
    _ = error.description
  }
  return 0
}
