// What `grad`, `train` and `eval` share: the loss option, the one device they run on,
// and checks of data against the network (input shape, labels in range), each naming
// the file at fault.

import ArgumentParser
import Foundation
import MLCNBase
import MLCNDriver
import MLCNFormats
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

extension LossKind: ExpressibleByArgument {}
extension Optimizer.Kind: ExpressibleByArgument {}

struct LossOption: ParsableArguments {
  @Option(help: "Loss: margin or xent. Default: margin when the first output is made by length, else xent.")
  var loss: LossKind?
}

enum TrainingSupport {
  /// The devices of `--devices` and how a training step uses them: data-parallel (the
  /// default for several devices) splits the batch; any other strategy plans the forward
  /// graph (lanes, layerwise, ...) and runs each backward and update node with its forward
  /// node. `eval` uses the first device.
  static func target(_ options: DeviceOptions) throws -> (devices: [CLDevice], times: TimeModel, strategy: Strategy) {
    let target = try realTarget(options.devices)
    var strategy = options.strategy ?? .auto
    if strategy == .auto { strategy = target.devices.count > 1 ? .dataParallel : .single }
    return (target.devices, target.times, strategy)
  }

  /// The network's single input: its name and per-sample shape.
  static func input(_ g: Graph) throws -> (name: String, shape: [Int]) {
    let inputs = g.inputs.filter { g[$0].attributes["dropout"] == nil }
    guard inputs.count == 1 else {
      throw ValidationError("training needs a network with one input; '\(g.name)' has \(inputs.count)")
    }
    return (g[inputs[0]].name, Array(g[inputs[0]].type.shape.dropFirst()))
  }

  /// Checks inputs [N, ...] against the network's input and labels against the classes.
  static func check(x: HostTensor, labels: [Int], graph g: Graph, loss: LossKind?, xFile: String, labelsFile: String) throws {
    let (name, shape) = try input(g)
    guard x.shape.count >= 1, Array(x.shape.dropFirst()) == shape else {
      throw RuntimeError("\(xFile): shape \(x.shape) does not match input '\(name)' [N, \(shape.map(String.init).joined(separator: ", "))]")
    }
    guard x.shape[0] == labels.count else {
      throw RuntimeError("\(labelsFile): \(labels.count) labels for \(x.shape[0]) samples in \(xFile)")
    }
    guard x.shape[0] >= 1 else { throw RuntimeError("\(xFile): no samples") }
    let target = (loss ?? LossKind.defaultFor(g)).target(in: g)
    let classes = g.type(of: target).shape.last ?? 0
    if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
      throw RuntimeError("\(labelsFile): label \(bad) is out of range: the network's output '\(g.outputs[0].name)' has \(classes) classes (labels 0..<\(classes))")
    }
  }
}
