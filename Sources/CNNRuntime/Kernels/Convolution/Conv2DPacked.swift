// Optimised Conv2D: load-time weight packing and run-time ISA dispatch.
//
// At model load (Prepare.swift) each eligible Conv2D op gets a packed
// region in the model block: a cnnrt_conv_args block, the weights reordered
// for the chosen ISA and per-channel int32 arrays (accumulator initial
// value, multiplier, shift) padded to whole vector blocks. At inference the
// run loop passes that region to the ISA kernel (a separate module built
// with its own -march flags); no packing or allocation happens per run.
//
// Paths (cnnrt_cpu.h): portable (conv2DReference), AVX2 (_CNNKernelsAVX2),
// AVX-512 VNNI (_CNNKernelsAVX512). The path is chosen once per model load;
// CNNRT_ISA=portable|avx2|avx512 caps it, and a path the CPU lacks is never
// chosen. Without a request the best path the CPU has is used, AVX-512 VNNI
// included (every AVX-512 kernel has run the golden and random-model tests
// on AVX-512 VNNI hardware with 0 bytes different; on CPUs without it they
// run under instruction emulation, make avx512-emu-test).
import _CNNRuntimeShims
#if canImport(_CNNKernelsAVX2)
import _CNNKernelsAVX2
#endif
#if canImport(_CNNKernelsAVX512)
import _CNNKernelsAVX512
#endif

/// Kernel paths, as numbered by cnnrt_cpu.h.
public enum KernelISA {
  public static let portable: Int32 = 0
  public static let avx2: Int32 = 1
  public static let avx512: Int32 = 2
  /// aarch64 Advanced SIMD (Armv8.0), ArmKernels.swift.
  public static let neon: Int32 = 3
  /// aarch64 with the Armv8.2 dot product (SDOT).
  public static let dotprod: Int32 = 4

  /// The path's name as CNNRT_ISA spells it.
  public static func name(_ isa: Int32) -> StaticString {
    switch isa {
    case avx2: return "avx2"
    case avx512: return "avx512"
    case neon: return "neon"
    case dotprod: return "dotprod"
    default: return "portable"
    }
  }
}

/// The AVX512-VBMI byte-table form for an op on path `isa`, decided once at
/// load: 0 off the AVX-512 path or without VBMI (no byte tables), else 2
/// (two-table VPERMT2B lookups, on AMD CPUs) or 1 (four merge-masked
/// VPERMB, elsewhere). The Add's term tables (cnnrt_add_args.byte_tables)
/// and the byte-table activations (ByteTable.swift) share it.
func avx512ByteTableForm(isa: Int32) -> Int32 {
  guard isa == KernelISA.avx512, cnnrt_cpu_has_avx512_vbmi() != 0 else { return 0 }
  return cnnrt_cpu_prefers_vpermt2b() != 0 ? 2 : 1
}

/// Best path implemented in this build.
@inline(__always)
func highestImplementedISA() -> Int32 {
  #if canImport(_CNNKernelsAVX512) && arch(x86_64)
  return KernelISA.avx512
  #elseif canImport(_CNNKernelsAVX2) && arch(x86_64)
  return KernelISA.avx2
  #elseif canImport(_CNNKernelsDotProd) && arch(arm64)
  return KernelISA.dotprod
  #elseif canImport(_CNNKernelsNEON) && arch(arm64)
  return KernelISA.neon
  #else
  return KernelISA.portable
  #endif
}

/// `isa` in a build with SIMD kernels; `KernelISA.portable` as a compile-time
/// constant in a build without any (Cortex-M), so that the optimizer drops
/// every branch that packs weights or dispatches for another path, and the
/// firmware link does not carry that code.
@inline(__always)
func buildISA(_ isa: Int32) -> Int32 {
  highestImplementedISA() == KernelISA.portable ? KernelISA.portable : isa
}

/// Best path used when CNNRT_ISA is not set: the best there is.
#if arch(arm64)
let defaultISACap = KernelISA.dotprod
#else
let defaultISACap = KernelISA.avx512
#endif

/// The path a model loaded now uses: CNNRT_ISA (if set) capped at what the
/// CPU supports and what this build implements.
public func selectedKernelISA() -> Int32 {
  resolvedKernelISA(request: cnnrt_cpu_requested_isa())
}

/// The path used for an explicit request (`-1` = none, i.e. the default),
/// capped like `selectedKernelISA()`.
public func resolvedKernelISA(request: Int32) -> Int32 {
  let cap = request < 0 ? min(defaultISACap, highestImplementedISA()) : highestImplementedISA()
  return min(cnnrt_cpu_resolve_isa(request), cap)
}

/// Layout of one op's packed region (byte offsets from its start).
struct ConvPackLayout {
  var weightsOffset: Int
  var accInitOffset: Int
  var multiplierOffset: Int
  var shiftOffset: Int
  var tableOffset: Int
  var bytes: Int
  var cGroups: Int
  var ocBlocks: Int
  var lanes: Int
  var groupSize: Int
}

/// Largest packed region for one op (larger convolutions run the portable path).
let maxPackedConvBytes = 1 << 30

/// Packed layout for a Conv2D with `outC` filters of kH × kW × inC (groups
/// must be 1), or nil when the path has no packed kernel or the sizes are
/// out of range. Overflow-safe: called in the loader's layout pass on
/// untrusted dimensions.
func convPackLayout(isa: Int32, outC: Int, kH: Int, kW: Int, inC: Int) -> ConvPackLayout? {
  guard isa == KernelISA.avx2 || isa == KernelISA.avx512 else { return nil }
  guard outC > 0, kH > 0, kW > 0, inC > 0, outC <= 1 << 20, kH <= 1 << 16, kW <= 1 << 16, inC <= 1 << 20 else {
    return nil
  }
  // AVX2: 8 lanes x 2, AVX-512: 16 lanes x 4, int8 on both (the AVX2
  // kernels widen each weight vector to int16 as they load it).
  let avx512 = isa == KernelISA.avx512
  let lanes = avx512 ? 16 : 8, groupSize = avx512 ? 4 : 2, elementBytes = 1
  let cGroups = (inC + groupSize - 1) / groupSize
  let ocBlocks = (outC + lanes - 1) / lanes
  let (taps, o1) = kH.multipliedReportingOverflow(by: kW)
  let (perTap, o2) = cGroups.multipliedReportingOverflow(by: lanes * groupSize * elementBytes)
  let (perBlock, o3) = taps.multipliedReportingOverflow(by: perTap)
  let (weightBytes, o4) = perBlock.multipliedReportingOverflow(by: ocBlocks)
  if o1 || o2 || o3 || o4 || weightBytes > maxPackedConvBytes { return nil }
  let channelBytes = alignUp(ocBlocks * lanes * 4, 64)
  var off = alignUp(MemoryLayout<cnnrt_conv_args>.stride, 64)
  let weightsOffset = off
  off += alignUp(weightBytes, 64)
  let accInitOffset = off
  off += channelBytes
  let multiplierOffset = off
  off += channelBytes
  let shiftOffset = off
  off += channelBytes
  // AVX2: the requantization table of the row-scratch kernel (6 vectors per 8-lane block).
  let tableOffset = off
  if !avx512 { off += ocBlocks * avx2RequantTableBlockBytes }
  return ConvPackLayout(weightsOffset: weightsOffset, accInitOffset: accInitOffset, multiplierOffset: multiplierOffset,
                        shiftOffset: shiftOffset, tableOffset: tableOffset, bytes: off, cGroups: cGroups,
                        ocBlocks: ocBlocks, lanes: lanes, groupSize: groupSize)
}

