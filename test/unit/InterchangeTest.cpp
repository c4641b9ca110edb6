//===- InterchangeTest.cpp - Scalar expansion + loop interchange ----------===//
//
// The course's i-j-k matrix product is compiled as an i-k-j nest with a row
// buffer (stn/Compiler/Interchange.h). These tests compare its results bit
// for bit with a plain C++ i-j-k loop written here, which performs the same
// operations in the same order per element: float64, float32 (accumulated
// in float64, as Numba types `tmp = 0.`) and int64, square and rectangular
// shapes, empty extents, strided and transposed views, the prange version
// with one and several threads, and calls where the output is one of the
// inputs (the kernel must then run the original nest).
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

const char *kKernels = R"stn(
import numpy as np
from numba import jit, prange

@jit
def matmul(A, B, C):
    n = A.shape[0]
    m = A.shape[1]
    p = B.shape[1]
    for i in range(n):
        for j in range(p):
            tmp = 0.
            for k in range(m):
                tmp += A[i, k]*B[k, j]
            C[i, j] = tmp

@jit
def matmul_int(A, B, C):
    for i in range(A.shape[0]):
        for j in range(B.shape[1]):
            tmp = 0
            for k in range(A.shape[1]):
                tmp = tmp + A[i, k]*B[k, j]
            C[i, j] = tmp

@jit(parallel=True)
def matmul_par(A, B, C):
    n = A.shape[0]
    m = A.shape[1]
    p = B.shape[1]
    for i in prange(n):
        for j in range(p):
            tmp = 0.
            for k in range(m):
                tmp += A[i, k]*B[k, j]
            C[i, j] = tmp

@jit
def matmul_last(A, B, C):
    tmp = -1.
    j = -1
    k = -1
    for i in range(A.shape[0]):
        for j in range(B.shape[1]):
            tmp = 0.
            for k in range(A.shape[1]):
                tmp += A[i, k]*B[k, j]
            C[i, j] = tmp
    return tmp, j, k
)stn";

/// A matrix in a buffer, seen through element strides (which may describe a
/// transposed or every-other-column view of a larger buffer).
template <class T> struct Mat {
  T *data;
  int64_t rows, cols, s0, s1;
  T &at(int64_t i, int64_t j) const { return data[i * s0 + j * s1]; }
  stn::ArrayView view() const {
    return stn::ArrayView(data, stn::DTypeOf<T>::value, {rows, cols},
                          {s0 * int64_t(sizeof(T)), s1 * int64_t(sizeof(T))});
  }
};

/// The course's i-j-k loop: `Acc tmp = 0` accumulates the products in the
/// kernel's typing (T * T in T, then converted to Acc). No contraction into
/// FMAs, like stn without fastmath.
template <class T, class Acc>
__attribute__((noinline, optimize("fp-contract=off"))) void refMatmul(Mat<T> A, Mat<T> B,
                                                                    Mat<T> C) {
  for (int64_t i = 0; i < A.rows; ++i)
    for (int64_t j = 0; j < B.cols; ++j) {
      Acc tmp = 0;
      for (int64_t k = 0; k < A.cols; ++k) {
        T prod = A.at(i, k) * B.at(k, j);
        tmp = tmp + static_cast<Acc>(prod);
      }
      C.at(i, j) = static_cast<T>(tmp);
    }
}

template <class T> std::vector<T> randomValues(size_t n, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<T> v(n);
  for (T &x : v) {
    if constexpr (std::is_integral_v<T>)
      x = static_cast<T>(gen() % 2001) - 1000;
    else
      x = static_cast<T>(static_cast<double>(gen() >> 11) * 0x1.0p-53 * 2.0 - 1.0);
  }
  return v;
}

