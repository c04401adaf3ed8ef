/*
 * test_process.c - the library inside a real process: fork, floating-point modes, cancellation.
 *
 *   - fork: children of a parent that only loaded the library, or used 1, 2 or 4 threads, call
 *     fastfood_set_num_threads(1, 2, 8, 0) and a forward, which must equal the parent's result;
 *     20 children of a parent that only loaded the library each make a 2-thread forward. Every
 *     child runs under alarm(): a hang is a failure, not a stalled test.
 *   - floating-point modes: with flush-to-zero / denormals-are-zero or another rounding mode set
 *     after the pool threads exist, results are bitwise the same for 1, 2 and 3 threads (and
 *     differ from the default mode, so the test can fail).
 *   - threads with a 64 KiB stack (the documented minimum) can make every call, first use included;
 *   - initialisation values whose parameters are not representable (sigma 1e-300, DBL_MAX, a
 *     near-identity epsilon of 1e300 in float; sigma 1e39, whose S would be subnormal in float)
 *     are refused with the output untouched;
 *   - cancellation: a thread cancelled while it loops over 2-thread forwards, or over atomic
 *     saves, leaves the library usable (no locked mutex), no temporary file and no descriptor.
 *   - affinity (since 1.2.1): under an affinity of one CPU the default thread count, and 0, mean 1.
 *   - FASTFOOD_NUM_THREADS: a positive decimal integer (an optional +; above 1024 means 1024) sets
 *     the default thread count; anything else (0, -2, " 4", "4x", "0x10", "") is ignored.
 *   - thread creation failing (a pids cgroup or RLIMIT_NPROC exhausted; simulated by this
 *     program's own pthread_create): calls succeed with the threads that exist, bit for bit the
 *     1-thread results, and the pool grows when creation works again.
 *   - signals (since 1.2.1): the pool's threads (named "fastfood-pool") block every asynchronous
 *     signal and no synchronous one (their SigBlk in /proc), so a signal sent to the process
 *     while the caller blocks it stays pending until the caller unblocks it, and its handler
 *     runs on the caller's thread.
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include "dir_entries.h"
#include <dlfcn.h>
#include <errno.h>
#include <fenv.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xmmintrin.h>

#include "check.h"

enum { IN = 1000, OUT = 3000, BATCH = 64 };
static fastfood_layer *layer;
static float *params, *x, *reference;

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) { printf("out of memory in test\n"); exit(2); }
    return p;
}
static float *xcalloc_floats(size_t count) {
    float *p = calloc(count, sizeof(float));
    if (!p) { printf("out of memory in test\n"); exit(2); }
    return p;
}

static int forward_equals(const float *expected, size_t threads) {
    float *y = xmalloc(sizeof(float) * BATCH * OUT);
    if (fastfood_set_num_threads(threads) != FASTFOOD_OK) return 0;
    int ok = fastfood_forward_f32(layer, params, BATCH, x, IN, y, OUT) == FASTFOOD_OK &&
             memcmp(y, expected, sizeof(float) * BATCH * OUT) == 0;
    free(y);
    return ok;
}

/* Forks a child that runs `body` under a 20 s alarm; 1 if it exited with status 0. */
static int in_child(int (*body)(void)) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        alarm(20);
        int ok = body();
        fflush(stdout); /* _exit does not */
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 0;
    if (WIFSIGNALED(status)) printf("child killed by signal %d (%s)\n", WTERMSIG(status),
                                    WTERMSIG(status) == SIGALRM ? "hung" : "crashed");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The CPUs this thread may run on: what 0 threads means (since 1.2.1; before, the online CPUs,
 * the same number unless the affinity is restricted). */
static size_t usable_cpus(void) {
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? (size_t)CPU_COUNT(&set) : 0;
}

static int child_every_setting(void) {
    static const size_t settings[] = {1, 2, 8, 0, 1};
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (!forward_equals(reference, settings[i])) return 0;
        size_t expected = settings[i] ? settings[i] : usable_cpus();
        if (fastfood_get_num_threads() != expected) return 0;
    }
    return 1;
}

static int child_two_threads(void) { return forward_equals(reference, 2); }

