//===- ArrayFromSequenceTest.cpp - np.array and np.asarray -----------------===//
//
// Each result against values written out in C++:
//   - nested lists and tuples of literals, variables and tuple values
//     (a.shape), in C order;
//   - the dtype NumPy gives (int64 for Python ints, float64 for floats,
//     complex128, bool; typed scalars promote as in np.result_type) and
//     dtype= given by keyword and by position;
//   - np.array(a) copies (writes to the copy leave `a` alone), with a
//     dtype it converts as astype does; np.asarray(a) is `a` itself
//     (writes reach the caller), with another dtype a converted copy.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <complex>
#include <cstdint>
#include <vector>

namespace {

using stn::test::valuesOf;

const char *Kernels = R"STN(
import numpy as np
from numba import njit

@njit
def table():
    return np.array([[1, 2, 3], [4, 5, -6]])

@njit
def promoted(x, y):
    return np.array([x, y])

@njit
def with_literal(x):
    return np.array([x, 1.5])

@njit
def keyword_dtype(x):
    return np.array([(x, 2), (3, 4)], dtype=np.float32)

@njit
def positional_dtype(x):
    return np.array([x, 300, -1], np.uint8)

@njit
def tuples(a, x):
    t = (x, x + 1)
    return np.array([a.shape, t, (7, 8)])

@njit
def complex_and_bool(x):
    return np.array([1, 2j, x]), np.array([True, x > 0, False])

@njit
def empty():
    return np.array([])

@njit
def copy_then_write(a):
    b = np.array(a)
    b[0] = -1.0
    return b

@njit
def converted(a):
    return np.array(a, dtype=np.int16)

@njit
def asarray_writes(a):
    b = np.asarray(a)
    b[1] = 42.0
    c = np.asarray(a, np.float32)
    c[2] = 0.0
    return c

@njit
def weights(img):
    k = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
    return (img * k).sum()
)STN";

class ArrayFromSequence : public ::testing::Test {
protected:
  ArrayFromSequence() : Mod(Engine.loadString(Kernels, "arrays.stn")) {}
  stn::Engine Engine;
  stn::Module Mod;
};

TEST_F(ArrayFromSequence, NestedListsAndTuples) {
  stn::Value t = Mod.kernel("table")();
  EXPECT_EQ(t.array().dtype(), stn::DType::Int64);
  EXPECT_EQ(valuesOf<int64_t>(t, {2, 3}), (std::vector<int64_t>{1, 2, 3, 4, 5, -6}));

  std::vector<double> a(12);
  stn::Value u = Mod.kernel("tuples")(stn::ArrayView::of(a.data(), {3, 4}), int64_t(10));
  EXPECT_EQ(valuesOf<int64_t>(u, {3, 2}), (std::vector<int64_t>{3, 4, 10, 11, 7, 8}));

  stn::Value e = Mod.kernel("empty")();
  EXPECT_EQ(e.array().dtype(), stn::DType::Float64);
  EXPECT_EQ(e.array().shape(), (std::vector<int64_t>{0}));

  std::vector<double> img = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const double k[9] = {1, 2, 1, 2, 4, 2, 1, 2, 1};
  double want = 0;
  for (int i = 0; i < 9; ++i)
    want += img[size_t(i)] * (k[i] / 16);
  EXPECT_DOUBLE_EQ(Mod.kernel("weights")(stn::ArrayView::of(img.data(), {3, 3})).asDouble(),
                   want);
}

TEST_F(ArrayFromSequence, DtypesAsNumPyGivesThem) {
  // Typed scalars promote as np.result_type does.
  stn::Value i16 = Mod.kernel("promoted")(stn::Scalar(int8_t(-3)), stn::Scalar(int16_t(1000)));
  EXPECT_EQ(i16.array().dtype(), stn::DType::Int16);
  EXPECT_EQ(valuesOf<int16_t>(i16, {2}), (std::vector<int16_t>{-3, 1000}));
  stn::Value f = Mod.kernel("promoted")(stn::Scalar(int64_t(-2)), stn::Scalar(uint64_t(5)));
  EXPECT_EQ(f.array().dtype(), stn::DType::Float64);
  EXPECT_EQ(valuesOf<double>(f, {2}), (std::vector<double>{-2.0, 5.0}));
  // A Python float is float64 in np.array, also beside a float32.
  stn::Value lit = Mod.kernel("with_literal")(stn::Scalar(0.25f));
  EXPECT_EQ(lit.array().dtype(), stn::DType::Float64);
  EXPECT_EQ(valuesOf<double>(lit, {2}), (std::vector<double>{0.25, 1.5}));

  stn::Value kw = Mod.kernel("keyword_dtype")(int64_t(9));
  EXPECT_EQ(kw.array().dtype(), stn::DType::Float32);
  EXPECT_EQ(valuesOf<float>(kw, {2, 2}), (std::vector<float>{9, 2, 3, 4}));
  // Conversions wrap like C casts (NumPy's unsafe casting).
  stn::Value pos = Mod.kernel("positional_dtype")(int64_t(7));
  EXPECT_EQ(pos.array().dtype(), stn::DType::UInt8);
  EXPECT_EQ(valuesOf<uint8_t>(pos, {3}), (std::vector<uint8_t>{7, uint8_t(300), 255}));

  stn::Value cb = Mod.kernel("complex_and_bool")(-1.5);
  EXPECT_EQ(cb[0].array().dtype(), stn::DType::Complex128);
  EXPECT_EQ(valuesOf<std::complex<double>>(cb[0], {3}),
            (std::vector<std::complex<double>>{{1, 0}, {0, 2}, {-1.5, 0}}));
  EXPECT_EQ(cb[1].array().dtype(), stn::DType::Bool);
  EXPECT_EQ(valuesOf<uint8_t>(cb[1], {3}), (std::vector<uint8_t>{1, 0, 0}));
}

TEST_F(ArrayFromSequence, CopiesAndViewsOfArrays) {
  std::vector<double> a = {1.5, 2.5, -3.75, 4.0};
  std::vector<double> before = a;
  auto av = stn::ArrayView::of(a.data(), {4});
  EXPECT_EQ(valuesOf<double>(Mod.kernel("copy_then_write")(av), {4}),
            (std::vector<double>{-1.0, 2.5, -3.75, 4.0}));
  EXPECT_EQ(a, before); // np.array copied
  EXPECT_EQ(valuesOf<int16_t>(Mod.kernel("converted")(av), {4}),
            (std::vector<int16_t>{1, 2, -3, 4}));

  // np.asarray(a) is a: the write reaches the caller; with float32 it is a
  // converted copy, and its write does not.
  stn::Value c = Mod.kernel("asarray_writes")(av);
  EXPECT_EQ(c.array().dtype(), stn::DType::Float32);
  EXPECT_EQ(valuesOf<float>(c, {4}), (std::vector<float>{1.5f, 42.0f, 0.0f, 4.0f}));
  EXPECT_EQ(a, (std::vector<double>{1.5, 42.0, -3.75, 4.0}));
}

} // namespace
