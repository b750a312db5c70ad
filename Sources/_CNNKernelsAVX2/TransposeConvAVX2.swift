// AVX2 (x86-64-v3) int8 transposed convolution, bit-exact with
// transposeConvReference (TFLM's TRANSPOSE_CONV). Call only when the CPU has
// AVX2.
//
// Gathered like the reference: output pixel (oy, ox) sums the taps (ky, kx)
// with ky ≡ oy + pad_top (mod stride_h), input row
// iy = (oy + pad_top − ky) / stride_h inside the input (columns alike), so
// each output is written once and no int32 scratch is needed. The weights
// are the Conv2D per-tap layout (ConvAVX2.swift), packed from the same OHWI
// filter: [oc_blocks][k_h][k_w][c_groups][8 output channels][2 inputs], int8,
// sign-extended to int16 as loaded. Each step broadcasts one pair of offset
// inputs (x + input_offset, exact in int16) and multiplies it against 8
// output channels with vpmaddwd (two exact products summed in int32); the
// int32 accumulator starts at the bias and adds in wrapping arithmetic, so it
// holds the reference's sum Σ x·w + input_offset·Σ w + bias modulo 2^32.
// Requantization: MultiplyByQuantizedMultiplier on 8 lanes
// (requantizeAVX2), + output offset, clamp. Up to 4 blocks (32 output
// channels) per pass share each broadcast input pair.
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

/// Transposed convolution from a cnnrt_conv_args block: in_* the input,
/// out_* the output, k_*, stride_*, pad_top/pad_left (the padding of the
/// forward convolution), c_groups input pairs, oc_blocks blocks of 8
/// output channels, weights in the per-tap Conv2D layout, acc_init the bias
/// (or 0) per padded output channel. Dilation is 1 (the loader's rule).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtTransposeConvAVX2(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                                   _ output: UnsafeMutablePointer<Int8>) {
  let p = a.pointee
  guard let wRaw = p.weights, let accInit = p.acc_init, let mult = p.multiplier, let shift = p.shift else { return }
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), inC = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w), outC = Int(p.out_c)
  let kH = Int(p.k_h), kW = Int(p.k_w), sH = Int(p.stride_h), sW = Int(p.stride_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let cGroups = Int(p.c_groups), ocBlocks = Int(p.oc_blocks)
  guard batches > 0, inH > 0, inW > 0, inC > 0, outH > 0, outW > 0, outC > 0, kH > 0, kW > 0, sH > 0, sW > 0,
        cGroups == (inC &+ 1) / 2, ocBlocks == (outC &+ 7) / 8 else { return }
  let tapStride = cGroups &* 16  // int8 weights per tap per block
  let k = TransposeConvAVX2(
    weights: wRaw.assumingMemoryBound(to: Int8.self), accInit: accInit, mult: mult, shift: shift,
    inH: inH, inW: inW, inC: inC, outC: outC, kH: kH, kW: kW, sH: sH, sW: sW,
    cGroups: cGroups, fullPairs: inC / 2, tapStride: tapStride, blockStride: kH &* kW &* tapStride,
    inOff: p.input_offset, off16: _mm256_set1_epi16(Int16(truncatingIfNeeded: p.input_offset)),
    outOffset: _mm256_set1_epi32(p.output_offset), vMin: _mm256_set1_epi32(p.act_min),
    vMax: _mm256_set1_epi32(p.act_max))
  var out = output
  var b = 0
  while b < batches {
    let image = input + b &* inH &* inW &* inC
    var oy = 0
    while oy < outH {
      // Taps reaching row oy: ky from kyFirst in steps of sH, iy falling by 1.
      let ty = oy &+ padTop
      let kyFirst = ((ty % sH) &+ sH) % sH, iyFirst = (ty &- kyFirst) / sH
      // Column taps alike, stepped along the row without a division:
      // tx = ox + pad_left = ixFirst * sW + kxFirst with kxFirst in 0..<sW.
      var kxFirst = ((padLeft % sW) &+ sW) % sW, ixFirst = (padLeft &- kxFirst) / sW
      var ox = 0
      while ox < outW {
        var blk0 = 0
        while blk0 &+ 4 <= ocBlocks {
          transposeConvPassAVX2(k, image, kyFirst, iyFirst, kxFirst, ixFirst, blk0, 4, out)
          blk0 &+= 4
        }
        switch ocBlocks &- blk0 {
        case 1: transposeConvPassAVX2(k, image, kyFirst, iyFirst, kxFirst, ixFirst, blk0, 1, out)
        case 2: transposeConvPassAVX2(k, image, kyFirst, iyFirst, kxFirst, ixFirst, blk0, 2, out)
        case 3: transposeConvPassAVX2(k, image, kyFirst, iyFirst, kxFirst, ixFirst, blk0, 3, out)
        default: break
        }
        out += outC
        ox &+= 1
        kxFirst &+= 1
        if kxFirst == sW { kxFirst = 0; ixFirst &+= 1 }
      }
      oy &+= 1
    }
    b &+= 1
  }
}

/// The kernel's constants.
struct TransposeConvAVX2 {
  let weights: UnsafePointer<Int8>, accInit: UnsafePointer<Int32>
  let mult: UnsafePointer<Int32>, shift: UnsafePointer<Int32>
  let inH: Int, inW: Int, inC: Int, outC: Int, kH: Int, kW: Int, sH: Int, sW: Int
  let cGroups: Int, fullPairs: Int, tapStride: Int, blockStride: Int
  let inOff: Int32
  let off16: __m256i, outOffset: __m256i, vMin: __m256i, vMax: __m256i
}

