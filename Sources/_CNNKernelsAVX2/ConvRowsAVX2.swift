// AVX2 row-scratch Conv2D (cnnrt_conv_args.variant == 1), bit-exact with
// conv2DReference.
//
// For each output row (in chunks of chunk_w output pixels), the k_h input
// rows it reads are widened once into a stack buffer as int16 x + offset
// (exact: -128 + 128 ... 127 + 128 fits int16), padding pixels and rows as 0
// (a padding tap contributes 0, as the reference's skipped tap). The register
// tiles (ConvTilesAVX2.swift) then read every input pair with one
// vpbroadcastd from that buffer and multiply it against 8 output channels of
// packed weights with vpmaddwd (two exact products summed in int32), with
// no bounds checks. The packed weights are int8 (one byte per weight, as in
// the model file). The kernel widens them once per call into a 32 KiB stack
// buffer of int16 (widenWeightsAVX2, cnnrt_with_stack_buffer), from which the
// tiles read them as vpmaddwd memory operands, exactly as if they had been
// packed as int16: all of them when they fit (up to 16,384 weights), else
// one group of up to 4 blocks of 8 output channels at a time, each group a
// pass over the whole output (the scratch rows refilled per pass). One
// block always fits: its k_h kernel rows of weights are no longer than the
// k_h scratch rows (2,048 int16) that must hold one output pixel's inputs,
// so 8 lanes of them are at most 16,384 int16 (checked at load too,
// avx2RowsPlan). When dilation_w == 1 the k_w taps of a kernel row
// are contiguous in the buffer and form one tap of k_w * in_c inputs (so an
// odd in_c wastes at most one zero weight per kernel row, not per tap); the
// pair that straddles the end reads one element past the window, multiplied
// by a zero weight. Accumulation is int32 wrapping addition, as in the
// reference (associative modulo 2^32). Requantization: requantTableAVX2, +
// output offset and clamp in int16 (saturating packs cannot change a value
// that the int8 clamp keeps).
#if arch(x86_64)
import _Builtin_intrinsics.intel
import _CNNRuntimeShims

/// int16 elements of the stack scratch buffer (4 KiB).
public let avx2ScratchElements = 2048
/// int16 elements of the stack buffer of widened weights (32 KiB,
/// cnnrt_with_stack_buffer: uninitialised).
public let avx2WideWeightElements = Int(CNNRT_AVX2_STACK_BYTES) / 2

typealias V8x = (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i)
typealias V64x = (V8x, V8x, V8x, V8x, V8x, V8x, V8x, V8x)

/// 4 KiB on the stack (128 vectors), zero-initialised.
struct ScratchAVX2 {
  var v: (V64x, V64x)
  @inline(__always)
  init() {
    let z = _mm256_setzero_si256()
    let a: V8x = (z, z, z, z, z, z, z, z)
    let b: V64x = (a, a, a, a, a, a, a, a)
    v = (b, b)
  }
}

/// A kernel call's arguments, passed through cnnrt_with_stack_buffer.
struct KernelCallAVX2 {
  var a: UnsafePointer<cnnrt_conv_args>
  var input: UnsafePointer<Int8>
  var output: UnsafeMutablePointer<Int8>
}

/// Sign-extends `count` (a multiple of 16) packed int8 weights to int16, in
/// the same order.
@inline(__always)
func widenWeightsAVX2(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Int16>, _ count: Int) {
  var i = 0
  while i < count {
    _mm256_storeu_si256(UnsafeMutableRawPointer(dst + i).assumingMemoryBound(to: __m256i.self), loadWeightsAVX2(src + i))
    i &+= 16
  }
}

struct ConvTileArgs {
  /// Scratch window of the tile's first pixel (kernel row 0, tap 0).
  var x: UnsafePointer<Int16>
  var pxBytes: Int
  var rowElems: Int
  var kH: Int
  var taps: Int
  var tapS: Int
  var pairs: Int
  /// Weights of the tile's first block (int16, widened from the packed int8).
  var w: UnsafePointer<Int16>
  var blockBytes: Int
  var accInit: UnsafePointer<Int32>
  var table: UnsafeRawPointer
  var hasLeft: Bool
  /// Output of the tile's first pixel, first channel of its first block.
  var out: UnsafeMutablePointer<Int8>
  var outC: Int
  /// Output channels from the tile's first channel to the end of the pixel.
  var nValid: Int
  var off16: __m256i
  var min16: __m256i
  var max16: __m256i
}