/// AVX-512 row mode (ConvAVX512.swift, variant 2): a kernel row's kW taps
/// packed as one tap of kW * inC inputs, for dilation_w 1 when inC is not a
/// multiple of 4 (so per-tap quads would pad every tap) and the row is short.
func avx512RowMode(isa: Int32, kW: Int, inC: Int, dilationW: Int) -> Bool {
  isa == KernelISA.avx512 && dilationW == 1 && kW > 1 && inC % 4 != 0 && inC <= Int(CNNRT_AVX512_ROW_MAX_INPUTS)
    && kW <= Int(CNNRT_AVX512_ROW_MAX_INPUTS) / inC
}

/// The packed layout for these shapes on `isa` (row mode: the filter
/// [outC][kH][kW][inC] read as [outC][kH][1][kW * inC], the same bytes).
func convPackLayout(isa: Int32, filterShape: Dims4, inputChannels inC: Int, dilationW: Int) -> ConvPackLayout? {
  let row = avx512RowMode(isa: isa, kW: filterShape.w, inC: inC, dilationW: dilationW)
  return convPackLayout(isa: isa, outC: filterShape.n, kH: filterShape.h, kW: row ? 1 : filterShape.w,
                        inC: row ? filterShape.w * inC : inC)
}

/// Bytes of the packed region `conv2DPack` needs, and of the packed filter
/// copy inside it (0, 0: this path has no packed kernel for these shapes —
/// use conv2DReference). Groups must be 1 (filterShape.c == inputChannels).
/// `dilationW` is the op's (the Arm paths size the layout their kernel reads
/// from it). The filter copy is the int8 weights with their zero padding
/// (output channels to whole lane blocks, input channels to whole pairs or
/// groups of 4) rounded up to 64 bytes, i.e. the part of the model block that
/// grows with the weights; the rest of the region (argument block,
/// per-channel accumulator start, multiplier, shift and requantization table)
/// grows with the channels.
public func conv2DPackedSize(isa: Int32, filterShape: Dims4, inputChannels: Int,
                             dilationW: Int) -> (bytes: Int, weightBytes: Int) {
  if isArmISA(isa) {
    return (armConv2DPackedBytes(filterShape: filterShape, inputChannels: inputChannels, dilationW: dilationW),
            armConv2DPackedWeightBytes(filterShape: filterShape, inputChannels: inputChannels, dilationW: dilationW))
  }
  guard filterShape.c == inputChannels,
        let l = convPackLayout(isa: isa, filterShape: filterShape, inputChannels: inputChannels, dilationW: dilationW)
  else { return (0, 0) }
  return (l.bytes, l.accInitOffset - l.weightsOffset)
}

/// The region's bytes of `conv2DPackedSize`.
public func conv2DPackedBytes(isa: Int32, filterShape: Dims4, inputChannels: Int, dilationW: Int) -> Int {
  conv2DPackedSize(isa: isa, filterShape: filterShape, inputChannels: inputChannels, dilationW: dilationW).bytes
}

/// Fills a packed region (`conv2DPackedBytes` bytes at `region`, 16-byte
/// aligned) for `conv2DPacked`. Returns false (writing nothing useful) when
/// the path has no packed kernel for these shapes or parameters.
public func conv2DPack(
  isa: Int32, params: ConvParams, requant: ChannelRequant,
  inputShape: Dims4, filterShape: Dims4, filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?,
  outputShape: Dims4, region: UnsafeMutableRawPointer, regionBytes: Int
) -> Bool {
  if isArmISA(isa) {
    return armConv2DPack(params: params, requant: requant, inputShape: inputShape, filterShape: filterShape,
                         filter: filter, bias: bias, outputShape: outputShape, region: region, regionBytes: regionBytes)
  }
  let outC = filterShape.n, kH = filterShape.h, kW = filterShape.w, inC = inputShape.c
  guard filterShape.c == inC, outputShape.c == outC, outputShape.n == inputShape.n,
        inputShape.n > 0, inputShape.h > 0, inputShape.w > 0, outputShape.h > 0, outputShape.w > 0,
        params.activationMin >= -128, params.activationMax <= 127, params.activationMin <= params.activationMax,
        params.inputOffset >= -127, params.inputOffset <= 128,  // input zero point in int8
        let l = convPackLayout(isa: isa, filterShape: filterShape, inputChannels: inC, dilationW: params.dilationW),
        l.bytes <= regionBytes
  else { return false }
  let avx512 = isa == KernelISA.avx512
  let perFilter = kH * kW * inC
  var a = packedConvArgs(l, region: region, params: params, requant: requant, bias: bias, inputShape: inputShape,
                         outputShape: outputShape, kH: kH, kW: kW) { oc in
    guard avx512 else { return 0 }
    // Activations enter vpdpbusd as x + 128: subtract (128 - inputOffset) * sum(w).
    let f = filter + oc &* perFilter
    var sum: Int32 = 0
    var k = 0
    while k < perFilter { sum = sum &+ Int32(f[k]); k &+= 1 }
    return 0 &- (128 &- params.inputOffset) &* sum
  }
  let w = region + l.weightsOffset
  if !avx512, let rows = avx2RowsPlan(params: params, inputShape: inputShape, outputShape: outputShape,
                                      kH: kH, kW: kW, inC: inC, requant: requant, channels: outC,
                                      filter: filter, bias: bias) {
    // Row-scratch kernel: [oc_blocks][kH][taps][pairs][8][2] int8; with one tap per
    // row (dilation_w == 1) the tap's inputs are kx * inC + c.
    let table = region + l.tableOffset
    a.has_left_shift = fillRequantTableAVX2(table, blocks: l.ocBlocks, requant: requant) { lane in
      lane < outC ? lane : -1
    } ? 1 : 0
    a.variant = 1
    a.taps_per_row = Int64(rows.taps); a.pairs_per_tap = Int64(rows.pairs)
    a.px_stride = Int64(rows.pixelStride); a.chunk_w = Int64(rows.chunkW)
    a.rq_table = UnsafePointer(table.bindMemory(to: Int32.self, capacity: l.ocBlocks * 56))
    if rows.flatten {
      // 1x1, stride 1, no padding: the whole tensor is one row of pixels.
      let pixels = inputShape.n * inputShape.h * inputShape.w
      a.batches = 1; a.in_h = 1; a.in_w = Int64(pixels); a.out_h = 1; a.out_w = Int64(pixels)
    }
    var idx = 0  // ((((blk * kH + ky) * taps + t) * pairs + g) * 8 + lane) * 2 + e
    var blk = 0
    while blk < l.ocBlocks {
      var ky = 0
      while ky < kH {
        var t = 0
        while t < rows.taps {
          // Element k = 2 * g + e of the tap: (kx, c) = (k / inC, k % inC) when
          // the row is one tap, else (t, k); stepped along k, no division.
          var kx0 = rows.taps == 1 ? 0 : t, c0 = 0
          var g = 0
          while g < rows.pairs {
            var kx1 = kx0, c1 = c0 + 1
            if rows.taps == 1 { while c1 >= inC { c1 -= inC; kx1 += 1 } }
            let valid0 = kx0 < kW && c0 < inC, valid1 = kx1 < kW && c1 < inC
            let at0 = (ky * kW + kx0) * inC + c0, at1 = (ky * kW + kx1) * inC + c1
            var lane = 0
            while lane < 8 {
              let o = blk * 8 + lane
              let base = o * perFilter
              let v0: Int8 = o < outC && valid0 ? filter[base + at0] : 0
              let v1: Int8 = o < outC && valid1 ? filter[base + at1] : 0
              w.storeBytes(of: v0, toByteOffset: idx, as: Int8.self)
              w.storeBytes(of: v1, toByteOffset: idx + 1, as: Int8.self)
              idx += 2
              lane += 1
            }
            kx0 = kx1; c0 = c1 + 1
            if rows.taps == 1 { while c0 >= inC { c0 -= inC; kx0 += 1 } }
            g += 1
          }
          t += 1
        }
        ky += 1
      }
      blk += 1
    }
    region.bindMemory(to: cnnrt_conv_args.self, capacity: 1).initialize(to: a)
    return true
  }
  // [oc_blocks][kH][kW][c_groups][lanes][groupSize], int8; AVX-512 row mode:
  // the same with kW 1 and kW * inC input channels.
  let row = avx512RowMode(isa: isa, kW: kW, inC: inC, dilationW: params.dilationW)
  if row { a.variant = 2 }
  if avx512 {
    // The band kernel (chunk_w = 1) when k_h scratch rows fit and no
    // multiplier is Int32.min; else the per-tap kernel.
    let rowBytes = cnnrt_conv512_band_row_bytes(a.out_w, a.stride_w, a.k_w, a.dilation_w, a.in_c, a.c_groups,
                                                row ? 1 : 0)
    a.chunk_w = rowBytes > 0 && Int64(kH) * rowBytes <= Int64(CNNRT_AVX2_STACK_BYTES) && params.padLeft >= 0
      && params.padTop >= 0 && !hasMinMultiplier(requant, channels: outC) ? 1 : 0
  }
  packConvBlocks(filter: filter, outC: outC, kH: kH, kW: row ? 1 : kW, inC: row ? kW * inC : inC, blocks: l.ocBlocks,
                 lanes: l.lanes, groupSize: l.groupSize, cGroups: l.cGroups, into: w)
  region.bindMemory(to: cnnrt_conv_args.self, capacity: 1).initialize(to: a)
  return true
}

