#!/usr/bin/env bash
# Installs the library into a temporary prefix and builds two consumers with nothing but the
# installed files: a C program through pkg-config and a C++ program through CMake's
# find_package(fastfood) + fastfood::fastfood. Also checks a DESTDIR-staged install and that
# uninstall removes everything.
# Usage: run.sh build-dir "make command"
set -u
build=$(cd "$1" && pwd)
make_cmd=$2
here=$(cd "$(dirname "$0")" && pwd)
# The version is defined once, in the header.
version=$(sed -n 's/^#define FASTFOOD_VERSION_STRING "\(.*\)"/\1/p' "$here/../../include/fastfood.h")
passed=0; failed=0
check() { local name=$1; shift; if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi; }

prefix="$build/install-test/usr"
rm -rf "$build/install-test"
$make_cmd --no-print-directory install PREFIX="$prefix" > "$build/install-test.log" 2>&1
check "make install into $prefix" test -f "$prefix/lib/libfastfood.so.$version"
check "SONAME and development symlinks" \
    bash -c "[ \"\$(readlink '$prefix/lib/libfastfood.so.1')\" = libfastfood.so.$version ] && [ \"\$(readlink '$prefix/lib/libfastfood.so')\" = libfastfood.so.1 ]"
check "headers installed" test -f "$prefix/include/fastfood.h" -a -f "$prefix/include/fastfood.hpp" -a -f "$prefix/include/fastfood_linear.h"
check "pkg-config knows the version" \
    bash -c "[ \"\$(PKG_CONFIG_PATH='$prefix/lib/pkgconfig' pkg-config --modversion fastfood)\" = $version ]"

# C through pkg-config
flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs fastfood)
check "C consumer builds with pkg-config" \
    cc -std=c11 -Wall -Werror "$here/consumer.c" -o "$build/install-test/consumer_c" $flags -Wl,-rpath,"$prefix/lib"
check "C consumer runs" "$build/install-test/consumer_c"

# C++ through CMake
cmake_build="$build/install-test/cmake"
check "CMake configure finds fastfood 1.0" \
    bash -c "cmake -S '$here/cmake' -B '$cmake_build' -DCMAKE_PREFIX_PATH='$prefix' -DCMAKE_BUILD_TYPE=Release \
             -DCMAKE_BUILD_RPATH='$prefix/lib' -Wno-dev > '$build/install-test/cmake.log' 2>&1"
check "C++ consumer builds with fastfood::fastfood" \
    bash -c "cmake --build '$cmake_build' >> '$build/install-test/cmake.log' 2>&1"
check "C++ consumer runs" "$cmake_build/consumer"
mkdir -p "$build/install-test/v2"
sed 's/find_package(fastfood 1.0 REQUIRED)/find_package(fastfood 2.0 REQUIRED)/' "$here/cmake/CMakeLists.txt" > "$build/install-test/v2/CMakeLists.txt"
cp "$here/cmake/main.cpp" "$build/install-test/v2/"
check "find_package(fastfood 2.0) fails against $version" \
    bash -c "! cmake -S '$build/install-test/v2' -B '$build/install-test/v2/build' -DCMAKE_PREFIX_PATH='$prefix' > /dev/null 2>&1"

# DESTDIR staging: files land under DESTDIR, pointing at the final prefix
stage="$build/install-test/stage"
$make_cmd --no-print-directory install DESTDIR="$stage" PREFIX=/opt/fastfood >> "$build/install-test.log" 2>&1
check "DESTDIR install stages under DESTDIR" test -f "$stage/opt/fastfood/lib/libfastfood.so.$version"
check "staged pkg-config file names the final prefix" grep -q "^prefix=/opt/fastfood$" "$stage/opt/fastfood/lib/pkgconfig/fastfood.pc"

# uninstall
$make_cmd --no-print-directory uninstall PREFIX="$prefix" >> "$build/install-test.log" 2>&1
check "make uninstall removes every installed file" \
    bash -c "[ -z \"\$(find '$prefix' -type f -o -type l)\" ]"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
