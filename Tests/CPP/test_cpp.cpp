// test_cpp.cpp - tests of bindings/cpp/fastfood.hpp: RAII and moves, exceptions carrying the
// status and the library's message, container overloads with size checks, and results equal
// bit for bit to the direct C calls (the random-feature calls too). Prints "N passed, M failed";
// exit status 1 on failure.
#include <fastfood.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

// CHECK and report(): the harness the C tests share.
#include "../CAPI/check.h"
// The expression throws fastfood::Error with this status and a message containing `needle`.
#define CHECK_THROWS(expr, expected, needle)                                     \
    do {                                                                         \
        bool threw_ = false;                                                     \
        try {                                                                    \
            expr;                                                                \
        } catch (const fastfood::Error &e) {                                     \
            threw_ = e.status() == (expected) && std::strstr(e.what(), needle);  \
            if (!threw_) std::printf("  got status %d: %s\n", e.status(), e.what()); \
        }                                                                        \
        CHECK(threw_);                                                           \
    } while (0)

static_assert(!std::is_copy_constructible_v<fastfood::Layer>, "Layer is move-only");
static_assert(std::is_nothrow_move_constructible_v<fastfood::Layer>, "moves do not throw");

template <class T>
static void compare_with_c() {
    const std::size_t in = 100, out = 300, batch = 5;
    fastfood::Layer layer(in, out, 11, true);
    std::vector<T> params(layer.param_count()), x(batch * in), y(batch * out), dy(batch * out);
    std::vector<T> dx(batch * in), dparams(params.size());
    layer.init_params(params, 3, 1.5);
    for (std::size_t i = 0; i < x.size(); i++) x[i] = T(0.01) * T(i % 97) - T(0.4);
    for (std::size_t i = 0; i < dy.size(); i++) dy[i] = T(0.02) * T(i % 31) - T(0.3);
    layer.forward(params, x, y, batch);
    layer.backward(params, x, dy, dx, dparams, batch);

    // The same through the C API.
    std::vector<T> params_c(params.size()), y_c(y.size()), dx_c(dx.size()), dparams_c(params.size());
    if constexpr (std::is_same_v<T, float>) {
        CHECK(fastfood_init_params_f32(layer.get(), 3, 1.5, params_c.data()) == FASTFOOD_OK);
        CHECK(fastfood_forward_f32(layer.get(), params.data(), batch, x.data(), in, y_c.data(), out) == FASTFOOD_OK);
        CHECK(fastfood_backward_f32(layer.get(), params.data(), batch, x.data(), in, dy.data(), out, dx_c.data(), in,
                                    dparams_c.data(), 0) == FASTFOOD_OK);
    } else {
        CHECK(fastfood_init_params_f64(layer.get(), 3, 1.5, params_c.data()) == FASTFOOD_OK);
        CHECK(fastfood_forward_f64(layer.get(), params.data(), batch, x.data(), in, y_c.data(), out) == FASTFOOD_OK);
        CHECK(fastfood_backward_f64(layer.get(), params.data(), batch, x.data(), in, dy.data(), out, dx_c.data(), in,
                                    dparams_c.data(), 0) == FASTFOOD_OK);
    }
    CHECK(params == params_c);
    CHECK(y == y_c);
    CHECK(dx == dx_c);
    CHECK(dparams == dparams_c);

    // Pointer + size through Span: same results, sizes checked.
    std::vector<T> y_span(y.size());
    fastfood::Span<T> y_view{y_span.data(), y_span.size()};
    layer.forward(fastfood::Span<const T>{params.data(), params.size()}, fastfood::Span<const T>{x.data(), x.size()},
                  y_view, batch);
    CHECK(y_span == y);
    fastfood::Span<T> too_short{y_span.data(), y_span.size() - 1};
    CHECK_THROWS(layer.forward(params, x, too_short, batch), FASTFOOD_ERROR_INVALID_ARGUMENT, "batch * out_features");

    // Partial outputs and accumulation.
    std::vector<T> dparams2(params.size()), dx2(dx.size());
    layer.backward_params(params, x, dy, dparams2, batch);
    CHECK(dparams2 == dparams);
    layer.backward_input(params, dy, dx2, batch);
    CHECK(dx2 == dx);
    layer.backward_params(params, x, dy, dparams2, batch, /*accumulate*/ true);
    bool doubled = true;
    for (std::size_t i = 0; i < dparams.size(); i++) doubled &= dparams2[i] == dparams[i] + dparams[i];
    CHECK(doubled);

    // Size checks: invalid argument, nothing written.
    std::vector<T> short_y(batch * out - 1, T(7));
    CHECK_THROWS(layer.forward(params, x, short_y, batch), FASTFOOD_ERROR_INVALID_ARGUMENT, "batch * out_features");
    CHECK(short_y[0] == T(7));
    std::vector<T> short_params(params.size() - 1);
    CHECK_THROWS(layer.init_params(short_params, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "param_count()");
    std::vector<T> short_dx(batch * in - 1, T(7));
    CHECK_THROWS(layer.backward(params, x, dy, short_dx, dparams, batch), FASTFOOD_ERROR_INVALID_ARGUMENT,
                 "dx must hold");
    CHECK_THROWS(layer.backward_input(params, dy, short_dx, batch), FASTFOOD_ERROR_INVALID_ARGUMENT, "dx must hold");
    CHECK(short_dx[0] == T(7));
    // Errors from the library itself keep its message.
    CHECK_THROWS(layer.init_params(params, 1, -1.0), FASTFOOD_ERROR_INVALID_ARGUMENT, "sigma (-1.0)");
    CHECK_THROWS(layer.forward(params.data(), batch, x.data(), in - 1, y.data(), out), FASTFOOD_ERROR_INVALID_ARGUMENT,
                 "ldx (99) is smaller than in_features (100)");
}

// The random-feature calls: container and pointer forms equal the C calls bit for bit, the
// from-phi backward equals the recomputing one to rounding, sizes and library errors throw.
template <class T>
static void features_with_c() {
    const std::size_t in = 100, out = 300, batch = 5, width = 2 * out;
    fastfood::Layer layer(in, out, 12, true);
    CHECK(layer.feature_count() == width);
    std::vector<T> params(layer.param_count()), x(batch * in), phi(batch * width), dphi(batch * width);
    std::vector<T> dx(batch * in), dparams(params.size());
    layer.init_params_preset(params.data(), FASTFOOD_INIT_RBF, 5, 10.0);
    for (std::size_t i = 0; i < x.size(); i++) x[i] = T(0.03) * T(i % 89) - T(1.2);
    for (std::size_t i = 0; i < dphi.size(); i++) dphi[i] = T(0.02) * T(i % 37) - T(0.35);
    layer.features_forward(params, x, phi, batch);
    layer.features_backward(params, x, dphi, dx, dparams, batch);
    std::vector<T> dx_phi(dx.size()), dparams_phi(params.size());
    layer.features_backward_from_phi(params, x, phi, dphi, dx_phi, dparams_phi, batch);

    std::vector<T> phi_c(phi.size()), dx_c(dx.size()), dparams_c(params.size());
    std::vector<T> dx_phi_c(dx.size()), dparams_phi_c(params.size());
    if constexpr (std::is_same_v<T, float>) {
        CHECK(fastfood_features_forward_f32(layer.get(), params.data(), batch, x.data(), in, phi_c.data(), width) ==
              FASTFOOD_OK);
        CHECK(fastfood_features_backward_f32(layer.get(), params.data(), batch, x.data(), in, dphi.data(), width,
                                             dx_c.data(), in, dparams_c.data(), 0) == FASTFOOD_OK);
        CHECK(fastfood_features_backward_from_phi_f32(layer.get(), params.data(), batch, x.data(), in, phi.data(), width,
                                                      dphi.data(), width, dx_phi_c.data(), in, dparams_phi_c.data(),
                                                      0) == FASTFOOD_OK);
    } else {
        CHECK(fastfood_features_forward_f64(layer.get(), params.data(), batch, x.data(), in, phi_c.data(), width) ==
              FASTFOOD_OK);
        CHECK(fastfood_features_backward_f64(layer.get(), params.data(), batch, x.data(), in, dphi.data(), width,
                                             dx_c.data(), in, dparams_c.data(), 0) == FASTFOOD_OK);
        CHECK(fastfood_features_backward_from_phi_f64(layer.get(), params.data(), batch, x.data(), in, phi.data(), width,
                                                      dphi.data(), width, dx_phi_c.data(), in, dparams_phi_c.data(),
                                                      0) == FASTFOOD_OK);
    }
    CHECK(phi == phi_c);
    CHECK(dx == dx_c && dparams == dparams_c);
    CHECK(dx_phi == dx_phi_c && dparams_phi == dparams_phi_c);
    // The two backwards agree to rounding (they differ only in how cos z and sin z are had).
    double largest = 0, worst = 0;
    for (std::size_t i = 0; i < params.size(); i++) {
        largest = std::max(largest, std::fabs(double(dparams[i])));
        worst = std::max(worst, std::fabs(double(dparams[i]) - double(dparams_phi[i])));
    }
    CHECK(largest > 0 && worst <= (std::is_same_v<T, float> ? 1e-5 : 1e-13) * largest);

    // Pointer forms: dx only from phi (x not needed), accumulation, and one row at a time.
    std::vector<T> dx_only(dx.size());
    layer.features_backward_from_phi(params.data(), batch, static_cast<const T *>(nullptr), in, phi.data(), width,
                                     dphi.data(), width, dx_only.data(), in, static_cast<T *>(nullptr));
    CHECK(dx_only == dx_phi);
    std::vector<T> twice = dparams;
    layer.features_backward(params.data(), batch, x.data(), in, dphi.data(), width, static_cast<T *>(nullptr), in,
                            twice.data(), FASTFOOD_ACCUMULATE);
    bool doubled = true;
    for (std::size_t i = 0; i < twice.size(); i++) doubled &= twice[i] == dparams[i] + dparams[i];
    CHECK(doubled);
    std::vector<T> row(width);
    layer.features_forward(params.data(), 1, x.data() + 2 * in, in, row.data(), width);
    CHECK(std::equal(row.begin(), row.end(), phi.begin() + 2 * width));

    // Sizes are checked before the call; the library's own errors keep its message.
    std::vector<T> short_phi(batch * width - 1, T(7));
    CHECK_THROWS(layer.features_forward(params, x, short_phi, batch), FASTFOOD_ERROR_INVALID_ARGUMENT,
                 "phi must hold batch * 2 * out_features");
    CHECK(short_phi[0] == T(7));
    CHECK_THROWS(layer.features_backward(params, x, short_phi, dx, dparams, batch), FASTFOOD_ERROR_INVALID_ARGUMENT,
                 "dphi must hold batch * 2 * out_features");
    CHECK_THROWS(layer.features_backward_from_phi(params, x, phi, short_phi, dx, dparams, batch),
                 FASTFOOD_ERROR_INVALID_ARGUMENT, "dphi must hold batch * 2 * out_features");
    CHECK_THROWS(layer.features_forward(params.data(), batch, x.data(), in, phi.data(), width - 1),
                 FASTFOOD_ERROR_INVALID_ARGUMENT, "ldphi");
    CHECK_THROWS(layer.features_backward_from_phi(params.data(), batch, x.data(), in, static_cast<const T *>(nullptr),
                                                  width, dphi.data(), width, dx.data(), in, dparams.data()),
                 FASTFOOD_ERROR_NULL_POINTER, "phi");
}

int main() {
    CHECK(fastfood::version_number() == FASTFOOD_VERSION_NUMBER);
    CHECK(fastfood::version() == FASTFOOD_VERSION_STRING);
    CHECK(!fastfood::cpu_variant().empty());

    // Construction errors throw with the status and the message.
    CHECK_THROWS(fastfood::Layer(0, 4, 1), FASTFOOD_ERROR_INVALID_ARGUMENT, "in_features is 0");
    CHECK_THROWS(fastfood::Layer(4, SIZE_MAX, 1), FASTFOOD_ERROR_SIZE_OVERFLOW, "out_features");

    // Queries and moves.
    fastfood::Layer a(100, 300, 42, true);
    CHECK(a.in_features() == 100 && a.out_features() == 300 && a.block_size() == 128 && a.num_blocks() == 3);
    CHECK(a.param_count() == 3 * 384 + 300 && a.has_bias() && a.seed() == 42);
    CHECK(a.permutation().size() == 384);
    const fastfood_layer *handle = a.get();
    fastfood::Layer b(std::move(a));
    CHECK(b.get() == handle && a.get() == nullptr);
    CHECK(a.param_count() == 0); // a moved-from layer answers like a NULL handle
    fastfood::Layer c(8, 8, 1);
    c = std::move(b);
    CHECK(c.get() == handle && b.get() == nullptr);
    CHECK(c.in_features() == 100);
    fastfood::Layer &same = c;
    c = std::move(same); // moving a layer onto itself keeps it
    CHECK(c.get() == handle && c.in_features() == 100);

    compare_with_c<float>();
    compare_with_c<double>();
    features_with_c<float>();
    features_with_c<double>();

    // Training mode, presets and saving through the wrapper.
    {
        fastfood::Layer t(20, 50, 4, true);
        std::vector<double> p(t.param_count()), x(3 * 20, 0.25), y(3 * 50), y2(3 * 50), dp(p.size());
        t.init_params_preset(p.data(), FASTFOOD_INIT_VARIANCE, 1, 1.0);
        fastfood::Layer::Dropout none;
        t.forward_train(p.data(), 3, x.data(), 20, y.data(), 50, none);
        t.forward(p, x, y2, 3);
        CHECK(y == y2); // rates 0: the plain forward
        fastfood::Layer::Dropout drop{0.1, 0.2, 0.3, 9, 1};
        t.forward_train(p.data(), 3, x.data(), 20, y.data(), 50, drop);
        t.backward_train(p.data(), 3, x.data(), 20, y.data(), 50, nullptr, 20, dp.data(), FASTFOOD_SKIP_GRAD_B, drop);
        CHECK_THROWS(t.forward_train(p.data(), 3, x.data(), 20, y.data(), 50, fastfood::Layer::Dropout{1.5, 0, 0, 0, 0}),
                     FASTFOOD_ERROR_INVALID_ARGUMENT, "drop_input");
        auto bytes = t.save(p.data());
        std::vector<double> q;
        fastfood::Layer u = fastfood::Layer::load(bytes.data(), bytes.size(), q);
        CHECK(q == p && u.seed() == 4 && u.in_features() == 20);
        std::vector<float> wrong;
        CHECK_THROWS(fastfood::Layer::load(bytes.data(), bytes.size(), wrong), FASTFOOD_ERROR_INVALID_ARGUMENT, "other element type");
        bytes[70] ^= 1;
        CHECK_THROWS(fastfood::Layer::load(bytes.data(), bytes.size(), q), FASTFOOD_ERROR_BAD_FORMAT, "checksum");
        t.save_file(p.data(), "/tmp/fastfood_cpp_test.layer");
        fastfood::Layer v = fastfood::Layer::load_file("/tmp/fastfood_cpp_test.layer", q);
        CHECK(q == p && v.out_features() == 50);
        std::remove("/tmp/fastfood_cpp_test.layer");
    }

    // FWHT: applying it twice multiplies by n.
    std::array<double, 8> v{1, 2, 3, 4, 5, 6, 7, 8};
    fastfood::fwht(v.data(), v.size());
    fastfood::fwht(v.data(), v.size());
    CHECK(v[0] == 8 && v[7] == 64);
    CHECK_THROWS(fastfood::fwht(v.data(), 6), FASTFOOD_ERROR_INVALID_ARGUMENT, "not a power of two");
    // Packed vectors with a count alone; a stride as given (0 for several vectors is refused).
    std::array<double, 24> packed{}, strided{};
    for (std::size_t i = 0; i < packed.size(); i++) packed[i] = strided[i] = static_cast<double>(i % 7) - 3;
    fastfood::fwht(packed.data(), 8, 3);
    for (std::size_t k = 0; k < 3; k++) fastfood::fwht(strided.data() + 8 * k, 8);
    CHECK(packed == strided);
    fastfood::fwht(packed.data(), 4, 3, 8); // the first 4 of each 8
    for (std::size_t k = 0; k < 3; k++) fastfood::fwht(strided.data() + 8 * k, 4);
    CHECK(packed == strided);
    CHECK_THROWS(fastfood::fwht(packed.data(), 8, 3, 0), FASTFOOD_ERROR_INVALID_ARGUMENT, "stride");

    // Threads.
    std::size_t threads = fastfood::num_threads();
    fastfood::set_num_threads(1);
    CHECK(fastfood::num_threads() == 1);
    CHECK_THROWS(fastfood::set_num_threads(100000), FASTFOOD_ERROR_INVALID_ARGUMENT, "n (100000)");
    fastfood::set_num_threads(threads);

    return report();
}
