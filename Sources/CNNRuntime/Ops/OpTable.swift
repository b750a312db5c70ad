// The op table: one line per op, from the file format's op code to the op
// unit that implements it (Ops/<Op>.swift). Adding an op: a case in `OpCode`
// (Format/ModelFormat.swift, the format's registry of codes), its unit file,
// and its line here; the compiler refuses a code without a line.
//
// Each line sits in `#if !CNNRT_OP_SUBSET || CNNRT_OP_<CASE NAME IN CAPITALS>`:
// a build with `-D CNNRT_OP_SUBSET` (`make lib OPS="CONV2D ADD ..."`, e.g. for
// Cortex-M flash) compiles in only the listed ops, like TFLite Micro's op
// resolver; the loader refuses a model with any other op (`isCompiledIn`).

extension OpCode {
  /// Hands this op's unit to `v`.
  @inline(__always)
  func visit<V: OpVisitor>(_ v: inout V) -> V.Result {
    switch self {
    #if !CNNRT_OP_SUBSET || CNNRT_OP_CONV2D
    case .conv2D: return v.visit(Conv2DOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_DEPTHWISECONV2D
    case .depthwiseConv2D: return v.visit(DepthwiseConv2DOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_FULLYCONNECTED
    case .fullyConnected: return v.visit(FullyConnectedOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_MAXPOOL2D
    case .maxPool2D: return v.visit(MaxPool2DOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_AVERAGEPOOL2D
    case .averagePool2D: return v.visit(AveragePool2DOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_GLOBALAVERAGEPOOL
    case .globalAveragePool: return v.visit(GlobalAveragePoolOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_ADD
    case .add: return v.visit(AddOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_RESHAPE
    case .reshape: return v.visit(ReshapeOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_SOFTMAX
    case .softmax: return v.visit(SoftmaxOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_LOGISTIC
    case .logistic: return v.visit(LogisticOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_MEAN
    case .mean: return v.visit(MeanOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_PAD
    case .pad: return v.visit(PadOp.self)
    #endif
    // activations
    #if !CNNRT_OP_SUBSET || CNNRT_OP_RELU
    case .relu: return v.visit(ReluOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_RELU6
    case .relu6: return v.visit(Relu6Op.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_LEAKYRELU
    case .leakyRelu: return v.visit(LeakyReluOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_PRELU
    case .prelu: return v.visit(PreluOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_HARDSWISH
    case .hardSwish: return v.visit(HardSwishOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_TANH
    case .tanh: return v.visit(TanhOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_QUANTIZE
    case .quantize: return v.visit(QuantizeOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_LOOKUPTABLE
    case .lookupTable: return v.visit(LookupTableOp.self)
    #endif
    // binary
    #if !CNNRT_OP_SUBSET || CNNRT_OP_MUL
    case .mul: return v.visit(MulOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_SUB
    case .sub: return v.visit(SubOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_MAXIMUM
    case .maximum: return v.visit(MaximumOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_MINIMUM
    case .minimum: return v.visit(MinimumOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_TRANSPOSECONV
    case .transposeConv: return v.visit(TransposeConvOp.self)
    #endif
    // shape
    #if !CNNRT_OP_SUBSET || CNNRT_OP_STRIDEDSLICE
    case .stridedSlice: return v.visit(StridedSliceOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_TRANSPOSE
    case .transpose: return v.visit(TransposeOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_DEPTHTOSPACE
    case .depthToSpace: return v.visit(DepthToSpaceOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_SPACETODEPTH
    case .spaceToDepth: return v.visit(SpaceToDepthOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_SPLIT
    case .split: return v.visit(SplitOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_GATHER
    case .gather: return v.visit(GatherOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_TILE
    case .tile: return v.visit(TileOp.self)
    #endif
    // reduce
    #if !CNNRT_OP_SUBSET || CNNRT_OP_SUM
    case .sum: return v.visit(SumOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_REDUCEMAX
    case .reduceMax: return v.visit(ReduceMaxOp.self)
    #endif
    // join
    #if !CNNRT_OP_SUBSET || CNNRT_OP_CONCATENATION
    case .concatenation: return v.visit(ConcatenationOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_RESIZENEARESTNEIGHBOR
    case .resizeNearestNeighbor: return v.visit(ResizeNearestNeighborOp.self)
    #endif
    #if !CNNRT_OP_SUBSET || CNNRT_OP_RESIZEBILINEAR
    case .resizeBilinear: return v.visit(ResizeBilinearOp.self)
    #endif
    #if CNNRT_OP_SUBSET
    default: return v.unavailable()
    #endif
    }
  }
}
