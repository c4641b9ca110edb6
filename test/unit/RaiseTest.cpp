//===- RaiseTest.cpp - raise and assert statements in kernels -------------===//
//
// `raise E(...)` and `assert test, msg` stop the call with an stn::Error
// holding Python's message at the statement, with the call's values:
//   - serially, nothing after the raise runs (the elements written before
//     it are written, the ones after are not);
//   - in a parallel loop, for every team size, the raising iteration stops,
//     every other iteration runs, and the error comes when the loop ends;
//   - a callee that raised inside a parallel loop and returns arrays stops
//     its caller's iteration too (no empty array is indexed);
//   - ufuncs and gufuncs raise from their element functions;
//   - the kernel and the engine keep working after an error.
// Results are checked against C++ loops.
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

using stn::test::errorOf;

const char *Kernels = R"STN(
import numpy as np
from numba import guvectorize, njit, prange, vectorize

@njit
def fill_until_negative(a, out):
    for i in range(a.shape[0]):
        if a[i] < 0:
            raise ValueError("negative at", i)
        out[i] = a[i] * 2.0

@njit(parallel=True)
def roots(a, out):
    for i in prange(a.shape[0]):
        if a[i] < 0:
            raise ValueError("negative element at", i, a[i])
        out[i] = np.sqrt(a[i])

@njit
def row_of(i, bad):
    if i == bad:
        raise IndexError("bad row", i)
    return np.full(3, i * 1.0)

@njit(parallel=True)
def rows(out, bad):
    for i in prange(out.shape[0]):
        r = row_of(i, bad)
        for j in range(3):
            out[i, j] = r[j]

@njit
def checked_log(x):
    assert x > 0.0, ("log of", x)
    return np.log(x)

@njit(parallel=True)
def sum_logs(a):
    s = 0.0
    for i in prange(a.shape[0]):
        s += checked_log(a[i])
    return s

@njit
def same_length(a, b):
    assert a.shape[0] == b.shape[0], "a and b differ in length"
    return a + b

@njit
def show_i(x: np.int64):
    raise ValueError(x)

@njit
def show_u(x: np.uint64):
    raise ValueError(x)

@njit
def show_f(x: np.float64):
    raise ValueError(x)

@njit
def show_f32(x: np.float32):
    raise ValueError(x)

@njit
def show_b(x: bool):
    raise ValueError("flag", x)

@vectorize(["float64(float64)"], target="parallel")
def vroot(x):
    if x < 0:
        raise ValueError("negative", x)
    return np.sqrt(x)

@guvectorize(["void(float64[:], float64[:])"], "(n)->()")
def norm(v, out):
    s = 0.0
    for k in range(v.shape[0]):
        assert v[k] == v[k], "nan in the input"
        s += v[k] * v[k]
    out[0] = np.sqrt(s)
)STN";

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

class Raise : public ::testing::TestWithParam<unsigned> {
protected:
  Raise() : Engine(stn::test::noCache(GetParam())), Mod(Engine.loadString(Kernels, "raise.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

TEST_P(Raise, SerialCodeStopsAtTheRaise) {
  std::vector<double> a = {1, 2, 3, -4, 5, 6};
  std::vector<double> out(6, -1.0);
  auto av = stn::ArrayView::of(a.data(), {6}), ov = stn::ArrayView::of(out.data(), {6});
  std::string e = errorOf([&] { Mod.kernel("fill_until_negative")(av, ov); });
  EXPECT_TRUE(contains(e, "raise.stn:9:13: error: ValueError: ('negative at', 3)\n"
                          "            raise ValueError(\"negative at\", i)\n"
                          "            ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"))
      << e;
  EXPECT_EQ(out, (std::vector<double>{2, 4, 6, -1, -1, -1}));
  // Nothing is wrong with the next call.
  a[3] = 4;
  Mod.kernel("fill_until_negative")(av, ov);
  EXPECT_EQ(out, (std::vector<double>{2, 4, 6, 8, 10, 12}));
}

TEST_P(Raise, ParallelLoopStopsOnlyTheRaisingIteration) {
  const int64_t n = 1000000;
  const int64_t bad = 777777;
  std::vector<double> a(n), out(n, -1.0);
  for (int64_t i = 0; i < n; ++i)
    a[i] = static_cast<double>(i % 1000);
  auto av = stn::ArrayView::of(a.data(), {n}), ov = stn::ArrayView::of(out.data(), {n});
  Mod.kernel("roots")(av, ov);
  for (int64_t i = 0; i < n; i += 9973)
    ASSERT_EQ(out[i], std::sqrt(a[i])) << i;
  std::fill(out.begin(), out.end(), -1.0);
  a[bad] = -2.5;
  std::string e = errorOf([&] { Mod.kernel("roots")(av, ov); });
  EXPECT_TRUE(contains(e, "raise.stn:16:13: error: ValueError: ('negative element at', 777777, "
                          "-2.5)"))
      << e;
  EXPECT_EQ(out[bad], -1.0);
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; ++i)
    if (i != bad && out[i] != std::sqrt(a[i]))
      ++wrong;
  EXPECT_EQ(wrong, 0);
}

TEST_P(Raise, CalleeReturningAnArrayStopsItsCaller) {
  const int64_t n = 5000;
  std::vector<double> out(n * 3, -1.0);
  auto ov = stn::ArrayView::of(out.data(), {n, 3});
  Mod.kernel("rows")(ov, int64_t(-1));
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(out[i * 3 + 2], static_cast<double>(i)) << i;
  std::fill(out.begin(), out.end(), -1.0);
  std::string e = errorOf([&] { Mod.kernel("rows")(ov, int64_t(4321)); });
  EXPECT_TRUE(contains(e, "raise.stn:22:9: error: IndexError: ('bad row', 4321)")) << e;
  // The bad row is untouched; every other row is written.
  for (int64_t j = 0; j < 3; ++j)
    EXPECT_EQ(out[4321 * 3 + j], -1.0);
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < 3; ++j)
      if (i != 4321 && out[i * 3 + j] != static_cast<double>(i))
        ++wrong;
  EXPECT_EQ(wrong, 0);
}

TEST_P(Raise, AssertInACalleeOfAParallelReduction) {
  const int64_t n = 200000;
  std::vector<double> a(n);
  double ref = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    a[i] = 1.0 + static_cast<double>(i % 17);
    ref += std::log(a[i]);
  }
  auto av = stn::ArrayView::of(a.data(), {n});
  EXPECT_NEAR(Mod.kernel("sum_logs")(av).asDouble(), ref, 1e-9 * std::abs(ref));
  a[n - 3] = -0.0;
  std::string e = errorOf([&] { Mod.kernel("sum_logs")(av); });
  EXPECT_TRUE(contains(e, "raise.stn:34:5: error: AssertionError: ('log of', -0.0)")) << e;
  // After the error the kernel works again (with the new value).
  a[n - 3] = 2.0;
  ref = 0.0;
  for (int64_t i = 0; i < n; ++i)
    ref += std::log(a[i]);
  EXPECT_NEAR(Mod.kernel("sum_logs")(av).asDouble(), ref, 1e-9 * std::abs(ref));
}

