//===- alloc.cpp - Fresh output arrays: recycled, first call, out= --------===//
//
// What a kernel that returns a new array pays for its output
// (runtime/lib/BlockPool.h), on the seed's smooth over a stack of int8
// images (STN_BENCH_STACK, default 256: 256 MB in, 256 MB out), serial and
// with target="parallel":
//
//   BM_Out/<p>        smooth(x, out=y): the floor
//   BM_Fresh/<p>      y = smooth(x), the steady state of a loop: the output
//                     block of the previous call is recycled
//   BM_FirstCall/<p>  the same with the pool emptied before each call (not
//                     timed): a fresh mapping, faulted in by the kernel's
//                     own writes, 2 MiB huge pages where the system allows
//
// <p> is 0 for the serial kernel, 1 for target="parallel". Compare
// BM_Fresh and BM_FirstCall with BM_Out of the same <p>.
//
//===----------------------------------------------------------------------===//

#include "BlockPool.h"
#include "stn/stn.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
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

@gufunc("(n, m) -> (n, m)", target="parallel")
@stencil
def smooth_parallel(x):
    return (x[-1, -1] + x[-1, 0] + x[-1, 1] +
            x[ 0, -1] + x[ 0, 0] + x[ 0, 1] +
            x[ 1, -1] + x[ 1, 0] + x[ 1, 1]) // 9
)stn";

constexpr int64_t N = 1000, M = 1000;

int64_t depth() {
  const char *s = std::getenv("STN_BENCH_STACK");
  return s ? std::max<int64_t>(1, std::atoll(s)) : 256;
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

struct Setup {
  stn::Engine engine;
  stn::Module mod;
  stn::Kernel kernel;
  stn::ArrayView x;
  explicit Setup(bool parallel)
      : mod(engine.loadString(Source, "alloc.stn")),
        kernel(mod.kernel(parallel ? "smooth_parallel" : "smooth")),
        x(stn::ArrayView::of(input().data(), {depth(), N, M})) {
    (void)kernel(x); // compiles
  }
};

void setBytes(benchmark::State &state) {
  state.SetBytesProcessed(state.iterations() * 2 * depth() * N * M);
}

void BM_Out(benchmark::State &state) {
  Setup s(state.range(0) != 0);
  std::vector<int8_t> out(input().size());
  stn::ArrayView y = stn::ArrayView::of(out.data(), {depth(), N, M});
  s.kernel.call({s.x}, {{"out", y}});
  for (auto _ : state) {
    s.kernel.call({s.x}, {{"out", y}});
    benchmark::DoNotOptimize(out.data());
  }
  setBytes(state);
}

void BM_Fresh(benchmark::State &state) {
  Setup s(state.range(0) != 0);
  for (auto _ : state) {
    stn::Value y = s.kernel(s.x);
    benchmark::DoNotOptimize(y.array().data());
  }
  setBytes(state);
}

void BM_FirstCall(benchmark::State &state) {
  Setup s(state.range(0) != 0);
  for (auto _ : state) {
    state.PauseTiming();
    stn::detail::BlockPool::global().trim();
    state.ResumeTiming();
    stn::Value y = s.kernel(s.x);
    benchmark::DoNotOptimize(y.array().data());
  }
  setBytes(state);
}

BENCHMARK(BM_Out)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Fresh)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FirstCall)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
