// test_fastfood_linear.cpp - tests of FastfoodLinear against an independent composition of
// torch operations (a dense Sylvester Hadamard matrix, index_select for the permutation),
// finite differences in float64, save / load, and a short training run.
// Prints "N passed, M failed"; exit status 1 on failure.
#include "fastfood_linear.h"

#include <cstdio>
#include <filesystem>
#include <string>

using fastfood_torch::FastfoodLinear;
using fastfood_torch::FastfoodLinearOptions;

static int passed = 0, failed = 0;
#define EXPECT(cond)                                                                   \
    do {                                                                               \
        if (cond) passed++;                                                            \
        else {                                                                         \
            failed++;                                                                  \
            std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                \
        }                                                                              \
    } while (0)

static torch::Tensor hadamard(int64_t n, torch::Dtype dtype) {
    auto h = torch::ones({1, 1}, dtype);
    while (h.size(0) < n) h = torch::cat({torch::cat({h, h}, 1), torch::cat({h, -h}, 1)}, 0);
    return h;
}

// y = layer(x) written with torch operations only, from the module's parameters and buffers.
static torch::Tensor reference(FastfoodLinear &m, const torch::Tensor &x) {
    const auto &layer = m->layer();
    const int64_t in = m->options.in_features(), out = m->options.out_features();
    const int64_t d = static_cast<int64_t>(layer.block_size()), k = static_cast<int64_t>(layer.num_blocks());
    auto h = hadamard(d, x.scalar_type());
    auto x2 = x.reshape({-1, in});
    auto padded = torch::nn::functional::pad(x2, torch::nn::functional::PadFuncOptions({0, d - in}));
    std::vector<torch::Tensor> blocks;
    for (int64_t b = 0; b < k; b++) {
        auto range = [&](const torch::Tensor &p) { return p.slice(0, b * d, (b + 1) * d); };
        auto u = torch::matmul(padded * range(m->B), h);                       // H B x
        auto v = torch::index_select(u, 1, range(m->permutation)) * range(m->G); // G PI H B x
        blocks.push_back(torch::matmul(v, h) * range(m->S));                   // S H G PI H B x
    }
    auto y = torch::cat(blocks, 1).slice(1, 0, out);
    if (m->options.bias()) y = y + m->bias;
    auto shape = x.sizes().vec();
    shape.back() = out;
    return y.reshape(shape);
}

