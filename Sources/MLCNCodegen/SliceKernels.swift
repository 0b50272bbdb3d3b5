// slice as one strided copy: the source viewed as [outer, total, inner], the range
// offset ..< offset + part of the middle axis copied out contiguously.

import MLCNGraph

enum SliceKernels {
  static func slice(_ id: ValueID, _ g: Graph) -> NodeKernels {
    let n = g[id], axis = n.attributes.int("axis"), x = g.type(of: n.inputs[0]).shape
    let (outer, total, inner) = ElementwiseKernels.around(x, axis)
    let part = n.type.shape[axis], count = outer * part * inner
    var out = NodeKernels()
    out.launches = [Launch(ProgramSource(file: "slice.cl", options: []), "slice_copy",
                           args: [.buffer(.value(n.inputs[0])), .buffer(.value(id)), .int(Int32(part)),
                                  .int(Int32(total)), .int(Int32(n.attributes.int("begin"))), .int(Int32(inner)),
                                  .int(Int32(count))],
                           global: [count])]
    return out
  }
}
