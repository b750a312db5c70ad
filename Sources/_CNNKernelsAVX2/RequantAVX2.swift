// Table-driven requantization for the AVX2 row-scratch kernels.
//
// MultiplyByQuantizedMultiplier (TFLM, double rounding) on 8 int32 lanes,
// bit-identical to the scalar reference, with everything that depends only
// on the channel precomputed at load into a table of 7 vectors per 8-lane
// block (cnnrt_conv_args.rq_table; filled by CNNRuntime's
// fillRequantTableAVX2, which also checks the domain below):
//   [0] M          multiplier, in [0, 2^31) (QuantizeMultiplier's range)
//   [1] M_odd      M of lane 2i+1 in lane 2i (the even lanes feed vpmuldq)
//   [2] left       max(shift, 0)
//   [3] right      r = max(-shift, 0), at most 30
//   [4] nudge_even 64-bit, lanes 0, 2, 4, 6: 2^30 + half * 2^31, half = 2^(r-1) (0 if r = 0)
//   [5] nudge_odd  the same for lanes 1, 3, 5, 7
//   [6] neg_thr    half if r > 0, else Int32.min
// Domain (checked at load from the weights and bias): |acc << left| < 2^30.
// Derivation. The reference computes h = SaturatingRoundingDoublingHighMul(x, M)
// = (x*M + nudge) / 2^31 (C division), which equals floor((x*M + 2^30) / 2^31)
// for both signs; the saturation case x = M = Int32.min cannot occur (M >= 0).
// Then RoundingDivideByPOT(h, r) = (h >> r) + (remainder > (mask >> 1) + (h < 0)),
// which for r >= 1 equals (h + half - (h < 0)) >> r (write h = q 2^r + rem:
// the carry out of rem + half - (h < 0) is exactly the comparison). Adding
// half * 2^31 before the shift by 31 gives h' = h + half exactly; h < 0 iff
// h' < half; with r = 0 the neg_thr of Int32.min makes the correction 0.
// |h| <= |x| < 2^30 and half <= 2^29, so h' never overflows int32. So:
//   out = (h' + (neg_thr > h' ? -1 : 0)) >> r   (arithmetic shift)
// The 64-bit products come from vpmuldq on even and odd lanes; bits 31...62
// of each are gathered with one vpblendvb.
#if arch(x86_64)
import _Builtin_intrinsics.intel

@inline(__always)
func loadVec(_ p: UnsafeRawPointer, _ i: Int) -> __m256i {
  _mm256_loadu_si256((p + 32 &* i).assumingMemoryBound(to: __m256i.self))
}

/// MultiplyByQuantizedMultiplier of 8 lanes with the table block at `t`.
@inline(__always)
func requantTableAVX2(_ acc: __m256i, _ t: UnsafeRawPointer, _ hasLeft: Bool) -> __m256i {
  let x = hasLeft ? _mm256_sllv_epi32(acc, loadVec(t, 2)) : acc
  let pe = _mm256_add_epi64(_mm256_mul_epi32(x, loadVec(t, 0)), loadVec(t, 4))
  let po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), loadVec(t, 1)), loadVec(t, 5))
  // Even lanes: bits 31...62 of pe to the low dword; odd lanes: of po to the high dword.
  let h = _mm256_blendv_epi8(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1),
                             _mm256_set1_epi64x(Int64(bitPattern: 0xFFFF_FFFF_0000_0000)))
  return _mm256_srav_epi32(_mm256_add_epi32(h, _mm256_cmpgt_epi32(loadVec(t, 6), h)), loadVec(t, 3))
}

/// Bytes of one table block (7 vectors of 8 int32).
public let avx2RequantBlockBytes = 224
#endif
