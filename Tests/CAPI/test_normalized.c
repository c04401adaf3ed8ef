/*
 * test_normalized.c - FASTFOOD_LAYER_NORMALIZED (orthonormal transforms, since 1.1) through
 * <fastfood.h>:
 *   - the documented identity: a normalised layer with parameters P computes bit for bit what an
 *     unnormalised layer with the same seed computes with P's S section divided by D, and its
 *     gradients are the unnormalised ones with dS divided by D (every call: forward, backward with
 *     flags, the dropout calls, random features);
 *   - gradients against central finite differences in double precision (an oracle that shares
 *     nothing with the kernels);
 *   - the initialisations describe the same function (S multiplied by D exactly), and S is O(1);
 *   - the flag is kept by save / load and reported by fastfood_layer_flags;
 *   - a two-layer network trains with one learning rate for every parameter (SGD, momentum 0.9),
 *     the thing the flag exists for.
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#include <fastfood.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_RNG_SEED 0x2545f4914f6cdd1dULL
#include "check.h"


static fastfood_layer *make_layer(size_t in, size_t out, uint64_t seed, uint32_t flags) {
    fastfood_layer *layer = NULL;
    if (fastfood_layer_create(in, out, seed, flags, &layer) != FASTFOOD_OK) exit(2);
    return layer;
}

static int same(const void *a, const void *b, size_t bytes) { return memcmp(a, b, bytes) == 0; }

/* The identity with the unnormalised layer, for every compute call, in float32. */
static void test_identity(size_t in, size_t out, size_t batch) {
    fastfood_layer *norm = make_layer(in, out, 21, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED);
    fastfood_layer *plain = make_layer(in, out, 21, FASTFOOD_LAYER_BIAS);
    CHECK(fastfood_layer_flags(norm) == (FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED));
    CHECK(fastfood_layer_param_count(norm) == fastfood_layer_param_count(plain));
    size_t n = fastfood_layer_param_count(norm), d = fastfood_layer_block_size(norm);
    size_t kd = d * fastfood_layer_num_blocks(norm);
    float *p = xmalloc(n * sizeof *p), *q = xmalloc(n * sizeof *q);
    CHECK(fastfood_init_params_preset_f32(norm, FASTFOOD_INIT_VARIANCE, 4, 1.4142, p) == FASTFOOD_OK);
    for (size_t i = 0; i < n; i++) p[i] += 0.05f * (float)uniform();
    memcpy(q, p, n * sizeof *p);
    for (size_t i = 0; i < kd; i++) q[i] = p[i] / (float)d; /* exact: D is a power of two */

    size_t wide = 2 * out;
    float *x = xmalloc(batch * in * sizeof *x), *dy = xmalloc(batch * wide * sizeof *dy);
    float *y1 = xmalloc(batch * wide * sizeof *y1), *y2 = xmalloc(batch * wide * sizeof *y2);
    float *dx1 = xmalloc(batch * in * sizeof *dx1), *dx2 = xmalloc(batch * in * sizeof *dx2);
    float *g1 = xmalloc(n * sizeof *g1), *g2 = xmalloc(n * sizeof *g2);
    for (size_t i = 0; i < batch * in; i++) x[i] = (float)uniform();
    for (size_t i = 0; i < batch * wide; i++) dy[i] = (float)uniform();

    CHECK(fastfood_forward_f32(norm, p, batch, x, in, y1, out) == FASTFOOD_OK);
    CHECK(fastfood_forward_f32(plain, q, batch, x, in, y2, out) == FASTFOOD_OK);
    CHECK(same(y1, y2, batch * out * sizeof *y1));
    CHECK(fastfood_forward_train_f32(norm, p, batch, x, in, y1, out, 0.1, 0.2, 0.3, 8, 2) == FASTFOOD_OK);
    CHECK(fastfood_forward_train_f32(plain, q, batch, x, in, y2, out, 0.1, 0.2, 0.3, 8, 2) == FASTFOOD_OK);
    CHECK(same(y1, y2, batch * out * sizeof *y1));
    CHECK(fastfood_features_forward_f32(norm, p, batch, x, in, y1, wide) == FASTFOOD_OK);
    CHECK(fastfood_features_forward_f32(plain, q, batch, x, in, y2, wide) == FASTFOOD_OK);
    CHECK(same(y1, y2, batch * wide * sizeof *y1));

    /* Backward, every flag combination: dx and dG, dB, dbias equal; dS = dS_plain / D. */
    static const uint32_t flag_sets[] = {0, FASTFOOD_ACCUMULATE, FASTFOOD_SKIP_GRAD_G,
                                         FASTFOOD_SKIP_GRAD_S | FASTFOOD_ACCUMULATE,
                                         FASTFOOD_SKIP_GRAD_S | FASTFOOD_SKIP_GRAD_G | FASTFOOD_SKIP_GRAD_B};
    for (int which = 0; which < 3; which++)
        for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
            uint32_t flags = flag_sets[f];
            for (size_t i = 0; i < n; i++) g1[i] = g2[i] = (float)i; /* what ACCUMULATE adds to */
            for (size_t i = 0; i < kd; i++) g2[i] = g1[i] * (float)d; /* old dS, in plain units */
            fastfood_status a, b;
            if (which == 0) {
                a = fastfood_backward_f32(norm, p, batch, x, in, dy, out, dx1, in, g1, flags);
                b = fastfood_backward_f32(plain, q, batch, x, in, dy, out, dx2, in, g2, flags);
            } else if (which == 1) {
                a = fastfood_backward_train_f32(norm, p, batch, x, in, dy, out, dx1, in, g1, flags, 0.1, 0.2, 0.3, 8, 2);
                b = fastfood_backward_train_f32(plain, q, batch, x, in, dy, out, dx2, in, g2, flags, 0.1, 0.2, 0.3, 8, 2);
            } else {
                a = fastfood_features_backward_f32(norm, p, batch, x, in, dy, wide, dx1, in, g1, flags);
                b = fastfood_features_backward_f32(plain, q, batch, x, in, dy, wide, dx2, in, g2, flags);
            }
            CHECK(a == FASTFOOD_OK && b == FASTFOOD_OK);
            CHECK(same(dx1, dx2, batch * in * sizeof *dx1));
            CHECK(same(g1 + kd, g2 + kd, (n - kd) * sizeof *g1));
            int ds_ok = 1;
            /* With ACCUMULATE, old + fresh/D against (old*D + fresh)/D: equal up to one rounding. */
            for (size_t i = 0; i < kd; i++) {
                float expected = g2[i] / (float)d;
                ds_ok &= (flags & FASTFOOD_ACCUMULATE) ? fabsf(g1[i] - expected) <= 1e-6f * fabsf(expected) + 1e-30f
                                                       : g1[i] == expected;
            }
            CHECK(ds_ok);
        }
    free(p); free(q); free(x); free(dy); free(y1); free(y2); free(dx1); free(dx2); free(g1); free(g2);
    fastfood_layer_destroy(norm);
    fastfood_layer_destroy(plain);
}

