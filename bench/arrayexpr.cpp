//===- arrayexpr.cpp - A fused NumPy array expression against C++ ---------===//
//
// Issue 3's measurement: `c = np.sqrt(a*a + b*b)` over two float32 arrays
// of 64M elements, written as a NumPy expression in an stn @njit kernel that
// returns a new array, against the same loop written by hand in C++, in the
// same process:
//
//   BM_StnNewArray       the kernel: one fused loop, one new 256 MB result
//                        array per call (freed when the returned Value dies)
//   BM_CppPreallocated   the C++ loop writing a preallocated array (the
//                        floor: no allocation, pages already mapped)
//   BM_CppFreshAligned   the C++ loop writing a fresh 64-byte-aligned buffer
//                        (std::aligned_alloc, not initialized) each
//                        iteration: the fair comparison with the kernel,
//                        which also writes fresh memory
//   BM_CppFreshVector    the same with a std::vector<float>(n), which zero-
//                        fills its memory first (what plain C++ code often
//                        does)
//
// The C++ reference is compiled with -O3 -march=native -fno-math-errno
// -ffp-contract=off (bench/CMakeLists.txt): stn does not contract a*a + b*b
// into an FMA without fastmath, so both compute the same IEEE operations and
// the results are compared bit for bit before timing. Throughput counts 3
// arrays of bytes per iteration (a and b read, c written). See
// bench/README.md for how to run and read it.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace {

const char *Source = R"stn(
import numpy as np
from numba import njit

@njit
def hypot(a, b):
    c = np.sqrt(a * a + b * b)
    return c
)stn";

constexpr int64_t Size = int64_t{64} << 20; // 64M float32 elements, 256 MB per array

struct Data {
  std::vector<float> a, b, out;
  Data() : a(Size), b(Size), out(Size) {
    for (int64_t i = 0; i < Size; ++i) {
      a[size_t(i)] = static_cast<float>(i % 1000) * 0.5f;
      b[size_t(i)] = static_cast<float>(i % 777) * 0.25f;
    }
  }
};

Data &data() {
  static Data d;
  return d;
}

__attribute__((noinline)) void hypotCpp(const float *__restrict a, const float *__restrict b,
                                        float *__restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = std::sqrt(a[i] * a[i] + b[i] * b[i]);
}

void bytes(benchmark::State &state) {
  state.SetBytesProcessed(state.iterations() * 3 * Size * int64_t(sizeof(float)));
}

struct FreeDeleter {
  void operator()(float *p) const { std::free(p); }
};

void BM_StnNewArray(benchmark::State &state) {
  Data &d = data();
  stn::Engine engine;
  stn::Kernel k = engine.loadString(Source, "arrayexpr.stn").kernel("hypot");
  auto a = stn::ArrayView::of(d.a.data(), {Size}), b = stn::ArrayView::of(d.b.data(), {Size});
  {
    // The first call compiles; check it against the C++ loop.
    stn::Value v = k(a, b);
    hypotCpp(d.a.data(), d.b.data(), d.out.data(), Size);
    if (!v.isArray() || v.array().dtype() != stn::DType::Float32 || v.array().size() != Size ||
        std::memcmp(v.array().data(), d.out.data(), Size * sizeof(float)) != 0) {
      state.SkipWithError("stn's result differs from the C++ loop");
      return;
    }
  }
  for (auto _ : state) {
    stn::Value v = k(a, b);
    benchmark::DoNotOptimize(v.array().data());
  }
  bytes(state);
}

void BM_CppPreallocated(benchmark::State &state) {
  Data &d = data();
  for (auto _ : state) {
    hypotCpp(d.a.data(), d.b.data(), d.out.data(), Size);
    benchmark::DoNotOptimize(d.out.data());
    benchmark::ClobberMemory();
  }
  bytes(state);
}

void BM_CppFreshAligned(benchmark::State &state) {
  Data &d = data();
  for (auto _ : state) {
    std::unique_ptr<float, FreeDeleter> out(
        static_cast<float *>(std::aligned_alloc(64, Size * sizeof(float))));
    hypotCpp(d.a.data(), d.b.data(), out.get(), Size);
    benchmark::DoNotOptimize(out.get());
    benchmark::ClobberMemory();
  }
  bytes(state);
}

void BM_CppFreshVector(benchmark::State &state) {
  Data &d = data();
  for (auto _ : state) {
    std::vector<float> out(static_cast<size_t>(Size));
    hypotCpp(d.a.data(), d.b.data(), out.data(), Size);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  bytes(state);
}

BENCHMARK(BM_StnNewArray)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppPreallocated)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppFreshAligned)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppFreshVector)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
