//===- DefaultsTest.cpp - Default values, keywords and `x is None` --------===//
//
// Each kernel against the same steps written in C++:
//   - host calls that leave out parameters with default values (numbers of
//     every kind, module constants, math.pi, negative and complex values,
//     np.float32(...), None), pass them by keyword in any order, or pass
//     None explicitly (Arg::none());
//   - the `out=None` idiom: the kernel allocates the result when out is
//     None, else writes the caller's array, also of another dtype than the
//     input (the `if out is None:` branch is pruned, as Numba prunes it);
//   - `if ord is None: return ...` followed by code valid only for a
//     number: the code after the pruned `if` is not checked;
//   - kernels calling kernels with keywords and default values;
//   - a local that is None until a loop assigns it (`x is None` reads a
//     flag at run time), and TypeError where a None is used as a number;
//   - the errors of a host call: too many arguments, an unknown or repeated
//     keyword, a missing argument, a tuple default the host cannot pass;
//   - `w is not None and w[0] > 0` (the second operand is not checked when w
//     is None), `elif` after a pruned test, `t += x` of a None (TypeError),
//     an annotated `w: f8[:] = None` left out, keyword arguments evaluated
//     in the order written, a.sort(axis=None) through a parameter (an error);
//   - a specialization with a None argument comes back from the on-disk
//     cache;
//   - reductions, scans, sorts and medians along an axis given at run time
//     (RuntimeAxis), against C++ loops over each lane.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::valuesOf;

const char *Kernels = R"STN(
import math
import numpy as np
from numba import njit, prange

OFFSET = -2.5

@njit
def scalars(x, i=3, f=0.5, b=True, z=1 - 2j, off=OFFSET, p=math.pi, h=np.float32(0.25)):
    r = x + i * f + off + p + h
    if b:
        r = r + z.real * 10 + z.imag * 100
    return r

@njit
def scale(a, factor=2.0, shift=0, out=None):
    if out is None:
        out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = a[i] * factor + shift
    return out

@njit
def norm(a, ord=None):
    if ord is None:
        return math.sqrt(np.sum(a * a))
    return np.sum(np.abs(a) ** ord) ** (1.0 / ord)

@njit
def first_above(a, limit):
    found = None
    for i in range(a.shape[0]):
        if found is None and a[i] > limit:
            found = i
    if found is not None:
        return found
    return -1

@njit
def tolerance(x, tol=None):
    if tol is None:
        tol = 1e-3
    return x + tol

@njit
def none_used(x, big):
    t = None
    if x > big:
        t = x
    return t * 2.0

@njit
def calls(a):
    b = np.zeros(a.shape[0], dtype=np.float32)
    scale(a, shift=1.0, out=b)
    s1 = scale(a).sum()
    s2 = scale(a, 3, 1).sum()
    s3 = scale(shift=-1, a=a, factor=0.5).sum()
    return s1, s2, b.sum(), s3, norm(a), norm(a, ord=1), tolerance(1.0), tolerance(1.0, 0.5)

@njit(parallel=True)
def rows(m, weight=None):
    out = np.empty(m.shape[0])
    for i in prange(m.shape[0]):
        s = 0.0
        for j in range(m.shape[1]):
            w = 1.0
            if weight is not None:
                w = weight[j]
            s += m[i, j] * w
        out[i] = s
    return out

@njit
def shaped(n, shape=(2, 3)):
    return n * shape[0] * shape[1]

@njit
def first_weight(a, w=None):
    if w is not None and w[0] > 0:
        return a[0] * w[0]
    return a[0]

@njit
def by_mode(a, m=None):
    if m is None:
        return a.sum()
    elif m == 1:
        return a.max()
    return a.min()

@njit
def incremented(x):
    t = None
    if x > 1.0:
        t = 0.0
    t += x
    return t

@njit
def typed_weights(a: f8[:], w: f8[:] = None) -> f8:
    if w is None:
        return a.sum()
    return (a * w).sum()

@njit
def fails(msg_id):
    if msg_id == 1:
        raise ValueError("first")
    if msg_id == 2:
        raise ValueError("second")
    return 0.0

@njit
def two(a, b):
    return a + b

@njit
def keyword_order(x):
    return two(b=fails(1) + x, a=fails(2) + x)

@njit
def sort_rows(a, axis=None):
    a.sort(axis=axis)

@njit
def shaped_caller(n):
    return shaped(n), shaped(n, (4, 5))
)STN";

