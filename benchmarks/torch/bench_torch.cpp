// bench_torch.cpp - FastfoodLinear as a libtorch user runs it, against torch::nn::Linear and
// against the library's own calls, measured in one run.
//
// Built against an installed fastfood through its CMake package (`make bench-torch` installs
// into build/prefix and builds this with CMake, as examples/lenet is built). One training step
// is what a training loop does per layer: the gradients set to none, y = layer(x), y.backward(dy),
// with x a leaf that requires its gradient (so dx is computed, as for a hidden layer). Lines:
//   binding <shape> threads=<t>  the FastfoodLinear step against the library's forward and
//                                backward called directly on preallocated buffers (the same
//                                work: dx and every parameter gradient): what libtorch and the
//                                binding add (autograd, the output and gradient tensors, and
//                                the page faults of their memory; faults per step printed)
//   linear  <shape> threads=<t>  torch::nn::Linear's step against FastfoodLinear's, and the
//                                speedup, with libtorch and fastfood given the same thread count
//                                (these two lines run on fastfood's own pool, the default)
//   network <shape>              a 3-layer FastfoodLinear network with ReLU between, one step,
//                                with two threads (libtorch's intra-op threads, fastfood's pool,
//                                or fastfood on libtorch's threads through fastfood_set_executor
//                                and at::parallel_for) against
//                                all on one thread
// Each ratio is the median of interleaved pairs (the two sides timed back to back, each for at
// least 10 ms, after a warm-up of each), with the range of the ratios in brackets, so noise on
// the shared machine hits both sides alike.
//
// Usage: bench_torch [--quick] [--keep-freed-memory]
//   --quick              fewer shapes and pairs (a smoke run)
//   --keep-freed-memory  mallopt(M_MMAP_THRESHOLD, 32 MiB) and mallopt(M_TRIM_THRESHOLD, 1 GiB)
//                        before anything is allocated: glibc then keeps freed tensor memory for
//                        the next step instead of returning it to the kernel and faulting it in
//                        again (README "Training through libtorch" has the figures)
#include <fastfood_linear.h>

#include "../cpu_description.h"

#include <malloc.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long minor_faults() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

struct Timing {
    double seconds = 0;  // per step
    double faults = 0;   // minor page faults per step
};

/// Seconds and page faults per call of step, repeated until it has run for at least 10 ms.
Timing timed_batch(const std::function<void()> &step) {
    long reps = 0;
    const long faults = minor_faults();
    const double start = now();
    double elapsed;
    do {
        step();
        reps++;
        elapsed = now() - start;
    } while (elapsed < 0.01);
    return {elapsed / static_cast<double>(reps), static_cast<double>(minor_faults() - faults) / static_cast<double>(reps)};
}

struct PairResult {
    Timing a, b;                // medians of each side
    double ratio, low, high;    // median, min, max of b / a
};

