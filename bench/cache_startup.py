#!/usr/bin/env python3
#===- cache_startup.py - Cold and warm starts with the kernel cache -------===#
#
# Measures, each in a fresh process, the seed's `smooth` (bench/smooth.stn)
# on a 1000x1000 int8 image:
#
#   first call, cold   stn-bench-cache-first-call with an empty cache: the
#                      first kernel call compiles (Sema, MLIR, LLVM O3)
#   first call, warm   the same with a warm cache: the call loads the object
#   second call        the call after that in the same process: the kernel's
#                      own run time (plus its result array), which both first
#                      calls include
#   stn run, cold      wall time of the whole `stn run` process, empty cache
#   stn run, warm      the same, warm cache
#   stn --version      wall time of a process that only loads libstn,
#                      libLLVM and libMLIR: the floor of any `stn` process
#
# The variants are interleaved (cold, warm, cold, warm, ...) and each is
# reported as median and min over the rounds (the machines are noisy shared
# VMs: see bench/README.md). Every cold run gets its own new cache directory;
# the warm runs share one, filled before the first round.
#
#   python3 bench/cache_startup.py [--build build] [--rounds 21]
#
#===----------------------------------------------------------------------===#

import argparse
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def write_int8_npy(path, rows, cols, seed=1):
    header = "{'descr': '|i1', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    rng = random.Random(seed)
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(bytes(rng.randrange(256) for _ in range(rows * cols)))


def run(cmd, cache_dir):
    env = dict(os.environ, STN_CACHE_DIR=cache_dir)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    return (time.perf_counter() - t0) * 1000.0, out.stdout


def parse(line):
    return {k: float(v) for k, v in (f.split("=") for f in line.split())}


def main():
    ap = argparse.ArgumentParser(
        description="Cold and warm starts of bench/smooth.stn with the kernel cache.")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--size", type=int, default=1000)
    args = ap.parse_args()
    stn = os.path.join(args.build, "bin", "stn")
    first_call = os.path.join(args.build, "bench", "stn-bench-cache-first-call")
    smooth = os.path.join(HERE, "smooth.stn")
    for tool in (stn, first_call):
        if not os.access(tool, os.X_OK):
            sys.exit("cache_startup.py: %s is not built (ninja -C %s)" % (tool, args.build))

    work = tempfile.mkdtemp(prefix="stn-cache-bench.")
    try:
        image = os.path.join(work, "image.npy")
        write_int8_npy(image, args.size, args.size)
        out = os.path.join(work, "out.npy")
        run_cmd = [stn, "run", "-q", smooth, "smooth", image, "-o", out]
        call_cmd = [first_call, smooth, "smooth", str(args.size), str(args.size)]
        warm = os.path.join(work, "warm")
        run(run_cmd, warm)  # fills the warm cache (both kernels)

        samples = {k: [] for k in ("first call, cold", "first call, warm", "second call",
                                   "stn run, cold", "stn run, warm", "stn --version")}
        counters = {"cold": set(), "warm": set()}
        for r in range(args.rounds):
            cold = os.path.join(work, "cold%d" % r)
            _, line = run(call_cmd, cold)
            c = parse(line)
            samples["first call, cold"].append(c["first_call_ms"])
            counters["cold"].add((int(c["hits"]), int(c["compilations"])))
            _, line = run(call_cmd, warm)
            w = parse(line)
            samples["first call, warm"].append(w["first_call_ms"])
            samples["second call"].append(w["second_call_ms"])
            counters["warm"].add((int(w["hits"]), int(w["compilations"])))
            samples["stn run, cold"].append(run(run_cmd, cold + "r")[0])
            samples["stn run, warm"].append(run(run_cmd, warm)[0])
            samples["stn --version"].append(run([stn, "--version"], warm)[0])

        print("smooth on a %dx%d int8 image, %d rounds, fresh process each "
              "(milliseconds)" % (args.size, args.size, args.rounds))
        print("%-18s %9s %9s" % ("", "median", "min"))
        for k, v in samples.items():
            print("%-18s %9.1f %9.1f" % (k, statistics.median(v), min(v)))
        print("engine counters (hits, compilations) per first call: cold %s, warm %s"
              % (sorted(counters["cold"]), sorted(counters["warm"])))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
