#!/usr/bin/env bash
# The example programs' command lines, as a user meets them: --help prints the usage line and
# what each option does on stdout, nothing on stderr, and exits 0 (before 1.4.6 most printed
# the usage line alone, on stderr, with status 2, and gradient_check and fc_replacement ran in
# full, ignoring any argument); an unknown option is refused with status 2 and a message on
# stderr, nothing on stdout, before any work.
# Usage: command_lines.sh PROGRAM...   (each PROGRAM a path to a built example)
# Needs no MNIST: the unknown option comes first, so no data is read.
set -u
passed=0
failed=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

check() { # description, then a condition
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $name"
    else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/  stdout: /' "$out" | head -n 5; sed 's/^/  stderr: /' "$err" | head -n 5; fi
}

refused() { # the message expected as stderr's first line, then the command
    local expected=$1; shift
    "$@" > "$out" 2> "$err"
    local status=$?
    check "$name refuses with '$expected'" test $status -eq 2 -a ! -s "$out" -a "$(head -n 1 "$err")" = "$expected"
}

for program in "$@"; do
    name=$(basename "$program")
    for flag in --help -h; do
        "$program" $flag > "$out" 2> "$err"
        status=$?
        check "$name $flag: status 0, usage and the options on stdout, nothing on stderr" \
            test $status -eq 0 -a ! -s "$err" -a "$(head -c 6 "$out")" = "usage:" -a "$(grep -c -- '--help, -h' "$out")" -eq 1
    done
    # A directory argument where the program takes one, so the unknown option is what is refused.
    case $name in
        gradient_check | fc_replacement | projection) args=(--no-such-option) ;;
        *) args=(/nonexistent-mnist --no-such-option 1) ;;
    esac
    "$program" "${args[@]}" > "$out" 2> "$err"
    status=$?
    check "$name with an unknown option: status 2, a message naming it on stderr, nothing on stdout" \
        test $status -eq 2 -a ! -s "$out" -a "$(grep -c -e '--no-such-option' -e 'usage:' "$err")" -ge 1
    # Refusals with their own words, before any data is read.
    case $name in
        lenet_mnist) # an empty list trained nothing and passed --max-error until 1.4.6
            refused "--models: no model named" "$program" /nonexistent-mnist --models ""
            refused "--models: unknown model 'x' (--help lists them)" "$program" /nonexistent-mnist --models aff1024,x ;;
        lenet_gloo) # one message, "bad arguments (model x, WORLD_SIZE 1, batch 64)", until 1.4.6
            refused "--model: unknown model 'x' (--help lists them)" "$program" /nonexistent-mnist --model x
            refused "RANK 2 is not below WORLD_SIZE 2" env RANK=2 WORLD_SIZE=2 "$program" /nonexistent-mnist
            refused "--batch 64 is not a multiple of WORLD_SIZE 3" env WORLD_SIZE=3 "$program" /nonexistent-mnist ;;
    esac
done

echo "command_lines: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
