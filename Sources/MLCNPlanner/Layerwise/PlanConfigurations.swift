// Reading a plan's split ops back: the configuration of every node, checked against the
// graph, the batch and the devices, with errors that name the op and what is wrong.

import MLCNGraph

extension Plan {
  /// Whether the plan splits some op other than as one batch split for every op (which
  /// the data-parallel runner executes with a replica per device).
  public func isLayerwise(for g: Graph) -> Bool {
    guard ops.contains(where: { $0.parts != nil }) else { return false }
    return ((try? batchSplit(for: g)) ?? nil) == nil
  }

  /// The configuration of every node of `g` (inputs and parameters get a placeholder),
  /// with `devices` the indices of the plan's device names among the target's.
  public func configurations(for g: Graph, devices: [String]) throws(PlanError) -> [Configuration] {
    var byName: [String: Op] = [:]
    for op in ops {
      guard byName[op.name] == nil else { throw PlanError("op '\(op.name)' is listed twice in the plan") }
      byName[op.name] = op
    }
    func device(_ name: String, _ op: String) throws(PlanError) -> Int {
      guard let d = devices.firstIndex(of: name) else {
        throw PlanError("op '\(op)' is placed on unknown device '\(name)' (devices: \(devices.joined(separator: ", ")))")
      }
      return d
    }
    var out = Array(repeating: Configuration.whole(0), count: g.nodes.count)
    for id in g.ids where !g[id].op.isHostProvided {
      let name = g[id].name
      guard let op = byName.removeValue(forKey: name) else { throw PlanError("the plan does not place op '\(name)'") }
      if let parts = op.parts {
        guard op.device == nil else { throw PlanError("op '\(name)' has both a device and parts") }
        out[id.index] = try configuration(of: id, in: g, parts: parts) { n throws(PlanError) in try device(n, name) }
      } else if let d = op.device {
        out[id.index] = .whole(try device(d, name))
      } else {
        throw PlanError("op '\(name)' has neither a device nor parts")
      }
    }
    if let extra = byName.keys.sorted().first {
      throw PlanError("the plan places op '\(extra)', which network '\(g.name)' does not have")
    }
    return out
  }

  private func configuration(of id: ValueID, in g: Graph, parts: [Part],
                             device: (String) throws(PlanError) -> Int) throws(PlanError) -> Configuration {
    let n = g[id], shape = n.type.shape
    guard !parts.isEmpty else { throw PlanError("op '\(n.name)' has an empty list of parts") }
    let axis = parts[0].axis
    guard parts.allSatisfy({ $0.axis == axis }) else {
      throw PlanError("op '\(n.name)': all parts must split the same axis, got axes \(parts.map(\.axis))")
    }
    let allowed = SplitRules.axes(id, in: g)
    guard let rule = allowed.first(where: { $0.axis == axis }) else {
      let list = allowed.isEmpty ? "it cannot be split" : "it splits along axis " + allowed.map { String($0.axis) }.joined(separator: ", ")
      throw PlanError("op '\(n.name)' (\(n.op.rawValue), result \(n.type)) cannot be split along axis \(axis): \(list)")
    }
    var next = 0
    var devices: [Int] = [], ranges: [Range<Int>] = []
    for p in parts {
      guard p.range.count == 2, p.range[0] == next, p.range[1] > p.range[0] else {
        throw PlanError("op '\(n.name)': part ranges must cover axis \(axis) (size \(shape[axis])) in order without gaps or overlaps, got \(parts.map(\.range))")
      }
      guard p.range[0] % rule.unit == 0, p.range[1] % rule.unit == 0 else {
        throw PlanError("op '\(n.name)': parts along axis \(axis) must start and end on multiples of \(rule.unit), got \(p.range)")
      }
      devices.append(try device(p.device))
      ranges.append(p.range[0]..<p.range[1])
      next = p.range[1]
    }
    guard next == shape[axis] else {
      throw PlanError("op '\(n.name)': the parts cover 0..<\(next) of axis \(axis), which has size \(shape[axis])"
        + (axis == 0 ? " (the batch; was the plan made for another --batch?)" : ""))
    }
    if parts.count == 1 { return .whole(devices[0]) }
    return Configuration(axis: axis, devices: devices, ranges: ranges)
  }
}
