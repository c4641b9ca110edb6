//===- SamplingTest.cpp - np.random.shuffle, permutation, choice ----------===//
//
// np.random.shuffle against Fisher-Yates run in C++ on the kernel's own
// draws (np.random.randint(0, i + 1) for i = n - 1 down to 1 after the same
// seed), rows of 2-d arrays moved whole; np.random.permutation as the shuffle
// of np.arange(n) or of a copy; np.random.choice with replacement (counts of
// 60000 draws near uniform, fixed seed) and without (distinct positions),
// of an integer and of an array; with p=, frequencies near p (and the
// conditional frequencies of a second draw without replacement) over fixed
// seeds; with NumPy's errors.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <set>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
import random
from numba import njit

@njit
def draws(n, seed):
    np.random.seed(seed)
    out = np.zeros(max(n - 1, 0), np.int64)
    for s in range(n - 1):
        out[s] = np.random.randint(0, n - s)
    return out

@njit
def shuffled(a, seed):
    np.random.seed(seed)
    b = a.copy()
    np.random.shuffle(b)
    return b

@njit
def python_shuffled(a, seed):
    np.random.seed(seed)
    random.shuffle(a)
    return a

@njit
def permutation(n, seed):
    np.random.seed(seed)
    return np.random.permutation(n)

@njit
def permuted(a, seed):
    np.random.seed(seed)
    return np.random.permutation(a)

@njit
def choices(n, k, seed):
    np.random.seed(seed)
    return np.random.choice(n, k)

@njit
def distinct(n, k, seed):
    np.random.seed(seed)
    return np.random.choice(n, size=k, replace=False)

@njit
def weighted(n, k, p, seed):
    np.random.seed(seed)
    return np.random.choice(n, k, p=p)

@njit
def weighted_distinct(a, k, p, seed):
    np.random.seed(seed)
    return np.random.choice(a, size=k, replace=False, p=p)

@njit
def weighted_one(p):
    return np.random.choice(len(p), p=p)

@njit
def pick(a, seed):
    np.random.seed(seed)
    return np.random.choice(a), np.random.choice(a, (2, 2)), np.random.choice(a, 3, False)
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "sampling.stn");
  return m;
}

/// Fisher-Yates on `v` with the positions `j` (one per i = n - 1 .. 1).
template <class T> void fisherYates(std::vector<T> &v, const std::vector<int64_t> &j) {
  for (size_t s = 0; s < j.size(); ++s)
    std::swap(v[v.size() - 1 - s], v[static_cast<size_t>(j[s])]);
}

TEST(Sampling, ShuffleIsFisherYatesOnTheKernelsDraws) {
  for (int64_t seed : {1, 7, 12345}) {
    SCOPED_TRACE(seed);
    const int64_t n = 40;
    std::vector<int64_t> j = valuesOf<int64_t>(module().kernel("draws")(n, seed), {n - 1});
    std::vector<double> a(n);
    for (int64_t i = 0; i < n; ++i)
      a[static_cast<size_t>(i)] = 0.5 * static_cast<double>(i);
    std::vector<double> want = a;
    fisherYates(want, j);
    EXPECT_NE(want, a);
    auto A = stn::ArrayView::of(a.data(), {n});
    EXPECT_EQ(valuesOf<double>(module().kernel("shuffled")(A, seed), {n}), want);
    // permutation(n) shuffles np.arange(n) with the same draws.
    std::vector<int64_t> ids(n);
    std::iota(ids.begin(), ids.end(), 0);
    fisherYates(ids, j);
    EXPECT_EQ(valuesOf<int64_t>(module().kernel("permutation")(n, seed), {n}), ids);
    EXPECT_EQ(valuesOf<double>(module().kernel("permuted")(A, seed), {n}), want);
    // Python's random.shuffle, in place on the argument.
    std::vector<double> b = a;
    module().kernel("python_shuffled")(stn::ArrayView::of(b.data(), {n}), seed);
    EXPECT_EQ(b, want);
  }
}

