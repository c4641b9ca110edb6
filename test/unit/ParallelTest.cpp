//===- ParallelTest.cpp - Parallel loops, reductions, random numbers ------===//
//
// prange in parallel=True kernels, the reductions inferred for it, private
// variables, parallel array expressions, target="parallel" ufuncs, gufuncs
// and stencils, and the random-number functions, each compared with an
// independent serial C++ loop written here. Every case runs with several
// thread counts (EngineOptions::numThreads), on inputs small enough to run
// serially and large enough to run on a team.
//
// Integer reductions must match the serial result exactly (they are
// associative in two's complement); floating-point sums are reassociated by
// the chunking, so they are compared with a relative tolerance, while
// min/max (which do not round) must be exact.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

const char *kKernels = R"stn(
import numpy as np
import random
from numba import jit, njit, prange, vectorize, guvectorize, stencil

@jit(parallel=True)
def fsum(a):
    s = 0.0
    for i in prange(a.shape[0]):
        s += a[i]
    return s

@jit(parallel=True)
def isum_sub(a):
    s = 1000
    d = 0
    for i in prange(a.shape[0]):
        s += a[i] * 3
        d -= a[i]
    return s, d

@jit(parallel=True)
def ibits(a):
    o = 0
    x = 0
    n = -1
    for i in prange(a.shape[0]):
        o |= a[i]
        x ^= a[i]
        n &= a[i] | 1024
    return o, x, n

@jit(parallel=True)
def iprod(a):
    p = 1
    for i in prange(a.shape[0]):
        p *= a[i]
    return p

@jit(parallel=True)
def minmax(a):
    lo = a[0]
    hi = a[0]
    for i in prange(a.shape[0]):
        lo = min(lo, a[i])
        hi = max(a[i], hi)
    return lo, hi

@jit(parallel=True)
def assign_form(a):
    s = 0
    for i in prange(a.shape[0]):
        if a[i] % 3 == 0:
            continue
        s = s + a[i]
    return s

@jit(parallel=True)
def strided(start, stop, step):
    s = 0
    c = 0
    for i in prange(start, stop, step):
        s += i * i
        c += 1
    return s, c

@jit(parallel=True)
def privates(a, out):
    t = -1.0
    for i in prange(a.shape[0]):
        t = a[i] * 2.0
        u = t + 1.0
        out[i] = u
    return t

@jit(parallel=True)
def rows(a):
    out = np.empty_like(a)
    for i in prange(a.shape[0]):
        acc = 0.0
        for j in range(a.shape[1]):
            acc += a[i, j]
            out[i, j] = acc
    return out

@jit(parallel=True)
def nested(n, m):
    s = 0
    for i in prange(n):
        for j in prange(m):
            s += i * m + j
    return s

@jit(parallel=True)
def temporaries(a):
    out = np.empty(a.shape[0])
    for i in prange(a.shape[0]):
        row = a[i] * 2.0 + 1.0
        out[i] = np.sum(row)
    return out

@jit(parallel=True)
def hypot_par(a, b):
    return np.sqrt(a * a + b * b) + 1.0

@vectorize(target="parallel")
def vscale(x, y):
    return x * 2.0 + y

@guvectorize("(n)->()", target="parallel")
def rowsum(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    return s

@stencil(target="parallel")
def blur(a):
    return (a[-1, 0] + a[1, 0] + a[0, -1] + a[0, 1] + a[0, 0]) * 0.2

@stencil
def blur_ser(a):
    return (a[-1, 0] + a[1, 0] + a[0, -1] + a[0, 1] + a[0, 0]) * 0.2
)stn";

class ParallelTest : public ::testing::TestWithParam<unsigned> {
protected:
  ParallelTest() : engine(options()), mod(engine.loadString(kKernels, "parallel.stn")) {}
  stn::EngineOptions options() const {
    stn::EngineOptions o;
    o.numThreads = GetParam();
    o.cacheEnabled = false;
    return o;
  }
  stn::Engine engine;
  stn::Module mod;
};

/// Sizes that run serially (few iterations) and on a team.
const std::vector<int64_t> kSizes = {0, 1, 3, 100, 100003, 1000000};

std::vector<double> randomDoubles(int64_t n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  std::vector<double> v(static_cast<size_t>(n));
  for (auto &x : v)
    x = d(g);
  return v;
}

std::vector<int64_t> randomInts(int64_t n, uint64_t seed, int64_t lo, int64_t hi) {
  std::mt19937_64 g(seed);
  std::uniform_int_distribution<int64_t> d(lo, hi);
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto &x : v)
    x = d(g);
  return v;
}

