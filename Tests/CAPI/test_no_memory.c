/*
 * test_no_memory.c - the library when memory runs out: every call returns a status with a
 * message, never crashes, never aborts, never prints.
 *
 * This program defines the allocator (malloc, calloc, realloc, posix_memalign, ...), so every
 * allocation in the process comes through here. Armed with a budget N, the first N allocations
 * succeed and every later one fails. Each scenario (a call, valid or not) is warmed up once
 * unarmed (so the Swift runtime's one-time metadata exists, as in any process that used the
 * library), then run with N = 0, 1, 2, ... until it succeeds: each run must give the call's
 * documented result, FASTFOOD_ERROR_OUT_OF_MEMORY (or, for file calls, the I/O error a failing
 * allocation inside the C library causes) with a non-empty message, and leave the library usable.
 * A crash ends the program: the test fails. The calls the header's MEMORY section says allocate
 * nothing, and calls refused for their arguments, must succeed with no allocation at all.
 * Between them the scenarios call all 49 exported functions armed, float and double alike
 * (and fastfood_last_error_message reads each call's message, unarmed).
 *
 * First use (since 1.4.2): each scenario again in a fresh process (this program run with
 * --first), where it is the first call after creating the layers, armed with N = 0, 1, 2, ...
 * until it succeeds: the one-time state (the worker pool, the kernel table, the thread-count
 * default) is set up under the same conditions. Before 1.4.2 such a first call died in the Swift
 * runtime (an array's type metadata, the pool's class instance) for budgets up to 36.
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int armed;
static atomic_long budget;

/* Refuses allocations once armed and the budget is spent. */
static int malloc_hook(void) {
    if (!atomic_load(&armed)) return 1;
    return atomic_fetch_sub(&budget, 1) > 0;
}
#include "malloc_hooks.h"

#include "check.h"

enum { IN = 100, OUT = 300, BIG_IN = 1000, BIG_OUT = 3000 };
/* Scenarios run on `layer`: `small` for the warm-up, then `big`, whose larger scratch every
 * compute call must first allocate. */
static fastfood_layer *layer, *small, *big;
static float *params, *x, *y, *dx, *dparams, *phi;
static double *params64, *x64, *y64, *dx64, *dparams64, *phi64; /* for the double calls */
static size_t *perm;                                            /* the big layer's permutations */
static unsigned char *image, *image64;                          /* the small layer saved, float and double */
static size_t image_size, image64_size, param_count;
static char path[64] = "/tmp/fastfood_no_memory_XXXXXX";
static char path64[72]; /* path with "-f64" appended: the small layer saved in doubles */

/* One scenario: a call; returns its status. `batch` grows so the thread's scratch must grow. */
typedef fastfood_status (*scenario)(size_t batch);

