/*
 * test_variants.c - prints a digest of everything the compute kernels produce, for comparing
 * kernel variants (run it under FASTFOOD_CPU=generic, avx2, avx512: see variants.sh).
 *
 * Covers forward, backward (dx and parameter gradients, with and without ACCUMULATE, and dx
 * only) in float and double for layers with one and several blocks, full and partial tiles and
 * row-path rows, the training calls with dropout at all three sites, the random-feature calls
 * (their cos and sin are the kernels' own; also over a sweep of z itself), and the FWHT for
 * n = 1 .. 2^16. Exits 1 if the library did not select the variant it documents: the one
 * FASTFOOD_CPU names if this CPU runs it, else the widest this CPU runs (so FASTFOOD_CPU=avx512
 * on an AVX2 CPU, or a name of none, gives the widest). Output:
 * "<variant> <64-bit FNV-1a digest in hex>".
 */
#include <fastfood.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t digest = 0xcbf29ce484222325ULL;
static void mix(const void *data, size_t bytes) {
    const unsigned char *p = data;
    for (size_t i = 0; i < bytes; i++) digest = (digest ^ p[i]) * 0x100000001b3ULL;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static double uniform(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1p-52 - 1.0;
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

#define LAYER_CASE(T, SUFFIX)                                                                     \
    static void layer_##SUFFIX(size_t in, size_t out, size_t batch) {                            \
        fastfood_layer *layer = NULL;                                                            \
        if (fastfood_layer_create(in, out, 9, FASTFOOD_LAYER_BIAS, &layer) != FASTFOOD_OK) exit(2); \
        size_t n = fastfood_layer_param_count(layer);                                            \
        T *p = xmalloc(n * sizeof(T)), *dp = xmalloc(n * sizeof(T));                              \
        T *x = xmalloc(batch * in * sizeof(T)), *dx = xmalloc(batch * in * sizeof(T));            \
        T *y = xmalloc(batch * out * sizeof(T));                                                 \
        fastfood_init_params_##SUFFIX(layer, 4, 1.0, p);                                         \
        for (size_t i = 0; i < n; i++) p[i] += (T)(0.01 * uniform());                            \
        for (size_t i = 0; i < batch * in; i++) x[i] = (T)uniform();                             \
        int ok = fastfood_forward_##SUFFIX(layer, p, batch, x, in, y, out) == FASTFOOD_OK;        \
        mix(y, batch * out * sizeof(T));                                                         \
        ok &= fastfood_backward_##SUFFIX(layer, p, batch, x, in, y, out, dx, in, dp, 0) == FASTFOOD_OK; \
        mix(dx, batch * in * sizeof(T));                                                         \
        mix(dp, n * sizeof(T));                                                                  \
        ok &= fastfood_backward_##SUFFIX(layer, p, batch, x, in, y, out, dx, in, dp,              \
                                         FASTFOOD_ACCUMULATE) == FASTFOOD_OK;                     \
        mix(dx, batch * in * sizeof(T));                                                         \
        mix(dp, n * sizeof(T));                                                                  \
        ok &= fastfood_backward_##SUFFIX(layer, p, batch, NULL, in, y, out, dx, in, NULL, 0) == FASTFOOD_OK; \
        mix(dx, batch * in * sizeof(T)); /* dx only: no forward recompute */                      \
        ok &= fastfood_forward_train_##SUFFIX(layer, p, batch, x, in, y, out, 0.1, 0.2, 0.3, 3, 4) == FASTFOOD_OK; \
        mix(y, batch * out * sizeof(T));                                                         \
        ok &= fastfood_backward_train_##SUFFIX(layer, p, batch, x, in, y, out, dx, in, dp, 0, 0.1, 0.2, 0.3, 3, \
                                               4) == FASTFOOD_OK;                                \
        mix(dx, batch * in * sizeof(T));                                                         \
        mix(dp, n * sizeof(T));                                                                  \
        T *phi = xmalloc(batch * 2 * out * sizeof(T));                                           \
        ok &= fastfood_features_forward_##SUFFIX(layer, p, batch, x, in, phi, 2 * out) == FASTFOOD_OK; \
        mix(phi, batch * 2 * out * sizeof(T));                                                   \
        ok &= fastfood_features_backward_##SUFFIX(layer, p, batch, x, in, phi, 2 * out, dx, in, dp, 0) == FASTFOOD_OK; \
        mix(dx, batch * in * sizeof(T));                                                         \
        mix(dp, n * sizeof(T));                                                                  \
        ok &= fastfood_features_backward_from_phi_##SUFFIX(layer, p, batch, x, in, phi, 2 * out, phi, 2 * out, dx, in, dp, \
                                                           0) == FASTFOOD_OK;                    \
        mix(dx, batch * in * sizeof(T));                                                         \
        mix(dp, n * sizeof(T));                                                                  \
        free(phi);                                                                               \
        if (!ok) { fprintf(stderr, "%s\n", fastfood_last_error_message()); exit(2); }             \
        free(p); free(dp); free(x); free(dx); free(y);                                           \
        fastfood_layer_destroy(layer);                                                           \
    }
