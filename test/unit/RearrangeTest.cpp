//===- RearrangeTest.cpp - np.repeat, tile, cross, convolve, ... ----------===//
//
// The NumPy functions that make new arrays from the elements of others,
// each against plain C++ loops written from NumPy's definitions: np.repeat
// (flattened and along each axis, one count or one per element), np.tile,
// np.cross (3-vectors along the last axis, the other axes broadcasting),
// np.append, np.convolve (every mode and length pair), np.digitize
// (increasing and decreasing bins, right either way), np.isin, np.triu and
// np.tril, np.delete (positions, masks, each axis), np.insert (one
// position or several, repeated and negative, flattened and along each
// axis, values broadcast), and the parts of
// complex arrays (np.real, np.imag, np.conj, a.real, a.imag), for several
// dtypes, with the errors NumPy raises.
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

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def repeat_flat(a, n):
    return np.repeat(a, n)

@njit
def repeat_axis0(a, counts):
    return np.repeat(a, counts, axis=0)

@njit
def repeat_axis1(a, counts):
    return a.repeat(counts, axis=1)

@njit
def repeat_number(x, n):
    return np.repeat(x, n)

@njit
def tile1(a, n):
    return np.tile(a, n)

@njit
def tile2(a, r0, r1):
    return np.tile(a, (r0, r1))

@njit
def tile3(a, r0):
    return np.tile(a, (r0, 1, 2))

@njit
def cross(a, b):
    return np.cross(a, b)

@njit
def append_flat(a, b):
    return np.append(a, b)

@njit
def append_number(a, x):
    return np.append(a, x)

@njit
def append_axis(a, b, ax):
    if ax == 0:
        return np.append(a, b, axis=0)
    return np.append(a, b, axis=1)

@njit
def convolve_full(a, v):
    return np.convolve(a, v)

@njit
def convolve_same(a, v):
    return np.convolve(a, v, "same")

@njit
def convolve_valid(a, v):
    return np.convolve(a, v, mode="valid")

@njit
def digitize(x, bins, right):
    return np.digitize(x, bins, right)

@njit
def digitize_one(x, bins):
    return np.digitize(x, bins, right=True)

@njit
def isin(e, t, invert):
    return np.isin(e, t, invert=invert)

@njit
def isin_one(x, t):
    return np.isin(x, t)

@njit
def triu(m, k):
    return np.triu(m, k)

@njit
def tril(m, k):
    return np.tril(m, k=k)

@njit
def parts(z):
    return z.real, z.imag, np.real(z), np.imag(z), np.conj(z), z.conj()

@njit
def norm2(z):
    return (z * z.conj()).real + np.abs(z.imag)

@njit
def scalar_parts(x):
    return np.real(x), np.imag(x), np.conj(x)

@njit
def delete_flat(a, obj):
    return np.delete(a, obj)

@njit
def delete_rows(a, obj):
    return np.delete(a, obj, axis=0)

@njit
def delete_columns(a, obj):
    return np.delete(a, obj, 1)

@njit
def insert_flat(a, obj, values):
    return np.insert(a, obj, values)

@njit
def insert_rows(a, obj, values):
    return np.insert(a, obj, values, axis=0)

@njit
def insert_columns(a, obj, values):
    return np.insert(a, obj, values, axis=1)
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "rearrange.stn");
  return m;
}

template <class T> std::vector<T> iota(size_t n, T start, T step) {
  std::vector<T> v;
  for (size_t i = 0; i < n; ++i)
    v.push_back(static_cast<T>(start + static_cast<T>(i) * step));
  return v;
}

