//===- Cuda.cpp - The CUDA driver, device arrays and kernel launches ------===//
//
// See Cuda.h and stn/Gpu.h. The driver library is opened once per process
// and kept; a failure to open it is not remembered, so a later call tries
// again (and tests can point $STN_CUDA_DRIVER elsewhere). Primary contexts
// are retained once per device and kept for the life of the process: they
// are the driver's per-device default, shared with every other CUDA user
// in the process, and device arrays may outlive any object of ours.
//
//===----------------------------------------------------------------------===//

#include "Cuda.h"
#include "CudaSim.h"

#include "stn/Compiler/Sema.h"
#include "stn/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <functional>

namespace stn::detail {

namespace {

constexpr int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

std::mutex DriverMutex;
const CudaDriver *Driver = nullptr; ///< set once, never freed

/// Loads the driver; null with `why` on failure.
const CudaDriver *loadDriver(std::string &why) {
  std::lock_guard<std::mutex> lock(DriverMutex);
  if (Driver)
    return Driver;
  if (cudaSimulatorEnabled())
    return Driver = cudaSimulatorDriver();
  const char *env = std::getenv("STN_CUDA_DRIVER");
  std::string path = env && *env ? env : "libcuda.so.1";
  void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    why = fmt::format("no CUDA driver: {} not found or not loadable ({}); GPU kernels need an "
                      "NVIDIA GPU with its driver installed (or STN_CUDA_SIM=1, which runs them "
                      "in the CUDA simulator on the CPU)",
                      path, e ? e : "unknown error");
    return nullptr;
  }
  auto d = std::make_unique<CudaDriver>();
  std::string missing;
#define STN_CUDA_LOAD(name, symbol, sig)                                                       \
  d->name = reinterpret_cast<std::add_pointer_t<sig>>(dlsym(h, symbol));                                         \
  if (!d->name && std::strcmp(symbol, "cuEventElapsedTime_v2") == 0)                           \
    d->name = reinterpret_cast<std::add_pointer_t<sig>>(dlsym(h, "cuEventElapsedTime"));                         \
  if (!d->name)                                                                                \
    missing += std::string(missing.empty() ? "" : ", ") + symbol;
  STN_CUDA_DRIVER_FUNCTIONS(STN_CUDA_LOAD)
#undef STN_CUDA_LOAD
  if (!missing.empty()) {
    dlclose(h);
    why = fmt::format("no CUDA driver: {} lacks {} (the driver is too old)", path, missing);
    return nullptr;
  }
  if (CUresult r = d->cuInit(0); r != 0) {
    const char *name = nullptr;
    d->cuGetErrorName(r, &name);
    dlclose(h);
    why = fmt::format("no CUDA driver: cuInit failed with {} (no usable GPU?)",
                      name ? name : std::to_string(r));
    return nullptr;
  }
  if (CUresult r = d->cuDeviceGetCount(&d->deviceCount); r != 0)
    d->deviceCount = 0;
  Driver = d.release(); // the library stays loaded for the process
  return Driver;
}

thread_local int CurrentDevice = 0;

int resolveDevice(int device) {
  const CudaDriver &d = cudaDriver();
  if (device < 0)
    device = CurrentDevice;
  if (d.deviceCount == 0)
    throw Error("error: the CUDA driver reports no GPU device");
  if (device >= d.deviceCount)
    throw Error(fmt::format("error: there is no CUDA device {} (this machine has {})", device,
                            d.deviceCount));
  return device;
}

CUcontext primaryContext(int device) {
  static std::mutex m;
  static std::map<int, CUcontext> contexts;
  std::lock_guard<std::mutex> lock(m);
  auto it = contexts.find(device);
  if (it != contexts.end())
    return it->second;
  const CudaDriver &d = cudaDriver();
  CUdevice dev = 0;
  cudaCheck(d.cuDeviceGet(&dev, device), fmt::format("selecting CUDA device {}", device));
  CUcontext ctx = nullptr;
  cudaCheck(d.cuDevicePrimaryCtxRetain(&ctx, dev),
            fmt::format("creating a context on CUDA device {}", device));
  contexts[device] = ctx;
  return ctx;
}

/// Copies a C-contiguous buffer into a view of any strides.
void scatterInto(const char *src, const ArrayView &dst) {
  size_t item = itemSize(dst.dtype);
  std::function<void(size_t, char *)> rec = [&](size_t d, char *p) {
    if (d == dst.shape.size()) {
      std::memcpy(p, src, item);
      src += item;
      return;
    }
    for (int64_t i = 0; i < dst.shape[d]; ++i)
      rec(d + 1, p + i * dst.strides[d]);
  };
  if (dst.size() > 0)
    rec(0, static_cast<char *>(dst.data));
}

void checkSameShape(const ArrayView &host, DType dt, const std::vector<int64_t> &shape,
                    const char *what) {
  if (host.dtype != dt || host.shape != shape) {
    auto str = [](const std::vector<int64_t> &s) {
      std::string r = "(";
      for (size_t i = 0; i < s.size(); ++i)
        r += (i ? ", " : "") + std::to_string(s[i]);
      return r + (s.size() == 1 ? ",)" : ")");
    };
    throw Error(fmt::format("error: {}: the host array is {} {} but the device array is {} {}",
                            what, dtypeName(host.dtype), str(host.shape), dtypeName(dt),
                            str(shape)));
  }
}

/// The argument checks of Engine's host calls, for arrays to copy in.
void checkHostArray(const ArrayView &v, const std::string &param) {
  if (v.shape.empty() || v.shape.size() > 8)
    throw Error(fmt::format("error: argument '{}': GPU kernels take arrays of 1 to 8 dimensions",
                            param));
  if (v.strides.size() != v.shape.size())
    throw Error(fmt::format("error: argument '{}': {} strides given for {} dimensions", param,
                            v.strides.size(), v.shape.size()));
  for (size_t d = 0; d < v.shape.size(); ++d)
    if (v.shape[d] < 0)
      throw Error(fmt::format("error: argument '{}': negative extent {} in dimension {}", param,
                              v.shape[d], d));
  if (v.size() > 0 && !v.data)
    throw Error(fmt::format("error: argument '{}': null data pointer", param));
}

/// A scalar converted to the parameter's dtype (the rules of host calls).
Scalar convertScalar(Scalar s, DType want, const std::string &param) {
  if (s.dtype() == want)
    return s;
  bool wantComplex = want == DType::Complex64 || want == DType::Complex128;
  if (s.isComplex() && !wantComplex)
    throw Error(fmt::format("error: argument '{}': cannot convert a complex number to {}", param,
                            dtypeName(want)));
  if (wantComplex)
    return want == DType::Complex64 ? Scalar(std::complex<float>(s.asComplex()))
                                    : Scalar(s.asComplex());
  if (want == DType::Float32 || want == DType::Float64)
    return Scalar::ofType(want, s.asDouble());
  if (want == DType::Bool)
    return Scalar(s.asBool());
  if (s.isFloat())
    return Scalar::ofType(want, s.asDouble());
  return s.isUnsigned() ? Scalar::ofType(want, static_cast<int64_t>(s.asUInt()))
                        : Scalar::ofType(want, s.asInt());
}

std::string normalizeArch(std::string a) {
  // "sm_90", "90", "9.0" -> "sm_90"
  if (a.rfind("sm_", 0) == 0)
    return a;
  a.erase(std::remove(a.begin(), a.end(), '.'), a.end());
  return "sm_" + a;
}

} // namespace

