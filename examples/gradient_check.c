/*
 * gradient_check.c - checks every gradient of the backward calls a training loop makes
 * (fastfood_backward_*, fastfood_backward_train_* with dropout, fastfood_features_backward_*
 * and fastfood_features_backward_from_phi_*) against central finite differences, using nothing
 * but <fastfood.h> and libfastfood.so.
 *
 * For each layer below (padding, several blocks, truncation, bias) and a random batch, the loss
 *
 *     L(params, x) = sum_{r,j} ( w[r][j] * y[r][j] + 0.5 * y[r][j]^2 ),   y = layer(params, x)
 *
 * has upstream gradient dy = w + y, where y is the forward call's output: the plain forward,
 * the training forward with fixed dropout masks (a fixed seed and step), or the random-feature
 * map phi. Every entry of dx, dS, dG, dB and dbias from one backward call is compared with
 * (L(p + h) - L(p - h)) / (2h). Without features y is linear in each single parameter and input
 * (the masks do not depend on the values), so L is quadratic in it and the central difference
 * is exact up to rounding; phi's cos and sin leave an error of order h^2, hence their smaller h.
 * (In float no step is both small enough for that error and large enough for float's rounding:
 * there the features' float gradients are checked against the double ones only, the f32/f64
 * column.)
 *
 * Error measure per gradient: max_i |analytic_i - numeric_i| / max_i |numeric_i|.
 * Columns: f64 (double analytic vs double differences), f32 (float analytic vs float
 * differences), f32/f64 (float analytic vs double differences: the float path's accuracy).
 *
 * Exit status 0 when every error is under its tolerance, 1 otherwise. --quiet prints only the
 * rows out of tolerance and the result line.
 */
#include <fastfood.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "option_values.h"

#define TOL_F64 1e-7
#define TOL_F32 2e-3
#define TOL_F32_VS_F64 1e-4

/* Which forward and backward pair a layer's check goes through. */
typedef enum {
    CALL_PLAIN,    /* fastfood_forward_* and fastfood_backward_* */
    CALL_DROPOUT,  /* fastfood_forward_train_* and fastfood_backward_train_*, the rates below */
    CALL_FEATURES, /* fastfood_features_forward_* and fastfood_features_backward_* */
    CALL_FROM_PHI, /* fastfood_features_forward_* and fastfood_features_backward_from_phi_* */
} call_kind;

static int has_features(call_kind call) { return call == CALL_FEATURES || call == CALL_FROM_PHI; }

/* The paper's dropout sites (input, after PI, after S), one fixed set of masks. */
#define DROP_INPUT 0.1
#define DROP_PERMUTED 0.1
#define DROP_OUTPUT 0.2
#define DROP_SEED 7
#define DROP_STEP 3

typedef struct {
    const char *name;
    size_t in, out, batch;
    uint32_t flags;
    call_kind call;
} shape;

static const shape shapes[] = {
    {"3 -> 5, bias (padding, 2 blocks, truncation)", 3, 5, 3, FASTFOOD_LAYER_BIAS, CALL_PLAIN},
    {"8 -> 8 (one exact block)", 8, 8, 2, 0, CALL_PLAIN},
    {"100 -> 37, bias (padding, truncation)", 100, 37, 4, FASTFOOD_LAYER_BIAS, CALL_PLAIN},
    {"64 -> 200, bias (4 blocks)", 64, 200, 3, FASTFOOD_LAYER_BIAS, CALL_PLAIN},
    {"257 -> 1030, bias (3 blocks of 512)", 257, 1030, 2, FASTFOOD_LAYER_BIAS, CALL_PLAIN},
    {"100 -> 300, bias, normalised (orthonormal H)", 100, 300, 3, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED, CALL_PLAIN},
    {"3 -> 5, normalised", 3, 5, 2, FASTFOOD_LAYER_NORMALIZED, CALL_PLAIN},
    /* Batches of 16 rows and more run as interleaved tiles (16 float or 8 double rows a tile),
     * the path a training batch takes; the ones above run row by row. 20 rows: whole tiles
     * plus 4 single rows in one call, their parameter gradients summed across both. */
    {"30 -> 80, bias, batch 20 (interleaved tiles and single rows)", 30, 80, 20, FASTFOOD_LAYER_BIAS, CALL_PLAIN},
    {"100 -> 300, bias, dropout 0.1/0.1/0.2, batch 3", 100, 300, 3, FASTFOOD_LAYER_BIAS, CALL_DROPOUT},
    {"30 -> 80, bias, dropout 0.1/0.1/0.2, batch 20", 30, 80, 20, FASTFOOD_LAYER_BIAS, CALL_DROPOUT},
    {"100 -> 37, bias, random features, batch 3", 100, 37, 3, FASTFOOD_LAYER_BIAS, CALL_FEATURES},
    {"30 -> 80, random features, batch 20", 30, 80, 20, 0, CALL_FEATURES},
    {"30 -> 80, bias, random features from the saved phi, batch 20", 30, 80, 20, FASTFOOD_LAYER_BIAS, CALL_FROM_PHI},
};

