/*
 * fuzz_api.c - libFuzzer target: sequences of API calls with fuzzed shapes, strides, flags,
 * rates and thread counts (bounded so memory stays small).
 *
 * Checks, besides "no crash": every status is a documented one, a failure leaves a message,
 * no call writes outside its output buffers (each buffer sits between guard canaries inside one
 * allocation, checked after every call: AddressSanitizer, which the library is built with here,
 * sees only the allocation's ends), and the shape accessors and permutations of every layer
 * (bias and normalised ones among them) have their documented values. Compute calls also run
 * under a fuzzed executor (see "A fuzzed executor" below) and are checked against a one-thread
 * run without one. Op 10 puts one call's buffers in one arena, where outputs may share memory with
 * inputs or each other, and checks the library's verdict and results against an oracle of its own
 * (see "Buffers that share memory").
 */
#include <fastfood.h>

#include <math.h>
#include <pthread.h>
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

/* ---- A fuzzed executor (fastfood_set_executor). ----
 *
 * Op 5 installs one of these behaviours, or the library's pool again. Every executor call checks
 * what the header promises an executor (tasks >= 2, 2 <= workers = min(threads, tasks), run not
 * NULL, the context given). A compute call that reached a contract-breaking executor must fail
 * with FASTFOOD_ERROR_INVALID_ARGUMENT and leave dparams untouched; any other compute op is run
 * again on one thread without an executor and must give the same statuses and the same bits. */
enum {
    EXEC_DECLINE,           /* returns 0 at once: the pool runs the call */
    EXEC_IN_ORDER,          /* every task on the calling thread, worker slots in turn */
    EXEC_REVERSED,          /* last task first, on the highest slot */
    EXEC_TWO_THREADS,       /* even tasks here on slot 0, odd ones on a thread of its own on slot 1 */
    EXEC_NESTED,            /* in order, with nested fastfood calls after the first task */
    EXEC_SKIP_LAST,         /* breaks the contract: returns 1 with the last task unrun */
    EXEC_TASK_TWICE,        /* breaks it: runs task 0 twice */
    EXEC_OUT_OF_RANGE,      /* breaks it: a task index or a worker slot out of range, then all */
    EXEC_DECLINE_AFTER_RUN, /* breaks it: runs task 0, then returns 0 */
    EXEC_MODES
};
static int exec_mode = -1;       /* -1: no executor installed */
static unsigned long exec_calls; /* executor calls so far */

static int exec_breaks_contract(void) { return exec_mode >= EXEC_SKIP_LAST; }

/* The nested calls' layer, inputs and their one-thread results, made once. */
enum { NEST_IN = 40, NEST_OUT = 70, NEST_BATCH = 3 };
static struct {
    fastfood_layer *layer;
    size_t n;
    float *params, *x, *dy, *y, *dx, *dp;    /* y, dx, dp: the references */
    float *y_now, *dx_now, *dp_now;          /* what a nested call gives */
} nest;

