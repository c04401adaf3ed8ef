#ifndef FASTFOOD_THREAD_LOCAL_H
#define FASTFOOD_THREAD_LOCAL_H

#include <stddef.h>

/* Capacity of each thread's error-message buffer, NUL included. */
#define FASTFOOD_MESSAGE_CAPACITY 512

/* The calling thread's message buffer (static thread-local storage: never allocated, never
 * freed, so recording an error cannot fail and nothing leaks when a thread exits). Internal:
 * hidden from the shared library's symbol table. */
__attribute__((visibility("hidden"))) char *fastfood_internal_message_buffer(void);

/* The calling thread's sentence under construction (ErrorMessage in FastfoodCore writes it as a
 * failure is detected; the boundary then prefixes the function's name into the message buffer).
 * Same capacity, same static thread-local storage. */
__attribute__((visibility("hidden"))) char *fastfood_internal_pending_message(void);

/* snprintf(out, size, "%.*e" if exponential, else "%.*f", precision, value): a C variadic call
 * Swift cannot make without allocating its argument list. */
__attribute__((visibility("hidden"))) int fastfood_internal_format_double(char *out, size_t size, int exponential,
                                                                         int precision, double value);

#endif
