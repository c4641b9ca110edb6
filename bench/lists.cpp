//===- lists.cpp - Lists and comprehensions vs arrays and C++ -------------===//
//
// The filter every list tutorial starts with, keeping the positive values of
// 4M float64 (about half of them), written four ways:
//
//   BM_StnListAppend   out = []; out.append(x); return out   (stn list)
//   BM_StnListComp     return [x for x in a if x > 0]
//   BM_StnPrealloc     out = np.empty(n); out[k] = x; return out[:k]
//   BM_CppVector       std::vector<double>::push_back without reserve
//
// Compare the stn ones with BM_CppVector of the same run: the list's
// growth (doubling, one copy per doubling) against std::vector's.
//
// And the sum of squares of the same values:
//
//   BM_StnGenSum       sum(x * x for x in a)        (no list is made)
//   BM_StnListCompSum  np.sum(np.array([x * x for x in a]))   (a list)
//   BM_StnLoopSum      s = 0.0; for x in a: s += x * x
//   BM_CppSum          the same loop in C++
//
// And a list of arrays: the runs of one sign (about 2 values long on
// average) of at least 4 values, collected as views and joined:
//
//   BM_StnArrayListRuns  runs.append(a[start:i]); np.concatenate(runs)
//   BM_CppRuns           (start, end) pairs in a std::vector, then copies
//
// STN_BENCH_LIST_N sets the number of values.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

namespace {

const char *Source = R"stn(
import numpy as np
from numba import njit

@njit
def positives_list(a):
    out = []
    for x in a:
        if x > 0:
            out.append(x)
    return out

@njit
def positives_prealloc(a):
    out = np.empty(len(a))
    k = 0
    for x in a:
        if x > 0:
            out[k] = x
            k += 1
    return out[:k]

@njit
def positives_comp(a):
    return [x for x in a if x > 0]

@njit
def sumsq_gen(a):
    return sum(x * x for x in a)

@njit
def sumsq_list(a):
    return np.sum(np.array([x * x for x in a]))

@njit
def long_runs(a):
    runs = []
    start = 0
    for i in range(1, len(a)):
        if (a[i] > 0) != (a[i - 1] > 0):
            if i - start >= 4:
                runs.append(a[start:i])
            start = i
    if len(a) - start >= 4:
        runs.append(a[start:])
    return np.concatenate(runs)

@njit
def sumsq_loop(a):
    s = 0.0
    for x in a:
        s += x * x
    return s
)stn";

int64_t count() {
  const char *s = std::getenv("STN_BENCH_LIST_N");
  return s ? std::max<int64_t>(1, std::atoll(s)) : int64_t(1) << 22;
}

const std::vector<double> &input() {
  static std::vector<double> data = [] {
    std::vector<double> d(static_cast<size_t>(count()));
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (auto &v : d)
      v = u(rng);
    return d;
  }();
  return data;
}

std::vector<double> reference() {
  std::vector<double> out;
  for (double x : input())
    if (x > 0)
      out.push_back(x);
  return out;
}

stn::Engine &engine() {
  static stn::Engine e;
  return e;
}

void runStn(benchmark::State &state, const char *kernel) {
  stn::Module m = engine().loadString(Source, "lists.stn");
  auto a = stn::ArrayView::of(input().data(), {count()});
  // Checked against the C++ loop once, outside the timing.
  std::vector<double> want = reference();
  stn::Value r = m.kernel(kernel)(a);
  const stn::Array &got = r.array();
  if (got.shape() != std::vector<int64_t>{int64_t(want.size())} ||
      !std::equal(want.begin(), want.end(), got.data<double>()))
    throw std::runtime_error(std::string(kernel) + " differs from the C++ loop");
  for (auto _ : state) {
    stn::Value v = m.kernel(kernel)(a);
    benchmark::DoNotOptimize(v.array().data<double>());
  }
  state.SetItemsProcessed(state.iterations() * count());
}

void BM_StnListAppend(benchmark::State &state) { runStn(state, "positives_list"); }
void BM_StnListComp(benchmark::State &state) { runStn(state, "positives_comp"); }
void BM_StnPrealloc(benchmark::State &state) { runStn(state, "positives_prealloc"); }

double sumOfSquares() {
  double s = 0.0;
  for (double x : input())
    s += x * x;
  return s;
}

void runStnSum(benchmark::State &state, const char *kernel) {
  stn::Module m = engine().loadString(Source, "lists.stn");
  auto a = stn::ArrayView::of(input().data(), {count()});
  // The same additions in the same order as the C++ loop: equal bits.
  if (m.kernel(kernel)(a).asDouble() != sumOfSquares())
    throw std::runtime_error(std::string(kernel) + " differs from the C++ loop");
  for (auto _ : state)
    benchmark::DoNotOptimize(m.kernel(kernel)(a).asDouble());
  state.SetItemsProcessed(state.iterations() * count());
}

void BM_StnGenSum(benchmark::State &state) { runStnSum(state, "sumsq_gen"); }
void BM_StnListCompSum(benchmark::State &state) { runStnSum(state, "sumsq_list"); }
void BM_StnLoopSum(benchmark::State &state) { runStnSum(state, "sumsq_loop"); }

void BM_CppSum(benchmark::State &state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(sumOfSquares());
  state.SetItemsProcessed(state.iterations() * count());
}

std::vector<double> longRuns() {
  const std::vector<double> &a = input();
  std::vector<std::pair<size_t, size_t>> runs;
  size_t start = 0;
  for (size_t i = 1; i < a.size(); ++i)
    if ((a[i] > 0) != (a[i - 1] > 0)) {
      if (i - start >= 4)
        runs.emplace_back(start, i);
      start = i;
    }
  if (a.size() - start >= 4)
    runs.emplace_back(start, a.size());
  size_t total = 0;
  for (auto &[b, e] : runs)
    total += e - b;
  std::vector<double> out(total);
  size_t at = 0;
  for (auto &[b, e] : runs) {
    std::copy(a.begin() + long(b), a.begin() + long(e), out.begin() + long(at));
    at += e - b;
  }
  return out;
}

void BM_StnArrayListRuns(benchmark::State &state) {
  stn::Module m = engine().loadString(Source, "lists.stn");
  auto a = stn::ArrayView::of(input().data(), {count()});
  std::vector<double> want = longRuns();
  stn::Value r = m.kernel("long_runs")(a);
  const stn::Array &got = r.array();
  if (got.shape() != std::vector<int64_t>{int64_t(want.size())} ||
      !std::equal(want.begin(), want.end(), got.data<double>()))
    throw std::runtime_error("long_runs differs from the C++ loop");
  for (auto _ : state) {
    stn::Value v = m.kernel("long_runs")(a);
    benchmark::DoNotOptimize(v.array().data<double>());
  }
  state.SetItemsProcessed(state.iterations() * count());
}

void BM_CppRuns(benchmark::State &state) {
  for (auto _ : state) {
    std::vector<double> out = longRuns();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * count());
}

void BM_CppVector(benchmark::State &state) {
  for (auto _ : state) {
    std::vector<double> out = reference();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * count());
}

BENCHMARK(BM_StnListAppend)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StnListComp)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StnPrealloc)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppVector)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StnGenSum)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StnListCompSum)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StnLoopSum)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppSum)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StnArrayListRuns)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppRuns)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
