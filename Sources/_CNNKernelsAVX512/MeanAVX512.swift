// AVX-512 int8 Mean over the middle axis of an [outer, reduced, inner]
// tensor (the H x W of NHWC: a CNN head's global average), bit-exact with
// meanReference. Call only when the CPU has AVX-512 (F, BW).
//
// 64 channels per step. Each of the `reduced` rows adds its 64 int8 values,
// sign-extended, into two vectors of 32 int16 sums: 256 rows sum exactly in
// int16 (|sum| <= 256 * 128 = 2^15; -32768 is reachable, +32512 the top),
// so every 256 rows they are widened into four vectors of 16 int32 sums,
// the reference's wrapping Int32 sum (exact below 2^24 rows; both wrap alike
// above). Then, as the reference: Σx - zp_in * n (wrapping), requantUniform512
// (ElementwiseAVX512.swift) + zp_out (wrapping), saturated to -128...127 by
// the packs. The channel tail (inner mod 64) uses masked loads (no byte past
// the row is read) and a masked store.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// False, writing nothing, when the multiplier is Int32.min or the shift is
/// outside -31...31 (requantUniform512's domain; the runtime passes neither).
#if hasFeature(Embedded)
@export(interface)
#endif
@inline(never)
public func cnnrtMeanAVX512(_ outer: Int, _ reduced: Int, _ inner: Int, _ zeroPointTimesCount: Int32,
                            _ multiplier: Int32, _ shift: Int32, _ outputZeroPoint: Int32,
                            _ input: UnsafePointer<Int8>, _ output: UnsafeMutablePointer<Int8>) -> Bool {
  guard let q = UniformRequant512(multiplier, shift) else { return false }
  guard outer > 0, reduced > 0, inner > 0 else { return true }
  let zp = _mm512_set1_epi32(zeroPointTimesCount), outOffset = _mm512_set1_epi32(outputZeroPoint)
  // Dwords 8...15 to 0...7: the upper 16 int16 sums of a vector.
  let upper = unsafeBitCast(SIMD16<Int32>(8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15), to: __m512i.self)
  @inline(__always) func load32(_ p: UnsafePointer<Int8>, _ mask: __mmask32, _ full: Bool) -> __m512i {
    let raw = UnsafeRawPointer(p)
    return _mm512_cvtepi8_epi16(full ? _mm256_loadu_si256(raw.assumingMemoryBound(to: __m256i.self))
                                     : _mm256_maskz_loadu_epi8(mask, raw))
  }
  @inline(__always) func finish(_ s: __m512i) -> __m512i {
    _mm512_add_epi32(requantUniform512(_mm512_sub_epi32(s, zp), q), outOffset)
  }
  for o in 0..<outer {
    let slice = input + o &* reduced &* inner
    forEachBlock64(inner) { c, mask, full in
      let maskLo = __mmask32(truncatingIfNeeded: mask), maskHi = __mmask32(truncatingIfNeeded: mask &>> 32)
      var s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0
      var r = 0
      while r < reduced {
        let rows = min(256, reduced &- r)
        var a = _mm512_setzero_si512(), b = a  // int16 sums of channels c...c+31, c+32...c+63
        var px = slice + (r &* inner &+ c)
        var k = 0
        while k < rows {
          a = _mm512_add_epi16(a, load32(px, maskLo, full))
          b = _mm512_add_epi16(b, load32(px + 32, maskHi, full))
          px += inner
          k &+= 1
        }
        s0 = _mm512_add_epi32(s0, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(a)))
        s1 = _mm512_add_epi32(s1, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(_mm512_permutexvar_epi32(upper, a))))
        s2 = _mm512_add_epi32(s2, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(b)))
        s3 = _mm512_add_epi32(s3, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(_mm512_permutexvar_epi32(upper, b))))
        r &+= rows
      }
      store64(output + (o &* inner &+ c), packs64(finish(s0), finish(s1), finish(s2), finish(s3)), mask, full)
    }
  }
  return true
}
#endif
