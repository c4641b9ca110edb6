//===- matmul.cpp - stn's matmul example vs a plain C++ triple loop -------===//
//
// Google Benchmark for dsl-examples/matmul.stn at n = 200, float64 (the
// course's size):
//
//   BM_StnLoadFile        fresh Engine + loadFile. Loading compiles the
//                         eagerly-typed matrix_multiplication_sig, so this
//                         is the cost of one compile plus parsing.
//   BM_StnFirstCall       fresh Engine + loadFile + the first call of the
//                         inferred matrix_multiplication (which compiles it):
//                         what a user waits for the first time.
//                         FirstCall - LoadFile - RepeatCall ~ one compile.
//   BM_StnRepeatCall      a call of the already compiled inferred kernel.
//   BM_StnRepeatCallSig   a call of the explicit-signature kernel.
//   BM_CppTripleLoop      the same loop in C++, compiled by the host compiler
//                         with -O3 -march=native (see bench/CMakeLists.txt).
//
// Compare medians as ratios (see bench/README.md), e.g. RepeatCall/CppTripleLoop.
//
// Loop interchange (docs/performance.md, "Loop interchange"), n = 1000
// float64, single calls of already compiled kernels:
//
//   BM_N1000_StnIJK        dsl-examples/matmul.stn's i-j-k loop, serial
//   BM_N1000_StnIJKPrange  the same loop with prange(n) for i (all threads)
//   BM_N1000_CppIJK        the i-j-k loop in C++ (-O3 -march=native)
//   BM_N1000_CppIKJ        the hand-interchanged i-k-j loop in C++
//   BM_N1000_StnAt         `A @ B` (the builtin matrix product, i-k-j, a new
//                          result array each call)
//
// stn compiles the i-j-k nest as i-k-j; STN_INTERCHANGE=0 in the
// environment turns that off (these kernels bypass the on-disk cache, so
// the setting always takes effect):
//
//   build/bench/stn-bench-matmul --benchmark_filter=N1000
//       --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
//   (one command line)
//
//===----------------------------------------------------------------------===

#include "stn/stn.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#ifndef STN_EXAMPLES_DIR
#error "STN_EXAMPLES_DIR must name the dsl-examples/ directory"
#endif

namespace {

constexpr int64_t N = 200;
const std::string MatmulFile = std::string(STN_EXAMPLES_DIR) + "/matmul.stn";

struct Matrices {
  std::vector<double> a, b, c;
  Matrices() : a(N * N), b(N * N), c(N * N, 0.0) {
    std::mt19937_64 gen(42);
    for (double &x : a)
      x = static_cast<double>(gen() >> 11) * 0x1.0p-53;
    for (double &x : b)
      x = static_cast<double>(gen() >> 11) * 0x1.0p-53;
  }
  stn::ArrayView A() { return stn::ArrayView::of(a.data(), {N, N}); }
  stn::ArrayView B() { return stn::ArrayView::of(b.data(), {N, N}); }
  stn::ArrayView C() { return stn::ArrayView::of(c.data(), {N, N}); }
};

/// The course's matrix_multiplication in C++. `noinline` and a runtime `n`
/// keep the compiler from specializing on N = 200, which the JIT cannot do
/// either.
__attribute__((noinline)) void cppMatmul(const double *A, const double *B, double *C,
                                         int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double tmp = 0.;
      for (int64_t k = 0; k < n; ++k)
        tmp += A[i * n + k] * B[k * n + j];
      C[i * n + j] = tmp;
    }
}

/// Checks the stn result against the C++ loop once per benchmark run.
bool sameAsCpp(Matrices &m) {
  std::vector<double> want(N * N);
  cppMatmul(m.a.data(), m.b.data(), want.data(), N);
  for (size_t i = 0; i < want.size(); ++i)
    if (std::abs(m.c[i] - want[i]) > 1e-12 * std::abs(want[i]))
      return false;
  return true;
}

/// The compile-time benchmarks compile every iteration: without the on-disk
/// cache, which would turn all but the first iteration into a warm start
/// (bench/cache_startup.py measures those).
stn::EngineOptions uncached() {
  stn::EngineOptions o;
  o.cacheEnabled = false;
  return o;
}

void BM_StnLoadFile(benchmark::State &state) {
  for (auto _ : state) {
    stn::Engine engine(uncached());
    stn::Module mod = engine.loadFile(MatmulFile);
    benchmark::DoNotOptimize(mod);
  }
}

void BM_StnFirstCall(benchmark::State &state) {
  Matrices m;
  for (auto _ : state) {
    stn::Engine engine(uncached());
    stn::Module mod = engine.loadFile(MatmulFile);
    mod.kernel("matrix_multiplication")(m.A(), m.B(), m.C());
    benchmark::DoNotOptimize(m.c.data());
    benchmark::ClobberMemory();
  }
  if (!sameAsCpp(m))
    state.SkipWithError("stn result differs from the C++ loop");
}

