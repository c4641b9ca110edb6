//===- dicts.cpp - Dicts and sets against std::unordered_map/set ----------===//
//
// Counting the distinct values of 4M int64 (K distinct ones: 1000, or 1M so
// that the table no longer fits in cache), written three ways:
//
//   BM_StnDictCount   d[x] = d.get(x, 0) + 1; then np.array(d.keys()),
//                     np.array(d.values())          (stn dict)
//   BM_CppUnorderedMap  ++m[x] in a std::unordered_map<int64_t, int64_t>
//                     reserved for K, then its keys and counts copied out
//   BM_CppOrderedMap  ++m[x] in a std::map (a sorted tree)
//
// and collecting them (the same values) without counts:
//
//   BM_StnSetDistinct   s.add(x); then np.array(list(s))   (stn set)
//   BM_CppUnorderedSet  s.insert(x) in a std::unordered_set<int64_t>
//                     reserved for K, then its items copied out
//
// The stn kernels are checked against the std::unordered_map counts once,
// outside the timing. Compare BM_StnDictCount with BM_CppUnorderedMap, and
// BM_StnSetDistinct with BM_CppUnorderedSet, of the same run and K.
// STN_BENCH_DICT_N sets the number of values.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

const char *Source = R"stn(
import numpy as np
from numba import njit

@njit
def tally(a):
    d = {}
    for x in a:
        d[x] = d.get(x, 0) + 1
    return np.array(d.keys()), np.array(d.values())

@njit
def distinct(a):
    s = set()
    for x in a:
        s.add(x)
    return np.array(list(s))
)stn";

int64_t count() {
  const char *s = std::getenv("STN_BENCH_DICT_N");
  return s ? std::max<int64_t>(1, std::atoll(s)) : int64_t(1) << 22;
}

const std::vector<int64_t> &input(int64_t distinct) {
  static std::map<int64_t, std::vector<int64_t>> cache;
  auto &d = cache[distinct];
  if (d.empty()) {
    d.resize(static_cast<size_t>(count()));
    std::mt19937_64 rng(static_cast<uint64_t>(distinct));
    std::uniform_int_distribution<int64_t> u(0, distinct - 1);
    for (auto &v : d)
      v = u(rng) * 7919 - 12345; // spread out, some negative
  }
  return d;
}

stn::Engine &engine() {
  static stn::Engine e;
  return e;
}

void BM_StnDictCount(benchmark::State &state) {
  const auto &in = input(state.range(0));
  stn::Module m = engine().loadString(Source, "dicts.stn");
  auto a = stn::ArrayView::of(in.data(), {int64_t(in.size())});
  std::unordered_map<int64_t, int64_t> want;
  for (int64_t x : in)
    ++want[x];
  stn::Value r = m.kernel("tally")(a);
  const stn::Array &keys = r[0].array(), &counts = r[1].array();
  if (keys.shape()[0] != int64_t(want.size()))
    throw std::runtime_error("tally: wrong number of keys");
  for (int64_t i = 0; i < keys.shape()[0]; ++i)
    if (want.at(keys.data<int64_t>()[i]) != counts.data<int64_t>()[i])
      throw std::runtime_error("tally differs from std::unordered_map");
  for (auto _ : state) {
    stn::Value v = m.kernel("tally")(a);
    benchmark::DoNotOptimize(v[1].array().data<int64_t>());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(in.size()));
}

void BM_StnSetDistinct(benchmark::State &state) {
  const auto &in = input(state.range(0));
  stn::Module m = engine().loadString(Source, "dicts.stn");
  auto a = stn::ArrayView::of(in.data(), {int64_t(in.size())});
  std::unordered_set<int64_t> want(in.begin(), in.end());
  stn::Value r = m.kernel("distinct")(a);
  const stn::Array &items = r.array();
  if (items.shape()[0] != int64_t(want.size()))
    throw std::runtime_error("distinct: wrong number of items");
  for (int64_t i = 0; i < items.shape()[0]; ++i)
    if (!want.count(items.data<int64_t>()[i]))
      throw std::runtime_error("distinct differs from std::unordered_set");
  for (auto _ : state) {
    stn::Value v = m.kernel("distinct")(a);
    benchmark::DoNotOptimize(v.array().data<int64_t>());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(in.size()));
}

void BM_CppUnorderedSet(benchmark::State &state) {
  const auto &in = input(state.range(0));
  for (auto _ : state) {
    std::unordered_set<int64_t> s;
    s.reserve(static_cast<size_t>(state.range(0)));
    for (int64_t x : in)
      s.insert(x);
    std::vector<int64_t> items(s.begin(), s.end());
    benchmark::DoNotOptimize(items.data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(in.size()));
}

template <class Map> void runCpp(benchmark::State &state) {
  const auto &in = input(state.range(0));
  for (auto _ : state) {
    Map m;
    if constexpr (std::is_same_v<Map, std::unordered_map<int64_t, int64_t>>)
      m.reserve(static_cast<size_t>(state.range(0)));
    for (int64_t x : in)
      ++m[x];
    std::vector<int64_t> keys, counts;
    keys.reserve(m.size());
    counts.reserve(m.size());
    for (auto &[k, c] : m) {
      keys.push_back(k);
      counts.push_back(c);
    }
    benchmark::DoNotOptimize(counts.data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(in.size()));
}

void BM_CppUnorderedMap(benchmark::State &state) {
  runCpp<std::unordered_map<int64_t, int64_t>>(state);
}
void BM_CppOrderedMap(benchmark::State &state) { runCpp<std::map<int64_t, int64_t>>(state); }

} // namespace

BENCHMARK(BM_StnDictCount)->Arg(1000)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CppUnorderedMap)->Arg(1000)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CppOrderedMap)->Arg(1000)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StnSetDistinct)->Arg(1000)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CppUnorderedSet)->Arg(1000)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