static fastfood_status create_valid(size_t batch) {
    fastfood_layer *l = NULL;
    fastfood_status s = fastfood_layer_create(10 + batch, 10, 1, FASTFOOD_LAYER_BIAS, &l);
    fastfood_layer_destroy(l);
    return s;
}
static fastfood_status create_invalid(size_t batch) {
    (void)batch;
    fastfood_layer *l = NULL;
    return fastfood_layer_create(0, 10, 1, 0, &l);
}
static fastfood_status create_bad_flags(size_t batch) {
    (void)batch;
    fastfood_layer *l = NULL;
    return fastfood_layer_create(10, 10, 1, 0x40000000u, &l);
}
static fastfood_status backward_bad_flags(size_t batch) {
    return fastfood_backward_f32(layer, params, batch, x, BIG_IN, y, BIG_OUT, dx, BIG_IN, dparams, 0xabcdef00u);
}
static fastfood_status forward_bad_stride(size_t batch) { return fastfood_forward_f32(layer, params, batch, x, 5, y, BIG_OUT); }
static fastfood_status forward(size_t batch) { return fastfood_forward_f32(layer, params, batch, x, BIG_IN, y, BIG_OUT); }
static fastfood_status forward_in_place(size_t batch) { return fastfood_forward_f32(layer, params, batch, y, BIG_OUT, y, BIG_OUT); }
static fastfood_status backward(size_t batch) {
    return fastfood_backward_f32(layer, params, batch, x, BIG_IN, y, BIG_OUT, dx, BIG_IN, dparams, 0);
}
static fastfood_status train(size_t batch) {
    return fastfood_forward_train_f32(layer, params, batch, x, BIG_IN, y, BIG_OUT, 0.1, 0.1, 0.1, 1, 2);
}
static fastfood_status train_backward(size_t batch) {
    return fastfood_backward_train_f32(layer, params, batch, x, BIG_IN, y, BIG_OUT, dx, BIG_IN, dparams, 0, 0.1, 0.1,
                                       0.1, 1, 2);
}
static fastfood_status features(size_t batch) { return fastfood_features_forward_f32(layer, params, batch, x, BIG_IN, phi, 2 * BIG_OUT); }
static fastfood_status features_backward(size_t batch) {
    return fastfood_features_backward_f32(layer, params, batch, x, BIG_IN, phi, 2 * BIG_OUT, dx, BIG_IN, dparams, 0);
}
static fastfood_status features_backward_from_phi(size_t batch) {
    return fastfood_features_backward_from_phi_f32(layer, params, batch, x, BIG_IN, phi, 2 * BIG_OUT, phi, 2 * BIG_OUT, dx,
                                                   BIG_IN, dparams, 0);
}
static fastfood_status init(size_t batch) { return fastfood_init_params_preset_f32(layer, FASTFOOD_INIT_VARIANCE, batch, 1.0, params); }
static fastfood_status init_sigma(size_t batch) { return fastfood_init_params_f32(layer, batch, 0.5, params); }
static fastfood_status init_bad(size_t batch) { (void)batch; return fastfood_init_params_f32(layer, 1, -1.0, params); }
/* Refused after the values are computed: S would overflow float (the message names the value). */
static fastfood_status init_unrepresentable(size_t batch) { return fastfood_init_params_f32(layer, batch, 1e-300, params); }
static fastfood_status save(size_t batch) { (void)batch; return fastfood_save_f32(small, params, image, image_size); }
static fastfood_status save_file(size_t batch) { (void)batch; return fastfood_save_file_f32(small, params, path); }
static fastfood_status info_garbage(size_t batch) {
    unsigned char garbage[100];
    memset(garbage, (int)batch, sizeof garbage);
    return fastfood_load_info(garbage, sizeof garbage, NULL, NULL, NULL, NULL, NULL, NULL);
}
static fastfood_status info(size_t batch) { (void)batch; return fastfood_load_info(image, image_size, NULL, NULL, NULL, NULL, NULL, NULL); }
/* The small layer loaded from its float or double image, in memory or in its file; the layer
 * made (if any) destroyed. */
enum load_source { FLOAT_IMAGE, FLOAT_FILE, DOUBLE_IMAGE, DOUBLE_FILE };
static fastfood_status load_from(enum load_source source) {
    fastfood_layer *l = NULL;
    fastfood_status s = source == FLOAT_IMAGE  ? fastfood_load_f32(image, image_size, &l, dparams, param_count)
                      : source == FLOAT_FILE   ? fastfood_load_file_f32(path, &l, dparams, param_count)
                      : source == DOUBLE_IMAGE ? fastfood_load_f64(image64, image64_size, &l, dparams64, param_count)
                                               : fastfood_load_file_f64(path64, &l, dparams64, param_count);
    fastfood_layer_destroy(l);
    return s;
}
static fastfood_status load(size_t batch) { (void)batch; return load_from(FLOAT_IMAGE); }
static fastfood_status load_file(size_t batch) { (void)batch; return load_from(FLOAT_FILE); }
static fastfood_status threads(size_t batch) {
    fastfood_status s = fastfood_set_num_threads(2);
    if (s == FASTFOOD_OK) s = fastfood_forward_f32(layer, params, batch, x, BIG_IN, y, BIG_OUT);
    fastfood_set_num_threads(1);
    return s;
}

/* Two calls without a status: a thread count of at least 1, a variant name. */
static fastfood_status thread_count(size_t batch) {
    (void)batch;
    return fastfood_get_num_threads() >= 1 ? FASTFOOD_OK : FASTFOOD_ERROR_INVALID_ARGUMENT;
}
static fastfood_status cpu_variant(size_t batch) {
    (void)batch;
    const char *name = fastfood_cpu_variant();
    return name && name[0] ? FASTFOOD_OK : FASTFOOD_ERROR_INVALID_ARGUMENT;
}

