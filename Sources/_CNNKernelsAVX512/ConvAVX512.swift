// AVX-512 VNNI Conv2D kernel, bit-exact with conv2DReference.
//
// Compiled with -Xcc -march=x86-64-v4 -Xcc -mavx512vnni: call only when the
// CPU has them (cnnrt_cpu_best_isa() == CNNRT_ISA_AVX512). Takes only raw
// pointers and the C argument block, so it does not depend on CNNRuntime.
//
// Packed weights (made at load by CNNRuntime.conv2DPack), int8:
//   [oc_blocks][k_h][k_w][c_groups][16 output channels][4 input channels]
// (input channels padded to a multiple of 4, output channels to a multiple
// of 16, both with zero weights). vpdpbusd multiplies unsigned activations
// by signed weights, so activations enter as u = x + 128 (x XOR 0x80):
//   sum((x + off) * w) = sum(u * w) - (128 - off) * sum(w)
// acc_init = bias - (128 - off) * sum(w) is computed at load over ALL taps;
// a padding tap feeds u = 128 - off (= 128 + input zero point, in 0...255)
// so that it contributes exactly 0 after the correction. Every product and
// the int32 sums are exact modulo 2^32, as the reference's wrapping
// accumulator. Requantization is the reference's MultiplyByQuantizedMultiplier
// (double rounding), + output offset, clamp, 16 lanes at a time.
//
// Two kernels read this layout. The band kernel (convBandAVX512, used
// whenever k_h scratch rows fit CNNRT_AVX2_STACK_BYTES) converts each output
// row's input rows once into u bytes in stack scratch rows, padding
// included, and runs the generated register tiles of ConvTilesAVX512.swift
// over them (up to 16 pixels x 1 block, 12 x 2 or 6 x 4 blocks). The
// per-tap kernel (convTapsAVX512, any geometry) is described below.
//
// Per-tap register tile: 4 adjacent output pixels of a row x up to 4 blocks of 16
// output channels (16 zmm accumulators). Per input-channel quad each weight
// vector is loaded once for the 4 pixels and each pixel's broadcast feeds
// the 4 blocks: 16 vpdpbusd for 4 weight loads and 4 broadcasts. A tap in
// the padding reads a constant word (u = 128 - off) with step 0 instead of
// branching. The last quad of a channel count that is not a multiple of 4
// is assembled byte by byte (no read past a pixel's channels).
//
// Row mode (variant 2, chosen at load when dilation_w is 1, in_c is not a
// multiple of 4 and k_w * in_c <= CNNRT_AVX512_ROW_MAX_INPUTS, e.g. a
// 1- or 3-channel first layer): a kernel row's k_w taps are one tap of
// k_w * in_c contiguous inputs, so only the row's end is padded to a quad,
// not every tap's channels. A window partly in the left or right padding
// is assembled into a per-pixel stack slot (pad bytes where it is outside).
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtConv2DAVX512(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                              _ output: UnsafeMutablePointer<Int8>) {
  if a.pointee.chunk_w == 1 && ConvBand512(a.pointee) != nil {
    withStackScratch512(a, input, output) { convBandAVX512($0, $1, $2, $3) }
    return
  }
  convTapsAVX512(a, input, output)
}

/// A band kernel: arguments, input, output, the stack scratch buffer.
typealias BandKernel512 = @convention(c) (UnsafePointer<cnnrt_conv_args>, UnsafePointer<Int8>,
                                          UnsafeMutablePointer<Int8>, UnsafeMutableRawPointer) -> Void

/// A kernel call's arguments, passed through cnnrt_with_stack_buffer.
struct KernelCall512 {
  var a: UnsafePointer<cnnrt_conv_args>
  var input: UnsafePointer<Int8>
  var output: UnsafeMutablePointer<Int8>
  var body: BandKernel512
}

/// Runs `body` with the CNNRT_AVX2_STACK_BYTES stack buffer (cnnrt_with_stack_buffer).
@inline(__always)
func withStackScratch512(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                         _ output: UnsafeMutablePointer<Int8>, _ body: BandKernel512) {
  var call = KernelCall512(a: a, input: input, output: output, body: body)
  cnnrt_with_stack_buffer({ buffer, context in
    guard let buffer, let k = context?.assumingMemoryBound(to: KernelCall512.self).pointee else { return }
    k.body(k.a, k.input, k.output, buffer)
  }, &call)
}

/// Geometry of the band kernel's scratch rows (cnnrt_conv512_band_row_bytes),
/// or nil when k_h rows do not fit the stack buffer (CNNRT_AVX2_STACK_BYTES)
/// or the arguments are out of its range. The loader chose the band kernel
/// (chunk_w = 1) by the same rule; this is the kernel's own guard.
struct ConvBand512 {
  /// Scratch bytes per input pixel: in_c in row mode (a kernel row's k_w *
  /// in_c inputs are contiguous), else the pixel's quads (4 * c_groups).
  var pxStride: Int
  /// Bytes per scratch row (a multiple of 64): the input row as u = x + 128,
  /// its left and right padding as u = 128 - input_offset.
  var rowBytes: Int
  var rowMode: Bool

  init?(_ p: cnnrt_conv_args) {
    rowMode = p.variant == 2
    let row = cnnrt_conv512_band_row_bytes(p.out_w, p.stride_w, p.k_w, p.dilation_w, p.in_c, p.c_groups,
                                           rowMode ? 1 : 0)
    guard row > 0, p.k_h > 0, p.k_h <= 1 << 10, p.k_h &* row <= Int64(CNNRT_AVX2_STACK_BYTES),
          p.pad_left >= 0, p.pad_top >= 0, p.pad_left <= 1 << 20 else { return nil }
    rowBytes = Int(row)
    pxStride = rowMode ? Int(p.in_c) : 4 &* Int(p.c_groups)
  }
}

