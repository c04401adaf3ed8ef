/*
 * mnist_mlp.c - the drop-in job in plain C: a Fastfood layer where a dense hidden layer was, on
 * MNIST, trained with the dense layer's own recipe.
 *
 *   784 -> hidden 1024 (ReLU) -> dense 10 -> softmax cross-entropy
 *
 * The hidden layer is Fastfood (through <fastfood.h>, FASTFOOD_LAYER_NORMALIZED, optionally with
 * dropout inside the transform) or, for comparison, dense (OpenBLAS sgemm). Both nets train with
 * the same SGD: one learning rate for every parameter, momentum 0.9, weight decay 5e-4, batch
 * 64. Prints test error, parameter counts and seconds per epoch for both.
 *
 *   mnist_mlp DIR [--epochs N] [--dropout P] [--seed S] [--max-error PERCENT]
 *
 * DIR holds the MNIST IDX files (see mnist_idx.h for the split used when only the 10,000 test
 * images are there). --dropout P drops with rate P after PI and after S (the paper's sites);
 * --max-error makes the exit status 1 if the Fastfood net's test error is above PERCENT.
 */
#include <cblas.h>
#include <fastfood.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mnist_idx.h"

enum { IN = 784, HIDDEN = 1024, CLASSES = 10, BATCH = 64 };
static const float LEARNING_RATE = 0.01f, MOMENTUM = 0.9f, WEIGHT_DECAY = 5e-4f;

static uint64_t rng_state;
static double uniform(void) { /* [0, 1) */
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-53;
}

static void check(fastfood_status status, const char *what) {
    if (status == FASTFOOD_OK) return;
    fprintf(stderr, "%s: %s (%s)\n", what, fastfood_status_string(status), fastfood_last_error_message());
    exit(2);
}

static void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count, size);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

/* A trainable array: values, gradient, momentum. */
typedef struct { size_t n; float *w, *g, *v; } tensor;
static tensor make_tensor(size_t n) {
    return (tensor){n, xcalloc(n, sizeof(float)), xcalloc(n, sizeof(float)), xcalloc(n, sizeof(float))};
}
static void sgd_step(tensor *t) { /* one learning rate, momentum and weight decay for everything */
    for (size_t i = 0; i < t->n; i++) {
        t->v[i] = MOMENTUM * t->v[i] + t->g[i] + WEIGHT_DECAY * t->w[i];
        t->w[i] -= LEARNING_RATE * t->v[i];
    }
}
static void free_tensor(tensor *t) { free(t->w); free(t->g); free(t->v); }

/* Dense layer y = x W^T + b: W is out x in, b follows it in the same tensor. */
static void dense_forward(const tensor *p, int in, int out, int batch, const float *x, float *y) {
    for (int r = 0; r < batch; r++) memcpy(y + (size_t)r * out, p->w + (size_t)in * out, out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, out, in, 1, x, in, p->w, in, 1, y, out);
}
static void dense_backward(tensor *p, int in, int out, int batch, const float *x, const float *dy, float *dx) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, batch, 1, dy, out, x, in, 0, p->g, in);
    float *db = p->g + (size_t)in * out;
    memset(db, 0, out * sizeof(float));
    for (int r = 0; r < batch; r++)
        for (int o = 0; o < out; o++) db[o] += dy[(size_t)r * out + o];
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in, out, 1, dy, out, p->w, in, 0, dx, in);
}
static void dense_init(tensor *p, int in, int out) { /* He uniform, bias 0 */
    double bound = sqrt(6.0 / in);
    for (size_t i = 0; i < (size_t)in * out; i++) p->w[i] = (float)((2 * uniform() - 1) * bound);
}

typedef struct {
    fastfood_layer *fastfood; /* NULL: the hidden layer is dense */
    double dropout;
    tensor hidden, output;
    float *h, *dh, *logits;
} net;

static net make_net(int use_fastfood, double dropout, uint64_t seed) {
    net n = {0};
    n.dropout = dropout;
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
    n.h = xcalloc((size_t)256 * HIDDEN, sizeof(float));
    n.dh = xcalloc((size_t)256 * HIDDEN, sizeof(float));
    n.logits = xcalloc((size_t)256 * CLASSES, sizeof(float));
    return n;
}

static void forward(net *n, int batch, const float *x, int training, uint64_t step) {
    if (!n->fastfood) dense_forward(&n->hidden, IN, HIDDEN, batch, x, n->h);
    else if (training && n->dropout > 0)
        check(fastfood_forward_train_f32(n->fastfood, n->hidden.w, batch, x, IN, n->h, HIDDEN, 0, n->dropout,
                                         n->dropout, 1234, step), "forward_train");
    else check(fastfood_forward_f32(n->fastfood, n->hidden.w, batch, x, IN, n->h, HIDDEN), "forward");
    for (size_t i = 0; i < (size_t)batch * HIDDEN; i++) n->h[i] = n->h[i] > 0 ? n->h[i] : 0;
    dense_forward(&n->output, HIDDEN, CLASSES, batch, n->h, n->logits);
}

