//===- ArrayListTest.cpp - Lists of arrays: items, methods, joins ---------===//
//
// Lists whose items are arrays (each item a reference to an array, as in
// Python), every kernel against the same steps written in C++ with
// std::vector of std::vector:
//   - views of an argument collected in a loop (runs of equal values),
//     iterated with enumerate, joined by np.concatenate of a reversed
//     slice of the list;
//   - np.stack, np.concatenate, np.vstack, np.hstack and np.array of a
//     list grown past several capacity doublings, for int8, int32,
//     float32, float64, complex128 and bool items;
//   - 2-d items joined along axis 0, 1 and None;
//   - insert, pop, del, item replacement, in-place updates through items
//     (xs[i] += 1, xs[i][j] = x, a loop variable), slices, `+`, `*`,
//     copy, extend, slice assignment, clear, truth, sorted/sort/max with
//     key=, np.sum and np.mean of the list;
//   - arrays put into a list stay alive when their variable is given a
//     new array (the variable is no longer freed early);
//   - writes through the items reach the argument arrays, and a read-only
//     argument put into a list is refused when an item is written;
//   - a list made in each iteration of a prange loop;
//   - a returned list reaches the host as a tuple of arrays (views of one
//     new array still share it; views of arguments are copies), and a
//     list a @jit function returns becomes its caller's;
//   - dicts whose values are arrays: grouping values by key with
//     np.append, d[k] += x, items(), values(), get with a default, pop;
//     a store whose value is a conditional expression reading the dict
//     (`d[k] = f(d[k]) if k in d else g`) takes the other branch's type;
//   - np.concatenate of no arrays, np.stack of arrays of different shapes
//     and pop from an empty list raise NumPy's and Python's errors.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def runs(a):
    out = []
    start = 0
    for i in range(1, len(a)):
        if a[i] != a[i - 1]:
            out.append(a[start:i])
            start = i
    out.append(a[start:])
    sums = np.zeros(len(out))
    lens = np.zeros(len(out), dtype=np.int64)
    for k, r in enumerate(out):
        sums[k] = r.sum()
        lens[k] = len(r)
    return len(out), lens, sums, np.concatenate(out[::-1])

@njit
def rolled(a, n):
    xs = [a]
    for k in range(1, n):
        xs.append(np.roll(a, k))
    return np.stack(xs), np.concatenate(xs), np.vstack(xs), np.hstack(xs), np.array(xs)

@njit
def planes(m, n):
    xs = []
    for k in range(n):
        xs.append(m * (k + 1))
    return (np.concatenate(xs), np.concatenate(xs, axis=1), np.concatenate(xs, axis=None),
            np.hstack(xs), np.stack(xs, axis=2))

@njit
def edited(n):
    xs = [np.zeros(2), np.ones(2)]
    for k in range(n):
        xs.append(np.full(2, float(k)))
    ys = [x * 2 for x in xs]
    z = xs.pop()
    xs.insert(0, z)
    xs[1] = ys[0]
    xs[2][0] = -1.0
    del xs[3]
    xs[0] += 0.5
    for x in xs[2:]:
        x *= 3.0
    both = xs[1:] + ys[:1] * 2
    cp = xs.copy()
    cp.extend(both)
    cp[1:3] = [z]
    t = 1 if cp else 0
    cp.clear()
    return np.array(xs), np.array(both), len(cp) + t

@njit
def ordered(m):
    rows = list(m)
    by_sum = sorted(rows, key=lambda r: -r.sum())
    best = max(rows, key=lambda r: r[0])
    rows.sort(key=lambda r: r[1])
    return np.array(by_sum), best, np.array(rows), np.sum(rows), np.mean(rows, axis=0)

@njit
def kept(n):
    xs = []
    v = np.zeros(3)
    for k in range(n):
        v = np.full(3, float(k))
        xs.append(v)
    w = np.arange(3.0)
    ys = [w]
    w = np.sin(w) + 100.0
    u = np.ones(2)
    zs = [np.full(2, 7.0) for _ in range(2)]
    zs.insert(0, u)
    u = np.zeros(2) + 5.0
    zs[1] = np.full(2, 3.0)
    q = np.full(2, 4.0)
    return np.stack(xs), np.stack(ys), np.stack(zs), w, u + q

