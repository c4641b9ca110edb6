//===- DictTest.cpp - Dicts: entries, order, methods, errors --------------===//
//
// Kernel-local dicts, each kernel against the same steps written in C++
// with an insertion-ordered map of its own (entries in a vector, a
// std::map from key to position; a popped key leaves, a key set again
// goes to the end, as Python's dict orders them):
//   - counting the values of int8, int32, int64, float32 and float64
//     arrays (`if x in d: d[x] += 1 else: d[x] = 1`), thousands of keys,
//     so that the storage grows many times; np.array(d.keys()) and
//     np.array(d.values()) in insertion order;
//   - a random sequence of sets, pops (with and without popping what is
//     there), `op=` of present keys, get() without a default (None where
//     missing, tested with `is None`; `d.get(k) is None` and `is not
//     None` tested directly guard `op=` and `del`), `del d[k]` and
//     popitem() (the last entry), on keys
//     that repeat, so that popped entries are skipped, compacted and
//     reused; also loops over d, d.values() and d.items() after pops;
//   - print(d) after those steps (Python's `{k: v, ...}`, the entries
//     popped or deleted skipped);
//   - tuple keys and tuple values (cells of points);
//   - {k: v} displays, dict comprehensions, dict(zip(...)), dict(d),
//     copy() (not following the original), update(), setdefault(),
//     clear(), len, truth, values widened from int64 to float64;
//   - float keys: 0.0 and -0.0 are one key, 1 looks up 1.0;
//   - values changed in a loop over the dict; a new key in that loop
//     raises RuntimeError; d[k] and pop(k) of a missing key raise
//     KeyError naming the key (a tuple too), at the kernel's line;
//   - a dict made in each iteration of a prange loop, and one a loop
//     that may not run assigns.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def counts(a):
    d = {}
    for x in a:
        if x in d:
            d[x] += 1
        else:
            d[x] = 1
    return np.array(d.keys()), np.array(d.values()), len(d)

@njit
def churn(keys, ops):
    d = {}
    got = 0
    for i in range(len(keys)):
        k = keys[i]
        op = ops[i]
        if op == 0:
            d[k] = i
        elif op == 1:
            got += d.pop(k, -1)
        elif op == 2:
            if d.get(k) is not None:  # (k in d: no value is None)
                d[k] += 5
        elif op == 3:
            v = d.get(k)
            if v is None:
                got += 21
            else:
                got += v * 3
        elif op == 4:
            if None is d.get(k):
                pass
            else:
                del d[k]
        elif d:
            a, b = d.popitem()
            got = got * 7 % 1000003 + a * 1000 + b
    print(d)
    s = 0
    for k in d:
        s = s * 31 % 1000003 + k
    t = 0
    for v in d.values():
        t = t * 17 % 1000003 + v
    u = 0
    for k, v in d.items():
        u = u * 13 % 1000003 + k * v
    return np.array(d.keys()), np.array(d.values()), got, s, t, u, len(d), bool(d)

