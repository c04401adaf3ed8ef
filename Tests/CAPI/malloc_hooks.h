/*
 * malloc_hooks.h - replaces the C allocator in a test program, so it can count or refuse every
 * allocation the library makes (through malloc, calloc, realloc, memalign, aligned_alloc,
 * valloc, posix_memalign). Define `static int malloc_hook(void)` before including this: it runs
 * before each allocation and returns 0 to make that allocation fail. Needs _GNU_SOURCE.
 * With MALLOC_HOOKS_LIVE_BYTES defined, `live_bytes` is the memory these functions have handed
 * out and not yet had back (malloc_usable_size of each block), across all threads.
 */
#ifndef FASTFOOD_TEST_MALLOC_HOOKS_H
#define FASTFOOD_TEST_MALLOC_HOOKS_H

#include <errno.h>
#include <malloc.h>
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

/* Block sizes in and out of live_bytes (no-ops without MALLOC_HOOKS_LIVE_BYTES). */
#ifdef MALLOC_HOOKS_LIVE_BYTES
#include <stdatomic.h>
static atomic_long live_bytes;
static inline void count_bytes(long delta) { atomic_fetch_add(&live_bytes, delta); }
#else
static inline void count_bytes(long delta) { (void)delta; }
#endif
static inline void *counted(void *p) {
    if (p) count_bytes((long)malloc_usable_size(p));
    return p;
}

void *malloc(size_t n) { return malloc_hook() ? counted(__libc_malloc(n)) : refused(); }
void *calloc(size_t a, size_t b) { return malloc_hook() ? counted(__libc_calloc(a, b)) : refused(); }
void *realloc(void *p, size_t n) {
    if (!malloc_hook()) return refused();
    long before = p ? (long)malloc_usable_size(p) : 0; /* before realloc may free p */
    void *q = __libc_realloc(p, n);
    if (q || n == 0) { /* p is gone (moved, resized or, for n == 0, freed) */
        count_bytes(-before);
        counted(q);
    }
    return q;
}
void *memalign(size_t alignment, size_t n) { return malloc_hook() ? counted(__libc_memalign(alignment, n)) : refused(); }
void *aligned_alloc(size_t alignment, size_t n) { return malloc_hook() ? counted(__libc_memalign(alignment, n)) : refused(); }
void *valloc(size_t n) { return malloc_hook() ? counted(__libc_memalign(4096, n)) : refused(); }
int posix_memalign(void **out, size_t alignment, size_t n) {
    if (!malloc_hook()) return ENOMEM;
    void *p = __libc_memalign(alignment, n);
    if (!p) return ENOMEM;
    *out = counted(p);
    return 0;
}
void free(void *p) {
    if (p) count_bytes(-(long)malloc_usable_size(p));
    __libc_free(p);
}

#endif
