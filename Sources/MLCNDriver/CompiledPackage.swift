// The compiled package (`.mlcnpkg`): one safetensors file whose tensors are the weights
// and whose metadata holds the source, the batch size it was compiled for, the strategy
// and the plan. Loading it re-lowers the source (milliseconds) for any batch size.

import Foundation
import MLCNFormats
import MLCNFrontend

public struct CompiledPackage: Sendable {
  public static let format = "mlcnpkg"
  public static let version = 1

  public var source: SourceFile
  public var batch: Int
  public var strategy: String
  public var devices: String?
  public var planJSON: String?
  public var weights: [String: HostTensor]
  /// Where the weights came from (a file, or the seed), for messages.
  public var weightsOrigin: String

  public init(source: SourceFile, batch: Int, strategy: String, devices: String?, planJSON: String?,
              weights: [String: HostTensor], weightsOrigin: String) {
    self.source = source
    self.batch = batch
    self.strategy = strategy
    self.devices = devices
    self.planJSON = planJSON
    self.weights = weights
    self.weightsOrigin = weightsOrigin
  }

  public func write(to path: String) throws(FormatError) {
    var meta = ["format": Self.format, "version": "\(Self.version)", "source": source.text, "source_path": source.path,
                "batch": "\(batch)", "strategy": strategy, "weights_origin": weightsOrigin]
    if let devices { meta["devices"] = devices }
    if let planJSON { meta["plan"] = planJSON }
    try Safetensors.write(TensorFile(tensors: weights, metadata: meta), to: path)
  }

  public static func read(_ path: String) throws(FormatError) -> CompiledPackage {
    let file: TensorFile
    do { file = try Safetensors.read(path) } catch {
      guard error.message.hasPrefix("not a valid safetensors file") || error.message.hasPrefix("truncated") else { throw error }
      throw FormatError(path, "not a valid mlcnc package (\(error.message)); compile one with `mlcnc compile NET.mlcn -o \(path)`")
    }
    let m = file.metadata
    guard m["format"] == format else { throw FormatError(path, "not an mlcnc package (compile one with `mlcnc compile NET.mlcn -o \(path)`)") }
    guard m["version"] == "\(version)" else {
      throw FormatError(path, "package version \(m["version"] ?? "?") is not supported (this mlcnc reads version \(version)); recompile it")
    }
    guard let text = m["source"], let batch = m["batch"].flatMap(Int.init) else {
      throw FormatError(path, "package lacks its source or batch size")
    }
    return CompiledPackage(source: SourceFile(path: m["source_path"] ?? path, text: text), batch: batch,
                           strategy: m["strategy"] ?? "auto", devices: m["devices"], planJSON: m["plan"],
                           weights: file.tensors, weightsOrigin: m["weights_origin"] ?? path)
  }
}
