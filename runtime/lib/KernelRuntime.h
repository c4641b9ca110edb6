//===- KernelRuntime.h - Memory that compiled kernels allocate --*- C++ -*-===//
//
// Kernels allocate arrays (stencil and ufunc outputs, temporaries) through
// _mlir_memref_to_llvm_alloc/free, which the JIT binds to this file's
// functions. Each host call runs inside a CallArena: what the kernel
// allocates is recorded there; arrays the kernel returns are adopted by the
// host (zero-copy, owned by the returned stn::Array), everything else is
// freed when the call ends, so a kernel called in a loop does not leak.
// Large blocks come from the recycling pool of BlockPool.h, and go back to
// it when the call ends or the last Array sharing an adopted block dies.
//
//===----------------------------------------------------------------------===//

#ifndef STN_RUNTIME_KERNELRUNTIME_H
#define STN_RUNTIME_KERNELRUNTIME_H

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stn::detail {

class CallArena {
public:
  CallArena() = default;
  ~CallArena(); ///< frees every allocation that was not adopted
  CallArena(const CallArena &) = delete;
  CallArena &operator=(const CallArena &) = delete;

  /// Makes this arena the current thread's for its lifetime.
  class Scope {
  public:
    explicit Scope(CallArena &arena);
    ~Scope();

  private:
    CallArena *Prev;
  };

  void *allocate(size_t bytes, size_t alignment = 0);
  /// Frees `p` if this arena allocated it (and nobody adopted it).
  bool release(void *p);
  /// Hands the allocation starting at `allocated` to the caller: the same
  /// owner is returned for every array that shares it. Null if the arena
  /// did not allocate it.
  std::shared_ptr<void> adopt(void *allocated);

  static CallArena *current();
  /// Makes `arena` the current thread's (null: none) and returns the
  /// previous one: parallel regions give their worker threads the arena of
  /// the call that started them (ParallelRuntime.cpp).
  static CallArena *exchangeCurrent(CallArena *arena);

  /// The number of threads parallel loops of this call use (0: the default,
  /// see ParallelRuntime.cpp).
  unsigned numThreads() const { return NumThreads; }
  void setNumThreads(unsigned n) { NumThreads = n; }

private:
  std::mutex M;
  unsigned NumThreads = 0;
  /// Not yet adopted, with the size to release them with (releaseBuffer).
  std::unordered_map<void *, size_t> Live;
  std::unordered_map<void *, std::shared_ptr<void>> Adopted;
};

/// The arena of threads that run kernel code outside any host call.
CallArena &orphanArenaRef();

/// Symbols compiled kernels import from the runtime (name, address).
std::vector<std::pair<std::string, void *>> runtimeSymbols();

/// print() in kernels: `text` with the `n` values `v` filled in
/// (fillMessage), written to standard output at once (lines of several
/// threads do not mix) and flushed.
void printMessage(const char *text, int64_t n, const int64_t *v, bool gpuFloats);
/// Those of parallel loops and random numbers (ParallelRuntime.cpp).
std::vector<std::pair<std::string, void *>> parallelRuntimeSymbols();
/// RandomDistributions.cpp: _stn_random_real, _stn_random_count.
std::vector<std::pair<std::string, void *>> randomDistributionSymbols();
/// SortRuntime.cpp: _stn_sort, _stn_argsort.
std::vector<std::pair<std::string, void *>> sortRuntimeSymbols();
/// MathRuntime.cpp: _stn_fsum.
std::vector<std::pair<std::string, void *>> mathRuntimeSymbols();
/// LinalgRuntime.cpp: the _stn_linalg_* functions of np.linalg.
std::vector<std::pair<std::string, void *>> linalgRuntimeSymbols();

/// The thread count parallel loops use when the engine sets none:
/// $STN_NUM_THREADS, else the CPUs this process may run on.
unsigned defaultNumThreads();

} // namespace stn::detail

#endif // STN_RUNTIME_KERNELRUNTIME_H