/// The fields that the x86 and Arm convolution argument blocks
/// (cnnrt_conv_args, cnnrt_arm_conv_args) share: geometry, offsets and
/// clamp bounds, filled from the op by `setGeometry`.
protocol ConvGeometryArgs {
  var batches: Int64 { get set }
  var in_h: Int64 { get set }
  var in_w: Int64 { get set }
  var in_c: Int64 { get set }
  var out_h: Int64 { get set }
  var out_w: Int64 { get set }
  var out_c: Int64 { get set }
  var k_h: Int64 { get set }
  var k_w: Int64 { get set }
  var stride_h: Int64 { get set }
  var stride_w: Int64 { get set }
  var dilation_h: Int64 { get set }
  var dilation_w: Int64 { get set }
  var pad_top: Int64 { get set }
  var pad_left: Int64 { get set }
  var input_offset: Int32 { get set }
  var output_offset: Int32 { get set }
  var act_min: Int32 { get set }
  var act_max: Int32 { get set }
}

extension ConvGeometryArgs {
  /// Shapes, kernel size, strides, dilations, padding, offsets and clamp bounds of the op.
  @inline(__always)
  mutating func setGeometry(params: ConvParams, inputShape: Dims4, outputShape: Dims4, kH: Int, kW: Int) {
    batches = Int64(inputShape.n); in_h = Int64(inputShape.h); in_w = Int64(inputShape.w)
    in_c = Int64(inputShape.c)
    out_h = Int64(outputShape.h); out_w = Int64(outputShape.w); out_c = Int64(outputShape.c)
    k_h = Int64(kH); k_w = Int64(kW)
    stride_h = Int64(params.strideH); stride_w = Int64(params.strideW)
    dilation_h = Int64(params.dilationH); dilation_w = Int64(params.dilationW)
    pad_top = Int64(params.padTop); pad_left = Int64(params.padLeft)
    input_offset = params.inputOffset; output_offset = params.outputOffset
    act_min = params.activationMin; act_max = params.activationMax
  }
}

extension cnnrt_conv_args: ConvGeometryArgs {}
extension cnnrt_arm_conv_args: ConvGeometryArgs {}

/// The argument block of the packed region laid out by `l` at `region`, its
/// per-channel arrays filled (output channels past outC get zeros):
/// acc_init = bias (or 0) + accCorrection(oc), the multiplier and the shift.
/// The weights are the caller's to write (at `l.weightsOffset`).
func packedConvArgs(_ l: ConvPackLayout, region: UnsafeMutableRawPointer, params: ConvParams, requant: ChannelRequant,
                    bias: UnsafePointer<Int32>?, inputShape: Dims4, outputShape: Dims4, kH: Int, kW: Int,
                    accCorrection: (Int) -> Int32) -> cnnrt_conv_args {
  let outC = outputShape.c
  let padded = l.ocBlocks * l.lanes
  let accInit = (region + l.accInitOffset).bindMemory(to: Int32.self, capacity: padded)
  let mult = (region + l.multiplierOffset).bindMemory(to: Int32.self, capacity: padded)
  let shift = (region + l.shiftOffset).bindMemory(to: Int32.self, capacity: padded)
  var oc = 0
  while oc < padded {
    let real = oc < outC
    accInit[oc] = real ? (bias?[oc] ?? 0) &+ accCorrection(oc) : 0
    mult[oc] = real ? requant.multiplier[oc] : 0
    shift[oc] = real ? requant.shift[oc] : 0
    oc += 1
  }
  var a = cnnrt_conv_args()
  a.setGeometry(params: params, inputShape: inputShape, outputShape: outputShape, kH: kH, kW: kW)
  a.c_groups = Int64(l.cGroups); a.oc_blocks = Int64(l.ocBlocks)
  a.weights = UnsafeRawPointer(region + l.weightsOffset)
  a.acc_init = UnsafePointer(accInit)
  a.multiplier = UnsafePointer(mult)
  a.shift = UnsafePointer(shift)
  return a
}

