/* cnnrt on a microcontroller: bare-metal firmware test (QEMU mps2-an386,
 * Cortex-M4F; the same source builds for Cortex-M0+).
 *
 * Embeds three models exported with `cnnrt export-c` (MNIST, MLPerf Tiny
 * ResNet-8 and DS-CNN) and their golden data (goldens.S), loads each model
 * in place from flash with cnn_model_load_static and runs it in a static
 * arena with cnn_context_init: no heap, no file system. Then:
 *   - ResNet-8 and DS-CNN: every embedded input sample through cnn_run,
 *     every output byte compared with TensorFlow Lite Micro's;
 *   - every other TFLM golden case (tools/mcu/golden_suite.py: the single-op
 *     cases of every op family and the zoo nets, up to 3 samples each),
 *     every output byte compared with TFLM's;
 *   - MNIST: cnn_classify on the sample digit images, the raw output bytes
 *     compared with the host (x86-64) library's and the class with the digit
 *     in the image's name;
 *   - truncated, corrupt and misaligned models and the heap/file entry points:
 *     each must be refused with a status (a fault ends the test with exit 3);
 *   - figures: arena, model block, peak stack (painted), instructions per
 *     inference (SysTick under `qemu-system-arm -icount shift=0`).
 * With -DFW_RESNET8_OPS_ONLY (make firmware-ops-test: the library built with
 * only ResNet-8's ops, OPS=RESNET8_OPS, the least flash for that model) it
 * runs ResNet-8's goldens through cnn_run and cnn_classify instead, and checks
 * that MNIST and DS-CNN, which need ops left out, are refused at load.
 * Reports over semihosting; exit status 0 only when everything matched. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "cnnrt.h"
#include "dscnn_model.h"
#include "mnist_model.h"
#include "resnet8_model.h"

extern const uint8_t resnet8_inputs[], resnet8_inputs_end[], resnet8_outputs[], resnet8_outputs_end[];
extern const uint8_t dscnn_inputs[], dscnn_inputs_end[], dscnn_outputs[], dscnn_outputs_end[];
extern const uint8_t mnist_pixels[], mnist_pixels_end[], mnist_outputs[], mnist_outputs_end[];
extern const uint8_t mnist_classes[], mnist_classes_end[];

/* Samples per MLPerf model (0 = all in the golden files). */
#ifndef FW_SAMPLES
#define FW_SAMPLES 0
#endif

#define MAX3(a, b, c) ((a) > (b) ? ((a) > (c) ? (a) : (c)) : ((b) > (c) ? (b) : (c)))
static _Alignas(16) uint8_t model_mem[MAX3(MNIST_MODEL_MEMORY_BYTES, RESNET8_MODEL_MEMORY_BYTES, DSCNN_MODEL_MEMORY_BYTES)];
static _Alignas(16) uint8_t arena[MAX3(MNIST_ARENA_BYTES, RESNET8_ARENA_BYTES, DSCNN_ARENA_BYTES)];
#ifndef FW_RESNET8_OPS_ONLY
/* A RAM copy of the MNIST model for the corruption tests (+16: a misaligned copy). */
static _Alignas(16) uint8_t scratch[MNIST_MODEL_SIZE + 16];
#endif

static int failures;
static size_t block_used; /* cnn_model_memory_size() of the model loaded last */

/* ---- output ---------------------------------------------------------------- */
static void put_u(uint64_t v) {
  char buf[24];
  int i = (int)sizeof buf - 1;
  buf[i] = 0;
  do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v && i > 0);
  board_puts(&buf[i]);
}
#ifndef FW_RESNET8_OPS_ONLY
static void put_i(int64_t v) {
  if (v < 0) { board_puts("-"); put_u((uint64_t)(-(v + 1)) + 1u); } else put_u((uint64_t)v);
}
#endif
static void put_kv(const char *k, uint64_t v, const char *unit) {
  board_puts(k); put_u(v); board_puts(unit);
}
static void fail(const char *what, const char *detail) {
  failures++;
  board_puts("FAIL: "); board_puts(what);
  if (detail) { board_puts(": "); board_puts(detail); }
  board_puts("\n");
}

