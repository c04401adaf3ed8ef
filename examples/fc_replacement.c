/*
 * fc_replacement.c - a Fastfood layer as a drop-in replacement for a dense hidden layer.
 *
 * Network: x (64) -> Fastfood 64 -> 256 with bias -> ReLU -> dense 256 -> 4 -> softmax,
 * trained with plain minibatch SGD on cross-entropy. The data is a generated 4-class problem
 * (each class a mixture of three Gaussian clusters, so it is not linearly separable); 4096 samples to
 * train, 1024 held out. Everything about the Fastfood layer goes through <fastfood.h>: the
 * caller owns the parameters and their gradients, exactly like a dense layer's W and b.
 *
 * Prints the loss falling, held-out accuracy, and the hidden layer's parameter count against a
 * dense layer of the same width. With --quiet prints only the summary. Exits 1 if training did
 * not reduce the loss to under half its initial value or held-out accuracy stays under 80%.
 */
#include <fastfood.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "option_values.h"

enum { IN = 64, HIDDEN = 256, CLASSES = 4, TRAIN = 4096, TEST = 1024, BATCH = 32, EPOCHS = 30 };

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static double uniform(void) { /* [0, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1p-53;
}
static double gaussian(void) {
    double u = uniform() + 1e-12, v = uniform();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static void check(fastfood_status status, const char *what) {
    if (status != FASTFOOD_OK) {
        fprintf(stderr, "%s: %s (%s)\n", what, fastfood_status_string(status),
                fastfood_last_error_message());
        exit(2);
    }
}

static void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count, size);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

/* Each class is a mixture of 3 Gaussian clusters with random centres (12 in all), so the classes
 * are not linearly separable: the hidden layer has real work to do. */
static void make_data(float *x, int *labels, size_t n) {
    enum { PER_CLASS = 3 };
    static double centre[CLASSES * PER_CLASS][IN];
    static int ready = 0;
    if (!ready) {
        for (int c = 0; c < CLASSES * PER_CLASS; c++)
            for (int j = 0; j < IN; j++) centre[c][j] = gaussian();
        ready = 1;
    }
    for (size_t r = 0; r < n; r++) {
        int cluster = (int)(uniform() * CLASSES * PER_CLASS);
        labels[r] = cluster % CLASSES;
        for (int j = 0; j < IN; j++) x[r * IN + j] = (float)(centre[cluster][j] + 1.5 * gaussian());
    }
}

typedef struct {
    fastfood_layer *layer;
    float *ff, *dff;              /* Fastfood parameters [S|G|B|bias] and their gradient */
    float w[CLASSES][HIDDEN], b[CLASSES];
    float dw[CLASSES][HIDDEN], db[CLASSES];
} network;

/* Forward a batch; returns summed cross-entropy and fills the softmax gradient if asked. */
static double run_batch(network *net, const float *x, const int *labels, size_t n, float *h,
                        float *dlogits, int *correct) {
    check(fastfood_forward_f32(net->layer, net->ff, n, x, IN, h, HIDDEN), "forward");
    for (size_t i = 0; i < n * HIDDEN; i++) h[i] = h[i] > 0 ? h[i] : 0; /* ReLU */
    double loss = 0;
    for (size_t r = 0; r < n; r++) {
        double logits[CLASSES], max = -INFINITY, sum = 0;
        int argmax = 0;
        for (int c = 0; c < CLASSES; c++) {
            double s = net->b[c];
            for (int i = 0; i < HIDDEN; i++) s += net->w[c][i] * h[r * HIDDEN + i];
            logits[c] = s;
            if (s > max) { max = s; argmax = c; }
        }
        for (int c = 0; c < CLASSES; c++) sum += exp(logits[c] - max);
        loss += -(logits[labels[r]] - max - log(sum));
        if (correct) *correct += argmax == labels[r];
        if (dlogits)
            for (int c = 0; c < CLASSES; c++)
                dlogits[r * CLASSES + c] =
                    (float)((exp(logits[c] - max) / sum - (c == labels[r])) / (double)n);
    }
    return loss;
}

static void train_step(network *net, const float *x, const int *labels, size_t n, float lr) {
    float h[BATCH * HIDDEN], dh[BATCH * HIDDEN], dlogits[BATCH * CLASSES];
    run_batch(net, x, labels, n, h, dlogits, NULL);
    memset(net->dw, 0, sizeof net->dw);
    memset(net->db, 0, sizeof net->db);
    for (size_t r = 0; r < n; r++)
        for (int i = 0; i < HIDDEN; i++) {
            float g = 0;
            for (int c = 0; c < CLASSES; c++) {
                g += net->w[c][i] * dlogits[r * CLASSES + c];
                net->dw[c][i] += dlogits[r * CLASSES + c] * h[r * HIDDEN + i];
            }
            dh[r * HIDDEN + i] = h[r * HIDDEN + i] > 0 ? g : 0; /* through ReLU */
        }
    for (size_t r = 0; r < n; r++)
        for (int c = 0; c < CLASSES; c++) net->db[c] += dlogits[r * CLASSES + c];
    /* The Fastfood layer is the first layer: no input gradient needed (dx = NULL). */
    check(fastfood_backward_f32(net->layer, net->ff, n, x, IN, dh, HIDDEN, NULL, 0, net->dff, 0),
          "backward");
    size_t count = fastfood_layer_param_count(net->layer);
    for (size_t i = 0; i < count; i++) net->ff[i] -= lr * net->dff[i];
    for (int c = 0; c < CLASSES; c++) {
        net->b[c] -= lr * net->db[c];
        for (int i = 0; i < HIDDEN; i++) net->w[c][i] -= lr * net->dw[c][i];
    }
}

static double evaluate(network *net, const float *x, const int *labels, size_t n, double *accuracy) {
    float h[BATCH * HIDDEN];
    double loss = 0;
    int correct = 0;
    for (size_t start = 0; start < n; start += BATCH)
        loss += run_batch(net, x + start * IN, labels + start, BATCH, h, NULL, &correct);
    *accuracy = (double)correct / (double)n;
    return loss / (double)n;
}

static const char help[] =
    "usage: %s [--quiet]\n"
    "Trains x (64) -> Fastfood 64 -> 256 (bias, ReLU) -> dense 4 -> softmax with SGD on a generated\n"
    "4-class problem and prints the held-out loss and accuracy by epoch; exit status 1 unless the\n"
    "loss falls under half its start and the accuracy reaches 80%%.\n"
    "\n"
    "  --quiet     print only the summary\n"
    "  --help, -h  this text\n";

int main(int argc, char **argv) {
    int quiet = 0;
    int exit_status = 0;
    if (!option_quiet_only(argc, argv, help, &quiet, &exit_status)) return exit_status;
    float *train_x = xcalloc(TRAIN * IN, sizeof(float)), *test_x = xcalloc(TEST * IN, sizeof(float));
    int *train_y = xcalloc(TRAIN, sizeof(int)), *test_y = xcalloc(TEST, sizeof(int));
    make_data(train_x, train_y, TRAIN);
    make_data(test_x, test_y, TEST);

    static network net;
    check(fastfood_layer_create(IN, HIDDEN, 7, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED, &net.layer),
          "layer_create");
    size_t count = fastfood_layer_param_count(net.layer);
    net.ff = xcalloc(count, sizeof(float));
    net.dff = xcalloc(count, sizeof(float));
    /* sigma = sqrt(in): rows of V then have norm about 1, so hidden units start at unit scale. */
    check(fastfood_init_params_f32(net.layer, 11, sqrt((double)IN), net.ff), "init_params");
    /* Orthonormal transforms (FASTFOOD_LAYER_NORMALIZED): S, G, B and their gradients are O(1),
     * so one learning rate trains every parameter, as it would a dense layer's weights. */
    for (int c = 0; c < CLASSES; c++)
        for (int i = 0; i < HIDDEN; i++) net.w[c][i] = (float)(gaussian() / sqrt((double)HIDDEN));

    size_t dense = (size_t)IN * HIDDEN + HIDDEN;
    printf("hidden layer %d -> %d: Fastfood %zu parameters (D=%zu, %zu blocks) vs dense %zu (%.1fx fewer)\n",
           IN, HIDDEN, count, fastfood_layer_block_size(net.layer),
           fastfood_layer_num_blocks(net.layer), dense, (double)dense / (double)count);

    double accuracy, initial = evaluate(&net, test_x, test_y, TEST, &accuracy), final = initial;
    if (!quiet) printf("epoch  0  held-out loss %.4f  accuracy %5.1f%%\n", initial, 100 * accuracy);
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        for (size_t start = 0; start < TRAIN; start += BATCH)
            train_step(&net, train_x + start * IN, train_y + start, BATCH, 0.05f);
        final = evaluate(&net, test_x, test_y, TEST, &accuracy);
        if (!quiet && (epoch % 5 == 0 || epoch == 1))
            printf("epoch %2d  held-out loss %.4f  accuracy %5.1f%%\n", epoch, final, 100 * accuracy);
    }
    printf("held-out loss %.4f -> %.4f, accuracy %.1f%% (chance 25%%)\n", initial, final, 100 * accuracy);

    fastfood_layer_destroy(net.layer);
    free(net.ff); free(net.dff); free(train_x); free(test_x); free(train_y); free(test_y);
    if (!(final < 0.5 * initial) || accuracy < 0.8) {
        printf("training did not converge as expected\n");
        return 1;
    }
    return 0;
}
