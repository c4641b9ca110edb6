//===- ArrayTest.cpp - Unit tests for dtypes, arrays, scalars, values -----===//
//
// Part of the stn unit tests (stn-unit-tests).
//
// Covers the public value types that need no compiler: the dtype name tables
// and their parser, view contiguity rules (NumPy's), owning arrays and deep
// copies of arbitrary strided views, scalar conversions and native storage,
// and the JSON text that `stn run` prints.
//
//===----------------------------------------------------------------------===//

#include "stn/Array.h"
#include "stn/Error.h"
#include "stn/Value.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>

using namespace stn;
using ::testing::HasSubstr;

namespace {

const DType AllDTypes[] = {
    DType::Bool,    DType::Int8,    DType::Int16,     DType::Int32,     DType::Int64,
    DType::UInt8,   DType::UInt16,  DType::UInt32,    DType::UInt64,    DType::Float32,
    DType::Float64, DType::Complex64, DType::Complex128,
};

//===----------------------------------------------------------------------===//
// DType names
//===----------------------------------------------------------------------===//

struct DTypeRow {
  DType dtype;
  size_t size;
  const char *name;
  const char *shortName;
};

const DTypeRow DTypeTable[] = {
    {DType::Bool, 1, "bool", "bool"},
    {DType::Int8, 1, "int8", "i8"},
    {DType::Int16, 2, "int16", "i16"},
    {DType::Int32, 4, "int32", "i32"},
    {DType::Int64, 8, "int64", "i64"},
    {DType::UInt8, 1, "uint8", "u8"},
    {DType::UInt16, 2, "uint16", "u16"},
    {DType::UInt32, 4, "uint32", "u32"},
    {DType::UInt64, 8, "uint64", "u64"},
    {DType::Float32, 4, "float32", "f32"},
    {DType::Float64, 8, "float64", "f64"},
    {DType::Complex64, 8, "complex64", "c64"},
    {DType::Complex128, 16, "complex128", "c128"},
};

TEST(DTypeTest, NamesAndSizes) {
  for (const DTypeRow &row : DTypeTable) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(itemSize(row.dtype), row.size);
    EXPECT_EQ(dtypeName(row.dtype), row.name);
    EXPECT_EQ(dtypeShortName(row.dtype), row.shortName);
    EXPECT_EQ(parseDType(row.name), row.dtype);
    EXPECT_EQ(parseDType(row.shortName), row.dtype);
  }
}

TEST(DTypeTest, Aliases) {
  const std::pair<const char *, DType> aliases[] = {
      // Byte-count codes that cannot be read as bit counts.
      {"i1", DType::Int8}, {"i2", DType::Int16}, {"i4", DType::Int32},
      {"u1", DType::UInt8}, {"u2", DType::UInt16}, {"u4", DType::UInt32},
      {"f4", DType::Float32}, {"f8", DType::Float64},
      {"c8", DType::Complex64}, {"c16", DType::Complex128},
      // Bit counts win where both readings exist: i8/u8 are 8-bit.
      {"i8", DType::Int8}, {"u8", DType::UInt8},
      // NumPy's C-style names.
      {"b1", DType::Bool}, {"bool_", DType::Bool}, {"boolean", DType::Bool},
      {"byte", DType::Int8}, {"ubyte", DType::UInt8}, {"short", DType::Int16},
      {"ushort", DType::UInt16}, {"intc", DType::Int32}, {"uintc", DType::UInt32},
      {"int_", DType::Int64}, {"intp", DType::Int64}, {"uintp", DType::UInt64},
      {"longlong", DType::Int64}, {"ulonglong", DType::UInt64},
      {"single", DType::Float32}, {"double", DType::Float64}, {"float_", DType::Float64},
      {"csingle", DType::Complex64}, {"cfloat", DType::Complex128},
      {"cdouble", DType::Complex128},
      // Python builtins, as NumPy reads them on 64-bit Linux.
      {"int", DType::Int64}, {"float", DType::Float64}, {"complex", DType::Complex128},
  };
  for (auto [name, dt] : aliases) {
    SCOPED_TRACE(name);
    EXPECT_EQ(parseDType(name), dt);
  }
}

