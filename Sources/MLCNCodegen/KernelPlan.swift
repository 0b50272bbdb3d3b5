// What codegen hands the runtime for one node: the kernel launches that compute it, the
// scratch buffers they need and the layout its weights must be packed in. Pure data, no
// OpenCL, so it can be inspected and tested without a device.

import MLCNGraph

/// A buffer a launch reads or writes.
public enum BufferRef: Hashable, Sendable {
  /// The buffer of a graph value.
  case value(ValueID)
  /// A weight, by full name (`L.0.h.weight`).
  case weight(String)
  /// The node's i-th scratch buffer.
  case scratch(Int)
}

public enum KernelArg: Hashable, Sendable {
  case buffer(BufferRef)
  case int(Int32)
}

/// One OpenCL program: a file of `Kernels/` built with `-D` options.
public struct ProgramSource: Hashable, Sendable {
  public var file: String
  public var options: [String]
  public init(file: String, options: [String]) { self.file = file; self.options = options }
  /// The text handed to clBuildProgram: the shared header, then the file.
  public var text: String { KernelLibrary.source(file) }
  public var optionString: String { options.joined(separator: " ") }
}

public struct Launch: Hashable, Sendable {
  public var program: ProgramSource
  public var kernel: String
  public var args: [KernelArg]
  public var global: [Int]
  public var local: [Int]?
  public init(_ program: ProgramSource, _ kernel: String, args: [KernelArg], global: [Int], local: [Int]? = nil) {
    self.program = program
    self.kernel = kernel
    self.args = args
    self.global = global
    self.local = local
  }
}

/// How a weight is laid out in device memory.
public enum WeightLayout: Hashable, Sendable {
  /// As stored (C order of its contract shape).
  case plain
  /// A conv weight [F, C, KH, KW] packed as [ceil(F/block)][C][KH][KW][block], zero-padded.
  case filterBlocked(Int)
}

public struct NodeKernels: Hashable, Sendable {
  /// The node's value shares its operand's buffer (a view): no launches.
  public var aliasesOperand: Bool = false
  /// Scratch buffer sizes, in floats.
  public var scratch: [Int] = []
  public var launches: [Launch] = []
  public var weightLayouts: [String: WeightLayout] = [:]
  public init() {}
}

public enum KernelLibrary {
  /// The embedded source of a kernel file with the shared header in front.
  public static func source(_ file: String) -> String {
    (KernelSources.files["common.h"] ?? "") + "\n" + (KernelSources.files[file] ?? "#error missing kernel file \(file)\n")
  }
  public static var files: [String] { KernelSources.files.keys.sorted() }
}
