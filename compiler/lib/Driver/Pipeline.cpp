//===- Pipeline.cpp - The one place where passes are ordered --------------===//
//
// One function per stage, one pass per line, a comment wherever the order
// matters (see shared/NOTES.md for the measurements behind the choices).
// Each compilation uses a fresh MLIRContext and LLVMContext, so several
// threads may compile at once.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/Pipeline.h"
#include "stn/Compiler/GPUGen.h"
#include "stn/Compiler/MLIRGen.h"
#include "stn/Compiler/OptimizationReport.h"
#include "stn/Compiler/Passes.h"

#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <fmt/format.h>

#include <mutex>

namespace stn {

namespace {

void initializeLLVM() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

std::string mlirToString(mlir::ModuleOp m) {
  std::string s;
  llvm::raw_string_ostream os(s);
  m.print(os);
  return s;
}

//===----------------------------------------------------------------------===//
// Stage 1: typed AST -> MLIR in upstream dialects
//===----------------------------------------------------------------------===//

mlir::OwningOpRef<mlir::ModuleOp> buildMLIR(mlir::MLIRContext &ctx, const TypedFunction &f,
                                            const CodegenOptions &opts, DiagnosticEngine &diags,
                                            CodegenLog *log = nullptr) {
  std::unique_ptr<GPUIntrinsicEmitter> sim;
  if (opts.gpuSimulator)
    sim = createGPUSimulatorEmitter(diags);
  auto module = generateMLIR(ctx, f, diags, sim.get(), log);
  if (!module)
    return nullptr;
  // The simulator refuses what a GPU would.
  if (sim && !checkGPUCode(*module, f, diags))
    return nullptr;
  // Clean up what MLIRGen leaves for the canonicalizer: redundant block
  // arguments from SSA construction, unreachable blocks after returns.
  mlir::PassManager pm(&ctx);
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  // After cleanup (constants folded, so ranges are tight): int64 arithmetic
  // that provably fits runs in 16/32 bits; the canonicalizer then folds the
  // trunci/extsi pairs between narrowed operations.
  pm.addPass(createNarrowIntegersPass());
  pm.addPass(mlir::createCanonicalizerPass());
  if (mlir::failed(pm.run(*module))) {
    diags.error(nullptr, {}, "internal compiler error: MLIR cleanup failed");
    return nullptr;
  }
  return module;
}

//===----------------------------------------------------------------------===//
// Stage 2: upstream dialects -> LLVM dialect
//===----------------------------------------------------------------------===//

bool lowerToLLVMDialect(mlir::MLIRContext &ctx, mlir::ModuleOp module,
                        DiagnosticEngine &diags) {
  mlir::PassManager pm(&ctx);
  // Subviews become reinterpret_casts with explicit offset/stride
  // arithmetic (in affine.apply), which lower-affine turns into arith.
  pm.addPass(mlir::memref::createExpandStridedMetadataPass());
  pm.addPass(mlir::createLowerAffinePass());
  // floordivsi, ceildivsi, maximumf, ... have no direct LLVM lowering.
  pm.addPass(mlir::arith::createArithExpandOpsPass());
  // Complex division, abs, exp, ... become arith/math first, so the
  // arith/math lowerings below see them.
  pm.addPass(mlir::createConvertComplexToStandardPass());
  // memref.alloc/dealloc call the runtime's _mlir_memref_to_llvm_alloc/free
  // (runtime/lib/KernelRuntime.cpp), which track what a call allocates so
  // that returned arrays are handed to the host and the rest is freed.
  mlir::FinalizeMemRefToLLVMConversionPassOptions memrefOptions;
  memrefOptions.useGenericFunctions = true;
  pm.addPass(mlir::createFinalizeMemRefToLLVMConversionPass(memrefOptions));
  // scf.if / scf.while from expressions become plain blocks.
  pm.addPass(mlir::createConvertSCFToCFPass());
  pm.addPass(mlir::createArithToLLVMConversionPass());
  // Intrinsics first (sqrt, exp, sin, ...); what has no intrinsic (tan,
  // atan, atan2, sinh, erf, ...) becomes a libm call.
  pm.addPass(mlir::createConvertMathToLLVMPass());
  pm.addPass(mlir::createConvertMathToLibmPass());
  pm.addPass(mlir::createConvertComplexToLLVMPass());
  // After math-to-libm: it creates func.func declarations and calls.
  pm.addPass(mlir::createConvertFuncToLLVMPass());
  pm.addPass(mlir::createConvertControlFlowToLLVMPass());
  // omp.parallel regions (parallel loops, MLIRGen's planParallel) keep their
  // structure down to LLVM IR, where the OpenMP translation outlines them
  // into __kmpc_fork_call; this only legalizes their operand types.
  pm.addPass(mlir::createConvertOpenMPToLLVMPass());
  pm.addPass(mlir::createReconcileUnrealizedCastsPass());
  if (mlir::failed(pm.run(module))) {
    diags.error(nullptr, {},
                "internal compiler error: lowering to the LLVM dialect failed:\n" +
                    mlirToString(module));
    return false;
  }
  return true;
}

/// For the optimization report only: gives every llvm.func a debug scope,
/// so that the FileLineColLocs into the .stn file become DILocations in
/// LLVM IR and LLVM's remarks can name source lines. Normal compilations
/// skip this: their code carries no debug info.
bool addSourceLineDebugInfo(mlir::MLIRContext &ctx, mlir::ModuleOp module,
                            DiagnosticEngine &diags) {
  mlir::PassManager pm(&ctx);
  pm.addPass(mlir::LLVM::createDIScopeForLLVMFuncOpPass());
  if (mlir::failed(pm.run(module))) {
    diags.error(nullptr, {}, "internal compiler error: adding source locations failed");
    return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Stage 3: LLVM dialect -> LLVM IR, plus the packed entry wrapper
//===----------------------------------------------------------------------===//

/// Adds `void entrySymbol(void **args)` calling the kernel (see Pipeline.h).
bool addEntryWrapper(llvm::Module &m, const TypedFunction &f, const std::string &entrySymbol,
                     bool noResult, DiagnosticEngine &diags) {
  llvm::Function *kernel = m.getFunction(f.symbol);
  if (!kernel) {
    diags.error(nullptr, {}, "internal compiler error: kernel function missing after lowering");
    return false;
  }
  llvm::LLVMContext &ctx = m.getContext();
  llvm::Type *ptrTy = llvm::PointerType::get(ctx, 0);
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  llvm::Type *i8 = llvm::Type::getInt8Ty(ctx);
  auto *wrapperTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy}, false);
  auto *w = llvm::Function::Create(wrapperTy, llvm::Function::ExternalLinkage, entrySymbol, m);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", w));
  llvm::Value *args = w->getArg(0);
  auto slot = [&](unsigned i) {
    return b.CreateLoad(ptrTy, b.CreateConstInBoundsGEP1_64(ptrTy, args, i));
  };
  auto field = [&](llvm::Value *base, llvm::Type *t, unsigned byteOffset) {
    return b.CreateLoad(t, b.CreateConstInBoundsGEP1_64(i8, base, byteOffset));
  };
  llvm::FunctionType *kty = kernel->getFunctionType();
  std::vector<llvm::Value *> callArgs;
  for (size_t i = 0; i < f.argTypes.size(); ++i) {
    const Type &t = f.argTypes[i];
    llvm::Value *p = slot(i);
    if (t.isArray()) {
      unsigned r = t.rank();
      callArgs.push_back(field(p, ptrTy, 0));
      callArgs.push_back(field(p, ptrTy, 8));
      callArgs.push_back(field(p, i64, 16));
      for (unsigned d = 0; d < 2 * r; ++d)
        callArgs.push_back(field(p, i64, 24 + 8 * d));
    } else if (t.isScalar()) {
      if (callArgs.size() >= kty->getNumParams())
        break;
      llvm::Type *pt = kty->getParamType(callArgs.size());
      if (t.scalarKind() == ScalarKind::Bool)
        callArgs.push_back(b.CreateTrunc(b.CreateLoad(i8, p), pt));
      else
        callArgs.push_back(b.CreateLoad(pt, p));
    } else if (t.isNone()) {
      continue; // None: no value
    } else {
      diags.error(f.file, f.def->nameRange,
                  "kernel parameters of type " + t.describe() +
                      " cannot be passed from the host; pass the elements as separate "
                      "parameters");
      return false;
    }
  }
  if (callArgs.size() != kty->getNumParams()) {
    diags.error(nullptr, {}, "internal compiler error: entry ABI mismatch");
    return false;
  }
  llvm::CallInst *call = b.CreateCall(kernel, callArgs);
  std::vector<Type> leaves;
  if (!noResult)
    f.resultType.collectLeaves(leaves);
  unsigned n = static_cast<unsigned>(f.argTypes.size());
  for (unsigned k = 0; k < leaves.size(); ++k) {
    llvm::Value *v = leaves.size() == 1 ? static_cast<llvm::Value *>(call)
                                        : b.CreateExtractValue(call, {k});
    if (leaves[k].isScalar() && leaves[k].scalarKind() == ScalarKind::Bool)
      v = b.CreateZExt(v, i8);
    b.CreateStore(v, slot(n + k));
  }
  b.CreateRetVoid();
  // Everything but the entry is private to this object, so objects of
  // different specializations never clash in the JIT.
  for (llvm::Function &fn : m)
    if (&fn != w && !fn.isDeclaration())
      fn.setLinkage(llvm::GlobalValue::InternalLinkage);
  return true;
}

std::unique_ptr<llvm::TargetMachine> hostTargetMachine(unsigned optLevel,
                                                       DiagnosticEngine &diags) {
  initializeLLVM();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) {
    diags.error(nullptr, {}, "cannot detect the host CPU: " + llvm::toString(jtmb.takeError()));
    return nullptr;
  }
  // The host's CPU and features (AVX2/AVX-512): a generic x86-64 target
  // only gets SSE2 and vectorizes far less.
  jtmb->setCodeGenOptLevel(optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
                           : optLevel == 0 ? llvm::CodeGenOptLevel::None
                                           : llvm::CodeGenOptLevel::Default);
  jtmb->setRelocationModel(llvm::Reloc::PIC_);
  // The small code model: one object's code and data are linked into one
  // block (JITLink), so calls between its functions and loads of its
  // constants are PC-relative; calls into the runtime and libraries go
  // through the stubs JITLink makes. detectHost() picks the large model,
  // where every call is an indirect call through an absolute address.
  jtmb->setCodeModel(llvm::CodeModel::Small);
  auto tm = jtmb->createTargetMachine();
  if (!tm) {
    diags.error(nullptr, {}, "cannot create the host target machine: " +
                                 llvm::toString(tm.takeError()));
    return nullptr;
  }
  return std::move(*tm);
}

std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &ctx,
                                                const TypedFunction &f,
                                                const std::string &entrySymbol,
                                                llvm::TargetMachine &tm,
                                                const CodegenOptions &opts,
                                                DiagnosticEngine &diags) {
  mlir::registerBuiltinDialectTranslation(*module.getContext());
  mlir::registerLLVMDialectTranslation(*module.getContext());
  mlir::registerOpenMPDialectTranslation(*module.getContext());
  auto m = mlir::translateModuleToLLVMIR(module, ctx, "stn");
  if (!m) {
    diags.error(nullptr, {}, "internal compiler error: translation to LLVM IR failed");
    return nullptr;
  }
  m->setDataLayout(tm.createDataLayout());
  m->setTargetTriple(tm.getTargetTriple().str());
  // A simulated GPU kernel returns nothing (a driver writes its out=).
  if (!addEntryWrapper(*m, f, entrySymbol, opts.gpuSimulator, diags))
    return nullptr;
  std::string err;
  llvm::raw_string_ostream os(err);
  if (llvm::verifyModule(*m, &os)) {
    diags.error(nullptr, {}, "internal compiler error: invalid LLVM IR: " + err);
    return nullptr;
  }
  return m;
}