/// Requantizes B (1...4) accumulator vectors of pixel `p`, adds the output
/// offset, clamps and stores min(8B, nValid) bytes.
@inline(__always)
func storePixelAVX2(_ c: ConvTileArgs, _ p: Int, _ B: Int,
                    _ a0: __m256i, _ a1: __m256i, _ a2: __m256i, _ a3: __m256i) {
  let t = c.table
  let h0 = requantTableAVX2(a0, t, c.hasLeft)
  let h1 = B > 1 ? requantTableAVX2(a1, t + avx2RequantBlockBytes, c.hasLeft) : h0
  let lo = _mm256_min_epi16(_mm256_max_epi16(_mm256_adds_epi16(_mm256_packs_epi32(h0, h1), c.off16), c.min16), c.max16)
  var hi = lo
  if B > 2 {
    let h2 = requantTableAVX2(a2, t + 2 &* avx2RequantBlockBytes, c.hasLeft)
    let h3 = B > 3 ? requantTableAVX2(a3, t + 3 &* avx2RequantBlockBytes, c.hasLeft) : h2
    hi = _mm256_min_epi16(_mm256_max_epi16(_mm256_adds_epi16(_mm256_packs_epi32(h2, h3), c.off16), c.min16), c.max16)
  }
  // Bytes per 128-bit lane: [h0 0-3, h1 0-3, h2 0-3, h3 0-3 | the lanes 4-7]; dwords 0,4,1,5,... in order.
  let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(lo, hi), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
  let out = c.out + p &* c.outC
  let n = min(8 &* B, c.nValid)
  if n == 8 &* B {
    let raw = UnsafeMutableRawPointer(out)
    switch B {
    case 1: _mm_storel_epi64(raw.assumingMemoryBound(to: __m128i.self), _mm256_castsi256_si128(bytes))
    case 2: _mm_storeu_si128(raw.assumingMemoryBound(to: __m128i.self), _mm256_castsi256_si128(bytes))
    case 3:
      _mm_storeu_si128(raw.assumingMemoryBound(to: __m128i.self), _mm256_castsi256_si128(bytes))
      let upper = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(4, 5, 6, 7, 4, 5, 6, 7))
      _mm_storel_epi64((raw + 16).assumingMemoryBound(to: __m128i.self), _mm256_castsi256_si128(upper))
    default: _mm256_storeu_si256(raw.assumingMemoryBound(to: __m256i.self), bytes)
    }
  } else {
    withUnsafeBytes(of: bytes) { s in
      var j = 0
      while j < n { out[j] = Int8(bitPattern: s[j]); j &+= 1 }
    }
  }
}

@inline(__always)
func zeroInt16(_ p: UnsafeMutablePointer<Int16>, _ n: Int) {
  var i = 0
  let z = _mm256_setzero_si256()
  while i &+ 16 <= n {
    _mm256_storeu_si256(UnsafeMutableRawPointer(p + i).assumingMemoryBound(to: __m256i.self), z)
    i &+= 16
  }
  while i < n { p[i] = 0; i &+= 1 }
}

/// Walks the output of a row-scratch kernel in chunks of at most `chunkW`
/// pixels of one output row: for each chunk fills the kH scratch rows
/// (fillScratchRows) and calls `body(outRow, cw)` with the chunk's first
/// output pixel and its width.
@inline(__always)
func forEachOutputChunk(_ s: UnsafeMutablePointer<Int16>, rowElems: Int, kH: Int, dilH: Int,
                        input: UnsafePointer<Int8>, batches: Int, inH: Int, inW: Int, inC: Int, S: Int,
                        outH: Int, outW: Int, outC: Int, strideH: Int, strideW: Int, padTop: Int, padLeft: Int,
                        kW: Int, dilW: Int, chunkW: Int, inputOffset: Int32, depthMultiplier: Int = 1,
                        gather: UnsafeRawPointer? = nil,
                        output: UnsafeMutablePointer<Int8>, _ body: (UnsafeMutablePointer<Int8>, Int) -> Void) {
  var b = 0
  while b < batches {
    let img = input + b &* inH &* inW &* inC
    var oy = 0
    while oy < outH {
      let iy0 = oy &* strideH &- padTop
      var ox0 = 0
      while ox0 < outW {
        let cw = min(chunkW, outW &- ox0)
        let inWc = (cw &- 1) &* strideW &+ (kW &- 1) &* dilW &+ 1
        fillScratchRows(s, rowElems, kH, dilH, img, inH, inW, inC, S, iy0, ox0 &* strideW &- padLeft, inWc, inputOffset,
                        depthMultiplier, gather)
        body(output + ((b &* outH &+ oy) &* outW &+ ox0) &* outC, cw)
        ox0 &+= cw
      }
      oy &+= 1
    }
    b &+= 1
  }
}

/// The widest strip of output pixels (at most outW) whose scratch rows fit
/// `capacity` int16 kH + 4 * strideH times (room for four strides of new
/// rows, so the kept rows are copied back to the buffer's start at most
/// every fourth output row); 0 when rows cannot be kept (strideH >= kH: no
/// row is shared; dilH > 1; or strips narrower than 4 pixels, whose
/// repeated edge columns would cost more than the rows save).
@inline(__always)
func keptRowsStrip(capacity: Int, S: Int, kH: Int, kW: Int, strideH: Int, strideW: Int, dilH: Int, dilW: Int,
                   outW: Int) -> Int {
  guard strideH < kH, dilH == 1 else { return 0 }
  let maxElems = capacity / (kH &+ 4 &* strideH)
  // rowElems(w) = (((w - 1) * strideW + (kW - 1) * dilW + 1) * S + 31) & ~15 <= maxElems
  let px = ((maxElems & ~15) &- 31 &+ 15) / S  // input pixels per row that fit (with the rounding)
  guard px >= (kW &- 1) &* dilW &+ 1 else { return 0 }
  let w = min(outW, (px &- (kW &- 1) &* dilW &- 1) / strideW &+ 1)
  return w >= 4 || w == outW ? w : 0
}

