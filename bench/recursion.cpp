//===- recursion.cpp - Recursive @jit functions vs C++ --------------------===//
//
// Two recursive functions, each as an stn kernel and as the same C++:
//
//   BM_StnFib / BM_CppFib           fib(n) = fib(n - 1) + fib(n - 2), n = 30
//                                   (1.6M calls doing almost nothing else:
//                                   the cost of a call and of stn's stack
//                                   check, which C++ does not make)
//   BM_StnTreeSum / BM_CppTreeSum   the sum of 1M float64 by halving the
//                                   range until 16 values remain (the
//                                   divide-and-conquer shape of mergesort)
//
// Compare each stn result with the C++ one of the same run. STN_BENCH_FIB_N
// sets n.
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
from numba import njit

@njit
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

@njit
def tree_sum(a, lo, hi):
    if hi - lo <= 16:
        s = 0.0
        for i in range(lo, hi):
            s += a[i]
        return s
    mid = (lo + hi) // 2
    return tree_sum(a, lo, mid) + tree_sum(a, mid, hi)
)stn";

int64_t fibN() {
  const char *s = std::getenv("STN_BENCH_FIB_N");
  return s ? std::max<int64_t>(1, std::atoll(s)) : 30;
}

// noinline keeps GCC from unrolling the recursion into its caller, which
// the stn side (one call per level) does not do either.
__attribute__((noinline)) int64_t cppFib(int64_t n) {
  return n < 2 ? n : cppFib(n - 1) + cppFib(n - 2);
}

__attribute__((noinline)) double cppTreeSum(const double *a, int64_t lo, int64_t hi) {
  if (hi - lo <= 16) {
    double s = 0.0;
    for (int64_t i = lo; i < hi; ++i)
      s += a[i];
    return s;
  }
  int64_t mid = (lo + hi) / 2;
  return cppTreeSum(a, lo, mid) + cppTreeSum(a, mid, hi);
}

const std::vector<double> &input() {
  static std::vector<double> data = [] {
    std::vector<double> d(size_t{1} << 20);
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (auto &v : d)
      v = u(rng);
    return d;
  }();
  return data;
}

stn::Module &module() {
  static stn::Engine e;
  static stn::Module m = e.loadString(Source, "recursion.stn");
  return m;
}

void BM_StnFib(benchmark::State &state) {
  stn::Kernel k = module().kernel("fib");
  int64_t n = fibN();
  if (k(n).asInt() != cppFib(n))
    throw std::runtime_error("fib differs from the C++ function");
  for (auto _ : state)
    benchmark::DoNotOptimize(k(n).asInt());
}

void BM_CppFib(benchmark::State &state) {
  int64_t n = fibN();
  for (auto _ : state)
    benchmark::DoNotOptimize(cppFib(n));
}

void BM_StnTreeSum(benchmark::State &state) {
  stn::Kernel k = module().kernel("tree_sum");
  const auto &a = input();
  auto n = static_cast<int64_t>(a.size());
  auto view = stn::ArrayView::of(a.data(), {n});
  // The same additions in the same order: equal bits.
  if (k(view, int64_t{0}, n).asDouble() != cppTreeSum(a.data(), 0, n))
    throw std::runtime_error("tree_sum differs from the C++ function");
  for (auto _ : state)
    benchmark::DoNotOptimize(k(view, int64_t{0}, n).asDouble());
}

void BM_CppTreeSum(benchmark::State &state) {
  const auto &a = input();
  auto n = static_cast<int64_t>(a.size());
  for (auto _ : state)
    benchmark::DoNotOptimize(cppTreeSum(a.data(), 0, n));
}

BENCHMARK(BM_StnFib)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppFib)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StnTreeSum)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppTreeSum)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
