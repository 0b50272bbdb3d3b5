// What `mlcnc search` leaves in its output folder: each Pareto-optimal network as a
// `.mlcn` (its trained weights beside it, written when it was scored), `pareto.json`
// (DESIGN.md section 8), `pareto.md` (the same as a table) and `front.svg`, every scored
// candidate plotted with the front marked: accuracy against latency when accuracy is an
// objective, else the first two objectives.

import Foundation

public enum ParetoReport {
  public static func write(_ result: ArchitectureSearch.Result, objectives: [Objective], to dir: URL) throws {
    var entries: [[String: Any]] = []
    for (candidate, score) in result.front {
      let file = "\(candidate.name).mlcn"
      try write(candidate.source, dir.appendingPathComponent(file))
      entries.append(["network": file, "weights": score.weights ?? NSNull(), "accuracy": score.accuracy ?? NSNull(),
                      "latency_seconds": score.latencySeconds, "memory_bytes": score.memoryBytes, "balance": score.balance])
    }
    let json = try JSONSerialization.data(withJSONObject: entries, options: [.prettyPrinted, .sortedKeys])
    try write(String(decoding: json, as: UTF8.self) + "\n", dir.appendingPathComponent("pareto.json"))
    try write(table(result), dir.appendingPathComponent("pareto.md"))
    try write(svg(result, objectives: objectives), dir.appendingPathComponent("front.svg"))
  }

  public static func table(_ result: ArchitectureSearch.Result) -> String {
    var out = "| network | accuracy | latency ms | peak memory MiB | balance | lanes/layers |\n|---|---|---|---|---|---|\n"
    for (c, s) in result.front {
      let acc = s.accuracy.map { String(format: "%.4f", $0) } ?? "-"
      let shape = c.source.split(separator: "\n").first.map { $0.components(separatedBy: "space: ").last ?? "" } ?? ""
      out += String(format: "| %@ | %@ | %.3f | %.2f | %.3f | %@ |\n", c.name, acc, s.latencySeconds * 1000,
                    Double(s.memoryBytes) / 1048576, s.balance, shape)
    }
    return out
  }

  static func write(_ text: String, _ url: URL) throws {
    do { try text.write(to: url, atomically: true, encoding: .utf8) } catch {
      throw SearchError("\(url.path): cannot write (\(error.localizedDescription))")
    }
  }

  /// A scatter plot: grey dots for every feasible candidate, the front in red, joined.
  static func svg(_ result: ArchitectureSearch.Result, objectives: [Objective]) -> String {
    let (xo, yo): (Objective, Objective) = objectives.contains(.accuracy)
      ? (objectives.first { $0 != .accuracy } ?? .latency, .accuracy) : (objectives[0], objectives[1])
    func value(_ s: CandidateScore, _ o: Objective) -> Double {
      switch o {
      case .accuracy: s.accuracy ?? 0
      case .latency: s.latencySeconds * 1000
      case .memory: Double(s.memoryBytes) / 1048576
      case .balance: s.balance
      }
    }
    func label(_ o: Objective) -> String {
      switch o { case .accuracy: "accuracy"; case .latency: "latency (ms per batch)"; case .memory: "peak memory per device (MiB)"; case .balance: "balance (max / mean busy)" }
    }
    let all = result.scored.values.filter { $0.violation <= 0 }.map { (value($0, xo), value($0, yo)) }
    let front = result.front.map { (value($0.score, xo), value($0.score, yo)) }.sorted { $0.0 < $1.0 }
    let xs = all.map(\.0) + front.map(\.0), ys = all.map(\.1) + front.map(\.1)
    let (x0, x1) = (xs.min() ?? 0, max(xs.max() ?? 1, (xs.min() ?? 0) + 1e-9))
    let (y0, y1) = (ys.min() ?? 0, max(ys.max() ?? 1, (ys.min() ?? 0) + 1e-9))
    let (w, h, m) = (640.0, 420.0, 60.0)
    func px(_ x: Double) -> Double { m + (x - x0) / (x1 - x0) * (w - 2 * m) }
    func py(_ y: Double) -> Double { h - m - (y - y0) / (y1 - y0) * (h - 2 * m) }
    var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
    out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    out += "<line x1=\"\(m)\" y1=\"\(h - m)\" x2=\"\(w - m)\" y2=\"\(h - m)\" stroke=\"black\"/>\n"
    out += "<line x1=\"\(m)\" y1=\"\(m)\" x2=\"\(m)\" y2=\"\(h - m)\" stroke=\"black\"/>\n"
    for t in 0...4 {
      let fx = x0 + (x1 - x0) * Double(t) / 4, fy = y0 + (y1 - y0) * Double(t) / 4
      out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3g</text>\n", px(fx), h - m + 16, fx)
      out += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", m - 6, py(fy) + 4, fy)
    }
    out += "<text x=\"\(w / 2)\" y=\"\(h - 16)\" text-anchor=\"middle\">\(label(xo))</text>\n"
    out += "<text x=\"16\" y=\"\(h / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(h / 2))\">\(label(yo))</text>\n"
    for (x, y) in all { out += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#999\"/>\n", px(x), py(y)) }
    if front.count > 1 {
      out += "<polyline fill=\"none\" stroke=\"#d22\" points=\"" + front.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ") + "\"/>\n"
    }
    for (x, y) in front { out += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#d22\"/>\n", px(x), py(y)) }
    out += "<text x=\"\(w - m)\" y=\"\(m - 20)\" text-anchor=\"end\" fill=\"#d22\">Pareto front (\(front.count))</text>\n"
    return out + "</svg>\n"
  }
}