@njit
def cells(x, y, h):
    d = {}
    for i in range(len(x)):
        c = (int(x[i] // h), int(y[i] // h))
        if c in d:
            n, s = d[c]
            d[c] = (n + 1, s + x[i] * y[i])
        else:
            d[c] = (1, x[i] * y[i])
    out = np.zeros((len(d), 4))
    j = 0
    for (cx, cy), (n, s) in d.items():
        out[j, 0] = cx
        out[j, 1] = cy
        out[j, 2] = n
        out[j, 3] = s
        j += 1
    return out

@njit
def made(n):
    a = {1: 10, 2: 20, 1: 30}
    sq = {i: i * i for i in range(n) if i % 3 != 0}
    z = dict(zip(range(n), range(100, 100 + n)))
    c = z.copy()
    z[0] = -1
    w = dict(c)
    w.update(sq)
    first = w.setdefault(n + 5, 77)
    again = w.setdefault(n + 5, 88)
    had = w.setdefault(1, 99)
    e = {}
    e[2] = 1
    e[3] = 2.5
    f = dict()
    empty = bool(f)
    f[7] = 7
    sq.clear()
    sq[9] = 9
    return (a[1], len(a), sum(z.values()), sum(c.values()), len(w), w[1], w[n + 5], first, again,
            had, e[2] + e[3], empty, bool(f), len(sq), sq[9])

@njit
def floats(k):
    d = {0.0: 1, 2.5: 2}
    d[-0.0] += 10
    d[1] = 3
    return d[0.0], d[1.0], len(d), k in d, d.get(k, -1)

@njit
def doubled(n):
    d = {i: i for i in range(n)}
    d.pop(0)
    for k in d:
        d[k] = d[k] * 2
    s = 0
    for k, v in d.items():
        s += v
    return s

@njit
def grows_in_loop(n):
    d = {1: 1, 2: 2}
    for k in d:
        d[k + n] = 0
    return len(d)

@njit
def missing(k):
    d = {1: 1.5, 2: 2.5}
    return d[k]

@njit
def missing_pair(i, j):
    d = {(1, 2): 0.5}
    return d[(i, j)]

@njit
def pop_missing(k):
    d = {1: 1}
    return d.pop(k)

@njit(parallel=True)
def per_row(a):
    out = np.zeros(a.shape[0], dtype=np.int64)
    for i in prange(a.shape[0]):
        seen = {}
        for j in range(a.shape[1]):
            seen[a[i, j]] = j
        out[i] = len(seen)
    return out

@njit
def last_made(n):
    for i in range(n):
        d = {i: 1}
        d[i + 1] = 2
    d[-1] = 0
    return len(d), d.get(n, 5), d.get(0, 5)
)STN";

/// Python's dict of K -> V: entries in insertion order; a key popped
/// leaves it, a key set again joins at the end.
template <class K, class V> struct OrderedDict {
  std::vector<std::pair<K, V>> entries;
  std::map<K, size_t> at;

  bool has(const K &k) const { return at.count(k) != 0; }
  V &operator[](const K &k) {
    auto it = at.find(k);
    if (it != at.end())
      return entries[it->second].second;
    at[k] = entries.size();
    entries.push_back({k, V{}});
    return entries.back().second;
  }
  V pop(const K &k, V dflt) {
    auto it = at.find(k);
    if (it == at.end())
      return dflt;
    size_t i = it->second;
    V v = entries[i].second;
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(i));
    at.erase(it);
    for (auto &[key, pos] : at)
      if (pos > i)
        --pos;
    return v;
  }
  V get(const K &k, V dflt) const {
    auto it = at.find(k);
    return it == at.end() ? dflt : entries[it->second].second;
  }
};

class Dicts : public ::testing::Test {
protected:
  Dicts() : Mod(Engine.loadString(Kernels, "dicts.stn")) {}
  stn::Engine Engine{stn::test::noCache()};
  stn::Module Mod;

  /// counts(a) against the loop in C++: keys of a's dtype `dt`.
  template <class T> void checkCounts(const std::vector<T> &a, stn::DType dt) {
    OrderedDict<T, int64_t> want;
    for (T x : a)
      want[x] += 1;
    auto r = Mod.kernel("counts")(stn::ArrayView::of(a.data(), {int64_t(a.size())}));
    int64_t n = static_cast<int64_t>(want.entries.size());
    ASSERT_EQ(r[2].asInt(), n);
    EXPECT_EQ(r[0].array().dtype(), dt);
    std::vector<T> keys = valuesOf<T>(r[0], {n});
    std::vector<int64_t> values = valuesOf<int64_t>(r[1], {n});
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(keys[size_t(i)], want.entries[size_t(i)].first) << i;
      EXPECT_EQ(values[size_t(i)], want.entries[size_t(i)].second) << i;
    }
  }
};

