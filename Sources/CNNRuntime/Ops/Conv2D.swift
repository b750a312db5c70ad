// Conv2D int8 reference kernel: the oracle every optimised convolution is
// tested against. Arithmetic is that of TFLM
// reference_integer_ops::ConvPerChannel (bit-exact), including grouped
// convolution.

/// Int8 2-D convolution, NHWC input and output, OHWI filter, per-channel
/// requantization.
///
/// - inputShape: [N, H, W, Cin].
/// - filterShape: [Cout, KH, KW, Cin / groups] (n = output channels,
///   c = input channels per group).
/// - outputShape: [N, OH, OW, Cout]; OH/OW are taken as given (the loader
///   derives them from padding and strides).
/// - Groups: groups = Cin / filterShape.c; output channel oc belongs to group
///   oc / (Cout / groups) and reads input channels
///   [group * filterShape.c, (group + 1) * filterShape.c).
/// - Taps: input row oy * strideH - padTop + ky * dilationH (same for
///   columns); taps outside the input are skipped, i.e. they contribute the
///   zero point (0 after the offset), as TFLM's SAME/explicit padding.
/// - bias: Cout Int32 values (scale input_scale * filter_scale[oc]) or nil.
/// - requant: Cout multipliers and shifts.
///
/// acc = sum(filter * (input + inputOffset)) + bias, then
/// `requantizeToInt8` (MultiplyByQuantizedMultiplier, + outputOffset, clamp).
///
/// Int32 accumulation bound: with int8 filters and |input + inputOffset| <=
/// 255 (zero point in -128...127), each product is at most 128 * 255 = 32,640
/// in magnitude, so the sum of K = KH * KW * Cin/groups products plus a bias
/// with |bias| <= 2^30 is exact for K <= 32,896. Beyond that the int32 sum
/// wraps modulo 2^32 exactly as TFLM's int32 accumulator does on every
/// two's-complement target (wrapping addition is associative, so the order of
/// the terms does not change the result).
///
/// Invalid shapes (non-positive dims, Cin not a multiple of filterShape.c,
/// Cout not a multiple of the group count, batch mismatch) write nothing:
/// the loader rejects them first; the kernel only refuses to trap.
public func conv2DReference(
  params: ConvParams, requant: ChannelRequant,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  filterShape: Dims4, filter: UnsafePointer<Int8>,
  bias: UnsafePointer<Int32>?,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) {
  let batches = inputShape.n
  let inH = inputShape.h, inW = inputShape.w, inC = inputShape.c
  let outH = outputShape.h, outW = outputShape.w, outC = outputShape.c
  let kH = filterShape.h, kW = filterShape.w, groupInC = filterShape.c
  guard batches > 0, inH > 0, inW > 0, inC > 0, outH > 0, outW > 0, outC > 0,
        kH > 0, kW > 0, groupInC > 0, outputShape.n == batches, filterShape.n == outC,
        inC % groupInC == 0 else { return }
  let groups = inC / groupInC
  guard outC % groups == 0 else { return }
  let filtersPerGroup = outC / groups

  let inputOffset = params.inputOffset
  let strideH = params.strideH, strideW = params.strideW
  let dilationH = params.dilationH, dilationW = params.dilationW

  var outIndex = 0
  for b in 0..<batches {
    for oy in 0..<outH {
      let inYOrigin = oy &* strideH &- params.padTop
      for ox in 0..<outW {
        let inXOrigin = ox &* strideW &- params.padLeft
        for oc in 0..<outC {
          let group = oc / filtersPerGroup
          let inChannelBase = group &* groupInC
          var acc: Int32 = 0
          for ky in 0..<kH {
            let iy = inYOrigin &+ ky &* dilationH
            if iy < 0 || iy >= inH { continue }
            for kx in 0..<kW {
              let ix = inXOrigin &+ kx &* dilationW
              if ix < 0 || ix >= inW { continue }
              let inBase = ((b &* inH &+ iy) &* inW &+ ix) &* inC &+ inChannelBase
              let filterBase = ((oc &* kH &+ ky) &* kW &+ kx) &* groupInC
              for ic in 0..<groupInC {
                let x = Int32(input[inBase &+ ic]) &+ inputOffset
                let w = Int32(filter[filterBase &+ ic])
                acc = acc &+ w &* x
              }
            }
          }
          if let bias { acc = acc &+ bias[oc] }
          output[outIndex] = requantizeToInt8(
            acc, multiplier: requant.multiplier[oc], shift: requant.shift[oc],
            outputOffset: params.outputOffset,
            activationMin: params.activationMin, activationMax: params.activationMax)
          outIndex &+= 1
        }
      }
    }
  }
}

