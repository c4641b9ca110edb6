//===- ListTest.cpp - Lists in kernels: displays, methods, views ----------===//
//
// Each kernel against the same steps written in C++ with std::vector:
//   - `[]` grown by append in a loop (past several capacity doublings) and
//     returned (the caller gets a 1-d array; also inside a returned
//     tuple), for int8, int64, float32,
//     float64, complex128 and bool items;
//   - the element kind of `[1, 2]` widened by an appended float, and `[]`
//     that nothing is appended to (float64, as np.array([]));
//   - insert (negative and clamped positions), pop (last, by position,
//     negative), extend by a list, by itself and by an array, clear and
//     copy (a copy does not follow the original);
//   - element reads and writes, negative indices, `+=` on an element;
//   - loops over lists (plain, enumerate, zip with an array), `in`, len;
//   - lists passed to NumPy functions (np.sum, np.array, np.asarray,
//     np.sort) and lists made inside a prange body;
//   - arguments that change the list (xs.insert(0, xs.pop())) and the
//     truth of a list (`while xs:`, `if not xs:`);
//   - pop from an empty list and pop(i) out of range raise IndexError with
//     the kernel's location;
//   - `xs + ys` (kinds promoted, `[]` on either side), `n * xs` and
//     `xs * n` (n <= 0: empty), `xs += ys` (a list, an array, itself) and
//     `xs *= n`; a list plus an array is NumPy's elementwise sum;
//   - list() of nothing, of an array (a copy), a range and a generator;
//     sorted() of an array, a list and a generator, reverse= or not;
//   - slices xs[a:b:c] (new lists) for bounds past either end, negative
//     bounds and steps, against Python's slice rules written in C++, and
//     `del xs[a:b:c]` of the same slices;
//   - slice assignment xs[a:b:c] = ys for the same slices and 0, 1 or 3
//     new items (a step of 1 resizes the list; another needs as many
//     items as the slice has, else ValueError), also of an array;
//   - a random sequence of append, remove, index, count, reverse, sort
//     (reverse= or not), `del xs[i]` (negative i too) and insert.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def positives(a):
    out = []
    for x in a:
        if x > 0:
            out.append(x)
    return out

@njit
def squares_mod(n):
    out = []
    for i in range(n):
        out.append(i * i % 7 == 1)
    return out

@njit
def widened(x):
    xs = [1, 2]
    xs.append(x)
    return xs

@njit
def nothing(n):
    xs = []
    return xs

@njit
def edits(n):
    xs = [10, 20, 30]
    xs.insert(1, 15)
    xs.insert(-1, 25)
    xs.insert(100, 40)
    xs.insert(-100, 5)
    a = xs.pop()
    b = xs.pop(0)
    c = xs.pop(-2)
    xs.extend([n, n + 1])
    xs.extend(xs)
    ys = xs.copy()
    ys.append(99)
    xs[0] = -1
    xs[-1] += 1000
    return np.array(xs), np.array(ys), a * 10000 + b * 100 + c

@njit
def extend_array(a):
    xs = [0.5]
    xs.extend(a)
    xs.extend(a[::2])
    return xs

@njit
def cleared(a):
    xs = [1.0, 2.0]
    xs.clear()
    for x in a:
        xs.append(x * 2)
    return xs

@njit
def loops(a):
    xs = [3.0, -1.0, 4.0]
    s = 0.0
    for i, x in enumerate(xs):
        s += (i + 1) * x
    for x, y in zip(xs, a):
        s += x * y
    found = 0
    if 4.0 in xs:
        found += 1
    if 5.0 not in xs:
        found += 10
    return s, found, len(xs)

@njit
def numpy_of_list(a):
    xs = []
    for x in a:
        xs.append(x)
    v = np.asarray(xs)
    xs.append(100.0)
    return np.sum(xs), v, np.sort(xs)

@njit(parallel=True)
def prefix_sums(a):
    out = np.zeros(len(a))
    for i in prange(len(a)):
        ys = []
        for j in range(i + 1):
            ys.append(a[j])
        out[i] = np.sum(ys)
    return out

