// maxpool2d and avgpool2d: 2-D window reductions over NCHW images.
//
//   %b: f32[2, 6, 7, 7] = maxpool2d(%a) {kernel=[2, 2], stride=[2, 2], padding=[0, 0]}
//
// Output size as conv2d (floor). The stride defaults to the kernel. Max pooling ignores
// padded cells; average pooling divides by the number of in-bounds cells of each window.

enum Pool2D {
  static let parameters = [
    ParamSpec("kernel", .pair(min: 1)),
    ParamSpec("stride", .pair(min: 1), required: false),  // default: the kernel, filled in by infer
    ParamSpec("padding", .pair(min: 0), default: .ints([0, 0])),
  ]

  static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    let x = inputs[0]
    try requireRank(x, 4, "an NCHW image")
    if a["stride"] == nil { a["stride"] = a["kernel"] }
    let k = a.ints("kernel"), p = a.ints("padding")
    // As ONNX allows: up to kernel - 1, so every window holds at least one real cell.
    guard p[0] < k[0] && p[1] < k[1] else {
      throw OpError("padding \(p[0])x\(p[1]) must be smaller than the kernel \(k[0])x\(k[1])", parameter: "padding")
    }
    let (h, w) = try windowOutput(x, &a, sameAllowed: false)
    return TensorType([x.shape[0], x.shape[1], h, w])
  }

  static func work(output: TensorType, attributes a: Attributes) -> Double {
    Double(output.count * a.ints("kernel").reduce(1, *))
  }
}

public enum MaxPool2DOp: OpDefinition {
  public static let kind = OpKind.maxpool2d
  public static let summary = "2-D max pooling"
  public static let arity = Arity.exactly(1)
  public static let parameters = Pool2D.parameters
  public static let example: OpExample? = OpExample("[N, 2, 7, 7]", "y = maxpool2d(x, kernel=3, stride=2, padding=2)")
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try Pool2D.infer(inputs, &a)
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    Pool2D.work(output: output, attributes: a)
  }
}

public enum AvgPool2DOp: OpDefinition {
  public static let kind = OpKind.avgpool2d
  public static let summary = "2-D average pooling over in-bounds cells"
  public static let arity = Arity.exactly(1)
  public static let parameters = Pool2D.parameters
  public static let example: OpExample? = OpExample("[N, 2, 7, 7]", "y = avgpool2d(x, kernel=[3, 2], stride=[2, 1], padding=[2, 1])")
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    try Pool2D.infer(inputs, &a)
  }
  public static func work(inputs: [TensorType], output: TensorType, attributes a: Attributes) -> Double {
    Pool2D.work(output: output, attributes: a)
  }
}

extension Pool2D {
  static func vjp(_ mode: String, _ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    let n = b.graph[node], a = n.attributes
    let dx = try b.emit(.pool2dGrad, [grad, n.inputs[0]],
                        ["mode": .string(mode), "kernel": a["kernel"]!, "stride": a["stride"]!, "padding": a["padding"]!],
                        name: b.gradName(n.inputs[0]))
    b.accumulate(n.inputs[0], dx)
  }
}

extension MaxPool2DOp {
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    try Pool2D.vjp("max", node, grad, &b)
  }
}

extension AvgPool2DOp {
  public static func vjp(_ node: ValueID, _ grad: ValueID, _ b: inout GradientBuilder) throws(OpError) {
    try Pool2D.vjp("avg", node, grad, &b)
  }
}
