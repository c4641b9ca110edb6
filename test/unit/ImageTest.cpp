//===- ImageTest.cpp - Unit tests for image stacks (stn/Image.h) ---------===//
//
// Part of the stn unit tests (stn-unit-tests).
//
// The PNG reader is checked against files built byte by byte here (zlib
// "stored" blocks, so no compressor is involved and the test states exactly
// which sample values, in which byte order, are on disk); the writer is then
// checked by round trips through that reader, for 8 and 16 bits, gray, gray
// with alpha, RGB and RGBA. Stacks, their errors, exact conversion and
// applyToImages are checked against plain C++ loops: in particular a chunked
// run must write the same files as the in-memory run. The image program of
// docs/host-api.md is compiled into this binary (test/CMakeLists.txt
// extracts it) and run here, so the documentation cannot drift.
//
//===----------------------------------------------------------------------===//

#include "stn/Array.h"
#include "stn/Engine.h"
#include "stn/Error.h"
#include "stn/Image.h"
#include "stn/Npy.h"
#include "stn/Value.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

/// The `main` of the program in docs/host-api.md, renamed.
int stnDocImageExampleMain(int argc, char **argv);

using namespace stn;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

//===----------------------------------------------------------------------===//
// Helpers: a PNG encoder that does not compress, and reference kernels
//===----------------------------------------------------------------------===//

uint32_t crc32(const std::string &bytes) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k)
      c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

