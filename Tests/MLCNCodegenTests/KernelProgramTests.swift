// The kernel program, checked without a device: buffers, parameters, copies and steps of
// placed graphs, and the one memory model (the planner's figure is the program's bytes).

import Foundation
import Testing
import MLCNBase
import MLCNCodegen
import MLCNFrontend
import MLCNGraph
import MLCNPlanner

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func graph(_ file: String, batch: Int = 2) throws -> Graph {
  var g = try Lowering.lower(source: SourceFile.load(path: root.appending(path: "graphs/\(file)").path), batch: batch)
  try PassPipeline.standard.run(&g)
  return g
}

func lower(_ text: String, batch: Int = 2) throws -> Graph {
  var g = try Lowering.lower(source: SourceFile(path: "t.mlcn", text: text), batch: batch)
  try PassPipeline.standard.run(&g)
  return g
}

let cpus = [DeviceDescriptor(name: "a", kind: .cpu, gflops: 100, bandwidthGBs: 20, memoryBytes: 8 << 30),
            DeviceDescriptor(name: "b", kind: .cpu, gflops: 100, bandwidthGBs: 20, memoryBytes: 8 << 30)]

@Test(arguments: ["lenet.mlcn", "capsnet.mlcn", "mlcn4.mlcn", "mlcn8.mlcn", "mlcn_hetero.mlcn", "cifar_conv.mlcn"])
func plannerMemoryEqualsTheProgramsBuffers(_ file: String) throws {
  let g = try graph(file)
  let kernels = Codegen.reporter()
  for strategy in [Strategy.single, .lanes] {
    let times = TimeModel(machine: Machine(devices: cpus), kernels: kernels)
    let plan = try Planner.plan(g, PlanRequest(strategy: strategy, times: times))
    let placement = try plan.placement(for: g)
    let program = KernelProgram.build(g, placement: placement, devices: cpus)
    let model = MemoryModel.bytesPerDevice(g, placement: placement, devices: cpus, kernels: kernels)
    #expect(program.bytesPerDevice == model, "\(file) \(strategy)")
    // One step per launch codegen reported, plus one per copy.
    let launches = g.ids.reduce(0) { $0 + kernels.footprint(of: $1, in: g, on: cpus[placement[$1.index]]).launches }
    let copies = program.steps.filter { if case .copy = $0.action { true } else { false } }.count
    #expect(program.steps.count == launches + copies)
    #expect(Set(program.parameters.map(\.value)) == Set(g.parameters), "every parameter is uploaded")
  }
}

@Test func aConvReadsItsParametersPackedInFilterBlocks() throws {
  let g = try lower("network t\ninput x: [N, 3, 8, 8]\na = conv2d(x, filters=6, kernel=3)\noutput a\n")
  let program = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [cpus[0]])
  // On a CPU, 6 filters are blocked by 8 (one AVX register): the weight is padded to 8 filters.
  let weight = try #require(program.buffers.first { $0.value == g.id(named: "a.weight") })
  #expect(weight.role == .parameter(.filterBlocked(8)) && weight.bytes == 8 * 3 * 3 * 3 * 4)
  let bias = try #require(program.buffers.first { $0.value == g.id(named: "a.bias") })
  #expect(bias.role == .parameter(.plain) && bias.bytes == 6 * 4)
  guard case .launch(let source, let kernel, let args, let global, let local) = try #require(program.steps.first?.action) else {
    Issue.record("expected a launch"); return
  }
  // 36 output pixels in tiles of 12, 1 filter block, batch 2; one work-item per group.
  #expect(kernel == "conv2d_cpu" && source.file == "conv2d_cpu.cl" && global == [3, 1, 2] && local == [1, 1, 1])
  #expect(source.options.contains("-DF=6") && source.options.contains("-DOCB=8") && source.options.contains("-DPX=12")
    && source.options.contains("-DACT_EXPR=v"))
  let ids = args.compactMap { if case .buffer(let b) = $0 { program.buffers[b].value } else { nil } }
  #expect(ids == [g.id(named: "x"), g.id(named: "a.weight"), g.id(named: "a.bias"), g.id(named: "a")])
}