/* loss = sum(w * y); dparams and dx against central differences in double precision. */
static void test_finite_differences(void) {
    const size_t in = 12, out = 40, batch = 3; /* D = 16, three blocks, the last one truncated */
    fastfood_layer *layer = make_layer(in, out, 5, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED);
    size_t n = fastfood_layer_param_count(layer);
    double *p = xmalloc(n * sizeof *p), *g = xmalloc(n * sizeof *g), *x = xmalloc(batch * in * sizeof *x);
    double *w = xmalloc(batch * out * sizeof *w), *y = xmalloc(batch * out * sizeof *y), *dx = xmalloc(batch * in * sizeof *dx);
    fastfood_init_params_preset_f64(layer, FASTFOOD_INIT_VARIANCE, 2, 1.0, p);
    for (size_t i = 0; i < n; i++) p[i] += 0.1 * uniform();
    for (size_t i = 0; i < batch * in; i++) x[i] = uniform();
    for (size_t i = 0; i < batch * out; i++) w[i] = uniform();
    CHECK(fastfood_backward_f64(layer, p, batch, x, in, w, out, dx, in, g, 0) == FASTFOOD_OK);
    double worst = 0;
    for (size_t i = 0; i < n + batch * in; i++) {
        double *v = i < n ? &p[i] : &x[i - n], saved = *v, h = 1e-6, loss[2];
        for (int side = 0; side < 2; side++) {
            *v = saved + (side ? -h : h);
            fastfood_forward_f64(layer, p, batch, x, in, y, out);
            loss[side] = 0;
            for (size_t j = 0; j < batch * out; j++) loss[side] += w[j] * y[j];
        }
        *v = saved;
        double numeric = (loss[0] - loss[1]) / (2 * h), analytic = i < n ? g[i] : dx[i - n];
        double err = fabs(numeric - analytic) / (1 + fabs(numeric));
        if (err > worst) worst = err;
    }
    if (!(worst < 1e-7)) printf("worst finite-difference error %g\n", worst);
    CHECK(worst < 1e-7);
    free(p); free(g); free(x); free(w); free(y); free(dx);
    fastfood_layer_destroy(layer);
}

