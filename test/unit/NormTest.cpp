//===- NormTest.cpp - np.linalg.norm, cond(p) and complex np.linalg --------===//
//
// np.linalg.norm's vector norms (every ord, along an axis, keepdims) against
// loops written here; its matrix norms (1, -1, inf, -inf, "fro" by loops;
// 2, -2, "nuc" from matrices built with known singular values), over axis
// pairs of stacks; cond(x, p) against norm(x, p) norm(inv(x), p) with the
// inverse written out; and the complex versions of eigh, eigvalsh, svd, qr,
// pinv, lstsq, matrix_rank and cond, by their defining identities (A v = v w,
// U S V^H = A, Q R = A, the Penrose conditions, the normal equations) on
// matrices built here from unitary factors and known values.
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
#include <limits>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::multiply;
using stn::test::randomValues;
using stn::test::valuesOf;
using cdouble = std::complex<double>;
using CMatrix = std::vector<cdouble>; // row-major

const double Inf = std::numeric_limits<double>::infinity();

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def norm(x, ord):
    return np.linalg.norm(x, ord)

@njit
def norm_default(x):
    return np.linalg.norm(x)

@njit
def norm_fro(x):
    return np.linalg.norm(x, "fro")

@njit
def norm_nuc(x):
    return np.linalg.norm(x, "nuc")

@njit
def norm_rows(x, ord):
    return np.linalg.norm(x, ord, axis=1)

@njit
def norm_columns_keep(x):
    return np.linalg.norm(x, axis=0, keepdims=True)

@njit
def norm_last_inf(x):
    return np.linalg.norm(x, np.inf, axis=-1)

@njit
def norm_all_keep(x):
    return np.linalg.norm(x, keepdims=True)

@njit
def norm_matrices(x, ord):
    return np.linalg.norm(x, ord, axis=(2, 0))

@njit
def norm_matrices_nuc(x):
    return np.linalg.norm(x, "nuc", axis=(0, 1), keepdims=True)

@njit
def cond_p(x, p):
    return np.linalg.cond(x, p)

@njit
def cond_fro(x):
    return np.linalg.cond(x, "fro")

@njit
def cond_nuc(x):
    return np.linalg.cond(x, "nuc")
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "norm.stn");
  return m;
}

/// LinalgTest's kernels: eigh, svd, qr, pinv, lstsq, matrix_rank, cond, ...
stn::Module &linalg() { return stn::test::linalgKernels(); }

CMatrix randomComplex(int64_t rows, int64_t cols, uint64_t seed) {
  auto n = static_cast<size_t>(rows * cols);
  std::vector<double> re = randomValues(n, seed), im = randomValues(n, seed + 1000);
  CMatrix out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = cdouble(re[i], im[i]);
  return out;
}

/// The conjugate transpose of the r x c `x`.
CMatrix adjoint(const CMatrix &x, int64_t r, int64_t c) {
  CMatrix out(x.size());
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j)
      out[static_cast<size_t>(j * r + i)] = std::conj(x[static_cast<size_t>(i * c + j)]);
  return out;
}

CMatrix identity(int64_t n) { return stn::test::identityOf<cdouble>(n); }

/// A unitary n x n matrix: complex plane rotations [[c, s p], [-s p*, c]]
/// with unit phases p, then a diagonal of phases.
CMatrix unitary(int64_t n, uint64_t seed) {
  CMatrix q = identity(n);
  std::vector<double> t = randomValues(static_cast<size_t>(2 * n * n + n), seed);
  size_t next = 0;
  for (int64_t p = 0; p < n; ++p)
    for (int64_t r = p + 1; r < n; ++r) {
      double c = std::cos(3 * t[next]), s = std::sin(3 * t[next]);
      cdouble ph = std::polar(1.0, 3 * t[next + 1]);
      next += 2;
      for (int64_t i = 0; i < n; ++i) {
        cdouble x = q[static_cast<size_t>(i * n + p)], y = q[static_cast<size_t>(i * n + r)];
        q[static_cast<size_t>(i * n + p)] = c * x - s * std::conj(ph) * y;
        q[static_cast<size_t>(i * n + r)] = s * ph * x + c * y;
      }
    }
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < n; ++i)
      q[static_cast<size_t>(i * n + j)] *= std::polar(1.0, 3 * t[next + static_cast<size_t>(j)]);
  return q;
}

