//===- ShapeViewTest.cpp - reshape, ravel, flatten, transpose and .T -------===//
//
// NumPy's shape functions in kernels, each result against a C++ loop:
//   - reshape with extents, a tuple and -1, ravel and transposes (.T,
//     np.transpose with axes, a.transpose(...)) for every dtype;
//   - views are views: writes through a.T, a.reshape(...) and a.ravel()
//     reach the array, flatten() copies;
//   - arrays whose elements are not evenly spaced (a[:, ::2], a[::-1]) are
//     copied first, as NumPy does, and give the same values;
//   - a transposed operand in a loop nest and a reshape in a parallel loop;
//   - the errors of extents that do not fit the size;
//   - concatenate (along each axis and flattened), stack (at each axis),
//     vstack and hstack, with NumPy's promotion of mixed dtypes, and the
//     errors of shapes that do not fit together;
//   - itemsize, nbytes and strides (in bytes) of arrays and of views of
//     them for each dtype, a.dtype.itemsize, a.dtype == np.float64;
//   - flip (all axes, one axis), fliplr and flipud as views (writes reach
//     the array), eye/identity with offsets and dtypes, trace with offsets.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace {

const char *Kernels = R"STN(
import numpy as np
from numba import njit, jit, prange

@njit
def reshaped(a, n, m):
    return a.reshape(n, m)

@njit
def reshaped_tuple(a, n):
    return np.reshape(a, (n, -1))

@njit
def transposed(a):
    return a.T

@njit
def transposed_axes(a):
    return np.transpose(a, (1, 2, 0))

@njit
def transposed_method(a):
    return a.transpose(2, 0, 1)

@njit
def transposed_default(a):
    return np.transpose(a)

@njit
def ravel_of_columns(a):
    return a[:, ::2].ravel()

@njit
def ravel_reversed(a):
    return np.ravel(a[::-1])

@njit
def flattened_views(a):
    v = a[::-1, ::2]
    return np.cumsum(v), np.sort(v, axis=None), np.outer(v, a[0, ::3]), v.flatten()

@njit
def flat_copy(a):
    f = a.flatten()
    f[0] = 99.0
    return f

@njit
def write_through(a):
    a.T[0, 1] = 7.0
    a.reshape(-1)[0] = 5.0
    r = a.ravel()
    r[r.shape[0] - 1] = 9.0

@njit
def times_transpose(a, b):
    bt = b.T
    out = np.zeros((a.shape[0], bt.shape[1]))
    for i in range(a.shape[0]):
        for j in range(bt.shape[1]):
            for k in range(a.shape[1]):
                out[i, j] += a[i, k] * bt[k, j]
    return out

@njit
def joined(a, b, ax):
    if ax == 0:
        return np.concatenate((a, b))
    return np.concatenate((a, b), axis=1)

@njit
def joined_flat(a, b):
    return np.concatenate((a, b), axis=None)

@njit
def stacked(a, b, ax):
    if ax == 0:
        return np.stack((a, b))
    if ax == 1:
        return np.stack((a, b), axis=1)
    return np.stack((a, b), -1)

@njit
def joined_lists(a, b):
    # Lists of arrays written where NumPy takes a sequence of them.
    return (np.concatenate([a, b]), np.stack([a, b], axis=1), np.array([a, b]),
            np.array((a, b), dtype=np.float32), np.asarray([b, a]))

@njit
def rows_and_columns_of_lists(x, y):
    return np.vstack([x, y]), np.hstack([x, y])

@njit
def rows_and_columns(x, y):
    return np.vstack((x, y)), np.hstack((x, y))

@njit
def flips(a):
    return np.flip(a), np.flip(a, axis=1), np.flip(a, 0), np.flipud(a)

@njit
def write_fliplr(a):
    np.fliplr(a)[0, 0] = -1.0

@njit
def eyes(n, m, k):
    return np.eye(n), np.eye(n, m, k, dtype=np.int16), np.identity(n, dtype=np.bool_)

@njit
def traces(a, k):
    return np.trace(a), np.trace(a, k), a.trace()

@jit(parallel=True)
def row_sums(a, n):
    m = a.reshape(n, -1)
    out = np.empty(n)
    for i in prange(n):
        out[i] = m[i].sum()
    return out

@njit
def layout(a):
    b = a[::2, 1:]
    return (a.itemsize, a.nbytes, a.strides, b.strides, b.T.strides, b.nbytes,
            a.dtype.itemsize, a.dtype == np.float64, a.dtype != np.float32, np.int8 == a.dtype)
)STN";

