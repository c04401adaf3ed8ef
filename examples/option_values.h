/*
 * option_values.h - the examples' command-line numbers, read strictly: the whole text must be
 * the number (no spaces, no sign but a minus) and within its range, or the call prints which
 * option and why and returns 0 (atoi and atof read "5x" as 5 and "abc" as 0, so a typo ran
 * with a value nobody asked for). Header-only, C and C++.
 */
#ifndef FASTFOOD_EXAMPLES_OPTION_VALUES_H
#define FASTFOOD_EXAMPLES_OPTION_VALUES_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* *value = the whole number `text`, from min to max; else 0 and a message naming `option`. */
static inline int option_int(const char *option, const char *text, long min, long max, int *value) {
    char *end = NULL;
    errno = 0;
    long number = strtol(text, &end, 10);
    const char *digits = text[0] == '-' ? text + 1 : text;
    const int digits_first = digits[0] >= '0' && digits[0] <= '9';
    if (!digits_first || *end != 0 || errno == ERANGE || number < min || number > max) {
        fprintf(stderr, "%s: '%s' is not a whole number from %ld to %ld\n", option, text, min, max);
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
        fprintf(stderr, "%s: '%s' is not a number from %g to %g\n", option, text, min, max);
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
        fprintf(stderr, "%s: '%s' is not a rate below 1\n", option, text);
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
        fprintf(stderr, "%s: '%s' is not a whole number from 0 to 18446744073709551615\n", option, text);
        return 0;
    }
    *value = (uint64_t)number;
    return 1;
}

#endif
