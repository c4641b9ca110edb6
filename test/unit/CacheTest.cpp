//===- CacheTest.cpp - The on-disk cache of compiled kernels --------------===//
//
// One test per safety case of the cache (issue 6): truncated, corrupt and
// mismatched entries, an unwritable directory, a version change, a changed
// callee, unrelated edits, eviction order, concurrent engines; plus what
// turns the cache off. Each test uses its own fresh cache directory
// (EngineOptions::cacheDir) and checks compilations through
// Engine::cacheStats(), never by timing. The eight concurrent *processes*
// are in test/lit/cache/concurrent.test.
//
// This file also keeps the whole stn-unit-tests binary out of the user's
// ~/.cache: unless STN_CACHE_DIR is already set (ctest sets it), it points
// at a temporary directory removed at exit.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

std::string makeTempDir(const char *what) {
  std::string tmpl = (fs::temp_directory_path() / (std::string(what) + ".XXXXXX")).string();
  if (!mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

/// Points STN_CACHE_DIR at a temporary directory for the whole binary.
class CacheDirEnvironment : public ::testing::Environment {
public:
  void SetUp() override {
    if (std::getenv("STN_CACHE_DIR"))
      return;
    Dir = makeTempDir("stn-unit-cache");
    setenv("STN_CACHE_DIR", Dir.c_str(), 1);
  }
  void TearDown() override {
    if (Dir.empty())
      return;
    std::error_code ec;
    fs::remove_all(Dir, ec);
    unsetenv("STN_CACHE_DIR");
  }

private:
  std::string Dir;
};
const auto *const TheCacheDirEnvironment =
    ::testing::AddGlobalTestEnvironment(new CacheDirEnvironment);

/// Saves an environment variable and restores it when the test ends.
class ScopedEnv {
public:
  explicit ScopedEnv(const char *name) : Name(name) {
    if (const char *v = std::getenv(name))
      Old = v;
  }
  ~ScopedEnv() {
    if (Old)
      setenv(Name, Old->c_str(), 1);
    else
      unsetenv(Name);
  }
  void set(const char *value) { setenv(Name, value, 1); }
  void unset() { unsetenv(Name); }

private:
  const char *Name;
  std::optional<std::string> Old;
};

/// What one fresh engine did for one call.
struct Outcome {
  stn::Value value;
  stn::CacheStats stats;
  std::vector<std::string> warnings;
};

class CacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    Off.unset();
    Version.unset();
    Limit.unset();
    Dir = makeTempDir("stn-cache-test");
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(Dir, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(Dir, ec);
  }

  stn::EngineOptions options() const {
    stn::EngineOptions o;
    o.cacheDir = Dir;
    return o;
  }

  /// Loads `src` in a new engine and calls `kernel` once.
  Outcome run(const std::string &src, const char *kernel, const std::vector<stn::Arg> &args,
              stn::EngineOptions opts) {
    stn::Engine engine(opts);
    stn::Module m = engine.loadString(src, "cached.stn");
    Outcome out;
    out.value = m.kernel(kernel).call(args);
    out.stats = engine.cacheStats();
    out.warnings = engine.takeWarnings();
    return out;
  }
  Outcome run(const std::string &src, const char *kernel, const std::vector<stn::Arg> &args) {
    return run(src, kernel, args, options());
  }

  std::vector<stn::cache::Entry> entries() const { return stn::cache::list(Dir); }

  /// The entry file of `kernel` (there must be exactly one).
  std::string entryOf(const std::string &kernel) const {
    std::string path;
    for (auto &e : entries())
      if (e.kernel == kernel) {
        EXPECT_TRUE(path.empty()) << "two entries for " << kernel;
        path = e.path;
      }
    EXPECT_FALSE(path.empty()) << "no entry for " << kernel;
    return path;
  }

  std::string Dir;
  ScopedEnv Off{"STN_CACHE"}, Version{"STN_CACHE_TEST_VERSION"}, Limit{"STN_CACHE_SIZE_LIMIT"};
};

const char *Source = R"(from numba import njit

SCALE = 3
UNUSED = 7

@njit
def helper(x):
    return x + 1

# Sums a scaled array, plus helper(x).
@njit
def kernel(a, x):
    s = 0
    for i in range(a.shape[0]):
        s += a[i] * SCALE   # scaled
    return s + helper(x)

@njit
def other(x):
    return x * 2
)";