/* ---- loading ---------------------------------------------------------------- */
typedef struct {
  const char *name;
  const uint8_t *data;
  size_t size, block_bytes, arena_bytes;
} embedded_model;

/* Loads `m` from flash into the static block and arena; NULL context on failure. */
static cnn_context *load(const embedded_model *m, cnn_model **out_model) {
  char why[128] = "";
  /* The header's block size is the 64-bit host's portable-path figure: an
   * upper bound here (32-bit pointers make the block smaller). */
  size_t need = 0;
  cnn_status st = cnn_model_memory_size(m->data, m->size, &need);
  if (st != CNN_STATUS_OK || need > m->block_bytes) { fail(m->name, "model block larger than the header's"); return NULL; }
  block_used = need;
  st = cnn_model_load_static(m->data, m->size, model_mem, sizeof model_mem, out_model, why, sizeof why);
  if (st != CNN_STATUS_OK) { fail(m->name, why); return NULL; }
  size_t arena_need = 0;
  cnn_context_arena_size(*out_model, &arena_need);
  if (arena_need != m->arena_bytes) { fail(m->name, "arena size differs from the header's"); return NULL; }
  cnn_context *ctx = NULL;
  st = cnn_context_init(*out_model, arena, sizeof arena, &ctx);
  if (st != CNN_STATUS_OK) { fail(m->name, cnn_status_string(st)); return NULL; }
  return ctx;
}

static void report_memory(const embedded_model *m) {
  put_kv("  model array ", m->size, " B (flash)");
  put_kv(", model block ", block_used, " B");
  put_kv(", arena ", m->arena_bytes, " B (RAM)");
  put_kv(", peak stack ", board_stack_used(), " B\n");
}

/* ---- where the instructions go: one inference with an op observer ----------- */
#define FW_MAX_OPS 64
typedef struct {
  uint64_t last;
  uint64_t ticks[FW_MAX_OPS];
} op_profile;

static void on_op(void *user, int32_t op, const int8_t *output, size_t count) {
  (void)output; (void)count;
  op_profile *p = (op_profile *)user;
  uint64_t now = board_ticks();
  if (op >= 0 && op < FW_MAX_OPS) p->ticks[op] = now - p->last;
  p->last = board_ticks();
}

/* Runs the loaded input once more with the observer installed and prints,
 * per op type, the instructions its ops took (ticks between the observer's
 * calls; the observer's own few instructions are outside the intervals). */
static void profile_ops(cnn_model *model, cnn_context *ctx, const char *name) {
  static op_profile prof;
  memset(&prof, 0, sizeof prof);
  int32_t n = cnn_model_op_count(model);
  if (n > FW_MAX_OPS) return;
  cnn_context_set_op_observer(ctx, on_op, &prof);
  board_ticks_start();
  prof.last = 0; /* (SysTick's value reads as the reload value until its first tick) */
  cnn_status st = cnn_run(ctx);
  cnn_context_set_op_observer(ctx, NULL, NULL);
  if (st != CNN_STATUS_OK) { fail(name, cnn_status_string(st)); return; }
  uint64_t total = 0;
  for (int32_t i = 0; i < n; i++) total += prof.ticks[i];
  for (int32_t i = 0; i < n; i++) {
    cnn_op_info info;
    cnn_model_op_info(model, i, &info);
    int seen = 0;
    for (int32_t j = 0; j < i && !seen; j++) {
      cnn_op_info prior;
      cnn_model_op_info(model, j, &prior);
      seen = strcmp(prior.type_name, info.type_name) == 0;
    }
    if (seen) continue;
    uint64_t ticks = 0, macs = 0;
    int32_t ops = 0;
    for (int32_t j = i; j < n; j++) {
      cnn_op_info other;
      cnn_model_op_info(model, j, &other);
      if (strcmp(other.type_name, info.type_name) != 0) continue;
      ticks += prof.ticks[j];
      macs += (uint64_t)other.macs;
      ops++;
    }
    board_puts("  op "); board_puts(name); board_puts(" "); board_puts(info.type_name);
    put_kv(": ", (uint64_t)ops, " ops, ");
    put_kv("instructions ", ticks * BOARD_INSTRUCTIONS_PER_TICK, ", ");
    put_kv("MACs ", macs, ", per mille of the inference ");
    put_u(total ? ticks * 1000u / total : 0);
    board_puts("\n");
  }
}

