//===- MatmulTest.cpp - a @ b, np.dot and np.matmul -----------------------===//
//
// Matrix and vector products against the same sums written as C++ loops:
//   - matrix @ matrix, matrix @ vector, vector @ matrix, vector @ vector,
//     through `@`, np.dot, np.matmul and a.dot(b);
//   - float64, float32, int32, int8 (wrapping as NumPy's), complex128 and
//     bool (and/or), and mixed dtypes (promoted);
//   - C-contiguous, transposed and strided operands, operands that are
//     array expressions, empty extents;
//   - extents that do not match: NumPy's ValueError for np.dot and matmul;
//   - np.linalg.norm of vectors and matrices (the 2-norm of the elements).
// The float data are small integers, so every sum is exact in any order.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def at(a, b):
    return a @ b

@njit
def dot(a, b):
    return np.dot(a, b)

@njit
def matmul(a, b):
    return np.matmul(a, b)

@njit
def method(a, b):
    return a.dot(b)

@njit
def expression(a, b):
    return (a + 1) @ b.T * 2

@njit
def norm(a):
    return np.linalg.norm(a)
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "matmul.stn");
  return m;
}

/// An (n, m) matrix in C order with small integer entries.
template <class T> std::vector<T> matrix(int64_t n, int64_t m, int seed) {
  std::vector<T> v(static_cast<size_t>(n * m));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<T>(static_cast<int>((i * 7 + static_cast<size_t>(seed) * 3) % 11) - 5);
  return v;
}

/// out[i, j] = sum_p x[i * xs0 + p * xs1] * y[p * ys0 + j * ys1] in type T.
template <class T>
std::vector<T> reference(const T *x, int64_t n, int64_t k, int64_t xs0, int64_t xs1, const T *y,
                         int64_t m, int64_t ys0, int64_t ys1) {
  std::vector<T> out;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      T s = T(0);
      for (int64_t p = 0; p < k; ++p)
        s = static_cast<T>(s + x[i * xs0 + p * xs1] * y[p * ys0 + j * ys1]);
      out.push_back(s);
    }
  return out;
}

template <class T> void checkShapes() {
  const int64_t n = 5, k = 7, m = 3;
  std::vector<T> x = matrix<T>(n, k, 1), y = matrix<T>(k, m, 2), v = matrix<T>(k, 1, 3),
                 w = matrix<T>(n, 1, 4);
  auto X = stn::ArrayView::of(x.data(), {n, k});
  auto Y = stn::ArrayView::of(y.data(), {k, m});
  auto V = stn::ArrayView::of(v.data(), {k});
  auto W = stn::ArrayView::of(w.data(), {n});
  for (const char *fn : {"at", "dot", "matmul", "method"}) {
    stn::Kernel kernel = module().kernel(fn);
    EXPECT_EQ(valuesOf<T>(kernel(X, Y), {n, m}), reference(x.data(), n, k, k, 1, y.data(), m, m, 1))
        << fn;
    EXPECT_EQ(valuesOf<T>(kernel(X, V), {n}), reference(x.data(), n, k, k, 1, v.data(), 1, 1, 0))
        << fn;
    EXPECT_EQ(valuesOf<T>(kernel(W, X), {k}), reference(w.data(), 1, n, 0, 1, x.data(), k, k, 1))
        << fn;
    std::vector<T> vv = reference(v.data(), 1, k, 0, 1, v.data(), 1, 1, 0);
    stn::Value s = kernel(V, V);
    if constexpr (std::is_floating_point_v<T>)
      EXPECT_EQ(static_cast<T>(s.asDouble()), vv[0]) << fn;
    else
      EXPECT_EQ(static_cast<T>(s.asInt()), vv[0]) << fn;
  }
}

TEST(Matmul, EveryShapeForEachDtype) {
  checkShapes<double>();
  checkShapes<float>();
  checkShapes<int32_t>();
  checkShapes<int64_t>();
}

TEST(Matmul, Int8WrapsAsNumPy) {
  // 100 * 100 * 2 + 1 + 1 = 20002, which is 34 in int8.
  std::vector<int8_t> v = {100, 100, 1, 1};
  EXPECT_EQ(module().kernel("at")(stn::ArrayView::of(v.data(), {4}),
                                  stn::ArrayView::of(v.data(), {4}))
                .asInt(),
            34);
  std::vector<int8_t> m = {100, 1, 100, 1}; // [[100, 1], [100, 1]]
  EXPECT_EQ(valuesOf<int8_t>(module().kernel("at")(stn::ArrayView::of(m.data(), {2, 2}),
                                                   stn::ArrayView::of(m.data(), {2, 2})),
                             {2, 2}),
            (std::vector<int8_t>{static_cast<int8_t>(10100 % 256), 101,
                                 static_cast<int8_t>(10100 % 256), 101}));
}

