//===- GPUPipeline.cpp - The one place where GPU passes are ordered -------===//
//
// One function per stage, one pass per line, a comment wherever the order
// matters (shared/NOTES.md, "GPU", has the measurements and pitfalls behind
// it). Each compilation uses a fresh MLIRContext, so several threads may
// compile at once.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/GPUPipeline.h"
#include "stn/Compiler/GPUGen.h"
#include "stn/Compiler/MLIRGen.h"
#include "stn/Compiler/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

#include <cstdlib>

namespace stn {

std::string findCudaToolkit() {
  std::vector<std::string> candidates;
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *v = std::getenv(var); v && *v)
      candidates.push_back(v);
  candidates.push_back("/usr/local/cuda");
  for (auto &dir : candidates)
    if (llvm::sys::fs::exists(dir + "/nvvm/libdevice/libdevice.10.bc"))
      return dir;
  return {};
}

namespace {

std::string mlirToString(mlir::Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->print(os);
  return s;
}

/// MLIR's own diagnostics (from passes and serialization) are collected
/// and attached as a note to the internal error they lead to, instead of
/// going to stderr.
struct MLIRDiagnostics {
  explicit MLIRDiagnostics(mlir::MLIRContext &ctx)
      : Handler(&ctx, [this](mlir::Diagnostic &d) {
          Text += d.str() + "\n";
          return mlir::success();
        }) {}
  void flushInto(DiagnosticEngine &diags) {
    if (!Text.empty())
      diags.note(nullptr, {}, "MLIR reported:\n" + Text);
  }
  std::string Text;
  mlir::ScopedDiagnosticHandler Handler;
};

/// A context that can lower and serialize GPU modules.
void prepareContext(mlir::MLIRContext &ctx) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::gpu::GPUDialect, mlir::NVVM::NVVMDialect, mlir::LLVM::LLVMDialect>();
  // nvvm-attach-target's #nvvm.target serializes through this interface.
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
  mlir::registerGPUDialectTranslation(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
}

//===----------------------------------------------------------------------===//
// Stage 1: typed AST -> gpu.module (GPUGen.h)
//===----------------------------------------------------------------------===//

mlir::OwningOpRef<mlir::ModuleOp> buildGPUModule(mlir::MLIRContext &ctx, const TypedFunction &f,
                                                 std::vector<bool> &writes,
                                                 DiagnosticEngine &diags) {
  auto emitter = createGPUIntrinsicEmitter(diags);
  auto module = generateMLIR(ctx, f, diags, emitter.get());
  if (!module)
    return nullptr;
  // The same cleanup as for CPU kernels (Pipeline.cpp, stage 1), while the
  // functions are still func.funcs in a plain module.
  mlir::PassManager pm(&ctx);
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  pm.addPass(createNarrowIntegersPass());
  pm.addPass(mlir::createCanonicalizerPass());
  if (mlir::failed(pm.run(*module))) {
    diags.error(nullptr, {}, "internal compiler error: MLIR cleanup failed");
    return nullptr;
  }
  if (!outlineGPUKernel(*module, f, diags))
    return nullptr;
  // Functions the kernel does not reach (a stacked gufunc's per-image
  // stencil loop, which its GPU driver replaces) would still become
  // visible PTX functions.
  mlir::PassManager dce(&ctx);
  dce.nest<mlir::gpu::GPUModuleOp>().addPass(mlir::createSymbolDCEPass());
  if (mlir::failed(dce.run(*module))) {
    diags.error(nullptr, {}, "internal compiler error: MLIR cleanup failed");
    return nullptr;
  }
  writes = writtenParameters(*module, f);
  return module;
}

//===----------------------------------------------------------------------===//
// Stage 2: gpu.module -> LLVM + NVVM dialects
//===----------------------------------------------------------------------===//

bool lowerToNVVM(mlir::MLIRContext &ctx, mlir::ModuleOp module, const GPUOptions &opts,
                 bool fastmath, DiagnosticEngine &diags) {
  mlir::PassManager pm(&ctx);
  // The target goes on the gpu.module first: gpu-module-to-binary (stage 3)
  // reads chip, PTX version, optimization level and the fast-math flags
  // from it. CUDA 13's ptxas rejects the default sm_50.
  mlir::GpuNVVMAttachTargetOptions target;
  target.chip = opts.arch;
  target.features = "+ptx80";
  target.optLevel = opts.optLevel;
  target.fastFlag = fastmath;
  target.ftzFlag = fastmath;
  pm.addPass(mlir::createGpuNVVMAttachTarget(target));
  // NVPTX's data layout before translation, which otherwise takes LLVM's
  // default one: int64 loads and stores would be 4-byte aligned and split
  // into two 32-bit accesses.
  module.walk([&](mlir::gpu::GPUModuleOp gm) {
    gm->setAttr(mlir::LLVM::LLVMDialect::getDataLayoutAttrName(),
                mlir::StringAttr::get(&ctx, "e-i64:64-i128:128-v16:16-v32:32-n16:32:64"));
  });
  mlir::OpPassManager &gpm = pm.nest<mlir::gpu::GPUModuleOp>();
  // Views (subview, reinterpret_cast) become explicit offset/stride
  // arithmetic in affine.apply, which lower-affine turns into arith.
  gpm.addPass(mlir::memref::createExpandStridedMetadataPass());
  gpm.addPass(mlir::createLowerAffinePass());
  // floordivsi, ceildivsi, maximumf, ... have no direct LLVM lowering.
  gpm.addPass(mlir::arith::createArithExpandOpsPass());
  gpm.addPass(mlir::createConvertComplexToStandardPass());
  // scf.if / scf.while from expressions become blocks before the NVVM
  // conversion, which has no SCF patterns.
  gpm.addPass(mlir::createConvertSCFToCFPass());
  // What complex-to-standard leaves (create, re, im) becomes LLVM structs;
  // the NVVM conversion has no complex patterns in LLVM 19.
  gpm.addPass(mlir::createConvertComplexToLLVMPass());
  // gpu -> nvvm intrinsics, math -> libdevice calls (__nv_*), memref,
  // arith, cf, func -> LLVM. 64-bit indices, as on the CPU.
  mlir::ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  gpm.addPass(mlir::createConvertGpuOpsToNVVMOps(nvvm));
  // After it: math operations libdevice does not cover (copysign, which
  // complex division uses, ctpop, ...) become LLVM intrinsics NVPTX has.
  gpm.addPass(mlir::createConvertMathToLLVMPass());
  gpm.addPass(mlir::createCanonicalizerPass());
  gpm.addPass(mlir::createCSEPass());
  pm.addPass(mlir::createReconcileUnrealizedCastsPass());
  if (mlir::failed(pm.run(module))) {
    diags.error(nullptr, {}, "internal compiler error: lowering the GPU kernel to NVVM failed:\n" +
                                 mlirToString(module));
    return false;
  }
  // The memref atomics lower to acq_rel read-modify-writes, which NVPTX
  // brackets with fences; Numba's atomics are relaxed (monotonic), and a
  // kernel orders memory with syncthreads.
  module.walk([](mlir::LLVM::AtomicRMWOp op) {
    op.setOrdering(mlir::LLVM::AtomicOrdering::monotonic);
  });
  module.walk([](mlir::LLVM::AtomicCmpXchgOp op) {
    op.setSuccessOrdering(mlir::LLVM::AtomicOrdering::monotonic);
    op.setFailureOrdering(mlir::LLVM::AtomicOrdering::monotonic);
  });
  // Without fastmath, float32 sqrt is LLVM's intrinsic, which NVPTX emits
  // as the correctly rounded sqrt.rn.f32 (as Numba does): libdevice's
  // __nv_sqrtf is sqrt.approx.f32 unless __CUDA_PREC_SQRT is set, which
  // NVVM reflection in LLVM 19 cannot be told. (The NVVM conversion
  // forbids the intrinsic, hence after it.)
  if (!fastmath)
    module.walk([](mlir::LLVM::CallOp call) {
      auto callee = call.getCallee();
      if (!callee || *callee != "__nv_sqrtf" || call.getNumOperands() != 1)
        return;
      mlir::OpBuilder b(call);
      auto sqrt = b.create<mlir::LLVM::SqrtOp>(call.getLoc(), call.getOperand(0));
      call.getResult().replaceAllUsesWith(sqrt.getResult());
      call.erase();
    });
  return true;
}

/// Whether the lowered module calls libdevice (math functions).
bool needsLibdevice(mlir::ModuleOp module) {
  bool needs = false;
  module.walk([&](mlir::LLVM::LLVMFuncOp fn) {
    if (fn.isExternal() && fn.getName().starts_with("__nv_"))
      needs = true;
  });
  return needs;
}

//===----------------------------------------------------------------------===//
// Stage 3: NVVM -> PTX (LLVM's NVPTX back end, libdevice linked)
//===----------------------------------------------------------------------===//

bool serializeToPTX(mlir::MLIRContext &ctx, mlir::ModuleOp module, std::string &ptx,
                    DiagnosticEngine &diags) {
  std::string toolkit = findCudaToolkit();
  if (toolkit.empty() && needsLibdevice(module)) {
    // Without libdevice the PTX would keep `.extern .func __nv_*` calls
    // that neither ptxas nor the driver can resolve.
    diags.error(nullptr, {},
                "error: this GPU kernel calls math functions, which come from libdevice in the "
                "CUDA toolkit, and no toolkit was found (looked in $CUDA_HOME, $CUDA_PATH and "
                "/usr/local/cuda for nvvm/libdevice/libdevice.10.bc); set CUDA_HOME to the "
                "toolkit's directory");
    return false;
  }
  mlir::PassManager pm(&ctx);
  mlir::GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = toolkit; // libdevice is linked from here
  binary.compilationTarget = "isa";
  pm.addPass(mlir::createGpuModuleToBinaryPass(binary));
  if (mlir::failed(pm.run(module))) {
    diags.error(nullptr, {}, "internal compiler error: PTX generation failed");
    return false;
  }
  mlir::gpu::BinaryOp bin;
  module.walk([&](mlir::gpu::BinaryOp b) { bin = b; });
  if (!bin || bin.getObjects().empty()) {
    diags.error(nullptr, {}, "internal compiler error: no PTX was produced");
    return false;
  }
  auto object = llvm::cast<mlir::gpu::ObjectAttr>(bin.getObjects()[0]);
  ptx = object.getObject().getValue().str();
  // The blob is NUL-terminated for the driver; ptxas rejects the NUL.
  while (!ptx.empty() && ptx.back() == '\0')
    ptx.pop_back();
  return true;
}

//===----------------------------------------------------------------------===//
// Stage 4: PTX -> cubin (ptxas as a subprocess)
//===----------------------------------------------------------------------===//

std::string findPtxas() {
  if (const char *p = std::getenv("STN_PTXAS"))
    return p; // "" disables ptxas: the driver JITs the PTX
  std::string toolkit = findCudaToolkit();
  if (!toolkit.empty() && llvm::sys::fs::can_execute(toolkit + "/bin/ptxas"))
    return toolkit + "/bin/ptxas";
  auto found = llvm::sys::findProgramByName("ptxas");
  return found ? *found : std::string();
}

bool runPtxas(const std::string &ptxas, const std::string &ptx, const GPUOptions &opts,
              std::string &cubin, DiagnosticEngine &diags) {
  llvm::SmallString<128> in, out, log;
  int fd = -1;
  if (llvm::sys::fs::createTemporaryFile("stn-kernel", "ptx", fd, in)) {
    diags.error(nullptr, {}, "error: cannot create a temporary file for ptxas");
    return false;
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << ptx;
  }
  llvm::sys::fs::createTemporaryFile("stn-kernel", "cubin", out);
  llvm::sys::fs::createTemporaryFile("stn-ptxas", "log", log);
  std::string arch = "-arch=" + opts.arch;
  std::string opt = fmt::format("-O{}", opts.optLevel);
  llvm::SmallVector<llvm::StringRef> argv = {ptxas, arch, opt, in.str(), "-o", out.str()};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.str(), log.str()};
  std::string err;
  int rc = llvm::sys::ExecuteAndWait(ptxas, argv, std::nullopt, redirects, 0, 0, &err);
  bool ok = rc == 0;
  if (ok) {
    auto buf = llvm::MemoryBuffer::getFile(out, /*IsText=*/false);
    ok = static_cast<bool>(buf);
    if (ok)
      cubin = (*buf)->getBuffer().str();
    else
      err = "cannot read its output";
  }
  if (!ok) {
    std::string text;
    if (auto buf = llvm::MemoryBuffer::getFile(log))
      text = (*buf)->getBuffer().str();
    diags.error(nullptr, {},
                fmt::format("internal compiler error: ptxas ('{}') rejected the generated PTX "
                            "for {}{}{}\n{}",
                            ptxas, opts.arch, err.empty() ? "" : ": ", err, text));
  }
  llvm::sys::fs::remove(in);
  llvm::sys::fs::remove(out);
  llvm::sys::fs::remove(log);
  return ok;
}

