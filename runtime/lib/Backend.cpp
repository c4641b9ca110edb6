//===- Backend.cpp - Loading the code generator and compiled kernels -----===//
//
// See Backend.h. The back end is found next to libstn.so (dladdr on one of
// libstn's own functions), which holds in the build tree and after
// `cmake --install`.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"

#include "stn/Error.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <spawn.h>
#include <sstream>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace stn::detail {

namespace fs = std::filesystem;

std::string backendPath() {
  if (const char *p = std::getenv("STN_BACKEND"); p && *p)
    return p;
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&backendPath), &info) && info.dli_fname)
    return (fs::path(info.dli_fname).parent_path() / "libstn-backend.so").string();
  return "libstn-backend.so";
}

const BackendPlugin &backend() {
  static std::once_flag once;
  static const BackendPlugin *plugin = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    std::string path = backendPath();
    void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      failure = fmt::format("error: cannot load stn's code generator '{}': {}", path, dlerror());
      return;
    }
    auto entry = reinterpret_cast<const BackendPlugin *(*)()>(dlsym(h, "stn_backend_plugin"));
    if (!entry) {
      failure = fmt::format("error: '{}' is not an stn code generator", path);
      return;
    }
    const BackendPlugin *p = entry();
    if (p->abiVersion != BackendABIVersion) {
      failure = fmt::format("error: '{}' is from another stn build (interface {}, expected {})",
                            path, p->abiVersion, BackendABIVersion);
      return;
    }
    plugin = p;
  });
  if (!plugin)
    throw Error(failure);
  return *plugin;
}

const std::string &linkerPath() {
  static const std::string path = [] {
    if (const char *p = std::getenv("STN_LINKER"))
      return std::string(p); // "" disables linking
#ifdef STN_LLD_PATH
    if (::access(STN_LLD_PATH, X_OK) == 0)
      return std::string(STN_LLD_PATH);
#endif
    return std::string();
  }();
  return path;
}

namespace {

bool readFile(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return !in.bad();
}

} // namespace

bool linkSharedObject(const std::string &object, std::string &so, std::string &error) {
  const std::string &lld = linkerPath();
  if (lld.empty()) {
    error = "no linker";
    return false;
  }
  std::error_code ec;
  fs::path dir = fs::temp_directory_path(ec);
  if (ec)
    dir = "/tmp";
  std::string base = (dir / "stn-link-XXXXXX").string();
  std::vector<char> tmpl(base.begin(), base.end());
  tmpl.push_back('\0');
  if (!mkdtemp(tmpl.data())) {
    error = fmt::format("cannot create a temporary directory: {}", std::strerror(errno));
    return false;
  }
  fs::path work(tmpl.data());
  std::string obj = (work / "kernel.o").string(), out = (work / "kernel.so").string();
  bool ok = false;
  {
    std::ofstream f(obj, std::ios::binary);
    f.write(object.data(), static_cast<std::streamsize>(object.size()));
    ok = static_cast<bool>(f);
  }
  if (ok) {
    // Undefined symbols (libm, the kernel runtime in libstn) resolve when
    // the library is loaded into the process. The OpenMP runtime (parallel
    // loops) and libmvec (vectorized math) become DT_NEEDED entries only
    // when the kernel calls them (--as-needed); libomp is found through
    // the run path where the build found it.
    std::string ompDir = fs::path(STN_LIBOMP_PATH).parent_path().string();
    const char *argv[] = {lld.c_str(),     "-shared",       "--hash-style=gnu", "-O1",
                          "-o",            out.c_str(),     obj.c_str(),        "--as-needed",
                          STN_LIBOMP_PATH, "-L/lib/x86_64-linux-gnu", "-L/usr/lib/x86_64-linux-gnu",
                          "-l:libmvec.so.1", "-rpath", ompDir.c_str(), nullptr};
    pid_t pid;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid, lld.c_str(), &actions, nullptr, const_cast<char **>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    if (rc != 0) {
      error = fmt::format("cannot run '{}': {}", lld, std::strerror(rc));
      ok = false;
    } else if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      error = fmt::format("'{}' failed to link a kernel", lld);
      ok = false;
    } else {
      ok = readFile(out, so);
      if (!ok)
        error = "cannot read the linked kernel";
    }
  } else {
    error = "cannot write a temporary object file";
  }
  fs::remove_all(work, ec);
  return ok;
}

void unloadSharedObject(LoadedObject &obj) {
  if (obj.handle)
    dlclose(obj.handle);
  if (obj.fd >= 0)
    ::close(obj.fd);
  obj = LoadedObject();
}

void *loadSharedObject(const std::string &so, const std::string &symbol, LoadedObject &out,
                       std::string &error) {
  out = LoadedObject();
  int fd = memfd_create("stn-kernel", MFD_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("memfd_create: {}", std::strerror(errno));
    return nullptr;
  }
  size_t done = 0;
  while (done < so.size()) {
    ssize_t n = ::write(fd, so.data() + done, so.size() - done);
    if (n <= 0) {
      error = fmt::format("cannot write the kernel: {}", std::strerror(errno));
      ::close(fd);
      return nullptr;
    }
    done += static_cast<size_t>(n);
  }
  std::string path = fmt::format("/proc/self/fd/{}", fd);
  out.fd = fd;
  out.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!out.handle) {
    error = dlerror();
    unloadSharedObject(out);
    return nullptr;
  }
  void *addr = dlsym(out.handle, symbol.c_str());
  if (!addr) {
    error = fmt::format("symbol '{}' not found", symbol);
    unloadSharedObject(out);
  }
  return addr;
}

} // namespace stn::detail
