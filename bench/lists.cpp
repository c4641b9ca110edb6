//===- lists.cpp - Lists: append in a loop vs a preallocated array vs C++ -===//
//
// The filter every list tutorial starts with, keeping the positive values of
// 4M float64 (about half of them), written three ways:
//
//   BM_StnListAppend   out = []; out.append(x); return out   (stn list)
//   BM_StnPrealloc     out = np.empty(n); out[k] = x; return out[:k]
//   BM_CppVector       std::vector<double>::push_back without reserve
//
// Compare the first two with BM_CppVector of the same run: the list's
// growth (doubling, one copy per doubling) against std::vector's.
// STN_BENCH_LIST_N sets the number of values.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <stdexcept>
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
void BM_StnPrealloc(benchmark::State &state) { runStn(state, "positives_prealloc"); }

void BM_CppVector(benchmark::State &state) {
  for (auto _ : state) {
    std::vector<double> out = reference();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * count());
}

BENCHMARK(BM_StnListAppend)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StnPrealloc)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppVector)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
