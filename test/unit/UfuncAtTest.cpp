//===- UfuncAtTest.cpp - np.add.at and the other unbuffered ufuncs --------===//
//
// np.<ufunc>.at(a, idx, v) against the same updates made one index at a
// time in C++: repeated indices each count (unlike a[idx] += v, checked
// beside it), negative indices, values that broadcast, index tuples of a
// 2-d array, maximum/minimum (NaN wins, as np.maximum), float64, int32,
// uint8 (wrapping) and complex128, scalar indices; an index out of bounds
// is an IndexError. Ufuncs with out= (keyword, positional, a view, a larger
// array the inputs broadcast to, out=None) against C++ loops.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def add_at(a, idx, v):
    np.add.at(a, idx, v)

@njit
def buffered_add(a, idx, v):
    a[idx] += v

@njit
def sub_at(a, idx, v):
    np.subtract.at(a, idx, v)

@njit
def mul_at(a, idx, v):
    np.multiply.at(a, idx, v)

@njit
def max_at(a, idx, v):
    np.maximum.at(a, idx, v)

@njit
def min_at(a, idx, v):
    np.minimum.at(a, idx, v)

@njit
def add_at_2d(a, rows, cols, v):
    np.add.at(a, (rows, cols), v)

@njit
def add_at_row(a, i, v):
    np.add.at(a, i, v)

@njit
def into(a, b, c):
    np.add(a, b, out=c)
    np.multiply(c, 2, c)
    return c

@njit
def into_math(a, c):
    np.sqrt(a, out=c)
    np.negative(c, c[::-1])
    np.maximum(c, -1.5, out=c)
    np.exp(a, out=None)
    return c

@njit
def into_rows(a, m):
    np.subtract(m, a, out=m)
    return m
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "ufuncat.stn");
  return m;
}

/// The update `op` applied at each index in turn (negative ones wrapped).
template <class T, class V, class Op>
std::vector<T> sequential(std::vector<T> a, const std::vector<int64_t> &idx,
                          const std::vector<V> &v, Op op) {
  for (size_t k = 0; k < idx.size(); ++k) {
    int64_t i = idx[k] < 0 ? idx[k] + static_cast<int64_t>(a.size()) : idx[k];
    a[static_cast<size_t>(i)] = op(a[static_cast<size_t>(i)], v[v.size() == 1 ? 0 : k]);
  }
  return a;
}

const std::vector<int64_t> Idx = {0, 3, 3, -1, 1, 3, 0};

TEST(UfuncAt, RepeatedIndicesEachCount) {
  std::vector<double> a(5, 1.0), v = {1, 2, 3, 4, 5, 6, 7};
  auto I = stn::ArrayView::of(Idx.data(), {7});
  auto want = sequential(a, Idx, v, [](double x, double y) { return x + y; });
  std::vector<double> b = a;
  module().kernel("add_at")(stn::ArrayView::of(b.data(), {5}), I,
                            stn::ArrayView::of(v.data(), {7}));
  EXPECT_EQ(b, want);
  // a[idx] += v updates an element indexed twice once (the last value).
  std::vector<double> c = a;
  module().kernel("buffered_add")(stn::ArrayView::of(c.data(), {5}), I,
                                  stn::ArrayView::of(v.data(), {7}));
  EXPECT_EQ(c, (std::vector<double>{1 + 7, 1 + 5, 1, 1 + 6, 1 + 4}));

  // A number broadcasts; subtract and multiply in int32.
  std::vector<int32_t> n = {1, 2, 3, 4, 5};
  module().kernel("sub_at")(stn::ArrayView::of(n.data(), {5}), I, int64_t{2});
  EXPECT_EQ(n, sequential(std::vector<int32_t>{1, 2, 3, 4, 5}, Idx, std::vector<int32_t>{2},
                          [](int32_t x, int32_t y) { return x - y; }));
  std::vector<int32_t> m = {1, 2, 3, 4, 5};
  module().kernel("mul_at")(stn::ArrayView::of(m.data(), {5}), I, int64_t{3});
  EXPECT_EQ(m, sequential(std::vector<int32_t>{1, 2, 3, 4, 5}, Idx, std::vector<int32_t>{3},
                          [](int32_t x, int32_t y) { return x * y; }));
  // uint8 wraps: 250 + 3 * 2.
  std::vector<uint8_t> u = {250, 0, 0, 250, 0};
  std::vector<uint8_t> uv = {2};
  module().kernel("add_at")(stn::ArrayView::of(u.data(), {5}), I,
                            stn::ArrayView::of(uv.data(), {1}));
  EXPECT_EQ(u, sequential(std::vector<uint8_t>{250, 0, 0, 250, 0}, Idx, uv,
                          [](uint8_t x, uint8_t y) { return static_cast<uint8_t>(x + y); }));
  // complex128.
  using C = std::complex<double>;
  std::vector<C> z(5, C(0, 1)), zv = {{1, 1}, {2, -1}, {0, 3}, {1, 0}, {-1, -1}, {4, 4}, {0, 0}};
  auto zwant = sequential(z, Idx, zv, [](C x, C y) { return x + y; });
  module().kernel("add_at")(stn::ArrayView::of(z.data(), {5}), I,
                            stn::ArrayView::of(zv.data(), {7}));
  EXPECT_EQ(z, zwant);
}

