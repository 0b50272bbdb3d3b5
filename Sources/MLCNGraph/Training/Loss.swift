// The losses of DESIGN.md section 7 and which value each reads: `margin` on class-capsule
// lengths, `xent` on logits (the input of a final softmax, else the output itself).

public enum LossKind: String, CaseIterable, Sendable {
  case margin, xent

  /// The contract's default: margin when the first output is made by `length`, else xent.
  public static func defaultFor(_ g: Graph) -> LossKind {
    g[g.root(g.outputs[0].value)].op == .length ? .margin : .xent
  }

  /// The value the loss reads: the first output, or for xent the logits before a final softmax.
  public func target(in g: Graph) -> ValueID {
    let out = g.outputs[0].value
    if self == .xent, g[out].op == .softmax, out.result == 0 { return g[out].inputs[0] }
    return out
  }
}
