//===- LocalFunctionTest.cpp - Local functions and lambdas -----------------===//
//
// Kernels with a `def` inside and lambdas, against the same computation
// written as plain C++ loops:
//   - a closure over a scalar and an array of the kernel, applied in a
//     serial loop and in a parallel prange loop, for float64, float32,
//     int64 and int32 arrays (each dtype its own specialization of the
//     local function);
//   - late binding: the closure reads the variable as it is when it runs;
//   - a local function that writes into an array of the kernel;
//   - a recursive local function (a running sum by recursion) and two
//     nested levels reading variables of both functions around them;
//   - a lambda with a default value and a keyword argument;
//   - a lambda in a stencil and in a ufunc, given the neighbours' values;
//   - sorted(key=) and list.sort(key=) against std::stable_sort on random
//     items with many equal keys, ascending and reverse=True (Python keeps
//     equal keys in their order both ways), with number and tuple keys.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange, stencil, vectorize

@njit
def affine(a, w, s):
    def f(i):
        return a[i] * s + w[i % w.shape[0]]
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = f(i)
    return out

@njit(parallel=True)
def affine_parallel(a, w, s):
    f = lambda i: a[i] * s + w[i % w.shape[0]]
    out = np.empty_like(a)
    for i in prange(a.shape[0]):
        out[i] = f(i)
    return out

@njit
def late(a):
    k = 1
    def add_k(x):
        return x + k
    for i in range(a.shape[0]):
        a[i] = add_k(a[i])
        k = k * 2

@njit
def fill(a, v):
    def put(i):
        a[i] = v * i
    for i in range(a.shape[0]):
        put(i)

@njit
def prefix(a, n):
    def upto(k):
        if k < 0:
            return 0.0
        return a[k] + upto(k - 1)
    return upto(n - 1)

@njit
def two_levels(a, c):
    d = 3
    def outer(i):
        e = i * 2
        def inner(x):
            return x * c + d + e
        return inner(a[i])
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        out[i] = outer(i)
    return out

@stencil
def neighbours(a, w):
    mean = lambda x, y: w * (x + y)
    return mean(a[-1], a[1])

@vectorize
def poly(x):
    sq = lambda v: v * v
    return sq(x) + x

@njit
def by_key(a, m, rev):
    return sorted([x for x in a], key=lambda v: v % m, reverse=rev)

@njit
def by_pair_key(a, b, rev):
    ps = [(a[i], b[i]) for i in range(a.shape[0])]
    ps.sort(key=lambda p: (p[1] // 2, -p[0]), reverse=rev)
    return ps

@njit
def with_defaults(x):
    g = lambda v, scale=2.0, shift=0.0: v * scale + shift
    return g(x) + g(x, 3.0) + g(x, shift=1.0) + g(v=x, scale=0.5)
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "local-functions.stn");
  return m;
}

template <class T> void checkAffine(const char *kernel, T s) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> d(-50, 50);
  for (int64_t n : {0, 1, 5, 1000}) {
    std::vector<T> a(static_cast<size_t>(n)), w(3);
    for (auto &v : a)
      v = static_cast<T>(d(rng));
    for (auto &v : w)
      v = static_cast<T>(d(rng));
    std::vector<T> want(a.size());
    for (size_t i = 0; i < a.size(); ++i)
      want[i] = static_cast<T>(a[i] * s + w[i % w.size()]);
    stn::Value r = module().kernel(kernel)(stn::ArrayView::of(a.data(), {n}),
                                           stn::ArrayView::of(w.data(), {3}), s);
    EXPECT_EQ(valuesOf<T>(r, {n}), want) << kernel << " n=" << n;
  }
}

TEST(LocalFunctions, ClosureOverScalarsAndArraysForEachDtype) {
  for (const char *k : {"affine", "affine_parallel"}) {
    checkAffine<double>(k, 0.5);
    checkAffine<float>(k, 1.5f);
    checkAffine<int64_t>(k, int64_t{3});
    checkAffine<int32_t>(k, int32_t{-2});
  }
}

TEST(LocalFunctions, LateBindingAndWritesToTheKernelsArrays) {
  std::vector<int64_t> a = {10, 20, 30, 40};
  module().kernel("late")(stn::ArrayView::of(a.data(), {4}));
  EXPECT_EQ(a, (std::vector<int64_t>{11, 22, 34, 48})); // k = 1, 2, 4, 8
  std::vector<double> b(5, -1.0);
  module().kernel("fill")(stn::ArrayView::of(b.data(), {5}), 2.5);
  for (size_t i = 0; i < b.size(); ++i)
    EXPECT_EQ(b[i], 2.5 * static_cast<double>(i)) << i;
}