/// forEachOutputChunk for a layer with a keptRowsStrip: the output is
/// walked in strips of `stripW` pixels, each from its top output row to its
/// bottom, and the kH - strideH scratch rows an output row shares with the
/// previous one are kept, not widened again. Each output row's rows start
/// strideH rows after the previous one's in the buffer (`capacityRows`
/// rows of `rowElems` at `s`); when they would pass its end, the kept rows
/// are copied back to its start. `body(outPixel, cw, rows)` gets the
/// strip's first output pixel in that row, its width and its first scratch
/// row. (A 3x3 stride-1 layer widens each input row about once instead of
/// three times.)
@inline(__always)
func forEachStripKeepingRows(_ s: UnsafeMutablePointer<Int16>, capacityRows: Int, rowElems: Int, stripW: Int,
                             kH: Int, input: UnsafePointer<Int8>, batches: Int, inH: Int, inW: Int, inC: Int, S: Int,
                             outH: Int, outW: Int, outC: Int, strideH: Int, strideW: Int, padTop: Int,
                             padLeft: Int, kW: Int, dilW: Int, inputOffset: Int32, depthMultiplier: Int,
                             gather: UnsafeRawPointer?, output: UnsafeMutablePointer<Int8>,
                             _ body: (UnsafeMutablePointer<Int8>, Int, UnsafeMutablePointer<Int16>) -> Void) {
  let end = s + capacityRows &* rowElems
  var b = 0
  while b < batches {
    let img = input + b &* inH &* inW &* inC
    var ox0 = 0
    while ox0 < outW {
      let cw = min(stripW, outW &- ox0)
      let inWc = (cw &- 1) &* strideW &+ (kW &- 1) &* dilW &+ 1
      var rows = s  // the scratch row of input row oy * strideH - padTop
      var kept = 0  // rows from `rows` on already filled for this output row
      var oy = 0
      while oy < outH {
        if oy > 0 {
          rows += strideH &* rowElems
          kept = kH &- strideH
          if rows + kH &* rowElems > end {
            copyInt16(from: rows, to: s, kept &* rowElems)
            rows = s
          }
        }
        fillScratchRows(rows + kept &* rowElems, rowElems, kH &- kept, 1, img, inH, inW, inC, S,
                        oy &* strideH &- padTop &+ kept, ox0 &* strideW &- padLeft, inWc, inputOffset,
                        depthMultiplier, gather)
        body(output + ((b &* outH &+ oy) &* outW &+ ox0) &* outC, cw, rows)
        oy &+= 1
      }
      ox0 &+= cw
    }
    b &+= 1
  }
}

/// Copies `n` (a multiple of 16) int16 from `src` to `dst` (dst <= src:
/// overlapping is fine, each vector is loaded before the store that could
/// reach it).
@inline(__always)
func copyInt16(from src: UnsafePointer<Int16>, to dst: UnsafeMutablePointer<Int16>, _ n: Int) {
  var i = 0
  while i < n {
    let v = _mm256_loadu_si256(UnsafeRawPointer(src + i).assumingMemoryBound(to: __m256i.self))
    _mm256_storeu_si256(UnsafeMutableRawPointer(dst + i).assumingMemoryBound(to: __m256i.self), v)
    i &+= 16
  }
}

