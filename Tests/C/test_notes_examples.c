/* The lecture notes' worked examples and the op behaviours they describe,
 * run through the public C API exactly as an embedding application would. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_util.h"

static void run_with_input(loaded_model *m, const int8_t *in, size_t n) {
  assert_int_equal(cnn_set_input(m->ctx, 0, in, n), CNN_STATUS_OK);
  assert_int_equal(cnn_run(m->ctx), CNN_STATUS_OK);
}

static const int8_t *output(loaded_model *m, int index, size_t expect_count) {
  const int8_t *out = NULL;
  size_t count = 0;
  assert_int_equal(cnn_output_raw(m->ctx, index, &out, &count), CNN_STATUS_OK);
  assert_int_equal(count, expect_count);
  return out;
}

static void assert_dims(const cnn_model *model, int output_index, int n, int h, int w, int c) {
  cnn_tensor_info info;
  assert_int_equal(cnn_model_output_info(model, output_index, &info), CNN_STATUS_OK);
  assert_int_equal(info.rank, 4);
  assert_int_equal(info.dims[0], n);
  assert_int_equal(info.dims[1], h);
  assert_int_equal(info.dims[2], w);
  assert_int_equal(info.dims[3], c);
}

static const int8_t notes_input_5x5[25] = {
  1, 1, 1, 0, 0,
  0, 1, 1, 1, 0,
  0, 0, 1, 1, 1,
  0, 0, 1, 1, 0,
  0, 1, 1, 0, 0,
};

/* Notes: 5x5 input, 3x3 filter [1 0 1; 0 1 0; 1 0 1] -> [4 3 4; 2 4 3; 2 3 4]. */
static void conv_notes_5x5_gives_feature_map(void **state) {
  (void)state;
  loaded_model m = load_fixture("notes_conv5x5.cnnrt");
  assert_dims(m.model, 0, 1, 3, 3, 1);
  run_with_input(&m, notes_input_5x5, 25);
  const int8_t expect[9] = {4, 3, 4, 2, 4, 3, 2, 3, 4};
  assert_memory_equal(output(&m, 0, 9), expect, 9);
  unload(&m);
}

static void make_x_image(int8_t img[81]) {
  for (int y = 0; y < 9; y++)
    for (int x = 0; x < 9; x++)
      img[y * 9 + x] = (y >= 1 && y <= 7 && (x == y || x == 8 - y)) ? 1 : -1;
}

static const int8_t notes_x_feature_map[49] = {
   7, -1,  1,  3,  5, -1,  3,
  -1,  9, -1,  3, -1,  1, -1,
   1, -1,  9, -3,  1, -1,  5,
   3,  3, -3,  5, -3,  3,  3,
   5, -1,  1, -3,  9, -1,  1,
  -1,  1, -1,  3, -1,  9, -1,
   3, -1,  5,  3,  1, -1,  7,
};

/* Notes: the 9x9 "X" image convolved with the diagonal filter
 * [1 -1 -1; -1 1 -1; -1 -1 1] gives the notes' 7x7 feature map. */
static void conv_notes_x_image_gives_7x7_map(void **state) {
  (void)state;
  loaded_model m = load_fixture("notes_x9.cnnrt");
  assert_dims(m.model, 0, 1, 7, 7, 1);
  int8_t img[81];
  make_x_image(img);
  run_with_input(&m, img, 81);
  assert_memory_equal(output(&m, 0, 49), notes_x_feature_map, 49);
  unload(&m);
}

/* Same convolution with a fused ReLU: negatives become 0, positives stay. */
static void conv_relu_zeroes_negative_activations(void **state) {
  (void)state;
  loaded_model m = load_fixture("notes_x9_relu.cnnrt");
  int8_t img[81];
  make_x_image(img);
  run_with_input(&m, img, 81);
  const int8_t *out = output(&m, 0, 49);
  for (int i = 0; i < 49; i++)
    assert_int_equal(out[i], notes_x_feature_map[i] > 0 ? notes_x_feature_map[i] : 0);
  unload(&m);
}

/* Stride 2 on 7x7 with a 3x3 filter: (7 - 3 + 0)/2 + 1 = 3. All-ones filter sums windows. */
static void conv_stride2_valid_output_shape_and_values(void **state) {
  (void)state;
  loaded_model m = load_fixture("stride2_valid.cnnrt");
  assert_dims(m.model, 0, 1, 3, 3, 1);
  int8_t in[49];
  for (int i = 0; i < 49; i++) in[i] = (int8_t)(i % 5 - 2);
  run_with_input(&m, in, 49);
  const int8_t *out = output(&m, 0, 9);
  for (int oy = 0; oy < 3; oy++)
    for (int ox = 0; ox < 3; ox++) {
      int sum = 0;
      for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) sum += in[(oy * 2 + ky) * 7 + ox * 2 + kx];
      assert_int_equal(out[oy * 3 + ox], sum);
    }
  unload(&m);
}