std::string replaced(std::string s, const std::string &from, const std::string &to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos)
    s.replace(at, from.size(), to);
  return s;
}

/// kernel(a = [1, 2, 3], x = 10) with SCALE 3 and helper x + 1: 18 + 11.
std::vector<int64_t> Data = {1, 2, 3};
std::vector<stn::Arg> args() { return {stn::ArrayView::of(Data.data(), {3}), int64_t{10}}; }

//===----------------------------------------------------------------------===//
// Hits and misses
//===----------------------------------------------------------------------===//

TEST_F(CacheTest, WarmStartLoadsTheObjectWithoutCompiling) {
  Outcome cold = run(Source, "kernel", args());
  EXPECT_EQ(cold.value.asInt(), 29);
  EXPECT_EQ(cold.stats.compilations, 1u);
  EXPECT_EQ(cold.stats.misses, 1u);
  EXPECT_EQ(cold.stats.hits, 0u);
  EXPECT_EQ(cold.stats.stored, 1u);
  EXPECT_TRUE(cold.warnings.empty());

  Outcome warm = run(Source, "kernel", args());
  EXPECT_EQ(warm.value.asInt(), 29);
  EXPECT_EQ(warm.stats.compilations, 0u);
  EXPECT_EQ(warm.stats.hits, 1u);
  EXPECT_EQ(warm.stats.misses, 0u);
  EXPECT_TRUE(warm.warnings.empty());

  auto list = entries();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].kernel, "kernel");
  EXPECT_EQ(list[0].signature, "i64(i64[::1], i64)");
  EXPECT_EQ(list[0].source, "cached.stn");
  EXPECT_TRUE(list[0].valid);
  EXPECT_TRUE(list[0].current);

  auto s = stn::cache::stats(Dir);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.stored, 1u);
}

TEST_F(CacheTest, KnownSignatureInTheSameProcessNeverRecompiles) {
  stn::Engine engine(options());
  stn::Module m = engine.loadString(Source, "cached.stn");
  stn::Kernel k = m.kernel("kernel");
  EXPECT_EQ(k.call(args()).asInt(), 29);
  EXPECT_EQ(k.call(args()).asInt(), 29);
  EXPECT_EQ(engine.cacheStats().compilations, 1u);
  EXPECT_EQ(engine.cacheStats().misses, 1u); // one disk lookup, then memory
  // A second module with the same kernel shares the linked code.
  stn::Module m2 = engine.loadString(Source, "again.stn");
  EXPECT_EQ(m2.kernel("kernel").call(args()).asInt(), 29);
  EXPECT_EQ(engine.cacheStats().compilations, 1u);
  EXPECT_EQ(engine.cacheStats().hits, 0u);
  // Another signature is another specialization.
  EXPECT_EQ(k.call({stn::ArrayView::of(Data.data(), {3}), 10.5}).asDouble(), 29.5);
  EXPECT_EQ(engine.cacheStats().compilations, 2u);
  EXPECT_EQ(entries().size(), 2u);
}

TEST_F(CacheTest, TuplesArraysAndExplicitSignaturesRoundTrip) {
  const char *src = R"(import math
from numba import jit, njit

@jit('Tuple((float64[:], float64[:], float64))(float64[:,:])', nopython=True)
def closest(points):
    min_distance2 = 999999.
    mdp1, mdp2 = None, None
    for i in range(len(points)):
        for j in range(i+1, len(points)):
            distance2 = (points[i][0]-points[j][0])**2 + (points[i][1]-points[j][1])**2
            if distance2 < min_distance2:
               min_distance2 = distance2
               mdp1, mdp2 = points[i], points[j]
    return mdp1, mdp2, math.sqrt(min_distance2)
)";
  std::vector<double> pts = {0, 0, 3, 4, 2.5, 4.5, -1, 7};
  for (int pass = 0; pass < 2; ++pass) {
    Outcome r = run(src, "closest", {stn::ArrayView::of(pts.data(), {4, 2})});
    EXPECT_EQ(r.stats.compilations, pass == 0 ? 1u : 0u);
    EXPECT_EQ(r.stats.hits, pass == 0 ? 0u : 1u);
    ASSERT_TRUE(r.value.isTuple());
    EXPECT_EQ(r.value[0].array().at<double>({0}), 3.0);
    EXPECT_EQ(r.value[1].array().at<double>({1}), 4.5);
    EXPECT_NEAR(r.value[2].asDouble(), std::sqrt(0.5), 1e-12);
  }
  EXPECT_EQ(entries().at(0).signature, "(f64[:], f64[:], f64)(f64[:, :])");
}

