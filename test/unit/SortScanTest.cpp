//===- SortScanTest.cpp - np.cumsum, np.cumprod, np.sort, np.argsort -------===//
//
// Running totals and sorting in kernels, each result against a C++ loop or
// std::stable_sort:
//   - cumsum/cumprod flattened and along every axis of a 3-d array, with
//     NumPy's result dtypes (small integers and bools accumulate in int64,
//     unsigned in uint64, floats and complex keep theirs);
//   - sort and argsort along every axis and flattened, for every dtype,
//     NaN last, complex by real then imaginary part; argsort is stable
//     (kind= names any of NumPy's kinds: each sorts stably);
//   - a.sort() in place, also on strided views along either axis (the base
//     array changes);
//   - a sort per row inside a parallel loop, and 10^5 random doubles;
//   - several q at once (an array, a list, a tuple: an axis for them first);
//   - median, percentile and quantile (NumPy's linear interpolation, the
//     mean of the middle two for even medians, NaN for lanes holding a
//     NaN), flattened and along every axis.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

const char *Kernels = R"STN(
import numpy as np
from numba import njit, jit, prange

@njit
def cumsum_flat(a):
    return np.cumsum(a)

@njit
def cumsum_axis(a, ax):
    if ax == 0:
        return np.cumsum(a, axis=0)
    if ax == 1:
        return a.cumsum(1)
    return np.cumsum(a, axis=-1)

@njit
def cumprod_flat(a):
    return a.cumprod()

@njit
def cumprod_axis1(a):
    return np.cumprod(a, axis=1)

@njit
def sort_axis(a, ax):
    if ax == 0:
        return np.sort(a, axis=0)
    if ax == 1:
        return np.sort(a, 1)
    return np.sort(a)

@njit
def sort_flat(a):
    return np.sort(a, axis=None, kind="quicksort")

@njit
def argsort_axis(a, ax):
    if ax == 0:
        return np.argsort(a, axis=0)
    if ax == 1:
        return a.argsort(axis=1, kind="mergesort")
    return np.argsort(a)

@njit
def argsort_flat(a):
    return np.argsort(a, axis=None, kind="stable")

@njit
def sort_in_place(a):
    a.sort()

@njit
def sort_every_other_column(a):
    v = a[:, ::2]
    v.sort(axis=0)

@njit
def sort_rows_of_every_other_column(a):
    v = a[:, ::2]
    v.sort()

@njit
def median_axis(a, ax):
    if ax == 0:
        return np.median(a, axis=0)
    if ax == 1:
        return np.median(a, 1)
    return np.median(a, axis=2)

@njit
def median_flat(a):
    return np.median(a)

@njit
def percentile_axis(a, q, ax):
    if ax == 0:
        return np.percentile(a, q, axis=0)
    if ax == 1:
        return np.percentile(a, q, 1)
    return np.percentile(a, q, axis=-1)

@njit
def quantile_flat(a, q):
    return np.quantile(a, q)

@njit
def several_q(a, qs):
    return (np.quantile(a, qs), np.percentile(a, [20.0, 70.0], axis=1),
            np.quantile(a, (0.7, 0.2, 1.0), axis=2))

@jit(parallel=True)
def sort_rows(a):
    out = np.empty_like(a)
    for i in prange(a.shape[0]):
        out[i] = np.sort(a[i])
    return out
)STN";

