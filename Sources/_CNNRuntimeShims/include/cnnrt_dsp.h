/*
 * cnnrt_dsp.h — the Armv7E-M DSP instructions (Cortex-M4/M7/M33 with the DSP
 * extension) the Cortex-M kernels (Sources/CNNRuntime/Kernels/CortexM) use,
 * as static inline functions over clang's arm_acle.h. Empty elsewhere.
 *
 *   cnnrt_sxtb16(x)       bytes 0 and 2 of x, each sign-extended to 16 bits
 *   cnnrt_sxtb16_ror8(x)  bytes 1 and 3 of x, likewise (SXTB16 with ROR #8)
 *   cnnrt_sadd16(a, b)    the two 16-bit halves added separately
 *   cnnrt_smlad(a, b, c)  c + a.lo * b.lo + a.hi * b.hi (signed 16-bit halves)
 *   cnnrt_smlabb(a, b, c) c + a.lo * b.lo;  cnnrt_smlatt(a, b, c) c + a.hi * b.hi
 *   cnnrt_word(p)         four bytes at p, any alignment (one LDR)
 */
#ifndef CNNRT_DSP_H
#define CNNRT_DSP_H

#if defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#include <arm_acle.h>
#include <stdint.h>

static inline int32_t cnnrt_sxtb16(int32_t x) { return __sxtb16(x); }
static inline int32_t cnnrt_sxtb16_ror8(int32_t x) { return __sxtb16((int32_t)__ror((uint32_t)x, 8)); }
static inline int32_t cnnrt_sadd16(int32_t a, int32_t b) { return __sadd16(a, b); }
static inline int32_t cnnrt_word(const int8_t *p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}
static inline int32_t cnnrt_smlad(int32_t a, int32_t b, int32_t c) { return __smlad(a, b, c); }
static inline int32_t cnnrt_smlabb(int32_t a, int32_t b, int32_t c) { return __smlabb(a, b, c); }
static inline int32_t cnnrt_smlatt(int32_t a, int32_t b, int32_t c) { return __smlatt(a, b, c); }
#endif

#endif /* CNNRT_DSP_H */
