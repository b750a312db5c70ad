/* Helpers shared by the cmocka tests: fixture files, CRC-32, model patching,
 * golden cases. */
#ifndef CNNRT_TEST_UTIL_H
#define CNNRT_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnrt.h"

/* Reads DIR/NAME into a 64-byte aligned buffer the caller frees (at least
 * 64 bytes, so an empty file reads too); NULL when it cannot be read. */
static inline uint8_t *read_dir_file(const char *dir, const char *name, size_t *size) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    buf = aligned_alloc(64, ((size_t)n + 64) / 64 * 64);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  }
  fclose(f);
  if (buf) *size = (size_t)n;
  return buf;
}

/* Reads build/fixtures/NAME (directory from $CNNRT_FIXTURES) into a 64-byte
 * aligned buffer the caller frees. Aborts the test run when missing: the
 * fixtures are made by `make fixtures`, a missing one is a build error. */
static inline uint8_t *read_fixture(const char *name, size_t *size) {
  const char *dir = getenv("CNNRT_FIXTURES");
  uint8_t *buf = read_dir_file(dir ? dir : "build/fixtures", name, size);
  if (!buf) {
    fprintf(stderr, "missing or unreadable fixture %s/%s (run `make fixtures`)\n", dir ? dir : "build/fixtures", name);
    exit(2);
  }
  return buf;
}

/* CRC-32 (IEEE), written independently of the library's. */
static inline uint32_t test_crc32(const uint8_t *p, size_t n) {
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

static inline uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Recomputes the header checksum (docs/FORMAT.md: CRC-32 of bytes [20, file size)
 * stored at offset 16), so a patched model fails for the patched reason. */
static inline void fix_checksum(uint8_t *model) {
  uint32_t size = rd32(model + 12);
  wr32(model + 16, test_crc32(model + 20, size - 20));
}

/* Total bytes of the model's inputs (or, `outputs` nonzero, its outputs):
 * one sample in a .inputs.bin / .outputs.bin file; 0 when an info call fails. */
static inline size_t sample_bytes(const cnn_model *model, int outputs) {
  int32_t n = outputs ? cnn_model_output_count(model) : cnn_model_input_count(model);
  size_t total = 0;
  for (int32_t k = 0; k < n; k++) {
    cnn_tensor_info info;
    if ((outputs ? cnn_model_output_info(model, k, &info) : cnn_model_input_info(model, k, &info)) != CNN_STATUS_OK) {
      return 0;
    }
    total += info.byte_size;
  }
  return total;
}

/* Loads a fixture into a model and an allocated context; fails the test on error. */
typedef struct {
  uint8_t *bytes;
  cnn_model *model;
  cnn_context *ctx;
} loaded_model;

/* Loads model bytes (kept in `bytes`, which unload() frees) with the kernel
 * path the environment's CNNRT_ISA asks for; exits on error. */
static inline loaded_model load_bytes(uint8_t *bytes, size_t size, const char *what) {
  loaded_model m = {0};
  char why[256];
  m.bytes = bytes;
  cnn_status st = cnn_model_load_memory(m.bytes, size, &m.model, why, sizeof why);
  if (st != CNN_STATUS_OK) {
    fprintf(stderr, "load %s: %s: %s\n", what, cnn_status_string(st), why);
    exit(2);
  }
  st = cnn_context_create(m.model, &m.ctx);
  if (st != CNN_STATUS_OK) {
    fprintf(stderr, "context %s: %s\n", what, cnn_status_string(st));
    exit(2);
  }
  return m;
}

static inline loaded_model load_fixture(const char *name) {
  size_t size = 0;
  uint8_t *bytes = read_fixture(name, &size);
  return load_bytes(bytes, size, name);
}

static inline void unload(loaded_model *m) {
  cnn_context_free(m->ctx);
  cnn_model_free(m->model);
  free(m->bytes);
}

/* One TFLM golden case: fixture golden_NAME.cnnrt loaded (model and a
 * context), with its recorded samples NAME.inputs.bin and NAME.outputs.bin
 * (every input, then every output, of each sample in turn). */
typedef struct {
  char name[256];
  uint8_t *inputs, *expected;
  size_t in_bytes, out_bytes, count; /* bytes per sample; samples */
  loaded_model m;
} golden_case;

/* The golden vectors' directory: $CNNRT_GOLDEN_DIR, else Tests/Golden/tflm. */
static inline const char *golden_dir(void) {
  const char *dir = getenv("CNNRT_GOLDEN_DIR");
  return dir ? dir : "Tests/Golden/tflm";
}

/* Loads every case listed in the golden_models.txt fixture (*count of them,
 * in list order) with its vectors from golden_dir(); exits when a file is
 * missing or its size is not a whole number of the model's samples. */
static inline golden_case *load_golden_cases(size_t *count) {
  const char *dir = golden_dir();
  size_t size = 0, start = 0, n = 0;
  char *list = (char *)read_fixture("golden_models.txt", &size);
  for (size_t i = 0; i < size; i++) n += list[i] == '\n';
  golden_case *cases = calloc(n ? n : 1, sizeof *cases);
  if (!cases) exit(2);
  n = 0;
  for (size_t i = 0; i < size; i++) {
    if (list[i] != '\n') continue;
    list[i] = '\0';
    const char *fixture = list + start;
    start = i + 1;
    golden_case *c = &cases[n++];
    const size_t len = strlen(fixture), pre = strlen("golden_"), suf = strlen(".cnnrt");
    if (len <= pre + suf || len - pre - suf >= sizeof c->name || strncmp(fixture, "golden_", pre) != 0) {
      fprintf(stderr, "golden_models.txt: bad entry '%s'\n", fixture);
      exit(2);
    }
    memcpy(c->name, fixture + pre, len - pre - suf);
    char file[600];
    size_t in_size = 0, out_size = 0;
    snprintf(file, sizeof file, "%s.inputs.bin", c->name);
    c->inputs = read_dir_file(dir, file, &in_size);
    snprintf(file, sizeof file, "%s.outputs.bin", c->name);
    c->expected = read_dir_file(dir, file, &out_size);
    if (!c->inputs || !c->expected) {
      fprintf(stderr, "cannot read the golden vectors of %s in %s\n", c->name, dir);
      exit(2);
    }
    c->m = load_fixture(fixture);
    c->in_bytes = sample_bytes(c->m.model, 0);
    c->out_bytes = sample_bytes(c->m.model, 1);
    c->count = c->in_bytes ? in_size / c->in_bytes : 0;
    if (c->count == 0 || c->out_bytes == 0 || in_size != c->count * c->in_bytes || out_size != c->count * c->out_bytes) {
      fprintf(stderr, "%s: %zu input bytes / %zu per sample, %zu output bytes / %zu per sample do not agree\n",
              c->name, in_size, c->in_bytes, out_size, c->out_bytes);
      exit(2);
    }
  }
  free(list);
  *count = n;
  return cases;
}

static inline void free_golden_cases(golden_case *cases, size_t count) {
  for (size_t i = 0; i < count; i++) {
    unload(&cases[i].m);
    free(cases[i].inputs);
    free(cases[i].expected);
  }
  free(cases);
}

#endif