/// Writes a Conv2D filter [outC][kH][kW][inC] as
/// [blocks][kH][kW][cGroups][lanes][groupSize] (output channel blk * lanes +
/// lane, input channel g * groupSize + k), zero past outC and inC; int8
/// elements (the AVX2, AVX-512 and Arm layouts: one byte per weight).
func packConvBlocks(filter: UnsafePointer<Int8>, outC: Int, kH: Int, kW: Int, inC: Int, blocks: Int, lanes: Int,
                    groupSize: Int, cGroups: Int, into w: UnsafeMutableRawPointer) {
  // A group of a real output channel that lies inside inC is groupSize
  // consecutive filter bytes: copied as one 2- or 4-byte word (this runs at
  // every load, over every weight). The rest is zero-filled byte by byte.
  let perFilter = kH &* kW &* inC
  let wholeGroups = inC / groupSize
  var i = 0
  var blk = 0
  while blk < blocks {
    var ky = 0
    while ky < kH {
      var kx = 0
      while kx < kW {
        let tap = (ky &* kW &+ kx) &* inC
        var g = 0
        while g < cGroups {
          let c0 = g &* groupSize
          var lane = 0
          while lane < lanes {
            let o = blk &* lanes &+ lane
            if o < outC && g < wholeGroups {
              let src = UnsafeRawPointer(filter + (o &* perFilter &+ tap &+ c0))
              if groupSize == 4 { (w + i).copyMemory(from: src, byteCount: 4) }
              else if groupSize == 2 { (w + i).copyMemory(from: src, byteCount: 2) }
              else { (w + i).copyMemory(from: src, byteCount: groupSize) }
            } else {
              var k = 0
              while k < groupSize {
                let v: Int8 = o < outC && c0 &+ k < inC ? filter[o &* perFilter &+ tap &+ c0 &+ k] : 0
                w.storeBytes(of: v, toByteOffset: i &+ k, as: Int8.self)
                k &+= 1
              }
            }
            i &+= groupSize
            lane &+= 1
          }
          g &+= 1
        }
        kx &+= 1
      }
      ky &+= 1
    }
    blk &+= 1
  }
}

/// Runs a Conv2D packed by `conv2DPack` for `isa` on the input (NHWC int8)
/// into the output. The caller guarantees the CPU supports `isa`
/// (`resolvedKernelISA`); a path this build lacks writes nothing.
public func conv2DPacked(isa: Int32, region: UnsafeRawPointer, input: UnsafePointer<Int8>,
                         output: UnsafeMutablePointer<Int8>) {
  if isArmISA(isa) { armConvRun(isa: isa, depthwise: false, region: region, input: input, output: output); return }
  let args = region.assumingMemoryBound(to: cnnrt_conv_args.self)
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if isa == KernelISA.avx2 {
    if args.pointee.variant == 1 { cnnrtConv2DRowsAVX2(args, input, output) } else { cnnrtConv2DAVX2(args, input, output) }
    return
  }
  #endif
  #if canImport(_CNNKernelsAVX512) && arch(x86_64)
  if isa == KernelISA.avx512 { cnnrtConv2DAVX512(args, input, output); return }
  #endif
  _ = args
}

// MARK: - AVX2 row-scratch plan and requantization table

/// Bytes of one 8-lane block of the AVX2 requantization table (7 vectors of 8 int32).
let avx2RequantTableBlockBytes = 224
/// int16 elements of the AVX2 kernels stack scratch (4 KiB, avx2ScratchElements).
let avx2ScratchCapacity = 2048
/// int16 elements of the AVX2 row-scratch kernels' stack buffer of widened
/// weights (32 KiB, avx2WideWeightElements): one block of 8 output channels
/// (Conv2D), or all the weights and then the scratch rows (depthwise,
/// depthwiseRowsScratchCapacity) must fit.
let avx2WideWeightCapacity = 16384

struct AVX2RowsPlan {
  var taps: Int
  var pairs: Int
  var pixelStride: Int
  var chunkW: Int
  /// 1x1, stride 1, no padding: run the tensor as one row.
  var flatten: Bool
}

/// The requantization the table kernels reproduce exactly (RequantAVX2.swift):
/// multipliers in [0, 2^31) (QuantizeMultiplier's range), shifts in -30...31,
/// and every accumulator bounded so that acc << left stays below 2^30 in
/// magnitude: |bias| + 255 * sum|w| (|x + offset| <= 255) times 2^left.
/// `absWeightSum(c)` is sum|w| over output channel c's filter.
func requantFitsTableAVX2(_ requant: ChannelRequant, channels: Int, bias: UnsafePointer<Int32>?,
                          absWeightSum: (Int) -> Int64) -> Bool {
  var c = 0
  while c < channels {
    let m = requant.multiplier[c], sh = requant.shift[c]
    if m < 0 || sh < -30 || sh > 31 { return false }
    let b = Int64(bias?[c] ?? 0)
    let bound = (b < 0 ? -b : b) + 255 * absWeightSum(c)
    // &<< (amounts 0...29 here): the smart << on Int64 widens a word generically on 32-bit targets (Widen32.swift).
    if sh > 0 ? bound >= Int64(1) &<< (30 - Int64(sh)) : bound >= Int64(1) &<< 30 { return false }
    c += 1
  }
  return true
}

