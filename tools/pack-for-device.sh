#!/usr/bin/env bash
#===- tools/pack-for-device.sh - Carry a build to a GPU machine ------------===#
#
# The GPU machine (docs/gpu.md, "Running on a GPU machine") has the CUDA
# driver and toolkit but no LLVM/MLIR packages, so a build made here travels
# with the shared libraries it needs: the stn tool, the GPU unit tests, the
# GPU benchmark, libstn and libstn-backend, and every library `ldd` lists
# for them except glibc's own (libLLVM.so.19 and libMLIR.so.19 above all),
# in one xz-compressed tarball under 64 MiB (the device tool's limit for
# everything that travels).
#
#   tools/pack-for-device.sh [BUILD_DIR [OUT_DIR]]    (default: build .device)
#
# OUT_DIR is added to .git/info/exclude: name it in the device call's
# `carry`. On the GPU machine, from the repository root:
#
#   mkdir -p /tmp/stn && tar -C /tmp/stn -xJf .device/stn-x86_64.tar.xz
#   source /tmp/stn/stn/env.sh
#   stn-unit-tests --gtest_filter='Gpu*'
#   stn-bench-gpu
#
#===------------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${1:-build}
out=${2:-.device}
if [[ ! -f "$build/build.ninja" ]]; then
  echo "pack-for-device: no configured build in '$build' (run tools/build.sh first)" >&2
  exit 1
fi
ninja -C "$build" -j"${STN_JOBS:-2}" stn-tool stn-backend stn-unit-tests stn-bench-gpu

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/stn/bin" "$stage/stn/lib"
cp "$build/bin/stn" "$build/test/stn-unit-tests" "$build/bench/stn-bench-gpu" "$stage/stn/bin/"
cp -P "$build"/runtime/libstn.so* "$build/runtime/libstn-backend.so" "$stage/stn/lib/"

# Every shared library the programs load, except the C and C++ runtimes,
# which the GPU machine has (newer than Debian 12's, and backward
# compatible; carrying the older libstdc++ would also break Python programs
# run after sourcing env.sh).
for f in "$stage"/stn/bin/* "$stage"/stn/lib/libstn-backend.so; do
  ldd "$f" | awk '/=> \// { print $3 }'
done | sort -u |
  grep -v -E '/(libc|libm|libdl|libpthread|librt|libresolv|libutil|ld-linux[^/]*|libstdc\+\+|libgcc_s)\.so' |
  while read -r lib; do
    cp -L -n "$lib" "$stage/stn/lib/" 2>/dev/null || true
  done

cat > "$stage/stn/env.sh" <<'ENV'
# Source this on the GPU machine: the carried libraries come first, and
# libstn finds its code generator next to itself.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH="$here/bin:$PATH"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export STN_BACKEND="$here/lib/libstn-backend.so"
# The tests and the benchmark read the examples of the checkout they run in.
export STN_EXAMPLES_DIR="${STN_EXAMPLES_DIR:-$PWD/dsl-examples}"
ENV

mkdir -p "$out"
tarball="$out/stn-x86_64.tar.xz"
XZ_OPT="-6 -T${STN_JOBS:-2}" tar -C "$stage" -cJf "$tarball" stn
size=$(stat -c %s "$tarball")
echo "pack-for-device: $tarball, $((size / 1048576)) MiB"
if ((size > 60 * 1048576)); then
  echo "pack-for-device: over 60 MiB: the device tool carries at most 64 MiB in all" >&2
  exit 1
fi
if [[ "$out" != /* && -d .git ]] && ! grep -qx "/$out/" .git/info/exclude 2>/dev/null; then
  echo "/$out/" >> .git/info/exclude
fi
