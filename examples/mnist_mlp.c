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
 *   mnist_mlp DIR [--epochs N] [--dropout P] [--seed S] [--max-error PERCENT]
 *
 * DIR holds the MNIST IDX files (see mnist_idx.h for the split used when only the 10,000 test
 * images are there). --dropout P drops with rate P after PI and after S (the paper's sites);
 * --max-error makes the exit status 1 if the Fastfood net's test error is above PERCENT.
 */
#include "mlp_net.h"
#include "mnist_idx.h"

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
