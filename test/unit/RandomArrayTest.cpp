//===- RandomArrayTest.cpp - Arrays of random numbers (size=, rand, randn) -===//
//
// np.random's array forms, checked without a second generator:
//   - an array of draws holds the same numbers, in the same order, as the
//     scalar draws of a loop after the same seed (uniform, normal, randint,
//     and rand/randn against random/standard_normal with a shape);
//   - uniform and exponential against their formulas applied in C++ to the
//     loop's uniform draws;
//   - shapes from an integer, a tuple and extents; an empty size;
//   - statistics of the distributions (fixed seeds, so deterministic);
//   - draws in a parallel kernel, and the errors of empty integer ranges.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import random
import numpy as np
from numba import njit, jit, prange

@njit
def uniform01(seed, n):
    np.random.seed(seed)
    return np.random.random(n)

@njit
def uniform01_keyword(seed, n):
    np.random.seed(seed)
    return np.random.random_sample(size=n)

@njit
def uniform01_loop(seed, n):
    np.random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = np.random.random()
    return out

@njit
def uniform_ab(seed, n, lo, hi):
    np.random.seed(seed)
    return np.random.uniform(lo, hi, size=n)

@njit
def exponentials(seed, n, scale):
    np.random.seed(seed)
    return np.random.exponential(scale, n)

@njit
def normal_2d(seed, n, loc, scale):
    np.random.seed(seed)
    return np.random.normal(loc, scale, (n, 4))

@njit
def normal_loop(seed, n, loc, scale):
    np.random.seed(seed)
    out = np.empty((n, 4))
    for i in range(n):
        for j in range(4):
            out[i, j] = np.random.normal(loc, scale)
    return out

@njit
def ints_2d(seed, n, lo, hi):
    np.random.seed(seed)
    return np.random.randint(lo, hi, size=(2, n))

@njit
def ints_loop(seed, n, lo, hi):
    np.random.seed(seed)
    out = np.empty((2, n), np.int64)
    for i in range(2):
        for j in range(n):
            out[i, j] = np.random.randint(lo, hi)
    return out

@njit
def ints_below(seed, n, hi):
    np.random.seed(seed)
    return np.random.randint(hi, size=n)

@njit
def rand_3d(seed):
    np.random.seed(seed)
    return np.random.rand(2, 3, 4)

@njit
def random_3d(seed):
    np.random.seed(seed)
    return np.random.random((2, 3, 4))

@njit
def randn_2d(seed, n):
    np.random.seed(seed)
    return np.random.randn(n, 3)

@njit
def standard_2d(seed, n):
    np.random.seed(seed)
    return np.random.standard_normal(size=(n, 3))

@njit
def scalar_forms(seed):
    np.random.seed(seed)
    return np.random.rand() + np.random.randn() * 0.0 + np.random.random(None)

@jit(parallel=True)
def parallel_means(rows, n):
    out = np.empty(rows)
    for r in prange(rows):
        out[r] = np.random.random(n).mean()
    return out

@jit(parallel=True)
def below_half(n):
    x = np.random.random(n)
    return np.sum(x < 0.5)

@njit
def np_empty_range(lo, hi):
    return np.random.randint(lo, hi, 3)

@njit
def py_randint(lo, hi):
    return random.randint(lo, hi)
)STN";

class RandomArrayTest : public ::testing::Test {
protected:
  RandomArrayTest() : mod(engine.loadString(Kernels, "random_arrays.stn")) {}
  stn::Engine engine;
  stn::Module mod;
};

TEST_F(RandomArrayTest, ArraysHoldTheLoopsDrawsInOrder) {
  const int64_t n = 1000;
  auto loop = valuesOf<double>(mod.kernel("uniform01_loop")(int64_t{5}, n), {n});
  EXPECT_EQ(valuesOf<double>(mod.kernel("uniform01")(int64_t{5}, n), {n}), loop);
  EXPECT_EQ(valuesOf<double>(mod.kernel("uniform01_keyword")(int64_t{5}, n), {n}), loop);
  EXPECT_NE(valuesOf<double>(mod.kernel("uniform01")(int64_t{6}, n), {n}), loop);
  EXPECT_EQ(valuesOf<double>(mod.kernel("normal_2d")(int64_t{7}, int64_t{50}, 1.5, 2.0), {50, 4}),
            valuesOf<double>(mod.kernel("normal_loop")(int64_t{7}, int64_t{50}, 1.5, 2.0),
                             {50, 4}));
  EXPECT_EQ(
      valuesOf<int64_t>(mod.kernel("ints_2d")(int64_t{8}, int64_t{300}, int64_t{-4}, int64_t{9}),
                        {2, 300}),
      valuesOf<int64_t>(
          mod.kernel("ints_loop")(int64_t{8}, int64_t{300}, int64_t{-4}, int64_t{9}), {2, 300}));
  EXPECT_EQ(valuesOf<double>(mod.kernel("rand_3d")(int64_t{9}), {2, 3, 4}),
            valuesOf<double>(mod.kernel("random_3d")(int64_t{9}), {2, 3, 4}));
  EXPECT_EQ(valuesOf<double>(mod.kernel("randn_2d")(int64_t{10}, int64_t{40}), {40, 3}),
            valuesOf<double>(mod.kernel("standard_2d")(int64_t{10}, int64_t{40}), {40, 3}));
}

