/*
 * fastfood_shuffles.h - tile transposes and table lookups in registers: the 8 x 8 float
 * transpose in AVX registers for the AVX2 kernels (Float.transposeInBlocks in
 * Sources/FastfoodKernels/FastfoodFloat.swift), and since 1.4.9 the 16 x 16 float and 8 x 8
 * double transposes in AVX-512 registers for the AVX-512 kernels (Float and Double
 * transposeSteps there).
 *
 * Why C: written in Swift as lane-by-lane SIMD initialisers, each shuffle alone compiles to one
 * instruction, but LLVM sees through the chain of steps to the source elements and rebuilds it
 * from blends, inserts and broadcasts (about 95 instructions instead of 24 for the 8 x 8), so the
 * Swift transposes pass their steps through memory instead (on AVX-512, 3 of 4 steps: 4 stores
 * per row, two cycles each on Zen 4). The intrinsics are shufflevectors that LLVM keeps. Internal
 * to the library: not part of the C API, nothing exported. Each function carries its target
 * ("avx", "avx2", "avx512f") and only the variant built for it calls it, so the header is
 * harmless in the others.
 *
 * Since 1.4.10 also the table lookups of the float features' cos and sin (Float.cosSin in
 * Sources/FastfoodKernels/SineCosine.swift): 32 floats in registers indexed by the low 5 bits of
 * each lane, one two-source permute with AVX-512, two permutes and a blend with AVX2.
 *
 * Since 1.5.0 also the non-temporal stores of large outputs (storeStreaming in
 * Sources/FastfoodKernels/FastfoodFloat.swift, TileKernels.scatter): Swift has no way to ask
 * for them.
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

/* Rows r0 ... r15 of a 16 x 16 float matrix; column k is stored at out + k * stride (unaligned
 * stores). Unpacks of row pairs, shuffles of pairs of pairs, then 128-bit lanes twice: 64 shuffles,
 * all in registers. For the AVX-512 kernels' tile transposes. */
