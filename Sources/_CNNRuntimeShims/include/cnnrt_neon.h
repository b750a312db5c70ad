/*
 * cnnrt_neon.h — the few aarch64 Advanced SIMD intrinsics the Arm kernel
 * modules (Sources/_CNNKernelsNEON) use, as static inline functions.
 *
 * Swift imports clang's arm_neon.h functions but not its macros, and the
 * loads, stores and immediate-operand intrinsics are macros there; these
 * wrappers give them a function form. Empty on other architectures.
 * SDOT (cnnrt_sdot) exists only when the module is compiled with the dot
 * product feature (-march=armv8.2-a+dotprod: the _CNNKernelsDotProd build).
 */
#ifndef CNNRT_NEON_H
#define CNNRT_NEON_H

#if defined(__aarch64__)
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

static inline int8x16_t cnnrt_ld_s8(const int8_t *p) { return vld1q_s8(p); }
static inline int8x8_t cnnrt_ld8_s8(const int8_t *p) { return vld1_s8(p); }
static inline int32x4_t cnnrt_ld_s32(const int32_t *p) { return vld1q_s32(p); }
static inline int16x8_t cnnrt_ld_s16(const int16_t *p) { return vld1q_s16(p); }
static inline void cnnrt_st_s8(int8_t *p, int8x16_t v) { vst1q_s8(p, v); }
static inline void cnnrt_st8_s8(int8_t *p, int8x8_t v) { vst1_s8(p, v); }
static inline void cnnrt_st_s32(int32_t *p, int32x4_t v) { vst1q_s32(p, v); }
static inline void cnnrt_st_s16(int16_t *p, int16x8_t v) { vst1q_s16(p, v); }

/* 64 table bytes as the four registers of a TBL/TBX lookup; the lookups of
 * 16 indices into them: TBL gives 0 for an index past 63, TBX keeps the
 * lane of `r`. */
static inline int8x16x4_t cnnrt_ld4_s8(const int8_t *p) {
  int8x16x4_t t;
  t.val[0] = vld1q_s8(p); t.val[1] = vld1q_s8(p + 16); t.val[2] = vld1q_s8(p + 32); t.val[3] = vld1q_s8(p + 48);
  return t;
}
static inline int8x16_t cnnrt_tbl4_s8(int8x16x4_t t, uint8x16_t idx) { return vqtbl4q_s8(t, idx); }
static inline int8x16_t cnnrt_tbx4_s8(int8x16_t r, int8x16x4_t t, uint8x16_t idx) { return vqtbx4q_s8(r, t, idx); }

/* Four bytes (any alignment) repeated in every 32-bit lane. */
static inline int8x16_t cnnrt_dup4_s8(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return vreinterpretq_s8_s32(vdupq_n_s32(v));
}
static inline int8x16_t cnnrt_dup32_s8(int32_t v) { return vreinterpretq_s8_s32(vdupq_n_s32(v)); }

/* Products: 8 (low halves) and 8 (high halves) int8 x int8 -> int16. */
static inline int16x8_t cnnrt_mull_lo_s8(int8x16_t a, int8x16_t b) { return vmull_s8(vget_low_s8(a), vget_low_s8(b)); }
static inline int16x8_t cnnrt_mull_hi_s8(int8x16_t a, int8x16_t b) { return vmull_high_s8(a, b); }
/* acc + pairwise sums of int16 lanes, widened to int32. */
static inline int32x4_t cnnrt_padal_s16(int32x4_t acc, int16x8_t v) { return vpadalq_s16(acc, v); }
static inline int32x4_t cnnrt_padd_s32(int32x4_t a, int32x4_t b) { return vpaddq_s32(a, b); }

