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
//   RandomArray     np.random.random(2^20) into a new array, against the same
//                   generator filling a malloc'ed array in C++ (one thread)
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

#include "ParallelWorkloads.h"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace stn::bench;

/// A small sum, parallel and serial (monte_carlo_pi, mandelbrot and heat
/// come from ParallelWorkloads.h).
const char *Source = R"stn(
import numpy as np
from numba import jit, njit, prange

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

@njit
def first(a):
    return a[0]

@njit
def uniform_array(n):
    return np.random.random(n)
)stn";

stn::Engine &engine() {
  static stn::Engine e;
  return e;
}

/// The module of `name`: "workloads" (ParallelWorkloads.h) or "small".
stn::Module &module(const char *name = "workloads") {
  static stn::Module workloads = engine().loadString(ParallelKernels, "parallel.stn");
  static stn::Module small = engine().loadString(Source, "small.stn");
  return std::string(name) == "small" ? small : workloads;
}

//===--- References ------------------------------------------------------===//

/// `n` uniform float64 in a new array, from the generator stn's kernels use.
__attribute__((noinline)) double *uniformArrayCpp(Xoshiro &gen, int64_t n) {
  auto *out = static_cast<double *>(std::malloc(size_t(n) * sizeof(double)));
  for (int64_t i = 0; i < n; ++i)
    out[i] = gen.next();
  return out;
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

/// Calls `kernel` of the "small" module on 1000 float64, timing each call.
void callSmall(benchmark::State &state, const char *kernel) {
  std::vector<double> a(1000, 0.5);
  stn::Kernel k = module("small").kernel(kernel);
  auto v = stn::ArrayView::of(a.data(), {1000});
  for (auto _ : state)
    benchmark::DoNotOptimize(k(v).asDouble());
}
void BM_SumSmall_Parallel(benchmark::State &state) { callSmall(state, "psum"); }
void BM_SumSmall_Serial(benchmark::State &state) { callSmall(state, "ssum"); }

/// What one call of a kernel costs besides its work: argument checks,
/// finding the specialization, marshalling, the result as a Value.
void BM_CallOverhead(benchmark::State &state) { callSmall(state, "first"); }

constexpr int64_t RandomN = int64_t(1) << 20;

void BM_RandomArray_Stn(benchmark::State &state) {
  stn::Kernel k = module("small").kernel("uniform_array");
  for (auto _ : state)
    benchmark::DoNotOptimize(k(RandomN).array().data<double>());
  state.SetItemsProcessed(state.iterations() * RandomN);
}
void BM_RandomArray_Cpp(benchmark::State &state) {
  Xoshiro gen(1);
  for (auto _ : state) {
    double *out = uniformArrayCpp(gen, RandomN);
    benchmark::DoNotOptimize(out);
    std::free(out);
  }
  state.SetItemsProcessed(state.iterations() * RandomN);
}

#define STN_PAIR(name)                                                                         \
  BENCHMARK(BM_##name##_Stn)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond); \
  BENCHMARK(BM_##name##_Cpp)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond)

STN_PAIR(MonteCarloPi);
STN_PAIR(Mandelbrot);
STN_PAIR(Heat);
STN_PAIR(RandomArray);
BENCHMARK(BM_Memcpy)
    ->Arg(1)
    ->Arg(omp_get_max_threads())
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SumSmall_Parallel)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_SumSmall_Serial)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_CallOverhead)->UseRealTime()->MeasureProcessCPUTime();

} // namespace

BENCHMARK_MAIN();
