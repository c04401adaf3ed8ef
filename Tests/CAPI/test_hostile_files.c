/*
 * test_hostile_files.c - saved data that is truncated, corrupted or hostile, paths that are not
 * files, and saves that fail: every case is rejected cleanly, the caller's buffers are untouched,
 * and a failed save leaves the previous file byte-identical.
 *
 * Prints "N passed, M failed" (and SKIP lines, with the reason, for cases this machine cannot
 * set up); exit status 1 on failure.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dir_entries.h"


static unsigned char *good;
static size_t size, count;
static float *params;
static fastfood_layer *const SENTINEL = (fastfood_layer *)(uintptr_t)0x5a5a;

/* Loading `data` through every entry point fails (with one of the allowed statuses), leaving the
 * outputs untouched; also through a file holding the same bytes. */
static int rejected(const unsigned char *data, size_t length, const char *file) {
    fastfood_layer *out = SENTINEL;
    float *q = malloc((count + 1) * sizeof *q);
    double *d = malloc((count + 1) * sizeof *d);
    size_t in = 77;
    if (!q || !d) exit(2);
    for (size_t i = 0; i <= count; i++) { q[i] = -1.0f; d[i] = -1.0; }
    int ok = 1;
    fastfood_status s[4];
    s[0] = fastfood_load_info(data, length, &in, NULL, NULL, NULL, NULL, NULL);
    s[1] = fastfood_load_f32(data, length, &out, q, count);
    s[2] = fastfood_load_f64(data, length, &out, d, count);
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(data, 1, length, f) != length || fclose(f) != 0) exit(2);
    s[3] = fastfood_load_file_f32(file, &out, q, count);
    for (int i = 0; i < 4; i++)
        ok &= s[i] == FASTFOOD_ERROR_BAD_FORMAT || s[i] == FASTFOOD_ERROR_UNSUPPORTED_VERSION ||
              (i == 2 && s[i] == FASTFOOD_ERROR_INVALID_ARGUMENT); /* valid data of the other type */
    ok &= out == SENTINEL && in == 77 && fastfood_last_error_message()[0] != '\0';
    for (size_t i = 0; i <= count; i++) ok &= q[i] == -1.0f && d[i] == -1.0;
    free(q);
    free(d);
    return ok;
}

/* Stores `value` little-endian in the `width` bytes at `offset`. */
static void put_field(unsigned char *data, size_t offset, size_t width, uint64_t value) {
    for (size_t b = 0; b < width; b++) data[offset + b] = (unsigned char)(value >> (8 * b));
}

/* `data` (resealed by the caller) is refused by fastfood_load_info and fastfood_load_f32 with
 * exactly `want` and a message containing `words`: `rejected` accepts either format status, this
 * pins the one the header documents for each field. */
static int refused_as(const unsigned char *data, size_t length, fastfood_status want, const char *words) {
    fastfood_layer *out = SENTINEL;
    float *q = malloc((count + 1) * sizeof *q);
    if (!q) exit(2);
    int ok = 1;
    fastfood_status s = fastfood_load_info(data, length, NULL, NULL, NULL, NULL, NULL, NULL);
    ok &= s == want && strstr(fastfood_last_error_message(), words) != NULL;
    if (!ok) printf("  load_info: status %d (%s), expected %d with \"%s\"\n", s, fastfood_last_error_message(), want, words);
    s = fastfood_load_f32(data, length, &out, q, count);
    ok &= s == want && strstr(fastfood_last_error_message(), words) != NULL && out == SENTINEL;
    free(q);
    return ok;
}

/* A save that fails must leave the previous file byte-identical and no temporary file behind. */
static void check_failed_save(const char *dir, const char *path, const char *why) {
    fastfood_layer *big = NULL;
    CHECK(fastfood_layer_create(300, 900, 9, FASTFOOD_LAYER_BIAS, &big) == FASTFOOD_OK);
    size_t n = fastfood_layer_param_count(big);
    float *p = calloc(n, sizeof *p);
    fastfood_status st = fastfood_save_file_f32(big, p, path);
    if (st != FASTFOOD_ERROR_IO) printf("  %s: status %d (%s)\n", why, st, fastfood_last_error_message());
    CHECK(st == FASTFOOD_ERROR_IO);
    CHECK(file_equals(path, good, size));
    CHECK(count_entries(dir) == 1);
    free(p);
    fastfood_layer_destroy(big);
}