/// Fills `kH` scratch rows (each `rowElems` int16) for input rows
/// iy0 + ky * dilH and input columns ixStart ..< ixStart + inWc: x + offset,
/// `S` elements per pixel (in_c; in_c + 1 zero; or, for a depthwise
/// convolution, each input channel `mult` times, then zeros up to S), 0
/// outside the input. `gather` (depthwise, mult > 1, S a multiple of 16):
/// per 16-lane block of S, 32 bytes: the vpshufb indices of its lanes'
/// input channels from the block's first one, then that channel (Int32)
/// (gatherTableAVX2).
@inline(__always)
func fillScratchRows(_ s: UnsafeMutablePointer<Int16>, _ rowElems: Int, _ kH: Int, _ dilH: Int,
                     _ img: UnsafePointer<Int8>, _ inH: Int, _ inW: Int, _ inC: Int, _ S: Int,
                     _ iy0: Int, _ ixStart: Int, _ inWc: Int, _ off: Int32, _ mult: Int,
                     _ gather: UnsafeRawPointer?) {
  let imgCount = inH &* inW &* inC
  let lo = min(max(0, 0 &- ixStart), inWc)
  let hi = max(lo, min(inWc, inW &- ixStart))
  let off16 = _mm256_set1_epi16(Int16(truncatingIfNeeded: off))
  var ky = 0
  while ky < kH {
    let row = s + ky &* rowElems
    let iy = iy0 &+ ky &* dilH
    if iy < 0 || iy >= inH || lo == hi {
      zeroInt16(row, rowElems)
      ky &+= 1
      continue
    }
    if S == inC && ((lo &* S) & 15 != 0 || ((hi &- lo) &* S) & 15 != 0) {
      fillRowChunks(row, rowElems, img, imgCount, (iy &* inW &+ ixStart) &* inC, lo &* S, hi &* S, off16)
      ky &+= 1
      continue
    }
    zeroInt16(row, lo &* S)
    zeroInt16(row + hi &* S, rowElems &- hi &* S)
    let src = img + (iy &* inW &+ ixStart &+ lo) &* inC
    let dst = row + lo &* S
    if S == inC {
      let n = (hi &- lo) &* inC
      var i = 0
      while i &+ 16 <= n {
        let v = _mm256_add_epi16(_mm256_cvtepi8_epi16(
          _mm_loadu_si128(UnsafeRawPointer(src + i).assumingMemoryBound(to: __m128i.self))), off16)
        _mm256_storeu_si256(UnsafeMutableRawPointer(dst + i).assumingMemoryBound(to: __m256i.self), v)
        i &+= 16
      }
      while i < n { dst[i] = Int16(truncatingIfNeeded: Int32(src[i]) &+ off); i &+= 1 }
    } else if mult == 1 && S & 15 == 0 {
      // Channels padded to whole vectors (depthwise): per pixel, 16 channels
      // per vector, those past in_c masked to 0.
      let lanes = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
      let imgEnd = img + imgCount
      var px = 0
      while px < hi &- lo {
        let sp = src + px &* inC, dp = dst + px &* S
        var c = 0
        while c < S {
          var v = _mm256_setzero_si256()
          let n = inC &- c
          if n >= 16 || (n > 0 && (sp + c).distance(to: imgEnd) >= 16) {
            v = _mm256_add_epi16(_mm256_cvtepi8_epi16(
              _mm_loadu_si128(UnsafeRawPointer(sp + c).assumingMemoryBound(to: __m128i.self))), off16)
            if n < 16 { v = _mm256_and_si256(v, _mm256_cmpgt_epi16(_mm256_set1_epi16(Int16(truncatingIfNeeded: n)), lanes)) }
          } else if n > 0 {
            withUnsafeMutableBytes(of: &v) { d in
              let d16 = d.baseAddress!.assumingMemoryBound(to: Int16.self)
              var k = 0
              while k < n { d16[k] = Int16(truncatingIfNeeded: Int32(sp[c &+ k]) &+ off); k &+= 1 }
            }
          }
          _mm256_storeu_si256(UnsafeMutableRawPointer(dp + c).assumingMemoryBound(to: __m256i.self), v)
          c &+= 16
        }
        px &+= 1
      }
    } else if let gather, S & 15 == 0 {
      // Depth multiplier > 1: each block's 16 lanes come from at most 16
      // consecutive input channels, placed by one vpshufb.
      let imgEnd = img + imgCount
      var px = 0
      while px < hi &- lo {
        let sp = src + px &* inC, dp = dst + px &* S
        var cb = 0
        while cb < S / 16 {
          let entry = gather + cb &* 32
          let first = Int(entry.load(fromByteOffset: 16, as: Int32.self))
          var bytes: __m128i
          if (sp + first).distance(to: imgEnd) >= 16 {
            bytes = _mm_loadu_si128(UnsafeRawPointer(sp + first).assumingMemoryBound(to: __m128i.self))
          } else {
            var v = _mm256_setzero_si256()
            copyIn(&v, sp + first, min(16, inC &- first))
            bytes = _mm256_castsi256_si128(v)
          }
          let idx = _mm_loadu_si128(entry.assumingMemoryBound(to: __m128i.self))
          let v = _mm256_add_epi16(_mm256_cvtepi8_epi16(_mm_shuffle_epi8(bytes, idx)), off16)
          _mm256_storeu_si256(UnsafeMutableRawPointer(dp + cb &* 16).assumingMemoryBound(to: __m256i.self), v)
          cb &+= 1
        }
        px &+= 1
      }
    } else {
      var px = 0
      while px < hi &- lo {
        let sp = src + px &* inC, dp = dst + px &* S
        var k = 0
        var c = 0
        while c < inC {
          let v = Int16(truncatingIfNeeded: Int32(sp[c]) &+ off)
          var j = 0
          while j < mult { dp[k] = v; k &+= 1; j &+= 1 }
          c &+= 1
        }
        while k < S { dp[k] = 0; k &+= 1 }
        px &+= 1
      }
    }
    ky &+= 1
  }
}

/// One scratch row (S == in_c) whose input span [loE, hiE) (elements from
/// the row start; the row's element e is img[rowOff + e]) is not a whole
/// number of aligned 16-element chunks: written as aligned 16-element
/// vector stores only, each chunk widened from one 16-byte load (when it lies
/// inside the image) or assembled in registers, and masked to 0 outside the
/// span. Scalar int16 stores followed by the tiles' 4-byte loads would miss
/// store-to-load forwarding (a load spanning two stores stalls until they
/// retire); one store per chunk keeps almost every load inside one store.
@inline(__always)
func fillRowChunks(_ row: UnsafeMutablePointer<Int16>, _ rowElems: Int, _ img: UnsafePointer<Int8>, _ imgCount: Int,
                   _ rowOff: Int, _ loE: Int, _ hiE: Int, _ off16: __m256i) {
  let lanes = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
  let loV = _mm256_set1_epi16(Int16(truncatingIfNeeded: loE &- 1))
  let hiV = _mm256_set1_epi16(Int16(truncatingIfNeeded: hiE))
  var e = 0
  while e < rowElems {
    let dst = UnsafeMutableRawPointer(row + e).assumingMemoryBound(to: __m256i.self)
    if e &+ 16 <= loE || e >= hiE {
      _mm256_storeu_si256(dst, _mm256_setzero_si256())
      e &+= 16
      continue
    }
    let first = rowOff &+ e
    var bytes: __m128i
    if first >= 0 && first &+ 16 <= imgCount {
      bytes = _mm_loadu_si128(UnsafeRawPointer(img + first).assumingMemoryBound(to: __m128i.self))
    } else {
      var lo: UInt64 = 0, hi: UInt64 = 0
      var k = 0
      while k < 16 {
        let el = e &+ k
        if el >= loE && el < hiE {
          let v = UInt64(UInt8(bitPattern: img[rowOff &+ el]))
          if k < 8 { lo |= v &<< UInt64(8 &* k) } else { hi |= v &<< UInt64(8 &* (k &- 8)) }
        }
        k &+= 1
      }
      bytes = _mm_set_epi64x(Int64(bitPattern: hi), Int64(bitPattern: lo))
    }
    var v = _mm256_add_epi16(_mm256_cvtepi8_epi16(bytes), off16)
    if e < loE || e &+ 16 > hiE {
      let idx = _mm256_add_epi16(lanes, _mm256_set1_epi16(Int16(truncatingIfNeeded: e)))
      v = _mm256_and_si256(v, _mm256_and_si256(_mm256_cmpgt_epi16(idx, loV), _mm256_cmpgt_epi16(hiV, idx)))
    }
    _mm256_storeu_si256(dst, v)
    e &+= 16
  }
}

