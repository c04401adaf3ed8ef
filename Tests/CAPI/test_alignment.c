/*
 * test_alignment.c - every call gives the same bits whatever the addresses of its buffers, as
 * the header's "ALIGNMENT" promises: each computing call of both element types, the FWHT, and
 * saving and loading, with every buffer at a 64-byte boundary (the reference) and then at
 * offsets of 4, 8, 16, 32 and 48 bytes (the element type's own alignment, malloc's 16, the
 * vector widths) and at 1, 2, 3, 5 and 7 bytes (element pointers not aligned to their type:
 * C does not allow them, but binders hand them out, e.g. a numpy array at an odd offset).
 * make test-c-variants runs it under every kernel variant this CPU has. The 1024- and 64-wide
 * shapes' rows are 64-byte multiples apart, so at the offsets their transposes of x, y and dx
 * start at the first aligned column (since 1.4.7), and must still give the reference's bits.
 *
 * The test itself never reads or writes an element through a misaligned pointer (it fills and
 * compares the buffers with memcpy and memcmp), so only the library's accesses are under test.
 */
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#include <fastfood.h>

#define CHECK_RNG_SEED 0x2545f4914f6cdd1dULL
#include "check.h"

enum { OFFSETS = 11, BUFFERS = 8, SLACK = 64 };
static const size_t offsets[OFFSETS] = {0, 4, 8, 16, 32, 48, 1, 2, 3, 5, 7};

/* A 64-byte aligned block with room for `bytes` at any offset below SLACK. */
static unsigned char *block(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes + SLACK) != 0) { printf("out of memory in test\n"); exit(2); }
    memset(p, 0, bytes + SLACK);
    return p;
}

/* Runs every computing call of one element type on buffers at the given offsets and writes
 * what they produce, in order, to `out` (bytes_out receives its length). The inputs (params, x,
 * dy, dphi) are the same bytes at every offset. */
