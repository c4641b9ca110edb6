#!/usr/bin/env python3
#===- gpu_numba.py - The GPU benchmark's kernels in numba.cuda -------------===#
#
# The same kernels as bench/gpu_bench.cpp, written for numba.cuda the way
# the seed course writes them, on the same sizes and launch shapes, timed
# the same way (CUDA events, interleaved, median of --reps after a warm-up
# launch that compiles), under the same row names. For the "at least 1.0x
# numba.cuda" target of issue 7: run both on the same GPU and compare the
# medians.
#
#   smooth          the hand-written @cuda.jit kernel. It is also the
#                   counterpart of gpu_bench.cpp's "smooth jit cuda i8" row
#                   (cuda_jit.stn's @jit(target="cuda") smooth): numba has no
#                   prange on the GPU, so a @cuda.jit kernel is how numba
#                   users write it. stn's target="cuda" stencil and gufunc
#                   rows have no numba counterpart either (no GPU stencils).
#   smooth rows/thread
#                   the same kernel computing 8 rows of a column per thread,
#                   keeping the sums of the rows above in registers (3 loads
#                   per output), as cuda_smooth.stn's smooth_kernel_rows;
#                   checked against the plain kernel before timing.
#   sum of squares  the float64 sum of x[i] * x[i] over 2^26 float32 on the
#                   device, as numba users write a reduction: a grid-stride
#                   @cuda.jit kernel, a float64 partial per thread, then
#                   cuda.atomic.add into a one-element array; launched like
#                   stn's GPU loop with a reduction (1024 blocks of 256
#                   threads), and like it each run sets the result to 0 on
#                   the device, launches and copies the result back to the
#                   host. A second row ("per block") sums the partials
#                   over each block in shared memory first and adds one
#                   atomic per block, as stn's GPU loops do: compare stn's
#                   row with the faster of the two.
#
#   python3 bench/gpu_numba.py [--reps N] [--small]
#
# --small shrinks every size like stn-bench-gpu --small (the row names
# follow): NUMBA_ENABLE_CUDASIM=1 python3 bench/gpu_numba.py --small
# --reps 1 runs every row in numba's CUDA simulator.
#
# Needs numba with CUDA support (numba-cuda) and a GPU; exits 1 with a
# message otherwise.
#
#===------------------------------------------------------------------------===#

import argparse
import sys

try:
    import numpy as np
    from numba import cuda, float32, float64, uint32, jit
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


ROWS = 8


@cuda.jit
def smooth_kernel_rows(x, out):
    j, r, k = cuda.grid(3)
    n = x.shape[1]
    m = x.shape[2]
    first = r * ROWS
    if k < x.shape[0] and j < m and first < n:
        last = min(first + ROWS, n)
        if j >= 1 and j < m - 1:
            above = 0
            if first >= 1:
                above = x[k, first - 1, j - 1] + x[k, first - 1, j] + x[k, first - 1, j + 1]
            here = x[k, first, j - 1] + x[k, first, j] + x[k, first, j + 1]
            for i in range(first, last):
                below = 0
                if i + 1 < n:
                    below = x[k, i + 1, j - 1] + x[k, i + 1, j] + x[k, i + 1, j + 1]
                if i >= 1 and i < n - 1:
                    out[k, i, j] = (above + here + below) // 9
                else:
                    out[k, i, j] = 0
                above = here
                here = below
        else:
            for i in range(first, last):
                out[k, i, j] = 0


@cuda.jit
def sum_of_squares_kernel(x, out):
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    s = 0.0
    for i in range(start, x.shape[0], stride):
        s += x[i] * x[i]
    cuda.atomic.add(out, 0, s)


SUM_TPB = 256