LAYER_CASE(float, f32)
LAYER_CASE(double, f64)

/* Float cos and sin over a sweep of z itself (each variant's own multiply-adds: the generic one
 * emulates them in double, checked lane by lane): a 1 -> 19 layer whose parameters are all 1
 * has z = x in every output, so phi's rows are cos and sin of x times 1 / sqrt(19), in the
 * vector loop and in the row's tail. Every 7919th float with |z| <= 8192, both signs, then the
 * recomputing features backward of the same x. */
static void features_sweep(void) {
    enum { OUT = 19, BATCH = 1 << 14 };
    fastfood_layer *layer = NULL;
    if (fastfood_layer_create(1, OUT, 3, 0, &layer) != FASTFOOD_OK) exit(2);
    const size_t n = fastfood_layer_param_count(layer);
    float *p = xmalloc(n * sizeof *p), *dp = xmalloc(n * sizeof *dp), *x = xmalloc(BATCH * sizeof *x);
    float *phi = xmalloc(BATCH * 2 * OUT * sizeof *phi), *dx = xmalloc(BATCH * sizeof *dx);
    for (size_t i = 0; i < n; i++) p[i] = 1;
    for (uint32_t sign = 0; sign < 2; sign++)
        for (uint64_t b = 0; b <= 0x46000000u;) {
            size_t m = 0;
            for (; m < BATCH && b <= 0x46000000u; m++, b += 7919) {
                uint32_t u = (uint32_t)b | sign << 31;
                memcpy(&x[m], &u, sizeof u);
            }
            int ok = fastfood_features_forward_f32(layer, p, m, x, 1, phi, 2 * OUT) == FASTFOOD_OK;
            mix(phi, m * 2 * OUT * sizeof *phi);
            ok &= fastfood_features_backward_f32(layer, p, m, x, 1, phi, 2 * OUT, dx, 1, dp, 0) == FASTFOOD_OK;
            mix(dx, m * sizeof *dx);
            mix(dp, n * sizeof *dp);
            if (!ok) { fprintf(stderr, "%s\n", fastfood_last_error_message()); exit(2); }
        }
    free(p); free(dp); free(x); free(phi); free(dx);
    fastfood_layer_destroy(layer);
}

/* 0 generic, 1 avx2, 2 avx512: what this CPU runs, by the criteria the header gives
 * (fastfood_cpu_variant: AVX2 with FMA and BMI2; AVX-512 F, CD, BW, DQ and VL besides). */
static int widest_supported(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2"))) return 0;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx512vl")
               ? 2
               : 1;
#else
    return 0;
#endif
}

int main(void) {
    static const char *const names[] = {"generic", "avx2", "avx512"};
    const char *forced = getenv("FASTFOOD_CPU");
    int widest = widest_supported(), expected = widest;
    for (int v = 0; forced && v <= widest; v++)
        if (strcmp(forced, names[v]) == 0) expected = v;
    const char *variant = fastfood_cpu_variant();
    if (strcmp(variant, names[expected]) != 0) {
        printf("FAIL FASTFOOD_CPU=%s: the library selected %s, not %s\n", forced ? forced : "(unset)", variant,
               names[expected]);
        return 1;
    }
    static const size_t shapes[][3] = {
        {100, 300, 37}, {1024, 1024, 20}, {3, 5, 9}, {257, 1030, 18}, {64, 64, 2}, {4096, 4096, 16},
        /* Last units whose path differs between variants (SmallestTiles): float 15 rows (forward)
         * and 14 (dx only); double 7 (15 = a tile of 8 and 7 rows: the features backward on
         * generic, dx only and the dropout forward on avx512); float 6 (22 = 16 + 6: the dropout
         * forward, a padded tile on avx512 only). */
        {200, 256, 15}, {100, 300, 14}, {1000, 1000, 11}, {300, 200, 22},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        layer_f32(shapes[s][0], shapes[s][1], shapes[s][2]);
        layer_f64(shapes[s][0], shapes[s][1], shapes[s][2]);
    }
    features_sweep();
    for (size_t n = 1; n <= ((size_t)1 << 16); n *= 2) {
        float *f = xmalloc(n * sizeof *f);
        double *d = xmalloc(n * sizeof *d);
        for (size_t i = 0; i < n; i++) d[i] = f[i] = (float)uniform();
        if (fastfood_fwht_f32(f, n, 1, n) != FASTFOOD_OK || fastfood_fwht_f64(d, n, 1, n) != FASTFOOD_OK) return 2;
        mix(f, n * sizeof *f);
        mix(d, n * sizeof *d);
        free(f); free(d);
    }
    printf("%s %016llx\n", variant, (unsigned long long)digest);
    return 0;
}
