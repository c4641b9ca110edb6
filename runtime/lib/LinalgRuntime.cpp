//===- LinalgRuntime.cpp - What np.linalg's functions call ----------------===//
//
// Compiled kernels call these once per matrix of a stack, on C-ordered
// (row-major) float64 or complex128 copies the kernel made (MLIRGen's
// linalgCall); the addresses are int64, as _stn_sort's. Each returns a
// LinalgStatus the kernel turns into NumPy's LinAlgError.
//
//   _stn_linalg_det(a, n, cplx, out)              det, by LU (a is scratch)
//   _stn_linalg_slogdet(a, n, cplx, sign, logdet) sign and log|det|
//   _stn_linalg_solve(a, n, b, k, cplx)           b (n x k) := a^-1 b
//   _stn_linalg_inv(a, n, cplx, out)              a^-1
//   _stn_linalg_cholesky(a, n, cplx, upper, out)  L (a = L L^H) or U = L^H
//   _stn_linalg_matrix_power(a, n, p, kind, out)  a^p (kind: LinalgPowerKind)
//   _stn_linalg_eig(a, n, cplx, w, v)             general: w, v (v may be 0)
//   _stn_linalg_eigh(a, n, cplx, upper, w, v)     Hermitian: ascending w, v
//   _stn_linalg_svd(a, m, n, cplx, full, u, s, vt) u, vt may be 0
//   _stn_linalg_qr(a, m, n, cplx, mode, q, r)     q may be 0 (mode "r")
//   _stn_linalg_pinv(a, m, n, cplx, rcond, out)
//   _stn_linalg_lstsq(a, m, n, b, k, cplx, rcond, x, res, rank, s)
//   _stn_linalg_rank(a, m, n, cplx, tol, vector)  tol < 0: NumPy's default
//   _stn_linalg_cond(a, m, n, cplx, kind, p, out)  p: a NormOrder and number
//   _stn_linalg_matrix_norm(a, m, n, cplx, kind, p, out)
//
// The algorithms are the textbook ones, written for matrices the size a
// kernel holds: LU with partial pivoting (singular only where a pivot is
// exactly zero, as LAPACK's getrf), Cholesky by columns, the shifted QR
// algorithm on a Hessenberg form for general eigenproblems, Householder QR with
// LAPACK's reflector convention (so R's signs are NumPy's), the cyclic
// Jacobi method for Hermitian eigenproblems and the one-sided (Hestenes)
// Jacobi SVD, with complex rotations where the work is complex; the
// singular vectors of zero singular values and the extra columns of
// full_matrices=True come from a Householder QR of the others. Eigen- and
// singular vectors are unique only up to sign (a unit phase for complex
// ones) and within repeated values, as LAPACK's are.
//
//===----------------------------------------------------------------------===//

#include "KernelRuntime.h"

#include "stn/Compiler/Sema.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#define STN_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using stn::LinalgPowerKind;
using stn::LinalgStatus;
using stn::NormOrder;
using cdouble = std::complex<double>;

constexpr double Eps = std::numeric_limits<double>::epsilon();

template <class T> T *at(int64_t address) { return reinterpret_cast<T *>(address); }

double conjOf(double x) { return x; }
cdouble conjOf(cdouble x) { return std::conj(x); }
double magnitude(double x) { return std::fabs(x); }
double magnitude(cdouble x) { return std::abs(x); }

/// Runs `f.operator()<T>()` with T the work type of `cplx`.
template <class F> int32_t withWork(int32_t cplx, F &&f) {
  return cplx ? f.template operator()<cdouble>() : f.template operator()<double>();
}

/// LU factorization with partial pivoting of the n x n row-major `a`, in
/// place: L (unit diagonal) below, U on and above. `pivot[k]` is the row
/// swapped with row k; `swaps` counts the swaps. Returns false where a
/// pivot is zero (the factorization goes on past it, as getrf's).
template <class T> bool luFactor(T *a, int64_t n, std::vector<int64_t> &pivot, int64_t &swaps) {
  pivot.assign(n, 0);
  swaps = 0;
  bool regular = true;
  for (int64_t k = 0; k < n; ++k) {
    int64_t p = k;
    double best = magnitude(a[k * n + k]);
    for (int64_t i = k + 1; i < n; ++i)
      if (double m = magnitude(a[i * n + k]); m > best) {
        best = m;
        p = i;
      }
    pivot[k] = p;
    if (p != k) {
      std::swap_ranges(a + k * n, a + k * n + n, a + p * n);
      ++swaps;
    }
    T d = a[k * n + k];
    if (d == T(0)) {
      regular = false;
      continue;
    }
    for (int64_t i = k + 1; i < n; ++i) {
      T l = a[i * n + k] / d;
      a[i * n + k] = l;
      if (l == T(0))
        continue;
      for (int64_t j = k + 1; j < n; ++j)
        a[i * n + j] -= l * a[k * n + j];
    }
  }
  return regular;
}

/// Solves with a factored `lu` for the n x k row-major `b`, in place.
template <class T>
void luSolve(const T *lu, int64_t n, const std::vector<int64_t> &pivot, T *b, int64_t k) {
  for (int64_t r = 0; r < n; ++r)
    if (pivot[r] != r)
      std::swap_ranges(b + r * k, b + r * k + k, b + pivot[r] * k);
  for (int64_t i = 0; i < n; ++i) // L y = P b
    for (int64_t j = 0; j < i; ++j)
      if (T l = lu[i * n + j]; l != T(0))
        for (int64_t c = 0; c < k; ++c)
          b[i * k + c] -= l * b[j * k + c];
  for (int64_t i = n - 1; i >= 0; --i) { // U x = y
    for (int64_t j = i + 1; j < n; ++j)
      if (T u = lu[i * n + j]; u != T(0))
        for (int64_t c = 0; c < k; ++c)
          b[i * k + c] -= u * b[j * k + c];
    for (int64_t c = 0; c < k; ++c)
      b[i * k + c] /= lu[i * n + i];
  }
}

