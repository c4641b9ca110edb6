//===- MathModuleTest.cpp - math.gamma ... divmod against references ------===//
//
// The math-module functions beyond the elementary ones, and divmod, each
// against a reference written here:
//   - gamma, lgamma, fmod, remainder, ldexp, frexp, modf, divmod and
//     log(x, base) of float64 and float32 numbers, over ordinary values,
//     signed zeros, infinities, nan, subnormals and the poles of gamma:
//     frexp, modf and divmod (generated code) against std::frexp,
//     std::modf and CPython's float_divmod written out in C++; the libm
//     calls (gamma, lgamma, fmod, remainder, ldexp) against the same libm
//     called from C++ (which checks the wiring: operand order, the float32
//     variants) and known values (gamma(n) = (n-1)!, gamma(1/2) = sqrt(pi));
//   - gcd, lcm (with 0, negatives, more or fewer than two arguments), divmod
//     and np.fmod of integers against std::gcd, std::lcm and floor division;
//   - isqrt of int64 and uint64 numbers around every perfect square's edges
//     up to the largest, against r*r <= n < (r+1)*(r+1) in 128-bit integers;
//   - factorial, comb and perm for n up to 70 and every k, against Pascal's
//     triangle and products in 128-bit integers: the results that fit int64
//     exactly, the others raise OverflowError;
//   - np.gcd, np.lcm, np.fmod, np.ldexp and math.gamma over arrays;
//   - np.finfo and np.iinfo of each float and integer dtype (of a.dtype and
//     of a number) against std::numeric_limits;
//   - math.fsum of float64 numbers of magnitudes from 2**-60 to 2**60 that
//     cancel, against their exact sum in 128-bit integers rounded once, and
//     known values (0.1 ten times is 1.0; Python's documented example);
//     math.isclose against CPython's rule written here, over nan, infinities
//     and tolerances; math.prod against left-to-right products;
//   - np.frexp, np.modf and np.divmod of float64 and float32 arrays (and
//     of int64 arrays by a scalar) against std::frexp, std::modf and the
//     float_divmod reference, elementwise (frexp's exponents int32);
//   - Python's errors: isqrt, factorial, comb and perm of negative numbers
//     (ValueError) and divmod by an integer zero (ZeroDivisionError).
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import math
import numpy as np
from numba import njit

@njit
def floats(x, y, e):
    n = len(x)
    out = np.empty((n, 12))
    for i in range(n):
        m, p = math.frexp(x[i])
        f, w = math.modf(x[i])
        q, r = divmod(x[i], y[i])
        out[i, 0] = math.gamma(x[i])
        out[i, 1] = math.lgamma(x[i])
        out[i, 2] = math.fmod(x[i], y[i])
        out[i, 3] = math.remainder(x[i], y[i])
        out[i, 4] = math.ldexp(x[i], e[i])
        out[i, 5] = m
        out[i, 6] = p
        out[i, 7] = f
        out[i, 8] = w
        out[i, 9] = q
        out[i, 10] = r
        out[i, 11] = math.log(x[i], y[i])
    return out

@njit
def integers(a, b):
    n = len(a)
    out = np.empty((n, 6), dtype=np.int64)
    for i in range(n):
        q, r = divmod(a[i], b[i])
        out[i, 0] = math.gcd(a[i], b[i])
        out[i, 1] = math.lcm(a[i], b[i])
        out[i, 2] = q
        out[i, 3] = r
        out[i, 4] = math.gcd(a[i], b[i], 30)
        out[i, 5] = np.fmod(a[i], b[i])
    return out

@njit
def folds(a):
    return math.gcd(), math.lcm(), math.gcd(a), math.lcm(a), math.lcm(a, 6, 10), math.gcd(0, 0)

@njit
def isqrts(a):
    out = np.empty_like(a)
    for i in range(len(a)):
        out[i] = math.isqrt(a[i])
    return out

@njit
def comb_of(n, k):
    return math.comb(n, k)

@njit
def perm_of(n, k):
    return math.perm(n, k)

@njit
def perm_all(n):
    return math.perm(n)

@njit
def factorial_of(n):
    return math.factorial(n)

