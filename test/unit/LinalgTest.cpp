//===- LinalgTest.cpp - np.linalg's functions against C++ references -------===//
//
// Each np.linalg function a kernel calls, checked against references written
// here: determinants by cofactor expansion, inverses and solutions by their
// defining products (A X = I, A x = b), Cholesky factors by L L^H = A,
// matrix powers by repeated multiplication, eigen- and singular value
// decompositions by A v = w v, U S V^T = A and orthonormality against
// matrices built with known eigen- and singular values, QR by Q R = A with
// NumPy's printed values for one matrix, pseudo-inverses by the Penrose
// conditions, least squares by the normal equations; float64, float32,
// integer and complex operands, stacks, and the LinAlgErrors NumPy raises.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "MatrixSupport.h"
#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::multiply;
using stn::test::valuesOf;
using cdouble = std::complex<double>;
using Matrix = std::vector<double>; // row-major

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def det(a):
    return np.linalg.det(a)

@njit
def slogdet(a):
    return np.linalg.slogdet(a)

@njit
def inv(a):
    return np.linalg.inv(a)

@njit
def solve(a, b):
    return np.linalg.solve(a, b)

@njit
def cholesky(a):
    return np.linalg.cholesky(a)

@njit
def cholesky_upper(a):
    return np.linalg.cholesky(a, upper=True)

@njit
def matrix_power(a, n):
    return np.linalg.matrix_power(a, n)

@njit
def matrix_power_inverse(a):
    return np.linalg.matrix_power(a, -2)

@njit
def eig(a):
    return np.linalg.eig(a)

@njit
def eigvals(a):
    return np.linalg.eigvals(a)

@njit
def eigh(a):
    return np.linalg.eigh(a)

@njit
def eigh_upper(a):
    return np.linalg.eigh(a, UPLO="U")

@njit
def eigvalsh(a):
    return np.linalg.eigvalsh(a)

@njit
def svd(a):
    return np.linalg.svd(a)

@njit
def svd_reduced(a):
    return np.linalg.svd(a, full_matrices=False)

@njit
def singular_values(a):
    return np.linalg.svd(a, compute_uv=False)

@njit
def qr(a):
    return np.linalg.qr(a)

@njit
def qr_complete(a):
    return np.linalg.qr(a, mode="complete")

@njit
def qr_r(a):
    return np.linalg.qr(a, "r")

@njit
def pinv(a):
    return np.linalg.pinv(a)

@njit
def lstsq(a, b):
    return np.linalg.lstsq(a, b)

@njit
def lstsq_rcond(a, b, rcond):
    return np.linalg.lstsq(a, b, rcond=rcond)

@njit
def matrix_rank(a):
    return np.linalg.matrix_rank(a)

@njit
def matrix_rank_tol(a, tol):
    return np.linalg.matrix_rank(a, tol)

@njit
def cond(a):
    return np.linalg.cond(a)

@njit
def diag(v, k):
    return np.diag(v, k)

@njit
def diagonal(a, k):
    return a.diagonal(k), np.diagonal(a, offset=k)

@njit
def diagflat(v, k):
    return np.diagflat(v, k=k)

@njit
def kron(a, b):
    return np.kron(a, b)

@njit
def vdot(a, b):
    return np.vdot(a, b)

@njit
def det_of_view(a):
    return np.linalg.det(a[::2, ::-1].T)
)STN";

stn::Module &module() { return stn::test::linalgKernels(); }

/// A reproducible matrix of uniform entries in [-1, 1).
Matrix randomMatrix(int64_t rows, int64_t cols, uint64_t seed) {
  return stn::test::randomValues(static_cast<size_t>(rows * cols), seed);
}

double &el(Matrix &a, int64_t cols, int64_t i, int64_t j) {
  return a[static_cast<size_t>(i * cols + j)];
}
double el(const Matrix &a, int64_t cols, int64_t i, int64_t j) {
  return a[static_cast<size_t>(i * cols + j)];
}

Matrix transpose(const Matrix &x, int64_t r, int64_t c) {
  Matrix out(x.size());
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j)
      el(out, r, j, i) = el(x, c, i, j);
  return out;
}

Matrix identity(int64_t n) { return stn::test::identityOf<double>(n); }

/// The determinant by cofactor expansion along the first row.
template <class T> T cofactorDet(const std::vector<T> &a, int64_t n) {
  if (n == 0)
    return T(1);
  if (n == 1)
    return a[0];
  T sum(0);
  for (int64_t j = 0; j < n; ++j) {
    std::vector<T> minor;
    for (int64_t i = 1; i < n; ++i)
      for (int64_t c = 0; c < n; ++c)
        if (c != j)
          minor.push_back(a[static_cast<size_t>(i * n + c)]);
    T term = a[static_cast<size_t>(j)] * cofactorDet(minor, n - 1);
    sum += j % 2 ? -term : term;
  }
  return sum;
}

void expectNear(const Matrix &got, const Matrix &want, double tol, const char *what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol) << what << " at " << i;
}

/// An orthogonal n x n matrix: a product of plane rotations.
Matrix rotations(int64_t n, uint64_t seed) {
  Matrix q = identity(n);
  Matrix angles = randomMatrix(n, n, seed);
  for (int64_t p = 0; p < n; ++p)
    for (int64_t r = p + 1; r < n; ++r) {
      double t = 3 * el(angles, n, p, r), c = std::cos(t), s = std::sin(t);
      for (int64_t i = 0; i < n; ++i) {
        double x = el(q, n, i, p), y = el(q, n, i, r);
        el(q, n, i, p) = c * x - s * y;
        el(q, n, i, r) = s * x + c * y;
      }
    }
  return q;
}

stn::ArrayView view(Matrix &a, std::vector<int64_t> shape) {
  return stn::ArrayView::of(a.data(), shape);
}