/// Scratch geometry of the AVX2 row-scratch Conv2D, or nil when it does not
/// apply or its chunks of output pixels would be too short to pay for
/// widening the weights (the per-tap kernel runs instead).
func avx2RowsPlan(params: ConvParams, inputShape: Dims4, outputShape: Dims4, kH: Int, kW: Int, inC: Int,
                  requant: ChannelRequant, channels: Int, filter: UnsafePointer<Int8>,
                  bias: UnsafePointer<Int32>?) -> AVX2RowsPlan? {
  let perFilter = kH * kW * inC
  guard params.strideW >= 1, params.dilationW >= 1, params.strideH >= 1, params.dilationH >= 1,
        requantFitsTableAVX2(requant, channels: channels, bias: bias, absWeightSum: { c in
          // Wrapping adds cannot wrap (at most 128 a weight) and let the loop vectorise.
          let f = filter + c &* perFilter
          var sum: Int64 = 0
          var k = 0
          while k < perFilter { let w = Int64(f[k]); sum &+= w < 0 ? 0 &- w : w; k &+= 1 }
          return sum
        }) else { return nil }
  let flatten = kH == 1 && kW == 1 && params.strideH == 1 && params.strideW == 1 && params.padTop == 0
    && params.padLeft == 0 && inputShape.h == outputShape.h && inputShape.w == outputShape.w
  let oneTap = params.dilationW == 1
  let taps = oneTap ? 1 : kW
  let pairs = oneTap ? (kW * inC + 1) / 2 : (inC + 1) / 2
  let pixelStride = oneTap ? inC : 2 * pairs
  let outW = flatten ? outputShape.n * outputShape.h * outputShape.w : outputShape.w
  func fits(_ cw: Int) -> Bool {
    let inWc = (cw - 1) * params.strideW + (kW - 1) * params.dilationW + 1
    let rowElems = (inWc * pixelStride + 16 + 15) & ~15
    return kH * rowElems <= avx2ScratchCapacity
  }
  // fits(1) implies kH * taps * pairs * 16 <= avx2WideWeightCapacity (a kernel row's
  // weights are no longer than its scratch row); checked anyway.
  guard kH <= avx2ScratchCapacity, kW <= avx2ScratchCapacity, pixelStride <= avx2ScratchCapacity,
        params.strideW <= avx2ScratchCapacity, params.dilationW <= avx2ScratchCapacity, fits(1),
        kH * taps * pairs * 16 <= avx2WideWeightCapacity else { return nil }
  // Largest chunk that fits (binary search over 1...outW).
  var lo = 1, hi = outW
  while lo < hi {
    let mid = (lo + hi + 1) / 2
    if fits(mid) { lo = mid } else { hi = mid - 1 }
  }
  // The kernel widens a block's weights once per chunk of a row's output
  // pixels: with chunks of one pixel (an output row of one pixel, or a
  // scratch that holds one) that costs about as much as the products, and
  // the per-tap kernel, which widens each weight vector in registers, is
  // faster. It takes the convolutions whose ceil(outW / chunk) chunks
  // average less than 2.5 pixels: squeeze-excitation convolutions on one
  // pixel, 1x1 convolutions of about 1,000 channels or more, 7x1 ones of
  // 160 or more, a row of 3 in chunks of 2 (InceptionV3 25 %, EfficientNet-B0
  // 10 %, MobileNetV3 Large 5 % faster as whole nets; docs/ZOO.md). Rows of
  // 16 or 64 pixels in chunks of 3 stay here: the per-tap kernel was slower
  // on them.
  let chunks = (outW + lo - 1) / lo
  guard 2 * outW >= 5 * chunks else { return nil }
  return AVX2RowsPlan(taps: taps, pairs: pairs, pixelStride: pixelStride, chunkW: lo, flatten: flatten)
}

/// Fills `blocks` table blocks at `table` (see RequantAVX2.swift): lane l of
/// block k takes channel `channel(8k + l)` (-1: padding, multiplier 0).
/// The caller checked requantFitsTableAVX2. Returns whether any left shift
/// is non-zero.
func fillRequantTableAVX2(_ table: UnsafeMutableRawPointer, blocks: Int, requant: ChannelRequant,
                          channel: (Int) -> Int) -> Bool {
  var hasLeft = false
  var k = 0
  while k < blocks {
    let base = table + k * avx2RequantTableBlockBytes
    var lane = 0
    while lane < 8 {
      let c = channel(k * 8 + lane)
      let m: Int32 = c >= 0 ? requant.multiplier[c] : 0
      let sh: Int32 = c >= 0 ? requant.shift[c] : 0
      let left: Int32 = sh > 0 ? sh : 0
      let right: Int32 = sh < 0 ? -sh : 0
      let half: Int32 = right > 0 ? Int32(1) << (right - 1) : 0
      if left > 0 { hasLeft = true }
      base.storeBytes(of: m, toByteOffset: 4 * lane, as: Int32.self)
      // Odd lanes' multipliers also in the even lanes below them (vpmuldq reads the even ones).
      base.storeBytes(of: m, toByteOffset: 32 + 4 * lane, as: Int32.self)
      if lane % 2 == 1 { base.storeBytes(of: m, toByteOffset: 32 + 4 * (lane - 1), as: Int32.self) }
      base.storeBytes(of: left, toByteOffset: 64 + 4 * lane, as: Int32.self)
      base.storeBytes(of: right, toByteOffset: 96 + 4 * lane, as: Int32.self)
      // 2^30 (the doubling high multiply's nudge) + half * 2^31 (RoundingDivideByPOT's).
      let nudge = (Int64(1) &<< 30) + Int64(half) &<< 31
      base.storeBytes(of: nudge, toByteOffset: (lane % 2 == 0 ? 128 : 160) + 8 * (lane / 2), as: Int64.self)
      base.storeBytes(of: right > 0 ? half : Int32.min, toByteOffset: 192 + 4 * lane, as: Int32.self)
      lane += 1
    }
    k += 1
  }
  return hasLeft
}

// MARK: - Depthwise (AVX2 kernels; on the AVX-512 path the AVX-512 kernel)

/// Bytes of the region `depthwiseConv2DPack` needs (0: portable path only).
/// AVX-512: the AVX-512 kernel's layout (depthwiseAVX512Layout) when it
/// takes the shapes (up to CNNRT_AVX512_DW_MAX_TAPS taps), else as AVX2.
/// AVX2: two kernels, the row-scratch kernel (any depth multiplier and channel
/// count whose k_h widened input rows of one output pixel fit the scratch,
/// `dilationW` the op's) and the per-tap kernel that reads the model's
/// filter in place (depth multiplier 1, channels a multiple of 8; its region
/// is the argument block).
public func depthwiseConv2DPackedBytes(isa: Int32, filterShape: Dims4, inputChannels: Int, dilationW: Int = 1) -> Int {
  if isArmISA(isa) { return armDepthwisePackedBytes(filterShape: filterShape, inputChannels: inputChannels) }
  let outC = filterShape.c
  guard isa == KernelISA.avx2 || isa == KernelISA.avx512, filterShape.n == 1,
        inputChannels > 0, outC > 0, outC % inputChannels == 0,
        filterShape.h > 0, filterShape.w > 0, filterShape.h <= 1 << 16, filterShape.w <= 1 << 16,
        outC <= 1 << 20 else { return 0 }
  let args = alignUp(MemoryLayout<cnnrt_conv_args>.stride, 64)
  if isa == KernelISA.avx512, let l = depthwiseAVX512Layout(filterShape: filterShape, inputChannels: inputChannels) {
    return args + l.bytes
  }
  if let l = depthwiseRowsLayout(filterShape: filterShape, channels: outC),
     depthwiseRowsChunk(kH: filterShape.h, kW: filterShape.w, stride: l.stride, multiplier: outC / inputChannels,
                        strideW: 1, dilationW: max(dilationW, 1), outW: 1) != nil {
    return args + l.bytes
  }
  return outC == inputChannels && outC % 8 == 0 ? args : 0
}