/* ---- MLPerf Tiny: every embedded sample vs TFLM ------------------------------ */
static void run_golden(const embedded_model *m, const uint8_t *in, const uint8_t *in_end,
                       const uint8_t *out, const uint8_t *out_end, uint64_t macs) {
  board_paint_stack();
  cnn_model *model = NULL;
  cnn_context *ctx = load(m, &model);
  if (!ctx) return;
  int8_t *input = NULL;
  size_t in_bytes = 0, out_count = 0;
  const int8_t *output = NULL;
  cnn_input_buffer(ctx, 0, &input, &in_bytes);
  cnn_tensor_info oi;
  cnn_model_output_info(model, 0, &oi);
  size_t out_bytes = oi.byte_size;
  size_t total = (size_t)(in_end - in) / in_bytes;
  if (total * in_bytes != (size_t)(in_end - in) || total * out_bytes != (size_t)(out_end - out)) {
    fail(m->name, "golden files do not match the model's input/output sizes");
    return;
  }
  size_t n = FW_SAMPLES > 0 && FW_SAMPLES < total ? FW_SAMPLES : total;
  uint64_t differ = 0, first_ticks = 0;
  for (size_t s = 0; s < n; s++) {
    memcpy(input, in + s * in_bytes, in_bytes);
    board_ticks_start();
    cnn_status st = cnn_run(ctx);
    uint64_t t = board_ticks();
    if (s == 0) first_ticks = t;
    if (st != CNN_STATUS_OK) { fail(m->name, cnn_status_string(st)); return; }
    cnn_output_raw(ctx, 0, &output, &out_count);
    const uint8_t *want = out + s * out_bytes;
    for (size_t i = 0; i < out_bytes; i++) differ += (uint8_t)output[i] != want[i];
  }
  board_puts(m->name);
  put_kv(": ", n, " of ");
  put_u(total);
  put_kv(" golden samples run, ", differ, " of ");
  put_u((uint64_t)n * out_bytes);
  board_puts(" output bytes differ from TFLM");
  board_puts(differ ? "  MISMATCH\n" : "\n");
  if (differ) failures++;
  uint64_t insns = first_ticks * BOARD_INSTRUCTIONS_PER_TICK;
  put_kv("  instructions per inference ", insns, " (qemu -icount shift=0; not cycles), ");
  put_kv("MACs ", macs, ", MACs per 1000 instructions ");
  put_u(insns ? macs * 1000u / insns : 0);
  board_puts("\n");
  report_memory(m);
  profile_ops(model, ctx, m->name);
  cnn_context_free(ctx);
  cnn_model_free(model);
}

