/*
 * test_mnist_idx.c - the examples' MNIST reader (examples/mnist_idx.h) on IDX files written here:
 * both splits read back exactly, and hostile or damaged files (wrong magic numbers or image
 * size, counts that differ, 0 images, a count whose pixels overflow 32 bits, files that end
 * early, a label above 9, a missing test set) are refused with a message, leaving nothing
 * allocated. No MNIST and no fastfood library needed.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static int malloc_hook(void) { return 1; }
#define MALLOC_HOOKS_LIVE_BYTES
#include "../CAPI/malloc_hooks.h"
#include "../CAPI/check.h"
#include "mnist_idx.h"
#include "stderr_capture.h"

static char dir[64];

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Writes DIR/NAME (gzip-compressed as NAME.gz when gz) holding `size` bytes. */
static void write_file(const char *name, int gz, const unsigned char *bytes, size_t size) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, gz ? ".gz" : "");
    gzFile f = gzopen(path, gz ? "wb" : "wbT"); /* T: written as is */
    if (!f || gzwrite(f, bytes, (unsigned)size) != (int)size || gzclose(f) != Z_OK) {
        printf("cannot write %s\n", path);
        exit(2);
    }
}

static void remove_file(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.gz", dir, name);
    unlink(path);
}

static void remove_all(void) {
    remove_file("train-images-idx3-ubyte");
    remove_file("train-labels-idx1-ubyte");
    remove_file("t10k-images-idx3-ubyte");
    remove_file("t10k-labels-idx1-ubyte");
}

/* The pixel of image i at p, and its label: distinct enough to see a shifted or swapped read. */
static unsigned char pixel(size_t i, size_t p) { return (unsigned char)(i * 31 + p * 7); }
static unsigned char label(size_t i) { return (unsigned char)(i * 3 % 10); }

typedef struct {
    uint32_t magic, count, rows, cols; /* the images file's header */
    uint32_t magic_l, count_l;         /* the labels file's header */
    size_t images, labels;             /* how many images and labels the files really hold */
    size_t labels_cut;                 /* bytes cut off the labels file's end */
    int bad_label;                     /* 1: the last label is 10 */
    int gz;
} idx_files;

static idx_files good(size_t n, int gz) {
    idx_files f = {0x803, (uint32_t)n, 28, 28, 0x801, (uint32_t)n, n, n, 0, 0, gz};
    return f;
}

/* Writes PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte as f says. */
static void write_pair(const char *prefix, idx_files f) {
    size_t size = 16 + f.images * 784;
    unsigned char *b = malloc(size);
    put_u32(b, f.magic);
    put_u32(b + 4, f.count);
    put_u32(b + 8, f.rows);
    put_u32(b + 12, f.cols);
    for (size_t i = 0; i < f.images; i++)
        for (size_t p = 0; p < 784; p++) b[16 + i * 784 + p] = pixel(i, p);
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    write_file(name, f.gz, b, size);
    put_u32(b, f.magic_l);
    put_u32(b + 4, f.count_l);
    for (size_t i = 0; i < f.labels; i++) b[8 + i] = label(i);
    if (f.bad_label && f.labels > 0) b[8 + f.labels - 1] = 10;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    write_file(name, f.gz, b, 8 + f.labels - f.labels_cut);
    free(b);
}

/* Image set s holds images first .. first + count - 1 of the files as written. */
static int set_matches(const mnist_set *s, size_t first, size_t count) {
    if (s->count != count || !s->images || !s->labels) return 0;
    for (size_t i = 0; i < count; i++) {
        if (s->labels[i] != label(first + i)) return 0;
        for (size_t p = 0; p < 784; p++)
            if (s->images[i * 784 + p] != pixel(first + i, p) / 255.0f) return 0;
    }
    return 1;
}

static int all_zero(const mnist_data *data) {
    mnist_data zero;
    memset(&zero, 0, sizeof zero);
    return memcmp(data, &zero, sizeof zero) == 0;
}

/* The files in dir load as `train` training images (images 0 ..) and `test` test images (from
 * image test_first of their file), the split sentence containing `split`; then freed. */
static void loads_as(size_t train, size_t test_first, size_t test, int in_block, const char *split) {
    mnist_data data;
    CHECK(mnist_load(dir, &data));
    CHECK(set_matches(&data.train, 0, train));
    CHECK(set_matches(&data.test, test_first, test));
    CHECK(data.test_in_train_block == in_block);
    CHECK(strstr(data.split, split) != NULL);
    mnist_free(&data);
    CHECK(all_zero(&data));
}

/* t10k files as f says (no training files): the load fails with a message naming the problem
 * (`expect`), data holds nothing and nothing is left allocated. */