static fastfood_status forward64(size_t batch) { return fastfood_forward_f64(layer, params64, batch, x64, BIG_IN, y64, BIG_OUT); }
static fastfood_status backward64(size_t batch) {
    return fastfood_backward_f64(layer, params64, batch, x64, BIG_IN, y64, BIG_OUT, dx64, BIG_IN, dparams64, 0);
}
static fastfood_status fwht(size_t batch) { return fastfood_fwht_f32(x, 512, batch, 512); } /* batch vectors of 512 fit in x (BIG_IN floats a row) */
static fastfood_status no_executor(size_t batch) {
    (void)batch;
    return fastfood_set_executor(NULL, NULL);
}
static int serial_executor(void *context, void *job, fastfood_task_function run, size_t tasks, size_t workers) {
    (void)context;
    for (size_t t = 0; t < tasks; t++) run(job, t, t % workers);
    return 1;
}
/* Installing an executor and removing it, then a thread count set and set back. */
static fastfood_status executor_and_count(size_t batch) {
    (void)batch;
    fastfood_status s = fastfood_set_executor(serial_executor, NULL);
    if (s == FASTFOOD_OK) s = fastfood_set_executor(NULL, NULL);
    if (s == FASTFOOD_OK) s = fastfood_set_num_threads(3);
    if (s == FASTFOOD_OK) s = fastfood_set_num_threads(1);
    return s;
}
static fastfood_status train64(size_t batch) {
    return fastfood_forward_train_f64(layer, params64, batch, x64, BIG_IN, y64, BIG_OUT, 0.1, 0.1, 0.1, 1, 2);
}
static fastfood_status train_backward64(size_t batch) {
    return fastfood_backward_train_f64(layer, params64, batch, x64, BIG_IN, y64, BIG_OUT, dx64, BIG_IN, dparams64, 0,
                                       0.1, 0.1, 0.1, 1, 2);
}
static fastfood_status features64(size_t batch) {
    return fastfood_features_forward_f64(layer, params64, batch, x64, BIG_IN, phi64, 2 * BIG_OUT);
}
static fastfood_status features_backward64(size_t batch) {
    return fastfood_features_backward_f64(layer, params64, batch, x64, BIG_IN, phi64, 2 * BIG_OUT, dx64, BIG_IN,
                                          dparams64, 0);
}
static fastfood_status features_backward_from_phi64(size_t batch) {
    return fastfood_features_backward_from_phi_f64(layer, params64, batch, x64, BIG_IN, phi64, 2 * BIG_OUT, phi64,
                                                   2 * BIG_OUT, dx64, BIG_IN, dparams64, 0);
}
static fastfood_status fwht64(size_t batch) { return fastfood_fwht_f64(x64, 512, batch, 512); }
static fastfood_status init64(size_t batch) {
    return fastfood_init_params_preset_f64(layer, FASTFOOD_INIT_NEAR_IDENTITY, batch, 0.5, params64);
}
static fastfood_status init_sigma64(size_t batch) { return fastfood_init_params_f64(layer, batch, 0.5, params64); }
static fastfood_status save64(size_t batch) { (void)batch; return fastfood_save_f64(small, params64, image64, image64_size); }
static fastfood_status save_file64(size_t batch) { (void)batch; return fastfood_save_file_f64(small, params64, path64); }
static fastfood_status load64(size_t batch) { (void)batch; return load_from(DOUBLE_IMAGE); }
static fastfood_status load_file64(size_t batch) { (void)batch; return load_from(DOUBLE_FILE); }
static fastfood_status file_info(size_t batch) {
    (void)batch;
    uint32_t type = 0;
    fastfood_status s = fastfood_load_file_info(path64, NULL, NULL, NULL, NULL, &type, NULL);
    return s == FASTFOOD_OK && type != FASTFOOD_TYPE_F64 ? FASTFOOD_ERROR_BAD_FORMAT : s;
}
static fastfood_status permutation(size_t batch) { (void)batch; return fastfood_layer_permutation(layer, perm); }

/* The layer's sizes, flags and seed, its saved size, the version, a status's name, the thread's
 * message (calls that cannot fail, and fastfood_save_size). */