@Test func aPaddedConvOnACPUCopiesItsInputIntoAZeroBorderFirst() throws {
  let g = try lower("network t\ninput x: [N, 3, 8, 8]\na = conv2d(x, filters=6, kernel=3, padding=[1, 2])\noutput a\n")
  let program = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [cpus[0]])
  let launches = program.steps.compactMap { if case .launch(let p, let k, let args, let global, _) = $0.action { (p, k, args, global) } else { nil } }
  #expect(launches.map(\.1) == ["pad_input", "conv2d_cpu"])
  #expect(launches[0].3 == [12, 10, 2 * 3], "the padded input: 8+2*2 wide, 8+2*1 high, per sample and channel")
  #expect(launches[1].0.options.contains("-DH=10") && launches[1].0.options.contains("-DW=12")
    && launches[1].0.options.contains("-DPH=0") && launches[1].0.options.contains("-DOW=10"))
  let scratch = try #require(program.buffers.first { $0.role == .scratch })
  #expect(scratch.bytes == 2 * 3 * 10 * 12 * 4)
  #expect(launches[0].2.last == launches[1].2.first, "the conv reads what the copy wrote")
}

@Test func theGPUVariantRunsOnePixelPerWorkItem() throws {
  let g = try lower("network t\ninput x: [N, 3, 8, 8]\na = conv2d(x, filters=6, kernel=3)\noutput a\n")
  let program = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [cpus[0]],
                                    options: CodegenOptions(variant: .gpu))
  guard case .launch(let source, let kernel, _, let global, let local) = try #require(program.steps.first?.action) else {
    Issue.record("expected a launch"); return
  }
  #expect(kernel == "conv2d" && source.file == "conv2d.cl" && global == [36, 2, 2] && local == nil)
  #expect(source.options.contains("-DFT=4"))
}

@Test func aTunedTileReplacesTheDefault() throws {
  let g = try lower("network t\ninput x: [N, 3, 8, 8]\na = conv2d(x, filters=32, kernel=3)\noutput a\n")
  var device = cpus[0]
  device.identity = "test-cpu"
  let (key, configs) = try #require(Codegen.candidates(for: g.id(named: "a")!, in: g, device: device))
  #expect(configs.contains(TileConfig(vector: 8, tile: 4)))
  var table = TuningTable()
  table.set(TileConfig(vector: 8, tile: 4), identity: "test-cpu", key: key)
  let program = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [device],
                                    options: CodegenOptions(tuning: table))
  guard case .launch(let source, _, _, let global, _) = try #require(program.steps.first?.action) else {
    Issue.record("expected a launch"); return
  }
  #expect(source.options.contains("-DOCB=8") && source.options.contains("-DPX=4") && global == [9, 4, 2])
  let weight = try #require(program.buffers.first { $0.value == g.id(named: "a.weight") })
  #expect(weight.role == .parameter(.filterBlocked(8)))
  // Another device's entry does not apply.
  let other = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [cpus[0]],
                                  options: CodegenOptions(tuning: table))
  guard case .launch(let defaults, _, _, _, _) = try #require(other.steps.first?.action) else { return }
  #expect(defaults.options.contains("-DOCB=16"))
}

@Test func capsuleWeightsPackPerInputCapsule() {
  // W[I=2, J=1, D=3, Din=2] blocked by 4 outputs: per i, [1 block][Din][4], zero-padded.
  let w: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
  let packed = WeightLayout.capsuleBlocked(4).pack(w, shape: [2, 1, 3, 2])
  #expect(packed == [1, 3, 5, 0, 2, 4, 6, 0, 7, 9, 11, 0, 8, 10, 12, 0])
  #expect(WeightLayout.capsuleBlocked(4).packedCount(shape: [2, 1, 3, 2]) == 16)
}

