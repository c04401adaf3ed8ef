/*
 * test_capi.c - tests of libfastfood through <fastfood.h>, exactly as a C caller uses it.
 *
 * Covers every function and every documented error path: status codes, messages, outputs left
 * untouched on failure (canary patterns), the documented permutation generator (re-implemented
 * here from the header's text), forward against an independent O(D^2) reference, backward
 * flags (ACCUMULATE, NULL outputs), FWHT, NaN propagation, and concurrent use of one layer.
 *
 * Prints one line per failed check and ends with "N passed, M failed"; exit status 1 on failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <fastfood.h>

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* The status is `expected` and the thread's message mentions `needle`. */
#define CHECK_STATUS(call, expected, needle)                                          \
    do {                                                                              \
        fastfood_status s_ = (call);                                                  \
        CHECK(s_ == (expected));                                                      \
        if ((needle) != NULL) {                                                       \
            const char *m_ = fastfood_last_error_message();                           \
            if (strstr(m_, (needle)) == NULL) {                                       \
                failed++;                                                             \
                printf("FAIL %s:%d: message \"%s\" lacks \"%s\"\n", __FILE__,         \
                       __LINE__, m_, (const char *)(needle));                         \
            } else {                                                                  \
                passed++;                                                             \
            }                                                                         \
        }                                                                             \
    } while (0)

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        printf("out of memory in test\n");
        exit(2);
    }
    return p;
}

static uint64_t rng_state = 88172645463325252ULL;
static double uniform(void) { /* [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-52 - 1.0;
}

static const float CANARY_F = -12345.5f;
static const double CANARY_D = -12345.5;

static int all_canary_f(const float *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != CANARY_F) return 0;
    return 1;
}
static int all_canary_d(const double *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != CANARY_D) return 0;
    return 1;
}
static void fill_canary_f(float *p, size_t n) { for (size_t i = 0; i < n; i++) p[i] = CANARY_F; }
static void fill_canary_d(double *p, size_t n) { for (size_t i = 0; i < n; i++) p[i] = CANARY_D; }

static fastfood_layer *make_layer(size_t in, size_t out, uint64_t seed, uint32_t flags) {
    fastfood_layer *layer = NULL;
    if (fastfood_layer_create(in, out, seed, flags, &layer) != FASTFOOD_OK) {
        printf("layer_create(%zu, %zu) failed: %s\n", in, out, fastfood_last_error_message());
        exit(2);
    }
    return layer;
}

/* ---- version, status strings, messages ---------------------------------------------------- */

static void test_version(void) {
    CHECK(fastfood_version_number() == FASTFOOD_VERSION_NUMBER);
    CHECK(FASTFOOD_VERSION_NUMBER ==
          FASTFOOD_VERSION_MAJOR * 10000 + FASTFOOD_VERSION_MINOR * 100 + FASTFOOD_VERSION_PATCH);
    CHECK(strcmp(fastfood_version_string(), FASTFOOD_VERSION_STRING) == 0);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", FASTFOOD_VERSION_MAJOR, FASTFOOD_VERSION_MINOR,
             FASTFOOD_VERSION_PATCH);
    CHECK(strcmp(fastfood_version_string(), expected) == 0);
}

static void test_status_strings(void) {
    const fastfood_status known[] = {
        FASTFOOD_OK, FASTFOOD_ERROR_INVALID_ARGUMENT, FASTFOOD_ERROR_NULL_POINTER,
        FASTFOOD_ERROR_SIZE_OVERFLOW, FASTFOOD_ERROR_OUT_OF_MEMORY, FASTFOOD_ERROR_IO,
        FASTFOOD_ERROR_BAD_FORMAT, FASTFOOD_ERROR_UNSUPPORTED_VERSION};
    size_t n = sizeof known / sizeof known[0];
    CHECK(FASTFOOD_OK == 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = fastfood_status_string(known[i]);
        CHECK(s != NULL && s[0] != '\0' && strcmp(s, "unknown status code") != 0);
        for (size_t j = 0; j < i; j++) {
            CHECK(known[i] != known[j]);
            CHECK(strcmp(s, fastfood_status_string(known[j])) != 0);
        }
    }
    /* The strings themselves are those of 1.0: a program that logs or compares them sees no
     * change between versions. */
    static const char *const texts[] = {"success", "invalid argument", "null pointer", "size overflow",
                                        "out of memory", "input/output error", "bad file format",
                                        "unsupported file version"};
    for (size_t i = 0; i < n; i++) CHECK(strcmp(fastfood_status_string(known[i]), texts[i]) == 0);
    const fastfood_status unknown[] = {-1, 8, 1000, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = fastfood_status_string(unknown[i]);
        CHECK(s != NULL && strcmp(s, "unknown status code") == 0);
    }
}

static void *fresh_thread_message(void *arg) {
    (void)arg;
    const char *m = fastfood_last_error_message();
    return (void *)(m != NULL && m[0] == '\0' ? (intptr_t)1 : (intptr_t)0);
}

static void test_messages_are_per_thread(void) {
    fastfood_layer *layer = NULL;
    CHECK_STATUS(fastfood_layer_create(0, 4, 1, 0, &layer), FASTFOOD_ERROR_INVALID_ARGUMENT,
                 "fastfood_layer_create: in_features is 0");
    /* A thread that never failed sees an empty message, not this thread's. */
    pthread_t thread;
    void *result = NULL;
    CHECK(pthread_create(&thread, NULL, fresh_thread_message, NULL) == 0);
    CHECK(pthread_join(thread, &result) == 0);
    CHECK(result == (void *)(intptr_t)1);
    /* Success does not clear the message. */
    fastfood_layer *ok = make_layer(4, 4, 1, 0);
    CHECK(strstr(fastfood_last_error_message(), "in_features is 0") != NULL);
    fastfood_layer_destroy(ok);
}

