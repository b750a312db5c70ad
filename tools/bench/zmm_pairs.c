/*
 * zmm_pairs — how many zmm instructions of each kind, alone and in pairs of
 * kinds, one core issues per cycle (README "Speed", AMD Zen 5). Used by hand
 * to see which execution pipes the AVX-512 kernels' instructions share:
 *
 *   cc -O1 -mavx512f -mavx512bw -mavx512vbmi -mavx512vnni tools/bench/zmm_pairs.c -o build/zmm_pairs
 *   build/zmm_pairs [GHZ]
 *
 * Each loop trip runs 24 instructions with register operands that do not
 * depend on each other (destinations zmm0-15 and zmm18-25, sources zmm16 and
 * zmm17; vpdpbusd reads its destination, so each of its 12 destinations is a
 * chain of one instruction per trip, enough to cover its latency). A pair
 * "a + b" alternates the two kinds, 12 each. Prints instructions per second
 * and, given the clock in GHz (default 4.29: four vpaddq per cycle on Zen 5),
 * per cycle. Best of 7 runs of 5 million trips. x86-64 with AVX-512 only.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define I(op, d) op " %%zmm16, %%zmm17, %%zmm" #d "\n"
#define PAIR(a, b) \
  I(a, 0) I(b, 8) I(a, 1) I(b, 9) I(a, 2) I(b, 10) I(a, 3) I(b, 11) I(a, 4) I(b, 12) I(a, 5) I(b, 13) \
  I(a, 6) I(b, 14) I(a, 7) I(b, 15) I(a, 18) I(b, 19) I(a, 20) I(b, 21) I(a, 22) I(b, 23) I(a, 24) I(b, 25)
#define CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
  "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",     \
  "xmm24", "xmm25"
#define RUN(a, b)                                                                      \
  do {                                                                                 \
    double best = 1e9;                                                                 \
    for (int r = 0; r < 7; r++) {                                                      \
      double t = now_s();                                                              \
      for (long i = 0; i < trips; i++) __asm__ volatile(PAIR(a, b) ::: CLOBBERS);      \
      t = now_s() - t;                                                                 \
      if (t < best) best = t;                                                          \
    }                                                                                  \
    double g = (double)trips * 24 / best / 1e9;                                        \
    printf("%-10s + %-10s %6.2f G/s  %5.2f per cycle\n", a, b, g, g / ghz);           \
  } while (0)

int main(int argc, char **argv) {
  const long trips = 5000000;
  const double ghz = argc > 1 ? atof(argv[1]) : 4.29;
  __asm__ volatile("vpxord %%zmm16, %%zmm16, %%zmm16\n vpxord %%zmm17, %%zmm17, %%zmm17" ::: "xmm16", "xmm17");
  RUN("vpaddq", "vpaddq");
  RUN("vpdpbusd", "vpdpbusd");
  RUN("vpmuldq", "vpmuldq");
  RUN("vpsravq", "vpsravq");
  RUN("vpshufb", "vpshufb");
  RUN("vpermd", "vpermd");
  RUN("vpermb", "vpermb");
  RUN("vpermt2b", "vpermt2b");
  RUN("vpackssdw", "vpackssdw");
  RUN("vpunpcklbw", "vpunpcklbw");
  RUN("vpdpbusd", "vpmuldq");
  RUN("vpdpbusd", "vpsravq");
  RUN("vpdpbusd", "vpshufb");
  RUN("vpdpbusd", "vpaddq");
  RUN("vpdpbusd", "vpunpcklbw");
  RUN("vpmuldq", "vpsravq");
  RUN("vpmuldq", "vpshufb");
  RUN("vpsravq", "vpshufb");
  return 0;
}
