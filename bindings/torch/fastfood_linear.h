// fastfood_linear.h - FastfoodLinear: a libtorch module that replaces torch::nn::Linear.
//
//   FastfoodLinear layer(1024, 4096);                       // like torch::nn::Linear(1024, 4096)
//   FastfoodLinear layer(FastfoodLinearOptions(1024, 4096).bias(false).seed(7));
//   auto y = layer(x);                                       // x: (..., 1024), float32 or float64
//
// Parameters S, G, B (each num_blocks * block_size) and bias (out) are registered as module
// parameters; the seed and the permutation are registered as buffers, so they travel with
// torch::save / torch::load and .to() (which changes the parameters' dtype and keeps the
// integer buffers exact). Forward and backward run in libfastfood through a
// custom autograd Function (CPU tensors; any leading batch shape; non-contiguous input is
// handled). After torch::load the C layer is rebuilt from the loaded seed, and the loaded
// permutation must equal the one the seed generates (else std::runtime_error).
//
// Initialisation: the Le et al. Fastfood initialisation with sigma = sqrt(in_features) (rows of
// the layer's matrix have norm about 1, so outputs start at the scale of the inputs), bias 0.
// The default seed is drawn from torch's generator, so torch::manual_seed makes it repeatable.
#ifndef FASTFOOD_TORCH_FASTFOOD_LINEAR_H
#define FASTFOOD_TORCH_FASTFOOD_LINEAR_H

#include <fastfood.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
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
    /// Seed of the permutations and of the initial S, G, B; -1 draws one from torch's generator.
    TORCH_ARG(int64_t, seed) = -1;
    /// Bandwidth of the Fastfood initialisation; <= 0 means sqrt(in_features).
    TORCH_ARG(double, sigma) = 0.0;
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