TEST(DTypeTest, UnknownNames) {
  for (const char *name : {"", "f16", "float16", "f2", "half", "i3", "i128", "u128",
                           "Float64", "INT32", "str", "object", "<f8", "int 32", "c32"}) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(parseDType(name).has_value());
  }
}

//===----------------------------------------------------------------------===//
// ArrayView
//===----------------------------------------------------------------------===//

TEST(ArrayViewTest, ContiguousAndFortranStrides) {
  double buf[24];
  ArrayView c = ArrayView::contiguous(buf, DType::Float64, {2, 3, 4});
  EXPECT_EQ(c.strides, (std::vector<int64_t>{96, 32, 8}));
  EXPECT_EQ(c.size(), 24);
  EXPECT_EQ(c.rank(), 3);
  EXPECT_TRUE(c.isCContiguous());
  EXPECT_FALSE(c.isFContiguous());

  ArrayView f = ArrayView::fortran(buf, DType::Float64, {2, 3, 4});
  EXPECT_EQ(f.strides, (std::vector<int64_t>{8, 16, 48}));
  EXPECT_FALSE(f.isCContiguous());
  EXPECT_TRUE(f.isFContiguous());

  int16_t small[6];
  ArrayView typed = ArrayView::of(small, {6});
  EXPECT_EQ(typed.dtype, DType::Int16);
  EXPECT_EQ(typed.strides, (std::vector<int64_t>{2}));
  EXPECT_TRUE(typed.isCContiguous());
  EXPECT_TRUE(typed.isFContiguous()); // 1-d: both
}

TEST(ArrayViewTest, ContiguityRules) {
  float buf[64];
  // 0-d arrays are contiguous in both orders.
  ArrayView scalar(buf, DType::Float32, {}, {});
  EXPECT_EQ(scalar.size(), 1);
  EXPECT_TRUE(scalar.isCContiguous());
  EXPECT_TRUE(scalar.isFContiguous());
  // Extent-1 dimensions may carry any stride.
  ArrayView ones(buf, DType::Float32, {1, 4, 1}, {1000, 4, -7});
  EXPECT_TRUE(ones.isCContiguous());
  EXPECT_TRUE(ones.isFContiguous());
  // Empty arrays are contiguous whatever the strides.
  ArrayView empty(buf, DType::Float32, {3, 0}, {123, 5});
  EXPECT_EQ(empty.size(), 0);
  EXPECT_TRUE(empty.isCContiguous());
  EXPECT_TRUE(empty.isFContiguous());
  // Every other element: neither.
  ArrayView stepped(buf, DType::Float32, {4, 4}, {32, 8});
  EXPECT_FALSE(stepped.isCContiguous());
  EXPECT_FALSE(stepped.isFContiguous());
  // Reversed: neither.
  ArrayView reversed(buf + 3, DType::Float32, {4}, {-4});
  EXPECT_FALSE(reversed.isCContiguous());
  // A transposed C array is F-contiguous.
  ArrayView transposed(buf, DType::Float32, {4, 3}, {4, 16});
  EXPECT_FALSE(transposed.isCContiguous());
  EXPECT_TRUE(transposed.isFContiguous());
  // Mismatched stride count is never contiguous.
  ArrayView broken(buf, DType::Float32, {4, 3}, {4});
  EXPECT_FALSE(broken.isCContiguous());
}

//===----------------------------------------------------------------------===//
// Array
//===----------------------------------------------------------------------===//

