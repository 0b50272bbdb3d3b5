// Every op of the IR has a kernel and a reference: a one-op network per OpKind runs on
// the default OpenCL device and must match tools/mlcn_ref.py.

import Foundation
import Testing
import MLCNCodegen
import MLCNDriver
import MLCNGraph
import MLCNRuntime
import MLCNFormats
import MLCNFrontend

/// A small network exercising each op (with non-default attributes where there are any).
let opSamples: [OpKind: (input: String, body: String)] = [
  .conv2d: ("[N, 3, 8, 8]", "y = conv2d(x, filters=5, kernel=3, stride=2, padding=1, act=tanh)"),
  .maxpool2d: ("[N, 2, 7, 7]", "y = maxpool2d(x, kernel=3, stride=2, padding=1)"),
  .avgpool2d: ("[N, 2, 7, 7]", "y = avgpool2d(x, kernel=3, stride=2, padding=1)"),
  .dense: ("[N, 6]", "y = dense(x, units=4, act=sigmoid)"),
  .flatten: ("[N, 2, 3, 4]", "a = relu(x)\ny = flatten(a)"),
  .reshape: ("[N, 2, 3, 4]", "a = tanh(x)\ny = reshape(a, shape=[4, -1])"),
  .relu: ("[N, 3, 5]", "a = reshape(x, shape=[15])\nb = dense(a, units=6)\nc = relu(b)\ny = add(c, b)"),
  .sigmoid: ("[N, 3, 5]", "y = sigmoid(x)"),
  .tanh: ("[N, 3, 5]", "y = tanh(x)"),
  .softmax: ("[N, 3, 5]", "y = softmax(x, axis=1)"),
  .add: ("[N, 3, 5]", "a = tanh(x)\ny = add(x, a)"),
  .concat: ("[N, 3, 5]", "a = tanh(x)\ny = concat(x, a, x, axis=1)"),
  .squash: ("[N, 4, 6]", "y = squash(x)"),
  .length: ("[N, 4, 6]", "y = length(x)"),
  .primaryCaps: ("[N, 3, 9, 9]", "y = primary_caps(x, caps=2, dim=3, kernel=3, stride=2)"),
  .capsule: ("[N, 12, 4]", "y = capsule(x, caps=3, dim=5, routing=3)"),
]

@Test func everyOpHasASample() {
  for op in OpKind.callable { #expect(opSamples[op] != nil, "no sample network for \(op)") }
}

@Test(arguments: OpKind.callable)
func opMatchesTheReference(_ op: OpKind) throws {
  guard let sample = opSamples[op] else { return }
  let text = "network sample\ninput x: \(sample.input)\n\(sample.body)\noutput y\n"
  let c = try TestSupport.referenceCase(text, batch: 2)
  #expect(c.graph.nodes.contains { $0.op == op } || op.activation != nil, "the sample lost its \(op) to a pass")
  let device = try #require(try TestSupport.devices().first)
  let cache = ProgramCache(directory: nil)
  let exec = try Executor(graph: c.graph, placement: Array(repeating: 0, count: c.graph.nodes.count),
                          devices: [device], weights: c.weights, programs: cache)
  let got = try exec.run(c.inputs)["y"]!
  #expect(got.shape == c.expected["y"]!.shape)
  let cmp = TestSupport.compare(got, c.expected["y"]!)
  #expect(cmp.ok, "\(op): \(cmp)")
}

@Test func binaryCacheServesTheSecondBuild() throws {
  let device = try #require(try TestSupport.devices().first)
  let dir = TestSupport.tempDir()
  let g = try Compiler.graph(TestSupport.sourceOf(opSamples[.dense]!), options: CompileOptions(batch: 1))
  let weights = Weights.initialize(g, seed: 3)
  let x = ["x": MLCNFormats.HostTensor(shape: [1, 6], data: [1, 2, 3, 4, 5, 6])]
  let first = ProgramCache(directory: dir)
  let a = try Executor(graph: g, placement: [0, 0], devices: [device], weights: weights, programs: first).run(x)
  #expect(first.compiledFromSource == 1 && first.loadedFromDisk == 0)
  let second = ProgramCache(directory: dir)
  let b = try Executor(graph: g, placement: [0, 0], devices: [device], weights: weights, programs: second).run(x)
  #expect(second.compiledFromSource == 0 && second.loadedFromDisk == 1)
  #expect(a == b)
}

@Test func aBrokenKernelReportsItsBuildLog() throws {
  let device = try #require(try TestSupport.devices().first)
  let g = try Compiler.graph(TestSupport.sourceOf(opSamples[.tanh]!), options: CompileOptions(batch: 1))
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
  static func sourceOf(_ sample: (input: String, body: String)) -> MLCNFrontend.SourceFile {
    MLCNFrontend.SourceFile(path: "sample.mlcn", text: "network sample\ninput x: \(sample.input)\n\(sample.body)\noutput y\n")
  }
}

@Test func denseThroughCLBlastMatchesTheReference() throws {
  // CLBlast serves dense layers on GPUs; force it here so the path is checked on PoCL too.
  let text = "network sample\ninput x: [N, 37]\nh = dense(x, units=19, act=relu)\ny = dense(h, units=5, bias=false)\noutput y\n"
  let c = try TestSupport.referenceCase(text, batch: 3)
  let device = try #require(try TestSupport.devices().first)
  let exec = try Executor(graph: c.graph, placement: Array(repeating: 0, count: c.graph.nodes.count), devices: [device],
                          weights: c.weights, programs: ProgramCache(directory: nil), options: CodegenOptions(gemm: .clblast))
  let got = try exec.run(c.inputs)["y"]!
  let cmp = TestSupport.compare(got, c.expected["y"]!)
  #expect(cmp.ok, "\(cmp)")
  #expect(exec.timings().contains { $0.kernel == "CLBlastSgemm" })
}