/// One band scratch row of `rowBytes` bytes at `d`: padding (`padVec`) but
/// bytes inStart..<inEnd, which are the input row's first inEnd - inStart
/// bytes at `src` as u = x XOR 0x80 (flip); all padding when `src` is nil
/// (a row outside the input).
@inline(__always)
func fillBandRow512(_ d: UnsafeMutableRawPointer, _ rowBytes: Int, _ src: UnsafeRawPointer?, _ inStart: Int,
                    _ inEnd: Int, _ padVec: __m512i, _ flip: __m512i) {
  @inline(__always) func mask(_ n: Int) -> __mmask64 { n >= 64 ? ~0 : (1 &<< UInt64(n)) &- 1 }
  guard let src else {
    var i = 0
    while i < rowBytes { _mm512_mask_storeu_epi8(d + i, mask(rowBytes &- i), padVec); i &+= 64 }
    return
  }
  var i = 0
  while i < inStart { _mm512_mask_storeu_epi8(d + i, mask(inStart &- i), padVec); i &+= 64 }
  i = 0
  let count = inEnd &- inStart
  while i < count {
    let k = mask(count &- i)
    _mm512_mask_storeu_epi8(d + (inStart &+ i), k, _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, src + i), flip))
    i &+= 64
  }
  i = inEnd
  while i < rowBytes { _mm512_mask_storeu_epi8(d + i, mask(rowBytes &- i), padVec); i &+= 64 }
}

/// Arguments of a register tile (ConvTilesAVX512.swift).
struct ConvTile512Args {
  var weights: UnsafeRawPointer      // the block group's first packed weights
  var blockStride: Int               // bytes between blocks' weights
  var kH: Int, rowBytes: Int, kyWStep: Int
  var runs: Int, runQuads: Int, runSrcStep: Int, runWStep: Int
  var pxStep: Int                    // scratch bytes between adjacent output pixels' windows
  var accInit: UnsafePointer<Int32>, multiplier: UnsafePointer<Int32>, shift: UnsafePointer<Int32>
  var outC: Int, c0: Int
  var zo: Int32                      // the output offset
  var actMin: Int32                  // the clamp's lower bound
  var vMin: __m512i, vMax: __m512i
  var lo8: __m512i, hi8: __m512i     // the activation bounds in every byte
}

