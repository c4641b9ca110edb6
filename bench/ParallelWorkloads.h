//===- ParallelWorkloads.h - Shared parallel workloads ------*- C++ -*-===//
//
// Issue 5's parallel workloads as stn kernels (prange in
// @jit(parallel=True)) and as hand-written C++ references (OpenMP, built
// with -O3 -march=native -fopenmp): Monte Carlo pi, Mandelbrot and a 2-D
// heat step. bench/parallel.cpp (Google Benchmark) and bench/suite.cpp
// (tools/bench-suite.sh) both time them.
//
//===----------------------------------------------------------------------===//

#ifndef STN_BENCH_PARALLELWORKLOADS_H
#define STN_BENCH_PARALLELWORKLOADS_H

#include <cstdint>

namespace stn::bench {

/// The stn kernels: monte_carlo_pi(nexperiments, nsamples),
/// mandelbrot(image, iters) and heat(u, out).
inline constexpr const char *ParallelKernels = R"stn(
import numpy as np
from numba import jit, njit, prange

@jit(parallel=True)
def monte_carlo_pi(nexperiments, nsamples):
    total = 0.0
    for e in prange(nexperiments):
        acc = 0
        for i in range(nsamples):
            x = np.random.random()
            y = np.random.random()
            if x * x + y * y < 1.0:
                acc += 1
        total += 4.0 * acc / nsamples
    return total / nexperiments

@jit(parallel=True)
def mandelbrot(image, iters):
    height = image.shape[0]
    width = image.shape[1]
    for y in prange(height):
        imag = -1.0 + y * (2.0 / height)
        for x in range(width):
            real = -2.0 + x * (3.0 / width)
            cr = real
            ci = imag
            zr = 0.0
            zi = 0.0
            n = iters
            for i in range(iters):
                zr2 = zr * zr
                zi2 = zi * zi
                if zr2 + zi2 >= 4.0:
                    n = i
                    break
                zi = 2.0 * zr * zi + ci
                zr = zr2 - zi2 + cr
            image[y, x] = n

@jit(parallel=True)
def heat(u, out):
    n = u.shape[0]
    m = u.shape[1]
    for i in prange(1, n - 1):
        for j in range(1, m - 1):
            out[i, j] = u[i, j] + np.float32(0.1) * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] - np.float32(4.0) * u[i, j])
)stn";

/// xoshiro256** (Blackman and Vigna), seeded through splitmix64: the
/// generator stn's kernels use, for the Monte Carlo reference.
struct Xoshiro {
  uint64_t St[4];
  explicit Xoshiro(uint64_t Seed) {
    for (auto &W : St) {
      uint64_t Z = (Seed += 0x9e3779b97f4a7c15ull);
      Z = (Z ^ (Z >> 30)) * 0xbf58476d1ce4e5b9ull;
      Z = (Z ^ (Z >> 27)) * 0x94d049bb133111ebull;
      W = Z ^ (Z >> 31);
    }
  }
  static uint64_t rotl(uint64_t X, int K) { return (X << K) | (X >> (64 - K)); }
  double next() {
    uint64_t R = rotl(St[1] * 5, 7) * 9, T = St[1] << 17;
    St[2] ^= St[0];
    St[3] ^= St[1];
    St[1] ^= St[2];
    St[0] ^= St[3];
    St[2] ^= T;
    St[3] = rotl(St[3], 45);
    return double(R >> 11) * 0x1.0p-53;
  }
};

__attribute__((noinline)) inline double monteCarloCpp(int64_t Experiments, int64_t Samples) {
  double Total = 0;
#pragma omp parallel for schedule(dynamic) reduction(+ : Total)
  for (int64_t E = 0; E < Experiments; ++E) {
    Xoshiro Gen(uint64_t(E) * 7919 + 1);
    int64_t Acc = 0;
    for (int64_t I = 0; I < Samples; ++I) {
      double X = Gen.next(), Y = Gen.next();
      Acc += X * X + Y * Y < 1.0;
    }
    Total += 4.0 * double(Acc) / double(Samples);
  }
  return Total / double(Experiments);
}

__attribute__((noinline)) inline void mandelbrotCpp(int64_t *Image, int64_t H, int64_t W, int64_t Iters) {
#pragma omp parallel for schedule(dynamic)
  for (int64_t Y = 0; Y < H; ++Y) {
    double Imag = -1.0 + double(Y) * (2.0 / double(H));
    for (int64_t X = 0; X < W; ++X) {
      double Cr = -2.0 + double(X) * (3.0 / double(W)), Ci = Imag, Zr = 0, Zi = 0;
      int64_t Count = Iters;
      for (int64_t I = 0; I < Iters; ++I) {
        double Zr2 = Zr * Zr, Zi2 = Zi * Zi;
        if (Zr2 + Zi2 >= 4.0) {
          Count = I;
          break;
        }
        Zi = 2.0 * Zr * Zi + Ci;
        Zr = Zr2 - Zi2 + Cr;
      }
      Image[Y * W + X] = Count;
    }
  }
}

__attribute__((noinline)) inline void heatCpp(const float *__restrict U, float *__restrict Out, int64_t N,
                                       int64_t M) {
#pragma omp parallel for schedule(dynamic)
  for (int64_t I = 1; I < N - 1; ++I)
    for (int64_t J = 1; J < M - 1; ++J)
      Out[I * M + J] =
          U[I * M + J] + 0.1f * (U[(I - 1) * M + J] + U[(I + 1) * M + J] + U[I * M + J - 1] +
                                 U[I * M + J + 1] - 4.0f * U[I * M + J]);
}

} // namespace stn::bench

#endif // STN_BENCH_PARALLELWORKLOADS_H
