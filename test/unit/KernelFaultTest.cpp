//===- KernelFaultTest.cpp - Errors raised by running kernels -------------===//
//
// Errors only a running kernel can see come back to the host as stn::Error
// values that point at the failing expression, never as memory corruption
// or a crash:
//   - boundscheck=True (and STN_BOUNDSCHECK): an index outside its axis,
//     naming the array, the index and the shape, in serial code, in callees
//     and on every thread of a parallel loop;
//   - error_model="python" (the @jit default): integer // and % by zero;
//     "numpy" and ufuncs give 0 instead;
//   - array operands that do not broadcast, slice assignments whose value
//     does not fit, and masked assignments with the wrong number of values.
// After an error the same kernel and engine keep working, and results of
// calls that do not fail are unchanged (checked against C++ loops).
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace {

using stn::test::errorOf;

const char *Kernels = R"STN(
import numpy as np
from numba import jit, njit, prange, vectorize

@jit(boundscheck=True)
def get(a, i):
    return a[i]

@jit(boundscheck=True)
def get3(a, i, j, k):
    return a[i, j, k]

@jit(boundscheck=True)
def put(a, i, x):
    a[i] = x

@jit(boundscheck=True)
def bump(a, i):
    a[i] += 1.0

@jit(boundscheck=True)
def row_sum(m, i):
    r = m[i, :]
    return r.sum()

@jit(boundscheck=True)
def shifted_sum(a, shift):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i + shift]
    return s

@jit(boundscheck=True)
def helper(a, i):
    return a[i] * 2.0

@jit
def calls_helper(a, i):
    return helper(a, i) + 1.0

@jit
def unchecked(a, i):
    return a[i]

@jit(boundscheck=True, parallel=True)
def par_shifted(a, shift):
    s = 0.0
    for i in prange(a.shape[0]):
        s += a[i + shift]
    return s

@jit(boundscheck=True, parallel=True)
def par_fill(out, limit):
    for i in prange(out.shape[0]):
        t = np.empty(3)
        t[0] = i
        out[min(i * 2, limit)] = t[0]

@jit
def floordiv(a, b):
    return a // b

@jit
def mod(a, b):
    return a % b

@jit
def aug_div(a, b):
    a //= b
    return a

@jit
def float_div(a, b):
    return a / b

@jit(error_model="numpy")
def floordiv_np(a, b):
    return a // b

@jit
def div_all(a, d):
    s = 0
    for i in range(a.shape[0]):
        s += a[i] // d[i]
    return s

@jit(parallel=True)
def par_div_all(a, d):
    s = 0
    for i in prange(a.shape[0]):
        s += a[i] // d[i]
    return s

@vectorize
def vdiv(a, b):
    return a // b

@jit
def add(a, b):
    return a + b

@jit(parallel=True)
def par_add(a, b):
    return np.sqrt(a * a + b * b)

@jit
def set_tail(a, b):
    a[1:] = b
    return a

@jit
def set_masked(a, b):
    a[a > 0.5] = b
    return a
)STN";

