/*
 * mnist_mlp.c - the drop-in job in plain C: a Fastfood layer where a dense hidden layer was, on
 * MNIST, trained with the dense layer's own recipe (the network: mlp_net.h).
 *
 *   784 -> hidden 1024 (ReLU) -> dense 10 -> softmax cross-entropy
 *
 * The hidden layer is Fastfood (FASTFOOD_LAYER_NORMALIZED, optionally with dropout inside the
 * transform) or, for comparison, dense (OpenBLAS sgemm). Both nets train with the same SGD: one
 * learning rate for every parameter, momentum 0.9, weight decay 5e-4, batch 64. Prints test
 * error, parameter counts and seconds per epoch for both.
 *
 *   mnist_mlp DIR [--epochs N] [--dropout P] [--seed S] [--max-error PERCENT] [--check-gradients]
 *
 * DIR holds the MNIST IDX files (see mnist_idx.h for the split used when only the 10,000 test
 * images are there). --dropout P drops with rate P after PI and after S (the paper's sites);
 * --max-error makes the exit status 1 if the Fastfood net's test error is above PERCENT;
 * --check-gradients first checks both nets' gradients against their loss (check_gradients) and
 * exits with status 1, without training, if they do not match.
 */
#include "mlp_net.h"
#include "mnist_idx.h"
#include "option_values.h"

enum { BATCH = 64 };

/* Trains one net; reports its test error and seconds per epoch. */
static void run(const char *name, int use_fastfood, double dropout, const mnist_data *data, int epochs,
                uint64_t seed, double *error, double *seconds, size_t *weights) {
    net n = make_net(use_fastfood, dropout, seed);
    *weights = hidden_weights(&n);
    size_t count = data->train.count, *order = xcalloc(count, sizeof *order);
    float *x = xcalloc((size_t)BATCH * IN, sizeof(float));
    int labels[BATCH];
    double training_time = 0;
    uint64_t step = 0;
    for (size_t i = 0; i < count; i++) order[i] = i;
    for (int epoch = 0; epoch < epochs; epoch++) {
        shuffle(order, count);
        double start = now(), loss = 0;
        size_t batches = 0;
        for (size_t first = 0; first + BATCH <= count; first += BATCH, batches++) {
            for (int r = 0; r < BATCH; r++) {
                memcpy(x + (size_t)r * IN, data->train.images + order[first + r] * IN, IN * sizeof(float));
                labels[r] = data->train.labels[order[first + r]];
            }
            loss += compute_gradients(&n, BATCH, x, labels, step++);
            apply_update(&n);
        }
        training_time += now() - start;
        printf("  %-26s epoch %2d: training loss %.4f, test error %.2f%%\n", name, epoch + 1, loss / (double)batches,
               test_error(&n, data->test.images, data->test.labels, data->test.count));
        fflush(stdout);
    }
    *error = test_error(&n, data->test.images, data->test.labels, data->test.count);
    *seconds = training_time / epochs;
    free(order);
    free(x);
    free_net(&n);
}

/* The network's own gradients (compute_gradients: softmax, the output layer, ReLU, the hidden
 * layer with its dropout) against its loss at nearby parameters, on training images 16 to 31
 * (after a step on images 0 to 15, so that what one call leaves behind cannot pass for a right
 * gradient): along a direction d over each layer's weights, over each layer's biases and over
 * all, loss(w + d) - loss(w - d) must match the sum of gradient x ((w + d) - (w - d)), the
 * steps as float stores them. d follows the gradient with random weights (d_i = c g_i (0.5 + u),
 * the largest step 1e-4), so that the change in loss stands far above float rounding. Returns
 * whether every relative difference is below 1%. */
