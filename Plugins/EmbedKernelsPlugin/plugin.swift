// Build-tool plugin: embeds every Kernels/*.cl file into the target as a Swift string
// table, so an installed mlcnc binary needs no kernel files beside it.
import Foundation
import PackagePlugin

@main
struct EmbedKernelsPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let kernelDir = context.package.directoryURL.appending(path: "Kernels")
    let files = try FileManager.default.contentsOfDirectory(at: kernelDir, includingPropertiesForKeys: nil)
      .filter { $0.pathExtension == "cl" || $0.pathExtension == "h" }
      .sorted { $0.lastPathComponent < $1.lastPathComponent }
    let output = context.pluginWorkDirectoryURL.appending(path: "KernelSources.swift")
    return [
      .buildCommand(
        displayName: "Embedding \(files.count) OpenCL kernel files",
        executable: try context.tool(named: "EmbedKernels").url,
        arguments: [output.path] + files.map(\.path),
        inputFiles: files,
        outputFiles: [output])
    ]
  }
}
