// A search space: a family of networks described by a JSON file (DESIGN.md section 8).
// A candidate is a genome, one choice index per gene, and becomes `.mlcn` source.
//
//   {"kind": "mlcn", "input": [1, 28, 28], "classes": 10, "lanes": [2, 6],
//    "conv_filters": [8, 16, 32], "conv_kernel": [5, 7, 9], "primary_caps": [4, 8, 16],
//    "primary_dim": [4, 8], "primary_kernel": [5, 6], "primary_stride": [2],
//    "class_dim": [2, 4, 8], "routing": [1, 2, 3]}
//   {"kind": "cnn", "input": [1, 28, 28], "classes": 10, "depth": [1, 3],
//    "filters": [8, 16, 32], "kernel": [3, 5], "dense": [32, 64, 128]}
//
// Genome layout: gene 0 picks the lane count (mlcn) or depth (cnn) from its range; then
// one block of genes per lane (or conv layer), for as many as the range allows; a cnn
// ends with the dense width. Blocks beyond the chosen count are carried but unused, so
// crossover can swap whole lanes and mutation can bring a lane back.

import Foundation
import MLCNBase

public struct SearchSpace: Sendable, Hashable {
  public enum Kind: String, Sendable { case mlcn, cnn }
  public var kind: Kind
  /// Sample shape without the batch axis: [C, H, W].
  public var input: [Int]
  public var classes: Int
  /// Inclusive range of the lane count (mlcn) or conv depth (cnn).
  public var count: ClosedRange<Int>
  /// Gene names of one block, with their choices.
  public var block: [(name: String, choices: [Int])]
  /// Genes after the blocks (cnn: the dense width).
  public var tail: [(name: String, choices: [Int])]

  public static func == (a: SearchSpace, b: SearchSpace) -> Bool { a.description == b.description }
  public func hash(into h: inout Hasher) { h.combine(description) }
  var description: String { "\(kind) \(input) \(classes) \(count) \(block.map { "\($0.name)=\($0.choices)" }) \(tail.map { "\($0.name)=\($0.choices)" })" }

  static let blockKeys: [Kind: [String]] = [
    .mlcn: ["conv_filters", "conv_kernel", "primary_caps", "primary_dim", "primary_kernel", "primary_stride", "class_dim", "routing"],
    .cnn: ["filters", "kernel"],
  ]

  public static func load(_ path: String) throws -> SearchSpace {
    guard let data = FileManager.default.contents(atPath: path) else { throw SearchError("\(path): cannot read the search space") }
    return try decode(data, file: path)
  }

