//===- IterationTest.cpp - enumerate, zip, reversed; `in` and `not in` -----===//
//
// Each loop against the same loop written in C++:
//   - enumerate over arrays and ranges, with a start (by position and
//     keyword), for several dtypes;
//   - zip of arrays of different dtypes and lengths (it stops at the
//     shortest), of a range and an array, of three iterables;
//   - reversed over ranges with positive, negative and run-time steps,
//     empty ranges, and over arrays;
//   - nested sources (enumerate(zip(reversed(a), b))), tuple targets,
//     break and else, rows of 2-d arrays written through the loop variable
//     (the caller sees the writes), and the loops inside a prange body;
//   - `x in t` / `x not in t` for tuples of mixed number types and arrays
//     of several ranks and dtypes (NaN is in nothing), in serial code and
//     in a parallel loop.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def weighted(a):
    s = 0.0
    for i, x in enumerate(a):
        s += i * x
    return s

@njit
def enumerate_start(a, k):
    s = 0
    for i, x in enumerate(a, k):
        s += i * 1000 + x
    return s

@njit
def enumerate_keyword_range(n):
    s = 0
    for i, j in enumerate(range(n, 0, -2), start=5):
        s = s * 100 + i * 10 + j
    return s

@njit
def enumerate_tuple(a):
    s = 0.0
    for t in enumerate(a):
        s += t[0] - t[1]
    return s

@njit
def dot_zip(a, b):
    s = 0.0
    for x, y in zip(a, b):
        s += x * y
    return s

@njit
def zip_three(a, b, n):
    s = 0
    for i, x, y in zip(range(n), a, b):
        s = s * 7 + i + x * y
    return s

@njit
def reversed_range(start, stop, step):
    s = 0
    count = 0
    for i in reversed(range(start, stop, step)):
        s = s * 31 + i
        count += 1
    return s, count

@njit
def reversed_array(a):
    out = np.empty_like(a)
    for k, x in enumerate(reversed(a)):
        out[k] = x
    return out

@njit
def nested(a, b):
    s = 0.0
    for k, (x, y) in enumerate(zip(reversed(a), b)):
        s += k * x - y
    return s

@njit
def first_negative(a):
    for i, x in enumerate(a):
        if x < 0:
            break
    else:
        return -1
    return i

@njit
def number_rows(m, out):
    for i, row in enumerate(m):
        row[0] = i
    for r, o in zip(m, out):
        o[:] = r * 2

@njit
def small_prime(x):
    return x in (2, 3, 5.0, 7)

@njit
def membership(x, a):
    return x in a, x not in a

@njit(parallel=True)
def count_in(xs, a):
    n = 0
    for i in prange(xs.shape[0]):
        if xs[i] in a:
            n += 1
    return n

@njit(parallel=True)
def row_dots(m, v):
    out = np.zeros(m.shape[0])
    for i in prange(m.shape[0]):
        s = 0.0
        for j, (x, y) in enumerate(zip(m[i], v)):
            s += (j + 1) * x * y
        out[i] = s
    return out
)STN";