template <class T> void identity(T *out, int64_t n) {
  std::fill(out, out + n * n, T(0));
  for (int64_t i = 0; i < n; ++i)
    out[i * n + i] = T(1);
}

/// out = x y for n x n row-major matrices (out may not alias them).
template <class T> void multiply(const T *x, const T *y, T *out, int64_t n) {
  std::fill(out, out + n * n, T(0));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t l = 0; l < n; ++l) {
      T xil = x[i * n + l];
      for (int64_t j = 0; j < n; ++j)
        out[i * n + j] += xil * y[l * n + j];
    }
}

/// Integer products wrap, as NumPy's.
void multiplyWrapping(const int64_t *x, const int64_t *y, int64_t *out, int64_t n, bool logical) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      uint64_t sum = 0;
      bool any = false;
      for (int64_t l = 0; l < n; ++l) {
        sum += static_cast<uint64_t>(x[i * n + l]) * static_cast<uint64_t>(y[l * n + j]);
        any = any || (x[i * n + l] != 0 && y[l * n + j] != 0);
      }
      out[i * n + j] = logical ? int64_t(any) : static_cast<int64_t>(sum);
    }
}

template <class T> int32_t matrixPower(T *a, int64_t n, int64_t p, T *out, bool logical) {
  std::vector<T> base(a, a + n * n), tmp(n * n);
  if (p < 0) {
    if constexpr (std::is_same_v<T, int64_t>) {
      return LinalgStatus::NegativeIntegerPower;
    } else {
      std::vector<int64_t> pivot;
      int64_t swaps;
      if (!luFactor(a, n, pivot, swaps))
        return LinalgStatus::Singular;
      identity(base.data(), n);
      luSolve(a, n, pivot, base.data(), n);
      p = -p;
    }
  }
  identity(out, n);
  auto mul = [&](const T *x, const T *y, T *to) {
    if constexpr (std::is_same_v<T, int64_t>)
      multiplyWrapping(x, y, to, n, logical);
    else
      multiply(x, y, to, n);
  };
  // Binary powers, as NumPy's matrix_power: out = out * base for each set
  // bit, base squared between.
  bool first = true;
  while (p > 0) {
    if (p & 1) {
      if (first)
        std::copy(base.begin(), base.end(), out);
      else {
        mul(out, base.data(), tmp.data());
        std::copy(tmp.begin(), tmp.end(), out);
      }
      first = false;
    }
    p >>= 1;
    if (p > 0) {
      mul(base.data(), base.data(), tmp.data());
      base.swap(tmp);
    }
  }
  return LinalgStatus::Ok;
}

//===----------------------------------------------------------------------===//
// Orthogonal (unitary) factorizations
//===----------------------------------------------------------------------===//

double realOf(double x) { return x; }
double realOf(cdouble x) { return x.real(); }

/// Applies H = I - tau v v^H (v[j] = 1, v[i] for i > j; rows below j) to
/// column `c` of the m-row row-major `x` whose rows are `stride` apart.
template <class T>
void reflectColumn(T *x, int64_t stride, int64_t m, int64_t j, const T *v, T tau, int64_t c) {
  T dot = x[j * stride + c];
  for (int64_t i = j + 1; i < m; ++i)
    dot += conjOf(v[i]) * x[i * stride + c];
  dot *= tau;
  x[j * stride + c] -= dot;
  for (int64_t i = j + 1; i < m; ++i)
    x[i * stride + c] -= dot * v[i];
}

/// Householder QR of the m x n row-major `a` with k = min(m, n) reflectors
/// (LAPACK's geqrf convention: H = I - tau v v^H, v[0] = 1, the diagonal of
/// R real, no reflection where the column below the diagonal is zero and
/// its diagonal element real). `r` gets the m x n triangle; `q`, where not
/// null, the first `qCols` columns of Q = H_1 ... H_k (m x qCols row-major).
template <class T>
void householderQR(const T *a, int64_t m, int64_t n, T *r, T *q, int64_t qCols) {
  int64_t k = std::min(m, n);
  std::copy(a, a + m * n, r);
  std::vector<T> v(static_cast<size_t>(m) * std::max<int64_t>(k, 1)), tau(k);
  for (int64_t j = 0; j < k; ++j) {
    T alpha = r[j * n + j];
    double tail = 0;
    for (int64_t i = j + 1; i < m; ++i)
      tail = std::hypot(tail, magnitude(r[i * n + j]));
    T *vj = &v[j * m];
    if (tail == 0 && std::imag(alpha) == 0) {
      tau[j] = 0;
      continue;
    }
    double beta = -std::copysign(std::hypot(magnitude(alpha), tail), realOf(alpha));
    tau[j] = (beta - alpha) / beta;
    vj[j] = 1;
    for (int64_t i = j + 1; i < m; ++i)
      vj[i] = r[i * n + j] / (alpha - beta);
    for (int64_t c = j + 1; c < n; ++c) // R = H_j^H ...
      reflectColumn(r, n, m, j, vj, conjOf(tau[j]), c);
    r[j * n + j] = beta;
    for (int64_t i = j + 1; i < m; ++i)
      r[i * n + j] = 0;
  }
  if (!q)
    return;
  std::fill(q, q + m * qCols, T(0));
  for (int64_t i = 0; i < std::min(m, qCols); ++i)
    q[i * qCols + i] = 1;
  for (int64_t j = k - 1; j >= 0; --j) {
    if (tau[j] == T(0))
      continue;
    for (int64_t c = 0; c < qCols; ++c)
      reflectColumn(q, qCols, m, j, &v[j * m], tau[j], c);
  }
}