class KernelFaults : public ::testing::Test {
protected:
  KernelFaults() : Engine(stn::test::noCache()), Mod(Engine.loadString(Kernels, "faults.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

std::vector<double> iota(int64_t n) {
  std::vector<double> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0.0);
  return v;
}

TEST_F(KernelFaults, IndexOutOfBoundsNamesArrayIndexAndShape) {
  auto a = iota(10);
  auto av = stn::ArrayView::of(a.data(), {10});
  EXPECT_EQ(Mod.kernel("get")(av, int64_t(9)).asDouble(), 9.0);
  EXPECT_EQ(Mod.kernel("get")(av, int64_t(-10)).asDouble(), 0.0);
  std::string e = errorOf([&] { Mod.kernel("get")(av, int64_t(10)); });
  EXPECT_NE(e.find("faults.stn:7:12: error: index 10 is out of bounds for axis 0 of 'a' with "
                   "shape (10,)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("    return a[i]\n           ^~~~"), std::string::npos) << e;
  // Python's negative indices: -11 is outside, reported as written.
  e = errorOf([&] { Mod.kernel("get")(av, int64_t(-11)); });
  EXPECT_NE(e.find("index -11 is out of bounds for axis 0 of 'a'"), std::string::npos) << e;
  // The kernel still works after an error.
  EXPECT_EQ(Mod.kernel("get")(av, int64_t(3)).asDouble(), 3.0);
}

TEST_F(KernelFaults, EveryAxisIsChecked) {
  std::vector<double> m(2 * 3 * 4);
  std::iota(m.begin(), m.end(), 0.0);
  auto mv = stn::ArrayView::of(m.data(), {2, 3, 4});
  EXPECT_EQ(Mod.kernel("get3")(mv, int64_t(1), int64_t(2), int64_t(3)).asDouble(), 23.0);
  std::string e = errorOf([&] { Mod.kernel("get3")(mv, int64_t(1), int64_t(3), int64_t(0)); });
  EXPECT_NE(e.find("index 3 is out of bounds for axis 1 of 'a' with shape (2, 3, 4)"),
            std::string::npos)
      << e;
  e = errorOf([&] { Mod.kernel("get3")(mv, int64_t(0), int64_t(0), int64_t(-5)); });
  EXPECT_NE(e.find("index -5 is out of bounds for axis 2"), std::string::npos) << e;
  // A row view with an integer index.
  EXPECT_EQ(Mod.kernel("row_sum")(stn::ArrayView::of(m.data(), {6, 4}), int64_t(5)).asDouble(),
            20.0 + 21 + 22 + 23);
  e = errorOf([&] { Mod.kernel("row_sum")(stn::ArrayView::of(m.data(), {6, 4}), int64_t(6)); });
  EXPECT_NE(e.find("index 6 is out of bounds for axis 0 of 'm' with shape (6, 4)"),
            std::string::npos)
      << e;
}

TEST_F(KernelFaults, WritesOutsideTheArrayAreStopped) {
  // Guard elements around the array the kernel sees: nothing outside it
  // may change.
  std::vector<double> buf(12, -1.0);
  auto av = stn::ArrayView::of(buf.data() + 1, {10});
  Mod.kernel("put")(av, int64_t(4), 7.0);
  EXPECT_EQ(buf[5], 7.0);
  std::string e = errorOf([&] { Mod.kernel("put")(av, int64_t(10), 7.0); });
  EXPECT_NE(e.find("index 10 is out of bounds for axis 0 of 'a' with shape (10,)"),
            std::string::npos)
      << e;
  e = errorOf([&] { Mod.kernel("bump")(av, int64_t(-11)); });
  EXPECT_NE(e.find("index -11 is out of bounds"), std::string::npos) << e;
  EXPECT_EQ(buf[0], -1.0);
  EXPECT_EQ(buf[11], -1.0);
}

TEST_F(KernelFaults, LoopsStopAtTheFirstBadIndex) {
  auto a = iota(100);
  auto av = stn::ArrayView::of(a.data(), {100});
  EXPECT_EQ(Mod.kernel("shifted_sum")(av, int64_t(0)).asDouble(), 4950.0);
  std::string e = errorOf([&] { Mod.kernel("shifted_sum")(av, int64_t(1)); });
  EXPECT_NE(e.find("index 100 is out of bounds for axis 0 of 'a' with shape (100,)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("faults.stn:30:14:"), std::string::npos) << e;
}

TEST_F(KernelFaults, CalleeErrorsPointIntoTheCallee) {
  auto a = iota(5);
  auto av = stn::ArrayView::of(a.data(), {5});
  EXPECT_EQ(Mod.kernel("calls_helper")(av, int64_t(2)).asDouble(), 5.0);
  std::string e = errorOf([&] { Mod.kernel("calls_helper")(av, int64_t(5)); });
  EXPECT_NE(e.find("faults.stn:35:12: error: index 5 is out of bounds for axis 0 of 'a'"),
            std::string::npos)
      << e;
}

TEST_F(KernelFaults, UncheckedKernelsDoNotPayForChecks) {
  // Only the call sites that raise are compiled with _stn_raise.
  stn::Module m = Engine.loadString("from numba import jit\n@jit\ndef f(a, i):\n"
                                    "    return a[i]\n",
                                    "plain.stn");
  auto a = iota(4);
  EXPECT_EQ(m.kernel("f")(stn::ArrayView::of(a.data(), {4}), int64_t(3)).asDouble(), 3.0);
  std::string ir = m.emit("f", "f64[:], i64", stn::Stage::LLVM);
  EXPECT_EQ(ir.find("_stn_raise"), std::string::npos);
  std::string checked = Mod.emit("get", "f64[:], i64", stn::Stage::LLVM);
  EXPECT_NE(checked.find("_stn_raise"), std::string::npos);
}

TEST_F(KernelFaults, IntegerDivisionByZero) {
  EXPECT_EQ(Mod.kernel("floordiv")(int64_t(-7), int64_t(2)).asInt(), -4);
  EXPECT_EQ(Mod.kernel("mod")(int64_t(-7), int64_t(2)).asInt(), 1);
  std::string e = errorOf([&] { Mod.kernel("floordiv")(int64_t(7), int64_t(0)); });
  EXPECT_NE(e.find("faults.stn:61:12: error: integer division by zero"), std::string::npos) << e;
  EXPECT_NE(e.find("error_model=\"numpy\""), std::string::npos) << e;
  e = errorOf([&] { Mod.kernel("mod")(int64_t(7), int64_t(0)); });
  EXPECT_NE(e.find("integer modulo by zero"), std::string::npos) << e;
  e = errorOf([&] { Mod.kernel("aug_div")(int64_t(7), int64_t(0)); });
  EXPECT_NE(e.find("faults.stn:69:5: error: integer division by zero"), std::string::npos) << e;
  // Unsigned and narrow integers too.
  e = errorOf([&] { Mod.kernel("floordiv")(uint8_t(7), uint8_t(0)); });
  EXPECT_NE(e.find("integer division by zero"), std::string::npos) << e;
  // Floats follow IEEE in both models; NumPy's model gives 0 for integers.
  EXPECT_TRUE(std::isinf(Mod.kernel("float_div")(1.0, 0.0).asDouble()));
  EXPECT_EQ(Mod.kernel("floordiv_np")(int64_t(7), int64_t(0)).asInt(), 0);
  // Ufuncs follow NumPy.
  std::vector<int64_t> a = {7, 8, 9}, b = {2, 0, 4};
  stn::Value r =
      Mod.kernel("vdiv")(stn::ArrayView::of(a.data(), {3}), stn::ArrayView::of(b.data(), {3}));
  const int64_t *p = static_cast<const int64_t *>(r.array().data());
  EXPECT_EQ(p[0], 3);
  EXPECT_EQ(p[1], 0);
  EXPECT_EQ(p[2], 2);
}

TEST_F(KernelFaults, BroadcastingErrorsInArrayExpressions) {
  auto a = iota(10), b = iota(4), c = iota(1);
  std::string e = errorOf([&] {
    Mod.kernel("add")(stn::ArrayView::of(a.data(), {10}), stn::ArrayView::of(b.data(), {4}));
  });
  EXPECT_NE(e.find("faults.stn:100:12: error: operands could not be broadcast together with "
                   "shapes (10,) (4,)"),
            std::string::npos)
      << e;
  // (10,) + (1,) broadcasts.
  stn::Value r =
      Mod.kernel("add")(stn::ArrayView::of(a.data(), {10}), stn::ArrayView::of(c.data(), {1}));
  EXPECT_EQ(r.array().shape(), (std::vector<int64_t>{10}));
  // 2-D against 1-D: the trailing axes must agree.
  std::vector<double> m(12, 1.0);
  e = errorOf([&] {
    Mod.kernel("add")(stn::ArrayView::of(m.data(), {3, 4}), stn::ArrayView::of(a.data(), {3}));
  });
  EXPECT_NE(e.find("shapes (3, 4) (3,)"), std::string::npos) << e;
}

TEST_F(KernelFaults, SliceAndMaskAssignmentsMustFit) {
  auto a = iota(5), b = iota(3), one = std::vector<double>{9.0};
  std::string e = errorOf([&] {
    Mod.kernel("set_tail")(stn::ArrayView::of(a.data(), {5}), stn::ArrayView::of(b.data(), {3}));
  });
  EXPECT_NE(e.find("faults.stn:108:5: error: could not broadcast a value of shape (3,) into 'a' "
                   "of shape (4,)"),
            std::string::npos)
      << e;
  // Nothing was written.
  EXPECT_EQ(a, iota(5));
  auto four = iota(4);
  Mod.kernel("set_tail")(stn::ArrayView::of(a.data(), {5}), stn::ArrayView::of(four.data(), {4}));
  EXPECT_EQ(a, (std::vector<double>{0, 0, 1, 2, 3}));

  std::vector<double> x = {0.9, 0.1, 0.7, 0.8};
  e = errorOf([&] {
    Mod.kernel("set_masked")(stn::ArrayView::of(x.data(), {4}), stn::ArrayView::of(b.data(), {2}));
  });
  EXPECT_NE(e.find("could not broadcast a value of shape (2,) into 'a' of shape (3,)"),
            std::string::npos)
      << e;
  // Three values for three selected elements, or one for all of them.
  Mod.kernel("set_masked")(stn::ArrayView::of(x.data(), {4}), stn::ArrayView::of(b.data(), {3}));
  EXPECT_EQ(x, (std::vector<double>{0.0, 0.1, 1.0, 2.0}));
  std::vector<double> y = {0.9, 0.1, 0.7};
  Mod.kernel("set_masked")(stn::ArrayView::of(y.data(), {3}), stn::ArrayView::of(one.data(), {1}));
  EXPECT_EQ(y, (std::vector<double>{9.0, 0.1, 9.0}));
}

/// Errors raised on the threads of a parallel region: reported once the
/// region ends, never a crash, for every team size.
class ParallelFaults : public ::testing::TestWithParam<unsigned> {
protected:
  ParallelFaults() : Engine(stn::test::noCache(GetParam())), Mod(Engine.loadString(Kernels, "faults.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

TEST_P(ParallelFaults, BadIndexOnAnyThread) {
  const int64_t n = 1000000;
  auto a = iota(n);
  auto av = stn::ArrayView::of(a.data(), {n});
  EXPECT_EQ(Mod.kernel("par_shifted")(av, int64_t(0)).asDouble(), double(n) * (n - 1) / 2);
  std::string e = errorOf([&] { Mod.kernel("par_shifted")(av, int64_t(1)); });
  EXPECT_NE(e.find("index 1000000 is out of bounds for axis 0 of 'a' with shape (1000000,)"),
            std::string::npos)
      << e;
  // Every index is bad: each thread raises; one error is reported.
  e = errorOf([&] { Mod.kernel("par_shifted")(av, int64_t(-3 * n)); });
  EXPECT_NE(e.find("is out of bounds for axis 0 of 'a'"), std::string::npos) << e;
  EXPECT_EQ(Mod.kernel("par_shifted")(av, int64_t(0)).asDouble(), double(n) * (n - 1) / 2);
}

TEST_P(ParallelFaults, BadStoresAndTemporariesInTheLoop) {
  const int64_t n = 200000;
  std::vector<double> buf(static_cast<size_t>(n) + 2, -1.0);
  auto out = stn::ArrayView::of(buf.data() + 1, {n});
  // limit = n - 1: every store is in bounds (2i is capped).
  Mod.kernel("par_fill")(out, int64_t(n - 1));
  EXPECT_EQ(buf[1 + 10], 5.0);
  std::string e = errorOf([&] { Mod.kernel("par_fill")(out, int64_t(n)); });
  EXPECT_NE(e.find("index 200000 is out of bounds for axis 0 of 'out' with shape (200000,)"),
            std::string::npos)
      << e;
  EXPECT_EQ(buf[0], -1.0);
  EXPECT_EQ(buf[static_cast<size_t>(n) + 1], -1.0);
}

TEST_P(ParallelFaults, DivisionByZeroOnAnyThread) {
  const int64_t n = 300000;
  std::vector<int64_t> a(static_cast<size_t>(n)), d(static_cast<size_t>(n), 3);
  int64_t ref = 0;
  for (int64_t i = 0; i < n; ++i) {
    a[i] = i * 7 - 1000;
    ref += a[i] >= 0 ? a[i] / 3 : -((-a[i] + 2) / 3);
  }
  auto av = stn::ArrayView::of(a.data(), {n}), dv = stn::ArrayView::of(d.data(), {n});
  EXPECT_EQ(Mod.kernel("div_all")(av, dv).asInt(), ref);
  EXPECT_EQ(Mod.kernel("par_div_all")(av, dv).asInt(), ref);
  d[static_cast<size_t>(n) - 5] = 0;
  std::string e = errorOf([&] { Mod.kernel("par_div_all")(av, dv); });
  EXPECT_NE(e.find("integer division by zero"), std::string::npos) << e;
  e = errorOf([&] { Mod.kernel("div_all")(av, dv); });
  EXPECT_NE(e.find("integer division by zero"), std::string::npos) << e;
}

TEST_P(ParallelFaults, BroadcastingInParallelArrayExpressions) {
  const int64_t n = 100000;
  auto a = iota(n), b = iota(n - 1);
  std::string e = errorOf([&] {
    Mod.kernel("par_add")(stn::ArrayView::of(a.data(), {n}),
                          stn::ArrayView::of(b.data(), {n - 1}));
  });
  EXPECT_NE(e.find("operands could not be broadcast together with shapes (100000,) (99999,)"),
            std::string::npos)
      << e;
}

INSTANTIATE_TEST_SUITE_P(Threads, ParallelFaults, ::testing::Values(1u, 2u, 4u));

TEST(KernelFaultEnv, BoundscheckFromTheEnvironment) {
  const char *src = "from numba import jit\n@jit\ndef f(a, i):\n    return a[i]\n"
                    "@jit(boundscheck=True)\ndef g(a, i):\n    return a[i]\n";
  auto a = iota(4);
  auto av = stn::ArrayView::of(a.data(), {4});
  ::setenv("STN_BOUNDSCHECK", "1", 1);
  {
    stn::Engine engine(stn::test::noCache());
    stn::Module m = engine.loadString(src, "env.stn");
    std::string e = errorOf([&] { m.kernel("f")(av, int64_t(4)); });
    EXPECT_NE(e.find("env.stn:4:12: error: index 4 is out of bounds"), std::string::npos) << e;
  }
  ::setenv("STN_BOUNDSCHECK", "0", 1);
  {
    stn::Engine engine(stn::test::noCache());
    stn::Module m = engine.loadString(src, "env.stn");
    EXPECT_EQ(m.emit("g", "f64[:], i64", stn::Stage::LLVM).find("_stn_raise"),
              std::string::npos);
  }
  ::unsetenv("STN_BOUNDSCHECK");
}

} // namespace
