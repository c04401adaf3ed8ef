/*
 * test_paths.c - file names are bytes, as POSIX has them, and saving and loading behave as the
 * header says for awkward paths:
 *   - names that are not UTF-8 ("a\xff.layer") are saved and loaded under exactly those bytes,
 *     two such names never collide, and messages show the bytes as \xNN;
 *   - names that are UTF-8 appear in messages as they are;
 *   - a message longer than 511 bytes (a long path in it) is cut there;
 *   - names of NAME_MAX (255) bytes save and load (the temporary file has a short name of its own);
 *   - saving through a symbolic link replaces the file it points to and keeps the link;
 *   - a file too large for the memory available is FASTFOOD_ERROR_OUT_OF_MEMORY, not an I/O error;
 *   - a new file's mode is 0666 less the umask, as fopen's (since 1.2.1), a replaced file keeps its
 *     mode, and the descriptor of the file being written is close-on-exec (since 1.2.1), so a
 *     program another thread starts meanwhile does not inherit it;
 *   - concurrent saves to one path leave one of the layers whole, and to several paths in one
 *     directory all succeed; no temporary file is left either way.
 * Prints "N passed, M failed"; exit status 1 on failure.
 */
#define _GNU_SOURCE
#include <fastfood.h>

#include "dir_entries.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static char dir[] = "/tmp/fastfood_paths_XXXXXX";

/* fsync, replaced: the library flushes the file it writes (and its directory) through it, so this
 * sees those descriptors and counts the ones a program started meanwhile would inherit. */
static int fsync_calls, fsync_inheritable;
int fsync(int fd) {
    __atomic_fetch_add(&fsync_calls, 1, __ATOMIC_RELAXED); /* saves run on several threads below */
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || !(flags & FD_CLOEXEC)) __atomic_fetch_add(&fsync_inheritable, 1, __ATOMIC_RELAXED);
    return (int)syscall(SYS_fsync, fd);
}

static fastfood_layer *make(size_t in, size_t out, uint64_t seed, float **params) {
    fastfood_layer *layer = NULL;
    if (fastfood_layer_create(in, out, seed, FASTFOOD_LAYER_BIAS, &layer) != FASTFOOD_OK) exit(2);
    size_t n = fastfood_layer_param_count(layer);
    *params = malloc(n * sizeof **params);
    if (!*params) exit(2);
    fastfood_init_params_f32(layer, seed, 1.0, *params);
    return layer;
}

/* Loads `path` and compares with (layer, params). */
static int loads_as(const char *path, const fastfood_layer *layer, const float *params) {
    size_t n = fastfood_layer_param_count(layer);
    float *q = malloc(n * sizeof *q);
    fastfood_layer *loaded = NULL;
    int ok = q && fastfood_load_file_f32(path, &loaded, q, n) == FASTFOOD_OK &&
             fastfood_layer_seed(loaded) == fastfood_layer_seed(layer) && memcmp(q, params, n * sizeof *q) == 0;
    fastfood_layer_destroy(loaded);
    free(q);
    return ok;
}

static int entries(void) { return count_entries(dir); } /* in dir, without . and .. */

static void test_non_utf8(void) {
    float *p1, *p2;
    fastfood_layer *a = make(10, 20, 1, &p1), *b = make(10, 20, 2, &p2);
    char ff[256], fe[256], replacement[256], missing[256];
    snprintf(ff, sizeof ff, "%s/a\xff.layer", dir);
    snprintf(fe, sizeof fe, "%s/a\xfe.layer", dir);
    snprintf(replacement, sizeof replacement, "%s/a\xef\xbf\xbd.layer", dir);
    snprintf(missing, sizeof missing, "%s/b\xff.layer", dir);
    CHECK(fastfood_save_file_f32(a, p1, ff) == FASTFOOD_OK);
    struct stat st;
    CHECK(stat(ff, &st) == 0);               /* exactly these bytes */
    CHECK(stat(replacement, &st) != 0);      /* not U+FFFD */
    CHECK(fastfood_save_file_f32(b, p2, fe) == FASTFOOD_OK);
    CHECK(loads_as(ff, a, p1));              /* not overwritten by the second save */
    CHECK(loads_as(fe, b, p2));
    CHECK(entries() == 2);
    fastfood_layer *none = NULL;
    CHECK(fastfood_load_file_f32(missing, &none, p1, fastfood_layer_param_count(a)) == FASTFOOD_ERROR_IO);
    CHECK(strstr(fastfood_last_error_message(), "b\\xff.layer") != NULL);
    /* A name that is valid UTF-8 appears in messages as it is, multi-byte characters included. */
    char accented[256];
    snprintf(accented, sizeof accented, "%s/caf\xc3\xa9-\xe2\x82\xac.layer", dir);
    CHECK(fastfood_load_file_f32(accented, &none, p1, fastfood_layer_param_count(a)) == FASTFOOD_ERROR_IO);
    CHECK(strstr(fastfood_last_error_message(), "caf\xc3\xa9-\xe2\x82\xac.layer") != NULL);
    unlink(ff);
    unlink(fe);
    fastfood_layer_destroy(a);
    fastfood_layer_destroy(b);
    free(p1);
    free(p2);
}