/* Every preset: same function as the unnormalised layer; S exactly D times larger and O(1). */
static void test_initialisation(void) {
    const size_t in = 600, out = 1500;
    fastfood_layer *norm = make_layer(in, out, 9, FASTFOOD_LAYER_NORMALIZED);
    fastfood_layer *plain = make_layer(in, out, 9, 0);
    size_t n = fastfood_layer_param_count(norm), d = fastfood_layer_block_size(norm);
    size_t kd = d * fastfood_layer_num_blocks(norm);
    double *a = xmalloc(n * sizeof *a), *b = xmalloc(n * sizeof *b);
    static const uint32_t presets[] = {FASTFOOD_INIT_RBF, FASTFOOD_INIT_VARIANCE, FASTFOOD_INIT_NEAR_IDENTITY};
    static const double values[] = {24.5 /* sqrt(in) */, 1.0, 0.1};
    for (int k = 0; k < 3; k++) {
        CHECK(fastfood_init_params_preset_f64(norm, presets[k], 3, values[k], a) == FASTFOOD_OK);
        CHECK(fastfood_init_params_preset_f64(plain, presets[k], 3, values[k], b) == FASTFOOD_OK);
        int scaled = 1;
        double mean_square = 0;
        for (size_t i = 0; i < kd; i++) {
            scaled &= a[i] == b[i] * (double)d;
            mean_square += a[i] * a[i] / (double)kd;
        }
        CHECK(scaled);
        CHECK(same(a + kd, b + kd, (n - kd) * sizeof *a));
        /* O(1): RBF with sigma = sqrt(in) and VARIANCE with gain 1 give S ~ sqrt(D / in) = 1.3. */
        if (!(mean_square > 0.25 && mean_square < 4)) printf("preset %u: mean S^2 = %g\n", presets[k], mean_square);
        CHECK(mean_square > 0.25 && mean_square < 4);
    }
    /* fastfood_init_params_* is the RBF preset. */
    CHECK(fastfood_init_params_f64(norm, 3, 24.5, b) == FASTFOOD_OK);
    CHECK(fastfood_init_params_preset_f64(norm, FASTFOOD_INIT_RBF, 3, 24.5, a) == FASTFOOD_OK);
    CHECK(same(a, b, n * sizeof *a));
    free(a); free(b);
    fastfood_layer_destroy(norm);
    fastfood_layer_destroy(plain);
}

static void test_save_load(void) {
    fastfood_layer *layer = make_layer(30, 70, 77, FASTFOOD_LAYER_NORMALIZED);
    size_t n = fastfood_layer_param_count(layer), size = 0;
    float *p = xmalloc(n * sizeof *p), *q = xmalloc(n * sizeof *q);
    fastfood_init_params_f32(layer, 1, 2.0, p);
    CHECK(fastfood_save_size(layer, FASTFOOD_TYPE_F32, &size) == FASTFOOD_OK);
    unsigned char *image = xmalloc(size);
    CHECK(fastfood_save_f32(layer, p, image, size) == FASTFOOD_OK);
    CHECK(image[40] == FASTFOOD_LAYER_NORMALIZED && image[41] == 0); /* the flags field */
    uint32_t flags = 0;
    CHECK(fastfood_load_info(image, size, NULL, NULL, NULL, &flags, NULL, NULL) == FASTFOOD_OK);
    CHECK(flags == FASTFOOD_LAYER_NORMALIZED);
    fastfood_layer *loaded = NULL;
    CHECK(fastfood_load_f32(image, size, &loaded, q, n) == FASTFOOD_OK);
    CHECK(fastfood_layer_flags(loaded) == FASTFOOD_LAYER_NORMALIZED);
    CHECK(same(p, q, n * sizeof *p));
    /* An unknown flag bit next to it is still rejected. */
    image[40] |= 0x4;
    reseal(image, size);
    CHECK(fastfood_load_info(image, size, NULL, NULL, NULL, NULL, NULL, NULL) == FASTFOOD_ERROR_BAD_FORMAT);
    CHECK(strstr(fastfood_last_error_message(), "flag") != NULL);
    fastfood_layer *bad = NULL;
    CHECK(fastfood_layer_create(3, 3, 1, 0x4, &bad) == FASTFOOD_ERROR_INVALID_ARGUMENT && bad == NULL);
    free(image); free(p); free(q);
    fastfood_layer_destroy(layer);
    fastfood_layer_destroy(loaded);
}

