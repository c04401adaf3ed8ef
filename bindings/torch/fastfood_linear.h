// fastfood_linear.h - FastfoodLinear: a libtorch module that replaces torch::nn::Linear.
//
//   FastfoodLinear layer(1024, 4096);                       // like torch::nn::Linear(1024, 4096)
//   FastfoodLinear layer(FastfoodLinearOptions(1024, 4096).bias(false).seed(7));
//   FastfoodLinear layer(FastfoodLinearOptions(800, 1024).dropout(0.1, 0.1, 0.2));  // the paper's
//   auto y = layer(x);                                       // x: (..., 1024), float32 or float64
//
// Installed by `make install` next to fastfood.h; with CMake:
//   find_package(fastfood 1.1 REQUIRED COMPONENTS torch)
//   target_link_libraries(app PRIVATE fastfood::torch)      // fastfood::fastfood + torch, C++17
//
// Parameters S, G, B (each num_blocks * block_size) and bias (out) are registered as module
// parameters; the seed, the layer flags, the permutation and the dropout step are registered as
// buffers, so they travel with torch::save / torch::load and .to() (which changes the
// parameters' dtype and keeps the integer buffers exact). Forward and backward run in
// libfastfood through a custom autograd Function (CPU tensors; any leading batch shape;
// non-contiguous input is handled). After torch::load the C layer is rebuilt from the loaded
// seed and flags, and the loaded permutation must equal the one the seed generates (else
// std::runtime_error). Each forward's autograd node holds the C layer it ran on, as it holds the
// parameters, so its backward is right even after the module was destroyed or reloaded.
// Gradients are first derivatives only: under create_graph, a later backward that would
// differentiate this layer's gradients again fails with a message (second derivatives that only
// need this layer's first, such as a penalty on another layer's gradient, work).
//
// Training like a dense layer: by default the layer is FASTFOOD_LAYER_NORMALIZED (orthonormal
// transforms, see fastfood.h), so S, G, B and their gradients are O(1) and one optimizer with one
// learning rate (SGD with momentum and weight decay, Adam, ...) trains all of them, exactly where
// torch::nn::Linear's weight was. normalized(false) gives the 1.0 parameterisation (S ~ 1/D,
// which needs S's learning rate scaled down by about mean(S0^2)).
//
// Dropout inside the transform (paper section 6.1: on the input, after PI, after S): active in
// train() mode when a rate is > 0; eval() runs the plain forward. The masks are a function of
// (dropout seed, step, row): the module keeps the step in the buffer "dropout_step" and advances
// it after every training forward, so a run is reproducible from torch::manual_seed (or
// explicit seeds) and resumes exactly from a checkpoint. Data-parallel ranks should use
// different dropout_seed values.
//
// Frozen parameters: S, G or B with requires_grad(false) get no gradient computed at all (the
// library's FASTFOOD_SKIP_GRAD_* flags); with all three frozen this is the non-adaptive Fastfood.
//
// Threads: in eval() mode forward only reads the module, so one FastfoodLinear may serve
// inference on several threads at once (each result bitwise the one-thread result; tested). A
// training forward with dropout advances dropout_step, and torch::load or .to() replace its
// tensors: as with any torch module's state, none of those may run while another thread uses
// the module. The work of each call runs on fastfood's pool (fastfood_set_num_threads).
//
// Initialisation: the Le et al. Fastfood initialisation with sigma = sqrt(in_features) (rows of
// the layer's matrix have norm about 1, so outputs start at the scale of the inputs), bias 0.
// The default seed is drawn from torch's generator, so torch::manual_seed makes it repeatable.
#ifndef FASTFOOD_TORCH_FASTFOOD_LINEAR_H
#define FASTFOOD_TORCH_FASTFOOD_LINEAR_H

#include <fastfood.hpp>
#include <torch/csrc/autograd/functions/basic_ops.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace fastfood_torch {