/// U1 diag(s) U2^H (m x n, s of length min(m, n)).
CMatrix withSingularValues(const std::vector<double> &s, int64_t m, int64_t n, uint64_t seed) {
  CMatrix u1 = unitary(m, seed), u2 = unitary(n, seed + 1);
  CMatrix us(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (size_t j = 0; j < s.size(); ++j)
      us[static_cast<size_t>(i * n) + j] = u1[static_cast<size_t>(i * m) + j] * s[j];
  return multiply(us, adjoint(u2, n, n), m, n, n);
}

double maxDiff(const CMatrix &x, const CMatrix &y) {
  EXPECT_EQ(x.size(), y.size());
  double d = 0;
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i)
    d = std::max(d, std::abs(x[i] - y[i]));
  return d;
}

stn::ArrayView view(CMatrix &a, std::vector<int64_t> shape) {
  return stn::ArrayView::of(a.data(), shape);
}
stn::ArrayView view(std::vector<double> &a, std::vector<int64_t> shape) {
  return stn::ArrayView::of(a.data(), shape);
}

/// NumPy's vector norm of `x` of order p, written out.
double vectorNorm(const std::vector<double> &x, double p) {
  double out = 0;
  if (std::isinf(p)) {
    out = std::fabs(x[0]);
    for (double v : x)
      out = p > 0 ? std::max(out, std::fabs(v)) : std::min(out, std::fabs(v));
    return out;
  }
  for (double v : x)
    out += p == 0 ? (v != 0) : std::pow(std::fabs(v), p);
  return p == 0 ? out : std::pow(out, 1 / p);
}

/// The largest (p > 0) or smallest column (|p| = 1) or row (|p| = inf) sum
/// of magnitudes of the r x c `x`.
double sumNorm(const CMatrix &x, int64_t r, int64_t c, double p) {
  bool columns = std::fabs(p) == 1;
  std::vector<double> sums(static_cast<size_t>(columns ? c : r), 0.0);
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j)
      sums[static_cast<size_t>(columns ? j : i)] += std::abs(x[static_cast<size_t>(i * c + j)]);
  return p > 0 ? *std::max_element(sums.begin(), sums.end())
               : *std::min_element(sums.begin(), sums.end());
}

double frobenius(const CMatrix &x) {
  double sum = 0;
  for (cdouble v : x)
    sum += std::norm(v);
  return std::sqrt(sum);
}

TEST(NormVector, EveryOrder) {
  std::vector<double> x = {3, -4, 0, 12, -0.5};
  for (double p : {Inf, -Inf, 0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -2.5}) {
    SCOPED_TRACE(p);
    EXPECT_NEAR(module().kernel("norm")(view(x, {5}), p).asDouble(), vectorNorm(x, p), 1e-13);
  }
  EXPECT_NEAR(module().kernel("norm")(view(x, {5}), 2.0).asDouble(), std::sqrt(169.25), 1e-13);
  // An integer ord, and integer elements (float64 results).
  std::vector<int32_t> xi = {1, -2, 2};
  EXPECT_EQ(module().kernel("norm")(stn::ArrayView::of(xi.data(), {3}), 1).asDouble(), 5);
  EXPECT_EQ(module().kernel("norm_default")(stn::ArrayView::of(xi.data(), {3})).asDouble(), 3);
  // float32 in, float32 out.
  std::vector<float> xf = {3, 4};
  stn::Value rf = module().kernel("norm")(stn::ArrayView::of(xf.data(), {2}), 2.0);
  EXPECT_EQ(rf.asDouble(), 5);
  // Complex elements: their magnitudes.
  CMatrix z = {{3, 4}, {0, -1}, {1, 0}};
  EXPECT_NEAR(module().kernel("norm")(view(z, {3}), 1.0).asDouble(), 7, 1e-14);
  EXPECT_NEAR(module().kernel("norm")(view(z, {3}), Inf).asDouble(), 5, 1e-14);
  EXPECT_NEAR(module().kernel("norm_default")(view(z, {3})).asDouble(), std::sqrt(27.0), 1e-14);
  // ord inf of no elements has no maximum, as NumPy's.
  EXPECT_NE(errorOf([&] { module().kernel("norm")(view(x, {0}), Inf); })
                .find("zero-size array to reduction operation maximum which has no identity"),
            std::string::npos);
}