//===----------------------------------------------------------------------===//
// Driver and contexts
//===----------------------------------------------------------------------===//

const CudaDriver &cudaDriver() {
  std::string why;
  const CudaDriver *d = loadDriver(why);
  if (!d)
    throw Error("error: " + why);
  return *d;
}

void cudaCheck(CUresult r, const std::string &what) {
  if (r == 0)
    return;
  const CudaDriver &d = cudaDriver();
  const char *name = nullptr, *text = nullptr;
  d.cuGetErrorName(r, &name);
  d.cuGetErrorString(r, &text);
  throw Error(fmt::format("error: {}: {} ({})", what, name ? name : std::to_string(r),
                          text ? text : "no description"));
}

ScopedContext::ScopedContext(int device) {
  cudaCheck(cudaDriver().cuCtxPushCurrent(primaryContext(device)), "activating a CUDA context");
}

ScopedContext::~ScopedContext() {
  CUcontext unused = nullptr;
  cudaDriver().cuCtxPopCurrent(&unused);
}

DeviceBuffer::DeviceBuffer(int dev, size_t n) : bytes(n), device(dev) {
  ScopedContext ctx(device);
  // A zero-byte allocation is an error for the driver; keep a null pointer.
  if (n > 0)
    cudaCheck(cudaDriver().cuMemAlloc(&ptr, n),
              fmt::format("allocating {} bytes on CUDA device {}", n, device));
}

DeviceBuffer::~DeviceBuffer() {
  if (!ptr)
    return;
  try {
    ScopedContext ctx(device);
    cudaDriver().cuMemFree(ptr);
  } catch (const Error &) {
    // Destructors do not throw; the process's context is going away anyway.
  }
}

