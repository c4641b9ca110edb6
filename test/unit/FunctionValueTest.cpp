//===- FunctionValueTest.cpp - Functions passed to functions --------------===//
//
// Functions as values: a @jit function of the module, a lambda or a local
// function passed to another @jit function (which is specialized for it)
// and called there; each kernel against the same computation in C++:
//   - the trapezoid rule over x*x and x*x*x (two specializations of one
//     integrator in one caller), and over a lambda reading two of the
//     caller's numbers (its captured values travel with it);
//   - a local function held in a variable and passed on; a function
//     parameter passed on to a further function, captured by a local
//     function and by a lambda; recursion that passes its function along;
//   - a function applied to each element in a prange loop, for float64,
//     float32, int64 and int32 arrays, with a lambda reading an array of
//     the caller;
//   - a variable holding a lambda as key= of sorted() and max();
//   - a local function that writes an array of the caller, called through
//     another function: the write refuses a read-only argument, as a direct
//     write would (WrittenParams sees through the value).
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def square(x):
    return x * x

@njit
def cube(x):
    return x * x * x

@njit
def trapezoid(f, a, b, n):
    h = (b - a) / n
    s = 0.5 * (f(a) + f(b))
    for i in range(1, n):
        s += f(a + i * h)
    return s * h

@njit
def both(n):
    return trapezoid(square, 0.0, 1.0, n), trapezoid(cube, -1.0, 2.0, n)

@njit
def poly(n, c0, c1):
    return trapezoid(lambda x: c0 + c1 * x * x, 0.0, 3.0, n)

@njit
def plus_one(f, x):
    return f(x) + 1

@njit
def passed_on(f, x):
    return plus_one(f, x) * 2

@njit
def countdown(f, n):
    if n == 0:
        return f(n)
    return countdown(f, n - 1) + 1

@njit
def compose(g, x, c):
    def h(y):
        return g(y) + c
    k = h
    return passed_on(k, x), plus_one(lambda v: g(v) - c, x), countdown(g, 4)

@njit
def compose_square(x, c):
    return compose(square, x, c)

@njit
def apply_each(f, a):
    out = np.empty_like(a)
    for i in prange(len(a)):
        out[i] = f(i, a[i])
    return out

@njit(parallel=True)
def weighted(a, w):
    return apply_each(lambda i, v: v * w[i % len(w)] + i, a)

@njit
def call_each(f, n):
    for i in range(n):
        f(i)

@njit
def fill_through(a, b, n):
    def put(i):
        b[i] = a[i] * 2
    g = put
    call_each(g, n)
    call_each(lambda i: put(i), n)
    return b.sum()

@njit
def keyed(a, f):
    k = lambda v: abs(v - f)
    return np.array(sorted(a, key=k)), max(range(len(a)), key=lambda i: k(a[i]))
)STN";

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "functions.stn");
  return m;
}

double trapezoid(const std::function<double(double)> &f, double a, double b, int64_t n) {
  double h = (b - a) / static_cast<double>(n);
  double s = 0.5 * (f(a) + f(b));
  for (int64_t i = 1; i < n; ++i)
    s += f(a + static_cast<double>(i) * h);
  return s * h;
}

TEST(FunctionValues, IntegratorSpecializedPerFunction) {
  for (int64_t n : {1, 10, 1000}) {
    stn::Value r = module().kernel("both")(n);
    EXPECT_EQ(r[0].asDouble(), trapezoid([](double x) { return x * x; }, 0.0, 1.0, n)) << n;
    EXPECT_EQ(r[1].asDouble(), trapezoid([](double x) { return x * x * x; }, -1.0, 2.0, n))
        << n;
    r = module().kernel("poly")(n, 0.5, -2.0);
    EXPECT_EQ(r.asDouble(), trapezoid([](double x) { return 0.5 + -2.0 * x * x; }, 0.0, 3.0, n))
        << n;
  }
}

TEST(FunctionValues, PassedOnCapturedAndRecursive) {
  for (double x : {-1.5, 0.0, 2.0}) {
    double c = 0.25;
    stn::Value r = module().kernel("compose_square")(x, c);
    // g = square: h(y) = y*y + c; passed_on(h, x) = (h(x) + 1) * 2.
    EXPECT_EQ(r[0].asDouble(), (x * x + c + 1) * 2) << x;
    EXPECT_EQ(r[1].asDouble(), x * x - c + 1) << x;
    // countdown(square, 4) = square(0) + 4.
    EXPECT_EQ(r[2].asInt(), 4) << x;
  }
}

template <class T> void checkWeighted(std::mt19937 &rng) {
  std::uniform_int_distribution<int> d(-50, 50);
  std::vector<T> a(1000), w(7);
  for (auto &x : a)
    x = static_cast<T>(d(rng));
  for (auto &x : w)
    x = static_cast<T>(d(rng) / 10);
  stn::Value r = module().kernel("weighted")(stn::ArrayView::of(a.data(), {1000}),
                                             stn::ArrayView::of(w.data(), {7}));
  std::vector<T> want(a.size());
  for (size_t i = 0; i < a.size(); ++i)
    want[i] = static_cast<T>(a[i] * w[i % w.size()] + static_cast<T>(i));
  EXPECT_EQ(valuesOf<T>(r, {1000}), want);
}

TEST(FunctionValues, LambdaInAParallelLoopForEachDtype) {
  std::mt19937 rng(9);
  checkWeighted<double>(rng);
  checkWeighted<float>(rng);
  checkWeighted<int64_t>(rng);
  checkWeighted<int32_t>(rng);
}

TEST(FunctionValues, VariableHoldingALambdaAsKey) {
  std::vector<double> a = {3.0, -1.0, 0.5, 2.0, 1.5, -0.5};
  double f = 0.75;
  stn::Value r = module().kernel("keyed")(stn::ArrayView::of(a.data(), {6}), f);
  std::vector<double> want = a;
  std::stable_sort(want.begin(), want.end(), [&](double x, double y) {
    return std::abs(x - f) < std::abs(y - f);
  });
  EXPECT_EQ(valuesOf<double>(r[0], {6}), want);
  size_t far = 0;
  for (size_t i = 1; i < a.size(); ++i)
    if (std::abs(a[i] - f) > std::abs(a[far] - f))
      far = i;
  EXPECT_EQ(r[1].asInt(), static_cast<int64_t>(far));
}

TEST(FunctionValues, WritesThroughAFunctionValue) {
  std::vector<double> a = {1, 2, 3, 4}, b(4, 0.0);
  stn::Value r = module().kernel("fill_through")(stn::ArrayView::of(a.data(), {4}),
                                                 stn::ArrayView::of(b.data(), {4}), int64_t{4});
  EXPECT_EQ(b, (std::vector<double>{2, 4, 6, 8}));
  EXPECT_EQ(r.asDouble(), 20.0);
  std::vector<double> c(4, -1.0);
  auto ro = stn::ArrayView::of(c.data(), {4});
  ro.readonly = true;
  std::string e = stn::test::errorOf([&] {
    module().kernel("fill_through")(stn::ArrayView::of(a.data(), {4}), ro, int64_t{4});
  });
  EXPECT_NE(e.find("argument 'b' of kernel 'fill_through' is read-only"), std::string::npos)
      << e;
  EXPECT_EQ(c, (std::vector<double>(4, -1.0)));
}

} // namespace
