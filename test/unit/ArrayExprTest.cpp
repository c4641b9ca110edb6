//===- ArrayExprTest.cpp - NumPy array expressions vs plain C++ -----------===//
//
// Issue 3, part 1: NumPy-style array expressions inside @jit/@njit kernels,
// called through the public host API and compared with independent C++
// references written here:
//
//   - elementwise arithmetic, bitwise operators, comparisons, np.where,
//     np.minimum/np.maximum, unary operators and math functions, with NumPy
//     broadcasting ((3, 4) with (4,), (3, 1) with (1, 4), a scalar with
//     (2, 3), rank 3 with rank 1 and rank 2) over int8, int16, int32, int64,
//     uint8, float32, float64 and complex128;
//   - NEP 50 result dtypes (array-array promotion without widening, Python
//     literals that keep the array's dtype, typed scalars that promote);
//   - the creation functions, copy() and astype();
//   - whole-array reductions, np.dot for vectors;
//   - arrays returned (also in tuples), passed to helper kernels and kept in
//     variables; the seed course's square_mean and evaluate_functions, the
//     normalization example; memory that temporaries use is given back.
//
// A reference performs the same operations as the kernel, in the same types
// and order (reductions add sequentially in C order, as stn does; NumPy
// itself sums pairwise, so its last bits can differ), so results are
// compared exactly. Where the kernel computes through a different algorithm
// (complex division, abs, sqrt and exp are expanded by MLIR's complex
// lowering, not by libstdc++), a relative tolerance is given and commented.
// Real math functions are libm calls in both, so they are compared exactly.
//
// Kernels are written inline (loadString), the examples come from
// dsl-examples/. Tests of known compiler bugs are skipped with a message
// naming the bug; set STN_RUN_KNOWN_BUGS=1 to run them anyway.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef STN_EXAMPLES_DIR
#error "STN_EXAMPLES_DIR must name the dsl-examples/ directory"
#endif

namespace {

using Shape = std::vector<int64_t>;
using c128 = std::complex<double>;

/// Skips a test of a known compiler bug unless STN_RUN_KNOWN_BUGS=1.
#define SKIP_KNOWN_BUG(msg)                                                    \
  do {                                                                         \
    const char *run_ = std::getenv("STN_RUN_KNOWN_BUGS");                      \
    if (!run_ || std::string(run_) != "1")                                     \
      GTEST_SKIP() << "BUG: " << msg;                                          \
  } while (0)

//===----------------------------------------------------------------------===//
// Helpers: random data, operands, broadcasting, comparison
//===----------------------------------------------------------------------===//

/// Deterministic pseudo-random numbers, identical on every platform.
class Rng {
public:
  explicit Rng(uint64_t seed) : Gen(seed) {}
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(Gen() >> 11) * 0x1.0p-53;
  }
  int64_t integer(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Gen() % static_cast<uint64_t>(hi - lo + 1));
  }

private:
  std::mt19937_64 Gen;
};

template <class T> constexpr bool isComplexV = false;
template <class T> constexpr bool isComplexV<std::complex<T>> = true;
template <class T> constexpr bool isIntV = std::is_integral_v<T> && !std::is_same_v<T, bool>;

int64_t product(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string shapeText(const Shape &s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i)
    r += std::to_string(s[i]) + (s.size() == 1 || i + 1 < s.size() ? "," : "");
  return r + ")";
}

/// A random value of T: integers in [ilo, ihi] clamped to T's range,
/// floats in [flo, fhi), complex numbers with both parts in [flo, fhi).
template <class T> T randomValue(Rng &rng, int64_t ilo, int64_t ihi, double flo, double fhi) {
  if constexpr (isComplexV<T>) {
    using P = typename T::value_type;
    P re = static_cast<P>(rng.uniform(flo, fhi));
    P im = static_cast<P>(rng.uniform(flo, fhi));
    return T(re, im);
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(rng.uniform(flo, fhi));
  } else {
    int64_t lo = std::max<int64_t>(ilo, static_cast<int64_t>(std::numeric_limits<T>::min()));
    int64_t hi = std::min<int64_t>(
        ihi, static_cast<int64_t>(std::min<uint64_t>(std::numeric_limits<T>::max(), INT64_MAX)));
    return static_cast<T>(rng.integer(lo, hi));
  }
}

/// One argument of a kernel: a C-contiguous array, or a scalar (shape {}).
template <class T> struct Operand {
  Shape shape;
  std::vector<T> data;
  bool scalar() const { return shape.empty(); }
  stn::Arg arg() const {
    if (scalar())
      return stn::Arg(stn::Scalar(data[0]));
    return stn::Arg(stn::ArrayView::of(data.data(), shape));
  }
};

/// Random data over the whole range of small integer types (so int8 and
/// uint8 arithmetic wraps), +-1e6 for wider integers (int32 products still
/// wrap), floats in [-4, 4).
template <class T> Operand<T> randomOperand(Rng &rng, const Shape &shape) {
  Operand<T> o{shape, {}};
  for (int64_t i = 0; i < product(shape); ++i)
    o.data.push_back(randomValue<T>(rng, -1000000, 1000000, -4.0, 4.0));
  return o;
}

template <class T> Operand<T> operandOf(const Shape &shape, std::vector<T> data) {
  return Operand<T>{shape, std::move(data)};
}

/// NumPy's broadcast shape of two shapes (they must broadcast).
Shape broadcastShape(const Shape &a, const Shape &b) {
  size_t n = std::max(a.size(), b.size());
  Shape r(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    r[i] = x == 1 ? y : x;
  }
  return r;
}

/// The C-order position in an input of shape `in` of the element that
/// broadcasting reads for output element `flat` of shape `out`.
int64_t sourceIndex(int64_t flat, const Shape &out, const Shape &in) {
  Shape idx(out.size());
  for (size_t d = out.size(); d-- > 0;) {
    idx[d] = flat % out[d];
    flat /= out[d];
  }
  int64_t pos = 0;
  size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d)
    pos = pos * in[d] + (in[d] == 1 ? 0 : idx[lead + d]);
  return pos;
}

template <class R, class A, class B, class F>
std::vector<R> refBinary(const Operand<A> &a, const Operand<B> &b, F f) {
  Shape out = broadcastShape(a.shape, b.shape);
  std::vector<R> r;
  for (int64_t i = 0; i < product(out); ++i)
    r.push_back(static_cast<R>(f(a.data[static_cast<size_t>(sourceIndex(i, out, a.shape))],
                                 b.data[static_cast<size_t>(sourceIndex(i, out, b.shape))])));
  return r;
}

template <class R, class A, class F> std::vector<R> refUnary(const Operand<A> &a, F f) {
  std::vector<R> r;
  for (const A &x : a.data)
    r.push_back(static_cast<R>(f(x)));
  return r;
}

/// Every element of a result array in C order (any strides).
template <class R> std::vector<R> valuesOf(const stn::Array &a) {
  std::vector<R> out;
  const size_t rank = static_cast<size_t>(a.rank());
  for (int64_t flat = 0; flat < a.size(); ++flat) {
    int64_t rest = flat;
    const char *p = static_cast<const char *>(a.data());
    for (size_t d = rank; d-- > 0;) {
      p += (rest % a.shape()[d]) * a.strides()[d];
      rest /= a.shape()[d];
    }
    R x;
    std::memcpy(&x, p, sizeof(R));
    out.push_back(x);
  }
  return out;
}

template <class R> std::string show(const R &x) {
  std::ostringstream os;
  os.precision(17);
  if constexpr (isComplexV<R>)
    os << "(" << x.real() << ", " << x.imag() << ")";
  else if constexpr (std::is_integral_v<R>)
    os << +x;
  else
    os << x;
  return os.str();
}

/// Equal (NaN equals NaN, -0.0 equals 0.0), or within `rel` relative to the
/// expected magnitude (at least 1e-300 absolute) when rel > 0.
template <class R> bool same(const R &got, const R &want, double rel) {
  if constexpr (isComplexV<R>) {
    if (rel > 0.0)
      return std::abs(c128(got) - c128(want)) <= rel * std::max(std::abs(c128(want)), 1e-300);
    return same(got.real(), want.real(), 0.0) && same(got.imag(), want.imag(), 0.0);
  } else if constexpr (std::is_floating_point_v<R>) {
    if (std::isnan(got) || std::isnan(want))
      return std::isnan(got) && std::isnan(want);
    if (got == want)
      return true;
    return rel > 0.0 && std::abs(double(got) - double(want)) <=
                            rel * std::max(std::abs(double(want)), 1e-300);
  } else {
    return got == want;
  }
}

/// Checks dtype, shape and values of an array result.
template <class R>
void expectArray(const stn::Value &v, const Shape &shape, const std::vector<R> &want,
                 double rel = 0.0) {
  ASSERT_TRUE(v.isArray()) << "result is " << v.toJSON();
  const stn::Array &a = v.array();
  ASSERT_EQ(stn::dtypeName(a.dtype()), stn::dtypeName(stn::DTypeOf<R>::value))
      << "result dtype";
  ASSERT_EQ(shapeText(a.shape()), shapeText(shape)) << "result shape";
  ASSERT_EQ(static_cast<size_t>(product(shape)), want.size()) << "bad reference size";
  std::vector<R> got = valuesOf<R>(a);
  int64_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (!same<R>(R(got[i]), R(want[i]), rel) && bad++ < 8)
      ADD_FAILURE() << "element " << i << " (flat, C order) = " << show(R(got[i]))
                    << ", expected " << show(R(want[i]));
  EXPECT_EQ(bad, 0) << "mismatching elements";
}

/// Checks dtype and value of a scalar result.
template <class R> void expectScalar(const stn::Value &v, R want, double rel = 0.0) {
  ASSERT_TRUE(v.isScalar()) << "result is " << v.toJSON();
  ASSERT_EQ(stn::dtypeName(v.scalar().dtype()), stn::dtypeName(stn::DTypeOf<R>::value))
      << "result dtype";
  R got;
  if constexpr (isComplexV<R>)
    got = R(v.asComplex());
  else if constexpr (std::is_same_v<R, bool>)
    got = v.asBool();
  else if constexpr (std::is_floating_point_v<R>)
    got = static_cast<R>(v.asDouble());
  else if constexpr (std::is_unsigned_v<R>)
    got = static_cast<R>(v.scalar().asUInt());
  else
    got = static_cast<R>(v.asInt());
  EXPECT_TRUE(same(got, want, rel)) << "got " << show(got) << ", expected " << show(want);
}

std::string dtypeOfResult(const stn::Value &v) {
  if (v.isArray())
    return std::string(stn::dtypeName(v.array().dtype()));
  if (v.isScalar())
    return "scalar " + std::string(stn::dtypeName(v.scalar().dtype()));
  return v.toJSON();
}

/// Runs `f.template operator()<T>()` for each T.
template <class... Ts, class F> void forEachType(F &&f) { (f.template operator()<Ts>(), ...); }

/// Peak resident set size of this process, in bytes.
/// How often `what` occurs in `text` (operations in printed IR).
size_t countOf(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1))
    ++n;
  return n;
}

int64_t peakRss() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;
}

//===----------------------------------------------------------------------===//
// References: NumPy's elementwise semantics in C++
//===----------------------------------------------------------------------===//

/// Integer arithmetic wraps in T (computed in uint64, converted back: C++20
/// conversions to signed types are modular).
template <class T> T wrap(uint64_t v) { return static_cast<T>(v); }
template <class T> T addW(T a, T b) {
  if constexpr (isIntV<T>)
    return wrap<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  else
    return a + b;
}
template <class T> T subW(T a, T b) {
  if constexpr (isIntV<T>)
    return wrap<T>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
  else
    return a - b;
}
template <class T> T mulW(T a, T b) {
  if constexpr (isIntV<T>) {
    return wrap<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  } else if constexpr (isComplexV<T>) {
    // (ac - bd) + (ad + bc)i, as stn (and CPython, NumPy, Numba) computes it.
    using P = typename T::value_type;
    P re = a.real() * b.real() - a.imag() * b.imag();
    P im = a.real() * b.imag() + a.imag() * b.real();
    return T(re, im);
  } else {
    return a * b;
  }
}

/// Python's (NumPy's) floor division and modulo; division by zero gives 0
/// for integers (NumPy's result, without its warning).
template <class T> T pyFloorDiv(T a, T b) {
  if constexpr (isIntV<T>) {
    if (b == 0)
      return 0;
    if constexpr (std::is_signed_v<T>) {
      if (b == -1)
        return wrap<T>(0 - static_cast<uint64_t>(a));
      int64_t q = static_cast<int64_t>(a) / b;
      if (static_cast<int64_t>(a) % b != 0 && ((a < 0) != (b < 0)))
        --q;
      return static_cast<T>(q);
    } else {
      return a / b;
    }
  } else {
    // CPython's float_floor_div (NumPy's npy_divmod).
    T mod = std::fmod(a, b);
    T div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0)))
      div -= 1;
    T fl;
    if (div != 0) {
      fl = std::floor(div);
      if (div - fl > T(0.5))
        fl += 1;
    } else {
      fl = std::copysign(T(0), a / b);
    }
    return fl;
  }
}
template <class T> T pyMod(T a, T b) {
  if constexpr (isIntV<T>) {
    if (b == 0)
      return 0;
    if constexpr (std::is_signed_v<T>) {
      if (b == -1)
        return 0;
      int64_t m = static_cast<int64_t>(a) % b;
      if (m != 0 && ((m < 0) != (b < 0)))
        m += b;
      return static_cast<T>(m);
    } else {
      return a % b;
    }
  } else {
    T m = std::fmod(a, b);
    if (m != 0 && ((m < 0) != (b < 0)))
      m += b;
    return m;
  }
}
/// Integer power by repeated multiplication, wrapping in T (e >= 0).
template <class T> T ipow(T base, T e) {
  T r = 1;
  for (int64_t i = 0; i < static_cast<int64_t>(e); ++i)
    r = mulW(r, base);
  return r;
}
template <class T> T shl(T a, T s) {
  return s >= static_cast<T>(sizeof(T) * 8) ? T(0) : wrap<T>(static_cast<uint64_t>(a) << s);
}
template <class T> T shr(T a, T s) {
  if (s >= static_cast<T>(sizeof(T) * 8))
    return a < 0 ? T(-1) : T(0);
  return static_cast<T>(a >> s);
}

/// The value `x` of type A converted to R as NumPy's casting does for the
/// values used here (integers wrap, floats truncate toward zero).
template <class R, class A> R cast(A x) {
  if constexpr (isComplexV<R>) {
    if constexpr (isComplexV<A>)
      return R(x);
    else
      return R(static_cast<typename R::value_type>(x), 0);
  } else if constexpr (isIntV<R> && isIntV<A>) {
    return wrap<R>(static_cast<uint64_t>(x));
  } else {
    return static_cast<R>(x);
  }
}

//===----------------------------------------------------------------------===//
// The kernels
//===----------------------------------------------------------------------===//

const char *const kElementwise = R"stn(
import math
import numpy as np
from numba import njit

@njit
def arith(a, b):
    return a + b, a - b, a * b

@njit
def divide(a, b):
    return a / b

@njit
def divmod_(a, b):
    return a // b, a % b

@njit
def power(a, b):
    return a ** b

@njit
def bits(a, b):
    return a & b, a | b, a ^ b

@njit
def shifts(a, b):
    return a << b, a >> b

@njit
def compare(a, b):
    return a == b, a != b, a < b, a <= b, a > b, a >= b

@njit
def equality(a, b):
    return a == b, a != b

@njit
def add(a, b):
    return a + b

@njit
def unary(a):
    return -a, +a

@njit
def invert(a):
    return ~a

@njit
def where(c, x, y):
    return np.where(c, x, y)

@njit
def where_less(a, b):
    return np.where(a < b, a, b)

