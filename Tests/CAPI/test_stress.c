/*
 * test_stress.c - concurrency stress: several threads run forward / backward on one shared layer
 * with their own buffers, while others create, use and destroy their own layers, save and load
 * them, and keep changing the library's thread count. Every shared-layer result must equal the
 * serial result bit for bit (results do not depend on the thread count), and every private
 * layer's results must equal that layer's own first results.
 *
 * Bounded: each thread runs a fixed number of iterations. Prints "N passed, M failed".
 */
#include <fastfood.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum { IN = 300, OUT = 700, BATCH = 37, ITERATIONS = 300 };

static fastfood_layer *shared;
static float *params, *x, *dy, *y_ref, *dx_ref, *dp_ref;
static size_t count;
static atomic_int mismatches, errors, done_workers;

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) { printf("out of memory\n"); exit(2); }
    return p;
}

static void *compute(void *arg) {
    (void)arg;
    float *y = xmalloc(BATCH * OUT * sizeof *y), *dx = xmalloc(BATCH * IN * sizeof *dx);
    float *dp = xmalloc(count * sizeof *dp);
    for (int i = 0; i < ITERATIONS; i++) {
        if (fastfood_forward_f32(shared, params, BATCH, x, IN, y, OUT) != FASTFOOD_OK ||
            fastfood_backward_f32(shared, params, BATCH, x, IN, dy, OUT, dx, IN, dp, 0) != FASTFOOD_OK)
            atomic_fetch_add(&errors, 1);
        if (memcmp(y, y_ref, BATCH * OUT * sizeof *y) != 0 || memcmp(dx, dx_ref, BATCH * IN * sizeof *dx) != 0 ||
            memcmp(dp, dp_ref, count * sizeof *dp) != 0)
            atomic_fetch_add(&mismatches, 1);
    }
    free(y); free(dx); free(dp);
    atomic_fetch_add(&done_workers, 1);
    return NULL;
}

/* Creates, uses, saves, reloads and destroys layers of its own. */
static void *lifecycle(void *arg) {
    uint64_t seed = (uint64_t)(uintptr_t)arg;
    for (int i = 0; i < ITERATIONS / 3; i++) {
        size_t in = 1 + (seed * 31 + (size_t)i * 17) % 200, out = 1 + (seed * 7 + (size_t)i * 29) % 400, batch = 1 + (size_t)i % 20;
        fastfood_layer *layer = NULL, *loaded = NULL;
        if (fastfood_layer_create(in, out, seed + (uint64_t)i, (uint32_t)i & 1, &layer) != FASTFOOD_OK) {
            atomic_fetch_add(&errors, 1);
            continue;
        }
        size_t n = fastfood_layer_param_count(layer), size = 0;
        double *p = xmalloc(n * sizeof *p), *q = xmalloc(n * sizeof *q), *xs = xmalloc(batch * in * sizeof *xs);
        double *y1 = xmalloc(batch * out * sizeof *y1), *y2 = xmalloc(batch * out * sizeof *y2);
        for (size_t k = 0; k < batch * in; k++) xs[k] = (double)((k * 7919) % 13) - 6;
        int ok = fastfood_init_params_f64(layer, seed, 1.0, p) == FASTFOOD_OK;
        ok &= fastfood_forward_f64(layer, p, batch, xs, in, y1, out) == FASTFOOD_OK;
        ok &= fastfood_save_size(layer, FASTFOOD_TYPE_F64, &size) == FASTFOOD_OK;
        void *buffer = xmalloc(size);
        ok &= fastfood_save_f64(layer, p, buffer, size) == FASTFOOD_OK;
        ok &= fastfood_load_f64(buffer, size, &loaded, q, n) == FASTFOOD_OK;
        ok &= loaded && fastfood_forward_f64(loaded, q, batch, xs, in, y2, out) == FASTFOOD_OK;
        if (!ok) atomic_fetch_add(&errors, 1);
        else if (memcmp(y1, y2, batch * out * sizeof *y1) != 0) atomic_fetch_add(&mismatches, 1);
        fastfood_layer_destroy(layer);
        fastfood_layer_destroy(loaded);
        free(p); free(q); free(xs); free(y1); free(y2); free(buffer);
    }
    atomic_fetch_add(&done_workers, 1);
    return NULL;
}

/* Keeps changing the library's thread count until the workers are done. */
static void *changer(void *arg) {
    int workers = (int)(intptr_t)arg, changes = 0;
    while (atomic_load(&done_workers) < workers) {
        if (fastfood_set_num_threads((size_t)(1 + changes % 4)) != FASTFOOD_OK) atomic_fetch_add(&errors, 1);
        changes++;
    }
    printf("  %d thread-count changes during the run\n", changes);
    return NULL;
}

int main(void) {
    CHECK(fastfood_layer_create(IN, OUT, 77, FASTFOOD_LAYER_BIAS, &shared) == FASTFOOD_OK);
    count = fastfood_layer_param_count(shared);
    params = xmalloc(count * sizeof *params);
    x = xmalloc(BATCH * IN * sizeof *x);
    dy = xmalloc(BATCH * OUT * sizeof *dy);
    y_ref = xmalloc(BATCH * OUT * sizeof *y_ref);
    dx_ref = xmalloc(BATCH * IN * sizeof *dx_ref);
    dp_ref = xmalloc(count * sizeof *dp_ref);
    CHECK(fastfood_init_params_f32(shared, 5, 1.0, params) == FASTFOOD_OK);
    for (size_t i = 0; i < BATCH * IN; i++) x[i] = (float)((i * 31) % 17) * 0.1f - 0.8f;
    for (size_t i = 0; i < BATCH * OUT; i++) dy[i] = (float)((i * 13) % 11) * 0.1f - 0.5f;
    /* The serial reference. */
    CHECK(fastfood_set_num_threads(1) == FASTFOOD_OK);
    CHECK(fastfood_forward_f32(shared, params, BATCH, x, IN, y_ref, OUT) == FASTFOOD_OK);
    CHECK(fastfood_backward_f32(shared, params, BATCH, x, IN, dy, OUT, dx_ref, IN, dp_ref, 0) == FASTFOOD_OK);

    enum { COMPUTE = 4, LIFECYCLE = 3 };
    pthread_t threads[COMPUTE + LIFECYCLE + 1];
    for (int t = 0; t < COMPUTE; t++) CHECK(pthread_create(&threads[t], NULL, compute, NULL) == 0);
    for (int t = 0; t < LIFECYCLE; t++)
        CHECK(pthread_create(&threads[COMPUTE + t], NULL, lifecycle, (void *)(uintptr_t)(1000 + t)) == 0);
    CHECK(pthread_create(&threads[COMPUTE + LIFECYCLE], NULL, changer, (void *)(intptr_t)(COMPUTE + LIFECYCLE)) == 0);
    for (int t = 0; t < COMPUTE + LIFECYCLE + 1; t++) CHECK(pthread_join(threads[t], NULL) == 0);

    printf("  %d shared-layer calls, %d private layer lifecycles\n", COMPUTE * ITERATIONS * 2, LIFECYCLE * ITERATIONS / 3);
    CHECK(atomic_load(&errors) == 0);
    CHECK(atomic_load(&mismatches) == 0);
    fastfood_layer_destroy(shared);
    free(params); free(x); free(dy); free(y_ref); free(dx_ref); free(dp_ref);
    return report();
}
