// The kernel program: everything the runtime needs to run a placed graph, decided without
// a device. It lists every device buffer (values, copies, packed parameters, scratch), the
// parameters and inputs the host writes, and the steps in order with their arguments
// bound to buffers. `mlcnc compile --emit kernels` prints it; the runtime instantiates it.
//
// Algorithm (build):
//  1. Homes: each node's device; views use their operand's buffer; graph inputs and
//     parameters live where they are read.
//  2. Every result of every computing node gets a buffer on its home device.
//  3. Walking nodes in order, codegen gives each its kernels for its device. A data
//     operand computed on another device gets a copy, filled by a copy step just before
//     its first reader; a graph input gets a host-written buffer on each device that
//     reads it; a parameter gets one buffer per device that reads it, packed in the
//     layout the reader asks for.
//  4. Scratch buffers per node; steps in graph order with buffer-bound arguments.

import MLCNBase
import MLCNGraph

public struct KernelProgram: Sendable {
  public enum Role: Hashable, Sendable {
    case value, copy, input, parameter(WeightLayout), scratch
  }

  public struct Buffer: Hashable, Sendable {
    public var device: Int
    public var bytes: Int
    public var role: Role
    /// The value it holds (nil for scratch).
    public var value: ValueID?
    /// For messages and traces: "value L.0.h", "scratch 0 of c", ...
    public var purpose: String
  }

  public enum Arg: Hashable, Sendable {
    case buffer(Int)
    case int(Int32)
  }

  public enum Action: Hashable, Sendable {
    case launch(program: ProgramSource, kernel: String, args: [Arg], global: [Int], local: [Int]?)
    /// C[m, n] = A[m, k] B[n, k]^T through the GEMM library.
    case gemm(m: Int, n: Int, k: Int, a: Int, b: Int, c: Int)
    case copy(from: Int, to: Int, bytes: Int)
  }

  public struct Step: Hashable, Sendable {
    public var action: Action
    public var device: Int
    /// The node's value name, as in the IR.
    public var node: String
    /// Kernel name, "gemm" or "copy DEV->DEV".
    public var label: String
    /// Buffers read that another step writes.
    public var reads: [Int]
    public var writes: [Int]
  }

  public var devices: [DeviceDescriptor]
  public var buffers: [Buffer] = []
  public var steps: [Step] = []
  /// Buffers the host writes before every run: (input name, buffer).
  public var inputs: [(name: String, buffer: Int)] = []
  /// Buffers the host fills once: (parameter value, buffer).
  public var parameters: [(value: ValueID, buffer: Int)] = []
  /// Where each output is read from: (output name, buffer).
  public var outputs: [(name: String, buffer: Int)] = []

  /// Bytes allocated on each device.
  public var bytesPerDevice: [Int] {
    var used = Array(repeating: 0, count: devices.count)
    for b in buffers { used[b.device] += b.bytes }
    return used
  }
}

