/*
 * ffi_conformance.c - ABI conformance through libffi.
 *
 * Julia's ccall, Ruby FFI, LuaJIT's FFI and most other language binders call C libraries through
 * libffi: they know a function only by its symbol and the signature written in the header. This
 * program does the same: it dlopens the shared library, looks every function of the header up
 * by name, calls it through ffi_call with the header's signature, and compares what comes back
 * (return values and output buffers) with a direct C call of the same function. It then reads
 * the header and fails if any declared function was not exercised.
 *
 * Usage: ffi_conformance path/to/libfastfood.so.1 path/to/fastfood.h
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <dlfcn.h>
#include <ffi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(size_t) == 8, "size_t is mapped to ffi_type_uint64");
#define FFI_SIZE (&ffi_type_uint64)
#define FFI_PTR (&ffi_type_pointer)

/* CHECK and report(): the harness the C tests share. */
#include "../CAPI/check.h"
/* An executor that runs every task on the calling thread and counts its calls in *context. */
static int counting_executor(void *context, void *job, fastfood_task_function run, size_t tasks, size_t workers) {
    ++*(int *)context;
    for (size_t t = 0; t < tasks; t++) run(job, t, t % workers);
    return 1;
}

static void *library;
static char called[64][64];
static int called_count;

/* Calls `name` through libffi: rtype(args...), with `values` pointing at each argument. The
 * result goes to `result`, which must hold at least sizeof(ffi_arg) for integral results. */
static void call(const char *name, ffi_type *rtype, unsigned nargs, ffi_type **types, void **values, void *result) {
    void *symbol = dlsym(library, name);
    void (*fn)(void) = NULL;
    memcpy(&fn, &symbol, sizeof fn); /* the POSIX way to turn a symbol into a function pointer */
    if (!symbol) {
        printf("FAIL %s: not found by dlsym\n", name);
        failed++;
        return;
    }
    ffi_cif cif;
    if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, nargs, rtype, types) != FFI_OK) {
        printf("FAIL %s: ffi_prep_cif\n", name);
        failed++;
        return;
    }
    ffi_call(&cif, fn, result, values);
    for (int i = 0; i < called_count; i++)
        if (strcmp(called[i], name) == 0) return; /* each name once */
    if (called_count < 64) snprintf(called[called_count++], sizeof called[0], "%s", name);
    else failed++; /* the table is full: raise its size */
}

