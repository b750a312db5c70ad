// aarch64 Conv2D and depthwise Conv2D: load-time packing for the NEON and
// dot-product kernels (Sources/_CNNKernelsNEON, built twice) and the
// run-time dispatch. Conv2DPacked.swift's entry points forward here for the
// `neon` and `dotprod` paths, so the ops stay the same on every target.
//
// Region (16-byte aligned, in the model block): a cnnrt_arm_conv_args block,
// then the packed weights, then four per-channel int32 arrays padded to
// whole 16-channel blocks (cnnrt_kernels.h documents the layouts). Weights
// stay int8: a Conv2D's packed weights are its filter bytes rounded up to
// 16 output channels and 4 input channels.
import _CNNRuntimeShims
#if canImport(_CNNKernelsNEON)
import _CNNKernelsNEON
#endif
#if canImport(_CNNKernelsDotProd)
import _CNNKernelsDotProd
#endif

@inline(__always)
func isArmISA(_ isa: Int32) -> Bool { isa == KernelISA.neon || isa == KernelISA.dotprod }

struct ArmConvLayout {
  var weightsOffset: Int
  var channelOffset: Int
  var bytes: Int
  var cGroups: Int
  var blocks: Int
}

/// Layout of an Arm region with `weightBytes` of weights for `blocks` blocks
/// of 16 channels, or nil when the sizes overflow the cap.
func armLayout(weightBytes: Int, blocks: Int, cGroups: Int) -> ArmConvLayout? {
  if weightBytes > maxPackedConvBytes { return nil }
  let weightsOffset = alignUp(MemoryLayout<cnnrt_arm_conv_args>.stride, 64)
  let channelOffset = weightsOffset + alignUp(weightBytes, 64)
  return ArmConvLayout(weightsOffset: weightsOffset, channelOffset: channelOffset,
                       bytes: channelOffset + 4 * blocks * 16 * 4, cGroups: cGroups, blocks: blocks)
}

/// Conv2D layout: outC filters of kH x kW x inC (groups 1). Overflow-safe.
/// With in_c not a multiple of 4 and dilation_w 1 the weights take the row
/// layout (armUsesRowLayout: kH rows of ceil(kW * inC / 4) groups per block),
/// else the per-tap one (kH * kW taps of ceil(inC / 4) groups): the region
/// holds only the layout the kernel reads.
func armConvLayout(outC: Int, kH: Int, kW: Int, inC: Int, dilationW: Int) -> ArmConvLayout? {
  guard outC > 0, kH > 0, kW > 0, inC > 0, outC <= 1 << 20, kH <= 1 << 16, kW <= 1 << 16, inC <= 1 << 20 else {
    return nil
  }
  let cGroups = (inC + 3) / 4, blocks = (outC + 15) / 16
  let rows = armUsesRowLayout(inC: inC, dilationW: dilationW)
  let (taps, o1) = rows ? (kH, false) : kH.multipliedReportingOverflow(by: kW)
  let (perBlock, o2) = taps.multipliedReportingOverflow(by: (rows ? (kW * inC + 3) / 4 : cGroups) * 64)
  let (bytes, o3) = perBlock.multipliedReportingOverflow(by: blocks)
  if o1 || o2 || o3 { return nil }
  return armLayout(weightBytes: bytes, blocks: blocks, cGroups: cGroups)
}

/// Whether a Conv2D packs its weights in the row layout (a kernel row's
/// kW * inC contiguous inputs as one run of groups of 4).
@inline(__always)
func armUsesRowLayout(inC: Int, dilationW: Int) -> Bool { inC % 4 != 0 && dilationW == 1 }

/// Depthwise layout: outC channels, kH x kW taps.
func armDepthwiseLayout(outC: Int, kH: Int, kW: Int) -> ArmConvLayout? {
  guard outC > 0, kH > 0, kW > 0, outC <= 1 << 20, kH <= 1 << 16, kW <= 1 << 16 else { return nil }
  let blocks = (outC + 15) / 16
  let (taps, o1) = kH.multipliedReportingOverflow(by: kW)
  let (bytes, o2) = taps.multipliedReportingOverflow(by: blocks * 16)
  if o1 || o2 { return nil }
  return armLayout(weightBytes: bytes, blocks: blocks, cGroups: 0)
}

/// Whether the Arm kernels reproduce these parameters exactly: input zero
/// point in int8 (a padded tap is fed it as a byte), clamp bounds in int8,
/// every shift in -31...31.
func armParamsOK(_ params: ConvParams, _ requant: ChannelRequant, channels: Int) -> Bool {
  guard params.inputOffset >= -127, params.inputOffset <= 128,
        params.activationMin >= -128, params.activationMax <= 127, params.activationMin <= params.activationMax
  else { return false }
  var c = 0
  while c < channels {
    let s = requant.shift[c]
    if s < -31 || s > 31 { return false }
    c += 1
  }
  return true
}