// MARK: - Op unit

/// What a Conv2D or DepthwiseConv2D keeps from load: the parameters and
/// requantization tables of the reference kernel, and the packed region
/// when an optimised path took the op (`Kernels/Convolution/Conv2DPacked.swift`).
struct ConvolutionData {
  var params: ConvParams
  var requant: ChannelRequant
  /// Packed weights and kernel arguments for `isa`, or nil (reference kernel).
  var packed: UnsafeRawPointer?
  var isa: Int32
}

/// CONV_2D: input [N,H,W,Cin], filter [Cout,KH,KW,Cin/groups] (constant
/// int8, symmetric), optional int32 bias [Cout]; stride, dilation, padding
/// and a fused activation from the record. Grouped when Cin is a multiple of
/// the filter depth.
enum Conv2DOp: RuntimeOp {
  static let name: StaticString = "Conv2D"
  static let arity = OpArity(inputs: 2...3)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int {
    var bytes = requantTableBytes(plan)
    if let input = plan.inputRecord(0), let filter = plan.inputRecord(1) {
      let (packed, weightBytes) = packedConvSize(isa: plan.isa, input: input, filter: filter,
                                                 dilationW: Int(plan.rec.dilationW))
      // Past the cap, convolutions keep the portable path (prepare packs only what fits).
      if packed > 0 && plan.packedConvBytes + packed <= maxPackedConvBytes {
        plan.packedConvBytes += packed
        plan.countPackedWeights(weightBytes, filter: filter)
        bytes += packed + 64
      }
    }
    return bytes
  }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> ConvolutionData {
    let (input, filter) = try convolutionOperands(&ctx)
    let output = ctx.output
    let outC = output.dims.c
    if filter.dims.n != outC { throw ctx.fail(.shapeMismatch, "filter count differs from output channels") }
    if input.dims.c % filter.dims.c != 0 { throw ctx.fail(.shapeMismatch, "input channels not a multiple of filter depth") }
    let groups = input.dims.c / filter.dims.c
    if outC % groups != 0 { throw ctx.fail(.shapeMismatch, "output channels not divisible by the group count") }
    if filter.quantKind == .perChannel && (filter.scaleCount != outC || filter.dims.n != filter.scaleCount) {
      throw ctx.fail(.badOp, "per-channel filter scales must be along the output-channel axis")
    }
    var d = try prepareConvolution(&ctx, input: input, filter: filter, depthMultiplier: 1)
    ctx.paramCount = Int64(outC) * Int64(filter.dims.h * filter.dims.w * filter.dims.c)
      + (ctx.hasInput(2) ? Int64(outC) : 0)
    ctx.macs = Int64(output.count) * Int64(filter.dims.h * filter.dims.w * filter.dims.c)
    if ctx.isa != KernelISA.portable && filter.dims.c == input.dims.c {
      let need = conv2DPackedBytes(isa: ctx.isa, filterShape: filter.dims, inputChannels: input.dims.c,
                                   dilationW: d.params.dilationW)
      let bias = try ctx.bias(channels: outC), p = d.params, rq = d.requant, isa = ctx.isa
      try packConvolution(&ctx, &d, bytes: need) { region in
        conv2DPack(isa: isa, params: p, requant: rq, inputShape: input.dims, filterShape: filter.dims,
                   filter: filter.constData!.assumingMemoryBound(to: Int8.self), bias: bias,
                   outputShape: output.dims, region: region, regionBytes: need)
      }
    }
    return d
  }

  static func eval(_ data: UnsafePointer<ConvolutionData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    if let region = d.packed {
      conv2DPacked(isa: d.isa, region: region, input: ctx.input(0), output: ctx.output)
      return
    }
    #if CNNRT_DSP
    if conv2DDSP(params: d.params, requant: d.requant, inputShape: ctx.inputDims(0), input: ctx.input(0),
                 filterShape: ctx.inputDims(1), filter: ctx.input(1), bias: ctx.bias(2),
                 outputShape: ctx.outputDims, output: ctx.output) { return }
    #endif
    conv2DReference(params: d.params, requant: d.requant, inputShape: ctx.inputDims(0), input: ctx.input(0),
                    filterShape: ctx.inputDims(1), filter: ctx.input(1), bias: ctx.bias(2),
                    outputShape: ctx.outputDims, output: ctx.output)
  }
}