#define RUN_CALLS(T, SUFFIX)                                                                               \
    static size_t run_##SUFFIX(const fastfood_layer *layer, size_t batch, const T *params_in,              \
                               const T *x_in, const T *dy_in, const T *dphi_in, const size_t *offset,       \
                               unsigned char *const *base, unsigned char *out) {                           \
        const size_t in = fastfood_layer_in_features(layer), width = fastfood_layer_out_features(layer);   \
        const size_t count = fastfood_layer_param_count(layer), e = sizeof(T);                            \
        T *params = (T *)(void *)(base[0] + offset[0]), *dparams = (T *)(void *)(base[1] + offset[1]);    \
        T *x = (T *)(void *)(base[2] + offset[2]), *dx = (T *)(void *)(base[3] + offset[3]);               \
        T *y = (T *)(void *)(base[4] + offset[4]), *dy = (T *)(void *)(base[5] + offset[5]);               \
        T *phi = (T *)(void *)(base[6] + offset[6]), *dphi = (T *)(void *)(base[7] + offset[7]);           \
        memcpy(params, params_in, count * e);                                                              \
        memcpy(x, x_in, batch * in * e);                                                                   \
        memcpy(dy, dy_in, batch * width * e);                                                              \
        memcpy(dphi, dphi_in, batch * 2 * width * e);                                                      \
        size_t used = 0;                                                                                    \
        int ok = 1;                                                                                         \
        ok &= fastfood_forward_##SUFFIX(layer, params, batch, x, in, y, width) == FASTFOOD_OK;              \
        memcpy(out + used, y, batch * width * e), used += batch * width * e;                               \
        ok &= fastfood_backward_##SUFFIX(layer, params, batch, x, in, dy, width, dx, in, dparams, 0) ==     \
              FASTFOOD_OK;                                                                                  \
        memcpy(out + used, dx, batch * in * e), used += batch * in * e;                                    \
        memcpy(out + used, dparams, count * e), used += count * e;                                         \
        ok &= fastfood_backward_##SUFFIX(layer, params, batch, NULL, in, dy, width, dx, in, NULL, 0) ==     \
              FASTFOOD_OK;                                                                                  \
        memcpy(out + used, dx, batch * in * e), used += batch * in * e;                                    \
        /* Added into dx: the transposes' read-modify-write of each row (since 1.4.8). */                   \
        ok &= fastfood_backward_##SUFFIX(layer, params, batch, NULL, in, dy, width, dx, in, NULL,           \
                                         FASTFOOD_ACCUMULATE) == FASTFOOD_OK;                               \
        memcpy(out + used, dx, batch * in * e), used += batch * in * e;                                    \
        ok &= fastfood_forward_train_##SUFFIX(layer, params, batch, x, in, y, width, 0.1, 0.2, 0.3, 5, 6) == \
              FASTFOOD_OK;                                                                                  \
        memcpy(out + used, y, batch * width * e), used += batch * width * e;                               \
        ok &= fastfood_backward_train_##SUFFIX(layer, params, batch, x, in, dy, width, dx, in, dparams, 0,  \
                                               0.1, 0.2, 0.3, 5, 6) == FASTFOOD_OK;                         \
        memcpy(out + used, dx, batch * in * e), used += batch * in * e;                                    \
        memcpy(out + used, dparams, count * e), used += count * e;                                         \
        ok &= fastfood_features_forward_##SUFFIX(layer, params, batch, x, in, phi, 2 * width) == FASTFOOD_OK; \
        memcpy(out + used, phi, batch * 2 * width * e), used += batch * 2 * width * e;                     \
        ok &= fastfood_features_backward_##SUFFIX(layer, params, batch, x, in, dphi, 2 * width, dx, in,     \
                                                  dparams, 0) == FASTFOOD_OK;                               \
        memcpy(out + used, dx, batch * in * e), used += batch * in * e;                                    \
        memcpy(out + used, dparams, count * e), used += count * e;                                         \
        ok &= fastfood_features_backward_from_phi_##SUFFIX(layer, params, batch, x, in, phi, 2 * width,     \
                                                           dphi, 2 * width, dx, in, dparams, 0) == FASTFOOD_OK; \
        memcpy(out + used, dx, batch * in * e), used += batch * in * e;                                    \
        memcpy(out + used, dparams, count * e), used += count * e;                                         \
        /* The FWHT of x's first rows, as one packed run of vectors of the block size. */                  \
        const size_t n = fastfood_layer_block_size(layer), vectors = batch * in / n;                      \
        if (vectors > 0) {                                                                                  \
            ok &= fastfood_fwht_##SUFFIX(x, n, vectors, n) == FASTFOOD_OK;                                  \
            memcpy(out + used, x, vectors * n * e), used += vectors * n * e;                               \
        }                                                                                                   \
        if (!ok) printf("  a call failed: %s\n", fastfood_last_error_message());                           \
        CHECK(ok);                                                                                          \
        return used;                                                                                        \
    }
RUN_CALLS(float, f32)
RUN_CALLS(double, f64)

/* One layer and element type: the reference at offset 0, then every offset, each buffer at its
 * own offset (the k-th buffer at offsets[(o + k) % OFFSETS]) and, last, all at the same one. */
#define CHECK_LAYER(T, SUFFIX)                                                                             \
    static void check_layer_##SUFFIX(size_t in, size_t out_features, size_t batch) {                        \
        fastfood_layer *layer = NULL;                                                                       \
        if (fastfood_layer_create(in, out_features, 21, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED,   \
                                  &layer) != FASTFOOD_OK) exit(2);                                          \
        const size_t count = fastfood_layer_param_count(layer), e = sizeof(T);                            \
        T *params = xmalloc(count * e), *x = xmalloc(batch * in * e), *dy = xmalloc(batch * out_features * e); \
        T *dphi = xmalloc(batch * 2 * out_features * e);                                                    \
        fastfood_init_params_##SUFFIX(layer, 3, 1.0, params);                                               \
        for (size_t i = 0; i < count; i++) params[i] += (T)(0.01 * uniform());                           \
        for (size_t i = 0; i < batch * in; i++) x[i] = (T)uniform();                                     \
        for (size_t i = 0; i < batch * out_features; i++) dy[i] = (T)uniform();                          \
        for (size_t i = 0; i < batch * 2 * out_features; i++) dphi[i] = (T)uniform();                   \
        const size_t largest = (count > batch * 2 * out_features ? count : batch * 2 * out_features) +     \
                               batch * in;                                                                 \
        unsigned char *base[BUFFERS];                                                                       \
        for (int k = 0; k < BUFFERS; k++) base[k] = block(largest * e);                                     \
        const size_t result_bytes = 20 * largest * e;                                                       \
        unsigned char *expected = block(result_bytes), *got = block(result_bytes);                         \
        const size_t aligned[BUFFERS] = {0};                                                                \
        const size_t expected_bytes = run_##SUFFIX(layer, batch, params, x, dy, dphi, aligned, base, expected); \
        int all_equal = 1;                                                                                  \
        for (int o = 1; o <= OFFSETS; o++) {                                                                \
            size_t at[BUFFERS];                                                                             \
            for (int k = 0; k < BUFFERS; k++) at[k] = o == OFFSETS ? offsets[7] : offsets[(o + k) % OFFSETS]; \
            const size_t bytes = run_##SUFFIX(layer, batch, params, x, dy, dphi, at, base, got);            \
            const int equal = bytes == expected_bytes && memcmp(got, expected, bytes) == 0;                 \
            if (!equal) printf("  %s %zu -> %zu, batch %zu: offsets %zu %zu %zu %zu %zu %zu %zu %zu differ\n", \
                               #T, in, out_features, batch, at[0], at[1], at[2], at[3], at[4], at[5], at[6], at[7]); \
            all_equal &= equal;                                                                             \
        }                                                                                                   \
        CHECK(all_equal);                                                                                   \
        for (int k = 0; k < BUFFERS; k++) free(base[k]);                                                    \
        free(expected); free(got); free(params); free(x); free(dy); free(dphi);                             \
        fastfood_layer_destroy(layer);                                                                      \
    }
