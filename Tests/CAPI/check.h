/*
 * check.h - the small test harness shared by the C tests: CHECK counts a passed or failed
 * condition (printing failures with their line), report() prints the "N passed, M failed" line
 * and returns the exit status. Plus independent implementations, written from the header's text,
 * of two things the library documents: the SplitMix64 output function and CRC-64/XZ.
 */
#ifndef FASTFOOD_TEST_CHECK_H
#define FASTFOOD_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed = 0, failed = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (cond) {                                                                   \
            passed++;                                                                 \
        } else {                                                                      \
            failed++;                                                                 \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                    \
        }                                                                             \
    } while (0)

static inline int report(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* Test data: a xorshift64 stream in [-1, 1), seeded by the test (#define CHECK_RNG_SEED before
 * including this), and malloc that ends the test on failure. */
#ifdef CHECK_RNG_SEED
static uint64_t rng = CHECK_RNG_SEED;
static inline double uniform(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1p-52 - 1.0;
}

static inline void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { printf("out of memory in test\n"); exit(2); }
    return p;
}
#endif

/* The SplitMix64 output function, as fastfood_layer_create documents it. */
static inline uint64_t splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* CRC-64/XZ from its definition (bit by bit), as the saved-data format documents it. */
static inline uint64_t crc64_xz(const unsigned char *data, size_t size) {
    uint64_t crc = ~0ULL;
    for (size_t i = 0; i < size; i++) {
        crc ^= data[i];
        for (int b = 0; b < 8; b++) crc = (crc & 1) ? (crc >> 1) ^ 0xc96c5795d7870f42ULL : crc >> 1;
    }
    return ~crc;
}

/* Recomputes the trailing checksum of a saved image (to forge otherwise-valid data). */
static inline void reseal(unsigned char *data, size_t size) {
    uint64_t c = crc64_xz(data, size - 8);
    for (int i = 0; i < 8; i++) data[size - 8 + i] = (unsigned char)(c >> (8 * i));
}

#endif
