//===- FancyIndexTest.cpp - integer-array (fancy) indexing -----------------===//
//
// NumPy's advanced indexing in kernels, each result against a C++ loop:
//   - a[idx] for base and index arrays of several dtypes, negative indices
//     wrapping;
//   - several index arrays broadcasting together (a[r, c]), slices and
//     integers beside them, the broadcast shape in front where the advanced
//     indices are not adjacent (a[i, :, j]);
//   - 1-d boolean arrays along one axis (a[rowmask], a[1:, colmask]);
//   - stores and in-place updates (a[idx] = v, a[idx] += v, an index given
//     twice: the last value stays, the update happens once; a value or an
//     index array that is the array stored into is read before the store);
//   - errors, always checked as NumPy does: an index out of bounds, index
//     arrays that do not broadcast, a boolean index of the wrong length (a
//     full-rank mask too: it must have the array's shape), a value that does
//     not fit the indexed shape;
//   - parallel=True: a gather split over the team, and gathers inside a
//     prange loop where one iteration fails (every other one runs), for
//     1, 2 and 4 threads.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <complex>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using stn::test::valuesOf;

using stn::test::errorOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def take(a, idx):
    return a[idx]

@njit
def pairs(a, r, c):
    return a[r, c]

@njit
def cols(a, idx):
    return a[:, idx]

@njit
def apart(a, i, j):
    return a[i, :, j]

@njit
def plane(a, i, j):
    return a[1:, i, j]

@njit
def rows_where(a, m):
    return a[m]

@njit
def cols_where(a, m):
    return a[1:, m]

@njit
def put(a, idx, v):
    a[idx] = v

@njit
def add_at(a, idx, v):
    a[idx] += v

@njit
def bump_where(a, m):
    a[:, m] *= 2

@njit(parallel=True)
def permute_scaled(a, p):
    return a[p] * 2.0

@njit(parallel=True)
def picked_sums(a, idx, out):
    for i in prange(a.shape[0]):
        out[i] = np.sum(a[i, idx])

@njit
def masked(a, m):
    return a[m]

@njit
def mask_put(a, m, v):
    a[m] = v
)STN";

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

