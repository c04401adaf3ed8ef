/*
 * mnist_idx.h - reads MNIST in its original IDX format (gzip-compressed or not, through zlib)
 * from a directory, for the examples. Header-only, C and C++.
 *
 * With train-images-idx3-ubyte(.gz) present the standard split is used (60,000 / 10,000);
 * with only the t10k files (what a 10,000-image copy holds) the first 8,000 test images train
 * and the last 2,000 test, and `split` says so. Pixels become floats in [0, 1].
 */
#ifndef FASTFOOD_EXAMPLES_MNIST_IDX_H
#define FASTFOOD_EXAMPLES_MNIST_IDX_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct {
    size_t count;   /* images */
    float *images;  /* count * 784, row-major, in [0, 1] */
    int *labels;    /* count, 0..9 */
} mnist_set;

typedef struct {
    mnist_set train, test;
    char split[160]; /* a sentence naming the split, for the output */
    int test_in_train_block; /* 1: test points into the training arrays (one 10k file) */
} mnist_data;

/* Opens DIR/NAME or DIR/NAME.gz; NULL if neither exists. */
static gzFile mnist_open(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gz", dir, name);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = gzopen(path, "rb");
    }
    return f;
}

static int mnist_read_u32(gzFile f, uint32_t *value) {
    unsigned char b[4];
    if (gzread(f, b, 4) != 4) return 0;
    *value = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 1;
}

/* The most images one IDX file may declare: its n * 784 pixels are read in one gzread, whose
 * count is an int (MNIST has 60,000 training images; EMNIST's largest set 814,255). */
#define MNIST_MAX_IMAGES 2000000u

/* Reads one images + labels pair into `set`; 0 with a message on stderr on failure, and then
 * `set` holds nothing (no memory to free). The headers are checked before anything is allocated:
 * magic numbers 0x803 / 0x801, 28 x 28 images, the same count in both files, 1 to
 * MNIST_MAX_IMAGES images; both files must hold every byte they declare and labels 0 to 9. */
static int mnist_read_pair(const char *dir, const char *images, const char *labels, mnist_set *set) {
    memset(set, 0, sizeof *set);
    gzFile fi = mnist_open(dir, images), fl = mnist_open(dir, labels);
    uint32_t magic = 0, n = 0, rows = 0, cols = 0, magic_l = 0, n_l = 0;
    const char *problem = NULL;
    char count_problem[96];
    if (!fi || !fl) problem = "not found";
    else if (!mnist_read_u32(fi, &magic) || !mnist_read_u32(fi, &n) || !mnist_read_u32(fi, &rows) ||
             !mnist_read_u32(fi, &cols) || !mnist_read_u32(fl, &magic_l) || !mnist_read_u32(fl, &n_l))
        problem = "a header ends early";
    else if (magic != 0x803 || magic_l != 0x801 || rows != 28 || cols != 28)
        problem = "not MNIST IDX headers (magic numbers 0x803 and 0x801, 28 x 28 images)";
    else if (n != n_l) problem = "the two files declare different counts";
    else if (n == 0 || n > MNIST_MAX_IMAGES) {
        snprintf(count_problem, sizeof count_problem, "they declare %lu images (1 to %u are read)", (unsigned long)n,
                 MNIST_MAX_IMAGES);
        problem = count_problem;
    }
    unsigned char *pixels = NULL, *tags = NULL;
    if (!problem) {
        pixels = (unsigned char *)malloc((size_t)n * 784);
        tags = (unsigned char *)malloc(n);
        set->images = (float *)malloc((size_t)n * 784 * sizeof(float));
        set->labels = (int *)malloc(n * sizeof(int));
        if (!pixels || !tags || !set->images || !set->labels) problem = "out of memory";
        else if (gzread(fi, pixels, n * 784u) != (int)(n * 784u) || gzread(fl, tags, n) != (int)n)
            problem = "a file ends before its declared images or labels";
    }
    if (!problem) {
        for (size_t i = 0; i < (size_t)n * 784; i++) set->images[i] = pixels[i] / 255.0f;
        for (size_t i = 0; i < n && !problem; i++) {
            set->labels[i] = tags[i];
            if (tags[i] > 9) problem = "a label is above 9";
        }
        set->count = n;
    }
    if (problem) {
        fprintf(stderr, "mnist: cannot read %s/%s(.gz) and %s(.gz) as MNIST IDX files: %s\n", dir, images,
                labels, problem);
        free(set->images);
        free(set->labels);
        memset(set, 0, sizeof *set);
    }
    free(pixels);
    free(tags);
    if (fi) gzclose(fi);
    if (fl) gzclose(fl);
    return !problem;
}

/* Frees what mnist_load allocated (nothing after a failed load); data holds nothing after. */
static void mnist_free(mnist_data *data) {
    free(data->train.images);
    free(data->train.labels);
    if (!data->test_in_train_block) { /* separate arrays */
        free(data->test.images);
        free(data->test.labels);
    }
    memset(data, 0, sizeof *data);
}

/* Loads the split described at the top; 0 on failure (a message is printed, and data holds
 * nothing: no memory to free). */
static int mnist_load(const char *dir, mnist_data *data) {
    memset(data, 0, sizeof *data);
    gzFile probe = mnist_open(dir, "train-images-idx3-ubyte");
    if (probe) {
        gzclose(probe);
        if (!mnist_read_pair(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", &data->train) ||
            !mnist_read_pair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &data->test)) {
            mnist_free(data);
            return 0;
        }
        snprintf(data->split, sizeof data->split, "standard split: %zu training images, %zu test images",
                 data->train.count, data->test.count);
        return 1;
    }
    mnist_set all;
    if (!mnist_read_pair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &all)) return 0;
    if (all.count < 10) {
        fprintf(stderr, "mnist: %s holds only %zu images\n", dir, all.count);
        free(all.images);
        free(all.labels);
        return 0;
    }
    size_t train = all.count * 4 / 5; /* 8,000 of the 10,000 */
    data->train.count = train;
    data->train.images = all.images;
    data->train.labels = all.labels;
    data->test.count = all.count - train;
    data->test.images = all.images + train * 784;
    data->test.labels = all.labels + train;
    data->test_in_train_block = 1;
    snprintf(data->split, sizeof data->split,
             "no training set in %s: the first %zu t10k images train, the last %zu test", dir, train,
             all.count - train);
    return 1;
}

#endif