/* One SGD step on a batch; returns the mean cross-entropy. */
static double train_step(net *n, int batch, const float *x, const int *labels, uint64_t step) {
    forward(n, batch, x, 1, step);
    double loss = 0;
    for (int r = 0; r < batch; r++) { /* logits -> dlogits (softmax - one hot) / batch */
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
                                          0, 0, n->dropout, n->dropout, 1234, step), "backward_train");
    else check(fastfood_backward_f32(n->fastfood, n->hidden.w, batch, x, IN, n->dh, HIDDEN, NULL, 0, n->hidden.g, 0),
               "backward");
    sgd_step(&n->hidden);
    sgd_step(&n->output);
    return loss / batch;
}

static double test_error(net *n, const mnist_set *set) {
    size_t wrong = 0;
    for (size_t first = 0; first < set->count; first += 256) {
        int batch = (int)(set->count - first < 256 ? set->count - first : 256);
        forward(n, batch, set->images + first * IN, 0, 0);
        for (int r = 0; r < batch; r++) {
            int best = 0;
            for (int c = 1; c < CLASSES; c++) best = n->logits[r * CLASSES + c] > n->logits[r * CLASSES + best] ? c : best;
            wrong += best != set->labels[first + r];
        }
    }
    return 100.0 * (double)wrong / (double)set->count;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Trains one net; reports its test error and seconds per epoch. */
static void run(const char *name, int use_fastfood, double dropout, const mnist_data *data, int epochs,
                uint64_t seed, double *error, double *seconds, size_t *hidden_weights) {
    rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
    net n = make_net(use_fastfood, dropout, seed);
    *hidden_weights = use_fastfood ? 3 * fastfood_layer_num_blocks(n.fastfood) * fastfood_layer_block_size(n.fastfood)
                                   : (size_t)IN * HIDDEN;
    size_t count = data->train.count, *order = xcalloc(count, sizeof *order);
    float *x = xcalloc((size_t)BATCH * IN, sizeof(float));
    int labels[BATCH];
    double training_time = 0;
    uint64_t step = 0;
    for (size_t i = 0; i < count; i++) order[i] = i;
    for (int epoch = 0; epoch < epochs; epoch++) {
        for (size_t i = count - 1; i > 0; i--) { /* shuffle */
            size_t j = (size_t)(uniform() * (double)(i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double start = now(), loss = 0;
        size_t batches = 0;
        for (size_t first = 0; first + BATCH <= count; first += BATCH, batches++) {
            for (int r = 0; r < BATCH; r++) {
                memcpy(x + (size_t)r * IN, data->train.images + order[first + r] * IN, IN * sizeof(float));
                labels[r] = data->train.labels[order[first + r]];
            }
            loss += train_step(&n, BATCH, x, labels, step++);
        }
        training_time += now() - start;
        printf("  %-26s epoch %2d: training loss %.4f, test error %.2f%%\n", name, epoch + 1, loss / (double)batches,
               test_error(&n, &data->test));
        fflush(stdout);
    }
    *error = test_error(&n, &data->test);
    *seconds = training_time / epochs;
    free(order);
    free(x);
    free_tensor(&n.hidden);
    free_tensor(&n.output);
    free(n.h); free(n.dh); free(n.logits);
    fastfood_layer_destroy(n.fastfood);
}

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s MNIST_DIR [--epochs N] [--dropout P] [--seed S] [--max-error PERCENT]\n", argv[0]);
        return 2;
    }
    int epochs = 5;
    double dropout = 0, max_error = 100;
    uint64_t seed = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--epochs")) epochs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--dropout")) dropout = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--max-error")) max_error = atof(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (epochs < 1 || dropout < 0 || dropout >= 1) { fprintf(stderr, "bad --epochs or --dropout\n"); return 2; }
    mnist_data data;
    if (!mnist_load(argv[1], &data)) return 2;
    printf("MNIST: %s\n", data.split);
    printf("784 -> hidden 1024 (ReLU) -> 10, SGD lr %.2g momentum %.1f weight decay %.0e, batch %d, %d epochs, "
           "seed %llu; %zu fastfood threads, %d OpenBLAS threads\n", LEARNING_RATE, MOMENTUM, WEIGHT_DECAY, BATCH,
           epochs, (unsigned long long)seed, fastfood_get_num_threads(), openblas_get_num_threads());

    double ff_error, ff_time, dense_error, dense_time;
    size_t ff_weights, dense_weights;
    char name[64];
    snprintf(name, sizeof name, dropout > 0 ? "fastfood (dropout %.2g)" : "fastfood", dropout);
    run(name, 1, dropout, &data, epochs, seed, &ff_error, &ff_time, &ff_weights);
    run("dense", 0, 0, &data, epochs, seed, &dense_error, &dense_time, &dense_weights);
    const size_t output_weights = (size_t)HIDDEN * CLASSES;
    printf("\n| hidden layer | hidden weights | all weights | test error | s / epoch |\n|---|---|---|---|---|\n");
    printf("| %s | %zu | %zu | %.2f%% | %.3f |\n", name, ff_weights, ff_weights + output_weights, ff_error, ff_time);
    printf("| dense | %zu | %zu | %.2f%% | %.3f |\n", dense_weights, dense_weights + output_weights, dense_error,
           dense_time);
    printf("(weights without biases; the fastfood hidden layer has %zux fewer)\n", dense_weights / ff_weights);
    mnist_free(&data);
    if (!(ff_error <= max_error)) {
        printf("FAIL: fastfood test error %.2f%% is above %.2f%%\n", ff_error, max_error);
        return 1;
    }
    return 0;
}