@njit
def rotate(a, k):
    xs = []
    for x in a:
        xs.append(x)
    for i in range(k):
        xs.insert(0, xs.pop())
    xs.append(xs.pop(0))
    ys = xs.copy()
    n = 0
    while xs:
        if xs[-1] > 0:
            n += 1
        xs.pop()
    if not xs:
        n += 100
    return np.array(ys), n, len(xs)

@njit
def two_lists(a):
    xs = []
    ys = [0]
    for x in a:
        if x % 2 == 0:
            xs.append(x)
        else:
            ys.append(x * 1.5)
    return xs, ys, len(xs)

@njit
def pop_at(i):
    xs = [1, 2, 3]
    return xs.pop(i) * 10 + len(xs)

@njit
def drain(n):
    xs = [1, 2]
    s = 0
    for i in range(n):
        s += xs.pop()
    return s

@njit
def joined(a, n):
    xs = [1, 2] + [0.5]
    ys = [] + xs + np.ones(3) * len(a)
    zs = n * [7, 8]
    ws = [3] * n + [] * 5
    zs.append(9)
    return xs, ys, zs, ws

@njit
def made_by_list(a, n, rev):
    xs = list(a)
    xs[0] = 99.0
    ys = list(range(n, 0, -2))
    zs = list(x * 2 for x in a if x > 0)
    e = list()
    e.append(n)
    xs.append(100.0)
    return xs, ys, zs, e, sorted(a), sorted(list(a), reverse=rev), sorted(x % 3 for x in ys)

@njit
def sliced(n, lo, hi, step):
    xs = [i * 10 for i in range(n)]
    ys = xs[lo:hi:step]
    ys.append(-1)
    return ys, xs[lo:], xs[:hi], xs[::step]

@njit
def reordered(xs0, ops, args):
    xs = list(xs0)
    got = 0
    for k in range(len(ops)):
        op = ops[k]
        x = args[k]
        if op == 0:
            xs.append(x)
        elif op == 1:
            if x in xs:
                xs.remove(x)
        elif op == 2:
            if x in xs:
                got = got * 7 % 1000003 + xs.index(x)
        elif op == 3:
            got = got * 7 % 1000003 + xs.count(x)
        elif op == 4:
            xs.reverse()
        elif op == 5:
            xs.sort()
        elif op == 6:
            xs.sort(reverse=x % 2 == 1)
        elif op == 7:
            if xs:
                i = x % len(xs)
                if x % 2 == 1:
                    i -= len(xs)
                del xs[i]
        else:
            xs.insert(x % 5, x)
    return xs, got

@njit
def deleted(n, lo, hi, step):
    xs = [i * 10 for i in range(n)]
    ys = xs.copy()
    del ys[lo:hi:step]
    zs = xs.copy()
    del zs[lo:hi]
    ws = xs.copy()
    del ws[lo:], xs[:hi]
    return ys, zs, ws, xs

@njit
def slice_assigned(n, lo, hi, step, m):
    xs = [i * 10 for i in range(n)]
    ys = [-(j + 1) for j in range(m)]
    zs = xs.copy()
    xs[lo:hi:step] = ys
    zs[lo:hi] = np.array(ys)
    return xs, zs

@njit
def aug_ops(a, n):
    xs = [1, 2]
    xs += [3]
    xs += a
    xs += xs
    ys = [1.5, -2.0]
    ys *= n
    return xs, ys, [x for x in a] + [x * 2 for x in a]
)STN";

class Lists : public ::testing::Test {
protected:
  Lists() : Mod(Engine.loadString(Kernels, "lists.stn")) {}
  stn::Engine Engine{stn::test::noCache()};
  stn::Module Mod;

  template <class T> void checkPositives(std::vector<T> a) {
    std::vector<T> want;
    for (T x : a)
      if (x > T(0))
        want.push_back(x);
    auto r = Mod.kernel("positives")(stn::ArrayView::of(a.data(), {int64_t(a.size())}));
    EXPECT_EQ(valuesOf<T>(r, {int64_t(want.size())}), want);
  }
};