  public static func decode(_ data: Data, file: String) throws -> SearchSpace {
    func bad(_ m: String) -> SearchError { SearchError("\(file): \(m)") }
    guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw bad("not a JSON object") }
    guard let kindName = root["kind"] as? String, let kind = Kind(rawValue: kindName) else {
      throw bad("\"kind\" must be \"mlcn\" or \"cnn\"")
    }
    func ints(_ key: String, count: Int? = nil) throws -> [Int] {
      guard let list = root[key] as? [Any], !list.isEmpty else { throw bad("\"\(key)\" must be a non-empty list of integers") }
      let values = try list.map { v throws -> Int in
        guard let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded(), n.intValue >= 1, n.intValue <= 1 << 20 else {
          throw bad("\"\(key)\" must hold integers from 1 to \(1 << 20)")
        }
        return n.intValue
      }
      if let count, values.count != count { throw bad("\"\(key)\" must have \(count) values") }
      return values
    }
    let input = try ints("input", count: 3)
    guard let classes = (root["classes"] as? NSNumber)?.intValue, classes >= 2, classes <= 1 << 16 else {
      throw bad("\"classes\" must be an integer of at least 2")
    }
    let rangeKey = kind == .mlcn ? "lanes" : "depth"
    let range = try ints(rangeKey, count: 2)
    guard range[0] <= range[1], range[1] <= 64 else { throw bad("\"\(rangeKey)\" must be [low, high] with low <= high <= 64") }
    let block = try blockKeys[kind]!.map { ($0, try ints($0)) }
    let tail = kind == .cnn ? [("dense", try ints("dense"))] : []
    let known = Set(["kind", "input", "classes", rangeKey] + blockKeys[kind]! + tail.map(\.0))
    if let unknown = root.keys.sorted().first(where: { !known.contains($0) }) {
      throw bad("unknown key \"\(unknown)\" for kind \"\(kind.rawValue)\" (known: \(known.sorted().joined(separator: ", ")))")
    }
    return SearchSpace(kind: kind, input: input, classes: classes, count: range[0]...range[1], block: block, tail: tail)
  }

  // MARK: - Genomes

  public var geneCount: Int { 1 + count.upperBound * block.count + tail.count }

  /// How many choices gene `i` has.
  func choices(ofGene i: Int) -> Int {
    if i == 0 { return count.count }
    let b = i - 1
    if b < count.upperBound * block.count { return block[b % block.count].choices.count }
    return tail[b - count.upperBound * block.count].choices.count
  }

  public func random(_ rng: inout SplitMix64) -> [Int] {
    (0..<geneCount).map { Int(rng.next() % UInt64(choices(ofGene: $0))) }
  }

  /// Uniform crossover of whole blocks (a lane travels with all its genes), and of the
  /// count and tail genes.
  public func crossover(_ a: [Int], _ b: [Int], _ rng: inout SplitMix64) -> ([Int], [Int]) {
    var x = a, y = b
    func swap(_ range: Range<Int>) { for i in range { (x[i], y[i]) = (y[i], x[i]) } }
    if rng.next() & 1 == 1 { swap(0..<1) }
    for l in 0..<count.upperBound where rng.next() & 1 == 1 { swap((1 + l * block.count)..<(1 + (l + 1) * block.count)) }
    let tailStart = 1 + count.upperBound * block.count
    for i in tailStart..<geneCount where rng.next() & 1 == 1 { swap(i..<(i + 1)) }
    return (x, y)
  }

  /// Each gene in use (with a choice to make) is drawn again with probability 1 / (such
  /// genes), and at least one is.
  public func mutate(_ g: [Int], _ rng: inout SplitMix64) -> [Int] {
    var g = g
    let used = usedGenes(g).filter { choices(ofGene: $0) > 1 }
    guard !used.isEmpty else { return g }
    let forced = used[Int(rng.next() % UInt64(used.count))]
    for i in used where i == forced || rng.nextDouble() < 1 / Double(used.count) {
      let n = choices(ofGene: i)
      g[i] = (g[i] + 1 + Int(rng.next() % UInt64(n - 1))) % n  // a different choice
    }
    return g
  }

  func usedGenes(_ g: [Int]) -> [Int] {
    let blocks = count.lowerBound + g[0]
    return [0] + Array(1..<(1 + blocks * block.count)) + Array((1 + count.upperBound * block.count)..<geneCount)
  }

  // MARK: - Networks

  /// The value of gene `name` in block `b`.
  func value(_ g: [Int], block b: Int, _ name: String) -> Int {
    let k = block.firstIndex { $0.name == name }!
    return block[k].choices[g[1 + b * block.count + k]]
  }

  /// A candidate's identity: the genes it uses, as values.
  public func key(_ g: [Int]) -> String {
    let blocks = count.lowerBound + g[0]
    var parts = (0..<blocks).map { b in block.map { "\(value(g, block: b, $0.name))" }.joined(separator: ".") }
    for (k, t) in tail.enumerated() { parts.append("\(t.name)\(t.choices[g[1 + count.upperBound * block.count + k]])") }
    return "\(kind.rawValue)-" + parts.joined(separator: "-")
  }

  /// A short stable name: `mlcn_` or `cnn_` and 8 hex digits of the key's FNV-1a hash.
  public func name(_ g: [Int]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in key(g).utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return "\(kind.rawValue)_" + String(String(h, radix: 16).suffix(8))
  }

  /// Why the candidate cannot be built (a layer that does not fit its input), or nil.
  public func problem(_ g: [Int]) -> String? {
    let blocks = count.lowerBound + g[0]
    switch kind {
    case .mlcn:
      for l in 0..<blocks {
        let conv = input[1] - value(g, block: l, "conv_kernel") + 1
        let pk = value(g, block: l, "primary_kernel")
        if conv < pk { return "lane \(l): primary_caps kernel \(pk) is larger than its \(conv)x\(conv) input" }
      }
    case .cnn:
      var size = min(input[1], input[2])
      for l in 0..<blocks {
        if size < 2 { return "conv layer \(l + 1): its input is smaller than the 2x2 pooling" }
        size /= 2
      }
    }
    return nil
  }

  /// The candidate as `.mlcn` source.
  public func source(_ g: [Int]) -> String {
    let blocks = count.lowerBound + g[0]
    let shape = "[N, " + input.map(String.init).joined(separator: ", ") + "]"
    var out = "# Generated by `mlcnc search` from the \(kind.rawValue) space: \(key(g))\nnetwork \(name(g))\ninput x: \(shape)\n"
    switch kind {
    case .mlcn:
      for l in 0..<blocks {
        func v(_ n: String) -> Int { value(g, block: l, n) }
        out += """
          lane l\(l) {
            h = conv2d(x, filters=\(v("conv_filters")), kernel=\(v("conv_kernel")), act=relu)
            p = primary_caps(h, caps=\(v("primary_caps")), dim=\(v("primary_dim")), kernel=\(v("primary_kernel")), stride=\(v("primary_stride")))
            c = capsule(p, caps=\(classes), dim=\(v("class_dim")), routing=\(v("routing")))
            yield c
          }

          """
      }
      let lanes = (0..<blocks).map { "l\($0)" }
      out += blocks == 1 ? "y = length(l0)\n" : "v = concat(\(lanes.joined(separator: ", ")), axis=-1)\ny = length(v)\n"
    case .cnn:
      var last = "x"
      for l in 0..<blocks {
        let k = value(g, block: l, "kernel")
        out += "c\(l + 1) = conv2d(\(last), filters=\(value(g, block: l, "filters")), kernel=\(k), padding=\(k / 2), act=relu)\n"
        out += "p\(l + 1) = maxpool2d(c\(l + 1), kernel=2)\n"
        last = "p\(l + 1)"
      }
      let dense = tail[0].choices[g[1 + count.upperBound * block.count]]
      out += "f = flatten(\(last))\nd = dense(f, units=\(dense), act=relu)\nz = dense(d, units=\(classes))\ny = softmax(z)\n"
    }
    return out + "output y\n"
  }
}

public struct SearchError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { "error: \(message)" }
}
