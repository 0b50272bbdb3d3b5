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
    .target(name: "MLCNFrontend"),
    .target(name: "MLCNGraph", dependencies: ["MLCNFrontend"]),
    .target(name: "MLCNPlanner", dependencies: ["MLCNGraph"]),
    .executableTarget(name: "EmbedKernels"),
    .plugin(name: "EmbedKernelsPlugin", capability: .buildTool(), dependencies: ["EmbedKernels"]),
    .target(name: "MLCNCodegen", dependencies: ["MLCNGraph", "MLCNPlanner"],
            plugins: ["EmbedKernelsPlugin"]),
    .target(name: "MLCNFormats"),
    .target(name: "MLCNRuntime",
            dependencies: ["COpenCL", "CCLBlast", "MLCNGraph", "MLCNPlanner", "MLCNCodegen", "MLCNFormats"]),
    .target(name: "MLCNDriver",
            dependencies: ["MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNCodegen", "MLCNRuntime", "MLCNFormats"]),
    .executableTarget(name: "mlcnc", dependencies: [
      "MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNCodegen", "MLCNRuntime", "MLCNFormats", "MLCNDriver",
      .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]),
    .executableTarget(name: "mlcnc-bench", dependencies: [
      "MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNDriver",
      .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]),
    .testTarget(name: "MLCNFrontendTests", dependencies: ["MLCNFrontend"]),
    .testTarget(name: "MLCNGraphTests", dependencies: ["MLCNFrontend", "MLCNGraph"]),
    .testTarget(name: "MLCNPlannerTests", dependencies: ["MLCNFrontend", "MLCNGraph", "MLCNPlanner"]),
    .testTarget(name: "MLCNFormatsTests", dependencies: ["MLCNFormats"]),
    .testTarget(name: "MLCNRuntimeTests",
                dependencies: ["MLCNFrontend", "MLCNGraph", "MLCNPlanner", "MLCNCodegen", "MLCNRuntime", "MLCNFormats", "MLCNDriver"]),
  ],
  swiftLanguageModes: [.v6]
)
