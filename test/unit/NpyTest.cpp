//===- NpyTest.cpp - Unit tests for .npy reading and writing --------------===//
//
// Part of the stn unit tests (stn-unit-tests).
//
// Files are built byte by byte here (no NumPy needed), so each test states
// exactly what is on disk: header versions 1.0-3.0, both byte orders, both
// memory orders, 0-d and empty arrays, and every malformed input the reader
// must reject with a message that names the file and what it found. A small
// mutation fuzzer checks that no corrupted file crashes the reader.
//
//===----------------------------------------------------------------------===//

#include "stn/Array.h"
#include "stn/Error.h"
#include "stn/Npy.h"
#include "stn/Value.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

using namespace stn;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

const DType AllDTypes[] = {
    DType::Bool,    DType::Int8,    DType::Int16,     DType::Int32,     DType::Int64,
    DType::UInt8,   DType::UInt16,  DType::UInt32,    DType::UInt64,    DType::Float32,
    DType::Float64, DType::Complex64, DType::Complex128,
};

class NpyTest : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = fs::temp_directory_path() /
          ("stn-npy-test-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(Dir);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(Dir, ec);
  }

  std::string path(const std::string &name) const { return (Dir / name).string(); }

  /// Writes `bytes` to a file and returns its path.
  std::string writeRaw(const std::string &name, const std::string &bytes) const {
    std::string p = path(name);
    std::ofstream(p, std::ios::binary).write(bytes.data(), bytes.size());
    return p;
  }

  /// An .npy file image: the given header dict text (padded as NumPy does)
  /// followed by `data`.
  static std::string npyImage(const std::string &dict, const std::string &data,
                              int major = 1) {
    size_t pre = major == 1 ? 10 : 12;
    std::string header = dict;
    size_t total = (pre + header.size() + 1 + 63) / 64 * 64;
    header.append(total - pre - header.size() - 1, ' ');
    header += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major);
    out += '\0';
    uint32_t n = static_cast<uint32_t>(header.size());
    out += static_cast<char>(n & 0xff);
    out += static_cast<char>(n >> 8);
    if (major != 1) {
      out += static_cast<char>(n >> 16);
      out += static_cast<char>(n >> 24);
    }
    return out + header + data;
  }

  template <class T> static std::string bytesOf(std::initializer_list<T> values) {
    std::string s;
    for (T v : values)
      s.append(reinterpret_cast<const char *>(&v), sizeof(T));
    return s;
  }

  /// The message of the stn::Error that reading `p` throws.
  static std::string readError(const std::string &p) {
    try {
      readNpy(p);
    } catch (const Error &e) {
      return e.what();
    }
    return "(no exception)";
  }

  fs::path Dir;
};

/// Fills an array with values that exercise every byte of each element.
void fillPattern(Array &a) {
  size_t item = itemSize(a.dtype());
  for (int64_t i = 0; i < a.size(); ++i) {
    Scalar s = a.dtype() == DType::Bool
                   ? Scalar(i % 3 == 0)
                   : (a.dtype() == DType::Float32 || a.dtype() == DType::Float64)
                         ? Scalar::ofType(a.dtype(), -1.25 * double(i) + 0.1)
                         : a.dtype() == DType::Complex64 || a.dtype() == DType::Complex128
                               ? Scalar(std::complex<double>(0.5 * i, -3.0 * i - 0.1))
                               : Scalar::ofType(a.dtype(), int64_t(i) * 0x01030507 - 11);
    if (a.dtype() == DType::Complex64)
      s = Scalar(std::complex<float>(s.asComplex()));
    s.store(a.data<char>() + i * item);
  }
}