/// Bytes of the packed filter copy inside that region (see
/// conv2DPackedSize): the row-scratch layout's int8 weights, rounded
/// up to 64; 0 when the kernel reads the model's filter in place.
public func depthwiseConv2DPackedWeightBytes(isa: Int32, filterShape: Dims4, inputChannels: Int,
                                             dilationW: Int = 1) -> Int {
  if isArmISA(isa) { return armDepthwisePackedWeightBytes(filterShape: filterShape, inputChannels: inputChannels) }
  let args = alignUp(MemoryLayout<cnnrt_conv_args>.stride, 64)
  let bytes = depthwiseConv2DPackedBytes(isa: isa, filterShape: filterShape, inputChannels: inputChannels,
                                         dilationW: dilationW)
  if isa == KernelISA.avx512, bytes > 0,
     let l = depthwiseAVX512Layout(filterShape: filterShape, inputChannels: inputChannels) {
    return l.accInitOffset
  }
  guard bytes > args,
        let l = depthwiseRowsLayout(filterShape: filterShape, channels: filterShape.c) else { return 0 }
  return l.accInitOffset - l.weightsOffset
}

/// Layout of the row-scratch depthwise region after the argument block:
/// packed weights, bias in lane order, table, for the output channels padded
/// to `stride` (a multiple of 16; the padding lanes have zero weights and are
/// not stored).
struct DepthwiseRowsLayout {
  var weightsOffset: Int
  var accInitOffset: Int
  var tableOffset: Int
  var bytes: Int
  /// Output channels padded to whole 16-lane blocks (int16 per pixel in the scratch rows).
  var stride: Int
}

func depthwiseRowsLayout(filterShape: Dims4, channels: Int) -> DepthwiseRowsLayout? {
  guard channels > 0, channels <= avx2ScratchCapacity else { return nil }
  let stride = (channels + 15) & ~15
  let taps = filterShape.h * filterShape.w
  let tapPairs = (taps + 1) / 2
  let (wBytes, o) = (stride / 16 * 32).multipliedReportingOverflow(by: tapPairs)
  if o || wBytes > maxPackedConvBytes { return nil }
  let weightsOffset = 0
  let accInitOffset = alignUp(wBytes, 64)
  let tableOffset = accInitOffset + alignUp(stride * 4, 64)
  return DepthwiseRowsLayout(weightsOffset: weightsOffset, accInitOffset: accInitOffset, tableOffset: tableOffset,
                             bytes: tableOffset + stride / 8 * avx2RequantTableBlockBytes, stride: stride)
}

/// int16 elements of the row-scratch depthwise kernel's k_h scratch rows:
/// the part of its stack buffer (avx2WideWeightCapacity) after the widened
/// weights and, for a depth multiplier above 1, the gather table, rounded up
/// to 16 (as cnnrtDepthwiseRowsAVX2 lays it out); <= 0 when nothing is left.
func depthwiseRowsScratchCapacity(stride: Int, taps: Int, multiplier: Int) -> Int {
  let weights = stride / 16 * ((taps + 1) / 2) * 32
  let gather = multiplier > 1 ? stride / 16 * 16 : 0
  return avx2WideWeightCapacity - ((weights + gather + 15) & ~15)
}

/// Output pixels per scratch chunk of the row-scratch depthwise kernel (the
/// largest up to `outW` whose k_h scratch rows of `stride` int16 per pixel
/// fit depthwiseRowsScratchCapacity), or nil when not even one pixel fits or
/// the taps exceed the kernel's buffers.
func depthwiseRowsChunk(kH: Int, kW: Int, stride: Int, multiplier: Int, strideW: Int, dilationW: Int,
                        outW: Int) -> Int? {
  guard kH >= 1, kW >= 1, kH * kW <= 63, multiplier >= 1, strideW >= 1, dilationW >= 1, outW >= 1,
        strideW <= avx2ScratchCapacity, dilationW <= avx2ScratchCapacity, stride <= avx2ScratchCapacity
  else { return nil }
  let capacity = depthwiseRowsScratchCapacity(stride: stride, taps: kH * kW, multiplier: multiplier)
  func fits(_ cw: Int) -> Bool {
    let inWc = (cw - 1) * strideW + (kW - 1) * dilationW + 1
    return kH * ((inWc * stride + 16 + 15) & ~15) <= capacity
  }
  guard fits(1) else { return nil }
  var lo = 1, hi = outW
  while lo < hi {
    let mid = (lo + hi + 1) / 2
    if fits(mid) { lo = mid } else { hi = mid - 1 }
  }
  return lo
}

/// Channel of lane `lane` (0..<16) in the depthwise kernel's lo/hi order:
/// lo = channels 0-3, 8-11; hi = 4-7, 12-15.
@inline(__always)
func depthwiseLaneChannel(_ lane: Int) -> Int {
  let half = lane / 8, l = lane % 8
  return (l < 4 ? l : l + 4) + half * 4
}

