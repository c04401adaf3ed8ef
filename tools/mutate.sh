#!/usr/bin/env bash
# Mutation check: does a test notice when one line of the library is wrong?
#
#   tools/mutate.sh MUTANTS-FILE
#
# Each line of MUTANTS-FILE is `path|line|perl substitution`, for instance
#   Sources/FastfoodCore/MemorySpan.swift|49|s/\Qrows == 1 || \E//
# (\Q...\E quotes the text to replace; inside it write / as \/ and $ as \$). For each, the
# script applies the substitution to that line in a separate worktree of HEAD (build/mutants/tree,
# its own build directories), builds the library there with `make lib`, and runs this checkout's
# C tests (build/bin/test_*, built first with `make test-c`) against it through LD_LIBRARY_PATH,
# then the kernel-variant checks that `make test-c` runs, through the same target
# (`make test-c-variants`: the variants' digests and selection, and test_capi and test_no_memory
# under each variant this CPU runs).
# It prints one line per mutant:
#   KILLED by test_x   a test failed (or crashed: "(signal N)" follows): the tests notice this change
#   SURVIVED           every test passed: a missing test, or a change that alters nothing
#   NOCHANGE           the substitution matched nothing on that line
#   BUILDFAIL          the mutant does not compile
# A mutant every C test passes then meets the Swift tests (`swift test -c release` in the
# worktree, a minute or two; MUTATE_SWIFT=0 leaves them out): "KILLED by swift test (name)"
# names the first Swift test that failed. Kernel mutants rebuild the three kernel variants
# (about a minute each on 2 cores). Each test, the kernel-variant checks together and the Swift
# tests may run MUTATE_TIMEOUT seconds (default 600; longer counts as failed: a mutant that makes
# a call hang is killed, and a shorter limit gets there sooner). The worktree stays for the next
# run; `git worktree remove --force build/mutants/tree` removes it.
set -uo pipefail
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 MUTANTS-FILE" >&2; exit 2; }
root=$(git rev-parse --show-toplevel) || exit 2
cd "$root" || exit 2
mutants=$(realpath "$1")
limit=${MUTATE_TIMEOUT:-600}
case $limit in ''|*[!0-9]*|0) echo "MUTATE_TIMEOUT must be a positive number of seconds" >&2; exit 2;; esac
swift=${MUTATE_SWIFT:-1}
case $swift in 0|1) ;; *) echo "MUTATE_SWIFT must be 0 or 1" >&2; exit 2;; esac
ls build/bin/test_* > /dev/null 2>&1 || { echo "build the C tests first: make test-c" >&2; exit 2; }
tree=$root/build/mutants/tree

# run_test TEST: TEST against the mutant's library; when it fails, sets verdict and returns 1.
# In a subshell whose stderr goes to the log:
# a test that crashes makes bash report the signal ("Segmentation fault"), and that report
# belongs in the log, not on the terminal (`; exit $?` keeps the subshell from exec'ing the
# command, which would leave the report to this shell).
run_test() {
    local test=$1 status
    (LD_LIBRARY_PATH=$tree/build/lib timeout "$limit" "$test"; exit $?) > build/mutants/test.log 2>&1
    status=$?
    [ $status -eq 0 ] && return 0
    verdict="KILLED by $(basename "$test")"
    [ $status -eq 124 ] && verdict="$verdict (timed out after $limit s)"
    [ $status -gt 128 ] && verdict="$verdict (signal $((status - 128)))"
    return 1
}

if [ -d "$tree" ]; then
    git -C "$tree" checkout -q --detach HEAD 2>/dev/null
    git -C "$tree" checkout -q --detach "$(git rev-parse HEAD)" || exit 2
else
    mkdir -p build/mutants
    git worktree add -q --detach "$tree" HEAD || exit 2
fi
export PATH=/opt/swift/usr/bin:$PATH
while IFS='|' read -r file line substitution; do
    [ -z "$file" ] || [ "${file:0:1}" = "#" ] && continue
    git -C "$tree" checkout -q -- Sources
    before=$(md5sum < "$tree/$file")
    perl -i -pe "if (\$. == $line) { $substitution }" "$tree/$file"
    if [ "$before" = "$(md5sum < "$tree/$file")" ]; then echo "NOCHANGE  $file:$line $substitution"; continue; fi
    if ! make -C "$tree" lib > build/mutants/build.log 2>&1; then
        echo "BUILDFAIL $file:$line $substitution"; continue
    fi
    verdict=SURVIVED
    # As make test-c: every test plainly, then its kernel-variant checks (one target for both, so
    # they cannot drift apart), which catch a wrong variant selection; the verdict names the
    # check that failed (its "== " line).
    for test in build/bin/test_*; do
        # test_cpp is not a C test; the Tests/Examples programs do not load the library.
        case $(basename "$test") in test_cpp|test_mnist_idx|test_option_values) continue;; esac
        run_test "$test" || break
    done
    if [ "$verdict" = SURVIVED ] &&
        ! (LD_LIBRARY_PATH=$tree/build/lib timeout "$limit" make -s --no-print-directory test-c-variants) \
            > build/mutants/test.log 2>&1; then
        verdict="KILLED by make test-c-variants ($(grep '^== ' build/mutants/test.log | tail -n 1 | cut -c4-))"
    fi
    # The Swift suites last, for what the C tests pass (statistics of the samplers, helpers no C
    # call reaches), as `make test-swift` runs them under this CPU's default variant.
    if [ "$verdict" = SURVIVED ] && [ "$swift" = 1 ] &&
        ! (cd "$tree" && timeout "$limit" swift test -c release) > build/mutants/test.log 2>&1; then
        failed=$(sed -n 's/^.*✘ Test \([^ (]*\).*$/\1/p' build/mutants/test.log | head -n 1)
        verdict="KILLED by swift test${failed:+ ($failed)}"
    fi
    echo "$verdict $file:$line $substitution"
done < "$mutants"
git -C "$tree" checkout -q -- Sources