@njit
def doubled(a, b):
    xs = [a]
    xs.append(b)
    for x in xs:
        x *= 2.0
    return len(xs)

@njit
def first_item_set(a, b):
    xs = [a, a]
    xs[1] = b
    xs[1][0] = 5.0
    return len(xs)

@njit(parallel=True)
def halves(a, n):
    out = np.zeros(n)
    for i in prange(n):
        xs = [a[i:], a[:i]]
        xs.append(a * i)
        out[i] = np.concatenate(xs).sum()
    return out

@njit
def returned(a, n):
    # Views of one new array, a view of the argument, and new arrays.
    b = np.arange(4.0)
    xs = [b[:2], b[1:], a[::2]]
    for k in range(n):
        xs.append(np.full(k + 1, float(k)))
    return xs

@njit
def helper(n):
    return [np.full(2, float(k)) for k in range(n)]

@njit
def from_helper(n):
    xs = helper(n)
    xs.append(np.zeros(2))
    return np.concatenate(xs), len(helper(0))

@njit
def grouped(keys, vals):
    d = {}
    for i in range(len(keys)):
        k = keys[i]
        if k in d:
            d[k] = np.append(d[k], vals[i])
        else:
            d[k] = np.full(1, vals[i])
    d[keys[0]] += 100.0
    sums = {k: v.sum() for k, v in d.items()}
    firsts = [v[0] for v in d.values()]
    g = d.get(-1, np.zeros(3))
    last = d.pop(keys[-1])
    return (np.array(list(sums.keys())), np.array(list(sums.values())), np.array(firsts), g,
            last, len(d))

@njit
def grouped_means(keys, vals):
    # The value type comes from the else branch: the other reads d[k].
    d = {}
    for i in range(len(keys)):
        k = keys[i]
        d[k] = np.append(d[k], vals[i]) if k in d else np.full(1, vals[i])
    return np.array(list({k: v.mean() for k, v in d.items()}.values()))

@njit
def values_joined(a):
    e = dict(enumerate([a, a * 2]))
    e.update({2: a[::-1]})
    return np.array(e.values()), np.concatenate(e.values()), np.sum(e.values(), axis=0)

@njit
def counted(keys):
    d = {}
    for k in keys:
        d[k] = d[k] + 1 if k in d else 1
    return np.array(list(d.values()))

@njit
def no_arrays(n):
    xs = [np.zeros(2) for _ in range(n)]
    return np.concatenate(xs)

@njit
def ragged(n):
    xs = [np.zeros(k + 1) for k in range(n)]
    return np.stack(xs)

@njit
def popped(n):
    xs = [np.zeros(2) for _ in range(n)]
    return xs.pop().sum()
)STN";

class ArrayLists : public ::testing::Test {
protected:
  ArrayLists() : Mod(Engine.loadString(Kernels, "array_lists.stn")) {}
  stn::Engine Engine{stn::test::noCache()};
  stn::Module Mod;

  /// rolled(a, n) against np.roll in C++: item k is a rolled by k.
  /// (`boolean`: T is uint8_t holding bools.)
  template <class T> void checkRolled(const std::vector<T> &a, int64_t n, bool boolean = false) {
    const int64_t m = static_cast<int64_t>(a.size());
    std::vector<T> stacked;
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < m; ++i)
        stacked.push_back(a[static_cast<size_t>(((i - k) % m + m) % m)]);
    std::vector<T> copy = a;
    stn::ArrayView view = boolean ? stn::ArrayView(copy.data(), stn::DType::Bool, {m}, {1})
                                  : stn::ArrayView::of(copy.data(), {m});
    stn::Value r = Mod.kernel("rolled")(view, n);
    EXPECT_EQ(valuesOf<T>(r[0], {n, m}), stacked);
    EXPECT_EQ(valuesOf<T>(r[1], {n * m}), stacked);
    EXPECT_EQ(valuesOf<T>(r[2], {n, m}), stacked);
    EXPECT_EQ(valuesOf<T>(r[3], {n * m}), stacked);
    EXPECT_EQ(valuesOf<T>(r[4], {n, m}), stacked);
  }
};