static void test_fork(void) {
    /* A parent that only loaded the library (and made no compute call). */
    int all = 1;
    for (int i = 0; i < 20; i++) all &= in_child(child_two_threads);
    CHECK(all);
    CHECK(in_child(child_every_setting));
    /* Parents that used 1, 2 and 4 threads. */
    for (size_t threads = 1; threads <= 4; threads *= 2) {
        CHECK(forward_equals(reference, threads));
        int ok = 1;
        for (int i = 0; i < 3; i++) ok &= in_child(child_every_setting);
        CHECK(ok);
    }
    CHECK(forward_equals(reference, 2)); /* the parent's pool still works */
}

/* ---- thread creation failing ---- */

/* How many more pthread_create calls may succeed; -1: all (the default). The library's pool
 * threads are created through this definition, which interposes the C library's. */
static atomic_int creations_allowed = -1;

int pthread_create(pthread_t *thread, const pthread_attr_t *attributes, void *(*body)(void *), void *argument) {
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (!real) {
        void *symbol = dlsym(RTLD_NEXT, "pthread_create");
        if (!symbol) return EAGAIN;
        memcpy(&real, &symbol, sizeof real);
    }
    int allowed = atomic_load(&creations_allowed);
    while (allowed > 0 && !atomic_compare_exchange_weak(&creations_allowed, &allowed, allowed - 1)) {}
    if (allowed == 0) return EAGAIN;
    return real(thread, attributes, body, argument);
}

static void test_thread_creation_fails(void) {
    CHECK(fastfood_set_num_threads(1) == FASTFOOD_OK);
    CHECK(pool_threads(0) == 0);
    /* No thread can be created: 4 threads asked for, the caller computes alone. */
    atomic_store(&creations_allowed, 0);
    CHECK(forward_equals(reference, 4));
    CHECK(forward_equals(reference, 4));
    CHECK(fastfood_get_num_threads() == 4);
    CHECK(pool_threads(0) == 0);
    /* One more can: the call runs on two. */
    CHECK(fastfood_set_num_threads(1) == FASTFOOD_OK);
    atomic_store(&creations_allowed, 1);
    CHECK(forward_equals(reference, 4));
    CHECK(pool_threads(1) == 1);
    /* Creation works again: the next call starts the rest. */
    atomic_store(&creations_allowed, -1);
    CHECK(forward_equals(reference, 4));
    CHECK(pool_threads(3) == 3);
    CHECK(fastfood_set_num_threads(1) == FASTFOOD_OK);
    CHECK(pool_threads(0) == 0);
}

/* ---- floating-point modes ---- */

static void test_fp_modes(void) {
    /* Denormal-heavy input, so flush-to-zero changes results. */
    float *tiny = xmalloc(sizeof(float) * BATCH * IN);
    for (size_t i = 0; i < (size_t)BATCH * IN; i++) tiny[i] = x[i] * 1e-38f;
    float *base = xmalloc(sizeof(float) * BATCH * OUT), *y = xmalloc(sizeof(float) * BATCH * OUT);
    fastfood_set_num_threads(2);
    fastfood_forward_f32(layer, params, BATCH, tiny, IN, base, OUT); /* default mode; pool exists */

    unsigned saved = _mm_getcsr();
    static const unsigned modes[] = {0x8040 /* FTZ | DAZ */, 0x4000 /* round up, via MXCSR */};
    for (int m = 0; m < 2; m++) {
        _mm_setcsr((saved & ~0xe040u) | modes[m]);
        float *one = xmalloc(sizeof(float) * BATCH * OUT);
        fastfood_set_num_threads(1);
        CHECK(fastfood_forward_f32(layer, params, BATCH, tiny, IN, one, OUT) == FASTFOOD_OK);
        CHECK(memcmp(one, base, sizeof(float) * BATCH * OUT) != 0); /* the mode matters */
        for (size_t threads = 2; threads <= 3; threads++) {
            fastfood_set_num_threads(threads);
            for (int repeat = 0; repeat < 3; repeat++) {
                CHECK(fastfood_forward_f32(layer, params, BATCH, tiny, IN, y, OUT) == FASTFOOD_OK);
                CHECK(memcmp(one, y, sizeof(float) * BATCH * OUT) == 0);
            }
        }
        CHECK((_mm_getcsr() & 0xffc0u) == (((saved & ~0xe040u) | modes[m]) & 0xffc0u)); /* caller's mode kept */
        _mm_setcsr(saved);
        free(one);
    }
    /* fesetround sets the SSE rounding mode too. */
    fesetround(FE_DOWNWARD);
    float *one = xmalloc(sizeof(float) * BATCH * OUT);
    fastfood_set_num_threads(1);
    fastfood_forward_f32(layer, params, BATCH, x, IN, one, OUT);
    fastfood_set_num_threads(2);
    fastfood_forward_f32(layer, params, BATCH, x, IN, y, OUT);
    CHECK(memcmp(one, y, sizeof(float) * BATCH * OUT) == 0);
    fesetround(FE_TONEAREST);
    /* Back in the default mode the pool threads follow again. */
    CHECK(forward_equals(reference, 2));
    free(one); free(tiny); free(base); free(y);
}