TEST_F(CacheTest, ListsOfArraysRoundTrip) {
  // A returned list of arrays (a tuple of them on the host) is a result
  // type the entry records and reads back.
  const char *src = R"(import numpy as np
from numba import njit

@njit
def chunks(a, k):
    out = []
    for i in range(0, len(a), k):
        out.append(a[i:i + k] * 2)
    return out, len(out)
)";
  std::vector<double> a = {1, 2, 3, 4, 5};
  for (int pass = 0; pass < 2; ++pass) {
    Outcome r = run(src, "chunks", {stn::ArrayView::of(a.data(), {5}), int64_t{2}});
    EXPECT_EQ(r.stats.compilations, pass == 0 ? 1u : 0u);
    EXPECT_EQ(r.stats.hits, pass == 0 ? 0u : 1u);
    EXPECT_TRUE(r.warnings.empty());
    ASSERT_TRUE(r.value.isTuple());
    ASSERT_EQ(r.value[0].size(), 3u);
    EXPECT_EQ(r.value[0][2].array().at<double>({0}), 10.0);
    EXPECT_EQ(r.value[1].asInt(), 3);
  }
  EXPECT_EQ(entries().at(0).signature, "(list(f64[::1]), i64)(f64[::1], i64)");
}

//===----------------------------------------------------------------------===//
// Bad entries: a miss, removed, recompiled, one warning
//===----------------------------------------------------------------------===//

/// After damaging the only entry: the next run recompiles with one warning
/// mentioning `reason`, and leaves a valid entry the run after hits.
void expectRecoveredFrom(const std::string &reason, const std::function<Outcome()> &runOnce,
                         const std::function<std::vector<stn::cache::Entry>()> &list) {
  Outcome r = runOnce();
  EXPECT_EQ(r.value.asInt(), 29);
  EXPECT_EQ(r.stats.compilations, 1u);
  EXPECT_EQ(r.stats.invalid, 1u);
  EXPECT_EQ(r.stats.hits, 0u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("warning: kernel cache: removed the invalid entry"),
            std::string::npos)
      << r.warnings[0];
  EXPECT_NE(r.warnings[0].find(reason), std::string::npos) << r.warnings[0];
  auto l = list();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_TRUE(l[0].valid) << l[0].problem;
  Outcome again = runOnce();
  EXPECT_EQ(again.stats.hits, 1u);
  EXPECT_EQ(again.stats.compilations, 0u);
  EXPECT_TRUE(again.warnings.empty());
}

TEST_F(CacheTest, TruncatedEntryIsAMissWithOneWarning) {
  run(Source, "kernel", args());
  std::string path = entryOf("kernel");
  uintmax_t size = fs::file_size(path);
  for (uintmax_t keep : {size - 1, size / 2, uintmax_t(10), uintmax_t(0)}) {
    fs::resize_file(path, keep);
    if (keep > 20) {
      auto l = entries();
      ASSERT_EQ(l.size(), 1u);
      EXPECT_FALSE(l[0].valid);
    }
    expectRecoveredFrom(
        "truncated", [&] { return run(Source, "kernel", args()); }, [&] { return entries(); });
    path = entryOf("kernel");
  }
}

TEST_F(CacheTest, FlippedByteIsAMissWithOneWarning) {
  run(Source, "kernel", args());
  std::string path = entryOf("kernel");
  uintmax_t size = fs::file_size(path);
  // In the header, the key, the object and the checksum.
  for (uintmax_t at : {uintmax_t(40), uintmax_t(300), size / 2, size - 40, size - 1}) {
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(at));
      char c = 0;
      f.get(c);
      f.seekp(static_cast<std::streamoff>(at));
      f.put(static_cast<char>(c ^ 0x10));
    }
    expectRecoveredFrom(
        "checksum mismatch", [&] { return run(Source, "kernel", args()); },
        [&] { return entries(); });
    path = entryOf("kernel");
    ASSERT_EQ(fs::file_size(path), size);
  }
}