/// Band kernel: for each output row the k_h input rows it reads are
/// converted once to u = x + 128 (XOR 0x80) in scratch rows, padding
/// included (u = 128 - input_offset, which adds exactly 0 after acc_init's
/// correction); the register tiles then broadcast each pixel's quads straight
/// from there, with no per-tap padding test. Same packed weights, acc_init
/// and arithmetic as the per-tap kernel.
@inline(never)
func convBandAVX512(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                    _ output: UnsafeMutablePointer<Int8>, _ scratch: UnsafeMutableRawPointer) {
  let p = a.pointee
  guard let g = ConvBand512(p), let wRaw = p.weights, let accInit = p.acc_init, let mult = p.multiplier,
        let shift = p.shift else { return }
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), inC = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w), outC = Int(p.out_c)
  let kH = Int(p.k_h), kW = Int(p.k_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w)
  let dilH = Int(p.dilation_h), dilW = Int(p.dilation_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let cGroups = Int(p.c_groups), ocBlocks = Int(p.oc_blocks)
  let taps = g.rowMode ? 1 : kW
  let tapStride = cGroups &* 64
  let blockStride = kH &* taps &* tapStride
  let pxStride = g.pxStride, rowBytes = g.rowBytes
  let oneRun = g.rowMode || dilW == 1
  // The 3-wide tiles (ConvTilesAVX512.swift) need a stride-1 row of 3 pixel
  // taps whose quads follow each other: a tile's P outputs read P + 2
  // consecutive pixels. Those of 2 or 4 blocks run only where they cover the
  // whole row: on the MNIST CNN's 28- and 14-pixel rows, where a 12- or
  // 6-pixel tile of the other kind took the rest, its two convolutions were
  // 3 % slower than with the other kind alone.
  let threeWide = !g.rowMode && kW == 3 && strideW == 1 && dilW == 1
  let threeWideB2 = threeWide && outW % convTile512PixelsK3B2 == 0
  let threeWideB4 = threeWide && outW % convTile512PixelsK3B4 == 0
  // One block, 3x3, stride and dilation 1: output rows in pairs, each input
  // row broadcast once for both (k_h + 1 scratch rows).
  let pairRows = threeWide && ocBlocks == 1 && kH == 3 && strideH == 1 && dilH == 1
    && (kH &+ 1) &* rowBytes <= Int(CNNRT_AVX2_STACK_BYTES) && outW >= convTile512PixelsK3R2B1
  // 1x1 with a stride and no padding: the output pixels of several output
  // rows are copied side by side into the scratch (each its input pixel,
  // flipped), and those rows' outputs, contiguous in NHWC, are run as one
  // long row of tiles: fewer row starts and narrow end tiles (ResNet-8's
  // stride-2 1x1 convolutions have rows of 16 and 8 pixels).
  let flat = kH == 1 && kW == 1 && !g.rowMode && pxStride == inC && padTop == 0 && padLeft == 0
    && (strideW > 1 || strideH > 1) && outW &* pxStride <= Int(CNNRT_AVX2_STACK_BYTES)
  let flatRows = flat ? max(1, min(outH, Int(CNNRT_AVX2_STACK_BYTES) / max(1, outW &* pxStride))) : 1
  let sx = flat ? 1 : strideW  // output pixel step in the scratch, in pixels
  let (lo8, hi8) = bounds512(p.act_min, p.act_max)
  let c = ConvTile512Args(
    weights: wRaw, blockStride: blockStride, kH: kH, rowBytes: rowBytes, kyWStep: taps &* tapStride,
    runs: oneRun ? 1 : kW, runQuads: oneRun ? taps &* cGroups : cGroups,
    runSrcStep: dilW &* pxStride, runWStep: tapStride, pxStep: sx &* pxStride,
    accInit: accInit, multiplier: mult, shift: shift, outC: outC, c0: 0,
    zo: p.output_offset, actMin: p.act_min, vMin: _mm512_set1_epi32(p.act_min),
    vMax: _mm512_set1_epi32(p.act_max), lo8: lo8, hi8: hi8)
  // Short reductions (at most 16 quads, e.g. 1x1 with up to 64 channels):
  // the requantization of the tiles of 2 or 4 blocks made once per output
  // row and block group. (MobileNet-like 224's 1x1 convolutions with 32 and
  // 64 input channels and its first layer 9-12 % faster; ResNet-8's first
  // layer, one block, 8 % slower with it, as were the 3x3 convolutions when
  // every tile took it.)
  let shortK = !threeWide && kH &* c.runs &* c.runQuads <= 16
  let padByte = UInt8(truncatingIfNeeded: 128 &- p.input_offset)
  let padVec = _mm512_set1_epi8(CChar(bitPattern: padByte))
  let flip = _mm512_set1_epi8(-128)
  // Input pixels a scratch row holds (the rest of its bytes are padding).
  let inCols = max(0, min(inW, rowBytes / pxStride &- padLeft))
  let inStart = padLeft &* pxStride, inEnd = (padLeft &+ inCols) &* pxStride
  @inline(__always) func fillPad(_ d: UnsafeMutableRawPointer, _ from: Int, _ to: Int) {
    var i = from
    while i < to {
      let n = min(64, to &- i)
      _mm512_mask_storeu_epi8(d + i, n == 64 ? ~0 : (1 &<< UInt64(n)) &- 1, padVec)
      i &+= 64
    }
  }
  @inline(__always) func copyFlipped(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ count: Int) {
    var i = 0
    while i < count {
      let n = min(64, count &- i)
      let k: __mmask64 = n == 64 ? ~0 : (1 &<< UInt64(n)) &- 1
      _mm512_mask_storeu_epi8(d + i, k, _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, s + i), flip))
      i &+= 64
    }
  }
  /// The tiles of one row of `width` output pixels (outputs at `outRow`,
  /// their windows `sx` pixels apart in the scratch).
  @inline(__always) func tiles(_ outRow: UnsafeMutablePointer<Int8>, _ width: Int) {
    var c = c
    var blk = 0
    while blk < ocBlocks {
      let nb = ocBlocks &- blk >= 4 ? 4 : (ocBlocks &- blk >= 2 ? 2 : 1)
      c.weights = UnsafeRawPointer(wRaw) + blk &* blockStride
      c.accInit = accInit + blk &* 16
      c.multiplier = mult + blk &* 16
      c.shift = shift + blk &* 16
      c.c0 = blk &* 16
      var ox = 0
      let pxs = nb == 4 ? convTile512PixelsB4 : convTile512PixelsB2
      if shortK && nb > 1 && width >= pxs {
        // Whole tiles with the block group's requantization made once per row.
        let r0 = blockRequant512(c, 0), r1 = blockRequant512(c, 1)
        let r2 = nb == 4 ? blockRequant512(c, 2) : r0, r3 = nb == 4 ? blockRequant512(c, 3) : r0
        // The form the blocks share (-1: not the same), so that the tiles
        // run that form's code only.
        let form = r1.form == r0.form && r2.form == r0.form && r3.form == r0.form ? r0.form : -1
        while width &- ox >= pxs {
          let src = UnsafeRawPointer(scratch) + ox &* sx &* pxStride
          let o = outRow + (ox &* outC &+ blk &* 16)
          switch (nb, form) {
          case (4, 2): convTile512B4RReLU(c, src, o, r0, r1, r2, r3)
          case (4, 1): convTile512B4RShort(c, src, o, r0, r1, r2, r3)
          case (4, _): convTile512B4R(c, src, o, r0, r1, r2, r3)
          case (_, 2): convTile512B2RReLU(c, src, o, r0, r1)
          case (_, 1): convTile512B2RShort(c, src, o, r0, r1)
          default: convTile512B2R(c, src, o, r0, r1)
          }
          ox &+= pxs
        }
      }
      while ox < width {
        let src = UnsafeRawPointer(scratch) + ox &* sx &* pxStride
        let o = outRow + (ox &* outC &+ blk &* 16)
        let left = width &- ox
        switch nb {
        case 4 where threeWideB4:
          convTile512K3B4(c, src, o); ox &+= convTile512PixelsK3B4
        case 4: convTile512B4(left, c, src, o); ox &+= min(convTile512PixelsB4, left)
        case 2 where threeWideB2:
          convTile512K3B2(c, src, o); ox &+= convTile512PixelsK3B2
        case 2: convTile512B2(left, c, src, o); ox &+= min(convTile512PixelsB2, left)
        default:
          if threeWide && left >= convTile512PixelsK3B1 {
            convTile512K3B1(c, src, o); ox &+= convTile512PixelsK3B1
          } else {
            convTile512B1(left, c, src, o); ox &+= min(convTile512PixelsB1, left)
          }
        }
      }
      blk &+= nb
    }
  }
  for b in 0..<batches {
    var oy = 0
    while oy < outH {
      if flat {
        let rows = min(flatRows, outH &- oy)
        var i = 0, r = 0
        while r < rows {
          let srcRow = UnsafeRawPointer(input + (b &* inH &+ (oy &+ r) &* strideH) &* inW &* inC)
          var x = 0
          while x < outW {
            copyFlipped(scratch + i &* pxStride, srcRow + x &* strideW &* inC, inC)
            i &+= 1; x &+= 1
          }
          r &+= 1
        }
        tiles(output + ((b &* outH &+ oy) &* outW) &* outC, rows &* outW)
        oy &+= rows
        continue
      }
      // The k_h scratch rows of this output row (k_h + 1 for a pair of rows).
      let pair = pairRows && oy &+ 1 < outH
      for ky in 0..<(pair ? kH &+ 1 : kH) {
        let d = scratch + ky &* rowBytes
        let iy = oy &* strideH &- padTop &+ ky &* dilH
        guard iy >= 0 && iy < inH else { fillPad(d, 0, rowBytes); continue }
        let src = UnsafeRawPointer(input + (b &* inH &+ iy) &* inW &* inC)
        fillPad(d, 0, inStart)
        if pxStride == inC {
          copyFlipped(d + inStart, src, inCols &* inC)
        } else {
          // Each pixel's in_c bytes, then its quad padding (0x80: zero weights).
          var x = 0
          while x < inCols {
            copyFlipped(d + (inStart &+ x &* pxStride), src + x &* inC, inC)
            let tail = pxStride &- inC
            _mm512_mask_storeu_epi8(d + (inStart &+ x &* pxStride &+ inC), (1 &<< UInt64(tail)) &- 1, flip)
            x &+= 1
          }
        }
        fillPad(d, inEnd, rowBytes)
      }
      let outRow = output + ((b &* outH &+ oy) &* outW) &* outC
      if pair {
        let outRow1 = outRow + outW &* outC
        var ox = 0
        while outW &- ox >= convTile512PixelsK3R2B1 {
          convTile512K3R2B1(c, UnsafeRawPointer(scratch) + ox &* pxStride, outRow + ox &* outC, outRow1 + ox &* outC)
          ox &+= convTile512PixelsK3R2B1
        }
        // The rest of both rows: the one-row tiles on scratch rows 0-2 and 1-3.
        while ox < outW {
          let src = UnsafeRawPointer(scratch) + ox &* pxStride, left = outW &- ox
          convTile512B1(left, c, src, outRow + ox &* outC)
          convTile512B1(left, c, src + rowBytes, outRow1 + ox &* outC)
          ox &+= min(convTile512PixelsB1, left)
        }
        oy &+= 2
        continue
      }
      tiles(outRow, outW)
      oy &+= 1
    }
  }
}