/// prepare_a and prepare_b (untimed) run before every batch of their side.
PairResult pairs(const std::function<void()> &a, const std::function<void()> &b, int count,
                 const std::function<void()> &prepare_a = [] {}, const std::function<void()> &prepare_b = [] {}) {
    prepare_a();
    a();  // warm-up: scratch, threads, the first gradients
    prepare_b();
    b();
    std::vector<double> ta, tb, fa, fb, ratio;
    for (int i = 0; i < count; i++) {
        prepare_a();
        const Timing x = timed_batch(a);
        prepare_b();
        const Timing y = timed_batch(b);
        ta.push_back(x.seconds);
        tb.push_back(y.seconds);
        fa.push_back(x.faults);
        fb.push_back(y.faults);
        ratio.push_back(y.seconds / x.seconds);
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    const auto range = std::minmax_element(ratio.begin(), ratio.end());
    return {{median(ta), median(fa)}, {median(tb), median(fb)}, median(ratio), *range.first, *range.second};
}

/// Gradients to none, as optimizer.zero_grad(set_to_none) leaves them: the step's gradients
/// are then the fresh tensors the backward made, not added into old ones.
void clear_gradients(torch::nn::Module &module, torch::Tensor &x) {
    for (auto &p : module.parameters()) p.mutable_grad() = torch::Tensor();
    x.mutable_grad() = torch::Tensor();
}

void bench_shape(int64_t batch, int64_t in, int64_t out, int threads, int pair_count) {
    fastfood_set_num_threads(static_cast<size_t>(threads));
    at::set_num_threads(threads);
    torch::manual_seed(1);
    fastfood_torch::FastfoodLinear ff(in, out);
    torch::nn::Linear dense(in, out);
    auto x = torch::randn({batch, in}).requires_grad_(true);
    const auto dy = torch::randn({batch, out});

    // The library called directly, on buffers allocated once: the same forward and backward.
    const fastfood_layer *layer = ff->layer().get();
    const auto params = torch::cat({ff->S, ff->G, ff->B, ff->bias}).detach().contiguous();
    auto y_raw = torch::empty({batch, out}), dx_raw = torch::empty({batch, in});
    auto dparams_raw = torch::empty_like(params);
    const auto rows = static_cast<size_t>(batch), n_in = static_cast<size_t>(in), n_out = static_cast<size_t>(out);
    auto raw_step = [&] {
        fastfood::check(fastfood_forward_f32(layer, params.data_ptr<float>(), rows, x.data_ptr<float>(), n_in,
                                             y_raw.data_ptr<float>(), n_out));
        fastfood::check(fastfood_backward_f32(layer, params.data_ptr<float>(), rows, x.data_ptr<float>(), n_in,
                                              dy.data_ptr<float>(), n_out, dx_raw.data_ptr<float>(), n_in,
                                              dparams_raw.data_ptr<float>(), 0));
    };
    auto ff_step = [&] {
        clear_gradients(*ff, x);
        ff(x).backward(dy);
    };
    auto dense_step = [&] {
        clear_gradients(*dense, x);
        dense(x).backward(dy);
    };

    char shape[64];
    std::snprintf(shape, sizeof shape, "%3lld x %5lld -> %5lld  threads=%d", static_cast<long long>(batch),
                  static_cast<long long>(in), static_cast<long long>(out), threads);
    const PairResult binding = pairs(raw_step, ff_step, pair_count);
    std::printf("binding %s  library calls %8.3f ms  FastfoodLinear step %8.3f ms (%6.1f page faults)  ratio %5.2fx "
                "(%.2f - %.2f)\n",
                shape, binding.a.seconds * 1e3, binding.b.seconds * 1e3, binding.b.faults, binding.ratio, binding.low,
                binding.high);
    std::fflush(stdout);
    const PairResult linear = pairs(ff_step, dense_step, pair_count);
    std::printf("linear  %s  FastfoodLinear step %8.3f ms  nn::Linear step %8.3f ms (%6.1f page faults)  speedup "
                "%6.1fx (%.1f - %.1f)\n",
                shape, linear.a.seconds * 1e3, linear.b.seconds * 1e3, linear.b.faults, linear.ratio, linear.low,
                linear.high);
    std::fflush(stdout);
}

/// fastfood_set_executor's executor on libtorch's intra-op threads (at::parallel_for): fastfood's
/// tasks run on the OpenMP threads libtorch's own operations use, instead of its pool. Each
/// thread of the region takes one worker slot and claims tasks until none is left. Declines
/// (the pool runs the call) with one intra-op thread or when this file is built without OpenMP
/// (ATen's OpenMP parallel_for is an inline template: serial without -fopenmp).
int torch_threads_executor(void *, void *job, fastfood_task_function run, size_t tasks, size_t workers) {
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
    (void)job, (void)run, (void)tasks, (void)workers;
    return 0;
#else
    const auto threads = static_cast<size_t>(at::get_num_threads());
    if (threads < 2 || at::in_parallel_region()) return 0;
    std::atomic<size_t> next{0};
    at::parallel_for(0, static_cast<int64_t>(std::min(workers, threads)), 1, [&](int64_t begin, int64_t end) {
        for (int64_t slot = begin; slot < end; slot++) {
            for (size_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < tasks;) run(job, t, static_cast<size_t>(slot));
        }
    });
    return 1;
#endif
}

void use_torch_threads(bool on) {
    fastfood::check(on ? fastfood_set_executor(torch_threads_executor, nullptr) : fastfood_set_executor(nullptr, nullptr));
}

/// A network of FastfoodLinear layers, as a user trains one: n -> n -> n -> n with ReLU between,
/// one step = forward + backward, with two threads set in three ways (libtorch's intra-op
/// threads, fastfood's, and whether fastfood runs on libtorch's: torch_threads_executor) against
/// everything on one thread. Each side's setting is made untimed before each of its batches,
/// with a warm-up step.
void bench_network(int64_t batch, int64_t n, int pair_count) {
    at::set_num_threads(2);
    fastfood_set_num_threads(2);
    torch::manual_seed(1);
    torch::nn::Sequential net(fastfood_torch::FastfoodLinear(n, n), torch::nn::ReLU(),
                              fastfood_torch::FastfoodLinear(n, n), torch::nn::ReLU(),
                              fastfood_torch::FastfoodLinear(n, n));
    auto x = torch::randn({batch, n}).requires_grad_(true);
    const auto dy = torch::randn({batch, n});
    auto step = [&] {
        clear_gradients(*net, x);
        net->forward(x).backward(dy);
    };
    auto threads = [&](int torch_count, int fastfood_count, bool torch_threads) {
        return [&, torch_count, fastfood_count, torch_threads] {
            at::set_num_threads(torch_count);
            fastfood::check(fastfood_set_num_threads(static_cast<size_t>(fastfood_count)));
            use_torch_threads(torch_threads);
            step();
        };
    };
    char shape[64];
    std::snprintf(shape, sizeof shape, "%3lld x %5lld, 3 x FastfoodLinear + 2 ReLU", static_cast<long long>(batch),
                  static_cast<long long>(n));
    // Every setting against all on one thread (libtorch and fastfood), as interleaved pairs.
    struct Setting { int torch, fastfood; bool torch_threads; const char *name; };
    const Setting settings[] = {{1, 2, false, "libtorch 1, fastfood pool 2"},
                                {2, 2, false, "libtorch 2, fastfood pool 2"},
                                {2, 2, true, "libtorch 2, fastfood on them"}};
    for (const auto &s : settings) {
        const PairResult r = pairs(step, step, pair_count, threads(1, 1, false), threads(s.torch, s.fastfood, s.torch_threads));
        std::printf("network %s  all 1 thread %8.3f ms  %-28s %8.3f ms  speedup %5.2fx (%.2f - %.2f)\n", shape,
                    r.a.seconds * 1e3, s.name, r.b.seconds * 1e3, 1 / r.ratio, 1 / r.high, 1 / r.low);
        std::fflush(stdout);
    }
    use_torch_threads(false);
}

} // namespace