TEST_F(Dicts, CountsInInsertionOrderAcrossGrowth) {
  std::vector<int64_t> i64(20000);
  std::vector<int32_t> i32(5000);
  std::vector<int8_t> i8(3000);
  std::vector<double> f64(4000);
  std::vector<float> f32(4000);
  uint64_t s = 12345;
  auto next = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  };
  for (auto &x : i64)
    x = static_cast<int64_t>(next() % 7919) * 1000003 - 5000000;
  for (auto &x : i32)
    x = static_cast<int32_t>(next() % 1500) - 700;
  for (auto &x : i8)
    x = static_cast<int8_t>(next() % 256);
  for (auto &x : f64)
    x = static_cast<double>(next() % 900) * 0.25 - 100;
  for (auto &x : f32)
    x = static_cast<float>(next() % 300) * 0.5f;
  checkCounts(i64, stn::DType::Int64);
  checkCounts(i32, stn::DType::Int32);
  checkCounts(i8, stn::DType::Int8);
  checkCounts(f64, stn::DType::Float64);
  checkCounts(f32, stn::DType::Float32);
}

TEST_F(Dicts, SetPopDelPopitemGetAndLoopsAfterPops) {
  for (int64_t keyRange : {3, 40, 600}) {
    const size_t n = 6000;
    std::vector<int64_t> keys(n), ops(n);
    uint64_t s = static_cast<uint64_t>(keyRange) * 977;
    for (size_t i = 0; i < n; ++i) {
      s = s * 2862933555777941757ULL + 3037000493ULL;
      keys[i] = static_cast<int64_t>((s >> 20) % static_cast<uint64_t>(keyRange));
      ops[i] = static_cast<int64_t>((s >> 44) % 6);
    }
    OrderedDict<int64_t, int64_t> d;
    int64_t got = 0;
    for (size_t i = 0; i < n; ++i) {
      int64_t k = keys[i];
      switch (ops[i]) {
      case 0:
        d[k] = static_cast<int64_t>(i);
        break;
      case 1:
        got += d.pop(k, -1);
        break;
      case 2:
        if (d.has(k))
          d[k] += 5;
        break;
      case 3:
        got += d.get(k, 7) * 3;
        break;
      case 4:
        d.pop(k, 0);
        break;
      default:
        if (!d.entries.empty()) {
          auto [a, b] = d.entries.back(); // popitem(): the last entry
          d.pop(a, 0);
          got = got * 7 % 1000003 + a * 1000 + b;
        }
      }
    }
    int64_t ks = 0, vs = 0, us = 0;
    for (auto &[k, v] : d.entries) {
      ks = ks * 31 % 1000003 + k;
      vs = vs * 17 % 1000003 + v;
      us = us * 13 % 1000003 + k * v;
    }
    ::testing::internal::CaptureStdout();
    auto r = Mod.kernel("churn")(stn::ArrayView::of(keys.data(), {int64_t(n)}),
                                 stn::ArrayView::of(ops.data(), {int64_t(n)}));
    // print(d) skips the entries popped and deleted, in Python's format.
    std::string printed = ::testing::internal::GetCapturedStdout(), want = "{";
    for (size_t i = 0; i < d.entries.size(); ++i)
      want += (i ? ", " : "") + std::to_string(d.entries[i].first) + ": " +
              std::to_string(d.entries[i].second);
    EXPECT_EQ(printed, want + "}\n") << keyRange;
    int64_t len = static_cast<int64_t>(d.entries.size());
    ASSERT_EQ(r[6].asInt(), len) << keyRange;
    std::vector<int64_t> rk = valuesOf<int64_t>(r[0], {len}),
                         rv = valuesOf<int64_t>(r[1], {len});
    for (size_t i = 0; i < d.entries.size(); ++i) {
      EXPECT_EQ(rk[i], d.entries[i].first) << keyRange << " " << i;
      EXPECT_EQ(rv[i], d.entries[i].second) << keyRange << " " << i;
    }
    EXPECT_EQ(r[2].asInt(), got) << keyRange;
    EXPECT_EQ(r[3].asInt(), ks) << keyRange;
    EXPECT_EQ(r[4].asInt(), vs) << keyRange;
    EXPECT_EQ(r[5].asInt(), us) << keyRange;
    EXPECT_EQ(r[7].asBool(), len != 0) << keyRange;
  }
}

