//===- SetTest.cpp - Sets: items, order, algebra, errors ------------------===//
//
// Kernel-local sets, each kernel against the same steps written in C++
// with an insertion-ordered set of its own (items in a vector, a std::set
// beside it; a removed item leaves, an item added again goes to the end;
// stn keeps that order, where Python's is the hash table's):
//   - the distinct values of int8, int32, int64, float32 and float64
//     arrays, thousands of them, so that the storage grows many times;
//     np.array(list(s)) in first-seen order, len and sum(s);
//   - a random sequence of add, discard, `in` and pop on items that
//     repeat, so that removed entries are skipped, compacted and reused
//     (pop takes the last item added), also on keys whose hashes share
//     the bits an index slot keeps;
//   - |, &, -, ^ and their methods and `op=` forms, comparisons (==, !=,
//     <=, <, >=, >, issubset, issuperset, isdisjoint) of random sets,
//     the results' items in order;
//   - tuple items, float items (0.0 and -0.0 one item, 1 finds 1.0), and
//     an int64 set widened to float64 by what is added;
//   - set(iterable) of arrays, ranges, zips, dict keys and other sets,
//     set comprehensions, copy() (not following the original);
//   - a new item in a loop over the set raises RuntimeError, remove() of a
//     missing item and pop() of an empty set raise KeyError, at the
//     kernel's line;
//   - a set made in each iteration of a prange loop.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def distinct(a):
    s = set()
    for x in a:
        s.add(x)
    return np.array(list(s)), len(s), sum(s)

@njit
def churn(items, ops):
    s = set()
    got = 0
    for i in range(len(items)):
        x = items[i]
        op = ops[i]
        if op == 0 or op == 1:
            s.add(x)
        elif op == 2:
            s.discard(x)
        elif op == 3:
            if x in s:
                got += x
        elif len(s) > 0:
            got = got * 7 % 1000003 + s.pop()
    h = 0
    for x in s:
        h = h * 31 % 1000003 + x
    return np.array(list(s)), got, h, len(s), bool(s)

@njit
def algebra(a, b):
    x = set(a)
    y = set(b)
    u = x | y
    i = x & y
    d = x - y
    e = x ^ y
    mu = x.union(y)
    mi = x.intersection(y)
    md = x.difference(y)
    me = x.symmetric_difference(y)
    iu = x.copy()
    iu |= y
    ii = x.copy()
    ii &= y
    idf = x.copy()
    idf -= y
    ie = x.copy()
    ie ^= y
    ui = x.copy()
    ui.intersection_update(y)
    ud = x.copy()
    ud.difference_update(y)
    ue = x.copy()
    ue.symmetric_difference_update(y)
    uu = x.copy()
    uu.update(b)
    same = (u == mu and i == mi and d == md and e == me and iu == u and ii == i
            and idf == d and ie == e and ui == i and ud == d and ue == e and uu == u)
    flags = np.array([x == y, x != y, x <= y, x < y, x >= y, x > y, x.issubset(y),
                      x.issuperset(y), x.isdisjoint(y), i <= x, x < u, u > y])
    return (np.array(list(u)), np.array(list(i)), np.array(list(d)), np.array(list(e)),
            flags, same)

