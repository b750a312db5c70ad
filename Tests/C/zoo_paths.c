/* The slow-tier network zoo (issue #12: the big Keras nets that `make
 * zoo-test` converts to full-int8 TFLite, ResNet50, DenseNet121,
 * InceptionV3, NASNetMobile, EfficientNet-B0, every MobileNet v3, ...) on one
 * kernel path, every op's output compared with the portable path's.
 *
 * The TFLM goldens of these nets hold only the final softmax (10 bytes per
 * sample), which can hide a differing byte in an early layer. Here each
 * model is loaded twice, with CNNRT_ISA=portable (TFLM-exact, as the golden
 * tests show) and with the path under test (the CNNRT_ISA the program was
 * started with); both run every golden input sample with an op observer,
 * and every byte of every op's output must agree. The final outputs are also
 * compared with TFLM's. `make zoo-test` runs it on every path the CPU has and
 * on the AVX-512 path with its instructions emulated (AVX512_EMU=1), so the
 * AVX-512 kernels are checked on these nets on any x86-64 machine.
 *
 * Not named test_*: `make ctest` does not run it (its models and goldens come
 * from `make zoo-test`'s TensorFlow conversion, outside `make test`).
 *
 *   CNNRT_ZOO_MODELS=DIR  DIR/zoo_models.txt lists the case names, one per
 *                         line; DIR/NAME.cnnrt is each imported model.
 *   CNNRT_GOLDEN_DIR=DIR  DIR/NAME.inputs.bin, DIR/NAME.outputs.bin (TFLM).
 *   CNNRT_ZOO_NO_TFLM=1   models with no TFLM twin (made by `cnnrt quantize`,
 *                         `make onnx-zoo-paths`): the paths are compared, and
 *                         there are no .outputs.bin files to compare with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

/* Every op's output of one run, back to back (offsets by op index). */
typedef struct {
  int32_t ops;
  size_t *offset;   /* ops + 1 entries; offset[ops] = total bytes */
  int8_t *bytes;
  int recording;    /* 1: store the outputs; 0: compare with them */
  size_t differing; /* bytes that differ (compare mode) */
  int32_t first_op; /* first op with a differing byte, -1 if none */
} op_outputs;

static void observe(void *user, int32_t op, const int8_t *out, size_t count) {
  op_outputs *o = user;
  if (op < 0 || op >= o->ops || o->offset[op] + count > o->offset[op + 1]) {
    fail_msg("op %d: %zu output bytes, outside its recorded extent", (int)op, count);
  }
  int8_t *slot = o->bytes + o->offset[op];
  if (o->recording) {
    memcpy(slot, out, count);
    return;
  }
  for (size_t i = 0; i < count; i++) {
    if (slot[i] != out[i]) {
      if (o->first_op < 0) o->first_op = op;
      o->differing++;
    }
  }
}

/* Loads the model bytes with CNNRT_ISA set to `isa` (NULL: unset); the
 * caller keeps and frees the bytes (both loads share them). */
static loaded_model load_with(uint8_t *bytes, size_t size, const char *isa, const char *name) {
  if (isa) setenv("CNNRT_ISA", isa, 1); else unsetenv("CNNRT_ISA");
  return load_bytes(bytes, size, name);
}

static void set_inputs(cnn_context *ctx, const cnn_model *model, const uint8_t *x) {
  for (int32_t k = 0; k < cnn_model_input_count(model); k++) {
    cnn_tensor_info info;
    assert_int_equal(cnn_model_input_info(model, k, &info), CNN_STATUS_OK);
    assert_int_equal(cnn_set_input(ctx, k, (const int8_t *)x, info.byte_size), CNN_STATUS_OK);
    x += info.byte_size;
  }
}

/* Output bytes of `ctx` that differ from `want` (one sample). */
static size_t differing_outputs(const cnn_context *ctx, const cnn_model *model, const uint8_t *want) {
  size_t d = 0;
  for (int32_t k = 0; k < cnn_model_output_count(model); k++) {
    const int8_t *got = NULL;
    size_t n = 0;
    assert_int_equal(cnn_output_raw(ctx, k, &got, &n), CNN_STATUS_OK);
    for (size_t i = 0; i < n; i++) d += (uint8_t)got[i] != want[i];
    want += n;
  }
  return d;
}