class Defaults : public ::testing::Test {
protected:
  Defaults() : Mod(Engine.loadString(Kernels, "defaults.stn")) {}
  stn::Engine Engine{stn::test::noCache()};
  stn::Module Mod;
};

TEST_F(Defaults, HostCallsFillInDefaultValues) {
  auto k = Mod.kernel("scalars");
  auto expect = [](double x, int64_t i, double f, bool b, std::complex<double> z, double off,
                   double p, float h) {
    double r = x + static_cast<double>(i) * f + off + p + static_cast<double>(h);
    if (b)
      r = r + z.real() * 10 + z.imag() * 100;
    return r;
  };
  const double pi = 3.141592653589793;
  EXPECT_DOUBLE_EQ(k(1.0).asDouble(), expect(1.0, 3, 0.5, true, {1, -2}, -2.5, pi, 0.25f));
  EXPECT_DOUBLE_EQ(k(1.0, int64_t(7)).asDouble(),
                   expect(1.0, 7, 0.5, true, {1, -2}, -2.5, pi, 0.25f));
  EXPECT_DOUBLE_EQ(k.call({1.0}, {{"b", false}, {"f", 2.0}}).asDouble(),
                   expect(1.0, 3, 2.0, false, {1, -2}, -2.5, pi, 0.25f));
  EXPECT_DOUBLE_EQ(k.call({}, {{"z", std::complex<double>(0, 1)}, {"x", 2.0}}).asDouble(),
                   expect(2.0, 3, 0.5, true, {0, 1}, -2.5, pi, 0.25f));
}

TEST_F(Defaults, OutNoneAllocatesOrWritesTheCallersArray) {
  std::vector<double> a = {1, 2, 3};
  auto av = stn::ArrayView::of(a.data(), {3});
  auto k = Mod.kernel("scale");
  EXPECT_EQ(valuesOf<double>(k(av), {3}), (std::vector<double>{2, 4, 6}));
  EXPECT_EQ(valuesOf<double>(k.call({av}, {{"out", stn::Arg::none()}}), {3}),
            (std::vector<double>{2, 4, 6}));
  EXPECT_EQ(valuesOf<double>(k.call({av, 3.0}, {{"shift", int64_t(1)}}), {3}),
            (std::vector<double>{4, 7, 10}));
  // out= of another dtype: the pruned branch would not have unified.
  std::vector<float> out(3, 0.f);
  stn::Value r = k.call({av}, {{"out", stn::ArrayView::of(out.data(), {3})}});
  EXPECT_EQ(out, (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(r.array().dtype(), stn::DType::Float32);
}

TEST_F(Defaults, CodeAfterAPrunedReturnIsNotChecked) {
  std::vector<double> a = {3, -4};
  auto av = stn::ArrayView::of(a.data(), {2});
  auto k = Mod.kernel("norm");
  EXPECT_DOUBLE_EQ(k(av).asDouble(), 5.0);
  EXPECT_DOUBLE_EQ(k(av, 1.0).asDouble(), 7.0);
  EXPECT_DOUBLE_EQ(k(av, 3.0).asDouble(), std::pow(27.0 + 64.0, 1.0 / 3.0));
}

TEST_F(Defaults, LocalsThatStartAsNone) {
  std::vector<double> a = {0.5, 2.0, 1.0, 3.0};
  auto av = stn::ArrayView::of(a.data(), {4});
  auto k = Mod.kernel("first_above");
  for (double limit : {0.0, 0.7, 1.5, 2.5, 9.0}) {
    int64_t want = -1;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] > limit) {
        want = static_cast<int64_t>(i);
        break;
      }
    EXPECT_EQ(k(av, limit).asInt(), want) << limit;
  }
  EXPECT_DOUBLE_EQ(Mod.kernel("tolerance")(1.0).asDouble(), 1.001);
  EXPECT_DOUBLE_EQ(Mod.kernel("tolerance")(1.0, 0.25).asDouble(), 1.25);
  EXPECT_DOUBLE_EQ(Mod.kernel("tolerance")(1.0, stn::Arg::none()).asDouble(), 1.001);
}

TEST_F(Defaults, UsingNoneAsANumberRaisesTypeError) {
  EXPECT_DOUBLE_EQ(Mod.kernel("none_used")(5.0, 1.0).asDouble(), 10.0);
  std::string msg = errorOf([&] { Mod.kernel("none_used")(0.5, 1.0); });
  EXPECT_NE(msg.find("defaults.stn:50:12: error: TypeError: 't' is None here"), std::string::npos)
      << msg;
}

