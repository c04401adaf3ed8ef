/*
 * projection.c - what data-parallel training costs on the wire, dense against Fastfood, projected
 * from measured bytes and compute times to more machines and other networks.
 *
 *   projection [RESULTS_FILE] [--batch B]
 *
 * Rows come from two sources:
 *   - RESULTS_FILE (optional): the "RESULT ..." lines that mnist_mlp_mpi and lenet_gloo print
 *     (make distributed-demo collects them): per-step compute milliseconds and bytes all-reduced,
 *     as measured in a real 2-process run.
 *   - measured here, one thread: one training step (forward, dX and dW / dparams) of the
 *     paper's ImageNet classifier stack on B rows per machine (default 128): the dense MLP
 *     9216 -> 4096 -> 4096 -> 1000 (OpenBLAS sgemm) against "Fastfood 16" and "Fastfood 32",
 *     one Fastfood layer 9216 -> 16384 or 32768 (libfastfood) followed by the dense softmax layer
 *     -> 1000 (paper Tables 2-3). Biases included in the bytes.
 *
 * The projection is on paper, not a measurement: data parallel with the per-machine batch fixed
 * (compute per step stays what was measured), one ring all-reduce of every gradient per step,
 * not overlapped with compute: t = 2 (N - 1) / N * bytes / bandwidth + 2 (N - 1) * latency,
 * with a latency of 25 us per hop. Printed: the all-reduce time and its share of the step for
 * N = 8 and 64 machines at 10 and 100 Gbit/s.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../option_values.h"

extern void openblas_set_num_threads(int);

enum { MAX_ROWS = 32 };
static const double kLatency = 25e-6;

struct row {
    char name[64];
    double compute_ms, bytes;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count, size);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

static float *random_floats(size_t count, unsigned seed) {
    float *p = xcalloc(count, sizeof *p);
    srand(seed);
    for (size_t i = 0; i < count; i++) p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return p;
}

/* A dense layer in -> out on `batch` rows: its three products of a training step. */
struct dense {
    int in, out;
    float *w, *dw;
};

static void dense_step(const struct dense *d, int batch, const float *x, float *y, const float *dy, float *dx) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, d->out, d->in, 1, x, d->in, d->w, d->in, 0, y, d->out);
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, d->in, d->out, 1, dy, d->out, d->w, d->in,
                        0, dx, d->in);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->out, d->in, batch, 1, dy, d->out, x, d->in, 0, d->dw, d->in);
}

static void check(fastfood_status st, const char *what) {
    if (st != FASTFOOD_OK) {
        fprintf(stderr, "%s: %s\n", what, fastfood_last_error_message());
        exit(1);
    }
}

/* Best of 3 steps (after one warm-up) of the stack in -> hidden... -> 1000, in milliseconds.
 * fastfood_features > 0: the first layer is Fastfood in -> fastfood_features, then dense -> 1000. */
static struct row measure_stack(const char *name, int batch, int fastfood_features) {
    enum { IN = 9216, CLASSES = 1000 };
    struct dense layers[3];
    int count = 0;
    fastfood_layer *ff = NULL;
    float *ff_params = NULL, *ff_grad = NULL;
    double bytes = 0;
    if (fastfood_features) {
        check(fastfood_layer_create(IN, (size_t)fastfood_features, 1, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED,
                                    &ff), "layer_create");
        size_t n = fastfood_layer_param_count(ff);
        ff_params = xcalloc(n, sizeof(float));
        ff_grad = xcalloc(n, sizeof(float));
        check(fastfood_init_params_preset_f32(ff, FASTFOOD_INIT_VARIANCE, 2, 1.0, ff_params), "init");
        bytes += (double)n * sizeof(float);
        layers[count++] = (struct dense){fastfood_features, CLASSES, NULL, NULL};
    } else {
        layers[count++] = (struct dense){IN, 4096, NULL, NULL};
        layers[count++] = (struct dense){4096, 4096, NULL, NULL};
        layers[count++] = (struct dense){4096, CLASSES, NULL, NULL};
    }
    int widest = fastfood_features ? fastfood_features : IN;
    for (int l = 0; l < count; l++) {
        layers[l].w = random_floats((size_t)layers[l].in * (size_t)layers[l].out, 3u + (unsigned)l);
        layers[l].dw = xcalloc((size_t)layers[l].in * (size_t)layers[l].out, sizeof(float));
        bytes += ((double)layers[l].in + 1) * layers[l].out * sizeof(float);
        if (layers[l].out > widest) widest = layers[l].out;
    }
    float *x = random_floats((size_t)batch * IN, 9);
    float *a = xcalloc((size_t)batch * (size_t)widest, sizeof(float)), *b = xcalloc((size_t)batch * (size_t)widest, sizeof(float));
    float *da = random_floats((size_t)batch * (size_t)widest, 10), *db = xcalloc((size_t)batch * (size_t)widest, sizeof(float));
    double best = 1e30;
    for (int rep = 0; rep < 4; rep++) {
        double start = now();
        /* Forward and backward through every layer; the activations' values do not matter for time. */
        const float *input = x;
        if (ff) {
            check(fastfood_forward_f32(ff, ff_params, (size_t)batch, x, IN, a, (size_t)fastfood_features), "forward");
            input = a;
        }
        for (int l = 0; l < count; l++) {
            const float *in = l == 0 ? input : a;
            dense_step(&layers[l], batch, in, b, da, (ff || l > 0) ? db : NULL);
        }
        if (ff)
            check(fastfood_backward_f32(ff, ff_params, (size_t)batch, x, IN, db, (size_t)fastfood_features, NULL, 0,
                                        ff_grad, 0), "backward");
        double elapsed = now() - start;
        if (rep > 0 && elapsed < best) best = elapsed;
    }
    struct row r;
    snprintf(r.name, sizeof r.name, "%s", name);
    r.compute_ms = best * 1e3;
    r.bytes = bytes;
    for (int l = 0; l < count; l++) {
        free(layers[l].w);
        free(layers[l].dw);
    }
    free(x); free(a); free(b); free(da); free(db); free(ff_params); free(ff_grad);
    fastfood_layer_destroy(ff);
    return r;
}

