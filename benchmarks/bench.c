/*
 * bench.c - fastfood against the dense layer it replaces, measured in one run.
 *
 * Links libfastfood through <fastfood.h> and OpenBLAS through <cblas.h>. Prints one line per
 * figure:
 *   clock                      the core clock, from a chain of dependent integer adds
 *   memory                     in-place read+write bandwidth of an L1- and an L2-sized array
 *                              (what a transform sweep does to each vector): the bounds the
 *                              benchmarks/README.md compares the FWHT with
 *   fwht   <type> n=<n>        ns per transform, GFLOP/s (n log2 n add/subs per transform)
 *   layer  <shape> threads=<t> fastfood and dense (cblas_sgemm) milliseconds for forward,
 *                              backward (dX and dW/dparams) and forward+backward, and the
 *                              dense / fastfood speedup of each
 *   params <shape>             parameter bytes, fastfood and dense, and their ratio
 *   train  <shape> <path>      a training-path call against the plain call it stands for, one
 *                              thread, as interleaved pairs (see below): dropout fwd+bwd
 *                              (rates 0.1 / 0.1 / 0.2) and rates 0 against plain fwd+bwd; the
 *                              random-feature forward and backward, and the backward from the
 *                              forward's phi (fastfood_features_backward_from_phi_f32), against
 *                              the plain forward and backward; the backward from phi against the
 *                              recomputing features backward; the dx-only backward (dparams
 *                              NULL, the non-adaptive layer) against the full one; rows only
 *                              16-byte aligned (malloc's guarantee; strides of in + 4 and out + 4
 *                              floats, so the rows take turns at 16, 32, 48 and 0 bytes past a
 *                              boundary) against 64-byte aligned rows, fwd+bwd; packed rows all
 *                              16 bytes past a boundary (what glibc's malloc returns for a large
 *                              batch: a fresh mapping plus its 16-byte header) against 64; every
 *                              buffer (parameters and gradients too) only 4-byte aligned against
 *                              64; the normalised layer (FASTFOOD_LAYER_NORMALIZED, what these
 *                              lines use) against the 1.0 unnormalised one, fwd+bwd
 *   threads <shape>            fwd+bwd with 2 threads against 1, as interleaved pairs (the
 *                              thread count set, untimed, before each batch), and the best
 *                              batch of each side against the other
 *   split  <shape>             the same 2-thread fwd+bwd on an ideal executor (see below) in
 *                              the same interleaving: its speedup over 1 thread, and the
 *                              library's pool time over its time (1.00x: the pool loses
 *                              nothing to a perfect split, and a speedup short of 2x is the
 *                              machine's)
 *   target <limit>             after the train lines of every shape: the training-path issue's
 *                              limits against this run's medians, shape by shape, "met" or
 *                              "MISSED" (dropout fwd+bwd <= 1.2x plain at 1024 and 4096 wide;
 *                              features forward and backward <= 1.3x plain; 2 threads >= 1.8x
 *                              1 at 128 x 4096 -> 4096)
 *   small  <rows> x <shape>    a batch of 1 to 12 rows against a 16-row batch, per row, as
 *                              interleaved pairs, one thread: forward, fwd+bwd and dropout
 *                              fwd+bwd (what the last, partial unit of any batch costs)
 *   steady <shape> CPU <c>     how steady each CPU's speed is (what bounds the threads
 *                              lines): 50-ms windows of a pinned 1-thread fwd+bwd, each CPU
 *                              alone and both busy at once (see bench_steady)
 *
 * Interleaved pairs (the ratios): the two calls are timed back to back, each for at least
 * 10 ms, 15 times after a warm-up of each; printed are the median of the 15 ratios and their
 * range, and the median milliseconds of each side. Noise from the shared machine hits both
 * sides of a pair alike.
 *
 * Timing: each figure is the median of 7 timed batches after a warm-up, each batch repeating the
 * operation until it has run for at least 20 ms (or once, if once is longer).
 *
 * OpenBLAS: Debian's build picks 256-bit kernels on some AVX-512 CPUs; when the CPU has AVX-512
 * and OPENBLAS_CORETYPE is unset, the program sets OPENBLAS_CORETYPE=SkylakeX and re-executes
 * itself, so the dense baseline uses its fastest kernels. The core name is printed.
 *
 * Usage: bench [--quick] [--training] [--small] [--steady]   (--quick: fewer sizes and shapes, no
 *        steady lines, for a smoke run; --training: only the train, threads, split, target and
 *        steady lines; --small: only the small lines; --steady: only the steady lines)
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include "cpu_description.h"
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern void openblas_set_num_threads(int);
extern char *openblas_get_corename(void);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef void (*operation)(void *context);

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Seconds per call of op, repeated until it has run for at least min_seconds (or once). */
static double timed_batch(operation op, void *context, double min_seconds) {
    long reps = 0;
    double start = now(), elapsed;
    do {
        op(context);
        reps++;
        elapsed = now() - start;
    } while (elapsed < min_seconds);
    return elapsed / (double)reps;
}

/* Median seconds per call of op(context). */
static double measure(operation op, void *context) {
    op(context); /* warm-up: first-touch, allocations, thread start */
    double samples[7];
    for (int s = 0; s < 7; s++) samples[s] = timed_batch(op, context, 0.02);
    qsort(samples, 7, sizeof samples[0], compare);
    return samples[3];
}

static void *xmalloc(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

static void fill(float *p, size_t n, unsigned seed) {
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)(s >> 8) * 0x1p-24f - 0.5f;
    }
}

static void check(fastfood_status status, const char *what) {
    if (status != FASTFOOD_OK) {
        fprintf(stderr, "%s: %s\n", what, fastfood_last_error_message());
        exit(2);
    }
}

