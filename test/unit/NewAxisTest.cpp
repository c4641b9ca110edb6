//===- NewAxisTest.cpp - None, np.newaxis and ... in subscripts ------------===//
//
// NumPy's new axes and ellipsis in kernels, each result against a C++ loop:
//   - x[:, None] - x[None, :] (an outer difference by broadcasting), for
//     float64 and int32, with np.newaxis and a newaxis imported from numpy;
//   - ... standing for every axis the other indices leave (none, one or
//     several), before, between and after them, and a[...] alone;
//   - views with new axes are views: writes through them reach the array,
//     also for strided (reversed) slices, and assignments and in-place
//     operators broadcast into them;
//   - with index arrays: the broadcast shape goes where NumPy puts it (new
//     axes and ... separate advanced indices).
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numpy import newaxis
from numba import njit

@njit
def outer_diff(x):
    return x[:, None] - x[None, :]

@njit
def outer_diff_named(x):
    return x[:, np.newaxis] - x[newaxis, :]

@njit
def last_plane(a):
    return a[..., -1]

@njit
def first_plane(a):
    return a[1, ...]

@njit
def middle(a, i, j):
    return a[i, ..., j]

@njit
def element(a, i):
    return a[..., i]

@njit
def everything(a):
    return a[...]

@njit
def shaped(a):
    return a[None, ..., None, ::-2]

@njit
def write_through(a):
    v = a[::-1, None]
    v[0, 0] = 100
    v[2] = -7

@njit
def fill_rows(a, row):
    a[:, None, :] = row[None, None, :]
    a[..., 0] += 1

@njit
def take_rows(a, idx):
    return a[idx, None]

@njit
def take_last(a, idx):
    return a[..., idx]

@njit
def apart(a, i, j):
    return a[i, ..., j]

@njit
def after_new(a, idx):
    return a[None, idx]
)STN";

class NewAxis : public ::testing::Test {
protected:
  stn::Engine Engine{stn::test::noCache()};
  stn::Module Mod = Engine.loadString(Kernels, "newaxis.stn");
};

template <class T> void checkOuterDiff(stn::Module &mod, const char *kernel) {
  std::vector<T> x = {3, -1, 4, 10, 5};
  auto r = mod.kernel(kernel)(stn::ArrayView::of(x.data(), {5}));
  std::vector<T> got = valuesOf<T>(r, {5, 5});
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      EXPECT_EQ(got[i * 5 + j], static_cast<T>(x[i] - x[j])) << kernel << " " << i << "," << j;
}

TEST_F(NewAxis, OuterDifferenceByBroadcasting) {
  checkOuterDiff<double>(Mod, "outer_diff");
  checkOuterDiff<int32_t>(Mod, "outer_diff");
  checkOuterDiff<double>(Mod, "outer_diff_named");
}

TEST_F(NewAxis, EllipsisTakesTheAxesLeft) {
  // a (2, 3, 4) = 0..23.
  std::vector<int64_t> a(24);
  for (int i = 0; i < 24; ++i)
    a[i] = i;
  auto av = stn::ArrayView::of(a.data(), {2, 3, 4});
  std::vector<int64_t> last = valuesOf<int64_t>(Mod.kernel("last_plane")(av), {2, 3});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(last[i * 3 + j], a[i * 12 + j * 4 + 3]);
  std::vector<int64_t> first = valuesOf<int64_t>(Mod.kernel("first_plane")(av), {3, 4});
  for (int j = 0; j < 12; ++j)
    EXPECT_EQ(first[j], a[12 + j]);
  std::vector<int64_t> mid =
      valuesOf<int64_t>(Mod.kernel("middle")(av, int64_t{-1}, int64_t{2}), {3});
  for (int j = 0; j < 3; ++j)
    EXPECT_EQ(mid[j], a[12 + j * 4 + 2]);
  // ... standing for no axis: an element.
  std::vector<int64_t> row = {5, 6, 7};
  EXPECT_EQ(Mod.kernel("element")(stn::ArrayView::of(row.data(), {3}), int64_t{-2}).asInt(), 6);
  EXPECT_EQ(valuesOf<int64_t>(Mod.kernel("everything")(av), {2, 3, 4}), a);
  // a[None, ..., None, ::-2]: (1, 2, 3, 1, 2), the last axis reversed by 2.
  std::vector<int64_t> sh = valuesOf<int64_t>(Mod.kernel("shaped")(av), {1, 2, 3, 1, 2});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k)
        EXPECT_EQ(sh[(i * 3 + j) * 2 + k], a[i * 12 + j * 4 + 3 - 2 * k]);
}

TEST_F(NewAxis, ViewsWithNewAxesWriteThrough) {
  std::vector<double> a = {1, 2, 3, 4};
  Mod.kernel("write_through")(stn::ArrayView::of(a.data(), {4}));
  EXPECT_EQ(a, (std::vector<double>{1, -7, 3, 100}));
  // a (3, 4): every row set to `row`, then its first column incremented.
  std::vector<int32_t> m(12, 0), row = {9, 8, 7, 6};
  Mod.kernel("fill_rows")(stn::ArrayView::of(m.data(), {3, 4}),
                          stn::ArrayView::of(row.data(), {4}));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(m[i * 4 + j], row[j] + (j == 0 ? 1 : 0)) << i << "," << j;
}

TEST_F(NewAxis, BesideIndexArrays) {
  std::vector<float> a(24);
  for (int i = 0; i < 24; ++i)
    a[i] = static_cast<float>(i) * 0.5f;
  auto av = stn::ArrayView::of(a.data(), {2, 3, 4});
  std::vector<int64_t> idx = {1, 0, 1};
  auto iv = stn::ArrayView::of(idx.data(), {3});
  // a[idx, None]: (3, 1, 3, 4).
  std::vector<float> rows = valuesOf<float>(Mod.kernel("take_rows")(av, iv), {3, 1, 3, 4});
  for (int k = 0; k < 3; ++k)
    for (int j = 0; j < 12; ++j)
      EXPECT_EQ(rows[k * 12 + j], a[idx[k] * 12 + j]);
  // a[..., idx]: (2, 3, 3).
  std::vector<float> last = valuesOf<float>(Mod.kernel("take_last")(av, iv), {2, 3, 3});
  for (int i = 0; i < 6; ++i)
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(last[i * 3 + k], a[i * 4 + idx[k]]);
  // a[i, ..., j]: the advanced indices are apart, so their shape comes
  // first: (3, 3).
  std::vector<int64_t> j = {3, -4, 2};
  std::vector<float> ap =
      valuesOf<float>(Mod.kernel("apart")(av, iv, stn::ArrayView::of(j.data(), {3})), {3, 3});
  for (int k = 0; k < 3; ++k)
    for (int m = 0; m < 3; ++m)
      EXPECT_EQ(ap[k * 3 + m], a[idx[k] * 12 + m * 4 + (j[k] < 0 ? j[k] + 4 : j[k])]);
  // a[None, idx]: the new axis first, then idx's shape: (1, 3, 3, 4).
  std::vector<float> an = valuesOf<float>(Mod.kernel("after_new")(av, iv), {1, 3, 3, 4});
  for (int k = 0; k < 3; ++k)
    for (int m = 0; m < 12; ++m)
      EXPECT_EQ(an[k * 12 + m], a[idx[k] * 12 + m]);
}

} // namespace
