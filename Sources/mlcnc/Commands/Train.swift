// `mlcnc train`: trains a network on an .npz data set with SGD or Adam (DESIGN.md section
// 7), one step per batch, and saves the weights; per epoch it prints the mean training
// loss, the validation loss and accuracy (with --val) and samples per second. On a
// terminal a progress line shows the epoch, the running loss, samples/s and the ETA.

import ArgumentParser
import Foundation
import MLCNBase
import MLCNDriver
import MLCNFormats
import MLCNFrontend
import MLCNGraph
import MLCNRuntime

struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a network on an .npz data set (x [N, ...], integer labels y [N]).")

  @Argument(help: "The network (.mlcn).") var network: String
  @Option(help: "Training data (.npz with x and y).") var data: String
  @Option(help: "Validation data (.npz), evaluated after each epoch.") var val: String?
  @Option(help: "Epochs.") var epochs = 1
  @Option(help: "Samples per step (the last batch of an epoch may be smaller).") var batch = 32
  @Option(help: "sgd or adam.") var optimizer: Optimizer.Kind = .sgd
  @Option(help: "Learning rate (default: 0.01 for sgd, 0.001 for adam).") var lr: Double?
  @Option(help: "SGD momentum.") var momentum = 0.0
  @OptionGroup var lossOption: LossOption
  @OptionGroup var weightOptions: WeightOptions
  @Flag(help: "Take the batches in file order (default: shuffled per epoch from --seed).") var noShuffle = false
  @OptionGroup var deviceOptions: DeviceOptions
  @Option(help: "Where to save the trained weights (.safetensors).") var save: String
  @Flag(help: "Print one JSON object per epoch.") var json = false

  func validate() throws {
    guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
    guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
    guard momentum >= 0 else { throw ValidationError("--momentum must be 0 or more") }
    if optimizer == .adam && momentum != 0 { throw ValidationError("--momentum applies to sgd; adam has fixed betas 0.9/0.999") }
  }

  func run() throws {
    try reportingErrors {
      let source = try SourceFile.load(path: network)
      let forward = try Compiler.graph(source, options: CompileOptions(batch: 1))
      let (inputName, _) = try TrainingSupport.input(forward)
      let train = try Dataset.read(data)
      try TrainingSupport.check(x: train.x, labels: train.labels, graph: forward, loss: lossOption.loss, xFile: data, labelsFile: data)
      let validation = try val.map { path in
        let v = try Dataset.read(path)
        try TrainingSupport.check(x: v.x, labels: v.labels, graph: forward, loss: lossOption.loss, xFile: path, labelsFile: path)
        return v
      }
      let (weights, _) = try weightsFor(forward, weightOptions)
      let target = try TrainingSupport.target(deviceOptions)
      let descriptor = target.times.machine.devices[0]
      let cache = ProgramCache(directory: Caches.kernels)
      let opt = Optimizer(kind: optimizer, lr: lr, momentum: momentum)
      let session = TrainingSession(source: source, weights: weights, loss: lossOption.loss, optimizer: opt,
                                    seed: weightOptions.seed, devices: target.devices, times: target.times,
                                    strategy: target.strategy, cache: cache)
      let evaluator = Evaluator(source: source, loss: lossOption.loss, device: target.devices[0], descriptor: descriptor, cache: cache)
      if target.devices.count > 1 {
        let use = try session.deviceUse(batch: min(batch, train.count))
        note("training with \(target.strategy.rawValue) on \(use.count) devices: " + use.map { "\($0.steps) steps on \($0.device)" }.joined(separator: ", "))
      }
      let progress = isatty(STDERR_FILENO) != 0 && !json
      var order = Array(0..<train.count)
      var rng = SplitMix64(seed: weightOptions.seed ^ 0x5348_5546_464C_4521)  // the shuffle's own stream
      let steps = (train.count + batch - 1) / batch
      for epoch in 1...epochs {
        if !noShuffle {
          // Fisher-Yates from the seed: the same seed gives the same order on every platform.
          for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        }
        let start = Date()
        var lossSum = 0.0, seen = 0
        for s in 0..<steps {
          let range = s * batch ..< min((s + 1) * batch, train.count)
          let (x, labels) = train.batch(order[range])
          let losses = try session.step(x: x, inputName: inputName, labels: labels).losses
          lossSum += losses.reduce(0.0) { $0 + Double($1) }
          seen += losses.count
          if progress {
            let elapsed = Date().timeIntervalSince(start), rate = Double(seen) / max(elapsed, 1e-9)
            let eta = Double(train.count - seen) / rate
            let filled = 24 * seen / train.count
            printProgress(String(format: "epoch %d/%d [%@%@] %d/%d loss %.4f %.0f samples/s ETA %@", epoch, epochs,
                                 String(repeating: "=", count: filled), String(repeating: " ", count: 24 - filled),
                                 seen, train.count, lossSum / Double(seen), rate, clock(eta)))
          }
        }
        let seconds = Date().timeIntervalSince(start)
        if progress { printProgress(nil) }
        var record: [String: Any] = ["epoch": epoch, "loss": lossSum / Double(seen),
                                     "samples_per_second": Double(seen) / seconds, "seconds": seconds]
        if let validation {
          let r = try evaluator.evaluate(validation, inputName: inputName, weights: session.weights(for: forward), batch: batch)
          record["val_loss"] = r.loss
          record["val_accuracy"] = r.accuracy
        }
        if json {
          let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
          print(String(decoding: data, as: UTF8.self))
        } else {
          var line = String(format: "epoch %d: loss %.4f", epoch, record["loss"] as! Double)
          if let vl = record["val_loss"] as? Double, let va = record["val_accuracy"] as? Double {
            line += String(format: ", val_loss %.4f, val_accuracy %.4f", vl, va)
          }
          line += String(format: ", %.1f samples/s (%.1f s)", record["samples_per_second"] as! Double, seconds)
          print(line)
        }
        fflush(nil)  // one line per epoch, even into a pipe
      }
      try Safetensors.write(TensorFile(tensors: session.weights(for: forward),
                                       metadata: ["network": forward.name, "trained_by": "mlcnc train", "steps": "\(session.steps)"]),
                            to: save)
      if !json { note("saved the trained weights to \(save)") }
    }
  }

  private func clock(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "--:--" }
    let s = Int(seconds.rounded())
    return String(format: "%02d:%02d", s / 60, s % 60)
  }

  /// Rewrites the progress line on stderr (nil clears it).
  private func printProgress(_ line: String?) {
    let text = "\r\u{1B}[K" + (line ?? "")
    FileHandle.standardError.write(text.data(using: .utf8)!)
  }
}
