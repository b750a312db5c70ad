/* Bad models and bad arguments: each gets its documented status, never a
 * crash. Built twice by `make test`: against libcnnrt.so and against an
 * AddressSanitizer build of the same sources (leaks included). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_util.h"

/* Layout facts from docs/FORMAT.md used to patch models. */
enum { H_FORMAT_VERSION = 8, H_QUANT_VERSION = 10, H_FILE_SIZE = 12, H_TENSOR_COUNT = 20,
       H_TENSOR_TABLE = 24, H_OP_TABLE = 32, H_IO_TABLE = 44,
       TENSOR_RECORD = 64, T_DIMS = 4, T_DATA_OFFSET = 36,
       OP_INPUT_COUNT = 4, OP_TENSOR_LIST = 8, OP_STRIDE_H = 20 };

typedef struct {
  uint8_t *bytes;
  size_t size;
} fixture;

static int setup(void **state) {
  fixture *f = malloc(sizeof *f);
  f->bytes = read_fixture("notes_conv5x5.cnnrt", &f->size);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  free(f->bytes);
  free(f);
  return 0;
}

/* Loads a patched copy; returns the status and frees any model. */
static cnn_status load_copy(const fixture *f, void (*patch)(uint8_t *), size_t size, int refix) {
  uint8_t *copy = aligned_alloc(64, (f->size + 63) / 64 * 64);
  memcpy(copy, f->bytes, f->size);
  if (patch) patch(copy);
  if (refix) fix_checksum(copy);
  cnn_model *model = (cnn_model *)0x1;
  char why[200];
  cnn_status st = cnn_model_load_memory(copy, size, &model, why, sizeof why);
  if (st == CNN_STATUS_OK) {
    cnn_model_free(model);
  } else {
    assert_null(model);                  /* out pointer cleared on failure */
    assert_true(strlen(why) > 0);        /* and a message says why */
  }
  free(copy);
  return st;
}

static void valid_fixture_loads(void **state) {
  fixture *f = *state;
  assert_int_equal(load_copy(f, NULL, f->size, 0), CNN_STATUS_OK);
}

