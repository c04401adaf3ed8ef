/*
 * test_in_place.c - every call that accepts exact in-place use gives bit for bit what the same
 * call gives out of place: the forwards with y == x (fastfood_forward_*, fastfood_forward_train_*,
 * fastfood_features_forward_*) and, since 1.4, the backwards with dx == dy (dphi), dx == x and
 * dx == phi (fastfood_backward_*, fastfood_backward_train_*, fastfood_features_backward_*,
 * fastfood_features_backward_from_phi_*; with FASTFOOD_ACCUMULATE too, where dx's old values are
 * the input's), f32 and f64, one-block and several-block layers (the tile path, the row path for
 * batch 1 and short last units, the dropout path), 1 and 2 threads, plain and normalised layers.
 * Layers of several blocks used to read x after block 0 had overwritten it. Also: two matrices
 * interleaved in the rows of one buffer (x and y side by side) are not an overlap, and a single
 * row is in place with any row strides.
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

enum backward_call { BACKWARD, TRAIN_BACKWARD, FEATURES_BACKWARD, FROM_PHI };
static const char *backward_name[] = {"backward", "backward_train (dropout)", "features_backward",
                                      "features_backward_from_phi"};
/* Which input dx replaces. */
enum alias { DX_IS_DY, DX_IS_X, DX_IS_PHI };
static const char *alias_name[] = {"dx == dy", "dx == x", "dx == phi"};
/* The flag cases: plain with dparams, accumulating into dx and dparams, and dparams NULL. */
enum grads { FULL, ACCUMULATE, NO_DPARAMS };

/* The backward call c on the given buffers (all of stride ld). */
#define DEFINE_BACKWARD_CALL(T, SUFFIX)                                                            \
    static fastfood_status backward_call_##SUFFIX(fastfood_layer *layer, const T *p, size_t batch, \
                                                  size_t ld, enum backward_call c, uint32_t flags, \
                                                  const T *x, const T *dy, const T *phi, T *dx, T *dp) { \
        switch (c) {                                                                              \
        case BACKWARD: return fastfood_backward_##SUFFIX(layer, p, batch, x, ld, dy, ld, dx, ld, dp, flags); \
        case TRAIN_BACKWARD:                                                                      \
            return fastfood_backward_train_##SUFFIX(layer, p, batch, x, ld, dy, ld, dx, ld, dp, flags, \
                                                    0.1, 0.2, 0.3, 5, 7);                        \
        case FEATURES_BACKWARD:                                                                   \
            return fastfood_features_backward_##SUFFIX(layer, p, batch, x, ld, dy, ld, dx, ld, dp, flags); \
        case FROM_PHI:                                                                            \
            return fastfood_features_backward_from_phi_##SUFFIX(layer, p, batch, x, ld, phi, ld, dy, ld, dx, ld, \
                                                                dp, flags);                       \
        }                                                                                         \
        return FASTFOOD_ERROR_INVALID_ARGUMENT;                                                   \
    }
DEFINE_BACKWARD_CALL(float, f32)
DEFINE_BACKWARD_CALL(double, f64)

/* The backward call c, out of place into dx_ref / dp_ref, then in place (dx is the `alias` input,
 * on a copy of it); 1 if dx and dparams are bitwise equal. x, dy, phi: batch rows, stride ld. */
