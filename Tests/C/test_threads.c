/* The header's thread rules, exercised: a loaded model is immutable and may be
 * shared; each thread uses its own context.
 *
 * Every golden model (golden_models.txt) is loaded once. THREADS threads then
 * each create their own context on every one of those shared models, run
 * SAMPLES of its recorded input samples in each of ROUNDS rounds and compare
 * every output byte with TensorFlow Lite Micro's (as test_golden does). The threads walk the
 * case list from different starting points, so the same model and different
 * models run at the same time. They also classify one image with
 * cnn_classify on the shared demo model (every context reads the model's
 * pixel table, built at load) and compare the probabilities with a
 * single-threaded run.
 *
 * `make ctest` runs it on the library; `make ctest-tsan` (x86-64) runs it on
 * a ThreadSanitizer build of the library, which reports any data race in the
 * runtime or its kernels (a write to the shared model during a run, state
 * shared between contexts). Threads record failures; only the main thread
 * asserts (cmocka is not thread-safe). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

/* Each thread runs SAMPLES recorded samples of every case per round (from a
 * different sample for each thread and round): the point is many runs at
 * once, test_golden runs every sample; and the portable kernels are slow on
 * the ThreadSanitizer build (8 s for this workload, with every sample 9 min). */
enum { THREADS = 4, ROUNDS = 2, SAMPLES = 2, DEMO_SIDE = 28 };

typedef struct {
  const golden_case *cases;
  size_t case_count;
  const cnn_model *demo;
  const float *demo_probabilities;
  size_t demo_classes;
  int index;
  /* Written by the thread, read by main after the join. */
  size_t runs, differing, api_failures, classify_mismatches;
  char first_error[256];
} worker;

static void note(worker *w, const char *what, const char *name, cnn_status st) {
  if (w->first_error[0] == '\0') {
    snprintf(w->first_error, sizeof w->first_error, "thread %d: %s %s: %s", w->index, what, name,
             cnn_status_string(st));
  }
  w->api_failures++;
}

/* One case on a context of this thread's own: SAMPLES samples from `first`
 * on, every output byte. */
static void run_case(worker *w, const golden_case *c, size_t first) {
  cnn_context *ctx = NULL;
  cnn_status st = cnn_context_create(c->m.model, &ctx);
  if (st != CNN_STATUS_OK) {
    note(w, "context", c->name, st);
    return;
  }
  for (size_t j = 0; j < SAMPLES && j < c->count; j++) {
    const size_t s = (first + j) % c->count;
    const uint8_t *x = c->inputs + s * c->in_bytes;
    for (int32_t k = 0; k < cnn_model_input_count(c->m.model); k++) {
      cnn_tensor_info info;
      cnn_model_input_info(c->m.model, k, &info);
      if ((st = cnn_set_input(ctx, k, (const int8_t *)x, info.byte_size)) != CNN_STATUS_OK) note(w, "set_input", c->name, st);
      x += info.byte_size;
    }
    if ((st = cnn_run(ctx)) != CNN_STATUS_OK) note(w, "run", c->name, st);
    w->runs++;
    const uint8_t *want = c->expected + s * c->out_bytes;
    for (int32_t k = 0; k < cnn_model_output_count(c->m.model); k++) {
      const int8_t *got = NULL;
      size_t n = 0;
      if ((st = cnn_output_raw(ctx, k, &got, &n)) != CNN_STATUS_OK) {
        note(w, "output", c->name, st);
        break;
      }
      for (size_t i = 0; i < n; i++) w->differing += (uint8_t)got[i] != want[i];
      want += n;
    }
  }
  cnn_context_free(ctx);
}

static void demo_pixels(uint8_t *px) {
  for (int i = 0; i < DEMO_SIDE * DEMO_SIDE; i++) px[i] = (uint8_t)((i * 37 + (i / DEMO_SIDE) * 11) & 0xff);
}

static void *work(void *arg) {
  worker *w = arg;
  uint8_t px[DEMO_SIDE * DEMO_SIDE];
  demo_pixels(px);
  float probabilities[64];
  for (int r = 0; r < ROUNDS; r++) {
    const size_t start = (size_t)w->index * w->case_count / THREADS;
    for (size_t i = 0; i < w->case_count; i++) {
      run_case(w, &w->cases[(start + i) % w->case_count], (size_t)(r * THREADS + w->index) * SAMPLES);
    }

    cnn_context *ctx = NULL;
    cnn_status st = cnn_context_create(w->demo, &ctx);
    if (st != CNN_STATUS_OK) {
      note(w, "context", "demo", st);
      continue;
    }
    cnn_classification top;
    st = cnn_classify(ctx, px, DEMO_SIDE, DEMO_SIDE, 1, 0, &top, probabilities, w->demo_classes);
    if (st != CNN_STATUS_OK) note(w, "classify", "demo", st);
    else if (memcmp(probabilities, w->demo_probabilities, w->demo_classes * sizeof(float)) != 0) w->classify_mismatches++;
    cnn_context_free(ctx);
  }
  return NULL;
}

static void shared_models_on_many_threads_match_tflm(void **state) {
  (void)state;
  size_t case_count = 0;
  golden_case *cases = load_golden_cases(&case_count);
  assert_true(case_count >= 259);

  loaded_model demo = load_fixture("demo.cnnrt");
  const size_t classes = (size_t)cnn_model_class_count(demo.model);
  assert_true(classes > 0 && classes <= 64);
  uint8_t px[DEMO_SIDE * DEMO_SIDE];
  demo_pixels(px);
  float single[64];
  cnn_classification top;
  assert_int_equal(cnn_classify(demo.ctx, px, DEMO_SIDE, DEMO_SIDE, 1, 0, &top, single, classes), CNN_STATUS_OK);

  worker workers[THREADS];
  pthread_t threads[THREADS];
  memset(workers, 0, sizeof workers);
  for (int t = 0; t < THREADS; t++) {
    workers[t] = (worker){.cases = cases, .case_count = case_count, .demo = demo.model,
                          .demo_probabilities = single, .demo_classes = classes, .index = t};
    assert_int_equal(pthread_create(&threads[t], NULL, work, &workers[t]), 0);
  }
  size_t runs = 0, differing = 0, failures = 0, mismatches = 0;
  for (int t = 0; t < THREADS; t++) {
    assert_int_equal(pthread_join(threads[t], NULL), 0);
    runs += workers[t].runs;
    differing += workers[t].differing;
    failures += workers[t].api_failures;
    mismatches += workers[t].classify_mismatches;
    if (workers[t].first_error[0]) print_error("%s\n", workers[t].first_error);
  }
  const char *isa = getenv("CNNRT_ISA");
  print_message("threads (CNNRT_ISA=%s, kernel path %s): %d threads × %d rounds × %d samples of %zu shared golden models, "
                "%zu runs, %zu bytes differ from TFLM, %zu API failures, %zu classify results differ from one thread's\n",
                isa ? isa : "default", cnn_model_kernel_path(cases[0].m.model), THREADS, ROUNDS, SAMPLES, case_count, runs,
                differing, failures, mismatches);
  /* Runs on a path the CPU may lack (emulated AVX-512) name it. */
  const char *expect = getenv("CNNRT_EXPECT_PATH");
  if (expect) assert_string_equal(cnn_model_kernel_path(cases[0].m.model), expect);
  assert_int_equal(failures, 0);
  assert_int_equal(differing, 0);
  assert_int_equal(mismatches, 0);

  free_golden_cases(cases, case_count);
  unload(&demo);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(shared_models_on_many_threads_match_tflm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
