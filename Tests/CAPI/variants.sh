#!/usr/bin/env bash
# Every kernel variant this CPU supports computes bit-identical results: runs test_variants
# under FASTFOOD_CPU=<variant> for each and compares the digests. A variant "-" runs it with
# FASTFOOD_CPU unset; a name this CPU does not run (or no variant's) must give the widest
# variant, which test_variants checks, and the same digest. "<variant>+stream" runs it with
# FASTFOOD_STREAM_BYTES=0 too: every output of the tile path through non-temporal stores.
# Usage: variants.sh path/to/test_variants variant...
set -u
program=$1; shift
reference=""
passed=0; failed=0
for variant in "$@"; do
    if [ "$variant" = - ]; then line=$(env -u FASTFOOD_CPU "$program")
    elif [ "${variant%+stream}" != "$variant" ]; then line=$(FASTFOOD_CPU=${variant%+stream} FASTFOOD_STREAM_BYTES=0 "$program")
    else line=$(FASTFOOD_CPU=$variant "$program"); fi || { echo "FAIL $variant: $line"; failed=$((failed + 1)); continue; }
    echo "$line"
    digest=${line#* }
    if [ -z "$reference" ]; then reference=$digest; passed=$((passed + 1))
    elif [ "$digest" = "$reference" ]; then passed=$((passed + 1))
    else echo "FAIL $variant differs from $1"; failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
