/*
 * cnnrt_cpu.h — CPU feature detection for the optimised kernel paths.
 *
 * Header-only (static inline): nothing is exported from libcnnrt.so.
 * The runtime calls cnnrt_cpu_select_isa() once per model load and stores
 * the chosen path in each prepared op; inference only dispatches on it.
 *
 * Paths (CNNRT_ISA_*):
 *   0 portable  the reference kernels (every target)
 *   1 avx2      x86-64-v3: AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE, OS-enabled YMM state
 *   2 avx512    x86-64-v4 + AVX512-VNNI, OS-enabled ZMM/opmask state
 *   3 neon      aarch64 Advanced SIMD (Armv8.0: every aarch64 CPU)
 *   4 dotprod   aarch64 + the Armv8.2 dot product (SDOT), HWCAP_ASIMDDP
 *
 * Override: the environment variable CNNRT_ISA, read at each model load, caps
 * the path: portable|avx2|avx512 on x86-64, portable|neon|dotprod on aarch64
 * (a name of the other architecture is ignored). A path the CPU lacks is
 * never chosen, even when forced (the request is lowered to the best
 * available path of the same architecture).
 *
 * aarch64 Linux: the Embedded Swift build targets aarch64-none-none-elf, so
 * the Makefile defines CNNRT_LINUX for it; getauxval(AT_HWCAP) then tells
 * whether the kernel reports SDOT. Without it (bare metal) NEON is assumed
 * and SDOT is not used.
 */
#ifndef CNNRT_CPU_H
#define CNNRT_CPU_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && (defined(__linux__) || defined(CNNRT_LINUX))
#include <sys/auxv.h>
#define CNNRT_HAVE_AUXV 1
#endif

#define CNNRT_ISA_PORTABLE 0
#define CNNRT_ISA_AVX2 1
#define CNNRT_ISA_AVX512 2
#define CNNRT_ISA_NEON 3
#define CNNRT_ISA_DOTPROD 4

/* The best path this CPU and OS support. */
static inline int32_t cnnrt_cpu_best_isa(void) {
#if defined(__x86_64__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return CNNRT_ISA_PORTABLE;
  const int fma = (c >> 12) & 1, movbe = (c >> 22) & 1, osxsave = (c >> 27) & 1;
  const int avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
  if (!(osxsave && avx && fma && movbe && f16c)) return CNNRT_ISA_PORTABLE;
  uint32_t xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  (void)xcr0_hi;
  if ((xcr0_lo & 0x6u) != 0x6u) return CNNRT_ISA_PORTABLE; /* XMM + YMM state */
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return CNNRT_ISA_PORTABLE;
  const unsigned ebx7 = b, ecx7 = c;
  const int bmi1 = (ebx7 >> 3) & 1, avx2 = (ebx7 >> 5) & 1, bmi2 = (ebx7 >> 8) & 1;
  if (!__get_cpuid(0x80000001u, &a, &b, &c, &d)) return CNNRT_ISA_PORTABLE;
  const int lzcnt = (c >> 5) & 1;
  if (!(bmi1 && avx2 && bmi2 && lzcnt)) return CNNRT_ISA_PORTABLE;
  const int f = (ebx7 >> 16) & 1, dq = (ebx7 >> 17) & 1, cd = (ebx7 >> 28) & 1;
  const int bw = (ebx7 >> 30) & 1, vl = (ebx7 >> 31) & 1, vnni = (ecx7 >> 11) & 1;
  /* opmask, ZMM0-15 upper halves, ZMM16-31 */
  const int zmm_os = (xcr0_lo & 0xE6u) == 0xE6u;
#if defined(CNNRT_AVX512_EMULATION)
  /* `make avx512-emu-test` only: its AVX-512 kernels are compiled against a
   * software emulation of their instructions (tools/simd/AVX512Emulation.swift)
   * and run on any AVX2 CPU. */
  (void)f; (void)dq; (void)cd; (void)bw; (void)vl; (void)vnni; (void)zmm_os;
  return CNNRT_ISA_AVX512;
#endif
  if (f && dq && cd && bw && vl && vnni && zmm_os) return CNNRT_ISA_AVX512;
  return CNNRT_ISA_AVX2;
#elif defined(__aarch64__)
#if defined(CNNRT_HAVE_AUXV)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  if (hwcap & (1ul << 20)) return CNNRT_ISA_DOTPROD; /* HWCAP_ASIMDDP */
  if (hwcap & (1ul << 1)) return CNNRT_ISA_NEON;     /* HWCAP_ASIMD */
  return CNNRT_ISA_PORTABLE;
#else
  return CNNRT_ISA_NEON;
#endif
#else
  return CNNRT_ISA_PORTABLE;
#endif
}

