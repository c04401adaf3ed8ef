#define _GNU_SOURCE /* pthread_attr_setsigmask_np */
#include "FastfoodCPU.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

/* The process that loaded the library. A forked child has another pid and inherits the parent's
 * thread-local state (the Swift runtime caches thread ids there), so it runs everything on the
 * calling thread. Recorded by a load-time constructor: no Swift code, no lazy initialisation. */
static pid_t load_pid;

__attribute__((constructor)) static void fastfood_record_load_pid(void) { load_pid = getpid(); }

int fastfood_internal_in_forked_child(void) { return getpid() != load_pid; }

unsigned fastfood_internal_fp_control(void) {
#if defined(__x86_64__)
    return __builtin_ia32_stmxcsr() & FASTFOOD_MXCSR_CONTROL;
#else
    return 0;
#endif
}

void fastfood_internal_set_fp_control(unsigned control) {
#if defined(__x86_64__)
    unsigned current = __builtin_ia32_stmxcsr();
    if ((current & FASTFOOD_MXCSR_CONTROL) != control)
        __builtin_ia32_ldmxcsr((current & ~FASTFOOD_MXCSR_CONTROL) | control);
#else
    (void)control;
#endif
}

int fastfood_internal_start_pool_thread(void *(*body)(void *), void *argument) {
    sigset_t blocked;
    sigfillset(&blocked);
    /* Blocked, a fault would kill the process instead of reaching the caller's handler (a
     * sanitizer's, a runtime's): these stay deliverable. glibc keeps its own internal signals
     * deliverable in any case. */
    static const int synchronous[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof synchronous / sizeof synchronous[0]; i++) sigdelset(&blocked, synchronous[i]);
    pthread_attr_t attributes;
    int result = pthread_attr_init(&attributes);
    if (result != 0) return result;
    result = pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    /* The new thread starts with the mask: the caller's own mask is never touched. */
    if (result == 0) result = pthread_attr_setsigmask_np(&attributes, &blocked);
    if (result == 0) result = pthread_create(&thread, &attributes, body, argument);
#else
    /* Older C libraries: the thread inherits the mask of the creating thread, briefly set. */
    sigset_t previous;
    if (result == 0) result = pthread_sigmask(SIG_SETMASK, &blocked, &previous);
    if (result == 0) {
        result = pthread_create(&thread, &attributes, body, argument);
        pthread_sigmask(SIG_SETMASK, &previous, NULL);
    }
#endif
    pthread_attr_destroy(&attributes);
    return result;
}

static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work_available = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_job_finished = PTHREAD_COND_INITIALIZER;

pthread_mutex_t *fastfood_internal_pool_mutex(void) { return &pool_mutex; }
pthread_cond_t *fastfood_internal_pool_work_available(void) { return &pool_work_available; }
pthread_cond_t *fastfood_internal_pool_job_finished(void) { return &pool_job_finished; }

void fastfood_internal_name_pool_thread(void) { pthread_setname_np(pthread_self(), "fastfood-pool"); }

int fastfood_internal_usable_cpus(void) {
    cpu_set_t usable;
    if (sched_getaffinity(0, sizeof usable, &usable) == 0) {
        int count = CPU_COUNT(&usable);
        if (count > 0) return count;
    }
    /* More CPUs than a cpu_set_t holds, or no affinity support: all online ones. */
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)(online < 1 << 20 ? online : 1 << 20) : 1;
}