TEST(NormVector, AlongAnAxis) {
  const int64_t r = 3, c = 4;
  std::vector<double> a = randomValues(static_cast<size_t>(r * c), 7);
  for (double p : {Inf, 1.0, 2.0, 0.0, 3.0}) {
    SCOPED_TRACE(p);
    std::vector<double> got = valuesOf<double>(module().kernel("norm_rows")(view(a, {r, c}), p),
                                               {r});
    for (int64_t i = 0; i < r; ++i) {
      std::vector<double> row(a.begin() + i * c, a.begin() + (i + 1) * c);
      EXPECT_NEAR(got[static_cast<size_t>(i)], vectorNorm(row, p), 1e-13);
    }
  }
  // axis=0 with keepdims: a (1, c) array of column 2-norms.
  std::vector<double> cols = valuesOf<double>(module().kernel("norm_columns_keep")(view(a, {r, c})),
                                              {1, c});
  for (int64_t j = 0; j < c; ++j) {
    std::vector<double> col;
    for (int64_t i = 0; i < r; ++i)
      col.push_back(a[static_cast<size_t>(i * c + j)]);
    EXPECT_NEAR(cols[static_cast<size_t>(j)], vectorNorm(col, 2), 1e-14);
  }
  // axis=-1 of a 3-d array: one norm per lane.
  std::vector<double> t = randomValues(24, 8);
  std::vector<double> lanes = valuesOf<double>(module().kernel("norm_last_inf")(view(t, {2, 3, 4})),
                                               {2, 3});
  for (size_t l = 0; l < 6; ++l)
    EXPECT_EQ(lanes[l], vectorNorm(std::vector<double>(t.begin() + 4 * l, t.begin() + 4 * l + 4),
                                   Inf));
  // keepdims without axis: every axis kept, of length 1.
  EXPECT_NEAR(valuesOf<double>(module().kernel("norm_all_keep")(view(t, {2, 3, 4})), {1, 1, 1})[0],
              vectorNorm(t, 2), 1e-14);
}

TEST(NormMatrix, EveryOrder) {
  const int64_t m = 4, n = 3;
  std::vector<double> s = {5, 2, 0.25};
  CMatrix a = withSingularValues(s, m, n, 20);
  EXPECT_NEAR(module().kernel("norm")(view(a, {m, n}), 2.0).asDouble(), 5, 1e-13);
  EXPECT_NEAR(module().kernel("norm")(view(a, {m, n}), -2.0).asDouble(), 0.25, 1e-13);
  EXPECT_NEAR(module().kernel("norm_nuc")(view(a, {m, n})).asDouble(), 7.25, 1e-13);
  EXPECT_NEAR(module().kernel("norm_fro")(view(a, {m, n})).asDouble(), frobenius(a), 1e-13);
  EXPECT_NEAR(module().kernel("norm_fro")(view(a, {m, n})).asDouble(),
              std::sqrt(25 + 4 + 0.0625), 1e-13);
  for (double p : {1.0, -1.0, Inf, -Inf}) {
    SCOPED_TRACE(p);
    EXPECT_NEAR(module().kernel("norm")(view(a, {m, n}), p).asDouble(), sumNorm(a, m, n, p),
                1e-13);
  }
  // Real matrices: the same orders on their real singular values.
  std::vector<double> d = {1, 0, 0, 0, -3, 0}; // 2 x 3, singular values 3 and 1
  EXPECT_NEAR(module().kernel("norm")(view(d, {2, 3}), 2.0).asDouble(), 3, 1e-14);
  EXPECT_NEAR(module().kernel("norm")(view(d, {2, 3}), -2.0).asDouble(), 1, 1e-14);
  EXPECT_NEAR(module().kernel("norm")(view(d, {2, 3}), -Inf).asDouble(), 1, 1e-14);
  // An order that is no matrix norm, known only when the kernel runs.
  EXPECT_NE(errorOf([&] { module().kernel("norm")(view(d, {2, 3}), 3.0); })
                .find("ValueError: Invalid norm order for matrices."),
            std::string::npos);
  // No columns: no column sum to take the maximum of.
  EXPECT_NE(errorOf([&] { module().kernel("norm")(view(d, {2, 0}), 1.0); })
                .find("zero-size array to reduction operation maximum"),
            std::string::npos);
  EXPECT_EQ(module().kernel("norm")(view(d, {0, 3}), 1.0).asDouble(), 0);
}

