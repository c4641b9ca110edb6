//===- EngineTest.cpp - Host API and language semantics -------------------===//
//
// Each test compiles a small kernel from a string and checks its result
// against a value computed independently (by hand from Python's rules, or
// by the C++ standard library). Errors must arrive as stn::Error with a
// formatted diagnostic.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <complex>
#include <limits>
#include <numeric>
#include <thread>

namespace {

stn::Value run(const char *src, const char *kernel, const std::vector<stn::Arg> &args) {
  stn::Engine engine;
  stn::Module m = engine.loadString(src, "test.stn");
  return m.kernel(kernel).call(args);
}

using stn::test::errorOf;

//===----------------------------------------------------------------------===//
// Integer and float semantics (Python / Numba rules)
//===----------------------------------------------------------------------===//

TEST(Semantics, FloorDivisionAndModuloFollowPython) {
  const char *src = R"(
@jit
def divmod2(a, b):
    return a // b, a % b
)";
  struct Case {
    int64_t a, b, q, r;
  } cases[] = {{7, 2, 3, 1},   {-7, 2, -4, 1},  {7, -2, -4, -1},
               {-7, -2, 3, -1}, {6, 3, 2, 0},   {-6, 3, -2, 0}};
  for (auto c : cases) {
    stn::Value v = run(src, "divmod2", {c.a, c.b});
    EXPECT_EQ(v[0].asInt(), c.q) << c.a << " // " << c.b;
    EXPECT_EQ(v[1].asInt(), c.r) << c.a << " % " << c.b;
  }
  stn::Value f = run(src, "divmod2", {-7.5, 2.0});
  EXPECT_EQ(f[0].asDouble(), -4.0);
  EXPECT_EQ(f[1].asDouble(), 0.5);
  stn::Value g = run(src, "divmod2", {7.5, -2.0});
  EXPECT_EQ(g[0].asDouble(), -4.0);
  EXPECT_EQ(g[1].asDouble(), -0.5);
}

TEST(Semantics, IntegerDivisionByZeroAndOverflowDoNotTrap) {
  // error_model="numpy": 0, as NumPy (the default, "python", raises:
  // KernelFaultTest).
  const char *src = R"(
@jit(error_model="numpy")
def d(a, b):
    return a // b, a % b
)";
  stn::Value v = run(src, "d", {int64_t(5), int64_t(0)});
  EXPECT_EQ(v[0].asInt(), 0);
  EXPECT_EQ(v[1].asInt(), 0);
  int64_t mn = std::numeric_limits<int64_t>::min();
  stn::Value w = run(src, "d", {mn, int64_t(-1)});
  EXPECT_EQ(w[0].asInt(), mn); // wraps, like NumPy
  EXPECT_EQ(w[1].asInt(), 0);
}

TEST(Semantics, SmallIntegersComputeIn64Bits) {
  const char *src = R"(
@jit
def add(a, b):
    return a + b
)";
  stn::Value v = run(src, "add", {int8_t(100), int8_t(100)});
  EXPECT_EQ(v.scalar().dtype(), stn::DType::Int64);
  EXPECT_EQ(v.asInt(), 200);
  stn::Value u = run(src, "add", {uint8_t(200), uint8_t(100)});
  EXPECT_EQ(u.scalar().dtype(), stn::DType::UInt64);
  EXPECT_EQ(u.scalar().asUInt(), 300u);
  // int64 with uint64 has no common integer type: float64, like NumPy.
  stn::Value m = run(src, "add", {int64_t(-1), uint64_t(3)});
  EXPECT_EQ(m.scalar().dtype(), stn::DType::Float64);
  EXPECT_EQ(m.asDouble(), 2.0);
  stn::Value f = run(src, "add", {1.5f, 2.25f});
  EXPECT_EQ(f.scalar().dtype(), stn::DType::Float32);
  EXPECT_EQ(f.asDouble(), 3.75);
}

TEST(Semantics, TrueDivisionOfIntegersIsFloat64) {
  stn::Value v = run("@jit\ndef f(a, b):\n    return a / b\n", "f", {int32_t(7), int32_t(2)});
  EXPECT_EQ(v.scalar().dtype(), stn::DType::Float64);
  EXPECT_EQ(v.asDouble(), 3.5);
}