/* ---- machine limits ------------------------------------------------------------------------ */

/* Seconds for a chain of 10^7 dependent integer adds, which run at one add per cycle. Ten per loop
 * pass: with one, the loop branch was the limit on a CPU that takes a branch only every other
 * cycle (an AMD Zen 1 read 1.21 GHz that way). */
static double add_chain_seconds(void) {
    unsigned long x = 0;
    double start = now();
    for (long i = 0; i < 1000000; i++) {
#define FASTFOOD_BENCH_ADD x += 1; __asm__ volatile("" : "+r"(x));
        FASTFOOD_BENCH_ADD FASTFOOD_BENCH_ADD FASTFOOD_BENCH_ADD FASTFOOD_BENCH_ADD FASTFOOD_BENCH_ADD
        FASTFOOD_BENCH_ADD FASTFOOD_BENCH_ADD FASTFOOD_BENCH_ADD FASTFOOD_BENCH_ADD FASTFOOD_BENCH_ADD
#undef FASTFOOD_BENCH_ADD
    }
    return now() - start;
}

typedef float vector16 __attribute__((vector_size(64)));

/* a[i] += tiny over n 64-byte vectors: one read and one write of every line, as a transform
 * sweep does. 512-bit where the CPU has it, so the loads and stores, not the adds, are the limit. */
__attribute__((target("avx512f"))) static void add_in_place_avx512(vector16 *a, size_t n) {
    for (size_t i = 0; i < n; i++) a[i] += 1e-7f;
}
static void add_in_place(vector16 *a, size_t n) {
    for (size_t i = 0; i < n; i++) a[i] += 1e-7f;
}

typedef struct {
    vector16 *a;
    size_t n;
    int wide;
} memory_job;

static void run_memory(void *c) {
    memory_job *j = c;
    if (j->wide) add_in_place_avx512(j->a, j->n);
    else add_in_place(j->a, j->n);
}

static void bench_machine(void) {
    /* The fastest of many runs: another thread on the same core (this is a shared virtual
     * machine) only ever slows the chain down. */
    double fastest = 1e9;
    for (int i = 0; i < 50; i++) {
        double t = add_chain_seconds();
        if (t < fastest) fastest = t;
    }
    double hz = 1e7 / fastest;
    printf("clock  %.2f GHz (fastest of 50 chains of 10^7 dependent integer adds)\n", hz * 1e-9);
    for (size_t kib = 32; kib <= 256; kib *= 8) {
        memory_job job = {xmalloc(kib * 1024), kib * 1024 / 64, __builtin_cpu_supports("avx512f")};
        memset(job.a, 0, kib * 1024);
        double bytes = 2.0 * (double)kib * 1024 / measure(run_memory, &job);
        printf("memory in-place read+write of %3zu KiB (%s): %6.1f GB/s, %5.1f bytes per cycle\n", kib,
               kib <= 32 ? "L1" : "L2", bytes * 1e-9, bytes / hz);
        free(job.a);
    }
}

/* ---- FWHT -------------------------------------------------------------------------------- */

typedef struct {
    void *data;
    size_t n, count;
    int f64;
} fwht_job;

static void run_fwht(void *c) {
    fwht_job *j = c;
    if (j->f64) check(fastfood_fwht_f64(j->data, j->n, j->count, j->n), "fwht_f64");
    else check(fastfood_fwht_f32(j->data, j->n, j->count, j->n), "fwht_f32");
}

static void bench_fwht(int quick) {
    for (int f64 = 0; f64 <= 1; f64++) {
        for (int log2n = 7; log2n <= 20; log2n += quick ? 3 : 1) {
            size_t n = (size_t)1 << log2n;
            /* Enough vectors per call that call overhead is noise; data stays cache-sized for
             * small n, as inside a layer. */
            size_t count = n >= 4096 ? 1 : 4096 / n;
            size_t bytes = n * count * (f64 ? 8 : 4);
            void *data = xmalloc(bytes);
            memset(data, 0, bytes);
            fwht_job job = {data, n, count, f64};
            double seconds = measure(run_fwht, &job) / (double)count;
            double flops = (double)n * log2n;
            printf("fwht   %s n=2^%-2d %8zu  %12.1f ns  %7.2f GFLOP/s\n", f64 ? "f64" : "f32", log2n,
                   n, seconds * 1e9, flops / seconds * 1e-9);
            free(data);
        }
    }
}

/* ---- layers ------------------------------------------------------------------------------ */

typedef struct {
    size_t batch, in, out;
    fastfood_layer *layer;
    float *params, *dparams, *x, *y, *dy, *dx;
    float *w, *dw; /* dense: out x in, row-major */
} layer_job;

static void ff_forward(void *c) {
    layer_job *j = c;
    check(fastfood_forward_f32(j->layer, j->params, j->batch, j->x, j->in, j->y, j->out), "forward");
}
static void ff_backward(void *c) {
    layer_job *j = c;
    check(fastfood_backward_f32(j->layer, j->params, j->batch, j->x, j->in, j->dy, j->out, j->dx,
                                j->in, j->dparams, 0), "backward");
}
static void ff_both(void *c) { ff_forward(c); ff_backward(c); }

static void dense_forward(void *c) { /* Y = X W^T */
    layer_job *j = c;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)j->batch, (int)j->out, (int)j->in,
                1.0f, j->x, (int)j->in, j->w, (int)j->in, 0.0f, j->y, (int)j->out);
}
static void dense_backward(void *c) { /* dX = dY W, dW = dY^T X */
    layer_job *j = c;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)j->batch, (int)j->in, (int)j->out,
                1.0f, j->dy, (int)j->out, j->w, (int)j->in, 0.0f, j->dx, (int)j->in);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)j->out, (int)j->in, (int)j->batch,
                1.0f, j->dy, (int)j->out, j->x, (int)j->in, 0.0f, j->dw, (int)j->in);
}
static void dense_both(void *c) { dense_forward(c); dense_backward(c); }

