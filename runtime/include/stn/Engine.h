//===- Engine.h - Load .stn files, look kernels up, call them ---*- C++ -*-===//
//
// Part of the stn public API.
//
//   stn::Engine engine;
//   stn::Module mod = engine.loadFile("matmul.stn");
//   stn::Kernel mm = mod.kernel("matrix_multiplication");
//   mm(stn::ArrayView::of(a, {n, n}), stn::ArrayView::of(b, {n, n}),
//      stn::ArrayView::of(c, {n, n}));
//
// A kernel is compiled on the first call with a new argument-type signature
// and reused afterwards. Every method may be called from several threads at
// once. All failures throw stn::Error with formatted diagnostics.
//
//===----------------------------------------------------------------------===//

#ifndef STN_ENGINE_H
#define STN_ENGINE_H

#include "stn/Array.h"
#include "stn/Error.h"
#include "stn/Gpu.h"
#include "stn/Value.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace stn {

/// The stages `Module::emit` can stop after (`stn ir --emit=...`).
enum class Stage {
  AST,     ///< the parsed syntax tree
  Typed,   ///< the syntax tree with every expression's inferred type
  MLIR,    ///< MLIR in upstream dialects (func, arith, math, memref, scf, cf, complex)
  Lowered, ///< MLIR in the LLVM dialect
  LLVM,    ///< LLVM IR after optimization for the host CPU
  Asm,     ///< host assembly (GPU kernels: PTX)
  PTX,     ///< PTX of a GPU kernel (@cuda.jit / @kernel; docs/gpu.md)
  /// Not a stage: the optimization report of a CPU kernel (parallel loops,
  /// fused array expressions, vectorized loops; docs/cli.md).
  Diagnostics,
};
/// Parses "ast", "typed", "mlir", "lowered" (or "mlir-lowered"), "llvm", "asm", "ptx",
/// "diagnostics".
bool parseStage(std::string_view name, Stage &out);

struct EngineOptions {
  /// LLVM optimization level for generated code (0-3).
  unsigned optLevel = 3;

  /// Threads that parallel loops (prange in parallel=True kernels,
  /// target="parallel" ufuncs/gufuncs/stencils) use; 0 means
  /// $STN_NUM_THREADS, else the CPUs this process may run on.
  unsigned numThreads = 0;

  /// Store compiled specializations in the on-disk cache and load them from
  /// there in later processes instead of compiling (docs/caching.md). The
  /// environment variable STN_CACHE=0 turns the cache off whatever this
  /// says; so does `cache=False` on one kernel.
  bool cacheEnabled = true;
  /// The cache directory; empty means $STN_CACHE_DIR, else
  /// $XDG_CACHE_HOME/stn, else ~/.cache/stn. A directory that cannot be
  /// created or written is not an error: the engine keeps its kernels in
  /// memory only and reports one warning.
  std::string cacheDir;
  /// Size limit of the cache directory in bytes, kept by removing the least
  /// recently used entries; 0 means $STN_CACHE_SIZE_LIMIT, else 1 GiB.
  uint64_t cacheSizeLimit = 0;

  /// Receives every warning the engine reports outside of loading (today:
  /// the cache's, e.g. a corrupt entry that was removed, an unwritable
  /// directory), one formatted line each, from whichever thread compiled.
  /// Unset: warnings are queued for Engine::takeWarnings().
  std::function<void(const std::string &)> onWarning;
};

/// How one engine used the on-disk cache (Engine::cacheStats()).
struct CacheStats {
  uint64_t hits = 0;         ///< specializations loaded from the cache
  uint64_t misses = 0;       ///< looked up and not there (invalid entries included)
  uint64_t invalid = 0;      ///< truncated, corrupt or mismatched entries removed
  uint64_t compilations = 0; ///< specializations compiled (MLIR + LLVM), cached or not
  uint64_t stored = 0;       ///< entries written
  uint64_t evicted = 0;      ///< entries removed to keep the size limit
};

class Kernel;
class Module;
namespace detail {
struct EngineImpl;
struct ModuleImpl;
} // namespace detail

class Engine {
public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  /// Loads and checks a .stn file (syntax, names, decorators, explicit
  /// signatures, which compile eagerly). Throws stn::Error on any error.
  Module loadFile(const std::string &path);
  /// Same for source text; `name` is used in diagnostics.
  Module loadString(std::string_view source, std::string_view name = "<string>");

  /// Warnings produced by the last load on this thread (formatted).
  static std::string lastWarnings();

  /// Warnings reported after loading (see EngineOptions::onWarning) that no
  /// handler took, oldest first; the queue is emptied.
  std::vector<std::string> takeWarnings();
  /// This engine's use of the on-disk cache so far.
  CacheStats cacheStats() const;

