/*
 * test_training.c - the training features through <fastfood.h>: dropout inside the transform,
 * random-feature maps, initialisation presets, partly adaptive backward, save / load.
 *
 * The documented dropout masks, the saved layer's header (field offsets, the permutation digest)
 * and its CRC-64/XZ checksum are re-implemented here from the header's text, so the header's
 * descriptions are tested too.
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#define CHECK_STATUS(call, expected, needle)                                          \
    do {                                                                              \
        fastfood_status s_ = (call);                                                  \
        CHECK(s_ == (expected));                                                      \
        if (s_ != FASTFOOD_OK && strstr(fastfood_last_error_message(), (needle)) == NULL) { \
            failed++;                                                                 \
            printf("FAIL %s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,   \
                   fastfood_last_error_message(), (needle));                          \
        }                                                                             \
    } while (0)

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { printf("out of memory in test\n"); exit(2); }
    return p;
}

static uint64_t rng = 0x1234567887654321ULL;
static double uniform(void) { /* [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1p-52 - 1.0;
}
static double gaussian(void) {
    double u = (uniform() + 1) / 2 + 1e-300, v = (uniform() + 1) / 2;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static fastfood_layer *make_layer(size_t in, size_t out, uint64_t seed, uint32_t flags) {
    fastfood_layer *layer = NULL;
    if (fastfood_layer_create(in, out, seed, flags, &layer) != FASTFOOD_OK) exit(2);
    return layer;
}

/* ---- the documented dropout masks (fastfood.h, "Training mode"), written from the header ---- */
static uint32_t hash32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}
static int kept(uint64_t seed, uint64_t step, uint64_t row, uint32_t site, uint64_t index, double rate) {
    uint64_t k = splitmix64_mix(splitmix64_mix(splitmix64_mix(seed ^ 0xd1b54a32d192ed03ULL) ^ step) ^ row);
    uint32_t h = hash32((uint32_t)k ^ ((uint32_t)(index >> 1) * 0x9e3779b9U) ^ (site * 0x632be5abU));
    uint32_t draw = (index & 1) ? h >> 16 : h & 0xffffU;
    double threshold = fmin(65535, round(rate * 65536));
    return draw >= (uint32_t)threshold;
}

