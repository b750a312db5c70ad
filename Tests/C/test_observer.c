/* cnn_context_set_op_observer: called once per op, in order, with each
 * op's output as the model describes it; the last call sees the bytes
 * cnn_output_raw() returns; removing the observer stops the calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_util.h"

enum { MAX_OPS = 64 };

typedef struct {
  int calls;
  int32_t order[MAX_OPS];
  size_t counts[MAX_OPS];
  int8_t last[4096];
  size_t last_count;
} record;

static void observe(void *user_data, int32_t op_index, const int8_t *output, size_t count) {
  record *r = user_data;
  if (r->calls < MAX_OPS) {
    r->order[r->calls] = op_index;
    r->counts[r->calls] = count;
  }
  r->calls++;
  r->last_count = count;
  if (count <= sizeof r->last) memcpy(r->last, output, count);
}

static void test_observer_sees_every_op(void **state) {
  (void)state;
  loaded_model m = load_fixture("demo.cnnrt");
  int32_t ops = cnn_model_op_count(m.model);
  assert_true(ops > 1 && ops <= MAX_OPS);
  record r;
  memset(&r, 0, sizeof r);
  assert_int_equal(cnn_context_set_op_observer(m.ctx, observe, &r), CNN_STATUS_OK);

  uint8_t px[28 * 28];
  for (int i = 0; i < 28 * 28; i++) px[i] = (uint8_t)((i * 37) & 0xFF);
  cnn_classification top;
  assert_int_equal(cnn_classify(m.ctx, px, 28, 28, 1, 0, &top, NULL, 0), CNN_STATUS_OK);
  assert_int_equal(r.calls, ops);
  for (int32_t i = 0; i < ops; i++) {
    cnn_op_info op;
    cnn_tensor_info t;
    assert_int_equal(cnn_model_op_info(m.model, i, &op), CNN_STATUS_OK);
    assert_int_equal(cnn_model_tensor_info(m.model, op.output, &t), CNN_STATUS_OK);
    assert_int_equal(r.order[i], i);
    assert_int_equal(r.counts[i], t.element_count);
  }
  const int8_t *out = NULL;
  size_t count = 0;
  assert_int_equal(cnn_output_raw(m.ctx, 0, &out, &count), CNN_STATUS_OK);
  assert_int_equal(r.last_count, count);
  assert_memory_equal(r.last, out, count);

  /* cnn_run calls it too; removing it stops the calls. */
  r.calls = 0;
  assert_int_equal(cnn_run(m.ctx), CNN_STATUS_OK);
  assert_int_equal(r.calls, ops);
  assert_int_equal(cnn_context_set_op_observer(m.ctx, NULL, NULL), CNN_STATUS_OK);
  r.calls = 0;
  assert_int_equal(cnn_run(m.ctx), CNN_STATUS_OK);
  assert_int_equal(r.calls, 0);
  unload(&m);
}

static void test_observer_null_context(void **state) {
  (void)state;
  record r;
  assert_int_equal(cnn_context_set_op_observer(NULL, observe, &r), CNN_STATUS_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_observer_sees_every_op),
    cmocka_unit_test(test_observer_null_context),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