enum { SECTION_DX, SECTION_S, SECTION_G, SECTION_B, SECTION_BIAS, SECTIONS };
static const char *section_names[SECTIONS] = {"dx", "dS", "dG", "dB", "dbias"};

static int failures = 0;
static int quiet = 0; /* --quiet: only failing rows and the result line */

static void check(fastfood_status status, const char *what) {
    if (status != FASTFOOD_OK) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, fastfood_status_string(status),
                fastfood_last_error_message());
        exit(2);
    }
}

static void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* Deterministic uniform numbers in [-1, 1). */
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;
static double uniform(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-52 - 1.0;
}

/* Which section a parameter index belongs to. */
static int section_of(size_t index, size_t kd) {
    return index < kd ? SECTION_S : index < 2 * kd ? SECTION_G : index < 3 * kd ? SECTION_B : SECTION_BIAS;
}

/* Accumulates max |a - n| and max |n| per section; the error is their ratio. */
typedef struct {
    double diff[SECTIONS], scale[SECTIONS];
    int present[SECTIONS];
} errors;

static void record(errors *e, int section, double analytic, double numeric) {
    double d = fabs(analytic - numeric);
    if (d > e->diff[section]) e->diff[section] = d;
    if (fabs(numeric) > e->scale[section]) e->scale[section] = fabs(numeric);
    e->present[section] = 1;
}

static double ratio(const errors *e, int section) {
    return e->scale[section] > 0 ? e->diff[section] / e->scale[section] : e->diff[section];
}

/* ---- the calls ----------------------------------------------------------------------------- */

/* Elements in a row of the forward call's output: phi has two per layer output. */
static size_t width_of(const fastfood_layer *layer, call_kind call) {
    return fastfood_layer_out_features(layer) * (has_features(call) ? 2 : 1);
}

static void forward_f64(const fastfood_layer *layer, call_kind call, const double *params, size_t batch,
                        const double *x, double *y) {
    size_t in = fastfood_layer_in_features(layer), ld = width_of(layer, call);
    switch (call) {
    case CALL_PLAIN:
        check(fastfood_forward_f64(layer, params, batch, x, in, y, ld), "forward_f64");
        break;
    case CALL_DROPOUT:
        check(fastfood_forward_train_f64(layer, params, batch, x, in, y, ld, DROP_INPUT, DROP_PERMUTED,
                                         DROP_OUTPUT, DROP_SEED, DROP_STEP), "forward_train_f64");
        break;
    case CALL_FEATURES:
    case CALL_FROM_PHI:
        check(fastfood_features_forward_f64(layer, params, batch, x, in, y, ld), "features_forward_f64");
        break;
    }
}