bool isGpuKernel(const TypedFunction &f, DiagnosticEngine &diags) {
  if (f.kind == KernelKind::Gpu)
    return true;
  // A target="cuda" driver writes an out= array (the runtime allocates it).
  if (f.decl && isGpuDriver(*f.decl) && f.kind == f.decl->kind && f.hasOut)
    return true;
  // A prange nest of a @jit(target="cuda") kernel (GpuRegions.h).
  if (f.regionHost && f.regionIndex >= 0)
    return true;
  diags.error(f.file, f.def->nameRange,
              fmt::format("'{}' is not a GPU kernel: PTX is generated for @cuda.jit / @kernel "
                          "functions and for stencils, ufuncs and gufuncs with target=\"cuda\"",
                          f.def->name));
  return false;
}

} // namespace

/// The stages in a prepared context (their diagnostics are collected).
static bool emitGPUStageIn(mlir::MLIRContext &ctx, const TypedFunction &f, IRStage stage,
                           const GPUOptions &opts, std::string &out, DiagnosticEngine &diags);
static bool compileGPUIn(mlir::MLIRContext &ctx, const TypedFunction &f,
                         const GPUOptions &opts, GPUBinary &out, DiagnosticEngine &diags);

/// Runs `fn` on a fresh prepared context for the GPU kernel `f`; where it
/// fails, MLIR's own diagnostics go to `diags` too.
static bool inGPUContext(const TypedFunction &f, DiagnosticEngine &diags,
                         llvm::function_ref<bool(mlir::MLIRContext &)> fn) {
  if (!isGpuKernel(f, diags))
    return false;
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  prepareContext(ctx);
  MLIRDiagnostics mlirDiags(ctx);
  bool ok = fn(ctx);
  if (!ok)
    mlirDiags.flushInto(diags);
  return ok;
}