#ifndef FW_RESNET8_OPS_ONLY
/* ---- MNIST: cnn_classify on the sample images vs the host library ------------ */
static void run_mnist(const embedded_model *m) {
  board_paint_stack();
  cnn_model *model = NULL;
  cnn_context *ctx = load(m, &model);
  if (!ctx) return;
  const size_t img = 28 * 28;
  size_t n = (size_t)(mnist_pixels_end - mnist_pixels) / img;
  if (n == 0 || n * MNIST_OUTPUT0_BYTES != (size_t)(mnist_outputs_end - mnist_outputs) ||
      n != (size_t)(mnist_classes_end - mnist_classes)) {
    fail("mnist", "embedded images and expected outputs do not match");
    return;
  }
  uint64_t differ = 0, wrong = 0, first_ticks = 0;
  for (size_t s = 0; s < n; s++) {
    cnn_classification top;
    float probs[10];
    board_ticks_start();
    cnn_status st = cnn_classify(ctx, mnist_pixels + s * img, 28, 28, 1, 0, &top, probs, 10);
    uint64_t t = board_ticks();
    if (s == 0) first_ticks = t;
    if (st != CNN_STATUS_OK) { fail("mnist cnn_classify", cnn_status_string(st)); return; }
    const int8_t *output = NULL;
    size_t count = 0;
    cnn_output_raw(ctx, 0, &output, &count);
    for (size_t i = 0; i < MNIST_OUTPUT0_BYTES; i++) differ += (uint8_t)output[i] != mnist_outputs[s * MNIST_OUTPUT0_BYTES + i];
    if (top.class_index != (int32_t)mnist_classes[s]) wrong++;
    if (s == 0) {
      put_kv("mnist: cnn_classify(image 0) = class ", (uint64_t)top.class_index, " \"");
      board_puts(top.label ? top.label : "");
      put_kv("\", expected ", mnist_classes[0], top.class_index == (int32_t)mnist_classes[0] ? " ok\n" : "  MISMATCH\n");
    }
  }
  put_kv("mnist: ", n, " images classified, ");
  put_u(wrong);
  put_kv(" with a class other than the digit in their name, ", differ, " of ");
  put_u((uint64_t)n * MNIST_OUTPUT0_BYTES);
  board_puts(" output bytes differ from the x86-64 library");
  board_puts(differ || wrong ? "  MISMATCH\n" : "\n");
  if (differ || wrong) failures++;
  uint64_t insns = first_ticks * BOARD_INSTRUCTIONS_PER_TICK;
  put_kv("  instructions per cnn_classify ", insns, " (qemu -icount shift=0; not cycles), ");
  put_kv("MACs ", MNIST_MACS, ", MACs per 1000 instructions ");
  put_u(insns ? (uint64_t)MNIST_MACS * 1000u / insns : 0);
  board_puts("\n");
  report_memory(m);
  cnn_context_free(ctx);
  cnn_model_free(model);
}

/* ---- every TFLM golden case (suite.S, tools/mcu/golden_suite.py) ------------- */
typedef struct {
  const char *name;
  const uint8_t *model;
  uint32_t model_size;
  const uint8_t *inputs, *outputs;
  uint32_t samples;
} golden_case;
extern const golden_case golden_suite[];
extern const uint32_t golden_suite_count;
static _Alignas(16) uint8_t suite_block[256 * 1024];
static _Alignas(16) uint8_t suite_arena[512 * 1024];

/* Each case's samples through cnn_run: the single-op cases of every op family
 * (odd shapes, strides, dilations, zero points, broadcasts) and the zoo nets,
 * every output byte compared with TFLM's. */
