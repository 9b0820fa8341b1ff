#!/usr/bin/env bash
# Install everything the tests need on Debian 12, then: format check, a
# -Werror build with every test (unit, integration, OpenAPI lint, corpus
# replay), the unit tests again under valgrind, an ASan+UBSan build running
# the unit, integration and corpus tests again, and a bounded libFuzzer
# run of each fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${WARDEN_SKIP_APT:-0}" != 1 ]; then
    bash tests/apt-install.sh
fi

echo "== format check (clang-format, .clang-format)"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

jobs=$(nproc)
echo "== build (-Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== unit tests under valgrind (memcheck: errors and definite leaks fail)"
export WARDEN_TEST_DATA="$PWD/tests/data"
find build -maxdepth 1 -name 'test_*' -type f -perm -u+x -print0 |
    xargs -0 -n1 -P"$jobs" sh -c 'valgrind -q --error-exitcode=99 \
        --leak-check=full --errors-for-leak-kinds=definite,indirect "$0" \
        >"$0.valgrind.log" 2>&1 || { cat "$0.valgrind.log"; echo "valgrind: $0 failed"; exit 255; }'
echo "valgrind: every unit test clean"

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWARDEN_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under ASan + UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$jobs" -L 'unit|integration|fuzz')

echo "== fuzzing (clang, libFuzzer; FUZZ_SECONDS per target)"
tests/fuzz/run.sh
