#!/usr/bin/env bash
# Checks that the public headers compile without a single warning in the settings users build
# with: fastfood.h as every C standard from C89 and every C++ standard from C++98, and the C++
# wrapper fastfood.hpp as C++17 on, each under strict warnings (-Werror) with gcc and clang, and
# clang's -Wdocumentation, which reads the headers' /** */ comments as Doxygen and warns on a
# @param that names no parameter (until 1.4.6, "@param seed, step" and four like it made a
# -Werror -Wdocumentation build of any file including fastfood.h fail).
# Usage: check_header.sh include-dir cpp-binding-dir
# Compilers: cc / c++ (gcc on Debian) and clang / clang++ from PATH or /opt/swift/usr/bin (the
# Swift toolchain's; the library's build needs it anyway). A missing compiler is a failure.
set -u
include=$1
cpp_include=$2
passed=0
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

clang=$(command -v clang || echo /opt/swift/usr/bin/clang)
clangxx=$(command -v clang++ || echo /opt/swift/usr/bin/clang++)

# Uses every declaration's types, so a header that only parses is not enough.
cat > "$work/c_user.c" <<'EOF'
#include <fastfood.h>
int main(void) {
    fastfood_layer *layer = NULL;
    fastfood_status status = fastfood_layer_create(4, 8, 1, FASTFOOD_LAYER_NORMALIZED, &layer);
    fastfood_layer_destroy(layer);
    return status == FASTFOOD_OK ? 0 : 1;
}
EOF
cp "$work/c_user.c" "$work/cxx_user.cpp"
cat > "$work/hpp_user.cpp" <<'EOF'
#include <fastfood.hpp>
#include <vector>
int main() {
    fastfood::Layer layer(4, 8, 1, true);
    std::vector<float> params(layer.param_count()), x(4), y(8);
    layer.init_params(params, 7);
    layer.forward(params, x, y, 1);
    return y.size() == 8 ? 0 : 1;
}
EOF

C_STRICT="-Wall -Wextra -pedantic -Wstrict-prototypes -Wmissing-prototypes -Wundef -Wshadow -Wconversion -Wsign-conversion"
CXX_STRICT="-Wall -Wextra -pedantic -Wundef -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast -Wnon-virtual-dtor"

compiles() { # description, then the command; prints the compiler's words on failure
    local name=$1; shift
    if "$@" > "$work/log" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
    else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/  /' "$work/log" | head -n 20; fi
}

for std in c89 c99 c11 c17; do
    compiles "fastfood.h, gcc -std=$std strict" cc -std=$std $C_STRICT -Werror -I"$include" -fsyntax-only "$work/c_user.c"
    compiles "fastfood.h, clang -std=$std strict + -Wdocumentation" "$clang" -std=$std $C_STRICT \
        -Wdocumentation -Wdocumentation-unknown-command -Werror -I"$include" -fsyntax-only "$work/c_user.c"
done
for std in c++98 c++11 c++17 c++20; do
    compiles "fastfood.h, g++ -std=$std strict" c++ -std=$std $CXX_STRICT -Wzero-as-null-pointer-constant -Werror \
        -I"$include" -fsyntax-only "$work/cxx_user.cpp"
    compiles "fastfood.h, clang++ -std=$std strict + -Wdocumentation" "$clangxx" -std=$std $CXX_STRICT \
        -Wdocumentation -Wdocumentation-unknown-command -Werror -I"$include" -fsyntax-only "$work/cxx_user.cpp"
done
for std in c++17 c++20; do
    compiles "fastfood.hpp, g++ -std=$std strict" c++ -std=$std $CXX_STRICT -Wzero-as-null-pointer-constant -Werror \
        -I"$include" -I"$cpp_include" -fsyntax-only "$work/hpp_user.cpp"
    compiles "fastfood.hpp, clang++ -std=$std strict + -Wdocumentation" "$clangxx" -std=$std $CXX_STRICT \
        -Wdocumentation -Wdocumentation-unknown-command -Werror -I"$include" -I"$cpp_include" \
        -fsyntax-only "$work/hpp_user.cpp"
done

echo "check_header: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
