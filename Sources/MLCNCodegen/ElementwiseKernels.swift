// Elementwise maps (activations, add) from the expression table, softmax along an axis,
// and concat as one strided copy per operand (except operands that a transfer from another
// device writes into place).

import MLCNGraph

enum ElementwiseKernels {
  static func map(_ id: ValueID, _ g: Graph) -> NodeKernels {
    let n = g[id], count = n.type.count
    var out = NodeKernels()
    if n.op.definition.isActivation {
      let expr = Expressions.activation(n.op, n.attributes, of: "x")
      out.launches = [Launch(ProgramSource(file: "elementwise.cl", options: ["-DEXPR1=" + expr]),
                             "map1", args: [.buffer(.value(n.inputs[0])), .buffer(.value(id)), .int(Int32(count))],
                             global: [count])]
    } else if let expr = Expressions.binary(n.op) {
      out.launches = [Launch(ProgramSource(file: "elementwise.cl", options: ["-DEXPR2=" + expr]),
                             "map2", args: [.buffer(.value(n.inputs[0])), .buffer(.value(n.inputs[1])),
                                            .buffer(.value(id)), .int(Int32(count))],
                             global: [count])]
    }
    return out
  }

  /// Splits a shape around `axis` into (outer, axis extent, inner) element counts.
  static func around(_ shape: [Int], _ axis: Int) -> (Int, Int, Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
  }

  static func softmax(_ id: ValueID, _ g: Graph) -> NodeKernels {
    let n = g[id]
    let (outer, a, inner) = around(n.type.shape, n.attributes.int("axis"))
    var out = NodeKernels()
    out.launches = [Launch(ProgramSource(file: "softmax.cl", options: Codegen.defines(["A": a, "INNER": inner])),
                           "softmax", args: [.buffer(.value(n.inputs[0])), .buffer(.value(id))],
                           global: [inner, outer])]
    return out
  }

  /// Operand `k` of a concat: where it goes in the result, viewed as rows.
  struct ConcatPiece: Hashable, Sendable {
    /// Rows of the operand (the product of the dimensions before the axis).
    var rows: Int
    /// Floats per operand row, and per result row.
    var rowCount: Int
    var resultRowCount: Int
    /// Floats from the start of a result row to this operand's part.
    var offset: Int
  }

  static func concatPieces(_ id: ValueID, _ g: Graph) -> [ConcatPiece] {
    let n = g[id], axis = n.attributes.int("axis")
    let (outer, total, inner) = around(n.type.shape, axis)
    var offset = 0
    return n.inputs.map { operand in
      let part = g.type(of: operand).shape[axis]
      defer { offset += part }
      return ConcatPiece(rows: outer, rowCount: part * inner, resultRowCount: total * inner, offset: offset * inner)
    }
  }

  static func concat(_ id: ValueID, _ g: Graph, placed: Set<Int>) -> NodeKernels {
    let n = g[id], axis = n.attributes.int("axis")
    let (outer, total, inner) = around(n.type.shape, axis)
    var out = NodeKernels()
    var offset = 0
    for (k, operand) in n.inputs.enumerated() {
      let part = g.type(of: operand).shape[axis]
      defer { offset += part }
      if placed.contains(k) { continue }
      let count = outer * part * inner
      out.launches.append(Launch(ProgramSource(file: "concat.cl", options: []), "concat_copy",
                                 args: [.buffer(.value(operand)), .buffer(.value(id)), .int(Int32(part)),
                                        .int(Int32(total)), .int(Int32(offset)), .int(Int32(inner)), .int(Int32(count))],
                                 global: [count]))
    }
    return out
  }
}
