//===- TupleListTest.cpp - Lists of tuples: items, methods, arrays --------===//
//
// Lists whose items are tuples of numbers, each kernel against the same
// steps written in C++ with std::vector of std::tuple:
//   - `[]` grown by append of (int64, element) pairs in a loop, past
//     several capacity doublings, for int8, int32, float32 and float64
//     arrays; the caller gets np.array(xs): a 2-d array with a row per
//     item, of the items' common kind (int64 with int8 is int64, int64
//     with float32 is float64, as NumPy promotes);
//   - comprehensions with tuple elements, list(zip(a, b)),
//     list(enumerate(a)); loops unpacking the items, also in enumerate,
//     zip and reversed;
//   - items read (xs[i], xs[-1], xs[i][1]) and replaced (xs[i] = (a, b),
//     converted number by number); the item types of [(1, 2)] widened by
//     an appended (3.5, 4) number by number;
//   - insert (negative and clamped positions), pop (last, by position,
//     negative), extend by a list of tuples and by itself, `+`, `*`,
//     `+=` (itself too), `*=`, slices, copy (which does not follow the
//     original), clear, len, truth;
//   - bool and complex fields (np.array of them is complex128);
//   - a list of tuples made in each iteration of a prange loop;
//   - `in`, index, count, remove and reverse of (int64, float64) pairs
//     with repeats, and print() of a slice of them;
//   - sorted() and sort() (reverse= both ways) of (int8, float32) pairs
//     with ties in the first field, against std::stable_sort of pairs;
//   - pop from an empty list and pop(i) out of range raise IndexError,
//     xs[i] out of range (boundscheck=True) the error of an array index,
//     with the kernel's location.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def below(a, t):
    out = []
    for i in range(len(a)):
        if a[i] < t:
            out.append((i, a[i]))
    return out

@njit
def unpacked(a):
    xs = [(i, x, x * x) for i, x in enumerate(a) if i % 3 != 1]
    s = 0.0
    for i, x, y in xs:
        s += i * 1000.0 + x * 10.0 + y
    t = 0.0
    for k, (i, x, y) in enumerate(xs):
        t += k * (i + x)
    u = 0.0
    for (i, x, y), z in zip(reversed(xs), a):
        u = u * 0.5 + i * z - y
    zs = list(zip(a, a * 2.0))
    es = list(enumerate(a))
    w = 0.0
    for p, q in zs:
        w += p * q
    for i, x in es:
        w += i * x
    return s, t, u, w, len(xs), len(zs), len(es)

@njit
def edited(n, m):
    xs = [(0, 0.0)]
    for i in range(1, n):
        xs.append((i, i * 0.25))
    xs.insert(-2, (-1, -1.5))
    xs.insert(1000, (-2, -2.5))
    xs.insert(-1000, (-3, -3.5))
    a = xs.pop()
    b = xs.pop(2)
    c = xs.pop(-3)
    xs[1] = (7, 7)
    xs[-1] = (8.0, 8.5)
    first = xs[0]
    ys = xs[1:m:2]
    ys.extend(xs[::-3])
    ys += ys
    zs = ys.copy()
    zs.append((9, 9.5))
    ws = ys + zs[:2]
    ws *= 2
    vs = 3 * zs[:1]
    vs.extend(vs)
    empty = xs.copy()
    empty.clear()
    return (xs, ys, zs, ws, vs, a[0], a[1], b[0], b[1], c[0], c[1], first[1], xs[-2][1],
            len(empty), bool(empty), bool(xs))

@njit
def widened(x):
    xs = [(1, 2)]
    xs.append((x, 4))
    t = xs[0]
    return xs, t[0], t[1]

@njit
def flags(a):
    xs = []
    for i in range(len(a)):
        xs.append((a[i] > 0, a[i] * 1j, i))
    n = 0
    for pos, z, i in xs:
        if pos:
            n += i
    return xs, n

@njit(parallel=True)
def parallel_pairs(n):
    out = np.zeros(n)
    for i in prange(n):
        ps = []
        for j in range(i + 1):
            ps.append((j, j * 0.5))
        s = 0.0
        for j, h in ps:
            s += j + h
        out[i] = s + len(ps)
    return out

@njit(boundscheck=True)
def at(n, i):
    xs = [(j, j * 0.5) for j in range(n)]
    return xs[i][1]

