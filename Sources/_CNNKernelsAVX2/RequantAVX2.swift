// Table-driven requantization for the AVX2 row-scratch kernels.
//
// MultiplyByQuantizedMultiplier (TFLM, double rounding) on 8 int32 lanes,
// bit-identical to the scalar reference, with everything that depends only
// on the channel precomputed at load into a table of 6 vectors per 8-lane
// block (cnnrt_conv_args.rq_table; filled by CNNRuntime's
// fillRequantTableAVX2):
//   [0] M          multiplier, in [0, 2^31) (QuantizeMultiplier's range;
//                  checked at load, so the Int32.min * Int32.min saturation
//                  of SaturatingRoundingDoublingHighMul cannot occur)
//   [1] M_odd      M of lane 2i+1 in lane 2i (the even lanes feed vpmuldq)
//   [2] left       max(shift, 0)
//   [3] right      max(-shift, 0), shift in -31...31
//   [4] mask       (1 << right) - 1
//   [5] half       mask >> 1
// SaturatingRoundingDoublingHighMul(x, M) = (x * M + 2^30) >> 31 (floor):
// equal to the reference's (x*M + nudge) / 2^31 with C division for both
// signs of x*M. The 64-bit products come from vpmuldq on even and odd lanes;
// bits 31...62 of each are gathered with one vpblendvb. RoundingDivideByPOT(h, e)
// = (h >> e) + (remainder > threshold), remainder = h & mask, threshold =
// half + (h < 0).
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
  let nudge = _mm256_set1_epi64x(1 << 30)
  let pe = _mm256_add_epi64(_mm256_mul_epi32(x, loadVec(t, 0)), nudge)
  let po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), loadVec(t, 1)), nudge)
  // Even lanes: bits 31...62 of pe to the low dword; odd lanes: of po to the high dword.
  let h = _mm256_blendv_epi8(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1),
                             _mm256_set1_epi64x(Int64(bitPattern: 0xFFFF_FFFF_0000_0000)))
  let q = _mm256_srav_epi32(h, loadVec(t, 3))
  let rem = _mm256_and_si256(h, loadVec(t, 4))
  let threshold = _mm256_sub_epi32(loadVec(t, 5), _mm256_srai_epi32(h, 31))
  return _mm256_sub_epi32(q, _mm256_cmpgt_epi32(rem, threshold))
}

/// Bytes of one table block (6 vectors of 8 int32).
public let avx2RequantBlockBytes = 192
#endif