/* A layer with bias and the given extra flags, its parameter and gradient arrays, and filled x
 * and dy rows (64-byte aligned, tightly packed). Parameters are the caller's to initialise. */
static layer_job make_layer_job(size_t batch, size_t in, size_t out, uint32_t flags) {
    layer_job j = {.batch = batch, .in = in, .out = out};
    check(fastfood_layer_create(in, out, 1, FASTFOOD_LAYER_BIAS | flags, &j.layer), "layer_create");
    size_t count = fastfood_layer_param_count(j.layer);
    j.params = xmalloc(count * 4);
    j.dparams = xmalloc(count * 4);
    j.x = xmalloc(batch * in * 4);
    j.dx = xmalloc(batch * in * 4);
    j.y = xmalloc(batch * out * 4);
    j.dy = xmalloc(batch * out * 4);
    fill(j.x, batch * in, 1);
    fill(j.dy, batch * out, 2);
    return j;
}

static void free_layer_job(layer_job *j) {
    free(j->params); free(j->dparams); free(j->x); free(j->dx); free(j->y); free(j->dy); free(j->w); free(j->dw);
    fastfood_layer_destroy(j->layer);
}

/* The layer of the train, threads, small and steady lines: normalised, with the variance preset
 * (seed 2, gain 1), as a training run would create it. */
static layer_job make_training_job(size_t batch, size_t in, size_t out) {
    layer_job j = make_layer_job(batch, in, out, FASTFOOD_LAYER_NORMALIZED);
    check(fastfood_init_params_preset_f32(j.layer, FASTFOOD_INIT_VARIANCE, 2, 1.0, j.params), "init");
    return j;
}

static void bench_layer(size_t batch, size_t in, size_t out, const int *threads, int thread_counts) {
    layer_job j = make_layer_job(batch, in, out, 0);
    size_t count = fastfood_layer_param_count(j.layer);
    j.w = xmalloc(in * out * 4);
    j.dw = xmalloc(in * out * 4);
    check(fastfood_init_params_f32(j.layer, 2, sqrt((double)in), j.params), "init");
    fill(j.w, in * out, 3);

    for (int t = 0; t < thread_counts; t++) {
        check(fastfood_set_num_threads((size_t)threads[t]), "set_num_threads");
        openblas_set_num_threads(threads[t]);
        double ff[3] = {measure(ff_forward, &j), measure(ff_backward, &j), measure(ff_both, &j)};
        double dense[3] = {measure(dense_forward, &j), measure(dense_backward, &j),
                           measure(dense_both, &j)};
        printf("layer  %3zu x %5zu -> %5zu threads=%d  fastfood fwd %8.3f bwd %8.3f both %8.3f ms"
               "  dense fwd %9.3f bwd %9.3f both %9.3f ms  speedup fwd %6.1fx bwd %6.1fx both %6.1fx\n",
               batch, in, out, threads[t], ff[0] * 1e3, ff[1] * 1e3, ff[2] * 1e3, dense[0] * 1e3,
               dense[1] * 1e3, dense[2] * 1e3, dense[0] / ff[0], dense[1] / ff[1], dense[2] / ff[2]);
        fflush(stdout);
    }
    double ff_bytes = (double)count * 4, dense_bytes = (double)(in * out + out) * 4;
    printf("params %3zu x %5zu -> %5zu  fastfood %10.0f bytes  dense %12.0f bytes  ratio %7.1fx\n",
           batch, in, out, ff_bytes, dense_bytes, dense_bytes / ff_bytes);
    free_layer_job(&j);
}

/* ---- training path: interleaved pairs --------------------------------------------------------- */

typedef struct {
    layer_job *j;
    layer_job *unnormalized;         /* the same shape without FASTFOOD_LAYER_NORMALIZED */
    float *phi, *dphi;               /* features: batch x 2 out */
    float *x16, *dy16, *y16, *dx16;  /* 16-byte aligned copies of the rows (row stride + 4 floats) */
    float *x64, *dy64, *y64, *dx64;  /* 64-byte aligned copies with row strides 16 floats longer */
    layer_job *odd;                  /* the same layer, every buffer 4 bytes past a 64-byte boundary */
    layer_job *packed;               /* the same layer, packed rows 16 bytes past a 64-byte boundary */
} train_job;

