// lenet_gloo.cpp - the deep fried LeNet (../lenet/lenet_model.h) trained data-parallel over
// several processes with libtorch's c10d and its Gloo backend, the way torchrun users launch jobs:
//
//   MASTER_ADDR=host0 MASTER_PORT=29500 WORLD_SIZE=N RANK=r lenet_gloo MNIST_DIR [options]
//
// Rendezvous through a c10d::TCPStore at MASTER_ADDR:MASTER_PORT (rank 0 serves it). Rank 0's
// parameters and buffers (the Fastfood seed, flags and permutation among them) are broadcast at
// the start, so every rank starts from the same network whatever it drew itself. Each step every
// rank computes the gradient of its share of the global batch (rank r takes rows r*B/N ..
// (r+1)*B/N - 1 of a batch order all ranks share), the gradients are flattened into one tensor,
// all-reduced (summed) and divided by N, and every rank takes the same SGD step (Caffe's LeNet
// solver). Dropout masks are seeded per rank (different on each, reproducible).
//
// Options: --model aff1024 (see lenet_model.h; reference = the dense LeNet), --steps N,
// --batch B (global), --no-dropout, --timeout SECONDS (of each collective; default 30),
// --dump FILE (rank 0 writes its final parameters, float32), --fail-at-step K (rank 1 exits
// abruptly at step K: the others must stop with a message, not hang).
// Prints per step: compute and all-reduce time, and the bytes all-reduced.
//
// SIGPIPE is ignored (as the Python interpreter does for torchrun jobs): a Gloo write to a peer
// that had just died raised it, and the default action killed the rank silently (status 141,
// 2 runs in 40 of Tests/Distributed/run.sh's dead-peer case) instead of the write failing with
// EPIPE, which Gloo throws as an exception and this program reports as "communication failed".
#include "lenet_model.h"
#include "option_values.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

static std::string env(const char *name, const char *fallback) {
    const char *value = std::getenv(name);
    return value && *value ? value : fallback;
}

static const char usage[] = "usage: MASTER_ADDR=host MASTER_PORT=port WORLD_SIZE=N RANK=r %s MNIST_DIR [--model NAME] "
                           "[--steps N] [--batch B] [--no-dropout] [--timeout S] [--dump FILE] [--fail-at-step K]\n";

static const char help[] =
    "Trains the deep fried LeNet data-parallel over N processes with libtorch's c10d and Gloo: rank 0\n"
    "serves the rendezvous (a TCPStore at MASTER_ADDR:MASTER_PORT, default 127.0.0.1:29500) and its\n"
    "network is broadcast; every step the gradients are averaged over the ranks (all-reduce) and\n"
    "all take the same SGD step. Prints per-step compute and all-reduce times and bytes.\n"
    "\n"
    "  MNIST_DIR          the MNIST IDX files (gzip or not): the 60,000 / 10,000 split, or with only\n"
    "                     the t10k files there, the first 8,000 train and the last 2,000 test\n"
    "  --model NAME       reference (the dense LeNet), ff1024, aff1024, ff2048, aff2048 (ff: S, G, B\n"
    "                     fixed; aff: trained), or ff1024-nd ... aff2048-nd (no dropout) (default\n"
    "                     aff1024)\n"
    "  --steps N          training steps, 1 or more (default 200)\n"
    "  --batch B          global batch, a multiple of WORLD_SIZE (default 64)\n"
    "  --no-dropout       no dropout inside the transform, whatever the model\n"
    "  --timeout S        seconds each collective may wait, 1 to 86400 (default 30)\n"
    "  --dump FILE        rank 0 writes its final parameters (float32) to FILE\n"
    "  --fail-at-step K   rank 1 exits abruptly at step K (tests that the others stop)\n"
    "  --help, -h         this text\n"
    "Environment: RANK (0 .. WORLD_SIZE - 1, default 0), WORLD_SIZE (default 1), MASTER_ADDR,\n"
    "MASTER_PORT.\n";

