//===- NdIterTest.cpp - np.ndindex, np.ndenumerate, a.flat, a[idx] -------===//
//
// Each kernel against the same walk written as plain C++ loops:
//   - np.ndindex over 1-, 2- and 3-d shapes (a.shape, extents, a tuple), in
//     for loops (with continue, break and else) and in comprehensions, and the
//     index tuples used as array indices (a[idx] read, written, updated);
//   - np.ndenumerate of C-contiguous, transposed and strided arrays for
//     float64, int32, uint8 and complex128;
//   - a.flat iterated and indexed (negative positions, writes, +=) on
//     contiguous and non-contiguous arrays;
//   - errors: negative extents, a.flat positions out of bounds.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <complex>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def weighted(a):
    s = 0.0
    for idx in np.ndindex(a.shape):
        s += a[idx] * (idx[0] + 1)
    return s

@njit
def fill3(n, m, k):
    out = np.empty((n, m, k), np.int64)
    for idx in np.ndindex(n, m, k):
        out[idx] = idx[0] * 100 + idx[1] * 10 + idx[2]
    return out

@njit
def bump(a):
    for idx in np.ndindex(a.shape):
        a[idx] += idx[-1]
    return a

@njit
def skip_and_stop(n, m, stop):
    c = 0
    for i, j in np.ndindex((n, m)):
        if j == 1:
            continue
        if i * m + j >= stop:
            break
        c += i * 1000 + j
    return c

@njit
def find(a, x):
    for idx, v in np.ndenumerate(a):
        if v == x:
            break
    else:
        return -1, idx
    return 1, idx

@njit
def pairs(n, m):
    return ([i * 10 + j for i, j in np.ndindex(n, m) if i != j],
            sum(i * j for i, j in np.ndindex(n, m)))

@njit
def enum_sum(a):
    s = 0.0
    for (i, j), v in np.ndenumerate(a):
        s += v * (i * 7 + j + 1)
    return s

@njit
def enum_copy(a):
    out = np.zeros(a.shape, a.dtype)
    for idx, v in np.ndenumerate(a):
        out[idx] = v
    return out

@njit
def enum_list(a):
    return [v * (k + 1) for k, (idx, v) in enumerate(np.ndenumerate(a))]

@njit
def flat_items(a):
    out = np.empty(a.size, a.dtype)
    k = 0
    for x in a.flat:
        out[k] = x
        k += 1
    return out

@njit
def flat_zip(a, b):
    s = 0.0
    for x, y in zip(a.flat, b.flat):
        s += x * y
    return s

@njit
def flat_get(a, i):
    return a.flat[i]

@njit
def flat_write(a):
    for i in range(a.size):
        a.flat[i] = i
    a.flat[-1] += 100
    return a

@njit(boundscheck=True)
def flat_checked(a, i):
    return a.flat[i]
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "nditer.stn");
  return m;
}

std::vector<double> iota(size_t n, double from = 1.0) {
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), from);
  return v;
}

TEST(NdIter, NdIndexWalksEveryIndexInCOrder) {
  std::vector<double> a = iota(12);
  double want = 0;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j)
      want += a[i * 4 + j] * static_cast<double>(i + 1);
  EXPECT_EQ(module().kernel("weighted")(stn::ArrayView::of(a.data(), {3, 4})).asDouble(), want);
  // A transposed view: a[idx] follows its strides.
  const int64_t s = sizeof(double);
  stn::ArrayView t(a.data(), stn::DType::Float64, {4, 3}, {s, 4 * s});
  want = 0;
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 3; ++j)
      want += a[j * 4 + i] * static_cast<double>(i + 1);
  EXPECT_EQ(module().kernel("weighted")(t).asDouble(), want);
  // 1-d: element i weighs i + 1.
  EXPECT_EQ(module().kernel("weighted")(stn::ArrayView::of(a.data(), {5})).asDouble(),
            1 * 1 + 2 * 2 + 3 * 3 + 4 * 4 + 5 * 5);

  std::vector<int64_t> cube = valuesOf<int64_t>(
      module().kernel("fill3")(int64_t{2}, int64_t{3}, int64_t{4}), {2, 3, 4});
  std::vector<int64_t> ref;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k)
        ref.push_back(i * 100 + j * 10 + k);
  EXPECT_EQ(cube, ref);
  // Empty extents give no index; a zero in the middle too.
  EXPECT_EQ(valuesOf<int64_t>(module().kernel("fill3")(int64_t{2}, int64_t{0}, int64_t{4}),
                              {2, 0, 4}),
            std::vector<int64_t>{});
}

