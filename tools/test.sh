#!/usr/bin/env bash
# Runs every check CI runs, in order, failing fast:
#   0. the dashboard's front end (tools/build-web.sh);
#   1. clang-format and the layering rules on all C++ sources;
#   2. a -Werror build and the whole CTest suite;
#   3. a ThreadSanitizer build of the threaded modules' tests and the
#      end-to-end tests;
#   4. an ASan+UBSan build and the suite again, without the labels that
#      only repeat the same code paths more slowly (torch training smoke
#      runs, real clusters, the browser): unit, python and e2e tests;
#   5. every libFuzzer target for SHERPA_FUZZ_SECONDS (default 20) seconds
#      over its corpus and regression inputs (tools/fuzz.sh), when clang
#      and libFuzzer are installed.
# Build folders: build/ci, build/tsan, build/asan, build/fuzz. Expects
# tools/install-deps.sh to have run (tools/setup.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="$(nproc)"

echo "== dashboard front end (npm ci + esbuild, embedded by the C++ build) =="
tools/build-web.sh

echo "== clang-format and layering =="
git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror
tools/check_layering.sh

echo "== -Werror build + tests =="
cmake -S . -B build/ci -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHERPA_WERROR=ON
cmake --build build/ci -j"$JOBS"
ctest --test-dir build/ci --output-on-failure -j"$JOBS"

echo "== ThreadSanitizer build + the tests of the threaded modules =="
# The runner, server, client, storage and schedulers are where threads meet
# (HTTP workers, the store's writer, job waiters, the runner's loop); the
# end-to-end tests drive the real binary with real trial processes.
cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHERPA_WERROR=ON \
  -DSHERPA_SANITIZE=thread -DSHERPA_BUILD_BENCHMARKS=OFF -DSHERPA_BUILD_EXAMPLES=OFF
TSAN_TESTS=(storage/storage_test server/server_test client/client_test runner/runner_test
  scheduler/scheduler_test dashboard/dashboard_test)
cmake --build build/tsan -j"$JOBS" --target sherpa_cli "${TSAN_TESTS[@]##*/}"
export TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tools/tsan.supp"
for test in "${TSAN_TESTS[@]}"; do
  "build/tsan/src/$test" --gtest_brief=1
done
ctest --test-dir build/tsan --output-on-failure -j"$JOBS" -L e2e
unset TSAN_OPTIONS

echo "== ASan+UBSan build + tests =="
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSHERPA_WERROR=ON \
  -DSHERPA_SANITIZE=address,undefined -DSHERPA_BUILD_BENCHMARKS=OFF
cmake --build build/asan -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan --output-on-failure -j"$JOBS" -LE 'smoke|cluster|browser'

echo "== fuzzers (clang + libFuzzer) =="
if tools/fuzz.sh --available; then
  SHERPA_FUZZ_SEED="${SHERPA_FUZZ_SEED:-1}" tools/fuzz.sh "${SHERPA_FUZZ_SECONDS:-20}"
else
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!! SKIPPED: the fuzzers; clang++ with libFuzzer is not installed      !!"
  echo "!! (tools/install-deps.sh installs clang and libclang-rt-dev)         !!"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
fi
