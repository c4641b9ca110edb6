//===- Engine.cpp - Load .stn files, specialize and call kernels ----------===//
//
// The host API's core. A call goes:
//   arguments -> argument types (dtype, rank, layout) -> the explicit
//   signature that accepts them, if the kernel has any -> cached compiled
//   specialization, or Sema + codegen + JIT under the module's lock ->
//   marshalled into the packed entry ABI (Pipeline.h) -> results unpacked
//   into stn::Value (arrays are copied into owning arrays).
// Errors become stn::Error carrying formatted diagnostics.
//
//===----------------------------------------------------------------------===//

#include "stn/Engine.h"
#include "stn/Compiler/Parser.h"
#include "stn/Compiler/Pipeline.h"

#include "Backend.h"
#include "stn/Compiler/Sema.h"
#include "stn/Compiler/GpuRegions.h"
#include "stn/Compiler/WrittenParams.h"

#include "Cache.h"
#include "CallChecks.h"
#include "Cuda.h"
#include "CudaSim.h"
#include "KernelFault.h"
#include "KernelRuntime.h"

#include <dlfcn.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <optional>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace stn {

const char *version() { return STN_VERSION; }

bool parseStage(std::string_view name, Stage &out) {
  static const std::pair<const char *, Stage> table[] = {
      {"ast", Stage::AST},         {"typed", Stage::Typed},
      {"mlir", Stage::MLIR},       {"lowered", Stage::Lowered},
      {"mlir-lowered", Stage::Lowered}, {"llvm", Stage::LLVM},
      {"asm", Stage::Asm},         {"ptx", Stage::PTX},
      {"diagnostics", Stage::Diagnostics}};
  for (auto &[n, s] : table)
    if (name == n) {
      out = s;
      return true;
    }
  return false;
}

namespace {
thread_local std::string LastWarnings;

std::string warningsOf(const DiagnosticEngine &diags) {
  std::string s;
  for (auto &d : diags.diagnostics())
    if (d.severity == Severity::Warning)
      s += DiagnosticEngine::format(d);
  return s;
}

Type typeOfDType(DType dt) { return Type::scalar(static_cast<ScalarKind>(dt)); }
DType dtypeOf(ScalarKind k) { return static_cast<DType>(k); }
} // namespace

namespace detail {

/// One compiled specialization. A cache hit rebuilds it from the entry
/// file without type inference: a field added here must be stored in the
/// entry too (Cache.cpp, serializeEntry/parseEntry, with a new format
/// version).
struct CompiledSpec {
  using EntryFn = void (*)(void **);
  EntryFn fn = nullptr;
  std::vector<Type> argTypes;
  Type resultType;
  std::vector<Type> resultLeaves; ///< resultType's leaves, for unpacking results
};

struct EngineImpl {
  EngineOptions options;
  std::mutex jitMutex;
  void *jit = nullptr;                ///< the back end's JIT, created on first use
  std::vector<LoadedObject> sharedObjects; ///< cached kernels loaded with dlopen (keyedMutex)

  /// Cache entries being linked and written in the background (the call
  /// that compiled them does not wait for the linker).
  std::mutex pendingMutex;
  std::vector<std::thread> pending;

  void flushPendingStores() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(pendingMutex);
      threads.swap(pending);
    }
    for (auto &t : threads)
      t.join();
  }

  ~EngineImpl() {
    flushPendingStores();
    if (jit)
      backend().destroyJIT(jit);
    for (auto &obj : sharedObjects)
      unloadSharedObject(obj);
  }
  std::atomic<unsigned> counter{0};
  std::unique_ptr<CacheSession> cache; ///< the on-disk cache (Cache.h)
  std::mutex keyedMutex;               ///< guards keyed
  /// Specializations with a cache key, by key digest: every module of this
  /// engine shares them, and their entry symbol (derived from the key) is
  /// defined in the JIT only once.
  std::map<std::string, std::shared_ptr<CompiledSpec>> keyed;

  std::shared_ptr<CompiledSpec> findKeyed(const std::string &digest) {
    std::lock_guard<std::mutex> lock(keyedMutex);
    auto it = keyed.find(digest);
    return it == keyed.end() ? nullptr : it->second;
  }

  /// Links `object` and returns its specialization; with a `digest`, the
  /// one already linked for it wins. Null with a message in `err`.
  /// A shared object (from the cache) loads with dlopen, without LLVM;
  /// otherwise the object goes to the back end's JIT.
  std::shared_ptr<CompiledSpec> link(const std::string &digest, const std::string &object,
                                     const std::string &sharedObject, const std::string &symbol,
                                     std::vector<Type> argTypes, Type resultType,
                                     std::string &err) {
    std::lock_guard<std::mutex> lock(keyedMutex);
    if (!digest.empty())
      if (auto it = keyed.find(digest); it != keyed.end())
        return it->second;
    void *addr = nullptr;
    if (!sharedObject.empty()) {
      LoadedObject obj;
      addr = loadSharedObject(sharedObject, symbol, obj, err);
      if (addr)
        sharedObjects.push_back(obj);
    } else {
      addr = backend().addObject(getJIT(), object, symbol, err);
    }
    if (!addr)
      return nullptr;
    auto spec = std::make_shared<CompiledSpec>();
    spec->fn = reinterpret_cast<CompiledSpec::EntryFn>(addr);
    spec->argTypes = std::move(argTypes);
    spec->resultType = std::move(resultType);
    spec->resultType.collectLeaves(spec->resultLeaves);
    if (!digest.empty())
      keyed[digest] = spec;
    return spec;
  }

  void *getJIT() {
    std::lock_guard<std::mutex> lock(jitMutex);
    if (!jit) {
      std::string err;
      jit = backend().createJIT(runtimeSymbols(), err);
      if (!jit)
        throw Error("cannot initialize the JIT: " + err);
    }
    return jit;
  }
};

struct ModuleImpl {
  std::shared_ptr<EngineImpl> engine;
  std::unique_ptr<Program> program;
  std::vector<std::string> warnings; ///< of loading (Module::warnings)
  std::mutex mutex; ///< guards program (specialization), specs and writes
  /// What each specialization may write (WrittenParams.h), for calls that
  /// pass read-only arrays.
  std::map<const TypedFunction *, std::vector<std::optional<ParamWrite>>> writes;
  std::map<std::string, std::shared_ptr<CompiledSpec>> specs;
  /// The same specializations, found without building their key string:
  /// what a call looks up (by specHash, then compared).
  struct SpecEntry {
    const KernelDecl *kernel;
    bool hasOut;
    std::vector<Type> args;
    std::shared_ptr<CompiledSpec> spec;
  };
  std::unordered_multimap<uint64_t, SpecEntry> specsByHash;

  static uint64_t typeHash(const Type &t) {
    uint64_t h = static_cast<uint64_t>(t.kind()) | static_cast<uint64_t>(t.scalarKind()) << 8 |
                 static_cast<uint64_t>(t.rank()) << 16 | static_cast<uint64_t>(t.layout()) << 24;
    if (t.isTuple())
      for (const Type &e : t.elements())
        h = h * 0x100000001b3ULL ^ typeHash(e);
    return h;
  }
  static uint64_t specHash(const KernelDecl &k, const std::vector<Type> &args, bool hasOut) {
    uint64_t h = reinterpret_cast<uintptr_t>(&k) ^ (hasOut ? 0x9e3779b97f4a7c15ULL : 0);
    for (const Type &t : args)
      h = (h ^ typeHash(t)) * 0x100000001b3ULL;
    return h;
  }
  /// GPU kernels by signature and target architecture (Cuda.h).
  std::map<std::string, std::shared_ptr<GpuSpec>> gpuSpecs;