TEST(Repeat, FlattenedAndAlongEachAxis) {
  const int64_t rows = 2, cols = 3;
  std::vector<int32_t> a = iota<int32_t>(6, 1, 2);
  auto A = stn::ArrayView::of(a.data(), {rows, cols});
  for (int64_t n : {0, 1, 3}) {
    SCOPED_TRACE(n);
    std::vector<int32_t> want;
    for (int32_t x : a)
      for (int64_t t = 0; t < n; ++t)
        want.push_back(x);
    EXPECT_EQ(valuesOf<int32_t>(module().kernel("repeat_flat")(A, n), {rows * cols * n}), want);
  }
  // One count per row / column; a length-1 array counts for all.
  std::vector<int64_t> rc = {2, 0}, cc = {1, 3, 0}, one = {2};
  std::vector<int32_t> r0, c1, o0;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t t = 0; t < rc[static_cast<size_t>(i)]; ++t)
      for (int64_t j = 0; j < cols; ++j)
        r0.push_back(a[static_cast<size_t>(i * cols + j)]);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t t = 0; t < 2; ++t)
      for (int64_t j = 0; j < cols; ++j)
        o0.push_back(a[static_cast<size_t>(i * cols + j)]);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      for (int64_t t = 0; t < cc[static_cast<size_t>(j)]; ++t)
        c1.push_back(a[static_cast<size_t>(i * cols + j)]);
  auto view = [](std::vector<int64_t> &v) {
    return stn::ArrayView::of(v.data(), {static_cast<int64_t>(v.size())});
  };
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("repeat_axis0")(A, view(rc)), {2, cols}), r0);
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("repeat_axis0")(A, view(one)), {4, cols}), o0);
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("repeat_axis1")(A, view(cc)), {rows, 4}), c1);
  // A number, float64 and bool arrays.
  EXPECT_EQ(valuesOf<double>(module().kernel("repeat_number")(2.5, int64_t{3}), {3}),
            (std::vector<double>{2.5, 2.5, 2.5}));
  std::vector<uint8_t> flags = {1, 0};
  stn::ArrayView F(flags.data(), stn::DType::Bool, {2}, {1});
  EXPECT_EQ(valuesOf<uint8_t>(module().kernel("repeat_flat")(F, int64_t{2}), {4}),
            (std::vector<uint8_t>{1, 1, 0, 0}));
}

TEST(Repeat, Errors) {
  std::vector<double> a = {1, 2, 3};
  auto A = stn::ArrayView::of(a.data(), {3});
  EXPECT_NE(errorOf([&] { module().kernel("repeat_flat")(A, int64_t{-1}); })
                .find("ValueError: repeats may not contain negative values."),
            std::string::npos);
  std::vector<int64_t> neg = {1, -2, 1}, two = {1, 2};
  EXPECT_NE(errorOf([&] {
              module().kernel("repeat_axis0")(A, stn::ArrayView::of(neg.data(), {3}));
            }).find("repeats may not contain negative values."),
            std::string::npos);
  EXPECT_NE(errorOf([&] {
              module().kernel("repeat_axis0")(A, stn::ArrayView::of(two.data(), {2}));
            }).find("operands could not be broadcast together with shape (3,) (2,)"),
            std::string::npos);
}