static void tr_plain_both(void *c) { ff_both(((train_job *)c)->j); }
static void tr_dropout_both(void *c) {
    layer_job *j = ((train_job *)c)->j;
    check(fastfood_forward_train_f32(j->layer, j->params, j->batch, j->x, j->in, j->y, j->out, 0.1, 0.1, 0.2, 7, 1),
          "forward_train");
    check(fastfood_backward_train_f32(j->layer, j->params, j->batch, j->x, j->in, j->dy, j->out, j->dx, j->in,
                                      j->dparams, 0, 0.1, 0.1, 0.2, 7, 1), "backward_train");
}
static void tr_rate0_both(void *c) {
    layer_job *j = ((train_job *)c)->j;
    check(fastfood_forward_train_f32(j->layer, j->params, j->batch, j->x, j->in, j->y, j->out, 0, 0, 0, 7, 1),
          "forward_train");
    check(fastfood_backward_train_f32(j->layer, j->params, j->batch, j->x, j->in, j->dy, j->out, j->dx, j->in,
                                      j->dparams, 0, 0, 0, 0, 7, 1), "backward_train");
}
static void tr_plain_forward(void *c) { ff_forward(((train_job *)c)->j); }
static void tr_plain_backward(void *c) { ff_backward(((train_job *)c)->j); }
static void tr_features_forward(void *c) {
    train_job *t = c;
    layer_job *j = t->j;
    check(fastfood_features_forward_f32(j->layer, j->params, j->batch, j->x, j->in, t->phi, 2 * j->out),
          "features_forward");
}
static void tr_features_backward(void *c) {
    train_job *t = c;
    layer_job *j = t->j;
    check(fastfood_features_backward_f32(j->layer, j->params, j->batch, j->x, j->in, t->dphi, 2 * j->out, j->dx,
                                         j->in, j->dparams, 0), "features_backward");
}
static void tr_features_backward_from_phi(void *c) {
    train_job *t = c;
    layer_job *j = t->j;
    check(fastfood_features_backward_from_phi_f32(j->layer, j->params, j->batch, j->x, j->in, t->phi, 2 * j->out,
                                                  t->dphi, 2 * j->out, j->dx, j->in, j->dparams, 0),
          "features_backward_from_phi");
}
static void tr_dx_only(void *c) {
    layer_job *j = ((train_job *)c)->j;
    check(fastfood_backward_f32(j->layer, j->params, j->batch, NULL, j->in, j->dy, j->out, j->dx, j->in, NULL, 0),
          "backward dx only");
}
/* The layer's fwd+bwd on other copies of the rows: x and dx with row stride ldx, y and dy ldy. */
static void both_on_rows(const layer_job *j, const float *x, float *dx, size_t ldx, float *y, const float *dy,
                         size_t ldy) {
    check(fastfood_forward_f32(j->layer, j->params, j->batch, x, ldx, y, ldy), "forward");
    check(fastfood_backward_f32(j->layer, j->params, j->batch, x, ldx, dy, ldy, dx, ldx, j->dparams, 0), "backward");
}
static void tr_unaligned_both(void *c) {
    train_job *t = c;
    both_on_rows(t->j, t->x16, t->dx16, t->j->in + 4, t->y16, t->dy16, t->j->out + 4);
}
static void tr_longer_rows_both(void *c) {
    train_job *t = c;
    both_on_rows(t->j, t->x64, t->dx64, t->j->in + 16, t->y64, t->dy64, t->j->out + 16);
}
static void tr_unnormalized_both(void *c) { ff_both(((train_job *)c)->unnormalized); }
static void tr_odd_both(void *c) { ff_both(((train_job *)c)->odd); }
static void tr_packed_both(void *c) { ff_both(((train_job *)c)->packed); }
typedef struct {
    double a, b, ratio, low, high; /* median seconds of each side; median, min, max of b / a */
    double best;                   /* fastest b over fastest a */
} pair_result;

/* 15 interleaved pairs of timed batches of a (baseline) and b. */
static pair_result pairs(operation a, operation b, void *context) {
    enum { PAIRS = 15 };
    double ta[PAIRS], tb[PAIRS], ratio[PAIRS];
    a(context); /* warm-up: scratch, threads */
    b(context);
    for (int i = 0; i < PAIRS; i++) {
        ta[i] = timed_batch(a, context, 0.01);
        tb[i] = timed_batch(b, context, 0.01);
        ratio[i] = tb[i] / ta[i];
    }
    qsort(ta, PAIRS, sizeof ta[0], compare);
    qsort(tb, PAIRS, sizeof tb[0], compare);
    qsort(ratio, PAIRS, sizeof ratio[0], compare);
    return (pair_result){ta[PAIRS / 2], tb[PAIRS / 2], ratio[PAIRS / 2], ratio[0], ratio[PAIRS - 1], tb[0] / ta[0]};
}

/* Prints one pair's line; returns its median ratio. */
static double print_pair(const char *kind, const layer_job *j, const char *what, const char *a_name,
                         const char *b_name, pair_result r) {
    printf("%-6s %3zu x %5zu -> %5zu  %-28s %-22s %8.3f ms  %-26s %8.3f ms  ratio %5.2fx (%.2f - %.2f)\n", kind,
           j->batch, j->in, j->out, what, a_name, r.a * 1e3, b_name, r.b * 1e3, r.ratio, r.low, r.high);
    fflush(stdout);
    return r.ratio;
}

/* ---- threads: the pool against one thread and against an ideal split -------------------------- */

/* The ideal executor (fastfood_set_executor) for 2 threads: the calling thread runs the first half
 * of a call's tasks and a helper thread, spinning (never sleeping) between calls, the second
 * half. No locks, no wake-ups, tiles split evenly, and the two threads pinned to two CPUs: what
 * two threads can give on this machine at that moment. The helper runs only while its side is
 * timed: spinning, it would slow the other sides. (Unpinned, a new spinning thread could share
 * its creator's CPU until the scheduler moved it: this executor then ran at 1.0x one thread in
 * some triples. The spins also yield the CPU, in case something else needs it.) */
static struct {
    atomic_ulong posted, finished; /* calls handed to the helper, and finished by it */
    atomic_int running;
    void *job;
    fastfood_task_function run;
    size_t tasks;
    pthread_t thread;
    int cpus[2]; /* the first two CPUs this process may use; cpus[1] < 0: fewer than two */
} split;

/* `seen`: split.posted when the helper was started (read then: the first call may be posted
 * before the new thread runs). */
static void *split_helper(void *posted_at_start) {
    unsigned long seen = *(const unsigned long *)posted_at_start;
    while (atomic_load_explicit(&split.running, memory_order_relaxed)) {
        unsigned long now = atomic_load(&split.posted);
        if (now == seen) {
            sched_yield(); /* returns at once when this CPU has nothing else to run */
            continue;
        }
        seen = now;
        for (size_t task = split.tasks / 2; task < split.tasks; task++) split.run(split.job, task, 1);
        atomic_store(&split.finished, now);
    }
    return NULL;
}

