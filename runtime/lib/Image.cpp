//===- Image.cpp - Image stacks: PNG/NPY files in, kernel, files out -----===//
//
// Part of the stn runtime; see stn/Image.h.
//
// Design notes:
// - libpng reports errors with longjmp. Every function here that calls
//   setjmp holds no object with a destructor, and everything with one (the
//   FILE, the png structs, row pointers, the output array) lives in its
//   caller, so a jump never skips a destructor. The error callback copies
//   libpng's message into a fixed buffer before jumping.
// - Decoding and encoding run over files on a few std::threads: each file
//   has its own png_struct (libpng is thread-safe per struct), and each
//   thread writes its own slice of the stack.
// - Chunking along the stack axis is only valid when image i of the result
//   depends on image i of the input alone. That is a property of the kernel
//   kind, so it is read from the kernel's typed specialization (Sema), not
//   guessed from results.
//
//===----------------------------------------------------------------------===//

#include "stn/Image.h"
#include "stn/Cache.h"
#include "stn/Error.h"
#include "stn/Npy.h"
#include "stn/Value.h"

#include "stn/Compiler/Diagnostics.h"
#include "stn/Compiler/Sema.h"

#include <fmt/format.h>
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <type_traits>
#include <utility>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <glob.h>
#include <sched.h>
#include <unistd.h>

namespace stn {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string &path, const std::string &message) {
  throw Error(fmt::format("{}: error: {}", path, message));
}

std::string lowerExtension(const std::string &path) {
  std::string ext = fs::path(path).extension().string();
  for (char &c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

std::optional<ImageFormat> formatOfPath(const std::string &path) {
  std::string ext = lowerExtension(path);
  if (ext == ".png")
    return ImageFormat::Png;
  if (ext == ".npy")
    return ImageFormat::Npy;
  return std::nullopt;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::vector<int64_t> cStrides(DType dt, const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = static_cast<int64_t>(itemSize(dt));
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t e : shape)
    n *= e;
  return n;
}

/// Runs fn(i) for i in [0, n) on up to `threads` threads (the caller's
/// included). Rethrows the exception of the lowest failing index, after
/// every thread has stopped.
void parallelFor(size_t n, unsigned threads, const std::function<void(size_t)> &fn) {
  if (threads == 0)
    threads = defaultThreadCount();
  size_t workers = std::min<size_t>(threads, n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i)
      fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex errorMutex;
  size_t errorIndex = n;
  std::exception_ptr error;
  auto work = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= n || failed.load(std::memory_order_relaxed))
        return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (i < errorIndex) {
          errorIndex = i;
          error = std::current_exception();
        }
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t t = 0; t + 1 < workers; ++t)
    pool.emplace_back(work);
  work();
  for (auto &t : pool)
    t.join();
  if (error)
    std::rethrow_exception(error);
}

//===----------------------------------------------------------------------===//
// PNG through libpng
//===----------------------------------------------------------------------===//

/// libpng's error message, copied out before the longjmp.
struct PngErrorState {
  char message[256] = {};
};

extern "C" void stnPngError(png_structp png, png_const_charp message) {
  auto *state = static_cast<PngErrorState *>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message ? message : "?");
  png_longjmp(png, 1);
}

extern "C" void stnPngWarning(png_structp, png_const_charp) {
  // Warnings (e.g. an incorrect sRGB profile) do not change the pixels.
}

/// The decoded layout of a PNG after the transforms applied on read.
struct PngLayout {
  uint32_t width = 0, height = 0;
  unsigned channels = 0;  ///< 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  unsigned bitDepth = 0;  ///< 8 or 16
  DType dtype() const { return bitDepth == 16 ? DType::UInt16 : DType::UInt8; }
  std::vector<int64_t> shape() const {
    if (channels == 1)
      return {int64_t(height), int64_t(width)};
    return {int64_t(height), int64_t(width), int64_t(channels)};
  }
  size_t rowBytes() const { return size_t(width) * channels * (bitDepth / 8); }
};

std::string describeLayout(DType dt, const std::vector<int64_t> &shape) {
  if (shape.size() < 2)
    return fmt::format("{} of shape {}", dtypeName(dt), shapeString(shape));
  static const char *kinds[] = {"", "gray", "gray+alpha", "RGB", "RGBA"};
  int64_t c = shape.size() == 3 ? shape[2] : 1;
  std::string kind = shape.size() == 2 || (c >= 1 && c <= 4) ? kinds[c]
                                                              : fmt::format("{}-channel", c);
  if (shape.size() > 3)
    return fmt::format("{} of shape {}", dtypeName(dt), shapeString(shape));
  return fmt::format("{}x{} {} {}", shape[1], shape[0], kind, dtypeName(dt));
}

/// Owns what a PNG read needs; freed whatever happens in the setjmp scopes.
struct PngReader {
  std::FILE *file = nullptr;
  png_structp png = nullptr;
  png_infop info = nullptr;
  PngErrorState error;
  ~PngReader() {
    if (png)
      png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    if (file)
      std::fclose(file);
  }
};