TEST(NdIter, IndexTuplesUpdateElements) {
  std::vector<int32_t> a(6, 1);
  module().kernel("bump")(stn::ArrayView::of(a.data(), {2, 3}));
  EXPECT_EQ(a, (std::vector<int32_t>{1, 2, 3, 1, 2, 3}));
}

TEST(NdIter, ContinueAndBreakMoveTheIndexOn) {
  for (int64_t stop : {0, 5, 11, 100}) {
    int64_t want = 0;
    bool done = false;
    for (int64_t i = 0; i < 4 && !done; ++i)
      for (int64_t j = 0; j < 3; ++j) {
        if (j == 1)
          continue;
        if (i * 3 + j >= stop) {
          done = true;
          break;
        }
        want += i * 1000 + j;
      }
    EXPECT_EQ(module().kernel("skip_and_stop")(int64_t{4}, int64_t{3}, stop).asInt(), want)
        << stop;
  }
}

TEST(NdIter, BreakSkipsElse) {
  // After a loop that ran to its end, the target holds the last index.
  std::vector<double> a = iota(24);
  for (double x : {1.0, 7.0, 24.0, 99.0}) {
    bool found = x <= 24;
    int64_t k = found ? static_cast<int64_t>(x) - 1 : 23;
    stn::Value r = module().kernel("find")(stn::ArrayView::of(a.data(), {2, 3, 4}), x);
    EXPECT_EQ(r[0].asInt(), found ? 1 : -1) << x;
    std::vector<int64_t> want = {k / 12, k / 4 % 3, k % 4};
    ASSERT_EQ(r[1].size(), 3u);
    for (size_t d = 0; d < 3; ++d)
      EXPECT_EQ(r[1][d].asInt(), want[d]) << x;
    stn::Value r1 = module().kernel("find")(stn::ArrayView::of(a.data(), {24}), x);
    EXPECT_EQ(r1[0].asInt(), found ? 1 : -1) << x;
    ASSERT_EQ(r1[1].size(), 1u);
    EXPECT_EQ(r1[1][0].asInt(), k) << x;
  }
}

TEST(NdIter, ComprehensionsOverNdIndex) {
  stn::Value r = module().kernel("pairs")(int64_t{3}, int64_t{4});
  std::vector<int64_t> want;
  int64_t sum = 0;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      if (i != j)
        want.push_back(i * 10 + j);
      sum += i * j;
    }
  EXPECT_EQ(valuesOf<int64_t>(r[0], {static_cast<int64_t>(want.size())}), want);
  EXPECT_EQ(r[1].asInt(), sum);
}

