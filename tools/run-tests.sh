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
#===------------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/build.sh

ctest --test-dir build --output-on-failure "$@"
