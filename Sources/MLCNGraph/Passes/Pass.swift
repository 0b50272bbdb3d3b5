// A pass is a small named transformation of the graph IR; a pipeline is a list of passes,
// with the verifier run after each so a broken invariant is blamed on the pass that broke it.

public protocol Pass: Sendable {
  /// The name used by `mlcnc ir --after NAME`.
  var name: String { get }
  func run(_ graph: inout Graph)
}

public struct PassPipeline: Sendable {
  public var passes: [any Pass]
  public init(_ passes: [any Pass]) { self.passes = passes }

  /// The passes every compile runs, in order.
  public static let standard = PassPipeline([FuseActivations(), DeadCodeElimination()])

  public var names: [String] { passes.map(\.name) }

  /// Runs the passes up to and including `stopAfter` (all when nil), verifying after each.
  public func run(_ graph: inout Graph, stopAfter: String? = nil) throws(VerifyError) {
    try Verifier.verify(graph)
    for pass in passes {
      pass.run(&graph)
      do { try Verifier.verify(graph) } catch {
        throw VerifyError(node: error.node, message: "after pass \(pass.name): \(error.message)")
      }
      if pass.name == stopAfter { return }
    }
  }
}
