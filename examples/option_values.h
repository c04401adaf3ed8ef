/*
 * option_values.h - the examples' command-line numbers, read strictly: the whole text must be
 * the number (no spaces, no sign but a minus) and within its range, or the call prints which
 * option and why and returns 0 (atoi and atof read "5x" as 5 and "abc" as 0, so a typo ran
 * with a value nobody asked for). And the --help of every example: option_wants_help,
 * option_directory_first, option_quiet_only. Header-only, C and C++.
 */
#ifndef FASTFOOD_EXAMPLES_OPTION_VALUES_H
#define FASTFOOD_EXAMPLES_OPTION_VALUES_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1: the helpers below print nothing (every rank of a parallel job but the one that speaks for
 * it, so a mistake is said once, not once per process); 0, the default: they say what is wrong. */
static int option_silent = 0;

/* *value = the whole number `text`, from min to max; else 0 and a message naming `option`. */
static inline int option_int(const char *option, const char *text, long min, long max, int *value) {
    char *end = NULL;
    errno = 0;
    long number = strtol(text, &end, 10);
    const char *digits = text[0] == '-' ? text + 1 : text;
    const int digits_first = digits[0] >= '0' && digits[0] <= '9';
    if (!digits_first || *end != 0 || errno == ERANGE || number < min || number > max) {
        if (!option_silent) fprintf(stderr, "%s: '%s' is not a whole number from %ld to %ld\n", option, text, min, max);
        return 0;
    }
    *value = (int)number;
    return 1;
}

/* *value = the finite number `text`, from min to max (inclusive); else 0 and a message. */
static inline int option_double(const char *option, const char *text, double min, double max, double *value) {
    char *end = NULL;
    double number = strtod(text, &end);
    const int spaces_first = text[0] == ' ' || (text[0] >= '\t' && text[0] <= '\r'); /* strtod skips them */
    if (spaces_first || end == text || *end != 0 || !isfinite(number) || number < min || number > max) {
        if (!option_silent) fprintf(stderr, "%s: '%s' is not a number from %g to %g\n", option, text, min, max);
        return 0;
    }
    *value = number;
    return 1;
}

/* *value = the dropout rate `text`: a finite number from 0 to below 1; else 0 and a message. */
static inline int option_rate(const char *option, const char *text, double *value) {
    double number = 0;
    if (!option_double(option, text, 0, 1, &number)) return 0;
    if (number >= 1) {
        if (!option_silent) fprintf(stderr, "%s: '%s' is not a rate below 1\n", option, text);
        return 0;
    }
    *value = number;
    return 1;
}

/* *value = the unsigned 64-bit whole number `text` (digits only); else 0 and a message. */
static inline int option_u64(const char *option, const char *text, uint64_t *value) {
    char *end = NULL;
    errno = 0;
    unsigned long long number = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != 0 || errno == ERANGE) {
        if (!option_silent) fprintf(stderr, "%s: '%s' is not a whole number from 0 to 18446744073709551615\n", option, text);
        return 0;
    }
    *value = (uint64_t)number;
    return 1;
}

/* 1 when an argument is --help or -h (anywhere: the programs print their help and exit 0 then,
 * before reading anything else), else 0. */
static inline int option_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

/* The first look at the command line of a program whose first argument is a directory (MNIST's):
 * returns 1 to go on; returns 0 with *exit_status 0 after printing `usage` (a format with one %s,
 * the program's name) and `help` on stdout for --help or -h anywhere, or with *exit_status 2
 * after printing the usage on stderr when the directory is missing (no argument, or an option
 * where it should be). Prints nothing under option_silent. */
static inline int option_directory_first(int argc, char **argv, const char *usage, const char *help,
                                         int *exit_status) {
    if (option_wants_help(argc, argv)) {
        if (!option_silent) {
            printf(usage, argv[0]);
            fputs(help, stdout);
        }
        *exit_status = 0;
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-') {
        if (!option_silent) {
            fprintf(stderr, usage, argv[0]);
            fputs("(--help: what each option does)\n", stderr);
        }
        *exit_status = 2;
        return 0;
    }
    return 1;
}

/* The command line of a program whose one option is --quiet. Returns 1 to go on (*quiet 1 when
 * --quiet was given, else untouched); returns 0 with *exit_status 0 after printing `help` (a
 * format with one %s, the program's name) for --help or -h, or with *exit_status 2 after a
 * message for any other argument (neither printed under option_silent). */
static inline int option_quiet_only(int argc, char **argv, const char *help, int *quiet, int *exit_status) {
    if (option_wants_help(argc, argv)) {
        if (!option_silent) printf(help, argv[0]);
        *exit_status = 0;
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") != 0) {
            if (!option_silent) fprintf(stderr, "unknown argument %s (--help: the options)\n", argv[i]);
            *exit_status = 2;
            return 0;
        }
    }
    if (argc > 1) *quiet = 1;
    return 1;
}

#endif
