//===- RecursionTest.cpp - Recursive @jit functions -----------------------===//
//
// Each recursive kernel against the same recursion (or a loop) in C++:
//   - fib for int32, int64 and float64 arguments; Ackermann; mutual
//     recursion (is_even / is_odd);
//   - a result type inferred across the recursion (an int base case, float
//     recursive cases), a tuple result, keyword and default arguments in
//     the recursive call, a chain of specializations (f(int) calls
//     f(float), which calls itself);
//   - the base case in a conditional expression with the recursion
//     (`return 1 if n <= 1 else n * fact(n - 1)`), also in mutual recursion,
//     and mutual recursion whose base case comes after the call;
//   - a merge sort that returns new arrays (float64, int32, int8), and a
//     flood fill that writes its argument and counts the cells;
//   - the writes a recursion makes to its arguments, also through swapped
//     parameters, refuse a read-only argument (WrittenParams);
//   - RecursionError instead of a stack overflow: on the calling thread, in
//     the threads of a parallel loop, on a thread with a small stack; the
//     engine works normally afterwards;
//   - a recursive kernel comes back from the on-disk cache.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

@njit
def ackermann(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))

@njit
def is_even(n):
    if n == 0:
        return True
    return is_odd(n - 1)

@njit
def is_odd(n):
    if n == 0:
        return False
    return is_even(n - 1)

@njit
def halves(n):
    if n >= 1:
        return halves(n - 1) / 2
    return 1

@njit
def fib_pair(n):
    if n == 0:
        return 0, 1
    a, b = fib_pair(n - 1)
    return b, a + b

@njit
def power(x, n=2, acc=1.0):
    if n == 0:
        return acc
    return power(x, acc=acc * x, n=n - 1)

@njit
def grow(x):
    if x > 100:
        return x
    return grow(x * 1.5 + 1)

@njit
def merge_sort(a):
    n = len(a)
    if n <= 1:
        return a.copy()
    mid = n // 2
    left = merge_sort(a[:mid])
    right = merge_sort(a[mid:])
    out = np.empty(n, a.dtype)
    i = 0
    j = 0
    for k in range(n):
        if j >= len(right) or (i < len(left) and left[i] <= right[j]):
            out[k] = left[i]
            i += 1
        else:
            out[k] = right[j]
            j += 1
    return out

@njit
def flood(img, i, j, old, new):
    if i < 0 or j < 0 or i >= img.shape[0] or j >= img.shape[1]:
        return 0
    if img[i, j] != old:
        return 0
    img[i, j] = new
    return (1 + flood(img, i + 1, j, old, new) + flood(img, i - 1, j, old, new) +
            flood(img, i, j + 1, old, new) + flood(img, i, j - 1, old, new))

@njit
def swap_write(a, b, n):
    if n == 0:
        a[0] = 1.0
        return
    swap_write(b, a, n - 1)

@njit
def chain(a, i):
    if i == len(a):
        return 0.0
    s = chain(a, i + 1)
    return s * 0.5 + a[i]

@njit
def chain_of(n):
    return chain(np.ones(n), 0)

@njit(parallel=True)
def chains(n, m):
    out = np.zeros(m)
    a = np.ones(n)
    for j in prange(m):
        out[j] = chain(a, 0) + j
    return out

@njit(parallel=True)
def fibs(n):
    out = np.zeros(n, np.int64)
    for i in prange(n):
        out[i] = fib(i)
    return out

@njit
def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)

@njit
def fib_expr(n):
    return n if n < 2 else fib_expr(n - 1) + fib_expr(n - 2)

@njit
def mixed(n):
    return fact(n) * 1.5 if n > 3 else (0 if n < 0 else mixed(n + 1) + 1)

@njit
def steps(n):
    if n <= 0:
        return 0.0
    return steps(n - 1) * 0.5 + 1.0 if n % 2 == 0 else steps(n - 2) * 0.5 + 2.0

@njit
def even_expr(n):
    return True if n == 0 else odd_expr(n - 1)

@njit
def odd_expr(n):
    return False if n == 0 else even_expr(n - 1)

@njit
def even_late(n):
    if n != 0:
        return odd_late(n - 1)
    return True

@njit
def odd_late(n):
    if n != 0:
        return even_late(n - 1)
    return False

@njit
def ring_f(k):
    return 0.5 if k <= 0 else ring_g(k - 1) + 1

