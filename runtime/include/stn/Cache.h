//===- Cache.h - The on-disk cache of compiled kernels ----------*- C++ -*-===//
//
// Part of the stn public API.
//
// Every Engine stores the object code of each kernel specialization it
// compiles in a cache directory and loads it from there in later processes
// instead of compiling again (docs/caching.md). Engines need nothing from
// this header: EngineOptions (Engine.h) turns the cache off or moves it, and
// Engine::cacheStats() counts one engine's hits and misses. These functions
// manage the directory itself; they are what `stn cache` runs.
//
//===----------------------------------------------------------------------===//

#ifndef STN_CACHE_H
#define STN_CACHE_H

#include "stn/Engine.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stn::cache {

/// The cache directory for `options`: EngineOptions::cacheDir, else
/// $STN_CACHE_DIR, else $XDG_CACHE_HOME/stn, else ~/.cache/stn.
std::string directory(const EngineOptions &options = {});
/// Whether engines with `options` use the disk cache (false when
/// EngineOptions::cacheEnabled is false or STN_CACHE=0); `why` gets the
/// reason when it is off.
bool enabled(const EngineOptions &options = {}, std::string *why = nullptr);
/// The size limit in bytes: EngineOptions::cacheSizeLimit, else
/// $STN_CACHE_SIZE_LIMIT, else 1 GiB.
uint64_t sizeLimit(const EngineOptions &options = {});

/// One entry file.
struct Entry {
  std::string path;      ///< the entry file
  std::string kernel;    ///< kernel name
  std::string signature; ///< e.g. "f64(f64, f64)", "void(i8[:, ::1], i8[:, ::1])"
  std::string source;    ///< the file the kernel was loaded from, as given
  uint64_t size = 0;     ///< bytes on disk
  int64_t lastUse = 0;   ///< seconds since the epoch of the last write or hit
  bool valid = true;     ///< false: truncated, corrupt or unreadable
  std::string problem;   ///< what is wrong when !valid
  /// Made by this stn build for this machine: entries made by another stn,
  /// LLVM or CPU can never be used by this one.
  bool current = true;
};
/// The entries of `dir`, most recently used first. Empty if `dir` does not
/// exist.
std::vector<Entry> list(const std::string &dir);

/// What `dir` holds and how it was used, by every process that used it.
struct DirectoryStats {
  uint64_t entries = 0, bytes = 0;
  uint64_t hits = 0;    ///< specializations loaded instead of compiled
  uint64_t misses = 0;  ///< looked up and not found (invalid ones included)
  uint64_t invalid = 0; ///< truncated, corrupt or mismatched entries removed
  uint64_t stored = 0;  ///< entries written
  uint64_t evicted = 0; ///< entries removed to keep the size limit
};
DirectoryStats stats(const std::string &dir);

/// Removes every entry, temporary file and the counters from `dir` (only
/// the cache's own files). Returns the number of entries removed and adds
/// their size to `bytes` if given. Throws stn::Error if a file cannot be
/// removed.
uint64_t clear(const std::string &dir, uint64_t *bytes = nullptr);

struct PruneReport {
  uint64_t invalid = 0;   ///< corrupt entries removed
  uint64_t stale = 0;     ///< entries of another stn build, LLVM or CPU removed
  uint64_t temporary = 0; ///< leftover temporary files (over an hour old) removed
  uint64_t evicted = 0;   ///< least recently used entries removed for the limit
  uint64_t freedBytes = 0;
  uint64_t remaining = 0, remainingBytes = 0;
};
/// Removes invalid and stale entries and old temporary files, then the least
/// recently used entries until at most `limit` bytes remain.
PruneReport prune(const std::string &dir, uint64_t limit);

/// Parses a size: bytes ("1048576") or with a binary suffix ("512K", "100M",
/// "1G", "2GiB"). nullopt if it is not one.
std::optional<uint64_t> parseSize(std::string_view text);
/// "0 B", "512 B", "4.9 KiB", "1.0 GiB".
std::string formatSize(uint64_t bytes);

} // namespace stn::cache

#endif // STN_CACHE_H
