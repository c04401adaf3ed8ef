/*
 * test_bad_inputs.c - the bad-input table: every exported function with every pointer NULL,
 * sizes 0, sizes whose products overflow size_t, widths too large to allocate, row strides
 * shorter than the row, unknown flag bits, out-of-range values and (since 1.4) outputs that share
 * memory with an input or with each other other than as the documented exact in-place uses
 * (test_in_place.c checks those). Each call must return the
 * documented status, leave a message naming the argument, and write nothing: every output
 * buffer is filled with a canary pattern that is checked after every call. The process must
 * keep running. Also: NaN and infinity in inputs propagate as IEEE arithmetic says.
 *
 * Prints "N passed, M failed" and how many table rows ran; exit status 1 on failure.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int rows = 0;

enum { CAP = 8192 };
static float out32[CAP], outb32[CAP];
static double out64[CAP], outb64[CAP];
static size_t perm[CAP], info_size;
static unsigned char bytes[CAP];
static fastfood_layer *const SENTINEL = (fastfood_layer *)(uintptr_t)0x4242;
static fastfood_layer *new_layer;
static uint64_t info_seed;
static uint32_t info_flags;

static void fill_canaries(void) {
    for (int i = 0; i < CAP; i++) {
        out32[i] = outb32[i] = -777.0f;
        out64[i] = outb64[i] = -777.0;
        perm[i] = 0xdeadbeef;
        bytes[i] = 0xa5;
    }
    new_layer = SENTINEL;
    info_size = 0xdeadbeef;
    info_seed = 0xdeadbeef;
    info_flags = 0xdeadbeef;
}
static int canaries_intact(void) {
    for (int i = 0; i < CAP; i++)
        if (out32[i] != -777.0f || outb32[i] != -777.0f || out64[i] != -777.0 || outb64[i] != -777.0 ||
            perm[i] != 0xdeadbeef || bytes[i] != 0xa5)
            return 0;
    return new_layer == SENTINEL && info_size == 0xdeadbeef && info_seed == 0xdeadbeef && info_flags == 0xdeadbeef;
}

/* One table row: expected status, a word the message must contain, nothing written. */
#define BAD(call, expected, needle)                                                                \
    do {                                                                                           \
        rows++;                                                                                    \
        fill_canaries();                                                                           \
        fastfood_status s_ = (call);                                                               \
        const char *m_ = fastfood_last_error_message();                                            \
        int ok_ = s_ == (expected) && strstr(m_, (needle)) != NULL && canaries_intact();           \
        if (!ok_) printf("  row `%s`: status %d (want %d), message \"%s\" (want \"%s\")%s\n", #call, \
                         s_, expected, m_, needle, canaries_intact() ? "" : ", OUTPUT WRITTEN");    \
        CHECK(ok_);                                                                                \
    } while (0)