/* Expected notes-filter convolution of the 5x5 input with zero padding `pad` and stride `s`. */
static int padded_conv(int oy, int ox, int pad, int s) {
  static const int f[9] = {1, 0, 1, 0, 1, 0, 1, 0, 1};
  int sum = 0;
  for (int ky = 0; ky < 3; ky++)
    for (int kx = 0; kx < 3; kx++) {
      int y = oy * s + ky - pad, x = ox * s + kx - pad;
      if (y >= 0 && y < 5 && x >= 0 && x < 5) sum += notes_input_5x5[y * 5 + x] * f[ky * 3 + kx];
    }
  return sum;
}

/* SAME padding keeps 5x5 ("preserve the size of the feature map"); border taps read zeros. */
static void conv_same_padding_keeps_size(void **state) {
  (void)state;
  loaded_model m = load_fixture("pad_same.cnnrt");
  assert_dims(m.model, 0, 1, 5, 5, 1);
  run_with_input(&m, notes_input_5x5, 25);
  const int8_t *out = output(&m, 0, 25);
  for (int y = 0; y < 5; y++)
    for (int x = 0; x < 5; x++) assert_int_equal(out[y * 5 + x], padded_conv(y, x, 1, 1));
  /* the interior equals the unpadded feature map */
  assert_int_equal(out[1 * 5 + 1], 4);
  assert_int_equal(out[3 * 5 + 3], 4);
  unload(&m);
}

/* Explicit zero padding 1, stride 2: (5 - 3 + 2*1)/2 + 1 = 3. */
static void conv_explicit_pad1_stride2_shape(void **state) {
  (void)state;
  loaded_model m = load_fixture("pad1_stride2.cnnrt");
  assert_dims(m.model, 0, 1, 3, 3, 1);
  run_with_input(&m, notes_input_5x5, 25);
  const int8_t *out = output(&m, 0, 9);
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 3; x++) assert_int_equal(out[y * 3 + x], padded_conv(y, x, 1, 2));
  unload(&m);
}

/* RGB (3-D) filters: two 3x3x3 filters over a 4x4x3 input, with biases,
 * weight count FM x (F x F x FMP + 1) = 2 x (3 x 3 x 3 + 1) = 56. */
static int rgb_in(int y, int x, int c) { return ((y * 4 + x) * 3 + c) % 7 - 3; }
static int rgb_w(int f, int ky, int kx, int c) { return (f * 7 + ky * 5 + kx * 3 + c) % 3 - 1; }

static void conv_rgb_three_channel_filters(void **state) {
  (void)state;
  loaded_model m = load_fixture("rgb_conv.cnnrt");
  assert_dims(m.model, 0, 1, 2, 2, 2);
  cnn_op_info op;
  assert_int_equal(cnn_model_op_info(m.model, 0, &op), CNN_STATUS_OK);
  assert_int_equal(op.type, CNN_OP_CONV_2D);
  assert_int_equal(op.param_count, 2 * (3 * 3 * 3 + 1));
  assert_int_equal(op.macs, 2 * 2 * 2 * 3 * 3 * 3);
  int8_t in[48];
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++)
      for (int c = 0; c < 3; c++) in[(y * 4 + x) * 3 + c] = (int8_t)rgb_in(y, x, c);
  run_with_input(&m, in, 48);
  const int8_t *out = output(&m, 0, 8);
  const int bias[2] = {1, -2};
  for (int oy = 0; oy < 2; oy++)
    for (int ox = 0; ox < 2; ox++)
      for (int f = 0; f < 2; f++) {
        int sum = bias[f];
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++)
            for (int c = 0; c < 3; c++) sum += rgb_in(oy + ky, ox + kx, c) * rgb_w(f, ky, kx, c);
        assert_int_equal(out[(oy * 2 + ox) * 2 + f], sum);
      }
  unload(&m);
}

/* Max vs average pooling (2x2, stride 2) on the same input. */
static void pooling_max_vs_average_same_input(void **state) {
  (void)state;
  loaded_model m = load_fixture("pools.cnnrt");
  assert_int_equal(cnn_model_output_count(m.model), 2);
  assert_dims(m.model, 0, 1, 2, 2, 1);
  assert_dims(m.model, 1, 1, 2, 2, 1);
  const int8_t in[16] = {1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4};
  run_with_input(&m, in, 16);
  const int8_t max_expect[4] = {6, 8, 3, 4};
  const int8_t avg_expect[4] = {3, 5, 2, 2}; /* 13/4, 21/4, 8/4, 8/4 rounded half away from zero */
  assert_memory_equal(output(&m, 0, 4), max_expect, 4);
  assert_memory_equal(output(&m, 1, 4), avg_expect, 4);
  unload(&m);
}

