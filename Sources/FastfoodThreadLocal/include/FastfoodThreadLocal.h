#ifndef FASTFOOD_THREAD_LOCAL_H
#define FASTFOOD_THREAD_LOCAL_H

#include <stddef.h>

/* Capacity of each thread's error-message buffer, NUL included. */
#define FASTFOOD_MESSAGE_CAPACITY 512

/* The calling thread's message buffer (static thread-local storage: never allocated, never
 * freed, so recording an error cannot fail and nothing leaks when a thread exits). Internal:
 * hidden from the shared library's symbol table. */
__attribute__((visibility("hidden"))) char *fastfood_internal_message_buffer(void);

#endif
