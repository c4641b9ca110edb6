//===- LookupTest.cpp - np.unique, searchsorted, bincount, histogram, interp -===//
//
// Each result against the C++ standard library or a loop:
//   - unique of integers and of floats with NaNs (one NaN, last), and
//     with return_index, return_inverse (a 2-d input's shape) and
//     return_counts against their definitions, equal_nan=False;
//   - searchsorted, left and right, of random keys (scalars and arrays)
//     against std::lower_bound / std::upper_bound, repeats included;
//   - bincount with and without weights and minlength;
//   - histogram with a number of bins (data range, given range) and with
//     edges, against counts of edges[j] <= x < edges[j + 1] (the last bin
//     closed); the edges against np.linspace's formula;
//   - interp inside, at and outside the sample points, with left/right;
//   - the errors of negative counts, unequal lengths and no bins.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def unique(a):
    return np.unique(a)

@njit
def unique_all(a):
    return np.unique(a, return_index=True, return_inverse=True, return_counts=True)

@njit
def unique_counts(a):
    return np.unique(a, return_counts=True, equal_nan=False)

@njit
def unique_inverse_2d(m):
    u, inv = np.unique(m, return_inverse=True)
    return u, inv, u[inv]

@njit
def search(a, v):
    return np.searchsorted(a, v), np.searchsorted(a, v, side="right")

@njit
def search_one(a, x):
    return np.searchsorted(a, x, side="right")

@njit
def counts(x):
    return np.bincount(x)

@njit
def weighted(x, w, m):
    return np.bincount(x, weights=w, minlength=m)

@njit
def hist_bins(a, n):
    return np.histogram(a, n)

@njit
def hist_range(a):
    return np.histogram(a, bins=5, range=(-1.0, 1.0))

@njit
def hist_edges(a, e):
    return np.histogram(a, e)

@njit
def interp(x, xp, fp):
    return np.interp(x, xp, fp)

@njit
def interp_outside(x, xp, fp):
    return np.interp(x, xp, fp, left=-7.0, right=7.0)
)STN";

