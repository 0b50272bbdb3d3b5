// Random lane placement (seeded): each lane on a device drawn uniformly among those with
// room for it. The baseline the MLCN paper's greedy heuristic beats.

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

/// A small seedable generator (SplitMix64), so seeded results are the same on every platform.
public struct SplitMix64: Sendable {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in [0, 1).
  public mutating func nextUnit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