extension KernelProgram {
  /// Builds the program of `graph` with node i on `devices[placement[i]]`.
  public static func build(_ graph: Graph, placement: [Int], devices: [DeviceDescriptor],
                           options: CodegenOptions = CodegenOptions()) -> KernelProgram {
    var p = KernelProgram(devices: devices)
    // 1. Homes (as the planner's memory model counts them).
    let home = graph.homes(placement: placement)
    let users = graph.users()
    var bufferOf: [Key: Int] = [:]
    func add(_ b: Buffer) -> Int { p.buffers.append(b); return p.buffers.count - 1 }

    // 2. Results of computing nodes.
    for id in graph.ids where !graph[id].op.isView && graph[id].op != .parameter {
      if graph[id].op == .input, !users[id.index].isEmpty { continue }  // written where read
      for r in graph.results(of: id) {
        let role: Role = graph[id].op == .input ? .input : .value
        bufferOf[Key(r, home[id.index])] = add(Buffer(device: home[id.index], bytes: graph.type(of: r).bytes, role: role,
                                                      value: r, purpose: "value \(graph.name(of: r))"))
        if role == .input { p.inputs.append((graph[id].name, bufferOf[Key(r, home[id.index])]!)) }
      }
    }

    // 3. Kernels, copies, inputs and parameters, in graph order.
    for id in graph.ids where !graph[id].op.isHostProvided {
      let node = graph[id], d = placement[id.index]
      let nk = Codegen.kernels(for: id, in: graph, device: devices[d], options: options)
      if nk.aliasesOperand { continue }
      for operand in graph.operands(of: id) {
        let v = graph.root(operand)
        if bufferOf[Key(v, d)] != nil { continue }
        let bytes = graph.type(of: v).bytes
        if graph[v].op == .input {
          bufferOf[Key(v, d)] = add(Buffer(device: d, bytes: bytes, role: .input, value: v, purpose: "input \(graph[v].name)"))
          p.inputs.append((graph[v].name, bufferOf[Key(v, d)]!))
          continue
        }
        let from = home[v.index]
        let src = bufferOf[Key(v, from)]!
        let dst = add(Buffer(device: d, bytes: bytes, role: .copy, value: v, purpose: "copy of \(graph.name(of: v))"))
        bufferOf[Key(v, d)] = dst
        p.steps.append(Step(action: .copy(from: src, to: dst, bytes: bytes), device: d, node: graph.name(of: v),
                            label: "transfer \(devices[from].name)->\(devices[d].name)", reads: [src], writes: [dst]))
      }
      for param in graph.parameters(of: id) where bufferOf[Key(param, d)] == nil {
        let layout = nk.weightLayouts[param] ?? .plain
        let b = add(Buffer(device: d, bytes: layout.packedCount(shape: graph.type(of: param).shape) * 4,
                           role: .parameter(layout), value: param, purpose: "parameter \(graph[param].name)"))
        bufferOf[Key(param, d)] = b
        p.parameters.append((param, b))
      }
      // 4. Scratch and steps.
      let scratch = nk.scratch.enumerated().map { i, n in
        add(Buffer(device: d, bytes: n * 4, role: .scratch, value: nil, purpose: "scratch \(i) of \(node.name)"))
      }
      func buffer(_ ref: BufferRef) -> Int {
        switch ref {
        case .value(let v): bufferOf[Key(graph.root(v), d)]!
        case .scratch(let s): scratch[s]
        }
      }
      let mine = Set(graph.results(of: id).map { bufferOf[Key($0, d)]! })
      for step in nk.steps {
        switch step {
        case .gemm(let g):
          let (a, b, c) = (buffer(g.a), buffer(g.b), buffer(g.c))
          p.steps.append(Step(action: .gemm(m: g.m, n: g.n, k: g.k, a: a, b: b, c: c), device: d, node: node.name,
                              label: "CLBlastSgemm", reads: [a, b].filter { !mine.contains($0) }, writes: [c]))
        case .launch(let l):
          let args: [Arg] = l.args.map { arg in
            switch arg {
            case .buffer(let ref): .buffer(buffer(ref))
            case .int(let v): .int(v)
            }
          }
          let used = args.compactMap { if case .buffer(let b) = $0 { b } else { nil } }
          p.steps.append(Step(action: .launch(program: l.program, kernel: l.kernel, args: args, global: l.global, local: l.local),
                              device: d, node: node.name, label: l.kernel,
                              reads: used.filter { !mine.contains($0) && !scratch.contains($0) },
                              writes: used.filter { mine.contains($0) }))
        }
      }
    }
    for o in graph.outputs {
      let v = graph.root(o.value)
      p.outputs.append((o.name, bufferOf[Key(v, home[v.index])] ?? bufferOf.first { $0.key.value == v }!.value))
    }
    return p
  }

  private struct Key: Hashable {
    var value: ValueID
    var device: Int
    init(_ value: ValueID, _ device: Int) { self.value = value; self.device = device }
  }
}