TEST_F(CacheTest, EveryFlippedByteIsDetected) {
  run(Source, "kernel", args());
  std::string path = entryOf("kernel");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t at = 0; at < bytes.size(); ++at) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
    auto l = entries();
    ASSERT_EQ(l.size(), 1u);
    ASSERT_FALSE(l[0].valid) << "byte " << at << " of " << bytes.size();
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_TRUE(entries().at(0).valid);
  EXPECT_EQ(run(Source, "kernel", args()).stats.hits, 1u);
}

TEST_F(CacheTest, EntryOfAnotherKeyIsAMissWithOneWarning) {
  // Two kernels with the same signature; B's file replaced by A's entry (a
  // valid entry under the wrong name) must not run A's code for B.
  const char *src = R"(from numba import njit

@njit
def plus_one(x):
    return x + 1

@njit
def plus_two(x):
    return x + 2
)";
  EXPECT_EQ(run(src, "plus_one", {int64_t{5}}).value.asInt(), 6);
  EXPECT_EQ(run(src, "plus_two", {int64_t{5}}).value.asInt(), 7);
  fs::copy_file(entryOf("plus_one"), entryOf("plus_two"), fs::copy_options::overwrite_existing);
  Outcome r = run(src, "plus_two", {int64_t{5}});
  EXPECT_EQ(r.value.asInt(), 7);
  EXPECT_EQ(r.stats.invalid, 1u);
  EXPECT_EQ(r.stats.compilations, 1u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("made for another key"), std::string::npos) << r.warnings[0];
  // The replaced entry is valid again, and plus_one's is untouched.
  for (auto &e : entries())
    EXPECT_TRUE(e.valid) << e.path << ": " << e.problem;
  EXPECT_EQ(run(src, "plus_two", {int64_t{5}}).stats.hits, 1u);
  EXPECT_EQ(run(src, "plus_one", {int64_t{5}}).stats.hits, 1u);
}

TEST_F(CacheTest, GarbageFileIsAMissWithOneWarning) {
  run(Source, "kernel", args());
  std::string path = entryOf("kernel");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(4096, 'x');
  expectRecoveredFrom(
      "not an stn cache entry", [&] { return run(Source, "kernel", args()); },
      [&] { return entries(); });
}

//===----------------------------------------------------------------------===//
// Unwritable directory: in-memory caching, one warning, never an error
//===----------------------------------------------------------------------===//

TEST_F(CacheTest, UnwritableDirectoryDegradesToMemoryWithOneWarning) {
  // A directory below a regular file can be neither created nor written,
  // even by root (tests often run as root, where chmod stops nothing).
  std::string file = Dir + "/file";
  std::ofstream(file) << "not a directory\n";
  stn::EngineOptions o = options();
  o.cacheDir = file + "/cache";
  stn::Engine engine(o);
  stn::Module m = engine.loadString(Source, "cached.stn");
  EXPECT_EQ(m.kernel("kernel").call(args()).asInt(), 29);
  EXPECT_EQ(m.kernel("other").call({int64_t{4}}).asInt(), 8);
  EXPECT_EQ(m.kernel("other").call({2.5}).asDouble(), 5.0);
  EXPECT_EQ(m.kernel("kernel").call(args()).asInt(), 29); // from memory
  auto w = engine.takeWarnings();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("cannot write to '" + o.cacheDir + "'"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("kept in memory only"), std::string::npos) << w[0];
  EXPECT_EQ(engine.cacheStats().compilations, 3u);
  EXPECT_EQ(engine.cacheStats().stored, 0u);
  EXPECT_TRUE(engine.takeWarnings().empty());
}

TEST_F(CacheTest, ReadOnlyDirectoryDegradesToMemoryWithOneWarning) {
  if (geteuid() == 0)
    GTEST_SKIP() << "root writes into read-only directories; see "
                    "UnwritableDirectoryDegradesToMemoryWithOneWarning";
  fs::permissions(Dir, fs::perms::owner_read | fs::perms::owner_exec);
  Outcome r = run(Source, "kernel", args());
  EXPECT_EQ(r.value.asInt(), 29);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("kept in memory only"), std::string::npos);
}