TEST_F(ArrayLists, ViewsOfAnArgument) {
  std::vector<double> a = {1, 1, 2, 2, 2, 3, 1, 1, 1, 5};
  std::vector<std::vector<double>> runs;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i == 0 || a[i] != a[i - 1])
      runs.emplace_back();
    runs.back().push_back(a[i]);
  }
  std::vector<int64_t> lens;
  std::vector<double> sums, joined;
  for (auto &r : runs) {
    lens.push_back(static_cast<int64_t>(r.size()));
    sums.push_back(std::accumulate(r.begin(), r.end(), 0.0));
  }
  for (auto it = runs.rbegin(); it != runs.rend(); ++it)
    joined.insert(joined.end(), it->begin(), it->end());
  int64_t n = static_cast<int64_t>(runs.size());
  stn::Value r = Mod.kernel("runs")(stn::ArrayView::of(a.data(), {int64_t(a.size())}));
  EXPECT_EQ(r[0].asInt(), n);
  EXPECT_EQ(valuesOf<int64_t>(r[1], {n}), lens);
  EXPECT_EQ(valuesOf<double>(r[2], {n}), sums);
  EXPECT_EQ(valuesOf<double>(r[3], {int64_t(a.size())}), joined);
}

TEST_F(ArrayLists, JoinsForEveryDtype) {
  checkRolled<int8_t>({1, -2, 3, -4, 5}, 1);
  checkRolled<int8_t>({1, -2, 3, -4, 5}, 23); // past several doublings of the storage
  checkRolled<int32_t>({10, 20, 30}, 9);
  checkRolled<float>({0.5f, -1.5f, 2.25f, 8.0f}, 6);
  checkRolled<double>({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7}, 17);
  checkRolled<std::complex<double>>({{1, 2}, {-3, 0.5}, {0, -1}}, 5);
  checkRolled<uint8_t>({1, 0, 0, 1, 0}, 4, /*boolean=*/true);
}

TEST_F(ArrayLists, TwoDimensionalItems) {
  // m: 2x3 int32; item k is m * (k + 1).
  std::vector<int32_t> m = {1, 2, 3, 4, 5, 6};
  const int64_t n = 3;
  // (int32 items times the int64 k + 1 are int64, as in Numba.)
  auto item = [&](int64_t k, int64_t i, int64_t j) {
    return int64_t{m[static_cast<size_t>(3 * i + j)]} * (k + 1);
  };
  std::vector<int64_t> rows, cols, flat, planes;
  for (int64_t k = 0; k < n; ++k) // axis 0: (6, 3)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 3; ++j)
        rows.push_back(item(k, i, j));
  for (int64_t i = 0; i < 2; ++i) // axis 1: (2, 9)
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < 3; ++j)
        cols.push_back(item(k, i, j));
  flat = rows; // axis=None: each flattened, in order
  for (int64_t i = 0; i < 2; ++i) // stack at axis 2: (2, 3, n)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < n; ++k)
        planes.push_back(item(k, i, j));
  stn::Value r = Mod.kernel("planes")(stn::ArrayView::of(m.data(), {2, 3}), n);
  EXPECT_EQ(valuesOf<int64_t>(r[0], {6, 3}), rows);
  EXPECT_EQ(valuesOf<int64_t>(r[1], {2, 9}), cols);
  EXPECT_EQ(valuesOf<int64_t>(r[2], {18}), flat);
  EXPECT_EQ(valuesOf<int64_t>(r[3], {2, 9}), cols); // hstack of 2-d: axis 1
  EXPECT_EQ(valuesOf<int64_t>(r[4], {2, 3, n}), planes);
}

using Items = std::vector<std::vector<double>>;

static std::vector<double> flat(const Items &xs) {
  std::vector<double> out;
  for (auto &x : xs)
    out.insert(out.end(), x.begin(), x.end());
  return out;
}