static void run_golden_suite(void) {
  uint32_t samples = 0, bad_cases = 0;
  uint64_t bytes = 0, differ = 0;
  for (uint32_t c = 0; c < golden_suite_count; c++) {
    const golden_case *g = &golden_suite[c];
    cnn_model *model = NULL;
    cnn_context *ctx = NULL;
    char why[128] = "";
    if (cnn_model_load_static(g->model, g->model_size, suite_block, sizeof suite_block, &model, why, sizeof why) !=
        CNN_STATUS_OK) {
      fail(g->name, why);
      continue;
    }
    cnn_status st = cnn_context_init(model, suite_arena, sizeof suite_arena, &ctx);
    if (st != CNN_STATUS_OK) { fail(g->name, cnn_status_string(st)); cnn_model_free(model); continue; }
    const uint8_t *x = g->inputs, *want = g->outputs;
    uint64_t case_differ = 0;
    for (uint32_t s = 0; s < g->samples; s++) {
      for (int32_t k = 0; k < cnn_model_input_count(model); k++) {
        cnn_tensor_info info;
        cnn_model_input_info(model, k, &info);
        cnn_set_input(ctx, k, (const int8_t *)x, info.byte_size);
        x += info.byte_size;
      }
      st = cnn_run(ctx);
      if (st != CNN_STATUS_OK) { fail(g->name, cnn_status_string(st)); break; }
      for (int32_t k = 0; k < cnn_model_output_count(model); k++) {
        const int8_t *got = NULL;
        size_t n = 0;
        cnn_output_raw(ctx, k, &got, &n);
        for (size_t i = 0; i < n; i++) case_differ += (uint8_t)got[i] != want[i];
        want += n;
        bytes += n;
      }
      samples++;
    }
    if (case_differ) {
      bad_cases++;
      put_kv("  ", case_differ, " bytes differ from TFLM in ");
      board_puts(g->name);
      board_puts("  MISMATCH\n");
    }
    differ += case_differ;
    cnn_context_free(ctx);
    cnn_model_free(model);
  }
  put_kv("golden suite: ", golden_suite_count, " TFLM cases, ");
  put_kv("", samples, " samples, ");
  put_kv("", differ, " of ");
  put_u(bytes);
  board_puts(" output bytes differ from TFLM");
  board_puts(differ || bad_cases ? "  MISMATCH\n" : "\n");
  if (differ) failures++;
}

/* ---- bad models: a status, never a fault ------------------------------------- */
static void expect_refused(const char *what, const void *data, size_t size) {
  cnn_model *model = (cnn_model *)(uintptr_t)1;
  char why[128] = "";
  cnn_status st = cnn_model_load_static(data, size, model_mem, sizeof model_mem, &model, why, sizeof why);
  board_puts("  "); board_puts(what); board_puts(": ");
  board_puts(cnn_status_string(st));
  board_puts(" (");
  put_i(st);
  board_puts(")");
  if (st == CNN_STATUS_OK || model != NULL) { board_puts("  NOT REFUSED\n"); failures++; return; }
  board_puts("\n");
}

static void run_bad_models(void) {
  board_puts("bad models (each must be refused with a status):\n");
  const size_t n = MNIST_MODEL_SIZE;
  expect_refused("truncated to 0 bytes", mnist_model, 0);
  expect_refused("truncated to 16 bytes", mnist_model, 16);
  expect_refused("truncated to 63 bytes", mnist_model, 63);
  expect_refused("truncated to half", mnist_model, n / 2);
  expect_refused("truncated by 1 byte", mnist_model, n - 1);
  memcpy(scratch, mnist_model, n);
  scratch[0] ^= 0xFF;
  expect_refused("corrupt magic", scratch, n);
  memcpy(scratch, mnist_model, n);
  scratch[8] = 0x7F;
  expect_refused("unknown format version", scratch, n);
  memcpy(scratch, mnist_model, n);
  scratch[n / 2] ^= 0x01;
  expect_refused("one bit flipped mid-file", scratch, n);
  memcpy(scratch, mnist_model, n);
  scratch[n - 1] ^= 0x80;
  expect_refused("last byte flipped", scratch, n);
  memcpy(scratch + 4, mnist_model, n);
  expect_refused("misaligned (address % 16 == 4)", scratch + 4, n);
  /* The heap and file-system entry points exist but have nothing to use here. */
  cnn_model *model = NULL;
  cnn_status st = cnn_model_load_file("mnist.cnnrt", &model, NULL, 0);
  board_puts("  cnn_model_load_file (no file system): "); board_puts(cnn_status_string(st));
  board_puts(st == CNN_STATUS_IO_ERROR && !model ? "\n" : "  UNEXPECTED\n");
  if (st != CNN_STATUS_IO_ERROR || model) failures++;
  st = cnn_model_load_memory(mnist_model, n, &model, NULL, 0);
  board_puts("  cnn_model_load_memory (no heap): "); board_puts(cnn_status_string(st));
  board_puts(st == CNN_STATUS_OUT_OF_MEMORY && !model ? "\n" : "  UNEXPECTED\n");
  if (st != CNN_STATUS_OUT_OF_MEMORY || model) failures++;
}