#define DEFINE_BACKWARD_CASE(T, SUFFIX)                                                            \
    static int backward_case_##SUFFIX(fastfood_layer *layer, const T *p, size_t batch, const T *x, \
                                      const T *dy, const T *phi, size_t ld, enum backward_call c,  \
                                      enum alias a, enum grads g) {                                 \
        size_t in = fastfood_layer_in_features(layer), n = fastfood_layer_param_count(layer);     \
        const T *source = a == DX_IS_DY ? dy : a == DX_IS_X ? x : phi;                           \
        T *dx_ref = xmalloc(batch * ld * sizeof(T)), *dx = xmalloc(batch * ld * sizeof(T));       \
        T *dp_ref = xmalloc(n * sizeof(T)), *dp = xmalloc(n * sizeof(T));                         \
        /* Accumulating in place adds to the input's values: the reference starts from them. */  \
        memcpy(dx_ref, source, batch * ld * sizeof(T));                                           \
        memcpy(dx, source, batch * ld * sizeof(T));                                               \
        for (size_t i = 0; i < n; i++) dp_ref[i] = dp[i] = (T)0.25;                               \
        uint32_t flags = g == ACCUMULATE ? FASTFOOD_ACCUMULATE : 0;                               \
        fastfood_status s1 = backward_call_##SUFFIX(layer, p, batch, ld, c, flags, x, dy, phi, dx_ref, \
                                                    g == NO_DPARAMS ? NULL : dp_ref);             \
        fastfood_status s2 = backward_call_##SUFFIX(layer, p, batch, ld, c, flags, a == DX_IS_X ? dx : x, \
                                                    a == DX_IS_DY ? dx : dy, a == DX_IS_PHI ? dx : phi, dx, \
                                                    g == NO_DPARAMS ? NULL : dp);                 \
        int same = s1 == FASTFOOD_OK && s2 == FASTFOOD_OK;                                        \
        for (size_t r = 0; same && r < batch; r++)                                                \
            same = memcmp(dx_ref + r * ld, dx + r * ld, in * sizeof(T)) == 0;                     \
        if (same && g != NO_DPARAMS) same = memcmp(dp_ref, dp, n * sizeof(T)) == 0;               \
        if (!same)                                                                                \
            printf("FAIL: %s " #SUFFIX " with %s differs: %zu -> %zu, batch %zu, flags %u, grads %d, %zu threads\n", \
                   backward_name[c], alias_name[a], in, fastfood_layer_out_features(layer), batch, \
                   fastfood_layer_flags(layer), (int)g, fastfood_get_num_threads());             \
        free(dx_ref);                                                                             \
        free(dx);                                                                                 \
        free(dp_ref);                                                                             \
        free(dp);                                                                                 \
        return same;                                                                              \
    }
DEFINE_BACKWARD_CASE(float, f32)
DEFINE_BACKWARD_CASE(double, f64)

/* Every backward call with every alias it reads (dx == x only where x is read), for one layer. */
#define BACKWARD_CASES(T, SUFFIX, layer, p, batch, ld_extra)                                        \
    do {                                                                                          \
        size_t in_ = fastfood_layer_in_features(layer), out_ = fastfood_layer_out_features(layer); \
        size_t ld_ = (in_ > 2 * out_ ? in_ : 2 * out_) + (ld_extra);                              \
        T *x_ = xmalloc((batch) * ld_ * sizeof(T)), *dy_ = xmalloc((batch) * ld_ * sizeof(T));    \
        T *phi_ = xmalloc((batch) * ld_ * sizeof(T));                                             \
        for (size_t i = 0; i < (batch) * ld_; i++) x_[i] = (T)uniform(), dy_[i] = (T)uniform();   \
        CHECK(fastfood_features_forward_##SUFFIX(layer, p, batch, x_, ld_, phi_, ld_) == FASTFOOD_OK); \
        for (int c = BACKWARD; c <= FROM_PHI; c++)                                                \
            for (int a = DX_IS_DY; a <= (c == FROM_PHI ? DX_IS_PHI : DX_IS_X); a++)               \
                for (int g = FULL; g <= NO_DPARAMS; g++) {                                        \
                    if (a == DX_IS_X && g == NO_DPARAMS && c != FEATURES_BACKWARD) continue; /* x unread */ \
                    CHECK(backward_case_##SUFFIX(layer, p, batch, x_, dy_, phi_, ld_, (enum backward_call)c, \
                                                 (enum alias)a, (enum grads)g));                  \
                }                                                                                 \
        free(x_);                                                                                 \
        free(dy_);                                                                                \
        free(phi_);                                                                               \
    } while (0)