@njit
def minmax(a, b):
    return np.minimum(a, b), np.maximum(a, b)

@njit
def lit_int(a):
    return a * 3, a + 200, 100 - a, a // 3, a % 3, a ** 2, a << 1, a & 15

@njit
def lit_float(a):
    return a + 1.5, a * 2.0, a / 2, 2.5 - a

@njit
def lit_complex(a):
    return a + 1j, a * 2j

@njit
def lit_bool(a):
    return a * True

@njit
def lit_compare(a):
    return a > 1.5, a == 3, 2 <= a

@njit
def bool_logic(a, b):
    return (a > 0) & (b > 0), (a > 0) | (b > 0), (a > 0) ^ (b > 0), ~(a > 0)
)stn";

const char *const kMath = R"stn(
import math
import numpy as np
from numba import njit

@njit
def unary_math(a):
    return (np.sqrt(a), np.exp(a), np.log(a), np.log2(a), np.log10(a), np.log1p(a),
            np.expm1(a), np.sin(a), np.cos(a), np.tan(a), np.sinh(a), np.cosh(a), np.tanh(a))

@njit
def more_math(a):
    return np.cbrt(a), np.exp2(a), np.deg2rad(a), np.rad2deg(a), np.radians(a), np.degrees(a)

@njit
def more_math_scalar(x):
    return math.cbrt(x), math.exp2(x), math.radians(x), math.degrees(x)

@njit
def inverse_trig(a):
    return np.arcsin(a), np.arccos(a), np.arctan(a), np.arcsinh(a), np.arctanh(a)

@njit
def rounding(a):
    return np.floor(a), np.ceil(a), np.trunc(a), np.abs(a)

@njit
def abs_(a):
    return np.abs(a)

@njit
def binary_math(a, b):
    return np.arctan2(a, b), np.hypot(a, b), np.copysign(a, b), np.power(a, b)

@njit
def classify(a):
    return np.isnan(a), np.isinf(a), np.isfinite(a)

@njit
def complex_math(a):
    return np.sqrt(a), np.exp(a), np.abs(a)

@njit
def math_module(a):
    return np.sqrt(a) + math.pi

@njit
def power_literal(a):
    return np.power(a, 2), a ** 3, a ** 0.5

@njit
def as_int32(a):
    return a.astype(np.int32)

@njit
def as_int8(a):
    return a.astype(np.int8)

@njit
def as_float32(a):
    return a.astype(np.float32)

@njit
def as_bool(a):
    return a.astype(np.bool_)

@njit
def as_complex(a):
    return a.astype(np.complex128)

@njit
def as_named(a):
    return a.astype("int16"), a.astype(float), a.astype(np.uint8)
)stn";

const char *const kReductions = R"stn(
import numpy as np
from numba import njit

@njit
def sums(a):
    return np.sum(a), a.sum(), np.prod(a), a.prod(), np.mean(a), a.mean()

@njit
def spread(a):
    return np.var(a), a.var(), np.std(a), a.std()

@njit
def extremes(a):
    return np.min(a), np.amin(a), a.min(), np.max(a), np.amax(a), a.max()

@njit
def arg_extremes(a):
    return np.argmin(a), a.argmin(), np.argmax(a), a.argmax()

@njit
def truth(a):
    return np.any(a), a.any(), np.all(a), a.all()

@njit
def dot(a, b):
    return np.dot(a, b)

@njit
def dot_method(a, b):
    return a.dot(b)

@njit
def of_expression(a, b):
    return np.sum(a * b + 1.0), np.max(np.abs(a - b)), np.mean(a > b), np.sum(a > 0)

@njit
def count_positive(a):
    return np.sum(a > 0), (a > 0).sum(), np.any(a > 3), np.all(a > -5)
)stn";

const char *const kCreation = R"stn(
import numpy as np
from numba import njit

@njit
def zeros_int(n):
    return np.zeros(n), np.ones(n), np.empty(n)

@njit
def zeros_tuple(n, m):
    return np.zeros((n, m)), np.ones((2, 3, 4)), np.empty((n,)), np.zeros((n,), dtype=np.int8)

@njit
def with_dtypes(n):
    return (np.zeros(n, dtype=np.float32), np.ones(n, dtype=np.int8), np.ones(n, dtype="int16"),
            np.zeros(n, dtype=float), np.ones(n, dtype=int), np.ones(n, dtype=np.uint8),
            np.ones(n, dtype=np.complex128), np.zeros(n, dtype=np.bool_),
            np.ones((2, n), dtype=np.float32))

@njit
def fulls(n):
    return (np.full(n, 7), np.full((2, n), 2.5), np.full(n, 2.5, dtype=np.float32),
            np.full((n,), -3, dtype=np.int8), np.full(n, True), np.full(n, 1 + 2j))

@njit
def likes(a):
    return (np.empty_like(a), np.zeros_like(a), np.ones_like(a), np.full_like(a, 3),
            np.zeros_like(a, dtype=np.int32), np.ones_like(a, dtype=np.float32),
            np.full_like(a, 2.75, dtype=np.float64), np.full_like(a, 2.75))

@njit
def shape_of(a):
    return np.zeros(a.shape), np.ones(a.shape[0]), np.full(a.shape, 5, dtype=np.int16)

@njit
def arange1(n):
    return np.arange(n)

@njit
def arange2(start, stop):
    return np.arange(start, stop)

@njit
def arange3(start, stop, step):
    return np.arange(start, stop, step)

@njit
def arange_dtype(n):
    return np.arange(n, dtype=np.float32), np.arange(1, n, 2, dtype=np.int8), np.arange(0.5, n)

@njit
def linspace3(a, b, n):
    return np.linspace(a, b, n)

@njit
def linspace2(a, b):
    return np.linspace(a, b)

@njit
def linspace_kw(a, b, n):
    return np.linspace(a, b, num=n)

@njit
def copy_is_independent(a):
    b = a.copy()
    b[0] = 99
    c = np.copy(a)
    c[1] = -1
    return a.sum(), b, c

@njit
def copy_of(a):
    return a.copy()
)stn";

//===----------------------------------------------------------------------===//
// The fixture
//===----------------------------------------------------------------------===//

class ArrayExprTest : public ::testing::Test {
protected:
  stn::Module load(const char *file) {
    return engine.loadFile(std::string(STN_EXAMPLES_DIR) + "/" + file);
  }
  stn::Module source(const std::string &text) { return engine.loadString(text, "arrays.stn"); }
  stn::Engine engine;
};

/// The broadcasting cases every operation group runs: (3, 4) with (4,) and
/// the reverse, (3, 1) with (1, 4), a scalar with (2, 3) and the reverse,
/// rank 3 with rank 1, rank 3 with rank 2, and equal shapes.
const std::vector<std::pair<Shape, Shape>> kShapes = {
    {{3, 4}, {4}}, {{4}, {3, 4}},      {{3, 1}, {1, 4}},      {{}, {2, 3}},
    {{2, 3}, {}},  {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{5}, {5}},
};

std::string caseName(const Shape &a, const Shape &b) {
  return (a.empty() ? std::string("scalar") : shapeText(a)) + " with " +
         (b.empty() ? std::string("scalar") : shapeText(b));
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise arithmetic: one dtype on both sides, every broadcasting case
//===----------------------------------------------------------------------===//

TEST_F(ArrayExprTest, ArithmeticSameDtypeBroadcasting) {
  // + - * keep the operands' dtype (NEP 50: no widening; int8 + int8 wraps
  // in int8), with a typed scalar of the same dtype too.
  stn::Module mod = source(kElementwise);
  Rng rng(1);
  forEachType<int8_t, int16_t, int32_t, int64_t, uint8_t, float, double, c128>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      Operand<T> a = randomOperand<T>(rng, sa), b = randomOperand<T>(rng, sb);
      stn::Value r = mod.kernel("arith")(a.arg(), b.arg());
      ASSERT_TRUE(r.isTuple()) << r.toJSON();
      Shape out = broadcastShape(sa, sb);
      expectArray<T>(r[0], out, refBinary<T>(a, b, addW<T>));
      expectArray<T>(r[1], out, refBinary<T>(a, b, subW<T>));
      expectArray<T>(r[2], out, refBinary<T>(a, b, mulW<T>));
    }
  });
}

TEST_F(ArrayExprTest, Int8ArithmeticWrapsAround) {
  stn::Module mod = source(kElementwise);
  Operand<int8_t> a = operandOf<int8_t>({6}, {100, -100, 127, -128, 64, 1});
  Operand<int8_t> b = operandOf<int8_t>({6}, {100, 100, 1, -1, 2, -1});
  stn::Value r = mod.kernel("arith")(a.arg(), b.arg());
  expectArray<int8_t>(r[0], {6}, {-56, 0, -128, 127, 66, 0});
  expectArray<int8_t>(r[1], {6}, {0, 56, 126, -127, 62, 2});
  expectArray<int8_t>(r[2], {6}, {16, -16, 127, -128, -128, -1});
  // Unary minus wraps too: -(-128) is -128; uint8: -1 is 255.
  expectArray<int8_t>(mod.kernel("unary")(a.arg())[0], {6}, {-100, 100, -127, -128, -64, -1});
  Operand<uint8_t> u = operandOf<uint8_t>({3}, {0, 1, 200});
  expectArray<uint8_t>(mod.kernel("unary")(u.arg())[0], {3}, {0, 255, 56});
  expectArray<uint8_t>(mod.kernel("unary")(u.arg())[1], {3}, {0, 1, 200});
}

TEST_F(ArrayExprTest, TrueDivision) {
  // `/` of integer arrays is float64; floats keep their dtype.
  stn::Module mod = source(kElementwise);
  Rng rng(2);
  auto nonzero = [](auto v) {
    for (auto &x : v.data)
      if (x == std::remove_reference_t<decltype(x)>(0))
        x = 1;
    return v;
  };
  forEachType<int8_t, int16_t, int32_t, int64_t, uint8_t>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      Operand<T> a = randomOperand<T>(rng, sa), b = nonzero(randomOperand<T>(rng, sb));
      expectArray<double>(mod.kernel("divide")(a.arg(), b.arg()), broadcastShape(sa, sb),
                          refBinary<double>(a, b, [](T x, T y) { return double(x) / double(y); }));
    }
  });
  forEachType<float, double>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      Operand<T> a = randomOperand<T>(rng, sa), b = nonzero(randomOperand<T>(rng, sb));
      expectArray<T>(mod.kernel("divide")(a.arg(), b.arg()), broadcastShape(sa, sb),
                     refBinary<T>(a, b, [](T x, T y) { return x / y; }));
    }
  });
  // complex128: MLIR's complex division (Smith's algorithm) and libstdc++'s
  // differ in the last bits; 1e-15 relative.
  for (auto &[sa, sb] : kShapes) {
    SCOPED_TRACE("complex128 " + caseName(sa, sb));
    Operand<c128> a = randomOperand<c128>(rng, sa), b = randomOperand<c128>(rng, sb);
    expectArray<c128>(mod.kernel("divide")(a.arg(), b.arg()), broadcastShape(sa, sb),
                      refBinary<c128>(a, b, [](c128 x, c128 y) { return x / y; }), 1e-15);
  }
}

TEST_F(ArrayExprTest, FloorDivisionAndModulo) {
  // Python's flooring // and %, in the operands' dtype; integer division by
  // zero gives 0.
  stn::Module mod = source(kElementwise);
  Rng rng(3);
  forEachType<int8_t, int16_t, int32_t, int64_t, uint8_t>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      Operand<T> a = randomOperand<T>(rng, sa);
      // Small divisors (both signs, and zero) so that results are not all 0.
      Operand<T> b{sb, {}};
      for (int64_t i = 0; i < product(sb); ++i)
        b.data.push_back(randomValue<T>(rng, -9, 9, 0, 0));
      stn::Value r = mod.kernel("divmod_")(a.arg(), b.arg());
      Shape out = broadcastShape(sa, sb);
      expectArray<T>(r[0], out, refBinary<T>(a, b, pyFloorDiv<T>));
      expectArray<T>(r[1], out, refBinary<T>(a, b, pyMod<T>));
    }
  });
  // Hand-checked: -7 // 2 == -4, -7 % 2 == 1, 7 // -2 == -4, 7 % -2 == -1,
  // x // 0 == 0, x % 0 == 0, -128 // -1 wraps to -128 in int8.
  Operand<int8_t> a = operandOf<int8_t>({6}, {-7, -7, 7, 7, 5, -128});
  Operand<int8_t> b = operandOf<int8_t>({6}, {2, 2, -2, -2, 0, -1});
  stn::Value r = mod.kernel("divmod_")(a.arg(), b.arg());
  expectArray<int8_t>(r[0], {6}, {-4, -4, -4, -4, 0, -128});
  expectArray<int8_t>(r[1], {6}, {1, 1, -1, -1, 0, 0});
  forEachType<float, double>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      Operand<T> a = randomOperand<T>(rng, sa), b = randomOperand<T>(rng, sb);
      stn::Value r = mod.kernel("divmod_")(a.arg(), b.arg());
      Shape out = broadcastShape(sa, sb);
      expectArray<T>(r[0], out, refBinary<T>(a, b, pyFloorDiv<T>));
      expectArray<T>(r[1], out, refBinary<T>(a, b, pyMod<T>));
    }
  });
  Operand<double> x = operandOf<double>({4}, {-7.5, 7.5, -7.5, 7.0});
  Operand<double> y = operandOf<double>({4}, {2.0, -2.0, -2.0, 3.5});
  r = mod.kernel("divmod_")(x.arg(), y.arg());
  expectArray<double>(r[0], {4}, {-4.0, -4.0, 3.0, 2.0});
  expectArray<double>(r[1], {4}, {0.5, -0.5, -1.5, 0.0});
}

TEST_F(ArrayExprTest, FloatFloorDivisionMatchesPython) {
  // Python and NumPy: 1.0 // 0.1 == 9.0 (floor of the exact quotient, with
  // a // b consistent with a % b == 0.0999...); stn computes floor(1.0 / 0.1)
  // == floor(10.0) == 10.0, for scalars and arrays.
  stn::Module mod = source(kElementwise);
  Operand<double> a = operandOf<double>({2}, {1.0, -1.0});
  Operand<double> b = operandOf<double>({}, {0.1});
  stn::Value r = mod.kernel("divmod_")(a.arg(), b.arg());
  expectArray<double>(r[0], {2}, {9.0, -10.0});
}

TEST_F(ArrayExprTest, IntegerAndFloatPower) {
  stn::Module mod = source(kElementwise);
  Rng rng(4);
  forEachType<int8_t, int16_t, int32_t, int64_t, uint8_t>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      // Small bases, exponents 0..9: int8 and uint8 powers wrap.
      Operand<T> a{sa, {}}, b{sb, {}};
      for (int64_t i = 0; i < product(sa); ++i)
        a.data.push_back(randomValue<T>(rng, -7, 7, 0, 0));
      for (int64_t i = 0; i < product(sb); ++i)
        b.data.push_back(randomValue<T>(rng, 0, 9, 0, 0));
      expectArray<T>(mod.kernel("power")(a.arg(), b.arg()), broadcastShape(sa, sb),
                     refBinary<T>(a, b, ipow<T>));
    }
  });
  forEachType<float, double>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      Operand<T> a{sa, {}}, b = randomOperand<T>(rng, sb);
      for (int64_t i = 0; i < product(sa); ++i)
        a.data.push_back(randomValue<T>(rng, 0, 0, 0.25, 3.0));
      expectArray<T>(mod.kernel("power")(a.arg(), b.arg()), broadcastShape(sa, sb),
                     refBinary<T>(a, b, [](T x, T y) { return std::pow(x, y); }));
    }
  });
  // int8 ** literal 2, a ** 3 and a ** 0.5 (float64).
  stn::Module math = source(kMath);
  Operand<int8_t> a = operandOf<int8_t>({5}, {-3, 2, 12, 16, 0});
  stn::Value r = math.kernel("power_literal")(a.arg());
  expectArray<int8_t>(r[0], {5}, {9, 4, -112, 0, 0});
  expectArray<int8_t>(r[1], {5}, {-27, 8, -64, 0, 0});
  expectArray<double>(r[2], {5},
                      {std::nan(""), std::sqrt(2.0), std::sqrt(12.0), 4.0, 0.0});
}