std::string gpuTargetArch(int device) {
  if (const char *a = std::getenv("STN_CUDA_ARCH"); a && *a)
    return normalizeArch(a);
  return gpu::deviceInfo(device).arch();
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

GpuSpec::~GpuSpec() {
  for (auto &[device, lk] : loaded) {
    try {
      ScopedContext ctx(device);
      cudaDriver().cuModuleUnload(lk.module);
    } catch (const Error &) {
    }
  }
}

Type gpuArgumentType(const GpuArg &a, const std::string &param) {
  if (a.isNone())
    return Type::none();
  if (a.isScalar())
    return Type::scalar(static_cast<ScalarKind>(a.scalar().dtype()));
  if (a.isDeviceArray()) {
    const DeviceArray &d = a.deviceArray();
    if (d.isNull())
      throw Error(fmt::format("error: argument '{}': an empty DeviceArray (default-constructed)",
                              param));
    return Type::array(static_cast<ScalarKind>(d.dtype()), static_cast<unsigned>(d.shape().size()),
                       Type::Layout::C);
  }
  const ArrayView &v = a.hostArray();
  checkHostArray(v, param);
  return Type::array(static_cast<ScalarKind>(v.dtype), static_cast<unsigned>(v.shape.size()),
                     Type::Layout::C);
}

namespace {

LoadedKernel loadedKernel(GpuSpec &spec, int device, const std::string &kernel) {
  if (spec.sim)
    return {nullptr, reinterpret_cast<CUfunction>(spec.sim.get()), 0};
  std::lock_guard<std::mutex> lock(spec.mutex);
  auto it = spec.loaded.find(device);
  if (it != spec.loaded.end())
    return it->second;
  const CudaDriver &d = cudaDriver();
  // The cubin runs only on its own architecture; otherwise the driver
  // compiles the PTX for the device (slower once, then cached by it).
  bool useCubin = !spec.binary.cubin.empty() && spec.binary.arch == gpuTargetArch(device);
  std::string ptx = spec.binary.ptx + '\0';
  const void *image = useCubin ? static_cast<const void *>(spec.binary.cubin.data())
                               : static_cast<const void *>(ptx.data());
  char log[8192] = {};
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(static_cast<uintptr_t>(sizeof log))};
  CUmodule mod = nullptr;
  CUresult r = d.cuModuleLoadDataEx(&mod, image, 2, options, values);
  if (r != 0) {
    try {
      cudaCheck(r, fmt::format("loading GPU kernel '{}' ({} for {}) on device {}", kernel,
                               useCubin ? "cubin" : "PTX", spec.binary.arch, device));
    } catch (const Error &e) {
      throw Error(std::string(e.what()) + (log[0] ? std::string("\n") + log : ""));
    }
  }
  LoadedKernel lk{mod, nullptr, 0};
  r = d.cuModuleGetFunction(&lk.function, mod, spec.binary.kernelName.c_str());
  if (r != 0) {
    d.cuModuleUnload(mod);
    cudaCheck(r, fmt::format("finding GPU kernel '{}' in its module", kernel));
  }
  if (!spec.binary.faultTexts.empty()) {
    size_t bytes = 0;
    r = d.cuModuleGetGlobal(&lk.faultRecord, &bytes, mod, GpuFaultRecord);
    if (r != 0 || bytes != sizeof(int64_t) * GpuFaultWords) {
      d.cuModuleUnload(mod);
      cudaCheck(r, fmt::format("finding the fault record of GPU kernel '{}'", kernel));
      throw Error(fmt::format("internal error: the fault record of GPU kernel '{}' has {} bytes",
                              kernel, bytes));
    }
  }
  spec.loaded[device] = lk;
  return lk;
}

/// After a launch of `spec` (loaded as `lk`) has finished: whether its
/// threads raised a fault, then moved into `f` (the record is zeroed for
/// the next launch).
bool takeFault(const GpuSpec &spec, const LoadedKernel &lk, KernelFault &f) {
  if (spec.sim)
    return takeSimulatedFault(f);
  if (!lk.faultRecord)
    return false;
  const CudaDriver &d = cudaDriver();
  int64_t words[GpuFaultWords] = {};
  cudaCheck(d.cuMemcpyDtoH(words, lk.faultRecord, sizeof words),
            "reading the fault record of a GPU kernel");
  if (!words[GpuFaultClaimed])
    return false;
  const int64_t zeros[GpuFaultWords] = {};
  cudaCheck(d.cuMemcpyHtoD(lk.faultRecord, zeros, sizeof zeros),
            "clearing the fault record of a GPU kernel");
  uint64_t t = static_cast<uint64_t>(words[GpuFaultText]);
  const std::string &text =
      t < spec.binary.faultTexts.size() ? spec.binary.faultTexts[t] : std::string();
  recordFault(f, static_cast<int32_t>(words[GpuFaultKind]),
              static_cast<int32_t>(words[GpuFaultBegin]), static_cast<int32_t>(words[GpuFaultEnd]),
              text.c_str(), words[GpuFaultCount], words + GpuFaultValues);
  return true;
}

/// Whether launches of `spec` must be waited for to see their faults.
bool mayFault(const GpuSpec &spec, const LoadedKernel &lk) {
  return spec.sim || lk.faultRecord;
}

} // namespace

