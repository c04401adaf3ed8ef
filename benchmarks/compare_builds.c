/*
 * compare_builds.c - two builds of libfastfood timed against each other in one process.
 *
 * What a change did to speed is the ratio new / old on the same machine at the same moment:
 * on a shared, noisy machine, two separate runs of the bench differ by more than most changes.
 * This program loads both libraries with dlopen (RTLD_LOCAL: each keeps its own Swift runtime,
 * kernels and worker pool, and only the fastfood_* symbols are exported), gives both the same
 * layer, parameters and rows, and times them as interleaved pairs: a batch of the old build,
 * then one of the new, each for at least 20 ms, PAIRS times after a warm-up of each. Printed
 * per operation: the median milliseconds of each side, the median of the new / old ratios and
 * their range, and fastest new over fastest old. Both outputs are compared too, and a line says
 * whether they are bitwise equal (a kernel change that keeps the arithmetic keeps the bits).
 *
 * The two paths must name different files (copy a build aside before rebuilding: dlopen hands
 * back the already-loaded library for the same file). The same file twice is an A/A run, which
 * shows the noise.
 *
 * Usage: compare_builds OLD.so NEW.so [--batch B] [--n N] [--pairs P] [--threads T] [--f64] [--offset B]
 *                       [--read-output] [OPERATION...]
 *   OPERATION: forward, backward, both, dropout (fwd+bwd at rates 0.1 / 0.1 / 0.2), dropout-forward and
 *   dropout-backward (each half alone), dx-only, features-forward, features-backward, features-from-phi
 *   (fastfood_features_backward_from_phi, 1.2 and later; skipped by default when a build lacks it) (default:
 *   all of them). The layer is N -> N (default 4096, batch 128), with bias, normalised, the variance preset
 *   at gain 2, one thread unless --threads; float (the _f32 entry points) unless --f64. Rows (x, y, dx,
 *   dy, phi, dphi; packed, strides N or 2N) start at a 64-byte boundary, or B bytes past one with
 *   --offset B (B < 64: 16 is what malloc returns for a large batch); parameters stay aligned. With
 *   --read-output, each call is followed in its timing by one read of its whole output (y or phi for a
 *   forward, dx for a backward; an XOR of its 64-bit words), as the next layer would read it: for
 *   outputs written with non-temporal stores (1.5.0), which leave them in memory instead of the cache,
 *   that read is part of the cost. No Python, no other dependency than the C library and libdl.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The entry points of one element type T (float or double), as loaded from one build. */
#define ENTRY_POINTS(T)                                                                                             \
    struct {                                                                                                        \
        fastfood_status (*init_preset)(const fastfood_layer *, uint32_t, uint64_t, double, T *);                   \
        fastfood_status (*forward)(const fastfood_layer *, const T *, size_t, const T *, size_t, T *, size_t);     \
        fastfood_status (*backward)(const fastfood_layer *, const T *, size_t, const T *, size_t, const T *,       \
                                    size_t, T *, size_t, T *, uint32_t);                                            \
        fastfood_status (*forward_train)(const fastfood_layer *, const T *, size_t, const T *, size_t, T *,        \
                                         size_t, double, double, double, uint64_t, uint64_t);                       \
        fastfood_status (*backward_train)(const fastfood_layer *, const T *, size_t, const T *, size_t,            \
                                          const T *, size_t, T *, size_t, T *, uint32_t, double, double, double,    \
                                          uint64_t, uint64_t);                                                      \
        fastfood_status (*features_forward)(const fastfood_layer *, const T *, size_t, const T *, size_t, T *,     \
                                            size_t);                                                                \
        fastfood_status (*features_backward)(const fastfood_layer *, const T *, size_t, const T *, size_t,         \
                                             const T *, size_t, T *, size_t, T *, uint32_t);                        \
        /* NULL in a build older than 1.2. */                                                                      \
        fastfood_status (*features_backward_from_phi)(const fastfood_layer *, const T *, size_t, const T *, size_t, \
                                                      const T *, size_t, const T *, size_t, T *, size_t, T *,      \
                                                      uint32_t);                                                    \
    }