TEST_F(ArrayExprTest, BitwiseAndShifts) {
  stn::Module mod = source(kElementwise);
  Rng rng(5);
  forEachType<int8_t, int16_t, int32_t, int64_t, uint8_t>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      Operand<T> a = randomOperand<T>(rng, sa), b = randomOperand<T>(rng, sb);
      stn::Value r = mod.kernel("bits")(a.arg(), b.arg());
      Shape out = broadcastShape(sa, sb);
      expectArray<T>(r[0], out, refBinary<T>(a, b, [](T x, T y) { return T(x & y); }));
      expectArray<T>(r[1], out, refBinary<T>(a, b, [](T x, T y) { return T(x | y); }));
      expectArray<T>(r[2], out, refBinary<T>(a, b, [](T x, T y) { return T(x ^ y); }));
      Operand<T> s{sb, {}};
      for (int64_t i = 0; i < product(sb); ++i)
        s.data.push_back(randomValue<T>(rng, 0, int64_t(sizeof(T) * 8) - 1, 0, 0));
      r = mod.kernel("shifts")(a.arg(), s.arg());
      expectArray<T>(r[0], out, refBinary<T>(a, s, shl<T>));
      expectArray<T>(r[1], out, refBinary<T>(a, s, shr<T>));
      if (!sa.empty())
        expectArray<T>(mod.kernel("invert")(a.arg()), sa,
                       refUnary<T>(a, [](T x) { return T(~x); }));
    }
  });
  // Hand-checked int8: 1 << 7 == -128, -128 >> 7 == -1, 64 << 2 == 0.
  Operand<int8_t> a = operandOf<int8_t>({3}, {1, -128, 64});
  Operand<int8_t> s = operandOf<int8_t>({3}, {7, 7, 2});
  stn::Value r = mod.kernel("shifts")(a.arg(), s.arg());
  expectArray<int8_t>(r[0], {3}, {-128, 0, 0});
  expectArray<int8_t>(r[1], {3}, {0, -1, 16});
}

//===----------------------------------------------------------------------===//
// NEP 50 promotion
//===----------------------------------------------------------------------===//

TEST_F(ArrayExprTest, Nep50ArrayArrayPromotion) {
  // NumPy's promotion table, without value-based widening: the result of
  // an array-array operation depends on the dtypes only.
  stn::Module mod = source(kElementwise);
  struct Case {
    stn::DType a, b;
    const char *add, *div;
  };
  using D = stn::DType;
  const Case cases[] = {
      {D::Int8, D::Int8, "int8", "float64"},         {D::Int8, D::UInt8, "int16", "float64"},
      {D::UInt8, D::Int8, "int16", "float64"},       {D::Int16, D::UInt8, "int16", "float64"},
      {D::Int8, D::Int32, "int32", "float64"},       {D::UInt8, D::Int64, "int64", "float64"},
      {D::Int32, D::UInt32, "int64", "float64"},     {D::Int64, D::UInt64, "float64", "float64"},
      {D::UInt8, D::UInt16, "uint16", "float64"},    {D::Int16, D::Float32, "float32", "float32"},
      {D::Int8, D::Float32, "float32", "float32"},   {D::Int32, D::Float32, "float64", "float64"},
      {D::Int64, D::Float64, "float64", "float64"},  {D::Float32, D::Float64, "float64", "float64"},
      {D::Float32, D::Float32, "float32", "float32"}, {D::Float32, D::Complex64, "complex64", "complex64"},
      {D::Float64, D::Complex64, "complex128", "complex128"},
      {D::Int8, D::Complex128, "complex128", "complex128"},
      {D::Bool, D::Int8, "int8", "float64"},         {D::Bool, D::Float32, "float32", "float32"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(std::string(stn::dtypeName(c.a)) + " with " + std::string(stn::dtypeName(c.b)));
    stn::Array a(c.a, {2, 3}), b(c.b, {3});
    EXPECT_EQ(dtypeOfResult(mod.kernel("add")(a, b)), c.add);
    EXPECT_EQ(dtypeOfResult(mod.kernel("add")(b, a)), c.add);
    EXPECT_EQ(dtypeOfResult(mod.kernel("divide")(a, b)), c.div);
  }
}

TEST_F(ArrayExprTest, Nep50PythonLiteralsAreWeak) {
  // A Python literal keeps the array's dtype unless it is of a higher kind
  // (int < float < complex): int8 * 3 stays int8 and wraps, uint8 + 200
  // wraps in uint8, int + 1.5 is float64, float32 * 2.0 stays float32.
  stn::Module mod = source(kElementwise);
  Operand<int8_t> i8 = operandOf<int8_t>({5}, {100, -100, 50, 1, -7});
  stn::Value r = mod.kernel("lit_int")(i8.arg());
  auto each = [](const Operand<int8_t> &a, auto f) { return refUnary<int8_t>(a, f); };
  expectArray<int8_t>(r[0], {5}, each(i8, [](int8_t x) { return wrap<int8_t>(uint64_t(x) * 3); }));
  expectArray<int8_t>(r[1], {5}, each(i8, [](int8_t x) { return wrap<int8_t>(uint64_t(x) + 200); }));
  expectArray<int8_t>(r[2], {5}, each(i8, [](int8_t x) { return wrap<int8_t>(100 - uint64_t(x)); }));
  expectArray<int8_t>(r[3], {5}, each(i8, [](int8_t x) { return pyFloorDiv<int8_t>(x, 3); }));
  expectArray<int8_t>(r[4], {5}, each(i8, [](int8_t x) { return pyMod<int8_t>(x, 3); }));
  expectArray<int8_t>(r[5], {5}, each(i8, [](int8_t x) { return mulW<int8_t>(x, x); }));
  expectArray<int8_t>(r[6], {5}, each(i8, [](int8_t x) { return shl<int8_t>(x, 1); }));
  expectArray<int8_t>(r[7], {5}, each(i8, [](int8_t x) { return int8_t(x & 15); }));
  // Hand-checked: 100 * 3 = 300 = 44 (mod 256), -100 * 3 = -300 = -44.
  expectArray<int8_t>(r[0], {5}, {44, -44, -106, 3, -21});

  Operand<uint8_t> u8 = operandOf<uint8_t>({3}, {0, 56, 255});
  r = mod.kernel("lit_int")(u8.arg());
  expectArray<uint8_t>(r[1], {3}, {200, 0, 199});
  expectArray<uint8_t>(r[2], {3}, {100, 44, 101});

  struct DtypeCase {
    stn::DType in;
    std::vector<const char *> litInt, litFloat, litComplex;
  };
  using D = stn::DType;
  const DtypeCase cases[] = {
      {D::Int8, {"int8", "int8", "int8", "int8", "int8", "int8", "int8", "int8"},
       {"float64", "float64", "float64", "float64"}, {"complex128", "complex128"}},
      {D::UInt8, {"uint8", "uint8", "uint8", "uint8", "uint8", "uint8", "uint8", "uint8"},
       {"float64", "float64", "float64", "float64"}, {"complex128", "complex128"}},
      {D::Int16, {"int16", "int16", "int16", "int16", "int16", "int16", "int16", "int16"},
       {"float64", "float64", "float64", "float64"}, {"complex128", "complex128"}},
      {D::Int32, {"int32", "int32", "int32", "int32", "int32", "int32", "int32", "int32"},
       {"float64", "float64", "float64", "float64"}, {"complex128", "complex128"}},
      {D::Float32, {}, {"float32", "float32", "float32", "float32"},
       {"complex64", "complex64"}},
      {D::Float64, {}, {"float64", "float64", "float64", "float64"},
       {"complex128", "complex128"}},
      {D::Complex64, {}, {"complex64", "complex64", "complex64", "complex64"},
       {"complex64", "complex64"}},
  };
  for (const DtypeCase &c : cases) {
    SCOPED_TRACE(std::string(stn::dtypeName(c.in)));
    stn::Array a(c.in, {4});
    auto check = [&](const char *kernel, const std::vector<const char *> &want) {
      if (want.empty())
        return;
      stn::Value v = mod.kernel(kernel)(a);
      ASSERT_TRUE(v.isTuple());
      ASSERT_EQ(v.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i)
        EXPECT_EQ(dtypeOfResult(v[i]), want[i]) << kernel << " element " << i;
    };
    check("lit_int", c.litInt);
    check("lit_float", c.litFloat);
    check("lit_complex", c.litComplex);
    EXPECT_EQ(dtypeOfResult(mod.kernel("lit_bool")(a)), stn::dtypeName(c.in));
  }

  // Values: float32 * 2.0 computed in float32, int16 + 1.5 in float64.
  Operand<float> f32 = operandOf<float>({3}, {0.1f, -2.5f, 3.0e38f});
  r = mod.kernel("lit_float")(f32.arg());
  expectArray<float>(r[0], {3}, {0.1f + 1.5f, -2.5f + 1.5f, 3.0e38f + 1.5f});
  expectArray<float>(r[1], {3}, {0.2f, -5.0f, std::numeric_limits<float>::infinity()});
  expectArray<float>(r[2], {3}, {0.1f / 2.0f, -1.25f, 1.5e38f});
  expectArray<float>(r[3], {3}, {2.5f - 0.1f, 5.0f, 2.5f - 3.0e38f});
  Operand<int16_t> i16 = operandOf<int16_t>({2}, {3, -32768});
  r = mod.kernel("lit_float")(i16.arg());
  expectArray<double>(r[0], {2}, {4.5, -32766.5});
  expectArray<double>(r[2], {2}, {1.5, -16384.0});
  Operand<float> f = operandOf<float>({2}, {1.5f, -2.0f});
  r = mod.kernel("lit_complex")(f.arg());
  expectArray<std::complex<float>>(r[0], {2}, {{1.5f, 1.0f}, {-2.0f, 1.0f}});
  expectArray<std::complex<float>>(r[1], {2}, {{0.0f, 3.0f}, {-0.0f, -4.0f}});
}

TEST_F(ArrayExprTest, Nep50TypedScalarsPromote) {
  // A typed scalar (a kernel argument, a variable) promotes like an array of
  // its dtype: int8 array + int64 scalar is int64, float32 array * float64
  // scalar is float64, uint8 array + int8 scalar is int16.
  stn::Module mod = source(kElementwise);
  Operand<int8_t> a = operandOf<int8_t>({3}, {100, -100, 7});
  expectArray<int64_t>(mod.kernel("add")(a.arg(), int64_t{100}), {3}, {200, 0, 107});
  expectArray<int8_t>(mod.kernel("add")(a.arg(), int8_t{100}), {3}, {-56, 0, 107});
  expectArray<int16_t>(mod.kernel("add")(a.arg(), int16_t{100}), {3}, {200, 0, 107});
  Operand<uint8_t> u = operandOf<uint8_t>({2}, {250, 3});
  expectArray<int16_t>(mod.kernel("add")(u.arg(), int8_t{-5}), {2}, {245, -2});
  expectArray<uint8_t>(mod.kernel("add")(u.arg(), uint8_t{10}), {2}, {4, 13});
  Operand<float> f = operandOf<float>({2}, {0.1f, 1e30f});
  expectArray<double>(mod.kernel("add")(f.arg(), 0.2), {2},
                      {double(0.1f) + 0.2, double(1e30f) + 0.2});
  expectArray<float>(mod.kernel("add")(f.arg(), 0.2f), {2}, {0.1f + 0.2f, 1e30f + 0.2f});
  expectArray<double>(mod.kernel("add")(f.arg(), int64_t{1}), {2},
                      {double(0.1f) + 1.0, double(1e30f) + 1.0});
  expectArray<float>(mod.kernel("add")(f.arg(), int16_t{1}), {2}, {0.1f + 1.0f, 1e30f + 1.0f});
  Operand<int32_t> i = operandOf<int32_t>({2}, {7, -7});
  expectArray<double>(mod.kernel("divide")(i.arg(), int32_t{2}), {2}, {3.5, -3.5});
  expectArray<c128>(mod.kernel("add")(i.arg(), c128(0.5, 1.0)), {2}, {{7.5, 1.0}, {-6.5, 1.0}});
}

TEST_F(ArrayExprTest, MixedDtypeValues) {
  // Mixed dtypes are converted to the promoted dtype first, then computed
  // there: int8 + uint8 in int16 (no wrap), int32 * float32 in float64.
  stn::Module mod = source(kElementwise);
  Rng rng(6);
  auto check = [&]<class A, class B, class R>(const Shape &sa, const Shape &sb) {
    SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<A>::value)) + " with " +
                 std::string(stn::dtypeName(stn::DTypeOf<B>::value)) + " " + caseName(sa, sb));
    Operand<A> a = randomOperand<A>(rng, sa);
    Operand<B> b = randomOperand<B>(rng, sb);
    stn::Value r = mod.kernel("arith")(a.arg(), b.arg());
    Shape out = broadcastShape(sa, sb);
    expectArray<R>(r[0], out,
                   refBinary<R>(a, b, [](A x, B y) { return addW<R>(cast<R>(x), cast<R>(y)); }));
    expectArray<R>(r[1], out,
                   refBinary<R>(a, b, [](A x, B y) { return subW<R>(cast<R>(x), cast<R>(y)); }));
    expectArray<R>(r[2], out,
                   refBinary<R>(a, b, [](A x, B y) { return mulW<R>(cast<R>(x), cast<R>(y)); }));
  };
  for (auto &[sa, sb] : {std::pair<Shape, Shape>{{3, 4}, {4}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {4}}}) {
    check.template operator()<int8_t, uint8_t, int16_t>(sa, sb);
    check.template operator()<uint8_t, int8_t, int16_t>(sa, sb);
    check.template operator()<int8_t, int32_t, int32_t>(sa, sb);
    check.template operator()<int16_t, int64_t, int64_t>(sa, sb);
    check.template operator()<uint8_t, int64_t, int64_t>(sa, sb);
    check.template operator()<int16_t, float, float>(sa, sb);
    check.template operator()<int32_t, float, double>(sa, sb);
    check.template operator()<float, double, double>(sa, sb);
    check.template operator()<int64_t, double, double>(sa, sb);
    check.template operator()<double, c128, c128>(sa, sb);
    check.template operator()<int8_t, c128, c128>(sa, sb);
  }
}

//===----------------------------------------------------------------------===//
// Comparisons, where, minimum/maximum, bool logic
//===----------------------------------------------------------------------===//