int main(void) {
    umask(022); /* the usual umask, whatever the caller's: new files are 0666 less it (0644) */
    fastfood_layer *layer = NULL;
    CHECK(fastfood_layer_create(3, 5, 1234, FASTFOOD_LAYER_BIAS, &layer) == FASTFOOD_OK);
    count = fastfood_layer_param_count(layer);
    params = malloc(count * sizeof *params);
    CHECK(fastfood_init_params_f32(layer, 2, 1.0, params) == FASTFOOD_OK);
    CHECK(fastfood_save_size(layer, FASTFOOD_TYPE_F32, &size) == FASTFOOD_OK);
    good = malloc(size);
    unsigned char *bad = malloc(size + 64);
    CHECK(fastfood_save_f32(layer, params, good, size) == FASTFOOD_OK);

    char dir[] = "/tmp/fastfood_hostile_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char scratch[256], path[256];
    snprintf(scratch, sizeof scratch, "%s/scratch.layer", dir);

    /* Truncated at every length, and one byte too long: resealed (the last 8 bytes a valid
     * checksum of everything before them), so it is refused for its size, not by the checksum. */
    int all = 1;
    for (size_t length = 0; length < size; length++) all &= rejected(good, length, scratch);
    memcpy(bad, good, size);
    bad[size] = 0;
    reseal(bad, size + 1);
    all &= rejected(bad, size + 1, scratch) && strstr(fastfood_last_error_message(), "but the header describes") != NULL;
    CHECK(all);
    printf("  %zu truncations and one extension rejected\n", size);

    /* Every single bit flipped. */
    all = 1;
    for (size_t bit = 0; bit < 8 * size; bit++) {
        memcpy(bad, good, size);
        bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        all &= rejected(bad, size, scratch);
    }
    CHECK(all);
    printf("  %zu single-bit flips rejected\n", 8 * size);

    /* Header fields set to extreme values, with a correct checksum. */
    static const struct { size_t offset, width; } fields[] = {
        {8, 4}, {12, 4}, {16, 8}, {24, 8}, {32, 8}, {40, 4}, {44, 4}, {48, 8}, {56, 8}};
    static const uint64_t extremes[] = {0, 1, 2, 0x7fffffffULL, 0x80000000ULL, 0xffffffffULL,
                                        0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, 1ULL << 40};
    all = 1;
    int cases = 0;
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
        for (size_t e = 0; e < sizeof extremes / sizeof extremes[0]; e++) {
            memcpy(bad, good, size);
            uint64_t value = extremes[e];
            for (size_t b = 0; b < fields[f].width; b++) bad[fields[f].offset + b] = (unsigned char)(value >> (8 * b));
            if (memcmp(bad, good, size - 8) == 0) continue; /* the original value */
            reseal(bad, size);
            all &= rejected(bad, size, scratch);
            cases++;
        }
    CHECK(all);
    printf("  %d extreme header values rejected\n", cases);

    /* Fields whose wrong values have one documented answer, each resealed so that only the
     * field is wrong: the magic's last byte (its NUL), format versions that never existed (0:
     * BAD_FORMAT) and newer ones (UNSUPPORTED_VERSION), unknown flag bits high and low beside the
     * valid ones. */
    memcpy(bad, good, size);
    bad[7] = 'X';
    reseal(bad, size);
    CHECK(refused_as(bad, size, FASTFOOD_ERROR_BAD_FORMAT, "magic"));
    static const struct { uint32_t version; fastfood_status status; const char *words; } versions[] = {
        {0, FASTFOOD_ERROR_BAD_FORMAT, "does not exist"}, {2, FASTFOOD_ERROR_UNSUPPORTED_VERSION, "newer"},
        {0xffffffffu, FASTFOOD_ERROR_UNSUPPORTED_VERSION, "newer"}};
    for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
        memcpy(bad, good, size);
        put_field(bad, 8, 4, versions[v].version);
        reseal(bad, size);
        CHECK(refused_as(bad, size, versions[v].status, versions[v].words));
    }
    static const uint32_t unknown_flags[] = {0x4, 0x100, 0x10000, 0x80000000u, 0xabc0};
    for (size_t f = 0; f < sizeof unknown_flags / sizeof unknown_flags[0]; f++) {
        char words[48];
        snprintf(words, sizeof words, "unknown layer flag bits 0x%x", unknown_flags[f]);
        memcpy(bad, good, size);
        put_field(bad, 40, 4, FASTFOOD_LAYER_BIAS | unknown_flags[f]);
        reseal(bad, size);
        CHECK(refused_as(bad, size, FASTFOOD_ERROR_BAD_FORMAT, words));
    }
    {
        /* A header whose size does not fit an address space: 1 -> (2^60 - 1) / 3 without bias is
         * a valid shape of 2^60 - 1 parameters, whose float64 bytes plus header and checksum
         * pass 2^63. Refused as such (not as a wrapped, negative size), in 72 bytes. */
        unsigned char header[72];
        memcpy(header, good, 64);
        put_field(header, 16, 8, 1);
        put_field(header, 24, 8, ((1ULL << 60) - 1) / 3);
        put_field(header, 40, 4, 0);
        put_field(header, 44, 4, FASTFOOD_TYPE_F64);
        put_field(header, 48, 8, (1ULL << 60) - 1);
        reseal(header, sizeof header);
        CHECK(refused_as(header, sizeof header, FASTFOOD_ERROR_BAD_FORMAT, "address space"));
    }

    /* Paths that are not regular files, or nothing. */
    fastfood_layer *out = SENTINEL;
    float q[64];
    CHECK(fastfood_load_file_f32(dir, &out, q, count) == FASTFOOD_ERROR_IO);
    CHECK(strstr(fastfood_last_error_message(), "not a regular file") != NULL);
    snprintf(path, sizeof path, "%s/fifo", dir);
    CHECK(mkfifo(path, 0600) == 0);
    CHECK(fastfood_load_file_f32(path, &out, q, count) == FASTFOOD_ERROR_IO); /* must not block */
    CHECK(fastfood_load_file_info(path, NULL, NULL, NULL, NULL, NULL, NULL) == FASTFOOD_ERROR_IO);
    CHECK(unlink(path) == 0);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK(fastfood_load_file_f32(path, &out, q, count) == FASTFOOD_ERROR_IO);
    CHECK(fastfood_load_file_f32("", &out, q, count) == FASTFOOD_ERROR_IO);
    CHECK(out == SENTINEL);
    CHECK(unlink(scratch) == 0);

    /* Failed saves leave the previous file byte-identical. */
    snprintf(path, sizeof path, "%s/layer", dir);
    CHECK(fastfood_save_file_f32(layer, params, path) == FASTFOOD_OK);
    CHECK(file_equals(path, good, size));
    {
        /* A new file gets 0666 less the umask (0644), a replaced one keeps its mode. */
        struct stat mode;
        CHECK(stat(path, &mode) == 0 && (mode.st_mode & 0777) == 0644);
        CHECK(chmod(path, 0640) == 0);
        CHECK(fastfood_save_file_f32(layer, params, path) == FASTFOOD_OK);
        CHECK(stat(path, &mode) == 0 && (mode.st_mode & 0777) == 0640);
    }
    {
        /* The file size limit: the write fails part way (EFBIG). */
        struct rlimit old, limit;
        CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
        signal(SIGXFSZ, SIG_IGN);
        limit = old;
        limit.rlim_cur = 4096;
        CHECK(setrlimit(RLIMIT_FSIZE, &limit) == 0);
        check_failed_save(dir, path, "file size limit");
        CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
        signal(SIGXFSZ, SIG_DFL);
    }
    /* A read-only directory (only meaningful when permissions apply, i.e. not as root). */
    if (geteuid() != 0) {
        CHECK(chmod(dir, 0500) == 0);
        check_failed_save(dir, path, "read-only directory");
        CHECK(chmod(dir, 0700) == 0);
    } else {
        printf("SKIP read-only directory: running as root, which ignores directory permissions "
               "(the file size limit and the full filesystem cover failed saves)\n");
    }
    /* A deliberately full small filesystem. */
    char small[300], small_path[320];
    snprintf(small, sizeof small, "%s/small", dir);
    CHECK(mkdir(small, 0700) == 0);
    if (mount("tmpfs", small, "tmpfs", 0, "size=16k") == 0) {
        snprintf(small_path, sizeof small_path, "%s/layer", small);
        CHECK(fastfood_save_file_f32(layer, params, small_path) == FASTFOOD_OK);
        check_failed_save(small, small_path, "full filesystem");
        CHECK(umount(small) == 0);
    } else {
        printf("SKIP full filesystem: mounting a small tmpfs is not permitted here (%s)\n", strerror(errno));
    }

    char command[300];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    CHECK(system(command) == 0);
    free(params);
    free(good);
    free(bad);
    fastfood_layer_destroy(layer);
    return report();
}