class SortScan : public ::testing::Test {
protected:
  SortScan() : Mod(Engine.loadString(Kernels, "sorts.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

template <class T> std::vector<T> cOrder(const stn::Value &v, std::vector<int64_t> shape) {
  stn::Array c = stn::Array::copyOf(v.array().view());
  EXPECT_EQ(c.shape(), shape);
  EXPECT_EQ(c.dtype(), stn::DTypeOf<T>::value);
  return std::vector<T>(c.data<T>(), c.data<T>() + c.size());
}

/// Same values, NaN equal to NaN.
template <class T> bool same(const T &a, const T &b) {
  if constexpr (std::is_floating_point_v<T>)
    return a == b || (std::isnan(a) && std::isnan(b));
  else if constexpr (std::is_same_v<T, std::complex<double>>)
    return same(a.real(), b.real()) && same(a.imag(), b.imag());
  else
    return a == b;
}

template <class T> void expectSame(const std::vector<T> &got, const std::vector<T> &want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(same(got[i], want[i])) << "element " << i;
}

/// NumPy's order, NaN last (also for either part of a complex number).
template <class T> bool before(const T &a, const T &b) {
  if constexpr (std::is_floating_point_v<T>)
    return a < b || (std::isnan(b) && !std::isnan(a));
  else if constexpr (std::is_same_v<T, std::complex<double>>) {
    bool an = std::isnan(a.real()) || std::isnan(a.imag());
    bool bn = std::isnan(b.real()) || std::isnan(b.imag());
    if (an || bn)
      return !an && bn;
    return a.real() < b.real() || (a.real() == b.real() && a.imag() < b.imag());
  } else
    return a < b;
}

/// A 3x4x5 array with repeats (so argsort's stability shows), negatives
/// where T has them, and NaNs for floats.
template <class T> std::vector<T> values3d() {
  std::vector<T> v;
  for (int64_t i = 0; i < 60; ++i) {
    int64_t x = (i * 37 + 11) % 23 - (std::is_signed_v<T> ? 9 : 0);
    if constexpr (std::is_same_v<T, bool>)
      v.push_back(x % 3 == 0);
    else if constexpr (std::is_same_v<T, std::complex<double>>)
      v.push_back({double(x % 4), double(x)});
    else
      v.push_back(static_cast<T>(x));
  }
  if constexpr (std::is_floating_point_v<T>) {
    v[7] = std::numeric_limits<T>::quiet_NaN();
    v[31] = std::numeric_limits<T>::quiet_NaN();
  }
  return v;
}

constexpr int64_t D0 = 3, D1 = 4, D2 = 5;
const std::vector<int64_t> Shape = {D0, D1, D2};

/// The flat positions of the lane along `ax` through `first` (a position
/// with index 0 on `ax`).
std::vector<int64_t> lane(int64_t first, int ax) {
  const int64_t stride[3] = {D1 * D2, D2, 1}, extent[3] = {D0, D1, D2};
  std::vector<int64_t> out;
  for (int64_t j = 0; j < extent[ax]; ++j)
    out.push_back(first + j * stride[ax]);
  return out;
}

/// Every lane along `ax` of the 3x4x5 shape.
std::vector<std::vector<int64_t>> lanes(int ax) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t p = 0; p < D0 * D1 * D2; ++p) {
    int64_t idx[3] = {p / (D1 * D2), (p / D2) % D1, p % D2};
    if (idx[ax] == 0)
      out.push_back(lane(p, ax));
  }
  return out;
}

/// A buffer of T (no std::vector: vector<bool> has no data()).
template <class T> std::unique_ptr<T[]> buffer(const std::vector<T> &v) {
  std::unique_ptr<T[]> b(new T[v.size()]);
  std::copy(v.begin(), v.end(), b.get());
  return b;
}

template <class T> void checkSorts(stn::Module &mod) {
  SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)));
  std::vector<T> a = values3d<T>();
  auto buf = buffer(a);
  auto av = stn::ArrayView::of(buf.get(), Shape);
  for (int ax = 0; ax < 3; ++ax) {
    SCOPED_TRACE("axis " + std::to_string(ax));
    std::vector<T> want = a;
    std::vector<int64_t> order(a.size());
    for (const auto &l : lanes(ax)) {
      std::vector<int64_t> pos(l.size());
      std::iota(pos.begin(), pos.end(), 0);
      std::stable_sort(pos.begin(), pos.end(),
                       [&](int64_t x, int64_t y) { return before(a[l[x]], a[l[y]]); });
      for (size_t j = 0; j < l.size(); ++j) {
        want[l[j]] = a[l[pos[j]]];
        order[l[j]] = pos[j];
      }
    }
    expectSame(cOrder<T>(mod.kernel("sort_axis")(av, int64_t{ax}), Shape), want);
    EXPECT_EQ(cOrder<int64_t>(mod.kernel("argsort_axis")(av, int64_t{ax}), Shape), order);
  }
  std::vector<int64_t> pos(a.size());
  std::iota(pos.begin(), pos.end(), 0);
  std::stable_sort(pos.begin(), pos.end(),
                   [&](int64_t x, int64_t y) { return before(a[x], a[y]); });
  std::vector<T> flat;
  for (int64_t p : pos)
    flat.push_back(a[p]);
  expectSame(cOrder<T>(mod.kernel("sort_flat")(av), {60}), flat);
  EXPECT_EQ(cOrder<int64_t>(mod.kernel("argsort_flat")(av), {60}), pos);
}

TEST_F(SortScan, SortAndArgsortEveryDtype) {
  checkSorts<bool>(Mod);
  checkSorts<int8_t>(Mod);
  checkSorts<uint16_t>(Mod);
  checkSorts<int32_t>(Mod);
  checkSorts<int64_t>(Mod);
  checkSorts<uint64_t>(Mod);
  checkSorts<float>(Mod);
  checkSorts<double>(Mod);
  checkSorts<std::complex<double>>(Mod);
}