namespace {

/// The arguments of one call in device memory: host arrays copied in (as
/// C-contiguous buffers), DeviceArrays in place, scalars converted to their
/// parameter's type. Arrays become memref descriptors (GPUPipeline.h).
class DeviceArguments {
public:
  /// `types`: the parameters' types; `writes`: per parameter, whether the
  /// kernel may write it (host arrays are copied back only then, and never
  /// read-only ones); parameters past the declared ones are named "out".
  DeviceArguments(const KernelDecl &k, const std::vector<Type> &types,
                  const std::vector<GpuArg> &args, const std::vector<bool> &writes, int device)
      : Descriptors(args.size()), Scalars(args.size()) {
    const CudaDriver &d = cudaDriver();
    const std::string &name = k.def->name;
    const auto &paramDecls = k.def->params;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string pname = i < paramDecls.size() ? paramDecls[i].name : "out";
      if (types[i].isNone()) { // no value (the entry wrapper skips it)
        if (!args[i].isNone())
          throw Error(fmt::format("error: argument '{}' of kernel '{}' must be None", pname,
                                  name));
        Scalars[i].fill(0);
        continue;
      }
      if (!types[i].isArray()) {
        if (!args[i].isScalar())
          throw Error(fmt::format("error: argument '{}' of kernel '{}' must be a scalar", pname,
                                  name));
        Scalars[i].fill(0);
        convertScalar(args[i].scalar(), static_cast<DType>(types[i].scalarKind()), pname)
            .store(Scalars[i].data());
        continue;
      }
      CUdeviceptr ptr = 0;
      std::vector<int64_t> shape;
      if (args[i].isDeviceArray()) {
        const DeviceArray &da = args[i].deviceArray();
        if (da.device() != device)
          throw Error(fmt::format("error: argument '{}' of kernel '{}' is on CUDA device {}, "
                                  "but the kernel runs on device {}",
                                  pname, name, da.device(), device));
        ptr = da.devicePointer();
        shape = da.shape();
      } else if (args[i].isHostArray()) {
        const ArrayView &v = args[i].hostArray();
        size_t bytes = static_cast<size_t>(v.size()) * itemSize(v.dtype);
        auto buf = std::make_shared<DeviceBuffer>(device, bytes);
        Temporaries.push_back(buf);
        if (bytes) {
          Array packed;
          const void *src = v.data;
          if (!v.isCContiguous()) {
            packed = Array::copyOf(v);
            src = packed.data<void>();
          }
          cudaCheck(d.cuMemcpyHtoD(buf->ptr, src, bytes),
                    fmt::format("copying argument '{}' to the GPU", pname));
        }
        // Read-only views are never written back: the kernel's writes stay
        // in the device copy.
        if ((i >= writes.size() || writes[i]) && !v.readonly && bytes)
          CopyBacks.push_back({v, buf});
        ptr = buf->ptr;
        shape = v.shape;
      } else {
        throw Error(fmt::format("error: argument '{}' of kernel '{}' must be an array", pname,
                                name));
      }
      unsigned r = static_cast<unsigned>(shape.size());
      auto &desc = Descriptors[i];
      desc.assign(3 + 2 * r, 0);
      desc[0] = desc[1] = static_cast<int64_t>(ptr);
      int64_t stride = 1;
      for (int j = static_cast<int>(r) - 1; j >= 0; --j) {
        desc[3 + j] = shape[j];
        desc[3 + r + j] = stride;
        stride *= std::max<int64_t>(shape[j], 1);
      }
    }
  }

