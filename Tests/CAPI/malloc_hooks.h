/*
 * malloc_hooks.h - replaces the C allocator in a test program, so it can count or refuse every
 * allocation the library makes (through malloc, calloc, realloc, memalign, aligned_alloc,
 * valloc, posix_memalign). Define `static int malloc_hook(void)` before including this: it runs
 * before each allocation and returns 0 to make that allocation fail. Needs _GNU_SOURCE.
 */
#ifndef FASTFOOD_TEST_MALLOC_HOOKS_H
#define FASTFOOD_TEST_MALLOC_HOOKS_H

#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

/* A refused allocation sets errno to ENOMEM, as the C library's does (glibc's pthread_create
 * asserts that it did when the memory for a thread runs out). */
static inline void *refused(void) {
    errno = ENOMEM;
    return NULL;
}
void *malloc(size_t n) { return malloc_hook() ? __libc_malloc(n) : refused(); }
void *calloc(size_t a, size_t b) { return malloc_hook() ? __libc_calloc(a, b) : refused(); }
void *realloc(void *p, size_t n) { return malloc_hook() ? __libc_realloc(p, n) : refused(); }
void *memalign(size_t alignment, size_t n) { return malloc_hook() ? __libc_memalign(alignment, n) : refused(); }
void *aligned_alloc(size_t alignment, size_t n) { return malloc_hook() ? __libc_memalign(alignment, n) : refused(); }
void *valloc(size_t n) { return malloc_hook() ? __libc_memalign(4096, n) : refused(); }
int posix_memalign(void **out, size_t alignment, size_t n) {
    if (!malloc_hook()) return ENOMEM;
    void *p = __libc_memalign(alignment, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
void free(void *p) { __libc_free(p); }

#endif
