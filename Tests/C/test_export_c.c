/* `cnnrt export-c` output, compiled with the host compiler under the strict
 * flags (-std=c11 -Wall -Wextra -pedantic -Werror) and linked into this
 * test: the exported array is the model file byte for byte, 16-byte aligned,
 * and loads in place (cnn_model_load_static) with the sizes its header
 * states. The Makefile exports models/mnist.cnnrt into build/export-c
 * (CNNRT_EXPORT_MODEL names the file to compare with). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mnist_model.h"
#include "test_util.h"

static uint8_t *read_model_file(size_t *size) {
  const char *path = getenv("CNNRT_EXPORT_MODEL");
  FILE *f = fopen(path ? path : "models/mnist.cnnrt", "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *size = (size_t)n;
  return buf;
}

static void exported_array_matches_the_model_file_byte_for_byte(void **state) {
  (void)state;
  size_t n = 0;
  uint8_t *file = read_model_file(&n);
  assert_int_equal(MNIST_MODEL_SIZE, n);
  assert_int_equal(sizeof mnist_model, n);
  assert_memory_equal(mnist_model, file, n);
  free(file);
}

static void exported_array_is_16_byte_aligned(void **state) {
  (void)state;
  assert_int_equal((uintptr_t)mnist_model % 16, 0);
}

static void exported_array_loads_in_place_with_the_header_sizes(void **state) {
  (void)state;
  size_t block = 0;
  assert_int_equal(cnn_model_memory_size(mnist_model, MNIST_MODEL_SIZE, &block), CNN_STATUS_OK);
  /* The header's block size is the portable path's; the host may pick a SIMD
   * path that needs more, never less. */
  assert_true(block >= MNIST_MODEL_MEMORY_BYTES);
  void *mem = aligned_alloc(16, (block + 15) / 16 * 16);
  assert_non_null(mem);
  cnn_model *model = NULL;
  char why[256] = "";
  assert_int_equal(cnn_model_load_static(mnist_model, MNIST_MODEL_SIZE, mem, block, &model, why, sizeof why), CNN_STATUS_OK);
  size_t arena_bytes = 0;
  assert_int_equal(cnn_context_arena_size(model, &arena_bytes), CNN_STATUS_OK);
  assert_int_equal(arena_bytes, MNIST_ARENA_BYTES);
  assert_int_equal(cnn_model_input_count(model), MNIST_INPUT_COUNT);
  assert_int_equal(cnn_model_output_count(model), MNIST_OUTPUT_COUNT);
  cnn_tensor_info in, out;
  assert_int_equal(cnn_model_input_info(model, 0, &in), CNN_STATUS_OK);
  assert_int_equal(cnn_model_output_info(model, 0, &out), CNN_STATUS_OK);
  assert_int_equal(in.byte_size, MNIST_INPUT0_BYTES);
  assert_int_equal(out.byte_size, MNIST_OUTPUT0_BYTES);
  assert_int_equal(in.zero_point, MNIST_INPUT0_ZERO_POINT);
  assert_true(in.scale == MNIST_INPUT0_SCALE);
  assert_true(out.scale == MNIST_OUTPUT0_SCALE);
  const int32_t dims[] = MNIST_INPUT0_DIMS;
  assert_int_equal(in.rank, MNIST_INPUT0_RANK);
  for (int i = 0; i < MNIST_INPUT0_RANK; i++) assert_int_equal(in.dims[i], dims[i]);

  void *arena = aligned_alloc(16, (arena_bytes + 15) / 16 * 16);
  assert_non_null(arena);
  cnn_context *ctx = NULL;
  assert_int_equal(cnn_context_init(model, arena, arena_bytes, &ctx), CNN_STATUS_OK);
  uint8_t pixels[28 * 28] = {0};
  cnn_classification top;
  assert_int_equal(cnn_classify(ctx, pixels, 28, 28, 1, 0, &top, NULL, 0), CNN_STATUS_OK);
  assert_in_range(top.class_index, 0, 9);
  cnn_context_free(ctx);
  cnn_model_free(model);
  free(arena);
  free(mem);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(exported_array_matches_the_model_file_byte_for_byte),
    cmocka_unit_test(exported_array_is_16_byte_aligned),
    cmocka_unit_test(exported_array_loads_in_place_with_the_header_sizes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