  /// The compiled GPU kernel `k` for `args` and `arch`, from memory, the
  /// disk cache (the architecture is part of the key) or the back end.
  std::shared_ptr<GpuSpec> getGpuSpec(const KernelDecl &k, const std::vector<Type> &args,
                                      const std::string &arch, bool hasOut = false) {
    std::string key = k.def->name + "(" + describeTypes(args);
    key += (hasOut ? ", out=) " : ") ") + arch;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = gpuSpecs.find(key); it != gpuSpecs.end())
      return it->second;
    auto spec = std::make_shared<GpuSpec>();
    if (cudaSimulatorEnabled()) {
      DiagnosticEngine diags;
      TypedFunction *tf = program->specialize(k, args, diags, hasOut);
      if (!tf)
        throw Error(diags.format());
      compileForSimulator(k, *tf, *spec);
      gpuSpecs[key] = spec;
      return spec;
    }
    CacheSession &cache = *engine->cache;
    std::optional<CacheKey> ck;
    bool found = false;
    if (cache.enabled() && k.options.cache) {
      ck = computeCacheKey(*program, k, args, engine->options.optLevel, cache.config().version,
                           (hasOut ? "gpu out " : "gpu ") + arch);
      if (auto hit = cache.lookup(*ck)) {
        found = hit->argTypes.size() == args.size() && parseGpuBinary(hit->object, spec->binary);
        if (found)
          spec->argTypes = hit->argTypes;
        else
          cache.discard(*ck, "it is not a GPU kernel of this signature");
      }
    }
    if (!found) {
      DiagnosticEngine diags;
      TypedFunction *tf = program->specialize(k, args, diags, hasOut);
      if (!tf)
        throw Error(diags.format());
      bool ok = backend().compileGPU(*tf, arch, engine->options.optLevel, spec->binary, diags);
      cache.noteCompilation();
      if (!ok)
        throw Error(diags.format());
      spec->argTypes = tf->argTypes;
      if (ck)
        cache.store(*ck, tf->argTypes, tf->resultType, serializeGpuBinary(spec->binary), {});
    }
    gpuSpecs[key] = spec;
    return spec;
  }

  /// Compiles `tf` into an object (`object`) exporting `symbol`, for the
  /// CPU or, with `gpuSimulator`, as a GPU kernel for the CUDA simulator
  /// (then `simWrites` gets the parameters it may write), and links it into
  /// the JIT (keyed by `digest` unless empty).
  std::shared_ptr<CompiledSpec> compileAndLink(const KernelDecl &k, const TypedFunction &tf,
                                               const std::string &symbol,
                                               const std::string &digest, bool gpuSimulator,
                                               std::string &object,
                                               std::vector<bool> *simWrites = nullptr) {
    DiagnosticEngine diags;
    unsigned opt = engine->options.optLevel;
    std::vector<bool> unused;
    bool ok = gpuSimulator ? backend().compileGPUSimulator(tf, symbol, opt, object,
                                                           simWrites ? *simWrites : unused, diags)
                           : backend().compileToObject(tf, symbol, opt, object, diags);
    engine->cache->noteCompilation();
    if (!ok)
      throw Error(diags.format());
    std::string err;
    // A simulated kernel returns nothing (a driver writes its out=).
    auto spec = engine->link(digest, object, std::string(), symbol, tf.argTypes,
                             gpuSimulator ? Type::none() : tf.resultType, err);
    if (!spec)
      throw Error(fmt::format("internal compiler error: cannot load the compiled kernel '{}': {}",
                              k.def->name, err));
    return spec;
  }

  /// Compiles the GPU kernel `tf` (of `k`) for the CUDA simulator
  /// (CudaSim.h): CPU code in this process's JIT, not cached on disk. Call
  /// with `mutex` held.
  void compileForSimulator(const KernelDecl &k, const TypedFunction &tfRef, GpuSpec &spec) {
    const TypedFunction *tf = &tfRef;
    std::string symbol =
        fmt::format("__stn_sim_{}_{}", engine->counter.fetch_add(1), tf->symbol);
    std::string object;
    std::vector<bool> writes;
    auto compiled =
        compileAndLink(k, *tf, symbol, std::string(), /*gpuSimulator=*/true, object, &writes);
    auto sim = std::make_shared<SimKernel>();
    sim->entry = compiled->fn;
    sim->code = compiled;
    for (const Type &t : tf->argTypes)
      sim->ranks.push_back(t.isArray() ? static_cast<int>(t.rank()) : -1);
    // syncthreads() anywhere in the kernel or its device functions, or the
    // block reduction of a GPU loop (MLIRGen.cpp, blockReduce).
    sim->barriers =
        (tf->regionHost && !tf->regionHost->gpuRegions.at(tf->regionIndex).reductions.empty()) ||
        anyReachable(*tf, [](const TypedFunction &f) {
          return std::any_of(f.gpu.begin(), f.gpu.end(),
                             [](const auto &eg) { return eg.second.op == GpuOp::SyncThreads; });
        });
    spec.sim = sim;
    spec.argTypes = tf->argTypes;
    spec.binary.arch = "sim";
    spec.binary.kernelName = tf->symbol;
    // The same host arrays are copied back as after a GPU launch, so that
    // the simulator's tests check the analysis (writtenParameters).
    spec.binary.writes = std::move(writes);
  }

  /// What a call of the `@jit(target="cuda")` kernel `k` needs besides its
  /// host part (GpuRegions.h): its GPU regions, compiled, and which
  /// arguments it may write.
  struct GpuLoopPlan {
    std::vector<GpuRegionLaunch> regions;
    std::vector<bool> writes;
  };
  std::map<std::string, std::shared_ptr<GpuLoopPlan>> gpuLoopPlans;

  /// The GpuLoopPlan of `k` for `args` on `arch`: each region's kernel from
  /// memory, the disk cache (the region and architecture are part of the
  /// key) or the back end.
  std::shared_ptr<GpuLoopPlan> gpuLoopPlan(const KernelDecl &k, const std::vector<Type> &args,
                                           const std::string &arch) {
    std::string key = k.def->name + "(" + describeTypes(args) + ") " + arch;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = gpuLoopPlans.find(key); it != gpuLoopPlans.end())
      return it->second;
    DiagnosticEngine diags;
    TypedFunction *tf = program->specialize(k, args, diags);
    if (!tf)
      throw Error(diags.format());
    auto plan = std::make_shared<GpuLoopPlan>();
    for (auto &w : writtenParameters(*tf))
      plan->writes.push_back(w.has_value());
    CacheSession &cache = *engine->cache;
    for (size_t r = 0; r < tf->gpuRegions.size(); ++r) {
      const GpuRegion &region = tf->gpuRegions[r];
      const TypedFunction &kt = *region.kernel;
      GpuRegionLaunch launch;
      launch.paramSlots = gpuRegionParamSlots(kt);
      launch.reductions = gpuRegionReductionCells(region, *tf);
      launch.dims = static_cast<unsigned>(region.loops.size());
      launch.spec = std::make_shared<GpuSpec>();
      GpuSpec &spec = *launch.spec;
      spec.argTypes = kt.argTypes;
      if (cudaSimulatorEnabled()) {
        compileForSimulator(k, kt, spec);
        plan->regions.push_back(launch);
        continue;
      }
      std::optional<CacheKey> ck;
      bool found = false;
      if (cache.enabled() && k.options.cache) {
        ck = computeCacheKey(*program, k, args, engine->options.optLevel,
                             cache.config().version, fmt::format("gpu loop {} {}", r, arch));
        if (auto hit = cache.lookup(*ck)) {
          found = hit->argTypes == kt.argTypes && parseGpuBinary(hit->object, spec.binary);
          if (!found)
            cache.discard(*ck, "it is not the GPU loop of this signature");
        }
      }
      if (!found) {
        bool ok = backend().compileGPU(kt, arch, engine->options.optLevel, spec.binary, diags);
        cache.noteCompilation();
        if (!ok)
          throw Error(diags.format());
        if (ck)
          cache.store(*ck, kt.argTypes, Type::none(), serializeGpuBinary(spec.binary), {});
      }
      plan->regions.push_back(launch);
    }
    gpuLoopPlans[key] = plan;
    return plan;
  }

  /// The argument types of a target="cuda" driver (GPUPipeline.h) for
  /// inputs of `types`: those and a C-contiguous out= array of the result's
  /// element type and rank. Call with `mutex` held.
  std::vector<Type> gpuDriverTypes(const KernelDecl &k, std::vector<Type> types) {
    DiagnosticEngine diags;
    TypedFunction *tf = program->specialize(k, types, diags);
    if (!tf)
      throw Error(diags.format());
    const Type &r = tf->resultType;
    if (!r.isArray())
      throw Error(fmt::format(
          "error: '{}' has target=\"cuda\" but these arguments ({}) give a result of type {}: "
          "GPU calls need an array result to spread over the grid (pass arrays, or call a "
          "target=\"cpu\" version)",
          k.def->name, describeTypes(types), r.describe()));
    types.push_back(Type::array(r.scalarKind(), r.rank(), Type::Layout::C));
    return types;
  }

  /// The argument types of the GPU kernel the host calls for the
  /// target="cuda" driver `k` given `args`: a ufunc signature's element
  /// types become 1-d arrays (as numba.cuda compiles them), and an out= is
  /// added. Call with `mutex` held.
  std::vector<Type> gpuDriverArgs(const KernelDecl &k, std::vector<Type> args) {
    bool anyArray = std::any_of(args.begin(), args.end(), [](auto &t) { return t.isArray(); });
    if (!anyArray)
      for (auto &t : args)
        if (t.isScalar())
          t = Type::array(t.scalarKind(), 1, Type::Layout::C);
    return gpuDriverTypes(k, std::move(args));
  }

  /// Generates the GPU code of `k` for `args` (a GPU kernel, a target="cuda"
  /// driver, or the GPU loops of a @jit(target="cuda") kernel) up to MLIR,
  /// which needs no device, so that the errors only GPU code generation
  /// finds (an array allocated in GPU code) are reported when a file with
  /// explicit signatures is loaded, as the CPU kernels' are. The code itself
  /// is made for the device on the first launch. Call with `mutex` held.
  void checkGpuCode(const KernelDecl &k, std::vector<Type> args) {
    bool driver = isGpuDriver(k);
    // A gufunc signature gives core types; the driver loops over (at least)
    // one more axis.
    if (driver && k.kind == KernelKind::Gufunc)
      for (Type &t : args)
        if (t.isArray())
          t = t.withRank(t.rank() + 1, t.layout());
    if (driver)
      args = gpuDriverArgs(k, std::move(args));
    DiagnosticEngine diags;
    TypedFunction *tf = program->specialize(k, args, diags, driver);
    if (!tf)
      throw Error(diags.format());
    std::vector<const TypedFunction *> kernels;
    if (k.kind == KernelKind::Gpu || driver)
      kernels.push_back(tf);
    else
      for (const GpuRegion &r : tf->gpuRegions)
        kernels.push_back(r.kernel.get());
    for (const TypedFunction *g : kernels) {
      std::string ir;
      if (!backend().emitGPUStage(*g, static_cast<int>(IRStage::MLIR), "sm_90",
                                  engine->options.optLevel, ir, diags))
        throw Error(diags.format());
    }
  }

  static std::string describeTypes(const std::vector<Type> &types) {
    std::string s;
    for (size_t i = 0; i < types.size(); ++i)
      s += (i ? ", " : "") + types[i].str();
    return s;
  }

  /// Throws if the call would write into an argument the host marked
  /// read-only (WrittenParams.h; analysed only for calls that pass one).
  void checkReadOnly(const KernelDecl &k, const std::vector<Type> &types,
                     const std::vector<Arg> &args, bool hasOut) {
    bool any = false;
    for (size_t i = 0; i < args.size(); ++i)
      any |= args[i].isArray() && args[i].array().readonly;
    if (!any)
      return;
    std::lock_guard<std::mutex> lock(mutex);
    DiagnosticEngine diags;
    TypedFunction *tf = program->specialize(k, types, diags, hasOut);
    if (!tf)
      throw Error(diags.format());
    auto [it, fresh] = writes.try_emplace(tf);
    if (fresh) // once per specialization, not per call
      it->second = writtenParameters(*tf);
    const auto &written = it->second;
    for (size_t i = 0; i < args.size() && i < written.size(); ++i) {
      if (!args[i].isArray() || !args[i].array().readonly || !written[i])
        continue;
      std::string param =
          i < k.def->params.size() ? "'" + k.def->params[i].name + "'" : std::string("out=");
      Diagnostic d;
      d.file = written[i]->function->file;
      d.range = written[i]->range;
      d.message = fmt::format("argument {} of kernel '{}' is read-only, but the kernel may write "
                              "to it here",
                              param, k.def->name);
      d.hint = "pass a writable array (or a copy), or clear ArrayView::readonly if writing is "
               "intended";
      throw Error(DiagnosticEngine::format(d));
    }
  }

  const KernelDecl &kernel(std::string_view name) {
    const KernelDecl *k = program->kernel(name);
    if (k && k->def->isLocal())
      throw Error(fmt::format("{}: error: '{}' is a local function of '{}': only the function "
                              "that defines it calls it",
                              program->file()->name(), name, k->def->enclosing));
    if (!k) {
      std::vector<std::string> names;
      for (auto &kd : program->kernels())
        if (!kd.def->isLocal())
          names.push_back(kd.def->name);
      std::string best = closestMatch(name, names);
      throw Error(fmt::format("{}: error: no kernel named '{}'{}", program->file()->name(), name,
                              best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best)));
    }
    return *k;
  }

  /// Compiles (or finds) the specialization of `k` for `args`. Caller holds
  /// no lock.
  std::shared_ptr<CompiledSpec> getSpec(const KernelDecl &k, const std::vector<Type> &args,
                                        bool hasOut = false) {
    uint64_t hash = specHash(k, args, hasOut);
    std::lock_guard<std::mutex> lock(mutex);
    for (auto [it, end] = specsByHash.equal_range(hash); it != end; ++it)
      if (it->second.kernel == &k && it->second.hasOut == hasOut && it->second.args == args)
        return it->second.spec;
    std::string key = k.def->name + "(" + describeTypes(args);
    key += hasOut ? ", out=)" : ")";
    auto it = specs.find(key);
    if (it != specs.end()) {
      specsByHash.emplace(hash, SpecEntry{&k, hasOut, args, it->second});
      return it->second;
    }
    std::shared_ptr<CompiledSpec> spec;
    CacheSession &cache = *engine->cache;
    if (cache.enabled() && k.options.cache) {
      // Every input of Program::specialize must reach the key.
      CacheKey ck = computeCacheKey(*program, k, args, engine->options.optLevel,
                                    cache.config().version, hasOut ? "out=" : "");
      spec = engine->findKeyed(ck.digest);
      bool linkFailed = false;
      if (!spec)
        spec = loadCached(ck, args.size(), linkFailed);
      if (!spec)
        spec = compile(k, args, hasOut, &ck, !linkFailed);
    } else {
      spec = compile(k, args, hasOut, nullptr, false);
    }
    specs[key] = spec;
    specsByHash.emplace(hash, SpecEntry{&k, hasOut, args, spec});
    return spec;
  }

  /// The specialization from the disk cache, or null on a miss.
  std::shared_ptr<CompiledSpec> loadCached(const CacheKey &ck, size_t numArgs,
                                           bool &linkFailed) {
    auto hit = engine->cache->lookup(ck);
    if (!hit)
      return nullptr;
    if (hit->argTypes.size() != numArgs) {
      engine->cache->discard(ck, "its signature does not fit the call");
      return nullptr;
    }
    std::string err;
    auto spec = engine->link(ck.digest, hit->object, hit->sharedObject, cachedEntrySymbol(ck),
                             std::move(hit->argTypes), hit->resultType, err);
    if (!spec) {
      linkFailed = true;
      engine->cache->discard(ck, err);
    }
    return spec;
  }

  /// Type inference, MLIR and LLVM: the specialization compiled and linked;
  /// with `store`, written to the disk cache under `ck`.
  std::shared_ptr<CompiledSpec> compile(const KernelDecl &k, const std::vector<Type> &args,
                                        bool hasOut, const CacheKey *ck, bool store) {
    DiagnosticEngine diags;
    TypedFunction *tf = program->specialize(k, args, diags, hasOut);
    if (!tf)
      throw Error(diags.format());
    // A cached entry's symbol is the same in every process. (After a cached
    // object failed to link, that symbol may be taken: use a fresh one.)
    std::string symbol =
        store ? cachedEntrySymbol(*ck)
              : fmt::format("__stn_entry_{}_{}", engine->counter.fetch_add(1), tf->symbol);
    std::string object;
    auto spec = compileAndLink(k, *tf, symbol, ck ? ck->digest : std::string(),
                               /*gpuSimulator=*/false, object);
    if (store) {
      // Later processes load the kernel as a shared object without LLVM;
      // without a linker the entry holds the object for the JIT only. The
      // linker runs in the background: this call need not wait for it.
      CacheSession *cache = engine->cache.get();
      std::thread t([cache, key = *ck, args = tf->argTypes, result = tf->resultType,
                     object = std::move(object)] {
        std::string so, linkError;
        if (!linkerPath().empty() && !linkSharedObject(object, so, linkError))
          so.clear();
        cache->store(key, args, result, object, so);
      });
      std::lock_guard<std::mutex> lock(engine->pendingMutex);
      engine->pending.push_back(std::move(t));
    }
    return spec;
  }
};

} // namespace detail