typedef ENTRY_POINTS(float) entry_f32;
typedef ENTRY_POINTS(double) entry_f64;

/* One build: what it exports, its layer, and its outputs (elements of the type chosen). */
typedef struct {
    const char *path;
    fastfood_status (*layer_create)(size_t, size_t, uint64_t, uint32_t, fastfood_layer **);
    void (*layer_destroy)(fastfood_layer *);
    size_t (*param_count)(const fastfood_layer *);
    fastfood_status (*set_num_threads)(size_t);
    const char *(*last_error)(void);
    entry_f32 f32;
    entry_f64 f64;
    fastfood_layer *layer;
    void *y, *dx, *dparams;
} build;

static void *symbol(void *handle, const char *path, const char *name) {
    void *p = dlsym(handle, name);
    if (!p) {
        fprintf(stderr, "compare_builds: %s has no %s\n", path, name);
        exit(2);
    }
    return p;
}

static void *xmalloc(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "compare_builds: out of memory\n");
        exit(2);
    }
    memset(p, 0, bytes);
    return p;
}

static size_t row_offset; /* --offset: bytes past a 64-byte boundary for the rows' buffers */

/* A rows' buffer: `bytes` at row_offset past a 64-byte boundary (never freed, as the others). */
static void *rows_malloc(size_t bytes) { return (char *)xmalloc(bytes + 64) + row_offset; }