/// Block `b` of the tile arguments' block group: its requantization (lanes
/// past out_c: multiplier 0). The tiles' epilogues make it per tile, the band
/// kernel once per row for short reductions.
@inline(__always)
func blockRequant512(_ c: ConvTile512Args, _ b: Int) -> RequantLanes512 {
  let k = laneMask16(min(16, c.outC &- c.c0 &- 16 &* b))
  return RequantLanes512(_mm512_maskz_loadu_epi32(k, UnsafeRawPointer(c.multiplier + 16 &* b)),
                         _mm512_maskz_loadu_epi32(k, UnsafeRawPointer(c.shift + 16 &* b)), offset: c.zo,
                         actMin: c.actMin)
}

/// Per-tap kernel: any geometry (the band kernel's scratch rows need not fit).
@inline(never)
func convTapsAVX512(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                    _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let wRaw = p.weights, let accInit = p.acc_init, let mult = p.multiplier, let shift = p.shift else { return }
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), inC = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w), outC = Int(p.out_c)
  let kH = Int(p.k_h), kW = Int(p.k_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w)
  let dilH = Int(p.dilation_h), dilW = Int(p.dilation_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let cGroups = Int(p.c_groups), ocBlocks = Int(p.oc_blocks)
  // variant 2 (row mode): a kernel row's kW taps are one tap of kW * inC
  // inputs (contiguous in NHWC when dilation_w is 1), grouped in quads.
  let rowMode = p.variant == 2
  let taps = rowMode ? 1 : kW
  let L = rowMode ? kW &* inC : inC       // inputs per tap
  guard !rowMode || (dilW == 1 && L <= Int(CNNRT_AVX512_ROW_MAX_INPUTS)) else { return }
  let tapStride = cGroups &* 64          // bytes per tap per block
  let blockStride = kH &* taps &* tapStride
  let padU8 = UInt32(truncatingIfNeeded: 128 &- p.input_offset) & 0xFF
  let padVec = _mm512_set1_epi32(Int32(bitPattern: padU8 &* 0x0101_0101))
  let fullQuads = L / 4
  let outOffset = _mm512_set1_epi32(p.output_offset)
  let vMin = _mm512_set1_epi32(p.act_min), vMax = _mm512_set1_epi32(p.act_max)

  // A pad tap reads this word with step 0; XOR 0x80 gives u = 128 - off.
  var padWord = (padU8 &* 0x0101_0101) ^ 0x8080_8080
  let padRaw = UInt8(truncatingIfNeeded: padU8 ^ 0x80)
  // Row mode: a window partly in the left/right padding is assembled here,
  // one slot of 256 bytes per pixel of the tile.
  var scratch = (SIMD64<UInt8>(), SIMD64<UInt8>(), SIMD64<UInt8>(), SIMD64<UInt8>(),
                 SIMD64<UInt8>(), SIMD64<UInt8>(), SIMD64<UInt8>(), SIMD64<UInt8>(),
                 SIMD64<UInt8>(), SIMD64<UInt8>(), SIMD64<UInt8>(), SIMD64<UInt8>(),
                 SIMD64<UInt8>(), SIMD64<UInt8>(), SIMD64<UInt8>(), SIMD64<UInt8>())
  withUnsafeMutableBytes(of: &scratch) { slots in
  withUnsafePointer(to: &padWord) { padPtr in
    let pad = UnsafeRawPointer(padPtr)
    let slotA = slots.baseAddress!, slotB = slotA + 256, slotC = slotA + 512, slotD = slotA + 768
    /// Where a tile pixel's inputs for one tap start, the step per quad
    /// (0: padding, the pad word) and whether they are real inputs.
    @inline(__always) func source(_ x: Int, _ rowInside: Bool, _ rowBase: UnsafeRawPointer,
                                  _ slot: UnsafeMutableRawPointer) -> (UnsafeRawPointer, Int, Bool) {
      guard rowInside else { return (pad, 0, false) }
      if !rowMode { return x >= 0 && x < inW ? (rowBase + x &* inC, 4, true) : (pad, 0, false) }
      if x >= 0 && x &+ kW <= inW { return (rowBase + x &* inC, 4, true) }
      if x &+ kW <= 0 || x >= inW { return (pad, 0, false) }
      var e = 0
      while e < L {
        let kx = e / inC
        let xx = x &+ kx
        let v = xx >= 0 && xx < inW ? rowBase.load(fromByteOffset: xx &* inC &+ (e &- kx &* inC), as: UInt8.self) : padRaw
        slot.storeBytes(of: v, toByteOffset: e, as: UInt8.self)
        e &+= 1
      }
      return (UnsafeRawPointer(slot), 4, true)
    }
    @inline(__always) func word(_ q: UnsafeRawPointer) -> __m512i {
      _mm512_set1_epi32(Int32(bitPattern: q.loadUnaligned(as: UInt32.self) ^ 0x8080_8080))
    }
    /// The last, partial quad of a pixel's channels (real pixel) as u bytes.
    @inline(__always) func partialWord(_ ip: UnsafeRawPointer, _ real: Bool) -> __m512i {
      guard real else { return padVec }
      var u: UInt32 = 0
      var k = 0
      while 4 &* fullQuads &+ k < L {
        u |= (UInt32(ip.load(fromByteOffset: 4 &* fullQuads &+ k, as: UInt8.self)) ^ 0x80) &<< UInt32(8 &* k)
        k &+= 1
      }
      return _mm512_set1_epi32(Int32(bitPattern: u))
    }
    for b in 0..<batches {
      for oy in 0..<outH {
        let iy0 = oy &* strideH &- padTop
        var ox = 0
        while ox < outW {
          // A tile: up to 4 adjacent output pixels x up to 4 blocks of 16
          // output channels (16 accumulators); each weight load feeds 4
          // pixels and each input broadcast 4 blocks. Pixels past the row's
          // end repeat the last one (computed, not stored).
          let np = min(4, outW &- ox)
          let ixA = ox &* strideW &- padLeft
          let ixB = (ox &+ min(1, np &- 1)) &* strideW &- padLeft
          let ixC = (ox &+ min(2, np &- 1)) &* strideW &- padLeft
          let ixD = (ox &+ min(3, np &- 1)) &* strideW &- padLeft
          let outPtr = output + ((b &* outH &+ oy) &* outW &+ ox) &* outC
          var blk = 0
          while blk < ocBlocks {
            let nb = min(4, ocBlocks &- blk)
            let accBase = UnsafeRawPointer(accInit + blk &* 16)
            let i0 = _mm512_loadu_si512(accBase)
            let i1 = nb > 1 ? _mm512_loadu_si512(accBase + 64) : _mm512_setzero_si512()
            let i2 = nb > 2 ? _mm512_loadu_si512(accBase + 128) : _mm512_setzero_si512()
            let i3 = nb > 3 ? _mm512_loadu_si512(accBase + 192) : _mm512_setzero_si512()
            var a0 = i0, a1 = i1, a2 = i2, a3 = i3  // pixel A, blocks 0...3
            var b0 = i0, b1 = i1, b2 = i2, b3 = i3  // pixel B
            var c0 = i0, c1 = i1, c2 = i2, c3 = i3  // pixel C
            var d0 = i0, d1 = i1, d2 = i2, d3 = i3  // pixel D
            let wBlock = wRaw + blk &* blockStride
            for ky in 0..<kH {
              let iy = iy0 &+ ky &* dilH
              let rowInside = iy >= 0 && iy < inH
              let rowBase = UnsafeRawPointer(input + (b &* inH &+ (rowInside ? iy : 0)) &* inW &* inC)
              for kx in 0..<taps {
                let dx = kx &* dilW
                let (pa, sa, ra) = source(ixA &+ dx, rowInside, rowBase, slotA)
                let (pb, sb, rb) = source(ixB &+ dx, rowInside, rowBase, slotB)
                let (pc, sc, rc) = source(ixC &+ dx, rowInside, rowBase, slotC)
                let (pd, sd, rd) = source(ixD &+ dx, rowInside, rowBase, slotD)
                var wp = UnsafeRawPointer(wBlock + (ky &* taps &+ kx) &* tapStride)
                var qa = pa, qb = pb, qc = pc, qd = pd
                var g = 0
                while g < cGroups {
                  let va: __m512i, vb: __m512i, vc: __m512i, vd: __m512i
                  if g < fullQuads {
                    va = word(qa); vb = word(qb); vc = word(qc); vd = word(qd)
                    qa += sa; qb += sb; qc += sc; qd += sd
                  } else {
                    va = partialWord(pa, ra); vb = partialWord(pb, rb)
                    vc = partialWord(pc, rc); vd = partialWord(pd, rd)
                  }
                  let w0 = _mm512_loadu_si512(wp)
                  a0 = _mm512_dpbusd_epi32(a0, va, w0); b0 = _mm512_dpbusd_epi32(b0, vb, w0)
                  c0 = _mm512_dpbusd_epi32(c0, vc, w0); d0 = _mm512_dpbusd_epi32(d0, vd, w0)
                  if nb > 1 {
                    let w1 = _mm512_loadu_si512(wp + blockStride)
                    a1 = _mm512_dpbusd_epi32(a1, va, w1); b1 = _mm512_dpbusd_epi32(b1, vb, w1)
                    c1 = _mm512_dpbusd_epi32(c1, vc, w1); d1 = _mm512_dpbusd_epi32(d1, vd, w1)
                    if nb > 2 {
                      let w2 = _mm512_loadu_si512(wp + 2 &* blockStride)
                      a2 = _mm512_dpbusd_epi32(a2, va, w2); b2 = _mm512_dpbusd_epi32(b2, vb, w2)
                      c2 = _mm512_dpbusd_epi32(c2, vc, w2); d2 = _mm512_dpbusd_epi32(d2, vd, w2)
                      if nb > 3 {
                        let w3 = _mm512_loadu_si512(wp + 3 &* blockStride)
                        a3 = _mm512_dpbusd_epi32(a3, va, w3); b3 = _mm512_dpbusd_epi32(b3, vb, w3)
                        c3 = _mm512_dpbusd_epi32(c3, vc, w3); d3 = _mm512_dpbusd_epi32(d3, vd, w3)
                      }
                    }
                  }
                  wp += 64
                  g &+= 1
                }
              }
            }
            let bk = blk
            @inline(__always) func store(_ p: Int, _ x0: __m512i, _ x1: __m512i, _ x2: __m512i, _ x3: __m512i) {
              guard p < np else { return }
              let o = outPtr + p &* outC
              storeBlock512(x0, bk, outC, mult, shift, outOffset, vMin, vMax, o)
              if nb > 1 { storeBlock512(x1, bk &+ 1, outC, mult, shift, outOffset, vMin, vMax, o) }
              if nb > 2 { storeBlock512(x2, bk &+ 2, outC, mult, shift, outOffset, vMin, vMax, o) }
              if nb > 3 { storeBlock512(x3, bk &+ 3, outC, mult, shift, outOffset, vMin, vMax, o) }
            }
            store(0, a0, a1, a2, a3); store(1, b0, b1, b2, b3)
            store(2, c0, c1, c2, c3); store(3, d0, d1, d2, d3)
            blk &+= nb
          }
          ox &+= np
        }
      }
    }
  }
  }
}

