//===- DistributionsTest.cpp - np.random's other distributions ------------===//
//
// Each distribution of Builtin::RandomDistribution against its known mean
// and variance: 200000 draws after a fixed seed (so the test is
// deterministic), the mean within five standard errors and the variance
// within a few percent (more for heavy tails); the standard Cauchy by its
// median and quartiles. Counts (Poisson on both sides of its algorithm
// switch, binomial on both sides of its, geometric, negative binomial with
// an integer and a fractional n) are int64; one-number
// forms; the parameter errors NumPy raises.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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
def real(which, n, seed):
    np.random.seed(seed)
    if which == 0:
        return np.random.gamma(2.0, 3.0, n)
    if which == 1:
        return np.random.standard_gamma(0.5, size=n)
    if which == 2:
        return np.random.beta(2.0, 5.0, n)
    if which == 3:
        return np.random.chisquare(4.0, n)
    if which == 4:
        return np.random.lognormal(0.0, 0.5, n)
    if which == 5:
        return np.random.laplace(1.0, 2.0, n)
    if which == 6:
        return np.random.logistic(scale=1.5, size=n)
    if which == 7:
        return np.random.gumbel(0.5, 2.0, n)
    if which == 8:
        return np.random.weibull(2.0, n)
    if which == 9:
        return np.random.pareto(5.0, n)
    if which == 10:
        return np.random.rayleigh(2.0, n)
    if which == 11:
        return np.random.standard_exponential(n)
    if which == 12:
        return np.random.standard_t(5.0, n)
    if which == 13:
        return np.random.triangular(0.0, 1.0, 4.0, n)
    return np.random.standard_cauchy(n)

@njit
def counts(which, n, seed):
    np.random.seed(seed)
    if which == 0:
        return np.random.poisson(3.5, n)
    if which == 1:
        return np.random.poisson(100.0, n)
    if which == 2:
        return np.random.binomial(20, 0.3, n)
    if which == 3:
        return np.random.binomial(1000, 0.6, n)
    if which == 4:
        return np.random.binomial(50, 0.9, n)
    if which == 5:
        return np.random.geometric(0.25, n)
    if which == 6:
        return np.random.negative_binomial(4, 0.4, n)
    return np.random.negative_binomial(2.5, 0.9, n)

@njit
def one(seed):
    np.random.seed(seed)
    return np.random.poisson(), np.random.gamma(1.0), np.random.binomial(10, 0.5)

@njit
def bad(which, x):
    if which == 0:
        return float(np.random.gamma(x))
    if which == 1:
        return float(np.random.binomial(5, x))
    if which == 2:
        return np.random.triangular(0.0, x, 1.0)
    if which == 3:
        return float(np.random.poisson(x))
    if which == 4:
        return float(np.random.geometric(x))
    if which == 5:
        return float(np.random.negative_binomial(x, 0.5))
    return float(np.random.negative_binomial(3, x))
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "distributions.stn");
  return m;
}

constexpr int64_t N = 200000;

template <class T> void checkMoments(const std::vector<T> &x, double mean, double var,
                                     double varTol) {
  double m = 0;
  for (T v : x)
    m += static_cast<double>(v);
  m /= static_cast<double>(x.size());
  double s = 0;
  for (T v : x)
    s += (static_cast<double>(v) - m) * (static_cast<double>(v) - m);
  s /= static_cast<double>(x.size());
  EXPECT_NEAR(m, mean, 5.0 * std::sqrt(var / static_cast<double>(x.size())));
  EXPECT_NEAR(s, var, varTol * var);
}

