/*
 * dir_entries.h - the number of entries in a directory, for tests that check a call left no
 * file (or file descriptor) behind.
 */
#ifndef FASTFOOD_TEST_DIR_ENTRIES_H
#define FASTFOOD_TEST_DIR_ENTRIES_H

#include <dirent.h>
#include <string.h>

/* Entries of `dir` without . and .., or -1 if it cannot be opened. */
static inline int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

#endif