/* A message longer than the header's 511 bytes (a long path in it) is cut there, NUL-terminated,
 * its beginning intact. */
static void test_long_message(void) {
    char path[2048];
    int n = snprintf(path, sizeof path, "%s/no-such-directory/", dir);
    while (n < 2000) path[n++] = 'x';
    path[n] = 0;
    float p[8] = {0};
    fastfood_layer *layer = NULL;
    CHECK(fastfood_layer_create(2, 2, 1, 0, &layer) == FASTFOOD_OK);
    CHECK(fastfood_save_file_f32(layer, p, path) == FASTFOOD_ERROR_IO);
    const char *message = fastfood_last_error_message();
    size_t length = strlen(message);
    if (length != 511) printf("  a long message: %zu bytes\n", length);
    CHECK(length == 511);
    CHECK(strstr(message, "fastfood_save_file_f32") == message && strstr(message, "no-such-directory/xxx") != NULL);
    fastfood_layer_destroy(layer);
}

static void test_name_max(void) {
    float *p;
    fastfood_layer *a = make(5, 7, 3, &p);
    char path[512];
    int prefix = snprintf(path, sizeof path, "%s/", dir);
    for (int len = 245; len <= 255; len += 5) {
        memset(path + prefix, 'n', (size_t)len);
        memcpy(path + prefix + len - 6, ".layer", 7);
        CHECK(fastfood_save_file_f32(a, p, path) == FASTFOOD_OK);
        CHECK(loads_as(path, a, p));
        unlink(path);
    }
    /* 256 bytes is not a valid name: an I/O error with the system's reason, nothing left over. */
    memset(path + prefix, 'n', 256);
    path[prefix + 256] = 0;
    CHECK(fastfood_save_file_f32(a, p, path) == FASTFOOD_ERROR_IO);
    CHECK(strstr(fastfood_last_error_message(), "too long") != NULL);
    CHECK(entries() == 0);
    fastfood_layer_destroy(a);
    free(p);
}

static void test_symlink(void) {
    float *p1, *p2;
    fastfood_layer *a = make(10, 20, 1, &p1), *b = make(10, 20, 2, &p2);
    char target[256], link[256], dangling[256];
    snprintf(target, sizeof target, "%s/target.layer", dir);
    snprintf(link, sizeof link, "%s/link.layer", dir);
    snprintf(dangling, sizeof dangling, "%s/dangling.layer", dir);
    CHECK(fastfood_save_file_f32(a, p1, target) == FASTFOOD_OK);
    CHECK(symlink("target.layer", link) == 0);
    CHECK(fastfood_save_file_f32(b, p2, link) == FASTFOOD_OK);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode)); /* the link stays a link */
    CHECK(loads_as(target, b, p2));                      /* its target was replaced */
    CHECK(entries() == 2);
    /* A link to nothing is refused (the library does not guess where to create the file). */
    CHECK(symlink("nowhere/x.layer", dangling) == 0);
    CHECK(fastfood_save_file_f32(a, p1, dangling) == FASTFOOD_ERROR_IO);
    CHECK(strstr(fastfood_last_error_message(), "symbolic link") != NULL);
    unlink(dangling);
    unlink(link);
    unlink(target);
    fastfood_layer_destroy(a);
    fastfood_layer_destroy(b);
    free(p1);
    free(p2);
}

/* Modes under several umasks (the umask is the process's: in a child), then close-on-exec. */
static void test_modes_and_descriptors(void) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        float *p;
        fastfood_layer *a = make(10, 20, 1, &p);
        static const mode_t masks[] = {022, 077, 002, 027, 0};
        char path[256];
        struct stat st;
        int bad = 0;
        for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
            umask(masks[i]);
            snprintf(path, sizeof path, "%s/mode%zu.layer", dir, i);
            if (fastfood_save_file_f32(a, p, path) != FASTFOOD_OK || stat(path, &st) != 0 ||
                (st.st_mode & 0777) != (0666 & ~masks[i])) {
                printf("umask %03o: mode %03o, expected %03o\n", (unsigned)masks[i], (unsigned)(st.st_mode & 0777),
                       (unsigned)(0666 & ~masks[i]));
                bad = 1;
            }
            /* Replaced under another umask: the file keeps the mode it had. */
            umask(077);
            if (chmod(path, 0604) != 0 || fastfood_save_file_f32(a, p, path) != FASTFOOD_OK || stat(path, &st) != 0 ||
                (st.st_mode & 0777) != 0604) {
                printf("replaced: mode %03o, expected 604\n", (unsigned)(st.st_mode & 0777));
                bad = 1;
            }
            unlink(path);
        }
        fflush(stdout);
        _exit(bad);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    float *p;
    fastfood_layer *a = make(10, 20, 1, &p);
    char path[256];
    snprintf(path, sizeof path, "%s/cloexec.layer", dir);
    fsync_calls = fsync_inheritable = 0;
    CHECK(fastfood_save_file_f32(a, p, path) == FASTFOOD_OK);
    CHECK(fsync_calls == 2);        /* the file, then its directory */
    CHECK(fsync_inheritable == 0);
    CHECK(fastfood_save_file_f32(a, p, path) == FASTFOOD_OK); /* replacing too */
    CHECK(fsync_calls == 4 && fsync_inheritable == 0);
    CHECK(loads_as(path, a, p));
    unlink(path);
    CHECK(entries() == 0);
    fastfood_layer_destroy(a);
    free(p);
}