static void test_dropout(void) {
    const size_t in = 100, out = 300, batch = 40;
    fastfood_layer *layer = make_layer(in, out, 3, 0); /* no bias: outputs are exactly S H G ... */
    size_t n = fastfood_layer_param_count(layer);
    double *p = xmalloc(n * sizeof *p), *x = xmalloc(batch * in * sizeof *x), *xm = xmalloc(batch * in * sizeof *xm);
    double *y = xmalloc(batch * out * sizeof *y), *yt = xmalloc(batch * out * sizeof *yt);
    fastfood_init_params_f64(layer, 1, 1.0, p);
    for (size_t i = 0; i < batch * in; i++) x[i] = uniform();

    /* Rates 0: the plain forward, bit for bit. */
    CHECK(fastfood_forward_f64(layer, p, batch, x, in, y, out) == FASTFOOD_OK);
    CHECK(fastfood_forward_train_f64(layer, p, batch, x, in, yt, out, 0, 0, 0, 9, 1) == FASTFOOD_OK);
    CHECK(memcmp(y, yt, batch * out * sizeof *y) == 0);

    /* Input dropout is the plain forward of the documented masked and scaled input. */
    const double rate = 0.3;
    for (size_t r = 0; r < batch; r++)
        for (size_t i = 0; i < in; i++)
            xm[r * in + i] = x[r * in + i] * (kept(9, 5, r, 1, i, rate) ? 1 / (1 - rate) : 0);
    CHECK(fastfood_forward_f64(layer, p, batch, xm, in, y, out) == FASTFOOD_OK);
    CHECK(fastfood_forward_train_f64(layer, p, batch, x, in, yt, out, rate, 0, 0, 9, 5) == FASTFOOD_OK);
    CHECK(memcmp(y, yt, batch * out * sizeof *y) == 0);

    /* Output dropout: y scaled or zeroed as documented; the kept fraction is 1 - rate. */
    CHECK(fastfood_forward_f64(layer, p, batch, x, in, y, out) == FASTFOOD_OK);
    CHECK(fastfood_forward_train_f64(layer, p, batch, x, in, yt, out, 0, 0, rate, 9, 6) == FASTFOOD_OK);
    int exact = 1;
    size_t zeros = 0;
    for (size_t r = 0; r < batch; r++)
        for (size_t j = 0; j < out; j++) {
            double want = kept(9, 6, r, 3, j, rate) ? y[r * out + j] * (1 / (1 - rate)) : 0;
            if (yt[r * out + j] != want) exact = 0;
            zeros += yt[r * out + j] == 0;
        }
    CHECK(exact);
    double fraction = (double)zeros / (double)(batch * out), sd = sqrt(rate * (1 - rate) / (double)(batch * out));
    CHECK(fabs(fraction - rate) < 5 * sd);

    /* Dropout after PI: about that fraction of the permuted values is dropped, which changes y;
     * another step gives other masks, the same step the same result. */
    double *y2 = xmalloc(batch * out * sizeof *y2);
    CHECK(fastfood_forward_train_f64(layer, p, batch, x, in, yt, out, 0, 0.5, 0, 9, 7) == FASTFOOD_OK);
    CHECK(fastfood_forward_train_f64(layer, p, batch, x, in, y2, out, 0, 0.5, 0, 9, 7) == FASTFOOD_OK);
    CHECK(memcmp(yt, y2, batch * out * sizeof *y2) == 0);
    CHECK(fastfood_forward_train_f64(layer, p, batch, x, in, y2, out, 0, 0.5, 0, 9, 8) == FASTFOOD_OK);
    CHECK(memcmp(yt, y2, batch * out * sizeof *y2) != 0);
    size_t kept_pi = 0, total_pi = 0;
    for (size_t r = 0; r < batch; r++)
        for (size_t i = 0; i < 3 * 128; i++, total_pi++) kept_pi += kept(9, 7, r, 2, i, 0.5);
    CHECK(fabs((double)kept_pi / (double)total_pi - 0.5) < 5 * sqrt(0.25 / (double)total_pi));

    /* Thread count does not matter. */
    size_t threads = fastfood_get_num_threads();
    CHECK(fastfood_set_num_threads(1) == FASTFOOD_OK);
    CHECK(fastfood_forward_train_f64(layer, p, batch, x, in, y2, out, 0.1, 0.2, 0.3, 11, 12) == FASTFOOD_OK);
    CHECK(fastfood_set_num_threads(3) == FASTFOOD_OK);
    CHECK(fastfood_forward_train_f64(layer, p, batch, x, in, yt, out, 0.1, 0.2, 0.3, 11, 12) == FASTFOOD_OK);
    CHECK(memcmp(yt, y2, batch * out * sizeof *y2) == 0);
    CHECK(fastfood_set_num_threads(threads) == FASTFOOD_OK);

    /* Rates are checked. */
    CHECK_STATUS(fastfood_forward_train_f64(layer, p, batch, x, in, yt, out, 1.0, 0, 0, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "drop_input (1.0)");
    CHECK_STATUS(fastfood_forward_train_f64(layer, p, batch, x, in, yt, out, 0, -0.1, 0, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "drop_permuted");
    CHECK_STATUS(fastfood_backward_train_f64(layer, p, batch, x, in, y, out, NULL, 0, NULL, 0, 0, 0, NAN, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "drop_output");
    free(p); free(x); free(xm); free(y); free(yt); free(y2);
    fastfood_layer_destroy(layer);
}

/* The extreme thresholds, on interleaved tiles in both precisions: a rate below 2^-17 rounds to
 * threshold 0 (every value kept, scaled by 1 / (1 - rate)), one just below 1 to 65535 (kept only
 * where the draw is 65535). Output dropout, checked value by value against the header's function. */
static void test_dropout_thresholds(void) {
    const size_t in = 40, out = 3000, batch = 64;
    /* 1e-6: threshold 0; 0.99999: 65535; 0.999995: round(rate * 65536) = 65536, clamped to 65535 */
    const double rates[] = {1e-6, 0.99999, 0.999995};
    fastfood_layer *layer = make_layer(in, out, 4, 0);
    size_t n = fastfood_layer_param_count(layer);
    double *p = xmalloc(n * sizeof *p), *x = xmalloc(batch * in * sizeof *x);
    double *y = xmalloc(batch * out * sizeof *y), *yt = xmalloc(batch * out * sizeof *yt);
    float *pf = xmalloc(n * sizeof *pf), *xf = xmalloc(batch * in * sizeof *xf);
    float *yf = xmalloc(batch * out * sizeof *yf), *ytf = xmalloc(batch * out * sizeof *ytf);
    fastfood_init_params_f64(layer, 2, 1.0, p);
    fastfood_init_params_f32(layer, 2, 1.0, pf);
    for (size_t i = 0; i < batch * in; i++) xf[i] = (float)(x[i] = uniform());
    CHECK(fastfood_forward_f64(layer, p, batch, x, in, y, out) == FASTFOOD_OK);
    CHECK(fastfood_forward_f32(layer, pf, batch, xf, in, yf, out) == FASTFOOD_OK);
    for (int t = 0; t < 3; t++) {
        const double rate = rates[t];
        CHECK(fastfood_forward_train_f64(layer, p, batch, x, in, yt, out, 0, 0, rate, 21, 2) == FASTFOOD_OK);
        CHECK(fastfood_forward_train_f32(layer, pf, batch, xf, in, ytf, out, 0, 0, rate, 21, 2) == FASTFOOD_OK);
        int exact = 1;
        size_t kept_count = 0;
        for (size_t r = 0; r < batch; r++)
            for (size_t j = 0; j < out; j++) {
                int keep = kept(21, 2, r, 3, j, rate);
                kept_count += (size_t)keep;
                double want = keep ? y[r * out + j] * (1 / (1 - rate)) : 0;
                float want_f = keep ? yf[r * out + j] * (float)(1 / (1 - rate)) : 0;
                if (yt[r * out + j] != want || ytf[r * out + j] != want_f) exact = 0;
            }
        CHECK(exact);
        /* Threshold 0 keeps all; 65535 keeps a draw in 65536 (192000 draws: about 3), and at
         * least one here, so a compare off by one at the boundary fails `exact`. */
        CHECK(t == 0 ? kept_count == batch * out : kept_count >= 1 && kept_count < 15);
    }
    free(p); free(x); free(y); free(yt); free(pf); free(xf); free(yf); free(ytf);
    fastfood_layer_destroy(layer);
}

/* L = sum(w * layer_train(x)); central differences over x and every parameter, float64.
 * batch 1 runs the row kernels, batch 9 an interleaved tile of 8 double rows and a row. */
static void test_dropout_gradients(size_t batch) {
    const size_t in = 37, out = 90;
    const double r_in = 0.2, r_pi = 0.3, r_out = 0.25;
    const uint64_t seed = 4, step = 77;
    fastfood_layer *layer = make_layer(in, out, 8, FASTFOOD_LAYER_BIAS);
    size_t n = fastfood_layer_param_count(layer);
    double *p = xmalloc(n * sizeof *p), *x = xmalloc(batch * in * sizeof *x), *w = xmalloc(batch * out * sizeof *w);
    double *y = xmalloc(batch * out * sizeof *y), *dx = xmalloc(batch * in * sizeof *dx), *dp = xmalloc(n * sizeof *dp);
    fastfood_init_params_f64(layer, 2, 1.0, p);
    for (size_t i = 0; i < n; i++) p[i] += 0.1 * uniform();
    for (size_t i = 0; i < batch * in; i++) x[i] = uniform();
    for (size_t i = 0; i < batch * out; i++) w[i] = uniform();
    CHECK(fastfood_backward_train_f64(layer, p, batch, x, in, w, out, dx, in, dp, 0, r_in, r_pi, r_out, seed, step) == FASTFOOD_OK);
#define LOSS(result)                                                                                 \
    do {                                                                                             \
        fastfood_forward_train_f64(layer, p, batch, x, in, y, out, r_in, r_pi, r_out, seed, step);    \
        result = 0;                                                                                  \
        for (size_t q = 0; q < batch * out; q++) result += w[q] * y[q];                               \
    } while (0)
    double worst = 0, scale = 0, plus, minus;
    const double h = 1e-3;
    for (size_t i = 0; i < n; i++) {
        double saved = p[i];
        p[i] = saved + h; LOSS(plus);
        p[i] = saved - h; LOSS(minus);
        p[i] = saved;
        double numeric = (plus - minus) / (2 * h);
        worst = fmax(worst, fabs(numeric - dp[i]));
        scale = fmax(scale, fabs(numeric));
    }
    for (size_t i = 0; i < batch * in; i++) {
        double saved = x[i];
        x[i] = saved + h; LOSS(plus);
        x[i] = saved - h; LOSS(minus);
        x[i] = saved;
        double numeric = (plus - minus) / (2 * h);
        worst = fmax(worst, fabs(numeric - dx[i]));
        scale = fmax(scale, fabs(numeric));
    }
#undef LOSS
    printf("  dropout gradient check, batch %zu: max error / max gradient = %.2e\n", batch, worst / scale);
    CHECK(scale > 0 && worst / scale < 1e-7);
    /* FASTFOOD_ACCUMULATE adds the same gradients to what dx and dparams held: old + fresh, bit
     * for bit (the input mask's factors included). */
    double *dx_old = xmalloc(batch * in * sizeof *dx_old), *dx_acc = xmalloc(batch * in * sizeof *dx_acc);
    double *dp_old = xmalloc(n * sizeof *dp_old), *dp_acc = xmalloc(n * sizeof *dp_acc);
    for (size_t i = 0; i < batch * in; i++) dx_acc[i] = dx_old[i] = uniform();
    for (size_t i = 0; i < n; i++) dp_acc[i] = dp_old[i] = uniform();
    CHECK(fastfood_backward_train_f64(layer, p, batch, x, in, w, out, dx_acc, in, dp_acc, FASTFOOD_ACCUMULATE, r_in, r_pi,
                                      r_out, seed, step) == FASTFOOD_OK);
    int added = 1;
    for (size_t i = 0; i < batch * in; i++) added &= dx_acc[i] == dx_old[i] + dx[i];
    for (size_t i = 0; i < n; i++) added &= dp_acc[i] == dp_old[i] + dp[i];
    if (!added) printf("FAIL: accumulating dropout backward, batch %zu, is not old + fresh\n", batch);
    CHECK(added);
    free(dx_old); free(dx_acc); free(dp_old); free(dp_acc);
    free(p); free(x); free(w); free(y); free(dx); free(dp);
    fastfood_layer_destroy(layer);
}

/* phi(x) . phi(x') against exp(-|x - x'|^2 / (2 sigma^2)), Fastfood against dense random features. */
static void test_features(void) {
    const size_t d = 16, pairs = 300;
    const double sigma = 2.0;
    double *x = xmalloc(2 * pairs * d * sizeof *x);
    for (size_t i = 0; i < 2 * pairs * d; i++) x[i] = 0.8 * uniform();
    double previous = INFINITY, first = 0, last = 0;
    int comparable = 1;
    for (size_t features = 64; features <= 4096; features *= 4) {
        fastfood_layer *layer = make_layer(d, features, 100 + features, 0);
        size_t n = fastfood_layer_param_count(layer);
        double *p = xmalloc(n * sizeof *p), *phi = xmalloc(2 * pairs * 2 * features * sizeof *phi);
        CHECK(fastfood_init_params_f64(layer, 5, sigma, p) == FASTFOOD_OK);
        CHECK(fastfood_features_forward_f64(layer, p, 2 * pairs, x, d, phi, 2 * features) == FASTFOOD_OK);
        /* Dense Gaussian random features of the same size. */
        double *wd = xmalloc(features * d * sizeof *wd);
        for (size_t i = 0; i < features * d; i++) wd[i] = gaussian() / sigma;
        double error_ff = 0, error_dense = 0;
        for (size_t q = 0; q < pairs; q++) {
            const double *a = x + 2 * q * d, *b = a + d;
            double dist = 0;
            for (size_t i = 0; i < d; i++) dist += (a[i] - b[i]) * (a[i] - b[i]);
            const double exact = exp(-dist / (2 * sigma * sigma));
            double dot = 0;
            for (size_t j = 0; j < 2 * features; j++) dot += phi[2 * q * 2 * features + j] * phi[(2 * q + 1) * 2 * features + j];
            double dense = 0;
            for (size_t j = 0; j < features; j++) {
                double za = 0, zb = 0;
                for (size_t i = 0; i < d; i++) { za += wd[j * d + i] * a[i]; zb += wd[j * d + i] * b[i]; }
                dense += cos(za - zb); /* cos za cos zb + sin za sin zb */
            }
            dense /= (double)features;
            error_ff += (dot - exact) * (dot - exact);
            error_dense += (dense - exact) * (dense - exact);
        }
        error_ff /= (double)pairs;
        error_dense /= (double)pairs;
        printf("  random features n=%4zu: mean squared kernel error fastfood %.2e, dense %.2e\n", features, error_ff, error_dense);
        if (features == 64) first = error_ff;
        last = error_ff;
        CHECK(error_ff < previous); /* falls with n */
        previous = error_ff;
        comparable &= error_ff < 4 * error_dense;
        free(p); free(phi); free(wd);
        fastfood_layer_destroy(layer);
    }
    CHECK(last < first / 16); /* 64x the features: the error falls like 1/n */
    CHECK(comparable);

    /* Gradients of the feature map: central differences. */
    fastfood_layer *layer = make_layer(5, 24, 2, FASTFOOD_LAYER_BIAS);
    size_t n = fastfood_layer_param_count(layer), batch = 2;
    double *p = xmalloc(n * sizeof *p), *xs = xmalloc(batch * 5 * sizeof *xs), *w = xmalloc(batch * 48 * sizeof *w);
    double *phi = xmalloc(batch * 48 * sizeof *phi), *dx = xmalloc(batch * 5 * sizeof *dx), *dp = xmalloc(n * sizeof *dp);
    fastfood_init_params_f64(layer, 3, 1.0, p);
    for (size_t i = 0; i < n; i++) p[i] += 0.1 * uniform();
    for (size_t i = 0; i < batch * 5; i++) xs[i] = uniform();
    for (size_t i = 0; i < batch * 48; i++) w[i] = uniform();
    CHECK(fastfood_features_backward_f64(layer, p, batch, xs, 5, w, 48, dx, 5, dp, 0) == FASTFOOD_OK);
    double worst = 0, scale = 0;
    const double h = 1e-5;
    for (size_t i = 0; i < n + batch * 5; i++) {
        double *slot = i < n ? &p[i] : &xs[i - n], saved = *slot, plus = 0, minus = 0;
        *slot = saved + h;
        fastfood_features_forward_f64(layer, p, batch, xs, 5, phi, 48);
        for (size_t q = 0; q < batch * 48; q++) plus += w[q] * phi[q];
        *slot = saved - h;
        fastfood_features_forward_f64(layer, p, batch, xs, 5, phi, 48);
        for (size_t q = 0; q < batch * 48; q++) minus += w[q] * phi[q];
        *slot = saved;
        double numeric = (plus - minus) / (2 * h), analytic = i < n ? dp[i] : dx[i - n];
        worst = fmax(worst, fabs(numeric - analytic));
        scale = fmax(scale, fabs(numeric));
    }
    printf("  feature gradient check: max error / max gradient = %.2e\n", worst / scale);
    CHECK(scale > 0 && worst / scale < 1e-6);
    CHECK_STATUS(fastfood_features_forward_f64(layer, p, batch, xs, 5, phi, 47), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldphi (47) is smaller than 2 * out_features (48)");
    CHECK_STATUS(fastfood_features_backward_f64(layer, p, batch, NULL, 5, w, 48, dx, 5, NULL, 0), FASTFOOD_ERROR_NULL_POINTER, "x (required");
    free(x); free(p); free(xs); free(w); free(phi); free(dx); free(dp);
    fastfood_layer_destroy(layer);
}

static void test_presets(void) {
    /* Variance preserving: mean output square = gain^2 * input variance. */
    const size_t batch = 64;
    const size_t ins[] = {1024, 1000};
    for (int c = 0; c < 2; c++) {
        size_t in = ins[c], out = 4096;
        fastfood_layer *layer = make_layer(in, out, 21 + c, 0);
        size_t n = fastfood_layer_param_count(layer);
        double *p = xmalloc(n * sizeof *p), *x = xmalloc(batch * in * sizeof *x), *y = xmalloc(batch * out * sizeof *y);
        CHECK(fastfood_init_params_preset_f64(layer, FASTFOOD_INIT_VARIANCE, 3, 1.5, p) == FASTFOOD_OK);
        for (size_t i = 0; i < batch * in; i++) x[i] = gaussian();
        CHECK(fastfood_forward_f64(layer, p, batch, x, in, y, out) == FASTFOOD_OK);
        double square = 0, input = 0;
        for (size_t i = 0; i < batch * out; i++) square += y[i] * y[i];
        for (size_t i = 0; i < batch * in; i++) input += x[i] * x[i];
        double ratio = (square / (double)(batch * out)) / (input / (double)(batch * in));
        printf("  variance preset, in %zu: output variance / input variance = %.4f (gain^2 = 2.25)\n", in, ratio);
        CHECK(fabs(ratio / 2.25 - 1) < 0.05);
        free(p); free(x); free(y);
        fastfood_layer_destroy(layer);
    }
    /* The same property exactly, from the layer's matrix V (the forward of the identity rows):
     * the rows of a block have squared norm gain^2 over the input coordinates on average, to
     * rounding, for any in_features (the block's columns restricted to those coordinates each
     * have squared norm D ||G_k||^2, and S = gain / (||G_k|| sqrt(in))); each row for in = D. */
    const size_t exact_ins[] = {1024, 1000, 1000, 300};
    for (int c = 0; c < 4; c++) {
        size_t in = exact_ins[c], out = 2048;
        fastfood_layer *layer = make_layer(in, out, 31 + c, c == 2 ? FASTFOOD_LAYER_NORMALIZED : 0);
        size_t n = fastfood_layer_param_count(layer), d = fastfood_layer_block_size(layer);
        double *p = xmalloc(n * sizeof *p), *eye = xmalloc(in * in * sizeof *eye), *v = xmalloc(in * out * sizeof *v);
        CHECK(fastfood_init_params_preset_f64(layer, FASTFOOD_INIT_VARIANCE, 3, 1.5, p) == FASTFOOD_OK);
        for (size_t i = 0; i < in * in; i++) eye[i] = i % (in + 1) == 0;
        CHECK(fastfood_forward_f64(layer, p, in, eye, in, v, out) == FASTFOOD_OK); /* v[j][i] = V_ij */
        double worst_row = 0, worst_block = 0;
        for (size_t k = 0; k < out / d; k++) {
            double block = 0;
            for (size_t i = k * d; i < (k + 1) * d; i++) {
                double row = 0;
                for (size_t j = 0; j < in; j++) row += v[j * out + i] * v[j * out + i];
                block += row;
                worst_row = fmax(worst_row, fabs(row / 2.25 - 1));
            }
            worst_block = fmax(worst_block, fabs(block / (double)d / 2.25 - 1));
        }
        if (!(worst_block < 1e-12 && (in != d || worst_row < 1e-12)))
            printf("FAIL: variance preset %zu -> %zu (flags %u): rows' squared norms off gain^2 by %.3g (block mean) "
                   "and %.3g (worst row)\n", in, out, fastfood_layer_flags(layer), worst_block, worst_row);
        CHECK(worst_block < 1e-12 && (in != d || worst_row < 1e-12));
        free(p); free(eye); free(v);
        fastfood_layer_destroy(layer);
    }
    /* Near identity: epsilon 0 is exactly norm preserving (in = out = D); small epsilon nearly. */
    fastfood_layer *layer = make_layer(256, 256, 4, 0);
    size_t n = fastfood_layer_param_count(layer);
    double *p = xmalloc(n * sizeof *p), *x = xmalloc(8 * 256 * sizeof *x), *y = xmalloc(8 * 256 * sizeof *y);
    for (size_t i = 0; i < 8 * 256; i++) x[i] = gaussian();
    const double epsilons[] = {0.0, 0.01};
    for (int e = 0; e < 2; e++) {
        CHECK(fastfood_init_params_preset_f64(layer, FASTFOOD_INIT_NEAR_IDENTITY, 5, epsilons[e], p) == FASTFOOD_OK);
        int constant = 1;
        for (size_t i = 0; i < 256; i++)
            constant &= p[2 * 256 + i] == 1 && fabs(p[256 + i] - 1) <= 5 * epsilons[e] && fabs(p[i] * 256 - 1) <= 5 * epsilons[e];
        CHECK(constant);
        CHECK(fastfood_forward_f64(layer, p, 8, x, 256, y, 256) == FASTFOOD_OK);
        double nx = 0, ny = 0;
        for (size_t i = 0; i < 8 * 256; i++) { nx += x[i] * x[i]; ny += y[i] * y[i]; }
        CHECK(fabs(ny / nx - 1) < (epsilons[e] == 0 ? 1e-12 : 0.05));
        if (epsilons[e] == 0) continue;
        /* z and z' are independent: the correlation of G - 1 and 256 S - 1 over 256 entries is
         * within 4 standard errors (1/16 each) of 0; one stream for both would make it 1. */
        double sg = 0, ss = 0, gg = 0;
        for (size_t i = 0; i < 256; i++) {
            double g = p[256 + i] - 1, t = p[i] * 256 - 1;
            sg += g * t, ss += t * t, gg += g * g;
        }
        CHECK(fabs(sg) / sqrt(ss * gg) < 0.25);
    }
    /* RBF preset = fastfood_init_params; errors. */
    double *q = xmalloc(n * sizeof *q);
    CHECK(fastfood_init_params_preset_f64(layer, FASTFOOD_INIT_RBF, 9, 2.0, p) == FASTFOOD_OK);
    CHECK(fastfood_init_params_f64(layer, 9, 2.0, q) == FASTFOOD_OK);
    CHECK(memcmp(p, q, n * sizeof *p) == 0);
    CHECK_STATUS(fastfood_init_params_preset_f64(layer, 3, 9, 1.0, p), FASTFOOD_ERROR_INVALID_ARGUMENT, "preset (3)");
    CHECK_STATUS(fastfood_init_params_preset_f64(layer, FASTFOOD_INIT_VARIANCE, 9, 0.0, p), FASTFOOD_ERROR_INVALID_ARGUMENT, "gain");
    CHECK_STATUS(fastfood_init_params_preset_f32(layer, FASTFOOD_INIT_NEAR_IDENTITY, 9, -1.0, (float *)q), FASTFOOD_ERROR_INVALID_ARGUMENT, "epsilon");
    free(p); free(q); free(x); free(y);
    fastfood_layer_destroy(layer);
}

/* Every combination of the skip flags, with and without FASTFOOD_ACCUMULATE: the skipped sections
 * untouched, the others equal to the full call's. 100 rows are six interleaved tiles and four
 * single rows, so a worker runs several tiles in a row: a call that wrongly skipped the forward
 * recompute (B alone trained: dB needs the tile's transposed x) would read the previous tile's
 * rows left in its scratch, which with one tile per call are this tile's own. */
static void test_skip_flags(void) {
    const size_t in = 100, out = 300, batch = 100;
    fastfood_layer *layer = make_layer(in, out, 6, FASTFOOD_LAYER_BIAS);
    size_t n = fastfood_layer_param_count(layer), kd = 3 * 128;
    float *p = xmalloc(n * sizeof *p), *x = xmalloc(batch * in * sizeof *x), *dy = xmalloc(batch * out * sizeof *dy);
    float *full = xmalloc(n * sizeof *full), *part = xmalloc(n * sizeof *part);
    fastfood_init_params_f32(layer, 1, 1.0, p);
    for (size_t i = 0; i < batch * in; i++) x[i] = (float)uniform();
    for (size_t i = 0; i < batch * out; i++) dy[i] = (float)uniform();
    CHECK(fastfood_backward_f32(layer, p, batch, x, in, dy, out, NULL, 0, full, 0) == FASTFOOD_OK);
    for (uint32_t s = 1; s < 8; s++) {
        uint32_t skip = s * FASTFOOD_SKIP_GRAD_S; /* bits S, G, B: SKIP_GRAD_S/G/B are 2, 4, 8 */
        for (int accumulate = 0; accumulate <= 1; accumulate++) {
            for (size_t i = 0; i < n; i++) part[i] = 7.0f;
            CHECK(fastfood_backward_f32(layer, p, batch, x, in, dy, out, NULL, 0, part,
                                        skip | (accumulate ? FASTFOOD_ACCUMULATE : 0)) == FASTFOOD_OK);
            int ok = 1;
            for (size_t i = 0; i < n; i++) {
                int section = i < kd ? 0 : i < 2 * kd ? 1 : i < 3 * kd ? 2 : 3;
                int skipped = section < 3 && (skip & (FASTFOOD_SKIP_GRAD_S << section));
                float want = skipped ? 7.0f : accumulate ? 7.0f + full[i] : full[i];
                if (part[i] != want) ok = 0;
            }
            CHECK(ok);
        }
    }
    free(p); free(x); free(dy); free(full); free(part);
    fastfood_layer_destroy(layer);
}

/* ---- save / load ---- */


/* A little-endian field of a saved image (the header's documented byte order, read bytewise). */
static uint64_t field(const unsigned char *b, size_t offset, size_t bytes) {
    uint64_t v = 0;
    for (size_t i = bytes; i-- > 0;) v = v << 8 | b[offset + i];
    return v;
}

/* The header's layout of a saved layer, byte for byte, from the header's table: the fields at
 * their offsets, the permutation digest (FNV-1a 64 of every entry as 4 little-endian bytes,
 * re-implemented here over fastfood_layer_permutation), the parameters' bytes at 64. */
static int header_as_documented(const fastfood_layer *layer, const unsigned char *b, size_t size, uint64_t seed,
                                uint32_t type, const void *params, size_t elem) {
    size_t n = fastfood_layer_param_count(layer);
    size_t kd = fastfood_layer_num_blocks(layer) * fastfood_layer_block_size(layer);
    size_t *perm = xmalloc(kd * sizeof *perm);
    int ok = fastfood_layer_permutation(layer, perm) == FASTFOOD_OK;
    uint64_t digest = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < kd; i++)
        for (int byte = 0; byte < 4; byte++) digest = (digest ^ ((perm[i] >> (8 * byte)) & 0xff)) * 0x100000001b3ULL;
    free(perm);
    ok = ok && size == 72 + n * elem && field(b, 8, 4) == 1 && field(b, 12, 4) == 64 &&
         field(b, 16, 8) == fastfood_layer_in_features(layer) && field(b, 24, 8) == fastfood_layer_out_features(layer) &&
         field(b, 32, 8) == seed && field(b, 40, 4) == fastfood_layer_flags(layer) && field(b, 44, 4) == type &&
         field(b, 48, 8) == n && field(b, 56, 8) == digest && memcmp(b + 64, params, n * elem) == 0;
    if (!ok) printf("FAIL: saved header of %zu -> %zu is not as documented\n", fastfood_layer_in_features(layer),
                    fastfood_layer_out_features(layer));
    return ok;
}

static void test_round_trips(void) {
    static const struct { size_t in, out; uint32_t flags; } shapes[] = {
        {100, 300, FASTFOOD_LAYER_BIAS}, {64, 200, 0}, {1, 1, 0}, {257, 1030, FASTFOOD_LAYER_BIAS}};
    for (size_t s = 0; s < 4; s++) {
        fastfood_layer *layer = make_layer(shapes[s].in, shapes[s].out, 0xabcdef12345ULL + s, shapes[s].flags);
        size_t n = fastfood_layer_param_count(layer), size32 = 0, size64 = 0;
        float *p32 = xmalloc(n * sizeof *p32), *q32 = xmalloc(n * sizeof *q32);
        double *p64 = xmalloc(n * sizeof *p64), *q64 = xmalloc(n * sizeof *q64);
        fastfood_init_params_f32(layer, 3, 1.0, p32);
        fastfood_init_params_f64(layer, 3, 1.0, p64);
        for (size_t i = 0; i < n; i++) { p32[i] += (float)uniform(); p64[i] += uniform(); }
        CHECK(fastfood_save_size(layer, FASTFOOD_TYPE_F32, &size32) == FASTFOOD_OK && size32 == 72 + 4 * n);
        CHECK(fastfood_save_size(layer, FASTFOOD_TYPE_F64, &size64) == FASTFOOD_OK && size64 == 72 + 8 * n);
        unsigned char *b32 = xmalloc(size32), *b64 = xmalloc(size64);
        CHECK(fastfood_save_f32(layer, p32, b32, size32) == FASTFOOD_OK);
        CHECK(fastfood_save_f64(layer, p64, b64, size64) == FASTFOOD_OK);
        uint64_t stored_crc;
        memcpy(&stored_crc, b32 + size32 - 8, sizeof stored_crc); /* unaligned: copy, do not cast */
        CHECK(memcmp(b32, "FFLAYER", 8) == 0 && crc64_xz(b32, size32 - 8) == stored_crc);
        CHECK(header_as_documented(layer, b32, size32, 0xabcdef12345ULL + s, FASTFOOD_TYPE_F32, p32, sizeof *p32));
        CHECK(header_as_documented(layer, b64, size64, 0xabcdef12345ULL + s, FASTFOOD_TYPE_F64, p64, sizeof *p64));
        size_t in = 0, out = 0, count = 0;
        uint64_t seed = 0;
        uint32_t flags = 9, type = 0;
        CHECK(fastfood_load_info(b64, size64, &in, &out, &seed, &flags, &type, &count) == FASTFOOD_OK);
        CHECK(in == shapes[s].in && out == shapes[s].out && seed == 0xabcdef12345ULL + s &&
              flags == shapes[s].flags && type == FASTFOOD_TYPE_F64 && count == n);
        fastfood_layer *l32 = NULL, *l64 = NULL;
        CHECK(fastfood_load_f32(b32, size32, &l32, q32, n) == FASTFOOD_OK);
        CHECK(fastfood_load_f64(b64, size64, &l64, q64, n) == FASTFOOD_OK);
        CHECK(memcmp(p32, q32, n * sizeof *p32) == 0 && memcmp(p64, q64, n * sizeof *p64) == 0);
        size_t kd = fastfood_layer_num_blocks(layer) * fastfood_layer_block_size(layer);
        size_t *pa = xmalloc(kd * sizeof *pa), *pb = xmalloc(kd * sizeof *pb);
        fastfood_layer_permutation(layer, pa);
        fastfood_layer_permutation(l64, pb);
        CHECK(memcmp(pa, pb, kd * sizeof *pa) == 0 && fastfood_layer_param_count(l32) == n);
        /* Files too. */
        char path[] = "/tmp/fastfood_test_XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        close(fd);
        CHECK(fastfood_save_file_f64(layer, p64, path) == FASTFOOD_OK);
        fastfood_layer *lf = NULL;
        for (size_t i = 0; i < n; i++) q64[i] = 0;
        CHECK(fastfood_load_file_info(path, &in, NULL, NULL, NULL, &type, NULL) == FASTFOOD_OK && type == FASTFOOD_TYPE_F64);
        CHECK(fastfood_load_file_f64(path, &lf, q64, n) == FASTFOOD_OK);
        CHECK(memcmp(p64, q64, n * sizeof *p64) == 0);
        unlink(path);
        free(p32); free(q32); free(p64); free(q64); free(b32); free(b64); free(pa); free(pb);
        fastfood_layer_destroy(layer); fastfood_layer_destroy(l32); fastfood_layer_destroy(l64); fastfood_layer_destroy(lf);
    }
}

static void test_bad_data(void) {
    fastfood_layer *layer = make_layer(10, 20, 5, FASTFOOD_LAYER_BIAS);
    size_t n = fastfood_layer_param_count(layer), size = 0;
    float *p = xmalloc(n * sizeof *p), *q = xmalloc(n * sizeof *q);
    fastfood_init_params_f32(layer, 1, 1.0, p);
    fastfood_save_size(layer, FASTFOOD_TYPE_F32, &size);
    unsigned char *good = xmalloc(size), *bad = xmalloc(size);
    CHECK(fastfood_save_f32(layer, p, good, size) == FASTFOOD_OK);
    fastfood_layer *const sentinel = (fastfood_layer *)(uintptr_t)0x99;
    fastfood_layer *out = sentinel;
    for (size_t i = 0; i < n; i++) q[i] = -3.0f;
#define UNTOUCHED() (out == sentinel && q[0] == -3.0f && q[n - 1] == -3.0f)

    /* A too-small buffer to save into: refused, nothing written. */
    memset(bad, 0xee, size);
    CHECK_STATUS(fastfood_save_f32(layer, p, bad, size - 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "buffer_size");
    CHECK(bad[0] == 0xee);
    /* Truncated at several lengths. */
    const size_t lengths[] = {0, 1, 8, 63, 64, 71, 72, size - 8, size - 1};
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        CHECK_STATUS(fastfood_load_f32(good, lengths[l], &out, q, n), FASTFOOD_ERROR_BAD_FORMAT, "");
        CHECK(UNTOUCHED());
    }
    /* Bit flips: header, parameters, checksum. */
    const size_t bits[] = {0, 70, 100, 130, 8 * 40, 8 * 64 + 3, 8 * size - 1, 8 * (size - 8) + 5};
    for (size_t b = 0; b < sizeof bits / sizeof bits[0]; b++) {
        memcpy(bad, good, size);
        bad[bits[b] / 8] ^= (unsigned char)(1u << (bits[b] % 8));
        fastfood_status st = fastfood_load_f32(bad, size, &out, q, n);
        CHECK(st == FASTFOOD_ERROR_BAD_FORMAT || st == FASTFOOD_ERROR_UNSUPPORTED_VERSION);
        CHECK(UNTOUCHED());
    }
    /* Wrong magic; future version; a lying header (huge shape, resealed); a wrong digest. */
    memcpy(bad, good, size);
    bad[0] = 'X';
    reseal(bad, size);
    CHECK_STATUS(fastfood_load_f32(bad, size, &out, q, n), FASTFOOD_ERROR_BAD_FORMAT, "magic");
    memcpy(bad, good, size);
    bad[8] = 2;
    reseal(bad, size);
    CHECK_STATUS(fastfood_load_f32(bad, size, &out, q, n), FASTFOOD_ERROR_UNSUPPORTED_VERSION, "format version 2");
    memcpy(bad, good, size);
    bad[24 + 5] = 1; /* out_features = 2^40 + 20 */
    reseal(bad, size);
    CHECK_STATUS(fastfood_load_f32(bad, size, &out, q, n), FASTFOOD_ERROR_BAD_FORMAT, "");
    memcpy(bad, good, size);
    bad[56] ^= 1;
    reseal(bad, size);
    CHECK_STATUS(fastfood_load_f32(bad, size, &out, q, n), FASTFOOD_ERROR_BAD_FORMAT, "digest");
    CHECK(UNTOUCHED());
    /* Mismatched element type and count. */
    CHECK_STATUS(fastfood_load_f64(good, size, &out, (double *)q, n), FASTFOOD_ERROR_INVALID_ARGUMENT,
                 "float32 parameters: use the _f32 function");
    {   /* and the other way round: a float64 image names its own function */
        size_t size64 = 0;
        double *p64 = xmalloc(n * sizeof *p64);
        for (size_t i = 0; i < n; i++) p64[i] = p[i];
        CHECK(fastfood_save_size(layer, FASTFOOD_TYPE_F64, &size64) == FASTFOOD_OK);
        unsigned char *image64 = xmalloc(size64);
        CHECK(fastfood_save_f64(layer, p64, image64, size64) == FASTFOOD_OK);
        CHECK_STATUS(fastfood_load_f32(image64, size64, &out, q, n), FASTFOOD_ERROR_INVALID_ARGUMENT,
                     "float64 parameters: use the _f64 function");
        free(image64);
        free(p64);
    }
    CHECK_STATUS(fastfood_load_f32(good, size, &out, q, n + 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "param_count");
    CHECK(UNTOUCHED());
    CHECK_STATUS(fastfood_load_info(good, size - 1, NULL, NULL, NULL, NULL, NULL, NULL), FASTFOOD_ERROR_BAD_FORMAT, "bytes");
    CHECK_STATUS(fastfood_load_f32(NULL, size, &out, q, n), FASTFOOD_ERROR_NULL_POINTER, "buffer");
    CHECK_STATUS(fastfood_save_size(layer, 3, &size), FASTFOOD_ERROR_INVALID_ARGUMENT, "element_type (3)");

    /* Files: missing, a directory, and a failed save leaves the old file intact. */
    CHECK_STATUS(fastfood_load_file_f32("/nonexistent/fastfood.layer", &out, q, n), FASTFOOD_ERROR_IO, "cannot open");
    CHECK_STATUS(fastfood_load_file_f32("/tmp", &out, q, n), FASTFOOD_ERROR_IO, "not a regular file");
    CHECK_STATUS(fastfood_save_file_f32(layer, p, "/nonexistent/dir/fastfood.layer"), FASTFOOD_ERROR_IO, "temporary file");
    char dir[] = "/tmp/fastfood_dir_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/layer", dir);
    CHECK(fastfood_save_file_f32(layer, p, path) == FASTFOOD_OK);
    struct stat before, after;
    CHECK(stat(path, &before) == 0);
    /* Saving over a directory fails at the rename: the temporary file is removed, nothing else changes. */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    CHECK(mkdir(sub, 0700) == 0);
    CHECK_STATUS(fastfood_save_file_f32(layer, p, sub), FASTFOOD_ERROR_IO, "rename");
    char command[400];
    snprintf(command, sizeof command, "test $(ls %s | wc -l) -eq 2", dir); /* layer and sub only */
    CHECK(system(command) == 0);
    CHECK(stat(path, &after) == 0 && after.st_size == before.st_size);
    fastfood_layer *loaded = NULL;
    CHECK(fastfood_load_file_f32(path, &loaded, q, n) == FASTFOOD_OK && memcmp(p, q, n * sizeof *p) == 0);
    fastfood_layer_destroy(loaded);
    snprintf(command, sizeof command, "rm -rf %s", dir);
    CHECK(system(command) == 0);
#undef UNTOUCHED
    free(p); free(q); free(good); free(bad);
    fastfood_layer_destroy(layer);
}

/* The features' cos and sin (vector polynomials in the kernels) against the C library's double
 * cos and sin of the same z (the plain forward's output): absolute error of cos and sin, before
 * the 1 / sqrt(n) scale, in units of 2^-24 (float) or 2^-53 (double), over z up to a few
 * hundred, rows whose z reach 10^5 and 10^7 (beyond the vector range: the C library's own
 * cosf/sinf and cos/sin take over), and a NaN row (NaN out). */
static void test_features_accuracy(void) {
    enum { IN = 64, OUT = 4096, BATCH = 20 };
    fastfood_layer *layer = make_layer(IN, OUT, 31, 0);
    size_t n = fastfood_layer_param_count(layer);
    double *pd = xmalloc(n * sizeof *pd), *xd = xmalloc(BATCH * IN * sizeof *xd);
    double *zd = xmalloc(BATCH * OUT * sizeof *zd), *phid = xmalloc(BATCH * 2 * OUT * sizeof *phid);
    float *pf = xmalloc(n * sizeof *pf), *xf = xmalloc(BATCH * IN * sizeof *xf);
    float *zf = xmalloc(BATCH * OUT * sizeof *zf), *phif = xmalloc(BATCH * 2 * OUT * sizeof *phif);
    fastfood_init_params_f64(layer, 3, 0.05, pd);
    for (size_t i = 0; i < n; i++) pf[i] = (float)pd[i];
    for (size_t r = 0; r < BATCH; r++)
        for (size_t i = 0; i < IN; i++) {
            double scale = r == BATCH - 3 ? 1e3 : r == BATCH - 2 ? 1e5 : 1; /* z ~ 1e5, 1e7 */
            xd[r * IN + i] = scale * uniform();
            xf[r * IN + i] = (float)xd[r * IN + i];
        }
    xd[(BATCH - 1) * IN] = NAN;
    xf[(BATCH - 1) * IN] = NAN;
    CHECK(fastfood_forward_f64(layer, pd, BATCH, xd, IN, zd, OUT) == FASTFOOD_OK);
    CHECK(fastfood_features_forward_f64(layer, pd, BATCH, xd, IN, phid, 2 * OUT) == FASTFOOD_OK);
    CHECK(fastfood_forward_f32(layer, pf, BATCH, xf, IN, zf, OUT) == FASTFOOD_OK);
    CHECK(fastfood_features_forward_f32(layer, pf, BATCH, xf, IN, phif, 2 * OUT) == FASTFOOD_OK);
    const double s = 1 / sqrt((double)OUT);
    double worst_f = 0, worst_d = 0, largest = 0;
    int nan_out = 1;
    for (size_t r = 0; r < BATCH; r++)
        for (size_t j = 0; j < OUT; j++) {
            if (r == BATCH - 1) {
                nan_out &= isnan(phid[r * 2 * OUT + j]) && isnan(phif[r * 2 * OUT + OUT + j]);
                continue;
            }
            double z = zd[r * OUT + j], zs = (double)zf[r * OUT + j];
            largest = fmax(largest, fabs(z));
            worst_d = fmax(worst_d, fabs(phid[r * 2 * OUT + j] / s - cos(z)) * 0x1p53);
            worst_d = fmax(worst_d, fabs(phid[r * 2 * OUT + OUT + j] / s - sin(z)) * 0x1p53);
            worst_f = fmax(worst_f, fabs((double)phif[r * 2 * OUT + j] / s - cos(zs)) * 0x1p24);
            worst_f = fmax(worst_f, fabs((double)phif[r * 2 * OUT + OUT + j] / s - sin(zs)) * 0x1p24);
        }
    printf("  features cos/sin: |z| up to %.3g; max abs error %.2f x 2^-24 (float), %.2f x 2^-53 (double)\n",
           largest, worst_f, worst_d);
    CHECK(largest > 1e6);
    CHECK(worst_f <= 4);
    CHECK(worst_d <= 4);
    CHECK(nan_out);
    free(pd); free(xd); free(zd); free(phid); free(pf); free(xf); free(zf); free(phif);
    fastfood_layer_destroy(layer);
}

/* The same bound over a sweep of z itself: a 1 -> 19 layer whose parameters are all 1 has z = x in
 * every output (D = 1: each of the 19 blocks is S G B x), so phi's rows hold cos and sin of x
 * times 1 / sqrt(19) (an inexact factor) in the vector loop (column 0) and in the row's tail
 * (column 18). Float: every 4001st float with |z| <= 8192 (the whole vector range), both signs;
 * double: 2^19 random values, as many in each binade from 2^-31 to 2^20, random signs. Measured
 * over every float in range (throwaway runs, 2.3e9 values): 1.5.1 (multiply-adds fused) 1.98 x
 * 2^-24 with the factor 1 / sqrt(3), 2.02 with 1 / sqrt(2); 1.4.10 (table of s sin(k pi/16))
 * 1.44 and 1.63; 1.4.1-1.4.9 1.45 and 1.80; 1.4.0 (cos and sin scaled after the polynomials)
 * 1.82 and 2.00. */
static void test_features_sweep(void) {
    enum { OUT = 19, BATCH = 1 << 14 };
    fastfood_layer *layer = make_layer(1, OUT, 3, 0);
    const size_t n = fastfood_layer_param_count(layer);
    float *pf = xmalloc(n * sizeof *pf), *xf = xmalloc(BATCH * sizeof *xf), *phif = xmalloc(BATCH * 2 * OUT * sizeof *phif);
    double *pd = xmalloc(n * sizeof *pd), *xd = xmalloc(BATCH * sizeof *xd), *phid = xmalloc(BATCH * 2 * OUT * sizeof *phid);
    for (size_t i = 0; i < n; i++) pf[i] = 1, pd[i] = 1;
    const double sf = (double)(float)(1 / sqrt((double)OUT)), sd = 1 / sqrt((double)OUT);
    double worst_f = 0, worst_d = 0;
    size_t swept_f = 0, swept_d = 0;
    int cols_agree = 1;
    const uint32_t top = 0x46000000u; /* 8192.0f */
    for (uint32_t sign = 0; sign < 2; sign++)
        for (uint64_t b = 0; b <= top;) {
            size_t m = 0;
            for (; m < BATCH && b <= top; m++, b += 4001) {
                uint32_t u = (uint32_t)b | sign << 31;
                memcpy(&xf[m], &u, sizeof u);
            }
            CHECK(fastfood_features_forward_f32(layer, pf, m, xf, 1, phif, 2 * OUT) == FASTFOOD_OK);
            for (size_t r = 0; r < m; r++) {
                const float *row = phif + r * 2 * OUT;
                const double z = xf[r];
                for (size_t j = 0; j < OUT; j += OUT - 1) {
                    worst_f = fmax(worst_f, fabs(row[j] / sf - cos(z)) * 0x1p24);
                    worst_f = fmax(worst_f, fabs(row[OUT + j] / sf - sin(z)) * 0x1p24);
                }
                cols_agree &= row[0] == row[OUT - 1] && row[OUT] == row[2 * OUT - 1];
            }
            swept_f += m;
        }
    for (size_t round = 0; round < 32; round++) {
        for (size_t r = 0; r < BATCH; r++) /* |z| = 2^e (1 + f), e in [-30, 20), both signs */
            xd[r] = ldexp(1 + (uniform() + 1) / 2, (int)(r % 50) - 31) * (uniform() < 0 ? -1 : 1);
        CHECK(fastfood_features_forward_f64(layer, pd, BATCH, xd, 1, phid, 2 * OUT) == FASTFOOD_OK);
        for (size_t r = 0; r < BATCH; r++) {
            const double *row = phid + r * 2 * OUT;
            if (fabs(xd[r]) > 0x1p20) continue;
            for (size_t j = 0; j < OUT; j += OUT - 1) {
                worst_d = fmax(worst_d, fabs(row[j] / sd - cos(xd[r])) * 0x1p53);
                worst_d = fmax(worst_d, fabs(row[OUT + j] / sd - sin(xd[r])) * 0x1p53);
            }
            cols_agree &= row[0] == row[OUT - 1] && row[OUT] == row[2 * OUT - 1];
            swept_d++;
        }
    }
    printf("  features cos/sin sweep: %zu float z (|z| <= 8192), %zu double; max abs error %.2f x 2^-24, %.2f x 2^-53\n",
           swept_f, swept_d, worst_f, worst_d);
    CHECK(swept_f > 500000 && swept_d > 400000);
    CHECK(worst_f <= 4);
    CHECK(worst_d <= 4);
    CHECK(cols_agree);
    free(pf); free(xf); free(phif); free(pd); free(xd); free(phid);
    fastfood_layer_destroy(layer);
}

/* Random-feature calls on an interleaved tile against the row kernels, bit for bit: a 16-row
 * float call against a 3-row one (the first 3 rows of phi; dx with dparams, and dx without
 * dparams on the tile), an 8-row double call against a 1-row one (the first row of phi; dx with
 * dparams on the tile, without on the row). x and dphi hold 16 float / 8 double rows. */
static int features_paths_agree_f32(const fastfood_layer *layer, const float *p, const float *x, const float *dphi,
                                    float *dp) {
    const size_t in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer);
    float *phi16 = xmalloc(16 * 2 * out * sizeof *phi16), *phi3 = xmalloc(3 * 2 * out * sizeof *phi3);
    float *dx16 = xmalloc(16 * in * sizeof *dx16), *dx3 = xmalloc(3 * in * sizeof *dx3);
    int same = 1;
    CHECK(fastfood_features_forward_f32(layer, p, 16, x, in, phi16, 2 * out) == FASTFOOD_OK);
    CHECK(fastfood_features_forward_f32(layer, p, 3, x, in, phi3, 2 * out) == FASTFOOD_OK);
    same &= memcmp(phi16, phi3, 3 * 2 * out * sizeof *phi3) == 0;
    CHECK(fastfood_features_backward_f32(layer, p, 16, x, in, dphi, 2 * out, dx16, in, dp, 0) == FASTFOOD_OK);
    CHECK(fastfood_features_backward_f32(layer, p, 3, x, in, dphi, 2 * out, dx3, in, dp, 0) == FASTFOOD_OK);
    same &= memcmp(dx16, dx3, 3 * in * sizeof *dx3) == 0;
    CHECK(fastfood_features_backward_f32(layer, p, 16, x, in, dphi, 2 * out, dx16, in, NULL, 0) == FASTFOOD_OK);
    same &= memcmp(dx16, dx3, 3 * in * sizeof *dx3) == 0;
    free(phi16); free(phi3); free(dx16); free(dx3);
    return same;
}

static int features_paths_agree_f64(const fastfood_layer *layer, const double *p, const double *x,
                                    const double *dphi, double *dp) {
    const size_t in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer);
    double *phi8 = xmalloc(8 * 2 * out * sizeof *phi8), *phi1 = xmalloc(2 * out * sizeof *phi1);
    double *dx8 = xmalloc(8 * in * sizeof *dx8), *dx1 = xmalloc(in * sizeof *dx1);
    int same = 1;
    CHECK(fastfood_features_forward_f64(layer, p, 8, x, in, phi8, 2 * out) == FASTFOOD_OK);
    CHECK(fastfood_features_forward_f64(layer, p, 1, x, in, phi1, 2 * out) == FASTFOOD_OK);
    same &= memcmp(phi8, phi1, 2 * out * sizeof *phi1) == 0;
    CHECK(fastfood_features_backward_f64(layer, p, 8, x, in, dphi, 2 * out, dx8, in, dp, 0) == FASTFOOD_OK);
    CHECK(fastfood_features_backward_f64(layer, p, 1, x, in, dphi, 2 * out, dx1, in, NULL, 0) == FASTFOOD_OK);
    same &= memcmp(dx8, dx1, in * sizeof *dx1) == 0;
    free(phi8); free(phi1); free(dx8); free(dx1);
    return same;
}

/* Training mode runs on the interleaved kernels (a tile of 16 float or 8 double rows) and, for
 * the few rows of a small batch, on the row kernels: the masks depend on the row's index in the
 * call only, so rows 0 .. 2 of a 16-row call equal a 3-row call bit for bit (forward and dx;
 * float), rows 0 of an 8-row and a 1-row call (double). Shapes: several blocks with truncated
 * outputs, one block with bias; every site alone and all three. Random features the same way
 * (phi, and dx with and without dparams: the tile backward makes dy from dphi and its own
 * recompute of z, the row path from a separate forward), with a bias that is not zero. */
static void test_tile_and_row_paths(void) {
    /* 1 -> 7: blocks of one element, so the masks of blocks 1, 3, 5 start at odd positions (the
     * second half of a hash's pair of draws); no other shape makes the tiles start a mask there. */
    const size_t shapes[][2] = {{100, 300}, {200, 256}, {1000, 1000}, {1, 7}};
    const double rates[][3] = {{0.2, 0, 0}, {0, 0.3, 0}, {0, 0, 0.4}, {0.1, 0.2, 0.3}};
    int same_f32 = 1, same_f64 = 1;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const size_t in = shapes[s][0], out = shapes[s][1];
        fastfood_layer *layer = make_layer(in, out, 21 + s, s == 1 ? FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED : 0);
        size_t n = fastfood_layer_param_count(layer);
        float *p = xmalloc(n * sizeof *p), *dp = xmalloc(n * sizeof *dp);
        float *x = xmalloc(16 * in * sizeof *x), *dy = xmalloc(16 * out * sizeof *dy);
        float *y16 = xmalloc(16 * out * sizeof *y16), *y3 = xmalloc(3 * out * sizeof *y3);
        float *dx16 = xmalloc(16 * in * sizeof *dx16), *dx3 = xmalloc(3 * in * sizeof *dx3);
        double *pd = xmalloc(n * sizeof *pd), *dpd = xmalloc(n * sizeof *dpd);
        double *xd = xmalloc(8 * in * sizeof *xd), *dyd = xmalloc(8 * out * sizeof *dyd);
        double *y8 = xmalloc(8 * out * sizeof *y8), *y1 = xmalloc(out * sizeof *y1);
        double *dx8 = xmalloc(8 * in * sizeof *dx8), *dx1 = xmalloc(in * sizeof *dx1);
        fastfood_init_params_f32(layer, 5, 1.0, p);
        fastfood_init_params_f64(layer, 5, 1.0, pd);
        float *dphi = xmalloc(16 * 2 * out * sizeof *dphi);
        double *dphid = xmalloc(8 * 2 * out * sizeof *dphid);
        if (fastfood_layer_flags(layer) & FASTFOOD_LAYER_BIAS) { /* a bias that is not zero */
            for (size_t i = n - out; i < n; i++) { p[i] = (float)uniform(); pd[i] = uniform(); }
        }
        for (size_t i = 0; i < 16 * 2 * out; i++) dphi[i] = (float)uniform();
        for (size_t i = 0; i < 8 * 2 * out; i++) dphid[i] = uniform();
        for (size_t i = 0; i < 16 * in; i++) x[i] = (float)uniform();
        for (size_t i = 0; i < 16 * out; i++) dy[i] = (float)uniform();
        for (size_t i = 0; i < 8 * in; i++) xd[i] = uniform();
        for (size_t i = 0; i < 8 * out; i++) dyd[i] = uniform();
        for (size_t r = 0; r < 4; r++) {
            const double a = rates[r][0], b = rates[r][1], c = rates[r][2];
            CHECK(fastfood_forward_train_f32(layer, p, 16, x, in, y16, out, a, b, c, 3, r) == FASTFOOD_OK);
            CHECK(fastfood_forward_train_f32(layer, p, 3, x, in, y3, out, a, b, c, 3, r) == FASTFOOD_OK);
            same_f32 &= memcmp(y16, y3, 3 * out * sizeof *y3) == 0;
            CHECK(fastfood_backward_train_f32(layer, p, 16, x, in, dy, out, dx16, in, dp, 0, a, b, c, 3, r) == FASTFOOD_OK);
            CHECK(fastfood_backward_train_f32(layer, p, 3, x, in, dy, out, dx3, in, dp, 0, a, b, c, 3, r) == FASTFOOD_OK);
            same_f32 &= memcmp(dx16, dx3, 3 * in * sizeof *dx3) == 0;
            CHECK(fastfood_backward_train_f32(layer, p, 16, x, in, dy, out, dx16, in, NULL, 0, a, b, c, 3, r) == FASTFOOD_OK);
            same_f32 &= memcmp(dx16, dx3, 3 * in * sizeof *dx3) == 0;
            CHECK(fastfood_forward_train_f64(layer, pd, 8, xd, in, y8, out, a, b, c, 3, r) == FASTFOOD_OK);
            CHECK(fastfood_forward_train_f64(layer, pd, 1, xd, in, y1, out, a, b, c, 3, r) == FASTFOOD_OK);
            same_f64 &= memcmp(y8, y1, out * sizeof *y1) == 0;
            CHECK(fastfood_backward_train_f64(layer, pd, 8, xd, in, dyd, out, dx8, in, dpd, 0, a, b, c, 3, r) == FASTFOOD_OK);
            CHECK(fastfood_backward_train_f64(layer, pd, 1, xd, in, dyd, out, dx1, in, dpd, 0, a, b, c, 3, r) == FASTFOOD_OK);
            same_f64 &= memcmp(dx8, dx1, in * sizeof *dx1) == 0;
        }
        same_f32 &= features_paths_agree_f32(layer, p, x, dphi, dp);
        same_f64 &= features_paths_agree_f64(layer, pd, xd, dphid, dpd);
        free(dphi); free(dphid);
        free(p); free(dp); free(x); free(dy); free(y16); free(y3); free(dx16); free(dx3);
        free(pd); free(dpd); free(xd); free(dyd); free(y8); free(y1); free(dx8); free(dx1);
        fastfood_layer_destroy(layer);
    }
    CHECK(same_f32);
    CHECK(same_f64);
}