@njit
def isqrt_of(n):
    return math.isqrt(n)

@njit
def divmod_of(a, b):
    return divmod(a, b)

@njit
def elementwise(a, b, x, e):
    return np.gcd(a, b), np.lcm(a, b), np.fmod(a, b), np.ldexp(x, e), math.gamma(x)

@njit
def float_limits(a):
    return (np.finfo(a.dtype).eps, np.finfo(a.dtype).epsneg, np.finfo(a.dtype).max,
            np.finfo(a.dtype).min, np.finfo(a[0]).tiny, np.finfo(a.dtype).smallest_subnormal,
            np.finfo(a.dtype).bits, np.finfo(a.dtype).nmant, np.finfo(a.dtype).maxexp,
            np.finfo(a.dtype).minexp)

@njit
def int_limits(a):
    return np.iinfo(a.dtype).min, np.iinfo(a.dtype).max, np.iinfo(a.dtype).bits

@njit
def exact_sum(a):
    return math.fsum(a), math.fsum(a[::-1]), math.fsum([x for x in a])

@njit
def fsum_known(n):
    return (math.fsum([0.1] * 10), math.fsum([1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50]),
            math.fsum([2.0 ** 53, 1.0, 1.0 / 2 ** 60]), math.fsum([i for i in range(n)]), math.fsum([0.5 for i in range(0)]))

@njit
def close(a, b, rel, tol):
    out = np.zeros((len(a), 3), np.bool_)
    for i in range(len(a)):
        out[i, 0] = math.isclose(a[i], b[i])
        out[i, 1] = math.isclose(a[i], b[i], rel_tol=rel)
        out[i, 2] = math.isclose(a[i], b[i], rel_tol=rel, abs_tol=tol)
    return out

@njit
def np_pairs(a, b):
    m, e = np.frexp(a)
    f, w = np.modf(a)
    q, r = np.divmod(a, b)
    return m, e, f, w, q, r

@njit
def np_divmod_ints(a, d):
    return np.divmod(a, d)

@njit
def product(a):
    return math.prod(a), math.prod(x for x in a if x != 0)
)STN";

class MathModule : public ::testing::Test {
protected:
  MathModule() : Mod(Engine.loadString(Kernels, "math_module.stn")) {}
  stn::Engine Engine{stn::test::noCache()};
  stn::Module Mod;
};

/// Equal, with equal signs of zeros, or both nan.
template <class T> bool same(T a, T b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

/// CPython's float_divmod (Objects/floatobject.c's algorithm, in T), with
/// IEEE's values for a zero divisor as stn keeps them.
template <class T> std::pair<T, T> pyDivmod(T x, T y) {
  if (y == 0)
    return {std::floor(x / y), std::fmod(x, y)};
  T mod = std::fmod(x, y);
  T div = (x - mod) / y;
  if (mod != 0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1;
    }
  } else {
    mod = std::copysign(T(0), y);
  }
  T floordiv;
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > T(0.5))
      floordiv += 1;
  } else {
    floordiv = std::copysign(T(0), x / y);
  }
  return {floordiv, mod};
}

/// The inputs of the float functions: (x, y, e) triples.
template <class T> void floatInputs(std::vector<T> &x, std::vector<T> &y, std::vector<int64_t> &e) {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const T tiny = std::numeric_limits<T>::denorm_min();
  std::vector<T> special = {T(0),   -T(0), T(1),    T(-1),     T(0.5),   T(-2.5), T(2.5),
                            T(3),   T(-3), T(171.5), T(35.5),  T(1e-30), inf,     -inf,
                            nan,    tiny,  -tiny,   tiny * 37, T(7.25),  T(-7.25)};
  std::vector<T> divisors = {T(0.75), T(-0.75), T(2), T(-3), T(0.1), inf, -inf, T(0), nan, T(1e-3)};
  for (T a : special)
    for (T b : divisors) {
      x.push_back(a);
      y.push_back(b);
      e.push_back(static_cast<int64_t>(x.size() % 11) - 5);
    }
  // Ordinary values, with exponents from far below to far above the range.
  uint64_t s = 12345;
  for (int i = 0; i < 1500; ++i) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = static_cast<double>(s >> 11) / 9007199254740992.0; // [0, 1)
    T a = static_cast<T>((u - 0.3) * 60.0);
    T b = static_cast<T>((0.61 - u) * 7.0 + (i % 3 == 0 ? 0.0 : 0.5));
    x.push_back(a);
    y.push_back(b);
    e.push_back(static_cast<int64_t>(i % 2301) - 1150);
  }
  e.back() = int64_t(1) << 40; // beyond int: saturates to inf
  e[e.size() - 2] = -(int64_t(1) << 40);
}