/// Adds the pair broadcast in `v` times the weight vectors of nb blocks at
/// `wp` (blocks `blockStride` bytes apart) to the accumulators.
@inline(__always)
func transposeConvStepAVX2(_ v: __m256i, _ wp: UnsafeRawPointer, _ blockStride: Int, _ nb: Int,
                           _ a0: inout __m256i, _ a1: inout __m256i, _ a2: inout __m256i, _ a3: inout __m256i) {
  a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(v, loadWeightsAVX2(wp)))
  if nb > 1 { a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(v, loadWeightsAVX2(wp + blockStride))) }
  if nb > 2 { a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(v, loadWeightsAVX2(wp + 2 &* blockStride))) }
  if nb > 3 { a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(v, loadWeightsAVX2(wp + 3 &* blockStride))) }
}

/// One output pixel's blocks blk0 ..< blk0 + nb (nb 1...4, a constant at
/// each call, so the block tests fold away): accumulators from the bias, the
/// taps that reach the pixel (the first at kyFirst, kxFirst; input row
/// iyFirst, column ixFirst), then requantized into `out` (the pixel's first
/// output channel).
@inline(__always)
func transposeConvPassAVX2(_ k: TransposeConvAVX2, _ image: UnsafePointer<Int8>, _ kyFirst: Int, _ iyFirst: Int,
                           _ kxFirst: Int, _ ixFirst: Int, _ blk0: Int, _ nb: Int, _ out: UnsafeMutablePointer<Int8>) {
  @inline(__always) func initial(_ blk: Int) -> __m256i {
    _mm256_loadu_si256(UnsafeRawPointer(k.accInit + blk &* 8).assumingMemoryBound(to: __m256i.self))
  }
  var a0 = initial(blk0)
  var a1 = nb > 1 ? initial(blk0 &+ 1) : a0
  var a2 = nb > 2 ? initial(blk0 &+ 2) : a0
  var a3 = nb > 3 ? initial(blk0 &+ 3) : a0
  let bs = k.blockStride
  var ky = kyFirst, iy = iyFirst
  while ky < k.kH && iy >= 0 {
    if iy < k.inH {
      var kx = kxFirst, ix = ixFirst
      while kx < k.kW && ix >= 0 {
        if ix < k.inW {
          let xp = image + (iy &* k.inW &+ ix) &* k.inC
          let wt = k.weights + blk0 &* bs + (ky &* k.kW &+ kx) &* k.tapStride
          var g = 0
          while g &+ 8 <= k.fullPairs {
            // 8 pairs (16 inputs) widened at once; pair j broadcast by vpermd.
            let x = _mm256_add_epi16(_mm256_cvtepi8_epi16(
              _mm_loadu_si128(UnsafeRawPointer(xp + 2 &* g).assumingMemoryBound(to: __m128i.self))), k.off16)
            let w = UnsafeRawPointer(wt + g &* 16)
            transposeConvStepAVX2(_mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(0)), w, bs, nb, &a0, &a1, &a2, &a3)
            transposeConvStepAVX2(_mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(1)), w + 16, bs, nb, &a0, &a1, &a2, &a3)
            transposeConvStepAVX2(_mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(2)), w + 32, bs, nb, &a0, &a1, &a2, &a3)
            transposeConvStepAVX2(_mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(3)), w + 48, bs, nb, &a0, &a1, &a2, &a3)
            transposeConvStepAVX2(_mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(4)), w + 64, bs, nb, &a0, &a1, &a2, &a3)
            transposeConvStepAVX2(_mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(5)), w + 80, bs, nb, &a0, &a1, &a2, &a3)
            transposeConvStepAVX2(_mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(6)), w + 96, bs, nb, &a0, &a1, &a2, &a3)
            transposeConvStepAVX2(_mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(7)), w + 112, bs, nb, &a0, &a1, &a2, &a3)
            g &+= 8
          }
          while g < k.cGroups {
            // The last pair of an odd inC has a zero weight for its missing input.
            let x0 = Int32(xp[2 &* g]) &+ k.inOff
            let x1: Int32 = g < k.fullPairs ? Int32(xp[2 &* g &+ 1]) &+ k.inOff : 0
            transposeConvStepAVX2(_mm256_set1_epi32((x0 & 0xFFFF) | (x1 &<< 16)), UnsafeRawPointer(wt + g &* 16),
                                  bs, nb, &a0, &a1, &a2, &a3)
            g &+= 1
          }
        }
        kx &+= k.sW
        ix &-= 1
      }
    }
    ky &+= k.sH
    iy &-= 1
  }
  storeBlock(a0, blk0, k.outC, k.mult, k.shift, k.outOffset, k.vMin, k.vMax, out)
  if nb > 1 { storeBlock(a1, blk0 &+ 1, k.outC, k.mult, k.shift, k.outOffset, k.vMin, k.vMax, out) }
  if nb > 2 { storeBlock(a2, blk0 &+ 2, k.outC, k.mult, k.shift, k.outOffset, k.vMin, k.vMax, out) }
  if nb > 3 { storeBlock(a3, blk0 &+ 3, k.outC, k.mult, k.shift, k.outOffset, k.vMin, k.vMax, out) }
}
#endif