TEST_P(Raise, AssertOnShapes) {
  std::vector<double> a = {1, 2, 3}, b = {10, 20, 30}, c = {1, 2};
  stn::Value r = Mod.kernel("same_length")(stn::ArrayView::of(a.data(), {3}),
                                           stn::ArrayView::of(b.data(), {3}));
  const double *p = static_cast<const double *>(r.array().data());
  EXPECT_EQ(std::vector<double>(p, p + 3), (std::vector<double>{11, 22, 33}));
  std::string e = errorOf([&] {
    Mod.kernel("same_length")(stn::ArrayView::of(a.data(), {3}), stn::ArrayView::of(c.data(), {2}));
  });
  EXPECT_TRUE(contains(e, "raise.stn:46:5: error: AssertionError: a and b differ in length")) << e;
}

TEST_P(Raise, ValuesAreShownAsPythonShowsThem) {
  auto msg = [&](const char *kernel, stn::Arg v) {
    std::string e = errorOf([&] { Mod.kernel(kernel)(v); });
    size_t at = e.find("error: ValueError: ");
    return at == std::string::npos ? e : e.substr(at + 19, e.find('\n', at) - at - 19);
  };
  EXPECT_EQ(msg("show_i", std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(msg("show_u", std::numeric_limits<uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(msg("show_f", 0.1), "0.1");
  EXPECT_EQ(msg("show_f", 3.0), "3.0");
  EXPECT_EQ(msg("show_f", -0.0), "-0.0");
  EXPECT_EQ(msg("show_f", 1e300), "1e+300");
  EXPECT_EQ(msg("show_f", 123456.789), "123456.789");
  EXPECT_EQ(msg("show_f", std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(msg("show_f", -std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(msg("show_f", std::nan("")), "nan");
  // float32 values show their own shortest repr, not the float64's.
  EXPECT_EQ(msg("show_f32", 0.1f), "0.1");
  EXPECT_EQ(msg("show_f32", 16777216.0f), "16777216.0");
  EXPECT_EQ(msg("show_b", false), "('flag', False)");
  EXPECT_EQ(msg("show_b", true), "('flag', True)");
}

TEST_P(Raise, UfuncsAndGufuncsRaiseFromTheirElementFunctions) {
  const int64_t n = 100000;
  std::vector<double> a(n);
  for (int64_t i = 0; i < n; ++i)
    a[i] = static_cast<double>(i);
  auto av = stn::ArrayView::of(a.data(), {n});
  stn::Value r = Mod.kernel("vroot")(av);
  const double *p = static_cast<const double *>(r.array().data());
  EXPECT_EQ(p[n - 1], std::sqrt(static_cast<double>(n - 1)));
  a[12345] = -1.0;
  std::string e = errorOf([&] { Mod.kernel("vroot")(av); });
  EXPECT_TRUE(contains(e, "raise.stn:72:9: error: ValueError: ('negative', -1.0)")) << e;

  std::vector<double> m = {3, 4, 6, 8, 0, 0};
  stn::Value norms = Mod.kernel("norm")(stn::ArrayView::of(m.data(), {3, 2}));
  const double *q = static_cast<const double *>(norms.array().data());
  EXPECT_EQ(std::vector<double>(q, q + 3), (std::vector<double>{5, 10, 0}));
  m[3] = std::nan("");
  e = errorOf([&] { Mod.kernel("norm")(stn::ArrayView::of(m.data(), {3, 2})); });
  EXPECT_TRUE(contains(e, "raise.stn:79:9: error: AssertionError: nan in the input")) << e;
}

INSTANTIATE_TEST_SUITE_P(Threads, Raise, ::testing::Values(1u, 2u, 4u));

} // namespace