TEST(Sampling, ShuffleMovesWholeRows) {
  const int64_t rows = 6, cols = 3, seed = 3;
  std::vector<int64_t> j = valuesOf<int64_t>(module().kernel("draws")(rows, seed), {rows - 1});
  std::vector<int32_t> m(rows * cols);
  std::iota(m.begin(), m.end(), 0);
  std::vector<int64_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  fisherYates(order, j);
  std::vector<int32_t> want;
  for (int64_t r : order)
    for (int64_t c = 0; c < cols; ++c)
      want.push_back(m[static_cast<size_t>(r * cols + c)]);
  auto M = stn::ArrayView::of(m.data(), {rows, cols});
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("shuffled")(M, seed), {rows, cols}), want);
  EXPECT_EQ(valuesOf<int32_t>(module().kernel("permuted")(M, seed), {rows, cols}), want);
  // Nothing to shuffle: empty and one-element arrays, permutation(0).
  std::vector<double> one = {2.5};
  EXPECT_EQ(valuesOf<double>(module().kernel("shuffled")(stn::ArrayView::of(one.data(), {1}),
                                                         seed),
                             {1}),
            one);
  EXPECT_EQ(valuesOf<int64_t>(module().kernel("permutation")(int64_t{0}, seed), {0}),
            std::vector<int64_t>{});
}

TEST(Sampling, ChoiceWithReplacementIsNearUniform) {
  const int64_t n = 6, k = 60000;
  std::vector<int64_t> c = valuesOf<int64_t>(module().kernel("choices")(n, k, int64_t{11}), {k});
  std::vector<int64_t> counts(n, 0);
  for (int64_t v : c) {
    ASSERT_GE(v, 0);
    ASSERT_LT(v, n);
    ++counts[static_cast<size_t>(v)];
  }
  // 10000 expected each; the standard deviation is about 91.
  for (int64_t x : counts)
    EXPECT_NEAR(static_cast<double>(x), 10000.0, 400.0);
}

TEST(Sampling, ChoiceWithoutReplacementIsDistinct) {
  for (int64_t k : {0, 1, 7, 20}) {
    SCOPED_TRACE(k);
    std::vector<int64_t> d = valuesOf<int64_t>(module().kernel("distinct")(int64_t{20}, k,
                                                                           int64_t{5}),
                                               {k});
    std::set<int64_t> seen(d.begin(), d.end());
    EXPECT_EQ(seen.size(), d.size());
    for (int64_t v : d) {
      EXPECT_GE(v, 0);
      EXPECT_LT(v, 20);
    }
  }
  std::vector<double> a = {1.5, -2, 8, 0.25};
  stn::Value r = module().kernel("pick")(stn::ArrayView::of(a.data(), {4}), int64_t{9});
  auto in = [&](double v) { return std::find(a.begin(), a.end(), v) != a.end(); };
  EXPECT_TRUE(in(r[0].asDouble()));
  for (double v : valuesOf<double>(r[1], {2, 2}))
    EXPECT_TRUE(in(v));
  std::vector<double> three = valuesOf<double>(r[2], {3});
  EXPECT_EQ(std::set<double>(three.begin(), three.end()).size(), 3u);
  for (double v : three)
    EXPECT_TRUE(in(v));
}

