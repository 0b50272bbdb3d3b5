// The kernel program: everything the runtime needs to run a placed graph, decided without
// a device. It lists every device buffer (values, copies, packed parameters, scratch), the
// parameters and inputs the host writes, and the steps in order with their arguments
// bound to buffers. `mlcnc compile --emit kernels` prints it; the runtime instantiates it.
//
// Algorithm (build):
//  1. Codegen gives each node its kernels for its device.
//  2. BufferLayout lists every buffer with its lifetime (results, copies of values read on
//     another device, host-written inputs, parameters packed as the reader wants, scratch);
//     MemoryPlanning lets buffers never alive at the same time share memory, exactly as
//     the planner's memory model counts it.
//  3. Walking nodes in order: a copy step just before a value's first reader on another
//     device, then the node's steps with their arguments bound to buffers. A concat's
//     operand from another device is copied straight into its place in the result (a
//     rectangular copy), so it needs neither a copy buffer nor a concat kernel.

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
    /// The memory it lives in: buffers never alive at the same time share one.
    public var storage: Int
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
    /// A copy of a whole buffer into rows of another: `region.rows` rows of
    /// `region.rowBytes`, the i-th at `region.offset + i * region.pitch` bytes.
    case place(from: Int, to: Int, region: Region)
  }

  public struct Region: Hashable, Sendable {
    public var rows: Int
    public var rowBytes: Int
    public var offset: Int
    public var pitch: Int
    public var bytes: Int { rows * rowBytes }
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
  /// Device memory blocks (device, bytes) that the buffers live in.
  public var storages: [(device: Int, bytes: Int)] = []
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
    for s in storages { used[s.device] += s.bytes }
    return used
  }
}

extension KernelProgram {
  /// Builds the program of `graph` with node i on `devices[placement[i]]`.
  public static func build(_ graph: Graph, placement: [Int], devices: [DeviceDescriptor],
                           options: CodegenOptions = CodegenOptions()) -> KernelProgram {
    var p = KernelProgram(devices: devices)
    // 1-2. Kernels per node, then every buffer with its lifetime, and the memory they share.
    let home = graph.homes(placement: placement)
    /// Per concat: the operand positions a transfer writes into place.
    func placed(_ id: ValueID) -> Set<Int> {
      Set(graph[id].inputs.indices.filter {
        BufferLayout.concatInPlace(graph, id, reading: graph.root(graph[id].inputs[$0]), home: home)
      })
    }
    var kernels: [Int: NodeKernels] = [:]
    for id in graph.ids where !graph[id].op.isHostProvided {
      kernels[id.index] = Codegen.kernels(for: id, in: graph, device: devices[placement[id.index]], options: options,
                                          placed: placed(id))
    }
    let specs = BufferLayout.buffers(graph, placement: placement) { id, _ in kernels[id.index]!.footprint(id, graph) }
    let (slot, slots) = MemoryPlanning.assign(specs.map(\.lifetime))
    p.storages = slots
    let users = graph.users()
    var bufferOf: [Key: Int] = [:]
    var scratchOf: [Int: [Int]] = [:]
    for (i, spec) in specs.enumerated() {
      let d = spec.lifetime.device, bytes = spec.lifetime.bytes
      func add(_ role: Role, _ value: ValueID?, _ purpose: String) {
        p.buffers.append(Buffer(device: d, bytes: bytes, role: role, value: value, purpose: purpose, storage: slot[i]))
      }
      switch spec.kind {
      case .value(let v):
        bufferOf[Key(v, d)] = i
        add(.value, v, "value \(graph.name(of: v))")
      case .copy(let v):
        bufferOf[Key(v, d)] = i
        add(.copy, v, "copy of \(graph.name(of: v))")
      case .input(let v):
        bufferOf[Key(v, d)] = i
        p.inputs.append((graph[v].name, i))
        add(.input, v, "input \(graph[v].name)")
      case .parameter(let v):
        bufferOf[Key(v, d)] = i
        // Packed as its reader on this device wants it.
        let reader = users[v.index].first { placement[$0.index] == d }
        let layout = reader.flatMap { kernels[$0.index]?.weightLayouts[v] } ?? .plain
        p.parameters.append((v, i))
        add(.parameter(layout), v, "parameter \(graph[v].name)")
      case .scratch(let node, let index):
        scratchOf[node, default: []].append(i)
        add(.scratch, nil, "scratch \(index) of \(graph[ValueID(node)].name)")
      }
    }

    // 3-4. Steps in graph order: copies before a value's first reader on a device, then
    // the node's kernels with their arguments bound to buffers.
    var copied = Set<Key>()
    for id in graph.ids where !graph[id].op.isHostProvided {
      let node = graph[id], d = placement[id.index], nk = kernels[id.index]!
      if nk.aliasesOperand { continue }
      let inPlace = placed(id)
      if !inPlace.isEmpty {
        let pieces = ElementwiseKernels.concatPieces(id, graph), dst = bufferOf[Key(id, d)]!
        for k in inPlace.sorted() {
          let v = graph.root(node.inputs[k]), from = home[v.index], src = bufferOf[Key(v, from)]!, piece = pieces[k]
          let region = Region(rows: piece.rows, rowBytes: piece.rowCount * 4, offset: piece.offset * 4,
                              pitch: piece.resultRowCount * 4)
          p.steps.append(Step(action: .place(from: src, to: dst, region: region), device: d, node: graph.name(of: v),
                              label: "transfer \(devices[from].name)->\(devices[d].name) into \(node.name)",
                              reads: [src], writes: [dst]))
        }
      }
      for (k, operand) in graph.operands(of: id).enumerated() where !inPlace.contains(k) {
        let v = graph.root(operand), from = home[v.index]
        guard graph[v].op != .input, from != d, copied.insert(Key(v, d)).inserted else { continue }
        let src = bufferOf[Key(v, from)]!, dst = bufferOf[Key(v, d)]!
        p.steps.append(Step(action: .copy(from: src, to: dst, bytes: graph.type(of: v).bytes), device: d,
                            node: graph.name(of: v), label: "transfer \(devices[from].name)->\(devices[d].name)",
                            reads: [src], writes: [dst]))
      }
      let scratch = scratchOf[id.index] ?? []
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