/// Running totals along `ax` (-1: flattened) in the accumulator type R.
template <class T, class R> std::vector<R> running(const std::vector<T> &a, int ax, bool product) {
  std::vector<R> out(a.size());
  auto step = [&](R acc, T x) -> R {
    if constexpr (std::is_integral_v<R>) // wrapping, as the kernel's int64 does
      return R(product ? uint64_t(acc) * uint64_t(R(x)) : uint64_t(acc) + uint64_t(R(x)));
    else
      return product ? R(acc * R(x)) : R(acc + R(x));
  };
  if (ax < 0) {
    R acc = product ? R(1) : R(0);
    for (size_t i = 0; i < a.size(); ++i)
      out[i] = acc = step(acc, a[i]);
    return out;
  }
  for (const auto &l : lanes(ax)) {
    R acc = product ? R(1) : R(0);
    for (int64_t p : l)
      out[p] = acc = step(acc, a[p]);
  }
  return out;
}

template <class T, class R> void checkScans(stn::Module &mod) {
  SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)));
  std::vector<T> a = values3d<T>();
  if constexpr (std::is_floating_point_v<T>)
    for (T &x : a) // no NaNs here: they would fill the rest of each total
      if (std::isnan(x))
        x = T(2);
  auto buf = buffer(a);
  auto av = stn::ArrayView::of(buf.get(), Shape);
  expectSame(cOrder<R>(mod.kernel("cumsum_flat")(av), {60}), running<T, R>(a, -1, false));
  for (int ax = 0; ax < 3; ++ax)
    expectSame(cOrder<R>(mod.kernel("cumsum_axis")(av, int64_t{ax}), Shape),
               running<T, R>(a, ax, false));
  // (60 complex factors overflow, where C++'s and stn's complex products
  // may differ in how they reach inf and NaN: lanes of 4 only.)
  if constexpr (!std::is_same_v<T, std::complex<double>>)
    expectSame(cOrder<R>(mod.kernel("cumprod_flat")(av), {60}), running<T, R>(a, -1, true));
  expectSame(cOrder<R>(mod.kernel("cumprod_axis1")(av), Shape), running<T, R>(a, 1, true));
}

TEST_F(SortScan, CumsumCumprodWithNumpysDtypes) {
  checkScans<bool, int64_t>(Mod);
  checkScans<int8_t, int64_t>(Mod);
  checkScans<int32_t, int64_t>(Mod);
  checkScans<uint16_t, uint64_t>(Mod);
  checkScans<int64_t, int64_t>(Mod);
  checkScans<float, float>(Mod);
  checkScans<double, double>(Mod);
  checkScans<std::complex<double>, std::complex<double>>(Mod);
}

TEST_F(SortScan, InPlaceAlsoThroughAView) {
  std::vector<double> a = {5, 1, 4, 2, 3, 0};
  Mod.kernel("sort_in_place")(stn::ArrayView::of(a.data(), {6}));
  EXPECT_EQ(a, (std::vector<double>{0, 1, 2, 3, 4, 5}));
  // Columns 0 and 2 of a 3x3 array sorted down; column 1 untouched.
  std::vector<int32_t> m = {9, 1, 8, 3, 2, 7, 6, 5, 4};
  Mod.kernel("sort_every_other_column")(stn::ArrayView::of(m.data(), {3, 3}));
  EXPECT_EQ(m, (std::vector<int32_t>{3, 1, 4, 6, 2, 7, 9, 5, 8}));
  // Each row of columns 0, 2 and 4 sorted (strided lanes); the others untouched.
  std::vector<int64_t> r = {9, -1, 5, -2, 7, 3, -3, 1, -4, 2};
  Mod.kernel("sort_rows_of_every_other_column")(stn::ArrayView::of(r.data(), {2, 5}));
  EXPECT_EQ(r, (std::vector<int64_t>{5, -1, 7, -2, 9, 1, -3, 2, -4, 3}));
}

/// NumPy's quantile of the values at `pos` of `a` (q in [0, 1]): NaN if
/// one is NaN, else linear interpolation between the sorted neighbours (for
/// the median, the mean of the middle two).
template <class T, class R> R quantileRef(const std::vector<T> &a, std::vector<int64_t> pos,
                                          double q, bool median) {
  std::vector<R> v;
  for (int64_t p : pos)
    v.push_back(R(a[p]));
  for (R x : v)
    if (std::isnan(x))
      return x;
  std::sort(v.begin(), v.end());
  double at = q * double(v.size() - 1);
  size_t lo = size_t(std::floor(at)), hi = std::min(lo + 1, v.size() - 1);
  R t = R(at - std::floor(at)), x = v[lo], y = v[hi];
  if (median)
    return t == R(0) ? x : (x + y) / R(2);
  return t >= R(0.5) ? y - (y - x) * (R(1) - t) : x + (y - x) * t;
}

