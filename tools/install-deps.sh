#!/usr/bin/env bash
# Installs the Debian packages `make test` and `make demo` need, when they are missing.
#   tools/install-deps.sh test    everything make test uses
#   tools/install-deps.sh demo    what make demo uses
#   tools/install-deps.sh emulator   what make test-avx512-emulated uses
# As root it runs apt-get; otherwise it stops and prints the one command to run.
# Swift itself comes with the machine (/opt/swift).
set -euo pipefail
what=${1:-test}

# C and C++ toolchains and make for the library, examples and tests; zlib for the MNIST
# examples' gzip files; OpenBLAS for the dense baselines (bench, MNIST example).
demo=(make gcc g++ libc6-dev binutils zlib1g-dev libopenblas-dev)
# Tests also use: nm/readelf (binutils), pkg-config and cmake for the consumers of an installed
# copy, valgrind, libffi-dev for the ABI conformance test, libtorch-dev for the libtorch binding
# and the LeNet example (Debian makes it depend on python3-dev; nothing of ours uses Python and
# libtorch does not link it); libgloo-dev (the headers c10d's Gloo backend needs) and OpenMPI for the
# distributed examples.
test=("${demo[@]}" pkg-config cmake valgrind libffi-dev libtorch-dev libgloo-dev libopenmpi-dev openmpi-bin)
# make test-avx512-emulated (not part of make test): the Bochs emulator with its BIOS and terminal
# display, and what Tests/Emulated/avx512.sh builds a bootable initramfs image from.
emulator=(bochs bochs-term bochsbios vgabios busybox-static isolinux syslinux-common xorriso cpio curl xz-utils)
case "$what" in
    demo) packages=("${demo[@]}") ;;
    test) packages=("${test[@]}") ;;
    emulator) packages=("${emulator[@]}") ;;
    *) echo "usage: $0 demo|test|emulator" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "run:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
echo "installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