TEST(Semantics, IntegersWrapOnOverflow) {
  int64_t mx = std::numeric_limits<int64_t>::max();
  stn::Value v = run("@jit\ndef f(a):\n    return a + 1\n", "f", {mx});
  EXPECT_EQ(v.asInt(), std::numeric_limits<int64_t>::min());
  stn::Value c = run("import numpy as np\n@jit\ndef f(a):\n    return np.int8(a)\n", "f",
                     {int64_t(300)});
  EXPECT_EQ(c.scalar().dtype(), stn::DType::Int8);
  EXPECT_EQ(c.asInt(), 44);
}

TEST(Semantics, PowerOperator) {
  const char *src = R"(
@jit
def p(a, b):
    return a ** b
)";
  EXPECT_EQ(run(src, "p", {int64_t(2), int64_t(10)}).asInt(), 1024);
  EXPECT_EQ(run(src, "p", {int64_t(-2), int64_t(3)}).asInt(), -8);
  EXPECT_EQ(run(src, "p", {int64_t(3), int64_t(0)}).asInt(), 1);
  EXPECT_EQ(run(src, "p", {int64_t(2), int64_t(-1)}).asInt(), 0);
  EXPECT_EQ(run(src, "p", {int64_t(-1), int64_t(-3)}).asInt(), -1);
  EXPECT_DOUBLE_EQ(run(src, "p", {2.0, 0.5}).asDouble(), std::sqrt(2.0));
  stn::Value sq = run("@jit\ndef f(x):\n    return x ** 2\n", "f", {1.5f});
  EXPECT_EQ(sq.scalar().dtype(), stn::DType::Float32);
  EXPECT_EQ(sq.asDouble(), 2.25);
}

TEST(Semantics, BitwiseAndShifts) {
  const char *src = R"(
@jit
def b(a, s):
    return a & 12, a | 1, a ^ 5, ~a, a << s, a >> s
)";
  stn::Value v = run(src, "b", {int64_t(-8), int64_t(1)});
  EXPECT_EQ(v[0].asInt(), -8 & 12);
  EXPECT_EQ(v[1].asInt(), -8 | 1);
  EXPECT_EQ(v[2].asInt(), -8 ^ 5);
  EXPECT_EQ(v[3].asInt(), 7);
  EXPECT_EQ(v[4].asInt(), -16);
  EXPECT_EQ(v[5].asInt(), -4);
  // Shifts by the full width are defined (no poison).
  stn::Value w = run(src, "b", {int64_t(-8), int64_t(70)});
  EXPECT_EQ(w[4].asInt(), 0);
  EXPECT_EQ(w[5].asInt(), -1);
}

TEST(Semantics, ComparisonChainsAndShortCircuit) {
  const char *src = R"(
@jit
def inside(x):
    return 0 < x <= 10

@jit
def pick(a, b):
    return a or b, a and b

@jit
def safe(x, n):
    # the right operand would divide by zero if evaluated
    return n != 0 and x // n > 1
)";
  EXPECT_TRUE(run(src, "inside", {int64_t(10)}).asBool());
  EXPECT_FALSE(run(src, "inside", {int64_t(11)}).asBool());
  EXPECT_FALSE(run(src, "inside", {int64_t(0)}).asBool());
  EXPECT_TRUE(run(src, "inside", {2.5}).asBool());
  stn::Value p = run(src, "pick", {int64_t(0), int64_t(5)});
  EXPECT_EQ(p[0].asInt(), 5);
  EXPECT_EQ(p[1].asInt(), 0);
  stn::Value q = run(src, "pick", {int64_t(3), int64_t(5)});
  EXPECT_EQ(q[0].asInt(), 3);
  EXPECT_EQ(q[1].asInt(), 5);
  EXPECT_FALSE(run(src, "safe", {int64_t(10), int64_t(0)}).asBool());
  EXPECT_TRUE(run(src, "safe", {int64_t(10), int64_t(3)}).asBool());
}

TEST(Semantics, ConditionalExpressionAndUnification) {
  const char *src = R"(
@jit
def f(x):
    y = 1
    if x > 0:
        y = 2.5
    return y if x < 100 else -1
)";
  stn::Value a = run(src, "f", {int64_t(5)});
  EXPECT_EQ(a.scalar().dtype(), stn::DType::Float64);
  EXPECT_EQ(a.asDouble(), 2.5);
  EXPECT_EQ(run(src, "f", {int64_t(-5)}).asDouble(), 1.0);
  EXPECT_EQ(run(src, "f", {int64_t(500)}).asDouble(), -1.0);
}

