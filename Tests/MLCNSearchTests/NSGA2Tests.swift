import Foundation
import MLCNBase
import Testing

@testable import MLCNSearch

/// Random points in [0, 1)^m, some of them infeasible.
private func randomPoints(_ n: Int, objectives m: Int, _ rng: inout SplitMix64, infeasible: Bool) -> [Evaluation] {
  (0..<n).map { _ in
    Evaluation(objectives: (0..<m).map { _ in (rng.nextDouble() * 8).rounded() / 8 },  // ties on purpose
               violation: infeasible && rng.nextDouble() < 0.2 ? (rng.nextDouble() * 4).rounded() : 0)
  }
}

/// Fronts by definition: repeatedly take the points nothing left dominates.
private func bruteForceFronts(_ points: [Evaluation]) -> [Set<Int>] {
  var left = Set(points.indices), fronts: [Set<Int>] = []
  while !left.isEmpty {
    let front = left.filter { i in !left.contains { j in points[j].dominates(points[i]) } }
    fronts.append(front)
    left.subtract(front)
  }
  return fronts
}

struct Problem: SearchProblem {
  func random(_ rng: inout SplitMix64) -> Int { 0 }
  func crossover(_ a: Int, _ b: Int, _ rng: inout SplitMix64) -> (Int, Int) { (a, b) }
  func mutate(_ g: Int, _ rng: inout SplitMix64) -> Int { g }
  func evaluate(_ genomes: [Int]) throws -> [Evaluation] { [] }
}

@Test func nonDominatedSortingAgreesWithTheDefinition() {
  var rng = SplitMix64(seed: 7)
  for trial in 0..<40 {
    let points = randomPoints(5 + trial, objectives: 2 + trial % 3, &rng, infeasible: trial % 2 == 1)
    let fronts = NSGA2<Problem>.nonDominatedSort(points).map(Set.init)
    #expect(fronts == bruteForceFronts(points), "trial \(trial)")
  }
}

@Test func crowdingDistanceAgreesWithTheDefinition() {
  var rng = SplitMix64(seed: 11)
  for trial in 0..<30 {
    let n = 3 + trial, m = 2 + trial % 3
    // Distinct values, so each point's neighbours along an objective are well defined.
    let points = (0..<n).map { _ in (0..<m).map { _ in rng.nextDouble() } }
    let got = NSGA2<Problem>.crowdingDistances(points)
    for i in 0..<n {
      var expected = 0.0
      for k in 0..<m {
        let values = points.map { $0[k] }
        let below = values.filter { $0 < values[i] }.max(), above = values.filter { $0 > values[i] }.min()
        guard let below, let above else { expected = .infinity; break }
        expected += (above - below) / (values.max()! - values.min()!)
      }
      #expect(got[i] == expected || abs(got[i] - expected) <= 1e-12 * expected, "trial \(trial) point \(i)")
    }
  }
}

/// ZDT1 and ZDT2 (Zitzler, Deb and Thiele 2000): 30 variables in [0, 1]; the optimal
/// fronts are f2 = 1 - sqrt(f1) and f2 = 1 - f1^2. Simulated binary crossover
/// (distribution index 10) and polynomial mutation (index 5): the NSGA-II paper's
/// operators, with the wider spreads that converge within the 300 generations used here.
struct ZDT: SearchProblem {
  var convex: Bool
  let n = 30

  func random(_ rng: inout SplitMix64) -> [Double] { (0..<n).map { _ in rng.nextDouble() } }

  func crossover(_ a: [Double], _ b: [Double], _ rng: inout SplitMix64) -> ([Double], [Double]) {
    var x = a, y = b
    for i in 0..<n where rng.nextDouble() < 0.5 {
      let u = rng.nextDouble()
      let beta = u <= 0.5 ? pow(2 * u, 1 / 11) : pow(1 / (2 * (1 - u)), 1 / 11)
      x[i] = min(max(0.5 * ((1 + beta) * a[i] + (1 - beta) * b[i]), 0), 1)
      y[i] = min(max(0.5 * ((1 - beta) * a[i] + (1 + beta) * b[i]), 0), 1)
    }
    return (x, y)
  }

  func mutate(_ g: [Double], _ rng: inout SplitMix64) -> [Double] {
    var g = g
    for i in 0..<n where rng.nextDouble() < 1 / Double(n) {
      let u = rng.nextDouble()
      let delta = u < 0.5 ? pow(2 * u, 1 / 6) - 1 : 1 - pow(2 * (1 - u), 1 / 6)
      g[i] = min(max(g[i] + delta, 0), 1)
    }
    return g
  }

  func evaluate(_ genomes: [[Double]]) throws -> [Evaluation] {
    genomes.map { x in
      let g = 1 + 9 * x.dropFirst().reduce(0, +) / Double(n - 1)
      let f2 = convex ? g * (1 - (x[0] / g).squareRoot()) : g * (1 - (x[0] / g) * (x[0] / g))
      return Evaluation(objectives: [x[0], f2])
    }
  }
}

/// Hypervolume of the final front with reference point (1, 1): the optimal fronts
/// dominate 2/3 (ZDT1) and 1/3 (ZDT2) of the unit square.
@Test(arguments: [(true, 2.0 / 3.0), (false, 1.0 / 3.0)])
func nsga2ReachesTheZDTFronts(convex: Bool, optimum: Double) throws {
  var search = NSGA2(problem: ZDT(convex: convex), populationSize: 100, seed: 1)
  let population = try search.run(generations: 300)
  let front = NSGA2<ZDT>.front(population).map { ($0.evaluation.objectives[0], $0.evaluation.objectives[1]) }
  let volume = hypervolume(front, reference: (1, 1))
  #expect(volume >= 0.98 * optimum, "ZDT\(convex ? 1 : 2): hypervolume \(volume), optimum \(optimum)")
  #expect(volume <= optimum)
  #expect(search.evaluations <= 100 * 301)
}

@Test func theSameSeedGivesTheSameSearch() throws {
  func run(_ seed: UInt64) throws -> [[Double]] {
    var search = NSGA2(problem: ZDT(convex: true), populationSize: 20, seed: seed)
    return try search.run(generations: 5).map(\.evaluation.objectives)
  }
  #expect(try run(3) == run(3))
  #expect(try run(3) != run(4))
}

@Test func hypervolumeOfAStaircase() {
  #expect(hypervolume([(0.5, 0.5)], reference: (1, 1)) == 0.25)
  #expect(hypervolume([(0, 0.5), (0.5, 0), (0.6, 0.6)], reference: (1, 1)) == 0.75)
  #expect(hypervolume([(2, 0)], reference: (1, 1)) == 0)
}