  /// One pointer per parameter: a scalar's value or a whole descriptor
  /// (the packed entry ABI of host code, Pipeline.h).
  std::vector<void *> whole() {
    std::vector<void *> out;
    for (size_t i = 0; i < Descriptors.size(); ++i)
      out.push_back(Descriptors[i].empty() ? static_cast<void *>(Scalars[i].data())
                                           : Descriptors[i].data());
    return out;
  }
  /// One pointer per kernel parameter: descriptors field by field (the
  /// kernel ABI, GPUPipeline.h).
  std::vector<void *> fields() {
    std::vector<void *> out;
    for (size_t i = 0; i < Descriptors.size(); ++i) {
      if (Descriptors[i].empty())
        out.push_back(Scalars[i].data());
      for (auto &field : Descriptors[i])
        out.push_back(&field);
    }
    return out;
  }
  /// Whether a host array was copied in (then the call must wait).
  bool anyHostArray() const { return !Temporaries.empty(); }
  /// Copies the host arrays the kernel may have written back; call after
  /// the GPU is done.
  void copyBack() {
    const CudaDriver &d = cudaDriver();
    for (auto &cb : CopyBacks) {
      if (cb.host.isCContiguous()) {
        cudaCheck(d.cuMemcpyDtoH(cb.host.data, cb.buffer->ptr, cb.buffer->bytes),
                  "copying a result back from the GPU");
      } else {
        std::vector<char> tmp(cb.buffer->bytes);
        cudaCheck(d.cuMemcpyDtoH(tmp.data(), cb.buffer->ptr, cb.buffer->bytes),
                  "copying a result back from the GPU");
        scatterInto(tmp.data(), cb.host);
      }
    }
  }

private:
  struct CopyBack {
    ArrayView host;
    std::shared_ptr<DeviceBuffer> buffer;
  };
  std::vector<std::vector<int64_t>> Descriptors; ///< empty for scalars
  std::vector<std::array<unsigned char, 16>> Scalars;
  std::vector<std::shared_ptr<DeviceBuffer>> Temporaries;
  std::vector<CopyBack> CopyBacks;
};

} // namespace

void launchGpu(GpuSpec &spec, const KernelDecl &k, const SourceFile &file, Dim3 grid,
               Dim3 block, const std::vector<GpuArg> &args, int device) {
  const std::string &name = k.def->name;
  if (!grid.x || !grid.y || !grid.z || !block.x || !block.y || !block.z)
    throw Error(fmt::format("error: kernel '{}': grid and block extents must be at least 1 (got "
                            "grid ({}, {}, {}) and block ({}, {}, {}))",
                            name, grid.x, grid.y, grid.z, block.x, block.y, block.z));
  const CudaDriver &d = cudaDriver();
  ScopedContext ctx(device);
  LoadedKernel lk = loadedKernel(spec, device, name);
  DeviceArguments dargs(k, spec.argTypes, args, spec.binary.writes, device);
  std::vector<void *> params = dargs.fields();
  bool faults = mayFault(spec, lk);
  std::unique_lock<std::mutex> recordLock(spec.faultMutex, std::defer_lock);
  if (faults)
    recordLock.lock();
  cudaCheck(d.cuLaunchKernel(lk.function, grid.x, grid.y, grid.z, block.x, block.y, block.z, 0,
                             nullptr, params.data(), nullptr),
            fmt::format("launching GPU kernel '{}' with grid ({}, {}, {}) and block ({}, {}, {})",
                        name, grid.x, grid.y, grid.z, block.x, block.y, block.z));
  if (!dargs.anyHostArray() && !faults)
    return; // device arrays only: asynchronous, like Numba's launches
  // Wait for the kernel (reporting its errors), then copy host arrays back.
  cudaCheck(d.cuCtxSynchronize(), fmt::format("running GPU kernel '{}'", name));
  KernelFault fault;
  if (faults && takeFault(spec, lk, fault))
    throw Error(formatFault(fault, file));
  if (faults)
    recordLock.unlock();
  dargs.copyBack();
}

//===----------------------------------------------------------------------===//
// GPU loops of @jit(target="cuda") kernels (GpuRegions.h)
//===----------------------------------------------------------------------===//