static double relative_error(const torch::Tensor &a, const torch::Tensor &b) {
    const double scale = b.abs().max().item<double>();
    return (a - b).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

// Forward and every gradient against autograd through the reference composition.
static void check_against_reference(int64_t in, int64_t out, bool bias, torch::Dtype dtype, double tolerance,
                                     std::vector<int64_t> batch_shape, bool non_contiguous) {
    FastfoodLinear m(FastfoodLinearOptions(in, out).bias(bias).seed(17));
    m->to(dtype);
    // Perturb the parameters so no gradient is trivially structured.
    {
        torch::NoGradGuard guard;
        for (auto &p : m->parameters()) p.add_(0.05 * torch::randn_like(p));
    }
    auto shape = batch_shape;
    shape.push_back(non_contiguous ? 2 * in : in);
    auto base = torch::randn(shape, dtype);
    auto x = non_contiguous ? base.slice(-1, 0, 2 * in, 2) : base; // every other column: strided
    x = x.detach().requires_grad_(true);
    auto x_ref = x.detach().clone().requires_grad_(true);

    auto y = m(x);
    auto weights = torch::randn(y.sizes(), dtype);
    (y * weights).sum().backward();
    std::vector<torch::Tensor> grads{x.grad(), m->S.grad(), m->G.grad(), m->B.grad()};
    if (bias) grads.push_back(m->bias.grad());
    for (auto &p : m->parameters()) p.mutable_grad() = torch::Tensor();

    auto y_ref = reference(m, x_ref);
    (y_ref * weights).sum().backward();
    std::vector<torch::Tensor> grads_ref{x_ref.grad(), m->S.grad(), m->G.grad(), m->B.grad()};
    if (bias) grads_ref.push_back(m->bias.grad());

    bool ok = relative_error(y, y_ref) < tolerance;
    for (std::size_t i = 0; i < grads.size(); i++) ok &= relative_error(grads[i], grads_ref[i]) < tolerance;
    if (!ok) {
        std::printf("  %lld -> %lld %s: forward %.2e", (long long)in, (long long)out,
                    dtype == torch::kFloat ? "f32" : "f64", relative_error(y, y_ref));
        for (std::size_t i = 0; i < grads.size(); i++) std::printf(", grad %zu %.2e", i, relative_error(grads[i], grads_ref[i]));
        std::printf("\n");
    }
    EXPECT(ok);
    EXPECT(y.sizes() == y_ref.sizes());
}

// Central finite differences in float64 of L = sum(w * y) for every input and parameter.
static void check_finite_differences() {
    FastfoodLinear m(FastfoodLinearOptions(6, 10).seed(3));
    m->to(torch::kDouble);
    auto x = torch::randn({3, 6}, torch::kDouble).requires_grad_(true);
    auto w = torch::randn({3, 10}, torch::kDouble);
    (m(x) * w).sum().backward();
    std::vector<torch::Tensor> targets{x, m->S, m->G, m->B, m->bias};
    const double h = 1e-4;
    double worst = 0;
    torch::NoGradGuard guard;
    for (auto &t : targets) {
        auto analytic = t.grad().clone();
        auto flat = t.view({-1});
        for (int64_t i = 0; i < flat.numel(); i++) {
            const double saved = flat[i].item<double>();
            flat[i] = saved + h;
            const double plus = (m(x) * w).sum().item<double>();
            flat[i] = saved - h;
            const double minus = (m(x) * w).sum().item<double>();
            flat[i] = saved;
            const double numeric = (plus - minus) / (2 * h);
            const double a = analytic.view({-1})[i].item<double>();
            worst = std::max(worst, std::abs(a - numeric) / std::max(1.0, std::abs(numeric)));
        }
    }
    if (worst >= 1e-7) std::printf("  finite differences: worst %.2e\n", worst);
    EXPECT(worst < 1e-7);
}

static void check_save_load() {
    torch::manual_seed(1);
    FastfoodLinear a(FastfoodLinearOptions(50, 130).seed(123));
    FastfoodLinear b(FastfoodLinearOptions(50, 130).seed(999)); // different permutations
    auto x = torch::randn({4, 50});
    const auto path = (std::filesystem::temp_directory_path() / "fastfood_linear_test.pt").string();
    torch::save(a, path);
    torch::load(b, path);
    EXPECT(torch::equal(a->permutation, b->permutation));
    EXPECT(torch::equal(a(x), b(x))); // the C layer was rebuilt from the loaded seed
    // A checkpoint whose permutation does not match its seed is refused.
    {
        torch::NoGradGuard guard;
        FastfoodLinear c(FastfoodLinearOptions(50, 130).seed(5));
        torch::save(c, path);
        FastfoodLinear d(FastfoodLinearOptions(50, 130).seed(6));
        torch::load(d, path);
        d->permutation[0] = d->permutation[1].item<int64_t>(); // corrupt it
        bool refused = false;
        try {
            d(x);
        } catch (const std::runtime_error &e) {
            refused = std::string(e.what()).find("permutation") != std::string::npos;
        }
        EXPECT(refused);
    }
    std::filesystem::remove(path);
}

// A small network learns a generated 4-class problem.
static void check_training() {
    torch::manual_seed(7);
    struct Net : torch::nn::Module {
        FastfoodLinear hidden{nullptr};
        torch::nn::Linear output{nullptr};
        Net() {
            hidden = register_module("hidden", FastfoodLinear(16, 64));
            output = register_module("output", torch::nn::Linear(64, 4));
        }
        torch::Tensor forward(const torch::Tensor &x) { return output(torch::relu(hidden(x))); }
    };
    auto net = std::make_shared<Net>();
    auto centers = torch::randn({4, 16}) * 2;
    auto labels = torch::randint(0, 4, {512}, torch::kInt64);
    auto x = centers.index_select(0, labels) + torch::randn({512, 16});
    torch::optim::Adam optimiser(net->parameters(), torch::optim::AdamOptions(1e-2));
    double first = 0, last = 0;
    for (int step = 0; step < 200; step++) {
        optimiser.zero_grad();
        auto loss = torch::nn::functional::cross_entropy(net->forward(x), labels);
        loss.backward();
        optimiser.step();
        if (step == 0) first = loss.item<double>();
        last = loss.item<double>();
    }
    std::printf("  training: loss %.4f -> %.4f\n", first, last);
    EXPECT(last < 0.5 * first);
}

int main() {
    torch::manual_seed(0);
    check_against_reference(5, 7, true, torch::kDouble, 1e-12, {3}, false);
    check_against_reference(100, 300, true, torch::kDouble, 1e-12, {2, 3}, false);  // several blocks, (..., in)
    check_against_reference(64, 200, false, torch::kDouble, 1e-12, {17}, true);    // no bias, strided input
    check_against_reference(100, 300, true, torch::kFloat, 1e-5, {20}, false);
    check_against_reference(37, 70, true, torch::kFloat, 1e-5, {2, 2, 5}, true);
    check_finite_differences();
    check_save_load();

    // Drop-in shape behaviour and errors.
    FastfoodLinear m(10, 20);
    EXPECT(m(torch::randn({10})).sizes() == torch::IntArrayRef({20}));
    EXPECT(m(torch::randn({2, 3, 10})).sizes() == torch::IntArrayRef({2, 3, 20}));
    bool rejected = false;
    try {
        m(torch::randn({4, 11}));
    } catch (const c10::Error &) {
        rejected = true;
    }
    EXPECT(rejected);
    rejected = false;
    try {
        m(torch::randn({4, 10}, torch::kDouble)); // parameters are float32
    } catch (const c10::Error &) {
        rejected = true;
    }
    EXPECT(rejected);
    EXPECT(m->parameters().size() == 4 && m->buffers().size() == 2);

    check_training();
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
