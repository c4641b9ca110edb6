//===- CudaSim.cpp - The CUDA simulator: GPU kernels on the CPU -----------===//
//
// See CudaSim.h. The driver table's functions are implemented here over
// host memory; error codes and names are the driver's own (CUDA_ERROR_*),
// so Cuda.cpp reports them exactly as it would a GPU's.
//
//===----------------------------------------------------------------------===//

#include "CudaSim.h"
#include "KernelRuntime.h"

#include <ucontext.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace stn::detail {

namespace {

constexpr CUresult Success = 0;
constexpr CUresult InvalidValue = 1;
constexpr CUresult OutOfMemory = 2;
constexpr CUresult InvalidDevice = 101;
constexpr CUresult NotSupported = 801;

// What a launch's threads see (GPUGen.h: code = 3 * kind + axis; kinds:
// thread index, block index, block extent, grid extent).
thread_local int64_t Index[12];

/// A block whose threads are fibers switching at syncthreads().
struct FiberBlock {
  SimKernel *kernel = nullptr;
  void **args = nullptr;
  ucontext_t scheduler;
  std::vector<ucontext_t> threads;
  std::vector<char> done;
  unsigned current = 0;
};
thread_local FiberBlock *CurrentBlock = nullptr;

/// Stack of one simulated thread (local arrays live there).
constexpr size_t FiberStack = 128 * 1024;

void setThread(unsigned t, const unsigned block[3]) {
  Index[0] = t % block[0];
  Index[1] = (t / block[0]) % block[1];
  Index[2] = t / (block[0] * block[1]);
}

void fiberMain() {
  FiberBlock *b = CurrentBlock;
  b->kernel->entry(b->args);
  b->done[b->current] = 1;
  // Returning resumes uc_link: the scheduler.
}

/// Runs the threads of one block as fibers: each runs until its next
/// barrier (or its end), then the next; a round ends when every thread has
/// reached the barrier, which is then passed.
void runFiberBlock(SimKernel &k, void **args, const unsigned block[3], char *stacks) {
  unsigned n = block[0] * block[1] * block[2];
  FiberBlock fb;
  fb.kernel = &k;
  fb.args = args;
  fb.threads.resize(n);
  fb.done.assign(n, 0);
  for (unsigned t = 0; t < n; ++t) {
    ucontext_t &c = fb.threads[t];
    getcontext(&c);
    c.uc_stack.ss_sp = stacks + static_cast<size_t>(t) * FiberStack;
    c.uc_stack.ss_size = FiberStack;
    c.uc_link = &fb.scheduler;
    makecontext(&c, fiberMain, 0);
  }
  FiberBlock *outer = CurrentBlock;
  CurrentBlock = &fb;
  for (unsigned left = n; left > 0;) {
    for (unsigned t = 0; t < n; ++t) {
      if (fb.done[t])
        continue;
      fb.current = t;
      setThread(t, block);
      swapcontext(&fb.scheduler, &fb.threads[t]);
      if (fb.done[t])
        --left;
    }
  }
  CurrentBlock = outer;
}

//===----------------------------------------------------------------------===//
// The driver table
//===----------------------------------------------------------------------===//

CUresult simInit(unsigned) { return Success; }
CUresult simDriverGetVersion(int *v) {
  *v = 0; // not a driver
  return Success;
}
/// The driver's name and description of each error the simulator returns.
struct SimError {
  CUresult code;
  const char *name, *text;
};
constexpr SimError Errors[] = {
    {Success, "CUDA_SUCCESS", "no error"},
    {InvalidValue, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {OutOfMemory, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {InvalidDevice, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {NotSupported, "CUDA_ERROR_NOT_SUPPORTED",
     "operation not supported (by the stn CUDA simulator)"},
};
CUresult describeError(CUresult r, const char **s, bool name) {
  for (const SimError &e : Errors)
    if (e.code == r) {
      *s = name ? e.name : e.text;
      return Success;
    }
  *s = nullptr;
  return InvalidValue;
}
CUresult simGetErrorName(CUresult r, const char **s) { return describeError(r, s, true); }
CUresult simGetErrorString(CUresult r, const char **s) { return describeError(r, s, false); }
CUresult simDeviceGetCount(int *n) {
  *n = 1;
  return Success;
}
CUresult simDeviceGet(CUdevice *d, int ordinal) {
  if (ordinal != 0)
    return InvalidDevice;
  *d = 0;
  return Success;
}
CUresult simDeviceGetName(char *name, int len, CUdevice) {
  std::strncpy(name, "stn CUDA simulator (CPU)", static_cast<size_t>(len));
  if (len > 0)
    name[len - 1] = '\0';
  return Success;
}
CUresult simDeviceGetAttribute(int *v, int attr, CUdevice) {
  switch (attr) {
  case 1: // max threads per block
    *v = 1024;
    break;
  case 16: // multiprocessors
    *v = 1;
    break;
  case 75: // compute capability (the default target's, sm_90)
    *v = 9;
    break;
  default:
    *v = 0;
    break;
  }
  return Success;
}
CUresult simDeviceTotalMem(size_t *bytes, CUdevice) {
  *bytes = size_t(1) << 34; // nominal: host memory is the limit
  return Success;
}
int ContextToken;
CUresult simPrimaryCtxRetain(CUcontext *c, CUdevice) {
  *c = reinterpret_cast<CUcontext>(&ContextToken);
  return Success;
}
CUresult simPrimaryCtxRelease(CUdevice) { return Success; }
CUresult simCtxPushCurrent(CUcontext) { return Success; }
CUresult simCtxPopCurrent(CUcontext *c) {
  if (c)
    *c = reinterpret_cast<CUcontext>(&ContextToken);
  return Success;
}
CUresult simCtxSynchronize() { return Success; } // launches are synchronous
CUresult simMemAlloc(CUdeviceptr *p, size_t n) {
  if (n == 0)
    return InvalidValue;
  void *m = std::aligned_alloc(256, (n + 255) / 256 * 256);
  if (!m)
    return OutOfMemory;
  *p = reinterpret_cast<CUdeviceptr>(m);
  return Success;
}
CUresult simMemFree(CUdeviceptr p) {
  std::free(reinterpret_cast<void *>(p));
  return Success;
}
CUresult simMemcpyHtoD(CUdeviceptr dst, const void *src, size_t n) {
  std::memcpy(reinterpret_cast<void *>(dst), src, n);
  return Success;
}
CUresult simMemcpyDtoH(void *dst, CUdeviceptr src, size_t n) {
  std::memcpy(dst, reinterpret_cast<const void *>(src), n);
  return Success;
}
CUresult simMemcpyDtoD(CUdeviceptr dst, CUdeviceptr src, size_t n) {
  std::memmove(reinterpret_cast<void *>(dst), reinterpret_cast<const void *>(src), n);
  return Success;
}
// Kernels compiled for the simulator never go through modules (Cuda.cpp's
// loadedFunction hands out the SimKernel); PTX cannot run here.
CUresult simModuleLoadDataEx(CUmodule *, const void *, unsigned, int *, void **) {
  return NotSupported;
}
CUresult simModuleUnload(CUmodule) { return Success; }
CUresult simModuleGetFunction(CUfunction *, CUmodule, const char *) { return NotSupported; }
CUresult simModuleGetGlobal(CUdeviceptr *, size_t *, CUmodule, const char *) {
  return NotSupported;
}

CUresult simLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                         unsigned by, unsigned bz, unsigned, CUstream, void **params, void **) {
  auto *k = reinterpret_cast<SimKernel *>(f);
  uint64_t threads = uint64_t(bx) * by * bz;
  // The limits of the GPUs stn targets.
  if (!k || threads == 0 || threads > 1024 || bz > 64 || gy > 65535 || gz > 65535 || gx == 0 ||
      gy == 0 || gz == 0)
    return InvalidValue;
  // The launch passes descriptors field by field; the entry takes them whole.
  std::vector<std::vector<int64_t>> descriptors;
  descriptors.reserve(k->ranks.size());
  std::vector<void *> args;
  size_t p = 0;
  for (int r : k->ranks) {
    if (r < 0) {
      args.push_back(params[p++]);
      continue;
    }
    auto &d = descriptors.emplace_back(3 + 2 * static_cast<size_t>(r));
    for (auto &field : d)
      field = *static_cast<int64_t *>(params[p++]);
    args.push_back(d.data());
  }
  const unsigned block[3] = {bx, by, bz};
  int64_t saved[12];
  std::memcpy(saved, Index, sizeof saved);
  Index[6] = bx, Index[7] = by, Index[8] = bz;
  Index[9] = gx, Index[10] = gy, Index[11] = gz;
  std::unique_ptr<char[]> stacks;
  if (k->barriers) {
    stacks.reset(new (std::nothrow) char[threads * FiberStack]);
    if (!stacks)
      return OutOfMemory;
  }
  for (unsigned z = 0; z < gz; ++z)
    for (unsigned y = 0; y < gy; ++y)
      for (unsigned x = 0; x < gx; ++x) {
        Index[3] = x, Index[4] = y, Index[5] = z;
        if (k->barriers) {
          runFiberBlock(*k, args.data(), block, stacks.get());
          continue;
        }
        for (unsigned t = 0; t < threads; ++t) {
          setThread(t, block);
          k->entry(args.data());
        }
      }
  std::memcpy(Index, saved, sizeof saved);
  return Success;
}

struct SimEvent {
  std::chrono::steady_clock::time_point at;
};
CUresult simEventCreate(CUevent *e, unsigned) {
  *e = reinterpret_cast<CUevent>(new SimEvent());
  return Success;
}
CUresult simEventDestroy(CUevent e) {
  delete reinterpret_cast<SimEvent *>(e);
  return Success;
}
CUresult simEventRecord(CUevent e, CUstream) {
  reinterpret_cast<SimEvent *>(e)->at = std::chrono::steady_clock::now();
  return Success;
}
CUresult simEventSynchronize(CUevent) { return Success; }
CUresult simEventElapsedTime(float *ms, CUevent a, CUevent b) {
  auto d = reinterpret_cast<SimEvent *>(b)->at - reinterpret_cast<SimEvent *>(a)->at;
  *ms = std::chrono::duration<float, std::milli>(d).count();
  return Success;
}

} // namespace

bool cudaSimulatorEnabled() {
  const char *v = std::getenv("STN_CUDA_SIM");
  return v && *v && std::strcmp(v, "0") != 0;
}

const CudaDriver *cudaSimulatorDriver() {
  static const CudaDriver driver = [] {
    CudaDriver d;
    d.cuInit = simInit;
    d.cuDriverGetVersion = simDriverGetVersion;
    d.cuGetErrorName = simGetErrorName;
    d.cuGetErrorString = simGetErrorString;
    d.cuDeviceGetCount = simDeviceGetCount;
    d.cuDeviceGet = simDeviceGet;
    d.cuDeviceGetName = simDeviceGetName;
    d.cuDeviceGetAttribute = simDeviceGetAttribute;
    d.cuDeviceTotalMem = simDeviceTotalMem;
    d.cuDevicePrimaryCtxRetain = simPrimaryCtxRetain;
    d.cuDevicePrimaryCtxRelease = simPrimaryCtxRelease;
    d.cuCtxPushCurrent = simCtxPushCurrent;
    d.cuCtxPopCurrent = simCtxPopCurrent;
    d.cuCtxSynchronize = simCtxSynchronize;
    d.cuMemAlloc = simMemAlloc;
    d.cuMemFree = simMemFree;
    d.cuMemcpyHtoD = simMemcpyHtoD;
    d.cuMemcpyDtoH = simMemcpyDtoH;
    d.cuMemcpyDtoD = simMemcpyDtoD;
    d.cuModuleLoadDataEx = simModuleLoadDataEx;
    d.cuModuleUnload = simModuleUnload;
    d.cuModuleGetFunction = simModuleGetFunction;
    d.cuModuleGetGlobal = simModuleGetGlobal;
    d.cuLaunchKernel = simLaunchKernel;
    d.cuEventCreate = simEventCreate;
    d.cuEventDestroy = simEventDestroy;
    d.cuEventRecord = simEventRecord;
    d.cuEventSynchronize = simEventSynchronize;
    d.cuEventElapsedTime = simEventElapsedTime;
    d.deviceCount = 1;
    return d;
  }();
  return &driver;
}

} // namespace stn::detail

extern "C" __attribute__((visibility("default"))) int64_t _stn_sim_index(int32_t code) {
  return stn::detail::Index[code];
}

extern "C" __attribute__((visibility("default"))) void _stn_sim_syncthreads() {
  using namespace stn::detail;
  FiberBlock *b = CurrentBlock;
  if (!b)
    return; // a block without fibers has no other thread to wait for
  swapcontext(&b->threads[b->current], &b->scheduler);
}

namespace stn::detail {
namespace {
/// The first fault simulated threads raised on this host thread (launches
/// run on the thread that makes them), until takeSimulatedFault.
thread_local KernelFault SimFault;
} // namespace
} // namespace stn::detail

extern "C" __attribute__((visibility("default"))) void
_stn_sim_raise(int32_t kind, int32_t begin, int32_t end, const char *text, int64_t n, int64_t v0,
               int64_t v1, int64_t v2, int64_t v3, int64_t v4, int64_t v5, int64_t v6, int64_t v7,
               int64_t v8, int64_t v9) {
  const int64_t v[10] = {v0, v1, v2, v3, v4, v5, v6, v7, v8, v9};
  // A GPU thread that raises ends its work (the kernel does so): the
  // simulated launch goes on with the other threads, as on a GPU.
  stn::detail::recordFault(stn::detail::SimFault, kind, begin, end, text, n, v);
}

extern "C" __attribute__((visibility("default"))) void
_stn_sim_print(const char *text, int64_t n, int64_t v0, int64_t v1, int64_t v2, int64_t v3,
               int64_t v4, int64_t v5, int64_t v6, int64_t v7, int64_t v8, int64_t v9) {
  const int64_t v[10] = {v0, v1, v2, v3, v4, v5, v6, v7, v8, v9};
  // As the driver's printf formats it (GPUGen.h, print).
  stn::detail::printMessage(text, n, v, /*gpuFloats=*/true);
}

/// Whether a simulated thread of this launch has raised (GPUGen.h, raised).
extern "C" __attribute__((visibility("default"))) int32_t _stn_sim_raised() {
  return stn::detail::SimFault.raised.load() ? 1 : 0;
}

namespace stn::detail {

std::vector<std::pair<std::string, void *>> cudaSimulatorSymbols() {
  return {{"_stn_sim_index", reinterpret_cast<void *>(&_stn_sim_index)},
          {"_stn_sim_syncthreads", reinterpret_cast<void *>(&_stn_sim_syncthreads)},
          {"_stn_sim_raise", reinterpret_cast<void *>(&_stn_sim_raise)},
          {"_stn_sim_print", reinterpret_cast<void *>(&_stn_sim_print)},
          {"_stn_sim_raised", reinterpret_cast<void *>(&_stn_sim_raised)}};
}

bool takeSimulatedFault(KernelFault &out) {
  if (!SimFault.raised.load())
    return false;
  out.raised.store(true);
  out.kind = SimFault.kind;
  out.begin = SimFault.begin;
  out.end = SimFault.end;
  out.text = std::move(SimFault.text);
  out.values = std::move(SimFault.values);
  SimFault.raised.store(false);
  return true;
}

} // namespace stn::detail
