//===- NonzeroTest.cpp - np.nonzero, np.argwhere, np.roll -----------------===//
//
// The positions of the elements that are not zero, against a C++ scan in C
// order: np.nonzero (one index array per axis, also as a.nonzero() and
// np.where(cond)), np.flatnonzero and np.argwhere, for float64 (NaN and -0.0
// included), int32, bool and complex128 arrays of 1 to 3 dimensions, a
// transposed view, an array expression and an empty result. np.roll of
// the elements in C order and along each axis, for shifts of either sign
// and larger than the extent, against index arithmetic in C++.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def nonzero(a):
    return np.nonzero(a)

@njit
def method(a):
    return a.nonzero()

@njit
def where(a):
    return np.where(a)

@njit
def flat(a):
    return np.flatnonzero(a)

@njit
def argwhere(a):
    return np.argwhere(a)

@njit
def above(a, t):
    return np.flatnonzero(a > t)

@njit
def roll(a, s):
    return np.roll(a, s)

@njit
def roll0(a, s):
    return np.roll(a, s, axis=0)

@njit
def roll1(a, s):
    return np.roll(a, s, 1)
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "nonzero.stn");
  return m;
}

/// The C-order indices (one vector per element) of the true entries of
/// `keep` for an array of `shape`.
std::vector<std::vector<int64_t>> scan(const std::vector<bool> &keep,
                                       const std::vector<int64_t> &shape) {
  std::vector<std::vector<int64_t>> out;
  for (size_t flat = 0; flat < keep.size(); ++flat) {
    if (!keep[flat])
      continue;
    std::vector<int64_t> idx(shape.size());
    size_t rest = flat;
    for (size_t d = shape.size(); d-- > 0;) {
      idx[d] = static_cast<int64_t>(rest % static_cast<size_t>(shape[d]));
      rest /= static_cast<size_t>(shape[d]);
    }
    out.push_back(idx);
  }
  return out;
}

/// Checks every kernel on `view` (of `shape`) against `keep`.
void check(const stn::ArrayView &view, const std::vector<bool> &keep,
           const std::vector<int64_t> &shape) {
  auto want = scan(keep, shape);
  auto n = static_cast<int64_t>(want.size());
  for (const char *fn : {"nonzero", "method", "where"}) {
    stn::Value r = module().kernel(fn)(view);
    ASSERT_EQ(r.size(), shape.size()) << fn;
    for (size_t d = 0; d < shape.size(); ++d) {
      std::vector<int64_t> axis;
      for (auto &idx : want)
        axis.push_back(idx[d]);
      EXPECT_EQ(valuesOf<int64_t>(r[d], {n}), axis) << fn << " axis " << d;
    }
  }
  std::vector<int64_t> flatWant, rowsWant;
  for (auto &idx : want) {
    int64_t f = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      f = f * shape[d] + idx[d];
    flatWant.push_back(f);
    rowsWant.insert(rowsWant.end(), idx.begin(), idx.end());
  }
  EXPECT_EQ(valuesOf<int64_t>(module().kernel("flat")(view), {n}), flatWant);
  EXPECT_EQ(valuesOf<int64_t>(module().kernel("argwhere")(view),
                              {n, static_cast<int64_t>(shape.size())}),
            rowsWant);
}