TEST_F(ArrayExprTest, ComparisonsGiveBoolArrays) {
  stn::Module mod = source(kElementwise);
  Rng rng(7);
  forEachType<int8_t, int16_t, int32_t, int64_t, uint8_t, float, double>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      // Few distinct values, so that equal elements occur.
      Operand<T> a{sa, {}}, b{sb, {}};
      for (int64_t i = 0; i < product(sa); ++i)
        a.data.push_back(static_cast<T>(randomValue<int8_t>(rng, 0, 3, 0, 0)));
      for (int64_t i = 0; i < product(sb); ++i)
        b.data.push_back(static_cast<T>(randomValue<int8_t>(rng, 0, 3, 0, 0)));
      stn::Value r = mod.kernel("compare")(a.arg(), b.arg());
      Shape out = broadcastShape(sa, sb);
      expectArray<bool>(r[0], out, refBinary<bool>(a, b, [](T x, T y) { return x == y; }));
      expectArray<bool>(r[1], out, refBinary<bool>(a, b, [](T x, T y) { return x != y; }));
      expectArray<bool>(r[2], out, refBinary<bool>(a, b, [](T x, T y) { return x < y; }));
      expectArray<bool>(r[3], out, refBinary<bool>(a, b, [](T x, T y) { return x <= y; }));
      expectArray<bool>(r[4], out, refBinary<bool>(a, b, [](T x, T y) { return x > y; }));
      expectArray<bool>(r[5], out, refBinary<bool>(a, b, [](T x, T y) { return x >= y; }));
    }
  });
  // Mixed dtypes compare by value: int8 -1 < uint8 255, float32 0.1f vs
  // float64 0.1 (0.1f is larger), NaN is unequal to everything.
  Operand<int8_t> i8 = operandOf<int8_t>({2}, {-1, 5});
  Operand<uint8_t> u8 = operandOf<uint8_t>({2}, {255, 5});
  stn::Value r = mod.kernel("compare")(i8.arg(), u8.arg());
  expectArray<bool>(r[0], {2}, {false, true});
  expectArray<bool>(r[2], {2}, {true, false});
  Operand<float> f = operandOf<float>({3}, {0.1f, std::nanf(""), 1.0f});
  Operand<double> d = operandOf<double>({3}, {0.1, std::nan(""), 1.0});
  r = mod.kernel("compare")(f.arg(), d.arg());
  expectArray<bool>(r[0], {3}, {false, false, true});
  expectArray<bool>(r[1], {3}, {true, true, false});
  expectArray<bool>(r[2], {3}, {false, false, false});
  expectArray<bool>(r[4], {3}, {true, false, false});
  expectArray<bool>(r[5], {3}, {true, false, true});
  // complex128: == and != only.
  Operand<c128> c = operandOf<c128>({3}, {{1, 2}, {1, -2}, {0, 0}});
  Operand<c128> cs = operandOf<c128>({}, {{1, 2}});
  r = mod.kernel("equality")(c.arg(), cs.arg());
  expectArray<bool>(r[0], {3}, {true, false, false});
  expectArray<bool>(r[1], {3}, {false, true, true});
  // Literals: int8 array > 1.5, == 3, 2 <= a.
  Operand<int8_t> l = operandOf<int8_t>({4}, {1, 2, 3, -128});
  r = mod.kernel("lit_compare")(l.arg());
  expectArray<bool>(r[0], {4}, {false, true, true, false});
  expectArray<bool>(r[1], {4}, {false, false, true, false});
  expectArray<bool>(r[2], {4}, {false, true, true, false});
}

TEST_F(ArrayExprTest, BoolArrayLogic) {
  stn::Module mod = source(kElementwise);
  Rng rng(8);
  for (auto &[sa, sb] : kShapes) {
    SCOPED_TRACE(caseName(sa, sb));
    Operand<double> a = randomOperand<double>(rng, sa), b = randomOperand<double>(rng, sb);
    stn::Value r = mod.kernel("bool_logic")(a.arg(), b.arg());
    Shape out = broadcastShape(sa, sb);
    expectArray<bool>(r[0], out, refBinary<bool>(a, b, [](double x, double y) { return x > 0 && y > 0; }));
    expectArray<bool>(r[1], out, refBinary<bool>(a, b, [](double x, double y) { return x > 0 || y > 0; }));
    expectArray<bool>(r[2], out, refBinary<bool>(a, b, [](double x, double y) { return (x > 0) != (y > 0); }));
    if (!sa.empty())
      expectArray<bool>(r[3], sa, refUnary<bool>(a, [](double x) { return !(x > 0); }));
  }
}

TEST_F(ArrayExprTest, Where) {
  stn::Module mod = source(kElementwise);
  Rng rng(9);
  // Condition, x and y all broadcast: (3, 1) condition, (4,) x, scalar y.
  forEachType<int8_t, int32_t, int64_t, uint8_t, float, double, c128>([&]<class T>() {
    SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)));
    std::vector<uint8_t> cond = {1, 0, 1};
    stn::ArrayView vc(cond.data(), stn::DType::Bool, {3, 1}, {1, 1});
    Operand<T> x = randomOperand<T>(rng, {4}), y = randomOperand<T>(rng, {});
    std::vector<T> want;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j)
        want.push_back(cond[size_t(i)] ? x.data[size_t(j)] : y.data[0]);
    expectArray<T>(mod.kernel("where")(vc, x.arg(), y.arg()), {3, 4}, want);
    // np.where(a < b, a, b) is the elementwise minimum, rank 3 with rank 1.
    if constexpr (!isComplexV<T>) {
      Operand<T> a = randomOperand<T>(rng, {2, 3, 4}), b = randomOperand<T>(rng, {4});
      expectArray<T>(mod.kernel("where_less")(a.arg(), b.arg()), {2, 3, 4},
                     refBinary<T>(a, b, [](T p, T q) { return p < q ? p : q; }));
    }
  });
  // Mixed: the result has the promoted dtype of x and y (int8 and float32:
  // float32; int16 array and float64 scalar: float64).
  std::vector<uint8_t> cond = {0, 1};
  stn::ArrayView vc(cond.data(), stn::DType::Bool, {2}, {1});
  Operand<int8_t> x = operandOf<int8_t>({2}, {-3, 4});
  Operand<float> y = operandOf<float>({2}, {0.5f, 1.5f});
  expectArray<float>(mod.kernel("where")(vc, x.arg(), y.arg()), {2}, {0.5f, 4.0f});
  Operand<int16_t> z = operandOf<int16_t>({2}, {7, 8});
  expectArray<double>(mod.kernel("where")(vc, 2.5, z.arg()), {2}, {7.0, 2.5});
  // A non-bool condition is its truth value.
  Operand<int32_t> ic = operandOf<int32_t>({3}, {0, -2, 5});
  expectArray<int8_t>(mod.kernel("where")(ic.arg(), int8_t{1}, int8_t{0}), {3}, {0, 1, 1});
}

TEST_F(ArrayExprTest, MinimumMaximumPropagateNaN) {
  stn::Module mod = source(kElementwise);
  Rng rng(10);
  forEachType<int8_t, int16_t, int32_t, int64_t, uint8_t, float, double>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      Operand<T> a = randomOperand<T>(rng, sa), b = randomOperand<T>(rng, sb);
      stn::Value r = mod.kernel("minmax")(a.arg(), b.arg());
      Shape out = broadcastShape(sa, sb);
      expectArray<T>(r[0], out, refBinary<T>(a, b, [](T x, T y) { return std::min(x, y); }));
      expectArray<T>(r[1], out, refBinary<T>(a, b, [](T x, T y) { return std::max(x, y); }));
    }
  });
  const double nan = std::nan("");
  Operand<double> a = operandOf<double>({4}, {nan, 1.0, nan, -2.0});
  Operand<double> b = operandOf<double>({4}, {1.0, nan, nan, 3.0});
  stn::Value r = mod.kernel("minmax")(a.arg(), b.arg());
  expectArray<double>(r[0], {4}, {nan, nan, nan, -2.0});
  expectArray<double>(r[1], {4}, {nan, nan, nan, 3.0});
  // Mixed dtypes promote: int8 with float32 is float32.
  Operand<int8_t> i = operandOf<int8_t>({2}, {-3, 4});
  Operand<float> f = operandOf<float>({2}, {0.5f, std::nanf("")});
  r = mod.kernel("minmax")(i.arg(), f.arg());
  expectArray<float>(r[0], {2}, {-3.0f, std::nanf("")});
  expectArray<float>(r[1], {2}, {0.5f, std::nanf("")});
}

//===----------------------------------------------------------------------===//
// Math functions
//===----------------------------------------------------------------------===//

TEST_F(ArrayExprTest, UnaryMathFunctions) {
  // libm in the kernel and here: exact. Integers compute in float64,
  // float32 stays float32.
  stn::Module mod = source(kMath);
  Rng rng(11);
  auto run = [&]<class T, class R>(const Shape &shape, double lo, double hi) {
    SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + shapeText(shape));
    Operand<T> a{shape, {}};
    for (int64_t i = 0; i < product(shape); ++i)
      a.data.push_back(randomValue<T>(rng, int64_t(lo), int64_t(hi), lo, hi));
    stn::Value r = mod.kernel("unary_math")(a.arg());
    ASSERT_EQ(r.size(), 13u);
    using F = R (*)(R);
    const F fs[] = {[](R x) { return std::sqrt(x); },  [](R x) { return std::exp(x); },
                    [](R x) { return std::log(x); },   [](R x) { return std::log2(x); },
                    [](R x) { return std::log10(x); }, [](R x) { return std::log1p(x); },
                    [](R x) { return std::expm1(x); }, [](R x) { return std::sin(x); },
                    [](R x) { return std::cos(x); },   [](R x) { return std::tan(x); },
                    [](R x) { return std::sinh(x); },  [](R x) { return std::cosh(x); },
                    [](R x) { return std::tanh(x); }};
    for (size_t k = 0; k < 13; ++k) {
      SCOPED_TRACE("function " + std::to_string(k));
      // log1p and expm1 are not libm calls in stn: MLIR expands them
      // (log(1 + x) with a correction, exp(x) - 1): a few ulps here, where
      // x is not small (see Log1pExpm1OfSmallArguments).
      double tol = k == 5 || k == 6 ? 4 * double(std::numeric_limits<R>::epsilon()) : 0.0;
      expectArray<R>(r[k], shape, refUnary<R>(a, [&](T x) { return fs[k](static_cast<R>(x)); }),
                     tol);
    }
    // Inverse trigonometric functions on [-0.9, 0.9].
    Operand<T> b{shape, {}};
    for (int64_t i = 0; i < product(shape); ++i)
      b.data.push_back(std::is_integral_v<T> ? T(randomValue<int8_t>(rng, 0, 0, 0, 0))
                                             : randomValue<T>(rng, 0, 0, -0.9, 0.9));
    r = mod.kernel("inverse_trig")(b.arg());
    expectArray<R>(r[0], shape, refUnary<R>(b, [](T x) { return std::asin(R(x)); }));
    expectArray<R>(r[1], shape, refUnary<R>(b, [](T x) { return std::acos(R(x)); }));
    expectArray<R>(r[2], shape, refUnary<R>(b, [](T x) { return std::atan(R(x)); }));
    expectArray<R>(r[3], shape, refUnary<R>(b, [](T x) { return std::asinh(R(x)); }));
    expectArray<R>(r[4], shape, refUnary<R>(b, [](T x) { return std::atanh(R(x)); }));
  };
  for (const Shape &s : {Shape{7}, Shape{3, 4}, Shape{2, 3, 2}}) {
    run.template operator()<float, float>(s, 0.05, 4.0);
    run.template operator()<double, double>(s, 0.05, 4.0);
    run.template operator()<int8_t, double>(s, 1, 100);
    run.template operator()<int32_t, double>(s, 1, 100000);
    run.template operator()<uint8_t, double>(s, 1, 255);
  }
}

TEST_F(ArrayExprTest, CbrtExp2AndAngles) {
  // cbrt is libm's; exp2 LLVM's intrinsic (libm's exp2); the angle
  // conversions multiply by pi / 180 or 180 / pi, as NumPy and Python do.
  stn::Module mod = source(kMath);
  auto run = [&]<class T, class R>(std::vector<T> values) {
    SCOPED_TRACE(stn::dtypeName(stn::DTypeOf<T>::value));
    auto n = static_cast<int64_t>(values.size());
    Operand<T> a = operandOf<T>({n}, values);
    stn::Value r = mod.kernel("more_math")(a.arg());
    ASSERT_EQ(r.size(), 6u);
    const R toRad = static_cast<R>(M_PI / 180.0), toDeg = static_cast<R>(180.0 / M_PI);
    expectArray<R>(r[0], {n}, refUnary<R>(a, [](T x) { return std::cbrt(R(x)); }));
    expectArray<R>(r[1], {n}, refUnary<R>(a, [](T x) { return std::exp2(R(x)); }));
    for (int k : {2, 4})
      expectArray<R>(r[k], {n}, refUnary<R>(a, [&](T x) { return R(x) * toRad; }));
    for (int k : {3, 5})
      expectArray<R>(r[k], {n}, refUnary<R>(a, [&](T x) { return R(x) * toDeg; }));
  };
  run.template operator()<double, double>({-27.0, 8.0, 0.5, -0.0, 1e-300, 100.25});
  run.template operator()<float, float>({-27.0f, 8.0f, 0.5f, 3.25f});
  run.template operator()<int32_t, double>({-27, 8, 1000, 0});
  stn::Value s = mod.kernel("more_math_scalar")(2.5);
  volatile double x = 2.5; // libm's results, not GCC's correctly rounded constants
  EXPECT_EQ(s[0].asDouble(), std::cbrt(x));
  EXPECT_EQ(s[1].asDouble(), std::exp2(x));
  EXPECT_EQ(s[2].asDouble(), 2.5 * (M_PI / 180.0));
  EXPECT_EQ(s[3].asDouble(), 2.5 * (180.0 / M_PI));
}

TEST_F(ArrayExprTest, Log1pExpm1OfSmallArguments) {
  // log1p and expm1 exist for arguments near 0, where log(1 + x) and
  // exp(x) - 1 lose every digit: log1p(1e-20) is 1e-20, not 0.
  stn::Module mod = source(kMath);
  Operand<double> a = operandOf<double>({3}, {1e-10, 1e-20, -1e-12});
  stn::Value r = mod.kernel("unary_math")(a.arg());
  expectArray<double>(r[5], {3}, refUnary<double>(a, [](double x) { return std::log1p(x); }),
                      4e-16);
  expectArray<double>(r[6], {3}, refUnary<double>(a, [](double x) { return std::expm1(x); }),
                      4e-16);
}

TEST_F(ArrayExprTest, RoundingAndAbs) {
  stn::Module mod = source(kMath);
  Rng rng(12);
  forEachType<float, double>([&]<class T>() {
    Operand<T> a = randomOperand<T>(rng, {3, 5});
    a.data[0] = T(-2.5);
    a.data[1] = T(2.5);
    a.data[2] = T(-0.0);
    stn::Value r = mod.kernel("rounding")(a.arg());
    expectArray<T>(r[0], {3, 5}, refUnary<T>(a, [](T x) { return std::floor(x); }));
    expectArray<T>(r[1], {3, 5}, refUnary<T>(a, [](T x) { return std::ceil(x); }));
    expectArray<T>(r[2], {3, 5}, refUnary<T>(a, [](T x) { return std::trunc(x); }));
    expectArray<T>(r[3], {3, 5}, refUnary<T>(a, [](T x) { return std::fabs(x); }));
  });
  // np.abs keeps integer dtypes (and wraps: abs(-128) is -128 in int8);
  // floor/ceil/trunc of integers are float64.
  Operand<int8_t> i8 = operandOf<int8_t>({4}, {-128, -5, 0, 7});
  expectArray<int8_t>(mod.kernel("abs_")(i8.arg()), {4}, {-128, 5, 0, 7});
  stn::Value r = mod.kernel("rounding")(i8.arg());
  expectArray<double>(r[0], {4}, {-128.0, -5.0, 0.0, 7.0});
  expectArray<int8_t>(r[3], {4}, {-128, 5, 0, 7});
  Operand<int64_t> i64 = operandOf<int64_t>({2}, {-4000000000LL, 3});
  expectArray<int64_t>(mod.kernel("abs_")(i64.arg()), {2}, {4000000000LL, 3});
  // abs of complex is its modulus, a float of the same precision.
  Operand<c128> c = operandOf<c128>({2}, {{3, 4}, {-5, 12}});
  expectArray<double>(mod.kernel("abs_")(c.arg()), {2}, {5.0, 13.0});
}