TEST(LinalgDet, AgainstCofactorExpansion) {
  for (int64_t n = 0; n <= 5; ++n) {
    SCOPED_TRACE(n);
    Matrix a = randomMatrix(n, n, 10 + static_cast<uint64_t>(n));
    double want = cofactorDet(a, n);
    EXPECT_NEAR(module().kernel("det")(view(a, {n, n})).asDouble(), want, 1e-12);
    stn::Value sl = module().kernel("slogdet")(view(a, {n, n}));
    EXPECT_EQ(sl[0].asDouble(), want > 0 ? 1.0 : -1.0);
    EXPECT_NEAR(sl[1].asDouble(), std::log(std::fabs(want)), 1e-12);
  }
  // Integers give float64; a singular matrix has determinant 0 (no error).
  std::vector<int32_t> ints = {2, 7, 1, 8, 2, 8, 1, 8, 2};
  EXPECT_DOUBLE_EQ(module().kernel("det")(stn::ArrayView::of(ints.data(), {3, 3})).asDouble(),
                   cofactorDet(std::vector<double>(ints.begin(), ints.end()), 3));
  Matrix singular = {1, 2, 3, 2, 4, 6, 0, 1, 1};
  EXPECT_EQ(module().kernel("det")(view(singular, {3, 3})).asDouble(), 0.0);
  stn::Value sl = module().kernel("slogdet")(view(singular, {3, 3}));
  EXPECT_EQ(sl[0].asDouble(), 0.0);
  EXPECT_EQ(sl[1].asDouble(), -std::numeric_limits<double>::infinity());
  // float32 stays float32.
  std::vector<float> f = {1.5f, 2, -1, 4};
  stn::Value d32 = module().kernel("det")(stn::ArrayView::of(f.data(), {2, 2}));
  EXPECT_EQ(d32.scalar().dtype(), stn::DType::Float32);
  EXPECT_FLOAT_EQ(static_cast<float>(d32.asDouble()), 8.0f);
  // Complex: the value, and slogdet's sign on the unit circle.
  std::vector<cdouble> z = {{1, 2}, {2, 0}, {3, -1}, {0, 1}, {4, -1}, {1, 1},
                            {2, 2}, {-1, 0}, {0, -3}};
  cdouble dz = cofactorDet(z, 3);
  cdouble got = module().kernel("det")(stn::ArrayView::of(z.data(), {3, 3})).asComplex();
  EXPECT_NEAR(std::abs(got - dz), 0, 1e-12);
  stn::Value zl = module().kernel("slogdet")(stn::ArrayView::of(z.data(), {3, 3}));
  EXPECT_NEAR(std::abs(zl[0].asComplex() - dz / std::abs(dz)), 0, 1e-12);
  EXPECT_NEAR(zl[1].asDouble(), std::log(std::abs(dz)), 1e-12);
}

TEST(LinalgDet, StacksAndViews) {
  // A (2, 3, 4, 4) stack: one determinant per matrix.
  Matrix a = randomMatrix(24, 4, 3);
  std::vector<double> got = valuesOf<double>(module().kernel("det")(view(a, {2, 3, 4, 4})), {2, 3});
  for (int64_t s = 0; s < 6; ++s) {
    Matrix one(a.begin() + s * 16, a.begin() + (s + 1) * 16);
    EXPECT_NEAR(got[static_cast<size_t>(s)], cofactorDet(one, 4), 1e-12);
  }
  // A strided, reversed, transposed view is read as NumPy reads it.
  Matrix b = randomMatrix(6, 3, 4);
  Matrix picked(9);
  for (int64_t i = 0; i < 3; ++i) // a[::2, ::-1].T[i, j] = a[2 j, 2 - i]
    for (int64_t j = 0; j < 3; ++j)
      el(picked, 3, i, j) = el(b, 3, 2 * j, 2 - i);
  EXPECT_NEAR(module().kernel("det_of_view")(view(b, {6, 3})).asDouble(), cofactorDet(picked, 3),
              1e-12);
}

TEST(LinalgInv, ProductIsIdentity) {
  for (int64_t n : {1, 2, 3, 6, 17}) {
    SCOPED_TRACE(n);
    Matrix a = randomMatrix(n, n, 20 + static_cast<uint64_t>(n));
    for (int64_t i = 0; i < n; ++i)
      el(a, n, i, i) += 2; // well conditioned
    Matrix x = valuesOf<double>(module().kernel("inv")(view(a, {n, n})), {n, n});
    expectNear(multiply(a, x, n, n, n), identity(n), 1e-12, "A inv(A)");
    expectNear(multiply(x, a, n, n, n), identity(n), 1e-12, "inv(A) A");
  }
  // Complex: A X = I.
  std::vector<cdouble> z = {{1, 2}, {2, 0}, {3, -1}, {4, 1}};
  auto X = module().kernel("inv")(stn::ArrayView::of(z.data(), {2, 2}));
  std::vector<cdouble> x = valuesOf<cdouble>(X, {2, 2});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      cdouble s = z[i * 2] * x[j] + z[i * 2 + 1] * x[2 + j];
      EXPECT_NEAR(std::abs(s - cdouble(i == j ? 1 : 0)), 0, 1e-12);
    }
  // float32 in, float32 out.
  std::vector<float> f = {4, 7, 2, 6};
  std::vector<float> fi =
      valuesOf<float>(module().kernel("inv")(stn::ArrayView::of(f.data(), {2, 2})), {2, 2});
  EXPECT_FLOAT_EQ(fi[0], 0.6f);
  EXPECT_FLOAT_EQ(fi[1], -0.7f);
  EXPECT_FLOAT_EQ(fi[2], -0.2f);
  EXPECT_FLOAT_EQ(fi[3], 0.4f);
}

TEST(LinalgInv, Errors) {
  Matrix singular = {1, 2, 2, 4};
  EXPECT_NE(errorOf([&] { module().kernel("inv")(view(singular, {2, 2})); })
                .find("LinAlgError: Singular matrix"),
            std::string::npos);
  Matrix wide = randomMatrix(2, 3, 1);
  for (const char *k : {"inv", "det", "cholesky", "eigh"})
    EXPECT_NE(errorOf([&] { module().kernel(k)(view(wide, {2, 3})); })
                  .find("LinAlgError: Last 2 dimensions of the array must be square"),
              std::string::npos)
        << k;
}

