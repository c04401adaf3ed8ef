#include "FastfoodCPU.h"

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
