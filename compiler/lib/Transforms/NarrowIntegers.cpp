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
// With the same ranges it also computes float remainders of integers in
// integers: Numba's typing makes `uint64 // int64` a float64 operation
// (the seed's smooth on uint8 images), whose floor division takes an
// arith.remf, i.e. a scalar fmod call per element. When both operands are
// i64 values converted to f64 (or an integer-valued f64 constant), both
// within +-2^53 (so the conversions are exact) and the divisor's range
// excludes 0,
//
//   arith.remf(sitofp/uitofp %x, sitofp/uitofp %y)  ==  sitofp(arith.remsi %x, %y)
//
// exactly (fmod and remsi both truncate and take the dividend's sign), and
// the loop vectorizes.
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

#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <cmath>
#include <functional>

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

/// The i64 value behind an f64 operand of remf, when the f64 is exactly
/// that integer and |integer| <= 2^53: an sitofp/uitofp of an i64 with such a
/// range, or an integer-valued constant. Null otherwise. `nonzero` asks for
/// a range without 0.
Value exactIntegerSource(DataFlowSolver &solver, OpBuilder &b, Value f, bool nonzero) {
  const int64_t limit = int64_t(1) << 53;
  if (auto c = f.getDefiningOp<arith::ConstantFloatOp>()) {
    double v = c.value().convertToDouble();
    if (v != std::trunc(v) || std::fabs(v) > double(limit) || (nonzero && v == 0))
      return nullptr;
    return b.create<arith::ConstantIntOp>(c.getLoc(), static_cast<int64_t>(v), 64);
  }
  Operation *def = f.getDefiningOp();
  if (!def || !isa<arith::SIToFPOp, arith::UIToFPOp>(def))
    return nullptr;
  Value x = def->getOperand(0);
  auto intTy = dyn_cast<IntegerType>(x.getType());
  if (!intTy || intTy.getWidth() != 64)
    return nullptr;
  auto *lattice = solver.lookupState<dataflow::IntegerValueRangeLattice>(x);
  if (!lattice || lattice->getValue().isUninitialized())
    return nullptr;
  const ConstantIntRanges &r = lattice->getValue().getValue();
  int64_t lo, hi;
  if (isa<arith::UIToFPOp>(def)) {
    if (r.umax().getZExtValue() > uint64_t(limit))
      return nullptr;
    lo = static_cast<int64_t>(r.umin().getZExtValue());
    hi = static_cast<int64_t>(r.umax().getZExtValue());
  } else {
    lo = r.smin().getSExtValue();
    hi = r.smax().getSExtValue();
    if (lo < -limit || hi > limit)
      return nullptr;
  }
  if (nonzero && lo <= 0 && hi >= 0)
    return nullptr;
  return x;
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

  /// Whether some function of the module can call itself.
  bool hasCallCycle() {
    llvm::DenseMap<Operation *, llvm::SmallVector<Operation *>> calls;
    getOperation()->walk([&](CallOpInterface call) {
      Operation *callee = call.resolveCallable();
      Operation *caller = call->getParentOfType<FunctionOpInterface>();
      if (callee && caller)
        calls[caller].push_back(callee);
    });
    // Depth-first search for a back edge: 1 = on the path, 2 = done.
    llvm::DenseMap<Operation *, int> state;
    std::function<bool(Operation *)> cyclic = [&](Operation *f) {
      int &s = state[f];
      if (s)
        return s == 1;
      s = 1;
      for (Operation *g : calls.lookup(f))
        if (cyclic(g))
          return true;
      state[f] = 2;
      return false;
    };
    for (auto &[f, callees] : calls)
      if (cyclic(f))
        return true;
    return false;
  }

  StringRef getArgument() const final { return "stn-narrow-integers"; }
  StringRef getDescription() const final {
    return "Compute i64 arithmetic in 16 or 32 bits where ranges prove it exact";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect>();
  }

  void runOnOperation() override {
    // Across calls, the analysis follows arguments into callees and results
    // back; around a recursive cycle (`f(n + 1)`, `f(n - 1) + 1`) a range
    // widens by one per round and would not settle. Modules with recursion
    // are analysed one function at a time.
    DataFlowSolver solver(DataFlowConfig().setInterprocedural(!hasCallCycle()));
    solver.load<dataflow::DeadCodeAnalysis>();
    solver.load<dataflow::SparseConstantPropagation>();
    solver.load<dataflow::IntegerRangeAnalysis>();
    if (failed(solver.initializeAndRun(getOperation())))
      return signalPassFailure();

    // Float remainders of exact integers (see the file comment), before
    // the narrowing below replaces the values the analysis knows.
    SmallVector<arith::RemFOp> rems;
    getOperation()->walk([&](arith::RemFOp rem) {
      if (rem.getType().isF64())
        rems.push_back(rem);
    });
    for (arith::RemFOp rem : rems) {
      OpBuilder b(rem);
      Value x = exactIntegerSource(solver, b, rem.getLhs(), false);
      Value y = x ? exactIntegerSource(solver, b, rem.getRhs(), true) : Value();
      if (!x || !y)
        continue;
      Value r = b.create<arith::RemSIOp>(rem.getLoc(), x, y);
      rem.replaceAllUsesWith(Value(b.create<arith::SIToFPOp>(rem.getLoc(), rem.getType(), r)));
      rem.erase();
    }
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
