/*
 * bench_cnnrt — time cnn_run() through libcnnrt's C API (used by `make bench`).
 *
 *   bench_cnnrt MODEL.cnnrt [-w WARMUP] [-n ITERATIONS] [-i INPUTS.bin]
 *               [-o OUTPUTS.bin] [-l LOADS] [--json]
 *
 * INPUTS.bin holds K samples back to back (one sample = every model input, in
 * order, raw int8); timed iteration k runs on sample k mod K (cnn_set_input is
 * outside the timed region). Without -i, one seeded pseudo-random sample is
 * used. The arena is caller memory (cnn_context_init), as an embedded user
 * would have it. Each timed iteration is one cnn_run() bracketed by
 * clock_gettime(CLOCK_MONOTONIC); per-op times come from
 * cnn_context_op_time_ns() after each run.
 *
 * -l times LOADS loads first: cnn_model_load_memory() on the file's bytes,
 * already in memory (the checksum, validation, planning and weight packing
 * for the kernel path; no file I/O), then cnn_model_free(); the median is
 * printed ("load median", JSON "load_median_ns").
 *
 * -o writes, after the timing, every output of every sample (each sample run
 * once more, in order), for the bit-exactness check against TFLM.
 *
 * Text output: median/min/max and a per-op table. --json: every iteration's
 * time and the per-op medians, for tools/bench/run_bench.py. Both name the
 * kernel path the model was prepared for (cnn_model_kernel_path: the CPU's
 * best, capped by CNNRT_ISA), so a run asked for a path the CPU lacks shows
 * the path that actually ran.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnnrt.h"

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Median of n values (sorts a copy; mean of the middle two for even n). */
static double median_u64(const uint64_t *v, size_t n, uint64_t *scratch) {
  if (n == 0) return 0;
  memcpy(scratch, v, n * sizeof *v);
  qsort(scratch, n, sizeof *scratch, cmp_u64);
  return n % 2 ? (double)scratch[n / 2] : 0.5 * ((double)scratch[n / 2 - 1] + (double)scratch[n / 2]);
}

static void usage(const char *argv0) {
  fprintf(stderr, "usage: %s MODEL.cnnrt [-w WARMUP] [-n ITERATIONS] [-i INPUTS.bin] [-o OUTPUTS.bin] [-l LOADS] [--json]\n",
          argv0);
  exit(2);
}