TEST(LocalFunctions, RecursionAndNesting) {
  std::vector<double> a(50);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = 0.25 * static_cast<double>(i) - 3.0;
  double sum = 0.0;
  for (int64_t n = 0; n <= 50; ++n) {
    EXPECT_EQ(module().kernel("prefix")(stn::ArrayView::of(a.data(), {50}), n).asDouble(), sum)
        << n;
    if (n < 50)
      sum = sum + a[static_cast<size_t>(n)]; // upto adds from the last down: same order
  }
  std::vector<double> x = {1.5, -2.0, 4.0};
  stn::Value r = module().kernel("two_levels")(stn::ArrayView::of(x.data(), {3}), 2.0);
  std::vector<double> want;
  for (size_t i = 0; i < x.size(); ++i)
    want.push_back(x[i] * 2.0 + 3.0 + 2.0 * static_cast<double>(i));
  EXPECT_EQ(valuesOf<double>(r, {3}), want);
}

TEST(LocalFunctions, InStencilsAndUfuncs) {
  std::vector<double> a = {1.0, 4.0, -2.0, 8.0, 0.5};
  stn::Value r = module().kernel("neighbours")(stn::ArrayView::of(a.data(), {5}), 0.5);
  std::vector<double> want(5, 0.0); // the constant border: 0
  for (size_t i = 1; i + 1 < a.size(); ++i)
    want[i] = 0.5 * (a[i - 1] + a[i + 1]);
  EXPECT_EQ(valuesOf<double>(r, {5}), want);
  std::vector<float> x = {0.5f, -3.0f, 2.0f};
  stn::Value p = module().kernel("poly")(stn::ArrayView::of(x.data(), {3}));
  std::vector<float> wantP;
  for (float v : x)
    wantP.push_back(v * v + v);
  EXPECT_EQ(valuesOf<float>(p, {3}), wantP);
}

/// Python's v % m for m > 0.
int64_t pyMod(int64_t v, int64_t m) { return ((v % m) + m) % m; }

TEST(LocalFunctions, SortByKeyIsStableBothWays) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int64_t> d(-20, 20);
  for (int64_t n : {0, 1, 2, 7, 100, 1000}) {
    std::vector<int64_t> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
    for (auto &v : a)
      v = d(rng);
    for (auto &v : b)
      v = d(rng);
    for (bool rev : {false, true}) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " reverse=" << rev);
      const int64_t m = 4;
      std::vector<int64_t> want = a;
      std::stable_sort(want.begin(), want.end(), [&](int64_t x, int64_t y) {
        return rev ? pyMod(x, m) > pyMod(y, m) : pyMod(x, m) < pyMod(y, m);
      });
      stn::Value r = module().kernel("by_key")(stn::ArrayView::of(a.data(), {n}), m, rev);
      EXPECT_EQ(valuesOf<int64_t>(r, {n}), want);
      // Tuple keys: (b // 2, -a), Python's floor division.
      using Pair = std::pair<int64_t, int64_t>;
      std::vector<Pair> ps;
      for (size_t i = 0; i < a.size(); ++i)
        ps.emplace_back(a[i], b[i]);
      auto key = [](const Pair &p) {
        int64_t q = p.second / 2 - (p.second % 2 != 0 && p.second < 0 ? 1 : 0);
        return std::make_pair(q, -p.first);
      };
      std::vector<Pair> wantPairs = ps;
      std::stable_sort(wantPairs.begin(), wantPairs.end(), [&](const Pair &x, const Pair &y) {
        return rev ? key(x) > key(y) : key(x) < key(y);
      });
      std::vector<int64_t> flat;
      for (auto &[x, y] : wantPairs) {
        flat.push_back(x);
        flat.push_back(y);
      }
      stn::Value rp = module().kernel("by_pair_key")(stn::ArrayView::of(a.data(), {n}),
                                                     stn::ArrayView::of(b.data(), {n}), rev);
      if (n > 0) { // an empty list of tuples comes back as an empty array
        EXPECT_EQ(valuesOf<int64_t>(rp, {n, 2}), flat);
      }
    }
  }
}

TEST(LocalFunctions, LambdaDefaultsAndKeywords) {
  for (double x : {0.0, 1.0, -2.5, 1e10}) {
    double want = (x * 2.0 + 0.0) + (x * 3.0 + 0.0) + (x * 2.0 + 1.0) + (x * 0.5 + 0.0);
    EXPECT_EQ(module().kernel("with_defaults")(x).asDouble(), want) << x;
  }
}

} // namespace