/// Reads the header and sets the transforms to stored values: palette to
/// RGB(A), low-bit gray to 8 bits, 16-bit samples to native byte order.
/// False with r.error set on a libpng error.
bool pngReadHeader(PngReader &r, PngLayout &out) {
  if (setjmp(png_jmpbuf(r.png)))
    return false;
  png_init_io(r.png, r.file);
  png_set_sig_bytes(r.png, 8);
  png_read_info(r.png, r.info);
  int colorType = png_get_color_type(r.png, r.info);
  int depth = png_get_bit_depth(r.png, r.info);
  if (colorType == PNG_COLOR_TYPE_PALETTE) {
    png_set_palette_to_rgb(r.png);
    if (png_get_valid(r.png, r.info, PNG_INFO_tRNS))
      png_set_tRNS_to_alpha(r.png);
  }
  if (colorType == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(r.png);
  if (depth == 16 && std::endian::native == std::endian::little)
    png_set_swap(r.png);
  png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  out.width = png_get_image_width(r.png, r.info);
  out.height = png_get_image_height(r.png, r.info);
  out.channels = png_get_channels(r.png, r.info);
  out.bitDepth = png_get_bit_depth(r.png, r.info);
  return true;
}

bool pngReadRows(PngReader &r, png_bytepp rows) {
  if (setjmp(png_jmpbuf(r.png)))
    return false;
  png_read_image(r.png, rows);
  png_read_end(r.png, nullptr);
  return true;
}

/// Opens a PNG and reads its header into `layout`.
void pngOpen(const std::string &path, PngReader &r, PngLayout &layout) {
  r.file = std::fopen(path.c_str(), "rb");
  if (!r.file)
    fail(path, fmt::format("cannot open file: {}", std::strerror(errno)));
  unsigned char sig[8];
  size_t got = std::fread(sig, 1, sizeof sig, r.file);
  if (got != sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0) {
    std::error_code ec;
    if (fs::is_directory(path, ec))
      fail(path, "is a directory, not a PNG file");
    fail(path, "not a PNG file (it does not start with the PNG signature)");
  }
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r.error, stnPngError, stnPngWarning);
  if (r.png)
    r.info = png_create_info_struct(r.png);
  if (!r.png || !r.info)
    fail(path, "cannot initialize libpng (out of memory)");
  if (!pngReadHeader(r, layout))
    fail(path, fmt::format("corrupt or unsupported PNG: {}", r.error.message));
  if (layout.bitDepth != 8 && layout.bitDepth != 16)
    fail(path, fmt::format("unsupported PNG bit depth {}", layout.bitDepth));
}

/// Decodes a PNG whose layout must be `want` into `dst` (C-contiguous).
void pngDecodeInto(const std::string &path, const PngLayout *want, void *dst) {
  PngReader r;
  PngLayout layout;
  pngOpen(path, r, layout);
  if (want && (layout.width != want->width || layout.height != want->height ||
               layout.channels != want->channels || layout.bitDepth != want->bitDepth))
    fail(path, fmt::format("the image is {}, but the first image of the stack is {}: every "
                           "image of a stack must have the same size, channels and bit "
                           "depth",
                           describeLayout(layout.dtype(), layout.shape()),
                           describeLayout(want->dtype(), want->shape())));
  std::vector<png_bytep> rows(layout.height);
  for (uint32_t y = 0; y < layout.height; ++y)
    rows[y] = static_cast<png_bytep>(dst) + size_t(y) * layout.rowBytes();
  if (!pngReadRows(r, rows.data()))
    fail(path, fmt::format("corrupt PNG: {}", r.error.message));
}

struct PngWriter {
  std::FILE *file = nullptr;
  png_structp png = nullptr;
  png_infop info = nullptr;
  PngErrorState error;
  ~PngWriter() {
    if (png)
      png_destroy_write_struct(&png, info ? &info : nullptr);
    if (file)
      std::fclose(file);
  }
};

