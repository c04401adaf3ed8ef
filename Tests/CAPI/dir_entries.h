/*
 * dir_entries.h - what calls leave in the file system and the process, for the tests that check
 * it: the number of entries in a directory (no file or file descriptor left behind), whether a
 * file holds exactly given bytes, and the number of the library's pool threads.
 */
#ifndef FASTFOOD_TEST_DIR_ENTRIES_H
#define FASTFOOD_TEST_DIR_ENTRIES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Entries of `dir` without . and .., or -1 if it cannot be opened. */
static inline int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* 1 if the file at `path` holds exactly the `length` bytes at `data`. */
static inline int file_equals(const char *path, const unsigned char *data, size_t length) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char *buffer = malloc(length + 1);
    size_t got = buffer ? fread(buffer, 1, length + 1, f) : 0;
    fclose(f);
    int same = buffer && got == length && memcmp(buffer, data, length) == 0;
    free(buffer);
    return same;
}

/* Threads of this process named fastfood-pool, waiting up to 2 s for the count to reach `want`
 * (a pool thread told to exit may still be finishing); -1 if /proc cannot be read. */
static inline int pool_threads(int want) {
    int count = -1;
    for (int attempt = 0; attempt < 200; attempt++) {
        DIR *dir = opendir("/proc/self/task");
        if (!dir) return -1;
        count = 0;
        for (struct dirent *e; (e = readdir(dir)) != NULL;) {
            if (e->d_name[0] == '.') continue;
            char path[300], name[32] = "";
            snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
            FILE *f = fopen(path, "r");
            if (!f) continue; /* a thread that just ended */
            if (fgets(name, sizeof name, f) && strncmp(name, "fastfood-pool", 13) == 0) count++;
            fclose(f);
        }
        closedir(dir);
        if (count == want) return count;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    return count;
}

#endif
