//===- Backend.cpp - The table libstn calls into libstn-backend.so -------===//
//
// Adapts Pipeline.h and JIT.h to the plain-function interface of Backend.h.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/Backend.h"
#include "stn/Compiler/GPUPipeline.h"
#include "stn/Compiler/JIT.h"
#include "stn/Compiler/Pipeline.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/MemoryBuffer.h"

#include <fmt/format.h>

namespace stn {
namespace {

bool compileToObjectImpl(const TypedFunction &f, const std::string &symbol, unsigned optLevel,
                         std::string &object, DiagnosticEngine &diags, bool gpuSimulator = false) {
  CodegenOptions opts;
  opts.optLevel = optLevel;
  opts.gpuSimulator = gpuSimulator;
  auto buf = compileToObject(f, symbol, opts, diags);
  if (!buf)
    return false;
  object.assign(buf->getBufferStart(), buf->getBufferSize());
  return true;
}

bool emitStageImpl(const TypedFunction &f, int stage, unsigned optLevel, std::string &out,
                   DiagnosticEngine &diags) {
  CodegenOptions opts;
  opts.optLevel = optLevel;
  return emitStage(f, static_cast<IRStage>(stage), opts, out, diags);
}

void *createJITImpl(const std::vector<std::pair<std::string, void *>> &symbols,
                    std::string &error) {
  return JIT::create(error, symbols).release();
}

void *addObjectImpl(void *jit, const std::string &object, const std::string &symbol,
                    std::string &error) {
  auto buf = llvm::MemoryBuffer::getMemBufferCopy(object, symbol);
  return static_cast<JIT *>(jit)->addObject(std::move(buf), symbol, error);
}

void destroyJITImpl(void *jit) { delete static_cast<JIT *>(jit); }

std::string hostDescriptionImpl() {
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) {
    llvm::consumeError(jtmb.takeError());
    return "unknown";
  }
  return fmt::format("{} {} {}", jtmb->getTargetTriple().str(), jtmb->getCPU(),
                     jtmb->getFeatures().getString());
}

bool compileGPUImpl(const TypedFunction &f, const std::string &arch, unsigned optLevel,
                    GPUBinary &out, DiagnosticEngine &diags) {
  GPUOptions opts;
  opts.arch = arch;
  opts.optLevel = optLevel;
  return compileGPU(f, opts, out, diags);
}

bool emitGPUStageImpl(const TypedFunction &f, int stage, const std::string &arch,
                      unsigned optLevel, std::string &out, DiagnosticEngine &diags) {
  GPUOptions opts;
  opts.arch = arch;
  opts.optLevel = optLevel;
  return emitGPUStage(f, static_cast<IRStage>(stage), opts, out, diags);
}

bool compileGPUSimulatorImpl(const TypedFunction &f, const std::string &symbol,
                             unsigned optLevel, std::string &object, std::vector<bool> &writes,
                             DiagnosticEngine &diags) {
  return compileToObjectImpl(f, symbol, optLevel, object, diags, /*gpuSimulator=*/true) &&
         gpuWrittenParameters(f, writes, diags);
}

bool compileCPUImpl(const TypedFunction &f, const std::string &symbol, unsigned optLevel,
                    std::string &object, DiagnosticEngine &diags) {
  return compileToObjectImpl(f, symbol, optLevel, object, diags);
}

const BackendPlugin Plugin = {BackendABIVersion,   compileCPUImpl,   emitStageImpl,
                              createJITImpl,       addObjectImpl,    destroyJITImpl,
                              hostDescriptionImpl, compileGPUImpl,   emitGPUStageImpl,
                              compileGPUSimulatorImpl};

} // namespace
} // namespace stn

extern "C" const stn::BackendPlugin *stn_backend_plugin() { return &stn::Plugin; }