/* x and y side by side in the rows of one buffer (stride in + out, or in + 2 out for the
 * features): the same results as separate buffers, and no overlap error. */
static void interleaved(fastfood_layer *layer, const float *p, size_t batch) {
    size_t in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer);
    for (int features = 0; features <= 1; features++) {
        size_t width = features ? 2 * out : out, ld = in + width;
        float *both = xmalloc(batch * ld * sizeof *both), *y = xmalloc(batch * width * sizeof *y);
        for (size_t i = 0; i < batch * ld; i++) both[i] = (float)uniform();
        fastfood_status a = features ? fastfood_features_forward_f32(layer, p, batch, both, ld, y, width)
                                     : fastfood_forward_f32(layer, p, batch, both, ld, y, width);
        fastfood_status b = features ? fastfood_features_forward_f32(layer, p, batch, both, ld, both + in, ld)
                                     : fastfood_forward_f32(layer, p, batch, both, ld, both + in, ld);
        int same = a == FASTFOOD_OK && b == FASTFOOD_OK;
        for (size_t r = 0; same && r < batch; r++) same = memcmp(y + r * width, both + r * ld + in, width * sizeof *y) == 0;
        if (!same) printf("FAIL: interleaved %s: %zu -> %zu, batch %zu: status %d %d\n", features ? "features" : "forward",
                          in, out, batch, a, b);
        CHECK(same);
        /* The backward of rows [x | dy]: dx into x's columns (exactly x's rows), beside dy. */
        float *dy = both + in, *dx = xmalloc(batch * in * sizeof *dx);
        size_t n = fastfood_layer_param_count(layer);
        float *dp1 = xmalloc(n * sizeof *dp1), *dp2 = xmalloc(n * sizeof *dp2);
        if (!features) {
            a = fastfood_backward_f32(layer, p, batch, both, ld, dy, ld, dx, in, dp1, 0);
            b = fastfood_backward_f32(layer, p, batch, both, ld, dy, ld, both, ld, dp2, 0);
            same = a == FASTFOOD_OK && b == FASTFOOD_OK && memcmp(dp1, dp2, n * sizeof *dp1) == 0;
            for (size_t r = 0; same && r < batch; r++) same = memcmp(dx + r * in, both + r * ld, in * sizeof *dx) == 0;
            if (!same) printf("FAIL: interleaved backward: %zu -> %zu, batch %zu: status %d %d\n", in, out, batch, a, b);
            CHECK(same);
        }
        free(dx);
        free(dp1);
        free(dp2);
        free(both);
        free(y);
    }
}

/* One row in place needs the same pointer only: any ldy (the row stride of a single row is
 * never used to reach another row). */
static void one_row_any_stride(fastfood_layer *layer, const float *p) {
    size_t in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer);
    size_t width = in > out ? in : out;
    float *x = xmalloc(width * sizeof *x), *ref = xmalloc(out * sizeof *ref);
    for (size_t i = 0; i < width; i++) x[i] = (float)uniform();
    fastfood_status a = fastfood_forward_f32(layer, p, 1, x, in, ref, out);
    fastfood_status b = fastfood_forward_f32(layer, p, 1, x, width + 5, x, out + 3);
    int same = a == FASTFOOD_OK && b == FASTFOOD_OK && memcmp(ref, x, out * sizeof *x) == 0;
    if (!same) printf("FAIL: one row in place, strides %zu and %zu: %zu -> %zu: status %d %d\n", width + 5, out + 3,
                      in, out, a, b);
    CHECK(same);
    free(x);
    free(ref);
}

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
                one_row_any_stride(layer, p32);
                for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
                    BACKWARD_CASES(float, f32, layer, p32, batches[bi], bi % 2);
                    BACKWARD_CASES(double, f64, layer, p64, batches[bi], bi % 2);
                    interleaved(layer, p32, batches[bi]);
                }
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
