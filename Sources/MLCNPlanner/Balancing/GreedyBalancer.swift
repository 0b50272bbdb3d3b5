// Greedy lane placement, as the MLCN paper describes it: largest lane first (by its cost
// on the main device), onto the device where it would finish earliest.
//
// Under tight memory that order can paint itself into a corner; then a second pass
// places lanes by size in memory, largest first, still onto the earliest finish among
// the devices with room, before giving up.

struct GreedyBalancer: LaneBalancer {
  func place(_ s: Int, in p: LaneProblem, used: inout [Int]) throws(PlanError) -> [Int] {
    let set = p.sets[s]
    let byCost = set.indices.sorted { p.cost[set[$0]][p.main] > p.cost[set[$1]][p.main] }
    do { return try pass(byCost, s, p, &used) } catch {
      let byMemory = set.indices.sorted { p.memory[set[$0]] > p.memory[set[$1]] }
      var retry = used
      guard let chosen = try? pass(byMemory, s, p, &retry) else { throw error }
      used = retry
      return chosen
    }
  }

  private func pass(_ order: [Int], _ s: Int, _ p: LaneProblem, _ used: inout [Int]) throws(PlanError) -> [Int] {
    let set = p.sets[s]
    var load = Array(repeating: 0.0, count: p.devices.count)
    var chosen = Array(repeating: p.main, count: set.count)
    var mem = used
    for k in order {
      let l = set[k]
      var best: Int?
      for d in load.indices where p.fits(l, d, mem) {
        if best == nil || p.added(l, to: load[d], on: d, set: s) < p.added(l, to: load[best!], on: best!, set: s) - 1e-15 {
          best = d
        }
      }
      guard let d = best else { throw p.noRoom(l, mem) }
      chosen[k] = d
      load[d] = p.added(l, to: load[d], on: d, set: s)
      mem[d] += p.memory[l]
    }
    used = mem
    return chosen
  }
}