static fastfood_status queries(size_t batch) {
    (void)batch;
    size_t d = fastfood_layer_block_size(layer), k = fastfood_layer_num_blocks(layer), bytes = 0;
    int sane = fastfood_layer_in_features(layer) <= d && fastfood_layer_out_features(layer) <= k * d &&
               fastfood_layer_param_count(layer) == 3 * k * d + fastfood_layer_out_features(layer) &&
               fastfood_save_size(layer, FASTFOOD_TYPE_F64, &bytes) == FASTFOOD_OK &&
               bytes > fastfood_layer_param_count(layer) * sizeof(double) &&
               fastfood_layer_flags(layer) == (FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED) &&
               fastfood_layer_seed(layer) == 3 && fastfood_version_number() == FASTFOOD_VERSION_NUMBER &&
               strcmp(fastfood_version_string(), FASTFOOD_VERSION_STRING) == 0 &&
               fastfood_status_string(FASTFOOD_ERROR_OUT_OF_MEMORY)[0] != 0 && fastfood_last_error_message() != NULL;
    return sane ? FASTFOOD_OK : FASTFOOD_ERROR_INVALID_ARGUMENT;
}

static const struct {
    const char *name;
    scenario call;
    fastfood_status expected; /* the result with memory enough */
    int may_fail_io;          /* a C library call inside may fail with ENOMEM: an I/O error */
    int allocates_nothing;    /* documented to allocate nothing (the header's MEMORY; a refused call) */
} scenarios[] = {
    {"layer_create", create_valid, FASTFOOD_OK, 0, 0},
    {"layer_create (in 0)", create_invalid, FASTFOOD_ERROR_INVALID_ARGUMENT, 0, 1},
    {"forward (bad stride)", forward_bad_stride, FASTFOOD_ERROR_INVALID_ARGUMENT, 0, 1},
    {"layer_create (unknown flag)", create_bad_flags, FASTFOOD_ERROR_INVALID_ARGUMENT, 0, 1},
    {"backward (unknown flags)", backward_bad_flags, FASTFOOD_ERROR_INVALID_ARGUMENT, 0, 1},
    {"forward", forward, FASTFOOD_OK, 0, 0},
    {"forward in place", forward_in_place, FASTFOOD_OK, 0, 0},
    {"backward", backward, FASTFOOD_OK, 0, 0},
    {"forward (double)", forward64, FASTFOOD_OK, 0, 0},
    {"backward (double)", backward64, FASTFOOD_OK, 0, 0},
    {"forward_train", train, FASTFOOD_OK, 0, 0},
    {"backward_train", train_backward, FASTFOOD_OK, 0, 0},
    {"features_forward", features, FASTFOOD_OK, 0, 0},
    {"features_backward", features_backward, FASTFOOD_OK, 0, 0},
    {"features_backward_from_phi", features_backward_from_phi, FASTFOOD_OK, 0, 0},
    {"init_params_preset", init, FASTFOOD_OK, 0, 1},
    {"init_params", init_sigma, FASTFOOD_OK, 0, 1},
    {"init_params (bad sigma)", init_bad, FASTFOOD_ERROR_INVALID_ARGUMENT, 0, 1},
    {"init_params (inf S)", init_unrepresentable, FASTFOOD_ERROR_INVALID_ARGUMENT, 0, 1},
    {"save", save, FASTFOOD_OK, 0, 1},
    {"save_file", save_file, FASTFOOD_OK, 1, 0},
    {"load_info (garbage)", info_garbage, FASTFOOD_ERROR_BAD_FORMAT, 0, 1},
    {"load_info", info, FASTFOOD_OK, 0, 0},
    {"load", load, FASTFOOD_OK, 0, 0},
    {"load_file", load_file, FASTFOOD_OK, 1, 0},
    {"two threads", threads, FASTFOOD_OK, 0, 0},
    {"get_num_threads", thread_count, FASTFOOD_OK, 0, 1},
    {"cpu_variant", cpu_variant, FASTFOOD_OK, 0, 1},
    {"fwht", fwht, FASTFOOD_OK, 0, 1},
    {"set_executor (NULL)", no_executor, FASTFOOD_OK, 0, 1},
    {"set_executor, set_num_threads", executor_and_count, FASTFOOD_OK, 0, 1},
    {"forward_train (double)", train64, FASTFOOD_OK, 0, 0},
    {"backward_train (double)", train_backward64, FASTFOOD_OK, 0, 0},
    {"features_forward (double)", features64, FASTFOOD_OK, 0, 0},
    {"features_backward (double)", features_backward64, FASTFOOD_OK, 0, 0},
    {"features_from_phi (double)", features_backward_from_phi64, FASTFOOD_OK, 0, 0},
    {"fwht (double)", fwht64, FASTFOOD_OK, 0, 1},
    {"init_params_preset (double)", init64, FASTFOOD_OK, 0, 1},
    {"init_params (double)", init_sigma64, FASTFOOD_OK, 0, 1},
    {"save (double)", save64, FASTFOOD_OK, 0, 1},
    {"save_file (double)", save_file64, FASTFOOD_OK, 1, 0},
    {"load (double)", load64, FASTFOOD_OK, 0, 0},
    {"load_file (double)", load_file64, FASTFOOD_OK, 1, 0},
    {"load_file_info", file_info, FASTFOOD_OK, 1, 0},
    {"layer_permutation", permutation, FASTFOOD_OK, 0, 1},
    {"sizes, version, names", queries, FASTFOOD_OK, 0, 1},
};

