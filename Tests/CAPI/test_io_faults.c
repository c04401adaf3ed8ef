/*
 * test_io_faults.c - saving and loading files when the system calls fail or are interrupted.
 *
 * This program's own read, write, fsync and close replace the C library's (the real ones are the
 * system calls). While a fault is armed they fail or cut short the library's calls on its files
 * (descriptors above 2), as a failing disk, a network file system or a signal would:
 *   - write, fsync or close failing with EIO: the save returns FASTFOOD_ERROR_IO naming the step
 *     ("cannot write", "cannot flush", "cannot close"), the old file stays byte for byte, and no
 *     temporary file is left;
 *   - write and read interrupted (EINTR on every other call) or short (one byte per call): the
 *     save and the load succeed, bit for bit (the header's "EINTR is retried");
 *   - read failing with EIO: FASTFOOD_ERROR_IO "cannot read"; read meeting the end of the file
 *     after its header (the file shrank after it was measured): FASTFOOD_ERROR_BAD_FORMAT
 *     "ended early"; the caller's layer pointer and parameters untouched either way;
 *   - a file whose header does not match its size: refused having read the header alone;
 * and open, while armed, makes the temporary file's name taken (by a rival file that appears
 * just before the open, as another process saving into the directory could make it): the save
 * tries other names and leaves the rival alone; where every name is taken, FASTFOOD_ERROR_IO.
 * Each case also checks that its fault was injected at least once. Not run under the sanitizers
 * or valgrind (it replaces system-call wrappers they intercept).
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include "dir_entries.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK_RNG_SEED 0x9e3779b97f4a7c15ULL
#include "check.h"

enum fault { NONE, WRITE_EIO, FSYNC_EIO, CLOSE_EIO, WRITE_EINTR, WRITE_SHORT, READ_EINTR, READ_SHORT,
             READ_EIO, READ_EARLY_END, NAME_TAKEN, NAME_ALWAYS_TAKEN };
static enum fault armed = NONE;
static int calls, injected; /* calls of the armed kind on a file, and faults injected */

/* What the armed fault makes of a read or write of *count bytes on descriptor fd, given this
 * call's kinds of fault (NONE where it has none): 1 to make the call, *count cut to one byte for
 * a short one; else the call's result, -1 with errno (EIO, or EINTR on every other call) or 0
 * (the end of the file, after the first call). */
static ssize_t fault_for(int fd, size_t *count, enum fault eio, enum fault eintr, enum fault shortened,
                         enum fault early_end) {
    if (fd <= 2 || armed == NONE || (armed != eio && armed != eintr && armed != shortened && armed != early_end))
        return 1;
    calls++;
    if (armed == early_end && calls > 1) {
        injected++;
        return 0;
    }
    if (armed == eio || (armed == eintr && calls % 2 == 1)) {
        injected++;
        errno = armed == eio ? EIO : EINTR;
        return -1;
    }
    if (armed == shortened && *count > 1) {
        injected++;
        *count = 1;
    }
    return 1;
}

ssize_t write(int fd, const void *buffer, size_t count) {
    ssize_t fault = fault_for(fd, &count, WRITE_EIO, WRITE_EINTR, WRITE_SHORT, NONE);
    return fault == 1 ? syscall(SYS_write, fd, buffer, count) : fault;
}

static size_t bytes_read; /* by read on descriptors above 2 */

ssize_t read(int fd, void *buffer, size_t count) {
    ssize_t fault = fault_for(fd, &count, READ_EIO, READ_EINTR, READ_SHORT, READ_EARLY_END);
    ssize_t result = fault == 1 ? syscall(SYS_read, fd, buffer, count) : fault;
    if (fd > 2 && result > 0) bytes_read += (size_t)result;
    return result;
}

/* The rivals' names, for the checks after the save (NAME_TAKEN takes the first three). */
static char rivals[3][160];

int open(const char *path, int flags, ...) {
    int mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list arguments;
        va_start(arguments, flags);
        mode = va_arg(arguments, int);
        va_end(arguments);
    }
    const char *slash = strrchr(path, '/');
    int temporary = (flags & O_CREAT) && strncmp(slash ? slash + 1 : path, ".fastfood-", 10) == 0;
    if (temporary && armed == NAME_ALWAYS_TAKEN) {
        injected++;
        errno = EEXIST;
        return -1;
    }
    if (temporary && armed == NAME_TAKEN && injected < 3 && strlen(path) < sizeof rivals[0]) {
        int rival = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (rival >= 0) {
            CHECK(syscall(SYS_write, rival, "rival", 5) == 5);
            syscall(SYS_close, rival);
            strcpy(rivals[injected++], path);
        }
    }
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