bool sameBytes(const Array &a, const Array &b) {
  return a.nbytes() == b.nbytes() && std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

TEST_F(NpyTest, RoundTripEveryDType) {
  for (DType dt : AllDTypes) {
    SCOPED_TRACE(std::string(dtypeName(dt)));
    Array a(dt, {3, 5});
    fillPattern(a);
    std::string p = path(std::string(dtypeName(dt)) + ".npy");
    writeNpy(p, a);
    Array b = readNpy(p);
    EXPECT_EQ(b.dtype(), dt);
    EXPECT_EQ(b.shape(), a.shape());
    EXPECT_EQ(b.strides(), a.strides());
    EXPECT_TRUE(sameBytes(a, b));
  }
}

TEST_F(NpyTest, WrittenHeaderIsWhatNumPyWrites) {
  Array a(DType::Float64, {2, 3});
  std::string p = path("h.npy");
  writeNpy(p, a);
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  size_t hlen = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + hlen) % 64, 0u);
  std::string header = bytes.substr(10, hlen);
  EXPECT_EQ(header.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(bytes.size(), 10 + hlen + 48);

  auto headerOf = [&](const ArrayView &v) {
    writeNpy(p, v);
    std::ifstream f(p, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return s.substr(10, s.find('}') - 9);
  };
  EXPECT_EQ(headerOf(Array(DType::Int32, {7})),
            "{'descr': '<i4', 'fortran_order': False, 'shape': (7,), }");
  EXPECT_EQ(headerOf(Array(DType::Bool, {})),
            "{'descr': '|b1', 'fortran_order': False, 'shape': (), }");
  EXPECT_EQ(headerOf(Array(DType::UInt8, {1, 2, 3})),
            "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 2, 3), }");
  EXPECT_EQ(headerOf(Array(DType::Int8, {2})),
            "{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }");
  EXPECT_EQ(headerOf(Array(DType::Complex64, {2})),
            "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }");
}

TEST_F(NpyTest, ReadsCOrder) {
  std::string p = writeRaw("c.npy", npyImage("{'descr': '<i4', 'fortran_order': False, "
                                             "'shape': (2, 3), }",
                                             bytesOf<int32_t>({0, 1, 2, 10, 11, 12})));
  Array a = readNpy(p);
  EXPECT_EQ(a.dtype(), DType::Int32);
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.strides(), (std::vector<int64_t>{12, 4}));
  EXPECT_EQ(a.at<int32_t>({1, 2}), 12);
}

TEST_F(NpyTest, ReadsFortranOrderKeepingStrides) {
  // The 2x3 matrix [[0, 1, 2], [10, 11, 12]] stored column by column.
  std::string p = writeRaw("f.npy", npyImage("{'descr': '<f8', 'fortran_order': True, "
                                             "'shape': (2, 3), }",
                                             bytesOf<double>({0, 10, 1, 11, 2, 12})));
  Array a = readNpy(p);
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.strides(), (std::vector<int64_t>{8, 16}));
  EXPECT_TRUE(a.view().isFContiguous());
  EXPECT_EQ(a.at<double>({0, 2}), 2.0);
  EXPECT_EQ(a.at<double>({1, 0}), 10.0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);

  // Writing it back produces C order with the same elements.
  std::string q = path("c.npy");
  writeNpy(q, a);
  Array c = readNpy(q);
  EXPECT_EQ(c.strides(), (std::vector<int64_t>{24, 8}));
  EXPECT_EQ(std::vector<double>(c.data<double>(), c.data<double>() + 6),
            (std::vector<double>{0, 1, 2, 10, 11, 12}));

  // A 1-d Fortran file is just contiguous.
  std::string r = writeRaw("f1.npy", npyImage("{'descr': '<i2', 'fortran_order': True, "
                                              "'shape': (3,), }",
                                              bytesOf<int16_t>({5, 6, 7})));
  EXPECT_EQ(readNpy(r).strides(), (std::vector<int64_t>{2}));
}

