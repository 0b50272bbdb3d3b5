// The makespan simulator: replays a placement the way the runtime executes it, so that
// lanes running at the same time on different devices are rewarded (an additive cost
// model cannot see that overlap).
//
// Algorithm:
//  1. Each device is an in-order queue fed in graph order, like the runtime's.
//  2. A node starts when its device is free and every operand has arrived there.
//  3. An operand produced on another device arrives after a transfer: a task on the link
//     between the two devices (links are busy one transfer at a time), done once per
//     value and device.
//  4. Views cost nothing and live on their operand's device. Inputs are written by the
//     host to every device that reads them before the batch starts: ready at time zero.
//     The makespan is when the last output is ready.

import MLCNGraph

public struct Schedule: Sendable {
  public struct Transfer: Sendable, Hashable {
    public var value: ValueID
    public var from: Int
    public var to: Int
    public var bytes: Int
    public var start: Double
    public var finish: Double
  }
  public var start: [Double]
  public var finish: [Double]
  /// Seconds of work each device does.
  public var busy: [Double]
  public var transfers: [Transfer]
  public var makespan: Double
  /// The device each value lives on (views: their operand's).
  public var home: [Int]
}

public enum Simulator {
  public static func run(_ g: Graph, placement: [Int], times: TimeModel) -> Schedule {
    let machine = times.machine
    let n = g.nodes.count
    var start = Array(repeating: 0.0, count: n), finish = Array(repeating: 0.0, count: n)
    var deviceFree = Array(repeating: 0.0, count: machine.devices.count)
    var busy = deviceFree
    var linkFree: [Set<Int>: Double] = [:]
    var arrival: [Int: Double] = [:]  // key: value * devices + device
    var transfers: [Schedule.Transfer] = []
    var home = g.homes(placement: placement)
    for id in g.ids {
      let i = id.index, node = g[id]
      if node.op.isView {
        home[i] = home[node.inputs[0].index]
        start[i] = finish[node.inputs[0].index]
        finish[i] = start[i]
        continue
      }
      if node.op.isHostProvided { continue }
      let d = placement[i]
      var ready = deviceFree[d]
      for operand in node.inputs {
        let src = home[operand.index]
        if src == d || g[g.root(operand)].op.isHostProvided { ready = max(ready, finish[operand.index]); continue }
        let key = operand.index * machine.devices.count + d
        if arrival[key] == nil {
          let bytes = g.type(of: operand).bytes
          let link: Set<Int> = [src, d]
          let t0 = max(linkFree[link] ?? 0, finish[operand.index])
          let t1 = t0 + machine.transferSeconds(bytes, from: src, to: d)
          linkFree[link] = t1
          arrival[key] = t1
          transfers.append(.init(value: operand, from: src, to: d, bytes: bytes, start: t0, finish: t1))
        }
        ready = max(ready, arrival[key]!)
      }
      let t = times.seconds(id, in: g, device: d)
      start[i] = ready
      finish[i] = ready + t
      deviceFree[d] = finish[i]
      busy[d] += t
    }
    let makespan = g.outputs.map { finish[$0.value.index] }.max() ?? 0
    return Schedule(start: start, finish: finish, busy: busy, transfers: transfers, makespan: makespan, home: home)
  }
}