struct FastfoodLinearOptions {
    FastfoodLinearOptions(int64_t in_features, int64_t out_features)
        : in_features_(in_features), out_features_(out_features) {}
    TORCH_ARG(int64_t, in_features);
    TORCH_ARG(int64_t, out_features);
    /// Add a bias vector (as torch::nn::Linear does by default).
    TORCH_ARG(bool, bias) = true;
    /// Orthonormal transforms (FASTFOOD_LAYER_NORMALIZED): one learning rate trains S, G, B.
    TORCH_ARG(bool, normalized) = true;
    /// Seed of the permutations and of the initial S, G, B; -1 draws one from torch's generator
    /// (other negative values are refused).
    TORCH_ARG(int64_t, seed) = -1;
    /// Bandwidth of the Fastfood initialisation; <= 0 means sqrt(in_features) (NaN is refused).
    TORCH_ARG(double, sigma) = 0.0;
    /// Dropout rates inside the transform, each in [0, 1): on the input, after PI, after S.
    TORCH_ARG(double, dropout_input) = 0.0;
    TORCH_ARG(double, dropout_permuted) = 0.0;
    TORCH_ARG(double, dropout_output) = 0.0;
    /// Seed of the dropout masks; -1 draws one from torch's generator (other negative values are
    /// refused).
    TORCH_ARG(int64_t, dropout_seed) = -1;


 public: // (TORCH_ARG leaves the section private)
    /// All three dropout rates at once.
    FastfoodLinearOptions &dropout(double input, double permuted, double output) {
        dropout_input_ = input;
        dropout_permuted_ = permuted;
        dropout_output_ = output;
        return *this;
    }
};