TEST(LinalgSolve, VectorsMatricesAndStacks) {
  const int64_t n = 4;
  Matrix a = randomMatrix(n, n, 7);
  for (int64_t i = 0; i < n; ++i)
    el(a, n, i, i) += 3;
  Matrix b = randomMatrix(n, 1, 8);
  Matrix x = valuesOf<double>(module().kernel("solve")(view(a, {n, n}), view(b, {n})), {n});
  expectNear(multiply(a, x, n, n, 1), b, 1e-12, "A x");
  Matrix bm = randomMatrix(n, 3, 9);
  Matrix xm =
      valuesOf<double>(module().kernel("solve")(view(a, {n, n}), view(bm, {n, 3})), {n, 3});
  expectNear(multiply(a, xm, n, n, 3), bm, 1e-12, "A X");
  // a: (2, 4, 4); b: (3, 1, 4, 2) broadcast to (3, 2, 4, 2).
  Matrix as = randomMatrix(8, 4, 10), bs = randomMatrix(12, 2, 11);
  for (int64_t s = 0; s < 2; ++s)
    for (int64_t i = 0; i < n; ++i)
      as[static_cast<size_t>(s * 16 + i * 5)] += 3;
  Matrix xs = valuesOf<double>(
      module().kernel("solve")(view(as, {2, n, n}), view(bs, {3, 1, n, 2})), {3, 2, n, 2});
  for (int64_t p = 0; p < 3; ++p)
    for (int64_t q = 0; q < 2; ++q) {
      Matrix am(as.begin() + q * 16, as.begin() + (q + 1) * 16);
      Matrix bp(bs.begin() + p * 8, bs.begin() + (p + 1) * 8);
      Matrix xq(xs.begin() + (p * 2 + q) * 8, xs.begin() + (p * 2 + q + 1) * 8);
      expectNear(multiply(am, xq, n, n, 2), bp, 1e-12, "stacked A X");
    }
  // A 1-d b is one vector for every matrix of the stack: (2, 4).
  Matrix xv = valuesOf<double>(module().kernel("solve")(view(as, {2, n, n}), view(b, {n})), {2, n});
  for (int64_t q = 0; q < 2; ++q) {
    Matrix am(as.begin() + q * 16, as.begin() + (q + 1) * 16);
    Matrix xq(xv.begin() + q * n, xv.begin() + (q + 1) * n);
    expectNear(multiply(am, xq, n, n, 1), b, 1e-12, "stacked A x");
  }
  // Integer a with complex b: complex128.
  std::vector<int64_t> ia = {2, 1, 1, 3};
  std::vector<cdouble> zb = {{1, 1}, {0, 2}};
  std::vector<cdouble> zx = valuesOf<cdouble>(
      module().kernel("solve")(stn::ArrayView::of(ia.data(), {2, 2}),
                               stn::ArrayView::of(zb.data(), {2})),
      {2});
  EXPECT_NEAR(std::abs(2.0 * zx[0] + zx[1] - zb[0]), 0, 1e-12);
  EXPECT_NEAR(std::abs(zx[0] + 3.0 * zx[1] - zb[1]), 0, 1e-12);
}

TEST(LinalgSolve, Errors) {
  Matrix a = identity(3), b = randomMatrix(2, 1, 1), singular = {1, 2, 2, 4};
  EXPECT_NE(errorOf([&] { module().kernel("solve")(view(a, {3, 3}), view(b, {2})); })
                .find("ValueError: solve: Input operand 1 has a mismatch in its core dimension "
                      "0, with gufunc signature (m,m),(m)->(m) (size 2 is different from 3)"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { module().kernel("solve")(view(singular, {2, 2}), view(b, {2})); })
                .find("LinAlgError: Singular matrix"),
            std::string::npos);
  Matrix as = randomMatrix(6, 3, 2), bs = randomMatrix(9, 2, 3);
  EXPECT_NE(errorOf([&] { module().kernel("solve")(view(as, {2, 3, 3}), view(bs, {3, 3, 2})); })
                .find("could not be broadcast together"),
            std::string::npos);
}

TEST(LinalgCholesky, FactorsReproduceTheMatrix) {
  const int64_t n = 5;
  Matrix g = randomMatrix(n, n, 30);
  Matrix a = multiply(g, transpose(g, n, n), n, n, n);
  for (int64_t i = 0; i < n; ++i)
    el(a, n, i, i) += 0.5;
  Matrix l = valuesOf<double>(module().kernel("cholesky")(view(a, {n, n})), {n, n});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j)
      EXPECT_EQ(el(l, n, i, j), 0.0);
  expectNear(multiply(l, transpose(l, n, n), n, n, n), a, 1e-12, "L L^T");
  Matrix u = valuesOf<double>(module().kernel("cholesky_upper")(view(a, {n, n})), {n, n});
  expectNear(u, transpose(l, n, n), 1e-14, "U = L^T");
  // Only the lower triangle is read (upper=True: the upper).
  Matrix lowerOnly = a, upperOnly = a;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      el(lowerOnly, n, i, j) = 99;
      el(upperOnly, n, j, i) = -99;
    }
  expectNear(valuesOf<double>(module().kernel("cholesky")(view(lowerOnly, {n, n})), {n, n}), l,
             1e-14, "lower read");
  expectNear(valuesOf<double>(module().kernel("cholesky_upper")(view(upperOnly, {n, n})), {n, n}),
             u, 1e-14, "upper read");
  // Hermitian complex: L L^H = A.
  std::vector<cdouble> h = {{4, 0}, {1, -2}, {1, 2}, {6, 0}};
  std::vector<cdouble> hl =
      valuesOf<cdouble>(module().kernel("cholesky")(stn::ArrayView::of(h.data(), {2, 2})), {2, 2});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      cdouble s = hl[i * 2] * std::conj(hl[j * 2]) + hl[i * 2 + 1] * std::conj(hl[j * 2 + 1]);
      EXPECT_NEAR(std::abs(s - h[i * 2 + j]), 0, 1e-12);
    }
  Matrix indefinite = {1, 2, 2, 1};
  EXPECT_NE(errorOf([&] { module().kernel("cholesky")(view(indefinite, {2, 2})); })
                .find("LinAlgError: Matrix is not positive definite"),
            std::string::npos);
}

