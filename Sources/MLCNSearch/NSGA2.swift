// NSGA-II (Deb et al. 2002): a multi-objective genetic algorithm. Every objective is
// minimised; constraints are handled by constrained domination, so a feasible candidate
// beats an infeasible one and of two infeasible ones the smaller violation wins.
//
// Algorithm (one generation):
//  1. Parents by binary tournament on (front rank, crowding distance).
//  2. Children by crossover (with probability `crossoverProbability`) and mutation.
//  3. Children are evaluated (a genome seen before is not evaluated again).
//  4. Parents and children are sorted into non-dominated fronts; whole fronts fill the next
//     population, and the front that does not fit is cut by crowding distance, widest first.
// Everything random is drawn from one seeded generator, in a fixed order: the same seed
// gives the same search.

import MLCNBase

/// What a candidate scored: objectives to minimise, and how far it breaks the constraints
/// (0 when it is feasible).
public struct Evaluation: Hashable, Sendable, Codable {
  public var objectives: [Double]
  public var violation: Double
  public init(objectives: [Double], violation: Double = 0) {
    self.objectives = objectives
    self.violation = violation
  }
  public var feasible: Bool { violation <= 0 }

  /// Constrained domination.
  public func dominates(_ other: Evaluation) -> Bool {
    if feasible != other.feasible { return feasible }
    if !feasible { return violation < other.violation }
    var better = false
    for i in objectives.indices {
      if objectives[i] > other.objectives[i] { return false }
      if objectives[i] < other.objectives[i] { better = true }
    }
    return better
  }
}

/// A search problem: how to make, recombine, vary and score genomes.
public protocol SearchProblem {
  associatedtype Genome: Hashable
  func random(_ rng: inout SplitMix64) -> Genome
  func crossover(_ a: Genome, _ b: Genome, _ rng: inout SplitMix64) -> (Genome, Genome)
  func mutate(_ g: Genome, _ rng: inout SplitMix64) -> Genome
  /// Scores several genomes at once (so that they can be evaluated side by side).
  func evaluate(_ genomes: [Genome]) throws -> [Evaluation]
}

public struct NSGA2<Problem: SearchProblem> {
  public struct Member {
    public var genome: Problem.Genome
    public var evaluation: Evaluation
    public var rank = 0
    public var crowding = 0.0
  }

  /// After each generation (0: the initial population): the population, and how many
  /// genomes have been evaluated so far.
  public typealias Progress = (_ generation: Int, _ population: [Member], _ evaluations: Int) -> Void

  public var problem: Problem
  public var populationSize: Int
  public var crossoverProbability = 0.9
  public private(set) var evaluations = 0
  private var rng: SplitMix64
  private var seen: [Problem.Genome: Evaluation] = [:]

  public init(problem: Problem, populationSize: Int, seed: UInt64) {
    self.problem = problem
    self.populationSize = populationSize
    self.rng = SplitMix64(seed: seed)
  }

  /// Runs `generations` generations and returns the final population, ranked.
  public mutating func run(generations: Int, progress: Progress? = nil) throws -> [Member] {
    var population = try evaluated((0..<populationSize).map { _ in problem.random(&rng) })
    Self.rankAndCrowd(&population)
    progress?(0, population, evaluations)
    for generation in stride(from: 1, through: generations, by: 1) {
      var children: [Problem.Genome] = []
      while children.count < populationSize {
        let a = tournament(population), b = tournament(population)
        var (x, y) = (a, b)
        if unit() < crossoverProbability { (x, y) = problem.crossover(a, b, &rng) }
        children.append(problem.mutate(x, &rng))
        if children.count < populationSize { children.append(problem.mutate(y, &rng)) }
      }
      population = survivors(population + (try evaluated(children)))
      progress?(generation, population, evaluations)
    }
    return population
  }

  /// The first front of `members`.
  public static func front(_ members: [Member]) -> [Member] {
    let fronts = nonDominatedSort(members.map(\.evaluation))
    return fronts.first.map { $0.map { members[$0] } } ?? []
  }

  // MARK: - The operators

  private mutating func unit() -> Double { rng.nextDouble() }