bool gpuWrittenParameters(const TypedFunction &f, std::vector<bool> &writes,
                          DiagnosticEngine &diags) {
  return inGPUContext(f, diags, [&](mlir::MLIRContext &ctx) {
    return static_cast<bool>(buildGPUModule(ctx, f, writes, diags));
  });
}

bool emitGPUStage(const TypedFunction &f, IRStage stage, const GPUOptions &opts,
                  std::string &out, DiagnosticEngine &diags) {
  return inGPUContext(f, diags, [&](mlir::MLIRContext &ctx) {
    return emitGPUStageIn(ctx, f, stage, opts, out, diags);
  });
}

static bool emitGPUStageIn(mlir::MLIRContext &ctx, const TypedFunction &f, IRStage stage,
                           const GPUOptions &opts, std::string &out, DiagnosticEngine &diags) {
  std::vector<bool> writes;
  auto module = buildGPUModule(ctx, f, writes, diags);
  if (!module)
    return false;
  if (stage == IRStage::MLIR) {
    // Which host arrays a launch copies back (writtenParameters).
    std::string names;
    const GpuRegion *region =
        f.regionHost ? &f.regionHost->gpuRegions[f.regionIndex] : nullptr;
    for (size_t i = 0; i < writes.size(); ++i) {
      if (!writes[i])
        continue;
      std::string name;
      if (region)
        name = i < region->freeVars.size() ? region->freeVars[i] : "its reduction results";
      else
        name = i < f.def->params.size() ? f.def->params[i].name : "out";
      if (names.find(name) == std::string::npos)
        names += (names.empty() ? "" : ", ") + name;
    }
    out = "// stn: the kernel may write " + (names.empty() ? "no array" : names) + "\n" +
          mlirToString(*module);
    return true;
  }
  bool fastmath = f.decl && f.decl->options.fastmath;
  if (!lowerToNVVM(ctx, *module, opts, fastmath, diags))
    return false;
  if (stage == IRStage::Lowered) {
    out = mlirToString(*module);
    return true;
  }
  if (stage == IRStage::LLVM) {
    mlir::gpu::GPUModuleOp gm;
    module->walk([&](mlir::gpu::GPUModuleOp m) { gm = m; });
    llvm::LLVMContext llctx;
    auto m = mlir::translateModuleToLLVMIR(gm, llctx, GPUModuleName);
    if (!m) {
      diags.error(nullptr, {}, "internal compiler error: translation to LLVM IR failed");
      return false;
    }
    m->setTargetTriple("nvptx64-nvidia-cuda");
    llvm::raw_string_ostream os(out);
    m->print(os, nullptr);
    return true;
  }
  return serializeToPTX(ctx, *module, out, diags);
}