template <class T> bool sameBits(const std::vector<T> &a, const std::vector<T> &b) {
  // (memcmp of an empty vector's null data is undefined behaviour.)
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

class InterchangeTest : public ::testing::TestWithParam<unsigned> {
protected:
  InterchangeTest() : engine(options()), mod(engine.loadString(kKernels, "interchange.stn")) {}
  static stn::EngineOptions options() {
    stn::EngineOptions o;
    o.cacheEnabled = false;
    o.numThreads = GetParam();
    return o;
  }

  /// C = A @ B with contiguous operands of the given extents, through
  /// `kernel`, against the reference.
  template <class T, class Acc>
  void contiguous(const char *kernel, int64_t n, int64_t m, int64_t p, uint64_t seed) {
    auto a = randomValues<T>(n * m, seed), b = randomValues<T>(m * p, seed + 1);
    std::vector<T> c(n * p, T(7)), want(n * p, T(7));
    Mat<T> A{a.data(), n, m, m, 1}, B{b.data(), m, p, p, 1};
    refMatmul<T, Acc>(A, B, Mat<T>{want.data(), n, p, p, 1});
    mod.kernel(kernel)(A.view(), B.view(), Mat<T>{c.data(), n, p, p, 1}.view());
    EXPECT_TRUE(sameBits(c, want)) << kernel << " " << n << "x" << m << " @ " << m << "x" << p;
  }

  stn::Engine engine;
  stn::Module mod;
};

TEST_P(InterchangeTest, Float64Shapes) {
  for (const char *k : {"matmul", "matmul_par"})
    for (auto [n, m, p] : std::vector<std::array<int64_t, 3>>{
             {1, 1, 1}, {5, 5, 5}, {64, 64, 64}, {37, 53, 29}, {3, 200, 101}, {130, 2, 7}})
      contiguous<double, double>(k, n, m, p, n * 1000 + m * 10 + p);
}

TEST_P(InterchangeTest, Float32AccumulatesInFloat64) {
  for (const char *k : {"matmul", "matmul_par"})
    for (auto [n, m, p] : std::vector<std::array<int64_t, 3>>{{17, 33, 65}, {64, 64, 64}})
      contiguous<float, double>(k, n, m, p, 5);
}

TEST_P(InterchangeTest, Int64) {
  for (auto [n, m, p] : std::vector<std::array<int64_t, 3>>{{17, 33, 65}, {40, 40, 40}})
    contiguous<int64_t, int64_t>("matmul_int", n, m, p, 9);
}

TEST_P(InterchangeTest, EmptyExtents) {
  for (const char *k : {"matmul", "matmul_par"})
    for (auto [n, m, p] : std::vector<std::array<int64_t, 3>>{
             {0, 5, 5}, {5, 0, 5}, {5, 5, 0}, {0, 0, 0}})
      contiguous<double, double>(k, n, m, p, 3);
}

TEST_P(InterchangeTest, StridedAndTransposedViews) {
  const int64_t n = 23, m = 31, p = 19;
  // A is the transpose of an m x n buffer; B takes every other column of an
  // m x 2p buffer; C is written into every third row of a 3n x p buffer.
  auto at = randomValues<double>(m * n, 1), b2 = randomValues<double>(m * 2 * p, 2);
  std::vector<double> c(3 * n * p, 0.5), want(3 * n * p, 0.5);
  Mat<double> A{at.data(), n, m, 1, n}, B{b2.data(), m, p, 2 * p, 2};
  refMatmul<double, double>(A, B, Mat<double>{want.data(), n, p, 3 * p, 1});
  for (const char *k : {"matmul", "matmul_par"}) {
    std::fill(c.begin(), c.end(), 0.5);
    mod.kernel(k)(A.view(), B.view(), Mat<double>{c.data(), n, p, 3 * p, 1}.view());
    EXPECT_TRUE(sameBits(c, want)) << k;
  }
  // Reversed rows of B (a negative stride).
  Mat<double> Brev{b2.data() + (m - 1) * 2 * p, m, p, -2 * p, 1};
  std::vector<double> c2(n * p), want2(n * p);
  refMatmul<double, double>(A, Brev, Mat<double>{want2.data(), n, p, p, 1});
  mod.kernel("matmul")(A.view(), Brev.view(), Mat<double>{c2.data(), n, p, p, 1}.view());
  EXPECT_TRUE(sameBits(c2, want2));
}

TEST_P(InterchangeTest, OutputAliasesAnInput) {
  const int64_t n = 33;
  for (const char *k : {"matmul", "matmul_par"}) {
    // C is A: row i of A is overwritten while later j of the same row still
    // read it in the i-j-k order. The kernel must reproduce that.
    auto a = randomValues<double>(n * n, 11), b = randomValues<double>(n * n, 12);
    auto want = a;
    Mat<double> W{want.data(), n, n, n, 1}, B{b.data(), n, n, n, 1};
    refMatmul<double, double>(W, B, W);
    Mat<double> A{a.data(), n, n, n, 1};
    mod.kernel(k)(A.view(), B.view(), A.view());
    EXPECT_TRUE(sameBits(a, want)) << k << ": C is A";

    // C is B. In the prange kernel that is a data race between threads (row
    // i of C is column data other rows read), so only with one thread.
    if (std::string(k) == "matmul_par" && GetParam() > 1)
      continue;
    auto a2 = randomValues<double>(n * n, 13), b2 = randomValues<double>(n * n, 14);
    auto want2 = b2;
    Mat<double> A2{a2.data(), n, n, n, 1}, W2{want2.data(), n, n, n, 1};
    refMatmul<double, double>(A2, W2, W2);
    Mat<double> B2{b2.data(), n, n, n, 1};
    mod.kernel(k)(A2.view(), B2.view(), B2.view());
    EXPECT_TRUE(sameBits(b2, want2)) << k << ": C is B";
  }
  // C overlaps the tail of A's buffer only partly (a shifted view).
  std::vector<double> buf = randomValues<double>(3 * n * n, 15), b = randomValues<double>(n * n, 16);
  auto want = buf;
  Mat<double> Aw{want.data(), n, n, n, 1}, Cw{want.data() + n * n / 2, n, n, n, 1};
  Mat<double> B{b.data(), n, n, n, 1};
  refMatmul<double, double>(Aw, B, Cw);
  Mat<double> A{buf.data(), n, n, n, 1}, C{buf.data() + n * n / 2, n, n, n, 1};
  mod.kernel("matmul")(A.view(), B.view(), C.view());
  EXPECT_TRUE(sameBits(buf, want)) << "C overlaps A";
}

TEST_P(InterchangeTest, LocalsAfterTheNest) {
  const int64_t n = 6, m = 9, p = 4;
  auto a = randomValues<double>(n * m, 21), b = randomValues<double>(m * p, 22);
  std::vector<double> c(n * p), want(n * p);
  Mat<double> A{a.data(), n, m, m, 1}, B{b.data(), m, p, p, 1};
  refMatmul<double, double>(A, B, Mat<double>{want.data(), n, p, p, 1});
  stn::Value r = mod.kernel("matmul_last")(A.view(), B.view(), Mat<double>{c.data(), n, p, p, 1}.view());
  EXPECT_TRUE(sameBits(c, want));
  EXPECT_EQ(r[0].asDouble(), want.back());
  EXPECT_EQ(r[1].asInt(), p - 1);
  EXPECT_EQ(r[2].asInt(), m - 1);
  // No j iteration: k keeps its value from before the nest.
  std::vector<double> e;
  Mat<double> E{e.data(), n, 0, 0, 1};
  stn::Value r0 = mod.kernel("matmul_last")(A.view(), Mat<double>{b.data(), m, 0, 0, 1}.view(),
                                            E.view());
  EXPECT_EQ(r0[0].asDouble(), -1.0);
  EXPECT_EQ(r0[1].asInt(), -1);
  EXPECT_EQ(r0[2].asInt(), -1);
}

INSTANTIATE_TEST_SUITE_P(Threads, InterchangeTest, ::testing::Values(1u, 3u));

} // namespace
