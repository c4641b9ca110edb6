//===- MinMaxItemsTest.cpp - Tuple comparisons; min() and max() of items --===//
//
// Python's comparisons of tuples and its min()/max() of items, each kernel
// against the same steps written in C++ from Python's rules (the first
// pair of items that is not equal decides, else the lengths; the first of
// equal items wins):
//   - the six operators on pairs (float64, float32, int64 and int32 first
//     fields with an int64 second) over values with ties and NaNs, where
//     Python's rule differs from std::tuple's; tuples of other lengths,
//     nested tuples, a chain of comparisons;
//   - min() and max() of a list of pairs, of the pairs of zip(), of
//     enumerate() by key, of a dict's keys and items;
//   - key= (a lambda, a @jit function of the file, a lambda reading the
//     kernel's array) over range(), an array and a list, for each dtype;
//   - several arguments and the elements of one tuple, with key=;
//   - default= of no items; ValueError without it;
//   - max(range(...), key=...) in each iteration of a prange loop.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
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
def pair_order(a, b, c, d):
    out = np.zeros((len(a), 6), np.bool_)
    for i in range(len(a)):
        l = (a[i], b[i])
        r = (c[i], d[i])
        out[i, 0] = l < r
        out[i, 1] = l <= r
        out[i, 2] = l > r
        out[i, 3] = l >= r
        out[i, 4] = l == r
        out[i, 5] = l != r
    return out

@njit
def shapes(x, y):
    return ((x,) < (x, y), (x, y) < (x,), (x, y) == (x,), (x, y) != (x,),
            ((x, y), 1) < ((x, y), 2), ((x, y), 2) <= ((x, y + 1), 0),
            (x, 1) < (x, 2) < (x, 3), (x, 1) < (x, 2) > (x, 3), () < (x,), () == ())

@njit
def pairs_min_max(a, b):
    xs = [(a[i], b[i]) for i in range(len(a))]
    return min(xs), max(xs), min(zip(a, b)), max(zip(a, b))

@njit
def dist(v):
    return abs(v - 0.5)

@njit
def by_key(a):
    i = min(range(len(a)), key=lambda j: abs(a[j] - 0.5))
    far = max(a, key=lambda v: abs(v - 0.5))
    near = min(list(a), key=dist)
    top = max(enumerate(a), key=lambda t: t[1])
    return i, far, near, top

@njit
def positional(x, y, z):
    return (min(x, y, z, key=lambda v: abs(v - 0.5)), max((x, y, z)),
            max(x, y, z, key=lambda v: -v), min((x, 1), (y, 0), (z, 2)))

@njit
def with_default(a, d):
    return min(a, default=d), max(range(len(a)), key=lambda j: a[j], default=-1)

@njit
def empty_min(a):
    return min(range(len(a)), key=lambda j: a[j])

@njit
def dict_items(a):
    d = {}
    for i in range(len(a)):
        d[a[i] % 7] = i
    return max(d), min(d), max(d.items(), key=lambda kv: kv[1]), min(d.values())

@njit(parallel=True)
def best_each(a, n):
    out = np.zeros(n, np.int64)
    for i in prange(n):
        out[i] = max(range(i + 1), key=lambda j: a[j])
    return out
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "minmax.stn");
  return m;
}

enum class Op { Lt, Le, Gt, Ge, Eq, Ne };

// Python's comparison of (l0, l1) with (r0, r1).
template <class T> bool pyCompare(Op op, T l0, int64_t l1, T r0, int64_t r1) {
  bool eq0 = l0 == r0, eq1 = l1 == r1;
  if (op == Op::Eq)
    return eq0 && eq1;
  if (op == Op::Ne)
    return !(eq0 && eq1);
  auto cmp = [op](auto x, auto y) {
    switch (op) {
    case Op::Lt: return x < y;
    case Op::Le: return x <= y;
    case Op::Gt: return x > y;
    default: return x >= y;
    }
  };
  if (!eq0)
    return cmp(l0, r0);
  if (!eq1)
    return cmp(l1, r1);
  return cmp(0, 0); // equal lengths
}

template <class T> std::vector<T> values(std::mt19937 &rng, size_t n, bool nan) {
  std::uniform_int_distribution<int> d(-3, 3);
  std::vector<T> v(n);
  for (auto &x : v)
    x = static_cast<T>(d(rng));
  if constexpr (std::is_floating_point_v<T>)
    if (nan)
      for (size_t i = 0; i < n; i += 5)
        v[i] = std::numeric_limits<T>::quiet_NaN();
  return v;
}

