//===- parallel.cpp - Parallel stn kernels against OpenMP C++ -------------===//
//
// Issue 5's workloads, each as a `@jit(parallel=True)` stn kernel with
// prange and as a hand-written C++ loop compiled with -O3 -march=native
// -fopenmp (linked against the same OpenMP runtime as stn, libomp), in one
// process, plus memcpy of the same bytes on 1 and all threads as the
// bandwidth reference:
//
//   MonteCarloPi    10 x 10^6 samples (prange over experiments)
//   Mandelbrot      1024 x 1536, 50 iterations (prange over rows)
//   Heat            one 5-point step on 8192 x 8192 float32 (prange over rows)
//   SumSmall        a parallel sum over 1000 float64: must not be slower than
//                   the serial kernel (the region runs serially)
//
// Wall time is the figure of merit (UseRealTime); process CPU time is
// measured too (MeasureProcessCPUTime), so a runtime whose threads keep
// spinning after a region shows up as CPU time far above wall time x
// threads. Run with --benchmark_repetitions=5
// --benchmark_report_aggregates_only=true and compare medians of the same
// run (bench/README.md).
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

const char *Source = R"stn(
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

@jit(parallel=True)
def psum(a):
    s = 0.0
    for i in prange(a.shape[0]):
        s += a[i]
    return s

@njit
def ssum(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
    return s
)stn";

stn::Module &module() {
  static stn::Engine engine;
  static stn::Module m = engine.loadString(Source, "parallel.stn");
  return m;
}

//===--- References ------------------------------------------------------===//

struct Xoshiro {
  uint64_t s[4];
  explicit Xoshiro(uint64_t seed) {
    for (auto &w : s) {
      uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      w = z ^ (z >> 31);
    }
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  double next() {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return double(r >> 11) * 0x1.0p-53;
  }
};

__attribute__((noinline)) double monteCarloCpp(int64_t experiments, int64_t samples) {
  double total = 0;
#pragma omp parallel for schedule(dynamic) reduction(+ : total)
  for (int64_t e = 0; e < experiments; ++e) {
    Xoshiro g(uint64_t(e) * 7919 + 1);
    int64_t acc = 0;
    for (int64_t i = 0; i < samples; ++i) {
      double x = g.next(), y = g.next();
      acc += x * x + y * y < 1.0;
    }
    total += 4.0 * double(acc) / double(samples);
  }
  return total / double(experiments);
}

__attribute__((noinline)) void mandelbrotCpp(int64_t *image, int64_t h, int64_t w, int64_t iters) {
#pragma omp parallel for schedule(dynamic)
  for (int64_t y = 0; y < h; ++y) {
    double imag = -1.0 + double(y) * (2.0 / double(h));
    for (int64_t x = 0; x < w; ++x) {
      double cr = -2.0 + double(x) * (3.0 / double(w)), ci = imag, zr = 0, zi = 0;
      int64_t n = iters;
      for (int64_t i = 0; i < iters; ++i) {
        double zr2 = zr * zr, zi2 = zi * zi;
        if (zr2 + zi2 >= 4.0) {
          n = i;
          break;
        }
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
      }
      image[y * w + x] = n;
    }
  }
}

__attribute__((noinline)) void heatCpp(const float *__restrict u, float *__restrict out, int64_t n,
                                       int64_t m) {
#pragma omp parallel for schedule(dynamic)
  for (int64_t i = 1; i < n - 1; ++i)
    for (int64_t j = 1; j < m - 1; ++j)
      out[i * m + j] = u[i * m + j] + 0.1f * (u[(i - 1) * m + j] + u[(i + 1) * m + j] +
                                               u[i * m + j - 1] + u[i * m + j + 1] -
                                               4.0f * u[i * m + j]);
}

//===--- Benchmarks ------------------------------------------------------===//

constexpr int64_t Experiments = 10, Samples = 1000000;

void BM_MonteCarloPi_Stn(benchmark::State &state) {
  stn::Kernel k = module().kernel("monte_carlo_pi");
  for (auto _ : state)
    benchmark::DoNotOptimize(k(Experiments, Samples).asDouble());
}
void BM_MonteCarloPi_Cpp(benchmark::State &state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(monteCarloCpp(Experiments, Samples));
}

constexpr int64_t MH = 1024, MW = 1536, MIters = 50;

void BM_Mandelbrot_Stn(benchmark::State &state) {
  std::vector<int64_t> image(MH * MW);
  stn::Kernel k = module().kernel("mandelbrot");
  auto v = stn::ArrayView::of(image.data(), {MH, MW});
  for (auto _ : state)
    k(v, MIters);
}
void BM_Mandelbrot_Cpp(benchmark::State &state) {
  std::vector<int64_t> image(MH * MW);
  for (auto _ : state)
    mandelbrotCpp(image.data(), MH, MW, MIters);
}

constexpr int64_t HN = 8192;

std::vector<float> &heatInput() {
  static std::vector<float> u = [] {
    std::vector<float> v(HN * HN);
    for (int64_t i = 0; i < HN * HN; ++i)
      v[size_t(i)] = float(i % 97) * 0.01f;
    return v;
  }();
  return u;
}

void heatBytes(benchmark::State &state) {
  state.SetBytesProcessed(state.iterations() * 2 * HN * HN * int64_t(sizeof(float)));
}

void BM_Heat_Stn(benchmark::State &state) {
  std::vector<float> out(HN * HN);
  stn::Kernel k = module().kernel("heat");
  auto u = stn::ArrayView::of(heatInput().data(), {HN, HN});
  auto o = stn::ArrayView::of(out.data(), {HN, HN});
  for (auto _ : state)
    k(u, o);
  heatBytes(state);
}
void BM_Heat_Cpp(benchmark::State &state) {
  std::vector<float> out(HN * HN);
  for (auto _ : state)
    heatCpp(heatInput().data(), out.data(), HN, HN);
  heatBytes(state);
}

void BM_Memcpy(benchmark::State &state) {
  int threads = int(state.range(0));
  const std::vector<float> &in = heatInput();
  std::vector<float> out(in.size());
  const size_t n = in.size();
  for (auto _ : state) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int t = 0; t < threads; ++t) {
      size_t lo = n * size_t(t) / size_t(threads), hi = n * size_t(t + 1) / size_t(threads);
      std::memcpy(out.data() + lo, in.data() + lo, (hi - lo) * sizeof(float));
    }
  }
  heatBytes(state);
}

void BM_SumSmall_Parallel(benchmark::State &state) {
  std::vector<double> a(1000, 0.5);
  stn::Kernel k = module().kernel("psum");
  auto v = stn::ArrayView::of(a.data(), {1000});
  for (auto _ : state)
    benchmark::DoNotOptimize(k(v).asDouble());
}
void BM_SumSmall_Serial(benchmark::State &state) {
  std::vector<double> a(1000, 0.5);
  stn::Kernel k = module().kernel("ssum");
  auto v = stn::ArrayView::of(a.data(), {1000});
  for (auto _ : state)
    benchmark::DoNotOptimize(k(v).asDouble());
}

#define STN_PAIR(name)                                                                         \
  BENCHMARK(BM_##name##_Stn)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond); \
  BENCHMARK(BM_##name##_Cpp)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond)

STN_PAIR(MonteCarloPi);
STN_PAIR(Mandelbrot);
STN_PAIR(Heat);
BENCHMARK(BM_Memcpy)
    ->Arg(1)
    ->Arg(omp_get_max_threads())
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SumSmall_Parallel)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_SumSmall_Serial)->UseRealTime()->MeasureProcessCPUTime();

} // namespace

BENCHMARK_MAIN();