@njit
def ring_g(k):
    return ring_h(k) * 2

@njit
def ring_h(k):
    return ring_f(k) if k % 2 == 0 else ring_f(k - 1)
)STN";

int64_t cppFib(int64_t n) { return n < 2 ? n : cppFib(n - 1) + cppFib(n - 2); }

int64_t cppAckermann(int64_t m, int64_t n) {
  if (m == 0)
    return n + 1;
  if (n == 0)
    return cppAckermann(m - 1, 1);
  return cppAckermann(m - 1, cppAckermann(m, n - 1));
}

double cppSteps(int64_t n) {
  if (n <= 0)
    return 0.0;
  return n % 2 == 0 ? cppSteps(n - 1) * 0.5 + 1.0 : cppSteps(n - 2) * 0.5 + 2.0;
}

/// chain(ones(n), 0): s = s * 0.5 + 1 from the last element to the first.
double cppChain(int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i)
    s = s * 0.5 + 1.0;
  return s;
}

stn::Module &module() {
  static stn::Engine engine(stn::test::noCache());
  static stn::Module m = engine.loadString(Kernels, "recursion.stn");
  return m;
}

TEST(Recursion, FibForEachArgumentType) {
  for (int64_t n = 0; n <= 20; ++n) {
    int64_t want = cppFib(n);
    EXPECT_EQ(module().kernel("fib")(n).asInt(), want) << n;
    EXPECT_EQ(module().kernel("fib")(static_cast<int32_t>(n)).asInt(), want) << n;
    // float64: n - 1 and n - 2 stay float64, as the result does.
    EXPECT_EQ(module().kernel("fib")(static_cast<double>(n)).asDouble(),
              static_cast<double>(want))
        << n;
  }
}

// The base case and the recursion in one conditional expression: the
// branches without the call type the result (float64 in `mixed`: its
// branches give float64 and int64).
TEST(Recursion, BaseCaseInAConditionalExpression) {
  int64_t f = 1;
  for (int64_t n = 0; n <= 20; ++n) {
    f *= std::max<int64_t>(n, 1);
    EXPECT_EQ(module().kernel("fact")(n).asInt(), f) << n;
    EXPECT_EQ(module().kernel("fib_expr")(n).asInt(), cppFib(n)) << n;
  }
  // mixed(n) for n <= 3 climbs to mixed(4) = 4! * 1.5 = 36, adding 1 a step.
  for (int64_t n = -2; n <= 6; ++n) {
    double fn = 1;
    for (int64_t k = 2; k <= n; ++k)
      fn *= static_cast<double>(k);
    double want = n < 0 ? 0.0 : n > 3 ? fn * 1.5 : 36.0 + static_cast<double>(4 - n);
    stn::Value r = module().kernel("mixed")(n);
    EXPECT_EQ(r.asDouble(), want) << n;
  }
  EXPECT_NE(errorOf([] { module().kernel("fact")(int64_t{100000000}); })
                .find("RecursionError: maximum recursion depth exceeded in 'fact'"),
            std::string::npos);
}

TEST(Recursion, AckermannAndMutualRecursion) {
  for (int64_t m = 0; m <= 2; ++m)
    for (int64_t n = 0; n <= 4; ++n)
      EXPECT_EQ(module().kernel("ackermann")(m, n).asInt(), cppAckermann(m, n)) << m << n;
  EXPECT_EQ(module().kernel("ackermann")(int64_t{3}, int64_t{3}).asInt(), 61);
  for (int64_t n = 0; n <= 25; ++n) {
    EXPECT_EQ(module().kernel("is_even")(n).asBool(), n % 2 == 0) << n;
    EXPECT_EQ(module().kernel("is_odd")(n).asBool(), n % 2 == 1) << n;
  }
}

// Mutual recursion whose base case the first function reaches only after
// the call into the other one: in a conditional expression, or in a later
// return statement; and a ring of three functions whose result (float64)
// comes from the first one's base case.
double cppRingF(int64_t k);
double cppRingH(int64_t k) { return k % 2 == 0 ? cppRingF(k) : cppRingF(k - 1); }
double cppRingF(int64_t k) { return k <= 0 ? 0.5 : cppRingH(k - 1) * 2 + 1; }

