/*
 * fuzz_api.c - libFuzzer target: sequences of API calls with fuzzed shapes, strides, flags,
 * rates and thread counts (bounded so memory stays small).
 *
 * Checks, besides "no crash": every status is a documented one, a failure leaves a message,
 * no call writes outside its output buffers (each buffer sits between guard canaries inside one
 * allocation, checked after every call: AddressSanitizer, which the library is built with here,
 * sees only the allocation's ends), and the shape accessors and permutations of every layer
 * (bias and normalised ones among them) have their documented values.
 */
#include <fastfood.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* A failed check: say where, then crash so libFuzzer keeps the input. */
#define FAIL() do { fprintf(stderr, "fuzz check failed at %s:%d\n", __FILE__, __LINE__); abort(); } while (0)

typedef struct {
    const uint8_t *data;
    size_t size, at;
} reader;

static uint64_t take(reader *r, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)(r->at < r->size ? r->data[r->at++] : 0) << (8 * i);
    return v;
}
static double take_double(reader *r) {
    uint64_t bits = take(r, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}
/* Mostly small sizes, sometimes hostile ones. */
static size_t take_size(reader *r, size_t small) {
    uint8_t kind = (uint8_t)take(r, 1);
    if (kind < 200) return (size_t)take(r, 2) % (small + 1);
    if (kind < 230) return 0;
    return (size_t)take(r, 8); /* anything, SIZE_MAX included */
}

enum { GUARD = 64 };
static const unsigned char CANARY = 0xa5;

/* A buffer of `count` elements between guard zones. */
typedef struct {
    unsigned char *raw;
    size_t bytes;
} guarded;

static guarded make(size_t count, size_t element) {
    guarded g;
    g.bytes = count * element;
    g.raw = malloc(g.bytes + 2 * GUARD);
    if (!g.raw) FAIL();
    memset(g.raw, CANARY, GUARD);
    for (size_t i = 0; i < g.bytes; i++) g.raw[GUARD + i] = (unsigned char)(i * 31 + 7);
    memset(g.raw + GUARD + g.bytes, CANARY, GUARD);
    return g;
}
static void *body(guarded g) { return g.raw + GUARD; }
static void check_guards(guarded g) {
    for (size_t i = 0; i < GUARD; i++)
        if (g.raw[i] != CANARY || g.raw[GUARD + g.bytes + i] != CANARY) FAIL(); /* out-of-bounds write */
}
static void release(guarded g) {
    check_guards(g);
    free(g.raw);
}

static void check_status(fastfood_status s) {
    if (s < FASTFOOD_OK || s > FASTFOOD_ERROR_UNSUPPORTED_VERSION) FAIL();
    if (s != FASTFOOD_OK && fastfood_last_error_message()[0] == '\0') FAIL();
    if (fastfood_status_string(s) == NULL) FAIL();
}

/* Elements a strided matrix spans, or 0 when it would be too large to allocate here. */
static size_t extent(size_t rows, size_t width, size_t stride) {
    if (rows == 0) return 0;
    if (stride > 4096 || width > 4096 || rows > 64) return 0;
    return (rows - 1) * (stride > width ? stride : width) + width;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size, 0};
    fastfood_layer *layer = NULL;
    for (int op = 0; op < 12 && r.at < r.size; op++) {
        uint8_t code = (uint8_t)take(&r, 1) % 10;
        int f64 = (int)(take(&r, 1) & 1);
        size_t element = f64 ? sizeof(double) : sizeof(float);
        if (code == 0 || layer == NULL) { /* create */
            size_t in = take_size(&r, 300), out = take_size(&r, 600);
            uint32_t flags = (uint32_t)take(&r, 1) % 4 == 3 ? (uint32_t)take(&r, 4) : (uint32_t)take(&r, 1) & 3;
            fastfood_layer *next = NULL;
            /* Keep memory small: no huge-but-valid layers. */
            if (in <= 4096 && out <= 8192) {
                fastfood_status s = fastfood_layer_create(in, out, take(&r, 8), flags, &next);
                check_status(s);
                if (s == FASTFOOD_OK) {
                    fastfood_layer_destroy(layer);
                    layer = next;
                }
            } else if (in > ((size_t)1 << 30) || out > ((size_t)1 << 60)) {
                /* Hostile sizes (too wide, or overflowing): must fail cleanly, allocating nothing. */
                if (fastfood_layer_create(in, out, 1, 0, &next) == FASTFOOD_OK) FAIL();
                check_status(FASTFOOD_ERROR_INVALID_ARGUMENT);
            } /* valid but huge layers are left out: they would need gigabytes */
            continue;
        }
        size_t in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer);
        size_t n = fastfood_layer_param_count(layer);
        guarded params = make(n, element);
        check_status(f64 ? fastfood_init_params_f64(layer, take(&r, 8), 1.0, body(params))
                         : fastfood_init_params_f32(layer, take(&r, 8), 1.0, body(params)));
        size_t batch = take_size(&r, 9), ldx = in + take_size(&r, 4), ldy = out + take_size(&r, 4);
        if ((uint8_t)take(&r, 1) > 240) ldx = take_size(&r, 500); /* possibly too short */
        size_t ex = extent(batch, in, ldx), ey = extent(batch, out, ldy);
        switch (code) {
        case 1: { /* presets */
            uint32_t preset = (uint32_t)take(&r, 1) % 4;
            double value = (uint8_t)take(&r, 1) > 200 ? take_double(&r) : (double)take(&r, 1) / 16.0;
            check_status(f64 ? fastfood_init_params_preset_f64(layer, preset, 1, value, body(params))
                             : fastfood_init_params_preset_f32(layer, preset, 1, value, body(params)));
            break;
        }
        case 2: case 3: case 6: case 7: { /* forward / backward, plain / training / features */
            if (batch && (!ex || !ey)) break;
            size_t width_y = code == 7 ? 2 * out : out, ldo = code == 7 ? 2 * out + (ldy - out) : ldy;
            size_t eo = extent(batch, width_y, ldo);
            if (batch && !eo) break;
            guarded x = make(ex, element), y = make(eo, element), dx = make(ex, element), dp = make(n, element);
            uint32_t flags = (uint32_t)take(&r, 1);
            flags = flags > 250 ? (uint32_t)take(&r, 4) : flags & 15;
            int want_dx = (int)(take(&r, 1) & 1), want_dp = (int)(take(&r, 1) & 1);
            double rates[3];
            for (int i = 0; i < 3; i++) rates[i] = (uint8_t)take(&r, 1) > 250 ? take_double(&r) : (double)take(&r, 1) / 300.0;
            uint64_t seed = take(&r, 2), step = take(&r, 2);
            void *xp = batch ? body(x) : NULL, *yp = batch ? body(y) : NULL;
            void *dxp = want_dx ? body(dx) : NULL, *dpp = want_dp ? body(dp) : NULL;
            /* The same calls in either precision (body() returns void *). */
#define FUZZ_CALLS(T)                                                                                                  \
    do {                                                                                                               \
        if (code == 2) check_status(fastfood_forward_##T(layer, body(params), batch, xp, ldx, yp, ldy));                \
        if (code == 3) check_status(fastfood_backward_##T(layer, body(params), batch, xp, ldx, yp, ldy, dxp, ldx, dpp, flags)); \
        if (code == 6) {                                                                                               \
            check_status(fastfood_forward_train_##T(layer, body(params), batch, xp, ldx, yp, ldy, rates[0], rates[1],    \
                                                    rates[2], seed, step));                                            \
            check_status(fastfood_backward_train_##T(layer, body(params), batch, xp, ldx, yp, ldy, dxp, ldx, dpp, flags, \
                                                     rates[0], rates[1], rates[2], seed, step));                       \
        }                                                                                                              \
        if (code == 7) {                                                                                               \
            check_status(fastfood_features_forward_##T(layer, body(params), batch, xp, ldx, yp, ldo));                  \
            check_status(fastfood_features_backward_##T(layer, body(params), batch, xp, ldx, yp, ldo, dxp, ldx, dpp, flags)); \
            check_status(fastfood_features_backward_from_phi_##T(layer, body(params), batch, xp, ldx, yp, ldo, yp, ldo, dxp, ldx, \
                                                                 dpp, flags));                                          \
        }                                                                                                              \
    } while (0)
            if (f64) FUZZ_CALLS(f64); else FUZZ_CALLS(f32);
#undef FUZZ_CALLS
            release(x); release(y); release(dx); release(dp);
            break;
        }
        case 4: { /* FWHT */
            size_t len = (uint8_t)take(&r, 1) > 240 ? take_size(&r, 5000) : (size_t)1 << (take(&r, 1) % 13);
            size_t count = take_size(&r, 3), stride = len + take_size(&r, 3);
            if ((uint8_t)take(&r, 1) > 240) stride = take_size(&r, 100);
            size_t e = extent(count, len, stride);
            if (count && !e) {
                /* Too big to allocate here. Arguments the library must reject are still tried, with
                 * a dummy buffer it must never touch; valid big ones are skipped. */
                // The contract: n a power of two, stride >= n for several vectors, and the whole
                // extent, ((count - 1) * stride + n) elements, addressable (below 2^63 bytes).
                size_t span = 0, elements = 0, bytes = 0;
                int overflow = __builtin_mul_overflow(count - 1, count > 1 ? stride : len, &span) ||
                               __builtin_add_overflow(span, len, &elements) ||
                               __builtin_mul_overflow(elements, element, &bytes) || bytes > (size_t)INT64_MAX;
                int invalid = len == 0 || (len & (len - 1)) != 0 || (count > 1 && stride < len) || overflow;
                if (!invalid) break;
                double dummy[4] = {0};
                fastfood_status s = f64 ? fastfood_fwht_f64(dummy, len, count, stride) : fastfood_fwht_f32((float *)dummy, len, count, stride);
                if (s == FASTFOOD_OK) FAIL();
                check_status(s);
                break;
            }
            guarded d = make(e, element);
            check_status(f64 ? fastfood_fwht_f64(count ? body(d) : NULL, len, count, stride)
                             : fastfood_fwht_f32(count ? body(d) : NULL, len, count, stride));
            release(d);
            break;
        }
        case 9: { /* shape accessors and the permutations, against their documented values */
            size_t d = fastfood_layer_block_size(layer), k = fastfood_layer_num_blocks(layer);
            if (d == 0 || (d & (d - 1)) != 0 || d < in || d / 2 >= in) FAIL(); /* smallest power of two >= in */
            if (k != out / d + (out % d != 0)) FAIL();
            if (n != 3 * k * d + ((fastfood_layer_flags(layer) & FASTFOOD_LAYER_BIAS) ? out : 0)) FAIL();
            guarded perm = make(k * d, sizeof(size_t));
            check_status(fastfood_layer_permutation(layer, body(perm)));
            const size_t *p = body(perm);
            unsigned char *seen = malloc(d);
            if (!seen) FAIL();
            for (size_t b = 0; b < k; b++) { /* each block a permutation of 0 ..< D */
                memset(seen, 0, d);
                for (size_t i = 0; i < d; i++)
                    if (p[b * d + i] >= d || seen[p[b * d + i]]++) FAIL();
            }
            free(seen);
            release(perm);
            fastfood_status s = fastfood_layer_permutation(layer, NULL);
            if (s != FASTFOOD_ERROR_NULL_POINTER) FAIL();
            check_status(s);
            break;
        }
        case 5: /* threads */
            check_status(fastfood_set_num_threads(take_size(&r, 4)));
            if (fastfood_get_num_threads() < 1) FAIL();
            break;
        case 8: { /* save and load back */
            size_t bytes = 0;
            uint32_t type = f64 ? FASTFOOD_TYPE_F64 : FASTFOOD_TYPE_F32;
            check_status(fastfood_save_size(layer, type, &bytes));
            guarded buffer = make(bytes, 1), copy = make(n, element);
            fastfood_status s = f64 ? fastfood_save_f64(layer, body(params), body(buffer), bytes)
                                    : fastfood_save_f32(layer, body(params), body(buffer), bytes);
            if (s != FASTFOOD_OK) FAIL();
            fastfood_layer *loaded = NULL;
            s = f64 ? fastfood_load_f64(body(buffer), bytes, &loaded, body(copy), n)
                    : fastfood_load_f32(body(buffer), bytes, &loaded, body(copy), n);
            if (s != FASTFOOD_OK || memcmp(body(copy), body(params), n * element) != 0) FAIL();
            fastfood_layer_destroy(loaded);
            release(buffer);
            release(copy);
            break;
        }
        default:
            break;
        }
        release(params);
    }
    fastfood_layer_destroy(layer);
    return 0;
}