/* fastfood_features_backward_* from x and fastfood_features_backward_from_phi_* from the phi the
 * forward made of x: the same dx and dparams, bit for bit (since 1.4.1). */
#define RECOMPUTE_IS_FROM_PHI(T, S)                                                                  \
    static int recompute_is_from_phi_##S(const fastfood_layer *layer, const T *p, size_t batch, const T *x, \
                                         const T *dphi) {                                           \
        const size_t in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer); \
        const size_t n = fastfood_layer_param_count(layer);                                         \
        T *phi = xmalloc(batch * 2 * out * sizeof *phi), *dx1 = xmalloc(batch * in * sizeof *dx1);  \
        T *dx2 = xmalloc(batch * in * sizeof *dx2), *dp1 = xmalloc(n * sizeof *dp1), *dp2 = xmalloc(n * sizeof *dp2); \
        CHECK(fastfood_features_forward_##S(layer, p, batch, x, in, phi, 2 * out) == FASTFOOD_OK);  \
        CHECK(fastfood_features_backward_##S(layer, p, batch, x, in, dphi, 2 * out, dx1, in, dp1, 0) == FASTFOOD_OK); \
        CHECK(fastfood_features_backward_from_phi_##S(layer, p, batch, x, in, phi, 2 * out, dphi, 2 * out, dx2, in, \
                                                      dp2, 0) == FASTFOOD_OK);                     \
        int same = memcmp(dx1, dx2, batch * in * sizeof *dx1) == 0 && memcmp(dp1, dp2, n * sizeof *dp1) == 0; \
        free(phi); free(dx1); free(dx2); free(dp1); free(dp2);                                      \
        return same;                                                                                \
    }
