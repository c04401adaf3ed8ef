// test_fastfood_linear.cpp - tests of FastfoodLinear against an independent composition of
// torch operations (a dense Sylvester Hadamard matrix, index_select for the permutation),
// finite differences in float64, save / load, and a short training run.
// Prints "N passed, M failed"; exit status 1 on failure.
#include <fastfood_linear.h> // from the install prefix (fastfood::torch)

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
        // S H G PI H B x; normalised layers divide by D (each H / sqrt(D)).
        const double norm = m->options.normalized() ? 1.0 / static_cast<double>(d) : 1.0;
        blocks.push_back(torch::matmul(v, h) * range(m->S) * norm);
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

// The message of the E that f throws, or "" if it throws none.
template <class E, class F>
static std::string message_of(F &&f) {
    try {
        f();
    } catch (const E &e) {
        return e.what();
    }
    return std::string();
}

// Forward and every gradient against autograd through the reference composition.
static void check_against_reference(int64_t in, int64_t out, bool bias, torch::Dtype dtype, double tolerance,
                                     std::vector<int64_t> batch_shape, bool non_contiguous, bool normalized = true) {
    FastfoodLinear m(FastfoodLinearOptions(in, out).bias(bias).seed(17).normalized(normalized));
    EXPECT(m->layer().normalized() == normalized);
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
    // A checkpoint of another shape, even with the same seed and flags, is refused before any C
    // call (before 1.4.5 a 50 -> 130 checkpoint loaded into a 100 -> 300 module ran, reading
    // past its parameters: non-finite outputs); so are a missing bias and a short dropout_step.
    {
        torch::NoGradGuard guard;
        FastfoodLinear small(FastfoodLinearOptions(50, 130).seed(5));
        torch::save(small, path);
        auto refusal = [&](FastfoodLinear &module, const torch::Tensor &input) {
            return message_of<c10::Error>([&] { module(input); });
        };
        FastfoodLinear large(FastfoodLinearOptions(100, 300).seed(5));
        torch::load(large, path);
        EXPECT(refusal(large, torch::randn({2, 100})).find(
                   "FastfoodLinear(100, 300): S has 192 values where the layer needs 384") != std::string::npos);
        FastfoodLinear same(FastfoodLinearOptions(50, 130).seed(5));
        same->bias.set_(torch::zeros({129}));
        EXPECT(refusal(same, x).find("bias has 129 values where the layer needs 130") != std::string::npos);
        same->bias.set_(torch::zeros({130}));
        same->dropout_state.set_(torch::zeros({1}, torch::kInt64));
        EXPECT(refusal(same, x).find("dropout_step has 1 values where the layer needs 2") != std::string::npos);
        same->dropout_state.set_(torch::zeros({2}, torch::kInt64));
        EXPECT(torch::equal(same(x), small(x)));
    }
    std::filesystem::remove(path);
}