TEST(NormMatrix, OverAxisPairsOfStacks) {
  // x[i, j, k]: matrices over axes (2, 0), rows along k, columns along i,
  // one per j.
  const int64_t I = 3, J = 2, K = 4;
  CMatrix x = randomComplex(I, J * K, 30);
  auto matrixAt = [&](int64_t j) {
    CMatrix m(static_cast<size_t>(K * I));
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < I; ++i)
        m[static_cast<size_t>(k * I + i)] = x[static_cast<size_t>((i * J + j) * K + k)];
    return m;
  };
  for (double p : {1.0, -Inf}) {
    SCOPED_TRACE(p);
    std::vector<double> got =
        valuesOf<double>(module().kernel("norm_matrices")(view(x, {I, J, K}), p), {J});
    for (int64_t j = 0; j < J; ++j)
      EXPECT_NEAR(got[static_cast<size_t>(j)], sumNorm(matrixAt(j), K, I, p), 1e-13);
  }
  // "nuc" over axes (0, 1) with keepdims: (1, 1, K), each the sum of the
  // singular values of a matrix built with known ones.
  std::vector<std::vector<double>> known = {{3, 1}, {2, 2}, {0.5, 0}};
  CMatrix stack(static_cast<size_t>(3 * 2 * 3));
  for (size_t k = 0; k < 3; ++k) {
    CMatrix m = withSingularValues(known[k], 3, 2, 40 + k);
    for (size_t e = 0; e < 6; ++e)
      stack[e * 3 + k] = m[e];
  }
  std::vector<double> nuc =
      valuesOf<double>(module().kernel("norm_matrices_nuc")(view(stack, {3, 2, 3})), {1, 1, 3});
  for (size_t k = 0; k < 3; ++k)
    EXPECT_NEAR(nuc[k], known[k][0] + known[k][1], 1e-13);
}

TEST(NormCond, EveryOrder) {
  // a = [[1, 2], [3, 4]]; inv(a) = [[-2, 1], [1.5, -0.5]].
  CMatrix a = {1, 2, 3, 4}, inv = {-2, 1, 1.5, -0.5};
  for (double p : {1.0, -1.0, Inf, -Inf}) {
    SCOPED_TRACE(p);
    EXPECT_NEAR(module().kernel("cond_p")(view(a, {2, 2}), p).asDouble(),
                sumNorm(a, 2, 2, p) * sumNorm(inv, 2, 2, p), 1e-13);
  }
  EXPECT_NEAR(module().kernel("cond_fro")(view(a, {2, 2})).asDouble(),
              frobenius(a) * frobenius(inv), 1e-13);
  // 2 and -2: singular value ratios, from a matrix with known ones.
  CMatrix k = withSingularValues({8, 2, 0.5}, 3, 3, 50);
  EXPECT_NEAR(module().kernel("cond_p")(view(k, {3, 3}), 2.0).asDouble(), 16, 1e-12);
  EXPECT_NEAR(module().kernel("cond_p")(view(k, {3, 3}), -2.0).asDouble(), 1 / 16.0, 1e-14);
  EXPECT_NEAR(linalg().kernel("cond")(view(k, {3, 3})).asDouble(), 16, 1e-12);
  EXPECT_NEAR(module().kernel("cond_nuc")(view(k, {3, 3})).asDouble(), 10.5 * (1 / 8.0 + 0.5 + 2),
              1e-12);
  // Singular: infinity, as NumPy's. Not square: NumPy's LinAlgError.
  CMatrix singular = {1, 2, 2, 4};
  EXPECT_EQ(module().kernel("cond_p")(view(singular, {2, 2}), 1.0).asDouble(), Inf);
  CMatrix wide = {1, 2, 3, 4, 5, 6};
  EXPECT_NE(errorOf([&] { module().kernel("cond_p")(view(wide, {2, 3}), 1.0); })
                .find("LinAlgError: Last 2 dimensions of the array must be square"),
            std::string::npos);
  EXPECT_NEAR(module().kernel("cond_p")(view(wide, {2, 3}), 2.0).asDouble(),
              linalg().kernel("cond")(view(wide, {2, 3})).asDouble(), 0);
}

