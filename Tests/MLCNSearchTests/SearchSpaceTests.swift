import Foundation
import MLCNBase
import MLCNDriver
import MLCNFrontend
import Testing

@testable import MLCNSearch

let mlcnSpace = #"""
  {"kind": "mlcn", "input": [1, 28, 28], "classes": 10, "lanes": [1, 6],
   "conv_filters": [8, 16, 32], "conv_kernel": [5, 7, 9], "primary_caps": [4, 8, 16], "primary_dim": [4, 8],
   "primary_kernel": [5, 6], "primary_stride": [2], "class_dim": [2, 4, 8], "routing": [1, 2, 3]}
  """#
let cnnSpace = #"""
  {"kind": "cnn", "input": [3, 32, 32], "classes": 10, "depth": [1, 3], "filters": [8, 16], "kernel": [3, 5],
   "dense": [32, 64]}
  """#

/// Every candidate, after any number of crossovers and mutations, compiles to a verified
/// graph with the space's classes as its output, and its lanes are the genome's.
@Test(arguments: [mlcnSpace, cnnSpace])
func candidatesCompile(_ json: String) throws {
  let space = try SearchSpace.decode(Data(json.utf8), file: "space.json")
  var rng = SplitMix64(seed: 3)
  var genomes = (0..<12).map { _ in space.random(&rng) }
  for _ in 0..<30 {
    let (a, b) = space.crossover(genomes[Int(rng.next() % 12)], genomes[Int(rng.next() % 12)], &rng)
    genomes.append(space.mutate(a, &rng))
    genomes.append(space.mutate(b, &rng))
  }
  for g in genomes {
    #expect(g.count == space.geneCount)
    #expect(space.problem(g) == nil)
    let graph = try Pipeline.ir(SourceFile(path: "\(space.name(g)).mlcn", text: space.source(g)), batch: 2)
    #expect(graph.type(of: graph.outputs[0].value).shape == [2, 10])
    if space.kind == .mlcn {
      #expect(space.source(g).components(separatedBy: "lane l").count - 1 == space.count.lowerBound + g[0])
    }
  }
}

@Test func mutationChangesTheNetwork() throws {
  let space = try SearchSpace.decode(Data(mlcnSpace.utf8), file: "space.json")
  var rng = SplitMix64(seed: 9)
  for _ in 0..<50 {
    let g = space.random(&rng)
    #expect(space.key(space.mutate(g, &rng)) != space.key(g))
  }
}

@Test func badSpacesAreNamed() {
  func message(_ json: String) -> String {
    do { _ = try SearchSpace.decode(Data(json.utf8), file: "s.json"); return "" } catch { return "\(error)" }
  }
  #expect(message("[]").contains("s.json: not a JSON object"))
  #expect(message(#"{"kind": "rnn"}"#).contains(#""kind" must be "mlcn" or "cnn""#))
  #expect(message(#"{"kind": "cnn", "input": [1, 28], "classes": 10}"#).contains(#""input" must have 3 values"#))
  #expect(message(mlcnSpace.replacingOccurrences(of: #""routing": [1, 2, 3]"#, with: #""routing": [], "x": 1"#))
    .contains(#""routing" must be a non-empty list"#))
  #expect(message(mlcnSpace.replacingOccurrences(of: #""routing""#, with: #""x": 1, "routing""#)).contains(#"unknown key "x""#))
}
