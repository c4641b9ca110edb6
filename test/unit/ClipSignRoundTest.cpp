//===- ClipSignRoundTest.cpp - np.clip, np.sign, np.square, rounding ------===//
//
// NumPy's elementwise clip, sign, square and round (and Python's round) in
// kernels, each result against a C++ loop, for every dtype they take:
//   - clip with both bounds, either one None, array bounds that broadcast,
//     and of scalars; NaN propagates; the dtype is kept under NEP 50 (a
//     literal bound does not widen an int8 array);
//   - sign (NaN stays NaN, either zero gives 0), square (integers wrap);
//   - round half to even, with positive and negative decimals (NumPy's
//     scale-round-unscale method), a.round(decimals=...), and Python's
//     round(x) -> int64, round(x, n) -> float.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def clip_both(a):
    return np.clip(a, 2, 50)

@njit
def clip_upper(a):
    return a.clip(None, 7)

@njit
def clip_lower(a):
    return np.clip(a, 3, None)

@njit
def clip_rows(a, lo):
    return np.clip(a, lo, 10.0)

@njit
def clip_scalar(x):
    return np.clip(x, -1.0, 1.0)

@njit
def sign(a):
    return np.sign(a)

@njit
def square(a):
    return np.square(a)

@njit
def round_even(a):
    return np.round(a)

@njit
def round_decimals(a, d):
    return np.around(a, d)

@njit
def round_method(a):
    return a.round(decimals=2)

@njit
def py_round(x):
    return round(x)

@njit
def py_round_digits(x, n):
    return round(x, n)
)STN";

class ClipSignRound : public ::testing::Test {
protected:
  ClipSignRound() : Mod(Engine.loadString(Kernels, "clip.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

/// Values of kind T that cover negatives (for signed kinds), zero and
/// values on both sides of the clip bounds.
template <class T> std::vector<T> inputs() {
  std::vector<T> v;
  for (int i = -12; i < 60; i += 5)
    if (std::is_signed_v<T> || i >= 0)
      v.push_back(static_cast<T>(i));
  if constexpr (std::is_floating_point_v<T>) {
    v.push_back(T(2.5));
    v.push_back(T(-0.0));
    v.push_back(std::numeric_limits<T>::quiet_NaN());
  }
  return v;
}

/// Equal, NaN equal to NaN.
template <class T> void expectSame(const std::vector<T> &got, const std::vector<T> &want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(want[i])) {
        EXPECT_TRUE(std::isnan(got[i])) << i;
        continue;
      }
    EXPECT_EQ(got[i], want[i]) << i;
  }
}

template <class T> T clipRef(T x, std::optional<T> lo, std::optional<T> hi) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(x))
      return x;
  if (lo && x < *lo)
    x = *lo;
  if (hi && x > *hi)
    x = *hi;
  return x;
}

template <class T> void checkDtype(stn::Module &mod) {
  SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)));
  std::vector<T> a = inputs<T>();
  const int64_t n = int64_t(a.size());
  auto av = stn::ArrayView::of(a.data(), {n});
  std::vector<T> both, upper, lower, sign, square;
  for (T x : a) {
    both.push_back(clipRef<T>(x, T(2), T(50)));
    upper.push_back(clipRef<T>(x, std::nullopt, T(7)));
    lower.push_back(clipRef<T>(x, T(3), std::nullopt));
    if constexpr (std::is_floating_point_v<T>)
      sign.push_back(std::isnan(x) ? x : x > 0 ? T(1) : x < 0 ? T(-1) : T(0));
    else
      sign.push_back(static_cast<T>((x > 0) - (x < 0)));
    square.push_back(static_cast<T>(x * x)); // wraps for narrow integers
  }
  // Literal bounds are weak (NEP 50): the result keeps the array's dtype.
  expectSame(valuesOf<T>(mod.kernel("clip_both")(av), {n}), both);
  expectSame(valuesOf<T>(mod.kernel("clip_upper")(av), {n}), upper);
  expectSame(valuesOf<T>(mod.kernel("clip_lower")(av), {n}), lower);
  expectSame(valuesOf<T>(mod.kernel("sign")(av), {n}), sign);
  expectSame(valuesOf<T>(mod.kernel("square")(av), {n}), square);
  if constexpr (!std::is_floating_point_v<T>)
    expectSame(valuesOf<T>(mod.kernel("round_even")(av), {n}), a); // already whole
}

