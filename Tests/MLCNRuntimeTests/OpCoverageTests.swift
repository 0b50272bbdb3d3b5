// Every op of the IR has a kernel and a reference: each op's example network (declared in
// its own file) runs on the default OpenCL device and must match tools/mlcn_ref.py.

import Foundation
import Testing
import MLCNCodegen
import MLCNDriver
import MLCNGraph
import MLCNRuntime
import MLCNFormats
import MLCNFrontend

@Test func everyOpHasAnExample() {
  for op in OpKind.callable { #expect(op.definition.example != nil, "no example network for \(op)") }
}

@Test(arguments: OpKind.callable)
func opMatchesTheReference(_ op: OpKind) throws {
  let example = op.definition.example
  let sample = try #require(example)
  let c = try TestSupport.referenceCase(TestSupport.sourceOf(sample).text, batch: 2)
  let fused = c.graph.nodes.contains { $0.attributes["act"] == .string(op.rawValue) }
  #expect(c.graph.nodes.contains { $0.op == op } || fused, "the sample lost its \(op) to a pass")
  let device = try #require(try TestSupport.devices().first)
  let exec = try TestSupport.executor(c.graph, devices: [device], weights: c.weights)
  let got = try exec.run(c.inputs)["y"]!
  #expect(got.shape == c.expected["y"]!.shape)
  let cmp = TestSupport.compare(got, c.expected["y"]!)
  #expect(cmp.ok, "\(op): \(cmp)")
}

@Test(arguments: OpKind.callable)
func theGPUVariantMatchesTheReferenceOnPoCL(_ op: OpKind) throws {
  // GPUs get other kernels than CPUs; force them here so they are checked without a GPU.
  let example = op.definition.example
  let sample = try #require(example)
  let c = try TestSupport.referenceCase(TestSupport.sourceOf(sample).text, batch: 2)
  let device = try #require(try TestSupport.devices().first)
  let exec = try TestSupport.executor(c.graph, devices: [device], weights: c.weights,
                                      options: CodegenOptions(gemm: .builtin, variant: .gpu))
  let cmp = TestSupport.compare(try exec.run(c.inputs)["y"]!, c.expected["y"]!)
  #expect(cmp.ok, "\(op): \(cmp)")
}

@Test(arguments: [OpKind.conv2d, .primaryCaps, .dense, .capsule], [CodegenOptions.Variant.cpu, .gpu])
func everyTileCandidateMatchesTheReference(_ op: OpKind, _ variant: CodegenOptions.Variant) throws {
  // What `mlcnc tune` may choose must compute the same as the defaults. Odd sizes (7
  // filters, 3 samples) leave partial tiles.
  let text: String
  switch op {
  case .conv2d: text = "y = conv2d(x, filters=19, kernel=3, padding=1, act=relu)"
  case .primaryCaps: text = "y = primary_caps(x, caps=4, dim=4, kernel=3, stride=2)"
  case .dense: text = "f = flatten(x)\ny = dense(f, units=19, act=tanh)"
  // Capsules of 8 (vectors) with one routing iteration, then of 6 (scalars) with three.
  default: text = "r = reshape(x, shape=[-1, 4])\na = capsule(r, caps=3, dim=8, routing=1)\ny = capsule(a, caps=2, dim=6, routing=3)"
  }
  let c = try TestSupport.referenceCase("network t\ninput x: [N, 4, 7, 7]\n\(text)\noutput y\n", batch: 3)
  let device = try #require(try TestSupport.devices().first)
  let descriptor = device.descriptor(bandwidthGBs: 10)
  let id = try #require(c.graph.nodes.indices.map { ValueID($0) }.first { c.graph[$0].op == op })
  guard let (key, configs) = Codegen.candidates(for: id, in: c.graph, device: descriptor, options: CodegenOptions(variant: variant)) else {
    #expect(variant == .gpu && [.dense, .capsule].contains(op), "\(op) on \(variant) has no tile choice")
    return
  }
  #expect(configs.count > 1)
  for config in configs {
    var table = TuningTable()
    table.set(config, identity: device.compilerIdentity, key: key)
    let exec = try TestSupport.executor(c.graph, devices: [device], weights: c.weights,
                                        options: CodegenOptions(variant: variant, tuning: table))
    let cmp = TestSupport.compare(try exec.run(c.inputs)["y"]!, c.expected["y"]!)
    #expect(cmp.ok, "\(op) \(variant) \(config): \(cmp)")
  }
}

@Test func binaryCacheServesTheSecondBuild() throws {
  let device = try #require(try TestSupport.devices().first)
  let dir = TestSupport.tempDir()
  let g = try Compiler.graph(TestSupport.sourceOf(DenseOp.example!), options: CompileOptions(batch: 1))
  let weights = Weights.initialize(g, seed: 3)
  let x = ["x": MLCNFormats.HostTensor(shape: [1, 6], data: [1, 2, 3, 4, 5, 6])]
  let first = ProgramCache(directory: dir)
  let a = try TestSupport.executor(g, devices: [device], weights: weights, programs: first).run(x)
  #expect(first.compiledFromSource == 1 && first.loadedFromDisk == 0)
  let second = ProgramCache(directory: dir)
  let b = try TestSupport.executor(g, devices: [device], weights: weights, programs: second).run(x)
  #expect(second.compiledFromSource == 0 && second.loadedFromDisk == 1)
  #expect(a == b)
}

@Test func aBrokenKernelReportsItsBuildLog() throws {
  let device = try #require(try TestSupport.devices().first)
  let g = try Compiler.graph(TestSupport.sourceOf(TanhOp.example!), options: CompileOptions(batch: 1))
  let ctx = try CLContext(devices: [device])
  let broken = ProgramSource(file: "elementwise.cl", options: ["-DEXPR1=undefined_function(x)"])
  #expect { _ = try ProgramCache(directory: nil).program(broken, context: ctx, device: device, purpose: "op 'y'") } throws: { e in
    guard let e = e as? CLError else { return false }
    return e.call == "clBuildProgram" && e.codeName == "CL_BUILD_PROGRAM_FAILURE" && e.description.contains("undefined_function")
      && e.description.contains("op 'y'")
  }
  _ = g
}

