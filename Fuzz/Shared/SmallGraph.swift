// The small graph the plan and machine targets plan against: graphs/mlcn2.mlcn (two
// lanes), lowered once per batch size and kept.
import Foundation
import MLCNBase
import MLCNFrontend
import MLCNGraph
import MLCNPlanner

let smallGraphSource = """
  network mlcn2
  input x: [N, 1, 28, 28]
  lanes L[2] {
    h = conv2d(x, filters=16, kernel=9, act=relu)
    p = primary_caps(h, caps=32, dim=8, kernel=6, stride=2)
    c = capsule(p, caps=10, dim=8, routing=3)
    yield c
  }
  v = concat(L, axis=-1)
  y = length(v)
  output y
  """

nonisolated(unsafe) private var graphs: [Int: Graph] = [:]

/// mlcn2 at `batch` (1...8) after the standard passes, as `mlcnc plan` sees it.
func smallGraph(batch: Int) -> Graph {
  if let g = graphs[batch] { return g }
  var g = try! Lowering.lower(source: SourceFile(path: "mlcn2.mlcn", text: smallGraphSource), batch: batch)
  try! PassPipeline.standard.run(&g)
  graphs[batch] = g
  return g
}

/// The kernel report the planner reads. Codegen (with its build-time embedded kernel
/// sources) is not part of the fuzz build, so the harness reports one launch per computing
/// node and its parameters unpacked: what is fuzzed is decoding, validation and planning.
struct FuzzKernels: KernelReporter {
  func footprint(of id: ValueID, in g: Graph, on device: DeviceDescriptor) -> KernelFootprint {
    let n = g[id]
    let computes = !n.op.isHostProvided && !n.op.isView
    return KernelFootprint(launches: computes ? 1 : 0, scratch: [], parameters: g.parameters(of: id).map { g.type(of: $0).bytes })
  }
}

func fuzzTimes(_ machine: Machine) -> TimeModel { TimeModel(machine: machine, kernels: FuzzKernels()) }