/// Fills columns `have`..`want`-1 of the m x `stride` row-major `u` (its
/// first `have` columns orthonormal) with an orthonormal basis of their
/// complement, from a complete Householder QR of those columns.
template <class T> void completeBasis(T *u, int64_t m, int64_t stride, int64_t have, int64_t want) {
  if (want <= have)
    return;
  std::vector<T> cols(m * have), r(m * have), q(m * m);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < have; ++j)
      cols[i * have + j] = u[i * stride + j];
  householderQR(cols.data(), m, have, r.data(), q.data(), m);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = have; j < want; ++j)
      u[i * stride + j] = q[i * m + j];
}

/// The Jacobi rotation that zeroes the off-diagonal element g (of modulus
/// `mag` > 0) of the Hermitian 2 x 2 [[x, g], [conj(g), y]]: U = [[c, s],
/// [-s p', c p']] with p' = conj(g / mag). `rotate(u, w)` applies it to a
/// pair of columns: u := c u - s p' w, w := s u + c p' w.
template <class T> struct JacobiRotation {
  double c, s;
  T pc; // p'
  JacobiRotation(double x, double y, T g, double mag) : pc(conjOf(g / mag)) {
    double theta = (y - x) / (2 * mag);
    double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::hypot(1.0, theta));
    c = 1 / std::hypot(1.0, t);
    s = c * t;
  }
  void rotate(T &u, T &w) const {
    T x = u, y = pc * w;
    u = c * x - s * y;
    w = s * x + c * y;
  }
};

/// The cyclic Jacobi method on the Hermitian n x n row-major `s` (both
/// triangles), in place: the eigenvalues end on its diagonal and the
/// eigenvectors in the columns of `v` (n x n, row-major). False where 100
/// sweeps do not converge.
template <class T> bool jacobiEigen(T *s, T *v, int64_t n) {
  identity(v, n);
  for (int sweep = 0; sweep < 100; ++sweep) {
    bool rotated = false;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        T apq = s[p * n + q];
        double mag = magnitude(apq), app = realOf(s[p * n + p]), aqq = realOf(s[q * n + q]);
        if (!(mag > Eps * std::sqrt(std::fabs(app * aqq))) ||
            mag < std::numeric_limits<double>::min()) {
          s[p * n + q] = std::isnan(mag) ? apq : T(0);
          s[q * n + p] = conjOf(s[p * n + q]);
          continue;
        }
        rotated = true;
        JacobiRotation<T> g(app, aqq, apq, mag);
        for (int64_t k = 0; k < n; ++k) // A U: columns p, q
          g.rotate(s[k * n + p], s[k * n + q]);
        for (int64_t k = 0; k < n; ++k) { // U^H A: rows p, q (conjugated)
          T pk = conjOf(s[p * n + k]), qk = conjOf(s[q * n + k]);
          g.rotate(pk, qk);
          s[p * n + k] = conjOf(pk);
          s[q * n + k] = conjOf(qk);
        }
        s[p * n + q] = s[q * n + p] = 0;
        s[p * n + p] = realOf(s[p * n + p]);
        s[q * n + q] = realOf(s[q * n + q]);
        for (int64_t k = 0; k < n; ++k)
          g.rotate(v[k * n + p], v[k * n + q]);
      }
    if (!rotated)
      return true;
  }
  return false;
}

/// The SVD of the m x n row-major `a` with m >= n by one-sided Jacobi:
/// `s` (n, descending), `u` (m x uCols, its first n columns the left
/// singular vectors; the rest, and those of zero singular values, complete
/// the basis) and `v` (n x n, columns the right singular vectors). Returns
/// false where 100 sweeps do not converge.
template <class T>
bool jacobiSVD(const T *a, int64_t m, int64_t n, double *s, T *u, int64_t uCols, T *v) {
  // Column j of the work matrix is w[j * m ...] (contiguous); vc likewise.
  std::vector<T> w(m * n), vc(n * n, T(0));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      w[j * m + i] = a[i * n + j];
  for (int64_t j = 0; j < n; ++j)
    vc[j * n + j] = 1;
  bool converged = false;
  for (int sweep = 0; sweep < 100 && !converged; ++sweep) {
    converged = true;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        T *wp = &w[p * m], *wq = &w[q * m];
        double alpha = 0, beta = 0;
        T gamma = 0; // (W^H W)[p, q]
        for (int64_t i = 0; i < m; ++i) {
          alpha += std::norm(wp[i]);
          beta += std::norm(wq[i]);
          gamma += conjOf(wp[i]) * wq[i];
        }
        double mag = magnitude(gamma);
        if (!(mag > Eps * std::sqrt(alpha * beta)) || mag < std::numeric_limits<double>::min())
          continue;
        converged = false;
        JacobiRotation<T> g(alpha, beta, gamma, mag);
        for (int64_t i = 0; i < m; ++i)
          g.rotate(wp[i], wq[i]);
        T *vp = &vc[p * n], *vq = &vc[q * n];
        for (int64_t i = 0; i < n; ++i)
          g.rotate(vp[i], vq[i]);
      }
  }
  std::vector<double> norm(n);
  for (int64_t j = 0; j < n; ++j) {
    double sum = 0;
    for (int64_t i = 0; i < m; ++i)
      sum += std::norm(w[j * m + i]);
    norm[j] = std::sqrt(sum);
  }
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t x, int64_t y) { return norm[x] > norm[y]; });
  int64_t nonzero = 0;
  for (int64_t r = 0; r < n; ++r) {
    int64_t j = order[r];
    s[r] = norm[j];
    if (norm[j] > 0)
      ++nonzero;
    for (int64_t i = 0; i < n; ++i)
      v[i * n + r] = vc[j * n + i];
    if (u)
      for (int64_t i = 0; i < m; ++i)
        u[i * uCols + r] = norm[j] > 0 ? w[j * m + i] / norm[j] : T(0);
  }
  if (u)
    completeBasis(u, m, uCols, nonzero, uCols);
  return converged;
}