@njit
def pop_at(n, i):
    xs = [(j, j * 0.5) for j in range(n)]
    return xs.pop(i)[0]

@njit
def searched(a, b, qa, qb):
    xs = list(zip(a, b))
    found = 0
    where = 0
    for j in range(len(qa)):
        q = (qa[j], qb[j])
        if q in xs:
            found += 1
            where = where * 31 % 1000003 + xs.index(q) + xs.count(q) * 7
    ys = xs.copy()
    for j in range(len(qa)):
        if (qa[j], qb[j]) in ys:
            ys.remove((qa[j], qb[j]))
    ys.reverse()
    print(ys[:3])
    return found, where, np.array(ys)

@njit
def ordered(a, b, rev):
    xs = list(zip(a, b))
    ys = sorted(xs)
    xs.sort(reverse=rev)
    return np.array(ys), np.array(xs), sorted(xs, reverse=True)[0][1]
)STN";

class TupleLists : public ::testing::Test {
protected:
  TupleLists() : Mod(Engine.loadString(Kernels, "tuple_lists.stn")) {}
  stn::Engine Engine{stn::test::noCache()};
  stn::Module Mod;

  /// below(a, t) against the loop in C++: rows (i, a[i]) of kind `R`.
  template <class T, class R> void checkBelow(std::vector<T> a, T t, stn::DType want) {
    std::vector<R> rows;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] < t) {
        rows.push_back(static_cast<R>(i));
        rows.push_back(static_cast<R>(a[i]));
      }
    auto r = Mod.kernel("below")(stn::ArrayView::of(a.data(), {int64_t(a.size())}), t);
    EXPECT_EQ(r.array().dtype(), want);
    EXPECT_EQ(valuesOf<R>(r, {int64_t(rows.size() / 2), 2}), rows);
  }
};

TEST_F(TupleLists, AppendGrowsAndReturnsRows) {
  std::vector<double> d(1000);
  for (size_t i = 0; i < d.size(); ++i)
    d[i] = static_cast<double>((i * 37) % 101) - 50.5;
  checkBelow<double, double>(d, 0.0, stn::DType::Float64);
  checkBelow<float, double>({1.5f, -2.0f, 0.0f, 3.0f, -0.25f}, 0.5f, stn::DType::Float64);
  std::vector<int8_t> b(300);
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<int8_t>(i * 7);
  checkBelow<int8_t, int64_t>(b, int8_t(10), stn::DType::Int64);
  checkBelow<int32_t, int64_t>({5, 4, 3}, 0, stn::DType::Int64); // no rows: shape (0, 2)
}

TEST_F(TupleLists, ComprehensionsZipEnumerateAndUnpacking) {
  std::vector<double> a = {1.5, -2, 3.25, 0.5, -1, 4, 2.5};
  std::vector<std::tuple<int64_t, double, double>> xs;
  for (size_t i = 0; i < a.size(); ++i)
    if (i % 3 != 1)
      xs.emplace_back(i, a[i], a[i] * a[i]);
  double s = 0, t = 0, u = 0, w = 0;
  for (auto &[i, x, y] : xs)
    s += i * 1000.0 + x * 10.0 + y;
  for (size_t k = 0; k < xs.size(); ++k)
    t += static_cast<double>(k) * (std::get<0>(xs[k]) + std::get<1>(xs[k]));
  for (size_t k = 0; k < std::min(xs.size(), a.size()); ++k) {
    auto &[i, x, y] = xs[xs.size() - 1 - k];
    u = u * 0.5 + i * a[k] - y;
  }
  for (double p : a)
    w += p * (p * 2.0);
  for (size_t i = 0; i < a.size(); ++i)
    w += static_cast<double>(i) * a[i];
  auto r = Mod.kernel("unpacked")(stn::ArrayView::of(a.data(), {int64_t(a.size())}));
  EXPECT_EQ(r[0].asDouble(), s);
  EXPECT_EQ(r[1].asDouble(), t);
  EXPECT_EQ(r[2].asDouble(), u);
  EXPECT_EQ(r[3].asDouble(), w);
  EXPECT_EQ(r[4].asInt(), int64_t(xs.size()));
  EXPECT_EQ(r[5].asInt(), int64_t(a.size()));
  EXPECT_EQ(r[6].asInt(), int64_t(a.size()));
}

