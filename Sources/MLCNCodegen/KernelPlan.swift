// What codegen hands the runtime for one node: the kernel launches that compute it, the
// scratch buffers they need and the layout its weights must be packed in. Pure data, no
// OpenCL, so it can be inspected and tested without a device.

import MLCNBase
import MLCNGraph

/// A buffer a launch reads or writes.
public enum BufferRef: Hashable, Sendable {
  /// The buffer of a graph value: a result, an operand or a parameter.
  case value(ValueID)
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

/// C[m, n] = A[m, k] B[n, k]^T, row-major, computed by CLBlast's SGEMM.
public struct Gemm: Hashable, Sendable {
  public var m: Int
  public var n: Int
  public var k: Int
  public var a: BufferRef
  public var b: BufferRef
  public var c: BufferRef
  public init(m: Int, n: Int, k: Int, a: BufferRef, b: BufferRef, c: BufferRef) {
    self.m = m; self.n = n; self.k = k; self.a = a; self.b = b; self.c = c
  }
}

/// One step of a node: a kernel of ours, or a library call.
public enum KernelStep: Hashable, Sendable {
  case launch(Launch)
  case gemm(Gemm)
}

/// Choices codegen leaves to the caller.
public struct CodegenOptions: Hashable, Sendable {
  public enum GemmProvider: String, Hashable, Sendable, CaseIterable {
    /// CLBlast on GPUs (tuned per vendor), our kernel on CPUs (CLBlast's defaults are slow on PoCL).
    case auto
    case builtin
    case clblast
  }
  /// Which family of kernels: by default the one written for the device's kind.
  public enum Variant: String, Hashable, Sendable, CaseIterable {
    case auto
    /// Register-tiled kernels, one work-item per work-group (CPUs: PoCL vectorises the
    /// explicit vectors, not across work-items of these kernels).
    case cpu
    /// Kernels with many light work-items (GPUs); forced on PoCL to test them.
    case gpu
  }
  public var gemm: GemmProvider
  public var variant: Variant
  /// Tile sizes found by `mlcnc tune`; kernels not in it use their defaults.
  public var tuning: TuningTable
  public init(gemm: GemmProvider = .auto, variant: Variant = .auto, tuning: TuningTable = TuningTable()) {
    self.gemm = gemm
    self.variant = variant
    self.tuning = tuning
  }

  /// Whether `device` runs the CPU kernels.
  public func usesCPUKernels(_ device: DeviceDescriptor) -> Bool {
    switch variant {
    case .auto: device.kind == .cpu
    case .cpu: true
    case .gpu: false
    }
  }
}

/// How a weight is laid out in device memory.
public enum WeightLayout: Hashable, Sendable {
  /// As stored (C order of its contract shape).
  case plain
  /// A conv weight [F, C, KH, KW] packed as [ceil(F/block)][C][KH][KW][block], zero-padded
  /// (also a dense weight [U, In]: [ceil(U/block)][In][block]).
  case filterBlocked(Int)
  /// A capsule weight [I, J, D, Din] packed per input capsule as
  /// [I][ceil(J*D/block)][Din][block], zero-padded: each i's matrix blocked as above.
  case capsuleBlocked(Int)
}

public struct NodeKernels: Hashable, Sendable {
  /// The node's value shares its operand's buffer (a view): no launches.
  public var aliasesOperand: Bool = false
  /// Scratch buffer sizes, in floats.
  public var scratch: [Int] = []
  public var steps: [KernelStep] = []
  /// How each parameter the node reads must be packed on the device (default: plain).
  public var weightLayouts: [ValueID: WeightLayout] = [:]
  public init() {}

  /// The steps that are our own kernels (setting replaces all steps).
  public var launches: [Launch] {
    get { steps.compactMap { if case .launch(let l) = $0 { l } else { nil } } }
    set { steps = newValue.map(KernelStep.launch) }
  }
}