/// Fills the region for `depthwiseConv2DPacked`. The per-tap kernel
/// references the filter, bias and requantization arrays, not copies: they
/// must outlive the region. Returns false (portable path) when neither
/// kernel applies.
public func depthwiseConv2DPack(
  isa: Int32, params: ConvParams, requant: ChannelRequant,
  inputShape: Dims4, filterShape: Dims4, filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?,
  outputShape: Dims4, region: UnsafeMutableRawPointer, regionBytes: Int
) -> Bool {
  if isArmISA(isa) {
    return armDepthwisePack(params: params, requant: requant, inputShape: inputShape, filterShape: filterShape,
                            filter: filter, bias: bias, outputShape: outputShape, region: region,
                            regionBytes: regionBytes)
  }
  let need = depthwiseConv2DPackedBytes(isa: isa, filterShape: filterShape, inputChannels: inputShape.c,
                                        dilationW: params.dilationW)
  let inC = inputShape.c, C = filterShape.c
  guard need > 0, need <= regionBytes, C % inC == 0, params.depthMultiplier == C / inC, outputShape.c == C,
        outputShape.n == inputShape.n, inputShape.n > 0, inputShape.h > 0, inputShape.w > 0,
        outputShape.h > 0, outputShape.w > 0,
        params.activationMin >= -128, params.activationMax <= 127, params.activationMin <= params.activationMax
  else { return false }
  var a = cnnrt_conv_args()
  a.setGeometry(params: params, inputShape: inputShape, outputShape: outputShape, kH: filterShape.h,
                kW: filterShape.w)
  a.c_groups = Int64(inC); a.oc_blocks = Int64(C / 8)
  a.depth_multiplier = Int32(truncatingIfNeeded: C / inC)
  a.weights = UnsafeRawPointer(filter)
  a.acc_init = bias
  a.multiplier = requant.multiplier
  a.shift = requant.shift
  let argsBytes = alignUp(MemoryLayout<cnnrt_conv_args>.stride, 64)
  let kH = filterShape.h, kW = filterShape.w
  if isa == KernelISA.avx512, let l = depthwiseAVX512Layout(filterShape: filterShape, inputChannels: inC) {
    // The region was sized for this layout: the AVX-512 kernel or the portable path.
    guard params.inputOffset >= -127, params.inputOffset <= 128, argsBytes + l.bytes <= regionBytes else { return false }
    let columns = avx512DepthwiseColumns(params: params, requant: requant, channels: C, inputChannels: inC,
                                         kH: kH, kW: kW)
    let pixels = columns ?? avx512DepthwisePixels(params: params, requant: requant, channels: C, inputChannels: inC,
                                                  kH: kH, kW: kW, outW: outputShape.w)
    packDepthwiseAVX512(l, requant: requant, filter: filter, bias: bias, channels: C, depthMultiplier: C / inC,
                        kW: kW, taps: kH * kW, rowQuads: columns != nil, inputOffset: params.inputOffset,
                        pixels: pixels, into: region + argsBytes, args: &a)
  } else if let l = depthwiseRowsLayout(filterShape: filterShape, channels: C), argsBytes + l.bytes <= regionBytes,
     let chunk = depthwiseRowsChunk(kH: kH, kW: kW, stride: l.stride, multiplier: C / inC,
                                    strideW: params.strideW, dilationW: params.dilationW, outW: outputShape.w),
     requantFitsTableAVX2(requant, channels: C, bias: bias, absWeightSum: { c in
       var sum: Int64 = 0
       var t = 0
       while t < kH * kW { let w = Int64(filter[t &* C &+ c]); sum &+= w < 0 ? 0 &- w : w; t &+= 1 }
       return sum
     }) {
    let S = l.stride
    /// Output channel of lane `lane` of the padded channels (-1: padding).
    func channel(_ lane: Int) -> Int {
      let c = (lane / 16) * 16 + depthwiseLaneChannel(lane % 16)
      return c < C ? c : -1
    }
    let base = region + argsBytes
    let taps = kH * kW, tapPairs = (taps + 1) / 2
    let w = base + l.weightsOffset
    var idx = 0  // [S/16][tapPairs][lo, hi][8 lanes][2] int8
    var cb = 0
    while cb < S / 16 {
      var j = 0
      while j < tapPairs {
        var lane = 0
        while lane < 16 {
          let c = channel(cb * 16 + lane)
          var e = 0
          while e < 2 {
            let t = 2 * j + e
            let v: Int8 = t < taps && c >= 0 ? filter[t * C + c] : 0
            w.storeBytes(of: v, toByteOffset: idx, as: Int8.self)
            idx += 1
            e += 1
          }
          lane += 1
        }
        j += 1
      }
      cb += 1
    }
    let acc = (base + l.accInitOffset).bindMemory(to: Int32.self, capacity: S)
    var lane = 0
    while lane < S {
      let c = channel(lane)
      acc[lane] = c >= 0 ? (bias?[c] ?? 0) : 0
      lane += 1
    }
    let table = base + l.tableOffset
    a.has_left_shift = fillRequantTableAVX2(table, blocks: S / 8, requant: requant, channel: channel) ? 1 : 0
    a.variant = 1
    a.chunk_w = Int64(chunk)
    a.px_stride = Int64(S)
    a.weights = UnsafeRawPointer(w)
    a.acc_init = UnsafePointer(acc)
    a.rq_table = UnsafePointer(table.bindMemory(to: Int32.self, capacity: S / 8 * 56))
  } else if C != inC || C % 8 != 0 {
    return false  // the per-tap kernel needs depth multiplier 1 and whole blocks of 8 channels
  }
  region.bindMemory(to: cnnrt_conv_args.self, capacity: 1).initialize(to: a)
  return true
}

/// Runs a depthwise convolution packed by `depthwiseConv2DPack` (the CPU must
/// support `isa`).
public func depthwiseConv2DPacked(isa: Int32, region: UnsafeRawPointer, input: UnsafePointer<Int8>,
                                  output: UnsafeMutablePointer<Int8>) {
  if isArmISA(isa) { armConvRun(isa: isa, depthwise: true, region: region, input: input, output: output); return }
  let args = region.assumingMemoryBound(to: cnnrt_conv_args.self)
  #if canImport(_CNNKernelsAVX512) && arch(x86_64)
  if isa == KernelISA.avx512 && args.pointee.variant == 3 { cnnrtDepthwiseAVX512(args, input, output); return }
  #endif
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if isa == KernelISA.avx2 || isa == KernelISA.avx512 {
    if args.pointee.variant == 1 { cnnrtDepthwiseRowsAVX2(args, input, output) } else { cnnrtDepthwiseAVX2(args, input, output) }
    return
  }
  #endif
  _ = args
}

// MARK: - AVX-512 depthwise layout (DepthwiseAVX512.swift)

/// The AVX-512 depthwise region after the argument block: weights
/// [blocks][quads][4][16][4] int8 (the last block only its ceil(C/16) mod
/// 4 16-byte lanes per quad and k, when it is not whole), then acc_init,
/// multiplier and shift as [blocks][4][16] int32, then (depth multiplier
/// > 1) the gather indices [blocks][2][32] int16.
struct DepthwiseAVX512Layout {
  var accInitOffset: Int
  var multiplierOffset: Int
  var shiftOffset: Int
  var gatherOffset: Int
  var bytes: Int
  var quads: Int
  var blocks: Int
}

/// The layout for these shapes, or nil when the kernel does not take them
/// (more than CNNRT_AVX512_DW_MAX_TAPS taps: the AVX2 kernels run).
func depthwiseAVX512Layout(filterShape: Dims4, inputChannels: Int) -> DepthwiseAVX512Layout? {
  let C = filterShape.c
  guard filterShape.n == 1, filterShape.h > 0, filterShape.w > 0, filterShape.h <= Int(CNNRT_AVX512_DW_MAX_TAPS),
        filterShape.w <= Int(CNNRT_AVX512_DW_MAX_TAPS), filterShape.h * filterShape.w <= Int(CNNRT_AVX512_DW_MAX_TAPS),
        inputChannels > 0, C > 0, C <= 1 << 20, C % inputChannels == 0 else { return nil }
  let quads = (filterShape.h * filterShape.w + 3) / 4
  let blocks = (C + 63) / 64
  // Per quad and 16 channels: 4 taps x 16 bytes; 16 or 32 channels (depth
  // multiplier 1) reserve a whole 64-byte vector, for adjacent pixels
  // sharing it (avx512DepthwisePixels).
  let lanesC = (C == 16 || C == 32) && C == inputChannels ? 64 : C
  let weightBytes = quads * 64 * ((lanesC + 15) / 16)
  let channelBytes = blocks * 256
  let accInitOffset = alignUp(weightBytes, 64)
  let gatherOffset = accInitOffset + 3 * channelBytes
  let gatherBytes = C == inputChannels ? 0 : blocks * 128
  return DepthwiseAVX512Layout(accInitOffset: accInitOffset, multiplierOffset: accInitOffset + channelBytes,
                               shiftOffset: accInitOffset + 2 * channelBytes, gatherOffset: gatherOffset,
                               bytes: gatherOffset + gatherBytes, quads: quads, blocks: blocks)
}

