/*
 * vnni_peak — measure one core's int8 multiply-accumulate peak (used by
 * `make bench` to put achieved GOPS in proportion).
 *
 *   vnni_peak MODE [SECONDS]
 *
 * MODE picks the instruction, timed in a loop of 12 independent dependency
 * chains (enough to cover latency × throughput on current x86 cores):
 *   avx512vnni  vpdpbusd zmm  (_mm512_dpbusd_epi32): 64 u8×s8 MACs, int32 accumulate
 *   avxvnni     vpdpbusd ymm  (_mm256_dpbusd_avx_epi32): 32 MACs
 *   avx2        vpmaddubsw ymm (_mm256_maddubs_epi16): 32 u8×s8 MACs summed in
 *               pairs to int16 (saturating: an upper bound, not usable as is
 *               by a bit-exact kernel)
 *   avx2-madd   vpmaddwd ymm  (_mm256_madd_epi16): 16 s16×s16 MACs, int32
 *               (the exact path of an AVX2 int8 kernel after widening)
 * GOPS = 2 × MACs per second. Each kernel is compiled for its ISA with a
 * function target attribute (equivalent to -mavx512f -mavx512vnni etc. for
 * that function only), so the one binary starts on any x86-64 CPU; the
 * caller runs a mode only when /proc/cpuinfo lists its flag (avx512_vnni,
 * avx_vnni, avx2). Prints one JSON line: the best of 15 timed repeats of about
 * SECONDS (default 0.1) each, so that a moment without load from other
 * processes is caught on a shared machine.
 */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static volatile int32_t sink;

#define CHAINS 12

/* Each function runs `n` loop trips of CHAINS instructions and returns a
 * value depending on every accumulator (so nothing is dead code). */

__attribute__((target("avx512f,avx512vnni"), noinline)) static int32_t run_avx512vnni(long n) {
  __m512i acc[CHAINS];
  for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_epi32(i);
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    __asm__ volatile("" : "+v"(a), "+v"(b));
  }
  __m512i s = acc[0];
  for (int i = 1; i < CHAINS; i++) s = _mm512_add_epi32(s, acc[i]);
  return _mm512_reduce_add_epi32(s);
}

__attribute__((target("avx2,avxvnni"), noinline)) static int32_t run_avxvnni(long n) {
  __m256i acc[CHAINS];
  for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_set1_epi32(i);
  __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2);
  for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm256_dpbusd_avx_epi32(acc[i], a, b);
    __asm__ volatile("" : "+x"(a), "+x"(b));
  }
  __m256i s = acc[0];
  for (int i = 1; i < CHAINS; i++) s = _mm256_add_epi32(s, acc[i]);
  return _mm256_extract_epi32(s, 0) + _mm256_extract_epi32(s, 7);
}

__attribute__((target("avx2"), noinline)) static int32_t run_avx2(long n) {
  __m256i x[CHAINS];
  for (int i = 0; i < CHAINS; i++) x[i] = _mm256_set1_epi8((char)(i + 1));
  __m256i b = _mm256_set1_epi8(1);
  for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
    for (int i = 0; i < CHAINS; i++) x[i] = _mm256_maddubs_epi16(x[i], b);
    __asm__ volatile("" : "+x"(b));
  }
  __m256i s = x[0];
  for (int i = 1; i < CHAINS; i++) s = _mm256_add_epi16(s, x[i]);
  return _mm256_extract_epi32(s, 0) + _mm256_extract_epi32(s, 7);
}

__attribute__((target("avx2"), noinline)) static int32_t run_avx2_madd(long n) {
  __m256i x[CHAINS];
  for (int i = 0; i < CHAINS; i++) x[i] = _mm256_set1_epi16((short)(i + 1));
  __m256i b = _mm256_set1_epi16(1);
  for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
    for (int i = 0; i < CHAINS; i++) x[i] = _mm256_madd_epi16(x[i], b);
    __asm__ volatile("" : "+x"(b));
  }
  __m256i s = x[0];
  for (int i = 1; i < CHAINS; i++) s = _mm256_add_epi32(s, x[i]);
  return _mm256_extract_epi32(s, 0) + _mm256_extract_epi32(s, 7);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s avx512vnni|avxvnni|avx2|avx2-madd [SECONDS]\n", argv[0]);
    return 2;
  }
  const char *mode = argv[1];
  double seconds = argc > 2 ? atof(argv[2]) : 0.1;
  int32_t (*fn)(long) = NULL;
  int macs = 0;
  const char *instr = "";
  if (!strcmp(mode, "avx512vnni")) { fn = run_avx512vnni; macs = 64; instr = "vpdpbusd zmm"; }
  else if (!strcmp(mode, "avxvnni")) { fn = run_avxvnni; macs = 32; instr = "vpdpbusd ymm (AVX-VNNI)"; }
  else if (!strcmp(mode, "avx2")) { fn = run_avx2; macs = 32; instr = "vpmaddubsw ymm"; }
  else if (!strcmp(mode, "avx2-madd")) { fn = run_avx2_madd; macs = 16; instr = "vpmaddwd ymm"; }
  else { fprintf(stderr, "unknown mode %s\n", mode); return 2; }

  /* Calibrate the trip count to about `seconds` per repeat. */
  long n = 1 << 16;
  for (;;) {
    double t0 = now_s();
    sink = fn(n);
    double t = now_s() - t0;
    if (t > seconds / 4 || n > (1L << 40)) { n = (long)((double)n * seconds / (t > 0 ? t : 1e-9)); break; }
    n *= 4;
  }
  if (n < 1) n = 1;
  double best = 1e30;
  for (int r = 0; r < 15; r++) {
    double t0 = now_s();
    sink = fn(n);
    double t = now_s() - t0;
    if (t < best) best = t;
  }
  double instr_per_s = (double)n * CHAINS / best;
  printf("{\"mode\": \"%s\", \"instruction\": \"%s\", \"macs_per_instruction\": %d, "
         "\"ginstr_per_s\": %.3f, \"gops\": %.1f}\n",
         mode, instr, macs, instr_per_s / 1e9, 2.0 * macs * instr_per_s / 1e9);
  return 0;
}
