// The architecture search of `mlcnc search`: NSGA-II over a search space, each candidate
// scored once (the scores are kept in DIR/evaluated.json, so a rerun resumes where the
// last one stopped), with progress after every generation.

import Foundation
import MLCNBase

/// A network of the space, ready to score.
public struct Candidate: Sendable {
  public var genome: [Int]
  public var name: String
  public var source: String
}

public struct ArchitectureSearch {
  public var space: SearchSpace
  public var objectives: [Objective]
  public var population: Int
  public var generations: Int
  public var seed: UInt64
  /// Where the cache and the results go.
  public var directory: URL
  /// What the scores depend on besides the network (machine, data, epochs, batch): a
  /// cache made with other settings is not reused.
  public var settings: String
  /// Scores candidates not scored before (several at once, so that the caller may train
  /// them side by side).
  public var score: ([Candidate]) throws -> [CandidateScore]
  /// One line per generation.
  public var progress: (String) -> Void

  public init(space: SearchSpace, objectives: [Objective], population: Int, generations: Int, seed: UInt64,
              directory: URL, settings: String, score: @escaping ([Candidate]) throws -> [CandidateScore],
              progress: @escaping (String) -> Void) {
    self.space = space
    self.objectives = objectives
    self.population = population
    self.generations = generations
    self.seed = seed
    self.directory = directory
    self.settings = settings
    self.score = score
    self.progress = progress
  }

  public struct Result {
    /// The Pareto-optimal feasible candidates, by the first objective.
    public var front: [(candidate: Candidate, score: CandidateScore)]
    /// Every candidate scored (this run or an earlier one), by name.
    public var scored: [String: CandidateScore]
    public var evaluations: Int
    /// Scores taken from the cache of an earlier run.
    public var reused: Int
  }

  public func run() throws -> Result {
    let cache = ScoreCache(file: directory.appendingPathComponent("evaluated.json"), settings: settings)
    let problem = Problem(search: self, cache: cache)
    var nsga = NSGA2(problem: problem, populationSize: population, seed: seed)
    let started = Date()
    let final = try nsga.run(generations: generations) { generation, members, evaluations in
      let elapsed = Date().timeIntervalSince(started)
      let eta = generation == 0 ? nil : elapsed / Double(generation) * Double(generations - generation)
      progress(progressLine(generation, members, cache.scores.count, eta: eta))
    }
    var seen = Set<String>()
    let front = NSGA2<Problem>.front(final).filter { $0.evaluation.feasible }.compactMap { m -> (Candidate, CandidateScore)? in
      let name = space.name(m.genome)
      guard seen.insert(name).inserted, let s = cache.scores[name] else { return nil }
      return (Candidate(genome: m.genome, name: name, source: space.source(m.genome)), s)
    }.sorted { ($0.1.evaluation(objectives).objectives.first ?? 0, $0.0.name) < ($1.1.evaluation(objectives).objectives.first ?? 0, $1.0.name) }
    return Result(front: front, scored: cache.scores, evaluations: nsga.evaluations, reused: cache.reused)
  }

  private func progressLine(_ generation: Int, _ members: [NSGA2<Problem>.Member], _ scored: Int, eta: Double?) -> String {
    let feasible = members.filter(\.evaluation.feasible)
    var bests: [String] = []
    for (k, o) in objectives.enumerated() {
      guard let best = feasible.map({ $0.evaluation.objectives[k] }).min() else { continue }
      switch o {
      case .accuracy: bests.append(String(format: "accuracy %.3f", 1 - best))
      case .latency: bests.append(String(format: "latency %.3f ms", best * 1000))
      case .memory: bests.append(String(format: "memory %.1f MiB", best / 1048576))
      case .balance: bests.append(String(format: "balance %.3f", best))
      }
    }
    let etaText = eta.map { String(format: ", ETA %.0f s", $0) } ?? ""
    return "generation \(generation)/\(generations): \(scored) candidates scored, \(feasible.count)/\(members.count) feasible; best "
      + (bests.isEmpty ? "none yet" : bests.joined(separator: ", ")) + etaText
  }

  /// NSGA-II's view: genomes of the space, scored through the cache.
  struct Problem: SearchProblem {
    var search: ArchitectureSearch
    var cache: ScoreCache

    func random(_ rng: inout SplitMix64) -> [Int] { search.space.random(&rng) }
    func crossover(_ a: [Int], _ b: [Int], _ rng: inout SplitMix64) -> ([Int], [Int]) { search.space.crossover(a, b, &rng) }
    func mutate(_ g: [Int], _ rng: inout SplitMix64) -> [Int] { search.space.mutate(g, &rng) }

    func evaluate(_ genomes: [[Int]]) throws -> [Evaluation] {
      let space = search.space
      var fresh: [Candidate] = [], names = Set<String>()
      for g in genomes {
        let name = space.name(g)
        guard cache.scores[name] == nil, names.insert(name).inserted else { continue }
        if let why = space.problem(g) {
          // Cannot be built: infeasible, far worse than any network that merely does not fit.
          cache.scores[name] = CandidateScore(name: name, latencySeconds: .greatestFiniteMagnitude, memoryBytes: 0, balance: 0,
                                              violation: 1e9, why: why)
          continue
        }
        fresh.append(Candidate(genome: g, name: name, source: space.source(g)))
      }
      if !fresh.isEmpty {
        for s in try search.score(fresh) { cache.scores[s.name] = s }
        cache.save()
      }
      return genomes.map { cache.scores[space.name($0)]!.evaluation(search.objectives) }
    }
  }
}

/// Candidate scores kept between runs, valid for one set of settings.
final class ScoreCache {
  let file: URL
  let settings: String
  var scores: [String: CandidateScore] = [:]
  private(set) var reused = 0

  struct Stored: Codable {
    var settings: String
    var candidates: [String: CandidateScore]
  }

  init(file: URL, settings: String) {
    self.file = file
    self.settings = settings
    if let data = try? Data(contentsOf: file), let stored = try? JSONDecoder().decode(Stored.self, from: data),
       stored.settings == settings {
      scores = stored.candidates
      reused = scores.count
    }
  }

  func save() {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try? encoder.encode(Stored(settings: settings, candidates: scores)).write(to: file, options: .atomic)
  }
}
