// The closed set of operators of the IR (DESIGN.md section 3): each case names the one
// file that defines it. `OpKind.allCases` is what the coverage test walks; everything
// else about an op comes from its definition.

public enum OpKind: String, CaseIterable, Hashable, Sendable {
  case input, parameter
  case conv2d, maxpool2d, avgpool2d, dense
  case flatten, reshape
  case relu, sigmoid, tanh, leakyRelu = "leaky_relu", softmax
  case batchnorm, dropout
  case add, concat, slice
  case squash, length
  case primaryCaps = "primary_caps"
  case capsule
  // Internal ops made by the training passes (Ops/Training): backward, loss, update.
  case mul
  case activationGrad = "activation_grad", softmaxGrad = "softmax_grad"
  case conv2dGradInput = "conv2d_grad_input", conv2dGradParams = "conv2d_grad_params"
  case denseGradInput = "dense_grad_input", denseGradParams = "dense_grad_params"
  case pool2dGrad = "pool2d_grad", sliceGrad = "slice_grad"
  case squashGrad = "squash_grad", lengthGrad = "length_grad"
  case primaryCapsGrad = "primary_caps_grad", capsuleGrad = "capsule_grad"
  case batchnormTrain = "batchnorm_train", batchnormGrad = "batchnorm_grad"
  case loss
  case sgdUpdate = "sgd_update", adamUpdate = "adam_update"

  public var definition: any OpDefinition.Type {
    switch self {
    case .input: InputOp.self
    case .parameter: ParameterOp.self
    case .conv2d: Conv2DOp.self
    case .maxpool2d: MaxPool2DOp.self
    case .avgpool2d: AvgPool2DOp.self
    case .dense: DenseOp.self
    case .flatten: FlattenOp.self
    case .reshape: ReshapeOp.self
    case .relu: ReluOp.self
    case .sigmoid: SigmoidOp.self
    case .tanh: TanhOp.self
    case .leakyRelu: LeakyReluOp.self
    case .softmax: SoftmaxOp.self
    case .batchnorm: BatchNormOp.self
    case .dropout: DropoutOp.self
    case .add: AddOp.self
    case .concat: ConcatOp.self
    case .slice: SliceOp.self
    case .squash: SquashOp.self
    case .length: LengthOp.self
    case .primaryCaps: PrimaryCapsOp.self
    case .capsule: CapsuleOp.self
    case .mul: MulOp.self
    case .activationGrad: ActivationGradOp.self
    case .softmaxGrad: SoftmaxGradOp.self
    case .conv2dGradInput: Conv2DGradInputOp.self
    case .conv2dGradParams: Conv2DGradParamsOp.self
    case .denseGradInput: DenseGradInputOp.self
    case .denseGradParams: DenseGradParamsOp.self
    case .pool2dGrad: Pool2DGradOp.self
    case .sliceGrad: SliceGradOp.self
    case .squashGrad: SquashGradOp.self
    case .lengthGrad: LengthGradOp.self
    case .primaryCapsGrad: PrimaryCapsGradOp.self
    case .capsuleGrad: CapsuleGradOp.self
    case .batchnormTrain: BatchNormTrainOp.self
    case .batchnormGrad: BatchNormGradOp.self
    case .loss: LossOp.self
    case .sgdUpdate: SGDUpdateOp.self
    case .adamUpdate: AdamUpdateOp.self
    }
  }

  /// Ops a user may write in source (`input` is a statement; parameters come from ops).
  public static var callable: [OpKind] { allCases.filter { !$0.isHostProvided && !$0.definition.isInternal } }

  /// Values the host provides rather than a kernel computes: graph inputs and parameters.
  public var isHostProvided: Bool { self == .input || self == .parameter }

  /// Ops that only reinterpret their operand's buffer (a view, no kernel).
  public var isView: Bool { definition.isView }

  /// The activation ops, usable as `act=` on conv2d and dense.
  public static var activations: [OpKind] { allCases.filter { $0.definition.isActivation } }
}

/// A graph input. Not callable from source; its type comes from the `input` statement.
public enum InputOp: OpDefinition {
  public static let kind = OpKind.input
  public static let summary = "a graph input"
  public static let arity = Arity.exactly(0)
  /// `dropout=p`: a mask the host draws each training step (0, or 1/(1-p) with probability 1-p).
  /// `unbatched=true`: a host-written value without a batch axis (the summed gradients a
  /// data-parallel update reads).
  public static let parameters = [ParamSpec("dropout", .float(min: 0, max: 1), required: false),
                                  ParamSpec("unbatched", .bool, required: false)]
  public static let example: OpExample? = nil
  public static func infer(_ inputs: [TensorType], _ a: inout Attributes) throws(OpError) -> TensorType {
    throw OpError("an input node's type comes from its input statement")
  }
}
