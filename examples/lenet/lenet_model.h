// lenet_model.h - Caffe's LeNet and its deep fried variants (ip1 replaced by FastfoodLinear), as
// in the paper's Table 1; shared by lenet_mnist.cpp and distributed/lenet_gloo.cpp.
#ifndef FASTFOOD_EXAMPLES_LENET_MODEL_H
#define FASTFOOD_EXAMPLES_LENET_MODEL_H

#include <fastfood_linear.h>

extern "C" {
#include "mnist_idx.h"
}

#include <string>
#include <vector>

using fastfood_torch::FastfoodLinear;
using fastfood_torch::FastfoodLinearOptions;

struct ModelSpec {
    std::string name, label;
    int features;     // 0: the dense reference
    bool adaptive, dropout;
    double paper_error;
    int64_t paper_weights;
};

inline const std::vector<ModelSpec> all_models = {
    {"reference", "Reference (Caffe LeNet)", 0, true, false, 0.87, 430500},
    {"ff1024-nd", "Fastfood 1024 (ND)", 1024, false, false, 0.83, 38821},
    {"aff1024-nd", "Adaptive Fastfood 1024 (ND)", 1024, true, false, 0.86, 38821},
    {"ff2048-nd", "Fastfood 2048 (ND)", 2048, false, false, 0.90, 52124},
    {"aff2048-nd", "Adaptive Fastfood 2048 (ND)", 2048, true, false, 0.92, 52124},
    {"ff1024", "Fastfood 1024", 1024, false, true, 0.71, 38821},
    {"aff1024", "Adaptive Fastfood 1024", 1024, true, true, 0.72, 38821},
    {"ff2048", "Fastfood 2048", 2048, false, true, 0.71, 52124},
    {"aff2048", "Adaptive Fastfood 2048", 2048, true, true, 0.73, 52124},
};

// Dropout inside the transform for the "with dropout" rows: after PI and after S.
inline constexpr double kDropPermuted = 0.1, kDropOutput = 0.3;

struct LeNet : torch::nn::Module {
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
    torch::nn::Linear ip1_dense{nullptr}, ip2{nullptr};
    FastfoodLinear ip1_fastfood{nullptr};

    LeNet(const ModelSpec &spec, int64_t seed) {
        conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 20, 5)));
        conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(20, 50, 5)));
        int64_t hidden = 500;
        if (spec.features == 0) {
            ip1_dense = register_module("ip1", torch::nn::Linear(800, 500));
        } else {
            // The drop-in: FastfoodLinear where torch::nn::Linear(800, 500) was.
            auto options = FastfoodLinearOptions(800, spec.features).seed(seed).dropout_seed(seed + 1);
            if (spec.dropout) options.dropout(0, kDropPermuted, kDropOutput);
            ip1_fastfood = register_module("ip1", FastfoodLinear(options));
            if (!spec.adaptive) { // non-adaptive Fastfood: S, G, B stay as initialised
                for (auto *p : {&ip1_fastfood->S, &ip1_fastfood->G, &ip1_fastfood->B}) p->requires_grad_(false);
            }
            hidden = spec.features;
        }
        ip2 = register_module("ip2", torch::nn::Linear(hidden, 10));
    }

    torch::Tensor forward(torch::Tensor x) {
        x = torch::max_pool2d(conv1(x), 2);
        x = torch::max_pool2d(conv2(x), 2).flatten(1);
        x = ip1_dense ? ip1_dense(x) : ip1_fastfood(x);
        return ip2(torch::relu(x));
    }

    // Weights as the paper counts them: no biases; Fastfood's S, G, B whether trained or not.
    int64_t weight_count() const {
        int64_t n = conv1->weight.numel() + conv2->weight.numel() + ip2->weight.numel();
        return n + (ip1_dense ? ip1_dense->weight.numel() : ip1_fastfood->weight_count());
    }
};

// An MNIST set as tensors (views of its memory: keep the set alive).
inline torch::Tensor images_of(const mnist_set &set) {
    return torch::from_blob(set.images, {static_cast<int64_t>(set.count), 1, 28, 28}, torch::kFloat32);
}
inline torch::Tensor labels_of(const mnist_set &set) {
    return torch::from_blob(set.labels, {static_cast<int64_t>(set.count)}, torch::kInt32).to(torch::kInt64);
}

#endif