/// The SVD a = U S V^H of any m x n row-major `a`: s (k = min(m, n)), and
/// where `u` is not null u (m x uCols) and vt = V^H (vtRows x n), uCols and
/// vtRows being m and n for full matrices, else k.
template <class T>
bool svdAny(const T *a, int64_t m, int64_t n, bool full, T *u, double *s, T *vt) {
  int64_t k = std::min(m, n);
  if (k == 0) {
    if (u && full) { // (m x 0) and (0 x n) are empty; full ones are identities
      identity(u, m);
      identity(vt, n);
    }
    return true;
  }
  if (m >= n) {
    std::vector<T> v(n * n), uw(u ? m * (full ? m : n) : 0);
    bool ok = jacobiSVD(a, m, n, s, u ? uw.data() : nullptr, full ? m : n, v.data());
    if (u) {
      std::copy(uw.begin(), uw.end(), u);
      for (int64_t i = 0; i < n; ++i) // vt = v^H (n x n either way)
        for (int64_t j = 0; j < n; ++j)
          vt[i * n + j] = conjOf(v[j * n + i]);
    }
    return ok;
  }
  // m < n: a^H = U' S V'^H, so a = V' S U'^H.
  std::vector<T> ah(n * m);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      ah[j * m + i] = conjOf(a[i * n + j]);
  int64_t rows = full ? n : m;
  std::vector<T> v(m * m), uw(u ? n * rows : 0);
  bool ok = jacobiSVD(ah.data(), n, m, s, u ? uw.data() : nullptr, rows, v.data());
  if (u) {
    std::copy(v.begin(), v.end(), u); // m x m
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < n; ++j)
        vt[i * n + j] = conjOf(uw[j * rows + i]);
  }
  return ok;
}

/// a+ = V S+ U^H (n x m) of the m x n `a`, from its SVD: singular values at
/// most `rcond` times the largest count as zero.
template <class T> bool pseudoInverse(const T *a, int64_t m, int64_t n, double rcond, T *out) {
  int64_t k = std::min(m, n);
  std::vector<T> u(m * k), vt(k * n);
  std::vector<double> s(k);
  bool ok = svdAny(a, m, n, false, u.data(), s.data(), vt.data());
  double cutoff = k ? rcond * s[0] : 0;
  std::fill(out, out + n * m, T(0));
  for (int64_t r = 0; r < k; ++r) {
    if (!(s[r] > cutoff))
      continue;
    double inv = 1 / s[r];
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j)
        out[i * m + j] += conjOf(vt[r * n + i]) * inv * conjOf(u[j * k + r]);
  }
  return ok;
}

/// The singular values (descending) of the m x n `a`, into `s`; false
/// where the SVD did not converge.
template <class T> bool singularValues(const T *a, int64_t m, int64_t n, std::vector<double> &s) {
  s.resize(static_cast<size_t>(std::min(m, n)));
  return svdAny<T>(a, m, n, false, nullptr, s.data(), nullptr);
}

//===----------------------------------------------------------------------===//
// General eigenproblems
//===----------------------------------------------------------------------===//

