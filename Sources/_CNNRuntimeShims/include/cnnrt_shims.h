/*
 * cnnrt_shims.h — the runtime's only window onto libc.
 *
 * Embedded Swift cannot `import Glibc`, so the few libc services the runtime
 * uses are reached through these static inline wrappers. Nothing here is
 * exported from libcnnrt.so (the functions are inlined into their callers).
 * None of these functions is called on the inference path except
 * cnnrt_shim_now_ns (per-op profiling) and memcpy/memset.
 *
 * Bare metal (CNNRT_BARE_METAL, set by `make lib ARCH=cortex-m4|cortex-m0plus`):
 * no heap, no file system, no clock. The library then references no
 * malloc/free/stdio/clock_gettime at all: the allocating convenience calls
 * (cnn_model_load_memory, cnn_context_create) return CNN_STATUS_OUT_OF_MEMORY,
 * cnn_model_load_file returns CNN_STATUS_IO_ERROR, and per-op times are 0.
 * Firmware uses cnn_model_load_static + cnn_context_init (docs/EMBEDDED.md).
 */
#ifndef CNNRT_SHIMS_H
#define CNNRT_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if !defined(CNNRT_BARE_METAL)
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#endif

#if defined(CNNRT_BARE_METAL)
static inline void *cnnrt_shim_aligned_alloc(size_t alignment, size_t size) {
  (void)alignment; (void)size;
  return NULL;
}
static inline void cnnrt_shim_free(void *p) { (void)p; }
#else

/* Allocation: used only by the convenience create/load calls, never by
 * cnn_run/cnn_classify. Returns NULL on failure. */
static inline void *cnnrt_shim_aligned_alloc(size_t alignment, size_t size) {
  void *p = NULL;
  if (size == 0) size = alignment;
  if (posix_memalign(&p, alignment, size) != 0) return NULL;
  return p;
}

static inline void cnnrt_shim_free(void *p) { free(p); }
#endif

static inline void cnnrt_shim_memcpy(void *dst, const void *src, size_t n) {
  if (n) memcpy(dst, src, n);
}

static inline void cnnrt_shim_memset(void *dst, int value, size_t n) {
  if (n) memset(dst, value, n);
}

/* AddressSanitizer builds of the library only (CNNRT_ASAN_POISON, `make
 * ctest-asan`): around each op the interpreter poisons the memory the op does
 * not own (Runtime/Interpreter.swift), and cnnrt_with_stack_buffer
 * (cnnrt_kernels.h) guards its buffer. The functions come from the sanitizer
 * runtime the test program links. */
#if defined(CNNRT_ASAN_POISON)
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
static inline void cnnrt_shim_asan_poison(void *p, size_t n) { __asan_poison_memory_region(p, n); }
static inline void cnnrt_shim_asan_unpoison(void *p, size_t n) { __asan_unpoison_memory_region(p, n); }
#endif

/* File reading for cnn_model_load_file. Returns 0 on success, -1 when the file
 * cannot be opened, -2 when its size cannot be determined or it is too large,
 * -3 on a short read, -4 when memory is exhausted, -5 when the build has no
 * file system (bare metal). On success *out_data is an allocation of at least
 * 64-byte alignment that the caller frees with cnnrt_shim_free. */
#if defined(CNNRT_BARE_METAL)
static inline int cnnrt_shim_read_file(const char *path, void **out_data, size_t *out_size) {
  (void)path; (void)out_data; (void)out_size;
  return -5;
}

/* No clock on bare metal: per-op times read 0. */
static inline uint64_t cnnrt_shim_now_ns(void) { return 0; }
#else
static inline int cnnrt_shim_read_file(const char *path, void **out_data, size_t *out_size) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return -2; }
  long len = ftell(f);
  if (len < 0 || (unsigned long)len > (unsigned long)0x7fffffff) { fclose(f); return -2; }
  if (fseek(f, 0, SEEK_SET) != 0) { fclose(f); return -2; }
  void *buf = cnnrt_shim_aligned_alloc(64, (size_t)len);
  if (!buf) { fclose(f); return -4; }
  size_t got = len ? fread(buf, 1, (size_t)len, f) : 0;
  fclose(f);
  if (got != (size_t)len) { free(buf); return -3; }
  *out_data = buf;
  *out_size = (size_t)len;
  return 0;
}

/* Monotonic clock in nanoseconds (per-op profiling). */
static inline uint64_t cnnrt_shim_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#endif /* CNNRT_BARE_METAL */

#endif /* CNNRT_SHIMS_H */
