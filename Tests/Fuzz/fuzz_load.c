/* libFuzzer target: arbitrary bytes → cnn_model_load_memory → (when
 * accepted) a context and one cnn_run. Built by `make fuzz` against the
 * runtime sources compiled with -sanitize=fuzzer,address; any crash, trap,
 * sanitizer report or leak fails the run. Seeds: the C test fixtures. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cnnrt.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  uint8_t *buf = aligned_alloc(64, (size + 63) / 64 * 64);
  memcpy(buf, data, size);
  /* Repair the size and checksum fields so mutations reach the structural
   * checks behind them (the checksum path itself is covered by the unit tests). */
  if (size >= 64) {
    uint32_t n = (uint32_t)size, crc = 0xFFFFFFFFu;
    memcpy(buf + 12, &n, 4);
    for (size_t i = 20; i < size; i++) {
      crc ^= buf[i];
      for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    crc = ~crc;
    memcpy(buf + 16, &crc, 4);
  }
  cnn_model *m = NULL;
  char why[128];
  if (cnn_model_load_memory(buf, size, &m, why, sizeof why) == CNN_STATUS_OK) {
    /* A tiny file may legitimately describe huge activations; running those
     * would only measure the machine's memory, so cap the arena at 64 MiB. */
    size_t arena = 0;
    cnn_context *c = NULL;
    if (cnn_context_arena_size(m, &arena) == CNN_STATUS_OK && arena <= ((size_t)64 << 20) &&
        cnn_context_create(m, &c) == CNN_STATUS_OK) {
      cnn_run(c);
      cnn_context_free(c);
    }
    cnn_model_free(m);
  }
  free(buf);
  return 0;
}
