/*
 * test_batch_sizes.c - every batch size from 1 to 2 tiles + 1 rows gives the same bits, whatever
 * runs its last rows: a full tile, a padded tile or the row path (which one depends on the call,
 * the kernel variant and the row count: the README's "Small batches").
 *
 * For each call (forward; training forward with dropout at all three sites; random-feature
 * forward; backward with dparams, dx only, bias only; training backward; random-feature backward,
 * recomputing and from the saved phi), float and double, one- and several-block layers, 1 and 2
 * threads: rows 0 .. b-1 of a b-row call equal the same rows of a call on all 2T + 1 rows (T = 16
 * float, 8 double rows per tile), bit for bit (y, phi, dx; a row's dropout masks depend on its
 * index in the call only). Parameter gradients are sums whose order follows the batch's units, so
 * they are checked against double precision instead: the float gradient of b rows within 1e-4 of
 * the largest double one, and the double one within 1e-12 of the same sum taken row by row (a
 * padded tile's unused lanes must add nothing).
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#include <fastfood.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_RNG_SEED 0x2545f4914f6cdd1dULL
#include "check.h"

enum { CALLS = 9 };
static const char *call_names[CALLS] = {"forward",         "train forward",    "features forward",
                                        "backward",        "backward dx only", "backward bias only",
                                        "train backward",  "features backward", "features backward from phi"};
static const double drop[3] = {0.1, 0.2, 0.3};

/* Runs call c on `batch` rows: writes its per-row output (y, phi or dx) and, for backward calls
 * with a parameter gradient, dparams. */
#define CALL_CASE(T, S)                                                                                              \
    static fastfood_status run_##S(int c, const fastfood_layer *l, const T *p, size_t batch, const T *x,          \
                                   const T *dphi, const T *phi, T *out, T *dp) {                                  \
        const size_t in = fastfood_layer_in_features(l), o = fastfood_layer_out_features(l);                     \
        switch (c) {                                                                                               \
        case 0: return fastfood_forward_##S(l, p, batch, x, in, out, o);                                          \
        case 1: return fastfood_forward_train_##S(l, p, batch, x, in, out, o, drop[0], drop[1], drop[2], 7, 3);    \
        case 2: return fastfood_features_forward_##S(l, p, batch, x, in, out, 2 * o);                             \
        case 3: return fastfood_backward_##S(l, p, batch, x, in, dphi, o, out, in, dp, 0);                       \
        case 4: return fastfood_backward_##S(l, p, batch, NULL, 0, dphi, o, out, in, NULL, 0);                   \
        case 5:                                                                                                    \
            return fastfood_backward_##S(l, p, batch, x, in, dphi, o, out, in, dp,                                \
                                         FASTFOOD_SKIP_GRAD_S | FASTFOOD_SKIP_GRAD_G | FASTFOOD_SKIP_GRAD_B);     \
        case 6:                                                                                                    \
            return fastfood_backward_train_##S(l, p, batch, x, in, dphi, o, out, in, dp, 0, drop[0], drop[1],      \
                                               drop[2], 7, 3);                                                     \
        case 7: return fastfood_features_backward_##S(l, p, batch, x, in, dphi, 2 * o, out, in, dp, 0);          \
        default:                                                                                                   \
            return fastfood_features_backward_from_phi_##S(l, p, batch, x, in, phi, 2 * o, dphi, 2 * o, out, in, \
                                                           dp, 0);                                                 \
        }                                                                                                          \
    }
CALL_CASE(float, f32)
CALL_CASE(double, f64)

static int is_forward(int c) { return c <= 2; }
static int has_gradient(int c) { return c == 3 || c >= 5; }
static size_t row_width(int c, size_t in, size_t out) { return c == 2 ? 2 * out : is_forward(c) ? out : in; }

/* One layer, one call, one thread count: every batch size against the full call (bitwise), and
 * the gradients of float against double and of double against the row-by-row sum. */