TEST_F(Lists, AppendGrowsAndReturnsAnArray) {
  std::vector<double> d(1000);
  for (size_t i = 0; i < d.size(); ++i)
    d[i] = double(int(i % 17) - 8) * 0.5;
  checkPositives(d);
  checkPositives(std::vector<float>{1.5f, -2.0f, 0.0f, 3.0f});
  checkPositives(std::vector<int8_t>{-128, 127, 1, 0, -1, 5});
  checkPositives(std::vector<int64_t>{});
  std::vector<int64_t> big(300);
  std::iota(big.begin(), big.end(), -150);
  checkPositives(big);

  for (int64_t n : {0, 1, 5, 64}) {
    std::vector<uint8_t> want;
    for (int64_t i = 0; i < n; ++i)
      want.push_back(i * i % 7 == 1);
    auto r = Mod.kernel("squares_mod")(n);
    EXPECT_EQ(r.array().dtype(), stn::DType::Bool);
    EXPECT_EQ(valuesOf<uint8_t>(r, {n}), want) << n;
  }
}

TEST_F(Lists, ElementKinds) {
  auto w = Mod.kernel("widened")(2.5);
  EXPECT_EQ(w.array().dtype(), stn::DType::Float64);
  EXPECT_EQ(valuesOf<double>(w, {3}), (std::vector<double>{1, 2, 2.5}));
  auto z = Mod.kernel("widened")(std::complex<double>(0, 1));
  EXPECT_EQ(z.array().dtype(), stn::DType::Complex128);
  EXPECT_EQ(valuesOf<std::complex<double>>(z, {3}),
            (std::vector<std::complex<double>>{{1, 0}, {2, 0}, {0, 1}}));
  auto i = Mod.kernel("widened")(int64_t(7));
  EXPECT_EQ(i.array().dtype(), stn::DType::Int64);
  EXPECT_EQ(valuesOf<int64_t>(i, {3}), (std::vector<int64_t>{1, 2, 7}));
  auto e = Mod.kernel("nothing")(int64_t(1));
  EXPECT_EQ(e.array().dtype(), stn::DType::Float64);
  EXPECT_EQ(e.array().shape(), (std::vector<int64_t>{0}));
}

TEST_F(Lists, InsertPopExtendCopy) {
  for (int64_t n : {0, 7}) {
    // The same steps on a std::vector (Python's clamping of insert
    // positions written out).
    std::vector<int64_t> xs = {10, 20, 30};
    xs.insert(xs.begin() + 1, 15);
    xs.insert(xs.end() - 1, 25);
    xs.insert(xs.end(), 40);
    xs.insert(xs.begin(), 5);
    int64_t a = xs.back();
    xs.pop_back();
    int64_t b = xs.front();
    xs.erase(xs.begin());
    int64_t c = xs[xs.size() - 2];
    xs.erase(xs.end() - 2);
    xs.push_back(n);
    xs.push_back(n + 1);
    std::vector<int64_t> twice = xs;
    xs.insert(xs.end(), twice.begin(), twice.end());
    std::vector<int64_t> ys = xs;
    ys.push_back(99);
    xs[0] = -1;
    xs.back() += 1000;

    auto r = Mod.kernel("edits")(n);
    int64_t len = int64_t(xs.size());
    EXPECT_EQ(valuesOf<int64_t>(r[0], {len}), xs) << n;
    EXPECT_EQ(valuesOf<int64_t>(r[1], {len + 1}), ys) << n;
    EXPECT_EQ(r[2].asInt(), a * 10000 + b * 100 + c) << n;
  }

  std::vector<int32_t> a = {3, 1, 4, 1, 5};
  std::vector<double> want = {0.5, 3, 1, 4, 1, 5, 3, 4, 5};
  auto r = Mod.kernel("extend_array")(stn::ArrayView::of(a.data(), {5}));
  EXPECT_EQ(valuesOf<double>(r, {9}), want);

  std::vector<double> c = {1, -2, 3};
  EXPECT_EQ(valuesOf<double>(Mod.kernel("cleared")(stn::ArrayView::of(c.data(), {3})), {3}),
            (std::vector<double>{2, -4, 6}));
}

