// The data-parallel strategy: every device runs the whole network on its own slice of the
// batch, with the parameters replicated on each device once at setup; the host writes each
// slice and gathers the outputs. The split follows the devices' speeds.
//
// Algorithm:
//  1. Simulate the whole batch on each device alone: t_d(B). The launch overheads L_d do
//     not shrink with the batch, the rest scales with it: t_d(b) = L_d + (t_d(B) - L_d) b / B.
//  2. Hand out samples one at a time, each to the device that would finish it earliest
//     (ties to the lower index), so a batch that does not divide evenly still balances.
//  3. Memory per device: its replicated parameters plus the batch-proportional rest of the
//     one memory model; every device with samples must hold its share.
//  4. The plan splits every op along axis 0 with the same ranges; the predicted time is the
//     slowest device's, at the speed it keeps while all the replicas run (devices sharing
//     cores slow each other down).

import MLCNBase
import MLCNGraph

enum DataParallel {
  static func plan(_ g: Graph, _ request: PlanRequest, _ analysis: LaneAnalysis) throws(PlanError) -> Plan {
    let times = request.times, machine = times.machine, devices = machine.devices
    let batch = g.batch
    // 1. Whole batch per device.
    var full: [Double] = [], fixed: [Double] = []
    for d in devices.indices {
      full.append(Simulator.run(g, placement: Array(repeating: d, count: g.nodes.count), times: times).makespan)
      fixed.append(g.ids.reduce(0.0) { sum, id in
        sum + Double(times.kernels.footprint(of: id, in: g, on: devices[d]).launches) * devices[d].launchOverheadSeconds
      })
    }
    func seconds(_ d: Int, _ b: Int) -> Double { b == 0 ? 0 : fixed[d] + (full[d] - fixed[d]) * Double(b) / Double(batch) }
    // 2. Samples one at a time.
    var share = Array(repeating: 0, count: devices.count)
    for _ in 0..<batch {
      let d = devices.indices.min { seconds($0, share[$0] + 1) < seconds($1, share[$1] + 1) }!
      share[d] += 1
    }
    // 3. Memory.
    var memory: [String: Int] = [:]
    for d in devices.indices where share[d] > 0 {
      let all = Array(repeating: d, count: g.nodes.count)
      let total = MemoryModel.bytesPerDevice(g, placement: all, devices: devices, kernels: times.kernels)[d]
      let params = g.ids.reduce(0) { $0 + times.kernels.footprint(of: $1, in: g, on: devices[d]).parameterBytes }
      let need = params + (total - params) * share[d] / batch
      memory[devices[d].name] = need
      if need > devices[d].memoryBytes {
        throw PlanError("data-parallel needs \(ByteCount.format(need)) on device \(devices[d].name) for \(share[d]) samples, which has \(ByteCount.format(devices[d].memoryBytes)); use a smaller --batch or more devices")
      }
    }
    // 4. The plan.
    var parts: [Plan.Part] = []
    var lo = 0
    for d in devices.indices where share[d] > 0 {
      parts.append(Plan.Part(device: devices[d].name, axis: 0, range: [lo, lo + share[d]]))
      lo += share[d]
    }
    // The replicas run at the same time: devices that share cores slow each other down.
    let speeds = machine.speeds(running: share.map { $0 > 0 })
    let predicted = devices.indices.map { seconds($0, share[$0]) / speeds[$0] }.max() ?? 0
    let ops = g.ids.filter { !g[$0].op.isHostProvided }.map { Plan.Op(name: g[$0].name, device: nil, parts: parts) }
    var plan = Plan(strategy: Strategy.dataParallel.rawValue, devices: devices.map(\.name), predictedSeconds: predicted,
                    batch: batch, ops: ops, lanes: analysis.names(in: g))
    plan.memoryBytes = memory
    return plan
  }
}

extension Plan {
  /// For a data-parallel plan (every op split along the batch axis into the same parts):
  /// each part's device and sample range; nil for a plan of whole ops.
  public func batchSplit(for g: Graph) throws(PlanError) -> [(device: String, range: Range<Int>)]? {
    guard let first = ops.first?.parts else { return nil }
    for op in ops where op.parts != first {
      throw PlanError("op '\(op.name)' is split differently from '\(ops[0].name)'; this runtime executes whole ops or one batch split for every op (data-parallel)")
    }
    var next = 0
    var out: [(device: String, range: Range<Int>)] = []
    for p in first {
      guard p.axis == 0 else {
        throw PlanError("op '\(ops[0].name)' is split along axis \(p.axis); this runtime splits only the batch (axis 0)")
      }
      guard p.range.count == 2, p.range[0] == next, p.range[1] > p.range[0] else {
        throw PlanError("op '\(ops[0].name)': part ranges must cover the batch in order without gaps, got \(first.map(\.range))")
      }
      guard devices.contains(p.device) else { throw PlanError("op '\(ops[0].name)' is placed on unknown device '\(p.device)'") }
      out.append((p.device, p.range[0]..<p.range[1]))
      next = p.range[1]
    }
    guard next == g.batch else {
      throw PlanError("the plan splits a batch of \(next), the network runs a batch of \(g.batch)")
    }
    let named = Set(ops.map(\.name))
    for id in g.ids where !g[id].op.isHostProvided && !named.contains(g[id].name) {
      throw PlanError("the plan does not place op '\(g[id].name)'")
    }
    return out
  }
}
