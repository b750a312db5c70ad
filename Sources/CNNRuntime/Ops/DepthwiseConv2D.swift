// DepthwiseConv2D int8 reference kernel: bit-exact with TFLM
// reference_integer_ops::DepthwiseConvPerChannel.

/// Int8 depthwise 2-D convolution, NHWC, per-channel requantization.
///
/// - inputShape: [N, H, W, Cin].
/// - filterShape: [1, KH, KW, Cin * depthMultiplier].
/// - outputShape: [N, OH, OW, Cin * depthMultiplier]; output channel
///   oc = ic * depthMultiplier + m reads only input channel ic.
/// - Taps, padding, stride and dilation as `conv2DReference`.
/// - bias / requant: one entry per output channel (bias may be nil).
///
/// Int32 accumulation bound: K = KH * KW products of magnitude <= 32,640
/// (see `conv2DReference`), so the sum is exact for any kernel up to 32,896
/// taps with |bias| <= 2^30; beyond that it wraps like TFLM's int32.
///
/// Invalid shapes (non-positive dims, channel counts that do not match
/// Cin * depthMultiplier, batch mismatch) write nothing.
public func depthwiseConv2DReference(
  params: ConvParams, requant: ChannelRequant,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  filterShape: Dims4, filter: UnsafePointer<Int8>,
  bias: UnsafePointer<Int32>?,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) {
  let batches = inputShape.n
  let inH = inputShape.h, inW = inputShape.w, inC = inputShape.c
  let outH = outputShape.h, outW = outputShape.w, outC = outputShape.c
  let kH = filterShape.h, kW = filterShape.w
  let multiplier = params.depthMultiplier
  guard batches > 0, inH > 0, inW > 0, inC > 0, outH > 0, outW > 0,
        kH > 0, kW > 0, multiplier > 0, outputShape.n == batches,
        outC == inC &* multiplier, filterShape.c == outC, filterShape.n == 1 else { return }

  let inputOffset = params.inputOffset
  let strideH = params.strideH, strideW = params.strideW
  let dilationH = params.dilationH, dilationW = params.dilationW

  for b in 0..<batches {
    for oy in 0..<outH {
      let inYOrigin = oy &* strideH &- params.padTop
      for ox in 0..<outW {
        let inXOrigin = ox &* strideW &- params.padLeft
        let outBase = ((b &* outH &+ oy) &* outW &+ ox) &* outC
        for ic in 0..<inC {
          for m in 0..<multiplier {
            let oc = ic &* multiplier &+ m
            var acc: Int32 = 0
            for ky in 0..<kH {
              let iy = inYOrigin &+ ky &* dilationH
              if iy < 0 || iy >= inH { continue }
              for kx in 0..<kW {
                let ix = inXOrigin &+ kx &* dilationW
                if ix < 0 || ix >= inW { continue }
                let x = Int32(input[((b &* inH &+ iy) &* inW &+ ix) &* inC &+ ic]) &+ inputOffset
                let w = Int32(filter[(ky &* kW &+ kx) &* outC &+ oc])
                acc = acc &+ w &* x
              }
            }
            if let bias { acc = acc &+ bias[oc] }
            output[outBase &+ oc] = requantizeToInt8(
              acc, multiplier: requant.multiplier[oc], shift: requant.shift[oc],
              outputOffset: params.outputOffset,
              activationMin: params.activationMin, activationMax: params.activationMax)
          }
        }
      }
    }
  }
}

// MARK: - Op unit

