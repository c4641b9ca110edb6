//===- SysInfo.cpp - What stn sees of the machine (`stn sysinfo`) --------===//
//
// See stn/SysInfo.h. The CPU's features come from the code generator
// (libstn-backend.so, through its plugin table) because they are what LLVM
// targets; libstn itself links no LLVM. The CUDA driver is loaded with
// dlopen and queried through a few driver API entry points declared here,
// so stn needs no CUDA headers or libraries to build or to run.
//
//===----------------------------------------------------------------------===//

#include "stn/SysInfo.h"
#include "stn/Cache.h"
#include "stn/Engine.h"
#include "stn/Error.h"
#include "stn/Image.h"

#include "Backend.h"
#include "CudaSim.h"

#include <fmt/format.h>

#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <sstream>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

namespace stn {

namespace {

std::string cpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    // x86: "model name"; some ARM kernels: "Processor" or "CPU part" only.
    if (line.rfind("model name", 0) == 0 || line.rfind("Processor", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string v = line.substr(colon + 1);
        size_t b = v.find_first_not_of(" \t");
        return b == std::string::npos ? std::string() : v.substr(b);
      }
    }
  }
  return "unknown";
}

/// The few CUDA driver API entry points sysinfo needs (CUresult is an int,
/// CUdevice an int); the enum values are those of cuda.h.
struct CudaDriver {
  using InitFn = int (*)(unsigned);
  using DriverVersionFn = int (*)(int *);
  using CountFn = int (*)(int *);
  using DeviceFn = int (*)(int *, int);
  using NameFn = int (*)(char *, int, int);
  using AttrFn = int (*)(int *, int, int);
  using MemFn = int (*)(size_t *, int);
  using ErrorNameFn = int (*)(int, const char **);
  InitFn init = nullptr;
  DriverVersionFn driverVersion = nullptr;
  CountFn deviceCount = nullptr;
  DeviceFn deviceGet = nullptr;
  NameFn deviceName = nullptr;
  AttrFn attribute = nullptr;
  MemFn totalMem = nullptr;
  ErrorNameFn errorName = nullptr;

  static constexpr int AttrMultiprocessors = 16;
  static constexpr int AttrComputeMajor = 75;
  static constexpr int AttrComputeMinor = 76;

  std::string nameOf(int rc) const {
    const char *name = nullptr;
    if (errorName && errorName(rc, &name) == 0 && name)
      return name;
    return fmt::format("CUDA error {}", rc);
  }
};

void queryCuda(SystemInfo &info) {
  // Kept loaded: unloading the driver after cuInit is not supported.
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *err = dlerror();
    info.cudaStatus = fmt::format("no CUDA driver: libcuda.so.1 cannot be loaded ({})",
                                  err ? err : "not found");
    return;
  }
  CudaDriver d;
  auto sym = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
    return fn != nullptr;
  };
  sym(d.errorName, "cuGetErrorName");
  if (!sym(d.init, "cuInit") || !sym(d.driverVersion, "cuDriverGetVersion") ||
      !sym(d.deviceCount, "cuDeviceGetCount") || !sym(d.deviceGet, "cuDeviceGet") ||
      !sym(d.deviceName, "cuDeviceGetName") || !sym(d.attribute, "cuDeviceGetAttribute") ||
      !sym(d.totalMem, "cuDeviceTotalMem_v2")) {
    info.cudaStatus = "libcuda.so.1 lacks driver API functions stn needs (a very old driver?)";
    return;
  }
  if (d.driverVersion(&info.cudaDriverVersion) != 0)
    info.cudaDriverVersion = 0;
  if (int rc = d.init(0); rc != 0) {
    info.cudaStatus = fmt::format("the CUDA driver failed to initialize: {}{}", d.nameOf(rc),
                                  rc == 100 ? " (no CUDA device is visible to this process)"
                                            : "");
    return;
  }
  int count = 0;
  if (int rc = d.deviceCount(&count); rc != 0) {
    info.cudaStatus = fmt::format("cuDeviceGetCount failed: {}", d.nameOf(rc));
    return;
  }
  info.cudaAvailable = true;
  info.cudaStatus = count ? "ok" : "the driver reports no CUDA device";
  for (int i = 0; i < count; ++i) {
    CudaDeviceInfo dev;
    dev.index = i;
    int handle = 0;
    if (d.deviceGet(&handle, i) != 0)
      continue;
    char name[256] = {};
    if (d.deviceName(name, sizeof name - 1, handle) == 0)
      dev.name = name;
    d.attribute(&dev.computeMajor, CudaDriver::AttrComputeMajor, handle);
    d.attribute(&dev.computeMinor, CudaDriver::AttrComputeMinor, handle);
    d.attribute(&dev.multiprocessors, CudaDriver::AttrMultiprocessors, handle);
    size_t mem = 0;
    if (d.totalMem(&mem, handle) == 0)
      dev.memoryBytes = mem;
    info.cudaDevices.push_back(std::move(dev));
  }
}

} // namespace

SystemInfo systemInfo() {
  SystemInfo info;
  struct utsname u;
  if (uname(&u) == 0)
    info.os = fmt::format("{} {} {}", u.sysname, u.release, u.machine);
  info.cpuName = cpuModelName();
  long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  info.logicalCores = online > 0 ? static_cast<unsigned>(online)
                                 : std::thread::hardware_concurrency();
  cpu_set_t set;
  info.availableCores = sched_getaffinity(0, sizeof set, &set) == 0
                            ? static_cast<unsigned>(CPU_COUNT(&set))
                            : info.logicalCores;

  info.stnVersion = version();
#ifdef STN_LLVM_VERSION
  info.llvmVersion = STN_LLVM_VERSION;
#endif
#ifdef STN_MLIR_VERSION
  info.mlirVersion = STN_MLIR_VERSION;
#endif

  info.backendPath = detail::backendPath();
  try {
    const BackendPlugin &plugin = detail::backend();
    // "triple cpu +feature,-feature,..."
    std::istringstream desc(plugin.hostDescription());
    std::string features;
    desc >> info.hostTriple >> info.llvmCpu >> features;
    std::stringstream fs(features);
    std::string f;
    while (std::getline(fs, f, ','))
      if (f.size() > 1 && f[0] == '+')
        info.cpuFeatures.push_back(f.substr(1));
  } catch (const Error &e) {
    info.backendError = e.what();
  }

  queryCuda(info);
  if (detail::cudaSimulatorEnabled())
    info.cudaStatus += "; STN_CUDA_SIM is set: GPU kernels run in the CUDA simulator on the CPU";

  info.cacheDir = cache::directory();
  info.cacheEnabled = cache::enabled({}, &info.cacheDisabledBecause);
  cache::DirectoryStats s = cache::stats(info.cacheDir);
  info.cacheEntries = s.entries;
  info.cacheBytes = s.bytes;
  info.cacheLimit = cache::sizeLimit();

  info.threads = defaultThreadCount();
  const char *env = std::getenv("STN_NUM_THREADS");
  info.threadsFrom = env && *env && std::atoi(env) > 0 ? "STN_NUM_THREADS" : "available cores";
  return info;
}

} // namespace stn