@Test func capsuleIntermediatesAreValuesWithBuffers() throws {
  let g = try lower("network t\ninput x: [N, 12, 4]\nc = capsule(x, caps=3, dim=5, routing=2)\noutput c\n")
  let c = try #require(g.id(named: "c"))
  #expect(g.name(of: ValueID(c.index, result: 1)) == "c.predictions" && g.type(of: ValueID(c.index, result: 1)).shape == [2, 12, 3, 5])
  #expect(g.name(of: ValueID(c.index, result: 2)) == "c.couplings" && g.type(of: ValueID(c.index, result: 2)).shape == [2, 12, 3])
  let program = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [cpus[0]])
  #expect(program.buffers.contains { $0.value == ValueID(c.index, result: 1) && $0.bytes == 2 * 12 * 3 * 5 * 4 })
  #expect(program.buffers.filter { $0.role == .scratch }.map(\.bytes) == [2 * 12 * 3 * 4], "only the logits are scratch")
  // On a CPU: the predictions, then every routing iteration in one kernel.
  let kernels = program.steps.compactMap { if case .launch(_, let k, _, _, _) = $0.action { k } else { nil } }
  #expect(kernels == ["caps_predict_cpu", "caps_route_cpu"])
  // On a GPU: predict, then per iteration softmax and weighted sum, and agreement between iterations.
  let gpu = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [cpus[0]],
                                options: CodegenOptions(variant: .gpu))
  let gpuKernels = gpu.steps.compactMap { if case .launch(_, let k, _, _, _) = $0.action { k } else { nil } }
  #expect(gpuKernels == ["caps_predict", "caps_softmax", "caps_weighted_sum", "caps_agree", "caps_softmax", "caps_weighted_sum"])
}

@Test func aValueReadOnAnotherDeviceIsCopiedOnce() throws {
  let g = try lower("network t\ninput x: [N, 4]\na = dense(x, units=3)\nb = tanh(a)\nc = sigmoid(a)\nd = add(b, c)\noutput d\n")
  // a on device 0; b, c, d on device 1: one copy of a, and x written to device 0 only.
  var placement = Array(repeating: 1, count: g.nodes.count)
  for name in ["x", "a.weight", "a.bias", "a"] { placement[g.id(named: name)!.index] = 0 }
  let program = KernelProgram.build(g, placement: placement, devices: cpus)
  let copies = program.steps.filter { if case .copy = $0.action { true } else { false } }
  #expect(copies.count == 1 && copies[0].node == "a" && copies[0].device == 1)
  #expect(program.inputs.count == 1 && program.buffers[program.inputs[0].buffer].device == 0)
  #expect(program.bytesPerDevice == MemoryModel.bytesPerDevice(g, placement: placement, devices: cpus, kernels: Codegen.reporter()))
  let reader = try #require(program.steps.first { $0.node == "b" })
  #expect(reader.reads == [copies[0].writes[0]], "b reads the copy")
}

@Test func newOpsHaveKernelsOrAreViews() throws {
  let g = try lower("network t\ninput x: [N, 3, 4, 5]\na = batchnorm(x, eps=0.001)\nb = leaky_relu(a, alpha=0.3)\nc = dropout(b, p=0.2)\ny = flatten(c)\noutput y\n")
  let program = KernelProgram.build(g, placement: Array(repeating: 0, count: g.nodes.count), devices: [cpus[0]])
  let launches = program.steps.compactMap { if case .launch(let p, let k, _, _, _) = $0.action { (p, k) } else { nil } }
  #expect(launches.map(\.1) == ["batchnorm_infer", "map1"], "dropout and flatten are views")
  #expect(launches[0].0.options.contains("-DEPS=0.001f"))
  #expect(launches[1].0.options == ["-DEXPR1=(x>0.0f?x:0.3f*x)"])
  #expect(program.parameters.count == 4, "weight, bias, running_mean, running_var")
}

@Test func aWeightThatAnotherKernelReadsStaysPlain() throws {
  // A gradient kernel reading a dense or capsule weight expects the contract layout: the
  // forward kernel then does not pack it (CPU: the simple dense kernel, per-step routing).
  for text in ["y = dense(x, units=20)", "r = reshape(x, shape=[-1, 4])\ny = capsule(r, caps=3, dim=8)"] {
    var g = try lower("network t\ninput x: [N, 24]\n\(text)\noutput y\n")
    let y = try #require(g.id(named: "y")), w = g.parameters(of: y)[0]
    #expect(Codegen.kernels(for: y, in: g, device: cpus[0]).weightLayouts[w] != nil, "packed when only y reads it")
    g.nodes.append(Node(name: "w2", op: .relu, inputs: [w], attributes: g[w].attributes, type: g.type(of: w),
                        lane: nil, location: g[w].location))
    let k = Codegen.kernels(for: y, in: g, device: cpus[0])
    #expect(k.weightLayouts[w] == nil, "\(text): plain when another node reads it")
    #expect(Codegen.candidates(for: y, in: g, device: cpus[0]) == nil)
    #expect(k.launches.allSatisfy { !$0.kernel.hasSuffix("_cpu") }, "\(k.launches.map(\.kernel))")
  }
}