/* ---- cancellation ---- */

static void *forward_loop(void *arg) {
    (void)arg;
    float *y = xmalloc(sizeof(float) * BATCH * OUT);
    for (;;) {
        fastfood_forward_f32(layer, params, BATCH, x, IN, y, OUT);
        pthread_testcancel();
    }
    return NULL;
}

static const char *save_dir = "/tmp/fastfood_cancel_test";

static void *save_loop(void *arg) {
    (void)arg;
    char path[256];
    snprintf(path, sizeof path, "%s/layer.bin", save_dir);
    for (;;) {
        fastfood_save_file_f32(layer, params, path);
        pthread_testcancel();
    }
    return NULL;
}

static int child_survives_cancellation(void) {
    int fds_before = count_entries("/proc/self/fd");
    for (int round = 0; round < 20; round++) {
        pthread_t t;
        fastfood_set_num_threads(2);
        pthread_create(&t, NULL, round % 2 ? save_loop : forward_loop, NULL);
        usleep(2000 + 1000 * (unsigned)round);
        pthread_cancel(t);
        pthread_join(t, NULL);
        /* Everything still works: the thread count (takes the pool mutex) and a parallel call. */
        if (fastfood_set_num_threads(1) != FASTFOOD_OK || fastfood_get_num_threads() != 1) return 0;
        if (!forward_equals(reference, 2)) return 0;
    }
    /* Only the saved file: no temporary file left behind, no descriptor leaked (the forward
     * loop leaks its y buffer by design; memory is not what is checked). */
    int files = count_entries(save_dir);
    if (files != 1) printf("%d entries in %s after cancelled saves (want 1)\n", files, save_dir);
    int fds_after = count_entries("/proc/self/fd");
    if (fds_after != fds_before) printf("descriptors: %d before, %d after\n", fds_before, fds_after);
    return files == 1 && fds_after == fds_before;
}

static volatile sig_atomic_t usr1_count;
static pthread_t usr1_thread;
static void on_usr1(int sig) {
    (void)sig;
    usr1_thread = pthread_self();
    usr1_count++;
}

/* The name and blocked-signal mask of every thread of this process but the calling one, through
 * `check(name, mask)` (printing a failing one if verbose); the number of such threads, or -1 if
 * one fails. */
static int other_threads(int (*check)(const char *, unsigned long long), int verbose) {
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return -1;
    int count = 0;
    pid_t self = (pid_t)syscall(SYS_gettid);
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL && count >= 0) {
        if (entry->d_name[0] == '.' || atoi(entry->d_name) == self) continue;
        char path[300], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/status", entry->d_name);
        FILE *status = fopen(path, "r");
        if (!status) continue; /* a thread that just ended */
        unsigned long long mask = 0;
        char name[32] = "";
        int found = 0;
        while (found < 2 && fgets(line, sizeof line, status))
            found += sscanf(line, "Name: %31s", name) == 1 || sscanf(line, "SigBlk: %llx", &mask) == 1;
        fclose(status);
        if (found < 2 || !check(name, mask)) {
            if (verbose) printf("thread %s: name %s, SigBlk %016llx\n", entry->d_name, name, mask);
            count = -1;
        } else {
            count++;
        }
    }
    closedir(tasks);
    return count;
}

#define SIGNAL_BIT(s) (1ull << ((s) - 1))
/* A pool thread: named so, and blocking the asynchronous signals only. */
static int pool_thread(const char *name, unsigned long long mask) {
    if (strcmp(name, "fastfood-pool") != 0) return 0;
    static const int asynchronous[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGPIPE, SIGWINCH};
    static const int synchronous[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof asynchronous / sizeof asynchronous[0]; i++)
        if (!(mask & SIGNAL_BIT(asynchronous[i]))) return 0;
    for (size_t i = 0; i < sizeof synchronous / sizeof synchronous[0]; i++)
        if (mask & SIGNAL_BIT(synchronous[i])) return 0;
    return 1;
}