/// Eigenvalues `w` and, where `v` is not null, unit right eigenvectors (the
/// columns of the n x n row-major `v`, each with its largest component real
/// and positive) of the general complex n x n `a`: a Householder reduction
/// to Hessenberg form, the shifted QR algorithm (Wilkinson shifts, Givens
/// rotations) to the Schur form T = Q^H A Q, and the eigenvectors of T by
/// back substitution, mapped back by Q. False where it does not converge.
bool eigGeneral(const cdouble *a, int64_t n, cdouble *w, cdouble *v) {
  std::vector<cdouble> h(a, a + n * n), q;
  bool vectors = v != nullptr;
  if (vectors) {
    q.assign(n * n, 0.0);
    for (int64_t i = 0; i < n; ++i)
      q[i * n + i] = 1;
  }
  auto H = [&](int64_t i, int64_t j) -> cdouble & { return h[i * n + j]; };
  double norm = 0;
  for (const cdouble &x : h)
    norm = std::hypot(norm, std::abs(x));
  // Hessenberg: reflectors P = I - 2 u u^H / (u^H u) on rows and columns
  // k + 1 ..., H := P H P, Q := Q P.
  std::vector<cdouble> u(n);
  for (int64_t k = 0; k + 2 < n; ++k) {
    double tail = 0;
    for (int64_t i = k + 2; i < n; ++i)
      tail = std::hypot(tail, std::abs(H(i, k)));
    if (tail == 0)
      continue;
    cdouble alpha = H(k + 1, k);
    double xnorm = std::hypot(std::abs(alpha), tail);
    cdouble phase = std::abs(alpha) == 0 ? cdouble(1) : alpha / std::abs(alpha);
    double uu = 0;
    for (int64_t i = k + 1; i < n; ++i) {
      u[i] = H(i, k);
      if (i == k + 1)
        u[i] += phase * xnorm;
      uu += std::norm(u[i]);
    }
    for (int64_t c = k; c < n; ++c) { // P H
      cdouble dot = 0;
      for (int64_t i = k + 1; i < n; ++i)
        dot += std::conj(u[i]) * H(i, c);
      dot *= 2 / uu;
      for (int64_t i = k + 1; i < n; ++i)
        H(i, c) -= dot * u[i];
    }
    auto right = [&](std::vector<cdouble> &m) { // M P
      for (int64_t r = 0; r < n; ++r) {
        cdouble dot = 0;
        for (int64_t i = k + 1; i < n; ++i)
          dot += m[r * n + i] * u[i];
        dot *= 2 / uu;
        for (int64_t i = k + 1; i < n; ++i)
          m[r * n + i] -= dot * std::conj(u[i]);
      }
    };
    right(h);
    if (vectors)
      right(q);
    for (int64_t i = k + 2; i < n; ++i)
      H(i, k) = 0;
  }
  // Shifted QR on the active block [lo, hi] until every subdiagonal
  // element is negligible.
  int64_t hi = n - 1, sinceDeflation = 0, total = 0;
  std::vector<cdouble> cs(n), sn(n);
  while (hi > 0) {
    int64_t lo = hi;
    for (; lo > 0; --lo) {
      double scale = std::abs(H(lo - 1, lo - 1)) + std::abs(H(lo, lo));
      if (scale == 0)
        scale = norm;
      if (std::abs(H(lo, lo - 1)) <= Eps * scale) {
        H(lo, lo - 1) = 0;
        break;
      }
    }
    if (lo == hi) {
      --hi;
      sinceDeflation = 0;
      continue;
    }
    if (++total > 100 * std::max<int64_t>(n, 10))
      return false;
    ++sinceDeflation;
    // The eigenvalue of the trailing 2 x 2 closer to its last element;
    // now and then an exceptional shift breaks a cycle.
    cdouble p = H(hi - 1, hi - 1), b = H(hi - 1, hi), c = H(hi, hi - 1), d = H(hi, hi);
    cdouble half = (p - d) / 2.0, disc = std::sqrt(half * half + b * c);
    cdouble mu1 = (p + d) / 2.0 + disc, mu2 = (p + d) / 2.0 - disc;
    cdouble mu = std::abs(mu1 - d) < std::abs(mu2 - d) ? mu1 : mu2;
    if (sinceDeflation % 11 == 10)
      mu = d + 0.75 * std::abs(c);
    for (int64_t k = lo; k <= hi; ++k)
      H(k, k) -= mu;
    for (int64_t k = lo; k < hi; ++k) { // R = G (H - mu I)
      cdouble x = H(k, k), y = H(k + 1, k);
      double r = std::hypot(std::abs(x), std::abs(y));
      cdouble gc = r == 0 ? cdouble(1) : x / r, gs = r == 0 ? cdouble(0) : y / r;
      cs[k] = gc;
      sn[k] = gs;
      for (int64_t col = k; col < n; ++col) {
        cdouble hk = H(k, col), hk1 = H(k + 1, col);
        H(k, col) = std::conj(gc) * hk + std::conj(gs) * hk1;
        H(k + 1, col) = -gs * hk + gc * hk1;
      }
    }
    for (int64_t k = lo; k < hi; ++k) { // R G^H, and Q G^H
      cdouble gc = cs[k], gs = sn[k];
      auto rotate = [&](std::vector<cdouble> &m, int64_t rows) {
        for (int64_t row = 0; row < rows; ++row) {
          cdouble mk = m[row * n + k], mk1 = m[row * n + k + 1];
          m[row * n + k] = mk * gc + mk1 * gs;
          m[row * n + k + 1] = -mk * std::conj(gs) + mk1 * std::conj(gc);
        }
      };
      rotate(h, std::min(k + 3, hi + 1));
      if (vectors)
        rotate(q, n);
    }
    for (int64_t k = lo; k <= hi; ++k)
      H(k, k) += mu;
  }
  for (int64_t i = 0; i < n; ++i)
    w[i] = H(i, i);
  if (!vectors)
    return true;
  // T y = w_j y with y_j = 1 and y_i = 0 below j, by back substitution
  // (a tiny divisor where eigenvalues coincide); then v_j = Q y.
  double small = std::max(Eps * norm, std::numeric_limits<double>::min());
  std::vector<cdouble> y(n);
  for (int64_t j = 0; j < n; ++j) {
    std::fill(y.begin(), y.end(), cdouble(0));
    y[j] = 1;
    for (int64_t i = j - 1; i >= 0; --i) {
      cdouble sum = 0;
      for (int64_t m = i + 1; m <= j; ++m)
        sum += H(i, m) * y[m];
      cdouble den = H(i, i) - w[j];
      if (std::abs(den) < small)
        den = small;
      y[i] = -sum / den;
    }
    double len = 0;
    int64_t big = 0;
    for (int64_t i = 0; i < n; ++i) {
      cdouble x = 0;
      for (int64_t m = 0; m <= j; ++m)
        x += q[i * n + m] * y[m];
      v[i * n + j] = x;
      len = std::hypot(len, std::abs(x));
      if (std::abs(x) > std::abs(v[big * n + j]))
        big = i;
    }
    cdouble scale = std::abs(v[big * n + j]) == 0
                        ? cdouble(1)
                        : std::conj(v[big * n + j]) / std::abs(v[big * n + j]) / len;
    for (int64_t i = 0; i < n; ++i)
      v[i * n + j] *= scale;
  }
  return true;
}

int32_t statusOf(bool converged) {
  return converged ? LinalgStatus::Ok : LinalgStatus::NoConvergence;
}

