// The op table: one line per op, from the file format's op code to the op
// unit that implements it (Ops/<Op>.swift). Adding an op: a case in `OpCode`
// (Format/ModelFormat.swift, the format's registry of codes), its unit file,
// and its line here; the compiler refuses a code without a line.

extension OpCode {
  /// Hands this op's unit to `v`.
  @inline(__always)
  func visit<V: OpVisitor>(_ v: inout V) -> V.Result {
    switch self {
    case .conv2D: return v.visit(Conv2DOp.self)
    case .depthwiseConv2D: return v.visit(DepthwiseConv2DOp.self)
    case .fullyConnected: return v.visit(FullyConnectedOp.self)
    case .maxPool2D: return v.visit(MaxPool2DOp.self)
    case .averagePool2D: return v.visit(AveragePool2DOp.self)
    case .globalAveragePool: return v.visit(GlobalAveragePoolOp.self)
    case .add: return v.visit(AddOp.self)
    case .reshape: return v.visit(ReshapeOp.self)
    case .softmax: return v.visit(SoftmaxOp.self)
    case .logistic: return v.visit(LogisticOp.self)
    case .mean: return v.visit(MeanOp.self)
    case .pad: return v.visit(PadOp.self)
    // activations
    case .relu: return v.visit(ReluOp.self)
    case .relu6: return v.visit(Relu6Op.self)
    case .leakyRelu: return v.visit(LeakyReluOp.self)
    case .prelu: return v.visit(PreluOp.self)
    case .hardSwish: return v.visit(HardSwishOp.self)
    case .tanh: return v.visit(TanhOp.self)
    case .quantize: return v.visit(QuantizeOp.self)
    case .lookupTable: return v.visit(LookupTableOp.self)
    // binary
    case .mul: return v.visit(MulOp.self)
    case .sub: return v.visit(SubOp.self)
    case .maximum: return v.visit(MaximumOp.self)
    case .minimum: return v.visit(MinimumOp.self)
    case .transposeConv: return v.visit(TransposeConvOp.self)
    // shape
    case .stridedSlice: return v.visit(StridedSliceOp.self)
    case .transpose: return v.visit(TransposeOp.self)
    case .depthToSpace: return v.visit(DepthToSpaceOp.self)
    case .spaceToDepth: return v.visit(SpaceToDepthOp.self)
    case .split: return v.visit(SplitOp.self)
    case .gather: return v.visit(GatherOp.self)
    // join
    case .concatenation: return v.visit(ConcatenationOp.self)
    case .resizeNearestNeighbor: return v.visit(ResizeNearestNeighborOp.self)
    case .resizeBilinear: return v.visit(ResizeBilinearOp.self)
    }
  }
}