TEST_F(ClipSignRound, EveryRealDtype) {
  checkDtype<int8_t>(Mod);
  checkDtype<int16_t>(Mod);
  checkDtype<int32_t>(Mod);
  checkDtype<int64_t>(Mod);
  checkDtype<uint8_t>(Mod);
  checkDtype<uint32_t>(Mod);
  checkDtype<float>(Mod);
  checkDtype<double>(Mod);
}

TEST_F(ClipSignRound, ArrayBoundsBroadcastAndScalars) {
  std::vector<double> a = {-5, 0, 5, 15, 20, 25}; // 2x3
  std::vector<double> lo = {0, 10, 20};            // one per column
  std::vector<double> want;
  for (size_t i = 0; i < a.size(); ++i)
    want.push_back(std::min(std::max(a[i], lo[i % 3]), 10.0));
  EXPECT_EQ(valuesOf<double>(Mod.kernel("clip_rows")(stn::ArrayView::of(a.data(), {2, 3}),
                                                     stn::ArrayView::of(lo.data(), {3})),
                             {2, 3}),
            want);
  EXPECT_EQ(Mod.kernel("clip_scalar")(3.5).asDouble(), 1.0);
  EXPECT_EQ(Mod.kernel("clip_scalar")(-0.25).asDouble(), -0.25);
}

template <class T> void checkRounding(stn::Module &mod) {
  SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)));
  std::vector<T> a = {T(0.5),    T(1.5),   T(2.5),  T(-2.5),  T(-0.5), T(3.14159),
                      T(-2.718), T(1234.5), T(15.0), T(-25.0), T(0.125)};
  a.push_back(std::numeric_limits<T>::quiet_NaN());
  const int64_t n = int64_t(a.size());
  auto av = stn::ArrayView::of(a.data(), {n});
  auto scaled = [](T x, int64_t d) {
    // NumPy's method, in T: scale by 10**|d|, round half to even, scale back.
    T p = static_cast<T>(std::pow(T(10), T(d < 0 ? -d : d)));
    return d >= 0 ? static_cast<T>(std::nearbyint(x * p) / p)
                  : static_cast<T>(std::nearbyint(x / p) * p);
  };
  std::vector<T> even, two, tens;
  for (T x : a) {
    even.push_back(std::nearbyint(x)); // the default rounding mode: half to even
    two.push_back(scaled(x, 2));
    tens.push_back(scaled(x, -1));
  }
  expectSame(valuesOf<T>(mod.kernel("round_even")(av), {n}), even);
  expectSame(valuesOf<T>(mod.kernel("round_decimals")(av, int64_t{2}), {n}), two);
  expectSame(valuesOf<T>(mod.kernel("round_method")(av), {n}), two);
  expectSame(valuesOf<T>(mod.kernel("round_decimals")(av, int64_t{-1}), {n}), tens);
}

TEST_F(ClipSignRound, RoundHalfToEven) {
  checkRounding<float>(Mod);
  checkRounding<double>(Mod);
  // Python's round: an int64 for round(x), a float for round(x, n).
  EXPECT_EQ(Mod.kernel("py_round")(2.5).asInt(), 2);
  EXPECT_EQ(Mod.kernel("py_round")(3.5).asInt(), 4);
  EXPECT_EQ(Mod.kernel("py_round")(-2.5).asInt(), -2);
  EXPECT_EQ(Mod.kernel("py_round")(-2.6).asInt(), -3);
  EXPECT_EQ(Mod.kernel("py_round")(int64_t{7}).asInt(), 7);
  EXPECT_EQ(Mod.kernel("py_round_digits")(1.25, int64_t{1}).asDouble(), 1.2);
  EXPECT_EQ(Mod.kernel("py_round_digits")(1234.0, int64_t{-2}).asDouble(), 1200.0);
}

} // namespace