/* CRC-32 (IEEE), bitwise: the model checksum (docs/FORMAT.md: CRC-32 of bytes
 * [20, size) stored at offset 16). */
static uint32_t crc32(const uint8_t *p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++) crc = (crc & 1u) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return crc ^ 0xFFFFFFFFu;
}

/* Mutated models with the checksum recomputed, so that the loader's
 * structural checks (shapes, offsets, op parameters: 32-bit arithmetic here)
 * see them: each must load or be refused, and a loaded one must run, without
 * a fault. Deterministic (xorshift32, fixed seed). */
#ifndef FW_MUTATIONS
#define FW_MUTATIONS 300
#endif
static void run_mutations(void) {
  const size_t n = MNIST_MODEL_SIZE;
  uint32_t x = 20261204u, loaded = 0, refused = 0;
  for (int i = 0; i < FW_MUTATIONS; i++) {
    memcpy(scratch, mnist_model, n);
    for (int k = 0; k < 1 + (i % 3); k++) {
      x ^= x << 13; x ^= x >> 17; x ^= x << 5;
      /* Mostly the header and tables at the front; never the size or the checksum. */
      size_t pos = (x >> 8) % ((x & 3u) ? 4096u : n);
      if (pos >= 12 && pos < 20) pos += 8;
      const uint8_t values[4] = {0xFF, 0x80, 0x00, (uint8_t)(x >> 24)};
      scratch[pos] = (x & 4u) ? values[(x >> 3) & 3u] : (uint8_t)(scratch[pos] ^ (1u << ((x >> 5) & 7u)));
    }
    uint32_t crc = crc32(scratch + 20, n - 20);
    for (int b = 0; b < 4; b++) scratch[16 + b] = (uint8_t)(crc >> (8 * b));
    cnn_model *model = NULL;
#ifdef FW_TRACE_MUTATIONS
    put_kv("  mutation ", (uint64_t)i, "\n");
#endif
    cnn_status st = cnn_model_load_static(scratch, n, model_mem, sizeof model_mem, &model, NULL, 0);
    if (st != CNN_STATUS_OK) { refused++; continue; }
    loaded++;
    size_t need = 0;
    cnn_context *ctx = NULL;
    if (cnn_context_arena_size(model, &need) == CNN_STATUS_OK && need <= sizeof arena &&
        cnn_context_init(model, arena, sizeof arena, &ctx) == CNN_STATUS_OK) {
      cnn_run(ctx);
    }
    cnn_model_free(model);
  }
  put_kv("mutated models (checksum fixed): ", (uint64_t)FW_MUTATIONS, " tried, ");
  put_kv("", loaded, " loaded and ran, ");
  put_kv("", refused, " refused with a status, 0 faults\n");
}

#endif /* !FW_RESNET8_OPS_ONLY */

#ifdef FW_RESNET8_OPS_ONLY
/* ---- a library with only ResNet-8's ops -------------------------------------- */
/* cnn_classify on golden sample 0 as an image: the imported model has no
 * pixel normalization and input scale 1, zero point -128, so the pixels
 * (int8 input + 128) quantize back to the very input bytes, and the output
 * must equal TFLM's. */
static void run_classify_resnet8(const embedded_model *m) {
  static uint8_t pixels[RESNET8_INPUT0_BYTES];
  cnn_model *model = NULL;
  cnn_context *ctx = load(m, &model);
  if (!ctx) return;
  for (size_t i = 0; i < sizeof pixels; i++) pixels[i] = (uint8_t)(resnet8_inputs[i] + 128u);
  cnn_classification top;
  float probs[10];
  cnn_status st = cnn_classify(ctx, pixels, 32, 32, 3, 0, &top, probs, 10);
  if (st != CNN_STATUS_OK) { fail("resnet8 cnn_classify", cnn_status_string(st)); return; }
  const int8_t *output = NULL;
  size_t count = 0, differ = 0;
  cnn_output_raw(ctx, 0, &output, &count);
  int32_t best = 0;
  for (size_t i = 0; i < RESNET8_OUTPUT0_BYTES; i++) {
    differ += (uint8_t)output[i] != resnet8_outputs[i];
    if (output[i] > output[best]) best = (int32_t)i;
  }
  put_kv("resnet8: cnn_classify(golden sample 0 as a 32x32 RGB image) = class ", (uint64_t)top.class_index, "");
  put_kv(", ", differ, " of 10 output bytes differ from TFLM");
  if (differ || top.class_index != best) { board_puts("  MISMATCH\n"); failures++; } else board_puts("\n");
  cnn_context_free(ctx);
  cnn_model_free(model);
}

