//===- Backend.h - Loading the code generator and compiled kernels -*- C++ -*-===//
//
// libstn links no LLVM or MLIR. The code generator lives in
// libstn-backend.so (compiler/include/stn/Compiler/Backend.h), loaded here
// on first use. Cached kernels are shared objects that load with dlopen
// directly, so a warm start needs no LLVM at all.
//
//===----------------------------------------------------------------------===//

#ifndef STN_RUNTIME_BACKEND_H
#define STN_RUNTIME_BACKEND_H

#include "stn/Compiler/Backend.h"

#include <string>

namespace stn::detail {

/// The code generator; loads libstn-backend.so on the first call (next to
/// libstn.so, or $STN_BACKEND). Throws stn::Error if it cannot be loaded.
const BackendPlugin &backend();
/// Where the back end is (or would be) loaded from.
std::string backendPath();

/// The linker used to turn compiled objects into shared objects for the
/// cache ($STN_LINKER, else the ld.lld found when stn was built); empty if
/// there is none, and the cache then keeps objects for the JIT only.
const std::string &linkerPath();
/// Links a relocatable object into a shared object. False with `error`.
bool linkSharedObject(const std::string &object, std::string &so, std::string &error);
/// A shared object loaded from memory. Its memfd stays open while it is
/// loaded: glibc identifies libraries by path, and a closed descriptor's
/// number (hence /proc/self/fd/N) would be reused by the next one.
struct LoadedObject {
  void *handle = nullptr;
  int fd = -1;
};
/// Loads a shared object held in memory and returns the address of
/// `symbol`; null with `error` (and nothing left loaded) on failure.
void *loadSharedObject(const std::string &so, const std::string &symbol, LoadedObject &out,
                       std::string &error);
void unloadSharedObject(LoadedObject &obj);

} // namespace stn::detail

#endif // STN_RUNTIME_BACKEND_H
