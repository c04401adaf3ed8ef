/*
 * cov_exit.c - for `make coverage` only, preloaded into the C tests: _exit becomes exit, so a
 * forked child that leaves through _exit runs the exit handlers, the coverage profile's writer
 * among them (the tests register none of their own). Without it the code that runs only in
 * forked children (a child's serial compute, its fresh scratch) counted as unrun. The profiles
 * are written in merge mode (LLVM_PROFILE_FILE with %m), so a child adds its counts to the file
 * its parent writes too instead of overwriting it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <unistd.h>

void _exit(int status) {
    exit(status); /* exit reaches the kernel through glibc's own _exit, not this one */
}
