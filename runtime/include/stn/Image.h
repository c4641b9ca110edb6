//===- Image.h - Image stacks: PNG/NPY files in, kernel, files out -*- C++ -*-===//
//
// Part of the stn public API: the seed blog's workflow (`imread('*.png')`,
// `smooth(x)`, `imsave(...)`) for C++ hosts, and what `stn apply` runs.
//
//   stn::Engine engine;
//   stn::Kernel smooth = engine.loadFile("smooth.stn").kernel("smooth");
//   stn::ImageStack stack = stn::readImages({"images/*.png"}); // (N, H, W) uint8
//   stn::Value out = smooth(stack.pixels);
//   stn::writeImages(out.array(), stack.files, "out/");        // out/<same names>.png
//
// A stack is one C-contiguous array whose first axis is the file: (N, H, W)
// for single-channel images, (N, H, W, C) for C channels. PNG files hold
// uint8 or uint16 pixels; .npy files hold any stn dtype and shape (each file
// one image). `applyToImages` does the whole thing and streams through
// chunks of images when the stack does not fit in memory.
//
// Every failure (no file matches, an unreadable or corrupt file, images of
// different sizes or types, a result PNG cannot hold) throws stn::Error
// naming the file.
//
//===----------------------------------------------------------------------===//

#ifndef STN_IMAGE_H
#define STN_IMAGE_H

#include "stn/Array.h"
#include "stn/Engine.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace stn {

//===----------------------------------------------------------------------===//
// Single files
//===----------------------------------------------------------------------===//

/// Reads a PNG file as it is stored: uint8 or uint16 pixels (16-bit
/// samples in native byte order), shape (H, W) for grayscale and
/// (H, W, C) for gray+alpha (C = 2), RGB (3) and RGBA (4). Palette images
/// become RGB (RGBA if the palette has transparency); grayscale of 1, 2 or
/// 4 bits becomes uint8 with the values scaled to 0..255.
Array readPng(const std::string &path);

/// Options of writePng. The default favours speed: level 1 with one PNG
/// filter and run-length matching encodes a 1000x1000 gray image 4-15x
/// faster than libpng's defaults (level 6, adaptive filters), into files of
/// about the same size (measured: 4% larger to 7% smaller). Levels 2-9 use
/// libpng's adaptive filters.
struct PngWriteOptions {
  int compressionLevel = 1; ///< zlib level 0 (none) .. 9 (smallest)
};

/// Writes a uint8 or uint16 array of shape (H, W) (grayscale) or (H, W, C)
/// with C = 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) as an 8- or
/// 16-bit PNG. Any strides. Throws stn::Error for another dtype or shape
/// (and says to write .npy instead).
void writePng(const std::string &path, const ArrayView &image,
              const PngWriteOptions &options = {});

/// Whether an image of this dtype and shape (without the stack axis) can be
/// written as PNG; if not, `why` says what PNG would need.
bool pngCanHold(DType dtype, const std::vector<int64_t> &imageShape,
                std::string *why = nullptr);

//===----------------------------------------------------------------------===//
// Stacks
//===----------------------------------------------------------------------===//

/// File formats of an image stack.
enum class ImageFormat { Png, Npy };
/// "png" or "npy".
const char *imageFormatName(ImageFormat format);

/// The files `inputs` name, in order: each input is a file, a directory
/// (its .png and .npy files) or a glob pattern ("images/*.png"; `*`, `?`,
/// `[...]`), whose matches are sorted by name. Throws stn::Error if an input
/// matches nothing or a file is named twice.
std::vector<std::string> expandImageInputs(const std::vector<std::string> &inputs);

/// What a list of image files holds, from their headers (PNG) or the first
/// file (NPY), without decoding pixels.
struct ImageStackInfo {
  std::vector<std::string> files;
  ImageFormat format = ImageFormat::Png;
  DType dtype = DType::UInt8;
  std::vector<int64_t> imageShape; ///< one image: (H, W) or (H, W, C)
  /// The stack's shape: (N, imageShape...).
  std::vector<int64_t> stackShape() const;
  /// Bytes of one decoded image.
  uint64_t imageBytes() const;
};
/// Checks that `files` are all PNG or all .npy, readable, and (for PNG) of
/// one size, channel count and bit depth. Throws stn::Error naming the
/// first file that differs and how.
ImageStackInfo probeImages(const std::vector<std::string> &files);

/// Decodes images [first, first + count) of `info` into `dst`, a
/// C-contiguous array of shape (count, imageShape...) and info's dtype, on
/// `threads` threads (0: defaultThreadCount()). Throws stn::Error naming the
/// file if one cannot be read or differs from the first.
void readImagesInto(const ImageStackInfo &info, size_t first, size_t count,
                    const ArrayView &dst, unsigned threads = 0);

/// An image stack read into memory, with the files it came from.
struct ImageStack {
  Array pixels; ///< (N, H, W) or (N, H, W, C), C-contiguous
  std::vector<std::string> files;
  ImageFormat format = ImageFormat::Png;
};
/// Reads every file `inputs` name (see expandImageInputs) into one stack.
ImageStack readImages(const std::vector<std::string> &inputs, unsigned threads = 0);

/// The file `writeImages` writes for input `file`: outDir/<its name>, with
/// the extension of `format`.
std::string outputImagePath(const std::string &file, const std::string &outDir,
                            ImageFormat format);