static void every_op_of_every_zoo_net_matches_portable(void **state) {
  (void)state;
  const char *models = getenv("CNNRT_ZOO_MODELS"), *goldens = getenv("CNNRT_GOLDEN_DIR");
  if (!models || !goldens) fail_msg("set CNNRT_ZOO_MODELS and CNNRT_GOLDEN_DIR (make zoo-test does)");
  const int tflm = getenv("CNNRT_ZOO_NO_TFLM") == NULL;
  const char *env = getenv("CNNRT_ISA");
  char under_test[32] = "";
  if (env) snprintf(under_test, sizeof under_test, "%s", env);
  size_t list_size = 0;
  char *list = (char *)read_dir_file(models, "zoo_models.txt", &list_size);
  if (!list) fail_msg("cannot read %s/zoo_models.txt", models);
  int nets = 0, samples = 0;
  size_t op_bytes = 0, op_differing = 0, tflm_differing = 0, start = 0;
  const char *path = "";
  for (size_t i = 0; i < list_size; i++) {
    if (list[i] != '\n') continue;
    list[i] = '\0';
    const char *name = list + start;
    start = i + 1;
    char file[512];
    size_t model_size = 0, in_size = 0, out_size = 0;
    snprintf(file, sizeof file, "%s.cnnrt", name);
    uint8_t *bytes = read_dir_file(models, file, &model_size);
    snprintf(file, sizeof file, "%s.inputs.bin", name);
    uint8_t *inputs = read_dir_file(goldens, file, &in_size);
    snprintf(file, sizeof file, "%s.outputs.bin", name);
    uint8_t *expected = tflm ? read_dir_file(goldens, file, &out_size) : NULL;
    if (!bytes || !inputs || (tflm && !expected)) {
      fail_msg("%s: model or goldens missing in %s, %s", name, models, goldens);
    }

    loaded_model ref = load_with(bytes, model_size, "portable", name);
    loaded_model opt = load_with(bytes, model_size, under_test[0] ? under_test : NULL, name);
    assert_string_equal(cnn_model_kernel_path(ref.model), "portable");
    path = cnn_model_kernel_path(opt.model);

    op_outputs o = {.ops = cnn_model_op_count(ref.model), .first_op = -1};
    o.offset = calloc((size_t)o.ops + 1, sizeof *o.offset);
    assert_non_null(o.offset);
    for (int32_t k = 0; k < o.ops; k++) {
      cnn_op_info info;
      cnn_tensor_info t;
      assert_int_equal(cnn_model_op_info(ref.model, k, &info), CNN_STATUS_OK);
      assert_int_equal(cnn_model_tensor_info(ref.model, info.output, &t), CNN_STATUS_OK);
      o.offset[k + 1] = o.offset[k] + t.byte_size;
    }
    o.bytes = malloc(o.offset[o.ops]);
    assert_non_null(o.bytes);
    assert_int_equal(cnn_context_set_op_observer(ref.ctx, observe, &o), CNN_STATUS_OK);
    assert_int_equal(cnn_context_set_op_observer(opt.ctx, observe, &o), CNN_STATUS_OK);

    const size_t in_bytes = sample_bytes(ref.model, 0), out_bytes = sample_bytes(ref.model, 1);
    assert_true(in_bytes > 0 && out_bytes > 0);
    const size_t count = in_size / in_bytes;
    if (count == 0 || in_size % in_bytes != 0 || (tflm && out_size != count * out_bytes)) {
      fail_msg("%s: %zu input bytes, %zu output bytes for %zu + %zu per sample", name, in_size, out_size, in_bytes,
               out_bytes);
    }
    size_t net_differing = 0, net_tflm = 0;
    for (size_t s = 0; s < count; s++) {
      set_inputs(ref.ctx, ref.model, inputs + s * in_bytes);
      set_inputs(opt.ctx, opt.model, inputs + s * in_bytes);
      o.recording = 1;
      assert_int_equal(cnn_run(ref.ctx), CNN_STATUS_OK);
      o.recording = 0;
      o.differing = 0;
      assert_int_equal(cnn_run(opt.ctx), CNN_STATUS_OK);
      net_differing += o.differing;
      if (tflm) net_tflm += differing_outputs(opt.ctx, opt.model, expected + s * out_bytes);
    }
    char vs_tflm[64] = "no TFLM twin";
    if (tflm) snprintf(vs_tflm, sizeof vs_tflm, "%zu output bytes differ from TFLM", net_tflm);
    print_message("zoo %-40s path %s: %d ops, %zu samples, %zu of %zu op output bytes differ from portable, %s\n",
                  name, path, (int)o.ops, count, net_differing, o.offset[o.ops] * count, vs_tflm);
    if (o.first_op >= 0) {
      cnn_op_info info;
      assert_int_equal(cnn_model_op_info(ref.model, o.first_op, &info), CNN_STATUS_OK);
      print_error("%s: first differing op %d (%s)\n", name, (int)o.first_op, info.type_name);
    }
    op_bytes += o.offset[o.ops] * count;
    op_differing += net_differing;
    tflm_differing += net_tflm;
    samples += (int)count;
    nets++;
    free(o.offset);
    free(o.bytes);
    cnn_context_free(ref.ctx);
    cnn_model_free(ref.model);
    cnn_context_free(opt.ctx);
    cnn_model_free(opt.model);
    free(bytes);
    free(inputs);
    free(expected);
  }
  free(list);
  char vs_tflm[64] = "no TFLM twins";
  if (tflm) snprintf(vs_tflm, sizeof vs_tflm, "%zu output bytes differ from TFLM", tflm_differing);
  print_message("zoo (CNNRT_ISA=%s, kernel path %s): %d nets, %d samples, %zu of %zu op output bytes differ from "
                "portable, %s\n",
                under_test[0] ? under_test : "default", path, nets, samples, op_differing, op_bytes, vs_tflm);
  const char *expect = getenv("CNNRT_EXPECT_PATH");
  if (expect) assert_string_equal(path, expect);
  assert_true(nets >= (tflm ? 10 : 1));
  assert_int_equal(op_differing, 0);
  assert_int_equal(tflm_differing, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(every_op_of_every_zoo_net_matches_portable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