using Item = std::pair<double, double>; // (int64, float64) items, as rows

/// Python's list.insert position: negative from the end, clamped.
static size_t insertAt(int64_t i, size_t n) {
  int64_t len = static_cast<int64_t>(n);
  if (i < 0)
    i += len;
  return static_cast<size_t>(std::clamp<int64_t>(i, 0, len));
}

/// xs[lo:hi:step] by Python's slice rules (the bounds given, or None).
static std::vector<Item> sliced(const std::vector<Item> &xs, std::optional<int64_t> lo,
                                std::optional<int64_t> hi, int64_t step) {
  int64_t n = static_cast<int64_t>(xs.size());
  auto fix = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v)
      return dflt;
    int64_t x = *v < 0 ? *v + n : *v;
    return step > 0 ? std::clamp<int64_t>(x, 0, n) : std::clamp<int64_t>(x, -1, n - 1);
  };
  int64_t b = fix(lo, step > 0 ? 0 : n - 1), e = fix(hi, step > 0 ? n : -1);
  std::vector<Item> out;
  for (int64_t i = b; step > 0 ? i < e : i > e; i += step)
    out.push_back(xs[static_cast<size_t>(i)]);
  return out;
}

static std::vector<double> rowsOf(const std::vector<Item> &xs) {
  std::vector<double> v;
  for (auto &[p, q] : xs) {
    v.push_back(p);
    v.push_back(q);
  }
  return v;
}

TEST_F(TupleLists, MethodsOperatorsAndSlices) {
  for (int64_t n : {5, 40}) {
    for (int64_t m : {4, -1, 100}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " m=" + std::to_string(m));
      std::vector<Item> xs = {{0, 0.0}};
      for (int64_t i = 1; i < n; ++i)
        xs.emplace_back(i, i * 0.25);
      xs.insert(xs.begin() + insertAt(-2, xs.size()), Item{-1, -1.5});
      xs.insert(xs.begin() + insertAt(1000, xs.size()), Item{-2, -2.5});
      xs.insert(xs.begin() + insertAt(-1000, xs.size()), Item{-3, -3.5});
      Item a = xs.back();
      xs.pop_back();
      Item b = xs[2];
      xs.erase(xs.begin() + 2);
      Item c = xs[xs.size() - 3];
      xs.erase(xs.end() - 3);
      xs[1] = {7, 7};
      xs.back() = {8, 8.5}; // int64 field: 8.0 stored as 8
      Item first = xs[0];
      std::vector<Item> ys = sliced(xs, 1, m, 2);
      std::vector<Item> back = sliced(xs, std::nullopt, std::nullopt, -3);
      ys.insert(ys.end(), back.begin(), back.end());
      std::vector<Item> twice = ys;
      ys.insert(ys.end(), twice.begin(), twice.end());
      std::vector<Item> zs = ys;
      zs.emplace_back(9, 9.5);
      std::vector<Item> ws = ys;
      ws.insert(ws.end(), zs.begin(), zs.begin() + std::min<size_t>(2, zs.size()));
      std::vector<Item> w2 = ws;
      ws.insert(ws.end(), w2.begin(), w2.end());
      std::vector<Item> vs(3, zs[0]);
      std::vector<Item> v2 = vs;
      vs.insert(vs.end(), v2.begin(), v2.end());

      auto r = Mod.kernel("edited")(n, m);
      auto check = [&](size_t k, const std::vector<Item> &want) {
        EXPECT_EQ(valuesOf<double>(r[k], {int64_t(want.size()), 2}), rowsOf(want)) << k;
      };
      check(0, xs);
      check(1, ys);
      check(2, zs);
      check(3, ws);
      check(4, vs);
      EXPECT_EQ(r[5].asInt(), int64_t(a.first));
      EXPECT_EQ(r[6].asDouble(), a.second);
      EXPECT_EQ(r[7].asInt(), int64_t(b.first));
      EXPECT_EQ(r[8].asDouble(), b.second);
      EXPECT_EQ(r[9].asInt(), int64_t(c.first));
      EXPECT_EQ(r[10].asDouble(), c.second);
      EXPECT_EQ(r[11].asDouble(), first.second);
      EXPECT_EQ(r[12].asDouble(), xs[xs.size() - 2].second);
      EXPECT_EQ(r[13].asInt(), 0);
      EXPECT_FALSE(r[14].asBool());
      EXPECT_TRUE(r[15].asBool());
    }
  }
}