/// Writes image i of `stack` (its first axis) to outputImagePath(names[i],
/// outDir, format), creating outDir; `format` defaults to the extension of
/// names[0]. `stack.shape[0]` must equal names.size(). PNG needs uint8 or
/// uint16 images (see writePng). Encodes on `threads` threads.
void writeImages(const ArrayView &stack, const std::vector<std::string> &names,
                 const std::string &outDir, std::optional<ImageFormat> format = {},
                 unsigned threads = 0, const PngWriteOptions &png = {});

/// A C-contiguous copy of `array` converted to `dtype`, made only if every
/// element keeps its exact value: integers within the dtype's range, floats
/// that are whole numbers within it (for an integer dtype) or that convert
/// without rounding (for a float dtype), bools from 0 and 1. Complex arrays
/// are not converted. Throws stn::Error naming the first element that does
/// not fit. Used to save, say, the float64 results of a kernel whose values
/// are whole numbers 0..255 as 8-bit PNGs.
Array convertExactly(const ArrayView &array, DType dtype);

/// Threads used for decoding and encoding when none are given:
/// $STN_NUM_THREADS if set to a positive number, else the cores this
/// process may run on (its CPU affinity).
unsigned defaultThreadCount();

//===----------------------------------------------------------------------===//
// Applying a kernel to a stack
//===----------------------------------------------------------------------===//

/// Progress of applyToImages, reported after every image read or written
/// and before every kernel call (serialized; from whichever thread did the
/// work).
struct ApplyProgress {
  size_t total = 0;        ///< images in the stack
  size_t read = 0;         ///< images decoded so far
  size_t written = 0;      ///< images encoded so far
  uint64_t bytesRead = 0;  ///< decoded input bytes so far
  double seconds = 0;      ///< since the start
  bool inKernel = false;   ///< reported just before a kernel call starts
};

struct ApplyOptions {
  /// Images per kernel call. 0: the whole stack in one call if it fits in
  /// the memory budget, else as many images as fit.
  int64_t chunk = 0;
  /// Bytes the input and result of one call may take together. 0:
  /// $STN_APPLY_MEMORY (e.g. "2G"), else half of the physical memory.
  uint64_t memoryBudget = 0;
  /// The output files' format; default: the input's.
  std::optional<ImageFormat> outputFormat;
  /// Converts every result to this dtype with convertExactly() before it
  /// is written (`stn apply --as uint8`): a kernel that computes in float64
  /// can still write 8-bit PNGs when its values are whole numbers 0..255.
  std::optional<DType> convertTo;
  /// Decoding/encoding threads; 0: defaultThreadCount().
  unsigned threads = 0;
  PngWriteOptions png;
  std::function<void(const ApplyProgress &)> onProgress;
  /// Receives warnings as soon as they are found (e.g. a gufunc whose core
  /// dimensions take the channel axis of color images); they are also in
  /// ApplyReport::warnings.
  std::function<void(const std::string &)> onWarning;
};

/// What applyToImages did, with its time split.
struct ApplyReport {
  size_t images = 0;
  int64_t chunkSize = 0;          ///< images per kernel call
  size_t chunks = 0;              ///< kernel calls
  bool streamed = false;          ///< more than one call
  uint64_t inputBytes = 0;        ///< decoded pixels read
  uint64_t outputBytes = 0;       ///< result pixels written
  DType resultDType = DType::UInt8;
  std::vector<int64_t> resultShape; ///< the whole result, (N, ...)
  std::vector<std::string> outputs; ///< the files written, in input order
  std::vector<std::string> warnings; ///< see ApplyOptions::onWarning
  double decodeSeconds = 0, kernelSeconds = 0, encodeSeconds = 0;
  double convertSeconds = 0; ///< ApplyOptions::convertTo
  double totalSeconds = 0;
};

/// Whether `kernel` of the .stn file at `stnPath`, called with a stack of
/// `dtype` and `rank` dimensions, computes image i of its result from image
/// i of the stack only, so that the stack may be cut into chunks along its
/// first axis: true for ufuncs, for gufuncs whose core dimensions leave the
/// first axis as a loop dimension, and for stencils whose neighborhood is 0
/// along the first axis; false for @jit kernels (stn cannot tell). `why`
/// gets the reason when false. Throws stn::Error if the kernel does not
/// type-check for that stack.
bool kernelIsChunkable(const std::string &stnPath, const std::string &kernel, DType dtype,
                       unsigned rank, std::string *why = nullptr);

/// Reads the images `inputs` name (expandImageInputs), calls `kernel` of the
/// .stn file `stnPath` with the stack (its one argument), and writes image
/// i of the result to outputImagePath(files[i], outDir, format). With
/// options.chunk, or when the stack and its result do not fit in the memory
/// budget, the stack goes through in chunks of images (one kernel call
/// each); this is only done for kernels that kernelIsChunkable() accepts,
/// and gives the same files as one call. Throws stn::Error before writing
/// anything when the kernel cannot run on the stack, cannot be chunked when
/// it has to be, or returns a dtype the output format cannot hold.
ApplyReport applyToImages(Engine &engine, const std::string &stnPath,
                          const std::string &kernel, const std::vector<std::string> &inputs,
                          const std::string &outDir, const ApplyOptions &options = {});

} // namespace stn

#endif // STN_IMAGE_H