static void nest_fill(float *y, float *dx, float *dp) {
    if (fastfood_forward_f32(nest.layer, nest.params, NEST_BATCH, nest.x, NEST_IN, y, NEST_OUT) != FASTFOOD_OK ||
        fastfood_backward_f32(nest.layer, nest.params, NEST_BATCH, nest.x, NEST_IN, nest.dy, NEST_OUT, dx, NEST_IN, dp,
                              0) != FASTFOOD_OK) FAIL();
}
/* Nested calls give their one-thread results. */
static void nested_calls(void) {
    nest_fill(nest.y_now, nest.dx_now, nest.dp_now);
    if (memcmp(nest.y_now, nest.y, sizeof(float) * NEST_BATCH * NEST_OUT) != 0 ||
        memcmp(nest.dx_now, nest.dx, sizeof(float) * NEST_BATCH * NEST_IN) != 0 ||
        memcmp(nest.dp_now, nest.dp, sizeof(float) * nest.n) != 0) FAIL();
}
static void nest_setup(void) {
    if (nest.layer) return;
    if (fastfood_layer_create(NEST_IN, NEST_OUT, 5, FASTFOOD_LAYER_BIAS, &nest.layer) != FASTFOOD_OK) FAIL();
    nest.n = fastfood_layer_param_count(nest.layer);
    float **all[] = {&nest.params, &nest.dp, &nest.dp_now, &nest.x, &nest.dx, &nest.dx_now, &nest.dy, &nest.y, &nest.y_now};
    size_t counts[] = {nest.n, nest.n, nest.n, NEST_BATCH * NEST_IN, NEST_BATCH * NEST_IN, NEST_BATCH * NEST_IN,
                       NEST_BATCH * NEST_OUT, NEST_BATCH * NEST_OUT, NEST_BATCH * NEST_OUT};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!(*all[i] = calloc(counts[i], sizeof(float)))) FAIL();
    if (fastfood_init_params_f32(nest.layer, 9, 1.0, nest.params) != FASTFOOD_OK) FAIL();
    for (size_t i = 0; i < NEST_BATCH * NEST_IN; i++) nest.x[i] = (float)((int)(i * 37 % 19) - 9) / 8.0f;
    for (size_t i = 0; i < NEST_BATCH * NEST_OUT; i++) nest.dy[i] = (float)((int)(i * 13 % 23) - 11) / 16.0f;
    nest_fill(nest.y, nest.dx, nest.dp); /* one thread, no executor: the reference */
}

typedef struct {
    void *job;
    fastfood_task_function run;
    size_t tasks;
} odd_tasks;
static void *run_odd_tasks(void *arg) {
    odd_tasks *o = arg;
    for (size_t t = 1; t < o->tasks; t += 2) o->run(o->job, t, 1);
    return NULL;
}

static int fuzz_executor(void *context, void *job, fastfood_task_function run, size_t tasks, size_t workers) {
    size_t threads = fastfood_get_num_threads();
    if (context != &exec_mode || run == NULL || tasks < 2 || workers < 2 ||
        workers != (threads < tasks ? threads : tasks)) FAIL();
    exec_calls++;
    switch (exec_mode) {
    case EXEC_DECLINE:
        return 0;
    case EXEC_IN_ORDER:
        for (size_t t = 0; t < tasks; t++) run(job, t, t % workers);
        return 1;
    case EXEC_REVERSED:
        for (size_t t = tasks; t-- > 0;) run(job, t, workers - 1);
        return 1;
    case EXEC_TWO_THREADS: {
        odd_tasks o = {job, run, tasks};
        pthread_t helper;
        int started = pthread_create(&helper, NULL, run_odd_tasks, &o) == 0;
        if (!started) run_odd_tasks(&o); /* no thread to be had: the odd tasks here, still on slot 1 */
        for (size_t t = 0; t < tasks; t += 2) run(job, t, 0);
        if (started) pthread_join(helper, NULL);
        return 1;
    }
    case EXEC_NESTED:
        run(job, 0, 0);
        /* The setters refuse here, and change nothing; calls work with their own scratch. */
        if (fastfood_set_num_threads(threads == 3 ? 2 : 3) != FASTFOOD_ERROR_INVALID_ARGUMENT ||
            fastfood_get_num_threads() != threads || fastfood_last_error_message()[0] == '\0') FAIL();
        if (fastfood_set_executor(NULL, NULL) != FASTFOOD_ERROR_INVALID_ARGUMENT) FAIL();
        nested_calls();
        for (size_t t = 1; t < tasks; t++) run(job, t, 0);
        return 1;
    case EXEC_SKIP_LAST:
        for (size_t t = 0; t + 1 < tasks; t++) run(job, t, 0);
        return 1;
    case EXEC_TASK_TWICE:
        for (size_t t = 0; t < tasks; t++) run(job, t, 0);
        run(job, 0, 0);
        return 1;
    case EXEC_OUT_OF_RANGE:
        if (exec_calls & 1) run(job, tasks, 0); else run(job, 0, workers);
        for (size_t t = 0; t < tasks; t++) run(job, t, 0);
        return 1;
    case EXEC_DECLINE_AFTER_RUN:
        run(job, 0, 0);
        return 0;
    default:
        FAIL();
    }
}

