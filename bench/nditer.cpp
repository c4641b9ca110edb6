//===- nditer.cpp - np.ndindex, np.ndenumerate and a.flat vs loops --------===//
//
// One weighted sum over a (400, 500) float64 array, s += a[i, j] * (i - j),
// written five ways in stn and once in C++:
//
//   BM_StnNested       for i in range(n): for j in range(m): ... (reference)
//   BM_StnNdIndex      for idx in np.ndindex(a.shape): ... a[idx] ... idx[0]
//   BM_StnNdEnumerate  for (i, j), v in np.ndenumerate(a): ...
//   BM_StnFlat         for x in a.flat: ... (i and j counted in the loop)
//   BM_StnFlatT        the same over a.T (not contiguous: per-axis counters)
//   BM_CppNested       the nested loops in C++
//
// Each stn kernel is checked against the C++ sum before it is timed. Compare
// the times within one run (ratios to BM_CppNested and BM_StnNested).
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const char *Source = R"stn(
import numpy as np
from numba import njit

@njit
def nested(a):
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j] * (i - j)
    return s

@njit
def by_ndindex(a):
    s = 0.0
    for idx in np.ndindex(a.shape):
        s += a[idx] * (idx[0] - idx[1])
    return s

@njit
def by_ndenumerate(a):
    s = 0.0
    for (i, j), v in np.ndenumerate(a):
        s += v * (i - j)
    return s

@njit
def by_flat(a):
    s = 0.0
    m = a.shape[1]
    i = 0
    j = 0
    for x in a.flat:
        s += x * (i - j)
        j += 1
        if j == m:
            j = 0
            i += 1
    return s

@njit
def by_flat_t(a):
    s = 0.0
    for (j, i), v in zip(np.ndindex(a.T.shape), a.T.flat):
        s += v * (i - j)
    return s
)stn";

constexpr int64_t Rows = 400, Cols = 500;

const std::vector<double> &input() {
  static std::vector<double> data = [] {
    std::vector<double> d(Rows * Cols);
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (auto &v : d)
      v = u(rng);
    return d;
  }();
  return data;
}

__attribute__((noinline)) double cppNested(const double *a, int64_t n, int64_t m) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j)
      s += a[i * m + j] * static_cast<double>(i - j);
  return s;
}

stn::Module &module() {
  static stn::Engine e;
  static stn::Module m = e.loadString(Source, "nditer.stn");
  return m;
}

void run(benchmark::State &state, const char *name) {
  stn::Kernel k = module().kernel(name);
  auto view = stn::ArrayView::of(input().data(), {Rows, Cols});
  double want = cppNested(input().data(), Rows, Cols);
  // by_flat_t sums in another order (column by column).
  if (std::abs(k(view).asDouble() - want) > 1e-9 * (1 + std::abs(want)))
    throw std::runtime_error(std::string(name) + " differs from the C++ loops");
  for (auto _ : state)
    benchmark::DoNotOptimize(k(view).asDouble());
}

void BM_StnNested(benchmark::State &s) { run(s, "nested"); }
void BM_StnNdIndex(benchmark::State &s) { run(s, "by_ndindex"); }
void BM_StnNdEnumerate(benchmark::State &s) { run(s, "by_ndenumerate"); }
void BM_StnFlat(benchmark::State &s) { run(s, "by_flat"); }
void BM_StnFlatT(benchmark::State &s) { run(s, "by_flat_t"); }

void BM_CppNested(benchmark::State &state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(cppNested(input().data(), Rows, Cols));
}

BENCHMARK(BM_StnNested)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_StnNdIndex)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_StnNdEnumerate)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_StnFlat)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_StnFlatT)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_CppNested)->Unit(benchmark::kMicrosecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