namespace detail {

inline torch::Tensor pack(const torch::Tensor &s, const torch::Tensor &g, const torch::Tensor &b,
                          const torch::Tensor &bias) {
    std::vector<torch::Tensor> parts{s.reshape({-1}), g.reshape({-1}), b.reshape({-1})};
    if (bias.numel() > 0) parts.push_back(bias.reshape({-1}));
    return torch::cat(parts).contiguous();
}

template <class T>
T *data(const torch::Tensor &t) {
    return t.defined() ? t.data_ptr<T>() : nullptr;
}

/// The dropout of one training forward: rates, seed and step (all rates 0: no dropout).
struct DropoutState {
    double input = 0, permuted = 0, output = 0;
    int64_t seed = 0, step = 0;
    bool active() const { return input > 0 || permuted > 0 || output > 0; }
};

/// What one forward's autograd node keeps besides tensors: the C layer, owned until the backward
/// has run (the module may be destroyed, or rebuild its layer from a loaded checkpoint, before
/// it), and the gradient edges of the forward's inputs (x, S, G, B, bias), for refuse_twice.
struct ForwardState : torch::CustomClassHolder {
    ForwardState(std::shared_ptr<const fastfood::Layer> kept, torch::autograd::edge_list edges)
        : layer(std::move(kept)), inputs(std::move(edges)) {}
    std::shared_ptr<const fastfood::Layer> layer;
    torch::autograd::edge_list inputs;
};

/// Under create_graph the gradients a backward returns may be differentiated again, which the
/// library cannot do: its backward is one C call, not a composition of differentiable torch
/// operations, and left alone its results would count as constants (second derivatives through
/// this layer silently missing). As PyTorch's once_differentiable does, they get a node that
/// fails with a message, reached only if a later backward goes through them; it leads to the
/// forward's inputs and dy, so a torch::autograd::grad asking for any of those reaches it.
inline void refuse_twice(torch::autograd::variable_list &gradients, const ForwardState &state,
                         const torch::Tensor &dy) {
    auto edges = state.inputs;
    edges.push_back(torch::autograd::impl::gradient_edge(dy));
    const std::shared_ptr<torch::autograd::Node> error(
        new torch::autograd::Error("FastfoodLinear: its gradients cannot be differentiated again (no double "
                                   "backward: the library computes them in one call, not as torch operations); "
                                   "detach() them to use them as constants",
                                   std::move(edges)),
        torch::autograd::deleteNode);
    for (auto &gradient : gradients) {
        if (!gradient.defined()) continue;
        gradient = gradient.clone(); // its own tensor, not a view of dparams
        torch::autograd::set_history(gradient, error);
    }
}

/// y = layer(x) with x of shape (batch, in) (row stride >= in, unit column stride); `bias` is
/// empty when the layer has none. `rates` and `seed_step` pack DropoutState as
/// (input, permuted, output) rates and (seed, step).
struct FastfoodFunction : public torch::autograd::Function<FastfoodFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext *ctx, torch::Tensor x, torch::Tensor s,
                                 torch::Tensor g, torch::Tensor b, torch::Tensor bias,
                                 std::shared_ptr<const fastfood::Layer> kept, std::vector<double> rates,
                                 std::vector<int64_t> seed_step) {
        const fastfood_layer *layer = kept->get();
        const DropoutState d{rates[0], rates[1], rates[2], seed_step[0], seed_step[1]};
        const auto params = pack(s, g, b, bias);
        const auto batch = static_cast<std::size_t>(x.size(0));
        const auto out = fastfood_layer_out_features(layer);
        auto y = torch::empty({x.size(0), static_cast<int64_t>(out)}, x.options());
        const auto ldx = static_cast<std::size_t>(x.stride(0));
        const auto mask_seed = static_cast<uint64_t>(d.seed), step = static_cast<uint64_t>(d.step);
        if (x.scalar_type() == torch::kFloat) {
            fastfood::check(d.active()
                ? fastfood_forward_train_f32(layer, params.data_ptr<float>(), batch, x.data_ptr<float>(), ldx,
                                             y.data_ptr<float>(), out, d.input, d.permuted, d.output, mask_seed, step)
                : fastfood_forward_f32(layer, params.data_ptr<float>(), batch, x.data_ptr<float>(), ldx,
                                       y.data_ptr<float>(), out));
        } else {
            fastfood::check(d.active()
                ? fastfood_forward_train_f64(layer, params.data_ptr<double>(), batch, x.data_ptr<double>(), ldx,
                                             y.data_ptr<double>(), out, d.input, d.permuted, d.output, mask_seed, step)
                : fastfood_forward_f64(layer, params.data_ptr<double>(), batch, x.data_ptr<double>(), ldx,
                                       y.data_ptr<double>(), out));
        }
        ctx->save_for_backward({x, params});
        ctx->saved_data["state"] = c10::IValue::make_capsule(
            c10::make_intrusive<ForwardState>(std::move(kept), torch::autograd::collect_next_edges(x, s, g, b, bias)));
        ctx->saved_data["bias"] = bias.numel() > 0;
        ctx->saved_data["rates"] = rates;
        ctx->saved_data["seed_step"] = seed_step;
        return y;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto &x = saved[0];
        const auto &params = saved[1];
        const auto capsule = ctx->saved_data["state"].toCapsule();
        const auto &state = *static_cast<const ForwardState *>(capsule.get());
        const fastfood_layer *layer = state.layer->get();
        const bool has_bias = ctx->saved_data["bias"].toBool();
        const auto rates = ctx->saved_data["rates"].toDoubleVector();
        const auto seed_step = ctx->saved_data["seed_step"].toIntVector();
        const DropoutState d{rates[0], rates[1], rates[2], seed_step[0], seed_step[1]};
        const auto dy = grads[0].contiguous();
        const auto batch = static_cast<std::size_t>(x.size(0));
        const auto in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer);
        const bool want_dx = ctx->needs_input_grad(0);
        // Frozen sections are skipped by the library, not computed and thrown away.
        const bool want_s = ctx->needs_input_grad(1), want_g = ctx->needs_input_grad(2),
                   want_b = ctx->needs_input_grad(3), want_bias = has_bias && ctx->needs_input_grad(4);
        const bool want_params = want_s || want_g || want_b || want_bias;
        const uint32_t flags = (want_s ? 0u : FASTFOOD_SKIP_GRAD_S) | (want_g ? 0u : FASTFOOD_SKIP_GRAD_G) |
                               (want_b ? 0u : FASTFOOD_SKIP_GRAD_B);
        torch::Tensor dx = want_dx ? torch::empty({x.size(0), static_cast<int64_t>(in)}, x.options()) : torch::Tensor();
        torch::Tensor dparams = want_params ? torch::empty_like(params) : torch::Tensor();
        const auto ldx = static_cast<std::size_t>(x.stride(0));
        const auto mask_seed = static_cast<uint64_t>(d.seed), step = static_cast<uint64_t>(d.step);
        if (x.scalar_type() == torch::kFloat) {
            fastfood::check(d.active()
                ? fastfood_backward_train_f32(layer, params.data_ptr<float>(), batch, x.data_ptr<float>(), ldx,
                                              dy.data_ptr<float>(), out, data<float>(dx), in, data<float>(dparams),
                                              flags, d.input, d.permuted, d.output, mask_seed, step)
                : fastfood_backward_f32(layer, params.data_ptr<float>(), batch, x.data_ptr<float>(), ldx,
                                        dy.data_ptr<float>(), out, data<float>(dx), in, data<float>(dparams), flags));
        } else {
            fastfood::check(d.active()
                ? fastfood_backward_train_f64(layer, params.data_ptr<double>(), batch, x.data_ptr<double>(), ldx,
                                              dy.data_ptr<double>(), out, data<double>(dx), in, data<double>(dparams),
                                              flags, d.input, d.permuted, d.output, mask_seed, step)
                : fastfood_backward_f64(layer, params.data_ptr<double>(), batch, x.data_ptr<double>(), ldx,
                                        dy.data_ptr<double>(), out, data<double>(dx), in, data<double>(dparams),
                                        flags));
        }
        torch::Tensor ds, dg, db, dbias;
        if (want_params) {
            const auto kd = static_cast<int64_t>(fastfood_layer_num_blocks(layer) * fastfood_layer_block_size(layer));
            if (want_s) ds = dparams.slice(0, 0, kd);
            if (want_g) dg = dparams.slice(0, kd, 2 * kd);
            if (want_b) db = dparams.slice(0, 2 * kd, 3 * kd);
            if (want_bias) dbias = dparams.slice(0, 3 * kd, 3 * kd + static_cast<int64_t>(out));
        }
        torch::autograd::variable_list gradients{dx, ds, dg, db, dbias};
        if (torch::GradMode::is_enabled()) refuse_twice(gradients, state, grads[0]); // create_graph
        gradients.resize(8); // and none for the layer, the rates and the seed and step
        return gradients;
    }
};

} // namespace detail

