/* Inference makes no heap allocation.
 *
 * This executable interposes malloc and friends (forwarding to glibc's
 * __libc_* entry points) so that calls made from inside libcnnrt.so are
 * counted, then asserts zero calls during cnn_run() and cnn_classify().
 * (Not built with AddressSanitizer, which owns malloc itself.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>

#include "test_util.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static volatile int counting = 0;
static volatile long alloc_calls = 0;

static void note(void) { if (counting) alloc_calls++; }

void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void free(void *p) { note(); __libc_free(p); }
void *memalign(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
  note();
  void *p = __libc_memalign(a, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

/* The interposition itself works: an allocation made by the library
 * (cnn_context_create) is seen. Without this, a zero count proves nothing. */
static void interposer_sees_library_allocations(void **state) {
  (void)state;
  size_t size = 0;
  uint8_t *bytes = read_fixture("demo.cnnrt", &size);
  cnn_model *model = NULL;
  counting = 1; alloc_calls = 0;
  assert_int_equal(cnn_model_load_memory(bytes, size, &model, NULL, 0), CNN_STATUS_OK);
  cnn_context *ctx = NULL;
  assert_int_equal(cnn_context_create(model, &ctx), CNN_STATUS_OK);
  counting = 0;
  assert_int_equal(alloc_calls, 2); /* one model block, one arena */
  cnn_context_free(ctx);
  cnn_model_free(model);
  free(bytes);
}

static void run_and_classify_make_no_allocation(void **state) {
  (void)state;
  loaded_model m = load_fixture("demo.cnnrt");
  uint8_t px[40 * 30 * 3];
  for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 37);
  int8_t in[28 * 28];
  memset(in, 3, sizeof in);
  cnn_classification top;
  float probs[16];
  int classes = cnn_model_class_count(m.model);

  counting = 1; alloc_calls = 0;
  for (int i = 0; i < 10; i++) {
    assert_int_equal(cnn_set_input(m.ctx, 0, in, sizeof in), CNN_STATUS_OK);
    assert_int_equal(cnn_run(m.ctx), CNN_STATUS_OK);
    assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 1, 0, &top, probs, (size_t)classes), CNN_STATUS_OK);
    assert_int_equal(cnn_classify(m.ctx, px, 40, 30, 3, 0, &top, probs, (size_t)classes), CNN_STATUS_OK);
    assert_int_equal(cnn_classify(m.ctx, px, 9, 9, 1, 0, &top, probs, (size_t)classes), CNN_STATUS_OK);
  }
  counting = 0;
  assert_int_equal(alloc_calls, 0);
  unload(&m);
}

/* A fully static set-up: model memory and arena from the caller, no
 * allocation from load to teardown. */
static void static_model_and_arena_never_allocate(void **state) {
  (void)state;
  size_t size = 0;
  uint8_t *bytes = read_fixture("demo.cnnrt", &size);
  static _Alignas(64) uint8_t model_mem[64 * 1024];
  static _Alignas(64) uint8_t arena[256 * 1024];
  counting = 1; alloc_calls = 0;
  size_t need = 0;
  assert_int_equal(cnn_model_memory_size(bytes, size, &need), CNN_STATUS_OK);
  assert_true(need <= sizeof model_mem);
  cnn_model *model = NULL;
  assert_int_equal(cnn_model_load_static(bytes, size, model_mem, sizeof model_mem, &model, NULL, 0), CNN_STATUS_OK);
  cnn_context *ctx = NULL;
  assert_int_equal(cnn_context_init(model, arena, sizeof arena, &ctx), CNN_STATUS_OK);
  uint8_t px[28 * 28] = {0};
  cnn_classification top;
  assert_int_equal(cnn_classify(ctx, px, 28, 28, 1, 0, &top, NULL, 0), CNN_STATUS_OK);
  cnn_context_free(ctx);
  cnn_model_free(model);
  counting = 0;
  assert_int_equal(alloc_calls, 0);
  free(bytes);
}

/* Every TFLM golden model (fixtures golden_*.cnnrt, listed in
 * golden_models.txt: the single-op cases of every op and the zoo networks of
 * Tests/Golden/tflm) runs without an allocation; `make ctest` runs this
 * binary once per kernel path, so every op's kernel on each path is covered. */
static void golden_models_run_without_allocation(void **state) {
  (void)state;
  size_t size = 0;
  char *list = (char *)read_fixture("golden_models.txt", &size);
  int nets = 0;
  size_t start = 0;
  for (size_t i = 0; i < size; i++) {
    if (list[i] != '\n') continue;
    list[i] = '\0';
    loaded_model m = load_fixture(list + start);
    start = i + 1;
    int32_t inputs = cnn_model_input_count(m.model);
    counting = 1; alloc_calls = 0;
    for (int rep = 0; rep < 3; rep++) {
      for (int32_t k = 0; k < inputs; k++) {
        cnn_tensor_info info;
        counting = 0;
        assert_int_equal(cnn_model_input_info(m.model, k, &info), CNN_STATUS_OK);
        int8_t *x = malloc(info.byte_size);
        assert_non_null(x);
        for (size_t j = 0; j < info.byte_size; j++) x[j] = (int8_t)(j * 29 + (size_t)rep * 7);
        counting = 1;
        assert_int_equal(cnn_set_input(m.ctx, k, x, info.byte_size), CNN_STATUS_OK);
        counting = 0;
        free(x);
        counting = 1;
      }
      assert_int_equal(cnn_run(m.ctx), CNN_STATUS_OK);
    }
    counting = 0;
    assert_int_equal(alloc_calls, 0);
    unload(&m);
    nets++;
  }
  free(list);
  print_message("golden models: %d ran without allocation\n", nets);
  assert_true(nets >= 250);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(interposer_sees_library_allocations),
    cmocka_unit_test(run_and_classify_make_no_allocation),
    cmocka_unit_test(static_model_and_arena_never_allocate),
    cmocka_unit_test(golden_models_run_without_allocation),
  };
  return cmocka_run_group_tests_name("no_alloc", tests, NULL, NULL);
}