@cuda.jit
def sum_of_squares_block_kernel(x, out):
    # The same partials, summed over the block in shared memory first: one
    # atomic per block, as stn's GPU loops combine their reductions.
    buf = cuda.shared.array(SUM_TPB, dtype=float64)
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    s = 0.0
    for i in range(start, x.shape[0], stride):
        s += x[i] * x[i]
    t = cuda.threadIdx.x
    buf[t] = s
    cuda.syncthreads()
    half = SUM_TPB // 2
    while half > 0:
        if t < half:
            buf[t] += buf[t + half]
        cuda.syncthreads()
        half //= 2
    if t == 0:
        cuda.atomic.add(out, 0, buf[0])


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
    ap.add_argument("--small", action="store_true",
                    help="shrink every size (smooth 2x64x64, Mandelbrot 64x96, "
                         "matmul n=64, sum of squares n=2^12)")
    args = ap.parse_args()
    if not cuda.is_available():
        print("gpu_numba.py: no CUDA GPU available to numba", file=sys.stderr)
        return 1
    if hasattr(cuda, "get_current_device"):
        dev = cuda.get_current_device()
        name = dev.name.decode() if isinstance(dev.name, bytes) else dev.name
    else:  # NUMBA_ENABLE_CUDASIM=1
        name = "numba CUDA simulator"
    print(f"device: {name}, numba.cuda")
    rng = np.random.default_rng(12345)
    K, N, M = (2, 64, 64) if args.small else (256, 1000, 1000)
    dx = cuda.to_device(rng.integers(-128, 128, size=(K, N, M), dtype=np.int8))
    dout = cuda.device_array((K, N, M), dtype=np.int8)
    dcopy = cuda.device_array((K, N, M), dtype=np.int8)
    sblock, sgrid = (128, 2), ((M + 127) // 128, (N + 1) // 2, K)
    H, W = (64, 96) if args.small else (1024, 1536)
    dimg = cuda.device_array((H, W), dtype=np.uint8)
    n = 64 if args.small else 2048
    da = cuda.to_device(rng.uniform(-1, 1, (n, n)).astype(np.float32))
    db = cuda.to_device(rng.uniform(-1, 1, (n, n)).astype(np.float32))
    dc = cuda.device_array((n, n), dtype=np.float32)
    log2_sum = 12 if args.small else 26
    ns = 1 << log2_sum
    xs = rng.uniform(-1, 1, ns).astype(np.float32)
    dxs = cuda.to_device(xs)
    dsum = cuda.device_array(1, dtype=np.float64)
    zero = np.zeros(1, dtype=np.float64)

    # 1024 blocks like stn's reductions (8 with --small, as in stn's
    # simulator: numba's runs each thread of a block that synchronizes as
    # a Python thread).
    sum_blocks = 8 if args.small else 1024

    def sum_of_squares(kernel=sum_of_squares_kernel):
        dsum.copy_to_device(zero)
        kernel[sum_blocks, SUM_TPB](dxs, dsum)
        return dsum.copy_to_host()[0]

    def sum_of_squares_block():
        return sum_of_squares(sum_of_squares_block_kernel)

    # The kernel with 8 rows per thread gives the plain kernel's result.
    drows = cuda.device_array((K, N, M), dtype=np.int8)
    rgrid = ((M + 127) // 128, ((N + 7) // 8 + 1) // 2, K)
    smooth_kernel[sgrid, sblock](dx, dout)
    smooth_kernel_rows[rgrid, sblock](dx, drows)
    if not np.array_equal(dout.copy_to_host(), drows.copy_to_host()):
        print("gpu_numba.py: smooth rows/thread differs from smooth", file=sys.stderr)
        return 1
    ref = float(np.sum(xs.astype(np.float64) ** 2))
    for run in (sum_of_squares, sum_of_squares_block):
        got = run()
        if not abs(got - ref) <= 1e-6 * ref:
            print(f"gpu_numba.py: sum of squares {got!r}, expected {ref!r}", file=sys.stderr)
            return 1
    f = np.float32
    stack_bytes = K * N * M
    copy_name = (f"copy DtoD {stack_bytes / 1e6:.0f} MB" if stack_bytes >= 1e6
                 else f"copy DtoD {stack_bytes / 1e3:.0f} KB")
    smooth_name = f"smooth {K}x{N}x{M} i8"
    variants = [
        (copy_name, 2.0 * K * N * M, 0, lambda: dcopy.copy_to_device(dx)),
        # Also the counterpart of stn's "smooth jit cuda i8" (no prange on
        # numba's GPU: the @cuda.jit kernel is the comparison).
        (smooth_name, 2.0 * K * N * M, 0,
         lambda: smooth_kernel[sgrid, sblock](dx, dout)),
        (f"smooth rows/thread {K}x{N}x{M} i8", 2.0 * K * N * M, 0,
         lambda: smooth_kernel_rows[rgrid, sblock](dx, drows)),
        ("mandelbrot grid 32x16 (course)", 0, 0,
         lambda: create_fractal_kernel[(32, 16), (32, 8)](f(-2), f(1), f(-1), f(1), dimg,
                                                         np.uint32(50))),
        ("mandelbrot grid covering image", 0, 0,
         lambda: create_fractal_kernel[(W // 32, H // 8), (32, 8)](f(-2), f(1), f(-1), f(1),
                                                                   dimg, np.uint32(50))),
        (f"matmul tiled f32 n={n}", 0, 2.0 * n ** 3,
         lambda: matrix_multiplication_cuda_fast[(n // 16, n // 16), (16, 16)](da, db, dc)),
        (f"matmul plain f32 n={n}", 0, 2.0 * n ** 3,
         lambda: matrix_multiplication_cuda[(n // 16, n // 16), (16, 16)](da, db, dc)),
        (f"sum of squares jit cuda f32 n=2^{log2_sum}", 4.0 * ns, 0, sum_of_squares),
        (f"sum of squares per block n=2^{log2_sum}", 4.0 * ns, 0, sum_of_squares_block),
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
            times[name].append(start.elapsed_time(stop))
    print(f"\n{'variant':34} {'median ms':>12} {'GB/s':>12} {'GFLOP/s':>12}")
    for name, nbytes, flops, _ in variants:
        ms = float(np.median(times[name]))
        # (numba's CUDA simulator times everything as 0 ms)
        gbs = f"{nbytes / ms / 1e6:.0f}" if nbytes and ms > 0 else "-"
        gfl = f"{flops / ms / 1e6:.0f}" if flops and ms > 0 else "-"
        print(f"{name:34} {ms:12.4f} {gbs:>12} {gfl:>12}")
    copy = float(np.median(times[copy_name]))
    smooth = float(np.median(times[smooth_name]))
    if smooth > 0:
        print(f"\nsmooth / copy bandwidth: {100 * copy / smooth:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