bool compileGPU(const TypedFunction &f, const GPUOptions &opts, GPUBinary &out,
                DiagnosticEngine &diags) {
  return inGPUContext(f, diags, [&](mlir::MLIRContext &ctx) {
    return compileGPUIn(ctx, f, opts, out, diags);
  });
}

static bool compileGPUIn(mlir::MLIRContext &ctx, const TypedFunction &f,
                         const GPUOptions &opts, GPUBinary &out, DiagnosticEngine &diags) {
  out = GPUBinary();
  out.arch = opts.arch;
  out.kernelName = f.symbol;
  auto module = buildGPUModule(ctx, f, out.writes, diags);
  if (!module)
    return false;
  // Where its code may raise: the texts of its fault record.
  if (auto texts = (*module)->getAttrOfType<mlir::ArrayAttr>(GPUFaultTextsAttr))
    for (mlir::Attribute t : texts)
      out.faultTexts.push_back(llvm::cast<mlir::StringAttr>(t).getValue().str());
  bool fastmath = f.decl && f.decl->options.fastmath;
  if (!lowerToNVVM(ctx, *module, opts, fastmath, diags) ||
      !serializeToPTX(ctx, *module, out.ptx, diags))
    return false;
  std::string ptxas = findPtxas();
  if (!ptxas.empty() && !runPtxas(ptxas, out.ptx, opts, out.cubin, diags))
    return false;
  return true;
}

} // namespace stn