static int check_gradients(const char *name, int use_fastfood, double dropout, const mnist_data *data, uint64_t seed) {
    enum { ROWS = 16 };
    const uint64_t step = 7; /* any training step: its dropout masks are the same at every w */
    net n = make_net(use_fastfood, dropout, seed);
    /* Hidden biases away from 0: a unit the output dropout zeroes is then not at ReLU's kink
     * (with the initial bias of 0 it is exactly there, where the loss has no derivative). Both
     * hidden layers keep their bias in the last HIDDEN entries, the output layer in the last
     * CLASSES. */
    for (size_t i = n.hidden.n - HIDDEN; i < n.hidden.n; i++) n.hidden.w[i] = (float)(0.2 * uniform() - 0.1);
    float *x = xcalloc((size_t)ROWS * IN, sizeof(float));
    int labels[ROWS];
    for (int batch = 0; batch < 2; batch++) {
        memcpy(x, data->train.images + (size_t)batch * ROWS * IN, (size_t)ROWS * IN * sizeof(float));
        for (int r = 0; r < ROWS; r++) labels[r] = data->train.labels[batch * ROWS + r];
        compute_gradients(&n, ROWS, x, labels, step - 1 + (uint64_t)batch);
    }
    tensor *parts[2] = {&n.hidden, &n.output};
    const size_t biases[2] = {HIDDEN, CLASSES};
    float *gradient[2], *start[2], *plus[2], *minus[2];
    for (int k = 0; k < 2; k++) {
        size_t bytes = parts[k]->n * sizeof(float);
        gradient[k] = xcalloc(parts[k]->n, sizeof(float)), start[k] = xcalloc(parts[k]->n, sizeof(float));
        plus[k] = xcalloc(parts[k]->n, sizeof(float)), minus[k] = xcalloc(parts[k]->n, sizeof(float));
        memcpy(gradient[k], parts[k]->g, bytes), memcpy(start[k], parts[k]->w, bytes);
    }
    /* Directions: 0 hidden weights, 1 hidden biases, 2 output weights, 3 output biases, 4 all. */
    static const char *const over[5] = {"hidden weights", "hidden biases", "output weights", "output biases", "all"};
    int passed = 1;
    for (int which = 0; which < 5; which++) {
        double largest = 0, predicted = 0;
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < parts[k]->n; i++) {
                int section = 2 * k + (i >= parts[k]->n - biases[k]);
                double d = which == 4 || which == section ? gradient[k][i] * (0.5 + uniform()) : 0;
                plus[k][i] = (float)d; /* d for now; then w + c d */
                largest = fabs(d) > largest ? fabs(d) : largest;
            }
        double c = largest > 0 ? 1e-4 / largest : 0;
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < parts[k]->n; i++) {
                double d = c * plus[k][i];
                plus[k][i] = (float)(start[k][i] + d), minus[k][i] = (float)(start[k][i] - d);
                predicted += (double)gradient[k][i] * ((double)plus[k][i] - (double)minus[k][i]);
            }
        double loss[2];
        for (int side = 0; side < 2; side++) {
            for (int k = 0; k < 2; k++) memcpy(parts[k]->w, side ? minus[k] : plus[k], parts[k]->n * sizeof(float));
            loss[side] = compute_gradients(&n, ROWS, x, labels, step);
        }
        for (int k = 0; k < 2; k++) memcpy(parts[k]->w, start[k], parts[k]->n * sizeof(float));
        double measured = loss[0] - loss[1], error = fabs(measured - predicted) / fabs(predicted);
        printf("  %-26s gradient check, %-14s: loss change %.6e, predicted %.6e, relative difference %.1e\n", name,
               over[which], measured, predicted, error);
        passed &= error < 1e-2; /* also false for NaN */
    }
    for (int k = 0; k < 2; k++) free(gradient[k]), free(start[k]), free(plus[k]), free(minus[k]);
    free(x);
    free_net(&n);
    return passed;
}

static const char usage[] =
    "usage: %s MNIST_DIR [--epochs N] [--dropout P] [--seed S] [--max-error PERCENT] [--check-gradients]\n";

static const char help[] =
    "Trains 784 -> hidden 1024 (ReLU) -> 10 on MNIST twice, the hidden layer Fastfood and dense,\n"
    "with the same SGD (lr 0.01, momentum 0.9, weight decay 5e-4, batch 64), and prints both test\n"
    "errors, parameter counts and seconds per epoch.\n"
    "\n"
    "  MNIST_DIR           the MNIST IDX files (gzip or not): the 60,000 / 10,000 split, or with\n"
    "                      only the t10k files there, the first 8,000 train and the last 2,000 test\n"
    "  --epochs N          training epochs, 1 or more (default 5)\n"
    "  --dropout P         dropout rate after PI and after S inside the Fastfood layer, 0 to below\n"
    "                      1 (default 0)\n"
    "  --seed S            seed of the initial parameters and the batch order (default 1)\n"
    "  --max-error PERCENT exit status 1 if the Fastfood net's test error is above it\n"
    "  --check-gradients   first check both nets' gradients against their loss: exit status 1,\n"
    "                      without training, if they do not match\n"
    "  --help, -h          this text\n";

int main(int argc, char **argv) {
    int exit_status = 0;
    if (!option_directory_first(argc, argv, usage, help, &exit_status)) return exit_status;
    int epochs = 5, check_first = 0;
    double dropout = 0, max_error = 100;
    uint64_t seed = 1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--check-gradients")) { check_first = 1; continue; }
        if (i + 1 == argc) { fprintf(stderr, "%s needs a value\n", argv[i]); return 2; }
        const char *option = argv[i], *value = argv[i + 1];
        int ok;
        if (!strcmp(option, "--epochs")) ok = option_int(option, value, 1, 1000000, &epochs);
        else if (!strcmp(option, "--dropout")) ok = option_rate(option, value, &dropout);
        else if (!strcmp(option, "--seed")) ok = option_u64(option, value, &seed);
        else if (!strcmp(option, "--max-error")) ok = option_double(option, value, 0, 100, &max_error);
        else { fprintf(stderr, "unknown option %s\n", option); return 2; }
        if (!ok) return 2;
        i++;
    }
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
    if (check_first && !(check_gradients(name, 1, dropout, &data, seed) & check_gradients("dense", 0, 0, &data, seed))) {
        printf("FAIL: the network's gradients do not match its loss\n");
        mnist_free(&data);
        return 1;
    }
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
