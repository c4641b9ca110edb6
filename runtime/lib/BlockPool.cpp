//===- BlockPool.cpp - Recycled large blocks for kernel arrays ------------===//
//
// See BlockPool.h. The cache is a flat vector searched linearly under one
// mutex: blocks are at least 1 MiB and the capacity a few GiB, so it holds
// at most a few thousand entries, and a search costs far less than one page
// fault. mmap, munmap and madvise run outside the lock.
//
// Under AddressSanitizer a cached block and the padding after a request are
// poisoned, so host code that touches an array after its last reference
// died, or past its end, is still reported although the memory stays
// mapped.
//
//===----------------------------------------------------------------------===//

#include "BlockPool.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define STN_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STN_POOL_ASAN 1
#endif
#endif
#ifdef STN_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define STN_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define STN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define STN_POISON(p, n) ((void)(p), (void)(n))
#define STN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace stn::detail {

namespace {
constexpr size_t PageBytes = 4096;
constexpr size_t DefaultCapacityCap = size_t(4) << 30;
/// Larger requests fail (and sizes stay far from overflowing).
constexpr size_t MaxBlockBytes = size_t(1) << 56;

size_t roundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }
} // namespace

//===----------------------------------------------------------------------===//
// Sizes and configuration
//===----------------------------------------------------------------------===//

size_t BlockPool::blockSize(size_t bytes) {
  if (bytes > MaxBlockBytes)
    return bytes; // no such mapping exists: allocate() fails
  size_t pages = roundUp(bytes ? bytes : 1, PageBytes);
  // Eight classes per power of two: at most 1/8 of a block is padding, and
  // padding that is never touched costs address space only.
  size_t top = size_t(1) << (63 - __builtin_clzll(pages));
  size_t step = std::max(top / 8, PageBytes);
  return roundUp(pages, step);
}

bool BlockPool::parseCapacity(const char *text, size_t &bytes) {
  if (!text || !*text)
    return false;
  size_t value = 0;
  const char *c = text;
  for (; *c >= '0' && *c <= '9'; ++c) {
    size_t digit = static_cast<size_t>(*c - '0');
    if (value > (SIZE_MAX - digit) / 10)
      return false;
    value = value * 10 + digit;
  }
  if (c == text)
    return false;
  unsigned shift = 0;
  switch (*c) {
  case '\0': break;
  case 'k': case 'K': shift = 10; ++c; break;
  case 'm': case 'M': shift = 20; ++c; break;
  case 'g': case 'G': shift = 30; ++c; break;
  default: return false;
  }
  if (*c == 'i' || *c == 'B' || *c == 'b') // 4GiB, 4GB, 4G
    c += (*c == 'i' && (c[1] == 'B' || c[1] == 'b')) ? 2 : 1;
  if (*c != '\0' || (shift && value > (SIZE_MAX >> shift)))
    return false;
  bytes = value << shift;
  return true;
}

size_t BlockPool::capacityFromEnvironment() {
  size_t bytes = 0;
  if (parseCapacity(std::getenv("STN_POOL_BYTES"), bytes))
    return bytes;
  long pages = sysconf(_SC_PHYS_PAGES);
  long pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return DefaultCapacityCap / 4;
  size_t ram = static_cast<size_t>(pages) * static_cast<size_t>(pageSize);
  return std::min(ram / 8, DefaultCapacityCap);
}

//===----------------------------------------------------------------------===//
// Mappings
//===----------------------------------------------------------------------===//