class ShapeView : public ::testing::Test {
protected:
  ShapeView() : Mod(Engine.loadString(Kernels, "shapes.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

/// The elements of an array result in C order (any strides), checking its shape.
template <class T> std::vector<T> cOrder(const stn::Value &v, std::vector<int64_t> shape) {
  stn::Array c = stn::Array::copyOf(v.array().view());
  EXPECT_EQ(c.shape(), shape);
  return std::vector<T>(c.data<T>(), c.data<T>() + c.size());
}

template <class T> T valueAt(int64_t i) {
  if constexpr (std::is_same_v<T, bool>)
    return i % 3 == 0;
  else if constexpr (std::is_same_v<T, std::complex<double>>)
    return {double(i), -double(i)};
  else
    return static_cast<T>(i % 100);
}

template <class T> void checkDtype(stn::Module &mod) {
  SCOPED_TRACE(stn::dtypeName(stn::DTypeOf<T>::value));
  // A 2x3x4 array a[i, j, k] = value(12 i + 4 j + k).
  // (The buffer is no std::vector: vector<bool> has no data().)
  std::unique_ptr<T[]> buffer(new T[24]);
  std::vector<T> a;
  for (int64_t i = 0; i < 24; ++i) {
    buffer[size_t(i)] = valueAt<T>(i);
    a.push_back(buffer[size_t(i)]);
  }
  auto av = stn::ArrayView::of(buffer.get(), {2, 3, 4});
  auto flat = stn::ArrayView::of(buffer.get(), {24});
  // reshape keeps the C order of the elements.
  EXPECT_EQ(cOrder<T>(mod.kernel("reshaped")(flat, int64_t{4}, int64_t{6}), {4, 6}), a);
  EXPECT_EQ(cOrder<T>(mod.kernel("reshaped")(flat, int64_t{-1}, int64_t{8}), {3, 8}), a);
  EXPECT_EQ(cOrder<T>(mod.kernel("reshaped_tuple")(av, int64_t{6}), {6, 4}), a);
  // Transposes: result[p, q, r] = a at the permuted index.
  std::vector<T> axes, method, reversed;
  for (int64_t j = 0; j < 3; ++j) // (1, 2, 0): shape (3, 4, 2)
    for (int64_t k = 0; k < 4; ++k)
      for (int64_t i = 0; i < 2; ++i)
        axes.push_back(a[size_t(12 * i + 4 * j + k)]);
  for (int64_t k = 0; k < 4; ++k) // (2, 0, 1): shape (4, 2, 3)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 3; ++j)
        method.push_back(a[size_t(12 * i + 4 * j + k)]);
  for (int64_t k = 0; k < 4; ++k) // reversed: shape (4, 3, 2)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t i = 0; i < 2; ++i)
        reversed.push_back(a[size_t(12 * i + 4 * j + k)]);
  EXPECT_EQ(cOrder<T>(mod.kernel("transposed_axes")(av), {3, 4, 2}), axes);
  EXPECT_EQ(cOrder<T>(mod.kernel("transposed_method")(av), {4, 2, 3}), method);
  EXPECT_EQ(cOrder<T>(mod.kernel("transposed")(av), {4, 3, 2}), reversed);
  EXPECT_EQ(cOrder<T>(mod.kernel("transposed_default")(av), {4, 3, 2}), reversed);
  EXPECT_EQ(cOrder<T>(mod.kernel("transposed")(flat), {24}), a); // 1-d: itself
}

TEST_F(ShapeView, EveryDtype) {
  checkDtype<bool>(Mod);
  checkDtype<int8_t>(Mod);
  checkDtype<uint16_t>(Mod);
  checkDtype<int32_t>(Mod);
  checkDtype<int64_t>(Mod);
  checkDtype<float>(Mod);
  checkDtype<double>(Mod);
  checkDtype<std::complex<double>>(Mod);
}

template <class T> void checkLayout(stn::Module &mod, const char *name) {
  SCOPED_TRACE(name);
  std::unique_ptr<T[]> buffer(new T[20]());
  stn::Value r = mod.kernel("layout")(stn::ArrayView::of(buffer.get(), {4, 5}));
  int64_t s = sizeof(T);
  EXPECT_EQ(r[0].asInt(), s);
  EXPECT_EQ(r[1].asInt(), 20 * s);
  EXPECT_EQ(r[2][0].asInt(), 5 * s); // C order: a row, then an element
  EXPECT_EQ(r[2][1].asInt(), s);
  EXPECT_EQ(r[3][0].asInt(), 10 * s); // every other row
  EXPECT_EQ(r[3][1].asInt(), s);
  EXPECT_EQ(r[4][0].asInt(), s); // transposed
  EXPECT_EQ(r[4][1].asInt(), 10 * s);
  EXPECT_EQ(r[5].asInt(), 2 * 4 * s);
  EXPECT_EQ(r[6].asInt(), s);
  EXPECT_EQ(r[7].asBool(), (std::is_same_v<T, double>));
  EXPECT_EQ(r[8].asBool(), !(std::is_same_v<T, float>));
  EXPECT_EQ(r[9].asBool(), (std::is_same_v<T, int8_t>));
}

TEST_F(ShapeView, ItemsizeNbytesStridesAndDtypes) {
  checkLayout<double>(Mod, "float64");
  checkLayout<float>(Mod, "float32");
  checkLayout<int8_t>(Mod, "int8");
  checkLayout<int32_t>(Mod, "int32");
  checkLayout<std::complex<double>>(Mod, "complex128");
}

TEST_F(ShapeView, UnevenlySpacedArraysAreCopied) {
  std::vector<double> a = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; // 3x4
  auto av = stn::ArrayView::of(a.data(), {3, 4});
  EXPECT_EQ(cOrder<double>(Mod.kernel("ravel_of_columns")(av), {6}),
            (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(cOrder<double>(Mod.kernel("ravel_reversed")(av), {12}),
            (std::vector<double>{8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3}));
  // The builtins that work on flattened arrays, given a[::-1, ::2]
  // (elements 8 10 4 6 0 2 in C order) and a[0, ::3] (0 3).
  std::vector<double> v = {8, 10, 4, 6, 0, 2}, sum, outer;
  double total = 0;
  for (double x : v) {
    sum.push_back(total += x);
    outer.push_back(x * 0);
    outer.push_back(x * 3);
  }
  std::vector<double> sortedV = v;
  std::sort(sortedV.begin(), sortedV.end());
  stn::Value f = Mod.kernel("flattened_views")(av);
  EXPECT_EQ(cOrder<double>(f[0], {6}), sum);
  EXPECT_EQ(cOrder<double>(f[1], {6}), sortedV);
  EXPECT_EQ(cOrder<double>(f[2], {6, 2}), outer);
  EXPECT_EQ(cOrder<double>(f[3], {6}), v);
}

TEST_F(ShapeView, ViewsWriteThroughAndFlattenCopies) {
  std::vector<double> a = {0, 1, 2, 3, 4, 5}; // 2x3
  auto av = stn::ArrayView::of(a.data(), {2, 3});
  Mod.kernel("write_through")(av);
  // a.T[0, 1] is a[1, 0]; a.reshape(-1)[0] is a[0, 0]; the last of ravel() is a[1, 2].
  EXPECT_EQ(a, (std::vector<double>{5, 1, 2, 7, 4, 9}));
  std::vector<double> before = a;
  EXPECT_EQ(cOrder<double>(Mod.kernel("flat_copy")(av), {6}),
            (std::vector<double>{99, 1, 2, 7, 4, 9}));
  EXPECT_EQ(a, before);
}

TEST_F(ShapeView, TransposedOperandAndParallelReshape) {
  const int64_t n = 5, m = 7, p = 3;
  std::vector<double> a(n * p), b(m * p);
  for (int64_t i = 0; i < n * p; ++i)
    a[size_t(i)] = double(i % 11) - 4.0;
  for (int64_t i = 0; i < m * p; ++i)
    b[size_t(i)] = double(i % 5) * 0.5;
  std::vector<double> want(n * m, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t k = 0; k < p; ++k)
        want[size_t(i * m + j)] += a[size_t(i * p + k)] * b[size_t(j * p + k)];
  EXPECT_EQ(cOrder<double>(Mod.kernel("times_transpose")(stn::ArrayView::of(a.data(), {n, p}),
                                                         stn::ArrayView::of(b.data(), {m, p})),
                           {n, m}),
            want);
  // 4000 elements as 40 rows of 100.
  std::vector<double> x(4000);
  std::vector<double> sums(40, 0.0);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = double(i % 13);
    sums[i / 100] += x[i];
  }
  EXPECT_EQ(cOrder<double>(Mod.kernel("row_sums")(stn::ArrayView::of(x.data(), {4000}),
                                                  int64_t{40}),
                           {40}),
            sums);
}

TEST_F(ShapeView, ConcatenateAndStack) {
  // a: 2x3 float64, b: 2x3 int32 (the result is float64), c: 2x2 int32.
  std::vector<double> a = {0, 1, 2, 3, 4, 5};
  std::vector<int32_t> b = {10, 11, 12, 13, 14, 15}, c = {20, 21, 22, 23};
  auto av = stn::ArrayView::of(a.data(), {2, 3});
  auto bv = stn::ArrayView::of(b.data(), {2, 3});
  auto cv = stn::ArrayView::of(c.data(), {2, 2});
  auto at = [&](int64_t i, int64_t j) { return a[size_t(3 * i + j)]; };
  auto bt = [&](int64_t i, int64_t j) { return double(b[size_t(3 * i + j)]); };
  std::vector<double> rows, cols, flat, s0, s1, s2;
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 3; ++j)
      rows.push_back(i < 2 ? at(i, j) : bt(i - 2, j));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 5; ++j)
      cols.push_back(j < 3 ? at(i, j) : double(c[size_t(2 * i + j - 3)]));
  for (int64_t k = 0; k < 12; ++k)
    flat.push_back(k < 6 ? a[size_t(k)] : double(b[size_t(k - 6)]));
  for (int64_t s = 0; s < 2; ++s) // stack at 0: (2, 2, 3)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 3; ++j)
        s0.push_back(s == 0 ? at(i, j) : bt(i, j));
  for (int64_t i = 0; i < 2; ++i) // at 1: (2, 2, 3)
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t j = 0; j < 3; ++j)
        s1.push_back(s == 0 ? at(i, j) : bt(i, j));
  for (int64_t i = 0; i < 2; ++i) // at -1: (2, 3, 2)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t s = 0; s < 2; ++s)
        s2.push_back(s == 0 ? at(i, j) : bt(i, j));
  EXPECT_EQ(cOrder<double>(Mod.kernel("joined")(av, bv, int64_t{0}), {4, 3}), rows);
  EXPECT_EQ(cOrder<double>(Mod.kernel("joined")(av, cv, int64_t{1}), {2, 5}), cols);
  EXPECT_EQ(cOrder<double>(Mod.kernel("joined_flat")(av, bv), {12}), flat);
  EXPECT_EQ(cOrder<double>(Mod.kernel("stacked")(av, bv, int64_t{0}), {2, 2, 3}), s0);
  EXPECT_EQ(cOrder<double>(Mod.kernel("stacked")(av, bv, int64_t{1}), {2, 2, 3}), s1);
  EXPECT_EQ(cOrder<double>(Mod.kernel("stacked")(av, bv, int64_t{2}), {2, 3, 2}), s2);
  // The same with the arrays in a list; np.array of arrays stacks them.
  stn::Value lists = Mod.kernel("joined_lists")(av, bv);
  EXPECT_EQ(cOrder<double>(lists[0], {4, 3}), rows);
  EXPECT_EQ(cOrder<double>(lists[1], {2, 2, 3}), s1);
  EXPECT_EQ(cOrder<double>(lists[2], {2, 2, 3}), s0);
  std::vector<float> s0f(s0.begin(), s0.end());
  EXPECT_EQ(cOrder<float>(lists[3], {2, 2, 3}), s0f);
  std::vector<double> rev(s0.begin() + 6, s0.end());
  rev.insert(rev.end(), s0.begin(), s0.begin() + 6);
  EXPECT_EQ(cOrder<double>(lists[4], {2, 2, 3}), rev);
  // vstack of 1-d arrays stacks them as rows; hstack joins them.
  std::vector<int8_t> x = {1, 2, 3}, y = {-4, -5, -6};
  stn::Value vh = Mod.kernel("rows_and_columns")(stn::ArrayView::of(x.data(), {3}),
                                                 stn::ArrayView::of(y.data(), {3}));
  EXPECT_EQ(cOrder<int8_t>(vh[0], {2, 3}), (std::vector<int8_t>{1, 2, 3, -4, -5, -6}));
  EXPECT_EQ(cOrder<int8_t>(vh[1], {6}), (std::vector<int8_t>{1, 2, 3, -4, -5, -6}));
  stn::Value lh = Mod.kernel("rows_and_columns_of_lists")(stn::ArrayView::of(x.data(), {3}),
                                                          stn::ArrayView::of(y.data(), {3}));
  EXPECT_EQ(cOrder<int8_t>(lh[0], {2, 3}), (std::vector<int8_t>{1, 2, 3, -4, -5, -6}));
  EXPECT_EQ(cOrder<int8_t>(lh[1], {6}), (std::vector<int8_t>{1, 2, 3, -4, -5, -6}));
  // Extents that do not fit.
  auto message = [&](const char *kernel, int64_t ax) {
    try {
      Mod.kernel(kernel)(av, cv, ax);
    } catch (const stn::Error &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("joined", 0).find("ValueError: all the input array dimensions except for the "
                                      "concatenation axis must match exactly, but along "
                                      "dimension 1, the array at index 0 has size 3 and the "
                                      "array at index 1 has size 2"),
            std::string::npos)
      << message("joined", 0);
  EXPECT_NE(message("stacked", 0).find("ValueError: all input arrays must have the same shape"),
            std::string::npos)
      << message("stacked", 0);
}

TEST_F(ShapeView, FlipsEyeAndTrace) {
  // a: 3x4 int32, a[i, j] = 10 i + j.
  std::vector<int32_t> a;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      a.push_back(10 * i + j);
  auto av = stn::ArrayView::of(a.data(), {3, 4});
  auto at = [&](int i, int j) { return a[size_t(4 * i + j)]; };
  std::vector<int32_t> all, cols, rows;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      all.push_back(at(2 - i, 3 - j));
      cols.push_back(at(i, 3 - j));
      rows.push_back(at(2 - i, j));
    }
  stn::Value f = Mod.kernel("flips")(av);
  EXPECT_EQ(cOrder<int32_t>(f[0], {3, 4}), all);
  EXPECT_EQ(cOrder<int32_t>(f[1], {3, 4}), cols);
  EXPECT_EQ(cOrder<int32_t>(f[2], {3, 4}), rows);
  EXPECT_EQ(cOrder<int32_t>(f[3], {3, 4}), rows);
  std::vector<double> d = {1, 2, 3, 4, 5, 6}; // 2x3
  Mod.kernel("write_fliplr")(stn::ArrayView::of(d.data(), {2, 3}));
  EXPECT_EQ(d, (std::vector<double>{1, 2, -1, 4, 5, 6}));
  // eye(3), eye(3, 5, k) for k = 2 and -1, identity(3) of bools.
  for (int64_t k : {int64_t{2}, int64_t{-1}}) {
    stn::Value e = Mod.kernel("eyes")(int64_t{3}, int64_t{5}, k);
    std::vector<double> e3;
    std::vector<int16_t> e35;
    std::vector<uint8_t> id;
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 3; ++j) {
        e3.push_back(i == j ? 1.0 : 0.0);
        id.push_back(i == j);
      }
      for (int64_t j = 0; j < 5; ++j)
        e35.push_back(j - i == k ? 1 : 0);
    }
    EXPECT_EQ(cOrder<double>(e[0], {3, 3}), e3);
    EXPECT_EQ(cOrder<int16_t>(e[1], {3, 5}), e35);
    EXPECT_EQ(cOrder<uint8_t>(e[2], {3, 3}), id);
  }
  // trace: offsets 0, 2, -1 and past the corner.
  for (int64_t k : {int64_t{2}, int64_t{-1}, int64_t{7}}) {
    int64_t want = 0, diag = 0;
    for (int i = 0; i < 3; ++i) {
      diag += at(i, i);
      if (i + k >= 0 && i + k < 4)
        want += at(i, int(i + k));
    }
    stn::Value t = Mod.kernel("traces")(av, k);
    EXPECT_EQ(t[0].asInt(), diag);
    EXPECT_EQ(t[1].asInt(), want) << "offset " << k;
    EXPECT_EQ(t[2].asInt(), diag);
  }
}

TEST_F(ShapeView, ExtentsThatDoNotFitAreErrors) {
  std::vector<double> a(6, 1.0);
  auto av = stn::ArrayView::of(a.data(), {6});
  auto message = [&](int64_t n, int64_t m) {
    try {
      Mod.kernel("reshaped")(av, n, m);
    } catch (const stn::Error &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(4, 2).find("ValueError: cannot reshape array of size 6 into shape (4, 2)"),
            std::string::npos)
      << message(4, 2);
  EXPECT_NE(message(4, -1).find("cannot reshape array of size 6 into shape (4, -1)"),
            std::string::npos)
      << message(4, -1);
  EXPECT_NE(message(-3, -2).find("cannot reshape array of size 6 into shape (-3, -2)"),
            std::string::npos)
      << message(-3, -2);
  EXPECT_NE(message(-1, -1).find("ValueError: can only specify one unknown dimension"),
            std::string::npos)
      << message(-1, -1);
  EXPECT_NE(message(2, 3).find("no error"), std::string::npos);
}

} // namespace
