// The layer-wise search's cost model (OptCNN's, with this runtime's data movement):
//  - a node's time in a configuration is its slowest device's: the sum of its parts there,
//    each measured for that exact part shape when a run recorded it (cached per device
//    identity), else the whole op's measured time scaled by the part's share of the
//    roofline work, else the roofline (machine files);
//  - a crop, slice or gather is a copy: launch overhead plus reading and writing the bytes;
//  - an edge costs, for the producer's and reader's configurations, the bytes each reader
//    part needs from producer parts on other devices over the link between them (links
//    in parallel, each carrying its transfers one after another), plus the slices that
//    cut pieces out and the concats that join them;
//  - parameters replicated over several devices add their gradient synchronisation
//    (`GradientSync`; none at inference).

import MLCNBase
import MLCNGraph

public struct LayerwiseCostModel: Sendable {
  public var graph: Graph
  public var times: TimeModel
  public var sync: any GradientSync
  /// The result axes splits may use (all by default; model parallelism leaves out the batch).
  public var axes: @Sendable (Int) -> Bool = { _ in true }
  /// Most device subsets tried per axis: all subsets up to 4 devices, else the k fastest
  /// devices for every k (enumerating subsets of more would grow as 2^devices).
  public static let allSubsetsUpTo = 4

  /// Per node and device: kernel launches, and the whole op's seconds (asked once:
  /// codegen's report is not free, and the search asks for every part).
  let launches: [[Int]]
  let wholeSeconds: [[Double]]
  /// Per device, the whole network's seconds on it alone.
  let networkSeconds: [Double]

  public init(graph: Graph, times: TimeModel, sync: any GradientSync = NoGradientSync()) {
    self.graph = graph
    self.times = times
    self.sync = sync
    let devices = times.machine.devices
    launches = graph.ids.map { id in
      graph[id].op.isHostProvided ? [] : devices.map { times.kernels.footprint(of: id, in: graph, on: $0).launches }
    }
    let whole = graph.ids.map { id in
      graph[id].op.isHostProvided ? [] : devices.indices.map { times.seconds(id, in: graph, device: $0) }
    }
    wholeSeconds = whole
    networkSeconds = devices.indices.map { d in whole.reduce(0.0) { $0 + ($1.isEmpty ? 0 : $1[d]) } }
  }

  var machine: Machine { times.machine }

  /// The device subsets a node may be split over (two devices or more).
  public func subsets() -> [[Int]] {
    let n = machine.devices.count
    if n <= Self.allSubsetsUpTo {
      return (1..<(1 << n)).map { mask in (0..<n).filter { mask & (1 << $0) != 0 } }.filter { $0.count >= 2 }
    }
    let fastest = machine.devices.indices.sorted { machine.devices[$0].effectiveGFLOPS > machine.devices[$1].effectiveGFLOPS }
    return (2...n).map { Array(fastest.prefix($0)).sorted() }
  }

  /// Every configuration of node `id`: whole on each device, and for each axis it splits
  /// along and each device subset, ranges in proportion to the devices' speeds on the op.
  public func configurations(of id: ValueID, subsets: [[Int]]? = nil) -> [Configuration] {
    var out = machine.devices.indices.map(Configuration.whole)
    let whole = wholeSeconds[id.index]
    for (axis, unit) in SplitRules.axes(id, in: graph) where axes(axis) {
      let units = graph[id].type.shape[axis] / unit
      for set in subsets ?? self.subsets() where set.count <= units {
        // In proportion to the devices' speed on this op, and (when it differs) on the
        // whole network: consecutive layers split by the latter line up and exchange nothing.
        for speed in [whole, networkSeconds] {
          guard let c = proportional(axis: axis, unit: unit, units: units, set: set, seconds: speed), !out.contains(c) else { continue }
          out.append(c)
        }
      }
    }
    return out
  }

  /// Units one at a time to the device that would finish its share earliest.
  func proportional(axis: Int, unit: Int, units: Int, set: [Int], seconds: [Double]) -> Configuration? {
    var share = Array(repeating: 0, count: set.count)
    for _ in 0..<units {
      let k = set.indices.min { Double(share[$0] + 1) * seconds[set[$0]] < Double(share[$1] + 1) * seconds[set[$1]] }!
      share[k] += 1
    }
    guard !share.contains(0) else { return nil }
    var ranges: [Range<Int>] = []
    var lo = 0
    for s in share { ranges.append(lo..<(lo + s * unit)); lo += s * unit }
    return Configuration(axis: axis, devices: set, ranges: ranges)
  }

