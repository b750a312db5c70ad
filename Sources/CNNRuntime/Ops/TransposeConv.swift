// TransposeConv (TFLite TRANSPOSE_CONV, int8, per-channel weights) reference
// kernel: bit-exact with TFLM's int8 transpose convolution, which scatters
// every input pixel through the filter into an int32 buffer of the output's
// size, adds the bias and requantizes per output channel. This kernel
// gathers instead: each output element sums the same products (integer
// addition in wrapping int32 is associative, so the order does not matter)
// and needs no scratch buffer. On the x86 paths the AVX2 kernel
// (_CNNKernelsAVX2/TransposeConvAVX2.swift), on the Arm paths the NEON one
// (_CNNKernelsNEON/ChannelOpsNEON.swift) runs the same gather on weights
// packed at load (`transposeConvPack`).
import _CNNRuntimeShims
#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsNEON)
import _CNNKernelsNEON
#endif

/// Int8 transposed convolution parameters (prepared at load).
struct TransposeConvParams {
  /// −input zero point.
  var inputOffset: Int32
  var outputOffset: Int32
  var strideH: Int
  var strideW: Int
  /// TFLM's padding: the leading pad of the convolution whose transpose
  /// this is (computed from the output size, see `TransposeConvOp.prepare`).
  var padTop: Int
  var padLeft: Int
  var activationMin: Int32
  var activationMax: Int32
}

/// Int8 transposed convolution, NHWC input and output, OHWI filter.
///
/// - inputShape: [N, H, W, Cin]; filterShape: [Cout, KH, KW, Cin];
///   outputShape: [N, OH, OW, Cout].
/// - Input pixel (iy, ix) and tap (ky, kx) reach output row
///   iy × strideH − padTop + ky (columns alike); products falling outside
///   the output are dropped, as in TFLM.
/// - acc = Σ (x + inputOffset) × w over the taps reaching the element, + bias,
///   then MultiplyByQuantizedMultiplier with the channel's multiplier and
///   shift, + outputOffset, clamped to the activation range.
///
/// Invalid shapes write nothing (the loader refuses them first).
func transposeConvReference(
  params: TransposeConvParams, requant: ChannelRequant,
  inputShape: Dims4, input: UnsafePointer<Int8>,
  filterShape: Dims4, filter: UnsafePointer<Int8>,
  bias: UnsafePointer<Int32>?,
  outputShape: Dims4, output: UnsafeMutablePointer<Int8>
) {
  let batches = inputShape.n, inH = inputShape.h, inW = inputShape.w, inC = inputShape.c
  let outH = outputShape.h, outW = outputShape.w, outC = outputShape.c
  let kH = filterShape.h, kW = filterShape.w
  let sH = params.strideH, sW = params.strideW
  guard batches > 0, inH > 0, inW > 0, inC > 0, outH > 0, outW > 0, outC > 0, kH > 0, kW > 0,
        sH > 0, sW > 0, filterShape.n == outC, filterShape.c == inC, outputShape.n == batches else { return }
  var outIndex = 0
  for b in 0..<batches {
    for oy in 0..<outH {
      // Taps reaching output row oy: ky ≡ oy + padTop (mod strideH), input
      // row iy = (oy + padTop − ky) / strideH in [0, inH): ky from kyFirst
      // in steps of strideH, iy falling by 1 each step (no division per
      // tap; columns alike).
      let ty = oy &+ params.padTop  // = iy × strideH + ky
      let kyFirst = ((ty % sH) &+ sH) % sH, iyFirst = (ty &- kyFirst) / sH
      for ox in 0..<outW {
        let tx = ox &+ params.padLeft
        let kxFirst = ((tx % sW) &+ sW) % sW, ixFirst = (tx &- kxFirst) / sW
        for oc in 0..<outC {
          // Σ (x + inputOffset) × w = Σ x × w + inputOffset × Σ w, in
          // wrapping int32 like the reference's accumulator (the same sum
          // modulo 2^32).
          var acc: Int32 = 0, weightSum: Int32 = 0
          var ky = kyFirst, iy = iyFirst
          while ky < kH && iy >= 0 {
            if iy < inH {
              var kx = kxFirst, ix = ixFirst
              while kx < kW && ix >= 0 {
                if ix < inW {
                  let x = input + ((b &* inH &+ iy) &* inW &+ ix) &* inC
                  let w = filter + ((oc &* kH &+ ky) &* kW &+ kx) &* inC
                  var dot: Int32 = 0, ws: Int32 = 0
                  for ic in 0..<inC {
                    dot = dot &+ Int32(x[ic]) &* Int32(w[ic])
                    ws = ws &+ Int32(w[ic])
                  }
                  acc = acc &+ dot
                  weightSum = weightSum &+ ws
                }
                kx &+= sW
                ix &-= 1
              }
            }
            ky &+= sH
            iy &-= 1
          }
          acc = acc &+ params.inputOffset &* weightSum
          if let bias { acc = acc &+ bias[oc] }
          output[outIndex] = requantizeToInt8(
            acc, multiplier: requant.multiplier[oc], shift: requant.shift[oc], outputOffset: params.outputOffset,
            activationMin: params.activationMin, activationMax: params.activationMax)
          outIndex &+= 1
        }
      }
    }
  }
}