void repeatCall(benchmark::State &state, const char *kernel) {
  Matrices m;
  stn::Engine engine;
  stn::Module mod = engine.loadFile(MatmulFile);
  stn::Kernel mm = mod.kernel(kernel);
  stn::ArrayView a = m.A(), b = m.B(), c = m.C();
  mm(a, b, c); // compile outside the timed loop
  for (auto _ : state) {
    mm(a, b, c);
    benchmark::DoNotOptimize(m.c.data());
    benchmark::ClobberMemory();
  }
  if (!sameAsCpp(m))
    state.SkipWithError("stn result differs from the C++ loop");
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * N * N * N, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_StnRepeatCall(benchmark::State &state) { repeatCall(state, "matrix_multiplication"); }
void BM_StnRepeatCallSig(benchmark::State &state) { repeatCall(state, "matrix_multiplication_sig"); }

void BM_CppTripleLoop(benchmark::State &state) {
  Matrices m;
  for (auto _ : state) {
    cppMatmul(m.a.data(), m.b.data(), m.c.data(), N);
    benchmark::DoNotOptimize(m.c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * N * N * N, benchmark::Counter::kIsIterationInvariantRate);
}

constexpr int64_t BigN = 1000;

const char *kParallelMatmul = R"stn(
from numba import jit, prange

@jit(parallel=True)
def matmul_prange(A, B, C):
    n = len(A[0])
    for i in prange(n):
        for j in range(n):
            tmp = 0.
            for k in range(n):
                tmp += A[i, k]*B[k, j]
            C[i, j] = tmp
)stn";

__attribute__((noinline)) void cppMatmulIKJ(const double *A, const double *B, double *C,
                                            int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j)
      C[i * n + j] = 0.;
    for (int64_t k = 0; k < n; ++k) {
      double a = A[i * n + k];
      for (int64_t j = 0; j < n; ++j)
        C[i * n + j] += a * B[k * n + j];
    }
  }
}

struct BigMatrices {
  std::vector<double> a, b, c;
  BigMatrices() : a(BigN * BigN), b(BigN * BigN), c(BigN * BigN, 0.0) {
    std::mt19937_64 gen(7);
    for (double &x : a)
      x = static_cast<double>(gen() >> 11) * 0x1.0p-53;
    for (double &x : b)
      x = static_cast<double>(gen() >> 11) * 0x1.0p-53;
  }
  stn::ArrayView view(std::vector<double> &v) { return stn::ArrayView::of(v.data(), {BigN, BigN}); }
  /// Compared with the C++ i-j-k loop with a tolerance: g++ may contract the
  /// C++ loop into FMAs, stn does not without fastmath.
  bool sameAsCpp() {
    std::vector<double> want(BigN * BigN);
    cppMatmul(a.data(), b.data(), want.data(), BigN);
    for (size_t i = 0; i < want.size(); ++i)
      if (std::abs(c[i] - want[i]) > 1e-12 * std::abs(want[i]))
        return false;
    return true;
  }
};

void bigStn(benchmark::State &state, bool parallel) {
  BigMatrices m;
  stn::Engine engine(uncached());
  stn::Module mod = parallel ? engine.loadString(kParallelMatmul, "matmul_prange.stn")
                             : engine.loadFile(MatmulFile);
  stn::Kernel mm = mod.kernel(parallel ? "matmul_prange" : "matrix_multiplication");
  stn::ArrayView a = m.view(m.a), b = m.view(m.b), c = m.view(m.c);
  mm(a, b, c); // compile outside the timed loop
  for (auto _ : state) {
    mm(a, b, c);
    benchmark::DoNotOptimize(m.c.data());
    benchmark::ClobberMemory();
  }
  if (!m.sameAsCpp())
    state.SkipWithError("stn result differs from the C++ loop");
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * BigN * BigN * BigN, benchmark::Counter::kIsIterationInvariantRate);
}

void bigCpp(benchmark::State &state, void (*fn)(const double *, const double *, double *, int64_t)) {
  BigMatrices m;
  for (auto _ : state) {
    fn(m.a.data(), m.b.data(), m.c.data(), BigN);
    benchmark::DoNotOptimize(m.c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * BigN * BigN * BigN, benchmark::Counter::kIsIterationInvariantRate);
}

const char *kAtMatmul = R"stn(
from numba import njit

@njit
def at(A, B):
    return A @ B
)stn";

/// `A @ B` (a new result array per call), compared with the i-j-k loop.
void BM_N1000_StnAt(benchmark::State &state) {
  BigMatrices m;
  stn::Engine engine(uncached());
  stn::Module mod = engine.loadString(kAtMatmul, "at.stn");
  stn::Kernel mm = mod.kernel("at");
  stn::ArrayView a = m.view(m.a), b = m.view(m.b);
  stn::Value r = mm(a, b);
  const double *got = r.array().data<double>();
  std::copy(got, got + BigN * BigN, m.c.begin());
  if (!m.sameAsCpp())
    state.SkipWithError("stn result differs from the C++ loop");
  for (auto _ : state)
    benchmark::DoNotOptimize(mm(a, b));
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * BigN * BigN * BigN,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_N1000_StnIJK(benchmark::State &state) { bigStn(state, false); }
void BM_N1000_StnIJKPrange(benchmark::State &state) { bigStn(state, true); }
void BM_N1000_CppIJK(benchmark::State &state) { bigCpp(state, cppMatmul); }
void BM_N1000_CppIKJ(benchmark::State &state) { bigCpp(state, cppMatmulIKJ); }

BENCHMARK(BM_StnLoadFile)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StnFirstCall)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StnRepeatCall)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StnRepeatCallSig)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CppTripleLoop)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_N1000_StnIJK)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_N1000_StnIJKPrange)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_N1000_StnAt)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_N1000_CppIJK)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_N1000_CppIKJ)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