//===----------------------------------------------------------------------===//
// Engine
//===----------------------------------------------------------------------===//

Engine::Engine(EngineOptions options) : Impl(std::make_shared<detail::EngineImpl>()) {
  if (options.optLevel > 3)
    throw Error("optLevel must be between 0 and 3");
  Impl->options = options;
  Impl->cache = std::make_unique<detail::CacheSession>(detail::resolveCacheConfig(options),
                                                       options.onWarning);
}

Engine::~Engine() = default;

std::string Engine::lastWarnings() { return LastWarnings; }

std::vector<std::string> Engine::takeWarnings() {
  Impl->flushPendingStores();
  return Impl->cache->takeWarnings();
}

CacheStats Engine::cacheStats() const {
  Impl->flushPendingStores();
  return Impl->cache->stats();
}

Module Engine::loadString(std::string_view source, std::string_view name) {
  LastWarnings.clear();
  auto file = std::make_shared<const SourceFile>(std::string(name), std::string(source));
  DiagnosticEngine diags;
  auto program = Program::load(file, diags);
  LastWarnings = warningsOf(diags);
  if (!program)
    throw Error(diags.format());
  auto impl = std::make_shared<detail::ModuleImpl>();
  impl->engine = Impl;
  impl->program = std::move(program);
  for (auto &d : diags.diagnostics())
    if (d.severity == Severity::Warning)
      impl->warnings.push_back(DiagnosticEngine::format(d));
  // Explicit signatures compile eagerly (like Numba's @jit("sig") and
  // @vectorize/@guvectorize signature lists). A ufunc's signature gives
  // element types (compiled for scalars, the core every array call reuses);
  // a gufunc's gives its inputs' core types (compiled for arrays of exactly
  // the core rank).
  // Every kernel is compiled even after one failed, so that independent
  // errors in several kernels are all reported at once (each only once: a
  // kernel that calls a broken kernel repeats its callee's diagnostics).
  std::string errors;
  for (auto &k : impl->program->kernels())
    for (auto &sig : k.signatures) {
      // A device function is checked with the kernels that call it.
      if (k.gpuDevice)
        continue;
      std::vector<Type> args = sig.args;
      if (k.kind == KernelKind::Gufunc)
        args.resize(std::min(args.size(), Program::hostArity(k)));
      try {
        // GPU code is made on the first launch, for the device's
        // architecture; here it is only generated, to report its errors.
        if (k.kind != KernelKind::Gpu)
          impl->getSpec(k, args);
        if (k.kind == KernelKind::Gpu || isGpuDriver(k) || k.gpuLoops()) {
          std::lock_guard<std::mutex> lock(impl->mutex);
          impl->checkGpuCode(k, args);
        }
      } catch (const Error &e) {
        if (errors.find(e.what()) == std::string::npos)
          errors += e.what();
      }
    }
  if (!errors.empty())
    throw Error(errors);
  return Module(impl);
}