class FastfoodLinearImpl : public torch::nn::Cloneable<FastfoodLinearImpl> {
public:
    FastfoodLinearImpl(int64_t in_features, int64_t out_features)
        : FastfoodLinearImpl(FastfoodLinearOptions(in_features, out_features)) {}
    explicit FastfoodLinearImpl(const FastfoodLinearOptions &options) : options(options) { reset(); }

    /// (Re)creates the layer and its parameters from the options.
    void reset() override {
        // Checked here: cast to size_t, a negative size would reach the C library as a huge one.
        TORCH_CHECK(options.in_features() >= 1 && options.out_features() >= 1,
                    "FastfoodLinear: in_features and out_features must be at least 1, got ", options.in_features(),
                    " and ", options.out_features());
        // -1 is the one seed that means "draw one"; another negative seed is a mistake, not a draw.
        TORCH_CHECK(options.seed() >= -1 && options.dropout_seed() >= -1,
                    "FastfoodLinear: seeds must be at least 0, or -1 to draw one from torch's generator; got seed ",
                    options.seed(), " and dropout_seed ", options.dropout_seed());
        for (double rate : {options.dropout_input(), options.dropout_permuted(), options.dropout_output()}) {
            TORCH_CHECK(rate >= 0 && rate < 1, "FastfoodLinear: dropout rates must be in [0, 1), got ", rate);
        }
        int64_t seed = options.seed() >= 0 ? options.seed() : draw_seed();
        int64_t mask_seed = options.dropout_seed() >= 0 ? options.dropout_seed() : draw_seed();
        layer_ = make_layer(static_cast<uint64_t>(seed), layer_flags());
        const auto kd = static_cast<int64_t>(layer_->num_blocks() * layer_->block_size());
        std::vector<float> initial(layer_->param_count());
        // NaN is not "<= 0": refused (by the library, as infinity is) instead of taken as the default.
        const double sigma = options.sigma() > 0 || std::isnan(options.sigma())
                                 ? options.sigma()
                                 : std::sqrt(static_cast<double>(options.in_features()));
        layer_->init_params(initial, static_cast<uint64_t>(seed), sigma);
        auto all = torch::from_blob(initial.data(), {static_cast<int64_t>(initial.size())}, torch::kFloat32).clone();
        S = register_parameter("S", all.slice(0, 0, kd).clone());
        G = register_parameter("G", all.slice(0, kd, 2 * kd).clone());
        B = register_parameter("B", all.slice(0, 2 * kd, 3 * kd).clone());
        if (options.bias()) {
            bias = register_parameter("bias", all.slice(0, 3 * kd, 3 * kd + options.out_features()).clone());
        } else {
            bias = register_parameter("bias", torch::Tensor(), /*requires_grad=*/false);
        }
        seed_ = register_buffer("seed", torch::full({1}, seed, torch::kInt64));
        flags_ = register_buffer("layer_flags", torch::full({1}, static_cast<int64_t>(layer_flags()), torch::kInt64));
        permutation = register_buffer("permutation", permutation_of(*layer_));
        // (dropout seed, next step): the masks of the next training forward.
        dropout_state = register_buffer("dropout_step", torch::tensor({mask_seed, int64_t{0}}, torch::kInt64));
    }