namespace {

/// The call whose host part runs on this thread.
struct GpuLoopCall {
  const KernelDecl *kernel = nullptr;
  const SourceFile *file = nullptr;
  const std::vector<GpuRegionLaunch> *regions = nullptr;
  int device = 0;
  std::string error; ///< the first failure: later launches are skipped
};
thread_local GpuLoopCall *CurrentLoopCall = nullptr;

void launchRegion(GpuLoopCall &c, int64_t index, int64_t *slots, const int64_t counts[3]) {
  const std::string &name = c.kernel->def->name;
  if (index < 0 || static_cast<size_t>(index) >= c.regions->size())
    throw Error(fmt::format("internal error: kernel '{}' launched GPU loop {} of {}", name,
                            index, c.regions->size()));
  const GpuRegionLaunch &r = (*c.regions)[index];
  std::vector<int64_t> extents(counts, counts + r.dims);
  for (int64_t e : extents)
    if (e <= 0)
      return; // no iteration: the reductions keep their values
  GpuLaunchShape ls = gpuDriverLaunch(extents);
  if (r.reductions) {
    // Each block adds its result atomically: at most 1024 blocks (enough
    // to fill an H100), the grid-stride loops cover the rest. The
    // simulator runs the threads of such blocks as fibers (the block
    // reduction has barriers): at most 8 blocks there.
    bool sim = gpu::simulated();
    unsigned most = sim ? 8u : 1024u;
    ls.grid[2] = std::min(ls.grid[2], sim ? 2u : 4u);
    ls.grid[1] = std::min(ls.grid[1], sim ? 2u : 16u);
    ls.grid[0] = std::min(ls.grid[0], std::max(1u, most / (ls.grid[1] * ls.grid[2])));
  }
  const CudaDriver &d = cudaDriver();
  LoadedKernel lk = loadedKernel(*r.spec, c.device, name);
  std::vector<void *> params;
  for (unsigned i = 0; i < r.paramSlots; ++i)
    params.push_back(&slots[i]);
  // Each reduction: a one-element device array, from the value before the
  // loop to the result (8 bytes each, whatever the type).
  std::unique_ptr<DeviceBuffer> cells;
  std::vector<std::array<int64_t, 5>> descriptors(2 * r.reductions);
  if (r.reductions) {
    size_t bytes = 8 * r.reductions;
    cells = std::make_unique<DeviceBuffer>(c.device, bytes);
    cudaCheck(d.cuMemcpyHtoD(cells->ptr, slots + r.paramSlots, bytes),
              fmt::format("copying the reductions of kernel '{}' to the GPU", name));
    for (unsigned j = 0; j < r.reductions; ++j) {
      // Typed, then as integers (GpuRegions.h): the same cell.
      int64_t p = static_cast<int64_t>(cells->ptr + 8 * j);
      for (unsigned view = 0; view < 2; ++view) {
        descriptors[2 * j + view] = {p, p, 0, 1, 1};
        for (auto &field : descriptors[2 * j + view])
          params.push_back(&field);
      }
    }
  }
  std::unique_lock<std::mutex> recordLock(r.spec->faultMutex, std::defer_lock);
  if (mayFault(*r.spec, lk))
    recordLock.lock();
  cudaCheck(d.cuLaunchKernel(lk.function, ls.grid[0], ls.grid[1], ls.grid[2], ls.block[0],
                             ls.block[1], ls.block[2], 0, nullptr, params.data(), nullptr),
            fmt::format("launching GPU loop {} of kernel '{}'", index, name));
  if (recordLock.owns_lock()) {
    cudaCheck(d.cuCtxSynchronize(), fmt::format("running GPU loop {} of kernel '{}'", index, name));
    KernelFault fault;
    if (takeFault(*r.spec, lk, fault))
      throw Error(formatFault(fault, *c.file));
  }
  if (r.reductions)
    cudaCheck(d.cuMemcpyDtoH(slots + r.paramSlots, cells->ptr, 8 * r.reductions),
              fmt::format("running GPU loop {} of kernel '{}'", index, name));
}

} // namespace

void runGpuLoops(const KernelDecl &k, const SourceFile &file, const std::vector<Type> &types,
                 const std::vector<GpuArg> &args, const std::vector<bool> &writes,
                 const std::vector<GpuRegionLaunch> &regions, int device,
                 const std::function<void(std::vector<void *> &)> &run) {
  const CudaDriver &d = cudaDriver();
  ScopedContext ctx(device);
  DeviceArguments dargs(k, types, args, writes, device);
  std::vector<void *> ptrs = dargs.whole();
  GpuLoopCall call;
  call.kernel = &k;
  call.file = &file;
  call.regions = &regions;
  call.device = device;
  GpuLoopCall *saved = CurrentLoopCall;
  CurrentLoopCall = &call;
  try {
    run(ptrs);
  } catch (...) {
    CurrentLoopCall = saved;
    throw;
  }
  CurrentLoopCall = saved;
  cudaCheck(d.cuCtxSynchronize(),
            fmt::format("running the GPU loops of kernel '{}'", k.def->name));
  if (!call.error.empty())
    throw Error(call.error);
  dargs.copyBack();
}

//===----------------------------------------------------------------------===//
// Cache payload
//===----------------------------------------------------------------------===//

namespace {
constexpr std::string_view GpuMagic = "STNGPU2\n"; ///< 2: fault texts

void putField(std::string &s, std::string_view v) {
  uint64_t n = v.size();
  for (int i = 0; i < 8; ++i)
    s += static_cast<char>((n >> (8 * i)) & 0xff);
  s += v;
}

bool getField(std::string_view &in, std::string &out) {
  if (in.size() < 8)
    return false;
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  in.remove_prefix(8);
  if (n > in.size())
    return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}
} // namespace