/* The layers, buffers for `rows` rows of the big one (parameters 0.5 and 0.25, set without a
 * library call) and saved images of the small one (float and double); 0 if any of it fails. */
static int set_up(size_t rows) {
    if (fastfood_layer_create(IN, OUT, 3, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED, &small) != FASTFOOD_OK ||
        fastfood_layer_create(BIG_IN, BIG_OUT, 3, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED, &big) != FASTFOOD_OK)
        return 0;
    param_count = fastfood_layer_param_count(small);
    size_t count = fastfood_layer_param_count(big);
    params = malloc(count * sizeof *params);
    dparams = malloc(count * sizeof *dparams);
    x = calloc(rows * BIG_IN, sizeof *x);
    y = calloc(rows * 2 * BIG_OUT, sizeof *y);
    phi = calloc(rows * 2 * BIG_OUT, sizeof *phi);
    dx = calloc(rows * BIG_IN, sizeof *dx);
    params64 = malloc(count * sizeof *params64);
    dparams64 = malloc(count * sizeof *dparams64);
    x64 = calloc(rows * BIG_IN, sizeof *x64);
    y64 = calloc(rows * BIG_OUT, sizeof *y64);
    dx64 = calloc(rows * BIG_IN, sizeof *dx64);
    phi64 = calloc(rows * 2 * BIG_OUT, sizeof *phi64);
    perm = malloc(fastfood_layer_num_blocks(big) * fastfood_layer_block_size(big) * sizeof *perm);
    if (!params || !dparams || !x || !y || !dx || !phi || !params64 || !dparams64 || !x64 || !y64 || !dx64 || !phi64 ||
        !perm)
        return 0;
    for (size_t i = 0; i < count; i++) params[i] = 0.5f, params64[i] = 0.25;
    snprintf(path64, sizeof path64, "%s-f64", path);
    return fastfood_save_size(small, FASTFOOD_TYPE_F32, &image_size) == FASTFOOD_OK && (image = malloc(image_size)) &&
           fastfood_save_f32(small, params, image, image_size) == FASTFOOD_OK &&
           fastfood_save_size(small, FASTFOOD_TYPE_F64, &image64_size) == FASTFOOD_OK &&
           (image64 = malloc(image64_size)) && fastfood_save_f64(small, params64, image64, image64_size) == FASTFOOD_OK;
}

/* Scenario S with N allocations allowed: 0 for its documented result, 10 for a clean failure (out
 * of memory, or the I/O error of a file call, with the call's message), 1 (printed) otherwise. */
static int armed_call(size_t s, long n, size_t batch) {
    atomic_store(&budget, n);
    atomic_store(&armed, 1);
    fastfood_status st = scenarios[s].call(batch);
    atomic_store(&armed, 0);
    const char *message = fastfood_last_error_message();
    if (st == scenarios[s].expected) return 0;
    if (st == FASTFOOD_ERROR_OUT_OF_MEMORY || (scenarios[s].may_fail_io && st == FASTFOOD_ERROR_IO)) {
        if (message[0] != 0 && strstr(message, "fastfood_") == message) return 10;
        printf("FAIL %s with %ld allocations: status %d, message \"%s\"\n", scenarios[s].name, n, st, message);
        return 1;
    }
    printf("FAIL %s with %ld allocations: status %d (%s)\n", scenarios[s].name, n, st, message);
    return 1;
}

/* --first S N: scenario S as the first call of this process, with N allocations; then, unarmed,
 * once more (the library must still work). Exit status as armed_call's. */
static int first_use(size_t s, long n) {
    enum { BATCH = 8 };
    if (!set_up(BATCH) || fastfood_save_file_f32(small, params, path) != FASTFOOD_OK ||
        fastfood_save_file_f64(small, params64, path64) != FASTFOOD_OK)
        return 2;
    layer = big;
    int outcome = armed_call(s, n, BATCH);
    if (outcome != 1 && scenarios[s].call(BATCH) != scenarios[s].expected) {
        printf("FAIL %s: not usable after a first call with %ld allocations (%s)\n", scenarios[s].name, n,
               fastfood_last_error_message());
        outcome = 1;
    }
    fflush(stdout);
    return outcome;
}

