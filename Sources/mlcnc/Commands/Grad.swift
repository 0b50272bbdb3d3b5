// `mlcnc grad`: the gradients of the loss for one batch (DESIGN.md section 7), written as
// safetensors with the weights' names and shapes; prints the loss.

import ArgumentParser
import Foundation
import MLCNDriver
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNRuntime

struct Grad: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compute the gradients of the loss for one batch (training mode).",
    discussion: "The loss is averaged over the batch; batchnorm uses batch statistics and dropout draws its mask from --seed.")

  @Argument(help: "The network (.mlcn).") var network: String
  @OptionGroup var weightOptions: WeightOptions
  @Option(name: .customLong("input"), help: "NAME=FILE.npy (or FILE.npy): the batch.") var input: String
  @Option(help: "Integer class labels (.npy, [N]).") var labels: String
  @OptionGroup var lossOption: LossOption
  @Option(name: .shortAndLong, help: "Where to write the gradients (.safetensors).") var output: String
  @OptionGroup var deviceOptions: DeviceOptions
  @Flag(help: "Print {\"loss\": ...}.") var json = false
  @Option(help: "Write a Chrome trace (chrome://tracing, Perfetto) of the step's kernels.") var trace: String?

  func run() throws {
    try reportingErrors {
      let source = try SourceFile.load(path: network)
      let forward = try Compiler.graph(source, options: CompileOptions(batch: 1))
      let (inputName, _) = try TrainingSupport.input(forward)
      let path = try namedPaths([input], names: [inputName], what: "input")[0].path
      let x = try NPY.read(path)
      let y = try NPY.readIntegers(labels)
      guard y.shape.count == 1 else { throw RuntimeError("\(labels): labels must be [N], got shape \(y.shape)") }
      try TrainingSupport.check(x: x, labels: y.values, graph: forward, loss: lossOption.loss, xFile: path, labelsFile: labels)
      let (weights, _) = try weightsFor(forward, weightOptions)
      let target = try TrainingSupport.target(deviceOptions)
      let session = TrainingSession(source: source, weights: weights, loss: lossOption.loss, optimizer: nil,
                                    seed: weightOptions.seed, devices: target.devices, times: target.times,
                                    strategy: target.strategy, cache: ProgramCache(directory: Caches.kernels))
      let result = try session.step(x: x, inputName: inputName, labels: y.values)
      if let trace { try Trace.write(session.timings(), to: trace) }
      let loss = result.losses.reduce(0.0) { $0 + Double($1) } / Double(result.losses.count)
      try Safetensors.write(TensorFile(tensors: result.gradients, metadata: ["loss": "\(loss)", "network": forward.name]), to: output)
      if json { printJSON(["loss": loss]) } else { print("loss \(String(format: "%.6g", loss)); \(result.gradients.count) gradients written to \(output)") }
    }
  }
}
