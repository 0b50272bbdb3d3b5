// parameter: a weight tensor, named as in the contract, that ops read as an operand.
//
//   %h.weight: f32[6, 2, 3, 3] = parameter {init=glorot_uniform, fan_in=18, fan_out=54}
//   %b.running_var: f32[5] = parameter {init=ones, trainable=false}
//
// Lowering creates one per `WeightSpec` of the op that reads it, just before that op.
// Values come from a weights file or from the initializer; the runtime uploads them once.

public enum ParameterOp: OpDefinition {
  public static let kind = OpKind.parameter
  public static let summary = "a weight tensor (from a weights file, or initialised from the seed)"
  public static let arity = Arity.exactly(0)
  public static let parameters = [
    ParamSpec("init", .choice(["glorot_uniform", "zeros", "ones"])),
    ParamSpec("fan_in", .int(min: 1), required: false),
    ParamSpec("fan_out", .int(min: 1), required: false),
    ParamSpec("trainable", .bool, default: .bool(true)),
  ]
  public static let example: OpExample? = nil
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    throw OpError("a parameter's type comes from the op that reads it")
  }

  /// The attributes that record a weight's initializer.
  public static func attributes(_ w: WeightSpec) -> Attributes {
    var a = Attributes()
    switch w.initializer {
    case .glorotUniform(let fanIn, let fanOut):
      a["init"] = .string("glorot_uniform"); a["fan_in"] = .int(fanIn); a["fan_out"] = .int(fanOut)
    case .zeros: a["init"] = .string("zeros")
    case .ones: a["init"] = .string("ones")
    }
    a["trainable"] = .bool(w.trainable)
    return a
  }

  /// The initializer recorded in a parameter node's attributes.
  public static func initializer(_ a: Attributes) -> Initializer {
    switch a.string("init") {
    case "glorot_uniform": .glorotUniform(fanIn: a.int("fan_in"), fanOut: a.int("fan_out"))
    case "ones": .ones
    default: .zeros
    }
  }
}