TEST_F(ArrayExprTest, BinaryMathFunctionsBroadcast) {
  stn::Module mod = source(kMath);
  Rng rng(13);
  forEachType<float, double>([&]<class T>() {
    for (auto &[sa, sb] : kShapes) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + caseName(sa, sb));
      Operand<T> a{sa, {}}, b = randomOperand<T>(rng, sb);
      for (int64_t i = 0; i < product(sa); ++i)
        a.data.push_back(randomValue<T>(rng, 0, 0, 0.25, 3.0));
      stn::Value r = mod.kernel("binary_math")(a.arg(), b.arg());
      Shape out = broadcastShape(sa, sb);
      expectArray<T>(r[0], out, refBinary<T>(a, b, [](T x, T y) { return std::atan2(x, y); }));
      expectArray<T>(r[1], out, refBinary<T>(a, b, [](T x, T y) { return std::hypot(x, y); }));
      expectArray<T>(r[2], out, refBinary<T>(a, b, [](T x, T y) { return std::copysign(x, y); }));
      expectArray<T>(r[3], out, refBinary<T>(a, b, [](T x, T y) { return std::pow(x, y); }));
    }
  });
  // Integers compute in float64, except np.power, which stays integer.
  Operand<int16_t> a = operandOf<int16_t>({3}, {3, -4, 2});
  Operand<int16_t> b = operandOf<int16_t>({}, {4});
  stn::Value r = mod.kernel("binary_math")(a.arg(), b.arg());
  expectArray<double>(r[0], {3}, {std::atan2(3.0, 4.0), std::atan2(-4.0, 4.0), std::atan2(2.0, 4.0)});
  expectArray<double>(r[1], {3}, {5.0, std::hypot(-4.0, 4.0), std::hypot(2.0, 4.0)});
  expectArray<double>(r[2], {3}, {3.0, 4.0, 2.0});
  expectArray<int16_t>(r[3], {3}, {81, 256, 16});
}

TEST_F(ArrayExprTest, ClassificationAndMathOnScalars) {
  stn::Module mod = source(kMath);
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  Operand<double> a = operandOf<double>({2, 2}, {1.0, nan, -inf, inf});
  stn::Value r = mod.kernel("classify")(a.arg());
  expectArray<bool>(r[0], {2, 2}, {false, true, false, false});
  expectArray<bool>(r[1], {2, 2}, {false, false, true, true});
  expectArray<bool>(r[2], {2, 2}, {true, false, false, false});
  Operand<float> f = operandOf<float>({2}, {std::nanf(""), 2.0f});
  expectArray<bool>(mod.kernel("classify")(f.arg())[0], {2}, {true, false});
  // Integers are always finite.
  Operand<int32_t> i = operandOf<int32_t>({2}, {1, 2});
  expectArray<bool>(mod.kernel("classify")(i.arg())[2], {2}, {true, true});
  // The same functions still take scalars (a scalar result).
  expectScalar<double>(mod.kernel("math_module")(4.0), 2.0 + M_PI);
  expectScalar<bool>(mod.kernel("classify")(nan)[0], true);
  // And mix with math.pi on arrays: math.pi is a Python float, weak under
  // NEP 50, so a float32 array stays float32.
  Operand<float> g = operandOf<float>({2}, {4.0f, 9.0f});
  expectArray<float>(mod.kernel("math_module")(g.arg()), {2},
                     {2.0f + float(M_PI), 3.0f + float(M_PI)});
}

TEST_F(ArrayExprTest, MathFunctionsTakeScalarsAndArraysAlike) {
  // The same kernel called with a scalar returns a scalar, with an array an
  // array of the same values.
  stn::Module mod = source(R"stn(
import numpy as np
from numba import njit

@njit
def f(x):
    return np.power(x, 2), np.abs(x), np.sqrt(np.abs(x)), np.exp(x), np.hypot(x, 0.5)
)stn");
  const double xs[] = {-1.5, 0.25, 3.0};
  Operand<double> a = operandOf<double>({3}, {xs[0], xs[1], xs[2]});
  stn::Value arr = mod.kernel("f")(a.arg());
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(std::to_string(xs[i]));
    stn::Value sc = mod.kernel("f")(xs[i]);
    const double want[] = {xs[i] * xs[i], std::fabs(xs[i]), std::sqrt(std::fabs(xs[i])),
                           std::exp(xs[i]), std::hypot(xs[i], 0.5)};
    for (size_t k = 0; k < 5; ++k) {
      expectScalar<double>(sc[k], want[k]);
      EXPECT_EQ(valuesOf<double>(arr[k].array())[i], want[k]) << "function " << k;
    }
  }
  // Integer scalars: np.power and np.abs stay int64, np.sqrt is float64.
  stn::Value r = mod.kernel("f")(int64_t{-3});
  expectScalar<int64_t>(r[0], 9);
  expectScalar<int64_t>(r[1], 3);
  expectScalar<double>(r[2], std::sqrt(3.0));
}

TEST_F(ArrayExprTest, WhereMinimumMaximumOfScalars) {
  // np.where, np.minimum and np.maximum of scalars are scalars.
  stn::Module mod = source(R"stn(
import numpy as np
from numba import njit

@njit
def f(x, y):
    return np.minimum(x, y), np.maximum(x, y), np.where(x > y, x, y)
)stn");
  stn::Value r = mod.kernel("f")(-1.5, 2.0);
  expectScalar<double>(r[0], -1.5);
  expectScalar<double>(r[1], 2.0);
  expectScalar<double>(r[2], 2.0);
  r = mod.kernel("f")(std::nan(""), 2.0);
  expectScalar<double>(r[0], std::nan(""));
  expectScalar<double>(r[1], std::nan(""));
}

TEST_F(ArrayExprTest, Nep50NamedPythonScalarsAreWeakToo) {
  // NEP 50 makes every Python int/float weak, not only literals written
  // in place: `a * K` with a module constant K = 3, `a * (2 + 1)` and
  // `f32_array * math.pi` keep the array's dtype in NumPy 2.
  stn::Module mod = source(R"stn(
import math
import numpy as np
from numba import njit

K = 3

@njit
def f(a):
    return a * K, a * (2 + 1)

@njit
def g(x):
    return x * math.pi
)stn");
  Operand<int8_t> a = operandOf<int8_t>({2}, {100, -1});
  stn::Value r = mod.kernel("f")(a.arg());
  expectArray<int8_t>(r[0], {2}, {44, -3});
  expectArray<int8_t>(r[1], {2}, {44, -3});
  Operand<float> x = operandOf<float>({1}, {2.0f});
  expectArray<float>(mod.kernel("g")(x.arg()), {1}, {2.0f * float(M_PI)});
}

TEST_F(ArrayExprTest, ComplexMath) {
  // MLIR's complex lowering computes sqrt, exp and abs with its own
  // formulas (libstdc++ calls csqrt, cexp, hypot): 4e-16 relative, a few
  // ulps.
  stn::Module mod = source(kMath);
  Rng rng(14);
  Operand<c128> a = randomOperand<c128>(rng, {3, 4});
  stn::Value r = mod.kernel("complex_math")(a.arg());
  expectArray<c128>(r[0], {3, 4}, refUnary<c128>(a, [](c128 x) { return std::sqrt(x); }), 4e-16);
  expectArray<c128>(r[1], {3, 4}, refUnary<c128>(a, [](c128 x) { return std::exp(x); }), 4e-16);
  expectArray<double>(r[2], {3, 4}, refUnary<double>(a, [](c128 x) { return std::abs(x); }), 4e-16);
  Operand<std::complex<float>> f = operandOf<std::complex<float>>({2}, {{3, 4}, {0, 4}});
  r = mod.kernel("complex_math")(f.arg());
  expectArray<std::complex<float>>(r[0], {2}, {{2, 1}, {std::sqrt(2.0f), std::sqrt(2.0f)}}, 1e-6);
  expectArray<float>(r[2], {2}, {5.0f, 4.0f});
}

//===----------------------------------------------------------------------===//
// astype
//===----------------------------------------------------------------------===//

TEST_F(ArrayExprTest, Astype) {
  stn::Module mod = source(kMath);
  Operand<double> d = operandOf<double>({2, 3}, {-2.7, -0.5, 0.0, 0.5, 2.7, 1e9});
  expectArray<int32_t>(mod.kernel("as_int32")(d.arg()), {2, 3}, {-2, 0, 0, 0, 2, 1000000000});
  expectArray<float>(mod.kernel("as_float32")(d.arg()), {2, 3},
                     {-2.7f, -0.5f, 0.0f, 0.5f, 2.7f, 1e9f});
  expectArray<bool>(mod.kernel("as_bool")(d.arg()), {2, 3}, {true, true, false, true, true, true});
  expectArray<c128>(mod.kernel("as_complex")(d.arg()), {2, 3},
                    {{-2.7, 0}, {-0.5, 0}, {0, 0}, {0.5, 0}, {2.7, 0}, {1e9, 0}});
  // Integer narrowing wraps; bool to int is 0/1.
  Operand<int64_t> i = operandOf<int64_t>({4}, {300, -129, 127, 256});
  expectArray<int8_t>(mod.kernel("as_int8")(i.arg()), {4}, {44, 127, 127, 0});
  std::vector<uint8_t> b = {1, 0, 1};
  stn::ArrayView vb(b.data(), stn::DType::Bool, {3}, {1});
  expectArray<int32_t>(mod.kernel("as_int32")(vb), {3}, {1, 0, 1});
  // dtype names: "int16", float (float64), np.uint8.
  Operand<float> f = operandOf<float>({2}, {1.5f, -3.25f});
  stn::Value r = mod.kernel("as_named")(f.arg());
  expectArray<int16_t>(r[0], {2}, {1, -3});
  expectArray<double>(r[1], {2}, {1.5, -3.25});
  expectArray<uint8_t>(mod.kernel("as_named")(operandOf<int16_t>({2}, {300, -1}).arg())[2], {2},
                       {44, 255});
  // astype of an expression, fused: (a * 2).astype(np.int32).
  stn::Module m2 = source(R"stn(
import numpy as np
from numba import njit

@njit
def scaled(a):
    return (a * 2.5).astype(np.int32) + 1
)stn");
  expectArray<int32_t>(m2.kernel("scaled")(operandOf<int8_t>({3}, {1, -1, 3}).arg()), {3},
                       {3, -1, 8});
}

//===----------------------------------------------------------------------===//
// Creation functions
//===----------------------------------------------------------------------===//

TEST_F(ArrayExprTest, ZerosOnesEmptyWithIntAndTupleShapes) {
  stn::Module mod = source(kCreation);
  stn::Value r = mod.kernel("zeros_int")(int64_t{4});
  expectArray<double>(r[0], {4}, {0, 0, 0, 0});
  expectArray<double>(r[1], {4}, {1, 1, 1, 1});
  ASSERT_TRUE(r[2].isArray());
  EXPECT_EQ(r[2].array().dtype(), stn::DType::Float64);
  EXPECT_EQ(shapeText(r[2].array().shape()), "(4,)");
  // An int32 count works as well; 0 gives an empty array.
  expectArray<double>(mod.kernel("zeros_int")(int32_t{2})[1], {2}, {1, 1});
  expectArray<double>(mod.kernel("zeros_int")(int64_t{0})[0], {0}, {});

  r = mod.kernel("zeros_tuple")(int64_t{2}, int64_t{3});
  expectArray<double>(r[0], {2, 3}, std::vector<double>(6, 0.0));
  expectArray<double>(r[1], {2, 3, 4}, std::vector<double>(24, 1.0));
  ASSERT_TRUE(r[2].isArray());
  EXPECT_EQ(shapeText(r[2].array().shape()), "(2,)");
  expectArray<int8_t>(r[3], {2}, {0, 0});
}

TEST_F(ArrayExprTest, CreationDtypes) {
  stn::Module mod = source(kCreation);
  stn::Value r = mod.kernel("with_dtypes")(int64_t{3});
  expectArray<float>(r[0], {3}, {0, 0, 0});
  expectArray<int8_t>(r[1], {3}, {1, 1, 1});
  expectArray<int16_t>(r[2], {3}, {1, 1, 1});
  expectArray<double>(r[3], {3}, {0, 0, 0});
  expectArray<int64_t>(r[4], {3}, {1, 1, 1});
  expectArray<uint8_t>(r[5], {3}, {1, 1, 1});
  expectArray<c128>(r[6], {3}, {{1, 0}, {1, 0}, {1, 0}});
  expectArray<bool>(r[7], {3}, {false, false, false});
  expectArray<float>(r[8], {2, 3}, std::vector<float>(6, 1.0f));
}

TEST_F(ArrayExprTest, Full) {
  // np.full's dtype is the fill value's (a Python int: int64, a float:
  // float64, a bool: bool, a complex: complex128) unless dtype= is given.
  stn::Module mod = source(kCreation);
  stn::Value r = mod.kernel("fulls")(int64_t{3});
  expectArray<int64_t>(r[0], {3}, {7, 7, 7});
  expectArray<double>(r[1], {2, 3}, std::vector<double>(6, 2.5));
  expectArray<float>(r[2], {3}, {2.5f, 2.5f, 2.5f});
  expectArray<int8_t>(r[3], {3}, {-3, -3, -3});
  expectArray<bool>(r[4], {3}, {true, true, true});
  expectArray<c128>(r[5], {3}, {{1, 2}, {1, 2}, {1, 2}});
}

TEST_F(ArrayExprTest, LikeFunctions) {
  // *_like keep the shape and (without dtype=) the dtype of their argument,
  // whatever its layout; full_like converts the fill value (2.75 -> 2 for
  // int16).
  stn::Module mod = source(kCreation);
  std::vector<int16_t> buf(24, 5);
  const int64_t s = sizeof(int16_t);
  // A (3, 4) view of every other column of a (3, 8) buffer.
  stn::ArrayView strided(buf.data(), stn::DType::Int16, {3, 4}, {8 * s, 2 * s});
  stn::Value r = mod.kernel("likes")(strided);
  ASSERT_TRUE(r.isTuple());
  ASSERT_TRUE(r[0].isArray());
  EXPECT_EQ(r[0].array().dtype(), stn::DType::Int16);
  EXPECT_EQ(shapeText(r[0].array().shape()), "(3,4)");
  expectArray<int16_t>(r[1], {3, 4}, std::vector<int16_t>(12, 0));
  expectArray<int16_t>(r[2], {3, 4}, std::vector<int16_t>(12, 1));
  expectArray<int16_t>(r[3], {3, 4}, std::vector<int16_t>(12, 3));
  expectArray<int32_t>(r[4], {3, 4}, std::vector<int32_t>(12, 0));
  expectArray<float>(r[5], {3, 4}, std::vector<float>(12, 1.0f));
  expectArray<double>(r[6], {3, 4}, std::vector<double>(12, 2.75));
  expectArray<int16_t>(r[7], {3, 4}, std::vector<int16_t>(12, 2));
  // Shapes from .shape: np.zeros(a.shape), np.ones(a.shape[0]).
  r = mod.kernel("shape_of")(strided);
  expectArray<double>(r[0], {3, 4}, std::vector<double>(12, 0.0));
  expectArray<double>(r[1], {3}, {1, 1, 1});
  expectArray<int16_t>(r[2], {3, 4}, std::vector<int16_t>(12, 5));
}