TEST(ArrayTest, NewArraysAreZeroedAlignedAndCContiguous) {
  for (DType dt : AllDTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    Array a(dt, {3, 5});
    EXPECT_EQ(a.dtype(), dt);
    EXPECT_EQ(a.size(), 15);
    EXPECT_EQ(a.nbytes(), 15 * itemSize(dt));
    EXPECT_EQ(a.strides(), (std::vector<int64_t>{5 * int64_t(itemSize(dt)),
                                                  int64_t(itemSize(dt))}));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);
    const unsigned char *p = a.data<unsigned char>();
    EXPECT_TRUE(std::all_of(p, p + a.nbytes(), [](unsigned char c) { return c == 0; }));
    EXPECT_TRUE(a.view().isCContiguous());
    EXPECT_FALSE(a.empty());
  }
}

TEST(ArrayTest, EdgeShapes) {
  Array zeroD(DType::Int32, {});
  EXPECT_EQ(zeroD.rank(), 0);
  EXPECT_EQ(zeroD.size(), 1);
  EXPECT_NE(zeroD.data(), nullptr);
  EXPECT_FALSE(zeroD.empty());

  Array none(DType::Float64, {0, 4});
  EXPECT_EQ(none.size(), 0);
  EXPECT_EQ(none.nbytes(), 0u);
  EXPECT_NE(none.data(), nullptr);

  EXPECT_TRUE(Array().empty());
  EXPECT_THROW(Array(DType::Float64, {2, -1}), Error);
  EXPECT_THROW(Array(DType::Float64, {int64_t(1) << 40, int64_t(1) << 40}), Error);
}

TEST(ArrayTest, CopiesShareCloneDoesNot) {
  Array a(DType::Int64, {4});
  Array shared = a;
  Array deep = a.clone();
  a.at<int64_t>({2}) = 7;
  EXPECT_EQ(shared.at<int64_t>({2}), 7);
  EXPECT_EQ(deep.at<int64_t>({2}), 0);
  EXPECT_NE(deep.data(), a.data());
}

TEST(ArrayTest, WrapsForeignBuffer) {
  auto buf = std::make_shared<std::vector<float>>(6, 1.5f);
  Array a(buf, buf->data(), DType::Float32, {2, 3}, {});
  EXPECT_EQ(a.strides(), (std::vector<int64_t>{12, 4})); // defaulted to C order
  EXPECT_EQ(a.at<float>({1, 2}), 1.5f);
  EXPECT_THROW(Array(buf, buf->data(), DType::Float32, {2, 3}, {4}), Error);
}

