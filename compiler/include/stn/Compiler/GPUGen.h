//===- GPUGen.h - GPU kernels: intrinsics and the gpu.module ----*- C++ -*-===//
//
// Explicit SIMT kernels (@cuda.jit / @kernel) reuse MLIRGen for their
// bodies, which are the same language as CPU kernels. MLIRGen hands every
// GPU intrinsic (TypedFunction::gpu) to a GPUIntrinsicEmitter; GPUGen.cpp
// implements it with gpu-dialect operations (thread and block ids,
// barriers), shared memory globals in the workgroup address space and
// memref atomics. After generation, the module is wrapped into a gpu.module
// whose kernel is a gpu.func (see GPUPipeline.cpp for the order).
//
// Included only by translation units that include MLIR anyway.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_GPUGEN_H
#define STN_COMPILER_GPUGEN_H

#include "stn/Compiler/Sema.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace stn {

/// Emits the GPU intrinsics of one expression for MLIRGen.
class GPUIntrinsicEmitter {
public:
  virtual ~GPUIntrinsicEmitter() = default;
  /// Generates a sub-expression converted to type `to`; returns its leaves.
  using OperandFn =
      llvm::function_ref<llvm::SmallVector<mlir::Value, 2>(const ast::Expr &, const Type &)>;
  /// Emits `call` (the resolution of expression `e` in function `f`) at the
  /// builder's insertion point and appends the leaves of its value (none
  /// for syncthreads). False on error (reported to the diagnostics).
  virtual bool emit(mlir::OpBuilder &b, mlir::Location loc, const TypedFunction &f,
                    const ast::Expr &e, const GpuCall &call, OperandFn operand,
                    llvm::SmallVectorImpl<mlir::Value> &results) = 0;
  /// The thread's index within its block (ThreadIdx), the block's index
  /// (BlockIdx) or their extents (BlockDim, GridDim) along `dim` (0..2), as
  /// an `index`: the generated drivers of target="cuda" stencils, ufuncs
  /// and gufuncs spread their loops over the grid with these.
  virtual mlir::Value launchIndex(mlir::OpBuilder &b, mlir::Location loc, GpuOp op,
                                  unsigned dim) = 0;
  /// syncthreads(): every thread of the block waits for the others.
  virtual void barrier(mlir::OpBuilder &b, mlir::Location loc) = 0;
  /// A block-wide buffer of `n` elements of type `elem` in shared memory
  /// (a new module global named `name`), as a memref to load from and
  /// store to: the block reductions of GPU loops (MLIRGen.cpp) combine
  /// their threads' partial results in it.
  virtual mlir::Value sharedBuffer(mlir::OpBuilder &b, mlir::Location loc, mlir::Type elem,
                                   int64_t n, llvm::StringRef name) = 0;
  /// Records a fault (KernelFaults.h) of `kind` at the byte range [begin,
  /// end) of the source with `text` and `values` (i64, at most
  /// kMaxFaultValues), unless another thread of the launch has recorded
  /// one: on a GPU in the module's fault record, whose texts the module
  /// lists in its GPUFaultTextsAttr; in the simulator with _stn_sim_raise.
  /// The caller then ends the thread's work.
  virtual void raise(mlir::OpBuilder &b, mlir::Location loc, int32_t kind, int32_t begin,
                     int32_t end, llvm::StringRef text, llvm::ArrayRef<mlir::Value> values) = 0;
  /// print(...): `text` with `values` (i64 words, at most kMaxFaultValues)
  /// where it marks them, as in a raise's message. On a GPU through the
  /// driver's printf (gpu.printf): integers in decimal, floats as printf's
  /// %f (numba.cuda's format), bools as True and False; the simulator
  /// (_stn_sim_print) prints the same.
  virtual void print(mlir::OpBuilder &b, mlir::Location loc, llvm::StringRef text,
                     llvm::ArrayRef<mlir::Value> values) = 0;
  /// Whether a thread of this launch has raised (an i1): after a call of a
  /// device function that may raise, its caller stops too, as the callee's
  /// thread would have (KernelFaults.h).
  virtual mlir::Value raised(mlir::OpBuilder &b, mlir::Location loc) = 0;
};

/// The attribute of the module that holds a GPU kernel whose code may
/// raise: the texts of its faults (an array of strings, indexed by the
/// fault record's GpuFaultText word).
constexpr const char *GPUFaultTextsAttr = "stn.gpu_fault_texts";

/// The emitter GPU compilations pass to generateMLIR.
std::unique_ptr<GPUIntrinsicEmitter> createGPUIntrinsicEmitter(DiagnosticEngine &diags);

/// The emitter of the CUDA simulator ($STN_CUDA_SIM, docs/gpu.md), which
/// runs GPU kernels on the CPU: the kernel is compiled as CPU code whose
/// thread and block indices come from the runtime (`_stn_sim_index(code)`,
/// code = 3 * {thread, block, blockDim, gridDim} + axis), whose
/// syncthreads() switches to the block's next thread
/// (`_stn_sim_syncthreads()`), and whose shared arrays are plain globals
/// (the simulator runs one block at a time).
std::unique_ptr<GPUIntrinsicEmitter> createGPUSimulatorEmitter(DiagnosticEngine &diags);
constexpr const char *GPUSimIndexFunction = "_stn_sim_index";
constexpr const char *GPUSimBarrierFunction = "_stn_sim_syncthreads";
constexpr const char *GPUSimRaiseFunction = "_stn_sim_raise";
constexpr const char *GPUSimPrintFunction = "_stn_sim_print";
constexpr const char *GPUSimRaisedFunction = "_stn_sim_raised";

/// Rejects what GPU code cannot do, with a diagnostic at the offending
/// expression of the module MLIRGen produced for `entry`: allocating device
/// memory, calling the host runtime (random numbers). Used before outlining
/// and by the simulator, which must refuse what a GPU would.
bool checkGPUCode(mlir::ModuleOp module, const TypedFunction &entry, DiagnosticEngine &diags);

/// The name of the gpu.module that holds a compiled kernel.
constexpr const char *GPUModuleName = "stn_gpu";

/// Turns the module MLIRGen produced for the GPU kernel `entry` into a
/// `gpu.container_module`: everything moves into gpu.module @stn_gpu, the
/// entry becomes a `gpu.func ... kernel`, libm calls become libdevice's
/// `__nv_*` functions. Rejects what GPU code cannot do (allocating device
/// memory) with a diagnostic at the offending expression.
bool outlineGPUKernel(mlir::ModuleOp module, const TypedFunction &entry,
                      DiagnosticEngine &diags);

/// For each parameter of the kernel in the outlined `module`: whether the
/// kernel may write through it (an array reaching a store or an atomic, in
/// the kernel or in a function it is passed to, or an unknown use). The
/// runtime copies back only those of the host arrays it passed.
std::vector<bool> writtenParameters(mlir::ModuleOp module, const TypedFunction &entry);

} // namespace stn

#endif // STN_COMPILER_GPUGEN_H
