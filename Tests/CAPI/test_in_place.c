/*
 * test_in_place.c - every call that accepts exact in-place use (y == x, ldy == ldx) gives bit for
 * bit what the same call gives out of place: fastfood_forward_*, fastfood_forward_train_* and
 * fastfood_features_forward_*, f32 and f64, one-block and several-block layers (the tile path,
 * the row path for batch 1 and short last units, the dropout path), 1 and 2 threads, plain and
 * normalised layers. Layers of several blocks used to read x after block 0 had overwritten it.
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#include <fastfood.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_RNG_SEED 0x9e3779b97f4a7c15ULL
#include "check.h"


enum call { FORWARD, TRAIN_PLAIN, TRAIN_DROPOUT, FEATURES };
static const char *call_name[] = {"forward", "forward_train (rates 0)", "forward_train (dropout)", "features_forward"};

/* Out of place into `out` (stride ld), then in place on a copy of x (stride ld); 1 if equal. */
#define DEFINE_CASE(T, SUFFIX)                                                                    \
    static int case_##SUFFIX(fastfood_layer *layer, const T *p, size_t batch, const T *x,       \
                             size_t ld, enum call c) {                                          \
        size_t in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer); \
        size_t width = c == FEATURES ? 2 * out : out;                                            \
        T *ref = xmalloc(batch * ld * sizeof(T)), *inplace = xmalloc(batch * ld * sizeof(T));   \
        memcpy(inplace, x, batch * ld * sizeof(T));                                              \
        memset(ref, 0, batch * ld * sizeof(T));                                                  \
        fastfood_status a = FASTFOOD_OK, b = FASTFOOD_OK;                                        \
        switch (c) {                                                                              \
        case FORWARD:                                                                             \
            a = fastfood_forward_##SUFFIX(layer, p, batch, x, ld, ref, ld);                      \
            b = fastfood_forward_##SUFFIX(layer, p, batch, inplace, ld, inplace, ld);            \
            break;                                                                                \
        case TRAIN_PLAIN:                                                                         \
            a = fastfood_forward_train_##SUFFIX(layer, p, batch, x, ld, ref, ld, 0, 0, 0, 5, 1); \
            b = fastfood_forward_train_##SUFFIX(layer, p, batch, inplace, ld, inplace, ld, 0, 0, 0, 5, 1); \
            break;                                                                                \
        case TRAIN_DROPOUT:                                                                       \
            a = fastfood_forward_train_##SUFFIX(layer, p, batch, x, ld, ref, ld, 0.1, 0.2, 0.3, 5, 7); \
            b = fastfood_forward_train_##SUFFIX(layer, p, batch, inplace, ld, inplace, ld, 0.1, 0.2, 0.3, 5, 7); \
            break;                                                                                \
        case FEATURES:                                                                            \
            a = fastfood_features_forward_##SUFFIX(layer, p, batch, x, ld, ref, ld);             \
            b = fastfood_features_forward_##SUFFIX(layer, p, batch, inplace, ld, inplace, ld);   \
            break;                                                                                \
        }                                                                                         \
        int same = a == FASTFOOD_OK && b == FASTFOOD_OK;                                          \
        for (size_t r = 0; same && r < batch; r++)                                                \
            same = memcmp(ref + r * ld, inplace + r * ld, width * sizeof(T)) == 0;                \
        if (!same)                                                                                \
            printf("FAIL: %s " #SUFFIX " in place differs: %zu -> %zu, batch %zu, flags %u, %zu threads\n", \
                   call_name[c], in, out, batch, fastfood_layer_flags(layer), fastfood_get_num_threads()); \
        free(ref);                                                                                \
        free(inplace);                                                                            \
        return same;                                                                              \
    }
DEFINE_CASE(float, f32)
DEFINE_CASE(double, f64)

int main(void) {
    /* Several blocks (out > D) first: the shapes that were wrong; then one-block shapes. */
    static const size_t shapes[][2] = {{3, 5}, {8, 16}, {64, 200}, {257, 1030}, {700, 3000},
                                       {1, 3}, {100, 50}, {100, 100}, {16, 16}};
    static const size_t batches[] = {1, 3, 16, 37};
    static const uint32_t layer_flags[] = {0, FASTFOOD_LAYER_BIAS, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED};
    for (size_t threads = 1; threads <= 2; threads++) {
        CHECK(fastfood_set_num_threads(threads) == FASTFOOD_OK);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (size_t f = 0; f < 3; f++) {
                size_t in = shapes[s][0], out = shapes[s][1];
                fastfood_layer *layer = NULL;
                if (fastfood_layer_create(in, out, 11 + s, layer_flags[f], &layer) != FASTFOOD_OK) return 2;
                size_t n = fastfood_layer_param_count(layer);
                float *p32 = xmalloc(n * sizeof *p32);
                double *p64 = xmalloc(n * sizeof *p64);
                fastfood_init_params_preset_f64(layer, FASTFOOD_INIT_VARIANCE, 3, 1.4, p64);
                for (size_t i = 0; i < n; i++) p64[i] += 0.01 * uniform(); /* bias and S not constant */
                for (size_t i = 0; i < n; i++) p32[i] = (float)p64[i];
                for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++)
                    for (int c = FORWARD; c <= FEATURES; c++) {
                        size_t batch = batches[bi];
                        size_t width = c == FEATURES ? 2 * out : out;
                        size_t ld = (in > width ? in : width) + (bi % 2); /* tight and padded strides */
                        double *x64 = xmalloc(batch * ld * sizeof *x64);
                        float *x32 = xmalloc(batch * ld * sizeof *x32);
                        for (size_t i = 0; i < batch * ld; i++) x32[i] = (float)(x64[i] = uniform());
                        CHECK(case_f32(layer, p32, batch, x32, ld, (enum call)c));
                        CHECK(case_f64(layer, p64, batch, x64, ld, (enum call)c));
                        free(x64);
                        free(x32);
                    }
                free(p32);
                free(p64);
                fastfood_layer_destroy(layer);
            }
    }
    return report();
}
