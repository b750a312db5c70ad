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
// chosen. The AVX-512 path is opt-in for now (CNNRT_ISA=avx512): it has not
// yet been run on AVX-512 hardware by the test suite; without a request the
// best path used is AVX2.
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
}

/// Best path implemented in this build.
@inline(__always)
func highestImplementedISA() -> Int32 {
  #if canImport(_CNNKernelsAVX512) && arch(x86_64)
  return KernelISA.avx512
  #elseif canImport(_CNNKernelsAVX2) && arch(x86_64)
  return KernelISA.avx2
  #else
  return KernelISA.portable
  #endif
}

/// Best path used when CNNRT_ISA is not set (AVX-512 is opt-in until it has
/// been validated on AVX-512 hardware).
let defaultISACap = KernelISA.avx2

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
  // AVX2: 8 lanes x 2 int16; AVX-512: 16 lanes x 4 int8.
  let avx512 = isa == KernelISA.avx512
  let lanes = avx512 ? 16 : 8, groupSize = avx512 ? 4 : 2, elementBytes = avx512 ? 1 : 2
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
  return ConvPackLayout(weightsOffset: weightsOffset, accInitOffset: accInitOffset, multiplierOffset: multiplierOffset,
                        shiftOffset: shiftOffset, bytes: off, cGroups: cGroups, ocBlocks: ocBlocks, lanes: lanes,
                        groupSize: groupSize)
}

/// Bytes of the packed region `conv2DPack` needs (0: this path has no packed
/// kernel for these shapes — use conv2DReference). Groups must be 1
/// (filterShape.c == inputChannels).
public func conv2DPackedBytes(isa: Int32, filterShape: Dims4, inputChannels: Int) -> Int {
  guard filterShape.c == inputChannels,
        let l = convPackLayout(isa: isa, outC: filterShape.n, kH: filterShape.h, kW: filterShape.w, inC: inputChannels)
  else { return 0 }
  return l.bytes
}

/// Fills a packed region (`conv2DPackedBytes` bytes at `region`, 16-byte
/// aligned) for `conv2DPacked`. Returns false (writing nothing useful) when
/// the path has no packed kernel for these shapes or parameters.
public func conv2DPack(
  isa: Int32, params: ConvParams, requant: ChannelRequant,
  inputShape: Dims4, filterShape: Dims4, filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?,
  outputShape: Dims4, region: UnsafeMutableRawPointer, regionBytes: Int
) -> Bool {
  let outC = filterShape.n, kH = filterShape.h, kW = filterShape.w, inC = inputShape.c
  guard filterShape.c == inC, outputShape.c == outC, outputShape.n == inputShape.n,
        inputShape.n > 0, inputShape.h > 0, inputShape.w > 0, outputShape.h > 0, outputShape.w > 0,
        params.activationMin >= -128, params.activationMax <= 127, params.activationMin <= params.activationMax,
        params.inputOffset >= -127, params.inputOffset <= 128,  // input zero point in int8
        let l = convPackLayout(isa: isa, outC: outC, kH: kH, kW: kW, inC: inC), l.bytes <= regionBytes
  else { return false }
  let padded = l.ocBlocks * l.lanes
  let accInit = (region + l.accInitOffset).bindMemory(to: Int32.self, capacity: padded)
  let mult = (region + l.multiplierOffset).bindMemory(to: Int32.self, capacity: padded)
  let shift = (region + l.shiftOffset).bindMemory(to: Int32.self, capacity: padded)
  let avx512 = isa == KernelISA.avx512
  let perFilter = kH * kW * inC
  var oc = 0
  while oc < padded {
    let real = oc < outC
    var initial: Int32 = real ? (bias?[oc] ?? 0) : 0
    if avx512 && real {
      // Activations enter vpdpbusd as x + 128: subtract (128 - inputOffset) * sum(w).
      var sum: Int32 = 0
      var k = 0
      while k < perFilter { sum = sum &+ Int32(filter[oc * perFilter + k]); k += 1 }
      initial = initial &- (128 &- params.inputOffset) &* sum
    }
    accInit[oc] = initial
    mult[oc] = real ? requant.multiplier[oc] : 0
    shift[oc] = real ? requant.shift[oc] : 0
    oc += 1
  }
  // [oc_blocks][kH][kW][c_groups][lanes][groupSize]: int16 (AVX2) or int8 (AVX-512).
  let w = region + l.weightsOffset
  var i = 0
  var blk = 0
  while blk < l.ocBlocks {
    var ky = 0
    while ky < kH {
      var kx = 0
      while kx < kW {
        var g = 0
        while g < l.cGroups {
          var lane = 0
          while lane < l.lanes {
            let o = blk * l.lanes + lane
            var k = 0
            while k < l.groupSize {
              let c = g * l.groupSize + k
              let v: Int8 = (o < outC && c < inC) ? filter[((o * kH + ky) * kW + kx) * inC + c] : 0
              if avx512 {
                w.storeBytes(of: v, toByteOffset: i, as: Int8.self)
              } else {
                w.storeBytes(of: Int16(v), toByteOffset: 2 * i, as: Int16.self)
              }
              i += 1
              k += 1
            }
            lane += 1
          }
          g += 1
        }
        kx += 1
      }
      ky += 1
    }
    blk += 1
  }
  let args = region.bindMemory(to: cnnrt_conv_args.self, capacity: 1)
  var a = cnnrt_conv_args()
  a.batches = Int64(inputShape.n); a.in_h = Int64(inputShape.h); a.in_w = Int64(inputShape.w); a.in_c = Int64(inC)
  a.out_h = Int64(outputShape.h); a.out_w = Int64(outputShape.w); a.out_c = Int64(outC)
  a.k_h = Int64(kH); a.k_w = Int64(kW)
  a.stride_h = Int64(params.strideH); a.stride_w = Int64(params.strideW)
  a.dilation_h = Int64(params.dilationH); a.dilation_w = Int64(params.dilationW)
  a.pad_top = Int64(params.padTop); a.pad_left = Int64(params.padLeft)
  a.c_groups = Int64(l.cGroups); a.oc_blocks = Int64(l.ocBlocks)
  a.input_offset = params.inputOffset; a.output_offset = params.outputOffset
  a.act_min = params.activationMin; a.act_max = params.activationMax
  a.weights = UnsafeRawPointer(region + l.weightsOffset)
  a.acc_init = UnsafePointer(accInit)
  a.multiplier = UnsafePointer(mult)
  a.shift = UnsafePointer(shift)
  args.initialize(to: a)
  return true
}