TEST_F(CacheTest, WarningsGoToTheHandlerWhenThereIsOne) {
  std::string file = Dir + "/file";
  std::ofstream(file) << "x";
  std::vector<std::string> seen;
  stn::EngineOptions o = options();
  o.cacheDir = file + "/cache";
  o.onWarning = [&](const std::string &w) { seen.push_back(w); };
  Outcome r = run(Source, "kernel", args(), o);
  EXPECT_EQ(r.value.asInt(), 29);
  EXPECT_TRUE(r.warnings.empty());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find("kept in memory only"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// The key: what invalidates and what does not
//===----------------------------------------------------------------------===//

TEST_F(CacheTest, StnVersionChangeIsAMiss) {
  EXPECT_EQ(run(Source, "kernel", args()).stats.compilations, 1u);
  Version.set("99.0.0-test");
  Outcome r = run(Source, "kernel", args());
  EXPECT_EQ(r.stats.compilations, 1u);
  EXPECT_EQ(r.stats.hits, 0u);
  EXPECT_TRUE(r.warnings.empty());
  // The old entry is another build's now: prune removes it.
  auto l = entries();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_NE(l[0].current, l[1].current);
  stn::cache::PruneReport p = stn::cache::prune(Dir, uint64_t(1) << 30);
  EXPECT_EQ(p.stale, 1u);
  EXPECT_EQ(p.remaining, 1u);
  EXPECT_EQ(run(Source, "kernel", args()).stats.hits, 1u);
  Version.unset();
  EXPECT_EQ(run(Source, "kernel", args()).stats.compilations, 1u);
}

TEST_F(CacheTest, ChangedCalleeInvalidatesItsCaller) {
  EXPECT_EQ(run(Source, "kernel", args()).value.asInt(), 29);
  std::string changed = replaced(Source, "return x + 1", "return x + 2");
  Outcome r = run(changed, "kernel", args());
  EXPECT_EQ(r.value.asInt(), 30);
  EXPECT_EQ(r.stats.compilations, 1u);
  EXPECT_EQ(r.stats.hits, 0u);
  // Both versions are cached side by side.
  EXPECT_EQ(run(Source, "kernel", args()).stats.hits, 1u);
  EXPECT_EQ(run(changed, "kernel", args()).stats.hits, 1u);
}

TEST_F(CacheTest, ChangedCalleeOfACalleeInvalidates) {
  const char *src = R"(from numba import njit

@njit
def inner(x):
    return x * 10

@njit
def middle(x):
    return inner(x) + 1

@njit
def top(x):
    return middle(x) + 1
)";
  EXPECT_EQ(run(src, "top", {int64_t{1}}).value.asInt(), 12);
  Outcome r = run(replaced(src, "x * 10", "x * 20"), "top", {int64_t{1}});
  EXPECT_EQ(r.value.asInt(), 22);
  EXPECT_EQ(r.stats.compilations, 1u);
}

TEST_F(CacheTest, ChangedConstantInvalidates) {
  EXPECT_EQ(run(Source, "kernel", args()).value.asInt(), 29);
  Outcome r = run(replaced(Source, "SCALE = 3", "SCALE = 4"), "kernel", args());
  EXPECT_EQ(r.value.asInt(), 35);
  EXPECT_EQ(r.stats.compilations, 1u);
  // A constant defined from another constant.
  std::string derived = replaced(Source, "SCALE = 3", "BASE = 3\nSCALE = BASE");
  EXPECT_EQ(run(derived, "kernel", args()).value.asInt(), 29);
  Outcome r2 = run(replaced(derived, "BASE = 3", "BASE = 5"), "kernel", args());
  EXPECT_EQ(r2.value.asInt(), 41);
  EXPECT_EQ(r2.stats.compilations, 1u);
}

TEST_F(CacheTest, UnrelatedEditsDoNotInvalidate) {
  EXPECT_EQ(run(Source, "kernel", args()).stats.compilations, 1u);
  // Edits that leave the kernel and its callee where they were, as written.
  std::string edited = Source;
  edited = replaced(edited, "return x * 2", "return x * 3   # other kernel edited");
  edited = replaced(edited, "UNUSED = 7", "UNUSED = 8");
  edited = replaced(edited, "# Sums a scaled array, plus helper(x).",
                    "# Sums a scaled array, plus helper(y).");
  edited += "\n# A comment.\n@njit\ndef added_later(y):\n    return y\n";
  Outcome r = run(edited, "kernel", args());
  EXPECT_EQ(r.value.asInt(), 29);
  EXPECT_EQ(r.stats.compilations, 0u);
  EXPECT_EQ(r.stats.hits, 1u);
  // The edited kernel itself is a miss.
  EXPECT_EQ(run(edited, "other", {int64_t{2}}).value.asInt(), 6);
}

// Compiled code holds the source positions of the errors it may raise: a
// kernel moved by an edit above it, or with a comment edited inside, is
// compiled again, and its errors point at its lines in the edited file.
TEST_F(CacheTest, MovedKernelIsCompiledAgainAndReportsItsNewLine) {
  const std::string src = R"(from numba import njit

# A comment above the kernel.
@njit(boundscheck=True)
def pick(a, i):
    # checked
    return a[i]
)";
  std::vector<double> a = {1.0, 2.0, 3.0};
  unsigned compiled = 0;
  auto call = [&](const std::string &text, int64_t i) {
    stn::Engine engine(options());
    stn::Module m = engine.loadString(text, "cached.stn");
    std::string e = stn::test::errorOf(
        [&] { m.kernel("pick")(stn::ArrayView::of(a.data(), {3}), i); });
    compiled = engine.cacheStats().compilations;
    return e;
  };
  EXPECT_NE(call(src, 5).find("cached.stn:7:12: error: index 5 is out of bounds"),
            std::string::npos);
  EXPECT_EQ(compiled, 1u);
  EXPECT_NE(call(src, 7).find("cached.stn:7:12: error: index 7"), std::string::npos);
  EXPECT_EQ(compiled, 0u);
  std::string moved = replaced(src, "# A comment above the kernel.",
                               "# A comment above the kernel,\n# now on two lines.");
  std::string e = call(moved, 5);
  EXPECT_NE(e.find("cached.stn:8:12: error: index 5 is out of bounds"), std::string::npos) << e;
  EXPECT_NE(e.find("\n    return a[i]\n           ^~~~\n"), std::string::npos) << e;
  EXPECT_EQ(compiled, 1u);
  std::string inside = replaced(src, "    # checked", "    # checked,\n    # twice");
  EXPECT_NE(call(inside, 5).find("cached.stn:8:12: error: index 5"), std::string::npos);
  EXPECT_EQ(compiled, 1u);
  // A comment at the end of the body moves nothing: the entry is used.
  EXPECT_NE(call(src + "    # after\n", 5).find("cached.stn:7:12: error: index 5"),
            std::string::npos);
  EXPECT_EQ(compiled, 0u);
}