template <class T> void checkFloats(stn::Module &mod) {
  std::vector<T> x, y;
  std::vector<int64_t> e;
  floatInputs(x, y, e);
  int64_t n = static_cast<int64_t>(x.size());
  auto r = mod.kernel("floats")(stn::ArrayView::of(x.data(), {n}),
                                stn::ArrayView::of(y.data(), {n}),
                                stn::ArrayView::of(e.data(), {n}));
  std::vector<double> got = valuesOf<double>(r, {n, 12});
  int failures = 0;
  for (int64_t i = 0; i < n && failures < 20; ++i) {
    T a = x[i], b = y[i];
    int exp = 0;
    T mant = std::frexp(a, &exp);
    T whole = 0;
    T frac = std::modf(a, &whole);
    auto [q, m] = pyDivmod(a, b);
    double ldexpWant =
        std::ldexp(a, static_cast<int>(std::clamp<int64_t>(e[i], INT32_MIN, INT32_MAX)));
    const double want[12] = {std::tgamma(a),       std::lgamma(a),
                             std::fmod(a, b),      std::remainder(a, b),
                             static_cast<T>(ldexpWant), mant,
                             double(exp),          frac,
                             whole,                q,
                             m,                    std::log(a) / std::log(b)};
    for (int c = 0; c < 12; ++c) {
      const double g = got[i * 12 + c];
      bool ok = c == 11 ? (same(static_cast<T>(g), static_cast<T>(want[c])) ||
                           std::fabs(g - want[c]) <= 4 * std::numeric_limits<T>::epsilon() *
                                                         std::fabs(want[c]))
                        : same(static_cast<T>(g), static_cast<T>(want[c]));
      if (!ok) {
        ADD_FAILURE() << "column " << c << " of x = " << a << ", y = " << b << ", e = " << e[i]
                      << ": got " << g << ", want " << want[c];
        ++failures;
      }
    }
  }
}

TEST_F(MathModule, FloatFunctionsFloat64) { checkFloats<double>(Mod); }

TEST_F(MathModule, FloatFunctionsFloat32) { checkFloats<float>(Mod); }

TEST_F(MathModule, GammaKnownValues) {
  // gamma(n) = (n - 1)!, gamma(1/2) = sqrt(pi), lgamma(1/2) = log(sqrt(pi)).
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 10, 0.5, 21};
  std::vector<double> y(x.size(), 2.0);
  std::vector<int64_t> e(x.size(), 0);
  int64_t n = static_cast<int64_t>(x.size());
  auto r = Mod.kernel("floats")(stn::ArrayView::of(x.data(), {n}),
                                stn::ArrayView::of(y.data(), {n}),
                                stn::ArrayView::of(e.data(), {n}));
  std::vector<double> got = valuesOf<double>(r, {n, 12});
  const double want[] = {1, 1, 2, 6, 24, 120, 362880, 1.7724538509055160273,
                         2432902008176640000.0};
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(got[i * 12], want[i], want[i] * 4e-16) << "gamma(" << x[i] << ")";
    EXPECT_NEAR(got[i * 12 + 1], std::log(want[i]), 4e-16 + std::fabs(std::log(want[i])) * 4e-16)
        << "lgamma(" << x[i] << ")";
  }
}

