// `mlcnc eval`: accuracy and mean loss of a network (or package) with given weights on an
// .npz data set, in inference mode (DESIGN.md section 7).

import ArgumentParser
import Foundation
import MLCNDriver
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNRuntime

struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Report accuracy and loss on an .npz data set (inference mode).")

  @Argument(help: "A network (.mlcn) or a package (.mlcnpkg).") var network: String
  @Option(help: "Weights (.safetensors); a package's own weights without it.") var weights: String?
  @Option(help: "Data (.npz with x and y).") var data: String
  @OptionGroup var lossOption: LossOption
  @Option(help: "Samples per batch.") var batch = 64
  @OptionGroup var deviceOptions: DeviceOptions
  @Flag(help: "Print {\"accuracy\", \"loss\"}.") var json = false

  func validate() throws {
    guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    if network.hasSuffix(".mlcn") && weights == nil { throw ValidationError("give the trained weights with --weights W.safetensors") }
  }

  func run() throws {
    try reportingErrors {
      var source: SourceFile
      var w: [String: HostTensor] = [:]
      if network.hasSuffix(".mlcn") {
        source = try SourceFile.load(path: network)
      } else {
        let package = try CompiledPackage.read(network)
        source = package.source
        w = package.weights
      }
      let forward = try Compiler.graph(source, options: CompileOptions(batch: 1))
      if let weights { w = try Weights.load(weights, for: forward).weights }
      try Weights.validate(w, for: forward, file: weights ?? network)
      let (inputName, _) = try TrainingSupport.input(forward)
      let set = try Dataset.read(data)
      try TrainingSupport.check(x: set.x, labels: set.labels, graph: forward, loss: lossOption.loss, xFile: data, labelsFile: data)
      let target = try TrainingSupport.target(deviceOptions)
      let descriptor = target.times.machine.devices[0]
      let evaluator = Evaluator(source: source, loss: lossOption.loss, device: target.devices[0], descriptor: descriptor,
                                cache: ProgramCache(directory: Caches.kernels))
      let r = try evaluator.evaluate(set, inputName: inputName, weights: w, batch: batch)
      if json { printJSON(["accuracy": r.accuracy, "loss": r.loss]) } else {
        print(String(format: "accuracy %.4f (%d samples), loss %.4f", r.accuracy, r.count, r.loss))
      }
    }
  }
}
