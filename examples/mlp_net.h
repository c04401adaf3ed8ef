/*
 * mlp_net.h - the MNIST network of the C examples (mnist_mlp.c, distributed/mnist_mlp_mpi.c):
 *
 *   784 -> hidden 1024 (ReLU) -> dense 10 -> softmax cross-entropy
 *
 * The hidden layer is Fastfood (through <fastfood.h>, FASTFOOD_LAYER_NORMALIZED, optionally with
 * dropout inside the transform) or dense; dense layers use OpenBLAS sgemm. Every parameter
 * trains with the same SGD: one learning rate, momentum 0.9, weight decay 5e-4.
 * Header-only, for the examples.
 */
#ifndef FASTFOOD_EXAMPLES_MLP_NET_H
#define FASTFOOD_EXAMPLES_MLP_NET_H

#include <cblas.h>
#include <fastfood.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { IN = 784, HIDDEN = 1024, CLASSES = 10, MAX_ROWS = 256 };
static const float LEARNING_RATE = 0.01f, MOMENTUM = 0.9f, WEIGHT_DECAY = 5e-4f;

static uint64_t rng_state;
static inline double uniform(void) { /* [0, 1) */
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-53;
}

static inline void check(fastfood_status status, const char *what) {
    if (status == FASTFOOD_OK) return;
    fprintf(stderr, "%s: %s (%s)\n", what, fastfood_status_string(status), fastfood_last_error_message());
    exit(2);
}

static inline void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count, size);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A trainable array: values, gradient, momentum. */
typedef struct { size_t n; float *w, *g, *v; } tensor;
static inline tensor make_tensor(size_t n) {
    return (tensor){n, xcalloc(n, sizeof(float)), xcalloc(n, sizeof(float)), xcalloc(n, sizeof(float))};
}
static inline void sgd_step(tensor *t) { /* one learning rate, momentum and weight decay for everything */
    for (size_t i = 0; i < t->n; i++) {
        t->v[i] = MOMENTUM * t->v[i] + t->g[i] + WEIGHT_DECAY * t->w[i];
        t->w[i] -= LEARNING_RATE * t->v[i];
    }
}
static inline void free_tensor(tensor *t) { free(t->w); free(t->g); free(t->v); }

/* Dense layer y = x W^T + b: W is out x in, b follows it in the same tensor. */
static inline void dense_forward(const tensor *p, int in, int out, int batch, const float *x, float *y) {
    for (int r = 0; r < batch; r++) memcpy(y + (size_t)r * out, p->w + (size_t)in * out, out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, out, in, 1, x, in, p->w, in, 1, y, out);
}
static inline void dense_backward(tensor *p, int in, int out, int batch, const float *x, const float *dy, float *dx) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, batch, 1, dy, out, x, in, 0, p->g, in);
    float *db = p->g + (size_t)in * out;
    memset(db, 0, out * sizeof(float));
    for (int r = 0; r < batch; r++)
        for (int o = 0; o < out; o++) db[o] += dy[(size_t)r * out + o];
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in, out, 1, dy, out, p->w, in, 0, dx, in);
}
static inline void dense_init(tensor *p, int in, int out) { /* He uniform, bias 0 */
    double bound = sqrt(6.0 / in);
    for (size_t i = 0; i < (size_t)in * out; i++) p->w[i] = (float)((2 * uniform() - 1) * bound);
}

typedef struct {
    fastfood_layer *fastfood; /* NULL: the hidden layer is dense */
    double dropout;           /* rate after PI and after S (Fastfood only) */
    uint64_t dropout_seed;
    tensor hidden, output;
    float *h, *dh, *logits;
} net;

/* The parameters come from `seed` alone, so every process of a data-parallel run makes the same. */
static inline net make_net(int use_fastfood, double dropout, uint64_t seed) {
    net n = {0};
    n.dropout = dropout;
    n.dropout_seed = 1234;
    rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
    if (use_fastfood) {
        check(fastfood_layer_create(IN, HIDDEN, seed, FASTFOOD_LAYER_BIAS | FASTFOOD_LAYER_NORMALIZED, &n.fastfood),
              "fastfood_layer_create");
        n.hidden = make_tensor(fastfood_layer_param_count(n.fastfood));
        /* He for ReLU: gain sqrt(2). */
        check(fastfood_init_params_preset_f32(n.fastfood, FASTFOOD_INIT_VARIANCE, seed, sqrt(2.0), n.hidden.w), "init");
    } else {
        n.hidden = make_tensor((size_t)IN * HIDDEN + HIDDEN);
        dense_init(&n.hidden, IN, HIDDEN);
    }
    n.output = make_tensor((size_t)HIDDEN * CLASSES + CLASSES);
    dense_init(&n.output, HIDDEN, CLASSES);
    n.h = xcalloc((size_t)MAX_ROWS * HIDDEN, sizeof(float));
    n.dh = xcalloc((size_t)MAX_ROWS * HIDDEN, sizeof(float));
    n.logits = xcalloc((size_t)MAX_ROWS * CLASSES, sizeof(float));
    return n;
}

