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
 * Usage: compare_builds OLD.so NEW.so [--batch B] [--n N] [--pairs P] [--threads T] [OPERATION...]
 *   OPERATION: forward, backward, both, dropout (fwd+bwd at rates 0.1 / 0.1 / 0.2), dx-only,
 *   features-forward, features-backward (default: all of them). The layer is N -> N (default
 *   4096, batch 128), with bias, normalised, the variance preset at gain 2, one thread unless
 *   --threads. No Python, no other dependency than the C library and libdl.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The entry points used, as loaded from one build. */
typedef struct {
    const char *path;
    fastfood_status (*layer_create)(size_t, size_t, uint64_t, uint32_t, fastfood_layer **);
    void (*layer_destroy)(fastfood_layer *);
    size_t (*param_count)(const fastfood_layer *);
    fastfood_status (*init_preset)(const fastfood_layer *, uint32_t, uint64_t, double, float *);
    fastfood_status (*forward)(const fastfood_layer *, const float *, size_t, const float *, size_t, float *, size_t);
    fastfood_status (*backward)(const fastfood_layer *, const float *, size_t, const float *, size_t, const float *,
                                size_t, float *, size_t, float *, uint32_t);
    fastfood_status (*forward_train)(const fastfood_layer *, const float *, size_t, const float *, size_t, float *,
                                     size_t, double, double, double, uint64_t, uint64_t);
    fastfood_status (*backward_train)(const fastfood_layer *, const float *, size_t, const float *, size_t,
                                      const float *, size_t, float *, size_t, float *, uint32_t, double, double,
                                      double, uint64_t, uint64_t);
    fastfood_status (*features_forward)(const fastfood_layer *, const float *, size_t, const float *, size_t, float *,
                                        size_t);
    fastfood_status (*features_backward)(const fastfood_layer *, const float *, size_t, const float *, size_t,
                                         const float *, size_t, float *, size_t, float *, uint32_t);
    fastfood_status (*set_num_threads)(size_t);
    const char *(*last_error)(void);
    fastfood_layer *layer;
    float *y, *dx, *dparams; /* this build's outputs */
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
    *(void **)&b->init_preset = symbol(h, path, "fastfood_init_params_preset_f32");
    *(void **)&b->forward = symbol(h, path, "fastfood_forward_f32");
    *(void **)&b->backward = symbol(h, path, "fastfood_backward_f32");
    *(void **)&b->forward_train = symbol(h, path, "fastfood_forward_train_f32");
    *(void **)&b->backward_train = symbol(h, path, "fastfood_backward_train_f32");
    *(void **)&b->features_forward = symbol(h, path, "fastfood_features_forward_f32");
    *(void **)&b->features_backward = symbol(h, path, "fastfood_features_backward_f32");
    *(void **)&b->set_num_threads = symbol(h, path, "fastfood_set_num_threads");
    *(void **)&b->last_error = symbol(h, path, "fastfood_last_error_message");
}

typedef enum { FORWARD, BACKWARD, BOTH, DROPOUT, DX_ONLY, FEATURES_FORWARD, FEATURES_BACKWARD, OPERATIONS } operation;
static const char *const names[OPERATIONS] = {"forward", "backward", "both", "dropout", "dx-only",
                                              "features-forward", "features-backward"};

/* The shared inputs. */
static size_t batch = 128, width = 4096;
static float *params, *x, *dy, *dphi;

static void check(const build *b, fastfood_status s, const char *what) {
    if (s != FASTFOOD_OK) {
        fprintf(stderr, "compare_builds: %s: %s failed: %s\n", b->path, what, b->last_error());
        exit(1);
    }
}

static void run(build *b, operation op) {
    const size_t n = width;
    switch (op) {
    case FORWARD: check(b, b->forward(b->layer, params, batch, x, n, b->y, n), "forward"); break;
    case BACKWARD:
        check(b, b->backward(b->layer, params, batch, x, n, dy, n, b->dx, n, b->dparams, 0), "backward");
        break;
    case BOTH:
        check(b, b->forward(b->layer, params, batch, x, n, b->y, n), "forward");
        check(b, b->backward(b->layer, params, batch, x, n, dy, n, b->dx, n, b->dparams, 0), "backward");
        break;
    case DROPOUT:
        check(b, b->forward_train(b->layer, params, batch, x, n, b->y, n, 0.1, 0.1, 0.2, 7, 1), "forward_train");
        check(b, b->backward_train(b->layer, params, batch, x, n, dy, n, b->dx, n, b->dparams, 0, 0.1, 0.1, 0.2, 7, 1),
              "backward_train");
        break;
    case DX_ONLY: check(b, b->backward(b->layer, params, batch, NULL, n, dy, n, b->dx, n, NULL, 0), "backward"); break;
    case FEATURES_FORWARD:
        check(b, b->features_forward(b->layer, params, batch, x, n, b->y, 2 * n), "features_forward");
        break;
    case FEATURES_BACKWARD:
        check(b, b->features_backward(b->layer, params, batch, x, n, dphi, 2 * n, b->dx, n, b->dparams, 0),
              "features_backward");
        break;
    case OPERATIONS: break;
    }
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
        memset(both[i]->y, 0, batch * 2 * width * sizeof(float));
        memset(both[i]->dx, 0, batch * width * sizeof(float));
        memset(both[i]->dparams, 0, count * sizeof(float));
        run(both[i], op);
    }
    return memcmp(old->y, new->y, batch * 2 * width * sizeof(float)) == 0 &&
           memcmp(old->dx, new->dx, batch * width * sizeof(float)) == 0 &&
           memcmp(old->dparams, new->dparams, count * sizeof(float)) == 0;
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
        fprintf(stderr, "usage: %s OLD.so NEW.so [--batch B] [--n N] [--pairs P] [--threads T] [OPERATION...]\n"
                        "  OPERATION: forward backward both dropout dx-only features-forward features-backward\n",
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
        both[i]->y = xmalloc(batch * 2 * width * sizeof(float));
        both[i]->dx = xmalloc(batch * width * sizeof(float));
        both[i]->dparams = xmalloc(count * sizeof(float));
    }
    if (old.param_count(old.layer) != count) {
        fprintf(stderr, "compare_builds: the builds disagree on the parameter count\n");
        return 1;
    }
    params = xmalloc(count * sizeof(float));
    x = xmalloc(batch * width * sizeof(float));
    dy = xmalloc(batch * width * sizeof(float));
    dphi = xmalloc(batch * 2 * width * sizeof(float));
    check(&old, old.init_preset(old.layer, FASTFOOD_INIT_VARIANCE, 2, 1.0, params), "init_params_preset");
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < batch * 2 * width; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        float v = (float)(state >> 40) * 0x1p-23f - 1.0f; /* [-1, 1) */
        if (i < batch * width) {
            x[i] = v;
            dy[i] = -v;
        }
        dphi[i] = v;
    }
    printf("compare_builds: old %s, new %s; %zu x %zu -> %zu, %zu thread(s), %zu pairs\n", old.path, new.path, batch,
           width, width, threads, pairs);
    double *told = xmalloc(pairs * sizeof(double)), *tnew = xmalloc(pairs * sizeof(double));
    double *ratio = xmalloc(pairs * sizeof(double));
    for (int op = 0; op < OPERATIONS; op++) {
        if (any && !chosen[op]) continue;
        const operation o = (operation)op;
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