TEST(Tile, PadsShapeAndReps) {
  std::vector<int16_t> a = iota<int16_t>(6, -3, 1);
  const int64_t rows = 2, cols = 3;
  auto A = stn::ArrayView::of(a.data(), {rows, cols});
  auto at = [&](int64_t i, int64_t j) { return a[static_cast<size_t>(i * cols + j)]; };
  for (int64_t k : {0, 1, 3}) {
    SCOPED_TRACE(k);
    // reps k: (rows, cols * k); (2, k): (2 rows, cols * k).
    std::vector<int16_t> t1, t2;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols * k; ++j)
        t1.push_back(at(i, j % cols));
    for (int64_t i = 0; i < 2 * rows; ++i)
      for (int64_t j = 0; j < cols * k; ++j)
        t2.push_back(at(i % rows, j % cols));
    EXPECT_EQ(valuesOf<int16_t>(module().kernel("tile1")(A, k), {rows, cols * k}), t1);
    EXPECT_EQ(valuesOf<int16_t>(module().kernel("tile2")(A, int64_t{2}, k),
                                {2 * rows, cols * k}),
              t2);
    // (k, 1, 2) on a 2-d array: a new leading axis.
    std::vector<int16_t> t3;
    for (int64_t p = 0; p < k; ++p)
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < 2 * cols; ++j)
          t3.push_back(at(i, j % cols));
    EXPECT_EQ(valuesOf<int16_t>(module().kernel("tile3")(A, k), {k, rows, 2 * cols}), t3);
  }
  // A 1-d complex array tiled into 2-d.
  std::vector<std::complex<double>> z = {{1, 2}, {3, -4}};
  auto Z = stn::ArrayView::of(z.data(), {2});
  std::vector<std::complex<double>> want;
  for (int r = 0; r < 2; ++r)
    for (int j = 0; j < 6; ++j)
      want.push_back(z[static_cast<size_t>(j % 2)]);
  EXPECT_EQ(valuesOf<std::complex<double>>(module().kernel("tile2")(Z, int64_t{2}, int64_t{3}),
                                           {2, 6}),
            want);
  EXPECT_NE(errorOf([&] { module().kernel("tile1")(A, int64_t{-2}); })
                .find("repeats may not contain negative values."),
            std::string::npos);
}

TEST(Cross, VectorsAlongTheLastAxisBroadcast) {
  // (4, 3) points against one (3,) vector, and against (4, 3) others.
  std::vector<double> p = {1, 2, 3, -1, 0.5, 4, 0, 0, 1, 2.5, -3, 7};
  std::vector<double> q = {0.5, -1, 2};
  std::vector<double> r = iota<double>(12, -2.0, 0.75);
  auto crossOf = [](const double *x, const double *y, double *out) {
    out[0] = x[1] * y[2] - x[2] * y[1];
    out[1] = x[2] * y[0] - x[0] * y[2];
    out[2] = x[0] * y[1] - x[1] * y[0];
  };
  std::vector<double> want1(12), want2(12);
  for (size_t i = 0; i < 4; ++i) {
    crossOf(&p[3 * i], q.data(), &want1[3 * i]);
    crossOf(&p[3 * i], &r[3 * i], &want2[3 * i]);
  }
  auto P = stn::ArrayView::of(p.data(), {4, 3});
  EXPECT_EQ(valuesOf<double>(
                module().kernel("cross")(P, stn::ArrayView::of(q.data(), {3})), {4, 3}),
            want1);
  EXPECT_EQ(valuesOf<double>(
                module().kernel("cross")(P, stn::ArrayView::of(r.data(), {4, 3})), {4, 3}),
            want2);
  // int32 stays int32 (NumPy's dtype).
  std::vector<int32_t> a = {1, 2, 3}, b = {4, 5, 6};
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("cross")(stn::ArrayView::of(a.data(), {3}),
                                                       stn::ArrayView::of(b.data(), {3})),
                              {3}),
            (std::vector<int32_t>{-3, 6, -3}));
  std::vector<double> two = {1, 2};
  EXPECT_NE(errorOf([&] {
              module().kernel("cross")(stn::ArrayView::of(two.data(), {2}),
                                       stn::ArrayView::of(q.data(), {3}));
            }).find("ValueError: incompatible dimensions for cross product"),
            std::string::npos);
  EXPECT_NE(errorOf([&] {
              module().kernel("cross")(P, stn::ArrayView::of(r.data(), {2, 2, 3}));
            }).find("could not be broadcast"),
            std::string::npos);
}

