//===- MatrixSupport.h - Matrices for the linear algebra tests -*- C++ -*-===//
//
// What LinalgTest and NormTest share: their np.linalg kernels, and what
// they build references from: reproducible numbers, and products and
// identities of row-major matrices held in std::vectors (double or
// std::complex<double>).
//
//===----------------------------------------------------------------------===//

#ifndef STN_TEST_UNIT_MATRIXSUPPORT_H
#define STN_TEST_UNIT_MATRIXSUPPORT_H

#include "stn/stn.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stn::test {

/// The kernels of LinalgTest.cpp (which defines this): one per np.linalg
/// function and option, named after it (det, eigh, eigh_upper, svd, ...).
stn::Module &linalgKernels();

/// `n` reproducible numbers in [-1, 1) from a 64-bit linear congruential
/// generator started at `seed`.
inline std::vector<double> randomValues(size_t n, uint64_t seed) {
  std::vector<double> out(n);
  uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (double &v : out) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<double>(x >> 11) / 9007199254740992.0 * 2 - 1;
  }
  return out;
}

/// x (r x k) times y (k x c), row-major.
template <class T>
std::vector<T> multiply(const std::vector<T> &x, const std::vector<T> &y, int64_t r, int64_t k,
                        int64_t c) {
  std::vector<T> out(static_cast<size_t>(r * c), T(0));
  for (int64_t i = 0; i < r; ++i)
    for (int64_t l = 0; l < k; ++l)
      for (int64_t j = 0; j < c; ++j)
        out[static_cast<size_t>(i * c + j)] +=
            x[static_cast<size_t>(i * k + l)] * y[static_cast<size_t>(l * c + j)];
  return out;
}

/// The n x n identity.
template <class T> std::vector<T> identityOf(int64_t n) {
  std::vector<T> out(static_cast<size_t>(n * n), T(0));
  for (int64_t i = 0; i < n; ++i)
    out[static_cast<size_t>(i * n + i)] = T(1);
  return out;
}

} // namespace stn::test

#endif // STN_TEST_UNIT_MATRIXSUPPORT_H