@inline(__always)
func storeBlock512(_ acc: __m512i, _ blk: Int, _ outC: Int, _ mult: UnsafePointer<Int32>, _ shift: UnsafePointer<Int32>,
                   _ outOffset: __m512i, _ vMin: __m512i, _ vMax: __m512i, _ out: UnsafeMutablePointer<Int8>) {
  let c0 = blk &* 16
  requantStore512(acc, min(16, outC &- c0), mult + c0, shift + c0, outOffset, vMin, vMax, out + c0)
}

/// Each qword's two dwords swapped (vpermd, a shuffle-port instruction):
/// vpmuldq then multiplies the odd dwords. (With vpsrlq / vpsraq by 32 the
/// compiler sees sign-extended operands, turns vpmuldq into a plain 64-bit
/// multiply and emits vpmullq: three uops, on the port the shifts need.)
@inline(__always)
func oddDwordsDown512(_ v: __m512i) -> __m512i {
  _mm512_permutexvar_epi32(unsafeBitCast(SIMD16<Int32>(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14),
                                         to: __m512i.self), v)
}

/// The mask of the first `n` (0...16) dword lanes.
@inline(__always)
func laneMask16(_ n: Int) -> __mmask16 {
  n >= 16 ? 0xFFFF : __mmask16(truncatingIfNeeded: (1 &<< n) &- 1)
}