TEST_F(ArrayExprTest, Arange) {
  // Length ceil((stop - start) / step), elements start + i * step (NumPy
  // itself derives the increment from its first two elements, which can
  // differ from `step` in the last bit for floats).
  stn::Module mod = source(kCreation);
  expectArray<int64_t>(mod.kernel("arange1")(int64_t{5}), {5}, {0, 1, 2, 3, 4});
  expectArray<int64_t>(mod.kernel("arange1")(int64_t{0}), {0}, {});
  expectArray<int64_t>(mod.kernel("arange1")(int64_t{-3}), {0}, {});
  expectArray<int64_t>(mod.kernel("arange2")(int64_t{-2}, int64_t{3}), {5}, {-2, -1, 0, 1, 2});
  expectArray<int64_t>(mod.kernel("arange3")(int64_t{2}, int64_t{10}, int64_t{3}), {3}, {2, 5, 8});
  // Negative steps.
  expectArray<int64_t>(mod.kernel("arange3")(int64_t{10}, int64_t{0}, int64_t{-3}), {4},
                       {10, 7, 4, 1});
  expectArray<int64_t>(mod.kernel("arange3")(int64_t{0}, int64_t{10}, int64_t{-1}), {0}, {});
  expectArray<double>(mod.kernel("arange3")(1.0, 0.0, -0.25), {4}, {1.0, 0.75, 0.5, 0.25});
  // Floats: arange(0, 1, 0.1) has 10 elements; i * 0.1 (0.30000000000000004).
  std::vector<double> tenth;
  for (int i = 0; i < 10; ++i)
    tenth.push_back(0.0 + i * 0.1);
  expectArray<double>(mod.kernel("arange3")(0.0, 1.0, 0.1), {10}, tenth);
  std::vector<double> neg;
  for (int i = 0; i < 7; ++i)
    neg.push_back(0.5 + i * -0.3);
  expectArray<double>(mod.kernel("arange3")(0.5, -1.5, -0.3), {7}, neg);
  // Mixed int and float arguments give float64.
  expectArray<double>(mod.kernel("arange3")(int64_t{1}, 2.0, 0.5), {2}, {1.0, 1.5});
  // dtype=.
  stn::Value r = mod.kernel("arange_dtype")(int64_t{5});
  expectArray<float>(r[0], {5}, {0, 1, 2, 3, 4});
  expectArray<int8_t>(r[1], {2}, {1, 3});
  expectArray<double>(r[2], {5}, {0.5, 1.5, 2.5, 3.5, 4.5});
}

TEST_F(ArrayExprTest, Linspace) {
  // start + i * (stop - start) / (num - 1), the last sample exactly stop
  // (NumPy's formula); float64 for integer arguments; num defaults to 50.
  stn::Module mod = source(kCreation);
  auto ref = [](double a, double b, int64_t n) {
    std::vector<double> v;
    double step = (b - a) / double(std::max<int64_t>(n - 1, 1));
    for (int64_t i = 0; i < n; ++i)
      v.push_back(a + double(i) * step);
    if (n > 1)
      v.back() = b;
    return v;
  };
  expectArray<double>(mod.kernel("linspace3")(2.0, 5.0, int64_t{4}), {4}, {2.0, 3.0, 4.0, 5.0});
  expectArray<double>(mod.kernel("linspace3")(0.1, 0.7, int64_t{7}), {7}, ref(0.1, 0.7, 7));
  expectArray<double>(mod.kernel("linspace3")(-1500.0, 1500.0, int64_t{1001}), {1001},
                      ref(-1500.0, 1500.0, 1001));
  expectArray<double>(mod.kernel("linspace3")(1.0, 0.0, int64_t{5}), {5},
                      {1.0, 0.75, 0.5, 0.25, 0.0});
  expectArray<double>(mod.kernel("linspace3")(int64_t{0}, int64_t{10}, int64_t{3}), {3},
                      {0.0, 5.0, 10.0});
  expectArray<double>(mod.kernel("linspace3")(0.0, 1.0, int64_t{0}), {0}, {});
  expectArray<double>(mod.kernel("linspace2")(-1.0, 1.0), {50}, ref(-1.0, 1.0, 50));
  expectArray<double>(mod.kernel("linspace_kw")(0.0, 1.0, int64_t{5}), {5},
                      {0.0, 0.25, 0.5, 0.75, 1.0});
  // The endpoints are exact even where start + (n - 1) * step is not.
  stn::Value v = mod.kernel("linspace3")(0.1, 0.7, int64_t{7});
  ASSERT_TRUE(v.isArray());
  EXPECT_EQ(v.array().at<double>({0}), 0.1);
  EXPECT_EQ(v.array().at<double>({6}), 0.7);
}

TEST_F(ArrayExprTest, LinspaceOfOneSampleIsStart) {
  // NumPy: np.linspace(0.0, 1.0, 1) == [0.0] (the endpoint is stored only
  // when num > 1).
  stn::Module mod = source(kCreation);
  expectArray<double>(mod.kernel("linspace3")(0.0, 1.0, int64_t{1}), {1}, {0.0});
}

TEST_F(ArrayExprTest, CopyIsIndependent) {
  stn::Module mod = source(kCreation);
  std::vector<double> a = {1, 2, 3, 4};
  stn::Value r = mod.kernel("copy_is_independent")(stn::ArrayView::of(a.data(), {4}));
  expectScalar<double>(r[0], 10.0); // a itself is unchanged inside the kernel
  expectArray<double>(r[1], {4}, {99, 2, 3, 4});
  expectArray<double>(r[2], {4}, {1, -1, 3, 4});
  EXPECT_EQ(a, (std::vector<double>{1, 2, 3, 4})); // and in the host's memory
  // A copy of a non-contiguous view is a new C-contiguous array.
  std::vector<int32_t> buf = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const int64_t s = sizeof(int32_t);
  stn::ArrayView transposed(buf.data(), stn::DType::Int32, {4, 3}, {s, 4 * s});
  stn::Value c = mod.kernel("copy_of")(transposed);
  expectArray<int32_t>(c, {4, 3}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  ASSERT_TRUE(c.isArray());
  EXPECT_EQ(c.array().strides(), (std::vector<int64_t>{3 * s, s}));
  EXPECT_NE(c.array().data(), static_cast<void *>(buf.data()));
  // The returned copy does not alias the argument.
  c.array().at<int32_t>({0, 0}) = 42;
  EXPECT_EQ(buf[0], 0);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

namespace {

/// What np.sum/np.prod of T give: int64 (uint64) for integers, T otherwise.
template <class T>
using SumOf = std::conditional_t<isIntV<T>, std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>,
                                 std::conditional_t<std::is_same_v<T, bool>, int64_t, T>>;
/// What np.mean/np.var/np.std of T give: float64 for integers, T for floats
/// (complex for mean; the float of the same precision for var/std).
template <class T> using MeanOf = std::conditional_t<std::is_floating_point_v<T> || isComplexV<T>, T, double>;

template <class T> SumOf<T> refSum(const std::vector<T> &v) {
  SumOf<T> acc{};
  for (const T &x : v)
    acc = addW<SumOf<T>>(acc, cast<SumOf<T>>(x));
  return acc;
}
template <class T> SumOf<T> refProd(const std::vector<T> &v) {
  SumOf<T> acc = SumOf<T>(1);
  for (const T &x : v)
    acc = mulW<SumOf<T>>(acc, cast<SumOf<T>>(x));
  return acc;
}
template <class T> MeanOf<T> refMean(const std::vector<T> &v) {
  using M = MeanOf<T>;
  M acc{};
  for (const T &x : v)
    acc = acc + cast<M>(x);
  if constexpr (isComplexV<M>)
    return acc / M(static_cast<typename M::value_type>(v.size()));
  else
    return acc / static_cast<M>(static_cast<int64_t>(v.size()));
}
/// Two passes, as stn (and NumPy) compute it: the mean, then the mean of
/// the squared deviations.
template <class T> double refVar(const std::vector<T> &v) {
  using M = MeanOf<T>;
  M mean = refMean(v);
  M acc{};
  for (const T &x : v) {
    M d = cast<M>(x) - mean;
    acc = acc + d * d;
  }
  return double(acc / static_cast<M>(static_cast<int64_t>(v.size())));
}

} // namespace

TEST_F(ArrayExprTest, SumProdMean) {
  stn::Module mod = source(kReductions);
  Rng rng(20);
  forEachType<int8_t, int16_t, int32_t, int64_t, uint8_t, float, double, c128>([&]<class T>() {
    for (const Shape &s : {Shape{7}, Shape{3, 4}, Shape{2, 3, 4}, Shape{1000}}) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + shapeText(s));
      Operand<T> a = randomOperand<T>(rng, s);
      // Products of small values, so that float products stay finite.
      Operand<T> p{s, {}};
      for (int64_t i = 0; i < product(s); ++i)
        p.data.push_back(randomValue<T>(rng, -3, 3, 0.5, 1.5));
      stn::Value r = mod.kernel("sums")(a.arg());
      expectScalar<SumOf<T>>(r[0], refSum(a.data));
      expectScalar<SumOf<T>>(r[1], refSum(a.data));
      // complex mean: the division by n goes through complex division
      // (MLIR's algorithm): 1e-15 relative.
      double tol = isComplexV<T> ? 1e-15 : 0.0;
      expectScalar<MeanOf<T>>(r[4], refMean(a.data), tol);
      expectScalar<MeanOf<T>>(r[5], refMean(a.data), tol);
      r = mod.kernel("sums")(p.arg());
      expectScalar<SumOf<T>>(r[2], refProd(p.data));
      expectScalar<SumOf<T>>(r[3], refProd(p.data));
    }
  });
}

TEST_F(ArrayExprTest, VarAndStd) {
  // Population variance (ddof=0) in two passes; float32 stays float32.
  stn::Module mod = source(kReductions);
  Rng rng(21);
  forEachType<int8_t, int32_t, int64_t, uint8_t, float, double>([&]<class T>() {
    for (const Shape &s : {Shape{7}, Shape{3, 4}, Shape{2, 3, 4}, Shape{1000}}) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + shapeText(s));
      Operand<T> a = randomOperand<T>(rng, s);
      using M = MeanOf<T>;
      stn::Value r = mod.kernel("spread")(a.arg());
      M var = static_cast<M>(refVar(a.data));
      expectScalar<M>(r[0], var);
      expectScalar<M>(r[1], var);
      expectScalar<M>(r[2], std::sqrt(var));
      expectScalar<M>(r[3], std::sqrt(var));
    }
  });
  // Hand-checked: var([1, 2, 3, 4]) = 1.25, std = sqrt(1.25).
  Operand<int32_t> a = operandOf<int32_t>({4}, {1, 2, 3, 4});
  stn::Value r = mod.kernel("spread")(a.arg());
  expectScalar<double>(r[0], 1.25);
  expectScalar<double>(r[2], std::sqrt(1.25));
  // complex128: the mean of |x - mean|**2, a float64 (|z| through MLIR's
  // complex.abs: 1e-15 relative).
  Operand<c128> c = operandOf<c128>({3}, {{1, 1}, {-1, 1}, {0, -2}});
  // mean = (0, 0): |x|^2 = 2, 2, 4 -> var 8/3.
  r = mod.kernel("spread")(c.arg());
  expectScalar<double>(r[0], 8.0 / 3.0, 1e-15);
  expectScalar<double>(r[2], std::sqrt(8.0 / 3.0), 1e-15);
}

TEST_F(ArrayExprTest, MinMaxArgminArgmax) {
  stn::Module mod = source(kReductions);
  Rng rng(22);
  forEachType<int8_t, int16_t, int32_t, int64_t, uint8_t, float, double>([&]<class T>() {
    for (const Shape &s : {Shape{1}, Shape{7}, Shape{3, 4}, Shape{2, 3, 4}}) {
      SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + shapeText(s));
      Operand<T> a = randomOperand<T>(rng, s);
      auto mn = std::min_element(a.data.begin(), a.data.end());
      auto mx = std::max_element(a.data.begin(), a.data.end());
      stn::Value r = mod.kernel("extremes")(a.arg());
      for (int i = 0; i < 3; ++i)
        expectScalar<T>(r[size_t(i)], *mn);
      for (int i = 3; i < 6; ++i)
        expectScalar<T>(r[size_t(i)], *mx);
      r = mod.kernel("arg_extremes")(a.arg());
      expectScalar<int64_t>(r[0], mn - a.data.begin());
      expectScalar<int64_t>(r[1], mn - a.data.begin());
      expectScalar<int64_t>(r[2], mx - a.data.begin());
      expectScalar<int64_t>(r[3], mx - a.data.begin());
    }
  });
  // The first occurrence, as a flat C-order index of a 2-D array.
  Operand<int32_t> a = operandOf<int32_t>({2, 3}, {3, 1, 5, 1, 5, 0});
  stn::Value r = mod.kernel("arg_extremes")(a.arg());
  expectScalar<int64_t>(r[0], 5);
  expectScalar<int64_t>(r[2], 2);
  a = operandOf<int32_t>({2, 3}, {3, 1, 1, 5, 5, 2});
  r = mod.kernel("arg_extremes")(a.arg());
  expectScalar<int64_t>(r[0], 1);
  expectScalar<int64_t>(r[2], 3);
  // NaN propagates through min and max.
  const double nan = std::nan("");
  Operand<double> d = operandOf<double>({4}, {1.0, nan, -3.0, 2.0});
  r = mod.kernel("extremes")(d.arg());
  for (int i = 0; i < 6; ++i)
    expectScalar<double>(r[size_t(i)], nan);
  Operand<float> f = operandOf<float>({3}, {std::nanf(""), 1.0f, 2.0f});
  r = mod.kernel("extremes")(f.arg());
  expectScalar<float>(r[0], std::nanf(""));
  expectScalar<float>(r[3], std::nanf(""));
  // -inf and inf are ordinary values.
  const double inf = std::numeric_limits<double>::infinity();
  d = operandOf<double>({3}, {inf, 0.0, -inf});
  r = mod.kernel("extremes")(d.arg());
  expectScalar<double>(r[0], -inf);
  expectScalar<double>(r[3], inf);
  // bool arrays: min is all(), max is any().
  std::vector<uint8_t> b = {1, 0, 1};
  stn::ArrayView vb(b.data(), stn::DType::Bool, {3}, {1});
  r = mod.kernel("extremes")(vb);
  expectScalar<bool>(r[0], false);
  expectScalar<bool>(r[3], true);
}

TEST_F(ArrayExprTest, ArgminArgmaxReturnTheFirstNaN) {
  // NumPy: np.argmin([1, nan, 0, nan]) == np.argmax(...) == 1, the first
  // NaN (NaN propagates, as in np.min).
  stn::Module mod = source(kReductions);
  const double nan = std::nan("");
  Operand<double> d = operandOf<double>({4}, {1.0, nan, 0.0, nan});
  stn::Value r = mod.kernel("arg_extremes")(d.arg());
  expectScalar<int64_t>(r[0], 1);
  expectScalar<int64_t>(r[2], 1);
}

TEST_F(ArrayExprTest, AnyAll) {
  stn::Module mod = source(kReductions);
  auto check = [&](const stn::Arg &a, bool any, bool all) {
    stn::Value r = mod.kernel("truth")(a);
    expectScalar<bool>(r[0], any);
    expectScalar<bool>(r[1], any);
    expectScalar<bool>(r[2], all);
    expectScalar<bool>(r[3], all);
  };
  check(operandOf<int32_t>({3}, {0, 0, 0}).arg(), false, false);
  check(operandOf<int32_t>({3}, {0, -5, 0}).arg(), true, false);
  check(operandOf<int8_t>({2, 2}, {1, 2, -3, 4}).arg(), true, true);
  check(operandOf<double>({3}, {0.0, -0.0, 0.0}).arg(), false, false);
  check(operandOf<double>({2}, {std::nan(""), 1.0}).arg(), true, true); // NaN is true
  check(operandOf<c128>({2}, {{0, 1}, {2, 0}}).arg(), true, true);
  check(operandOf<c128>({2}, {{0, 0}, {2, 0}}).arg(), true, false);
  std::vector<uint8_t> b = {1, 0, 1};
  check(stn::ArrayView(b.data(), stn::DType::Bool, {3}, {1}), true, false);
  // On expressions, fused: np.any(a > 3), np.sum(a > 0) counts.
  Operand<double> a = operandOf<double>({2, 3}, {-1, 2, 4, 0.5, -7, 3});
  stn::Value r = mod.kernel("count_positive")(a.arg());
  expectScalar<int64_t>(r[0], 4);
  expectScalar<int64_t>(r[1], 4);
  expectScalar<bool>(r[2], true);
  expectScalar<bool>(r[3], false);
}