TEST(LinalgMatrixPower, AgainstRepeatedProducts) {
  const int64_t n = 3;
  Matrix a = randomMatrix(n, n, 40);
  for (int64_t p : {0, 1, 2, 5, 13}) {
    SCOPED_TRACE(p);
    Matrix want = identity(n);
    for (int64_t t = 0; t < p; ++t)
      want = multiply(want, a, n, n, n);
    expectNear(valuesOf<double>(module().kernel("matrix_power")(view(a, {n, n}), p), {n, n}),
               want, 1e-12, "a^p");
  }
  // Negative powers invert: a^-3 a^3 = I.
  Matrix inv3 =
      valuesOf<double>(module().kernel("matrix_power")(view(a, {n, n}), int64_t{-3}), {n, n});
  Matrix a3 = multiply(multiply(a, a, n, n, n), a, n, n, n);
  expectNear(multiply(inv3, a3, n, n, n), identity(n), 1e-10, "a^-3 a^3");
  // Integers keep their kind and wrap as NumPy's: int8 [[1, 1], [1, 0]]^12
  // holds Fibonacci numbers 233, 144, 89 (233 wraps to -23).
  std::vector<int8_t> fib = {1, 1, 1, 0};
  EXPECT_EQ(valuesOf<int8_t>(module().kernel("matrix_power")(
                                 stn::ArrayView::of(fib.data(), {2, 2}), int64_t{12}),
                             {2, 2}),
            (std::vector<int8_t>{-23, -112, -112, 89}));
  // A constant negative power of an integer matrix is float64.
  std::vector<int32_t> two = {2, 0, 0, 4};
  EXPECT_EQ(valuesOf<double>(module().kernel("matrix_power_inverse")(
                                 stn::ArrayView::of(two.data(), {2, 2})),
                             {2, 2}),
            (std::vector<double>{0.25, 0, 0, 0.0625}));
  // A negative power known only at run time cannot give an integer matrix.
  EXPECT_NE(errorOf([&] {
              module().kernel("matrix_power")(stn::ArrayView::of(two.data(), {2, 2}),
                                              int64_t{-1});
            }).find("matrix_power of an integer matrix to a negative power"),
            std::string::npos);
  // Bool matrices: reachability (or of ands).
  std::vector<uint8_t> edges = {0, 1, 0, 0, 0, 1, 0, 0, 0};
  stn::ArrayView E(edges.data(), stn::DType::Bool, {3, 3}, {3, 1});
  EXPECT_EQ(valuesOf<uint8_t>(module().kernel("matrix_power")(E, int64_t{2}), {3, 3}),
            (std::vector<uint8_t>{0, 0, 1, 0, 0, 0, 0, 0, 0}));
}

TEST(LinalgEigh, KnownEigenvaluesAndVectors) {
  // The second-difference matrix: eigenvalues 2 - 2 cos(k pi / (n + 1)).
  const int64_t n = 8;
  Matrix t(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    el(t, n, i, i) = 2;
    if (i + 1 < n)
      el(t, n, i, i + 1) = el(t, n, i + 1, i) = -1;
  }
  stn::Value r = module().kernel("eigh")(view(t, {n, n}));
  Matrix w = valuesOf<double>(r[0], {n}), v = valuesOf<double>(r[1], {n, n});
  for (int64_t k = 1; k <= n; ++k)
    EXPECT_NEAR(w[static_cast<size_t>(k - 1)], 2 - 2 * std::cos(k * M_PI / (n + 1)), 1e-13);
  expectNear(multiply(transpose(v, n, n), v, n, n, n), identity(n), 1e-13, "V^T V");
  Matrix av = multiply(t, v, n, n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < n; ++k)
      EXPECT_NEAR(el(av, n, i, k), w[static_cast<size_t>(k)] * el(v, n, i, k), 1e-13);
  expectNear(valuesOf<double>(module().kernel("eigvalsh")(view(t, {n, n})), {n}), w, 0,
             "eigvalsh");
  // Q diag(d) Q^T with known d (repeated and negative values included),
  // from one triangle only.
  const int64_t m = 6;
  Matrix q = rotations(m, 50);
  std::vector<double> d = {-3, 0.5, 0.5, 2, 7, 1e-3};
  Matrix qd = q;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j)
      el(qd, m, i, j) *= d[static_cast<size_t>(j)];
  Matrix a = multiply(qd, transpose(q, m, m), m, m, m);
  Matrix upperOnly = a;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < i; ++j)
      el(upperOnly, m, i, j) = 1e6;
  std::vector<double> sorted = d;
  std::sort(sorted.begin(), sorted.end());
  expectNear(valuesOf<double>(module().kernel("eigh_upper")(view(upperOnly, {m, m}))[0], {m}),
             sorted, 1e-12, "UPLO=U");
  // float32 in: float32 eigenvalues and vectors.
  std::vector<float> f = {2, 1, 1, 2};
  stn::Value fr = module().kernel("eigh")(stn::ArrayView::of(f.data(), {2, 2}));
  EXPECT_EQ(valuesOf<float>(fr[0], {2}), (std::vector<float>{1, 3}));
  EXPECT_EQ(fr[1].array().dtype(), stn::DType::Float32);
}