static int status_of(ffi_arg raw) { return (int32_t)raw; }

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s libfastfood.so.1 fastfood.h\n", argv[0]);
        return 2;
    }
    library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        printf("FAIL dlopen: %s\n", dlerror());
        return 1;
    }
    ffi_arg r;            /* integral results, widened by libffi */
    const char *s = NULL; /* pointer results */

    /* ---- version, status, messages ---- */
    call("fastfood_version_number", &ffi_type_uint32, 0, NULL, NULL, &r);
    CHECK((uint32_t)r == fastfood_version_number() && (uint32_t)r == FASTFOOD_VERSION_NUMBER);
    call("fastfood_version_string", FFI_PTR, 0, NULL, NULL, &s);
    CHECK(s == fastfood_version_string() && strcmp(s, FASTFOOD_VERSION_STRING) == 0);
    {
        int32_t code = FASTFOOD_ERROR_SIZE_OVERFLOW;
        ffi_type *t[] = {&ffi_type_sint32};
        void *v[] = {&code};
        call("fastfood_status_string", FFI_PTR, 1, t, v, &s);
        CHECK(s && strcmp(s, fastfood_status_string(code)) == 0);
        code = -77; /* unknown codes too, negative ones sign-extended correctly */
        call("fastfood_status_string", FFI_PTR, 1, t, v, &s);
        CHECK(s && strcmp(s, "unknown status code") == 0);
    }

    /* ---- layers ---- */
    fastfood_layer *layer = NULL, *direct = NULL;
    {
        size_t in = 100, out = 300;
        uint64_t seed = 0x123456789abcdef0ULL; /* all 64 bits must arrive */
        uint32_t flags = FASTFOOD_LAYER_BIAS;
        fastfood_layer **out_layer = &layer;
        ffi_type *t[] = {FFI_SIZE, FFI_SIZE, &ffi_type_uint64, &ffi_type_uint32, FFI_PTR};
        void *v[] = {&in, &out, &seed, &flags, &out_layer};
        call("fastfood_layer_create", &ffi_type_sint32, 5, t, v, &r);
        CHECK(status_of(r) == FASTFOOD_OK && layer != NULL);
        CHECK(fastfood_layer_create(in, out, seed, flags, &direct) == FASTFOOD_OK);
        /* a failure: status and message */
        in = 0;
        call("fastfood_layer_create", &ffi_type_sint32, 5, t, v, &r);
        CHECK(status_of(r) == FASTFOOD_ERROR_INVALID_ARGUMENT);
    }
    call("fastfood_last_error_message", FFI_PTR, 0, NULL, NULL, &s);
    CHECK(s && strstr(s, "in_features is 0") != NULL && strcmp(s, fastfood_last_error_message()) == 0);
    {
        static const char *size_queries[] = {"fastfood_layer_in_features", "fastfood_layer_out_features",
                                             "fastfood_layer_block_size", "fastfood_layer_num_blocks",
                                             "fastfood_layer_param_count"};
        size_t expected[] = {fastfood_layer_in_features(direct), fastfood_layer_out_features(direct),
                             fastfood_layer_block_size(direct), fastfood_layer_num_blocks(direct),
                             fastfood_layer_param_count(direct)};
        ffi_type *t[] = {FFI_PTR};
        void *v[] = {&layer};
        for (int i = 0; i < 5; i++) {
            size_t got = 0;
            call(size_queries[i], FFI_SIZE, 1, t, v, &got);
            CHECK(got == expected[i]);
        }
        call("fastfood_layer_flags", &ffi_type_uint32, 1, t, v, &r);
        CHECK((uint32_t)r == fastfood_layer_flags(direct));
        uint64_t seed = 0;
        call("fastfood_layer_seed", &ffi_type_uint64, 1, t, v, &seed);
        CHECK(seed == fastfood_layer_seed(direct) && seed == 0x123456789abcdef0ULL);
    }
    size_t n = fastfood_layer_param_count(direct), kd = fastfood_layer_num_blocks(direct) * fastfood_layer_block_size(direct);
    {
        size_t *perm = calloc(kd, sizeof *perm), *perm_direct = calloc(kd, sizeof *perm_direct);
        ffi_type *t[] = {FFI_PTR, FFI_PTR};
        void *v[] = {&layer, &perm};
        call("fastfood_layer_permutation", &ffi_type_sint32, 2, t, v, &r);
        CHECK(status_of(r) == FASTFOOD_OK && fastfood_layer_permutation(direct, perm_direct) == FASTFOOD_OK);
        CHECK(memcmp(perm, perm_direct, kd * sizeof *perm) == 0);
        free(perm);
        free(perm_direct);
    }

    /* ---- float32 and float64 compute ---- */
