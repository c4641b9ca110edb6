#!/usr/bin/env bash
#===- tools/bench-suite.sh - Build and run issue 5's benchmark suite -------===#
#
# Builds stn-bench-suite (bench/suite.cpp) and runs it: every workload of
# issue 5 as stn kernels against hand-written C++ references (g++ -O3
# -march=native -fopenmp) and memcpy, in one process, with interleaved
# rounds and medians; prints a ratio table (bench/README.md explains it).
#
#   tools/bench-suite.sh [--build DIR] [--no-build] [--json FILE] [--quick]
#                        [--filter REGEX] [--reps N] [--seed N] [--list]
#
# --build DIR   the CMake build directory (default: $STN_BUILD_DIR, else
#               build/); configured as a Release build if it is not yet
# --no-build    run what is there without building
# Every other option goes to the program (see `--help`). STN_JOBS sets the
# number of compile jobs (default 2). A run takes about 30 s on an idle
# 2-core machine (a few minutes on a busy one) and needs about 2 GB of
# memory.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build="${STN_BUILD_DIR:-build}"
do_build=1
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --build=*) build="${1#--build=}"; shift ;;
    --no-build) do_build=0; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

if [[ $do_build -eq 1 ]]; then
  if [[ ! -f "$build/build.ninja" ]]; then
    cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
  fi
  ninja -C "$build" -j"${STN_JOBS:-2}" stn-bench-suite
fi

exec "$build/bench/stn-bench-suite" "${args[@]+"${args[@]}"}"