  /// Seconds of node `id` in configuration `c`: its slowest device.
  public func seconds(_ id: ValueID, _ c: Configuration) -> Double {
    let n = graph[id]
    if n.op.isView || n.op.isHostProvided { return 0 }
    guard let axis = c.axis else { return wholeSeconds[id.index][c.devices[0]] }
    var perDevice: [Int: Double] = [:]
    for (d, range) in zip(c.devices, c.ranges) {
      perDevice[d, default: 0] += partSeconds(id, SplitRules.part(id, in: graph, axis: axis, range: range), device: d)
    }
    var t = perDevice.values.max() ?? 0
    // Parameters every part reads whole are replicated over the parts' devices.
    let params = graph.parameters(of: id)
    if !params.isEmpty, SplitRules.part(id, in: graph, axis: axis, range: c.ranges[0]).parameters.allSatisfy({ $0 == .whole }) {
      t += sync.seconds(bytes: params.reduce(0) { $0 + graph.type(of: $1).bytes }, devices: Array(Set(c.devices)).sorted(), machine: machine)
    }
    return t
  }

  /// Seconds of one part on device `d`, its crop included.
  public func partSeconds(_ id: ValueID, _ spec: PartSpec, device d: Int) -> Double {
    let inputs = zip(graph.inputTypes(of: id), spec.operands).map { $1.type(of: $0) }
    var attributes = spec.attributes
    guard let output = try? graph[id].op.definition.infer(inputs, &attributes) else { return .infinity }
    var t = opSeconds(id, inputs: inputs, output: output, attributes: attributes, device: d)
    if spec.crop != .whole { t += copySeconds(spec.crop.type(of: output).bytes, on: d) }
    return t
  }

  /// Seconds of node `id`'s op on other operands (a part of it) on device `d`: measured
  /// for exactly these shapes, else the whole op's measured time scaled by the part's
  /// share of the roofline work, else the roofline.
  public func opSeconds(_ id: ValueID, inputs: [TensorType], output: TensorType, attributes: Attributes, device d: Int) -> Double {
    let n = graph[id], dev = machine.devices[d]
    let signature = MeasuredTimes.signature(n.op, inputs: inputs, output: output, attributes: attributes)
    if let key = dev.identity, let measured = times.measured.devices[key]?[signature] { return measured }
    let fixed = Double(launches[id.index][d]) * dev.launchOverheadSeconds
    let roof = CostModel.seconds(n.op.cost(inputs: inputs, output: output, attributes: attributes), launches: 0, on: dev)
    guard let whole = times.measured.seconds(id, in: graph, device: dev) else { return fixed + roof }
    let wholeRoof = CostModel.seconds(CostModel.cost(of: id, in: graph), launches: 0, on: dev)
    return fixed + max(0, whole - fixed) * (wholeRoof > 0 ? roof / wholeRoof : 1)
  }

  /// A copy kernel moving `bytes` within device `d`.
  public func copySeconds(_ bytes: Int, on d: Int) -> Double {
    let dev = machine.devices[d]
    return dev.launchOverheadSeconds + 2 * Double(bytes) / (dev.bandwidthGBs * 1e9)
  }

  /// The parts of value `v` (a result of node `v.index`) when that node is in `c`.
  public func layout(of v: ValueID, _ c: Configuration) -> [(device: Int, region: Region)] {
    guard let axis = c.axis else { return [(c.devices[0], .whole)] }
    if v.result == 0 { return c.parts }
    return zip(c.devices, c.ranges).map { d, r in
      (d, SplitRules.part(ValueID(v.index), in: graph, axis: axis, range: r).extraResults[v.result - 1])
    }
  }

  /// What reader `w` in configuration `c` needs of its operand `k`, per part.
  public func needs(_ w: ValueID, operand k: Int, _ c: Configuration) -> [(device: Int, region: Region)] {
    guard let axis = c.axis else { return [(c.devices[0], .whole)] }
    return zip(c.devices, c.ranges).map { d, r in (d, SplitRules.part(w, in: graph, axis: axis, range: r).operands[k]) }
  }

  /// Seconds to give every part of a reader the region it needs of a value laid out as `have`.
  public func transferSeconds(_ shape: [Int], have: [(device: Int, region: Region)],
                              need: [(device: Int, region: Region)]) -> Double {
    // Flat per-link and per-device sums: this runs for every pair of configurations of every edge.
    let n = machine.devices.count
    var link = Array(repeating: 0.0, count: n * n)
    var copying = Array(repeating: 0.0, count: n)
    let haveCounts = have.map { $0.region.count(in: shape) }
    for (d, wanted) in need {
      var pieces = 0
      for (k, (from, region)) in have.enumerated() {
        let overlap = region.overlap(wanted, in: shape)
        guard overlap > 0 else { continue }
        pieces += 1
        let bytes = overlap * 4
        if overlap < haveCounts[k] { copying[from] += copySeconds(bytes, on: from) }
        // Links carry both directions on one channel, as in the simulator.
        if from != d { link[min(from, d) * n + max(from, d)] += machine.transferSeconds(bytes, from: from, to: d) }
      }
      if pieces > 1 { copying[d] += copySeconds(wanted.count(in: shape) * 4, on: d) }
    }
    return (link.max() ?? 0) + (copying.max() ?? 0)
  }
}