class FancyIndex : public ::testing::TestWithParam<unsigned> {
protected:
  FancyIndex()
      : Engine(stn::test::noCache(GetParam())), Mod(Engine.loadString(Kernels, "fancy.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

/// take(a, idx) for one base and one index dtype, against a C++ loop.
template <class T, class I> void checkTake(stn::Module &mod) {
  std::vector<T> a(50);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<T>(static_cast<int>(i * 7 % 50) - 20);
  std::vector<I> idx = {0, 49, 3, 3, 17, 1, 48, 25};
  if constexpr (std::is_signed_v<I>) {
    idx[2] = -1;
    idx[5] = -50;
  }
  auto r = mod.kernel("take")(stn::ArrayView::of(a.data(), {50}),
                              stn::ArrayView::of(idx.data(), {8}));
  std::vector<T> got = valuesOf<T>(r, {8});
  for (size_t k = 0; k < idx.size(); ++k) {
    int64_t i = static_cast<int64_t>(idx[k]);
    EXPECT_EQ(got[k], a[i < 0 ? i + 50 : i]) << k;
  }
}

TEST_P(FancyIndex, TakeForEachDtype) {
  checkTake<double, int64_t>(Mod);
  checkTake<float, int32_t>(Mod);
  checkTake<int8_t, uint8_t>(Mod);
  checkTake<int64_t, int16_t>(Mod);
  checkTake<uint16_t, uint64_t>(Mod);
  checkTake<std::complex<double>, int64_t>(Mod);
}

TEST_P(FancyIndex, IndexArraysBroadcastTogether) {
  // a (4, 5); r (3, 1), c (2,) -> (3, 2).
  std::vector<int32_t> a(20);
  for (int i = 0; i < 20; ++i)
    a[i] = i * i;
  std::vector<int64_t> r = {3, 0, -2}, c = {4, 1};
  auto res = Mod.kernel("pairs")(stn::ArrayView::of(a.data(), {4, 5}),
                                 stn::ArrayView::of(r.data(), {3, 1}),
                                 stn::ArrayView::of(c.data(), {2}));
  std::vector<int32_t> got = valuesOf<int32_t>(res, {3, 2});
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) {
      int64_t ri = r[i] < 0 ? r[i] + 4 : r[i];
      EXPECT_EQ(got[i * 2 + j], a[ri * 5 + c[j]]) << i << "," << j;
    }
}

TEST_P(FancyIndex, SlicesAndIntegersBesideIndexArrays) {
  // a (3, 4, 5) as values 0..59.
  std::vector<double> a(60);
  for (int i = 0; i < 60; ++i)
    a[i] = i;
  auto av = stn::ArrayView::of(a.data(), {3, 4, 5});
  // a[:, idx] on a 2-d view: (4, 3) columns.
  std::vector<uint8_t> idx = {2, 0, 4};
  auto a2 = stn::ArrayView::of(a.data(), {4, 15});
  std::vector<double> c = valuesOf<double>(
      Mod.kernel("cols")(a2, stn::ArrayView::of(idx.data(), {3})), {4, 3});
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(c[i * 3 + k], a[i * 15 + idx[k]]);
  // a[i, :, j]: an integer and an array apart, so the array's axis comes
  // first (NumPy): (2, 4).
  std::vector<int64_t> j = {4, -5};
  std::vector<double> ap =
      valuesOf<double>(Mod.kernel("apart")(av, int64_t(-1), stn::ArrayView::of(j.data(), {2})),
                     {2, 4});
  for (int k = 0; k < 2; ++k)
    for (int m = 0; m < 4; ++m)
      EXPECT_EQ(ap[k * 4 + m], a[2 * 20 + m * 5 + (j[k] < 0 ? j[k] + 5 : j[k])]);
  // a[1:, i, j]: adjacent, after the slice: (2, 2).
  std::vector<int64_t> ii = {0, 3}, jj = {1, 2};
  std::vector<double> pl = valuesOf<double>(
      Mod.kernel("plane")(av, stn::ArrayView::of(ii.data(), {2}), stn::ArrayView::of(jj.data(), {2})),
      {2, 2});
  for (int s = 0; s < 2; ++s)
    for (int k = 0; k < 2; ++k)
      EXPECT_EQ(pl[s * 2 + k], a[(1 + s) * 20 + ii[k] * 5 + jj[k]]);
}

TEST_P(FancyIndex, BooleanArraysAlongOneAxis) {
  std::vector<float> a(12);
  for (int i = 0; i < 12; ++i)
    a[i] = 0.5f * i;
  auto av = stn::ArrayView::of(a.data(), {3, 4});
  bool rowMask[3] = {true, false, true};
  std::vector<float> rows =
      valuesOf<float>(Mod.kernel("rows_where")(av, stn::ArrayView::of(rowMask, {3})), {2, 4});
  std::vector<float> want;
  for (int i : {0, 2})
    for (int j = 0; j < 4; ++j)
      want.push_back(a[i * 4 + j]);
  EXPECT_EQ(rows, want);
  bool colMask[4] = {false, true, true, false};
  std::vector<float> cols =
      valuesOf<float>(Mod.kernel("cols_where")(av, stn::ArrayView::of(colMask, {4})), {2, 2});
  EXPECT_EQ(cols, (std::vector<float>{a[5], a[6], a[9], a[10]}));
  // In place: a[:, m] *= 2.
  Mod.kernel("bump_where")(av, stn::ArrayView::of(colMask, {4}));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(a[i * 4 + j], 0.5f * (i * 4 + j) * (colMask[j] ? 2 : 1));
}

TEST_P(FancyIndex, StoresAndUpdates) {
  std::vector<int64_t> a(10, 0);
  auto av = stn::ArrayView::of(a.data(), {10});
  std::vector<int64_t> idx = {7, -1, 2, 7};
  auto iv = stn::ArrayView::of(idx.data(), {4});
  // A scalar to every selected element.
  Mod.kernel("put")(av, iv, int64_t(5));
  EXPECT_EQ(a, (std::vector<int64_t>{0, 0, 5, 0, 0, 0, 0, 5, 0, 5}));
  // One value per selected element: index 7 is given twice, the last value
  // stays.
  std::vector<int64_t> v = {10, 20, 30, 40};
  Mod.kernel("put")(av, iv, stn::ArrayView::of(v.data(), {4}));
  EXPECT_EQ(a, (std::vector<int64_t>{0, 0, 30, 0, 0, 0, 0, 40, 0, 20}));
  // a[idx] += 1: index 7 twice, updated once (NumPy's buffered update).
  Mod.kernel("add_at")(av, iv, int64_t(1));
  EXPECT_EQ(a, (std::vector<int64_t>{0, 0, 31, 0, 0, 0, 0, 41, 0, 21}));
  // The value may read the array it is stored into: a[idx] = a (first 4).
  std::vector<double> b = {0, 1, 2, 3, 4, 5};
  std::vector<int64_t> rev = {3, 2, 1, 0};
  auto bv = stn::ArrayView::of(b.data(), {6});
  Mod.kernel("put")(bv, stn::ArrayView::of(rev.data(), {4}), stn::ArrayView::of(b.data(), {4}));
  EXPECT_EQ(b, (std::vector<double>{3, 2, 1, 0, 4, 5}));
  // The index array may be the array stored into (a[a] = v): the indices
  // are read before anything is stored, as in NumPy.
  std::vector<int64_t> c = {3, 0, 1, 2};
  std::vector<int64_t> w = {10, 11, 12, 13};
  auto cv = stn::ArrayView::of(c.data(), {4});
  Mod.kernel("put")(cv, cv, stn::ArrayView::of(w.data(), {4}));
  EXPECT_EQ(c, (std::vector<int64_t>{11, 12, 13, 10}));
}

TEST_P(FancyIndex, ErrorsAreAlwaysChecked) {
  std::vector<double> a(10, 1.0);
  auto av = stn::ArrayView::of(a.data(), {10});
  std::vector<int64_t> idx = {1, 10};
  std::string e = errorOf(
      [&] { Mod.kernel("take")(av, stn::ArrayView::of(idx.data(), {2})); });
  EXPECT_TRUE(contains(e, "fancy.stn:7:12: error: index 10 is out of bounds for axis 0 of 'a' "
                          "with shape (10,)\n    return a[idx]\n           ^~~~~~"))
      << e;
  EXPECT_FALSE(contains(e, "boundscheck")) << e;
  idx = {1, -11};
  e = errorOf([&] { Mod.kernel("take")(av, stn::ArrayView::of(idx.data(), {2})); });
  EXPECT_TRUE(contains(e, "index -11 is out of bounds for axis 0 of 'a' with shape (10,)")) << e;

  std::vector<int64_t> r = {0, 1, 2}, c = {0, 1};
  std::vector<double> m(9);
  e = errorOf([&] {
    Mod.kernel("pairs")(stn::ArrayView::of(m.data(), {3, 3}), stn::ArrayView::of(r.data(), {3}),
                        stn::ArrayView::of(c.data(), {2}));
  });
  EXPECT_TRUE(contains(e, "fancy.stn:11:12: error: shape mismatch: indexing arrays could not be "
                          "broadcast together with shapes (3,) (2,)"))
      << e;

  bool mask[4] = {true, false, true, true};
  e = errorOf([&] {
    Mod.kernel("rows_where")(stn::ArrayView::of(m.data(), {3, 3}), stn::ArrayView::of(mask, {4}));
  });
  EXPECT_TRUE(contains(e, "fancy.stn:27:12: error: boolean index did not match indexed array 'a' "
                          "along axis 0: the axis has 3 elements, the index 4"))
      << e;

  std::vector<double> v = {1, 2, 3};
  idx = {0, 1};
  e = errorOf([&] {
    Mod.kernel("put")(av, stn::ArrayView::of(idx.data(), {2}), stn::ArrayView::of(v.data(), {3}));
  });
  EXPECT_TRUE(contains(e, "fancy.stn:35:5: error: shape mismatch: value array of shape (3,) "
                          "could not be broadcast to indexing result of shape (2,)"))
      << e;
  EXPECT_EQ(a, std::vector<double>(10, 1.0)); // nothing was stored
}

TEST_P(FancyIndex, ParallelGathers) {
  // A permutation gathered over the team.
  const int64_t n = 100000;
  std::vector<double> a(n);
  std::vector<int64_t> p(n);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = static_cast<double>(i % 977) - 300.0;
    p[i] = (i * 7919) % n; // 7919 is prime, so this is a permutation
  }
  std::vector<double> got = valuesOf<double>(
      Mod.kernel("permute_scaled")(stn::ArrayView::of(a.data(), {n}),
                                   stn::ArrayView::of(p.data(), {n})),
      {n});
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; ++i)
    wrong += got[i] != a[p[i]] * 2.0;
  EXPECT_EQ(wrong, 0);