static inline __attribute__((always_inline, target("avx512f"))) void
fastfood_transpose16_ps(float *out, size_t stride, __m512 r0, __m512 r1, __m512 r2, __m512 r3, __m512 r4,
                        __m512 r5, __m512 r6, __m512 r7, __m512 r8, __m512 r9, __m512 r10, __m512 r11,
                        __m512 r12, __m512 r13, __m512 r14, __m512 r15) {
    /* t: pairs of rows interleaved element by element (within 128-bit lanes). */
    const __m512 t0 = _mm512_unpacklo_ps(r0, r1), t1 = _mm512_unpackhi_ps(r0, r1);
    const __m512 t2 = _mm512_unpacklo_ps(r2, r3), t3 = _mm512_unpackhi_ps(r2, r3);
    const __m512 t4 = _mm512_unpacklo_ps(r4, r5), t5 = _mm512_unpackhi_ps(r4, r5);
    const __m512 t6 = _mm512_unpacklo_ps(r6, r7), t7 = _mm512_unpackhi_ps(r6, r7);
    const __m512 t8 = _mm512_unpacklo_ps(r8, r9), t9 = _mm512_unpackhi_ps(r8, r9);
    const __m512 ta = _mm512_unpacklo_ps(r10, r11), tb = _mm512_unpackhi_ps(r10, r11);
    const __m512 tc = _mm512_unpacklo_ps(r12, r13), td = _mm512_unpackhi_ps(r12, r13);
    const __m512 te = _mm512_unpacklo_ps(r14, r15), tf = _mm512_unpackhi_ps(r14, r15);
    /* u: four rows' element j side by side in each 128-bit lane. */
    const __m512 u0 = _mm512_shuffle_ps(t0, t2, 0x44), u1 = _mm512_shuffle_ps(t0, t2, 0xee);
    const __m512 u2 = _mm512_shuffle_ps(t1, t3, 0x44), u3 = _mm512_shuffle_ps(t1, t3, 0xee);
    const __m512 u4 = _mm512_shuffle_ps(t4, t6, 0x44), u5 = _mm512_shuffle_ps(t4, t6, 0xee);
    const __m512 u6 = _mm512_shuffle_ps(t5, t7, 0x44), u7 = _mm512_shuffle_ps(t5, t7, 0xee);
    const __m512 u8 = _mm512_shuffle_ps(t8, ta, 0x44), u9 = _mm512_shuffle_ps(t8, ta, 0xee);
    const __m512 ua = _mm512_shuffle_ps(t9, tb, 0x44), ub = _mm512_shuffle_ps(t9, tb, 0xee);
    const __m512 uc = _mm512_shuffle_ps(tc, te, 0x44), ud = _mm512_shuffle_ps(tc, te, 0xee);
    const __m512 ue = _mm512_shuffle_ps(td, tf, 0x44), uf = _mm512_shuffle_ps(td, tf, 0xee);
    /* v: 128-bit lanes 0 and 2 (resp. 1 and 3) of rows 0-3 and 4-7 (resp. 8-11 and 12-15). */
    const __m512 v0 = _mm512_shuffle_f32x4(u0, u4, 0x88), v1 = _mm512_shuffle_f32x4(u1, u5, 0x88);
    const __m512 v2 = _mm512_shuffle_f32x4(u2, u6, 0x88), v3 = _mm512_shuffle_f32x4(u3, u7, 0x88);
    const __m512 v4 = _mm512_shuffle_f32x4(u0, u4, 0xdd), v5 = _mm512_shuffle_f32x4(u1, u5, 0xdd);
    const __m512 v6 = _mm512_shuffle_f32x4(u2, u6, 0xdd), v7 = _mm512_shuffle_f32x4(u3, u7, 0xdd);
    const __m512 v8 = _mm512_shuffle_f32x4(u8, uc, 0x88), v9 = _mm512_shuffle_f32x4(u9, ud, 0x88);
    const __m512 va = _mm512_shuffle_f32x4(ua, ue, 0x88), vb = _mm512_shuffle_f32x4(ub, uf, 0x88);
    const __m512 vc = _mm512_shuffle_f32x4(u8, uc, 0xdd), vd = _mm512_shuffle_f32x4(u9, ud, 0xdd);
    const __m512 ve = _mm512_shuffle_f32x4(ua, ue, 0xdd), vf = _mm512_shuffle_f32x4(ub, uf, 0xdd);
    _mm512_storeu_ps(out + 0 * stride, _mm512_shuffle_f32x4(v0, v8, 0x88));
    _mm512_storeu_ps(out + 1 * stride, _mm512_shuffle_f32x4(v1, v9, 0x88));
    _mm512_storeu_ps(out + 2 * stride, _mm512_shuffle_f32x4(v2, va, 0x88));
    _mm512_storeu_ps(out + 3 * stride, _mm512_shuffle_f32x4(v3, vb, 0x88));
    _mm512_storeu_ps(out + 4 * stride, _mm512_shuffle_f32x4(v4, vc, 0x88));
    _mm512_storeu_ps(out + 5 * stride, _mm512_shuffle_f32x4(v5, vd, 0x88));
    _mm512_storeu_ps(out + 6 * stride, _mm512_shuffle_f32x4(v6, ve, 0x88));
    _mm512_storeu_ps(out + 7 * stride, _mm512_shuffle_f32x4(v7, vf, 0x88));
    _mm512_storeu_ps(out + 8 * stride, _mm512_shuffle_f32x4(v0, v8, 0xdd));
    _mm512_storeu_ps(out + 9 * stride, _mm512_shuffle_f32x4(v1, v9, 0xdd));
    _mm512_storeu_ps(out + 10 * stride, _mm512_shuffle_f32x4(v2, va, 0xdd));
    _mm512_storeu_ps(out + 11 * stride, _mm512_shuffle_f32x4(v3, vb, 0xdd));
    _mm512_storeu_ps(out + 12 * stride, _mm512_shuffle_f32x4(v4, vc, 0xdd));
    _mm512_storeu_ps(out + 13 * stride, _mm512_shuffle_f32x4(v5, vd, 0xdd));
    _mm512_storeu_ps(out + 14 * stride, _mm512_shuffle_f32x4(v6, ve, 0xdd));
    _mm512_storeu_ps(out + 15 * stride, _mm512_shuffle_f32x4(v7, vf, 0xdd));
}

/* Rows r0 ... r7 of an 8 x 8 double matrix; column k is stored at out + k * stride (unaligned
 * stores). Unpacks of row pairs, then 128-bit lanes twice: 24 shuffles. For the AVX-512 kernels. */
