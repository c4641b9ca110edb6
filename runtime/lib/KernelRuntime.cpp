//===- KernelRuntime.cpp - Memory that compiled kernels allocate ----------===//
//
// See KernelRuntime.h. A thread without a current arena (a thread the kernel
// started itself) allocates from a process-wide arena whose blocks are freed
// by the kernel's own deallocations only. Every block is allocated and
// released through BlockPool.h's allocateBuffer/releaseBuffer, which recycle
// the large ones.
//
//===----------------------------------------------------------------------===//

#include "KernelRuntime.h"
#include "BlockPool.h"
#include "CudaSim.h"
#include "KernelFault.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace stn::detail {

namespace {
thread_local CallArena *Current = nullptr;

CallArena &orphanArena() {
  static CallArena *arena = new CallArena(); // lives as long as the process
  return *arena;
}
} // namespace

CallArena &orphanArenaRef() { return orphanArena(); }

CallArena::~CallArena() {
  for (auto &[p, bytes] : Live)
    releaseBuffer(p, bytes);
}

CallArena::Scope::Scope(CallArena &arena) : Prev(Current) { Current = &arena; }
CallArena::Scope::~Scope() { Current = Prev; }

CallArena *CallArena::current() { return Current; }

CallArena *CallArena::exchangeCurrent(CallArena *arena) {
  CallArena *prev = Current;
  Current = arena;
  return prev;
}

void *CallArena::allocate(size_t bytes, size_t alignment) {
  // Not zero-filled: memref.alloc promises nothing about the contents, and
  // a recycled block holds an earlier array's data.
  void *p = allocateBuffer(bytes, alignment);
  if (!p)
    return nullptr;
  std::lock_guard<std::mutex> lock(M);
  Live.emplace(p, bytes);
  return p;
}

bool CallArena::release(void *p) {
  size_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(M);
    auto it = Live.find(p);
    if (it == Live.end())
      return false;
    bytes = it->second;
    Live.erase(it);
  }
  releaseBuffer(p, bytes);
  return true;
}

std::shared_ptr<void> CallArena::adopt(void *allocated) {
  std::lock_guard<std::mutex> lock(M);
  auto a = Adopted.find(allocated);
  if (a != Adopted.end())
    return a->second;
  auto it = Live.find(allocated);
  if (it == Live.end())
    return nullptr;
  size_t bytes = it->second;
  Live.erase(it);
  // The block goes back to the pool when the last Array sharing it dies.
  std::shared_ptr<void> owner(allocated, [bytes](void *p) { releaseBuffer(p, bytes); });
  Adopted.emplace(allocated, owner);
  return owner;
}

} // namespace stn::detail

// The functions compiled kernels call, exported under MLIR's names so that
// kernels loaded with dlopen (from the cache) resolve them too.
using stn::detail::CallArena;
namespace {
CallArena &orphan() { return stn::detail::orphanArenaRef(); }
} // namespace

extern "C" __attribute__((visibility("default"))) void *_mlir_memref_to_llvm_alloc(uint64_t bytes) {
  CallArena *a = CallArena::current();
  return (a ? *a : orphan()).allocate(static_cast<size_t>(bytes));
}

extern "C" __attribute__((visibility("default"))) void *
_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment, uint64_t bytes) {
  // Only used with AllocLowering::AlignedAlloc (stn lowers with Malloc and
  // aligns the pointer in the descriptor); kept so both lowerings link.
  CallArena *a = CallArena::current();
  return (a ? *a : orphan()).allocate(static_cast<size_t>(bytes), alignment);
}

extern "C" __attribute__((visibility("default"))) void _mlir_memref_to_llvm_free(void *p) {
  if (!p)
    return;
  if (CallArena *a = CallArena::current(); a && a->release(p))
    return;
  // Arrays the kernel did not allocate (views of inputs) are never freed.
  orphan().release(p);
}

namespace stn::detail {

void printMessage(const char *text, int64_t n, const int64_t *v, bool gpuFloats) {
  std::vector<int64_t> values(v, v + std::clamp<int64_t>(n, 0, kMaxFaultValues));
  std::string line = fillMessage(text ? text : "", values, gpuFloats);
  static std::mutex mutex; // one line at a time, whole
  std::lock_guard<std::mutex> lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

} // namespace stn::detail

/// print(...) in kernel code (MLIRGen.cpp, genPrint): `text` with n values
/// (KernelFaults.h's encoding) filled in, on standard output.
extern "C" __attribute__((visibility("default"))) void
_stn_print(const char *text, int64_t n, int64_t v0, int64_t v1, int64_t v2, int64_t v3,
           int64_t v4, int64_t v5, int64_t v6, int64_t v7, int64_t v8, int64_t v9) {
  const int64_t v[10] = {v0, v1, v2, v3, v4, v5, v6, v7, v8, v9};
  stn::detail::printMessage(text, n, v, /*gpuFloats=*/false);
}

// Cuda.cpp: the GPU loops of @jit(target="cuda") kernels (GpuRegions.h).
extern "C" void _stn_gpu_launch(int64_t region, int64_t slots, int64_t n0, int64_t n1,
                                int64_t n2);

namespace stn::detail {

std::vector<std::pair<std::string, void *>> runtimeSymbols() {
  std::vector<std::pair<std::string, void *>> symbols = {
      {"_mlir_memref_to_llvm_alloc", reinterpret_cast<void *>(&_mlir_memref_to_llvm_alloc)},
      {"_mlir_memref_to_llvm_aligned_alloc",
       reinterpret_cast<void *>(&_mlir_memref_to_llvm_aligned_alloc)},
      {"_mlir_memref_to_llvm_free", reinterpret_cast<void *>(&_mlir_memref_to_llvm_free)},
      {"_stn_gpu_launch", reinterpret_cast<void *>(&_stn_gpu_launch)},
      {"_stn_print", reinterpret_cast<void *>(&_stn_print)},
  };
  auto parallel = parallelRuntimeSymbols();
  symbols.insert(symbols.end(), parallel.begin(), parallel.end());
  auto dists = randomDistributionSymbols();
  symbols.insert(symbols.end(), dists.begin(), dists.end());
  auto sorts = sortRuntimeSymbols();
  symbols.insert(symbols.end(), sorts.begin(), sorts.end());
  auto math = mathRuntimeSymbols();
  symbols.insert(symbols.end(), math.begin(), math.end());
  auto linalg = linalgRuntimeSymbols();
  symbols.insert(symbols.end(), linalg.begin(), linalg.end());
  auto faults = faultRuntimeSymbols();
  symbols.insert(symbols.end(), faults.begin(), faults.end());
  auto sim = cudaSimulatorSymbols();
  symbols.insert(symbols.end(), sim.begin(), sim.end());
  return symbols;
}

} // namespace stn::detail
