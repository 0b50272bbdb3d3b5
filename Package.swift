// swift-tools-version:6.0
// mlcnc: a dataflow graph compiler for multi-lane networks on OpenCL devices.
// Targets follow the pipeline: frontend -> graph IR -> planner -> codegen -> runtime -> CLI.
import PackageDescription

let package = Package(
  name: "mlcnc",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "mlcnc", targets: ["mlcnc"]),
    .executable(name: "mlcnc-bench", targets: ["mlcnc-bench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    .systemLibrary(name: "COpenCL", pkgConfig: "OpenCL",
                   providers: [.apt(["ocl-icd-opencl-dev"])]),
    .systemLibrary(name: "CCLBlast", pkgConfig: "clblast",
                   providers: [.apt(["libclblast-dev"])]),
    .target(name: "MLCNBase"),
    .target(name: "MLCNFrontend", dependencies: ["MLCNBase"]),
    .target(name: "MLCNGraph", dependencies: ["MLCNBase", "MLCNFrontend"]),
    .target(name: "MLCNPlanner", dependencies: ["MLCNBase", "MLCNGraph"]),
    .executableTarget(name: "EmbedKernels"),
    .plugin(name: "EmbedKernelsPlugin", capability: .buildTool(), dependencies: ["EmbedKernels"]),
    .target(name: "MLCNCodegen", dependencies: ["MLCNBase", "MLCNGraph"],
            plugins: ["EmbedKernelsPlugin"]),
    .target(name: "MLCNFormats", dependencies: ["MLCNBase"]),
    .target(name: "MLCNRuntime",
            dependencies: ["COpenCL", "CCLBlast", "MLCNBase", "MLCNGraph", "MLCNCodegen", "MLCNFormats"]),
    .target(name: "MLCNDriver",
            dependencies: ["MLCNBase", "MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNCodegen", "MLCNRuntime", "MLCNFormats"]),
    .target(name: "MLCNSearch", dependencies: ["MLCNBase", "MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNDriver"]),
    .executableTarget(name: "mlcnc", dependencies: [
      "MLCNBase", "MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNCodegen", "MLCNRuntime", "MLCNFormats", "MLCNDriver",
      "MLCNSearch", .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]),
    .executableTarget(name: "mlcnc-bench", dependencies: [
      "MLCNBase", "MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNCodegen", "MLCNRuntime", "MLCNFormats", "MLCNDriver",
      .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]),
    .testTarget(name: "MLCNFrontendTests", dependencies: ["MLCNBase", "MLCNFrontend"]),
    .testTarget(name: "MLCNGraphTests", dependencies: ["MLCNBase", "MLCNFrontend", "MLCNGraph"]),
    .testTarget(name: "MLCNPlannerTests", dependencies: ["MLCNBase", "MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNCodegen"]),
    .testTarget(name: "MLCNCodegenTests", dependencies: ["MLCNBase", "MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNCodegen"]),
    .testTarget(name: "MLCNFormatsTests", dependencies: ["MLCNFormats"]),
    .testTarget(name: "MLCNSearchTests", dependencies: ["MLCNBase", "MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNCodegen", "MLCNDriver", "MLCNSearch"]),
    .testTarget(name: "MLCNRuntimeTests",
                dependencies: ["MLCNBase", "MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNCodegen", "MLCNRuntime", "MLCNFormats",
                               "MLCNDriver"]),
  ],
  swiftLanguageModes: [.v6]
)