TEST_F(Lists, LoopsMembershipAndLen) {
  std::vector<double> a = {2, 0.5};
  std::vector<double> xs = {3, -1, 4};
  double s = 0;
  for (size_t i = 0; i < xs.size(); ++i)
    s += double(i + 1) * xs[i];
  for (size_t i = 0; i < 2; ++i)
    s += xs[i] * a[i];
  auto r = Mod.kernel("loops")(stn::ArrayView::of(a.data(), {2}));
  EXPECT_EQ(r[0].asDouble(), s);
  EXPECT_EQ(r[1].asInt(), 11);
  EXPECT_EQ(r[2].asInt(), 3);
}

TEST_F(Lists, NumPyFunctionsTakeLists) {
  std::vector<double> a = {4, -1, 2.5, 8};
  auto r = Mod.kernel("numpy_of_list")(stn::ArrayView::of(a.data(), {4}));
  EXPECT_EQ(r[0].asDouble(), 4 - 1 + 2.5 + 8 + 100);
  // np.asarray copied the items: the later append does not reach it.
  EXPECT_EQ(valuesOf<double>(r[1], {4}), a);
  std::vector<double> sorted = a;
  sorted.push_back(100);
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(valuesOf<double>(r[2], {5}), sorted);
}

TEST_F(Lists, MadeInsideParallelLoops) {
  std::vector<double> a(200);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = double(i % 11) - 3;
  std::vector<double> want(a.size());
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    want[i] = (s += a[i]);
  auto r = Mod.kernel("prefix_sums")(stn::ArrayView::of(a.data(), {200}));
  EXPECT_EQ(valuesOf<double>(r, {200}), want);
}

TEST_F(Lists, ArgumentsThatChangeTheListAndTruth) {
  // The arguments of a method are evaluated before it reads the list, as in
  // Python: xs.insert(0, xs.pop()) rotates.
  std::vector<int16_t> a = {4, -1, 7, 0, 3};
  auto r = Mod.kernel("rotate")(stn::ArrayView::of(a.data(), {5}), int64_t(2));
  std::vector<int16_t> xs = a;
  for (int i = 0; i < 2; ++i) {
    int16_t last = xs.back();
    xs.pop_back();
    xs.insert(xs.begin(), last);
  }
  xs.push_back(xs.front());
  xs.erase(xs.begin());
  int64_t n = 100;
  for (int16_t x : xs)
    n += x > 0;
  EXPECT_EQ(valuesOf<int16_t>(r[0], {5}), xs);
  EXPECT_EQ(r[1].asInt(), n);
  EXPECT_EQ(r[2].asInt(), 0);
}

TEST_F(Lists, ListsInAReturnedTuple) {
  std::vector<int32_t> a = {4, 7, -2, 9, 0, 3};
  std::vector<int32_t> even;
  std::vector<double> odd = {0};
  for (int32_t x : a)
    if (x % 2 == 0)
      even.push_back(x);
    else
      odd.push_back(x * 1.5);
  auto r = Mod.kernel("two_lists")(stn::ArrayView::of(a.data(), {6}));
  EXPECT_EQ(valuesOf<int32_t>(r[0], {int64_t(even.size())}), even);
  EXPECT_EQ(valuesOf<double>(r[1], {int64_t(odd.size())}), odd);
  EXPECT_EQ(r[2].asInt(), int64_t(even.size()));
}