TEST(Semantics, LoopsBreakContinueElse) {
  const char *src = R"(
@jit
def loops(n):
    total = 0
    for i in range(n):
        if i % 2 == 0:
            continue
        if i > 7:
            break
        total += i
    else:
        total = -1
    k = 0
    while True:
        k += 3
        if k > 10:
            break
    for j in range(10, 0, -3):
        total += j * 100
    found = 0
    for i in range(3):
        pass
    else:
        found = 1
    return total, k, found, i
)";
  stn::Value v = run(src, "loops", {int64_t(20)});
  // 1 + 3 + 5 + 7, then 10+7+4+1 hundreds
  EXPECT_EQ(v[0].asInt(), 16 + 2200);
  EXPECT_EQ(v[1].asInt(), 12);
  EXPECT_EQ(v[2].asInt(), 1);
  EXPECT_EQ(v[3].asInt(), 2);
  // A loop that finishes without break runs its else.
  EXPECT_EQ(run(src, "loops", {int64_t(4)})[0].asInt(), -1 + 2200);
}

TEST(Semantics, TuplesUnpackingAndSwap) {
  const char *src = R"(
@jit
def swap(a, b):
    a, b = b, a
    t = (a, (b, 3))
    x, (y, z) = t
    return x, y, z, len(t), t[-1][0]
)";
  stn::Value v = run(src, "swap", {int64_t(1), 2.5});
  EXPECT_EQ(v.size(), 5u);
  EXPECT_EQ(v[0].asDouble(), 2.5);
  EXPECT_EQ(v[1].asInt(), 1);
  EXPECT_EQ(v[2].asInt(), 3);
  EXPECT_EQ(v[3].asInt(), 2);
  EXPECT_EQ(v[4].asInt(), 1);
}

TEST(Semantics, ComplexNumbers) {
  const char *src = R"(
@jit
def c(a, b):
    z = complex(a, b)
    w = z * 2j + 1
    return abs(z), w.real, w.imag, z.conjugate(), z == w
)";
  stn::Value v = run(src, "c", {3.0, 4.0});
  std::complex<double> z(3, 4), w = z * std::complex<double>(0, 2) + 1.0;
  EXPECT_DOUBLE_EQ(v[0].asDouble(), 5.0);
  EXPECT_DOUBLE_EQ(v[1].asDouble(), w.real());
  EXPECT_DOUBLE_EQ(v[2].asDouble(), w.imag());
  EXPECT_EQ(v[3].asComplex(), std::conj(z));
  EXPECT_FALSE(v[4].asBool());
  stn::Value e = run("import numpy as np\n@jit\ndef f(z):\n    return np.exp(z)\n", "f",
                     {std::complex<double>(0.5, 1.0)});
  EXPECT_NEAR(std::abs(e.asComplex() - std::exp(std::complex<double>(0.5, 1.0))), 0, 1e-15);
}

TEST(Semantics, MathFunctions) {
  const char *src = R"(
import math
import numpy as np

@jit
def m(x, y):
    return (math.sqrt(x), np.arctan2(y, x), math.hypot(x, y), math.floor(-x),
            np.floor(-x), math.isnan(x), math.copysign(x, -1.0), math.log10(x),
            np.tanh(y), math.atan(y), abs(-y), min(x, y, 0.5), max(x, y))
)";
  double x = 2.25, y = -1.5;
  stn::Value v = run(src, "m", {x, y});
  EXPECT_DOUBLE_EQ(v[0].asDouble(), std::sqrt(x));
  EXPECT_DOUBLE_EQ(v[1].asDouble(), std::atan2(y, x));
  EXPECT_DOUBLE_EQ(v[2].asDouble(), std::hypot(x, y));
  EXPECT_EQ(v[3].scalar().dtype(), stn::DType::Int64); // math.floor returns int
  EXPECT_EQ(v[3].asInt(), -3);
  EXPECT_EQ(v[4].scalar().dtype(), stn::DType::Float64); // np.floor returns float
  EXPECT_EQ(v[4].asDouble(), -3.0);
  EXPECT_FALSE(v[5].asBool());
  EXPECT_EQ(v[6].asDouble(), -x);
  EXPECT_DOUBLE_EQ(v[7].asDouble(), std::log10(x));
  EXPECT_DOUBLE_EQ(v[8].asDouble(), std::tanh(y));
  EXPECT_DOUBLE_EQ(v[9].asDouble(), std::atan(y));
  EXPECT_EQ(v[10].asDouble(), 1.5);
  EXPECT_EQ(v[11].asDouble(), -1.5);
  EXPECT_EQ(v[12].asDouble(), 2.25);
  stn::Value f = run("import math\n@jit\ndef f(x):\n    return math.sqrt(x)\n", "f", {4.0f});
  EXPECT_EQ(f.scalar().dtype(), stn::DType::Float32);
  stn::Value n = run("import math\n@jit\ndef f(x):\n    return math.isnan(x), math.isinf(x)\n",
                     "f", {std::nan("")});
  EXPECT_TRUE(n[0].asBool());
  EXPECT_FALSE(n[1].asBool());
}