template <class T> void checkFloatLimits(stn::Module &m) {
  using L = std::numeric_limits<T>;
  std::vector<T> a = {T(1)};
  stn::Value r = m.kernel("float_limits")(stn::ArrayView::of(a.data(), {1}));
  // The float limits have the float type: compared as T.
  EXPECT_EQ(static_cast<T>(r[0].asDouble()), L::epsilon());
  EXPECT_EQ(static_cast<T>(r[1].asDouble()), L::epsilon() / 2);
  EXPECT_EQ(static_cast<T>(r[2].asDouble()), L::max());
  EXPECT_EQ(static_cast<T>(r[3].asDouble()), L::lowest());
  EXPECT_EQ(static_cast<T>(r[4].asDouble()), L::min());
  EXPECT_EQ(static_cast<T>(r[5].asDouble()), L::denorm_min());
  EXPECT_EQ(r[6].asInt(), static_cast<int64_t>(sizeof(T) * 8));
  EXPECT_EQ(r[7].asInt(), L::digits - 1);
  EXPECT_EQ(r[8].asInt(), L::max_exponent);
  EXPECT_EQ(r[9].asInt(), L::min_exponent - 1);
}

template <class T> void checkIntLimits(stn::Module &m) {
  using L = std::numeric_limits<T>;
  std::vector<T> a = {T(1)};
  stn::Value r = m.kernel("int_limits")(stn::ArrayView::of(a.data(), {1}));
  EXPECT_EQ(r[0].asInt(), static_cast<int64_t>(L::min()));
  if constexpr (std::is_same_v<T, uint64_t>)
    EXPECT_EQ(static_cast<uint64_t>(r[1].asInt()), L::max());
  else
    EXPECT_EQ(r[1].asInt(), static_cast<int64_t>(L::max()));
  EXPECT_EQ(r[2].asInt(), static_cast<int64_t>(sizeof(T) * 8));
}

TEST_F(MathModule, FinfoAndIinfoOfEachDtype) {
  checkFloatLimits<double>(Mod);
  checkFloatLimits<float>(Mod);
  checkIntLimits<int8_t>(Mod);
  checkIntLimits<int16_t>(Mod);
  checkIntLimits<int32_t>(Mod);
  checkIntLimits<int64_t>(Mod);
  checkIntLimits<uint8_t>(Mod);
  checkIntLimits<uint16_t>(Mod);
  checkIntLimits<uint32_t>(Mod);
  checkIntLimits<uint64_t>(Mod);
}

TEST_F(MathModule, FsumIsExactlyRounded) {
  std::mt19937_64 rng(17);
  std::uniform_int_distribution<int64_t> mant(-(int64_t{1} << 52), int64_t{1} << 52);
  std::uniform_int_distribution<int> expo(-60, 7); // |x| < 2**60, a multiple of 2**-60
  for (int round = 0; round < 20; ++round) {
    std::vector<double> a;
    __int128 exact = 0; // the sum in units of 2**-60
    for (int i = 0; i < 200; ++i) {
      int64_t m = mant(rng);
      int e = expo(rng);
      for (int64_t sign : {1, -1}) { // near cancellations: x and -(x with its low bits changed)
        int64_t mm = sign > 0 ? m : -(m ^ (rng() & 0xff));
        a.push_back(std::ldexp(static_cast<double>(mm), e));
        exact += static_cast<__int128>(mm) << (e + 60);
      }
    }
    double want = std::ldexp(static_cast<double>(exact), -60); // one rounding
    int64_t n = static_cast<int64_t>(a.size());
    stn::Value r = Mod.kernel("exact_sum")(stn::ArrayView::of(a.data(), {n}));
    for (size_t k = 0; k < 3; ++k)
      EXPECT_EQ(r[k].asDouble(), want) << round << " " << k;
  }
  stn::Value k = Mod.kernel("fsum_known")(int64_t{100});
  EXPECT_EQ(k[0].asDouble(), 1.0);
  EXPECT_EQ(k[1].asDouble(), 1e-100);
  // 2**53 + 1 + 2**-60: above the halfway point between 2**53 and 2**53 + 2.
  EXPECT_EQ(k[2].asDouble(), 9007199254740994.0);
  EXPECT_EQ(k[3].asDouble(), 4950.0);
  EXPECT_EQ(k[4].asDouble(), 0.0);
}

// CPython's math.isclose.
bool pyIsclose(double a, double b, double rel, double tol) {
  if (a == b)
    return true;
  if (std::isinf(a) || std::isinf(b))
    return false;
  double diff = std::fabs(b - a);
  return diff <= std::fabs(rel * b) || diff <= std::fabs(rel * a) || diff <= tol;
}