TEST_F(Dicts, TupleKeysAndValues) {
  std::vector<double> x, y;
  for (int i = 0; i < 500; ++i) {
    x.push_back(std::fmod(i * 0.37, 3.0) - 1.0);
    y.push_back(std::fmod(i * 0.91, 2.0));
  }
  double h = 0.5;
  OrderedDict<std::pair<int64_t, int64_t>, std::pair<int64_t, double>> want;
  for (size_t i = 0; i < x.size(); ++i) {
    std::pair<int64_t, int64_t> c{static_cast<int64_t>(std::floor(x[i] / h)),
                                  static_cast<int64_t>(std::floor(y[i] / h))};
    auto &[n, s] = want[c];
    n += 1;
    s += x[i] * y[i];
  }
  int64_t cellsN = static_cast<int64_t>(want.entries.size());
  auto r = Mod.kernel("cells")(stn::ArrayView::of(x.data(), {int64_t(x.size())}),
                               stn::ArrayView::of(y.data(), {int64_t(y.size())}), h);
  std::vector<double> out = valuesOf<double>(r, {cellsN, 4});
  for (size_t j = 0; j < want.entries.size(); ++j) {
    auto &[c, v] = want.entries[j];
    EXPECT_EQ(out[4 * j], double(c.first)) << j;
    EXPECT_EQ(out[4 * j + 1], double(c.second)) << j;
    EXPECT_EQ(out[4 * j + 2], double(v.first)) << j;
    EXPECT_EQ(out[4 * j + 3], v.second) << j;
  }
}

TEST_F(Dicts, DisplaysComprehensionsAndMethods) {
  for (int64_t n : {0, 1, 5, 40}) {
    OrderedDict<int64_t, int64_t> sq, z, c, w;
    for (int64_t i = 0; i < n; ++i)
      if (i % 3 != 0)
        sq[i] = i * i;
    for (int64_t i = 0; i < n; ++i)
      z[i] = 100 + i;
    c = z;
    z[0] = -1;
    w = c;
    for (auto &[k, v] : sq.entries)
      w[k] = v;
    bool fresh = !w.has(n + 5);
    int64_t first = fresh ? 77 : w.get(n + 5, 0);
    w[n + 5] = first;
    int64_t had = w.has(1) ? w.get(1, 0) : 99;
    w[1] = had;
    auto sum = [](const OrderedDict<int64_t, int64_t> &m) {
      int64_t s = 0;
      for (auto &e : m.entries)
        s += e.second;
      return s;
    };
    auto r = Mod.kernel("made")(n);
    EXPECT_EQ(r[0].asInt(), 30); // {1: 10, 2: 20, 1: 30}: the last value
    EXPECT_EQ(r[1].asInt(), 2);
    EXPECT_EQ(r[2].asInt(), sum(z)) << n;
    EXPECT_EQ(r[3].asInt(), sum(c)) << n;
    EXPECT_EQ(r[4].asInt(), int64_t(w.entries.size())) << n;
    EXPECT_EQ(r[5].asInt(), w.get(1, 0)) << n;
    EXPECT_EQ(r[6].asInt(), 77) << n;
    EXPECT_EQ(r[7].asInt(), first) << n;
    EXPECT_EQ(r[8].asInt(), 77) << n;
    EXPECT_EQ(r[9].asInt(), had) << n;
    EXPECT_EQ(r[10].asDouble(), 3.5); // {2: 1, 3: 2.5} holds float64
    EXPECT_FALSE(r[11].asBool());
    EXPECT_TRUE(r[12].asBool());
    EXPECT_EQ(r[13].asInt(), 1);
    EXPECT_EQ(r[14].asInt(), 9);
  }
}

