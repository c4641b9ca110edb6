//===- BlockPoolTest.cpp - The pool of recycled large blocks --------------===//
//
// runtime/lib/BlockPool.h: size classes and the capacity setting, reuse of
// a released block, the capacity bound, alignment, allocation from eight
// threads at once, and the blocks of arrays a kernel returns (and of
// stn::Array) going back to the process-wide pool when the last reference
// dies. Most tests use pools of their own, so the order of the tests and
// the process-wide pool's contents do not matter.
//
//===----------------------------------------------------------------------===//

#include "BlockPool.h"

#include "stn/stn.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using stn::detail::BlockPool;

constexpr size_t MiB = size_t(1) << 20;

bool alignedTo(const void *p, size_t alignment) {
  return reinterpret_cast<uintptr_t>(p) % alignment == 0;
}

/// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : Name(name) {
    if (const char *old = std::getenv(name))
      Old = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (Old)
      setenv(Name, Old->c_str(), 1);
    else
      unsetenv(Name);
  }

private:
  const char *Name;
  std::optional<std::string> Old;
};

TEST(BlockPoolTest, SizeClasses) {
  for (size_t bytes : {size_t(1), size_t(4096), size_t(4097), MiB, MiB + 1, 3 * MiB - 1000,
                       5 * MiB + 123, 100 * MiB, size_t(256000000), size_t(2) << 30}) {
    size_t block = BlockPool::blockSize(bytes);
    EXPECT_GE(block, bytes);
    EXPECT_EQ(block % 4096, 0u) << bytes;
    // Eight classes per power of two: at most 1/8 (plus a page) of padding.
    EXPECT_LE(block, bytes + bytes / 8 + 4096) << bytes;
    EXPECT_EQ(BlockPool::blockSize(block), block) << "a class is its own class";
  }
  EXPECT_EQ(BlockPool::blockSize(3 * MiB - 1000), BlockPool::blockSize(3 * MiB));
  EXPECT_NE(BlockPool::blockSize(3 * MiB), BlockPool::blockSize(4 * MiB));
  EXPECT_EQ(BlockPool::blockSize(256 * MiB), 256 * MiB);
  // Absurd sizes (a kernel's overflowed shape product) fail cleanly.
  BlockPool pool(64 * MiB);
  EXPECT_EQ(pool.allocate(SIZE_MAX), nullptr);
  EXPECT_EQ(pool.allocate(SIZE_MAX / 2), nullptr);
  size_t huge = SIZE_MAX - 10;
  EXPECT_EQ(stn::detail::allocateBuffer(huge, 64), nullptr);
}

TEST(BlockPoolTest, ParseCapacity) {
  size_t bytes = 7;
  EXPECT_TRUE(BlockPool::parseCapacity("0", bytes));
  EXPECT_EQ(bytes, 0u);
  EXPECT_TRUE(BlockPool::parseCapacity("12345", bytes));
  EXPECT_EQ(bytes, 12345u);
  EXPECT_TRUE(BlockPool::parseCapacity("64M", bytes));
  EXPECT_EQ(bytes, 64 * MiB);
  EXPECT_TRUE(BlockPool::parseCapacity("2g", bytes));
  EXPECT_EQ(bytes, size_t(2) << 30);
  EXPECT_TRUE(BlockPool::parseCapacity("512KiB", bytes));
  EXPECT_EQ(bytes, size_t(512) << 10);
  bytes = 7;
  for (const char *bad : {"", "M", "-1", "1.5G", "12x", "1GG", "99999999999999999999"})
    EXPECT_FALSE(BlockPool::parseCapacity(bad, bytes)) << bad;
  EXPECT_FALSE(BlockPool::parseCapacity(nullptr, bytes));
  EXPECT_EQ(bytes, 7u) << "a failed parse leaves the value alone";
}

TEST(BlockPoolTest, ReusesAReleasedBlockOfTheSameClass) {
  BlockPool pool(64 * MiB);
  bool zeroed = false;
  auto *p = static_cast<unsigned char *>(pool.allocate(3 * MiB, &zeroed));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(zeroed) << "a fresh mapping is all zeros";
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(p[3 * MiB - 1], 0);
  std::memset(p, 0x5a, 3 * MiB);
  pool.release(p, 3 * MiB);
  EXPECT_TRUE(pool.isCached(p));
  EXPECT_EQ(pool.stats().cachedBytes, BlockPool::blockSize(3 * MiB));

  // Another size of the same class gets the same block, with its old data.
  auto *q = static_cast<unsigned char *>(pool.allocate(3 * MiB - 1000, &zeroed));
  EXPECT_EQ(q, p);
  EXPECT_FALSE(zeroed);
  EXPECT_EQ(q[12345], 0x5a);
  EXPECT_FALSE(pool.isCached(p));
  EXPECT_EQ(pool.stats().cachedBytes, 0u);

  // A block of another class is not handed out for it.
  pool.release(q, 3 * MiB - 1000);
  void *r = pool.allocate(8 * MiB, &zeroed);
  EXPECT_NE(r, static_cast<void *>(p));
  EXPECT_TRUE(zeroed);
  EXPECT_TRUE(pool.isCached(p));
  BlockPool::Stats s = pool.stats();
  EXPECT_EQ(s.reused, 1u);
  EXPECT_EQ(s.mapped, 2u);
  pool.release(r, 8 * MiB);
  EXPECT_EQ(pool.stats().cachedBlocks, 2u);
  pool.trim();
  EXPECT_EQ(pool.stats().cachedBlocks, 0u);
  EXPECT_EQ(pool.stats().unmapped, 2u);
}