/// Runs a Conv2D packed by `conv2DPack` for `isa` on the input (NHWC int8)
/// into the output. The caller guarantees the CPU supports `isa`
/// (`resolvedKernelISA`); a path this build lacks writes nothing.
public func conv2DPacked(isa: Int32, region: UnsafeRawPointer, input: UnsafePointer<Int8>,
                         output: UnsafeMutablePointer<Int8>) {
  let args = region.assumingMemoryBound(to: cnnrt_conv_args.self)
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if isa == KernelISA.avx2 { cnnrtConv2DAVX2(args, input, output); return }
  #endif
  #if canImport(_CNNKernelsAVX512) && arch(x86_64)
  if isa == KernelISA.avx512 { cnnrtConv2DAVX512(args, input, output); return }
  #endif
  _ = args
}

// MARK: - Depthwise (AVX2 kernel on the AVX2 and AVX-512 paths)

/// Bytes of the region `depthwiseConv2DPack` needs (0: portable path only).
/// Eligible: depth multiplier 1, channels a multiple of 8, an x86 path. The
/// kernel reads the model's filter in place: the region is the argument block.
public func depthwiseConv2DPackedBytes(isa: Int32, filterShape: Dims4, inputChannels: Int) -> Int {
  guard isa == KernelISA.avx2 || isa == KernelISA.avx512, filterShape.n == 1,
        filterShape.c == inputChannels, inputChannels > 0, inputChannels % 8 == 0,
        filterShape.h > 0, filterShape.w > 0 else { return 0 }
  return alignUp(MemoryLayout<cnnrt_conv_args>.stride, 64)
}

/// Fills the region for `depthwiseConv2DPacked`. The filter, bias and
/// requantization arrays are referenced, not copied: they must outlive it.
public func depthwiseConv2DPack(
  isa: Int32, params: ConvParams, requant: ChannelRequant,
  inputShape: Dims4, filterShape: Dims4, filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>?,
  outputShape: Dims4, region: UnsafeMutableRawPointer, regionBytes: Int
) -> Bool {
  let need = depthwiseConv2DPackedBytes(isa: isa, filterShape: filterShape, inputChannels: inputShape.c)
  guard need > 0, need <= regionBytes, params.depthMultiplier == 1, outputShape.c == inputShape.c,
        outputShape.n == inputShape.n, inputShape.n > 0, inputShape.h > 0, inputShape.w > 0,
        outputShape.h > 0, outputShape.w > 0,
        params.activationMin >= -128, params.activationMax <= 127, params.activationMin <= params.activationMax
  else { return false }
  var a = cnnrt_conv_args()
  a.batches = Int64(inputShape.n); a.in_h = Int64(inputShape.h); a.in_w = Int64(inputShape.w)
  a.in_c = Int64(inputShape.c)
  a.out_h = Int64(outputShape.h); a.out_w = Int64(outputShape.w); a.out_c = Int64(outputShape.c)
  a.k_h = Int64(filterShape.h); a.k_w = Int64(filterShape.w)
  a.stride_h = Int64(params.strideH); a.stride_w = Int64(params.strideW)
  a.dilation_h = Int64(params.dilationH); a.dilation_w = Int64(params.dilationW)
  a.pad_top = Int64(params.padTop); a.pad_left = Int64(params.padLeft)
  a.c_groups = Int64(inputShape.c); a.oc_blocks = Int64(inputShape.c / 8)
  a.input_offset = params.inputOffset; a.output_offset = params.outputOffset
  a.act_min = params.activationMin; a.act_max = params.activationMax
  a.weights = UnsafeRawPointer(filter)
  a.acc_init = bias
  a.multiplier = requant.multiplier
  a.shift = requant.shift
  region.bindMemory(to: cnnrt_conv_args.self, capacity: 1).initialize(to: a)
  return true
}

/// Runs a depthwise convolution packed by `depthwiseConv2DPack` (the CPU must
/// support `isa`).
public func depthwiseConv2DPacked(isa: Int32, region: UnsafeRawPointer, input: UnsafePointer<Int8>,
                                  output: UnsafeMutablePointer<Int8>) {
  let args = region.assumingMemoryBound(to: cnnrt_conv_args.self)
  #if canImport(_CNNKernelsAVX2) && arch(x86_64)
  if isa == KernelISA.avx2 || isa == KernelISA.avx512 { cnnrtDepthwiseAVX2(args, input, output); return }
  #endif
  _ = args
}