TEST_F(CacheTest, ExplicitSignatureStringIsInTheKey) {
  const char *src = R"stn(from numba import jit

@jit("f8(f8)")
def f(x):
    return x + 1.0
)stn";
  EXPECT_EQ(run(src, "f", {1.0}).value.asDouble(), 2.0);
  // Another explicit signature string: a different kernel.
  Outcome r = run(replaced(src, "f8(f8)", "f4(f4)"), "f", {1.0});
  EXPECT_EQ(r.stats.compilations, 1u);
  EXPECT_EQ(r.value.scalar().dtype(), stn::DType::Float32);
}

TEST_F(CacheTest, OptionsAndOptLevelAreInTheKey) {
  const char *src = R"(from numba import njit

@njit
def f(x):
    return x * 0.5
)";
  EXPECT_EQ(run(src, "f", {3.0}).stats.compilations, 1u);
  EXPECT_EQ(run(replaced(src, "@njit", "@njit(fastmath=True)"), "f", {3.0}).stats.compilations, 1u);
  stn::EngineOptions o2 = options();
  o2.optLevel = 2;
  EXPECT_EQ(run(src, "f", {3.0}, o2).stats.compilations, 1u);
  EXPECT_EQ(run(src, "f", {3.0}, o2).stats.hits, 1u);
  EXPECT_EQ(run(src, "f", {3.0}).stats.hits, 1u);
  EXPECT_EQ(entries().size(), 3u);
}

//===----------------------------------------------------------------------===//
// Turning it off
//===----------------------------------------------------------------------===//