//===----------------------------------------------------------------------===//
// Stage 4: LLVM optimization for the host CPU
//===----------------------------------------------------------------------===//

/// Whether `f` or a function it calls allows approximate math functions
/// (fastmath's "afn"): then vector math library calls may replace libm's.
bool allowsApproximateMath(const TypedFunction &f) {
  return anyReachable(f, [](const TypedFunction &g) {
    return g.decl && (g.decl->options.fastmathFlags & FMApproxFunc);
  });
}

void optimize(llvm::Module &m, llvm::TargetMachine &tm, unsigned optLevel, bool vectorMath) {
  // Every function gets the host CPU and features, so the vectorizer's cost
  // model sees the real vector width.
  for (llvm::Function &fn : m) {
    if (fn.isDeclaration())
      continue;
    fn.addFnAttr("target-cpu", tm.getTargetCPU());
    fn.addFnAttr("target-features", tm.getTargetFeatureString());
  }
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = optLevel >= 2;
  pto.SLPVectorization = optLevel >= 2;
  llvm::PassBuilder pb(&tm, pto);
  // With fastmath's "afn" (approximate functions; fastmath=True sets it),
  // vectorized loops call glibc's vector math library (libmvec: sin, cos,
  // exp, log, pow, ... on 2-16 lanes, at most 4 ulp from the correctly
  // rounded result), so math over arrays vectorizes. Without it math calls
  // stay scalar libm calls, bit-identical to C++'s std::sin & co. The JIT
  // and cached kernels load libmvec.so.1 (JIT.cpp, runtime/lib/Backend.cpp).
  llvm::TargetLibraryInfoImpl tlii(llvm::Triple(m.getTargetTriple()));
  if (vectorMath)
    tlii.addVectorizableFunctionsFromVecLib(llvm::TargetLibraryInfoImpl::LIBMVEC_X86,
                                            llvm::Triple(m.getTargetTriple()));
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = optLevel >= 3   ? llvm::OptimizationLevel::O3
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                                  : llvm::OptimizationLevel::O0;
  llvm::ModulePassManager mpm = level == llvm::OptimizationLevel::O0
                                    ? pb.buildO0DefaultPipeline(level)
                                    : pb.buildPerModuleDefaultPipeline(level);
  mpm.run(m, mam);
}