TEST(Recursion, MutualRecursionWithTheBaseCaseAfterTheCall) {
  for (int64_t n = 0; n <= 25; ++n) {
    for (const char *name : {"even_expr", "even_late"})
      EXPECT_EQ(module().kernel(name)(n).asBool(), n % 2 == 0) << name << " " << n;
    for (const char *name : {"odd_expr", "odd_late"})
      EXPECT_EQ(module().kernel(name)(n).asBool(), n % 2 == 1) << name << " " << n;
  }
  for (int64_t k = -1; k <= 12; ++k) {
    stn::Value v = module().kernel("ring_f")(k);
    EXPECT_EQ(v.asDouble(), cppRingF(k)) << k;
  }
}

TEST(Recursion, ResultTypesAcrossTheRecursion) {
  // An int base case and float recursive cases: float64 throughout.
  for (int64_t n = 0; n <= 10; ++n) {
    stn::Value v = module().kernel("halves")(n);
    EXPECT_EQ(v.asDouble(), std::ldexp(1.0, static_cast<int>(-n))) << n;
  }
  // A tuple result.
  int64_t a = 0, b = 1;
  for (int64_t n = 0; n <= 30; ++n) {
    stn::Value v = module().kernel("fib_pair")(n);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].asInt(), a) << n;
    EXPECT_EQ(v[1].asInt(), b) << n;
    int64_t next = a + b;
    a = b;
    b = next;
  }
  // Keywords and default values in the recursive call.
  EXPECT_EQ(module().kernel("power")(3.0).asDouble(), 9.0);
  EXPECT_EQ(module().kernel("power")(2.0, int64_t{10}).asDouble(), 1024.0);
  // grow(int) calls grow(float64), which calls itself.
  double x = 1.0;
  while (!(x > 100))
    x = x * 1.5 + 1;
  EXPECT_EQ(module().kernel("grow")(int64_t{1}).asDouble(), x);
}

template <class T> void checkMergeSort(std::mt19937 &rng) {
  std::uniform_int_distribution<int> d(-100, 100);
  for (int64_t n : {0, 1, 2, 3, 7, 64, 1000}) {
    std::vector<T> a(static_cast<size_t>(n));
    for (auto &v : a)
      v = static_cast<T>(d(rng));
    std::vector<T> want = a;
    std::sort(want.begin(), want.end());
    stn::Value r = module().kernel("merge_sort")(stn::ArrayView::of(a.data(), {n}));
    EXPECT_EQ(valuesOf<T>(r, {n}), want) << n;
  }
}

TEST(Recursion, MergeSortReturnsNewArrays) {
  std::mt19937 rng(3);
  checkMergeSort<double>(rng);
  checkMergeSort<int32_t>(rng);
  checkMergeSort<int8_t>(rng);
}

TEST(Recursion, FloodFillWritesItsArgument) {
  std::mt19937 rng(8);
  std::bernoulli_distribution open(0.6);
  const int64_t rows = 40, cols = 50;
  std::vector<int64_t> img(rows * cols);
  for (auto &v : img)
    v = open(rng) ? 1 : 0;
  img[0] = 1;
  // Reference: breadth-first search over the 4-neighbourhood.
  std::vector<int64_t> want = img;
  int64_t count = 0;
  std::queue<std::pair<int64_t, int64_t>> todo;
  todo.push({0, 0});
  while (!todo.empty()) {
    auto [i, j] = todo.front();
    todo.pop();
    if (i < 0 || j < 0 || i >= rows || j >= cols || want[i * cols + j] != 1)
      continue;
    want[i * cols + j] = 7;
    ++count;
    for (auto [di, dj] : {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}})
      todo.push({i + di, j + dj});
  }
  stn::Value r = module().kernel("flood")(stn::ArrayView::of(img.data(), {rows, cols}), int64_t{0},
                                          int64_t{0}, int64_t{1}, int64_t{7});
  EXPECT_EQ(r.asInt(), count);
  EXPECT_GT(count, 1);
  EXPECT_EQ(img, want);
}

