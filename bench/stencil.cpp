//===- stencil.cpp - The seed's smooth: stn against hand-written C++ ------===//
//
// The blog post's 3x3 `smooth` on a stack of int8 images, through the
// aspirational `@gufunc("(n,m)->(n,m)") @stencil` form (BM_SmoothStn, and
// with out=), and through the post's own @guvectorize body `out[:] =
// _smooth(x)` (BM_SmoothPostFormOut), against a plain C++ loop with the
// same semantics (sum in int64, floor division by 9, int8 result, border
// cells 0), in the same process: the C++ loop on one thread, stn's kernels
// on the engine's threads (STN_NUM_THREADS=1 compares one with one). Throughput
// counts input plus output bytes. STN_BENCH_STACK sets the stack depth
// (default 32; the issue's measurement uses 256).
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

const char *Source = R"stn(
@gufunc("(n, m) -> (n, m)")
@stencil
def smooth(x):
    return (x[-1, -1] + x[-1, 0] + x[-1, 1] +
            x[ 0, -1] + x[ 0, 0] + x[ 0, 1] +
            x[ 1, -1] + x[ 1, 0] + x[ 1, 1]) // 9
)stn";

constexpr int64_t N = 1000, M = 1000;

int64_t depth() {
  const char *s = std::getenv("STN_BENCH_STACK");
  return s ? std::max<int64_t>(1, std::atoll(s)) : 32;
}

std::vector<int8_t> &input() {
  static std::vector<int8_t> data = [] {
    std::vector<int8_t> d(static_cast<size_t>(depth() * N * M));
    std::mt19937 rng(7);
    for (auto &v : d)
      v = static_cast<int8_t>(rng());
    return d;
  }();
  return data;
}

/// The loop a C++ programmer would write for speed: the nine terms summed
/// in int32 (exact: |sum| <= 9 * 128), floor division by 9, border zeroed.
__attribute__((noinline)) void smoothCpp(const int8_t *__restrict in, int8_t *__restrict out,
                                         int64_t k) {
  for (int64_t z = 0; z < k; ++z) {
    const int8_t *x = in + z * N * M;
    int8_t *y = out + z * N * M;
    for (int64_t j = 0; j < M; ++j) {
      y[j] = 0;
      y[(N - 1) * M + j] = 0;
    }
    for (int64_t i = 1; i < N - 1; ++i) {
      const int8_t *a = x + (i - 1) * M, *b = x + i * M, *c = x + (i + 1) * M;
      int8_t *o = y + i * M;
      o[0] = 0;
      o[M - 1] = 0;
      for (int64_t j = 1; j < M - 1; ++j) {
        int32_t s = a[j - 1] + a[j] + a[j + 1] + b[j - 1] + b[j] + b[j + 1] + c[j - 1] + c[j] +
                    c[j + 1];
        int32_t q = s / 9;
        q -= (s % 9 != 0) & (s < 0); // floor, like Python's //
        o[j] = static_cast<int8_t>(q);
      }
    }
  }
}

void setBytes(benchmark::State &state) {
  int64_t bytes = 2 * depth() * N * M;
  state.SetBytesProcessed(state.iterations() * bytes);
}

void BM_SmoothStn(benchmark::State &state) {
  stn::Engine engine;
  stn::Kernel smooth = engine.loadString(Source, "smooth.stn").kernel("smooth");
  auto &in = input();
  stn::ArrayView x = stn::ArrayView::of(in.data(), {depth(), N, M});
  std::vector<int8_t> ref(in.size());
  smoothCpp(in.data(), ref.data(), depth());
  stn::Value first = smooth(x); // compiles
  if (std::memcmp(first.array().data(), ref.data(), ref.size()) != 0)
    state.SkipWithError("stn's smooth differs from the C++ reference");
  for (auto _ : state) {
    stn::Value y = smooth(x);
    benchmark::DoNotOptimize(y.array().data());
  }
  setBytes(state);
}

void BM_SmoothStnOut(benchmark::State &state) {
  stn::Engine engine;
  stn::Kernel smooth = engine.loadString(Source, "smooth.stn").kernel("smooth");
  auto &in = input();
  std::vector<int8_t> out(in.size());
  stn::ArrayView x = stn::ArrayView::of(in.data(), {depth(), N, M});
  stn::ArrayView y = stn::ArrayView::of(out.data(), {depth(), N, M});
  smooth.call({x}, {{"out", y}});
  for (auto _ : state) {
    smooth.call({x}, {{"out", y}});
    benchmark::DoNotOptimize(out.data());
  }
  setBytes(state);
}

void BM_SmoothPostFormOut(benchmark::State &state) {
  stn::Engine engine;
  // The post's own form: @guvectorize with its signature list and an
  // out-parameter, `out[:] = _smooth(x)` (the stencil returns int64; stn
  // runs it into `out` directly where out does not overlap x).
  stn::Kernel smooth =
      engine.loadFile(STN_EXAMPLES_DIR "/smooth.stn").kernel("smooth_numba");
  auto &in = input();
  std::vector<int8_t> out(in.size()), ref(in.size());
  smoothCpp(in.data(), ref.data(), depth());
  stn::ArrayView x = stn::ArrayView::of(in.data(), {depth(), N, M});
  stn::ArrayView y = stn::ArrayView::of(out.data(), {depth(), N, M});
  smooth.call({x}, {{"out", y}});
  if (out != ref)
    state.SkipWithError("the post's smooth differs from the C++ reference");
  for (auto _ : state) {
    smooth.call({x}, {{"out", y}});
    benchmark::DoNotOptimize(out.data());
  }
  setBytes(state);
}

void BM_SmoothCpp(benchmark::State &state) {
  auto &in = input();
  std::vector<int8_t> out(in.size());
  for (auto _ : state) {
    smoothCpp(in.data(), out.data(), depth());
    benchmark::DoNotOptimize(out.data());
  }
  setBytes(state);
}

BENCHMARK(BM_SmoothStn)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SmoothStnOut)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SmoothPostFormOut)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SmoothCpp)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
