// A C++ program built only from the installed files, through find_package(fastfood).
#include <fastfood.hpp>

#include <cstdio>
#include <vector>

int main() {
    fastfood::Layer layer(10, 20, 1, true);
    std::vector<double> params(layer.param_count()), x(10, 0.5), y(20);
    layer.init_params(params, 2);
    layer.forward(params, x, y, 1);
    try {
        fastfood::Layer bad(0, 1, 1);
        return 1;
    } catch (const fastfood::Error &e) {
        std::printf("CMake consumer: fastfood %s, y[0] = %g, error as expected: %s\n",
                    fastfood::version().c_str(), y[0], e.what());
    }
    return 0;
}
