#!/usr/bin/env bash
# Compiles and runs the first C example of README.md against the built library, so the README's
# code stays true. Usage: readme_example.sh README.md build-dir "cc and flags"
set -euo pipefail
readme=$1
build=$2
cc=$3
source="$build/readme_example.c"
awk '/^```c$/ { inside = 1; next } /^```$/ { if (inside) exit } inside { print }' "$readme" > "$source"
[ -s "$source" ] || { echo "FAIL no C example found in $readme"; exit 1; }
$cc -Iinclude "$source" -o "$build/bin/readme_example" -L"$build/lib" -lfastfood \
    -Wl,-rpath,"$(cd "$build/lib" && pwd)"
output=$("$build/bin/readme_example")
echo "$output"
case "$output" in
    "y[5] = "*", dS[5] = "*) echo "README example ran" ;;
    *) echo "FAIL README example printed something unexpected"; exit 1 ;;
esac