TEST_F(Defaults, ShortCircuitElifAugmentedAndAnnotated) {
  std::vector<double> a = {2, 5, -1};
  std::vector<double> w = {3, 0, 0};
  auto av = stn::ArrayView::of(a.data(), {3});
  auto wv = stn::ArrayView::of(w.data(), {3});
  // `w is not None and w[0] > 0`: w[0] is never checked when w is None.
  EXPECT_DOUBLE_EQ(Mod.kernel("first_weight")(av).asDouble(), 2.0);
  EXPECT_DOUBLE_EQ(Mod.kernel("first_weight")(av, wv).asDouble(), 6.0);
  EXPECT_DOUBLE_EQ(Mod.kernel("by_mode")(av).asDouble(), 6.0);
  EXPECT_DOUBLE_EQ(Mod.kernel("by_mode")(av, int64_t(1)).asDouble(), 5.0);
  EXPECT_DOUBLE_EQ(Mod.kernel("by_mode")(av, int64_t(2)).asDouble(), -1.0);
  // `t += x` reads t: None there raises.
  EXPECT_DOUBLE_EQ(Mod.kernel("incremented")(2.0).asDouble(), 2.0);
  std::string msg = errorOf([&] { Mod.kernel("incremented")(0.5); });
  EXPECT_NE(msg.find(":97:5: error: TypeError: 't' is None here"), std::string::npos) << msg;
  // An annotated signature with `= None`: left out, w stays None.
  EXPECT_DOUBLE_EQ(Mod.kernel("typed_weights")(av).asDouble(), 6.0);
  EXPECT_DOUBLE_EQ(Mod.kernel("typed_weights")(av, wv).asDouble(), 6.0);
  // Keyword arguments run in the order they are written.
  msg = errorOf([&] { Mod.kernel("keyword_order")(1.0); });
  EXPECT_NE(msg.find("ValueError: first"), std::string::npos) << msg;
}

TEST_F(Defaults, KernelsCallKernelsWithKeywordsAndDefaults) {
  std::vector<double> a = {1, -2, 3};
  stn::Value r = Mod.kernel("calls")(stn::ArrayView::of(a.data(), {3}));
  double sum = 0, abs = 0, sq = 0;
  for (double x : a) {
    sum += x;
    abs += std::fabs(x);
    sq += x * x;
  }
  EXPECT_DOUBLE_EQ(r[0].asDouble(), 2 * sum);
  EXPECT_DOUBLE_EQ(r[1].asDouble(), 3 * sum + 3);
  EXPECT_DOUBLE_EQ(r[2].asDouble(), 2 * sum + 3);
  EXPECT_DOUBLE_EQ(r[3].asDouble(), 0.5 * sum - 3);
  EXPECT_DOUBLE_EQ(r[4].asDouble(), std::sqrt(sq));
  EXPECT_DOUBLE_EQ(r[5].asDouble(), abs);
  EXPECT_DOUBLE_EQ(r[6].asDouble(), 1.001);
  EXPECT_DOUBLE_EQ(r[7].asDouble(), 1.5);
  stn::Value s = Mod.kernel("shaped_caller")(int64_t(2));
  EXPECT_EQ(s[0].asInt(), 12);
  EXPECT_EQ(s[1].asInt(), 40);
}

TEST_F(Defaults, NoneInAParallelLoop) {
  std::vector<double> m = {1, 2, 3, 4, 5, 6};
  std::vector<double> w = {0.5, -1, 2};
  auto mv = stn::ArrayView::of(m.data(), {2, 3});
  auto k = Mod.kernel("rows");
  EXPECT_EQ(valuesOf<double>(k(mv), {2}), (std::vector<double>{6, 15}));
  EXPECT_EQ(valuesOf<double>(k(mv, stn::ArrayView::of(w.data(), {3})), {2}),
            (std::vector<double>{0.5 - 2 + 6, 2 - 5 + 12}));
}

