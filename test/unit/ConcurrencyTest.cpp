//===- ConcurrencyTest.cpp - Eight host threads on one engine -------------===//
//
// The host API promises that several threads may load modules, compile and
// call kernels at once (STYLE.md: no global mutable state). These tests
// start 8 threads behind a barrier so that they really hit the engine at the
// same moment, and cover each way threads can share state:
//   - the same kernel and the same signature: one compile, seven waiters;
//   - the same kernel with a different signature per thread;
//   - a different module per thread in one engine (one JIT);
//   - Module and Kernel handles created on one thread, used and released on
//     others (the creating thread drops its copy first);
//   - one engine per thread (several JITs, LLVM initialization);
//   - a random mix of all of it, errors included;
//   - one on-disk kernel cache shared by eight engines that write and read
//     the same entries at once.
// Built as its own binary (stn-concurrency-tests) so that the `tsan` preset
// can build and run just this under ThreadSanitizer (docs/testing.md). In
// the normal build it runs as the ctest test `concurrency`.
//
//===----------------------------------------------------------------------===//

#include "stn/stn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

constexpr int NumThreads = 8;

/// Runs `body(t)` on NumThreads threads that start together. Exceptions and
/// failed checks are collected and reported on the calling thread (gtest's
/// EXPECT macros are thread-safe, but a message with the thread number is
/// easier to read).
class Crew {
public:
  void run(const std::function<void(int, Crew &)> &body) {
    std::vector<std::thread> threads;
    for (int t = 0; t < NumThreads; ++t)
      threads.emplace_back([&, t] {
        Sync.arrive_and_wait();
        try {
          body(t, *this);
          return;
        } catch (const std::exception &e) {
          fail(t, std::string("exception: ") + e.what());
        } catch (...) {
          fail(t, "unknown exception");
        }
        // Leave the crew so that the others do not wait for this thread
        // at a later barrier().
        Sync.arrive_and_drop();
      });
    for (auto &th : threads)
      th.join();
    for (auto &f : Failures)
      ADD_FAILURE() << f;
  }
  /// Waits until every thread of the crew arrives here.
  void barrier() { Sync.arrive_and_wait(); }
  void check(int t, bool ok, const std::string &what) {
    if (!ok)
      fail(t, what);
  }
  void fail(int t, const std::string &what) {
    std::lock_guard<std::mutex> lock(Mutex);
    Failures.push_back("thread " + std::to_string(t) + ": " + what);
  }

private:
  std::barrier<> Sync{NumThreads};
  std::mutex Mutex;
  std::vector<std::string> Failures;
};

const char *SharedSource = R"stn(
import math
from numba import jit, njit

@njit
def dot(a, b):
    s = 0.0
    for i in range(len(a)):
        s += a[i] * b[i]
    return s

@njit
def scale(a, f):
    for i in range(a.shape[0]):
        a[i] = a[i] * f

@njit
def helper(x):
    return x * 2 + 1

@njit
def uses_helper(n):
    s = 0
    for i in range(n):
        s += helper(i)
    return s

@jit("f8(f8[:])")
def norm(x):
    acc = 0.
    for v in x:
        acc += v * v
    return math.sqrt(acc)

@njit
def minmax(a):
    lo = a[0]
    hi = a[0]
    for v in a:
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    return lo, hi

@njit
def sum2d(m):
    s = 0.0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            s += m[i, j]
    return s
)stn";

/// The name of thread `t`'s own kernel (appended, not "k" + ...: GCC 12's
/// -Wrestrict misfires on that).
std::string ownKernel(int t) {
  std::string name = "k";
  return name += std::to_string(t);
}

/// A module only thread `t` loads: its kernels differ in name and constant.
std::string ownSource(int t) {
  std::string k = std::to_string(t);
  return "from numba import njit\n\n"
         "OFFSET = " + k + "\n\n"
         "@njit\ndef k" + k + "(x):\n    return x * " + k + " + OFFSET\n\n"
         "@njit\ndef fill(a, v):\n    for i in range(len(a)):\n        a[i] = v + " + k + "\n";
}