static int split_executor(void *context, void *job, fastfood_task_function run, size_t tasks, size_t workers) {
    (void)context; (void)workers; /* workers == 2: the thread count is 2 while it is installed */
    split.job = job;
    split.run = run;
    split.tasks = tasks;
    unsigned long call = atomic_fetch_add(&split.posted, 1) + 1; /* publishes job, run and tasks */
    for (size_t task = 0; task < tasks / 2; task++) run(job, task, 0);
    while (atomic_load(&split.finished) != call) sched_yield();
    return 1;
}

/* Seconds per fwd+bwd on one side (0: 1 thread; 1: 2 threads, the pool; 2: 2 threads, the ideal
 * executor), set up untimed (and warmed up with one call: going from 2
 * threads to 1 ends the pool thread and going back starts a new one, which a training loop never
 * pays). */
static double thread_side_batch(layer_job *j, int side) {
    check(fastfood_set_num_threads(side == 0 ? 1 : 2), "set_num_threads");
    cpu_set_t caller_cpus, one;
    if (side == 2) {
        atomic_store(&split.running, 1);
        static unsigned long posted_at_start;
        posted_at_start = atomic_load(&split.posted);
        pthread_attr_t attributes;
        CPU_ZERO(&one);
        CPU_SET(split.cpus[1], &one);
        if (pthread_getaffinity_np(pthread_self(), sizeof caller_cpus, &caller_cpus) != 0 ||
            pthread_attr_init(&attributes) != 0 || pthread_attr_setaffinity_np(&attributes, sizeof one, &one) != 0 ||
            pthread_create(&split.thread, &attributes, split_helper, &posted_at_start) != 0) {
            fprintf(stderr, "threads: cannot start a pinned thread\n");
            exit(2);
        }
        pthread_attr_destroy(&attributes);
        CPU_ZERO(&one);
        CPU_SET(split.cpus[0], &one);
        if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0) {
            fprintf(stderr, "threads: cannot pin the calling thread\n");
            exit(2);
        }
        check(fastfood_set_executor(split_executor, NULL), "set_executor");
    }
    ff_both(j);
    double seconds = timed_batch(ff_both, j, 0.01);
    if (side == 2) {
        check(fastfood_set_executor(NULL, NULL), "set_executor");
        atomic_store(&split.running, 0);
        pthread_join(split.thread, NULL);
        pthread_setaffinity_np(pthread_self(), sizeof caller_cpus, &caller_cpus);
    }
    return seconds;
}

/* 15 interleaved triples (1 thread, the pool, the ideal executor), as the pairs; pairs without the
 * ideal executor when this process may use only one CPU. Returns the pool's median speedup. */
static double bench_threads(layer_job *j, const cpu_set_t *usable) {
    enum { TRIPLES = 15 };
    double t[3][TRIPLES], pool[TRIPLES], ideal[TRIPLES], loss[TRIPLES];
    int count = 0;
    split.cpus[1] = -1;
    for (int c = 0; c < CPU_SETSIZE && count < 2; c++)
        if (CPU_ISSET(c, usable)) split.cpus[count++] = c;
    int sides = count == 2 ? 3 : 2;
    for (int side = 0; side < sides; side++) thread_side_batch(j, side); /* warm-up */
    for (int i = 0; i < TRIPLES; i++) {
        for (int side = 0; side < 3; side++) t[side][i] = side < sides ? thread_side_batch(j, side) : 1;
        pool[i] = t[0][i] / t[1][i];
        ideal[i] = t[0][i] / t[2][i];
        loss[i] = t[1][i] / t[2][i];
    }
    double best[3];
    for (int side = 0; side < 3; side++) {
        qsort(t[side], TRIPLES, sizeof t[side][0], compare);
        best[side] = t[side][0];
    }
    qsort(pool, TRIPLES, sizeof pool[0], compare);
    qsort(ideal, TRIPLES, sizeof ideal[0], compare);
    qsort(loss, TRIPLES, sizeof loss[0], compare);
    /* Speedups: 1-thread time over 2-thread time; "best": fastest batch over fastest batch, what
     * the code does while both CPUs are free (on a VM whose second vCPU the host also runs other
     * work on, the median measures the host as much as the library). */
    printf("threads %3zu x %5zu -> %5zu  fwd+bwd  1 thread %8.3f ms  2 threads %8.3f ms  speedup %5.2fx (%.2f - %.2f)"
           "  best %5.2fx\n",
           j->batch, j->in, j->out, t[0][TRIPLES / 2] * 1e3, t[1][TRIPLES / 2] * 1e3, pool[TRIPLES / 2], pool[0],
           pool[TRIPLES - 1], best[0] / best[1]);
    if (sides == 2) printf("split  skipped: fewer than two CPUs known usable by this process\n");
    else printf("split  %3zu x %5zu -> %5zu  fwd+bwd  ideal 2-thread executor %8.3f ms  speedup %5.2fx (%.2f - %.2f)"
           "  best %5.2fx  pool / ideal %5.2fx (%.2f - %.2f)\n",
           j->batch, j->in, j->out, t[2][TRIPLES / 2] * 1e3, ideal[TRIPLES / 2], ideal[0], ideal[TRIPLES - 1],
           best[0] / best[2], loss[TRIPLES / 2], loss[0], loss[TRIPLES - 1]);
    fflush(stdout);
    check(fastfood_set_num_threads(1), "set_num_threads");
    return pool[TRIPLES / 2];
}

/* One shape's figures for the training-path targets (print_targets): median ratios, in the
 * targets' order; the threads figure is 0 when that line did not run. */
enum { DROPOUT, FEATURES_FORWARD, FEATURES_BACKWARD, THREADS, TARGET_COUNT };
static struct {
    size_t in, out;
    double ratio[TARGET_COUNT];
} figures[8]; /* one per shape of main's table (5) */
static size_t figure_count;