TEST_P(ParallelTest, FloatSum) {
  for (int64_t n : kSizes) {
    auto a = randomDoubles(n, 1 + n);
    double ref = 0, mag = 0;
    for (double x : a) {
      ref += x;
      mag += std::fabs(x);
    }
    double got = mod.kernel("fsum")(stn::ArrayView::of(a.data(), {n})).asDouble();
    // Chunked summation reassociates: the error bound of any summation
    // order is n * eps * sum|x|.
    EXPECT_NEAR(got, ref, 1e-16 * double(n + 1) * mag + 1e-300) << "n=" << n;
  }
}

TEST_P(ParallelTest, IntegerSumsAreExact) {
  for (int64_t n : kSizes) {
    auto a = randomInts(n, 7 + n, -1000000, 1000000);
    int64_t s = 1000, d = 0;
    for (int64_t x : a) {
      s += x * 3;
      d -= x;
    }
    stn::Value r = mod.kernel("isum_sub")(stn::ArrayView::of(a.data(), {n}));
    EXPECT_EQ(r[0].asInt(), s) << "n=" << n;
    EXPECT_EQ(r[1].asInt(), d) << "n=" << n;
  }
}

TEST_P(ParallelTest, BitwiseReductions) {
  for (int64_t n : kSizes) {
    auto a = randomInts(n, 11 + n, 0, (int64_t(1) << 40));
    int64_t o = 0, x = 0, m = -1;
    for (int64_t v : a) {
      o |= v;
      x ^= v;
      m &= v | 1024;
    }
    stn::Value r = mod.kernel("ibits")(stn::ArrayView::of(a.data(), {n}));
    EXPECT_EQ(r[0].asInt(), o) << "n=" << n;
    EXPECT_EQ(r[1].asInt(), x) << "n=" << n;
    EXPECT_EQ(r[2].asInt(), m) << "n=" << n;
  }
}

TEST_P(ParallelTest, ProductWrapsLikeSerial) {
  for (int64_t n : kSizes) {
    auto a = randomInts(n, 13 + n, -7, 7);
    for (auto &v : a)
      v = v == 0 ? 3 : v;
    uint64_t p = 1;
    for (int64_t v : a)
      p *= static_cast<uint64_t>(v);
    EXPECT_EQ(mod.kernel("iprod")(stn::ArrayView::of(a.data(), {n})).asInt(),
              static_cast<int64_t>(p))
        << "n=" << n;
  }
}

TEST_P(ParallelTest, MinMaxAreExact) {
  for (int64_t n : kSizes) {
    if (n == 0)
      continue; // the kernel reads a[0]
    auto a = randomDoubles(n, 17 + n);
    auto [lo, hi] = std::minmax_element(a.begin(), a.end());
    stn::Value r = mod.kernel("minmax")(stn::ArrayView::of(a.data(), {n}));
    EXPECT_EQ(r[0].asDouble(), *lo) << "n=" << n;
    EXPECT_EQ(r[1].asDouble(), *hi) << "n=" << n;
    auto b = randomInts(n, 19 + n, INT64_MIN / 2, INT64_MAX / 2);
    auto [blo, bhi] = std::minmax_element(b.begin(), b.end());
    stn::Value q = mod.kernel("minmax")(stn::ArrayView::of(b.data(), {n}));
    EXPECT_EQ(q[0].asInt(), *blo) << "n=" << n;
    EXPECT_EQ(q[1].asInt(), *bhi) << "n=" << n;
  }
}

TEST_P(ParallelTest, AssignFormAndContinue) {
  for (int64_t n : kSizes) {
    auto a = randomInts(n, 23 + n, -100, 100);
    int64_t s = 0;
    for (int64_t v : a)
      if (v % 3 != 0) // Python's % and C++'s agree on "divisible by 3"
        s = s + v;
    EXPECT_EQ(mod.kernel("assign_form")(stn::ArrayView::of(a.data(), {n})).asInt(), s)
        << "n=" << n;
  }
}

TEST_P(ParallelTest, StartStopStep) {
  struct Case {
    int64_t start, stop, step;
  };
  for (Case c : {Case{0, 10, 1}, Case{5, 5, 1}, Case{7, 2, 1}, Case{3, 200000, 7},
                 Case{200000, -5, -3}, Case{10, 0, -1}, Case{-50, 50, 9}}) {
    int64_t s = 0, cnt = 0;
    for (int64_t i = c.start; c.step > 0 ? i < c.stop : i > c.stop; i += c.step) {
      s += i * i;
      ++cnt;
    }
    stn::Value r = mod.kernel("strided")(c.start, c.stop, c.step);
    EXPECT_EQ(r[0].asInt(), s) << c.start << ":" << c.stop << ":" << c.step;
    EXPECT_EQ(r[1].asInt(), cnt) << c.start << ":" << c.stop << ":" << c.step;
  }
}