/// Compiling is what these tests are about: without the on-disk kernel
/// cache, every specialization goes through Sema, MLIR and LLVM in this
/// process (a warm cache from an earlier run would skip all of it).
/// SharedDiskCache tests the cache itself.
stn::EngineOptions noCache(unsigned optLevel = 3) {
  stn::EngineOptions opts;
  opts.optLevel = optLevel;
  opts.cacheEnabled = false;
  return opts;
}

/// sum_{i<n} (2i + 1) = n^2
int64_t usesHelperExpected(int64_t n) { return n * n; }

/// dot over vectors of T, the same length, filled with 1 and 2.
template <class T> double dotOf(const stn::Kernel &dot, size_t n) {
  std::vector<T> a(n, T(1)), b(n, T(2));
  return dot(stn::ArrayView::of(a.data(), {int64_t(n)}),
             stn::ArrayView::of(b.data(), {int64_t(n)}))
      .asDouble();
}

/// dot with the element type picked by `which` (a different specialization
/// for each value 0..7).
double dotWithType(const stn::Kernel &dot, int which, size_t n) {
  switch (which % 8) {
  case 0: return dotOf<double>(dot, n);
  case 1: return dotOf<float>(dot, n);
  case 2: return dotOf<int64_t>(dot, n);
  case 3: return dotOf<int32_t>(dot, n);
  case 4: return dotOf<int16_t>(dot, n);
  case 5: return dotOf<uint8_t>(dot, n);
  case 6: return dotOf<uint32_t>(dot, n);
  default: return dotOf<int8_t>(dot, n);
  }
}

TEST(Concurrency, SameKernelSameSignatureFirstCallTogether) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(SharedSource, "shared.stn");
  Crew crew;
  crew.run([&](int t, Crew &c) {
    // Every thread makes the first call of each specialization at once.
    int64_t n = 10 + t;
    c.check(t, mod.kernel("uses_helper")(n).asInt() == usesHelperExpected(n), "uses_helper");
    c.check(t, dotOf<double>(mod.kernel("dot"), 100 + t) == 2.0 * (100 + t), "dot f64");
    std::vector<double> v(4 + t, 2.0);
    c.check(t, mod.kernel("norm")(stn::ArrayView::of(v.data(), {int64_t(v.size())})).asDouble() ==
                   std::sqrt(4.0 * v.size()),
            "norm");
    std::vector<double> m(3 * 4, 0.5);
    c.check(t, mod.kernel("sum2d")(stn::ArrayView::of(m.data(), {3, 4})).asDouble() == 6.0,
            "sum2d");
  });
  // One compilation per specialization however many threads asked for it:
  // norm (eager, explicit signature), uses_helper, dot and sum2d.
  EXPECT_EQ(engine.cacheStats().compilations, 4u);
}

TEST(Concurrency, SameKernelDifferentSignaturePerThread) {
  stn::Engine engine(noCache());
  stn::Module mod = engine.loadString(SharedSource, "shared.stn");
  stn::Kernel dot = mod.kernel("dot");
  Crew crew;
  crew.run([&](int t, Crew &c) {
    for (int round = 0; round < 3; ++round) {
      // Round 0 compiles eight specializations at once; later rounds reuse
      // them, and also use the neighbours' (compiled by another thread).
      int which = t + round;
      double d = dotWithType(dot, which, 20);
      c.check(t, d == 40.0, "dot type " + std::to_string(which % 8) + " gave " +
                                std::to_string(d));
    }
    // scale writes into the caller's array: each thread its own buffer.
    std::vector<float> a(64, 1.0f);
    mod.kernel("scale")(stn::ArrayView::of(a.data(), {64}), float(t));
    for (float x : a)
      if (x != float(t)) {
        c.fail(t, "scale wrote " + std::to_string(x));
        break;
      }
    std::vector<int32_t> ia = {5, -3, 9, t};
    stn::Value mm = mod.kernel("minmax")(stn::ArrayView::of(ia.data(), {4}));
    c.check(t, mm.size() == 2 && mm[0].asInt() == -3 && mm[1].asInt() == std::max(9, t),
            "minmax");
  });
}