TEST(Semantics, ModuleConstantsAndMathConstants) {
  const char *src = R"(
import math
N = 3 * 4
SCALE = 0.5
PAIR = (N, -2)

@jit
def k(x):
    return x * N * SCALE + PAIR[1] + math.pi
)";
  EXPECT_DOUBLE_EQ(run(src, "k", {2.0}).asDouble(), 2.0 * 12 * 0.5 - 2 + M_PI);
}

//===----------------------------------------------------------------------===//
// Arrays
//===----------------------------------------------------------------------===//

TEST(Arrays, NegativeIndicesShapeAndRows) {
  const char *src = R"(
@jit
def info(a):
    n, m = a.shape
    row = a[-1]
    return a[-1, -1], a[0][1], n, m, a.ndim, a.size, len(a), row[0]
)";
  std::vector<double> data(12);
  std::iota(data.begin(), data.end(), 0.0);
  stn::Value v = run(src, "info", {stn::ArrayView::of(data.data(), {3, 4})});
  EXPECT_EQ(v[0].asDouble(), 11.0);
  EXPECT_EQ(v[1].asDouble(), 1.0);
  EXPECT_EQ(v[2].asInt(), 3);
  EXPECT_EQ(v[3].asInt(), 4);
  EXPECT_EQ(v[4].asInt(), 2);
  EXPECT_EQ(v[5].asInt(), 12);
  EXPECT_EQ(v[6].asInt(), 3);
  EXPECT_EQ(v[7].asDouble(), 8.0);
}

TEST(Arrays, StridedViewsAndWrites) {
  const char *src = R"(
@jit
def scale(a, s):
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            a[i, j] *= s
)";
  // Every other column of a 4x6 int32 matrix, rows reversed.
  std::vector<int32_t> data(24);
  std::iota(data.begin(), data.end(), 0);
  stn::ArrayView v(data.data() + 18, stn::DType::Int32, {4, 3},
                   {-6 * int64_t(sizeof(int32_t)), 2 * int64_t(sizeof(int32_t))});
  run(src, "scale", {v, int64_t(10)});
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 6; ++c)
      EXPECT_EQ(data[r * 6 + c], c % 2 == 0 ? (r * 6 + c) * 10 : r * 6 + c);
}

TEST(Arrays, BoolArraysAndIterationOverRows) {
  const char *src = R"(
@jit
def count(mask):
    n = 0
    for b in mask:
        if b:
            n += 1
    return n

@jit
def rowsums(a, out):
    i = 0
    for row in a:
        s = 0.0
        for x in row:
            s += x
        out[i] = s
        i += 1
)";
  bool mask[5] = {true, false, true, true, false};
  EXPECT_EQ(run(src, "count", {stn::ArrayView::of(mask, {5})}).asInt(), 3);
  float a[6] = {1, 2, 3, 4, 5, 6};
  double out[2] = {0, 0};
  run(src, "rowsums", {stn::ArrayView::of(a, {2, 3}), stn::ArrayView::of(out, {2})});
  EXPECT_EQ(out[0], 6.0);
  EXPECT_EQ(out[1], 15.0);
}