TEST_F(MathModule, IscloseAndProd) {
  const double inf = INFINITY, nan = NAN;
  std::vector<double> a = {1.0, 1.0, 1e-10, 0.0, inf, inf, nan, 100.0, -5.0, 1e308, 3.0},
                      b = {1.0 + 1e-10, 1.01, 2e-10, 1e-12, inf, -inf, nan, 100.0001, -5.05,
                           1.0000001e308, 3.0};
  int64_t n = static_cast<int64_t>(a.size());
  for (double rel : {1e-9, 1e-6, 0.02}) {
    for (double tol : {0.0, 1e-11, 0.1}) {
      stn::Value r = Mod.kernel("close")(stn::ArrayView::of(a.data(), {n}),
                                        stn::ArrayView::of(b.data(), {n}), rel, tol);
      std::vector<bool> got = valuesOf<bool>(r, {n, 3});
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(got[i * 3], pyIsclose(a[i], b[i], 1e-9, 0.0)) << a[i] << " " << b[i];
        EXPECT_EQ(got[i * 3 + 1], pyIsclose(a[i], b[i], rel, 0.0)) << a[i] << " " << b[i];
        EXPECT_EQ(got[i * 3 + 2], pyIsclose(a[i], b[i], rel, tol)) << a[i] << " " << b[i];
      }
    }
  }
  EXPECT_NE(errorOf([&] {
              Mod.kernel("close")(stn::ArrayView::of(a.data(), {n}),
                                  stn::ArrayView::of(b.data(), {n}), -1.0, 0.0);
            }).find("ValueError: tolerances must be non-negative"),
            std::string::npos);
  std::vector<double> x = {1.5, -2.0, 0.0, 3.25, 1e-3};
  std::vector<int64_t> y = {3, -7, 0, 11, 2};
  double px = 1.0, qx = 1.0;
  int64_t py = 1, qy = 1;
  for (size_t i = 0; i < x.size(); ++i) {
    px *= x[i];
    py *= y[i];
    if (x[i] != 0)
      qx *= x[i];
    if (y[i] != 0)
      qy *= y[i];
  }
  stn::Value r = Mod.kernel("product")(stn::ArrayView::of(x.data(), {5}));
  EXPECT_EQ(r[0].asDouble(), px);
  EXPECT_EQ(r[1].asDouble(), qx);
  r = Mod.kernel("product")(stn::ArrayView::of(y.data(), {5}));
  EXPECT_EQ(r[0].asInt(), py);
  EXPECT_EQ(r[1].asInt(), qy);
}

template <class T> void checkNumpyPairs(stn::Module &m) {
  std::vector<T> a = {T(0.375), T(-7.25), T(0), T(-0.0), T(1e-40), T(INFINITY), T(NAN), T(5.5),
                      T(-3), T(1e6)};
  std::vector<T> b = {T(0.25), T(2), T(3), T(-1.5), T(7), T(2), T(1), T(-2), T(0.5), T(-7)};
  int64_t n = static_cast<int64_t>(a.size());
  stn::Value r = m.kernel("np_pairs")(stn::ArrayView::of(a.data(), {n}),
                                      stn::ArrayView::of(b.data(), {n}));
  std::vector<T> mant = valuesOf<T>(r[0], {n}), frac = valuesOf<T>(r[2], {n}),
                 whole = valuesOf<T>(r[3], {n}), q = valuesOf<T>(r[4], {n}),
                 md = valuesOf<T>(r[5], {n});
  std::vector<int32_t> ex = valuesOf<int32_t>(r[1], {n});
  for (size_t i = 0; i < a.size(); ++i) {
    int e = 0;
    T wm = std::frexp(a[i], &e);
    EXPECT_TRUE(same(mant[i], wm)) << a[i];
    if (std::isfinite(a[i])) {
      EXPECT_EQ(ex[i], e) << a[i];
    }
    T w = 0;
    T wf = std::modf(a[i], &w);
    EXPECT_TRUE(same(frac[i], wf)) << a[i];
    EXPECT_TRUE(same(whole[i], w)) << a[i];
    auto [wq, wr] = pyDivmod(a[i], b[i]);
    EXPECT_TRUE(same(q[i], wq)) << a[i] << " " << b[i];
    EXPECT_TRUE(same(md[i], wr)) << a[i] << " " << b[i];
  }
}

