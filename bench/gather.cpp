//===- gather.cpp - Integer-array indexing against C++ loops --------------===//
//
// `a[idx]` (a new array of the selected elements) and `a[idx] = v` over
// 16M float64 elements with an int64 index array, in @njit kernels, against
// the same loops written by hand in C++, in the same process. Two index
// patterns (the benchmark's argument):
//
//   0  sequential (idx[k] = k): the loop's own cost, every access in cache
//      lines the hardware prefetcher brings in
//   1  a random permutation: one cache miss per element, memory latency
//      bound on both sides
//
//   BM_StnTake          the kernel `return a[idx]`: wraps negative indices,
//                       checks each against the axis (always, as NumPy),
//                       writes a new array (whose memory the runtime's
//                       block pool recycles from the previous call, so its
//                       pages are mapped: bench/alloc.cpp)
//   BM_CppTakeChecked   the C++ loop doing the same (wrap, check, a flag on
//                       failure) into a preallocated buffer
//   BM_CppTakeUnchecked `out[k] = a[idx[k]]` into it: the floor
//   BM_StnPut           the kernel `a[idx] = v` (v an array); it checks
//                       that neither the index array nor the value shares
//                       memory with `a` (else it would copy them first)
//   BM_CppPut           `a[idx[k]] = v[k]` with the same wrap and check
//
// Every stn result is compared with the C++ one before timing. See
// bench/README.md for how to run and read it.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

namespace {

const char *Source = R"stn(
from numba import njit

@njit
def take(a, idx):
    return a[idx]

@njit
def put(a, idx, v):
    a[idx] = v
)stn";

constexpr int64_t Size = int64_t{16} << 20; // 16M elements, 128 MB per array

struct Data {
  std::vector<double> a, v, out;
  std::vector<int64_t> idx[2];
  Data() : a(Size), v(Size), out(Size) {
    for (int64_t i = 0; i < Size; ++i) {
      a[size_t(i)] = static_cast<double>(i % 1000) * 0.5;
      v[size_t(i)] = static_cast<double>(i % 777) * 0.25;
    }
    idx[0].resize(Size);
    std::iota(idx[0].begin(), idx[0].end(), int64_t{0});
    idx[1] = idx[0];
    std::shuffle(idx[1].begin(), idx[1].end(), std::mt19937_64(42));
  }
};

Data &data() {
  static Data d;
  return d;
}

struct FreeDeleter {
  void operator()(double *p) const { std::free(p); }
};
std::unique_ptr<double, FreeDeleter> fresh() {
  return std::unique_ptr<double, FreeDeleter>(
      static_cast<double *>(std::aligned_alloc(64, Size * sizeof(double))));
}

/// Python's index rule: `i` wrapped if negative; false if out of bounds.
inline bool wrapped(int64_t &i, int64_t n) {
  if (i < 0)
    i += n;
  return static_cast<uint64_t>(i) < static_cast<uint64_t>(n);
}

__attribute__((noinline)) bool takeChecked(const double *a, int64_t n, const int64_t *idx,
                                           double *out, int64_t m) {
  bool bad = false;
  for (int64_t k = 0; k < m; ++k) {
    int64_t i = idx[k];
    if (!wrapped(i, n)) {
      bad = true;
      i = 0;
    }
    out[k] = a[i];
  }
  return bad;
}

__attribute__((noinline)) void takeUnchecked(const double *__restrict a,
                                             const int64_t *__restrict idx,
                                             double *__restrict out, int64_t m) {
  for (int64_t k = 0; k < m; ++k)
    out[k] = a[idx[k]];
}

__attribute__((noinline)) bool putChecked(double *a, int64_t n, const int64_t *idx,
                                          const double *v, int64_t m) {
  bool bad = false;
  for (int64_t k = 0; k < m; ++k) {
    int64_t i = idx[k];
    if (wrapped(i, n))
      a[i] = v[k];
    else
      bad = true;
  }
  return bad;
}

void bytes(benchmark::State &state) {
  // Index, element read, element written.
  state.SetBytesProcessed(state.iterations() * Size * int64_t(2 * sizeof(double) + 8));
}

stn::Module &module() {
  static stn::Engine engine;
  static stn::Module mod = engine.loadString(Source, "gather.stn");
  return mod;
}

void BM_StnTake(benchmark::State &state) {
  Data &d = data();
  const std::vector<int64_t> &idx = d.idx[state.range(0)];
  stn::Kernel k = module().kernel("take");
  auto a = stn::ArrayView::of(d.a.data(), {Size});
  auto iv = stn::ArrayView::of(idx.data(), {Size});
  {
    stn::Value r = k(a, iv);
    takeUnchecked(d.a.data(), idx.data(), d.out.data(), Size);
    if (!r.isArray() || r.array().size() != Size ||
        std::memcmp(r.array().data(), d.out.data(), Size * sizeof(double)) != 0) {
      state.SkipWithError("stn's result differs from the C++ loop");
      return;
    }
  }
  for (auto _ : state) {
    stn::Value r = k(a, iv);
    benchmark::DoNotOptimize(r.array().data());
  }
  bytes(state);
}

/// A C++ gather into a preallocated (touched) array, checked or not.
template <bool Checked> void cppTake(benchmark::State &state) {
  Data &d = data();
  const std::vector<int64_t> &idx = d.idx[state.range(0)];
  auto out = fresh();
  std::memset(out.get(), 0, Size * sizeof(double));
  for (auto _ : state) {
    if constexpr (Checked)
      benchmark::DoNotOptimize(takeChecked(d.a.data(), Size, idx.data(), out.get(), Size));
    else
      takeUnchecked(d.a.data(), idx.data(), out.get(), Size);
    benchmark::DoNotOptimize(out.get());
    benchmark::ClobberMemory();
  }
  bytes(state);
}

void BM_CppTakeChecked(benchmark::State &state) { cppTake<true>(state); }
void BM_CppTakeUnchecked(benchmark::State &state) { cppTake<false>(state); }

void BM_StnPut(benchmark::State &state) {
  Data &d = data();
  const std::vector<int64_t> &idx = d.idx[state.range(0)];
  stn::Kernel k = module().kernel("put");
  std::vector<double> target(Size, 0.0), ref(Size, 0.0);
  auto t = stn::ArrayView::of(target.data(), {Size});
  auto iv = stn::ArrayView::of(idx.data(), {Size});
  auto vv = stn::ArrayView::of(d.v.data(), {Size});
  k(t, iv, vv);
  putChecked(ref.data(), Size, idx.data(), d.v.data(), Size);
  if (target != ref) {
    state.SkipWithError("stn's result differs from the C++ loop");
    return;
  }
  for (auto _ : state) {
    k(t, iv, vv);
    benchmark::DoNotOptimize(target.data());
    benchmark::ClobberMemory();
  }
  bytes(state);
}

void BM_CppPut(benchmark::State &state) {
  Data &d = data();
  const std::vector<int64_t> &idx = d.idx[state.range(0)];
  std::vector<double> target(Size, 0.0);
  for (auto _ : state) {
    bool bad = putChecked(target.data(), Size, idx.data(), d.v.data(), Size);
    benchmark::DoNotOptimize(bad);
    benchmark::DoNotOptimize(target.data());
    benchmark::ClobberMemory();
  }
  bytes(state);
}

BENCHMARK(BM_StnTake)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppTakeChecked)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppTakeUnchecked)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StnPut)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CppPut)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
