#!/usr/bin/env bash
# Data-parallel training on this machine (localhost only), time-limited: every step of a test
# has a timeout, so a hang fails instead of stalling.
#   run.sh BUILD_DIR MNIST_DIR
# Checks, for the C + MPI example (mnist_mlp_mpi) and the libtorch + Gloo one (lenet_gloo):
#   - after K steps every rank holds bitwise the same parameters (each program compares a
#     checksum of its parameters' bits over the group and fails otherwise);
#   - 2 processes equal 1 process on the same global batch to rounding: relative tolerance 1e-4
#     of the largest parameter. Not bitwise: one process sums the 64 rows' gradients in one
#     reduction, two processes sum 32 rows each and then add the two sums (the all-reduce), and
#     float addition is not associative. (Dropout off here: masks are seeded per rank by design.)
#   - a rank that dies makes the others stop with a message within 120 s (with Gloo: the survivor
#     ignores SIGPIPE, which otherwise killed it silently in about 1 run in 20, status 141; checked
#     deterministically by writing its --help into a pipe already closed);
#   - a bad option given to an MPI job is said once, by rank 0 (each rank reads the options), and
#     so is a missing MNIST directory (each rank said that one before).
set -u
build=$1
mnist=$2
passed=0; failed=0
check() { local name=$1; shift; if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi; }
export FASTFOOD_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpi=(timeout 120 mpirun --allow-run-as-root --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo
     --mca oob_tcp_if_include lo)
port=$((20000 + $$ % 20000))

# ---- C + MPI ----
mlp=$build/bin/mnist_mlp_mpi
check "MPI, 2 processes: parameters bitwise identical on every rank after 30 steps (with dropout)" \
    bash -c "${mpi[*]} -n 2 $mlp $mnist --steps 30 --dropout 0.1 > $work/mpi_dropout.log 2>&1 && grep -q 'bitwise identical' $work/mpi_dropout.log"
"${mpi[@]}" -n 1 "$mlp" "$mnist" --steps 30 --dump "$work/mpi1.bin" > "$work/mpi1.log" 2>&1
"${mpi[@]}" -n 2 "$mlp" "$mnist" --steps 30 --dump "$work/mpi2.bin" > "$work/mpi2.log" 2>&1
check "MPI: 2 processes equal 1 process on the same global batch (rel. 1e-4)" \
    "$build/bin/compare_params" "$work/mpi1.bin" "$work/mpi2.bin" 1e-4
check "MPI: a rank that dies stops the job with a message within 120 s" \
    bash -c "! ${mpi[*]} -n 2 $mlp $mnist --steps 100 --fail-at-step 3 > $work/mpi_fail.log 2>&1 && grep -q 'exited with non-zero status\|exiting at step' $work/mpi_fail.log"
check "MPI, 2 processes: a bad option is refused, and said once (by rank 0), not once per rank" \
    bash -c "! ${mpi[*]} -n 2 $mlp $mnist --steps 5x > $work/mpi_option.log 2>&1 && [ \$(grep -c \"^--steps: '5x' is not a whole number\" $work/mpi_option.log) -eq 1 ]"
check "MPI, 2 processes: a missing MNIST directory is said once (by rank 0), and the job fails" \
    bash -c "! ${mpi[*]} -n 2 $mlp $work/no-mnist --steps 5 > $work/mpi_nodata.log 2>&1 && [ \$(grep -c 'not found' $work/mpi_nodata.log) -eq 1 ]"

# ---- libtorch + Gloo ----
gloo=$build/distributed/lenet_gloo
two_ranks() { # port, log prefix, options...
    local p=$1 log=$2; shift 2
    MASTER_ADDR=127.0.0.1 MASTER_PORT=$p WORLD_SIZE=2 RANK=1 timeout 120 "$gloo" "$mnist" "$@" > "$log.1" 2>&1 &
    local peer=$!
    MASTER_ADDR=127.0.0.1 MASTER_PORT=$p WORLD_SIZE=2 RANK=0 timeout 120 "$gloo" "$mnist" "$@" > "$log.0" 2>&1
    local status=$?
    wait $peer
    return $status
}
check "Gloo, 2 processes: parameters bitwise identical on every rank after 20 steps (with dropout)" \
    bash -c "$(declare -f two_ranks); gloo=$gloo mnist=$mnist; two_ranks $port $work/gloo_dropout --steps 20 && grep -q 'bitwise identical' $work/gloo_dropout.0"
MASTER_ADDR=127.0.0.1 MASTER_PORT=$((port + 1)) WORLD_SIZE=1 RANK=0 timeout 120 "$gloo" "$mnist" --steps 20 --no-dropout \
    --dump "$work/gloo1.bin" > "$work/gloo1.log" 2>&1
two_ranks $((port + 2)) "$work/gloo2" --steps 20 --no-dropout --dump "$work/gloo2.bin"
check "Gloo: 2 processes equal 1 process on the same global batch (rel. 1e-4)" \
    "$build/bin/compare_params" "$work/gloo1.bin" "$work/gloo2.bin" 1e-4
check "Gloo: SIGPIPE is ignored (writing to a closed pipe fails the write, not the process)" \
    bash -c "{ sleep 1; $gloo --help; echo \$? > $work/sigpipe.status; } | true; [ \"\$(cat $work/sigpipe.status)\" -lt 128 ]"
check "Gloo: a rank that dies makes the other fail with a message within 120 s" \
    bash -c "$(declare -f two_ranks); gloo=$gloo mnist=$mnist; ! two_ranks $((port + 3)) $work/gloo_fail --steps 100 --fail-at-step 3 --timeout 30 && grep -q 'communication failed' $work/gloo_fail.0"

for f in "$work"/*.log "$work"/*.0; do
    [ -f "$f" ] && grep -q "FAIL\|DIFFERENT" "$f" && { echo "--- $f"; tail -5 "$f"; }
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
