/*
 * fuzz_load.c - libFuzzer target: arbitrary bytes to every load function.
 *
 * Checks, besides "no crash": statuses are documented ones; a failed load leaves the outputs
 * untouched; information and loading agree; and anything that loads, saved again, gives back
 * exactly the input bytes (the format has one encoding per layer). Every 16th input also goes
 * through a file (fastfood_load_file_info / _f32 / _f64).
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* A failed check: say where, then crash so libFuzzer keeps the input. */
#define FAIL() do { fprintf(stderr, "fuzz check failed at %s:%d\n", __FILE__, __LINE__); abort(); } while (0)
#include <sys/mman.h>
#include <unistd.h>

static fastfood_layer *const SENTINEL = (fastfood_layer *)(uintptr_t)0x77;

static void check_status(fastfood_status s) {
    if (s < FASTFOOD_OK || s > FASTFOOD_ERROR_UNSUPPORTED_VERSION) FAIL();
    if (s != FASTFOOD_OK && fastfood_last_error_message()[0] == '\0') FAIL();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t in = 0, out = 0, count = 0;
    uint64_t seed = 0;
    uint32_t flags = 0, type = 0;
    fastfood_status info = fastfood_load_info(data, size, &in, &out, &seed, &flags, &type, &count);
    check_status(info);

    /* Loading with a small parameter array: must fail unless the data is valid and that small. */
    enum { SMALL = 64 };
    double small[SMALL];
    for (int i = 0; i < SMALL; i++) small[i] = -7.0;
    fastfood_layer *layer = SENTINEL;
    fastfood_status s32 = fastfood_load_f32(data, size, &layer, (float *)small, SMALL);
    check_status(s32);
    if (s32 != FASTFOOD_OK && layer != SENTINEL) FAIL();
    if (s32 == FASTFOOD_OK) {
        if (info != FASTFOOD_OK || type != FASTFOOD_TYPE_F32 || count != SMALL) FAIL();
        fastfood_layer_destroy(layer);
    } else {
        for (int i = 0; i < SMALL; i++)
            if (small[i] != -7.0) FAIL(); /* untouched */
    }

    if (info == FASTFOOD_OK && count <= (1u << 20)) {
        size_t element = type == FASTFOOD_TYPE_F64 ? 8 : 4;
        void *params = malloc(count * element + 1);
        if (!params) return 0;
        layer = NULL;
        fastfood_status s = type == FASTFOOD_TYPE_F64 ? fastfood_load_f64(data, size, &layer, params, count)
                                                      : fastfood_load_f32(data, size, &layer, params, count);
        if (s != FASTFOOD_OK) FAIL(); /* information said it is valid */
        if (fastfood_layer_in_features(layer) != in || fastfood_layer_out_features(layer) != out ||
            fastfood_layer_seed(layer) != seed || fastfood_layer_flags(layer) != flags)
            FAIL();
        size_t again = 0;
        if (fastfood_save_size(layer, type, &again) != FASTFOOD_OK || again != size) FAIL();
        unsigned char *copy = malloc(size);
        if (!copy) FAIL();
        s = type == FASTFOOD_TYPE_F64 ? fastfood_save_f64(layer, params, copy, size)
                                      : fastfood_save_f32(layer, params, copy, size);
        if (s != FASTFOOD_OK || memcmp(copy, data, size) != 0) FAIL(); /* one encoding */
        free(copy);
        free(params);
        fastfood_layer_destroy(layer);
    }

    /* Through a file, now and then (files are slow). */
    uint64_t hash = 1469598103934665603ULL;
    for (size_t i = 0; i < size && i < 64; i++) hash = (hash ^ data[i]) * 1099511628211ULL;
    if ((hash & 15) == 0) {
        int fd = memfd_create("fastfood_fuzz", 0);
        if (fd < 0) return 0;
        if (write(fd, data, size) == (ssize_t)size) {
            char path[64];
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            size_t file_count = 0;
            fastfood_status fi = fastfood_load_file_info(path, NULL, NULL, NULL, NULL, NULL, &file_count);
            check_status(fi);
            if ((fi == FASTFOOD_OK) != (info == FASTFOOD_OK)) FAIL();
            layer = SENTINEL;
            fastfood_status fl = fastfood_load_file_f64(path, &layer, small, SMALL);
            check_status(fl);
            if (fl == FASTFOOD_OK) fastfood_layer_destroy(layer);
            else if (layer != SENTINEL) FAIL();
        }
        close(fd);
    }
    return 0;
}