int main(int argc, char **argv) {
    std::signal(SIGPIPE, SIG_IGN);  // a dead peer: an error from the write, not a silent death
    int exit_status = 0;
    if (!option_directory_first(argc, argv, usage, help, &exit_status)) return exit_status;
    int rank = 0, world = 1, port = 0;
    if (!option_int("RANK", env("RANK", "0").c_str(), 0, 65535, &rank) ||
        !option_int("WORLD_SIZE", env("WORLD_SIZE", "1").c_str(), 1, 65536, &world) ||
        !option_int("MASTER_PORT", env("MASTER_PORT", "29500").c_str(), 1, 65535, &port))
        return 2;
    const std::string address = env("MASTER_ADDR", "127.0.0.1");
    std::string model_name = "aff1024", dump;
    int steps = 200, batch = 64, fail_at = -1, timeout = 30;
    bool dropout = true;
    for (int i = 2; i < argc; i++) {
        const std::string option = argv[i];
        if (option == "--no-dropout") { dropout = false; continue; }
        if (i + 1 == argc) { std::fprintf(stderr, "%s needs a value\n", option.c_str()); return 2; }
        const char *value = argv[i + 1];
        bool ok = true;
        if (option == "--model") model_name = value;
        else if (option == "--steps") ok = option_int(argv[i], value, 1, 100000000, &steps);
        else if (option == "--batch") ok = option_int(argv[i], value, 1, 1000000, &batch);
        else if (option == "--timeout") ok = option_int(argv[i], value, 1, 86400, &timeout);
        else if (option == "--dump") dump = value;
        else if (option == "--fail-at-step") ok = option_int(argv[i], value, -1, 100000000, &fail_at);
        else { std::fprintf(stderr, "unknown option %s\n", option.c_str()); return 2; }
        if (!ok) return 2;
        i++;
    }
    const ModelSpec *spec = nullptr;
    for (const auto &m : all_models) if (m.name == model_name) spec = &m;
    if (!spec) {
        std::fprintf(stderr, "--model: unknown model '%s' (--help lists them)\n", model_name.c_str());
        return 2;
    }
    if (rank >= world) {
        std::fprintf(stderr, "RANK %d is not below WORLD_SIZE %d\n", rank, world);
        return 2;
    }
    if (batch % world != 0) {
        std::fprintf(stderr, "--batch %d is not a multiple of WORLD_SIZE %d\n", batch, world);
        return 2;
    }
    ModelSpec chosen = *spec;
    chosen.dropout = chosen.dropout && dropout;

    try {
        c10d::TCPStoreOptions store_options;
        store_options.port = static_cast<std::uint16_t>(port);
        store_options.isServer = rank == 0;
        store_options.numWorkers = world;
        store_options.timeout = std::chrono::seconds(timeout);
        auto store = c10::make_intrusive<c10d::TCPStore>(address, store_options);
        auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(timeout));
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);

        mnist_data data;
        if (!mnist_load(argv[1], &data)) return 2;
        // Each rank draws its own network; rank 0's is broadcast below.
        torch::manual_seed(static_cast<uint64_t>(100 + rank));
        LeNet net(chosen, /*seed*/ -1);
        {
            torch::NoGradGuard no_grad;
            for (auto &t : net.parameters()) { std::vector<at::Tensor> v{t}; group->broadcast(v)->wait(); }
            for (auto &t : net.buffers()) { std::vector<at::Tensor> v{t}; group->broadcast(v)->wait(); }
            if (net.ip1_fastfood) net.ip1_fastfood->dropout_state[0] = 1234 + rank; // per-rank masks
        }
        torch::manual_seed(777); // the same batch order on every rank
        const auto train_x = images_of(data.train), train_y = labels_of(data.train);
        const double base_lr = 0.01;
        torch::optim::SGD solver(net.parameters(), torch::optim::SGDOptions(base_lr).momentum(0.9).weight_decay(5e-4));
        std::vector<torch::Tensor> trained;
        for (auto &p : net.parameters()) if (p.requires_grad()) trained.push_back(p);
        const int64_t local = batch / world, count = train_x.size(0);
        auto order = torch::randperm(count, torch::kInt64);
        int64_t position = 0;
        double compute = 0, communicate = 0, loss_sum = 0;
        int64_t bytes = 0;
        for (int step = 0; step < steps; step++) {
            if (step == fail_at && rank == 1) {
                std::fprintf(stderr, "rank 1: exiting at step %d (--fail-at-step)\n", step);
                std::fflush(stderr);
                _exit(3);
            }
            if (position + batch > count) { order = torch::randperm(count, torch::kInt64); position = 0; }
            auto index = order.slice(0, position + rank * local, position + (rank + 1) * local);
            position += batch;
            const double lr = base_lr * std::pow(1 + 1e-4 * step, -0.75); // Caffe's "inv" policy
            for (auto &g : solver.param_groups()) static_cast<torch::optim::SGDOptions &>(g.options()).lr(lr);
            auto t0 = std::chrono::steady_clock::now();
            solver.zero_grad();
            auto loss = torch::nn::functional::cross_entropy(net.forward(train_x.index_select(0, index)),
                                                             train_y.index_select(0, index));
            loss.backward();
            std::vector<torch::Tensor> grads;
            for (auto &p : trained) grads.push_back(p.grad().reshape({-1}));
            std::vector<at::Tensor> flat{torch::cat(grads)};
            auto t1 = std::chrono::steady_clock::now();
            group->allreduce(flat)->wait(); // sum over ranks
            auto t2 = std::chrono::steady_clock::now();
            flat[0].div_(world);
            int64_t offset = 0;
            for (auto &p : trained) {
                p.grad().copy_(flat[0].slice(0, offset, offset + p.numel()).view_as(p));
                offset += p.numel();
            }
            solver.step();
            auto t3 = std::chrono::steady_clock::now();
            compute += std::chrono::duration<double>(t1 - t0).count() + std::chrono::duration<double>(t3 - t2).count();
            communicate += std::chrono::duration<double>(t2 - t1).count();
            bytes = flat[0].numel() * static_cast<int64_t>(sizeof(float));
            loss_sum += loss.item<double>();
        }
        // Every rank holds rank 0's parameters bit for bit: compare a checksum of their bits.
        std::vector<torch::Tensor> all;
        for (auto &p : net.parameters()) all.push_back(p.detach().reshape({-1}));
        auto bits = torch::cat(all).view(torch::kInt32).to(torch::kInt64);
        auto weights = torch::arange(bits.numel(), torch::kInt64).remainder(1000003) + 1;
        std::vector<at::Tensor> low{(bits * weights).sum().reshape({1})}, high{low[0].clone()};
        group->allreduce(low, c10d::AllreduceOptions{c10d::ReduceOp::MIN})->wait();
        group->allreduce(high, c10d::AllreduceOptions{c10d::ReduceOp::MAX})->wait();
        const bool same = torch::equal(low[0], high[0]);
        if (rank == 0) {
            const double ms_compute = 1e3 * compute / steps, ms_comm = 1e3 * communicate / steps;
            std::printf("%s: %d processes, %d steps of %d rows (%lld per process)%s; %s\n", chosen.label.c_str(), world,
                        steps, batch, static_cast<long long>(local), chosen.dropout ? ", dropout in the transform" : "",
                        data.split);
            std::printf("  per step: compute %.3f ms, all-reduce %.3f ms (%.1f%% of the step), %lld bytes all-reduced\n",
                        ms_compute, ms_comm, 100 * ms_comm / (ms_compute + ms_comm), static_cast<long long>(bytes));
            auto test_x = images_of(data.test), test_y = labels_of(data.test);
            torch::NoGradGuard no_grad;
            net.eval();
            const double error = 100.0 * (net.forward(test_x).argmax(1) != test_y).sum().item<double>() /
                                 static_cast<double>(test_x.size(0));
            std::printf("  mean training loss %.4f, test error %.2f%%\n", loss_sum / steps, error);
            std::printf("RESULT model=%s processes=%d compute_ms=%.4f allreduce_ms=%.4f bytes=%lld error=%.2f\n",
                        chosen.name.c_str(), world, ms_compute, ms_comm, static_cast<long long>(bytes), error);
            std::printf("  parameters on every rank: %s\n", same ? "bitwise identical" : "DIFFERENT");
            if (!dump.empty()) {
                auto flat = torch::cat(all).contiguous();
                FILE *f = std::fopen(dump.c_str(), "wb");
                const bool ok = f && std::fwrite(flat.data_ptr<float>(), sizeof(float), static_cast<size_t>(flat.numel()), f) ==
                                         static_cast<size_t>(flat.numel());
                if (f) std::fclose(f);
                if (!ok) { std::fprintf(stderr, "cannot write %s\n", dump.c_str()); return 2; }
            }
        }
        mnist_free(&data);
        return same ? 0 : 1;
    } catch (const std::exception &e) {
        // A peer that died or a rendezvous that never completed: say so and stop.
        std::fprintf(stderr, "rank %d: communication failed: %s\n", rank, e.what());
        return 1;
    }
}
