/*
 * test_threads.c - results are bitwise identical for every thread count.
 *
 * For several layers and batch sizes (full 16-row tiles, a partial tile, a leftover small
 * enough for the row path, and batches of more than 64 tiles so parameter gradients are summed
 * in groups), forward, backward and backward with FASTFOOD_ACCUMULATE are run with 1 thread and
 * then with 2, 3, 4 and 7; every output must equal the 1-thread output byte for byte.
 * Also checks fastfood_set_num_threads / fastfood_get_num_threads and their errors.
 *
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#include <fastfood.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_RNG_SEED 0x853c49e6748fea9bULL
#include "check.h"


typedef struct {
    void *y, *dx, *dp, *dx_acc, *dp_acc;
} results;

/* Runs forward and backward (plain and accumulating) with the current thread count. */
#define RUN(T, SUFFIX)                                                                            \
    static results run_##SUFFIX(const fastfood_layer *layer, const T *params, size_t batch,       \
                                const T *x, const T *dy) {                                        \
        size_t in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer);   \
        size_t n = fastfood_layer_param_count(layer);                                             \
        results r = {xmalloc(batch * out * sizeof(T)), xmalloc(batch * in * sizeof(T)),           \
                     xmalloc(n * sizeof(T)), xmalloc(batch * in * sizeof(T)), xmalloc(n * sizeof(T))}; \
        for (size_t i = 0; i < batch * in; i++) ((T *)r.dx_acc)[i] = (T)0.25;                     \
        for (size_t i = 0; i < n; i++) ((T *)r.dp_acc)[i] = (T)-0.5;                               \
        int ok = fastfood_forward_##SUFFIX(layer, params, batch, x, in, r.y, out) == FASTFOOD_OK;  \
        ok &= fastfood_backward_##SUFFIX(layer, params, batch, x, in, dy, out, r.dx, in, r.dp, 0)  \
              == FASTFOOD_OK;                                                                     \
        ok &= fastfood_backward_##SUFFIX(layer, params, batch, x, in, dy, out, r.dx_acc, in,       \
                                         r.dp_acc, FASTFOOD_ACCUMULATE) == FASTFOOD_OK;            \
        CHECK(ok);                                                                                \
        return r;                                                                                 \
    }
RUN(float, f32)
RUN(double, f64)

static int same(const results *a, const results *b, size_t batch, size_t in, size_t out, size_t n,
                size_t element) {
    return memcmp(a->y, b->y, batch * out * element) == 0 &&
           memcmp(a->dx, b->dx, batch * in * element) == 0 &&
           memcmp(a->dp, b->dp, n * element) == 0 &&
           memcmp(a->dx_acc, b->dx_acc, batch * in * element) == 0 &&
           memcmp(a->dp_acc, b->dp_acc, n * element) == 0;
}

static void release(results *r) {
    free(r->y); free(r->dx); free(r->dp); free(r->dx_acc); free(r->dp_acc);
}

static void check_case(size_t in, size_t out, size_t batch, uint32_t flags) {
    static const size_t thread_counts[] = {2, 3, 4, 7};
    fastfood_layer *layer = NULL;
    CHECK(fastfood_layer_create(in, out, 17, flags, &layer) == FASTFOOD_OK);
    size_t n = fastfood_layer_param_count(layer);
    double *p64 = xmalloc(n * sizeof *p64), *x64 = xmalloc(batch * in * sizeof *x64);
    double *dy64 = xmalloc(batch * out * sizeof *dy64);
    float *p32 = xmalloc(n * sizeof *p32), *x32 = xmalloc(batch * in * sizeof *x32);
    float *dy32 = xmalloc(batch * out * sizeof *dy32);
    CHECK(fastfood_init_params_f64(layer, 3, 1.0, p64) == FASTFOOD_OK);
    for (size_t i = 0; i < n; i++) p32[i] = (float)(p64[i] += 0.01 * uniform());
    for (size_t i = 0; i < batch * in; i++) x32[i] = (float)(x64[i] = uniform());
    for (size_t i = 0; i < batch * out; i++) dy32[i] = (float)(dy64[i] = uniform());

    CHECK(fastfood_set_num_threads(1) == FASTFOOD_OK);
    results base32 = run_f32(layer, p32, batch, x32, dy32);
    results base64 = run_f64(layer, p64, batch, x64, dy64);
    for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
        CHECK(fastfood_set_num_threads(thread_counts[t]) == FASTFOOD_OK);
        CHECK(fastfood_get_num_threads() == thread_counts[t]);
        results r32 = run_f32(layer, p32, batch, x32, dy32);
        results r64 = run_f64(layer, p64, batch, x64, dy64);
        int ok32 = same(&base32, &r32, batch, in, out, n, sizeof(float));
        int ok64 = same(&base64, &r64, batch, in, out, n, sizeof(double));
        if (!ok32 || !ok64)
            printf("  differs: %zu -> %zu, batch %zu, %zu threads (f32 %s, f64 %s)\n", in, out, batch,
                   thread_counts[t], ok32 ? "same" : "DIFFERENT", ok64 ? "same" : "DIFFERENT");
        CHECK(ok32);
        CHECK(ok64);
        release(&r32);
        release(&r64);
    }
    release(&base32);
    release(&base64);
    free(p64); free(x64); free(dy64); free(p32); free(x32); free(dy32);
    fastfood_layer_destroy(layer);
}

int main(void) {
    /* Thread-count API. */
    size_t initial = fastfood_get_num_threads();
    CHECK(initial >= 1);
    CHECK(fastfood_set_num_threads(1025) == FASTFOOD_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(fastfood_last_error_message(), "fastfood_set_num_threads: n (1025)") != NULL);
    CHECK(fastfood_set_num_threads(SIZE_MAX) == FASTFOOD_ERROR_INVALID_ARGUMENT);
    CHECK(fastfood_get_num_threads() == initial);
    /* The documented maximum itself is accepted (no call runs meanwhile: no thread starts). */
    CHECK(fastfood_set_num_threads(1024) == FASTFOOD_OK && fastfood_get_num_threads() == 1024);
    CHECK(fastfood_set_num_threads(0) == FASTFOOD_OK); /* one per CPU */
    CHECK(fastfood_get_num_threads() >= 1);

    check_case(100, 300, 37, FASTFOOD_LAYER_BIAS);   /* 2 float tiles + 5-row partial tile */
    check_case(64, 200, 130, FASTFOOD_LAYER_BIAS);   /* 8 tiles + 2 rows by the row path */
    check_case(1024, 1024, 64, 0);                   /* full tiles only */
    check_case(37, 70, 1100, FASTFOOD_LAYER_BIAS);   /* 69 float units: gradient groups */
    check_case(5, 3, 9, FASTFOOD_LAYER_BIAS);        /* tiny block (D = 8) */

    CHECK(fastfood_set_num_threads(initial) == FASTFOOD_OK);
    return report();
}