template <class T, class R> void checkQuantiles(stn::Module &mod) {
  SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)));
  std::vector<T> a = values3d<T>();
  auto buf = buffer(a);
  auto av = stn::ArrayView::of(buf.get(), Shape);
  std::vector<int64_t> all(a.size());
  std::iota(all.begin(), all.end(), 0);
  if constexpr (std::is_floating_point_v<T>) {
    // values3d has NaNs: the flattened median is NaN.
    EXPECT_TRUE(std::isnan(mod.kernel("median_flat")(av).asDouble()));
  } else {
    EXPECT_EQ(mod.kernel("median_flat")(av).asDouble(),
              (quantileRef<T, double>(a, all, 0.5, true)));
    EXPECT_EQ(mod.kernel("quantile_flat")(av, 0.3).asDouble(),
              (quantileRef<T, double>(a, all, 0.3, false)));
  }
  const std::vector<int64_t> dropped[3] = {{D1, D2}, {D0, D2}, {D0, D1}};
  for (int ax = 0; ax < 3; ++ax) {
    SCOPED_TRACE("axis " + std::to_string(ax));
    std::vector<R> med, pct;
    for (const auto &l : lanes(ax)) {
      med.push_back(quantileRef<T, R>(a, l, 0.5, true));
      pct.push_back(quantileRef<T, R>(a, l, 0.7, false));
    }
    expectSame(cOrder<R>(mod.kernel("median_axis")(av, int64_t{ax}), dropped[ax]), med);
    expectSame(cOrder<R>(mod.kernel("percentile_axis")(av, 70.0, int64_t{ax}), dropped[ax]),
               pct);
  }
}

template <class T, class R> void checkSeveralQ(stn::Module &mod) {
  SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)));
  std::vector<T> a = values3d<T>();
  auto buf = buffer(a);
  auto av = stn::ArrayView::of(buf.get(), Shape);
  std::vector<double> qs = {0.0, 0.3, 0.5, 1.0, 0.99};
  stn::Value r = mod.kernel("several_q")(av, stn::ArrayView::of(qs.data(), {5}));
  std::vector<int64_t> all(a.size());
  std::iota(all.begin(), all.end(), 0);
  std::vector<R> flat;
  for (double q : qs)
    flat.push_back(quantileRef<T, R>(a, all, q, false));
  expectSame(cOrder<R>(r[0], {5}), flat);
  // The q's axis first, then the lanes' axes.
  for (int ax : {1, 2}) {
    std::vector<double> lq = ax == 1 ? std::vector<double>{0.2, 0.7}
                                     : std::vector<double>{0.7, 0.2, 1.0};
    std::vector<R> want;
    for (double q : lq)
      for (const auto &l : lanes(ax))
        want.push_back(quantileRef<T, R>(a, l, q, false));
    std::vector<int64_t> shape = {int64_t(lq.size()), D0, ax == 1 ? D2 : D1};
    expectSame(cOrder<R>(r[ax], shape), want);
  }
}

TEST_F(SortScan, SeveralQuantilesAtOnce) {
  checkSeveralQ<int32_t, double>(Mod);
  checkSeveralQ<float, float>(Mod);
  checkSeveralQ<double, double>(Mod);
}

TEST_F(SortScan, MedianPercentileQuantile) {
  checkQuantiles<int32_t, double>(Mod);
  checkQuantiles<uint16_t, double>(Mod);
  checkQuantiles<float, float>(Mod);
  checkQuantiles<double, double>(Mod);
  std::vector<double> v = {1.0, 2.0};
  try {
    Mod.kernel("quantile_flat")(stn::ArrayView::of(v.data(), {2}), 1.5);
    ADD_FAILURE() << "no error for q = 1.5";
  } catch (const stn::Error &e) {
    EXPECT_NE(std::string(e.what()).find("ValueError: Quantiles must be in the range [0, 1]"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(SortScan, ParallelRowsAndManyElements) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  const int64_t rows = 64, cols = 1000;
  std::vector<double> a(rows * cols);
  for (double &x : a)
    x = u(rng);
  std::vector<double> want = a;
  for (int64_t i = 0; i < rows; ++i)
    std::sort(want.begin() + i * cols, want.begin() + (i + 1) * cols);
  EXPECT_EQ(cOrder<double>(Mod.kernel("sort_rows")(stn::ArrayView::of(a.data(), {rows, cols})),
                           {rows, cols}),
            want);
  std::vector<double> big(100000);
  for (double &x : big)
    x = u(rng);
  std::vector<double> sortedBig = big;
  std::sort(sortedBig.begin(), sortedBig.end());
  EXPECT_EQ(cOrder<double>(Mod.kernel("sort_flat")(stn::ArrayView::of(big.data(), {100000})),
                           {100000}),
            sortedBig);
}

} // namespace