TEST_F(TupleLists, ItemTypesWidenNumberByNumber) {
  // [(1, 2)] with (x, 4) appended: (float64, int64) for a float x.
  auto f = Mod.kernel("widened")(2.5);
  EXPECT_EQ(f[0].array().dtype(), stn::DType::Float64);
  EXPECT_EQ(valuesOf<double>(f[0], {2, 2}), (std::vector<double>{1, 2, 2.5, 4}));
  // The first field is float64 now, the second still int64.
  EXPECT_EQ(f[1].scalar().dtype(), stn::DType::Float64);
  EXPECT_EQ(f[1].asDouble(), 1.0);
  EXPECT_EQ(f[2].scalar().dtype(), stn::DType::Int64);
  EXPECT_EQ(f[2].asInt(), 2);
  auto i = Mod.kernel("widened")(int64_t(-3));
  EXPECT_EQ(i[0].array().dtype(), stn::DType::Int64);
  EXPECT_EQ(i[1].scalar().dtype(), stn::DType::Int64);
  EXPECT_EQ(valuesOf<int64_t>(i[0], {2, 2}), (std::vector<int64_t>{1, 2, -3, 4}));
}

TEST_F(TupleLists, BoolAndComplexFields) {
  std::vector<double> a = {2, -1, 0, 3.5};
  auto r = Mod.kernel("flags")(stn::ArrayView::of(a.data(), {4}));
  EXPECT_EQ(r[0].array().dtype(), stn::DType::Complex128);
  std::vector<std::complex<double>> want;
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    want.push_back(a[i] > 0 ? 1.0 : 0.0);
    want.push_back(std::complex<double>(0, a[i]));
    want.push_back(static_cast<double>(i));
    if (a[i] > 0)
      n += static_cast<int64_t>(i);
  }
  EXPECT_EQ(valuesOf<std::complex<double>>(r[0], {4, 3}), want);
  EXPECT_EQ(r[1].asInt(), n);
}

TEST_F(TupleLists, MadeInsideParallelLoops) {
  auto r = Mod.kernel("parallel_pairs")(int64_t(100));
  std::vector<double> want(100);
  for (int64_t i = 0; i < 100; ++i) {
    double s = 0;
    for (int64_t j = 0; j <= i; ++j)
      s += static_cast<double>(j) + j * 0.5;
    want[static_cast<size_t>(i)] = s + static_cast<double>(i + 1);
  }
  EXPECT_EQ(valuesOf<double>(r, {100}), want);
}