static int child_signals(void) {
    /* The pool's threads start here, while this thread blocks nothing. */
    if (!forward_equals(reference, 3)) return 0;
    /* A thread just created has every signal blocked until it first runs: wait for that. */
    int pool_threads = -1;
    for (int tries = 0; tries < 200 && pool_threads != 2; tries++) {
        struct timespec wait = {0, 10 * 1000 * 1000};
        if (tries > 0) nanosleep(&wait, NULL);
        pool_threads = other_threads(pool_thread, tries == 199);
    }
    if (pool_threads != 2) {
        printf("pool threads (named, blocking the asynchronous signals only): %d, expected 2\n", pool_threads);
        return 0;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_usr1;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGUSR1, &action, NULL) != 0) return 0;
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    /* Sent while the pool works and while it waits: a pool thread that took it would run the
     * handler at once. */
    for (int i = 0; i < 20; i++) {
        kill(getpid(), SIGUSR1);
        if (!forward_equals(reference, 3)) return 0;
    }
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    int on_pool = usr1_count;
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL); /* the pending signal is delivered here */
    if (on_pool != 0 || usr1_count != 1 || !pthread_equal(usr1_thread, pthread_self())) {
        printf("SIGUSR1: %d handled while this thread blocked it, %d in all\n", on_pool, (int)usr1_count);
        return 0;
    }
    return 1;
}

/* Under an affinity of one CPU (taskset -c 0, a container's cpuset), the default and 0 mean one
 * thread, not one per CPU of the machine; explicit counts are kept. In a fresh process, which
 * reads the default when it first uses the library. */
static int child_affinity(void) {
    if (fastfood_get_num_threads() != 1) {
        printf("default under an affinity of one CPU: %zu threads\n", fastfood_get_num_threads());
        return 0;
    }
    return fastfood_set_num_threads(0) == FASTFOOD_OK && fastfood_get_num_threads() == 1 &&
           fastfood_set_num_threads(2) == FASTFOOD_OK && fastfood_get_num_threads() == 2 && forward_equals(reference, 2);
}

static int exec_affinity(void) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) return 0;
    unsetenv("FASTFOOD_NUM_THREADS");
    execl("/proc/self/exe", "test_process", "--affinity", (char *)NULL);
    return 0;
}

/* FASTFOOD_NUM_THREADS, read in a fresh process: a positive decimal integer (an optional +;
 * above 1024 means 1024) sets the default, anything else leaves one thread per usable CPU. */
static const char *env_value;
static size_t env_expected;

static int exec_env(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%zu", env_expected);
    if (setenv("FASTFOOD_NUM_THREADS", env_value, 1) != 0) return 0;
    execl("/proc/self/exe", "test_process", "--env-expect", expected, (char *)NULL);
    return 0;
}

static void test_environment(void) {
    size_t cpus = usable_cpus();
    /* (Two values with a +: one of them differs from the default on any machine, so a library
     * that rejected the + would be seen.) */
    static const struct { const char *value; size_t expected; } cases[] = {
        {"3", 3}, {"+2", 2}, {"+7", 7}, {"1", 1}, {"0001", 1}, {"1024", 1024}, {"5000", 1024},
        {"99999999999999999999999999", 1024}, {"0", 0}, {"-2", 0}, {"", 0}, {"+", 0}, {"abc", 0},
        {" 4", 0}, {"4 ", 0}, {"4x", 0}, {"0x10", 0}, {"2.5", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env_value = cases[i].value;
        env_expected = cases[i].expected ? cases[i].expected : cpus; /* 0: the default */
        int ok = in_child(exec_env);
        if (!ok) printf("FASTFOOD_NUM_THREADS='%s': expected %zu threads\n", env_value, env_expected);
        CHECK(ok);
    }
}

static void test_affinity(void) {
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || usable_cpus() < 2) {
        printf("SKIP affinity test: fewer than 2 CPUs to restrict from\n");
        return;
    }
    CHECK(in_child(exec_affinity));
}

/* In a fresh process: a forked child of a process that loaded the library has no pool. */
static int exec_signals(void) {
    execl("/proc/self/exe", "test_process", "--signals", (char *)NULL);
    return 0;
}

static void test_signals(void) { CHECK(in_child(exec_signals)); }