TEST(BlockPoolTest, CapacityIsRespected) {
  const size_t block = BlockPool::blockSize(3 * MiB);
  BlockPool pool(2 * block + block / 2); // room for two blocks
  std::vector<void *> blocks;
  for (int i = 0; i < 4; ++i)
    blocks.push_back(pool.allocate(3 * MiB));
  for (void *p : blocks)
    pool.release(p, 3 * MiB);
  BlockPool::Stats s = pool.stats();
  EXPECT_LE(s.cachedBytes, pool.capacity());
  EXPECT_EQ(s.cachedBlocks, 2u);
  EXPECT_EQ(s.unmapped, 2u);
  // The oldest leave first: the last two released stay.
  EXPECT_FALSE(pool.isCached(blocks[0]));
  EXPECT_FALSE(pool.isCached(blocks[1]));
  EXPECT_TRUE(pool.isCached(blocks[2]));
  EXPECT_TRUE(pool.isCached(blocks[3]));

  // A block larger than the whole capacity is never kept.
  void *big = pool.allocate(16 * MiB);
  pool.release(big, 16 * MiB);
  EXPECT_FALSE(pool.isCached(big));
  EXPECT_LE(pool.stats().cachedBytes, pool.capacity());
  EXPECT_EQ(pool.stats().cachedBlocks, 2u);
}

TEST(BlockPoolTest, DisabledByTheEnvironment) {
  {
    ScopedEnv env("STN_POOL_BYTES", "0");
    EXPECT_EQ(BlockPool::capacityFromEnvironment(), 0u);
  }
  {
    ScopedEnv env("STN_POOL_BYTES", "96M");
    EXPECT_EQ(BlockPool::capacityFromEnvironment(), 96 * MiB);
  }
  {
    // An invalid value is ignored: the default is a positive fraction of
    // the memory, at most 4 GiB.
    ScopedEnv env("STN_POOL_BYTES", "lots");
    size_t def = BlockPool::capacityFromEnvironment();
    EXPECT_GT(def, 0u);
    EXPECT_LE(def, size_t(4) << 30);
  }
  ScopedEnv env("STN_POOL_BYTES", "0");
  BlockPool pool(BlockPool::capacityFromEnvironment());
  void *p = pool.allocate(4 * MiB);
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, 4 * MiB);
  pool.release(p, 4 * MiB);
  EXPECT_FALSE(pool.isCached(p));
  bool zeroed = false;
  void *q = pool.allocate(4 * MiB, &zeroed);
  EXPECT_TRUE(zeroed) << "nothing is recycled: every block is a fresh mapping";
  EXPECT_EQ(static_cast<unsigned char *>(q)[100], 0);
  pool.release(q, 4 * MiB);
  BlockPool::Stats s = pool.stats();
  EXPECT_EQ(s.reused, 0u);
  EXPECT_EQ(s.mapped, 2u);
  EXPECT_EQ(s.unmapped, 2u);
  EXPECT_EQ(s.cachedBytes, 0u);
}

TEST(BlockPoolTest, Alignment) {
  BlockPool pool(64 * MiB);
  for (size_t bytes : {MiB, MiB + 4096, 2 * MiB, 5 * MiB + 123, 40 * MiB}) {
    void *p = pool.allocate(bytes);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(alignedTo(p, 4096)) << bytes;
    if (BlockPool::blockSize(bytes) >= BlockPool::HugePageBytes) {
      EXPECT_TRUE(alignedTo(p, BlockPool::HugePageBytes)) << bytes;
    }
    std::memset(p, 0xff, bytes); // all of it is writable
    pool.release(p, bytes);
  }
  // The runtime's entry point: small blocks from malloc with the requested
  // alignment, large ones from the pool, 2 MiB-aligned on request.
  for (size_t bytes : {size_t(100), size_t(100000), MiB, 3 * MiB})
    for (size_t alignment : {size_t(0), size_t(16), size_t(64), size_t(4096), size_t(65536)}) {
      size_t size = bytes;
      void *p = stn::detail::allocateBuffer(size, alignment);
      ASSERT_NE(p, nullptr) << bytes << " " << alignment;
      EXPECT_GE(size, bytes);
      EXPECT_TRUE(alignedTo(p, alignment ? alignment : 16)) << bytes << " " << alignment;
      std::memset(p, 0, bytes);
      stn::detail::releaseBuffer(p, size);
    }
}