TEST(LinalgComplex, EighOfHermitianMatrices) {
  const int64_t n = 5;
  std::vector<double> d = {-2, 0.5, 0.5, 3, 10};
  CMatrix u = unitary(n, 60);
  CMatrix ud = u;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      ud[static_cast<size_t>(i * n + j)] *= d[static_cast<size_t>(j)];
  CMatrix a = multiply(ud, adjoint(u, n, n), n, n, n);
  stn::Value r = linalg().kernel("eigh")(view(a, {n, n}));
  std::vector<double> w = valuesOf<double>(r[0], {n});
  CMatrix v = valuesOf<cdouble>(r[1], {n, n});
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(w[static_cast<size_t>(i)], d[static_cast<size_t>(i)], 1e-13);
  CMatrix vw = v;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      vw[static_cast<size_t>(i * n + j)] *= w[static_cast<size_t>(j)];
  EXPECT_LT(maxDiff(multiply(a, v, n, n, n), vw), 1e-13) << "A V = V diag(w)";
  EXPECT_LT(maxDiff(multiply(adjoint(v, n, n), v, n, n, n), identity(n)), 1e-13) << "V^H V";
  // Only the UPLO triangle is read, and the diagonal's real parts.
  CMatrix lowerOnly = a, upperOnly = a;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (j > i)
        lowerOnly[static_cast<size_t>(i * n + j)] = cdouble(1e6, 1e6);
      if (j < i)
        upperOnly[static_cast<size_t>(i * n + j)] = cdouble(-1e6, 1e6);
      if (i == j)
        lowerOnly[static_cast<size_t>(i * n + i)] += cdouble(0, 5);
    }
  std::vector<double> wl =
      valuesOf<double>(linalg().kernel("eigvalsh")(view(lowerOnly, {n, n})), {n});
  std::vector<double> wu =
      valuesOf<double>(linalg().kernel("eigh_upper")(view(upperOnly, {n, n}))[0], {n});
  for (size_t i = 0; i < d.size(); ++i) {
    EXPECT_NEAR(wl[i], d[i], 1e-13);
    EXPECT_NEAR(wu[i], d[i], 1e-13);
  }
  // complex64 in: float32 eigenvalues, complex64 vectors.
  std::vector<std::complex<float>> f = {{2, 0}, {0, 1}, {0, -1}, {2, 0}};
  stn::Value fr = linalg().kernel("eigh")(stn::ArrayView::of(f.data(), {2, 2}));
  EXPECT_EQ(valuesOf<float>(fr[0], {2}), (std::vector<float>{1, 3}));
  EXPECT_EQ(fr[1].array().dtype(), stn::DType::Complex64);
}