  private mutating func evaluated(_ genomes: [Problem.Genome]) throws -> [Member] {
    // New genomes in order of first appearance (a fixed order, whatever the hash seed).
    var ordered: [Problem.Genome] = [], queued = Set<Problem.Genome>()
    for g in genomes where seen[g] == nil && queued.insert(g).inserted { ordered.append(g) }
    if !ordered.isEmpty {
      let scores = try problem.evaluate(ordered)
      for (g, s) in zip(ordered, scores) { seen[g] = s }
      evaluations += ordered.count
    }
    return genomes.map { Member(genome: $0, evaluation: seen[$0]!) }
  }

  private mutating func tournament(_ population: [Member]) -> Problem.Genome {
    let a = population[Int(rng.next() % UInt64(population.count))]
    let b = population[Int(rng.next() % UInt64(population.count))]
    if a.rank != b.rank { return a.rank < b.rank ? a.genome : b.genome }
    return a.crowding >= b.crowding ? a.genome : b.genome
  }

  private func survivors(_ all: [Member]) -> [Member] {
    var all = all
    var next: [Member] = []
    for front in Self.rankAndCrowd(&all) {
      let members = front.map { all[$0] }
      if next.count + members.count <= populationSize {
        next += members
      } else {
        next += members.sorted { $0.crowding > $1.crowding }.prefix(populationSize - next.count)
        break
      }
    }
    return next
  }

  /// Sets each member's front rank and crowding distance; returns the fronts.
  @discardableResult
  static func rankAndCrowd(_ members: inout [Member]) -> [[Int]] {
    let fronts = nonDominatedSort(members.map(\.evaluation))
    for (rank, front) in fronts.enumerated() {
      let crowding = crowdingDistances(front.map { members[$0].evaluation.objectives })
      for (k, i) in front.enumerated() {
        members[i].rank = rank
        members[i].crowding = crowding[k]
      }
    }
    return fronts
  }

  // MARK: - Sorting and crowding

  /// Fast non-dominated sorting: indices of `points`, front by front.
  public static func nonDominatedSort(_ points: [Evaluation]) -> [[Int]] {
    var dominatedBy = Array(repeating: 0, count: points.count)   // how many dominate i
    var dominates = Array(repeating: [Int](), count: points.count)
    for i in points.indices {
      for j in points.indices where i != j {
        if points[i].dominates(points[j]) { dominates[i].append(j) } else if points[j].dominates(points[i]) { dominatedBy[i] += 1 }
      }
    }
    var fronts: [[Int]] = []
    var current = points.indices.filter { dominatedBy[$0] == 0 }
    while !current.isEmpty {
      fronts.append(current)
      var next: [Int] = []
      for i in current {
        for j in dominates[i] {
          dominatedBy[j] -= 1
          if dominatedBy[j] == 0 { next.append(j) }
        }
      }
      current = next.sorted()
    }
    return fronts
  }

  /// Crowding distance of each point of one front: the sum over objectives of the gap
  /// between its neighbours, normalised by the objective's range; the extremes are infinite.
  public static func crowdingDistances(_ objectives: [[Double]]) -> [Double] {
    let n = objectives.count
    var distance = Array(repeating: 0.0, count: n)
    guard n > 2 else { return Array(repeating: .infinity, count: n) }
    for m in objectives[0].indices {
      let order = (0..<n).sorted { (objectives[$0][m], $0) < (objectives[$1][m], $1) }
      let low = objectives[order[0]][m], high = objectives[order[n - 1]][m]
      distance[order[0]] = .infinity
      distance[order[n - 1]] = .infinity
      guard high > low else { continue }
      for k in 1..<(n - 1) {
        distance[order[k]] += (objectives[order[k + 1]][m] - objectives[order[k - 1]][m]) / (high - low)
      }
    }
    return distance
  }
}

extension SplitMix64 {
  /// Uniform in [0, 1), with 53 random bits.
  public mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// The area (two objectives, both minimised) dominated by `points` and bounded by `reference`.
public func hypervolume(_ points: [(Double, Double)], reference: (Double, Double)) -> Double {
  var volume = 0.0, ceiling = reference.1
  for (x, y) in points.filter({ $0.0 < reference.0 && $0.1 < reference.1 }).sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) })
  where y < ceiling {
    volume += (reference.0 - x) * (ceiling - y)
    ceiling = y
  }
  return volume
}
