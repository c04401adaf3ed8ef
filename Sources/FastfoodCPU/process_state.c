#include "FastfoodCPU.h"

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