/// Output pixels per 64-byte vector of the AVX-512 depthwise band kernel, or
/// 0 when the per-tap kernel runs instead: the band kernel takes depth
/// multiplier 1 when its scratch rows fit (cnnrt_dw512_band_row_bytes) and no
/// multiplier is Int32.min; 64 / C pixels for 16 or 32 channels and stride_w
/// 1, else 1.
func avx512DepthwisePixels(params: ConvParams, requant: ChannelRequant, channels C: Int, inputChannels inC: Int,
                           kH: Int, kW: Int, outW: Int) -> Int {
  guard C == inC, params.padLeft >= 0, params.padTop >= 0, !hasMinMultiplier(requant, channels: C) else { return 0 }
  let row = cnnrt_dw512_band_row_bytes(Int64(outW), Int64(params.strideW), Int64(kW), Int64(params.dilationW),
                                       Int64(C))
  guard row > 0, Int64(kH) * row <= Int64(CNNRT_AVX2_STACK_BYTES) else { return 0 }
  return (C == 16 || C == 32) && params.strideW == 1 ? 64 / C : 1
}

/// Output pixels per 64-byte column group of the AVX-512 depthwise column
/// kernel (depthwiseColumnsAVX512), or nil when it does not take the op: 3x3
/// taps, stride_h 1 or 2, dilation_h 1, depth multiplier 1, no Int32.min
/// multiplier; 64 / C pixels for 16 or 32 channels and stride_w 1, else 1.
func avx512DepthwiseColumns(params: ConvParams, requant: ChannelRequant, channels C: Int, inputChannels inC: Int,
                            kH: Int, kW: Int) -> Int? {
  guard C == inC, kH == 3, kW == 3, params.strideH == 1 || params.strideH == 2, params.dilationH == 1,
        params.strideW >= 1, params.dilationW >= 1, params.padLeft >= 0, params.padTop >= 0,
        !hasMinMultiplier(requant, channels: C) else { return nil }
  return (C == 16 || C == 32) && params.strideW == 1 ? 64 / C : 1
}

/// Whether some channel's multiplier is Int32.min (a scale of minus a power
/// of two): outside the AVX-512 band kernels' requantization (RequantLanes512),
/// so such an op keeps the per-tap kernels.
func hasMinMultiplier(_ requant: ChannelRequant, channels: Int) -> Bool {
  var c = 0
  while c < channels {
    if requant.multiplier[c] == Int32.min { return true }
    c += 1
  }
  return false
}

/// Channel of lane (k, d) of a block of the AVX-512 depthwise kernel:
/// dword d = 4L + j of accumulator k holds channel 16L + 4k + j.
@inline(__always)
func depthwiseAVX512Channel(block: Int, k: Int, dword d: Int) -> Int {
  block * 64 + 16 * (d / 4) + 4 * k + d % 4
}

/// Fills the AVX-512 depthwise region at `base` (after the argument block)
/// and the kernel's fields of `a` (variant 3). `rowQuads` (the column
/// kernel, 3x3): quad q holds kernel row q's three taps and a zero, where
/// the other kernels' quads take the taps in raster order.
func packDepthwiseAVX512(_ l: DepthwiseAVX512Layout, requant: ChannelRequant, filter: UnsafePointer<Int8>,
                         bias: UnsafePointer<Int32>?, channels C: Int, depthMultiplier m: Int, kW: Int, taps: Int,
                         rowQuads: Bool, inputOffset: Int32, pixels: Int, into base: UnsafeMutableRawPointer,
                         args a: inout cnnrt_conv_args) {
  /// The tap of slot t of quad q (taps or more: a zero weight).
  @inline(__always) func tapAt(_ q: Int, _ t: Int) -> Int { rowQuads ? (t < kW ? q * kW + t : taps) : 4 * q + t }
  /// The channel of byte position `at` of a block's vector (C or more: none).
  @inline(__always) func channelAt(_ at: Int) -> Int { pixels <= 1 ? at : (at < pixels * C ? at % C : C) }
  var idx = 0
  var blk = 0
  while blk < l.blocks {
    let lanes = pixels > 1 ? 4 : min(4, (C - blk * 64 + 15) / 16)  // 16-byte lanes stored per quad and k
    var q = 0
    while q < l.quads {
      var k = 0
      while k < 4 {
        var d = 0
        while d < 4 * lanes {
          let c = channelAt(depthwiseAVX512Channel(block: blk, k: k, dword: d))
          var t = 0
          while t < 4 {
            let tap = tapAt(q, t)
            let v: Int8 = tap < taps && c < C ? filter[tap * C + c] : 0
            base.storeBytes(of: v, toByteOffset: idx, as: Int8.self)
            idx += 1
            t += 1
          }
          d += 1
        }
        k += 1
      }
      q += 1
    }
    blk += 1
  }
  let lanesTotal = l.blocks * 64
  let acc = (base + l.accInitOffset).bindMemory(to: Int32.self, capacity: lanesTotal)
  let mult = (base + l.multiplierOffset).bindMemory(to: Int32.self, capacity: lanesTotal)
  let shift = (base + l.shiftOffset).bindMemory(to: Int32.self, capacity: lanesTotal)
  var lane = 0
  while lane < lanesTotal {
    let c = channelAt(depthwiseAVX512Channel(block: lane / 64, k: lane % 64 / 16, dword: lane % 16))
    var initial: Int32 = 0, mv: Int32 = 0, sv: Int32 = 0
    if c < C {
      // Inputs enter vpdpbusd as x + 128: subtract (128 - inputOffset) * sum(w).
      var sum: Int32 = 0
      var t = 0
      while t < taps { sum = sum &+ Int32(filter[t * C + c]); t += 1 }
      initial = (bias?[c] ?? 0) &- (128 &- inputOffset) &* sum
      mv = requant.multiplier[c]
      sv = requant.shift[c]
    }
    acc[lane] = initial; mult[lane] = mv; shift[lane] = sv
    lane += 1
  }
  if m > 1 {
    // Word 8L + i of index vector A picks the input of channel 16L + i, of B
    // that of 16L + 8 + i, relative to the block's first input channel.
    var i = 0
    while i < l.blocks * 64 {
      let blk = i / 64, vec = i % 64 / 32, w = i % 32
      let oc = blk * 64 + 16 * (w / 8) + 8 * vec + w % 8
      let v: Int16 = oc < C ? Int16(truncatingIfNeeded: oc / m - blk * 64 / m) : 0
      base.storeBytes(of: v, toByteOffset: l.gatherOffset + 2 * i, as: Int16.self)
      i += 1
    }
    a.rq_table = UnsafePointer((base + l.gatherOffset).bindMemory(to: Int32.self, capacity: l.blocks * 32))
  }
  a.variant = 3
  a.taps_per_row = rowQuads ? Int64(kW) : 0
  a.chunk_w = Int64(pixels)
  a.c_groups = Int64(l.quads)
  a.oc_blocks = Int64(l.blocks)
  a.weights = UnsafeRawPointer(base)
  a.acc_init = UnsafePointer(acc)
  a.multiplier = UnsafePointer(mult)
  a.shift = UnsafePointer(shift)
}