// MARK: - Packed weights (x86 and Arm paths)

/// The packed layout of a transposed convolution on `isa`, or nil when the
/// path has no kernel for it (the reference runs). The AVX2 and AVX-512
/// paths both run the AVX2 kernel on the Conv2D per-tap layout (output
/// channels in blocks of 8, input channels in pairs; the row-scratch
/// requantization table at that layout's end is left out); both Arm paths
/// run the NEON kernel on blocks of 8 output channels, one input channel
/// per group. int8 weights on every path. Overflow-safe (pass 1).
func transposeConvLayout(isa: Int32, filterShape: Dims4, inputChannels inC: Int) -> ConvPackLayout? {
  let outC = filterShape.n, kH = filterShape.h, kW = filterShape.w
  guard filterShape.c == inC else { return nil }
  let isa = buildISA(isa)
  if isa == KernelISA.avx2 || isa == KernelISA.avx512 {
    guard var l = convPackLayout(isa: KernelISA.avx2, outC: outC, kH: kH, kW: kW, inC: inC) else { return nil }
    l.bytes = l.tableOffset
    return l
  }
  guard isArmISA(isa), outC > 0, kH > 0, kW > 0, inC > 0, outC <= 1 << 20, kH <= 1 << 16, kW <= 1 << 16,
        inC <= 1 << 20 else { return nil }
  let blocks = (outC + 7) / 8
  let (taps, o1) = kH.multipliedReportingOverflow(by: kW)
  let (perBlock, o2) = taps.multipliedReportingOverflow(by: inC * 8)
  let (weightBytes, o3) = perBlock.multipliedReportingOverflow(by: blocks)
  if o1 || o2 || o3 || weightBytes > maxPackedConvBytes { return nil }
  let channelBytes = alignUp(blocks * 8 * 4, 64)
  let weightsOffset = alignUp(MemoryLayout<cnnrt_conv_args>.stride, 64)
  let accInitOffset = weightsOffset + alignUp(weightBytes, 64)
  let multiplierOffset = accInitOffset + channelBytes, shiftOffset = multiplierOffset + channelBytes
  let end = shiftOffset + channelBytes
  return ConvPackLayout(weightsOffset: weightsOffset, accInitOffset: accInitOffset, multiplierOffset: multiplierOffset,
                        shiftOffset: shiftOffset, tableOffset: end, bytes: end, cGroups: inC, ocBlocks: blocks,
                        lanes: 8, groupSize: 1)
}

/// Bytes of the packed region `transposeConvPack` fills on `isa`, and of the
/// packed filter copy inside it; (0, 0) when the path has no kernel.
func transposeConvPackedSize(isa: Int32, filterShape: Dims4, inputChannels: Int) -> (bytes: Int, weightBytes: Int) {
  guard let l = transposeConvLayout(isa: isa, filterShape: filterShape, inputChannels: inputChannels) else {
    return (0, 0)
  }
  return (l.bytes, l.accInitOffset - l.weightsOffset)
}

