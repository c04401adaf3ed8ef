// lenet_mnist.cpp - the paper's MNIST experiment (Yang et al. 2015, Table 1) with libtorch:
// Caffe's LeNet against deep fried LeNets whose fully connected layer ip1 (800 -> 500) is
// replaced by fastfood_torch::FastfoodLinear(800, 1024 or 2048), adaptive (S, G, B trained) and
// non-adaptive (S, G, B fixed at their random initialisation), with and without dropout inside
// the transform. Every model trains with Caffe's LeNet solver unchanged: SGD, learning rate 0.01
// with the "inv" policy (gamma 1e-4, power 0.75), momentum 0.9, weight decay 5e-4, batch 64;
// one optimizer and one learning rate for every parameter, Fastfood's included.
//
//   lenet_mnist MNIST_DIR [--epochs N] [--seeds K] [--models a,b,...] [--max-error PERCENT]
//               [--optimizer sgd|adam]
//
// Models: reference, ff1024-nd, aff1024-nd, ff2048-nd, aff2048-nd, ff1024, aff1024, ff2048,
// aff2048 (ff = non-adaptive Fastfood, aff = adaptive, -nd = no dropout); default all.
// MNIST_DIR holds the IDX files; with only the 10,000 test images the first 8,000 train and the
// last 2,000 test (the output says which). Prints one line per epoch and a table: weights as the
// paper counts them (no biases), test error (mean and spread over the seeds), seconds per epoch,
// the paper's figures beside ours. --max-error: exit status 1 if any model's mean error is above.
// --optimizer adam: Adam at its defaults (learning rate 1e-3, no weight decay, no schedule)
// instead of the Caffe solver, again one learning rate for every parameter.
#include "lenet_model.h"
#include "option_values.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>


struct Result {
    double error, seconds_per_epoch;
    int64_t weights;
};

static double test_error(LeNet &net, const torch::Tensor &x, const torch::Tensor &y) {
    torch::NoGradGuard guard;
    net.eval();
    int64_t wrong = 0;
    for (int64_t first = 0; first < x.size(0); first += 500) {
        const int64_t last = std::min(first + 500, x.size(0));
        auto predicted = net.forward(x.slice(0, first, last)).argmax(1);
        wrong += (predicted != y.slice(0, first, last)).sum().item<int64_t>();
    }
    net.train();
    return 100.0 * static_cast<double>(wrong) / static_cast<double>(x.size(0));
}

static Result train(const ModelSpec &spec, int64_t seed, int epochs, const mnist_data &data, bool adam) {
    torch::manual_seed(static_cast<uint64_t>(seed));
    LeNet net(spec, seed);
    const auto train_x = images_of(data.train), train_y = labels_of(data.train);
    const auto test_x = images_of(data.test), test_y = labels_of(data.test);
    const double base_lr = 0.01, gamma = 1e-4, power = 0.75;
    // Either optimiser gets every parameter in one group, with one learning rate.
    std::unique_ptr<torch::optim::Optimizer> solver;
    if (adam) solver = std::make_unique<torch::optim::Adam>(net.parameters(), torch::optim::AdamOptions(1e-3));
    else solver = std::make_unique<torch::optim::SGD>(net.parameters(),
                                                      torch::optim::SGDOptions(base_lr).momentum(0.9).weight_decay(5e-4));
    const int64_t batch = 64, count = train_x.size(0);
    int64_t iteration = 0;
    double seconds = 0;
    for (int epoch = 0; epoch < epochs; epoch++) {
        const auto start = std::chrono::steady_clock::now();
        auto order = torch::randperm(count, torch::kInt64);
        double loss_sum = 0;
        int64_t batches = 0;
        for (int64_t first = 0; first + batch <= count; first += batch, batches++, iteration++) {
            if (!adam) { // Caffe's "inv" learning-rate policy, per iteration.
                const double lr = base_lr * std::pow(1 + gamma * static_cast<double>(iteration), -power);
                for (auto &group : solver->param_groups()) static_cast<torch::optim::SGDOptions &>(group.options()).lr(lr);
            }
            auto index = order.slice(0, first, first + batch);
            solver->zero_grad();
            auto loss = torch::nn::functional::cross_entropy(net.forward(train_x.index_select(0, index)),
                                                             train_y.index_select(0, index));
            loss.backward();
            solver->step();
            loss_sum += loss.item<double>();
        }
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double loss = loss_sum / static_cast<double>(batches);
        std::printf("  %-28s seed %lld epoch %2d: training loss %.4f, test error %.2f%%\n", spec.label.c_str(),
                    static_cast<long long>(seed), epoch + 1, loss, test_error(net, test_x, test_y));
        std::fflush(stdout);
        if (!std::isfinite(loss)) break;
    }
    return {test_error(net, test_x, test_y), seconds / epochs, net.weight_count()};
}

static const char usage[] =
    "usage: %s MNIST_DIR [--epochs N] [--seeds K] [--models a,b,...] [--max-error PERCENT] [--optimizer sgd|adam]\n";

