#ifndef FASTFOOD_CPU_H
#define FASTFOOD_CPU_H

#include <pthread.h>

/* Internal C helpers of the engine: CPU features, process and floating-point state.
 * Bits of fastfood_internal_cpu_features(). */
#define FASTFOOD_CPU_AVX2 1   /* AVX2 and FMA: what -target-cpu haswell code needs */
#define FASTFOOD_CPU_AVX512 2 /* AVX-512 F, CD, BW, DQ, VL: what -target-cpu skylake-avx512 needs */

/* The vector extensions this CPU and OS support (cpuid and XGETBV through the compiler's
 * builtins). Internal: hidden from the shared library's symbol table. */
__attribute__((visibility("hidden"))) int fastfood_internal_cpu_features(void);

/* The size in bytes of the CPU's largest data or unified cache (cpuid's cache parameters; the L3
 * on today's x86), 0 where cpuid does not say: the forward writes outputs of a quarter of it or
 * more with non-temporal stores (StreamingStores). */
__attribute__((visibility("hidden"))) long fastfood_internal_last_level_cache_bytes(void);

/* 1 in a child process created by fork() from the process that loaded the library. */
__attribute__((visibility("hidden"))) int fastfood_internal_in_forked_child(void);

/* The floating-point control bits of SSE/AVX arithmetic (MXCSR: rounding mode, flush-to-zero,
 * denormals-are-zero, exception masks; not the sticky status flags). A parallel call hands the
 * caller's bits to its pool threads, so results do not depend on which thread computed what. */
#define FASTFOOD_MXCSR_CONTROL 0xffc0u
__attribute__((visibility("hidden"))) unsigned fastfood_internal_fp_control(void);
__attribute__((visibility("hidden"))) void fastfood_internal_set_fp_control(unsigned control);

/* How many CPUs the calling thread may run on (its affinity mask, as nproc and OpenMP count them:
 * taskset, cpusets and containers restrict it), or the online CPUs where that cannot be read. */
__attribute__((visibility("hidden"))) int fastfood_internal_usable_cpus(void);

/* Starts a detached pool thread running body(argument), with every asynchronous signal blocked
 * (all but SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS), so that a signal sent to the process
 * reaches one of the caller's threads: its handler runs there, interrupts the calls it waits
 * in, and sigwait() or signalfd() setups see it. Returns 0 or pthread_create's error (also
 * ENOMEM where the attributes cannot be set up). */
__attribute__((visibility("hidden"))) int fastfood_internal_start_pool_thread(void *(*body)(void *), void *argument);

/* The worker pool's mutex and condition variables: statically initialised objects in the
 * library's data, so the pool needs no allocation (the first call may come when memory is
 * exhausted, and an allocation that fails in Swift aborts the process). */
__attribute__((visibility("hidden"))) pthread_mutex_t *fastfood_internal_pool_mutex(void);
__attribute__((visibility("hidden"))) pthread_cond_t *fastfood_internal_pool_work_available(void);
__attribute__((visibility("hidden"))) pthread_cond_t *fastfood_internal_pool_job_finished(void);

/* Names the calling pool thread "fastfood-pool" (what top -H, ps -L, gdb and perf show). */
__attribute__((visibility("hidden"))) void fastfood_internal_name_pool_thread(void);

/* A spin-wait hint (PAUSE on x86): lets the sibling hyperthread run and saves power while a pool
 * thread polls for its next job. Inline, so nothing is exported. */
static inline void fastfood_internal_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Byte flags that the tasks of an executor call (fastfood_set_executor) set and clear from any
 * thread: claim sets the flag and returns its previous value (0: this caller got it). */
static inline int fastfood_internal_claim_flag(unsigned char *flag) {
    return __atomic_exchange_n(flag, 1, __ATOMIC_ACQ_REL);
}
static inline void fastfood_internal_clear_flag(unsigned char *flag) { __atomic_store_n(flag, 0, __ATOMIC_RELEASE); }
static inline int fastfood_internal_read_flag(const unsigned char *flag) {
    return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

#endif