/// Checks an SVD of the m x n `a`: U S V^T = A, orthonormal U and V^T,
/// singular values descending and non-negative.
void checkSvd(const Matrix &a, int64_t m, int64_t n, uint64_t trace) {
  SCOPED_TRACE(trace);
  Matrix copy = a;
  int64_t k = std::min(m, n);
  stn::Value r = module().kernel("svd")(view(copy, {m, n}));
  Matrix u = valuesOf<double>(r[0], {m, m}), s = valuesOf<double>(r[1], {k}),
         vt = valuesOf<double>(r[2], {n, n});
  for (int64_t i = 0; i + 1 < k; ++i)
    EXPECT_GE(s[static_cast<size_t>(i)], s[static_cast<size_t>(i + 1)]);
  if (k) {
    EXPECT_GE(s.back(), 0.0);
  }
  expectNear(multiply(transpose(u, m, m), u, m, m, m), identity(m), 1e-12, "U^T U");
  expectNear(multiply(vt, transpose(vt, n, n), n, n, n), identity(n), 1e-12, "Vt Vt^T");
  Matrix us(static_cast<size_t>(m * n), 0.0); // U[:, :k] diag(s), padded to m x n
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j)
      el(us, n, i, j) = el(u, m, i, j) * s[static_cast<size_t>(j)];
  expectNear(multiply(us, vt, m, n, n), a, 1e-12, "U S Vt");
  // The reduced factors and the values alone agree.
  stn::Value rr = module().kernel("svd_reduced")(view(copy, {m, n}));
  Matrix ur = valuesOf<double>(rr[0], {m, k}), vr = valuesOf<double>(rr[2], {k, n});
  expectNear(valuesOf<double>(rr[1], {k}), s, 1e-13, "reduced s");
  Matrix usr = ur;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j)
      el(usr, k, i, j) *= s[static_cast<size_t>(j)];
  expectNear(multiply(usr, vr, m, k, n), a, 1e-12, "reduced U S Vt");
  expectNear(valuesOf<double>(module().kernel("singular_values")(view(copy, {m, n})), {k}), s,
             1e-13, "compute_uv=False");
}

TEST(LinalgSvd, ReconstructsAndKnownValues) {
  uint64_t seed = 60;
  for (auto [m, n] : {std::pair<int64_t, int64_t>{5, 3}, {3, 5}, {4, 4}, {1, 6}, {6, 1}, {7, 7}}) {
    ++seed;
    checkSvd(randomMatrix(m, n, seed), m, n, seed);
  }
  // Rank deficient: an outer product (rank 1) and a zero matrix.
  Matrix x = randomMatrix(5, 1, 70), y = randomMatrix(1, 4, 71);
  checkSvd(multiply(x, y, 5, 1, 4), 5, 4, 70);
  checkSvd(Matrix(12, 0.0), 3, 4, 72);
  // Known singular values: Q1 diag(s) Q2^T.
  const int64_t m = 6, n = 4;
  Matrix q1 = rotations(m, 80), q2 = rotations(n, 81);
  std::vector<double> s = {9, 4, 4, 0.25};
  Matrix a(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t l = 0; l < n; ++l)
        el(a, n, i, j) += el(q1, m, i, l) * s[static_cast<size_t>(l)] * el(q2, n, j, l);
  expectNear(valuesOf<double>(module().kernel("singular_values")(view(a, {m, n})), {n}), s, 1e-12,
             "known s");
}

TEST(LinalgQr, NumpysSignsAndFactors) {
  // numpy.linalg.qr([[1, 2], [3, 4]]) prints
  // q = [[-0.31622777, -0.9486833], [-0.9486833, 0.31622777]],
  // r = [[-3.16227766, -4.42718872], [0., -0.63245553]].
  Matrix a = {1, 2, 3, 4};
  stn::Value r = module().kernel("qr")(view(a, {2, 2}));
  expectNear(valuesOf<double>(r[0], {2, 2}), {-0.31622777, -0.9486833, -0.9486833, 0.31622777},
             1e-8, "q");
  expectNear(valuesOf<double>(r[1], {2, 2}), {-3.16227766, -4.42718872, 0, -0.63245553}, 1e-8,
             "r");
  uint64_t seed = 90;
  for (auto [m, n] : {std::pair<int64_t, int64_t>{5, 3}, {3, 5}, {4, 4}}) {
    SCOPED_TRACE(m * 10 + n);
    Matrix x = randomMatrix(m, n, ++seed);
    int64_t k = std::min(m, n);
    stn::Value red = module().kernel("qr")(view(x, {m, n}));
    Matrix q = valuesOf<double>(red[0], {m, k}), rr = valuesOf<double>(red[1], {k, n});
    expectNear(multiply(q, rr, m, k, n), x, 1e-13, "Q R");
    expectNear(multiply(transpose(q, m, k), q, k, m, k), identity(k), 1e-13, "Q^T Q");
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < std::min(i, n); ++j)
        EXPECT_EQ(el(rr, n, i, j), 0.0);
    stn::Value full = module().kernel("qr_complete")(view(x, {m, n}));
    Matrix qc = valuesOf<double>(full[0], {m, m}), rc = valuesOf<double>(full[1], {m, n});
    expectNear(multiply(qc, rc, m, m, n), x, 1e-13, "complete Q R");
    expectNear(multiply(transpose(qc, m, m), qc, m, m, m), identity(m), 1e-13, "complete Q^T Q");
    expectNear(valuesOf<double>(module().kernel("qr_r")(view(x, {m, n})), {k, n}), rr, 0,
               "mode r");
  }
}

TEST(LinalgPinv, PenroseConditions) {
  uint64_t seed = 100;
  for (auto [m, n] : {std::pair<int64_t, int64_t>{5, 3}, {3, 5}, {4, 4}}) {
    SCOPED_TRACE(m * 10 + n);
    Matrix a = randomMatrix(m, n, ++seed);
    Matrix p = valuesOf<double>(module().kernel("pinv")(view(a, {m, n})), {n, m});
    Matrix ap = multiply(a, p, m, n, m), pa = multiply(p, a, n, m, n);
    expectNear(multiply(ap, a, m, m, n), a, 1e-12, "A A+ A");
    expectNear(multiply(pa, p, n, n, m), p, 1e-12, "A+ A A+");
    expectNear(ap, transpose(ap, m, m), 1e-12, "A A+ symmetric");
    expectNear(pa, transpose(pa, n, n), 1e-12, "A+ A symmetric");
  }
  // Rank 1: the pseudo-inverse of x y^T is y x^T / (|x|^2 |y|^2).
  Matrix x = {1, 2, 2}, y = {3, 4};
  Matrix a = multiply(x, y, 3, 1, 2), want(6);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      el(want, 3, i, j) = y[static_cast<size_t>(i)] * x[static_cast<size_t>(j)] / (9.0 * 25.0);
  expectNear(valuesOf<double>(module().kernel("pinv")(view(a, {3, 2})), {2, 3}), want, 1e-14,
             "rank 1");
}