// The autograd graph keeps the C layer that ran the forward: a backward after the module is gone,
// or after loading a checkpoint of another seed rebuilt the module's layer, is still that layer's
// backward (before 1.4.5 the graph held the layer's address only, and used freed memory).
static void check_graph_keeps_layer() {
    torch::manual_seed(11);
    const FastfoodLinearOptions options = FastfoodLinearOptions(100, 300).seed(5).dropout(0.1, 0.1, 0.2).dropout_seed(3);
    auto x = torch::randn({6, 100}, torch::kDouble).requires_grad_(true);
    auto dy = torch::randn({6, 300}, torch::kDouble);
    FastfoodLinear intact(options);
    intact->to(torch::kDouble);
    intact(x).backward(dy);
    const auto dx = x.grad().clone();
    const auto ds = intact->S.grad().clone();
    // Layers of other shapes made after each release, so the freed memory is handed out again.
    std::vector<FastfoodLinear> others;
    auto reuse_memory = [&] {
        for (int64_t i = 0; i < 8; i++) {
            others.push_back(FastfoodLinear(FastfoodLinearOptions(7 + i, 9).seed(i)));
            torch::NoGradGuard guard;
            others.back()(torch::randn({2, 7 + i}));
        }
    };

    x.grad().zero_();
    torch::Tensor y, s;
    {
        FastfoodLinear gone(options);
        gone->to(torch::kDouble);
        s = gone->S;
        y = gone(x);
    }
    reuse_memory();
    y.backward(dy);
    EXPECT(torch::equal(x.grad(), dx));
    EXPECT(s.grad().defined() && torch::equal(s.grad(), ds));

    // The same module's layer rebuilt by torch::load between the forward and the backward.
    const auto path = (std::filesystem::temp_directory_path() / "fastfood_linear_graph.pt").string();
    FastfoodLinear other_seed(FastfoodLinearOptions(options).seed(6));
    other_seed->to(torch::kDouble);
    torch::save(other_seed, path);
    x.grad().zero_();
    FastfoodLinear reloaded(options);
    reloaded->to(torch::kDouble);
    y = reloaded(x);
    torch::load(reloaded, path);
    {
        torch::NoGradGuard guard;
        reloaded(x); // rebuilds the C layer from the loaded seed
    }
    reuse_memory();
    y.backward(dy);
    EXPECT(torch::equal(x.grad(), dx));
    std::filesystem::remove(path);
}

