// Random lane placement (seeded): each lane on a device drawn uniformly among those with
// room for it. The baseline the MLCN paper's greedy heuristic beats.

import MLCNBase

struct RandomBalancer: LaneBalancer {
  var rng: SplitMix64

  mutating func place(_ s: Int, in p: LaneProblem, used: inout [Int]) throws(PlanError) -> [Int] {
    var chosen: [Int] = []
    for l in p.sets[s] {
      let candidates = p.devices.indices.filter { p.fits(l, $0, used) }
      guard !candidates.isEmpty else { throw p.noRoom(l, used) }
      let d = candidates[Int(rng.next() % UInt64(candidates.count))]
      used[d] += p.memory[l]
      chosen.append(d)
    }
    return chosen
  }
}