TEST(LinalgLstsq, NormalEquationsRankAndResiduals) {
  // A straight line through (1, 1), (2, 2), (3, 2), (4, 5): by the normal
  // equations, slope 6 / 5 and intercept -0.5; residuals 0.3, 0.1, -1.1,
  // 0.7, whose squares sum to 1.8.
  Matrix a = {1, 1, 1, 2, 1, 3, 1, 4}, b = {1, 2, 2, 5};
  stn::Value r = module().kernel("lstsq")(view(a, {4, 2}), view(b, {4}));
  expectNear(valuesOf<double>(r[0], {2}), {-0.5, 1.2}, 1e-13, "x");
  expectNear(valuesOf<double>(r[1], {1}), {1.8}, 1e-12, "residuals");
  EXPECT_EQ(r[2].asInt(), 2);
  Matrix s = valuesOf<double>(r[3], {2});
  // The singular values squared are the eigenvalues of A^T A = [[4, 10], [10, 30]].
  double tr = 34, det = 20;
  EXPECT_NEAR(s[0] * s[0], tr / 2 + std::sqrt(tr * tr / 4 - det), 1e-12);
  EXPECT_NEAR(s[1] * s[1], tr / 2 - std::sqrt(tr * tr / 4 - det), 1e-12);
  // Two right-hand sides: residuals per column.
  Matrix b2 = {1, 0, 2, 1, 2, 0, 5, 1};
  stn::Value r2 = module().kernel("lstsq")(view(a, {4, 2}), view(b2, {4, 2}));
  Matrix x2 = valuesOf<double>(r2[0], {2, 2});
  EXPECT_NEAR(x2[0], -0.5, 1e-13);
  EXPECT_NEAR(x2[2], 1.2, 1e-13);
  Matrix res2 = valuesOf<double>(r2[1], {2});
  EXPECT_NEAR(res2[0], 1.8, 1e-12);
  double r1 = 0; // the second column against its own fit
  for (int64_t i = 0; i < 4; ++i) {
    double e = b2[static_cast<size_t>(i * 2 + 1)] - x2[1] - x2[3] * (i + 1);
    r1 += e * e;
  }
  EXPECT_NEAR(res2[1], r1, 1e-12);
  // Rank deficient (equal columns): the minimum-norm solution, rank 1, no
  // residuals; a large rcond cuts the smaller singular value too.
  Matrix same = {1, 1, 2, 2, 3, 3};
  Matrix c = {1, 2, 3};
  stn::Value r3 = module().kernel("lstsq")(view(same, {3, 2}), view(c, {3}));
  expectNear(valuesOf<double>(r3[0], {2}), {0.5, 0.5}, 1e-13, "minimum norm");
  EXPECT_EQ(valuesOf<double>(r3[1], {0}).size(), 0u);
  EXPECT_EQ(r3[2].asInt(), 1);
  stn::Value r4 = module().kernel("lstsq_rcond")(view(a, {4, 2}), view(b, {4}), 0.5);
  EXPECT_EQ(r4[2].asInt(), 1);
  EXPECT_NE(errorOf([&] { module().kernel("lstsq")(view(a, {4, 2}), view(c, {3})); })
                .find("LinAlgError: Incompatible dimensions"),
            std::string::npos);
}

TEST(LinalgRankAndCond, KnownValues) {
  Matrix x = randomMatrix(5, 1, 110), y = randomMatrix(1, 4, 111);
  Matrix rank1 = multiply(x, y, 5, 1, 4);
  EXPECT_EQ(module().kernel("matrix_rank")(view(rank1, {5, 4})).asInt(), 1);
  Matrix full = randomMatrix(4, 6, 112);
  EXPECT_EQ(module().kernel("matrix_rank")(view(full, {4, 6})).asInt(), 4);
  Matrix zero(6, 0.0);
  EXPECT_EQ(module().kernel("matrix_rank")(view(zero, {2, 3})).asInt(), 0);
  // 1-d: whether any element is non-zero.
  EXPECT_EQ(module().kernel("matrix_rank")(view(zero, {6})).asInt(), 0);
  EXPECT_EQ(module().kernel("matrix_rank")(view(x, {5})).asInt(), 1);
  // tol: singular values of diag(1, 1e-3) above 1e-2: one.
  Matrix d = {1, 0, 0, 1e-3};
  EXPECT_EQ(module().kernel("matrix_rank_tol")(view(d, {2, 2}), 1e-2).asInt(), 1);
  EXPECT_EQ(module().kernel("matrix_rank")(view(d, {2, 2})).asInt(), 2);
  // A stack: one rank per matrix.
  Matrix stack = {1, 2, 2, 4, 1, 0, 0, 1};
  EXPECT_EQ(valuesOf<int64_t>(module().kernel("matrix_rank")(view(stack, {2, 2, 2})), {2}),
            (std::vector<int64_t>{1, 2}));
  // cond: the ratio of the extreme singular values.
  Matrix diag = {1, 0, 0, 0, -10, 0, 0, 0, 100};
  EXPECT_NEAR(module().kernel("cond")(view(diag, {3, 3})).asDouble(), 100, 1e-12);
  Matrix q = rotations(4, 113);
  EXPECT_NEAR(module().kernel("cond")(view(q, {4, 4})).asDouble(), 1, 1e-12);
  EXPECT_EQ(module().kernel("cond")(view(zero, {2, 3})).asDouble(),
            std::numeric_limits<double>::infinity());
  EXPECT_NE(errorOf([&] { module().kernel("cond")(view(zero, {0, 3})); })
                .find("LinAlgError: cond is not defined on empty arrays"),
            std::string::npos);
}