/// Conv2D, row-scratch variant (see the file comment). The caller checked
/// variant == 1 and that k_h scratch rows of chunk_w pixels fit
/// avx2ScratchElements (done at load by the packer).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtConv2DRowsAVX2(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                                _ output: UnsafeMutablePointer<Int8>) {
  var call = KernelCallAVX2(a: a, input: input, output: output)
  cnnrt_with_stack_buffer({ buffer, context in
    guard let buffer, let k = context?.assumingMemoryBound(to: KernelCallAVX2.self).pointee else { return }
    var scratch = ScratchAVX2()
    withUnsafeMutableBytes(of: &scratch) { raw in
      convRowsBody(k.a, k.input, k.output, raw.baseAddress!.assumingMemoryBound(to: Int16.self),
                   buffer.assumingMemoryBound(to: Int16.self))
    }
  }, &call)
}

@inline(__always)
func convRowsBody(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                  _ output: UnsafeMutablePointer<Int8>, _ s: UnsafeMutablePointer<Int16>,
                  _ wide: UnsafeMutablePointer<Int16>) {
  let p = a.pointee
  guard let wRaw = p.weights, let accInit = p.acc_init, let tableRaw = p.rq_table else { return }
  let weights = wRaw.assumingMemoryBound(to: Int8.self)
  let table = UnsafeRawPointer(tableRaw)
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w), inC = Int(p.in_c)
  let outH = Int(p.out_h), outW = Int(p.out_w), outC = Int(p.out_c)
  let kH = Int(p.k_h), kW = Int(p.k_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w)
  let dilH = Int(p.dilation_h), dilW = Int(p.dilation_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let ocBlocks = Int(p.oc_blocks)
  let taps = Int(p.taps_per_row), pairs = Int(p.pairs_per_tap)
  let S = Int(p.px_stride), chunkW = Int(p.chunk_w)
  guard chunkW > 0, taps > 0, pairs > 0 else { return }
  let inWcMax = (chunkW &- 1) &* strideW &+ (kW &- 1) &* dilW &+ 1
  let rowElems = (inWcMax &* S &+ 16 &+ 15) & ~15
  guard kH &* rowElems <= avx2ScratchElements else { return }
  let blockElems = kH &* taps &* pairs &* 16  // weights per block of 8 output channels
  // Blocks whose widened weights fit the buffer at once (at least 1, see
  // the file comment; the packer checked it).
  guard blockElems > 0, blockElems <= avx2WideWeightElements else { return }
  let fitBlocks = avx2WideWeightElements / blockElems
  let args = ConvTileArgs(
    x: UnsafePointer(s), pxBytes: 2 &* strideW &* S, rowElems: rowElems, kH: kH, taps: taps, tapS: dilW &* S,
    pairs: pairs, w: UnsafePointer(wide), blockBytes: 2 &* blockElems, accInit: accInit, table: table,
    hasLeft: p.has_left_shift != 0, out: output, outC: outC, nValid: outC,
    off16: _mm256_set1_epi16(Int16(truncatingIfNeeded: p.output_offset)),
    min16: _mm256_set1_epi16(Int16(truncatingIfNeeded: p.act_min)),
    max16: _mm256_set1_epi16(Int16(truncatingIfNeeded: p.act_max)))
  // Few pairs per kernel row (e.g. a first layer with one input channel):
  // more pixels per tile amortise the per-row work better.
  let groupMax = taps &* pairs <= 4 ? 2 : 4

  /// Runs blocks first ..< end, whose widened weights are at `wide`, over
  /// the whole output, chunk by chunk, in groups of up to groupMax blocks.
  /// (One copy of the tiles: not inlined; its tile arguments a local value,
  /// kept in registers, not the caller's variable.)
  @inline(never) func pass(_ first: Int, _ end: Int) {
    var c = args
    forEachOutputChunk(s, rowElems: rowElems, kH: kH, dilH: dilH, input: input, batches: batches, inH: inH,
                       inW: inW, inC: inC, S: S, outH: outH, outW: outW, outC: outC, strideH: strideH,
                       strideW: strideW, padTop: padTop, padLeft: padLeft, kW: kW, dilW: dilW, chunkW: chunkW,
                       inputOffset: p.input_offset, output: output) { outRow, cw in
      var blk = first
      while blk < end {
        let nb = min(groupMax, end &- blk)
        let pmax = nb == 1 ? convTileMaxPixels.0 : nb == 2 ? convTileMaxPixels.1
          : nb == 3 ? convTileMaxPixels.2 : convTileMaxPixels.3
        c.w = UnsafePointer(wide + (blk &- first) &* blockElems)
        c.accInit = accInit + blk &* 8
        c.table = table + blk &* avx2RequantBlockBytes
        c.nValid = outC &- blk &* 8
        var lx = 0
        while lx < cw {
          let np = min(pmax, cw &- lx)
          c.x = UnsafePointer(s + (lx &* strideW &* S))
          c.out = outRow + (lx &* outC &+ blk &* 8)
          switch nb {
          case 1: convTilesB1(c, np)
          case 2: convTilesB2(c, np)
          case 3: convTilesB3(c, np)
          default: convTilesB4(c, np)
          }
          lx &+= np
        }
        blk &+= nb
      }
    }
  }

  if ocBlocks <= fitBlocks {
    // Every block's weights widened once: one pass, the scratch rows filled once.
    widenWeightsAVX2(UnsafeRawPointer(weights), wide, ocBlocks &* blockElems)
    pass(0, ocBlocks)
  } else {
    // One pass per group of blocks whose widened weights fit the buffer.
    // Groups of 2 where 3 would fit: the 3-block tiles ran slower than two
    // passes more of 2-block ones (ResNet-8's 3x3 conv of 64 input and
    // output channels, whose block of 4,608 weights fits 3 times: 46.2 ->
    // 35.7 us on a Zen 3).
    let perPass = fitBlocks == 3 ? 2 : fitBlocks
    var blk = 0
    while blk < ocBlocks {
      let nb = min(min(groupMax, perPass), ocBlocks &- blk)
      widenWeightsAVX2(UnsafeRawPointer(weights + blk &* blockElems), wide, nb &* blockElems)
      pass(blk, blk &+ nb)
      blk &+= nb
    }
  }
}

