//===- CallErrorsTest.cpp - Call-time checks and warnings of the host API -===//
//
// Every mistake a host program can make when it calls a kernel must come
// back as an stn::Error whose message names the parameter (and the kernel),
// before any kernel code runs: the wrong number of arguments, a dtype no
// signature accepts, a rank the kernel cannot take, gufunc core dimensions
// that disagree, arguments that do not broadcast, malformed views (null or
// misaligned data, negative extents, strides that are not whole elements),
// and an out= that is read-only or of the wrong shape. After an error the
// engine keeps working. Warnings found when loading are available from the
// Module.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace {

using stn::test::errorOf;
using stn::test::noCache;

const char *Kernels = R"STN(
import numpy as np
from numba import jit, vectorize, guvectorize, stencil

@jit
def total(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
    return s

@jit("f8(f8[:])")
def total_sig(a):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
    return s

@jit
def corner(m):
    return m[0, 0]

@vectorize
def add(x, y):
    return x + y

@guvectorize("(m,n),(n)->(m)")
def matvec(A, x):
    out = np.zeros(A.shape[0])
    for i in range(A.shape[0]):
        for j in range(x.shape[0]):
            out[i] += A[i, j] * x[j]
    return out

@stencil
def blur(a):
    return (a[-1] + a[0] + a[1]) / 3
)STN";