/// MultiplyByQuantizedMultiplier with per-lane multipliers and shifts, plus
/// the output offset, in the single-floor form of ElementwiseAVX512.swift's
/// requantUniform512, per 64-bit lane: with x = acc << left (wrapping) and
/// u = x * M + 2^30,
///   out = ((u + (half - [u < 0 and r >= 1]) * 2^31) >> (31 + r)) + zo
/// (r = max(-shift, 0), half = 2^(r-1) or 0 for r = 0, zo the output
/// offset). Exact for every multiplier but Int32.min (the caller checks) and
/// shifts in -31...31.
///
/// Short form, chosen at init when every lane with M != 0 has r in 1...23 (and
/// M != Int32.min), and |zo| <= 128 (a lane with M = 0 gives zo in both
/// forms: its constants use r clamped to 1...23):
/// - no left shift (r >= 1), and the correction is selected by the sign of
///   p = x * M (vpmovq2m, then a masked add of -2^31) instead of u's. The two
///   differ only for p in [-2^30, 0), where u is in [0, 2^30): the value
///   before the floor, (u + (2^(r-1) - n) * 2^31) / 2^(31+r), is then in
///   [1/2 - 2^-r, 1/2 + 2^(-1-r)) for n = 1 and [1/2, 1/2 + 2^(-1-r)) for
///   n = 0, both floor to 0 for r >= 1.
/// - zo is folded into the constant: floor(t / 2^(31+r)) + zo =
///   floor((t + zo * 2^(31+r)) / 2^(31+r)), with
///   K = 2^30 + half * 2^31 + zo * 2^(31+r) = 2^30 + (1 + 2 zo) * 2^(30+r).
///   |p| < 2^62, |zo| * 2^(31+r) <= 2^61 and 2^30 + 2^(30+r) <= 2^53 for r
///   <= 23: t = p + K - [p < 0] * 2^31 stays inside int64.
/// - the odd lanes shift by r - 1 instead of 31 + r: their high dword is then
///   bits 31+r...62+r of t, the low 32 bits of floor(t / 2^(31+r)), where
///   the final blend takes it (no shift back up).
/// About 12 instructions per 16 outputs (offset included) against 18.
///
/// The ReLU form (`relu`): the short form's conditions and a clamp whose
/// lower bound is the output offset (act_min = zo, as a fused ReLU or ReLU6
/// gives), which every caller applies afterwards (requantStore512 on int32
/// lanes, the others on bytes after saturating packs). The sign test and
/// masked add of both halves go, leaving about 8 instructions per 16
/// outputs. With p = x * M:
/// - p >= 0 needs no correction: the short form's value, exact.
/// - p < 0: the reference's value (real value <= 0) is at most zo, so the
///   clamp makes it zo. The uncorrected floor((p + K) / 2^(31+r)) is at most
///   zo + floor((2^30 + 2^(30+r) - 1) / 2^(31+r)) = zo (r >= 1), so the clamp
///   makes it zo as well. It stays inside int32 (|p| < 2^62, so the quotient
///   is under 2^31 in magnitude): the saturating packs keep its order.
/// Either sign of the multiplier.
struct RequantLanes512 {
  var left: __m512i                    // max(shift, 0) per dword lane
  var m: __m512i, mOdd: __m512i        // multipliers; the odd lanes' moved down
  var halfE: __m512i, halfO: __m512i   // half * 2^31 per even / odd lane (int64); short form: K
  var negE: __m512i, negO: __m512i     // -2^31 where r >= 1, else 0 (int64); short form: -2^31
  var shE: __m512i, shO: __m512i       // 31 + r (int64); short form odd lanes: r - 1
  var offset: __m512i                  // zo per dword lane (the long form adds it)
  var hasLeft: Bool                    // some lane shifts left
  var short: Bool                      // the short form's conditions hold
  var relu: Bool                       // and the ReLU form's (the caller clamps at act_min)

