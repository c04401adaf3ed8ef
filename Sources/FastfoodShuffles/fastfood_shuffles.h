/*
 * fastfood_shuffles.h - the 8 x 8 float transpose in AVX registers, for the AVX2 kernels' tile
 * transposes (Float.transposeInBlocks in Sources/FastfoodKernels/FastfoodFloat.swift).
 *
 * Why C: written in Swift as lane-by-lane SIMD8 initialisers, each shuffle alone compiles to one
 * instruction, but LLVM sees through the chain of three steps to the source elements and rebuilds
 * it from blends, inserts and broadcasts (about 95 instructions instead of 24). The intrinsics are
 * shufflevectors that it keeps. Internal to the library: not part of the C API, nothing exported.
 * Only the AVX2 kernel variant calls it; the function carries target("avx"), so the header is
 * harmless in the baseline variant, which never calls it.
 */
#ifndef FASTFOOD_SHUFFLES_H
#define FASTFOOD_SHUFFLES_H

#include <stddef.h>
#include <immintrin.h>

/* Rows r0 ... r7 of an 8 x 8 float matrix; column k (element k of every row, in row order) is
 * stored at out + k * stride (unaligned stores). Unpacks of row pairs, shuffles of pairs of
 * pairs, then 128-bit halves: 24 shuffles. */
static inline __attribute__((always_inline, target("avx"))) void
fastfood_transpose8_ps(float *out, size_t stride, __m256 r0, __m256 r1, __m256 r2, __m256 r3, __m256 r4,
                       __m256 r5, __m256 r6, __m256 r7) {
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
    _mm256_storeu_ps(out, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(out + stride, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(out + 2 * stride, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(out + 3 * stride, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(out + 4 * stride, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(out + 5 * stride, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(out + 6 * stride, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_storeu_ps(out + 7 * stride, _mm256_permute2f128_ps(s3, s7, 0x31));
}

#endif