  /// Parses a .stn file and prints its syntax tree (the whole module, or
  /// the function `kernel`) without any later check: `stn ir --emit=ast`
  /// stops right after the parser. Throws stn::Error on syntax errors.
  static std::string parseToAST(const std::string &path, std::string_view kernel = {});

private:
  std::shared_ptr<detail::EngineImpl> Impl;
};

class Module {
public:
  /// The warnings found when this module was loaded (unused variables,
  /// unreachable code, ...), one formatted diagnostic each
  /// ("file.stn:L:C: warning: ...", the source line and a caret).
  const std::vector<std::string> &warnings() const;
  /// The kernel named `name`; throws stn::Error if there is none.
  Kernel kernel(std::string_view name) const;
  /// Names of all kernels, in file order.
  std::vector<std::string> kernelNames() const;
  /// Text of one stage for `kernel` specialized to `signature`, written in
  /// the language's type syntax, e.g. "f64[:,:], f64[:,:], f64[:,:]" (may be
  /// empty for Stage::AST, or for kernels with an explicit signature).
  std::string emit(std::string_view kernel, std::string_view signature,
                   Stage stage) const;
  /// The whole module's syntax tree.
  std::string emitAST() const;

private:
  friend class Engine;
  friend class Kernel;
  explicit Module(std::shared_ptr<detail::ModuleImpl> impl) : Impl(std::move(impl)) {}
  std::shared_ptr<detail::ModuleImpl> Impl;
};

class Kernel {
public:
  const std::string &name() const { return Name; }
  /// Parameter names, in order.
  std::vector<std::string> parameterNames() const;

  /// Calls the kernel. Scalars are passed by value; arrays as views the
  /// kernel may read and write. Throws stn::Error on a wrong argument count,
  /// dtype or rank, or when no specialization is possible.
  Value call(const std::vector<Arg> &args) const;
  /// Keyword arguments: {"out", array} makes a stencil, ufunc or gufunc
  /// write its result into that array (which is then also returned).
  using KwArgs = std::vector<std::pair<std::string, Arg>>;
  Value call(const std::vector<Arg> &args, const KwArgs &kwargs) const;
  template <class... Args> Value operator()(Args &&...args) const {
    return call(std::vector<Arg>{Arg(std::forward<Args>(args))...});
  }

  /// GPU kernels (@cuda.jit / @kernel, docs/gpu.md): runs `grid` blocks of
  /// `block` threads on the current device (gpu::setDevice). DeviceArrays
  /// stay on the GPU and the launch returns without waiting, like Numba's,
  /// unless the kernel may raise (raise, assert, boundscheck): then it
  /// waits and throws the first error a thread raised. Host arrays are
  /// copied to the GPU, and those the kernel may write are copied back
  /// before launch returns. Throws stn::Error for anything wrong, including
  /// "no CUDA driver: ..." on machines without one.
  void launch(Dim3 grid, Dim3 block, const std::vector<GpuArg> &args) const;
  template <class... Args>
    requires(std::is_constructible_v<GpuArg, Args> && ...)
  void launch(Dim3 grid, Dim3 block, Args &&...args) const {
    launch(grid, block, std::vector<GpuArg>{GpuArg(std::forward<Args>(args))...});
  }

  /// Stencils, ufuncs and gufuncs with target="cuda" (docs/gpu.md) run on
  /// the GPU when called: Kernel::call copies host arrays there and the
  /// result back. callOnDevice leaves the result on the GPU, as a new
  /// DeviceArray or in `out`; DeviceArray arguments are used in place, and
  /// when every array is one the call returns without waiting for the GPU.
  DeviceArray callOnDevice(const std::vector<GpuArg> &args) const;
  DeviceArray callOnDevice(const std::vector<GpuArg> &args, const DeviceArray &out) const;

  /// Calls a `@jit(target="cuda")` kernel (its prange loops on the GPU,
  /// docs/gpu.md) whose arrays may be DeviceArrays, used in place, and
  /// returns its result, e.g. a reduction over data that stays on the GPU:
  /// `double s = k.callWithDeviceArrays({dx}).asDouble();`. Host arrays
  /// are copied in (and back where the kernel may write them), as by call.
  Value callWithDeviceArrays(const std::vector<GpuArg> &args) const;

private:
  friend class Module;
  Kernel(std::shared_ptr<detail::ModuleImpl> impl, std::string name)
      : Impl(std::move(impl)), Name(std::move(name)) {}
  std::shared_ptr<detail::ModuleImpl> Impl;
  std::string Name;
};

/// The stn version string, e.g. "0.1.0".
const char *version();

} // namespace stn

#endif // STN_ENGINE_H
