//===- JIT.cpp - Loading compiled objects into the process ----------------===//
//
// Objects are linked by ORC (JITLink on x86-64 Linux). Symbols the objects
// import (libm, memcpy/memset emitted by the optimizer) resolve against the
// host process.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/JIT.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

namespace stn {

JIT::~JIT() = default;

std::unique_ptr<JIT> JIT::create(std::string &error,
                                 const std::vector<std::pair<std::string, void *>> &symbols) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) {
    error = llvm::toString(jtmb.takeError());
    return nullptr;
  }
  auto lljit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
  if (!lljit) {
    error = llvm::toString(lljit.takeError());
    return nullptr;
  }
  auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*lljit)->getDataLayout().getGlobalPrefix());
  if (!gen) {
    error = llvm::toString(gen.takeError());
    return nullptr;
  }
  (*lljit)->getMainJITDylib().addGenerator(std::move(*gen));
  // Parallel loops call the OpenMP runtime (__kmpc_fork_call, ...) and
  // vectorized math calls libmvec (_ZGVdN8v_sinf, ...): both are loaded
  // here rather than linked into every host program. The OpenMP runtime is
  // looked up by its soname first (LD_LIBRARY_PATH, a carried copy), then
  // where the build found it.
  auto addLibrary = [&](const char *lib) {
    auto g = llvm::orc::DynamicLibrarySearchGenerator::Load(
        lib, (*lljit)->getDataLayout().getGlobalPrefix());
    if (!g) {
      llvm::consumeError(g.takeError());
      return false;
    }
    (*lljit)->getMainJITDylib().addGenerator(std::move(*g));
    return true;
  };
  if (!addLibrary("libomp.so.5"))
    addLibrary(STN_LIBOMP_PATH);
  addLibrary("libmvec.so.1");
  if (!symbols.empty()) {
    llvm::orc::SymbolMap map;
    for (auto &[name, addr] : symbols)
      map[(*lljit)->mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(addr),
                                              llvm::JITSymbolFlags::Exported};
    if (auto err = (*lljit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(map))) {
      error = llvm::toString(std::move(err));
      return nullptr;
    }
  }
  std::unique_ptr<JIT> jit(new JIT());
  jit->J = std::move(*lljit);
  return jit;
}

void *JIT::addObject(std::unique_ptr<llvm::MemoryBuffer> object, const std::string &symbol,
                     std::string &error) {
  std::lock_guard<std::mutex> lock(Mutex);
  if (auto err = J->addObjectFile(std::move(object))) {
    error = llvm::toString(std::move(err));
    return nullptr;
  }
  auto addr = J->lookup(symbol);
  if (!addr) {
    error = llvm::toString(addr.takeError());
    return nullptr;
  }
  return addr->toPtr<void *>();
}

} // namespace stn