static void null_pointers_are_rejected(void **state) {
  fixture *f = *state;
  cnn_model *model = NULL;
  assert_int_equal(cnn_model_load_memory(NULL, f->size, &model, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_model_load_memory(f->bytes, f->size, NULL, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_model_load_file(NULL, &model, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_model_load_static(f->bytes, f->size, NULL, 100, &model, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  cnn_context *ctx = NULL;
  assert_int_equal(cnn_context_create(NULL, &ctx), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_context_init(NULL, NULL, 0, &ctx), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_run(NULL), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_set_input(NULL, 0, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_output_raw(NULL, 0, NULL, NULL), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_model_tensor_info(NULL, 0, NULL), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_model_op_info(NULL, 0, NULL), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_model_op_count(NULL), 0);
  assert_null(cnn_model_name(NULL));
  cnn_classification top;
  assert_int_equal(cnn_classify(NULL, NULL, 1, 1, 1, 0, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  cnn_model_free(NULL);     /* no-ops */
  cnn_context_free(NULL);
  assert_string_equal(cnn_status_string(12345), "unknown status");
  assert_string_equal(cnn_status_string(CNN_STATUS_OK), "ok");
}

static void zero_size_is_rejected(void **state) {
  fixture *f = *state;
  cnn_model *model = NULL;
  assert_int_equal(cnn_model_load_memory(f->bytes, 0, &model, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
}

static void truncated_at_every_length_is_rejected(void **state) {
  fixture *f = *state;
  for (size_t n = 1; n < f->size; n++) {
    cnn_status st = load_copy(f, NULL, n, 0);
    if (st != CNN_STATUS_TRUNCATED) fail_msg("length %zu: got %d (%s)", n, st, cnn_status_string(st));
  }
}

static void every_flipped_byte_is_rejected(void **state) {
  fixture *f = *state;
  uint8_t *copy = aligned_alloc(64, (f->size + 63) / 64 * 64);
  for (size_t i = 0; i < f->size; i++) {
    memcpy(copy, f->bytes, f->size);
    copy[i] ^= 0x5A;
    cnn_model *model = NULL;
    cnn_status st = cnn_model_load_memory(copy, f->size, &model, NULL, 0);
    if (st == CNN_STATUS_OK) fail_msg("flipped byte %zu accepted", i);
    if (i >= 20 && st != CNN_STATUS_CHECKSUM_MISMATCH) fail_msg("byte %zu: got %s", i, cnn_status_string(st));
  }
  free(copy);
}

/* Op 0's tensor list: its inputs, then its outputs. */
static uint8_t *op0_inputs(uint8_t *m) { return m + rd32(m + rd32(m + H_OP_TABLE) + OP_TENSOR_LIST); }
static uint8_t *op0_output(uint8_t *m) {
  uint8_t *op = m + rd32(m + H_OP_TABLE);
  return op0_inputs(m) + 4 * (op[OP_INPUT_COUNT] | op[OP_INPUT_COUNT + 1] << 8);
}

static void p_magic(uint8_t *m) { m[0] = 'X'; }
static void p_future_version(uint8_t *m) { m[H_FORMAT_VERSION] = 3; }
static void p_old_version(uint8_t *m) { m[H_FORMAT_VERSION] = 1; }
static void p_future_quant(uint8_t *m) { m[H_QUANT_VERSION] = 9; }
static void p_op_input_index(uint8_t *m) { wr32(op0_inputs(m), rd32(m + H_TENSOR_COUNT) + 7); }
static void p_op_output_index(uint8_t *m) { wr32(op0_output(m), 0xFFFFFFF0u); }
static void p_op_list_outside(uint8_t *m) { wr32(m + rd32(m + H_OP_TABLE) + OP_TENSOR_LIST, 0x7FFFFF00u); }
static void p_io_index(uint8_t *m) { wr32(m + rd32(m + H_IO_TABLE), 999); }
static void p_output_height(uint8_t *m) {
  uint32_t out = rd32(op0_output(m));
  uint8_t *dims = m + rd32(m + H_TENSOR_TABLE) + out * TENSOR_RECORD + T_DIMS;
  wr32(dims + 4, rd32(dims + 4) + 1);
}
static void p_stride_zero(uint8_t *m) { wr32(m + rd32(m + H_OP_TABLE) + OP_STRIDE_H, 0); }
static void p_const_data_outside(uint8_t *m) {
  uint32_t filter = rd32(op0_inputs(m) + 4);
  wr32(m + rd32(m + H_TENSOR_TABLE) + filter * TENSOR_RECORD + T_DATA_OFFSET, 0x7FFFFF00u);
}
static void p_tensor_count_huge(uint8_t *m) { wr32(m + H_TENSOR_COUNT, 0x40000000u); }
static void p_file_size_small(uint8_t *m) { wr32(m + H_FILE_SIZE, 10); }

static void wrong_magic_is_bad_magic(void **state) {
  assert_int_equal(load_copy(*state, p_magic, ((fixture *)*state)->size, 0), CNN_STATUS_BAD_MAGIC);
}

static void future_versions_are_unsupported(void **state) {
  fixture *f = *state;
  assert_int_equal(load_copy(f, p_future_version, f->size, 1), CNN_STATUS_UNSUPPORTED_VERSION);
  assert_int_equal(load_copy(f, p_future_quant, f->size, 1), CNN_STATUS_UNSUPPORTED_VERSION);
  /* A version-1 file (an older cnnrt's) is refused with a message that says to re-import it. */
  uint8_t *copy = aligned_alloc(64, (f->size + 63) / 64 * 64);
  memcpy(copy, f->bytes, f->size);
  p_old_version(copy);
  fix_checksum(copy);
  cnn_model *model = NULL;
  char why[300];
  assert_int_equal(cnn_model_load_memory(copy, f->size, &model, why, sizeof why), CNN_STATUS_UNSUPPORTED_VERSION);
  assert_non_null(strstr(why, "re-import"));
  free(copy);
}

static void out_of_range_tensor_indices_are_rejected(void **state) {
  fixture *f = *state;
  assert_int_equal(load_copy(f, p_op_input_index, f->size, 1), CNN_STATUS_BAD_TENSOR_INDEX);
  assert_int_equal(load_copy(f, p_op_output_index, f->size, 1), CNN_STATUS_BAD_TENSOR_INDEX);
  assert_int_equal(load_copy(f, p_io_index, f->size, 1), CNN_STATUS_BAD_TENSOR_INDEX);
  assert_int_equal(load_copy(f, p_op_list_outside, f->size, 1), CNN_STATUS_MALFORMED_MODEL);
}

static void inconsistent_shapes_are_rejected(void **state) {
  fixture *f = *state;
  assert_int_equal(load_copy(f, p_output_height, f->size, 1), CNN_STATUS_SHAPE_MISMATCH);
}

static void illegal_op_parameters_are_rejected(void **state) {
  fixture *f = *state;
  assert_int_equal(load_copy(f, p_stride_zero, f->size, 1), CNN_STATUS_BAD_OP);
}

static void offsets_outside_the_file_are_rejected(void **state) {
  fixture *f = *state;
  assert_int_equal(load_copy(f, p_const_data_outside, f->size, 1), CNN_STATUS_MALFORMED_MODEL);
  assert_int_equal(load_copy(f, p_tensor_count_huge, f->size, 1), CNN_STATUS_MALFORMED_MODEL);
  assert_int_equal(load_copy(f, p_file_size_small, f->size, 0), CNN_STATUS_MALFORMED_MODEL);
}

static void misaligned_model_data_is_rejected(void **state) {
  fixture *f = *state;
  uint8_t *copy = aligned_alloc(64, f->size + 64);
  memcpy(copy + 4, f->bytes, f->size);
  cnn_model *model = NULL;
  assert_int_equal(cnn_model_load_memory(copy + 4, f->size, &model, NULL, 0), CNN_STATUS_MISALIGNED);
  free(copy);
}

static void missing_file_is_io_error(void **state) {
  (void)state;
  cnn_model *model = NULL;
  char why[128] = "";
  assert_int_equal(cnn_model_load_file("/nonexistent/model.cnnrt", &model, why, sizeof why), CNN_STATUS_IO_ERROR);
  assert_null(model);
  assert_true(strlen(why) > 0);
}

static void file_load_and_free_does_not_leak(void **state) {
  (void)state;
  const char *dir = getenv("CNNRT_FIXTURES");
  char path[1024];
  snprintf(path, sizeof path, "%s/demo.cnnrt", dir ? dir : "build/fixtures");
  cnn_model *model = NULL;
  assert_int_equal(cnn_model_load_file(path, &model, NULL, 0), CNN_STATUS_OK);
  cnn_context *ctx = NULL;
  assert_int_equal(cnn_context_create(model, &ctx), CNN_STATUS_OK);
  cnn_context_free(ctx);
  cnn_model_free(model);
}

static void static_model_memory_too_small_is_rejected(void **state) {
  fixture *f = *state;
  size_t need = 0;
  assert_int_equal(cnn_model_memory_size(f->bytes, f->size, &need), CNN_STATUS_OK);
  void *mem = aligned_alloc(64, (need + 63) / 64 * 64);
  cnn_model *model = NULL;
  assert_int_equal(cnn_model_load_static(f->bytes, f->size, mem, need - 1, &model, NULL, 0), CNN_STATUS_ARENA_TOO_SMALL);
  assert_int_equal(cnn_model_load_static(f->bytes, f->size, mem, need, &model, NULL, 0), CNN_STATUS_OK);
  cnn_model_free(model); /* releases nothing: caller owns mem */
  free(mem);
}

static void arena_too_small_or_misaligned_is_rejected(void **state) {
  fixture *f = *state;
  cnn_model *model = NULL;
  assert_int_equal(cnn_model_load_memory(f->bytes, f->size, &model, NULL, 0), CNN_STATUS_OK);
  size_t need = 0;
  assert_int_equal(cnn_context_arena_size(model, &need), CNN_STATUS_OK);
  uint8_t *arena = aligned_alloc(64, need + 64);
  cnn_context *ctx = NULL;
  assert_int_equal(cnn_context_init(model, arena, need - 1, &ctx), CNN_STATUS_ARENA_TOO_SMALL);
  assert_null(ctx);
  assert_int_equal(cnn_context_init(model, arena + 1, need, &ctx), CNN_STATUS_MISALIGNED);
  assert_int_equal(cnn_context_init(model, arena, 0, &ctx), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_context_init(model, arena, need, &ctx), CNN_STATUS_OK);
  int8_t in[25] = {0};
  assert_int_equal(cnn_set_input(ctx, 0, in, 24), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_set_input(ctx, 1, in, 25), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_set_input(ctx, 0, in, 25), CNN_STATUS_OK);
  assert_int_equal(cnn_run(ctx), CNN_STATUS_OK);
  float out[9];
  assert_int_equal(cnn_output_dequantize(ctx, 0, out, 8), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_output_dequantize(ctx, 0, out, 9), CNN_STATUS_OK);
  cnn_context_free(ctx);
  cnn_model_free(model);
  free(arena);
}

static void bad_images_are_rejected(void **state) {
  (void)state;
  loaded_model m = load_fixture("demo.cnnrt");
  uint8_t px[28 * 28 * 4] = {0};
  cnn_classification top;
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 0, 0, &top, NULL, 0), CNN_STATUS_UNSUPPORTED_IMAGE);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 2, 0, &top, NULL, 0), CNN_STATUS_UNSUPPORTED_IMAGE);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 5, 0, &top, NULL, 0), CNN_STATUS_UNSUPPORTED_IMAGE);
  assert_int_equal(cnn_classify(m.ctx, px, 0, 28, 1, 0, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, -3, 1, 0, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, -1, 0, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 1, 27, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 1, 0, NULL, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  float probs[2];
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 1, 0, &top, probs, 2), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 1, 0, &top, NULL, 0), CNN_STATUS_OK);
  assert_int_equal(cnn_classify(m.ctx, px, 20, 17, 4, 0, &top, NULL, 0), CNN_STATUS_OK);
  unload(&m);
  /* a model whose input has 2 channels cannot take any image */
  loaded_model two = load_fixture("twochan.cnnrt");
  assert_int_equal(cnn_classify(two.ctx, px, 4, 4, 3, 0, &top, NULL, 0), CNN_STATUS_UNSUPPORTED_IMAGE);
  assert_int_equal(cnn_classify(two.ctx, px, 4, 4, 1, 0, &top, NULL, 0), CNN_STATUS_UNSUPPORTED_IMAGE);
  unload(&two);
}

/* Image geometry whose byte span, (height - 1) * row_stride + width * channels,
 * overflows size_t, exceeds 2^48 or passes the end of the address space is
 * refused before any pixel is read (before this check, row_stride = SIZE_MAX
 * read a wild address or trapped). */
static void classify_size_overflow_is_invalid_argument(void **state) {
  (void)state;
  loaded_model m = load_fixture("demo.cnnrt");
  static uint8_t px[28 * 32 * 4];
  cnn_classification top;
  float probs[10];
  const size_t big = (size_t)1 << 62;
  assert_int_equal(cnn_classify(m.ctx, px, 28, 3, 1, SIZE_MAX, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 1, 1, SIZE_MAX, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 2, 3, SIZE_MAX - 1, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 2, 1, big, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 3, 4, big, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 1, 1, big, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  /* just past 2^48 bytes: 2^20 + 1 rows of 2^28 bytes */
  assert_int_equal(cnn_classify(m.ctx, px, 1 << 28, (1 << 20) + 1, 1, 0, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, INT32_MAX, INT32_MAX, 1, 0, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, INT32_MAX, INT32_MAX, 4, 0, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, INT32_MAX, 3, 4, (size_t)INT32_MAX * 4 - 1, &top, NULL, 0),
                   CNN_STATUS_INVALID_ARGUMENT);  /* stride shorter than a row */
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 1, 0, &top, probs, SIZE_MAX), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 1, 0, &top, probs, SIZE_MAX / 4 + 1), CNN_STATUS_INVALID_ARGUMENT);
  /* a buffer ending past the top of the address space (never dereferenced) */
  const uint8_t *top_of_memory = (const uint8_t *)(UINTPTR_MAX - 100);
  assert_int_equal(cnn_classify(m.ctx, top_of_memory, 28, 28, 1, 0, &top, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  /* the bounds are not too tight: a single row with a 2^48 stride reads one row;
   * padded rows are fine */
  assert_int_equal(cnn_classify(m.ctx, px, 28, 1, 1, (size_t)1 << 48, &top, NULL, 0), CNN_STATUS_OK);
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 4, 32 * 4, &top, probs, 10), CNN_STATUS_OK);
  unload(&m);
}

/* Every other size argument: 0, SIZE_MAX (passes the end of the address space)
 * and 2^62 (larger than needed but representable) give documented statuses. */
static void huge_and_zero_sizes_give_documented_statuses(void **state) {
  fixture *f = *state;
  const size_t big = (size_t)1 << 62;
  cnn_model *model = (cnn_model *)0x1;
  char why[200] = "";
  assert_int_equal(cnn_model_load_memory(f->bytes, SIZE_MAX, &model, why, sizeof why), CNN_STATUS_INVALID_ARGUMENT);
  assert_null(model);
  assert_true(strlen(why) > 0);
  assert_int_equal(cnn_model_load_memory(f->bytes, 0, &model, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  /* only the header's file size is read from a larger buffer */
  assert_int_equal(cnn_model_load_memory(f->bytes, big, &model, NULL, 0), CNN_STATUS_OK);
  cnn_model_free(model);

  size_t need = 0;
  assert_int_equal(cnn_model_memory_size(f->bytes, SIZE_MAX, &need), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_model_memory_size(f->bytes, 0, &need), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_model_memory_size(f->bytes, big, &need), CNN_STATUS_OK);
  void *mem = aligned_alloc(64, (need + 63) / 64 * 64);
  assert_int_equal(cnn_model_load_static(f->bytes, f->size, mem, SIZE_MAX, &model, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_null(model);
  assert_int_equal(cnn_model_load_static(f->bytes, SIZE_MAX, mem, need, &model, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_model_load_static(f->bytes, f->size, mem, 0, &model, NULL, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_model_load_static(f->bytes, big, mem, big, &model, NULL, 0), CNN_STATUS_OK);
  cnn_model_free(model);
  free(mem);

  assert_int_equal(cnn_model_load_memory(f->bytes, f->size, &model, NULL, 0), CNN_STATUS_OK);
  size_t arena_bytes = 0;
  assert_int_equal(cnn_context_arena_size(model, &arena_bytes), CNN_STATUS_OK);
  uint8_t *arena = aligned_alloc(64, (arena_bytes + 63) / 64 * 64);
  cnn_context *ctx = (cnn_context *)0x1;
  assert_int_equal(cnn_context_init(model, arena, SIZE_MAX, &ctx), CNN_STATUS_INVALID_ARGUMENT);
  assert_null(ctx);
  assert_int_equal(cnn_context_init(model, arena, 0, &ctx), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_context_init(model, arena, big, &ctx), CNN_STATUS_OK);
  int8_t in[25] = {0};
  assert_int_equal(cnn_set_input(ctx, 0, in, SIZE_MAX), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_set_input(ctx, 0, in, big), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_set_input(ctx, 0, in, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_set_input(ctx, 0, in, sizeof in), CNN_STATUS_OK);
  assert_int_equal(cnn_run(ctx), CNN_STATUS_OK);
  float out[9];
  assert_int_equal(cnn_output_dequantize(ctx, 0, out, SIZE_MAX), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_output_dequantize(ctx, 0, out, SIZE_MAX / 4 + 1), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_output_dequantize(ctx, 0, out, 0), CNN_STATUS_INVALID_ARGUMENT);
  assert_int_equal(cnn_output_dequantize(ctx, 0, out, big >> 2), CNN_STATUS_OK);
  cnn_context_free(ctx);
  cnn_model_free(model);
  free(arena);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(valid_fixture_loads),
    cmocka_unit_test(null_pointers_are_rejected),
    cmocka_unit_test(zero_size_is_rejected),
    cmocka_unit_test(truncated_at_every_length_is_rejected),
    cmocka_unit_test(every_flipped_byte_is_rejected),
    cmocka_unit_test(wrong_magic_is_bad_magic),
    cmocka_unit_test(future_versions_are_unsupported),
    cmocka_unit_test(out_of_range_tensor_indices_are_rejected),
    cmocka_unit_test(inconsistent_shapes_are_rejected),
    cmocka_unit_test(illegal_op_parameters_are_rejected),
    cmocka_unit_test(offsets_outside_the_file_are_rejected),
    cmocka_unit_test(misaligned_model_data_is_rejected),
    cmocka_unit_test(missing_file_is_io_error),
    cmocka_unit_test(file_load_and_free_does_not_leak),
    cmocka_unit_test(static_model_memory_too_small_is_rejected),
    cmocka_unit_test(arena_too_small_or_misaligned_is_rejected),
    cmocka_unit_test(bad_images_are_rejected),
    cmocka_unit_test(classify_size_overflow_is_invalid_argument),
    cmocka_unit_test(huge_and_zero_sizes_give_documented_statuses),
  };
  return cmocka_run_group_tests_name("bad_input", tests, setup, teardown);
}
