//===- Cache.h - The on-disk cache of compiled kernels ----------*- C++ -*-===//
//
// Internal to libstn. The engine asks a `CacheSession` for the object file of
// a specialization before compiling it, and hands it every object it
// compiles. Entries are keyed by a SHA-256 over everything that changes the
// generated code (see computeCacheKey and docs/caching.md); each entry file
// carries its full key and a checksum, is written to a temporary file and
// renamed into place, and anything wrong with it makes it a miss that is
// removed with one warning. An unwritable directory makes the session
// in-memory only (one warning). The directory management used by
// `stn cache` (list, stats, clear, prune) is public: stn/Cache.h.
//
//===----------------------------------------------------------------------===//

#ifndef STN_RUNTIME_CACHE_H
#define STN_RUNTIME_CACHE_H

#include "stn/Cache.h"
#include "stn/Compiler/Types.h"
#include "stn/Engine.h"


#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace stn {
class Program;
struct KernelDecl;
} // namespace stn

namespace stn::detail {

/// Whether and where to cache, resolved from EngineOptions and the
/// environment (STN_CACHE, STN_CACHE_DIR, XDG_CACHE_HOME, HOME,
/// STN_CACHE_SIZE_LIMIT, STN_CACHE_TEST_VERSION).
struct CacheConfig {
  bool enabled = true;
  std::string disabledBy; ///< why not enabled, for messages
  std::string dir;        ///< empty when there is no directory at all
  uint64_t sizeLimit = 0;
  std::string version;               ///< stn::version(), or the test override
  std::vector<std::string> problems; ///< bad settings, reported as warnings
};
CacheConfig resolveCacheConfig(const EngineOptions &options);

/// The key of one specialization: `material` is every ingredient as text,
/// `digest` the hex SHA-256 of it (the entry's file name).
struct CacheKey {
  std::string digest;
  std::string material;
  std::string kernel; ///< for `stn cache list`
  std::string source; ///< the file name the kernel was loaded from
};

/// The key of `k` specialized for `args` in `program`, computed from the
/// syntax tree before type inference. `callShape` holds any other input of
/// Program::specialize that selects code (empty today).
CacheKey computeCacheKey(const Program &program, const KernelDecl &k, const std::vector<Type> &args,
                         unsigned optLevel, const std::string &version,
                         const std::string &callShape = {});

/// The entry symbol of a cached object: derived from the key, so the same
/// in every process and different for every key.
std::string cachedEntrySymbol(const CacheKey &key);

/// What an entry gives back on a hit.
struct CachedObject {
  std::vector<Type> argTypes;
  Type resultType;
  std::string object;       ///< for the back end's JIT
  std::string sharedObject; ///< for dlopen; empty if none was linked
};

/// One engine's use of the cache directory. Thread-safe.
class CacheSession {
public:
  using WarningHandler = std::function<void(const std::string &)>;
  CacheSession(CacheConfig config, WarningHandler onWarning);
  ~CacheSession();

  /// Disk caching is on (the directory may still turn out unwritable).
  bool enabled() const { return Config.enabled; }
  const CacheConfig &config() const { return Config; }

  /// The entry for `key`, or nullopt on a miss. An entry that is truncated,
  /// corrupt or made for another key is removed with one warning.
  std::optional<CachedObject> lookup(const CacheKey &key);
  /// Writes the entry for `key` (temporary file + rename), then evicts least
  /// recently used entries beyond the size limit. Never throws; a failure
  /// to write turns writing off for this session with one warning.
  void store(const CacheKey &key, const std::vector<Type> &argTypes, const Type &resultType,
             std::string_view object, std::string_view sharedObject);
  /// An entry that passed its checks but could not be loaded into the JIT.
  void discard(const CacheKey &key, const std::string &why);

  void noteCompilation() { Compilations.fetch_add(1, std::memory_order_relaxed); }
  CacheStats stats() const;

  /// Reports a warning through the engine's handler, or queues it for
  /// takeWarnings().
  void warn(const std::string &message);
  std::vector<std::string> takeWarnings();

private:
  void appendStat(char event);
  void evictIfNeeded(uint64_t justWritten);

  CacheConfig Config;
  WarningHandler OnWarning;
  std::atomic<bool> Writable{true};
  std::atomic<uint64_t> Hits{0}, Misses{0}, Invalid{0}, Compilations{0}, Stored{0}, Evicted{0};
  std::mutex Mutex; ///< guards the members below
  std::vector<std::string> Pending;
  bool Scanned = false;        ///< the directory's size was measured once
  uint64_t EstimatedBytes = 0; ///< its size since, plus what we wrote
  uint64_t TempCounter = 0;
};

//===----------------------------------------------------------------------===//
// Shared with the public directory functions (stn/Cache.h)
//===----------------------------------------------------------------------===//

/// The ingredients that do not depend on the kernel: format, stn version
/// and build identity, LLVM version and build, target triple, host CPU and
/// features. Entries whose key does not start with this were made by
/// another build or machine.
std::string toolchainKey(const std::string &version);

/// A parsed entry file.
struct EntryFile {
  std::string kernel, source, signature, symbol;
  std::vector<Type> argTypes;
  Type resultType;
  std::string material;
  std::string_view object;       ///< points into the bytes given to parseEntry
  std::string_view sharedObject; ///< likewise; may be empty
};
/// Checks and parses the bytes of an entry; false with a reason in `why`.
bool parseEntry(std::string_view bytes, EntryFile &out, std::string &why);

} // namespace stn::detail

#endif // STN_RUNTIME_CACHE_H