extension TestSupport {
  static func sourceOf(_ sample: OpExample) -> MLCNFrontend.SourceFile {
    MLCNFrontend.SourceFile(path: "sample.mlcn", text: "network sample\ninput x: \(sample.input)\n\(sample.body)\noutput y\n")
  }
}

@Test func denseThroughCLBlastMatchesTheReference() throws {
  // CLBlast serves dense layers on GPUs; force it here so the path is checked on PoCL too.
  let text = "network sample\ninput x: [N, 37]\nh = dense(x, units=19, act=relu)\ny = dense(h, units=5, bias=false)\noutput y\n"
  let c = try TestSupport.referenceCase(text, batch: 3)
  let device = try #require(try TestSupport.devices().first)
  let exec = try TestSupport.executor(c.graph, devices: [device], weights: c.weights, options: CodegenOptions(gemm: .clblast))
  let got = try exec.run(c.inputs)["y"]!
  let cmp = TestSupport.compare(got, c.expected["y"]!)
  #expect(cmp.ok, "\(cmp)")
  #expect(exec.timings().contains { $0.kernel == "CLBlastSgemm" })
}

@Test(arguments: ["y = conv2d(x, filters=40, kernel=3, padding=1, act=relu)",
                  "y = primary_caps(x, caps=8, dim=8, kernel=3)"])
func aChannelBlockedConvMatchesTheReference(_ body: String) throws {
  // More than 32 input channels: the CPU kernel walks them in blocks over several tiles.
  let c = try TestSupport.referenceCase("network t\ninput x: [N, 40, 6, 6]\n\(body)\noutput y\n", batch: 3)
  let device = try #require(try TestSupport.devices().first)
  let id = try #require(c.graph.id(named: "y"))
  let launch = try #require(Codegen.kernels(for: id, in: c.graph, device: device.descriptor(bandwidthGBs: 10)).launches
    .first { $0.kernel == "conv2d_cpu" })
  #expect(launch.program.options.contains("-DCB=32") && !launch.program.options.contains("-DTPW=1"), "\(launch.program.options)")
  let exec = try TestSupport.executor(c.graph, devices: [device], weights: c.weights)
  let cmp = TestSupport.compare(try exec.run(c.inputs)["y"]!, c.expected["y"]!)
  #expect(cmp.ok, "\(body): \(cmp)")
}