class Iteration : public ::testing::Test {
protected:
  Iteration() : Mod(Engine.loadString(Kernels, "iteration.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

TEST_F(Iteration, Enumerate) {
  std::vector<double> a = {1.5, -2.0, 3.25, 4.0, 0.5};
  double want = 0;
  for (size_t i = 0; i < a.size(); ++i)
    want += double(i) * a[i];
  EXPECT_EQ(Mod.kernel("weighted")(stn::ArrayView::of(a.data(), {5})).asDouble(), want);

  std::vector<int16_t> b = {7, -3, 12};
  for (int64_t k : {0, 10, -4}) {
    int64_t w = 0;
    for (size_t i = 0; i < b.size(); ++i)
      w += (k + int64_t(i)) * 1000 + b[i];
    EXPECT_EQ(Mod.kernel("enumerate_start")(stn::ArrayView::of(b.data(), {3}), k).asInt(), w);
  }
  for (int64_t n : {0, 1, 6, 7}) {
    int64_t w = 0, i = 5;
    for (int64_t j = n; j > 0; j -= 2)
      w = w * 100 + (i++) * 10 + j;
    EXPECT_EQ(Mod.kernel("enumerate_keyword_range")(n).asInt(), w) << n;
  }
  std::vector<float> f = {0.5f, 2.0f, 8.0f};
  double t = 0;
  for (size_t i = 0; i < f.size(); ++i)
    t += double(i) - double(f[i]);
  EXPECT_EQ(Mod.kernel("enumerate_tuple")(stn::ArrayView::of(f.data(), {3})).asDouble(), t);
}

TEST_F(Iteration, ZipStopsAtTheShortest) {
  std::vector<double> a = {1, 2, 3, 4};
  std::vector<int32_t> b = {5, -6, 7};
  double want = 0;
  for (size_t i = 0; i < 3; ++i)
    want += a[i] * b[i];
  auto av = stn::ArrayView::of(a.data(), {4});
  auto bv = stn::ArrayView::of(b.data(), {3});
  EXPECT_EQ(Mod.kernel("dot_zip")(av, bv).asDouble(), want);
  EXPECT_EQ(Mod.kernel("dot_zip")(bv, av).asDouble(), want);

  std::vector<int64_t> x = {2, 3, 4, 5}, y = {9, 8, 7, 6};
  auto xv = stn::ArrayView::of(x.data(), {4});
  auto yv = stn::ArrayView::of(y.data(), {4});
  for (int64_t n : {0, 2, 4, 9}) {
    int64_t w = 0;
    for (int64_t i = 0; i < std::min<int64_t>(n, 4); ++i)
      w = w * 7 + i + x[size_t(i)] * y[size_t(i)];
    EXPECT_EQ(Mod.kernel("zip_three")(xv, yv, n).asInt(), w) << n;
  }
}

TEST_F(Iteration, Reversed) {
  struct Case {
    int64_t start, stop, step;
  };
  for (Case c : {Case{0, 10, 1}, Case{1, 12, 3}, Case{10, -3, -4}, Case{5, 5, 1},
                 Case{5, 0, 2}, Case{-7, 8, 5}, Case{3, 4, 100}}) {
    std::vector<int64_t> items;
    for (int64_t i = c.start; c.step > 0 ? i < c.stop : i > c.stop; i += c.step)
      items.push_back(i);
    int64_t s = 0;
    for (auto it = items.rbegin(); it != items.rend(); ++it)
      s = s * 31 + *it;
    auto r = Mod.kernel("reversed_range")(c.start, c.stop, c.step);
    EXPECT_EQ(r[0].asInt(), s) << c.start << " " << c.stop << " " << c.step;
    EXPECT_EQ(r[1].asInt(), int64_t(items.size()));
  }
  std::vector<uint8_t> a = {1, 2, 3, 250};
  EXPECT_EQ(valuesOf<uint8_t>(Mod.kernel("reversed_array")(stn::ArrayView::of(a.data(), {4})),
                              {4}),
            (std::vector<uint8_t>{250, 3, 2, 1}));
}

TEST_F(Iteration, NestedSourcesBreakAndElse) {
  std::vector<double> a = {5, 4, 3, 2, 1}, b = {1, 1, 1};
  double want = 0;
  for (size_t k = 0; k < 3; ++k)
    want += double(k) * a[4 - k] - b[k];
  EXPECT_EQ(Mod.kernel("nested")(stn::ArrayView::of(a.data(), {5}),
                                 stn::ArrayView::of(b.data(), {3}))
                .asDouble(),
            want);
  std::vector<double> neg = {1, 2, -3, 4}, pos = {1, 2};
  EXPECT_EQ(Mod.kernel("first_negative")(stn::ArrayView::of(neg.data(), {4})).asInt(), 2);
  EXPECT_EQ(Mod.kernel("first_negative")(stn::ArrayView::of(pos.data(), {2})).asInt(), -1);
}

TEST_F(Iteration, RowsWrittenThroughTheLoopVariable) {
  std::vector<double> m = {1, 2, 3, 4, 5, 6}, out(6, 0.0);
  std::vector<double> wantM = m, wantOut(6);
  for (int i = 0; i < 3; ++i)
    wantM[size_t(2 * i)] = i;
  for (size_t i = 0; i < 6; ++i)
    wantOut[i] = 2 * wantM[i];
  Mod.kernel("number_rows")(stn::ArrayView::of(m.data(), {3, 2}),
                            stn::ArrayView::of(out.data(), {3, 2}));
  EXPECT_EQ(m, wantM);
  EXPECT_EQ(out, wantOut);
}

TEST_F(Iteration, InsideParallelLoops) {
  const int64_t rows = 64, cols = 5;
  std::vector<double> m(size_t(rows * cols)), v = {1, -1, 2, 0.5, 3};
  for (size_t i = 0; i < m.size(); ++i)
    m[i] = double(i % 13) - 4;
  std::vector<double> want;
  for (int64_t i = 0; i < rows; ++i) {
    double s = 0;
    for (int64_t j = 0; j < cols; ++j)
      s += double(j + 1) * m[size_t(i * cols + j)] * v[size_t(j)];
    want.push_back(s);
  }
  EXPECT_EQ(valuesOf<double>(Mod.kernel("row_dots")(stn::ArrayView::of(m.data(), {rows, cols}),
                                                    stn::ArrayView::of(v.data(), {cols})),
                             {rows}),
            want);
}

TEST_F(Iteration, MembershipInTuplesAndArrays) {
  for (int64_t x = -1; x < 10; ++x)
    EXPECT_EQ(Mod.kernel("small_prime")(x).asBool(), x == 2 || x == 3 || x == 5 || x == 7) << x;
  EXPECT_TRUE(Mod.kernel("small_prime")(5.0).asBool());
  EXPECT_FALSE(Mod.kernel("small_prime")(5.5).asBool());

  std::vector<int16_t> a = {4, -2, 9, 0, 31, 7}; // 2x3
  auto av = stn::ArrayView::of(a.data(), {2, 3});
  for (int64_t x : {-2, 31, 5, 0, 100}) {
    bool want = std::find(a.begin(), a.end(), x) != a.end();
    stn::Value r = Mod.kernel("membership")(x, av);
    EXPECT_EQ(r[0].asBool(), want) << x;
    EXPECT_EQ(r[1].asBool(), !want) << x;
  }
  std::vector<double> f = {0.5, std::nan(""), -3.0};
  auto fv = stn::ArrayView::of(f.data(), {3});
  EXPECT_TRUE(Mod.kernel("membership")(-3.0, fv)[0].asBool());
  EXPECT_FALSE(Mod.kernel("membership")(std::nan(""), fv)[0].asBool()); // NaN != NaN
  EXPECT_TRUE(Mod.kernel("membership")(stn::Scalar(int32_t(-3)), fv)[0].asBool());

  std::vector<int64_t> xs(1000);
  int64_t want = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    xs[i] = int64_t(i % 40) - 5;
    want += std::find(a.begin(), a.end(), xs[i]) != a.end();
  }
  EXPECT_EQ(Mod.kernel("count_in")(stn::ArrayView::of(xs.data(), {1000}), av).asInt(), want);
}

} // namespace