/// Depthwise Conv2D, row-scratch variant (variant 1), any depth multiplier
/// m and channel count: the output channels C = in_c * m are padded to
/// S = px_stride (a multiple of 16), and the scratch rows hold, per pixel,
/// input channel ic at positions ic * m ..< (ic + 1) * m (the input gathered
/// once per multiplier as the rows are filled), zeros up to S; so output
/// lane oc reads its own input channel oc / m, as a multiplier-1 kernel on S
/// channels. The padding lanes have zero weights and are not stored (the
/// last block of a pixel stores C mod 16 bytes). Packed at load
/// (depthwiseConv2DPack): weights [S/16][ceil(taps/2)][lo, hi][8 lanes][2] int8, taps in (ky, kx)
/// order paired (2j, 2j+1) (the odd last tap paired with a zero weight);
/// "lo" lanes are channels 0-3, 8-11 of the 16 and "hi" 4-7, 12-15, the order
/// vpunpcklwd / vpunpckhwd give when two taps' 16 channels are interleaved;
/// acc_init (bias) and the requantization table are in that lane order.
/// vpackssdw of the lo and hi results restores channel order. The int8
/// weights are widened once per call into the stack buffer of int16
/// (cnnrt_with_stack_buffer) and read from there as vpmaddwd memory
/// operands. The k_h scratch rows follow in the same buffer (after the
/// weights and, for m > 1, the gather table; 16-element aligned): what is
/// left of its 16,384 int16 must hold them for at least one output pixel
/// (checked at load, depthwiseRowsChunk, which sizes chunk_w by the same
/// rule), so a layer of 256 channels and 3x3 taps gets chunks of 15 pixels.
/// Where output rows share input rows (stride_h < k_h, no vertical
/// dilation) and a strip of at least 4 output pixels (or the whole row) has
/// room for k_h + 4 * stride_h scratch rows, the output is walked in such
/// strips, top to bottom, and the shared rows are kept from one output row
/// to the next (forEachStripKeepingRows) instead of widened again.
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtDepthwiseRowsAVX2(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                                   _ output: UnsafeMutablePointer<Int8>) {
  var call = KernelCallAVX2(a: a, input: input, output: output)
  cnnrt_with_stack_buffer({ buffer, context in
    guard let buffer, let k = context?.assumingMemoryBound(to: KernelCallAVX2.self).pointee else { return }
    let z = _mm256_setzero_si256()
    var offsets: V8x = (z, z, z, z, z, z, z, z)  // 64 tap offsets
    let p = k.a.pointee
    // Depth multiplier 1 and channels a multiple of 16 (the common case): a
    // copy of the kernel in which in_c, the scratch stride and the output
    // stride are one value and every block stores 16 bytes.
    let whole = p.depth_multiplier == 1 && p.in_c == p.out_c && p.px_stride == p.out_c
    withUnsafeMutableBytes(of: &offsets) { offRaw in
      let o = offRaw.baseAddress!.assumingMemoryBound(to: Int32.self)
      let w = buffer.assumingMemoryBound(to: Int16.self)
      if whole { depthwiseRowsWhole(k.a, k.input, k.output, o, w) } else {
        depthwiseRowsPadded(k.a, k.input, k.output, o, w)
      }
    }
  }, &call)
}