static void test_cancellation(void) {
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s && mkdir -p %s", save_dir, save_dir);
    if (system(command) != 0) { CHECK(!"cannot make the save directory"); return; }
    CHECK(in_child(child_survives_cancellation)); /* in a child: a hang is caught by alarm() */
    snprintf(command, sizeof command, "rm -rf %s", save_dir);
    if (system(command) != 0) printf("note: could not remove %s\n", save_dir);
}

static void test_extreme_init_values(void) {
    fastfood_layer *small = NULL;
    if (fastfood_layer_create(100, 200, 1, FASTFOOD_LAYER_BIAS, &small) != FASTFOOD_OK) return;
    size_t n = fastfood_layer_param_count(small);
    float *p = xmalloc(n * sizeof *p);
    double *q = xmalloc(n * sizeof *q);
    for (size_t i = 0; i < n; i++) p[i] = 7.0f;
    /* 1e-300: S would overflow float; DBL_MAX: S would be 0. Refused, params untouched. */
    CHECK(fastfood_init_params_f32(small, 1, 1e-300, p) == FASTFOOD_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(fastfood_last_error_message(), "not representable") != NULL);
    CHECK(strstr(fastfood_last_error_message(), "sigma (1e-300) gives") != NULL); /* as Swift prints it */
    CHECK(fastfood_init_params_f32(small, 1, 1.7976931348623157e308, p) == FASTFOOD_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(fastfood_last_error_message(), "sigma (1.7976931348623157e+308) gives") != NULL);
    CHECK(fastfood_init_params_preset_f32(small, FASTFOOD_INIT_VARIANCE, 1, 1e300, p) == FASTFOOD_ERROR_INVALID_ARGUMENT);
    CHECK(fastfood_init_params_preset_f64(small, FASTFOOD_INIT_RBF, 1, 1.7976931348623157e308, q) == FASTFOOD_ERROR_INVALID_ARGUMENT);
    /* Near identity with epsilon 1e300: G = 1 + epsilon z overflows float (S may be anything
     * for this preset, even 0, but no parameter may be infinite). */
    CHECK(fastfood_init_params_preset_f32(small, FASTFOOD_INIT_NEAR_IDENTITY, 1, 1e300, p) == FASTFOOD_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(fastfood_last_error_message(), "not representable in float32") != NULL);
    int untouched = 1;
    for (size_t i = 0; i < n; i++) untouched &= p[i] == 7.0f;
    CHECK(untouched);
    /* sigma 1e39: S about 1e-40, a float subnormal, not 0 (checked on the double values): refused
     * too, S must be a normal number; the double call accepts it. */
    CHECK(fastfood_init_params_f64(small, 1, 1e39, q) == FASTFOOD_OK);
    int subnormal = 1;
    for (size_t i = 0; i < 128; i++) subnormal &= fpclassify((float)q[i]) == FP_SUBNORMAL;
    CHECK(subnormal);
    CHECK(fastfood_init_params_f32(small, 1, 1e39, p) == FASTFOOD_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(fastfood_last_error_message(), "sigma (1e+39) gives parameters that are not representable in float32 (S = ") != NULL);
    for (size_t i = 0; i < n; i++) untouched &= p[i] == 7.0f;
    CHECK(untouched);
    /* Representable in double, not in float: the f64 call accepts it. */
    CHECK(fastfood_init_params_f64(small, 1, 1e-300, q) == FASTFOOD_OK);
    CHECK(fastfood_init_params_f32(small, 1, 1e-3, p) == FASTFOOD_OK); /* ordinary small sigma */
    free(p);
    free(q);
    fastfood_layer_destroy(small);
}

