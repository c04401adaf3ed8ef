// fastfood.hpp - header-only C++17 wrapper of the fastfood C API (fastfood.h).
//
//   fastfood::Layer layer(784, 1024, /*seed*/ 42, /*bias*/ true);
//   std::vector<float> params(layer.param_count()), dparams(params.size());
//   layer.init_params(params, /*seed*/ 7, /*sigma*/ 28.0);
//   layer.forward(params, x, y, batch);              // any contiguous containers
//   layer.backward(params, x, dy, dx, dparams, batch);
//   layer.features_forward(params, x, phi, batch);   // random features, 2 * out per row
//
// - Layer owns the C handle (move-only, RAII); params and gradients stay in your memory.
// - Every failure throws fastfood::Error, carrying the C status and the library's message (so it
//   needs C++ exceptions: code built with -fno-exceptions calls fastfood.h directly).
// - Pointer + size: fastfood::Span{pointer, count} works wherever a container is taken.
// - Everything is inline and forwards to one C call: no overhead beyond the size checks the
//   container overloads make (the pointer overloads make none of their own).
// - Thread safety is the C library's: a Layer may be used from many threads at once as long as
//   each call has its own output buffers.
#ifndef FASTFOOD_HPP
#define FASTFOOD_HPP

#include <fastfood.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace fastfood {