TEST(NdIter, NdEnumerateForEachLayoutAndDtype) {
  std::vector<double> a = iota(20);
  const int64_t s = sizeof(double);
  // C order, transposed, every other column.
  struct Case {
    stn::ArrayView view;
    int64_t rows, cols, rowStride, colStride; // in elements
  };
  std::vector<Case> cases = {
      {stn::ArrayView::of(a.data(), {4, 5}), 4, 5, 5, 1},
      {stn::ArrayView(a.data(), stn::DType::Float64, {5, 4}, {s, 5 * s}), 5, 4, 1, 5},
      {stn::ArrayView(a.data(), stn::DType::Float64, {4, 3}, {5 * s, 2 * s}), 4, 3, 5, 2},
  };
  for (const Case &c : cases) {
    double want = 0;
    std::vector<double> copy;
    for (int64_t i = 0; i < c.rows; ++i)
      for (int64_t j = 0; j < c.cols; ++j) {
        double v = a[i * c.rowStride + j * c.colStride];
        want += v * static_cast<double>(i * 7 + j + 1);
        copy.push_back(v);
      }
    EXPECT_EQ(module().kernel("enum_sum")(c.view).asDouble(), want);
    EXPECT_EQ(valuesOf<double>(module().kernel("enum_copy")(c.view), {c.rows, c.cols}), copy);
    std::vector<double> items = valuesOf<double>(module().kernel("flat_items")(c.view),
                                                 {c.rows * c.cols});
    EXPECT_EQ(items, copy);
  }
  std::vector<int32_t> i32 = {5, -6, 7, -8, 9, -10};
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("enum_copy")(stn::ArrayView::of(i32.data(), {3, 2})),
                              {3, 2}),
            i32);
  std::vector<uint8_t> u8 = {250, 1, 2, 3, 4, 255, 7, 8};
  EXPECT_EQ(valuesOf<uint8_t>(module().kernel("flat_items")(
                                  stn::ArrayView(u8.data(), stn::DType::UInt8, {2, 2}, {1, 4})),
                              {4}),
            (std::vector<uint8_t>{250, 4, 1, 255}));
  std::vector<std::complex<double>> c = {{1, 2}, {3, -4}, {0, 1}};
  std::vector<std::complex<double>> wantC;
  for (size_t k = 0; k < c.size(); ++k)
    wantC.push_back(c[k] * static_cast<double>(k + 1));
  EXPECT_EQ(valuesOf<std::complex<double>>(
                module().kernel("enum_list")(stn::ArrayView::of(c.data(), {3})), {3}),
            wantC);
}

TEST(NdIter, FlatIndexing) {
  std::vector<double> a = iota(12, 0.0);
  const int64_t s = sizeof(double);
  stn::ArrayView c = stn::ArrayView::of(a.data(), {3, 4});
  stn::ArrayView t(a.data(), stn::DType::Float64, {4, 3}, {s, 4 * s});
  for (int64_t i = -12; i < 12; ++i) {
    int64_t k = i < 0 ? i + 12 : i;
    EXPECT_EQ(module().kernel("flat_get")(c, i).asDouble(), a[k]) << i;
    // Position k of the transpose is row k / 3, column k % 3 of it.
    EXPECT_EQ(module().kernel("flat_get")(t, i).asDouble(), a[(k % 3) * 4 + k / 3]) << i;
  }
  std::vector<double> b(12, -1.0);
  module().kernel("flat_write")(stn::ArrayView(b.data(), stn::DType::Float64, {4, 3}, {s, 4 * s}));
  std::vector<double> want(12);
  for (int64_t k = 0; k < 12; ++k)
    want[(k % 3) * 4 + k / 3] = static_cast<double>(k);
  want[11] += 100;
  EXPECT_EQ(b, want);

  std::vector<double> x = iota(6), y = iota(6, 10.0);
  double dot = 0;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      dot += x[i * 3 + j] * y[j * 2 + i]; // y seen as its (2, 3) transpose
  EXPECT_EQ(module()
                .kernel("flat_zip")(stn::ArrayView::of(x.data(), {2, 3}),
                                    stn::ArrayView(y.data(), stn::DType::Float64, {2, 3},
                                                   {s, 2 * s}))
                .asDouble(),
            dot);
}

TEST(NdIter, Errors) {
  std::vector<double> a = iota(12);
  stn::ArrayView c = stn::ArrayView::of(a.data(), {3, 4});
  EXPECT_NE(errorOf([&] { module().kernel("fill3")(int64_t{2}, int64_t{-1}, int64_t{4}); })
                .find("ValueError: negative dimensions are not allowed"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { module().kernel("flat_checked")(c, int64_t{12}); })
                .find("IndexError: index 12 is out of bounds for size 12"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { module().kernel("flat_checked")(c, int64_t{-13}); })
                .find("IndexError: index -13 is out of bounds for size 12"),
            std::string::npos);
  EXPECT_EQ(module().kernel("flat_checked")(c, int64_t{-12}).asDouble(), 1.0);
  // The engine works on after an error.
  EXPECT_EQ(module().kernel("weighted")(stn::ArrayView::of(a.data(), {2})).asDouble(), 5.0);
}

} // namespace