TEST_P(ParallelTest, PrivateVariables) {
  for (int64_t n : kSizes) {
    auto a = randomDoubles(n, 29 + n);
    std::vector<double> out(static_cast<size_t>(n), 0.0);
    stn::Value r = mod.kernel("privates")(stn::ArrayView::of(a.data(), {n}),
                                          stn::ArrayView::of(out.data(), {n}));
    // A variable assigned inside the loop is private: after the loop it has
    // its value from before the loop.
    EXPECT_EQ(r.asDouble(), -1.0) << "n=" << n;
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(out[size_t(i)], a[size_t(i)] * 2.0 + 1.0) << "n=" << n << " i=" << i;
  }
}

TEST_P(ParallelTest, RowsAndInnerSerialLoops) {
  for (int64_t rowsN : {int64_t{0}, int64_t{1}, int64_t{5}, int64_t{3001}}) {
    const int64_t cols = 37;
    auto a = randomDoubles(rowsN * cols, 31 + rowsN);
    stn::Value r = mod.kernel("rows")(stn::ArrayView::of(a.data(), {rowsN, cols}));
    const stn::Array &o = r.array();
    ASSERT_EQ(o.shape(), (std::vector<int64_t>{rowsN, cols}));
    for (int64_t i = 0; i < rowsN; ++i) {
      double acc = 0;
      for (int64_t j = 0; j < cols; ++j) {
        acc += a[size_t(i * cols + j)];
        ASSERT_EQ(o.at<double>({i, j}), acc) << i << "," << j;
      }
    }
  }
}

TEST_P(ParallelTest, NestedPrangeRunsInnerSerially) {
  for (auto [n, m] : {std::pair<int64_t, int64_t>{0, 5}, {3, 4}, {700, 900}}) {
    int64_t s = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j)
        s += i * m + j;
    EXPECT_EQ(mod.kernel("nested")(n, m).asInt(), s);
  }
}

TEST_P(ParallelTest, ArraysAllocatedInTheLoop) {
  for (int64_t rowsN : {int64_t{1}, int64_t{4000}}) {
    const int64_t cols = 64;
    auto a = randomDoubles(rowsN * cols, 37 + rowsN);
    stn::Value r = mod.kernel("temporaries")(stn::ArrayView::of(a.data(), {rowsN, cols}));
    for (int64_t i = 0; i < rowsN; ++i) {
      double s = 0;
      for (int64_t j = 0; j < cols; ++j)
        s += a[size_t(i * cols + j)] * 2.0 + 1.0;
      ASSERT_EQ(r.array().at<double>({i}), s) << "row " << i;
    }
  }
}

TEST_P(ParallelTest, ParallelArrayExpressionsMatchSerial) {
  for (int64_t n : kSizes) {
    auto a = randomDoubles(n, 41 + n), b = randomDoubles(n, 43 + n);
    auto va = stn::ArrayView::of(a.data(), {n}), vb = stn::ArrayView::of(b.data(), {n});
    stn::Value p = mod.kernel("hypot_par")(va, vb);
    for (int64_t i = 0; i < n; ++i) {
      double ref = std::sqrt(a[size_t(i)] * a[size_t(i)] + b[size_t(i)] * b[size_t(i)]) + 1.0;
      ASSERT_EQ(p.array().at<double>({i}), ref) << "n=" << n << " i=" << i;
    }
  }
}

TEST_P(ParallelTest, ParallelUfuncGufuncStencil) {
  const int64_t h = 513, w = 301;
  auto a = randomDoubles(h * w, 47), b = randomDoubles(h * w, 53);
  auto va = stn::ArrayView::of(a.data(), {h, w}), vb = stn::ArrayView::of(b.data(), {h, w});
  stn::Value u = mod.kernel("vscale")(va, vb);
  stn::Value g = mod.kernel("rowsum")(va);
  stn::Value s = mod.kernel("blur")(va);
  stn::Value sRef = mod.kernel("blur_ser")(va);
  for (int64_t i = 0; i < h; ++i) {
    double rs = 0;
    for (int64_t j = 0; j < w; ++j) {
      size_t k = size_t(i * w + j);
      ASSERT_EQ(u.array().at<double>({i, j}), a[k] * 2.0 + b[k]);
      rs += a[k];
      ASSERT_EQ(s.array().at<double>({i, j}), sRef.array().at<double>({i, j}));
    }
    ASSERT_EQ(g.array().at<double>({i}), rs) << "row " << i;
  }
  // The stencil against a reference written here, interior and border.
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      double ref = 0;
      if (i > 0 && j > 0 && i + 1 < h && j + 1 < w) {
        auto at = [&](int64_t y, int64_t x) { return a[size_t(y * w + x)]; };
        ref = (at(i - 1, j) + at(i + 1, j) + at(i, j - 1) + at(i, j + 1) + at(i, j)) * 0.2;
      }
      ASSERT_EQ(s.array().at<double>({i, j}), ref) << i << "," << j;
    }
}