TEST(Recursion, WritesThroughTheRecursionRefuseReadOnlyArguments) {
  std::vector<double> x = {0, 0}, y = {0, 0};
  auto rw = stn::ArrayView::of(x.data(), {2});
  auto ro = stn::ArrayView::of(y.data(), {2});
  ro.readonly = true;
  // swap_write(a, b, n) writes a where n is even and b where it is odd:
  // the analysis must see both through the swapped recursive call.
  std::string e = errorOf([&] { module().kernel("swap_write")(rw, ro, int64_t{1}); });
  EXPECT_NE(e.find("argument 'b' of kernel 'swap_write' is read-only"), std::string::npos) << e;
  module().kernel("swap_write")(rw, stn::ArrayView::of(y.data(), {2}), int64_t{1});
  EXPECT_EQ(y[0], 1.0);
  EXPECT_EQ(x[0], 0.0);
}

TEST(Recursion, RecursionErrorInsteadOfAStackOverflow) {
  EXPECT_EQ(module().kernel("chain_of")(int64_t{1000}).asDouble(), cppChain(1000));
  std::string e = errorOf([] { module().kernel("chain_of")(int64_t{1000000}); });
  EXPECT_NE(e.find("recursion.stn:97:9: error: RecursionError: maximum recursion depth "
                   "exceeded in 'chain' (the thread's stack is nearly full)"),
            std::string::npos)
      << e;
  // Recursive calls inside a conditional expression check the stack too.
  for (int64_t n : {0, 1, 2, 7, 1000})
    EXPECT_EQ(module().kernel("steps")(n).asDouble(), cppSteps(n)) << n;
  e = errorOf([] { module().kernel("steps")(int64_t{4000000}); });
  EXPECT_NE(e.find("RecursionError: maximum recursion depth exceeded in 'steps'"),
            std::string::npos)
      << e;
  // The engine goes on normally.
  EXPECT_EQ(module().kernel("chain_of")(int64_t{20000}).asDouble(), cppChain(20000));
  EXPECT_EQ(module().kernel("fib")(int64_t{15}).asInt(), cppFib(15));
}

TEST(Recursion, RecursionInParallelLoops) {
  stn::Value r = module().kernel("fibs")(int64_t{25});
  std::vector<int64_t> want;
  for (int64_t i = 0; i < 25; ++i)
    want.push_back(cppFib(i));
  EXPECT_EQ(valuesOf<int64_t>(r, {25}), want);
  r = module().kernel("chains")(int64_t{300}, int64_t{16});
  std::vector<double> chainsWant;
  for (int j = 0; j < 16; ++j)
    chainsWant.push_back(cppChain(300) + j);
  EXPECT_EQ(valuesOf<double>(r, {16}), chainsWant);
  // Each thread checks its own stack.
  std::string e = errorOf([] { module().kernel("chains")(int64_t{1000000}, int64_t{4}); });
  EXPECT_NE(e.find("RecursionError: maximum recursion depth exceeded in 'chain'"),
            std::string::npos)
      << e;
}

TEST(Recursion, SmallThreadStacks) {
  // A host thread with a 256 KiB stack: the limit follows its stack.
  struct Result {
    std::string error;
    double value = 0;
  } result;
  auto body = [](void *p) -> void * {
    auto *res = static_cast<Result *>(p);
    res->error = errorOf([] { module().kernel("chain_of")(int64_t{1000000}); });
    res->value = module().kernel("chain_of")(int64_t{100}).asDouble();
    return nullptr;
  };
  // Compile on this thread first: compiling needs more stack than that.
  module().kernel("chain_of")(int64_t{1});
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, size_t{256} << 10);
  pthread_t t;
  ASSERT_EQ(pthread_create(&t, &attr, body, &result), 0);
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_NE(result.error.find("RecursionError"), std::string::npos) << result.error;
  EXPECT_EQ(result.value, cppChain(100));
}

TEST(Recursion, ComesBackFromTheCache) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "stn-recursion-cache-test";
  fs::remove_all(dir);
  stn::EngineOptions o;
  o.cacheDir = dir.string();
  for (int run = 0; run < 2; ++run) {
    stn::Engine engine(o);
    stn::Module m = engine.loadString(Kernels, "recursion.stn");
    EXPECT_EQ(m.kernel("fib")(int64_t{20}).asInt(), cppFib(20)) << run;
    EXPECT_TRUE(m.kernel("is_even")(int64_t{10}).asBool()) << run;
    if (run == 0)
      EXPECT_GT(engine.cacheStats().compilations, 0u);
    else
      EXPECT_EQ(engine.cacheStats().compilations, 0u);
  }
  fs::remove_all(dir);
}

} // namespace
