// Split ops must compute what whole ops do: every op kind, split along each axis it
// allows over 2 and 3 devices (unequal parts), runs through the expanded graph and must
// match the unsplit run within 1e-5 relative. Three devices are three queues over the
// available OpenCL devices (a device may appear twice: two queues on it).

import Foundation
import MLCNBase
import Testing
import MLCNCodegen
import MLCNDriver
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

enum LayerwiseSupport {
  /// The devices for `count` plan devices: the real ones, reused in turn when there are fewer.
  static func devices(_ count: Int) throws -> [CLDevice] {
    let all = try TestSupport.devices()
    try #require(!all.isEmpty)
    return (0..<count).map { all[$0 % all.count] }
  }

  /// Runs `g` with `configurations` on `devices` (expanded through SplitGraph).
  static func run(_ g: Graph, _ configurations: [Configuration], devices: [CLDevice], weights: [String: HostTensor],
                  inputs: [String: HostTensor], cache: ProgramCache) throws -> [String: HostTensor] {
    let split = try SplitGraph.build(g, configurations: configurations)
    let program = KernelProgram.build(split.graph, placement: split.placement,
                                      devices: devices.map { $0.descriptor(bandwidthGBs: 10) })
    let executor = try Executor(program: program, graph: split.graph, devices: devices,
                                parameters: SplitRunner.parameters(weights, for: split), programs: cache)
    return try SplitRunner(executor: executor, split: split).run(inputs)
  }

  /// A network at `batch` with seeded weights and inputs, and its outputs run whole on
  /// one device: what every split of it must reproduce.
  struct Case {
    let graph: Graph
    let weights: [String: HostTensor]
    let inputs: [String: HostTensor]
    let cache = ProgramCache(directory: nil)
    /// Every node whole on device 0.
    let whole: [Configuration]
    let expected: [String: HostTensor]

    init(_ text: String, path: String, batch: Int, weightSeed: UInt64, inputSeed: UInt64) throws {
      graph = try Compiler.graph(MLCNFrontend.SourceFile(path: path, text: text), options: CompileOptions(batch: batch))
      weights = Weights.initialize(graph, seed: weightSeed)
      inputs = LayerwiseSupport.input(graph, seed: inputSeed)
      whole = graph.ids.map { _ in Configuration.whole(0) }
      expected = try LayerwiseSupport.run(graph, whole, devices: try LayerwiseSupport.devices(1), weights: weights,
                                          inputs: inputs, cache: cache)
    }

    func run(_ configurations: [Configuration], devices: [CLDevice]) throws -> [String: HostTensor] {
      try LayerwiseSupport.run(graph, configurations, devices: devices, weights: weights, inputs: inputs, cache: cache)
    }
  }

  /// Unequal parts of `extent` (whole `unit`s) over `parts` devices: the first gets the most.
  static func ranges(_ extent: Int, unit: Int, parts: Int) -> [Range<Int>] {
    let units = extent / unit
    var sizes = Array(repeating: units / parts, count: parts)
    for i in 0..<(units % parts) { sizes[i] += 1 }
    if sizes[parts - 1] > 1 { sizes[0] += 1; sizes[parts - 1] -= 1 }  // unequal on purpose
    var lo = 0
    return sizes.map { s in
      defer { lo += s * unit }
      return lo..<(lo + s * unit)
    }
  }

  static func input(_ g: Graph, seed: UInt64) -> [String: HostTensor] {
    var rng = SplitMix64(seed: seed)
    var out: [String: HostTensor] = [:]
    for id in g.inputs {
      let t = g[id].type
      out[g[id].name] = HostTensor(shape: t.shape, data: (0..<t.count).map { _ in rng.nextUnit() * 2 - 1 })
    }
    return out
  }
}

/// Networks that exercise each op's splits: the op examples plus spatial cases with
/// padding and strides, a chain that stays split, and capsules.
let splitCases: [(name: String, text: String)] = OpKind.callable.map { op in
  let e = op.definition.example!
  return (op.rawValue, "network t\ninput x: \(e.input)\n\(e.body)\noutput y\n")
} + [
  ("conv_same", "network t\ninput x: [N, 3, 9, 7]\ny = conv2d(x, filters=6, kernel=3, padding=same, act=relu)\noutput y\n"),
  ("conv_stride", "network t\ninput x: [N, 2, 11, 10]\ny = conv2d(x, filters=4, kernel=[5, 3], stride=[3, 2], padding=[2, 1])\noutput y\n"),
  ("maxpool_pad", "network t\ninput x: [N, 2, 9, 9]\na = tanh(x)\ny = maxpool2d(a, kernel=3, stride=2, padding=1)\noutput y\n"),
  ("chain", "network t\ninput x: [N, 3, 10, 10]\na = conv2d(x, filters=8, kernel=3, padding=1)\nb = relu(a)\nc = conv2d(b, filters=6, kernel=3)\ny = avgpool2d(c, kernel=2)\noutput y\n"),
  ("primary_caps_wide", "network t\ninput x: [N, 2, 10, 10]\ny = primary_caps(x, caps=4, dim=3, kernel=3, stride=2)\noutput y\n"),
]

