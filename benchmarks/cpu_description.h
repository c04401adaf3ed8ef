/*
 * cpu_description.h - "vendor, family F model M: name" of the first processor in /proc/cpuinfo,
 * for the first line of the benchmarks (every figure in the README names the CPU that produced
 * it). Plain C, included by bench.c and by torch/bench_torch.cpp.
 */
#ifndef FASTFOOD_BENCH_CPU_DESCRIPTION_H
#define FASTFOOD_BENCH_CPU_DESCRIPTION_H

#include <stdio.h>
#include <string.h>

static inline void cpu_description(char *out, size_t size) {
    char vendor[64] = "?", family[16] = "?", model[16] = "?", name[128] = "?", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f) && line[0] != '\n') {
        char *value = strstr(line, ": ");
        if (!value) continue;
        value += 2;
        value[strcspn(value, "\n")] = 0;
        if (!strncmp(line, "vendor_id", 9)) snprintf(vendor, sizeof vendor, "%s", value);
        else if (!strncmp(line, "cpu family", 10)) snprintf(family, sizeof family, "%s", value);
        else if (!strncmp(line, "model name", 10)) snprintf(name, sizeof name, "%s", value);
        else if (!strncmp(line, "model", 5)) snprintf(model, sizeof model, "%s", value);
    }
    if (f) fclose(f);
    snprintf(out, size, "%s, family %s model %s: %s", vendor, family, model, name);
}

#endif