uint32_t adler32(const std::string &bytes) {
  uint32_t a = 1, b = 0;
  for (unsigned char c : bytes) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

void putBE32(std::string &s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    s += static_cast<char>((v >> shift) & 0xff);
}

void chunk(std::string &png, const char *type, const std::string &data) {
  putBE32(png, static_cast<uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  png += body;
  putBE32(png, crc32(body));
}

/// A PNG with the given IHDR fields whose scanlines are `rows` (each
/// prefixed with filter type 0), deflated as stored blocks. `palette` is
/// the PLTE chunk's data, if any.
std::string makePng(uint32_t width, uint32_t height, int bitDepth, int colorType,
                    const std::vector<std::string> &rows, const std::string &palette = {}) {
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  putBE32(ihdr, width);
  putBE32(ihdr, height);
  ihdr += static_cast<char>(bitDepth);
  ihdr += static_cast<char>(colorType);
  ihdr += std::string(3, '\0'); // deflate, adaptive filtering, no interlace
  chunk(png, "IHDR", ihdr);
  if (!palette.empty())
    chunk(png, "PLTE", palette);
  std::string raw;
  for (const std::string &r : rows)
    raw += '\0' + r;
  std::string z = "\x78\x01";
  size_t pos = 0;
  do {
    size_t n = std::min<size_t>(65535, raw.size() - pos);
    bool last = pos + n == raw.size();
    z += static_cast<char>(last ? 1 : 0);
    z += static_cast<char>(n & 0xff);
    z += static_cast<char>(n >> 8);
    z += static_cast<char>(~n & 0xff);
    z += static_cast<char>((~n >> 8) & 0xff);
    z += raw.substr(pos, n);
    pos += n;
  } while (pos < raw.size());
  putBE32(z, adler32(raw));
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  return png;
}

std::string be16(uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

/// A deterministic pseudo-random sample sequence.
struct Lcg {
  uint64_t state;
  explicit Lcg(uint64_t seed) : state(seed * 2862933555777941757ull + 3037000493ull) {}
  uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  }
};

/// The seed's smooth for one image, computed as the kernel's typing does
/// it (uint8 sums in uint64, `// 9`), with 0 where the 3x3 neighborhood
/// leaves the image (boundary "constant", cval 0).
std::vector<uint8_t> referenceSmooth(const uint8_t *img, int64_t h, int64_t w) {
  std::vector<uint8_t> out(static_cast<size_t>(h * w), 0);
  for (int64_t y = 1; y + 1 < h; ++y)
    for (int64_t x = 1; x + 1 < w; ++x) {
      unsigned sum = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx)
          sum += img[(y + dy) * w + (x + dx)];
      out[static_cast<size_t>(y * w + x)] = static_cast<uint8_t>(sum / 9);
    }
  return out;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char *KernelSource = R"STN(import numpy as np
from numba import njit, stencil, gufunc, vectorize

@gufunc("(n, m) -> (n, m)")
@stencil
def smooth(x):
    return (x[-1, -1] + x[-1, 0] + x[-1, 1] +
            x[ 0, -1] + x[ 0, 0] + x[ 0, 1] +
            x[ 1, -1] + x[ 1, 0] + x[ 1, 1]) // 9

@vectorize(dtype=np.uint8)
def invert(x):
    return 255 - x

@njit
def invert_jit(x):
    return 255 - x

@stencil
def across(x):
    return x[-1, 0, 0] + x[1, 0, 0]

@njit
def total(x):
    return x.sum()

@njit
def two(x, y):
    return x
)STN";

class ImageTest : public ::testing::Test {
protected:
  void SetUp() override {
    Dir = fs::temp_directory_path() /
          ("stn-image-test-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(Dir);
    fs::create_directories(Dir);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(Dir, ec);
  }
  std::string path(const std::string &name) const { return (Dir / name).string(); }
  std::string writeRaw(const std::string &name, const std::string &bytes) const {
    std::string p = path(name);
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    return p;
  }
  std::string kernels() const { return writeRaw("kernels.stn", KernelSource); }

  /// Writes `n` gray uint8 PNGs of h x w with pseudo-random pixels into
  /// `sub`, named img00.png ...; returns their pixels in file order.
  std::vector<std::vector<uint8_t>> makeGrayStack(const std::string &sub, int n, int64_t h,
                                                  int64_t w) {
    std::vector<std::vector<uint8_t>> images;
    fs::create_directories(Dir / sub);
    for (int i = 0; i < n; ++i) {
      Lcg rng(static_cast<uint64_t>(i) + 1);
      std::vector<uint8_t> img(static_cast<size_t>(h * w));
      for (auto &p : img)
        p = static_cast<uint8_t>(rng.next());
      char name[32];
      std::snprintf(name, sizeof name, "img%02d.png", i);
      writePng((Dir / sub / name).string(), ArrayView::of(img.data(), {h, w}));
      images.push_back(std::move(img));
    }
    return images;
  }

  fs::path Dir;
};

//===----------------------------------------------------------------------===//
// Reading files built byte by byte
//===----------------------------------------------------------------------===//

TEST_F(ImageTest, ReadsHandMade8BitGray) {
  std::string p = writeRaw(
      "g8.png", makePng(3, 2, 8, 0, {std::string("\x00\x7f\xff", 3), "\x01\x02\x03"}));
  Array a = readPng(p);
  EXPECT_EQ(a.dtype(), DType::UInt8);
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.at<uint8_t>({0, 1}), 0x7f);
  EXPECT_EQ(a.at<uint8_t>({0, 2}), 0xff);
  EXPECT_EQ(a.at<uint8_t>({1, 0}), 1);
  EXPECT_EQ(a.at<uint8_t>({1, 2}), 3);
}

TEST_F(ImageTest, Reads16BitSamplesBigEndianOnDisk) {
  // PNG stores 16-bit samples most significant byte first.
  std::string p = writeRaw("g16.png", makePng(2, 1, 16, 0, {be16(0x1234) + be16(0xfe01)}));
  Array a = readPng(p);
  EXPECT_EQ(a.dtype(), DType::UInt16);
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(a.at<uint16_t>({0, 0}), 0x1234);
  EXPECT_EQ(a.at<uint16_t>({0, 1}), 0xfe01);
}

TEST_F(ImageTest, ReadsHandMadeRgb8And16) {
  std::string p8 = writeRaw("rgb8.png", makePng(2, 1, 8, 2, {"\x01\x02\x03\xfa\xfb\xfc"}));
  Array a = readPng(p8);
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(a.at<uint8_t>({0, 0, 2}), 3);
  EXPECT_EQ(a.at<uint8_t>({0, 1, 0}), 0xfa);
  std::string p16 = writeRaw(
      "rgb16.png", makePng(1, 1, 16, 2, {be16(1) + be16(0x8000) + be16(0xffff)}));
  Array b = readPng(p16);
  EXPECT_EQ(b.dtype(), DType::UInt16);
  EXPECT_EQ(b.shape(), (std::vector<int64_t>{1, 1, 3}));
  EXPECT_EQ(b.at<uint16_t>({0, 0, 0}), 1);
  EXPECT_EQ(b.at<uint16_t>({0, 0, 1}), 0x8000);
  EXPECT_EQ(b.at<uint16_t>({0, 0, 2}), 0xffff);
}

TEST_F(ImageTest, PaletteBecomesRgbAndLowBitGrayBecomes8Bit) {
  std::string pal = "\x0a\x0b\x0c\xf0\xf1\xf2";
  std::string p = writeRaw("pal.png", makePng(2, 1, 8, 3, {std::string("\x01\x00", 2)}, pal));
  Array a = readPng(p);
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(a.at<uint8_t>({0, 0, 0}), 0xf0);
  EXPECT_EQ(a.at<uint8_t>({0, 1, 2}), 0x0c);
  // 1-bit gray 1,0,1 (padded to a byte): scaled to 255, 0, 255.
  std::string g1 = writeRaw("g1.png", makePng(3, 1, 1, 0, {"\xa0"}));
  Array b = readPng(g1);
  EXPECT_EQ(b.dtype(), DType::UInt8);
  EXPECT_EQ(b.shape(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(b.at<uint8_t>({0, 0}), 255);
  EXPECT_EQ(b.at<uint8_t>({0, 1}), 0);
  EXPECT_EQ(b.at<uint8_t>({0, 2}), 255);
}

TEST_F(ImageTest, ReadErrorsNameTheFile) {
  std::string notPng = writeRaw("text.png", "hello, not a png");
  EXPECT_THAT([&] { readPng(notPng); },
              ::testing::ThrowsMessage<Error>(HasSubstr("text.png: error: not a PNG file")));
  std::string good = makePng(4, 4, 8, 0, std::vector<std::string>(4, "abcd"));
  std::string cut = writeRaw("cut.png", good.substr(0, good.size() - 30));
  EXPECT_THAT([&] { readPng(cut); }, ::testing::ThrowsMessage<Error>(HasSubstr("cut.png")));
  // A flipped byte in the pixel data: the IDAT CRC no longer matches.
  std::string bad = good;
  bad[bad.size() - 20] ^= 0x55;
  std::string crc = writeRaw("crc.png", bad);
  EXPECT_THAT([&] { readPng(crc); }, ::testing::ThrowsMessage<Error>(HasSubstr("crc.png")));
  EXPECT_THAT([&] { readPng(path("missing.png")); },
              ::testing::ThrowsMessage<Error>(HasSubstr("cannot open file")));
}

//===----------------------------------------------------------------------===//
// Round trips through writePng
//===----------------------------------------------------------------------===//

template <class T> void roundTrip(const std::string &p, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t e : shape)
    n *= e;
  std::vector<T> data(static_cast<size_t>(n));
  Lcg rng(static_cast<uint64_t>(n));
  for (auto &v : data)
    v = static_cast<T>(rng.next());
  data[0] = std::numeric_limits<T>::max(); // both extremes present
  data[1] = 0;
  for (int level : {0, 1, 9}) {
    PngWriteOptions o;
    o.compressionLevel = level;
    writePng(p, ArrayView::of(data.data(), shape), o);
    Array back = readPng(p);
    EXPECT_EQ(back.dtype(), DTypeOf<T>::value);
    std::vector<int64_t> want = shape;
    if (want.size() == 3 && want[2] == 1)
      want.pop_back(); // one channel reads back as (H, W)
    ASSERT_EQ(back.shape(), want);
    EXPECT_EQ(std::memcmp(back.data(), data.data(), data.size() * sizeof(T)), 0)
        << p << " level " << level;
  }
}

TEST_F(ImageTest, RoundTrip8BitGray) { roundTrip<uint8_t>(path("a.png"), {37, 53}); }
TEST_F(ImageTest, RoundTrip16BitGray) { roundTrip<uint16_t>(path("a.png"), {37, 53}); }
TEST_F(ImageTest, RoundTrip8BitRgb) { roundTrip<uint8_t>(path("a.png"), {19, 23, 3}); }
TEST_F(ImageTest, RoundTrip16BitRgb) { roundTrip<uint16_t>(path("a.png"), {19, 23, 3}); }
TEST_F(ImageTest, RoundTripGrayAlphaRgbaAndOneChannel) {
  roundTrip<uint8_t>(path("ga.png"), {5, 7, 2});
  roundTrip<uint16_t>(path("rgba.png"), {5, 7, 4});
  roundTrip<uint8_t>(path("c1.png"), {5, 7, 1});
}

TEST_F(ImageTest, WrittenFileMatchesTheFormatNotJustOurReader) {
  // Byte order on disk: write 16-bit, then read the raw IHDR and compare
  // with what a hand-made file holds for the same values.
  std::vector<uint16_t> v = {0x1234, 0xfe01};
  writePng(path("w16.png"), ArrayView::of(v.data(), {1, 2}));
  std::string bytes = readFile(path("w16.png"));
  ASSERT_GE(bytes.size(), 33u);
  EXPECT_EQ(bytes.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  EXPECT_EQ(static_cast<int>(bytes[24]), 16); // bit depth
  EXPECT_EQ(static_cast<int>(bytes[25]), 0);  // gray
  Array back = readPng(path("w16.png"));
  EXPECT_EQ(back.at<uint16_t>({0, 0}), 0x1234);
  EXPECT_EQ(back.at<uint16_t>({0, 1}), 0xfe01);
}

TEST_F(ImageTest, WritesStridedViews) {
  // The transpose of a 3x4 image, without a copy by the caller.
  std::vector<uint8_t> img(12);
  for (size_t i = 0; i < img.size(); ++i)
    img[i] = static_cast<uint8_t>(i * 10);
  ArrayView t(img.data(), DType::UInt8, {4, 3}, {1, 4});
  writePng(path("t.png"), t);
  Array back = readPng(path("t.png"));
  ASSERT_EQ(back.shape(), (std::vector<int64_t>{4, 3}));
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 3; ++x)
      EXPECT_EQ(back.at<uint8_t>({y, x}), img[static_cast<size_t>(x * 4 + y)]);
}

TEST_F(ImageTest, WriteRejectsWhatPngCannotHold) {
  std::vector<float> f(6);
  EXPECT_THAT([&] { writePng(path("f.png"), ArrayView::of(f.data(), {2, 3})); },
              ::testing::ThrowsMessage<Error>(
                  ::testing::AllOf(HasSubstr("float32"), HasSubstr(".npy"))));
  std::vector<int8_t> i8(6);
  EXPECT_THAT([&] { writePng(path("i.png"), ArrayView::of(i8.data(), {2, 3})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("int8")));
  std::vector<uint8_t> five(2 * 3 * 5);
  EXPECT_THAT([&] { writePng(path("c.png"), ArrayView::of(five.data(), {2, 3, 5})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("1 to 4 channels")));
  EXPECT_THAT([&] { writePng(path("r.png"), ArrayView::of(five.data(), {30})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("(H, W)")));
  EXPECT_FALSE(fs::exists(path("f.png")));
}

//===----------------------------------------------------------------------===//
// Stacks
//===----------------------------------------------------------------------===//

TEST_F(ImageTest, ReadsAGlobIntoOneSortedStack) {
  auto images = makeGrayStack("in", 5, 6, 7);
  ImageStack s = readImages({path("in") + "/*.png"});
  ASSERT_EQ(s.pixels.shape(), (std::vector<int64_t>{5, 6, 7}));
  EXPECT_EQ(s.format, ImageFormat::Png);
  ASSERT_EQ(s.files.size(), 5u);
  EXPECT_EQ(fs::path(s.files[3]).filename(), "img03.png");
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(std::memcmp(s.pixels.data<uint8_t>() + i * 42, images[i].data(), 42), 0) << i;
  // A directory names its images too; single threaded gives the same.
  ImageStack d = readImages({path("in")}, 1);
  EXPECT_EQ(d.files, s.files);
  EXPECT_EQ(std::memcmp(d.pixels.data(), s.pixels.data(), s.pixels.nbytes()), 0);
}

TEST_F(ImageTest, StackErrorsNameTheOddFile) {
  makeGrayStack("in", 3, 6, 7);
  std::vector<uint8_t> other(6 * 8);
  writePng(path("in/img01.png"), ArrayView::of(other.data(), {6, 8}));
  EXPECT_THAT([&] { readImages({path("in/*.png")}); },
              ::testing::ThrowsMessage<Error>(::testing::AllOf(
                  HasSubstr("img01.png"), HasSubstr("8x6 gray uint8"),
                  HasSubstr("7x6 gray uint8"), HasSubstr("same size"))));
  std::vector<uint16_t> deep(6 * 7);
  writePng(path("in/img01.png"), ArrayView::of(deep.data(), {6, 7}));
  EXPECT_THAT([&] { readImages({path("in/*.png")}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("uint16")));
  EXPECT_THAT([&] { readImages({path("nothing/*.png")}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("matches no file")));
  writeNpy(path("in/x.npy"), ArrayView::of(other.data(), {6, 8}));
  EXPECT_THAT([&] { readImages({path("in")}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("mix .png and .npy")));
  EXPECT_THAT([&] { readImages({path("in/img00.png"), path("in/img00.png")}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("named twice")));
}

TEST_F(ImageTest, NpyStacksRoundTrip) {
  std::vector<float> data(4 * 3 * 2);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = 0.5f * static_cast<float>(i) - 3.0f;
  std::vector<std::string> names = {"a.npy", "b.npy", "c.npy", "d.npy"};
  writeImages(ArrayView::of(data.data(), {4, 3, 2}), names, path("npy"));
  ImageStack s = readImages({path("npy/*.npy")});
  EXPECT_EQ(s.format, ImageFormat::Npy);
  EXPECT_EQ(s.pixels.dtype(), DType::Float32);
  ASSERT_EQ(s.pixels.shape(), (std::vector<int64_t>{4, 3, 2}));
  EXPECT_EQ(std::memcmp(s.pixels.data(), data.data(), data.size() * sizeof(float)), 0);
  Array b = readNpy(path("npy/b.npy"));
  EXPECT_EQ(b.at<float>({0, 0}), data[6]);
  // An array of another shape in the middle is named.
  writeNpy(path("npy/b.npy"), ArrayView::of(data.data(), {2, 3}));
  EXPECT_THAT([&] { readImages({path("npy/*.npy")}); },
              ::testing::ThrowsMessage<Error>(::testing::AllOf(HasSubstr("b.npy"),
                                                               HasSubstr("same dtype and shape"))));
}

TEST_F(ImageTest, WriteImagesKeepsNamesAndChangesTheExtension) {
  std::vector<uint8_t> px(2 * 2 * 3, 7);
  writeImages(ArrayView::of(px.data(), {2, 2, 3}), {"/x/one.png", "/y/two.npy"}, path("o"),
              ImageFormat::Png);
  EXPECT_TRUE(fs::exists(path("o/one.png")));
  EXPECT_TRUE(fs::exists(path("o/two.png")));
  EXPECT_THAT([&] { writeImages(ArrayView::of(px.data(), {2, 2, 3}), {"a.png"}, path("o")); },
              ::testing::ThrowsMessage<Error>(HasSubstr("1 names for a stack of 2")));
}

//===----------------------------------------------------------------------===//
// Exact conversion
//===----------------------------------------------------------------------===//

TEST_F(ImageTest, ConvertExactly) {
  std::vector<double> d = {0.0, 255.0, 17.0, 3.0};
  Array u = convertExactly(ArrayView::of(d.data(), {2, 2}), DType::UInt8);
  EXPECT_EQ(u.dtype(), DType::UInt8);
  EXPECT_EQ(u.at<uint8_t>({0, 1}), 255);
  EXPECT_EQ(u.at<uint8_t>({1, 0}), 17);
  for (double bad : {256.0, -1.0, 1.5, std::nan("")}) {
    d[3] = bad;
    EXPECT_THAT([&] { convertExactly(ArrayView::of(d.data(), {2, 2}), DType::UInt8); },
                ::testing::ThrowsMessage<Error>(HasSubstr("the element at (1, 1)")))
        << bad;
  }
  std::vector<int64_t> i = {-5, 70000};
  EXPECT_THROW(convertExactly(ArrayView::of(i.data(), {2}), DType::UInt16), Error);
  Array f = convertExactly(ArrayView::of(i.data(), {2}), DType::Float32);
  EXPECT_EQ(f.at<float>({1}), 70000.0f);
  std::vector<int64_t> big = {(int64_t(1) << 24) + 1};
  EXPECT_THROW(convertExactly(ArrayView::of(big.data(), {1}), DType::Float32), Error);
  std::vector<double> top = {9223372036854775808.0}; // 2^63 does not fit int64
  EXPECT_THROW(convertExactly(ArrayView::of(top.data(), {1}), DType::Int64), Error);
}

//===----------------------------------------------------------------------===//
// applyToImages
//===----------------------------------------------------------------------===//

TEST_F(ImageTest, ChunkedRunsWriteTheSameFilesAsOneCall) {
  const int64_t h = 13, w = 17;
  auto images = makeGrayStack("in", 7, h, w);
  std::string stn = kernels();
  Engine engine;
  ApplyOptions whole;
  whole.convertTo = DType::UInt8; // the seed's smooth is float64 for uint8 input
  ApplyReport r = applyToImages(engine, stn, "smooth", {path("in/*.png")}, path("whole"), whole);
  EXPECT_FALSE(r.streamed);
  EXPECT_EQ(r.chunks, 1u);
  EXPECT_EQ(r.resultShape, (std::vector<int64_t>{7, h, w}));
  ASSERT_EQ(r.outputs.size(), 7u);

  // Against the plain C++ reference.
  for (size_t i = 0; i < images.size(); ++i) {
    Array got = readPng(r.outputs[i]);
    std::vector<uint8_t> want = referenceSmooth(images[i].data(), h, w);
    ASSERT_EQ(got.shape(), (std::vector<int64_t>{h, w}));
    EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size()), 0) << r.outputs[i];
  }

  // --chunk 3 (chunks of 3, 3, 1), --chunk 1, and a memory budget of two
  // images with their results: identical files.
  std::vector<std::pair<std::string, ApplyOptions>> variants;
  ApplyOptions c3 = whole;
  c3.chunk = 3;
  variants.emplace_back("c3", c3);
  ApplyOptions c1 = whole;
  c1.chunk = 1;
  c1.threads = 1;
  variants.emplace_back("c1", c1);
  ApplyOptions budget = whole;
  budget.memoryBudget = 2 * uint64_t(h * w) * (1 + 8 + 1); // uint8 in, float64, uint8
  variants.emplace_back("budget", budget);
  for (auto &[name, opts] : variants) {
    ApplyReport rc = applyToImages(engine, stn, "smooth", {path("in")}, path(name), opts);
    EXPECT_TRUE(rc.streamed) << name;
    EXPECT_EQ(rc.chunks, name == "c3" ? 3u : name == "c1" ? 7u : 4u) << name;
    for (size_t i = 0; i < r.outputs.size(); ++i) {
      std::string file = fs::path(r.outputs[i]).filename().string();
      EXPECT_EQ(readFile(path(name + "/" + file)), readFile(r.outputs[i])) << name << file;
    }
  }
}

TEST_F(ImageTest, UfuncKeepsUint8AndRgb) {
  fs::create_directories(path("rgb"));
  std::vector<uint8_t> px(3 * 4 * 5 * 3);
  for (size_t i = 0; i < px.size(); ++i)
    px[i] = static_cast<uint8_t>(i * 7);
  writeImages(ArrayView::of(px.data(), {3, 4, 5, 3}), {"p.png", "q.png", "r.png"}, path("rgb"));
  Engine engine;
  ApplyOptions o;
  o.chunk = 2;
  ApplyReport r = applyToImages(engine, kernels(), "invert", {path("rgb")}, path("out"), o);
  EXPECT_EQ(r.resultDType, DType::UInt8);
  Array q = readPng(path("out/q.png"));
  ASSERT_EQ(q.shape(), (std::vector<int64_t>{4, 5, 3}));
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 5; ++x)
      for (int64_t c = 0; c < 3; ++c)
        EXPECT_EQ(q.at<uint8_t>({y, x, c}),
                  uint8_t(255 - px[static_cast<size_t>(60 + (y * 5 + x) * 3 + c)]));
}

TEST_F(ImageTest, ApplyErrors) {
  makeGrayStack("in", 3, 5, 5);
  std::string stn = kernels();
  Engine engine;
  ApplyOptions chunked;
  chunked.chunk = 2;
  // @jit: fine in one call, rejected in chunks.
  EXPECT_NO_THROW(applyToImages(engine, stn, "invert_jit", {path("in")}, path("j"), {}));
  EXPECT_THAT([&] { applyToImages(engine, stn, "invert_jit", {path("in")}, path("j2"), chunked); },
              ::testing::ThrowsMessage<Error>(::testing::AllOf(
                  HasSubstr("cannot run in chunks"), HasSubstr("@jit function"))));
  ApplyOptions tiny;
  tiny.memoryBudget = 10;
  EXPECT_THAT([&] { applyToImages(engine, stn, "invert_jit", {path("in")}, path("j3"), tiny); },
              ::testing::ThrowsMessage<Error>(HasSubstr("does not fit in the memory budget")));
  // A stencil over the stack axis.
  ApplyOptions npy = chunked;
  npy.outputFormat = ImageFormat::Npy;
  EXPECT_THAT([&] { applyToImages(engine, stn, "across", {path("in")}, path("s"), npy); },
              ::testing::ThrowsMessage<Error>(HasSubstr("neighborhood along the first")));
  // float64 results as PNG: an error before anything is written.
  EXPECT_THAT([&] { applyToImages(engine, stn, "smooth", {path("in")}, path("f"), {}); },
              ::testing::ThrowsMessage<Error>(::testing::AllOf(
                  HasSubstr("float64"), HasSubstr("--format npy"), HasSubstr("--as uint8"))));
  EXPECT_FALSE(fs::exists(path("f/img00.png")));
  // Not an array per image; two parameters; no such kernel; over the inputs.
  EXPECT_THAT([&] { applyToImages(engine, stn, "total", {path("in")}, path("t"), npy); },
              ::testing::ThrowsMessage<Error>(HasSubstr("returns")));
  EXPECT_THAT([&] { applyToImages(engine, stn, "two", {path("in")}, path("t"), {}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("takes 2 (x, y)")));
  EXPECT_THAT([&] { applyToImages(engine, stn, "smoth", {path("in")}, path("t"), {}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("did you mean 'smooth'")));
  EXPECT_THAT([&] { applyToImages(engine, stn, "invert", {path("in")}, path("in"), {}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("would overwrite the input")));
}

TEST_F(ImageTest, ChunkabilityComesFromTheKernelKind) {
  std::string stn = kernels();
  std::string why;
  EXPECT_TRUE(kernelIsChunkable(stn, "smooth", DType::UInt8, 3, &why)) << why;
  EXPECT_TRUE(kernelIsChunkable(stn, "invert", DType::UInt8, 4, &why)) << why;
  // The gufunc's core (n, m) takes both axes of a single 2-D image.
  EXPECT_FALSE(kernelIsChunkable(stn, "smooth", DType::UInt8, 2, &why));
  EXPECT_THAT(why, HasSubstr("cover every axis"));
  EXPECT_FALSE(kernelIsChunkable(stn, "across", DType::Int16, 3, &why));
  EXPECT_THAT(why, HasSubstr("[-1, 1]"));
  EXPECT_FALSE(kernelIsChunkable(stn, "invert_jit", DType::UInt8, 3, &why));
  EXPECT_THAT(why, HasSubstr("@jit"));
  // A kernel that does not type-check for the stack is an error, not "no".
  EXPECT_THROW(kernelIsChunkable(stn, "across", DType::UInt8, 2), Error);
}

TEST_F(ImageTest, DirectoriesSkipOtherFiles) {
  makeGrayStack("in", 2, 3, 3);
  writeRaw("in/notes.txt", "not an image");
  fs::create_directories(path("in/sub.png")); // a directory named like an image
  std::vector<std::string> files = expandImageInputs({path("in")});
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(fs::path(files[0]).filename(), "img00.png");
  // A file named explicitly is taken as given, and rejected when probed.
  EXPECT_EQ(expandImageInputs({path("in/notes.txt")}).size(), 1u);
  EXPECT_THAT([&] { probeImages({path("in/notes.txt")}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("neither a .png nor an .npy")));
}

TEST_F(ImageTest, ProgressIsReportedForEveryImage) {
  makeGrayStack("in", 4, 5, 5);
  Engine engine;
  ApplyOptions o;
  o.chunk = 3;
  std::vector<ApplyProgress> seen;
  o.onProgress = [&](const ApplyProgress &p) { seen.push_back(p); };
  applyToImages(engine, kernels(), "invert", {path("in")}, path("out"), o);
  ASSERT_EQ(seen.size(), 10u); // 4 read + 2 kernel calls + 4 written
  EXPECT_EQ(std::count_if(seen.begin(), seen.end(),
                          [](const ApplyProgress &p) { return p.inKernel; }),
            2);
  EXPECT_TRUE(seen[3].inKernel); // after the first chunk's 3 images
  EXPECT_EQ(seen.back().read, 4u);
  EXPECT_EQ(seen.back().written, 4u);
  EXPECT_EQ(seen.back().total, 4u);
  EXPECT_EQ(seen.back().bytesRead, 4u * 25u);
}

//===----------------------------------------------------------------------===//
// The program of docs/host-api.md
//===----------------------------------------------------------------------===//

TEST_F(ImageTest, DocumentedProgramSmoothsAFolder) {
  const int64_t h = 9, w = 11;
  auto images = makeGrayStack("images", 3, h, w);
  std::string smooth = std::string(STN_EXAMPLES_DIR) + "/smooth.stn";
  std::string pattern = path("images") + "/*.png";
  std::string out = path("out");
  std::vector<std::string> args = {"smooth_folder", smooth, pattern, out};
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  int rc = stnDocImageExampleMain(static_cast<int>(argv.size()), argv.data());
  std::string printed = ::testing::internal::GetCapturedStdout();
  ASSERT_EQ(rc, 0) << printed;
  for (int i = 0; i < 3; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "img%02d.png", i);
    std::vector<uint8_t> want = referenceSmooth(images[static_cast<size_t>(i)].data(), h, w);
    for (const std::string &dir : {out, out + "/streamed"}) {
      Array got = readPng(dir + "/" + name);
      ASSERT_EQ(got.shape(), (std::vector<int64_t>{h, w})) << dir;
      EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size()), 0) << dir << name;
    }
  }
  EXPECT_THAT(printed, HasSubstr("smoothed 3 images"));
}

} // namespace