static inline void free_net(net *n) {
    free_tensor(&n->hidden);
    free_tensor(&n->output);
    free(n->h); free(n->dh); free(n->logits);
    fastfood_layer_destroy(n->fastfood);
}

/* Weights without biases, as the paper counts them. */
static inline size_t hidden_weights(const net *n) {
    return n->fastfood ? 3 * fastfood_layer_num_blocks(n->fastfood) * fastfood_layer_block_size(n->fastfood)
                       : (size_t)IN * HIDDEN;
}

static inline void forward(net *n, int batch, const float *x, int training, uint64_t step) {
    if (!n->fastfood) dense_forward(&n->hidden, IN, HIDDEN, batch, x, n->h);
    else if (training && n->dropout > 0)
        check(fastfood_forward_train_f32(n->fastfood, n->hidden.w, batch, x, IN, n->h, HIDDEN, 0, n->dropout,
                                         n->dropout, n->dropout_seed, step), "forward_train");
    else check(fastfood_forward_f32(n->fastfood, n->hidden.w, batch, x, IN, n->h, HIDDEN), "forward");
    for (size_t i = 0; i < (size_t)batch * HIDDEN; i++) n->h[i] = n->h[i] > 0 ? n->h[i] : 0;
    dense_forward(&n->output, HIDDEN, CLASSES, batch, n->h, n->logits);
}

/* Gradients of the mean cross-entropy over `batch` rows into hidden.g and output.g; returns the
 * mean loss. The Fastfood layer is the first layer: no input gradient (dx = NULL). */
static inline double compute_gradients(net *n, int batch, const float *x, const int *labels, uint64_t step) {
    forward(n, batch, x, 1, step);
    double loss = 0;
    for (int r = 0; r < batch; r++) { /* logits -> dlogits = (softmax - one hot) / batch */
        float *z = n->logits + r * CLASSES, top = z[0], sum = 0;
        for (int c = 1; c < CLASSES; c++) top = z[c] > top ? z[c] : top;
        for (int c = 0; c < CLASSES; c++) sum += (z[c] = expf(z[c] - top));
        loss -= log(z[labels[r]] / sum);
        for (int c = 0; c < CLASSES; c++) z[c] = (z[c] / sum - (float)(c == labels[r])) / (float)batch;
    }
    dense_backward(&n->output, HIDDEN, CLASSES, batch, n->h, n->logits, n->dh);
    for (size_t i = 0; i < (size_t)batch * HIDDEN; i++) n->dh[i] = n->h[i] > 0 ? n->dh[i] : 0;
    if (!n->fastfood) dense_backward(&n->hidden, IN, HIDDEN, batch, x, n->dh, NULL);
    else if (n->dropout > 0)
        check(fastfood_backward_train_f32(n->fastfood, n->hidden.w, batch, x, IN, n->dh, HIDDEN, NULL, 0, n->hidden.g,
                                          0, 0, n->dropout, n->dropout, n->dropout_seed, step), "backward_train");
    else check(fastfood_backward_f32(n->fastfood, n->hidden.w, batch, x, IN, n->dh, HIDDEN, NULL, 0, n->hidden.g, 0),
               "backward");
    return loss / batch;
}

static inline void apply_update(net *n) {
    sgd_step(&n->hidden);
    sgd_step(&n->output);
}

static inline double test_error(net *n, const float *images, const int *labels, size_t count) {
    size_t wrong = 0;
    for (size_t first = 0; first < count; first += MAX_ROWS) {
        int batch = (int)(count - first < MAX_ROWS ? count - first : MAX_ROWS);
        forward(n, batch, images + first * IN, 0, 0);
        for (int r = 0; r < batch; r++) {
            int best = 0;
            for (int c = 1; c < CLASSES; c++) best = n->logits[r * CLASSES + c] > n->logits[r * CLASSES + best] ? c : best;
            wrong += best != labels[first + r];
        }
    }
    return 100.0 * (double)wrong / (double)count;
}

/* A permutation of 0 .. count-1 from the shared generator (the same on every process). */
static inline void shuffle(size_t *order, size_t count) {
    for (size_t i = count - 1; i > 0; i--) {
        size_t j = (size_t)(uniform() * (double)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

#endif
