/*
 * compare_params.c - compares two float32 parameter dumps of the distributed examples.
 *
 *   compare_params A B TOLERANCE
 *
 * Prints the largest difference relative to the largest magnitude in A, and exits 1 if the
 * files differ in length or that difference exceeds TOLERANCE (0: bitwise equality required).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *read_all(const char *path, size_t *count) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *data = malloc(bytes > 0 ? (size_t)bytes : 1);
    *count = (size_t)bytes / sizeof(float);
    if (!data || fread(data, sizeof(float), *count, f) != *count) { free(data); data = NULL; }
    fclose(f);
    return data;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s A B TOLERANCE\n", argv[0]); return 2; }
    size_t na = 0, nb = 0;
    float *a = read_all(argv[1], &na), *b = read_all(argv[2], &nb);
    if (!a || !b || na != nb || na == 0) { printf("FAIL cannot compare %s and %s\n", argv[1], argv[2]); return 1; }
    double largest = 0, worst = 0;
    for (size_t i = 0; i < na; i++) {
        if (fabs(a[i]) > largest) largest = fabs(a[i]);
        if (fabs((double)a[i] - b[i]) > worst) worst = fabs((double)a[i] - b[i]);
    }
    double relative = worst / (largest > 0 ? largest : 1);
    double tolerance = atof(argv[3]);
    int ok = tolerance == 0 ? memcmp(a, b, na * sizeof(float)) == 0 : relative <= tolerance;
    printf("%s %zu parameters: largest difference %.3g (%.3g of the largest magnitude; tolerance %g)\n",
           ok ? "ok  " : "FAIL", na, worst, relative, tolerance);
    free(a);
    free(b);
    return ok ? 0 : 1;
}