RECOMPUTE_IS_FROM_PHI(float, f32)
RECOMPUTE_IS_FROM_PHI(double, f64)

/* Random features with z on both sides of the vector range (|z| <= 8192 float, 2^20 double) in
 * one tile and in one row: each value's cos and sin depend on its own z only (the polynomial in
 * range, the C library beyond), so the tile path (a vector holds 16 rows of one column) and the
 * row path (16 columns of one row) agree bit for bit: phi, dx, and dx with dparams. Rows
 * alternate between z of a few units and z of about 2x the range. */
static void test_features_mixed_range(void) {
    const size_t in = 64, out = 256;
    fastfood_layer *layer = make_layer(in, out, 41, FASTFOOD_LAYER_BIAS);
    size_t n = fastfood_layer_param_count(layer);
    float *p = xmalloc(n * sizeof *p), *dp = xmalloc(n * sizeof *dp), *x = xmalloc(16 * in * sizeof *x);
    float *dphi = xmalloc(16 * 2 * out * sizeof *dphi), *z = xmalloc(16 * out * sizeof *z);
    double *pd = xmalloc(n * sizeof *pd), *dpd = xmalloc(n * sizeof *dpd), *xd = xmalloc(8 * in * sizeof *xd);
    double *dphid = xmalloc(8 * 2 * out * sizeof *dphid), *zd = xmalloc(8 * out * sizeof *zd);
    fastfood_init_params_f32(layer, 5, 1.0, p);
    fastfood_init_params_f64(layer, 5, 1.0, pd);
    for (size_t r = 0; r < 16; r++)
        for (size_t i = 0; i < in; i++) x[r * in + i] = (float)(uniform() * (r % 2 ? 4e3 : 1));
    for (size_t r = 0; r < 8; r++)
        for (size_t i = 0; i < in; i++) xd[r * in + i] = uniform() * (r % 2 ? 4e5 : 1);
    for (size_t i = 0; i < 16 * 2 * out; i++) dphi[i] = (float)uniform();
    for (size_t i = 0; i < 8 * 2 * out; i++) dphid[i] = uniform();
    /* Both sides of the range within one row and within one column of a tile. */
    CHECK(fastfood_forward_f32(layer, p, 16, x, in, z, out) == FASTFOOD_OK);
    CHECK(fastfood_forward_f64(layer, pd, 8, xd, in, zd, out) == FASTFOOD_OK);
    size_t small_f = 0, large_f = 0, small_d = 0, large_d = 0;
    for (size_t j = 0; j < 16; j++) {
        small_f += fabsf(z[out + j]) <= 8192 && fabsf(z[j]) <= 8192;
        large_f += fabsf(z[out + j]) > 8192;
        small_d += fabs(zd[out + j]) <= 0x1p20 && fabs(zd[j]) <= 0x1p20;
        large_d += fabs(zd[out + j]) > 0x1p20;
    }
    CHECK(small_f > 0 && large_f > 0 && small_d > 0 && large_d > 0);
    CHECK(features_paths_agree_f32(layer, p, x, dphi, dp));
    CHECK(features_paths_agree_f64(layer, pd, xd, dphid, dpd));
    /* The C library's lanes too: the recomputing backward gives the backward from phi's bits. */
    CHECK(recompute_is_from_phi_f32(layer, p, 16, x, dphi));
    CHECK(recompute_is_from_phi_f64(layer, pd, 8, xd, dphid));
    free(p); free(dp); free(x); free(dphi); free(z);
    free(pd); free(dpd); free(xd); free(dphid); free(zd);
    fastfood_layer_destroy(layer);
}