/// Fills a packed region (`transposeConvPackedSize(...).bytes` at `region`,
/// 64-byte aligned) for `transposeConvPacked`: a cnnrt_conv_args block, the
/// weights, and per padded output channel the bias (or 0), multiplier and
/// shift. Returns false when the path has no kernel for these shapes or
/// parameters.
func transposeConvPack(
  isa: Int32, params: TransposeConvParams, requant: ChannelRequant,
  inputShape: Dims4, filterShape: Dims4, filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?,
  outputShape: Dims4, region: UnsafeMutableRawPointer, regionBytes: Int
) -> Bool {
  let outC = filterShape.n, inC = inputShape.c
  guard outputShape.c == outC, outputShape.n == inputShape.n, inputShape.n > 0, inputShape.h > 0, inputShape.w > 0,
        outputShape.h > 0, outputShape.w > 0, params.strideH > 0, params.strideW > 0,
        params.activationMin >= -128, params.activationMax <= 127, params.activationMin <= params.activationMax,
        params.inputOffset >= -127, params.inputOffset <= 128,  // x + offset fits int16
        let l = transposeConvLayout(isa: isa, filterShape: filterShape, inputChannels: inC), l.bytes <= regionBytes
  else { return false }
  // The gather of a forward convolution's arguments: strides and the
  // forward convolution's leading pads, dilation 1.
  let forward = ConvParams(inputOffset: params.inputOffset, outputOffset: params.outputOffset,
                           strideH: params.strideH, strideW: params.strideW, dilationH: 1, dilationW: 1,
                           padTop: params.padTop, padLeft: params.padLeft, depthMultiplier: 1,
                           activationMin: params.activationMin, activationMax: params.activationMax)
  let a = packedConvArgs(l, region: region, params: forward, requant: requant, bias: bias, inputShape: inputShape,
                         outputShape: outputShape, kH: filterShape.h, kW: filterShape.w) { _ in 0 }
  packConvBlocks(filter: filter, outC: outC, kH: filterShape.h, kW: filterShape.w, inC: inC, blocks: l.ocBlocks,
                 lanes: l.lanes, groupSize: l.groupSize, cGroups: l.cGroups, into: region + l.weightsOffset)
  region.bindMemory(to: cnnrt_conv_args.self, capacity: 1).initialize(to: a)
  return true
}

/// Runs a transposed convolution packed by `transposeConvPack` for `isa`.
/// The caller guarantees the CPU supports `isa`; a path this build lacks
/// writes nothing.
func transposeConvPacked(isa: Int32, region: UnsafeRawPointer, input: UnsafePointer<Int8>,
                         output: UnsafeMutablePointer<Int8>) {
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  if isArmISA(isa) {
    cnnrtTransposeConvArm(region.assumingMemoryBound(to: cnnrt_conv_args.self), input, output)
    return
  }
  #endif
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if isa == KernelISA.avx2 || isa == KernelISA.avx512 {
    cnnrtTransposeConvAVX2(region.assumingMemoryBound(to: cnnrt_conv_args.self), input, output)
  }
  #endif
}

// MARK: - Op unit

struct TransposeConvData {
  var params: TransposeConvParams
  var requant: ChannelRequant
  /// Packed weights and kernel arguments for `isa`, or nil (reference kernel).
  var packed: UnsafeRawPointer?
  var isa: Int32
}

/// TRANSPOSE_CONV: input [N,H,W,Cin], filter [Cout,KH,KW,Cin] (constant
/// int8, symmetric, per-tensor or per-channel), optional int32 bias [Cout];
/// output [N,OH,OW,Cout] (its size is the TFLite op's output_shape input);
/// strides, SAME, VALID or explicit padding and a fused activation from the
/// record.
/// The output size must be one whose forward convolution (same filter,
/// stride and padding) gives the input size.
enum TransposeConvOp: RuntimeOp {
  static let name: StaticString = "TransposeConv"
  static let arity = OpArity(inputs: 2...3)

  static func extraBytes(_ plan: inout OpPlanContext) -> Int {
    var bytes = requantTableBytes(plan)
    if let input = plan.inputRecord(0), let filter = plan.inputRecord(1), input.rank == 4, filter.rank == 4 {
      let (packed, weightBytes) = transposeConvPackedSize(
        isa: plan.isa, filterShape: Dims4(n: Int(filter.dim(0)), h: Int(filter.dim(1)), w: Int(filter.dim(2)),
                                          c: Int(filter.dim(3))), inputChannels: Int(input.dim(3)))
      if packed > 0 && plan.packedConvBytes + packed <= maxPackedConvBytes {
        plan.packedConvBytes += packed
        plan.countPackedWeights(weightBytes, filter: filter)
        bytes += packed + 64
      }
    }
    return bytes
  }