TEST(Matmul, ComplexBoolAndMixedDtypes) {
  using C = std::complex<double>;
  std::vector<C> a = {{1, 2}, {0, -1}, {3, 0}, {2, 2}}, b = {{0, 1}, {1, 1}, {-2, 0}, {1, -3}};
  EXPECT_EQ(valuesOf<C>(module().kernel("at")(stn::ArrayView::of(a.data(), {2, 2}),
                                              stn::ArrayView::of(b.data(), {2, 2})),
                        {2, 2}),
            reference(a.data(), 2, 2, 2, 1, b.data(), 2, 2, 1));
  // bool: an element is true where some product (and) is.
  std::vector<uint8_t> p = {1, 0, 0, 0, 0, 1}, q = {0, 1, 0, 0, 1, 0};
  stn::ArrayView P(p.data(), stn::DType::Bool, {2, 3}, {3, 1});
  stn::ArrayView Q(q.data(), stn::DType::Bool, {3, 2}, {2, 1});
  // p = [[1, 0, 0], [0, 0, 1]], q = [[0, 1], [0, 0], [1, 0]]: [[0, 1], [1, 0]].
  EXPECT_EQ(valuesOf<uint8_t>(module().kernel("at")(P, Q), {2, 2}),
            (std::vector<uint8_t>{0, 1, 1, 0}));
  // float32 @ int32 is float64, as NumPy promotes.
  std::vector<float> f = {1.5f, -2.0f};
  std::vector<int32_t> i = {4, 1};
  EXPECT_EQ(module()
                .kernel("dot")(stn::ArrayView::of(f.data(), {2}), stn::ArrayView::of(i.data(), {2}))
                .asDouble(),
            4.0);
}

TEST(Matmul, StridedAndExpressionOperands) {
  const int64_t n = 4, k = 6, s = sizeof(double);
  std::vector<double> x = matrix<double>(k, n, 5), y = matrix<double>(k, 2 * n, 6);
  // x viewed as its (n, k) transpose; y's every other column, (k, n).
  stn::ArrayView XT(x.data(), stn::DType::Float64, {n, k}, {s, n * s});
  stn::ArrayView YS(y.data(), stn::DType::Float64, {k, n}, {2 * n * s, 2 * s});
  EXPECT_EQ(valuesOf<double>(module().kernel("at")(XT, YS), {n, n}),
            reference(x.data(), n, k, 1, n, y.data(), n, 2 * n, 2));
  // (a + 1) @ b.T * 2 with a and b both (n, k).
  std::vector<double> a = matrix<double>(n, k, 7), b = matrix<double>(n, k, 8);
  std::vector<double> a1 = a;
  for (double &e : a1)
    e += 1;
  std::vector<double> want = reference(a1.data(), n, k, k, 1, b.data(), n, 1, k);
  for (double &e : want)
    e *= 2;
  EXPECT_EQ(valuesOf<double>(module().kernel("expression")(stn::ArrayView::of(a.data(), {n, k}),
                                                           stn::ArrayView::of(b.data(), {n, k})),
                             {n, n}),
            want);
  // An empty inner extent: zeros.
  std::vector<double> none;
  EXPECT_EQ(valuesOf<double>(module().kernel("at")(
                                 stn::ArrayView(none.data(), stn::DType::Float64, {2, 0}, {0, s}),
                                 stn::ArrayView(none.data(), stn::DType::Float64, {0, 3},
                                                {3 * s, s})),
                             {2, 3}),
            std::vector<double>(6, 0.0));
}

TEST(Matmul, ExtentsThatDoNotMatch) {
  std::vector<double> a = matrix<double>(3, 4, 1), v = matrix<double>(3, 1, 2);
  auto A = stn::ArrayView::of(a.data(), {3, 4});
  auto V = stn::ArrayView::of(v.data(), {3});
  EXPECT_NE(errorOf([&] { module().kernel("dot")(A, A); })
                .find("ValueError: shapes (3,4) and (3,4) not aligned: 4 (dim 1) != 3 (dim 0)"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { module().kernel("dot")(A, V); })
                .find("ValueError: shapes (3,4) and (3,) not aligned: 4 (dim 1) != 3 (dim 0)"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { module().kernel("at")(A, V); })
                .find("ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0, "
                      "with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 3 is different from 4)"),
            std::string::npos);
  // Vectors of other lengths: no broadcasting of a length-1 vector either.
  std::vector<double> w = {2.0};
  auto W = stn::ArrayView::of(w.data(), {1});
  EXPECT_NE(errorOf([&] { module().kernel("dot")(V, W); })
                .find("ValueError: shapes (3,) and (1,) not aligned: 3 (dim 0) != 1 (dim 0)"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { module().kernel("at")(W, V); })
                .find("(size 3 is different from 1)"),
            std::string::npos);
  // The engine goes on after the error.
  EXPECT_EQ(valuesOf<double>(module().kernel("at")(V, A), {4}),
            reference(v.data(), 1, 3, 0, 1, a.data(), 4, 4, 1));
}

TEST(Matmul, NormOfTheElements) {
  std::vector<double> a = matrix<double>(3, 4, 9);
  double ss = 0;
  for (double x : a)
    ss += x * x;
  EXPECT_DOUBLE_EQ(module().kernel("norm")(stn::ArrayView::of(a.data(), {3, 4})).asDouble(),
                   std::sqrt(ss));
  // Every other element: a strided view.
  const int64_t s = sizeof(double);
  double half = 0;
  for (size_t i = 0; i < a.size(); i += 2)
    half += a[i] * a[i];
  EXPECT_DOUBLE_EQ(
      module().kernel("norm")(stn::ArrayView(a.data(), stn::DType::Float64, {6}, {2 * s}))
          .asDouble(),
      std::sqrt(half));
  std::vector<int32_t> i = {3, -4, 12};
  EXPECT_EQ(module().kernel("norm")(stn::ArrayView::of(i.data(), {3})).asDouble(), 13.0);
  std::vector<float> f = {6.0f, 8.0f};
  EXPECT_EQ(module().kernel("norm")(stn::ArrayView::of(f.data(), {2})).asDouble(), 10.0);
  std::vector<std::complex<double>> z = {{3, 4}, {0, 12}};
  EXPECT_EQ(module().kernel("norm")(stn::ArrayView::of(z.data(), {2})).asDouble(), 13.0);
}

} // namespace
