#!/usr/bin/env bash
# Compiles and runs every complete C example of README.md (each ```c block with a main function)
# against the built library, so the README's code stays true. Each must exit with status 0. Also
# checks that the README opens with its two commands for a fresh machine (make demo, make test)
# and that the library file names it gives carry the header's version.
# Usage: readme_example.sh README.md build-dir "cc and flags"
set -u
readme=$1
build=$2
cc=$3
mkdir -p "$build/readme"
awk -v dir="$build/readme" '
    /^```c$/ { inside = 1; n++; file = sprintf("%s/example_%d.c", dir, n); printf "" > file; next }
    /^```$/ { if (inside) close(file); inside = 0; next }
    inside { print >> file }' "$readme"
passed=0; failed=0; examples=0
for source in "$build"/readme/example_*.c; do
    grep -q "int main" "$source" || continue
    examples=$((examples + 1))
    binary=${source%.c}
    if $cc -Iinclude "$source" -o "$binary" -L"$build/lib" -lfastfood -Wl,-rpath,"$(cd "$build/lib" && pwd)" \
       && "$binary"; then
        passed=$((passed + 1)); echo "ok   README example $(basename "$source")"
    else
        failed=$((failed + 1)); echo "FAIL README example $(basename "$source")"
    fi
done
# A fresh machine runs the README's first two commands and nothing else: they must open it.
if head -n 6 "$readme" | awk 'NR == 1 && $0 != "# fastfood" { bad = 1 } NR == 2 && $0 != "" { bad = 1 }
        NR == 3 && $0 != "```sh" { bad = 1 } NR == 4 && $1 " " $2 != "make demo" { bad = 1 }
        NR == 5 && $1 " " $2 != "make test" { bad = 1 } NR == 6 && $0 != "```" { bad = 1 } END { exit bad || NR < 6 }'; then
    passed=$((passed + 1)); echo "ok   README opens with make demo and make test"
else
    failed=$((failed + 1)); echo "FAIL README does not open with '# fastfood' and a sh block of make demo, make test"
fi
# The file names the README gives for the built and installed library carry this version (they
# said 1.0.0 and 1.2.1 for a while after the 1.3 releases).
version=$(sed -n 's/^#define FASTFOOD_VERSION_STRING "\(.*\)"/\1/p' include/fastfood.h)
stale=$(grep -o 'libfastfood\.so\.[0-9]*\.[0-9]*\.[0-9]*' "$readme" | grep -vx "libfastfood.so.$version" | sort -u)
if [ -n "$version" ] && grep -q "libfastfood\.so\.$version" "$readme" && [ -z "$stale" ]; then
    passed=$((passed + 1)); echo "ok   README names libfastfood.so.$version, the header's version"
else
    failed=$((failed + 1))
    echo "FAIL README's library file names do not match the header's version '$version':" $stale
fi
[ "$examples" -gt 0 ] || { echo "FAIL no complete C example found in $readme"; failed=$((failed + 1)); }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