TEST_F(MathModule, NumpyFrexpModfDivmodOfArrays) {
  checkNumpyPairs<double>(Mod);
  checkNumpyPairs<float>(Mod);
  std::vector<int64_t> a = {-7, -6, -1, 0, 1, 5, 6, 7, 100};
  for (int64_t d : {3, -3}) {
    stn::Value r = Mod.kernel("np_divmod_ints")(stn::ArrayView::of(a.data(), {9}), d);
    std::vector<int64_t> q = valuesOf<int64_t>(r[0], {9}), m = valuesOf<int64_t>(r[1], {9});
    for (size_t i = 0; i < a.size(); ++i) {
      int64_t fq = a[i] / d - ((a[i] % d != 0) && ((a[i] < 0) != (d < 0)));
      EXPECT_EQ(q[i], fq) << a[i] << " " << d;
      EXPECT_EQ(m[i], a[i] - fq * d) << a[i] << " " << d;
    }
  }
}

TEST_F(MathModule, GcdLcmDivmodOfIntegers) {
  std::vector<int64_t> a, b;
  uint64_t s = 99;
  for (int i = 0; i < 3000; ++i) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    int64_t u = static_cast<int64_t>(s >> 34) - (int64_t(1) << 29); // |u| < 2**30
    int64_t v = static_cast<int64_t>((s >> 5) % 2001) - 1000;
    if (i % 7 == 0)
      u = 0;
    if (v == 0)
      v = i % 2 ? 7 : -7;
    if (i % 11 == 0)
      u *= 60; // many common factors
    a.push_back(u);
    b.push_back(i % 13 == 0 ? v * 360 : v);
  }
  a.push_back(std::numeric_limits<int64_t>::min()); // fmod(INT64_MIN, -1) is 0
  b.push_back(-1);
  int64_t n = static_cast<int64_t>(a.size());
  auto r = Mod.kernel("integers")(stn::ArrayView::of(a.data(), {n}),
                                  stn::ArrayView::of(b.data(), {n}));
  std::vector<int64_t> got = valuesOf<int64_t>(r, {n, 6});
  for (int64_t i = 0; i + 1 < n; ++i) {
    int64_t x = a[i], y = b[i];
    int64_t q = x / y - ((x % y != 0) && ((x < 0) != (y < 0)));
    const int64_t want[6] = {std::gcd(x, y), std::lcm(x, y), q, x - q * y,
                             std::gcd(std::gcd(x, y), int64_t(30)), x % y};
    for (int c = 0; c < 6; ++c)
      ASSERT_EQ(got[i * 6 + c], want[c]) << "column " << c << " of " << x << ", " << y;
  }
  EXPECT_EQ(got[(n - 1) * 6 + 5], 0);
  // Python's folds: gcd() 0, lcm() 1, one argument its magnitude.
  auto f = Mod.kernel("folds")(int64_t(-12));
  EXPECT_EQ(f[0].asInt(), 0);
  EXPECT_EQ(f[1].asInt(), 1);
  EXPECT_EQ(f[2].asInt(), 12);
  EXPECT_EQ(f[3].asInt(), 12);
  EXPECT_EQ(f[4].asInt(), 60);
  EXPECT_EQ(f[5].asInt(), 0);
  EXPECT_EQ(Mod.kernel("folds")(int64_t(0))[4].asInt(), 0);
}

