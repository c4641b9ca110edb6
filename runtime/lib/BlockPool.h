//===- BlockPool.h - Recycled large blocks for kernel arrays ----*- C++ -*-===//
//
// A kernel that returns a new array writes to fresh memory. glibc serves
// large blocks with mmap and gives them back with munmap on free, so every
// call faults in every page of its output again: for a 256 MB result that
// costs several times the kernel itself. Large buffers (kernel outputs and
// temporaries, stn::Array storage) therefore come from this pool instead:
//
//  - A block is an anonymous mapping of a size class (the request rounded up
//    to one of 8 sizes per power of two), aligned to 2 MiB when it is at
//    least that large and advised MADV_HUGEPAGE, so that its first touch
//    takes one fault per 2 MiB instead of one per 4 KiB. Nothing is touched
//    when it is mapped: the threads that write the data fault it in (a
//    parallel kernel shares that work).
//  - A released block is kept, up to the pool's capacity in bytes, and
//    handed out again for the next request of the same size class; the
//    oldest blocks are unmapped when the pool is over capacity.
//
// The process-wide pool's capacity is $STN_POOL_BYTES (a byte count, or
// with a K, M or G suffix; 0 disables the reuse), by default an eighth of
// the physical memory, at most 4 GiB. It is never destroyed (arrays may be
// released after static destructors ran) and stays reachable from a static
// pointer, so leak checkers see no leak; a fork()ed child inherits it in a
// consistent state.
//
//===----------------------------------------------------------------------===//

#ifndef STN_RUNTIME_BLOCKPOOL_H
#define STN_RUNTIME_BLOCKPOOL_H

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace stn::detail {

class BlockPool {
public:
  /// Requests below this size go to malloc (allocateBuffer).
  static constexpr size_t MinBlockBytes = size_t(1) << 20;
  static constexpr size_t HugePageBytes = size_t(2) << 20;

  /// A pool that keeps up to `capacityBytes` of released blocks (0: none).
  explicit BlockPool(size_t capacityBytes);
  /// Unmaps the cached blocks; blocks still handed out stay the caller's.
  ~BlockPool();
  BlockPool(const BlockPool &) = delete;
  BlockPool &operator=(const BlockPool &) = delete;

  /// The process-wide pool (created on first use, never destroyed).
  static BlockPool &global();
  /// $STN_POOL_BYTES if it is set and valid, else the default capacity.
  static size_t capacityFromEnvironment();
  /// Parses a capacity: digits with an optional K, M or G suffix (binary
  /// units). False if `text` is not one.
  static bool parseCapacity(const char *text, size_t &bytes);
  /// The size of the block that serves a request of `bytes` bytes.
  static size_t blockSize(size_t bytes);

  /// A page-aligned block of at least `bytes` bytes (null if the system
  /// has no memory for it). `*zeroed` (if given) tells whether the block
  /// is a fresh mapping, all zeros; a recycled one holds old data.
  void *allocate(size_t bytes, bool *zeroed = nullptr);
  /// Takes back a block allocate(bytes) returned.
  void release(void *p, size_t bytes);
  /// Unmaps every cached block.
  void trim();

  size_t capacity() const { return Capacity; }
  struct Stats {
    size_t cachedBytes = 0;  ///< released blocks kept for reuse
    size_t cachedBlocks = 0;
    uint64_t reused = 0;     ///< allocations served from the cache
    uint64_t mapped = 0;     ///< allocations that mapped a fresh block
    uint64_t unmapped = 0;   ///< blocks given back to the system
  };
  Stats stats() const;
  /// Whether `p` is a released block waiting in the cache (for tests).
  bool isCached(const void *p) const;

private:
  struct Block {
    void *ptr;
    size_t bytes;  ///< the block's size (its size class)
    uint64_t tick; ///< when it was released: the oldest leave first
  };
  static void *mapBlock(size_t bytes);
  static void unmapBlock(void *p, size_t bytes);

  const size_t Capacity;
  mutable std::mutex M;
  std::vector<Block> Cached;
  size_t CachedBytes = 0;
  uint64_t Tick = 0;
  uint64_t Reused = 0, Mapped = 0, Unmapped = 0;

  friend struct BlockPoolForkGuard;
};

/// The allocator of kernel arrays and stn::Array storage: blocks of at
/// least BlockPool::MinBlockBytes from the global pool (page-aligned, or
/// 2 MiB-aligned for an `alignment` above a page, which may grow `bytes`),
/// smaller ones from malloc / aligned_alloc. Release with releaseBuffer and
/// the size `bytes` holds on return.
void *allocateBuffer(size_t &bytes, size_t alignment = 0, bool *zeroed = nullptr);
void releaseBuffer(void *p, size_t bytes);

} // namespace stn::detail

#endif // STN_RUNTIME_BLOCKPOOL_H