TEST(BlockPoolTest, EightThreadsAllocateAndReleaseAtOnce) {
  BlockPool pool(24 * MiB);
  constexpr int Threads = 8, Rounds = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < Threads; ++t)
    threads.emplace_back([&, t] {
      uint32_t rng = 12345u + static_cast<uint32_t>(t);
      std::vector<std::pair<unsigned char *, size_t>> held;
      for (int i = 0; i < Rounds; ++i) {
        rng = rng * 1664525u + 1013904223u;
        size_t bytes = (1 + (rng >> 16) % 4) * MiB; // four classes
        auto *p = static_cast<unsigned char *>(pool.allocate(bytes));
        if (!p) {
          ++failures;
          continue;
        }
        // Nobody else may hold this block: mark it, check it, keep a few.
        unsigned char tag = static_cast<unsigned char>(t * 31 + i);
        p[0] = p[bytes / 2] = p[bytes - 1] = tag;
        std::this_thread::yield();
        if (p[0] != tag || p[bytes / 2] != tag || p[bytes - 1] != tag)
          ++failures;
        held.emplace_back(p, bytes);
        if (held.size() > 2 || (rng & 1)) {
          pool.release(held.front().first, held.front().second);
          held.erase(held.begin());
        }
      }
      for (auto &[p, bytes] : held)
        pool.release(p, bytes);
    });
  for (auto &th : threads)
    th.join();
  EXPECT_EQ(failures.load(), 0);
  BlockPool::Stats s = pool.stats();
  EXPECT_EQ(s.reused + s.mapped, uint64_t(Threads) * Rounds);
  EXPECT_GT(s.reused, 0u);
  EXPECT_LE(s.cachedBytes, pool.capacity());
  EXPECT_EQ(s.mapped, s.unmapped + s.cachedBlocks) << "every mapped block is cached or unmapped";
}

TEST(BlockPoolTest, KernelResultsGoBackToThePool) {
  BlockPool &global = BlockPool::global();
  if (global.capacity() < 64 * MiB)
    GTEST_SKIP() << "the process-wide pool is disabled or small (STN_POOL_BYTES)";
  stn::Engine engine;
  stn::Module mod = engine.loadString(R"stn(
from numba import njit

@njit
def twice(a):
    return a * 2.0
)stn",
                                      "twice.stn");
  stn::Kernel twice = mod.kernel("twice");
  const int64_t n = 1 << 19; // 4 MiB of float64
  std::vector<double> a(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    a[size_t(i)] = double(i);
  stn::ArrayView va = stn::ArrayView::of(a.data(), {n});

  const void *first = nullptr;
  {
    stn::Value r = twice(va);
    first = r.array().data();
    EXPECT_EQ(r.array().at<double>({n - 1}), 2.0 * double(n - 1));
    stn::Value copy = r; // a second reference to the same block
    r = stn::Value();
    EXPECT_FALSE(global.isCached(first)) << "still referenced";
  }
  EXPECT_TRUE(global.isCached(first)) << "the last reference died: the block is back";

  // The next call of the same size gets the same block back, with correct
  // contents.
  uint64_t reused = global.stats().reused;
  stn::Value again = twice(va);
  EXPECT_EQ(again.array().data(), first);
  EXPECT_GT(global.stats().reused, reused);
  EXPECT_FALSE(global.isCached(first));
  for (int64_t i = 0; i < n; i += 4099)
    ASSERT_EQ(again.array().at<double>({i}), 2.0 * double(i)) << i;
}

TEST(BlockPoolTest, ArraysAreZeroFilledFromRecycledBlocks) {
  if (BlockPool::global().capacity() < 64 * MiB)
    GTEST_SKIP() << "the process-wide pool is disabled or small (STN_POOL_BYTES)";
  const int64_t n = 1 << 20; // 8 MiB of float64
  const void *first = nullptr;
  {
    stn::Array x(stn::DType::Float64, {n});
    first = x.data();
    EXPECT_TRUE(alignedTo(first, 64));
    auto *d = static_cast<double *>(x.data());
    for (int64_t i = 0; i < n; ++i)
      d[i] = 1.0;
  }
  EXPECT_TRUE(BlockPool::global().isCached(first));
  stn::Array y(stn::DType::Float64, {n});
  EXPECT_EQ(y.data(), first) << "the same block again";
  auto *d = static_cast<const double *>(y.data());
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(d[i], 0.0) << i;
}

} // namespace