TEST(Append, FlattenedOrAlongAnAxis) {
  std::vector<float> a = {1.5f, 2.5f, 3.5f, 4.5f};
  std::vector<double> b = {-1, -2};
  auto A = stn::ArrayView::of(a.data(), {2, 2});
  EXPECT_EQ(valuesOf<double>(
                module().kernel("append_flat")(A, stn::ArrayView::of(b.data(), {2})), {6}),
            (std::vector<double>{1.5, 2.5, 3.5, 4.5, -1, -2}));
  EXPECT_EQ(valuesOf<float>(module().kernel("append_number")(A, 9.0f), {5}),
            (std::vector<float>{1.5f, 2.5f, 3.5f, 4.5f, 9.0f}));
  std::vector<int64_t> m = {1, 2, 3, 4}, n = {5, 6};
  auto M = stn::ArrayView::of(m.data(), {2, 2});
  EXPECT_EQ(valuesOf<int64_t>(module().kernel("append_axis")(
                                  M, stn::ArrayView::of(n.data(), {1, 2}), int64_t{0}),
                              {3, 2}),
            (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(valuesOf<int64_t>(module().kernel("append_axis")(
                                  M, stn::ArrayView::of(n.data(), {2, 1}), int64_t{1}),
                              {2, 3}),
            (std::vector<int64_t>{1, 2, 5, 3, 4, 6}));
  EXPECT_NE(errorOf([&] {
              module().kernel("append_axis")(M, stn::ArrayView::of(n.data(), {1, 2}),
                                             int64_t{1});
            }).find("ValueError: all the input array dimensions except for the concatenation "
                    "axis must match exactly"),
            std::string::npos);
}

/// np.delete by its definition: the elements whose position along the
/// axis (of a C-ordered rows x cols matrix; axis -1: flattened) is not in
/// `gone` (negative positions counted from the end).
template <class T>
std::vector<T> deleteRef(const std::vector<T> &a, int64_t rows, int64_t cols, int axis,
                         std::vector<int64_t> gone) {
  int64_t n = axis < 0 ? rows * cols : axis == 0 ? rows : cols;
  for (int64_t &g : gone)
    g = g < 0 ? g + n : g;
  auto kept = [&](int64_t p) { return std::find(gone.begin(), gone.end(), p) == gone.end(); };
  std::vector<T> out;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      if (kept(axis < 0 ? i * cols + j : axis == 0 ? i : j))
        out.push_back(a[static_cast<size_t>(i * cols + j)]);
  return out;
}

/// np.insert of the flattened `a` by NumPy's definition: the values, one
/// per position (stably ordered by position), each before the element at
/// its position (negative positions count from the end).
template <class T>
std::vector<T> insertRef(const std::vector<T> &a, std::vector<int64_t> pos,
                         const std::vector<T> &values) {
  const int64_t n = static_cast<int64_t>(a.size());
  std::vector<T> out;
  for (int64_t i = 0; i <= n; ++i) {
    for (size_t j = 0; j < pos.size(); ++j)
      if ((pos[j] < 0 ? pos[j] + n : pos[j]) == i)
        out.push_back(values[j]);
    if (i < n)
      out.push_back(a[size_t(i)]);
  }
  return out;
}

TEST(Insert, PositionsValuesAndAxes) {
  const int64_t r = 4, c = 5;
  std::vector<int32_t> a = iota<int32_t>(static_cast<size_t>(r * c), 3, 2);
  auto A = stn::ArrayView::of(a.data(), {r, c});
  auto kernel = [](const char *name) { return module().kernel(name); };
  // One position: a number, or all of an array of values there, in order.
  EXPECT_EQ(valuesOf<int32_t>(kernel("insert_flat")(A, int64_t{7}, int64_t{100}), {21}),
            insertRef<int32_t>(a, {7}, {100}));
  std::vector<int64_t> three = {100, 101, 102};
  auto Three = stn::ArrayView::of(three.data(), {3});
  EXPECT_EQ(valuesOf<int32_t>(kernel("insert_flat")(A, int64_t{-3}, Three), {23}),
            insertRef<int32_t>(a, {-3, -3, -3}, {100, 101, 102}));
  // Several positions, repeated, negative, at the end, out of order: one
  // value each (a number for all of them, or one per position).
  std::vector<int64_t> pos = {5, -1, 0, 20, 5};
  std::vector<double> vals = {1.5, 2.5, 3.5, 4.5, 5.5};
  EXPECT_EQ(valuesOf<int32_t>(kernel("insert_flat")(A, stn::ArrayView::of(pos.data(), {5}),
                                                    stn::ArrayView::of(vals.data(), {5})),
                              {25}),
            insertRef<int32_t>(a, pos, {1, 2, 3, 4, 5})); // (converted to int32)
  EXPECT_EQ(valuesOf<int32_t>(kernel("insert_flat")(A, stn::ArrayView::of(pos.data(), {5}),
                                                    int64_t{-9}),
                              {25}),
            insertRef<int32_t>(a, pos, std::vector<int32_t>(5, -9)));
  // One position in an array takes all of the values, as one number does.
  std::vector<int64_t> at3 = {3};
  EXPECT_EQ(valuesOf<int32_t>(kernel("insert_flat")(A, stn::ArrayView::of(at3.data(), {1}), Three),
                              {23}),
            insertRef<int32_t>(a, {3, 3, 3}, {100, 101, 102}));
  // A row before row 2 (values broadcast along it), rows of 7 at 0 and 4.
  std::vector<int32_t> rows = a;
  std::vector<int64_t> row = {1, 2, 3, 4, 5};
  rows.insert(rows.begin() + 2 * c, {1, 2, 3, 4, 5});
  auto Row = stn::ArrayView::of(row.data(), {5});
  EXPECT_EQ(valuesOf<int32_t>(kernel("insert_rows")(A, int64_t{2}, Row), {r + 1, c}), rows);
  std::vector<int32_t> sevens(static_cast<size_t>(c), 7), framed = sevens;
  framed.insert(framed.end(), a.begin(), a.end());
  framed.insert(framed.end(), sevens.begin(), sevens.end());
  std::vector<int64_t> ends = {0, 4};
  EXPECT_EQ(valuesOf<int32_t>(kernel("insert_rows")(A, stn::ArrayView::of(ends.data(), {2}),
                                                    int64_t{7}),
                              {r + 2, c}),
            framed);
  // A column before the last one: one value per row (NumPy moves the
  // values' first axis to the insertion axis).
  std::vector<int64_t> col = {-1, -2, -3, -4};
  std::vector<int32_t> cols;
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) {
      if (j == c - 1)
        cols.push_back(static_cast<int32_t>(col[size_t(i)]));
      cols.push_back(a[size_t(i * c + j)]);
    }
  EXPECT_EQ(valuesOf<int32_t>(kernel("insert_columns")(A, int64_t{-1},
                                                       stn::ArrayView::of(col.data(), {4})),
                              {r, c + 1}),
            cols);
  // NumPy's errors.
  std::string e = errorOf([&] { kernel("insert_rows")(A, int64_t{5}, int64_t{0}); });
  EXPECT_NE(e.find("IndexError: index 5 is out of bounds for axis 0 with size 4"),
            std::string::npos)
      << e;
  e = errorOf([&] { kernel("insert_rows")(A, int64_t{1}, Three); });
  EXPECT_NE(e.find("ValueError: could not broadcast the values of insert(): extent 3 along "
                   "axis 1 into 5"),
            std::string::npos)
      << e;
}

TEST(Delete, PositionsMasksAndAxes) {
  const int64_t r = 4, c = 5;
  std::vector<int32_t> a = iota<int32_t>(static_cast<size_t>(r * c), 3, 2);
  auto A = stn::ArrayView::of(a.data(), {r, c});
  // One position, negative ones, repeats and none, flattened.
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("delete_flat")(A, int64_t{7}), {19}),
            deleteRef(a, r, c, -1, {7}));
  std::vector<int64_t> some = {0, -1, 4, 4, 12};
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("delete_flat")(
                                  A, stn::ArrayView::of(some.data(), {5})),
                              {16}),
            deleteRef(a, r, c, -1, some));
  std::vector<int64_t> none;
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("delete_flat")(
                                  A, stn::ArrayView::of(none.data(), {0})),
                              {20}),
            a);
  // Along each axis.
  std::vector<int64_t> rows = {-4, 2};
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("delete_rows")(
                                  A, stn::ArrayView::of(rows.data(), {2})),
                              {2, c}),
            deleteRef(a, r, c, 0, rows));
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("delete_columns")(A, int64_t{-2}), {r, 4}),
            deleteRef(a, r, c, 1, {-2}));
  // A boolean mask of the axis's length: its true positions go.
  std::vector<uint8_t> mask = {1, 0, 0, 1, 0};
  std::vector<double> d = iota<double>(static_cast<size_t>(r * c), 0.5, 1);
  EXPECT_EQ(valuesOf<double>(module().kernel("delete_columns")(
                                 stn::ArrayView::of(d.data(), {r, c}),
                                 stn::ArrayView::of(reinterpret_cast<bool *>(mask.data()), {c})),
                             {r, 3}),
            deleteRef(d, r, c, 1, {0, 3}));
  // NumPy's errors.
  EXPECT_NE(errorOf([&] { module().kernel("delete_rows")(A, int64_t{4}); })
                .find("IndexError: index 4 is out of bounds for axis 0 with size 4"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { module().kernel("delete_flat")(A, int64_t{-21}); })
                .find("IndexError: index -21 is out of bounds for axis 0 with size 20"),
            std::string::npos);
  EXPECT_NE(errorOf([&] {
              module().kernel("delete_rows")(
                  A, stn::ArrayView::of(reinterpret_cast<bool *>(mask.data()), {5}));
            }).find("ValueError: boolean array argument obj to delete must be one dimensional "
                    "and match the axis length of 4"),
            std::string::npos);
}

