// `mlcnc ops`: the operators of the language, each with its operands, attributes,
// parameters and a one-line summary, read from the op definitions themselves.

import ArgumentParser
import MLCNGraph

struct Ops: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the operators of the .mlcn language with their attributes.")

  func run() throws {
    for op in OpKind.callable {
      let def = op.definition
      let attrs = def.parameters.map { p in p.defaultValue.map { "\(p.name)=\($0)" } ?? p.name }
      let operands = def.arity.description
      print("\(op.rawValue)(\(([operands] + attrs).joined(separator: ", ")))")
      print("    \(def.summary)" + (def.isActivation ? "; also act=\(op.rawValue) on conv2d and dense" : ""))
    }
  }
}