TEST(LinalgHelpers, DiagKronVdot) {
  // np.diag of a vector: n + |k| square, v at [i + max(0, -k), i + max(0, k)].
  std::vector<int32_t> v = {4, -5, 6};
  for (int64_t k : {-2, 0, 1, 3}) {
    SCOPED_TRACE(k);
    int64_t side = 3 + std::abs(k);
    std::vector<int32_t> want(static_cast<size_t>(side * side), 0);
    for (int64_t i = 0; i < 3; ++i)
      want[static_cast<size_t>((i + std::max<int64_t>(0, -k)) * side + i +
                               std::max<int64_t>(0, k))] = v[static_cast<size_t>(i)];
    EXPECT_EQ(valuesOf<int32_t>(module().kernel("diag")(stn::ArrayView::of(v.data(), {3}), k),
                                {side, side}),
              want);
  }
  // ... and of a (3, 4) matrix: a[i, i + k], empty past the corner.
  Matrix m = randomMatrix(3, 4, 120);
  for (int64_t k : {-3, -1, 0, 2, 4}) {
    SCOPED_TRACE(k);
    Matrix want;
    for (int64_t i = 0; i < 3; ++i)
      if (i + k >= 0 && i + k < 4)
        want.push_back(el(m, 4, i, i + k));
    auto n = static_cast<int64_t>(want.size());
    EXPECT_EQ(valuesOf<double>(module().kernel("diag")(view(m, {3, 4}), k), {n}), want);
    stn::Value both = module().kernel("diagonal")(view(m, {3, 4}), k);
    EXPECT_EQ(valuesOf<double>(both[0], {n}), want);
    EXPECT_EQ(valuesOf<double>(both[1], {n}), want);
  }
  // np.diagflat flattens first.
  std::vector<uint8_t> flags = {1, 0, 1, 1};
  stn::ArrayView F(flags.data(), stn::DType::Bool, {2, 2}, {2, 1});
  std::vector<uint8_t> fd = valuesOf<uint8_t>(module().kernel("diagflat")(F, int64_t{-1}), {5, 5});
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 5; ++j)
      EXPECT_EQ(fd[static_cast<size_t>(i * 5 + j)],
                i == j + 1 ? flags[static_cast<size_t>(j)] : 0);
  // np.kron: blocks a[i, j] * b; a 1-d b counts as (1, n).
  std::vector<int64_t> a = {1, 2, 3, 4, 5, 6}, b = {0, 1, 10, 100};
  std::vector<int64_t> k22 = valuesOf<int64_t>(
      module().kernel("kron")(stn::ArrayView::of(a.data(), {2, 3}),
                              stn::ArrayView::of(b.data(), {2, 2})),
      {4, 6});
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 6; ++j)
      EXPECT_EQ(k22[static_cast<size_t>(i * 6 + j)],
                a[static_cast<size_t>(i / 2 * 3 + j / 2)] *
                    b[static_cast<size_t>(i % 2 * 2 + j % 2)]);
  std::vector<double> half = {0.5, -1};
  std::vector<double> k21 = valuesOf<double>(
      module().kernel("kron")(stn::ArrayView::of(a.data(), {2, 3}),
                              stn::ArrayView::of(half.data(), {2})),
      {2, 6});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 6; ++j)
      EXPECT_EQ(k21[static_cast<size_t>(i * 6 + j)],
                double(a[static_cast<size_t>(i * 3 + j / 2)]) * half[static_cast<size_t>(j % 2)]);
  // np.vdot: flattened, the first operand conjugated.
  std::vector<cdouble> za = {{1, 2}, {3, 4}}, zb = {{5, 6}, {7, 8}};
  EXPECT_EQ(module().kernel("vdot")(stn::ArrayView::of(za.data(), {2}),
                                    stn::ArrayView::of(zb.data(), {2}))
                .asComplex(),
            cdouble(70, -8));
  std::vector<int32_t> ia = {1, 4, 5, 6}, ib = {4, 1, 2, 2};
  EXPECT_EQ(module().kernel("vdot")(stn::ArrayView::of(ia.data(), {2, 2}),
                                    stn::ArrayView::of(ib.data(), {4}))
                .asInt(),
            30);
  EXPECT_NE(errorOf([&] {
              module().kernel("vdot")(stn::ArrayView::of(ia.data(), {4}),
                                      stn::ArrayView::of(ib.data(), {3}));
            }).find("ValueError: vectors have different lengths"),
            std::string::npos);
}

/// Q T Q^T for the orthogonal Q of rotations(n, seed) and an upper
/// triangular T with diagonal `d` and entries `above` above it: a
/// non-symmetric matrix whose eigenvalues are `d`.
template <class T>
std::vector<T> similarTriangle(const std::vector<T> &d, const std::vector<T> &above,
                               uint64_t seed) {
  auto n = static_cast<int64_t>(d.size());
  Matrix q = rotations(n, seed);
  std::vector<T> t(static_cast<size_t>(n * n), T(0)), out(t.size(), T(0));
  size_t next = 0;
  for (int64_t i = 0; i < n; ++i) {
    t[static_cast<size_t>(i * n + i)] = d[static_cast<size_t>(i)];
    for (int64_t j = i + 1; j < n; ++j)
      t[static_cast<size_t>(i * n + j)] = above[next++ % above.size()];
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < n; ++k)
        for (int64_t l = 0; l < n; ++l)
          out[static_cast<size_t>(i * n + j)] +=
              el(q, n, i, k) * t[static_cast<size_t>(k * n + l)] * el(q, n, j, l);
  return out;
}

