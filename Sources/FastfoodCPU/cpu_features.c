#include "FastfoodCPU.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

int fastfood_internal_cpu_features(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    int features = 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("bmi2"))
        features |= FASTFOOD_CPU_AVX2;
    if ((features & FASTFOOD_CPU_AVX2) && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        features |= FASTFOOD_CPU_AVX512;
    return features;
#else
    return 0;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
/* The largest data or unified cache that cpuid's deterministic cache parameters list under
 * `leaf` (4 on Intel, 0x8000001D on AMD; same layout), 0 if none. */
static long largest_cache(unsigned leaf) {
    long largest = 0;
    for (unsigned index = 0; index < 16; index++) {
        unsigned eax, ebx, ecx, edx;
        if (!__get_cpuid_count(leaf, index, &eax, &ebx, &ecx, &edx)) break;
        unsigned type = eax & 31; /* 0: no more caches; 1 data, 2 instruction, 3 unified */
        if (type == 0) break;
        if (type == 2) continue;
        long ways = (long)(ebx >> 22) + 1, partitions = (long)((ebx >> 12) & 0x3ff) + 1;
        long line = (long)(ebx & 0xfff) + 1, sets = (long)ecx + 1;
        long size = ways * partitions * line * sets;
        if (size > largest) largest = size;
    }
    return largest;
}
#endif

long fastfood_internal_last_level_cache_bytes(void) {
    /* From cpuid itself, as the kernel's /sys/devices/system/cpu/cpu0/cache does: glibc 2.36's
     * sysconf(_SC_LEVEL3_CACHE_SIZE) said 320 MiB for this AMD EPYC guest's 32 MiB L3. */
#if defined(__x86_64__) || defined(__i386__)
    unsigned max_basic = __get_cpuid_max(0, 0), max_extended = __get_cpuid_max(0x80000000u, 0);
    long size = max_basic >= 4 ? largest_cache(4) : 0;
    if (size == 0 && max_extended >= 0x8000001du) size = largest_cache(0x8000001du);
    return size;
#else
    return 0;
#endif
}