static const char help[] =
    "The paper's MNIST experiment: Caffe's LeNet, and LeNets whose ip1 (800 -> 500) is a FastfoodLinear,\n"
    "each trained with Caffe's LeNet solver (SGD, lr 0.01, inv policy, momentum 0.9, weight decay 5e-4,\n"
    "batch 64); prints one line per epoch and a table of weights, test errors and seconds per epoch.\n"
    "\n"
    "  MNIST_DIR            the MNIST IDX files (gzip or not): the 60,000 / 10,000 split, or with only\n"
    "                       the t10k files there, the first 8,000 train and the last 2,000 test\n"
    "  --epochs N           training epochs, 1 or more (default 10)\n"
    "  --seeds K            runs of each model with seeds 1 .. K, 1 or more (default 3)\n"
    "  --models a,b,...     which models, comma-separated (default all): reference (the dense LeNet),\n"
    "                       ff1024, aff1024, ff2048, aff2048 (ff: S, G, B fixed; aff: trained; with\n"
    "                       dropout inside the transform), ff1024-nd ... aff2048-nd (no dropout)\n"
    "  --max-error PERCENT  exit status 1 if any model's mean test error is above it\n"
    "  --optimizer sgd|adam adam: Adam at its defaults (lr 1e-3) instead of the Caffe solver\n"
    "  --help, -h           this text\n";

int main(int argc, char **argv) {
    int exit_status = 0;
    if (!option_directory_first(argc, argv, usage, help, &exit_status)) return exit_status;
    int epochs = 10, seeds = 3;
    double max_error = 100;
    bool adam = false;
    std::vector<ModelSpec> models = all_models;
    for (int i = 2; i < argc; i += 2) {
        const std::string option = argv[i];
        if (i + 1 == argc) {
            std::fprintf(stderr, "option %s needs a value\n", option.c_str());
            return 2;
        }
        const std::string value = argv[i + 1];
        if (option == "--epochs") {
            if (!option_int(argv[i], argv[i + 1], 1, 1000000, &epochs)) return 2;
        } else if (option == "--seeds") {
            if (!option_int(argv[i], argv[i + 1], 1, 1000000, &seeds)) return 2;
        } else if (option == "--max-error") {
            if (!option_double(argv[i], argv[i + 1], 0, 100, &max_error)) return 2;
        } else if (option == "--optimizer") {
            if (value != "sgd" && value != "adam") {
                std::fprintf(stderr, "--optimizer must be sgd or adam\n");
                return 2;
            }
            adam = value == "adam";
        }
        else if (option == "--models") {
            models.clear();
            std::stringstream list(value);
            for (std::string name; std::getline(list, name, ',');) {
                bool found = false;
                for (const auto &m : all_models) {
                    if (m.name == name) {
                        models.push_back(m);
                        found = true;
                    }
                }
                if (!found) {
                    std::fprintf(stderr, "--models: unknown model '%s' (--help lists them)\n", name.c_str());
                    return 2;
                }
            }
            if (models.empty()) { // an empty list would train nothing and pass --max-error
                std::fprintf(stderr, "--models: no model named\n");
                return 2;
            }
        } else {
            std::fprintf(stderr, "unknown option %s\n", option.c_str());
            return 2;
        }
    }
    mnist_data data;
    if (!mnist_load(argv[1], &data)) return 2;
    std::printf("MNIST: %s\n", data.split);
    std::printf("%s, batch 64, %d epochs, "
                "%d seed(s); dropout rows: %.1f after PI, %.1f after S; libtorch %d thread(s), libfastfood %zu\n",
                adam ? "Adam at its defaults (lr 1e-3)"
                     : "Caffe LeNet solver (SGD lr 0.01 inv policy, momentum 0.9, weight decay 5e-4)",
                epochs, seeds, kDropPermuted, kDropOutput, torch::get_num_threads(), fastfood_get_num_threads());

    struct Row {
        ModelSpec spec;
        std::vector<Result> runs;
    };
    std::vector<Row> rows;
    bool ok = true;
    for (const auto &spec : models) {
        Row row{spec, {}};
        for (int s = 0; s < seeds; s++) row.runs.push_back(train(spec, 1 + s, epochs, data, adam));
        rows.push_back(row);
    }
    std::printf("\n%s; %d epochs, mean over %d seed(s) (min - max)\n\n", data.split, epochs, seeds);
    std::printf("| model | weights (ours) | weights (paper) | test error (ours) | test error (paper, 60k/10k) | s / epoch |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (const auto &row : rows) {
        double mean = 0, low = 1e9, high = -1, seconds = 0;
        for (const auto &r : row.runs) {
            mean += r.error / static_cast<double>(row.runs.size());
            seconds += r.seconds_per_epoch / static_cast<double>(row.runs.size());
            low = std::min(low, r.error);
            high = std::max(high, r.error);
        }
        std::printf("| %s | %lld | %lld | %.2f%% (%.2f - %.2f) | %.2f%% | %.2f |\n", row.spec.label.c_str(),
                    static_cast<long long>(row.runs[0].weights), static_cast<long long>(row.spec.paper_weights), mean,
                    low, high, row.spec.paper_error, seconds);
        if (!(mean <= max_error)) {
            std::printf("FAIL: %s: mean test error %.2f%% is above %.2f%%\n", row.spec.label.c_str(), mean, max_error);
            ok = false;
        }
    }
    mnist_free(&data);
    return ok ? 0 : 1;
}