/* Copies each *buffers[k] (counts[k] floats) to `floats` floats past a fresh 64-byte aligned
 * block and points it there; base[k] receives the block, to free. */
static void move_floats(float **const *buffers, const size_t *counts, float **base, int n, size_t floats) {
    for (int k = 0; k < n; k++) {
        base[k] = xmalloc((counts[k] + floats) * 4);
        memcpy(base[k] + floats, *buffers[k], counts[k] * 4);
        *buffers[k] = base[k] + floats;
    }
}

static void bench_training(size_t batch, size_t in, size_t out, int with_threads, const cpu_set_t *usable) {
    layer_job j = make_training_job(batch, in, out);
    size_t count = fastfood_layer_param_count(j.layer);
    train_job t = {.j = &j, .phi = xmalloc(batch * 2 * out * 4), .dphi = xmalloc(batch * 2 * out * 4)};
    fill(t.dphi, batch * 2 * out, 3);
    /* Rows 16 bytes past a 64-byte boundary, row strides of in + 4 and out + 4 floats. */
    const size_t ldx = in + 4, ldy = out + 4;
    float *xbase = xmalloc((batch * ldx + 4) * 4), *ybase = xmalloc((batch * ldy + 4) * 4);
    float *dybase = xmalloc((batch * ldy + 4) * 4), *dxbase = xmalloc((batch * ldx + 4) * 4);
    t.x16 = xbase + 4; t.y16 = ybase + 4; t.dy16 = dybase + 4; t.dx16 = dxbase + 4;
    /* Rows 64 bytes longer than packed, every row 64-byte aligned: a power-of-two width's
     * rows are no longer a multiple of 4 KiB apart. */
    t.x64 = xmalloc(batch * (in + 16) * 4); t.dx64 = xmalloc(batch * (in + 16) * 4);
    t.y64 = xmalloc(batch * (out + 16) * 4); t.dy64 = xmalloc(batch * (out + 16) * 4);
    for (size_t r = 0; r < batch; r++) {
        memcpy(t.x16 + r * ldx, j.x + r * in, in * 4);
        memcpy(t.dy16 + r * ldy, j.dy + r * out, out * 4);
        memcpy(t.x64 + r * (in + 16), j.x + r * in, in * 4);
        memcpy(t.dy64 + r * (out + 16), j.dy + r * out, out * 4);
    }
    layer_job plain = j; /* shares the rows and gradients, has its own parameters */
    plain.params = xmalloc(count * 4);
    check(fastfood_layer_create(in, out, 1, FASTFOOD_LAYER_BIAS, &plain.layer), "layer_create");
    check(fastfood_init_params_f32(plain.layer, 2, sqrt((double)in), plain.params), "init");
    t.unnormalized = &plain;
    check(fastfood_set_num_threads(1), "set_num_threads");
    print_pair("train", &j, "normalised layer", "1.0 layer fwd+bwd", "normalised fwd+bwd",
               pairs(tr_unnormalized_both, tr_plain_both, &t));
    double *ratio = figures[figure_count].ratio;
    figures[figure_count].in = in, figures[figure_count].out = out;
    ratio[DROPOUT] = print_pair("train", &j, "dropout 0.1/0.1/0.2", "plain fwd+bwd", "train fwd+bwd",
                                               pairs(tr_plain_both, tr_dropout_both, &t));
    print_pair("train", &j, "dropout rates 0", "plain fwd+bwd", "train fwd+bwd", pairs(tr_plain_both, tr_rate0_both, &t));
    ratio[FEATURES_FORWARD] = print_pair("train", &j, "random features forward", "plain forward",
                                                        "features forward", pairs(tr_plain_forward, tr_features_forward, &t));
    ratio[FEATURES_BACKWARD] = print_pair("train", &j, "random features backward", "plain backward",
                                                         "features backward",
                                                         pairs(tr_plain_backward, tr_features_backward, &t));
    tr_features_forward(&t); /* phi as the forward leaves it */
    print_pair("train", &j, "features backward from phi", "plain backward", "from-phi backward",
               pairs(tr_plain_backward, tr_features_backward_from_phi, &t));
    print_pair("train", &j, "from phi vs recomputing", "features backward", "from-phi backward",
               pairs(tr_features_backward, tr_features_backward_from_phi, &t));
    print_pair("train", &j, "dx only (dparams NULL)", "full backward", "dx-only backward",
               pairs(tr_plain_backward, tr_dx_only, &t));
    print_pair("train", &j, "rows 16-byte aligned", "64-byte aligned fwd+bwd", "16-byte aligned fwd+bwd",
               pairs(tr_plain_both, tr_unaligned_both, &t));
    print_pair("train", &j, "rows 64 bytes longer", "packed rows fwd+bwd", "longer rows fwd+bwd",
               pairs(tr_plain_both, tr_longer_rows_both, &t));
    /* Packed rows (strides in and out) 16 bytes past a 64-byte boundary, every row alike: x, dx,
     * y and dy as malloc hands out a large batch; parameters and gradients 64-byte aligned. */
    layer_job packed = j;
    float *packed_base[4];
    float **packed_buffers[4] = {&packed.x, &packed.dx, &packed.y, &packed.dy};
    const size_t packed_counts[4] = {batch * in, batch * in, batch * out, batch * out};
    move_floats(packed_buffers, packed_counts, packed_base, 4, 4);
    t.packed = &packed;
    print_pair("train", &j, "packed rows 16 bytes off", "64-byte aligned fwd+bwd", "16 bytes off fwd+bwd",
               pairs(tr_plain_both, tr_packed_both, &t));
    for (int k = 0; k < 4; k++) free(packed_base[k]);
    /* Every buffer (parameters and gradients too) 4 bytes past a 64-byte boundary: aligned for
     * float and nothing more, as a sub-allocator may hand out. */
    layer_job odd = j;
    float *odd_base[6];
    float **odd_buffers[6] = {&odd.params, &odd.dparams, &odd.x, &odd.dx, &odd.y, &odd.dy};
    const size_t odd_counts[6] = {count, count, batch * in, batch * in, batch * out, batch * out};
    move_floats(odd_buffers, odd_counts, odd_base, 6, 1);
    t.odd = &odd;
    print_pair("train", &j, "every buffer 4-byte aligned", "64-byte aligned fwd+bwd", "4-byte aligned fwd+bwd",
               pairs(tr_plain_both, tr_odd_both, &t));
    for (int k = 0; k < 6; k++) free(odd_base[k]);
    ratio[THREADS] = with_threads ? bench_threads(&j, usable) : 0;
    figure_count++;
    free_layer_job(&j);
    free(t.phi); free(t.dphi); free(xbase); free(ybase); free(dybase); free(dxbase);
    free(t.x64); free(t.dx64); free(t.y64); free(t.dy64);
    fastfood_layer_destroy(plain.layer);
    free(plain.params);
}