TEST_F(Defaults, HostCallErrors) {
  auto k = Mod.kernel("scale");
  std::vector<double> a = {1};
  auto av = stn::ArrayView::of(a.data(), {1});
  EXPECT_EQ(errorOf([&] { k(av, 1.0, 2.0, av, 5.0); }),
            "error: kernel 'scale' takes from 1 to 4 arguments (a, factor, shift, out) but 5 "
            "were given");
  EXPECT_EQ(errorOf([&] { k(); }),
            "error: kernel 'scale' takes from 1 to 4 arguments (a, factor, shift, out) but 0 "
            "were given");
  EXPECT_EQ(errorOf([&] { k.call({av}, {{"scale", 1.0}}); }),
            "error: kernel 'scale' does not take the keyword argument 'scale'; its parameters "
            "are: a, factor, shift, out");
  EXPECT_EQ(errorOf([&] { k.call({av, 1.0}, {{"factor", 1.0}}); }),
            "error: kernel 'scale' got two values for argument 'factor'");
  EXPECT_EQ(errorOf([&] { k.call({}, {{"factor", 1.0}}); }),
            "error: kernel 'scale' is missing argument 'a' (it has no default value)");
  std::vector<double> m = {3, 1, 2, 0};
  std::string sorted =
      errorOf([&] { Mod.kernel("sort_rows")(stn::ArrayView::of(m.data(), {2, 2})); });
  EXPECT_NE(sorted.find("a.sort() sorts in place along an axis, not the flattened array"),
            std::string::npos)
      << sorted;
  EXPECT_EQ(errorOf([&] { Mod.kernel("shaped")(int64_t(2)); }),
            "error: kernel 'shaped': parameter 'shape' defaults to a tuple, which a host call "
            "cannot pass; call 'shaped' from a kernel instead");
}

TEST(DefaultsCache, NoneArgumentsComeBackFromTheCache) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "stn-defaults-cache-test";
  fs::remove_all(dir);
  stn::EngineOptions o;
  o.cacheDir = dir.string();
  std::vector<double> a = {1, 2};
  for (int run = 0; run < 2; ++run) {
    stn::Engine engine(o);
    stn::Module m = engine.loadString(Kernels, "defaults.stn");
    stn::Value r = m.kernel("scale")(stn::ArrayView::of(a.data(), {2}));
    EXPECT_EQ(valuesOf<double>(r, {2}), (std::vector<double>{2, 4})) << run;
    // The second engine compiles nothing: `scale` with out=None (and the
    // kernel with an explicit signature) come from the cache.
    if (run == 0)
      EXPECT_GT(engine.cacheStats().compilations, 0u);
    else
      EXPECT_EQ(engine.cacheStats().compilations, 0u);
  }
  fs::remove_all(dir);
}

} // namespace

namespace {

const char *AxisKernels = R"STN(
import numpy as np
from numba import njit, prange

@njit
def sums(a, axis=0):
    return np.sum(a, axis=axis), a.max(axis), np.argmin(a, axis=axis), np.mean(a, axis)

@njit
def running(a, axis):
    return np.cumsum(a, axis=axis), np.sort(a, axis=axis), np.median(a, axis=axis)

@njit(parallel=True)
def per_row(a, axis):
    out = np.zeros(a.shape[0])
    for i in prange(a.shape[0]):
        out[i] = np.sum(a[i] * 2, axis=axis)[0]
    return out
)STN";

/// A 3-d array of shape (2, 3, 4) with distinct values in no order.
std::vector<double> cube() {
  std::vector<double> v(24);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<double>((i * 7) % 24) - 5.0;
  return v;
}

/// The elements of `a` (shape `shape`, C order) reduced along `axis` by
/// `fn`, which gets each lane.
template <class R>
std::vector<R> alongAxis(const std::vector<double> &a, std::vector<int64_t> shape, int axis,
                         const std::function<R(std::vector<double>)> &fn) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  std::vector<R> out;
  int64_t total = static_cast<int64_t>(a.size()) / shape[axis];
  for (int64_t k = 0; k < total; ++k) {
    // k enumerates the other axes in C order.
    int64_t rest = k, base = 0;
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
      if (d == axis)
        continue;
      base += (rest % shape[d]) * strides[d];
      rest /= shape[d];
    }
    std::vector<double> lane;
    for (int64_t j = 0; j < shape[axis]; ++j)
      lane.push_back(a[base + j * strides[axis]]);
    out.push_back(fn(lane));
  }
  return out;
}

