// AVX2 (x86-64-v3) int8 bilinear resize, bit-exact with
// resizeBilinearReference (TFLM's integer ResizeBilinear). Call only when the
// CPU has AVX2.
//
// The reference blends the four neighbours with 20-bit weights
// w = wy·wx (wy, wx the 10-bit row and column weights):
//   s = p00·wy0·wx0 + p10·wy1·wx0 + p01·wy0·wx1 + p11·wy1·wx1.
// Here the sum is regrouped exactly (integer arithmetic, no overflow):
//   s = wx0·(p00·wy0 + p10·wy1) + wx1·(p01·wy0 + p11·wy1),
// the inner sums by vpmaddwd on interleaved int16 pixel pairs and the (wy0,
// wy1) pair, the outer products by vpmulld. Bounds: wy0 + wy1 = 1024 with wy1
// in -512 ... 1023 (a negative fraction only when both rows are one row, so
// the pair sums to p·1024), |inner| <= 128·2048 = 2^18 and |s| < 2^29.
// Rounding as the reference: (s + (s > 0 ? 2^19 : -2^19)) / 2^20 with C
// division = sign(s)·((|s| + 2^19) >> 20). The result is an int8 value (a
// blend of int8 values), so the saturating packs are exact.
// 16 channels per step; the last (< 16) go through the same code on
// zero-padded copies.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Bilinear resize of an NHWC int8 tensor [batches, inH, inW, channels] to
/// [batches, outH, outW, channels]. `rows` / `cols` hold one tap per output
/// row / column as three Int32 each: lower index, upper index, fraction
/// (the row weight of the upper index; the lower's is 1024 − fraction).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtResizeBilinearAVX2(_ input: UnsafePointer<Int8>, _ batches: Int, _ inH: Int, _ inW: Int,
                                    _ channels: Int, _ rows: UnsafePointer<Int32>, _ cols: UnsafePointer<Int32>,
                                    _ outH: Int, _ outW: Int, _ output: UnsafeMutablePointer<Int8>) {
  guard batches > 0, inH > 0, inW > 0, channels > 0, outH > 0, outW > 0 else { return }
  let inRow = inW &* channels
  let whole = channels & ~15
  let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7)
  var dst = output
  var b = 0
  while b < batches {
    let batch = input + b &* inH &* inRow
    var y = 0
    while y < outH {
      let row0 = batch + Int(rows[3 &* y]) &* inRow, row1 = batch + Int(rows[3 &* y &+ 1]) &* inRow
      let fy = rows[3 &* y &+ 2]
      // (wy0, wy1) as one int16 pair per int32 lane.
      let wy = _mm256_set1_epi32((fy &<< 16) | ((1024 &- fy) & 0xFFFF))
      var x = 0
      while x < outW {
        let lo = Int(cols[3 &* x]) &* channels, hi = Int(cols[3 &* x &+ 1]) &* channels
        let fx = cols[3 &* x &+ 2]
        let wx0 = _mm256_set1_epi32(1024 &- fx), wx1 = _mm256_set1_epi32(fx)
        @inline(__always) func blend16(_ p00: UnsafePointer<Int8>, _ p10: UnsafePointer<Int8>,
                                       _ p01: UnsafePointer<Int8>, _ p11: UnsafePointer<Int8>) -> __m128i {
          @inline(__always) func load(_ p: UnsafePointer<Int8>) -> __m256i {
            _mm256_cvtepi8_epi16(_mm_loadu_si128(UnsafeRawPointer(p).assumingMemoryBound(to: __m128i.self)))
          }
          let a00 = load(p00), a10 = load(p10), a01 = load(p01), a11 = load(p11)
          // Per 128-bit lane: unpacklo holds channels 0-3 (8-11), unpackhi 4-7 (12-15).
          let l0 = _mm256_madd_epi16(_mm256_unpacklo_epi16(a00, a10), wy)
          let h0 = _mm256_madd_epi16(_mm256_unpackhi_epi16(a00, a10), wy)
          let l1 = _mm256_madd_epi16(_mm256_unpacklo_epi16(a01, a11), wy)
          let h1 = _mm256_madd_epi16(_mm256_unpackhi_epi16(a01, a11), wy)
          @inline(__always) func round(_ s: __m256i) -> __m256i {
            let q = _mm256_srli_epi32(_mm256_add_epi32(_mm256_abs_epi32(s), _mm256_set1_epi32(1 << 19)), 20)
            return _mm256_sign_epi32(q, s)
          }
          let sl = round(_mm256_add_epi32(_mm256_mullo_epi32(l0, wx0), _mm256_mullo_epi32(l1, wx1)))
          let sh = round(_mm256_add_epi32(_mm256_mullo_epi32(h0, wx0), _mm256_mullo_epi32(h1, wx1)))
          // packs per lane: [0-3 4-7 | 8-11 12-15] as int16, then bytes (doubled); gather dwords 0, 1, 4, 5.
          let p16 = _mm256_packs_epi32(sl, sh)
          let p8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p16, p16), order)
          return _mm256_castsi256_si128(p8)
        }
        var c = 0
        while c < whole {
          let r = blend16(row0 + (lo &+ c), row1 + (lo &+ c), row0 + (hi &+ c), row1 + (hi &+ c))
          _mm_storeu_si128(UnsafeMutableRawPointer(dst + c).assumingMemoryBound(to: __m128i.self), r)
          c &+= 16
        }
        let rest = channels &- c
        if rest > 0 {
          var t = (SIMD16<Int8>(), SIMD16<Int8>(), SIMD16<Int8>(), SIMD16<Int8>(), SIMD16<Int8>())
          withUnsafeMutableBytes(of: &t) { raw in
            let s = raw.baseAddress!.assumingMemoryBound(to: Int8.self)
            var j = 0
            while j < rest {
              s[j] = row0[lo &+ c &+ j]; s[16 &+ j] = row1[lo &+ c &+ j]
              s[32 &+ j] = row0[hi &+ c &+ j]; s[48 &+ j] = row1[hi &+ c &+ j]
              j &+= 1
            }
            _mm_storeu_si128(UnsafeMutableRawPointer(s + 64).assumingMemoryBound(to: __m128i.self),
                             blend16(UnsafePointer(s), UnsafePointer(s + 16), UnsafePointer(s + 32), UnsafePointer(s + 48)))
            j = 0
            while j < rest { dst[c &+ j] = s[64 &+ j]; j &+= 1 }
          }
        }
        dst += channels
        x &+= 1
      }
      y &+= 1
    }
    b &+= 1
  }
}
#endif