/// The matrix norm of the m x n row-major `a` of order `kind` (NormOrder)
/// and, for NormOrder::Number, `p`, as NumPy's np.linalg.norm: Frobenius,
/// the nuclear norm (the sum of the singular values), the largest or
/// smallest singular value (2, -2), column sum of magnitudes (1, -1) or row
/// sum (inf, -inf).
template <class T>
int32_t matrixNorm(const T *a, int64_t m, int64_t n, NormOrder kind, double p, double &out) {
  if (kind == NormOrder::Default || kind == NormOrder::Fro) {
    double sum = 0;
    for (int64_t i = 0; i < m * n; ++i)
      sum += std::norm(a[i]);
    out = std::sqrt(sum);
    return LinalgStatus::Ok;
  }
  const bool largest = kind == NormOrder::Nuc || p > 0;
  auto extreme = [&](const std::vector<double> &v) {
    if (v.empty())
      return int32_t(largest ? LinalgStatus::EmptyMaximum : LinalgStatus::EmptyMinimum);
    out = v[0];
    for (double x : v) // NaN propagates, as NumPy's max and min
      out = std::isnan(out) || std::isnan(x) ? NAN : largest ? std::max(out, x) : std::min(out, x);
    return int32_t(LinalgStatus::Ok);
  };
  if (kind == NormOrder::Nuc || std::fabs(p) == 2) {
    std::vector<double> s;
    bool ok = singularValues(a, m, n, s);
    if (kind == NormOrder::Nuc)
      out = std::accumulate(s.begin(), s.end(), 0.0);
    else if (int32_t st = extreme(s); st != LinalgStatus::Ok)
      return st;
    return statusOf(ok);
  }
  const bool columns = std::fabs(p) == 1; // else rows (inf, -inf)
  if (!columns && !std::isinf(p))
    return LinalgStatus::InvalidNormOrder;
  std::vector<double> sums(columns ? n : m, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      sums[columns ? j : i] += magnitude(a[i * n + j]);
  return extreme(sums);
}

} // namespace

STN_EXPORT int32_t _stn_linalg_det(int64_t a, int64_t n, int32_t cplx, int64_t out) {
  return withWork(cplx, [&]<class T>() {
    std::vector<int64_t> pivot;
    int64_t swaps;
    T *m = at<T>(a);
    luFactor(m, n, pivot, swaps);
    T det = swaps % 2 ? T(-1) : T(1);
    for (int64_t i = 0; i < n; ++i)
      det *= m[i * n + i];
    *at<T>(out) = det;
    return int32_t(LinalgStatus::Ok);
  });
}

STN_EXPORT int32_t _stn_linalg_slogdet(int64_t a, int64_t n, int32_t cplx, int64_t sign,
                                       int64_t logdet) {
  return withWork(cplx, [&]<class T>() {
    std::vector<int64_t> pivot;
    int64_t swaps;
    T *m = at<T>(a);
    luFactor(m, n, pivot, swaps);
    T sg = swaps % 2 ? T(-1) : T(1);
    double lg = 0;
    for (int64_t i = 0; i < n; ++i) {
      T d = m[i * n + i];
      double mag = magnitude(d);
      if (mag == 0) {
        sg = T(0);
        lg = -INFINITY;
        break;
      }
      sg *= d / mag;
      lg += std::log(mag);
    }
    *at<T>(sign) = sg;
    *at<double>(logdet) = lg;
    return int32_t(LinalgStatus::Ok);
  });
}

STN_EXPORT int32_t _stn_linalg_solve(int64_t a, int64_t n, int64_t b, int64_t k, int32_t cplx) {
  return withWork(cplx, [&]<class T>() {
    std::vector<int64_t> pivot;
    int64_t swaps;
    if (!luFactor(at<T>(a), n, pivot, swaps))
      return int32_t(LinalgStatus::Singular);
    luSolve(at<T>(a), n, pivot, at<T>(b), k);
    return int32_t(LinalgStatus::Ok);
  });
}

STN_EXPORT int32_t _stn_linalg_inv(int64_t a, int64_t n, int32_t cplx, int64_t out) {
  return withWork(cplx, [&]<class T>() {
    std::vector<int64_t> pivot;
    int64_t swaps;
    if (!luFactor(at<T>(a), n, pivot, swaps))
      return int32_t(LinalgStatus::Singular);
    identity(at<T>(out), n);
    luSolve(at<T>(a), n, pivot, at<T>(out), n);
    return int32_t(LinalgStatus::Ok);
  });
}