int main(int argc, char **argv) {
    bool quick = false, keep = false;
    for (int i = 1; i < argc; i++) {
        if (!std::strcmp(argv[i], "--quick")) quick = true;
        else if (!std::strcmp(argv[i], "--keep-freed-memory")) keep = true;
        else {
            std::fprintf(stderr, "usage: %s [--quick] [--keep-freed-memory]\n", argv[0]);
            return 2;
        }
    }
    if (keep && !(mallopt(M_MMAP_THRESHOLD, 32 << 20) && mallopt(M_TRIM_THRESHOLD, 1 << 30))) {
        std::fprintf(stderr, "mallopt failed\n");
        return 1;
    }
    cpu_set_t affinity;
    const int usable = sched_getaffinity(0, sizeof affinity, &affinity) == 0 ? CPU_COUNT(&affinity) : 1;
    char cpu[256];
    cpu_description(cpu, sizeof cpu);
    auto env = [](const char *name) { return std::getenv(name) ? std::getenv(name) : "unset"; };
    std::printf("fastfood %s, kernels: %s; libtorch %s (%d intra-op threads at start); CPU: %s; %d usable CPUs; "
                "glibc malloc %s; OMP_WAIT_POLICY %s, OPENBLAS_NUM_THREADS %s\n",
                fastfood_version_string(), fastfood_cpu_variant(), TORCH_VERSION, at::get_num_threads(),
                cpu, usable, keep ? "keeping freed memory (--keep-freed-memory)" : "at its defaults",
                env("OMP_WAIT_POLICY"), env("OPENBLAS_NUM_THREADS"));
    std::fflush(stdout);
    struct Shape { int64_t batch, in, out; };
    const std::vector<Shape> shapes = quick ? std::vector<Shape>{{64, 800, 1024}}
                                            : std::vector<Shape>{{64, 800, 1024}, {128, 1024, 1024}, {128, 4096, 4096},
                                                                 {128, 8192, 8192}};
    for (const auto &s : shapes) {
        for (int threads = 1; threads <= std::min(usable, 2); threads++) {
            bench_shape(s.batch, s.in, s.out, threads, quick ? 3 : 11);
        }
    }
    if (usable >= 2) {
        const std::vector<int64_t> widths = quick ? std::vector<int64_t>{1024} : std::vector<int64_t>{1024, 4096};
        for (int64_t n : widths) bench_network(128, n, quick ? 3 : 11);
    }
    return 0;
}