TEST_F(MathModule, IsqrtAtTheEdgesOfSquares) {
  std::vector<int64_t> a;
  std::vector<uint64_t> u;
  for (uint64_t r = 0; r < 40; ++r)
    for (int d = -1; d <= 1; ++d)
      if (r * r + d < (uint64_t(1) << 63) && !(r == 0 && d < 0))
        a.push_back(static_cast<int64_t>(r * r + d));
  // Around large squares up to the largest that fits, where the float
  // square root is off by one.
  for (uint64_t r : {uint64_t(94906265), uint64_t(3037000499), uint64_t(2147483647),
                     uint64_t(1) << 31, uint64_t(4294967295)}) {
    for (int64_t d = -2; d <= 2; ++d) {
      unsigned __int128 v = (unsigned __int128)r * r + d;
      if (v < ((unsigned __int128)1 << 63))
        a.push_back(static_cast<int64_t>(v));
      if (v < ((unsigned __int128)1 << 64))
        u.push_back(static_cast<uint64_t>(v));
    }
  }
  a.push_back(std::numeric_limits<int64_t>::max());
  u.push_back(std::numeric_limits<uint64_t>::max());
  u.push_back(std::numeric_limits<uint64_t>::max() - 1);
  for (uint64_t s = 1; s < (uint64_t(1) << 63); s = s * 3 + 1) {
    a.push_back(static_cast<int64_t>(s));
    u.push_back(s * 2 + 1);
  }
  auto ok = [](unsigned __int128 n, unsigned __int128 r) {
    return r * r <= n && n < (r + 1) * (r + 1);
  };
  auto ra = Mod.kernel("isqrts")(stn::ArrayView::of(a.data(), {int64_t(a.size())}));
  std::vector<int64_t> ga = valuesOf<int64_t>(ra, {int64_t(a.size())});
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(ok(a[i], ga[i])) << "isqrt(" << a[i] << ") = " << ga[i];
  auto ru = Mod.kernel("isqrts")(stn::ArrayView::of(u.data(), {int64_t(u.size())}));
  EXPECT_EQ(ru.array().dtype(), stn::DType::UInt64);
  std::vector<uint64_t> gu = valuesOf<uint64_t>(ru, {int64_t(u.size())});
  for (size_t i = 0; i < u.size(); ++i)
    EXPECT_TRUE(ok(u[i], gu[i])) << "isqrt(" << u[i] << ") = " << gu[i];
}

TEST_F(MathModule, FactorialCombPermFitOrRaise) {
  constexpr int N = 70;
  const unsigned __int128 big = std::numeric_limits<int64_t>::max();
  // Pascal's triangle, saturating above int64's range.
  std::vector<std::vector<unsigned __int128>> c(N + 1);
  for (int n = 0; n <= N; ++n) {
    c[n].assign(n + 1, 1);
    for (int k = 1; k < n; ++k)
      c[n][k] = std::min(c[n - 1][k - 1] + c[n - 1][k], big + 1);
  }
  auto perm = [&](int n, int k) {
    unsigned __int128 p = 1;
    for (int i = n - k + 1; i <= n && p <= big; ++i)
      p *= i;
    return p;
  };
  for (int n = 0; n <= N; ++n)
    for (int k = 0; k <= n + 1; ++k) {
      unsigned __int128 cw = k > n ? 0 : c[n][k];
      unsigned __int128 pw = k > n ? 0 : perm(n, k);
      SCOPED_TRACE(testing::Message() << "n = " << n << ", k = " << k);
      for (auto [fn, want] : {std::make_pair("comb", cw), std::make_pair("perm", pw)}) {
        std::string kernel = std::string(fn) + "_of";
        if (want <= big)
          ASSERT_EQ(Mod.kernel(kernel)(int64_t(n), int64_t(k)).asInt(), int64_t(want)) << fn;
        else
          ASSERT_NE(errorOf([&] { Mod.kernel(kernel)(int64_t(n), int64_t(k)); })
                        .find(std::string("OverflowError: ") + fn +
                              "() result does not fit in int64"),
                    std::string::npos)
              << fn;
      }
    }
  int64_t f = 1;
  for (int n = 0; n <= 20; ++n) {
    f *= n ? n : 1;
    EXPECT_EQ(Mod.kernel("factorial_of")(int64_t(n)).asInt(), f) << n;
    EXPECT_EQ(Mod.kernel("perm_all")(int64_t(n)).asInt(), f) << n;
  }
  EXPECT_NE(errorOf([&] { Mod.kernel("factorial_of")(int64_t(21)); })
                .find("OverflowError: factorial() result does not fit in int64"),
            std::string::npos);
  // Huge arguments end at the overflow (or need few steps).
  const int64_t e18 = 1000000000000000000;
  EXPECT_NE(errorOf([&] { Mod.kernel("factorial_of")(e18); }).find("OverflowError"),
            std::string::npos);
  EXPECT_EQ(Mod.kernel("comb_of")(e18, e18 - 1).asInt(), e18);
  EXPECT_EQ(Mod.kernel("perm_of")(e18, int64_t(1)).asInt(), e18);
  EXPECT_NE(errorOf([&] { Mod.kernel("comb_of")(e18, int64_t(2)); }).find("OverflowError"),
            std::string::npos);
}