std::string serializeGpuBinary(const GPUBinary &b) {
  std::string s(GpuMagic);
  std::string writes;
  for (bool w : b.writes)
    writes += w ? '1' : '0';
  for (std::string_view f : {std::string_view(b.arch), std::string_view(b.kernelName),
                             std::string_view(b.ptx), std::string_view(b.cubin),
                             std::string_view(writes)})
    putField(s, f);
  for (const std::string &t : b.faultTexts)
    putField(s, t);
  return s;
}

bool parseGpuBinary(std::string_view bytes, GPUBinary &out) {
  if (bytes.substr(0, GpuMagic.size()) != GpuMagic)
    return false;
  bytes.remove_prefix(GpuMagic.size());
  std::string writes;
  if (!getField(bytes, out.arch) || !getField(bytes, out.kernelName) ||
      !getField(bytes, out.ptx) || !getField(bytes, out.cubin) || !getField(bytes, writes) ||
      out.ptx.empty())
    return false;
  out.writes.clear();
  for (char c : writes)
    out.writes.push_back(c == '1');
  // The rest: the fault texts.
  out.faultTexts.clear();
  while (!bytes.empty())
    if (!getField(bytes, out.faultTexts.emplace_back()))
      return false;
  return true;
}

} // namespace stn::detail

//===----------------------------------------------------------------------===//
// Public API (stn/Gpu.h)
//===----------------------------------------------------------------------===//