int main(void) {
    const size_t in = 100, out = 300, batch = 4;
    fastfood_layer *L = NULL;
    CHECK(fastfood_layer_create(in, out, 1, FASTFOOD_LAYER_BIAS, &L) == FASTFOOD_OK);
    const size_t n = fastfood_layer_param_count(L); /* 3*384 + 300 */
    float *p32 = calloc(n, sizeof *p32), *x32 = calloc(batch * in, sizeof *x32), *dy32 = calloc(batch * 2 * out, sizeof *dy32);
    double *p64 = calloc(n, sizeof *p64), *x64 = calloc(batch * in, sizeof *x64), *dy64 = calloc(batch * 2 * out, sizeof *dy64);
    fastfood_init_params_f32(L, 1, 1.0, p32);
    fastfood_init_params_f64(L, 1, 1.0, p64);
    size_t saved = 0;
    fastfood_save_size(L, FASTFOOD_TYPE_F32, &saved);
    unsigned char *image = malloc(saved);
    fastfood_save_f32(L, p32, image, saved);
    const size_t HALF = SIZE_MAX / 2;

    /* ---- layer_create ---- */
    BAD(fastfood_layer_create(in, out, 1, 0, NULL), FASTFOOD_ERROR_NULL_POINTER, "out_layer");
    BAD(fastfood_layer_create(0, out, 1, 0, &new_layer), FASTFOOD_ERROR_INVALID_ARGUMENT, "in_features");
    BAD(fastfood_layer_create(in, 0, 1, 0, &new_layer), FASTFOOD_ERROR_INVALID_ARGUMENT, "out_features");
    BAD(fastfood_layer_create(HALF, out, 1, 0, &new_layer), FASTFOOD_ERROR_INVALID_ARGUMENT, "in_features");
    BAD(fastfood_layer_create(SIZE_MAX, out, 1, 0, &new_layer), FASTFOOD_ERROR_INVALID_ARGUMENT, "in_features");
    BAD(fastfood_layer_create(in, HALF, 1, 0, &new_layer), FASTFOOD_ERROR_SIZE_OVERFLOW, "parameters");
    BAD(fastfood_layer_create(in, SIZE_MAX, 1, 0, &new_layer), FASTFOOD_ERROR_SIZE_OVERFLOW, "out_features");
    BAD(fastfood_layer_create((size_t)1 << 30, (size_t)1 << 42, 1, 0, &new_layer), FASTFOOD_ERROR_OUT_OF_MEMORY, "permutations");
    BAD(fastfood_layer_create(in, out, 1, 0x10u, &new_layer), FASTFOOD_ERROR_INVALID_ARGUMENT, "flags");
    BAD(fastfood_layer_create(in, out, 1, 0x80000000u, &new_layer), FASTFOOD_ERROR_INVALID_ARGUMENT, "flags");

    /* ---- queries, version, status strings (cannot fail: defined answers) ---- */
    CHECK(fastfood_layer_in_features(NULL) == 0 && fastfood_layer_out_features(NULL) == 0 &&
          fastfood_layer_block_size(NULL) == 0 && fastfood_layer_num_blocks(NULL) == 0 &&
          fastfood_layer_param_count(NULL) == 0 && fastfood_layer_flags(NULL) == 0 && fastfood_layer_seed(NULL) == 0);
    CHECK(fastfood_version_string() != NULL && fastfood_cpu_variant() != NULL && fastfood_last_error_message() != NULL);
    CHECK(strcmp(fastfood_status_string(99), "unknown status code") == 0);
    CHECK(strcmp(fastfood_status_string(-1), "unknown status code") == 0);
    fastfood_layer_destroy(NULL);
    rows += 5;

    /* ---- permutation, initialisation ---- */
    BAD(fastfood_layer_permutation(NULL, perm), FASTFOOD_ERROR_NULL_POINTER, "layer");
    BAD(fastfood_layer_permutation(L, NULL), FASTFOOD_ERROR_NULL_POINTER, "perm");
#define INIT_ROWS(T, S, OUT)                                                                                    \
    BAD(fastfood_init_params_##S(NULL, 1, 1.0, OUT), FASTFOOD_ERROR_NULL_POINTER, "layer");                    \
    BAD(fastfood_init_params_##S(L, 1, 1.0, NULL), FASTFOOD_ERROR_NULL_POINTER, "params");                     \
    BAD(fastfood_init_params_##S(L, 1, 0.0, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "sigma (0.0) must be finite and greater than 0"); \
    BAD(fastfood_init_params_##S(L, 1, -1.0, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "sigma (-1.0) must be");  \
    BAD(fastfood_init_params_##S(L, 1, NAN, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "sigma (nan) must be");    \
    BAD(fastfood_init_params_##S(L, 1, INFINITY, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "sigma (inf) must be"); \
    BAD(fastfood_init_params_preset_##S(NULL, 0, 1, 1.0, OUT), FASTFOOD_ERROR_NULL_POINTER, "layer");          \
    BAD(fastfood_init_params_preset_##S(L, 0, 1, 1.0, NULL), FASTFOOD_ERROR_NULL_POINTER, "params");           \
    BAD(fastfood_init_params_preset_##S(L, 3, 1, 1.0, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "preset");        \
    BAD(fastfood_init_params_preset_##S(L, 0xffffffffu, 1, 1.0, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "preset"); \
    BAD(fastfood_init_params_preset_##S(L, FASTFOOD_INIT_RBF, 1, 0.0, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "value (0.0) is sigma for FASTFOOD_INIT_RBF"); \
    BAD(fastfood_init_params_preset_##S(L, FASTFOOD_INIT_RBF, 1, INFINITY, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "value (inf) is sigma"); \
    BAD(fastfood_init_params_preset_##S(L, FASTFOOD_INIT_VARIANCE, 1, -2.0, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "gain"); \
    BAD(fastfood_init_params_preset_##S(L, FASTFOOD_INIT_VARIANCE, 1, NAN, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "gain"); \
    BAD(fastfood_init_params_preset_##S(L, FASTFOOD_INIT_NEAR_IDENTITY, 1, -0.5, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "epsilon"); \
    BAD(fastfood_init_params_preset_##S(L, FASTFOOD_INIT_NEAR_IDENTITY, 1, INFINITY, OUT), FASTFOOD_ERROR_INVALID_ARGUMENT, "epsilon");
    INIT_ROWS(float, f32, out32)
    INIT_ROWS(double, f64, out64)

    /* ---- forward, backward, training, features: every pointer, stride, size, flag ---- */
#define COMPUTE_ROWS(S, P, X, DY, OUT, OUTB)                                                                     \
    BAD(fastfood_forward_##S(NULL, P, batch, X, in, OUT, out), FASTFOOD_ERROR_NULL_POINTER, "layer");           \
    BAD(fastfood_forward_##S(L, NULL, batch, X, in, OUT, out), FASTFOOD_ERROR_NULL_POINTER, "params");          \
    BAD(fastfood_forward_##S(L, P, batch, NULL, in, OUT, out), FASTFOOD_ERROR_NULL_POINTER, "x");               \
    BAD(fastfood_forward_##S(L, P, batch, X, in, NULL, out), FASTFOOD_ERROR_NULL_POINTER, "y");                 \
    BAD(fastfood_forward_##S(L, P, batch, X, in - 1, OUT, out), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldx");        \
    BAD(fastfood_forward_##S(L, P, batch, X, 0, OUT, out), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldx");             \
    BAD(fastfood_forward_##S(L, P, batch, X, in, OUT, out - 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldy");       \
    BAD(fastfood_forward_##S(L, P, SIZE_MAX, X, in, OUT, out), FASTFOOD_ERROR_SIZE_OVERFLOW, "batch");         \
    BAD(fastfood_forward_##S(L, P, HALF, X, in, OUT, out), FASTFOOD_ERROR_SIZE_OVERFLOW, "x");                 \
    BAD(fastfood_forward_##S(L, P, 2, X, HALF, OUT, out), FASTFOOD_ERROR_SIZE_OVERFLOW, "x");                  \
    BAD(fastfood_forward_##S(L, P, 2, X, SIZE_MAX, OUT, out), FASTFOOD_ERROR_SIZE_OVERFLOW, "ldx");            \
    BAD(fastfood_backward_##S(NULL, P, batch, X, in, DY, out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "layer"); \
    BAD(fastfood_backward_##S(L, NULL, batch, X, in, DY, out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "params"); \
    BAD(fastfood_backward_##S(L, P, batch, NULL, in, DY, out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "x"); \
    BAD(fastfood_backward_##S(L, P, batch, X, in, NULL, out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "dy"); \
    BAD(fastfood_backward_##S(L, P, batch, X, in - 1, DY, out, OUT, in, OUTB, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldx"); \
    BAD(fastfood_backward_##S(L, P, batch, X, in, DY, out - 1, OUT, in, OUTB, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "lddy"); \
    BAD(fastfood_backward_##S(L, P, batch, X, in, DY, out, OUT, in - 1, OUTB, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "lddx"); \
    BAD(fastfood_backward_##S(L, P, batch, X, in, DY, out, OUT, in, OUTB, 0x10u), FASTFOOD_ERROR_INVALID_ARGUMENT, "flags"); \
    BAD(fastfood_backward_##S(L, P, batch, X, in, DY, out, OUT, in, OUTB, 0x80000000u), FASTFOOD_ERROR_INVALID_ARGUMENT, "flags"); \
    BAD(fastfood_backward_##S(L, P, SIZE_MAX, X, in, DY, out, OUT, in, OUTB, 0), FASTFOOD_ERROR_SIZE_OVERFLOW, "batch"); \
    BAD(fastfood_backward_##S(L, P, HALF, X, in, DY, out, OUT, in, OUTB, 0), FASTFOOD_ERROR_SIZE_OVERFLOW, "dy"); \
    BAD(fastfood_forward_train_##S(L, P, batch, X, in, OUT, out, -0.1, 0, 0, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "drop_input"); \
    BAD(fastfood_forward_train_##S(L, P, batch, X, in, OUT, out, 0, 1.0, 0, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "drop_permuted"); \
    BAD(fastfood_forward_train_##S(L, P, batch, X, in, OUT, out, 0, 1.0625, 0, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "drop_permuted (1.0625)"); \
    BAD(fastfood_forward_train_##S(L, P, batch, X, in, OUT, out, 0, 0, NAN, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "drop_output"); \
    BAD(fastfood_forward_train_##S(L, P, batch, X, in, OUT, out, 0, 0, INFINITY, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "drop_output"); \
    BAD(fastfood_forward_train_##S(NULL, P, batch, X, in, OUT, out, 0, 0, 0, 1, 1), FASTFOOD_ERROR_NULL_POINTER, "layer"); \
    BAD(fastfood_forward_train_##S(L, P, batch, X, in, NULL, out, 0, 0, 0, 1, 1), FASTFOOD_ERROR_NULL_POINTER, "y"); \
    BAD(fastfood_forward_train_##S(L, P, batch, X, in, OUT, 1, 0, 0, 0, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldy"); \
    BAD(fastfood_backward_train_##S(L, P, batch, X, in, DY, out, OUT, in, OUTB, 0, 2.0, 0, 0, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "drop_input"); \
    BAD(fastfood_backward_train_##S(L, NULL, batch, X, in, DY, out, OUT, in, OUTB, 0, 0, 0, 0, 1, 1), FASTFOOD_ERROR_NULL_POINTER, "params"); \
    BAD(fastfood_backward_train_##S(L, P, batch, X, in, NULL, out, OUT, in, OUTB, 0, 0, 0, 0, 1, 1), FASTFOOD_ERROR_NULL_POINTER, "dy"); \
    BAD(fastfood_backward_train_##S(L, P, batch, X, in, DY, out, OUT, in, OUTB, 0x20u, 0, 0, 0, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "flags"); \
    BAD(fastfood_features_forward_##S(NULL, P, batch, X, in, OUT, 2 * out), FASTFOOD_ERROR_NULL_POINTER, "layer"); \
    BAD(fastfood_features_forward_##S(L, P, batch, X, in, NULL, 2 * out), FASTFOOD_ERROR_NULL_POINTER, "phi"); \
    BAD(fastfood_features_forward_##S(L, P, batch, X, in, OUT, 2 * out - 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldphi"); \
    BAD(fastfood_features_forward_##S(L, P, HALF, X, in, OUT, 2 * out), FASTFOOD_ERROR_SIZE_OVERFLOW, "x");    \
    BAD(fastfood_features_backward_##S(L, P, batch, NULL, in, DY, 2 * out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "x"); \
    BAD(fastfood_features_backward_##S(L, P, batch, X, in, NULL, 2 * out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "dphi"); \
    BAD(fastfood_features_backward_##S(L, P, batch, X, in, DY, out, OUT, in, OUTB, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "lddphi"); \
    BAD(fastfood_features_backward_##S(L, P, batch, X, in, DY, 2 * out, OUT, in, OUTB, 0x40u), FASTFOOD_ERROR_INVALID_ARGUMENT, "flags"); \
    BAD(fastfood_features_backward_from_phi_##S(NULL, P, batch, X, in, DY, 2 * out, DY, 2 * out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "layer"); \
    BAD(fastfood_features_backward_from_phi_##S(L, NULL, batch, X, in, DY, 2 * out, DY, 2 * out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "params"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, NULL, in, DY, 2 * out, DY, 2 * out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "x (required when dparams"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in, NULL, 2 * out, DY, 2 * out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "phi"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in, DY, 2 * out, NULL, 2 * out, OUT, in, OUTB, 0), FASTFOOD_ERROR_NULL_POINTER, "dphi"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in, DY, 2 * out - 1, DY, 2 * out, OUT, in, OUTB, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldphi"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in, DY, 2 * out, DY, out, OUT, in, OUTB, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "lddphi"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in - 1, DY, 2 * out, DY, 2 * out, OUT, in, OUTB, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "ldx"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in, DY, 2 * out, DY, 2 * out, OUT, in - 1, OUTB, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "lddx"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in, DY, 2 * out, DY, 2 * out, OUT, in, OUTB, 0x40u), FASTFOOD_ERROR_INVALID_ARGUMENT, "flags"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, HALF, X, in, DY, 2 * out, DY, 2 * out, OUT, in, OUTB, 0), FASTFOOD_ERROR_SIZE_OVERFLOW, "dphi");
    COMPUTE_ROWS(f32, p32, x32, dy32, out32, outb32)
    COMPUTE_ROWS(f64, p64, x64, dy64, out64, outb64)

    /* ---- outputs sharing memory with inputs or each other (since 1.4; they gave wrong results) ----
     * The inputs that overlap are canary buffers too: nothing may be written to them either. */
#define OVERLAP_ROWS(S, P, X, DY, OUT, OUTB)                                                                     \
    BAD(fastfood_forward_##S(L, P, batch, OUT, in, OUT + 50, out), FASTFOOD_ERROR_INVALID_ARGUMENT, "y overlaps x"); \
    BAD(fastfood_forward_##S(L, P, batch, OUT, 300, OUT, 301), FASTFOOD_ERROR_INVALID_ARGUMENT, "y overlaps x");  \
    BAD(fastfood_forward_##S(L, OUT, batch, X, in, OUT + 1000, out), FASTFOOD_ERROR_INVALID_ARGUMENT, "y overlaps params"); \
    BAD(fastfood_forward_train_##S(L, P, batch, OUT, 300, OUT + 300, 300, 0.1, 0, 0, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "y overlaps x"); \
    BAD(fastfood_features_forward_##S(L, P, batch, OUT, 600, OUT + 1, 600), FASTFOOD_ERROR_INVALID_ARGUMENT, "phi overlaps x"); \
    BAD(fastfood_backward_##S(L, P, batch, X, in, OUT, out, OUT + 10, in, OUTB, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dx overlaps dy"); \
    BAD(fastfood_backward_##S(L, OUT, batch, X, in, DY, out, OUT, in, NULL, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dx overlaps params"); \
    /* One row of dx at params' own address: the same start, yet no in-place use (only inputs may be dx's rows). */ \
    BAD(fastfood_backward_##S(L, OUT, 1, X, in, DY, out, OUT, in, NULL, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dx overlaps params"); \
    BAD(fastfood_backward_##S(L, P, batch, X, in, DY, out, OUT, in, OUT + 200, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dparams overlaps dx"); \
    BAD(fastfood_backward_##S(L, P, batch, OUT, in, DY, out, NULL, in, OUT + 100, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dparams overlaps x"); \
    BAD(fastfood_backward_##S(L, P, batch, X, in, OUT, out, NULL, in, OUT + 7, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dparams overlaps dy"); \
    BAD(fastfood_backward_##S(L, OUT, 0, NULL, in, NULL, out, NULL, in, OUT + 1, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dparams overlaps params"); \
    BAD(fastfood_backward_##S(L, P, batch, OUT, in, DY, out, OUT, in + 1, OUTB, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dx overlaps x"); \
    BAD(fastfood_backward_train_##S(L, P, batch, X, in, OUT, out, OUT + 1, in, NULL, 0, 0.1, 0, 0, 1, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "dx overlaps dy"); \
    BAD(fastfood_features_backward_##S(L, P, batch, OUT, in, DY, 2 * out, OUT + 3, in, NULL, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dx overlaps x"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in, OUT, 2 * out, DY, 2 * out, OUT + 1, in, NULL, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dx overlaps phi"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in, OUT, 2 * out, DY, 2 * out, NULL, in, OUT + 5, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dparams overlaps phi"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in, DY, 2 * out, OUT, 2 * out, NULL, in, OUT + 5, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dparams overlaps dphi"); \
    /* Overlaps in the sin half of phi's or dphi's rows only (columns out .. 2 out - 1): the spans are 2 out wide. */ \
    BAD(fastfood_features_forward_##S(L, P, batch, OUT + 300, 600, OUT, 600), FASTFOOD_ERROR_INVALID_ARGUMENT, "phi overlaps x"); \
    BAD(fastfood_features_backward_##S(L, P, batch, X, in, OUT, 2 * out, OUT + 300, 2 * out, NULL, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dx overlaps dphi"); \
    BAD(fastfood_features_backward_from_phi_##S(L, P, batch, X, in, OUT, 2 * out, DY, 2 * out, OUT + 300, 2 * out, NULL, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "dx overlaps phi");
    OVERLAP_ROWS(f32, p32, x32, dy32, out32, outb32)
    OVERLAP_ROWS(f64, p64, x64, dy64, out64, outb64)

    /* ---- FWHT ---- */
    BAD(fastfood_fwht_f32(NULL, 8, 1, 8), FASTFOOD_ERROR_NULL_POINTER, "data");
    BAD(fastfood_fwht_f32(out32, 0, 1, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "n is 0");
    BAD(fastfood_fwht_f32(out32, 6, 1, 6), FASTFOOD_ERROR_INVALID_ARGUMENT, "power of two");
    BAD(fastfood_fwht_f32(out32, SIZE_MAX, 1, 0), FASTFOOD_ERROR_SIZE_OVERFLOW, "n (");
    BAD(fastfood_fwht_f32(out32, 16, 2, 15), FASTFOOD_ERROR_INVALID_ARGUMENT, "stride");
    BAD(fastfood_fwht_f32(out32, 16, SIZE_MAX, 16), FASTFOOD_ERROR_SIZE_OVERFLOW, "count");
    BAD(fastfood_fwht_f64(out64, 16, HALF, 16), FASTFOOD_ERROR_SIZE_OVERFLOW, "data");
    BAD(fastfood_fwht_f64(out64, (size_t)1 << 61, 1, 0), FASTFOOD_ERROR_SIZE_OVERFLOW, "data");
    BAD(fastfood_fwht_f64(NULL, 16, 3, 16), FASTFOOD_ERROR_NULL_POINTER, "data");

    /* ---- threads ---- */
    BAD(fastfood_set_num_threads(1025), FASTFOOD_ERROR_INVALID_ARGUMENT, "n (1025)");
    BAD(fastfood_set_num_threads(SIZE_MAX), FASTFOOD_ERROR_INVALID_ARGUMENT, "n (18446744073709551615)");

    /* ---- saving ---- */
    BAD(fastfood_save_size(NULL, FASTFOOD_TYPE_F32, &info_size), FASTFOOD_ERROR_NULL_POINTER, "layer");
    BAD(fastfood_save_size(L, 0, &info_size), FASTFOOD_ERROR_INVALID_ARGUMENT, "element_type");
    BAD(fastfood_save_size(L, 3, &info_size), FASTFOOD_ERROR_INVALID_ARGUMENT, "element_type");
    BAD(fastfood_save_size(L, FASTFOOD_TYPE_F32, NULL), FASTFOOD_ERROR_NULL_POINTER, "size");
    BAD(fastfood_save_f32(NULL, p32, bytes, CAP), FASTFOOD_ERROR_NULL_POINTER, "layer");
    BAD(fastfood_save_f32(L, NULL, bytes, CAP), FASTFOOD_ERROR_NULL_POINTER, "params");
    BAD(fastfood_save_f32(L, p32, NULL, CAP), FASTFOOD_ERROR_NULL_POINTER, "buffer");
    BAD(fastfood_save_f32(L, p32, bytes, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "buffer_size");
    BAD(fastfood_save_f64(L, p64, bytes, 100), FASTFOOD_ERROR_INVALID_ARGUMENT, "buffer_size");
    BAD(fastfood_save_f64(L, NULL, bytes, CAP), FASTFOOD_ERROR_NULL_POINTER, "params");
    BAD(fastfood_save_f32(L, (const float *)(void *)(bytes + 64), bytes, CAP), FASTFOOD_ERROR_INVALID_ARGUMENT, "buffer overlaps params");
    BAD(fastfood_save_f64(L, out64, out64 + 10, (CAP - 10) * sizeof(double)), FASTFOOD_ERROR_INVALID_ARGUMENT, "buffer overlaps params");
    BAD(fastfood_save_file_f32(NULL, p32, "/tmp/x"), FASTFOOD_ERROR_NULL_POINTER, "layer");
    BAD(fastfood_save_file_f32(L, NULL, "/tmp/x"), FASTFOOD_ERROR_NULL_POINTER, "params");
    BAD(fastfood_save_file_f32(L, p32, NULL), FASTFOOD_ERROR_NULL_POINTER, "path");
    BAD(fastfood_save_file_f64(L, p64, "/nonexistent-directory/layer"), FASTFOOD_ERROR_IO, "nonexistent-directory");
    BAD(fastfood_save_file_f64(L, p64, ""), FASTFOOD_ERROR_IO, "cannot");

    /* ---- loading ---- */
    BAD(fastfood_load_info(NULL, saved, &info_size, NULL, &info_seed, &info_flags, NULL, NULL), FASTFOOD_ERROR_NULL_POINTER, "buffer");
    BAD(fastfood_load_info(image, 0, &info_size, NULL, &info_seed, &info_flags, NULL, NULL), FASTFOOD_ERROR_BAD_FORMAT, "too short");
    BAD(fastfood_load_info(image, SIZE_MAX, &info_size, NULL, &info_seed, &info_flags, NULL, NULL), FASTFOOD_ERROR_SIZE_OVERFLOW, "size");
    BAD(fastfood_load_file_info(NULL, &info_size, NULL, &info_seed, &info_flags, NULL, NULL), FASTFOOD_ERROR_NULL_POINTER, "path");
    BAD(fastfood_load_file_info("", &info_size, NULL, &info_seed, &info_flags, NULL, NULL), FASTFOOD_ERROR_IO, "cannot open");
    BAD(fastfood_load_f32(NULL, saved, &new_layer, out32, n), FASTFOOD_ERROR_NULL_POINTER, "buffer");
    BAD(fastfood_load_f32(image, saved, NULL, out32, n), FASTFOOD_ERROR_NULL_POINTER, "out_layer");
    BAD(fastfood_load_f32(image, saved, &new_layer, NULL, n), FASTFOOD_ERROR_NULL_POINTER, "params");
    BAD(fastfood_load_f32(image, 0, &new_layer, out32, n), FASTFOOD_ERROR_BAD_FORMAT, "too short");
    BAD(fastfood_load_f32(image, saved, &new_layer, out32, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "param_count");
    BAD(fastfood_load_f32(image, saved, &new_layer, out32, SIZE_MAX), FASTFOOD_ERROR_INVALID_ARGUMENT, "param_count");
    BAD(fastfood_load_f64(image, saved, &new_layer, out64, n), FASTFOOD_ERROR_INVALID_ARGUMENT, "float32");
    BAD(fastfood_load_f64(image, SIZE_MAX, &new_layer, out64, n), FASTFOOD_ERROR_SIZE_OVERFLOW, "size");
    BAD(fastfood_load_file_f32(NULL, &new_layer, out32, n), FASTFOOD_ERROR_NULL_POINTER, "path");
    BAD(fastfood_load_file_f32("/tmp", NULL, out32, n), FASTFOOD_ERROR_NULL_POINTER, "out_layer");
    BAD(fastfood_load_file_f32("/tmp", &new_layer, NULL, n), FASTFOOD_ERROR_NULL_POINTER, "params");
    BAD(fastfood_load_file_f64("/tmp", &new_layer, out64, n), FASTFOOD_ERROR_IO, "not a regular file");
    BAD(fastfood_load_file_f64("/nonexistent-file", &new_layer, out64, n), FASTFOOD_ERROR_IO, "nonexistent-file");

    {
        /* params inside the buffer it is loaded from: refused, the buffer and out_layer untouched,
         * and the layer the call had made freed (LeakSanitizer and valgrind run this test). */
        unsigned char *copy = malloc(saved);
        memcpy(copy, image, saved);
        fastfood_layer *loaded = SENTINEL;
        fastfood_status s = fastfood_load_f32(copy, saved, &loaded, (float *)(void *)(copy + 64), n);
        CHECK(s == FASTFOOD_ERROR_INVALID_ARGUMENT && strstr(fastfood_last_error_message(), "params overlaps buffer"));
        CHECK(loaded == SENTINEL && memcmp(copy, image, saved) == 0);
        free(copy);
        rows++;
        /* ... and params that start before the buffer and end inside its first bytes: the whole
         * n floats are the span, not their first one. */
        float *arena = malloc((n + saved / sizeof(float) + 1) * sizeof *arena);
        unsigned char *inside = (unsigned char *)(arena + n - 1);
        memcpy(inside, image, saved);
        s = fastfood_load_f32(inside, saved, &loaded, arena, n);
        CHECK(s == FASTFOOD_ERROR_INVALID_ARGUMENT && strstr(fastfood_last_error_message(), "params overlaps buffer"));
        CHECK(loaded == SENTINEL && memcmp(inside, image, saved) == 0);
        free(arena);
        rows++;
    }

    /* ---- NaN and infinity propagate; nothing crashes ---- */
    {
        float xs[2 * 100], ys[2 * 300], dxs[2 * 100], dps[2000];
        for (int i = 0; i < 200; i++) xs[i] = 0.5f;
        xs[3] = NAN;
        xs[100 + 7] = INFINITY;
        CHECK(fastfood_forward_f32(L, p32, 2, xs, 100, ys, 300) == FASTFOOD_OK);
        int row0_nan = 1, row1_nonfinite = 1;
        for (int j = 0; j < 300; j++) {
            row0_nan &= isnan(ys[j]);
            row1_nonfinite &= !isfinite(ys[300 + j]);
        }
        CHECK(row0_nan);       /* NaN reaches every output of its row (every block mixes all inputs) */
        CHECK(row1_nonfinite); /* infinity too (as inf or, where +inf meets -inf, NaN) */
        for (int j = 0; j < 600; j++) ys[j] = INFINITY;
        CHECK(fastfood_backward_f32(L, p32, 2, xs, 100, ys, 300, dxs, 100, dps, 0) == FASTFOOD_OK);
        CHECK(isnan(dps[0]) || isinf(dps[0]));
    }

    printf("%d table rows\n", rows);
    free(p32); free(x32); free(dy32); free(p64); free(x64); free(dy64); free(image);
    fastfood_layer_destroy(L);
    return report();
}