int main(int argc, char **argv) {
  const char *model_path = NULL, *inputs_path = NULL, *outputs_path = NULL;
  long warmup = 3, iters = 20, loads = 0;
  int json = 0;
  for (int a = 1; a < argc; a++) {
    if (!strcmp(argv[a], "-w") && a + 1 < argc) warmup = atol(argv[++a]);
    else if (!strcmp(argv[a], "-n") && a + 1 < argc) iters = atol(argv[++a]);
    else if (!strcmp(argv[a], "-i") && a + 1 < argc) inputs_path = argv[++a];
    else if (!strcmp(argv[a], "-o") && a + 1 < argc) outputs_path = argv[++a];
    else if (!strcmp(argv[a], "-l") && a + 1 < argc) loads = atol(argv[++a]);
    else if (!strcmp(argv[a], "--json")) json = 1;
    else if (argv[a][0] == '-' || model_path) usage(argv[0]);
    else model_path = argv[a];
  }
  if (!model_path || warmup < 0 || iters < 1 || loads < 0) usage(argv[0]);

  char why[256] = "";
  double load_med = 0;
  if (loads > 0) {
    FILE *f = fopen(model_path, "rb");
    if (!f) { fprintf(stderr, "%s: cannot open\n", model_path); return 2; }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *bytes = len > 0 ? aligned_alloc(64, ((size_t)len + 63) / 64 * 64) : NULL;
    if (!bytes || fread(bytes, 1, (size_t)len, f) != (size_t)len) { fprintf(stderr, "%s: read error\n", model_path); return 2; }
    fclose(f);
    uint64_t *lt = calloc((size_t)loads, sizeof *lt), *ls = calloc((size_t)loads, sizeof *ls);
    if (!lt || !ls) { fprintf(stderr, "out of memory\n"); return 1; }
    for (long i = 0; i < loads; i++) {
      cnn_model *m = NULL;
      uint64_t t0 = now_ns();
      cnn_status ls_st = cnn_model_load_memory(bytes, (size_t)len, &m, why, sizeof why);
      uint64_t t1 = now_ns();
      if (ls_st != CNN_STATUS_OK) { fprintf(stderr, "%s: %s: %s\n", model_path, cnn_status_string(ls_st), why); return 3; }
      cnn_model_free(m);
      lt[i] = t1 - t0;
    }
    load_med = median_u64(lt, (size_t)loads, ls);
    free(lt);
    free(ls);
    free(bytes);
  }
  cnn_model *model = NULL;
  cnn_status st = cnn_model_load_file(model_path, &model, why, sizeof why);
  if (st != CNN_STATUS_OK) {
    fprintf(stderr, "%s: %s: %s\n", model_path, cnn_status_string(st), why);
    return 3;
  }
  size_t arena_size = 0;
  cnn_context_arena_size(model, &arena_size);
  void *arena = aligned_alloc(64, (arena_size + 63) / 64 * 64);
  cnn_context *ctx = NULL;
  if (!arena || (st = cnn_context_init(model, arena, arena_size, &ctx)) != CNN_STATUS_OK) {
    fprintf(stderr, "context: %s\n", arena ? cnn_status_string(st) : "out of memory");
    return 3;
  }

  /* Inputs: K samples of `per` bytes. */
  int n_in = cnn_model_input_count(model), n_out = cnn_model_output_count(model);
  size_t per = 0;
  for (int i = 0; i < n_in; i++) {
    cnn_tensor_info ti;
    cnn_model_input_info(model, i, &ti);
    per += ti.byte_size;
  }
  size_t k_samples = 1;
  int8_t *samples = NULL;
  if (inputs_path) {
    FILE *f = fopen(inputs_path, "rb");
    if (!f) { fprintf(stderr, "%s: cannot open\n", inputs_path); return 2; }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (len <= 0 || per == 0 || (size_t)len % per) {
      fprintf(stderr, "%s: %ld bytes, not a positive multiple of %zu per sample\n", inputs_path, len, per);
      return 2;
    }
    k_samples = (size_t)len / per;
    samples = malloc((size_t)len);
    if (!samples || fread(samples, 1, (size_t)len, f) != (size_t)len) { fprintf(stderr, "%s: read error\n", inputs_path); return 2; }
    fclose(f);
  } else {
    samples = malloc(per ? per : 1);
    uint64_t s = 0x9E3779B97F4A7C15u;  /* xorshift64*, fixed seed */
    for (size_t j = 0; j < per; j++) {
      s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
      samples[j] = (int8_t)(uint8_t)((s * 0x2545F4914F6CDD1Du) >> 56);
    }
  }
#define SET_SAMPLE(k)                                                          \
  do {                                                                         \
    const int8_t *p_ = samples + ((size_t)(k) % k_samples) * per;              \
    for (int i_ = 0; i_ < n_in; i_++) {                                        \
      cnn_tensor_info ti_;                                                     \
      cnn_model_input_info(model, i_, &ti_);                                   \
      if (cnn_set_input(ctx, i_, p_, ti_.byte_size) != CNN_STATUS_OK) {        \
        fprintf(stderr, "cnn_set_input failed\n");                             \
        return 1;                                                              \
      }                                                                        \
      p_ += ti_.byte_size;                                                     \
    }                                                                          \
  } while (0)

  int n_ops = cnn_model_op_count(model);
  uint64_t *times = calloc((size_t)iters, sizeof *times);
  uint64_t *op_times = calloc((size_t)iters * (size_t)(n_ops > 0 ? n_ops : 1), sizeof *op_times);
  uint64_t *scratch = calloc((size_t)iters, sizeof *scratch);
  uint64_t *column = calloc((size_t)iters, sizeof *column);
  if (!times || !op_times || !scratch || !column) { fprintf(stderr, "out of memory\n"); return 1; }

  for (long w = 0; w < warmup; w++) {
    SET_SAMPLE(w);
    if ((st = cnn_run(ctx)) != CNN_STATUS_OK) { fprintf(stderr, "cnn_run: %s\n", cnn_status_string(st)); return 1; }
  }
  for (long it = 0; it < iters; it++) {
    SET_SAMPLE(it);
    uint64_t t0 = now_ns();
    st = cnn_run(ctx);
    uint64_t t1 = now_ns();
    if (st != CNN_STATUS_OK) { fprintf(stderr, "cnn_run: %s\n", cnn_status_string(st)); return 1; }
    times[it] = t1 - t0;
    for (int o = 0; o < n_ops; o++) cnn_context_op_time_ns(ctx, o, &op_times[(size_t)it * (size_t)n_ops + (size_t)o]);
  }

  if (outputs_path) {
    FILE *f = fopen(outputs_path, "wb");
    if (!f) { fprintf(stderr, "%s: cannot create\n", outputs_path); return 2; }
    for (size_t k = 0; k < k_samples; k++) {
      SET_SAMPLE(k);
      if ((st = cnn_run(ctx)) != CNN_STATUS_OK) { fprintf(stderr, "cnn_run: %s\n", cnn_status_string(st)); return 1; }
      for (int o = 0; o < n_out; o++) {
        const int8_t *data = NULL;
        size_t count = 0;
        cnn_output_raw(ctx, o, &data, &count);
        fwrite(data, 1, count, f);
      }
    }
    fclose(f);
  }

  double med = median_u64(times, (size_t)iters, scratch);
  uint64_t mn = scratch[0], mx = scratch[iters - 1];
  int64_t total_macs = 0;
  if (json) {
    printf("{\"library\": \"%s\", \"kernel_path\": \"%s\", \"warmup\": %ld, \"iterations\": %ld, "
           "\"samples\": %zu,\n", cnn_version_string(), cnn_model_kernel_path(model), warmup, iters, k_samples);
    printf(" \"arena_bytes\": %zu, \"activation_bytes\": %zu, \"median_ns\": %.1f,\n", arena_size,
           cnn_model_activation_bytes(model), med);
    if (loads > 0) printf(" \"loads\": %ld, \"load_median_ns\": %.1f,\n", loads, load_med);
    printf(" \"times_ns\": [");
    for (long it = 0; it < iters; it++) printf("%s%llu", it ? ", " : "", (unsigned long long)times[it]);
    printf("],\n \"ops\": [");
  } else {
    printf("%s: %ld timed runs after %ld warm-up, %zu input sample(s), arena %zu bytes, %s kernel path\n", model_path,
           iters, warmup, k_samples, arena_size, cnn_model_kernel_path(model));
    if (loads > 0) printf("load median %.3f ms over %ld loads (from memory)\n", load_med / 1e6, loads);
    printf("  %4s  %-22s %14s %12s %6s %8s\n", "#", "type", "MACs", "median us", "%", "GOPS");
  }
  double op_sum = 0;
  double *op_med = calloc((size_t)(n_ops > 0 ? n_ops : 1), sizeof *op_med);
  for (int o = 0; o < n_ops; o++) {
    for (long it = 0; it < iters; it++) column[it] = op_times[(size_t)it * (size_t)n_ops + (size_t)o];
    op_med[o] = median_u64(column, (size_t)iters, scratch);
    op_sum += op_med[o];
  }
  for (int o = 0; o < n_ops; o++) {
    cnn_op_info oi;
    cnn_model_op_info(model, o, &oi);
    total_macs += oi.macs;
    if (json) {
      printf("%s\n  {\"index\": %d, \"type\": \"%s\", \"macs\": %lld, \"median_ns\": %.1f}", o ? "," : "", o,
             oi.type_name, (long long)oi.macs, op_med[o]);
    } else {
      printf("  %4d  %-22s %14lld %12.1f %6.1f %8.2f\n", o, oi.type_name, (long long)oi.macs, op_med[o] / 1e3,
             op_sum > 0 ? 100.0 * op_med[o] / op_sum : 0.0, op_med[o] > 0 ? 2.0 * (double)oi.macs / op_med[o] : 0.0);
    }
  }
  if (json) {
    printf("\n ], \"total_macs\": %lld}\n", (long long)total_macs);
  } else {
    printf("median %.3f ms (min %.3f, max %.3f), %lld MACs, %.2f GOPS\n", med / 1e6, (double)mn / 1e6,
           (double)mx / 1e6, (long long)total_macs, med > 0 ? 2.0 * (double)total_macs / med : 0.0);
  }
  free(op_med);
  free(column);
  free(scratch);
  free(op_times);
  free(times);
  free(samples);
  cnn_context_free(ctx);
  cnn_model_free(model);
  free(arena);
  return 0;
}