/* The checks and the line for scenario S after its runs with 0, 1, 2, ... allocations: `good` if
 * none crashed or gave a wrong result, `succeeded` if one succeeded, `n` one past its budget;
 * `when` is "" in process, " as the first call:" in fresh processes. */
static void report_scenario(size_t s, int good, int succeeded, long n, const char *when) {
    if (good && !succeeded) printf("FAIL %s%s never succeeded\n", scenarios[s].name, when);
    CHECK(good && succeeded);
    if (!good || !succeeded) return;
    int allocated = n >= 2;
    if (allocated && scenarios[s].allocates_nothing)
        printf("FAIL %s%s allocated, documented to allocate nothing\n", scenarios[s].name, when);
    CHECK(!(allocated && scenarios[s].allocates_nothing));
    if (allocated) printf("  %-24s%s fails cleanly with 0 .. %ld allocations\n", scenarios[s].name, when, n - 2);
    else printf("  %-24s%s needs no allocation\n", scenarios[s].name, when);
}

/* Runs scenario S as a fresh process's first call with 0, 1, 2, ... allocations until it succeeds. */
static void test_first_use(size_t s) {
    int good = 1, succeeded = 0;
    long n;
    for (n = 0; n < 400 && good && !succeeded; n++) {
        char scenario_arg[24], budget_arg[24];
        snprintf(scenario_arg, sizeof scenario_arg, "%zu", s);
        snprintf(budget_arg, sizeof budget_arg, "%ld", n);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) { good = 0; break; }
        if (pid == 0) {
            execl("/proc/self/exe", "test_no_memory", "--first", scenario_arg, budget_arg, path, (char *)NULL);
            _exit(2);
        }
        int status = 0;
        if (waitpid(pid, &status, 0) != pid) { good = 0; break; }
        if (WIFSIGNALED(status)) {
            printf("FAIL %s as the first call with %ld allocations: killed by signal %d\n", scenarios[s].name, n,
                   WTERMSIG(status));
            good = 0;
        } else if (WEXITSTATUS(status) == 0) {
            succeeded = 1;
        } else if (WEXITSTATUS(status) != 10) {
            printf("FAIL %s as the first call with %ld allocations: exit status %d\n", scenarios[s].name, n,
                   WEXITSTATUS(status));
            good = 0;
        }
    }
    report_scenario(s, good, succeeded, n, " as the first call:");
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "--first") == 0) {
        snprintf(path, sizeof path, "%s", argv[4]);
        return first_use((size_t)strtoul(argv[2], NULL, 10), strtol(argv[3], NULL, 10));
    }
    int fd = mkstemp(path);
    if (fd < 0) return 2;
    close(fd);
    enum { MAX_BATCH = 200 };
    if (!set_up(MAX_BATCH)) return 2;
    layer = small;
    fastfood_init_params_f32(big, 1, 30.0, params);
    fastfood_set_num_threads(1);

    size_t n_scenarios = sizeof scenarios / sizeof scenarios[0];
    for (size_t s = 0; s < n_scenarios; s++) {
        size_t batch = 4;
        layer = small;
        if (scenarios[s].call(batch) != scenarios[s].expected) { /* warm-up, unarmed */
            printf("FAIL %s: warm-up gave %s (%s)\n", scenarios[s].name, "unexpected status", fastfood_last_error_message());
            failed++;
            continue;
        }
        int good = 1, succeeded = 0;
        long n;
        for (n = 0; n < 200 && !succeeded && good; n++) {
            batch = 8 + 8 * (size_t)n; /* a new, larger size each time: scratch must grow */
            if (batch > MAX_BATCH) batch = MAX_BATCH;
            layer = big;
            int outcome = armed_call(s, n, batch);
            layer = small;
            succeeded = outcome == 0;
            good = outcome != 1;
        }
        CHECK(scenarios[s].call(4) == scenarios[s].expected); /* still usable afterwards */
        report_scenario(s, good, succeeded, n, "");
    }
    for (size_t s = 0; s < n_scenarios; s++) test_first_use(s);
    unlink(path);
    unlink(path64);
    return report();
}
