#!/usr/bin/env bash
#===- tools/run-tests.sh - Build stn and run the whole test suite ----------===#
#
# Installs missing Debian packages (tools/install-deps.sh), configures build/
# with CMake + Ninja if it is not configured yet, builds it, and runs every
# test with ctest: the GoogleTest unit tests, the lit/FileCheck suite and the
# install test. Extra arguments go to ctest (e.g. -R unit, -j2).
#
# STN_JOBS sets the number of parallel compile jobs (default 2).
#
# On CI (CI=true) the suite then runs again under the sanitizers, through
# tools/run-sanitizer-tests.sh: ASan + UBSan + LeakSanitizer over the whole
# suite (build-asan/) and ThreadSanitizer over the concurrency test
# (build-tsan/). STN_SANITIZERS chooses which ("asan tsan" on CI, empty
# elsewhere; set it to run them locally, or to "" to skip them on CI).
# Measured cold on the 2-core machines: about 10 minutes for asan and 1.5
# for tsan, on top of the normal build (docs/testing.md).
#
#===------------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/build.sh

ctest --test-dir build --output-on-failure "$@"

if [[ "${CI:-}" == "true" ]]; then
  sanitizers="${STN_SANITIZERS-asan tsan}"
else
  sanitizers="${STN_SANITIZERS-}"
fi
for preset in $sanitizers; do
  tools/run-sanitizer-tests.sh "$preset"
done
