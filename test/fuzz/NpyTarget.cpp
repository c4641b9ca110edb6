//===- NpyTarget.cpp - readNpy on arbitrary bytes -------------------------===//
//
// Body of the stn-fuzz-npy target (see FuzzTargets.h). readNpy takes a path,
// so the bytes go into an anonymous in-memory file (memfd_create) opened as
// /proc/self/fd/N: no disk traffic, nothing left behind. A file that parses
// must survive a round trip through writeNpy with the same dtype, shape and
// element bytes; a mismatch aborts, which libFuzzer reports as a crash.
//
//===----------------------------------------------------------------------===//

#include "FuzzTargets.h"

#include "stn/Error.h"
#include "stn/Npy.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <sys/mman.h>
#include <unistd.h>

namespace stn::fuzz {

namespace {

/// An anonymous in-memory file, closed on destruction.
class MemFile {
public:
  MemFile() : Fd(memfd_create("stn-fuzz-npy", 0)) {
    if (Fd < 0) {
      std::perror("memfd_create");
      std::abort();
    }
  }
  ~MemFile() { close(Fd); }
  MemFile(const MemFile &) = delete;
  MemFile &operator=(const MemFile &) = delete;

  std::string path() const { return "/proc/self/fd/" + std::to_string(Fd); }
  void write(const uint8_t *data, size_t size) {
    while (size > 0) {
      ssize_t n = ::write(Fd, data, size);
      if (n <= 0) {
        std::perror("write");
        std::abort();
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
  }

private:
  int Fd;
};

/// Calls `f(ptrA, ptrB)` for every element of two arrays of the same shape.
template <class F> void forEachElement(const Array &a, const Array &b, F f) {
  const auto &shape = a.shape();
  for (int64_t e : shape)
    if (e == 0)
      return;
  std::vector<int64_t> idx(shape.size(), 0);
  while (true) {
    const char *pa = static_cast<const char *>(a.data());
    const char *pb = static_cast<const char *>(b.data());
    for (size_t d = 0; d < shape.size(); ++d) {
      pa += idx[d] * a.strides()[d];
      pb += idx[d] * b.strides()[d];
    }
    f(pa, pb);
    size_t d = shape.size();
    while (d > 0) {
      --d;
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
      if (d == 0)
        return;
    }
    if (shape.empty())
      return;
  }
}

[[noreturn]] void roundTripFailure(const char *what) {
  std::fprintf(stderr, "stn-fuzz-npy: round trip changed the %s\n", what);
  std::abort();
}

} // namespace

bool runNpy(const uint8_t *data, size_t size) {
  MemFile in;
  in.write(data, size);
  Array a;
  try {
    a = readNpy(in.path());
  } catch (const Error &) {
    return false;
  }
  MemFile out;
  Array b;
  try {
    writeNpy(out.path(), a.view());
    b = readNpy(out.path());
  } catch (const Error &e) {
    std::fprintf(stderr, "stn-fuzz-npy: writing back a valid file failed: %s\n", e.what());
    std::abort();
  }
  if (a.dtype() != b.dtype())
    roundTripFailure("dtype");
  if (a.shape() != b.shape())
    roundTripFailure("shape");
  size_t item = itemSize(a.dtype());
  forEachElement(a, b, [item](const char *pa, const char *pb) {
    if (std::memcmp(pa, pb, item) != 0)
      roundTripFailure("data");
  });
  return true;
}

} // namespace stn::fuzz