TEST(Arrays, ReturnedArraysAreOwningCopies) {
  const char *src = R"(
@jit
def middle(a):
    return a[1]
)";
  std::vector<int16_t> data = {1, 2, 3, 4, 5, 6};
  stn::Value v = run(src, "middle", {stn::ArrayView::of(data.data(), {3, 2})});
  ASSERT_TRUE(v.isArray());
  EXPECT_EQ(v.array().dtype(), stn::DType::Int16);
  EXPECT_EQ(v.array().shape(), std::vector<int64_t>({2}));
  data[2] = 100;
  EXPECT_EQ(v.array().data<int16_t>()[0], 3);
  EXPECT_EQ(v.array().data<int16_t>()[1], 4);
}

//===----------------------------------------------------------------------===//
// Kernels calling kernels, specialization, signatures
//===----------------------------------------------------------------------===//

TEST(Specialization, HelpersCompileWithTheCallersTypes) {
  const char *src = R"(
@jit
def twice(x):
    return x + x

@jit
def both(a, b):
    return twice(a), twice(b)
)";
  stn::Value v = run(src, "both", {int32_t(4), 1.25f});
  EXPECT_EQ(v[0].scalar().dtype(), stn::DType::Int64);
  EXPECT_EQ(v[0].asInt(), 8);
  EXPECT_EQ(v[1].scalar().dtype(), stn::DType::Float32);
  EXPECT_EQ(v[1].asDouble(), 2.5);
}

TEST(Specialization, EachSignatureCompilesOnceAndIsReused) {
  stn::Engine engine;
  stn::Module m = engine.loadString("@jit\ndef f(x):\n    return x * 2\n");
  stn::Kernel f = m.kernel("f");
  EXPECT_EQ(f(int64_t(2)).asInt(), 4);
  EXPECT_EQ(f(1.5).asDouble(), 3.0);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(f(int64_t(i)).asInt(), 2 * i);
}

TEST(Specialization, ExplicitSignaturesConvertScalarsAndRejectArrays) {
  const char *src = R"stn(
@jit("f8(i4, f4)")
def f(a, b):
    return a + b

@jit
def g(x: f64[:], y: i64) -> f64:
    return x[y]
)stn";
  stn::Engine engine;
  stn::Module m = engine.loadString(src);
  EXPECT_EQ(m.kernel("f")(int64_t(2), 0.5).asDouble(), 2.5);
  double xs[3] = {1, 2, 3};
  EXPECT_EQ(m.kernel("g")(stn::ArrayView::of(xs, {3}), int64_t(2)).asDouble(), 3.0);
  float fs[3] = {1, 2, 3};
  std::string err = errorOf([&] { m.kernel("g")(stn::ArrayView::of(fs, {3}), int64_t(2)); });
  EXPECT_NE(err.find("no signature of 'g' accepts argument types (f32[::1], i64)"),
            std::string::npos)
      << err;
}

//===----------------------------------------------------------------------===//
// Errors are values
//===----------------------------------------------------------------------===//

TEST(Errors, SyntaxErrorsCarryLocationAndCaret) {
  std::string err = errorOf([] {
    stn::Engine e;
    e.loadString("@jit\ndef f(x):\n    return (x +\n", "bad.stn");
  });
  EXPECT_NE(err.find("bad.stn:"), std::string::npos) << err;
  EXPECT_NE(err.find("error:"), std::string::npos) << err;
  EXPECT_NE(err.find("^"), std::string::npos) << err;
}

TEST(Errors, UnknownNameSuggestsTheClosest) {
  std::string err = errorOf([] {
    stn::Engine e;
    e.loadString("@jit\ndef f(total):\n    return totl + 1\n", "names.stn");
  });
  EXPECT_NE(err.find("names.stn:3:12: error: name 'totl' is not defined"), std::string::npos)
      << err;
  EXPECT_NE(err.find("did you mean 'total'?"), std::string::npos) << err;
}

TEST(Errors, TypeErrorsAtCallTime) {
  stn::Engine e;
  stn::Module m = e.loadString("@jit\ndef f(x):\n    return x[0] + 1\n", "types.stn");
  std::string err = errorOf([&] { m.kernel("f")(2.0); });
  EXPECT_NE(err.find("types.stn:3:12: error: a value of type 'float64' cannot be indexed"),
            std::string::npos)
      << err;
  std::string arity = errorOf([&] { m.kernel("f")(); });
  EXPECT_NE(arity.find("kernel 'f' takes 1 argument (x) but 0 were given"), std::string::npos)
      << arity;
  std::string missing = errorOf([&] { m.kernel("g"); });
  EXPECT_NE(missing.find("no kernel named 'g'"), std::string::npos) << missing;
  stn::Module m2 = e.loadString("@jit\ndef g(x):\n    return x[0, 1]\n", "rank.stn");
  double d[4] = {};
  std::string rank = errorOf([&] { m2.kernel("g")(stn::ArrayView::of(d, {4})); });
  EXPECT_NE(rank.find("rank.stn:3:14: error: too many indices for array: array is "
                      "1-dimensional, but 2 were indexed"),
            std::string::npos)
      << rank;
}

