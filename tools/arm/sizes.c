/* sizes — for each model file: the kernel path the library chose, the
 * prepared model block (cnn_model_memory_size: packed weights included) and
 * the context arena (cnn_context_arena_size), in bytes, one line per model:
 *   <file> <kernel path> <model block bytes> <arena bytes>
 * Built for each target by `make arm-report` (tools/arm/report.sh). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cnnrt.h"

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) { fprintf(stderr, "%s: cannot open\n", argv[i]); return 2; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = aligned_alloc(64, ((size_t)n + 63) / 64 * 64);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "%s: cannot read\n", argv[i]); return 2; }
    fclose(f);
    char why[256] = "";
    size_t block = 0, arena = 0;
    cnn_model *model = NULL;
    cnn_status st = cnn_model_memory_size(data, (size_t)n, &block);
    if (st == CNN_STATUS_OK) st = cnn_model_load_memory(data, (size_t)n, &model, why, sizeof why);
    if (st == CNN_STATUS_OK) st = cnn_context_arena_size(model, &arena);
    if (st != CNN_STATUS_OK) { fprintf(stderr, "%s: %s %s\n", argv[i], cnn_status_string(st), why); return 3; }
    printf("%s %s %zu %zu\n", argv[i], cnn_model_kernel_path(model), block, arena);
    cnn_model_free(model);
    free(data);
  }
  return 0;
}
