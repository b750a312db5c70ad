/* Every TFLM golden vector through the C API: each golden model (fixtures
 * golden_*.cnnrt, listed in golden_models.txt: the single-op cases of every
 * op family, the zoo networks and the two MLPerf Tiny models) runs each of
 * its recorded input samples, and every output byte is compared with what
 * TensorFlow Lite Micro produced (Tests/Golden/tflm/<case>.inputs.bin and
 * .outputs.bin; directory from $CNNRT_GOLDEN_DIR).
 *
 * The Swift tests check the same vectors on the host; this test exists so
 * that a cross-built library (e.g. aarch64 under qemu-aarch64) is checked
 * against the same oracle by the same bytes. `make ctest` runs it once per
 * kernel path (CNNRT_ISA). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

/* Runs every sample of one case; returns the number of differing bytes
 * (and adds the samples run to *samples). */
static const char *kernel_path = "";

static size_t run_case(const char *fixture, const char *dir, int *samples) {
  char name[512];
  size_t len = strlen(fixture);
  assert_true(len > strlen("golden_") + strlen(".cnnrt") && len < sizeof name);
  memcpy(name, fixture + strlen("golden_"), len - strlen("golden_") - strlen(".cnnrt"));
  name[len - strlen("golden_") - strlen(".cnnrt")] = '\0';

  char file[600];
  size_t in_size = 0, out_size = 0;
  snprintf(file, sizeof file, "%s.inputs.bin", name);
  uint8_t *inputs = read_dir_file(dir, file, &in_size);
  if (!inputs) fail_msg("cannot read %s/%s", dir, file);
  snprintf(file, sizeof file, "%s.outputs.bin", name);
  uint8_t *expected = read_dir_file(dir, file, &out_size);
  if (!expected) fail_msg("cannot read %s/%s", dir, file);

  loaded_model m = load_fixture(fixture);
  kernel_path = cnn_model_kernel_path(m.model);
  const size_t in_bytes = sample_bytes(m.model, 0), out_bytes = sample_bytes(m.model, 1);
  assert_true(in_bytes > 0 && out_bytes > 0);
  if (in_size % in_bytes != 0 || out_size % out_bytes != 0 || in_size / in_bytes != out_size / out_bytes) {
    fail_msg("%s: %zu input bytes / %zu per sample, %zu output bytes / %zu per sample do not agree", name,
             in_size, in_bytes, out_size, out_bytes);
  }
  const size_t count = in_size / in_bytes;
  assert_true(count > 0);
  size_t differing = 0;
  for (size_t s = 0; s < count; s++) {
    const uint8_t *x = inputs + s * in_bytes;
    for (int32_t k = 0; k < cnn_model_input_count(m.model); k++) {
      cnn_tensor_info info;
      assert_int_equal(cnn_model_input_info(m.model, k, &info), CNN_STATUS_OK);
      assert_int_equal(cnn_set_input(m.ctx, k, (const int8_t *)x, info.byte_size), CNN_STATUS_OK);
      x += info.byte_size;
    }
    assert_int_equal(cnn_run(m.ctx), CNN_STATUS_OK);
    const uint8_t *want = expected + s * out_bytes;
    for (int32_t k = 0; k < cnn_model_output_count(m.model); k++) {
      const int8_t *got = NULL;
      size_t n = 0;
      assert_int_equal(cnn_output_raw(m.ctx, k, &got, &n), CNN_STATUS_OK);
      for (size_t i = 0; i < n; i++) {
        if ((uint8_t)got[i] != want[i]) {
          if (differing < 5) {
            print_error("%s sample %zu output %d byte %zu: %d, TFLM %d\n", name, s, (int)k, i, got[i],
                        (int8_t)want[i]);
          }
          differing++;
        }
      }
      want += n;
    }
  }
  *samples += (int)count;
  unload(&m);
  free(inputs);
  free(expected);
  return differing;
}

static void every_golden_vector_matches_tflm(void **state) {
  (void)state;
  const char *dir = getenv("CNNRT_GOLDEN_DIR");
  if (!dir) dir = "Tests/Golden/tflm";
  size_t size = 0;
  char *list = (char *)read_fixture("golden_models.txt", &size);
  int cases = 0, samples = 0, mlperf = 0;
  size_t differing = 0, start = 0;
  for (size_t i = 0; i < size; i++) {
    if (list[i] != '\n') continue;
    list[i] = '\0';
    const char *fixture = list + start;
    start = i + 1;
    size_t d = run_case(fixture, dir, &samples);
    if (d != 0) print_error("%s: %zu bytes differ from TFLM\n", fixture, d);
    if (strstr(fixture, "mlperf_tiny_") != NULL) mlperf++;
    differing += d;
    cases++;
  }
  free(list);
  const char *isa = getenv("CNNRT_ISA");
  print_message("golden vectors (CNNRT_ISA=%s, kernel path %s): %d cases, %d samples, %zu bytes differ from the goldens (TFLM; the tile_* cases from TFLite's kernels, TFLM has no TILE)\n",
                isa ? isa : "default", kernel_path, cases, samples, differing);
  /* The Arm runs name the path the emulated CPU must give (CNNRT_EXPECT_PATH). */
  const char *expect = getenv("CNNRT_EXPECT_PATH");
  if (expect) assert_string_equal(kernel_path, expect);
  assert_int_equal(differing, 0);
  assert_int_equal(mlperf, 2);
  assert_true(cases >= 259);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(every_golden_vector_matches_tflm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
