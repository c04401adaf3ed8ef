/*
 * mnist_mlp_mpi.c - the C MNIST network (../mlp_net.h) trained data-parallel with MPI.
 *
 * Every process builds the same layer from the seed (Fastfood permutations included) and starts
 * from rank 0's parameters (broadcast), walks the same shuffled order of the training set,
 * and computes the gradient of its share of each global batch (rank r takes rows r*B/P ..
 * (r+1)*B/P - 1).
 * The gradients are summed with MPI_Allreduce (the Fastfood layer's parameters and gradients
 * are one contiguous array, so that is one call, plus one for the dense output layer) and
 * divided by P: every process then takes the same SGD step and holds bitwise the same
 * parameters. Dropout masks are seeded per rank, so ranks drop different units.
 *
 *   mpirun -n P mnist_mlp_mpi MNIST_DIR [--hidden fastfood|dense] [--steps N] [--batch B]
 *                                       [--dropout R] [--dump FILE] [--fail-at-step K]
 *
 * Prints, per step on average: compute time, all-reduce time, and the bytes all-reduced.
 * --dump writes rank 0's final parameters (hidden then output, float32) to FILE (the tests
 * compare runs with it); --fail-at-step makes rank 1 exit without warning at that step (to test
 * that the others stop with a message instead of hanging).
 */
#include <mpi.h>

#include "../mlp_net.h"
#include "../mnist_idx.h"
#include "../option_values.h"

#include <unistd.h>