TEST(RuntimeAxis, ReductionsAlongAnAxisGivenAtRunTime) {
  stn::Engine engine(stn::test::noCache());
  stn::Module m = engine.loadString(AxisKernels, "axis.stn");
  std::vector<double> a = cube();
  std::vector<int64_t> shape = {2, 3, 4};
  for (int64_t given : {0, 1, 2, -1, -3}) {
    int axis = static_cast<int>(given < 0 ? given + 3 : given);
    std::vector<int64_t> out;
    for (int d = 0; d < 3; ++d)
      if (d != axis)
        out.push_back(shape[d]);
    stn::Value r = m.kernel("sums")(stn::ArrayView::of(a.data(), shape), given);
    auto sum = alongAxis<double>(a, shape, axis, [](std::vector<double> l) {
      double s = 0;
      for (double x : l)
        s += x;
      return s;
    });
    auto mx = alongAxis<double>(a, shape, axis, [](std::vector<double> l) {
      return *std::max_element(l.begin(), l.end());
    });
    auto amin = alongAxis<int64_t>(a, shape, axis, [](std::vector<double> l) {
      return static_cast<int64_t>(std::min_element(l.begin(), l.end()) - l.begin());
    });
    EXPECT_EQ(valuesOf<double>(r[0], out), sum) << given;
    EXPECT_EQ(valuesOf<double>(r[1], out), mx) << given;
    EXPECT_EQ(valuesOf<int64_t>(r[2], out), amin) << given;
    std::vector<double> mean = sum;
    for (double &x : mean)
      x /= static_cast<double>(shape[axis]);
    std::vector<double> got = valuesOf<double>(r[3], out);
    for (size_t i = 0; i < mean.size(); ++i)
      EXPECT_NEAR(got[i], mean[i], 1e-12) << given;
  }
  // The default value: axis 0.
  stn::Value r0 = m.kernel("sums")(stn::ArrayView::of(a.data(), shape));
  EXPECT_EQ(r0[0].array().shape(), (std::vector<int64_t>{3, 4}));
  std::string msg = errorOf([&] { m.kernel("sums")(stn::ArrayView::of(a.data(), shape), 3L); });
  EXPECT_NE(msg.find("AxisError: axis 3 is out of bounds for array of dimension 3"),
            std::string::npos)
      << msg;
  msg = errorOf([&] { m.kernel("sums")(stn::ArrayView::of(a.data(), shape), -4L); });
  EXPECT_NE(msg.find("AxisError: axis -4 is out of bounds"), std::string::npos) << msg;
}

TEST(RuntimeAxis, ScansSortsAndMediansAlongAnAxisGivenAtRunTime) {
  stn::Engine engine(stn::test::noCache());
  stn::Module m = engine.loadString(AxisKernels, "axis.stn");
  std::vector<double> a = cube();
  std::vector<int64_t> shape = {2, 3, 4};
  for (int axis = 0; axis < 3; ++axis) {
    stn::Value r = m.kernel("running")(stn::ArrayView::of(a.data(), shape), int64_t(axis));
    // cumsum and sort keep the shape: compare lane by lane.
    std::vector<double> cs = valuesOf<double>(r[0], shape), so = valuesOf<double>(r[1], shape);
    auto lanes = [&](const std::vector<double> &v) {
      return alongAxis<std::vector<double>>(v, shape, axis,
                                            [](std::vector<double> l) { return l; });
    };
    auto in = lanes(a), gotCs = lanes(cs), gotSo = lanes(so);
    for (size_t k = 0; k < in.size(); ++k) {
      std::vector<double> want = in[k];
      std::partial_sum(want.begin(), want.end(), want.begin());
      EXPECT_EQ(gotCs[k], want) << axis;
      want = in[k];
      std::sort(want.begin(), want.end());
      EXPECT_EQ(gotSo[k], want) << axis;
    }
    std::vector<int64_t> out;
    for (int d = 0; d < 3; ++d)
      if (d != axis)
        out.push_back(shape[d]);
    auto med = alongAxis<double>(a, shape, axis, [](std::vector<double> l) {
      std::sort(l.begin(), l.end());
      size_t n = l.size();
      return n % 2 ? l[n / 2] : (l[n / 2 - 1] + l[n / 2]) / 2;
    });
    EXPECT_EQ(valuesOf<double>(r[2], out), med) << axis;
  }
}

TEST(RuntimeAxis, InsideAParallelLoop) {
  stn::Engine engine(stn::test::noCache(4));
  stn::Module m = engine.loadString(AxisKernels, "axis.stn");
  std::vector<double> a = cube();
  // a[i] is (3, 4); np.sum(a[i] * 2, axis)[0].
  for (int64_t axis : {0, 1}) {
    stn::Value r = m.kernel("per_row")(stn::ArrayView::of(a.data(), {2, 3, 4}), axis);
    std::vector<double> want;
    for (int i = 0; i < 2; ++i) {
      double s = 0;
      if (axis == 0)
        for (int j = 0; j < 3; ++j)
          s += 2 * a[i * 12 + j * 4];
      else
        for (int k = 0; k < 4; ++k)
          s += 2 * a[i * 12 + k];
      want.push_back(s);
    }
    EXPECT_EQ(valuesOf<double>(r, {2}), want) << axis;
  }
}

} // namespace