INSTANTIATE_TEST_SUITE_P(Threads, ParallelTest, ::testing::Values(1u, 2u, 3u, 8u),
                         [](const auto &info) {
                           std::string name = "t"; // not "t" + ...: GCC 12's -Wrestrict misfires
                           return name += std::to_string(info.param);
                         });

//===----------------------------------------------------------------------===//
// Random numbers
//===----------------------------------------------------------------------===//

const char *kRandom = R"stn(
import numpy as np
import random
from numba import jit, njit, prange

@njit
def draws(seed, n):
    random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = random.random()
    return out

@njit
def np_draws(seed, n):
    np.random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = np.random.random()
    return out

@njit
def uniforms(seed, n, a, b):
    random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = random.uniform(a, b)
    return out

@njit
def ints(seed, n, a, b):
    random.seed(seed)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = random.randint(a, b)
    return out

@njit
def normals(seed, n, mu, sigma):
    np.random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = np.random.normal(mu, sigma)
    return out

@njit
def monte_carlo_pi(nsamples):
    acc = 0
    for i in range(nsamples):
        x = random.random()
        y = random.random()
        if (x ** 2 + y ** 2) < 1.0:
            acc += 1
    return 4.0 * acc / nsamples

@jit(parallel=True)
def monte_carlo_pi_par(nsamples):
    acc = 0
    for i in prange(nsamples):
        x = np.random.uniform(0.0, 1.0)
        y = np.random.uniform(0.0, 1.0)
        if (x ** 2 + y ** 2) < 1.0:
            acc += 1
    return 4.0 * acc / nsamples
)stn";

class RandomTest : public ::testing::Test {
protected:
  RandomTest() : mod(engine.loadString(kRandom, "random.stn")) {}
  stn::Engine engine;
  stn::Module mod;
};

std::vector<double> doubles(const stn::Value &v) {
  const stn::Array &a = v.array();
  std::vector<double> r;
  for (int64_t i = 0; i < a.shape()[0]; ++i)
    r.push_back(a.at<double>({i}));
  return r;
}

TEST_F(RandomTest, SeedMakesSerialRunsReproducible) {
  auto a = doubles(mod.kernel("draws")(int64_t{42}, int64_t{1000}));
  auto b = doubles(mod.kernel("draws")(int64_t{42}, int64_t{1000}));
  auto c = doubles(mod.kernel("draws")(int64_t{43}, int64_t{1000}));
  auto d = doubles(mod.kernel("np_draws")(int64_t{42}, int64_t{1000}));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a, d); // random.seed and np.random.seed drive the same generator
  for (double x : a) {
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
  }
  // 1000 uniform draws: the mean is 0.5 +- 0.0091 (1 sigma); a fixed seed
  // makes this deterministic, the bound is 5 sigma.
  double mean = 0;
  for (double x : a)
    mean += x / 1000;
  EXPECT_NEAR(mean, 0.5, 0.046);
}

TEST_F(RandomTest, UniformIntNormal) {
  auto u = doubles(mod.kernel("uniforms")(int64_t{1}, int64_t{10000}, -3.0, 5.0));
  for (double x : u) {
    ASSERT_GE(x, -3.0);
    ASSERT_LT(x, 5.0);
  }
  stn::Value iv = mod.kernel("ints")(int64_t{2}, int64_t{20000}, int64_t{-2}, int64_t{3});
  std::vector<int> counts(6, 0);
  for (int64_t i = 0; i < 20000; ++i) {
    int64_t x = iv.array().at<int64_t>({i});
    ASSERT_GE(x, -2);
    ASSERT_LE(x, 3); // randint's upper bound is inclusive
    counts[size_t(x + 2)]++;
  }
  for (int c : counts) // 3333 expected each, sigma 53
    EXPECT_NEAR(c, 20000 / 6, 300);
  auto z = doubles(mod.kernel("normals")(int64_t{3}, int64_t{100000}, 2.0, 0.5));
  double m = 0, v = 0;
  for (double x : z)
    m += x / double(z.size());
  for (double x : z)
    v += (x - m) * (x - m) / double(z.size());
  EXPECT_NEAR(m, 2.0, 0.01);  // sigma of the mean: 0.0016
  EXPECT_NEAR(v, 0.25, 0.01); // sigma of the variance: 0.0011
}

TEST_F(RandomTest, MonteCarloPi) {
  double serial = mod.kernel("monte_carlo_pi")(int64_t{2000000}).asDouble();
  double par = mod.kernel("monte_carlo_pi_par")(int64_t{2000000}).asDouble();
  // 2M samples: sigma = 4 * sqrt(p(1-p)/n) = 0.0012.
  EXPECT_NEAR(serial, M_PI, 0.01);
  EXPECT_NEAR(par, M_PI, 0.01);
}

} // namespace
