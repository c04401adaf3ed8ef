/*
 * test_option_values.c - the examples' command-line numbers (examples/option_values.h): whole
 * texts only, in range, and a refusal names the option and the text.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../CAPI/check.h"
#include "option_values.h"
#include "stderr_capture.h"

int main(void) {
    int i = 7;
    CHECK(CAPTURED(option_int("--epochs", "12", 1, 100, &i)) && i == 12 && captured_message[0] == 0);
    CHECK(CAPTURED(option_int("--n", "-1", -1, 5, &i)) && i == -1);
    const char *bad_ints[] = {"", "5x", "x5", "1.5", "0", "101", " 7", "+7", "7 ", "-", "99999999999999999999", "0x10"};
    for (size_t k = 0; k < sizeof bad_ints / sizeof *bad_ints; k++) {
        i = 7;
        CHECK(!CAPTURED(option_int("--epochs", bad_ints[k], 1, 100, &i)) && i == 7);
        char expected[128];
        snprintf(expected, sizeof expected, "--epochs: '%s' is not a whole number from 1 to 100", bad_ints[k]);
        CHECK(strcmp(captured_message, expected) == 0);
    }

    double d = 0.25;
    CHECK(CAPTURED(option_double("--dropout", "0.5", 0, 1, &d)) && d == 0.5);
    CHECK(CAPTURED(option_double("--dropout", "1e-1", 0, 1, &d)) && d == 0.1);
    const char *bad_doubles[] = {"", "0.5x", "abc", "nan", "inf", "-0.1", "1.01", " 0.5", "0.5 "};
    for (size_t k = 0; k < sizeof bad_doubles / sizeof *bad_doubles; k++) {
        d = 0.25;
        CHECK(!CAPTURED(option_double("--dropout", bad_doubles[k], 0, 1, &d)) && d == 0.25);
        CHECK(strstr(captured_message, "--dropout: '") == captured_message && strstr(captured_message, "is not a number from 0 to 1"));
    }

    CHECK(CAPTURED(option_rate("--dropout", "0.999", &d)) && d == 0.999);
    CHECK(CAPTURED(option_rate("--dropout", "0", &d)) && d == 0);
    d = 0.25;
    CHECK(!CAPTURED(option_rate("--dropout", "1", &d)) && d == 0.25 &&
          strcmp(captured_message, "--dropout: '1' is not a rate below 1") == 0);
    CHECK(!CAPTURED(option_rate("--dropout", "-0.5", &d)) && d == 0.25 &&
          strcmp(captured_message, "--dropout: '-0.5' is not a number from 0 to 1") == 0);

    uint64_t u = 3;
    CHECK(CAPTURED(option_u64("--seed", "18446744073709551615", &u)) && u == UINT64_MAX);
    CHECK(CAPTURED(option_u64("--seed", "0", &u)) && u == 0);
    const char *bad_u64[] = {"", "-1", "+1", "abc", "12a", "18446744073709551616"};
    for (size_t k = 0; k < sizeof bad_u64 / sizeof *bad_u64; k++) {
        u = 3;
        CHECK(!CAPTURED(option_u64("--seed", bad_u64[k], &u)) && u == 3);
        CHECK(strstr(captured_message, "--seed: '") == captured_message);
    }

    /* option_silent: the same refusal, no message (the other ranks of an MPI job). */
    option_silent = 1;
    i = 7;
    CHECK(!CAPTURED(option_int("--steps", "5x", 1, 100, &i)) && i == 7 && captured_message[0] == 0);
    d = 0.25;
    CHECK(!CAPTURED(option_rate("--dropout", "1", &d)) && d == 0.25 && captured_message[0] == 0);
    CHECK(CAPTURED(option_int("--steps", "5", 1, 100, &i)) && i == 5);
    option_silent = 0;
    CHECK(!CAPTURED(option_int("--steps", "5x", 1, 100, &i)) && captured_message[0] != 0);

    char *help_last[] = {"prog", "DIR", "--epochs", "3", "--help"}, *help_short[] = {"prog", "-h"};
    char *no_help[] = {"prog", "DIR", "--helpful", "-hh", "--epochs", "3"}, *help_program[] = {"--help"};
    CHECK(option_wants_help(5, help_last) && option_wants_help(2, help_short));
    CHECK(!option_wants_help(6, no_help));
    CHECK(!option_wants_help(1, help_program)); /* argv[0] is the program, not an argument */
    CHECK(!option_wants_help(4, help_last));    /* only argc arguments are read */

    /* option_directory_first: the directory missing (usage on stderr, status 2), there (go on),
     * help asked for (status 0; the texts are empty here, so nothing reaches this test's output). */
    int exit_status = 9;
    char *no_dir[] = {"prog"}, *option_first[] = {"prog", "--epochs", "3"}, *dir_first[] = {"prog", "DIR", "--epochs", "3"};
    char *dir_help[] = {"prog", "DIR", "-h"};
    CHECK(!CAPTURED(option_directory_first(1, no_dir, "usage: %s DIR\n", "", &exit_status)) && exit_status == 2 &&
          strcmp(captured_message, "usage: prog DIR") == 0);
    exit_status = 9;
    CHECK(!CAPTURED(option_directory_first(3, option_first, "usage: %s DIR\n", "", &exit_status)) && exit_status == 2);
    exit_status = 9;
    CHECK(CAPTURED(option_directory_first(4, dir_first, "usage: %s DIR\n", "", &exit_status)) && exit_status == 9 &&
          captured_message[0] == 0);
    CHECK(!CAPTURED(option_directory_first(3, dir_help, "", "", &exit_status)) && exit_status == 0);
    option_silent = 1;
    exit_status = 9;
    CHECK(!CAPTURED(option_directory_first(1, no_dir, "usage: %s DIR\n", "", &exit_status)) && exit_status == 2 &&
          captured_message[0] == 0);
    option_silent = 0;

    int quiet = 0;
    exit_status = 9;
    char *none[] = {"prog"}, *quiet_args[] = {"prog", "--quiet"}, *other[] = {"prog", "--quiet", "--loud"};
    CHECK(CAPTURED(option_quiet_only(1, none, "usage: %s\n", &quiet, &exit_status)) && quiet == 0 && exit_status == 9);
    CHECK(CAPTURED(option_quiet_only(2, quiet_args, "usage: %s\n", &quiet, &exit_status)) && quiet == 1);
    quiet = 0;
    CHECK(!CAPTURED(option_quiet_only(3, other, "usage: %s\n", &quiet, &exit_status)) && exit_status == 2 && quiet == 0);
    CHECK(strcmp(captured_message, "unknown argument --loud (--help: the options)") == 0);
    exit_status = 9;
    CHECK(!CAPTURED(option_quiet_only(2, help_short, "", &quiet, &exit_status)) && exit_status == 0 && quiet == 0);
    return report();
}
