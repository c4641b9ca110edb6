#!/usr/bin/env python3
#===- gpu_numba.py - The GPU benchmark's kernels in numba.cuda -------------===#
#
# The same three kernels as bench/gpu_bench.cpp, written for numba.cuda the
# way the seed course writes them, on the same sizes and launch shapes,
# timed the same way (CUDA events, interleaved, median of --reps after a
# warm-up launch that compiles). For the "at least 1.0x numba.cuda" target
# of issue 7: run both on the same GPU and compare the medians.
#
#   python3 bench/gpu_numba.py [--reps N]
#
# Needs numba with CUDA support (numba-cuda) and a GPU; exits 1 with a
# message otherwise.
#
#===------------------------------------------------------------------------===#

import argparse
import sys

try:
    import numpy as np
    from numba import cuda, float32, uint32, jit
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"gpu_numba.py: needs numpy and numba: {e}", file=sys.stderr)
    sys.exit(1)

TPB = 16


@cuda.jit
def smooth_kernel(x, out):
    j, i, k = cuda.grid(3)
    if k < x.shape[0] and i < x.shape[1] and j < x.shape[2]:
        if i >= 1 and i < x.shape[1] - 1 and j >= 1 and j < x.shape[2] - 1:
            out[k, i, j] = (x[k, i - 1, j - 1] + x[k, i - 1, j] + x[k, i - 1, j + 1] +
                            x[k, i, j - 1] + x[k, i, j] + x[k, i, j + 1] +
                            x[k, i + 1, j - 1] + x[k, i + 1, j] + x[k, i + 1, j + 1]) // 9
        else:
            out[k, i, j] = 0


@cuda.jit(device=True)
def mandel_gpu(x, y, max_iters):
    c = complex(x, y)
    z = 0.0j
    for i in range(max_iters):
        z = z * z + c
        if z.real * z.real + z.imag * z.imag >= 4:
            return i
    return max_iters


@cuda.jit
def create_fractal_kernel(xmin, xmax, ymin, ymax, image, iters):
    height, width = image.shape
    pixel_size_x = (xmax - xmin) / width
    pixel_size_y = (ymax - ymin) / height
    startX, startY = cuda.grid(2)
    gridX = cuda.gridDim.x * cuda.blockDim.x
    gridY = cuda.gridDim.y * cuda.blockDim.y
    for x in range(startX, width, gridX):
        real = xmin + x * pixel_size_x
        for y in range(startY, height, gridY):
            imag = ymin + y * pixel_size_y
            image[y, x] = mandel_gpu(real, imag, iters)


@cuda.jit
def matrix_multiplication_cuda(A, B, C):
    row, col = cuda.grid(2)
    if row < C.shape[0] and col < C.shape[1]:
        tmp = 0.
        for k in range(A.shape[1]):
            tmp += A[row, k] * B[k, col]
        C[row, col] = tmp


@cuda.jit
def matrix_multiplication_cuda_fast(A, B, C):
    sA = cuda.shared.array(shape=(TPB, TPB), dtype=float32)
    sB = cuda.shared.array(shape=(TPB, TPB), dtype=float32)
    x, y = cuda.grid(2)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    bpg = cuda.gridDim.x
    if x >= C.shape[0] and y >= C.shape[1]:
        return
    tmp = float32(0.)
    for i in range(bpg):
        sA[tx, ty] = A[x, ty + i * TPB]
        sB[tx, ty] = B[tx + i * TPB, y]
        cuda.syncthreads()
        for j in range(TPB):
            tmp += sA[tx, j] * sB[j, ty]
        cuda.syncthreads()
    C[x, y] = tmp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    if not cuda.is_available():
        print("gpu_numba.py: no CUDA GPU available to numba", file=sys.stderr)
        return 1
    dev = cuda.get_current_device()
    print(f"device: {dev.name.decode() if isinstance(dev.name, bytes) else dev.name}, "
          f"numba.cuda")
    rng = np.random.default_rng(12345)
    K, N, M = 256, 1000, 1000
    dx = cuda.to_device(rng.integers(-128, 128, size=(K, N, M), dtype=np.int8))
    dout = cuda.device_array((K, N, M), dtype=np.int8)
    dcopy = cuda.device_array((K, N, M), dtype=np.int8)
    sblock, sgrid = (128, 2), ((M + 127) // 128, (N + 1) // 2, K)
    H, W = 1024, 1536
    dimg = cuda.device_array((H, W), dtype=np.uint8)
    n = 2048
    da = cuda.to_device(rng.uniform(-1, 1, (n, n)).astype(np.float32))
    db = cuda.to_device(rng.uniform(-1, 1, (n, n)).astype(np.float32))
    dc = cuda.device_array((n, n), dtype=np.float32)
    f = np.float32
    variants = [
        ("copy DtoD 256 MB", 2.0 * K * N * M, 0, lambda: dcopy.copy_to_device(dx)),
        ("smooth 256x1000x1000 i8", 2.0 * K * N * M, 0,
         lambda: smooth_kernel[sgrid, sblock](dx, dout)),
        ("mandelbrot grid 32x16 (course)", 0, 0,
         lambda: create_fractal_kernel[(32, 16), (32, 8)](f(-2), f(1), f(-1), f(1), dimg,
                                                         np.uint32(50))),
        ("mandelbrot grid covering image", 0, 0,
         lambda: create_fractal_kernel[(W // 32, H // 8), (32, 8)](f(-2), f(1), f(-1), f(1),
                                                                   dimg, np.uint32(50))),
        ("matmul tiled f32 n=2048", 0, 2.0 * n ** 3,
         lambda: matrix_multiplication_cuda_fast[(n // 16, n // 16), (16, 16)](da, db, dc)),
        ("matmul plain f32 n=2048", 0, 2.0 * n ** 3,
         lambda: matrix_multiplication_cuda[(n // 16, n // 16), (16, 16)](da, db, dc)),
    ]
    for _, _, _, run in variants:  # compile + warm up
        run()
    cuda.synchronize()
    start, stop = cuda.event(), cuda.event()
    times = {name: [] for name, _, _, _ in variants}
    for _ in range(args.reps):
        for name, _, _, run in variants:
            start.record()
            run()
            stop.record()
            stop.synchronize()
            times[name].append(cuda.event_elapsed_time(start, stop))
    print(f"\n{'variant':34} {'median ms':>12} {'GB/s':>12} {'GFLOP/s':>12}")
    for name, nbytes, flops, _ in variants:
        ms = float(np.median(times[name]))
        gbs = f"{nbytes / ms / 1e6:.0f}" if nbytes else "-"
        gfl = f"{flops / ms / 1e6:.0f}" if flops else "-"
        print(f"{name:34} {ms:12.4f} {gbs:>12} {gfl:>12}")
    copy = float(np.median(times["copy DtoD 256 MB"]))
    smooth = float(np.median(times["smooth 256x1000x1000 i8"]))
    print(f"\nsmooth / copy bandwidth: {100 * copy / smooth:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