TEST(Nonzero, EachDtypeAndRank) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> f = {0.0, 1.5, -0.0, nan, 0.0, -2.0, 0.0, 3.0, 0.0, 0.0, 4.0, 0.0};
  std::vector<bool> fk;
  for (double x : f)
    fk.push_back(x != 0.0); // NaN is not zero
  check(stn::ArrayView::of(f.data(), {12}), fk, {12});
  check(stn::ArrayView::of(f.data(), {3, 4}), fk, {3, 4});
  check(stn::ArrayView::of(f.data(), {2, 3, 2}), fk, {2, 3, 2});

  // The transpose of the (3, 4) array: element (i, j) is f[j * 4 + i].
  const int64_t s = sizeof(double);
  std::vector<bool> tk;
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 3; ++j)
      tk.push_back(f[static_cast<size_t>(j * 4 + i)] != 0.0);
  check(stn::ArrayView(f.data(), stn::DType::Float64, {4, 3}, {s, 4 * s}), tk, {4, 3});

  std::vector<int32_t> i32 = {0, 7, 0, -1, 0, 0};
  check(stn::ArrayView::of(i32.data(), {2, 3}), {false, true, false, true, false, false}, {2, 3});
  std::vector<uint8_t> b = {1, 0, 0, 1};
  check(stn::ArrayView(b.data(), stn::DType::Bool, {2, 2}, {2, 1}), {true, false, false, true},
        {2, 2});
  std::vector<std::complex<double>> z = {{0, 0}, {0, 1}, {2, 0}, {0, 0}};
  check(stn::ArrayView::of(z.data(), {4}), {false, true, true, false}, {4});
  // Nothing: empty arrays.
  std::vector<double> zeros(6, 0.0);
  check(stn::ArrayView::of(zeros.data(), {2, 3}), std::vector<bool>(6, false), {2, 3});
}

TEST(Nonzero, OfAnExpression) {
  std::vector<double> a = {5, 1, 9, 3, 7};
  EXPECT_EQ(valuesOf<int64_t>(module().kernel("above")(stn::ArrayView::of(a.data(), {5}), 4.0),
                              {3}),
            (std::vector<int64_t>{0, 2, 4}));
}

/// (x mod n) in [0, n).
int64_t wrap(int64_t x, int64_t n) { return ((x % n) + n) % n; }

TEST(Roll, FlatAndAlongEachAxis) {
  const int64_t rows = 3, cols = 4, s = sizeof(int32_t);
  std::vector<int32_t> a(rows * cols);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<int32_t>(i * 3 + 1);
  auto A = stn::ArrayView::of(a.data(), {rows, cols});
  // The transpose, (cols, rows): element (i, j) is a[j * cols + i].
  stn::ArrayView T(a.data(), stn::DType::Int32, {cols, rows}, {s, cols * s});
  for (int64_t shift : {0, 1, -1, 5, -14, 25}) {
    SCOPED_TRACE(shift);
    std::vector<int32_t> flat(a.size()), t(a.size()), r0(a.size()), r1(a.size());
    std::vector<int32_t> tc; // the transpose in C order
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < rows; ++j)
        tc.push_back(a[static_cast<size_t>(j * cols + i)]);
    const int64_t n = rows * cols;
    for (int64_t i = 0; i < n; ++i) {
      flat[static_cast<size_t>(wrap(i + shift, n))] = a[static_cast<size_t>(i)];
      t[static_cast<size_t>(wrap(i + shift, n))] = tc[static_cast<size_t>(i)];
    }
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        int32_t x = a[static_cast<size_t>(i * cols + j)];
        r0[static_cast<size_t>(wrap(i + shift, rows) * cols + j)] = x;
        r1[static_cast<size_t>(i * cols + wrap(j + shift, cols))] = x;
      }
    EXPECT_EQ(valuesOf<int32_t>(module().kernel("roll")(A, shift), {rows, cols}), flat);
    EXPECT_EQ(valuesOf<int32_t>(module().kernel("roll")(T, shift), {cols, rows}), t);
    EXPECT_EQ(valuesOf<int32_t>(module().kernel("roll0")(A, shift), {rows, cols}), r0);
    EXPECT_EQ(valuesOf<int32_t>(module().kernel("roll1")(A, shift), {rows, cols}), r1);
  }
  // float64, 1-d, and an empty array.
  std::vector<double> v = {1.5, 2.5, 3.5};
  stn::Kernel roll = module().kernel("roll");
  EXPECT_EQ(valuesOf<double>(roll(stn::ArrayView::of(v.data(), {3}), int64_t{-1}), {3}),
            (std::vector<double>{2.5, 3.5, 1.5}));
  EXPECT_EQ(valuesOf<double>(roll(stn::ArrayView::of(v.data(), {0}), int64_t{2}), {0}),
            std::vector<double>{});
}

} // namespace