//===----------------------------------------------------------------------===//
// Stage 5: machine code
//===----------------------------------------------------------------------===//

bool emitMachineCode(llvm::Module &m, llvm::TargetMachine &tm, llvm::CodeGenFileType kind,
                     llvm::SmallVectorImpl<char> &out, DiagnosticEngine &diags) {
  llvm::raw_svector_ostream os(out);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, kind)) {
    diags.error(nullptr, {}, "the host target cannot emit this file type");
    return false;
  }
  pm.run(m);
  return true;
}

/// Runs the pipeline up to `stop`; fills `text` (for printing stages) or
/// `object` (for IRStage::Asm with wantObject).
bool run(const TypedFunction &f, IRStage stop, bool wantObject, const std::string &entrySymbol,
         const CodegenOptions &opts, std::string &text,
         std::unique_ptr<llvm::MemoryBuffer> &object, DiagnosticEngine &diags) {
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  // The optimization report compiles like stop == LLVM, recording MLIRGen's
  // decisions and LLVM's remarks on the way (OptimizationReport.h).
  bool report = stop == IRStage::Diagnostics;
  CodegenLog log;
  auto module = buildMLIR(ctx, f, opts, diags, report ? &log : nullptr);
  if (!module)
    return false;
  if (stop == IRStage::MLIR) {
    text = mlirToString(*module);
    return true;
  }
  if (!lowerToLLVMDialect(ctx, *module, diags))
    return false;
  if (stop == IRStage::Lowered) {
    text = mlirToString(*module);
    return true;
  }
  if (report && !addSourceLineDebugInfo(ctx, *module, diags))
    return false;
  auto tm = hostTargetMachine(opts.optLevel, diags);
  if (!tm)
    return false;
  llvm::LLVMContext llctx;
  std::vector<OptimizationRemark> remarks;
  if (report)
    collectOptimizationRemarks(llctx, remarks);
  auto m = translateToLLVMIR(*module, llctx, f, entrySymbol, *tm, opts, diags);
  if (!m)
    return false;
  optimize(*m, *tm, opts.optLevel, allowsApproximateMath(f));
  if (report) {
    text = formatOptimizationReport(f, log, remarks, opts.optLevel);
    return true;
  }
  if (stop == IRStage::LLVM && !wantObject) {
    llvm::raw_string_ostream os(text);
    m->print(os, nullptr);
    return true;
  }
  llvm::SmallVector<char, 0> buf;
  if (!emitMachineCode(*m, *tm,
                       wantObject ? llvm::CodeGenFileType::ObjectFile
                                  : llvm::CodeGenFileType::AssemblyFile,
                       buf, diags))
    return false;
  if (wantObject)
    object = llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(buf.data(), buf.size()),
                                                  entrySymbol);
  else
    text.assign(buf.data(), buf.size());
  return true;
}

} // namespace

bool emitStage(const TypedFunction &f, IRStage stage, const CodegenOptions &opts,
               std::string &out, DiagnosticEngine &diags) {
  std::unique_ptr<llvm::MemoryBuffer> unused;
  return run(f, stage, false, "__stn_entry", opts, out, unused, diags);
}

std::unique_ptr<llvm::MemoryBuffer> compileToObject(const TypedFunction &f,
                                                    const std::string &entrySymbol,
                                                    const CodegenOptions &opts,
                                                    DiagnosticEngine &diags) {
  std::string unused;
  std::unique_ptr<llvm::MemoryBuffer> object;
  if (!run(f, IRStage::Asm, true, entrySymbol, opts, unused, object, diags))
    return nullptr;
  return object;
}

std::string hostCPUName() { return llvm::sys::getHostCPUName().str(); }

const char *llvmVersionString() { return LLVM_VERSION_STRING; }

} // namespace stn
