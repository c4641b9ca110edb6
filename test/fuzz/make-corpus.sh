#!/usr/bin/env bash
#===- test/fuzz/make-corpus.sh - Seed corpora for the fuzz targets ---------===#
#
#   test/fuzz/make-corpus.sh [OUT_DIR]      (default: build-fuzz/corpus)
#
# OUT_DIR/compiler: every .stn file under dsl-examples/ and test/lit/, the
#   hand-written seeds that use most of the language (test/fuzz/seeds/) and
#   the saved regressions (test/fuzz/regressions/*.stn);
# OUT_DIR/npy: small .npy files of every dtype, both byte orders, C and
#   Fortran order, format versions 1-3 (made by test/lit/Inputs/mknpy.py),
#   plus test/fuzz/regressions/npy/*.npy.
# Existing files are kept: libFuzzer adds what it finds to the same folders.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${1:-build-fuzz/corpus}"
mkdir -p "$out/compiler" "$out/npy"

n=0
while IFS= read -r -d '' f; do
  # dsl-examples/matmul.stn -> seed-dsl-examples__matmul.stn
  cp "$f" "$out/compiler/seed-${f//\//__}"
  n=$((n + 1))
done < <(find dsl-examples test/lit test/fuzz/seeds test/fuzz/regressions -maxdepth 3 -name '*.stn' -print0)
echo "make-corpus: $n .stn seeds in $out/compiler"

mknpy=test/lit/Inputs/mknpy.py
m=0
for dtype in bool int8 uint8 int16 uint16 int32 uint32 int64 uint64 float32 float64 \
             complex64 complex128; do
  python3 "$mknpy" "$out/npy/seed-$dtype-1d.npy" "$dtype" 3 1
  python3 "$mknpy" --big-endian "$out/npy/seed-$dtype-be-2d.npy" "$dtype" 2,3
  m=$((m + 2))
done
python3 "$mknpy" --fortran "$out/npy/seed-f64-fortran.npy" float64 2,3 1 2 3 4 5 6
python3 "$mknpy" --version 2 "$out/npy/seed-f32-v2.npy" float32 4 1.5
python3 "$mknpy" --version 3 "$out/npy/seed-i64-v3.npy" int64 2,2,2 7
python3 "$mknpy" "$out/npy/seed-f64-0d.npy" float64 "()" 2.5
python3 "$mknpy" "$out/npy/seed-f64-empty.npy" float64 0,4
m=$((m + 5))
if compgen -G 'test/fuzz/regressions/npy/*.npy' >/dev/null; then
  cp test/fuzz/regressions/npy/*.npy "$out/npy/"
fi
echo "make-corpus: $m .npy seeds in $out/npy"