/* Every call from a thread with a 64 KiB stack (the documented minimum), first use included. */
static void *small_stack_body(void *arg) {
    (void)arg;
    if (fastfood_layer_create(IN, OUT, 5, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED, &layer) != FASTFOOD_OK) return NULL;
    params = xmalloc(sizeof(float) * fastfood_layer_param_count(layer));
    x = xcalloc_floats((size_t)BATCH * IN);
    if (fastfood_init_params_f32(layer, 2, 30.0, params) != FASTFOOD_OK) return NULL;
    float *y = xmalloc(sizeof(float) * BATCH * OUT), *dx = xmalloc(sizeof(float) * BATCH * IN);
    size_t n = fastfood_layer_param_count(layer);
    float *g = xmalloc(sizeof(float) * n);
    int ok = fastfood_forward_f32(layer, params, BATCH, x, IN, y, OUT) == FASTFOOD_OK &&
             fastfood_backward_f32(layer, params, BATCH, x, IN, y, OUT, dx, IN, g, 0) == FASTFOOD_OK &&
             fastfood_forward_train_f32(layer, params, BATCH, x, IN, y, OUT, 0.1, 0.1, 0.1, 1, 1) == FASTFOOD_OK &&
             fastfood_features_forward_f32(layer, params, 2, x, IN, y, 2 * OUT) == FASTFOOD_OK &&
             fastfood_save_file_f32(layer, params, "/tmp/fastfood_small_stack.layer") == FASTFOOD_OK;
    fastfood_layer *loaded = NULL;
    ok = ok && fastfood_load_file_f32("/tmp/fastfood_small_stack.layer", &loaded, g, n) == FASTFOOD_OK;
    ok = ok && fastfood_layer_create(0, 1, 1, 0, &loaded) == FASTFOOD_ERROR_INVALID_ARGUMENT;
    unlink("/tmp/fastfood_small_stack.layer");
    free(y); free(dx); free(g);
    return ok ? (void *)1 : NULL;
}

static int child_small_stack(void) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    pthread_t t;
    void *result = NULL;
    fastfood_set_num_threads(2);
    if (pthread_create(&t, &attributes, small_stack_body, NULL) != 0) return 0;
    pthread_join(t, &result);
    return result != NULL;
}

/* Runs this program again as a fresh process (nothing initialised) in small-stack mode. */
static int exec_small_stack(void) {
    execl("/proc/self/exe", "test_process", "--small-stack", (char *)NULL);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--small-stack") == 0) return child_small_stack() ? 0 : 1;
    int signals_mode = argc > 1 && strcmp(argv[1], "--signals") == 0;
    int affinity_mode = argc > 1 && strcmp(argv[1], "--affinity") == 0;
    if (fastfood_layer_create(IN, OUT, 5, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED, &layer) != FASTFOOD_OK) return 2;
    size_t n = fastfood_layer_param_count(layer);
    params = xmalloc(sizeof(float) * n);
    x = xmalloc(sizeof(float) * BATCH * IN);
    reference = xmalloc(sizeof(float) * BATCH * OUT);
    fastfood_init_params_preset_f32(layer, FASTFOOD_INIT_VARIANCE, 2, 1.0, params);
    for (size_t i = 0; i < (size_t)BATCH * IN; i++) x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    /* The reference, computed in a child so the parent stays a process that only loaded the
     * library (no pool, no lazy state) for the first fork test. */
    int pipefd[2];
    if (pipe(pipefd) != 0) return 2;
    pid_t pid = fork();
    if (pid == 0) {
        float *y = xmalloc(sizeof(float) * BATCH * OUT);
        fastfood_set_num_threads(1);
        fastfood_forward_f32(layer, params, BATCH, x, IN, y, OUT);
        ssize_t w = write(pipefd[1], y, sizeof(float) * BATCH * OUT);
        _exit(w == (ssize_t)(sizeof(float) * BATCH * OUT) ? 0 : 1);
    }
    size_t got = 0;
    while (got < sizeof(float) * BATCH * OUT) {
        ssize_t r = read(pipefd[0], (char *)reference + got, sizeof(float) * BATCH * OUT - got);
        if (r <= 0) return 2;
        got += (size_t)r;
    }
    waitpid(pid, NULL, 0);
    if (signals_mode) {
        int ok = child_signals();
        fflush(stdout);
        return ok ? 0 : 1;
    }
    if (argc > 2 && strcmp(argv[1], "--env-expect") == 0) {
        size_t threads = fastfood_get_num_threads();
        if (threads != (size_t)strtoull(argv[2], NULL, 10)) printf("got %zu threads\n", threads);
        fflush(stdout);
        return threads == (size_t)strtoull(argv[2], NULL, 10) ? 0 : 1;
    }
    if (affinity_mode) {
        int ok = child_affinity();
        fflush(stdout);
        return ok ? 0 : 1;
    }
    test_fork();
    test_fp_modes();
    test_thread_creation_fails();
    test_cancellation();
    test_signals();
    test_affinity();
    test_environment();
    test_extreme_init_values();
    CHECK(in_child(exec_small_stack)); /* a fresh process: first use on the small stack */
    fastfood_layer_destroy(layer);
    free(params); free(x); free(reference);
    return report();
}