CHECK_LAYER(float, f32)
CHECK_LAYER(double, f64)

/* Saved data at any address: saving to and loading from a buffer at each offset gives the same
 * bytes and the same parameters as at a 64-byte boundary. */
static void check_save_load(void) {
    fastfood_layer *layer = NULL;
    if (fastfood_layer_create(100, 300, 8, FASTFOOD_LAYER_BIAS, &layer) != FASTFOOD_OK) exit(2);
    const size_t count = fastfood_layer_param_count(layer);
    float *params = xmalloc(count * sizeof(float));
    fastfood_init_params_f32(layer, 2, 1.0, params);
    size_t size = 0;
    CHECK(fastfood_save_size(layer, FASTFOOD_TYPE_F32, &size) == FASTFOOD_OK);
    unsigned char *reference = block(size), *buffer = block(size), *loaded = block(count * sizeof(float));
    CHECK(fastfood_save_f32(layer, params, reference, size) == FASTFOOD_OK);
    int all_equal = 1;
    for (int o = 1; o < OFFSETS; o++) {
        const size_t at = offsets[o], params_at = offsets[(o + 3) % OFFSETS];
        unsigned char *params_copy = block(count * sizeof(float));
        memcpy(params_copy + params_at, params, count * sizeof(float));
        memset(buffer, 0, size + SLACK);
        int equal = fastfood_save_f32(layer, (const float *)(void *)(params_copy + params_at), buffer + at, size) ==
                        FASTFOOD_OK &&
                    memcmp(buffer + at, reference, size) == 0;
        fastfood_layer *back = NULL;
        memset(loaded, 0, count * sizeof(float) + SLACK);
        equal &= fastfood_load_f32(buffer + at, size, &back, (float *)(void *)(loaded + params_at), count) ==
                     FASTFOOD_OK &&
                 memcmp(loaded + params_at, params, count * sizeof(float)) == 0 && fastfood_layer_seed(back) == 8;
        size_t info_count = 0;
        equal &= fastfood_load_info(buffer + at, size, NULL, NULL, NULL, NULL, NULL, &info_count) == FASTFOOD_OK &&
                 info_count == count;
        if (!equal) printf("  save/load at offset %zu (params at %zu) differs\n", at, params_at);
        all_equal &= equal;
        fastfood_layer_destroy(back);
        free(params_copy);
    }
    CHECK(all_equal);
    free(reference); free(buffer); free(loaded); free(params);
    fastfood_layer_destroy(layer);
}

int main(void) {
    printf("kernels: %s\n", fastfood_cpu_variant());
    /* Tiles and rows, one and several blocks, padding and truncation. */
    static const size_t shapes[][3] = {{100, 300, 20}, {1024, 1024, 17}, {3, 5, 9}, {257, 1030, 3}, {64, 64, 16}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        check_layer_f32(shapes[s][0], shapes[s][1], shapes[s][2]);
        check_layer_f64(shapes[s][0], shapes[s][1], shapes[s][2]);
    }
    check_save_load();
    return report();
}