TEST_F(Lists, PopFromAnEmptyListRaises) {
  EXPECT_EQ(Mod.kernel("drain")(int64_t(2)).asInt(), 3);
  std::string msg = errorOf([&] { Mod.kernel("drain")(int64_t(3)); });
  EXPECT_NE(msg.find("IndexError: pop from empty list"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lists.stn:"), std::string::npos) << msg;
  // pop(i): Python's positions (negative ones from the end), else IndexError.
  std::vector<int64_t> xs = {1, 2, 3};
  for (int64_t i : {0, 2, -1, -3})
    EXPECT_EQ(Mod.kernel("pop_at")(i).asInt(), xs[size_t(i < 0 ? i + 3 : i)] * 10 + 2) << i;
  for (int64_t i : {3, -4}) {
    std::string m = errorOf([&] { Mod.kernel("pop_at")(i); });
    EXPECT_NE(m.find("IndexError: pop index out of range"), std::string::npos) << i << m;
  }
}

TEST_F(Lists, JoinRepeatAndAugmentedAssignment) {
  std::vector<double> a = {4, -1.5};
  for (int64_t n : {-1, 0, 1, 3}) {
    auto r = Mod.kernel("joined")(stn::ArrayView::of(a.data(), {2}), n);
    EXPECT_EQ(valuesOf<double>(r[0], {3}), (std::vector<double>{1, 2, 0.5})) << n;
    // ([] + xs) + an array: a list plus an array is the elementwise sum.
    EXPECT_EQ(valuesOf<double>(r[1], {3}), (std::vector<double>{3, 4, 2.5})) << n;
    std::vector<double> zs, ws;
    for (int64_t i = 0; i < n; ++i) {
      zs.insert(zs.end(), {7, 8});
      ws.push_back(3);
    }
    zs.push_back(9);
    EXPECT_EQ(valuesOf<int64_t>(r[2], {int64_t(zs.size())}),
              std::vector<int64_t>(zs.begin(), zs.end()))
        << n;
    EXPECT_EQ(valuesOf<int64_t>(r[3], {int64_t(ws.size())}),
              std::vector<int64_t>(ws.begin(), ws.end()))
        << n;
  }
  for (int64_t n : {0, 2, 5}) {
    auto r = Mod.kernel("aug_ops")(stn::ArrayView::of(a.data(), {2}), n);
    std::vector<double> xs = {1, 2, 3, 4, -1.5};
    std::vector<double> twice = xs;
    xs.insert(xs.end(), twice.begin(), twice.end());
    EXPECT_EQ(valuesOf<double>(r[0], {10}), xs) << n;
    std::vector<double> ys;
    for (int64_t i = 0; i < n; ++i)
      ys.insert(ys.end(), {1.5, -2.0});
    EXPECT_EQ(valuesOf<double>(r[1], {int64_t(ys.size())}), ys) << n;
    EXPECT_EQ(valuesOf<double>(r[2], {4}), (std::vector<double>{4, -1.5, 8, -3})) << n;
  }
}

TEST_F(Lists, ListAndSortedMakeNewLists) {
  std::vector<double> a = {2.5, -1, 7, 0, -3};
  for (bool rev : {false, true})
    for (int64_t n : {0, 1, 6, 7}) {
      auto r = Mod.kernel("made_by_list")(stn::ArrayView::of(a.data(), {5}), n, rev);
      std::vector<double> xs = a;
      xs[0] = 99;
      xs.push_back(100);
      EXPECT_EQ(valuesOf<double>(r[0], {6}), xs);
      EXPECT_EQ(a[0], 2.5); // list(a) copied: writing the list leaves the array
      std::vector<int64_t> ys;
      for (int64_t i = n; i > 0; i -= 2)
        ys.push_back(i);
      EXPECT_EQ(valuesOf<int64_t>(r[1], {int64_t(ys.size())}), ys) << n;
      EXPECT_EQ(valuesOf<double>(r[2], {2}), (std::vector<double>{5, 14}));
      EXPECT_EQ(valuesOf<int64_t>(r[3], {1}), std::vector<int64_t>{n});
      std::vector<double> up = {-3, -1, 0, 2.5, 7};
      EXPECT_EQ(valuesOf<double>(r[4], {5}), up);
      std::vector<double> down = up;
      if (rev)
        std::reverse(down.begin(), down.end());
      EXPECT_EQ(valuesOf<double>(r[5], {5}), down) << rev;
      std::vector<int64_t> mods;
      for (int64_t y : ys)
        mods.push_back(y % 3);
      std::sort(mods.begin(), mods.end());
      EXPECT_EQ(valuesOf<int64_t>(r[6], {int64_t(mods.size())}), mods) << n;
    }
}

/// Python's xs[lo:hi:step] of xs = [0, 10, ..., 10 * (n - 1)] (step != 0).
std::vector<int64_t> pythonSlice(int64_t n, std::optional<int64_t> lo, std::optional<int64_t> hi,
                                 int64_t step) {
  auto clamp = [&](int64_t v, int64_t low, int64_t high) {
    if (v < 0)
      v += n;
    return std::min(std::max(v, low), high);
  };
  int64_t start = step > 0 ? (lo ? clamp(*lo, 0, n) : 0) : (lo ? clamp(*lo, -1, n - 1) : n - 1);
  int64_t stop = step > 0 ? (hi ? clamp(*hi, 0, n) : n) : (hi ? clamp(*hi, -1, n - 1) : -1);
  std::vector<int64_t> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
    out.push_back(i * 10);
  return out;
}

TEST_F(Lists, SlicesAreNewLists) {
  for (int64_t n : {0, 1, 7})
    for (int64_t lo : {-9, -2, 0, 3, 12})
      for (int64_t hi : {-8, -1, 2, 6, 20})
        for (int64_t step : {-3, -1, 1, 2}) {
          SCOPED_TRACE("n=" + std::to_string(n) + " lo=" + std::to_string(lo) +
                       " hi=" + std::to_string(hi) + " step=" + std::to_string(step));
          auto r = Mod.kernel("sliced")(n, lo, hi, step);
          std::vector<int64_t> want = pythonSlice(n, lo, hi, step);
          want.push_back(-1);
          EXPECT_EQ(valuesOf<int64_t>(r[0], {int64_t(want.size())}), want);
          auto from = pythonSlice(n, lo, std::nullopt, 1);
          EXPECT_EQ(valuesOf<int64_t>(r[1], {int64_t(from.size())}), from);
          auto upto = pythonSlice(n, std::nullopt, hi, 1);
          EXPECT_EQ(valuesOf<int64_t>(r[2], {int64_t(upto.size())}), upto);
          auto every = pythonSlice(n, std::nullopt, std::nullopt, step);
          EXPECT_EQ(valuesOf<int64_t>(r[3], {int64_t(every.size())}), every);
        }
  std::string e =
      errorOf([&] { Mod.kernel("sliced")(int64_t(3), int64_t(0), int64_t(2), int64_t(0)); });
  EXPECT_NE(e.find("ValueError: slice step cannot be zero"), std::string::npos) << e;
}

TEST_F(Lists, RemoveIndexCountReverseSortDelete) {
  // A random sequence of the methods on a list of small numbers (repeats
  // are common), against the same steps on a std::vector.
  for (uint64_t seed : {1u, 2u, 3u}) {
    const size_t n = 3000;
    std::vector<int64_t> start = {4, 1, 4, 9}, ops(n), args(n);
    uint64_t s = seed * 7919;
    for (size_t i = 0; i < n; ++i) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      // More appends and inserts than removals, so that the list grows.
      uint64_t r = (s >> 33) % 12;
      ops[i] = r >= 9 ? int64_t(r % 2 ? 0 : 8) : int64_t(r);
      args[i] = static_cast<int64_t>((s >> 17) % 23);
    }
    std::vector<int64_t> xs = start;
    int64_t got = 0;
    for (size_t i = 0; i < n; ++i) {
      int64_t x = args[i];
      auto at = std::find(xs.begin(), xs.end(), x);
      switch (ops[i]) {
      case 0:
        xs.push_back(x);
        break;
      case 1:
        if (at != xs.end())
          xs.erase(at);
        break;
      case 2:
        if (at != xs.end())
          got = got * 7 % 1000003 + (at - xs.begin());
        break;
      case 3:
        got = got * 7 % 1000003 + std::count(xs.begin(), xs.end(), x);
        break;
      case 4:
        std::reverse(xs.begin(), xs.end());
        break;
      case 5:
        std::sort(xs.begin(), xs.end());
        break;
      case 6:
        std::sort(xs.begin(), xs.end());
        if (x % 2 == 1)
          std::reverse(xs.begin(), xs.end());
        break;
      case 7:
        if (!xs.empty())
          xs.erase(xs.begin() + x % int64_t(xs.size())); // (a negative i is the same item)
        break;
      default:
        xs.insert(xs.begin() + std::min<int64_t>(x % 5, int64_t(xs.size())), x);
      }
    }
    auto r = Mod.kernel("reordered")(stn::ArrayView::of(start.data(), {4}),
                                     stn::ArrayView::of(ops.data(), {int64_t(n)}),
                                     stn::ArrayView::of(args.data(), {int64_t(n)}));
    EXPECT_EQ(valuesOf<int64_t>(r[0], {int64_t(xs.size())}), xs) << seed;
    EXPECT_EQ(r[1].asInt(), got) << seed;
  }
}

TEST_F(Lists, DelOfSlices) {
  // del xs[lo:hi:step] keeps the items xs[lo:hi:step] does not read.
  auto without = [](int64_t n, std::vector<int64_t> gone) {
    std::vector<int64_t> out;
    for (int64_t i = 0; i < n; ++i)
      if (std::find(gone.begin(), gone.end(), i * 10) == gone.end())
        out.push_back(i * 10);
    return out;
  };
  for (int64_t n : {0, 1, 7, 12})
    for (int64_t lo : {-9, -2, 0, 3, 12})
      for (int64_t hi : {-8, -1, 2, 6, 20})
        for (int64_t step : {-3, -2, -1, 1, 2, 5}) {
          SCOPED_TRACE("n=" + std::to_string(n) + " lo=" + std::to_string(lo) +
                       " hi=" + std::to_string(hi) + " step=" + std::to_string(step));
          auto r = Mod.kernel("deleted")(n, lo, hi, step);
          auto check = [&](const stn::Value &v, const std::vector<int64_t> &want) {
            EXPECT_EQ(valuesOf<int64_t>(v, {int64_t(want.size())}), want);
          };
          check(r[0], without(n, pythonSlice(n, lo, hi, step)));
          check(r[1], without(n, pythonSlice(n, lo, hi, 1)));
          check(r[2], without(n, pythonSlice(n, lo, std::nullopt, 1)));
          check(r[3], without(n, pythonSlice(n, std::nullopt, hi, 1)));
        }
  std::string e =
      errorOf([&] { Mod.kernel("deleted")(int64_t(3), int64_t(0), int64_t(2), int64_t(0)); });
  EXPECT_NE(e.find("ValueError: slice step cannot be zero"), std::string::npos) << e;
}

TEST_F(Lists, SliceAssignment) {
  // Python's rules: a step of 1 replaces [start, stop) by the new items
  // (the list grows or shrinks); another step needs as many items as the
  // slice has, else ValueError.
  auto bound = [](int64_t v, int64_t n) {
    return v < 0 ? std::max(v + n, int64_t(0)) : std::min(v, n);
  };
  for (int64_t n : {0, 1, 7})
    for (int64_t lo : {-9, -2, 0, 3, 12})
      for (int64_t hi : {-8, -1, 2, 6, 20})
        for (int64_t step : {-2, -1, 1, 2})
          for (int64_t m : {0, 1, 3}) {
            SCOPED_TRACE("n=" + std::to_string(n) + " lo=" + std::to_string(lo) + " hi=" +
                         std::to_string(hi) + " step=" + std::to_string(step) +
                         " m=" + std::to_string(m));
            std::vector<int64_t> xs, ys;
            for (int64_t i = 0; i < n; ++i)
              xs.push_back(i * 10);
            for (int64_t j = 0; j < m; ++j)
              ys.push_back(-(j + 1));
            std::vector<int64_t> simple = xs;
            int64_t start = bound(lo, n), stop = std::max(bound(hi, n), start);
            simple.erase(simple.begin() + start, simple.begin() + stop);
            simple.insert(simple.begin() + start, ys.begin(), ys.end());
            std::vector<int64_t> want = simple;
            std::vector<int64_t> at = pythonSlice(n, lo, hi, step);
            bool fails = step != 1 && int64_t(at.size()) != m;
            if (step != 1 && !fails) {
              want = xs;
              for (size_t k = 0; k < at.size(); ++k)
                want[size_t(at[k] / 10)] = ys[k];
            }
            if (fails) {
              std::string e = errorOf([&] { Mod.kernel("slice_assigned")(n, lo, hi, step, m); });
              EXPECT_NE(e.find("ValueError: attempt to assign sequence of size " +
                               std::to_string(m) + " to extended slice of size " +
                               std::to_string(at.size())),
                        std::string::npos)
                  << e;
              continue;
            }
            auto r = Mod.kernel("slice_assigned")(n, lo, hi, step, m);
            EXPECT_EQ(valuesOf<int64_t>(r[0], {int64_t(want.size())}), want);
            EXPECT_EQ(valuesOf<int64_t>(r[1], {int64_t(simple.size())}), simple);
          }
}

} // namespace