/// A 3x4 int32 matrix 0..11 used by the copy tests.
std::vector<int32_t> iota12() {
  std::vector<int32_t> v(12);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::vector<int32_t> contents(const Array &a) {
  return std::vector<int32_t>(a.data<int32_t>(), a.data<int32_t>() + a.size());
}

TEST(ArrayTest, CopyOfContiguous) {
  auto v = iota12();
  Array a = Array::copyOf(ArrayView::of(v.data(), {3, 4}));
  EXPECT_EQ(contents(a), v);
  EXPECT_NE(a.data<int32_t>(), v.data());
}

TEST(ArrayTest, CopyOfNegativeStrides) {
  auto v = iota12();
  // m[::-1, ::-1]
  ArrayView both(v.data() + 11, DType::Int32, {3, 4}, {-16, -4});
  EXPECT_EQ(contents(Array::copyOf(both)),
            (std::vector<int32_t>{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
  // m[::-1, :]
  ArrayView rows(v.data() + 8, DType::Int32, {3, 4}, {-16, 4});
  EXPECT_EQ(contents(Array::copyOf(rows)),
            (std::vector<int32_t>{8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3}));
  // m[:, ::-2]
  ArrayView cols(v.data() + 3, DType::Int32, {3, 2}, {16, -8});
  EXPECT_EQ(contents(Array::copyOf(cols)), (std::vector<int32_t>{3, 1, 7, 5, 11, 9}));
  // m.T
  ArrayView t(v.data(), DType::Int32, {4, 3}, {4, 16});
  Array tc = Array::copyOf(t);
  EXPECT_EQ(contents(tc), (std::vector<int32_t>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_TRUE(tc.view().isCContiguous());
  // A broadcast (stride 0) dimension.
  ArrayView bc(v.data(), DType::Int32, {2, 3}, {0, 4});
  EXPECT_EQ(contents(Array::copyOf(bc)), (std::vector<int32_t>{0, 1, 2, 0, 1, 2}));
}

TEST(ArrayTest, CopyOfEveryItemSizeAndRank) {
  for (DType dt : AllDTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    size_t item = itemSize(dt);
    std::vector<unsigned char> src(2 * 3 * 4 * item);
    for (size_t i = 0; i < src.size(); ++i)
      src[i] = static_cast<unsigned char>(i * 7 + 1);
    // Fortran view of shape (2,3,4) -> C copy; element (i,j,k) at i + 2j + 6k.
    ArrayView f = ArrayView::fortran(src.data(), dt, {2, 3, 4});
    Array c = Array::copyOf(f);
    ASSERT_TRUE(c.view().isCContiguous());
    const unsigned char *out = c.data<unsigned char>();
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 4; ++k) {
          size_t dst = ((i * 3 + j) * 4 + k) * item;
          size_t from = (i + 2 * j + 6 * k) * item;
          ASSERT_EQ(std::memcmp(out + dst, src.data() + from, item), 0);
        }
  }
  double x = 4.25;
  Array zeroD = Array::copyOf(ArrayView(&x, DType::Float64, {}, {}));
  EXPECT_EQ(*zeroD.data<double>(), 4.25);
  Array empty = Array::copyOf(ArrayView(nullptr, DType::Float64, {0, 3}, {24, 8}));
  EXPECT_EQ(empty.size(), 0);
  EXPECT_THROW(Array::copyOf(ArrayView(&x, DType::Float64, {1}, {})), Error);
}

//===----------------------------------------------------------------------===//
// Scalar
//===----------------------------------------------------------------------===//

TEST(ScalarTest, ConstructorsPickDTypes) {
  EXPECT_EQ(Scalar(true).dtype(), DType::Bool);
  EXPECT_EQ(Scalar(int8_t(1)).dtype(), DType::Int8);
  EXPECT_EQ(Scalar(int32_t(1)).dtype(), DType::Int32);
  EXPECT_EQ(Scalar(int64_t(1)).dtype(), DType::Int64);
  EXPECT_EQ(Scalar(uint16_t(1)).dtype(), DType::UInt16);
  EXPECT_EQ(Scalar(uint64_t(1)).dtype(), DType::UInt64);
  EXPECT_EQ(Scalar(1.0f).dtype(), DType::Float32);
  EXPECT_EQ(Scalar(1.0).dtype(), DType::Float64);
  EXPECT_EQ(Scalar(std::complex<float>(1, 2)).dtype(), DType::Complex64);
  EXPECT_TRUE(Scalar(int16_t(-1)).isSigned());
  EXPECT_TRUE(Scalar(uint8_t(1)).isUnsigned());
  EXPECT_FALSE(Scalar(true).isInteger());
  EXPECT_TRUE(Scalar(2.0f).isFloat());
  EXPECT_TRUE(Scalar(std::complex<double>(1, 2)).isComplex());
}

TEST(ScalarTest, Conversions) {
  EXPECT_EQ(Scalar(int8_t(-5)).asInt(), -5);
  EXPECT_EQ(Scalar(int8_t(-1)).asUInt(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(Scalar(uint64_t(1) << 63).asDouble(), 9223372036854775808.0);
  EXPECT_EQ(Scalar(2.75).asInt(), 2);
  EXPECT_EQ(Scalar(-2.75).asInt(), -2);
  EXPECT_EQ(Scalar(std::nan("")).asInt(), 0);
  EXPECT_EQ(Scalar(1e300).asInt(), std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(Scalar(0.5).asBool());
  EXPECT_FALSE(Scalar(int32_t(0)).asBool());
  EXPECT_EQ(Scalar(std::complex<double>(3, 4)).asDouble(), 3.0);
  EXPECT_EQ(Scalar(int32_t(3)).asComplex(), std::complex<double>(3, 0));

  EXPECT_EQ(Scalar::ofType(DType::UInt8, int64_t(300)).asInt(), 44); // wraps
  EXPECT_EQ(Scalar::ofType(DType::Int8, 1000.0).asInt(), 127);       // saturates
  EXPECT_EQ(Scalar::ofType(DType::Int32, 2.9).asInt(), 2);
  EXPECT_EQ(Scalar::ofType(DType::Float32, 0.1).asDouble(), double(0.1f));
  EXPECT_EQ(Scalar::ofType(DType::Complex64, int64_t(2)).asComplex(),
            std::complex<double>(2, 0));
  EXPECT_EQ(Scalar::ofType(DType::Bool, int64_t(5)).dtype(), DType::Bool);
  EXPECT_TRUE(Scalar::ofType(DType::Bool, int64_t(5)).asBool());
  for (DType dt : AllDTypes)
    EXPECT_EQ(Scalar::ofType(dt, int64_t(1)).dtype(), dt);
}

TEST(ScalarTest, StoreLoadRoundTrip) {
  for (DType dt : AllDTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    Scalar s = Scalar::ofType(dt, int64_t(1));
    if (dt != DType::Bool)
      s = Scalar::ofType(dt, int64_t(100)); // fits in every type
    unsigned char buf[16] = {};
    s.store(buf);
    Scalar back = Scalar::load(dt, buf);
    EXPECT_EQ(back.dtype(), dt);
    EXPECT_EQ(back.toJSON(), s.toJSON());
  }
  unsigned char buf[16];
  Scalar(int16_t(-2)).store(buf);
  int16_t i16;
  std::memcpy(&i16, buf, 2);
  EXPECT_EQ(i16, -2);
  Scalar(std::complex<float>(1.5f, -2.5f)).store(buf);
  std::complex<float> c;
  std::memcpy(&c, buf, 8);
  EXPECT_EQ(c, std::complex<float>(1.5f, -2.5f));
  unsigned char two = 2;
  EXPECT_EQ(Scalar::load(DType::Bool, &two).toJSON(), "true");
}

TEST(ScalarTest, JSON) {
  EXPECT_EQ(Scalar(true).toJSON(), "true");
  EXPECT_EQ(Scalar(false).toJSON(), "false");
  EXPECT_EQ(Scalar(int64_t(42)).toJSON(), "42");
  EXPECT_EQ(Scalar(int8_t(-128)).toJSON(), "-128");
  EXPECT_EQ(Scalar(std::numeric_limits<int64_t>::min()).toJSON(), "-9223372036854775808");
  EXPECT_EQ(Scalar(std::numeric_limits<uint64_t>::max()).toJSON(), "18446744073709551615");
  EXPECT_EQ(Scalar(2.0).toJSON(), "2.0");
  EXPECT_EQ(Scalar(-0.0).toJSON(), "-0.0");
  EXPECT_EQ(Scalar(2.5).toJSON(), "2.5");
  EXPECT_EQ(Scalar(0.1).toJSON(), "0.1");
  EXPECT_EQ(Scalar(1.0 / 3.0).toJSON(), "0.3333333333333333");
  EXPECT_EQ(Scalar(1e20).toJSON(), "1e+20");
  EXPECT_EQ(Scalar(1.5e-7).toJSON(), "1.5e-07");
  EXPECT_EQ(Scalar(0.1f).toJSON(), "0.1"); // shortest for float, not for double
  EXPECT_EQ(Scalar(3.0f).toJSON(), "3.0");
  EXPECT_EQ(Scalar(std::nan("")).toJSON(), "NaN");
  EXPECT_EQ(Scalar(HUGE_VAL).toJSON(), "Infinity");
  EXPECT_EQ(Scalar(-HUGE_VAL).toJSON(), "-Infinity");
  EXPECT_EQ(Scalar(-std::numeric_limits<float>::infinity()).toJSON(), "-Infinity");
  EXPECT_EQ(Scalar(std::complex<double>(1, 2)).toJSON(), R"({"real": 1.0, "imag": 2.0})");
  EXPECT_EQ(Scalar(std::complex<float>(0.1f, -0.5f)).toJSON(),
            R"({"real": 0.1, "imag": -0.5})");
  EXPECT_EQ(Scalar(std::complex<double>(HUGE_VAL, std::nan(""))).toJSON(),
            R"({"real": Infinity, "imag": NaN})");
  // Round trip: the printed digits read back to the same double.
  for (double v : {0.1, 1.0 / 7.0, 123456.789e10, 5e-324, 1.7976931348623157e308})
    EXPECT_EQ(std::strtod(Scalar(v).toJSON().c_str(), nullptr), v);
}

//===----------------------------------------------------------------------===//
// Value
//===----------------------------------------------------------------------===//

TEST(ValueTest, KindsAndJSON) {
  Value none;
  EXPECT_TRUE(none.isNone());
  EXPECT_EQ(none.toJSON(), "null");

  Value s = Scalar(2.5);
  EXPECT_TRUE(s.isScalar());
  EXPECT_EQ(s.asDouble(), 2.5);
  EXPECT_EQ(s.toJSON(), "2.5");

  Value a = Array(DType::Float64, {2, 3});
  EXPECT_TRUE(a.isArray());
  EXPECT_EQ(a.array().size(), 6);
  EXPECT_EQ(a.toJSON(), R"({"array": "float64", "shape": [2, 3]})");
  EXPECT_EQ(Value(Array(DType::UInt8, {})).toJSON(), R"({"array": "uint8", "shape": []})");

  Value t = Value::tuple({Scalar(int64_t(1)), Scalar(2.5), Scalar(true)});
  EXPECT_TRUE(t.isTuple());
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].asDouble(), 2.5);
  EXPECT_EQ(t.toJSON(), "[1, 2.5, true]");

  Value nested = Value::tuple({Scalar(int32_t(1)), Value::tuple({Scalar(2.0f), Value()}),
                               Array(DType::Int8, {4})});
  EXPECT_EQ(nested.toJSON(), R"([1, [2.0, null], {"array": "int8", "shape": [4]}])");
  EXPECT_EQ(Value::tuple({}).toJSON(), "[]");
}

TEST(ValueTest, WrongKindThrows) {
  auto message = [](auto &&f) -> std::string {
    try {
      f();
    } catch (const Error &e) {
      return e.what();
    }
    return "(no exception)";
  };
  Value t = Value::tuple({Scalar(1.0)});
  EXPECT_THAT(message([&] { t.scalar(); }), HasSubstr("result is a tuple, not a scalar"));
  EXPECT_THAT(message([&] { t.asDouble(); }), HasSubstr("result is a tuple, not a scalar"));
  EXPECT_THAT(message([&] { t.array(); }), HasSubstr("result is a tuple, not an array"));
  Value none;
  EXPECT_THAT(message([&] { none.scalar(); }), HasSubstr("result is None, not a scalar"));
  EXPECT_THAT(message([&] { none.size(); }), HasSubstr("result is None, not a tuple"));
  Value s = Scalar(1.0);
  EXPECT_THAT(message([&] { s.elements(); }), HasSubstr("result is a scalar, not a tuple"));
  EXPECT_THAT(message([&] { s.array(); }), HasSubstr("result is a scalar, not an array"));
  Value a = Array(DType::Float32, {1});
  EXPECT_THAT(message([&] { a.asInt(); }), HasSubstr("result is an array, not a scalar"));
  EXPECT_THROW(t[3], std::out_of_range);
}

} // namespace