/* int8 -> int16 widening, plus an int16 offset. */
static inline int16x8_t cnnrt_widen_lo_s8(int8x16_t v) { return vmovl_s8(vget_low_s8(v)); }
static inline int16x8_t cnnrt_widen_hi_s8(int8x16_t v) { return vmovl_high_s8(v); }
static inline int32x4_t cnnrt_widen_lo_s16(int16x8_t v) { return vmovl_s16(vget_low_s16(v)); }
static inline int32x4_t cnnrt_widen_hi_s16(int16x8_t v) { return vmovl_high_s16(v); }
/* acc + the low / high eight int8 lanes, widened to int16. */
static inline int16x8_t cnnrt_addw_lo_s8(int16x8_t acc, int8x16_t v) { return vaddw_s8(acc, vget_low_s8(v)); }
static inline int16x8_t cnnrt_addw_hi_s8(int16x8_t acc, int8x16_t v) { return vaddw_high_s8(acc, v); }
/* acc + the low / high four int16 lanes, widened to int32. */
static inline int32x4_t cnnrt_addw_lo_s16(int32x4_t acc, int16x8_t v) { return vaddw_s16(acc, vget_low_s16(v)); }
static inline int32x4_t cnnrt_addw_hi_s16(int32x4_t acc, int16x8_t v) { return vaddw_high_s16(acc, v); }
/* Sum of the four int32 lanes (wrapping). */
static inline int32_t cnnrt_addv_s32(int32x4_t v) { return vaddvq_s32(v); }

/* acc + a * b for the low / high four int16 lanes, widened to int32. */
static inline int32x4_t cnnrt_mlal_lo_s16(int32x4_t acc, int16x8_t a, int16x8_t b) {
  return vmlal_s16(acc, vget_low_s16(a), vget_low_s16(b));
}
static inline int32x4_t cnnrt_mlal_hi_s16(int32x4_t acc, int16x8_t a, int16x8_t b) {
  return vmlal_high_s16(acc, a, b);
}

/* TFLM MultiplyByQuantizedMultiplier on four lanes (double rounding):
 * RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << left, mult), right)
 * with left = max(shift, 0), right = max(-shift, 0); right in 0...31.
 * `left` holds the left shift counts, `neg_right` the negated right shifts.
 * VQRDMULH is SaturatingRoundingDoublingHighMul exactly; VRSHL rounds ties
 * toward +infinity, so negative values are first lowered by one (saturating)
 * to round ties away from zero as RoundingDivideByPOT does. */
static inline int32x4_t cnnrt_requant_s32(int32x4_t x, int32x4_t mult, int32x4_t left, int32x4_t neg_right) {
  const int32x4_t shifted = vshlq_s32(x, left);
  const int32x4_t high = vqrdmulhq_s32(shifted, mult);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(high, neg_right), 31);
  return vrshlq_s32(vqaddq_s32(high, fixup), neg_right);
}

/* Sixteen int32 lanes (four vectors) + offset, clamped, narrowed to int8. */
static inline int8x16_t cnnrt_narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d, int32x4_t offset,
                                       int8x16_t lo, int8x16_t hi) {
  const int16x8_t ab = vcombine_s16(vqmovn_s32(vaddq_s32(a, offset)), vqmovn_s32(vaddq_s32(b, offset)));
  const int16x8_t cd = vcombine_s16(vqmovn_s32(vaddq_s32(c, offset)), vqmovn_s32(vaddq_s32(d, offset)));
  const int8x16_t v = vcombine_s8(vqmovn_s16(ab), vqmovn_s16(cd));
  return vminq_s8(vmaxq_s8(v, lo), hi);
}

#if defined(__ARM_FEATURE_DOTPROD)
/* acc[i] + sum_{j<4} a[4i+j] * b[4i+j]: 16 int8 multiply-accumulates. */
static inline int32x4_t cnnrt_sdot(int32x4_t acc, int8x16_t a, int8x16_t b) { return vdotq_s32(acc, a, b); }
#endif

#endif /* __aarch64__ */
#endif /* CNNRT_NEON_H */
