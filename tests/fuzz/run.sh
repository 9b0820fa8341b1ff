#!/usr/bin/env bash
# Build the libFuzzer targets of tests/fuzz with clang in build-fuzz and
# run each for FUZZ_SECONDS (default 60) on a scratch copy of its seed
# corpus, so the committed corpus never churns. Fails on any crash, leak,
# timeout or out-of-memory, printing the reproducer to replay and commit
# as tests/fuzz/corpus/<target>/regress-<name>.
#   FUZZ_SECONDS=300 FUZZ_TARGETS="csr ocsp" tests/fuzz/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-csr api_json ocsp query jws}
build=$src/build-fuzz

echo "== fuzz: build (clang, libFuzzer + ASan + UBSan) in build-fuzz"
# -Werror is gcc's job (tests/run.sh); clang's extra warnings must not
# stop the fuzzers from running
CC=clang cmake -S . -B "$build" -DWARDEN_FUZZ=ON -DWARDEN_WERROR=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
bins=()
for t in $targets; do
    bins+=("fuzz_$t")
done
cmake --build "$build" -j"$(nproc)" --target "${bins[@]}"

# libFuzzer writes the reproducer itself; ASan must not abort first
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

failed=0
for t in $targets; do
    work=$build/fuzz-work/$t
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/findings"
    cp "$src/tests/fuzz/corpus/$t/"* "$work/corpus/"
    echo "== fuzz: fuzz_$t for ${seconds}s (log: $work/log)"
    status=0
    "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/findings/" "$work/corpus" \
        >"$work/log" 2>&1 || status=$?
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$work/log" |
        tail -2 || true
    found=$(find "$work/findings" -type f | sort)
    if [ "$status" -ne 0 ] || [ -n "$found" ]; then
        failed=1
        echo "FAIL: fuzz_$t exited $status"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' \
            "$work/log" | head -20 || true
        for f in $found; do
            echo "reproducer: $f"
            echo "  replay:   $build/fuzz_$t $f"
        done
    fi
done
if [ "$failed" -ne 0 ]; then
    echo "== fuzz: findings above; fix, then keep each input as" \
        "tests/fuzz/corpus/<target>/regress-<name>"
    exit 1
fi
echo "== fuzz: no findings"