TEST_F(ArrayExprTest, EmptyArrayReductions) {
  // sum of nothing is 0, prod 1, any False, all True, mean NaN (NumPy warns
  // and returns nan).
  stn::Module mod = source(kReductions);
  forEachType<int8_t, int32_t, int64_t, uint8_t, float, double>([&]<class T>() {
    SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)));
    for (const Shape &s : {Shape{0}, Shape{0, 3}, Shape{2, 0}}) {
      stn::ArrayView v(nullptr, stn::DTypeOf<T>::value, s,
                       s.size() == 1 ? Shape{sizeof(T)} : Shape{s[1] * int64_t(sizeof(T)), sizeof(T)});
      T dummy{};
      v.data = &dummy;
      stn::Value r = mod.kernel("sums")(v);
      expectScalar<SumOf<T>>(r[0], SumOf<T>(0));
      expectScalar<SumOf<T>>(r[2], SumOf<T>(1));
      expectScalar<MeanOf<T>>(r[4], MeanOf<T>(std::nan("")));
      r = mod.kernel("truth")(v);
      expectScalar<bool>(r[0], false);
      expectScalar<bool>(r[2], true);
    }
  });
}

TEST_F(ArrayExprTest, ReductionsOfNonContiguousArgumentsAndExpressions) {
  // C order over any layout: a transposed view reduces in its logical
  // order, so float sums match a C-order loop exactly.
  stn::Module mod = source(kReductions);
  Rng rng(23);
  std::vector<double> buf = randomOperand<double>(rng, {5, 7}).data;
  const int64_t s = sizeof(double);
  stn::ArrayView t(buf.data(), stn::DType::Float64, {7, 5}, {s, 7 * s});
  std::vector<double> logical;
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 5; ++j)
      logical.push_back(buf[size_t(j * 7 + i)]);
  stn::Value r = mod.kernel("sums")(t);
  expectScalar<double>(r[0], refSum(logical));
  expectScalar<double>(r[4], refMean(logical));
  r = mod.kernel("spread")(t);
  expectScalar<double>(r[0], refVar(logical));
  // Reductions of expressions: sum(a * b + 1.0), max(abs(a - b)),
  // mean(a > b) (a bool mean is float64), sum(a > 0) (an int64 count).
  Operand<float> a = randomOperand<float>(rng, {3, 4});
  Operand<float> b = randomOperand<float>(rng, {4});
  r = mod.kernel("of_expression")(a.arg(), b.arg());
  std::vector<float> e = refBinary<float>(a, b, [](float x, float y) { return x * y + 1.0f; });
  expectScalar<float>(r[0], refSum(e));
  std::vector<float> d = refBinary<float>(a, b, [](float x, float y) { return std::fabs(x - y); });
  expectScalar<float>(r[1], *std::max_element(d.begin(), d.end()));
  std::vector<double> gt = refBinary<double>(a, b, [](float x, float y) { return x > y ? 1.0 : 0.0; });
  expectScalar<double>(r[2], refMean(gt));
  int64_t pos = 0;
  for (float x : a.data)
    pos += x > 0;
  expectScalar<int64_t>(r[3], pos);
}

TEST_F(ArrayExprTest, PythonBuiltinsSumAnyAll) {
  stn::Module mod = source(R"stn(
from numba import njit

@njit
def python_builtins(a):
    return sum(a), any(a), all(a)
)stn");
  Operand<int32_t> a = operandOf<int32_t>({4}, {1, 0, 3, 4});
  stn::Value r = mod.kernel("python_builtins")(a.arg());
  expectScalar<int64_t>(r[0], 8);
  expectScalar<bool>(r[1], true);
  expectScalar<bool>(r[2], false);
}

TEST_F(ArrayExprTest, DotOfVectors) {
  // A sequential sum of products in the promoted dtype (int8 . int8 stays
  // int8 and wraps, as in NumPy; no conjugation for complex).
  stn::Module mod = source(kReductions);
  Rng rng(24);
  auto check = [&]<class A, class B, class R>(int64_t n) {
    SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<A>::value)) + " . " +
                 std::string(stn::dtypeName(stn::DTypeOf<B>::value)) + " n=" + std::to_string(n));
    Operand<A> a = randomOperand<A>(rng, {n});
    Operand<B> b = randomOperand<B>(rng, {n});
    R acc{};
    for (int64_t i = 0; i < n; ++i)
      acc = addW<R>(acc, mulW<R>(cast<R>(a.data[size_t(i)]), cast<R>(b.data[size_t(i)])));
    expectScalar<R>(mod.kernel("dot")(a.arg(), b.arg()), acc);
    expectScalar<R>(mod.kernel("dot_method")(a.arg(), b.arg()), acc);
  };
  for (int64_t n : {0, 1, 7, 1000}) {
    check.template operator()<double, double, double>(n);
    check.template operator()<float, float, float>(n);
    check.template operator()<int32_t, int32_t, int32_t>(n);
    check.template operator()<int8_t, int8_t, int8_t>(n);
    check.template operator()<int64_t, int64_t, int64_t>(n);
    check.template operator()<int8_t, float, float>(n);
    check.template operator()<int32_t, double, double>(n);
    check.template operator()<c128, c128, c128>(n);
  }
  // Hand-checked.
  std::vector<double> x = {1, 2, 3}, y = {4, -5, 6};
  expectScalar<double>(mod.kernel("dot")(stn::ArrayView::of(x.data(), {3}),
                                         stn::ArrayView::of(y.data(), {3})),
                       12.0);
}

//===----------------------------------------------------------------------===//
// Layouts, zero-size arrays, results, helpers and variables
//===----------------------------------------------------------------------===//

TEST_F(ArrayExprTest, NonContiguousOperands) {
  // A Fortran-ordered (3, 4) with a reversed (negative stride) (4,) and a
  // strided (every other element) view; results are C-contiguous.
  stn::Module mod = source(kElementwise);
  std::vector<double> f = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; // column-major (3, 4)
  std::vector<double> v = {100, 200, 300, 400};
  std::vector<double> w = {1, -1, 2, -1, 3, -1, 4, -1};
  const int64_t s = sizeof(double);
  stn::ArrayView fortran(f.data(), stn::DType::Float64, {3, 4}, {s, 3 * s});
  stn::ArrayView reversed(v.data() + 3, stn::DType::Float64, {4}, {-s});
  stn::ArrayView strided(w.data(), stn::DType::Float64, {4}, {2 * s});
  stn::Value r = mod.kernel("add")(fortran, reversed);
  std::vector<double> want;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      want.push_back(f[size_t(j * 3 + i)] + v[size_t(3 - j)]);
  expectArray<double>(r, {3, 4}, want);
  EXPECT_EQ(r.array().strides(), (std::vector<int64_t>{4 * s, s}));
  r = mod.kernel("arith")(reversed, strided);
  expectArray<double>(r[2], {4}, {400, 600, 600, 400});
}

TEST_F(ArrayExprTest, ZeroSizeBroadcasting) {
  stn::Module mod = source(kElementwise);
  std::vector<double> row = {1, 2, 3, 4};
  double dummy = 0;
  stn::ArrayView empty(&dummy, stn::DType::Float64, {0, 4}, {4 * int64_t(sizeof(double)), sizeof(double)});
  expectArray<double>(mod.kernel("add")(empty, stn::ArrayView::of(row.data(), {4})), {0, 4}, {});
  stn::ArrayView empty1(&dummy, stn::DType::Float64, {0}, {sizeof(double)});
  expectArray<double>(mod.kernel("add")(empty1, 2.0), {0}, {});
  // (0, 1) with (1, 4) is (0, 4); (3, 1) with (0,) is (3, 0).
  stn::ArrayView e01(&dummy, stn::DType::Float64, {0, 1}, {sizeof(double), sizeof(double)});
  expectArray<double>(mod.kernel("add")(e01, stn::ArrayView::of(row.data(), {1, 4})), {0, 4}, {});
  expectArray<double>(mod.kernel("add")(stn::ArrayView::of(row.data(), {3, 1}), empty1), {3, 0}, {});
}

TEST_F(ArrayExprTest, BroadcastingMismatchIsAnError) {
  // NumPy: "operands could not be broadcast together with shapes (3,) (4,)".
  stn::Module mod = source(kElementwise);
  std::vector<double> a = {1, 2, 3}, b = {1, 2, 3, 4};
  try {
    mod.kernel("add")(stn::ArrayView::of(a.data(), {3}), stn::ArrayView::of(b.data(), {4}));
    ADD_FAILURE() << "no error";
  } catch (const stn::Error &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "operands could not be broadcast together with shapes (3,) (4,)"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ArrayExprTest, ArraysInTuplesHelpersAndVariables) {
  stn::Module mod = source(R"stn(
import numpy as np
from numba import njit

@njit
def scaled(x, s):
    return x * s

@njit
def energy(x):
    return np.sum(x * x)

@njit
def fill_ramp(out):
    for i in range(out.shape[0]):
        out[i] = i

@njit
def use_helpers(a):
    b = scaled(a, 2.0)
    r = np.zeros(a.shape[0])
    fill_ramp(r)
    return b + r, energy(b), r

@njit
def stats(a):
    return a.min(), a - a.mean(), (a > 0), a.max()

@njit
def nested(a):
    return (a + 1, (a * 2, a.sum())), a.size

@njit
def accumulate(a, n):
    acc = np.zeros_like(a)
    for i in range(n):
        acc = acc + a * i
    return acc

@njit
def reassign(a):
    x = a * 2.0
    x = x + 1
    x = np.sqrt(x)
    return x

@njit
def elements(a):
    b = np.sqrt(a) * 2.0
    s = 0.0
    for i in range(b.shape[0]):
        s += b[i]
    return s, b[0], b[-1], len(b), b.shape[0]
)stn");
  std::vector<double> a = {1.0, -2.0, 4.0};
  stn::ArrayView va = stn::ArrayView::of(a.data(), {3});
  stn::Value r = mod.kernel("use_helpers")(va);
  ASSERT_TRUE(r.isTuple());
  ASSERT_EQ(r.size(), 3u);
  expectArray<double>(r[0], {3}, {2.0, -3.0, 10.0});
  expectScalar<double>(r[1], 4.0 + 16.0 + 64.0);
  expectArray<double>(r[2], {3}, {0.0, 1.0, 2.0});

  r = mod.kernel("stats")(va);
  expectScalar<double>(r[0], -2.0);
  expectArray<double>(r[1], {3}, {0.0, -3.0, 3.0});
  expectArray<bool>(r[2], {3}, {true, false, true});
  expectScalar<double>(r[3], 4.0);

  r = mod.kernel("nested")(va);
  ASSERT_TRUE(r.isTuple());
  ASSERT_TRUE(r[0].isTuple());
  expectArray<double>(r[0][0], {3}, {2.0, -1.0, 5.0});
  expectArray<double>(r[0][1][0], {3}, {2.0, -4.0, 8.0});
  expectScalar<double>(r[0][1][1], 3.0);
  expectScalar<int64_t>(r[1], 3);

  std::vector<double> f = {1.0, 0.1};
  std::vector<double> want(2, 0.0);
  for (int i = 0; i < 5; ++i)
    for (size_t k = 0; k < 2; ++k)
      want[k] = want[k] + f[k] * double(i);
  expectArray<double>(mod.kernel("accumulate")(stn::ArrayView::of(f.data(), {2}), int64_t{5}),
                     {2}, want);
  std::vector<int32_t> ints = {4, 12};
  expectArray<double>(mod.kernel("reassign")(stn::ArrayView::of(ints.data(), {2})), {2},
                      {3.0, 5.0});

  std::vector<double> sq = {4.0, 9.0, 16.0};
  r = mod.kernel("elements")(stn::ArrayView::of(sq.data(), {3}));
  expectScalar<double>(r[0], 18.0);
  expectScalar<double>(r[1], 4.0);
  expectScalar<double>(r[2], 8.0);
  expectScalar<int64_t>(r[3], 3);
}

TEST_F(ArrayExprTest, OneFusedLoopNestPerExpression) {
  // `c = np.sqrt(a * a + b * b) + 1.0` is one allocation and one loop;
  // a reduction of an expression allocates nothing.
  stn::Module mod = source(R"stn(
import numpy as np
from numba import njit

@njit
def hyp(a, b):
    c = np.sqrt(a * a + b * b) + 1.0
    return c

@njit
def total(a, b):
    return np.sum(np.sqrt(a * a + b * b) + 1.0)
)stn");
  std::string ir = mod.emit("hyp", "f32[:], f32[:]", stn::Stage::MLIR);
  EXPECT_EQ(countOf(ir, "memref.alloc("), 1u) << ir;
  EXPECT_EQ(countOf(ir, "scf.for"), 1u) << ir;
  EXPECT_EQ(countOf(ir, "math.sqrt"), 1u) << ir;
  ir = mod.emit("total", "f32[:], f32[:]", stn::Stage::MLIR);
  EXPECT_EQ(countOf(ir, "memref.alloc("), 0u) << ir;
  EXPECT_EQ(countOf(ir, "scf.for"), 1u) << ir;
  // And the values.
  std::vector<float> a = {3, 5, 0}, b = {4, 12, 0};
  expectArray<float>(mod.kernel("hyp")(stn::ArrayView::of(a.data(), {3}),
                                       stn::ArrayView::of(b.data(), {3})),
                     {3}, {6.0f, 14.0f, 1.0f});
  expectScalar<float>(mod.kernel("total")(stn::ArrayView::of(a.data(), {3}),
                                          stn::ArrayView::of(b.data(), {3})),
                      21.0f);
}

TEST_F(ArrayExprTest, SliceAssignmentsOfOverlappingAndSeparateArrays) {
  // view[...] = expression and view op= expression write straight into the
  // view, unless it shares memory with an array the value reads: then the
  // value goes through a temporary first, as NumPy's semantics require
  // (a[1:] = a[:-1] shifts; it does not smear a[0]). Each kernel runs on
  // separate arrays and on arrays that overlap, against C++ loops over a
  // copy of the old values.
  stn::Module mod = source(R"stn(
import numpy as np
from numba import njit

@njit
def into(out, x):
    out[:] = np.sqrt(x) + 1.0

@njit
def shift_right(a):
    a[1:] = a[:-1] * 2.0

@njit
def shift_left(a):
    a[:-1] = a[1:] + 0.5

@njit
def reverse_plus(a):
    a[::-1] = a + 1.0

@njit
def copy_shifted(a):
    a[1:] = a[:-1]

@njit
def add_shifted(a):
    a[1:] += a[:-1]

@njit
def scale(a, f):
    a *= f
    a += 1.0

@njit
def columns_right(m):
    m[:, 1:] = m[:, :-1] * 10.0

@njit
def rows_from_first(m):
    m[1:, :] = m[0, :] * 2.0

@njit(parallel=True)
def into_parallel(out, x):
    out[:] = x * 3.0 - 1.0
)stn");
  Rng rng(41);
  auto random = [&](size_t n) {
    std::vector<double> v(n);
    for (auto &e : v)
      e = rng.uniform(0.0, 100.0);
    return v;
  };
  const int64_t n = 1000;
  auto view = [](std::vector<double> &v, Shape s) { return stn::ArrayView::of(v.data(), s); };
  auto expectAll = [](const std::vector<double> &got, const std::vector<double> &want,
                      const char *what) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_EQ(got[i], want[i]) << what << " at " << i;
  };
  // Separate arrays, then the same array as out and x.
  {
    std::vector<double> x = random(n), out(n, -1.0), want(n);
    for (int64_t i = 0; i < n; ++i)
      want[i] = std::sqrt(x[i]) + 1.0;
    mod.kernel("into")(view(out, {n}), view(x, {n}));
    expectAll(out, want, "into, separate");
    std::vector<double> a = x;
    mod.kernel("into")(view(a, {n}), view(a, {n}));
    expectAll(a, want, "into, out is x");
    // out is x shifted by one element: overlapping, not identical.
    std::vector<double> b(n + 1);
    std::copy(x.begin(), x.end(), b.begin() + 1);
    mod.kernel("into")(stn::ArrayView::of(b.data(), {n}), stn::ArrayView::of(b.data() + 1, {n}));
    expectAll(std::vector<double>(b.begin(), b.end() - 1), want, "into, out is x - 1");
  }
  auto run1 = [&](const char *k, auto ref) {
    std::vector<double> a = random(n), old = a, want = a;
    ref(old, want);
    mod.kernel(k)(view(a, {n}));
    expectAll(a, want, k);
  };
  run1("shift_right", [&](const auto &old, auto &w) {
    for (int64_t i = 1; i < n; ++i)
      w[i] = old[i - 1] * 2.0;
  });
  run1("shift_left", [&](const auto &old, auto &w) {
    for (int64_t i = 0; i + 1 < n; ++i)
      w[i] = old[i + 1] + 0.5;
  });
  run1("reverse_plus", [&](const auto &old, auto &w) {
    for (int64_t i = 0; i < n; ++i)
      w[n - 1 - i] = old[i] + 1.0;
  });
  run1("copy_shifted", [&](const auto &old, auto &w) {
    for (int64_t i = 1; i < n; ++i)
      w[i] = old[i - 1];
  });
  run1("add_shifted", [&](const auto &old, auto &w) {
    for (int64_t i = 1; i < n; ++i)
      w[i] = old[i] + old[i - 1];
  });
  {
    std::vector<double> a = random(n), want = a;
    for (auto &e : want)
      e = e * 0.25 + 1.0;
    mod.kernel("scale")(view(a, {n}), 0.25);
    expectAll(a, want, "scale");
  }
  const int64_t r = 7, c = 9;
  {
    std::vector<double> m = random(r * c), want = m;
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 1; j < c; ++j)
        want[i * c + j] = m[i * c + j - 1] * 10.0;
    mod.kernel("columns_right")(view(m, {r, c}));
    expectAll(m, want, "columns_right");
  }
  {
    std::vector<double> m = random(r * c), want = m;
    for (int64_t i = 1; i < r; ++i)
      for (int64_t j = 0; j < c; ++j)
        want[i * c + j] = m[j] * 2.0;
    mod.kernel("rows_from_first")(view(m, {r, c}));
    expectAll(m, want, "rows_from_first");
  }
  {
    const int64_t big = 1 << 20;
    std::vector<double> x = random(big), out(big), want(big);
    for (int64_t i = 0; i < big; ++i)
      want[i] = x[i] * 3.0 - 1.0;
    mod.kernel("into_parallel")(view(out, {big}), view(x, {big}));
    expectAll(out, want, "into_parallel, separate");
    mod.kernel("into_parallel")(view(x, {big}), view(x, {big}));
    expectAll(x, want, "into_parallel, out is x");
  }
  // One allocation: the temporary, in the branch taken only where the
  // view overlaps x (before, every call allocated it).
  std::string ir = mod.emit("into", "f64[:], f64[:]", stn::Stage::MLIR);
  EXPECT_EQ(countOf(ir, "memref.alloc("), 1u) << ir;
}