STN_EXPORT int32_t _stn_linalg_cholesky(int64_t a, int64_t n, int32_t cplx, int32_t upper,
                                        int64_t out) {
  return withWork(cplx, [&]<class T>() {
    const T *x = at<T>(a);
    T *l = at<T>(out);
    // The lower triangle read: a's, or the conjugate transpose of its upper.
    auto lower = [&](int64_t i, int64_t j) { return upper ? conjOf(x[j * n + i]) : x[i * n + j]; };
    std::vector<T> f(n * n, T(0));
    for (int64_t j = 0; j < n; ++j) {
      double d = std::real(lower(j, j));
      for (int64_t c = 0; c < j; ++c)
        d -= std::norm(f[j * n + c]);
      if (!(d > 0))
        return int32_t(LinalgStatus::NotPositiveDefinite);
      double root = std::sqrt(d);
      f[j * n + j] = T(root);
      for (int64_t i = j + 1; i < n; ++i) {
        T sum = lower(i, j);
        for (int64_t c = 0; c < j; ++c)
          sum -= f[i * n + c] * conjOf(f[j * n + c]);
        f[i * n + j] = sum / root;
      }
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        l[i * n + j] = upper ? conjOf(f[j * n + i]) : f[i * n + j];
    return int32_t(LinalgStatus::Ok);
  });
}

STN_EXPORT int32_t _stn_linalg_matrix_power(int64_t a, int64_t n, int64_t p, int32_t kind,
                                            int64_t out) {
  switch (static_cast<LinalgPowerKind>(kind)) {
  case LinalgPowerKind::Real:
    return matrixPower(at<double>(a), n, p, at<double>(out), false);
  case LinalgPowerKind::Complex:
    return matrixPower(at<cdouble>(a), n, p, at<cdouble>(out), false);
  case LinalgPowerKind::Integer:
  case LinalgPowerKind::Bool:
    return matrixPower(at<int64_t>(a), n, p, at<int64_t>(out),
                       kind == int32_t(LinalgPowerKind::Bool));
  }
  return LinalgStatus::Ok;
}

STN_EXPORT int32_t _stn_linalg_eigh(int64_t a, int64_t n, int32_t cplx, int32_t upper, int64_t w,
                                    int64_t v) {
  return withWork(cplx, [&]<class T>() {
    const T *x = at<T>(a);
    std::vector<T> s(n * n), vec(n * n);
    for (int64_t i = 0; i < n; ++i) // Hermitian, from the triangle NumPy reads
      for (int64_t j = 0; j < n; ++j) {
        bool inLower = i >= j;
        s[i * n + j] = i == j                   ? T(realOf(x[i * n + i]))
                       : inLower != bool(upper) ? x[i * n + j]
                                                : conjOf(x[j * n + i]);
      }
    bool ok = jacobiEigen(s.data(), vec.data(), n);
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    auto value = [&](int64_t p) { return realOf(s[p * n + p]); };
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t p, int64_t q) { return value(p) < value(q); });
    for (int64_t r = 0; r < n; ++r) {
      at<double>(w)[r] = value(order[r]);
      if (v)
        for (int64_t i = 0; i < n; ++i)
          at<T>(v)[i * n + r] = vec[i * n + order[r]];
    }
    return statusOf(ok);
  });
}

STN_EXPORT int32_t _stn_linalg_eig(int64_t a, int64_t n, int32_t cplx, int64_t w, int64_t v) {
  std::vector<cdouble> za(n * n), zw(n), zv(v ? n * n : 0);
  for (int64_t i = 0; i < n * n; ++i)
    za[i] = cplx ? at<cdouble>(a)[i] : cdouble(at<double>(a)[i]);
  if (!eigGeneral(za.data(), n, zw.data(), v ? zv.data() : nullptr))
    return LinalgStatus::NoConvergence;
  if (cplx) {
    std::copy(zw.begin(), zw.end(), at<cdouble>(w));
    if (v)
      std::copy(zv.begin(), zv.end(), at<cdouble>(v));
    return LinalgStatus::Ok;
  }
  // Real operands give real results (Numba's rule): the eigenvalues must be
  // real up to rounding, relative to the matrix's size.
  double norm = 0;
  for (const cdouble &x : za)
    norm = std::hypot(norm, std::abs(x));
  double tol = 64 * double(std::max<int64_t>(n, 1)) * Eps * norm;
  for (int64_t i = 0; i < n; ++i) {
    if (std::fabs(zw[i].imag()) > tol)
      return LinalgStatus::DomainChange;
    at<double>(w)[i] = zw[i].real();
  }
  if (v)
    for (int64_t i = 0; i < n * n; ++i)
      at<double>(v)[i] = zv[i].real();
  return LinalgStatus::Ok;
}

STN_EXPORT int32_t _stn_linalg_svd(int64_t a, int64_t m, int64_t n, int32_t cplx, int32_t full,
                                   int64_t u, int64_t s, int64_t vt) {
  return withWork(cplx, [&]<class T>() {
    return statusOf(svdAny(at<T>(a), m, n, full, u ? at<T>(u) : nullptr, at<double>(s),
                           at<T>(vt)));
  });
}

STN_EXPORT int32_t _stn_linalg_qr(int64_t a, int64_t m, int64_t n, int32_t cplx,
                                  int32_t complete, int64_t q, int64_t r) {
  return withWork(cplx, [&]<class T>() {
    int64_t k = std::min(m, n);
    std::vector<T> full(m * n);
    int64_t qCols = complete ? m : k;
    householderQR(at<T>(a), m, n, full.data(), q ? at<T>(q) : nullptr, qCols);
    int64_t rows = complete ? m : k;
    std::copy(full.begin(), full.begin() + rows * n, at<T>(r));
    return int32_t(LinalgStatus::Ok);
  });
}

STN_EXPORT int32_t _stn_linalg_pinv(int64_t a, int64_t m, int64_t n, int32_t cplx, double rcond,
                                    int64_t out) {
  return withWork(cplx, [&]<class T>() {
    return statusOf(pseudoInverse(at<T>(a), m, n, rcond, at<T>(out)));
  });
}

STN_EXPORT int32_t _stn_linalg_lstsq(int64_t a, int64_t m, int64_t n, int64_t b, int64_t k,
                                     int32_t cplx, double rcond, int64_t x, int64_t residuals,
                                     int64_t rank, int64_t s) {
  return withWork(cplx, [&]<class T>() {
    const T *A = at<T>(a), *Bm = at<T>(b);
    T *X = at<T>(x);
    double *S = at<double>(s);
    int64_t kk = std::min(m, n);
    std::vector<T> u(m * kk), vt(kk * n);
    bool ok = svdAny(A, m, n, false, u.data(), S, vt.data());
    double cut = rcond < 0 ? Eps * double(std::max(m, n)) : rcond;
    double cutoff = kk ? cut * S[0] : 0;
    int64_t r = 0;
    std::fill(X, X + n * k, T(0));
    for (int64_t j = 0; j < kk; ++j) {
      if (!(S[j] > cutoff))
        continue;
      ++r;
      for (int64_t c = 0; c < k; ++c) {
        T ub = 0; // (u_j^H b_c) / s_j
        for (int64_t i = 0; i < m; ++i)
          ub += conjOf(u[i * kk + j]) * Bm[i * k + c];
        ub /= S[j];
        for (int64_t i = 0; i < n; ++i)
          X[i * k + c] += conjOf(vt[j * n + i]) * ub;
      }
    }
    *at<int64_t>(rank) = r;
    // Squared residuals of each column, where a has full column rank and
    // more rows than columns (else the kernel makes them an empty array).
    if (r == n && m > n)
      for (int64_t c = 0; c < k; ++c) {
        double sum = 0;
        for (int64_t i = 0; i < m; ++i) {
          T e = Bm[i * k + c];
          for (int64_t j = 0; j < n; ++j)
            e -= A[i * n + j] * X[j * k + c];
          sum += std::norm(e);
        }
        at<double>(residuals)[c] = sum;
      }
    return statusOf(ok);
  });
}