    /// y = layer(x): x of shape (..., in_features), CPU, float32 or float64 like the parameters.
    /// In train() mode with a dropout rate > 0 the masks of the current step are applied and the
    /// step advances; in eval() mode the plain forward runs.
    torch::Tensor forward(const torch::Tensor &input) {
        TORCH_CHECK(input.dim() >= 1 && input.size(-1) == options.in_features(), "FastfoodLinear: expected input of shape (..., ",
                    options.in_features(), "), got ", input.sizes());
        TORCH_CHECK(input.device().is_cpu(), "FastfoodLinear: only CPU tensors are supported");
        TORCH_CHECK(input.scalar_type() == torch::kFloat || input.scalar_type() == torch::kDouble,
                    "FastfoodLinear: input must be float32 or float64");
        TORCH_CHECK(input.scalar_type() == S.scalar_type(), "FastfoodLinear: input dtype ", input.scalar_type(),
                    " differs from the parameters' ", S.scalar_type(), " (use .to())");
        sync_with_buffers();
        check_sizes();
        auto x = input.reshape({-1, options.in_features()});
        if (x.stride(1) != 1 || x.stride(0) < options.in_features()) x = x.contiguous();
        // libtorch 1.13 cannot pass an undefined tensor to a custom Function: no bias is an empty one.
        auto bias_or_empty = bias.defined() ? bias : torch::empty({0}, S.options());
        std::vector<double> rates{0, 0, 0};
        std::vector<int64_t> seed_step{0, 0};
        if (is_training()) {
            rates = {options.dropout_input(), options.dropout_permuted(), options.dropout_output()};
            auto state = dropout_state.accessor<int64_t, 1>();
            seed_step = {state[0], state[1]};
            // The step is the C calls' uint64: it wraps there (a checkpoint may hold any int64,
            // and signed overflow would be undefined).
            if (rates[0] > 0 || rates[1] > 0 || rates[2] > 0)
                state[1] = static_cast<int64_t>(static_cast<uint64_t>(state[1]) + 1u);
        }
        auto y = detail::FastfoodFunction::apply(x, S, G, B, bias_or_empty,
                                                 std::shared_ptr<const fastfood::Layer>(layer_), rates, seed_step);
        auto shape = input.sizes().vec();
        shape.back() = options.out_features();
        return y.reshape(shape);
    }

    // libtorch's C++ Module::to converts every buffer; the seed and the permutation are integers
    // and must stay exact, so only the floating-point parameters change type here.
    void to(torch::Dtype dtype, bool non_blocking = false) override {
        for (auto &p : parameters()) p.set_data(p.to(dtype, non_blocking));
    }
    void to(torch::Device device, torch::Dtype dtype, bool non_blocking = false) override {
        TORCH_CHECK(device.is_cpu(), "FastfoodLinear: only CPU tensors are supported");
        to(dtype, non_blocking);
    }
    void to(torch::Device device, bool non_blocking = false) override {
        TORCH_CHECK(device.is_cpu(), "FastfoodLinear: only CPU tensors are supported");
        (void)non_blocking;
    }

    void pretty_print(std::ostream &stream) const override {
        stream << "fastfood_torch::FastfoodLinear(in_features=" << options.in_features()
               << ", out_features=" << options.out_features() << ", bias=" << std::boolalpha << options.bias()
               << ", normalized=" << options.normalized();
        if (options.dropout_input() > 0 || options.dropout_permuted() > 0 || options.dropout_output() > 0) {
            stream << ", dropout=(" << options.dropout_input() << ", " << options.dropout_permuted() << ", "
                   << options.dropout_output() << ")";
        }
        stream << ")";
    }