class Lookup : public ::testing::Test {
protected:
  Lookup() : Mod(Engine.loadString(Kernels, "lookup.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

template <class T> stn::ArrayView view(std::vector<T> &v) {
  return stn::ArrayView::of(v.data(), {int64_t(v.size())});
}

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const stn::Error &e) {
    return e.what();
  }
  return "no error";
}

TEST_F(Lookup, Unique) {
  std::vector<int32_t> i = {5, -2, 5, 0, -2, 9, 0, 0};
  std::vector<int32_t> iu = i;
  std::sort(iu.begin(), iu.end());
  iu.erase(std::unique(iu.begin(), iu.end()), iu.end());
  EXPECT_EQ(valuesOf<int32_t>(Mod.kernel("unique")(view(i)), {int64_t(iu.size())}), iu);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> f = {2.5, nan, -1.0, 2.5, nan, -1.0, 7.0};
  std::vector<double> fu = valuesOf<double>(Mod.kernel("unique")(view(f)), {4});
  EXPECT_EQ(fu[0], -1.0);
  EXPECT_EQ(fu[1], 2.5);
  EXPECT_EQ(fu[2], 7.0);
  EXPECT_TRUE(std::isnan(fu[3]));
}

TEST_F(Lookup, UniqueIndexInverseAndCounts) {
  // Against the definitions: the first position of each distinct value,
  // each element's place among them, and how often each occurs.
  std::mt19937 gen(7);
  std::uniform_int_distribution<int64_t> d(-5, 5);
  std::vector<int64_t> a(200);
  for (auto &x : a)
    x = d(gen);
  std::vector<int64_t> u = a;
  std::sort(u.begin(), u.end());
  u.erase(std::unique(u.begin(), u.end()), u.end());
  std::vector<int64_t> first(u.size(), -1), inverse, counts(u.size(), 0);
  for (size_t i = 0; i < a.size(); ++i) {
    auto j = size_t(std::lower_bound(u.begin(), u.end(), a[i]) - u.begin());
    if (first[j] < 0)
      first[j] = int64_t(i);
    inverse.push_back(int64_t(j));
    ++counts[j];
  }
  const int64_t n = int64_t(u.size()), m = int64_t(a.size());
  stn::Value r = Mod.kernel("unique_all")(view(a));
  EXPECT_EQ(valuesOf<int64_t>(r[0], {n}), u);
  EXPECT_EQ(valuesOf<int64_t>(r[1], {n}), first);
  EXPECT_EQ(valuesOf<int64_t>(r[2], {m}), inverse);
  EXPECT_EQ(valuesOf<int64_t>(r[3], {n}), counts);
  // equal_nan=False: every NaN its own value, after the numbers.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> f = {2.5, nan, -1.0, 2.5, nan, -1.0, 7.0};
  stn::Value c = Mod.kernel("unique_counts")(view(f));
  std::vector<double> fu = valuesOf<double>(c[0], {5});
  EXPECT_EQ(std::vector<double>(fu.begin(), fu.begin() + 3), (std::vector<double>{-1, 2.5, 7}));
  EXPECT_TRUE(std::isnan(fu[3]) && std::isnan(fu[4]));
  EXPECT_EQ(valuesOf<int64_t>(c[1], {5}), (std::vector<int64_t>{2, 2, 1, 1, 1}));
  // A 2-d array: the inverse has its shape (NumPy 2), and u[inverse] is it.
  std::vector<int32_t> mm = {5, 1, 5, 2, 1, 9};
  stn::Value t = Mod.kernel("unique_inverse_2d")(stn::ArrayView::of(mm.data(), {2, 3}));
  EXPECT_EQ(valuesOf<int32_t>(t[0], {4}), (std::vector<int32_t>{1, 2, 5, 9}));
  EXPECT_EQ(valuesOf<int64_t>(t[1], {2, 3}), (std::vector<int64_t>{2, 0, 2, 1, 0, 3}));
  EXPECT_EQ(valuesOf<int32_t>(t[2], {2, 3}), mm);
}

TEST_F(Lookup, SearchsortedAgainstTheStandardLibrary) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> d(0, 40);
  std::vector<double> a(200);
  for (double &x : a)
    x = double(d(rng)) * 0.5; // many repeats
  std::sort(a.begin(), a.end());
  std::vector<double> keys(500);
  for (double &x : keys)
    x = double(d(rng)) * 0.5 - 1.0;
  std::vector<int64_t> left, right;
  for (double k : keys) {
    left.push_back(std::lower_bound(a.begin(), a.end(), k) - a.begin());
    right.push_back(std::upper_bound(a.begin(), a.end(), k) - a.begin());
  }
  stn::Value r = Mod.kernel("search")(view(a), view(keys));
  EXPECT_EQ(valuesOf<int64_t>(r[0], {500}), left);
  EXPECT_EQ(valuesOf<int64_t>(r[1], {500}), right);
  EXPECT_EQ(Mod.kernel("search_one")(view(a), 3.0).asInt(),
            std::upper_bound(a.begin(), a.end(), 3.0) - a.begin());
  // Integer keys in a float array.
  std::vector<int64_t> ik = {-5, 0, 7, 100};
  stn::Value ri = Mod.kernel("search")(view(a), view(ik));
  for (size_t j = 0; j < ik.size(); ++j)
    EXPECT_EQ(valuesOf<int64_t>(ri[0], {4})[j],
              std::lower_bound(a.begin(), a.end(), double(ik[j])) - a.begin());
}

TEST_F(Lookup, Bincount) {
  std::vector<int64_t> x = {1, 3, 1, 0, 5, 3, 3};
  std::vector<int64_t> want(6, 0);
  for (int64_t v : x)
    want[size_t(v)]++;
  EXPECT_EQ(valuesOf<int64_t>(Mod.kernel("counts")(view(x)), {6}), want);
  std::vector<double> w = {0.5, 1, 1.5, 2, 2.5, 3, 4};
  std::vector<double> ww(9, 0.0);
  for (size_t i = 0; i < x.size(); ++i)
    ww[size_t(x[i])] += w[i];
  EXPECT_EQ(valuesOf<double>(Mod.kernel("weighted")(view(x), view(w), int64_t{9}), {9}), ww);
  std::vector<int64_t> neg = {1, -1};
  EXPECT_NE(errorOf([&] { Mod.kernel("counts")(view(neg)); })
                .find("ValueError: 'list' argument must have no negative elements"),
            std::string::npos);
  std::vector<double> shortW = {1.0};
  EXPECT_NE(errorOf([&] { Mod.kernel("weighted")(view(x), view(shortW), int64_t{0}); })
                .find("ValueError: The weights and list don't have the same length."),
            std::string::npos);
}

