/* Every kernel path against the portable reference kernels on seeded random
 * single-op models (fixtures random_*.cnnrt, listed in random_models.txt:
 * Conv2D, depthwise Conv2D with depth multipliers 1-3, FullyConnected, Add
 * with broadcasts, max/average pooling, Mean; and a second set, random_op_*:
 * TransposeConv, PReLU with every alpha broadcast, Mul with broadcasts,
 * bilinear resize, channel Gather, HardSwish, Logistic; a third, random_dw_*:
 * depthwise Conv2D, mostly 3x3 with stride_h 1; odd channel counts,
 * strides, dilations, SAME/VALID padding, random zero points and fused
 * activations).
 * Each model is loaded once with CNNRT_ISA=portable and once with the path
 * under test (the CNNRT_ISA the test was started with, else the CPU's best),
 * both run the same 6 inputs (all -128, all 127, 4 seeded random), and every
 * output byte must agree. `make ctest` runs it once per path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint8_t next_byte(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint8_t)(rng_state >> 24);
}

/* Loads a fixture with CNNRT_ISA set to `isa` (NULL: unset). */
static loaded_model load_with(const char *fixture, const char *isa) {
  if (isa) setenv("CNNRT_ISA", isa, 1); else unsetenv("CNNRT_ISA");
  return load_fixture(fixture);
}

static void every_path_matches_portable(void **state) {
  (void)state;
  const char *env = getenv("CNNRT_ISA");
  char under_test[32] = "";
  if (env) snprintf(under_test, sizeof under_test, "%s", env);
  size_t size = 0;
  char *list = (char *)read_fixture("random_models.txt", &size);
  int models = 0, runs = 0;
  size_t differing = 0, start = 0;
  const char *path = "";
  for (size_t i = 0; i < size; i++) {
    if (list[i] != '\n') continue;
    list[i] = '\0';
    const char *fixture = list + start;
    start = i + 1;
    loaded_model ref = load_with(fixture, "portable");
    loaded_model opt = load_with(fixture, under_test[0] ? under_test : NULL);
    assert_string_equal(cnn_model_kernel_path(ref.model), "portable");
    path = cnn_model_kernel_path(opt.model);
    for (int rep = 0; rep < 6; rep++) {
      for (int32_t k = 0; k < cnn_model_input_count(ref.model); k++) {
        cnn_tensor_info info;
        assert_int_equal(cnn_model_input_info(ref.model, k, &info), CNN_STATUS_OK);
        int8_t *x = malloc(info.byte_size);
        assert_non_null(x);
        for (size_t j = 0; j < info.byte_size; j++) {
          x[j] = rep == 0 ? -128 : rep == 1 ? 127 : (int8_t)next_byte();
        }
        assert_int_equal(cnn_set_input(ref.ctx, k, x, info.byte_size), CNN_STATUS_OK);
        assert_int_equal(cnn_set_input(opt.ctx, k, x, info.byte_size), CNN_STATUS_OK);
        free(x);
      }
      assert_int_equal(cnn_run(ref.ctx), CNN_STATUS_OK);
      assert_int_equal(cnn_run(opt.ctx), CNN_STATUS_OK);
      const int8_t *a = NULL, *b = NULL;
      size_t na = 0, nb = 0;
      assert_int_equal(cnn_output_raw(ref.ctx, 0, &a, &na), CNN_STATUS_OK);
      assert_int_equal(cnn_output_raw(opt.ctx, 0, &b, &nb), CNN_STATUS_OK);
      assert_int_equal(na, nb);
      size_t d = 0;
      for (size_t j = 0; j < na; j++) d += a[j] != b[j];
      if (d) print_error("%s input %d: %zu of %zu bytes differ (%s vs portable)\n", fixture, rep, d, na, path);
      differing += d;
      runs++;
    }
    unload(&ref);
    unload(&opt);
    models++;
  }
  free(list);
  if (env) setenv("CNNRT_ISA", under_test, 1); else unsetenv("CNNRT_ISA");
  print_message("random models: %d models, %d runs, kernel path %s against portable: %zu bytes differ\n", models,
                runs, path, differing);
  assert_int_equal(differing, 0);
  assert_true(models >= 100);
  const char *expect = getenv("CNNRT_EXPECT_PATH");
  if (expect) assert_string_equal(path, expect);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(every_path_matches_portable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