TEST_F(TupleLists, OutOfRangeRaises) {
  EXPECT_EQ(Mod.kernel("at")(int64_t(4), int64_t(-1)).asDouble(), 1.5);
  // As a list of numbers' items are checked: against the length.
  std::string msg = errorOf([&] { Mod.kernel("at")(int64_t(4), int64_t(4)); });
  EXPECT_NE(msg.find("index 4 is out of bounds for axis 0 of 'xs' with shape (4,)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("tuple_lists.stn:96:12"), std::string::npos) << msg;
  msg = errorOf([&] { Mod.kernel("at")(int64_t(0), int64_t(0)); });
  EXPECT_NE(msg.find("index 0 is out of bounds for axis 0 of 'xs' with shape (0,)"),
            std::string::npos)
      << msg;
  EXPECT_EQ(Mod.kernel("pop_at")(int64_t(4), int64_t(-2)).asInt(), 2);
  msg = errorOf([&] { Mod.kernel("pop_at")(int64_t(4), int64_t(4)); });
  EXPECT_NE(msg.find("IndexError: pop index out of range"), std::string::npos) << msg;
  msg = errorOf([&] { Mod.kernel("pop_at")(int64_t(0), int64_t(0)); });
  EXPECT_NE(msg.find("IndexError: pop from empty list"), std::string::npos) << msg;
}

TEST_F(TupleLists, InIndexCountRemoveReverseAndPrint) {
  // Pairs with repeats, and queries some of which are there.
  std::vector<int64_t> a, qa;
  std::vector<double> b, qb;
  uint64_t s = 4242;
  auto next = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  };
  for (int i = 0; i < 300; ++i) {
    a.push_back(static_cast<int64_t>(next() % 20));
    b.push_back(static_cast<double>(next() % 4) * 0.5);
  }
  for (int i = 0; i < 200; ++i) {
    qa.push_back(static_cast<int64_t>(next() % 24));
    qb.push_back(static_cast<double>(next() % 5) * 0.5);
  }
  using Item = std::pair<int64_t, double>;
  std::vector<Item> xs;
  for (size_t i = 0; i < a.size(); ++i)
    xs.push_back({a[i], b[i]});
  int64_t found = 0, where = 0;
  for (size_t j = 0; j < qa.size(); ++j) {
    Item q{qa[j], qb[j]};
    auto at = std::find(xs.begin(), xs.end(), q);
    if (at != xs.end()) {
      ++found;
      where = where * 31 % 1000003 + (at - xs.begin()) + std::count(xs.begin(), xs.end(), q) * 7;
    }
  }
  // Some queries are there and some are not (both paths run).
  ASSERT_GT(found, 20);
  ASSERT_LT(found, 180);
  std::vector<Item> ys = xs;
  for (size_t j = 0; j < qa.size(); ++j)
    if (auto at = std::find(ys.begin(), ys.end(), Item{qa[j], qb[j]}); at != ys.end())
      ys.erase(at);
  std::reverse(ys.begin(), ys.end());
  std::string printed = "[";
  for (size_t i = 0; i < 3 && i < ys.size(); ++i)
    printed += (i ? ", (" : "(") + std::to_string(ys[i].first) + ", " +
               (ys[i].second == 1.5 ? "1.5" : ys[i].second == 1 ? "1.0"
                                          : ys[i].second == 0.5 ? "0.5" : "0.0") + ")";
  printed += "]\n";

  ::testing::internal::CaptureStdout();
  auto r = Mod.kernel("searched")(stn::ArrayView::of(a.data(), {300}),
                                  stn::ArrayView::of(b.data(), {300}),
                                  stn::ArrayView::of(qa.data(), {200}),
                                  stn::ArrayView::of(qb.data(), {200}));
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), printed);
  EXPECT_EQ(r[0].asInt(), found);
  EXPECT_EQ(r[1].asInt(), where);
  int64_t n = static_cast<int64_t>(ys.size());
  std::vector<double> rows = valuesOf<double>(r[2], {n, 2});
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(rows[size_t(2 * i)], double(ys[size_t(i)].first)) << i;
    EXPECT_EQ(rows[size_t(2 * i + 1)], ys[size_t(i)].second) << i;
  }
}

TEST_F(TupleLists, SortedAsPythonSortsTuples) {
  // Many ties in the first field, so that the second decides; int8 and
  // float32 fields, both kinds of sort, both directions.
  std::vector<int8_t> a;
  std::vector<float> b;
  uint64_t s = 99;
  for (int i = 0; i < 500; ++i) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    a.push_back(static_cast<int8_t>((s >> 40) % 9) - 4);
    b.push_back(static_cast<float>((s >> 20) % 50) * 0.25f - 6.0f);
  }
  std::vector<std::pair<int8_t, float>> want;
  for (size_t i = 0; i < a.size(); ++i)
    want.push_back({a[i], b[i]});
  std::stable_sort(want.begin(), want.end());
  for (bool rev : {false, true}) {
    auto r = Mod.kernel("ordered")(stn::ArrayView::of(a.data(), {500}),
                                   stn::ArrayView::of(b.data(), {500}), rev);
    // (np.array of (int8, float32) items is float32, as NumPy promotes.)
    std::vector<float> up = valuesOf<float>(r[0], {500, 2}),
                       got = valuesOf<float>(r[1], {500, 2});
    for (size_t i = 0; i < want.size(); ++i) {
      const auto &w = rev ? want[want.size() - 1 - i] : want[i];
      EXPECT_EQ(up[2 * i], float(want[i].first)) << i;
      EXPECT_EQ(up[2 * i + 1], want[i].second) << i;
      EXPECT_EQ(got[2 * i], float(w.first)) << rev << " " << i;
      EXPECT_EQ(got[2 * i + 1], w.second) << rev << " " << i;
    }
    EXPECT_EQ(r[2].asDouble(), double(want.back().second));
  }
}

} // namespace