/// A failed fastfood call: status() is the FASTFOOD_ERROR_* code, what() the library's sentence.
class Error : public std::runtime_error {
public:
    Error(fastfood_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    fastfood_status status() const noexcept { return status_; }

private:
    fastfood_status status_;
};

/// Throws Error unless status is FASTFOOD_OK.
inline void check(fastfood_status status) {
    if (status != FASTFOOD_OK) {
        throw Error(status, std::string(fastfood_status_string(status)) + ": " + fastfood_last_error_message());
    }
}

inline std::uint32_t version_number() noexcept { return fastfood_version_number(); }
inline std::string version() { return fastfood_version_string(); }
inline std::string cpu_variant() { return fastfood_cpu_variant(); }
inline void set_num_threads(std::size_t n) { check(fastfood_set_num_threads(n)); }
inline std::size_t num_threads() noexcept { return fastfood_get_num_threads(); }

namespace detail {
// The C entry point of each element type.
inline fastfood_status init(const fastfood_layer *l, std::uint64_t s, double sigma, float *p) { return fastfood_init_params_f32(l, s, sigma, p); }
inline fastfood_status init(const fastfood_layer *l, std::uint64_t s, double sigma, double *p) { return fastfood_init_params_f64(l, s, sigma, p); }
inline fastfood_status forward(const fastfood_layer *l, const float *p, std::size_t b, const float *x, std::size_t ldx, float *y, std::size_t ldy) {
    return fastfood_forward_f32(l, p, b, x, ldx, y, ldy);
}
inline fastfood_status forward(const fastfood_layer *l, const double *p, std::size_t b, const double *x, std::size_t ldx, double *y, std::size_t ldy) {
    return fastfood_forward_f64(l, p, b, x, ldx, y, ldy);
}
inline fastfood_status backward(const fastfood_layer *l, const float *p, std::size_t b, const float *x, std::size_t ldx,
                                const float *dy, std::size_t lddy, float *dx, std::size_t lddx, float *dp, std::uint32_t f) {
    return fastfood_backward_f32(l, p, b, x, ldx, dy, lddy, dx, lddx, dp, f);
}
inline fastfood_status backward(const fastfood_layer *l, const double *p, std::size_t b, const double *x, std::size_t ldx,
                                const double *dy, std::size_t lddy, double *dx, std::size_t lddx, double *dp, std::uint32_t f) {
    return fastfood_backward_f64(l, p, b, x, ldx, dy, lddy, dx, lddx, dp, f);
}
inline fastfood_status preset(const fastfood_layer *l, std::uint32_t k, std::uint64_t s, double v, float *p) { return fastfood_init_params_preset_f32(l, k, s, v, p); }
inline fastfood_status preset(const fastfood_layer *l, std::uint32_t k, std::uint64_t s, double v, double *p) { return fastfood_init_params_preset_f64(l, k, s, v, p); }
inline fastfood_status forward_train(const fastfood_layer *l, const float *p, std::size_t b, const float *x, std::size_t ldx, float *y, std::size_t ldy, double r0, double r1, double r2, std::uint64_t s, std::uint64_t t) {
    return fastfood_forward_train_f32(l, p, b, x, ldx, y, ldy, r0, r1, r2, s, t);
}
inline fastfood_status forward_train(const fastfood_layer *l, const double *p, std::size_t b, const double *x, std::size_t ldx, double *y, std::size_t ldy, double r0, double r1, double r2, std::uint64_t s, std::uint64_t t) {
    return fastfood_forward_train_f64(l, p, b, x, ldx, y, ldy, r0, r1, r2, s, t);
}
inline fastfood_status backward_train(const fastfood_layer *l, const float *p, std::size_t b, const float *x, std::size_t ldx, const float *dy, std::size_t lddy, float *dx, std::size_t lddx, float *dp, std::uint32_t f, double r0, double r1, double r2, std::uint64_t s, std::uint64_t t) {
    return fastfood_backward_train_f32(l, p, b, x, ldx, dy, lddy, dx, lddx, dp, f, r0, r1, r2, s, t);
}
inline fastfood_status backward_train(const fastfood_layer *l, const double *p, std::size_t b, const double *x, std::size_t ldx, const double *dy, std::size_t lddy, double *dx, std::size_t lddx, double *dp, std::uint32_t f, double r0, double r1, double r2, std::uint64_t s, std::uint64_t t) {
    return fastfood_backward_train_f64(l, p, b, x, ldx, dy, lddy, dx, lddx, dp, f, r0, r1, r2, s, t);
}
inline fastfood_status features_forward(const fastfood_layer *l, const float *p, std::size_t b, const float *x, std::size_t ldx, float *phi, std::size_t ldphi) {
    return fastfood_features_forward_f32(l, p, b, x, ldx, phi, ldphi);
}
inline fastfood_status features_forward(const fastfood_layer *l, const double *p, std::size_t b, const double *x, std::size_t ldx, double *phi, std::size_t ldphi) {
    return fastfood_features_forward_f64(l, p, b, x, ldx, phi, ldphi);
}
inline fastfood_status features_backward(const fastfood_layer *l, const float *p, std::size_t b, const float *x, std::size_t ldx, const float *dphi, std::size_t lddphi, float *dx, std::size_t lddx, float *dp, std::uint32_t f) {
    return fastfood_features_backward_f32(l, p, b, x, ldx, dphi, lddphi, dx, lddx, dp, f);
}
inline fastfood_status features_backward(const fastfood_layer *l, const double *p, std::size_t b, const double *x, std::size_t ldx, const double *dphi, std::size_t lddphi, double *dx, std::size_t lddx, double *dp, std::uint32_t f) {
    return fastfood_features_backward_f64(l, p, b, x, ldx, dphi, lddphi, dx, lddx, dp, f);
}
inline fastfood_status features_backward_from_phi(const fastfood_layer *l, const float *p, std::size_t b, const float *x, std::size_t ldx, const float *phi, std::size_t ldphi, const float *dphi, std::size_t lddphi, float *dx, std::size_t lddx, float *dp, std::uint32_t f) {
    return fastfood_features_backward_from_phi_f32(l, p, b, x, ldx, phi, ldphi, dphi, lddphi, dx, lddx, dp, f);
}
inline fastfood_status features_backward_from_phi(const fastfood_layer *l, const double *p, std::size_t b, const double *x, std::size_t ldx, const double *phi, std::size_t ldphi, const double *dphi, std::size_t lddphi, double *dx, std::size_t lddx, double *dp, std::uint32_t f) {
    return fastfood_features_backward_from_phi_f64(l, p, b, x, ldx, phi, ldphi, dphi, lddphi, dx, lddx, dp, f);
}
inline fastfood_status save(const fastfood_layer *l, const float *p, void *b, std::size_t n) { return fastfood_save_f32(l, p, b, n); }
inline fastfood_status save(const fastfood_layer *l, const double *p, void *b, std::size_t n) { return fastfood_save_f64(l, p, b, n); }
inline fastfood_status save_file(const fastfood_layer *l, const float *p, const char *path) { return fastfood_save_file_f32(l, p, path); }
inline fastfood_status save_file(const fastfood_layer *l, const double *p, const char *path) { return fastfood_save_file_f64(l, p, path); }
inline fastfood_status load(const void *b, std::size_t n, fastfood_layer **l, float *p, std::size_t c) { return fastfood_load_f32(b, n, l, p, c); }
inline fastfood_status load(const void *b, std::size_t n, fastfood_layer **l, double *p, std::size_t c) { return fastfood_load_f64(b, n, l, p, c); }
inline fastfood_status load_file(const char *path, fastfood_layer **l, float *p, std::size_t c) { return fastfood_load_file_f32(path, l, p, c); }
inline fastfood_status load_file(const char *path, fastfood_layer **l, double *p, std::size_t c) { return fastfood_load_file_f64(path, l, p, c); }
template <class T> constexpr std::uint32_t type_code() { return std::is_same_v<T, float> ? FASTFOOD_TYPE_F32 : FASTFOOD_TYPE_F64; }
inline fastfood_status fwht(float *d, std::size_t n, std::size_t c, std::size_t s) { return fastfood_fwht_f32(d, n, c, s); }
inline fastfood_status fwht(double *d, std::size_t n, std::size_t c, std::size_t s) { return fastfood_fwht_f64(d, n, c, s); }

// A non-deduced context: T comes from the other arguments, so nullptr can be passed here.
template <class T>
struct identity {
    using type = T;
};
template <class T>
using same_t = typename identity<T>::type;

template <class C>
using element_t = std::remove_cv_t<std::remove_pointer_t<decltype(std::data(std::declval<C &>()))>>;

inline void require(bool ok, const char *what) {
    if (!ok) throw Error(FASTFOOD_ERROR_INVALID_ARGUMENT, std::string("invalid argument: ") + what);
}
} // namespace detail

/// A pointer and an element count, usable wherever a contiguous container is taken (C++17 has no
/// std::span): layer.forward(params, fastfood::Span<const float>{x, n}, y, batch).
template <class T>
struct Span {
    T *pointer;
    std::size_t count;
    T *data() const noexcept { return pointer; }
    std::size_t size() const noexcept { return count; }
};

/// In-place unnormalised Walsh-Hadamard transform of `count` vectors of length n (a power of
/// two), one after the other (vector c at data + c * n). T is float or double.
template <class T>
void fwht(T *data, std::size_t n, std::size_t count = 1) {
    check(detail::fwht(data, n, count, n));
}

/// The same for vectors whose starts are `stride` elements apart (stride >= n when count > 1).
/// (Until 1.4.5 this was the only form, its stride defaulting to 0: three arguments with a
/// count above 1 threw "stride < n" instead of transforming packed vectors.)
template <class T>
void fwht(T *data, std::size_t n, std::size_t count, std::size_t stride) {
    check(detail::fwht(data, n, count, count > 1 ? stride : n));
}

/// A Fastfood layer in -> out (see fastfood.h for the mathematics and the parameter layout).
class Layer {
public:
    /// Throws Error for a bad shape or when memory runs out.
    Layer(std::size_t in_features, std::size_t out_features, std::uint64_t seed, bool bias = false) {
        check(fastfood_layer_create(in_features, out_features, seed, bias ? FASTFOOD_LAYER_BIAS : 0u, &handle_));
    }
    ~Layer() { fastfood_layer_destroy(handle_); }
    Layer(Layer &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Layer &operator=(Layer &&other) noexcept {
        if (this != &other) {
            fastfood_layer_destroy(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    /// Any FASTFOOD_LAYER_* flags (FASTFOOD_LAYER_BIAS, FASTFOOD_LAYER_NORMALIZED since 1.1).
    static Layer with_flags(std::size_t in_features, std::size_t out_features, std::uint64_t seed,
                            std::uint32_t flags) {
        Layer layer;
        check(fastfood_layer_create(in_features, out_features, seed, flags, &layer.handle_));
        return layer;
    }
    Layer(const Layer &) = delete;
    Layer &operator=(const Layer &) = delete;

private:
    Layer() = default; // for load: filled in by the C call

public:

    /// The C handle, for calls this wrapper does not cover. Null after a move.
    const fastfood_layer *get() const noexcept { return handle_; }

    std::size_t in_features() const noexcept { return fastfood_layer_in_features(handle_); }
    std::size_t out_features() const noexcept { return fastfood_layer_out_features(handle_); }
    std::size_t block_size() const noexcept { return fastfood_layer_block_size(handle_); }
    std::size_t num_blocks() const noexcept { return fastfood_layer_num_blocks(handle_); }
    std::size_t param_count() const noexcept { return fastfood_layer_param_count(handle_); }
    std::uint64_t seed() const noexcept { return fastfood_layer_seed(handle_); }
    bool has_bias() const noexcept { return (fastfood_layer_flags(handle_) & FASTFOOD_LAYER_BIAS) != 0; }
    /// Orthonormal transforms (FASTFOOD_LAYER_NORMALIZED).
    bool normalized() const noexcept { return (fastfood_layer_flags(handle_) & FASTFOOD_LAYER_NORMALIZED) != 0; }
    std::uint32_t flags() const noexcept { return fastfood_layer_flags(handle_); }

    /// num_blocks * block_size entries: (PI_k v)[i] = v[perm[k*D + i]].
    std::vector<std::size_t> permutation() const {
        std::vector<std::size_t> perm(num_blocks() * block_size());
        check(fastfood_layer_permutation(handle_, perm.data()));
        return perm;
    }

    // ---- pointer interface: exactly the C calls -------------------------------------------

    template <class T>
    void init_params(T *params, std::uint64_t seed, double sigma = 1.0) const {
        check(detail::init(handle_, seed, sigma, params));
    }

    template <class T>
    void forward(const T *params, std::size_t batch, const T *x, std::size_t ldx, T *y, std::size_t ldy) const {
        check(detail::forward(handle_, params, batch, x, ldx, y, ldy));
    }

    /// dx or dparams may be null (not wanted); accumulate adds instead of overwriting.
    template <class T>
    void backward(const T *params, std::size_t batch, const detail::same_t<T> *x, std::size_t ldx,
                  const detail::same_t<T> *dy, std::size_t lddy, detail::same_t<T> *dx, std::size_t lddx,
                  detail::same_t<T> *dparams, bool accumulate = false) const {
        check(detail::backward(handle_, params, batch, x, ldx, dy, lddy, dx, lddx, dparams,
                               accumulate ? FASTFOOD_ACCUMULATE : 0u));
    }

    // ---- contiguous containers (std::vector, std::array, spans ...), tightly packed rows ---
    // Sizes are checked: params must hold param_count() elements, x batch * in, y batch * out.

    template <class P>
    void init_params(P &params, std::uint64_t seed, double sigma = 1.0) const {
        detail::require(std::size(params) == param_count(), "params must hold param_count() elements");
        init_params(std::data(params), seed, sigma);
    }

    template <class P, class X, class Y>
    void forward(const P &params, const X &x, Y &y, std::size_t batch) const {
        static_assert(std::is_same_v<detail::element_t<const P>, detail::element_t<const X>> &&
                          std::is_same_v<detail::element_t<const P>, detail::element_t<Y>>,
                      "params, x and y must have the same element type (float or double)");
        check_sizes(std::size(params), std::size(x), batch * in_features(), std::size(y), batch * out_features());
        forward(std::data(params), batch, std::data(x), in_features(), std::data(y), out_features());
    }

    /// Input and parameter gradients.
    template <class P, class X, class DY, class DX, class DP>
    void backward(const P &params, const X &x, const DY &dy, DX &dx, DP &dparams, std::size_t batch,
                  bool accumulate = false) const {
        check_sizes(std::size(params), std::size(x), batch * in_features(), std::size(dy), batch * out_features());
        detail::require(std::size(dx) >= batch * in_features(), "dx must hold batch * in_features elements");
        detail::require(std::size(dparams) == param_count(), "dparams must hold param_count() elements");
        backward(std::data(params), batch, std::data(x), in_features(), std::data(dy), out_features(),
                 std::data(dx), in_features(), std::data(dparams), accumulate);
    }

    /// Parameter gradients only (the first layer of a network needs no dx).
    template <class P, class X, class DY, class DP>
    void backward_params(const P &params, const X &x, const DY &dy, DP &dparams, std::size_t batch,
                         bool accumulate = false) const {
        check_sizes(std::size(params), std::size(x), batch * in_features(), std::size(dy), batch * out_features());
        detail::require(std::size(dparams) == param_count(), "dparams must hold param_count() elements");
        backward(std::data(params), batch, std::data(x), in_features(), std::data(dy), out_features(),
                 static_cast<detail::element_t<DP> *>(nullptr), in_features(), std::data(dparams), accumulate);
    }

    /// Input gradient only (fixed S, G, B: the non-adaptive Fastfood); x is not needed.
    template <class P, class DY, class DX>
    void backward_input(const P &params, const DY &dy, DX &dx, std::size_t batch, bool accumulate = false) const {
        detail::require(std::size(params) == param_count(), "params must hold param_count() elements");
        detail::require(std::size(dy) >= batch * out_features(), "dy must hold batch * out_features elements");
        detail::require(std::size(dx) >= batch * in_features(), "dx must hold batch * in_features elements");
        backward(std::data(params), batch, static_cast<const detail::element_t<DX> *>(nullptr), in_features(),
                 std::data(dy), out_features(), std::data(dx), in_features(),
                 static_cast<detail::element_t<DX> *>(nullptr), accumulate);
    }

    // ---- training, presets, saving (pointer interface, as the C calls; see fastfood.h) ----------

    /// Dropout rates (each in [0, 1)) at the paper's three places, and the masks' seed and step.
    struct Dropout {
        double input = 0, permuted = 0, output = 0;
        std::uint64_t seed = 0, step = 0;
    };

    template <class T>
    void forward_train(const T *params, std::size_t batch, const T *x, std::size_t ldx, T *y, std::size_t ldy,
                       const Dropout &d) const {
        check(detail::forward_train(handle_, params, batch, x, ldx, y, ldy, d.input, d.permuted, d.output, d.seed, d.step));
    }

    /// flags: FASTFOOD_ACCUMULATE, FASTFOOD_SKIP_GRAD_S / _G / _B.
    template <class T>
    void backward_train(const T *params, std::size_t batch, const detail::same_t<T> *x, std::size_t ldx,
                        const detail::same_t<T> *dy, std::size_t lddy, detail::same_t<T> *dx, std::size_t lddx,
                        detail::same_t<T> *dparams, std::uint32_t flags, const Dropout &d) const {
        check(detail::backward_train(handle_, params, batch, x, ldx, dy, lddy, dx, lddx, dparams, flags, d.input,
                                     d.permuted, d.output, d.seed, d.step));
    }

    // ---- random features: phi = sqrt(1 / out) [cos z | sin z], z the layer's output -----------
    // (fastfood.h, "Random-feature maps"). Pointer forms are the C calls; container forms take
    // tightly packed rows and check sizes as forward and backward do.

    /// Width of a feature row phi: 2 * out_features.
    std::size_t feature_count() const noexcept { return 2 * out_features(); }

    template <class T>
    void features_forward(const T *params, std::size_t batch, const detail::same_t<T> *x, std::size_t ldx,
                          detail::same_t<T> *phi, std::size_t ldphi) const {
        check(detail::features_forward(handle_, params, batch, x, ldx, phi, ldphi));
    }

    /// Recomputes z from x (x is required). flags: FASTFOOD_ACCUMULATE, FASTFOOD_SKIP_GRAD_S / _G / _B.
    template <class T>
    void features_backward(const T *params, std::size_t batch, const detail::same_t<T> *x, std::size_t ldx,
                           const detail::same_t<T> *dphi, std::size_t lddphi, detail::same_t<T> *dx,
                           std::size_t lddx, detail::same_t<T> *dparams, std::uint32_t flags = 0) const {
        check(detail::features_backward(handle_, params, batch, x, ldx, dphi, lddphi, dx, lddx, dparams, flags));
    }

    /// From the forward's phi (library 1.2): no cos or sin, and bitwise backward() of the dy it
    /// makes from phi and dphi. x may be null when dparams is.
    template <class T>
    void features_backward_from_phi(const T *params, std::size_t batch, const detail::same_t<T> *x, std::size_t ldx,
                                    const detail::same_t<T> *phi, std::size_t ldphi, const detail::same_t<T> *dphi,
                                    std::size_t lddphi, detail::same_t<T> *dx, std::size_t lddx,
                                    detail::same_t<T> *dparams, std::uint32_t flags = 0) const {
        check(detail::features_backward_from_phi(handle_, params, batch, x, ldx, phi, ldphi, dphi, lddphi, dx, lddx,
                                                 dparams, flags));
    }

    /// phi must hold batch * feature_count() elements.
    template <class P, class X, class PHI>
    void features_forward(const P &params, const X &x, PHI &phi, std::size_t batch) const {
        static_assert(std::is_same_v<detail::element_t<const P>, detail::element_t<const X>> &&
                          std::is_same_v<detail::element_t<const P>, detail::element_t<PHI>>,
                      "params, x and phi must have the same element type (float or double)");
        check_sizes(std::size(params), std::size(x), batch * in_features(), std::size(phi), batch * feature_count(),
                    "phi must hold batch * 2 * out_features elements");
        features_forward(std::data(params), batch, std::data(x), in_features(), std::data(phi), feature_count());
    }

    /// Input and parameter gradients, z recomputed from x.
    template <class P, class X, class DPHI, class DX, class DP>
    void features_backward(const P &params, const X &x, const DPHI &dphi, DX &dx, DP &dparams, std::size_t batch,
                           bool accumulate = false) const {
        check_sizes(std::size(params), std::size(x), batch * in_features(), std::size(dphi), batch * feature_count(),
                    "dphi must hold batch * 2 * out_features elements");
        detail::require(std::size(dx) >= batch * in_features(), "dx must hold batch * in_features elements");
        detail::require(std::size(dparams) == param_count(), "dparams must hold param_count() elements");
        features_backward(std::data(params), batch, std::data(x), in_features(), std::data(dphi), feature_count(),
                          std::data(dx), in_features(), std::data(dparams), accumulate ? FASTFOOD_ACCUMULATE : 0u);
    }

    /// Input and parameter gradients from the forward's phi (the faster backward; library 1.2).
    template <class P, class X, class PHI, class DPHI, class DX, class DP>
    void features_backward_from_phi(const P &params, const X &x, const PHI &phi, const DPHI &dphi, DX &dx,
                                    DP &dparams, std::size_t batch, bool accumulate = false) const {
        check_sizes(std::size(params), std::size(x), batch * in_features(), std::size(phi), batch * feature_count(),
                    "phi must hold batch * 2 * out_features elements");
        detail::require(std::size(dphi) >= batch * feature_count(), "dphi must hold batch * 2 * out_features elements");
        detail::require(std::size(dx) >= batch * in_features(), "dx must hold batch * in_features elements");
        detail::require(std::size(dparams) == param_count(), "dparams must hold param_count() elements");
        features_backward_from_phi(std::data(params), batch, std::data(x), in_features(), std::data(phi),
                                   feature_count(), std::data(dphi), feature_count(), std::data(dx), in_features(),
                                   std::data(dparams), accumulate ? FASTFOOD_ACCUMULATE : 0u);
    }

    /// One of the FASTFOOD_INIT_* presets; value is its sigma, gain or epsilon.
    template <class T>
    void init_params_preset(T *params, std::uint32_t preset, std::uint64_t seed, double value) const {
        check(detail::preset(handle_, preset, seed, value, params));
    }

    /// The saved form of this layer with `params` (element type T), ready to embed anywhere.
    template <class T>
    std::vector<unsigned char> save(const T *params) const {
        std::size_t size = 0;
        check(fastfood_save_size(handle_, detail::type_code<T>(), &size));
        std::vector<unsigned char> bytes(size);
        check(detail::save(handle_, params, bytes.data(), bytes.size()));
        return bytes;
    }

    /// Atomic save to a file.
    template <class T>
    void save_file(const T *params, const std::string &path) const {
        check(detail::save_file(handle_, params, path.c_str()));
    }

    /// Loads saved bytes: the layer, with its parameters (element type T) in `params`.
    template <class T>
    static Layer load(const void *bytes, std::size_t size, std::vector<T> &params) {
        std::size_t count = 0;
        std::uint32_t type = 0;
        check(fastfood_load_info(bytes, size, nullptr, nullptr, nullptr, nullptr, &type, &count));
        detail::require(type == detail::type_code<T>(), "the data holds the other element type");
        std::vector<T> loaded(count);
        Layer layer;
        check(detail::load(bytes, size, &layer.handle_, loaded.data(), loaded.size()));
        params = std::move(loaded);
        return layer;
    }

    template <class T>
    static Layer load_file(const std::string &path, std::vector<T> &params) {
        std::size_t count = 0;
        std::uint32_t type = 0;
        check(fastfood_load_file_info(path.c_str(), nullptr, nullptr, nullptr, nullptr, &type, &count));
        detail::require(type == detail::type_code<T>(), "the file holds the other element type");
        std::vector<T> loaded(count);
        Layer layer;
        check(detail::load_file(path.c_str(), &layer.handle_, loaded.data(), loaded.size()));
        params = std::move(loaded);
        return layer;
    }

private:
    // y_message names the output (y, dy, phi or dphi) and the size it needs.
    void check_sizes(std::size_t params, std::size_t x, std::size_t x_needed, std::size_t y, std::size_t y_needed,
                     const char *y_message = "the output (or its gradient) must hold batch * out_features elements") const {
        detail::require(params == param_count(), "params must hold param_count() elements");
        detail::require(x >= x_needed, "the input must hold batch * in_features elements");
        detail::require(y >= y_needed, y_message);
    }

    fastfood_layer *handle_ = nullptr;
};

} // namespace fastfood

#endif // FASTFOOD_HPP