TEST(UfuncAt, MaximumAndMinimum) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> v = {5, 2, 9, -3, 7, nan, 1};
  std::vector<double> hi(5, 0.0), lo(5, 0.0);
  auto I = stn::ArrayView::of(Idx.data(), {7});
  module().kernel("max_at")(stn::ArrayView::of(hi.data(), {5}), I,
                            stn::ArrayView::of(v.data(), {7}));
  module().kernel("min_at")(stn::ArrayView::of(lo.data(), {5}), I,
                            stn::ArrayView::of(v.data(), {7}));
  // np.maximum and np.minimum propagate NaN: index 3 saw one.
  auto nanMax = [](double x, double y) {
    return std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y);
  };
  auto nanMin = [](double x, double y) {
    return std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y);
  };
  auto wantHi = sequential(std::vector<double>(5, 0.0), Idx, v, nanMax);
  auto wantLo = sequential(std::vector<double>(5, 0.0), Idx, v, nanMin);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(hi[i] == wantHi[i] || (std::isnan(hi[i]) && std::isnan(wantHi[i]))) << i;
    EXPECT_TRUE(lo[i] == wantLo[i] || (std::isnan(lo[i]) && std::isnan(wantLo[i]))) << i;
  }
  EXPECT_TRUE(std::isnan(hi[3]));
  std::vector<int64_t> k = {10, 10, 10, 10, 10};
  module().kernel("min_at")(stn::ArrayView::of(k.data(), {5}), I, int64_t{4});
  EXPECT_EQ(k, (std::vector<int64_t>{4, 4, 10, 4, 4}));
}

TEST(UfuncAt, IndexTuplesAndRows) {
  // a 3x4 matrix; (rows, cols) pairs with repeats.
  std::vector<double> a(12, 0.0);
  std::vector<int64_t> rows = {0, 2, 2, 1, 2}, cols = {1, 3, 3, 0, -1};
  std::vector<double> v = {1, 2, 3, 4, 5};
  module().kernel("add_at_2d")(stn::ArrayView::of(a.data(), {3, 4}),
                               stn::ArrayView::of(rows.data(), {5}),
                               stn::ArrayView::of(cols.data(), {5}),
                               stn::ArrayView::of(v.data(), {5}));
  std::vector<double> want(12, 0.0);
  for (size_t k = 0; k < 5; ++k)
    want[static_cast<size_t>(rows[k] * 4 + (cols[k] + 4) % 4)] += v[k];
  EXPECT_EQ(a, want);
  // A scalar index: the row, with a row of values.
  std::vector<double> row = {1, 2, 3, 4};
  module().kernel("add_at_row")(stn::ArrayView::of(a.data(), {3, 4}), int64_t{-3},
                                stn::ArrayView::of(row.data(), {4}));
  for (size_t j = 0; j < 4; ++j)
    want[j] += row[j];
  EXPECT_EQ(a, want);
}

TEST(UfuncAt, IndexOutOfBounds) {
  std::vector<double> a(3, 0.0);
  std::vector<int64_t> idx = {0, 3};
  std::string err = errorOf([&] {
    module().kernel("add_at")(stn::ArrayView::of(a.data(), {3}),
                              stn::ArrayView::of(idx.data(), {2}), 1.0);
  });
  EXPECT_NE(err.find("index 3 is out of bounds for axis 0"), std::string::npos) << err;
}

TEST(UfuncOut, StatementsWriteIntoTheirOutArray) {
  std::vector<int32_t> a = {1, -2, 3, 40}, b = {5, 6, -7, 8}, c(4, 0);
  auto view = [](auto &v) { return stn::ArrayView::of(v.data(), {int64_t(v.size())}); };
  std::vector<int32_t> want;
  for (size_t i = 0; i < a.size(); ++i)
    want.push_back((a[i] + b[i]) * 2);
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("into")(view(a), view(b), view(c)), {4}), want);
  EXPECT_EQ(c, want); // the argument itself
  std::vector<double> x = {4, 0.25, 9, 2}, y(4, 0);
  // sqrt, then negated into the reversed view, then max(., -1.5).
  std::vector<double> s(4), r(4);
  for (size_t i = 0; i < 4; ++i)
    s[i] = std::sqrt(x[i]);
  for (size_t i = 0; i < 4; ++i)
    r[3 - i] = -s[i];
  for (double &v : r)
    v = std::max(v, -1.5);
  EXPECT_EQ(valuesOf<double>(module().kernel("into_math")(view(x), view(y)), {4}), r);
  // The inputs broadcast to a larger out (NumPy's rule).
  std::vector<float> row = {1, 2, 3}, m = {10, 20, 30, 40, 50, 60};
  auto M = stn::ArrayView::of(m.data(), {2, 3});
  EXPECT_EQ(valuesOf<float>(module().kernel("into_rows")(view(row), M), {2, 3}),
            (std::vector<float>{9, 18, 27, 39, 48, 57}));
}

} // namespace