TEST_F(MathModule, ElementwiseOverArrays) {
  std::vector<int32_t> a = {12, -18, 0, 7, 0, 100, -2147483647, 45};
  std::vector<int32_t> b = {18, 12, 5, 0, 0, -75, -1, 27};
  std::vector<float> x = {0.5f, 1.5f, -2.25f, 3.0f, 10.0f, 1e-3f, 6.5f, -0.0f};
  std::vector<int64_t> e = {1, -3, 4, 100, -200, 7, 0, 2};
  int64_t n = static_cast<int64_t>(a.size());
  auto r = Mod.kernel("elementwise")(
      stn::ArrayView::of(a.data(), {n}), stn::ArrayView::of(b.data(), {n}),
      stn::ArrayView::of(x.data(), {n}), stn::ArrayView::of(e.data(), {n}));
  std::vector<int32_t> g = valuesOf<int32_t>(r[0], {n}), l = valuesOf<int32_t>(r[1], {n}),
                       m = valuesOf<int32_t>(r[2], {n});
  std::vector<float> ld = valuesOf<float>(r[3], {n}), ga = valuesOf<float>(r[4], {n});
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(g[i], std::gcd(a[i], b[i])) << i;
    EXPECT_EQ(l[i], std::lcm(a[i], b[i])) << i;
    EXPECT_EQ(m[i], b[i] == 0 || b[i] == -1 ? 0 : a[i] % b[i]) << i; // NumPy's 0
    EXPECT_TRUE(same(ld[i], std::ldexp(x[i], static_cast<int>(e[i])))) << i;
    EXPECT_TRUE(same(ga[i], std::tgamma(x[i]))) << i;
  }
}

TEST_F(MathModule, PythonErrors) {
  auto raised = [&](const char *kernel, int64_t x, int64_t y, int args) {
    return errorOf([&] {
      if (args == 1)
        Mod.kernel(kernel)(x);
      else
        Mod.kernel(kernel)(x, y);
    });
  };
  auto has = [](const std::string &msg, const char *want) {
    return msg.find(want) != std::string::npos;
  };
  EXPECT_TRUE(has(raised("isqrt_of", -1, 0, 1), "ValueError: isqrt() argument must be nonnegative"));
  EXPECT_TRUE(has(raised("factorial_of", -3, 0, 1),
                  "ValueError: factorial() not defined for negative values"));
  EXPECT_TRUE(has(raised("comb_of", -1, 2, 2), "ValueError: n must be a non-negative integer"));
  EXPECT_TRUE(has(raised("comb_of", 3, -2, 2), "ValueError: k must be a non-negative integer"));
  EXPECT_TRUE(has(raised("perm_of", 3, -1, 2), "ValueError: k must be a non-negative integer"));
  EXPECT_TRUE(has(raised("perm_all", -1, 0, 1), "ValueError: n must be a non-negative integer"));
  std::string zero = raised("divmod_of", 7, 0, 2);
  EXPECT_TRUE(has(zero, "integer division by zero")) << zero;
  EXPECT_TRUE(has(zero, "math_module.stn:")) << zero; // located at the call
  // The errors leave nothing behind: the kernels still answer.
  EXPECT_EQ(Mod.kernel("isqrt_of")(int64_t(99)).asInt(), 9);
  auto d = Mod.kernel("divmod_of")(int64_t(-7), int64_t(2));
  EXPECT_EQ(d[0].asInt(), -4);
  EXPECT_EQ(d[1].asInt(), 1);
}

} // namespace