/// The two copies of depthwiseRowsBody, each compiled on its own.
@inline(never)
func depthwiseRowsWhole(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                        _ output: UnsafeMutablePointer<Int8>, _ offsets: UnsafeMutablePointer<Int32>,
                        _ wide: UnsafeMutablePointer<Int16>) {
  depthwiseRowsBody(a, input, output, offsets, wide, whole: true)
}

@inline(never)
func depthwiseRowsPadded(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                         _ output: UnsafeMutablePointer<Int8>, _ offsets: UnsafeMutablePointer<Int32>,
                         _ wide: UnsafeMutablePointer<Int16>) {
  depthwiseRowsBody(a, input, output, offsets, wide, whole: false)
}

@inline(__always)
func depthwiseRowsBody(_ a: UnsafePointer<cnnrt_conv_args>, _ input: UnsafePointer<Int8>,
                       _ output: UnsafeMutablePointer<Int8>, _ offsets: UnsafeMutablePointer<Int32>,
                       _ wide: UnsafeMutablePointer<Int16>, whole: Bool) {
  let p = a.pointee
  guard let wRaw = p.weights, let accInit = p.acc_init, let tableRaw = p.rq_table else { return }
  let table = UnsafeRawPointer(tableRaw)
  let C = Int(p.out_c)
  let inC = whole ? C : Int(p.in_c), S = whole ? C : Int(p.px_stride), mult = whole ? 1 : Int(p.depth_multiplier)
  let blocks = S / 16
  let batches = Int(p.batches), inH = Int(p.in_h), inW = Int(p.in_w)
  let outH = Int(p.out_h), outW = Int(p.out_w)
  let kH = Int(p.k_h), kW = Int(p.k_w)
  let strideH = Int(p.stride_h), strideW = Int(p.stride_w)
  let dilH = Int(p.dilation_h), dilW = Int(p.dilation_w)
  let padTop = Int(p.pad_top), padLeft = Int(p.pad_left)
  let chunkW = Int(p.chunk_w)
  guard chunkW > 0, mult >= 1, C == inC &* mult, S % 16 == 0, S >= C, S &- C < 16 else { return }
  let taps = kH &* kW
  let tapPairs = (taps &+ 1) / 2
  // The stack buffer: 32 int8 weights per 16 channels and tap pair, widened
  // once (64 bytes); for m > 1 the gather table (16 int16 per block); then,
  // 16-element aligned, the scratch rows: kH rows of chunk_w pixels
  // (depthwiseRowsScratchCapacity), or, when rows can be kept, as many rows
  // of a strip as fit (keptRowsStrip).
  let weightCount = blocks &* tapPairs &* 32
  let gatherCount = !whole && mult > 1 ? blocks &* 16 : 0
  let scratchStart = (weightCount &+ gatherCount &+ 15) & ~15
  guard scratchStart <= avx2WideWeightElements else { return }
  let capacity = avx2WideWeightElements &- scratchStart
  let stripW = keptRowsStrip(capacity: capacity, S: S, kH: kH, kW: kW, strideH: strideH, strideW: strideW,
                             dilH: dilH, dilW: dilW, outW: outW)
  let inWcMax = ((stripW > 0 ? stripW : chunkW) &- 1) &* strideW &+ (kW &- 1) &* dilW &+ 1
  let rowElems = (inWcMax &* S &+ 16 &+ 15) & ~15
  let hasLeft = p.has_left_shift != 0
  let off16 = _mm256_set1_epi16(Int16(truncatingIfNeeded: p.output_offset))
  let min16 = _mm256_set1_epi16(Int16(truncatingIfNeeded: p.act_min))
  let max16 = _mm256_set1_epi16(Int16(truncatingIfNeeded: p.act_max))
  let pxBytes = 2 &* strideW &* S
  // Byte offset of each tap (raster order) in the scratch rows; an odd last
  // tap is paired with itself (its second weight is 0).
  guard taps <= 63 else { return }
  var t = 0
  while t < taps {
    offsets[t] = Int32(truncatingIfNeeded: 2 &* ((t / kW) &* rowElems &+ (t % kW) &* dilW &* S))
    t &+= 1
  }
  offsets[taps] = offsets[taps &- 1]
  guard kH &* rowElems <= capacity else { return }
  let s = wide + scratchStart
  widenWeightsAVX2(UnsafeRawPointer(wRaw), wide, weightCount)
  let weights = UnsafeRawPointer(wide)
  var gather: UnsafeRawPointer? = nil
  if gatherCount > 0 {
    gatherTableAVX2(UnsafeMutableRawPointer(wide + weightCount), blocks: blocks, channels: C, mult: mult)
    gather = UnsafeRawPointer(wide + weightCount)
  }
  /// The output pixels outRow ..< outRow + cw, their scratch rows at `rows`.
  @inline(__always) func run(_ outRow: UnsafeMutablePointer<Int8>, _ cw: Int, _ rows: UnsafeMutablePointer<Int16>) {
    var lx = 0
    while lx < cw {
      let np = min(4, cw &- lx)
      var cb = 0
      while cb < blocks {
        let base = UnsafeRawPointer(rows + (lx &* strideW &* S &+ cb &* 16))
        let ai = accInit + cb &* 16
        let iLo = _mm256_loadu_si256(UnsafeRawPointer(ai).assumingMemoryBound(to: __m256i.self))
        let iHi = _mm256_loadu_si256(UnsafeRawPointer(ai + 8).assumingMemoryBound(to: __m256i.self))
        var l0 = iLo, h0 = iHi, l1 = iLo, h1 = iHi, l2 = iLo, h2 = iHi, l3 = iLo, h3 = iHi
        var wp = weights + cb &* tapPairs &* 64
        var j = 0
        while j < tapPairs {
          let offA = Int(offsets[2 &* j]), offB = Int(offsets[2 &* j &+ 1])
          let wLo = _mm256_loadu_si256(wp.assumingMemoryBound(to: __m256i.self))
          let wHi = _mm256_loadu_si256((wp + 32).assumingMemoryBound(to: __m256i.self))
          @inline(__always) func tap(_ q: Int, _ lo: inout __m256i, _ hi: inout __m256i) {
            let pa: UnsafeRawPointer = base + (offA &+ q &* pxBytes)
            let pb: UnsafeRawPointer = base + (offB &+ q &* pxBytes)
            let xa = _mm256_loadu_si256(pa.assumingMemoryBound(to: __m256i.self))
            let xb = _mm256_loadu_si256(pb.assumingMemoryBound(to: __m256i.self))
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb), wLo))
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb), wHi))
          }
          tap(0, &l0, &h0)
          if np > 1 { tap(1, &l1, &h1) }
          if np > 2 { tap(2, &l2, &h2) }
          if np > 3 { tap(3, &l3, &h3) }
          wp += 64
          j &+= 1
        }
        let t = table + cb &* 2 &* avx2RequantBlockBytes
        let outPixel = outRow + (lx &* C &+ cb &* 16)  // a let: no captured var (no box)
        let n = whole ? 16 : min(16, C &- cb &* 16)  // channels of this block that exist
        @inline(__always) func store(_ q: Int, _ lo: __m256i, _ hi: __m256i) {
          let rl = requantTableAVX2(lo, t, hasLeft)
          let rh = requantTableAVX2(hi, t + avx2RequantBlockBytes, hasLeft)
          let v = _mm256_min_epi16(_mm256_max_epi16(_mm256_adds_epi16(_mm256_packs_epi32(rl, rh), off16), min16), max16)
          let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(v, v), _mm256_setr_epi32(0, 1, 4, 5, 0, 1, 4, 5))
          if n == 16 {
            let dst = UnsafeMutableRawPointer(outPixel + q &* C)
            _mm_storeu_si128(dst.assumingMemoryBound(to: __m128i.self), _mm256_castsi256_si128(bytes))
          } else {
            copyOut(bytes, outPixel + q &* C, n)
          }
        }
        store(0, l0, h0)
        if np > 1 { store(1, l1, h1) }
        if np > 2 { store(2, l2, h2) }
        if np > 3 { store(3, l3, h3) }
        cb &+= 1
      }
      lx &+= np
    }
  }
  if stripW > 0 {
    forEachStripKeepingRows(s, capacityRows: capacity / rowElems, rowElems: rowElems, stripW: stripW, kH: kH,
                            input: input, batches: batches, inH: inH, inW: inW, inC: inC, S: S, outH: outH,
                            outW: outW, outC: C, strideH: strideH, strideW: strideW, padTop: padTop, padLeft: padLeft,
                            kW: kW, dilW: dilW, inputOffset: p.input_offset, depthMultiplier: mult, gather: gather,
                            output: output) { outPixel, cw, rows in run(outPixel, cw, rows) }
  } else {
    forEachOutputChunk(s, rowElems: rowElems, kH: kH, dilH: dilH, input: input, batches: batches, inH: inH, inW: inW,
                       inC: inC, S: S, outH: outH, outW: outW, outC: C, strideH: strideH, strideW: strideW,
                       padTop: padTop, padLeft: padLeft, kW: kW, dilW: dilW, chunkW: chunkW, inputOffset: p.input_offset,
                       depthMultiplier: mult, gather: gather, output: output) { outRow, cw in run(outRow, cw, s) }
  }
}

/// Writes the depthwise gather table for `blocks` blocks of 16 output
/// lanes (channels oc = 16 * block + lane, `channels` of them, oc reading
/// input channel oc / mult): per block 32 bytes, the vpshufb index of each
/// lane's input channel relative to the block's first (oc0 / mult; at most
/// 15 / mult + 1 < 16 apart for mult >= 2), 0 for padding lanes (their
/// weights are 0), then that first channel as an Int32.
@inline(__always)
func gatherTableAVX2(_ t: UnsafeMutableRawPointer, blocks: Int, channels: Int, mult: Int) {
  var cb = 0
  while cb < blocks {
    let first = cb &* 16 / mult
    var l = 0
    while l < 16 {
      let oc = cb &* 16 &+ l
      let i = oc < channels ? oc / mult &- first : 0
      t.storeBytes(of: Int8(truncatingIfNeeded: i), toByteOffset: cb &* 32 &+ l, as: Int8.self)
      l &+= 1
    }
    t.storeBytes(of: Int32(truncatingIfNeeded: first), toByteOffset: cb &* 32 &+ 16, as: Int32.self)
    cb &+= 1
  }
}
#endif