TEST_F(ArrayLists, MethodsOperatorsAndInPlaceUpdates) {
  // The same steps on vectors; items that share an array (x and ys[0]
  // after xs[1] = ys[0]) are pointers to one vector, as in Python.
  const int64_t n = 4;
  std::vector<std::shared_ptr<std::vector<double>>> xs, ys;
  xs.push_back(std::make_shared<std::vector<double>>(2, 0.0));
  xs.push_back(std::make_shared<std::vector<double>>(2, 1.0));
  for (int64_t k = 0; k < n; ++k)
    xs.push_back(std::make_shared<std::vector<double>>(2, double(k)));
  for (auto &x : xs)
    ys.push_back(std::make_shared<std::vector<double>>(
        std::vector<double>{(*x)[0] * 2, (*x)[1] * 2}));
  auto z = xs.back();
  xs.pop_back();
  xs.insert(xs.begin(), z);
  xs[1] = ys[0];
  (*xs[2])[0] = -1.0;
  xs.erase(xs.begin() + 3);
  for (double &v : *xs[0])
    v += 0.5;
  for (size_t i = 2; i < xs.size(); ++i)
    for (double &v : *xs[i])
      v *= 3.0;
  Items now, both;
  for (auto &x : xs)
    now.push_back(*x);
  for (size_t i = 1; i < xs.size(); ++i)
    both.push_back(*xs[i]);
  both.push_back(*ys[0]);
  both.push_back(*ys[0]);
  stn::Value r = Mod.kernel("edited")(n);
  EXPECT_EQ(valuesOf<double>(r[0], {int64_t(now.size()), 2}), flat(now));
  EXPECT_EQ(valuesOf<double>(r[1], {int64_t(both.size()), 2}), flat(both));
  EXPECT_EQ(r[2].asInt(), 1); // cleared (0), and it had items (1)
}

TEST_F(ArrayLists, OrderedByAKey) {
  std::vector<double> m = {0.5, 0.25, 3.0, -1.0, 1.5, 0.75, -2.0, 4.0};
  Items rows;
  for (size_t i = 0; i < m.size(); i += 2)
    rows.push_back({m[i], m[i + 1]});
  Items bySum = rows, byCol = rows;
  std::stable_sort(bySum.begin(), bySum.end(), [](auto &p, auto &q) {
    return -(p[0] + p[1]) < -(q[0] + q[1]);
  });
  std::stable_sort(byCol.begin(), byCol.end(), [](auto &p, auto &q) { return p[1] < q[1]; });
  auto best = *std::max_element(rows.begin(), rows.end(),
                                [](auto &p, auto &q) { return p[0] < q[0]; });
  double total = std::accumulate(m.begin(), m.end(), 0.0);
  std::vector<double> mean = {0, 0};
  for (auto &r : rows)
    for (size_t j = 0; j < 2; ++j)
      mean[j] += r[j] / double(rows.size());
  stn::Value r = Mod.kernel("ordered")(stn::ArrayView::of(m.data(), {4, 2}));
  EXPECT_EQ(valuesOf<double>(r[0], {4, 2}), flat(bySum));
  EXPECT_EQ(valuesOf<double>(r[1], {2}), best);
  EXPECT_EQ(valuesOf<double>(r[2], {4, 2}), flat(byCol));
  EXPECT_DOUBLE_EQ(r[3].asDouble(), total);
  std::vector<double> got = valuesOf<double>(r[4], {2});
  EXPECT_DOUBLE_EQ(got[0], mean[0]);
  EXPECT_DOUBLE_EQ(got[1], mean[1]);
}