namespace stn {

using namespace detail;

namespace gpu {

bool simulated() { return detail::cudaSimulatorEnabled(); }

bool available() {
  std::string why;
  const CudaDriver *d = loadDriver(why);
  return d && d->deviceCount > 0;
}

std::string unavailableReason() {
  std::string why;
  const CudaDriver *d = loadDriver(why);
  if (d && d->deviceCount == 0)
    return "the CUDA driver reports no GPU device";
  return d ? std::string() : why;
}

int deviceCount() { return cudaDriver().deviceCount; }

void setDevice(int device) { CurrentDevice = resolveDevice(device); }

int currentDevice() { return CurrentDevice; }

DeviceInfo deviceInfo(int device) {
  device = resolveDevice(device);
  const CudaDriver &d = cudaDriver();
  CUdevice dev = 0;
  cudaCheck(d.cuDeviceGet(&dev, device), fmt::format("selecting CUDA device {}", device));
  DeviceInfo info;
  char name[256] = {};
  cudaCheck(d.cuDeviceGetName(name, sizeof name - 1, dev), "reading the device name");
  info.name = name;
  auto attr = [&](int a) {
    int v = 0;
    cudaCheck(d.cuDeviceGetAttribute(&v, a, dev), "reading a device attribute");
    return v;
  };
  info.major = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
  info.minor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  info.multiprocessors = attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  info.maxThreadsPerBlock = attr(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  size_t total = 0;
  cudaCheck(d.cuDeviceTotalMem(&total, dev), "reading the device memory size");
  info.totalMemory = total;
  return info;
}

int driverVersion() {
  int v = 0;
  cudaCheck(cudaDriver().cuDriverGetVersion(&v), "reading the driver version");
  return v;
}

void synchronize(int device) {
  device = resolveDevice(device);
  ScopedContext ctx(device);
  cudaCheck(cudaDriver().cuCtxSynchronize(), "waiting for the GPU");
}

Timer::Timer(int device) : Device(resolveDevice(device)) {
  ScopedContext ctx(Device);
  const CudaDriver &d = cudaDriver();
  cudaCheck(d.cuEventCreate(reinterpret_cast<CUevent *>(&Start), 0), "creating a CUDA event");
  cudaCheck(d.cuEventCreate(reinterpret_cast<CUevent *>(&Stop), 0), "creating a CUDA event");
}

Timer::~Timer() {
  try {
    ScopedContext ctx(Device);
    cudaDriver().cuEventDestroy(static_cast<CUevent>(Start));
    cudaDriver().cuEventDestroy(static_cast<CUevent>(Stop));
  } catch (const Error &) {
  }
}

void Timer::start() {
  ScopedContext ctx(Device);
  cudaCheck(cudaDriver().cuEventRecord(static_cast<CUevent>(Start), nullptr),
            "recording a CUDA event");
}

void Timer::stop() {
  ScopedContext ctx(Device);
  cudaCheck(cudaDriver().cuEventRecord(static_cast<CUevent>(Stop), nullptr),
            "recording a CUDA event");
}

double Timer::elapsedMs() {
  ScopedContext ctx(Device);
  const CudaDriver &d = cudaDriver();
  cudaCheck(d.cuEventSynchronize(static_cast<CUevent>(Stop)), "waiting for a CUDA event");
  float ms = 0;
  cudaCheck(d.cuEventElapsedTime(&ms, static_cast<CUevent>(Start), static_cast<CUevent>(Stop)),
            "reading a CUDA timer");
  return ms;
}

} // namespace gpu

DeviceArray DeviceArray::empty(DType dtype, std::vector<int64_t> shape, int device) {
  device = resolveDevice(device);
  int64_t n = 1;
  for (int64_t e : shape) {
    if (e < 0)
      throw Error(fmt::format("error: DeviceArray: negative extent {}", e));
    n *= e;
  }
  DeviceArray a;
  a.DT = dtype;
  a.Shape = std::move(shape);
  a.Buf = std::make_shared<DeviceBuffer>(device, static_cast<size_t>(n) * itemSize(dtype));
  return a;
}

DeviceArray DeviceArray::fromHost(const ArrayView &host, int device) {
  checkHostArray(host, "host");
  DeviceArray a = empty(host.dtype, host.shape, device);
  a.copyFromHost(host);
  return a;
}

int64_t DeviceArray::size() const {
  int64_t n = 1;
  for (int64_t e : Shape)
    n *= e;
  return n;
}

size_t DeviceArray::nbytes() const { return static_cast<size_t>(size()) * itemSize(DT); }

int DeviceArray::device() const { return Buf ? Buf->device : -1; }

uint64_t DeviceArray::devicePointer() const { return Buf ? Buf->ptr : 0; }

void DeviceArray::copyFromHost(const ArrayView &host) {
  if (!Buf)
    throw Error("error: DeviceArray::copyFromHost on an empty DeviceArray");
  checkSameShape(host, DT, Shape, "DeviceArray::copyFromHost");
  if (!nbytes())
    return;
  ScopedContext ctx(Buf->device);
  if (host.isCContiguous()) {
    cudaCheck(cudaDriver().cuMemcpyHtoD(Buf->ptr, host.data, nbytes()), "copying to the GPU");
  } else {
    Array packed = Array::copyOf(host);
    cudaCheck(cudaDriver().cuMemcpyHtoD(Buf->ptr, packed.data<void>(), nbytes()),
              "copying to the GPU");
  }
}

void DeviceArray::copyToHost(const ArrayView &host) const {
  if (!Buf)
    throw Error("error: DeviceArray::copyToHost on an empty DeviceArray");
  checkSameShape(host, DT, Shape, "DeviceArray::copyToHost");
  if (host.readonly)
    throw Error("error: DeviceArray::copyToHost: the host array is read-only");
  if (!nbytes())
    return;
  ScopedContext ctx(Buf->device);
  if (host.isCContiguous()) {
    cudaCheck(cudaDriver().cuMemcpyDtoH(host.data, Buf->ptr, nbytes()), "copying from the GPU");
  } else {
    std::vector<char> tmp(nbytes());
    cudaCheck(cudaDriver().cuMemcpyDtoH(tmp.data(), Buf->ptr, nbytes()), "copying from the GPU");
    scatterInto(tmp.data(), host);
  }
}

Array DeviceArray::toHost() const {
  Array a(DT, Shape);
  copyToHost(a.view());
  return a;
}

void DeviceArray::copyFrom(const DeviceArray &other) {
  if (!Buf || !other.Buf)
    throw Error("error: DeviceArray::copyFrom with an empty DeviceArray");
  if (other.DT != DT || other.Shape != Shape)
    throw Error("error: DeviceArray::copyFrom: the arrays differ in dtype or shape");
  if (!nbytes())
    return;
  ScopedContext ctx(Buf->device);
  cudaCheck(cudaDriver().cuMemcpyDtoD(Buf->ptr, other.Buf->ptr, nbytes()),
            "copying between device arrays");
}

} // namespace stn

/// Called by the host part of a `@jit(target="cuda")` kernel for each of its
/// GPU regions (GpuRegions.h). Errors are kept for runGpuLoops to throw:
/// they must not unwind through compiled code.
extern "C" __attribute__((visibility("default"))) void
_stn_gpu_launch(int64_t region, int64_t slots, int64_t n0, int64_t n1, int64_t n2) {
  using namespace stn::detail;
  GpuLoopCall *c = CurrentLoopCall;
  if (!c || !c->error.empty())
    return;
  const int64_t counts[3] = {n0, n1, n2};
  try {
    launchRegion(*c, region, reinterpret_cast<int64_t *>(slots), counts);
  } catch (const std::exception &e) {
    c->error = e.what();
  }
}