//===----------------------------------------------------------------------===//
// The seed course's kernels and the examples
//===----------------------------------------------------------------------===//

TEST_F(ArrayExprTest, SeedSquareMean) {
  // dsl-examples/square_mean_np.stn: res[i] = np.mean(np.power(arr, 2)[i]).
  // np.power(arr, 2) keeps arr's dtype (x * x), the mean of a row is
  // float64 for integers and float32 for float32 rows (stored into the
  // float64 `res`).
  stn::Module mod = load("square_mean_np.stn");
  Rng rng(30);
  auto check = [&]<class T>(int64_t n, int64_t m) {
    SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + std::to_string(n) +
                 "x" + std::to_string(m));
    Operand<T> a = randomOperand<T>(rng, {n, m});
    std::vector<double> want;
    for (int64_t i = 0; i < n; ++i) {
      std::vector<T> row;
      for (int64_t j = 0; j < m; ++j) {
        T x = a.data[size_t(i * m + j)];
        row.push_back(mulW<T>(x, x));
      }
      want.push_back(double(refMean(row)));
    }
    expectArray<double>(mod.kernel("square_mean")(a.arg()), {n}, want);
  };
  for (auto [n, m] : {std::pair<int64_t, int64_t>{3, 4}, {1, 1}, {17, 1000}}) {
    check.template operator()<double>(n, m);
    check.template operator()<float>(n, m);
    check.template operator()<int64_t>(n, m);
    check.template operator()<int32_t>(n, m);
  }
  // Hand-checked: rows [1, 2, 3] and [0, -2, 2] -> 14/3 and 8/3.
  std::vector<double> x = {1, 2, 3, 0, -2, 2};
  expectArray<double>(mod.kernel("square_mean")(stn::ArrayView::of(x.data(), {2, 3})), {2},
                      {14.0 / 3.0, 8.0 / 3.0});
}

TEST_F(ArrayExprTest, SeedEvaluateFunctions) {
  // dsl-examples/trig_loop.stn: `evaluate_functions` is the seed verbatim
  // (returns nothing, 10000 iterations); `trig_loop(n, iterations)` is the
  // same body returning vector1, compared with the six libm calls in the
  // same order (exact).
  stn::Module mod = load("trig_loop.stn");
  EXPECT_TRUE(mod.kernel("evaluate_functions")(int64_t{16}).isNone());
  for (auto [n, iterations] : {std::pair<int64_t, int64_t>{1001, 3}, {64, 0}, {7, 1}}) {
    SCOPED_TRACE("n=" + std::to_string(n) + " iterations=" + std::to_string(iterations));
    std::vector<double> v1, v2(static_cast<size_t>(n));
    const double step = (1500.0 - -1500.0) / double(std::max<int64_t>(n - 1, 1));
    for (int64_t i = 0; i < n; ++i)
      v1.push_back(-1500.0 + double(i) * step);
    if (n > 1)
      v1.back() = 1500.0;
    for (int64_t it = 0; it < iterations; ++it)
      for (size_t i = 0; i < v1.size(); ++i) {
        v2[i] = std::sin(v1[i]);
        v1[i] = std::asin(v2[i]);
        v2[i] = std::cos(v1[i]);
        v1[i] = std::acos(v2[i]);
        v2[i] = std::tan(v1[i]);
        v1[i] = std::atan(v2[i]);
      }
    expectArray<double>(mod.kernel("trig_loop")(n, iterations), {n}, v1);
  }
}

TEST_F(ArrayExprTest, Normalize) {
  // dsl-examples/normalize.stn: (x - x.mean()) / x.std(), fused into one
  // loop after the two reductions.
  stn::Module mod = load("normalize.stn");
  Rng rng(31);
  auto check = [&]<class T>(const Shape &s) {
    SCOPED_TRACE(std::string(stn::dtypeName(stn::DTypeOf<T>::value)) + " " + shapeText(s));
    Operand<T> x = randomOperand<T>(rng, s);
    using M = MeanOf<T>;
    M mean = refMean(x.data);
    M sd = static_cast<M>(std::sqrt(static_cast<M>(refVar(x.data))));
    std::vector<M> want = refUnary<M>(x, [&](T v) { return (static_cast<M>(v) - mean) / sd; });
    expectArray<M>(mod.kernel("normalize")(x.arg()), s, want);
  };
  for (const Shape &s : {Shape{10}, Shape{4, 5}, Shape{2, 3, 4}, Shape{100000}}) {
    check.template operator()<double>(s);
    check.template operator()<float>(s);
    check.template operator()<int32_t>(s);
  }
  // Hand-checked: [1, 2, 3, 4] -> mean 2.5, std sqrt(1.25).
  std::vector<double> x = {1, 2, 3, 4};
  const double sd = std::sqrt(1.25);
  expectArray<double>(mod.kernel("normalize")(stn::ArrayView::of(x.data(), {4})), {4},
                      {-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd});
  // The result has mean 0 and standard deviation 1.
  std::vector<double> big = randomOperand<double>(rng, {5000}).data;
  stn::Value r = mod.kernel("normalize")(stn::ArrayView::of(big.data(), {5000}));
  std::vector<double> z = valuesOf<double>(r.array());
  EXPECT_NEAR(refMean(z), 0.0, 1e-12);
  EXPECT_NEAR(std::sqrt(refVar(z)), 1.0, 1e-12);
}

//===----------------------------------------------------------------------===//
// Memory: temporaries are freed
//===----------------------------------------------------------------------===//

TEST_F(ArrayExprTest, RepeatedCallsDoNotLeak) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' allocators keep freed memory out of reuse (ASan's
  // quarantine is 256 MiB), so peak RSS grows without any leak; in the asan
  // build LeakSanitizer checks every allocation instead (docs/testing.md).
  GTEST_SKIP() << "peak RSS is meaningless under a sanitizer's allocator";
#endif
  // A kernel that creates temporaries (one kept in a variable, so it is a
  // real allocation, and the new result array) called 2000 times on 1M
  // float32 elements: 8 MB per call, 16 GB over the loop; the peak RSS may
  // not grow by more than 64 MB after the warm-up.
  stn::Module mod = source(R"stn(
import numpy as np
from numba import njit

@njit
def churn(a, b):
    t = a * b
    return np.sqrt(a * a + b * b) + 1, np.sum(t)
)stn");
  const int64_t n = 1 << 20;
  std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    a[size_t(i)] = float(i % 1000) * 0.001f;
    b[size_t(i)] = 1.0f - a[size_t(i)];
  }
  stn::Kernel k = mod.kernel("churn");
  stn::ArrayView va = stn::ArrayView::of(a.data(), {n}), vb = stn::ArrayView::of(b.data(), {n});
  for (int i = 0; i < 20; ++i) {
    stn::Value r = k(va, vb);
    ASSERT_TRUE(r.isTuple());
  }
  const int64_t before = peakRss();
  double check = 0;
  for (int i = 0; i < 2000; ++i) {
    stn::Value r = k(va, vb);
    check += double(r[0].array().at<float>({1})) + r[1].asDouble();
    if (i % 100 == 99) {
      ASSERT_LT(peakRss() - before, int64_t{64} << 20) << "after " << i + 1 << " calls";
    }
  }
  EXPECT_LT(peakRss() - before, int64_t{64} << 20);
  EXPECT_GT(check, 0.0);
}

TEST_F(ArrayExprTest, LoopInsideAKernelFreesItsTemporaries) {
  // evaluate_functions' pattern: every iteration makes new arrays and drops
  // the previous ones. 7 iterations over 1M float64 elements make 42
  // arrays (336 MB); a kernel that frees them needs a few at a time
  // (ArrayOwnership.h: the old value of a reassigned variable is freed).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // ASan's quarantine keeps freed blocks out of reuse (see
  // RepeatedCallsDoNotLeak): the kernels still run (LeakSanitizer checks
  // them), the peak RSS is not compared.
  constexpr bool kMeasure = false;
#else
  constexpr bool kMeasure = true;
#endif
  stn::Module mod = load("trig_loop.stn");
  stn::Kernel k = mod.kernel("trig_loop");
  k(int64_t{1 << 20}, int64_t{1}); // warm-up: compile, and map the first arrays
  const int64_t before = peakRss();
  k(int64_t{1 << 20}, int64_t{7}); // 42 arrays of 8 MB
  if (kMeasure) {
    EXPECT_LT(peakRss() - before, int64_t{64} << 20);
  }
  // The same in a prange loop (each thread frees the arrays it made; the
  // array from before the loop is shared and stays).
  k = mod.kernel("evaluate_functions");
  k(int64_t{1000}); // compile
  const int64_t before2 = peakRss();
  k(int64_t{1 << 14}); // 10000 iterations x 6 arrays of 128 KB: 7.5 GB if kept
  if (kMeasure) {
    EXPECT_LT(peakRss() - before2, int64_t{64} << 20);
  }
}

TEST_F(ArrayExprTest, ReassignedArraysThatOthersUseAreKept) {
  // Freeing an overwritten array must never free memory another name, a
  // view or a returned value still uses.
  stn::Module mod = source(R"stn(
import numpy as np
from numba import njit

@njit
def alias(n):
    v = np.ones(n)
    w = v
    v = np.zeros(n) + 2.0
    return w.sum() + v.sum()

@njit
def view(n):
    v = np.ones(n)
    w = v[1:]
    v = np.zeros(n) + 2.0
    return w.sum() + v.sum()

@njit
def both(n):
    a = b = np.ones(n)
    a = np.zeros(n)
    return b.sum() + a.sum()

@njit
def keep_first(n):
    v = np.ones(n)
    t = (v, 1)
    v = np.zeros(n)
    return t[0]

@njit
def self_assign(a):
    v = a * 2.0
    for i in range(3):
        v = v
        v = v + 1.0
    return v

@njit
def grow(a, k):
    v = a + 0.0
    for i in range(k):
        if i % 2 == 0:
            v = v * 2.0
        else:
            v = np.sqrt(v)
    return v
)stn");
  EXPECT_EQ(mod.kernel("alias")(int64_t{1000}).asDouble(), 1000.0 + 2000.0);
  EXPECT_EQ(mod.kernel("view")(int64_t{1000}).asDouble(), 999.0 + 2000.0);
  EXPECT_EQ(mod.kernel("both")(int64_t{1000}).asDouble(), 1000.0);
  stn::Value first = mod.kernel("keep_first")(int64_t{1000});
  EXPECT_EQ(first.array().at<double>({999}), 1.0);
  std::vector<double> a = {1, 2, 3};
  stn::Value r = mod.kernel("self_assign")(stn::ArrayView::of(a.data(), {3}));
  EXPECT_EQ(r.array().at<double>({2}), 9.0);
  std::vector<double> g = {4, 9, 16};
  stn::Value q = mod.kernel("grow")(stn::ArrayView::of(g.data(), {3}), int64_t{5});
  double ref = 16;
  for (int i = 0; i < 5; ++i)
    ref = i % 2 == 0 ? ref * 2.0 : std::sqrt(ref);
  EXPECT_EQ(q.array().at<double>({2}), ref);
  EXPECT_EQ(g[2], 16.0); // the input is never freed or written
}

//===----------------------------------------------------------------------===//
// Type errors reach the host as stn::Error
//===----------------------------------------------------------------------===//

TEST_F(ArrayExprTest, TypeErrorsAreStnErrors) {
  stn::Module mod = source(R"stn(
import numpy as np
from numba import njit

@njit
def unknown_method(a):
    return a.frobnicate()

@njit
def chained(a):
    return 0 < a < 1

@njit
def boolean_arith(a):
    return (a > 0) + (a > 1)
)stn");
  std::vector<double> a = {1, 2};
  stn::ArrayView va = stn::ArrayView::of(a.data(), {2});
  auto message = [&](const char *kernel) {
    try {
      mod.kernel(kernel)(va);
    } catch (const stn::Error &e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message("unknown_method")
                .find("arrays.stn:7:14: error: 'array(float64, 1d, C)' has no method 'frobnicate'"),
            std::string::npos)
      << message("unknown_method");
  EXPECT_NE(message("chained").find("chained comparisons of arrays are ambiguous"),
            std::string::npos);
  EXPECT_NE(message("boolean_arith").find("'+' on bool arrays is not supported"),
            std::string::npos);
}
