#!/usr/bin/env bash
# The LeNet example (examples/lenet) under thread settings a libtorch user can pick from the
# environment, each timed against everything on one thread in the same run: convolutions
# (libtorch), FastfoodLinear (fastfood's pool) and the dense layers (OpenBLAS) together, with
# the user's own recipe. Rounds are interleaved (every setting once per round), so machine
# noise hits them alike; each line is the median over the rounds of the setting's seconds per
# epoch and of its speedup over the same round's one-thread run, the range in brackets.
# Usage: lenet_threads.sh LENET_BINARY MNIST_DIR [ROUNDS (3)] [MODELS (aff1024,reference)]
set -eu
lenet=$1
mnist=$2
rounds=${3:-3}
models=${4:-aff1024,reference}

settings=(
    "one thread|OMP_NUM_THREADS=1 FASTFOOD_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1"
    "defaults|"
    "libtorch 2|OMP_NUM_THREADS=2"
    "libtorch 2, passive|OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive"
    "libtorch 2, passive, fastfood 1|OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive FASTFOOD_NUM_THREADS=1"
    "libtorch 2, passive, OpenBLAS 1|OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive OPENBLAS_NUM_THREADS=1"
)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The CPU as the C benchmarks name it (benchmarks/cpu_description.h): vendor, family, model, name.
cpu=$(awk -F'\t*: ' '/^$/ { exit } /^vendor_id/ { v = $2 } /^cpu family/ { f = $2 } /^model name/ { n = $2 }
    /^model\t/ { m = $2 } END { printf "%s, family %s model %s: %s", v, f, m, n }' /proc/cpuinfo)
echo "lenet_threads: CPU: $cpu; $(nproc) CPUs usable; $rounds rounds of 1 epoch, models $models"
for ((round = 1; round <= rounds; round++)); do
    for s in "${settings[@]}"; do
        name=${s%%|*}
        environment=${s#*|}
        output=$(env $environment "$lenet" "$mnist" --epochs 1 --seeds 1 --models "$models")
        # The example's table rows: | label | weights | paper weights | error | paper error | s / epoch |
        echo "$output" | awk -F'|' -v round="$round" -v setting="$name" '
            NF == 8 && $7 ~ /^ *[0-9.]+ *$/ { label = $2; gsub(/^ +| +$/, "", label); seconds = $7 + 0
                                               printf "%s|%s|%s|%s\n", round, setting, label, seconds }' >> "$log"
        threads=$(echo "$output" | grep -o 'libtorch [0-9]* thread(s), libfastfood [0-9]*' || true)
        echo "round $round: $name ($threads)"
    done
done

awk -F'|' -v first="${settings[0]%%|*}" '
    function median(list,    n, values, i, j, t) {
        n = split(list, values, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (values[j] + 0 < values[i] + 0) { t = values[i]; values[i] = values[j]; values[j] = t }
        return n % 2 ? values[(n + 1) / 2] : (values[n / 2] + values[n / 2 + 1]) / 2
    }
    function extreme(list, sign,    n, values, i, best) {
        n = split(list, values, " "); best = values[1]
        for (i = 2; i <= n; i++) if (sign * (values[i] - best) > 0) best = values[i]
        return best
    }
    { seconds[$1 SUBSEP $2 SUBSEP $3] = $4; if (!($2 in seen)) { seen[$2] = 1; order[++settings] = $2 }
      if (!($3 in known)) { known[$3] = 1; labels[++count] = $3 } rounds[$1] = 1 }
    END {
        for (m = 1; m <= count; m++) for (s = 1; s <= settings; s++) {
            times = ""; speedups = ""
            for (r in rounds) {
                key = r SUBSEP order[s] SUBSEP labels[m]; base = r SUBSEP first SUBSEP labels[m]
                if (!(key in seconds) || !(base in seconds) || seconds[key] <= 0) continue
                times = times " " seconds[key]; speedups = speedups " " seconds[base] / seconds[key]
            }
            if (times == "") { printf "lenet %-28s %-34s no time found\n", labels[m], order[s]; bad = 1; continue }
            printf "lenet %-28s %-34s %6.2f s / epoch  speedup over one thread %5.2fx (%.2f - %.2f)\n",
                   labels[m], order[s], median(times), median(speedups), extreme(speedups, -1), extreme(speedups, 1)
        }
        exit bad
    }' "$log"
