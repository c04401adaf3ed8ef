#!/usr/bin/env bash
# The AVX-512 kernels on a machine without AVX-512: boots a small Linux in the Bochs emulator as
# an Intel Skylake-X (AVX-512 F/CD/BW/DQ/VL) and runs there, from this build:
#   - test_variants under generic, avx2 and avx512: the three digests must be equal;
#   - the C API tests, test_cpp and the two examples with FASTFOOD_CPU=avx512.
# The library picks avx512 on most x86 servers (Intel Xeon since Skylake, AMD Zen 4 and 5), so a
# change to the kernels made on an AVX2-only machine should pass this before it lands.
# `make test` runs the variants natively; this is `make test-avx512-emulated` (about 20 minutes
# on 2 cores: the emulator runs the programs several hundred times slower than the host CPU).
#
# Usage: Tests/Emulated/avx512.sh BUILD_DIR TEST...
#   BUILD_DIR: the build folder (lib/libfastfood.so.1, bin/test_*). Work files go to
#   BUILD_DIR/emulated. Packages: tools/install-deps.sh emulator.
#   TEST...: the test programs (in BUILD_DIR/bin) to run under avx512; the Makefile passes its C
#   tests and test_cpp, so a new test runs here too. test_variants always runs, under all three
#   variants (not under avx512 alone when it is named).
#   FASTFOOD_EMULATOR_KERNEL=path/to/vmlinuz uses that kernel instead of downloading one.
#
# Two quirks of Bochs 2.7 (Debian 12's) decide the kernel and its command line:
#   - its CPUID leaf 0xD gives the AVX-512 state components offsets that do not add up to the
#     size it reports; Linux 6.1 (Debian 12's) then turns XSAVE off ("XSAVE consistency problem"),
#     and with it AVX. Linux 5.10 only warns, so this uses Debian 11's 5.10 kernel.
#   - its compacted XSAVES now and then zeroes vector registers across a context switch (seen:
#     single values wrong at random places, in C code as much as in the library). `noxsaves`
#     makes Linux use the standard format, with which every test passes.
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR TEST...}
shift
[ $# -gt 0 ] || { echo "usage: $0 BUILD_DIR TEST..." >&2; exit 2; }
build=$(cd "$build" && pwd)
work=$build/emulated
root=$work/root
iso=$work/iso
mkdir -p "$work"

tests=()
for program in "$@"; do [ "$program" = test_variants ] || tests+=("$program"); done
examples=(gradient_check fc_replacement)
for program in test_variants "${tests[@]}" "${examples[@]}"; do
    [ -x "$build/bin/$program" ] || { echo "missing $build/bin/$program (make test-c test-bindings examples)" >&2; exit 2; }
done
for tool in bochs-bin busybox xorriso cpio curl xz; do
    command -v "$tool" >/dev/null || { echo "missing $tool: tools/install-deps.sh emulator" >&2; exit 2; }
done
isolinux=/usr/lib/ISOLINUX/isolinux.bin
ldlinux=/usr/lib/syslinux/modules/bios/ldlinux.c32
[ -f "$isolinux" ] && [ -f "$ldlinux" ] || { echo "missing isolinux: tools/install-deps.sh emulator" >&2; exit 2; }

# The kernel: Debian 11's linux-image-5.10.0-*-amd64, from the mirror or, once Debian has moved
# that release, from its archive.
kernel=${FASTFOOD_EMULATOR_KERNEL:-$work/vmlinuz-5.10}
if [ ! -f "$kernel" ]; then
    found=""
    for mirror in http://deb.debian.org/debian http://archive.debian.org/debian; do
        if curl -fsS -m 120 "$mirror/dists/bullseye/main/binary-amd64/Packages.xz" -o "$work/Packages.xz"; then
            file=$(xz -dc "$work/Packages.xz" | awk '
                /^Package: linux-image-5\.10\.0-[0-9]+-amd64$/ { take = 1; next }
                /^Package:/ { take = 0 }
                take && /^Filename:/ { last = $2 }
                END { print last }')
            if [ -n "$file" ] && curl -fsS -m 600 "$mirror/$file" -o "$work/kernel.deb"; then found=$file; break; fi
        fi
    done
    [ -n "$found" ] || { echo "could not download a 5.10 kernel; set FASTFOOD_EMULATOR_KERNEL" >&2; exit 2; }
    rm -rf "$work/kernel"
    dpkg-deb -x "$work/kernel.deb" "$work/kernel"
    cp "$work"/kernel/boot/vmlinuz-5.10.* "$kernel"
    rm -rf "$work/kernel" "$work/kernel.deb" "$work/Packages.xz"
    echo "kernel: $found"
fi

# The initramfs: busybox, the C runtime the programs need, the library (without debug info) and
# the programs; /init runs them and powers off.
rm -rf "$root" "$iso"
mkdir -p "$root"/{bin,lib,lib64,t,proc,sys,dev,tmp} "$iso/isolinux"
cp "$(command -v busybox)" "$root/bin/busybox"
for library in libc.so.6 libm.so.6 libstdc++.so.6 libgcc_s.so.1; do
    cp -L "/lib/x86_64-linux-gnu/$library" "$root/lib/"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
strip --strip-debug -o "$root/lib/libfastfood.so.1" "$build/lib/libfastfood.so.1"
for program in test_variants "${tests[@]}" "${examples[@]}"; do cp "$build/bin/$program" "$root/t/"; done
{
    echo '#!/bin/busybox sh'
    echo '/bin/busybox --install -s /bin'
    echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null'
    echo 'export LD_LIBRARY_PATH=/lib; cd /t'
    echo 'echo "@@ cpu$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2)"'
    echo 'for v in generic avx2 avx512; do echo "@@ variant $(FASTFOOD_CPU=$v ./test_variants 2>&1)"; done'
    echo 'run() { FASTFOOD_CPU=avx512 "$@" > /tmp/out 2>&1; rc=$?; grep -E "FAIL|SKIP" /tmp/out | head -20; echo "@@ rc $rc $* ($(grep -E "passed|gradient check" /tmp/out | tail -1))"; }'
    for program in "${tests[@]}"; do echo "run ./$program"; done
    echo 'run ./gradient_check'
    echo 'run ./fc_replacement --quiet'
    echo 'echo "@@ done"'
    echo 'sleep 1; poweroff -f'
} > "$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$iso/initrd.gz")
cp "$kernel" "$iso/vmlinuz"
cp "$isolinux" "$ldlinux" "$iso/isolinux/"
cat > "$iso/isolinux/isolinux.cfg" <<'EOF'
DEFAULT linux
PROMPT 0
LABEL linux
  KERNEL /vmlinuz
  APPEND initrd=/initrd.gz console=ttyS0 noxsaves nokaslr mitigations=off quiet
EOF
xorriso -as mkisofs -quiet -o "$work/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
    -no-emul-boot -boot-load-size 4 -boot-info-table "$iso" 2>/dev/null

cat > "$work/bochsrc" <<EOF
megs: 1024
cpu: model=corei7_skylake_x, count=1, ips=300000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$work/serial.txt
display_library: term
log: $work/bochs.log
panic: action=fatal
error: action=ignore
info: action=ignore
debug: action=ignore
clock: sync=none
EOF
# Debian's Bochs is built with its debugger, which waits at a prompt: "c" continues. Its
# terminal display needs a terminal, which `script` provides.
echo c > "$work/debugger"
rm -f "$work/serial.txt"
echo "booting the emulated Skylake-X (output: $work/serial.txt)"
# Its own session (setsid): the debugger stops the emulation on a signal from the caller's
# terminal; the trap ends it whenever this script ends.
setsid timeout 5400 script -q -c "TERM=xterm bochs-bin -q -f $work/bochsrc -rc $work/debugger" /dev/null \
    > "$work/terminal.txt" 2>&1 < /dev/null &
emulator=$!
drain=""
cleanup() {
    pkill -f "bochs-bin -q -f $work/bochsrc" 2>/dev/null || true
    [ -z "$drain" ] || kill "$drain" 2>/dev/null || true
}
trap cleanup EXIT
# The terminal display draws the screen into a pseudo-terminal of its own ("Bochs connected to
# screen /dev/pts/N"). Nothing reads it, so after some minutes its buffer is full and the whole
# emulation stops in a write: read it.
for _ in $(seq 60); do
    screen=$(tr -cd '[:print:]\n' < "$work/terminal.txt" | sed -n 's#.*connected to screen "\(/dev/pts/[0-9]*\)".*#\1#p' | head -1)
    [ -n "$screen" ] && break
    sleep 1
done
[ -n "$screen" ] || { echo "FAIL: Bochs did not start (see $work/terminal.txt)"; exit 1; }
cat "$screen" > /dev/null 2>&1 &
drain=$!
while kill -0 "$emulator" 2>/dev/null && ! grep -q "^@@ done" "$work/serial.txt" 2>/dev/null; do sleep 5; done
sleep 2
cleanup
wait "$emulator" 2>/dev/null || true

# The guest's console, read once, without its carriage returns.
output=$( { tr -d '\r' < "$work/serial.txt"; } 2>/dev/null || true)
grep -v '^\[ *[0-9.]*\]' <<< "$output" | grep -v '^$' || true
grep -q "^@@ done" <<< "$output" || { echo "FAIL: the emulated run did not finish (see $work)"; exit 1; }
failed=0
digests=$(sed -n 's/^@@ variant \(generic\|avx2\|avx512\) \([0-9a-f]\{16\}\)$/\2/p' <<< "$output")
if [ "$(echo "$digests" | wc -l)" -ne 3 ] || [ "$(echo "$digests" | sort -u | wc -l)" -ne 1 ]; then
    echo "FAIL: the three variants' digests are not all present and equal"; failed=1
fi
if grep "^@@ rc" <<< "$output" | grep -qv "^@@ rc 0 "; then
    echo "FAIL: a program failed under avx512"; failed=1
fi
[ "$failed" -eq 0 ] && echo "avx512 (emulated Skylake-X): the variants agree and every program passed"
exit "$failed"
