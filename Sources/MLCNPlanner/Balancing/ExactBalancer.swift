// Exact lane placement, to grade the heuristics: depth-first over all assignments of a
// set's lanes to devices, minimising the lane-level makespan under memory.
//
// Algorithm:
//  1. Start from the greedy answer as the best known (when greedy finds one).
//  2. Place lanes largest first; at each step the lower bound is the larger of the
//     current maximum load and the average of all load once the remaining lanes are
//     placed at their cheapest; prune when it reaches the best.
//  3. Of several empty devices that are interchangeable for this set (same costs, setup
//     and free memory), try only the first.

struct ExactBalancer: LaneBalancer {
  static let limit = 16

  func place(_ s: Int, in p: LaneProblem, used: inout [Int]) throws(PlanError) -> [Int] {
    let set = p.sets[s]
    guard set.count <= Self.limit else {
      throw PlanError("lanes-exact enumerates placements and handles groups of up to \(Self.limit) lanes; this graph has a group of \(set.count): use --strategy lanes")
    }
    let devices = p.devices.count
    var best: [Int]?
    var bestTime = Double.infinity
    var greedyUsed = used
    if let start = try? GreedyBalancer().place(s, in: p, used: &greedyUsed) {
      best = start
      bestTime = p.makespan(start, set: s)
    }
    let order = set.indices.sorted { p.cost[set[$0]][p.main] > p.cost[set[$1]][p.main] }
    var suffixMin = Array(repeating: 0.0, count: order.count + 1)
    for i in stride(from: order.count - 1, through: 0, by: -1) { suffixMin[i] = suffixMin[i + 1] + p.cost[set[order[i]]].min()! }
    let signature = (0..<devices).map { d in set.map { p.cost[$0][d] } + [p.setup[s][d], Double(p.devices[d].memoryBytes - used[d])] }
    var load = Array(repeating: 0.0, count: devices)
    var mem = used
    var current = Array(repeating: p.main, count: set.count)
    func search(_ i: Int) {
      if i == order.count {
        let t = load.max() ?? 0
        if t < bestTime - 1e-15 { bestTime = t; best = current }
        return
      }
      let lower = max(load.max() ?? 0, (load.reduce(0, +) + suffixMin[i]) / Double(devices))
      if lower >= bestTime - 1e-15 { return }
      let k = order[i], l = set[k]
      var triedEmpty: [[Double]] = []
      for d in 0..<devices where p.fits(l, d, mem) {
        if load[d] == 0 {
          if triedEmpty.contains(signature[d]) { continue }
          triedEmpty.append(signature[d])
        }
        let before = load[d]
        load[d] = p.added(l, to: before, on: d, set: s)
        if load[d] < bestTime - 1e-15 {
          mem[d] += p.memory[l]; current[k] = d
          search(i + 1)
          mem[d] -= p.memory[l]
        }
        load[d] = before
      }
    }
    search(0)
    guard let best else { throw p.noRoom(set[order[0]], used) }
    for (k, d) in best.enumerated() { used[d] += p.memory[set[k]] }
    return best
  }
}
