#!/usr/bin/env bash
#===- tools/build.sh - Install the dependencies and build stn into build/ --===#
#
# Shared by tools/quickstart.sh and tools/run-tests.sh: installs missing
# Debian packages (tools/install-deps.sh), configures build/ with CMake and
# Ninja on the first run, and builds everything. STN_JOBS sets the number of
# parallel compile jobs (default 2, the size of the CI machines).
#
#===------------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/install-deps.sh

if [[ ! -f build/build.ninja ]]; then
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release
fi
ninja -C build -j"${STN_JOBS:-2}"
