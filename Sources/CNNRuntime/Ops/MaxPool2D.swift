// MaxPool2D int8 reference kernel: bit-exact with TFLM
// reference_integer_ops::MaxPool.

/// Int8 2-D max pooling, NHWC; input and output share quantization.
///
/// - inputShape: [N, H, W, C]; outputShape: [N, OH, OW, C].
/// - Window of output (oy, ox): input rows oy * strideH - padTop + [0, filterH),
///   columns likewise, clipped to the input (padding taps are ignored, never
///   read as a value).
/// - out = min(max(max over the window, activationMin), activationMax). An
///   empty window (impossible with valid padding) yields -128 before the
///   clamp, as in TFLM.
///
/// Invalid shapes (non-positive dims, channel or batch mismatch) write nothing.
public func maxPool2DReference(
  params: PoolParams,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) {
  let batches = inputShape.n
  let inH = inputShape.h, inW = inputShape.w, channels = inputShape.c
  let outH = outputShape.h, outW = outputShape.w
  guard batches > 0, inH > 0, inW > 0, channels > 0, outH > 0, outW > 0,
        outputShape.n == batches, outputShape.c == channels,
        params.filterH > 0, params.filterW > 0 else { return }

  for b in 0..<batches {
    for oy in 0..<outH {
      let inYOrigin = oy &* params.strideH &- params.padTop
      let fyStart = max(0, 0 &- inYOrigin)
      let fyEnd = max(fyStart, min(params.filterH, inH &- inYOrigin))
      for ox in 0..<outW {
        let inXOrigin = ox &* params.strideW &- params.padLeft
        let fxStart = max(0, 0 &- inXOrigin)
        let fxEnd = max(fxStart, min(params.filterW, inW &- inXOrigin))
        let outBase = ((b &* outH &+ oy) &* outW &+ ox) &* channels
        for c in 0..<channels {
          var maxValue: Int32 = -128
          for fy in fyStart..<fyEnd {
            let rowBase = (b &* inH &+ inYOrigin &+ fy) &* inW
            for fx in fxStart..<fxEnd {
              let v = Int32(input[(rowBase &+ inXOrigin &+ fx) &* channels &+ c])
              if v > maxValue { maxValue = v }
            }
          }
          maxValue = maxValue < params.activationMin ? params.activationMin : maxValue
          maxValue = maxValue > params.activationMax ? params.activationMax : maxValue
          output[outBase &+ c] = Int8(truncatingIfNeeded: maxValue)
        }
      }
    }
  }
}

// MARK: - Op unit

/// MAX_POOL_2D: input [N,H,W,C] → [N,OH,OW,C], same quantization; filter,
/// stride and padding from the record, fused activation.
enum MaxPool2DOp: RuntimeOp {
  static let name: StaticString = "MaxPool2D"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> PoolParams {
    try preparePooling(&ctx, global: false)
  }

  static func eval(_ data: UnsafePointer<PoolParams>, _ ctx: OpEvalContext) {
    if armPool(isa: ctx.isa, average: false, params: data.pointee, inputShape: ctx.inputDims(0), input: ctx.input(0),
               outputShape: ctx.outputDims, output: ctx.output) { return }
    if maxPool2DOptimized(isa: ctx.isa, params: data.pointee, inputShape: ctx.inputDims(0), input: ctx.input(0),
                          outputShape: ctx.outputDims, output: ctx.output) { return }
    maxPool2DReference(params: data.pointee, inputShape: ctx.inputDims(0), input: ctx.input(0),
                       outputShape: ctx.outputDims, output: ctx.output)
  }
}

/// The checks and parameters every pooling op shares: input and output
/// quantization equal, batch and channels kept; a windowed pool takes its
/// filter, stride and padding from the record, a global one averages all of
/// H × W into [N, 1, 1, C].
func preparePooling(_ ctx: inout OpPrepareContext, global: Bool) throws(LoadError) -> PoolParams {
  let input = try ctx.activationInput(0, rank4: true)
  let output = ctx.output
  try ctx.requireRank4Output()
  if !sameQuantization(input, output) { throw ctx.fail(.badOp, "pooling input and output quantization must be equal") }
  if output.dims.n != input.dims.n || output.dims.c != input.dims.c {
    throw ctx.fail(.shapeMismatch, "pooling keeps batch and channels")
  }
  let (actMin, actMax) = ctx.activationRange
  if global {
    if output.dims.h != 1 || output.dims.w != 1 { throw ctx.fail(.shapeMismatch, "global average pool output must be [N, 1, 1, C]") }
    return PoolParams(strideH: 1, strideW: 1, filterH: input.dims.h, filterW: input.dims.w,
                      padTop: 0, padLeft: 0, activationMin: actMin, activationMax: actMax)
  }
  let rec = ctx.rec
  try ctx.checkStrides()
  if rec.filterH < 1 || rec.filterW < 1 || rec.filterH > maxSpatialParam || rec.filterW > maxSpatialParam {
    throw ctx.fail(.badOp, "pool filter size must be 1 to 4096")
  }
  if rec.dilationH != 1 || rec.dilationW != 1 { throw ctx.fail(.badOp, "pooling has no dilation") }
  let (padTop, padLeft) = try ctx.checkSpatial(input: input.dims, output: output.dims,
                                               filterH: Int(rec.filterH), filterW: Int(rec.filterW),
                                               dilationH: 1, dilationW: 1)
  return PoolParams(strideH: Int(rec.strideH), strideW: Int(rec.strideW),
                    filterH: Int(rec.filterH), filterW: Int(rec.filterW),
                    padTop: padTop, padLeft: padLeft, activationMin: actMin, activationMax: actMax)
}