/* Threads saving their own layer, each to the shared path and to a path of its own, at once. */
enum { SAVERS = 4, SAVES = 40 };
static fastfood_layer *saver_layer[SAVERS];
static float *saver_params[SAVERS];
static int saver_failures[SAVERS];

static void *saver(void *arg) {
    int t = (int)(intptr_t)arg;
    char shared[256], own[256];
    snprintf(shared, sizeof shared, "%s/shared.layer", dir);
    snprintf(own, sizeof own, "%s/own%d.layer", dir, t);
    for (int i = 0; i < SAVES; i++) {
        if (fastfood_save_file_f32(saver_layer[t], saver_params[t], shared) != FASTFOOD_OK) saver_failures[t]++;
        if (fastfood_save_file_f32(saver_layer[t], saver_params[t], own) != FASTFOOD_OK) saver_failures[t]++;
    }
    return NULL;
}

static void test_concurrent_saves(void) {
    pthread_t threads[SAVERS];
    for (int t = 0; t < SAVERS; t++) saver_layer[t] = make(10, 20, (uint64_t)(100 + t), &saver_params[t]);
    int started = 0;
    for (int t = 0; t < SAVERS; t++) started += pthread_create(&threads[t], NULL, saver, (void *)(intptr_t)t) == 0;
    CHECK(started == SAVERS);
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/shared.layer", dir);
    int matches = 0;
    for (int t = 0; t < SAVERS; t++) {
        CHECK(saver_failures[t] == 0);
        matches += loads_as(path, saver_layer[t], saver_params[t]);
    }
    CHECK(matches == 1);              /* one writer's layer, whole */
    CHECK(entries() == SAVERS + 1);   /* shared + own0..3: no temporary file left */
    unlink(path);
    for (int t = 0; t < SAVERS; t++) {
        snprintf(path, sizeof path, "%s/own%d.layer", dir, t);
        CHECK(loads_as(path, saver_layer[t], saver_params[t]));
        unlink(path);
        fastfood_layer_destroy(saver_layer[t]);
        free(saver_params[t]);
    }
}

/* A valid header for 768 MiB of parameters over a sparse file; loading needs that much memory. */
static void test_out_of_memory(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/big.layer", dir);
    const uint64_t out = 64ull << 20, count = 3 * out; /* in 1: D 1, K = out blocks */
    unsigned char header[64] = "FFLAYER";
    uint32_t version = 1, header_size = 64, flags = 0, type = FASTFOOD_TYPE_F32;
    uint64_t in = 1, seed = 0, digest = 0;
    memcpy(header + 8, &version, 4);
    memcpy(header + 12, &header_size, 4);
    memcpy(header + 16, &in, 8);
    memcpy(header + 24, &out, 8);
    memcpy(header + 32, &seed, 8);
    memcpy(header + 40, &flags, 4);
    memcpy(header + 44, &type, 4);
    memcpy(header + 48, &count, 8);
    memcpy(header + 56, &digest, 8);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = fd >= 0 && write(fd, header, sizeof header) == (ssize_t)sizeof header &&
             ftruncate(fd, (off_t)(64 + 4 * count + 8)) == 0;
    if (fd >= 0) close(fd);
    CHECK(ok);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) { /* in a child with 512 MiB of address space */
        struct rlimit limit = {512ull << 20, 512ull << 20};
        setrlimit(RLIMIT_AS, &limit);
        size_t info_count = 0;
        fastfood_status s = fastfood_load_file_info(path, NULL, NULL, NULL, NULL, NULL, &info_count);
        if (s != FASTFOOD_ERROR_OUT_OF_MEMORY) printf("load_file_info: %d %s\n", s, fastfood_last_error_message());
        _exit(s == FASTFOOD_ERROR_OUT_OF_MEMORY && strstr(fastfood_last_error_message(), "allocate") ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(path);
}

int main(void) {
    if (!mkdtemp(dir)) return 2;
    test_non_utf8();
    test_long_message();
    test_name_max();
    test_symlink();
    test_out_of_memory();
    test_modes_and_descriptors();
    test_concurrent_saves();
    rmdir(dir);
    return report();
}