/* Softmax: int8 out with scale 1/256, zp -128; compare with float softmax. */
static void softmax_outputs_are_probabilities(void **state) {
  (void)state;
  loaded_model m = load_fixture("softmax.cnnrt");
  cnn_tensor_info in_info;
  assert_int_equal(cnn_model_input_info(m.model, 0, &in_info), CNN_STATUS_OK);
  const int8_t in[5] = {40, 20, 0, -20, -100};
  run_with_input(&m, in, 5);
  float p[5];
  assert_int_equal(cnn_output_dequantize(m.ctx, 0, p, 5), CNN_STATUS_OK);
  double denom = 0, sum = 0;
  for (int i = 0; i < 5; i++) denom += exp(in_info.scale * in[i]);
  for (int i = 0; i < 5; i++) {
    double ref = exp(in_info.scale * in[i]) / denom;
    assert_true(fabs(p[i] - ref) <= 1.0 / 256 + 1e-6);
    sum += p[i];
    if (i > 0) assert_true(p[i] <= p[i - 1]);
  }
  assert_true(fabs(sum - 1.0) <= 5.0 / 256);
  unload(&m);
}

/* Sigmoid (logistic): 1 / (1 + e^-x), int8 out with scale 1/256, zp -128. */
static void sigmoid_outputs_follow_logistic_curve(void **state) {
  (void)state;
  loaded_model m = load_fixture("sigmoid.cnnrt");
  cnn_tensor_info in_info;
  assert_int_equal(cnn_model_input_info(m.model, 0, &in_info), CNN_STATUS_OK);
  const int8_t in[9] = {-128, -64, -16, -4, 0, 4, 16, 64, 127};
  run_with_input(&m, in, 9);
  float p[9];
  assert_int_equal(cnn_output_dequantize(m.ctx, 0, p, 9), CNN_STATUS_OK);
  for (int i = 0; i < 9; i++) {
    double ref = 1.0 / (1.0 + exp(-(double)in_info.scale * in[i]));
    assert_true(fabs(p[i] - ref) <= 1.0 / 256 + 1e-6);
    if (i > 0) assert_true(p[i] >= p[i - 1]);
  }
  assert_true(fabs(p[4] - 0.5) < 1e-6);
  unload(&m);
}

/* A model built from several ops: inspection calls agree with the graph. */
static void inspection_reports_shapes_and_counts(void **state) {
  (void)state;
  loaded_model m = load_fixture("demo.cnnrt");
  assert_true(cnn_model_op_count(m.model) > 3);
  assert_true(cnn_model_class_count(m.model) >= 3);
  assert_string_not_equal(cnn_model_name(m.model), "");
  for (int i = 0; i < cnn_model_class_count(m.model); i++)
    assert_non_null(cnn_model_class_label(m.model, i));
  assert_null(cnn_model_class_label(m.model, cnn_model_class_count(m.model)));
  size_t arena = 0;
  assert_int_equal(cnn_context_arena_size(m.model, &arena), CNN_STATUS_OK);
  assert_true(arena >= cnn_model_activation_bytes(m.model));
  assert_true(cnn_model_activation_bytes(m.model) <= cnn_model_unplanned_activation_bytes(m.model));
  assert_int_equal(cnn_version(), CNN_VERSION_NUMBER);
  assert_string_equal(cnn_version_string(), CNN_VERSION_STRING);
  unload(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(conv_notes_5x5_gives_feature_map),
    cmocka_unit_test(conv_notes_x_image_gives_7x7_map),
    cmocka_unit_test(conv_relu_zeroes_negative_activations),
    cmocka_unit_test(conv_stride2_valid_output_shape_and_values),
    cmocka_unit_test(conv_same_padding_keeps_size),
    cmocka_unit_test(conv_explicit_pad1_stride2_shape),
    cmocka_unit_test(conv_rgb_three_channel_filters),
    cmocka_unit_test(pooling_max_vs_average_same_input),
    cmocka_unit_test(softmax_outputs_are_probabilities),
    cmocka_unit_test(sigmoid_outputs_follow_logistic_curve),
    cmocka_unit_test(inspection_reports_shapes_and_counts),
  };
  return cmocka_run_group_tests_name("notes_examples", tests, NULL, NULL);
}