  // Gathers inside a prange loop: one row's index fails, every other row
  // is summed.
  const int64_t rows = 3000, cols = 8;
  std::vector<double> m(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i)
    m[i] = static_cast<double>(i % 13);
  std::vector<int64_t> idx = {7, 0, -1, 3};
  std::vector<double> out(rows, -1.0);
  auto mv = stn::ArrayView::of(m.data(), {rows, cols});
  auto ov = stn::ArrayView::of(out.data(), {rows});
  Mod.kernel("picked_sums")(mv, stn::ArrayView::of(idx.data(), {4}), ov);
  for (int64_t i = 0; i < rows; ++i) {
    double s = 0;
    for (int64_t j : idx)
      s += m[i * cols + (j < 0 ? j + cols : j)];
    ASSERT_EQ(out[i], s) << i;
  }
  // An index out of bounds fails every row; the error names it once.
  idx[1] = 8;
  std::string e = errorOf(
      [&] { Mod.kernel("picked_sums")(mv, stn::ArrayView::of(idx.data(), {4}), ov); });
  EXPECT_TRUE(contains(e, "fancy.stn:52:25: error: index 8 is out of bounds for axis 1 of 'a' "
                          "with shape (3000, 8)"))
      << e;
}

TEST_P(FancyIndex, MasksMustHaveTheArraysShape) {
  // A full-rank mask of another shape once read (and wrote) past its end.
  std::vector<double> a = {1, 2, 3, 4};
  auto av = stn::ArrayView::of(a.data(), {4});
  bool three[3] = {true, true, true};
  std::string e = errorOf([&] { Mod.kernel("masked")(av, stn::ArrayView::of(three, {3})); });
  EXPECT_TRUE(contains(e, "fancy.stn:56:12: error: boolean index did not match indexed array "
                          "'a' along axis 0: the axis has 4 elements, the index 3"))
      << e;
  e = errorOf([&] { Mod.kernel("mask_put")(av, stn::ArrayView::of(three, {3}), 0.0); });
  EXPECT_TRUE(contains(e, "fancy.stn:60:5: error: boolean index did not match indexed array "
                          "'a' along axis 0: the axis has 4 elements, the index 3"))
      << e;
  EXPECT_EQ(a, (std::vector<double>{1, 2, 3, 4}));
  bool twoByTwo[4] = {true, false, false, true};
  e = errorOf([&] {
    Mod.kernel("masked")(stn::ArrayView::of(a.data(), {2, 2}), stn::ArrayView::of(twoByTwo, {2, 2}));
  });
  EXPECT_EQ(e, "<no error>"); // the same shape: fine
  std::vector<double> six(6, 1.0);
  e = errorOf([&] {
    Mod.kernel("masked")(stn::ArrayView::of(six.data(), {2, 3}),
                         stn::ArrayView::of(twoByTwo, {2, 2}));
  });
  EXPECT_TRUE(contains(e, "along axis 1: the axis has 3 elements, the index 2")) << e;

  // A masked store whose value is the target itself: the values are read
  // before any is written (b[pos] = b[:3] puts 5, -1, 7 at 0, 2, 4).
  std::vector<double> b = {5, -1, 7, -2, 9, -3};
  bool pos[6] = {true, false, true, false, true, false};
  Mod.kernel("mask_put")(stn::ArrayView::of(b.data(), {6}), stn::ArrayView::of(pos, {6}),
                         stn::ArrayView::of(b.data(), {3}));
  EXPECT_EQ(b, (std::vector<double>{5, -1, -1, -2, 7, -3}));
}

INSTANTIATE_TEST_SUITE_P(Threads, FancyIndex, ::testing::Values(1u, 2u, 4u),
                         [](const auto &info) { return "threads" + std::to_string(info.param); });

} // namespace
