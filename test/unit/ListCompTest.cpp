//===- ListCompTest.cpp - List comprehensions in kernels ------------------===//
//
// Each comprehension against the same loops written in C++ with
// std::vector:
//   - a filtered comprehension over an array, for int8, int32, int64,
//     float32, float64, complex128 and bool items (the items doubled have
//     the kinds of Numba's scalar arithmetic: int64 for the integers and
//     bool, float64 for float32);
//   - two clauses, the inner range depending on the outer target, with a
//     condition: many more items than the first clause has (the storage
//     grows several times);
//   - tuple targets over zip and enumerate, rows of a 2-d array, and a
//     comprehension inside another's element;
//   - Python 3 scoping: the target does not change a variable of the same
//     name outside, whose kind differs;
//   - comprehensions inside a conditional expression, a while condition, a
//     loop over another comprehension, NumPy functions, and a prange body;
//     a comprehension's list later appended to (its kind widened);
//   - several conditions of one clause short-circuit: with boundscheck, a
//     guarded out-of-range index is never read.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <complex>
#include <cstdint>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def doubled_nonzero(a):
    return [x * 2 for x in a if x != 0]

@njit
def pairs(n):
    return [i * 10 + j for i in range(n) for j in range(i) if (i + j) % 3 != 0]

@njit
def products(a, b):
    return [x * y for x, y in zip(a, b)]

@njit
def even_positions(a):
    return [i + v for i, v in enumerate(a) if i % 2 == 0]

@njit
def row_sums(m):
    return [r.sum() for r in m]

@njit
def lower_sums(m):
    return [sum([m[i, j] for j in range(i + 1)]) for i in range(m.shape[0])]

@njit
def scoped(a):
    x = 7
    ys = [x * 0.5 for x in a]
    return x, ys

@njit
def places(a, flag, need):
    s = np.sum([v * v for v in a]) if flag else -1.0
    k = 0
    while len([v for v in a if v < k]) < need:
        k += 1
    t = 0.0
    for v in [w + 1 for w in a if w > 0]:
        t += v
    ys = [int(v) for v in a]
    ys.append(0.25)
    return s, k, t, max([abs(v) for v in a]), ys

@njit(parallel=True)
def triangle(n):
    out = np.zeros(n)
    for i in prange(n):
        out[i] = np.sum(np.array([k for k in range(i + 1)]))
    return out

@njit(boundscheck=True)
def guarded(a, extra):
    return [a[i] for i in range(a.shape[0] + extra) if i < a.shape[0] if a[i] > 0]
)STN";

class ListComps : public ::testing::Test {
protected:
  ListComps() : Mod(Engine.loadString(Kernels, "listcomp.stn")) {}
  stn::Engine Engine{stn::test::noCache()};
  stn::Module Mod;

  template <class T, class R = T> void checkDoubled(std::vector<T> a) {
    std::vector<R> want;
    for (T x : a)
      if (x != T(0))
        want.push_back(R(x) * R(2));
    auto r = Mod.kernel("doubled_nonzero")(stn::ArrayView::of(a.data(), {int64_t(a.size())}));
    EXPECT_EQ(valuesOf<R>(r, {int64_t(want.size())}), want);
  }
};

TEST_F(ListComps, FilterEachElementKind) {
  // Scalar arithmetic as in Numba: an int8, int32 or float32 item times
  // the integer 2 is an int64 or a float64.
  checkDoubled<int8_t, int64_t>({3, 0, -4, 0, 60});
  checkDoubled<int32_t, int64_t>({0, 0, 7, -100000, 0, 1});
  checkDoubled<int64_t>({5, 0, -9});
  checkDoubled<float, double>({0.5f, 0.f, -2.25f});
  checkDoubled<double>({0, 1.5, 0, -3.75, 1e300});
  checkDoubled<std::complex<double>>({{1, -2}, {0, 0}, {0, 3}});
  // bool * 2 is an int64 in NumPy.
  std::vector<uint8_t> b = {1, 0, 1, 1, 0};
  auto r = Mod.kernel("doubled_nonzero")(
      stn::ArrayView::of(reinterpret_cast<bool *>(b.data()), {5}));
  EXPECT_EQ(valuesOf<int64_t>(r, {3}), (std::vector<int64_t>{2, 2, 2}));
  // No items: an empty array.
  std::vector<double> zeros(4, 0.0);
  auto e = Mod.kernel("doubled_nonzero")(stn::ArrayView::of(zeros.data(), {4}));
  EXPECT_EQ(valuesOf<double>(e, {0}), std::vector<double>{});
}