  /// `actMin`: the lower bound of the clamp that follows (Int32.min: not
  /// known, no ReLU form).
  @inline(__always)
  init(_ mult: __m512i, _ shift: __m512i, offset zo: Int32, actMin: Int32 = Int32.min) {
    let zero = _mm512_setzero_si512()
    m = mult
    mOdd = oddDwordsDown512(mult)
    offset = _mm512_set1_epi32(zo)
    let low = _mm512_set1_epi64(0xFFFF_FFFF), one = _mm512_set1_epi64(1), c31 = _mm512_set1_epi64(31)
    // Lanes with M != 0 and M = Int32.min or a shift outside -23...-1 (the
    // sign bit of okS is set for shifts in -23...-1).
    let sign = _mm512_set1_epi32(Int32.min)
    let okS = _mm512_andnot_si512(_mm512_add_epi32(shift, _mm512_set1_epi32(23)), shift)
    let isMin = _mm512_xor_si512(mult, sign)
    let bad = _mm512_test_epi32_mask(mult, mult)
      & (_mm512_testn_epi32_mask(okS, sign) | _mm512_testn_epi32_mask(isMin, isMin))
    short = bad == 0 && zo >= -128 && zo <= 128
    relu = short && actMin == zo
    if short {
      left = zero
      hasLeft = false
      let r = _mm512_min_epi32(_mm512_max_epi32(_mm512_sub_epi32(zero, shift), _mm512_set1_epi32(1)),
                               _mm512_set1_epi32(23))
      let base = _mm512_set1_epi64(1 &+ 2 &* Int64(zo)), c30 = _mm512_set1_epi64(30)
      let nudge = _mm512_set1_epi64(1 << 30), minus = _mm512_set1_epi64(-(1 << 31))
      @inline(__always) func k(_ r64: __m512i) -> __m512i {
        _mm512_add_epi64(_mm512_sllv_epi64(base, _mm512_add_epi64(r64, c30)), nudge)
      }
      let rE = _mm512_and_si512(r, low), rO = _mm512_srli_epi64(r, 32)
      halfE = k(rE); halfO = k(rO)
      negE = minus; negO = minus
      shE = _mm512_add_epi64(rE, c31)
      shO = _mm512_sub_epi64(rO, one)
      return
    }
    let r = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero)
    left = _mm512_max_epi32(shift, zero)
    hasLeft = _mm512_test_epi32_mask(left, left) != 0
    @inline(__always) func lane(_ r64: __m512i) -> (__m512i, __m512i, __m512i) {
      let half = _mm512_slli_epi64(_mm512_srli_epi64(_mm512_sllv_epi64(one, r64), 1), 31)
      let sh = _mm512_add_epi64(r64, c31)
      // (31 + r) >> 5 is 1 for r in 1...31, 0 for r = 0.
      let neg = _mm512_sub_epi64(zero, _mm512_slli_epi64(_mm512_srli_epi64(sh, 5), 31))
      return (half, neg, sh)
    }
    (halfE, negE, shE) = lane(_mm512_and_si512(r, low))
    (halfO, negO, shO) = lane(_mm512_srli_epi64(r, 32))
  }

  /// The requantized lanes plus the output offset (not clamped). In the
  /// ReLU form a lane whose reference value is below act_min reads at most
  /// act_min: the same after the caller's clamp, which must follow.
  @inline(__always)
  func apply(_ acc: __m512i) -> __m512i { apply(acc, form: relu ? 2 : short ? 1 : 0) }

  /// `apply` in the given form (2: ReLU, 1: short, 0: long), which must be
  /// this value's (`form`): a caller that knows it for a whole loop passes
  /// it as a constant, and the other forms' code goes.
  @inline(__always)
  var form: Int { relu ? 2 : short ? 1 : 0 }

  @inline(__always)
  func apply(_ acc: __m512i, form: Int) -> __m512i {
    if form == 2 {
      let even = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(acc, m), halfE), shE)
      let odd = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(oddDwordsDown512(acc), mOdd), halfO), shO)
      return _mm512_mask_blend_epi32(0xAAAA, even, odd)
    }
    if form == 1 {
      @inline(__always) func t(_ p: __m512i, _ k: __m512i) -> __m512i {
        let s = _mm512_add_epi64(p, k)
        return _mm512_mask_add_epi64(s, _mm512_movepi64_mask(p), s, negE)
      }
      let even = _mm512_srav_epi64(t(_mm512_mul_epi32(acc, m), halfE), shE)
      let odd = _mm512_srav_epi64(t(_mm512_mul_epi32(oddDwordsDown512(acc), mOdd), halfO), shO)
      return _mm512_mask_blend_epi32(0xAAAA, even, odd)
    }
    let x = hasLeft ? _mm512_sllv_epi32(acc, left) : acc
    let nudge = _mm512_set1_epi64(1 << 30)
    @inline(__always) func round(_ product: __m512i, _ half: __m512i, _ neg: __m512i, _ sh: __m512i) -> __m512i {
      let u = _mm512_add_epi64(product, nudge)
      let t = _mm512_add_epi64(_mm512_add_epi64(u, half), _mm512_and_si512(_mm512_srai_epi64(u, 63), neg))
      return _mm512_srav_epi64(t, sh)
    }
    let even = round(_mm512_mul_epi32(x, m), halfE, negE, shE)
    let odd = round(_mm512_mul_epi32(oddDwordsDown512(x), mOdd), halfO, negO, shO)
    return _mm512_add_epi32(_mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32)), offset)
  }
}