TEST(Errors, BadArgumentsAreRejectedBeforeTheCall) {
  stn::Engine e;
  stn::Module m = e.loadString("@jit\ndef f(x):\n    return x[0]\n");
  char buf[64] = {};
  stn::ArrayView misaligned(buf + 1, stn::DType::Float64, {2}, {8});
  EXPECT_NE(errorOf([&] { m.kernel("f")(misaligned); }).find("not aligned"), std::string::npos);
  stn::ArrayView badStride(buf, stn::DType::Float64, {2}, {3});
  EXPECT_NE(errorOf([&] { m.kernel("f")(badStride); }).find("not a multiple of the item size"),
            std::string::npos);
  stn::ArrayView null(nullptr, stn::DType::Float64, {2}, {8});
  EXPECT_NE(errorOf([&] { m.kernel("f")(null); }).find("null data pointer"), std::string::npos);
}

TEST(Errors, UnificationFailureNamesBothTypes) {
  std::string err = errorOf([] {
    stn::Engine e;
    e.loadString("@jit\ndef f(a):\n    x = 1\n    x = (1, 2)\n    return x\n", "u.stn")
        .kernel("f")(int64_t(1));
  });
  EXPECT_NE(err.find("u.stn:4:5: error: cannot unify the types of 'x'"), std::string::npos)
      << err;
}

TEST(Errors, RecursionWithoutABaseCaseIsReported) {
  std::string err = errorOf([] {
    stn::Engine e;
    e.loadString("@jit\ndef f(n):\n    return f(n - 1) + 1 if n > 0 else f(n + 1)\n")
        .kernel("f")(int64_t(3));
  });
  // Every return (each branch of the conditional) calls f: nothing gives
  // the result type before the call needs it.
  EXPECT_NE(err.find("<string>:2:5: error: cannot infer the result type of 'f'"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("return statement of its own"), std::string::npos) << err;
}

TEST(Errors, UnknownDecoratorOption) {
  std::string err = errorOf([] {
    stn::Engine e;
    e.loadString("@jit(fastmth=True)\ndef f(x):\n    return x\n", "o.stn");
  });
  EXPECT_NE(err.find("o.stn:1:6: error: unknown option 'fastmth' for @jit"), std::string::npos)
      << err;
  EXPECT_NE(err.find("did you mean 'fastmath'?"), std::string::npos) << err;
}

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

TEST(Threads, ConcurrentLoadsCompilesAndCalls) {
  stn::Engine engine;
  stn::Module shared = engine.loadString(R"(
@jit
def dot(a, b):
    s = 0.0
    for i in range(len(a)):
        s += a[i] * b[i]
    return s
)");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      try {
        std::vector<double> a(100 + t, 1.0), b(100 + t, 2.0);
        std::vector<float> fa(50, 1.0f);
        for (int rep = 0; rep < 5; ++rep) {
          double d = shared.kernel("dot")(stn::ArrayView::of(a.data(), {int64_t(a.size())}),
                                          stn::ArrayView::of(b.data(), {int64_t(b.size())}))
                         .asDouble();
          if (d != 2.0 * a.size())
            ++failures;
          // A second specialization compiled concurrently by every thread.
          double f = shared.kernel("dot")(stn::ArrayView::of(fa.data(), {50}),
                                          stn::ArrayView::of(fa.data(), {50}))
                         .asDouble();
          if (f != 50.0)
            ++failures;
        }
        // Each thread also loads its own module into the shared engine.
        stn::Module own = engine.loadString("@jit\ndef k(x):\n    return x + " +
                                            std::to_string(t) + "\n");
        if (own.kernel("k")(int64_t(1)).asInt() != 1 + t)
          ++failures;
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto &th : threads)
    th.join();
  EXPECT_EQ(failures.load(), 0);
}

} // namespace