static inline __attribute__((always_inline, target("avx512f"))) void
fastfood_transpose8_pd(double *out, size_t stride, __m512d r0, __m512d r1, __m512d r2, __m512d r3, __m512d r4,
                       __m512d r5, __m512d r6, __m512d r7) {
    const __m512d t0 = _mm512_unpacklo_pd(r0, r1), t1 = _mm512_unpackhi_pd(r0, r1);
    const __m512d t2 = _mm512_unpacklo_pd(r2, r3), t3 = _mm512_unpackhi_pd(r2, r3);
    const __m512d t4 = _mm512_unpacklo_pd(r4, r5), t5 = _mm512_unpackhi_pd(r4, r5);
    const __m512d t6 = _mm512_unpacklo_pd(r6, r7), t7 = _mm512_unpackhi_pd(r6, r7);
    const __m512d u0 = _mm512_shuffle_f64x2(t0, t2, 0x88), u1 = _mm512_shuffle_f64x2(t0, t2, 0xdd);
    const __m512d u2 = _mm512_shuffle_f64x2(t4, t6, 0x88), u3 = _mm512_shuffle_f64x2(t4, t6, 0xdd);
    const __m512d u4 = _mm512_shuffle_f64x2(t1, t3, 0x88), u5 = _mm512_shuffle_f64x2(t1, t3, 0xdd);
    const __m512d u6 = _mm512_shuffle_f64x2(t5, t7, 0x88), u7 = _mm512_shuffle_f64x2(t5, t7, 0xdd);
    _mm512_storeu_pd(out + 0 * stride, _mm512_shuffle_f64x2(u0, u2, 0x88));
    _mm512_storeu_pd(out + 1 * stride, _mm512_shuffle_f64x2(u4, u6, 0x88));
    _mm512_storeu_pd(out + 2 * stride, _mm512_shuffle_f64x2(u1, u3, 0x88));
    _mm512_storeu_pd(out + 3 * stride, _mm512_shuffle_f64x2(u5, u7, 0x88));
    _mm512_storeu_pd(out + 4 * stride, _mm512_shuffle_f64x2(u0, u2, 0xdd));
    _mm512_storeu_pd(out + 5 * stride, _mm512_shuffle_f64x2(u4, u6, 0xdd));
    _mm512_storeu_pd(out + 6 * stride, _mm512_shuffle_f64x2(u1, u3, 0xdd));
    _mm512_storeu_pd(out + 7 * stride, _mm512_shuffle_f64x2(u5, u7, 0xdd));
}

/* Lane i: table[index[i] mod 32], the table's entries 0-15 in lo and 16-31 in hi (the permute
 * reads the low 5 bits of each index and ignores the rest). */
static inline __attribute__((always_inline, target("avx512f"))) __m512
fastfood_lookup32_ps(__m512i index, __m512 lo, __m512 hi) {
    return _mm512_permutex2var_ps(lo, index, hi);
}

/* The same for 8 lanes with AVX2, for a table whose entries 16-31 are entries 0-15 negated (as
 * Float.cosSin's is): entry index[i] mod 16 from t0 (entries 0-7) and t1 (8-15), picked by bit 3
 * of the index moved to the sign bit, then bit 4 moved to the sign bit flips the sign. Two
 * permutes, a blend and four bit operations, where all 32 entries took four permutes, three
 * blends and two shifts. */
static inline __attribute__((always_inline, target("avx2"))) __m256
fastfood_lookup32_ps_avx2(__m256i index, __m256 t0, __m256 t1) {
    const __m256 bit3 = _mm256_castsi256_ps(_mm256_slli_epi32(index, 28));
    const __m256 entry =
        _mm256_blendv_ps(_mm256_permutevar8x32_ps(t0, index), _mm256_permutevar8x32_ps(t1, index), bit3);
    const __m256i sign = _mm256_and_si256(_mm256_slli_epi32(index, 27), _mm256_set1_epi32((int)0x80000000u));
    return _mm256_xor_ps(entry, _mm256_castsi256_ps(sign));
}

/* Non-temporal stores of one kernel vector (16 floats or 8 doubles, 64 bytes) at p, which must be
 * 64-byte aligned: the line goes to memory through a write-combining buffer instead of being read
 * into the cache first and evicting something else. Weakly ordered: fastfood_store_fence() before
 * anything that publishes the data to another thread. For the AVX-512 kernels. */
static inline __attribute__((always_inline, target("avx512f"))) void
fastfood_stream16_ps(float *p, __m512 v) {
    _mm512_stream_ps(p, v);
}

static inline __attribute__((always_inline, target("avx512f"))) void
fastfood_stream8_pd(double *p, __m512d v) {
    _mm512_stream_pd(p, v);
}

/* Orders the non-temporal stores before every later store (sfence). */
static inline __attribute__((always_inline)) void
fastfood_store_fence(void) {
    _mm_sfence();
}

#endif
