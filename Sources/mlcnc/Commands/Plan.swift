// `mlcnc plan`: place a network's ops on devices and export the plan.

import ArgumentParser
import Foundation
import MLCNDriver
import MLCNFrontend
import MLCNGraph
import MLCNPlanner
import MLCNRuntime

struct PlanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan",
    abstract: "Plan where each op runs; print a summary and export JSON or Graphviz DOT.")

  @Argument(help: "A network (.mlcn) or package (.mlcnpkg).") var network: String
  @Option(help: "The batch size N.") var batch = 1
  @OptionGroup var deviceOptions: DeviceOptions
  @Option(name: .customLong("json"), help: "Write the plan as JSON to this file.") var jsonPath: String?

  func run() throws {
    try reportingErrors {
      let source: SourceFile
      if network.hasSuffix(".mlcn") { source = try SourceFile.load(path: network) }
      else { source = try Model(package: network).source }
      let graph = try Compiler.graph(source, options: CompileOptions(batch: batch))
      let devices = try CLDevices.select(deviceOptions.devices).map(\.descriptor)
      let plan = try Planner.plan(graph, devices: devices, strategy: deviceOptions.strategy ?? .auto)
      if let jsonPath { try Data(plan.json().utf8).write(to: URL(fileURLWithPath: jsonPath)) }
      print("plan for \(graph.name) (batch \(batch)): strategy \(plan.strategy), predicted \(String(format: "%.3f", plan.predictedSeconds * 1000)) ms")
    }
  }
}
