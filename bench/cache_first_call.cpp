//===- cache_first_call.cpp - The first call of a kernel, in one process --===//
//
// Run once per fresh process by bench/cache_startup.py (with STN_CACHE_DIR
// pointing at an empty or a warm cache): creates an Engine, loads FILE and
// calls KERNEL once on an int8 ROWS x COLS image, then once more, and prints
// one line of key=value timings in milliseconds plus the engine's cache
// counters (hits, compilations), which say whether the call compiled.
//
//   stn-bench-cache-first-call bench/smooth.stn smooth 1000 1000
//
//===----------------------------------------------------------------------===//

#include <stn/stn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {
double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
} // namespace

int main(int argc, char **argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s FILE KERNEL ROWS COLS\n", argv[0]);
    return 2;
  }
  const int64_t rows = std::atoll(argv[3]), cols = std::atoll(argv[4]);
  std::vector<int8_t> image(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < image.size(); ++i)
    image[i] = static_cast<int8_t>((i * 7919) % 251 - 125);
  try {
    auto t0 = std::chrono::steady_clock::now();
    stn::Engine engine;
    stn::Module mod = engine.loadFile(argv[1]);
    double load = msSince(t0);
    stn::Kernel k = mod.kernel(argv[2]);
    auto t1 = std::chrono::steady_clock::now();
    stn::Value first = k(stn::ArrayView::of(image.data(), {rows, cols}));
    double firstCall = msSince(t1);
    auto t2 = std::chrono::steady_clock::now();
    stn::Value second = k(stn::ArrayView::of(image.data(), {rows, cols}));
    double secondCall = msSince(t2);
    stn::CacheStats s = engine.cacheStats();
    std::printf("load_ms=%.3f first_call_ms=%.3f second_call_ms=%.3f hits=%llu "
                "compilations=%llu\n",
                load, firstCall, secondCall, static_cast<unsigned long long>(s.hits),
                static_cast<unsigned long long>(s.compilations));
    return first.isArray() && second.isArray() ? 0 : 1;
  } catch (const stn::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