TEST_F(Dicts, FloatKeys) {
  auto r = Mod.kernel("floats")(2.5);
  EXPECT_EQ(r[0].asInt(), 11); // -0.0 is the key 0.0
  EXPECT_EQ(r[1].asInt(), 3);  // 1 was stored as 1.0
  EXPECT_EQ(r[2].asInt(), 3);
  EXPECT_TRUE(r[3].asBool());
  EXPECT_EQ(r[4].asInt(), 2);
  r = Mod.kernel("floats")(0.5);
  EXPECT_FALSE(r[3].asBool());
  EXPECT_EQ(r[4].asInt(), -1);
}

TEST_F(Dicts, LoopsOverTheDict) {
  for (int64_t n : {1, 2, 9, 100}) {
    int64_t want = 0;
    for (int64_t i = 1; i < n; ++i)
      want += 2 * i;
    EXPECT_EQ(Mod.kernel("doubled")(n).asInt(), want) << n;
  }
  // Keys already there may be set; a new one changes the size.
  EXPECT_EQ(Mod.kernel("grows_in_loop")(int64_t(0)).asInt(), 2);
  for (int64_t n : {1, -1}) { // 3 (then 2 + 1), and 0: new keys
    std::string msg = errorOf([&] { Mod.kernel("grows_in_loop")(n); });
    EXPECT_NE(msg.find("RuntimeError: dictionary changed size during iteration"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("dicts.stn:120:9"), std::string::npos) << msg;
  }
}

TEST_F(Dicts, MissingKeysRaiseKeyError) {
  EXPECT_EQ(Mod.kernel("missing")(int64_t(2)).asDouble(), 2.5);
  std::string msg = errorOf([&] { Mod.kernel("missing")(int64_t(-7)); });
  EXPECT_NE(msg.find("KeyError: -7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dicts.stn:126:12"), std::string::npos) << msg;
  EXPECT_EQ(Mod.kernel("missing_pair")(int64_t(1), int64_t(2)).asDouble(), 0.5);
  msg = errorOf([&] { Mod.kernel("missing_pair")(int64_t(2), int64_t(1)); });
  EXPECT_NE(msg.find("KeyError: (2, 1)"), std::string::npos) << msg;
  EXPECT_EQ(Mod.kernel("pop_missing")(int64_t(1)).asInt(), 1);
  msg = errorOf([&] { Mod.kernel("pop_missing")(int64_t(3)); });
  EXPECT_NE(msg.find("KeyError: 3"), std::string::npos) << msg;
}

TEST_F(Dicts, AssignedOnSomePathsOnly) {
  // With no iteration d is not assigned: its storage is an empty dict's
  // (a run of stn, not Python's UnboundLocalError), which grows on a store.
  auto r = Mod.kernel("last_made")(int64_t(0));
  EXPECT_EQ(r[0].asInt(), 1);
  EXPECT_EQ(r[1].asInt(), 5);
  r = Mod.kernel("last_made")(int64_t(3));
  EXPECT_EQ(r[0].asInt(), 3); // {2: 1, 3: 2, -1: 0}
  EXPECT_EQ(r[1].asInt(), 2);
  EXPECT_EQ(r[2].asInt(), 5);
}

TEST_F(Dicts, MadeInParallelLoopBodies) {
  const int64_t rows = 64, cols = 50;
  std::vector<int32_t> a(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      a[size_t(i * cols + j)] = static_cast<int32_t>((i * j + j / 3) % (i + 1));
  std::vector<int64_t> want(rows);
  for (int64_t i = 0; i < rows; ++i) {
    std::map<int32_t, int> seen;
    for (int64_t j = 0; j < cols; ++j)
      seen[a[size_t(i * cols + j)]] = 1;
    want[size_t(i)] = static_cast<int64_t>(seen.size());
  }
  auto r = Mod.kernel("per_row")(stn::ArrayView::of(a.data(), {rows, cols}));
  EXPECT_EQ(valuesOf<int64_t>(r, {rows}), want);
}

} // namespace