    /// The C layer (for its shape queries).
    const fastfood::Layer &layer() const { return *layer_; }

    /// Weights as the paper counts them (Table 1: no biases, S, G, B whether trained or not):
    /// 3 * num_blocks * block_size.
    int64_t weight_count() const { return S.numel() + G.numel() + B.numel(); }

    FastfoodLinearOptions options;
    torch::Tensor S, G, B, bias;
    torch::Tensor permutation;
    /// (dropout seed, step of the next training forward), int64.
    torch::Tensor dropout_state;

private:
    uint32_t layer_flags() const {
        return (options.bias() ? FASTFOOD_LAYER_BIAS : 0u) | (options.normalized() ? FASTFOOD_LAYER_NORMALIZED : 0u);
    }

    static int64_t draw_seed() {
        return torch::randint(0, std::numeric_limits<int64_t>::max(), {1}, torch::kInt64).item<int64_t>();
    }

    std::shared_ptr<fastfood::Layer> make_layer(uint64_t seed, uint32_t flags) const {
        return std::make_shared<fastfood::Layer>(fastfood::Layer::with_flags(
            static_cast<std::size_t>(options.in_features()), static_cast<std::size_t>(options.out_features()), seed,
            flags));
    }

    static torch::Tensor permutation_of(const fastfood::Layer &layer) {
        const auto perm = layer.permutation();
        auto t = torch::empty({static_cast<int64_t>(perm.size())}, torch::kInt64);
        auto a = t.accessor<int64_t, 1>();
        for (std::size_t i = 0; i < perm.size(); i++) a[static_cast<int64_t>(i)] = static_cast<int64_t>(perm[i]);
        return t;
    }

    /// After torch::load the buffers hold the checkpoint's seed, flags and permutation: rebuild
    /// the C layer from them and require the permutation the seed generates to be the stored one.
    void sync_with_buffers() {
        const auto seed = seed_.item<int64_t>();
        const auto flags = static_cast<uint32_t>(flags_.item<int64_t>());
        if (static_cast<uint64_t>(seed) == layer_->seed() && flags == layer_->flags()) return;
        if (flags != layer_flags()) {
            throw std::runtime_error("FastfoodLinear: the checkpoint's layer flags (" + std::to_string(flags) +
                                     ") differ from this module's options (" + std::to_string(layer_flags()) +
                                     "): construct it with the same bias() and normalized() as the saved one");
        }
        auto rebuilt = make_layer(static_cast<uint64_t>(seed), flags);
        if (!torch::equal(permutation_of(*rebuilt), permutation)) {
            throw std::runtime_error("FastfoodLinear: the stored permutation is not the one seed " + std::to_string(seed) +
                                     " generates: the checkpoint does not belong to this library");
        }
        layer_ = std::move(rebuilt);
    }

    /// torch::load replaces parameters and buffers whatever their size, and the C calls read as
    /// many values as the layer has: a checkpoint of another shape stops here, with a message.
    void check_sizes() const {
        const auto kd = static_cast<int64_t>(layer_->num_blocks() * layer_->block_size());
        auto need = [&](const torch::Tensor &t, int64_t count, const char *name) {
            TORCH_CHECK(t.defined() && t.numel() == count, "FastfoodLinear(", options.in_features(), ", ",
                        options.out_features(), "): ", name, " has ", t.defined() ? t.numel() : 0,
                        " values where the layer needs ", count, " (a checkpoint of another shape?)");
        };
        need(S, kd, "S");
        need(G, kd, "G");
        need(B, kd, "B");
        if (options.bias()) need(bias, options.out_features(), "bias");
        need(permutation, kd, "the permutation");
        need(dropout_state, 2, "dropout_step");
    }

    std::shared_ptr<fastfood::Layer> layer_;
    torch::Tensor seed_, flags_;
};

TORCH_MODULE(FastfoodLinear);

} // namespace fastfood_torch

#endif // FASTFOOD_TORCH_FASTFOOD_LINEAR_H
