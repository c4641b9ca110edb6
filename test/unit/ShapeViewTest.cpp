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
//   - the errors of extents that do not fit the size.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <gtest/gtest.h>

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

@jit(parallel=True)
def row_sums(a, n):
    m = a.reshape(n, -1)
    out = np.empty(n)
    for i in prange(n):
        out[i] = m[i].sum()
    return out
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

TEST_F(ShapeView, UnevenlySpacedArraysAreCopied) {
  std::vector<double> a = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; // 3x4
  auto av = stn::ArrayView::of(a.data(), {3, 4});
  EXPECT_EQ(cOrder<double>(Mod.kernel("ravel_of_columns")(av), {6}),
            (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(cOrder<double>(Mod.kernel("ravel_reversed")(av), {12}),
            (std::vector<double>{8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3}));
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
