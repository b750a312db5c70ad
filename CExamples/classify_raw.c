/*
 * classify_raw — classify a raw 8-bit image buffer (e.g. a 32x32 RGB CIFAR-10
 * image from a camera driver) with cnn_classify().
 *
 *   usage: classify_raw MODEL.cnnrt IMAGE.bin WIDTH HEIGHT CHANNELS
 *
 * IMAGE.bin holds HEIGHT rows of WIDTH x CHANNELS bytes (HWC, RGB order).
 * For the MLPerf Tiny ResNet-8 imported with
 *   cnnrt import mlperf_tiny_ic_resnet8_int8.tflite --labels models/labels/cifar10.txt -o resnet8.cnnrt
 * the model's metadata maps each pixel to the int8 input as q = pixel - 128,
 * so the raw camera bytes go in unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cnnrt.h"

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s MODEL.cnnrt IMAGE.bin WIDTH HEIGHT CHANNELS\n", argv[0]);
    return 2;
  }
  int w = atoi(argv[3]), h = atoi(argv[4]), c = atoi(argv[5]);
  char why[256] = "";
  cnn_model *model = NULL;
  cnn_status st = cnn_model_load_file(argv[1], &model, why, sizeof why);
  if (st != CNN_STATUS_OK) {
    fprintf(stderr, "%s: %s: %s\n", argv[1], cnn_status_string(st), why);
    return 3;
  }
  FILE *f = fopen(argv[2], "rb");
  if (!f) { fprintf(stderr, "%s: cannot open\n", argv[2]); return 2; }
  size_t n = (size_t)(w > 0 ? w : 0) * (size_t)(h > 0 ? h : 0) * (size_t)(c > 0 ? c : 0);
  uint8_t *pixels = malloc(n ? n : 1);
  if (!pixels || fread(pixels, 1, n, f) != n) { fprintf(stderr, "%s: expected %zu bytes\n", argv[2], n); return 2; }
  fclose(f);

  cnn_context *ctx = NULL;
  if ((st = cnn_context_create(model, &ctx)) != CNN_STATUS_OK) {
    fprintf(stderr, "context: %s\n", cnn_status_string(st));
    return 3;
  }
  int classes = cnn_model_class_count(model);
  float *probs = malloc(sizeof(float) * (size_t)(classes > 0 ? classes : 1));
  cnn_classification top;
  st = cnn_classify(ctx, pixels, w, h, c, 0, &top, probs, (size_t)classes);
  if (st != CNN_STATUS_OK) {
    fprintf(stderr, "%s: %s\n", argv[2], cnn_status_string(st));
    return 4;
  }
  printf("%s: class %d %s (%.1f%%)\n", argv[2], top.class_index, top.label, 100.0 * top.probability);
  for (int i = 0; i < classes; i++)
    printf("  %2d %-12s %5.1f%%\n", i, cnn_model_class_label(model, i), 100.0 * probs[i]);

  free(probs);
  free(pixels);
  cnn_context_free(ctx);
  cnn_model_free(model);
  return 0;
}