TEST_F(ListComps, DependentClausesGrowTheStorage) {
  for (int64_t n : {0, 1, 2, 5, 60}) {
    std::vector<int64_t> want;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < i; ++j)
        if ((i + j) % 3 != 0)
          want.push_back(i * 10 + j);
    auto r = Mod.kernel("pairs")(n);
    EXPECT_EQ(valuesOf<int64_t>(r, {int64_t(want.size())}), want) << n;
  }
}

TEST_F(ListComps, TupleTargetsRowsAndNesting) {
  std::vector<double> a = {1.5, -2, 4, 0.25, 3};
  std::vector<int32_t> b = {2, 3, -1, 8, 0};
  std::vector<double> prod;
  for (size_t i = 0; i < a.size(); ++i)
    prod.push_back(a[i] * b[i]);
  auto r = Mod.kernel("products")(stn::ArrayView::of(a.data(), {5}),
                                  stn::ArrayView::of(b.data(), {5}));
  EXPECT_EQ(valuesOf<double>(r, {5}), prod);

  std::vector<double> even;
  for (size_t i = 0; i < a.size(); i += 2)
    even.push_back(double(i) + a[i]);
  auto e = Mod.kernel("even_positions")(stn::ArrayView::of(a.data(), {5}));
  EXPECT_EQ(valuesOf<double>(e, {3}), even);

  std::vector<double> m(3 * 4);
  for (size_t i = 0; i < m.size(); ++i)
    m[i] = double(i * i % 7) - 2.5;
  std::vector<double> rows(3, 0.0), lower(3, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      rows[i] += m[i * 4 + j];
      if (j <= i)
        lower[i] += m[i * 4 + j];
    }
  auto rs = Mod.kernel("row_sums")(stn::ArrayView::of(m.data(), {3, 4}));
  EXPECT_EQ(valuesOf<double>(rs, {3}), rows);
  auto ls = Mod.kernel("lower_sums")(stn::ArrayView::of(m.data(), {3, 4}));
  EXPECT_EQ(valuesOf<double>(ls, {3}), lower);
}

TEST_F(ListComps, TargetsAreLocalToTheComprehension) {
  std::vector<double> a = {3, -1, 10};
  auto r = Mod.kernel("scoped")(stn::ArrayView::of(a.data(), {3}));
  EXPECT_EQ(r[0].asInt(), 7);
  EXPECT_EQ(valuesOf<double>(r[1], {3}), (std::vector<double>{1.5, -0.5, 5}));
}

TEST_F(ListComps, InsideOtherExpressionsAndStatements) {
  std::vector<double> a = {2.5, -1, 4, -6.5, 0};
  for (bool flag : {true, false}) {
    auto r = Mod.kernel("places")(stn::ArrayView::of(a.data(), {5}), flag, int64_t(3));
    double s = 0, t = 0, mx = 0;
    for (double v : a) {
      s += v * v;
      if (v > 0)
        t += v + 1;
      mx = std::max(mx, std::abs(v));
    }
    int64_t k = 0;
    for (;; ++k) {
      int64_t below = 0;
      for (double v : a)
        below += v < double(k);
      if (below >= 3)
        break;
    }
    EXPECT_EQ(r[0].asDouble(), flag ? s : -1.0);
    EXPECT_EQ(r[1].asInt(), k);
    EXPECT_EQ(r[2].asDouble(), t);
    EXPECT_EQ(r[3].asDouble(), mx);
    std::vector<double> ys;
    for (double v : a)
      ys.push_back(double(int64_t(v)));
    ys.push_back(0.25);
    EXPECT_EQ(valuesOf<double>(r[4], {6}), ys);
  }
}

TEST_F(ListComps, OneListPerParallelIteration) {
  int64_t n = 300;
  std::vector<double> want(n);
  for (int64_t i = 0; i < n; ++i)
    want[i] = double(i * (i + 1) / 2);
  auto r = Mod.kernel("triangle")(n);
  EXPECT_EQ(valuesOf<double>(r, {n}), want);
}

TEST_F(ListComps, ConditionsShortCircuit) {
  std::vector<int64_t> a = {4, -2, 9, 0, 1};
  auto r = Mod.kernel("guarded")(stn::ArrayView::of(a.data(), {5}), int64_t(3));
  EXPECT_EQ(valuesOf<int64_t>(r, {3}), (std::vector<int64_t>{4, 9, 1}));
}

} // namespace