/* The training-path issue's targets against this run's medians, shape by shape: dropout
 * fwd+bwd at most 1.2x the plain call (asked at 1024 and 4096 wide), features forward and
 * backward at most 1.3x the plain ones, two threads at least 1.8x one (asked at 128 x 4096). */
static void print_targets(void) {
    static const struct { const char *name; double limit; int at_least; size_t only_in[2]; } targets[TARGET_COUNT] = {
        [DROPOUT] = {"dropout fwd+bwd <= 1.20x plain", 1.2, 0, {1024, 4096}},
        [FEATURES_FORWARD] = {"features forward <= 1.30x plain", 1.3, 0, {0, 0}},
        [FEATURES_BACKWARD] = {"features backward <= 1.30x plain", 1.3, 0, {0, 0}},
        [THREADS] = {"2 threads >= 1.80x 1 thread", 1.8, 1, {4096, 0}},
    };
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        printf("target %-34s", targets[t].name);
        for (size_t f = 0; f < figure_count; f++) {
            if (targets[t].only_in[0] && figures[f].in != targets[t].only_in[0] && figures[f].in != targets[t].only_in[1])
                continue;
            double v = figures[f].ratio[t];
            if (v == 0) continue;
            int met = targets[t].at_least ? v >= targets[t].limit : v <= targets[t].limit;
            printf("  %zu->%zu %.2fx %s", figures[f].in, figures[f].out, v, met ? "met" : "MISSED");
        }
        printf("\n");
    }
    fflush(stdout);
}

/* ---- small batches: per-row time against a full tile's ---------------------------------------- */

typedef struct {
    layer_job *j;
    size_t rows; /* the small batch */
    int kind;    /* 0 forward, 1 fwd+bwd, 2 dropout fwd+bwd */
} small_job;

static void sm_call(small_job *s, size_t rows) {
    train_job t = {.j = s->j};
    s->j->batch = rows;
    if (s->kind == 0) ff_forward(s->j);
    else if (s->kind == 1) ff_both(s->j);
    else tr_dropout_both(&t);
}
static void sm_tile(void *c) { sm_call(c, 16); }
static void sm_small(void *c) { sm_call(c, ((small_job *)c)->rows); }

/* Batches of 1 .. 12 rows (a last unit of that many rows, of any batch, costs the same) against
 * a full 16-row tile, per row: 1.00x means a row of the small batch costs what a row of a tile
 * does. One thread. */
static void bench_small(size_t in, size_t out) {
    layer_job j = make_training_job(16, in, out);
    check(fastfood_set_num_threads(1), "set_num_threads");
    static const char *kinds[] = {"forward", "fwd+bwd", "dropout fwd+bwd"};
    static const size_t rows[] = {1, 2, 4, 8, 12};
    for (int k = 0; k < 3; k++) {
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            small_job s = {.j = &j, .rows = rows[r], .kind = k};
            pair_result p = pairs(sm_tile, sm_small, &s);
            double scale = 16.0 / (double)rows[r]; /* per row */
            printf("small  %2zu x %5zu -> %5zu  %-16s per row %8.2f us  16-row tile per row %8.2f us  ratio %5.2fx"
                   " (%.2f - %.2f)\n", rows[r], in, out, kinds[k], p.b / (double)rows[r] * 1e6, p.a / 16 * 1e6,
                   p.ratio * scale, p.low * scale, p.high * scale);
            fflush(stdout);
        }
    }
    j.batch = 16;
    free_layer_job(&j);
}

/* ---- steadiness of the CPUs ------------------------------------------------------------------ */

/* The threads lines need both CPUs at one speed throughout; a virtual machine's vCPUs are not
 * always. One thread per CPU (the first two this process may use), pinned to it, runs the
 * 1-thread 128 x 4096 -> 4096 fwd+bwd in 50-ms windows: each CPU alone (the other idle), then
 * both at once. Printed: milliseconds per fwd+bwd over the windows (min, 10th percentile, median,
 * 90th, max) and, both at once, the share of windows (paired by index) in which one CPU took
 * over 1.25x the other's time: then even a perfect split of the tiles makes two threads at most
 * 1 + 1 / 1.25 = 1.8x faster than one thread on the faster CPU. */
enum { STEADY_WINDOWS = 100 }; /* 5 s per run */

typedef struct {
    layer_job *j;
    int cpu;
    double ms[STEADY_WINDOWS];
} steady_run;

