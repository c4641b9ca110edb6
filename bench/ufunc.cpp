//===- ufunc.cpp - An elementwise ufunc against a hand-written C++ loop ---===//
//
// `hypot(a, b) = sqrt(a*a + b*b)` as an stn @vectorize kernel over two
// float32 arrays of 16M elements (writing into a preallocated out=, and
// returning a new array), against the same loop in C++ compiled with -O3
// -march=native, in the same process. Throughput counts 3 arrays of bytes.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>
#include <vector>

namespace {

const char *Source = R"stn(
import math

@vectorize
def hypot(a, b):
    return math.sqrt(a * a + b * b)
)stn";

constexpr int64_t Size = 16 << 20;

struct Data {
  std::vector<float> a, b, out;
  Data() : a(Size), b(Size), out(Size) {
    for (int64_t i = 0; i < Size; ++i) {
      a[i] = static_cast<float>(i % 1000) * 0.5f;
      b[i] = static_cast<float>(i % 777) * 0.25f;
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

void BM_UfuncStnOut(benchmark::State &state) {
  Data &d = data();
  stn::Engine engine;
  stn::Kernel k = engine.loadString(Source, "hypot.stn").kernel("hypot");
  auto a = stn::ArrayView::of(d.a.data(), {Size}), b = stn::ArrayView::of(d.b.data(), {Size});
  auto o = stn::ArrayView::of(d.out.data(), {Size});
  k.call({a, b}, {{"out", o}});
  std::vector<float> ref(Size);
  hypotCpp(d.a.data(), d.b.data(), ref.data(), Size);
  if (std::memcmp(ref.data(), d.out.data(), Size * sizeof(float)) != 0)
    state.SkipWithError("stn's result differs from the C++ loop");
  for (auto _ : state)
    k.call({a, b}, {{"out", o}});
  bytes(state);
}

void BM_UfuncStnNew(benchmark::State &state) {
  Data &d = data();
  stn::Engine engine;
  stn::Kernel k = engine.loadString(Source, "hypot.stn").kernel("hypot");
  auto a = stn::ArrayView::of(d.a.data(), {Size}), b = stn::ArrayView::of(d.b.data(), {Size});
  k(a, b);
  for (auto _ : state) {
    stn::Value v = k(a, b);
    benchmark::DoNotOptimize(v.array().data());
  }
  bytes(state);
}

void BM_UfuncCpp(benchmark::State &state) {
  Data &d = data();
  for (auto _ : state) {
    hypotCpp(d.a.data(), d.b.data(), d.out.data(), Size);
    benchmark::DoNotOptimize(d.out.data());
  }
  bytes(state);
}

BENCHMARK(BM_UfuncStnOut)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_UfuncStnNew)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_UfuncCpp)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