/// Counts of edges[j] <= x < edges[j + 1], the last bin closed.
std::vector<int64_t> countsOf(const std::vector<double> &a, const std::vector<double> &e) {
  std::vector<int64_t> c(e.size() - 1, 0);
  for (double x : a)
    for (size_t j = 0; j + 1 < e.size(); ++j)
      if (x >= e[j] && (x < e[j + 1] || (j + 2 == e.size() && x == e[j + 1]))) {
        c[j]++;
        break;
      }
  return c;
}

std::vector<double> linspace(double lo, double hi, int64_t bins) {
  std::vector<double> e;
  double step = (hi - lo) / double(bins);
  for (int64_t i = 0; i <= bins; ++i)
    e.push_back(i == bins ? hi : lo + double(i) * step);
  return e;
}

TEST_F(Lookup, Histogram) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> n(0.0, 0.6);
  std::vector<double> a(3000);
  for (double &x : a)
    x = n(rng);
  a[0] = 1.0; // on the last edge of the given range
  double lo = *std::min_element(a.begin(), a.end()), hi = *std::max_element(a.begin(), a.end());
  stn::Value r = Mod.kernel("hist_bins")(view(a), int64_t{12});
  std::vector<double> e = linspace(lo, hi, 12);
  EXPECT_EQ(valuesOf<double>(r[1], {13}), e);
  EXPECT_EQ(valuesOf<int64_t>(r[0], {12}), countsOf(a, e));
  stn::Value g = Mod.kernel("hist_range")(view(a));
  std::vector<double> ge = linspace(-1.0, 1.0, 5);
  EXPECT_EQ(valuesOf<double>(g[1], {6}), ge);
  EXPECT_EQ(valuesOf<int64_t>(g[0], {5}), countsOf(a, ge));
  std::vector<double> edges = {-2.0, -0.5, 0.0, 0.1, 3.0};
  stn::Value h = Mod.kernel("hist_edges")(view(a), view(edges));
  EXPECT_EQ(valuesOf<int64_t>(h[0], {4}), countsOf(a, edges));
  EXPECT_NE(errorOf([&] { Mod.kernel("hist_bins")(view(a), int64_t{0}); })
                .find("ValueError: `bins` must be positive, when an integer"),
            std::string::npos);
}

TEST_F(Lookup, Interp) {
  std::vector<double> xp = {0.0, 1.0, 2.5, 4.0}, fp = {1.0, 3.0, -2.0, 0.0};
  std::vector<double> x = {-1.0, 0.0, 0.25, 1.0, 2.0, 2.5, 3.9, 4.0, 5.0};
  auto ref = [&](double v, double left, double right) {
    if (v < xp.front())
      return left;
    if (v > xp.back())
      return right;
    if (v == xp.back())
      return fp.back();
    size_t j = size_t(std::upper_bound(xp.begin(), xp.end(), v) - xp.begin()) - 1;
    if (v == xp[j])
      return fp[j];
    double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    return slope * (v - xp[j]) + fp[j];
  };
  std::vector<double> inside, outside;
  for (double v : x) {
    inside.push_back(ref(v, fp.front(), fp.back()));
    outside.push_back(ref(v, -7.0, 7.0));
  }
  EXPECT_EQ(valuesOf<double>(Mod.kernel("interp")(view(x), view(xp), view(fp)), {9}), inside);
  EXPECT_EQ(valuesOf<double>(Mod.kernel("interp_outside")(view(x), view(xp), view(fp)), {9}),
            outside);
  EXPECT_EQ(Mod.kernel("interp")(1.75, view(xp), view(fp)).asDouble(), ref(1.75, 0, 0));
  std::vector<double> fewer = {1.0, 2.0};
  EXPECT_NE(errorOf([&] { Mod.kernel("interp")(view(x), view(xp), view(fewer)); })
                .find("ValueError: fp and xp are not of the same length."),
            std::string::npos);
}

} // namespace