/// NumPy's convolution: the full sums, then the middle max(n, m) ("same",
/// starting at (min - 1) / 2) or the max - min + 1 where both overlap.
template <class T>
std::vector<T> convolveRef(const std::vector<T> &a, const std::vector<T> &v, int mode) {
  size_t n = a.size(), m = v.size();
  std::vector<T> full(n + m - 1, T(0));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < m; ++j)
      full[i + j] = static_cast<T>(full[i + j] + a[i] * v[j]);
  size_t lo = std::min(n, m), hi = std::max(n, m);
  if (mode == 0)
    return full;
  size_t start = mode == 1 ? (lo - 1) / 2 : lo - 1;
  size_t len = mode == 1 ? hi : hi - lo + 1;
  return std::vector<T>(full.begin() + static_cast<std::ptrdiff_t>(start),
                        full.begin() + static_cast<std::ptrdiff_t>(start + len));
}

TEST(Convolve, EveryModeAndLengthPair) {
  const char *names[] = {"convolve_full", "convolve_same", "convolve_valid"};
  for (size_t n = 1; n <= 6; ++n)
    for (size_t m = 1; m <= 6; ++m) {
      SCOPED_TRACE(testing::Message() << n << " x " << m);
      std::vector<double> a = iota<double>(n, 0.5, 1.25), v = iota<double>(m, -1.0, 0.5);
      std::vector<int8_t> ai = iota<int8_t>(n, 90, 7), vi = iota<int8_t>(m, 3, 5);
      for (int mode = 0; mode < 3; ++mode) {
        auto want = convolveRef(a, v, mode);
        auto got = valuesOf<double>(
            module().kernel(names[mode])(stn::ArrayView::of(a.data(), {int64_t(n)}),
                                         stn::ArrayView::of(v.data(), {int64_t(m)})),
            {int64_t(want.size())});
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i)
          EXPECT_NEAR(got[i], want[i], 1e-12) << names[mode] << " at " << i;
        // int8 wraps, as NumPy's int8 convolution does.
        auto wantI = convolveRef(ai, vi, mode);
        EXPECT_EQ(valuesOf<int8_t>(
                      module().kernel(names[mode])(stn::ArrayView::of(ai.data(), {int64_t(n)}),
                                                   stn::ArrayView::of(vi.data(), {int64_t(m)})),
                      {int64_t(wantI.size())}),
                  wantI);
      }
    }
  std::vector<std::complex<double>> z = {{1, 2}, {0, 3}};
  auto Z = stn::ArrayView::of(z.data(), {2});
  EXPECT_EQ(valuesOf<std::complex<double>>(module().kernel("convolve_full")(Z, Z), {3}),
            (std::vector<std::complex<double>>{{-3, 4}, {-12, 6}, {-9, 0}}));
  std::vector<double> none;
  std::vector<double> three = {1, 2, 3};
  EXPECT_NE(errorOf([&] {
              module().kernel("convolve_full")(stn::ArrayView::of(none.data(), {0}),
                                               stn::ArrayView::of(three.data(), {3}));
            }).find("ValueError: v cannot be empty"),
            std::string::npos);
  EXPECT_NE(errorOf([&] {
              module().kernel("convolve_same")(stn::ArrayView::of(none.data(), {0}),
                                               stn::ArrayView::of(none.data(), {0}));
            }).find("ValueError: a cannot be empty"),
            std::string::npos);
}