TEST_F(CacheTest, CacheFalseOnAKernelKeepsItOffDisk) {
  std::string src = replaced(Source, "@njit\ndef other", "@njit(cache=False)\ndef other");
  Outcome r = run(src, "other", {int64_t{4}});
  EXPECT_EQ(r.value.asInt(), 8);
  EXPECT_EQ(r.stats.misses, 0u);
  EXPECT_EQ(r.stats.compilations, 1u);
  EXPECT_TRUE(entries().empty());
  EXPECT_EQ(run(src, "kernel", args()).stats.stored, 1u);
}

TEST_F(CacheTest, EnvironmentAndOptionTurnItOff) {
  Off.set("0");
  EXPECT_FALSE(stn::cache::enabled(options()));
  Outcome r = run(Source, "kernel", args());
  EXPECT_EQ(r.value.asInt(), 29);
  EXPECT_EQ(r.stats.misses + r.stats.hits + r.stats.stored, 0u);
  EXPECT_FALSE(fs::exists(Dir + "/stats"));
  Off.unset();
  stn::EngineOptions o = options();
  o.cacheEnabled = false;
  std::string why;
  EXPECT_FALSE(stn::cache::enabled(o, &why));
  EXPECT_NE(why.find("cacheEnabled"), std::string::npos);
  EXPECT_EQ(run(Source, "kernel", args(), o).stats.stored, 0u);
  EXPECT_TRUE(entries().empty());
}

TEST_F(CacheTest, DirectoryComesFromOptionsThenEnvironment) {
  ScopedEnv dir("STN_CACHE_DIR"), xdg("XDG_CACHE_HOME"), home("HOME");
  dir.set("/from/env");
  EXPECT_EQ(stn::cache::directory(options()), Dir);
  EXPECT_EQ(stn::cache::directory(), "/from/env");
  dir.unset();
  xdg.set("/xdg");
  EXPECT_EQ(stn::cache::directory(), "/xdg/stn");
  xdg.unset();
  home.set("/home/someone");
  EXPECT_EQ(stn::cache::directory(), "/home/someone/.cache/stn");
}

//===----------------------------------------------------------------------===//
// Size limit and eviction order
//===----------------------------------------------------------------------===//

TEST_F(CacheTest, EvictsLeastRecentlyUsedBeyondTheLimit) {
  const char *src = R"(from numba import njit

@njit
def k1(x):
    return x + 1

@njit
def k2(x):
    return x + 2

@njit
def k3(x):
    return x + 3

@njit
def k4(x):
    return x + 4
)";
  // File timestamps are coarse (a few ms): keep events apart.
  auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(30)); };
  for (const char *k : {"k1", "k2", "k3"}) {
    run(src, k, {int64_t{1}});
    pause();
  }
  uint64_t total = 0, smallest = UINT64_MAX;
  for (auto &e : entries()) {
    total += e.size;
    smallest = std::min<uint64_t>(smallest, e.size);
  }
  stn::EngineOptions small = options();
  small.cacheSizeLimit = total + smallest / 2; // room for three entries only
  stn::Engine engine(small);
  stn::Module m = engine.loadString(src, "cached.stn");
  EXPECT_EQ(m.kernel("k1").call({int64_t{1}}).asInt(), 2); // a hit: k1 is now the newest
  pause();
  EXPECT_EQ(m.kernel("k4").call({int64_t{1}}).asInt(), 5); // written, k2 (oldest) evicted
  EXPECT_EQ(engine.cacheStats().hits, 1u);
  EXPECT_EQ(engine.cacheStats().evicted, 1u);
  std::vector<std::string> names;
  for (auto &e : entries())
    names.push_back(e.kernel);
  EXPECT_EQ(names, (std::vector<std::string>{"k4", "k1", "k3"}));
  EXPECT_EQ(stn::cache::stats(Dir).evicted, 1u);

  // prune keeps the most recently used within a tighter limit.
  stn::cache::PruneReport p = stn::cache::prune(Dir, smallest * 2 + smallest / 2);
  EXPECT_EQ(p.evicted, 1u);
  EXPECT_EQ(p.remaining, 2u);
  names.clear();
  for (auto &e : entries())
    names.push_back(e.kernel);
  EXPECT_EQ(names, (std::vector<std::string>{"k4", "k1"}));
}

TEST_F(CacheTest, SizeLimitFromTheEnvironment) {
  Limit.set("3M");
  EXPECT_EQ(stn::cache::sizeLimit(), 3u << 20);
  Limit.set("lots");
  EXPECT_EQ(stn::cache::sizeLimit(), 1u << 30);
  Outcome r = run(Source, "kernel", args());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("STN_CACHE_SIZE_LIMIT"), std::string::npos);
  Limit.unset();
  EXPECT_EQ(stn::cache::sizeLimit(), 1u << 30);
}

