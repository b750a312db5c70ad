/*
 * infer_raw — run a model on raw int8 input samples and print every output
 * byte: the quantized view, for comparing builds, targets and kernel paths.
 *
 *   usage: infer_raw MODEL.cnnrt SAMPLES.bin [COUNT]
 *
 * SAMPLES.bin holds samples back to back; one sample is the bytes of every
 * model input in order (cnn_model_input_info().byte_size each). For each of
 * the first COUNT samples (default: all) one line is printed:
 *   <sample index> <kernel path> <output bytes as signed decimals>
 * (outputs in order, separated by spaces). Exit status 0 on success.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cnnrt.h"

int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s MODEL.cnnrt SAMPLES.bin [COUNT]\n", argv[0]);
    return 2;
  }
  char why[256] = "";
  cnn_model *model = NULL;
  cnn_status st = cnn_model_load_file(argv[1], &model, why, sizeof why);
  if (st != CNN_STATUS_OK) {
    fprintf(stderr, "%s: %s: %s\n", argv[1], cnn_status_string(st), why);
    return 3;
  }
  cnn_context *ctx = NULL;
  if ((st = cnn_context_create(model, &ctx)) != CNN_STATUS_OK) {
    fprintf(stderr, "context: %s\n", cnn_status_string(st));
    return 3;
  }
  const int32_t inputs = cnn_model_input_count(model), outputs = cnn_model_output_count(model);
  size_t sample = 0;
  for (int32_t k = 0; k < inputs; k++) {
    cnn_tensor_info info;
    cnn_model_input_info(model, k, &info);
    sample += info.byte_size;
  }
  FILE *f = fopen(argv[2], "rb");
  if (!f) { fprintf(stderr, "%s: cannot open\n", argv[2]); return 2; }
  int8_t *x = malloc(sample ? sample : 1);
  if (!x) { fprintf(stderr, "out of memory\n"); return 2; }
  long limit = argc == 4 ? atol(argv[3]) : -1;
  long n = 0;
  while ((limit < 0 || n < limit) && fread(x, 1, sample, f) == sample) {
    const int8_t *p = x;
    for (int32_t k = 0; k < inputs; k++) {
      cnn_tensor_info info;
      cnn_model_input_info(model, k, &info);
      if ((st = cnn_set_input(ctx, k, p, info.byte_size)) != CNN_STATUS_OK) break;
      p += info.byte_size;
    }
    if (st == CNN_STATUS_OK) st = cnn_run(ctx);
    if (st != CNN_STATUS_OK) {
      fprintf(stderr, "sample %ld: %s\n", n, cnn_status_string(st));
      return 4;
    }
    printf("%ld %s", n, cnn_model_kernel_path(model));
    for (int32_t k = 0; k < outputs; k++) {
      const int8_t *out = NULL;
      size_t count = 0;
      cnn_output_raw(ctx, k, &out, &count);
      for (size_t i = 0; i < count; i++) printf(" %d", out[i]);
    }
    printf("\n");
    n++;
  }
  fclose(f);
  free(x);
  cnn_context_free(ctx);
  cnn_model_free(model);
  if (n == 0) { fprintf(stderr, "%s: no complete sample of %zu bytes\n", argv[2], sample); return 2; }
  return 0;
}