TEST_F(RandomArrayTest, UniformAndExponentialFollowTheirFormulas) {
  const int64_t n = 2000;
  auto u = valuesOf<double>(mod.kernel("uniform01_loop")(int64_t{11}, n), {n});
  auto ab = valuesOf<double>(mod.kernel("uniform_ab")(int64_t{11}, n, -3.0, 5.0), {n});
  auto ex = valuesOf<double>(mod.kernel("exponentials")(int64_t{11}, n, 2.5), {n});
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_DOUBLE_EQ(ab[i], -3.0 + 8.0 * u[i]) << i;
    ASSERT_GE(ab[i], -3.0);
    ASSERT_LT(ab[i], 5.0);
    ASSERT_NEAR(ex[i], -2.5 * std::log(1.0 - u[i]), 1e-12 * (1.0 + ex[i])) << i;
    ASSERT_GE(ex[i], 0.0);
    mean += ex[i] / double(n);
  }
  // The mean of 2000 exponentials of scale 2.5: sigma 0.056; 5 sigma.
  EXPECT_NEAR(mean, 2.5, 0.28);
}

TEST_F(RandomArrayTest, Statistics) {
  // Normal: 25000 x 4 draws of N(1.5, 2^2); sigma of the mean 0.0063, of
  // the variance 0.018.
  const int64_t rows = 25000;
  auto z = valuesOf<double>(mod.kernel("normal_2d")(int64_t{12}, rows, 1.5, 2.0), {rows, 4});
  double m = 0, v = 0;
  for (double x : z)
    m += x / double(z.size());
  for (double x : z)
    v += (x - m) * (x - m) / double(z.size());
  EXPECT_NEAR(m, 1.5, 0.04);
  EXPECT_NEAR(v, 4.0, 0.1);
  // randn: standard normal.
  auto s = valuesOf<double>(mod.kernel("randn_2d")(int64_t{13}, rows), {rows, 3});
  m = v = 0;
  for (double x : s)
    m += x / double(s.size());
  for (double x : s)
    v += (x - m) * (x - m) / double(s.size());
  EXPECT_NEAR(m, 0.0, 0.02);
  EXPECT_NEAR(v, 1.0, 0.03);
  // randint(-4, 9): 13 values, the upper bound excluded, each about 1/13.
  const int64_t n = 13000;
  auto k = valuesOf<int64_t>(mod.kernel("ints_2d")(int64_t{14}, n, int64_t{-4}, int64_t{9}),
                             {2, n});
  std::vector<int> counts(13, 0);
  for (int64_t x : k) {
    ASSERT_GE(x, -4);
    ASSERT_LT(x, 9);
    counts[size_t(x + 4)]++;
  }
  for (int c : counts) // 2000 expected, sigma 43
    EXPECT_NEAR(c, 2000, 250);
  // randint(high): [0, high).
  auto b = valuesOf<int64_t>(mod.kernel("ints_below")(int64_t{15}, int64_t{1000}, int64_t{3}),
                             {1000});
  std::vector<int> seen(3, 0);
  for (int64_t x : b) {
    ASSERT_GE(x, 0);
    ASSERT_LT(x, 3);
    seen[size_t(x)]++;
  }
  for (int c : seen)
    EXPECT_GT(c, 250);
}

TEST_F(RandomArrayTest, ShapesAndScalars) {
  EXPECT_EQ(mod.kernel("uniform01")(int64_t{1}, int64_t{0}).array().shape(),
            std::vector<int64_t>{0});
  EXPECT_EQ(mod.kernel("normal_2d")(int64_t{1}, int64_t{0}, 0.0, 1.0).array().shape(),
            (std::vector<int64_t>{0, 4}));
  // rand() and random(None) are numbers; rand() + random(None) is in [0, 2).
  double x = mod.kernel("scalar_forms")(int64_t{2}).asDouble();
  EXPECT_GE(x, 0.0);
  EXPECT_LT(x, 2.0);
}

TEST_F(RandomArrayTest, ParallelKernels) {
  // Each of 64 iterations averages 4096 uniforms: sigma 0.0045 each.
  auto means = valuesOf<double>(mod.kernel("parallel_means")(int64_t{64}, int64_t{4096}), {64});
  for (double m : means)
    EXPECT_NEAR(m, 0.5, 0.03);
  // 10^6 draws, P(x < 0.5) = 1/2: sigma 500.
  int64_t below = mod.kernel("below_half")(int64_t{1000000}).asInt();
  EXPECT_NEAR(double(below), 500000.0, 3000.0);
}

TEST_F(RandomArrayTest, EmptyIntegerRangesAreErrors) {
  auto message = [&](const char *kernel, int64_t lo, int64_t hi) {
    try {
      mod.kernel(kernel)(lo, hi);
    } catch (const stn::Error &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("np_empty_range", 5, 5).find("ValueError: high <= low (low is 5, high is 5)"),
            std::string::npos)
      << message("np_empty_range", 5, 5);
  EXPECT_NE(message("py_randint", 5, 4).find("ValueError: empty range in randint(5, 4)"),
            std::string::npos)
      << message("py_randint", 5, 4);
  // Both bounds are included in random.randint; NumPy excludes high.
  EXPECT_EQ(mod.kernel("py_randint")(int64_t{5}, int64_t{5}).asInt(), 5);
  auto one = valuesOf<int64_t>(mod.kernel("np_empty_range")(int64_t{5}, int64_t{6}), {3});
  EXPECT_EQ(one, (std::vector<int64_t>{5, 5, 5}));
}

} // namespace
