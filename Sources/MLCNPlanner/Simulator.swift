// The makespan simulator: replays a placement the way the runtime executes it, so that
// lanes running at the same time on different devices are rewarded (an additive cost
// model cannot see that overlap).
//
// Algorithm (event-driven, in time order):
//  1. Each device is an in-order queue fed in graph order, like the runtime's.
//  2. A node starts when its device is free and every operand has arrived there.
//  3. An operand produced on another device arrives after a transfer: a task on the link
//     between the two devices (links are busy one transfer at a time), done once per
//     value and device, scheduled when its reader reaches the head of its queue.
//  4. Devices that share processor cores (`Machine.sharedCores`) slow each other down
//     while more of them are busy than there are cores: a running node progresses at the
//     machine's speed for the devices busy at that moment.
//  5. Views cost nothing and live on their operand's device. Inputs are written by the
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
  /// Seconds of work each device does (at full speed).
  public var busy: [Double]
  public var transfers: [Transfer]
  public var makespan: Double
  /// The device each value lives on (views: their operand's).
  public var home: [Int]
}

public enum Simulator {
  public static func run(_ g: Graph, placement: [Int], times: TimeModel) -> Schedule {
    let machine = times.machine, devices = machine.devices.count
    let n = g.nodes.count
    var start = Array(repeating: 0.0, count: n), finish = Array(repeating: 0.0, count: n)
    var busy = Array(repeating: 0.0, count: devices)
    var linkFree: [Set<Int>: Double] = [:]
    var arrival: [Int: Double] = [:]  // key: value * devices + device
    var transfers: [Schedule.Transfer] = []
    let home = g.homes(placement: placement)
    var queue = Array(repeating: [Int](), count: devices)
    for id in g.ids where !g[id].op.isView && !g[id].op.isHostProvided { queue[placement[id.index]].append(id.index) }
    var done = Array(repeating: false, count: n)
    for id in g.ids where g[id].op.isHostProvided { done[id.index] = true }

    /// When every operand of node `i` is on its device, or nil while one is not computed
    /// yet; schedules the transfers it needs the first time it can.
    func operandsReady(_ i: Int) -> Double? {
      let d = placement[i]
      var ready = 0.0
      for operand in g[ValueID(i)].inputs {
        let v = g.root(operand), p = v.index
        guard done[p] else { return nil }
        if g[v].op.isHostProvided { continue }
        if home[p] == d { ready = max(ready, finish[p]); continue }
        let key = p * devices + d
        if arrival[key] == nil {
          let bytes = g.type(of: v).bytes, src = home[p]
          let link: Set<Int> = [src, d]
          let t0 = max(linkFree[link] ?? 0, finish[p])
          let t1 = t0 + machine.transferSeconds(bytes, from: src, to: d)
          linkFree[link] = t1
          arrival[key] = t1
          transfers.append(.init(value: v, from: src, to: d, bytes: bytes, start: t0, finish: t1))
        }
        ready = max(ready, arrival[key]!)
      }
      return ready
    }

    // Per device: the position in its queue, the head's ready time once known, and the
    // running node with its work left (seconds at full speed), speed and finish estimate.
    var next = Array(repeating: 0, count: devices)
    var headReady: [Double?] = Array(repeating: nil, count: devices)
    var running: [(node: Int, left: Double, speed: Double, since: Double, eta: Double)?] = Array(repeating: nil, count: devices)
    var now = 0.0
    while true {
      // Start every head that can start now.
      for d in 0..<devices where running[d] == nil && next[d] < queue[d].count {
        let i = queue[d][next[d]]
        if headReady[d] == nil { headReady[d] = operandsReady(i) }
        guard let ready = headReady[d], ready <= now else { continue }
        let t = times.seconds(ValueID(i), in: g, device: d)
        start[i] = now
        busy[d] += t
        running[d] = (i, t, 1, now, now + t)
      }
      // Speeds for the devices busy now; a node whose speed changes gets a new estimate.
      let speeds = machine.speeds(running: running.map { $0 != nil })
      for d in 0..<devices where running[d] != nil && running[d]!.speed != speeds[d] {
        var r = running[d]!
        r.left -= (now - r.since) * r.speed
        r.since = now
        r.speed = speeds[d]
        r.eta = now + r.left / r.speed
        running[d] = r
      }
      // The next event: a node finishes, or a waiting head's operands arrive.
      var t = Double.infinity
      for d in 0..<devices {
        if let r = running[d] { t = min(t, r.eta) } else if let ready = headReady[d], ready > now { t = min(t, ready) }
      }
      guard t < .infinity else { break }
      now = t
      for d in 0..<devices {
        guard let r = running[d], r.eta <= now else { continue }
        finish[r.node] = r.eta
        done[r.node] = true
        running[d] = nil
        headReady[d] = nil
        next[d] += 1
      }
    }
    // Views: when their operand is ready.
    for id in g.ids where g[id].op.isView {
      start[id.index] = finish[g.root(id).index]
      finish[id.index] = start[id.index]
    }
    let makespan = g.outputs.map { finish[g.root($0.value).index] }.max() ?? 0
    return Schedule(start: start, finish: finish, busy: busy, transfers: transfers, makespan: makespan, home: home)
  }
}