/* Whether the CPU has AVX512-VBMI (vpermb), which some kernels of the
 * AVX-512 path use when it is there (asked once per op at load). */
static inline int32_t cnnrt_cpu_has_avx512_vbmi(void) {
#if defined(__x86_64__)
#if defined(CNNRT_AVX512_EMULATION)
  return 1; /* the emulation has vpermb too */
#else
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (cnnrt_cpu_best_isa() != CNNRT_ISA_AVX512) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (int32_t)((c >> 1) & 1);
#endif
#else
  return 0;
#endif
}

/* Whether the AVX-512 Add's byte tables should use two-table vpermt2b
 * lookups (cnnrt_add_args.byte_tables = 2) rather than four merge-masked
 * vpermb: measured faster on AMD Zen 5 (Adds 17-27 % less) and slower on an
 * Intel Xeon (6-7 % more), so AMD CPUs with VBMI get them (README "Speed").
 * The emulation build takes them too (the real Intel CPUs in CI run the
 * other form). */
static inline int32_t cnnrt_cpu_prefers_vpermt2b(void) {
#if defined(__x86_64__)
#if defined(CNNRT_AVX512_EMULATION)
  return 1;
#else
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!cnnrt_cpu_has_avx512_vbmi() || !__get_cpuid(0, &a, &b, &c, &d)) return 0;
  /* "AuthenticAMD" in ebx, edx, ecx */
  return b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u;
#endif
#else
  return 0;
#endif
}

/* The path requested by CNNRT_ISA, or -1 when unset or unrecognised. */
static inline int32_t cnnrt_cpu_requested_isa(void) {
#if defined(CNNRT_BARE_METAL)
  return -1; /* no environment on bare metal */
#else
  const char *s = getenv("CNNRT_ISA");
  if (!s) return -1;
  if (strcmp(s, "portable") == 0) return CNNRT_ISA_PORTABLE;
#if defined(__aarch64__)
  if (strcmp(s, "neon") == 0) return CNNRT_ISA_NEON;
  if (strcmp(s, "dotprod") == 0) return CNNRT_ISA_DOTPROD;
#else
  if (strcmp(s, "avx2") == 0) return CNNRT_ISA_AVX2;
  if (strcmp(s, "avx512") == 0) return CNNRT_ISA_AVX512;
#endif
  return -1;
#endif /* CNNRT_BARE_METAL */
}

/* The path a model load uses: the request (if any) capped at the best
 * available path. `request` < 0 means "no request" (use the best). */
static inline int32_t cnnrt_cpu_resolve_isa(int32_t request) {
  const int32_t best = cnnrt_cpu_best_isa();
  if (request < 0 || request > best) return best;
#if defined(__aarch64__)
  if (request != CNNRT_ISA_PORTABLE && request < CNNRT_ISA_NEON) return best;
#endif
  return request;
}

static inline int32_t cnnrt_cpu_select_isa(void) {
  return cnnrt_cpu_resolve_isa(cnnrt_cpu_requested_isa());
}

#endif /* CNNRT_CPU_H */