/* ---- layers -------------------------------------------------------------------------------- */

/* Whether `s` refuses the unknown flag bit `bit` and names it; prints the call's flags otherwise. */
static int refuses_unknown_bit(fastfood_status s, uint32_t bit, const char *what, uint32_t flags) {
    char needle[32];
    snprintf(needle, sizeof needle, "unknown bits 0x%x", bit);
    if (s == FASTFOOD_ERROR_INVALID_ARGUMENT && strstr(fastfood_last_error_message(), needle)) return 1;
    printf("  %s 0x%x: status %d (%s)\n", what, flags, s, fastfood_last_error_message());
    return 0;
}

static void test_layer_create_errors(void) {
    fastfood_layer *const sentinel = (fastfood_layer *)(uintptr_t)0x1234;
    fastfood_layer *layer = sentinel;
    CHECK_STATUS(fastfood_layer_create(4, 4, 1, 0, NULL), FASTFOOD_ERROR_NULL_POINTER, "out_layer");
    CHECK_STATUS(fastfood_layer_create(0, 4, 1, 0, &layer), FASTFOOD_ERROR_INVALID_ARGUMENT, "in_features");
    CHECK_STATUS(fastfood_layer_create(4, 0, 1, 0, &layer), FASTFOOD_ERROR_INVALID_ARGUMENT, "out_features");
    CHECK_STATUS(fastfood_layer_create((size_t)FASTFOOD_MAX_IN_FEATURES + 1, 4, 1, 0, &layer),
                 FASTFOOD_ERROR_INVALID_ARGUMENT, "FASTFOOD_MAX_IN_FEATURES");
    CHECK_STATUS(fastfood_layer_create(SIZE_MAX, 4, 1, 0, &layer), FASTFOOD_ERROR_INVALID_ARGUMENT,
                 "18446744073709551615");
    CHECK_STATUS(fastfood_layer_create(SIZE_MAX / 2, 4, 1, 0, &layer),
                 FASTFOOD_ERROR_INVALID_ARGUMENT, "in_features");
    CHECK_STATUS(fastfood_layer_create(4, SIZE_MAX, 1, 0, &layer), FASTFOOD_ERROR_SIZE_OVERFLOW,
                 "out_features");
    CHECK_STATUS(fastfood_layer_create(4, SIZE_MAX / 8, 1, 0, &layer),
                 FASTFOOD_ERROR_SIZE_OVERFLOW, "more parameters");
    /* 0x2 was an unknown bit in 1.0; since 1.1 it is FASTFOOD_LAYER_NORMALIZED, so 0x4 is tested. */
    CHECK_STATUS(fastfood_layer_create(4, 4, 1, 0x4u, &layer), FASTFOOD_ERROR_INVALID_ARGUMENT,
                 "unknown bits 0x4");
    CHECK_STATUS(fastfood_layer_create(4, 4, 1, 0x80000001u, &layer),
                 FASTFOOD_ERROR_INVALID_ARGUMENT, "flags");
    /* Every unknown bit on its own, beside the known ones, named in the message. */
    int refused = 1;
    for (int bit = 2; bit < 32; bit++) {
        uint32_t flags = FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED | 1u << bit;
        refused &= refuses_unknown_bit(fastfood_layer_create(4, 4, 1, flags, &layer), 1u << bit, "layer flags", flags);
    }
    CHECK(refused);
    /* Representable but far larger than memory: 2^41 permutation entries (8 TiB). */
    CHECK_STATUS(fastfood_layer_create(1u << 30, (size_t)1 << 41, 1, 0, &layer),
                 FASTFOOD_ERROR_OUT_OF_MEMORY, "permutations");
    CHECK(layer == sentinel); /* never written on failure */
}

static void test_layer_queries(void) {
    CHECK(fastfood_layer_in_features(NULL) == 0);
    CHECK(fastfood_layer_out_features(NULL) == 0);
    CHECK(fastfood_layer_block_size(NULL) == 0);
    CHECK(fastfood_layer_num_blocks(NULL) == 0);
    CHECK(fastfood_layer_param_count(NULL) == 0);
    CHECK(fastfood_layer_flags(NULL) == 0);
    CHECK(fastfood_layer_seed(NULL) == 0);
    fastfood_layer_destroy(NULL); /* no-op */

    struct { size_t in, out; uint32_t flags; size_t d, k, p; } cases[] = {
        {1, 1, 0, 1, 1, 3},
        {3, 5, FASTFOOD_LAYER_BIAS, 4, 2, 3 * 8 + 5},
        {8, 8, 0, 8, 1, 24},
        {100, 37, FASTFOOD_LAYER_BIAS, 128, 1, 3 * 128 + 37},
        {64, 200, 0, 64, 4, 3 * 256},
        {257, 1030, FASTFOOD_LAYER_BIAS, 512, 3, 3 * 1536 + 1030},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fastfood_layer *layer = make_layer(cases[i].in, cases[i].out, 77 + i, cases[i].flags);
        CHECK(fastfood_layer_in_features(layer) == cases[i].in);
        CHECK(fastfood_layer_out_features(layer) == cases[i].out);
        CHECK(fastfood_layer_block_size(layer) == cases[i].d);
        CHECK(fastfood_layer_num_blocks(layer) == cases[i].k);
        CHECK(fastfood_layer_param_count(layer) == cases[i].p);
        CHECK(fastfood_layer_flags(layer) == cases[i].flags);
        CHECK(fastfood_layer_seed(layer) == 77 + i);
        fastfood_layer_destroy(layer);
        /* All 64 bits of the seed. */
        const uint64_t wide = 0xfedcba9876543210ULL - i;
        layer = make_layer(cases[i].in, cases[i].out, wide, cases[i].flags);
        CHECK(fastfood_layer_seed(layer) == wide);
        fastfood_layer_destroy(layer);
    }
}