TEST(Digitize, IncreasingAndDecreasingBins) {
  std::vector<double> up = {-1.0, 0.0, 0.0, 2.5, 4.0};
  std::vector<double> down(up.rbegin(), up.rend());
  std::vector<double> x = {-3, -1, -0.5, 0, 1, 2.5, 3, 4, 9, std::nan("")};
  auto X = stn::ArrayView::of(x.data(), {2, 5});
  for (bool right : {false, true})
    for (const auto *bins : {&up, &down}) {
      SCOPED_TRACE(testing::Message() << "right " << right << (bins == &up ? " up" : " down"));
      // Increasing: right=False counts bins <= x, right=True bins < x;
      // decreasing: bins > x, or bins >= x. NaN is past every bin.
      std::vector<int64_t> want;
      for (double v : x) {
        int64_t c = 0;
        for (double e : *bins) {
          bool in = bins == &up ? (right ? e < v : e <= v) : (right ? e >= v : e > v);
          c += in || (std::isnan(v) && bins == &up) ? 1 : 0;
        }
        want.push_back(c);
      }
      auto B = stn::ArrayView::of(bins->data(), {5});
      EXPECT_EQ(valuesOf<int64_t>(module().kernel("digitize")(X, B, right), {2, 5}), want);
    }
  // int32 x and bins, one number.
  std::vector<int32_t> xi = {1, 2, 3}, bi = {1, 2, 3};
  EXPECT_EQ(valuesOf<int64_t>(module().kernel("digitize")(stn::ArrayView::of(xi.data(), {3}),
                                                          stn::ArrayView::of(bi.data(), {3}),
                                                          true),
                              {3}),
            (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(module()
                .kernel("digitize_one")(4.0, stn::ArrayView::of(up.data(), {5}))
                .asInt(),
            4);
  std::vector<double> zigzag = {1, 3, 2};
  EXPECT_NE(errorOf([&] {
              module().kernel("digitize_one")(1.0, stn::ArrayView::of(zigzag.data(), {3}));
            }).find("ValueError: bins must be monotonically increasing or decreasing"),
            std::string::npos);
}

TEST(Isin, MembershipAgainstAScan) {
  std::vector<int32_t> e = iota<int32_t>(12, -4, 1);
  std::vector<int64_t> t = {7, -4, 3, 3, 100, 0};
  auto E = stn::ArrayView::of(e.data(), {3, 4});
  auto T = stn::ArrayView::of(t.data(), {2, 3});
  for (bool invert : {false, true}) {
    std::vector<uint8_t> want;
    for (int32_t v : e) {
      bool found = false;
      for (int64_t u : t)
        found = found || u == v;
      want.push_back(found != invert ? 1 : 0);
    }
    EXPECT_EQ(valuesOf<uint8_t>(module().kernel("isin")(E, T, invert), {3, 4}), want);
  }
  // Floats: NaN is never found; -0.0 equals 0.0.
  std::vector<double> f = {1.5, std::nan(""), -0.0, 2.0}, ft = {std::nan(""), 0.0, 1.5};
  EXPECT_EQ(valuesOf<uint8_t>(module().kernel("isin")(stn::ArrayView::of(f.data(), {4}),
                                                      stn::ArrayView::of(ft.data(), {3}), false),
                              {4}),
            (std::vector<uint8_t>{1, 0, 1, 0}));
  EXPECT_TRUE(module().kernel("isin_one")(int64_t{3}, T).asBool());
  EXPECT_FALSE(module().kernel("isin_one")(int64_t{4}, T).asBool());
}

TEST(Triangles, TriuAndTrilOfTheLastTwoAxes) {
  const int64_t p = 2, rows = 3, cols = 4;
  std::vector<float> m = iota<float>(24, 1.0f, 1.0f);
  auto M = stn::ArrayView::of(m.data(), {p, rows, cols});
  for (int64_t k = -3; k <= 4; ++k) {
    SCOPED_TRACE(k);
    std::vector<float> up(m.size()), lo(m.size());
    for (int64_t s = 0; s < p; ++s)
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          size_t at = static_cast<size_t>((s * rows + i) * cols + j);
          up[at] = j - i >= k ? m[at] : 0.0f;
          lo[at] = j - i <= k ? m[at] : 0.0f;
        }
    EXPECT_EQ(valuesOf<float>(module().kernel("triu")(M, k), {p, rows, cols}), up);
    EXPECT_EQ(valuesOf<float>(module().kernel("tril")(M, k), {p, rows, cols}), lo);
  }
}

TEST(ComplexParts, ArraysAndNumbers) {
  std::vector<std::complex<float>> z = {{1, 2}, {3, -4}, {-0.5f, 0}};
  auto Z = stn::ArrayView::of(z.data(), {3});
  stn::Value r = module().kernel("parts")(Z);
  std::vector<float> re, im;
  std::vector<std::complex<float>> cj;
  for (auto c : z) {
    re.push_back(c.real());
    im.push_back(c.imag());
    cj.push_back(std::conj(c));
  }
  const auto &items = r.elements();
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(valuesOf<float>(items[0], {3}), re);
  EXPECT_EQ(valuesOf<float>(items[1], {3}), im);
  EXPECT_EQ(valuesOf<float>(items[2], {3}), re);
  EXPECT_EQ(valuesOf<float>(items[3], {3}), im);
  EXPECT_EQ(valuesOf<std::complex<float>>(items[4], {3}), cj);
  EXPECT_EQ(valuesOf<std::complex<float>>(items[5], {3}), cj);
  std::vector<float> n2;
  for (auto c : z)
    n2.push_back(c.real() * c.real() + c.imag() * c.imag() + std::abs(c.imag()));
  EXPECT_EQ(valuesOf<float>(module().kernel("norm2")(Z), {3}), n2);
  // Real arrays: themselves, zeros, themselves.
  std::vector<double> a = {1.5, -2};
  stn::Value ra = module().kernel("parts")(stn::ArrayView::of(a.data(), {2}));
  EXPECT_EQ(valuesOf<double>(ra.elements()[0], {2}), a);
  EXPECT_EQ(valuesOf<double>(ra.elements()[1], {2}), (std::vector<double>{0, 0}));
  EXPECT_EQ(valuesOf<double>(ra.elements()[4], {2}), a);
  stn::Value s = module().kernel("scalar_parts")(std::complex<double>(2, -3));
  EXPECT_EQ(s.elements()[0].asDouble(), 2.0);
  EXPECT_EQ(s.elements()[1].asDouble(), -3.0);
  EXPECT_EQ(s.elements()[2].asComplex(), std::complex<double>(2, 3));
}

} // namespace