#define LOAD_ENTRY_POINTS(b, h, SUFFIX)                                                                              \
    do {                                                                                                            \
        *(void **)&(b)->SUFFIX.init_preset = symbol(h, (b)->path, "fastfood_init_params_preset_" #SUFFIX);         \
        *(void **)&(b)->SUFFIX.forward = symbol(h, (b)->path, "fastfood_forward_" #SUFFIX);                        \
        *(void **)&(b)->SUFFIX.backward = symbol(h, (b)->path, "fastfood_backward_" #SUFFIX);                      \
        *(void **)&(b)->SUFFIX.forward_train = symbol(h, (b)->path, "fastfood_forward_train_" #SUFFIX);            \
        *(void **)&(b)->SUFFIX.backward_train = symbol(h, (b)->path, "fastfood_backward_train_" #SUFFIX);          \
        *(void **)&(b)->SUFFIX.features_forward = symbol(h, (b)->path, "fastfood_features_forward_" #SUFFIX);      \
        *(void **)&(b)->SUFFIX.features_backward = symbol(h, (b)->path, "fastfood_features_backward_" #SUFFIX);    \
        *(void **)&(b)->SUFFIX.features_backward_from_phi = dlsym(h, "fastfood_features_backward_from_phi_" #SUFFIX); \
    } while (0)

static void load(build *b, const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "compare_builds: %s\n", dlerror());
        exit(2);
    }
    b->path = path;
    *(void **)&b->layer_create = symbol(h, path, "fastfood_layer_create");
    *(void **)&b->layer_destroy = symbol(h, path, "fastfood_layer_destroy");
    *(void **)&b->param_count = symbol(h, path, "fastfood_layer_param_count");
    *(void **)&b->set_num_threads = symbol(h, path, "fastfood_set_num_threads");
    *(void **)&b->last_error = symbol(h, path, "fastfood_last_error_message");
    LOAD_ENTRY_POINTS(b, h, f32);
    LOAD_ENTRY_POINTS(b, h, f64);
}

typedef enum {
    FORWARD, BACKWARD, BOTH, DROPOUT, DROPOUT_FORWARD, DROPOUT_BACKWARD, DX_ONLY, FEATURES_FORWARD, FEATURES_BACKWARD,
    FEATURES_FROM_PHI,
    OPERATIONS
} operation;
static const char *const names[OPERATIONS] = {"forward", "backward", "both", "dropout", "dropout-forward",
                                              "dropout-backward", "dx-only", "features-forward",
                                              "features-backward", "features-from-phi"};

/* The shared inputs, of the element type chosen (double with --f64). */
static size_t batch = 128, width = 4096;
static int use_f64, read_output;
static volatile uint64_t read_sink;
static void *params, *x, *dy, *dphi, *phi;

static size_t element_size(void) { return use_f64 ? sizeof(double) : sizeof(float); }

/* p[i] = v in the element type chosen. */
static void store(void *p, size_t i, double v) {
    if (use_f64) ((double *)p)[i] = v;
    else ((float *)p)[i] = (float)v;
}

static void check(const build *b, fastfood_status s, const char *what) {
    if (s != FASTFOOD_OK) {
        fprintf(stderr, "compare_builds: %s: %s failed: %s\n", b->path, what, b->last_error());
        exit(1);
    }
}

/* With --read-output: every byte of a call's output read once, 64 bytes per step into eight
 * independent 64-bit XORs, so that the loads, not a chain of dependent operations, bound the loop
 * (a last part shorter than 64 bytes, when the output is not a whole number of them, is not read). */
static void read_back(const void *output, size_t elements) {
    if (!read_output) return;
    const uint64_t *w = output;
    uint64_t a[8] = {0};
    for (size_t i = 0; i + 8 <= elements * element_size() / 8; i += 8)
        for (int k = 0; k < 8; k++) a[k] ^= w[i + k];
    read_sink = a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
}

/* run_f32 / run_f64: one call (two for fwd+bwd) of `op` on build b, for element type T. */
#define RUN(T, SUFFIX)                                                                                              \
    static void run_##SUFFIX(build *b, operation op) {                                                             \
        const size_t n = width;                                                                                     \
        const T *p = params, *in = x, *grad = dy, *dfeatures = dphi, *saved = phi;                                  \
        T *y = b->y, *dx = b->dx, *dparams = b->dparams;                                                            \
        switch (op) {                                                                                               \
        case FORWARD:                                                                                               \
            check(b, b->SUFFIX.forward(b->layer, p, batch, in, n, y, n), "forward");                                \
            read_back(y, batch * n);                                                                                \
            break;                                                                                                  \
        case BACKWARD:                                                                                              \
            check(b, b->SUFFIX.backward(b->layer, p, batch, in, n, grad, n, dx, n, dparams, 0), "backward");        \
            read_back(dx, batch * n);                                                                               \
            break;                                                                                                  \
        case BOTH:                                                                                                  \
            check(b, b->SUFFIX.forward(b->layer, p, batch, in, n, y, n), "forward");                                \
            read_back(y, batch * n);                                                                                \
            check(b, b->SUFFIX.backward(b->layer, p, batch, in, n, grad, n, dx, n, dparams, 0), "backward");        \
            read_back(dx, batch * n);                                                                               \
            break;                                                                                                  \
        case DROPOUT:                                                                                               \
        case DROPOUT_FORWARD:                                                                                       \
        case DROPOUT_BACKWARD:                                                                                      \
            if (op != DROPOUT_BACKWARD) {                                                                           \
                check(b, b->SUFFIX.forward_train(b->layer, p, batch, in, n, y, n, 0.1, 0.1, 0.2, 7, 1),             \
                      "forward_train");                                                                             \
                read_back(y, batch * n);                                                                            \
            }                                                                                                       \
            if (op != DROPOUT_FORWARD) {                                                                            \
                check(b, b->SUFFIX.backward_train(b->layer, p, batch, in, n, grad, n, dx, n, dparams, 0, 0.1, 0.1,  \
                                                  0.2, 7, 1),                                                       \
                      "backward_train");                                                                            \
                read_back(dx, batch * n);                                                                           \
            }                                                                                                       \
            break;                                                                                                  \
        case DX_ONLY:                                                                                               \
            check(b, b->SUFFIX.backward(b->layer, p, batch, NULL, n, grad, n, dx, n, NULL, 0), "backward");         \
            read_back(dx, batch * n);                                                                               \
            break;                                                                                                  \
        case FEATURES_FORWARD:                                                                                      \
            check(b, b->SUFFIX.features_forward(b->layer, p, batch, in, n, y, 2 * n), "features_forward");          \
            read_back(y, batch * 2 * n);                                                                            \
            break;                                                                                                  \
        case FEATURES_BACKWARD:                                                                                     \
            check(b, b->SUFFIX.features_backward(b->layer, p, batch, in, n, dfeatures, 2 * n, dx, n, dparams, 0),   \
                  "features_backward");                                                                             \
            read_back(dx, batch * n);                                                                               \
            break;                                                                                                  \
        case FEATURES_FROM_PHI:                                                                                     \
            check(b, b->SUFFIX.features_backward_from_phi(b->layer, p, batch, in, n, saved, 2 * n, dfeatures, 2 * n, \
                                                          dx, n, dparams, 0),                                       \
                  "features_backward_from_phi");                                                                    \
            read_back(dx, batch * n);                                                                               \
            break;                                                                                                  \
        case OPERATIONS: break;                                                                                     \
        }                                                                                                           \
    }
RUN(float, f32)
RUN(double, f64)

static void run(build *b, operation op) {
    if (use_f64) run_f64(b, op);
    else run_f32(b, op);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double timed_batch(build *b, operation op) {
    long reps = 0;
    double start = now(), elapsed;
    do {
        run(b, op);
        reps++;
        elapsed = now() - start;
    } while (elapsed < 0.02);
    return elapsed / (double)reps;
}

static int compare(const void *a, const void *b) {
    double p = *(const double *)a, q = *(const double *)b;
    return p < q ? -1 : p > q;
}

/* Whether the two builds' outputs of `op` (run once each, from zeroed outputs) are bitwise equal. */
static int same_outputs(build *old, build *new, operation op, size_t count) {
    build *both[2] = {old, new};
    for (int i = 0; i < 2; i++) {
        memset(both[i]->y, 0, batch * 2 * width * element_size());
        memset(both[i]->dx, 0, batch * width * element_size());
        memset(both[i]->dparams, 0, count * element_size());
        run(both[i], op);
    }
    return memcmp(old->y, new->y, batch * 2 * width * element_size()) == 0 &&
           memcmp(old->dx, new->dx, batch * width * element_size()) == 0 &&
           memcmp(old->dparams, new->dparams, count * element_size()) == 0;
}

static size_t parse_size(const char *s, const char *what) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || v > (1ull << 24)) {
        fprintf(stderr, "compare_builds: %s must be a positive integer up to 2^24, not \"%s\"\n", what, s);
        exit(2);
    }
    return (size_t)v;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr,
                "usage: %s OLD.so NEW.so [--batch B] [--n N] [--pairs P] [--threads T] [--f64] [--offset B] [--read-output]\n"
                "       [OPERATION...]\n"
                "  OPERATION: forward backward both dropout dropout-forward dropout-backward dx-only features-forward\n"
                "             features-backward features-from-phi\n",
                argv[0]);
        return 2;
    }
    size_t pairs = 15, threads = 1;
    int chosen[OPERATIONS] = {0}, any = 0;
    for (int i = 3; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--batch") == 0) batch = parse_size(argv[++i], "--batch");
        else if (i + 1 < argc && strcmp(argv[i], "--n") == 0) width = parse_size(argv[++i], "--n");
        else if (i + 1 < argc && strcmp(argv[i], "--pairs") == 0) pairs = parse_size(argv[++i], "--pairs");
        else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0) threads = parse_size(argv[++i], "--threads");
        else if (strcmp(argv[i], "--f64") == 0) use_f64 = 1;
        else if (strcmp(argv[i], "--read-output") == 0) read_output = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--offset") == 0) {
            const char *value = argv[++i];
            if (strcmp(value, "0") == 0) row_offset = 0;
            else if ((row_offset = parse_size(value, "--offset")) >= 64) {
                fprintf(stderr, "compare_builds: --offset must be below 64, not %s\n", value);
                return 2;
            }
        }
        else {
            int found = 0;
            for (int op = 0; op < OPERATIONS; op++)
                if (strcmp(argv[i], names[op]) == 0) chosen[op] = found = any = 1;
            if (!found) {
                fprintf(stderr, "compare_builds: unknown argument \"%s\"\n", argv[i]);
                return 2;
            }
        }
    }
    if (pairs > 999) {
        fprintf(stderr, "compare_builds: --pairs must be at most 999\n");
        return 2;
    }
    build old = {0}, new = {0};
    load(&old, argv[1]);
    load(&new, argv[2]);
    build *both[2] = {&old, &new};
    size_t count = 0;
    for (int i = 0; i < 2; i++) {
        check(both[i], both[i]->layer_create(width, width, 1, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED,
                                             &both[i]->layer), "layer_create");
        check(both[i], both[i]->set_num_threads(threads), "set_num_threads");
        count = both[i]->param_count(both[i]->layer);
        both[i]->y = rows_malloc(batch * 2 * width * element_size());
        both[i]->dx = rows_malloc(batch * width * element_size());
        both[i]->dparams = xmalloc(count * element_size());
    }
    if (old.param_count(old.layer) != count) {
        fprintf(stderr, "compare_builds: the builds disagree on the parameter count\n");
        return 1;
    }
    params = xmalloc(count * element_size());
    x = rows_malloc(batch * width * element_size());
    dy = rows_malloc(batch * width * element_size());
    dphi = rows_malloc(batch * 2 * width * element_size());
    phi = rows_malloc(batch * 2 * width * element_size());
    if (use_f64)
        check(&old, old.f64.init_preset(old.layer, FASTFOOD_INIT_VARIANCE, 2, 1.0, params), "init_params_preset");
    else check(&old, old.f32.init_preset(old.layer, FASTFOOD_INIT_VARIANCE, 2, 1.0, params), "init_params_preset");
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < batch * 2 * width; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        double v = (double)(state >> 40) * 0x1p-23 - 1.0; /* [-1, 1), exact in float too */
        if (i < batch * width) {
            store(x, i, v);
            store(dy, i, -v);
        }
        store(dphi, i, v);
        store(phi, i, -0.03125 * v); /* a phi-sized value: 1 / sqrt(n) at n = 1024 */
    }
    printf("compare_builds: old %s, new %s; %zu x %zu -> %zu, %s, %zu thread(s), %zu pairs\n", old.path, new.path,
           batch, width, width, use_f64 ? "f64" : "f32", threads, pairs);
    double *told = xmalloc(pairs * sizeof(double)), *tnew = xmalloc(pairs * sizeof(double));
    double *ratio = xmalloc(pairs * sizeof(double));
    const int has_from_phi = use_f64 ? old.f64.features_backward_from_phi && new.f64.features_backward_from_phi
                                     : old.f32.features_backward_from_phi && new.f32.features_backward_from_phi;
    for (int op = 0; op < OPERATIONS; op++) {
        if (any && !chosen[op]) continue;
        const operation o = (operation)op;
        if (o == FEATURES_FROM_PHI && !has_from_phi) {
            if (any) {
                fprintf(stderr, "compare_builds: features-from-phi needs two builds of 1.2 or later\n");
                return 2;
            }
            printf("%-18s skipped: a build older than 1.2 lacks fastfood_features_backward_from_phi\n", names[op]);
            continue;
        }
        int same = same_outputs(&old, &new, o, count);
        run(&old, o); /* warm-up */
        run(&new, o);
        for (size_t i = 0; i < pairs; i++) {
            told[i] = timed_batch(&old, o);
            tnew[i] = timed_batch(&new, o);
            ratio[i] = tnew[i] / told[i];
        }
        qsort(told, pairs, sizeof *told, compare);
        qsort(tnew, pairs, sizeof *tnew, compare);
        qsort(ratio, pairs, sizeof *ratio, compare);
        printf("%-18s old %8.3f ms  new %8.3f ms  new/old %.3f (%.3f - %.3f)  fastest %.3f  outputs %s\n", names[op],
               told[pairs / 2] * 1e3, tnew[pairs / 2] * 1e3, ratio[pairs / 2], ratio[0], ratio[pairs - 1],
               tnew[0] / told[0], same ? "bitwise equal" : "DIFFER");
        fflush(stdout);
    }
    old.layer_destroy(old.layer);
    new.layer_destroy(new.layer);
    return 0;
}