TEST(Sampling, ChoiceWithProbabilities) {
  // With replacement: the frequencies are p's (binomial standard
  // deviations below 0.0016 for 100000 draws); zero weights never come.
  std::vector<double> p = {0.1, 0.0, 0.6, 0.25, 0.05};
  const int64_t n = 5, k = 100000;
  std::vector<int64_t> c = valuesOf<int64_t>(
      module().kernel("weighted")(n, k, stn::ArrayView::of(p.data(), {n}), int64_t{3}), {k});
  std::vector<double> freq(n, 0.0);
  for (int64_t v : c) {
    ASSERT_GE(v, 0);
    ASSERT_LT(v, n);
    freq[static_cast<size_t>(v)] += 1.0 / k;
  }
  for (size_t i = 0; i < p.size(); ++i)
    EXPECT_NEAR(freq[i], p[i], 0.008) << i;
  EXPECT_EQ(freq[1], 0.0);
  // float32 probabilities, and a certain outcome.
  std::vector<float> pf = {0, 0, 1};
  EXPECT_EQ(module().kernel("weighted_one")(stn::ArrayView::of(pf.data(), {3})).asInt(), 2);
  // Without replacement: distinct elements of a with positive weight; the
  // first draw follows p, the second the weights left (P(second = 10 |
  // first = 30) = 0.2 / 0.5).
  std::vector<int64_t> a = {10, 20, 30, 40};
  std::vector<double> q = {0.2, 0.0, 0.5, 0.3};
  const int64_t runs = 20000;
  std::vector<double> first(4, 0.0);
  double afterThirty = 0, thirtyFirst = 0;
  for (int64_t r = 0; r < runs; ++r) {
    std::vector<int64_t> d = valuesOf<int64_t>(
        module().kernel("weighted_distinct")(stn::ArrayView::of(a.data(), {4}), int64_t{3},
                                             stn::ArrayView::of(q.data(), {4}), r),
        {3});
    ASSERT_EQ(std::set<int64_t>(d.begin(), d.end()).size(), 3u);
    ASSERT_EQ(std::count(d.begin(), d.end(), 20), 0);
    first[static_cast<size_t>(d[0] / 10 - 1)] += 1.0 / runs;
    if (d[0] == 30) {
      thirtyFirst += 1;
      afterThirty += d[1] == 10;
    }
  }
  for (size_t i = 0; i < q.size(); ++i)
    EXPECT_NEAR(first[i], q[i], 0.015) << i;
  EXPECT_NEAR(afterThirty / thirtyFirst, 0.4, 0.03);
  // NumPy's checks of p.
  auto fails = [&](std::vector<double> bad, int64_t size, const char *text) {
    EXPECT_NE(errorOf([&] {
                module().kernel("weighted")(int64_t{3}, size,
                                            stn::ArrayView::of(bad.data(),
                                                               {int64_t(bad.size())}),
                                            int64_t{1});
              }).find(text),
              std::string::npos)
        << text;
  };
  fails({0.5, 0.5}, 2, "ValueError: 'a' and 'p' must have same size");
  fails({0.5, 0.7, -0.2}, 2, "ValueError: probabilities are not non-negative");
  fails({0.5, 0.4, 0.2}, 2, "ValueError: probabilities do not sum to 1");
  fails({0.5, NAN, 0.5}, 2, "ValueError: probabilities contain NaN");
  std::vector<double> one = {0, 1, 0};
  EXPECT_NE(errorOf([&] {
              module().kernel("weighted_distinct")(stn::ArrayView::of(a.data(), {3}), int64_t{2},
                                                   stn::ArrayView::of(one.data(), {3}),
                                                   int64_t{1});
            }).find("ValueError: Fewer non-zero entries in p than size"),
            std::string::npos);
}

TEST(Sampling, Errors) {
  EXPECT_NE(errorOf([] { module().kernel("distinct")(int64_t{3}, int64_t{4}, int64_t{1}); })
                .find("ValueError: Cannot take a larger sample than population when "
                      "'replace=False'"),
            std::string::npos);
  EXPECT_NE(errorOf([] { module().kernel("choices")(int64_t{0}, int64_t{2}, int64_t{1}); })
                .find("ValueError: a must be greater than 0 unless no samples are taken"),
            std::string::npos);
  // No samples of nothing is fine.
  EXPECT_EQ(valuesOf<int64_t>(module().kernel("choices")(int64_t{0}, int64_t{0}, int64_t{1}),
                              {0}),
            std::vector<int64_t>{});
}

} // namespace