// Second derivatives. create_graph alone changes no gradient; a later backward through the layer's
// gradients (dx, dS) fails with a message, since the library's backward cannot be differentiated
// (before 1.4.5 they counted as constants: that part of the second derivative went missing without
// a word); and one that needs only the layer's first derivatives (a penalty on another layer's
// gradient) matches autograd through the reference composition.
static void check_second_derivatives() {
    torch::manual_seed(13);
    FastfoodLinear m(FastfoodLinearOptions(20, 40).seed(3));
    m->to(torch::kDouble);
    auto x = torch::randn({5, 20}, torch::kDouble).requires_grad_(true);
    const auto plain = torch::autograd::grad({m(x).pow(2).sum()}, {x, m->S});
    const auto graph = torch::autograd::grad({m(x).pow(2).sum()}, {x, m->S}, {}, true, true);
    EXPECT(torch::equal(plain[0], graph[0]) && torch::equal(plain[1], graph[1]));
    EXPECT(!plain[0].requires_grad() && !plain[1].requires_grad()); // no node without create_graph
    EXPECT(graph[0].requires_grad() && graph[1].requires_grad());
    torch::nn::Linear before(20, 20);
    before->to(torch::kDouble);
    for (int which = 0; which < 3; which++) {
        // torch's Error node throws std::runtime_error.
        const std::string message = message_of<std::runtime_error>([&] {
            if (which == 0) graph[0].pow(2).sum().backward(); // through dx, to everything
            if (which == 1) torch::autograd::grad({graph[1].pow(2).sum()}, {m->G}); // through dS, to G only
            if (which == 2) { // a layer before it: its weight's term through dx went missing silently
                auto g = torch::autograd::grad({m(torch::tanh(before(x))).pow(2).sum()}, {x}, {}, true, true)[0];
                torch::autograd::grad({g.pow(2).sum()}, {before->weight});
            }
        });
        EXPECT(message.find("FastfoodLinear: its gradients cannot be differentiated again") != std::string::npos &&
               message.find("detach() them to use them as constants") != std::string::npos);
    }

    // As the message says: detached, they are constants that a later backward may use.
    auto leaf = x.detach().clone().requires_grad_(true);
    (leaf * graph[0].detach()).sum().backward();
    EXPECT(torch::equal(leaf.grad(), graph[0].detach()));

    torch::nn::Linear other(20, 40);
    other->to(torch::kDouble);
    auto penalty_gradients = [&](bool through_reference) {
        auto xx = x.detach().clone().requires_grad_(true);
        auto y = through_reference ? reference(m, xx) : m(xx);
        auto loss = (torch::tanh(other(xx)) * y).sum();
        auto dw = torch::autograd::grad({loss}, {other->weight}, {}, true, true)[0];
        return torch::autograd::grad({dw.pow(2).sum()}, {xx, m->S, m->G});
    };
    const auto ours = penalty_gradients(false), theirs = penalty_gradients(true);
    for (std::size_t i = 0; i < 3; i++) EXPECT(relative_error(ours[i], theirs[i]) < 1e-12);
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


// Dropout inside the transform: train() applies the documented masks of (seed, step) exactly as
// the C calls do, the step advances, eval() is the plain forward, gradients match the C backward.
static void check_dropout() {
    const int64_t in = 40, out = 100, batch = 6;
    FastfoodLinear m(FastfoodLinearOptions(in, out).seed(4).dropout(0.1, 0.2, 0.3).dropout_seed(77));
    m->to(torch::kDouble);
    auto x = torch::randn({batch, in}, torch::kDouble).requires_grad_(true);
    auto w = torch::randn({batch, out}, torch::kDouble);
    EXPECT(m->dropout_state[0].item<int64_t>() == 77 && m->dropout_state[1].item<int64_t>() == 0);
    m->train();
    auto y0 = m(x);
    EXPECT(m->dropout_state[1].item<int64_t>() == 1);
    auto y1 = m(x);
    EXPECT(m->dropout_state[1].item<int64_t>() == 2);
    EXPECT(!torch::equal(y0, y1)); // a new step, new masks
    (y1 * w).sum().backward();

    // The same through the C API, step 1.
    const auto &layer = m->layer();
    auto params = torch::cat({m->S, m->G, m->B, m->bias}).detach().contiguous();
    auto yc = torch::empty({batch, out}, torch::kDouble);
    auto xd = x.detach().contiguous();
    EXPECT(fastfood_forward_train_f64(layer.get(), params.data_ptr<double>(), batch, xd.data_ptr<double>(), in,
                                      yc.data_ptr<double>(), out, 0.1, 0.2, 0.3, 77, 1) == FASTFOOD_OK);
    EXPECT(torch::equal(yc, y1.detach()));
    auto dparams = torch::empty_like(params), dx = torch::empty({batch, in}, torch::kDouble);
    EXPECT(fastfood_backward_train_f64(layer.get(), params.data_ptr<double>(), batch, xd.data_ptr<double>(), in,
                                       w.data_ptr<double>(), out, dx.data_ptr<double>(), in,
                                       dparams.data_ptr<double>(), 0, 0.1, 0.2, 0.3, 77, 1) == FASTFOOD_OK);
    EXPECT(torch::equal(dx, x.grad()));
    EXPECT(torch::equal(dparams, torch::cat({m->S.grad(), m->G.grad(), m->B.grad(), m->bias.grad()})));

    // The step is the C calls' uint64 and wraps as one: from the int64 maximum to its minimum
    // (steps 2^63 - 1 and then 2^63 of the C calls).
    {
        torch::NoGradGuard guard;
        FastfoodLinear last(FastfoodLinearOptions(in, out).seed(4).dropout(0.1, 0.2, 0.3).dropout_seed(77));
        last->to(torch::kDouble);
        last->train();
        last->dropout_state[1] = std::numeric_limits<int64_t>::max();
        auto lp = torch::cat({last->S, last->G, last->B, last->bias}).contiguous();
        for (const uint64_t step : {(uint64_t{1} << 63) - 1, uint64_t{1} << 63}) {
            auto y = last(xd);
            EXPECT(fastfood_forward_train_f64(last->layer().get(), lp.data_ptr<double>(), batch, xd.data_ptr<double>(),
                                              in, yc.data_ptr<double>(), out, 0.1, 0.2, 0.3, 77, step) == FASTFOOD_OK);
            EXPECT(torch::equal(yc, y));
            EXPECT(static_cast<uint64_t>(last->dropout_state[1].item<int64_t>()) == step + 1);
        }
    }

    // eval(): the plain forward, the step does not move.
    m->eval();
    auto ye = m(x);
    EXPECT(torch::allclose(ye, reference(m, x), 1e-12, 1e-12));
    EXPECT(m->dropout_state[1].item<int64_t>() == 2);

    // Reproducible: same seeds, same masks; the step is saved with the module.
    FastfoodLinear twin(FastfoodLinearOptions(in, out).seed(4).dropout(0.1, 0.2, 0.3).dropout_seed(77));
    twin->to(torch::kDouble);
    twin->train();
    EXPECT(torch::equal(twin(x), y0));
    const auto path = (std::filesystem::temp_directory_path() / "fastfood_linear_dropout.pt").string();
    torch::save(m, path);
    torch::load(twin, path);
    m->train();
    twin->train();
    EXPECT(torch::equal(twin(x), m(x))); // both at step 2
    std::filesystem::remove(path);

    // Bad rates are refused when the module is built.
    bool refused = false;
    try {
        FastfoodLinear bad(FastfoodLinearOptions(in, out).dropout(0, 1.0, 0));
    } catch (const c10::Error &) {
        refused = true;
    }
    EXPECT(refused);

    // A checkpoint of the other parameterisation is refused with a clear message.
    FastfoodLinear plain(FastfoodLinearOptions(in, out).seed(4).normalized(false));
    plain->to(torch::kDouble);
    torch::save(m, path);
    torch::load(plain, path);
    refused = false;
    try {
        plain(x);
    } catch (const std::runtime_error &e) {
        refused = std::string(e.what()).find("flags") != std::string::npos;
    }
    EXPECT(refused);
    std::filesystem::remove(path);
}

// requires_grad(false) on S, G, B: no gradient for them, the others' gradients unchanged.
static void check_frozen() {
    FastfoodLinear a(FastfoodLinearOptions(30, 70).seed(8)), b(FastfoodLinearOptions(30, 70).seed(8));
    auto x = torch::randn({5, 30}).requires_grad_(true);
    auto xb = x.detach().clone().requires_grad_(true);
    auto w = torch::randn({5, 70});
    (a(x) * w).sum().backward();
    b->S.requires_grad_(false);
    b->B.requires_grad_(false);
    (b(xb) * w).sum().backward();
    EXPECT(!b->S.grad().defined() && !b->B.grad().defined());
    EXPECT(torch::equal(a->G.grad(), b->G.grad()) && torch::equal(a->bias.grad(), b->bias.grad()));
    EXPECT(torch::equal(x.grad(), xb.grad()));
    // Non-adaptive Fastfood: all three frozen, only the bias and the input get gradients.
    FastfoodLinear c(FastfoodLinearOptions(30, 70).seed(8));
    for (auto *p : {&c->S, &c->G, &c->B}) p->requires_grad_(false);
    auto xc = x.detach().clone().requires_grad_(true);
    (c(xc) * w).sum().backward();
    EXPECT(!c->S.grad().defined() && !c->G.grad().defined() && !c->B.grad().defined());
    EXPECT(torch::equal(a->bias.grad(), c->bias.grad()) && torch::equal(x.grad(), xc.grad()));
}

// The drop-in promise: at its defaults the layer trains with the optimisers a dense layer uses,
// one learning rate for every parameter: Caffe's LeNet solver (SGD 0.01, momentum 0.9, weight
// decay 5e-4) and Adam at its defaults. 1.0's unnormalised form diverges with the first.
static double train_with(bool normalized, bool adam) {
    torch::manual_seed(11);
    struct Net : torch::nn::Module {
        FastfoodLinear hidden{nullptr};
        torch::nn::Linear output{nullptr};
        explicit Net(bool normalized) {
            hidden = register_module("hidden", FastfoodLinear(FastfoodLinearOptions(200, 1024).normalized(normalized)));
            output = register_module("output", torch::nn::Linear(1024, 10));
        }
        torch::Tensor forward(const torch::Tensor &x) { return output(torch::relu(hidden(x))); }
    };
    auto net = std::make_shared<Net>(normalized);
    auto centers = torch::randn({10, 200});
    auto labels = torch::randint(0, 10, {256}, torch::kInt64);
    auto x = centers.index_select(0, labels) + 2 * torch::randn({256, 200});
    std::unique_ptr<torch::optim::Optimizer> optimiser;
    if (adam) optimiser = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(1e-3));
    else optimiser = std::make_unique<torch::optim::SGD>(net->parameters(),
                                                          torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
    double first = 0, last = 0;
    for (int step = 0; step < 60; step++) {
        auto batch = torch::arange(step % 4 * 64, step % 4 * 64 + 64);
        optimiser->zero_grad();
        auto loss = torch::nn::functional::cross_entropy(net->forward(x.index_select(0, batch)), labels.index_select(0, batch));
        loss.backward();
        optimiser->step();
        if (step == 0) first = loss.item<double>();
        last = loss.item<double>();
        if (!std::isfinite(last)) break;
    }
    std::printf("  %s, %s: loss %.4f -> %.4g\n", normalized ? "normalised" : "unnormalised (1.0)",
                adam ? "Adam 1e-3" : "SGD 0.01 momentum 0.9 wd 5e-4", first, last);
    return last / first;
}

// Rows that repeat or overlap (row stride below in_features, unit column stride: expand,
// unfold): the library needs ldx >= in_features for more than one row, so the module copies them.
static void check_overlapping_rows() {
    FastfoodLinear m(FastfoodLinearOptions(10, 20).seed(5));
    const auto repeated = torch::randn({1, 10}).expand({4, 10});  // row stride 0
    const auto windows = torch::randn({13}).unfold(0, 10, 1);     // 4 windows, row stride 1
    for (const auto &x : {repeated, windows}) {
        EXPECT(x.stride(1) == 1 && x.stride(0) < 10);
        torch::Tensor y;
        try {
            y = m(x);
        } catch (const std::exception &e) {
            std::printf("  rows %lld apart: %s\n", (long long)x.stride(0), e.what());
        }
        EXPECT(y.defined() && torch::equal(y, m(x.contiguous())));
    }
}

// The default bandwidth is the documented sqrt(in_features): the same parameters as asking for it.
static void check_default_sigma() {
    FastfoodLinear by_default(FastfoodLinearOptions(50, 70).seed(9));
    FastfoodLinear explicit_sigma(FastfoodLinearOptions(50, 70).seed(9).sigma(std::sqrt(50.0)));
    FastfoodLinear unit_sigma(FastfoodLinearOptions(50, 70).seed(9).sigma(1.0));
    EXPECT(torch::equal(by_default->S, explicit_sigma->S) && torch::equal(by_default->G, explicit_sigma->G) &&
           torch::equal(by_default->B, explicit_sigma->B));
    EXPECT(!torch::equal(by_default->S, unit_sigma->S));
    // A NaN or infinite sigma is refused by the library's initialisation, not taken as the default.
    for (const double sigma : {std::nan(""), HUGE_VAL}) {
        const std::string message =
            message_of<fastfood::Error>([&] { FastfoodLinear bad(FastfoodLinearOptions(50, 70).seed(9).sigma(sigma)); });
        EXPECT(message.find("sigma") != std::string::npos);
        if (message.find("sigma") == std::string::npos) std::printf("  sigma %g: '%s'\n", sigma, message.c_str());
    }
}

static void check_one_learning_rate() {
    const double sgd = train_with(true, false), adam = train_with(true, true);
    EXPECT(std::isfinite(sgd) && sgd < 0.3);
    EXPECT(std::isfinite(adam) && adam < 0.3);
    const double old = train_with(false, false);
    EXPECT(!(old < 0.3)); // why the default changed: NaN or no progress
}

// Inference serving: in eval() mode one module runs forward on several threads at once (the
// header's "Threads"), each result bitwise the one-thread result, with and without autograd.
static void check_concurrent_inference() {
    torch::manual_seed(11);
    FastfoodLinear m(FastfoodLinearOptions(256, 600).dropout(0.1, 0.1, 0.2));
    m->eval();
    const auto x = torch::randn({33, 256});
    torch::Tensor expected;
    {
        torch::NoGradGuard no_grad;
        expected = m(x);
    }
    const int thread_count = 4, calls = 25;
    std::vector<int> equal(thread_count, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; t++) {
        threads.emplace_back([&, t] {
            for (int c = 0; c < calls; c++) {
                torch::Tensor y;
                if (t % 2 == 0) {
                    torch::NoGradGuard no_grad; // grad mode is per thread
                    y = m(x);
                } else {
                    y = m(x); // builds a graph each time (eval mode: no dropout step to advance)
                }
                equal[t] += torch::equal(y.detach(), expected);
            }
        });
    }
    for (auto &thread : threads) thread.join();
    for (int t = 0; t < thread_count; t++) EXPECT(equal[t] == calls);
    EXPECT(m->dropout_state[1].item<int64_t>() == 0); // eval forwards leave the step alone
}

int main() {
    torch::manual_seed(0);
    check_against_reference(5, 7, true, torch::kDouble, 1e-12, {3}, false);
    check_against_reference(100, 300, true, torch::kDouble, 1e-12, {2, 3}, false);  // several blocks, (..., in)
    check_against_reference(64, 200, false, torch::kDouble, 1e-12, {17}, true);    // no bias, strided input
    check_against_reference(100, 300, true, torch::kFloat, 1e-5, {20}, false);
    check_against_reference(37, 70, true, torch::kFloat, 1e-5, {2, 2, 5}, true);
    check_against_reference(100, 300, true, torch::kDouble, 1e-12, {5}, false, /*normalized*/ false); // 1.0 form
    check_against_reference(37, 70, true, torch::kFloat, 1e-5, {9}, true, /*normalized*/ false);
    check_finite_differences();
    check_save_load();
    check_graph_keeps_layer();
    check_second_derivatives();

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
    // Sizes below 1, negative ones by name (cast to size_t they read as 2^64 - 1).
    for (const auto &sizes : {std::pair<int64_t, int64_t>{5, -1}, {0, 5}, {-3, 4}}) {
        const std::string message = message_of<c10::Error>([&] { FastfoodLinear bad(sizes.first, sizes.second); });
        EXPECT(message.find("FastfoodLinear: in_features and out_features must be at least 1, got " +
                            std::to_string(sizes.first) + " and " + std::to_string(sizes.second)) != std::string::npos);
    }
    // A negative seed other than -1 (which draws one) is refused, not drawn from.
    for (const auto &seeds : {std::pair<int64_t, int64_t>{-5, 3}, {3, -2}}) {
        const std::string message = message_of<c10::Error>(
            [&] { FastfoodLinear bad(FastfoodLinearOptions(10, 20).seed(seeds.first).dropout_seed(seeds.second)); });
        EXPECT(message.find("FastfoodLinear: seeds must be at least 0, or -1 to draw one from torch's generator; got seed " +
                            std::to_string(seeds.first) + " and dropout_seed " + std::to_string(seeds.second)) !=
               std::string::npos);
    }
    // Buffers: seed, layer_flags, permutation, dropout_step (1.0 had the first and the third).
    EXPECT(m->parameters().size() == 4 && m->buffers().size() == 4);

    check_training();
    check_dropout();
    check_frozen();
    check_one_learning_rate();
    check_overlapping_rows();
    check_default_sigma();
    check_concurrent_inference();
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
