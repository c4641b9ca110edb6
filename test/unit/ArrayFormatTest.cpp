//===- ArrayFormatTest.cpp - stn::toString against NumPy's str() ----------===//
//
// ArrayFormatCases.inc holds arrays of every dtype and NumPy's own str() of
// each (generated with NumPy by Inputs/gen-array-format-cases.py): small
// and empty arrays, 0-d arrays, integer extremes, floats that need
// scientific notation, rounding to 8 digits, NaN and infinities, signed
// zeros, float32 digits, complex numbers, random values over many
// magnitudes, rows wrapped at 75 columns and summarized arrays of more
// than 1000 elements in 1 to 5 dimensions. Views with other strides must
// print as their contiguous copies do. Inputs/compare-array-format.py
// compares thousands of random arrays with NumPy outside CI.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <gtest/gtest.h>

#include <complex>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Case {
  const char *dtype;
  std::vector<int64_t> shape;
  std::vector<const char *> elements;
  double start, step;
  const char *expected;
};

const Case Cases[] = {
#include "ArrayFormatCases.inc"
};

template <class T> void put(std::vector<char> &buf, size_t i, T x) {
  std::memcpy(buf.data() + i * sizeof(T), &x, sizeof(T));
}

/// The case's array: its listed elements, or arange(size) * step + start
/// computed in float64 and cast, as NumPy's astype casts.
stn::Array build(const Case &c) {
  stn::DType dt = *stn::parseDType(c.dtype);
  stn::Array a(dt, c.shape);
  std::vector<char> buf(a.nbytes());
  int64_t n = a.size();
  bool listed = !c.elements.empty();
  auto value = [&](int64_t i, int part) {
    if (!listed)
      return part ? 0.0 : static_cast<double>(i) * c.step + c.start;
    size_t per = dt == stn::DType::Complex64 || dt == stn::DType::Complex128 ? 2 : 1;
    return std::strtod(c.elements[static_cast<size_t>(i) * per + part], nullptr);
  };
  auto integer = [&](int64_t i) -> std::string {
    return listed ? c.elements[i] : std::to_string(static_cast<int64_t>(value(i, 0)));
  };
  for (int64_t i = 0; i < n; ++i) {
    size_t at = static_cast<size_t>(i);
    switch (dt) {
    case stn::DType::Bool: put<uint8_t>(buf, at, value(i, 0) != 0); break;
    case stn::DType::Int8: put<int8_t>(buf, at, std::stoll(integer(i))); break;
    case stn::DType::Int16: put<int16_t>(buf, at, std::stoll(integer(i))); break;
    case stn::DType::Int32: put<int32_t>(buf, at, std::stoll(integer(i))); break;
    case stn::DType::Int64: put<int64_t>(buf, at, std::stoll(integer(i))); break;
    case stn::DType::UInt8: put<uint8_t>(buf, at, std::stoull(integer(i))); break;
    case stn::DType::UInt16: put<uint16_t>(buf, at, std::stoull(integer(i))); break;
    case stn::DType::UInt32: put<uint32_t>(buf, at, std::stoull(integer(i))); break;
    case stn::DType::UInt64: put<uint64_t>(buf, at, std::stoull(integer(i))); break;
    case stn::DType::Float32: put<float>(buf, at, static_cast<float>(value(i, 0))); break;
    case stn::DType::Float64: put<double>(buf, at, value(i, 0)); break;
    case stn::DType::Complex64:
      put(buf, at, std::complex<float>(static_cast<float>(value(i, 0)),
                                       static_cast<float>(value(i, 1))));
      break;
    case stn::DType::Complex128:
      put(buf, at, std::complex<double>(value(i, 0), value(i, 1)));
      break;
    }
  }
  if (!buf.empty()) // (an empty array may have no data pointer)
    std::memcpy(a.data(), buf.data(), buf.size());
  return a;
}

std::string describe(const Case &c) {
  std::string s = std::string(c.dtype) + " (";
  for (int64_t d : c.shape)
    s += std::to_string(d) + ",";
  return s + ")";
}

TEST(ArrayFormat, MatchesNumPysStr) {
  size_t checked = 0;
  for (const Case &c : Cases) {
    stn::Array a = build(c);
    EXPECT_EQ(stn::toString(a), c.expected) << describe(c);
    ++checked;
  }
  EXPECT_GT(checked, 150u);
}

/// The same elements seen through other strides (reversed, transposed)
/// print as a C-contiguous copy of the view does.
TEST(ArrayFormat, StridedViewsPrintTheirElements) {
  for (const Case &c : Cases) {
    stn::Array a = build(c);
    if (a.rank() == 0 || a.size() == 0)
      continue;
    stn::ArrayView reversed = a.view();
    reversed.data = static_cast<char *>(a.data()) + (a.shape()[0] - 1) * a.strides()[0];
    reversed.strides[0] = -a.strides()[0];
    EXPECT_EQ(stn::toString(reversed), stn::toString(stn::Array::copyOf(reversed)))
        << describe(c);
    if (a.rank() >= 2) {
      stn::ArrayView t = a.view();
      std::swap(t.shape[0], t.shape[1]);
      std::swap(t.strides[0], t.strides[1]);
      EXPECT_EQ(stn::toString(t), stn::toString(stn::Array::copyOf(t))) << describe(c);
    }
  }
  // Reversing changes the text: the check above compares different strings
  // for different element orders.
  std::vector<int64_t> v = {1, 2, 3};
  stn::ArrayView r = stn::ArrayView::of(v.data() + 2, {3});
  r.strides[0] = -8;
  EXPECT_EQ(stn::toString(r), "[3 2 1]");
}

TEST(ArrayFormat, RejectsBrokenViews) {
  double x = 1;
  stn::ArrayView v(&x, stn::DType::Float64, {1, 1}, {8});
  EXPECT_THROW(stn::toString(v), stn::Error);
  stn::ArrayView none(nullptr, stn::DType::Float64, {2}, {8});
  EXPECT_THROW(stn::toString(none), stn::Error);
}

} // namespace