template <class T> void checkPairOrder(std::mt19937 &rng) {
  const size_t n = 400;
  std::vector<T> a = values<T>(rng, n, true), c = values<T>(rng, n, true);
  std::vector<int64_t> b = values<int64_t>(rng, n, false), d = values<int64_t>(rng, n, false);
  int64_t len = static_cast<int64_t>(n);
  stn::Value r = module().kernel("pair_order")(
      stn::ArrayView::of(a.data(), {len}), stn::ArrayView::of(b.data(), {len}),
      stn::ArrayView::of(c.data(), {len}), stn::ArrayView::of(d.data(), {len}));
  std::vector<bool> got = valuesOf<bool>(r, {len, 6});
  const Op ops[] = {Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Eq, Op::Ne};
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < 6; ++k)
      EXPECT_EQ(got[i * 6 + k], pyCompare(ops[k], a[i], b[i], c[i], d[i]))
          << "(" << a[i] << ", " << b[i] << ") op " << k << " (" << c[i] << ", " << d[i] << ")";
}

TEST(TupleCompare, PairsWithEachOperatorAndDtype) {
  std::mt19937 rng(11);
  checkPairOrder<double>(rng);
  checkPairOrder<float>(rng);
  checkPairOrder<int64_t>(rng);
  checkPairOrder<int32_t>(rng);
}

TEST(TupleCompare, LengthsNestingAndChains) {
  for (double y : {-1.0, 2.0}) {
    stn::Value r = module().kernel("shapes")(1.5, y);
    ASSERT_EQ(r.size(), 10u);
    EXPECT_TRUE(r[0].asBool());  // a prefix is smaller
    EXPECT_FALSE(r[1].asBool());
    EXPECT_FALSE(r[2].asBool()); // other lengths are never equal
    EXPECT_TRUE(r[3].asBool());
    EXPECT_TRUE(r[4].asBool());  // equal inner tuples: the next item decides
    EXPECT_TRUE(r[5].asBool());  // the inner tuples decide
    EXPECT_TRUE(r[6].asBool());
    EXPECT_FALSE(r[7].asBool());
    EXPECT_TRUE(r[8].asBool());
    EXPECT_TRUE(r[9].asBool());
  }
}

// The first item of `xs` that no later one beats under `better`.
template <class T, class Better> size_t pyBest(const std::vector<T> &xs, Better better) {
  size_t best = 0;
  for (size_t i = 1; i < xs.size(); ++i)
    if (better(xs[i], xs[best]))
      best = i;
  return best;
}

TEST(MinMaxItems, PairsOfAListAndOfZip) {
  std::mt19937 rng(5);
  for (size_t n : {1, 2, 7, 100}) {
    std::vector<double> a = values<double>(rng, n, false);
    std::vector<int64_t> b = values<int64_t>(rng, n, false);
    int64_t len = static_cast<int64_t>(n);
    stn::Value r = module().kernel("pairs_min_max")(stn::ArrayView::of(a.data(), {len}),
                                                   stn::ArrayView::of(b.data(), {len}));
    std::vector<std::pair<double, int64_t>> xs;
    for (size_t i = 0; i < n; ++i)
      xs.emplace_back(a[i], b[i]);
    auto lt = [](auto &x, auto &y) { return pyCompare(Op::Lt, x.first, x.second, y.first, y.second); };
    auto gt = [](auto &x, auto &y) { return pyCompare(Op::Gt, x.first, x.second, y.first, y.second); };
    auto lo = xs[pyBest(xs, lt)], hi = xs[pyBest(xs, gt)];
    for (int k : {0, 2}) {
      EXPECT_EQ(r[k][0].asDouble(), lo.first) << n;
      EXPECT_EQ(r[k][1].asInt(), lo.second) << n;
      EXPECT_EQ(r[k + 1][0].asDouble(), hi.first) << n;
      EXPECT_EQ(r[k + 1][1].asInt(), hi.second) << n;
    }
  }
}

