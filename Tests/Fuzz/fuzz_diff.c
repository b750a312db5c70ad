/* Differential libFuzzer target: one mutated model, every kernel path.
 *
 * Per input: repair the size and CRC fields (as fuzz_load.c does, so
 * mutations reach the structural checks), then load the bytes once per
 * kernel path this CPU has (portable, avx2, avx512 when present; the path is
 * chosen at each load from CNNRT_ISA, capped at what the CPU supports, so a
 * path the CPU lacks is never run). Every load must give the same status.
 * When the model loads and is cheap enough (MAC and arena caps below), each
 * path gets an arena filled with the same byte, the same input bytes
 * (derived from a hash of the fuzz input), one cnn_run, and an op observer
 * that hashes every op's output. Any difference in a load status, an op
 * output or a model output prints the op and the paths and aborts, which
 * libFuzzer reports as a crash (the input is saved as crash-*).
 *
 * Built by `make fuzz` against the runtime sources compiled with
 * -sanitize=fuzzer,address (the ISA kernel objects are linked uninstrumented).
 *
 * Environment:
 *   CNNRT_FUZZ_MAX_MACS   run only models with at most this many MACs
 *                         (default 300000; the load is still differential)
 *   CNNRT_FUZZ_MAX_ARENA  run only models whose context arena is at most this
 *                         many bytes (default 4 MiB)
 *   CNNRT_FUZZ_VERBOSE    print one line per input (paths, status, MACs)
 *
 * The first runs (before the loader bounded requantization) found one class
 * of difference: multipliers of 2^31 or more (left shift above 31), which the
 * portable kernels shifted with Swift's masking `&<<` and the AVX2 ones with
 * vpsllvd (0 past 31). The loader now refuses such models, so every
 * difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnnrt.h"
#include "cnnrt_cpu.h"

enum { MAX_PATHS = 3 };
static const char *const isa_names[MAX_PATHS] = {"portable", "avx2", "avx512"};
static int paths[MAX_PATHS];   /* distinct resolved paths, ascending */
static int path_count;
static uint64_t max_macs = 300000;
static size_t max_arena = (size_t)4 << 20;
static int verbose;
static uint32_t crc_table[256];
static unsigned long long executions, loaded, ran_count; /* for the periodic status line */
static time_t last_status;

static uint64_t fnv1a(const void *p, size_t n, uint64_t h) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
  return h;
}
static uint64_t fnv1a_seed(const void *p, size_t n) { return fnv1a(p, n, 0xCBF29CE484222325ull); }

static uint64_t env_u64(const char *name, uint64_t fallback) {
  const char *s = getenv(name);
  if (!s || !*s) return fallback;
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  return (end && *end == 0) ? (uint64_t)v : fallback;
}

/* libFuzzer ends a timed run without exit handlers: print the counters every
 * 30 s instead (and once at the first input). */
static void maybe_report_status(void) {
  time_t now = time(NULL);
  if (last_status != 0 && now - last_status < 30) return;
  last_status = now;
  fprintf(stderr, "fuzz_diff: status: %llu inputs, %llu loaded, %llu ran on every path, 0 differences\n",
          executions, loaded, ran_count);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  /* Each request is capped at the best path of this CPU: keep the distinct results. */
  for (int r = 0; r < MAX_PATHS; r++) {
    int isa = cnnrt_cpu_resolve_isa(r);
    int seen = 0;
    for (int k = 0; k < path_count; k++) seen |= paths[k] == isa;
    if (!seen) paths[path_count++] = isa;
  }
  max_macs = env_u64("CNNRT_FUZZ_MAX_MACS", max_macs);
  max_arena = (size_t)env_u64("CNNRT_FUZZ_MAX_ARENA", max_arena);
  verbose = getenv("CNNRT_FUZZ_VERBOSE") != NULL;
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  fprintf(stderr, "fuzz_diff: kernel paths:");
  for (int k = 0; k < path_count; k++) fprintf(stderr, " %s", isa_names[paths[k]]);
  fprintf(stderr, "; max MACs %llu, max arena %zu bytes\n", (unsigned long long)max_macs, max_arena);
  return 0;
}