/// Requantizes the lanes of `k` with `rq` (made from those lanes'
/// multipliers, shifts and the output offset), clamps and stores them.
@inline(__always)
func requantStore512(_ acc: __m512i, _ k: __mmask16, _ rq: RequantLanes512, _ vMin: __m512i,
                     _ vMax: __m512i, _ out: UnsafeMutablePointer<Int8>, form: Int? = nil) {
  let r = form.map { rq.apply(acc, form: $0) } ?? rq.apply(acc)
  let v = _mm512_min_epi32(_mm512_max_epi32(r, vMin), vMax)
  _mm512_mask_cvtepi32_storeu_epi8(UnsafeMutableRawPointer(out), k, v)
}

/// Requantizes the first `n` (1...16) lanes of `acc` with the per-lane
/// multipliers and shifts at `mult`/`shift` (only `n` entries read), adds
/// the output offset, clamps and stores `n` int8 values at `out`.
@inline(__always)
func requantStore512(_ acc: __m512i, _ n: Int, _ mult: UnsafePointer<Int32>, _ shift: UnsafePointer<Int32>,
                     _ outOffset: __m512i, _ vMin: __m512i, _ vMax: __m512i, _ out: UnsafeMutablePointer<Int8>) {
  let k = laneMask16(n)
  let m = _mm512_maskz_loadu_epi32(k, UnsafeRawPointer(mult))
  let s = _mm512_maskz_loadu_epi32(k, UnsafeRawPointer(shift))
  var v = _mm512_add_epi32(requantizeAVX512(acc, m, s), outOffset)
  v = _mm512_max_epi32(v, vMin)
  v = _mm512_min_epi32(v, vMax)
  // vpmovdb truncates, as the reference's Int8(truncatingIfNeeded:).
  _mm512_mask_cvtepi32_storeu_epi8(UnsafeMutableRawPointer(out), k, v)
}

/// MultiplyByQuantizedMultiplier on 16 lanes, bit-identical to the scalar
/// reference (shift in -31...31, positive = left).
@inline(__always)
func requantizeAVX512(_ acc: __m512i, _ mult: __m512i, _ shift: __m512i) -> __m512i {
  Requant512(mult, shift).apply(acc)
}

/// The per-lane values MultiplyByQuantizedMultiplier derives from the
/// multipliers and shifts (shift in -31...31, positive = left), made once
/// where they are loop invariants (the depthwise kernel's channel blocks).
struct Requant512 {
  var mult: __m512i, multOdd: __m512i  // the multipliers; the odd lanes' moved to the even ones
  var left: __m512i, right: __m512i    // max(shift, 0), max(-shift, 0)
  var mask: __m512i, half: __m512i     // 2^right - 1, mask >> 1

  @inline(__always)
  init(_ mult: __m512i, _ shift: __m512i) {
    let zero = _mm512_setzero_si512()
    let one = _mm512_set1_epi32(1)
    self.mult = mult
    multOdd = oddDwordsDown512(mult)
    left = _mm512_max_epi32(shift, zero)
    right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero)
    mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one)
    half = _mm512_srai_epi32(mask, 1)
  }

  @inline(__always)
  func apply(_ acc: __m512i) -> __m512i {
    let one = _mm512_set1_epi32(1)
    let x = _mm512_sllv_epi32(acc, left)
    // SaturatingRoundingDoublingHighMul: bits 31...62 of x * m + 2^30.
    let nudge = _mm512_set1_epi64(1 << 30)
    let pe = _mm512_add_epi64(_mm512_mul_epi32(x, mult), nudge)
    let po = _mm512_add_epi64(_mm512_mul_epi32(oddDwordsDown512(x), multOdd), nudge)
    let re = _mm512_srli_epi64(pe, 31)
    let ro = _mm512_slli_epi64(_mm512_srli_epi64(po, 31), 32)
    var h = _mm512_mask_blend_epi32(0xAAAA, re, ro)
    // (The _mm512_cmp*_mask intrinsics are macros Swift cannot import: masks
    // come from vptestmd / vptestnmd instead.)
    let intMin = _mm512_set1_epi32(Int32.min)
    let diff = _mm512_or_si512(_mm512_xor_si512(x, intMin), _mm512_xor_si512(mult, intMin))
    let both = _mm512_testn_epi32_mask(diff, diff)  // x == m == Int32.min
    h = _mm512_mask_blend_epi32(both, h, _mm512_set1_epi32(Int32.max))
    // RoundingDivideByPOT(h, right).
    let rem = _mm512_and_si512(h, mask)
    let negative = _mm512_test_epi32_mask(h, intMin)
    let threshold = _mm512_mask_add_epi32(half, negative, half, one)
    // rem and threshold are in 0...2^31 - 1: rem > threshold <=> threshold - rem < 0.
    let q = _mm512_srav_epi32(h, right)
    let roundUp = _mm512_test_epi32_mask(_mm512_sub_epi32(threshold, rem), intMin)
    return _mm512_mask_add_epi32(q, roundUp, q, one)
  }
}
#endif