namespace {
std::string readSource(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("error: cannot open '{}': {}", path, std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    throw Error(fmt::format("error: cannot read '{}'", path));
  return ss.str();
}
} // namespace

Module Engine::loadFile(const std::string &path) { return loadString(readSource(path), path); }

std::string Engine::parseToAST(const std::string &path, std::string_view kernel) {
  auto file = std::make_shared<const SourceFile>(path, readSource(path));
  DiagnosticEngine diags;
  auto module = parseModule(file, diags);
  if (!module || diags.hasErrors())
    throw Error(diags.format());
  if (kernel.empty())
    return ast::printModule(*module);
  const ast::FunctionDef *f = module->findFunction(kernel);
  if (!f)
    throw Error(fmt::format("{}: error: no function named '{}'", path, kernel));
  return ast::printFunction(*f, *file);
}

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

const std::vector<std::string> &Module::warnings() const { return Impl->warnings; }

Kernel Module::kernel(std::string_view name) const {
  Impl->kernel(name);
  return Kernel(Impl, std::string(name));
}

std::vector<std::string> Module::kernelNames() const {
  std::vector<std::string> names;
  for (auto &k : Impl->program->kernels())
    if (!k.def->isLocal())
      names.push_back(k.def->name);
  return names;
}

std::string Module::emitAST() const { return ast::printModule(Impl->program->module()); }

std::string Module::emit(std::string_view kernelName, std::string_view signature,
                         Stage stage) const {
  const KernelDecl &k = Impl->kernel(kernelName);
  if (stage == Stage::AST)
    return ast::printFunction(*k.def, *Impl->program->file());
  DiagnosticEngine diags;
  std::vector<Type> args;
  bool haveSig = signature.find_first_not_of(" \t") != std::string_view::npos;
  if (haveSig) {
    auto sig = parseSignatureString(std::string(signature), "<--sig>", diags);
    if (!sig)
      throw Error(diags.format());
    args = sig->args;
    // Parameters the signature leaves out take their default values' types.
    for (size_t i = args.size(); i < k.defaults.size() && k.defaults[i]; ++i)
      args.push_back(k.defaults[i]->type);
    // A kernel's signatures give its argument types; a ufunc's and a
    // gufunc's give element types and core types, which its specialization
    // checks against the arrays it is called with (as a call does).
    if (!k.signatures.empty() && (k.kind == KernelKind::Jit || k.kind == KernelKind::Gpu)) {
      std::string err;
      const Signature *s = Impl->program->matchSignature(k, args, err);
      if (!s)
        throw Error("error: " + err);
      args = s->args;
    }
  } else if (!k.signatures.empty()) {
    // The first signature; a gufunc's without its out-parameters, which
    // the compiled kernel allocates (as a call without out= does).
    args = k.signatures.front().args;
    if (k.kind == KernelKind::Gufunc)
      args.resize(std::min(args.size(), Program::hostArity(k)));
  } else if (!k.def->params.empty()) {
    throw Error(fmt::format("error: '{}' has no explicit signature; give the argument types "
                            "with --sig, e.g. --sig \"f64[:, :], i64\"",
                            k.def->name));
  }
  std::lock_guard<std::mutex> lock(Impl->mutex);
  bool gpuDriver = isGpuDriver(k);
  if (gpuDriver) // the kernel the host calls
    args = Impl->gpuDriverArgs(k, args);
  TypedFunction *tf = Impl->program->specialize(k, args, diags, gpuDriver);
  if (!tf)
    throw Error(diags.format());
  if (stage == Stage::Typed)
    return printTyped(*tf);
  if (stage == Stage::Diagnostics && (k.kind == KernelKind::Gpu || gpuDriver))
    throw Error(fmt::format("error: '{}' is a GPU kernel: --emit=diagnostics reports on CPU "
                            "kernels (use --emit=ptx to see a GPU kernel's code)",
                            k.def->name));
  // GPU code: no device needed, the target is $STN_CUDA_ARCH, else sm_90
  // (H100/H200).
  auto gpuStage = [&](const TypedFunction &f) {
    const char *a = std::getenv("STN_CUDA_ARCH");
    std::string arch = a && *a ? (std::string(a).rfind("sm_", 0) == 0 ? a : "sm_" + std::string(a))
                               : "sm_90";
    arch.erase(std::remove(arch.begin(), arch.end(), '.'), arch.end());
    IRStage g = stage == Stage::MLIR      ? IRStage::MLIR
                : stage == Stage::Lowered ? IRStage::Lowered
                : stage == Stage::LLVM    ? IRStage::LLVM
                                          : IRStage::PTX;
    std::string out;
    if (!detail::backend().emitGPUStage(f, static_cast<int>(g), arch,
                                        Impl->engine->options.optLevel, out, diags))
      throw Error(diags.format());
    return out;
  };
  if (k.kind == KernelKind::Gpu || gpuDriver)
    return gpuStage(*tf);
  std::string regions;
  if (k.gpuLoops() && stage == Stage::PTX) {
    // The host part's checks (arrays it must not touch) come first.
    std::string host;
    if (!detail::backend().emitStage(*tf, static_cast<int>(IRStage::MLIR),
                                     Impl->engine->options.optLevel, host, diags))
      throw Error(diags.format());
  }
  if (k.gpuLoops() && stage != Stage::Asm && stage != Stage::Diagnostics) {
    // After the host part: each prange nest's GPU kernel at this stage.
    for (size_t r = 0; r < tf->gpuRegions.size(); ++r) {
      const GpuRegion &g = tf->gpuRegions[r];
      auto [line, col] = tf->file->lineCol(g.loops.front()->range().begin);
      regions += fmt::format("\n// stn: GPU loop {} of '{}' (line {}), kernel {}\n", r,
                             k.def->name, line, g.kernel->symbol);
      regions += gpuStage(*g.kernel);
    }
    if (stage == Stage::PTX)
      return regions.empty() ? regions : regions.substr(1);
  }
  if (stage == Stage::PTX)
    throw Error(fmt::format("error: '{}' is not a GPU kernel: --emit=ptx is for @cuda.jit / "
                            "@kernel functions and target=\"cuda\" stencils, ufuncs and gufuncs",
                            k.def->name));
  IRStage irs = stage == Stage::MLIR      ? IRStage::MLIR
                : stage == Stage::Lowered ? IRStage::Lowered
                : stage == Stage::LLVM    ? IRStage::LLVM
                : stage == Stage::Diagnostics ? IRStage::Diagnostics
                                          : IRStage::Asm;
  std::string out;
  if (!detail::backend().emitStage(*tf, static_cast<int>(irs), Impl->engine->options.optLevel, out,
                           diags))
    throw Error(diags.format());
  return out + regions;
}

//===----------------------------------------------------------------------===//
// Kernel calls
//===----------------------------------------------------------------------===//

std::vector<std::string> Kernel::parameterNames() const {
  std::vector<std::string> names;
  for (auto &p : Impl->kernel(Name).def->params)
    names.push_back(p.name);
  return names;
}

namespace {

/// Storage for one marshalled argument or result leaf.
struct Slot {
  alignas(16) unsigned char scalar[16] = {};
  /// Arrays: {alloc, aligned, offset, sizes, strides} (rank 8 at most), in
  /// place: marshalling a call allocates nothing per argument.
  std::array<int64_t, 3 + 2 * 8> descriptor;
  bool isArray = false;
  /// Makes this an array's slot of rank `r`, zeroed.
  int64_t *array(unsigned r) {
    isArray = true;
    std::fill_n(descriptor.begin(), 3 + 2 * r, 0);
    return descriptor.data();
  }
  void *ptr() { return isArray ? static_cast<void *>(descriptor.data()) : scalar; }
};

/// A default parameter value as the host passes it.
Arg defaultArgument(const ConstValue &c, const std::string &kernel, const std::string &param) {
  if (c.type.isNone())
    return Arg::none();
  if (!c.type.isScalar())
    throw Error(fmt::format("error: kernel '{}': parameter '{}' defaults to a tuple, which a "
                            "host call cannot pass; call '{}' from a kernel instead",
                            kernel, param, kernel));
  DType dt = dtypeOf(c.type.scalarKind());
  switch (c.type.scalarKind()) {
  case ScalarKind::Bool:
    return Scalar(c.i != 0);
  case ScalarKind::F32:
  case ScalarKind::F64:
    return Scalar::ofType(dt, c.f);
  case ScalarKind::C64:
    return Scalar(std::complex<float>(c.c));
  case ScalarKind::C128:
    return Scalar(c.c);
  case ScalarKind::U8:
  case ScalarKind::U16:
  case ScalarKind::U32:
  case ScalarKind::U64:
    return Scalar::ofType(dt, static_cast<int64_t>(c.u));
  default:
    return Scalar::ofType(dt, c.i);
  }
}

/// The arguments of a host call of @jit kernel `k` by parameter, bound as
/// Python binds them: positional ones, then keywords by name, then the
/// parameters' default values.
std::vector<Arg> bindArguments(const KernelDecl &k, const std::string &name,
                               const std::vector<Arg> &args, const Kernel::KwArgs &kwargs) {
  const auto &params = k.def->params;
  size_t n = params.size(), required = Program::requiredArity(k);
  auto names = [&] {
    std::string s;
    for (size_t i = 0; i < n; ++i)
      s += (i ? ", " : "") + params[i].name;
    return s;
  };
  if (args.size() > n || (kwargs.empty() && args.size() < required))
    throw Error(fmt::format("error: kernel '{}' takes {} argument{} ({}) but {} {} given", name,
                            required == n ? fmt::format("{}", n)
                                          : fmt::format("from {} to {}", required, n),
                            n == 1 ? "" : "s", names(), args.size(),
                            args.size() == 1 ? "was" : "were"));
  std::vector<std::optional<Arg>> bound(n);
  for (size_t i = 0; i < args.size(); ++i)
    bound[i] = args[i];
  for (const auto &[kw, value] : kwargs) {
    auto it = std::find_if(params.begin(), params.end(),
                           [&](const ast::Param &p) { return p.name == kw; });
    if (it == params.end())
      throw Error(fmt::format("error: kernel '{}' does not take the keyword argument '{}'; its "
                              "parameters are: {}",
                              name, kw, names()));
    size_t i = static_cast<size_t>(it - params.begin());
    if (bound[i])
      throw Error(fmt::format("error: kernel '{}' got two values for argument '{}'", name, kw));
    bound[i] = value;
  }
  std::vector<Arg> out;
  for (size_t i = 0; i < n; ++i) {
    if (bound[i])
      out.push_back(*bound[i]);
    else if (i < k.defaults.size() && k.defaults[i])
      out.push_back(defaultArgument(*k.defaults[i], name, params[i].name));
    else
      throw Error(fmt::format("error: kernel '{}' is missing argument '{}' (it has no default "
                              "value)",
                              name, params[i].name));
  }
  return out;
}

Type argumentType(const Arg &a, const std::string &param) {
  if (a.isNone())
    return Type::none();
  if (!a.isArray())
    return typeOfDType(a.scalar().dtype());
  const ArrayView &v = a.array();
  if (v.shape.empty())
    throw Error(fmt::format("error: argument '{}': 0-dimensional arrays are not supported; "
                            "pass a scalar",
                            param));
  if (v.shape.size() > 8)
    throw Error(fmt::format("error: argument '{}': arrays of more than 8 dimensions are not "
                            "supported",
                            param));
  if (v.strides.size() != v.shape.size())
    throw Error(fmt::format("error: argument '{}': {} strides given for {} dimensions", param,
                            v.strides.size(), v.shape.size()));
  int64_t item = static_cast<int64_t>(itemSize(v.dtype));
  for (size_t d = 0; d < v.shape.size(); ++d) {
    if (v.shape[d] < 0)
      throw Error(fmt::format("error: argument '{}': negative extent {} in dimension {}", param,
                              v.shape[d], d));
    if (v.strides[d] % item != 0)
      throw Error(fmt::format("error: argument '{}': stride {} of dimension {} is not a "
                              "multiple of the item size ({} bytes)",
                              param, v.strides[d], d, item));
  }
  if (v.size() > 0) {
    if (!v.data)
      throw Error(fmt::format("error: argument '{}': null data pointer", param));
    if (reinterpret_cast<uintptr_t>(v.data) % item != 0)
      throw Error(fmt::format("error: argument '{}': data pointer is not aligned to {} bytes",
                              param, item));
  }
  return Type::array(static_cast<ScalarKind>(v.dtype), v.shape.size(),
                     v.isCContiguous() ? Type::Layout::C : Type::Layout::Any);
}

/// The array of type `t` whose descriptor is `d` ({alloc, aligned, offset,
/// sizes, strides}): adopted without a copy where the kernel allocated it,
/// else (a view of an argument) copied.
Value arrayResult(const Type &t, const int64_t *d, detail::CallArena &arena) {
  unsigned r = t.rank();
  DType dt = dtypeOf(t.scalarKind());
  int64_t item = static_cast<int64_t>(itemSize(dt));
  char *aligned = reinterpret_cast<char *>(d[1]);
  int64_t offset = d[2];
  std::vector<int64_t> shape(r), strides(r);
  for (unsigned k = 0; k < r; ++k) {
    shape[k] = d[3 + k];
    strides[k] = d[3 + r + k] * item;
  }
  if (auto owner = arena.adopt(reinterpret_cast<void *>(d[0])))
    return Value(Array(owner, aligned + offset * item, dt, shape, strides));
  ArrayView view(aligned + offset * item, dt, shape, strides);
  return Value(Array::copyOf(view));
}

/// Builds the result; arrays the kernel allocated are adopted without a
/// copy, views of the arguments are copied. A list of arrays becomes a
/// tuple of them (its storages hold each item's descriptor, field by
/// field: Type::collectLeaves).
Value unpack(const Type &t, std::vector<Slot> &slots, size_t &pos, detail::CallArena &arena) {
  if (t.isArrayList()) {
    const Type item = t.listItem();
    const size_t fields = listArrayFields(item.rank());
    std::vector<const Slot *> storage;
    for (size_t f = 0; f < fields; ++f)
      storage.push_back(&slots[pos++]);
    int64_t n = 0;
    std::memcpy(&n, slots[pos++].scalar, sizeof n);
    std::vector<Value> items;
    std::vector<int64_t> d(fields);
    for (int64_t i = 0; i < n; ++i) {
      for (size_t f = 0; f < fields; ++f) {
        const int64_t *s = storage[f]->descriptor.data(); // a 1-d int64 array
        d[f] = reinterpret_cast<const int64_t *>(s[1])[s[2] + i * s[4]];
      }
      items.push_back(arrayResult(item, d.data(), arena));
    }
    return Value::tuple(std::move(items));
  }
  if (t.isTuple()) {
    std::vector<Value> elts;
    for (auto &e : t.elements())
      elts.push_back(unpack(e, slots, pos, arena));
    return Value::tuple(std::move(elts));
  }
  if (t.isScalar())
    return Value(Scalar::load(dtypeOf(t.scalarKind()), slots[pos++].scalar));
  if (t.isArray())
    return arrayResult(t, slots[pos++].descriptor.data(), arena);
  return Value();
}

} // namespace

/// Runs the target="cuda" driver of `k` (GPUPipeline.h) on the current
/// device: checks the shapes as for a CPU call, compiles (or finds) the
/// kernel for the inputs and an out= array, allocates the result on the
/// device unless `out` is given, and launches one thread per output element
/// (gpuDriverLaunch; a stencil's threads take GpuStencilRows rows each). Returns the new device array (null with `out`).
static DeviceArray runGpuDriver(detail::ModuleImpl &impl, const KernelDecl &k,
                                const std::vector<GpuArg> &args, const GpuArg *out) {
  const auto &params = k.def->params;
  std::vector<Type> types;
  std::vector<Arg> views; // for the shape checks
  bool anyArray = false;
  auto viewOf = [](const GpuArg &a) -> Arg {
    if (a.isScalar())
      return Arg(a.scalar());
    if (a.isHostArray())
      return Arg(a.hostArray());
    const DeviceArray &d = a.deviceArray();
    return Arg(ArrayView::contiguous(reinterpret_cast<void *>(d.devicePointer()), d.dtype(),
                                     d.shape()));
  };
  for (size_t i = 0; i < args.size(); ++i) {
    types.push_back(detail::gpuArgumentType(args[i], params[i].name));
    views.push_back(viewOf(args[i]));
    anyArray |= !args[i].isScalar();
  }
  if (!anyArray)
    throw Error(fmt::format("error: '{}' has target=\"cuda\": a GPU call needs at least one "
                            "array argument",
                            k.def->name));
  if (out) {
    if (out->isScalar())
      throw Error(fmt::format("error: out= of kernel '{}' must be an array", k.def->name));
    views.push_back(viewOf(*out));
  }
  std::vector<int64_t> shape =
      checkCallShapes(k, *impl.program->file(), views, out != nullptr);
  std::vector<Type> full;
  {
    std::lock_guard<std::mutex> lock(impl.mutex);
    full = impl.gpuDriverTypes(k, types);
  }
  if (out)
    full.back() = detail::gpuArgumentType(*out, "out");
  int device = gpu::currentDevice();
  std::string arch = detail::gpuTargetArch(device); // throws without a driver
  auto spec = impl.getGpuSpec(k, full, arch, /*hasOut=*/true);
  // A host out= gets the result from a device array (launchGpu would also
  // copy its old contents in, which the kernel overwrites).
  const ArrayView *hostOut = out && out->isHostArray() ? &out->hostArray() : nullptr;
  DeviceArray result;
  std::vector<GpuArg> launchArgs = args;
  if (out && !hostOut) {
    launchArgs.push_back(*out);
  } else {
    result = DeviceArray::empty(dtypeOf(full.back().scalarKind()), shape, device);
    launchArgs.push_back(result);
  }
  // The loop nest: the whole output (also of a gufunc stacked on a stencil,
  // MLIRGen's genGufunc), or a gufunc's outer dimensions.
  std::vector<int64_t> loop = shape;
  if (k.kind == KernelKind::Gufunc && !k.stencilCore)
    loop.resize(shape.size() - std::min(shape.size(), k.layout.outputs[0].size()));
  for (int64_t e : loop)
    if (e == 0)
      return result; // nothing to compute
  // Stencils compute several rows per thread.
  if (k.kind == KernelKind::Stencil || k.stencilCore) {
    size_t rank = k.stencilCore ? k.layout.outputs[0].size() : loop.size();
    loop = gpuStencilLoop(loop, rank);
  }
  GpuLaunchShape ls = gpuDriverLaunch(loop);
  detail::launchGpu(*spec, k, *impl.program->file(), Dim3(ls.grid[0], ls.grid[1], ls.grid[2]),
                    Dim3(ls.block[0], ls.block[1], ls.block[2]), launchArgs, device);
  if (hostOut) {
    result.copyToHost(*hostOut); // waits for the kernel
    return DeviceArray();
  }
  return result;
}

/// Calls the `@jit(target="cuda")` kernel `k` (GpuRegions.h): its host part
/// on this thread with the arrays in GPU memory (host arrays copied in, and
/// back where the kernel may write them), its prange nests on the current
/// device. Returns the host part's result; with `noResult` (callOnDevice),
/// a kernel that returns a value is refused before it runs.
/// The arguments of a @jit(target="cuda") kernel given DeviceArrays: the
/// parameters left out take their default values.
static std::vector<GpuArg> withDefaults(const KernelDecl &k, const std::string &name,
                                        const std::vector<GpuArg> &args) {
  size_t n = k.def->params.size(), required = Program::requiredArity(k);
  if (args.size() > n || args.size() < required)
    throw Error(fmt::format("error: kernel '{}' takes {} argument{} but {} {} given", name,
                            required == n ? fmt::format("{}", n)
                                          : fmt::format("from {} to {}", required, n),
                            n == 1 ? "" : "s", args.size(), args.size() == 1 ? "was" : "were"));
  std::vector<GpuArg> all = args;
  for (size_t i = args.size(); i < n; ++i) {
    Arg a = defaultArgument(*k.defaults[i], name, k.def->params[i].name);
    all.push_back(a.isNone() ? GpuArg::none() : GpuArg(a.scalar()));
  }
  return all;
}

static Value runGpuLoopKernel(detail::ModuleImpl &impl, const KernelDecl &k,
                              const std::vector<GpuArg> &args, bool noResult = false) {
  const auto &params = k.def->params;
  std::vector<Type> types;
  std::vector<Arg> views; // for the read-only check
  for (size_t i = 0; i < args.size(); ++i) {
    types.push_back(detail::gpuArgumentType(args[i], params[i].name));
    if (args[i].isNone())
      views.push_back(Arg::none());
    else if (args[i].isScalar())
      views.push_back(Arg(args[i].scalar()));
    else if (args[i].isHostArray())
      views.push_back(Arg(args[i].hostArray()));
    else
      views.push_back(Arg(ArrayView::contiguous(
          reinterpret_cast<void *>(args[i].deviceArray().devicePointer()),
          args[i].deviceArray().dtype(), args[i].deviceArray().shape())));
  }
  if (!k.signatures.empty()) {
    std::string err;
    const Signature *sig = impl.program->matchSignature(k, types, err);
    if (!sig)
      throw Error("error: " + err);
    types = Program::signatureTypes(*sig, types);
  }
  impl.checkReadOnly(k, types, views, false);
  // The host part first: its errors do not need a driver.
  auto spec = impl.getSpec(k, types);
  if (noResult && !spec->resultType.isNone())
    throw Error(fmt::format("error: kernel '{}' returns a value, which callOnDevice drops: "
                            "call it with Kernel::callWithDeviceArrays",
                            k.def->name));
  int device = gpu::currentDevice();
  std::string arch = detail::gpuTargetArch(device); // throws without a driver
  auto plan = impl.gpuLoopPlan(k, types, arch);
  const std::vector<Type> &leaves = spec->resultLeaves;
  std::vector<Slot> results(leaves.size());
  detail::CallArena arena;
  arena.setNumThreads(impl.engine->options.numThreads);
  detail::KernelFault fault;
  detail::runGpuLoops(k, *impl.program->file(), spec->argTypes, args, plan->writes,
                      plan->regions, device, [&](std::vector<void *> &ptrs) {
                        for (auto &r : results)
                          ptrs.push_back(r.ptr());
                        detail::CallArena::Scope scope(arena);
                        detail::runKernel(spec->fn, ptrs.data(), fault);
                      });
  if (fault.raised.load())
    throw Error(detail::formatFault(fault, *impl.program->file()));
  size_t pos = 0;
  return unpack(spec->resultType, results, pos, arena);
}

Value Kernel::call(const std::vector<Arg> &args) const { return call(args, {}); }

Value Kernel::call(const std::vector<Arg> &argsIn, const KwArgs &kwargs) const {
  const KernelDecl &k = Impl->kernel(Name);
  if (k.kind == KernelKind::Gpu)
    throw Error(fmt::format("error: '{}' is a GPU kernel: launch it with a grid and a block size "
                            "(Kernel::launch, or stn run --grid X --block Y)",
                            Name));
  if (k.gpuDevice)
    throw Error(fmt::format("error: '{}' is a GPU device function (device=True): only GPU "
                            "kernels can call it",
                            Name));
  const auto &params = k.def->params;
  size_t arity = Program::hostArity(k);
  // @jit kernels: keywords and default values bound to the parameters.
  std::vector<Arg> withOut;
  if (k.kind == KernelKind::Jit)
    withOut = bindArguments(k, Name, argsIn, kwargs);
  if (k.kind != KernelKind::Jit && argsIn.size() != arity) {
    std::string names;
    for (size_t i = 0; i < arity; ++i)
      names += (i ? ", " : "") + params[i].name;
    throw Error(fmt::format("error: kernel '{}' takes {} argument{} ({}) but {} {} given", Name,
                            arity, arity == 1 ? "" : "s", names, argsIn.size(),
                            argsIn.size() == 1 ? "was" : "were"));
  }
  // The arguments, with out= last (a copy only when there are keywords).
  if (!kwargs.empty() && k.kind != KernelKind::Jit)
    withOut = argsIn;
  const std::vector<Arg> &args =
      k.kind == KernelKind::Jit || !kwargs.empty() ? withOut : argsIn;
  bool hasOut = false;
  for (auto &[name, value] : k.kind == KernelKind::Jit ? Kernel::KwArgs{} : kwargs) {
    if (name != "out" || k.kind == KernelKind::Jit || hasOut)
      throw Error(fmt::format("error: kernel '{}' does not take the keyword argument '{}'{}",
                              Name, name,
                              k.kind == KernelKind::Jit ? ""
                                                        : " (stencils, ufuncs and gufuncs take out=)"));
    if (!value.isArray())
      throw Error(fmt::format("error: out= of kernel '{}' must be an array", Name));
    if (value.array().readonly)
      throw Error(fmt::format("error: out= of kernel '{}' is read-only", Name));
    hasOut = true;
    withOut.push_back(value);
  }
  if (k.gpuLoops()) {
    // target="cuda" @jit: the prange nests run on the GPU.
    std::vector<GpuArg> gpuArgs;
    for (const Arg &a : args)
      gpuArgs.push_back(a.isNone()    ? GpuArg::none()
                        : a.isArray() ? GpuArg(a.array())
                                      : GpuArg(a.scalar()));
    return runGpuLoopKernel(*Impl, k, gpuArgs);
  }
  if (isGpuDriver(k) &&
      std::any_of(argsIn.begin(), argsIn.end(), [](const Arg &a) { return a.isArray(); })) {
    // target="cuda": host arrays go to the GPU and the result comes back.
    // (A ufunc of scalars alone computes one value, on the CPU below.)
    std::vector<GpuArg> gpuArgs;
    for (size_t i = 0; i < arity; ++i)
      gpuArgs.push_back(args[i].isArray() ? GpuArg(args[i].array()) : GpuArg(args[i].scalar()));
    if (hasOut) {
      const ArrayView &o = args.back().array();
      GpuArg out(o);
      runGpuDriver(*Impl, k, gpuArgs, &out);
      return Value(Array(nullptr, o.data, o.dtype, o.shape, o.strides));
    }
    return Value(runGpuDriver(*Impl, k, gpuArgs, nullptr).toHost());
  }
  std::vector<Type> types;
  for (size_t i = 0; i < args.size(); ++i)
    types.push_back(argumentType(args[i], i < arity ? params[i].name : std::string("out")));
  checkCallShapes(k, *Impl->program->file(), args, hasOut);
  if (!k.signatures.empty() && k.kind == KernelKind::Jit) {
    std::string err;
    const Signature *sig = Impl->program->matchSignature(k, types, err);
    if (!sig)
      throw Error("error: " + err);
    types = Program::signatureTypes(*sig, types);
  }
  Impl->checkReadOnly(k, types, args, hasOut);
  auto spec = Impl->getSpec(k, types, hasOut);

  // The arguments' slots, then the result's leaves'.
  const std::vector<Type> &leaves = spec->resultLeaves;
  std::vector<Slot> slots(args.size() + leaves.size());
  std::vector<void *> ptrs;
  ptrs.reserve(slots.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const Type &t = spec->argTypes[i];
    if (t.isArray()) {
      const ArrayView &v = args[i].array();
      int64_t item = static_cast<int64_t>(itemSize(v.dtype));
      unsigned r = static_cast<unsigned>(v.shape.size());
      int64_t *d = slots[i].array(r);
      d[0] = d[1] = reinterpret_cast<int64_t>(v.data);
      for (unsigned j = 0; j < r; ++j) {
        d[3 + j] = v.shape[j];
        d[3 + r + j] = v.strides[j] / item;
      }
    } else if (t.isScalar()) {
      Scalar s = args[i].scalar();
      DType want = dtypeOf(t.scalarKind());
      if (s.dtype() != want) {
        if (s.isComplex() && !(want == DType::Complex64 || want == DType::Complex128))
          throw Error(fmt::format("error: argument '{}': cannot convert a complex number to {}",
                                  params[i].name, dtypeName(want)));
        if (want == DType::Complex64 || want == DType::Complex128)
          s = want == DType::Complex64 ? Scalar(std::complex<float>(s.asComplex()))
                                       : Scalar(s.asComplex());
        else if (want == DType::Float32 || want == DType::Float64)
          s = Scalar::ofType(want, s.asDouble());
        else if (want == DType::Bool)
          s = Scalar(s.asBool());
        else
          s = s.isFloat() ? Scalar::ofType(want, s.asDouble())
                          : (s.isUnsigned() ? Scalar::ofType(want, static_cast<int64_t>(s.asUInt()))
                                            : Scalar::ofType(want, s.asInt()));
      }
      s.store(slots[i].scalar);
    }
    ptrs.push_back(slots[i].ptr());
  }
  for (size_t i = 0; i < leaves.size(); ++i) {
    Slot &r = slots[args.size() + i];
    if (leaves[i].isArray())
      r.array(leaves[i].rank());
    ptrs.push_back(r.ptr());
  }
  detail::CallArena arena;
  arena.setNumThreads(Impl->engine->options.numThreads);
  detail::KernelFault fault;
  {
    detail::CallArena::Scope scope(arena);
    detail::runKernel(spec->fn, ptrs.data(), fault);
  }
  if (fault.raised.load())
    throw Error(detail::formatFault(fault, *Impl->program->file()));
  if (hasOut) {
    // The result is the caller's out= array itself.
    const ArrayView &o = args.back().array();
    return Value(Array(nullptr, o.data, o.dtype, o.shape, o.strides));
  }
  size_t pos = args.size();
  return unpack(spec->resultType, slots, pos, arena);
}

//===----------------------------------------------------------------------===//
// GPU launches (Cuda.cpp does the transfers and the launch)
//===----------------------------------------------------------------------===//

void Kernel::launch(Dim3 grid, Dim3 block, const std::vector<GpuArg> &args) const {
  const KernelDecl &k = Impl->kernel(Name);
  if (k.kind != KernelKind::Gpu)
    throw Error(fmt::format("error: '{}' is not a GPU kernel: only @cuda.jit / @kernel "
                            "functions are launched; call it with Kernel::call",
                            Name));
  const auto &params = k.def->params;
  if (args.size() != params.size()) {
    std::string names;
    for (size_t i = 0; i < params.size(); ++i)
      names += (i ? ", " : "") + params[i].name;
    throw Error(fmt::format("error: kernel '{}' takes {} argument{} ({}) but {} {} given", Name,
                            params.size(), params.size() == 1 ? "" : "s", names, args.size(),
                            args.size() == 1 ? "was" : "were"));
  }
  std::vector<Type> types;
  for (size_t i = 0; i < args.size(); ++i)
    types.push_back(detail::gpuArgumentType(args[i], params[i].name));
  if (!k.signatures.empty()) {
    std::string err;
    const Signature *sig = Impl->program->matchSignature(k, types, err);
    if (!sig)
      throw Error("error: " + err);
    types = Program::signatureTypes(*sig, types);
  }
  int device = gpu::currentDevice();
  std::string arch = detail::gpuTargetArch(device); // throws without a driver
  auto spec = Impl->getGpuSpec(k, types, arch);
  detail::launchGpu(*spec, k, *Impl->program->file(), grid, block, args, device);
}

Value Kernel::callWithDeviceArrays(const std::vector<GpuArg> &args) const {
  const KernelDecl &k = Impl->kernel(Name);
  if (!k.gpuLoops())
    throw Error(fmt::format("error: '{}' is not a @jit(target=\"cuda\") kernel: "
                            "callWithDeviceArrays runs those; {}",
                            Name,
                            isGpuDriver(k) ? "run a target=\"cuda\" stencil, ufunc or gufunc with "
                                             "callOnDevice"
                            : k.kind == KernelKind::Gpu ? "launch a GPU kernel with Kernel::launch"
                                                        : "call it with Kernel::call"));
  return runGpuLoopKernel(*Impl, k, withDefaults(k, Name, args));
}

DeviceArray Kernel::callOnDevice(const std::vector<GpuArg> &args) const {
  return callOnDevice(args, DeviceArray());
}

DeviceArray Kernel::callOnDevice(const std::vector<GpuArg> &args, const DeviceArray &out) const {
  const KernelDecl &k = Impl->kernel(Name);
  if (k.gpuLoops()) {
    if (!out.isNull())
      throw Error(fmt::format("error: kernel '{}' does not take out= (it is a @jit kernel)",
                              Name));
    runGpuLoopKernel(*Impl, k, withDefaults(k, Name, args), /*noResult=*/true);
    return DeviceArray();
  }
  if (!isGpuDriver(k))
    throw Error(fmt::format("error: '{}' is not a stencil, ufunc or gufunc with target=\"cuda\": "
                            "callOnDevice runs those; {}",
                            Name,
                            k.kind == KernelKind::Gpu ? "launch a GPU kernel with Kernel::launch"
                                                      : "call it with Kernel::call"));
  size_t arity = Program::hostArity(k);
  if (args.size() != arity)
    throw Error(fmt::format("error: kernel '{}' takes {} argument{} but {} {} given", Name, arity,
                            arity == 1 ? "" : "s", args.size(), args.size() == 1 ? "was" : "were"));
  if (out.isNull())
    return runGpuDriver(*Impl, k, args, nullptr);
  GpuArg o(out);
  runGpuDriver(*Impl, k, args, &o);
  return out;
}

} // namespace stn
