/* Host side of the firmware test: runs cnn_classify with the host library
 * (x86-64 libcnnrt.so) on binary PGM digit images (28x28, gray; the digit is
 * the first number in the file name, e.g. digit_7_1.pgm) and writes, into
 * OUTDIR, what the firmware embeds and compares against:
 *   mnist_pixels.bin   the images' pixels, back to back
 *   mnist_outputs.bin  the raw int8 model output per image (host library)
 *   mnist_classes.bin  the digit of each image's name, one byte each
 * usage: host_expected MODEL.cnnrt OUTDIR IMAGE.pgm... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnrt.h"

static int read_pgm(const char *path, uint8_t *pixels, size_t capacity) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  int w = 0, h = 0, maxval = 0;
  if (fscanf(f, "P5 %d %d %d", &w, &h, &maxval) != 3 || w != 28 || h != 28 || maxval != 255 ||
      fgetc(f) == EOF || (size_t)(w * h) > capacity || fread(pixels, 1, (size_t)(w * h), f) != (size_t)(w * h)) {
    fclose(f);
    return -1;
  }
  fclose(f);
  return 0;
}

static FILE *open_out(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) fprintf(stderr, "host_expected: cannot write %s\n", path);
  return f;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: host_expected MODEL.cnnrt OUTDIR IMAGE.pgm...\n"); return 2; }
  cnn_model *model = NULL;
  cnn_context *ctx = NULL;
  char why[256] = "";
  if (cnn_model_load_file(argv[1], &model, why, sizeof why) != CNN_STATUS_OK || cnn_context_create(model, &ctx) != CNN_STATUS_OK) {
    fprintf(stderr, "host_expected: %s: %s\n", argv[1], why);
    return 1;
  }
  FILE *px = open_out(argv[2], "mnist_pixels.bin"), *out = open_out(argv[2], "mnist_outputs.bin");
  FILE *cls = open_out(argv[2], "mnist_classes.bin");
  if (!px || !out || !cls) return 1;
  int disagree = 0;
  for (int i = 3; i < argc; i++) {
    uint8_t pixels[28 * 28];
    const char *base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
    const char *digit = strpbrk(base, "0123456789");
    if (!digit || read_pgm(argv[i], pixels, sizeof pixels) != 0) {
      fprintf(stderr, "host_expected: %s: not a 28x28 8-bit PGM named after its digit\n", argv[i]);
      return 1;
    }
    cnn_classification top;
    const int8_t *raw = NULL;
    size_t count = 0;
    if (cnn_classify(ctx, pixels, 28, 28, 1, 0, &top, NULL, 0) != CNN_STATUS_OK ||
        cnn_output_raw(ctx, 0, &raw, &count) != CNN_STATUS_OK) {
      fprintf(stderr, "host_expected: %s: cnn_classify failed\n", argv[i]);
      return 1;
    }
    uint8_t want = (uint8_t)(*digit - '0');
    if (top.class_index != want) {
      fprintf(stderr, "host_expected: %s: the host library says %d\n", argv[i], (int)top.class_index);
      disagree++;
    }
    fwrite(pixels, 1, sizeof pixels, px);
    fwrite(raw, 1, count, out);
    fwrite(&want, 1, 1, cls);
  }
  fclose(px);
  fclose(out);
  fclose(cls);
  cnn_context_free(ctx);
  cnn_model_free(model);
  printf("host_expected: %d images, host library outputs written to %s%s\n", argc - 3, argv[2],
         disagree ? " (some classes differ from the file names)" : "");
  return 0;
}
