/*
 * classify — classify a PGM/PPM image with a cnnrt model, using only the C API.
 *
 *   usage: classify MODEL.cnnrt IMAGE.pgm|IMAGE.ppm [TOP_K]
 *
 * Shows the embedded-style set-up: the model is read into memory and used
 * in place, the arena is provided by the application (sized by the model),
 * and cnn_classify() does preprocessing, inference and top-1 in one call.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnrt.h"

/* Reads a whole file into a 64-byte aligned buffer. */
static uint8_t *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
  long n = ftell(f);
  if (n <= 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
  uint8_t *buf = aligned_alloc(64, ((size_t)n + 63) / 64 * 64);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  *size = (size_t)n;
  return buf;
}

/* Skips whitespace and '#' comments in a PNM header. */
static const uint8_t *pnm_skip(const uint8_t *p, const uint8_t *end) {
  while (p < end) {
    if (*p == '#') { while (p < end && *p != '\n') p++; }
    else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    else break;
  }
  return p;
}

static const uint8_t *pnm_int(const uint8_t *p, const uint8_t *end, int *out) {
  p = pnm_skip(p, end);
  long v = 0;
  int digits = 0;
  while (p < end && *p >= '0' && *p <= '9' && v < 1000000) { v = v * 10 + (*p - '0'); p++; digits++; }
  *out = digits ? (int)v : -1;
  return p;
}

/* Parses a binary PGM (P5) or PPM (P6) with maxval 255. Returns a pointer
 * to the pixels inside `data`, or NULL when the file is not such an image. */
static const uint8_t *parse_pnm(const uint8_t *data, size_t size, int *w, int *h, int *channels) {
  const uint8_t *end = data + size;
  if (size < 2 || data[0] != 'P' || (data[1] != '5' && data[1] != '6')) return NULL;
  *channels = data[1] == '5' ? 1 : 3;
  int maxval;
  const uint8_t *p = pnm_int(data + 2, end, w);
  p = pnm_int(p, end, h);
  p = pnm_int(p, end, &maxval);
  if (*w <= 0 || *h <= 0 || maxval != 255 || p >= end) return NULL;
  p++; /* the single whitespace after maxval */
  if ((size_t)(end - p) < (size_t)*w * (size_t)*h * (size_t)*channels) return NULL;
  return p;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: %s MODEL.cnnrt IMAGE.pgm|IMAGE.ppm [TOP_K]\n", argv[0]);
    return 2;
  }
  int top_k = argc == 4 ? atoi(argv[3]) : 3;
  if (top_k < 1) top_k = 1;

  size_t model_size = 0;
  uint8_t *model_bytes = read_file(argv[1], &model_size);
  if (!model_bytes) { fprintf(stderr, "%s: cannot read\n", argv[1]); return 2; }

  char why[256] = "";
  cnn_model *model = NULL;
  cnn_status st = cnn_model_load_memory(model_bytes, model_size, &model, why, sizeof why);
  if (st != CNN_STATUS_OK) {
    fprintf(stderr, "%s: %s: %s\n", argv[1], cnn_status_string(st), why);
    free(model_bytes);
    return 3;
  }

  /* The application owns the arena: ask the model how much it needs. */
  size_t arena_size = 0;
  (void)cnn_context_arena_size(model, &arena_size);
  void *arena = aligned_alloc(64, (arena_size + 63) / 64 * 64);
  cnn_context *ctx = NULL;
  st = cnn_context_init(model, arena, arena_size, &ctx);
  if (st != CNN_STATUS_OK) {
    fprintf(stderr, "context: %s\n", cnn_status_string(st));
    return 3;
  }

  size_t image_size = 0;
  uint8_t *image = read_file(argv[2], &image_size);
  int w = 0, h = 0, c = 0;
  const uint8_t *pixels = image ? parse_pnm(image, image_size, &w, &h, &c) : NULL;
  if (!pixels) { fprintf(stderr, "%s: not a binary PGM/PPM image with maxval 255\n", argv[2]); return 4; }

  int classes = cnn_model_class_count(model);
  float *probs = calloc((size_t)classes, sizeof *probs);
  cnn_classification top;
  st = cnn_classify(ctx, pixels, w, h, c, 0, &top, probs, (size_t)classes);
  if (st != CNN_STATUS_OK) {
    fprintf(stderr, "%s: %s\n", argv[2], cnn_status_string(st));
    return 4;
  }

  printf("%s: %s (%.1f%%)", argv[2], top.label[0] ? top.label : "?", 100.0 * top.probability);
  /* The next best classes, by selection (classes are few). */
  probs[top.class_index] = -1;
  for (int k = 1; k < top_k && k < classes; k++) {
    int best = -1;
    for (int i = 0; i < classes; i++)
      if (probs[i] >= 0 && (best < 0 || probs[i] > probs[best])) best = i;
    if (best < 0) break;
    printf(", %s %.1f%%", cnn_model_class_label(model, best), 100.0 * probs[best]);
    probs[best] = -1;
  }
  printf("  [%zu-byte arena, %zu bytes of activations]\n", arena_size, cnn_model_activation_bytes(model));

  free(probs);
  free(image);
  cnn_context_free(ctx); /* no-op for a caller arena; kept for symmetry */
  free(arena);
  cnn_model_free(model);
  free(model_bytes);
  return 0;
}
