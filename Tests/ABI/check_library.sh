#!/usr/bin/env bash
# Checks the shipped shared library against the public header:
#   - the exported functions are exactly the functions the header declares;
#   - every declaration in the header is preceded by its documentation comment;
#   - no Swift runtime library is needed at run time (static stdlib);
#   - the SONAME is libfastfood.so.1 and the library is linked -z nodelete.
#   - no AVX masked load (vmaskmov) in the code: LLVM makes one of a select between loads inside a
#     loop, and on AMD Zen 3 they made the row backward 4-7x slower (benchmarks/README.md, "Small
#     batches").
#   - no function of the kernel modules reaches (through direct calls) a lookup of generic type
#     metadata in the Swift runtime: an unspecialised generic call across modules makes one per
#     call, which cost a single-row forward + backward about 17% of its instructions until 1.4.0
#     (benchmarks/README.md, "Small batches").
# Usage: check_library.sh path/to/libfastfood.so.X.Y.Z path/to/fastfood.h
set -u
lib=$1
header=$2
passed=0
failed=0
check() { # name, then a command that must succeed
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $name"
    else failed=$((failed + 1)); echo "FAIL $name"; fi
}

declared=$(sed -nE 's/^FASTFOOD_API .*[^a-z0-9_](fastfood_[a-z0-9_]+)\(.*/\1/p' "$header" | sort)
exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sort)

same_sets() {
    if [ "$declared" = "$exported" ]; then return 0; fi
    echo "  declared but not exported:"; comm -23 <(echo "$declared") <(echo "$exported") | sed 's/^/    /'
    echo "  exported but not declared:"; comm -13 <(echo "$declared") <(echo "$exported") | sed 's/^/    /'
    return 1
}
check "exports are exactly the $(echo "$declared" | wc -l) functions declared in the header" same_sets

documented() {
    # The line before each FASTFOOD_API declaration must close a comment.
    awk '/^FASTFOOD_API/ { if (prev !~ /\*\/[[:space:]]*$/) { print "  undocumented: " $0; bad = 1 } }
         { if ($0 !~ /^[[:space:]]*$/) prev = $0 }
         END { exit bad }' "$header"
}
check "every declaration carries a documentation comment" documented

no_swift_runtime() {
    local deps; deps=$(ldd "$lib")
    if echo "$deps" | grep -q 'libswift'; then echo "$deps" | grep libswift | sed 's/^/  /'; return 1; fi
    if echo "$deps" | grep -q 'not found'; then echo "$deps" | grep 'not found' | sed 's/^/  /'; return 1; fi
}
check "no Swift runtime dependency (ldd)" no_swift_runtime

check "SONAME is libfastfood.so.1" \
    bash -c "readelf -d '$lib' | grep -q 'Library soname: \[libfastfood.so.1\]'"
check "linked with -z nodelete" \
    bash -c "readelf -d '$lib' | grep -E 'FLAGS_1' | grep -q NODELETE"

no_masked_loads() {
    local found; found=$(objdump -d --no-show-raw-insn "$lib" | grep -c vmaskmov)
    [ "$found" -eq 0 ] || { echo "  $found vmaskmov instructions (objdump -d | grep vmaskmov)"; return 1; }
}
check "no masked vector loads (vmaskmov)" no_masked_loads

# The call graph of direct calls and tail jumps (objdump -d), walked from every function of the
# three kernel modules (mangled $s15FastfoodKernels, $s19FastfoodKernelsAVX2,
# $s21FastfoodKernelsAVX512); prints each *GenericMetadata* function reached, with its callers.
metadata_reached_from_kernels() {
    objdump -d --no-show-raw-insn "$lib" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $2; sub(/^</, "", fn); sub(/>:$/, "", fn); next }
    /\t(call|jmp)[a-z]* +[0-9a-f]+ <[^>]+>/ {
        t = $0; sub(/.*</, "", t); sub(/>.*/, "", t); sub(/@plt$/, "", t); sub(/\+0x[0-9a-f]+$/, "", t)
        if (t != fn) edges[fn] = edges[fn] " " t
    }
    END {
        n = 0
        for (f in edges)
            if (f ~ /^\$s(15FastfoodKernels|19FastfoodKernelsAVX2|21FastfoodKernelsAVX512)/) { queue[n++] = f; seen[f] = 1 }
        for (i = 0; i < n; i++) {
            m = split(edges[queue[i]], targets, " ")
            for (j = 1; j <= m; j++)
                if (!(targets[j] in seen)) { seen[targets[j]] = 1; from[targets[j]] = queue[i]; queue[n++] = targets[j] }
        }
        for (f in seen) if (f ~ /GenericMetadata/) print "  " f " <- " from[f] " <- " from[from[f]]
    }'
}
no_metadata_in_kernels() {
    local found; found=$(metadata_reached_from_kernels)
    [ -z "$found" ] || { echo "$found"; return 1; }
}
check "kernels reach no generic-metadata lookup" no_metadata_in_kernels

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