/// Gives a convolution's weights, packed for the model's kernel path, `bytes`
/// of its extra region when they fit (pass 1 planned them); `pack` fills the
/// region and says whether the path takes the op (else the reference runs).
func packConvolution(_ ctx: inout OpPrepareContext, _ d: inout ConvolutionData, bytes: Int,
                     _ pack: (UnsafeMutableRawPointer) -> Bool) throws(LoadError) {
  guard bytes > 0, ctx.canAllocate(bytes: bytes, alignment: 64) else { return }
  let region = try ctx.allocate(bytes: bytes, alignment: 64)
  if pack(region) { d.packed = UnsafeRawPointer(region) }
}

/// Bytes the packed region of one Conv2D needs and its packed filter copy's
/// share (0, 0 when it runs the portable path), from its records (pass 1):
/// rank-4 filter and input, one group.
func packedConvSize(isa: Int32, input: TensorRecord, filter: TensorRecord,
                    dilationW: Int) -> (bytes: Int, weightBytes: Int) {
  if filter.rank != 4 || input.rank != 4 { return (0, 0) }
  let inC = Int(input.dim(3))
  if Int(filter.dim(3)) != inC { return (0, 0) }
  return conv2DPackedSize(
    isa: isa, filterShape: Dims4(n: Int(filter.dim(0)), h: Int(filter.dim(1)), w: Int(filter.dim(2)), c: inC),
    inputChannels: inC, dilationW: dilationW)
}

/// Bytes of one multiplier and one shift per output channel (pass 1).
func requantTableBytes(_ plan: OpPlanContext) -> Int {
  let out = plan.outputRecord
  return 2 * alignUp(4 * Int(out.dim(Int(out.rank) - 1)), 16)
}

/// The input and filter of a convolution, checked for what Conv2D and
/// DepthwiseConv2D share.
func convolutionOperands(_ ctx: inout OpPrepareContext) throws(LoadError) -> (TensorInfo, TensorInfo) {
  let input = try ctx.activationInput(0, rank4: true)
  try ctx.requireRank4Output()
  guard let filter = ctx.constantInput(1) else { throw ctx.fail(.badOp, "missing filter") }
  if filter.constData == nil || filter.type != .int8 || filter.rank != 4 {
    throw ctx.fail(.badOp, "filter must be a constant int8 rank-4 tensor")
  }
  if filter.quantKind == .none { throw ctx.fail(.badOp, "filter must be quantized") }
  if filter.zeroPoint != 0 { throw ctx.fail(.badOp, "filter zero point must be 0 (symmetric weights)") }
  try ctx.checkStrides()
  return (input, filter)
}

/// The parameters and requantization tables shared by Conv2D and
/// DepthwiseConv2D (reference kernel; `packed` nil).
func prepareConvolution(_ ctx: inout OpPrepareContext, input: TensorInfo, filter: TensorInfo,
                        depthMultiplier: Int) throws(LoadError) -> ConvolutionData {
  let output = ctx.output
  let rec = ctx.rec
  if output.dims.n != input.dims.n { throw ctx.fail(.shapeMismatch, "batch differs between input and output") }
  let (padTop, padLeft) = try ctx.checkSpatial(input: input.dims, output: output.dims,
                                               filterH: filter.dims.h, filterW: filter.dims.w,
                                               dilationH: Int(rec.dilationH), dilationW: Int(rec.dilationW))
  _ = try ctx.bias(channels: output.dims.c)
  let rq = try ctx.channelRequant(input: input, filter: filter, channels: output.dims.c)
  let (actMin, actMax) = ctx.activationRange
  let p = ConvParams(inputOffset: -input.zeroPoint, outputOffset: output.zeroPoint,
                     strideH: Int(rec.strideH), strideW: Int(rec.strideW),
                     dilationH: Int(rec.dilationH), dilationW: Int(rec.dilationW),
                     padTop: padTop, padLeft: padLeft, depthMultiplier: depthMultiplier,
                     activationMin: actMin, activationMax: actMax)
  return ConvolutionData(params: p, requant: rq, packed: nil, isa: ctx.isa)
}