TEST(Concurrency, ModulePerThreadInOneEngine) {
  stn::Engine engine(noCache());
  Crew crew;
  crew.run([&](int t, Crew &c) {
    for (int round = 0; round < 2; ++round) {
      // Round 1 loads the same text again: a separate module, compiled again.
      stn::Module own = engine.loadString(ownSource(t), "own" + std::to_string(t) + ".stn");
      stn::Kernel k = own.kernel(ownKernel(t));
      c.check(t, k(int64_t(3)).asInt() == 3 * t + t, "own k");
      c.check(t, k(2.5).asDouble() == 2.5 * t + t, "own k f64");
      std::vector<int64_t> a(16, 0);
      own.kernel("fill")(stn::ArrayView::of(a.data(), {16}), int64_t(100));
      c.check(t, a[15] == 100 + t, "own fill");
      // Everyone also loads the shared text into a module of its own.
      stn::Module copy = engine.loadString(SharedSource, "shared.stn");
      c.check(t, copy.kernel("helper")(int64_t(t)).asInt() == 2 * t + 1, "helper");
    }
  });
}

TEST(Concurrency, HandlesCopiedAcrossThreads) {
  stn::Engine engine(noCache());
  std::vector<std::optional<stn::Module>> modules(NumThreads);
  std::vector<std::optional<stn::Kernel>> kernels(NumThreads);
  Crew crew;
  crew.run([&](int t, Crew &c) {
    // 1. Each thread publishes a module and a kernel handle. The slots are
    //    written before the barrier and only read after it.
    stn::Module own = engine.loadString(ownSource(t), "own" + std::to_string(t) + ".stn");
    modules[t] = own;
    kernels[t] = own.kernel(ownKernel(t));
    c.barrier();
    // 2. Use the neighbours' handles (first calls: compiled on this thread
    //    from a Program loaded on another thread), copy them, and call
    //    through the copies.
    for (int step = 1; step < NumThreads; step += 3) {
      int u = (t + step) % NumThreads;
      stn::Kernel k = *kernels[u];
      stn::Module m = *modules[u];
      c.check(t, k(int64_t(t)).asInt() == int64_t(t) * u + u, "neighbour kernel");
      c.check(t, m.kernel(ownKernel(u))(int64_t(1)).asInt() == 1 * u + u,
              "neighbour module");
      c.check(t, m.kernelNames().size() == 2, "kernelNames");
      c.check(t, k.parameterNames() == std::vector<std::string>{"x"}, "parameterNames");
    }
    c.barrier();
    // 3. The owner drops its slots; the others' copies are gone already, so
    //    whichever thread releases last destroys the module (and its
    //    Program) while the rest are still compiling and calling.
    modules[t].reset();
    kernels[t].reset();
    stn::Kernel mine = own.kernel(ownKernel(t));
    own = engine.loadString(SharedSource, "shared.stn");
    c.check(t, mine(int64_t(2)).asInt() == 2 * t + t, "kernel outliving its Module handle");
  });
}

TEST(Concurrency, EnginePerThread) {
  Crew crew;
  crew.run([&](int t, Crew &c) {
    for (int round = 0; round < 2; ++round) {
      stn::Engine engine(noCache(static_cast<unsigned>((t + round) % 4)));
      stn::Module mod = engine.loadString(SharedSource, "shared.stn");
      c.check(t, mod.kernel("uses_helper")(int64_t(t)).asInt() == usesHelperExpected(t),
              "uses_helper");
      c.check(t, dotWithType(mod.kernel("dot"), t, 8) == 16.0, "dot");
      // The engine (and its JIT) is destroyed here while other threads are
      // still compiling in theirs.
    }
  });
}