template <class T> void checkByKey(std::mt19937 &rng) {
  std::uniform_int_distribution<int> d(-4, 5);
  for (size_t n : {1, 3, 50}) {
    std::vector<T> a(n);
    for (auto &x : a) // many ties of abs(x - 0.5): 0 and 1, -1 and 2, ...
      x = static_cast<T>(d(rng));
    int64_t len = static_cast<int64_t>(n);
    stn::Value r = module().kernel("by_key")(stn::ArrayView::of(a.data(), {len}));
    auto dist = [](T x) { return std::abs(static_cast<double>(x) - 0.5); };
    size_t near = pyBest(a, [&](T x, T y) { return dist(x) < dist(y); });
    size_t far = pyBest(a, [&](T x, T y) { return dist(x) > dist(y); });
    size_t top = pyBest(a, [](T x, T y) { return x > y; });
    EXPECT_EQ(r[0].asInt(), static_cast<int64_t>(near)) << n;
    EXPECT_EQ(r[1].asDouble(), static_cast<double>(a[far])) << n;
    EXPECT_EQ(r[2].asDouble(), static_cast<double>(a[near])) << n;
    EXPECT_EQ(r[3][0].asInt(), static_cast<int64_t>(top)) << n;
    EXPECT_EQ(r[3][1].asDouble(), static_cast<double>(a[top])) << n;
  }
}

TEST(MinMaxItems, KeyFunctionsForEachDtype) {
  std::mt19937 rng(7);
  checkByKey<double>(rng);
  checkByKey<float>(rng);
  checkByKey<int64_t>(rng);
  checkByKey<int32_t>(rng);
}

TEST(MinMaxItems, ArgumentsAndTupleElements) {
  // 0.0 and 1.0 are as far from 0.5: the first wins.
  stn::Value r = module().kernel("positional")(1.0, 3.0, 0.0);
  EXPECT_EQ(r[0].asDouble(), 1.0);
  EXPECT_EQ(r[1].asDouble(), 3.0);
  EXPECT_EQ(r[2].asDouble(), 0.0);
  EXPECT_EQ(r[3][0].asDouble(), 0.0); // (0.0, 2) is the smallest pair
  EXPECT_EQ(r[3][1].asInt(), 2);
  r = module().kernel("positional")(2.0, 2.0, 2.0);
  EXPECT_EQ(r[3][1].asInt(), 0); // the first fields tie: (2.0, 0)
}

TEST(MinMaxItems, DefaultAndEmpty) {
  std::vector<int64_t> a = {4, -2, 9, 9, -2};
  stn::Value r = module().kernel("with_default")(stn::ArrayView::of(a.data(), {5}), int64_t{100});
  EXPECT_EQ(r[0].asInt(), -2);
  EXPECT_EQ(r[1].asInt(), 2); // the first 9
  r = module().kernel("with_default")(stn::ArrayView::of(a.data(), {0}), int64_t{100});
  EXPECT_EQ(r[0].asInt(), 100);
  EXPECT_EQ(r[1].asInt(), -1);
  EXPECT_EQ(module().kernel("empty_min")(stn::ArrayView::of(a.data(), {3})).asInt(), 1);
  EXPECT_NE(errorOf([&] { module().kernel("empty_min")(stn::ArrayView::of(a.data(), {0})); })
                .find("ValueError: min() arg is an empty sequence"),
            std::string::npos);
}

TEST(MinMaxItems, DictKeysAndItems) {
  std::vector<int64_t> a = {3, 10, 22, 5, 4, 17, 6, 13};
  stn::Value r = module().kernel("dict_items")(stn::ArrayView::of(a.data(), {8}));
  std::map<int64_t, int64_t> d; // key a % 7 (Python's, non-negative here): last position
  for (size_t i = 0; i < a.size(); ++i)
    d[a[i] % 7] = static_cast<int64_t>(i);
  EXPECT_EQ(r[0].asInt(), d.rbegin()->first);
  EXPECT_EQ(r[1].asInt(), d.begin()->first);
  // The entry with the largest position (7, from 13 % 7 = 6).
  EXPECT_EQ(r[2][0].asInt(), 6);
  EXPECT_EQ(r[2][1].asInt(), 7);
  int64_t least = INT64_MAX;
  for (auto &[k, v] : d)
    least = std::min(least, v);
  EXPECT_EQ(r[3].asInt(), least);
}

TEST(MinMaxItems, InEachIterationOfAParallelLoop) {
  std::mt19937 rng(3);
  std::vector<double> a = values<double>(rng, 300, false);
  stn::Value r = module().kernel("best_each")(stn::ArrayView::of(a.data(), {300}), int64_t{300});
  std::vector<int64_t> got = valuesOf<int64_t>(r, {300});
  size_t best = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > a[best])
      best = i;
    EXPECT_EQ(got[i], static_cast<int64_t>(best)) << i;
  }
}

} // namespace
