//===- ParallelRuntime.cpp - What parallel loops and random numbers call --===//
//
// Compiled kernels call these functions (bound by the JIT through
// runtimeSymbols(), resolved by dlopen for cached kernels):
//
//   int32_t _stn_num_threads()            threads a parallel loop may use
//   void *_stn_parallel_state()           the calling thread's kernel state
//   void *_stn_parallel_enter(void *s)    a worker adopts it; returns its own
//   void _stn_parallel_exit(void *prev)   ... and restores its own
//
// MLIRGen brackets the body of every OpenMP parallel region with enter/exit,
// so that arrays a worker thread allocates land in the arena of the host
// call that started the region (and are freed or returned with it), and
// errors it raises reach that call (KernelFault.h).
//
// Random numbers: each thread has its own xoshiro256** generator (Blackman
// and Vigna's published algorithm), seeded on first use from a process-wide
// counter through splitmix64, so threads get independent streams.
// random.seed(n) / np.random.seed(n) reseed the calling thread's generator
// only: a serial kernel that seeds is reproducible.
//
//===----------------------------------------------------------------------===//

#include "KernelFault.h"
#include "KernelRuntime.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <sched.h>
#include <string>
#include <thread>

namespace stn::detail {

unsigned defaultNumThreads() {
  static const unsigned n = [] {
    if (const char *env = std::getenv("STN_NUM_THREADS")) {
      char *end = nullptr;
      long v = std::strtol(env, &end, 10);
      if (end && *end == '\0' && v > 0 && v <= 4096)
        return static_cast<unsigned>(v);
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
      return static_cast<unsigned>(CPU_COUNT(&set));
    unsigned hw = std::thread::hardware_concurrency();
    return hw ? hw : 1u;
  }();
  return n;
}

namespace {

/// libomp keeps the threads of a finished parallel region spinning for
/// KMP_BLOCKTIME ms (200 by default) in case another region follows; on a
/// machine shared with other work that burns whole cores after every kernel
/// call. Unless the user chose a value, stn's kernels let them sleep at
/// once. This runs when libstn is loaded, before libomp reads its
/// environment (libomp is loaded later, by the JIT or a cached kernel).
const bool BlocktimeSet = [] {
  setenv("KMP_BLOCKTIME", "0", /*overwrite=*/0);
  return true;
}();

uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/// Kernels step `s` inline (MLIRGen.cpp, randomUniform): it must stay the
/// first member, four words in xoshiro256**'s order.
struct Generator {
  uint64_t s[4];
  bool haveSpare = false; ///< Box-Muller makes normals in pairs
  double spare = 0;

  void seed(uint64_t v) {
    for (uint64_t &w : s)
      w = splitmix64(v);
    haveSpare = false;
  }
  uint64_t next() {
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

std::atomic<uint64_t> NextStream{0x5eed5eed12345678ull};

Generator &generator() {
  thread_local Generator g = [] {
    Generator x;
    x.seed(NextStream.fetch_add(0x9e3779b97f4a7c15ull, std::memory_order_relaxed) ^
           static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&x)));
    return x;
  }();
  return g;
}

} // namespace
} // namespace stn::detail

using stn::detail::CallArena;

#define STN_EXPORT extern "C" __attribute__((visibility("default")))

STN_EXPORT int32_t _stn_num_threads() {
  CallArena *a = CallArena::current();
  unsigned n = a && a->numThreads() ? a->numThreads() : stn::detail::defaultNumThreads();
  return static_cast<int32_t>(n);
}

namespace stn::detail {
namespace {
/// What a worker thread takes over from the thread that starts a region:
/// the host call's arena and its fault record (KernelFault.h).
struct RegionState {
  CallArena *arena = nullptr;
  KernelFault *fault = nullptr;
};
/// The state this thread hands to the regions it starts (one per nesting
/// level, valid while it waits for them: workers may still be reading the
/// outer one when this thread starts a nested region), and what each region
/// it joined replaced. Regions nest at most kMaxDepth deep per thread
/// (libomp serializes nested regions, so in practice one or two).
constexpr int kMaxDepth = 64;
thread_local RegionState Handed[kMaxDepth + 1];
thread_local RegionState Saved[kMaxDepth];
thread_local int Depth = 0;
} // namespace

int parallelDepth() { return Depth; }
} // namespace stn::detail

STN_EXPORT void *_stn_parallel_state() {
  using namespace stn::detail;
  RegionState &h = Handed[Depth < kMaxDepth ? Depth : kMaxDepth];
  h = {CallArena::current(), currentFault()};
  return &h;
}

STN_EXPORT void *_stn_parallel_enter(void *state) {
  using namespace stn::detail;
  auto *s = static_cast<RegionState *>(state);
  RegionState prev{CallArena::exchangeCurrent(s->arena), exchangeFault(s->fault)};
  int d = Depth++;
  if (d >= kMaxDepth)
    return nullptr; // too deep to remember: exit restores nothing
  Saved[d] = prev;
  return &Saved[d];
}

STN_EXPORT void _stn_parallel_exit(void *prev) {
  using namespace stn::detail;
  --Depth;
  if (auto *p = static_cast<RegionState *>(prev)) {
    CallArena::exchangeCurrent(p->arena);
    exchangeFault(p->fault);
  }
}

/// The calling thread's generator state, four uint64_t words that kernels
/// step themselves (MLIRGen's randomUniform inlines xoshiro256**): a kernel
/// fetches it once per function and once per thread of a parallel region.
STN_EXPORT void *_stn_random_state() { return stn::detail::generator().s; }

STN_EXPORT void _stn_random_seed(int64_t seed) {
  stn::detail::generator().seed(static_cast<uint64_t>(seed));
}

/// An integer in [lo, hi] (both inclusive; Python's random.randint), without
/// modulo bias (Lemire's multiply-and-reject).
STN_EXPORT int64_t _stn_random_int(int64_t lo, int64_t hi) {
  if (hi <= lo)
    return lo;
  uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
  auto &g = stn::detail::generator();
  if (range == 0) // the whole int64 range
    return static_cast<int64_t>(g.next());
  unsigned __int128 m = static_cast<unsigned __int128>(g.next()) * range;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < range) {
    uint64_t threshold = (0 - range) % range;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(g.next()) * range;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + static_cast<uint64_t>(m >> 64));
}