bool pngWriteAll(PngWriter &w, const PngLayout &layout, png_bytepp rows, int level) {
  if (setjmp(png_jmpbuf(w.png)))
    return false;
  static const int colorTypes[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                   PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  png_init_io(w.png, w.file);
  png_set_compression_level(w.png, level);
  if (level <= 1) {
    // The fast setting: one filter (Up) instead of trying all five on every
    // row, and run-length matching. Measured on 1000x1000 gray images: 8-11
    // ms per image instead of 46-131 ms with libpng's defaults (level 6,
    // adaptive filters), for files 4% larger to 7% smaller.
    png_set_filter(w.png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
    png_set_compression_strategy(w.png, Z_RLE);
  }
  png_set_IHDR(w.png, w.info, layout.width, layout.height, static_cast<int>(layout.bitDepth),
               colorTypes[layout.channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(w.png, w.info);
  if (layout.bitDepth == 16 && std::endian::native == std::endian::little)
    png_set_swap(w.png); // PNG stores 16-bit samples big-endian
  png_write_image(w.png, rows);
  png_write_end(w.png, nullptr);
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// Single files
//===----------------------------------------------------------------------===//

bool pngCanHold(DType dtype, const std::vector<int64_t> &imageShape, std::string *why) {
  auto no = [&](std::string reason) {
    if (why)
      *why = std::move(reason);
    return false;
  };
  if (dtype != DType::UInt8 && dtype != DType::UInt16)
    return no(fmt::format("PNG stores uint8 and uint16 pixels, and the images are {}",
                          dtypeName(dtype)));
  if (imageShape.size() != 2 && imageShape.size() != 3)
    return no(fmt::format("a PNG image has the shape (H, W) or (H, W, C), and the images "
                          "have the shape {}",
                          shapeString(imageShape)));
  if (imageShape.size() == 3 && (imageShape[2] < 1 || imageShape[2] > 4))
    return no(fmt::format("a PNG image has 1 to 4 channels (gray, gray+alpha, RGB, RGBA), "
                          "and the images have {}",
                          imageShape[2]));
  if (imageShape[0] < 1 || imageShape[1] < 1 || imageShape[0] > 0x7fffffff ||
      imageShape[1] > 0x7fffffff)
    return no(fmt::format("a PNG image is at least 1x1 and at most 2^31-1 pixels per side, "
                          "and the images have the shape {}",
                          shapeString(imageShape)));
  return true;
}

Array readPng(const std::string &path) {
  PngReader r;
  PngLayout layout;
  pngOpen(path, r, layout);
  Array out(layout.dtype(), layout.shape());
  std::vector<png_bytep> rows(layout.height);
  for (uint32_t y = 0; y < layout.height; ++y)
    rows[y] = static_cast<png_bytep>(out.data()) + size_t(y) * layout.rowBytes();
  if (!pngReadRows(r, rows.data()))
    fail(path, fmt::format("corrupt PNG: {}", r.error.message));
  return out;
}

void writePng(const std::string &path, const ArrayView &image, const PngWriteOptions &options) {
  std::string why;
  if (image.strides.size() != image.shape.size())
    fail(path, "cannot write an array view whose strides do not match its shape");
  if (!pngCanHold(image.dtype, image.shape, &why))
    fail(path, fmt::format("cannot write a PNG: {} (write .npy instead, which holds any "
                           "dtype and shape)",
                           why));
  if (options.compressionLevel < 0 || options.compressionLevel > 9)
    fail(path, fmt::format("PNG compression level {} is not in 0..9",
                           options.compressionLevel));
  PngLayout layout;
  layout.height = static_cast<uint32_t>(image.shape[0]);
  layout.width = static_cast<uint32_t>(image.shape[1]);
  layout.channels = image.shape.size() == 3 ? static_cast<unsigned>(image.shape[2]) : 1;
  layout.bitDepth = image.dtype == DType::UInt16 ? 16 : 8;
  // Rows may point into the caller's memory when each row is contiguous;
  // other layouts are gathered into a C-contiguous copy first.
  int64_t item = static_cast<int64_t>(itemSize(image.dtype));
  bool rowsContiguous = image.shape.size() == 2
                            ? image.strides[1] == item
                            : image.strides[2] == item && image.strides[1] == item * image.shape[2];
  Array copy;
  const char *base = static_cast<const char *>(image.data);
  int64_t rowStride = image.strides[0];
  if (!rowsContiguous) {
    copy = Array::copyOf(image);
    base = static_cast<const char *>(copy.data());
    rowStride = copy.strides()[0];
  }
  std::vector<png_bytep> rows(layout.height);
  for (uint32_t y = 0; y < layout.height; ++y)
    rows[y] = reinterpret_cast<png_bytep>(const_cast<char *>(base + int64_t(y) * rowStride));

  bool ok;
  PngErrorState error;
  {
    PngWriter w;
    w.file = std::fopen(path.c_str(), "wb");
    if (!w.file)
      fail(path, fmt::format("cannot create file: {}", std::strerror(errno)));
    w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &w.error, stnPngError, stnPngWarning);
    if (w.png)
      w.info = png_create_info_struct(w.png);
    if (!w.png || !w.info)
      fail(path, "cannot initialize libpng (out of memory)");
    ok = pngWriteAll(w, layout, rows.data(), options.compressionLevel);
    error = w.error;
    if (ok && std::fflush(w.file) != 0) {
      ok = false;
      std::snprintf(error.message, sizeof error.message, "%s", std::strerror(errno));
    }
  }
  if (!ok) {
    std::error_code ec;
    fs::remove(path, ec); // no half-written image left behind
    fail(path, fmt::format("cannot write the PNG: {}", error.message));
  }
}

//===----------------------------------------------------------------------===//
// Stacks
//===----------------------------------------------------------------------===//

const char *imageFormatName(ImageFormat format) {
  return format == ImageFormat::Png ? "png" : "npy";
}

std::vector<int64_t> ImageStackInfo::stackShape() const {
  std::vector<int64_t> s{static_cast<int64_t>(files.size())};
  s.insert(s.end(), imageShape.begin(), imageShape.end());
  return s;
}

uint64_t ImageStackInfo::imageBytes() const {
  return static_cast<uint64_t>(elementCount(imageShape)) * itemSize(dtype);
}

unsigned defaultThreadCount() {
  if (const char *env = std::getenv("STN_NUM_THREADS"); env && *env) {
    char *end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end && *end == '\0' && v > 0 && v <= 4096)
      return static_cast<unsigned>(v);
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return static_cast<unsigned>(n);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? hc : 1;
}

std::vector<std::string> expandImageInputs(const std::vector<std::string> &inputs) {
  std::vector<std::string> files;
  for (const std::string &input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<std::string> found;
      for (const auto &entry : fs::directory_iterator(input, ec))
        if (entry.is_regular_file(ec) && formatOfPath(entry.path().string()))
          found.push_back(entry.path().string());
      if (ec)
        fail(input, fmt::format("cannot list the directory: {}", ec.message()));
      if (found.empty())
        fail(input, "the directory holds no .png or .npy file");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
      continue;
    }
    if (input.find_first_of("*?[") != std::string::npos) {
      glob_t g{};
      int rc = ::glob(input.c_str(), 0, nullptr, &g);
      std::vector<std::string> found;
      if (rc == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i)
          found.emplace_back(g.gl_pathv[i]);
      globfree(&g);
      if (rc == GLOB_NOMATCH || (rc == 0 && found.empty()))
        throw Error(fmt::format("error: '{}' matches no file", input));
      if (rc != 0)
        throw Error(fmt::format("error: cannot expand '{}': {}", input,
                                rc == GLOB_NOSPACE ? "out of memory" : "a directory is unreadable"));
      // Byte order, whatever the locale, so chunked and in-memory runs and
      // every machine agree on which image is which.
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
      continue;
    }
    if (!fs::exists(input, ec))
      fail(input, "no such file");
    files.push_back(input);
  }
  std::set<std::string> seen;
  for (const std::string &f : files) {
    std::error_code ec;
    std::string key = fs::weakly_canonical(f, ec).string();
    if (ec)
      key = f;
    if (!seen.insert(key).second)
      fail(f, "the file is named twice in the inputs");
  }
  return files;
}

ImageStackInfo probeImages(const std::vector<std::string> &files) {
  if (files.empty())
    throw Error("error: no image files given");
  ImageStackInfo info;
  info.files = files;
  std::optional<ImageFormat> first;
  for (const std::string &f : files) {
    std::optional<ImageFormat> fmtOf = formatOfPath(f);
    if (!fmtOf)
      fail(f, "neither a .png nor an .npy file (stn apply reads PNG images and .npy arrays)");
    if (first && *fmtOf != *first)
      fail(f, fmt::format("the inputs mix .png and .npy files ({} is a .{} file); a stack is "
                          "read from files of one format",
                          files.front(), imageFormatName(*first)));
    first = fmtOf;
  }
  info.format = *first;
  if (info.format == ImageFormat::Npy) {
    // Every .npy file is checked against the first one when it is read.
    Array a = readNpy(files.front());
    info.dtype = a.dtype();
    info.imageShape = a.shape();
    return info;
  }
  PngLayout want;
  for (size_t i = 0; i < files.size(); ++i) {
    PngReader r;
    PngLayout layout;
    pngOpen(files[i], r, layout);
    if (i == 0) {
      want = layout;
      continue;
    }
    if (layout.width != want.width || layout.height != want.height ||
        layout.channels != want.channels || layout.bitDepth != want.bitDepth)
      fail(files[i], fmt::format("the image is {}, but {} is {}: every image of a stack must "
                                 "have the same size, channels and bit depth",
                                 describeLayout(layout.dtype(), layout.shape()), files[0],
                                 describeLayout(want.dtype(), want.shape())));
  }
  info.dtype = want.dtype();
  info.imageShape = want.shape();
  return info;
}

namespace {

void checkStackView(const ArrayView &v, DType dtype, const std::vector<int64_t> &shape,
                    const char *what) {
  if (v.dtype != dtype || v.shape != shape || !v.isCContiguous() || (!v.data && elementCount(shape)))
    throw Error(fmt::format("error: {} must be a C-contiguous {} array of shape {}, not {} of "
                            "shape {}",
                            what, dtypeName(dtype), shapeString(shape), dtypeName(v.dtype),
                            shapeString(v.shape)));
}

/// readImagesInto with a callback after each image (serialized).
void readImagesImpl(const ImageStackInfo &info, size_t first, size_t count, const ArrayView &dst,
                    unsigned threads, const std::function<void(size_t)> &onImage) {
  if (first + count > info.files.size())
    throw Error(fmt::format("error: images {}..{} asked of a stack of {}", first,
                            first + count, info.files.size()));
  std::vector<int64_t> shape{static_cast<int64_t>(count)};
  shape.insert(shape.end(), info.imageShape.begin(), info.imageShape.end());
  checkStackView(dst, info.dtype, shape, "the destination of readImagesInto");
  uint64_t bytes = info.imageBytes();
  std::optional<PngLayout> want;
  if (info.format == ImageFormat::Png) {
    PngLayout l;
    l.height = static_cast<uint32_t>(info.imageShape[0]);
    l.width = static_cast<uint32_t>(info.imageShape[1]);
    l.channels = info.imageShape.size() == 3 ? static_cast<unsigned>(info.imageShape[2]) : 1;
    l.bitDepth = info.dtype == DType::UInt16 ? 16 : 8;
    want = l;
  }
  std::mutex progressMutex;
  parallelFor(count, threads, [&](size_t i) {
    const std::string &path = info.files[first + i];
    char *out = static_cast<char *>(dst.data) + i * bytes;
    if (want) {
      pngDecodeInto(path, &*want, out);
    } else {
      Array a = readNpy(path);
      if (a.dtype() != info.dtype || a.shape() != info.imageShape)
        fail(path, fmt::format("the array is {} of shape {}, but {} is {} of shape {}: every "
                               "array of a stack must have the same dtype and shape",
                               dtypeName(a.dtype()), shapeString(a.shape()), info.files[0],
                               dtypeName(info.dtype), shapeString(info.imageShape)));
      if (!a.view().isCContiguous())
        a = Array::copyOf(a.view());
      if (bytes)
        std::memcpy(out, a.data(), bytes);
    }
    if (onImage) {
      std::lock_guard<std::mutex> lock(progressMutex);
      onImage(first + i);
    }
  });
}

/// writeImages with a callback after each image (serialized).
void writeImagesImpl(const ArrayView &stack, const std::vector<std::string> &names,
                     size_t firstName, const std::string &outDir, ImageFormat format,
                     unsigned threads, const PngWriteOptions &png,
                     const std::function<void(size_t)> &onImage) {
  if (stack.shape.empty() || stack.strides.size() != stack.shape.size())
    throw Error("error: writeImages needs an array whose first axis is the image");
  size_t n = static_cast<size_t>(stack.shape[0]);
  if (firstName + n > names.size())
    throw Error(fmt::format("error: {} images to write but only {} names", n,
                            names.size() - std::min(firstName, names.size())));
  std::vector<int64_t> imageShape(stack.shape.begin() + 1, stack.shape.end());
  std::vector<int64_t> imageStrides(stack.strides.begin() + 1, stack.strides.end());
  std::string why;
  if (format == ImageFormat::Png && !pngCanHold(stack.dtype, imageShape, &why))
    throw Error(fmt::format("error: cannot write the results as PNG: {}; write them as .npy "
                            "instead (stn apply --format npy)",
                            why));
  std::error_code ec;
  fs::create_directories(outDir, ec);
  if (ec)
    fail(outDir, fmt::format("cannot create the output directory: {}", ec.message()));
  std::mutex progressMutex;
  parallelFor(n, threads, [&](size_t i) {
    ArrayView image(static_cast<char *>(stack.data) + int64_t(i) * stack.strides[0],
                    stack.dtype, imageShape, imageStrides, true);
    std::string path = outputImagePath(names[firstName + i], outDir, format);
    if (format == ImageFormat::Png)
      writePng(path, image, png);
    else
      writeNpy(path, image);
    if (onImage) {
      std::lock_guard<std::mutex> lock(progressMutex);
      onImage(firstName + i);
    }
  });
}

} // namespace

void readImagesInto(const ImageStackInfo &info, size_t first, size_t count, const ArrayView &dst,
                    unsigned threads) {
  readImagesImpl(info, first, count, dst, threads, nullptr);
}

ImageStack readImages(const std::vector<std::string> &inputs, unsigned threads) {
  ImageStackInfo info = probeImages(expandImageInputs(inputs));
  ImageStack stack;
  stack.pixels = Array(info.dtype, info.stackShape());
  readImagesImpl(info, 0, info.files.size(), stack.pixels.view(), threads, nullptr);
  stack.files = std::move(info.files);
  stack.format = info.format;
  return stack;
}

std::string outputImagePath(const std::string &file, const std::string &outDir,
                            ImageFormat format) {
  fs::path name = fs::path(file).filename();
  name.replace_extension(format == ImageFormat::Png ? ".png" : ".npy");
  return (fs::path(outDir) / name).string();
}

void writeImages(const ArrayView &stack, const std::vector<std::string> &names,
                 const std::string &outDir, std::optional<ImageFormat> format, unsigned threads,
                 const PngWriteOptions &png) {
  if (names.empty())
    throw Error("error: writeImages needs one name per image, and none were given");
  if (!stack.shape.empty() && static_cast<size_t>(stack.shape[0]) != names.size())
    throw Error(fmt::format("error: writeImages got {} names for a stack of {} images",
                            names.size(), stack.shape[0]));
  ImageFormat f = format ? *format : formatOfPath(names.front()).value_or(ImageFormat::Npy);
  writeImagesImpl(stack, names, 0, outDir, f, threads, png, nullptr);
}

//===----------------------------------------------------------------------===//
// Exact conversion
//===----------------------------------------------------------------------===//

namespace {

/// Converts n elements, stopping at the first one whose value would change;
/// returns its index, or n.
template <class S, class D> size_t convertElements(const S *src, D *dst, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    S v = src[i];
    if constexpr (std::is_same_v<D, bool>) {
      if (!(v == S(0) || v == S(1)))
        return i;
      dst[i] = v == S(1);
    } else if constexpr (std::is_same_v<S, bool>) {
      dst[i] = static_cast<D>(v); // 0 and 1 fit every type
    } else if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D>) {
      // The bounds are exact in double for every integer type up to 32
      // bits; for 64-bit ones the upper bound 2^63 (2^64) is excluded.
      constexpr double lo = double(std::numeric_limits<D>::min());
      constexpr double hi = double(std::numeric_limits<D>::max());
      if (!(double(v) >= lo && (sizeof(D) < 8 ? double(v) <= hi : double(v) < hi)) ||
          v != std::trunc(v))
        return i;
      dst[i] = static_cast<D>(v);
    } else if constexpr (std::is_integral_v<S> && std::is_integral_v<D>) {
      if (!std::in_range<D>(v))
        return i;
      dst[i] = static_cast<D>(v);
    } else {
      // To a float type: the value must come back unchanged (NaN passes
      // between float types).
      D d = static_cast<D>(v);
      bool same = static_cast<S>(d) == v;
      if constexpr (std::is_floating_point_v<S>)
        same = same || (std::isnan(v) && std::isnan(d));
      if (!same)
        return i;
      dst[i] = d;
    }
  }
  return n;
}

template <class S> size_t convertFrom(const S *src, void *dst, DType to, size_t n) {
  switch (to) {
  case DType::Bool: return convertElements(src, static_cast<bool *>(dst), n);
  case DType::Int8: return convertElements(src, static_cast<int8_t *>(dst), n);
  case DType::Int16: return convertElements(src, static_cast<int16_t *>(dst), n);
  case DType::Int32: return convertElements(src, static_cast<int32_t *>(dst), n);
  case DType::Int64: return convertElements(src, static_cast<int64_t *>(dst), n);
  case DType::UInt8: return convertElements(src, static_cast<uint8_t *>(dst), n);
  case DType::UInt16: return convertElements(src, static_cast<uint16_t *>(dst), n);
  case DType::UInt32: return convertElements(src, static_cast<uint32_t *>(dst), n);
  case DType::UInt64: return convertElements(src, static_cast<uint64_t *>(dst), n);
  case DType::Float32: return convertElements(src, static_cast<float *>(dst), n);
  case DType::Float64: return convertElements(src, static_cast<double *>(dst), n);
  default: return 0;
  }
}

size_t convertAny(const void *src, DType from, void *dst, DType to, size_t n) {
  switch (from) {
  case DType::Bool: return convertFrom(static_cast<const bool *>(src), dst, to, n);
  case DType::Int8: return convertFrom(static_cast<const int8_t *>(src), dst, to, n);
  case DType::Int16: return convertFrom(static_cast<const int16_t *>(src), dst, to, n);
  case DType::Int32: return convertFrom(static_cast<const int32_t *>(src), dst, to, n);
  case DType::Int64: return convertFrom(static_cast<const int64_t *>(src), dst, to, n);
  case DType::UInt8: return convertFrom(static_cast<const uint8_t *>(src), dst, to, n);
  case DType::UInt16: return convertFrom(static_cast<const uint16_t *>(src), dst, to, n);
  case DType::UInt32: return convertFrom(static_cast<const uint32_t *>(src), dst, to, n);
  case DType::UInt64: return convertFrom(static_cast<const uint64_t *>(src), dst, to, n);
  case DType::Float32: return convertFrom(static_cast<const float *>(src), dst, to, n);
  case DType::Float64: return convertFrom(static_cast<const double *>(src), dst, to, n);
  default: return 0;
  }
}

bool isComplex(DType dt) { return dt == DType::Complex64 || dt == DType::Complex128; }

/// "cannot convert ... exactly: the element at (i, j) is v, which ... does
/// not hold" for element `bad` (flat, C order) of a contiguous array.
std::string conversionFailure(const void *data, DType from, const std::vector<int64_t> &shape,
                              size_t bad, DType to) {
  std::vector<int64_t> index(shape.size());
  size_t rest = bad;
  for (size_t d = index.size(); d-- > 0;) {
    index[d] = static_cast<int64_t>(rest % static_cast<size_t>(shape[d]));
    rest /= static_cast<size_t>(shape[d]);
  }
  Scalar v = Scalar::load(from, static_cast<const char *>(data) + bad * itemSize(from));
  return fmt::format("cannot convert {} to {} exactly: the element at {} is {}, which {} does "
                     "not hold",
                     dtypeName(from), dtypeName(to), shapeString(index), v.toJSON(),
                     dtypeName(to));
}

} // namespace

Array convertExactly(const ArrayView &array, DType dtype) {
  if (isComplex(array.dtype) || isComplex(dtype))
    throw Error(fmt::format("error: cannot convert {} to {}: complex values are not converted",
                            dtypeName(array.dtype), dtypeName(dtype)));
  Array src = array.isCContiguous() ? Array(nullptr, array.data, array.dtype, array.shape,
                                            array.strides)
                                    : Array::copyOf(array);
  if (array.dtype == dtype)
    return Array::copyOf(src.view());
  Array out(dtype, array.shape);
  size_t n = static_cast<size_t>(src.size());
  size_t bad = convertAny(src.data(), src.dtype(), out.data(), dtype, n);
  if (bad < n)
    throw Error("error: " + conversionFailure(src.data(), src.dtype(), array.shape, bad, dtype));
  return out;
}

//===----------------------------------------------------------------------===//
// Applying a kernel
//===----------------------------------------------------------------------===//

namespace {

/// What Sema says about `kernel` called with one stack argument.
struct KernelAnalysis {
  KernelKind kind = KernelKind::Jit;
  bool chunkable = false;
  std::string why;    ///< when not chunkable
  Type result;        ///< the specialization's result type
  /// Gufuncs: the core rank of the (one) input.
  unsigned coreRank = 0;
};

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("error: cannot open '{}': {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

KernelAnalysis analyzeKernel(const std::string &stnPath, const std::string &name, DType dtype,
                             unsigned rank) {
  auto file = std::make_shared<const SourceFile>(stnPath, readText(stnPath));
  DiagnosticEngine diags;
  std::unique_ptr<Program> program = Program::load(file, diags);
  if (!program)
    throw Error(diags.format());
  const KernelDecl *k = program->kernel(name);
  if (k && k->def->isLocal())
    k = nullptr;
  if (!k) {
    std::vector<std::string> names;
    for (const auto &kd : program->kernels())
      if (!kd.def->isLocal())
        names.push_back(kd.def->name);
    std::string best = closestMatch(name, names);
    throw Error(fmt::format("{}: error: no kernel named '{}'{}", stnPath, name,
                            best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
  }
  // The stack, and the other parameters' default values (as a host call
  // passes them).
  size_t arity = Program::hostArity(*k);
  if (arity == 0 || Program::requiredArity(*k) > 1) {
    std::string params;
    for (size_t i = 0; i < arity && i < k->def->params.size(); ++i)
      params += (i ? ", " : "") + k->def->params[i].name;
    throw Error(fmt::format("error: stn apply calls the kernel with one argument, the image "
                            "stack, but '{}' takes {} ({}){}",
                            name, arity, params,
                            arity > 1 ? "; give the others default values" : ""));
  }
  std::vector<Type> args{Type::array(static_cast<ScalarKind>(dtype), rank, Type::Layout::C)};
  for (size_t i = 1; i < arity; ++i) {
    const ConstValue &c = *k->defaults[i];
    if (!c.type.isNone() && !c.type.isScalar())
      throw Error(fmt::format("error: kernel '{}': parameter '{}' defaults to a tuple, which "
                              "stn apply cannot pass",
                              name, k->def->params[i].name));
    args.push_back(c.type);
  }
  if (!k->signatures.empty() && k->kind == KernelKind::Jit) {
    std::string err;
    const Signature *sig = program->matchSignature(*k, args, err);
    if (!sig)
      throw Error("error: " + err);
    args = Program::signatureTypes(*sig, args);
  }
  TypedFunction *tf = program->specialize(*k, args, diags);
  if (!tf)
    throw Error(diags.format());
  KernelAnalysis a;
  a.kind = k->kind;
  a.result = tf->resultType;
  switch (k->kind) {
  case KernelKind::Ufunc:
    a.chunkable = true; // elementwise
    break;
  case KernelKind::Gufunc:
    a.coreRank = tf->gufunc.inputCoreRanks.empty() ? 0 : tf->gufunc.inputCoreRanks[0];
    a.chunkable = tf->gufunc.outerRank >= 1;
    if (!a.chunkable)
      a.why = fmt::format("the core dimensions of its layout \"{}\" cover every axis of the "
                          "stack, so each result may depend on every image",
                          k->layout.text);
    break;
  case KernelKind::Stencil: {
    auto nb = tf->stencil.neighborhood.empty() ? std::pair<int64_t, int64_t>{0, 0}
                                               : tf->stencil.neighborhood[0];
    a.chunkable = nb.first == 0 && nb.second == 0;
    if (!a.chunkable)
      a.why = fmt::format("its neighborhood along the first (stack) axis is [{}, {}], so "
                          "each result image reads neighbouring images",
                          nb.first, nb.second);
    break;
  }
  case KernelKind::Jit:
    a.why = "it is a @jit function, and stn cannot tell whether image i of its result "
            "depends on image i of the stack alone (write it as a @stencil, @ufunc or "
            "@gufunc such as @gufunc(\"(n,m)->(n,m)\"), which say so)";
    break;
  default:
    a.why = fmt::format("stn cannot tell whether image i of the result of a {} kernel "
                        "depends on image i of the stack alone",
                        kernelKindName(k->kind));
    break;
  }
  return a;
}

/// Half of the memory this process may use: the physical memory, or the
/// cgroup's limit when it is lower.
uint64_t defaultMemoryBudget() {
  if (const char *env = std::getenv("STN_APPLY_MEMORY"); env && *env)
    if (std::optional<uint64_t> v = cache::parseSize(env); v && *v > 0)
      return *v;
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  uint64_t total = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : (uint64_t(4) << 30);
  std::ifstream cg("/sys/fs/cgroup/memory.max");
  std::string limit;
  if (cg >> limit && !limit.empty() && std::isdigit(static_cast<unsigned char>(limit[0]))) {
    uint64_t v = std::strtoull(limit.c_str(), nullptr, 10);
    if (v > 0 && v < total)
      total = v;
  }
  return total / 2;
}

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

bool kernelIsChunkable(const std::string &stnPath, const std::string &kernel, DType dtype,
                       unsigned rank, std::string *why) {
  KernelAnalysis a = analyzeKernel(stnPath, kernel, dtype, rank);
  if (!a.chunkable && why)
    *why = a.why;
  return a.chunkable;
}

ApplyReport applyToImages(Engine &engine, const std::string &stnPath, const std::string &kernel,
                          const std::vector<std::string> &inputs, const std::string &outDir,
                          const ApplyOptions &options) {
  auto start = std::chrono::steady_clock::now();
  ImageStackInfo info = probeImages(expandImageInputs(inputs));
  const size_t n = info.files.size();
  const unsigned rank = static_cast<unsigned>(info.imageShape.size() + 1);
  KernelAnalysis analysis = analyzeKernel(stnPath, kernel, info.dtype, rank);
  ImageFormat outFormat = options.outputFormat.value_or(info.format);
  ApplyReport report;
  auto warn = [&](std::string w) {
    if (options.onWarning)
      options.onWarning(w);
    report.warnings.push_back(std::move(w));
  };
  // A gufunc over one 2-D image, given color images: its core dimensions
  // are matched with the last two axes, (W, C), not (H, W).
  if (analysis.kind == KernelKind::Gufunc && info.format == ImageFormat::Png &&
      info.imageShape.size() == 3 && analysis.coreRank == 2)
    warn(fmt::format("kernel '{}' is a gufunc over 2-D cores, and the images have {} channels: "
                     "its core dimensions are matched with the last two axes of the (N, H, W, "
                     "C) stack, width and channels, not with height and width; for color "
                     "images give it a core with a channel axis such as \"(n, m, c) -> (n, "
                     "m, c)\"",
                     kernel, info.imageShape[2]));

  // What the result will be, from the specialization's type, so that a
  // dtype the output format cannot hold is reported before any work.
  std::optional<DType> predicted;
  if (analysis.result.isArray())
    predicted = static_cast<DType>(analysis.result.scalarKind());
  else
    throw Error(fmt::format("error: kernel '{}' returns {} for a stack of {} images; stn "
                            "apply needs a kernel that returns an array of results, one per "
                            "image",
                            kernel, analysis.result.isNone() ? "nothing" : analysis.result.str(),
                            dtypeName(info.dtype)));
  // Memory per image: the input, the kernel's result and, with convertTo,
  // the converted copy.
  uint64_t perImage = info.imageBytes() + uint64_t(elementCount(info.imageShape)) *
                                              itemSize(*predicted);
  if (options.convertTo) {
    predicted = *options.convertTo;
    perImage += uint64_t(elementCount(info.imageShape)) * itemSize(*predicted);
  }
  perImage = std::max<uint64_t>(perImage, 1);
  if (outFormat == ImageFormat::Png && *predicted != DType::UInt8 &&
      *predicted != DType::UInt16)
    throw Error(fmt::format(
        "error: {} {} images for {} input, and PNG stores only uint8 and uint16 pixels; "
        "write the results as .npy (stn apply --format npy){}",
        options.convertTo ? "the results are converted to" : fmt::format("kernel '{}' returns", kernel),
        dtypeName(*predicted), dtypeName(info.dtype),
        options.convertTo
            ? ""
            : fmt::format(", or convert them to {} if every value is a whole number in its "
                          "range (stn apply --as {})",
                          dtypeName(info.dtype == DType::UInt16 ? DType::UInt16 : DType::UInt8),
                          dtypeName(info.dtype == DType::UInt16 ? DType::UInt16 : DType::UInt8))));

  // Chunk size: the whole stack if it fits in the budget with its result.
  uint64_t budget = options.memoryBudget ? options.memoryBudget : defaultMemoryBudget();
  int64_t chunk;
  if (options.chunk > 0) {
    chunk = std::min<int64_t>(options.chunk, int64_t(n));
    if (chunk < int64_t(n) && !analysis.chunkable)
      throw Error(fmt::format("error: kernel '{}' cannot run in chunks of images: {}; run it "
                              "on the whole stack (without --chunk)",
                              kernel, analysis.why));
  } else if (perImage * n <= budget) {
    chunk = int64_t(n);
  } else {
    if (!analysis.chunkable)
      throw Error(fmt::format(
          "error: the stack ({} images, {} with the result) does not fit in the memory budget "
          "({}), and kernel '{}' cannot run in chunks of images: {}; raise the budget with "
          "--memory SIZE or STN_APPLY_MEMORY",
          n, cache::formatSize(perImage * n), cache::formatSize(budget), kernel,
          analysis.why));
    chunk = std::max<int64_t>(1, int64_t(budget / perImage));
  }

  // Never overwrite an input.
  std::error_code ec;
  fs::create_directories(outDir, ec);
  if (ec)
    fail(outDir, fmt::format("cannot create the output directory: {}", ec.message()));
  for (const std::string &f : info.files) {
    std::string out = outputImagePath(f, outDir, outFormat);
    if (fs::exists(out, ec) && fs::equivalent(out, f, ec))
      fail(f, fmt::format("writing the result to {} would overwrite the input; choose another "
                          "output directory",
                          out));
  }

  stn::Kernel k = engine.loadFile(stnPath).kernel(kernel);
  report.images = n;
  report.chunkSize = chunk;
  report.streamed = chunk < int64_t(n);

  ApplyProgress progress;
  progress.total = n;
  auto notify = [&] {
    if (!options.onProgress)
      return;
    progress.seconds = secondsSince(start);
    options.onProgress(progress);
  };
  const uint64_t imageBytes = info.imageBytes();

  std::vector<int64_t> bufShape = info.stackShape();
  bufShape[0] = chunk;
  Array buffer(info.dtype, bufShape);
  for (size_t first = 0; first < n; first += size_t(chunk)) {
    size_t count = std::min(size_t(chunk), n - first);
    std::vector<int64_t> shape = bufShape;
    shape[0] = int64_t(count);
    ArrayView in(buffer.data(), info.dtype, shape, cStrides(info.dtype, shape));

    auto t0 = std::chrono::steady_clock::now();
    readImagesImpl(info, first, count, in, options.threads, [&](size_t) {
      ++progress.read;
      progress.bytesRead += imageBytes;
      notify();
    });
    report.decodeSeconds += secondsSince(t0);

    progress.inKernel = true;
    notify();
    progress.inKernel = false;
    auto t1 = std::chrono::steady_clock::now();
    Value result = k(in);
    report.kernelSeconds += secondsSince(t1);
    if (!result.isArray() || result.array().rank() < 1 ||
        result.array().shape()[0] != int64_t(count))
      throw Error(fmt::format("error: kernel '{}' returned {} for a stack of {} images; stn "
                              "apply needs an array with one result per image (first axis {})",
                              kernel,
                              result.isArray() ? "an array of shape " +
                                                     shapeString(result.array().shape())
                                               : result.toJSON(),
                              count, count));
    Array r = result.array();
    if (options.convertTo && r.dtype() != *options.convertTo) {
      // Image by image, so that an error names the input file.
      auto tc = std::chrono::steady_clock::now();
      if (isComplex(r.dtype()))
        throw Error(fmt::format("error: kernel '{}' returns {} images, which --as does not "
                                "convert",
                                kernel, dtypeName(r.dtype())));
      if (!r.view().isCContiguous())
        r = Array::copyOf(r.view());
      Array converted(*options.convertTo, r.shape());
      std::vector<int64_t> imageShape(r.shape().begin() + 1, r.shape().end());
      size_t perImageElems = static_cast<size_t>(elementCount(imageShape));
      size_t inItem = itemSize(r.dtype()), outItem = itemSize(*options.convertTo);
      parallelFor(count, options.threads, [&](size_t i) {
        const char *src = static_cast<const char *>(r.data()) + i * perImageElems * inItem;
        char *dst = static_cast<char *>(converted.data()) + i * perImageElems * outItem;
        size_t bad = convertAny(src, r.dtype(), dst, *options.convertTo, perImageElems);
        if (bad < perImageElems)
          fail(info.files[first + i],
               "the result image: " + conversionFailure(src, r.dtype(), imageShape, bad,
                                                        *options.convertTo));
      });
      r = converted;
      report.convertSeconds += secondsSince(tc);
    }
    if (first == 0) {
      report.resultDType = r.dtype();
      report.resultShape = r.shape();
      report.resultShape[0] = int64_t(n);
    }
    auto t2 = std::chrono::steady_clock::now();
    writeImagesImpl(r.view(), info.files, first, outDir, outFormat, options.threads,
                    options.png, [&](size_t) {
                      ++progress.written;
                      notify();
                    });
    report.encodeSeconds += secondsSince(t2);
    report.outputBytes += r.nbytes();
    report.inputBytes += count * imageBytes;
    ++report.chunks;
  }
  for (const std::string &f : info.files)
    report.outputs.push_back(outputImagePath(f, outDir, outFormat));
  report.totalSeconds = secondsSince(start);
  return report;
}

} // namespace stn