/* "RESULT model=NAME ..." or "RESULT hidden=NAME ...": name, compute_ms, bytes. */
static int parse_result(const char *line, struct row *r) {
    if (strncmp(line, "RESULT ", 7) != 0) return 0;
    const char *name = strstr(line, "model=");
    const char *prefix = "LeNet ";
    if (!name) {
        name = strstr(line, "hidden=");
        prefix = "C MLP, hidden ";
    }
    const char *compute = strstr(line, "compute_ms="), *bytes = strstr(line, "bytes=");
    if (!name || !compute || !bytes) return 0;
    name = strchr(name, '=') + 1;
    int length = (int)strcspn(name, " ");
    snprintf(r->name, sizeof r->name, "%s%.*s", prefix, length, name);
    r->compute_ms = atof(compute + 11);
    r->bytes = atof(bytes + 6);
    return r->compute_ms > 0 && r->bytes > 0;
}

static const char usage[] = "usage: %s [RESULTS_FILE] [--batch B]\n";

static const char help[] =
    "Projects what data-parallel training costs on the wire, dense against Fastfood, to 8 and 64\n"
    "machines at 10 and 100 Gbit/s (a ring all-reduce per step, not overlapped with compute), from\n"
    "compute times and bytes: measured here for the paper's ImageNet classifier stacks (one thread),\n"
    "and read from RESULTS_FILE.\n"
    "\n"
    "  RESULTS_FILE  optional: the RESULT lines mnist_mlp_mpi and lenet_gloo print (make\n"
    "                distributed-demo collects them)\n"
    "  --batch B     rows per machine of the measured stacks, 1 or more (default 128)\n"
    "  --help, -h    this text\n";

int main(int argc, char **argv) {
    if (option_wants_help(argc, argv)) {
        printf(usage, argv[0]);
        fputs(help, stdout);
        return 0;
    }
    int batch = 128;
    const char *results = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            if (!option_int(argv[i], argv[i + 1], 1, 1000000, &batch)) return 2;
            i++;
        } else if (argv[i][0] != '-' && !results) results = argv[i];
        else {
            fprintf(stderr, usage, argv[0]);
            fputs("(--help: what each option does)\n", stderr);
            return 2;
        }
    }
    struct row rows[MAX_ROWS];
    int count = 0;
    if (results) {
        FILE *f = fopen(results, "r");
        if (!f) {
            perror(results);
            return 2;
        }
        char line[512];
        while (count < MAX_ROWS - 3 && fgets(line, sizeof line, f))
            if (parse_result(line, &rows[count])) count++;
        fclose(f);
    }
    openblas_set_num_threads(1);
    check(fastfood_set_num_threads(1), "set_num_threads");
    char name[64];
    snprintf(name, sizeof name, "ImageNet MLP 9216-4096-4096-1000, batch %d", batch);
    rows[count++] = measure_stack(name, batch, 0);
    snprintf(name, sizeof name, "ImageNet Fastfood 16 (9216-16384-1000), batch %d", batch);
    rows[count++] = measure_stack(name, batch, 16384);
    snprintf(name, sizeof name, "ImageNet Fastfood 32 (9216-32768-1000), batch %d", batch);
    rows[count++] = measure_stack(name, batch, 32768);

    printf("Ring all-reduce of every gradient per step, not overlapped with compute; per-machine batch "
           "fixed; %.0f us latency per hop. Compute: one thread per machine, as measured.\n\n", kLatency * 1e6);
    printf("| network | MB all-reduced / step | compute ms / step |");
    const int machines[] = {8, 64};
    const double gbits[] = {10, 100};
    for (int m = 0; m < 2; m++)
        for (int g = 0; g < 2; g++) printf(" %d x %.0f Gbit/s: all-reduce ms (share) |", machines[m], gbits[g]);
    printf("\n|---|---|---|---|---|---|---|\n");
    for (int r = 0; r < count; r++) {
        printf("| %s | %.3f | %.2f |", rows[r].name, rows[r].bytes / 1e6, rows[r].compute_ms);
        for (int m = 0; m < 2; m++) {
            for (int g = 0; g < 2; g++) {
                const double n = machines[m], bandwidth = gbits[g] * 1e9 / 8;
                const double t = 2 * (n - 1) / n * rows[r].bytes / bandwidth + 2 * (n - 1) * kLatency;
                printf(" %.2f (%.0f%%) |", t * 1e3, 100 * t * 1e3 / (t * 1e3 + rows[r].compute_ms));
            }
        }
        printf("\n");
    }
    return 0;
}