TEST_F(NpyTest, WritesFortranView) {
  std::vector<float> col{1, 4, 2, 5, 3, 6}; // [[1,2,3],[4,5,6]] in Fortran order
  std::string p = path("fv.npy");
  writeNpy(p, ArrayView::fortran(col.data(), DType::Float32, {2, 3}));
  Array a = readNpy(p);
  EXPECT_EQ(std::vector<float>(a.data<float>(), a.data<float>() + 6),
            (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST_F(NpyTest, ReadsBigEndian) {
  auto be = [](std::string s, size_t width) {
    for (size_t i = 0; i + width <= s.size(); i += width)
      std::reverse(s.begin() + i, s.begin() + i + width);
    return s;
  };
  {
    std::string p = writeRaw("i4.npy", npyImage("{'descr': '>i4', 'fortran_order': False, "
                                                "'shape': (3,), }",
                                                be(bytesOf<int32_t>({1, -2, 0x01020304}), 4)));
    Array a = readNpy(p);
    EXPECT_EQ(a.dtype(), DType::Int32);
    EXPECT_EQ(std::vector<int32_t>(a.data<int32_t>(), a.data<int32_t>() + 3),
              (std::vector<int32_t>{1, -2, 0x01020304}));
  }
  {
    std::string p = writeRaw("f8.npy", npyImage("{'descr': '>f8', 'fortran_order': False, "
                                                "'shape': (2,), }",
                                                be(bytesOf<double>({1.5, -1e300}), 8)));
    Array a = readNpy(p);
    EXPECT_EQ(a.at<double>({0}), 1.5);
    EXPECT_EQ(a.at<double>({1}), -1e300);
  }
  {
    std::string p = writeRaw("u2.npy", npyImage("{'descr': '>u2', 'fortran_order': False, "
                                                "'shape': (1,), }",
                                                be(bytesOf<uint16_t>({0xabcd}), 2)));
    EXPECT_EQ(readNpy(p).at<uint16_t>({0}), 0xabcd);
  }
  {
    // Complex: each half is swapped on its own (real and imaginary stay put).
    std::string p = writeRaw("c8.npy", npyImage("{'descr': '>c8', 'fortran_order': False, "
                                                "'shape': (1,), }",
                                                be(bytesOf<float>({1.5f, -2.25f}), 4)));
    Array a = readNpy(p);
    EXPECT_EQ(a.dtype(), DType::Complex64);
    EXPECT_EQ(a.at<std::complex<float>>({0}), std::complex<float>(1.5f, -2.25f));
    std::string q = writeRaw("c16.npy", npyImage("{'descr': '>c16', 'fortran_order': False, "
                                                 "'shape': (1,), }",
                                                 be(bytesOf<double>({3.0, 0.125}), 8)));
    EXPECT_EQ(readNpy(q).at<std::complex<double>>({0}), std::complex<double>(3.0, 0.125));
  }
  {
    // Single-byte types ignore the byte order mark; '<i1' and '|i1' both work.
    std::string p = writeRaw("i1.npy", npyImage("{'descr': '<i1', 'fortran_order': False, "
                                                "'shape': (2,), }",
                                                bytesOf<int8_t>({-1, 7})));
    EXPECT_EQ(readNpy(p).at<int8_t>({0}), -1);
    std::string q = writeRaw("u1.npy", npyImage("{'descr': '>u1', 'fortran_order': False, "
                                                "'shape': (1,), }",
                                                bytesOf<uint8_t>({200})));
    EXPECT_EQ(readNpy(q).at<uint8_t>({0}), 200);
  }
}

TEST_F(NpyTest, HeaderVersions2And3) {
  for (int major : {2, 3}) {
    SCOPED_TRACE(major);
    std::string p = writeRaw("v.npy", npyImage("{'descr': '<i8', 'fortran_order': False, "
                                               "'shape': (2,), }",
                                               bytesOf<int64_t>({-5, 1LL << 40}), major));
    Array a = readNpy(p);
    EXPECT_EQ(a.dtype(), DType::Int64);
    EXPECT_EQ(a.at<int64_t>({1}), 1LL << 40);
  }
  // Unknown versions are refused.
  std::string img = npyImage("{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                             bytesOf<int64_t>({1}));
  img[6] = 4;
  EXPECT_THAT(readError(writeRaw("v4.npy", img)),
              HasSubstr("unsupported .npy format version 4.0"));
}

TEST_F(NpyTest, HeaderSyntaxVariants) {
  // Double quotes, no trailing comma, odd spacing, a list shape, Python 2 longs
  // and an implicit byte order are all things real files contain.
  std::string p = writeRaw("v.npy", npyImage("{\"shape\":[2L,1],\"descr\":\"u4\","
                                             "\"fortran_order\":False}",
                                             bytesOf<uint32_t>({9, 10})));
  Array a = readNpy(p);
  EXPECT_EQ(a.dtype(), DType::UInt32);
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(a.at<uint32_t>({1, 0}), 10u);
}

TEST_F(NpyTest, ZeroDimensional) {
  Array s(DType::Float64, {});
  *s.data<double>() = 3.5;
  std::string p = path("s.npy");
  writeNpy(p, s);
  Array back = readNpy(p);
  EXPECT_EQ(back.rank(), 0);
  EXPECT_EQ(back.size(), 1);
  EXPECT_EQ(*back.data<double>(), 3.5);

  std::string q = writeRaw("s2.npy", npyImage("{'descr': '|b1', 'fortran_order': False, "
                                              "'shape': (), }",
                                              "\x01"));
  Array b = readNpy(q);
  EXPECT_EQ(b.rank(), 0);
  EXPECT_EQ(b.dtype(), DType::Bool);
  EXPECT_TRUE(*b.data<bool>());
}

TEST_F(NpyTest, EmptyArrays) {
  Array e(DType::Int16, {0, 3});
  std::string p = path("e.npy");
  writeNpy(p, e);
  Array back = readNpy(p);
  EXPECT_EQ(back.shape(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(back.size(), 0);
  // A huge extent times zero is still zero bytes.
  std::string q = writeRaw("e2.npy", npyImage("{'descr': '<f8', 'fortran_order': False, "
                                              "'shape': (0, 9223372036854775807), }",
                                              ""));
  EXPECT_EQ(readNpy(q).size(), 0);
}

TEST_F(NpyTest, BoolsAreNormalized) {
  std::string p = writeRaw("b.npy", npyImage("{'descr': '|b1', 'fortran_order': False, "
                                             "'shape': (3,), }",
                                             std::string("\x00\x02\xff", 3)));
  Array a = readNpy(p);
  const unsigned char *d = a.data<unsigned char>();
  EXPECT_EQ(d[0], 0);
  EXPECT_EQ(d[1], 1);
  EXPECT_EQ(d[2], 1);
}

TEST_F(NpyTest, WritesNonContiguousViews) {
  std::vector<int64_t> m(4 * 6);
  for (size_t i = 0; i < m.size(); ++i)
    m[i] = static_cast<int64_t>(i);
  std::string p = path("nc.npy");
  // m[::-1, ::2] of a 4x6 matrix.
  ArrayView v(m.data() + 18, DType::Int64, {4, 3}, {-48, 16});
  writeNpy(p, v);
  Array a = readNpy(p);
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(std::vector<int64_t>(a.data<int64_t>(), a.data<int64_t>() + 12),
            (std::vector<int64_t>{18, 20, 22, 12, 14, 16, 6, 8, 10, 0, 2, 4}));
  EXPECT_TRUE(sameBytes(a, Array::copyOf(v)));

  // A large strided 3-d view goes through the buffered path several times.
  std::vector<uint16_t> big(2 * 700 * 900);
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<uint16_t>(i * 31);
  ArrayView t(big.data(), DType::UInt16, {2, 900, 700}, {700 * 900 * 2, 2, 900 * 2});
  writeNpy(p, t);
  EXPECT_TRUE(sameBytes(readNpy(p), Array::copyOf(t)));

  // 0-d view into the middle of a buffer.
  writeNpy(p, ArrayView(m.data() + 5, DType::Int64, {}, {}));
  EXPECT_EQ(*readNpy(p).data<int64_t>(), 5);
}

TEST_F(NpyTest, WriteErrors) {
  Array a(DType::Float64, {2});
  std::string bad = path("no/such/dir/x.npy");
  try {
    writeNpy(bad, a);
    FAIL() << "no exception";
  } catch (const Error &e) {
    EXPECT_THAT(e.what(), HasSubstr(bad));
    EXPECT_THAT(e.what(), HasSubstr("cannot open file for writing"));
  }
  double x = 0;
  EXPECT_THROW(writeNpy(path("y.npy"), ArrayView(&x, DType::Float64, {2, 2}, {8})), Error);
}

//===----------------------------------------------------------------------===//
// Rejections
//===----------------------------------------------------------------------===//

TEST_F(NpyTest, RejectsMissingFile) {
  std::string p = path("missing.npy");
  std::string msg = readError(p);
  EXPECT_THAT(msg, HasSubstr(p));
  EXPECT_THAT(msg, HasSubstr("cannot open file"));
}

TEST_F(NpyTest, RejectsDirectory) {
  std::string msg = readError(Dir.string());
  EXPECT_THAT(msg, HasSubstr(Dir.string()));
  EXPECT_THAT(msg, HasSubstr("is a directory"));
}

TEST_F(NpyTest, RejectsBadMagic) {
  for (std::string content : {std::string("hello world, this is text"), std::string(""),
                              std::string("\x93NUMP"), std::string("PK\x03\x04 zip file")}) {
    std::string p = writeRaw("bad.npy", content);
    std::string msg = readError(p);
    EXPECT_THAT(msg, HasSubstr(p));
    EXPECT_THAT(msg, HasSubstr("not an .npy file"));
  }
}

TEST_F(NpyTest, RejectsTruncatedData) {
  std::string p = writeRaw("t.npy", npyImage("{'descr': '<f8', 'fortran_order': False, "
                                             "'shape': (2, 3), }",
                                             std::string(40, '\0')));
  std::string msg = readError(p);
  EXPECT_THAT(msg, HasSubstr(p));
  EXPECT_THAT(msg, HasSubstr("file is truncated: expected 48 bytes of data, found 40"));

  // A header length that runs past the end of the file.
  std::string img = npyImage("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", "");
  std::string cut = writeRaw("cut.npy", img.substr(0, 30));
  EXPECT_THAT(readError(cut), HasSubstr("malformed header"));
  std::string tiny = writeRaw("tiny.npy", img.substr(0, 9));
  EXPECT_THAT(readError(tiny), HasSubstr("malformed header"));
}

TEST_F(NpyTest, RejectsUnsupportedDTypes) {
  struct Case {
    const char *descr;
    const char *found;
  };
  for (Case c : {Case{"'<U3'", "dtype '<U3' is not supported"},
                 Case{"'|O'", "dtype '|O' is not supported"},
                 Case{"'|S5'", "dtype '|S5' is not supported"},
                 Case{"'<f2'", "dtype '<f2' is not supported"},
                 Case{"'<f16'", "dtype '<f16' is not supported"},
                 Case{"'<M8[ns]'", "dtype '<M8[ns]' is not supported"},
                 Case{"'|V8'", "dtype '|V8' is not supported"},
                 Case{"'<i3'", "dtype '<i3' is not supported"},
                 Case{"''", "dtype '' is not supported"},
                 Case{"[('a', '<i4'), ('b', '<f8')]",
                      "structured dtype [('a', '<i4'), ('b', '<f8')] is not supported"}}) {
    SCOPED_TRACE(c.descr);
    std::string p = writeRaw("u.npy", npyImage(std::string("{'descr': ") + c.descr +
                                                   ", 'fortran_order': False, 'shape': "
                                                   "(3,), }",
                                               std::string(64, '\0')));
    std::string msg = readError(p);
    EXPECT_THAT(msg, HasSubstr(p));
    EXPECT_THAT(msg, HasSubstr(c.found));
    EXPECT_THAT(msg, HasSubstr("stn supports bool, int8..int64, uint8..uint64, "
                               "float32/64, complex64/128"));
  }
}

TEST_F(NpyTest, RejectsMalformedHeaders) {
  const char *headers[] = {
      "",
      "garbage",
      "{",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)",
      "{'descr': '<f8', 'fortran_order': False}",
      "{'descr': '<f8', 'shape': (2,), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
      "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}",
      "{'descr': '<f8', 'fortran_order': 0, 'shape': (2,), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': 2, }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2.5,), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': ('a',), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), } trailing",
      "{'descr': '<f8, 'fortran_order': False, 'shape': (2,), }",
      "[1, 2, 3]",
      "{1: 2}",
      "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }",
  };
  for (const char *h : headers) {
    SCOPED_TRACE(h);
    std::string p = writeRaw("m.npy", npyImage(h, std::string(64, '\0')));
    std::string msg = readError(p);
    EXPECT_THAT(msg, HasSubstr(p));
    EXPECT_THAT(msg, HasSubstr("malformed header"));
  }
  // Deep nesting is an error, not a stack overflow.
  std::string deep = "{'descr': '<f8', 'fortran_order': False, 'shape': " +
                     std::string(100000, '(') + "}";
  EXPECT_THAT(readError(writeRaw("deep.npy", npyImage(deep, "", 2))),
              HasSubstr("nested too deeply"));
  // Binary garbage after a valid preamble.
  std::string img = npyImage(std::string("\x00\xff\x01{'", 4), "");
  EXPECT_THAT(readError(writeRaw("bin.npy", img)), HasSubstr("malformed header"));
}

TEST_F(NpyTest, CorruptedFilesNeverCrash) {
  Array a(DType::Complex64, {3, 4});
  fillPattern(a);
  std::string good = path("good.npy");
  writeNpy(good, a);
  std::ifstream in(good, std::ios::binary);
  const std::string image((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  std::mt19937 rng(12345);
  std::string p = path("fuzz.npy");
  for (int iter = 0; iter < 2000; ++iter) {
    std::string img = image;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !img.empty(); ++e) {
      size_t at = rng() % std::min<size_t>(img.size(), 90); // mostly the header
      switch (rng() % 3) {
      case 0:
        img[at] = static_cast<char>(rng());
        break;
      case 1:
        img.erase(at, 1 + rng() % 8);
        break;
      default:
        img.resize(rng() % img.size());
        break;
      }
    }
    writeRaw("fuzz.npy", img);
    try {
      Array r = readNpy(p);
      (void)r.size();
    } catch (const Error &) {
    }
  }
}

} // namespace