static void refused_t10k(idx_files f, const char *expect) {
    remove_all();
    write_pair("t10k", f);
    long before = live_bytes;
    mnist_data data;
    memset(&data, 0xab, sizeof data);
    int ok = CAPTURED(mnist_load(dir, &data));
    const char *message = captured_message;
    CHECK(!ok);
    CHECK(all_zero(&data));
    CHECK(live_bytes == before);
    CHECK(strncmp(message, "mnist: ", 7) == 0 && strstr(message, expect) != NULL);
    if (ok || live_bytes != before || !strstr(message, expect))
        printf("  expected a refusal saying '%s', got %s'%s'\n", expect, ok ? "success and " : "", message);
    if (ok) mnist_free(&data);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/test_mnist_idx.XXXXXX");
    if (!mkdtemp(dir)) {
        printf("cannot make a temporary directory\n");
        return 2;
    }
    mnist_data data;

    /* Only t10k, 10 images, plain files: the first 8 train, the last 2 test. */
    write_pair("t10k", good(10, 0));
    loads_as(8, 8, 2, 1, "the first 8 t10k images train, the last 2 test");

    /* The standard split, gzip-compressed: 12 training images and 10 test images. */
    remove_all();
    write_pair("train", good(12, 1));
    write_pair("t10k", good(10, 1));
    loads_as(12, 0, 10, 0, "standard split: 12 training images, 10 test images");

    /* The training files are good and the test files are missing or bad: nothing kept. */
    for (int bad_test = 0; bad_test < 2; bad_test++) {
        remove_all();
        write_pair("train", good(12, 1));
        if (bad_test) {
            idx_files f = good(10, 0);
            f.bad_label = 1;
            write_pair("t10k", f);
        }
        long before = live_bytes;
        memset(&data, 0xab, sizeof data);
        CHECK(!CAPTURED(mnist_load(dir, &data)));
        CHECK(all_zero(&data));
        CHECK(live_bytes == before);
        CHECK(strstr(captured_message, "t10k-images-idx3-ubyte") != NULL &&
              strstr(captured_message, bad_test ? "a label is above 9" : "not found") != NULL);
    }

    idx_files f;
    f = good(10, 0), f.magic = 0x802;
    refused_t10k(f, "not MNIST IDX headers");
    f = good(10, 0), f.magic_l = 0x803;
    refused_t10k(f, "not MNIST IDX headers");
    f = good(10, 0), f.rows = 32;
    refused_t10k(f, "not MNIST IDX headers");
    f = good(10, 0), f.cols = 27;
    refused_t10k(f, "not MNIST IDX headers");
    f = good(10, 0), f.count_l = 9, f.labels = 9;
    refused_t10k(f, "declare different counts");
    f = good(0, 0);
    refused_t10k(f, "they declare 0 images (1 to 2000000 are read)");
    f = good(9, 0);
    refused_t10k(f, "holds only 9 images");
    /* 5,478,275 images: n * 784 is 2^32 + 304, which a 32-bit count of pixels wraps to 304. */
    f = good(10, 0), f.count = f.count_l = 5478275u;
    refused_t10k(f, "they declare 5478275 images (1 to 2000000 are read)");
    f = good(10, 0), f.count = f.count_l = MNIST_MAX_IMAGES + 1;
    refused_t10k(f, "they declare 2000001 images (1 to 2000000 are read)");
    f = good(10, 0), f.count = f.count_l = 11, f.labels = 11;
    refused_t10k(f, "a file ends before");
    f = good(10, 0), f.labels_cut = 1;
    refused_t10k(f, "a file ends before");
    f = good(10, 0), f.bad_label = 1;
    refused_t10k(f, "a label is above 9");
    f = good(10, 0), f.images = 0, f.labels = 0, f.labels_cut = 0;
    refused_t10k(f, "a file ends before");

    /* Headers that end early: an images file of 10 bytes, then a labels file of 6. */
    remove_all();
    unsigned char header[16] = {0};
    put_u32(header, 0x803);
    put_u32(header + 4, 10);
    write_file("t10k-images-idx3-ubyte", 0, header, 10);
    put_u32(header, 0x801);
    write_file("t10k-labels-idx1-ubyte", 0, header, 8);
    CHECK(!CAPTURED(mnist_load(dir, &data)) && strstr(captured_message, "a header ends early"));
    write_pair("t10k", good(10, 0));
    write_file("t10k-labels-idx1-ubyte", 0, header, 6);
    CHECK(!CAPTURED(mnist_load(dir, &data)) && strstr(captured_message, "a header ends early"));

    /* No files at all. */
    remove_all();
    CHECK(!CAPTURED(mnist_load(dir, &data)) && strstr(captured_message, "not found"));
    CHECK(all_zero(&data));

    rmdir(dir);
    return report();
}
