/*
 * stderr_capture.h - what the examples' helpers write to stderr, for the tests in this folder:
 * CAPTURED(call) is call's value, evaluated with stderr going to memory, and leaves the first
 * line it wrote in captured_message (empty if none). Needs _GNU_SOURCE (open_memstream).
 */
#ifndef FASTFOOD_TEST_STDERR_CAPTURE_H
#define FASTFOOD_TEST_STDERR_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char captured_message[512];
static FILE *saved_stderr, *memory_stderr;
static char *memory_text;
static size_t memory_length;
static int captured_result;

static void capture_stderr(void) {
    saved_stderr = stderr;
    memory_stderr = open_memstream(&memory_text, &memory_length);
    if (!memory_stderr) {
        printf("open_memstream failed\n");
        exit(2);
    }
    stderr = memory_stderr;
}

static void release_stderr(void) {
    stderr = saved_stderr;
    fclose(memory_stderr);
    snprintf(captured_message, sizeof captured_message, "%s", memory_text ? memory_text : "");
    captured_message[strcspn(captured_message, "\n")] = 0; /* its first line */
    free(memory_text);
    memory_text = NULL;
}

#define CAPTURED(call) (capture_stderr(), captured_result = (call), release_stderr(), captured_result)

#endif
