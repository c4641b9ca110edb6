#!/usr/bin/env bash
#===- tools/install-deps.sh - Debian 12 packages needed to build stn -------===#
#
# Installs (with apt-get) every package the build and the test suite need on
# a fresh Debian 12 (bookworm) machine; LLVM/MLIR 19 come from Debian's own
# archive. Does nothing, and never calls apt, when all are installed already.
# Runs apt-get directly as root, through sudo otherwise.
#
# Used by tools/quickstart.sh and tools/run-tests.sh.
#
#===------------------------------------------------------------------------===#
set -euo pipefail

PACKAGES=(
  # Compilers and build tools (g++ builds stn; clang-19 and lld-19 are the
  # LLVM toolchain: lld links the project, clang is there for tools).
  g++ cmake ninja-build ccache python3
  # LLVM and MLIR 19: headers, CMake packages, the shared libLLVM/libMLIR,
  # FileCheck and lit (llvm-19-tools), the OpenMP runtime for parallel kernels.
  llvm-19-dev libmlir-19-dev mlir-19-tools clang-19 lld-19 libomp-19-dev llvm-19-tools
  # Libraries used by stn, its CLI, tests and benchmarks (libpng: the PNG
  # image stacks of stn/Image.h and `stn apply`).
  libcli11-dev libfmt-dev libgtest-dev libbenchmark-dev libpng-dev
  # Looked up (optionally) by LLVM's CMake package.
  zlib1g-dev libxml2-dev
)
# Not needed: libzstd-dev, libedit-dev and libcurl4-openssl-dev are only
# referenced by LLVM's static component libraries; stn links the shared
# libLLVM.so/libMLIR.so (configuring and linking was checked without them).

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: missing packages (${missing[*]}); run as root or install sudo" >&2
    exit 1
  fi
  as_root=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -q
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