/// Fills the argument block's shape fields and the four per-channel arrays.
/// `accInit(c)` is channel c's initial accumulator.
func armFillCommon(_ a: inout cnnrt_arm_conv_args, _ l: ArmConvLayout, region: UnsafeMutableRawPointer,
                   params: ConvParams, requant: ChannelRequant, inputShape: Dims4, outputShape: Dims4,
                   kH: Int, kW: Int, accInit: (Int) -> Int32) {
  let padded = l.blocks * 16, outC = outputShape.c
  let base = (region + l.channelOffset).bindMemory(to: Int32.self, capacity: 4 * padded)
  var c = 0
  while c < padded {
    let real = c < outC
    let shift = real ? requant.shift[c] : 0
    base[c] = real ? accInit(c) : 0
    base[padded + c] = real ? requant.multiplier[c] : 0
    base[2 * padded + c] = shift > 0 ? shift : 0
    base[3 * padded + c] = shift < 0 ? shift : 0
    c += 1
  }
  a.setGeometry(params: params, inputShape: inputShape, outputShape: outputShape, kH: kH, kW: kW)
  a.c_groups = Int64(l.cGroups); a.oc_blocks = Int64(l.blocks)
  a.weights = UnsafePointer((region + l.weightsOffset).assumingMemoryBound(to: Int8.self))
  a.acc_init = UnsafePointer(base)
  a.multiplier = UnsafePointer(base + padded)
  a.left_shift = UnsafePointer(base + 2 * padded)
  a.neg_right_shift = UnsafePointer(base + 3 * padded)
}

func armShapesOK(_ inputShape: Dims4, _ outputShape: Dims4) -> Bool {
  outputShape.n == inputShape.n && inputShape.n > 0 && inputShape.h > 0 && inputShape.w > 0 && inputShape.c > 0
    && outputShape.h > 0 && outputShape.w > 0 && outputShape.c > 0
}

// MARK: - Conv2D

func armConv2DPackedBytes(filterShape: Dims4, inputChannels: Int, dilationW: Int) -> Int {
  guard filterShape.c == inputChannels,
        let l = armConvLayout(outC: filterShape.n, kH: filterShape.h, kW: filterShape.w, inC: inputChannels,
                              dilationW: dilationW)
  else { return 0 }
  return l.bytes
}

/// The packed weights' share of armConv2DPackedBytes (conv2DPackedSize).
func armConv2DPackedWeightBytes(filterShape: Dims4, inputChannels: Int, dilationW: Int) -> Int {
  guard filterShape.c == inputChannels,
        let l = armConvLayout(outC: filterShape.n, kH: filterShape.h, kW: filterShape.w, inC: inputChannels,
                              dilationW: dilationW)
  else { return 0 }
  return l.channelOffset - l.weightsOffset
}

func armConv2DPack(
  params: ConvParams, requant: ChannelRequant, inputShape: Dims4, filterShape: Dims4,
  filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?, outputShape: Dims4,
  region: UnsafeMutableRawPointer, regionBytes: Int
) -> Bool {
  let outC = filterShape.n, kH = filterShape.h, kW = filterShape.w, inC = inputShape.c
  guard filterShape.c == inC, outputShape.c == outC, armShapesOK(inputShape, outputShape),
        armParamsOK(params, requant, channels: outC),
        let l = armConvLayout(outC: outC, kH: kH, kW: kW, inC: inC, dilationW: params.dilationW),
        l.bytes <= regionBytes else { return false }
  let perFilter = kH * kW * inC
  var a = cnnrt_arm_conv_args()
  armFillCommon(&a, l, region: region, params: params, requant: requant, inputShape: inputShape,
                outputShape: outputShape, kH: kH, kW: kW) { oc in
    // bias + input_offset * sum(filter): the kernel multiplies the raw inputs.
    var sum: Int32 = 0
    var k = 0
    while k < perFilter { sum = sum &+ Int32(filter[oc * perFilter + k]); k += 1 }
    return (bias?[oc] ?? 0) &+ params.inputOffset &* sum
  }
  if armUsesRowLayout(inC: inC, dilationW: params.dilationW) {
    // One kernel row (kW * inC contiguous input bytes) as one run of groups of 4:
    // [blocks][kH][rowGroups][16 oc][4]; fewer groups than per tap (no
    // per-tap channel padding): the bytes armConvLayout sized.
    let rowLen = kW * inC, rowGroups = (rowLen + 3) / 4
    a.row_groups = Int64(rowGroups)
    let w = region + l.weightsOffset
    var idx = 0
    var blk = 0
    while blk < l.blocks {
      var ky = 0
      while ky < kH {
        var lane = 0
        while lane < rowGroups * 64 {
          let g = lane / 64, oc = blk * 16 + lane % 64 / 4, k = g * 4 + lane % 4
          let v: Int8 = oc < outC && k < rowLen ? filter[(oc * kH + ky) * rowLen + k] : 0
          w.storeBytes(of: v, toByteOffset: idx, as: Int8.self)
          idx += 1
          lane += 1
        }
        ky += 1
      }
      blk += 1
    }
  } else {
    // [blocks][kH][kW][cGroups][16 oc][4 c]: four SDOT operands of 4 oc x 4 c each.
    packConvBlocks(filter: filter, outC: outC, kH: kH, kW: kW, inC: inC, blocks: l.blocks, lanes: 16, groupSize: 4,
                   cGroups: l.cGroups, into: region + l.weightsOffset)
  }
  region.bindMemory(to: cnnrt_arm_conv_args.self, capacity: 1).initialize(to: a)
  return true
}