@njit
def tuples(x, y, h):
    cells = set()
    for k in range(len(x)):
        cells.add((int(x[k] // h), int(y[k] // h)))
    out = np.zeros((len(cells), 2), dtype=np.int64)
    j = 0
    for cx, cy in cells:
        out[j, 0] = cx
        out[j, 1] = cy
        j += 1
    return out, (0, 0) in cells

@njit
def floats(n):
    s = {0.0, 1.0, 2.5}
    s.add(-0.0)
    t = {1, 2}
    t.add(n)
    nan = np.nan
    u = {nan, nan}
    return len(s), 1 in s, 2 in s, len(t), sum(t), len(u), nan in u, s >= {1, 0}

@njit
def made(n):
    a = set(np.arange(n) % 5)
    b = set(range(n))
    c = set(zip(range(n), range(n)))
    d = set({i: 2 * i for i in range(n)})
    e = set(a)
    e.add(99)
    f = {i * i for i in range(n) if i % 2 == 1}
    g = a.copy()
    g.clear()
    empty = set()
    return (len(a), len(b), len(c), len(d), len(a), len(e), sum(f), len(g), len(empty),
            bool(empty), empty == g, b.issuperset(a))

@njit
def grows_in_loop(n):
    s = {1, 2}
    for x in s:
        s.add(x * n)
    return len(s)

@njit
def removes(n):
    s = {1, 2, 3}
    s.remove(n)
    return len(s)

@njit
def pops(n):
    s = {1, 2}
    total = 0
    for i in range(n):
        total = total * 10 + s.pop()
    return total

@njit(parallel=True)
def per_row(a):
    out = np.zeros(a.shape[0], dtype=np.int64)
    for i in prange(a.shape[0]):
        s = set()
        for j in range(a.shape[1]):
            s.add(a[i, j])
        out[i] = len(s)
    return out
)STN";

/// Python's set of T with the order stn keeps: items in the order they
/// were added; a removed item leaves, one added again joins at the end.
template <class T> struct OrderedSet {
  std::vector<T> items;
  std::set<T> has;

  void add(const T &x) {
    if (has.insert(x).second)
      items.push_back(x);
  }
  void discard(const T &x) {
    if (has.erase(x))
      items.erase(std::find(items.begin(), items.end(), x));
  }
  bool contains(const T &x) const { return has.count(x) != 0; }
  T pop() {
    T x = items.back();
    items.pop_back();
    has.erase(x);
    return x;
  }
};

class Sets : public ::testing::Test {
protected:
  Sets() : Mod(Engine.loadString(Kernels, "sets.stn")) {}
  stn::Engine Engine{stn::test::noCache()};
  stn::Module Mod;

  /// distinct(a) against the loop in C++: items of a's dtype `dt`.
  template <class T> void checkDistinct(const std::vector<T> &a, stn::DType dt) {
    OrderedSet<T> want;
    double sum = 0;
    for (T x : a)
      want.add(x);
    for (T x : want.items)
      sum += static_cast<double>(x);
    auto r = Mod.kernel("distinct")(stn::ArrayView::of(a.data(), {int64_t(a.size())}));
    int64_t n = static_cast<int64_t>(want.items.size());
    ASSERT_EQ(r[1].asInt(), n);
    EXPECT_EQ(r[0].array().dtype(), dt);
    EXPECT_EQ(valuesOf<T>(r[0], {n}), want.items);
    EXPECT_NEAR(r[2].asDouble(), sum, 1e-9 * (1 + std::abs(sum)));
  }
};

uint64_t nextRandom(uint64_t &s) {
  s = s * 6364136223846793005ULL + 1442695040888963407ULL;
  return s >> 33;
}

TEST_F(Sets, DistinctValuesInFirstSeenOrderAcrossGrowth) {
  std::vector<int64_t> i64(20000);
  std::vector<int32_t> i32(5000);
  std::vector<int8_t> i8(3000);
  std::vector<double> f64(4000);
  std::vector<float> f32(4000);
  uint64_t s = 4242;
  for (auto &x : i64)
    x = static_cast<int64_t>(nextRandom(s) % 7919) * 1000003 - 5000000;
  for (auto &x : i32)
    x = static_cast<int32_t>(nextRandom(s) % 1500) - 700;
  for (auto &x : i8)
    x = static_cast<int8_t>(nextRandom(s) % 256);
  for (auto &x : f64)
    x = static_cast<double>(nextRandom(s) % 900) * 0.25 - 100;
  for (auto &x : f32)
    x = static_cast<float>(nextRandom(s) % 300) * 0.5f;
  checkDistinct(i64, stn::DType::Int64);
  checkDistinct(i32, stn::DType::Int32);
  checkDistinct(i8, stn::DType::Int8);
  checkDistinct(f64, stn::DType::Float64);
  checkDistinct(f32, stn::DType::Float32);
}

TEST_F(Sets, AddDiscardContainsAndPop) {
  for (int64_t range : {3, 40, 600}) {
    const size_t n = 6000;
    std::vector<int64_t> items(n), ops(n);
    uint64_t s = static_cast<uint64_t>(range) * 31337;
    for (size_t i = 0; i < n; ++i) {
      items[i] = static_cast<int64_t>(nextRandom(s) % static_cast<uint64_t>(range));
      ops[i] = static_cast<int64_t>(nextRandom(s) % 5);
    }
    OrderedSet<int64_t> want;
    int64_t got = 0;
    for (size_t i = 0; i < n; ++i) {
      int64_t x = items[i];
      switch (ops[i]) {
      case 0:
      case 1:
        want.add(x);
        break;
      case 2:
        want.discard(x);
        break;
      case 3:
        if (want.contains(x))
          got += x;
        break;
      default:
        if (!want.items.empty())
          got = got * 7 % 1000003 + want.pop();
      }
    }
    int64_t h = 0;
    for (int64_t x : want.items)
      h = h * 31 % 1000003 + x;
    auto r = Mod.kernel("churn")(stn::ArrayView::of(items.data(), {int64_t(n)}),
                                 stn::ArrayView::of(ops.data(), {int64_t(n)}));
    int64_t len = static_cast<int64_t>(want.items.size());
    ASSERT_EQ(r[3].asInt(), len) << range;
    EXPECT_EQ(valuesOf<int64_t>(r[0], {len}), want.items) << range;
    EXPECT_EQ(r[1].asInt(), got) << range;
    EXPECT_EQ(r[2].asInt(), h) << range;
    EXPECT_EQ(r[4].asBool(), len != 0) << range;
  }
}

/// The hash of an int64 key as the generated code computes it (MLIRGen's
/// hashKey), to find keys whose index slot words look alike.
uint64_t keyHash(int64_t x) {
  uint64_t h = (0x243f6a8885a308d3ULL ^ static_cast<uint64_t>(x)) * 0x9e3779b97f4a7c15ULL;
  h ^= h >> 29;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  return h ^ (h >> 32);
}

TEST_F(Sets, KeysWithTheSameHashBits) {
  // Keys whose hashes agree in the 15 bits an index slot keeps (48-62 of
  // the word: the hash's top ones) and in the 4 that pick the home slot of
  // a set of up to 8 items: a probe finds lanes with the key's bits that
  // hold other keys, and removals move such slots back. Found by search;
  // were the hash to change, the steps below still check the results.
  std::vector<int64_t> pool;
  const uint64_t want = keyHash(0);
  for (int64_t x = 1; pool.size() < 5 && x < (int64_t(1) << 26); ++x)
    if ((keyHash(x) >> 49) == (want >> 49) && (keyHash(x) & 15) == (want & 15))
      pool.push_back(x);
  pool.push_back(0);
  ASSERT_EQ(pool.size(), 6u);
  const size_t n = 4000;
  std::vector<int64_t> items(n), ops(n);
  uint64_t s = 777;
  for (size_t i = 0; i < n; ++i) {
    items[i] = pool[nextRandom(s) % pool.size()];
    ops[i] = static_cast<int64_t>(nextRandom(s) % 5);
  }
  OrderedSet<int64_t> set;
  int64_t got = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t x = items[i];
    if (ops[i] <= 1)
      set.add(x);
    else if (ops[i] == 2)
      set.discard(x);
    else if (ops[i] == 3 && set.contains(x))
      got += x;
    else if (ops[i] == 4 && !set.items.empty())
      got = got * 7 % 1000003 + set.pop();
  }
  int64_t h = 0;
  for (int64_t x : set.items)
    h = h * 31 % 1000003 + x;
  auto r = Mod.kernel("churn")(stn::ArrayView::of(items.data(), {int64_t(n)}),
                               stn::ArrayView::of(ops.data(), {int64_t(n)}));
  int64_t len = static_cast<int64_t>(set.items.size());
  ASSERT_EQ(r[3].asInt(), len);
  EXPECT_EQ(valuesOf<int64_t>(r[0], {len}), set.items);
  EXPECT_EQ(r[1].asInt(), got);
  EXPECT_EQ(r[2].asInt(), h);
  // The six added at once keep their order.
  auto all = Mod.kernel("distinct")(stn::ArrayView::of(pool.data(), {6}));
  EXPECT_EQ(valuesOf<int64_t>(all[0], {6}), pool);
}

TEST_F(Sets, AlgebraAndComparisons) {
  uint64_t s = 99;
  // Sizes and ranges chosen so that the pairs are equal, subsets, disjoint
  // and overlapping; b repeats items (set(b) drops them).
  struct Case {
    std::vector<int64_t> a, b;
  };
  std::vector<Case> cases;
  for (int k = 0; k < 12; ++k) {
    Case c;
    size_t na = nextRandom(s) % 60, nb = nextRandom(s) % 60;
    uint64_t range = 1 + nextRandom(s) % 80;
    for (size_t i = 0; i < na; ++i)
      c.a.push_back(static_cast<int64_t>(nextRandom(s) % range));
    for (size_t i = 0; i < nb; ++i)
      c.b.push_back(static_cast<int64_t>(nextRandom(s) % range) + (k % 4 == 3 ? 1000 : 0));
    cases.push_back(c);
  }
  cases.push_back({{1, 2, 3}, {3, 2, 1, 1}});    // equal
  cases.push_back({{1, 2}, {1, 2, 3}});          // proper subset
  cases.push_back({{1, 2, 3, 4}, {2, 3}});       // proper superset
  cases.push_back({{}, {5}});                    // empty
  cases.push_back({{}, {}});                     // both empty
  for (const Case &c : cases) {
    OrderedSet<int64_t> x, y;
    for (int64_t v : c.a)
      x.add(v);
    for (int64_t v : c.b)
      y.add(v);
    OrderedSet<int64_t> u = x, i, d, e;
    for (int64_t v : y.items)
      u.add(v);
    for (int64_t v : x.items) {
      if (y.contains(v))
        i.add(v);
      else
        d.add(v);
    }
    e = d;
    for (int64_t v : y.items)
      if (!x.contains(v))
        e.add(v);
    bool sub = std::includes(y.has.begin(), y.has.end(), x.has.begin(), x.has.end());
    bool super = std::includes(x.has.begin(), x.has.end(), y.has.begin(), y.has.end());
    bool disjoint = i.items.empty();
    bool eq = x.has == y.has;
    // i <= x always; x < u and u > y where the other side adds items.
    std::vector<bool> flags = {eq,    !eq,   sub,      sub && !eq,
                               super, super && !eq, sub, super,
                               disjoint, true, u.has.size() > x.has.size(),
                               u.has.size() > y.has.size()};
    auto r = Mod.kernel("algebra")(stn::ArrayView::of(c.a.data(), {int64_t(c.a.size())}),
                                   stn::ArrayView::of(c.b.data(), {int64_t(c.b.size())}));
    auto n = [](const OrderedSet<int64_t> &o) { return int64_t(o.items.size()); };
    EXPECT_EQ(valuesOf<int64_t>(r[0], {n(u)}), u.items);
    EXPECT_EQ(valuesOf<int64_t>(r[1], {n(i)}), i.items);
    EXPECT_EQ(valuesOf<int64_t>(r[2], {n(d)}), d.items);
    EXPECT_EQ(valuesOf<int64_t>(r[3], {n(e)}), e.items);
    std::vector<bool> got;
    for (bool f : valuesOf<bool>(r[4], {12}))
      got.push_back(f);
    EXPECT_EQ(got, flags) << c.a.size() << " " << c.b.size();
    EXPECT_TRUE(r[5].asBool()); // methods, operators and op= agree
  }
}

TEST_F(Sets, TupleItems) {
  std::vector<double> x, y;
  for (int i = 0; i < 700; ++i) {
    x.push_back(std::fmod(i * 0.37, 3.0) - 1.0);
    y.push_back(std::fmod(i * 0.61, 2.0));
  }
  const double h = 0.25;
  OrderedSet<std::pair<int64_t, int64_t>> want;
  for (size_t k = 0; k < x.size(); ++k)
    want.add({static_cast<int64_t>(std::floor(x[k] / h)),
              static_cast<int64_t>(std::floor(y[k] / h))});
  auto r = Mod.kernel("tuples")(stn::ArrayView::of(x.data(), {int64_t(x.size())}),
                                stn::ArrayView::of(y.data(), {int64_t(y.size())}), h);
  int64_t n = static_cast<int64_t>(want.items.size());
  std::vector<int64_t> got = valuesOf<int64_t>(r[0], {n, 2});
  for (int64_t k = 0; k < n; ++k) {
    EXPECT_EQ(got[size_t(2 * k)], want.items[size_t(k)].first) << k;
    EXPECT_EQ(got[size_t(2 * k + 1)], want.items[size_t(k)].second) << k;
  }
  EXPECT_EQ(r[1].asBool(), want.contains({0, 0}));
}

TEST_F(Sets, FloatItemsAndWidening) {
  auto r = Mod.kernel("floats")(2.5);
  EXPECT_EQ(r[0].asInt(), 3); // -0.0 is the item 0.0
  EXPECT_TRUE(r[1].asBool()); // 1 finds 1.0
  EXPECT_FALSE(r[2].asBool());
  EXPECT_EQ(r[3].asInt(), 3); // {1, 2} with 2.5 added holds float64
  EXPECT_EQ(r[4].asDouble(), 5.5);
  EXPECT_EQ(r[5].asInt(), 2); // NaN equals nothing, itself included
  EXPECT_FALSE(r[6].asBool());
  EXPECT_TRUE(r[7].asBool());
  r = Mod.kernel("floats")(2.0);
  EXPECT_EQ(r[3].asInt(), 2);
  EXPECT_EQ(r[4].asDouble(), 3.0);
}

TEST_F(Sets, MadeFromIterables) {
  for (int64_t n : {0, 1, 7, 40}) {
    int64_t odd = 0;
    for (int64_t i = 1; i < n; i += 2)
      odd += i * i;
    int64_t mod5 = std::min<int64_t>(n, 5);
    auto r = Mod.kernel("made")(n);
    EXPECT_EQ(r[0].asInt(), mod5) << n;
    EXPECT_EQ(r[1].asInt(), n) << n;
    EXPECT_EQ(r[2].asInt(), n) << n;
    EXPECT_EQ(r[3].asInt(), n) << n;
    EXPECT_EQ(r[4].asInt(), mod5) << n; // e = set(a) is a copy
    EXPECT_EQ(r[5].asInt(), mod5 + 1) << n;
    EXPECT_EQ(r[6].asInt(), odd) << n;
    EXPECT_EQ(r[7].asInt(), 0) << n;
    EXPECT_EQ(r[8].asInt(), 0) << n;
    EXPECT_FALSE(r[9].asBool()) << n;
    EXPECT_TRUE(r[10].asBool()) << n;
    EXPECT_TRUE(r[11].asBool()) << n;
  }
}

TEST_F(Sets, ErrorsRaisedWhileRunning) {
  // Items already there may be added in a loop over the set; a new one
  // changes its size.
  EXPECT_EQ(Mod.kernel("grows_in_loop")(int64_t(1)).asInt(), 2);
  std::string msg = errorOf([&] { Mod.kernel("grows_in_loop")(int64_t(3)); });
  EXPECT_NE(msg.find("RuntimeError: Set changed size during iteration"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("sets.stn:110:9"), std::string::npos) << msg;
  EXPECT_EQ(Mod.kernel("removes")(int64_t(2)).asInt(), 2);
  msg = errorOf([&] { Mod.kernel("removes")(int64_t(7)); });
  EXPECT_NE(msg.find("KeyError: 7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sets.stn:116:5"), std::string::npos) << msg;
  EXPECT_EQ(Mod.kernel("pops")(int64_t(2)).asInt(), 21); // the last added first
  msg = errorOf([&] { Mod.kernel("pops")(int64_t(3)); });
  EXPECT_NE(msg.find("KeyError: 'pop from an empty set'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sets.stn:124:30"), std::string::npos) << msg;
}

TEST_F(Sets, MadeInParallelLoopBodies) {
  const int64_t rows = 64, cols = 50;
  std::vector<int32_t> a(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      a[size_t(i * cols + j)] = static_cast<int32_t>((i * j + j / 3) % (i + 1));
  std::vector<int64_t> want(rows);
  for (int64_t i = 0; i < rows; ++i) {
    std::set<int32_t> seen;
    for (int64_t j = 0; j < cols; ++j)
      seen.insert(a[size_t(i * cols + j)]);
    want[size_t(i)] = static_cast<int64_t>(seen.size());
  }
  auto r = Mod.kernel("per_row")(stn::ArrayView::of(a.data(), {rows, cols}));
  EXPECT_EQ(valuesOf<int64_t>(r, {rows}), want);
}

} // namespace
