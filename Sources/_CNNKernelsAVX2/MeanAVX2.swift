// AVX2 (x86-64-v3) int8 Mean over the middle axis of an [outer, reduced,
// inner] tensor (the H × W of NHWC: the global average of a CNN head),
// bit-exact with meanReference. Call only when the CPU has AVX2.
//
// 32 channels per step. Each of the `reduced` rows adds its 32 int8 values,
// sign-extended, into two int16 accumulators: 256 rows sum exactly in int16
// (|sum| <= 256 * 128 = 2^15; -32768 is reachable, +32512 is the top), so
// every 256 rows the int16 sums are widened into four int32 accumulators.
// The int32 sums are the reference's Σx (it accumulates in wrapping Int32;
// both are exact below 2^24 rows and wrap alike above). Then, as the
// reference: shifted = Σx − zp_in × n (wrapping), MultiplyByQuantizedMultiplier
// (requantUniformAVX2, AddAVX2.swift: exact for a multiplier other than
// Int32.min and a shift in −31...31, which the runtime checks) + zp_out
// (wrapping), clamped to [−128, 127] by the two saturating packs.
// The channel tail (inner mod 32) runs the same code: its lanes past the
// row's end read the next pixel's bytes (and are discarded) wherever 32
// bytes remain in the input, else a zero-padded copy.
#if arch(x86_64)
import _Builtin_intrinsics.intel

#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMeanAVX2(_ outer: Int, _ reduced: Int, _ inner: Int, _ zeroPointTimesCount: Int32,
                          _ multiplier: Int32, _ shift: Int32, _ outputZeroPoint: Int32,
                          _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>) {
  guard outer > 0, reduced > 0, inner > 0 else { return }
  let q = UniformRequant(multiplier, shift)
  let zp = _mm256_set1_epi32(zeroPointTimesCount), outOffset = _mm256_set1_epi32(outputZeroPoint)
  let end = input + outer &* reduced &* inner
  var o = 0
  while o < outer {
    let slice = input + o &* reduced &* inner
    var c = 0
    while c < inner {
      let n = min(32, inner &- c)
      let z = _mm256_setzero_si256()
      var s0 = z, s1 = z, s2 = z, s3 = z
      var r = 0
      while r < reduced {
        let rows = min(256, reduced &- r)
        var a = z, b = z
        var px = slice + (r &* inner &+ c)
        var k = 0
        while k < rows {
          if px.distance(to: end) >= 32 {
            let raw = UnsafeRawPointer(px)
            a = _mm256_add_epi16(a, _mm256_cvtepi8_epi16(_mm_loadu_si128(raw.assumingMemoryBound(to: __m128i.self))))
            b = _mm256_add_epi16(b, _mm256_cvtepi8_epi16(
              _mm_loadu_si128((raw + 16).assumingMemoryBound(to: __m128i.self))))
          } else {
            var v = z
            copyIn(&v, px, n)
            withUnsafeBytes(of: v) { raw in
              let p = raw.baseAddress!
              a = _mm256_add_epi16(a, _mm256_cvtepi8_epi16(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))))
              b = _mm256_add_epi16(b, _mm256_cvtepi8_epi16(_mm_loadu_si128((p + 16).assumingMemoryBound(to: __m128i.self))))
            }
          }
          px += inner
          k &+= 1
        }
        widenAdd(&s0, &s1, a)
        widenAdd(&s2, &s3, b)
        r &+= rows
      }
      @inline(__always) func finish(_ s: __m256i) -> __m256i {
        _mm256_add_epi32(requantUniformAVX2(_mm256_sub_epi32(s, zp), q), outOffset)
      }
      // Per 128-bit lane the packs give channels [0-3, 8-11, 16-19, 24-27 | 4-7, ...]; reorder dwords.
      let p16a = _mm256_packs_epi32(finish(s0), finish(s1)), p16b = _mm256_packs_epi32(finish(s2), finish(s3))
      let bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p16a, p16b), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
      let dst = output + (o &* inner &+ c)
      if n == 32 {
        _mm256_storeu_si256(UnsafeMutableRawPointer(dst).assumingMemoryBound(to: __m256i.self), bytes)
      } else {
        copyOut(bytes, dst, n)
      }
      c &+= 32
    }
    o &+= 1
  }
}

/// Adds the 16 int16 lanes of `a`, sign-extended, to lo (lanes 0-7) and hi (8-15).
@inline(__always)
func widenAdd(_ lo: inout __m256i, _ hi: inout __m256i, _ a: __m256i) {
  withUnsafeBytes(of: a) { raw in
    let p = raw.baseAddress!
    lo = _mm256_add_epi32(lo, _mm256_cvtepi16_epi32(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))))
    hi = _mm256_add_epi32(hi, _mm256_cvtepi16_epi32(_mm_loadu_si128((p + 16).assumingMemoryBound(to: __m128i.self))))
  }
}
#endif