TEST(Distributions, RealMeansAndVariances) {
  const double pi = 3.141592653589793, euler = 0.5772156649015329;
  struct Case {
    double mean, var, varTol;
  } cases[] = {
      {6.0, 18.0, 0.03},                                      // gamma(2, 3)
      {0.5, 0.5, 0.04},                                       // standard_gamma(0.5)
      {2.0 / 7.0, 10.0 / 392.0, 0.03},                        // beta(2, 5)
      {4.0, 8.0, 0.03},                                       // chisquare(4)
      {std::exp(0.125), (std::exp(0.25) - 1) * std::exp(0.25), 0.05}, // lognormal(0, .5)
      {1.0, 8.0, 0.04},                                       // laplace(1, 2)
      {0.0, 2.25 * pi * pi / 3.0, 0.04},                      // logistic(0, 1.5)
      {0.5 + 2.0 * euler, pi * pi * 4.0 / 6.0, 0.04},         // gumbel(0.5, 2)
      {std::sqrt(pi) / 2.0, 1.0 - pi / 4.0, 0.03},            // weibull(2)
      {0.25, 5.0 / 48.0, 0.12},                               // pareto(5) (Lomax)
      {2.0 * std::sqrt(pi / 2.0), (4.0 - pi) / 2.0 * 4.0, 0.03}, // rayleigh(2)
      {1.0, 1.0, 0.03},                                       // standard_exponential
      {0.0, 5.0 / 3.0, 0.08},                                 // standard_t(5)
      {5.0 / 3.0, 13.0 / 18.0, 0.03},                         // triangular(0, 1, 4)
  };
  for (int64_t which = 0; which < 14; ++which) {
    SCOPED_TRACE(which);
    const Case &c = cases[which];
    checkMoments(valuesOf<double>(module().kernel("real")(which, N, int64_t{17}), {N}), c.mean,
                 c.var, c.varTol);
  }
  // The standard Cauchy: median 0, quartiles -1 and 1.
  std::vector<double> x = valuesOf<double>(module().kernel("real")(int64_t{14}, N, int64_t{5}),
                                           {N});
  std::sort(x.begin(), x.end());
  EXPECT_NEAR(x[N / 2], 0.0, 0.02);
  EXPECT_NEAR(x[N / 4], -1.0, 0.03);
  EXPECT_NEAR(x[3 * N / 4], 1.0, 0.03);
  // A seed repeats the draws.
  EXPECT_EQ(valuesOf<double>(module().kernel("real")(int64_t{0}, int64_t{10}, int64_t{3}), {10}),
            valuesOf<double>(module().kernel("real")(int64_t{0}, int64_t{10}, int64_t{3}), {10}));
}

TEST(Distributions, CountsAreInt64WithTheirMoments) {
  struct Case {
    double mean, var;
  } cases[] = {{3.5, 3.5},   {100.0, 100.0}, {6.0, 4.2}, {600.0, 240.0},
               {45.0, 4.5},  {4.0, 12.0},
               // negative binomial: n (1 - p) / p and n (1 - p) / p**2
               {6.0, 15.0}, {2.5 * 0.1 / 0.9, 2.5 * 0.1 / 0.81}};
  for (int64_t which = 0; which < 8; ++which) {
    SCOPED_TRACE(which);
    stn::Value v = module().kernel("counts")(which, N, int64_t{23});
    EXPECT_EQ(v.array().dtype(), stn::DType::Int64);
    std::vector<int64_t> x = valuesOf<int64_t>(v, {N});
    checkMoments(x, cases[which].mean, cases[which].var, 0.04);
    for (int64_t k : x) {
      ASSERT_GE(k, which == 5 ? 1 : 0);
      if (which >= 2 && which <= 4) {
        ASSERT_LE(k, which == 2 ? 20 : which == 3 ? 1000 : 50);
      }
    }
  }
  stn::Value o = module().kernel("one")(int64_t{1});
  EXPECT_GE(o[0].asInt(), 0);
  EXPECT_GT(o[1].asDouble(), 0.0);
  EXPECT_GE(o[2].asInt(), 0);
  EXPECT_LE(o[2].asInt(), 10);
}

TEST(Distributions, ParameterErrors) {
  auto err = [](int64_t which, double x) {
    return errorOf([&] { module().kernel("bad")(which, x); });
  };
  EXPECT_NE(err(0, -1.0).find("ValueError: shape < 0"), std::string::npos);
  EXPECT_NE(err(0, std::nan("")).find("ValueError: shape < 0"), std::string::npos);
  EXPECT_NE(err(1, 1.5).find("ValueError: p < 0, p > 1 or p is NaN"), std::string::npos);
  EXPECT_NE(err(2, 2.0).find("ValueError: mode > right"), std::string::npos);
  EXPECT_NE(err(3, -0.5).find("ValueError: lam < 0"), std::string::npos);
  EXPECT_NE(err(4, 0.0).find("ValueError: p <= 0, p > 1 or p contains NaNs"),
            std::string::npos);
  EXPECT_EQ(err(4, 1.0), "<no error>");
  EXPECT_NE(err(5, 0.0).find("ValueError: n <= 0"), std::string::npos);
  EXPECT_NE(err(6, 1.5).find("ValueError: p <= 0, p > 1 or p contains NaNs"),
            std::string::npos);
  EXPECT_EQ(err(6, 1.0), "<no error>");
}

} // namespace