#define COMPUTE(T, SUFFIX, FFI_T)                                                                     \
    {                                                                                                 \
        size_t batch = 3, in = 100, out = 300;                                                        \
        T *p = malloc(n * sizeof(T)), *pd = malloc(n * sizeof(T)), *x = malloc(batch * in * sizeof(T)); \
        T *y = malloc(batch * out * sizeof(T)), *yd = malloc(batch * out * sizeof(T));               \
        T *dx = malloc(batch * in * sizeof(T)), *dxd = malloc(batch * in * sizeof(T));               \
        T *dp = malloc(n * sizeof(T)), *dpd = malloc(n * sizeof(T));                                   \
        for (size_t i = 0; i < batch * in; i++) x[i] = (T)((double)(i % 13) * 0.1 - 0.6);             \
        uint64_t seed = 5;                                                                            \
        double sigma = 2.5;                                                                           \
        {                                                                                             \
            ffi_type *t[] = {FFI_PTR, &ffi_type_uint64, &ffi_type_double, FFI_PTR};                    \
            void *v[] = {&layer, &seed, &sigma, &p};                                                  \
            call("fastfood_init_params_" #SUFFIX, &ffi_type_sint32, 4, t, v, &r);                     \
            CHECK(status_of(r) == FASTFOOD_OK);                                                       \
            CHECK(fastfood_init_params_##SUFFIX(direct, seed, sigma, pd) == FASTFOOD_OK);             \
            CHECK(memcmp(p, pd, n * sizeof(T)) == 0);                                                 \
        }                                                                                             \
        {                                                                                             \
            ffi_type *t[] = {FFI_PTR, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE};        \
            void *v[] = {&layer, &p, &batch, &x, &in, &y, &out};                                      \
            call("fastfood_forward_" #SUFFIX, &ffi_type_sint32, 7, t, v, &r);                          \
            CHECK(status_of(r) == FASTFOOD_OK);                                                       \
            CHECK(fastfood_forward_##SUFFIX(direct, pd, batch, x, in, yd, out) == FASTFOOD_OK);        \
            CHECK(memcmp(y, yd, batch * out * sizeof(T)) == 0);                                       \
        }                                                                                             \
        {                                                                                             \
            uint32_t flags = 0;                                                                       \
            ffi_type *t[] = {FFI_PTR, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE,         \
                             FFI_PTR, FFI_SIZE, FFI_PTR, &ffi_type_uint32};                           \
            void *v[] = {&layer, &p, &batch, &x, &in, &y, &out, &dx, &in, &dp, &flags};               \
            call("fastfood_backward_" #SUFFIX, &ffi_type_sint32, 11, t, v, &r);                        \
            CHECK(status_of(r) == FASTFOOD_OK);                                                       \
            CHECK(fastfood_backward_##SUFFIX(direct, pd, batch, x, in, yd, out, dxd, in, dpd, 0) == FASTFOOD_OK); \
            CHECK(memcmp(dx, dxd, batch * in * sizeof(T)) == 0 && memcmp(dp, dpd, n * sizeof(T)) == 0); \
            flags = 0x8000u; /* unknown flag bit: rejected */                                         \
            call("fastfood_backward_" #SUFFIX, &ffi_type_sint32, 11, t, v, &r);                        \
            CHECK(status_of(r) == FASTFOOD_ERROR_INVALID_ARGUMENT);                                   \
        }                                                                                             \
        {                                                                                             \
            size_t len = 64, count = 2, stride = 70;                                                  \
            T *a = calloc(count * stride, sizeof(T)), *b = calloc(count * stride, sizeof(T));          \
            for (size_t i = 0; i < count * stride; i++) a[i] = b[i] = (T)(i % 7);                     \
            ffi_type *t[] = {FFI_PTR, FFI_SIZE, FFI_SIZE, FFI_SIZE};                                   \
            void *v[] = {&a, &len, &count, &stride};                                                  \
            call("fastfood_fwht_" #SUFFIX, &ffi_type_sint32, 4, t, v, &r);                             \
            CHECK(status_of(r) == FASTFOOD_OK && fastfood_fwht_##SUFFIX(b, len, count, stride) == FASTFOOD_OK); \
            CHECK(memcmp(a, b, count * stride * sizeof(T)) == 0);                                     \
            free(a);                                                                                  \
            free(b);                                                                                  \
        }                                                                                             \
        {                                                                                             \
            uint32_t preset = FASTFOOD_INIT_VARIANCE;                                                 \
            double gain = 1.25;                                                                       \
            ffi_type *t[] = {FFI_PTR, &ffi_type_uint32, &ffi_type_uint64, &ffi_type_double, FFI_PTR};  \
            void *v[] = {&layer, &preset, &seed, &gain, &p};                                          \
            call("fastfood_init_params_preset_" #SUFFIX, &ffi_type_sint32, 5, t, v, &r);             \
            CHECK(status_of(r) == FASTFOOD_OK);                                                       \
            CHECK(fastfood_init_params_preset_##SUFFIX(direct, preset, seed, gain, pd) == FASTFOOD_OK); \
            CHECK(memcmp(p, pd, n * sizeof(T)) == 0);                                                 \
        }                                                                                             \
        {                                                                                             \
            double r_in = 0.1, r_pi = 0.2, r_out = 0.3;                                               \
            uint64_t dseed = 0xfedcba9876543210ULL, step = 42;                                       \
            ffi_type *t[] = {FFI_PTR, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE,         \
                             &ffi_type_double, &ffi_type_double, &ffi_type_double, &ffi_type_uint64, &ffi_type_uint64}; \
            void *v[] = {&layer, &p, &batch, &x, &in, &y, &out, &r_in, &r_pi, &r_out, &dseed, &step};  \
            call("fastfood_forward_train_" #SUFFIX, &ffi_type_sint32, 12, t, v, &r);                   \
            CHECK(status_of(r) == FASTFOOD_OK);                                                       \
            CHECK(fastfood_forward_train_##SUFFIX(direct, pd, batch, x, in, yd, out, r_in, r_pi, r_out, dseed, step) == FASTFOOD_OK); \
            CHECK(memcmp(y, yd, batch * out * sizeof(T)) == 0);                                       \
            uint32_t flags = FASTFOOD_SKIP_GRAD_G;                                                    \
            ffi_type *tb[] = {FFI_PTR, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, \
                              FFI_SIZE, FFI_PTR, &ffi_type_uint32, &ffi_type_double, &ffi_type_double, \
                              &ffi_type_double, &ffi_type_uint64, &ffi_type_uint64};                 \
            void *vb[] = {&layer, &p, &batch, &x, &in, &y, &out, &dx, &in, &dp, &flags, &r_in, &r_pi,   \
                          &r_out, &dseed, &step};                                                     \
            memset(dp, 0, n * sizeof(T)); memset(dpd, 0, n * sizeof(T));                             \
            call("fastfood_backward_train_" #SUFFIX, &ffi_type_sint32, 16, tb, vb, &r);                \
            CHECK(status_of(r) == FASTFOOD_OK);                                                       \
            CHECK(fastfood_backward_train_##SUFFIX(direct, pd, batch, x, in, yd, out, dxd, in, dpd, flags, \
                                                   r_in, r_pi, r_out, dseed, step) == FASTFOOD_OK);  \
            CHECK(memcmp(dx, dxd, batch * in * sizeof(T)) == 0 && memcmp(dp, dpd, n * sizeof(T)) == 0); \
        }                                                                                             \
        {                                                                                             \
            size_t ldphi = 2 * out;                                                                   \
            T *phi = malloc(batch * ldphi * sizeof(T)), *phid = malloc(batch * ldphi * sizeof(T));    \
            ffi_type *t[] = {FFI_PTR, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE};        \
            void *v[] = {&layer, &p, &batch, &x, &in, &phi, &ldphi};                                  \
            call("fastfood_features_forward_" #SUFFIX, &ffi_type_sint32, 7, t, v, &r);                 \
            CHECK(status_of(r) == FASTFOOD_OK);                                                       \
            CHECK(fastfood_features_forward_##SUFFIX(direct, pd, batch, x, in, phid, ldphi) == FASTFOOD_OK); \
            CHECK(memcmp(phi, phid, batch * ldphi * sizeof(T)) == 0);                                 \
            uint32_t flags = 0;                                                                       \
            ffi_type *tb[] = {FFI_PTR, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, \
                              FFI_SIZE, FFI_PTR, &ffi_type_uint32};                                   \
            void *vb[] = {&layer, &p, &batch, &x, &in, &phi, &ldphi, &dx, &in, &dp, &flags};          \
            call("fastfood_features_backward_" #SUFFIX, &ffi_type_sint32, 11, tb, vb, &r);             \
            CHECK(status_of(r) == FASTFOOD_OK);                                                       \
            CHECK(fastfood_features_backward_##SUFFIX(direct, pd, batch, x, in, phid, ldphi, dxd, in, dpd, 0) == FASTFOOD_OK); \
            CHECK(memcmp(dx, dxd, batch * in * sizeof(T)) == 0 && memcmp(dp, dpd, n * sizeof(T)) == 0); \
            uint32_t skip = FASTFOOD_SKIP_GRAD_B;                                                     \
            ffi_type *ts[] = {FFI_PTR, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, \
                              FFI_SIZE, FFI_PTR, FFI_SIZE, FFI_PTR, &ffi_type_uint32};               \
            void *vs[] = {&layer, &p, &batch, &x, &in, &phi, &ldphi, &phid, &ldphi, &dx, &in, &dp, &skip}; \
            call("fastfood_features_backward_from_phi_" #SUFFIX, &ffi_type_sint32, 13, ts, vs, &r);    \
            CHECK(status_of(r) == FASTFOOD_OK);                                                       \
            CHECK(fastfood_features_backward_from_phi_##SUFFIX(direct, pd, batch, x, in, phi, ldphi, phid, ldphi, dxd, in, \
                                                               dpd, skip) == FASTFOOD_OK);           \
            CHECK(memcmp(dx, dxd, batch * in * sizeof(T)) == 0 && memcmp(dp, dpd, n * sizeof(T)) == 0); \
            free(phi); free(phid);                                                                    \
        }                                                                                             \
        {                                                                                             \
            size_t size = 0;                                                                          \
            CHECK(fastfood_save_size(direct, TYPE_CODE, &size) == FASTFOOD_OK);                       \
            void *buffer = malloc(size), *bufferd = malloc(size);                                     \
            ffi_type *t[] = {FFI_PTR, FFI_PTR, FFI_PTR, FFI_SIZE};                                    \
            void *v[] = {&layer, &p, &buffer, &size};                                                 \
            call("fastfood_save_" #SUFFIX, &ffi_type_sint32, 4, t, v, &r);                             \
            CHECK(status_of(r) == FASTFOOD_OK && fastfood_save_##SUFFIX(direct, pd, bufferd, size) == FASTFOOD_OK); \
            CHECK(memcmp(buffer, bufferd, size) == 0);                                                \
            fastfood_layer *loaded = NULL, **out_layer = &loaded;                                     \
            size_t count = n;                                                                         \
            ffi_type *tl[] = {FFI_PTR, FFI_SIZE, FFI_PTR, FFI_PTR, FFI_SIZE};                         \
            void *vl[] = {&buffer, &size, &out_layer, &pd, &count};                                   \
            call("fastfood_load_" #SUFFIX, &ffi_type_sint32, 5, tl, vl, &r);                           \
            CHECK(status_of(r) == FASTFOOD_OK && loaded != NULL && memcmp(p, pd, n * sizeof(T)) == 0); \
            fastfood_layer_destroy(loaded);                                                           \
            const char *path = "/tmp/fastfood_ffi_" #SUFFIX ".layer";                                 \
            ffi_type *tf[] = {FFI_PTR, FFI_PTR, FFI_PTR};                                             \
            void *vf[] = {&layer, &p, &path};                                                         \
            call("fastfood_save_file_" #SUFFIX, &ffi_type_sint32, 3, tf, vf, &r);                      \
            CHECK(status_of(r) == FASTFOOD_OK);                                                       \
            loaded = NULL;                                                                            \
            ffi_type *tlf[] = {FFI_PTR, FFI_PTR, FFI_PTR, FFI_SIZE};                                  \
            void *vlf[] = {&path, &out_layer, &pd, &count};                                           \
            call("fastfood_load_file_" #SUFFIX, &ffi_type_sint32, 4, tlf, vlf, &r);                     \
            CHECK(status_of(r) == FASTFOOD_OK && loaded != NULL && memcmp(p, pd, n * sizeof(T)) == 0); \
            fastfood_layer_destroy(loaded);                                                           \
            remove(path);                                                                             \
            free(buffer); free(bufferd);                                                              \
        }                                                                                             \
        free(p); free(pd); free(x); free(y); free(yd); free(dx); free(dxd); free(dp); free(dpd);     \
    }
#define TYPE_CODE FASTFOOD_TYPE_F32
    COMPUTE(float, f32, ffi_type_float)
#undef TYPE_CODE
#define TYPE_CODE FASTFOOD_TYPE_F64
    COMPUTE(double, f64, ffi_type_double)
#undef TYPE_CODE

    /* ---- save size and the header queries ---- */
    {
        uint32_t type = FASTFOOD_TYPE_F64;
        size_t size = 0, size_direct = 0, *size_out = &size;
        ffi_type *t[] = {FFI_PTR, &ffi_type_uint32, FFI_PTR};
        void *v[] = {&layer, &type, &size_out};
        call("fastfood_save_size", &ffi_type_sint32, 3, t, v, &r);
        CHECK(status_of(r) == FASTFOOD_OK && fastfood_save_size(direct, type, &size_direct) == FASTFOOD_OK && size == size_direct);
        double *params = calloc(n, sizeof *params);
        void *buffer = malloc(size);
        CHECK(fastfood_save_f64(direct, params, buffer, size) == FASTFOOD_OK);
        const char *path = "/tmp/fastfood_ffi_info.layer";
        CHECK(fastfood_save_file_f64(direct, params, path) == FASTFOOD_OK);
        size_t in = 0, out = 0, count = 0;
        uint64_t seed = 0;
        uint32_t flags = 0, element = 0;
        size_t *pin = &in, *pout = &out, *pcount = &count;
        uint64_t *pseed = &seed;
        uint32_t *pflags = &flags, *pelement = &element;
        ffi_type *ti[] = {FFI_PTR, FFI_SIZE, FFI_PTR, FFI_PTR, FFI_PTR, FFI_PTR, FFI_PTR, FFI_PTR};
        void *vi[] = {&buffer, &size, &pin, &pout, &pseed, &pflags, &pelement, &pcount};
        call("fastfood_load_info", &ffi_type_sint32, 8, ti, vi, &r);
        CHECK(status_of(r) == FASTFOOD_OK && in == 100 && out == 300 && seed == 0x123456789abcdef0ULL &&
              flags == FASTFOOD_LAYER_BIAS && element == FASTFOOD_TYPE_F64 && count == n);
        in = 0;
        ffi_type *tf[] = {FFI_PTR, FFI_PTR, FFI_PTR, FFI_PTR, FFI_PTR, FFI_PTR, FFI_PTR};
        void *vf[] = {&path, &pin, &pout, &pseed, &pflags, &pelement, &pcount};
        call("fastfood_load_file_info", &ffi_type_sint32, 7, tf, vf, &r);
        CHECK(status_of(r) == FASTFOOD_OK && in == 100);
        remove(path);
        free(params);
        free(buffer);
    }

    /* ---- threads and kernels ---- */
    {
        size_t before = fastfood_get_num_threads(), threads = 1, got = 0;
        ffi_type *t[] = {FFI_SIZE};
        void *v[] = {&threads};
        call("fastfood_set_num_threads", &ffi_type_sint32, 1, t, v, &r);
        CHECK(status_of(r) == FASTFOOD_OK);
        call("fastfood_get_num_threads", FFI_SIZE, 0, NULL, NULL, &got);
        CHECK(got == 1 && got == fastfood_get_num_threads());
        threads = SIZE_MAX; /* all 64 bits arrive: rejected as too many */
        call("fastfood_set_num_threads", &ffi_type_sint32, 1, t, v, &r);
        CHECK(status_of(r) == FASTFOOD_ERROR_INVALID_ARGUMENT);
        CHECK(fastfood_set_num_threads(before) == FASTFOOD_OK);
    }
    /* ---- executor (since 1.3): the function pointer and context cross as pointers ---- */
    {
        fastfood_layer *small = NULL;
        CHECK(fastfood_layer_create(16, 16, 9, 0, &small) == FASTFOOD_OK);
        size_t count = fastfood_layer_param_count(small), before = fastfood_get_num_threads();
        float *p = malloc(count * sizeof *p), x[64 * 16], y1[64 * 16], y2[64 * 16];
        for (size_t i = 0; i < 64 * 16; i++) x[i] = (float)(i % 7) - 3.0f;
        CHECK(p && fastfood_init_params_f32(small, 1, 1.0, p) == FASTFOOD_OK);
        CHECK(fastfood_set_num_threads(2) == FASTFOOD_OK);
        CHECK(fastfood_forward_f32(small, p, 64, x, 16, y1, 16) == FASTFOOD_OK);
        fastfood_executor executor = counting_executor;
        int calls = 0;
        void *context = &calls;
        ffi_type *t[] = {FFI_PTR, FFI_PTR};
        void *v[] = {&executor, &context};
        call("fastfood_set_executor", &ffi_type_sint32, 2, t, v, &r);
        CHECK(status_of(r) == FASTFOOD_OK);
        CHECK(fastfood_forward_f32(small, p, 64, x, 16, y2, 16) == FASTFOOD_OK);
        CHECK(calls == 1 && memcmp(y1, y2, sizeof y1) == 0);
        executor = NULL;
        context = NULL;
        call("fastfood_set_executor", &ffi_type_sint32, 2, t, v, &r);
        CHECK(status_of(r) == FASTFOOD_OK);
        CHECK(fastfood_forward_f32(small, p, 64, x, 16, y2, 16) == FASTFOOD_OK);
        CHECK(calls == 1); /* NULL restored the pool */
        CHECK(fastfood_set_num_threads(before) == FASTFOOD_OK);
        free(p);
        fastfood_layer_destroy(small);
    }
    call("fastfood_cpu_variant", FFI_PTR, 0, NULL, NULL, &s);
    CHECK(s && strcmp(s, fastfood_cpu_variant()) == 0);

    {
        ffi_type *t[] = {FFI_PTR};
        void *v[] = {&layer};
        call("fastfood_layer_destroy", &ffi_type_void, 1, t, v, NULL);
        layer = NULL; /* NULL is a no-op */
        call("fastfood_layer_destroy", &ffi_type_void, 1, t, v, NULL);
        passed++;
    }
    fastfood_layer_destroy(direct);

    /* ---- every declared function was exercised ---- */
    FILE *header = fopen(argv[2], "r");
    CHECK(header != NULL);
    char line[512];
    int declared = 0;
    while (header && fgets(line, sizeof line, header)) {
        if (strncmp(line, "FASTFOOD_API", 12) != 0) continue;
        char *paren = strchr(line, '(');
        if (!paren) continue;
        char *start = paren;
        while (start > line && (start[-1] == '_' || (start[-1] >= 'a' && start[-1] <= 'z') ||
                                (start[-1] >= '0' && start[-1] <= '9')))
            start--;
        *paren = '\0';
        declared++;
        int found = 0;
        for (int i = 0; i < called_count; i++) found |= strcmp(called[i], start) == 0;
        if (!found) printf("FAIL %s is declared but was not called through libffi\n", start);
        CHECK(found);
    }
    if (header) fclose(header);
    CHECK(declared > 20); /* the header was parsed, not skipped */
    printf("%d functions declared, all called through libffi\n", declared);
    return report();
}
