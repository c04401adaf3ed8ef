#!/usr/bin/env bash
# Builds and runs the libtorch binding's tests against an installed copy of the library, found
# through its CMake package, with libtorch found through Debian's libtorch-dev.
# Usage: run_tests.sh build-dir "make command"
set -eu
build=$(cd "$1" && pwd)
make_cmd=$2
here=$(cd "$(dirname "$0")" && pwd)
if ! ls /usr/lib/*/cmake/Torch/TorchConfig.cmake > /dev/null 2>&1 && [ -z "${Torch_DIR:-}" ]; then
    if [ "${CI:-}" = true ]; then
        echo "FAIL Tests/Torch: libtorch not found (.ci/run should have installed libtorch-dev)"
        exit 1
    fi
    echo "SKIP Tests/Torch: libtorch not found; apt-get install libtorch-dev (or set Torch_DIR) to run it"
    exit 0
fi
prefix="$build/torch-prefix"
rm -rf "$prefix"
$make_cmd --no-print-directory install PREFIX="$prefix" > "$build/torch-install.log" 2>&1
cmake -S "$here" -B "$build/torch" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_BUILD_RPATH="$prefix/lib" > "$build/torch-cmake.log" 2>&1 \
    || { cat "$build/torch-cmake.log"; exit 1; }
cmake --build "$build/torch" >> "$build/torch-cmake.log" 2>&1 || { tail -40 "$build/torch-cmake.log"; exit 1; }
"$build/torch/test_fastfood_linear"
