//===- NarrowIntegers.cpp - Compute integers in the narrowest exact width -===//
//
// stn follows Numba's typing, where small integers compute in int64: the
// seed's smooth sums nine int8 values in int64. The result is exact in 16
// bits, and LLVM does not narrow it by itself, so a vectorized loop holds 8
// lanes where it could hold 32. This pass asks MLIR's integer range analysis
// for the signed range of every i64 value and rewrites
//
//   %r = arith.addi %a, %b : i64      (ranges of %a, %b, %r fit in iW)
// into
//   %a' = arith.trunci %a : i64 to iW ; %b' = ...
//   %r' = arith.addi %a', %b' : iW
//   %r  = arith.extsi %r' : iW to i64
//
// for W in {16, 32}. Canonicalization then folds trunci(extsi(x)) chains, so
// a whole expression tree runs narrow. The result is the same value: the
// operation cannot wrap in W bits when its exact result lies in W's range,
// and the analysis only reports ranges that hold on every execution.
//
// Handled: addi, subi, muli, floordivsi, divsi, remsi, maxsi, minsi, select,
// and signed or equality cmpi. May run on any function of upstream dialects.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/Passes.h"

#include "mlir/Analysis/DataFlow/ConstantPropagationAnalysis.h"
#include "mlir/Analysis/DataFlow/DeadCodeAnalysis.h"
#include "mlir/Analysis/DataFlow/IntegerRangeAnalysis.h"
#include "mlir/Analysis/DataFlowFramework.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include "llvm/ADT/SmallVector.h"

namespace stn {
namespace {

using namespace mlir;

/// The smallest width in {16, 32} holding the signed range of `v`, or 0.
unsigned narrowWidth(DataFlowSolver &solver, Value v) {
  auto intTy = dyn_cast<IntegerType>(v.getType());
  if (!intTy || intTy.getWidth() != 64)
    return 0;
  auto *lattice = solver.lookupState<dataflow::IntegerValueRangeLattice>(v);
  if (!lattice || lattice->getValue().isUninitialized())
    return 0;
  const ConstantIntRanges &r = lattice->getValue().getValue();
  for (unsigned w : {16u, 32u})
    if (r.smin().getSExtValue() >= -(int64_t(1) << (w - 1)) &&
        r.smax().getSExtValue() <= (int64_t(1) << (w - 1)) - 1)
      return w;
  return 0;
}

/// Operations whose result equals the 64-bit one when all values fit.
bool isNarrowable(Operation *op) {
  return isa<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::FloorDivSIOp, arith::DivSIOp,
             arith::RemSIOp, arith::MaxSIOp, arith::MinSIOp>(op);
}

bool isNarrowableCmp(arith::CmpIOp cmp) {
  switch (cmp.getPredicate()) {
  case arith::CmpIPredicate::eq:
  case arith::CmpIPredicate::ne:
  case arith::CmpIPredicate::slt:
  case arith::CmpIPredicate::sle:
  case arith::CmpIPredicate::sgt:
  case arith::CmpIPredicate::sge:
    return true;
  default:
    return false;
  }
}

struct NarrowIntegersPass : PassWrapper<NarrowIntegersPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(NarrowIntegersPass)

  StringRef getArgument() const final { return "stn-narrow-integers"; }
  StringRef getDescription() const final {
    return "Compute i64 arithmetic in 16 or 32 bits where ranges prove it exact";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect>();
  }

  void runOnOperation() override {
    DataFlowSolver solver;
    solver.load<dataflow::DeadCodeAnalysis>();
    solver.load<dataflow::SparseConstantPropagation>();
    solver.load<dataflow::IntegerRangeAnalysis>();
    if (failed(solver.initializeAndRun(getOperation())))
      return signalPassFailure();

    // Decide first (the analysis refers to the original values), then
    // rewrite.
    SmallVector<std::pair<Operation *, unsigned>> work;
    getOperation()->walk([&](Operation *op) {
      if (op->getNumResults() != 1)
        return;
      unsigned width = 0;
      if (isNarrowable(op) || isa<arith::SelectOp>(op)) {
        width = narrowWidth(solver, op->getResult(0));
        auto operands = op->getOperands();
        for (unsigned i = isa<arith::SelectOp>(op) ? 1 : 0; width && i < operands.size(); ++i)
          width = std::max(width, narrowWidth(solver, operands[i]) ? narrowWidth(solver, operands[i]) : 99u);
      } else if (auto cmp = dyn_cast<arith::CmpIOp>(op); cmp && isNarrowableCmp(cmp)) {
        unsigned a = narrowWidth(solver, cmp.getLhs()), b = narrowWidth(solver, cmp.getRhs());
        width = a && b ? std::max(a, b) : 0;
      }
      if (width && width <= 32)
        work.push_back({op, width});
    });

    for (auto [op, width] : work) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      Type narrow = b.getIntegerType(width);
      SmallVector<Value> operands;
      for (auto [i, v] : llvm::enumerate(op->getOperands())) {
        bool isCondition = isa<arith::SelectOp>(op) && i == 0;
        operands.push_back(isCondition ? v : Value(b.create<arith::TruncIOp>(loc, narrow, v)));
      }
      Operation *clone = b.clone(*op);
      clone->setOperands(operands);
      if (isa<arith::CmpIOp>(op)) {
        op->getResult(0).replaceAllUsesWith(clone->getResult(0));
      } else {
        clone->getResult(0).setType(narrow);
        Value wide = b.create<arith::ExtSIOp>(loc, op->getResult(0).getType(), clone->getResult(0));
        op->getResult(0).replaceAllUsesWith(wide);
      }
      op->erase();
    }
  }
};

} // namespace

std::unique_ptr<mlir::Pass> createNarrowIntegersPass() {
  return std::make_unique<NarrowIntegersPass>();
}

} // namespace stn
