#!/usr/bin/env bash
#===- tools/run-sanitizer-tests.sh - The test suite under sanitizers -------===#
#
#   tools/run-sanitizer-tests.sh [asan|tsan] [ctest arguments...]
#
# asan (default): builds build-asan/ with the `asan` preset of
#   CMakePresets.json (g++, -fsanitize=address,undefined, RelWithDebInfo) and
#   runs the whole suite there with `ctest --preset asan`: every unit test,
#   the lit suite (the stn tool is instrumented too), the install test, with
#   LeakSanitizer on. Any report fails the test that triggered it.
# tsan: builds only stn-concurrency-tests in build-tsan/ and runs it under
#   ThreadSanitizer (`ctest --preset tsan`).
#
# JIT-compiled kernel code and Debian's LLVM/MLIR are not instrumented, so
# the sanitizers check stn's own code. Options and suppressions: the presets'
# environment and test/sanitizers/*.supp; see docs/testing.md. STN_JOBS sets
# the number of parallel compile jobs (default 2). tools/run-tests.sh calls
# this script with `asan` when CI=true.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

preset="${1:-asan}"
shift || true
case "$preset" in
  asan | tsan) ;;
  *) echo "usage: $0 [asan|tsan] [ctest arguments...]" >&2; exit 2 ;;
esac

tools/install-deps.sh

start=$SECONDS
if [[ ! -f "build-$preset/build.ninja" ]]; then
  cmake --preset "$preset"
fi
cmake --build --preset "$preset" -j"${STN_JOBS:-2}"
echo "run-sanitizer-tests: $preset build took $((SECONDS - start)) s"

# The tests keep a kernel cache in the build tree (test/CMakeLists.txt,
# test/lit/lit.cfg.py); start without it so that every kernel goes through
# Sema, MLIR generation and LLVM in the instrumented processes.
find "build-$preset/test" -type d -name stn-cache -prune -exec rm -rf {} + 2>/dev/null || true

start=$SECONDS
ctest --preset "$preset" "$@"
echo "run-sanitizer-tests: $preset tests took $((SECONDS - start)) s"
