#!/usr/bin/env bash
#===- test/fuzz/run-fuzzer.sh - Run one fuzz target for a while ------------===#
#
#   test/fuzz/run-fuzzer.sh compiler|npy SECONDS [JOBS] [libFuzzer flags...]
#
# Builds build-fuzz/ with the `fuzz` preset if needed, refreshes the seed
# corpus (make-corpus.sh), then runs stn-fuzz-<target> in libFuzzer's fork
# mode with JOBS workers (default 1) for SECONDS, continuing past crashes,
# timeouts and OOMs so that one run collects every finding. Findings go to
# build-fuzz/artifacts/<target>/ (crash-*, timeout-*, oom-*, leak-*); copy
# each into test/fuzz/regressions/ once it is fixed. The log is
# build-fuzz/logs/<target>-<date>.log. See docs/fuzzing.md.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

target="${1:?usage: $0 compiler|npy SECONDS [JOBS] [libFuzzer flags...]}"
seconds="${2:?usage: $0 compiler|npy SECONDS [JOBS] [libFuzzer flags...]}"
jobs="${3:-1}"
shift 2
if (($# > 0)); then shift; fi
case "$target" in
  compiler) dict=test/fuzz/stn.dict ;;
  npy) dict=test/fuzz/npy.dict ;;
  *) echo "unknown target '$target' (compiler or npy)" >&2; exit 2 ;;
esac

if [[ ! -f build-fuzz/build.ninja ]]; then
  cmake --preset fuzz
fi
cmake --build --preset fuzz -j"${STN_JOBS:-2}"
test/fuzz/make-corpus.sh build-fuzz/corpus >/dev/null

mkdir -p "build-fuzz/artifacts/$target" build-fuzz/logs
log="build-fuzz/logs/$target-$(date +%Y%m%d-%H%M%S).log"
echo "run-fuzzer: $target for $seconds s with $jobs worker(s), log $log"
# The fuzz build's ASan must not stop at the first leak report of a child:
# fork mode restarts it and records the input as leak-*.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
"build-fuzz/test/fuzz/stn-fuzz-$target" \
  -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=4096 \
  -dict="$dict" -print_final_stats=1 \
  -artifact_prefix="build-fuzz/artifacts/$target/" \
  "$@" "build-fuzz/corpus/$target" 2>&1 | tee "$log" | grep -E '^#[0-9]+: |crash|timeout|oom|leak|INFO: exiting|Done'
echo "run-fuzzer: findings in build-fuzz/artifacts/$target/:"
ls -1 "build-fuzz/artifacts/$target/" || true