/* y: the forward's output for these params and x (the backward from phi reads it); dy: y's gradient. */
static void backward_f64(const fastfood_layer *layer, call_kind call, const double *params, size_t batch,
                         const double *x, const double *y, const double *dy, double *dx, double *dparams) {
    size_t in = fastfood_layer_in_features(layer), ld = width_of(layer, call);
    switch (call) {
    case CALL_PLAIN:
        check(fastfood_backward_f64(layer, params, batch, x, in, dy, ld, dx, in, dparams, 0), "backward_f64");
        break;
    case CALL_DROPOUT:
        check(fastfood_backward_train_f64(layer, params, batch, x, in, dy, ld, dx, in, dparams, 0, DROP_INPUT,
                                          DROP_PERMUTED, DROP_OUTPUT, DROP_SEED, DROP_STEP), "backward_train_f64");
        break;
    case CALL_FEATURES:
        check(fastfood_features_backward_f64(layer, params, batch, x, in, dy, ld, dx, in, dparams, 0),
              "features_backward_f64");
        break;
    case CALL_FROM_PHI: /* y: phi, the forward's output, as a training loop keeps it */
        check(fastfood_features_backward_from_phi_f64(layer, params, batch, x, in, y, ld, dy, ld, dx, in,
                                                      dparams, 0), "features_backward_from_phi_f64");
        break;
    }
}

static void forward_f32(const fastfood_layer *layer, call_kind call, const float *params, size_t batch,
                        const float *x, float *y) {
    size_t in = fastfood_layer_in_features(layer), ld = width_of(layer, call);
    switch (call) {
    case CALL_PLAIN:
        check(fastfood_forward_f32(layer, params, batch, x, in, y, ld), "forward_f32");
        break;
    case CALL_DROPOUT:
        check(fastfood_forward_train_f32(layer, params, batch, x, in, y, ld, DROP_INPUT, DROP_PERMUTED,
                                         DROP_OUTPUT, DROP_SEED, DROP_STEP), "forward_train_f32");
        break;
    case CALL_FEATURES:
    case CALL_FROM_PHI:
        check(fastfood_features_forward_f32(layer, params, batch, x, in, y, ld), "features_forward_f32");
        break;
    }
}

static void backward_f32(const fastfood_layer *layer, call_kind call, const float *params, size_t batch,
                         const float *x, const float *y, const float *dy, float *dx, float *dparams) {
    size_t in = fastfood_layer_in_features(layer), ld = width_of(layer, call);
    switch (call) {
    case CALL_PLAIN:
        check(fastfood_backward_f32(layer, params, batch, x, in, dy, ld, dx, in, dparams, 0), "backward_f32");
        break;
    case CALL_DROPOUT:
        check(fastfood_backward_train_f32(layer, params, batch, x, in, dy, ld, dx, in, dparams, 0, DROP_INPUT,
                                          DROP_PERMUTED, DROP_OUTPUT, DROP_SEED, DROP_STEP), "backward_train_f32");
        break;
    case CALL_FEATURES:
        check(fastfood_features_backward_f32(layer, params, batch, x, in, dy, ld, dx, in, dparams, 0),
              "features_backward_f32");
        break;
    case CALL_FROM_PHI:
        check(fastfood_features_backward_from_phi_f32(layer, params, batch, x, in, y, ld, dy, ld, dx, in,
                                                      dparams, 0), "features_backward_from_phi_f32");
        break;
    }
}

/* ---- double precision --------------------------------------------------------------------- */

static double loss_f64(const fastfood_layer *layer, call_kind call, const double *params, size_t batch,
                       const double *x, const double *w, double *y) {
    forward_f64(layer, call, params, batch, x, y);
    size_t n = batch * width_of(layer, call);
    double loss = 0;
    for (size_t i = 0; i < n; i++) loss += w[i] * y[i] + 0.5 * y[i] * y[i];
    return loss;
}

static void gradients_f64(const fastfood_layer *layer, call_kind call, const double *params, size_t batch,
                          const double *x, const double *w, double *dx, double *dparams) {
    size_t width = width_of(layer, call);
    double *y = xcalloc(batch * width, sizeof *y), *dy = xcalloc(batch * width, sizeof *dy);
    loss_f64(layer, call, params, batch, x, w, y);
    for (size_t i = 0; i < batch * width; i++) dy[i] = w[i] + y[i];
    backward_f64(layer, call, params, batch, x, y, dy, dx, dparams);
    free(y); free(dy);
}

/* d loss / d *value (one of the parameters or inputs) by a central difference: step 1e-3, exact
 * up to rounding for a loss quadratic in the value; 1e-6 through cos and sin, whose error
 * ~ (h dz/dvalue)^2 / 6 is largest for S, with dz/dS = (H G PI H B x) in the hundreds here. */