/* A model that needs an op left out of this build: refused at load, with
 * CNN_STATUS_BAD_OP and a message that says so. */
static void expect_op_not_in_build(const embedded_model *m) {
  cnn_model *model = NULL;
  char why[160] = "";
  cnn_status st = cnn_model_load_static(m->data, m->size, model_mem, sizeof model_mem, &model, why, sizeof why);
  board_puts("  "); board_puts(m->name); board_puts(": "); board_puts(why[0] ? why : cnn_status_string(st));
  if (st != CNN_STATUS_BAD_OP || model != NULL || !strstr(why, "not in this build")) {
    board_puts("  NOT REFUSED AS EXPECTED\n");
    failures++;
    return;
  }
  board_puts("\n");
}
#endif

int main(void) {
  board_puts("cnnrt ");
  board_puts(cnn_version_string());
  board_puts(" bare-metal firmware test (" FW_TARGET ")\n");
  /* The instruction counts assume -icount shift=0 on a 25 MHz SysTick. */
  uint32_t per_tick = board_calibrate();
  put_kv("SysTick calibration: ", per_tick, " instructions per tick (measured on a 2-instruction loop; expected ");
  put_u(BOARD_INSTRUCTIONS_PER_TICK);
  board_puts(per_tick == BOARD_INSTRUCTIONS_PER_TICK ? ")\n" : ": instruction counts below are NOT valid, run under -icount shift=0)\n");
  const embedded_model mnist = {"mnist", mnist_model, MNIST_MODEL_SIZE, MNIST_MODEL_MEMORY_BYTES, MNIST_ARENA_BYTES};
  const embedded_model resnet8 = {"resnet8", resnet8_model, RESNET8_MODEL_SIZE, RESNET8_MODEL_MEMORY_BYTES, RESNET8_ARENA_BYTES};
  const embedded_model dscnn = {"dscnn", dscnn_model, DSCNN_MODEL_SIZE, DSCNN_MODEL_MEMORY_BYTES, DSCNN_ARENA_BYTES};
#ifdef FW_RESNET8_OPS_ONLY
  board_puts("library built with only ResNet-8's ops: OPS=\"" RESNET8_OPS "\"\n");
  run_golden(&resnet8, resnet8_inputs, resnet8_inputs_end, resnet8_outputs, resnet8_outputs_end, RESNET8_MACS);
  run_classify_resnet8(&resnet8);
  board_puts("models that need other ops (each must be refused at load):\n");
  expect_op_not_in_build(&mnist);
  expect_op_not_in_build(&dscnn);
#else
  run_mnist(&mnist);
  run_golden(&resnet8, resnet8_inputs, resnet8_inputs_end, resnet8_outputs, resnet8_outputs_end, RESNET8_MACS);
  run_golden(&dscnn, dscnn_inputs, dscnn_inputs_end, dscnn_outputs, dscnn_outputs_end, DSCNN_MACS);
  run_golden_suite();
  run_bad_models();
  run_mutations();
#endif
  put_kv("static RAM of this firmware: model block pool ", sizeof model_mem, " B");
  put_kv(", arena pool ", sizeof arena, " B");
  put_kv(", stack ", board_stack_size(), " B\n");
  board_puts(failures ? "RESULT: FAIL\n" : "RESULT: PASS (every output byte matched)\n");
  return failures ? 1 : 0;
}