/* A 64 -> Fastfood 256 (ReLU) -> 4 network fitting a fixed random teacher: SGD with momentum 0.9
 * and ONE learning rate for every parameter, the recipe of a dense layer. */
static double train(uint32_t flags, double lr, int steps) {
    enum { IN = 64, HID = 256, OUT = 4, BATCH = 32 };
    fastfood_layer *layer = make_layer(IN, HID, 1, FASTFOOD_LAYER_BIAS | flags);
    size_t n = fastfood_layer_param_count(layer);
    float *p = xmalloc(n * sizeof *p), *g = xmalloc(n * sizeof *g), *m = calloc(n, sizeof *m);
    static float w2[OUT * HID], dw2[OUT * HID], mw2[OUT * HID], teacher[OUT * IN];
    static float x[BATCH * IN], h[BATCH * HID], dh[BATCH * HID], t[BATCH * OUT];
    fastfood_init_params_preset_f32(layer, FASTFOOD_INIT_VARIANCE, 2, 1.41421356, p);
    uint64_t saved = rng;
    rng = 0x1234;
    for (int i = 0; i < OUT * HID; i++) { w2[i] = (float)(uniform() * 0.108); mw2[i] = 0; } /* ~ 1/sqrt(HID) */
    for (int i = 0; i < OUT * IN; i++) teacher[i] = (float)(uniform() * 0.2);
    double loss = 0;
    for (int step = 0; step < steps; step++) {
        for (int i = 0; i < BATCH * IN; i++) x[i] = (float)uniform();
        for (int r = 0; r < BATCH; r++)
            for (int o = 0; o < OUT; o++) {
                float s = 0;
                for (int i = 0; i < IN; i++) s += teacher[o * IN + i] * x[r * IN + i];
                t[r * OUT + o] = sinf(3 * s);
            }
        fastfood_forward_f32(layer, p, BATCH, x, IN, h, HID);
        for (int i = 0; i < BATCH * HID; i++) h[i] = h[i] > 0 ? h[i] : 0;
        memset(dw2, 0, sizeof dw2);
        loss = 0;
        for (int r = 0; r < BATCH; r++) {
            for (int j = 0; j < HID; j++) dh[r * HID + j] = 0;
            for (int o = 0; o < OUT; o++) {
                float z = 0;
                for (int j = 0; j < HID; j++) z += w2[o * HID + j] * h[r * HID + j];
                float e = (z - t[r * OUT + o]) / (float)BATCH;
                loss += 0.5 * (double)(z - t[r * OUT + o]) * (z - t[r * OUT + o]) / (double)BATCH;
                for (int j = 0; j < HID; j++) {
                    dw2[o * HID + j] += e * h[r * HID + j];
                    dh[r * HID + j] += e * w2[o * HID + j];
                }
            }
            for (int j = 0; j < HID; j++) if (h[r * HID + j] <= 0) dh[r * HID + j] = 0;
        }
        fastfood_backward_f32(layer, p, BATCH, x, IN, dh, HID, NULL, 0, g, 0);
        for (size_t i = 0; i < n; i++) { m[i] = 0.9f * m[i] + g[i]; p[i] -= (float)lr * m[i]; }
        for (int i = 0; i < OUT * HID; i++) { mw2[i] = 0.9f * mw2[i] + dw2[i]; w2[i] -= (float)lr * mw2[i]; }
        if (!isfinite(loss)) break;
    }
    rng = saved;
    free(p); free(g); free(m);
    fastfood_layer_destroy(layer);
    return loss;
}

static void test_one_learning_rate(void) {
    double before = train(FASTFOOD_LAYER_NORMALIZED, 0.0, 1);
    double after = train(FASTFOOD_LAYER_NORMALIZED, 0.05, 400);
    printf("normalised, one learning rate 0.05: loss %.4f -> %.4f\n", before, after);
    CHECK(isfinite(after) && after < 0.5 * before);
    /* The reason for the flag: at the same rate the unnormalised layer does not learn (its S
     * steps are ~D^2 too large relative to S: it blows up or its ReLUs die). */
    double plain = train(0, 0.05, 400);
    printf("unnormalised, same rate: loss %.4g\n", plain);
    CHECK(!(plain < 0.5 * before));
}

int main(void) {
    test_identity(100, 300, 37);
    test_identity(1024, 1024, 20);
    test_identity(5, 3, 1);
    test_finite_differences();
    test_initialisation();
    test_save_load();
    test_one_learning_rate();
    return report();
}