TEST(Concurrency, RandomMixWithErrorsAndEmit) {
  stn::Engine engine(noCache());
  stn::Module shared = engine.loadString(SharedSource, "shared.stn");
  std::vector<stn::Module> published;
  std::mutex publishedMutex;
  Crew crew;
  crew.run([&](int t, Crew &c) {
    std::mt19937 rng(1234 + t);
    for (int op = 0; op < 24; ++op) {
      switch (rng() % 7) {
      case 0: {
        int which = static_cast<int>(rng() % 8);
        c.check(t, dotWithType(shared.kernel("dot"), which, 5) == 10.0, "mix dot");
        break;
      }
      case 1: {
        int64_t n = rng() % 50;
        c.check(t, shared.kernel("uses_helper")(n).asInt() == usesHelperExpected(n),
                "mix uses_helper");
        break;
      }
      case 2: {
        stn::Module m = engine.loadString(ownSource(t), "mix.stn");
        c.check(t, m.kernel(ownKernel(t))(int64_t(1)).asInt() == 2 * t, "mix own");
        std::lock_guard<std::mutex> lock(publishedMutex);
        published.push_back(m);
        break;
      }
      case 3: {
        // Someone's published module (maybe this thread's, maybe none yet).
        std::optional<stn::Module> m;
        {
          std::lock_guard<std::mutex> lock(publishedMutex);
          if (!published.empty())
            m = published[rng() % published.size()];
        }
        if (m) {
          auto names = m->kernelNames();
          std::vector<int64_t> a(3, 0);
          m->kernel("fill")(stn::ArrayView::of(a.data(), {3}), int64_t(1));
          c.check(t, a[0] >= 1 && a[0] <= NumThreads, "mix published fill");
        }
        break;
      }
      case 4: {
        // Text output of the compiler stages, concurrently with calls.
        std::string typed = shared.emit("dot", "f64[:], f64[:]", stn::Stage::Typed);
        std::string lowered = shared.emit("helper", "i32", stn::Stage::Lowered);
        c.check(t, typed.find("dot") != std::string::npos, "mix emit typed");
        c.check(t, lowered.find("llvm.") != std::string::npos, "mix emit lowered");
        break;
      }
      case 5: {
        // User errors are values on every thread: wrong argument count,
        // no specialization possible, a syntax error in a new module.
        bool threw = false;
        try {
          shared.kernel("dot")(1.0);
        } catch (const stn::Error &e) {
          threw = std::string(e.what()).find("takes 2 arguments") != std::string::npos;
        }
        c.check(t, threw, "mix wrong argument count");
        threw = false;
        try {
          engine.loadString("@njit\ndef bad(x:\n    return x\n", "bad.stn");
        } catch (const stn::Error &e) {
          threw = std::string(e.what()).find("bad.stn:") != std::string::npos;
        }
        c.check(t, threw, "mix syntax error");
        threw = false;
        try {
          std::vector<double> v(4, 1.0);
          shared.kernel("helper")(stn::ArrayView::of(v.data(), {4}), int64_t(1));
        } catch (const stn::Error &) {
          threw = true;
        }
        c.check(t, threw, "mix helper with two arguments");
        break;
      }
      default: {
        std::vector<double> v(9, 1.0);
        c.check(t, shared.kernel("norm")(stn::ArrayView::of(v.data(), {9})).asDouble() == 3.0,
                "mix norm");
        std::vector<double> m(2 * 2, 1.0);
        c.check(t, shared.kernel("sum2d")(stn::ArrayView::of(m.data(), {2, 2})).asDouble() ==
                       4.0,
                "mix sum2d");
        break;
      }
      }
    }
  });
}

TEST(Concurrency, SharedDiskCache) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() /
                 ("stn-concurrency-cache-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Crew crew;
  crew.run([&](int t, Crew &c) {
    // Round 0: eight engines miss and store the same entries at once.
    // Round 1: fresh engines load them (or, if a store lost a race, compile
    // again); either way the results must be right.
    for (int round = 0; round < 2; ++round) {
      stn::EngineOptions opts;
      opts.cacheDir = dir.string();
      stn::Engine engine(opts);
      stn::Module mod = engine.loadString(SharedSource, "shared.stn");
      c.check(t, mod.kernel("uses_helper")(int64_t(7)).asInt() == usesHelperExpected(7),
              "cached uses_helper");
      c.check(t, dotWithType(mod.kernel("dot"), t % 2, 6) == 12.0, "cached dot");
      c.barrier();
    }
  });
  fs::remove_all(dir);
}

} // namespace