/// Checks A v_j = w_j v_j, |v_j| = 1 with its largest component real and
/// positive, and (where `want` is not empty) that the eigenvalues are
/// `want` in some order.
template <class T>
void checkEig(const std::vector<T> &a, const std::vector<T> &w, const std::vector<T> &v,
              std::vector<cdouble> want) {
  auto n = static_cast<int64_t>(w.size());
  for (int64_t j = 0; j < n; ++j) {
    double len = 0, big = 0;
    cdouble largest = 0;
    for (int64_t i = 0; i < n; ++i) {
      cdouble av = 0;
      for (int64_t k = 0; k < n; ++k)
        av += cdouble(a[static_cast<size_t>(i * n + k)]) *
              cdouble(v[static_cast<size_t>(k * n + j)]);
      cdouble x = v[static_cast<size_t>(i * n + j)];
      EXPECT_NEAR(std::abs(av - cdouble(w[static_cast<size_t>(j)]) * x), 0, 1e-11);
      len += std::norm(x);
      if (std::abs(x) > big) {
        big = std::abs(x);
        largest = x;
      }
    }
    EXPECT_NEAR(len, 1, 1e-12);
    EXPECT_NEAR(largest.imag(), 0, 1e-12);
    EXPECT_GT(largest.real(), 0);
  }
  if (want.empty())
    return;
  ASSERT_EQ(want.size(), w.size());
  for (const T &x : w) { // each found eigenvalue matches one wanted
    auto it = std::min_element(want.begin(), want.end(), [&](cdouble p, cdouble q) {
      return std::abs(p - cdouble(x)) < std::abs(q - cdouble(x));
    });
    ASSERT_NE(it, want.end());
    EXPECT_NEAR(std::abs(*it - cdouble(x)), 0, 1e-9);
    want.erase(it);
  }
}

TEST(LinalgEig, GeneralMatricesWithKnownEigenvalues) {
  // Real, non-symmetric, with real eigenvalues. (A repeated eigenvalue of
  // a defective matrix splits by about the square root of the rounding
  // error, into a complex pair, as LAPACK's does.)
  std::vector<double> d = {3, -1, 0.5, 2, 7, -2.5};
  Matrix a = similarTriangle(d, randomMatrix(1, 15, 130), 131);
  const auto n = static_cast<int64_t>(d.size());
  stn::Value r = module().kernel("eig")(view(a, {n, n}));
  Matrix w = valuesOf<double>(r[0], {n}), v = valuesOf<double>(r[1], {n, n});
  checkEig(a, w, v, std::vector<cdouble>(d.begin(), d.end()));
  expectNear(valuesOf<double>(module().kernel("eigvals")(view(a, {n, n})), {n}), w, 0,
             "eigvals");
  // A repeated eigenvalue of a diagonalizable (here symmetric) matrix has
  // independent eigenvectors.
  std::vector<double> twice = {3, 3, 1, -2};
  Matrix s = similarTriangle(twice, {0.0}, 133);
  stn::Value sr = module().kernel("eig")(view(s, {4, 4}));
  Matrix sv = valuesOf<double>(sr[1], {4, 4});
  checkEig(s, valuesOf<double>(sr[0], {4}), sv, {3, 3, 1, -2});
  double det = cofactorDet(sv, 4);
  EXPECT_GT(std::fabs(det), 0.5); // unit columns, nearly orthogonal
  // Complex: eigenvalues d on the diagonal of a complex triangle.
  std::vector<cdouble> zd = {{1, 2}, {-3, 0.5}, {0, -1}, {2, 2}, {1, -2}};
  std::vector<cdouble> above = {{0.5, -1}, {2, 0}, {-1, 1}, {0.25, 0.75}};
  std::vector<cdouble> z = similarTriangle(zd, above, 132);
  const auto m = static_cast<int64_t>(zd.size());
  stn::Value zr = module().kernel("eig")(stn::ArrayView::of(z.data(), {m, m}));
  checkEig(z, valuesOf<cdouble>(zr[0], {m}), valuesOf<cdouble>(zr[1], {m, m}), zd);
  // Random complex matrices of several sizes: A v = w v for each pair, and
  // the eigenvalues sum to the trace.
  for (int64_t k : {1, 2, 5, 12}) {
    SCOPED_TRACE(k);
    Matrix x = randomMatrix(k, k, 140 + static_cast<uint64_t>(k));
    std::vector<cdouble> zx(x.size());
    for (size_t i = 0; i < x.size(); ++i)
      zx[i] = cdouble(x[i], x[(i * 7 + 3) % x.size()]);
    stn::Value zr2 = module().kernel("eig")(stn::ArrayView::of(zx.data(), {k, k}));
    std::vector<cdouble> w2 = valuesOf<cdouble>(zr2[0], {k});
    checkEig(zx, w2, valuesOf<cdouble>(zr2[1], {k, k}), {});
    cdouble tr = 0, sum = 0;
    for (int64_t i = 0; i < k; ++i)
      tr += zx[static_cast<size_t>(i * k + i)];
    for (cdouble e : w2)
      sum += e;
    EXPECT_NEAR(std::abs(tr - sum), 0, 1e-12);
  }
  // A stack of two: one set per matrix.
  Matrix stack = {2, 0, 0, 3, 1, 1, 0, 5};
  Matrix ws = valuesOf<double>(module().kernel("eigvals")(view(stack, {2, 2, 2})), {2, 2});
  std::sort(ws.begin(), ws.begin() + 2);
  std::sort(ws.begin() + 2, ws.end());
  expectNear(ws, {2, 3, 1, 5}, 1e-14, "stack");
  // A rotation has eigenvalues +-i: a real matrix cannot hold them.
  Matrix rot = {0, -1, 1, 0};
  EXPECT_NE(errorOf([&] { module().kernel("eigvals")(view(rot, {2, 2})); })
                .find("ValueError: eig() argument must not cause a domain change"),
            std::string::npos);
  std::vector<cdouble> zrot = {0, -1, 1, 0};
  std::vector<cdouble> wr =
      valuesOf<cdouble>(module().kernel("eigvals")(stn::ArrayView::of(zrot.data(), {2, 2})), {2});
  EXPECT_NEAR(std::abs(wr[0] * wr[1] - cdouble(1)), 0, 1e-14); // i * -i
  EXPECT_NEAR(std::abs(wr[0] + wr[1]), 0, 1e-14);
}

} // namespace

stn::Module &stn::test::linalgKernels() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "linalg.stn");
  return m;
}
