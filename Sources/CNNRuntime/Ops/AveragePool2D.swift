// AveragePool2D int8 reference kernel: bit-exact with TFLM
// reference_integer_ops::AveragePool.

/// Int8 2-D average pooling, NHWC; input and output share quantization (the
/// average of quantized values is the quantized average, so no rescaling).
///
/// - inputShape: [N, H, W, C]; outputShape: [N, OH, OW, C].
/// - Window as `maxPool2DReference`; only in-bounds taps are summed and
///   counted (n = number of in-bounds taps).
/// - Rounding (TFLM): acc > 0 ? (acc + n/2) / n : (acc - n/2) / n with C
///   truncating division, i.e. to nearest, ties away from zero; then
///   clamped to [activationMin, activationMax].
/// - Int32 bound: |acc| <= 128 * n, exact for any window below 2^24 taps.
/// - An empty window (TFLM: the op fails; impossible with valid padding)
///   writes the clamped value of 0.
///
/// Invalid shapes (non-positive dims, channel or batch mismatch) write nothing.
public func averagePool2DReference(
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
        let count = Int32(truncatingIfNeeded: (fyEnd &- fyStart) &* (fxEnd &- fxStart))
        let outBase = ((b &* outH &+ oy) &* outW &+ ox) &* channels
        for c in 0..<channels {
          var acc: Int32 = 0
          for fy in fyStart..<fyEnd {
            let rowBase = (b &* inH &+ inYOrigin &+ fy) &* inW
            for fx in fxStart..<fxEnd {
              acc = acc &+ Int32(input[(rowBase &+ inXOrigin &+ fx) &* channels &+ c])
            }
          }
          if count > 0 {
            let half = count / 2
            acc = acc > 0 ? (acc &+ half) / count : (acc &- half) / count
          }
          acc = acc < params.activationMin ? params.activationMin : acc
          acc = acc > params.activationMax ? params.activationMax : acc
          output[outBase &+ c] = Int8(truncatingIfNeeded: acc)
        }
      }
    }
  }
}

// MARK: - Op unit

/// AVERAGE_POOL_2D: input [N,H,W,C] → [N,OH,OW,C], same quantization;
/// filter, stride and padding from the record, fused activation. Runs the
/// model's kernel path (`averagePool2DOptimized`).
enum AveragePool2DOp: RuntimeOp {
  static let name: StaticString = "AveragePool2D"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> PoolParams {
    try preparePooling(&ctx, global: false)
  }

  static func eval(_ data: UnsafePointer<PoolParams>, _ ctx: OpEvalContext) {
    averagePool2DOptimized(isa: ctx.isa, params: data.pointee, inputShape: ctx.inputDims(0), input: ctx.input(0),
                           outputShape: ctx.outputDims, output: ctx.output)
  }
}

/// Global average pooling: [N,H,W,C] → [N,1,1,C], TFLite average-pool
/// arithmetic over the whole H × W window.
enum GlobalAveragePoolOp: RuntimeOp {
  static let name: StaticString = "GlobalAveragePool"
  static let arity = OpArity(inputs: 1...1)

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> PoolParams {
    try preparePooling(&ctx, global: true)
  }

  static func eval(_ data: UnsafePointer<PoolParams>, _ ctx: OpEvalContext) {
    AveragePool2DOp.eval(data, ctx)
  }
}