void *BlockPool::mapBlock(size_t bytes) {
  int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (bytes < HugePageBytes) {
    void *p = mmap(nullptr, bytes, prot, flags, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }
  // Map 2 MiB more and cut the mapping down to a 2 MiB-aligned block, so
  // that all of it can be backed by huge pages.
  size_t len = bytes + HugePageBytes;
  void *raw = mmap(nullptr, len, prot, flags, -1, 0);
  if (raw == MAP_FAILED)
    return nullptr;
  auto start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = roundUp(start, HugePageBytes);
  size_t head = aligned - start, tail = len - head - bytes;
  if (head)
    munmap(raw, head);
  if (tail)
    munmap(reinterpret_cast<void *>(aligned + bytes), tail);
  void *p = reinterpret_cast<void *>(aligned);
#ifdef MADV_HUGEPAGE
  // Fails harmlessly where transparent huge pages are unavailable.
  madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return p;
}

void BlockPool::unmapBlock(void *p, size_t bytes) {
  STN_UNPOISON(p, bytes); // the next mapping there starts clean
  munmap(p, bytes);
}

//===----------------------------------------------------------------------===//
// The pool
//===----------------------------------------------------------------------===//

BlockPool::BlockPool(size_t capacityBytes) : Capacity(capacityBytes) {}

BlockPool::~BlockPool() { trim(); }

void *BlockPool::allocate(size_t bytes, bool *zeroed) {
  if (bytes > MaxBlockBytes)
    return nullptr;
  size_t size = blockSize(bytes);
  {
    std::lock_guard<std::mutex> lock(M);
    // The most recently released block of the class: its pages are the
    // likeliest to be in the caches and the TLB.
    auto best = Cached.end();
    for (auto it = Cached.begin(); it != Cached.end(); ++it)
      if (it->bytes == size && (best == Cached.end() || it->tick > best->tick))
        best = it;
    if (best != Cached.end()) {
      void *p = best->ptr;
      CachedBytes -= size;
      *best = Cached.back();
      Cached.pop_back();
      ++Reused;
      if (zeroed)
        *zeroed = false;
      STN_UNPOISON(p, bytes);
      return p;
    }
  }
  void *p = mapBlock(size);
  if (!p) {
    // Out of address space or memory: give the cache back and try again.
    trim();
    p = mapBlock(size);
    if (!p)
      return nullptr;
  }
  {
    std::lock_guard<std::mutex> lock(M);
    ++Mapped;
  }
  if (zeroed)
    *zeroed = true;
  STN_POISON(static_cast<char *>(p) + bytes, size - bytes);
  return p;
}

void BlockPool::release(void *p, size_t bytes) {
  if (!p)
    return;
  size_t size = blockSize(bytes);
  std::vector<Block> evicted;
  {
    std::lock_guard<std::mutex> lock(M);
    if (size > Capacity) {
      ++Unmapped;
    } else {
      STN_POISON(p, size);
      Cached.push_back({p, size, ++Tick});
      CachedBytes += size;
      p = nullptr;
      while (CachedBytes > Capacity) {
        auto oldest = std::min_element(
            Cached.begin(), Cached.end(),
            [](const Block &a, const Block &b) { return a.tick < b.tick; });
        evicted.push_back(*oldest);
        CachedBytes -= oldest->bytes;
        *oldest = Cached.back();
        Cached.pop_back();
        ++Unmapped;
      }
    }
  }
  if (p)
    unmapBlock(p, size);
  for (const Block &b : evicted)
    unmapBlock(b.ptr, b.bytes);
}

void BlockPool::trim() {
  std::vector<Block> all;
  {
    std::lock_guard<std::mutex> lock(M);
    all.swap(Cached);
    CachedBytes = 0;
    Unmapped += all.size();
  }
  for (const Block &b : all)
    unmapBlock(b.ptr, b.bytes);
}

BlockPool::Stats BlockPool::stats() const {
  std::lock_guard<std::mutex> lock(M);
  Stats s;
  s.cachedBytes = CachedBytes;
  s.cachedBlocks = Cached.size();
  s.reused = Reused;
  s.mapped = Mapped;
  s.unmapped = Unmapped;
  return s;
}

bool BlockPool::isCached(const void *p) const {
  std::lock_guard<std::mutex> lock(M);
  return std::any_of(Cached.begin(), Cached.end(),
                     [p](const Block &b) { return b.ptr == p; });
}

/// fork() copies the pool with its mutex: the parent holds the lock across
/// the fork, so the child never inherits it locked by a thread it lacks.
struct BlockPoolForkGuard {
  static BlockPool *Pool;
  static void prepare() { Pool->M.lock(); }
  static void parent() { Pool->M.unlock(); }
  static void child() { Pool->M.unlock(); }
};
BlockPool *BlockPoolForkGuard::Pool = nullptr;

BlockPool &BlockPool::global() {
  // Never destroyed: stn::Arrays held in static objects may release their
  // blocks after this file's static destructors ran. The static pointer
  // keeps the pool (and its bookkeeping) reachable for leak checkers;
  // cached blocks are mappings, which they do not track.
  static BlockPool *pool = [] {
    auto *p = new BlockPool(capacityFromEnvironment());
    BlockPoolForkGuard::Pool = p;
    pthread_atfork(&BlockPoolForkGuard::prepare, &BlockPoolForkGuard::parent,
                   &BlockPoolForkGuard::child);
    return p;
  }();
  return *pool;
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

void *allocateBuffer(size_t &bytes, size_t alignment, bool *zeroed) {
  if (bytes >= BlockPool::MinBlockBytes) {
    // Blocks are page-aligned, and 2 MiB-aligned from 2 MiB on.
    if (alignment > PageBytes)
      bytes = std::max(bytes, BlockPool::HugePageBytes);
    if (alignment > BlockPool::HugePageBytes)
      return nullptr;
    return BlockPool::global().allocate(bytes, zeroed);
  }
  if (zeroed)
    *zeroed = false;
  if (alignment > alignof(std::max_align_t)) {
    size_t rounded = roundUp(bytes ? bytes : 1, alignment);
    return std::aligned_alloc(alignment, rounded);
  }
  return std::malloc(bytes ? bytes : 1);
}

void releaseBuffer(void *p, size_t bytes) {
  if (bytes >= BlockPool::MinBlockBytes)
    BlockPool::global().release(p, bytes);
  else
    std::free(p);
}

} // namespace stn::detail