/// Checks the complex SVD of the m x n `a`: U S V^H = A, unitary U and V^H,
/// the reduced factors and the values alone agreeing.
void checkSvd(CMatrix a, int64_t m, int64_t n) {
  SCOPED_TRACE(m * 10 + n);
  int64_t k = std::min(m, n);
  stn::Value r = linalg().kernel("svd")(view(a, {m, n}));
  CMatrix u = valuesOf<cdouble>(r[0], {m, m}), vh = valuesOf<cdouble>(r[2], {n, n});
  std::vector<double> s = valuesOf<double>(r[1], {k});
  EXPECT_TRUE(std::is_sorted(s.rbegin(), s.rend()));
  EXPECT_LT(maxDiff(multiply(adjoint(u, m, m), u, m, m, m), identity(m)), 1e-13) << "U^H U";
  EXPECT_LT(maxDiff(multiply(vh, adjoint(vh, n, n), n, n, n), identity(n)), 1e-13) << "Vh Vh^H";
  CMatrix us(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j)
      us[static_cast<size_t>(i * n + j)] =
          u[static_cast<size_t>(i * m + j)] * s[static_cast<size_t>(j)];
  EXPECT_LT(maxDiff(multiply(us, vh, m, n, n), a), 1e-13) << "U S Vh";
  stn::Value rr = linalg().kernel("svd_reduced")(view(a, {m, n}));
  CMatrix ur = valuesOf<cdouble>(rr[0], {m, k}), vr = valuesOf<cdouble>(rr[2], {k, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j)
      ur[static_cast<size_t>(i * k + j)] *= s[static_cast<size_t>(j)];
  EXPECT_LT(maxDiff(multiply(ur, vr, m, k, n), a), 1e-13) << "reduced";
  std::vector<double> alone =
      valuesOf<double>(linalg().kernel("singular_values")(view(a, {m, n})), {k});
  for (int64_t j = 0; j < k; ++j)
    EXPECT_NEAR(alone[static_cast<size_t>(j)], s[static_cast<size_t>(j)], 1e-13);
}

TEST(LinalgComplex, SvdReconstructsAndKnownValues) {
  uint64_t seed = 70;
  for (auto [m, n] : {std::pair<int64_t, int64_t>{5, 3}, {3, 5}, {4, 4}, {1, 3}})
    checkSvd(randomComplex(m, n, ++seed), m, n);
  std::vector<double> s = {6, 3, 3, 0};
  CMatrix a = withSingularValues(s, 6, 4, 80);
  checkSvd(a, 6, 4);
  std::vector<double> got =
      valuesOf<double>(linalg().kernel("singular_values")(view(a, {6, 4})), {4});
  for (size_t j = 0; j < s.size(); ++j)
    EXPECT_NEAR(got[j], s[j], 1e-13);
  EXPECT_EQ(linalg().kernel("matrix_rank")(view(a, {6, 4})).asInt(), 3);
  // The zero singular value comes out as a rounding error: cond is huge.
  EXPECT_GT(linalg().kernel("cond")(view(a, {6, 4})).asDouble(), 1e14);
  CMatrix b = withSingularValues({4, 0.5}, 2, 3, 82);
  EXPECT_NEAR(linalg().kernel("cond")(view(b, {2, 3})).asDouble(), 8, 1e-12);
  EXPECT_EQ(linalg().kernel("matrix_rank")(view(b, {2, 3})).asInt(), 2);
}

TEST(LinalgComplex, QrFactors) {
  uint64_t seed = 90;
  for (auto [m, n] : {std::pair<int64_t, int64_t>{5, 3}, {3, 5}, {4, 4}}) {
    SCOPED_TRACE(m * 10 + n);
    CMatrix a = randomComplex(m, n, ++seed);
    int64_t k = std::min(m, n);
    stn::Value r = linalg().kernel("qr")(view(a, {m, n}));
    CMatrix q = valuesOf<cdouble>(r[0], {m, k}), rr = valuesOf<cdouble>(r[1], {k, n});
    EXPECT_LT(maxDiff(multiply(q, rr, m, k, n), a), 1e-13) << "Q R";
    EXPECT_LT(maxDiff(multiply(adjoint(q, m, k), q, k, m, k), identity(k)), 1e-13) << "Q^H Q";
    for (int64_t i = 0; i < k; ++i) {
      // LAPACK's R: a real diagonal, of the sign opposite to the real part
      // of the column's first element (for the first column, -|a[:, 0]|).
      EXPECT_EQ(rr[static_cast<size_t>(i * n + i)].imag(), 0.0);
      for (int64_t j = 0; j < i; ++j)
        EXPECT_EQ(rr[static_cast<size_t>(i * n + j)], cdouble(0));
    }
    double col0 = 0;
    for (int64_t i = 0; i < m; ++i)
      col0 = std::hypot(col0, std::abs(a[static_cast<size_t>(i * n)]));
    EXPECT_NEAR(rr[0].real(), a[0].real() > 0 ? -col0 : col0, 1e-14);
    stn::Value full = linalg().kernel("qr_complete")(view(a, {m, n}));
    CMatrix qc = valuesOf<cdouble>(full[0], {m, m}), rc = valuesOf<cdouble>(full[1], {m, n});
    EXPECT_LT(maxDiff(multiply(qc, rc, m, m, n), a), 1e-13) << "complete Q R";
    EXPECT_LT(maxDiff(multiply(adjoint(qc, m, m), qc, m, m, m), identity(m)), 1e-13);
  }
}

TEST(LinalgComplex, PinvAndLstsq) {
  for (auto [m, n] : {std::pair<int64_t, int64_t>{5, 3}, {3, 5}}) {
    SCOPED_TRACE(m * 10 + n);
    CMatrix a = randomComplex(m, n, 100 + static_cast<uint64_t>(m));
    CMatrix p = valuesOf<cdouble>(linalg().kernel("pinv")(view(a, {m, n})), {n, m});
    CMatrix ap = multiply(a, p, m, n, m), pa = multiply(p, a, n, m, n);
    EXPECT_LT(maxDiff(multiply(ap, a, m, m, n), a), 1e-13) << "A A+ A";
    EXPECT_LT(maxDiff(multiply(pa, p, n, n, m), p), 1e-13) << "A+ A A+";
    EXPECT_LT(maxDiff(ap, adjoint(ap, m, m)), 1e-13) << "A A+ Hermitian";
    EXPECT_LT(maxDiff(pa, adjoint(pa, n, n)), 1e-13) << "A+ A Hermitian";
  }
  // Least squares: A^H (A x - b) = 0, the squared residual |A x - b|^2,
  // the rank and A's singular values.
  const int64_t m = 6, n = 3;
  std::vector<double> s = {4, 2, 1};
  CMatrix a = withSingularValues(s, m, n, 110), b = randomComplex(m, 1, 111);
  stn::Value r = linalg().kernel("lstsq")(view(a, {m, n}), view(b, {m}));
  CMatrix x = valuesOf<cdouble>(r[0], {n});
  CMatrix e = multiply(a, x, m, n, 1);
  double sq = 0;
  for (int64_t i = 0; i < m; ++i) {
    e[static_cast<size_t>(i)] -= b[static_cast<size_t>(i)];
    sq += std::norm(e[static_cast<size_t>(i)]);
  }
  CMatrix g = multiply(adjoint(a, m, n), e, n, m, 1);
  EXPECT_LT(maxDiff(g, CMatrix(static_cast<size_t>(n), 0.0)), 1e-13) << "normal equations";
  EXPECT_NEAR(valuesOf<double>(r[1], {1})[0], sq, 1e-13);
  EXPECT_EQ(r[2].asInt(), 3);
  std::vector<double> sv = valuesOf<double>(r[3], {n});
  for (size_t j = 0; j < s.size(); ++j)
    EXPECT_NEAR(sv[j], s[j], 1e-13);
  // A real a with a complex b: the work is complex.
  std::vector<double> line = {1, 1, 1, 2, 1, 3};
  CMatrix zb = {{1, 2}, {2, 4}, {3, 6}};
  stn::Value rl = linalg().kernel("lstsq")(view(line, {3, 2}), view(zb, {3}));
  CMatrix xl = valuesOf<cdouble>(rl[0], {2});
  EXPECT_LT(maxDiff(xl, {cdouble(0, 0), cdouble(1, 2)}), 1e-14);
}

} // namespace