/// DEPTHWISE_CONV_2D: input [N,H,W,C], filter [1,KH,KW,C×multiplier]
/// (constant int8, symmetric), optional int32 bias; stride, dilation,
/// padding and a fused activation from the record.
enum DepthwiseConv2DOp: RuntimeOp {
  static let name: StaticString = "DepthwiseConv2D"
  static let arity = OpArity(inputs: 2...3)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int {
    var bytes = requantTableBytes(plan)
    if let input = plan.inputRecord(0), let filter = plan.inputRecord(1) {
      let packed = packedDepthwiseBytes(isa: plan.isa, input: input, filter: filter, dilationW: Int(plan.rec.dilationW))
      if packed > 0 {
        bytes += packed + 64
        if filter.rank == 4 && input.rank == 4 {
          let w = depthwiseConv2DPackedWeightBytes(
            isa: plan.isa,
            filterShape: Dims4(n: Int(filter.dim(0)), h: Int(filter.dim(1)), w: Int(filter.dim(2)), c: Int(filter.dim(3))),
            inputChannels: Int(input.dim(3)), dilationW: Int(plan.rec.dilationW))
          plan.countPackedWeights(w, filter: filter)
        }
      }
    }
    return bytes
  }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ConvolutionData {
    let (input, filter) = try convolutionOperands(&ctx)
    let output = ctx.output
    let outC = output.dims.c
    if filter.dims.n != 1 || filter.dims.c != outC {
      throw ctx.fail(.shapeMismatch, "depthwise filter must be [1, KH, KW, output channels]")
    }
    if outC % input.dims.c != 0 { throw ctx.fail(.shapeMismatch, "output channels not a multiple of input channels") }
    if filter.quantKind == .perChannel && filter.scaleCount != outC {
      throw ctx.fail(.badOp, "per-channel filter scales must be along the channel axis")
    }
    var d = try prepareConvolution(&ctx, input: input, filter: filter, depthMultiplier: outC / input.dims.c)
    ctx.paramCount = Int64(outC) * Int64(filter.dims.h * filter.dims.w) + (ctx.hasInput(2) ? Int64(outC) : 0)
    ctx.macs = Int64(output.count) * Int64(filter.dims.h * filter.dims.w)
    if ctx.isa != KernelISA.portable {
      let need = depthwiseConv2DPackedBytes(isa: ctx.isa, filterShape: filter.dims, inputChannels: input.dims.c,
                                            dilationW: d.params.dilationW)
      let bias = try ctx.bias(channels: outC), p = d.params, rq = d.requant, isa = ctx.isa
      try packConvolution(&ctx, &d, bytes: need) { region in
        depthwiseConv2DPack(isa: isa, params: p, requant: rq, inputShape: input.dims, filterShape: filter.dims,
                            filter: filter.constData!.assumingMemoryBound(to: Int8.self), bias: bias,
                            outputShape: output.dims, region: region, regionBytes: need)
      }
    }
    return d
  }

  static func eval(_ data: UnsafePointer<ConvolutionData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    if let region = d.packed {
      depthwiseConv2DPacked(isa: d.isa, region: region, input: ctx.input(0), output: ctx.output)
      return
    }
    #if CNNRT_DSP
    if depthwiseConv2DDSP(params: d.params, requant: d.requant, inputShape: ctx.inputDims(0), input: ctx.input(0),
                          filterShape: ctx.inputDims(1), filter: ctx.input(1), bias: ctx.bias(2),
                          outputShape: ctx.outputDims, output: ctx.output) { return }
    #endif
    depthwiseConv2DReference(params: d.params, requant: d.requant, inputShape: ctx.inputDims(0), input: ctx.input(0),
                             filterShape: ctx.inputDims(1), filter: ctx.input(1), bias: ctx.bias(2),
                             outputShape: ctx.outputDims, output: ctx.output)
  }
}

/// Bytes the packed region of one depthwise convolution needs (0: portable
/// path), from its records (pass 1).
func packedDepthwiseBytes(isa: Int32, input: TensorRecord, filter: TensorRecord, dilationW: Int) -> Int {
  if filter.rank != 4 || input.rank != 4 { return 0 }
  return depthwiseConv2DPackedBytes(
    isa: isa, filterShape: Dims4(n: Int(filter.dim(0)), h: Int(filter.dim(1)), w: Int(filter.dim(2)), c: Int(filter.dim(3))),
    inputChannels: Int(input.dim(3)), dilationW: dilationW)
}