/// y = layer(x) with x of shape (batch, in) (row stride >= in, unit column stride); `bias` is
/// empty when the layer has none.
struct FastfoodFunction : public torch::autograd::Function<FastfoodFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext *ctx, torch::Tensor x, torch::Tensor s,
                                 torch::Tensor g, torch::Tensor b, torch::Tensor bias, int64_t layer_address) {
        const auto *layer = reinterpret_cast<const fastfood_layer *>(layer_address);
        const auto params = pack(s, g, b, bias);
        const auto batch = static_cast<std::size_t>(x.size(0));
        const auto out = fastfood_layer_out_features(layer);
        auto y = torch::empty({x.size(0), static_cast<int64_t>(out)}, x.options());
        const auto ldx = static_cast<std::size_t>(x.stride(0));
        if (x.scalar_type() == torch::kFloat) {
            fastfood::check(fastfood_forward_f32(layer, params.data_ptr<float>(), batch, x.data_ptr<float>(), ldx,
                                                 y.data_ptr<float>(), out));
        } else {
            fastfood::check(fastfood_forward_f64(layer, params.data_ptr<double>(), batch, x.data_ptr<double>(), ldx,
                                                 y.data_ptr<double>(), out));
        }
        ctx->save_for_backward({x, params});
        ctx->saved_data["layer"] = layer_address;
        ctx->saved_data["bias"] = bias.numel() > 0;
        return y;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto &x = saved[0];
        const auto &params = saved[1];
        const auto *layer = reinterpret_cast<const fastfood_layer *>(ctx->saved_data["layer"].toInt());
        const bool has_bias = ctx->saved_data["bias"].toBool();
        const auto dy = grads[0].contiguous();
        const auto batch = static_cast<std::size_t>(x.size(0));
        const auto in = fastfood_layer_in_features(layer), out = fastfood_layer_out_features(layer);
        const bool want_dx = ctx->needs_input_grad(0);
        const bool want_params = ctx->needs_input_grad(1) || ctx->needs_input_grad(2) || ctx->needs_input_grad(3) ||
                                 (has_bias && ctx->needs_input_grad(4));
        torch::Tensor dx = want_dx ? torch::empty({x.size(0), static_cast<int64_t>(in)}, x.options()) : torch::Tensor();
        torch::Tensor dparams = want_params ? torch::empty_like(params) : torch::Tensor();
        const auto ldx = static_cast<std::size_t>(x.stride(0));
        if (x.scalar_type() == torch::kFloat) {
            fastfood::check(fastfood_backward_f32(layer, params.data_ptr<float>(), batch, x.data_ptr<float>(), ldx,
                                                  dy.data_ptr<float>(), out, data<float>(dx), in,
                                                  data<float>(dparams), 0));
        } else {
            fastfood::check(fastfood_backward_f64(layer, params.data_ptr<double>(), batch, x.data_ptr<double>(), ldx,
                                                  dy.data_ptr<double>(), out, data<double>(dx), in,
                                                  data<double>(dparams), 0));
        }
        torch::Tensor ds, dg, db, dbias;
        if (want_params) {
            const auto kd = static_cast<int64_t>(fastfood_layer_num_blocks(layer) * fastfood_layer_block_size(layer));
            ds = dparams.slice(0, 0, kd);
            dg = dparams.slice(0, kd, 2 * kd);
            db = dparams.slice(0, 2 * kd, 3 * kd);
            if (has_bias) dbias = dparams.slice(0, 3 * kd, 3 * kd + static_cast<int64_t>(out));
        }
        return {dx, ds, dg, db, dbias, torch::Tensor()};
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
        int64_t seed = options.seed();
        if (seed < 0) seed = torch::randint(0, std::numeric_limits<int64_t>::max(), {1}, torch::kInt64).item<int64_t>();
        layer_ = std::make_shared<fastfood::Layer>(options.in_features(), options.out_features(),
                                                   static_cast<uint64_t>(seed), options.bias());
        const auto kd = static_cast<int64_t>(layer_->num_blocks() * layer_->block_size());
        std::vector<float> initial(layer_->param_count());
        const double sigma = options.sigma() > 0 ? options.sigma() : std::sqrt(static_cast<double>(options.in_features()));
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
        permutation = register_buffer("permutation", permutation_of(*layer_));
    }

    /// y = layer(x): x of shape (..., in_features), CPU, float32 or float64 like the parameters.
    torch::Tensor forward(const torch::Tensor &input) {
        TORCH_CHECK(input.dim() >= 1 && input.size(-1) == options.in_features(), "FastfoodLinear: expected input of shape (..., ",
                    options.in_features(), "), got ", input.sizes());
        TORCH_CHECK(input.device().is_cpu(), "FastfoodLinear: only CPU tensors are supported");
        TORCH_CHECK(input.scalar_type() == torch::kFloat || input.scalar_type() == torch::kDouble,
                    "FastfoodLinear: input must be float32 or float64");
        TORCH_CHECK(input.scalar_type() == S.scalar_type(), "FastfoodLinear: input dtype ", input.scalar_type(),
                    " differs from the parameters' ", S.scalar_type(), " (use .to())");
        sync_with_buffers();
        auto x = input.reshape({-1, options.in_features()});
        if (x.stride(1) != 1 || x.stride(0) < options.in_features()) x = x.contiguous();
        // libtorch 1.13 cannot pass an undefined tensor to a custom Function: no bias is an empty one.
        auto bias_or_empty = bias.defined() ? bias : torch::empty({0}, S.options());
        auto y = detail::FastfoodFunction::apply(x, S, G, B, bias_or_empty, reinterpret_cast<int64_t>(layer_->get()));
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
               << ", out_features=" << options.out_features() << ", bias=" << std::boolalpha << options.bias() << ")";
    }

    /// The C layer (for its shape queries).
    const fastfood::Layer &layer() const { return *layer_; }

    FastfoodLinearOptions options;
    torch::Tensor S, G, B, bias;
    torch::Tensor permutation;

private:
    static torch::Tensor permutation_of(const fastfood::Layer &layer) {
        const auto perm = layer.permutation();
        auto t = torch::empty({static_cast<int64_t>(perm.size())}, torch::kInt64);
        for (std::size_t i = 0; i < perm.size(); i++) t[static_cast<int64_t>(i)] = static_cast<int64_t>(perm[i]);
        return t;
    }

    /// After torch::load the buffers hold the checkpoint's seed and permutation: rebuild the C
    /// layer from that seed and require the permutation it generates to be the stored one.
    void sync_with_buffers() {
        const auto seed = seed_.item<int64_t>();
        if (static_cast<uint64_t>(seed) == layer_->seed()) return;
        auto rebuilt = std::make_shared<fastfood::Layer>(options.in_features(), options.out_features(),
                                                         static_cast<uint64_t>(seed), options.bias());
        if (!torch::equal(permutation_of(*rebuilt), permutation)) {
            throw std::runtime_error("FastfoodLinear: the stored permutation is not the one seed " + std::to_string(seed) +
                                     " generates: the checkpoint does not belong to this library");
        }
        layer_ = std::move(rebuilt);
    }

    std::shared_ptr<fastfood::Layer> layer_;
    torch::Tensor seed_;
};

TORCH_MODULE(FastfoodLinear);

} // namespace fastfood_torch

#endif // FASTFOOD_TORCH_FASTFOOD_LINEAR_H
