//===- MLIRGen.h - Typed AST to MLIR in upstream dialects -------*- C++ -*-===//
//
// Lowers one specialization (and every kernel it calls) to a module of
// func/arith/math/memref/scf/cf/complex operations. Statements become a
// control-flow graph in SSA form (locals are block arguments, built with
// Braun et al.'s on-the-fly SSA construction), expressions use scf.if where
// they need control flow, arrays are strided memrefs, every location is a
// FileLineColLoc into the .stn file.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_MLIRGEN_H
#define STN_COMPILER_MLIRGEN_H

#include "stn/Compiler/Sema.h"

#include "mlir/IR/Value.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace mlir {
class Location;
class MLIRContext;
class MemRefType;
class ModuleOp;
class OpBuilder;
class Type;
template <typename OpTy> class OwningOpRef;
} // namespace mlir

namespace stn {

class GPUIntrinsicEmitter;
struct CodegenLog;

/// Registers the dialects MLIRGen emits into `ctx`.
void loadStnDialects(mlir::MLIRContext &ctx);

/// Generates the module for `entry`. The entry's func.func is named
/// `entry.symbol` and its callees are private. Returns null on an internal
/// error (reported to `diags`). GPU compilations (GPUGen.h) pass the
/// emitter of GPU intrinsics; elsewhere they are an error. With `log`,
/// the parallel loops and fused array expressions are recorded there
/// (`stn ir --emit=diagnostics`, OptimizationReport.h).
mlir::OwningOpRef<mlir::ModuleOp> generateMLIR(mlir::MLIRContext &ctx,
                                               const TypedFunction &entry,
                                               DiagnosticEngine &diags,
                                               GPUIntrinsicEmitter *gpu = nullptr,
                                               CodegenLog *log = nullptr);

/// How generated code represents an array of type `t` (a strided memref)
/// and an element of kind `k` in memory (bool is i8); GPUGen.cpp makes its
/// shared and local arrays look the same.
mlir::MemRefType mlirArrayType(mlir::MLIRContext &ctx, const Type &t);
mlir::Type mlirStorageType(mlir::MLIRContext &ctx, ScalarKind k);

/// The address of `text` as a NUL-terminated constant of the module the
/// builder inserts into (one per distinct text): the message argument of
/// _stn_raise, _stn_print and the simulator's (KernelFaults.h), and the
/// True/False strings of a bool printed in GPU code.
mlir::Value messageText(mlir::OpBuilder &b, mlir::Location loc, llvm::StringRef text);

/// The arguments that end every message call of the runtime (_stn_raise,
/// _stn_print and the simulator's): `text` (messageText), the number of
/// `values` (i64 words; at most kMaxFaultValues are kept) and the values,
/// padded with zeros to kMaxFaultValues.
llvm::SmallVector<mlir::Value> messageArguments(mlir::OpBuilder &b, mlir::Location loc,
                                                llvm::StringRef text,
                                                llvm::ArrayRef<mlir::Value> values);

/// The source range in `file` of an MLIR location MLIRGen made (a
/// FileLineColLoc: the first character), for diagnostics found after
/// generation; empty for other locations.
SourceRange sourceRangeOf(mlir::Location loc, const SourceFile &file);

} // namespace stn

#endif // STN_COMPILER_MLIRGEN_H
