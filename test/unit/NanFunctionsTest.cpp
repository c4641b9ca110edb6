//===- NanFunctionsTest.cpp - np.nansum and the other NaN-skipping functions -===//
//
// np.nansum, nanprod, nanmean, nanvar, nanstd, nanmin, nanmax, nanargmin,
// nanargmax, nanmedian, nanpercentile and nanquantile against C++ loops over
// the elements that are not NaN: whole arrays and along an axis, float32 and
// float64; all-NaN lanes give NaN (min, max, mean, median) or an error
// (argmin, argmax), as in NumPy; integer arrays behave as the plain
// functions.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numpy import nanmean
from numba import njit

@njit
def whole(a):
    return (np.nansum(a), np.nanprod(a), nanmean(a), np.nanvar(a), np.nanstd(a),
            np.nanmin(a), np.nanmax(a), np.nanargmin(a), np.nanargmax(a),
            np.nanmedian(a), np.nanpercentile(a, 30.0), np.nanquantile(a, 0.8))

@njit
def columns(a):
    return np.nansum(a, axis=0), np.nanmax(a, 0), np.nanmean(a, axis=0), np.nanmedian(a, axis=0)

@njit
def argmin_of(a):
    return np.nanargmin(a)

@njit
def int_sum(a):
    return np.nansum(a), np.nanmax(a)
)STN";

class NanFunctions : public ::testing::Test {
protected:
  NanFunctions() : Mod(Engine.loadString(Kernels, "nans.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

/// NumPy's linear quantile of the sorted numbers `v` (not empty).
template <class T> T quantileOf(std::vector<T> v, double q, bool median) {
  std::sort(v.begin(), v.end());
  double at = q * double(v.size() - 1);
  size_t lo = size_t(std::floor(at)), hi = std::min(lo + 1, v.size() - 1);
  T t = T(at - std::floor(at)), x = v[lo], y = v[hi];
  if (median)
    return t == T(0) ? x : (x + y) / T(2);
  return t >= T(0.5) ? y - (y - x) * (T(1) - t) : x + (y - x) * t;
}

template <class T> void checkWhole(stn::Module &mod) {
  SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)));
  const T nan = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> a = {T(2.5), nan, T(-1), T(4), nan, T(0.5), T(3)};
  std::vector<T> v; // the numbers
  std::vector<int64_t> at;
  for (size_t i = 0; i < a.size(); ++i)
    if (!std::isnan(a[i])) {
      v.push_back(a[i]);
      at.push_back(int64_t(i));
    }
  T sum = 0, prod = 1;
  for (T x : v) {
    sum += x;
    prod *= x;
  }
  T mean = sum / T(v.size()), var = 0;
  for (T x : v)
    var += (x - mean) * (x - mean);
  var /= T(v.size());
  auto mn = std::min_element(v.begin(), v.end()), mx = std::max_element(v.begin(), v.end());
  stn::Value r = mod.kernel("whole")(stn::ArrayView::of(a.data(), {int64_t(a.size())}));
  ASSERT_EQ(r.size(), 12u);
  auto num = [&](size_t i) { return static_cast<T>(r[i].asDouble()); };
  EXPECT_EQ(num(0), sum);
  EXPECT_EQ(num(1), prod);
  EXPECT_EQ(num(2), mean);
  EXPECT_EQ(num(3), var);
  EXPECT_EQ(num(4), std::sqrt(var));
  EXPECT_EQ(num(5), *mn);
  EXPECT_EQ(num(6), *mx);
  EXPECT_EQ(r[7].asInt(), at[size_t(mn - v.begin())]); // positions in a, NaNs included
  EXPECT_EQ(r[8].asInt(), at[size_t(mx - v.begin())]);
  EXPECT_EQ(num(9), quantileOf(v, 0.5, true));
  EXPECT_EQ(num(10), quantileOf(v, 0.3, false));
  EXPECT_EQ(num(11), quantileOf(v, 0.8, false));
}

TEST_F(NanFunctions, WholeArrays) {
  checkWhole<float>(Mod);
  checkWhole<double>(Mod);
}

TEST_F(NanFunctions, ColumnsWithAllNanOnes) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // 3x3: column 1 is all NaN.
  std::vector<double> a = {1, nan, 7, nan, nan, 2, 4, nan, nan};
  stn::Value r = Mod.kernel("columns")(stn::ArrayView::of(a.data(), {3, 3}));
  std::vector<double> sum = valuesOf<double>(r[0], {3}), mx = valuesOf<double>(r[1], {3}),
                      mean = valuesOf<double>(r[2], {3}), med = valuesOf<double>(r[3], {3});
  EXPECT_EQ(sum[0], 5.0);
  EXPECT_EQ(sum[1], 0.0); // NumPy: the sum of nothing
  EXPECT_EQ(sum[2], 9.0);
  EXPECT_EQ(mx[0], 4.0);
  EXPECT_TRUE(std::isnan(mx[1]));
  EXPECT_EQ(mx[2], 7.0);
  EXPECT_EQ(mean[0], 2.5);
  EXPECT_TRUE(std::isnan(mean[1])); // 0 / 0
  EXPECT_EQ(mean[2], 4.5);
  EXPECT_EQ(med[0], 2.5);
  EXPECT_TRUE(std::isnan(med[1]));
  EXPECT_EQ(med[2], 4.5);
  std::vector<double> allNan = {nan, nan};
  try {
    Mod.kernel("argmin_of")(stn::ArrayView::of(allNan.data(), {2}));
    ADD_FAILURE() << "no error for an all-NaN argmin";
  } catch (const stn::Error &e) {
    EXPECT_NE(std::string(e.what()).find("ValueError: All-NaN slice encountered"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(NanFunctions, IntegersAsThePlainFunctions) {
  std::vector<int16_t> a = {3, -7, 12, 0};
  stn::Value r = Mod.kernel("int_sum")(stn::ArrayView::of(a.data(), {4}));
  EXPECT_EQ(r[0].asInt(), 8);
  EXPECT_EQ(r[1].asInt(), 12);
}

} // namespace