static void check_call(size_t in, size_t out, int c) {
    fastfood_layer *l = NULL;
    if (fastfood_layer_create(in, out, 21, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED, &l) != FASTFOOD_OK) exit(2);
    const size_t n = fastfood_layer_param_count(l), rows = 2 * 16 + 1, w = row_width(c, in, out);
    double *pd = xmalloc(n * sizeof *pd), *xd = xmalloc(rows * in * sizeof *xd);
    double *gd = xmalloc(rows * 2 * out * sizeof *gd), *phid = xmalloc(rows * 2 * out * sizeof *phid);
    float *pf = xmalloc(n * sizeof *pf), *xf = xmalloc(rows * in * sizeof *xf);
    float *gf = xmalloc(rows * 2 * out * sizeof *gf), *phif = xmalloc(rows * 2 * out * sizeof *phif);
    fastfood_init_params_f64(l, 3, 1.0, pd);
    for (size_t i = 0; i < n; i++) pf[i] = (float)(pd[i] += 0.05 * uniform());
    for (size_t i = 0; i < rows * in; i++) xf[i] = (float)(xd[i] = uniform());
    for (size_t i = 0; i < rows * 2 * out; i++) gf[i] = (float)(gd[i] = uniform());
    /* The forward's phi, for the from-phi backward. */
    if (fastfood_features_forward_f64(l, pd, rows, xd, in, phid, 2 * out) != FASTFOOD_OK ||
        fastfood_features_forward_f32(l, pf, rows, xf, in, phif, 2 * out) != FASTFOOD_OK) exit(2);
    double *fulld = xmalloc(rows * w * sizeof *fulld), *oned = xmalloc(rows * w * sizeof *oned);
    float *fullf = xmalloc(rows * w * sizeof *fullf), *onef = xmalloc(rows * w * sizeof *onef);
    double *dpd = xmalloc(n * sizeof *dpd), *rowsum = xmalloc(n * sizeof *rowsum), *dp1 = xmalloc(n * sizeof *dp1);
    float *dpf = xmalloc(n * sizeof *dpf);
    int ok = 1;
    for (size_t threads = 1; threads <= 2; threads++) {
        fastfood_set_num_threads(threads);
        ok &= run_f64(c, l, pd, rows, xd, gd, phid, fulld, dpd) == FASTFOOD_OK;
        ok &= run_f32(c, l, pf, rows, xf, gf, phif, fullf, dpf) == FASTFOOD_OK;
        memset(rowsum, 0, n * sizeof *rowsum);
        for (size_t b = 1; b <= rows; b++) {
            memset(dpd, 0, n * sizeof *dpd); /* bias only leaves the other sections as they are */
            memset(dpf, 0, n * sizeof *dpf);
            ok &= run_f64(c, l, pd, b, xd, gd, phid, oned, dpd) == FASTFOOD_OK;
            ok &= run_f32(c, l, pf, b, xf, gf, phif, onef, dpf) == FASTFOOD_OK;
            int same = memcmp(oned, fulld, b * w * sizeof *oned) == 0 && memcmp(onef, fullf, b * w * sizeof *onef) == 0;
            if (!same) printf("  %s, %zu -> %zu, %zu thread(s): batch %zu differs from the full call's rows\n",
                              call_names[c], in, out, threads, b);
            ok &= same;
            if (!has_gradient(c)) continue;
            /* Row b - 1 alone (the row path) added to the running sum: rows 0 .. b-1. */
            const size_t lddy = c >= 7 ? 2 * out : out; /* dy, or dphi for the features calls */
            const double *xr = xd + (b - 1) * in, *gr = gd + (b - 1) * lddy, *phir = phid + (b - 1) * 2 * out;
            if (c == 6) { /* a dropout row's masks depend on its index: no single-row call has row b-1's */
                for (size_t i = 0; i < n; i++) rowsum[i] = dpd[i];
            } else {
                memset(dp1, 0, n * sizeof *dp1);
                ok &= run_f64(c, l, pd, 1, xr, gr, phir, oned, dp1) == FASTFOOD_OK;
                for (size_t i = 0; i < n; i++) rowsum[i] += dp1[i];
            }
            double largest = 0, off32 = 0, off64 = 0;
            for (size_t i = 0; i < n; i++) {
                largest = fmax(largest, fabs(dpd[i]));
                off32 = fmax(off32, fabs((double)dpf[i] - dpd[i]));
                off64 = fmax(off64, fabs(rowsum[i] - dpd[i]));
            }
            int close = largest > 0 && off32 <= 1e-4 * largest && off64 <= 1e-12 * largest;
            if (!close) printf("  %s, %zu -> %zu, %zu thread(s), batch %zu: gradient off by %.2e (float), %.2e (double)"
                               " of %.2e\n", call_names[c], in, out, threads, b, off32, off64, largest);
            ok &= close;
        }
    }
    CHECK(ok);
    free(pd); free(xd); free(gd); free(phid); free(pf); free(xf); free(gf); free(phif);
    free(fulld); free(oned); free(fullf); free(onef); free(dpd); free(rowsum); free(dp1); free(dpf);
    fastfood_layer_destroy(l);
}

int main(void) {
    /* One block with bias; several blocks with a truncated last one, of 44 outputs (a partial
     * tile block) and of 4 (fewer than a vector: the scatters' column by column path). */
    static const size_t shapes[][2] = {{200, 256}, {100, 300}, {100, 260}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int c = 0; c < CALLS; c++) check_call(shapes[s][0], shapes[s][1], c);
    return report();
}