@Test(arguments: splitCases.map(\.name))
func everySplitOfEveryOpMatchesTheWholeOp(_ name: String) throws {
  let text = splitCases.first { $0.name == name }!.text
  let c = try LayerwiseSupport.Case(text, path: "\(name).mlcn", batch: 5, weightSeed: 3, inputSeed: 5)
  let g = c.graph
  var tried = 0
  for count in [2, 3] {
    let devices = try LayerwiseSupport.devices(count)
    for id in g.ids where !g[id].op.isHostProvided {
      for (axis, unit) in SplitRules.axes(id, in: g) where g[id].type.shape[axis] / unit >= count {
        var configurations = c.whole
        // The node split; its readers stay whole on the last device, so the parts are gathered there.
        configurations = configurations.map { _ in .whole(count - 1) }
        configurations[id.index] = Configuration(axis: axis, devices: Array(0..<count),
                                                 ranges: LayerwiseSupport.ranges(g[id].type.shape[axis], unit: unit, parts: count))
        let got = try c.run(configurations, devices: devices)
        for (out, expected) in c.expected {
          let cmp = TestSupport.compare(got[out]!, expected, rtol: 1e-5)
          #expect(cmp.ok, "\(name): '\(g[id].name)' split along axis \(axis) over \(count) devices: \(cmp)")
        }
        tried += 1
      }
    }
  }
  #expect(tried > 0, "no split was tried")
}

@Test func consecutiveLayersSplitAlikeExchangeNothing() throws {
  let text = "network t\ninput x: [N, 3, 10, 10]\na = conv2d(x, filters=8, kernel=3, padding=1)\nb = relu(a)\ny = maxpool2d(b, kernel=2)\noutput y\n"
  let g = try Compiler.graph(MLCNFrontend.SourceFile(path: "t.mlcn", text: text), options: CompileOptions(batch: 2))
  // Every node split along the channels the same way: no slice, no gather, no copy.
  let c = Configuration(axis: 1, devices: [0, 1], ranges: [0..<5, 5..<8])
  let split = try SplitGraph.build(g, configurations: g.ids.map { _ in c })
  #expect(!split.graph.nodes.contains { $0.op == .slice || $0.op == .concat })
  let program = KernelProgram.build(split.graph, placement: split.placement,
                                    devices: [cpuDescriptor("d0"), cpuDescriptor("d1")])
  #expect(!program.steps.contains { if case .copy = $0.action { true } else { false } })
  #expect(split.outputs.map(\.region) == [.range(axis: 1, 0..<5), .range(axis: 1, 5..<8)])
  // Spatial split of the conv over rows 0..<4 and 4..<10: with padding 1 its parts read
  // input rows 0..<5 and 3..<10 (a one-row halo each side of the cut).
  var configurations = g.ids.map { _ in Configuration.whole(0) }
  let conv = try #require(g.ids.first { g[$0].op == .conv2d })
  configurations[conv.index] = Configuration(axis: 2, devices: [0, 1], ranges: [0..<4, 4..<10])
  let halo = try SplitGraph.build(g, configurations: configurations)
  #expect(halo.inputs.map(\.region) == [.range(axis: 2, 0..<5), .range(axis: 2, 3..<10)])
}

func cpuDescriptor(_ name: String) -> DeviceDescriptor {
  DeviceDescriptor(name: name, kind: .cpu, gflops: 100, bandwidthGBs: 20, memoryBytes: 8 << 30)
}

@Test func randomConfigurationsOfEveryNodeMatchTheWholeNetwork() throws {
  // Two lanes of conv -> primary capsules -> capsules, joined: every node takes a random
  // configuration of those the search considers, so splits meet other splits (channels
  // gathered for a caps split read by a sample split, and so on) in every combination.
  let text = """
    network t
    input x: [N, 1, 12, 12]
    lanes L[2] {
      h = conv2d(x, filters=6, kernel=3, act=relu)
      p = primary_caps(h, caps=4, dim=3, kernel=3, stride=2)
      c = capsule(p, caps=3, dim=2, routing=2)
      yield c
    }
    v = concat(L, axis=-1)
    y = length(v)
    output y
    """
  let c = try LayerwiseSupport.Case(text, path: "t.mlcn", batch: 4, weightSeed: 4, inputSeed: 6)
  let g = c.graph
  let model = LayerwiseCostModel(graph: g, times: TimeModel(machine: Machine(devices: [cpuDescriptor("d0"), cpuDescriptor("d1")]),
                                                            kernels: Codegen.reporter()))
  let devices = try LayerwiseSupport.devices(2)
  var rng = SplitMix64(seed: 21)
  for trial in 0..<8 {
    var configurations = c.whole
    for id in g.ids where !g[id].op.isHostProvided {
      let options = model.configurations(of: id)
      configurations[id.index] = options[Int(rng.next() % UInt64(options.count))]
    }
    let got = try c.run(configurations, devices: devices)
    let cmp = TestSupport.compare(got["y"]!, c.expected["y"]!, rtol: 1e-5)
    let described = g.ids.filter { !g[$0].op.isHostProvided }.map { "\(g[$0].name): \(configurations[$0.index])" }
    #expect(cmp.ok, "trial \(trial): \(cmp)\n\(described.joined(separator: "\n"))")
  }
}
