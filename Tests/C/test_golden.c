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

/* Runs every sample of one case; returns the number of differing bytes. */
static size_t run_case(const golden_case *c) {
  size_t differing = 0;
  for (size_t s = 0; s < c->count; s++) {
    const uint8_t *x = c->inputs + s * c->in_bytes;
    for (int32_t k = 0; k < cnn_model_input_count(c->m.model); k++) {
      cnn_tensor_info info;
      assert_int_equal(cnn_model_input_info(c->m.model, k, &info), CNN_STATUS_OK);
      assert_int_equal(cnn_set_input(c->m.ctx, k, (const int8_t *)x, info.byte_size), CNN_STATUS_OK);
      x += info.byte_size;
    }
    assert_int_equal(cnn_run(c->m.ctx), CNN_STATUS_OK);
    const uint8_t *want = c->expected + s * c->out_bytes;
    for (int32_t k = 0; k < cnn_model_output_count(c->m.model); k++) {
      const int8_t *got = NULL;
      size_t n = 0;
      assert_int_equal(cnn_output_raw(c->m.ctx, k, &got, &n), CNN_STATUS_OK);
      for (size_t i = 0; i < n; i++) {
        if ((uint8_t)got[i] != want[i]) {
          if (differing < 5) {
            print_error("%s sample %zu output %d byte %zu: %d, TFLM %d\n", c->name, s, (int)k, i, got[i],
                        (int8_t)want[i]);
          }
          differing++;
        }
      }
      want += n;
    }
  }
  return differing;
}

static void every_golden_vector_matches_tflm(void **state) {
  (void)state;
  size_t count = 0, differing = 0, samples = 0;
  golden_case *cases = load_golden_cases(&count);
  int mlperf = 0;
  for (size_t i = 0; i < count; i++) {
    size_t d = run_case(&cases[i]);
    if (d != 0) print_error("%s: %zu bytes differ from TFLM\n", cases[i].name, d);
    if (strstr(cases[i].name, "mlperf_tiny_") != NULL) mlperf++;
    differing += d;
    samples += cases[i].count;
  }
  const char *kernel_path = count ? cnn_model_kernel_path(cases[0].m.model) : "";
  const char *isa = getenv("CNNRT_ISA");
  print_message("golden vectors (CNNRT_ISA=%s, kernel path %s): %zu cases, %zu samples, %zu bytes differ from the goldens (TFLM; the tile_* cases from TFLite's kernels, TFLM has no TILE)\n",
                isa ? isa : "default", kernel_path, count, samples, differing);
  /* The Arm runs name the path the emulated CPU must give (CNNRT_EXPECT_PATH). */
  const char *expect = getenv("CNNRT_EXPECT_PATH");
  if (expect) assert_string_equal(kernel_path, expect);
  assert_int_equal(differing, 0);
  assert_int_equal(mlperf, 2);
  assert_true(count >= 259);
  free_golden_cases(cases, count);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(every_golden_vector_matches_tflm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