static double central_difference(const fastfood_layer *layer, call_kind call, const double *params, size_t batch,
                                 const double *x, const double *w, double *y, double *value) {
    const double h = has_features(call) ? 1e-6 : 1e-3, saved = *value;
    *value = saved + h;
    double plus = loss_f64(layer, call, params, batch, x, w, y);
    *value = saved - h;
    double minus = loss_f64(layer, call, params, batch, x, w, y);
    *value = saved;
    return (plus - minus) / (2 * h);
}

/* Analytic double gradients vs double central differences. */
static void check_f64(const fastfood_layer *layer, call_kind call, double *params, size_t batch, double *x,
                      const double *w, const double *dx, const double *dparams, errors *e) {
    size_t in = fastfood_layer_in_features(layer);
    size_t count = fastfood_layer_param_count(layer);
    size_t kd = fastfood_layer_num_blocks(layer) * fastfood_layer_block_size(layer);
    double *y = xcalloc(batch * width_of(layer, call), sizeof *y);
    for (size_t i = 0; i < count; i++)
        record(e, section_of(i, kd), dparams[i],
               central_difference(layer, call, params, batch, x, w, y, &params[i]));
    for (size_t i = 0; i < batch * in; i++)
        record(e, SECTION_DX, dx[i], central_difference(layer, call, params, batch, x, w, y, &x[i]));
    free(y);
}

/* ---- single precision --------------------------------------------------------------------- */

static double loss_f32(const fastfood_layer *layer, call_kind call, const float *params, size_t batch,
                       const float *x, const double *w, float *y) {
    forward_f32(layer, call, params, batch, x, y);
    size_t n = batch * width_of(layer, call);
    double loss = 0;
    for (size_t i = 0; i < n; i++) loss += w[i] * y[i] + 0.5 * (double)y[i] * y[i];
    return loss;
}

/* Central difference in float: the step actually taken is (float)(v+h) - (float)(v-h). */
static double difference_f32(const fastfood_layer *layer, call_kind call, float *params, size_t batch, float *x,
                             const double *w, float *y, float *slot) {
    const float h = 1e-2f;
    float saved = *slot, up = saved + h, down = saved - h;
    *slot = up;
    double plus = loss_f32(layer, call, params, batch, x, w, y);
    *slot = down;
    double minus = loss_f32(layer, call, params, batch, x, w, y);
    *slot = saved;
    return (plus - minus) / ((double)up - (double)down);
}

static void check_f32(const fastfood_layer *layer, call_kind call, const double *params64, size_t batch,
                      const double *x64, const double *w, const double *dx64, const double *dparams64,
                      errors *e32, errors *e32_vs_64) {
    size_t in = fastfood_layer_in_features(layer), width = width_of(layer, call);
    size_t count = fastfood_layer_param_count(layer);
    size_t kd = fastfood_layer_num_blocks(layer) * fastfood_layer_block_size(layer);
    float *params = xcalloc(count, sizeof *params), *x = xcalloc(batch * in, sizeof *x);
    float *y = xcalloc(batch * width, sizeof *y), *dy = xcalloc(batch * width, sizeof *dy);
    float *dx = xcalloc(batch * in, sizeof *dx), *dparams = xcalloc(count, sizeof *dparams);
    for (size_t i = 0; i < count; i++) params[i] = (float)params64[i];
    for (size_t i = 0; i < batch * in; i++) x[i] = (float)x64[i];

    loss_f32(layer, call, params, batch, x, w, y);
    for (size_t i = 0; i < batch * width; i++) dy[i] = (float)(w[i] + y[i]);
    backward_f32(layer, call, params, batch, x, y, dy, dx, dparams);

    int differences = !has_features(call); /* see the top of the file */
    for (size_t i = 0; i < count; i++) {
        if (differences)
            record(e32, section_of(i, kd), dparams[i], difference_f32(layer, call, params, batch, x, w, y, &params[i]));
        record(e32_vs_64, section_of(i, kd), dparams[i], dparams64[i]);
    }
    for (size_t i = 0; i < batch * in; i++) {
        if (differences) record(e32, SECTION_DX, dx[i], difference_f32(layer, call, params, batch, x, w, y, &x[i]));
        record(e32_vs_64, SECTION_DX, dx[i], dx64[i]);
    }
    free(params); free(x); free(y); free(dy); free(dx); free(dparams);
}