TEST(CacheSizes, ParseAndFormat) {
  EXPECT_EQ(stn::cache::parseSize("1048576"), 1048576u);
  EXPECT_EQ(stn::cache::parseSize("512K"), 512u << 10);
  EXPECT_EQ(stn::cache::parseSize("100M"), 100u << 20);
  EXPECT_EQ(stn::cache::parseSize("2GiB"), uint64_t(2) << 30);
  EXPECT_EQ(stn::cache::parseSize("1 gb"), uint64_t(1) << 30);
  EXPECT_FALSE(stn::cache::parseSize(""));
  EXPECT_FALSE(stn::cache::parseSize("M"));
  EXPECT_FALSE(stn::cache::parseSize("12Q"));
  EXPECT_FALSE(stn::cache::parseSize("99999999999999999999"));
  EXPECT_EQ(stn::cache::formatSize(512), "512 B");
  EXPECT_EQ(stn::cache::formatSize(5000), "4.9 KiB");
  EXPECT_EQ(stn::cache::formatSize(uint64_t(1) << 30), "1.0 GiB");
}

//===----------------------------------------------------------------------===//
// Concurrency and housekeeping
//===----------------------------------------------------------------------===//

TEST_F(CacheTest, EightEnginesCompilingTheSameKernelAtOnce) {
  std::vector<std::thread> threads;
  std::vector<int64_t> results(8, 0);
  std::vector<size_t> warnings(8, 0);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      Outcome r = run(Source, "kernel", args());
      results[i] = r.value.asInt();
      warnings[i] = r.warnings.size();
    });
  for (auto &t : threads)
    t.join();
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(results[i], 29);
    EXPECT_EQ(warnings[i], 0u);
  }
  auto l = entries();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_TRUE(l[0].valid);
  size_t others = 0;
  for (auto &f : fs::directory_iterator(Dir))
    others += f.path().filename() != "stats" && f.path().extension() != ".stnk";
  EXPECT_EQ(others, 0u) << "temporary files left behind";
  EXPECT_EQ(run(Source, "kernel", args()).stats.hits, 1u);
}

TEST_F(CacheTest, ClearRemovesOnlyTheCachesFiles) {
  run(Source, "kernel", args());
  run(Source, "other", {int64_t{1}});
  std::ofstream(Dir + "/notes.txt") << "mine\n";
  uint64_t bytes = 0;
  EXPECT_EQ(stn::cache::clear(Dir, &bytes), 2u);
  EXPECT_GT(bytes, 0u);
  EXPECT_TRUE(entries().empty());
  EXPECT_EQ(stn::cache::stats(Dir).hits + stn::cache::stats(Dir).misses, 0u);
  EXPECT_TRUE(fs::exists(Dir + "/notes.txt"));
}

TEST_F(CacheTest, PruneRemovesInvalidEntriesAndOldTemporaryFiles) {
  run(Source, "kernel", args());
  run(Source, "other", {int64_t{1}});
  fs::resize_file(entryOf("other"), 100);
  std::string temp = Dir + "/.0123456789abcdef.1.0.0.tmp";
  std::ofstream(temp) << "partial";
  std::string fresh = Dir + "/.fedcba9876543210.1.0.0.tmp";
  std::ofstream(fresh) << "being written";
  struct timespec old[2] = {{std::time(nullptr) - 7200, 0}, {std::time(nullptr) - 7200, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, temp.c_str(), old, 0), 0);
  stn::cache::PruneReport p = stn::cache::prune(Dir, uint64_t(1) << 30);
  EXPECT_EQ(p.invalid, 1u);
  EXPECT_EQ(p.temporary, 1u);
  EXPECT_EQ(p.remaining, 1u);
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_TRUE(fs::exists(fresh));
  // The counters survive compaction.
  auto s = stn::cache::stats(Dir);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.stored, 2u);
  EXPECT_EQ(s.invalid, 1u);
  EXPECT_EQ(run(Source, "kernel", args()).stats.hits, 1u);
  EXPECT_EQ(stn::cache::stats(Dir).hits, 1u);
}

} // namespace
