// The compile pipeline as one call: read and parse the source, lower it to the graph IR
// for a batch size, run the pass pipeline, and attach weights. The CLI and tests use it.

import Foundation
import MLCNFormats
import MLCNFrontend
import MLCNGraph

public struct CompileOptions: Sendable {
  public var batch: Int = 1
  /// Stop the pass pipeline after this pass (nil: run all).
  public var stopAfter: String?
  public var runPasses = true
  public init(batch: Int = 1) { self.batch = batch }
}

public enum Compiler {
  /// Source text to verified, optimised IR.
  public static func graph(_ source: SourceFile, options: CompileOptions) throws -> Graph {
    guard options.batch >= 1 else { throw DiagnosticError(file: source.path, message: "batch size must be at least 1") }
    var g = try Lowering.lower(source: source, batch: options.batch)
    if options.runPasses { try PassPipeline.standard.run(&g, stopAfter: options.stopAfter) } else { try Verifier.verify(g) }
    return g
  }

  public static func graph(path: String, options: CompileOptions) throws -> Graph {
    try graph(SourceFile.load(path: path), options: options)
  }
}