/* ---- driver ------------------------------------------------------------------------------- */

static void check_shape(const shape *s) {
    fastfood_layer *layer = NULL;
    check(fastfood_layer_create(s->in, s->out, 1234, s->flags, &layer), "layer_create");
    size_t count = fastfood_layer_param_count(layer), width = width_of(layer, s->call);
    double *params = xcalloc(count, sizeof *params);
    double *x = xcalloc(s->batch * s->in, sizeof *x), *w = xcalloc(s->batch * width, sizeof *w);
    double *dx = xcalloc(s->batch * s->in, sizeof *dx), *dparams = xcalloc(count, sizeof *dparams);

    check(fastfood_init_params_f64(layer, 99, 1.0, params), "init_params_f64");
    /* Perturb every parameter (bias included) so no gradient is trivially structured. */
    for (size_t i = 0; i < count; i++) params[i] += 0.1 * uniform();
    for (size_t i = 0; i < s->batch * s->in; i++) x[i] = uniform();
    for (size_t i = 0; i < s->batch * width; i++) w[i] = uniform();

    gradients_f64(layer, s->call, params, s->batch, x, w, dx, dparams);
    errors e64 = {0}, e32 = {0}, e32_vs_64 = {0};
    check_f64(layer, s->call, params, s->batch, x, w, dx, dparams, &e64);
    check_f32(layer, s->call, params, s->batch, x, w, dx, dparams, &e32, &e32_vs_64);

    if (!quiet)
        printf("%s: D=%zu, %zu block(s), batch %zu\n", s->name, fastfood_layer_block_size(layer),
               fastfood_layer_num_blocks(layer), s->batch);
    for (int k = 0; k < SECTIONS; k++) {
        if (!e64.present[k]) continue;
        double a = ratio(&e64, k), b = ratio(&e32, k), c = ratio(&e32_vs_64, k);
        int ok = a < TOL_F64 && (!e32.present[k] || b < TOL_F32) && c < TOL_F32_VS_F64;
        if (!ok) failures++;
        if (quiet && ok) continue;
        char f32[16] = "         -";
        if (e32.present[k]) snprintf(f32, sizeof f32, "%10.2e", b);
        if (quiet) printf("%s: ", s->name); /* a failing row without its layer's heading above */
        printf("  %-6s %10.2e %s %10.2e   %s\n", section_names[k], a, f32, c, ok ? "ok" : "FAIL");
    }
    free(params); free(x); free(w); free(dx); free(dparams);
    fastfood_layer_destroy(layer);
}

static const char help[] =
    "usage: %s [--quiet]\n"
    "Checks every gradient of fastfood_backward_*, fastfood_backward_train_* (dropout),\n"
    "fastfood_features_backward_* and fastfood_features_backward_from_phi_* on eight layers against\n"
    "central finite differences, in double and float; exit status 1 if one is out of tolerance.\n"
    "\n"
    "  --quiet     print only the failing rows and the result\n"
    "  --help, -h  this text\n";

int main(int argc, char **argv) {
    int exit_status = 0;
    if (!option_quiet_only(argc, argv, help, &quiet, &exit_status)) return exit_status;
    if (!quiet) {
        printf("fastfood %s gradient check: max |analytic - numeric| / max |numeric|\n", fastfood_version_string());
        printf("tolerances: f64 %.0e, f32 %.0e, f32 vs f64 %.0e\n", TOL_F64, TOL_F32, TOL_F32_VS_F64);
        printf("  %-6s %10s %10s %10s\n", "grad", "f64", "f32", "f32/f64");
    }
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_shape(&shapes[i]);
    if (failures) {
        printf("gradient check FAILED: %d gradient(s) out of tolerance\n", failures);
        return 1;
    }
    printf("gradient check passed\n");
    return 0;
}