/* Installs executor `mode` (-1: the library's pool). */
static void install_executor(int mode) {
    if (fastfood_set_executor(mode < 0 ? NULL : fuzz_executor, &exec_mode) != FASTFOOD_OK) FAIL();
    exec_mode = mode;
}

/* One compute op (codes 2, 3, 6, 7): its arguments, drawn once, so it can be run again. */
typedef struct {
    int code, f64, want_dx, want_dp;
    fastfood_layer *layer;
    const void *params, *x;
    size_t batch, ldx, ldy, ldo, ex, eo, n;
    uint32_t flags;
    double rates[3];
    uint64_t seed, step;
} compute_op;

/* Bitwise equal buffers, except that any NaN equals any NaN (payloads are not promised). */
static void same_bits(const void *a, const void *b, size_t bytes, int f64) {
    size_t element = f64 ? sizeof(double) : sizeof(float);
    for (size_t i = 0; i < bytes; i += element) {
        const unsigned char *p = (const unsigned char *)a + i, *q = (const unsigned char *)b + i;
        if (memcmp(p, q, element) == 0) continue;
        double u, v;
        if (f64) { memcpy(&u, p, sizeof u); memcpy(&v, q, sizeof v); }
        else { float uf, vf; memcpy(&uf, p, sizeof uf); memcpy(&vf, q, sizeof vf); u = uf; v = vf; }
        if (!(isnan(u) && isnan(v))) FAIL();
    }
}
static void check_same_bits(guarded a, guarded b, int f64) {
    if (a.bytes != b.bytes) FAIL();
    same_bits(body(a), body(b), a.bytes, f64);
}

/* Runs the op's calls into y, dx, dp (each made fresh by make()), recording their statuses;
 * returns how many. *broke is set when a call reached an executor that broke its contract: that
 * call must have failed with FASTFOOD_ERROR_INVALID_ARGUMENT and left dparams as they were. */