  static func prepare(_ ctx: inout OpPrepareContext) throws(LoadError) -> TransposeConvData {
    let (input, filter) = try convolutionOperands(&ctx)
    let output = ctx.output
    let rec = ctx.rec
    let outC = output.dims.c
    if filter.dims.n != outC { throw ctx.fail(.shapeMismatch, "filter count differs from output channels") }
    if filter.dims.c != input.dims.c { throw ctx.fail(.shapeMismatch, "filter depth differs from input channels") }
    if filter.quantKind == .perChannel && filter.scaleCount != outC {
      throw ctx.fail(.badOp, "per-channel filter scales must be along the output-channel axis")
    }
    if output.dims.n != input.dims.n { throw ctx.fail(.shapeMismatch, "batch differs between input and output") }
    if rec.dilationH != 1 || rec.dilationW != 1 { throw ctx.fail(.badOp, "transpose conv: dilation must be 1") }
    let sH = Int(rec.strideH), sW = Int(rec.strideW)
    // TFLM: the padding of a convolution from the output size down to the
    // input size (its leading half, rounded down). Explicit pads (ONNX
    // ConvTranspose: pads, output_padding) are that convolution's own: the
    // leading pad is used as given, and output rows past the last input's
    // reach (output_padding) get only the bias.
    let explicit = ctx.padding == .explicit
    if explicit {
      if rec.padTop < 0 || rec.padLeft < 0 || rec.padBottom < 0 || rec.padRight < 0
        || Int(rec.padTop) >= filter.dims.h || Int(rec.padBottom) >= filter.dims.h
        || Int(rec.padLeft) >= filter.dims.w || Int(rec.padRight) >= filter.dims.w {
        throw ctx.fail(.badOp, "transpose conv: pads must be 0 to the filter size - 1")
      }
    }
    guard let fy = spatialOutput(input: output.dims.h, filter: filter.dims.h, stride: sH, dilation: 1,
                                 padding: ctx.padding, explicitBefore: explicit ? Int(rec.padTop) : 0,
                                 explicitAfter: explicit ? Int(rec.padBottom) : 0),
          let fx = spatialOutput(input: output.dims.w, filter: filter.dims.w, stride: sW, dilation: 1,
                                 padding: ctx.padding, explicitBefore: explicit ? Int(rec.padLeft) : 0,
                                 explicitAfter: explicit ? Int(rec.padRight) : 0),
          fy.size == input.dims.h, fx.size == input.dims.w else {
      throw ctx.fail(.shapeMismatch, "transpose conv: output height/width do not give the input size under the forward convolution")
    }
    let bias = try ctx.bias(channels: outC)
    let rq = try ctx.channelRequant(input: input, filter: filter, channels: outC)
    let (actMin, actMax) = ctx.activationRange
    ctx.paramCount = Int64(filter.count) + (ctx.hasInput(2) ? Int64(outC) : 0)
    ctx.macs = Int64(input.count) * Int64(filter.dims.h * filter.dims.w * outC)
    let p = TransposeConvParams(inputOffset: -input.zeroPoint, outputOffset: output.zeroPoint,
                                strideH: sH, strideW: sW, padTop: fy.padBefore, padLeft: fx.padBefore,
                                activationMin: actMin, activationMax: actMax)
    var d = TransposeConvData(params: p, requant: rq, packed: nil, isa: ctx.isa)
    let need = transposeConvPackedSize(isa: ctx.isa, filterShape: filter.dims, inputChannels: input.dims.c).bytes
    if need > 0, ctx.canAllocate(bytes: need, alignment: 64) {
      let region = try ctx.allocate(bytes: need, alignment: 64)
      if transposeConvPack(isa: ctx.isa, params: p, requant: rq, inputShape: input.dims, filterShape: filter.dims,
                           filter: filter.constData!.assumingMemoryBound(to: Int8.self), bias: bias,
                           outputShape: output.dims, region: region, regionBytes: need) {
        d.packed = UnsafeRawPointer(region)
      }
    }
    return d
  }

  static func eval(_ data: UnsafePointer<TransposeConvData>, _ ctx: OpEvalContext) {
    let d = data.pointee
    if let region = d.packed {
      transposeConvPacked(isa: d.isa, region: region, input: ctx.input(0), output: ctx.output)
      return
    }
    transposeConvReference(params: d.params, requant: d.requant, inputShape: ctx.inputDims(0), input: ctx.input(0),
                           filterShape: ctx.inputDims(1), filter: ctx.input(1), bias: ctx.bias(2),
                           outputShape: ctx.outputDims, output: ctx.output)
  }
}
