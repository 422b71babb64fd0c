#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (build folder build/fuzz)
# and runs each one for a bounded time over its seed corpus and its kept
# regression inputs (fuzz/README.md). Fails if any target finds a crash, a
# leak, undefined behaviour, a broken property or a timeout.
#
#   tools/fuzz.sh [seconds_per_target]   default 20
#   tools/fuzz.sh --available            exit 0 if clang and libFuzzer work here
#   tools/fuzz.sh --update-docs [secs]   also rewrite the table in docs/reliability.md
#
# SHERPA_FUZZ_SEED: libFuzzer's -seed (0, the default: a new one each run).
# CI sets it so that a run explores the same inputs each time and fails only
# on what a change broke; new ground is covered by longer local runs.
#
# Prints, and writes to build/fuzz/report.md, one row per target: executions
# run, corpus size, and bugs found and fixed (the inputs kept under
# fuzz/regressions/<target>, one per bug). New corpus entries go to
# build/fuzz/corpus/<target>, so repeated local runs build on each other;
# crashing inputs to build/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

CXX_FUZZ="${CXX_FUZZ:-clang++}"
BUILD=build/fuzz

available() {
  command -v "$CXX_FUZZ" >/dev/null 2>&1 || return 1
  local dir
  dir="$(mktemp -d)"
  printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
    'extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }' >"$dir/t.cc"
  local ok=0
  "$CXX_FUZZ" -fsanitize=fuzzer,address,undefined "$dir/t.cc" -o "$dir/t" >/dev/null 2>&1 || ok=1
  rm -rf "$dir"
  return $ok
}

if [ "${1:-}" = "--available" ]; then
  available
  exit $?
fi
update_docs=false
if [ "${1:-}" = "--update-docs" ]; then
  update_docs=true
  shift
fi
SECONDS_PER_TARGET="${1:-20}"
JOBS="${JOBS:-$(nproc)}"

if ! available; then
  echo "fuzz: $CXX_FUZZ with libFuzzer is not usable here (tools/install-deps.sh installs" >&2
  echo "fuzz: clang and libclang-rt-dev)" >&2
  exit 2
fi

# RelWithDebInfo without -DNDEBUG: library assertions (nlohmann's among them)
# stay on; -O1 as libFuzzer's documentation advises.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER="$CXX_FUZZ" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DSHERPA_BUILD_FUZZERS=ON -DSHERPA_BUILD_TESTS=OFF -DSHERPA_BUILD_BENCHMARKS=OFF \
  -DSHERPA_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target fuzzers

# The dictionary of each target (fuzz/dict/).
dict_for() {
  case "$1" in
    study_spec_*) echo fuzz/dict/study_spec.dict ;;
    parameters_fuzz) echo fuzz/dict/parameters.dict ;;
    value_json_fuzz | event_payload_fuzz) echo fuzz/dict/event_payload_fuzz.dict ;;
    http_request_fuzz) echo fuzz/dict/http_request_fuzz.dict ;;
    *) echo "" ;;
  esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

report="$BUILD/report.md"
{
  echo "| target | executions | corpus | bugs found and fixed |"
  echo "|---|---:|---:|---:|"
} >"$report"
failed=()
total=0
for source in fuzz/*_fuzz.cc; do
  target="$(basename "$source" .cc)"
  corpus="$BUILD/corpus/$target"
  artifacts="$BUILD/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts" "fuzz/corpus/$target"
  dirs=("$corpus" "fuzz/corpus/$target")
  [ -d "fuzz/regressions/$target" ] && dirs+=("fuzz/regressions/$target")
  dict="$(dict_for "$target")"
  log="$BUILD/$target.log"
  echo "== fuzz $target (${SECONDS_PER_TARGET} s)"
  status=0
  # -timeout: one input taking over 10 s is a hang, reported as a failure.
  "$BUILD/fuzz/$target" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -seed="${SHERPA_FUZZ_SEED:-0}" \
    -print_final_stats=1 -artifact_prefix="$artifacts" ${dict:+-dict="$dict"} "${dirs[@]}" \
    >"$log" 2>&1 || status=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  runs="${runs:-0}"
  total=$((total + runs))
  size="$(find "${dirs[@]}" -type f | wc -l)"
  bugs=0
  [ -d "fuzz/regressions/$target" ] && bugs="$(find "fuzz/regressions/$target" -type f | wc -l)"
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    echo "!! $target FAILED (exit $status); its log ends:"
    tail -n 40 "$log"
    echo "!! crashing input (if any) in $artifacts"
  fi
  printf '   %s: %s executions, corpus %s\n' "$target" "$runs" "$size"
  echo "| \`$target\` | $runs | $size | $bugs |" >>"$report"
done
echo "fuzz: $total executions in all; table in $report"
cat "$report"

if $update_docs; then
  # Between the markers of docs/reliability.md's fuzzing section.
  python3 - "$report" "$SECONDS_PER_TARGET" <<'EOF'
import datetime, pathlib, sys
report = pathlib.Path(sys.argv[1]).read_text()
doc = pathlib.Path("docs/reliability.md")
text = doc.read_text()
begin, end = "<!-- fuzz table begin -->", "<!-- fuzz table end -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
note = (f"Last run: {datetime.date.today().isoformat()}, {sys.argv[2]} s per target "
        f"(`tools/fuzz.sh --update-docs {sys.argv[2]}`).\n\n")
doc.write_text(head + begin + "\n" + note + report + end + tail)
EOF
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