TEST_F(ArrayLists, ArraysInAListOutliveTheirVariables) {
  const int64_t n = 5;
  std::vector<double> stacked, w;
  for (int64_t k = 0; k < n; ++k)
    stacked.insert(stacked.end(), 3, double(k));
  for (int i = 0; i < 3; ++i)
    w.push_back(std::sin(double(i)) + 100.0);
  stn::Value r = Mod.kernel("kept")(n);
  EXPECT_EQ(valuesOf<double>(r[0], {n, 3}), stacked);
  EXPECT_EQ(valuesOf<double>(r[1], {1, 3}), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(valuesOf<double>(r[2], {3, 2}), (std::vector<double>{1, 1, 3, 3, 7, 7}));
  EXPECT_EQ(valuesOf<double>(r[3], {3}), w);
  EXPECT_EQ(valuesOf<double>(r[4], {2}), (std::vector<double>{9, 9}));
}

TEST_F(ArrayLists, WritesThroughItemsReachArguments) {
  std::vector<double> a = {1, 2}, b = {3, 4};
  EXPECT_EQ(Mod.kernel("doubled")(stn::ArrayView::of(a.data(), {2}),
                                  stn::ArrayView::of(b.data(), {2}))
                .asInt(),
            2);
  EXPECT_EQ(a, (std::vector<double>{2, 4}));
  EXPECT_EQ(b, (std::vector<double>{6, 8}));
  // A read-only argument that reaches a list whose items are written.
  for (const char *kernel : {"doubled", "first_item_set"}) {
    std::vector<double> c = {1, 1}, d = {2, 2};
    auto ro = stn::ArrayView::of(d.data(), {2});
    ro.readonly = true;
    std::string e = errorOf([&] { Mod.kernel(kernel)(stn::ArrayView::of(c.data(), {2}), ro); });
    EXPECT_NE(e.find("argument 'b' of kernel '" + std::string(kernel) + "' is read-only"),
              std::string::npos)
        << e;
    EXPECT_EQ(d, (std::vector<double>{2, 2}));
  }
}

TEST_F(ArrayLists, MadeInEachIterationOfAParallelLoop) {
  std::vector<double> a = {1, 2, 3, 4, 5};
  const int64_t n = 5;
  double total = std::accumulate(a.begin(), a.end(), 0.0);
  std::vector<double> want;
  for (int64_t i = 0; i < n; ++i)
    want.push_back(total + total * double(i)); // a[i:] and a[:i] are all of a
  stn::Value r = Mod.kernel("halves")(stn::ArrayView::of(a.data(), {5}), n);
  EXPECT_EQ(valuesOf<double>(r, {n}), want);
}

TEST_F(ArrayLists, ReturnedAsATupleOfArrays) {
  std::vector<double> a = {9, 8, 7, 6, 5};
  const int64_t n = 3;
  stn::Value r = Mod.kernel("returned")(stn::ArrayView::of(a.data(), {5}), n);
  ASSERT_TRUE(r.isTuple());
  ASSERT_EQ(r.size(), size_t(3 + n));
  EXPECT_EQ(valuesOf<double>(r[0], {2}), (std::vector<double>{0, 1}));
  EXPECT_EQ(valuesOf<double>(r[1], {3}), (std::vector<double>{1, 2, 3}));
  std::vector<double> strided = {9, 7, 5};
  const stn::Array &view = r[2].array();
  ASSERT_EQ(view.shape(), (std::vector<int64_t>{3}));
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_EQ(view.data<double>()[i * view.strides()[0] / 8], strided[size_t(i)]);
  for (int64_t k = 0; k < n; ++k)
    EXPECT_EQ(valuesOf<double>(r[size_t(3 + k)], {k + 1}), std::vector<double>(size_t(k + 1), k));
  // The two views of b share its memory on the host too; the view of the
  // argument is a copy (the argument is not the result's).
  r[0].array().data<double>()[1] = 42.0;
  EXPECT_EQ(r[1].array().data<double>()[0], 42.0);
  EXPECT_NE(static_cast<const void *>(view.data<double>()),
            static_cast<const void *>(a.data()));
  EXPECT_EQ(a, (std::vector<double>{9, 8, 7, 6, 5}));
  // A list a @jit function returns is its caller's.
  stn::Value h = Mod.kernel("from_helper")(int64_t{3});
  EXPECT_EQ(valuesOf<double>(h[0], {8}), (std::vector<double>{0, 0, 1, 1, 2, 2, 0, 0}));
  EXPECT_EQ(h[1].asInt(), 0);
}

TEST_F(ArrayLists, DictsOfArrays) {
  // Values grouped by key, in the order keys first appear (a dict keeps
  // insertion order), against vectors in C++.
  std::vector<int64_t> keys = {3, 1, 3, 2, 1, 3, 7};
  std::vector<double> vals = {1, 2, 3, 4, 5, 6, 7};
  std::vector<int64_t> order;
  std::vector<std::vector<double>> groups;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto at = std::find(order.begin(), order.end(), keys[i]);
    if (at == order.end()) {
      order.push_back(keys[i]);
      groups.emplace_back();
      at = order.end() - 1;
    }
    groups[size_t(at - order.begin())].push_back(vals[i]);
  }
  for (double &v : groups[0]) // d[keys[0]] += 100.0
    v += 100.0;
  std::vector<double> sums, firsts;
  for (auto &g : groups) {
    sums.push_back(std::accumulate(g.begin(), g.end(), 0.0));
    firsts.push_back(g[0]);
  }
  const int64_t n = static_cast<int64_t>(order.size());
  stn::Value r = Mod.kernel("grouped")(stn::ArrayView::of(keys.data(), {7}),
                                       stn::ArrayView::of(vals.data(), {7}));
  EXPECT_EQ(valuesOf<int64_t>(r[0], {n}), order);
  EXPECT_EQ(valuesOf<double>(r[1], {n}), sums);
  EXPECT_EQ(valuesOf<double>(r[2], {n}), firsts);
  EXPECT_EQ(valuesOf<double>(r[3], {3}), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(valuesOf<double>(r[4], {1}), (std::vector<double>{7}));
  EXPECT_EQ(r[5].asInt(), n - 1);
  // The same grouping with the store's value a conditional expression.
  std::vector<double> means, raw;
  std::vector<int64_t> counts;
  for (size_t g = 0; g < groups.size(); ++g) {
    raw.clear();
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == order[g])
        raw.push_back(vals[i]);
    means.push_back(std::accumulate(raw.begin(), raw.end(), 0.0) / double(raw.size()));
    counts.push_back(static_cast<int64_t>(raw.size()));
  }
  auto kv = stn::ArrayView::of(keys.data(), {7});
  stn::Value m = Mod.kernel("grouped_means")(kv, stn::ArrayView::of(vals.data(), {7}));
  EXPECT_EQ(valuesOf<double>(m, {n}), means);
  // The values of a dict as an array (stacked), joined and summed.
  std::vector<double> a = {1, 2, 3}, stacked = {1, 2, 3, 2, 4, 6, 3, 2, 1};
  stn::Value j = Mod.kernel("values_joined")(stn::ArrayView::of(a.data(), {3}));
  EXPECT_EQ(valuesOf<double>(j[0], {3, 3}), stacked);
  EXPECT_EQ(valuesOf<double>(j[1], {9}), stacked);
  EXPECT_EQ(valuesOf<double>(j[2], {3}), (std::vector<double>{6, 8, 10}));
  // Counting: the values are int64 (the else branch's 1), not float64.
  stn::Value c = Mod.kernel("counted")(kv);
  EXPECT_EQ(c.array().dtype(), stn::DType::Int64);
  EXPECT_EQ(valuesOf<int64_t>(c, {n}), counts);
}

TEST_F(ArrayLists, ErrorsWhileTheKernelRuns) {
  std::string e = errorOf([&] { Mod.kernel("no_arrays")(int64_t{0}); });
  EXPECT_NE(e.find("ValueError: need at least one array to concatenate"), std::string::npos)
      << e;
  e = errorOf([&] { Mod.kernel("ragged")(int64_t{3}); });
  EXPECT_NE(e.find("ValueError: all input arrays must have the same shape, but along "
                   "dimension 0 the array at index 0 has size 1 and the array at index 1 "
                   "has size 2"),
            std::string::npos)
      << e;
  e = errorOf([&] { Mod.kernel("popped")(int64_t{0}); });
  EXPECT_NE(e.find("IndexError: pop from empty list"), std::string::npos) << e;
  EXPECT_EQ(Mod.kernel("popped")(int64_t{2}).asDouble(), 0.0);
}

} // namespace