static void sum_over_ranks(float *data, size_t count, int ranks) {
    /* MPI counts are ints: large arrays go in pieces. */
    for (size_t first = 0; first < count; first += 1 << 30) {
        int n = (int)(count - first < (1u << 30) ? count - first : 1u << 30);
        MPI_Allreduce(MPI_IN_PLACE, data + first, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    const float scale = 1.0f / (float)ranks;
    for (size_t i = 0; i < count; i++) data[i] *= scale;
}

static const char usage[] = "usage: mpirun -n P %s MNIST_DIR [--hidden fastfood|dense] [--steps N] [--batch B] "
                           "[--dropout R] [--dump FILE] [--fail-at-step K]\n";

static const char help[] =
    "Trains the C MNIST network (784 -> hidden 1024 -> 10, SGD) data-parallel over the MPI processes:\n"
    "each computes its share of every global batch, the gradients are averaged with MPI_Allreduce,\n"
    "and all take the same step. Prints per-step compute and all-reduce times and bytes.\n"
    "\n"
    "  MNIST_DIR              the MNIST IDX files (gzip or not): the 60,000 / 10,000 split, or with\n"
    "                         only the t10k files there, the first 8,000 train and the last 2,000 test\n"
    "  --hidden fastfood|dense the hidden layer (default fastfood)\n"
    "  --steps N              training steps, 1 or more (default 200)\n"
    "  --batch B              global batch, a multiple of the process count, at most 256 rows\n"
    "                         per process (default 64)\n"
    "  --dropout R            dropout rate inside the Fastfood layer, 0 to below 1 (default 0)\n"
    "  --dump FILE            rank 0 writes its final parameters (float32) to FILE\n"
    "  --fail-at-step K       rank 1 exits abruptly at step K (tests that the others stop)\n"
    "  --help, -h             this text\n";

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, ranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    /* Every rank reads the command line; rank 0 alone says what is wrong with it. */
    option_silent = rank != 0;
    int exit_status = 0;
    if (!option_directory_first(argc, argv, usage, help, &exit_status)) {
        MPI_Finalize();
        return exit_status;
    }
    int use_fastfood = 1, steps = 200, batch = 64, fail_at = -1;
    double dropout = 0;
    const char *dump = NULL;
    for (int i = 2; i < argc; i += 2) {
        const char *option = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = value != NULL;
        if (!ok) {
            if (rank == 0) fprintf(stderr, "%s needs a value\n", option);
        } else if (!strcmp(option, "--hidden")) {
            use_fastfood = !strcmp(value, "fastfood");
            ok = use_fastfood || !strcmp(value, "dense");
            if (!ok && rank == 0) fprintf(stderr, "--hidden must be fastfood or dense, not '%s'\n", value);
        } else if (!strcmp(option, "--steps")) ok = option_int(option, value, 1, 100000000, &steps);
        else if (!strcmp(option, "--batch")) ok = option_int(option, value, 1, 1000000, &batch);
        else if (!strcmp(option, "--dropout")) ok = option_rate(option, value, &dropout);
        else if (!strcmp(option, "--dump")) dump = value;
        else if (!strcmp(option, "--fail-at-step")) ok = option_int(option, value, -1, 100000000, &fail_at);
        else {
            if (rank == 0) fprintf(stderr, "unknown option %s\n", option);
            ok = 0;
        }
        if (!ok) { MPI_Finalize(); return 2; }
    }
    if (batch % ranks != 0 || batch / ranks > MAX_ROWS) {
        if (rank == 0) fprintf(stderr, "--batch (%d) must be a multiple of the %d processes, at most %d rows each\n",
                               batch, ranks, MAX_ROWS);
        MPI_Finalize();
        return 2;
    }
    /* Rank 0 reads first and says why it could not, once; then every rank stops, or the others
     * read too (a rank on another machine that cannot says so itself and stops the job). */
    mnist_data data;
    int loaded = rank == 0 ? mnist_load(argv[1], &data) : 0;
    MPI_Bcast(&loaded, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!loaded) {
        MPI_Finalize();
        return 2;
    }
    if (rank != 0 && !mnist_load(argv[1], &data)) MPI_Abort(MPI_COMM_WORLD, 2);
    fastfood_set_num_threads(1); /* one process per core */

    net n = make_net(use_fastfood, dropout, 1);
    /* Start from rank 0's parameters. The seed gives every rank the same layer (its permutations
     * are integer arithmetic), but the initial values come from the C math library, whose
     * routines glibc picks by CPU (with FMA or without) and which differ between glibc versions:
     * nothing but a broadcast makes ranks on different machines start from the same bits. */
    MPI_Bcast(n.hidden.w, (int)n.hidden.n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    MPI_Bcast(n.output.w, (int)n.output.n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    n.dropout_seed = 1234 + (uint64_t)rank; /* different masks on each rank, reproducible */
    const int local = batch / ranks;
    size_t count = data.train.count, *order = xcalloc(count, sizeof *order);
    for (size_t i = 0; i < count; i++) order[i] = i;
    float *x = xcalloc((size_t)local * IN, sizeof(float));
    int *labels = xcalloc((size_t)local, sizeof(int));
    double compute = 0, communicate = 0, loss = 0;
    size_t position = count; /* reshuffle at the start */
    for (int step = 0; step < steps; step++) {
        if (step == fail_at && rank == 1) {
            fprintf(stderr, "rank 1: exiting at step %d (--fail-at-step)\n", step);
            _exit(3);
        }
        if (position + (size_t)batch > count) { shuffle(order, count); position = 0; }
        const size_t *mine = order + position + (size_t)rank * local;
        for (int r = 0; r < local; r++) {
            memcpy(x + (size_t)r * IN, data.train.images + mine[r] * IN, IN * sizeof(float));
            labels[r] = data.train.labels[mine[r]];
        }
        position += (size_t)batch;
        double t0 = now();
        loss += compute_gradients(&n, local, x, labels, (uint64_t)step);
        double t1 = now();
        sum_over_ranks(n.hidden.g, n.hidden.n, ranks); /* Fastfood: the one contiguous dparams */
        sum_over_ranks(n.output.g, n.output.n, ranks);
        double t2 = now();
        apply_update(&n);
        compute += t1 - t0 + (now() - t2);
        communicate += t2 - t1;
    }
    double error = test_error(&n, data.test.images, data.test.labels, data.test.count);
    double bytes = (double)(n.hidden.n + n.output.n) * sizeof(float);
    if (rank == 0) {
        printf("%s: %d processes, %d steps of %d rows (%d per process); %s\n", use_fastfood ? "fastfood" : "dense",
               ranks, steps, batch, local, data.split);
        printf("  per step: compute %.3f ms, all-reduce %.3f ms (%.1f%% of the step), %.0f bytes all-reduced\n",
               1e3 * compute / steps, 1e3 * communicate / steps, 100 * communicate / (compute + communicate), bytes);
        printf("  mean training loss %.4f, test error %.2f%%\n", loss / steps, error);
        printf("RESULT hidden=%s processes=%d compute_ms=%.4f allreduce_ms=%.4f bytes=%.0f error=%.2f\n",
               use_fastfood ? "fastfood" : "dense", ranks, 1e3 * compute / steps, 1e3 * communicate / steps, bytes,
               error);
        if (dump) {
            FILE *f = fopen(dump, "wb");
            int ok = f && fwrite(n.hidden.w, sizeof(float), n.hidden.n, f) == n.hidden.n &&
                     fwrite(n.output.w, sizeof(float), n.output.n, f) == n.output.n;
            if (f) ok &= fclose(f) == 0;
            if (!ok) { fprintf(stderr, "cannot write %s\n", dump); MPI_Abort(MPI_COMM_WORLD, 2); }
        }
    }
    /* Every rank checks that it holds rank 0's parameters bit for bit (a checksum over MPI). */
    uint64_t sum[2] = {0, 0}, low[2], high[2];
    for (size_t i = 0; i < n.hidden.n; i++) { uint32_t b; memcpy(&b, &n.hidden.w[i], 4); sum[0] = sum[0] * 31 + b; }
    for (size_t i = 0; i < n.output.n; i++) { uint32_t b; memcpy(&b, &n.output.w[i], 4); sum[1] = sum[1] * 31 + b; }
    MPI_Allreduce(sum, low, 2, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(sum, high, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    int same = low[0] == high[0] && low[1] == high[1];
    if (rank == 0) printf("  parameters on every rank: %s\n", same ? "bitwise identical" : "DIFFERENT");
    free(order); free(x); free(labels);
    free_net(&n);
    mnist_free(&data);
    MPI_Finalize();
    return same ? 0 : 1;
}