static void *steady_thread(void *context) {
    steady_run *r = context;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(r->cpu, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0) {
        fprintf(stderr, "steady: cannot pin a thread to CPU %d\n", r->cpu);
        exit(2);
    }
    ff_both(r->j); /* warm-up */
    for (int w = 0; w < STEADY_WINDOWS; w++) r->ms[w] = timed_batch(ff_both, r->j, 0.05) * 1e3;
    return NULL;
}

static void run_steady(steady_run *runs, int count) {
    pthread_t threads[2];
    for (int k = 0; k < count; k++)
        if (pthread_create(&threads[k], NULL, steady_thread, &runs[k]) != 0) {
            fprintf(stderr, "steady: cannot start a thread\n");
            exit(2);
        }
    for (int k = 0; k < count; k++) pthread_join(threads[k], NULL);
}

static void print_steady(const char *when, const steady_run *r, double asymmetric_share) {
    double s[STEADY_WINDOWS];
    memcpy(s, r->ms, sizeof s);
    qsort(s, STEADY_WINDOWS, sizeof s[0], compare);
    printf("steady 128 x  4096 ->  4096  fwd+bwd  1 thread  CPU %d %-10s ms  min %7.3f  p10 %7.3f  median %7.3f"
           "  p90 %7.3f  max %7.3f", r->cpu, when, s[0], s[STEADY_WINDOWS / 10], s[STEADY_WINDOWS / 2],
           s[STEADY_WINDOWS - STEADY_WINDOWS / 10 - 1], s[STEADY_WINDOWS - 1]);
    if (asymmetric_share >= 0) printf("  one CPU > 1.25x the other in %.0f%% of windows", 100 * asymmetric_share);
    printf("\n");
    fflush(stdout);
}

static void bench_steady(const cpu_set_t *usable) {
    int cpus[2], count = 0;
    for (int c = 0; c < CPU_SETSIZE && count < 2; c++)
        if (CPU_ISSET(c, usable)) cpus[count++] = c;
    if (count < 2) {
        printf("steady skipped: fewer than two CPUs known usable by this process\n");
        return;
    }
    check(fastfood_set_num_threads(1), "set_num_threads");
    layer_job jobs[2];
    steady_run runs[2];
    for (int k = 0; k < 2; k++) {
        jobs[k] = make_training_job(128, 4096, 4096);
        runs[k] = (steady_run){.j = &jobs[k], .cpu = cpus[k]};
    }
    for (int k = 0; k < 2; k++) {
        run_steady(&runs[k], 1);
        print_steady("alone", &runs[k], -1);
    }
    run_steady(runs, 2);
    int asymmetric = 0;
    for (int w = 0; w < STEADY_WINDOWS; w++) {
        double a = runs[0].ms[w], b = runs[1].ms[w];
        if (a > 1.25 * b || b > 1.25 * a) asymmetric++;
    }
    for (int k = 0; k < 2; k++) print_steady("both busy", &runs[k], (double)asymmetric / STEADY_WINDOWS);
    for (int k = 0; k < 2; k++) free_layer_job(&jobs[k]);
}

int main(int argc, char **argv) {
    int quick = 0, training_only = 0, small_only = 0, steady_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--training") == 0) training_only = 1;
        else if (strcmp(argv[i], "--small") == 0) small_only = 1;
        else if (strcmp(argv[i], "--steady") == 0) steady_only = 1;
        else {
            fprintf(stderr, "usage: %s [--quick] [--training] [--small] [--steady]\n", argv[0]);
            return 2;
        }
    }
    if (!getenv("OPENBLAS_CORETYPE") && __builtin_cpu_supports("avx512f")) {
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
        execv("/proc/self/exe", argv);
        /* exec failed: carry on with OpenBLAS's own choice */
    }
    /* The CPUs this process may run on (taskset, cpusets): with one, the 2-thread lines measure
     * two threads sharing it. */
    cpu_set_t affinity;
    CPU_ZERO(&affinity); /* stays empty if the query fails: the steady lines are then skipped */
    long usable = sched_getaffinity(0, sizeof affinity, &affinity) == 0 ? CPU_COUNT(&affinity)
                                                                       : sysconf(_SC_NPROCESSORS_ONLN);
    char cpu[256];
    cpu_description(cpu, sizeof cpu);
    printf("fastfood %s, kernels: %s; OpenBLAS core: %s; CPU: %s; %ld CPUs online, %ld usable\n",
           fastfood_version_string(), fastfood_cpu_variant(), openblas_get_corename(), cpu,
           sysconf(_SC_NPROCESSORS_ONLN), usable);
    check(fastfood_set_num_threads(1), "set_num_threads");
    if (steady_only) {
        bench_steady(&affinity);
        return 0;
    }
    if (small_only) {
        bench_small(1024, 1024);
        bench_small(4096, 4096);
        return 0;
    }
    if (!training_only) {
        bench_machine();
        bench_fwht(quick);
    }
    static const struct { size_t batch, in, out; } shapes[] = {
        {128, 1024, 1024}, {128, 4096, 4096}, {128, 8192, 8192}, {256, 9216, 4096}, {128, 16384, 16384},
    };
    const int threads[] = {1, 2};
    size_t shape_count = quick ? 2 : sizeof shapes / sizeof shapes[0];
    for (size_t s = 0; s < shape_count && !training_only; s++)
        bench_layer(shapes[s].batch, shapes[s].in, shapes[s].out, threads, 2);
    if (!training_only) {
        bench_small(1024, 1024);
        if (!quick) bench_small(4096, 4096);
    }
    for (size_t s = 0; s < shape_count; s++)
        bench_training(shapes[s].batch, shapes[s].in, shapes[s].out, sysconf(_SC_NPROCESSORS_ONLN) >= 2, &affinity);
    print_targets();
    if (!quick) bench_steady(&affinity);
    return 0;
}