/// Uniform in [0, 1) (what kernels inline; for the runtime's samplers).
STN_EXPORT double _stn_random_uniform() { return stn::detail::generator().uniform(); }

/// A standard normal deviate (Marsaglia's polar form of Box-Muller).
STN_EXPORT double _stn_random_normal() {
  auto &g = stn::detail::generator();
  if (g.haveSpare) {
    g.haveSpare = false;
    return g.spare;
  }
  double u, v, s;
  do {
    u = 2.0 * g.uniform() - 1.0;
    v = 2.0 * g.uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double f = std::sqrt(-2.0 * std::log(s) / s);
  g.spare = v * f;
  g.haveSpare = true;
  return u * f;
}

namespace stn::detail {

std::vector<std::pair<std::string, void *>> parallelRuntimeSymbols() {
  return {
      {"_stn_num_threads", reinterpret_cast<void *>(&_stn_num_threads)},
      {"_stn_parallel_state", reinterpret_cast<void *>(&_stn_parallel_state)},
      {"_stn_parallel_enter", reinterpret_cast<void *>(&_stn_parallel_enter)},
      {"_stn_parallel_exit", reinterpret_cast<void *>(&_stn_parallel_exit)},
      {"_stn_random_state", reinterpret_cast<void *>(&_stn_random_state)},
      {"_stn_random_seed", reinterpret_cast<void *>(&_stn_random_seed)},
      {"_stn_random_int", reinterpret_cast<void *>(&_stn_random_int)},
      {"_stn_random_normal", reinterpret_cast<void *>(&_stn_random_normal)},
      {"_stn_random_uniform", reinterpret_cast<void *>(&_stn_random_uniform)},
  };
}

} // namespace stn::detail
