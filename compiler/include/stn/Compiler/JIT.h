//===- JIT.h - Loading compiled objects into the process --------*- C++ -*-===//
//
// A thin wrapper over ORC's LLJIT: objects produced by compileToObject are
// linked into one JITDylib that also resolves symbols of the host process
// (libm). Adding objects is serialized; looked-up entry points stay valid
// for the JIT's lifetime.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_JIT_H
#define STN_COMPILER_JIT_H

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace llvm {
class MemoryBuffer;
namespace orc {
class LLJIT;
} // namespace orc
} // namespace llvm

namespace stn {

class JIT {
public:
  ~JIT();
  /// Creates a JIT for the host; null with a message in `error` on failure.
  /// `symbols` are defined in the JIT's dylib (the kernel runtime's
  /// functions), ahead of the process's own symbols.
  static std::unique_ptr<JIT>
  create(std::string &error,
         const std::vector<std::pair<std::string, void *>> &symbols = {});
  /// Links `object` and returns the address of `symbol`, or null with a
  /// message in `error`.
  void *addObject(std::unique_ptr<llvm::MemoryBuffer> object, const std::string &symbol,
                  std::string &error);

private:
  JIT() = default;
  std::unique_ptr<llvm::orc::LLJIT> J;
  std::mutex Mutex;
};

} // namespace stn

#endif // STN_COMPILER_JIT_H