class CallErrors : public ::testing::Test {
protected:
  CallErrors() : Engine(noCache()), Mod(Engine.loadString(Kernels, "calls.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

TEST_F(CallErrors, WrongNumberOfArgumentsNamesTheParameters) {
  std::vector<double> a(4, 1.0);
  std::string e = errorOf([&] { Mod.kernel("total")(stn::ArrayView::of(a.data(), {4}), 1.0); });
  EXPECT_NE(e.find("kernel 'total' takes 1 argument (a) but 2 were given"), std::string::npos)
      << e;
  e = errorOf([&] { Mod.kernel("add").call({}); });
  EXPECT_NE(e.find("kernel 'add' takes 2 arguments (x, y) but 0 were given"), std::string::npos)
      << e;
}

TEST_F(CallErrors, DtypeWithoutSignatureIsRejected) {
  std::vector<float> f(4, 1.0f);
  std::string e = errorOf([&] { Mod.kernel("total_sig")(stn::ArrayView::of(f.data(), {4})); });
  EXPECT_NE(e.find("no signature of 'total_sig' accepts argument types (f32[::1])"),
            std::string::npos)
      << e;
}

TEST_F(CallErrors, RankMismatchPointsAtTheKernel) {
  std::vector<double> a(4, 1.0);
  // corner indexes two axes; a 1-d array cannot be specialized.
  std::string e = errorOf([&] { Mod.kernel("corner")(stn::ArrayView::of(a.data(), {4})); });
  EXPECT_NE(e.find("calls.stn:"), std::string::npos) << e;
  EXPECT_NE(e.find("too many indices for array"), std::string::npos) << e;
}

TEST_F(CallErrors, GufuncCoreDimensionMismatchNamesBothParameters) {
  std::vector<double> A(12, 1.0), x(3, 1.0);
  std::string e = errorOf([&] {
    Mod.kernel("matvec")(stn::ArrayView::of(A.data(), {3, 4}), stn::ArrayView::of(x.data(), {3}));
  });
  EXPECT_NE(e.find("core dimension 'n' is 3 in 'x' but 4 in 'A'"), std::string::npos) << e;
  EXPECT_NE(e.find("note: in kernel 'matvec' defined at calls.stn:"), std::string::npos) << e;
}

TEST_F(CallErrors, BroadcastingFailureNamesBothParameters) {
  std::vector<double> x(3, 1.0), y(4, 1.0);
  std::string e = errorOf([&] {
    Mod.kernel("add")(stn::ArrayView::of(x.data(), {3}), stn::ArrayView::of(y.data(), {4}));
  });
  EXPECT_NE(e.find("cannot broadcast the arguments of 'add': 'y' has extent 4 on axis 0 but "
                   "'x' has 3"),
            std::string::npos)
      << e;
}

TEST_F(CallErrors, MalformedViewsNameTheParameter) {
  std::vector<double> a(4, 1.0);
  stn::Kernel k = Mod.kernel("total");
  // Null data with a nonzero size.
  std::string e = errorOf([&] { k(stn::ArrayView(nullptr, stn::DType::Float64, {4}, {8})); });
  EXPECT_NE(e.find("argument 'a': null data pointer"), std::string::npos) << e;
  // Null data is fine for an empty array.
  EXPECT_EQ(k(stn::ArrayView(nullptr, stn::DType::Float64, {0}, {8})).asDouble(), 0.0);
  // A float64 element pointer that is not 8-byte aligned.
  char *odd = reinterpret_cast<char *>(a.data()) + 1;
  e = errorOf([&] { k(stn::ArrayView(odd, stn::DType::Float64, {2}, {8})); });
  EXPECT_NE(e.find("argument 'a': data pointer is not aligned to 8 bytes"), std::string::npos)
      << e;
  e = errorOf([&] { k(stn::ArrayView(a.data(), stn::DType::Float64, {-1}, {8})); });
  EXPECT_NE(e.find("argument 'a': negative extent -1 in dimension 0"), std::string::npos) << e;
  e = errorOf([&] { k(stn::ArrayView(a.data(), stn::DType::Float64, {2}, {12})); });
  EXPECT_NE(e.find("argument 'a': stride 12 of dimension 0 is not a multiple of the item size"),
            std::string::npos)
      << e;
  e = errorOf([&] { k(stn::ArrayView(a.data(), stn::DType::Float64, {2}, {8, 8})); });
  EXPECT_NE(e.find("argument 'a': 2 strides given for 1 dimensions"), std::string::npos) << e;
  e = errorOf([&] { k(stn::ArrayView(a.data(), stn::DType::Float64, {}, {})); });
  EXPECT_NE(e.find("argument 'a': 0-dimensional arrays are not supported"), std::string::npos)
      << e;
  std::vector<int64_t> nine(9, 1);
  e = errorOf([&] { k(stn::ArrayView(a.data(), stn::DType::Float64, nine, nine)); });
  EXPECT_NE(e.find("arrays of more than 8 dimensions are not supported"), std::string::npos) << e;
}

TEST_F(CallErrors, OutArgumentChecks) {
  std::vector<double> x(3, 1.0), y(3, 2.0), out(3, 0.0), small(2, 0.0);
  stn::Kernel add = Mod.kernel("add");
  auto xv = stn::ArrayView::of(x.data(), {3});
  auto yv = stn::ArrayView::of(y.data(), {3});
  stn::ArrayView ro = stn::ArrayView::of(out.data(), {3});
  ro.readonly = true;
  std::string e = errorOf([&] { add.call({xv, yv}, {{"out", ro}}); });
  EXPECT_NE(e.find("out= of kernel 'add' is read-only"), std::string::npos) << e;
  e = errorOf([&] { add.call({xv, yv}, {{"out", 1.0}}); });
  EXPECT_NE(e.find("out= of kernel 'add' must be an array"), std::string::npos) << e;
  e = errorOf([&] { add.call({xv, yv}, {{"out", stn::ArrayView::of(small.data(), {2})}}); });
  EXPECT_NE(e.find("out= of 'add' has shape (2,) but the result has shape (3,)"),
            std::string::npos)
      << e;
  e = errorOf([&] { add.call({xv, yv}, {{"where", xv}}); });
  EXPECT_NE(e.find("does not take the keyword argument 'where'"), std::string::npos) << e;
  e = errorOf([&] { Mod.kernel("total").call({xv}, {{"out", yv}}); });
  EXPECT_NE(e.find("kernel 'total' does not take the keyword argument 'out'"), std::string::npos)
      << e;
  // Nothing was written by the rejected calls; a correct call still works.
  EXPECT_EQ(out, std::vector<double>(3, 0.0));
  add.call({xv, yv}, {{"out", stn::ArrayView::of(out.data(), {3})}});
  EXPECT_EQ(out, std::vector<double>(3, 3.0));
}

TEST_F(CallErrors, OutMustNotOverlapWhatTheKernelStillReads) {
  std::vector<double> x = {1, 2, 3, 4, 5}, y(5, 10.0);
  auto xv = stn::ArrayView::of(x.data(), {5});
  auto yv = stn::ArrayView::of(y.data(), {5});
  // A ufunc may write into exactly one of its inputs (NumPy's in place)...
  Mod.kernel("add").call({xv, yv}, {{"out", xv}});
  EXPECT_EQ(x, (std::vector<double>{11, 12, 13, 14, 15}));
  // ...but not into a shifted view of it.
  auto head = stn::ArrayView::of(x.data(), {4}), tail = stn::ArrayView::of(x.data() + 1, {4});
  std::string e =
      errorOf([&] { Mod.kernel("add").call({head, stn::ArrayView::of(y.data(), {4})}, {{"out", tail}}); });
  EXPECT_NE(e.find("out= of 'add' shares memory with the input 'x' without being exactly the "
                   "same array"),
            std::string::npos)
      << e;
  // A stencil reads neighbours: no overlap at all.
  e = errorOf([&] { Mod.kernel("blur").call({xv}, {{"out", xv}}); });
  EXPECT_NE(e.find("out= of 'blur' shares memory with the input 'a': the stencil would read "
                   "neighbours it has already overwritten"),
            std::string::npos)
      << e;
  // Interleaved views (even and odd elements) share no element, but their
  // byte ranges overlap: the check is conservative and refuses them.
  std::vector<double> both(10, 1.0);
  stn::ArrayView even(both.data(), stn::DType::Float64, {5}, {16});
  stn::ArrayView odd(both.data() + 1, stn::DType::Float64, {5}, {16});
  e = errorOf([&] { Mod.kernel("blur").call({even}, {{"out", odd}}); });
  EXPECT_NE(e.find("shares memory"), std::string::npos) << e;
  // Separate arrays are fine, and nothing was written by the refused calls.
  std::vector<double> out(5, 0.0);
  Mod.kernel("blur").call({xv}, {{"out", stn::ArrayView::of(out.data(), {5})}});
  EXPECT_DOUBLE_EQ(out[2], (12.0 + 13 + 14) / 3);
  EXPECT_EQ(x, (std::vector<double>{11, 12, 13, 14, 15}));
}

TEST(ReadOnlyArrays, WritesIntoReadOnlyArgumentsAreRefused) {
  stn::Engine engine(noCache());
  stn::Module m = engine.loadString(R"(
import numpy as np
from numba import njit, vectorize

@njit
def reads(a):
    return a.sum() + a[0]

@njit
def writes(a):
    a[0] = 1.0

@njit
def through_view(a, b):
    r = a[1:]
    s = 0.0
    for i in range(b.shape[0]):
        s += b[i]
    r[0] = s

@njit
def in_place(a):
    a *= 2.0

@njit
def fill(x):
    x[:] = 0.0

@njit
def via_callee(a, b):
    fill(b)
    return a.sum()

@vectorize
def twice(x):
    return 2.0 * x

@njit
def ufunc_out(a, b):
    twice(a, out=b)
)",
                                    "ro.stn");
  std::vector<double> x = {1, 2, 3}, y = {4, 5, 6};
  stn::ArrayView ro = stn::ArrayView::of(x.data(), {3});
  ro.readonly = true;
  stn::ArrayView rw = stn::ArrayView::of(y.data(), {3});
  EXPECT_EQ(m.kernel("reads")(ro).asDouble(), 7.0);
  std::string e = errorOf([&] { m.kernel("writes")(ro); });
  EXPECT_NE(e.find("ro.stn:11:5: error: argument 'a' of kernel 'writes' is read-only, but the "
                   "kernel may write to it here"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("    a[0] = 1.0"), std::string::npos) << e;
  e = errorOf([&] { m.kernel("through_view")(ro, rw); });
  EXPECT_NE(e.find("ro.stn:19:5: error: argument 'a' of kernel 'through_view' is read-only"),
            std::string::npos)
      << e;
  // b is only read: a read-only b is fine.
  stn::ArrayView roY = stn::ArrayView::of(y.data(), {3});
  roY.readonly = true;
  m.kernel("through_view")(stn::ArrayView::of(x.data(), {3}), roY);
  EXPECT_EQ(x[1], 15.0);
  x = {1, 2, 3};
  e = errorOf([&] { m.kernel("in_place")(ro); });
  EXPECT_NE(e.find("argument 'a' of kernel 'in_place' is read-only"), std::string::npos) << e;
  e = errorOf([&] { m.kernel("via_callee")(rw, ro); });
  EXPECT_NE(e.find("ro.stn:31:5: error: argument 'b' of kernel 'via_callee' is read-only"),
            std::string::npos)
      << e;
  EXPECT_EQ(m.kernel("via_callee")(ro, rw).asDouble(), 6.0);
  e = errorOf([&] { m.kernel("ufunc_out")(rw, ro); });
  EXPECT_NE(e.find("argument 'b' of kernel 'ufunc_out' is read-only"), std::string::npos) << e;
  // Nothing was written into the read-only array by the refused calls.
  EXPECT_EQ(x, (std::vector<double>{1, 2, 3}));
}

TEST_F(CallErrors, EngineWorksAfterErrors) {
  std::vector<double> a = {1, 2, 3, 4};
  stn::Kernel k = Mod.kernel("total");
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(errorOf([&] { k(stn::ArrayView(nullptr, stn::DType::Float64, {4}, {8})); }),
              "<no error>");
    EXPECT_EQ(k(stn::ArrayView::of(a.data(), {4})).asDouble(), 10.0);
  }
}

TEST(ModuleWarnings, LoadWarningsAreAvailableAndDoNotFail) {
  stn::Engine engine(noCache());
  stn::Module m = engine.loadString(R"(
@jit
def f(n):
    unused = 1
    _fine = 2
    return n
    n = 3
)",
                                    "warn.stn");
  const std::vector<std::string> &w = m.warnings();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("warn.stn:7:5: warning: unreachable code after 'return'"),
            std::string::npos)
      << w[0];
  EXPECT_NE(w[1].find("warn.stn:4:5: warning: local variable 'unused' is assigned but never "
                      "used"),
            std::string::npos)
      << w[1];
  EXPECT_EQ(m.kernel("f")(int64_t{5}).asInt(), 5);
  stn::Module clean = engine.loadString("@jit\ndef g(x):\n    return x\n", "clean.stn");
  EXPECT_TRUE(clean.warnings().empty());
}

} // namespace
