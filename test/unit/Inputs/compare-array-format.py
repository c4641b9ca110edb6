#!/usr/bin/env python3
"""Compares stn::toString with NumPy's str() on random arrays (not part of CI).

Needs NumPy 2 and a build of libstn. Writes each array to a .npy file,
prints it with a small program linked against libstn, and reports every
array whose text differs:

    python3 test/unit/Inputs/compare-array-format.py BUILD_DIR [SEED] [COUNT]
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

HELPER = r"""
#include "stn/stn.h"
#include <cstdio>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    std::printf("%s\n\x1e\n", stn::toString(stn::readNpy(argv[i])).c_str());
}
"""

build = os.path.abspath(sys.argv[1])
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
N = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
work = tempfile.mkdtemp()
os.chdir(work)
with open("p.cpp", "w") as f:
    f.write(HELPER)
lib = os.path.join(build, "runtime")
subprocess.run(["g++", "-std=c++20", "-I" + os.path.join(root, "runtime", "include"), "p.cpp",
                "-L" + lib, "-lstn", "-Wl,-rpath," + lib, "-o", "p"], check=True)
rng = np.random.default_rng(seed)
files, arrs = [], []
for k in range(N):
    dt = rng.choice(["float64","float32","complex128","complex64","int8","int64","uint16","bool"])
    nd = int(rng.integers(1, 4))
    shape = tuple(int(rng.integers(1, 9 if nd > 1 else 40)) for _ in range(nd))
    if rng.random() < 0.05: shape = (int(rng.integers(1000, 1300)),)
    mode = rng.integers(0, 6)
    e = rng.integers(-12, 14)
    if mode == 0: a = rng.standard_normal(shape) * 10.0**e
    elif mode == 1: a = np.round(rng.standard_normal(shape) * 100) / 2**rng.integers(0, 6)
    elif mode == 2: a = rng.integers(-1000, 1000, shape) * 10.0**e
    elif mode == 3: a = np.exp(rng.uniform(-30, 30, shape))
    elif mode == 4: a = rng.choice([0.0, -0.0, 1.0, np.nan, np.inf, -np.inf, 1e-4, 1e8, 1e6, 0.0001, 999999.9, 1000.0, 1e16], shape)
    else: a = rng.uniform(-1, 1, shape) * rng.choice([1e-5, 1e-4, 1, 1e3, 1e5, 1e6, 1e7, 1e8])
    if dt.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape) * 10.0**rng.integers(-6, 8)
    if dt.startswith(("int","uint")):
        info = np.iinfo(dt); a = np.clip(np.nan_to_num(a), info.min, info.max)
    if dt == "bool": a = a > 0
    with np.errstate(all="ignore"):
        a = np.asarray(a).astype(dt)
    f = f"c{k}.npy"; np.save(f, a); files.append(f); arrs.append(a)
out = subprocess.run(["./p"] + files, capture_output=True, text=True).stdout.split("\n\x1e\n")
bad = 0
for a, got, f in zip(arrs, out, files):
    if str(a) != got:
        bad += 1
        if bad <= 5: print("MISMATCH", f, a.dtype, a.shape, "\nnumpy:\n" + str(a) + "\nstn:\n" + got)
print("checked", len(arrs), "mismatches", bad)
for f in files: os.remove(f)