static uint64_t next_random(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* What one path produced. */
typedef struct {
  cnn_model *model;
  cnn_status status;
  char why[160];
  uint8_t *arena;
  uint64_t *op_hash;      /* one per op, from the observer */
  int32_t op_seen;        /* observer calls */
  uint8_t *outputs;       /* every model output, back to back */
  size_t output_bytes;
} path_result;

static void observe(void *user, int32_t op, const int8_t *output, size_t count) {
  path_result *r = user;
  int32_t n = cnn_model_op_count(r->model);
  if (op >= 0 && op < n) r->op_hash[op] = fnv1a(output, count, 0xCBF29CE484222325ull);
  r->op_seen++;
}

static void fail(const char *what, int a, int b, const char *detail) {
  fprintf(stderr, "\nfuzz_diff: PATHS DIFFER: %s (%s vs %s)%s%s\n", what, isa_names[paths[a]], isa_names[paths[b]],
          detail ? ": " : "", detail ? detail : "");
  abort();
}

/* Runs the loaded model of `r` on the shared input; fills op hashes and outputs. */
static int run_path(path_result *r, uint64_t seed) {
  size_t arena_bytes = 0;
  if (cnn_context_arena_size(r->model, &arena_bytes) != CNN_STATUS_OK) return -1;
  size_t alloc = (arena_bytes + 63) / 64 * 64;
  r->arena = aligned_alloc(64, alloc ? alloc : 64);
  memset(r->arena, (int)(seed >> 56), alloc);  /* the same fill on every path */
  cnn_context *ctx = NULL;
  if (cnn_context_init(r->model, r->arena, arena_bytes, &ctx) != CNN_STATUS_OK) return -1;
  int32_t inputs = cnn_model_input_count(r->model);
  for (int32_t i = 0; i < inputs; i++) {
    int8_t *data = NULL;
    size_t n = 0;
    if (cnn_input_buffer(ctx, i, &data, &n) != CNN_STATUS_OK) return -1;
    uint64_t s = seed ^ (uint64_t)i;
    for (size_t k = 0; k < n; k++) data[k] = (int8_t)(next_random(&s) >> 56);
  }
  r->op_hash = calloc((size_t)cnn_model_op_count(r->model) + 1, sizeof *r->op_hash);
  cnn_context_set_op_observer(ctx, observe, r);
  if (cnn_run(ctx) != CNN_STATUS_OK) return -1;
  int32_t outputs = cnn_model_output_count(r->model);
  size_t total = 0;
  for (int32_t i = 0; i < outputs; i++) {
    cnn_tensor_info info;
    if (cnn_model_output_info(r->model, i, &info) != CNN_STATUS_OK) return -1;
    total += info.byte_size;
  }
  r->outputs = malloc(total + 1);
  r->output_bytes = 0;
  for (int32_t i = 0; i < outputs; i++) {
    const int8_t *q = NULL;
    size_t count = 0;
    if (cnn_output_raw(ctx, i, &q, &count) != CNN_STATUS_OK) return -1;
    memcpy(r->outputs + r->output_bytes, q, count);
    r->output_bytes += count;
  }
  cnn_context_free(ctx); /* caller-owned arena: releases nothing */
  return 0;
}

static void release(path_result *r) {
  cnn_model_free(r->model);
  free(r->arena);
  free(r->op_hash);
  free(r->outputs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  uint8_t *buf = aligned_alloc(64, (size + 63) / 64 * 64);
  memcpy(buf, data, size);
  if (size >= 64) {
    uint32_t n = (uint32_t)size, crc = 0xFFFFFFFFu;
    memcpy(buf + 12, &n, 4);
    for (size_t i = 20; i < size; i++) crc = crc_table[(crc ^ buf[i]) & 0xFF] ^ (crc >> 8);
    crc = ~crc;
    memcpy(buf + 16, &crc, 4);
  }

  path_result r[MAX_PATHS];
  memset(r, 0, sizeof r);
  for (int k = 0; k < path_count; k++) {
    setenv("CNNRT_ISA", isa_names[paths[k]], 1);
    r[k].status = cnn_model_load_memory(buf, size, &r[k].model, r[k].why, sizeof r[k].why);
  }
  unsetenv("CNNRT_ISA");
  for (int k = 1; k < path_count; k++) {
    if (r[k].status != r[0].status) {
      char detail[400];
      snprintf(detail, sizeof detail, "load status %d \"%s\" vs %d \"%s\"", r[0].status, r[0].why, r[k].status,
               r[k].why);
      fail("model load", 0, k, detail);
    }
  }

  int ran = 0;
  uint64_t macs = 0;
  if (r[0].status == CNN_STATUS_OK) {
    int32_t ops = cnn_model_op_count(r[0].model);
    for (int32_t i = 0; i < ops; i++) {
      cnn_op_info info;
      if (cnn_model_op_info(r[0].model, i, &info) == CNN_STATUS_OK && info.macs > 0) macs += (uint64_t)info.macs;
    }
    int cheap = macs <= max_macs;
    for (int k = 0; k < path_count && cheap; k++) {
      size_t need = 0;
      cheap = cnn_context_arena_size(r[k].model, &need) == CNN_STATUS_OK && need <= max_arena;
    }
    if (cheap) {
      uint64_t seed = fnv1a_seed(buf, size); /* of the repaired bytes: a saved model reproduces */
      for (int k = 0; k < path_count; k++) {
        if (run_path(&r[k], seed) != 0) fail("context set-up or run failed", 0, k, NULL);
      }
      for (int k = 1; k < path_count; k++) {
        for (int32_t i = 0; i < ops; i++) {
          if (r[k].op_hash[i] != r[0].op_hash[i]) {
            cnn_op_info info;
            char detail[200];
            cnn_model_op_info(r[0].model, i, &info);
            snprintf(detail, sizeof detail, "op %d (%s) is the first op whose output differs", (int)i, info.type_name);
            fail("op output", 0, k, detail);
          }
        }
        if (r[k].op_seen != r[0].op_seen) fail("observer call count", 0, k, NULL);
        if (r[k].output_bytes != r[0].output_bytes) fail("output size", 0, k, NULL);
        for (size_t b = 0; b < r[0].output_bytes; b++) {
          if (r[k].outputs[b] != r[0].outputs[b]) {
            char detail[120];
            snprintf(detail, sizeof detail, "output byte %zu: %d vs %d", b, (int8_t)r[0].outputs[b],
                     (int8_t)r[k].outputs[b]);
            fail("model output", 0, k, detail);
          }
        }
      }
      ran = 1;
    }
  }
  executions++;
  loaded += r[0].status == CNN_STATUS_OK;
  ran_count += ran;
  maybe_report_status();
  if (verbose) {
    fprintf(stderr, "fuzz_diff: %zu bytes, status %d, %llu MACs, %s\n", size, r[0].status, (unsigned long long)macs,
            ran ? "ran on every path" : "load only");
  }
  for (int k = 0; k < path_count; k++) release(&r[k]);
  free(buf);
  return 0;
}