/*
 * fastfood_features_backward_from_phi_*: bitwise the plain backward of dy = c * dsin - s * dcos
 * (each product rounded, then the difference; volatile keeps the compiler from fusing them), with
 * every flag, x NULL for dx only, on one and several blocks and on the tile and row paths
 * (batches 1, 3 and 35); the same bits for 1 and 2 threads; and the same bits as the recomputing
 * fastfood_features_backward_* (since 1.4.1; to rounding before), with every flag and for dx only.
 */
#define FROM_PHI_CASE(T, S)                                                                          \
    static void from_phi_case_##S(size_t in, size_t out, uint32_t layer_flags, size_t batch) {     \
        fastfood_layer *layer = make_layer(in, out, 7 + out, layer_flags);                         \
        const size_t n = fastfood_layer_param_count(layer), w = 2 * out + 3; /* padded strides */  \
        T *p = xmalloc(n * sizeof *p), *x = xmalloc(batch * in * sizeof *x);                        \
        T *phi = xmalloc(batch * w * sizeof *phi), *dphi = xmalloc(batch * w * sizeof *dphi);      \
        T *dy = xmalloc(batch * out * sizeof *dy);                                                 \
        T *dx1 = xmalloc(batch * in * sizeof *dx1), *dx2 = xmalloc(batch * in * sizeof *dx2);      \
        T *dp1 = xmalloc(n * sizeof *dp1), *dp2 = xmalloc(n * sizeof *dp2);                        \
        T *dx3 = xmalloc(batch * in * sizeof *dx3), *dp3 = xmalloc(n * sizeof *dp3);               \
        CHECK(fastfood_init_params_preset_##S(layer, FASTFOOD_INIT_VARIANCE, 5, 1.0, p) == FASTFOOD_OK); \
        for (size_t i = 0; i < n; i++) p[i] += (T)(0.05 * uniform());                              \
        for (size_t i = 0; i < batch * in; i++) x[i] = (T)uniform();                               \
        for (size_t i = 0; i < batch * w; i++) dphi[i] = (T)uniform();                             \
        CHECK(fastfood_features_forward_##S(layer, p, batch, x, in, phi, w) == FASTFOOD_OK);       \
        for (size_t r = 0; r < batch; r++)                                                         \
            for (size_t i = 0; i < out; i++) {                                                     \
                volatile T a = phi[r * w + i] * dphi[r * w + out + i];                             \
                volatile T b = phi[r * w + out + i] * dphi[r * w + i];                             \
                dy[r * out + i] = a - b;                                                           \
            }                                                                                      \
        static const uint32_t flag_sets[] = {0, FASTFOOD_ACCUMULATE, FASTFOOD_SKIP_GRAD_S | FASTFOOD_SKIP_GRAD_B, \
                                             FASTFOOD_SKIP_GRAD_G | FASTFOOD_ACCUMULATE};          \
        /* dx1, dp1: the plain backward of dy; dx2, dp2: from phi; dx3, dp3: the recomputing call, \
         * the same bits since 1.4.1 (both form dy from phi's own values). Every flag set, then dx only. */ \
        int same = 1, recomputed_same = 1;                                                         \
        for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {                      \
            for (size_t i = 0; i < batch * in; i++) dx1[i] = dx2[i] = dx3[i] = (T)uniform();       \
            for (size_t i = 0; i < n; i++) dp1[i] = dp2[i] = dp3[i] = (T)uniform();                \
            CHECK(fastfood_backward_##S(layer, p, batch, x, in, dy, out, dx1, in, dp1, flag_sets[f]) == FASTFOOD_OK); \
            CHECK(fastfood_features_backward_from_phi_##S(layer, p, batch, x, in, phi, w, dphi, w, dx2, in, dp2, \
                                                          flag_sets[f]) == FASTFOOD_OK);           \
            CHECK(fastfood_features_backward_##S(layer, p, batch, x, in, dphi, w, dx3, in, dp3, flag_sets[f]) == FASTFOOD_OK); \
            same &= memcmp(dx1, dx2, batch * in * sizeof *dx1) == 0 && memcmp(dp1, dp2, n * sizeof *dp1) == 0; \
            recomputed_same &= memcmp(dx3, dx2, batch * in * sizeof *dx1) == 0 && memcmp(dp3, dp2, n * sizeof *dp1) == 0; \
        }                                                                                          \
        CHECK(fastfood_backward_##S(layer, p, batch, NULL, 0, dy, out, dx1, in, NULL, 0) == FASTFOOD_OK); \
        CHECK(fastfood_features_backward_from_phi_##S(layer, p, batch, NULL, 0, phi, w, dphi, w, dx2, in, NULL, 0) \
              == FASTFOOD_OK);                                                                     \
        CHECK(fastfood_features_backward_##S(layer, p, batch, x, in, dphi, w, dx3, in, NULL, 0) == FASTFOOD_OK); \
        same &= memcmp(dx1, dx2, batch * in * sizeof *dx1) == 0;                                   \
        recomputed_same &= memcmp(dx3, dx2, batch * in * sizeof *dx1) == 0;                        \
        if (!recomputed_same) printf("  from_phi " #S " %zu -> %zu batch %zu: not the recomputing call's bits\n", in, out, batch); \
        CHECK(same);                                                                               \
        CHECK(recomputed_same);                                                                    \
        from_phi_cases_##S += recomputed_same;                                                     \
        /* 2 threads against 1. */                                                                 \
        CHECK(fastfood_features_backward_from_phi_##S(layer, p, batch, x, in, phi, w, dphi, w, dx2, in, dp2, 0) \
              == FASTFOOD_OK);                                                                     \
        size_t threads = fastfood_get_num_threads();                                               \
        CHECK(fastfood_set_num_threads(threads == 1 ? 2 : 1) == FASTFOOD_OK);                      \
        CHECK(fastfood_features_backward_from_phi_##S(layer, p, batch, x, in, phi, w, dphi, w, dx1, in, dp1, 0) \
              == FASTFOOD_OK);                                                                     \
        CHECK(fastfood_set_num_threads(threads) == FASTFOOD_OK);                                   \
        CHECK(memcmp(dx1, dx2, batch * in * sizeof *dx1) == 0 && memcmp(dp1, dp2, n * sizeof *dp1) == 0); \
        free(p); free(x); free(phi); free(dphi); free(dy); free(dx1); free(dx2); free(dp1); free(dp2); \
        free(dx3); free(dp3);                                                                      \
        fastfood_layer_destroy(layer);                                                             \
    }
static int from_phi_cases_f32, from_phi_cases_f64;
FROM_PHI_CASE(float, f32)
FROM_PHI_CASE(double, f64)

static void test_features_from_phi(void) {
    static const struct { size_t in, out; uint32_t flags; } shapes[] = {
        {100, 300, FASTFOOD_LAYER_BIAS}, {1024, 1024, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED}, {5, 24, 0}};
    static const size_t batches[] = {1, 3, 35};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
            from_phi_case_f32(shapes[s].in, shapes[s].out, shapes[s].flags, batches[b]);
            from_phi_case_f64(shapes[s].in, shapes[s].out, shapes[s].flags, batches[b]);
        }
    printf("  features backward from phi: the recomputing call's bits in %d float and %d double cases\n",
           from_phi_cases_f32, from_phi_cases_f64);
    /* batch 0: nothing read (phi may be NULL), dparams zeroed as by the backward. */
    fastfood_layer *layer = make_layer(5, 24, 2, 0);
    size_t n = fastfood_layer_param_count(layer);
    float *dp = xmalloc(n * sizeof *dp), *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) dp[i] = 1, p[i] = 0;
    CHECK(fastfood_features_backward_from_phi_f32(layer, p, 0, NULL, 5, NULL, 48, NULL, 48, NULL, 5, dp, 0) == FASTFOOD_OK);
    int zeroed = 1;
    for (size_t i = 0; i < n; i++) zeroed &= dp[i] == 0;
    CHECK(zeroed);
    CHECK_STATUS(fastfood_features_backward_from_phi_f32(layer, p, 2, NULL, 5, NULL, 48, p, 48, NULL, 5, NULL, 0),
                 FASTFOOD_ERROR_NULL_POINTER, "phi");
    CHECK_STATUS(fastfood_features_backward_from_phi_f32(layer, p, 2, NULL, 5, p, 47, p, 48, NULL, 5, NULL, 0),
                 FASTFOOD_ERROR_INVALID_ARGUMENT, "ldphi (47) is smaller than 2 * out_features (48)");
    free(dp); free(p);
    fastfood_layer_destroy(layer);
}

int main(void) {
    test_features_from_phi();
    test_dropout();
    test_dropout_thresholds();
    test_dropout_gradients(1);
    test_dropout_gradients(9);
    test_dropout_gradients(16); /* a whole tile */
    test_tile_and_row_paths();
    test_features_mixed_range();
    test_features_accuracy();
    test_features_sweep();
    test_features();
    test_presets();
    test_skip_flags();
    test_round_trips();
    test_bad_data();
    return report();
}