STN_EXPORT int64_t _stn_linalg_rank(int64_t a, int64_t m, int64_t n, int32_t cplx, double tol,
                                    int32_t vector) {
  auto count = [&]<class T>() -> int64_t {
    const T *A = at<T>(a);
    if (vector) // a 1-d array: whether any element is not zero
      return std::any_of(A, A + m * n, [](T x) { return x != T(0); }) ? 1 : 0;
    if (std::min(m, n) == 0)
      return 0;
    std::vector<double> s;
    singularValues(A, m, n, s);
    double cutoff = tol < 0 ? s[0] * double(std::max(m, n)) * Eps : tol;
    return std::count_if(s.begin(), s.end(), [&](double x) { return x > cutoff; });
  };
  return cplx ? count.operator()<cdouble>() : count.operator()<double>();
}

STN_EXPORT int32_t _stn_linalg_cond(int64_t a, int64_t m, int64_t n, int32_t cplx, int32_t kind,
                                    double p, int64_t out) {
  return withWork(cplx, [&]<class T>() -> int32_t {
    const T *A = at<T>(a);
    double &c = *at<double>(out);
    auto order = static_cast<NormOrder>(kind);
    if (order == NormOrder::Default || (order == NormOrder::Number && std::fabs(p) == 2)) {
      if (std::min(m, n) == 0) // the kernel raises NumPy's error first
        return LinalgStatus::Ok;
      std::vector<double> s;
      singularValues(A, m, n, s);
      c = p == -2 && order == NormOrder::Number ? s.back() / s.front() : s.front() / s.back();
    } else {
      // norm(x, p) * norm(inv(x), p), NaN where x is singular (NumPy's
      // inverse with its errors ignored), which becomes infinity below.
      if (m != n)
        return LinalgStatus::NotSquare;
      double normX = 0, normInv = 0;
      if (int32_t st = matrixNorm(A, n, n, order, p, normX); st != LinalgStatus::Ok)
        return st;
      std::vector<T> lu(A, A + n * n), inv(n * n);
      std::vector<int64_t> pivot;
      int64_t swaps;
      c = NAN;
      if (luFactor(lu.data(), n, pivot, swaps)) {
        identity(inv.data(), n);
        luSolve(lu.data(), n, pivot, inv.data(), n);
        matrixNorm(inv.data(), n, n, order, p, normInv);
        c = normX * normInv;
      }
    }
    // NumPy turns a NaN into infinity unless x held a NaN.
    if (std::isnan(c) && std::none_of(A, A + m * n, [](T x) { return std::isnan(magnitude(x)); }))
      c = INFINITY;
    return LinalgStatus::Ok;
  });
}

/// np.linalg.norm of the m x n matrix at `a` (order `kind` and `p`, a
/// NormOrder), into `out`.
STN_EXPORT int32_t _stn_linalg_matrix_norm(int64_t a, int64_t m, int64_t n, int32_t cplx,
                                           int32_t kind, double p, int64_t out) {
  return withWork(cplx, [&]<class T>() {
    return matrixNorm(at<T>(a), m, n, static_cast<NormOrder>(kind), p, *at<double>(out));
  });
}

namespace stn::detail {

std::vector<std::pair<std::string, void *>> linalgRuntimeSymbols() {
  return {
      {"_stn_linalg_det", reinterpret_cast<void *>(&_stn_linalg_det)},
      {"_stn_linalg_slogdet", reinterpret_cast<void *>(&_stn_linalg_slogdet)},
      {"_stn_linalg_solve", reinterpret_cast<void *>(&_stn_linalg_solve)},
      {"_stn_linalg_inv", reinterpret_cast<void *>(&_stn_linalg_inv)},
      {"_stn_linalg_cholesky", reinterpret_cast<void *>(&_stn_linalg_cholesky)},
      {"_stn_linalg_matrix_power", reinterpret_cast<void *>(&_stn_linalg_matrix_power)},
      {"_stn_linalg_eig", reinterpret_cast<void *>(&_stn_linalg_eig)},
      {"_stn_linalg_eigh", reinterpret_cast<void *>(&_stn_linalg_eigh)},
      {"_stn_linalg_svd", reinterpret_cast<void *>(&_stn_linalg_svd)},
      {"_stn_linalg_qr", reinterpret_cast<void *>(&_stn_linalg_qr)},
      {"_stn_linalg_pinv", reinterpret_cast<void *>(&_stn_linalg_pinv)},
      {"_stn_linalg_lstsq", reinterpret_cast<void *>(&_stn_linalg_lstsq)},
      {"_stn_linalg_rank", reinterpret_cast<void *>(&_stn_linalg_rank)},
      {"_stn_linalg_cond", reinterpret_cast<void *>(&_stn_linalg_cond)},
      {"_stn_linalg_matrix_norm", reinterpret_cast<void *>(&_stn_linalg_matrix_norm)},
  };
}

} // namespace stn::detail