int fsync(int fd) {
    if (fd > 2 && armed == FSYNC_EIO) {
        injected++;
        errno = EIO;
        return -1;
    }
    return (int)syscall(SYS_fsync, fd);
}

int close(int fd) {
    int result = (int)syscall(SYS_close, fd); /* the descriptor is released either way, as on Linux */
    if (fd > 2 && armed == CLOSE_EIO && result == 0) {
        injected++;
        errno = EIO;
        return -1;
    }
    return result;
}

static void arm(enum fault fault) {
    armed = fault;
    calls = injected = 0;
}

static char dir[] = "/tmp/fastfood_io_XXXXXX";

int main(void) {
    if (!mkdtemp(dir)) { printf("cannot create a directory under /tmp\n"); return 2; }
    char path[128];
    snprintf(path, sizeof path, "%s/layer", dir);
    fastfood_layer *layer = NULL, *other = NULL;
    CHECK(fastfood_layer_create(100, 300, 7, FASTFOOD_LAYER_BIAS, &layer) == FASTFOOD_OK);
    CHECK(fastfood_layer_create(100, 300, 8, FASTFOOD_LAYER_BIAS, &other) == FASTFOOD_OK);
    if (!layer || !other) return report();
    size_t n = fastfood_layer_param_count(layer);
    float *params = xmalloc(n * sizeof *params), *changed = xmalloc(n * sizeof *changed);
    float *loaded = xmalloc(n * sizeof *loaded);
    CHECK(fastfood_init_params_f32(layer, 1, 1.0, params) == FASTFOOD_OK);
    for (size_t i = 0; i < n; i++) changed[i] = (float)uniform();

    /* The file every failed save must leave as it is: the layer's saved image. */
    CHECK(fastfood_save_file_f32(layer, params, path) == FASTFOOD_OK);
    size_t size = 0;
    CHECK(fastfood_save_size(layer, FASTFOOD_TYPE_F32, &size) == FASTFOOD_OK);
    unsigned char *original = xmalloc(size);
    CHECK(fastfood_save_f32(layer, params, original, size) == FASTFOOD_OK);
    CHECK(file_equals(path, original, size));

    /* A save whose write, fsync or close fails: an I/O error naming the step, nothing changed. */
    static const struct { enum fault fault; const char *message; } failing[] = {
        {WRITE_EIO, "cannot write"}, {FSYNC_EIO, "cannot flush"}, {CLOSE_EIO, "cannot close"}};
    for (size_t i = 0; i < sizeof failing / sizeof failing[0]; i++) {
        arm(failing[i].fault);
        fastfood_status status = fastfood_save_file_f32(other, changed, path);
        int faults = injected;
        arm(NONE);
        CHECK(faults > 0);
        CHECK(status == FASTFOOD_ERROR_IO);
        const char *message = fastfood_last_error_message();
        if (!strstr(message, failing[i].message) || !strstr(message, "Input/output error"))
            printf("  %s: message \"%s\"\n", failing[i].message, message);
        CHECK(strstr(message, failing[i].message) != NULL && strstr(message, "Input/output error") != NULL);
        CHECK(file_equals(path, original, size));
        CHECK(count_entries(dir) == 1); /* no temporary file left */
    }

    /* The temporary file's name taken: by a rival file three times (the save completes under
     * another name and the rivals keep their bytes), then every time (an I/O error naming the
     * step, nothing changed). */
    {
        arm(NAME_TAKEN);
        fastfood_status status = fastfood_save_file_f32(layer, params, path);
        int faults = injected;
        arm(NONE);
        CHECK(faults == 3);
        CHECK(status == FASTFOOD_OK);
        CHECK(file_equals(path, original, size));
        for (int i = 0; i < faults; i++) {
            CHECK(file_equals(rivals[i], (const unsigned char *)"rival", 5));
            CHECK(unlink(rivals[i]) == 0);
        }
        CHECK(count_entries(dir) == 1);
        arm(NAME_ALWAYS_TAKEN);
        status = fastfood_save_file_f32(other, changed, path);
        faults = injected;
        arm(NONE);
        CHECK(faults == 1000); /* the header's count of tries */
        CHECK(status == FASTFOOD_ERROR_IO);
        const char *message = fastfood_last_error_message();
        if (!strstr(message, "cannot create a temporary file") || !strstr(message, "File exists"))
            printf("  every name taken: message \"%s\"\n", message);
        CHECK(strstr(message, "cannot create a temporary file") != NULL && strstr(message, "File exists") != NULL);
        CHECK(file_equals(path, original, size));
        CHECK(count_entries(dir) == 1);
    }

    /* Interrupted and short writes: the save completes, byte for byte what an untroubled one writes. */
    static const enum fault retried_writes[] = {WRITE_EINTR, WRITE_SHORT};
    for (size_t i = 0; i < 2; i++) {
        arm(retried_writes[i]);
        fastfood_status status = fastfood_save_file_f32(layer, params, path);
        int faults = injected;
        arm(NONE);
        CHECK(faults > 0);
        CHECK(status == FASTFOOD_OK);
        CHECK(file_equals(path, original, size));
        CHECK(count_entries(dir) == 1);
    }

    /* Interrupted and short reads: the load completes, bit for bit. */
    static const enum fault retried_reads[] = {READ_EINTR, READ_SHORT};
    for (size_t i = 0; i < 2; i++) {
        fastfood_layer *out = NULL;
        memset(loaded, 0, n * sizeof *loaded);
        arm(retried_reads[i]);
        fastfood_status status = fastfood_load_file_f32(path, &out, loaded, n);
        int faults = injected;
        arm(NONE);
        CHECK(faults > 0);
        CHECK(status == FASTFOOD_OK && out != NULL);
        CHECK(memcmp(loaded, params, n * sizeof *params) == 0);
        CHECK(out && fastfood_layer_seed(out) == 7 && fastfood_layer_out_features(out) == 300);
        fastfood_layer_destroy(out);
    }

    /* A read that fails, or ends after the header: refused, the caller's outputs untouched. */
    static const struct { enum fault fault; fastfood_status status; const char *message; } bad_reads[] = {
        {READ_EIO, FASTFOOD_ERROR_IO, "cannot read"}, {READ_EARLY_END, FASTFOOD_ERROR_BAD_FORMAT, "ended early"}};
    for (size_t i = 0; i < 2; i++) {
        fastfood_layer *const sentinel = (fastfood_layer *)(uintptr_t)0x99;
        fastfood_layer *out = sentinel;
        for (size_t j = 0; j < n; j++) loaded[j] = -3.0f;
        arm(bad_reads[i].fault);
        fastfood_status status = fastfood_load_file_f32(path, &out, loaded, n);
        int faults = injected;
        arm(NONE);
        CHECK(faults > 0);
        CHECK(status == bad_reads[i].status);
        const char *message = fastfood_last_error_message();
        if (!strstr(message, bad_reads[i].message)) printf("  %s: message \"%s\"\n", bad_reads[i].message, message);
        CHECK(strstr(message, bad_reads[i].message) != NULL);
        int untouched = out == sentinel;
        for (size_t j = 0; j < n; j++) untouched &= loaded[j] == -3.0f;
        CHECK(untouched);
    }

    /* A header that does not match the file's size (the saved image with 1 MiB appended): refused
     * having read the 64 bytes of the header, not the file (the header's "only a file whose
     * header matches its real size is read in full"). */
    {
        char longer[160];
        snprintf(longer, sizeof longer, "%s/longer", dir);
        FILE *f = fopen(longer, "wb");
        unsigned char *tail = calloc(1, 1 << 20);
        CHECK(f && tail && fwrite(original, 1, size, f) == size && fwrite(tail, 1, 1 << 20, f) == 1 << 20);
        CHECK(f && fclose(f) == 0);
        fastfood_layer *const sentinel = (fastfood_layer *)(uintptr_t)0x99;
        fastfood_layer *out = sentinel;
        bytes_read = 0;
        fastfood_status status = fastfood_load_file_f32(longer, &out, loaded, n);
        size_t read_bytes = bytes_read;
        CHECK(status == FASTFOOD_ERROR_BAD_FORMAT && strstr(fastfood_last_error_message(), "but the header describes"));
        if (read_bytes != 64) printf("  a file longer than its header says: %zu bytes read\n", read_bytes);
        CHECK(read_bytes == 64);
        CHECK(out == sentinel);
        bytes_read = 0;
        CHECK(fastfood_load_file_info(longer, NULL, NULL, NULL, NULL, NULL, NULL) == FASTFOOD_ERROR_BAD_FORMAT);
        CHECK(bytes_read == 64);
        free(tail);
        unlink(longer);
    }

    unlink(path);
    rmdir(dir);
    free(original);
    free(params), free(changed), free(loaded);
    fastfood_layer_destroy(layer);
    fastfood_layer_destroy(other);
    return report();
}