static int run_compute(const compute_op *op, guarded y, guarded dx, guarded dp, fastfood_status *statuses, int *broke) {
    const void *xp = op->batch ? op->x : NULL;
    void *yp = op->batch ? body(y) : NULL, *dxp = op->want_dx ? body(dx) : NULL, *dpp = op->want_dp ? body(dp) : NULL;
    /* dphi for the features: finite values in [-1, 1) (dphi = phi would make dy = c s - s c = 0). */
    guarded dphi = make(op->code == 7 ? op->eo : 0, op->f64 ? sizeof(double) : sizeof(float));
    for (size_t i = 0; op->code == 7 && i < op->eo; i++) {
        double v = (double)((i * 2246822519u) >> 8 & 0xffff) / 32768.0 - 1;
        if (op->f64) ((double *)body(dphi))[i] = v; else ((float *)body(dphi))[i] = (float)v;
    }
    const void *dphip = op->batch ? body(dphi) : NULL;
    unsigned char *dp_before = malloc(dp.bytes + 1), *dp_start = malloc(dp.bytes + 1);
    unsigned char *dx_start = malloc(dx.bytes + 1), *dx_recomputed = malloc(dx.bytes + 1);
    unsigned char *dp_recomputed = malloc(dp.bytes + 1);
    if (!dp_before || !dp_start || !dx_start || !dx_recomputed || !dp_recomputed) FAIL();
    int count = 0;
    fastfood_layer *layer = op->layer;
    const void *params = op->params;
    size_t batch = op->batch, ldx = op->ldx, ldy = op->ldy, ldo = op->ldo;
    uint32_t flags = op->flags;
    const double *rates = op->rates;
#define CALL(expr)                                                                                                     \
    do {                                                                                                               \
        unsigned long calls_before = exec_calls;                                                                       \
        if (exec_breaks_contract()) memcpy(dp_before, body(dp), dp.bytes); /* compared only then */                    \
        fastfood_status s_ = (expr);                                                                                   \
        check_status(s_);                                                                                              \
        if (exec_calls != calls_before && exec_breaks_contract()) {                                                    \
            if (s_ != FASTFOOD_ERROR_INVALID_ARGUMENT || memcmp(dp_before, body(dp), dp.bytes) != 0) FAIL();           \
            *broke = 1;                                                                                                \
        }                                                                                                              \
        statuses[count++] = s_;                                                                                        \
    } while (0)
    /* The same calls in either precision (the buffers are void *). */
#define FUZZ_CALLS(T)                                                                                                  \
    do {                                                                                                               \
        if (op->code == 2) CALL(fastfood_forward_##T(layer, params, batch, xp, ldx, yp, ldy));                         \
        if (op->code == 3) CALL(fastfood_backward_##T(layer, params, batch, xp, ldx, yp, ldy, dxp, ldx, dpp, flags));  \
        if (op->code == 6) {                                                                                           \
            CALL(fastfood_forward_train_##T(layer, params, batch, xp, ldx, yp, ldy, rates[0], rates[1], rates[2],      \
                                            op->seed, op->step));                                                      \
            CALL(fastfood_backward_train_##T(layer, params, batch, xp, ldx, yp, ldy, dxp, ldx, dpp, flags, rates[0],   \
                                             rates[1], rates[2], op->seed, op->step));                                 \
        }                                                                                                              \
        if (op->code == 7) { /* the two feature backwards from the same dx, dparams: the same bits (1.4.1) */     \
            CALL(fastfood_features_forward_##T(layer, params, batch, xp, ldx, yp, ldo));                               \
            memcpy(dx_start, body(dx), dx.bytes); /* ACCUMULATE adds to both */                                        \
            memcpy(dp_start, body(dp), dp.bytes);                                                                      \
            CALL(fastfood_features_backward_##T(layer, params, batch, xp, ldx, dphip, ldo, dxp, ldx, dpp, flags));     \
            memcpy(dx_recomputed, body(dx), dx.bytes);                                                                 \
            memcpy(dp_recomputed, body(dp), dp.bytes);                                                                 \
            memcpy(body(dx), dx_start, dx.bytes);                                                                      \
            memcpy(body(dp), dp_start, dp.bytes);                                                                      \
            CALL(fastfood_features_backward_from_phi_##T(layer, params, batch, xp, ldx, yp, ldo, dphip, ldo, dxp, ldx, \
                                                         dpp, flags));                                                 \
            if (statuses[count - 2] == FASTFOOD_OK && statuses[count - 1] == FASTFOOD_OK) {                            \
                same_bits(dx_recomputed, body(dx), dx.bytes, op->f64);                                                 \
                same_bits(dp_recomputed, body(dp), dp.bytes, op->f64);                                                 \
            }                                                                                                          \
        }                                                                                                              \
    } while (0)
    if (op->f64) FUZZ_CALLS(f64); else FUZZ_CALLS(f32);
#undef FUZZ_CALLS
#undef CALL
    free(dp_before); free(dp_start); free(dx_start); free(dx_recomputed); free(dp_recomputed);
    release(dphi);
    return count;
}

/* Runs the op; unless an executor broke its contract, again on one thread without an executor,
 * which must give the same statuses and bits (the header: results do not depend on the thread
 * count or on who ran which task). */
static void fuzz_compute(const compute_op *op) {
    size_t element = op->f64 ? sizeof(double) : sizeof(float);
    guarded y = make(op->eo, element), dx = make(op->ex, element), dp = make(op->n, element);
    fastfood_status statuses[3], again[3];
    int broke = 0;
    int count = run_compute(op, y, dx, dp, statuses, &broke);
    size_t threads = fastfood_get_num_threads();
    if (!broke && (threads > 1 || exec_mode >= 0)) {
        int mode = exec_mode;
        install_executor(-1);
        if (fastfood_set_num_threads(1) != FASTFOOD_OK) FAIL();
        guarded y1 = make(op->eo, element), dx1 = make(op->ex, element), dp1 = make(op->n, element);
        if (run_compute(op, y1, dx1, dp1, again, &broke) != count || broke) FAIL();
        for (int i = 0; i < count; i++)
            if (again[i] != statuses[i]) FAIL();
        check_same_bits(y, y1, op->f64);
        check_same_bits(dx, dx1, op->f64);
        check_same_bits(dp, dp1, op->f64);
        release(y1); release(dx1); release(dp1);
        if (fastfood_set_num_threads(threads) != FASTFOOD_OK) FAIL();
        install_executor(mode);
    }
    release(y); release(dx); release(dp);
}

/* ---- Buffers that share memory (op 10; the header's BATCHES, since 1.4). ----
 *
 * One call whose arguments all lie in one arena, at fuzzed offsets and strides: outputs may
 * overlap inputs or each other, exactly or in part, or interleave with them row by row. An oracle
 * of its own (which arena elements each argument's rows cover) says what the header allows: no
 * output shares an element with an input or another output, except an output that is exactly an
 * input's rows where documented (y == x; dx == dy, dphi, x or phi: the same offset and, for more
 * than one row, the same stride). Allowed, the call must give the status and the bits of the same
 * call on separate copies (outputs starting from the arena's contents: ACCUMULATE adds to them)
 * and change no other element of the arena; refused, FASTFOOD_ERROR_INVALID_ARGUMENT with the
 * arena untouched. */
enum { R_PARAMS, R_X, R_DY, R_PHI, R_Y, R_DX, R_DP, ROLES }; /* R_DY: dy or dphi (inputs); R_Y: y or phi out */
enum { A_FORWARD, A_FORWARD_TRAIN, A_FEATURES, A_BACKWARD, A_BACKWARD_TRAIN, A_FEATURES_BACKWARD, A_FROM_PHI, A_KINDS };

typedef struct {
    int used, output;
    size_t offset, rows, width, stride; /* in elements */
} role;

static size_t role_extent(const role *q) { return (q->rows - 1) * q->stride + q->width; }

/* Whether output o may share elements with role q: only by being exactly its rows, and only where
 * the header allows that pair. */
static int exact_allowed(int o, int q) {
    return (o == R_Y && q == R_X) || (o == R_DX && (q == R_X || q == R_DY || q == R_PHI));
}

/* The oracle: 1 when the header allows the layout. */
static int layout_allowed(const role *roles, size_t arena) {
    uint8_t *cover = calloc(arena ? arena : 1, 1); /* bit q: role q's rows cover the element */
    if (!cover) FAIL();
    for (int q = 0; q < ROLES; q++) {
        if (!roles[q].used) continue;
        for (size_t r = 0; r < roles[q].rows; r++)
            for (size_t i = 0; i < roles[q].width; i++)
                cover[roles[q].offset + r * roles[q].stride + i] |= (uint8_t)(1u << q);
    }
    int shares[ROLES][ROLES] = {{0}};
    for (size_t e = 0; e < arena; e++)
        for (int o = 0; o < ROLES; o++)
            if (roles[o].output && (cover[e] >> o & 1))
                for (int q = 0; q < ROLES; q++) shares[o][q] |= q != o && (cover[e] >> q & 1);
    free(cover);
    for (int o = 0; o < ROLES; o++)
        for (int q = 0; q < ROLES; q++) {
            if (!shares[o][q]) continue;
            int exact = roles[o].offset == roles[q].offset &&
                        (roles[o].rows == 1 || roles[o].stride == roles[q].stride);
            if (!(exact && exact_allowed(o, q))) return 0;
        }
    return 1;
}

/* The call of kind `kind` with the roles at base[role]. */
static fastfood_status aliased_call(int kind, int f64, fastfood_layer *layer, size_t batch, const role *roles,
                                    void *const *base, uint32_t flags, const double *rates, uint64_t seed) {
    void *dx = roles[R_DX].used ? base[R_DX] : NULL, *dp = roles[R_DP].used ? base[R_DP] : NULL;
    const void *x = roles[R_X].used ? base[R_X] : NULL;
    size_t ldx = roles[R_X].stride, ldy = roles[R_Y].stride, lddy = roles[R_DY].stride, ldphi = roles[R_PHI].stride,
           lddx = roles[R_DX].stride;
#define ALIASED_CALL(T, E)                                                                                             \
    switch (kind) {                                                                                                    \
    case A_FORWARD: return fastfood_forward_##T(layer, base[R_PARAMS], batch, x, ldx, base[R_Y], ldy);                 \
    case A_FORWARD_TRAIN:                                                                                              \
        return fastfood_forward_train_##T(layer, base[R_PARAMS], batch, x, ldx, base[R_Y], ldy, rates[0], rates[1],   \
                                          rates[2], seed, 3);                                                          \
    case A_FEATURES: return fastfood_features_forward_##T(layer, base[R_PARAMS], batch, x, ldx, base[R_Y], ldy);       \
    case A_BACKWARD:                                                                                                   \
        return fastfood_backward_##T(layer, base[R_PARAMS], batch, x, ldx, base[R_DY], lddy, dx, lddx, dp, flags);     \
    case A_BACKWARD_TRAIN:                                                                                             \
        return fastfood_backward_train_##T(layer, base[R_PARAMS], batch, x, ldx, base[R_DY], lddy, dx, lddx, dp,       \
                                           flags, rates[0], rates[1], rates[2], seed, 3);                              \
    case A_FEATURES_BACKWARD:                                                                                          \
        return fastfood_features_backward_##T(layer, base[R_PARAMS], batch, x, ldx, base[R_DY], lddy, dx, lddx, dp,    \
                                              flags);                                                                  \
    default:                                                                                                           \
        return fastfood_features_backward_from_phi_##T(layer, base[R_PARAMS], batch, x, ldx, base[R_PHI], ldphi,      \
                                                       base[R_DY], lddy, dx, lddx, dp, flags);                        \
    }
    if (f64) { ALIASED_CALL(f64, double) } else { ALIASED_CALL(f32, float) }