// MARK: - Depthwise

func armDepthwisePackedBytes(filterShape: Dims4, inputChannels: Int) -> Int {
  guard filterShape.n == 1, inputChannels > 0, filterShape.c % inputChannels == 0,
        let l = armDepthwiseLayout(outC: filterShape.c, kH: filterShape.h, kW: filterShape.w) else { return 0 }
  return l.bytes
}

/// The packed weights' share of armDepthwisePackedBytes.
func armDepthwisePackedWeightBytes(filterShape: Dims4, inputChannels: Int) -> Int {
  guard filterShape.n == 1, inputChannels > 0, filterShape.c % inputChannels == 0,
        let l = armDepthwiseLayout(outC: filterShape.c, kH: filterShape.h, kW: filterShape.w) else { return 0 }
  return l.channelOffset - l.weightsOffset
}

func armDepthwisePack(
  params: ConvParams, requant: ChannelRequant, inputShape: Dims4, filterShape: Dims4,
  filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?, outputShape: Dims4,
  region: UnsafeMutableRawPointer, regionBytes: Int
) -> Bool {
  let outC = filterShape.c, kH = filterShape.h, kW = filterShape.w, inC = inputShape.c
  guard filterShape.n == 1, inC > 0, outC % inC == 0, outputShape.c == outC, params.depthMultiplier == outC / inC,
        armShapesOK(inputShape, outputShape), armParamsOK(params, requant, channels: outC),
        let l = armDepthwiseLayout(outC: outC, kH: kH, kW: kW), l.bytes <= regionBytes else { return false }
  var a = cnnrt_arm_conv_args()
  armFillCommon(&a, l, region: region, params: params, requant: requant, inputShape: inputShape,
                outputShape: outputShape, kH: kH, kW: kW) { oc in
    // bias + input_offset * sum of the channel's taps: the kernel multiplies the raw inputs.
    var sum: Int32 = 0
    var t = 0
    while t < kH * kW { sum = sum &+ Int32(filter[t * outC + oc]); t += 1 }
    return (bias?[oc] ?? 0) &+ params.inputOffset &* sum
  }
  a.depth_multiplier = Int64(outC / inC)
  // [taps][blocks * 16], zero padded.
  let padded = l.blocks * 16
  let w = region + l.weightsOffset
  var t = 0
  while t < kH * kW {
    var c = 0
    while c < padded {
      w.storeBytes(of: c < outC ? filter[t * outC + c] : 0, toByteOffset: t * padded + c, as: Int8.self)
      c += 1
    }
    t += 1
  }
  region.bindMemory(to: cnnrt_arm_conv_args.self, capacity: 1).initialize(to: a)
  return true
}

// MARK: - Dispatch

/// Runs an Arm region (`depthwise` selects the kernel) on the path `isa`.
@inline(__always)
func armConvRun(isa: Int32, depthwise: Bool, region: UnsafeRawPointer, input: UnsafePointer<Int8>,
                output: UnsafeMutablePointer<Int8>) {
  let args = region.assumingMemoryBound(to: cnnrt_arm_conv_args.self)
  #if canImport(_CNNKernelsDotProd) && arch(arm64)
  if isa == KernelISA.dotprod {
    if depthwise { _CNNKernelsDotProd.cnnrtDepthwiseArm(args, input, output) } else {
      _CNNKernelsDotProd.cnnrtConv2DArm(args, input, output)
    }
    return
  }
  #endif
  #if canImport(_CNNKernelsNEON) && arch(arm64)
  if isa == KernelISA.neon {
    if depthwise { _CNNKernelsNEON.cnnrtDepthwiseArm(args, input, output) } else {
      _CNNKernelsNEON.cnnrtConv2DArm(args, input, output)
    }
    return
  }
  #endif
  _ = args
}
