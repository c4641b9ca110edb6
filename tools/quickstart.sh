#!/usr/bin/env bash
#===- tools/quickstart.sh - Install, build and try stn ---------------------===#
#
# On a fresh Debian 12 machine (root, or a user with sudo): installs the
# packages (tools/install-deps.sh), builds everything into build/ with CMake
# and Ninja, then runs the example kernels of dsl-examples/ with the stn CLI
# and shows their results. Scratch files go to build/quickstart/.
#
# STN_JOBS sets the number of parallel compile jobs (default 2).
#
#===------------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/build.sh

STN=build/bin/stn
NPY="python3 tools/npytool.py"
DEMO=build/quickstart
rm -rf "$DEMO"
mkdir -p "$DEMO"

section() { printf '\n=== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

section "The stn command-line tool"
show "$STN" --version

section "1. Kernels calling kernels (dsl-examples/hypot.stn): prints 5.0"
show "$STN" run dsl-examples/hypot.stn hypot 3.0 4.0
show "$STN" run dsl-examples/hypot.stn hypot 3 4

section "2. An explicit signature f64(i32, i32) (dsl-examples/average.stn): prints 3.5"
show "$STN" run dsl-examples/average.stn average_numbers 3 4

section "3. The closest pair of 1000 random points (dsl-examples/closest.stn)"
$NPY points 1000 "$DEMO/points.npy" --seed 7
show "$STN" run dsl-examples/closest.stn closest "$DEMO/points.npy" -o "$DEMO/closest"
$NPY show "$DEMO/closest/0.npy"
$NPY show "$DEMO/closest/1.npy"
$NPY closest "$DEMO/points.npy"

section "4. 200x200 float64 matrix multiplication (dsl-examples/matmul.stn)"
$NPY rand 200 200 "$DEMO/A.npy" --seed 1
$NPY rand 200 200 "$DEMO/B.npy" --seed 2
$NPY zeros float64 200 200 "$DEMO/C.npy"
TIMEFORMAT='stn run took %Rs (start-up, parsing, compiling and one call)'
printf '$ %s\n' "$STN run dsl-examples/matmul.stn matrix_multiplication A.npy B.npy C.npy --save-args $DEMO/matmul"
time "$STN" run dsl-examples/matmul.stn matrix_multiplication \
  "$DEMO/A.npy" "$DEMO/B.npy" "$DEMO/C.npy" --save-args "$DEMO/matmul"
$NPY show "$DEMO/matmul/C.npy"
printf 'C[0,0] computed by Python: '
$NPY dot "$DEMO/A.npy" "$DEMO/B.npy" 0 0
if [[ -x build/bench/stn-bench-matmul ]]; then
  echo "Timings (Google Benchmark; compile = FirstCall - LoadFile - RepeatCall):"
  show build/bench/stn-bench-matmul
fi

section "5. fastmath=False vs fastmath=True (dsl-examples/do_sum.stn), 10^6 elements"
$NPY rand 1000000 "$DEMO/D.npy" --seed 3
show "$STN" run dsl-examples/do_sum.stn do_sum "$DEMO/D.npy"
show "$STN" run dsl-examples/do_sum.stn do_sum_fast "$DEMO/D.npy"

section "6. The Mandelbrot set (dsl-examples/mandelbrot.stn), 30x78 uint8 image"
show "$STN" run dsl-examples/mandelbrot.stn mandel -0.5 0.0 50
$NPY zeros uint8 30 78 "$DEMO/image.npy"
show "$STN" run dsl-examples/mandelbrot.stn create_fractal -2.0:f32 1.0:f32 -1.0:f32 1.0:f32 \
  "$DEMO/image.npy" 50 --save-args "$DEMO/mandel"
$NPY ascii "$DEMO/mandel/image.npy" --max 50

section "Done. Run the test suite with: tools/run-tests.sh"