/* The generator exactly as the header documents it, written independently of the library. */
__extension__ typedef unsigned __int128 u128;
static uint64_t draw(uint64_t *state) {
    *state += 0x9e3779b97f4a7c15ULL;
    return splitmix64_mix(*state);
}
static uint64_t draw_below(uint64_t *state, uint64_t bound) {
    u128 m = (u128)draw(state) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = (0 - bound) % bound;
        while (low < threshold) {
            m = (u128)draw(state) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}
static void documented_permutation(uint64_t seed, size_t block, size_t d, size_t *perm) {
    uint64_t state = splitmix64_mix(seed ^ splitmix64_mix(splitmix64_mix(1) + block));
    for (size_t i = 0; i < d; i++) perm[i] = i;
    for (size_t i = d - 1; i > 0; i--) {
        size_t j = (size_t)draw_below(&state, i + 1);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static void test_permutation(void) {
    fastfood_layer *layer = make_layer(100, 300, 0xfeedface, 0); /* D = 128, K = 3 */
    size_t d = 128, k = 3;
    size_t *perm = xmalloc(d * k * sizeof *perm), *expected = xmalloc(d * sizeof *expected);
    CHECK_STATUS(fastfood_layer_permutation(NULL, perm), FASTFOOD_ERROR_NULL_POINTER, "layer");
    CHECK_STATUS(fastfood_layer_permutation(layer, NULL), FASTFOOD_ERROR_NULL_POINTER, "perm");
    CHECK(fastfood_layer_permutation(layer, perm) == FASTFOOD_OK);
    int matches = 1, is_permutation = 1;
    for (size_t b = 0; b < k; b++) {
        documented_permutation(0xfeedface, b, d, expected);
        char seen[128] = {0};
        for (size_t i = 0; i < d; i++) {
            if (perm[b * d + i] != expected[i]) matches = 0;
            if (perm[b * d + i] >= d || seen[perm[b * d + i]]++) is_permutation = 0;
        }
    }
    CHECK(is_permutation);
    CHECK(matches); /* the header's description is the implementation */
    /* Same seed, same layer; another seed, another permutation. */
    fastfood_layer *same = make_layer(100, 300, 0xfeedface, 0), *other = make_layer(100, 300, 1, 0);
    size_t *perm2 = xmalloc(d * k * sizeof *perm2);
    CHECK(fastfood_layer_permutation(same, perm2) == FASTFOOD_OK);
    CHECK(memcmp(perm, perm2, d * k * sizeof *perm) == 0);
    CHECK(fastfood_layer_permutation(other, perm2) == FASTFOOD_OK);
    CHECK(memcmp(perm, perm2, d * k * sizeof *perm) != 0);
    /* A block's permutation does not depend on out_features. */
    fastfood_layer *wider = make_layer(100, 1000, 0xfeedface, 0);
    size_t *perm3 = xmalloc(fastfood_layer_num_blocks(wider) * d * sizeof *perm3);
    CHECK(fastfood_layer_permutation(wider, perm3) == FASTFOOD_OK);
    CHECK(memcmp(perm, perm3, d * k * sizeof *perm) == 0);
    free(perm); free(perm2); free(perm3); free(expected);
    fastfood_layer_destroy(layer); fastfood_layer_destroy(same);
    fastfood_layer_destroy(other); fastfood_layer_destroy(wider);
}

/* ---- initialisation ------------------------------------------------------------------------ */

static void test_init_params(void) {
    fastfood_layer *layer = make_layer(100, 300, 5, FASTFOOD_LAYER_BIAS);
    size_t n = fastfood_layer_param_count(layer), kd = 3 * 128;
    float *p32 = xmalloc(n * sizeof *p32);
    double *p64 = xmalloc(n * sizeof *p64), *again = xmalloc(n * sizeof *again);
    fill_canary_f(p32, n);
    fill_canary_d(p64, n);
    CHECK_STATUS(fastfood_init_params_f32(NULL, 1, 1.0, p32), FASTFOOD_ERROR_NULL_POINTER, "layer");
    CHECK_STATUS(fastfood_init_params_f32(layer, 1, 1.0, NULL), FASTFOOD_ERROR_NULL_POINTER, "params");
    CHECK_STATUS(fastfood_init_params_f64(layer, 1, 0.0, p64), FASTFOOD_ERROR_INVALID_ARGUMENT, "sigma");
    CHECK_STATUS(fastfood_init_params_f64(layer, 1, -2.0, p64), FASTFOOD_ERROR_INVALID_ARGUMENT, "sigma");
    CHECK_STATUS(fastfood_init_params_f32(layer, 1, NAN, p32), FASTFOOD_ERROR_INVALID_ARGUMENT, "sigma");
    CHECK_STATUS(fastfood_init_params_f32(layer, 1, INFINITY, p32), FASTFOOD_ERROR_INVALID_ARGUMENT, "sigma");
    CHECK(all_canary_f(p32, n) && all_canary_d(p64, n));

    CHECK(fastfood_init_params_f64(layer, 42, 2.0, p64) == FASTFOOD_OK);
    CHECK(fastfood_init_params_f32(layer, 42, 2.0, p32) == FASTFOOD_OK);
    int rounded = 1, signs = 1, bias_zero = 1;
    for (size_t i = 0; i < n; i++)
        if (p32[i] != (float)p64[i]) rounded = 0;
    for (size_t i = 2 * kd; i < 3 * kd; i++)
        if (p64[i] != 1.0 && p64[i] != -1.0) signs = 0;
    for (size_t i = 3 * kd; i < n; i++)
        if (p64[i] != 0.0) bias_zero = 0;
    CHECK(rounded);
    CHECK(signs);
    CHECK(bias_zero);
    CHECK(fastfood_init_params_f64(layer, 42, 2.0, again) == FASTFOOD_OK);
    CHECK(memcmp(p64, again, n * sizeof *p64) == 0);
    CHECK(fastfood_init_params_f64(layer, 43, 2.0, again) == FASTFOOD_OK);
    CHECK(memcmp(p64, again, kd * sizeof *p64) != 0);
    free(p32); free(p64); free(again);
    fastfood_layer_destroy(layer);

    /* One input (D = 1, three blocks): G's Gaussians come in pairs, and each block uses one of
     * its pair; the other must land nowhere (not in the next block's G, nor in B after the
     * last block's). S = s / |G| / sigma with s ~ chi(1), so S > 0. */
    fastfood_layer *narrow = make_layer(1, 3, 8, FASTFOOD_LAYER_BIAS);
    double q[3 * 3 + 3];
    CHECK(fastfood_layer_param_count(narrow) == 12);
    fill_canary_d(q, 12);
    CHECK(fastfood_init_params_f64(narrow, 5, 1.0, q) == FASTFOOD_OK);
    int narrow_ok = 1;
    for (int k = 0; k < 3; k++)
        narrow_ok &= q[k] > 0 && isfinite(q[k]) && q[3 + k] != 0 && isfinite(q[3 + k]) &&
                     (q[6 + k] == 1.0 || q[6 + k] == -1.0) && q[9 + k] == 0.0;
    if (!narrow_ok) printf("FAIL: a one-input layer's initialisation: S %g %g %g, G %g %g %g, B %g %g %g\n",
                           q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8]);
    CHECK(narrow_ok);
    fastfood_layer_destroy(narrow);
}

/* ---- forward ------------------------------------------------------------------------------- */

/* Naive reference: explicit Hadamard entries (-1)^popcount(i & j), O(D^2) per transform. */
static void hadamard_naive(const double *in, double *out, size_t d) {
    for (size_t i = 0; i < d; i++) {
        double s = 0;
        for (size_t j = 0; j < d; j++) s += (__builtin_popcountll(i & j) & 1) ? -in[j] : in[j];
        out[i] = s;
    }
}

static void forward_reference(const fastfood_layer *layer, const double *params, const double *x,
                              double *y) {
    size_t in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer);
    size_t d = fastfood_layer_block_size(layer), k = fastfood_layer_num_blocks(layer);
    size_t *perm = xmalloc(d * k * sizeof *perm);
    double *u = xmalloc(d * sizeof *u), *v = xmalloc(d * sizeof *v), *w = xmalloc(d * sizeof *w);
    fastfood_layer_permutation(layer, perm);
    for (size_t b = 0; b < k; b++) {
        const double *s = params + b * d, *g = params + k * d + b * d, *sign = params + 2 * k * d + b * d;
        for (size_t i = 0; i < d; i++) u[i] = i < in ? sign[i] * x[i] : 0;
        hadamard_naive(u, v, d);
        for (size_t i = 0; i < d; i++) u[i] = g[i] * v[perm[b * d + i]];
        hadamard_naive(u, w, d);
        for (size_t i = 0; i < d && b * d + i < out; i++) {
            y[b * d + i] = s[i] * w[i];
            if (fastfood_layer_flags(layer) & FASTFOOD_LAYER_BIAS) y[b * d + i] += params[3 * k * d + b * d + i];
        }
    }
    free(perm); free(u); free(v); free(w);
}

static void test_forward(void) {
    fastfood_layer *layer = make_layer(100, 300, 9, FASTFOOD_LAYER_BIAS);
    size_t out = 300, batch = 3, ldx = 103, ldy = 307;
    size_t n = fastfood_layer_param_count(layer);
    double *params = xmalloc(n * sizeof *params), *x = xmalloc(batch * ldx * sizeof *x);
    double *y = xmalloc(batch * ldy * sizeof *y), *ref = xmalloc(out * sizeof *ref);
    CHECK(fastfood_init_params_f64(layer, 3, 1.0, params) == FASTFOOD_OK);
    for (size_t i = 3 * 384; i < n; i++) params[i] = uniform(); /* non-zero bias */
    for (size_t i = 0; i < batch * ldx; i++) x[i] = uniform();
    fill_canary_d(y, batch * ldy);

    CHECK_STATUS(fastfood_forward_f64(NULL, params, batch, x, ldx, y, ldy), FASTFOOD_ERROR_NULL_POINTER, "layer");
    CHECK_STATUS(fastfood_forward_f64(layer, NULL, batch, x, ldx, y, ldy), FASTFOOD_ERROR_NULL_POINTER, "params");
    CHECK_STATUS(fastfood_forward_f64(layer, params, batch, NULL, ldx, y, ldy), FASTFOOD_ERROR_NULL_POINTER, "x is NULL");
    CHECK_STATUS(fastfood_forward_f64(layer, params, batch, x, ldx, NULL, ldy), FASTFOOD_ERROR_NULL_POINTER, "y is NULL");
    CHECK_STATUS(fastfood_forward_f64(layer, params, batch, x, 99, y, ldy), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldx (99)");
    CHECK_STATUS(fastfood_forward_f64(layer, params, batch, x, ldx, y, 299), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldy (299)");
    CHECK_STATUS(fastfood_forward_f64(layer, params, SIZE_MAX / 64, x, ldx, y, ldy), FASTFOOD_ERROR_SIZE_OVERFLOW, "x would span");
    CHECK_STATUS(fastfood_forward_f64(layer, params, SIZE_MAX, x, ldx, y, ldy), FASTFOOD_ERROR_SIZE_OVERFLOW, "batch");
    CHECK_STATUS(fastfood_forward_f64(layer, params, 2, x, SIZE_MAX, y, ldy), FASTFOOD_ERROR_SIZE_OVERFLOW, "ldx");
    CHECK(all_canary_d(y, batch * ldy));
    CHECK(fastfood_forward_f64(layer, params, 0, NULL, 0, NULL, 0) == FASTFOOD_OK);

    CHECK(fastfood_forward_f64(layer, params, batch, x, ldx, y, ldy) == FASTFOOD_OK);
    double worst = 0, scale = 0;
    int gaps_untouched = 1;
    for (size_t r = 0; r < batch; r++) {
        forward_reference(layer, params, x + r * ldx, ref);
        for (size_t j = 0; j < out; j++) {
            worst = fmax(worst, fabs(y[r * ldy + j] - ref[j]));
            scale = fmax(scale, fabs(ref[j]));
        }
        for (size_t j = out; j < ldy; j++)
            if (y[r * ldy + j] != CANARY_D) gaps_untouched = 0;
    }
    CHECK(scale > 0 && worst / scale < 1e-12);
    CHECK(gaps_untouched);

    /* float32 through the same path agrees with float64 to float accuracy. */
    size_t nx = batch * ldx, ny = batch * ldy;
    float *p32 = xmalloc(n * sizeof *p32), *x32 = xmalloc(nx * sizeof *x32), *y32 = xmalloc(ny * sizeof *y32);
    for (size_t i = 0; i < n; i++) p32[i] = (float)params[i];
    for (size_t i = 0; i < nx; i++) x32[i] = (float)x[i];
    fill_canary_f(y32, ny);
    CHECK_STATUS(fastfood_forward_f32(layer, p32, batch, x32, 50, y32, ldy), FASTFOOD_ERROR_INVALID_ARGUMENT, "fastfood_forward_f32: ldx (50)");
    CHECK(all_canary_f(y32, ny));
    CHECK(fastfood_forward_f32(layer, p32, batch, x32, ldx, y32, ldy) == FASTFOOD_OK);
    double worst32 = 0;
    for (size_t r = 0; r < batch; r++)
        for (size_t j = 0; j < out; j++) worst32 = fmax(worst32, fabs(y32[r * ldy + j] - y[r * ldy + j]));
    CHECK(worst32 / scale < 1e-5);

    /* NaN and infinity propagate; nothing crashes. */
    x32[0] = NAN;
    x32[ldx + 1] = INFINITY;
    CHECK(fastfood_forward_f32(layer, p32, batch, x32, ldx, y32, ldy) == FASTFOOD_OK);
    CHECK(isnan(y32[0]));
    CHECK(!isfinite(y32[ldy]));
    CHECK(isfinite(y32[2 * ldy])); /* row 3 is untouched by the bad rows */

    free(params); free(x); free(y); free(ref); free(p32); free(x32); free(y32);
    fastfood_layer_destroy(layer);
}

/* ---- backward ------------------------------------------------------------------------------ */

static void test_backward(void) {
    fastfood_layer *layer = make_layer(37, 100, 21, FASTFOOD_LAYER_BIAS); /* D = 64, K = 2 */
    size_t in = 37, batch = 4, ldx = 40, lddy = 101, lddx = 39;
    size_t n = fastfood_layer_param_count(layer);
    double *params = xmalloc(n * sizeof *params), *x = xmalloc(batch * ldx * sizeof *x);
    double *dy = xmalloc(batch * lddy * sizeof *dy);
    double *dx = xmalloc(batch * lddx * sizeof *dx), *dp = xmalloc(n * sizeof *dp);
    double *dx2 = xmalloc(batch * lddx * sizeof *dx2), *dp2 = xmalloc(n * sizeof *dp2);
    CHECK(fastfood_init_params_f64(layer, 8, 1.0, params) == FASTFOOD_OK);
    for (size_t i = 0; i < batch * ldx; i++) x[i] = uniform();
    for (size_t i = 0; i < batch * lddy; i++) dy[i] = uniform();
    fill_canary_d(dx, batch * lddx);
    fill_canary_d(dp, n);

#define BW(...) fastfood_backward_f64(__VA_ARGS__)
    CHECK_STATUS(BW(NULL, params, batch, x, ldx, dy, lddy, dx, lddx, dp, 0), FASTFOOD_ERROR_NULL_POINTER, "layer");
    CHECK_STATUS(BW(layer, NULL, batch, x, ldx, dy, lddy, dx, lddx, dp, 0), FASTFOOD_ERROR_NULL_POINTER, "params");
    CHECK_STATUS(BW(layer, params, batch, x, ldx, NULL, lddy, dx, lddx, dp, 0), FASTFOOD_ERROR_NULL_POINTER, "dy");
    CHECK_STATUS(BW(layer, params, batch, NULL, ldx, dy, lddy, dx, lddx, dp, 0), FASTFOOD_ERROR_NULL_POINTER, "x (required when dparams");
    CHECK_STATUS(BW(layer, params, batch, x, 36, dy, lddy, dx, lddx, dp, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldx (36)");
    CHECK_STATUS(BW(layer, params, batch, x, ldx, dy, 99, dx, lddx, dp, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "lddy (99)");
    CHECK_STATUS(BW(layer, params, batch, x, ldx, dy, lddy, dx, 1, dp, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "lddx (1)");
    CHECK_STATUS(BW(layer, params, batch, x, ldx, dy, lddy, dx, lddx, dp, 0x10u), FASTFOOD_ERROR_INVALID_ARGUMENT, "unknown bits 0x10");
    {
        /* Every unknown bit on its own, beside the known ones, named in the message. */
        int refused = 1;
        for (int bit = 4; bit < 32; bit++) {
            uint32_t flags = FASTFOOD_ACCUMULATE | FASTFOOD_SKIP_GRAD_S | 1u << bit;
            refused &= refuses_unknown_bit(BW(layer, params, batch, x, ldx, dy, lddy, dx, lddx, dp, flags), 1u << bit,
                                           "backward flags", flags);
        }
        CHECK(refused);
    }
    CHECK_STATUS(BW(layer, params, SIZE_MAX / 100, x, ldx, dy, lddy, dx, lddx, dp, 0), FASTFOOD_ERROR_SIZE_OVERFLOW, "dy would span");
    CHECK(all_canary_d(dx, batch * lddx) && all_canary_d(dp, n));

    /* Reference result. */
    CHECK(BW(layer, params, batch, x, ldx, dy, lddy, dx, lddx, dp, 0) == FASTFOOD_OK);
    int gaps = 1;
    for (size_t r = 0; r < batch; r++)
        for (size_t j = in; j < lddx; j++)
            if (dx[r * lddx + j] != CANARY_D) gaps = 0;
    CHECK(gaps);

    /* dx does not depend on x; dparams may be skipped, and x is then not needed. */
    fill_canary_d(dx2, batch * lddx);
    CHECK(BW(layer, params, batch, NULL, 0, dy, lddy, dx2, lddx, NULL, 0) == FASTFOOD_OK);
    CHECK(memcmp(dx, dx2, batch * lddx * sizeof *dx) == 0);
    /* dx may be skipped: dparams identical. */
    CHECK(BW(layer, params, batch, x, ldx, dy, lddy, NULL, 0, dp2, 0) == FASTFOOD_OK);
    CHECK(memcmp(dp, dp2, n * sizeof *dp) == 0);
    CHECK(BW(layer, params, batch, NULL, 0, dy, lddy, NULL, 0, NULL, 0) == FASTFOOD_OK);

    /* ACCUMULATE adds exactly the fresh gradient to what was there. */
    double *old_dx = xmalloc(batch * lddx * sizeof *old_dx), *old_dp = xmalloc(n * sizeof *old_dp);
    for (size_t i = 0; i < batch * lddx; i++) old_dx[i] = dx2[i] = uniform();
    for (size_t i = 0; i < n; i++) old_dp[i] = dp2[i] = uniform();
    CHECK(BW(layer, params, batch, x, ldx, dy, lddy, dx2, lddx, dp2, FASTFOOD_ACCUMULATE) == FASTFOOD_OK);
    int exact = 1;
    for (size_t r = 0; r < batch; r++)
        for (size_t j = 0; j < lddx; j++) {
            double want = j < in ? old_dx[r * lddx + j] + dx[r * lddx + j] : old_dx[r * lddx + j];
            if (dx2[r * lddx + j] != want) exact = 0;
        }
    for (size_t i = 0; i < n; i++)
        if (dp2[i] != old_dp[i] + dp[i]) exact = 0;
    CHECK(exact);

    /* Batch 0: the sum over no rows is zero; with ACCUMULATE nothing changes. */
    CHECK(BW(layer, params, 0, NULL, 0, NULL, 0, NULL, 0, dp2, FASTFOOD_ACCUMULATE) == FASTFOOD_OK);
    CHECK(dp2[0] == old_dp[0] + dp[0]);
    CHECK(BW(layer, params, 0, NULL, 0, NULL, 0, NULL, 0, dp2, 0) == FASTFOOD_OK);
    int zeros = 1;
    for (size_t i = 0; i < n; i++)
        if (dp2[i] != 0) zeros = 0;
    CHECK(zeros);

    /* The batch gradient is the sum of per-row gradients (no sample's dy reused for another). */
    double *sum = xmalloc(n * sizeof *sum);
    for (size_t i = 0; i < n; i++) sum[i] = 0;
    for (size_t r = 0; r < batch; r++) {
        CHECK(BW(layer, params, 1, x + r * ldx, ldx, dy + r * lddy, lddy, NULL, 0, dp2, 0) == FASTFOOD_OK);
        for (size_t i = 0; i < n; i++) sum[i] += dp2[i];
    }
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs(sum[i] - dp[i]));
        scale = fmax(scale, fabs(dp[i]));
    }
    CHECK(scale > 0 && worst / scale < 1e-13);

    /* float32 errors are reported under the _f32 name. */
    float dummy[8] = {0};
    CHECK_STATUS(fastfood_backward_f32(layer, dummy, 1, dummy, 0, dummy, 100, NULL, 0, dummy, 0),
                 FASTFOOD_ERROR_INVALID_ARGUMENT, "fastfood_backward_f32: ldx (0)");
#undef BW
    free(params); free(x); free(dy); free(dx); free(dp); free(dx2); free(dp2);
    free(old_dx); free(old_dp); free(sum);
    fastfood_layer_destroy(layer);
}

/* ---- FWHT ---------------------------------------------------------------------------------- */

static void test_fwht(void) {
    float f[64];
    double d[3 * 70];
    fill_canary_f(f, 64);
    CHECK_STATUS(fastfood_fwht_f32(NULL, 8, 1, 8), FASTFOOD_ERROR_NULL_POINTER, "data");
    CHECK_STATUS(fastfood_fwht_f32(f, 0, 1, 8), FASTFOOD_ERROR_INVALID_ARGUMENT, "n is 0");
    CHECK_STATUS(fastfood_fwht_f32(f, 12, 1, 12), FASTFOOD_ERROR_INVALID_ARGUMENT, "n (12) is not a power of two");
    CHECK_STATUS(fastfood_fwht_f32(f, SIZE_MAX, 1, 1), FASTFOOD_ERROR_SIZE_OVERFLOW, "n (");
    CHECK_STATUS(fastfood_fwht_f32(f, 16, 2, 8), FASTFOOD_ERROR_INVALID_ARGUMENT, "stride (8) is smaller than n (16)");
    CHECK_STATUS(fastfood_fwht_f32(f, 16, SIZE_MAX / 8, 16), FASTFOOD_ERROR_SIZE_OVERFLOW, "data would span");
    CHECK_STATUS(fastfood_fwht_f64(d, (size_t)1 << 62, 1, 0), FASTFOOD_ERROR_SIZE_OVERFLOW, "fastfood_fwht_f64");
    CHECK(all_canary_f(f, 64));
    CHECK(fastfood_fwht_f32(NULL, 8, 0, 0) == FASTFOOD_OK);

    /* Three vectors of 64 with stride 70: each equals the naive transform; gaps untouched. */
    double in[3 * 70], want[64];
    fill_canary_d(d, 3 * 70);
    for (size_t c = 0; c < 3; c++)
        for (size_t i = 0; i < 64; i++) in[c * 70 + i] = d[c * 70 + i] = uniform();
    CHECK(fastfood_fwht_f64(d, 64, 3, 70) == FASTFOOD_OK);
    double worst = 0;
    int gaps = 1;
    for (size_t c = 0; c < 3; c++) {
        hadamard_naive(in + c * 70, want, 64);
        for (size_t i = 0; i < 64; i++) worst = fmax(worst, fabs(d[c * 70 + i] - want[i]));
        for (size_t i = 64; i < 70 && c < 2; i++)
            if (d[c * 70 + i] != CANARY_D) gaps = 0;
    }
    CHECK(worst < 1e-12);
    CHECK(gaps);
    /* Applying it twice multiplies by n: exactly, for small integers. */
    for (size_t i = 0; i < 64; i++) f[i] = (float)(i % 5) - 2.0f;
    float orig[64];
    memcpy(orig, f, sizeof f);
    CHECK(fastfood_fwht_f32(f, 64, 1, 0) == FASTFOOD_OK);
    CHECK(fastfood_fwht_f32(f, 64, 1, 0) == FASTFOOD_OK);
    int exact = 1;
    for (size_t i = 0; i < 64; i++)
        if (f[i] != 64.0f * orig[i]) exact = 0;
    CHECK(exact);
}

/* Every FWHT path (in-register stages, wide first sweeps, L1 chunks, outer trips through L2)
 * applies the stages in increasing stride order with the same butterfly, so the result must be
 * bit for bit the textbook radix-2 loop's. Lengths 1 .. 2^17 cover every path for both types. */
#define TEXTBOOK_FWHT(name, type)                                                    \
    static void name(type *v, size_t n) {                                            \
        for (size_t h = 1; h < n; h *= 2)                                            \
            for (size_t s = 0; s < n; s += 2 * h)                                    \
                for (size_t i = s; i < s + h; i++) {                                 \
                    type a = v[i], b = v[i + h];                                     \
                    v[i] = a + b;                                                    \
                    v[i + h] = a - b;                                                \
                }                                                                    \
    }
TEXTBOOK_FWHT(textbook_fwht_f, float)
TEXTBOOK_FWHT(textbook_fwht_d, double)

static void test_fwht_bitwise(void) {
    size_t max = (size_t)1 << 17;
    float *f = xmalloc(max * sizeof *f), *fr = xmalloc(max * sizeof *fr);
    double *d = xmalloc(max * sizeof *d), *dr = xmalloc(max * sizeof *dr);
    int same_f = 1, same_d = 1;
    for (size_t n = 1; n <= max; n *= 2) {
        for (size_t i = 0; i < n; i++) {
            d[i] = dr[i] = uniform();
            f[i] = fr[i] = (float)uniform();
        }
        textbook_fwht_f(fr, n);
        textbook_fwht_d(dr, n);
        if (fastfood_fwht_f32(f, n, 1, n) != FASTFOOD_OK || memcmp(f, fr, n * sizeof *f) != 0) {
            printf("  float32 FWHT of length %zu differs from the radix-2 loop\n", n);
            same_f = 0;
        }
        if (fastfood_fwht_f64(d, n, 1, n) != FASTFOOD_OK || memcmp(d, dr, n * sizeof *d) != 0) {
            printf("  float64 FWHT of length %zu differs from the radix-2 loop\n", n);
            same_d = 0;
        }
    }
    CHECK(same_f);
    CHECK(same_d);
    free(f); free(fr); free(d); free(dr);
}

/* A row's results do not depend on which path ran it: 16 rows (8 for double) go through the
 * interleaved tile kernels, a batch of one row through the row kernels. Forward y and backward
 * dx agree bit for bit; the parameter gradient, summed over the rows in another order by the
 * two paths, agrees to rounding. The shapes pad the input or truncate the output so that whole
 * L1 chunks (D = 1024) and whole outer groups of the transform (D = 16384) are zero padding,
 * which the tile kernels skip. */
static void check_row_and_tile_paths(size_t in, size_t out) {
    fastfood_layer *layer = make_layer(in, out, 17, FASTFOOD_LAYER_BIAS);
    size_t batch = 16, n = fastfood_layer_param_count(layer);
    float *p = xmalloc(n * sizeof *p), *x = xmalloc(batch * in * sizeof *x), *dy = xmalloc(batch * out * sizeof *dy);
    float *y = xmalloc(batch * out * sizeof *y), *dx = xmalloc(batch * in * sizeof *dx);
    float *dp = xmalloc(n * sizeof *dp), *dprow = xmalloc(n * sizeof *dprow), *dpsum = xmalloc(n * sizeof *dpsum);
    float *row = xmalloc((in > out ? in : out) * sizeof *row);
    double *pd = xmalloc(n * sizeof *pd), *xd = xmalloc(batch * in * sizeof *xd), *dyd = xmalloc(batch * out * sizeof *dyd);
    double *yd = xmalloc(batch * out * sizeof *yd), *dxd = xmalloc(batch * in * sizeof *dxd);
    double *rowd = xmalloc((in > out ? in : out) * sizeof *rowd);
    CHECK(fastfood_init_params_f64(layer, 3, 1.0, pd) == FASTFOOD_OK);
    for (size_t i = 0; i < n; i++) p[i] = (float)pd[i];
    for (size_t i = 0; i < batch * in; i++) x[i] = (float)(xd[i] = uniform());
    for (size_t i = 0; i < batch * out; i++) dy[i] = (float)(dyd[i] = uniform());
    CHECK(fastfood_forward_f32(layer, p, batch, x, in, y, out) == FASTFOOD_OK);
    CHECK(fastfood_forward_f64(layer, pd, 8, xd, in, yd, out) == FASTFOOD_OK);
    CHECK(fastfood_backward_f32(layer, p, batch, x, in, dy, out, dx, in, dp, 0) == FASTFOOD_OK);
    CHECK(fastfood_backward_f64(layer, pd, 8, xd, in, dyd, out, dxd, in, NULL, 0) == FASTFOOD_OK);
    memset(dpsum, 0, n * sizeof *dpsum);
    int same_y = 1, same_yd = 1, same_dx = 1, same_dxd = 1;
    for (size_t r = 0; r < batch; r++) {
        CHECK(fastfood_forward_f32(layer, p, 1, x + r * in, in, row, out) == FASTFOOD_OK);
        if (memcmp(row, y + r * out, out * sizeof *row) != 0) same_y = 0;
        CHECK(fastfood_backward_f32(layer, p, 1, x + r * in, in, dy + r * out, out, row, in, dprow, 0) == FASTFOOD_OK);
        if (memcmp(row, dx + r * in, in * sizeof *row) != 0) same_dx = 0;
        for (size_t i = 0; i < n; i++) dpsum[i] += dprow[i];
        if (r < 8) {
            CHECK(fastfood_forward_f64(layer, pd, 1, xd + r * in, in, rowd, out) == FASTFOOD_OK);
            if (memcmp(rowd, yd + r * out, out * sizeof *rowd) != 0) same_yd = 0;
            CHECK(fastfood_backward_f64(layer, pd, 1, xd + r * in, in, dyd + r * out, out, rowd, in, NULL, 0) ==
                  FASTFOOD_OK);
            if (memcmp(rowd, dxd + r * in, in * sizeof *rowd) != 0) same_dxd = 0;
        }
    }
    CHECK(same_y);
    CHECK(same_yd);
    CHECK(same_dx);
    CHECK(same_dxd);
    double worst = 0, largest = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)dp[i] - (double)dpsum[i]);
        if (e > worst) worst = e;
        if (fabs((double)dpsum[i]) > largest) largest = fabs((double)dpsum[i]);
    }
    CHECK(largest > 0);
    CHECK(worst <= 1e-4 * largest);
    free(p); free(x); free(dy); free(y); free(dx); free(dp); free(dprow); free(dpsum); free(row);
    free(pd); free(xd); free(dyd); free(yd); free(dxd); free(rowd);
    fastfood_layer_destroy(layer);
}

static void test_row_and_tile_paths_agree(void) {
    check_row_and_tile_paths(1000, 1500); /* D = 1024, two blocks, the second truncated */
    check_row_and_tile_paths(600, 300);   /* D = 1024: the last L1 chunk of x, the last two of dy, zero */
    check_row_and_tile_paths(9216, 4096); /* D = 16384: whole outer groups of zero padding */
}

/* ---- concurrency --------------------------------------------------------------------------- */

typedef struct {
    const fastfood_layer *layer;
    const float *params, *x;
    float *y;
    size_t batch;
    int ok;
} job;

static void *run_job(void *arg) {
    job *j = arg;
    j->ok = 1;
    for (int rep = 0; rep < 20; rep++)
        if (fastfood_forward_f32(j->layer, j->params, j->batch, j->x, 200, j->y, 500) != FASTFOOD_OK) j->ok = 0;
    return NULL;
}

static void test_concurrent_use(void) {
    enum { THREADS = 8, BATCH = 16 };
    fastfood_layer *layer = make_layer(200, 500, 3, FASTFOOD_LAYER_BIAS);
    size_t n = fastfood_layer_param_count(layer);
    float *params = xmalloc(n * sizeof *params), *x = xmalloc(BATCH * 200 * sizeof *x);
    float *serial = xmalloc(BATCH * 500 * sizeof *serial);
    CHECK(fastfood_init_params_f32(layer, 1, 1.0, params) == FASTFOOD_OK);
    for (size_t i = 0; i < BATCH * 200; i++) x[i] = (float)uniform();
    CHECK(fastfood_forward_f32(layer, params, BATCH, x, 200, serial, 500) == FASTFOOD_OK);
    pthread_t threads[THREADS];
    job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){layer, params, x, xmalloc(BATCH * 500 * sizeof(float)), BATCH, 0};
        CHECK(pthread_create(&threads[t], NULL, run_job, &jobs[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
        CHECK(jobs[t].ok);
        CHECK(memcmp(jobs[t].y, serial, BATCH * 500 * sizeof(float)) == 0);
        free(jobs[t].y);
    }
    free(params); free(x); free(serial);
    fastfood_layer_destroy(layer);
}

/* The library is loaded (linked) before main: it must not have installed signal handlers in the
 * host process (a dynamically linked Swift runtime installs a SIGSEGV backtracer). */
static void test_no_signal_handlers(void) {
#if defined(__SANITIZE_ADDRESS__)
    printf("SKIP signal handlers: AddressSanitizer installs its own (checked in the plain build)\n");
    return;
#endif
    const int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction current;
        CHECK(sigaction(signals[i], NULL, &current) == 0);
        CHECK(current.sa_handler == SIG_DFL);
    }
}

int main(void) {
    test_no_signal_handlers();
    test_version();
    test_status_strings();
    test_messages_are_per_thread();
    test_layer_create_errors();
    test_layer_queries();
    test_permutation();
    test_init_params();
    test_forward();
    test_backward();
    test_fwht();
    test_fwht_bitwise();
    test_row_and_tile_paths_agree();
    test_concurrent_use();
    return report();
}
