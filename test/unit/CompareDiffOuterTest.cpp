//===- CompareDiffOuterTest.cpp - isclose, allclose, count_nonzero, diff, outer -===//
//
// Each result against a C++ loop:
//   - np.isclose / np.allclose with the default and given tolerances (by
//     position and keyword), infinities, NaNs with and without equal_nan,
//     broadcasting, integer operands and scalars;
//   - np.count_nonzero for several dtypes (NaN counts as nonzero);
//   - np.diff of order 0, 1 and 2 along each axis, integer results wrap;
//   - np.outer of arrays of any rank (flattened) and mixed dtypes.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def close_default(a, b):
    return np.isclose(a, b)

@njit
def close_given(a, b):
    return np.isclose(a, b, 0.01, atol=0.5, equal_nan=True)

@njit
def all_close(a, b, rtol):
    return np.allclose(a, b, rtol=rtol)

@njit
def close_scalars(x, y):
    return np.isclose(x, y)

@njit
def nonzero(a):
    return np.count_nonzero(a)

@njit
def diff_last(a):
    return np.diff(a)

@njit
def diff_first_twice(a):
    return np.diff(a, 2, 0)

@njit
def diff_none(a):
    return np.diff(a, n=0)

@njit
def outer(a, b):
    return np.outer(a, b)
)STN";

class CompareDiffOuter : public ::testing::Test {
protected:
  CompareDiffOuter() : Mod(Engine.loadString(Kernels, "extras.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

bool closeRef(double a, double b, double rtol, double atol, bool equalNan) {
  if (std::isnan(a) || std::isnan(b))
    return equalNan && std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b))
    return a == b;
  return std::fabs(a - b) <= atol + rtol * std::fabs(b);
}

TEST_F(CompareDiffOuter, IscloseAndAllclose) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // A 2x4 array against a row of 4 (broadcast).
  std::vector<double> a = {1.0, 100.0, inf, nan, 1.00001, 100.5, -inf, 0.0};
  std::vector<double> b = {1.000001, 100.2, inf, nan};
  std::vector<uint8_t> def, given;
  for (size_t i = 0; i < a.size(); ++i) {
    def.push_back(closeRef(a[i], b[i % 4], 1e-05, 1e-08, false));
    given.push_back(closeRef(a[i], b[i % 4], 0.01, 0.5, true));
  }
  auto av = stn::ArrayView::of(a.data(), {2, 4});
  auto bv = stn::ArrayView::of(b.data(), {4});
  EXPECT_EQ(valuesOf<uint8_t>(Mod.kernel("close_default")(av, bv), {2, 4}), def);
  EXPECT_EQ(valuesOf<uint8_t>(Mod.kernel("close_given")(av, bv), {2, 4}), given);
  // allclose: every element; integers compare as float64.
  std::vector<int32_t> x = {100, 200, 300};
  std::vector<double> y = {100.05, 199.9, 300.2};
  auto xv = stn::ArrayView::of(x.data(), {3});
  auto yv = stn::ArrayView::of(y.data(), {3});
  bool loose = true, tight = true;
  for (size_t i = 0; i < x.size(); ++i) {
    loose = loose && closeRef(x[i], y[i], 1e-3, 1e-08, false);
    tight = tight && closeRef(x[i], y[i], 1e-4, 1e-08, false);
  }
  EXPECT_EQ(Mod.kernel("all_close")(xv, yv, 1e-3).asBool(), loose);
  EXPECT_EQ(Mod.kernel("all_close")(xv, yv, 1e-4).asBool(), tight);
  EXPECT_TRUE(loose);
  EXPECT_FALSE(tight);
  EXPECT_TRUE(Mod.kernel("close_scalars")(1.0, 1.0 + 1e-9).asBool());
  EXPECT_FALSE(Mod.kernel("close_scalars")(1.0, 1.001).asBool());
  EXPECT_FALSE(Mod.kernel("close_scalars")(nan, nan).asBool());
}

TEST_F(CompareDiffOuter, CountNonzero) {
  std::vector<int16_t> i16 = {0, 3, 0, -2, 7, 0};
  std::vector<double> f = {0.0, -0.0, std::nan(""), 1e-300, 0.0};
  std::vector<uint8_t> u = {0, 255, 1};
  EXPECT_EQ(Mod.kernel("nonzero")(stn::ArrayView::of(i16.data(), {2, 3})).asInt(), 3);
  EXPECT_EQ(Mod.kernel("nonzero")(stn::ArrayView::of(f.data(), {5})).asInt(), 2);
  EXPECT_EQ(Mod.kernel("nonzero")(stn::ArrayView::of(u.data(), {3})).asInt(), 2);
}

TEST_F(CompareDiffOuter, DiffAlongAxes) {
  // 3x4 int8: values that overflow int8 when subtracted, to show the wrap.
  std::vector<int8_t> a = {100, -100, 5, 7, -120, 120, 0, 1, 3, 9, 27, 81};
  auto av = stn::ArrayView::of(a.data(), {3, 4});
  std::vector<int8_t> last, twice;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      last.push_back(static_cast<int8_t>(a[size_t(4 * i + j + 1)] - a[size_t(4 * i + j)]));
  for (int j = 0; j < 4; ++j) { // second difference down the columns
    int8_t d0 = static_cast<int8_t>(a[size_t(4 + j)] - a[size_t(j)]);
    int8_t d1 = static_cast<int8_t>(a[size_t(8 + j)] - a[size_t(4 + j)]);
    twice.push_back(static_cast<int8_t>(d1 - d0));
  }
  EXPECT_EQ(valuesOf<int8_t>(Mod.kernel("diff_last")(av), {3, 3}), last);
  EXPECT_EQ(valuesOf<int8_t>(Mod.kernel("diff_first_twice")(av), {1, 4}), twice);
  EXPECT_EQ(valuesOf<int8_t>(Mod.kernel("diff_none")(av), {3, 4}), a);
  std::vector<double> f = {1.0, 4.0, 9.0, 16.0};
  EXPECT_EQ(valuesOf<double>(Mod.kernel("diff_last")(stn::ArrayView::of(f.data(), {4})), {3}),
            (std::vector<double>{3.0, 5.0, 7.0}));
}

TEST_F(CompareDiffOuter, OuterOfFlattenedArrays) {
  std::vector<int32_t> a = {1, -2, 3, 4}; // 2x2: flattened
  std::vector<float> b = {0.5f, 2.0f, -1.0f};
  std::vector<double> want;
  for (int32_t x : a)
    for (float y : b)
      want.push_back(double(x) * double(y));
  // int32 with float32 promotes to float64 (NumPy).
  EXPECT_EQ(valuesOf<double>(Mod.kernel("outer")(stn::ArrayView::of(a.data(), {2, 2}),
                                                 stn::ArrayView::of(b.data(), {3})),
                             {4, 3}),
            want);
}

} // namespace