#undef ALIASED_CALL
}

static void fuzz_aliased(reader *r, fastfood_layer *layer, int f64) {
    size_t element = f64 ? sizeof(double) : sizeof(float);
    size_t in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer);
    size_t n = fastfood_layer_param_count(layer);
    int kind = (int)(take(r, 1) % A_KINDS);
    size_t batch = 1 + (size_t)take(r, 1) % 9;
    int backward = kind >= A_BACKWARD, features = kind == A_FEATURES || kind >= A_FEATURES_BACKWARD;
    size_t width_y = features ? 2 * out : out;
    role roles[ROLES] = {{0}};
    roles[R_PARAMS] = (role){1, 0, 0, 1, n, n};
    if (backward) {
        int want_dx = (int)(take(r, 1) & 1), want_dp = (int)(take(r, 1) & 1) || !want_dx;
        roles[R_DY] = (role){1, 0, 0, batch, width_y, width_y};
        /* x is read for dparams, and always by the features backward */
        roles[R_X] = (role){want_dp || kind == A_FEATURES_BACKWARD, 0, 0, batch, in, in};
        if (kind == A_FROM_PHI) roles[R_PHI] = (role){1, 0, 0, batch, width_y, width_y};
        roles[R_DX] = (role){want_dx, 1, 0, batch, in, in};
        roles[R_DP] = (role){want_dp, 1, 0, 1, n, n};
    } else {
        roles[R_X] = (role){1, 0, 0, batch, in, in};
        roles[R_Y] = (role){1, 1, 0, batch, width_y, width_y};
    }
    /* Layout: 0 apart, 1 a shared row stride with small offsets (rows interleave or collide),
     * 2 anywhere, 3 the outputs exactly on inputs where they can be. */
    int layout = (int)(take(r, 1) % 4);
    size_t common = in + width_y + (size_t)take(r, 1) % 8, arena = 0;
    for (int q = 0; q < ROLES; q++) { /* matrices' strides */
        role *p = &roles[q];
        if (!p->used || q == R_PARAMS || q == R_DP) continue;
        p->stride = layout == 1 ? (common > p->width ? common : p->width) : p->width + (size_t)take(r, 1) % 4;
    }
    for (int q = 0; q < ROLES; q++) arena += roles[q].used ? role_extent(&roles[q]) + 8 : 0;
    /* Layout 1 puts the vectors (params, dparams) after the interleaved rows. */
    size_t next = layout == 1 ? batch * common + 8 : 0;
    for (int q = 0; q < ROLES; q++) {
        role *p = &roles[q];
        if (!p->used) continue;
        int vector = q == R_PARAMS || q == R_DP;
        int target = -1; /* layout 3: the input this output goes exactly on */
        if (q == R_Y) target = R_X;
        if (q == R_DX) target = take(r, 1) % 3 == 0 ? R_X : kind == A_FROM_PHI && (take(r, 1) & 1) ? R_PHI : R_DY;
        if (layout == 2) {
            p->offset = (size_t)take(r, 4) % (arena - role_extent(p) + 1);
        } else if (layout == 1 && !vector) {
            p->offset = (size_t)take(r, 2) % (common + 1);
        } else if (layout == 3 && target >= 0 && roles[target].used) { /* target < q: placed already */
            p->offset = roles[target].offset;
            if (roles[target].stride >= p->width && take(r, 1) % 8) p->stride = roles[target].stride;
        } else {
            p->offset = next;
            next += role_extent(p) + (size_t)take(r, 1) % 8;
        }
    }
    arena = 0;
    for (int q = 0; q < ROLES; q++) {
        size_t end = roles[q].offset + role_extent(&roles[q]);
        if (roles[q].used && end > arena) arena = end;
    }
    uint32_t flags = (uint32_t)take(r, 1) & 15; /* ACCUMULATE and the skip flags */
    double rates[3];
    for (int i = 0; i < 3; i++) rates[i] = (double)(take(r, 1) % 200) / 300.0;
    uint64_t seed = take(r, 2);

    /* The arena, filled with small numbers (exact in both precisions). */
    guarded mem = make(arena, element);
    for (size_t e = 0; e < arena; e++) {
        double v = (double)((int)((e * 37 + 11) % 29) - 14) / 16.0;
        if (f64) ((double *)body(mem))[e] = v; else ((float *)body(mem))[e] = (float)v;
    }
    unsigned char *before = malloc(arena * element + 1);
    if (!before) FAIL();
    memcpy(before, body(mem), arena * element);

    /* The reference: each argument's extent copied to a buffer of its own. */
    guarded copies[ROLES];
    void *apart[ROLES] = {0}, *inside[ROLES] = {0};
    for (int q = 0; q < ROLES; q++) {
        if (!roles[q].used) continue;
        copies[q] = make(role_extent(&roles[q]), element);
        memcpy(body(copies[q]), before + roles[q].offset * element, role_extent(&roles[q]) * element);
        apart[q] = body(copies[q]);
        inside[q] = (unsigned char *)body(mem) + roles[q].offset * element;
    }
    /* A contract-breaking executor may leave outputs half written: these calls use the pool. */
    int mode = exec_mode;
    if (exec_breaks_contract()) install_executor(-1);
    fastfood_status reference = aliased_call(kind, f64, layer, batch, roles, apart, flags, rates, seed);
    check_status(reference);
    fastfood_status status = aliased_call(kind, f64, layer, batch, roles, inside, flags, rates, seed);
    check_status(status);
    install_executor(mode);

    guarded want = make(arena, element); /* the arena as it must be now */
    unsigned char *expected = body(want);
    memcpy(expected, before, arena * element);
    if (!layout_allowed(roles, arena)) {
        if (status == FASTFOOD_OK || (reference == FASTFOOD_OK && status != FASTFOOD_ERROR_INVALID_ARGUMENT)) FAIL();
    } else {
        if (status != reference) FAIL();
        if (status == FASTFOOD_OK)
            for (int q = 0; q < ROLES; q++) /* the outputs' rows as the reference wrote them */
                if (roles[q].used && roles[q].output)
                    for (size_t row = 0; row < roles[q].rows; row++)
                        memcpy(expected + (roles[q].offset + row * roles[q].stride) * element,
                               (unsigned char *)body(copies[q]) + row * roles[q].stride * element,
                               roles[q].width * element);
    }
    check_same_bits(mem, want, f64);
    release(want);
    for (int q = 0; q < ROLES; q++)
        if (roles[q].used) release(copies[q]);
    release(mem);
    free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size, 0};
    /* Every input starts from the defaults: one thread per CPU, the library's pool. */
    install_executor(-1);
    exec_calls = 0; /* EXEC_OUT_OF_RANGE alternates on it: the same input, the same run */
    if (fastfood_set_num_threads(0) != FASTFOOD_OK) FAIL();
    nest_setup();
    fastfood_layer *layer = NULL;
    for (int op = 0; op < 12 && r.at < r.size; op++) {
        uint8_t code = (uint8_t)take(&r, 1) % 11;
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
        size_t batch = take_size(&r, 40), ldx = in + take_size(&r, 4), ldy = out + take_size(&r, 4);
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
            compute_op op = {.code = code, .f64 = f64, .layer = layer, .params = body(params), .batch = batch,
                             .ldx = ldx, .ldy = ldy, .ex = ex, .n = n};
            size_t width_y = code == 7 ? 2 * out : out;
            op.ldo = code == 7 ? 2 * out + (ldy - out) : ldy;
            op.eo = extent(batch, width_y, op.ldo);
            if (batch && !op.eo) break;
            guarded x = make(ex, element);
            op.x = body(x);
            uint8_t fill = code == 7 ? (uint8_t)take(&r, 1) : 255;
            if (fill < 200) {
                /* Finite inputs |x| < 2^(fill % 24 - 8) (the byte pattern's are mostly huge, so most
                 * results would be NaN and compare equal whatever the bits): z on both sides of the
                 * polynomials' range, so the feature backwards' equality means something. */
                double s = ldexp(1, fill % 24 - 8);
                for (size_t i = 0; i < ex; i++) {
                    double v = ((double)((i * 2654435761u) >> 8 & 0xffff) / 32768.0 - 1) * s;
                    if (f64) ((double *)body(x))[i] = v; else ((float *)body(x))[i] = (float)v;
                }
            }
            uint32_t flags = (uint32_t)take(&r, 1);
            op.flags = flags > 250 ? (uint32_t)take(&r, 4) : flags & 15;
            op.want_dx = (int)(take(&r, 1) & 1);
            op.want_dp = (int)(take(&r, 1) & 1);
            for (int i = 0; i < 3; i++)
                op.rates[i] = (uint8_t)take(&r, 1) > 250 ? take_double(&r) : (double)take(&r, 1) / 300.0;
            op.seed = take(&r, 2);
            op.step = take(&r, 2);
            fuzz_compute(&op);
            release(x);
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
        case 10: /* buffers that share memory */
            fuzz_aliased(&r, layer, f64);
            break;
        case 5: { /* threads, and sometimes an executor (or the pool again) */
            check_status(fastfood_set_num_threads(take_size(&r, 4)));
            if (fastfood_get_num_threads() < 1) FAIL();
            uint8_t choice = (uint8_t)take(&r, 1);
            if (choice >= 128) install_executor((int)(choice % (EXEC_MODES + 1)) - 1);
            break;
        }
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
