//===- MLIRGen.cpp - Typed AST to MLIR in upstream dialects ---------------===//
//
// Design notes:
//  - Statements lower to an unstructured CFG (cf.br / cf.cond_br), which
//    handles break, continue and early return uniformly. Locals never touch
//    memory: the SSABuilder below turns reads and writes of named variables
//    into block arguments on the fly (Braun et al., "Simple and Efficient
//    Construction of Static Single Assignment Form", CC 2013), so LLVM sees
//    the same IR clang would produce after mem2reg.
//  - Expressions never create CFG blocks: short-circuit operators, chained
//    comparisons and conditional expressions use scf.if with results, and
//    integer powers use scf.while. This keeps "the current CFG block" well
//    defined while an expression is being emitted.
//  - Every value is a list of leaves (a tuple of N scalars has N leaves,
//    None has none); tuples never exist at run time.
//  - Arrays are memref<?x..xT, strided<[?, .., ?|1], offset: ?>>: C-contiguous
//    arrays keep a static unit stride on the last axis so that LLVM sees
//    unit-stride accesses and vectorizes. bool elements are stored as i8.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/MLIRGen.h"
#include "stn/Compiler/ArrayOwnership.h"
#include "stn/Compiler/GPUGen.h"
#include "stn/Compiler/GPUPipeline.h"
#include "stn/Compiler/GpuRegions.h"
#include "stn/Compiler/Interchange.h"
#include "stn/Compiler/KernelFaults.h"
#include "stn/Compiler/OptimizationReport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Complex/IR/Complex.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>

using llvm::dyn_cast;
using llvm::isa;
using llvm::SmallVector;

namespace stn {

void loadStnDialects(mlir::MLIRContext &ctx) {
  ctx.loadDialect<mlir::arith::ArithDialect, mlir::complex::ComplexDialect,
                  mlir::cf::ControlFlowDialect, mlir::func::FuncDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect, mlir::LLVM::LLVMDialect,
                  mlir::omp::OpenMPDialect>();
}

namespace {

namespace arith = mlir::arith;
namespace complex = mlir::complex;
namespace cf = mlir::cf;
namespace func = mlir::func;
namespace math = mlir::math;
namespace memref = mlir::memref;
namespace scf = mlir::scf;
using mlir::Block;
using mlir::Location;
using mlir::OpBuilder;
using mlir::Value;

/// A dict's index: the slots a probe loads at once, and the slots stored
/// after the last (copies of the first ones) so that such a load from any
/// slot stays in bounds.
constexpr int64_t kMirroredSlots = 8;

/// A value of any stn type: zero (None), one (scalar, array) or several
/// (tuple) MLIR values.
struct CGValue {
  Type type;
  SmallVector<Value, 2> leaves;
  /// i1, true where the value is None (`d.get(k)` of a missing key); null
  /// where it is not an optional value. writeVar sets the variable's flag.
  Value isNone;
  Value single() const { return leaves.empty() ? Value() : leaves[0]; }
};

//===----------------------------------------------------------------------===//
// SSABuilder: variables to block arguments
//===----------------------------------------------------------------------===//

class SSABuilder {
public:
  using DefaultFn = std::function<Value(const std::string &)>;
  using TypeFn = std::function<mlir::Type(const std::string &)>;

  SSABuilder(DefaultFn makeDefault, TypeFn typeOf, Location loc)
      : MakeDefault(std::move(makeDefault)), TypeOf(std::move(typeOf)), Loc(loc) {}

  void write(const std::string &var, Block *b, Value v) { Defs[b][var] = v; }

  Value read(const std::string &var, Block *b) {
    auto &m = Defs[b];
    auto it = m.find(var);
    if (it != m.end())
      return it->second;
    return readRecursive(var, b);
  }

  void seal(Block *b) {
    if (!Sealed.insert(b).second)
      return;
    auto pending = std::move(Incomplete[b]);
    Incomplete.erase(b);
    for (auto &[var, argNo] : pending)
      addPhiOperands(var, b, b->getArgument(argNo));
  }

  bool isSealed(Block *b) const { return Sealed.count(b); }

  /// `entry` starts a nested region (an OpenMP parallel region) inside
  /// `outer`: a variable not defined in the region reads its value at the
  /// region op, in `outer`. Writes in the region stay in the region.
  void setRegionParent(Block *entry, Block *outer) { RegionParent[entry] = outer; }

private:
  /// Every (terminator, successor index) edge into `b`.
  static SmallVector<std::pair<mlir::Operation *, unsigned>> edgesInto(Block *b) {
    SmallVector<std::pair<mlir::Operation *, unsigned>> edges;
    llvm::DenseSet<mlir::Operation *> seen;
    for (Block *pred : b->getPredecessors()) {
      mlir::Operation *term = pred->getTerminator();
      if (!seen.insert(term).second)
        continue;
      for (unsigned s = 0; s < term->getNumSuccessors(); ++s)
        if (term->getSuccessor(s) == b)
          edges.push_back({term, s});
    }
    return edges;
  }

  Value readRecursive(const std::string &var, Block *b) {
    Value v;
    if (!Sealed.count(b)) {
      v = b->addArgument(TypeOf(var), Loc);
      Incomplete[b].push_back({var, b->getNumArguments() - 1});
    } else {
      auto edges = edgesInto(b);
      if (edges.empty()) {
        auto parent = RegionParent.find(b);
        v = parent != RegionParent.end() ? read(var, parent->second) : MakeDefault(var);
      } else if (edges.size() == 1) {
        v = read(var, edges[0].first->getBlock());
      } else {
        mlir::BlockArgument arg = b->addArgument(TypeOf(var), Loc);
        write(var, b, arg);
        addPhiOperands(var, b, arg);
        v = arg;
      }
    }
    write(var, b, v);
    return v;
  }

  void addPhiOperands(const std::string &var, Block *b, mlir::BlockArgument arg) {
    for (auto &[term, s] : edgesInto(b)) {
      Value v = read(var, term->getBlock());
      auto br = llvm::cast<mlir::BranchOpInterface>(term);
      br.getSuccessorOperands(s).append(v);
    }
  }

  DefaultFn MakeDefault;
  TypeFn TypeOf;
  Location Loc;
  llvm::DenseMap<Block *, llvm::StringMap<Value>> Defs;
  llvm::DenseSet<Block *> Sealed;
  llvm::DenseMap<Block *, SmallVector<std::pair<std::string, unsigned>>> Incomplete;
  llvm::DenseMap<Block *, Block *> RegionParent;
};

//===----------------------------------------------------------------------===//
// Type mapping
//===----------------------------------------------------------------------===//

} // namespace

SourceRange sourceRangeOf(mlir::Location loc, const SourceFile &file) {
  auto flc = dyn_cast<mlir::FileLineColLoc>(loc);
  if (!flc)
    return {};
  const std::string &text = file.text();
  unsigned line = 1;
  uint32_t offset = 0;
  while (offset < text.size() && line < flc.getLine())
    if (text[offset++] == '\n')
      ++line;
  offset += flc.getColumn() > 0 ? flc.getColumn() - 1 : 0;
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(text.size()));
  return {offset, offset + 1};
}

namespace {

mlir::Type scalarType(mlir::MLIRContext *ctx, ScalarKind k) {
  OpBuilder b(ctx);
  switch (k) {
  case ScalarKind::Bool: return b.getI1Type();
  case ScalarKind::I8: case ScalarKind::U8: return b.getI8Type();
  case ScalarKind::I16: case ScalarKind::U16: return b.getI16Type();
  case ScalarKind::I32: case ScalarKind::U32: return b.getI32Type();
  case ScalarKind::I64: case ScalarKind::U64: return b.getI64Type();
  case ScalarKind::F32: return b.getF32Type();
  case ScalarKind::F64: return b.getF64Type();
  case ScalarKind::C64: return mlir::ComplexType::get(b.getF32Type());
  case ScalarKind::C128: return mlir::ComplexType::get(b.getF64Type());
  }
  return b.getI64Type();
}

mlir::Type storageType(mlir::MLIRContext *ctx, ScalarKind k) {
  if (k == ScalarKind::Bool)
    return mlir::IntegerType::get(ctx, 8);
  return scalarType(ctx, k);
}

mlir::MemRefType memrefType(mlir::MLIRContext *ctx, const Type &t) {
  int64_t dyn = mlir::ShapedType::kDynamic;
  SmallVector<int64_t> shape(t.rank(), dyn);
  SmallVector<int64_t> strides(t.rank(), dyn);
  if (t.layout() == Type::Layout::C && t.rank() > 0)
    strides.back() = 1;
  auto layout = mlir::StridedLayoutAttr::get(ctx, dyn, strides);
  return mlir::MemRefType::get(shape, storageType(ctx, t.scalarKind()), layout);
}

/// The arith fast-math flags for a kernel's FastMathFlag bits.
arith::FastMathFlags fastMathFlags(uint8_t bits) {
  using FM = arith::FastMathFlags;
  FM f = FM::none;
  if (bits & FMNoNaNs)
    f = f | FM::nnan;
  if (bits & FMNoInfs)
    f = f | FM::ninf;
  if (bits & FMNoSignedZeros)
    f = f | FM::nsz;
  if (bits & FMAllowRecip)
    f = f | FM::arcp;
  if (bits & FMContract)
    f = f | FM::contract;
  if (bits & FMApproxFunc)
    f = f | FM::afn;
  if (bits & FMReassoc)
    f = f | FM::reassoc;
  return f;
}

/// How many of lo, lo + step, lo + 2 step, ... lie below hi, for step > 0
/// (index or i64 values): (hi - lo - 1) / step + 1 in unsigned arithmetic,
/// exact for any bounds, 0 when lo >= hi.
Value upwardTripCount(OpBuilder &b, Location l, Value lo, Value hi, Value step) {
  mlir::Type t = lo.getType();
  auto c = [&](int64_t v) { return b.create<arith::ConstantOp>(l, b.getIntegerAttr(t, v)); };
  Value some = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, lo, hi);
  Value last = b.create<arith::SubIOp>(l, b.create<arith::SubIOp>(l, hi, lo), c(1));
  Value n = b.create<arith::AddIOp>(l, b.create<arith::DivUIOp>(l, last, step), c(1));
  return b.create<arith::SelectOp>(l, some, n, c(0));
}

/// The MLIR types of a stn type's leaves.
void leafTypes(mlir::MLIRContext *ctx, const Type &t, SmallVector<mlir::Type> &out) {
  switch (t.kind()) {
  case Type::Kind::Scalar:
    out.push_back(scalarType(ctx, t.scalarKind()));
    return;
  case Type::Kind::Array:
    out.push_back(memrefType(ctx, t));
    return;
  case Type::Kind::Tuple:
  case Type::Kind::Function: // its captured values
    for (auto &e : t.elements())
      leafTypes(ctx, e, out);
    return;
  case Type::Kind::List:
  case Type::Kind::Dict: {
    // Their storages (1-d arrays) and counts (Type::collectLeaves).
    std::vector<Type> leaves;
    t.collectLeaves(leaves);
    for (const Type &l : leaves)
      leafTypes(ctx, l, out);
    return;
  }
  default:
    return;
  }
}

unsigned countLeaves(const Type &t) {
  if (t.isScalar() || t.isArray())
    return 1;
  if (t.isList()) // a storage per number of an item (listFieldKinds), and the length
    return static_cast<unsigned>(listFieldKinds(t.listItem()).size()) + 1;
  if (t.isDict()) { // Type::collectLeaves
    std::vector<Type> leaves;
    t.collectLeaves(leaves);
    return static_cast<unsigned>(leaves.size());
  }
  if (t.isTuple() || t.isFunction()) {
    unsigned n = 0;
    for (auto &e : t.elements())
      n += countLeaves(e);
    return n;
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// FunctionGen
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Scalar helpers shared by function bodies and generated drivers
//===----------------------------------------------------------------------===//

Value constIntB(OpBuilder &b, Location l, int64_t v, ScalarKind k) {
  return b.create<arith::ConstantOp>(l, b.getIntegerAttr(scalarType(b.getContext(), k), v));
}

Value constFloatB(OpBuilder &b, Location l, double v, ScalarKind k) {
  if (isComplex(k)) {
    ScalarKind p = complexPart(k);
    Value re = constFloatB(b, l, v, p), im = constFloatB(b, l, 0.0, p);
    return b.create<complex::CreateOp>(l, scalarType(b.getContext(), k), re, im);
  }
  auto t = llvm::cast<mlir::FloatType>(scalarType(b.getContext(), k));
  return b.create<arith::ConstantOp>(l, b.getFloatAttr(t, v));
}

Value castScalarB(OpBuilder &B, Location CurLoc, Value v, ScalarKind from, ScalarKind to) {
  auto constFloat = [&](double x, ScalarKind k) { return constFloatB(B, CurLoc, x, k); };
  auto constInt = [&](int64_t x, ScalarKind k) { return constIntB(B, CurLoc, x, k); };
  if (from == to)
    return v;
  mlir::Type tt = scalarType(B.getContext(), to);
  if (isComplex(to)) {
    ScalarKind p = complexPart(to);
    if (isComplex(from)) {
      ScalarKind fp = complexPart(from);
      Value re = castScalarB(B, CurLoc, B.create<complex::ReOp>(CurLoc, v), fp, p);
      Value im = castScalarB(B, CurLoc, B.create<complex::ImOp>(CurLoc, v), fp, p);
      return B.create<complex::CreateOp>(CurLoc, tt, re, im);
    }
    Value re = castScalarB(B, CurLoc, v, from, p);
    return B.create<complex::CreateOp>(CurLoc, tt, re, constFloat(0.0, p));
  }
  if (to == ScalarKind::Bool) {
    if (isComplex(from)) {
      ScalarKind fp = complexPart(from);
      Value re = castScalarB(B, CurLoc, B.create<complex::ReOp>(CurLoc, v), fp, ScalarKind::Bool);
      Value im = castScalarB(B, CurLoc, B.create<complex::ImOp>(CurLoc, v), fp, ScalarKind::Bool);
      return B.create<arith::OrIOp>(CurLoc, re, im);
    }
    if (isFloat(from))
      return B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNE, v,
                                     constFloat(0.0, from));
    return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, v, constInt(0, from));
  }
  if (isComplex(from)) // rejected by Sema; keep the real part
    return castScalarB(B, CurLoc, B.create<complex::ReOp>(CurLoc, v), complexPart(from), to);
  bool fromInt = isInteger(from) || isBool(from);
  bool fromSigned = isSignedInt(from);
  if (isFloat(to)) {
    if (fromInt)
      return fromSigned ? Value(B.create<arith::SIToFPOp>(CurLoc, tt, v))
                        : Value(B.create<arith::UIToFPOp>(CurLoc, tt, v));
    return bitWidth(from) < bitWidth(to) ? Value(B.create<arith::ExtFOp>(CurLoc, tt, v))
                                         : Value(B.create<arith::TruncFOp>(CurLoc, tt, v));
  }
  // To an integer.
  if (isFloat(from))
    return isSignedInt(to) ? Value(B.create<arith::FPToSIOp>(CurLoc, tt, v))
                           : Value(B.create<arith::FPToUIOp>(CurLoc, tt, v));
  unsigned fw = bitWidth(from), tw = bitWidth(to);
  if (fw == tw)
    return v;
  if (fw < tw)
    return fromSigned ? Value(B.create<arith::ExtSIOp>(CurLoc, tt, v))
                      : Value(B.create<arith::ExtUIOp>(CurLoc, tt, v));
  return B.create<arith::TruncIOp>(CurLoc, tt, v);
}

/// Loads an element (bool arrays hold one byte per element).
Value loadElementB(OpBuilder &b, Location l, Value mem, mlir::ValueRange idx, ScalarKind k) {
  Value v = b.create<memref::LoadOp>(l, mem, idx);
  if (k == ScalarKind::Bool)
    v = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, v,
                                b.create<arith::ConstantOp>(l, b.getI8IntegerAttr(0)));
  return v;
}

void storeElementB(OpBuilder &b, Location l, Value v, Value mem, mlir::ValueRange idx,
                   ScalarKind k) {
  if (k == ScalarKind::Bool)
    v = b.create<arith::ExtUIOp>(l, b.getI8Type(), v);
  b.create<memref::StoreOp>(l, v, mem, idx);
}

/// NumPy's broadcast of two extents: 1 stretches to the other (also to 0);
/// extents that disagree otherwise (an error in NumPy) give the smaller, so
/// that nothing is read out of bounds.
Value broadcastDim(OpBuilder &b, Location l, Value x, Value y) {
  Value one = b.create<arith::ConstantIndexOp>(l, 1);
  Value xOne = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, x, one);
  Value yOne = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, y, one);
  Value mn = b.create<arith::MinSIOp>(l, x, y);
  return b.create<arith::SelectOp>(l, xOne, y, b.create<arith::SelectOp>(l, yOne, x, mn));
}

/// Maps an index that may lie outside [0, n) back inside, as scipy.ndimage's
/// boundary modes do (constant mode never reads outside).
Value remapIndex(OpBuilder &b, Location l, Value i, Value n, BoundaryMode mode) {
  auto c = [&](int64_t v) -> Value { return b.create<arith::ConstantIndexOp>(l, v); };
  // A non-negative remainder: ((i % p) + p) % p.
  auto mod = [&](Value x, Value p) -> Value {
    Value r = b.create<arith::RemSIOp>(l, x, p);
    Value neg = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, r, c(0));
    return b.create<arith::SelectOp>(l, neg, b.create<arith::AddIOp>(l, r, p), r);
  };
  switch (mode) {
  case BoundaryMode::Constant:
    return i;
  case BoundaryMode::Nearest: {
    Value last = b.create<arith::SubIOp>(l, n, c(1));
    return b.create<arith::MaxSIOp>(l, c(0), b.create<arith::MinSIOp>(l, i, last));
  }
  case BoundaryMode::Wrap:
    return mod(i, n);
  case BoundaryMode::Reflect: {
    // d c b a | a b c d | d c b a: period 2n.
    Value p = b.create<arith::MulIOp>(l, n, c(2));
    Value m = mod(i, p);
    Value high = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, m, n);
    Value back = b.create<arith::SubIOp>(l, b.create<arith::SubIOp>(l, p, c(1)), m);
    return b.create<arith::SelectOp>(l, high, back, m);
  }
  case BoundaryMode::Mirror: {
    // d c b | a b c d | c b a: period 2n - 2 (a single element maps to 0).
    Value p = b.create<arith::SubIOp>(l, b.create<arith::MulIOp>(l, n, c(2)), c(2));
    Value one = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sle, p, c(0));
    Value safeP = b.create<arith::SelectOp>(l, one, c(1), p);
    Value m = mod(i, safeP);
    Value high = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, m, n);
    Value back = b.create<arith::SubIOp>(l, safeP, m);
    Value r = b.create<arith::SelectOp>(l, high, back, m);
    return b.create<arith::SelectOp>(l, one, c(0), r);
  }
  }
  return i;
}

class ModuleGen;

class FunctionGen {
public:
  FunctionGen(ModuleGen &mg, const TypedFunction &f, mlir::ModuleOp module,
              DiagnosticEngine &diags);
  /// Generates the body of a stencil into `fn`, whose trailing index
  /// arguments are the output element's coordinates; with `remap`, offsets
  /// that leave the array are mapped back by the boundary mode.
  FunctionGen(ModuleGen &mg, const TypedFunction &f, mlir::ModuleOp module,
              DiagnosticEngine &diags, func::FuncOp fn, bool remap)
      : FunctionGen(mg, f, module, diags) {
    Override = fn;
    StencilBody = true;
    Remap = remap;
  }
  /// Generates the body of GPU region `r` (GpuRegions.h) into `fn`:
  /// (grid loop variables as int64, the free variables' leaves, the
  /// reductions' partial values) -> the reductions' new partial values.
  FunctionGen(ModuleGen &mg, const TypedFunction &f, mlir::ModuleOp module,
              DiagnosticEngine &diags, func::FuncOp fn, const GpuRegion &r)
      : FunctionGen(mg, f, module, diags) {
    Override = fn;
    RegionBody = &r;
  }
  bool generate();
  void genFunctionBody();
  Value stackFull();
  void genRegionBody();
  /// Generates the GPU kernel of a region (`F` is its kernel, GpuRegions.h)
  /// around its body function `body`: one thread per iteration of the grid
  /// loops, reductions accumulated per thread and combined atomically.
  bool generateRegionKernel(func::FuncOp body);

private:
  // Locations and constants.
  Location loc(SourceRange r);
  Location loc(const ast::Expr &e) { return loc(e.range()); }
  Value constInt(int64_t v, ScalarKind k);
  Value constIndex(int64_t v) { return B.create<arith::ConstantIndexOp>(CurLoc, v); }
  Value constFloat(double v, ScalarKind k);
  Value constBool(bool v) { return constInt(v, ScalarKind::Bool); }
  Value constFloatOrInt(int64_t v, ScalarKind k) {
    return isFloat(k) || isComplex(k) ? constFloat(static_cast<double>(v), k) : constInt(v, k);
  }
  CGValue constValue(const ConstValue &c);
  Value zeroOf(const Type &t);
  /// Zeros and empty arrays; `onHeap` allocates the arrays (a function may
  /// return them), else they live in the current frame.
  CGValue defaultValue(const Type &t, bool onHeap = false);

  // Conversions.
  Value castScalar(Value v, ScalarKind from, ScalarKind to);
  CGValue convert(const CGValue &v, const Type &to);
  Value truth(const CGValue &v);
  Value toIndex(Value v, ScalarKind k);
  /// An index value as an int64 (a list's length).
  Value indexToI64(Value idx) {
    return B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), idx);
  }
  /// How many times `xs * n` repeats a list: n, or 0 where n < 0 (an index).
  Value repeatCount(const CGValue &n) {
    Value times = castScalar(n.single(), n.type.scalarKind(), ScalarKind::I64);
    return toIndex(B.create<arith::MaxSIOp>(CurLoc, times, constInt(0, ScalarKind::I64)),
                   ScalarKind::I64);
  }

  // Variables.
  std::string leafVar(const std::string &name, unsigned i) {
    return i == 0 ? name : fmt::format("{}#{}", name, i);
  }
  CGValue readVar(const std::string &name);
  /// The value of name `n`; where it is an optional local that may hold
  /// None here (TypedFunction::noneChecked), TypeError if it does.
  CGValue readChecked(const ast::Name &n) {
    if (F.noneChecked.count(&n)) {
      SourceRange saved = CurRange;
      CurRange = n.range();
      raiseIf(readVar(noneFlag(n.id)).single(), KernelFaultKind::Raise,
              fmt::format("TypeError: '{}' is None here", ast::sourceName(n.id)), {});
      CurRange = saved;
    }
    return readVar(n.id);
  }
  void writeVar(const std::string &name, const CGValue &v);

  // Control flow.
  Block *newBlock() { return new Block(); }
  void appendBlock(Block *b) { Region->push_back(b); }
  void setBlock(Block *b) {
    Cur = b;
    B.setInsertionPointToEnd(b);
  }
  void ensureBlock();
  void branch(Block *dest);
  void condBranch(Value cond, Block *t, Block *f);

  // Statements.
  void genBlock(const ast::Block &b);
  void genStmt(const ast::Stmt &s);
  void genAssign(const ast::Assign &a);
  void genAugAssign(const ast::AugAssign &a);
  void assignTo(const ast::Expr &target, const CGValue &v);
  void genIf(const ast::If &s);
  void genWhile(const ast::While &s);
  void genFor(const ast::For &s);
  CGValue randomCall(const ast::Call &c, const CallInfo &info);
  CGValue sampling(const CallInfo &info, const Type &rt);
  Value randomUniform();
  /// The thread's generator state (!llvm.ptr to 4 x i64), fetched once per
  /// function or parallel region (RandomStates is keyed by AllocaBlock).
  llvm::DenseMap<Block *, Value> RandomStates;
  void genParallelFor(const ast::For &s, const ForInfo &info, Value start, Value stop,
                      Value step);
  /// ceil((stop - start) / step), at least 0, for either sign of step.
  Value tripCount(Value start, Value stop, Value step);
  std::tuple<Value, Value, Value> rangeBounds(const ast::Call &c);
  Value rangeLength(Value start, Value stop, Value step);
  /// The operands of np.ndindex, np.ndenumerate and a.flat, evaluated.
  struct NdSource {
    IterSource::Kind kind;
    SmallVector<Value> dims; ///< index values
    Value length;            ///< int64: the number of items
    Value mem;               ///< the array (not for np.ndindex)
    Type at;
  };
  struct IterItems {
    Value length; ///< int64
    std::function<CGValue(Value)> item;
    /// Where set (stateful iterItems), item() reads counters that this
    /// moves on to the next item: the loop calls it once per iteration.
    std::function<void()> advance;
  };
  /// `stateful`: for a `for` loop, which calls `advance` in its latch;
  /// multi-dimensional positions are then counters carried from item to
  /// item instead of divisions of k.
  IterItems iterItems(const IterSource &src, bool stateful = false,
                      const NdSource *evaluated = nullptr);
  struct NdPositions {
    std::function<SmallVector<Value>(Value)> at; ///< k (int64) -> indices
    std::function<void()> advance;               ///< set where stateful
  };
  NdPositions ndPositions(SmallVector<Value> dims, bool stateful);
  NdSource ndSource(const IterSource &src);
  CGValue nonzeroPositions(const ast::Expr &e, Builtin b, const Type &rt);
  /// np.dot, np.matmul and `@` of vectors and matrices, in kind `ok`, of
  /// result type `rt`; `matmulText`: NumPy's matmul message for extents
  /// that do not match, else np.dot's.
  CGValue matmul(const ast::Expr &xe, const ast::Expr &ye, ScalarKind ok, const Type &rt,
                 bool matmulText);
  CGValue ndItem(const NdSource &nd, const SmallVector<Value> &idx);
  void genNdLoop(const ast::For &s, const NdSource &nd);
  bool flatAddress(const ast::Subscript &s, Value &mem, SmallVector<Value> &indices,
                   Type &baseType);
  /// A GPU region of a target="cuda" kernel's host part: the launch.
  void genGpuLaunch(const ast::For &s, Value start, Value stop, Value step);
  /// A scalar in an 8-byte launch slot (zero-extended bits), and back.
  Value toSlot(Value v, ScalarKind k);
  Value fromSlot(Value v, ScalarKind k);
  /// Combines `partial` into element 0 of `mem` atomically (`bits`: the
  /// same memory as integers of the same width).
  void atomicCombine(ReduceOp op, Value mem, Value bits, Value partial, ScalarKind k);
  /// The end of a GPU loop's kernel: per reduction cell, the partials
  /// `accs` of the block's threads are combined in shared memory, then the
  /// block's result into the cell with atomicCombine (one atomic per block).
  void blockReduce(mlir::ArrayRef<ReduceOp> ops, mlir::ArrayRef<Value> accs,
                   mlir::ArrayRef<Value> results, mlir::ArrayRef<Value> bits,
                   mlir::ArrayRef<ScalarKind> kinds);
  int64_t workEstimate(const ast::Block &b);
  int64_t workEstimate(const ast::Stmt &s);
  int64_t workEstimate(const ast::Expr *e);
  /// The work of one iteration of the parallel `loop`, computed before it
  /// where inner range() loops have bounds known then (null: none has).
  Value dynamicWork(const ast::For &loop);
  bool invariantCount(const ast::Expr &e, const std::set<std::string> &variant);
  Value reduceIdentity(ReduceOp op, ScalarKind k);
  Value reduceCombine(ReduceOp op, Value a, Value b, ScalarKind k);
  /// Whether array expressions here run on a team (parallel=True kernels,
  /// outside parallel loops).
  bool parallelArrays() const {
    return F.decl && F.decl->options.parallel && ParallelDepth == 0 && !StencilBody;
  }
  void loopElseAndExit(const ast::Block &orelse, Block *elseB, Block *exit);
  void genLoop(const ast::For &s, const std::string &counter, Value start, Value stop,
               Value step, std::optional<int64_t> constStep,
               const std::function<void(Value)> &bindTarget,
               const std::function<void()> &onLatch = {});
  void genReturn(const ast::Return &r);
  void genRaise(const ast::Stmt &s);
  void genAssert(const ast::Assert &a);
  void stopAfterRaise();
  /// The values of a message as int64 words (KernelFaults.h, Raise); a
  /// print's arrays and lists as the address of their description
  /// (printedArray), and their new arrays in `fresh` (to free after use).
  SmallVector<Value> messageValues(const std::vector<const ast::Expr *> &exprs,
                                   SmallVector<Value> *fresh = nullptr);
  void messageWords(const Type &t, llvm::ArrayRef<Value> leaves, size_t &next,
                    SmallVector<Value> &out);
  /// The address (an int64) of `kind, rank, data address, sizes, strides`
  /// (int64 words, strides in elements) of array `mem`, or of a list's
  /// storage and length `listLength`: what print() passes _stn_print for an
  /// array or a list (ArrayFormat.h, kernelArrayText).
  Value printedArray(Value mem, ScalarKind k, Value listLength = {});
  /// The address of a stack array (one per function or parallel region)
  /// holding `words` (int64 or index values) as int64.
  Value wordsAddress(llvm::ArrayRef<Value> words);
  /// What print() passes _stn_print for a dict, a set or a list of tuples
  /// (Sema's 'C' mark): the address of `n, live flags (0: all live), then
  /// kind and address of each number's storage` (keys, then values), n the
  /// entries to look at.
  Value printedCollection(const Type &t, llvm::ArrayRef<Value> leaves);
  void genPrint(const TypedFunction::RaisedError &line);
  void exitIf(Value cond, bool when, const std::function<void()> &body);
  struct RaiseCheck {
    Value before;       ///< CPU: the thread's error count before the call
    bool onGpu = false; ///< GPU: ask the fault record after the call
  };
  RaiseCheck raiseCountBefore(const TypedFunction &callee);
  void stopIfCalleeRaised(const RaiseCheck &check);
  // Scalar expansion + loop interchange (Interchange.h).
  void genInterchanged(const ast::For &s, const InterchangePlan &p, const std::string &counter,
                       Value start, Value stop);
  void countedLoop(Value lo, Value hi, const std::function<void(Value)> &body);
  Value addressRange(Value mem, Value &lo, Value &hi);

  // Expressions.
  CGValue expr(const ast::Expr &e);
  CGValue exprImpl(const ast::Expr &e);
  CGValue binop(const ast::BinOp &b);
  Value arith2(ast::BinOpKind op, Value l, Value r, ScalarKind k, Location l0);
  Value complexProduct(Value l, Value r);
  Value smallPower(Value x, int64_t n, ScalarKind k);
  Value intPow(Value base, Value exp, ScalarKind k);
  CGValue compare(const ast::Compare &c);
  /// `l op r` of numbers, or of tuples as Python compares them.
  Value compareValues(ast::CmpOpKind op, const CGValue &l, const CGValue &r);
  /// The elements of a tuple value.
  SmallVector<CGValue> elementsOf(const CGValue &t);
  Value compare1(ast::CmpOpKind op, Value l, ScalarKind lk, Value r, ScalarKind rk);
  CGValue boolop(const ast::BoolOp &b);
  CGValue ifexp(const ast::IfExp &e);
  CGValue unary(const ast::UnaryOp &u);
  CGValue call(const ast::Call &c);
  /// A kernel call's positional arguments, converted to the callee's types:
  /// their leaves (the call's operands) and their values.
  void callArguments(const ast::Call &c, const TypedFunction &callee,
                     SmallVector<Value> &operands, std::vector<CGValue> &args);
  /// GPU intrinsics (TypedFunction::gpu), emitted by GPUGen.cpp's hook.
  CGValue gpuIntrinsic(const ast::Expr &e, const GpuCall &g);
  CGValue builtin(const ast::Call &c, const CallInfo &info);
  /// A builtin whose axis is known at run time (CallInfo::axisValue): the
  /// axis checked (AxisError), then the code of each axis, one runs.
  CGValue runtimeAxis(const ast::Call &c, const CallInfo &info);
  // Lists (Type::List) are their storage, one 1-d array per number of an
  // item (one for a list of numbers, one per number of a tuple) whose
  // extent is the capacity, then their length (int64). One variable owns a
  // list (Sema), so a change is a new value written back to it.
  /// The type of list expression `e`, also where it is seen as an array.
  Type listTypeOf(const ast::Expr &e);
  /// The numbers of a list item (a scalar or a tuple of them), in order.
  SmallVector<ScalarKind> itemKinds(const Type &item);
  /// An array of type `t` as the int64 fields a list stores (listFieldKinds),
  /// and back.
  SmallVector<Value> arrayFields(Value mem, const Type &t);
  Value arrayOfFields(mlir::ValueRange fields, const Type &t);
  CGValue makeList(const Type &item, mlir::ValueRange data, Value len);
  /// A list value's storages: all its leaves but the length.
  SmallVector<Value> listData(const CGValue &list);
  CGValue loadItem(mlir::ValueRange data, Value i, const Type &item);
  /// Stores `x` converted to `item` (a number, or a tuple of the item's
  /// structure) at position `i`.
  void storeItem(const CGValue &x, mlir::ValueRange data, Value i, const Type &item);
  CGValue listDisplay(const ast::List &l, const Type &item);
  CGValue listComp(const ast::ListComp &l);
  CGValue listOf(const ast::Call &c);
  /// xs[a:b:c]: a new list of those items (Python's slice rules).
  CGValue listSlice(const ast::Subscript &s, const ast::Slice &sl);
  Value listPosition(const ast::Subscript &s, const CGValue &list, SmallVector<Value> &data);
  /// xs[i] of a list of tuples (a list of numbers is read as its array).
  CGValue listElement(const ast::Subscript &s);
  /// xs[i] = v for a list of tuples.
  void storeListElement(const ast::Subscript &s, const CGValue &v);
  /// xs[a:b:c] = v (a list or a 1-d array): Python's slice assignment,
  /// the list resized where the step is 1 (ValueError where an extended
  /// slice and v differ in size).
  void assignListSlice(const ast::Subscript &s, const ast::Slice &sl, const CGValue &v);
  CGValue sortedList(const ast::Call &c, const CallInfo &info);
  /// The loops of comprehension `l` carrying a state of `types`, which
  /// `init` makes from the first clause's item count (int64): `sink` gets
  /// the state and each element, and gives the next state.
  SmallVector<Value>
  comprehensionLoops(const ast::ListComp &l, mlir::TypeRange types,
                     const std::function<SmallVector<Value>(Value)> &init,
                     const std::function<SmallVector<Value>(SmallVector<Value>, CGValue)> &sink);
  /// Binds a comprehension's target (a name or a tuple of names) to `v`.
  void bindTarget(const ast::Expr &target, const CGValue &v);
  /// The first n items of one storage as a 1-d C-contiguous view.
  Value storageView(Value data, Value n, ScalarKind k);
  /// The items as an array: for a list of numbers 1-d, a view of the
  /// storage or a new array where `copy`; for a list of tuples a new 2-d
  /// array, a row per item (np.array(xs)).
  Value listItems(const CGValue &list, bool copy);
  /// A list of `to`'s item type with the items of `v` converted.
  CGValue convertList(const CGValue &v, const Type &to);
  /// `data` with room for `need` items: itself, or new storage (twice as
  /// large, at least `need`) holding its first `len` items.
  SmallVector<Value> listReserve(mlir::ValueRange data, Value len, Value need, const Type &item);
  /// Copies items [from, from + n) of `src` to `dst` starting at `to`
  /// (index values), last item first where `backward` (items moving up
  /// within one storage: insert), else first item first.
  void moveItems(mlir::ValueRange src, Value from, mlir::ValueRange dst, Value to, Value n,
                 const Type &item, bool backward = false);
  /// Stores items at, at + step, ... (n of them) of `src` (items `from`),
  /// converted to `item`, into `dst` from `to` on (index values; no
  /// overlap).
  void copyItems(mlir::ValueRange src, const Type &from, Value at, Value step,
                 mlir::ValueRange dst, Value to, Value n, const Type &item);
  /// New storage for n items (room for one at least).
  SmallVector<Value> newListStorage(Value n, const Type &item);
  CGValue listMethod(const ast::Call &c, const CallInfo &info);
  /// Whether item `a` equals `b` (a number, or a tuple of as many numbers),
  /// each number compared by ==.
  Value itemEquals(const CGValue &a, const CGValue &b);
  /// From `start` (index or an integer), steps of `step` while `more(i)`
  /// holds, which is asked only where `inRange(i)`: the first i where it
  /// does not (or the first out of range).
  Value walkWhile(Value start, int64_t step, const std::function<Value(Value)> &inRange,
                  const std::function<Value(Value)> &more);
  /// The position (index) of the first of the n items equal to `x`, or n.
  Value findItem(mlir::ValueRange data, Value n, const Type &item, const CGValue &x);
  /// Sorts the first n items of a list of tuples in place, as Python sorts
  /// tuples (runtime: _stn_sort_items).
  void sortItems(mlir::ValueRange data, Value n, const Type &item);
  /// Sorts the n items of a list by `key=` (info.keyFn), stably, as
  /// Python does (reverse: descending keys, equal keys in their order).
  void sortByKey(mlir::ValueRange data, Value n, const Type &item, const CallInfo &info,
                 Value reverse);
  /// The key= function of `info` as a callable from an item to its key;
  /// the function's other arguments (defaults, captured values) are
  /// evaluated once, here.
  std::function<CGValue(const CGValue &)> keyCaller(const CallInfo &info);
  /// A callee that was not generated into this module (a compiler bug):
  /// an internal error, and a default value to go on with.
  CGValue missingFunction(const TypedFunction &callee, SourceRange at) {
    Failed = true;
    Diags.error(F.file, at,
                fmt::format("internal compiler error: no function was generated for '{}'",
                            callee.def->name));
    return defaultValue(callee.resultType);
  }
  /// Python's min()/max() of items (CallInfo::mode 1).
  CGValue minMaxItems(const ast::Call &c, const CallInfo &info);
  /// The first n items in reverse order, in place.
  void reverseItems(mlir::ValueRange data, Value n, const Type &item);
  /// Python's repr() of a value of type `t` (a number or a tuple of
  /// numbers) as message marks (KernelFaults.h), its words from
  /// messageWords.
  std::string reprMarks(const Type &t);
  /// Raises `ValueError: x is not in list` (list.index) where `fail`.
  void raiseNotInList(Value fail, const CGValue &x);
  /// `list` with the items of `items` (a list of tuples, or the 1-d array
  /// of a list's items) added at its end.
  CGValue extendList(const CGValue &list, const CGValue &items);
  CGValue listCopy(const CGValue &list);
  CGValue extendItems(const ast::Expr &e, const std::string &name);
  /// `xs + ys` (a new list of both's items) and `xs * n` / `n * xs`.
  CGValue listBinop(const ast::BinOp &b);
  /// `xs += ys` and `xs *= n`.
  void listAugAssign(const ast::AugAssign &a);
  /// An scf.for over [lo, hi) carrying `init`: `body` gets the index and
  /// the state and gives the next state; returns the last one.
  SmallVector<Value>
  carryLoop(Value lo, Value hi, mlir::ValueRange init,
            const std::function<SmallVector<Value>(Value, SmallVector<Value>)> &body);
  // Dicts (Type::dict; the storage layout is in the Dicts section).
  struct DictParts {
    Type type;
    SmallVector<Value> keys, values; ///< a storage per number of a key, of a value
    Value live;                      ///< bool per entry
    Value index;                     ///< int64 per slot: a slot word, or -1
    Value used, len;                 ///< int64
  };
  /// Where a probe of the index ended: the slot (index), the entry there
  /// (int64: the key's, or -1 where the slot is empty) and the key's hash.
  struct ProbeEnd {
    Value slot, entry, hash;
  };
  CGValue dictValue(const Type &t, mlir::ValueRange leaves);
  CGValue popLastEntry(DictParts &p, const Type &rt, llvm::StringRef emptyText);
  DictParts dictParts(const CGValue &d);
  CGValue makeDict(const DictParts &p);
  Value dictCapacity(const DictParts &p);
  /// An empty dict of type `t` with room for `cap` entries (0, or a power
  /// of two).
  DictParts newDict(const Type &t, Value cap);
  Value hashKey(const CGValue &key);
  /// The number of slots of `p`'s index, one that has some (its storage
  /// holds kMirroredSlots more).
  Value indexSlots(const DictParts &p);
  /// Stores `word` (a slot word, or -1) at slot `i` of `p`'s index of
  /// `slots` slots, and at its mirror where `i` has one.
  void storeSlot(const DictParts &p, Value slots, Value i, Value word);
  /// The slot word of entry `e` (int64) whose key hashes to `hash`.
  Value slotWord(Value hash, Value e);
  /// The entry (int64) of a full slot's word.
  Value wordEntry(Value word);
  /// Where the probe for `key` (of the key type) ends: key's live entry, or
  /// the empty slot where it would go.
  ProbeEnd dictFind(const DictParts &p, const CGValue &key);
  /// dictFind's results in this statement: a find of the same key in the
  /// same dict storage (index, used and len: a store or a removal gives
  /// new ones) in the same block reuses the probe, as the store of
  /// `d[k] = d.get(k, 0) + 1` does its get's.
  struct RecentFind {
    Block *block;
    SmallVector<Value> state; ///< index, used, len, then the key's leaves
    ProbeEnd end;
  };
  SmallVector<RecentFind, 2> Finds;
  /// dictFind's linear probe of an index of `slots` slots (at least one);
  /// `hash` is hashKey(key) where already computed.
  ProbeEnd probe(const DictParts &p, const CGValue &key, Value slots, Value hash = {});
  /// The live entries of `p` in order in new storage for `cap` entries,
  /// with a new index; frees the old storage where `freeOld`.
  DictParts dictRebuild(const DictParts &p, Value cap, bool freeOld);
  /// `p` with `value` at `key`: replaced, or a new entry (growing the
  /// storage when every entry is used). `mustExist`: a new key raises
  /// RuntimeError instead (a loop iterates over the dict).
  DictParts dictSet(DictParts p, const CGValue &key, const CGValue &value, bool mustExist);
  /// The entry (int64) of `key`, or -1; KeyError where missing and
  /// `raiseMissing`. `slot`, where given, gets the index slot that holds
  /// the entry.
  Value dictEntry(const DictParts &p, const CGValue &key, bool raiseMissing,
                  Value *slot = nullptr);
  /// Removes entry `e` (int64), held by index slot `slot`: clears its live
  /// flag and empties the slot, moving later slots of its probe run back
  /// (so every slot holds a live entry, and probes stop at empty ones).
  void unlinkEntry(const DictParts &p, Value slot, Value e);
  /// Whether entry `e` (int64, from dictEntry) was found.
  Value dictHas(Value e);
  /// The value at entry `e` of `p` as `rt` where found, else `otherwise()`
  /// as `rt`.
  CGValue valueOr(const DictParts &p, Value e, const Type &rt,
                  const std::function<CGValue()> &otherwise);
  /// An empty dict of type `t` (also `{}`'s unknown type): no storage
  /// until its first store (dictFind finds nothing in it, dictSet grows it).
  CGValue emptyDict(const Type &t);
  /// `into` with the live entries of dict `from` set in it, in order (as
  /// dictSet with `mustExist`).
  CGValue insertEntries(const CGValue &into, const CGValue &from, bool mustExist);
  CGValue convertDict(const CGValue &v, const Type &to);
  CGValue dictDisplay(const ast::Dict &d);
  /// `{k: v for ...}`, and `{x for ...}` of a set.
  CGValue dictComp(const ast::ListComp &l);
  /// dict(...) and set(...).
  CGValue dictOf(const ast::Call &c);
  CGValue dictCopy(const CGValue &d);
  /// `d`'s live entries at positions 0..len-1: itself, or a compacted copy
  /// where some were popped.
  DictParts dictEntries(const CGValue &d, bool freeOld);
  CGValue dictSubscript(const ast::Subscript &s);
  void storeIntoDict(const ast::Subscript &s, const CGValue &v);
  void dictAugAssign(const ast::AugAssign &a);
  Value dictContains(const CGValue &d, const CGValue &key);
  CGValue dictMethod(const ast::Call &c, const CallInfo &info);
  // Sets (Type::set: a dict without values; the Sets section).
  /// Folds `body` over the items of set `s` in order (a known set's live
  /// entries), carrying `init`.
  SmallVector<Value>
  foldItems(const CGValue &s, mlir::ValueRange init,
            const std::function<SmallVector<Value>(const CGValue &, SmallVector<Value>)> &body);
  /// `p` with `item` added (a no-op where it is there).
  DictParts setAdd(const DictParts &p, const CGValue &item, bool mustExist);
  /// `p` without `item` (a no-op where it is not there, or KeyError where
  /// `raiseMissing`).
  DictParts setDiscard(DictParts p, const CGValue &item, bool raiseMissing = false);
  /// A new set of type `t` from sets `a` and `b` (of type `t`): `op` is |,
  /// &, - or ^. `aIsNew`: `a` is a set no variable holds (a conversion),
  /// which | may take over instead of copying.
  CGValue setCombine(ast::BinOpKind op, const CGValue &a, const CGValue &b, const Type &t,
                     bool aIsNew);
  /// `s op= other` in place (`s` is a variable's set; both of one type):
  /// |= adds other's items, -= discards them, &= discards s's items not
  /// in other, ^= discards or adds each of other's.
  CGValue setUpdate(ast::BinOpKind op, const CGValue &s, const CGValue &other);
  /// Whether every item of `a` is in `b` (sets of one type).
  Value setSubset(const CGValue &a, const CGValue &b);
  /// Sets `a` and `b` converted to their common type.
  std::pair<CGValue, CGValue> commonSets(const CGValue &a, const CGValue &b);
  CGValue setDisplay(const ast::List &l);
  CGValue setMethod(const ast::Call &c, const CallInfo &info);
  CGValue setBinop(const ast::BinOp &b);
  CGValue setCompare(const ast::Compare &c);
  void setAugAssign(const ast::AugAssign &a);
  /// Set while a for loop's iterable is evaluated (a loop over a dict
  /// variable keeps its compacted entries: iterItems).
  bool IteratingForLoop = false;
  /// An scf.for over index values [lo, hi) (usable inside scf regions).
  void indexLoop(Value lo, Value hi, const std::function<void(Value)> &body);
  Value mathUnary(Builtin b, Value x, ScalarKind k);
  /// atan2, hypot, fmod, remainder, copysign, gcd and lcm of x and y (both
  /// of kind k).
  Value mathBinary(Builtin b, Value x, Value y, ScalarKind k);
  /// ldexp(x, e): x (of float kind k) times 2**e (an integer of kind ek).
  Value ldexp(Value x, Value e, ScalarKind ek, ScalarKind k);
  /// gcd(x, y) of integers of kind k: non-negative, gcd(0, 0) = 0.
  Value gcd(Value x, Value y, ScalarKind k);
  /// math.gcd, lcm, isqrt, factorial, comb, perm (Python's errors), divmod,
  /// frexp, modf and math.log(x, base).
  CGValue moreMath(const ast::Call &c, const CallInfo &info);
  /// divmod(x, y), frexp(x), modf(x) of numbers (x float64 for frexp, else
  /// of kind `k`): the two parts, of the kinds of tuple type `rt`'s
  /// elements (scalars, or arrays' dtypes).
  SmallVector<Value> mathPair(Builtin b, SmallVector<Value> x, ScalarKind k, const Type &rt);
  /// From acc = 1, for i = lo ... hi (int64s): acc = a * b of the pair
  /// `factors(i, acc)` gives (both below 2**63), raising OverflowError
  /// (naming `fn`) where a product does not fit int64; stops there.
  Value checkedFold(Value lo, Value hi, const char *fn,
                    const std::function<std::pair<Value, Value>(Value, Value)> &factors);
  /// An scf.while: `body` maps the carried values to their next ones while
  /// `cond` of them holds; returns the values it ends with.
  SmallVector<Value> loopWhile(mlir::ValueRange init,
                               const std::function<Value(mlir::ValueRange)> &cond,
                               const std::function<SmallVector<Value>(mlir::ValueRange)> &body);
  CGValue attribute(const ast::Attribute &a);
  CGValue subscript(const ast::Subscript &s);
  /// The memref and index values of an element access or a row view.
  bool address(const ast::Subscript &s, Value &memref, SmallVector<Value> &indices,
               Type &baseType);
  Value loadElement(Value memref, const SmallVector<Value> &idx, ScalarKind k);
  void storeElement(Value v, Value memref, const SmallVector<Value> &idx, ScalarKind k);
  Value rowView(Value memref, const SmallVector<Value> &idx, const Type &baseType,
                const Type &resultType);
  SmallVector<Value> emitIf(Value cond, mlir::TypeRange types,
                            const std::function<SmallVector<Value>()> &thenFn,
                            const std::function<SmallVector<Value>()> &elseFn);
  bool isNonNegative(const ast::Expr &e);

  // Errors raised at run time (stn/Compiler/KernelFaults.h): CPU code
  // calls _stn_raise, GPU code records them (GPUIntrinsicEmitter::raise).
  /// boundscheck=True (or STN_BOUNDSCHECK=1, applied by Sema).
  bool boundsChecked() const { return F.decl && F.decl->options.boundscheck; }
  /// error_model="python": integer division by zero raises (@jit kernels;
  /// ufuncs, gufuncs and stencils follow NumPy, as in Numba). GPU code
  /// follows NumPy, as numba.cuda does.
  bool pythonErrors() const;
  /// Reports a fault where `fail` holds, at CurRange. `values` are
  /// index or integer values (widened to i64); at most kMaxFaultValues.
  void raiseIf(Value fail, KernelFaultKind kind, llvm::StringRef text,
               llvm::ArrayRef<Value> values);
  /// The values of a Broadcast/AssignShape fault: rank and extents of a,
  /// then of b (ranks above what fits are cut).
  SmallVector<Value> shapePair(llvm::ArrayRef<Value> a, llvm::ArrayRef<Value> b);
  /// Fails where extent `x` does not broadcast to `to` (x != to and x != 1).
  Value notBroadcastable(Value x, Value to);
  /// NumPy's broadcast of `shapes` to `rank` axes, aligned right (extents
  /// that disagree give the smaller: broadcastDim).
  SmallVector<Value> broadcastShape(const std::vector<SmallVector<Value>> &shapes,
                                    unsigned rank);
  /// Fails where `a` or `b` does not broadcast to `out`.
  Value broadcastFails(llvm::ArrayRef<Value> a, llvm::ArrayRef<Value> b,
                       llvm::ArrayRef<Value> out);
  /// boundscheck: raises where index `i` (after wrapping; `given` as
  /// written) is outside axis `axis` of `mem`; returns that condition.
  Value indexOutOfBounds(const ast::Subscript &s, Value mem, unsigned rank, unsigned axis,
                         Value i, Value given,
                         KernelFaultKind kind = KernelFaultKind::Index);
  /// A one-element scratch array of `mem`'s type (a private global): where
  /// accesses go after a failed check that returned.
  Value scratchElement(Value mem);
  /// error_model="python": raises where the integer divisor `r` of `//` or
  /// `%` is zero (scalar code; array expressions follow NumPy).
  void checkDivisor(ast::BinOpKind op, Value r, ScalarKind k, SourceRange at);
  /// Calls of stencils, ufuncs and gufuncs from kernel code: the shape
  /// checks the host API makes before a call (CallChecks.cpp). Returns where
  /// one failed (null: nothing to check).
  Value checkCallShapes(const ast::Call &c, const TypedFunction &callee,
                        const std::vector<CGValue> &args);
  /// Array variables whose old value is freed when they are overwritten
  /// (ArrayOwnership.h), and the SSA variable of each one's "the kernel
  /// allocated the current value" flag.
  std::set<std::string> UniqueArrays;
  static std::string ownedFlag(const std::string &var) { return "$owned:" + var; }
  /// Set by genAssign while its value is a fresh allocation.
  bool AssigningFresh = false;
  void releaseOnOverwrite(const std::string &name, const CGValue &v);
  /// The source range of the expression being generated.
  SourceRange CurRange;

  ModuleGen &MG;
  const TypedFunction &F;
  mlir::ModuleOp Module;
  DiagnosticEngine &Diags;
  mlir::MLIRContext *Ctx;
  OpBuilder B;
  Location CurLoc;
  func::FuncOp Func;
  mlir::Region *Region = nullptr;
  Block *Cur = nullptr;
  Block *Entry = nullptr;
  /// Where entryAlloca puts scratch memory: the function's entry, or the
  /// entry of the parallel region being generated (per-thread scratch).
  Block *AllocaBlock = nullptr;
  /// Parallel regions around the code being generated (0 or 1: loops and
  /// array expressions inside one run serially on their thread).
  unsigned ParallelDepth = 0;
  std::unique_ptr<SSABuilder> SSA;
  std::map<std::string, Type> VarTypes; ///< leaf variable -> its type
  struct LoopTargets {
    Block *continueTo;
    Block *breakTo;
  };
  std::vector<LoopTargets> Loops;
  unsigned Counter = 0;
  /// Loop variables of `range` loops that start >= 0 with a positive step
  /// and are never assigned elsewhere: indexing with them needs no wrap.
  std::set<std::string> NonNegVars;
  bool Failed = false;
  /// What `return` produces: the stencil body's element, or the result.
  Type ResultT;
  func::FuncOp Override;
  /// The body of a recursive function: the thread's stack limit
  /// (checkStackDepth).
  Value StackLimit;
  const GpuRegion *RegionBody = nullptr;
  bool StencilBody = false;
  bool Remap = false;
  SmallVector<Value> Center;      ///< stencil body: the output coordinates
  SmallVector<Value> StencilDims; ///< stencil body: the relative inputs' extents
  Value stencilLoad(const ast::Subscript &s, const TypedFunction::StencilAccess &acc);

  //===--------------------------------------------------------------------===//
  // Array expressions (fused)
  //===--------------------------------------------------------------------===//

  /// An array expression not stored anywhere yet: its extents and how to
  /// compute the element at given output coordinates. A whole expression
  /// tree becomes one LazyArray, materialized by one loop nest (fusion);
  /// reductions consume it without a temporary. Scalars are rank 0.
  struct LazyArray {
    Type type;
    SmallVector<Value> shape;
    std::function<void(mlir::ValueRange outShape)> prepare;
    std::function<Value(mlir::ValueRange ivs)> element;
    /// The arrays its elements are loaded from (storeInto checks them
    /// against the destination).
    SmallVector<Value> reads;
    /// Set for the items of a comprehension, which reductions take as they
    /// are made (no list, no shape): calls its argument with each item.
    std::function<void(const std::function<void(Value)> &)> each;
  };
  /// Calls `fn` with each element of `a`, in C order.
  void eachElement(const LazyArray &a, const std::function<void(Value)> &fn);
  /// The comprehension `l` seen as the array of its items (of kind `k`),
  /// for the reductions that take each item once (Sum, Prod, ReduceMin,
  /// ReduceMax, Any, All).
  LazyArray comprehensionItems(const ast::ListComp &l, ScalarKind k);
  bool isElementwise(const ast::Expr &e);
  LazyArray lazy(const ast::Expr &e);
  LazyArray leaf(Value mem, const Type &t);
  LazyArray elementwise(const Type &t, std::vector<LazyArray> parts,
                        std::function<Value(const SmallVector<Value> &)> combine);
  /// np.real, np.imag or np.conj (`part`) of `x` (kind `k`).
  Value partOf(Builtin part, Value x, ScalarKind k);
  /// `a`'s elements converted to kind `to` (astype), as a C-ordered array
  /// expression of a's rank.
  LazyArray converted(LazyArray a, ScalarKind to);
  Value elementMath(const CallInfo &info, const SmallVector<Value> &vals,
                    const SmallVector<ScalarKind> &kinds, ScalarKind resultKind);
  Value clipValue(const SmallVector<Value> &vals, const SmallVector<ScalarKind> &kinds,
                  const SmallVector<unsigned> &roles, ScalarKind k);
  Value signSquareRound(Builtin b, const SmallVector<Value> &vals,
                        const SmallVector<ScalarKind> &kinds);
  Value materialize(LazyArray a);
  /// Runs `body` for every index of `shape`, the outer axis split over the
  /// team where array expressions run in parallel (parallelArrays).
  void storeEach(const SmallVector<Value> &shape, const std::function<void(mlir::ValueRange)> &body);
  /// Whether `dest`'s memory overlaps any of `reads` (null: no reads).
  Value overlapsAny(Value dest, mlir::ArrayRef<Value> reads);
  Value logicalNot(Value b) { return B.create<arith::XOrIOp>(CurLoc, b, constBool(true)); }
  /// Stores `src`, broadcast to `shape` (dest's), into `dest` as elements
  /// of kind `k`: directly where `dest` overlaps none of the arrays `src`
  /// reads, else through a temporary array (NumPy's semantics for
  /// overlapping views: a[1:] = a[:-1]).
  void storeInto(LazyArray src, Value dest, const SmallVector<Value> &shape, ScalarKind k);
  void forEach(const SmallVector<Value> &shape, const std::function<void(mlir::ValueRange)> &body);
  CGValue arrayCall(const ast::Call &c, const CallInfo &info);
  SmallVector<Value> shapeOperand(const ast::Expr &e);
  /// `skipNan`: np.nansum and the like (NaNs left out; an all-NaN min or
  /// max is NaN, an all-NaN argmin or argmax an error). The min or max of
  /// no elements raises ValueError with NumPy's message, or Python's for
  /// the builtins min() and max(), unless the caller handles that case.
  enum class EmptyMinMax { NumPyError, PythonError, Handled };
  Value reduce(LazyArray a, Builtin b, ScalarKind r, bool skipNan = false,
               EmptyMinMax empty = EmptyMinMax::NumPyError);
  /// A view of `s`'s base with integer and slice components (Python's
  /// slice rules); it aliases the base.
  Value sliceView(const ast::Subscript &s);
  Value insertNewAxes(Value view, llvm::ArrayRef<bool> isNew, mlir::MemRefType want);
  /// `src` (of type `st`) with the int64 `extents` (one may be -1) as its
  /// shape, in C order (NumPy's reshape, of type `rt`): a view where its
  /// elements are evenly spaced in C order, else a view of a C-ordered copy.
  Value reshapeView(Value src, const Type &st, SmallVector<Value> extents, const Type &rt);
  /// Whether the elements of `src` (rank `r`, `n` elements) are evenly
  /// spaced in C order (axes of length 1 have any stride; empty arrays are).
  Value evenlySpaced(Value src, unsigned r, Value n);
  /// `src` where `evenly` holds, else a C-ordered copy of it (type `st`), as
  /// a memref of any layout.
  Value cOrderData(Value src, const Type &st, Value evenly);
  /// The evenly spaced `data` with the extents `sizes` and C strides, as
  /// type `rt` (a view from data's first element).
  Value withCShape(Value data, llvm::ArrayRef<Value> sizes, const Type &rt);
  /// `src` (type `st`) as a 1-d C-ordered array of its elements: a view
  /// where they are evenly spaced, else a view of a copy (np.ravel without
  /// reshape's checks, for the builtins that work on flattened arrays).
  Value flatView(Value src, const Type &st);
  /// The number of elements of `mem` (rank `r`), as an index.
  Value elementCount(Value mem, unsigned r);
  /// A view of `src` whose axis d is axis perm[d] of `src` (transposes).
  Value permutedView(Value src, llvm::ArrayRef<unsigned> perm, const Type &rt);
  /// np.cumsum / np.cumprod (`info.axis`, -1: flattened) of `src`.
  Value cumulative(const CallInfo &info, CGValue src, const Type &rt);
  /// Sorts each lane of `mem` (kind `k`) along axis `ax` in place.
  void sortLanes(Value mem, ScalarKind k, unsigned ax);
  /// np.sort / np.argsort along `info.axis` (-1: flattened) of `src`, into
  /// a new array of type `rt`.
  Value sorted(const CallInfo &info, CGValue src, const Type &rt);
  /// np.concatenate, np.stack, np.vstack, np.hstack of the tuple `parts`.
  Value joined(const CallInfo &info, const CGValue &parts, const Type &rt);
  /// joined() of the arrays of a list of arrays, as many as it holds:
  /// np.concatenate(xs) and the others, and (info null) the array of the
  /// list, its items stacked along a new first axis (no items: extents 0).
  Value joinedList(const CallInfo *info, const CGValue &list, const Type &rt);
  /// NumPy's ValueError where array `index` of a join has extent `extent`
  /// along axis d of the result (the first array's: `first`).
  void raiseJoinMismatch(Value differs, bool newAxis, unsigned d, unsigned ax, Value first,
                         Value index, Value extent);
  /// np.median, np.percentile, np.quantile of `src` (q: the number).
  CGValue quantiles(const CallInfo &info, CGValue src, const Type &rt);
  /// np.isclose (an array or a bool) and np.allclose (a bool).
  Value closeness(const CallInfo &info, const Type &rt);
  /// NumPy's sort order (NaN last) of x before y, both of kind k.
  Value sortsBefore(Value x, Value y, ScalarKind k);
  /// The first index i of the sorted 1-d `mem` (kind `mk`, `n` elements)
  /// where v (kind `vk`) sorts before mem[i] (`right`), or where mem[i]
  /// does not sort before v (NumPy's searchsorted, side left or right).
  /// `sideAtRunTime` (an i1), where given, chooses the side when the kernel
  /// runs instead of `right`.
  Value searchSorted(Value mem, ScalarKind mk, Value n, Value v, ScalarKind vk, bool right,
                     Value sideAtRunTime = {});
  /// np.unique, np.searchsorted, np.bincount, np.histogram, np.interp.
  CGValue lookupCall(const CallInfo &info, const Type &rt);
  /// np.linalg's functions but norm (LinalgRuntime.cpp does the work).
  CGValue linalgCall(const CallInfo &info, const Type &rt);
  /// np.linalg.norm: vector norms here, matrix norms by the runtime.
  CGValue normCall(const CallInfo &info, const Type &rt);
  /// The vector norm of all of `a`'s elements in kind `k`: of order `p`
  /// (float64, chosen when the kernel runs), the 2-norm where `p` is null.
  Value vectorNorm(LazyArray a, ScalarKind k, Value p);
  /// The 1-d lane of `a` (prepared for its own shape; it must outlive the
  /// lane) along `axis`, at the indices `outer` of its other axes.
  LazyArray laneOf(const LazyArray &a, unsigned axis, SmallVector<Value> outer);
  /// Raises NumPy's error for a matrix norm's LinalgStatus `status`.
  void raiseNormStatus(Value status);
  /// np.repeat, np.tile, np.cross, np.append, np.convolve, np.digitize,
  /// np.isin, np.triu, np.tril, np.diag, np.diagflat, np.kron: new arrays
  /// made from others' elements; np.vdot.
  CGValue rearrangedCall(const CallInfo &info, const Type &rt);
  /// `src` (rank of `rt`) with the axes `axes` reversed: a view (np.flip);
  /// `rt` has Layout::Any (the strides become negative).
  Value flippedView(Value src, llvm::ArrayRef<unsigned> axes, const Type &rt);
  /// A number as a new 1-d array of one element; an array as it is.
  CGValue asArray(const CGValue &v);
  /// The offset of a diagonal (np.trace, np.diag): `offset`'s value as an
  /// index, 0 where null.
  Value diagonalOffset(const ast::Expr *offset);
  /// The diagonal a[i, i + offset] of the 2-d `mem` (kind `k`), lazily;
  /// empty past the corner.
  LazyArray diagonal(Value mem, ScalarKind k, const ast::Expr *offset);
  /// NumPy's product of two elements of kind `k`: `and` for bools.
  Value productOf(Value x, Value y, ScalarKind k);
  /// The sum of x[i] * y[i] over two 1-d arrays of one length, converted to
  /// `ok` (bools: any(x & y), as NumPy's dot); `conjugateX`: x conjugated
  /// (np.vdot).
  Value innerProduct(LazyArray x, LazyArray y, ScalarKind ok, bool conjugateX = false);
  /// The address (as int64) of the element at `idx` of `mem`.
  Value elementAddress(Value mem, mlir::ValueRange idx);
  /// Runs `body` on each 1-d lane along axis `ax` of the arrays `arrays` (C
  /// order, one shape), with each lane's address and the lane length: the
  /// lane itself where it is contiguous (the last axis, of stride 1 in every
  /// array's type), else a contiguous temporary copied in before and back
  /// after.
  void forEachLane(llvm::ArrayRef<Value> arrays, llvm::ArrayRef<ScalarKind> kinds, unsigned ax,
                   const std::function<void(llvm::ArrayRef<Value> addresses, Value n)> &body);
  /// Python's slice `sl` of n items: the first position, the count and the
  /// step (index values); an empty slice starts at 0 unless not
  /// `emptyAtZero`.
  void sliceBounds(const ast::Slice &sl, Value n, Value &lo, Value &count, Value &step,
                   bool emptyAtZero = true);
  void assignSlice(const ast::Subscript &target, const CGValue &v);
  /// target[...] = src for an array value, into `view` (null: target's).
  void assignArray(const ast::Subscript &target, LazyArray src, Value view = {});
  void stencilInto(const ast::Assign &a, const TypedFunction &into);
  Value maskGather(const ast::Subscript &s);
  void maskStore(const ast::Subscript &s, const CGValue &v);
  /// Raises NumPy's IndexError where boolean index `mask` does not have
  /// `shape` (the indexed axes'), and then empties `shape`; returns that
  /// condition (null where nothing can raise).
  Value maskMismatch(const LazyArray &mask, SmallVector<Value> &shape, llvm::StringRef name);
  /// `value` at the indices of `shape` where `mask` holds (in C order), as
  /// a new 1-d array of type `outType`; `bad` as maskMismatch's.
  Value compress(LazyArray mask, SmallVector<Value> shape, const Type &outType,
                 llvm::StringRef name, const std::function<Value(mlir::ValueRange)> &value,
                 Value &bad);
  /// An integer-array subscript (TypedFunction::fancy), its indices
  /// evaluated once: `shape` is the indexed shape, and `select` calls `use`
  /// with the base element an index of it selects. The indices are checked
  /// (a gather's all before, by fancyIndex; a store's each in `select`);
  /// where a check failed and returned (in a parallel region), `shape` is
  /// empty or `use` is not called.
  struct FancyIndex {
    Value base;
    Type baseType;
    std::string name;
    SourceRange range; ///< the subscript, where its errors point
    SmallVector<Value> shape;
    using Use = std::function<void(Value mem, const SmallVector<Value> &at)>;
    std::function<void(mlir::ValueRange ivs, const Use &use)> select;
    /// Arrays made for the indices, freed by releaseFancy where their
    /// condition holds (null: always).
    SmallVector<std::pair<Value, Value>> temporaries;
  };
  /// `forStore`: index arrays that share memory with the base are copied
  /// first (the store writes what they are read from).
  FancyIndex fancyIndex(const ast::Subscript &s, bool forStore);
  /// `mem` (of type `t`) broadcast to `shape`, or, where it shares memory
  /// with `dest`, a copy of that; `copied` tells which (for the dealloc).
  Value snapshot(Value mem, const Type &t, Value dest, const SmallVector<Value> &shape,
                 Value &copied);
  /// A 1-d boolean index along `axis` as the int64 positions it selects;
  /// `bad` where its length is not the axis's `n` (raised).
  Value maskPositions(const ast::Expr &m, unsigned axis, Value n, llvm::StringRef name,
                      Value &bad);
  /// Index `i` of kind `k` as an index value, negative ones counting from
  /// `extent` (Python's rule).
  Value wrapIndex(Value i, ScalarKind k, Value extent);
  Value fancyGather(FancyIndex &fi, const Type &resultType);
  void fancyStore(FancyIndex &fi, const CGValue &v);
  Value fancyValues(FancyIndex &fi, const CGValue &v, Value &copied);
  void releaseFancy(FancyIndex &fi);
  void augAssignArray(const ast::AugAssign &a);
  Value augCombine(const ast::AugAssign &a, Value l, Value r, ScalarKind k, Location at);
  void ufuncAtFancy(const ast::AugAssign &a, const ast::Subscript &s);
  /// Runs `body` only where `cond` holds (inside a loop nest).
  void ifThen(Value cond, const std::function<void()> &body);
  /// A 0-d scratch memref allocated once in the entry block, so that
  /// accumulators used inside loops do not grow the stack per iteration.
  Value entryAlloca(mlir::Type t) {
    OpBuilder::InsertionGuard g(B);
    B.setInsertionPointToStart(AllocaBlock ? AllocaBlock : Entry);
    return B.create<memref::AllocaOp>(CurLoc, mlir::MemRefType::get({}, t));
  }
};

class ModuleGen {
  std::map<std::pair<const TypedFunction *, bool>, bool> RaiseMemo;
  std::map<const TypedFunction *, bool> RecursiveMemo;

public:
  ModuleGen(mlir::MLIRContext &ctx, DiagnosticEngine &diags) : Ctx(ctx), Diags(diags) {}

  /// Whether `f` or a function it calls has a raise or assert statement,
  /// or (with `boundsChecks`) checks its indices.
  bool mayRaise(const TypedFunction *f, bool boundsChecks = false) {
    auto key = std::make_pair(f, boundsChecks);
    if (auto it = RaiseMemo.find(key); it != RaiseMemo.end())
      return it->second;
    RaiseMemo[key] = false; // a recursive call sees no raise
    // A recursive function raises RecursionError where the stack runs out.
    bool r = !f->raises.empty() || (boundsChecks && f->decl && f->decl->options.boundscheck) ||
             isRecursive(f);
    for (const TypedFunction *c : f->callees)
      r = r || mayRaise(c, boundsChecks);
    return RaiseMemo[key] = r;
  }

  /// Whether `f` can call itself (directly or through other functions).
  bool isRecursive(const TypedFunction *f) {
    if (auto it = RecursiveMemo.find(f); it != RecursiveMemo.end())
      return it->second;
    std::vector<const TypedFunction *> todo(f->callees.begin(), f->callees.end());
    std::set<const TypedFunction *> seen;
    bool r = false;
    while (!todo.empty() && !r) {
      const TypedFunction *g = todo.back();
      todo.pop_back();
      r = g == f;
      if (seen.insert(g).second)
        todo.insert(todo.end(), g->callees.begin(), g->callees.end());
    }
    return RecursiveMemo[f] = r;
  }

  mlir::OwningOpRef<mlir::ModuleOp> run(const TypedFunction &entry) {
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::ModuleOp::create(mlir::UnknownLoc::get(&Ctx));
    std::vector<const TypedFunction *> order;
    std::set<const TypedFunction *> seen;
    std::function<void(const TypedFunction *)> visit = [&](const TypedFunction *f) {
      if (!seen.insert(f).second)
        return;
      order.push_back(f);
      for (auto *c : f->callees)
        visit(c);
    };
    visit(&entry);
    if (Gpu && entry.kind != KernelKind::Jit && entry.kind != KernelKind::Gpu)
      GpuEntry = &entry;
    // The host part of a target="cuda" kernel launches its GPU regions.
    if (!Gpu && entry.kind == KernelKind::Jit && entry.decl && entry.decl->gpuLoops() &&
        entry.regionIndex < 0)
      GpuHost = &entry;
    if (Gpu)
      for (auto *f : order)
        if (f->def && isRecursive(f)) {
          Diags.error(f->file, f->def->nameRange,
                      fmt::format("'{}' calls itself (directly or through other functions); "
                                  "recursion is not supported in GPU code",
                                  f->def->name),
                      "write the recursion as a loop, or run this part on the CPU");
          return nullptr;
        }
    // Declare every function first so calls can refer to them.
    for (auto *f : order)
      declare(*module, *f, f == &entry);
    // Callees first: a driver sizes its parallel loops by its core
    // function's body (opCount).
    for (auto *f : llvm::reverse(order)) {
      bool ok = true;
      switch (f->kind) {
      case KernelKind::Jit:
      case KernelKind::Gpu:
        ok = f->regionIndex >= 0 ? genGpuRegion(*module, *f)
                                 : FunctionGen(*this, *f, *module, Diags).generate();
        if (ok && recursiveBody(f))
          genRecursionWrapper(*f);
        break;
      case KernelKind::Stencil:
        ok = genStencil(*module, *f);
        break;
      case KernelKind::Ufunc:
        ok = genUfunc(*f);
        break;
      case KernelKind::Gufunc:
        ok = genGufunc(*f);
        break;
      }
      if (!ok)
        return nullptr;
    }
    if (GpuHost && !checkGpuHost(*GpuHost))
      return nullptr;
    if (Gpu)
      allowContraction(*module);
    if (mlir::failed(mlir::verify(*module))) {
      std::string text;
      llvm::raw_string_ostream os(text);
      module->print(os);
      Diags.error(nullptr, {}, "internal compiler error: generated MLIR does not verify:\n" +
                                   text);
      return nullptr;
    }
    return module;
  }

  func::FuncOp funcFor(const TypedFunction *f) { return Funcs.lookup(f); }

  /// GPU code contracts `a * b + c` into one FMA, as nvcc (--fmad=true) and
  /// numba.cuda do by default: every float operation gets `contract`, on top
  /// of its kernel's fastmath flags. CPU code stays strict unless fastmath
  /// asks (docs/gpu.md).
  static void allowContraction(mlir::ModuleOp module) {
    module.walk([](mlir::Operation *op) {
      auto fm = dyn_cast<arith::ArithFastMathInterface>(op);
      if (!fm)
        return;
      auto old = op->getAttrOfType<arith::FastMathFlagsAttr>(fm.getFastMathAttrName());
      arith::FastMathFlags flags = old ? old.getValue() : arith::FastMathFlags::none;
      op->setAttr(fm.getFastMathAttrName(),
                  arith::FastMathFlagsAttr::get(op->getContext(),
                                                flags | arith::FastMathFlags::contract));
    });
  }

  /// Emits GPU intrinsics; null outside GPU compilations (GPUGen.h).
  GPUIntrinsicEmitter *Gpu = nullptr;
  /// Where decisions are recorded for `--emit=diagnostics`; usually null.
  CodegenLog *Log = nullptr;
  /// The driver compiled as a GPU kernel (a target="cuda" stencil, ufunc or
  /// gufunc called from the host, GPUPipeline.h): it writes its out= array,
  /// returns nothing and spreads its loop nest over the grid.
  const TypedFunction *GpuEntry = nullptr;
  /// The host part of a `@jit(target="cuda")` kernel (GpuRegions.h): its
  /// GPU regions become `_stn_gpu_launch` calls.
  const TypedFunction *GpuHost = nullptr;

  mlir::FunctionType functionType(const TypedFunction &f) {
    SmallVector<mlir::Type> args, results;
    for (auto &t : f.argTypes)
      leafTypes(&Ctx, t, args);
    leafTypes(&Ctx, f.resultType, results);
    return mlir::FunctionType::get(&Ctx, args, results);
  }

  /// A libm function declared once per module (e.g. hypot).
  func::FuncOp libmFunction(mlir::ModuleOp module, llvm::StringRef name, mlir::Type t,
                            unsigned arity) {
    SmallVector<mlir::Type> args(arity, t);
    return externFunction(module, name, args, {t});
  }

  //===--------------------------------------------------------------------===//
  // Generated drivers: the loops that apply stencils, ufuncs and gufuncs
  //===--------------------------------------------------------------------===//

  /// One loop nest over [lbs, ubs) (unit steps), innermost loop last so it
  /// runs along the contiguous axis and vectorizes. Every driver uses it,
  /// and so do fused array expressions.
  static void loopNest(OpBuilder &b, Location l, mlir::ValueRange lbs, mlir::ValueRange ubs,
                       llvm::function_ref<void(OpBuilder &, Location, mlir::ValueRange)> body) {
    SmallVector<Value> steps(lbs.size(), b.create<arith::ConstantIndexOp>(l, 1));
    mlir::scf::buildLoopNest(b, l, lbs, ubs, steps, body);
  }

  //===--------------------------------------------------------------------===//
  // Parallel loops (OpenMP)
  //===--------------------------------------------------------------------===//
  //
  // A parallel loop over [0, n) becomes one `omp.parallel` region whose
  // threads take chunks of consecutive indices from a shared counter (an
  // atomic add per chunk: dynamic scheduling, which copes with busy cores)
  // and run each chunk as an ordinary serial loop, so that inner loops and
  // the chunk loop itself still vectorize. There are at most
  // kChunksPerThread chunks per thread. The region's `if` clause runs it
  // on the calling thread alone when the estimated work is below
  // kMinParallelWork or only one thread is allowed: a small loop never pays
  // for waking a team. Every thread brackets its work with
  // _stn_parallel_enter/exit (runtime/lib/ParallelRuntime.cpp) to adopt the
  // host call's allocation arena.

  static constexpr int64_t kChunksPerThread = 4;
  /// At most this many chunks, so that reduction partials fit a fixed
  /// buffer on the stack (no allocation per loop).
  static constexpr int64_t kMaxChunks = 1024;
  /// Estimated operations below which a loop runs serially (about 20-50 us
  /// of work on one core: more than waking the team costs).
  static constexpr int64_t kMinParallelWork = 100000;

  /// Whether a driver's outer loop is split over threads: target="parallel",
  /// or no target given (stn's default for stencils, ufuncs and gufuncs,
  /// whose iterations are independent by construction) unless the body
  /// draws random numbers (a seeded serial run must stay reproducible).
  /// target="cpu" keeps it on the calling thread. Either way the region's
  /// `if` clause runs small inputs serially.
  static bool onThreads(const TypedFunction &f) {
    if (!f.decl)
      return false;
    if (f.decl->options.targetGiven)
      return f.decl->options.target == "parallel";
    std::set<const TypedFunction *> seen;
    return !usesRandom(f, seen);
  }

  static bool usesRandom(const TypedFunction &f, std::set<const TypedFunction *> &seen) {
    if (!seen.insert(&f).second)
      return false;
    for (auto &[e, info] : f.calls)
      if (info.kind == CallInfo::Kind::Builtin && info.builtin >= Builtin::RandomRandom &&
          info.builtin <= Builtin::RandomSeed)
        return true;
    if (f.core && usesRandom(*f.core, seen))
      return true;
    for (auto *c : f.callees)
      if (usesRandom(*c, seen))
        return true;
    return false;
  }

  /// The number of operations in `f`: a rough cost of one call.
  static int64_t opCount(func::FuncOp f) {
    int64_t n = 0;
    if (f)
      f.walk([&](mlir::Operation *) { ++n; });
    return n;
  }

  /// An external function (libm, runtime/lib/ParallelRuntime.cpp) declared
  /// once per module.
  func::FuncOp externFunction(mlir::ModuleOp module, llvm::StringRef name,
                              mlir::TypeRange args, mlir::TypeRange results) {
    if (auto f = module.lookupSymbol<func::FuncOp>(name))
      return f;
    OpBuilder b(&Ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto f = b.create<func::FuncOp>(mlir::UnknownLoc::get(&Ctx), name,
                                    mlir::FunctionType::get(&Ctx, args, results));
    f.setPrivate();
    return f;
  }

  Value callRuntime(OpBuilder &b, Location l, llvm::StringRef name, mlir::ValueRange args,
                    mlir::TypeRange results) {
    auto module = b.getInsertionBlock()->getParentOp()->getParentOfType<mlir::ModuleOp>();
    func::FuncOp f = externFunction(module, name, mlir::ValueRange(args).getTypes(), results);
    auto call = b.create<func::CallOp>(l, f, args);
    return results.empty() ? Value() : call.getResult(0);
  }

  /// The parallel loop's schedule, computed before the region.
  struct ParallelPlan {
    Value usePar;   ///< i1: run on a team
    Value threads;  ///< i32: the team size (1 when serial)
    Value nChunks;  ///< index
    Value chunk;    ///< index: indices per chunk
    Value counter;  ///< memref<i64>: the next chunk to take
    Value state;    ///< !llvm.ptr: the host call's kernel state
  };

  /// Plans a parallel loop over `n` (index) iterations of `work` estimated
  /// operations each.
  ParallelPlan planParallel(OpBuilder &b, Location l, Value n, int64_t work, Value counter,
                            Value dynamicWork = {}) {
    ParallelPlan p;
    auto idx = [&](int64_t v) -> Value { return b.create<arith::ConstantIndexOp>(l, v); };
    Value nt32 = callRuntime(b, l, "_stn_num_threads", {}, {b.getI32Type()});
    Value nt = b.create<arith::IndexCastOp>(l, b.getIndexType(), nt32);
    // `dynamicWork` (index, computed before the loop) replaces the static
    // estimate where the body's loop counts are known only at run time.
    Value perIter = dynamicWork ? b.create<arith::MaxSIOp>(l, dynamicWork, idx(1)).getResult()
                                : idx(std::max<int64_t>(work, 1));
    Value total = b.create<arith::MulIOp>(l, n, perIter);
    Value enough = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, total,
                                           idx(kMinParallelWork));
    Value many = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, nt, idx(1));
    Value twoIters = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, n, idx(1));
    p.usePar = b.create<arith::AndIOp>(l, b.create<arith::AndIOp>(l, enough, many), twoIters);
    p.threads = b.create<arith::SelectOp>(
        l, p.usePar, nt32, b.create<arith::ConstantIntOp>(l, 1, 32));
    Value parChunks = b.create<arith::MinSIOp>(
        l, b.create<arith::MinSIOp>(l, n, b.create<arith::MulIOp>(l, nt, idx(kChunksPerThread))),
        idx(kMaxChunks));
    Value serialChunks = b.create<arith::MinSIOp>(l, n, idx(1));
    p.nChunks = b.create<arith::SelectOp>(l, p.usePar, parChunks, serialChunks);
    Value denom = b.create<arith::MaxSIOp>(l, p.nChunks, idx(1));
    p.chunk = b.create<arith::CeilDivSIOp>(l, n, denom);
    p.counter = counter;
    b.create<memref::StoreOp>(l, b.create<arith::ConstantIntOp>(l, 0, 64), counter);
    auto ptrT = mlir::LLVM::LLVMPointerType::get(&Ctx);
    p.state = callRuntime(b, l, "_stn_parallel_state", {}, {ptrT});
    return p;
  }

  /// Creates the omp.parallel region of `p` with its entry block (which
  /// adopts the host call's state) and returns the block; `finish` must be
  /// called on the region's last block to restore the state and terminate.
  mlir::omp::ParallelOp openParallel(OpBuilder &b, Location l, const ParallelPlan &p,
                                     Block *&entry, Value &prev) {
    auto par = b.create<mlir::omp::ParallelOp>(
        l, /*if_expr=*/p.usePar, /*num_threads_var=*/p.threads, mlir::ValueRange{},
        mlir::ValueRange{}, mlir::ValueRange{}, nullptr, nullptr, nullptr, mlir::ValueRange{},
        nullptr);
    entry = &par.getRegion().emplaceBlock();
    OpBuilder rb(entry, entry->end());
    auto ptrT = mlir::LLVM::LLVMPointerType::get(&Ctx);
    prev = callRuntime(rb, l, "_stn_parallel_enter", {p.state}, {ptrT});
    return par;
  }

  void closeParallel(OpBuilder &b, Location l, Value prev) {
    callRuntime(b, l, "_stn_parallel_exit", {prev}, {});
    b.create<mlir::omp::TerminatorOp>(l);
  }

  /// A 0-d i64 counter allocated at the start of the function that contains
  /// the insertion point (not per loop iteration).
  Value chunkCounter(OpBuilder &b, Location l) {
    auto fn = b.getInsertionBlock()->getParentOp()->getParentOfType<func::FuncOp>();
    if (!fn)
      fn = llvm::cast<func::FuncOp>(b.getInsertionBlock()->getParentOp());
    OpBuilder eb(&fn.getBody().front(), fn.getBody().front().begin());
    return eb.create<memref::AllocaOp>(l, mlir::MemRefType::get({}, b.getI64Type()));
  }

  /// Runs `body(lo, hi)` over chunks of [0, n) on an OpenMP team (structured
  /// code: the body must not branch out). `work`: estimated operations per
  /// index.
  void parallelRange(OpBuilder &b, Location l, Value n, int64_t work,
                     llvm::function_ref<void(OpBuilder &, Location, Value, Value)> body) {
    ParallelPlan p = planParallel(b, l, n, work, chunkCounter(b, l));
    Block *entry;
    Value prev;
    openParallel(b, l, p, entry, prev);
    OpBuilder rb(entry, entry->end());
    auto loop = rb.create<scf::WhileOp>(l, mlir::TypeRange{rb.getIndexType()}, mlir::ValueRange{});
    {
      Block *before = rb.createBlock(&loop.getBefore());
      rb.setInsertionPointToEnd(before);
      Value one = rb.create<arith::ConstantIntOp>(l, 1, 64);
      Value c64 = rb.create<mlir::memref::AtomicRMWOp>(l, arith::AtomicRMWKind::addi, one,
                                                       p.counter, mlir::ValueRange{});
      Value c = rb.create<arith::IndexCastOp>(l, rb.getIndexType(), c64);
      Value more = rb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, c, p.nChunks);
      rb.create<scf::ConditionOp>(l, more, mlir::ValueRange{c});
    }
    {
      Block *after = rb.createBlock(&loop.getAfter(), {}, {rb.getIndexType()}, {l});
      rb.setInsertionPointToEnd(after);
      Value c = after->getArgument(0);
      Value lo = rb.create<arith::MulIOp>(l, c, p.chunk);
      Value hi = rb.create<arith::MinSIOp>(l, n, rb.create<arith::AddIOp>(l, lo, p.chunk));
      body(rb, l, lo, hi);
      rb.create<scf::YieldOp>(l);
    }
    rb.setInsertionPointAfter(loop);
    closeParallel(rb, l, prev);
    // An error raised on a thread of the team is reported now (KernelFaults.h).
    callRuntime(b, l, "_stn_check_raised", {}, {});
  }

  /// loopNest, with the outermost axis split over threads when `parallel`.
  void parallelLoopNest(OpBuilder &b, Location l, mlir::ValueRange lbs, mlir::ValueRange ubs,
                        bool parallel, int64_t work,
                        llvm::function_ref<void(OpBuilder &, Location, mlir::ValueRange)> body) {
    if (!parallel || lbs.empty()) {
      loopNest(b, l, lbs, ubs, body);
      return;
    }
    // Work per outer index: the inner extents are unknown here; assume the
    // inner axes hold at least a few hundred elements when there are any.
    int64_t perOuter = work * (lbs.size() > 1 ? 256 : 1);
    Value n = b.create<arith::MaxSIOp>(l, b.create<arith::SubIOp>(l, ubs[0], lbs[0]),
                                       b.create<arith::ConstantIndexOp>(l, 0));
    SmallVector<Value> inLbs(lbs.begin() + 1, lbs.end()), inUbs(ubs.begin() + 1, ubs.end());
    Value base = lbs[0];
    parallelRange(b, l, n, perOuter, [&](OpBuilder &cb, Location cl, Value lo, Value hi) {
      SmallVector<Value> chunkLbs{cb.create<arith::AddIOp>(cl, base, lo)};
      SmallVector<Value> chunkUbs{cb.create<arith::AddIOp>(cl, base, hi)};
      chunkLbs.append(inLbs);
      chunkUbs.append(inUbs);
      loopNest(cb, cl, chunkLbs, chunkUbs, body);
    });
  }

  //===--------------------------------------------------------------------===//
  // GPU drivers
  //===--------------------------------------------------------------------===//

  /// A grid-stride loop over [start, end) by stride > 0; returns a builder
  /// at the start of its body and the index. `counted`: a loop over the
  /// trip count with step 1, for threads that take many iterations. With the
  /// grid's size as the step LLVM cannot cheaply compute the trip count (it
  /// would have to expand a division), so its runtime unroller leaves the
  /// loop alone and each thread keeps one load in flight; over the count it
  /// unrolls by 4 as NVVM (nvcc, numba.cuda) does. The count costs a
  /// division per thread, which a grid that covers the extent (one
  /// iteration per thread) does not need.
  std::pair<OpBuilder, Value> gridStrideLoop(OpBuilder &b, Location l, Value start, Value end,
                                             Value stride, bool counted) {
    if (!counted) {
      auto loop = b.create<scf::ForOp>(l, start, end, stride);
      return {OpBuilder::atBlockBegin(loop.getBody()), loop.getInductionVar()};
    }
    Value count = upwardTripCount(b, l, start, end, stride);
    auto loop = b.create<scf::ForOp>(l, b.create<arith::ConstantIndexOp>(l, 0), count,
                                     b.create<arith::ConstantIndexOp>(l, 1));
    OpBuilder lb = OpBuilder::atBlockBegin(loop.getBody());
    Value i = lb.create<arith::AddIOp>(
        l, start, lb.create<arith::MulIOp>(l, loop.getInductionVar(), stride));
    return {lb, i};
  }

  /// The GPU form of parallelLoopNest, for GpuEntry: each thread runs the
  /// body for the indices of its position in the grid. The innermost axis
  /// goes along x (a warp's threads take consecutive elements: coalesced
  /// accesses), the axis before it along y, for rank 3 the first along z;
  /// from rank 4 on, the axes before the innermost are linearized along y.
  /// Every axis is a grid-stride loop, so any grid covers the nest; the
  /// runtime sizes it with gpuDriverLaunch (GPUPipeline.h), which follows
  /// the same mapping. `counted`: the runtime caps the grid (a GPU loop with
  /// reductions), so threads take many iterations (gridStrideLoop).
  void gpuLoopNest(OpBuilder &b, Location l, mlir::ValueRange lbs, mlir::ValueRange ubs,
                   llvm::function_ref<void(OpBuilder &, Location, mlir::ValueRange)> body,
                   bool counted = false) {
    auto c = [&](OpBuilder &ob, int64_t v) -> Value {
      return ob.create<arith::ConstantIndexOp>(l, v);
    };
    auto id = [&](OpBuilder &ob, GpuOp op, unsigned d) {
      return Gpu->launchIndex(ob, l, op, d);
    };
    unsigned R = static_cast<unsigned>(lbs.size());
    if (R == 0) {
      // No loop: the first thread of the grid computes the one element.
      Value first;
      for (GpuOp op : {GpuOp::ThreadIdx, GpuOp::BlockIdx})
        for (unsigned d = 0; d < 3; ++d) {
          Value z = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, id(b, op, d), c(b, 0));
          first = first ? b.create<arith::AndIOp>(l, first, z).getResult() : z;
        }
      auto ifOp = b.create<scf::IfOp>(l, first, /*withElse=*/false);
      OpBuilder tb = ifOp.getThenBodyBuilder();
      body(tb, l, {});
      return;
    }
    SmallVector<Value> ext;
    for (unsigned d = 0; d < R; ++d)
      ext.push_back(b.create<arith::MaxSIOp>(l, b.create<arith::SubIOp>(l, ubs[d], lbs[d]),
                                             c(b, 0)));
    // The axes along y and z, and what each covers.
    auto globalIndex = [&](OpBuilder &ob, unsigned d) -> std::pair<Value, Value> {
      Value start = ob.create<arith::AddIOp>(
          l, id(ob, GpuOp::ThreadIdx, d),
          ob.create<arith::MulIOp>(l, id(ob, GpuOp::BlockIdx, d), id(ob, GpuOp::BlockDim, d)));
      Value stride =
          ob.create<arith::MulIOp>(l, id(ob, GpuOp::GridDim, d), id(ob, GpuOp::BlockDim, d));
      return {start, stride};
    };
    SmallVector<Value> ivs(R);
    // The innermost loop, inside whatever the outer axes set up.
    auto inner = [&](OpBuilder &ob) {
      auto [start, stride] = globalIndex(ob, 0);
      auto [lb, i] = gridStrideLoop(ob, l, start, ext[R - 1], stride, counted);
      ivs[R - 1] = lb.create<arith::AddIOp>(l, lbs[R - 1], i);
      body(lb, l, ivs);
    };
    if (R == 1) {
      inner(b);
      return;
    }
    auto [ystart, ystride] = globalIndex(b, 1);
    if (R == 2 || R == 3) {
      auto outerLoop = [&](OpBuilder &ob, Value start, Value stride, unsigned axis,
                           llvm::function_ref<void(OpBuilder &)> in) {
        auto [lb, i] = gridStrideLoop(ob, l, start, ext[axis], stride, counted);
        ivs[axis] = lb.create<arith::AddIOp>(l, lbs[axis], i);
        in(lb);
      };
      if (R == 2) {
        outerLoop(b, ystart, ystride, 0, inner);
        return;
      }
      // z: one block row per index, striding by the grid's depth.
      Value zstart = id(b, GpuOp::BlockIdx, 2), zstride = id(b, GpuOp::GridDim, 2);
      outerLoop(b, zstart, zstride, 0, [&](OpBuilder &zb) {
        outerLoop(zb, ystart, ystride, 1, inner);
      });
      return;
    }
    Value outer = ext[0];
    for (unsigned d = 1; d + 1 < R; ++d)
      outer = b.create<arith::MulIOp>(l, outer, ext[d]);
    auto [lb, rest] = gridStrideLoop(b, l, ystart, outer, ystride, counted);
    for (int d = static_cast<int>(R) - 2; d >= 0; --d) {
      // Extents are positive inside the loop (outer > 0).
      Value q = d > 0 ? lb.create<arith::DivUIOp>(l, rest, ext[d]).getResult() : Value();
      Value r = d > 0 ? lb.create<arith::RemUIOp>(l, rest, ext[d]).getResult() : rest;
      ivs[d] = lb.create<arith::AddIOp>(l, lbs[d], r);
      rest = q;
    }
    inner(lb);
  }

  /// The GPU driver's nest over [0, `ubs`) for a stencil of rank `rank`
  /// (the last axes of `ubs`): gpuLoopNest, but from rank 2 on, the
  /// stencil's row axis goes in blocks of gpuStencilRows() rows, one block
  /// per thread (the runtime launches over gpuStencilLoop). `body` gets the
  /// indices with the first row of the block, the row axis's end and the
  /// block's row count (1: `ivs` is one element).
  void gpuStencilNest(
      OpBuilder &b, Location l, mlir::ValueRange ubs, unsigned rank,
      llvm::function_ref<void(OpBuilder &, Location, mlir::ValueRange, Value, unsigned)> body) {
    unsigned R = static_cast<unsigned>(ubs.size());
    unsigned rows = rank >= 2 ? static_cast<unsigned>(gpuStencilRows()) : 1;
    SmallVector<Value> zeros(R, b.create<arith::ConstantIndexOp>(l, 0));
    SmallVector<Value> blocks(ubs.begin(), ubs.end());
    Value rowEnd;
    if (rows > 1) {
      rowEnd = ubs[R - 2];
      blocks[R - 2] = b.create<arith::CeilDivSIOp>(
          l, rowEnd, b.create<arith::ConstantIndexOp>(l, rows));
    }
    gpuLoopNest(b, l, zeros, blocks, [&](OpBuilder &nb, Location nl, mlir::ValueRange ivs) {
      SmallVector<Value> at(ivs.begin(), ivs.end());
      if (rows > 1)
        at[R - 2] = nb.create<arith::MulIOp>(nl, at[R - 2],
                                             nb.create<arith::ConstantIndexOp>(nl, rows));
      body(nb, nl, at, rowEnd, rows);
    });
  }

  /// The driver's loop nest: on the GPU for GpuEntry, else on the CPU,
  /// split over threads when `parallel`.
  void driverLoopNest(const TypedFunction &f, OpBuilder &b, Location l, mlir::ValueRange lbs,
                      mlir::ValueRange ubs, bool parallel, int64_t work,
                      llvm::function_ref<void(OpBuilder &, Location, mlir::ValueRange)> body) {
    if (&f == GpuEntry)
      gpuLoopNest(b, l, lbs, ubs, body);
    else
      parallelLoopNest(b, l, lbs, ubs, parallel, work, body);
  }

  /// The driver's return: its result, or nothing for GpuEntry (the result
  /// is the out= array the runtime passed).
  void driverReturn(const TypedFunction &f, OpBuilder &b, Location l, Value result) {
    if (&f == GpuEntry || !result)
      b.create<func::ReturnOp>(l);
    else
      b.create<func::ReturnOp>(l, result);
  }

  /// A C-contiguous array of the given extents.
  Value allocArray(OpBuilder &b, Location l, const Type &t, mlir::ValueRange sizes) {
    SmallVector<int64_t> shape(t.rank(), mlir::ShapedType::kDynamic);
    auto mt = mlir::MemRefType::get(shape, storageType(&Ctx, t.scalarKind()));
    Value a = b.create<memref::AllocOp>(l, mt, sizes, b.getI64IntegerAttr(64));
    return b.create<memref::CastOp>(l, memrefType(&Ctx, t), a);
  }

  /// `mem` (rank r) seen with the extents `sizes` (rank R >= r): leading
  /// missing axes and axes of extent 1 get stride 0 (NumPy broadcasting).
  /// The trailing `keep` axes keep their own extents and strides.
  Value broadcastView(OpBuilder &b, Location l, Value mem, unsigned r, mlir::ValueRange sizes,
                      unsigned keep = 0) {
    auto md = b.create<memref::ExtractStridedMetadataOp>(l, mem);
    unsigned R = static_cast<unsigned>(sizes.size()) + keep;
    Value zero = b.create<arith::ConstantIndexOp>(l, 0);
    Value one = b.create<arith::ConstantIndexOp>(l, 1);
    SmallVector<mlir::OpFoldResult> sz, st;
    for (unsigned d = 0; d < R; ++d) {
      int j = static_cast<int>(d) - static_cast<int>(R - r);
      if (d >= sizes.size()) {
        sz.push_back(md.getSizes()[j]);
        st.push_back(md.getStrides()[j]);
        continue;
      }
      sz.push_back(sizes[d]);
      if (j < 0) {
        st.push_back(zero);
        continue;
      }
      Value isOne = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, md.getSizes()[j], one);
      st.push_back(Value(b.create<arith::SelectOp>(l, isOne, zero, md.getStrides()[j])));
    }
    int64_t dyn = mlir::ShapedType::kDynamic;
    auto srcT = llvm::cast<mlir::MemRefType>(mem.getType());
    auto layout = mlir::StridedLayoutAttr::get(&Ctx, dyn, SmallVector<int64_t>(R, dyn));
    auto t = mlir::MemRefType::get(SmallVector<int64_t>(R, dyn), srcT.getElementType(), layout);
    return b.create<memref::ReinterpretCastOp>(l, t, md.getBaseBuffer(),
                                               mlir::OpFoldResult(md.getOffset()), sz, st);
  }

  /// The core of `mem` at the outer coordinates `ivs`: a view of the
  /// trailing `coreRank` axes, cast to the core type `core`.
  Value coreView(OpBuilder &b, Location l, Value mem, mlir::ValueRange ivs, unsigned coreRank,
                 const Type &core) {
    auto srcT = llvm::cast<mlir::MemRefType>(mem.getType());
    unsigned rank = srcT.getRank();
    SmallVector<mlir::OpFoldResult> offsets, sizes, strides;
    SmallVector<int64_t> shape;
    for (unsigned d = 0; d < rank; ++d) {
      bool outer = d < ivs.size();
      offsets.push_back(outer ? mlir::OpFoldResult(ivs[d]) : b.getIndexAttr(0));
      if (outer || d < rank - coreRank) {
        sizes.push_back(b.getIndexAttr(1));
      } else {
        sizes.push_back(Value(b.create<memref::DimOp>(l, mem, d)));
        shape.push_back(mlir::ShapedType::kDynamic);
      }
      strides.push_back(b.getIndexAttr(1));
    }
    if (shape.empty())
      shape.push_back(1); // a one-element view for a "()" out parameter
    auto vt = memref::SubViewOp::inferRankReducedResultType(shape, srcT, offsets, sizes, strides);
    Value v = b.create<memref::SubViewOp>(l, llvm::cast<mlir::MemRefType>(vt), mem, offsets,
                                          sizes, strides);
    mlir::MemRefType want = memrefType(&Ctx, core);
    if (v.getType() != want)
      v = b.create<memref::CastOp>(l, want, v);
    return v;
  }

  /// The first block argument of each parameter of `f`.
  static SmallVector<unsigned> leafStarts(const TypedFunction &f) {
    SmallVector<unsigned> starts;
    unsigned n = 0;
    for (auto &t : f.argTypes) {
      starts.push_back(n);
      n += countLeaves(t);
    }
    starts.push_back(n);
    return starts;
  }

  Location locOf(const TypedFunction &f) {
    auto [line, col] = f.file->lineCol(f.def->nameRange.begin);
    return mlir::FileLineColLoc::get(&Ctx, f.file->name(), line, col);
  }

  /// The interior range [lo, hi) of the stencil `st` along axis `d`, where
  /// its neighborhood lies inside its inputs (`leaves`: the leaves of its
  /// parameters; the host checked that the relative inputs and out= share
  /// a shape).
  std::pair<Value, Value> stencilInterior(OpBuilder &b, Location l, const TypedFunction &st,
                                          mlir::ValueRange leaves, unsigned d) {
    const auto &info = st.stencil;
    unsigned firstRel = 0;
    while (!info.relative[firstRel])
      ++firstRel;
    Value in = leaves[leafStarts(st)[firstRel]];
    auto c = [&](int64_t v) -> Value { return b.create<arith::ConstantIndexOp>(l, v); };
    Value n = b.create<memref::DimOp>(l, in, d);
    Value lo = b.create<arith::MinSIOp>(l, c(-info.neighborhood[d].first), n);
    Value hi = b.create<arith::MaxSIOp>(
        l, lo, b.create<arith::SubIOp>(l, n, c(info.neighborhood[d].second)));
    return {lo, hi};
  }

  /// Whether the neighborhood of the stencil `st` at `ivs` lies inside its
  /// inputs; with `rows` > 1, at each of that many rows (axis rank-2) from
  /// the one of `ivs` too.
  Value stencilInside(OpBuilder &b, Location l, const TypedFunction &st, mlir::ValueRange leaves,
                      mlir::ValueRange ivs, unsigned rows = 1) {
    unsigned R = st.stencil.rank;
    Value inside;
    for (unsigned d = 0; d < R; ++d) {
      auto [lo, hi] = stencilInterior(b, l, st, leaves, d);
      Value last = ivs[d];
      if (rows > 1 && d == R - 2)
        last = b.create<arith::AddIOp>(l, last, b.create<arith::ConstantIndexOp>(l, rows - 1));
      Value ok = b.create<arith::AndIOp>(
          l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, ivs[d], lo),
          b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, last, hi));
      inside = inside ? b.create<arith::AndIOp>(l, inside, ok).getResult() : ok;
    }
    return inside;
  }

  /// One output element of the stencil `st` (generated by genStencil) at
  /// `ivs`, stored into `out`: its interior body where the neighborhood
  /// lies inside the inputs, else its border body or cval. `leaves`: the
  /// leaves of the stencil's parameters. For GPU drivers, where each thread
  /// computes elements independently.
  void stencilElement(OpBuilder &b, Location l, const TypedFunction &st, mlir::ModuleOp module,
                      mlir::ValueRange leaves, Value out, mlir::ValueRange ivs) {
    const auto &info = st.stencil;
    Value inside = stencilInside(b, l, st, leaves, ivs);
    ScalarKind outKind = info.outKind;
    auto ifOp = b.create<scf::IfOp>(l, mlir::TypeRange{scalarType(&Ctx, outKind)}, inside,
                                    /*withElse=*/true);
    for (bool interior : {true, false}) {
      OpBuilder vb = interior ? ifOp.getThenBodyBuilder() : ifOp.getElseBodyBuilder();
      vb.create<scf::YieldOp>(l, stencilValue(vb, l, st, module, leaves, ivs, interior));
    }
    storeElementB(b, l, ifOp.getResult(0), out, ivs, outKind);
  }

  /// The GPU stencil nest's body (GpuStencilRows, GPUPipeline.h): one
  /// thread computes the elements of `rows` consecutive rows (axis rank-2)
  /// at the column of `ivs`, whose row index is the first of them, up to
  /// `rowEnd`. Where all of them are interior, every value is computed
  /// before any is stored, so that LLVM's GVN loads each input element
  /// their neighborhoods share once; elsewhere each row goes through
  /// stencilElement (as the one element of `rows` == 1 does).
  void stencilRows(OpBuilder &b, Location l, const TypedFunction &st, mlir::ModuleOp module,
                   mlir::ValueRange leaves, Value out, mlir::ValueRange ivs, Value rowEnd,
                   unsigned rows) {
    if (rows == 1) {
      stencilElement(b, l, st, module, leaves, out, ivs);
      return;
    }
    const auto &info = st.stencil;
    unsigned rowAxis = info.rank - 2;
    auto c = [&](int64_t v) -> Value { return b.create<arith::ConstantIndexOp>(l, v); };
    auto atRow = [&](Value row) {
      SmallVector<Value> at(ivs.begin(), ivs.end());
      at[rowAxis] = row;
      return at;
    };
    Value first = ivs[rowAxis];
    Value inside = stencilInside(b, l, st, leaves, ivs, rows);
    SmallVector<Value> rowsAt{first};
    for (unsigned r = 1; r < rows; ++r)
      rowsAt.push_back(b.create<arith::AddIOp>(l, first, c(r)));
    Value end = b.create<arith::MinSIOp>(l, rowEnd, b.create<arith::AddIOp>(l, first, c(rows)));
    Value one = c(1);
    auto ifOp = b.create<scf::IfOp>(l, inside, /*withElse=*/true);
    OpBuilder tb = ifOp.getThenBodyBuilder();
    SmallVector<Value> values;
    for (unsigned r = 0; r < rows; ++r)
      values.push_back(stencilValue(tb, l, st, module, leaves, atRow(rowsAt[r]), true));
    for (unsigned r = 0; r < rows; ++r)
      storeElementB(tb, l, values[r], out, atRow(rowsAt[r]), info.outKind);
    OpBuilder eb = ifOp.getElseBodyBuilder();
    auto loop = eb.create<scf::ForOp>(l, first, end, one);
    OpBuilder lb = OpBuilder::atBlockBegin(loop.getBody());
    stencilElement(lb, l, st, module, leaves, out, atRow(loop.getInductionVar()));
  }

  /// The stencil `st`'s value at `ivs` from its interior or border body (or
  /// cval), converted to its output's element type.
  Value stencilValue(OpBuilder &b, Location l, const TypedFunction &st, mlir::ModuleOp module,
                     mlir::ValueRange leaves, mlir::ValueRange ivs, bool interior) {
    const auto &info = st.stencil;
    Value v;
    ScalarKind vk = info.bodyKind;
    if (interior || st.decl->stencil.boundary != BoundaryMode::Constant) {
      auto fn =
          module.lookupSymbol<func::FuncOp>(st.symbol + (interior ? "__interior" : "__border"));
      SmallVector<Value> args(leaves.begin(),
                              leaves.begin() + leafStarts(st)[st.def->params.size()]);
      args.append(ivs.begin(), ivs.end());
      v = b.create<func::CallOp>(l, fn, args).getResult(0);
    } else {
      const ConstValue &cv = st.decl->stencil.cval;
      vk = cv.type.isValid() ? cv.type.scalarKind() : ScalarKind::I64;
      v = isFloat(vk) ? constFloatB(b, l, cv.f, vk) : constIntB(b, l, cv.i, vk);
    }
    return castScalarB(b, l, v, vk, info.outKind);
  }

  /// Stencil: the body twice (interior without boundary handling, border
  /// with it), then a driver that runs the interior as one loop nest and the
  /// 2 * rank border slabs around it.
  bool genStencil(mlir::ModuleOp module, const TypedFunction &f) {
    Location l = locOf(f);
    auto starts = leafStarts(f);
    unsigned nParams = static_cast<unsigned>(f.def->params.size());
    unsigned bodyLeaves = starts[nParams];
    const auto &info = f.stencil;
    BoundaryMode mode = f.decl->stencil.boundary;
    // Body functions: the parameters' leaves and the output coordinates.
    SmallVector<mlir::Type> bodyArgs, all;
    SmallVector<mlir::Type> results{scalarType(&Ctx, info.bodyKind)};
    mlir::FunctionType ft = functionType(f);
    for (unsigned i = 0; i < bodyLeaves; ++i)
      bodyArgs.push_back(ft.getInput(i));
    for (unsigned d = 0; d < info.rank; ++d)
      bodyArgs.push_back(mlir::IndexType::get(&Ctx));
    auto bodyType = mlir::FunctionType::get(&Ctx, bodyArgs, results);
    OpBuilder mb(&Ctx);
    mb.setInsertionPointToEnd(module.getBody());
    auto interior = mb.create<func::FuncOp>(l, f.symbol + "__interior", bodyType);
    interior.setPrivate();
    if (!FunctionGen(*this, f, module, Diags, interior, false).generate())
      return false;
    func::FuncOp border;
    if (mode != BoundaryMode::Constant) {
      border = mb.create<func::FuncOp>(l, f.symbol + "__border", bodyType);
      border.setPrivate();
      if (!FunctionGen(*this, f, module, Diags, border, true).generate())
        return false;
    }
    // The driver.
    func::FuncOp fn = Funcs.lookup(&f);
    Block *entry = fn.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockEnd(entry);
    unsigned firstRel = 0;
    while (!info.relative[firstRel])
      ++firstRel;
    Value in = entry->getArgument(starts[firstRel]);
    unsigned R = info.rank;
    SmallVector<Value> n, lo, hi;
    auto c = [&](int64_t v) -> Value { return b.create<arith::ConstantIndexOp>(l, v); };
    for (unsigned d = 0; d < R; ++d) {
      // The common extent of every relative input: the host API rejects
      // inputs of different shapes, and a call from a kernel (which cannot
      // report errors yet) must not read out of bounds.
      Value extent = b.create<memref::DimOp>(l, in, d);
      for (unsigned p = firstRel + 1; p < nParams; ++p)
        if (info.relative[p])
          extent = b.create<arith::MinSIOp>(
              l, extent, b.create<memref::DimOp>(l, entry->getArgument(starts[p]), d));
      if (f.hasOut)
        extent = b.create<arith::MinSIOp>(
            l, extent, b.create<memref::DimOp>(l, entry->getArgument(starts[nParams]), d));
      n.push_back(extent);
      // Interior: [min(-lo, n), max(that, n - hi)).
      Value a = b.create<arith::MinSIOp>(l, c(-info.neighborhood[d].first), n[d]);
      Value e = b.create<arith::MaxSIOp>(l, a, b.create<arith::SubIOp>(l, n[d],
                                                                        c(info.neighborhood[d].second)));
      lo.push_back(a);
      hi.push_back(e);
    }
    Value out = f.hasOut ? entry->getArgument(starts[nParams])
                         : allocArray(b, l, f.resultType, n);
    SmallVector<Value> passArgs;
    for (unsigned i = 0; i < bodyLeaves; ++i)
      passArgs.push_back(entry->getArgument(i));
    ScalarKind outKind = info.outKind;
    bool par = onThreads(f);
    int64_t work = opCount(interior);
    if (&f == GpuEntry) {
      // Threads over the whole output, interior or border (slabs would
      // leave most of a grid idle): one element each for rank 1, else
      // gpuStencilRows() rows of a column each (the runtime launches over
      // gpuStencilLoop).
      gpuStencilNest(b, l, n, R,
                     [&](OpBuilder &nb, Location nl, mlir::ValueRange ivs, Value rowEnd,
                         unsigned rows) {
                       stencilRows(nb, nl, f, module, passArgs, out, ivs, rowEnd, rows);
                     });
      driverReturn(f, b, l, out);
      return true;
    }
    auto emitRegion = [&](SmallVector<Value> lbs, SmallVector<Value> ubs, bool isInterior) {
      parallelLoopNest(b, l, lbs, ubs, par, work,
                       [&](OpBuilder &nb, Location nl, mlir::ValueRange ivs) {
        storeElementB(nb, nl, stencilValue(nb, nl, f, module, passArgs, ivs, isInterior), out,
                      ivs, outKind);
      });
    };
    emitRegion(lo, hi, true);
    // Border slabs: axes before d interior, axis d below or above the
    // interior, axes after d whole. Together with the interior they cover
    // every element exactly once.
    for (unsigned d = 0; d < R; ++d) {
      for (int side = 0; side < 2; ++side) {
        SmallVector<Value> lbs, ubs;
        for (unsigned e = 0; e < R; ++e) {
          if (e < d) {
            lbs.push_back(lo[e]);
            ubs.push_back(hi[e]);
          } else if (e == d) {
            lbs.push_back(side == 0 ? c(0) : hi[e]);
            ubs.push_back(side == 0 ? lo[e] : n[e]);
          } else {
            lbs.push_back(c(0));
            ubs.push_back(n[e]);
          }
        }
        emitRegion(lbs, ubs, false);
      }
    }
    driverReturn(f, b, l, out);
    return true;
  }

  /// Extents of the broadcast result of `args` (NumPy rules; compatibility
  /// is checked by the host API before the call).
  SmallVector<Value> broadcastSizes(OpBuilder &b, Location l, mlir::ValueRange leaves,
                                    const std::vector<Type> &types,
                                    const SmallVector<unsigned> &starts, unsigned R,
                                    const std::vector<unsigned> &coreRanks) {
    SmallVector<Value> sizes;
    for (unsigned d = 0; d < R; ++d) {
      Value size = b.create<arith::ConstantIndexOp>(l, 1);
      for (size_t i = 0; i < coreRanks.size(); ++i) {
        if (!types[i].isArray())
          continue;
        unsigned outer = types[i].rank() - coreRanks[i];
        int j = static_cast<int>(d) - static_cast<int>(R - outer);
        if (j < 0)
          continue;
        Value dim = b.create<memref::DimOp>(l, leaves[starts[i]], j);
        size = broadcastDim(b, l, size, dim);
      }
      sizes.push_back(size);
    }
    return sizes;
  }

  bool genUfunc(const TypedFunction &f) {
    Location l = locOf(f);
    func::FuncOp fn = Funcs.lookup(&f);
    Block *entry = fn.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockEnd(entry);
    auto starts = leafStarts(f);
    unsigned nParams = static_cast<unsigned>(f.def->params.size());
    const TypedFunction &core = *f.core;
    func::FuncOp coreFn = Funcs.lookup(&core);
    ScalarKind outKind = f.resultType.scalarKind();
    ScalarKind coreKind = core.resultType.scalarKind();
    unsigned R = f.ufuncRank;
    if (R == 0) {
      SmallVector<Value> args(entry->getArguments().begin(),
                              entry->getArguments().begin() + starts[nParams]);
      Value v = b.create<func::CallOp>(l, coreFn, args).getResult(0);
      b.create<func::ReturnOp>(l, castScalarB(b, l, v, coreKind, outKind));
      return true;
    }
    std::vector<unsigned> coreRanks(nParams, 0);
    std::vector<Type> types(f.argTypes.begin(), f.argTypes.begin() + nParams);
    SmallVector<Value> sizes;
    Value out;
    if (f.hasOut) {
      out = entry->getArgument(starts[nParams]);
      for (unsigned d = 0; d < R; ++d)
        sizes.push_back(b.create<memref::DimOp>(l, out, d));
    } else {
      sizes = broadcastSizes(b, l, entry->getArguments(), types, starts, R, coreRanks);
      out = allocArray(b, l, f.resultType, sizes);
    }
    SmallVector<Value> views;
    for (unsigned i = 0; i < nParams; ++i)
      views.push_back(types[i].isArray()
                          ? broadcastView(b, l, entry->getArgument(starts[i]), types[i].rank(),
                                          sizes)
                          : Value());
    SmallVector<Value> zeros(R, b.create<arith::ConstantIndexOp>(l, 0));
    bool par = onThreads(f);
    driverLoopNest(f, b, l, zeros, sizes, par, opCount(coreFn),
                   [&](OpBuilder &nb, Location nl, mlir::ValueRange ivs) {
      SmallVector<Value> elems;
      for (unsigned i = 0; i < nParams; ++i)
        elems.push_back(types[i].isArray()
                            ? loadElementB(nb, nl, views[i], ivs, types[i].scalarKind())
                            : entry->getArgument(starts[i]));
      Value v = nb.create<func::CallOp>(nl, coreFn, elems).getResult(0);
      storeElementB(nb, nl, castScalarB(nb, nl, v, coreKind, outKind), out, ivs, outKind);
    });
    driverReturn(f, b, l, out);
    return true;
  }

  bool genGufunc(const TypedFunction &f) {
    Location l = locOf(f);
    func::FuncOp fn = Funcs.lookup(&f);
    Block *entry = fn.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockEnd(entry);
    auto starts = leafStarts(f);
    const auto &g = f.gufunc;
    const auto &layout = f.decl->layout;
    unsigned nIn = g.numInputs;
    const TypedFunction &core = *f.core;
    func::FuncOp coreFn = Funcs.lookup(&core);
    unsigned Ro = g.outerRank, kout = g.outputCoreRanks[0];
    unsigned resultRank = Ro + kout;
    auto arg = [&](unsigned i) { return entry->getArgument(starts[i]); };
    // Core dimension sizes by symbol, from the first input that has it.
    std::map<std::string, Value> dims;
    for (unsigned i = 0; i < nIn; ++i) {
      unsigned k = g.inputCoreRanks[i];
      if (!f.argTypes[i].isArray())
        continue;
      unsigned r = f.argTypes[i].rank();
      for (unsigned j = 0; j < k; ++j)
        if (!dims.count(layout.inputs[i][j]))
          dims[layout.inputs[i][j]] = b.create<memref::DimOp>(l, arg(i), r - k + j);
    }
    std::vector<Type> types(f.argTypes.begin(), f.argTypes.begin() + nIn);
    SmallVector<Value> outer;
    Value out;
    if (f.hasOut) {
      out = arg(nIn);
      for (unsigned d = 0; d < Ro; ++d)
        outer.push_back(b.create<memref::DimOp>(l, out, d));
    } else {
      outer = broadcastSizes(b, l, entry->getArguments(), types, starts, Ro, g.inputCoreRanks);
      if (resultRank > 0) {
        SmallVector<Value> sizes(outer.begin(), outer.end());
        for (auto &name : layout.outputs[0])
          sizes.push_back(dims.at(name));
        out = allocArray(b, l, f.resultType, sizes);
      }
    }
    SmallVector<Value> views;
    for (unsigned i = 0; i < nIn; ++i)
      views.push_back(types[i].isArray() ? broadcastView(b, l, arg(i), types[i].rank(), outer,
                                                          g.inputCoreRanks[i])
                                         : Value());
    ScalarKind outKind = g.outKind;
    Value scalarResult;
    // For a "()" output written through an out parameter with no outer
    // loop, a one-element scratch array.
    Value scratch;
    if (!g.returnStyle && kout == 0 && resultRank == 0 && !k_stencil(f)) {
      auto st = mlir::MemRefType::get({1}, storageType(&Ctx, outKind));
      Value a = b.create<memref::AllocaOp>(l, st);
      scratch = b.create<memref::CastOp>(l, memrefType(&Ctx, core.argTypes.back()), a);
    }
    auto body = [&](OpBuilder &nb, Location nl, mlir::ValueRange ivs) {
      SmallVector<Value> coreArgs;
      for (unsigned i = 0; i < nIn; ++i) {
        unsigned k = g.inputCoreRanks[i];
        if (!types[i].isArray())
          coreArgs.push_back(arg(i));
        else if (k == 0)
          coreArgs.push_back(loadElementB(nb, nl, views[i], ivs, types[i].scalarKind()));
        else
          coreArgs.push_back(coreView(nb, nl, views[i], ivs, k, core.argTypes[i]));
      }
      if (f.decl->stencilCore || !g.returnStyle) {
        Value ov = scratch ? scratch : coreView(nb, nl, out, ivs, kout, core.argTypes.back());
        coreArgs.push_back(ov);
        nb.create<func::CallOp>(nl, coreFn, coreArgs);
        if (scratch)
          scalarResult = loadElementB(nb, nl, scratch,
                                      mlir::ValueRange{nb.create<arith::ConstantIndexOp>(nl, 0)},
                                      outKind);
        return;
      }
      Value r = nb.create<func::CallOp>(nl, coreFn, coreArgs).getResult(0);
      ScalarKind rk = core.resultType.scalarKind();
      if (kout == 0) {
        Value v = castScalarB(nb, nl, r, rk, outKind);
        if (resultRank == 0)
          scalarResult = v;
        else
          storeElementB(nb, nl, v, out, ivs, outKind);
        return;
      }
      // Copy the returned core array into the output, then release it
      // (the runtime frees only arrays the kernel allocated).
      Value dst = coreView(nb, nl, out, ivs, kout, Type::array(outKind, kout, Type::Layout::Any));
      SmallVector<Value> lbs(kout, nb.create<arith::ConstantIndexOp>(nl, 0)), ubs;
      for (unsigned d = 0; d < kout; ++d)
        ubs.push_back(nb.create<arith::MinSIOp>(nl, nb.create<memref::DimOp>(nl, r, d),
                                                nb.create<memref::DimOp>(nl, dst, d)));
      loopNest(nb, nl, lbs, ubs, [&](OpBuilder &ib, Location il, mlir::ValueRange jv) {
        Value v = loadElementB(ib, il, r, jv, rk);
        storeElementB(ib, il, castScalarB(ib, il, v, rk, outKind), dst, jv, outKind);
      });
      nb.create<memref::DeallocOp>(nl, r);
    };
    if (&f == GpuEntry && k_stencil(f)) {
      // A gufunc stacked on a stencil: one thread per element of the whole
      // output (outer and core axes), not one per stencil application.
      SmallVector<Value> ubs(outer.begin(), outer.end());
      for (unsigned d = 0; d < kout; ++d)
        ubs.push_back(b.create<memref::DimOp>(l, out, Ro + d));
      auto module = fn->getParentOfType<mlir::ModuleOp>();
      // Rows of an image per thread, as for a plain stencil.
      gpuStencilNest(b, l, ubs, kout, [&](OpBuilder &nb, Location nl, mlir::ValueRange ivs,
                                          Value rowEnd, unsigned rows) {
        mlir::ValueRange outerIvs = ivs.take_front(Ro), coreIvs = ivs.drop_front(Ro);
        SmallVector<Value> leaves;
        for (unsigned i = 0; i < nIn; ++i)
          leaves.push_back(types[i].isArray() ? coreView(nb, nl, views[i], outerIvs,
                                                         g.inputCoreRanks[i], core.argTypes[i])
                                              : arg(i));
        Value ov = coreView(nb, nl, out, outerIvs, kout, core.argTypes.back());
        stencilRows(nb, nl, core, module, leaves, ov, coreIvs, rowEnd, rows);
      });
      driverReturn(f, b, l, out);
      return true;
    }
    if (&f == GpuEntry) {
      SmallVector<Value> zeros(Ro, b.create<arith::ConstantIndexOp>(l, 0));
      gpuLoopNest(b, l, zeros, outer, body);
    } else if (Ro == 0) {
      body(b, l, {});
    } else {
      SmallVector<Value> zeros(Ro, b.create<arith::ConstantIndexOp>(l, 0));
      // A core call loops over the core dimensions: count it as 64 elements.
      bool par = onThreads(f);
      parallelLoopNest(b, l, zeros, outer, par, 64 * opCount(coreFn), body);
    }
    driverReturn(f, b, l, resultRank == 0 ? scalarResult : out);
    return true;
  }

  static bool k_stencil(const TypedFunction &f) { return f.decl->stencilCore; }

  //===--------------------------------------------------------------------===//
  // GPU regions of target="cuda" kernels (GpuRegions.h)
  //===--------------------------------------------------------------------===//

  /// The kernel `k` of a GPU region: its body function, then the kernel.
  bool genGpuRegion(mlir::ModuleOp module, const TypedFunction &k) {
    const GpuRegion &r = k.regionHost->gpuRegions[k.regionIndex];
    SmallVector<mlir::Type> in, out;
    for (size_t d = 0; d < r.loops.size(); ++d)
      in.push_back(mlir::IntegerType::get(&Ctx, 64));
    for (const std::string &v : r.freeVars)
      leafTypes(&Ctx, k.vars.at(v), in);
    for (const Reduction &red : r.reductions) {
      in.push_back(scalarType(&Ctx, k.vars.at(red.var).scalarKind()));
      out.push_back(in.back());
    }
    auto [line, col] = k.file->lineCol(r.loops.front()->range().begin);
    Location l = mlir::FileLineColLoc::get(&Ctx, k.file->name(), line, col);
    OpBuilder b(&Ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto body = b.create<func::FuncOp>(l, k.symbol + "_body",
                                       mlir::FunctionType::get(&Ctx, in, out));
    body.setPrivate();
    if (!FunctionGen(*this, k, module, Diags, body, r).generate())
      return false;
    return FunctionGen(*this, k, module, Diags).generateRegionKernel(body);
  }

  /// The host part of a target="cuda" kernel runs on the CPU with device
  /// pointers in its arrays: it may compute with shapes and make views,
  /// but not touch elements, allocate, or pass arrays to other kernels.
  bool checkGpuHost(const TypedFunction &f) {
    func::FuncOp fn = funcFor(&f);
    std::string hint = "only the prange loops of a target=\"cuda\" kernel run on the GPU; move "
                       "this into one, or use target=\"cpu\"";
    bool ok = true;
    fn.walk([&](mlir::Operation *op) {
      if (!ok || op->hasAttr(GpuLaunchAttr))
        return;
      std::string what;
      if (isa<memref::AllocOp>(op)) {
        what = "this creates a new array in the host part of target=\"cuda\" kernel '{}': "
               "its GPU loops can only use arrays passed to it";
      } else if (isa<memref::LoadOp, memref::StoreOp, memref::CopyOp, memref::AtomicRMWOp,
                     memref::GenericAtomicRMWOp>(op)) {
        what = "this reads or writes array elements in the host part of target=\"cuda\" "
               "kernel '{}', where the arrays are in GPU memory";
      } else if (auto c = dyn_cast<func::CallOp>(op)) {
        bool arrays = false;
        for (mlir::Type t : c->getOperandTypes())
          arrays |= isa<mlir::MemRefType>(t);
        for (mlir::Type t : c->getResultTypes())
          arrays |= isa<mlir::MemRefType>(t);
        if (arrays && !c.getCallee().starts_with("_stn_"))
          what = "this calls a kernel with arrays in the host part of target=\"cuda\" kernel "
                 "'{}', where the arrays are in GPU memory";
      }
      if (what.empty())
        return;
      ok = false;
      Diags.error(f.file, sourceRangeOf(op->getLoc(), *f.file),
                  fmt::format(fmt::runtime(what), f.def->name), hint);
    });
    return ok;
  }
  /// Marks the launch's own slot stores and loads (checkGpuHost skips them).
  static constexpr const char *GpuLaunchAttr = "stn.gpu_launch";

private:
  void declare(mlir::ModuleOp module, const TypedFunction &f, bool isEntry) {
    OpBuilder b(&Ctx);
    b.setInsertionPointToEnd(module.getBody());
    auto [line, col] = f.file->lineCol(f.def->nameRange.begin);
    auto l = mlir::FileLineColLoc::get(&Ctx, f.file->name(), line, col);
    mlir::FunctionType ft = functionType(f);
    if (&f == GpuEntry)
      ft = mlir::FunctionType::get(&Ctx, ft.getInputs(), {});
    auto fn = b.create<func::FuncOp>(l, f.symbol, ft);
    if (!isEntry)
      fn.setPrivate();
    Funcs[&f] = fn;
    if (!Gpu && f.def && (f.kind == KernelKind::Jit || f.kind == KernelKind::Gpu) &&
        f.regionIndex < 0 && isRecursive(&f)) {
      SmallVector<mlir::Type> in(ft.getInputs());
      in.push_back(b.getI64Type());
      auto body = b.create<func::FuncOp>(l, f.symbol + "$rec",
                                         mlir::FunctionType::get(&Ctx, in, ft.getResults()));
      body.setPrivate();
      RecursiveBodies[&f] = body;
    }
  }

  /// `f` calls the body (with the caller's stack limit, which the wrapper
  /// gets from the runtime).
  void genRecursionWrapper(const TypedFunction &f) {
    func::FuncOp fn = funcFor(&f), body = RecursiveBodies.lookup(&f);
    OpBuilder b(&Ctx);
    b.setInsertionPointToEnd(fn.addEntryBlock());
    Location l = fn.getLoc();
    SmallVector<Value> args(fn.getArguments().begin(), fn.getArguments().end());
    args.push_back(callRuntime(b, l, "_stn_stack_limit", {}, {b.getI64Type()}));
    auto call = b.create<func::CallOp>(l, body, args);
    b.create<func::ReturnOp>(l, call.getResults());
  }

  mlir::MLIRContext &Ctx;
  DiagnosticEngine &Diags;
  llvm::DenseMap<const TypedFunction *, func::FuncOp> Funcs;
  llvm::DenseMap<const TypedFunction *, func::FuncOp> RecursiveBodies;

public:
  /// The body of recursive function `f` (CPU code), whose last argument is
  /// the thread's stack limit (checkStackDepth); null for other functions.
  func::FuncOp recursiveBody(const TypedFunction *f) { return RecursiveBodies.lookup(f); }
};

FunctionGen::FunctionGen(ModuleGen &mg, const TypedFunction &f, mlir::ModuleOp module,
                         DiagnosticEngine &diags)
    : MG(mg), F(f), Module(module), Diags(diags), Ctx(module.getContext()), B(Ctx),
      CurLoc(mlir::UnknownLoc::get(Ctx)) {}

Location FunctionGen::loc(SourceRange r) {
  auto [line, col] = F.file->lineCol(r.begin);
  return mlir::FileLineColLoc::get(Ctx, F.file->name(), line, col);
}

//===----------------------------------------------------------------------===//
// Constants and conversions
//===----------------------------------------------------------------------===//

Value FunctionGen::constInt(int64_t v, ScalarKind k) { return constIntB(B, CurLoc, v, k); }

Value FunctionGen::constFloat(double v, ScalarKind k) { return constFloatB(B, CurLoc, v, k); }

CGValue FunctionGen::constValue(const ConstValue &c) {
  CGValue r;
  r.type = c.type;
  if (c.type.isNone())
    return r;
  if (c.type.isTuple()) {
    for (auto &e : c.elts) {
      CGValue ev = constValue(e);
      r.leaves.append(ev.leaves.begin(), ev.leaves.end());
    }
    return r;
  }
  ScalarKind k = c.type.scalarKind();
  if (isFloat(k))
    r.leaves.push_back(constFloat(c.f, k));
  else if (isComplex(k)) {
    ScalarKind p = complexPart(k);
    Value re = constFloat(c.c.real(), p), im = constFloat(c.c.imag(), p);
    r.leaves.push_back(B.create<complex::CreateOp>(CurLoc, scalarType(Ctx, k), re, im));
  } else if (isUnsignedInt(k))
    r.leaves.push_back(constInt(static_cast<int64_t>(c.u), k));
  else
    r.leaves.push_back(constInt(c.i, k));
  return r;
}

Value FunctionGen::zeroOf(const Type &t) {
  ScalarKind k = t.scalarKind();
  if (isFloat(k) || isComplex(k))
    return constFloat(0.0, k);
  return constInt(0, k);
}

CGValue FunctionGen::defaultValue(const Type &t, bool onHeap) {
  CGValue r;
  r.type = t;
  if (t.isScalar()) {
    r.leaves.push_back(zeroOf(t));
  } else if (t.isArray()) {
    // An empty array stands for "no array yet" (None, or unassigned).
    SmallVector<int64_t> shape(t.rank(), 0);
    auto mt = mlir::MemRefType::get(shape, storageType(Ctx, t.scalarKind()));
    Value a = onHeap ? B.create<memref::AllocOp>(CurLoc, mt).getResult()
                     : B.create<memref::AllocaOp>(CurLoc, mt).getResult();
    r.leaves.push_back(B.create<memref::CastOp>(CurLoc, memrefType(Ctx, t), a));
  } else if (t.isTuple() || t.isFunction()) {
    for (auto &e : t.elements()) {
      CGValue ev = defaultValue(e, onHeap);
      r.leaves.append(ev.leaves.begin(), ev.leaves.end());
    }
  } else if (t.isList()) {
    // An empty list (growing it frees nothing: the free of storage the
    // arena did not allocate does nothing).
    for (ScalarKind k : itemKinds(t.listItem()))
      r.leaves.push_back(defaultValue(Type::array(k, 1), onHeap).single());
    r.leaves.push_back(constInt(0, ScalarKind::I64));
  } else if (t.isDict()) {
    r = emptyDict(t);
  }
  return r;
}

Value FunctionGen::castScalar(Value v, ScalarKind from, ScalarKind to) {
  return castScalarB(B, CurLoc, v, from, to);
}

CGValue FunctionGen::convert(const CGValue &v, const Type &to) {
  if (v.type == to)
    return v;
  CGValue r;
  r.type = to;
  if (to.isScalar() && v.type.isScalar()) {
    r.leaves.push_back(castScalar(v.single(), v.type.scalarKind(), to.scalarKind()));
    return r;
  }
  if (to.isArray() || (to.isScalar() && v.type.isNone())) {
    if (v.type.isNone() || v.leaves.empty())
      return defaultValue(to); // None held by an optional local
    r.leaves.push_back(B.create<memref::CastOp>(CurLoc, memrefType(Ctx, to), v.single()));
    return r;
  }
  if (to.isTuple() && v.type.isTuple() &&
      to.elements().size() == v.type.elements().size()) {
    unsigned pos = 0;
    for (size_t i = 0; i < to.elements().size(); ++i) {
      const Type &et = v.type.elements()[i];
      unsigned n = countLeaves(et);
      CGValue part;
      part.type = et;
      part.leaves.append(v.leaves.begin() + pos, v.leaves.begin() + pos + n);
      pos += n;
      CGValue c = convert(part, to.elements()[i]);
      r.leaves.append(c.leaves.begin(), c.leaves.end());
    }
    return r;
  }
  if (to.isNone())
    return r;
  if (to.isList() && v.type.isList())
    return convertList(v, to);
  if (to.isDict() && v.type.isDict())
    return convertDict(v, to);
  Failed = true;
  Diags.error(F.file, {}, fmt::format("internal compiler error: cannot convert '{}' to '{}'",
                                      v.type.str(), to.str()));
  return defaultValue(to);
}

Value FunctionGen::truth(const CGValue &v) {
  if (v.type.isScalar())
    return castScalar(v.single(), v.type.scalarKind(), ScalarKind::Bool);
  if (v.type.isTuple())
    return constBool(!v.type.elements().empty());
  if (v.type.isFunction())
    return constBool(true);
  if (v.type.isContainer()) // Python: a list or a dict is true when it has items
    return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, v.leaves.back(),
                                   constInt(0, ScalarKind::I64));
  return constBool(false); // None
}

Value FunctionGen::toIndex(Value v, ScalarKind k) {
  if (isBool(k) || isUnsignedInt(k))
    return B.create<arith::IndexCastUIOp>(CurLoc, B.getIndexType(), v);
  return B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), v);
}

//===----------------------------------------------------------------------===//
// Variables and blocks
//===----------------------------------------------------------------------===//

CGValue FunctionGen::readVar(const std::string &name) {
  CGValue r;
  auto it = F.vars.find(name);
  if (it == F.vars.end()) {
    Failed = true;
    Diags.error(F.file, {}, "internal compiler error: unknown variable " + name);
    return r;
  }
  r.type = it->second;
  unsigned n = countLeaves(r.type);
  for (unsigned i = 0; i < n; ++i)
    r.leaves.push_back(SSA->read(leafVar(name, i), Cur));
  return r;
}

void FunctionGen::writeVar(const std::string &name, const CGValue &v) {
  auto it = F.vars.find(name);
  if (it == F.vars.end())
    return; // assigned only in unreachable code
  CGValue c = convert(v, it->second);
  for (unsigned i = 0; i < c.leaves.size(); ++i)
    SSA->write(leafVar(name, i), Cur, c.leaves[i]);
  if (F.optionals.count(name)) { // whether it holds None now
    CGValue flag;
    flag.type = Type::scalar(ScalarKind::Bool);
    flag.leaves.push_back(v.isNone ? v.isNone : constBool(v.type.isNone()));
    writeVar(noneFlag(name), flag);
  }
}

void FunctionGen::ensureBlock() {
  if (Cur)
    return;
  // Code after return/break/continue: emit it into an unreachable block.
  Block *b = newBlock();
  appendBlock(b);
  SSA->seal(b);
  setBlock(b);
}

void FunctionGen::branch(Block *dest) {
  B.create<cf::BranchOp>(CurLoc, dest);
  Cur = nullptr;
}

void FunctionGen::condBranch(Value cond, Block *t, Block *f) {
  B.create<cf::CondBranchOp>(CurLoc, cond, t, mlir::ValueRange{}, f, mlir::ValueRange{});
  Cur = nullptr;
}

//===----------------------------------------------------------------------===//
// Function
//===----------------------------------------------------------------------===//

/// Collects names assigned other than as `range` loop targets.
/// range(n), or range(c, n[, s]) with a literal c >= 0 and a literal s > 0:
/// every value is non-negative.
static bool nonNegativeRange(const ast::Call &call) {
  auto nonNegLit = [](const ast::Expr &e) {
    auto *i = dyn_cast<ast::IntLit>(&e);
    return i && !i->isUnsigned;
  };
  bool ok = false;
  if (call.args.size() == 1)
    ok = true;
  else if (call.args.size() >= 2 && nonNegLit(*call.args[0]))
    ok = call.args.size() == 2 || nonNegLit(*call.args[2]);
  if (call.args.size() == 3) {
    auto *st = dyn_cast<ast::IntLit>(call.args[2].get());
    ok = ok && st && st->value > 0;
  }
  return ok;
}

static void collectOtherAssigned(const ast::Block &b, std::set<std::string> &out,
                                 std::map<std::string, bool> &rangeLoopOk,
                                 const TypedFunction &f) {
  auto targets = [&](const ast::Expr &t) { ast::collectTargets(t, out); };
  for (auto &s : b) {
    if (auto *a = dyn_cast<ast::Assign>(s.get())) {
      for (auto &t : a->targets)
        targets(*t);
    } else if (auto *aa = dyn_cast<ast::AugAssign>(s.get())) {
      targets(*aa->target);
    } else if (auto *i = dyn_cast<ast::If>(s.get())) {
      collectOtherAssigned(i->body, out, rangeLoopOk, f);
      collectOtherAssigned(i->orelse, out, rangeLoopOk, f);
    } else if (auto *w = dyn_cast<ast::While>(s.get())) {
      collectOtherAssigned(w->body, out, rangeLoopOk, f);
      collectOtherAssigned(w->orelse, out, rangeLoopOk, f);
    } else if (auto *fo = dyn_cast<ast::For>(s.get())) {
      auto *n = dyn_cast<ast::Name>(fo->target.get());
      auto it = f.loops.find(fo);
      bool ok = n && it != f.loops.end() && it->second.kind == ForInfo::Kind::Range &&
                nonNegativeRange(*dyn_cast<ast::Call>(fo->iter.get()));
      auto mark = [&](const ast::Expr &t, bool good) {
        std::set<std::string> names;
        ast::collectTargets(t, names);
        for (const std::string &name : names) {
          auto [pos, inserted] = rangeLoopOk.emplace(name, good);
          if (!inserted)
            pos->second = pos->second && good;
        }
      };
      // The index tuples of np.ndindex and np.ndenumerate count up from 0.
      using K = IterSource::Kind;
      K kind = it != f.loops.end() && it->second.kind == ForInfo::Kind::Source
                   ? it->second.source.kind
                   : K::Range;
      auto *tu = dyn_cast<ast::Tuple>(fo->target.get());
      if (kind == K::NdIndex) {
        mark(*fo->target, true);
      } else if (kind == K::NdEnumerate && tu && tu->elts.size() == 2) {
        mark(*tu->elts[0], true);
        targets(*tu->elts[1]);
      } else if (n) {
        mark(*n, ok);
      } else {
        targets(*fo->target);
      }
      collectOtherAssigned(fo->body, out, rangeLoopOk, f);
      collectOtherAssigned(fo->orelse, out, rangeLoopOk, f);
    }
  }
}

bool FunctionGen::isNonNegative(const ast::Expr &e) {
  if (auto *i = dyn_cast<ast::IntLit>(&e))
    return !i->isUnsigned;
  if (auto *n = dyn_cast<ast::Name>(&e))
    return NonNegVars.count(n->id);
  return false;
}

bool FunctionGen::generate() {
  Func = Override ? Override : MG.funcFor(&F);
  if (!Override)
    if (func::FuncOp body = MG.recursiveBody(&F))
      Func = body;
  ResultT = StencilBody ? Type::scalar(F.stencil.bodyKind) : F.resultType;
  Region = &Func.getBody();
  Entry = Func.addEntryBlock();
  AllocaBlock = Entry;
  B.setInsertionPointToEnd(Entry);
  CurLoc = loc(F.def->range);

  SSA = std::make_unique<SSABuilder>(
      [this](const std::string &var) -> Value {
        // Undefined on some path: materialize a default at the entry.
        OpBuilder::InsertionGuard g(B);
        B.setInsertionPointToStart(Entry);
        const Type &t = VarTypes[var];
        return defaultValue(t).single();
      },
      [this](const std::string &var) -> mlir::Type {
        SmallVector<mlir::Type> ts;
        leafTypes(Ctx, VarTypes[var], ts);
        return ts.empty() ? mlir::Type(B.getI1Type()) : ts[0];
      },
      CurLoc);

  // Leaf variables and their types.
  std::function<void(const std::string &, const Type &, unsigned &)> addLeaves =
      [&](const std::string &name, const Type &t, unsigned &i) {
        if (t.isTuple() || t.isFunction()) { // (a function value: its captures)
          for (auto &e : t.elements())
            addLeaves(name, e, i);
        } else if (t.isScalar() || t.isArray()) {
          VarTypes[leafVar(name, i++)] = t;
        } else if (t.isContainer()) { // storages and counts
          std::vector<Type> leaves;
          t.collectLeaves(leaves);
          for (const Type &l : leaves)
            VarTypes[leafVar(name, i++)] = l;
        }
      };
  for (auto &[name, t] : F.vars) {
    unsigned i = 0;
    addLeaves(name, t, i);
  }
  if (F.kind == KernelKind::Jit && !MG.Gpu && !StencilBody) {
    UniqueArrays = uniqueArrayVariables(F);
    for (auto &name : UniqueArrays)
      VarTypes[ownedFlag(name)] = Type::scalar(ScalarKind::Bool);
  }

  std::set<std::string> other;
  std::map<std::string, bool> rangeOk;
  collectOtherAssigned(F.def->body, other, rangeOk, F);
  for (auto &[name, ok] : rangeOk)
    if (ok && !other.count(name))
      NonNegVars.insert(name);
  for (auto &p : F.def->params)
    NonNegVars.erase(p.name);
  // A comprehension's target has one binding: its clause's.
  for (auto &[g, src] : F.comprehensions)
    if (auto *n = dyn_cast<ast::Name>(g->target.get());
        n && src.kind == IterSource::Kind::Range &&
        nonNegativeRange(*llvm::cast<ast::Call>(src.expr)))
      NonNegVars.insert(n->id);

  setBlock(Entry);
  SSA->seal(Entry);
  if (RegionBody)
    genRegionBody();
  else
    genFunctionBody();

  // fastmath: the kernel's flags go on every floating-point operation.
  // Without them the arithmetic is strict IEEE: no contraction into FMAs, no
  // reassociation (LLVM fuses only operations carrying `contract`).
  if (F.decl && F.decl->options.fastmath) {
    auto fast = arith::FastMathFlagsAttr::get(Ctx, fastMathFlags(F.decl->options.fastmathFlags));
    Func.walk([&](mlir::Operation *op) {
      if (auto fm = dyn_cast<arith::ArithFastMathInterface>(op))
        op->setAttr(fm.getFastMathAttrName(), fast);
    });
  }
  return !Failed;
}

/// Binds the parameters and generates the function's body.
void FunctionGen::genFunctionBody() {
  unsigned argNo = 0;
  for (size_t i = 0; i < F.def->params.size(); ++i) {
    CGValue v;
    v.type = F.argTypes[i];
    unsigned n = countLeaves(v.type);
    for (unsigned k = 0; k < n; ++k)
      v.leaves.push_back(Entry->getArgument(argNo++));
    writeVar(F.def->params[i].name, v);
  }
  if (StencilBody) {
    for (unsigned d = 0; d < F.stencil.rank; ++d)
      Center.push_back(Entry->getArgument(argNo++));
    for (size_t i = 0; i < F.def->params.size(); ++i)
      if (F.stencil.relative[i]) {
        Value first = readVar(F.def->params[i].name).single();
        for (unsigned d = 0; d < F.stencil.rank; ++d)
          StencilDims.push_back(B.create<memref::DimOp>(CurLoc, first, d));
        break;
      }
  }

  if (MG.recursiveBody(&F) == Func)
    StackLimit = Entry->getArgument(argNo);
  genBlock(F.def->body);
  if (Cur) {
    // Falling off the end returns None (Sema rejected it for other results).
    CGValue r = defaultValue(ResultT);
    B.create<func::ReturnOp>(CurLoc, r.leaves);
    Cur = nullptr;
  }
}

/// A recursive call (from the body of a recursive function, CPU code)
/// first checks that the thread's stack has room for it, and raises
/// RecursionError where it has not, as Python does at its depth limit,
/// rather than overflow the stack. The body takes the limit
/// (_stn_stack_limit: the lowest address the stack may grow to, less a
/// reserve for the calls and the error path below it) as a last argument:
/// the wrapper under the function's own name asks the runtime once, and the
/// recursive calls pass it on. So a call costs one comparison, and a call
/// that recurses no further (fib's base case) none.
Value FunctionGen::stackFull() {
  auto i64 = B.getI64Type();
  Value sp = B.create<mlir::LLVM::StackSaveOp>(CurLoc,
                                               mlir::LLVM::LLVMPointerType::get(B.getContext()));
  Value here = B.create<mlir::LLVM::PtrToIntOp>(CurLoc, i64, sp);
  Value full = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult, here, StackLimit);
  return B.create<mlir::LLVM::ExpectOp>(CurLoc, full, constBool(false));
}

/// The body of a GPU region's nest (GpuRegions.h): one iteration, with the
/// grid loops' variables, the free variables and the reductions' partial
/// values as arguments; `continue` ends the iteration.
void FunctionGen::genRegionBody() {
  const GpuRegion &r = *RegionBody;
  unsigned argNo = 0;
  for (const ast::For *loop : r.loops) {
    CGValue v;
    v.type = Type::scalar(ScalarKind::I64);
    v.leaves.push_back(Entry->getArgument(argNo++));
    writeVar(llvm::cast<ast::Name>(loop->target.get())->id, v);
  }
  for (const std::string &name : r.freeVars) {
    CGValue v;
    v.type = F.vars.at(name);
    unsigned n = countLeaves(v.type);
    for (unsigned k = 0; k < n; ++k)
      v.leaves.push_back(Entry->getArgument(argNo++));
    writeVar(name, v);
  }
  for (const Reduction &red : r.reductions) {
    CGValue v;
    v.type = F.vars.at(red.var);
    v.leaves.push_back(Entry->getArgument(argNo++));
    writeVar(red.var, v);
  }
  Block *done = newBlock();
  Loops.push_back({done, done});
  genBlock(r.loops.back()->body);
  Loops.pop_back();
  if (Cur)
    branch(done);
  appendBlock(done);
  SSA->seal(done);
  setBlock(done);
  SmallVector<Value> partials;
  for (const Reduction &red : r.reductions)
    partials.push_back(readVar(red.var).single());
  B.create<func::ReturnOp>(CurLoc, partials);
  Cur = nullptr;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

void FunctionGen::genBlock(const ast::Block &b) {
  for (auto &s : b) {
    if (Failed)
      return;
    genStmt(*s);
    if (F.endsBlock.count(s.get()))
      return; // the rest is unreachable (and was not checked)
  }
}

void FunctionGen::genStmt(const ast::Stmt &s) {
  ensureBlock();
  CurLoc = loc(s.range());
  Finds.clear();
  switch (s.kind()) {
  case ast::Stmt::Kind::ExprStmt: {
    auto &e = *static_cast<const ast::ExprStmt &>(s).value;
    if (!isa<ast::StrLit>(&e))
      expr(e);
    return;
  }
  case ast::Stmt::Kind::Assign:
    genAssign(static_cast<const ast::Assign &>(s));
    return;
  case ast::Stmt::Kind::AugAssign:
    genAugAssign(static_cast<const ast::AugAssign &>(s));
    return;
  case ast::Stmt::Kind::If:
    genIf(static_cast<const ast::If &>(s));
    return;
  case ast::Stmt::Kind::While:
    genWhile(static_cast<const ast::While &>(s));
    return;
  case ast::Stmt::Kind::For:
    genFor(static_cast<const ast::For &>(s));
    return;
  case ast::Stmt::Kind::Return:
    genReturn(static_cast<const ast::Return &>(s));
    return;
  case ast::Stmt::Kind::Raise:
    genRaise(s);
    return;
  case ast::Stmt::Kind::Assert:
    genAssert(static_cast<const ast::Assert &>(s));
    return;
  case ast::Stmt::Kind::Break:
    branch(Loops.back().breakTo);
    return;
  case ast::Stmt::Kind::Continue:
    branch(Loops.back().continueTo);
    return;
  case ast::Stmt::Kind::Pass:
  case ast::Stmt::Kind::Import:
  case ast::Stmt::Kind::LocalDef: // lifted by the parser: none are left
  case ast::Stmt::Kind::Unsupported:
    return;
  }
}

void FunctionGen::genAssign(const ast::Assign &a) {
  if (!a.value)
    return;
  if (auto it = F.stencilInto.find(&a); it != F.stencilInto.end()) {
    stencilInto(a, *it->second);
    return;
  }
  // view[...] = array expression: its elements go straight into the view
  // (no array in between) where they can (assignArray).
  if (a.targets.size() == 1 && isElementwise(*a.value))
    if (auto *s = dyn_cast<ast::Subscript>(a.targets.front().get());
        s && !F.copiesElements(*s) && F.typeOf(*s).isArray() &&
        F.typeOf(*s->value).isArray()) { // (not xs[i] = a * 2: that replaces an item)
      LazyArray src = lazy(*a.value);
      CurLoc = loc(*s);
      assignArray(*s, std::move(src));
      return;
    }
  CGValue v = expr(*a.value);
  // One target only: `x = y = np.zeros(3)` gives both names the array.
  AssigningFresh = a.targets.size() == 1 && isFreshArray(F, *a.value);
  for (auto &t : a.targets)
    assignTo(*t, v);
  AssigningFresh = false;
  // A new array stored only into views of arrays is garbage once copied (a
  // kernel's arrays would otherwise live until the call returns: in a loop,
  // or a gufunc's core over a whole stack, that is one array per
  // iteration). An item of a list or a dict of arrays keeps the array itself.
  bool viewsOnly = std::all_of(a.targets.begin(), a.targets.end(), [&](const ast::ExprPtr &t) {
    auto *s = dyn_cast<ast::Subscript>(t.get());
    return s && F.typeOf(*s->value).isArray();
  });
  if (viewsOnly && v.type.isArray() && isFreshArray(F, *a.value))
    B.create<memref::DeallocOp>(CurLoc, v.single());
}

/// view[...] = st(args) for a stencil st (TypedFunction::stencilInto): where
/// the view has the shape of st's result and shares no memory with its
/// arguments, st writes into it (`into`, st with out=); elsewhere st's new
/// array is copied in (broadcast, as NumPy would) and freed.
void FunctionGen::stencilInto(const ast::Assign &a, const TypedFunction &into) {
  auto *c = llvm::cast<ast::Call>(a.value.get());
  auto *target = llvm::cast<ast::Subscript>(a.targets.front().get());
  const TypedFunction &st = *F.calls.at(c).callee;
  CurLoc = loc(*c);
  SmallVector<Value> operands, arrays;
  std::vector<CGValue> args;
  callArguments(*c, st, operands, args);
  for (const CGValue &v : args)
    if (v.type.isArray())
      arrays.push_back(v.single());
  // The call's own checks; where a raise returned (in a parallel region),
  // nothing runs.
  Value bad = checkCallShapes(*c, st, args);
  CurLoc = loc(*target);
  Value view = sliceView(*target);
  // The result's shape is its first relatively indexed input's.
  size_t first = 0;
  while (!st.stencil.relative[first])
    ++first;
  Value in = args[first].single();
  Value direct = logicalNot(overlapsAny(view, arrays));
  for (unsigned d = 0; d < F.typeOf(*target).rank(); ++d)
    direct = B.create<arith::AndIOp>(
        CurLoc, direct,
        B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq,
                                B.create<memref::DimOp>(CurLoc, view, d),
                                B.create<memref::DimOp>(CurLoc, in, d)));
  if (bad)
    direct = B.create<arith::AndIOp>(CurLoc, direct, logicalNot(bad));
  auto ifOp = B.create<scf::IfOp>(CurLoc, mlir::TypeRange{}, direct, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard g(B);
    B.setInsertionPoint(ifOp.getThenRegion().front().getTerminator());
    SmallVector<Value> withOut(operands);
    withOut.push_back(view);
    B.create<func::CallOp>(CurLoc, MG.funcFor(&into), withOut);
  }
  OpBuilder::InsertionGuard g(B);
  B.setInsertionPoint(ifOp.getElseRegion().front().getTerminator());
  auto copyIn = [&] {
    auto call = B.create<func::CallOp>(CurLoc, MG.funcFor(&st), operands);
    Value r = call.getResult(0);
    LazyArray src = leaf(r, st.resultType);
    src.reads.clear(); // new: it overlaps nothing
    assignArray(*target, std::move(src), view);
    B.create<memref::DeallocOp>(CurLoc, r);
  };
  if (bad)
    ifThen(logicalNot(bad), copyIn);
  else
    copyIn();
}

void FunctionGen::assignTo(const ast::Expr &target, const CGValue &v) {
  CurLoc = loc(target);
  if (auto *n = dyn_cast<ast::Name>(&target)) {
    if (UniqueArrays.count(n->id)) {
      releaseOnOverwrite(n->id, v);
      return;
    }
    writeVar(n->id, v);
    return;
  }
  const std::vector<ast::ExprPtr> *elts = nullptr;
  if (auto *t = dyn_cast<ast::Tuple>(&target))
    elts = &t->elts;
  else if (auto *l = dyn_cast<ast::List>(&target))
    elts = &l->elts;
  if (elts) {
    unsigned pos = 0;
    for (size_t i = 0; i < elts->size(); ++i) {
      const Type &et = v.type.elements()[i];
      unsigned n = countLeaves(et);
      CGValue part;
      part.type = et;
      part.leaves.append(v.leaves.begin() + pos, v.leaves.begin() + pos + n);
      pos += n;
      assignTo(*(*elts)[i], part);
    }
    return;
  }
  if (auto *s = dyn_cast<ast::Subscript>(&target)) {
    if (F.typeOf(*s->value).isDict()) {
      storeIntoDict(*s, v);
      return;
    }
    if (auto *sl = dyn_cast<ast::Slice>(s->index.get());
        sl && F.typeOf(*s->value).isList()) {
      assignListSlice(*s, *sl, v);
      return;
    }
    if (F.typeOf(*s->value).isTupleList()) {
      storeListElement(*s, v);
      return;
    }
    if (F.masks.count(s)) {
      maskStore(*s, v);
      return;
    }
    if (F.fancy.count(s)) {
      FancyIndex fi = fancyIndex(*s, /*forStore=*/true);
      fancyStore(fi, v);
      releaseFancy(fi);
      return;
    }
    if (F.typeOf(*s).isArray()) {
      assignSlice(*s, v);
      return;
    }
    Value mem;
    SmallVector<Value> idx;
    Type base;
    if (!address(*s, mem, idx, base))
      return;
    CGValue c = convert(v, base.dtypeType());
    storeElement(c.single(), mem, idx, base.scalarKind());
  }
}

/// Assigns `v` to the unique array variable `name`, freeing its old value
/// where this kernel allocated it and `v` does not share its memory.
void FunctionGen::releaseOnOverwrite(const std::string &name, const CGValue &v) {
  Value old = readVar(name).single();
  Value owned = SSA->read(ownedFlag(name), Cur);
  writeVar(name, v);
  Value cur = readVar(name).single();
  auto ptr = [&](Value m) -> Value {
    return B.create<memref::ExtractAlignedPointerAsIndexOp>(CurLoc, m);
  };
  Value differ =
      B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, ptr(old), ptr(cur));
  ifThen(B.create<arith::AndIOp>(CurLoc, owned, differ),
         [&] { B.create<memref::DeallocOp>(CurLoc, old); });
  SSA->write(ownedFlag(name), Cur, constBool(AssigningFresh));
}

void FunctionGen::genAugAssign(const ast::AugAssign &a) {
  if (auto *s = dyn_cast<ast::Subscript>(a.target.get());
      s && F.typeOf(*s->value).isDict() && !F.typeOf(*s).isArray()) {
    dictAugAssign(a);
    return;
  }
  if (F.typeOf(*a.target).isList()) {
    listAugAssign(a);
    return;
  }
  if (F.typeOf(*a.target).isSet()) {
    setAugAssign(a);
    return;
  }
  if (F.typeOf(*a.target).isArray()) {
    augAssignArray(a);
    return;
  }
  if (auto *n = dyn_cast<ast::Name>(a.target.get())) {
    CGValue cur = readChecked(*n);
    CGValue val = expr(*a.value);
    std::string err;
    auto rule = binaryRule(a.op, cur.type.scalarKind(), val.type.scalarKind(), err);
    Value l = castScalar(cur.single(), cur.type.scalarKind(), rule->operand);
    Value r = castScalar(val.single(), val.type.scalarKind(), rule->operand);
    checkDivisor(a.op, r, rule->operand, a.range());
    CGValue res;
    res.type = Type::scalar(rule->result);
    res.leaves.push_back(arith2(a.op, l, r, rule->operand, loc(a.opRange)));
    writeVar(n->id, res);
    return;
  }
  auto *s = dyn_cast<ast::Subscript>(a.target.get());
  Value mem;
  SmallVector<Value> idx;
  Type base;
  if (!s || !address(*s, mem, idx, base))
    return;
  ScalarKind ek = base.scalarKind();
  Value cur = loadElement(mem, idx, ek);
  CGValue val = expr(*a.value);
  std::string err;
  auto rule = binaryRule(a.op, ek, val.type.scalarKind(), err);
  Value l = castScalar(cur, ek, rule->operand);
  Value r = castScalar(val.single(), val.type.scalarKind(), rule->operand);
  checkDivisor(a.op, r, rule->operand, a.range());
  Value res = augCombine(a, l, r, rule->operand, loc(a.opRange));
  storeElement(castScalar(res, rule->result, ek), mem, idx, ek);
}

/// `if x < best: best = x; p = a[i]` (any of < <= > >=, either side): a
/// running minimum or maximum that also remembers array views, like the
/// course's closest pair. The update is rare once the loop has run a while;
/// if-converted, every candidate would select whole view descriptors on the
/// loop's critical path (measured 2x slower). Scalar-only updates are left
/// to LLVM, whose min/cmov code is faster for them.
static bool isRunningExtremum(const ast::If &s, const TypedFunction &f) {
  auto *cmp = dyn_cast<ast::Compare>(s.cond.get());
  if (!cmp || cmp->ops.size() != 1 || !s.orelse.empty() || cmp->ops[0] == ast::CmpOpKind::Eq ||
      cmp->ops[0] == ast::CmpOpKind::Ne)
    return false;
  std::set<std::string> assigned;
  for (auto &st : s.body)
    if (auto *a = dyn_cast<ast::Assign>(st.get()))
      for (auto &t : a->targets)
        ast::collectTargets(*t, assigned);
  bool views = false;
  for (auto &name : assigned)
    if (auto it = f.vars.find(name); it != f.vars.end() && it->second.isArray())
      views = true;
  if (!views)
    return false;
  for (auto &o : cmp->operands)
    if (auto *n = dyn_cast<ast::Name>(o.get()); n && assigned.count(n->id))
      return true;
  return false;
}

void FunctionGen::genIf(const ast::If &s) {
  // `if x is None:` known from the types: only the branch that runs (Sema
  // did not check the other).
  if (auto p = F.prunedIfs.find(&s); p != F.prunedIfs.end()) {
    genBlock(p->second ? s.body : s.orelse);
    return;
  }
  Value c = truth(expr(*s.cond));
  // A running extremum is updated rarely: saying so (LLVM's expect, turned
  // into branch weights) keeps the update a predictable branch instead of
  // selects that would put every candidate on the loop's critical path.
  if (!Loops.empty() && !MG.Gpu && isRunningExtremum(s, F))
    c = B.create<mlir::LLVM::ExpectOp>(CurLoc, c, constBool(false));
  Block *thenB = newBlock(), *merge = newBlock();
  Block *elseB = s.orelse.empty() ? merge : newBlock();
  condBranch(c, thenB, elseB);
  appendBlock(thenB);
  SSA->seal(thenB);
  setBlock(thenB);
  genBlock(s.body);
  if (Cur)
    branch(merge);
  if (elseB != merge) {
    appendBlock(elseB);
    SSA->seal(elseB);
    setBlock(elseB);
    genBlock(s.orelse);
    if (Cur)
      branch(merge);
  }
  appendBlock(merge);
  SSA->seal(merge);
  setBlock(merge);
}

void FunctionGen::genWhile(const ast::While &s) {
  Block *header = newBlock(), *body = newBlock(), *exit = newBlock();
  Block *elseB = s.orelse.empty() ? exit : newBlock();
  branch(header);
  appendBlock(header);
  setBlock(header);
  CurLoc = loc(s.cond->range());
  Value c = truth(expr(*s.cond));
  condBranch(c, body, elseB);
  appendBlock(body);
  SSA->seal(body);
  setBlock(body);
  Loops.push_back({header, exit});
  genBlock(s.body);
  Loops.pop_back();
  if (Cur)
    branch(header);
  SSA->seal(header);
  loopElseAndExit(s.orelse, elseB, exit);
}

/// The end of a loop: its `else` block (entered where the loop ran out,
/// not by `break`; `elseB` is `exit` when there is none), then the exit.
void FunctionGen::loopElseAndExit(const ast::Block &orelse, Block *elseB, Block *exit) {
  if (elseB != exit) {
    appendBlock(elseB);
    SSA->seal(elseB);
    setBlock(elseB);
    genBlock(orelse);
    if (Cur)
      branch(exit);
  }
  appendBlock(exit);
  SSA->seal(exit);
  setBlock(exit);
}

void FunctionGen::genLoop(const ast::For &s, const std::string &counter, Value start,
                          Value stop, Value step, std::optional<int64_t> constStep,
                          const std::function<void(Value)> &bindTarget,
                          const std::function<void()> &onLatch) {
  VarTypes[counter] = Type::scalar(ScalarKind::I64);
  SSA->write(counter, Cur, start);
  // A step known only at run time: the loop counts its trips, computed
  // first as range() does (a downward range counts as the upward one from
  // stop to start by -step; a zero step gives none). Tested against a
  // count, the loop has a trip count LLVM can use (unrolling a GPU
  // grid-stride loop, vectorizing); tested against `stop` with a step of
  // either sign, it has none.
  std::string trips = counter + "$trip";
  Value count;
  if (!constStep) {
    count = rangeLength(start, stop, step);
    VarTypes[trips] = Type::scalar(ScalarKind::I64);
    SSA->write(trips, Cur, constInt(0, ScalarKind::I64));
  }
  Block *header = newBlock(), *body = newBlock(), *latch = newBlock(), *exit = newBlock();
  Block *elseB = s.orelse.empty() ? exit : newBlock();
  branch(header);
  appendBlock(header);
  setBlock(header);
  Value i = SSA->read(counter, header);
  Value cond;
  if (constStep)
    cond = B.create<arith::CmpIOp>(CurLoc, *constStep > 0 ? arith::CmpIPredicate::slt
                                                          : arith::CmpIPredicate::sgt,
                                   i, stop);
  else
    cond = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult,
                                   SSA->read(trips, header), count);
  condBranch(cond, body, elseB);
  appendBlock(body);
  SSA->seal(body);
  setBlock(body);
  bindTarget(i);
  Loops.push_back({latch, exit});
  genBlock(s.body);
  Loops.pop_back();
  if (Cur)
    branch(latch);
  appendBlock(latch);
  SSA->seal(latch);
  setBlock(latch);
  if (onLatch)
    onLatch(); // may end in another block
  Block *tail = Cur;
  Value cur = SSA->read(counter, tail);
  auto next = B.create<arith::AddIOp>(CurLoc, cur, step);
  if (constStep) // else the last step may pass INT64_MAX; the trip count ends the loop
    next.setOverflowFlags(arith::IntegerOverflowFlags::nsw);
  SSA->write(counter, tail, next);
  if (!constStep) {
    auto t = B.create<arith::AddIOp>(CurLoc, SSA->read(trips, tail),
                                     constInt(1, ScalarKind::I64));
    t.setOverflowFlags(arith::IntegerOverflowFlags::nuw);
    SSA->write(trips, tail, t);
  }
  branch(header);
  SSA->seal(header);
  loopElseAndExit(s.orelse, elseB, exit);
}

/// How many values range(start, stop, step) has (int64 operands): a
/// downward range counts as the upward one from stop to start by -step; a
/// zero step gives none.
Value FunctionGen::rangeLength(Value start, Value stop, Value step) {
  auto sel = [&](Value c, Value a, Value b) {
    return B.create<arith::SelectOp>(CurLoc, c, a, b).getResult();
  };
  Value zero = constInt(0, ScalarKind::I64);
  Value up = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sgt, step, zero);
  Value moves = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, step, zero);
  Value size = sel(up, step, B.create<arith::SubIOp>(CurLoc, zero, step));
  size = sel(moves, size, constInt(1, ScalarKind::I64)); // no division by zero
  return sel(moves,
             upwardTripCount(B, CurLoc, sel(up, start, stop), sel(up, stop, start), size),
             zero);
}

/// The length of a for loop's source and a function giving its k-th item
/// (k an int64 in [0, length)). The operands are evaluated here, once,
/// before the loop.
FunctionGen::IterItems FunctionGen::iterItems(const IterSource &src, bool stateful,
                                              const NdSource *evaluated) {
  using K = IterSource::Kind;
  IterItems out;
  switch (src.kind) {
  case K::NdIndex:
  case K::NdEnumerate:
  case K::Flat: {
    NdSource nd = evaluated ? *evaluated : ndSource(src);
    out.length = nd.length;
    if (src.kind == K::Flat && nd.at.layout() == Type::Layout::C) {
      // Contiguous: the k-th element of the 1-d view of all of them.
      ScalarKind sk = nd.at.scalarKind();
      Type flat = Type::array(sk, 1, Type::Layout::C);
      Value view = nd.at.rank() == 1 ? nd.mem
                                     : withCShape(nd.mem, {toIndex(nd.length, ScalarKind::I64)},
                                                  flat);
      out.item = [this, view, sk](Value k) {
        CGValue v;
        v.type = Type::scalar(sk);
        v.leaves.push_back(loadElement(view, {toIndex(k, ScalarKind::I64)}, sk));
        return v;
      };
      return out;
    }
    NdPositions pos = ndPositions(nd.dims, stateful);
    out.item = [this, pos, nd](Value k) { return ndItem(nd, pos.at(k)); };
    out.advance = pos.advance;
    return out;
  }
  case K::Range: {
    auto [start, stop, step] = rangeBounds(*llvm::cast<ast::Call>(src.expr));
    out.length = rangeLength(start, stop, step);
    out.item = [this, start, step](Value k) {
      CGValue v;
      v.type = Type::scalar(ScalarKind::I64);
      v.leaves.push_back(B.create<arith::AddIOp>(
          CurLoc, start, B.create<arith::MulIOp>(CurLoc, k, step)));
      return v;
    };
    return out;
  }
  case K::Array: {
    CGValue arr = expr(*src.expr);
    Value mem = arr.single();
    Type at = arr.type;
    out.length = B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(),
                                              B.create<memref::DimOp>(CurLoc, mem, 0));
    out.item = [this, mem, at](Value k) {
      SmallVector<Value> idx{B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), k)};
      CGValue v;
      if (at.rank() == 1) {
        v.type = at.dtypeType();
        v.leaves.push_back(loadElement(mem, idx, at.scalarKind()));
      } else {
        v.type = Type::array(at.scalarKind(), at.rank() - 1, at.layout());
        v.leaves.push_back(rowView(mem, idx, at, v.type));
      }
      return v;
    };
    return out;
  }
  case K::List: { // a list of tuples (one of numbers is iterated as its array)
    CGValue list = expr(*src.expr);
    SmallVector<Value> data = listData(list);
    Type item = list.type.listItem();
    out.length = list.leaves.back();
    out.item = [this, data, item](Value k) {
      return loadItem(data, toIndex(k, ScalarKind::I64), item);
    };
    return out;
  }
  case K::Dict: {
    // The live entries in order: the dict's own storage, or a compacted
    // copy where some were popped (which a for loop keeps: the dict
    // changes no size while it runs, so its body's stores reach the
    // entries it reads).
    CGValue d = expr(*src.expr);
    auto *n = dyn_cast<ast::Name>(src.expr);
    bool keep = IteratingForLoop && n && F.vars.count(n->id);
    if (keep)
      d = convert(d, F.vars.at(n->id));
    DictParts p = dictEntries(d, /*freeOld=*/keep);
    if (keep)
      writeVar(n->id, makeDict(p));
    Type kt = p.type.dictKey(), vt = p.type.dictValue();
    out.length = p.len;
    auto part = src.dictPart;
    out.item = [this, p, kt, vt, part](Value k) {
      Value at = toIndex(k, ScalarKind::I64);
      if (part == IterSource::DictPart::Keys)
        return loadItem(p.keys, at, kt);
      if (part == IterSource::DictPart::Values)
        return loadItem(p.values, at, vt);
      CGValue key = loadItem(p.keys, at, kt), value = loadItem(p.values, at, vt);
      CGValue r;
      r.type = Type::tuple({kt, vt});
      r.leaves.append(key.leaves.begin(), key.leaves.end());
      r.leaves.append(value.leaves.begin(), value.leaves.end());
      return r;
    };
    return out;
  }
  case K::Reversed: {
    IterItems inner = iterItems(src.children.front());
    Value last = B.create<arith::SubIOp>(CurLoc, inner.length, constInt(1, ScalarKind::I64));
    out.length = inner.length;
    out.item = [this, inner, last](Value k) {
      return inner.item(B.create<arith::SubIOp>(CurLoc, last, k));
    };
    return out;
  }
  case K::Enumerate: {
    IterItems inner = iterItems(src.children.front(), stateful);
    out.advance = inner.advance;
    Value start = constInt(0, ScalarKind::I64);
    if (src.start) {
      CGValue s = expr(*src.start);
      start = castScalar(s.single(), s.type.scalarKind(), ScalarKind::I64);
    }
    out.length = inner.length;
    out.item = [this, inner, start](Value k) {
      CGValue item = inner.item(k);
      CGValue v;
      v.type = Type::tuple({Type::scalar(ScalarKind::I64), item.type});
      v.leaves.push_back(B.create<arith::AddIOp>(CurLoc, start, k));
      v.leaves.append(item.leaves.begin(), item.leaves.end());
      return v;
    };
    return out;
  }
  case K::Zip: {
    std::vector<IterItems> parts;
    for (const IterSource &c : src.children) {
      parts.push_back(iterItems(c, stateful));
      out.length = out.length ? B.create<arith::MinSIOp>(CurLoc, out.length,
                                                         parts.back().length)
                              : parts.back().length;
    }
    out.item = [parts](Value k) {
      CGValue v;
      std::vector<Type> types;
      for (const IterItems &p : parts) {
        CGValue item = p.item(k);
        types.push_back(item.type);
        v.leaves.append(item.leaves.begin(), item.leaves.end());
      }
      v.type = Type::tuple(std::move(types));
      return v;
    };
    out.advance = [parts] {
      for (const IterItems &p : parts)
        if (p.advance)
          p.advance();
    };
    return out;
  }
  }
  return out;
}

/// np.dot / np.matmul / `@`. vector . vector: the products summed as they
/// are made (no temporary). matrix @ vector: one sum per row, in a register. With a
/// matrix on the right, out (zeros first) gets x[i, k] * y[k, :] added to
/// its row i for each k: the innermost loop runs along rows of y and out,
/// so it vectorizes. The elements are converted to `ok` before they
/// multiply; bool products are `and`, their sums `or`, as in NumPy.
CGValue FunctionGen::matmul(const ast::Expr &xe, const ast::Expr &ye, ScalarKind ok,
                            const Type &rt, bool matmulText) {
  CGValue r;
  r.type = rt;
  auto mul = [&](Value a, Value b) { return productOf(a, b, ok); };
  auto add = [&](Value a, Value b) -> Value {
    return isBool(ok) ? B.create<arith::OrIOp>(CurLoc, a, b).getResult()
                      : arith2(ast::BinOpKind::Add, a, b, ok, CurLoc);
  };
  // NumPy's ValueError where the inner extents (xs.back(), ys.front()) differ.
  auto raiseMismatch = [&](const SmallVector<Value> &xs, const SmallVector<Value> &ys) {
    Value kx = xs.back(), ky = ys.front();
    std::string text;
    SmallVector<Value> values;
    auto mark = [&] {
      text += kRaisedValue;
      text += 'i';
    };
    if (matmulText) {
      text = "ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0, with "
             "gufunc signature (n?,k),(k,m?)->(n?,m?) (size ";
      mark();
      text += " is different from ";
      mark();
      text += ")";
      values = {ky, kx};
    } else {
      auto shape = [&](const SmallVector<Value> &dims) {
        text += "(";
        for (size_t d = 0; d < dims.size(); ++d) {
          if (d)
            text += ",";
          mark();
          values.push_back(dims[d]);
        }
        text += dims.size() == 1 ? ",)" : ")";
      };
      text = "ValueError: shapes ";
      shape(xs);
      text += " and ";
      shape(ys);
      text += " not aligned: ";
      mark();
      text += fmt::format(" (dim {}) != ", xs.size() - 1);
      mark();
      text += " (dim 0)";
      values.push_back(kx);
      values.push_back(ky);
    }
    raiseIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, kx, ky),
            KernelFaultKind::Raise, text, values);
  };
  if (F.typeOf(xe).rank() == 1 && F.typeOf(ye).rank() == 1) {
    // vector . vector: the products summed as they are made, operands that
    // are array expressions included (no temporaries); the lengths must be
    // equal (no broadcasting of a length-1 vector, as in NumPy).
    LazyArray x = lazy(xe), y = lazy(ye);
    raiseMismatch({x.shape[0]}, {y.shape[0]});
    r.leaves.push_back(innerProduct(std::move(x), std::move(y), ok));
    return r;
  }
  CGValue xv = expr(xe), yv = expr(ye);
  Value X = xv.single(), Y = yv.single();
  const Type &xt = xv.type, &yt = yv.type;
  ScalarKind xk = xt.scalarKind(), yk = yt.scalarKind();
  unsigned xr = xt.rank(), yr = yt.rank();
  SmallVector<Value> xs, ys;
  for (unsigned d = 0; d < xr; ++d)
    xs.push_back(B.create<memref::DimOp>(CurLoc, X, d));
  for (unsigned d = 0; d < yr; ++d)
    ys.push_back(B.create<memref::DimOp>(CurLoc, Y, d));
  // The inner extents must agree: NumPy's ValueError.
  Value kx = xs.back(), ky = ys.front();
  raiseMismatch(xs, ys);
  // Where the raise returned (parallel regions): the shorter extent.
  Value k = B.create<arith::MinUIOp>(CurLoc, kx, ky);
  auto xAt = [&](Value i, Value p) {
    SmallVector<Value> idx;
    if (xr == 2)
      idx.push_back(i);
    idx.push_back(p);
    return castScalar(loadElement(X, idx, xk), xk, ok);
  };
  auto yAt = [&](Value p, Value j) {
    SmallVector<Value> idx{p};
    if (yr == 2)
      idx.push_back(j);
    return castScalar(loadElement(Y, idx, yk), yk, ok);
  };
  Value zero = zeroOf(Type::scalar(ok));
  // sum over p in [0, k) of x(i, p) * y(p, j), carried in a register.
  auto dotAt = [&](Value i, Value j) {
    auto loop = B.create<scf::ForOp>(CurLoc, constIndex(0), k, constIndex(1),
                                     mlir::ValueRange{zero});
    {
      OpBuilder::InsertionGuard g(B);
      Block *body = loop.getBody();
      if (!body->empty() && body->back().hasTrait<mlir::OpTrait::IsTerminator>())
        body->back().erase();
      B.setInsertionPointToEnd(body);
      Value p = loop.getInductionVar();
      Value acc = add(loop.getRegionIterArgs()[0], mul(xAt(i, p), yAt(p, j)));
      B.create<scf::YieldOp>(CurLoc, acc);
    }
    return loop.getResult(0);
  };
  if (yr == 1) {
    Value c0 = constIndex(0);
    Value out = MG.allocArray(B, CurLoc, rt, mlir::ValueRange{xs[0]});
    indexLoop(c0, xs[0], [&](Value i) { storeElement(dotAt(i, c0), out, {i}, ok); });
    r.leaves.push_back(out);
    return r;
  }
  SmallVector<Value> outShape;
  if (xr == 2)
    outShape.push_back(xs[0]);
  outShape.push_back(ys[1]);
  Value out = MG.allocArray(B, CurLoc, rt, outShape);
  forEach(outShape, [&](mlir::ValueRange ivs) {
    storeElement(zero, out, SmallVector<Value>(ivs.begin(), ivs.end()), ok);
  });
  Value rows = xr == 2 ? xs[0] : constIndex(1);
  indexLoop(constIndex(0), rows, [&](Value i) {
    indexLoop(constIndex(0), k, [&](Value p) {
      Value a = xAt(i, p);
      indexLoop(constIndex(0), ys[1], [&](Value j) {
        SmallVector<Value> at;
        if (xr == 2)
          at.push_back(i);
        at.push_back(j);
        storeElement(add(loadElement(out, at, ok), mul(a, yAt(p, j))), out, at, ok);
      });
    });
  });
  r.leaves.push_back(out);
  return r;
}

/// np.nonzero(a) (a tuple of the indices along each axis), np.flatnonzero
/// (the positions in C order) and np.argwhere (one row of indices per
/// element) of the elements of `a` that are not zero, in C order: a count,
/// then one pass that writes them.
CGValue FunctionGen::nonzeroPositions(const ast::Expr &e, Builtin b, const Type &rt) {
  CGValue r;
  r.type = rt;
  LazyArray a = lazy(e);
  ScalarKind ak = a.type.scalarKind();
  unsigned rank = a.type.rank();
  LazyArray nz = elementwise(Type::array(ScalarKind::I64, rank, Type::Layout::C), {a},
                             [this, ak](const SmallVector<Value> &v) {
                               Value ne = compare1(ast::CmpOpKind::Ne, v[0], ak,
                                                   zeroOf(Type::scalar(ak)), ak);
                               return castScalar(ne, ScalarKind::Bool, ScalarKind::I64);
                             });
  SmallVector<Value> shape = nz.shape;
  Value count = toIndex(reduce(nz, Builtin::Sum, ScalarKind::I64), ScalarKind::I64);
  Type index = Type::array(ScalarKind::I64, 1, Type::Layout::C);
  SmallVector<Value> outs;
  if (b == Builtin::Nonzero)
    for (unsigned d = 0; d < rank; ++d)
      outs.push_back(MG.allocArray(B, CurLoc, index, mlir::ValueRange{count}));
  else if (b == Builtin::Argwhere)
    outs.push_back(MG.allocArray(B, CurLoc, rt, mlir::ValueRange{count, constIndex(rank)}));
  else
    outs.push_back(MG.allocArray(B, CurLoc, index, mlir::ValueRange{count}));
  nz.prepare(shape);
  Value next = entryAlloca(B.getIndexType());
  B.create<memref::StoreOp>(CurLoc, constIndex(0), next);
  forEach(shape, [&](mlir::ValueRange ivs) {
    Value keep = castScalar(nz.element(ivs), ScalarKind::I64, ScalarKind::Bool);
    ifThen(keep, [&] {
      Value j = B.create<memref::LoadOp>(CurLoc, next);
      if (b == Builtin::Flatnonzero) {
        Value flat = constIndex(0);
        for (unsigned d = 0; d < rank; ++d)
          flat = B.create<arith::AddIOp>(CurLoc, B.create<arith::MulIOp>(CurLoc, flat, shape[d]),
                                         ivs[d]);
        storeElement(indexToI64(flat), outs[0], {j}, ScalarKind::I64);
      } else {
        for (unsigned d = 0; d < rank; ++d) {
          Value i = indexToI64(ivs[d]);
          if (b == Builtin::Nonzero)
            storeElement(i, outs[d], {j}, ScalarKind::I64);
          else
            storeElement(i, outs[0], {j, constIndex(d)}, ScalarKind::I64);
        }
      }
      B.create<memref::StoreOp>(CurLoc, B.create<arith::AddIOp>(CurLoc, j, constIndex(1)), next);
    });
  });
  r.leaves.append(outs.begin(), outs.end());
  return r;
}

/// Evaluates the operands of np.ndindex(...), np.ndenumerate(a) or a.flat
/// (once, before the loop): the extents (index values; a negative extent
/// of np.ndindex raises NumPy's ValueError, and counts as 0 where that
/// returns) and the array.
FunctionGen::NdSource FunctionGen::ndSource(const IterSource &src) {
  NdSource nd;
  nd.kind = src.kind;
  Value zero = constInt(0, ScalarKind::I64);
  nd.length = constInt(1, ScalarKind::I64);
  if (src.kind == IterSource::Kind::NdIndex) {
    SmallVector<Value> dims;
    auto add = [&](Value v, ScalarKind k) { dims.push_back(castScalar(v, k, ScalarKind::I64)); };
    for (auto &a : llvm::cast<ast::Call>(src.expr)->args) {
      CGValue v = expr(*a);
      if (v.type.isTuple())
        for (size_t d = 0; d < v.leaves.size(); ++d)
          add(v.leaves[d], v.type.elements()[d].scalarKind());
      else
        add(v.single(), v.type.scalarKind());
    }
    Value negative = constBool(false);
    for (Value d : dims) {
      negative = B.create<arith::OrIOp>(
          CurLoc, negative, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, d, zero));
      d = B.create<arith::MaxSIOp>(CurLoc, d, zero);
      nd.length = B.create<arith::MulIOp>(CurLoc, nd.length, d);
      nd.dims.push_back(toIndex(d, ScalarKind::I64));
    }
    SourceRange saved = CurRange;
    CurRange = src.expr->range();
    raiseIf(negative, KernelFaultKind::Raise, "ValueError: negative dimensions are not allowed",
            {});
    CurRange = saved;
    return nd;
  }
  CGValue arr = expr(*src.expr);
  nd.mem = arr.single();
  nd.at = arr.type;
  for (unsigned d = 0; d < nd.at.rank(); ++d)
    nd.dims.push_back(B.create<memref::DimOp>(CurLoc, nd.mem, d));
  nd.length = indexToI64(elementCount(nd.mem, nd.at.rank()));
  return nd;
}

/// The item of `nd` at indices `idx`: the index tuple (np.ndindex), the
/// tuple and the element (np.ndenumerate), or the element (a.flat).
CGValue FunctionGen::ndItem(const NdSource &nd, const SmallVector<Value> &idx) {
  CGValue v;
  Type index = Type::tuple(std::vector<Type>(idx.size(), Type::scalar(ScalarKind::I64)));
  if (nd.kind != IterSource::Kind::Flat)
    for (Value i : idx)
      v.leaves.push_back(indexToI64(i));
  if (nd.kind == IterSource::Kind::NdIndex) {
    v.type = index;
    return v;
  }
  v.leaves.push_back(loadElement(nd.mem, idx, nd.at.scalarKind()));
  v.type = nd.kind == IterSource::Kind::Flat ? nd.at.dtypeType()
                                             : Type::tuple({index, nd.at.dtypeType()});
  return v;
}

/// `for target in np.ndindex(...)` / `np.ndenumerate(a)` / `a.flat` (a
/// multi-dimensional array that is not contiguous): one loop per axis, as
/// hand-written nested range loops are, so the inner loop has a trip count
/// and the outer indices' work is hoisted out of it. `continue` goes to the
/// innermost latch, `break` leaves the whole nest (skipping `else`).
void FunctionGen::genNdLoop(const ast::For &s, const NdSource &nd) {
  size_t rank = nd.dims.size();
  SmallVector<std::string> names;
  for (size_t d = 0; d < rank; ++d) {
    names.push_back(fmt::format("$nd{}", Counter++));
    VarTypes[names.back()] = Type::scalar(ScalarKind::I64);
  }
  SSA->write(names[0], Cur, constInt(0, ScalarKind::I64));
  Block *exit = newBlock();
  Block *elseB = s.orelse.empty() ? exit : newBlock();
  SmallVector<Block *> headers, latches;
  for (size_t d = 0; d < rank; ++d) {
    headers.push_back(newBlock());
    latches.push_back(newBlock());
  }
  branch(headers[0]);
  for (size_t d = 0; d < rank; ++d) {
    appendBlock(headers[d]);
    setBlock(headers[d]);
    Value i = SSA->read(names[d], headers[d]);
    Block *body = newBlock();
    condBranch(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, i,
                                       indexToI64(nd.dims[d])),
               body, d == 0 ? elseB : latches[d - 1]);
    appendBlock(body);
    SSA->seal(body);
    setBlock(body);
    if (d + 1 < rank) {
      SSA->write(names[d + 1], body, constInt(0, ScalarKind::I64));
      branch(headers[d + 1]);
    }
  }
  SmallVector<Value> idx;
  for (const std::string &n : names)
    idx.push_back(toIndex(SSA->read(n, Cur), ScalarKind::I64));
  assignTo(*s.target, ndItem(nd, idx));
  Loops.push_back({latches.back(), exit});
  genBlock(s.body);
  Loops.pop_back();
  if (Cur)
    branch(latches.back());
  for (size_t d = rank; d-- > 0;) {
    appendBlock(latches[d]);
    SSA->seal(latches[d]);
    setBlock(latches[d]);
    auto next = B.create<arith::AddIOp>(CurLoc, SSA->read(names[d], latches[d]),
                                        constInt(1, ScalarKind::I64));
    next.setOverflowFlags(arith::IntegerOverflowFlags::nsw);
    SSA->write(names[d], latches[d], next);
    branch(headers[d]);
    SSA->seal(headers[d]);
  }
  loopElseAndExit(s.orelse, elseB, exit);
}

/// The indices of the k-th position, in C order, of an array of extents
/// `dims` (index values, none of them negative). A for loop (`stateful`)
/// carries one counter per axis from item to item and moves them on in its
/// latch (the last axis fastest, a carry into the one before it where it
/// reaches its extent): no division per item. Elsewhere (comprehensions,
/// list()) k is divided by the extents.
FunctionGen::NdPositions FunctionGen::ndPositions(SmallVector<Value> dims, bool stateful) {
  NdPositions p;
  size_t rank = dims.size();
  if (rank == 1) {
    p.at = [this](Value k) { return SmallVector<Value>{toIndex(k, ScalarKind::I64)}; };
    return p;
  }
  if (!stateful) {
    p.at = [this, dims](Value k) {
      Value rest = toIndex(k, ScalarKind::I64);
      SmallVector<Value> idx(dims.size());
      for (size_t d = dims.size(); d-- > 1;) {
        // An empty extent has no positions to divide into (k is never
        // valid then); 1 keeps the division defined.
        Value n = B.create<arith::MaxUIOp>(CurLoc, dims[d], constIndex(1));
        idx[d] = B.create<arith::RemUIOp>(CurLoc, rest, n);
        rest = B.create<arith::DivUIOp>(CurLoc, rest, n);
      }
      idx[0] = rest;
      return idx;
    };
    return p;
  }
  SmallVector<std::string> names;
  for (size_t d = 0; d < rank; ++d) {
    names.push_back(fmt::format("$nd{}", Counter++));
    VarTypes[names.back()] = Type::scalar(ScalarKind::I64);
    SSA->write(names.back(), Cur, constInt(0, ScalarKind::I64));
  }
  p.at = [this, names](Value) {
    SmallVector<Value> idx;
    for (const std::string &n : names)
      idx.push_back(toIndex(SSA->read(n, Cur), ScalarKind::I64));
    return idx;
  };
  p.advance = [this, names, dims] {
    // The last axis moves on; where it reaches its extent it goes back to
    // 0 and the one before it moves on (a rarely taken branch, so the
    // common step is one increment and one compare).
    Block *done = newBlock();
    Value one = constInt(1, ScalarKind::I64), zero = constInt(0, ScalarKind::I64);
    for (size_t d = names.size(); d-- > 0;) {
      auto next = B.create<arith::AddIOp>(CurLoc, SSA->read(names[d], Cur), one);
      next.setOverflowFlags(arith::IntegerOverflowFlags::nsw);
      if (d == 0) { // the loop's count ends it; no carry out of axis 0
        SSA->write(names[d], Cur, next);
        break;
      }
      Value wraps = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, next,
                                            indexToI64(dims[d]));
      Block *carry = newBlock(), *stay = newBlock();
      condBranch(wraps, carry, stay);
      appendBlock(stay);
      SSA->seal(stay);
      setBlock(stay);
      SSA->write(names[d], stay, next);
      branch(done);
      appendBlock(carry);
      SSA->seal(carry);
      setBlock(carry);
      SSA->write(names[d], carry, zero);
    }
    branch(done);
    appendBlock(done);
    SSA->seal(done);
    setBlock(done);
  };
  return p;
}

/// `a.flat[i]`: the element at position i of `a` in C order (negative i
/// counts from the end; boundscheck compares it with a.size), as the
/// indices of each axis, or of the 1-d view of a contiguous array.
bool FunctionGen::flatAddress(const ast::Subscript &s, Value &mem, SmallVector<Value> &indices,
                              Type &baseType) {
  CGValue base = expr(*llvm::cast<ast::Attribute>(s.value.get())->value);
  baseType = base.type;
  mem = base.single();
  unsigned rank = baseType.rank();
  ScalarKind sk = baseType.scalarKind();
  Value size = elementCount(mem, rank);
  CGValue v = expr(*s.index);
  ScalarKind ik = v.type.scalarKind();
  Value i = toIndex(v.single(), ik), given = i;
  if (isSignedInt(ik) && !isNonNegative(*s.index))
    i = wrapIndex(i, ik, size);
  Value bad;
  if (boundsChecked()) {
    SourceRange saved = CurRange;
    CurRange = s.range();
    bad = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::uge, i, size);
    std::string text = "IndexError: index ";
    text += kRaisedValue;
    text += "i is out of bounds for size ";
    text += kRaisedValue;
    text += 'i';
    raiseIf(bad, KernelFaultKind::Raise, text, {given, size});
    CurRange = saved;
    // Reached only where the raise returned (parallel regions): a scratch
    // element instead.
    i = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), i);
  }
  if (baseType.layout() == Type::Layout::C) {
    baseType = Type::array(sk, 1, Type::Layout::C);
    if (rank != 1)
      mem = withCShape(mem, {size}, baseType);
    indices.push_back(i);
  } else {
    SmallVector<Value> dims;
    for (unsigned d = 0; d < rank; ++d)
      dims.push_back(B.create<memref::DimOp>(CurLoc, mem, d));
    indices = ndPositions(dims, /*stateful=*/false).at(indexToI64(i));
  }
  if (bad) {
    for (Value &x : indices)
      x = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), x);
    mem = B.create<arith::SelectOp>(CurLoc, bad, scratchElement(mem), mem);
  }
  return true;
}

/// The start, stop and step of `range(...)` / `prange(...)` as int64.
std::tuple<Value, Value, Value> FunctionGen::rangeBounds(const ast::Call &c) {
  SmallVector<Value> args;
  for (auto &a : c.args) {
    CGValue v = expr(*a);
    args.push_back(castScalar(v.single(), v.type.scalarKind(), ScalarKind::I64));
  }
  Value start = args.size() >= 2 ? args[0] : constInt(0, ScalarKind::I64);
  Value stop = args.size() >= 2 ? args[1] : args[0];
  Value step = args.size() == 3 ? args[2] : constInt(1, ScalarKind::I64);
  return {start, stop, step};
}

/// The value of an integer literal, or of a negated one (a step such as
/// `-1`); nullopt for any other expression.
static std::optional<int64_t> literalInt(const ast::Expr &e) {
  if (auto *lit = dyn_cast<ast::IntLit>(&e))
    return static_cast<int64_t>(lit->value);
  if (auto *u = dyn_cast<ast::UnaryOp>(&e); u && u->op == ast::UnaryOpKind::Neg)
    if (auto *lit = dyn_cast<ast::IntLit>(u->operand.get()))
      return -static_cast<int64_t>(lit->value);
  return std::nullopt;
}

void FunctionGen::genFor(const ast::For &s) {
  auto &info = F.loops.at(&s);
  auto *target = dyn_cast<ast::Name>(s.target.get());
  std::string counter = fmt::format("$iter{}", Counter++);
  if (info.kind == ForInfo::Kind::Range) {
    auto *c = dyn_cast<ast::Call>(s.iter.get());
    auto [start, stop, step] = rangeBounds(*c);
    std::optional<int64_t> constStep =
        c->args.size() == 3 ? literalInt(*c->args[2]) : std::optional<int64_t>(1);
    if (info.runsParallel && ParallelDepth == 0 && MG.GpuHost == &F) {
      genGpuLaunch(s, start, stop, step);
      return;
    }
    if (info.runsParallel && ParallelDepth == 0) {
      genParallelFor(s, info, start, stop, step);
      return;
    }
    if (c->args.size() <= 2 && interchangeEnabled())
      if (auto plan = findInterchange(F, s)) {
        genInterchanged(s, *plan, counter, start, stop);
        return;
      }
    genLoop(s, counter, start, stop, step, constStep, [&](Value i) {
      CGValue v;
      v.type = Type::scalar(ScalarKind::I64);
      v.leaves.push_back(i);
      writeVar(target->id, v);
    });
    return;
  }
  if (info.kind == ForInfo::Kind::Source) {
    using K = IterSource::Kind;
    K k = info.source.kind;
    if (k == K::NdIndex || k == K::NdEnumerate || k == K::Flat) {
      // A nest of loops where there is more than one axis to walk.
      NdSource nd = ndSource(info.source);
      bool linear = k == K::Flat && nd.at.layout() == Type::Layout::C;
      if (nd.dims.size() > 1 && !linear) {
        genNdLoop(s, nd);
        return;
      }
      IterItems items = iterItems(info.source, /*stateful=*/true, &nd);
      genLoop(
          s, counter, constInt(0, ScalarKind::I64), items.length, constInt(1, ScalarKind::I64),
          1, [&](Value k) { assignTo(*s.target, items.item(k)); }, items.advance);
      return;
    }
    // enumerate, zip, reversed, dicts: k counts the items.
    IteratingForLoop = true;
    IterItems items = iterItems(info.source, /*stateful=*/true);
    IteratingForLoop = false;
    genLoop(
        s, counter, constInt(0, ScalarKind::I64), items.length, constInt(1, ScalarKind::I64), 1,
        [&](Value k) { assignTo(*s.target, items.item(k)); }, items.advance);
    return;
  }
  // Iteration over the first axis of an array.
  CGValue arr = expr(*s.iter);
  Value mem = arr.single();
  Value n = B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(),
                                         B.create<memref::DimOp>(CurLoc, mem, 0));
  Type elemT = F.vars.at(target->id);
  genLoop(s, counter, constInt(0, ScalarKind::I64), n, constInt(1, ScalarKind::I64), 1,
          [&](Value i) {
            SmallVector<Value> idx{B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), i)};
            CGValue v;
            if (arr.type.rank() == 1) {
              v.type = arr.type.dtypeType();
              v.leaves.push_back(loadElement(mem, idx, arr.type.scalarKind()));
            } else {
              v.type = Type::array(arr.type.scalarKind(), arr.type.rank() - 1,
                                   arr.type.layout());
              v.leaves.push_back(rowView(mem, idx, arr.type, v.type));
            }
            writeVar(target->id, v);
            (void)elemT;
          });
}

//===----------------------------------------------------------------------===//
// Loop interchange (Interchange.h)
//===----------------------------------------------------------------------===//

/// `for i in range(lo, hi)` over i64 values with a body that does not
/// break or continue; `body` gets the counter.
void FunctionGen::countedLoop(Value lo, Value hi, const std::function<void(Value)> &body) {
  std::string counter = fmt::format("$iter{}", Counter++);
  VarTypes[counter] = Type::scalar(ScalarKind::I64);
  SSA->write(counter, Cur, lo);
  Block *header = newBlock(), *bodyB = newBlock(), *exit = newBlock();
  branch(header);
  appendBlock(header);
  setBlock(header);
  Value i = SSA->read(counter, header);
  condBranch(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, i, hi), bodyB, exit);
  appendBlock(bodyB);
  SSA->seal(bodyB);
  setBlock(bodyB);
  body(i);
  auto next = B.create<arith::AddIOp>(CurLoc, i, constInt(1, ScalarKind::I64));
  next.setOverflowFlags(arith::IntegerOverflowFlags::nsw);
  SSA->write(counter, Cur, next);
  branch(header);
  SSA->seal(header);
  appendBlock(exit);
  SSA->seal(exit);
  setBlock(exit);
}

/// The bytes one element of a memref of type `mt` takes (bools take one).
static int64_t elementBytes(mlir::MemRefType mt) {
  mlir::Type et = mt.getElementType();
  if (auto ct = llvm::dyn_cast<mlir::ComplexType>(et))
    return 2 * (ct.getElementType().getIntOrFloatBitWidth() / 8);
  return std::max<int64_t>(1, et.getIntOrFloatBitWidth() / 8);
}

/// The bytes [lo, hi) that the elements of `mem` occupy (index values);
/// returns whether it has any element.
Value FunctionGen::addressRange(Value mem, Value &lo, Value &hi) {
  auto mt = llvm::cast<mlir::MemRefType>(mem.getType());
  int64_t bytes = elementBytes(mt);
  auto md = B.create<memref::ExtractStridedMetadataOp>(CurLoc, mem);
  Value zero = constIndex(0), one = constIndex(1);
  Value first = md.getOffset(), last = md.getOffset();
  Value nonEmpty = constBool(true);
  for (int64_t d = 0; d < mt.getRank(); ++d) {
    Value size = md.getSizes()[d];
    Value span = B.create<arith::MulIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, size, one),
                                         md.getStrides()[d]);
    first = B.create<arith::AddIOp>(CurLoc, first, B.create<arith::MinSIOp>(CurLoc, span, zero));
    last = B.create<arith::AddIOp>(CurLoc, last, B.create<arith::MaxSIOp>(CurLoc, span, zero));
    nonEmpty = B.create<arith::AndIOp>(
        CurLoc, nonEmpty, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sgt, size, zero));
  }
  Value base = B.create<memref::ExtractAlignedPointerAsIndexOp>(CurLoc, mem);
  Value esz = constIndex(bytes);
  lo = B.create<arith::AddIOp>(CurLoc, base, B.create<arith::MulIOp>(CurLoc, first, esz));
  hi = B.create<arith::AddIOp>(
      CurLoc, base,
      B.create<arith::MulIOp>(CurLoc, B.create<arith::AddIOp>(CurLoc, last, one), esz));
  return nonEmpty;
}

/// The nest of `p` with tmp expanded into a buffer over j and the j and k
/// loops interchanged, behind a run-time test that the stored array
/// overlaps none of the arrays read; where one does, the original nest runs.
void FunctionGen::genInterchanged(const ast::For &s, const InterchangePlan &p,
                                  const std::string &counter, Value start, Value stop) {
  auto i64 = ScalarKind::I64;
  const std::string &jName = llvm::cast<ast::Name>(s.target.get())->id;
  const std::string &kName = llvm::cast<ast::Name>(p.inner->target.get())->id;
  auto bindI64 = [&](const std::string &name, Value v) {
    CGValue c;
    c.type = Type::scalar(i64);
    c.leaves.push_back(v);
    writeVar(name, c);
  };

  SmallVector<Value> reads;
  for (const std::string &r : p.reads)
    reads.push_back(readVar(r).single());
  Value overlap = overlapsAny(readVar(p.target).single(), reads);
  Value disjoint = overlap ? logicalNot(overlap) : constBool(true);
  // A short j loop gains nothing from the buffer (tall, narrow products).
  disjoint = B.create<arith::AndIOp>(
      CurLoc, disjoint,
      B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sge,
                              B.create<arith::SubIOp>(CurLoc, stop, start), constInt(8, i64)));
  Block *fast = newBlock(), *slow = newBlock(), *merge = newBlock();
  condBranch(disjoint, fast, slow);

  // Overlapping arrays: the nest as written.
  appendBlock(slow);
  SSA->seal(slow);
  setBlock(slow);
  genLoop(s, counter, start, stop, constInt(1, i64), 1,
          [&](Value j) { bindI64(jName, j); });
  if (Cur)
    branch(merge);

  appendBlock(fast);
  SSA->seal(fast);
  setBlock(fast);
  CurLoc = loc(s.range());
  Value zero = constInt(0, i64);
  Value n = B.create<arith::MaxSIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, stop, start), zero);
  ScalarKind ak = F.vars.at(p.acc).scalarKind();
  auto bufT = mlir::MemRefType::get({mlir::ShapedType::kDynamic}, storageType(Ctx, ak));
  Value buf = B.create<memref::AllocOp>(
      CurLoc, bufT, mlir::ValueRange{B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), n)},
      B.getI64IntegerAttr(64));
  auto at = [&](Value jj) -> SmallVector<Value> {
    return {B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), jj)};
  };
  auto bindJ = [&](Value jj) {
    bindI64(jName, B.create<arith::AddIOp>(CurLoc, start, jj));
  };
  auto loadAcc = [&](Value jj) {
    CGValue c;
    c.type = Type::scalar(ak);
    c.leaves.push_back(loadElement(buf, at(jj), ak));
    writeVar(p.acc, c);
  };
  auto storeAcc = [&](Value jj) { storeElement(readVar(p.acc).single(), buf, at(jj), ak); };

  // for j: T[j] = init
  countedLoop(zero, n, [&](Value jj) {
    bindJ(jj);
    genStmt(*p.init);
    storeAcc(jj);
  });
  // for k: for j: T[j] = update(T[j]); k is assigned only if the j loop runs.
  CurLoc = loc(p.inner->range());
  Block *kB = newBlock(), *afterK = newBlock();
  condBranch(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sgt, n, zero), kB, afterK);
  appendBlock(kB);
  SSA->seal(kB);
  setBlock(kB);
  auto *range = llvm::cast<ast::Call>(p.inner->iter.get());
  SmallVector<Value> bounds;
  for (auto &a : range->args) {
    CGValue v = expr(*a);
    bounds.push_back(castScalar(v.single(), v.type.scalarKind(), i64));
  }
  Value kLo = bounds.size() == 2 ? bounds[0] : zero;
  Value kHi = bounds.back();
  countedLoop(kLo, kHi, [&](Value k) {
    bindI64(kName, k);
    countedLoop(zero, n, [&](Value jj) {
      bindJ(jj);
      loadAcc(jj);
      genStmt(*p.update);
      storeAcc(jj);
    });
  });
  branch(afterK);
  appendBlock(afterK);
  SSA->seal(afterK);
  setBlock(afterK);
  // for j: C[idx] = T[j]
  countedLoop(zero, n, [&](Value jj) {
    bindJ(jj);
    loadAcc(jj);
    genStmt(*p.store);
  });
  CurLoc = loc(s.range());
  B.create<memref::DeallocOp>(CurLoc, buf);
  branch(merge);

  appendBlock(merge);
  SSA->seal(merge);
  setBlock(merge);
}

//===----------------------------------------------------------------------===//
// Random numbers
//===----------------------------------------------------------------------===//

/// One xoshiro256** step on the calling thread's generator (the state that
/// runtime/lib/ParallelRuntime.cpp keeps per thread), inlined so that a
/// draw costs a few instructions: a uniform float64 in [0, 1) from the top
/// 53 bits.
Value FunctionGen::randomUniform() {
  Block *home = AllocaBlock ? AllocaBlock : Entry;
  Value state = RandomStates.lookup(home);
  auto ptrT = mlir::LLVM::LLVMPointerType::get(Ctx);
  if (!state) {
    OpBuilder::InsertionGuard g(B);
    // After the region's _stn_parallel_enter call (or at the function's
    // start): the state of the thread that runs this code.
    if (home == Entry)
      B.setInsertionPointToStart(home);
    else
      B.setInsertionPointAfter(&home->front());
    state = MG.callRuntime(B, CurLoc, "_stn_random_state", {}, {ptrT});
    RandomStates[home] = state;
  }
  mlir::Type i64T = B.getI64Type();
  auto word = [&](int k) -> Value {
    if (k == 0)
      return state;
    return B.create<mlir::LLVM::GEPOp>(CurLoc, ptrT, i64T, state,
                                       llvm::ArrayRef<mlir::LLVM::GEPArg>{k});
  };
  Value w[4], s[4];
  for (int k = 0; k < 4; ++k) {
    w[k] = word(k);
    s[k] = B.create<mlir::LLVM::LoadOp>(CurLoc, i64T, w[k]);
  }
  auto c = [&](int64_t v) { return constInt(v, ScalarKind::I64); };
  auto rotl = [&](Value x, int k) {
    return B.create<arith::OrIOp>(CurLoc, B.create<arith::ShLIOp>(CurLoc, x, c(k)),
                                  B.create<arith::ShRUIOp>(CurLoc, x, c(64 - k)));
  };
  Value result = B.create<arith::MulIOp>(
      CurLoc, rotl(B.create<arith::MulIOp>(CurLoc, s[1], c(5)), 7), c(9));
  Value t = B.create<arith::ShLIOp>(CurLoc, s[1], c(17));
  Value s2 = B.create<arith::XOrIOp>(CurLoc, s[2], s[0]);
  Value s3 = B.create<arith::XOrIOp>(CurLoc, s[3], s[1]);
  Value s1 = B.create<arith::XOrIOp>(CurLoc, s[1], s2);
  Value s0 = B.create<arith::XOrIOp>(CurLoc, s[0], s3);
  s2 = B.create<arith::XOrIOp>(CurLoc, s2, t);
  s3 = rotl(s3, 45);
  Value next[4] = {s0, s1, s2, s3};
  for (int k = 0; k < 4; ++k)
    B.create<mlir::LLVM::StoreOp>(CurLoc, next[k], w[k]);
  Value bits = B.create<arith::ShRUIOp>(CurLoc, result, c(11));
  Value f = B.create<arith::UIToFPOp>(CurLoc, B.getF64Type(), bits);
  return B.create<arith::MulFOp>(CurLoc, f, constFloat(0x1.0p-53, ScalarKind::F64));
}

/// random.* and np.random.*: uniform draws inline (randomUniform), the
/// others through the runtime (runtime/lib/ParallelRuntime.cpp); all use the
/// calling thread's generator. The parameters are evaluated once; an array
/// of draws is filled in order on the calling thread (a seeded kernel gets
/// NumPy's order of draws, though not its numbers).
CGValue FunctionGen::randomCall(const ast::Call &c, const CallInfo &info) {
  CGValue r;
  r.type = F.typeOf(c);
  auto f64 = ScalarKind::F64, i64 = ScalarKind::I64;
  const auto &ops = info.operands;
  // Parameter i, or `otherwise` where the call leaves the default.
  auto param = [&](size_t i, ScalarKind to, Value otherwise) {
    if (!ops[i])
      return otherwise;
    CGValue v = expr(*ops[i]);
    return castScalar(v.single(), v.type.scalarKind(), to);
  };
  mlir::Type f64T = B.getF64Type(), i64T = B.getI64Type();
  std::function<Value()> draw;
  switch (info.builtin) {
  case Builtin::RandomRandom:
    draw = [&] { return randomUniform(); };
    break;
  case Builtin::RandomUniform: {
    // a + (b - a) * U[0, 1), as Python and NumPy compute it.
    Value a = param(0, f64, constFloat(0.0, f64));
    Value b = param(1, f64, constFloat(1.0, f64));
    Value width = B.create<arith::SubFOp>(CurLoc, b, a);
    draw = [&, a, width] {
      return B.create<arith::AddFOp>(
          CurLoc, a, B.create<arith::MulFOp>(CurLoc, width, randomUniform()));
    };
    break;
  }
  case Builtin::RandomNormal: {
    Value mu = param(0, f64, constFloat(0.0, f64));
    Value sigma = param(1, f64, constFloat(1.0, f64));
    draw = [&, mu, sigma] {
      Value z = MG.callRuntime(B, CurLoc, "_stn_random_normal", {}, {f64T});
      return B.create<arith::AddFOp>(CurLoc, mu, B.create<arith::MulFOp>(CurLoc, sigma, z));
    };
    break;
  }
  case Builtin::RandomExponential: {
    // -scale * log(1 - U): 1 - U is in (0, 1], so the log is finite.
    Value negScale = B.create<arith::NegFOp>(CurLoc, param(0, f64, constFloat(1.0, f64)));
    draw = [&, negScale] {
      Value u = B.create<arith::SubFOp>(CurLoc, constFloat(1.0, f64), randomUniform());
      return B.create<arith::MulFOp>(CurLoc, negScale, B.create<math::LogOp>(CurLoc, u));
    };
    break;
  }
  case Builtin::RandomRandint: {
    // random.randint(a, b) includes b; np.random.randint(low, high)
    // excludes it, and np.random.randint(high) draws from [0, high).
    Value lo = param(0, i64, Value()), hi = param(1, i64, Value());
    if (!hi) {
      hi = lo;
      lo = constInt(0, i64);
    }
    Value empty = B.create<arith::CmpIOp>(
        CurLoc, info.viaNumpy ? arith::CmpIPredicate::sle : arith::CmpIPredicate::slt, hi, lo);
    raiseIf(empty, KernelFaultKind::Raise,
            info.viaNumpy ? fmt::format("ValueError: high <= low (low is {0}i, high is {0}i)",
                                        kRaisedValue)
                          : fmt::format("ValueError: empty range in randint({0}i, {0}i)",
                                        kRaisedValue),
            {lo, hi});
    if (info.viaNumpy)
      hi = B.create<arith::SubIOp>(CurLoc, hi, constInt(1, i64));
    draw = [&, lo, hi] {
      return MG.callRuntime(B, CurLoc, "_stn_random_int", {lo, hi}, {i64T});
    };
    break;
  }
  case Builtin::RandomSeed:
    MG.callRuntime(B, CurLoc, "_stn_random_seed", {param(0, i64, Value())}, {});
    return r;
  case Builtin::RandomShuffle:
  case Builtin::RandomPermutation:
  case Builtin::RandomChoice:
    return sampling(info, r.type);
  case Builtin::RandomDistribution: {
    // The parameters as float64 (defaults where not given), checked as
    // NumPy checks them, then one runtime call per draw.
    auto dist = static_cast<RandomDistribution>(info.mode);
    SmallVector<Value, 3> p;
    for (size_t i = 0; i < 3; ++i)
      p.push_back(param(i, f64, constFloat(info.randomDefaults[i], f64)));
    using P = arith::CmpFPredicate;
    auto holds = [&](P pred, Value x, Value y) {
      return B.create<arith::CmpFOp>(CurLoc, pred, x, y).getResult();
    };
    auto zero = constFloat(0.0, f64), one = constFloat(1.0, f64);
    // Raises `text` unless `ok` (NaN parameters fail the ordered tests).
    auto need = [&](Value ok, const char *text) {
      raiseIf(logicalNot(ok), KernelFaultKind::Raise, text, {});
    };
    switch (dist) {
    case RandomDistribution::Gamma:
      need(holds(P::OGE, p[0], zero), "ValueError: shape < 0");
      need(holds(P::OGE, p[1], zero), "ValueError: scale < 0");
      break;
    case RandomDistribution::Beta:
      need(holds(P::OGT, p[0], zero), "ValueError: a <= 0");
      need(holds(P::OGT, p[1], zero), "ValueError: b <= 0");
      break;
    case RandomDistribution::Chisquare:
    case RandomDistribution::StudentT:
      need(holds(P::OGT, p[0], zero), "ValueError: df <= 0");
      break;
    case RandomDistribution::Lognormal:
      need(holds(P::OGE, p[1], zero), "ValueError: sigma < 0");
      break;
    case RandomDistribution::Laplace:
    case RandomDistribution::Logistic:
    case RandomDistribution::Gumbel:
      need(holds(P::OGE, p[1], zero), "ValueError: scale < 0");
      break;
    case RandomDistribution::Rayleigh:
      need(holds(P::OGE, p[0], zero), "ValueError: scale < 0");
      break;
    case RandomDistribution::Weibull:
      need(holds(P::OGE, p[0], zero), "ValueError: a < 0");
      break;
    case RandomDistribution::Pareto:
      need(holds(P::OGT, p[0], zero), "ValueError: a <= 0");
      break;
    case RandomDistribution::Triangular:
      need(holds(P::OLE, p[0], p[1]), "ValueError: left > mode");
      need(holds(P::OLE, p[1], p[2]), "ValueError: mode > right");
      need(holds(P::OLT, p[0], p[2]), "ValueError: left == right");
      break;
    case RandomDistribution::Poisson:
      need(holds(P::OGE, p[0], zero), "ValueError: lam < 0");
      break;
    case RandomDistribution::Binomial:
      need(holds(P::OGE, p[0], zero), "ValueError: n < 0");
      need(B.create<arith::AndIOp>(CurLoc, holds(P::OGE, p[1], zero), holds(P::OLE, p[1], one)),
           "ValueError: p < 0, p > 1 or p is NaN");
      break;
    case RandomDistribution::Geometric:
      need(B.create<arith::AndIOp>(CurLoc, holds(P::OGT, p[0], zero), holds(P::OLE, p[0], one)),
           "ValueError: p <= 0, p > 1 or p contains NaNs");
      break;
    case RandomDistribution::NegativeBinomial:
      need(holds(P::OGT, p[0], zero), "ValueError: n <= 0");
      need(B.create<arith::AndIOp>(CurLoc, holds(P::OGT, p[1], zero), holds(P::OLE, p[1], one)),
           "ValueError: p <= 0, p > 1 or p contains NaNs");
      break;
    default:
      break;
    }
    Value kind = constInt(info.mode, ScalarKind::I32);
    if (isCountDistribution(dist))
      draw = [&, kind, p] {
        return MG.callRuntime(B, CurLoc, "_stn_random_count", {kind, p[0], p[1]}, {i64T});
      };
    else
      draw = [&, kind, p] {
        return MG.callRuntime(B, CurLoc, "_stn_random_real", {kind, p[0], p[1], p[2]}, {f64T});
      };
    break;
  }
  default:
    return r;
  }
  if (!r.type.isArray()) {
    r.leaves.push_back(draw());
    return r;
  }
  SmallVector<Value> shape;
  for (size_t i = randomParameterCount(info.builtin); i < ops.size(); ++i)
    shape.append(shapeOperand(*ops[i]));
  Value out = MG.allocArray(B, CurLoc, r.type, shape);
  forEach(shape, [&](mlir::ValueRange ivs) {
    B.create<memref::StoreOp>(CurLoc, draw(), out, ivs);
  });
  r.leaves.push_back(out);
  return r;
}

/// np.random.shuffle, np.random.permutation and np.random.choice: the
/// Fisher-Yates shuffle (rows along the first axis), uniform positions drawn
/// with _stn_random_int on the calling thread's generator.
CGValue FunctionGen::sampling(const CallInfo &info, const Type &rt) {
  CGValue r;
  r.type = rt;
  const auto &ops = info.operands;
  const ScalarKind i64 = ScalarKind::I64;
  mlir::Type i64T = B.getI64Type();
  // A uniform integer in [lo, hi] (index values).
  auto position = [&](Value lo, Value hi) {
    Value p = MG.callRuntime(B, CurLoc, "_stn_random_int", {indexToI64(lo), indexToI64(hi)},
                             {i64T});
    return toIndex(p, i64);
  };
  auto sub = [&](Value x, Value y) { return B.create<arith::SubIOp>(CurLoc, x, y).getResult(); };
  // Shuffles the rows of `mem` (type `t`) in place: for i = n - 1 down to
  // 1, swap rows i and a uniform j in [0, i].
  auto shuffle = [&](Value mem, const Type &t) {
    ScalarKind k = t.scalarKind();
    SmallVector<Value> rest;
    for (unsigned d = 1; d < t.rank(); ++d)
      rest.push_back(B.create<memref::DimOp>(CurLoc, mem, d));
    Value n = B.create<memref::DimOp>(CurLoc, mem, 0);
    Value steps = B.create<arith::MaxSIOp>(CurLoc, sub(n, constIndex(1)), constIndex(0));
    forEach({steps}, [&](mlir::ValueRange s) {
      Value i = sub(sub(n, constIndex(1)), s[0]);
      Value j = position(constIndex(0), i);
      forEach(rest, [&](mlir::ValueRange ivs) {
        SmallVector<Value> at = {i}, other = {j};
        at.append(ivs.begin(), ivs.end());
        other.append(ivs.begin(), ivs.end());
        Value x = loadElement(mem, at, k), y = loadElement(mem, other, k);
        storeElement(y, mem, at, k);
        storeElement(x, mem, other, k);
      });
    });
  };
  CGValue x = expr(*ops[0]);
  const Type &xt = x.type;
  if (info.builtin == Builtin::RandomShuffle) {
    shuffle(x.single(), xt);
    return r;
  }
  if (info.builtin == Builtin::RandomPermutation) {
    Value out;
    if (xt.isArray()) {
      out = materialize(leaf(x.single(), xt));
    } else {
      // np.arange(n) (no elements for n <= 0, as NumPy's permutation).
      Value n = B.create<arith::MaxSIOp>(CurLoc, castScalar(x.single(), xt.scalarKind(), i64),
                                         constInt(0, i64));
      Value ni = toIndex(n, i64);
      out = MG.allocArray(B, CurLoc, rt, {ni});
      forEach({ni}, [&](mlir::ValueRange i) {
        storeElement(indexToI64(i[0]), out, {i[0]}, i64);
      });
    }
    shuffle(out, rt);
    r.leaves.push_back(out);
    return r;
  }
  // choice(a, size=None, replace=True): positions in [0, n), then a's
  // elements there (a number n: the positions themselves).
  Value n;
  if (xt.isArray())
    n = B.create<memref::DimOp>(CurLoc, x.single(), 0);
  else
    n = toIndex(B.create<arith::MaxSIOp>(CurLoc, castScalar(x.single(), xt.scalarKind(), i64),
                                         constInt(0, i64)),
                i64);
  SmallVector<Value> shape;
  if (ops.size() > 1 && ops[1])
    shape = shapeOperand(*ops[1]);
  Value count = constIndex(1);
  for (Value e : shape)
    count = B.create<arith::MulIOp>(CurLoc, count, e);
  Value none = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, n, constIndex(0));
  Value some = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, count, constIndex(0));
  raiseIf(B.create<arith::AndIOp>(CurLoc, none, some), KernelFaultKind::Raise,
          xt.isArray() ? "ValueError: 'a' cannot be empty unless no samples are taken"
                       : "ValueError: a must be greater than 0 unless no samples are taken",
          {});
  bool replace = info.mode == 0;
  Value pool; // replace=False: the positions, shuffled as they are drawn
  Value failed = B.create<arith::AndIOp>(CurLoc, none, some);
  if (!replace) {
    Value tooMany = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ugt, count, n);
    raiseIf(tooMany, KernelFaultKind::Raise,
            "ValueError: Cannot take a larger sample than population when 'replace=False'", {});
    failed = B.create<arith::OrIOp>(CurLoc, failed, tooMany);
    if (ops.size() < 3) {
      pool = MG.allocArray(B, CurLoc, Type::array(i64, 1, Type::Layout::C), {n});
      forEach({n}, [&](mlir::ValueRange i) {
        storeElement(indexToI64(i[0]), pool, {i[0]}, i64);
      });
    }
  }
  // p=: the weights as float64, checked as NumPy checks them; with
  // replacement their running sums, scaled to end at 1.
  const ScalarKind f64 = ScalarKind::F64;
  Value weights, total;
  if (ops.size() > 2) {
    const ScalarKind pk = F.typeOf(*ops[2]).scalarKind();
    weights = materialize(converted(lazy(*ops[2]), f64));
    Value differ = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne,
                                           B.create<memref::DimOp>(CurLoc, weights, 0), n);
    raiseIf(differ, KernelFaultKind::Raise, "ValueError: 'a' and 'p' must have same size", {});
    failed = B.create<arith::OrIOp>(CurLoc, failed, differ);
    n = B.create<arith::SelectOp>(CurLoc, differ, constIndex(0), n);
    Value sum = entryAlloca(B.getF64Type()), nan = entryAlloca(B.getI1Type()),
          negative = entryAlloca(B.getI1Type()), positive = entryAlloca(B.getIndexType());
    B.create<memref::StoreOp>(CurLoc, constFloat(0, f64), sum);
    B.create<memref::StoreOp>(CurLoc, constBool(false), nan);
    B.create<memref::StoreOp>(CurLoc, constBool(false), negative);
    B.create<memref::StoreOp>(CurLoc, constIndex(0), positive);
    auto update = [&](Value slot, Value v) { B.create<memref::StoreOp>(CurLoc, v, slot); };
    auto load = [&](Value slot) { return B.create<memref::LoadOp>(CurLoc, slot).getResult(); };
    auto cmpf = [&](arith::CmpFPredicate pr, Value x, Value y) {
      return B.create<arith::CmpFOp>(CurLoc, pr, x, y).getResult();
    };
    Value zero = constFloat(0, f64);
    forEach({n}, [&](mlir::ValueRange i) {
      Value w = loadElement(weights, {i[0]}, f64);
      update(nan, B.create<arith::OrIOp>(CurLoc, load(nan),
                                         cmpf(arith::CmpFPredicate::UNO, w, w)));
      update(negative, B.create<arith::OrIOp>(CurLoc, load(negative),
                                              cmpf(arith::CmpFPredicate::OLT, w, zero)));
      Value pos = B.create<arith::SelectOp>(CurLoc, cmpf(arith::CmpFPredicate::OGT, w, zero),
                                            constIndex(1), constIndex(0));
      update(positive, B.create<arith::AddIOp>(CurLoc, load(positive), pos));
      Value s = B.create<arith::AddFOp>(CurLoc, load(sum), w);
      update(sum, s);
      if (replace) // the running sum, in place
        storeElement(s, weights, {i[0]}, f64);
    });
    // NumPy's tolerance: the square root of float64's epsilon, or of
    // float32's for float32 probabilities.
    double atol = std::sqrt(pk == ScalarKind::F32 ? double(std::numeric_limits<float>::epsilon())
                                                  : std::numeric_limits<double>::epsilon());
    total = load(sum);
    Value off = B.create<math::AbsFOp>(CurLoc,
                                       B.create<arith::SubFOp>(CurLoc, total, constFloat(1, f64)));
    SmallVector<std::pair<Value, const char *>> checks = {
        {load(nan), "ValueError: probabilities contain NaN"},
        {load(negative), "ValueError: probabilities are not non-negative"},
        {cmpf(arith::CmpFPredicate::OGT, off, constFloat(atol, f64)),
         "ValueError: probabilities do not sum to 1"}};
    if (!replace)
      checks.push_back({B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult,
                                                load(positive), count),
                        "ValueError: Fewer non-zero entries in p than size"});
    for (auto [bad, text] : checks) {
      bad = B.create<arith::AndIOp>(CurLoc, bad, logicalNot(failed)); // the first error only
      raiseIf(bad, KernelFaultKind::Raise, text, {});
      failed = B.create<arith::OrIOp>(CurLoc, failed, bad);
    }
    if (replace) {
      forEach({n}, [&](mlir::ValueRange i) {
        Value c = loadElement(weights, {i[0]}, f64);
        storeElement(B.create<arith::DivFOp>(CurLoc, c, total), weights, {i[0]}, f64);
      });
    } else {
      Value left = entryAlloca(B.getF64Type()); // the weight not drawn yet
      B.create<memref::StoreOp>(CurLoc, total, left);
      total = left;
    }
  }
  // Without replacement, by weight: the first position whose running sum
  // of the weights left passes a uniform draw of their total (the last
  // positive one where rounding leaves none); its weight then drops out.
  auto weightedPosition = [&]() -> Value {
    Value u = B.create<arith::MulFOp>(
        CurLoc, MG.callRuntime(B, CurLoc, "_stn_random_uniform", {}, {B.getF64Type()}),
        B.create<memref::LoadOp>(CurLoc, total));
    Value acc = entryAlloca(B.getF64Type()), pick = entryAlloca(B.getIndexType()),
          last = entryAlloca(B.getIndexType());
    Value unset = B.create<arith::ConstantIndexOp>(CurLoc, -1);
    B.create<memref::StoreOp>(CurLoc, constFloat(0, f64), acc);
    B.create<memref::StoreOp>(CurLoc, unset, pick);
    B.create<memref::StoreOp>(CurLoc, unset, last);
    forEach({n}, [&](mlir::ValueRange i) {
      Value w = loadElement(weights, {i[0]}, f64);
      Value live = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OGT, w,
                                           constFloat(0, f64));
      Value a = B.create<arith::AddFOp>(CurLoc, B.create<memref::LoadOp>(CurLoc, acc), w);
      B.create<memref::StoreOp>(CurLoc, a, acc);
      Value p = B.create<memref::LoadOp>(CurLoc, pick);
      Value hit = B.create<arith::AndIOp>(
          CurLoc, B.create<arith::AndIOp>(CurLoc, live,
                                          B.create<arith::CmpFOp>(
                                              CurLoc, arith::CmpFPredicate::OGT, a, u)),
          B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, p, unset));
      B.create<memref::StoreOp>(CurLoc, B.create<arith::SelectOp>(CurLoc, hit, i[0], p), pick);
      Value l = B.create<memref::LoadOp>(CurLoc, last);
      B.create<memref::StoreOp>(CurLoc, B.create<arith::SelectOp>(CurLoc, live, i[0], l), last);
    });
    Value p = B.create<memref::LoadOp>(CurLoc, pick);
    p = B.create<arith::SelectOp>(
        CurLoc, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, p, unset),
        B.create<memref::LoadOp>(CurLoc, last), p);
    Value w = loadElement(weights, {p}, f64);
    B.create<memref::StoreOp>(
        CurLoc, B.create<arith::SubFOp>(CurLoc, B.create<memref::LoadOp>(CurLoc, total), w),
        total);
    storeElement(constFloat(0, f64), weights, {p}, f64);
    return p;
  };
  Value drawn = entryAlloca(B.getIndexType());
  B.create<memref::StoreOp>(CurLoc, constIndex(0), drawn);
  ScalarKind rk = rt.scalarKind();
  auto draw = [&]() -> Value {
    Value p;
    if (weights && replace) {
      Value u = MG.callRuntime(B, CurLoc, "_stn_random_uniform", {}, {B.getF64Type()});
      p = B.create<arith::MinUIOp>(CurLoc, searchSorted(weights, f64, n, u, f64, true),
                                   sub(n, constIndex(1)));
    } else if (weights) {
      p = weightedPosition();
    } else if (replace) {
      p = position(constIndex(0), sub(n, constIndex(1)));
    } else {
      // Partial Fisher-Yates: swap a uniform one of pool[t:] into pool[t].
      Value t = B.create<memref::LoadOp>(CurLoc, drawn);
      Value j = position(t, sub(n, constIndex(1)));
      Value a = loadElement(pool, {t}, i64), b = loadElement(pool, {j}, i64);
      storeElement(b, pool, {t}, i64);
      storeElement(a, pool, {j}, i64);
      B.create<memref::StoreOp>(CurLoc, B.create<arith::AddIOp>(CurLoc, t, constIndex(1)),
                                drawn);
      p = toIndex(b, i64);
    }
    if (xt.isArray())
      return loadElement(x.single(), {p}, rk);
    return indexToI64(p);
  };
  if (!rt.isArray()) {
    // One draw; where the check above failed and returned, nothing is read.
    Value v = emitIf(B.create<arith::OrIOp>(CurLoc, none, failed), {scalarType(Ctx, rk)},
                     [&] { return SmallVector<Value>{zeroOf(Type::scalar(rk))}; },
                     [&] { return SmallVector<Value>{draw()}; })[0];
    r.leaves.push_back(v);
  } else {
    Value out = MG.allocArray(B, CurLoc, rt, shape);
    ifThen(logicalNot(failed), [&] {
      forEach(shape, [&](mlir::ValueRange ivs) {
        storeElement(draw(), out, SmallVector<Value>(ivs.begin(), ivs.end()), rk);
      });
    });
    r.leaves.push_back(out);
  }
  for (Value t : {pool, weights})
    if (t)
      B.create<memref::DeallocOp>(CurLoc, t);
  return r;
}

//===----------------------------------------------------------------------===//
// Parallel prange loops
//===----------------------------------------------------------------------===//

/// A rough count of the operations one execution of `b` performs, to decide
/// whether a loop is worth a thread team: nested loops count 16 times,
/// array-valued expressions (hidden loops) 64 times.
/// Whether `e` can be evaluated before the parallel loop, cheaply and
/// without side effects or faults: integer literals, scalar names the loop
/// does not assign, `len(a)`, `a.shape[k]`, and + - * of those.
bool FunctionGen::invariantCount(const ast::Expr &e, const std::set<std::string> &variant) {
  if (!F.typeOf(e).isScalar() || !isInteger(F.typeOf(e).scalarKind()))
    return false;
  if (isa<ast::IntLit>(&e))
    return true;
  // (Not a local that may hold None: reading it early could raise.)
  if (auto *n = dyn_cast<ast::Name>(&e))
    return !variant.count(n->id) && F.vars.count(n->id) && !F.optionals.count(n->id);
  if (auto *b = dyn_cast<ast::BinOp>(&e))
    return (b->op == ast::BinOpKind::Add || b->op == ast::BinOpKind::Sub ||
            b->op == ast::BinOpKind::Mul) &&
           invariantCount(*b->lhs, variant) && invariantCount(*b->rhs, variant);
  auto arrayName = [&](const ast::Expr &a) {
    auto *n = dyn_cast<ast::Name>(&a);
    return n && !variant.count(n->id) && F.typeOf(a).isArray() && !F.optionals.count(n->id);
  };
  if (auto *s = dyn_cast<ast::Subscript>(&e))
    if (auto *at = dyn_cast<ast::Attribute>(s->value.get()))
      return at->attr == "shape" && arrayName(*at->value) && isa<ast::IntLit>(s->index.get());
  if (auto *c = dyn_cast<ast::Call>(&e)) {
    auto it = F.calls.find(c);
    return it != F.calls.end() && it->second.kind == CallInfo::Kind::Builtin &&
           it->second.builtin == Builtin::Len && c->args.size() == 1 && arrayName(*c->args[0]);
  }
  return false;
}

Value FunctionGen::dynamicWork(const ast::For &loop) {
  std::set<std::string> variant;
  ast::collectAssigned(loop.body, variant);
  if (auto *t = dyn_cast<ast::Name>(loop.target.get()))
    variant.insert(t->id);
  bool any = false;
  std::function<Value(const ast::Block &)> work = [&](const ast::Block &b) -> Value {
    int64_t fixed = 0;
    Value dyn;
    for (auto &sp : b) {
      auto *f = dyn_cast<ast::For>(sp.get());
      auto info = f ? F.loops.find(f) : F.loops.end();
      auto *range = f ? dyn_cast<ast::Call>(f->iter.get()) : nullptr;
      bool counted = info != F.loops.end() && info->second.kind == ForInfo::Kind::Range &&
                     range && !range->args.empty() && range->args.size() <= 2;
      for (size_t i = 0; counted && i < range->args.size(); ++i)
        counted = invariantCount(*range->args[i], variant);
      if (!counted) {
        fixed += workEstimate(*sp);
        continue;
      }
      // range(stop) or range(start, stop): max(stop - start, 0) trips,
      // capped so that the product cannot overflow.
      any = true;
      auto asIndex = [&](const ast::Expr &x) {
        CGValue v = expr(x);
        return toIndex(v.single(), v.type.scalarKind());
      };
      Value stop = asIndex(*range->args.back());
      Value start = range->args.size() == 2 ? asIndex(*range->args[0]) : constIndex(0);
      Value trips = B.create<arith::SubIOp>(CurLoc, stop, start);
      trips = B.create<arith::MaxSIOp>(CurLoc, trips, constIndex(0));
      trips = B.create<arith::MinSIOp>(CurLoc, trips, constIndex(int64_t(1) << 20));
      Value body = B.create<arith::MinSIOp>(CurLoc, work(f->body), constIndex(int64_t(1) << 20));
      Value term = B.create<arith::MulIOp>(CurLoc, trips, body);
      dyn = dyn ? B.create<arith::AddIOp>(CurLoc, dyn, term).getResult() : term;
      fixed += 1;
    }
    Value c = constIndex(fixed);
    return dyn ? B.create<arith::AddIOp>(CurLoc, dyn, c).getResult() : c;
  };
  Value w = work(loop.body);
  return any ? w : Value();
}

int64_t FunctionGen::workEstimate(const ast::Block &b) {
  int64_t n = 0;
  for (auto &sp : b)
    n += workEstimate(*sp);
  return std::min<int64_t>(n, int64_t(1) << 30);
}

int64_t FunctionGen::workEstimate(const ast::Stmt &s) {
  int64_t n = 1;
  if (auto *a = dyn_cast<ast::Assign>(&s)) {
    n += workEstimate(a->value.get());
    for (auto &t : a->targets)
      n += workEstimate(t.get());
  } else if (auto *aa = dyn_cast<ast::AugAssign>(&s)) {
    n += workEstimate(aa->value.get()) + workEstimate(aa->target.get());
  } else if (auto *es = dyn_cast<ast::ExprStmt>(&s)) {
    n += workEstimate(es->value.get());
  } else if (auto *i = dyn_cast<ast::If>(&s)) {
    n += workEstimate(i->cond.get()) + std::max(workEstimate(i->body), workEstimate(i->orelse));
  } else if (auto *w = dyn_cast<ast::While>(&s)) {
    // Loops whose trip count is not known here count 16 iterations
    // (dynamicWork counts range() loops with bounds known before a
    // parallel loop exactly).
    n += 16 * (workEstimate(w->cond.get()) + workEstimate(w->body));
  } else if (auto *f = dyn_cast<ast::For>(&s)) {
    n += 16 * workEstimate(f->body);
  } else if (auto *r = dyn_cast<ast::Return>(&s)) {
    n += workEstimate(r->value.get());
  } else if (auto *as = dyn_cast<ast::Assert>(&s)) {
    n += workEstimate(as->test.get());
  }
  return std::min<int64_t>(n, int64_t(1) << 30);
}

int64_t FunctionGen::workEstimate(const ast::Expr *e) {
  if (!e)
    return 0;
  int64_t n = 1;
  auto add = [&](const ast::Expr *c) { n += workEstimate(c); };
  switch (e->kind()) {
  case ast::Expr::Kind::Attribute:
    add(static_cast<const ast::Attribute *>(e)->value.get());
    break;
  case ast::Expr::Kind::Subscript:
    add(static_cast<const ast::Subscript *>(e)->value.get());
    add(static_cast<const ast::Subscript *>(e)->index.get());
    break;
  case ast::Expr::Kind::Call: {
    auto *c = static_cast<const ast::Call *>(e);
    for (auto &a : c->args)
      add(a.get());
    // A call of another kernel or a math function: a few dozen operations.
    n += 16;
    break;
  }
  case ast::Expr::Kind::BinOp:
    add(static_cast<const ast::BinOp *>(e)->lhs.get());
    add(static_cast<const ast::BinOp *>(e)->rhs.get());
    break;
  case ast::Expr::Kind::UnaryOp:
    add(static_cast<const ast::UnaryOp *>(e)->operand.get());
    break;
  case ast::Expr::Kind::Compare:
    for (auto &o : static_cast<const ast::Compare *>(e)->operands)
      add(o.get());
    break;
  case ast::Expr::Kind::BoolOp:
    for (auto &o : static_cast<const ast::BoolOp *>(e)->values)
      add(o.get());
    break;
  case ast::Expr::Kind::IfExp:
    add(static_cast<const ast::IfExp *>(e)->cond.get());
    add(static_cast<const ast::IfExp *>(e)->body.get());
    add(static_cast<const ast::IfExp *>(e)->orelse.get());
    break;
  case ast::Expr::Kind::Tuple:
    for (auto &o : static_cast<const ast::Tuple *>(e)->elts)
      add(o.get());
    break;
  default:
    break;
  }
  if (F.typeOf(*e).isArray() && !isa<ast::Name>(e))
    n *= 64;
  return std::min<int64_t>(n, int64_t(1) << 30);
}

/// The value a thread's partial result starts from: x op identity == x.
Value FunctionGen::reduceIdentity(ReduceOp op, ScalarKind k) {
  switch (op) {
  case ReduceOp::Add:
  case ReduceOp::Or:
  case ReduceOp::Xor:
    return zeroOf(Type::scalar(k));
  case ReduceOp::Mul:
    return isComplex(k) ? castScalar(constInt(1, ScalarKind::I64), ScalarKind::I64, k)
                        : constFloatOrInt(1, k);
  case ReduceOp::And:
    return isBool(k) ? constBool(true) : constInt(-1, k);
  case ReduceOp::Min:
  case ReduceOp::Max: {
    bool mn = op == ReduceOp::Min;
    if (isFloat(k))
      return constFloat(mn ? INFINITY : -INFINITY, k);
    if (isBool(k))
      return constBool(mn);
    if (isSignedInt(k)) {
      // The largest / smallest value of the type, without signed overflow.
      int64_t mx = static_cast<int64_t>((uint64_t(1) << (bitWidth(k) - 1)) - 1);
      return constInt(mn ? mx : -mx - 1, k);
    }
    return constInt(mn ? -1 : 0, k);
  }
  }
  return zeroOf(Type::scalar(k));
}

/// Combines two partial results of a reduction (as the serial update would:
/// min/max keep the first operand unless the second is smaller/larger).
Value FunctionGen::reduceCombine(ReduceOp op, Value a, Value b, ScalarKind k) {
  switch (op) {
  case ReduceOp::Add:
    return arith2(ast::BinOpKind::Add, a, b, k, CurLoc);
  case ReduceOp::Mul:
    return arith2(ast::BinOpKind::Mul, a, b, k, CurLoc);
  case ReduceOp::Or:
    return arith2(ast::BinOpKind::BitOr, a, b, k, CurLoc);
  case ReduceOp::And:
    return arith2(ast::BinOpKind::BitAnd, a, b, k, CurLoc);
  case ReduceOp::Xor:
    return arith2(ast::BinOpKind::BitXor, a, b, k, CurLoc);
  case ReduceOp::Min:
  case ReduceOp::Max: {
    Value better = compare1(op == ReduceOp::Min ? ast::CmpOpKind::Lt : ast::CmpOpKind::Gt, b, k,
                            a, k);
    return B.create<arith::SelectOp>(CurLoc, better, b, a);
  }
  }
  return a;
}

/// A prange loop in a parallel=True kernel. The iterations [0, n) are split
/// into chunks that the threads of an OpenMP team take in turn
/// (ModuleGen::planParallel); inside the region, each chunk runs as a serial
/// loop generated like any other (so it vectorizes), with every reduction
/// variable starting from its identity (the first chunk: from its value
/// before the loop) and its partial result stored per chunk. After the
/// region the partials are combined in chunk order, so the result does not
/// depend on which thread ran which chunk, and with one chunk it is exactly
/// the serial result. Other variables the body assigns are private: each
/// thread starts from their values before the loop, and after the loop they
/// have those values again.
void FunctionGen::genParallelFor(const ast::For &s, const ForInfo &info, Value start, Value stop,
                                 Value step) {
  auto *target = llvm::cast<ast::Name>(s.target.get());
  Location l = CurLoc;
  auto i64 = ScalarKind::I64;
  Value n64 = tripCount(start, stop, step);
  Value n = B.create<arith::IndexCastOp>(l, B.getIndexType(), n64);

  ModuleGen::ParallelPlan plan = MG.planParallel(B, l, n, workEstimate(s.body),
                                                 MG.chunkCounter(B, l), dynamicWork(s));
  if (MG.Log)
    MG.Log->parallelLoops.push_back(
        {&F, &s, workEstimate(s.body), ModuleGen::kMinParallelWork});

  // Each reduction's value before the loop and its per-chunk partials.
  struct Red {
    const Reduction *r;
    ScalarKind k;
    Value init;
    Value partials;
  };
  std::vector<Red> reds;
  for (const Reduction &r : info.reductions) {
    Type t = F.vars.at(r.var);
    Red red{&r, t.scalarKind(), readVar(r.var).single(), Value()};
    auto mt = mlir::MemRefType::get({ModuleGen::kMaxChunks}, storageType(Ctx, red.k));
    {
      OpBuilder::InsertionGuard g(B);
      B.setInsertionPointToStart(Entry);
      red.partials = B.create<memref::AllocaOp>(l, mt);
    }
    reds.push_back(red);
  }

  Block *regionEntry;
  Value prev;
  Block *outer = Cur;
  mlir::omp::ParallelOp par = MG.openParallel(B, l, plan, regionEntry, prev);
  mlir::Region *savedRegion = Region;
  Block *savedAlloca = AllocaBlock;
  std::vector<LoopTargets> savedLoops;
  savedLoops.swap(Loops);
  Region = &par.getRegion();
  AllocaBlock = regionEntry;
  ++ParallelDepth;
  SSA->setRegionParent(regionEntry, outer);
  SSA->seal(regionEntry);
  setBlock(regionEntry);
  // Values from before the loop are shared by the team: a thread frees
  // only arrays it allocated itself.
  for (auto &name : UniqueArrays)
    SSA->write(ownedFlag(name), Cur, constBool(false));

  // grab: take the next chunk; chunk: [lo, hi) as a serial loop.
  Block *grab = newBlock(), *chunkStart = newBlock(), *header = newBlock(), *body = newBlock(),
        *latch = newBlock(), *chunkEnd = newBlock(), *done = newBlock();
  branch(grab);
  appendBlock(grab);
  setBlock(grab);
  Value one = B.create<arith::ConstantIntOp>(l, 1, 64);
  Value c64 = B.create<memref::AtomicRMWOp>(l, arith::AtomicRMWKind::addi, one, plan.counter,
                                            mlir::ValueRange{});
  Value c = B.create<arith::IndexCastOp>(l, B.getIndexType(), c64);
  condBranch(B.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, c, plan.nChunks), chunkStart,
             done);

  appendBlock(chunkStart);
  SSA->seal(chunkStart);
  setBlock(chunkStart);
  Value lo = B.create<arith::MulIOp>(l, c, plan.chunk);
  Value hi = B.create<arith::MinSIOp>(l, n, B.create<arith::AddIOp>(l, lo, plan.chunk));
  Value lo64 = B.create<arith::IndexCastOp>(l, B.getI64Type(), lo);
  Value hi64 = B.create<arith::IndexCastOp>(l, B.getI64Type(), hi);
  Value first = B.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, c, constIndex(0));
  for (auto &r : reds) {
    CGValue v;
    v.type = Type::scalar(r.k);
    v.leaves.push_back(B.create<arith::SelectOp>(l, first, r.init, reduceIdentity(r.r->op, r.k)));
    writeVar(r.r->var, v);
  }
  std::string counter = fmt::format("$pk{}", Counter++);
  VarTypes[counter] = Type::scalar(i64);
  SSA->write(counter, Cur, lo64);
  branch(header);

  appendBlock(header);
  setBlock(header);
  Value k = SSA->read(counter, header);
  condBranch(B.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, k, hi64), body, chunkEnd);

  appendBlock(body);
  SSA->seal(body);
  setBlock(body);
  {
    CGValue iv;
    iv.type = Type::scalar(i64);
    iv.leaves.push_back(B.create<arith::AddIOp>(l, start, B.create<arith::MulIOp>(l, k, step)));
    writeVar(target->id, iv);
  }
  Loops.push_back({latch, chunkEnd});
  genBlock(s.body);
  Loops.pop_back();
  if (Cur)
    branch(latch);

  appendBlock(latch);
  SSA->seal(latch);
  setBlock(latch);
  CurLoc = l;
  auto next = B.create<arith::AddIOp>(l, SSA->read(counter, latch), constInt(1, i64));
  next.setOverflowFlags(arith::IntegerOverflowFlags::nsw);
  SSA->write(counter, latch, next);
  branch(header);
  SSA->seal(header);

  appendBlock(chunkEnd);
  SSA->seal(chunkEnd);
  setBlock(chunkEnd);
  for (auto &r : reds) {
    Value v = readVar(r.r->var).single();
    storeElement(v, r.partials, {c}, r.k);
  }
  branch(grab);
  SSA->seal(grab);

  appendBlock(done);
  SSA->seal(done);
  setBlock(done);
  MG.closeParallel(B, l, prev);

  // Back after the region, in the block that contains it.
  --ParallelDepth;
  Loops.swap(savedLoops);
  AllocaBlock = savedAlloca;
  Region = savedRegion;
  setBlock(outer);
  // An error raised on a thread of the team is reported now (KernelFaults.h).
  MG.callRuntime(B, l, "_stn_check_raised", {}, {});

  // Combine the partials in chunk order: p[0] op p[1] op ... (p[0] started
  // from the value before the loop); no chunks: the value before the loop.
  for (auto &r : reds) {
    Value any = B.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, plan.nChunks, constIndex(0));
    auto ifOp = B.create<scf::IfOp>(l, scalarType(Ctx, r.k), any, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard g(B);
      B.setInsertionPointToStart(&ifOp.getThenRegion().front());
      Value acc = loadElement(r.partials, {constIndex(0)}, r.k);
      auto loop = B.create<scf::ForOp>(l, constIndex(1), plan.nChunks, constIndex(1),
                                       mlir::ValueRange{acc});
      B.setInsertionPointToStart(loop.getBody());
      Value p = loadElement(r.partials, {loop.getInductionVar()}, r.k);
      Value combined = reduceCombine(r.r->op, loop.getRegionIterArgs()[0], p, r.k);
      B.create<scf::YieldOp>(l, combined);
      B.setInsertionPointAfter(loop);
      B.create<scf::YieldOp>(l, loop.getResult(0));
      B.setInsertionPointToStart(&ifOp.getElseRegion().front());
      B.create<scf::YieldOp>(l, r.init);
    }
    CGValue v;
    v.type = Type::scalar(r.k);
    v.leaves.push_back(ifOp.getResult(0));
    writeVar(r.r->var, v);
  }
}

Value FunctionGen::tripCount(Value start, Value stop, Value step) {
  // Sema rejects a zero step written as a constant; a zero step computed at
  // run time counts as 1.
  Location l = CurLoc;
  auto i64 = ScalarKind::I64;
  Value zero64 = constInt(0, i64);
  Value pos = B.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, step, zero64);
  Value diff = B.create<arith::SubIOp>(l, stop, start);
  Value num = B.create<arith::SelectOp>(l, pos, diff, B.create<arith::SubIOp>(l, zero64, diff));
  Value den = B.create<arith::SelectOp>(l, pos, step, B.create<arith::SubIOp>(l, zero64, step));
  den = B.create<arith::MaxSIOp>(l, den, constInt(1, i64));
  return B.create<arith::MaxSIOp>(l, B.create<arith::CeilDivSIOp>(l, num, den), zero64);
}

//===----------------------------------------------------------------------===//
// GPU regions of target="cuda" kernels (GpuRegions.h)
//===----------------------------------------------------------------------===//

Value FunctionGen::toSlot(Value v, ScalarKind k) {
  auto i64 = B.getI64Type();
  if (k == ScalarKind::F64)
    return B.create<arith::BitcastOp>(CurLoc, i64, v);
  if (k == ScalarKind::F32)
    v = B.create<arith::BitcastOp>(CurLoc, B.getI32Type(), v);
  if (v.getType() == i64)
    return v;
  return B.create<arith::ExtUIOp>(CurLoc, i64, v);
}

Value FunctionGen::fromSlot(Value v, ScalarKind k) {
  if (k == ScalarKind::F64)
    return B.create<arith::BitcastOp>(CurLoc, B.getF64Type(), v);
  if (k == ScalarKind::F32)
    return B.create<arith::BitcastOp>(
        CurLoc, B.getF32Type(), B.create<arith::TruncIOp>(CurLoc, B.getI32Type(), v));
  mlir::Type t = scalarType(Ctx, k);
  return t == v.getType() ? v : B.create<arith::TruncIOp>(CurLoc, t, v).getResult();
}

/// The host side of a GPU region: the grid loops' bounds and every
/// parameter of the region's kernel go into 8-byte slots on the stack, and
/// `_stn_gpu_launch` launches it (GpuRegions.h has the layout). The
/// reductions come back in their slots.
void FunctionGen::genGpuLaunch(const ast::For &s, Value start, Value stop, Value step) {
  size_t index = 0;
  while (index < F.gpuRegions.size() && F.gpuRegions[index].loops.front() != &s)
    ++index;
  if (index == F.gpuRegions.size()) {
    Diags.error(F.file, s.range(), "internal compiler error: a GPU loop was not planned");
    Failed = true;
    return;
  }
  const GpuRegion &r = F.gpuRegions[index];
  Location l = CurLoc;
  auto i64 = ScalarKind::I64;
  // Bounds of the grid loops, outermost first (the inner ones' bounds do
  // not depend on the outer loops: GpuRegions.cpp).
  SmallVector<Value> starts{start}, steps{step}, counts;
  counts.push_back(tripCount(start, stop, step));
  for (size_t d = 1; d < r.loops.size(); ++d) {
    auto [lo, hi, st] = rangeBounds(*llvm::cast<ast::Call>(r.loops[d]->iter.get()));
    starts.push_back(lo);
    steps.push_back(st);
    counts.push_back(tripCount(lo, hi, st));
  }
  unsigned paramSlots = gpuRegionParamSlots(*r.kernel);
  unsigned cells = gpuRegionReductionCells(r, F);
  unsigned total = paramSlots + cells;
  Value slots;
  {
    OpBuilder::InsertionGuard g(B);
    B.setInsertionPointToStart(Entry);
    slots = B.create<memref::AllocaOp>(
        l, mlir::MemRefType::get({std::max<int64_t>(total, 1)}, B.getI64Type()));
  }
  unsigned k = 0;
  auto put = [&](Value v64) {
    auto st = B.create<memref::StoreOp>(l, v64, slots, mlir::ValueRange{constIndex(k++)});
    st->setAttr(ModuleGen::GpuLaunchAttr, B.getUnitAttr());
  };
  auto asI64 = [&](Value idx) { return B.create<arith::IndexCastOp>(l, B.getI64Type(), idx); };
  // A complex value takes two slots, its parts (GpuRegions.h).
  auto putScalar = [&](Value v, ScalarKind sk) {
    if (!isComplex(sk)) {
      put(toSlot(v, sk));
      return;
    }
    put(toSlot(B.create<complex::ReOp>(l, v), complexPart(sk)));
    put(toSlot(B.create<complex::ImOp>(l, v), complexPart(sk)));
  };
  for (const std::string &name : r.freeVars) {
    CGValue v = readVar(name);
    std::vector<Type> leafTs;
    v.type.collectLeaves(leafTs);
    for (size_t i = 0; i < v.leaves.size(); ++i) {
      Value leaf = v.leaves[i];
      if (leafTs[i].isArray()) {
        Value ptr = asI64(B.create<memref::ExtractAlignedPointerAsIndexOp>(l, leaf));
        auto md = B.create<memref::ExtractStridedMetadataOp>(l, leaf);
        put(ptr); // allocated
        put(ptr); // aligned
        put(asI64(md.getOffset()));
        for (Value sz : md.getSizes())
          put(asI64(sz));
        for (Value st : md.getStrides())
          put(asI64(st));
      } else {
        putScalar(leaf, leafTs[i].scalarKind());
      }
    }
  }
  for (size_t d = 0; d < r.loops.size(); ++d) {
    put(starts[d]);
    put(steps[d]);
    put(counts[d]);
  }
  for (const Reduction &red : r.reductions)
    putScalar(readVar(red.var).single(), F.vars.at(red.var).scalarKind());
  Value addr = asI64(B.create<memref::ExtractAlignedPointerAsIndexOp>(l, slots));
  SmallVector<Value> args{constInt(static_cast<int64_t>(index), i64), addr};
  for (size_t d = 0; d < 3; ++d)
    args.push_back(d < counts.size() ? counts[d] : constInt(1, i64));
  MG.callRuntime(B, l, GpuLaunchFunction, args, {});
  unsigned cell = paramSlots;
  auto get = [&](ScalarKind sk) {
    auto ld = B.create<memref::LoadOp>(l, slots, mlir::ValueRange{constIndex(cell++)});
    ld->setAttr(ModuleGen::GpuLaunchAttr, B.getUnitAttr());
    return fromSlot(ld, sk);
  };
  for (const Reduction &red : r.reductions) {
    CGValue v;
    v.type = F.vars.at(red.var);
    ScalarKind sk = v.type.scalarKind();
    if (isComplex(sk)) {
      Value re = get(complexPart(sk));
      Value im = get(complexPart(sk));
      v.leaves.push_back(B.create<complex::CreateOp>(l, scalarType(Ctx, sk), re, im));
    } else {
      v.leaves.push_back(get(sk));
    }
    writeVar(red.var, v);
  }
}

void FunctionGen::atomicCombine(ReduceOp op, Value mem, Value bits, Value partial,
                                ScalarKind k) {
  Location l = CurLoc;
  Value zero = constIndex(0);
  if (op == ReduceOp::Add && !isBool(k) && bitWidth(k) >= 32) {
    auto kind = isFloat(k) ? arith::AtomicRMWKind::addf : arith::AtomicRMWKind::addi;
    B.create<memref::AtomicRMWOp>(l, kind, partial, mem, mlir::ValueRange{zero});
    return;
  }
  // Everything else: a compare-and-swap loop (on the integer view) around
  // the serial combine.
  auto rmw = B.create<memref::GenericAtomicRMWOp>(l, bits, mlir::ValueRange{zero});
  OpBuilder::InsertionGuard g(B);
  B.setInsertionPointToStart(rmw.getBody());
  Value cur = rmw.getCurrentValue();
  mlir::Type intT = cur.getType();
  if (isBool(k))
    cur = B.create<arith::TruncIOp>(l, B.getI1Type(), cur);
  else if (isFloat(k))
    cur = B.create<arith::BitcastOp>(l, scalarType(Ctx, k), cur);
  Value next = reduceCombine(op, cur, partial, k);
  if (isBool(k))
    next = B.create<arith::ExtUIOp>(l, intT, next);
  else if (isFloat(k))
    next = B.create<arith::BitcastOp>(l, intT, next);
  B.create<memref::AtomicYieldOp>(l, next);
}

bool FunctionGen::generateRegionKernel(func::FuncOp body) {
  const GpuRegion &r = F.regionHost->gpuRegions[F.regionIndex];
  Func = MG.funcFor(&F);
  Region = &Func.getBody();
  Entry = Func.addEntryBlock();
  AllocaBlock = Entry;
  B.setInsertionPointToEnd(Entry);
  auto [line, col] = F.file->lineCol(r.loops.front()->range().begin);
  CurLoc = mlir::FileLineColLoc::get(Ctx, F.file->name(), line, col);
  Location l = CurLoc;
  unsigned argNo = 0;
  // The free variables' leaves; complex ones come as two floats.
  SmallVector<Value> free;
  for (const std::string &name : r.freeVars) {
    std::vector<Type> leafTs;
    F.vars.at(name).collectLeaves(leafTs);
    for (const Type &t : leafTs) {
      if (t.isScalar() && isComplex(t.scalarKind())) {
        Value re = Entry->getArgument(argNo++);
        Value im = Entry->getArgument(argNo++);
        free.push_back(B.create<complex::CreateOp>(l, scalarType(Ctx, t.scalarKind()), re, im));
      } else {
        free.push_back(Entry->getArgument(argNo++));
      }
    }
  }
  unsigned D = static_cast<unsigned>(r.loops.size());
  SmallVector<Value> starts, steps, lbs, ubs;
  for (unsigned d = 0; d < D; ++d) {
    starts.push_back(Entry->getArgument(argNo++));
    steps.push_back(Entry->getArgument(argNo++));
    lbs.push_back(constIndex(0));
    ubs.push_back(B.create<arith::IndexCastOp>(l, B.getIndexType(), Entry->getArgument(argNo++)));
  }
  // Per reduction cell (a complex sum has two, its parts: GpuRegions.h):
  // the result, its integer view, each thread's partial (from the
  // identity; SROA keeps it in a register), its type and operator.
  SmallVector<Value> results, bits, accs;
  SmallVector<ScalarKind> kinds;
  SmallVector<ReduceOp> ops;
  for (const Reduction &red : r.reductions) {
    ScalarKind k = F.vars.at(red.var).scalarKind();
    bool cplx = isComplex(k);
    ScalarKind cell = cplx ? complexPart(k) : k;
    for (int part = 0; part < (cplx ? 2 : 1); ++part) {
      results.push_back(Entry->getArgument(argNo++));
      bits.push_back(Entry->getArgument(argNo++));
      kinds.push_back(cell);
      ops.push_back(red.op);
      Value acc = B.create<memref::AllocaOp>(l, mlir::MemRefType::get({}, scalarType(Ctx, cell)));
      B.create<memref::StoreOp>(l, reduceIdentity(red.op, cell), acc);
      accs.push_back(acc);
    }
  }
  MG.gpuLoopNest(B, l, lbs, ubs, [&](OpBuilder &nb, Location nl, mlir::ValueRange ivs) {
    SmallVector<Value> args;
    for (unsigned d = 0; d < D; ++d) {
      Value iv = nb.create<arith::IndexCastOp>(nl, nb.getI64Type(), ivs[d]);
      args.push_back(nb.create<arith::AddIOp>(nl, starts[d],
                                              nb.create<arith::MulIOp>(nl, iv, steps[d])));
    }
    args.append(free.begin(), free.end());
    size_t c = 0;
    for (const Reduction &red : r.reductions) {
      ScalarKind k = F.vars.at(red.var).scalarKind();
      Value v = nb.create<memref::LoadOp>(nl, accs[c++]);
      if (isComplex(k))
        v = nb.create<complex::CreateOp>(nl, scalarType(Ctx, k), v,
                                         nb.create<memref::LoadOp>(nl, accs[c++]));
      args.push_back(v);
    }
    auto call = nb.create<func::CallOp>(nl, body, args);
    c = 0;
    for (size_t j = 0; j < r.reductions.size(); ++j) {
      Value v = call.getResult(j);
      if (isComplex(F.vars.at(r.reductions[j].var).scalarKind())) {
        nb.create<memref::StoreOp>(nl, nb.create<complex::ReOp>(nl, v), accs[c++]);
        nb.create<memref::StoreOp>(nl, nb.create<complex::ImOp>(nl, v), accs[c++]);
      } else {
        nb.create<memref::StoreOp>(nl, v, accs[c++]);
      }
    }
  }, /*counted=*/!accs.empty());
  if (!accs.empty())
    blockReduce(ops, accs, results, bits, kinds);
  B.create<func::ReturnOp>(l);
  return !Failed;
}

void FunctionGen::blockReduce(mlir::ArrayRef<ReduceOp> ops, mlir::ArrayRef<Value> accs,
                              mlir::ArrayRef<Value> results, mlir::ArrayRef<Value> bits,
                              mlir::ArrayRef<ScalarKind> kinds) {
  Location l = CurLoc;
  GPUIntrinsicEmitter &gpu = *MG.Gpu;
  auto id = [&](GpuOp op, unsigned d) { return gpu.launchIndex(B, l, op, d); };
  auto mul = [&](Value a, Value b) { return B.create<arith::MulIOp>(l, a, b).getResult(); };
  auto add = [&](Value a, Value b) { return B.create<arith::AddIOp>(l, a, b).getResult(); };
  // The thread's rank in its block, and the block's size (at most
  // GpuDriverBlockThreads: the runtime launches with gpuDriverLaunch).
  Value tid = add(id(GpuOp::ThreadIdx, 0),
                  mul(id(GpuOp::BlockDim, 0),
                      add(id(GpuOp::ThreadIdx, 1),
                          mul(id(GpuOp::BlockDim, 1), id(GpuOp::ThreadIdx, 2)))));
  Value threads =
      mul(mul(id(GpuOp::BlockDim, 0), id(GpuOp::BlockDim, 1)), id(GpuOp::BlockDim, 2));
  // Each reduction's partials in shared memory (bools as bytes), each
  // thread's at its rank: GpuDriverBlockThreads elements, typed views of
  // one byte buffer. Reductions go through it in groups of at most
  // GpuReduceGroupBytes, one after the other, so that any number of them
  // fits in the 48 KiB a block may use (30 float64 sums would need 60),
  // with a barrier between groups (thread 0 reads the first slots of one
  // group where other threads write the next group's).
  auto stored = [&](Value v, ScalarKind k) {
    return isBool(k) ? B.create<arith::ExtUIOp>(l, B.getI8Type(), v).getResult() : v;
  };
  auto loaded = [&](Value buf, Value i, ScalarKind k) -> Value {
    Value v = B.create<memref::LoadOp>(l, buf, mlir::ValueRange{i});
    return isBool(k) ? B.create<arith::TruncIOp>(l, B.getI1Type(), v).getResult() : v;
  };
  auto elemType = [&](ScalarKind k) -> mlir::Type {
    return isBool(k) ? B.getI8Type() : scalarType(Ctx, k);
  };
  auto bytesOf = [&](ScalarKind k) {
    return GpuDriverBlockThreads * static_cast<int64_t>(
                                       (elemType(k).getIntOrFloatBitWidth() + 7) / 8);
  };
  // The groups: consecutive reductions, [begin, end) each.
  SmallVector<std::pair<size_t, size_t>> groups;
  int64_t bufferBytes = 0;
  for (size_t j = 0; j < accs.size();) {
    size_t e = j;
    int64_t bytes = 0;
    while (e < accs.size() && (e == j || bytes + bytesOf(kinds[e]) <= GpuReduceGroupBytes))
      bytes += bytesOf(kinds[e++]);
    groups.push_back({j, e});
    bufferBytes = std::max(bufferBytes, bytes);
    j = e;
  }
  Value raw = gpu.sharedBuffer(B, l, B.getI8Type(), bufferBytes,
                               fmt::format("__stn_reduce_{}", Func.getName().str()));
  mlir::Type indexT = B.getIndexType();
  for (auto [begin, end] : groups) {
    if (begin > 0)
      gpu.barrier(B, l);
    // Views at offsets that are multiples of GpuDriverBlockThreads bytes:
    // aligned for every element type.
    SmallVector<Value> bufs;
    int64_t offset = 0;
    for (size_t j = begin; j < end; ++j) {
      auto t = mlir::MemRefType::get({GpuDriverBlockThreads}, elemType(kinds[j]),
                                     mlir::MemRefLayoutAttrInterface(),
                                     cast<mlir::MemRefType>(raw.getType()).getMemorySpace());
      Value buf = B.create<memref::ViewOp>(l, t, raw, constIndex(offset), mlir::ValueRange{});
      offset += bytesOf(kinds[j]);
      B.create<memref::StoreOp>(l, stored(B.create<memref::LoadOp>(l, accs[j]), kinds[j]), buf,
                                mlir::ValueRange{tid});
      bufs.push_back(buf);
    }
    gpu.barrier(B, l);
    // A tree over the block: while more than one partial is left, the
    // first half (rounded down) adds in the second. Every thread runs every
    // step (the barrier is in uniform control flow).
    auto loop = B.create<scf::WhileOp>(l, mlir::TypeRange{indexT}, mlir::ValueRange{threads});
    {
      OpBuilder::InsertionGuard g(B);
      mlir::Block *before = B.createBlock(&loop.getBefore(), {}, {indexT}, {l});
      Value active = before->getArgument(0);
      Value more = B.create<arith::CmpIOp>(l, arith::CmpIPredicate::ugt, active, constIndex(1));
      B.create<scf::ConditionOp>(l, more, mlir::ValueRange{active});
      mlir::Block *after = B.createBlock(&loop.getAfter(), {}, {indexT}, {l});
      active = after->getArgument(0);
      Value half = B.create<arith::DivUIOp>(l, add(active, constIndex(1)), constIndex(2));
      Value other = add(tid, half);
      auto inside = B.create<scf::IfOp>(
          l, B.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult, other, active),
          /*withElse=*/false);
      {
        OpBuilder::InsertionGuard gi(B);
        B.setInsertionPointToStart(inside.thenBlock());
        for (size_t i = 0; i < bufs.size(); ++i) {
          ScalarKind k = kinds[begin + i];
          Value mine = loaded(bufs[i], tid, k);
          Value theirs = loaded(bufs[i], other, k);
          Value v = reduceCombine(ops[begin + i], mine, theirs, k);
          B.create<memref::StoreOp>(l, stored(v, k), bufs[i], mlir::ValueRange{tid});
        }
      }
      gpu.barrier(B, l);
      B.create<scf::YieldOp>(l, mlir::ValueRange{half});
    }
    // The block's first thread combines the block's results into the cells.
    auto first = B.create<scf::IfOp>(
        l, B.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, tid, constIndex(0)),
        /*withElse=*/false);
    OpBuilder::InsertionGuard g(B);
    B.setInsertionPointToStart(first.thenBlock());
    for (size_t i = 0; i < bufs.size(); ++i)
      atomicCombine(ops[begin + i], results[begin + i], bits[begin + i],
                    loaded(bufs[i], constIndex(0), kinds[begin + i]), kinds[begin + i]);
  }
}

void FunctionGen::genReturn(const ast::Return &r) {
  CGValue v;
  v.type = Type::none();
  if (r.value)
    v = expr(*r.value);
  CGValue c = convert(v, ResultT);
  B.create<func::ReturnOp>(CurLoc, c.leaves);
  Cur = nullptr;
}

/// `raise` (and a failed assert): _stn_raise with Sema's message and its
/// values. Where _stn_raise returns (KernelFaults.h), a parallel loop ends
/// the iteration and a function returns default values to its caller, which
/// runs in a parallel region and reports the error when the region ends.
void FunctionGen::genRaise(const ast::Stmt &s) {
  auto it = F.raises.find(&s);
  if (it == F.raises.end()) {
    Failed = true;
    Diags.error(F.file, s.range(), "internal compiler error: raise without a message");
    return;
  }
  SmallVector<Value> values = messageValues(it->second.values);
  CurRange = s.range();
  CurLoc = loc(s.range());
  raiseIf(constBool(true), KernelFaultKind::Raise, it->second.text, values);
  stopAfterRaise();
}

/// The values of a message (a raise's or a print's) as int64 words: floats
/// as the bits of a float64, the others widened.
SmallVector<Value> FunctionGen::messageValues(const std::vector<const ast::Expr *> &exprs,
                                              SmallVector<Value> *fresh) {
  SmallVector<Value> values;
  for (const ast::Expr *e : exprs) {
    CGValue v = expr(*e);
    size_t next = 0;
    messageWords(v.type, v.leaves, next, values);
    if (fresh && v.type.isArray() && isFreshArray(F, *e))
      fresh->push_back(v.single());
  }
  return values;
}

void FunctionGen::messageWords(const Type &t, llvm::ArrayRef<Value> leaves, size_t &next,
                               SmallVector<Value> &out) {
  auto i64 = B.getI64Type();
  if (t.isTuple()) {
    for (const Type &e : t.elements())
      messageWords(e, leaves, next, out);
    return;
  }
  if (t.isDict() || t.isTupleList()) { // none of `{}` or `set()` of no kind
    size_t n = countLeaves(t);
    if (t.isKnownDict() || t.isTupleList())
      out.push_back(printedCollection(t, leaves.slice(next, n)));
    next += n;
    return;
  }
  if (t.isList()) { // storage and length; none of an empty list of no kind
    if (t.isKnownList())
      out.push_back(printedArray(leaves[next], t.scalarKind(), leaves[next + 1]));
    next += countLeaves(t);
    return;
  }
  Value x = leaves[next++];
  if (t.isArray()) {
    out.push_back(printedArray(x, t.scalarKind()));
    return;
  }
  ScalarKind k = t.scalarKind();
  if (isComplex(k)) { // the real part, then the imaginary part
    for (Value part : {Value(B.create<complex::ReOp>(CurLoc, x)),
                       Value(B.create<complex::ImOp>(CurLoc, x))}) {
      if (!part.getType().isF64())
        part = B.create<arith::ExtFOp>(CurLoc, B.getF64Type(), part);
      out.push_back(B.create<arith::BitcastOp>(CurLoc, i64, part));
    }
    return;
  }
  if (isFloat(k)) {
    if (!x.getType().isF64())
      x = B.create<arith::ExtFOp>(CurLoc, B.getF64Type(), x);
    x = B.create<arith::BitcastOp>(CurLoc, i64, x);
  } else if (x.getType() != i64) {
    x = isUnsignedInt(k) || k == ScalarKind::Bool
            ? B.create<arith::ExtUIOp>(CurLoc, i64, x).getResult()
            : B.create<arith::ExtSIOp>(CurLoc, i64, x).getResult();
  }
  out.push_back(x);
}

Value FunctionGen::wordsAddress(llvm::ArrayRef<Value> words) {
  auto i64 = B.getI64Type();
  Value desc;
  {
    // Once per function or parallel region, not per loop iteration.
    OpBuilder::InsertionGuard g(B);
    B.setInsertionPointToStart(AllocaBlock ? AllocaBlock : Entry);
    desc = B.create<memref::AllocaOp>(
        CurLoc, mlir::MemRefType::get({static_cast<int64_t>(words.size())}, i64));
  }
  for (size_t slot = 0; slot < words.size(); ++slot) {
    Value v = words[slot];
    if (v.getType().isIndex())
      v = B.create<arith::IndexCastOp>(CurLoc, i64, v);
    B.create<memref::StoreOp>(CurLoc, v, desc, mlir::ValueRange{constIndex(slot)});
  }
  Value addr = B.create<memref::ExtractAlignedPointerAsIndexOp>(CurLoc, desc);
  return B.create<arith::IndexCastOp>(CurLoc, i64, addr);
}

Value FunctionGen::printedArray(Value mem, ScalarKind k, Value listLength) {
  auto mt = llvm::cast<mlir::MemRefType>(mem.getType());
  int64_t rank = listLength ? 1 : mt.getRank();
  SmallVector<Value> words;
  words.push_back(constInt(static_cast<int64_t>(k), ScalarKind::I64));
  words.push_back(constInt(rank, ScalarKind::I64));
  SmallVector<Value> origin(mt.getRank(), constIndex(0));
  words.push_back(elementAddress(mem, origin));
  if (listLength) {
    words.push_back(listLength);
    words.push_back(constInt(1, ScalarKind::I64));
  } else {
    auto md = B.create<memref::ExtractStridedMetadataOp>(CurLoc, mem);
    words.append(md.getSizes().begin(), md.getSizes().end());
    words.append(md.getStrides().begin(), md.getStrides().end());
  }
  return wordsAddress(words);
}

Value FunctionGen::printedCollection(const Type &t, llvm::ArrayRef<Value> leaves) {
  SmallVector<Value> fields;
  SmallVector<ScalarKind> kinds;
  SmallVector<Value> words;
  if (t.isDict()) {
    DictParts p = dictParts(dictValue(t, leaves));
    fields.append(p.keys.begin(), p.keys.end());
    fields.append(p.values.begin(), p.values.end());
    kinds = itemKinds(t.dictKey());
    if (!t.isSet())
      kinds.append(itemKinds(t.dictValue()));
    words.push_back(p.used);
    words.push_back(elementAddress(p.live, {constIndex(0)}));
  } else {
    fields.append(leaves.begin(), leaves.end() - 1);
    kinds = itemKinds(t.listItem());
    words.push_back(leaves.back());
    words.push_back(constInt(0, ScalarKind::I64)); // all live
  }
  for (size_t f = 0; f < fields.size(); ++f) {
    words.push_back(constInt(static_cast<int64_t>(kinds[f]), ScalarKind::I64));
    words.push_back(elementAddress(fields[f], {constIndex(0)}));
  }
  return wordsAddress(words);
}

/// print(...): the line goes to standard output, written at once (CPU:
/// _stn_print; GPU code: GPUIntrinsicEmitter::print, numbers and bools
/// only).
void FunctionGen::genPrint(const TypedFunction::RaisedError &line) {
  if (MG.Gpu) {
    for (const ast::Expr *e : line.values) {
      Type t = F.typeOf(*e);
      if (t.isScalar())
        continue;
      Failed = true;
      Diags.error(F.file, e->range(),
                  fmt::format("print() in GPU code can show strings, numbers and bools, not "
                              "'{}'",
                              t.describe()),
                  "print its elements, a[i], or values computed from it");
      return;
    }
    MG.Gpu->print(B, CurLoc, line.text, messageValues(line.values));
    return;
  }
  SmallVector<Value> fresh;
  SmallVector<Value> values = messageValues(line.values, &fresh);
  MG.callRuntime(B, CurLoc, "_stn_print", messageArguments(B, CurLoc, line.text, values), {});
  for (Value a : fresh)
    B.create<memref::DeallocOp>(CurLoc, a);
}

/// Where _stn_raise returned (or a GPU thread raised): the end of the
/// parallel loop's iteration, or the function's return with zeros and
/// empty arrays (on the heap, where the caller may free them; GPU code
/// frees nothing and cannot allocate).
void FunctionGen::stopAfterRaise() {
  if (ParallelDepth > 0 && !Loops.empty()) {
    branch(Loops.front().continueTo);
    return;
  }
  B.create<func::ReturnOp>(CurLoc, defaultValue(ResultT, /*onHeap=*/!MG.Gpu).leaves);
  Cur = nullptr;
}

/// Before a call of a function that may raise and return (CPU code: in a
/// parallel region, with zeros and empty arrays; then only for callees that
/// return arrays): how the caller learns it did, so that it stops as well
/// rather than go on with those values (stopIfCalleeRaised). CPU code
/// compares the number of errors this thread raised before and after the
/// call; GPU code, where a raising thread ends its work, asks the fault
/// record after it. Empty where no check is needed.
FunctionGen::RaiseCheck FunctionGen::raiseCountBefore(const TypedFunction &callee) {
  if (!Cur || B.getInsertionBlock() != Cur)
    return {};
  if (MG.Gpu)
    return {Value(), MG.mayRaise(&callee, /*boundsChecks=*/true)};
  if (!callee.resultType.hasArrayLeaf() || !MG.mayRaise(&callee))
    return {};
  return {MG.callRuntime(B, CurLoc, "_stn_raise_count", {}, {B.getI64Type()}), false};
}

void FunctionGen::stopIfCalleeRaised(const RaiseCheck &check) {
  Value raised;
  if (check.onGpu)
    raised = MG.Gpu->raised(B, CurLoc);
  else if (check.before)
    raised = B.create<arith::CmpIOp>(
        CurLoc, arith::CmpIPredicate::ne,
        MG.callRuntime(B, CurLoc, "_stn_raise_count", {}, {B.getI64Type()}), check.before);
  if (raised)
    exitIf(raised, true, [&] { stopAfterRaise(); });
}

/// Where `cond` is `when`, runs `body`, which ends its block (a raise, a
/// return or a branch); the code that follows runs where it is not.
void FunctionGen::exitIf(Value cond, bool when, const std::function<void()> &body) {
  Block *exit = newBlock(), *go = newBlock();
  condBranch(cond, when ? exit : go, when ? go : exit);
  appendBlock(exit);
  SSA->seal(exit);
  setBlock(exit);
  body();
  appendBlock(go);
  SSA->seal(go);
  setBlock(go);
}

void FunctionGen::genAssert(const ast::Assert &a) {
  Value c = truth(expr(*a.test));
  // Asserts hold: the failing branch is cold.
  if (!MG.Gpu)
    c = B.create<mlir::LLVM::ExpectOp>(CurLoc, c, constBool(true));
  exitIf(c, false, [&] { genRaise(a); });
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

CGValue FunctionGen::expr(const ast::Expr &e) {
  Location saved = CurLoc;
  SourceRange savedRange = CurRange;
  CurLoc = loc(e);
  CurRange = e.range();
  CGValue v = exprImpl(e);
  if (v.type.isSet())
    if (auto it = F.listViews.find(&e); it != F.listViews.end()) {
      // A set given to sum(), min() or max(): an array of its items, in
      // order (its live entries, as a list).
      DictParts p = dictEntries(v, /*freeOld=*/false);
      v = makeList(v.type.dictKey(), p.keys, p.len);
    }
  if (v.type.isList())
    if (auto it = F.listViews.find(&e); it != F.listViews.end()) {
      // A list where an array is expected (Sema's TypedFunction::listViews).
      Value items = listItems(v, it->second.copy);
      v = CGValue();
      v.type = F.typeOf(e); // the array Sema's viewList gave it
      v.leaves.push_back(items);
    }
  CurLoc = saved;
  CurRange = savedRange;
  return v;
}

//===----------------------------------------------------------------------===//
// Lists
//===----------------------------------------------------------------------===//

Type FunctionGen::listTypeOf(const ast::Expr &e) {
  auto it = F.listViews.find(&e);
  return it != F.listViews.end() ? it->second.list : F.typeOf(e);
}

SmallVector<ScalarKind> FunctionGen::itemKinds(const Type &item) {
  std::vector<ScalarKind> kinds = listFieldKinds(item);
  return SmallVector<ScalarKind>(kinds.begin(), kinds.end());
}

/// The LLVM struct of an array's descriptor (what the memref lowering
/// makes of memrefType(t)): allocated and aligned pointer, offset, extents,
/// strides.
static mlir::Type descriptorType(mlir::MLIRContext *ctx, unsigned rank) {
  auto i64 = mlir::IntegerType::get(ctx, 64);
  auto ptr = mlir::LLVM::LLVMPointerType::get(ctx);
  SmallVector<mlir::Type> fields{ptr, ptr, i64};
  if (rank > 0) {
    auto dims = mlir::LLVM::LLVMArrayType::get(i64, rank);
    fields.push_back(dims);
    fields.push_back(dims);
  }
  return mlir::LLVM::LLVMStructType::getLiteral(ctx, fields);
}

SmallVector<Value> FunctionGen::arrayFields(Value mem, const Type &t) {
  // The memref's own descriptor, seen as the LLVM struct it lowers to.
  unsigned r = t.rank();
  mlir::Type st = descriptorType(Ctx, r);
  Value d = B.create<mlir::UnrealizedConversionCastOp>(CurLoc, st, mem).getResult(0);
  auto i64 = B.getI64Type();
  SmallVector<Value> out;
  for (int64_t p : {0, 1})
    out.push_back(B.create<mlir::LLVM::PtrToIntOp>(
        CurLoc, i64, B.create<mlir::LLVM::ExtractValueOp>(CurLoc, d, llvm::ArrayRef<int64_t>{p})));
  out.push_back(B.create<mlir::LLVM::ExtractValueOp>(CurLoc, d, llvm::ArrayRef<int64_t>{2}));
  for (int64_t part : {3, 4})
    for (int64_t k = 0; k < static_cast<int64_t>(r); ++k)
      out.push_back(
          B.create<mlir::LLVM::ExtractValueOp>(CurLoc, d, llvm::ArrayRef<int64_t>{part, k}));
  return out;
}

Value FunctionGen::arrayOfFields(mlir::ValueRange fields, const Type &t) {
  unsigned r = t.rank();
  mlir::Type st = descriptorType(Ctx, r);
  auto ptr = mlir::LLVM::LLVMPointerType::get(Ctx);
  Value d = B.create<mlir::LLVM::UndefOp>(CurLoc, st);
  for (int64_t p : {0, 1})
    d = B.create<mlir::LLVM::InsertValueOp>(
        CurLoc, d, B.create<mlir::LLVM::IntToPtrOp>(CurLoc, ptr, fields[p]),
        llvm::ArrayRef<int64_t>{p});
  d = B.create<mlir::LLVM::InsertValueOp>(CurLoc, d, fields[2], llvm::ArrayRef<int64_t>{2});
  size_t f = 3;
  for (int64_t part : {3, 4})
    for (int64_t k = 0; k < static_cast<int64_t>(r); ++k)
      d = B.create<mlir::LLVM::InsertValueOp>(CurLoc, d, fields[f++],
                                              llvm::ArrayRef<int64_t>{part, k});
  return B.create<mlir::UnrealizedConversionCastOp>(CurLoc, memrefType(Ctx, t), d).getResult(0);
}

CGValue FunctionGen::makeList(const Type &item, mlir::ValueRange data, Value len) {
  CGValue r;
  r.type = Type::list(item);
  SmallVector<ScalarKind> kinds = itemKinds(item);
  for (size_t f = 0; f < kinds.size(); ++f) {
    Value d = data[f];
    mlir::MemRefType want = memrefType(Ctx, Type::array(kinds[f], 1));
    if (d.getType() != want)
      d = B.create<memref::CastOp>(CurLoc, want, d);
    r.leaves.push_back(d);
  }
  r.leaves.push_back(len);
  return r;
}

SmallVector<Value> FunctionGen::listData(const CGValue &list) {
  return SmallVector<Value>(list.leaves.begin(), list.leaves.end() - 1);
}

CGValue FunctionGen::loadItem(mlir::ValueRange data, Value i, const Type &item) {
  CGValue v;
  v.type = item;
  SmallVector<ScalarKind> kinds = itemKinds(item);
  for (size_t f = 0; f < kinds.size(); ++f)
    v.leaves.push_back(loadElement(data[f], {i}, kinds[f]));
  if (item.isArray()) { // the fields of its descriptor
    Value mem = arrayOfFields(v.leaves, item);
    v.leaves.assign({mem});
  }
  return v;
}

void FunctionGen::storeItem(const CGValue &x, mlir::ValueRange data, Value i, const Type &item) {
  CGValue c = convert(x, item);
  SmallVector<ScalarKind> kinds = itemKinds(item);
  SmallVector<Value> fields(c.leaves.begin(), c.leaves.end());
  if (item.isArray())
    fields = arrayFields(c.single(), item);
  for (size_t f = 0; f < kinds.size(); ++f)
    storeElement(fields[f], data[f], {i}, kinds[f]);
}

void FunctionGen::indexLoop(Value lo, Value hi, const std::function<void(Value)> &body) {
  auto loop = B.create<scf::ForOp>(CurLoc, lo, hi, constIndex(1));
  OpBuilder::InsertionGuard g(B);
  B.setInsertionPoint(loop.getBody()->getTerminator());
  body(loop.getInductionVar());
}


CGValue FunctionGen::listDisplay(const ast::List &l, const Type &item) {
  Value n = constIndex(static_cast<int64_t>(l.elts.size()));
  SmallVector<Value> data = newListStorage(n, item);
  for (size_t i = 0; i < l.elts.size(); ++i)
    storeItem(expr(*l.elts[i]), data, constIndex(static_cast<int64_t>(i)), item);
  CGValue r = makeList(item, data, constInt(static_cast<int64_t>(l.elts.size()), ScalarKind::I64));
  if (l.elts.empty()) // `[]`: its items take the type of what joins it
    r.type = Type::emptyList();
  return r;
}

CGValue FunctionGen::listSlice(const ast::Subscript &s, const ast::Slice &sl) {
  CGValue list = expr(*s.value);
  Type from = list.type.listItem(), item = listTypeOf(s).listItem();
  Value lo, count, step;
  sliceBounds(sl, toIndex(list.leaves.back(), ScalarKind::I64), lo, count, step);
  if (sl.step && !literalInt(*sl.step))
    raiseIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, step, constIndex(0)),
            KernelFaultKind::Raise, "ValueError: slice step cannot be zero", {});
  SmallVector<Value> data = newListStorage(count, item);
  copyItems(listData(list), from, lo, step, data, constIndex(0), count, item);
  return makeList(item, data, indexToI64(count));
}

/// xs[i] of a list of tuples: the position, with Python's negative indices
/// and the bounds check of arrays (checked against the length, as a
/// scalar list's index is against the view of its items); `data` are the
/// storages to use (a scratch element where a raise returned).
Value FunctionGen::listPosition(const ast::Subscript &s, const CGValue &list,
                                SmallVector<Value> &data) {
  data = listData(list);
  CGValue iv = expr(*s.index);
  ScalarKind ik = iv.type.scalarKind();
  Value n = toIndex(list.leaves.back(), ScalarKind::I64);
  Value i = toIndex(iv.single(), ik), given = i;
  if (isSignedInt(ik) && !isNonNegative(*s.index))
    i = wrapIndex(i, ik, n);
  if (!boundsChecked())
    return i;
  SmallVector<ScalarKind> kinds = itemKinds(list.type.listItem());
  Value bad = indexOutOfBounds(s, storageView(data[0], n, kinds[0]), 1, 0, i, given);
  for (size_t f = 0; f < data.size(); ++f)
    data[f] = B.create<arith::SelectOp>(CurLoc, bad, scratchElement(data[f]), data[f]);
  return B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), i);
}

CGValue FunctionGen::listElement(const ast::Subscript &s) {
  CGValue list = expr(*s.value);
  SmallVector<Value> data;
  Value i = listPosition(s, list, data);
  return loadItem(data, i, list.type.listItem());
}

void FunctionGen::assignListSlice(const ast::Subscript &s, const ast::Slice &sl,
                                  const CGValue &v) {
  CurRange = s.range(); // (where its errors are reported)
  const std::string &name = llvm::cast<ast::Name>(*s.value).id;
  Type t = F.vars.at(name), item = t.listItem();
  CGValue list = convert(readVar(name), t);
  SmallVector<Value> data = listData(list);
  Value len = list.leaves.back();
  Value n = toIndex(len, ScalarKind::I64);
  // The new items: `v`'s own storage (a list's, or the 1-d array), of
  // item type `from`; a copy where `v` is this list (xs[a:b] = xs), whose
  // storage the moves below change.
  SmallVector<Value> src;
  Type from = item;
  Value m = constIndex(0); // `[]` of no kind has none
  if (v.type.isKnownList() && v.leaves.front() == data.front()) {
    m = n;
    src = newListStorage(m, item);
    moveItems(data, constIndex(0), src, constIndex(0), m, item);
  } else if (v.type.isKnownList()) {
    m = toIndex(v.leaves.back(), ScalarKind::I64);
    src = listData(v);
    from = v.type.listItem();
  } else if (v.type.isArray()) {
    m = B.create<memref::DimOp>(CurLoc, v.single(), 0);
    src.push_back(v.single());
    from = v.type.dtypeType();
  }
  Value lo, count, step;
  sliceBounds(sl, n, lo, count, step, /*emptyAtZero=*/false);
  if (sl.step && !literalInt(*sl.step))
    raiseIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, step, constIndex(0)),
            KernelFaultKind::Raise, "ValueError: slice step cannot be zero", {});
  // Step 1: the m items replace the count there, the rest moves.
  auto resize = [&]() -> SmallVector<Value> {
    Value rest = B.create<arith::SubIOp>(
        CurLoc, n, B.create<arith::AddIOp>(CurLoc, lo, count)); // after the slice
    Value total = B.create<arith::AddIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, n, count), m);
    SmallVector<Value> to = listReserve(data, len, total, item);
    Value tail = B.create<arith::AddIOp>(CurLoc, lo, count);
    Value at = B.create<arith::AddIOp>(CurLoc, lo, m);
    Value up = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ugt, m, count);
    emitIf(
        up, {},
        [&]() -> SmallVector<Value> {
          moveItems(to, tail, to, at, rest, item, /*backward=*/true);
          return {};
        },
        [&]() -> SmallVector<Value> {
          moveItems(to, tail, to, at, rest, item);
          return {};
        });
    if (!src.empty())
      copyItems(src, from, constIndex(0), constIndex(1), to, lo, m, item);
    CGValue r = makeList(item, to, indexToI64(total));
    return SmallVector<Value>(r.leaves.begin(), r.leaves.end());
  };
  // Any other step: as many items as the slice has, in its places.
  auto extended = [&]() -> SmallVector<Value> {
    Value bad = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, m, count);
    raiseIf(bad, KernelFaultKind::Raise,
            std::string("ValueError: attempt to assign sequence of size ") + kRaisedValue +
                "i to extended slice of size " + kRaisedValue + "i",
            {indexToI64(m), indexToI64(count)});
    Value k = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), count);
    indexLoop(constIndex(0), k, [&](Value i) {
      Value at = B.create<arith::AddIOp>(CurLoc, lo, B.create<arith::MulIOp>(CurLoc, i, step));
      storeItem(loadItem(src, i, from), data, at, item);
    });
    SmallVector<Value> r(data.begin(), data.end());
    r.push_back(len);
    return r;
  };
  std::optional<int64_t> constStep = sl.step ? literalInt(*sl.step) : std::optional<int64_t>(1);
  SmallVector<Value> leaves;
  if (constStep == 1) {
    leaves = resize();
  } else if (constStep) {
    leaves = extended();
  } else {
    SmallVector<mlir::Type> types;
    for (Value x : data)
      types.push_back(x.getType());
    types.push_back(len.getType());
    leaves = emitIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, step, constIndex(1)),
                    types, resize, extended);
  }
  CGValue r;
  r.type = t;
  r.leaves.assign(leaves.begin(), leaves.end());
  writeVar(name, r);
}

void FunctionGen::storeListElement(const ast::Subscript &s, const CGValue &v) {
  CGValue list = expr(*s.value);
  SmallVector<Value> data;
  Value i = listPosition(s, list, data);
  storeItem(v, data, i, list.type.listItem());
}

/// list(iterable): storage as large as the items, each stored in turn.
CGValue FunctionGen::listOf(const ast::Call &c) {
  Type item = listTypeOf(c).listItem();
  auto src = F.listSources.find(&c);
  if (src == F.listSources.end()) {
    if (!c.args.empty()) // list(a comprehension): its list
      return expr(*c.args[0]);
    CGValue r = makeList(item, newListStorage(constIndex(0), item), constInt(0, ScalarKind::I64));
    r.type = Type::emptyList(); // list(): as `[]`
    return r;
  }
  IterItems items = iterItems(src->second);
  Value n = toIndex(items.length, ScalarKind::I64);
  SmallVector<Value> data = newListStorage(n, item);
  indexLoop(constIndex(0), n,
            [&](Value j) { storeItem(items.item(indexToI64(j)), data, j, item); });
  return makeList(item, data, indexToI64(n));
}

/// sorted(iterable, reverse=r): list(iterable) sorted in place (as
/// np.sort sorts), then reversed where r holds. (Lists of numbers only.)
CGValue FunctionGen::sortedList(const ast::Call &c, const CallInfo &info) {
  CGValue list = listOf(c);
  if (info.keyFn) {
    Value reverse = info.operands.empty() ? Value() : truth(expr(*info.operands[0]));
    sortByKey(listData(list), toIndex(list.leaves.back(), ScalarKind::I64),
              list.type.listItem(), info, reverse);
    return list;
  }
  if (list.type.isTupleList()) {
    sortItems(listData(list), toIndex(list.leaves.back(), ScalarKind::I64),
              list.type.listItem());
  } else {
    ScalarKind k = list.type.scalarKind();
    sortLanes(listItems(list, /*copy=*/false), k, 0);
  }
  if (!info.operands.empty()) {
    Value reverse = truth(expr(*info.operands[0]));
    Value n = toIndex(list.leaves.back(), ScalarKind::I64);
    ifThen(reverse, [&] { reverseItems(listData(list), n, list.type.listItem()); });
  }
  return list;
}

void FunctionGen::bindTarget(const ast::Expr &target, const CGValue &v) {
  if (auto *n = dyn_cast<ast::Name>(&target)) {
    writeVar(n->id, v);
    return;
  }
  unsigned pos = 0;
  const auto &elts = llvm::cast<ast::Tuple>(target).elts;
  for (size_t i = 0; i < elts.size(); ++i) {
    CGValue part;
    part.type = v.type.elements()[i];
    unsigned n = countLeaves(part.type);
    part.leaves.append(v.leaves.begin() + pos, v.leaves.begin() + pos + n);
    pos += n;
    bindTarget(*elts[i], part);
  }
}

/// One scf.for per clause of `l` over its items (iterItems), carrying the
/// state; a clause's conditions decide (scf.if, in order, each only if the
/// ones before it hold) whether the rest runs; the innermost part hands the
/// element to `sink`. Structured loops rather than blocks, so that a
/// comprehension can be part of any expression, an IfExp's region included.
SmallVector<Value> FunctionGen::comprehensionLoops(
    const ast::ListComp &l, mlir::TypeRange types,
    const std::function<SmallVector<Value>(Value)> &init,
    const std::function<SmallVector<Value>(SmallVector<Value>, CGValue)> &sink) {
  std::function<SmallVector<Value>(size_t, const IterItems &, SmallVector<Value>)> clause =
      [&](size_t gi, const IterItems &items, SmallVector<Value> state) {
        const ast::Comprehension &g = l.generators[gi];
        // The rest of the comprehension after this clause's condition `ci`.
        std::function<SmallVector<Value>(size_t, SmallVector<Value>)> rest =
            [&](size_t ci, SmallVector<Value> cur) -> SmallVector<Value> {
          if (ci < g.ifs.size()) {
            Value c = truth(expr(*g.ifs[ci]));
            return emitIf(
                c, types, [&] { return rest(ci + 1, cur); }, [&] { return cur; });
          }
          if (gi + 1 == l.generators.size())
            return sink(cur, expr(*l.elt));
          return clause(gi + 1, iterItems(F.comprehensions.at(&l.generators[gi + 1])), cur);
        };
        // The body is generated once the loop is in its block (raises find
        // the module from there).
        auto loop = B.create<scf::ForOp>(CurLoc, constIndex(0),
                                         toIndex(items.length, ScalarKind::I64), constIndex(1),
                                         mlir::ValueRange(state));
        {
          OpBuilder::InsertionGuard guard(B);
          Block *body = loop.getBody();
          if (!body->empty() && body->back().hasTrait<mlir::OpTrait::IsTerminator>())
            body->back().erase();
          B.setInsertionPointToEnd(body);
          bindTarget(*g.target, items.item(indexToI64(loop.getInductionVar())));
          auto args = loop.getRegionIterArgs();
          SmallVector<Value> out = rest(0, SmallVector<Value>(args.begin(), args.end()));
          B.create<scf::YieldOp>(CurLoc, out);
        }
        return SmallVector<Value>(loop.getResults().begin(), loop.getResults().end());
      };
  IterItems first = iterItems(F.comprehensions.at(&l.generators.front()));
  return clause(0, first, init(first.length));
}

/// `[elt for x in it if c ...]`: comprehensionLoops appending each element.
/// The storage starts as large as the first clause's item count (all that
/// one clause can give) and doubles when full, as an append's does.

/// `[elt for x in it if c ...]`: comprehensionLoops appending each element.
/// The storage starts as large as the first clause's item count (all that
/// one clause can give) and doubles when full, as an append's does.
CGValue FunctionGen::listComp(const ast::ListComp &l) {
  Type item = listTypeOf(l).listItem();
  SmallVector<mlir::Type> types;
  for (ScalarKind k : itemKinds(item))
    types.push_back(memrefType(Ctx, Type::array(k, 1)));
  types.push_back(B.getI64Type());
  auto init = [&](Value length) -> SmallVector<Value> {
    CGValue empty = makeList(item, newListStorage(toIndex(length, ScalarKind::I64), item),
                             constInt(0, ScalarKind::I64));
    return SmallVector<Value>(empty.leaves.begin(), empty.leaves.end());
  };
  auto append = [&](SmallVector<Value> state, CGValue x) -> SmallVector<Value> {
    Value len = state.back();
    state.pop_back();
    Value n = toIndex(len, ScalarKind::I64);
    Value need = B.create<arith::AddIOp>(CurLoc, n, constIndex(1));
    SmallVector<Value> data = listReserve(state, len, need, item);
    storeItem(x, data, n, item);
    data.push_back(indexToI64(need));
    return data;
  };
  SmallVector<Value> done = comprehensionLoops(l, types, init, append);
  return makeList(item, mlir::ValueRange(done).drop_back(), done.back());
}

Value FunctionGen::storageView(Value data, Value n, ScalarKind k) {
  SmallVector<mlir::OpFoldResult> offsets{B.getIndexAttr(0)}, sizes{n},
      strides{B.getIndexAttr(1)};
  auto srcType = llvm::cast<mlir::MemRefType>(data.getType());
  auto vt = memref::SubViewOp::inferResultType(srcType, offsets, sizes, strides);
  Value view = B.create<memref::SubViewOp>(CurLoc, llvm::cast<mlir::MemRefType>(vt), data,
                                           offsets, sizes, strides);
  // The storage is contiguous: its items have unit stride.
  return B.create<memref::CastOp>(CurLoc, memrefType(Ctx, Type::array(k, 1, Type::Layout::C)),
                                  view);
}

Value FunctionGen::listItems(const CGValue &list, bool copy) {
  ScalarKind k = list.type.scalarKind();
  Value n = toIndex(list.leaves.back(), ScalarKind::I64);
  if (list.type.isArrayList()) // np.array of arrays: stacked
    return joinedList(nullptr, list,
                      Type::array(k, list.type.listItem().rank() + 1, Type::Layout::C));
  if (list.type.isTupleList()) {
    // np.array of tuples: one row per item, one column per number, of the
    // numbers' common kind.
    SmallVector<ScalarKind> kinds = itemKinds(list.type.listItem());
    Value out = MG.allocArray(B, CurLoc, Type::array(k, 2, Type::Layout::C),
                              mlir::ValueRange{n, constIndex(static_cast<int64_t>(kinds.size()))});
    indexLoop(constIndex(0), n, [&](Value i) {
      for (size_t f = 0; f < kinds.size(); ++f)
        storeElement(castScalar(loadElement(list.leaves[f], {i}, kinds[f]), kinds[f], k), out,
                     {i, constIndex(static_cast<int64_t>(f))}, k);
    });
    return out;
  }
  if (copy) {
    Value out = MG.allocArray(B, CurLoc, Type::array(k, 1, Type::Layout::C), mlir::ValueRange{n});
    moveItems(listData(list), constIndex(0), {out}, constIndex(0), n, list.type.listItem());
    return out;
  }
  return storageView(list.leaves[0], n, k);
}

CGValue FunctionGen::convertList(const CGValue &v, const Type &to) {
  Type from = v.type.listItem(), item = to.listItem();
  if (!v.type.isKnownList() && from != item)
    return defaultValue(to, /*onHeap=*/true); // `[]`: nothing to convert
  if (from == item)
    return makeList(item, listData(v), v.leaves.back());
  Value n = toIndex(v.leaves.back(), ScalarKind::I64);
  SmallVector<Value> data = newListStorage(n, item);
  copyItems(listData(v), from, constIndex(0), constIndex(1), data, constIndex(0), n, item);
  return makeList(item, data, v.leaves.back());
}

void FunctionGen::copyItems(mlir::ValueRange src, const Type &from, Value at, Value step,
                            mlir::ValueRange dst, Value to, Value n, const Type &item) {
  SmallVector<ScalarKind> fk = itemKinds(from), tk = itemKinds(item);
  indexLoop(constIndex(0), n, [&](Value j) {
    Value i = B.create<arith::AddIOp>(CurLoc, at, B.create<arith::MulIOp>(CurLoc, j, step));
    Value o = B.create<arith::AddIOp>(CurLoc, to, j);
    for (size_t f = 0; f < tk.size(); ++f)
      storeElement(castScalar(loadElement(src[f], {i}, fk[f]), fk[f], tk[f]), dst[f], {o}, tk[f]);
  });
}

SmallVector<Value> FunctionGen::newListStorage(Value n, const Type &item) {
  Value cap = B.create<arith::MaxSIOp>(CurLoc, n, constIndex(1));
  SmallVector<Value> data;
  for (ScalarKind k : itemKinds(item))
    data.push_back(MG.allocArray(B, CurLoc, Type::array(k, 1), mlir::ValueRange{cap}));
  return data;
}

void FunctionGen::moveItems(mlir::ValueRange src, Value from, mlir::ValueRange dst, Value to,
                            Value n, const Type &item, bool backward) {
  SmallVector<ScalarKind> kinds = itemKinds(item);
  indexLoop(constIndex(0), n, [&](Value j) {
    if (backward)
      j = B.create<arith::SubIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, n, constIndex(1)), j);
    Value i = B.create<arith::AddIOp>(CurLoc, from, j);
    Value o = B.create<arith::AddIOp>(CurLoc, to, j);
    for (size_t f = 0; f < kinds.size(); ++f)
      storeElement(loadElement(src[f], {i}, kinds[f]), dst[f], {o}, kinds[f]);
  });
}

SmallVector<Value> FunctionGen::listReserve(mlir::ValueRange data, Value len, Value need,
                                            const Type &item) {
  Value cap = B.create<memref::DimOp>(CurLoc, data[0], 0);
  Value full = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ugt, need, cap);
  auto ifOp = B.create<scf::IfOp>(CurLoc, data.getTypes(), full, /*withElse=*/true);
  OpBuilder::InsertionGuard g(B);
  B.setInsertionPointToStart(ifOp.thenBlock());
  Value twice = B.create<arith::MaxUIOp>(
      CurLoc, B.create<arith::MulIOp>(CurLoc, cap, constIndex(2)), constIndex(4));
  Value size = B.create<arith::MaxUIOp>(CurLoc, twice, need);
  SmallVector<Value> grown = newListStorage(size, item);
  moveItems(data, constIndex(0), grown, constIndex(0), toIndex(len, ScalarKind::I64), item);
  for (size_t f = 0; f < data.size(); ++f) {
    B.create<memref::DeallocOp>(CurLoc, data[f]);
    if (grown[f].getType() != data[f].getType())
      grown[f] = B.create<memref::CastOp>(CurLoc, data[f].getType(), grown[f]);
  }
  B.create<scf::YieldOp>(CurLoc, grown);
  B.setInsertionPointToStart(ifOp.elseBlock());
  B.create<scf::YieldOp>(CurLoc, data);
  return SmallVector<Value>(ifOp.getResults().begin(), ifOp.getResults().end());
}

CGValue FunctionGen::extendList(const CGValue &list, const CGValue &items) {
  Type item = list.type.listItem();
  SmallVector<Value> src;
  Type from;
  Value m;
  if (items.type.isList()) { // a list of tuples
    src = listData(items);
    from = items.type.listItem();
    m = toIndex(items.leaves.back(), ScalarKind::I64);
  } else { // the 1-d array of the items
    src.push_back(items.single());
    from = items.type.dtypeType();
    m = B.create<memref::DimOp>(CurLoc, src[0], 0);
  }
  Value len = list.leaves.back();
  Value need = B.create<arith::AddIOp>(CurLoc, toIndex(len, ScalarKind::I64), m);
  SmallVector<Value> data = listReserve(listData(list), len, need, item);
  copyItems(src, from, constIndex(0), constIndex(1), data, toIndex(len, ScalarKind::I64), m,
            item);
  return makeList(item, data, indexToI64(need));
}

CGValue FunctionGen::listCopy(const CGValue &list) {
  Type item = list.type.listItem();
  Value n = toIndex(list.leaves.back(), ScalarKind::I64);
  SmallVector<Value> data = newListStorage(n, item);
  moveItems(listData(list), constIndex(0), data, constIndex(0), n, item);
  return makeList(item, data, list.leaves.back());
}

/// The items of `v`, a list or the array of a list's items, that `xs` gets
/// in `xs += v` or `xs.extend(v)`: a copy where `v` is `xs` itself (its
/// storage may move as `xs` grows). Scalar lists' own items are already a
/// copy (Sema's listViews).
CGValue FunctionGen::extendItems(const ast::Expr &e, const std::string &name) {
  CGValue v = expr(e);
  auto *self = dyn_cast<ast::Name>(&e);
  if (v.type.isList() && self && self->id == name)
    return listCopy(v);
  return v;
}

CGValue FunctionGen::listBinop(const ast::BinOp &b) {
  Type item = listTypeOf(b).listItem();
  CGValue l = expr(*b.lhs), r = expr(*b.rhs);
  auto items = [&](const CGValue &v) { return toIndex(v.leaves.back(), ScalarKind::I64); };
  auto copyInto = [&](const CGValue &from, mlir::ValueRange to, Value at) {
    copyItems(listData(from), from.type.listItem(), constIndex(0), constIndex(1), to, at,
              items(from), item);
  };
  if (b.op == ast::BinOpKind::Add) {
    // Each side's items, converted; `[]` (kind unknown) has none.
    Value ln = l.type.isKnownList() ? items(l) : constIndex(0);
    Value rn = r.type.isKnownList() ? items(r) : constIndex(0);
    Value total = B.create<arith::AddIOp>(CurLoc, ln, rn);
    SmallVector<Value> data = newListStorage(total, item);
    if (l.type.isKnownList())
      copyInto(l, data, constIndex(0));
    if (r.type.isKnownList())
      copyInto(r, data, ln);
    return makeList(item, data, indexToI64(total));
  }
  // Repetition: n <= 0 gives an empty list, as in Python.
  const CGValue &list = l.type.isList() ? l : r;
  const CGValue &count = l.type.isList() ? r : l;
  Value times = repeatCount(count);
  Value n = list.type.isKnownList() ? items(list) : constIndex(0);
  Value total = B.create<arith::MulIOp>(CurLoc, n, times);
  SmallVector<Value> data = newListStorage(total, item);
  if (list.type.isKnownList())
    indexLoop(constIndex(0), times, [&](Value rep) {
      copyInto(list, data, B.create<arith::MulIOp>(CurLoc, rep, n));
    });
  return makeList(item, data, indexToI64(total));
}

void FunctionGen::listAugAssign(const ast::AugAssign &a) {
  const std::string &name = llvm::cast<ast::Name>(*a.target).id;
  CGValue val = extendItems(*a.value, name); // the array of the items for +=
  Type t = F.vars.at(name);
  CGValue cur = convert(readVar(name), t);
  if (a.op == ast::BinOpKind::Add) {
    writeVar(name, extendList(cur, val));
    return;
  }
  // xs *= n: the items repeated in the same storage, grown once.
  Type item = t.listItem();
  Value times = repeatCount(val);
  Value n = toIndex(cur.leaves.back(), ScalarKind::I64);
  Value total = B.create<arith::MulIOp>(CurLoc, n, times);
  SmallVector<Value> data = listReserve(listData(cur), cur.leaves.back(), total, item);
  indexLoop(constIndex(1), times, [&](Value rep) {
    moveItems(data, constIndex(0), data, B.create<arith::MulIOp>(CurLoc, rep, n), n, item);
  });
  writeVar(name, makeList(item, data, indexToI64(total)));
}

CGValue FunctionGen::listMethod(const ast::Call &c, const CallInfo &info) {
  const std::string *name = nullptr;
  if (auto *n = dyn_cast<ast::Name>(info.receiver))
    name = &n->id;
  // The arguments first: they may change the list (xs.insert(0, xs.pop())).
  std::vector<CGValue> args;
  const ast::Slice *slice = nullptr; // del xs[a:b:c] (its parts are read below)
  for (const ast::Expr *o : info.operands) {
    if ((slice = dyn_cast<ast::Slice>(o)))
      continue;
    args.push_back(info.builtin == Builtin::ListExtend && name ? extendItems(*o, *name)
                                                               : expr(*o));
  }
  CGValue list = expr(*info.receiver);
  CGValue none;
  none.type = Type::none();
  if (info.builtin == Builtin::ListCopy)
    return listCopy(list);
  if (info.builtin == Builtin::ListIndex || info.builtin == Builtin::ListCount) {
    CGValue r;
    r.type = Type::scalar(ScalarKind::I64);
    Value z64 = constInt(0, ScalarKind::I64);
    if (!list.type.isKnownList()) { // no items
      if (info.builtin == Builtin::ListIndex)
        raiseNotInList(constBool(true), args[0]);
      r.leaves.push_back(z64);
      return r;
    }
    Type item = list.type.listItem();
    SmallVector<Value> data = listData(list);
    Value n = toIndex(list.leaves.back(), ScalarKind::I64);
    if (info.builtin == Builtin::ListCount) {
      r.leaves = carryLoop(constIndex(0), n, {z64}, [&](Value i, SmallVector<Value> st) {
        Value eq = itemEquals(loadItem(data, i, item), args[0]);
        return SmallVector<Value>{B.create<arith::AddIOp>(
            CurLoc, st[0], B.create<arith::ExtUIOp>(CurLoc, B.getI64Type(), eq))};
      });
      return r;
    }
    Value at = findItem(data, n, item, args[0]);
    raiseNotInList(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, at, n), args[0]);
    r.leaves.push_back(indexToI64(at));
    return r;
  }
  // The list's type may be wider than the receiver's value (Sema widened
  // the variable for what this call adds).
  Type t = F.vars.at(*name), item = t.listItem();
  list = convert(list, t);
  SmallVector<Value> data = listData(list);
  Value len = list.leaves.back();
  Value n = toIndex(len, ScalarKind::I64);
  Value one = constIndex(1);
  auto indexOperand = [&](size_t i) {
    return castScalar(args[i].single(), args[i].type.scalarKind(), ScalarKind::I64);
  };
  switch (info.builtin) {
  case Builtin::ListAppend: {
    Value need = B.create<arith::AddIOp>(CurLoc, n, one);
    data = listReserve(data, len, need, item);
    storeItem(args[0], data, n, item);
    writeVar(*name, makeList(item, data, indexToI64(need)));
    return none;
  }
  case Builtin::ListExtend:
    // args[0] is a list of tuples, or the array of the items (Sema's
    // listViews).
    writeVar(*name, extendList(list, args[0]));
    return none;
  case Builtin::ListInsert: {
    // Python clamps the position to [0, len] (negative ones count from
    // the end).
    Value at = indexOperand(0);
    Value z64 = constInt(0, ScalarKind::I64);
    Value neg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, at, z64);
    at = B.create<arith::SelectOp>(CurLoc, neg, B.create<arith::AddIOp>(CurLoc, at, len), at);
    at = B.create<arith::MaxSIOp>(CurLoc, at, z64);
    at = B.create<arith::MinSIOp>(CurLoc, at, len);
    Value pos = toIndex(at, ScalarKind::I64);
    Value need = B.create<arith::AddIOp>(CurLoc, n, one);
    data = listReserve(data, len, need, item);
    moveItems(data, pos, data, B.create<arith::AddIOp>(CurLoc, pos, one),
              B.create<arith::SubIOp>(CurLoc, n, pos), item, /*backward=*/true);
    storeItem(args[1], data, pos, item);
    writeVar(*name, makeList(item, data, indexToI64(need)));
    return none;
  }
  case Builtin::ListPop: {
    Value z64 = constInt(0, ScalarKind::I64);
    Value at = info.operands.empty()
                   ? B.create<arith::SubIOp>(CurLoc, len, constInt(1, ScalarKind::I64)).getResult()
                   : indexOperand(0);
    if (!info.operands.empty()) {
      Value neg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, at, z64);
      at = B.create<arith::SelectOp>(CurLoc, neg, B.create<arith::AddIOp>(CurLoc, at, len), at);
    }
    Value bad = B.create<arith::OrIOp>(
        CurLoc, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, at, z64),
        B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sge, at, len));
    if (info.operands.empty()) {
      raiseIf(bad, KernelFaultKind::Raise, "IndexError: pop from empty list", {});
    } else {
      Value empty = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, len, z64);
      raiseIf(B.create<arith::AndIOp>(CurLoc, bad, empty), KernelFaultKind::Raise,
              "IndexError: pop from empty list", {});
      raiseIf(B.create<arith::AndIOp>(CurLoc, bad, logicalNot(empty)), KernelFaultKind::Raise,
              "IndexError: pop index out of range", {});
    }
    // Where a raise returned (parallel regions): nothing is removed, and
    // the value read is zeros.
    CGValue r;
    r.type = item;
    SmallVector<ScalarKind> kinds = itemKinds(item);
    SmallVector<mlir::Type> types;
    for (ScalarKind k : kinds)
      types.push_back(scalarType(Ctx, k));
    auto ifOp = B.create<scf::IfOp>(CurLoc, types, bad, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard g(B);
      B.setInsertionPointToStart(ifOp.thenBlock());
      SmallVector<Value> zeros;
      for (ScalarKind k : kinds)
        zeros.push_back(zeroOf(Type::scalar(k)));
      B.create<scf::YieldOp>(CurLoc, zeros);
      B.setInsertionPointToStart(ifOp.elseBlock());
      Value pos = toIndex(at, ScalarKind::I64);
      SmallVector<Value> fields; // (an array's: its descriptor's)
      for (size_t f = 0; f < kinds.size(); ++f)
        fields.push_back(loadElement(data[f], {pos}, kinds[f]));
      Value next = B.create<arith::AddIOp>(CurLoc, pos, one);
      moveItems(data, next, data, pos, B.create<arith::SubIOp>(CurLoc, n, next), item);
      B.create<scf::YieldOp>(CurLoc, fields);
    }
    r.leaves.append(ifOp.getResults().begin(), ifOp.getResults().end());
    if (item.isArray()) // (zeros: an empty array)
      r.leaves.assign({arrayOfFields(r.leaves, item)});
    Value left = B.create<arith::SelectOp>(
        CurLoc, bad, len, B.create<arith::SubIOp>(CurLoc, len, constInt(1, ScalarKind::I64)));
    writeVar(*name, makeList(item, data, left));
    return r;
  }
  case Builtin::ListClear:
    writeVar(*name, makeList(item, data, constInt(0, ScalarKind::I64)));
    return none;
  case Builtin::ListRemove: {
    // The first item equal to x (ValueError where none is).
    Value at = findItem(data, n, item, args[0]);
    Value found = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult, at, n);
    raiseIf(logicalNot(found), KernelFaultKind::Raise,
            "ValueError: list.remove(x): x not in list", {});
    ifThen(found, [&] {
      Value next = B.create<arith::AddIOp>(CurLoc, at, one);
      moveItems(data, next, data, at, B.create<arith::SubIOp>(CurLoc, n, next), item);
    });
    writeVar(*name, makeList(item, data,
                             B.create<arith::SubIOp>(
                                 CurLoc, len, B.create<arith::ExtUIOp>(CurLoc, B.getI64Type(),
                                                                       found))));
    return none;
  }
  case Builtin::ListReverse:
    reverseItems(data, n, item);
    return none;
  case Builtin::ListSort: {
    if (info.keyFn) {
      sortByKey(data, n, item, info, args.empty() ? Value() : truth(args[0]));
      return none;
    }
    if (item.isTuple()) {
      sortItems(data, n, item);
    } else {
      ScalarKind k = item.scalarKind();
      sortLanes(storageView(data[0], n, k), k, 0);
    }
    if (!args.empty())
      ifThen(truth(args[0]), [&] { reverseItems(data, n, item); });
    return none;
  }
  case Builtin::ListDelete: {
    if (!slice) {
      // del xs[i]: Python's negative positions; IndexError outside.
      Value z64 = constInt(0, ScalarKind::I64);
      Value at = indexOperand(0);
      Value neg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, at, z64);
      at = B.create<arith::SelectOp>(CurLoc, neg, B.create<arith::AddIOp>(CurLoc, at, len), at);
      Value bad = B.create<arith::OrIOp>(
          CurLoc, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, at, z64),
          B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sge, at, len));
      raiseIf(bad, KernelFaultKind::Raise, "IndexError: list assignment index out of range",
              {});
      ifThen(logicalNot(bad), [&] {
        Value pos = toIndex(at, ScalarKind::I64);
        Value next = B.create<arith::AddIOp>(CurLoc, pos, one);
        moveItems(data, next, data, pos, B.create<arith::SubIOp>(CurLoc, n, next), item);
      });
      writeVar(*name, makeList(item, data,
                               B.create<arith::SelectOp>(
                                   CurLoc, bad, len,
                                   B.create<arith::SubIOp>(CurLoc, len,
                                                           constInt(1, ScalarKind::I64)))));
      return none;
    }
    // del xs[a:b:c]: the `count` items lo, lo + step, ... go; the others
    // keep their order.
    Value lo, count, step;
    sliceBounds(*slice, n, lo, count, step);
    if (slice->step && !literalInt(*slice->step))
      raiseIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, step, constIndex(0)),
              KernelFaultKind::Raise, "ValueError: slice step cannot be zero", {});
    Value left = B.create<arith::SubIOp>(CurLoc, n, count);
    std::optional<int64_t> constStep =
        slice->step ? literalInt(*slice->step) : std::optional<int64_t>(1);
    if (constStep == 1) {
      Value end = B.create<arith::AddIOp>(CurLoc, lo, count);
      moveItems(data, end, data, lo, B.create<arith::SubIOp>(CurLoc, n, end), item);
    } else {
      // The deleted positions in ascending order: first, first + by, ...
      Value zero = constIndex(0);
      Value down = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, step, zero);
      Value by = B.create<arith::SelectOp>(CurLoc, down,
                                           B.create<arith::SubIOp>(CurLoc, zero, step), step);
      // (A zero step raised above; where the raise returns, in parallel
      // regions, the remainder below still divides by at least 1.)
      by = B.create<arith::MaxSIOp>(CurLoc, by, one);
      Value lastOffset = B.create<arith::MulIOp>(
          CurLoc, B.create<arith::MaxSIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, count, one),
                                           zero),
          step);
      Value first = B.create<arith::SelectOp>(
          CurLoc, down, B.create<arith::AddIOp>(CurLoc, lo, lastOffset), lo);
      Value span = B.create<arith::MulIOp>(CurLoc, count, by); // past the last deleted
      carryLoop(first, n, {first}, [&](Value i, SmallVector<Value> st) {
        Value off = B.create<arith::SubIOp>(CurLoc, i, first);
        Value gone = B.create<arith::AndIOp>(
            CurLoc, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, off, span),
            B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq,
                                    B.create<arith::RemSIOp>(CurLoc, off, by), zero));
        Value keep = logicalNot(gone);
        ifThen(keep, [&] { moveItems(data, i, data, st[0], one, item); });
        return SmallVector<Value>{B.create<arith::SelectOp>(
            CurLoc, keep, B.create<arith::AddIOp>(CurLoc, st[0], one), st[0])};
      });
    }
    writeVar(*name, makeList(item, data, indexToI64(left)));
    return none;
  }
  default:
    break;
  }
  Failed = true;
  Diags.error(F.file, c.range(), "internal compiler error: unexpected list method");
  return none;
}

Value FunctionGen::itemEquals(const CGValue &a, const CGValue &b) {
  SmallVector<ScalarKind> ak = itemKinds(a.type), bk = itemKinds(b.type);
  Value eq = constBool(true);
  for (size_t f = 0; f < ak.size(); ++f)
    eq = B.create<arith::AndIOp>(
        CurLoc, eq, compare1(ast::CmpOpKind::Eq, a.leaves[f], ak[f], b.leaves[f], bk[f]));
  return eq;
}

Value FunctionGen::walkWhile(Value start, int64_t step,
                             const std::function<Value(Value)> &inRange,
                             const std::function<Value(Value)> &more) {
  mlir::Type t = start.getType();
  return loopWhile(
      {start},
      [&](mlir::ValueRange v) {
        return emitIf(
            inRange(v[0]), {B.getI1Type()}, [&]() -> SmallVector<Value> { return {more(v[0])}; },
            [&]() -> SmallVector<Value> { return {constBool(false)}; })[0];
      },
      [&](mlir::ValueRange v) -> SmallVector<Value> {
        Value by = B.create<arith::ConstantOp>(CurLoc, B.getIntegerAttr(t, step));
        return {B.create<arith::AddIOp>(CurLoc, v[0], by)};
      })[0];
}

Value FunctionGen::findItem(mlir::ValueRange data, Value n, const Type &item, const CGValue &x) {
  return walkWhile(
      constIndex(0), 1,
      [&](Value i) { return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult, i, n); },
      [&](Value i) { return logicalNot(itemEquals(loadItem(data, i, item), x)); });
}

void FunctionGen::sortItems(mlir::ValueRange data, Value n, const Type &item) {
  SmallVector<ScalarKind> kinds = itemKinds(item);
  SmallVector<Value> words = {n, constInt(static_cast<int64_t>(kinds.size()), ScalarKind::I64)};
  for (size_t f = 0; f < kinds.size(); ++f) {
    words.push_back(constInt(static_cast<int64_t>(kinds[f]), ScalarKind::I64));
    words.push_back(elementAddress(data[f], {constIndex(0)}));
  }
  MG.callRuntime(B, CurLoc, "_stn_sort_items", {wordsAddress(words)}, {});
}

void FunctionGen::sortByKey(mlir::ValueRange data, Value n, const Type &item,
                            const CallInfo &info, Value reverse) {
  // Python calls the key once per item and sorts the items by their keys,
  // stably. Here: the keys go into a list of (key fields..., t) with t the
  // item's position (its negative for reverse=True), which _stn_sort_items
  // sorts by every field: t makes equal keys keep their order; reversed
  // afterwards, -t leaves them in order too. The items are then moved to
  // the positions t gives.
  std::function<CGValue(const CGValue &)> keyOf = keyCaller(info);
  std::vector<Type> fields;
  info.keyFn->resultType.collectLeaves(fields);
  fields.push_back(Type::scalar(ScalarKind::I64));
  Type keyItem = Type::tuple(fields);
  SmallVector<Value> keys = newListStorage(n, keyItem);
  auto position = [&](Value t) { // t for the item at t, or -t under reverse
    return reverse ? B.create<arith::SelectOp>(
                         CurLoc, reverse,
                         B.create<arith::SubIOp>(CurLoc, constInt(0, ScalarKind::I64), t), t)
                         .getResult()
                   : t;
  };
  indexLoop(constIndex(0), n, [&](Value i) {
    SmallVector<Value> leaves = keyOf(loadItem(data, i, item)).leaves;
    leaves.push_back(position(indexToI64(i)));
    for (size_t f = 0; f < fields.size(); ++f)
      storeElement(leaves[f], keys[f], {i}, fields[f].scalarKind());
  });
  sortItems(keys, n, keyItem);
  SmallVector<Value> moved = newListStorage(n, item);
  indexLoop(constIndex(0), n, [&](Value j) {
    Value t = loadElement(keys.back(), {j}, ScalarKind::I64);
    storeItem(loadItem(data, toIndex(position(t), ScalarKind::I64), item), moved, j, item);
  });
  moveItems(moved, constIndex(0), data, constIndex(0), n, item);
  for (Value m : keys)
    B.create<memref::DeallocOp>(CurLoc, m);
  for (Value m : moved)
    B.create<memref::DeallocOp>(CurLoc, m);
  if (reverse)
    ifThen(reverse, [&] { reverseItems(data, n, item); });
}

std::function<CGValue(const CGValue &)> FunctionGen::keyCaller(const CallInfo &info) {
  const TypedFunction &kf = *info.keyFn;
  size_t written = kf.def->writtenParams();
  SmallVector<Value> extra; // the other arguments, evaluated once
  SmallVector<CGValue> captured = elementsOf(expr(*info.key)); // a function value
  for (size_t p = 1; p < kf.argTypes.size(); ++p) {
    CGValue v = p < written ? constValue(*kf.decl->defaults[p]) : captured[p - written];
    v = convert(v, kf.argTypes[p]);
    extra.append(v.leaves.begin(), v.leaves.end());
  }
  func::FuncOp fn = MG.funcFor(&kf);
  if (!fn) {
    missingFunction(kf, info.key->range());
    return [this, &kf](const CGValue &) { return defaultValue(kf.resultType); };
  }
  return [this, &kf, fn, extra](const CGValue &item) {
    CGValue x = convert(item, kf.argTypes[0]);
    SmallVector<Value> operands(x.leaves.begin(), x.leaves.end());
    operands.append(extra.begin(), extra.end());
    RaiseCheck before = raiseCountBefore(kf);
    auto call = B.create<func::CallOp>(CurLoc, fn, operands);
    stopIfCalleeRaised(before);
    CGValue r;
    r.type = kf.resultType;
    r.leaves.assign(call.getResults().begin(), call.getResults().end());
    return r;
  };
}

CGValue FunctionGen::minMaxItems(const ast::Call &c, const CallInfo &info) {
  // The first item is the best so far; each later one replaces it where its
  // key compares `<` (min) or `>` (max) with the best's, so the first of
  // equal items wins, as in Python. Without key= an item (converted to the
  // result's type) is its own key, and only the best item is carried.
  Type rt = F.typeOf(c);
  ast::CmpOpKind better =
      info.builtin == Builtin::Min ? ast::CmpOpKind::Lt : ast::CmpOpKind::Gt;
  bool keyed = info.keyFn != nullptr;
  std::function<CGValue(const CGValue &)> keyOf;
  if (keyed)
    keyOf = keyCaller(info);
  auto pick = [&](const CGValue &x, const CGValue &best, const CGValue &bestKey,
                  CGValue &key) {
    CGValue r = convert(x, rt);
    key = keyed ? keyOf(x) : r;
    Value take = compareValues(better, key, bestKey);
    for (size_t l = 0; l < r.leaves.size(); ++l)
      r.leaves[l] = B.create<arith::SelectOp>(CurLoc, take, r.leaves[l], best.leaves[l]);
    for (size_t l = 0; l < key.leaves.size() && keyed; ++l)
      key.leaves[l] =
          B.create<arith::SelectOp>(CurLoc, take, key.leaves[l], bestKey.leaves[l]);
    return r;
  };
  auto src = F.listSources.find(&c);
  if (src == F.listSources.end()) {
    // The elements of a tuple, or the arguments: evaluated first, in order.
    SmallVector<CGValue> items;
    if (info.flags & 1)
      items = elementsOf(expr(*info.operands[0]));
    else
      for (const ast::Expr *o : info.operands)
        items.push_back(expr(*o));
    if (items.empty())
      return convert(expr(*info.fallback), rt);
    CGValue best = convert(items[0], rt);
    CGValue bestKey = keyed ? keyOf(items[0]) : best;
    for (size_t i = 1; i < items.size(); ++i) {
      CGValue key;
      best = pick(items[i], best, bestKey, key);
      bestKey = keyed ? key : best;
    }
    return best;
  }
  IterItems items = iterItems(src->second);
  Value n = toIndex(items.length, ScalarKind::I64);
  Value none = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, n, constIndex(0));
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, rt, types);
  SmallVector<Value> leaves = emitIf(
      none, types,
      [&]() -> SmallVector<Value> {
        if (info.fallback)
          return convert(expr(*info.fallback), rt).leaves;
        raiseIf(constBool(true), KernelFaultKind::Raise,
                fmt::format("ValueError: {}() arg is an empty sequence",
                            builtinName(info.builtin)),
                {});
        return defaultValue(rt).leaves;
      },
      [&]() -> SmallVector<Value> {
        CGValue first = items.item(constInt(0, ScalarKind::I64));
        CGValue best = convert(first, rt);
        CGValue bestKey = keyed ? keyOf(first) : best;
        size_t nb = best.leaves.size();
        SmallVector<Value> init(best.leaves.begin(), best.leaves.end());
        if (keyed)
          init.append(bestKey.leaves.begin(), bestKey.leaves.end());
        SmallVector<Value> last =
            carryLoop(constIndex(1), n, init, [&](Value i, SmallVector<Value> st) {
              CGValue b, bk, key;
              b.type = rt;
              b.leaves.assign(st.begin(), st.begin() + nb);
              bk = b;
              if (keyed) {
                bk.type = bestKey.type;
                bk.leaves.assign(st.begin() + nb, st.end());
              }
              CGValue r = pick(items.item(indexToI64(i)), b, bk, key);
              SmallVector<Value> next(r.leaves.begin(), r.leaves.end());
              if (keyed)
                next.append(key.leaves.begin(), key.leaves.end());
              return next;
            });
        last.resize(nb);
        return last;
      });
  CGValue r;
  r.type = rt;
  r.leaves.assign(leaves.begin(), leaves.end());
  return r;
}

void FunctionGen::reverseItems(mlir::ValueRange data, Value n, const Type &item) {
  Value last = B.create<arith::SubIOp>(CurLoc, n, constIndex(1));
  indexLoop(constIndex(0), B.create<arith::DivUIOp>(CurLoc, n, constIndex(2)), [&](Value i) {
    Value j = B.create<arith::SubIOp>(CurLoc, last, i);
    CGValue x = loadItem(data, i, item), y = loadItem(data, j, item);
    storeItem(y, data, i, item);
    storeItem(x, data, j, item);
  });
}

std::string FunctionGen::reprMarks(const Type &t) {
  std::string text;
  SmallVector<ScalarKind> kinds = itemKinds(t);
  if (t.isTuple())
    text += '(';
  for (size_t f = 0; f < kinds.size(); ++f) {
    if (f)
      text += ", ";
    text += kRaisedValue;
    text += messageLetter(kinds[f]);
  }
  if (t.isTuple())
    text += kinds.size() == 1 ? ",)" : ")";
  return text;
}

void FunctionGen::raiseNotInList(Value fail, const CGValue &x) {
  SmallVector<Value> words;
  size_t next = 0;
  messageWords(x.type, x.leaves, next, words);
  raiseIf(fail, KernelFaultKind::Raise,
          "ValueError: " + reprMarks(x.type) + " is not in list", words);
}

//===----------------------------------------------------------------------===//
// Dicts
//===----------------------------------------------------------------------===//
//
// A dict keeps its entries in insertion order (keys and values stored as a
// list's items are, one storage per number) with a live flag each, and an
// open-addressing hash index of twice the capacity (a power of two), probed
// linearly. An index slot holds -1 where empty, else a slot word: the entry's
// position in bits 0-47 and the top 15 bits of its key's hash in bits 48-62
// (the slot itself comes from the low bits). A probe loads 8 slots at once
// from where the key's hash points, compares their hash bits with the key's
// and compares keys only where those match (rarely more than once): it
// takes a predictable branch or two where a probe slot by slot branched on
// each slot, as many times as varied from key to key (bench/README.md,
// stn-bench-dicts). The storage holds kMirroredSlots more
// slots after the last, copies of the first ones, so that 8 slots from any
// slot are in bounds and in probe order. pop() clears an entry's
// live flag and empties its index slot, moving the later slots of its probe
// run back (unlinkEntry), so every slot holds a live entry; when every entry
// is used the entries are copied, live ones only, into storage twice as
// large (or as large, where at most half of them live), and the index is
// built again.

SmallVector<Value>
FunctionGen::carryLoop(Value lo, Value hi, mlir::ValueRange init,
                       const std::function<SmallVector<Value>(Value, SmallVector<Value>)> &body) {
  auto loop = B.create<scf::ForOp>(CurLoc, lo, hi, constIndex(1), init);
  {
    OpBuilder::InsertionGuard g(B);
    Block *b = loop.getBody();
    if (!b->empty() && b->back().hasTrait<mlir::OpTrait::IsTerminator>())
      b->back().erase();
    B.setInsertionPointToEnd(b);
    auto args = loop.getRegionIterArgs();
    B.create<scf::YieldOp>(
        CurLoc, body(loop.getInductionVar(), SmallVector<Value>(args.begin(), args.end())));
  }
  return SmallVector<Value>(loop.getResults().begin(), loop.getResults().end());
}

CGValue FunctionGen::dictValue(const Type &t, mlir::ValueRange leaves) {
  CGValue d;
  d.type = t;
  d.leaves.append(leaves.begin(), leaves.end());
  return d;
}

FunctionGen::DictParts FunctionGen::dictParts(const CGValue &d) {
  DictParts p;
  p.type = d.type;
  bool known = d.type.isKnownDict(); // (`{}` has no key or value storage)
  size_t nk = known ? listFieldKinds(d.type.dictKey()).size() : 0;
  size_t nv = known ? listFieldKinds(d.type.dictValue()).size() : 0;
  p.keys.append(d.leaves.begin(), d.leaves.begin() + nk);
  p.values.append(d.leaves.begin() + nk, d.leaves.begin() + nk + nv);
  p.live = d.leaves[nk + nv];
  p.index = d.leaves[nk + nv + 1];
  p.used = d.leaves[nk + nv + 2];
  p.len = d.leaves[nk + nv + 3];
  return p;
}

CGValue FunctionGen::makeDict(const DictParts &p) {
  CGValue d;
  d.type = p.type;
  d.leaves.append(p.keys.begin(), p.keys.end());
  d.leaves.append(p.values.begin(), p.values.end());
  d.leaves.append({p.live, p.index, p.used, p.len});
  return d;
}

Value FunctionGen::dictCapacity(const DictParts &p) {
  return B.create<memref::DimOp>(CurLoc, p.live, 0);
}

FunctionGen::DictParts FunctionGen::newDict(const Type &t, Value cap) {
  DictParts p;
  p.type = t;
  auto storage = [&](ScalarKind k, Value n) {
    return MG.allocArray(B, CurLoc, Type::array(k, 1), mlir::ValueRange{n});
  };
  if (t.isKnownDict()) {
    for (ScalarKind k : itemKinds(t.dictKey()))
      p.keys.push_back(storage(k, cap));
    for (ScalarKind k : itemKinds(t.dictValue()))
      p.values.push_back(storage(k, cap));
  }
  p.live = storage(ScalarKind::Bool, cap);
  Value stored = B.create<arith::AddIOp>(
      CurLoc, B.create<arith::MulIOp>(CurLoc, cap, constIndex(2)), constIndex(kMirroredSlots));
  p.index = storage(ScalarKind::I64, stored);
  Value empty = constInt(-1, ScalarKind::I64);
  indexLoop(constIndex(0), stored,
            [&](Value i) { storeElement(empty, p.index, {i}, ScalarKind::I64); });
  p.used = p.len = constInt(0, ScalarKind::I64);
  return p;
}

Value FunctionGen::hashKey(const CGValue &key) {
  auto i64 = B.getI64Type();
  auto c64 = [&](uint64_t v) {
    return B.create<arith::ConstantOp>(CurLoc, B.getI64IntegerAttr(static_cast<int64_t>(v)))
        .getResult();
  };
  SmallVector<ScalarKind> kinds = itemKinds(key.type);
  SmallVector<std::pair<Value, ScalarKind>> parts;
  for (size_t f = 0; f < kinds.size(); ++f) {
    ScalarKind k = kinds[f];
    Value x = key.leaves[f];
    if (isComplex(k)) {
      parts.push_back({B.create<complex::ReOp>(CurLoc, x), complexPart(k)});
      parts.push_back({B.create<complex::ImOp>(CurLoc, x), complexPart(k)});
    } else {
      parts.push_back({x, k});
    }
  }
  Value h = c64(0x243f6a8885a308d3ULL);
  for (auto [x, k] : parts) {
    Value bits;
    if (isFloat(k)) {
      // 0.0 and -0.0 are one key: hash them alike.
      Value zero = zeroOf(Type::scalar(k));
      Value isZero = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, x, zero);
      x = B.create<arith::SelectOp>(CurLoc, isZero, zero, x);
      mlir::Type it = B.getIntegerType(bitWidth(k));
      bits = B.create<arith::BitcastOp>(CurLoc, it, x);
      if (it != i64)
        bits = B.create<arith::ExtUIOp>(CurLoc, i64, bits);
    } else if (x.getType() != i64) {
      bits = isSignedInt(k) ? B.create<arith::ExtSIOp>(CurLoc, i64, x).getResult()
                            : B.create<arith::ExtUIOp>(CurLoc, i64, x).getResult();
    } else {
      bits = x;
    }
    h = B.create<arith::MulIOp>(CurLoc, B.create<arith::XOrIOp>(CurLoc, h, bits),
                                c64(0x9e3779b97f4a7c15ULL));
    h = B.create<arith::XOrIOp>(CurLoc, h,
                                B.create<arith::ShRUIOp>(CurLoc, h, c64(29)));
  }
  // A final mix (splitmix64's), so that the low bits the index uses depend
  // on all of them.
  h = B.create<arith::XOrIOp>(CurLoc, h, B.create<arith::ShRUIOp>(CurLoc, h, c64(32)));
  h = B.create<arith::MulIOp>(CurLoc, h, c64(0xd6e8feb86659fd93ULL));
  h = B.create<arith::XOrIOp>(CurLoc, h, B.create<arith::ShRUIOp>(CurLoc, h, c64(32)));
  return h;
}

Value FunctionGen::indexSlots(const DictParts &p) {
  return B.create<arith::SubIOp>(CurLoc, B.create<memref::DimOp>(CurLoc, p.index, 0),
                                 constIndex(kMirroredSlots));
}

void FunctionGen::storeSlot(const DictParts &p, Value slots, Value i, Value word) {
  storeElement(word, p.index, {i}, ScalarKind::I64);
  Value mirrored =
      B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult, i, constIndex(kMirroredSlots));
  ifThen(mirrored, [&] {
    storeElement(word, p.index, {B.create<arith::AddIOp>(CurLoc, slots, i)}, ScalarKind::I64);
  });
}

Value FunctionGen::slotWord(Value hash, Value e) {
  Value tag = B.create<arith::ShLIOp>(
      CurLoc, B.create<arith::ShRUIOp>(CurLoc, hash, constInt(49, ScalarKind::I64)),
      constInt(48, ScalarKind::I64));
  return B.create<arith::OrIOp>(CurLoc, tag, e);
}

Value FunctionGen::wordEntry(Value word) {
  return B.create<arith::AndIOp>(CurLoc, word,
                                 constInt((int64_t(1) << 48) - 1, ScalarKind::I64));
}

FunctionGen::ProbeEnd FunctionGen::dictFind(const DictParts &p, const CGValue &key) {
  SmallVector<Value> state{p.index, p.used, p.len};
  state.append(key.leaves.begin(), key.leaves.end());
  for (const RecentFind &f : Finds)
    if (f.block == B.getInsertionBlock() && f.state == state)
      return f.end;
  // A dict with no index slots has no keys: emptyDict's (`{}` before its
  // first store), or a variable not assigned on every path (whose storage
  // is empty: no mirrored slots either).
  auto indexT = B.getIndexType();
  Value none = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ule,
                                       B.create<memref::DimOp>(CurLoc, p.index, 0),
                                       constIndex(kMirroredSlots));
  Value slots = indexSlots(p);
  Value hash = hashKey(key);
  SmallVector<Value> found = emitIf(
      none, {indexT, B.getI64Type()},
      [&]() -> SmallVector<Value> { return {constIndex(0), constInt(-1, ScalarKind::I64)}; },
      [&]() -> SmallVector<Value> {
        ProbeEnd r = probe(p, key, slots, hash);
        return {r.slot, r.entry};
      });
  ProbeEnd end{found[0], found[1], hash};
  Finds.push_back({B.getInsertionBlock(), std::move(state), end});
  return end;
}

FunctionGen::ProbeEnd FunctionGen::probe(const DictParts &p, const CGValue &key, Value slots,
                                         Value hash) {
  auto indexT = B.getIndexType();
  auto i32 = B.getI32Type(), i64 = B.getI64Type();
  auto groupT = mlir::VectorType::get({kMirroredSlots}, i64);
  auto ptrT = mlir::LLVM::LLVMPointerType::get(Ctx);
  auto splat = [&](int64_t v) -> Value {
    auto bits = llvm::APInt(64, static_cast<uint64_t>(v));
    return B.create<arith::ConstantOp>(CurLoc, mlir::DenseElementsAttr::get(groupT, bits));
  };
  // The lanes of `cond` (vector<8xi1>) as the low bits of an i32.
  auto laneBits = [&](Value cond) -> Value {
    Value bits = B.create<mlir::LLVM::BitcastOp>(CurLoc, B.getIntegerType(kMirroredSlots), cond);
    return B.create<arith::ExtUIOp>(CurLoc, i32, bits);
  };
  if (!hash)
    hash = hashKey(key);
  Value mask = B.create<arith::SubIOp>(CurLoc, slots, constIndex(1));
  Value start =
      B.create<arith::AndIOp>(CurLoc, B.create<arith::IndexCastOp>(CurLoc, indexT, hash), mask);
  // The key's hash bits in every lane, as the slot words hold them.
  Value tag = B.create<arith::ShRUIOp>(CurLoc, hash, constInt(49, ScalarKind::I64));
  Value tags = B.create<mlir::LLVM::ShuffleVectorOp>(
      CurLoc,
      B.create<mlir::LLVM::InsertElementOp>(
          CurLoc, B.create<mlir::LLVM::PoisonOp>(CurLoc, groupT), tag,
          B.create<arith::ConstantOp>(CurLoc, B.getI32IntegerAttr(0))),
      B.create<mlir::LLVM::PoisonOp>(CurLoc, groupT),
      llvm::SmallVector<int32_t>(kMirroredSlots, 0));
  Value base = B.create<mlir::LLVM::IntToPtrOp>(
      CurLoc, ptrT,
      B.create<arith::IndexCastOp>(
          CurLoc, i64, B.create<memref::ExtractAlignedPointerAsIndexOp>(CurLoc, p.index)));
  Value zero32 = B.create<arith::ConstantOp>(CurLoc, B.getI32IntegerAttr(0));
  Value one32 = B.create<arith::ConstantOp>(CurLoc, B.getI32IntegerAttr(1));
  // (group start, slot, entry): the probe ends at the first slot from the
  // key's whose word is the key's, or at the first empty one.
  auto loop = B.create<scf::WhileOp>(CurLoc, mlir::TypeRange{indexT, indexT, i64},
                                     mlir::ValueRange{start, start, constInt(-1, ScalarKind::I64)});
  {
    OpBuilder::InsertionGuard g(B);
    Block *before = B.createBlock(&loop.getBefore(), {}, {indexT, indexT, i64},
                                  {CurLoc, CurLoc, CurLoc});
    B.setInsertionPointToEnd(before);
    Value at = before->getArgument(0);
    Value at64 = B.create<arith::IndexCastOp>(CurLoc, i64, at);
    Value ptr = B.create<mlir::LLVM::GEPOp>(CurLoc, ptrT, i64, base,
                                            llvm::ArrayRef<mlir::LLVM::GEPArg>{at64});
    Value group = B.create<mlir::LLVM::LoadOp>(CurLoc, groupT, ptr, /*alignment=*/8);
    Value same = laneBits(B.create<arith::CmpIOp>(
        CurLoc, arith::CmpIPredicate::eq, B.create<arith::ShRUIOp>(CurLoc, group, splat(48)),
        tags));
    Value empty =
        laneBits(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, group, splat(0)));
    auto lane = [&](Value bits) {
      return B.create<mlir::math::CountTrailingZerosOp>(CurLoc, bits).getResult();
    };
    // The word of a lane, loaded again (in bounds: the mirrored slots),
    // which costs less than taking it from the group by a variable lane.
    auto laneWord = [&](Value l) -> Value {
      Value slot = B.create<arith::AddIOp>(CurLoc, at64, B.create<arith::ExtUIOp>(CurLoc, i64, l));
      Value ptr = B.create<mlir::LLVM::GEPOp>(CurLoc, ptrT, i64, base,
                                              llvm::ArrayRef<mlir::LLVM::GEPArg>{slot});
      return B.create<mlir::LLVM::LoadOp>(CurLoc, i64, ptr, /*alignment=*/8);
    };
    // The first lane with the key's hash bits whose key is the key (an
    // empty slot's -1 has other bits; one further on belongs to another key).
    auto match = B.create<scf::WhileOp>(CurLoc, mlir::TypeRange{i32}, mlir::ValueRange{same});
    {
      OpBuilder::InsertionGuard g2(B);
      Block *mb = B.createBlock(&match.getBefore(), {}, {i32}, {CurLoc});
      B.setInsertionPointToEnd(mb);
      Value bits = mb->getArgument(0);
      Value any = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, bits, zero32);
      SmallVector<Value> other = emitIf(
          any, {B.getI1Type()},
          [&]() -> SmallVector<Value> {
            Value e = toIndex(wordEntry(laneWord(lane(bits))), ScalarKind::I64);
            return {logicalNot(itemEquals(key, loadItem(p.keys, e, p.type.dictKey())))};
          },
          [&]() -> SmallVector<Value> { return {constBool(false)}; });
      B.create<scf::ConditionOp>(CurLoc, other[0], mlir::ValueRange{bits});
      Block *ma = B.createBlock(&match.getAfter(), {}, {i32}, {CurLoc});
      B.setInsertionPointToEnd(ma);
      Value rest = ma->getArgument(0); // without its lowest lane
      Value next =
          B.create<arith::AndIOp>(CurLoc, rest, B.create<arith::SubIOp>(CurLoc, rest, one32));
      B.create<scf::YieldOp>(CurLoc, mlir::ValueRange{next});
    }
    Value hitBits = match.getResult(0);
    Value hit = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, hitBits, zero32);
    Value gap = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, empty, zero32);
    Value hitLane = lane(hitBits);
    Value endLane = B.create<arith::SelectOp>(CurLoc, hit, hitLane, lane(empty));
    Value slot = B.create<arith::AndIOp>(
        CurLoc,
        B.create<arith::AddIOp>(CurLoc, at,
                                B.create<arith::IndexCastUIOp>(CurLoc, indexT, endLane)),
        mask);
    Value entry = B.create<arith::SelectOp>(
        CurLoc, hit, wordEntry(laneWord(B.create<arith::SelectOp>(CurLoc, hit, hitLane, zero32))),
        constInt(-1, ScalarKind::I64));
    Value goOn = logicalNot(B.create<arith::OrIOp>(CurLoc, hit, gap));
    B.create<scf::ConditionOp>(CurLoc, goOn, mlir::ValueRange{at, slot, entry});
  }
  {
    OpBuilder::InsertionGuard g(B);
    Block *after = B.createBlock(&loop.getAfter(), {}, {indexT, indexT, i64},
                                 {CurLoc, CurLoc, CurLoc});
    B.setInsertionPointToEnd(after);
    Value next = B.create<arith::AndIOp>(
        CurLoc,
        B.create<arith::AddIOp>(CurLoc, after->getArgument(0), constIndex(kMirroredSlots)),
        mask);
    B.create<scf::YieldOp>(CurLoc, mlir::ValueRange{next, after->getArgument(1),
                                                    after->getArgument(2)});
  }
  return {loop.getResult(1), loop.getResult(2), hash};
}

FunctionGen::DictParts FunctionGen::dictRebuild(const DictParts &p, Value cap, bool freeOld) {
  DictParts q = newDict(p.type, cap);
  Type kt = p.type.dictKey(), vt = p.type.dictValue();
  Value slots = indexSlots(q);
  SmallVector<Value> kept = carryLoop(
      constIndex(0), toIndex(p.used, ScalarKind::I64), {constIndex(0)},
      [&](Value e, SmallVector<Value> state) -> SmallVector<Value> {
        Value n = state[0];
        return emitIf(
            loadElement(p.live, {e}, ScalarKind::Bool), {B.getIndexType()},
            [&]() -> SmallVector<Value> {
              CGValue k = loadItem(p.keys, e, kt);
              storeItem(k, q.keys, n, kt);
              storeItem(loadItem(p.values, e, vt), q.values, n, vt);
              storeElement(constBool(true), q.live, {n}, ScalarKind::Bool);
              // The keys differ: each probe ends at an empty slot (a new
              // dict of live entries has at least one slot: cap > 0).
              ProbeEnd end = probe(q, k, slots);
              storeSlot(q, slots, end.slot, slotWord(end.hash, indexToI64(n)));
              return {B.create<arith::AddIOp>(CurLoc, n, constIndex(1))};
            },
            [&]() -> SmallVector<Value> { return {n}; });
      });
  q.used = q.len = indexToI64(kept[0]);
  if (freeOld) {
    for (Value m : p.keys)
      B.create<memref::DeallocOp>(CurLoc, m);
    for (Value m : p.values)
      B.create<memref::DeallocOp>(CurLoc, m);
    B.create<memref::DeallocOp>(CurLoc, p.live);
    B.create<memref::DeallocOp>(CurLoc, p.index);
  }
  return q;
}

FunctionGen::DictParts FunctionGen::dictSet(DictParts p, const CGValue &keyIn,
                                            const CGValue &valueIn, bool mustExist) {
  Type kt = p.type.dictKey(), vt = p.type.dictValue();
  CGValue key = convert(keyIn, kt);
  auto [slot, e, hash] = dictFind(p, key);
  Value found = dictHas(e);
  if (mustExist) {
    // A new key while a loop iterates over the dict: Python's RuntimeError.
    raiseIf(logicalNot(found), KernelFaultKind::Raise,
            p.type.isSet() ? "RuntimeError: Set changed size during iteration"
                           : "RuntimeError: dictionary changed size during iteration",
            {});
    ifThen(found, [&] { storeItem(valueIn, p.values, toIndex(e, ScalarKind::I64), vt); });
    return p;
  }
  CGValue whole = makeDict(p);
  SmallVector<Value> same(whole.leaves.begin(), whole.leaves.end());
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, p.type, types);
  SmallVector<Value> out = emitIf(
      found, types,
      [&]() -> SmallVector<Value> {
        storeItem(valueIn, p.values, toIndex(e, ScalarKind::I64), vt);
        return same;
      },
      [&]() -> SmallVector<Value> {
        // Full: copy the live entries to storage twice as large, or as
        // large where at most half of them live (at least 8), and probe the
        // new index; else the probe above ended at the slot for the key.
        Value cap = dictCapacity(p);
        Value full = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq,
                                             toIndex(p.used, ScalarKind::I64), cap);
        SmallVector<mlir::Type> withSlot(types);
        withSlot.push_back(B.getIndexType());
        SmallVector<Value> grown = emitIf(
            full, withSlot,
            [&]() -> SmallVector<Value> {
              Value twice = B.create<arith::MulIOp>(CurLoc, toIndex(p.len, ScalarKind::I64),
                                                    constIndex(2));
              Value small =
                  B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ule, twice, cap);
              Value to = B.create<arith::SelectOp>(
                  CurLoc, small, cap, B.create<arith::MulIOp>(CurLoc, cap, constIndex(2)));
              to = B.create<arith::MaxUIOp>(CurLoc, to, constIndex(8)); // (none: 8)
              DictParts q = dictRebuild(p, to, /*freeOld=*/true);
              Value at = probe(q, key, indexSlots(q), hash).slot;
              CGValue r = makeDict(q);
              SmallVector<Value> leaves(r.leaves.begin(), r.leaves.end());
              leaves.push_back(at);
              return leaves;
            },
            [&]() -> SmallVector<Value> {
              SmallVector<Value> leaves(same);
              leaves.push_back(slot);
              return leaves;
            });
        Value at = grown.pop_back_val();
        DictParts q = dictParts(dictValue(p.type, grown));
        Value n = toIndex(q.used, ScalarKind::I64);
        storeItem(key, q.keys, n, kt);
        storeItem(valueIn, q.values, n, vt);
        storeElement(constBool(true), q.live, {n}, ScalarKind::Bool);
        storeSlot(q, indexSlots(q), at, slotWord(hash, q.used));
        Value one = constInt(1, ScalarKind::I64);
        q.used = B.create<arith::AddIOp>(CurLoc, q.used, one);
        q.len = B.create<arith::AddIOp>(CurLoc, q.len, one);
        CGValue r = makeDict(q);
        return SmallVector<Value>(r.leaves.begin(), r.leaves.end());
      });
  return dictParts(dictValue(p.type, out));
}

Value FunctionGen::dictEntry(const DictParts &p, const CGValue &keyIn, bool raiseMissing,
                             Value *slot) {
  CGValue key = convert(keyIn, p.type.dictKey());
  ProbeEnd end = dictFind(p, key);
  Value e = end.entry;
  if (slot)
    *slot = end.slot;
  Value missing =
      B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, e, constInt(-1, ScalarKind::I64));
  if (raiseMissing) {
    // Python's message: KeyError and the key's repr.
    std::string text = "KeyError: " + reprMarks(key.type);
    SmallVector<Value> words;
    size_t next = 0;
    messageWords(key.type, key.leaves, next, words);
    raiseIf(missing, KernelFaultKind::Raise, text, words);
  }
  return e;
}

void FunctionGen::unlinkEntry(const DictParts &p, Value slot, Value e) {
  storeElement(constBool(false), p.live, {toIndex(e, ScalarKind::I64)}, ScalarKind::Bool);
  // Linear probing's deletion: each later slot of the run moves into the
  // hole unless its key's home slot lies cyclically in (hole, slot].
  auto indexT = B.getIndexType();
  Value slots = indexSlots(p);
  Value mask = B.create<arith::SubIOp>(CurLoc, slots, constIndex(1));
  Value empty = constInt(-1, ScalarKind::I64);
  // Carries (hole, last slot looked at); the body also gets the next
  // slot's word, which the condition loaded.
  auto i64 = B.getI64Type();
  auto loop = B.create<scf::WhileOp>(CurLoc, mlir::TypeRange{indexT, indexT, i64},
                                     mlir::ValueRange{slot, slot});
  {
    OpBuilder::InsertionGuard g(B);
    Block *before = B.createBlock(&loop.getBefore(), {}, {indexT, indexT}, {CurLoc, CurLoc});
    B.setInsertionPointToEnd(before);
    Value hole = before->getArgument(0);
    Value j = B.create<arith::AndIOp>(
        CurLoc, B.create<arith::AddIOp>(CurLoc, before->getArgument(1), constIndex(1)), mask);
    Value at = loadElement(p.index, {j}, ScalarKind::I64);
    Value more = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, at, empty);
    B.create<scf::ConditionOp>(CurLoc, more, mlir::ValueRange{hole, j, at});
  }
  {
    OpBuilder::InsertionGuard g(B);
    Block *after = B.createBlock(&loop.getAfter(), {}, {indexT, indexT, i64},
                                 {CurLoc, CurLoc, CurLoc});
    B.setInsertionPointToEnd(after);
    Value hole = after->getArgument(0), j = after->getArgument(1), at = after->getArgument(2);
    CGValue key = loadItem(p.keys, toIndex(wordEntry(at), ScalarKind::I64), p.type.dictKey());
    Value home = B.create<arith::AndIOp>(
        CurLoc, B.create<arith::IndexCastOp>(CurLoc, indexT, hashKey(key)), mask);
    auto ule = [&](Value a, Value b) {
      return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ule, a, b).getResult();
    };
    auto ult = [&](Value a, Value b) {
      return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult, a, b).getResult();
    };
    // home in (hole, j], cyclically: the slot stays.
    Value noWrap = B.create<arith::AndIOp>(CurLoc, ult(hole, home), ule(home, j));
    Value wrap = B.create<arith::OrIOp>(CurLoc, ult(hole, home), ule(home, j));
    Value stays = B.create<arith::SelectOp>(CurLoc, ule(hole, j), noWrap, wrap);
    SmallVector<Value> next = emitIf(
        stays, {indexT}, [&]() -> SmallVector<Value> { return {hole}; },
        [&]() -> SmallVector<Value> {
          storeSlot(p, slots, hole, at);
          return {j};
        });
    B.create<scf::YieldOp>(CurLoc, mlir::ValueRange{next[0], j});
  }
  storeSlot(p, slots, loop.getResult(0), empty);
}

Value FunctionGen::dictHas(Value e) {
  return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, e,
                                 constInt(-1, ScalarKind::I64));
}

CGValue FunctionGen::valueOr(const DictParts &p, Value e, const Type &rt,
                             const std::function<CGValue()> &otherwise) {
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, rt, types);
  CGValue r;
  r.type = rt;
  r.leaves = emitIf(
      dictHas(e), types,
      [&]() -> SmallVector<Value> {
        Value at = toIndex(e, ScalarKind::I64);
        CGValue x = convert(loadItem(p.values, at, p.type.dictValue()), rt);
        return SmallVector<Value>(x.leaves.begin(), x.leaves.end());
      },
      [&]() -> SmallVector<Value> {
        CGValue x = convert(otherwise(), rt);
        return SmallVector<Value>(x.leaves.begin(), x.leaves.end());
      });
  return r;
}

CGValue FunctionGen::emptyDict(const Type &t) { return makeDict(newDict(t, constIndex(0))); }

CGValue FunctionGen::insertEntries(const CGValue &into, const CGValue &from, bool mustExist) {
  if (!from.type.isKnownDict())
    return into;
  DictParts src = dictParts(from);
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, into.type, types);
  SmallVector<Value> out = carryLoop(
      constIndex(0), toIndex(src.used, ScalarKind::I64), into.leaves,
      [&](Value e, SmallVector<Value> state) -> SmallVector<Value> {
        return emitIf(
            loadElement(src.live, {e}, ScalarKind::Bool), types,
            [&]() -> SmallVector<Value> {
              CGValue r = makeDict(dictSet(dictParts(dictValue(into.type, state)),
                                           loadItem(src.keys, e, from.type.dictKey()),
                                           loadItem(src.values, e, from.type.dictValue()),
                                           mustExist));
              return SmallVector<Value>(r.leaves.begin(), r.leaves.end());
            },
            [&]() -> SmallVector<Value> { return state; });
      });
  return dictValue(into.type, out);
}

CGValue FunctionGen::convertDict(const CGValue &v, const Type &to) {
  if (v.type == to)
    return v;
  // Each entry converted and set again (converted keys hash differently).
  CGValue into = makeDict(
      newDict(to, v.type.isKnownDict() ? dictCapacity(dictParts(v)) : constIndex(0)));
  return insertEntries(into, v, /*mustExist=*/false);
}

CGValue FunctionGen::dictDisplay(const ast::Dict &d) {
  Type t = F.typeOf(d);
  if (d.keys.empty()) // `{}`: its types are those of what is stored into it
    return emptyDict(t);
  int64_t cap = 8;
  while (cap < static_cast<int64_t>(d.keys.size()))
    cap *= 2;
  DictParts p = newDict(t, constIndex(cap));
  for (size_t i = 0; i < d.keys.size(); ++i) {
    CGValue k = expr(*d.keys[i]);
    CGValue v = expr(*d.values[i]);
    p = dictSet(p, k, v, false);
  }
  return makeDict(p);
}

CGValue FunctionGen::dictComp(const ast::ListComp &l) {
  Type t = F.typeOf(l);
  CGValue empty = emptyDict(t);
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, t, types);
  auto init = [&](Value) { return SmallVector<Value>(empty.leaves.begin(), empty.leaves.end()); };
  auto set = [&](SmallVector<Value> state, CGValue k) -> SmallVector<Value> {
    CGValue v; // (none: a set comprehension's)
    v.type = Type::none();
    if (l.value)
      v = expr(*l.value);
    CGValue r = makeDict(dictSet(dictParts(dictValue(t, state)), k, v, false));
    return SmallVector<Value>(r.leaves.begin(), r.leaves.end());
  };
  return dictValue(t, comprehensionLoops(l, types, init, set));
}

CGValue FunctionGen::dictOf(const ast::Call &c) {
  Type t = F.typeOf(c);
  auto src = F.listSources.find(&c);
  if (src == F.listSources.end()) {
    if (!c.args.empty()) // dict(d), set(s): a copy
      return dictCopy(expr(*c.args[0]));
    return emptyDict(t); // dict() (as `{}`), set()
  }
  IterItems items = iterItems(src->second);
  CGValue empty = emptyDict(t);
  SmallVector<Value> out = carryLoop(
      constIndex(0), toIndex(items.length, ScalarKind::I64), empty.leaves,
      [&](Value j, SmallVector<Value> state) -> SmallVector<Value> {
        CGValue pair = items.item(indexToI64(j));
        CGValue k, v;
        v.type = Type::none();
        if (t.isSet()) { // set(iterable): each item
          k = pair;
        } else { // dict(pairs): (key, value)
          unsigned nk = countLeaves(pair.type.elements()[0]);
          k.type = pair.type.elements()[0];
          v.type = pair.type.elements()[1];
          k.leaves.append(pair.leaves.begin(), pair.leaves.begin() + nk);
          v.leaves.append(pair.leaves.begin() + nk, pair.leaves.end());
        }
        CGValue r = makeDict(dictSet(dictParts(dictValue(t, state)), k, v, false));
        return SmallVector<Value>(r.leaves.begin(), r.leaves.end());
      });
  return dictValue(t, out);
}

CGValue FunctionGen::dictCopy(const CGValue &d) {
  DictParts p = dictParts(d);
  return makeDict(dictRebuild(p, dictCapacity(p), /*freeOld=*/false));
}

FunctionGen::DictParts FunctionGen::dictEntries(const CGValue &d, bool freeOld) {
  DictParts p = dictParts(d);
  Value holes = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, p.used, p.len);
  CGValue whole = makeDict(p);
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, p.type, types);
  SmallVector<Value> out = emitIf(
      holes, types,
      [&]() -> SmallVector<Value> {
        CGValue q = makeDict(dictRebuild(p, dictCapacity(p), freeOld));
        return SmallVector<Value>(q.leaves.begin(), q.leaves.end());
      },
      [&]() -> SmallVector<Value> {
        return SmallVector<Value>(whole.leaves.begin(), whole.leaves.end());
      });
  return dictParts(dictValue(d.type, out));
}

CGValue FunctionGen::dictSubscript(const ast::Subscript &s) {
  CGValue d = expr(*s.value);
  CGValue key = expr(*s.index);
  DictParts p = dictParts(d);
  Value e = dictEntry(p, key, /*raiseMissing=*/true);
  // Where a raise returned (parallel regions): the first entry's storage.
  Value at = B.create<arith::MaxSIOp>(CurLoc, e, constInt(0, ScalarKind::I64));
  return loadItem(p.values, toIndex(at, ScalarKind::I64), d.type.dictValue());
}

void FunctionGen::storeIntoDict(const ast::Subscript &s, const CGValue &v) {
  const std::string &name = llvm::cast<ast::Name>(*s.value).id;
  SourceRange saved = CurRange;
  CurRange = s.range(); // (where a new key in a loop over the dict raises)
  auto restore = llvm::make_scope_exit([&] { CurRange = saved; });
  CGValue key = expr(*s.index);
  Type t = F.vars.at(name);
  CGValue d = convert(readVar(name), t);
  DictParts p = dictSet(dictParts(d), key, v, F.dictStoresInLoop.count(&s) != 0);
  writeVar(name, makeDict(p));
}

void FunctionGen::dictAugAssign(const ast::AugAssign &a) {
  auto &s = llvm::cast<ast::Subscript>(*a.target);
  SourceRange saved = CurRange;
  CurRange = s.range(); // (where a missing key raises KeyError)
  auto restore = llvm::make_scope_exit([&] { CurRange = saved; });
  const std::string &name = llvm::cast<ast::Name>(*s.value).id;
  Type t = F.vars.at(name), vt = t.dictValue();
  CGValue key = expr(*s.index);
  CGValue d = convert(readVar(name), t);
  DictParts p = dictParts(d);
  Value e = dictEntry(p, key, /*raiseMissing=*/true);
  Value at = toIndex(B.create<arith::MaxSIOp>(CurLoc, e, constInt(0, ScalarKind::I64)),
                     ScalarKind::I64);
  CGValue cur = loadItem(p.values, at, vt);
  CGValue val = expr(*a.value);
  std::string err;
  auto rule = binaryRule(a.op, vt.scalarKind(), val.type.scalarKind(), err);
  Value l = castScalar(cur.single(), vt.scalarKind(), rule->operand);
  Value r = castScalar(val.single(), val.type.scalarKind(), rule->operand);
  checkDivisor(a.op, r, rule->operand, a.range());
  CGValue res;
  res.type = Type::scalar(rule->result);
  res.leaves.push_back(augCombine(a, l, r, rule->operand, loc(a.opRange)));
  ifThen(dictHas(e),
         [&] { storeItem(res, p.values, at, vt); });
  writeVar(name, d);
}

Value FunctionGen::dictContains(const CGValue &d, const CGValue &key) {
  Value e = dictEntry(dictParts(d), key, /*raiseMissing=*/false);
  return dictHas(e);
}

CGValue FunctionGen::dictMethod(const ast::Call &c, const CallInfo &info) {
  const std::string *name = nullptr;
  if (auto *n = dyn_cast<ast::Name>(info.receiver))
    name = &n->id;
  std::vector<CGValue> args;
  for (const ast::Expr *o : info.operands)
    args.push_back(expr(*o));
  CGValue d = expr(*info.receiver);
  CGValue none;
  none.type = Type::none();
  Type rt = F.typeOf(c);
  switch (info.builtin) {
  case Builtin::DictCopy:
    return dictCopy(d);
  case Builtin::DictKeys:
  case Builtin::DictValues:
  case Builtin::DictItems: {
    // A new list of them, in order (the list's type: where an array is
    // expected, Sema typed the call as that array).
    DictParts p = dictEntries(d, /*freeOld=*/false);
    Value n = toIndex(p.len, ScalarKind::I64);
    Type item = listTypeOf(c).listItem();
    SmallVector<Value> data = newListStorage(n, item);
    SmallVector<Value> from;
    if (info.builtin != Builtin::DictValues)
      from.append(p.keys.begin(), p.keys.end());
    if (info.builtin != Builtin::DictKeys)
      from.append(p.values.begin(), p.values.end());
    moveItems(from, constIndex(0), data, constIndex(0), n, item);
    return makeList(item, data, p.len);
  }
  case Builtin::DictGet: {
    DictParts p = dictParts(d);
    Value e = dictEntry(p, args[0], /*raiseMissing=*/false);
    if (args.size() == 1) { // v = d.get(k): None (zeros, flagged) where missing
      CGValue r = valueOr(p, e, rt, [&] { return defaultValue(rt); });
      r.isNone = logicalNot(dictHas(e));
      return r;
    }
    return valueOr(p, e, rt, [&] { return args[1]; });
  }
  default:
    break;
  }
  // The dict's type may be wider than the receiver's value (Sema widened
  // the variable for what this call adds).
  Type t = F.vars.at(*name);
  d = convert(d, t);
  DictParts p = dictParts(d);
  switch (info.builtin) {
  case Builtin::DictClear:
    writeVar(*name, emptyDict(t));
    return none;
  case Builtin::DictPop:
  case Builtin::DictDelete: {
    // (del d[k]: pop(k), the value unused.)
    Value slot;
    Value e = dictEntry(p, args[0], /*raiseMissing=*/args.size() == 1, &slot);
    Value found = dictHas(e);
    CGValue r = info.builtin == Builtin::DictDelete
                    ? none
                    : valueOr(p, e, rt,
                              [&] { return args.size() == 2 ? args[1] : defaultValue(rt); });
    ifThen(found, [&] { unlinkEntry(p, slot, e); });
    p.len = B.create<arith::SubIOp>(
        CurLoc, p.len,
        B.create<arith::ExtUIOp>(CurLoc, B.getI64Type(), found));
    writeVar(*name, makeDict(p));
    return r;
  }
  case Builtin::DictSetdefault: {
    // The value there, else `args[1]`, set.
    Value e = dictEntry(p, args[0], /*raiseMissing=*/false);
    CGValue r = valueOr(p, e, t.dictValue(), [&] { return args[1]; });
    // Setting the value it has changes nothing where the key is there.
    writeVar(*name, makeDict(dictSet(p, args[0], r, F.dictStoresInLoop.count(&c) != 0)));
    return r;
  }
  case Builtin::DictUpdate:
    writeVar(*name, insertEntries(d, args[0], F.dictStoresInLoop.count(&c) != 0));
    return none;
  case Builtin::DictPopitem: {
    CGValue r = popLastEntry(p, rt, "KeyError: 'popitem(): dictionary is empty'");
    writeVar(*name, makeDict(p));
    return r;
  }
  default:
    break;
  }
  Failed = true;
  Diags.error(F.file, c.range(), "internal compiler error: unexpected dict method");
  return none;
}

//===----------------------------------------------------------------------===//
// Sets
//===----------------------------------------------------------------------===//
//
// A set is a dict whose values are none: its items are the dict's keys,
// with the dict's storage (no value storage), lookups, growth and loops.
// Operations between two sets first convert both to their common type
// (Sema's joinSets), so that items compare as Python compares numbers.

SmallVector<Value> FunctionGen::foldItems(
    const CGValue &s, mlir::ValueRange init,
    const std::function<SmallVector<Value>(const CGValue &, SmallVector<Value>)> &body) {
  if (!s.type.isKnownDict()) // (no storage, no items)
    return SmallVector<Value>(init.begin(), init.end());
  DictParts p = dictParts(s);
  SmallVector<mlir::Type> types;
  for (Value v : init)
    types.push_back(v.getType());
  return carryLoop(constIndex(0), toIndex(p.used, ScalarKind::I64), init,
                   [&](Value e, SmallVector<Value> state) -> SmallVector<Value> {
                     return emitIf(
                         loadElement(p.live, {e}, ScalarKind::Bool), types,
                         [&]() -> SmallVector<Value> {
                           return body(loadItem(p.keys, e, s.type.dictKey()), state);
                         },
                         [&]() -> SmallVector<Value> { return state; });
                   });
}

FunctionGen::DictParts FunctionGen::setAdd(const DictParts &p, const CGValue &item,
                                           bool mustExist) {
  CGValue none;
  none.type = Type::none();
  return dictSet(p, item, none, mustExist);
}

FunctionGen::DictParts FunctionGen::setDiscard(DictParts p, const CGValue &item,
                                               bool raiseMissing) {
  Value slot;
  Value e = dictEntry(p, item, raiseMissing, &slot);
  Value found = dictHas(e);
  ifThen(found, [&] { unlinkEntry(p, slot, e); });
  p.len = B.create<arith::SubIOp>(CurLoc, p.len,
                                  B.create<arith::ExtUIOp>(CurLoc, B.getI64Type(), found));
  return p;
}

CGValue FunctionGen::setCombine(ast::BinOpKind op, const CGValue &a, const CGValue &b,
                                const Type &t, bool aIsNew) {
  if (op == ast::BinOpKind::BitOr) // a copy of a, and b's items
    return insertEntries(aIsNew ? a : dictCopy(a), b, /*mustExist=*/false);
  CGValue r = emptyDict(t);
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, t, types);
  // The items of `from` that are (`in`) or are not in `other`.
  auto keep = [&](const CGValue &into, const CGValue &from, const CGValue &other, bool in) {
    return dictValue(t, foldItems(from, into.leaves,
                                  [&](const CGValue &x, SmallVector<Value> state) {
                                    Value has = dictContains(other, x);
                                    return emitIf(
                                        in ? has : logicalNot(has), types,
                                        [&]() -> SmallVector<Value> {
                                          CGValue s = makeDict(
                                              setAdd(dictParts(dictValue(t, state)), x, false));
                                          return SmallVector<Value>(s.leaves.begin(),
                                                                    s.leaves.end());
                                        },
                                        [&]() -> SmallVector<Value> { return state; });
                                  }));
  };
  switch (op) {
  case ast::BinOpKind::BitAnd:
    return keep(r, a, b, true);
  case ast::BinOpKind::Sub:
    return keep(r, a, b, false);
  default: // ^: a's items not in b, then b's not in a
    return keep(keep(r, a, b, false), b, a, false);
  }
}

Value FunctionGen::setSubset(const CGValue &a, const CGValue &b) {
  return foldItems(a, {constBool(true)},
                   [&](const CGValue &x, SmallVector<Value> state) -> SmallVector<Value> {
                     return {B.create<arith::AndIOp>(CurLoc, state[0], dictContains(b, x))};
                   })[0];
}

CGValue FunctionGen::setUpdate(ast::BinOpKind op, const CGValue &s, const CGValue &other) {
  Type t = s.type;
  if (op == ast::BinOpKind::BitOr)
    return insertEntries(s, other, /*mustExist=*/false);
  // Removing an item unlinks it and leaves the storage in place, so a loop
  // over s (for &=, or other being s itself) reads the entries it started
  // with; ^= adds only items s does not hold (so never while other is s).
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, t, types);
  bool intersect = op == ast::BinOpKind::BitAnd;
  return dictValue(
      t, foldItems(intersect ? s : other, s.leaves,
                   [&](const CGValue &x, SmallVector<Value> state) -> SmallVector<Value> {
                     DictParts p = dictParts(dictValue(t, state));
                     CGValue r;
                     if (op == ast::BinOpKind::Sub) {
                       r = makeDict(setDiscard(p, x));
                     } else {
                       Value has = dictContains(intersect ? other : makeDict(p), x);
                       if (intersect)
                         has = logicalNot(has); // s's items not in other go
                       r = dictValue(t, emitIf(
                                            has, types,
                                            [&]() -> SmallVector<Value> {
                                              CGValue q = makeDict(setDiscard(p, x));
                                              return {q.leaves.begin(), q.leaves.end()};
                                            },
                                            [&]() -> SmallVector<Value> {
                                              if (intersect)
                                                return state;
                                              CGValue q = makeDict(setAdd(p, x, false));
                                              return {q.leaves.begin(), q.leaves.end()};
                                            }));
                     }
                     return SmallVector<Value>(r.leaves.begin(), r.leaves.end());
                   }));
}

std::pair<CGValue, CGValue> FunctionGen::commonSets(const CGValue &a, const CGValue &b) {
  auto u = unify(a.type, b.type);
  Type t = u && u->isKnownDict() ? *u : Type::defaultSet();
  return {convert(a, t), convert(b, t)};
}

CGValue FunctionGen::setDisplay(const ast::List &l) {
  Type t = F.typeOf(l);
  int64_t cap = 8;
  while (cap < static_cast<int64_t>(l.elts.size()))
    cap *= 2;
  DictParts p = newDict(t, constIndex(cap));
  for (auto &e : l.elts)
    p = setAdd(p, expr(*e), false);
  return makeDict(p);
}

static ast::BinOpKind setOperator(Builtin b) {
  switch (b) {
  case Builtin::SetUnion:
    return ast::BinOpKind::BitOr;
  case Builtin::SetIntersection:
  case Builtin::SetIntersectionUpdate:
    return ast::BinOpKind::BitAnd;
  case Builtin::SetDifference:
  case Builtin::SetDifferenceUpdate:
    return ast::BinOpKind::Sub;
  default:
    return ast::BinOpKind::BitXor;
  }
}

/// The last live entry removed from `p` (set.pop(), dict.popitem()): the
/// entries after it are dead and no slot holds them (unlinkEntry), so
/// `used` drops to it and each dead entry is passed once. Gives its key (a
/// set), or (key, value), as `rt`; raises KeyError `emptyText` where `p` is
/// empty (zeros where the raise returns: parallel regions).
CGValue FunctionGen::popLastEntry(DictParts &p, const Type &rt, llvm::StringRef emptyText) {
  Value zero = constInt(0, ScalarKind::I64);
  Value empty = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, p.len, zero);
  raiseIf(empty, KernelFaultKind::Raise, emptyText, {});
  // The last live entry: -1 where empty (a raise returned).
  Value e = walkWhile(
      B.create<arith::SubIOp>(CurLoc, p.used, constInt(1, ScalarKind::I64)), -1,
      [&](Value i) { return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sge, i, zero); },
      [&](Value i) {
        return logicalNot(
            loadElement(p.live, {toIndex(i, ScalarKind::I64)}, ScalarKind::Bool));
      });
  Value found = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sge, e, zero);
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, rt, types);
  CGValue r;
  r.type = rt;
  r.leaves = emitIf(
      found, types,
      [&]() -> SmallVector<Value> {
        Value at = toIndex(e, ScalarKind::I64);
        CGValue key = loadItem(p.keys, at, p.type.dictKey());
        Value slot = probe(p, key, indexSlots(p)).slot;
        unlinkEntry(p, slot, e);
        CGValue x = key;
        if (!p.type.isSet()) {
          CGValue value = loadItem(p.values, at, p.type.dictValue());
          x.type = Type::tuple({key.type, value.type});
          x.leaves.append(value.leaves.begin(), value.leaves.end());
        }
        x = convert(x, rt);
        return SmallVector<Value>(x.leaves.begin(), x.leaves.end());
      },
      [&]() -> SmallVector<Value> {
        CGValue x = defaultValue(rt);
        return SmallVector<Value>(x.leaves.begin(), x.leaves.end());
      });
  p.used = B.create<arith::SelectOp>(CurLoc, found, e, p.used);
  p.len = B.create<arith::SubIOp>(CurLoc, p.len,
                                  B.create<arith::ExtUIOp>(CurLoc, B.getI64Type(), found));
  return r;
}

CGValue FunctionGen::setMethod(const ast::Call &c, const CallInfo &info) {
  CGValue none;
  none.type = Type::none();
  Type rt = F.typeOf(c);
  auto boolean = [&](Value v) {
    CGValue r;
    r.type = Type::scalar(ScalarKind::Bool);
    r.leaves.push_back(v);
    return r;
  };
  switch (info.builtin) {
  case Builtin::SetUnion:
  case Builtin::SetIntersection:
  case Builtin::SetDifference:
  case Builtin::SetSymmetricDifference: {
    CGValue x = expr(*info.receiver);
    CGValue b = convert(expr(*info.operands[0]), rt);
    return setCombine(setOperator(info.builtin), convert(x, rt), b, rt, x.type != rt);
  }
  case Builtin::SetIsSubset:
  case Builtin::SetIsSuperset:
  case Builtin::SetIsDisjoint: {
    CGValue x = expr(*info.receiver);
    CGValue y = expr(*info.operands[0]);
    auto [a, b] = commonSets(x, y);
    if (info.builtin == Builtin::SetIsSubset)
      return boolean(setSubset(a, b));
    if (info.builtin == Builtin::SetIsSuperset)
      return boolean(setSubset(b, a));
    return boolean(foldItems(a, {constBool(true)},
                             [&](const CGValue &v, SmallVector<Value> state) -> SmallVector<Value> {
                               return {B.create<arith::AndIOp>(CurLoc, state[0],
                                                               logicalNot(dictContains(b, v)))};
                             })[0]);
  }
  default:
    break;
  }
  // The methods that change the set variable (whose type may be wider than
  // the receiver's value: Sema widened it for what this call adds).
  const std::string &name = llvm::cast<ast::Name>(*info.receiver).id;
  std::vector<CGValue> args;
  if (info.builtin != Builtin::SetUpdate)
    for (const ast::Expr *o : info.operands)
      args.push_back(expr(*o));
  Type t = F.vars.at(name);
  CGValue d = convert(readVar(name), t);
  DictParts p = dictParts(d);
  switch (info.builtin) {
  case Builtin::SetAdd:
    writeVar(name, makeDict(setAdd(p, args[0], F.dictStoresInLoop.count(&c) != 0)));
    return none;
  case Builtin::SetUpdate: {
    IterItems items = iterItems(F.listSources.at(&c));
    bool mustExist = F.dictStoresInLoop.count(&c) != 0;
    SmallVector<Value> out = carryLoop(
        constIndex(0), toIndex(items.length, ScalarKind::I64), d.leaves,
        [&](Value j, SmallVector<Value> state) -> SmallVector<Value> {
          CGValue r = makeDict(
              setAdd(dictParts(dictValue(t, state)), items.item(indexToI64(j)), mustExist));
          return SmallVector<Value>(r.leaves.begin(), r.leaves.end());
        });
    writeVar(name, dictValue(t, out));
    return none;
  }
  case Builtin::SetDiscard:
  case Builtin::SetRemove:
    writeVar(name, makeDict(setDiscard(p, args[0], info.builtin == Builtin::SetRemove)));
    return none;
  case Builtin::SetPop: {
    CGValue r = popLastEntry(p, rt, "KeyError: 'pop from an empty set'");
    writeVar(name, makeDict(p));
    return r;
  }
  case Builtin::SetIntersectionUpdate:
  case Builtin::SetDifferenceUpdate:
  case Builtin::SetSymmetricDifferenceUpdate: {
    writeVar(name, setUpdate(setOperator(info.builtin), d, convert(args[0], t)));
    return none;
  }
  default:
    break;
  }
  Failed = true;
  Diags.error(F.file, c.range(), "internal compiler error: unexpected set method");
  return none;
}

CGValue FunctionGen::setBinop(const ast::BinOp &b) {
  Type t = F.typeOf(b);
  CGValue x = expr(*b.lhs);
  CGValue r = convert(expr(*b.rhs), t);
  return setCombine(b.op, convert(x, t), r, t, x.type != t);
}

CGValue FunctionGen::setCompare(const ast::Compare &c) {
  CGValue x = expr(*c.operands[0]), y = expr(*c.operands[1]);
  auto [a, b] = commonSets(x, y);
  Value la = dictParts(a).len, lb = dictParts(b).len;
  auto cmp = [&](arith::CmpIPredicate p, Value l, Value r) {
    return B.create<arith::CmpIOp>(CurLoc, p, l, r).getResult();
  };
  auto both = [&](Value l, Value r) { return B.create<arith::AndIOp>(CurLoc, l, r).getResult(); };
  CGValue res;
  res.type = Type::scalar(ScalarKind::Bool);
  Value v;
  switch (c.ops[0]) {
  case ast::CmpOpKind::Eq:
  case ast::CmpOpKind::Ne:
    v = both(cmp(arith::CmpIPredicate::eq, la, lb), setSubset(a, b));
    if (c.ops[0] == ast::CmpOpKind::Ne)
      v = logicalNot(v);
    break;
  case ast::CmpOpKind::Le:
    v = setSubset(a, b);
    break;
  case ast::CmpOpKind::Lt:
    v = both(cmp(arith::CmpIPredicate::slt, la, lb), setSubset(a, b));
    break;
  case ast::CmpOpKind::Ge:
    v = setSubset(b, a);
    break;
  default: // >
    v = both(cmp(arith::CmpIPredicate::sgt, la, lb), setSubset(b, a));
    break;
  }
  res.leaves.push_back(v);
  return res;
}

void FunctionGen::setAugAssign(const ast::AugAssign &a) {
  const std::string &name = llvm::cast<ast::Name>(*a.target).id;
  Type t = F.vars.at(name);
  CGValue cur = readVar(name);
  CGValue d = convert(cur, t);
  CGValue other = convert(expr(*a.value), t);
  writeVar(name, setUpdate(a.op, d, other));
}

//===----------------------------------------------------------------------===//
// Errors raised at run time
//===----------------------------------------------------------------------===//

bool FunctionGen::pythonErrors() const {
  return !MG.Gpu && F.decl && F.decl->kind == KernelKind::Jit &&
         F.decl->options.errorModel == "python";
}

void FunctionGen::raiseIf(Value fail, KernelFaultKind kind, llvm::StringRef text,
                          llvm::ArrayRef<Value> values) {
  ifThen(fail, [&] {
    auto i64 = B.getI64Type();
    SmallVector<Value> v64;
    for (Value v : values.take_front(kMaxFaultValues)) {
      if (v.getType().isIndex())
        v = B.create<arith::IndexCastOp>(CurLoc, i64, v);
      else if (v.getType() != i64)
        v = B.create<arith::ExtSIOp>(CurLoc, i64, v);
      v64.push_back(v);
    }
    if (MG.Gpu) {
      // GPU code records the fault for the runtime to read after the launch.
      MG.Gpu->raise(B, CurLoc, static_cast<int32_t>(kind), static_cast<int32_t>(CurRange.begin),
                    static_cast<int32_t>(CurRange.end), text, v64);
      return;
    }
    SmallVector<Value> args = {
        B.create<arith::ConstantIntOp>(CurLoc, static_cast<int64_t>(kind), 32),
        B.create<arith::ConstantIntOp>(CurLoc, static_cast<int64_t>(CurRange.begin), 32),
        B.create<arith::ConstantIntOp>(CurLoc, static_cast<int64_t>(CurRange.end), 32)};
    args.append(messageArguments(B, CurLoc, text, v64));
    MG.callRuntime(B, CurLoc, "_stn_raise", args, {});
  });
}

SmallVector<Value> FunctionGen::shapePair(llvm::ArrayRef<Value> a, llvm::ArrayRef<Value> b) {
  // Two ranks and both shapes must fit in the values _stn_raise takes; where
  // they do not, rank -1 makes the message a plain "shapes do not match".
  if (a.size() + b.size() + 2 > static_cast<size_t>(kMaxFaultValues))
    return {constIndex(-1)};
  SmallVector<Value> v;
  v.push_back(constIndex(static_cast<int64_t>(a.size())));
  v.append(a.begin(), a.end());
  v.push_back(constIndex(static_cast<int64_t>(b.size())));
  v.append(b.begin(), b.end());
  return v;
}

SmallVector<Value> FunctionGen::broadcastShape(const std::vector<SmallVector<Value>> &shapes,
                                               unsigned rank) {
  SmallVector<Value> out;
  for (unsigned d = 0; d < rank; ++d) {
    Value size;
    for (auto &s : shapes) {
      int j = static_cast<int>(d) - static_cast<int>(rank - s.size());
      if (j >= 0)
        size = size ? broadcastDim(B, CurLoc, size, s[j]) : s[j];
    }
    out.push_back(size ? size : constIndex(1));
  }
  return out;
}

Value FunctionGen::broadcastFails(llvm::ArrayRef<Value> a, llvm::ArrayRef<Value> b,
                                  llvm::ArrayRef<Value> out) {
  Value bad = constBool(false);
  for (llvm::ArrayRef<Value> s : {a, b})
    for (size_t j = 0; j < s.size(); ++j)
      bad = B.create<arith::OrIOp>(CurLoc, bad,
                                   notBroadcastable(s[j], out[out.size() - s.size() + j]));
  return bad;
}

Value FunctionGen::notBroadcastable(Value x, Value to) {
  Value one = constIndex(1);
  Value differ = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, x, to);
  Value notOne = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, x, one);
  return B.create<arith::AndIOp>(CurLoc, differ, notOne);
}

SmallVector<Value> FunctionGen::emitIf(Value cond, mlir::TypeRange types,
                                       const std::function<SmallVector<Value>()> &thenFn,
                                       const std::function<SmallVector<Value>()> &elseFn) {
  auto ifOp = B.create<scf::IfOp>(CurLoc, types, cond, /*withElseRegion=*/true);
  auto fill = [&](mlir::Region &region, const std::function<SmallVector<Value>()> &fn) {
    OpBuilder::InsertionGuard g(B);
    Block &blk = region.front();
    if (!blk.empty() && blk.back().hasTrait<mlir::OpTrait::IsTerminator>())
      blk.back().erase();
    B.setInsertionPointToEnd(&blk);
    SmallVector<Value> vals = fn();
    B.create<scf::YieldOp>(CurLoc, vals);
  };
  fill(ifOp.getThenRegion(), thenFn);
  fill(ifOp.getElseRegion(), elseFn);
  return SmallVector<Value>(ifOp.getResults().begin(), ifOp.getResults().end());
}

CGValue FunctionGen::exprImpl(const ast::Expr &e) {
  const Type &t = F.typeOf(e);
  if (!F.gpu.empty())
    if (auto g = F.gpu.find(&e); g != F.gpu.end())
      return gpuIntrinsic(e, g->second);
  if (auto *c = F.constOf(e)) {
    // Names of module constants, math.pi, len(tuple), x.ndim.
    if (!isa<ast::Call>(&e) || t.isScalar())
      return constValue(*c);
  }
  CGValue r;
  r.type = t;
  switch (e.kind()) {
  case ast::Expr::Kind::IntLit: {
    auto &i = static_cast<const ast::IntLit &>(e);
    r.leaves.push_back(constInt(static_cast<int64_t>(i.value), t.scalarKind()));
    return r;
  }
  case ast::Expr::Kind::FloatLit:
    r.leaves.push_back(constFloat(static_cast<const ast::FloatLit &>(e).value, ScalarKind::F64));
    return r;
  case ast::Expr::Kind::ImagLit: {
    Value re = constFloat(0.0, ScalarKind::F64);
    Value im = constFloat(static_cast<const ast::ImagLit &>(e).value, ScalarKind::F64);
    r.leaves.push_back(
        B.create<complex::CreateOp>(CurLoc, scalarType(Ctx, ScalarKind::C128), re, im));
    return r;
  }
  case ast::Expr::Kind::BoolLit:
    r.leaves.push_back(constBool(static_cast<const ast::BoolLit &>(e).value));
    return r;
  case ast::Expr::Kind::NoneLit:
    r.type = Type::none();
    return r;
  case ast::Expr::Kind::Name:
    if (t.isFunction() && !F.vars.count(static_cast<const ast::Name &>(e).id)) {
      CGValue fn; // a function of the module: no captured values
      fn.type = t;
      return fn;
    }
    return readChecked(static_cast<const ast::Name &>(e));
  case ast::Expr::Kind::Closure: {
    // A local function as a value: the values it captures, read now.
    CGValue fn;
    fn.type = t;
    auto &cl = static_cast<const ast::Closure &>(e);
    for (size_t i = 0; i < cl.captures.size(); ++i) {
      CGValue v = convert(expr(*cl.captures[i]), t.elements()[i]);
      fn.leaves.append(v.leaves.begin(), v.leaves.end());
    }
    return fn;
  }
  case ast::Expr::Kind::Attribute:
    return attribute(static_cast<const ast::Attribute &>(e));
  case ast::Expr::Kind::Subscript:
    return subscript(static_cast<const ast::Subscript &>(e));
  case ast::Expr::Kind::Call:
    return call(static_cast<const ast::Call &>(e));
  case ast::Expr::Kind::BinOp:
  case ast::Expr::Kind::UnaryOp:
  case ast::Expr::Kind::Compare:
    if (auto mm = F.matmuls.find(&e); mm != F.matmuls.end()) {
      auto &b = static_cast<const ast::BinOp &>(e);
      SourceRange saved = CurRange;
      CurRange = b.opRange;
      CGValue v = matmul(*b.lhs, *b.rhs, mm->second, t, /*matmulText=*/true);
      CurRange = saved;
      return v;
    }
    if (t.isList() || F.listViews.count(&e)) // (a viewed list has the array type)
      return listBinop(static_cast<const ast::BinOp &>(e));
    if (t.isArray()) {
      // The whole elementwise tree below becomes one loop nest.
      r.leaves.push_back(materialize(lazy(e)));
      return r;
    }
    if (e.kind() == ast::Expr::Kind::BinOp)
      return binop(static_cast<const ast::BinOp &>(e));
    if (e.kind() == ast::Expr::Kind::UnaryOp)
      return unary(static_cast<const ast::UnaryOp &>(e));
    return compare(static_cast<const ast::Compare &>(e));
  case ast::Expr::Kind::BoolOp:
    return boolop(static_cast<const ast::BoolOp &>(e));
  case ast::Expr::Kind::IfExp:
    return ifexp(static_cast<const ast::IfExp &>(e));
  case ast::Expr::Kind::Tuple: {
    for (auto &el : static_cast<const ast::Tuple &>(e).elts) {
      CGValue v = expr(*el);
      r.leaves.append(v.leaves.begin(), v.leaves.end());
    }
    return r;
  }
  case ast::Expr::Kind::List:
    if (static_cast<const ast::List &>(e).braces)
      return setDisplay(static_cast<const ast::List &>(e));
    if (r.type.isTuple()) { // np.concatenate([a, b]): Sema's ArraySequence
      for (auto &el : static_cast<const ast::List &>(e).elts) {
        CGValue v = expr(*el);
        r.leaves.append(v.leaves.begin(), v.leaves.end());
      }
      return r;
    }
    return listDisplay(static_cast<const ast::List &>(e), listTypeOf(e).listItem());
  case ast::Expr::Kind::ListComp:
    if (static_cast<const ast::ListComp &>(e).isDict() ||
        static_cast<const ast::ListComp &>(e).isSet())
      return dictComp(static_cast<const ast::ListComp &>(e));
    return listComp(static_cast<const ast::ListComp &>(e));
  case ast::Expr::Kind::Dict:
    return dictDisplay(static_cast<const ast::Dict &>(e));
  default:
    Failed = true;
    Diags.error(F.file, e.range(), "internal compiler error: unexpected expression");
    return defaultValue(t);
  }
}

/// (a+bi)(c+di) = (ac-bd) + (ad+bc)i, the formula of CPython, NumPy and
/// Numba. MLIR's complex.mul lowers to C99 Annex G's product instead, which
/// re-derives infinities when the naive result is NaN: some 70 more
/// instructions per product (Mandelbrot's loop), for answers that differ from
/// Python's only when a part is infinite or NaN.
Value FunctionGen::complexProduct(Value l, Value r) {
  Value a = B.create<complex::ReOp>(CurLoc, l), b = B.create<complex::ImOp>(CurLoc, l);
  Value c = B.create<complex::ReOp>(CurLoc, r), d = B.create<complex::ImOp>(CurLoc, r);
  auto mul = [&](Value x, Value y) { return B.create<arith::MulFOp>(CurLoc, x, y); };
  Value re = B.create<arith::SubFOp>(CurLoc, mul(a, c), mul(b, d));
  Value im = B.create<arith::AddFOp>(CurLoc, mul(a, d), mul(b, c));
  return B.create<complex::CreateOp>(CurLoc, l.getType(), re, im);
}

Value FunctionGen::arith2(ast::BinOpKind op, Value l, Value r, ScalarKind k, Location l0) {
  using O = ast::BinOpKind;
  Location saved = CurLoc;
  CurLoc = l0;
  Value res;
  bool isC = isComplex(k), isF = isFloat(k), isS = isSignedInt(k);
  switch (op) {
  case O::Add:
    res = isC ? Value(B.create<complex::AddOp>(CurLoc, l, r))
        : isF ? Value(B.create<arith::AddFOp>(CurLoc, l, r))
              : Value(B.create<arith::AddIOp>(CurLoc, l, r));
    break;
  case O::Sub:
    res = isC ? Value(B.create<complex::SubOp>(CurLoc, l, r))
        : isF ? Value(B.create<arith::SubFOp>(CurLoc, l, r))
              : Value(B.create<arith::SubIOp>(CurLoc, l, r));
    break;
  case O::Mul:
    res = isC ? complexProduct(l, r)
        : isF ? Value(B.create<arith::MulFOp>(CurLoc, l, r))
              : Value(B.create<arith::MulIOp>(CurLoc, l, r));
    break;
  case O::Div:
    res = isC ? Value(B.create<complex::DivOp>(CurLoc, l, r))
              : Value(B.create<arith::DivFOp>(CurLoc, l, r));
    break;
  case O::FloorDiv:
  case O::Mod: {
    if (isF) {
      if (op == O::FloorDiv) {
        // As CPython: from fmod, so that 1.0 // 0.1 == 9.0 (floor(l / r)
        // would round the quotient first and give 10.0).
        Value zero = constFloat(0.0, k);
        Value m = B.create<arith::RemFOp>(CurLoc, l, r);
        Value div = B.create<arith::DivFOp>(CurLoc, B.create<arith::SubFOp>(CurLoc, l, m), r);
        Value mNeg = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OLT, m, zero);
        Value rNeg = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OLT, r, zero);
        Value mNz = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::ONE, m, zero);
        Value adjust = B.create<arith::AndIOp>(CurLoc, mNz,
                                               B.create<arith::XOrIOp>(CurLoc, mNeg, rNeg));
        div = B.create<arith::SelectOp>(
            CurLoc, adjust, B.create<arith::SubFOp>(CurLoc, div, constFloat(1.0, k)), div);
        Value fl = B.create<math::FloorOp>(CurLoc, div);
        Value half = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OGT,
                                             B.create<arith::SubFOp>(CurLoc, div, fl),
                                             constFloat(0.5, k));
        fl = B.create<arith::SelectOp>(
            CurLoc, half, B.create<arith::AddFOp>(CurLoc, fl, constFloat(1.0, k)), fl);
        // A zero quotient has the sign of l / r (-0.0 // 2.0 is -0.0).
        Value divZero = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, div, zero);
        fl = B.create<arith::SelectOp>(
            CurLoc, divZero,
            B.create<math::CopySignOp>(CurLoc, zero, B.create<arith::DivFOp>(CurLoc, l, r)), fl);
        // Division by zero keeps IEEE's answer (Python would raise).
        Value rZero = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, r, zero);
        Value ieee = B.create<math::FloorOp>(CurLoc, B.create<arith::DivFOp>(CurLoc, l, r));
        res = B.create<arith::SelectOp>(CurLoc, rZero, ieee, fl);
      } else {
        // Python: the result has the sign of the divisor.
        Value m = B.create<arith::RemFOp>(CurLoc, l, r);
        Value zero = constFloat(0.0, k);
        Value mNeg = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OLT, m, zero);
        Value rNeg = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OLT, r, zero);
        Value mNz = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::ONE, m, zero);
        Value differ = B.create<arith::XOrIOp>(CurLoc, mNeg, rNeg);
        Value fix = B.create<arith::AndIOp>(CurLoc, mNz, differ);
        res = B.create<arith::SelectOp>(CurLoc, fix, B.create<arith::AddFOp>(CurLoc, m, r), m);
        // A zero remainder has the sign of the divisor too (-0.0 % 2.0 is 0.0).
        Value mZero = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, m, zero);
        res = B.create<arith::SelectOp>(CurLoc, mZero,
                                        B.create<math::CopySignOp>(CurLoc, zero, r), res);
      }
      break;
    }
    // Integer division by zero yields 0 (NumPy's behaviour, and never a
    // hardware trap); INT_MIN // -1 wraps.
    Value zero = constInt(0, k), one = constInt(1, k);
    Value isZero = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, r, zero);
    Value safe = B.create<arith::SelectOp>(CurLoc, isZero, one, r);
    if (isS) {
      Value minusOne = constInt(-1, k);
      Value isM1 = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, safe, minusOne);
      safe = B.create<arith::SelectOp>(CurLoc, isM1, one, safe);
      if (op == O::FloorDiv) {
        Value q = B.create<arith::FloorDivSIOp>(CurLoc, l, safe);
        q = B.create<arith::SelectOp>(CurLoc, isM1, B.create<arith::SubIOp>(CurLoc, zero, l), q);
        res = B.create<arith::SelectOp>(CurLoc, isZero, zero, q);
      } else {
        Value m = B.create<arith::RemSIOp>(CurLoc, l, safe);
        Value mNeg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, m, zero);
        Value rNeg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, r, zero);
        Value mNz = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, m, zero);
        Value fix = B.create<arith::AndIOp>(CurLoc, mNz,
                                            B.create<arith::XOrIOp>(CurLoc, mNeg, rNeg));
        m = B.create<arith::SelectOp>(CurLoc, fix, B.create<arith::AddIOp>(CurLoc, m, r), m);
        res = B.create<arith::SelectOp>(CurLoc, isZero, zero, m);
      }
    } else {
      Value q = op == O::FloorDiv ? Value(B.create<arith::DivUIOp>(CurLoc, l, safe))
                                  : Value(B.create<arith::RemUIOp>(CurLoc, l, safe));
      res = B.create<arith::SelectOp>(CurLoc, isZero, zero, q);
    }
    break;
  }
  case O::Pow:
    if (isC)
      res = B.create<complex::PowOp>(CurLoc, l, r);
    else if (isF)
      res = B.create<math::PowFOp>(CurLoc, l, r);
    else
      res = intPow(l, r, k);
    break;
  case O::BitAnd:
    res = B.create<arith::AndIOp>(CurLoc, l, r);
    break;
  case O::BitOr:
    res = B.create<arith::OrIOp>(CurLoc, l, r);
    break;
  case O::BitXor:
    res = B.create<arith::XOrIOp>(CurLoc, l, r);
    break;
  case O::LShift:
  case O::RShift: {
    // Shifts by >= 64 (or negative) are defined: Python semantics for
    // right shifts, zero for left shifts; LLVM would produce poison.
    Value width = constInt(bitWidth(k), k);
    Value big = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::uge, r, width);
    Value safeR = B.create<arith::SelectOp>(CurLoc, big, constInt(0, k), r);
    if (op == O::LShift) {
      Value s = B.create<arith::ShLIOp>(CurLoc, l, safeR);
      res = B.create<arith::SelectOp>(CurLoc, big, constInt(0, k), s);
    } else if (isS) {
      Value s = B.create<arith::ShRSIOp>(CurLoc, l, safeR);
      Value neg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, l, constInt(0, k));
      Value fill = B.create<arith::SelectOp>(CurLoc, neg, constInt(-1, k), constInt(0, k));
      res = B.create<arith::SelectOp>(CurLoc, big, fill, s);
    } else {
      Value s = B.create<arith::ShRUIOp>(CurLoc, l, safeR);
      res = B.create<arith::SelectOp>(CurLoc, big, constInt(0, k), s);
    }
    break;
  }
  case O::MatMul:
    res = zeroOf(Type::scalar(k));
    break;
  }
  CurLoc = saved;
  return res;
}

/// x ** n for a literal 1 <= n <= 4, by multiplications. Complex powers
/// square as CPython's integer powers do (x**4 is (x*x)*(x*x)); complex.pow
/// would go through exp and log, slower and inexact ((1+1j)**2 would not be
/// 2j). Real powers multiply left to right.
Value FunctionGen::smallPower(Value x, int64_t n, ScalarKind k) {
  if (isComplex(k)) {
    Value result, square = x;
    for (int64_t bit = 1; bit <= n; bit <<= 1) {
      if (n & bit)
        result = result ? complexProduct(result, square) : square;
      if ((bit << 1) <= n)
        square = complexProduct(square, square);
    }
    return result;
  }
  Value acc = x;
  for (int64_t i = 1; i < n; ++i)
    acc = isFloat(k) ? Value(B.create<arith::MulFOp>(CurLoc, acc, x))
                     : Value(B.create<arith::MulIOp>(CurLoc, acc, x));
  return acc;
}

/// Exponentiation by squaring. A negative exponent gives 0 unless the base
/// is 1 or -1 (the integer part of Python's float result).
Value FunctionGen::intPow(Value base, Value exp, ScalarKind k) {
  mlir::Type t = scalarType(Ctx, k);
  Value one = constInt(1, k), zero = constInt(0, k);
  mlir::TypeRange types{t, t, t};
  auto loop = B.create<scf::WhileOp>(
      CurLoc, mlir::TypeRange{t, t, t}, mlir::ValueRange{one, base, exp},
      [&](OpBuilder &b, Location l, mlir::ValueRange args) {
        Value more = b.create<arith::CmpIOp>(l, isSignedInt(k) ? arith::CmpIPredicate::sgt
                                                                : arith::CmpIPredicate::ugt,
                                             args[2], zero);
        b.create<scf::ConditionOp>(l, more, args);
      },
      [&](OpBuilder &b, Location l, mlir::ValueRange args) {
        Value bit = b.create<arith::AndIOp>(l, args[2], one);
        Value odd = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, bit, zero);
        Value mul = b.create<arith::MulIOp>(l, args[0], args[1]);
        Value acc = b.create<arith::SelectOp>(l, odd, mul, args[0]);
        Value sq = b.create<arith::MulIOp>(l, args[1], args[1]);
        Value e = b.create<arith::ShRUIOp>(l, args[2], one);
        b.create<scf::YieldOp>(l, mlir::ValueRange{acc, sq, e});
      });
  (void)types;
  Value result = loop.getResult(0);
  if (!isSignedInt(k))
    return result;
  Value negExp = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, exp, zero);
  Value baseOne = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, base, one);
  Value baseM1 = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, base,
                                         constInt(-1, k));
  Value odd = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne,
                                      B.create<arith::AndIOp>(CurLoc, exp, one), zero);
  Value m1Result = B.create<arith::SelectOp>(CurLoc, odd, constInt(-1, k), one);
  Value negResult = B.create<arith::SelectOp>(
      CurLoc, baseOne, one, B.create<arith::SelectOp>(CurLoc, baseM1, m1Result, zero));
  return B.create<arith::SelectOp>(CurLoc, negExp, negResult, result);
}

CGValue FunctionGen::binop(const ast::BinOp &b) {
  if (F.typeOf(b).isSet())
    return setBinop(b);
  CGValue l = expr(*b.lhs), r = expr(*b.rhs);
  std::string err;
  auto rule = binaryRule(b.op, l.type.scalarKind(), r.type.scalarKind(), err);
  CGValue res;
  res.type = Type::scalar(rule->result);
  ScalarKind k = rule->operand;
  // x ** n for a small literal n: multiply instead of calling pow.
  if (b.op == ast::BinOpKind::Pow) {
    std::optional<int64_t> n;
    if (auto *i = dyn_cast<ast::IntLit>(b.rhs.get()); i && i->value <= 4)
      n = static_cast<int64_t>(i->value);
    if (auto *f = dyn_cast<ast::FloatLit>(b.rhs.get());
        f && (f->value == 1.0 || f->value == 2.0 || f->value == 3.0 || f->value == 4.0))
      n = static_cast<int64_t>(f->value);
    if (n && *n >= 1) {
      Value x = castScalar(l.single(), l.type.scalarKind(), k);
      CurLoc = loc(b.opRange);
      res.leaves.push_back(smallPower(x, *n, k));
      return res;
    }
  }
  Value lv = castScalar(l.single(), l.type.scalarKind(), k);
  Value rv = castScalar(r.single(), r.type.scalarKind(), k);
  checkDivisor(b.op, rv, k, b.range());
  res.leaves.push_back(arith2(b.op, lv, rv, k, loc(b.opRange)));
  return res;
}

void FunctionGen::checkDivisor(ast::BinOpKind op, Value r, ScalarKind k, SourceRange at) {
  if (!pythonErrors() || !isInteger(k) ||
      (op != ast::BinOpKind::FloorDiv && op != ast::BinOpKind::Mod))
    return;
  // A constant divisor folds the test away.
  SourceRange saved = CurRange;
  CurRange = at;
  Value zero = constInt(0, k);
  Value isZero = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, r, zero);
  raiseIf(isZero, KernelFaultKind::ZeroDivision, op == ast::BinOpKind::Mod ? "%" : "//", {});
  CurRange = saved;
}

Value FunctionGen::compare1(ast::CmpOpKind op, Value l, ScalarKind lk, Value r,
                            ScalarKind rk) {
  std::string err;
  ScalarKind k = *compareRule(op, lk, rk, err);
  l = castScalar(l, lk, k);
  r = castScalar(r, rk, k);
  using C = ast::CmpOpKind;
  if (isComplex(k)) {
    if (op == C::Eq)
      return B.create<complex::EqualOp>(CurLoc, l, r);
    return B.create<complex::NotEqualOp>(CurLoc, l, r);
  }
  if (isFloat(k)) {
    arith::CmpFPredicate p = arith::CmpFPredicate::OEQ;
    switch (op) {
    case C::Eq: p = arith::CmpFPredicate::OEQ; break;
    case C::Ne: p = arith::CmpFPredicate::UNE; break;
    case C::Lt: p = arith::CmpFPredicate::OLT; break;
    case C::Le: p = arith::CmpFPredicate::OLE; break;
    case C::Gt: p = arith::CmpFPredicate::OGT; break;
    case C::Ge: p = arith::CmpFPredicate::OGE; break;
    default: break;
    }
    return B.create<arith::CmpFOp>(CurLoc, p, l, r);
  }
  bool s = isSignedInt(k);
  arith::CmpIPredicate p = arith::CmpIPredicate::eq;
  switch (op) {
  case C::Eq: p = arith::CmpIPredicate::eq; break;
  case C::Ne: p = arith::CmpIPredicate::ne; break;
  case C::Lt: p = s ? arith::CmpIPredicate::slt : arith::CmpIPredicate::ult; break;
  case C::Le: p = s ? arith::CmpIPredicate::sle : arith::CmpIPredicate::ule; break;
  case C::Gt: p = s ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::ugt; break;
  case C::Ge: p = s ? arith::CmpIPredicate::sge : arith::CmpIPredicate::uge; break;
  default: break;
  }
  return B.create<arith::CmpIOp>(CurLoc, p, l, r);
}

SmallVector<CGValue> FunctionGen::elementsOf(const CGValue &t) {
  SmallVector<CGValue> elts;
  unsigned pos = 0;
  for (const Type &e : t.type.elements()) {
    unsigned n = countLeaves(e);
    CGValue v;
    v.type = e;
    v.leaves.assign(t.leaves.begin() + pos, t.leaves.begin() + pos + n);
    elts.push_back(std::move(v));
    pos += n;
  }
  return elts;
}

Value FunctionGen::compareValues(ast::CmpOpKind op, const CGValue &l, const CGValue &r) {
  using C = ast::CmpOpKind;
  if (!l.type.isTuple())
    return compare1(op, l.single(), l.type.scalarKind(), r.single(), r.type.scalarKind());
  // Python: the first pair of items that is not equal decides (compared
  // with op), else the lengths do; == needs every pair equal. The items
  // are values already, so selects from the last pair back make it.
  SmallVector<CGValue> a = elementsOf(l), b = elementsOf(r);
  size_t n = std::min(a.size(), b.size());
  bool ordering = op != C::Eq && op != C::Ne;
  Value res = constBool(false);
  if (ordering) {
    int64_t la = static_cast<int64_t>(a.size()), lb = static_cast<int64_t>(b.size());
    res = constBool(op == C::Lt ? la < lb : op == C::Le ? la <= lb : op == C::Gt ? la > lb
                                                                                : la >= lb);
  } else {
    res = constBool(a.size() == b.size());
  }
  for (size_t i = n; i-- > 0;) {
    Value eq = compareValues(C::Eq, a[i], b[i]);
    res = ordering ? B.create<arith::SelectOp>(CurLoc, eq, res, compareValues(op, a[i], b[i]))
                         .getResult()
                   : B.create<arith::AndIOp>(CurLoc, eq, res).getResult();
  }
  return op == C::Ne ? logicalNot(res) : res;
}

CGValue FunctionGen::compare(const ast::Compare &c) {
  if (c.ops[0] != ast::CmpOpKind::In && c.ops[0] != ast::CmpOpKind::NotIn &&
      F.typeOf(*c.operands[0]).isSet())
    return setCompare(c);
  if (c.ops[0] == ast::CmpOpKind::Is || c.ops[0] == ast::CmpOpKind::IsNot) {
    // x is None: known from the types (the operands still run, for their
    // effects), or the flag of optional local x.
    CGValue r;
    r.type = Type::scalar(ScalarKind::Bool);
    bool isNot = c.ops[0] == ast::CmpOpKind::IsNot;
    if (auto g = F.noneGets.find(&c); g != F.noneGets.end()) {
      // d.get(k) is None: k is not in d.
      const ast::Call &call = *g->second;
      CGValue d = expr(*llvm::cast<ast::Attribute>(*call.func).value);
      Value in = dictContains(d, expr(*call.args[0]));
      r.leaves.push_back(isNot ? in : logicalNot(in));
      return r;
    }
    if (auto known = F.noneTests.find(&c); known != F.noneTests.end()) {
      for (auto &o : c.operands)
        if (!isa<ast::Name>(o.get()) && !isa<ast::NoneLit>(o.get()))
          expr(*o);
      r.leaves.push_back(constBool(known->second));
      return r;
    }
    const ast::Expr *x = c.operands[isa<ast::NoneLit>(c.operands[0].get()) ? 1 : 0].get();
    Value none = readVar(noneFlag(llvm::cast<ast::Name>(x)->id)).single();
    r.leaves.push_back(isNot ? logicalNot(none) : none);
    return r;
  }
  if (c.ops[0] == ast::CmpOpKind::In || c.ops[0] == ast::CmpOpKind::NotIn) {
    // x in seq (Sema: alone, a number in a tuple of numbers or an array, a
    // tuple in a list of tuples, a key in a dict).
    CGValue x = expr(*c.operands[0]), seq = expr(*c.operands[1]);
    Value xv = x.single();
    ScalarKind xk = x.type.scalarKind();
    Value found = constBool(false);
    if (seq.type.isDict()) {
      found = dictContains(seq, x);
    } else if (seq.type.isTupleList()) {
      Value n = toIndex(seq.leaves.back(), ScalarKind::I64);
      found = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult,
                                      findItem(listData(seq), n, seq.type.listItem(), x), n);
    } else if (seq.type.isTuple()) {
      for (size_t j = 0; j < seq.leaves.size(); ++j)
        found = B.create<arith::OrIOp>(
            CurLoc, found,
            compare1(ast::CmpOpKind::Eq, xv, xk, seq.leaves[j],
                     seq.type.elements()[j].scalarKind()));
    } else {
      ScalarKind ek = seq.type.scalarKind();
      LazyArray eq = elementwise(Type::array(ScalarKind::Bool, seq.type.rank(), Type::Layout::C),
                                 {leaf(seq.single(), seq.type)},
                                 [this, xv, xk, ek](const SmallVector<Value> &v) {
                                   return compare1(ast::CmpOpKind::Eq, xv, xk, v[0], ek);
                                 });
      found = reduce(eq, Builtin::Any, ScalarKind::Bool);
    }
    CGValue res;
    res.type = Type::scalar(ScalarKind::Bool);
    res.leaves.push_back(c.ops[0] == ast::CmpOpKind::NotIn ? logicalNot(found) : found);
    return res;
  }
  // a < b < c: each operand is evaluated once, and later links only while
  // the chain holds (scf.if keeps the current CFG block intact).
  std::function<Value(size_t, const CGValue &)> chain = [&](size_t i,
                                                            const CGValue &left) -> Value {
    CGValue right = expr(*c.operands[i + 1]);
    Value v = compareValues(c.ops[i], left, right);
    if (i + 1 == c.ops.size())
      return v;
    return emitIf(
        v, {B.getI1Type()}, [&]() -> SmallVector<Value> { return {chain(i + 1, right)}; },
        [&]() -> SmallVector<Value> { return {constBool(false)}; })[0];
  };
  CGValue res;
  res.type = Type::scalar(ScalarKind::Bool);
  res.leaves.push_back(chain(0, expr(*c.operands[0])));
  return res;
}

CGValue FunctionGen::boolop(const ast::BoolOp &b) {
  const Type &t = F.typeOf(b);
  // Operands after one known to decide the result are not generated.
  auto cut = F.boolCut.find(&b);
  size_t n = cut != F.boolCut.end() ? cut->second : b.values.size();
  std::function<CGValue(size_t)> gen = [&](size_t i) -> CGValue {
    CGValue v = convert(expr(*b.values[i]), t);
    if (i + 1 == n)
      return v;
    Value cond = truth(v);
    mlir::Type mt = scalarType(Ctx, t.scalarKind());
    auto rest = [&]() -> SmallVector<Value> { return {gen(i + 1).single()}; };
    auto keep = [&]() -> SmallVector<Value> { return {v.single()}; };
    CGValue r;
    r.type = t;
    r.leaves.push_back(b.op == ast::BoolOpKind::And ? emitIf(cond, {mt}, rest, keep)[0]
                                                    : emitIf(cond, {mt}, keep, rest)[0]);
    return r;
  };
  return gen(0);
}

CGValue FunctionGen::ifexp(const ast::IfExp &e) {
  const Type &t = F.typeOf(e);
  Value cond = truth(expr(*e.cond));
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, t, types);
  CGValue r;
  r.type = t;
  auto results = emitIf(
      cond, types, [&]() { return convert(expr(*e.body), t).leaves; },
      [&]() { return convert(expr(*e.orelse), t).leaves; });
  r.leaves.append(results.begin(), results.end());
  return r;
}

CGValue FunctionGen::unary(const ast::UnaryOp &u) {
  CGValue v = expr(*u.operand);
  CGValue r;
  r.type = F.typeOf(u);
  if (u.op == ast::UnaryOpKind::Not) {
    r.leaves.push_back(logicalNot(truth(v)));
    return r;
  }
  ScalarKind k = r.type.scalarKind();
  Value x = castScalar(v.single(), v.type.scalarKind(), k);
  switch (u.op) {
  case ast::UnaryOpKind::Pos:
    r.leaves.push_back(x);
    break;
  case ast::UnaryOpKind::Neg:
    if (isComplex(k))
      r.leaves.push_back(B.create<complex::NegOp>(CurLoc, x));
    else if (isFloat(k))
      r.leaves.push_back(B.create<arith::NegFOp>(CurLoc, x));
    else
      r.leaves.push_back(B.create<arith::SubIOp>(CurLoc, constInt(0, k), x));
    break;
  case ast::UnaryOpKind::Invert:
    r.leaves.push_back(B.create<arith::XOrIOp>(CurLoc, x, constInt(-1, k)));
    break;
  default:
    break;
  }
  return r;
}

Value FunctionGen::mathUnary(Builtin b, Value x, ScalarKind k) {
  if (isComplex(k)) {
    switch (b) {
    case Builtin::Sqrt: return B.create<complex::SqrtOp>(CurLoc, x);
    case Builtin::Exp: return B.create<complex::ExpOp>(CurLoc, x);
    case Builtin::Log: return B.create<complex::LogOp>(CurLoc, x);
    case Builtin::Sin: return B.create<complex::SinOp>(CurLoc, x);
    case Builtin::Cos: return B.create<complex::CosOp>(CurLoc, x);
    case Builtin::Tan: return B.create<complex::TanOp>(CurLoc, x);
    case Builtin::Tanh: return B.create<complex::TanhOp>(CurLoc, x);
    default: return x;
    }
  }
  switch (b) {
  case Builtin::Sqrt: return B.create<math::SqrtOp>(CurLoc, x);
  case Builtin::Exp: return B.create<math::ExpOp>(CurLoc, x);
  case Builtin::Log: return B.create<math::LogOp>(CurLoc, x);
  case Builtin::Log2: return B.create<math::Log2Op>(CurLoc, x);
  case Builtin::Log10: return B.create<math::Log10Op>(CurLoc, x);
  case Builtin::Log1p:
  case Builtin::Expm1: {
    // MLIR lowers these as log(1 + x) and exp(x) - 1, which lose all
    // precision near 0: call libm's exact functions.
    const char *name = b == Builtin::Log1p ? (k == ScalarKind::F32 ? "log1pf" : "log1p")
                                           : (k == ScalarKind::F32 ? "expm1f" : "expm1");
    auto fn = MG.libmFunction(Module, name, x.getType(), 1);
    return B.create<func::CallOp>(CurLoc, fn, mlir::ValueRange{x}).getResult(0);
  }
  case Builtin::Sin: return B.create<math::SinOp>(CurLoc, x);
  case Builtin::Cos: return B.create<math::CosOp>(CurLoc, x);
  case Builtin::Tan: return B.create<math::TanOp>(CurLoc, x);
  case Builtin::Asin: return B.create<math::AsinOp>(CurLoc, x);
  case Builtin::Acos: return B.create<math::AcosOp>(CurLoc, x);
  case Builtin::Atan: return B.create<math::AtanOp>(CurLoc, x);
  case Builtin::Sinh: return B.create<math::SinhOp>(CurLoc, x);
  case Builtin::Cosh: return B.create<math::CoshOp>(CurLoc, x);
  case Builtin::Tanh: return B.create<math::TanhOp>(CurLoc, x);
  case Builtin::Asinh: return B.create<math::AsinhOp>(CurLoc, x);
  case Builtin::Acosh: return B.create<math::AcoshOp>(CurLoc, x);
  case Builtin::Atanh: return B.create<math::AtanhOp>(CurLoc, x);
  case Builtin::Erf: return B.create<math::ErfOp>(CurLoc, x);
  case Builtin::Cbrt: { // libm, as NumPy and Python call it
    auto fn = MG.libmFunction(Module, k == ScalarKind::F32 ? "cbrtf" : "cbrt", x.getType(), 1);
    return B.create<func::CallOp>(CurLoc, fn, mlir::ValueRange{x}).getResult(0);
  }
  case Builtin::Exp2: return B.create<math::Exp2Op>(CurLoc, x);
  case Builtin::Radians: // x * (pi / 180), as NumPy and Python compute it
  case Builtin::Degrees: {
    double f = b == Builtin::Radians ? M_PI / 180.0 : 180.0 / M_PI;
    auto c = B.create<arith::ConstantOp>(CurLoc, B.getFloatAttr(x.getType(), f));
    return B.create<arith::MulFOp>(CurLoc, x, c);
  }
  case Builtin::Floor: return B.create<math::FloorOp>(CurLoc, x);
  case Builtin::Ceil: return B.create<math::CeilOp>(CurLoc, x);
  case Builtin::Trunc: return B.create<math::TruncOp>(CurLoc, x);
  case Builtin::Fabs: return B.create<math::AbsFOp>(CurLoc, x);
  case Builtin::Erfc:
  case Builtin::Gamma:
  case Builtin::Lgamma: { // libm's (libdevice's on GPUs)
    std::string name = b == Builtin::Erfc ? "erfc" : b == Builtin::Gamma ? "tgamma" : "lgamma";
    if (k == ScalarKind::F32)
      name += "f";
    auto fn = MG.libmFunction(Module, name, x.getType(), 1);
    return B.create<func::CallOp>(CurLoc, fn, mlir::ValueRange{x}).getResult(0);
  }
  default:
    return x;
  }
}

Value FunctionGen::mathBinary(Builtin b, Value x, Value y, ScalarKind k) {
  switch (b) {
  case Builtin::Atan2: return B.create<math::Atan2Op>(CurLoc, x, y);
  case Builtin::Copysign: return B.create<math::CopySignOp>(CurLoc, x, y);
  case Builtin::Fmod: {
    if (isFloat(k)) // LLVM's frem is C's fmod
      return B.create<arith::RemFOp>(CurLoc, x, y);
    // np.fmod of integers: C's `%`, 0 for a zero divisor (NumPy's); -1
    // divides everything (and INT_MIN % -1 would trap).
    Value zero = constInt(0, k);
    Value trivial = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, y, zero);
    if (isSignedInt(k))
      trivial = B.create<arith::OrIOp>(
          CurLoc, trivial,
          B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, y, constInt(-1, k)));
    Value safe = B.create<arith::SelectOp>(CurLoc, trivial, constInt(1, k), y);
    return isSignedInt(k) ? Value(B.create<arith::RemSIOp>(CurLoc, x, safe))
                          : Value(B.create<arith::RemUIOp>(CurLoc, x, safe));
  }
  case Builtin::Gcd: return gcd(x, y, k);
  case Builtin::Lcm: {
    // |x| / gcd * |y|: 0 where either is 0 (Python's and NumPy's); the gcd
    // is 0 only where both are.
    Value g = gcd(x, y, k);
    Value none = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, g, constInt(0, k));
    Value safe = B.create<arith::SelectOp>(CurLoc, none, constInt(1, k), g);
    Value ax = isSignedInt(k) ? Value(B.create<math::AbsIOp>(CurLoc, x)) : x;
    Value ay = isSignedInt(k) ? Value(B.create<math::AbsIOp>(CurLoc, y)) : y;
    return B.create<arith::MulIOp>(CurLoc, B.create<arith::DivUIOp>(CurLoc, ax, safe), ay);
  }
  default: { // hypot, remainder: libm's (libdevice's on GPUs)
    std::string name = b == Builtin::Hypot ? "hypot" : "remainder";
    if (k == ScalarKind::F32)
      name += "f";
    auto fn = MG.libmFunction(Module, name, x.getType(), 2);
    return B.create<func::CallOp>(CurLoc, fn, mlir::ValueRange{x, y}).getResult(0);
  }
  }
}

Value FunctionGen::gcd(Value x, Value y, ScalarKind k) {
  // Euclid's on the magnitudes, as unsigned numbers (|INT64_MIN| is 2**63).
  if (isSignedInt(k)) {
    x = B.create<math::AbsIOp>(CurLoc, x);
    y = B.create<math::AbsIOp>(CurLoc, y);
  }
  Value zero = constInt(0, k);
  auto ends = loopWhile(
      {x, y},
      [&](mlir::ValueRange v) {
        return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, v[1], zero);
      },
      [&](mlir::ValueRange v) -> SmallVector<Value> {
        return {v[1], B.create<arith::RemUIOp>(CurLoc, v[0], v[1])};
      });
  return ends[0];
}

Value FunctionGen::ldexp(Value x, Value e, ScalarKind ek, ScalarKind k) {
  // libm's ldexp takes an int; exponents beyond it give 0 or inf anyway.
  ScalarKind i64 = ScalarKind::I64;
  if (ek == ScalarKind::U64)
    e = B.create<arith::MinUIOp>(CurLoc, e, constInt(INT32_MAX, ek));
  Value w = castScalar(e, ek, i64);
  w = B.create<arith::MaxSIOp>(CurLoc, B.create<arith::MinSIOp>(CurLoc, w, constInt(INT32_MAX, i64)),
                               constInt(INT32_MIN, i64));
  Value e32 = B.create<arith::TruncIOp>(CurLoc, B.getI32Type(), w);
  auto fn = MG.externFunction(Module, k == ScalarKind::F32 ? "ldexpf" : "ldexp",
                              {x.getType(), B.getI32Type()}, {x.getType()});
  return B.create<func::CallOp>(CurLoc, fn, mlir::ValueRange{x, e32}).getResult(0);
}

SmallVector<Value>
FunctionGen::loopWhile(mlir::ValueRange init, const std::function<Value(mlir::ValueRange)> &cond,
                       const std::function<SmallVector<Value>(mlir::ValueRange)> &body) {
  SmallVector<mlir::Type> types(init.getTypes());
  SmallVector<Location> locs(types.size(), CurLoc);
  auto loop = B.create<scf::WhileOp>(CurLoc, types, init);
  OpBuilder::InsertionGuard g(B);
  Block *before = B.createBlock(&loop.getBefore(), {}, types, locs);
  B.create<scf::ConditionOp>(CurLoc, cond(before->getArguments()), before->getArguments());
  Block *after = B.createBlock(&loop.getAfter(), {}, types, locs);
  B.create<scf::YieldOp>(CurLoc, body(after->getArguments()));
  return SmallVector<Value>(loop.getResults());
}

Value FunctionGen::checkedFold(
    Value lo, Value hi, const char *fn,
    const std::function<std::pair<Value, Value>(Value, Value)> &factors) {
  // Both factors are below 2**63: the product fits where its high word is 0
  // and its low word's top bit is clear.
  ScalarKind i64 = ScalarKind::I64;
  Value zero = constInt(0, i64);
  auto ends = loopWhile(
      {lo, constInt(1, i64), constBool(false)},
      [&](mlir::ValueRange v) {
        Value more = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sle, v[0], hi);
        return B.create<arith::AndIOp>(CurLoc, more, logicalNot(v[2]));
      },
      [&](mlir::ValueRange v) -> SmallVector<Value> {
        auto [a, b] = factors(v[0], v[1]);
        auto m = B.create<arith::MulUIExtendedOp>(CurLoc, a, b);
        Value over = B.create<arith::OrIOp>(
            CurLoc,
            B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, m.getHigh(), zero),
            B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, m.getLow(), zero));
        return {B.create<arith::AddIOp>(CurLoc, v[0], constInt(1, i64)), m.getLow(), over};
      });
  raiseIf(ends[2], KernelFaultKind::Raise,
          fmt::format("OverflowError: {}() result does not fit in int64", fn), {});
  return ends[1];
}

SmallVector<Value> FunctionGen::mathPair(Builtin b, SmallVector<Value> xs, ScalarKind k,
                                         const Type &rt) {
  ScalarKind i64 = ScalarKind::I64;
  ScalarKind k0 = rt.elements()[0].scalarKind(), k1 = rt.elements()[1].scalarKind();
  auto cmp = [&](arith::CmpIPredicate p, Value a, Value b) -> Value {
    return B.create<arith::CmpIOp>(CurLoc, p, a, b);
  };
  if (b == Builtin::Divmod)
    return {castScalar(arith2(ast::BinOpKind::FloorDiv, xs[0], xs[1], k, CurLoc), k, k0),
            castScalar(arith2(ast::BinOpKind::Mod, xs[0], xs[1], k, CurLoc), k, k1)};
  Value x = xs[0];
  if (b == Builtin::Modf) {
    Value whole = B.create<math::TruncOp>(CurLoc, x);
    Value inf = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ,
                                        B.create<math::AbsFOp>(CurLoc, x),
                                        constFloat(INFINITY, k));
    Value frac = B.create<arith::SelectOp>(CurLoc, inf, constFloat(0, k),
                                           B.create<arith::SubFOp>(CurLoc, x, whole));
    return {B.create<math::CopySignOp>(CurLoc, frac, x), whole};
  }
  // Frexp, from the bits of the float64: a subnormal is first scaled by
  // 2**54; 0, inf and nan are (x, 0).
  auto f64 = ScalarKind::F64;
  Value bits = B.create<arith::BitcastOp>(CurLoc, B.getI64Type(), x);
  auto field = [&](Value v) {
    return B.create<arith::AndIOp>(
        CurLoc, B.create<arith::ShRUIOp>(CurLoc, v, constInt(52, i64)), constInt(0x7ff, i64));
  };
  Value e = field(bits);
  Value tiny = cmp(arith::CmpIPredicate::eq, e, constInt(0, i64));
  Value y = B.create<arith::SelectOp>(
      CurLoc, tiny, B.create<arith::MulFOp>(CurLoc, x, constFloat(0x1p54, f64)), x);
  Value ybits = B.create<arith::BitcastOp>(CurLoc, B.getI64Type(), y);
  Value exp = B.create<arith::SubIOp>(
      CurLoc, field(ybits),
      B.create<arith::SelectOp>(CurLoc, tiny, constInt(1022 + 54, i64), constInt(1022, i64)));
  Value mbits = B.create<arith::OrIOp>(
      CurLoc,
      B.create<arith::AndIOp>(CurLoc, ybits,
                              constInt(static_cast<int64_t>(0x800FFFFFFFFFFFFFULL), i64)),
      constInt(0x3FE0000000000000LL, i64));
  Value mant = B.create<arith::BitcastOp>(CurLoc, B.getF64Type(), mbits);
  Value special = B.create<arith::OrIOp>(
      CurLoc, B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, x, constFloat(0, f64)),
      cmp(arith::CmpIPredicate::eq, e, constInt(0x7ff, i64)));
  mant = B.create<arith::SelectOp>(CurLoc, special, x, mant);
  exp = B.create<arith::SelectOp>(CurLoc, special, constInt(0, i64), exp);
  return {castScalar(mant, f64, k0), castScalar(exp, i64, k1)};
}

CGValue FunctionGen::moreMath(const ast::Call &c, const CallInfo &info) {
  CGValue r;
  r.type = F.typeOf(c);
  ScalarKind k = info.operandKind, i64 = ScalarKind::I64;
  if (r.type.isTuple() && r.type.elements()[0].isArray()) {
    // np.divmod, np.frexp, np.modf of arrays: both parts from one pass over
    // the (broadcast) elements. The elementwise expression of the operands
    // hands each element's operands to `seen`.
    std::vector<LazyArray> parts;
    SmallVector<ScalarKind> kinds;
    for (auto &a : c.args) {
      parts.push_back(lazy(*a));
      kinds.push_back(parts.back().type.scalarKind());
    }
    SmallVector<Value> seen;
    unsigned rank = r.type.elements()[0].rank();
    LazyArray in = elementwise(Type::array(kinds[0], rank, Type::Layout::C), parts,
                               [&seen](const SmallVector<Value> &v) {
                                 seen = v;
                                 return v[0];
                               });
    Type t0 = r.type.elements()[0], t1 = r.type.elements()[1];
    Value out0 = MG.allocArray(B, CurLoc, t0, in.shape);
    Value out1 = MG.allocArray(B, CurLoc, t1, in.shape);
    in.prepare(in.shape);
    ScalarKind opk = info.builtin == Builtin::Frexp ? ScalarKind::F64 : k;
    storeEach(in.shape, [&](mlir::ValueRange ivs) {
      in.element(ivs);
      SmallVector<Value> xs;
      for (size_t i = 0; i < seen.size(); ++i)
        xs.push_back(castScalar(seen[i], kinds[i], opk));
      SmallVector<Value> pair = mathPair(info.builtin, xs, k, r.type);
      SmallVector<Value> at(ivs.begin(), ivs.end());
      storeElement(pair[0], out0, at, t0.scalarKind());
      storeElement(pair[1], out1, at, t1.scalarKind());
    });
    r.leaves = {out0, out1};
    return r;
  }
  auto argAs = [&](size_t i, ScalarKind to) {
    CGValue v = expr(*c.args[i]);
    return castScalar(v.single(), v.type.scalarKind(), to);
  };
  auto cmp = [&](arith::CmpIPredicate p, Value a, Value b) -> Value {
    return B.create<arith::CmpIOp>(CurLoc, p, a, b);
  };
  auto negative = [&](Value v, const char *message) {
    raiseIf(cmp(arith::CmpIPredicate::slt, v, constInt(0, i64)), KernelFaultKind::Raise, message,
            {});
  };
  auto product = [](Value i, Value acc) { return std::make_pair(acc, i); };
  switch (info.builtin) {
  case Builtin::Gcd:
  case Builtin::Lcm: {
    // Python's fold: gcd() is 0, lcm() is 1, one argument its magnitude.
    bool g = info.builtin == Builtin::Gcd;
    Value acc = constInt(g ? 0 : 1, k);
    for (size_t i = 0; i < c.args.size(); ++i)
      acc = mathBinary(info.builtin, acc, argAs(i, k), k);
    r.leaves.push_back(acc);
    return r;
  }
  case Builtin::Isqrt: {
    Value n = argAs(0, k);
    if (isSignedInt(k))
      negative(n, "ValueError: isqrt() argument must be nonnegative");
    // The float square root is never below the answer r: n >= 2**53 is
    // rounded by at most n * 2**-53, which moves its root by less than half
    // of r's ulp. It may be above (n = r*r + 2r rounds up to (r+1)**2):
    // step down with divisions, which cannot overflow: r*r > n is r > n / r.
    auto f64 = ScalarKind::F64;
    Value guess = castScalar(B.create<math::SqrtOp>(CurLoc, castScalar(n, ScalarKind::U64, f64)),
                             f64, ScalarKind::U64);
    auto u = arith::CmpIPredicate::ugt;
    Value one = constInt(1, ScalarKind::U64), zero = constInt(0, ScalarKind::U64);
    auto down = loopWhile(
        {guess},
        [&](mlir::ValueRange v) {
          Value pos = cmp(arith::CmpIPredicate::ne, v[0], zero);
          Value safe = B.create<arith::SelectOp>(CurLoc, pos, v[0], one);
          return B.create<arith::AndIOp>(
              CurLoc, pos, cmp(u, v[0], B.create<arith::DivUIOp>(CurLoc, n, safe)));
        },
        [&](mlir::ValueRange v) -> SmallVector<Value> {
          return {B.create<arith::SubIOp>(CurLoc, v[0], one)};
        });
    r.leaves.push_back(down[0]);
    return r;
  }
  case Builtin::Factorial: {
    Value n = argAs(0, i64);
    negative(n, "ValueError: factorial() not defined for negative values");
    r.leaves.push_back(checkedFold(constInt(2, i64), n, "factorial", product));
    return r;
  }
  case Builtin::Perm:
  case Builtin::Comb: {
    bool perm = info.builtin == Builtin::Perm;
    Value n = argAs(0, i64);
    Value kk = c.args.size() == 2 ? argAs(1, i64) : n;
    negative(n, "ValueError: n must be a non-negative integer");
    negative(kk, "ValueError: k must be a non-negative integer");
    Value none = cmp(arith::CmpIPredicate::sgt, kk, n); // 0 ways
    Value one = constInt(1, i64);
    Value kUsed = B.create<arith::SelectOp>(CurLoc, none, constInt(0, i64), kk);
    Value rest = B.create<arith::SubIOp>(CurLoc, n, kUsed);
    Value result;
    if (perm) { // n * (n - 1) * ... * (n - k + 1)
      result = checkedFold(B.create<arith::AddIOp>(CurLoc, rest, one), n, "perm", product);
    } else {
      // C(n, k) = C(n, n - k); C(m + i, i) = C(m + i - 1, i - 1) * (m + i) / i,
      // each step exact and no larger than the result: divide out the
      // common factor of the running value and i first.
      Value small = B.create<arith::MinSIOp>(CurLoc, kUsed, rest);
      Value m = B.create<arith::SubIOp>(CurLoc, n, small);
      result = checkedFold(one, small, "comb", [&](Value i, Value acc) {
        Value g = gcd(acc, i, i64);
        Value d = B.create<arith::DivSIOp>(CurLoc, i, g);
        return std::make_pair(
            Value(B.create<arith::DivSIOp>(CurLoc, acc, g)),
            Value(B.create<arith::DivSIOp>(CurLoc, B.create<arith::AddIOp>(CurLoc, m, i), d)));
      });
    }
    r.leaves.push_back(B.create<arith::SelectOp>(CurLoc, none, constInt(0, i64), result));
    return r;
  }
  case Builtin::Ldexp: {
    CGValue e = expr(*c.args[1]);
    Value x = argAs(0, k);
    r.leaves.push_back(ldexp(x, e.single(), e.type.scalarKind(), k));
    return r;
  }
  case Builtin::Divmod: {
    Value x = argAs(0, k), y = argAs(1, k);
    checkDivisor(ast::BinOpKind::FloorDiv, y, k, c.range());
    r.leaves = mathPair(info.builtin, {x, y}, k, r.type);
    return r;
  }
  case Builtin::Frexp:
    r.leaves = mathPair(info.builtin, {argAs(0, ScalarKind::F64)}, k, r.type);
    return r;
  case Builtin::Modf:
    r.leaves = mathPair(info.builtin, {argAs(0, k)}, k, r.type);
    return r;
  case Builtin::MathIsclose: {
    // CPython's: equal (infinities too), else neither infinite and the
    // difference within rel_tol of either operand or within abs_tol.
    using P = arith::CmpFPredicate;
    ScalarKind f = ScalarKind::F64;
    Value a = argAs(0, f), b = argAs(1, f);
    auto tolerance = [&](size_t i, double dflt) {
      if (!info.operands[i])
        return constFloat(dflt, f);
      CGValue v = expr(*info.operands[i]);
      return castScalar(v.single(), v.type.scalarKind(), f);
    };
    Value rel = tolerance(0, 1e-9), abs = tolerance(1, 0.0);
    auto cmp = [&](P p, Value x, Value y) { return B.create<arith::CmpFOp>(CurLoc, p, x, y); };
    auto mag = [&](Value x) { return B.create<math::AbsFOp>(CurLoc, x); };
    // NaN tolerances compare false here too; Python takes them silently.
    raiseIf(B.create<arith::OrIOp>(CurLoc, cmp(P::OLT, rel, constFloat(0, f)),
                                   cmp(P::OLT, abs, constFloat(0, f))),
            KernelFaultKind::Raise, "ValueError: tolerances must be non-negative", {});
    Value inf = constFloat(INFINITY, f);
    Value infinite = B.create<arith::OrIOp>(CurLoc, cmp(P::OEQ, mag(a), inf),
                                            cmp(P::OEQ, mag(b), inf));
    Value diff = mag(B.create<arith::SubFOp>(CurLoc, b, a));
    Value near = B.create<arith::OrIOp>(
        CurLoc,
        B.create<arith::OrIOp>(CurLoc,
                               cmp(P::OLE, diff, mag(B.create<arith::MulFOp>(CurLoc, rel, b))),
                               cmp(P::OLE, diff, mag(B.create<arith::MulFOp>(CurLoc, rel, a)))),
        cmp(P::OLE, diff, abs));
    r.leaves.push_back(B.create<arith::OrIOp>(
        CurLoc, cmp(P::OEQ, a, b), B.create<arith::AndIOp>(CurLoc, logicalNot(infinite), near)));
    return r;
  }
  case Builtin::Fsum: {
    // Summed exactly by the runtime (_stn_fsum), which reports Python's
    // errors in `status`: a float64 array where it is (any stride), other
    // numbers converted into a float64 copy first.
    CGValue a = expr(*c.args[0]);
    ScalarKind ak = a.type.scalarKind(), f = ScalarKind::F64;
    Value mem = a.single();
    Value n = B.create<memref::DimOp>(CurLoc, mem, 0);
    Value tmp;
    if (ak != f) {
      tmp = MG.allocArray(B, CurLoc, Type::array(f, 1, Type::Layout::C), {n});
      forEach({n}, [&](mlir::ValueRange i) {
        storeElement(castScalar(loadElement(mem, {i[0]}, ak), ak, f), tmp, {i[0]}, f);
      });
      mem = tmp;
    }
    auto md = B.create<memref::ExtractStridedMetadataOp>(CurLoc, mem);
    auto i64 = B.getI64Type();
    Value status = entryAlloca(i64);
    Value sum = MG.callRuntime(B, CurLoc, "_stn_fsum",
                               {elementAddress(mem, {constIndex(0)}),
                                B.create<arith::IndexCastOp>(CurLoc, i64, n),
                                B.create<arith::IndexCastOp>(CurLoc, i64, md.getStrides()[0]),
                                elementAddress(status, {})},
                               {B.getF64Type()});
    if (tmp)
      B.create<memref::DeallocOp>(CurLoc, tmp);
    Value st = B.create<memref::LoadOp>(CurLoc, status);
    auto is = [&](int64_t code) {
      return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, st,
                                     constInt(code, ScalarKind::I64));
    };
    raiseIf(is(1), KernelFaultKind::Raise, "ValueError: -inf + inf in fsum", {});
    raiseIf(is(2), KernelFaultKind::Raise, "OverflowError: intermediate overflow in fsum", {});
    r.leaves.push_back(sum);
    return r;
  }
  default: { // math.log(x, base)
    Value x = argAs(0, k), base = argAs(1, k);
    r.leaves.push_back(B.create<arith::DivFOp>(CurLoc, B.create<math::LogOp>(CurLoc, x),
                                               B.create<math::LogOp>(CurLoc, base)));
    return r;
  }
  }
}

CGValue FunctionGen::runtimeAxis(const ast::Call &c, const CallInfo &info) {
  const ast::Expr *src = info.receiver ? info.receiver : c.args[0].get();
  auto rank = static_cast<int64_t>(F.typeOf(*src).rank());
  auto i64 = ScalarKind::I64;
  CGValue given = expr(*info.axisValue);
  Value ax = castScalar(given.single(), given.type.scalarKind(), i64);
  Value n = constInt(rank, i64), zero = constInt(0, i64);
  Value neg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, ax, zero);
  Value axis = B.create<arith::SelectOp>(CurLoc, neg, B.create<arith::AddIOp>(CurLoc, ax, n), ax);
  Value bad = B.create<arith::OrIOp>(
      CurLoc, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, axis, zero),
      B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sge, axis, n));
  raiseIf(bad, KernelFaultKind::Raise,
          fmt::format("AxisError: axis {}i is out of bounds for array of dimension {}",
                      kRaisedValue, rank),
          {ax});
  axis = B.create<arith::SelectOp>(CurLoc, bad, zero, axis); // where the raise returned
  CallInfo fixed = info;
  fixed.axisValue = nullptr;
  if (rank == 1) // Sema's code for axis 0 is the only one
    return builtin(c, fixed);
  // One branch per axis, as nested scf.if (structured: this may be inside
  // another scf region, such as an `and` operand or a conditional
  // expression).
  CGValue r;
  r.type = F.typeOf(c);
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, r.type, types);
  std::function<SmallVector<Value>(int64_t)> from = [&](int64_t d) -> SmallVector<Value> {
    auto code = [&, d]() {
      fixed.axis = static_cast<int>(d);
      CGValue v = builtin(c, fixed);
      SmallVector<Value> leaves;
      for (size_t i = 0; i < v.leaves.size() && i < types.size(); ++i) {
        Value x = v.leaves[i];
        if (x.getType() != types[i])
          x = B.create<memref::CastOp>(CurLoc, types[i], x);
        leaves.push_back(x);
      }
      return leaves;
    };
    if (d + 1 == rank)
      return code();
    Value here = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, axis, constInt(d, i64));
    return emitIf(here, types, code, [&, d] { return from(d + 1); });
  };
  r.leaves = from(0);
  return r;
}

CGValue FunctionGen::builtin(const ast::Call &c, const CallInfo &info) {
  if (info.axisValue)
    return runtimeAxis(c, info);
  if (info.builtin == Builtin::ListOf)
    return listOf(c);
  if (info.builtin == Builtin::Sorted)
    return sortedList(c, info);
  if (info.builtin == Builtin::DictOf || info.builtin == Builtin::SetOf)
    return dictOf(c);
  if (isSetBuiltin(info.builtin))
    return setMethod(c, info);
  if (isDictBuiltin(info.builtin))
    return dictMethod(c, info);
  if (isListBuiltin(info.builtin))
    return listMethod(c, info);
  if (info.builtin >= Builtin::RandomRandom)
    return randomCall(c, info);
  if ((info.builtin == Builtin::Min || info.builtin == Builtin::Max) && info.mode == 1)
    return minMaxItems(c, info);
  if (info.builtin >= Builtin::Empty || F.typeOf(c).isArray())
    return arrayCall(c, info);
  CGValue r;
  r.type = F.typeOf(c);
  ScalarKind k = info.operandKind;
  auto arg = [&](size_t i) { return expr(*c.args[i]); };
  auto argAs = [&](size_t i, ScalarKind to) {
    CGValue v = arg(i);
    return castScalar(v.single(), v.type.scalarKind(), to);
  };
  switch (info.builtin) {
  case Builtin::Len: {
    CGValue a = arg(0);
    if (a.type.isContainer()) { // (the length is their last leaf)
      r.leaves.push_back(a.leaves.back());
      return r;
    }
    Value d = B.create<memref::DimOp>(CurLoc, a.single(), 0);
    r.leaves.push_back(B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), d));
    return r;
  }
  case Builtin::Abs: {
    CGValue a = arg(0);
    if (isComplex(a.type.scalarKind())) {
      r.leaves.push_back(B.create<complex::AbsOp>(CurLoc, a.single()));
      return r;
    }
    Value x = castScalar(a.single(), a.type.scalarKind(), k);
    if (isFloat(k))
      r.leaves.push_back(B.create<math::AbsFOp>(CurLoc, x));
    else if (isUnsignedInt(k))
      r.leaves.push_back(x);
    else
      r.leaves.push_back(B.create<math::AbsIOp>(CurLoc, x));
    return r;
  }
  case Builtin::Min:
  case Builtin::Max: {
    // Python keeps the first of equal values and compares with `<`/`>`.
    Value acc = argAs(0, k);
    for (size_t i = 1; i < c.args.size(); ++i) {
      Value x = argAs(i, k);
      Value better;
      if (isFloat(k))
        better = B.create<arith::CmpFOp>(CurLoc,
                                         info.builtin == Builtin::Min ? arith::CmpFPredicate::OLT
                                                                      : arith::CmpFPredicate::OGT,
                                         x, acc);
      else {
        bool s = isSignedInt(k);
        auto p = info.builtin == Builtin::Min
                     ? (s ? arith::CmpIPredicate::slt : arith::CmpIPredicate::ult)
                     : (s ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::ugt);
        better = B.create<arith::CmpIOp>(CurLoc, p, x, acc);
      }
      acc = B.create<arith::SelectOp>(CurLoc, better, x, acc);
    }
    r.leaves.push_back(acc);
    return r;
  }
  case Builtin::Int:
  case Builtin::Float:
  case Builtin::Bool:
  case Builtin::Cast:
    if (info.builtin == Builtin::Bool && F.typeOf(*c.args[0]).isContainer()) {
      r.leaves.push_back(truth(arg(0)));
      return r;
    }
    r.leaves.push_back(argAs(0, k));
    return r;
  case Builtin::Complex: {
    if (c.args.empty()) {
      r.leaves.push_back(constFloat(0.0, ScalarKind::C128));
      return r;
    }
    if (c.args.size() == 1) {
      r.leaves.push_back(argAs(0, ScalarKind::C128));
      return r;
    }
    Value re = argAs(0, ScalarKind::F64), im = argAs(1, ScalarKind::F64);
    r.leaves.push_back(
        B.create<complex::CreateOp>(CurLoc, scalarType(Ctx, ScalarKind::C128), re, im));
    return r;
  }
  case Builtin::Conjugate: {
    auto *a = dyn_cast<ast::Attribute>(c.func.get());
    CGValue v = expr(*a->value);
    r.leaves.push_back(isComplex(v.type.scalarKind())
                           ? Value(B.create<complex::ConjOp>(CurLoc, v.single()))
                           : v.single());
    return r;
  }
  case Builtin::IsNan:
  case Builtin::IsInf:
  case Builtin::IsFinite: {
    CGValue a = arg(0);
    ScalarKind ak = a.type.scalarKind();
    auto test = [&](Value x, ScalarKind fk) -> Value {
      if (info.builtin == Builtin::IsNan)
        return B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, x, x);
      Value ax = B.create<math::AbsFOp>(CurLoc, x);
      Value inf = constFloat(INFINITY, fk);
      return B.create<arith::CmpFOp>(CurLoc,
                                     info.builtin == Builtin::IsInf ? arith::CmpFPredicate::OEQ
                                                                    : arith::CmpFPredicate::OLT,
                                     ax, inf);
    };
    if (isInteger(ak) || isBool(ak)) {
      r.leaves.push_back(constBool(info.builtin == Builtin::IsFinite));
    } else if (isComplex(ak)) {
      ScalarKind p = complexPart(ak);
      Value re = test(B.create<complex::ReOp>(CurLoc, a.single()), p);
      Value im = test(B.create<complex::ImOp>(CurLoc, a.single()), p);
      r.leaves.push_back(info.builtin == Builtin::IsFinite
                             ? Value(B.create<arith::AndIOp>(CurLoc, re, im))
                             : Value(B.create<arith::OrIOp>(CurLoc, re, im)));
    } else {
      r.leaves.push_back(test(a.single(), ak));
    }
    return r;
  }
  case Builtin::Atan2:
  case Builtin::Pow:
  case Builtin::Hypot:
  case Builtin::Fmod:
  case Builtin::Remainder:
  case Builtin::Copysign: {
    Value x = argAs(0, k), y = argAs(1, k);
    if (info.builtin == Builtin::Pow) {
      // pow/np.power on integers behave like `**`.
      r.leaves.push_back(arith2(ast::BinOpKind::Pow, x, y, k, CurLoc));
      if (r.type.scalarKind() != k)
        r.leaves[0] = castScalar(r.leaves[0], k, r.type.scalarKind());
      return r;
    }
    r.leaves.push_back(mathBinary(info.builtin, x, y, k));
    return r;
  }
  default:
    break;
  }
  if ((info.builtin >= Builtin::Gcd && info.builtin <= Builtin::Fsum) ||
      (info.builtin == Builtin::Log && c.args.size() == 2))
    return moreMath(c, info);
  // Unary math functions.
  Value x = argAs(0, k);
  Value y = mathUnary(info.builtin, x, k);
  r.leaves.push_back(castScalar(y, k, r.type.scalarKind()));
  return r;
}

void FunctionGen::callArguments(const ast::Call &c, const TypedFunction &callee,
                                SmallVector<Value> &operands, std::vector<CGValue> &args) {
  // @jit callees: the arguments bound to the parameters (Sema's
  // bindArguments), default values where null.
  auto it = F.calls.find(&c);
  bool bound = it != F.calls.end() && callee.decl && callee.decl->kind == KernelKind::Jit;
  size_t n = bound ? it->second.operands.size() : c.args.size();
  // Evaluated in source order (the callee, positional arguments, then
  // keywords as written). A function value holds the values its function
  // captured: its last arguments.
  SmallVector<CGValue> captured;
  size_t written = callee.def->writtenParams();
  if (bound && it->second.calleeValue)
    captured = elementsOf(expr(*it->second.calleeValue));
  std::map<const ast::Expr *, CGValue> given;
  if (bound) {
    for (auto &a : c.args)
      given[a.get()] = expr(*a);
    for (auto &kw : c.keywords)
      given[kw.value.get()] = expr(*kw.value);
  }
  for (size_t i = 0; i < n; ++i) {
    const ast::Expr *e = bound ? it->second.operands[i] : c.args[i].get();
    CGValue v = !e && i >= written && !captured.empty() ? captured[i - written]
                : !e                                    ? constValue(*callee.decl->defaults[i])
                : bound                                 ? given.at(e)
                                                        : expr(*e);
    v = convert(v, callee.argTypes[i]);
    operands.append(v.leaves.begin(), v.leaves.end());
    args.push_back(v);
  }
}

CGValue FunctionGen::call(const ast::Call &c) {
  if (auto p = F.prints.find(&c); p != F.prints.end()) {
    genPrint(p->second);
    CGValue r;
    r.type = Type::none();
    return r;
  }
  auto it = F.calls.find(&c);
  if (it == F.calls.end()) {
    Failed = true;
    Diags.error(F.file, c.range(), "internal compiler error: unresolved call");
    return {};
  }
  const CallInfo &info = it->second;
  if (info.kind == CallInfo::Kind::Builtin)
    return builtin(c, info);
  const TypedFunction *callee = info.callee;
  SmallVector<Value> operands;
  std::vector<CGValue> args;
  callArguments(c, *callee, operands, args);
  if (callee->hasOut)
    for (auto &kw : c.keywords)
      if (kw.name == "out") {
        CGValue v = convert(expr(*kw.value), callee->argTypes.back());
        operands.append(v.leaves.begin(), v.leaves.end());
        args.push_back(v);
      }
  auto fn = MG.funcFor(callee);
  if (!fn)
    return missingFunction(*callee, c.range());
  CGValue r;
  r.type = callee->resultType;
  // A recursive function's calls of recursive functions pass on its stack
  // limit, and check it (stackFull); not from a parallel loop, whose
  // threads have other stacks.
  if (func::FuncOp body = MG.recursiveBody(callee); body && StackLimit && ParallelDepth == 0) {
    operands.push_back(StackLimit);
    RaiseCheck before = raiseCountBefore(*callee);
    SmallVector<mlir::Type> types;
    leafTypes(Ctx, r.type, types);
    SourceRange saved = CurRange;
    CurRange = c.range();
    auto restore = llvm::make_scope_exit([&] { CurRange = saved; });
    std::string text = fmt::format("RecursionError: maximum recursion depth exceeded in '{}' "
                                   "(the thread's stack is nearly full)",
                                   callee->def->name);
    if (Cur && B.getInsertionBlock() == Cur) {
      // In the function's own blocks: a branch to the raise, and a plain
      // call (which LLVM can still turn into a loop where it is the tail).
      exitIf(stackFull(), true, [&] {
        raiseIf(constBool(true), KernelFaultKind::Raise, text, {});
        stopAfterRaise();
      });
      auto op = B.create<func::CallOp>(CurLoc, body, operands);
      r.leaves.append(op.getResults().begin(), op.getResults().end());
    } else {
      // Inside an expression's region (`f(n - 1) if c else 0`): the call
      // or the raise.
      auto results = emitIf(
          stackFull(), types,
          [&] {
            raiseIf(constBool(true), KernelFaultKind::Raise, text, {});
            return defaultValue(r.type, /*onHeap=*/true).leaves;
          },
          [&] {
            auto op = B.create<func::CallOp>(CurLoc, body, operands);
            return SmallVector<Value>(op.getResults().begin(), op.getResults().end());
          });
      r.leaves.append(results.begin(), results.end());
    }
    stopIfCalleeRaised(before);
    return r;
  }
  Value bad = checkCallShapes(c, *callee, args);
  if (!bad) {
    RaiseCheck before = raiseCountBefore(*callee);
    auto op = B.create<func::CallOp>(CurLoc, fn, operands);
    r.leaves.append(op.getResults().begin(), op.getResults().end());
    stopIfCalleeRaised(before);
    return r;
  }
  // Where a raised shape error returned (in a parallel region), the callee
  // is not run: its loops would assume the shapes agree.
  SmallVector<mlir::Type> types;
  leafTypes(Ctx, r.type, types);
  auto results = emitIf(
      bad, types, [&] { return defaultValue(r.type).leaves; },
      [&] {
        auto op = B.create<func::CallOp>(CurLoc, fn, operands);
        return SmallVector<Value>(op.getResults().begin(), op.getResults().end());
      });
  r.leaves.append(results.begin(), results.end());
  return r;
}

Value FunctionGen::checkCallShapes(const ast::Call &c, const TypedFunction &callee,
                                   const std::vector<CGValue> &args) {
  const KernelDecl *k = callee.decl;
  if (!k || k->kind == KernelKind::Jit || k->kind == KernelKind::Gpu)
    return {};
  SourceRange saved = CurRange;
  CurRange = c.range();
  auto restore = llvm::make_scope_exit([&] { CurRange = saved; });
  const auto &params = k->def->params;
  size_t n = args.size() - (callee.hasOut ? 1 : 0);
  auto shapeOf = [&](size_t i) {
    SmallVector<Value> dims;
    if (args[i].type.isArray())
      for (unsigned d = 0; d < args[i].type.rank(); ++d)
        dims.push_back(B.create<memref::DimOp>(CurLoc, args[i].single(), d));
    return dims;
  };
  auto nameOf = [&](size_t i) { return i < n ? "'" + params[i].name + "'" : std::string("out="); };
  Value anyBad;
  auto fail = [&](Value bad, KernelFaultKind kind, const std::string &text,
                  SmallVector<Value> vals) {
    raiseIf(bad, kind, text, vals);
    anyBad = anyBad ? B.create<arith::OrIOp>(CurLoc, anyBad, bad) : bad;
  };
  auto differ = [&](llvm::ArrayRef<Value> a, llvm::ArrayRef<Value> b) -> Value {
    if (a.size() != b.size())
      return B.create<arith::ConstantIntOp>(CurLoc, 1, 1);
    Value bad = B.create<arith::ConstantIntOp>(CurLoc, 0, 1);
    for (size_t d = 0; d < a.size(); ++d)
      bad = B.create<arith::OrIOp>(
          CurLoc, bad, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, a[d], b[d]));
    return bad;
  };
  const std::string &name = k->def->name;
  switch (k->kind) {
  case KernelKind::Stencil: {
    // Relatively indexed inputs (and out=) share one shape.
    std::optional<size_t> first;
    for (size_t i = 0; i < args.size(); ++i) {
      bool standard = i < n && std::find(k->stencil.standardIndexing.begin(),
                                         k->stencil.standardIndexing.end(),
                                         params[i].name) != k->stencil.standardIndexing.end();
      if (!args[i].type.isArray() || standard)
        continue;
      if (!first) {
        first = i;
        continue;
      }
      auto a = shapeOf(i), b = shapeOf(*first);
      fail(differ(a, b), KernelFaultKind::CallShapes,
           fmt::format("stencil '{}': {} and {} must have the same shape", name, nameOf(i),
                       nameOf(*first)),
           shapePair(a, b));
    }
    break;
  }
  case KernelKind::Ufunc: {
    // NumPy broadcasting of the inputs; out= has the broadcast shape.
    std::vector<SmallVector<Value>> shapes;
    size_t rank = 0;
    for (size_t i = 0; i < n; ++i) {
      shapes.push_back(shapeOf(i));
      rank = std::max(rank, shapes.back().size());
    }
    SmallVector<Value> out = broadcastShape(shapes, static_cast<unsigned>(rank));
    std::optional<size_t> first;
    for (size_t i = 0; i < n; ++i) {
      if (!args[i].type.isArray())
        continue;
      if (!first) {
        first = i;
        continue;
      }
      Value bad = broadcastFails(shapes[*first], shapes[i], out);
      fail(bad, KernelFaultKind::CallShapes,
           fmt::format("cannot broadcast the arguments of '{}': {} and {}", name, nameOf(*first),
                       nameOf(i)),
           shapePair(shapeOf(*first), shapeOf(i)));
    }
    if (callee.hasOut && args.back().type.isArray()) {
      auto o = shapeOf(args.size() - 1);
      fail(differ(o, out), KernelFaultKind::CallShapes,
           fmt::format("out= of '{}' must have the shape of the result", name),
           shapePair(o, out));
    }
    break;
  }
  case KernelKind::Gufunc: {
    // Each core dimension has one size across the inputs (and out=).
    std::map<std::string, std::pair<Value, size_t>> dims;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::vector<std::string> *core =
          i < n ? (i < k->layout.inputs.size() ? &k->layout.inputs[i] : nullptr)
                : (k->layout.outputs.empty() ? nullptr : &k->layout.outputs[0]);
      auto s = shapeOf(i);
      if (!core || s.size() < core->size())
        continue;
      size_t outer = s.size() - core->size();
      for (size_t j = 0; j < core->size(); ++j) {
        auto [it, fresh] = dims.emplace((*core)[j], std::make_pair(s[outer + j], i));
        if (fresh)
          continue;
        fail(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, s[outer + j],
                                     it->second.first),
             KernelFaultKind::CallShapes,
             fmt::format("gufunc '{}': core dimension '{}' differs between {} and {}", name,
                         (*core)[j], nameOf(i), nameOf(it->second.second)),
             shapePair({s[outer + j]}, {it->second.first}));
      }
    }
    break;
  }
  default:
    break;
  }
  return anyBad;
}

CGValue FunctionGen::gpuIntrinsic(const ast::Expr &e, const GpuCall &g) {
  CGValue r;
  r.type = F.typeOf(e);
  if (!MG.Gpu) {
    Failed = true;
    // Sema allows GPU intrinsics only in code that runs on the GPU.
    Diags.error(F.file, e.range(),
                "internal compiler error: a GPU intrinsic in code compiled for the CPU");
    return defaultValue(r.type);
  }
  auto operand = [&](const ast::Expr &x, const Type &to) { return convert(expr(x), to).leaves; };
  SmallVector<Value> leaves;
  if (!MG.Gpu->emit(B, CurLoc, F, e, g, operand, leaves)) {
    Failed = true;
    return defaultValue(r.type);
  }
  r.leaves.append(leaves.begin(), leaves.end());
  return r;
}

CGValue FunctionGen::attribute(const ast::Attribute &a) {
  CGValue r;
  r.type = F.typeOf(a);
  if ((a.attr == "real" || a.attr == "imag") && r.type.isArray()) {
    r.leaves.push_back(materialize(lazy(a)));
    return r;
  }
  CGValue base = expr(*a.value);
  if (base.type.isArray()) {
    Value mem = base.single();
    auto dimI64 = [&](unsigned d) -> Value {
      return B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(),
                                          B.create<memref::DimOp>(CurLoc, mem, d));
    };
    if (a.attr == "shape") {
      for (unsigned d = 0; d < base.type.rank(); ++d)
        r.leaves.push_back(dimI64(d));
    } else if (a.attr == "size" || a.attr == "nbytes") {
      Value n = constInt(a.attr == "size" ? 1 : byteSize(base.type.scalarKind()),
                         ScalarKind::I64);
      for (unsigned d = 0; d < base.type.rank(); ++d)
        n = B.create<arith::MulIOp>(CurLoc, n, dimI64(d));
      r.leaves.push_back(n);
    } else if (a.attr == "strides") { // bytes
      auto md = B.create<memref::ExtractStridedMetadataOp>(CurLoc, mem);
      Value bytes = constInt(byteSize(base.type.scalarKind()), ScalarKind::I64);
      for (unsigned d = 0; d < base.type.rank(); ++d)
        r.leaves.push_back(B.create<arith::MulIOp>(
            CurLoc, B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), md.getStrides()[d]),
            bytes));
    } else if (a.attr == "T") {
      SmallVector<unsigned> reversed;
      for (unsigned d = base.type.rank(); d-- > 0;)
        reversed.push_back(d);
      r.leaves.push_back(permutedView(mem, reversed, r.type));
    }
    return r;
  }
  ScalarKind k = base.type.scalarKind();
  if (isComplex(k)) {
    if (a.attr == "real")
      r.leaves.push_back(B.create<complex::ReOp>(CurLoc, base.single()));
    else
      r.leaves.push_back(B.create<complex::ImOp>(CurLoc, base.single()));
    return r;
  }
  r.leaves.push_back(a.attr == "real" ? base.single() : zeroOf(base.type));
  return r;
}

bool FunctionGen::address(const ast::Subscript &s, Value &mem, SmallVector<Value> &indices,
                          Type &baseType) {
  if (F.flatSubscripts.count(&s))
    return flatAddress(s, mem, indices, baseType);
  CGValue base = expr(*s.value);
  baseType = base.type;
  mem = base.single();
  // An element: one integer per axis (`...` may stand for none), or the
  // integers of one tuple value (a[idx]).
  std::vector<const ast::Expr *> idx;
  SmallVector<CGValue> parts;
  if (F.tupleSubscripts.count(&s)) {
    CGValue t = expr(*s.index);
    for (size_t d = 0; d < t.leaves.size(); ++d) {
      CGValue part;
      part.type = t.type.elements()[d];
      part.leaves.push_back(t.leaves[d]);
      parts.push_back(part);
      idx.push_back(s.index.get());
    }
  } else {
    for (const TypedFunction::SubscriptItem &item : F.arraySubscript(s, baseType.rank()))
      idx.push_back(item.expr);
  }
  Value anyBad;
  for (size_t d = 0; d < idx.size(); ++d) {
    CGValue v = parts.empty() ? expr(*idx[d]) : parts[d];
    Value i = toIndex(v.single(), v.type.scalarKind());
    Value given = i;
    // Python's negative indices count from the end.
    if (isSignedInt(v.type.scalarKind()) && !isNonNegative(*idx[d]))
      i = wrapIndex(i, v.type.scalarKind(), B.create<memref::DimOp>(CurLoc, mem, d));
    if (boundsChecked()) {
      Value bad = indexOutOfBounds(s, mem, baseType.rank(), static_cast<unsigned>(d), i, given);
      anyBad = anyBad ? B.create<arith::OrIOp>(CurLoc, anyBad, bad) : bad;
    }
    indices.push_back(i);
  }
  if (anyBad) {
    // Reached only where _stn_raise returned (inside a parallel region):
    // the access goes to a scratch element instead of outside the array.
    Value zero = constIndex(0);
    for (Value &i : indices)
      i = B.create<arith::SelectOp>(CurLoc, anyBad, zero, i);
    mem = B.create<arith::SelectOp>(CurLoc, anyBad, scratchElement(mem), mem);
  }
  return true;
}

Value FunctionGen::indexOutOfBounds(const ast::Subscript &s, Value mem, unsigned rank,
                                    unsigned axis, Value i, Value given, KernelFaultKind kind) {
  SourceRange saved = CurRange;
  CurRange = s.range();
  Value dim = B.create<memref::DimOp>(CurLoc, mem, axis);
  // One unsigned comparison: negative indices (after wrapping) are huge.
  Value bad = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::uge, i, dim);
  SmallVector<Value> vals = {given, constIndex(axis)};
  for (unsigned d = 0; d < rank && vals.size() < static_cast<size_t>(kMaxFaultValues); ++d)
    vals.push_back(B.create<memref::DimOp>(CurLoc, mem, d));
  auto *n = dyn_cast<ast::Name>(s.value.get());
  raiseIf(bad, kind, n ? llvm::StringRef(n->id) : llvm::StringRef("array"), vals);
  CurRange = saved;
  return bad;
}

Value FunctionGen::scratchElement(Value mem) {
  auto t = llvm::cast<mlir::MemRefType>(mem.getType());
  std::string name;
  llvm::raw_string_ostream os(name);
  os << "__stn_oob_scratch_" << t.getElementType() << "_" << t.getRank();
  auto scratchT = mlir::MemRefType::get(SmallVector<int64_t>(t.getRank(), 1), t.getElementType());
  if (!Module.lookupSymbol<memref::GlobalOp>(name)) {
    OpBuilder mb(Ctx);
    mb.setInsertionPointToStart(Module.getBody());
    mb.create<memref::GlobalOp>(CurLoc, name, mb.getStringAttr("private"), scratchT,
                                mb.getUnitAttr(), /*constant=*/false, nullptr);
  }
  Value g = B.create<memref::GetGlobalOp>(CurLoc, scratchT, name);
  return B.create<memref::CastOp>(CurLoc, t, g);
}

Value FunctionGen::loadElement(Value mem, const SmallVector<Value> &idx, ScalarKind k) {
  return loadElementB(B, CurLoc, mem, idx, k);
}

void FunctionGen::storeElement(Value v, Value mem, const SmallVector<Value> &idx,
                               ScalarKind k) {
  storeElementB(B, CurLoc, v, mem, idx, k);
}

Value FunctionGen::rowView(Value mem, const SmallVector<Value> &idx, const Type &baseType,
                           const Type &resultType) {
  unsigned rank = baseType.rank();
  SmallVector<mlir::OpFoldResult> offsets, sizes, strides;
  SmallVector<int64_t> resultShape;
  for (unsigned d = 0; d < rank; ++d) {
    if (d < idx.size()) {
      offsets.push_back(idx[d]);
      sizes.push_back(B.getIndexAttr(1));
    } else {
      offsets.push_back(B.getIndexAttr(0));
      sizes.push_back(Value(B.create<memref::DimOp>(CurLoc, mem, d)));
      resultShape.push_back(mlir::ShapedType::kDynamic);
    }
    strides.push_back(B.getIndexAttr(1));
  }
  auto srcType = llvm::cast<mlir::MemRefType>(mem.getType());
  auto viewType = memref::SubViewOp::inferRankReducedResultType(resultShape, srcType, offsets,
                                                                sizes, strides);
  Value view = B.create<memref::SubViewOp>(CurLoc, llvm::cast<mlir::MemRefType>(viewType), mem,
                                           offsets, sizes, strides);
  mlir::MemRefType want = memrefType(Ctx, resultType);
  if (view.getType() != want)
    view = B.create<memref::CastOp>(CurLoc, want, view);
  return view;
}

Value FunctionGen::stencilLoad(const ast::Subscript &s,
                               const TypedFunction::StencilAccess &acc) {
  Value mem = readVar(F.def->params[acc.param].name).single();
  SmallVector<Value> at;
  for (unsigned d = 0; d < F.stencil.rank; ++d) {
    Value off;
    if (acc.offsetExprs[d]) {
      CGValue v = expr(*acc.offsetExprs[d]);
      off = toIndex(v.single(), v.type.scalarKind());
    } else {
      off = constIndex(acc.constOffsets[d]);
    }
    Value i = B.create<arith::AddIOp>(CurLoc, Center[d], off);
    if (Remap)
      i = remapIndex(B, CurLoc, i, StencilDims[d], F.decl->stencil.boundary);
    at.push_back(i);
  }
  return loadElement(mem, at, F.typeOf(s).scalarKind());
}

CGValue FunctionGen::subscript(const ast::Subscript &s) {
  if (F.typeOf(*s.value).isDict())
    return dictSubscript(s);
  if (auto *sl = dyn_cast<ast::Slice>(s.index.get()); sl && F.typeOf(*s.value).isList())
    return listSlice(s, *sl);
  if (F.typeOf(*s.value).isTupleList())
    return listElement(s);
  CGValue r;
  r.type = F.typeOf(s);
  if (StencilBody) {
    auto acc = F.stencil.accesses.find(&s);
    if (acc != F.stencil.accesses.end()) {
      r.leaves.push_back(stencilLoad(s, acc->second));
      return r;
    }
  }
  auto ti = F.tupleIndex.find(&s);
  if (ti != F.tupleIndex.end()) {
    CGValue base = expr(*s.value);
    const auto &elts = base.type.elements();
    if (ti->second >= 0) {
      unsigned pos = 0;
      for (int i = 0; i < ti->second; ++i)
        pos += countLeaves(elts[i]);
      unsigned n = countLeaves(elts[ti->second]);
      r.leaves.append(base.leaves.begin() + pos, base.leaves.begin() + pos + n);
      return r;
    }
    // Dynamic index into a homogeneous tuple of scalars: a select chain.
    CGValue iv = expr(*s.index);
    Value i = castScalar(iv.single(), iv.type.scalarKind(), ScalarKind::I64);
    int64_t n = static_cast<int64_t>(elts.size());
    Value zero = constInt(0, ScalarKind::I64);
    Value neg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, i, zero);
    i = B.create<arith::SelectOp>(
        CurLoc, neg, B.create<arith::AddIOp>(CurLoc, i, constInt(n, ScalarKind::I64)), i);
    Value acc = base.leaves[0];
    for (int64_t k = 1; k < n; ++k) {
      Value is = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, i,
                                         constInt(k, ScalarKind::I64));
      acc = B.create<arith::SelectOp>(CurLoc, is, base.leaves[k], acc);
    }
    r.leaves.push_back(acc);
    return r;
  }
  if (F.masks.count(&s)) {
    r.leaves.push_back(maskGather(s));
    return r;
  }
  if (F.fancy.count(&s)) {
    FancyIndex fi = fancyIndex(s, /*forStore=*/false);
    r.leaves.push_back(fancyGather(fi, r.type));
    releaseFancy(fi);
    return r;
  }
  if (r.type.isArray()) {
    r.leaves.push_back(sliceView(s));
    return r;
  }
  Value mem;
  SmallVector<Value> idx;
  Type base;
  address(s, mem, idx, base);
  r.leaves.push_back(loadElement(mem, idx, base.scalarKind()));
  return r;
}


//===----------------------------------------------------------------------===//
// Array expressions
//===----------------------------------------------------------------------===//

/// Expressions computed element by element (and so fused with their
/// operands): arithmetic, comparisons and math on arrays, np.where,
/// minimum/maximum, astype.
bool FunctionGen::isElementwise(const ast::Expr &e) {
  if (!F.typeOf(e).isArray() || F.listViews.count(&e) || F.matmuls.count(&e)) // (xs + ys is a list)
    return false;
  if (isa<ast::BinOp>(&e) || isa<ast::UnaryOp>(&e) || isa<ast::Compare>(&e))
    return true;
  if (auto *c = dyn_cast<ast::Call>(&e)) {
    auto it = F.calls.find(c);
    if (it == F.calls.end() || it->second.kind != CallInfo::Kind::Builtin)
      return false;
    Builtin b = it->second.builtin;
    return b < Builtin::Conjugate || b == Builtin::Where || b == Builtin::Minimum ||
           b == Builtin::Maximum || b == Builtin::Astype || b == Builtin::Clip ||
           b == Builtin::Sign || b == Builtin::Square || b == Builtin::Round ||
           b == Builtin::RealPart || b == Builtin::ImagPart || b == Builtin::Conj;
  }
  if (auto *a = dyn_cast<ast::Attribute>(&e))
    return (a->attr == "real" || a->attr == "imag") && F.typeOf(*a->value).isArray();
  return false;
}

void FunctionGen::forEach(const SmallVector<Value> &shape,
                          const std::function<void(mlir::ValueRange)> &body) {
  if (shape.empty()) {
    body({});
    return;
  }
  SmallVector<Value> zeros(shape.size(), constIndex(0));
  ModuleGen::loopNest(B, CurLoc, zeros, shape, [&](OpBuilder &nb, Location, mlir::ValueRange ivs) {
    OpBuilder::InsertionGuard g(B);
    B.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
    body(ivs);
  });
}

FunctionGen::LazyArray FunctionGen::leaf(Value mem, const Type &t) {
  LazyArray a;
  a.type = t;
  if (!t.isArray()) {
    a.element = [mem](mlir::ValueRange) { return mem; };
    a.prepare = [](mlir::ValueRange) {};
    return a;
  }
  for (unsigned d = 0; d < t.rank(); ++d)
    a.shape.push_back(B.create<memref::DimOp>(CurLoc, mem, d));
  a.reads.push_back(mem);
  auto view = std::make_shared<Value>();
  unsigned r = t.rank();
  a.prepare = [this, mem, r, view](mlir::ValueRange out) {
    *view = MG.broadcastView(B, CurLoc, mem, r, out);
  };
  ScalarKind k = t.scalarKind();
  a.element = [this, view, k](mlir::ValueRange ivs) {
    return loadElement(*view, SmallVector<Value>(ivs.begin(), ivs.end()), k);
  };
  return a;
}

/// A new lazy array of type `t` whose element combines the parts' elements
/// (each already of its own type's element kind).
FunctionGen::LazyArray
FunctionGen::elementwise(const Type &t, std::vector<LazyArray> parts,
                         std::function<Value(const SmallVector<Value> &)> combine) {
  LazyArray a;
  a.type = t;
  // NumPy broadcasting; operands that do not broadcast raise (where the
  // raise returns, in a parallel region, the smaller extent is used, so
  // nothing is read out of bounds).
  std::vector<SmallVector<Value>> shapes;
  for (auto &p : parts) {
    shapes.push_back(p.shape);
    a.reads.append(p.reads.begin(), p.reads.end());
  }
  a.shape = broadcastShape(shapes, t.rank());
  // Each array operand against the first: "shapes (3,) (4,)".
  const LazyArray *first = nullptr;
  for (auto &p : parts) {
    if (p.shape.empty())
      continue;
    if (!first) {
      first = &p;
      continue;
    }
    raiseIf(broadcastFails(first->shape, p.shape, a.shape), KernelFaultKind::Broadcast, "",
            shapePair(first->shape, p.shape));
  }
  auto shared = std::make_shared<std::vector<LazyArray>>(std::move(parts));
  a.prepare = [shared](mlir::ValueRange out) {
    for (auto &p : *shared)
      p.prepare(out);
  };
  a.element = [shared, combine](mlir::ValueRange ivs) {
    SmallVector<Value> vals;
    for (auto &p : *shared)
      vals.push_back(p.element(ivs));
    return combine(vals);
  };
  return a;
}

FunctionGen::LazyArray FunctionGen::converted(LazyArray a, ScalarKind to) {
  ScalarKind from = a.type.scalarKind();
  Type t = Type::array(to, a.type.rank(), Type::Layout::C);
  return elementwise(t, {std::move(a)}, [this, from, to](const SmallVector<Value> &v) {
    return castScalar(v[0], from, to);
  });
}

Value FunctionGen::partOf(Builtin part, Value x, ScalarKind k) {
  if (isComplex(k)) {
    if (part == Builtin::RealPart)
      return B.create<complex::ReOp>(CurLoc, x);
    if (part == Builtin::ImagPart)
      return B.create<complex::ImOp>(CurLoc, x);
    return B.create<complex::ConjOp>(CurLoc, x);
  }
  return part == Builtin::ImagPart ? zeroOf(Type::scalar(k)) : x;
}

Value FunctionGen::elementMath(const CallInfo &info, const SmallVector<Value> &vals,
                               const SmallVector<ScalarKind> &kinds, ScalarKind resultKind) {
  Builtin b = info.builtin;
  ScalarKind k = info.operandKind;
  if (b == Builtin::Abs) {
    if (isComplex(kinds[0]))
      return B.create<complex::AbsOp>(CurLoc, vals[0]);
    if (isFloat(kinds[0]))
      return B.create<math::AbsFOp>(CurLoc, vals[0]);
    if (isSignedInt(kinds[0]))
      return B.create<math::AbsIOp>(CurLoc, vals[0]);
    return vals[0];
  }
  if (b == Builtin::Sign || b == Builtin::Square || b == Builtin::Round)
    return castScalar(signSquareRound(b, vals, kinds), kinds[0], resultKind);
  if (b == Builtin::RealPart || b == Builtin::ImagPart || b == Builtin::Conj)
    return partOf(b, vals[0], kinds[0]);
  if (b == Builtin::IsNan || b == Builtin::IsInf || b == Builtin::IsFinite) {
    ScalarKind ak = kinds[0];
    if (isInteger(ak) || isBool(ak))
      return constBool(b == Builtin::IsFinite);
    auto test = [&](Value x, ScalarKind fk) -> Value {
      if (b == Builtin::IsNan)
        return B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, x, x);
      Value ax = B.create<math::AbsFOp>(CurLoc, x);
      return B.create<arith::CmpFOp>(CurLoc,
                                     b == Builtin::IsInf ? arith::CmpFPredicate::OEQ
                                                         : arith::CmpFPredicate::OLT,
                                     ax, constFloat(INFINITY, fk));
    };
    if (isComplex(ak)) {
      ScalarKind p = complexPart(ak);
      Value re = test(B.create<complex::ReOp>(CurLoc, vals[0]), p);
      Value im = test(B.create<complex::ImOp>(CurLoc, vals[0]), p);
      return b == Builtin::IsFinite ? Value(B.create<arith::AndIOp>(CurLoc, re, im))
                                    : Value(B.create<arith::OrIOp>(CurLoc, re, im));
    }
    return test(vals[0], ak);
  }
  if (vals.size() == 2) {
    if (b == Builtin::Ldexp)
      return ldexp(castScalar(vals[0], kinds[0], k), vals[1], kinds[1], k);
    Value x = castScalar(vals[0], kinds[0], k), y = castScalar(vals[1], kinds[1], k);
    switch (b) {
    case Builtin::Pow:
      return castScalar(arith2(ast::BinOpKind::Pow, x, y, k, CurLoc), k, resultKind);
    case Builtin::Atan2:
    case Builtin::Copysign:
    case Builtin::Hypot:
    case Builtin::Fmod:
    case Builtin::Remainder:
    case Builtin::Gcd:
    case Builtin::Lcm:
      return mathBinary(b, x, y, k);
    case Builtin::Minimum:
    case Builtin::Maximum: {
      bool mn = b == Builtin::Minimum;
      if (isFloat(k))
        return mn ? Value(B.create<arith::MinimumFOp>(CurLoc, x, y))
                  : Value(B.create<arith::MaximumFOp>(CurLoc, x, y));
      if (isSignedInt(k))
        return mn ? Value(B.create<arith::MinSIOp>(CurLoc, x, y))
                  : Value(B.create<arith::MaxSIOp>(CurLoc, x, y));
      return mn ? Value(B.create<arith::MinUIOp>(CurLoc, x, y))
                : Value(B.create<arith::MaxUIOp>(CurLoc, x, y));
    }
    default:
      return x;
    }
  }
  // Unary math: computed in the operand kind, floor/ceil/trunc stay floats.
  Value x = castScalar(vals[0], kinds[0], k);
  return castScalar(mathUnary(b, x, k), k, resultKind);
}

/// np.sign, np.square and np.round of one element of kind kinds[0]
/// (Round's number of decimals in vals[1], if given), in that kind.
Value FunctionGen::signSquareRound(Builtin b, const SmallVector<Value> &vals,
                                   const SmallVector<ScalarKind> &kinds) {
  ScalarKind k = kinds[0];
  Value x = vals[0];
  if (b == Builtin::Square)
    return arith2(ast::BinOpKind::Mul, x, x, k, CurLoc);
  if (b == Builtin::Sign) {
    if (isFloat(k)) {
      // 1, -1, 0 for either zero, NaN for NaN.
      Value zero = constFloat(0.0, k);
      Value pos = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OGT, x, zero);
      Value neg = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OLT, x, zero);
      Value nan = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, x, x);
      Value r = B.create<arith::SelectOp>(CurLoc, neg, constFloat(-1.0, k), zero);
      r = B.create<arith::SelectOp>(CurLoc, pos, constFloat(1.0, k), r);
      return B.create<arith::SelectOp>(CurLoc, nan, x, r);
    }
    Value zero = constInt(0, k);
    Value pos = B.create<arith::CmpIOp>(
        CurLoc, isSignedInt(k) ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::ugt, x, zero);
    Value r = zero;
    if (isSignedInt(k))
      r = B.create<arith::SelectOp>(
          CurLoc, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, x, zero),
          constInt(-1, k), zero);
    return B.create<arith::SelectOp>(CurLoc, pos, constInt(1, k), r);
  }
  // Round: half to even (NumPy and Python); integers are whole already.
  if (!isFloat(k))
    return x;
  if (vals.size() < 2)
    return B.create<math::RoundEvenOp>(CurLoc, x);
  // NumPy's method: scale by 10**|d|, round, scale back.
  Value d = castScalar(vals[1], kinds[1], ScalarKind::I64);
  Value neg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, d,
                                      constInt(0, ScalarKind::I64));
  Value ad = B.create<arith::SelectOp>(
      CurLoc, neg, B.create<arith::SubIOp>(CurLoc, constInt(0, ScalarKind::I64), d), d);
  Value p = B.create<math::PowFOp>(CurLoc, constFloat(10.0, k),
                                   castScalar(ad, ScalarKind::I64, k));
  Value y = B.create<arith::SelectOp>(CurLoc, neg, B.create<arith::DivFOp>(CurLoc, x, p),
                                      B.create<arith::MulFOp>(CurLoc, x, p));
  Value r = B.create<math::RoundEvenOp>(CurLoc, y);
  return B.create<arith::SelectOp>(CurLoc, neg, B.create<arith::MulFOp>(CurLoc, r, p),
                                   B.create<arith::DivFOp>(CurLoc, r, p));
}

/// np.clip of one element: vals[0] raised to the lower bound (role 1) and
/// lowered to the upper one (role 2), in kind `k`; NaNs propagate.
Value FunctionGen::clipValue(const SmallVector<Value> &vals, const SmallVector<ScalarKind> &kinds,
                             const SmallVector<unsigned> &roles, ScalarKind k) {
  Value x = castScalar(vals[0], kinds[0], k);
  for (size_t j = 1; j < vals.size(); ++j) {
    Value bound = castScalar(vals[j], kinds[j], k);
    bool lower = roles[j] == 1;
    if (isFloat(k))
      x = lower ? Value(B.create<arith::MaximumFOp>(CurLoc, x, bound))
                : Value(B.create<arith::MinimumFOp>(CurLoc, x, bound));
    else if (isSignedInt(k))
      x = lower ? Value(B.create<arith::MaxSIOp>(CurLoc, x, bound))
                : Value(B.create<arith::MinSIOp>(CurLoc, x, bound));
    else
      x = lower ? Value(B.create<arith::MaxUIOp>(CurLoc, x, bound))
                : Value(B.create<arith::MinUIOp>(CurLoc, x, bound));
  }
  return x;
}

FunctionGen::LazyArray FunctionGen::lazy(const ast::Expr &e) {
  const Type &t = F.typeOf(e);
  if (!isElementwise(e)) {
    CGValue v = expr(e);
    return leaf(v.single(), v.type.isValid() ? v.type : t);
  }
  if (MG.Log) // every elementwise node; the report keeps the roots
    MG.Log->fusedExpressions.push_back({&F, &e, parallelArrays()});
  // Broadcasting errors point at this node.
  SourceRange savedRange = CurRange;
  CurRange = e.range();
  auto restoreRange = llvm::make_scope_exit([&] { CurRange = savedRange; });
  Location at = loc(e);
  ScalarKind rk = t.scalarKind();
  if (auto *b = dyn_cast<ast::BinOp>(&e)) {
    LazyArray l = lazy(*b->lhs), r = lazy(*b->rhs);
    std::string err;
    auto rule = arrayBinaryRule(b->op, l.type.scalarKind(), l.type.isArray(),
                                F.isWeak(*b->lhs), r.type.scalarKind(), r.type.isArray(),
                                F.isWeak(*b->rhs), err);
    ScalarKind lk = l.type.scalarKind(), k2 = r.type.scalarKind(), ok = rule->operand;
    ast::BinOpKind op = b->op;
    // x ** n for a small literal n: multiply instead of calling pow.
    int64_t smallPow = 0;
    if (auto *i = dyn_cast<ast::IntLit>(b->rhs.get()); op == ast::BinOpKind::Pow && i &&
                                                       i->value >= 1 && i->value <= 4)
      smallPow = static_cast<int64_t>(i->value);
    return elementwise(t, {l, r}, [this, lk, k2, ok, op, at, smallPow](const SmallVector<Value> &v) {
      Value x = castScalar(v[0], lk, ok), y = castScalar(v[1], k2, ok);
      if (smallPow) {
        Location saved = CurLoc;
        CurLoc = at;
        Value p = smallPower(x, smallPow, ok);
        CurLoc = saved;
        return p;
      }
      return arith2(op, x, y, ok, at);
    });
  }
  if (auto *u = dyn_cast<ast::UnaryOp>(&e)) {
    LazyArray x = lazy(*u->operand);
    ScalarKind xk = x.type.scalarKind();
    ast::UnaryOpKind op = u->op;
    return elementwise(t, {x}, [this, xk, rk, op](const SmallVector<Value> &v) -> Value {
      Value a = castScalar(v[0], xk, rk);
      if (op == ast::UnaryOpKind::Neg) {
        if (isComplex(rk))
          return B.create<complex::NegOp>(CurLoc, a);
        if (isFloat(rk))
          return B.create<arith::NegFOp>(CurLoc, a);
        return B.create<arith::SubIOp>(CurLoc, constInt(0, rk), a);
      }
      if (op == ast::UnaryOpKind::Invert)
        return B.create<arith::XOrIOp>(CurLoc, a, constInt(-1, rk));
      return a;
    });
  }
  if (auto *c = dyn_cast<ast::Compare>(&e)) {
    LazyArray l = lazy(*c->operands[0]), r = lazy(*c->operands[1]);
    ScalarKind lk = l.type.scalarKind(), k2 = r.type.scalarKind();
    ast::CmpOpKind op = c->ops[0];
    return elementwise(t, {l, r}, [this, lk, k2, op](const SmallVector<Value> &v) {
      return compare1(op, v[0], lk, v[1], k2);
    });
  }
  if (auto *a = dyn_cast<ast::Attribute>(&e)) { // a.real, a.imag
    LazyArray x = lazy(*a->value);
    ScalarKind xk = x.type.scalarKind();
    Builtin part = a->attr == "real" ? Builtin::RealPart : Builtin::ImagPart;
    return elementwise(t, {x}, [this, part, xk](const SmallVector<Value> &v) {
      return partOf(part, v[0], xk);
    });
  }
  auto *c = dyn_cast<ast::Call>(&e);
  const CallInfo &info = F.calls.at(c);
  std::vector<LazyArray> parts;
  SmallVector<ScalarKind> kinds;
  if (info.builtin == Builtin::Clip) {
    // The bounds that are not None, and which they are.
    SmallVector<unsigned> roles;
    for (unsigned i = 0; i < info.operands.size(); ++i) {
      if (i > 0 && F.typeOf(*info.operands[i]).isNone())
        continue;
      parts.push_back(lazy(*info.operands[i]));
      kinds.push_back(parts.back().type.scalarKind());
      roles.push_back(i);
    }
    return elementwise(t, parts, [this, kinds, roles, rk](const SmallVector<Value> &v) {
      return clipValue(v, kinds, roles, rk);
    });
  }
  if (info.builtin == Builtin::Where || info.builtin == Builtin::Minimum ||
      info.builtin == Builtin::Maximum || info.builtin == Builtin::Astype ||
      info.builtin == Builtin::Sign || info.builtin == Builtin::Square ||
      info.builtin == Builtin::Round || info.builtin == Builtin::RealPart ||
      info.builtin == Builtin::ImagPart || info.builtin == Builtin::Conj) {
    for (auto *o : info.operands) {
      if (info.builtin == Builtin::Astype && parts.size() == 1)
        break; // the dtype operand
      parts.push_back(lazy(*o));
      kinds.push_back(parts.back().type.scalarKind());
    }
  } else {
    for (auto &a : c->args) {
      parts.push_back(lazy(*a));
      kinds.push_back(parts.back().type.scalarKind());
    }
  }
  CallInfo ci = info;
  if (info.builtin == Builtin::Astype)
    return converted(parts[0], rk);
  if (info.builtin == Builtin::Where)
    return elementwise(t, parts, [this, kinds, rk](const SmallVector<Value> &v) -> Value {
      Value cond = castScalar(v[0], kinds[0], ScalarKind::Bool);
      return B.create<arith::SelectOp>(CurLoc, cond, castScalar(v[1], kinds[1], rk),
                                       castScalar(v[2], kinds[2], rk));
    });
  return elementwise(t, parts, [this, ci, kinds, rk](const SmallVector<Value> &v) {
    return elementMath(ci, v, kinds, rk);
  });
}

/// Stores a lazy array into a new C-contiguous array: one loop nest.
Value FunctionGen::materialize(LazyArray a) {
  Value out = MG.allocArray(B, CurLoc, a.type, a.shape);
  a.prepare(a.shape);
  ScalarKind k = a.type.scalarKind();
  storeEach(a.shape, [&](mlir::ValueRange ivs) {
    storeElement(a.element(ivs), out, SmallVector<Value>(ivs.begin(), ivs.end()), k);
  });
  return out;
}

void FunctionGen::storeEach(const SmallVector<Value> &shape,
                            const std::function<void(mlir::ValueRange)> &body) {
  if (!parallelArrays() || shape.empty()) {
    forEach(shape, body);
    return;
  }
  // Each element is written once, independently: split the outer axis over
  // the team.
  SmallVector<Value> zeros(shape.size(), constIndex(0));
  ++ParallelDepth;
  MG.parallelLoopNest(B, CurLoc, zeros, shape, true, 16,
                      [&](OpBuilder &nb, Location, mlir::ValueRange ivs) {
                        OpBuilder::InsertionGuard g(B);
                        B.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
                        body(ivs);
                      });
  --ParallelDepth;
}

Value FunctionGen::overlapsAny(Value dest, mlir::ArrayRef<Value> reads) {
  if (reads.empty())
    return Value();
  Value dLo, dHi;
  Value dAny = addressRange(dest, dLo, dHi);
  Value any = constBool(false);
  for (Value r : reads) {
    Value lo, hi;
    Value rAny = addressRange(r, lo, hi);
    auto lt = [&](Value a, Value b) {
      return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult, a, b).getResult();
    };
    Value both = B.create<arith::AndIOp>(CurLoc, dAny, rAny);
    Value meet = B.create<arith::AndIOp>(CurLoc, lt(dLo, hi), lt(lo, dHi));
    any = B.create<arith::OrIOp>(CurLoc, any, B.create<arith::AndIOp>(CurLoc, both, meet));
  }
  return any;
}

void FunctionGen::storeInto(LazyArray src, Value dest, const SmallVector<Value> &shape,
                            ScalarKind k) {
  ScalarKind sk = src.type.scalarKind();
  auto store = [&](LazyArray &from, ScalarKind fk) {
    from.prepare(shape);
    storeEach(shape, [&](mlir::ValueRange ivs) {
      storeElement(castScalar(from.element(ivs), fk, k), dest,
                   SmallVector<Value>(ivs.begin(), ivs.end()), k);
    });
  };
  Value overlap = overlapsAny(dest, src.reads);
  if (!overlap) {
    store(src, sk);
    return;
  }
  auto ifOp = B.create<scf::IfOp>(CurLoc, mlir::TypeRange{}, overlap, /*withElseRegion=*/true);
  {
    // The value first, then the copy.
    OpBuilder::InsertionGuard g(B);
    B.setInsertionPoint(ifOp.getThenRegion().front().getTerminator());
    Type tt = Type::array(sk, src.type.isArray() ? src.type.rank() : 1, Type::Layout::C);
    Value temp = materialize(src);
    LazyArray t = leaf(temp, tt);
    store(t, sk);
    B.create<memref::DeallocOp>(CurLoc, temp);
  }
  OpBuilder::InsertionGuard g(B);
  B.setInsertionPoint(ifOp.getElseRegion().front().getTerminator());
  store(src, sk);
}

/// The extents given by a shape operand: an integer or a tuple of them.
SmallVector<Value> FunctionGen::shapeOperand(const ast::Expr &e) {
  CGValue v = expr(e);
  SmallVector<Value> dims;
  std::vector<Type> leaves;
  v.type.collectLeaves(leaves);
  for (size_t i = 0; i < v.leaves.size(); ++i) {
    Value n = toIndex(v.leaves[i], leaves[i].scalarKind());
    dims.push_back(B.create<arith::MaxSIOp>(CurLoc, n, constIndex(0)));
  }
  return dims;
}

/// A whole-array reduction over a lazy array (no temporary), in an
/// accumulator the optimizer keeps in a register.
void FunctionGen::eachElement(const LazyArray &a, const std::function<void(Value)> &fn) {
  if (a.each) {
    a.each(fn);
    return;
  }
  forEach(a.shape, [&](mlir::ValueRange ivs) { fn(a.element(ivs)); });
}

FunctionGen::LazyArray FunctionGen::comprehensionItems(const ast::ListComp &l, ScalarKind k) {
  LazyArray a;
  a.type = Type::array(k, 1, Type::Layout::C);
  a.prepare = [](mlir::ValueRange) {};
  a.each = [this, &l, k](const std::function<void(Value)> &fn) {
    comprehensionLoops(
        l, {}, [](Value) { return SmallVector<Value>{}; },
        [&](SmallVector<Value> state, CGValue x) {
          fn(castScalar(x.single(), x.type.scalarKind(), k));
          return state;
        });
  };
  return a;
}

Value FunctionGen::reduce(LazyArray a, Builtin b, ScalarKind r, bool skipNan,
                          EmptyMinMax empty) {
  ScalarKind ek = a.type.scalarKind();
  a.prepare(a.shape);
  auto accOf = [&](ScalarKind k) { return entryAlloca(scalarType(Ctx, k)); };
  Value count = constIndex(1);
  for (Value d : a.shape)
    count = B.create<arith::MulIOp>(CurLoc, count, d);
  // Whether an element is NaN (never for integers and bools).
  skipNan = skipNan && (isFloat(ek) || isComplex(ek));
  auto isNan = [&](Value x) -> Value {
    if (isComplex(ek)) {
      Value re = B.create<complex::ReOp>(CurLoc, x), im = B.create<complex::ImOp>(CurLoc, x);
      return B.create<arith::OrIOp>(
          CurLoc, B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, re, re),
          B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, im, im));
    }
    return B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, x, x);
  };
  // With skipNan, the number of elements that are not NaN.
  Value kept = skipNan ? accOf(ScalarKind::I64) : Value();
  if (kept)
    B.create<memref::StoreOp>(CurLoc, constInt(0, ScalarKind::I64), kept);
  auto countKept = [&](Value nan) {
    Value k = B.create<memref::LoadOp>(CurLoc, kept);
    Value add = B.create<arith::ExtUIOp>(CurLoc, B.getI64Type(), logicalNot(nan));
    B.create<memref::StoreOp>(CurLoc, B.create<arith::AddIOp>(CurLoc, k, add), kept);
  };
  switch (b) {
  case Builtin::Sum:
  case Builtin::Prod:
  case Builtin::Mean:
  case Builtin::Var:
  case Builtin::Std: {
    bool prod = b == Builtin::Prod;
    ScalarKind ak = b == Builtin::Sum || b == Builtin::Prod ? r
                    : isComplex(ek)                          ? ek
                                                             : r;
    if (b == Builtin::Mean)
      ak = r;
    Value acc = accOf(ak);
    B.create<memref::StoreOp>(CurLoc, prod ? constFloatOrInt(1, ak) : zeroOf(Type::scalar(ak)),
                              acc);
    eachElement(a, [&](Value e) {
      Value x = castScalar(e, ek, ak);
      Value cur = B.create<memref::LoadOp>(CurLoc, acc);
      Value next = arith2(prod ? ast::BinOpKind::Mul : ast::BinOpKind::Add, cur, x, ak, CurLoc);
      if (skipNan) {
        Value nan = isNan(e);
        next = B.create<arith::SelectOp>(CurLoc, nan, cur, next);
        if (b != Builtin::Sum && b != Builtin::Prod) // the mean divides by the count
          countKept(nan);
      }
      B.create<memref::StoreOp>(CurLoc, next, acc);
    });
    Value total = B.create<memref::LoadOp>(CurLoc, acc);
    if (b == Builtin::Sum || b == Builtin::Prod)
      return total;
    Value n64 = skipNan ? B.create<memref::LoadOp>(CurLoc, kept).getResult()
                        : B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), count).getResult();
    Value n = castScalar(n64, ScalarKind::I64, ak);
    Value mean = arith2(ast::BinOpKind::Div, total, n, ak, CurLoc);
    if (b == Builtin::Mean)
      return mean;
    // Variance: the mean of squared deviations (a second pass).
    Value acc2 = accOf(r);
    B.create<memref::StoreOp>(CurLoc, zeroOf(Type::scalar(r)), acc2);
    forEach(a.shape, [&](mlir::ValueRange ivs) {
      Value e = a.element(ivs);
      Value x = castScalar(e, ek, ak);
      Value dv = arith2(ast::BinOpKind::Sub, x, mean, ak, CurLoc);
      Value sq = isComplex(ak) ? castScalar(B.create<complex::AbsOp>(CurLoc, dv), complexPart(ak), r)
                               : dv;
      sq = arith2(ast::BinOpKind::Mul, sq, sq, r, CurLoc);
      Value cur = B.create<memref::LoadOp>(CurLoc, acc2);
      Value next = arith2(ast::BinOpKind::Add, cur, sq, r, CurLoc);
      if (skipNan)
        next = B.create<arith::SelectOp>(CurLoc, isNan(e), cur, next);
      B.create<memref::StoreOp>(CurLoc, next, acc2);
    });
    Value nr = castScalar(n64, ScalarKind::I64, r);
    Value var = arith2(ast::BinOpKind::Div, B.create<memref::LoadOp>(CurLoc, acc2), nr, r, CurLoc);
    return b == Builtin::Var ? var : Value(B.create<math::SqrtOp>(CurLoc, var));
  }
  case Builtin::ReduceMin:
  case Builtin::ReduceMax: {
    bool mn = b == Builtin::ReduceMin;
    Value acc = accOf(ek);
    B.create<memref::StoreOp>(CurLoc, reduceIdentity(mn ? ReduceOp::Min : ReduceOp::Max, ek),
                              acc);
    CallInfo ci;
    ci.builtin = mn ? Builtin::Minimum : Builtin::Maximum;
    ci.operandKind = isBool(ek) ? ScalarKind::U8 : ek;
    // No elements: an error, as in Python and NumPy (there is no identity).
    Value items = count;
    if (a.each) {
      items = entryAlloca(B.getIndexType());
      B.create<memref::StoreOp>(CurLoc, constIndex(0), items);
    }
    eachElement(a, [&](Value x) {
      if (a.each)
        B.create<memref::StoreOp>(
            CurLoc,
            B.create<arith::AddIOp>(CurLoc, B.create<memref::LoadOp>(CurLoc, items),
                                    constIndex(1)),
            items);
      Value cur = B.create<memref::LoadOp>(CurLoc, acc);
      Value v;
      if (isBool(ek))
        v = mn ? Value(B.create<arith::AndIOp>(CurLoc, cur, x))
               : Value(B.create<arith::OrIOp>(CurLoc, cur, x));
      else
        v = elementMath(ci, {cur, x}, {ek, ek}, ek);
      if (skipNan) {
        Value nan = isNan(x);
        v = B.create<arith::SelectOp>(CurLoc, nan, cur, v);
        countKept(nan);
      }
      B.create<memref::StoreOp>(CurLoc, v, acc);
    });
    if (a.each)
      items = B.create<memref::LoadOp>(CurLoc, items);
    const char *op = mn ? "min" : "max";
    if (empty != EmptyMinMax::Handled)
      raiseIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, items, constIndex(0)),
              KernelFaultKind::Raise,
              empty == EmptyMinMax::PythonError
                  ? fmt::format("ValueError: {}() arg is an empty sequence", op)
                  : fmt::format("ValueError: zero-size array to reduction operation {}imum "
                                "which has no identity",
                                op),
              {});
    Value result = B.create<memref::LoadOp>(CurLoc, acc);
    if (skipNan) // all NaN: NaN, as NumPy
      result = B.create<arith::SelectOp>(
          CurLoc,
          B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq,
                                  B.create<memref::LoadOp>(CurLoc, kept),
                                  constInt(0, ScalarKind::I64)),
          constFloat(NAN, ek), result);
    return result;
  }
  case Builtin::Argmin:
  case Builtin::Argmax: {
    bool mn = b == Builtin::Argmin;
    Value best = accOf(ek), bestIdx = accOf(ScalarKind::I64), linear = accOf(ScalarKind::I64);
    B.create<memref::StoreOp>(CurLoc, constInt(-1, ScalarKind::I64), bestIdx);
    B.create<memref::StoreOp>(CurLoc, constInt(0, ScalarKind::I64), linear);
    B.create<memref::StoreOp>(CurLoc, zeroOf(Type::scalar(ek)), best);
    forEach(a.shape, [&](mlir::ValueRange ivs) {
      Value x = a.element(ivs);
      Value cur = B.create<memref::LoadOp>(CurLoc, best);
      Value idx = B.create<memref::LoadOp>(CurLoc, bestIdx);
      Value i = B.create<memref::LoadOp>(CurLoc, linear);
      Value first = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, idx,
                                            constInt(0, ScalarKind::I64));
      Value better = compare1(mn ? ast::CmpOpKind::Lt : ast::CmpOpKind::Gt, x, ek, cur, ek);
      if (skipNan) {
        // NaNs are never taken.
        Value keep = logicalNot(isNan(x));
        first = B.create<arith::AndIOp>(CurLoc, first, keep);
        better = B.create<arith::AndIOp>(CurLoc, better, keep);
      } else if (isFloat(ek)) {
        // NumPy: the first NaN is the answer.
        Value xNan = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, x, x);
        Value curNan = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, cur, cur);
        Value notFirst = logicalNot(first);
        Value keepNan = B.create<arith::AndIOp>(CurLoc, curNan, notFirst);
        better = B.create<arith::OrIOp>(
            CurLoc, better, B.create<arith::AndIOp>(CurLoc, xNan, logicalNot(curNan)));
        better = B.create<arith::AndIOp>(CurLoc, better, logicalNot(keepNan));
      }
      Value take = B.create<arith::OrIOp>(CurLoc, first, better);
      B.create<memref::StoreOp>(CurLoc, B.create<arith::SelectOp>(CurLoc, take, x, cur), best);
      B.create<memref::StoreOp>(CurLoc, B.create<arith::SelectOp>(CurLoc, take, i, idx), bestIdx);
      B.create<memref::StoreOp>(
          CurLoc, B.create<arith::AddIOp>(CurLoc, i, constInt(1, ScalarKind::I64)), linear);
    });
    Value idx = B.create<memref::LoadOp>(CurLoc, bestIdx);
    if (skipNan)
      raiseIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, idx,
                                      constInt(0, ScalarKind::I64)),
              KernelFaultKind::Raise, "ValueError: All-NaN slice encountered", {});
    return B.create<arith::MaxSIOp>(CurLoc, idx, constInt(0, ScalarKind::I64));
  }
  case Builtin::Any:
  case Builtin::All: {
    bool any = b == Builtin::Any;
    Value acc = accOf(ScalarKind::Bool);
    B.create<memref::StoreOp>(CurLoc, constBool(!any), acc);
    eachElement(a, [&](Value e) {
      Value x = castScalar(e, ek, ScalarKind::Bool);
      Value cur = B.create<memref::LoadOp>(CurLoc, acc);
      B.create<memref::StoreOp>(CurLoc, any ? Value(B.create<arith::OrIOp>(CurLoc, cur, x))
                                            : Value(B.create<arith::AndIOp>(CurLoc, cur, x)),
                                acc);
    });
    return B.create<memref::LoadOp>(CurLoc, acc);
  }
  default:
    return zeroOf(Type::scalar(r));
  }
}

CGValue FunctionGen::arrayCall(const ast::Call &c, const CallInfo &info) {
  CGValue r;
  r.type = F.typeOf(c);
  const auto &ops = info.operands;
  Builtin b = info.builtin;
  ScalarKind k = r.type.scalarKind();
  auto constantArray = [&](SmallVector<Value> shape, Value fill, ScalarKind fk) {
    LazyArray a;
    a.type = r.type;
    a.shape = shape;
    a.prepare = [](mlir::ValueRange) {};
    ScalarKind kk = k;
    a.element = [this, fill, fk, kk](mlir::ValueRange) { return castScalar(fill, fk, kk); };
    return materialize(a);
  };
  switch (b) {
  case Builtin::Empty:
    r.leaves.push_back(MG.allocArray(B, CurLoc, r.type, shapeOperand(*ops[0])));
    return r;
  case Builtin::Zeros:
  case Builtin::Ones:
    r.leaves.push_back(constantArray(shapeOperand(*ops[0]),
                                     constInt(b == Builtin::Ones ? 1 : 0, ScalarKind::I64),
                                     ScalarKind::I64));
    return r;
  case Builtin::Full: {
    SmallVector<Value> shape = shapeOperand(*ops[0]);
    CGValue fill = expr(*ops[1]);
    r.leaves.push_back(constantArray(shape, fill.single(), fill.type.scalarKind()));
    return r;
  }
  case Builtin::EmptyLike:
  case Builtin::ZerosLike:
  case Builtin::OnesLike:
  case Builtin::FullLike: {
    CGValue src = expr(*ops[0]);
    SmallVector<Value> shape;
    for (unsigned d = 0; d < src.type.rank(); ++d)
      shape.push_back(B.create<memref::DimOp>(CurLoc, src.single(), d));
    if (b == Builtin::EmptyLike) {
      r.leaves.push_back(MG.allocArray(B, CurLoc, r.type, shape));
    } else if (b == Builtin::FullLike) {
      CGValue fill = expr(*ops[1]);
      r.leaves.push_back(constantArray(shape, fill.single(), fill.type.scalarKind()));
    } else {
      r.leaves.push_back(constantArray(
          shape, constInt(b == Builtin::OnesLike ? 1 : 0, ScalarKind::I64), ScalarKind::I64));
    }
    return r;
  }
  case Builtin::Arange:
  case Builtin::Linspace: {
    SmallVector<CGValue> a;
    for (auto *o : ops)
      a.push_back(expr(*o));
    bool lin = b == Builtin::Linspace;
    ScalarKind ck = lin || isFloat(k) ? ScalarKind::F64 : ScalarKind::I64;
    if (!lin)
      for (auto &v : a)
        if (isFloat(v.type.scalarKind()))
          ck = ScalarKind::F64;
    auto as = [&](size_t i) { return castScalar(a[i].single(), a[i].type.scalarKind(), ck); };
    Value start, stop, step, n;
    if (lin) {
      start = as(0);
      stop = as(1);
      Value num = a.size() > 2 ? castScalar(a[2].single(), a[2].type.scalarKind(), ScalarKind::I64)
                               : constInt(50, ScalarKind::I64);
      num = B.create<arith::MaxSIOp>(CurLoc, num, constInt(0, ScalarKind::I64));
      n = B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), num);
      Value den = B.create<arith::MaxSIOp>(
          CurLoc, B.create<arith::SubIOp>(CurLoc, num, constInt(1, ScalarKind::I64)),
          constInt(1, ScalarKind::I64));
      step = B.create<arith::DivFOp>(CurLoc, B.create<arith::SubFOp>(CurLoc, stop, start),
                                     castScalar(den, ScalarKind::I64, ScalarKind::F64));
    } else {
      start = a.size() >= 2 ? as(0) : zeroOf(Type::scalar(ck));
      stop = a.size() >= 2 ? as(1) : as(0);
      step = a.size() == 3 ? as(2) : constFloatOrInt(1, ck);
      // ceil((stop - start) / step), at least 0.
      Value count;
      if (isFloat(ck)) {
        Value q = B.create<arith::DivFOp>(CurLoc, B.create<arith::SubFOp>(CurLoc, stop, start), step);
        count = castScalar(B.create<math::CeilOp>(CurLoc, q), ScalarKind::F64, ScalarKind::I64);
      } else {
        Value span = B.create<arith::SubIOp>(CurLoc, stop, start);
        Value safe = B.create<arith::SelectOp>(
            CurLoc, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, step,
                                            constInt(0, ScalarKind::I64)),
            constInt(1, ScalarKind::I64), step);
        count = B.create<arith::CeilDivSIOp>(CurLoc, span, safe);
      }
      count = B.create<arith::MaxSIOp>(CurLoc, count, constInt(0, ScalarKind::I64));
      n = B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), count);
    }
    LazyArray out;
    out.type = r.type;
    out.shape = {n};
    out.prepare = [](mlir::ValueRange) {};
    Value nLast = B.create<arith::SubIOp>(CurLoc, n, constIndex(1));
    out.element = [this, start, step, stop, ck, k, lin, nLast](mlir::ValueRange ivs) {
      Value i = castScalar(B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), ivs[0]),
                           ScalarKind::I64, ck);
      Value v = isFloat(ck) ? Value(B.create<arith::AddFOp>(
                                  CurLoc, start, B.create<arith::MulFOp>(CurLoc, i, step)))
                            : Value(B.create<arith::AddIOp>(
                                  CurLoc, start, B.create<arith::MulIOp>(CurLoc, i, step)));
      if (lin) {
        // NumPy makes the last sample exactly `stop` (with num > 1).
        Value last = B.create<arith::AndIOp>(
            CurLoc, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, ivs[0], nLast),
            B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sgt, nLast, constIndex(0)));
        v = B.create<arith::SelectOp>(CurLoc, last, stop, v);
      }
      return castScalar(v, ck, k);
    };
    r.leaves.push_back(materialize(out));
    return r;
  }
  case Builtin::Asarray: // the array itself (Sema)
    return expr(*ops[0]);
  case Builtin::ArrayOf: {
    // Nested lists (Sema makes np.array of an array an Astype): each
    // scalar stored at its place in C order.
    SmallVector<Value> shape;
    for (int64_t e : info.extents)
      shape.push_back(constIndex(e));
    Value out = MG.allocArray(B, CurLoc, r.type, shape);
    int64_t flat = 0;
    for (const ast::Expr *op : ops) {
      CGValue v = expr(*op);
      std::vector<Type> leafTs;
      v.type.collectLeaves(leafTs);
      for (size_t j = 0; j < v.leaves.size(); ++j, ++flat) {
        SmallVector<Value> idx(info.extents.size());
        int64_t rest = flat;
        for (size_t d = info.extents.size(); d-- > 0;) {
          idx[d] = constIndex(rest % info.extents[d]);
          rest /= info.extents[d];
        }
        storeElement(castScalar(v.leaves[j], leafTs[j].scalarKind(), k), out, idx, k);
      }
    }
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Copy: {
    LazyArray a = lazy(*ops[0]);
    a.type = r.type;
    r.leaves.push_back(materialize(a));
    return r;
  }
  case Builtin::Reshape:
  case Builtin::Ravel:
  case Builtin::Flatten: {
    CGValue src = expr(*ops[0]);
    SmallVector<Value> extents;
    for (size_t i = 1; i < ops.size(); ++i) {
      CGValue e = expr(*ops[i]);
      std::vector<Type> leaves;
      e.type.collectLeaves(leaves);
      for (size_t j = 0; j < e.leaves.size(); ++j)
        extents.push_back(castScalar(e.leaves[j], leaves[j].scalarKind(), ScalarKind::I64));
    }
    if (extents.empty())
      extents.push_back(constInt(-1, ScalarKind::I64));
    if (b == Builtin::Flatten) {
      // Always a new array: a copy, viewed as 1-d.
      Value copy = materialize(leaf(src.single(), src.type));
      r.leaves.push_back(withCShape(copy, {elementCount(copy, src.type.rank())}, r.type));
      return r;
    }
    r.leaves.push_back(reshapeView(src.single(), src.type, extents, r.type));
    return r;
  }
  case Builtin::Transpose:
    r.leaves.push_back(permutedView(expr(*ops[0]).single(), info.permutation, r.type));
    return r;
  case Builtin::Flip:
  case Builtin::Fliplr:
  case Builtin::Flipud:
    r.leaves.push_back(flippedView(expr(*ops[0]).single(), info.permutation, r.type));
    return r;
  case Builtin::Repeat:
  case Builtin::Tile:
  case Builtin::Cross:
  case Builtin::Append:
  case Builtin::Convolve:
  case Builtin::Digitize:
  case Builtin::Isin:
  case Builtin::Triu:
  case Builtin::Tril:
  case Builtin::Diag:
  case Builtin::Diagflat:
  case Builtin::Kron:
  case Builtin::Vdot:
  case Builtin::Delete:
  case Builtin::Insert:
    return rearrangedCall(info, r.type);
  case Builtin::Eye:
  case Builtin::Identity: {
    // out[i, j] = 1 where j - i == k.
    auto arg = [&](size_t i) -> Value {
      if (i >= ops.size() || F.typeOf(*ops[i]).isNone())
        return Value();
      CGValue v = expr(*ops[i]);
      return castScalar(v.single(), v.type.scalarKind(), ScalarKind::I64);
    };
    Value n = arg(0), m = arg(1), kk = arg(2);
    if (!m)
      m = n;
    if (!kk)
      kk = constInt(0, ScalarKind::I64);
    auto extent = [&](Value v) {
      return B.create<arith::MaxSIOp>(
          CurLoc, B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), v), constIndex(0))
          .getResult();
    };
    SmallVector<Value> shape = {extent(n), extent(m)};
    Value out = MG.allocArray(B, CurLoc, r.type, shape);
    Value kIdx = B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), kk);
    forEach(shape, [&](mlir::ValueRange ivs) {
      Value on = B.create<arith::CmpIOp>(
          CurLoc, arith::CmpIPredicate::eq, B.create<arith::SubIOp>(CurLoc, ivs[1], ivs[0]), kIdx);
      Value one = castScalar(constInt(1, ScalarKind::I64), ScalarKind::I64, k);
      storeElement(B.create<arith::SelectOp>(CurLoc, on, one, zeroOf(Type::scalar(k))), out,
                   {ivs[0], ivs[1]}, k);
    });
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Trace: {
    // The diagonal a[i, i + k] (k may be negative) as a lazy 1-d array.
    CGValue a = expr(*ops[0]);
    r.leaves.push_back(
        reduce(diagonal(a.single(), a.type.scalarKind(), ops.size() > 1 ? ops[1] : nullptr),
               Builtin::Sum, k));
    return r;
  }
  case Builtin::CumSum:
  case Builtin::CumProd:
    r.leaves.push_back(cumulative(info, expr(*ops[0]), r.type));
    return r;
  case Builtin::Concatenate:
  case Builtin::Stack:
  case Builtin::Vstack:
  case Builtin::Hstack:
    r.leaves.push_back(joined(info, expr(*ops[0]), r.type));
    return r;
  case Builtin::Median:
  case Builtin::Percentile:
  case Builtin::Quantile:
    return quantiles(info, expr(*ops[0]), r.type);
  case Builtin::Isclose:
  case Builtin::Allclose:
    r.leaves.push_back(closeness(info, r.type));
    return r;
  case Builtin::Unique:
  case Builtin::Searchsorted:
  case Builtin::Bincount:
  case Builtin::Histogram:
  case Builtin::Interp:
    return lookupCall(info, r.type);
  case Builtin::Linalg:
    return linalgCall(info, r.type);
  case Builtin::CountNonzero: {
    LazyArray a = lazy(*ops[0]);
    ScalarKind ak = a.type.scalarKind();
    Type bt = Type::array(ScalarKind::I64, a.type.rank(), Type::Layout::C);
    LazyArray nz = elementwise(bt, {a}, [this, ak](const SmallVector<Value> &v) {
      Value ne = compare1(ast::CmpOpKind::Ne, v[0], ak, zeroOf(Type::scalar(ak)), ak);
      return castScalar(ne, ScalarKind::Bool, ScalarKind::I64);
    });
    r.leaves.push_back(reduce(nz, Builtin::Sum, ScalarKind::I64));
    return r;
  }
  case Builtin::Diff: {
    CGValue src = expr(*ops[0]);
    Value cur = src.single();
    Type ct = src.type;
    const unsigned ax = static_cast<unsigned>(info.axis);
    for (int64_t step = 0; step < info.order; ++step) {
      // next[..., i, ...] = cur[..., i + 1, ...] - cur[..., i, ...]
      SmallVector<Value> shape;
      for (unsigned d = 0; d < ct.rank(); ++d)
        shape.push_back(B.create<memref::DimOp>(CurLoc, cur, d));
      shape[ax] = B.create<arith::MaxSIOp>(
          CurLoc, B.create<arith::SubIOp>(CurLoc, shape[ax], constIndex(1)), constIndex(0));
      Value next = MG.allocArray(B, CurLoc, r.type, shape);
      forEach(shape, [&](mlir::ValueRange ivs) {
        SmallVector<Value> at(ivs.begin(), ivs.end()), after = at;
        after[ax] = B.create<arith::AddIOp>(CurLoc, at[ax], constIndex(1));
        Value d = arith2(ast::BinOpKind::Sub, loadElement(cur, after, k), loadElement(cur, at, k),
                         k, CurLoc);
        storeElement(d, next, at, k);
      });
      if (step > 0)
        B.create<memref::DeallocOp>(CurLoc, cur);
      cur = next;
      ct = r.type;
    }
    if (info.order == 0)
      cur = materialize(leaf(cur, ct));
    r.leaves.push_back(cur);
    return r;
  }
  case Builtin::Nonzero:
  case Builtin::Flatnonzero:
  case Builtin::Argwhere:
    return nonzeroPositions(*ops[0], b, r.type);
  case Builtin::Roll: {
    // out[..., (i + shift) mod n, ...] = a[..., i, ...] along the axis, or
    // along the elements in C order (axis=None).
    CGValue src = expr(*ops[0]);
    CGValue sh = expr(*ops[1]);
    Value mem = src.single();
    Type st = src.type;
    unsigned ax = 0;
    if (info.axis < 0) {
      mem = flatView(mem, st);
      st = Type::array(k, 1, Type::Layout::C);
    } else {
      ax = static_cast<unsigned>(info.axis);
    }
    SmallVector<Value> shape, full;
    for (unsigned d = 0; d < st.rank(); ++d)
      shape.push_back(B.create<memref::DimOp>(CurLoc, mem, d));
    for (unsigned d = 0; d < src.type.rank(); ++d)
      full.push_back(B.create<memref::DimOp>(CurLoc, src.single(), d));
    Value out = MG.allocArray(B, CurLoc, r.type, full);
    Value dest = info.axis < 0 ? flatView(out, r.type) : out;
    // The shift as a position in [0, n) (Python's modulo; 0 for n == 0).
    Value n = indexToI64(shape[ax]);
    Value one = constInt(1, ScalarKind::I64), zero = constInt(0, ScalarKind::I64);
    Value safe = B.create<arith::MaxSIOp>(CurLoc, n, one);
    Value s64 = castScalar(sh.single(), sh.type.scalarKind(), ScalarKind::I64);
    Value m = B.create<arith::RemSIOp>(CurLoc, s64, safe);
    Value neg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, m, zero);
    m = B.create<arith::SelectOp>(CurLoc, neg, B.create<arith::AddIOp>(CurLoc, m, safe), m);
    Value shift = toIndex(m, ScalarKind::I64), ni = toIndex(safe, ScalarKind::I64);
    forEach(shape, [&](mlir::ValueRange ivs) {
      SmallVector<Value> from(ivs.begin(), ivs.end()), to = from;
      Value j = B.create<arith::AddIOp>(CurLoc, ivs[ax], shift);
      Value wraps = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::uge, j, ni);
      to[ax] = B.create<arith::SelectOp>(CurLoc, wraps, B.create<arith::SubIOp>(CurLoc, j, ni), j);
      storeElement(loadElement(mem, from, k), dest, to, k);
    });
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Norm:
    return normCall(info, r.type);
  case Builtin::Outer: {
    // out[i, j] = a.ravel()[i] * b.ravel()[j]
    SmallVector<Value> flat;
    SmallVector<ScalarKind> kinds;
    for (int i = 0; i < 2; ++i) {
      CGValue v = expr(*ops[i]);
      flat.push_back(flatView(v.single(), v.type));
      kinds.push_back(v.type.scalarKind());
    }
    ScalarKind ok = info.operandKind;
    SmallVector<Value> shape = {B.create<memref::DimOp>(CurLoc, flat[0], 0),
                                B.create<memref::DimOp>(CurLoc, flat[1], 0)};
    Value out = MG.allocArray(B, CurLoc, r.type, shape);
    forEach(shape, [&](mlir::ValueRange ivs) {
      Value x = castScalar(loadElement(flat[0], {ivs[0]}, kinds[0]), kinds[0], ok);
      Value y = castScalar(loadElement(flat[1], {ivs[1]}, kinds[1]), kinds[1], ok);
      storeElement(productOf(x, y, ok), out, {ivs[0], ivs[1]}, k);
    });
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Sort:
  case Builtin::Argsort: {
    CGValue src = expr(*ops[0]);
    if (r.type.isArray()) {
      r.leaves.push_back(sorted(info, src, r.type));
      return r;
    }
    // a.sort(): each lane sorted where it is (a 1-d array's axis is -1).
    sortLanes(src.single(), src.type.scalarKind(), info.axis < 0 ? 0 : info.axis);
    return r;
  }
  case Builtin::Dot:
  case Builtin::Matmul:
    return matmul(*ops[0], *ops[1], info.operandKind, r.type, b == Builtin::Matmul);
  default:
    break;
  }
  if (b >= Builtin::Sum && b <= Builtin::All && r.type.isArray()) {
    // Along one axis: one reduction per element of the other axes.
    LazyArray a = lazy(*ops[0]);
    a.prepare(a.shape);
    unsigned axis = static_cast<unsigned>(info.axis);
    SmallVector<Value> outShape;
    for (unsigned d = 0; d < a.shape.size(); ++d)
      if (d != axis)
        outShape.push_back(a.shape[d]);
    Value out = MG.allocArray(B, CurLoc, r.type, outShape);
    forEach(outShape, [&](mlir::ValueRange ivsOut) {
      SmallVector<Value> outer(ivsOut.begin(), ivsOut.end());
      storeElement(reduce(laneOf(a, axis, outer), b, info.operandKind, info.skipNan), out, outer,
                   k);
    });
    r.leaves.push_back(out);
    return r;
  }
  if (b >= Builtin::Sum && b <= Builtin::All) {
    // sum(x * x for x in a): the items as they are made, without a list.
    auto *lc = dyn_cast<ast::ListComp>(ops[0]);
    bool fused = lc && (b == Builtin::Sum || b == Builtin::Prod || b == Builtin::ReduceMin ||
                        b == Builtin::ReduceMax || b == Builtin::Any || b == Builtin::All);
    LazyArray a = fused ? comprehensionItems(*lc, F.typeOf(*lc).scalarKind()) : lazy(*ops[0]);
    bool python = !info.viaNumpy && !info.receiver; // max(xs), not np.max or a.max()
    r.leaves.push_back(reduce(a, b, info.operandKind, info.skipNan,
                              python ? EmptyMinMax::PythonError : EmptyMinMax::NumPyError));
    return r;
  }
  if (!r.type.isArray()) {
    // where/minimum/maximum/clip of scalars only: one element, no loop.
    SmallVector<Value> vals;
    SmallVector<ScalarKind> kinds;
    SmallVector<unsigned> roles;
    for (unsigned i = 0; i < ops.size(); ++i) {
      if (b == Builtin::Clip && i > 0 && F.typeOf(*ops[i]).isNone())
        continue;
      roles.push_back(i);
      CGValue v = expr(*ops[i]);
      vals.push_back(v.single());
      kinds.push_back(v.type.scalarKind());
    }
    if (b == Builtin::Where) {
      Value cond = castScalar(vals[0], kinds[0], ScalarKind::Bool);
      r.leaves.push_back(B.create<arith::SelectOp>(CurLoc, cond, castScalar(vals[1], kinds[1], k),
                                                   castScalar(vals[2], kinds[2], k)));
    } else if (b == Builtin::Clip) {
      r.leaves.push_back(clipValue(vals, kinds, roles, k));
    } else {
      r.leaves.push_back(elementMath(info, vals, kinds, k));
    }
    return r;
  }
  // Elementwise calls (math on arrays, where, minimum, astype).
  r.leaves.push_back(materialize(lazy(c)));
  return r;
}


//===----------------------------------------------------------------------===//
// Slicing
//===----------------------------------------------------------------------===//

/// Python's slice(lower, upper, step).indices(n): the first index, the
/// number of elements and the step, all as index values.
void FunctionGen::sliceBounds(const ast::Slice &sl, Value n, Value &lo, Value &count,
                              Value &step, bool emptyAtZero) {
  auto idx = [&](const ast::ExprPtr &e) {
    CGValue v = expr(*e);
    return toIndex(v.single(), v.type.scalarKind());
  };
  auto c = [&](int64_t v) { return constIndex(v); };
  std::optional<int64_t> constStep = sl.step ? literalInt(*sl.step) : std::optional<int64_t>(1);
  step = sl.step ? idx(sl.step) : c(1);
  Value lower = sl.lower ? idx(sl.lower) : Value();
  Value upper = sl.upper ? idx(sl.upper) : Value();
  auto slt = [&](Value a, Value b) {
    return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, a, b);
  };
  // Step > 0: bounds clamp to [0, n]; step < 0: to [-1, n - 1].
  auto clamp = [&](Value x, bool positive) -> Value {
    Value neg = slt(x, c(0));
    Value wrapped = B.create<arith::AddIOp>(CurLoc, x, n);
    Value lowFix = B.create<arith::MaxSIOp>(CurLoc, wrapped, positive ? c(0) : c(-1));
    Value highFix = B.create<arith::MinSIOp>(
        CurLoc, x, positive ? n : Value(B.create<arith::SubIOp>(CurLoc, n, c(1))));
    return B.create<arith::SelectOp>(CurLoc, neg, lowFix, highFix);
  };
  auto forward = [&](Value &l, Value &k) {
    l = lower ? clamp(lower, true) : c(0);
    Value h = upper ? clamp(upper, true) : n;
    Value span = B.create<arith::MaxSIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, h, l), c(0));
    Value safeStep = B.create<arith::MaxSIOp>(CurLoc, step, c(1));
    k = B.create<arith::CeilDivSIOp>(CurLoc, span, safeStep);
  };
  auto backward = [&](Value &l, Value &k) {
    l = lower ? clamp(lower, false) : Value(B.create<arith::SubIOp>(CurLoc, n, c(1)));
    Value h = upper ? clamp(upper, false) : c(-1);
    Value span = B.create<arith::MaxSIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, l, h), c(0));
    Value mag = B.create<arith::MaxSIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, c(0), step), c(1));
    k = B.create<arith::CeilDivSIOp>(CurLoc, span, mag);
  };
  if (constStep && *constStep > 0) {
    forward(lo, count);
  } else if (constStep && *constStep < 0) {
    backward(lo, count);
  } else {
    Value lf, kf, lb, kb;
    forward(lf, kf);
    backward(lb, kb);
    Value pos = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sgt, step, c(0));
    lo = B.create<arith::SelectOp>(CurLoc, pos, lf, lb);
    count = B.create<arith::SelectOp>(CurLoc, pos, kf, kb);
  }
  // An empty slice may start one past either end; keep the offset in range
  // (unless the caller wants where it starts: an insertion point).
  if (emptyAtZero) {
    Value empty = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, count, c(0));
    lo = B.create<arith::SelectOp>(CurLoc, empty, c(0), lo);
  }
}

Value FunctionGen::sliceView(const ast::Subscript &s) {
  CGValue base = expr(*s.value);
  Value mem = base.single();
  unsigned rank = base.type.rank();
  std::vector<TypedFunction::SubscriptItem> items = F.arraySubscript(s, rank);
  SmallVector<mlir::OpFoldResult> offsets, sizes, strides;
  SmallVector<int64_t> shape;
  // Where the new axes go among the view's dimensions.
  SmallVector<bool> isNew;
  Value anyBad;
  unsigned d = 0;
  for (const TypedFunction::SubscriptItem &item : items) {
    if (item.newAxis) {
      isNew.push_back(true);
      continue;
    }
    Value n = B.create<memref::DimOp>(CurLoc, mem, d);
    if (item.expr && !isa<ast::Slice>(item.expr)) {
      CGValue v = expr(*item.expr);
      Value i = toIndex(v.single(), v.type.scalarKind());
      Value given = i;
      if (!isNonNegative(*item.expr))
        i = wrapIndex(i, v.type.scalarKind(), n);
      if (boundsChecked()) {
        Value bad = indexOutOfBounds(s, mem, rank, d, i, given);
        anyBad = anyBad ? B.create<arith::OrIOp>(CurLoc, anyBad, bad) : bad;
        i = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), i);
      }
      offsets.push_back(i);
      sizes.push_back(B.getIndexAttr(1));
      strides.push_back(B.getIndexAttr(1));
      ++d;
      continue;
    }
    if (item.expr) {
      Value lo, count, step;
      sliceBounds(*static_cast<const ast::Slice *>(item.expr), n, lo, count, step);
      offsets.push_back(lo);
      sizes.push_back(count);
      strides.push_back(step);
    } else {
      offsets.push_back(B.getIndexAttr(0));
      sizes.push_back(n);
      strides.push_back(B.getIndexAttr(1));
    }
    shape.push_back(mlir::ShapedType::kDynamic);
    isNew.push_back(false);
    ++d;
  }
  if (anyBad) {
    // Reached only where _stn_raise returned (inside a parallel region): an
    // empty view, so that nothing outside the array is touched.
    for (auto &sz : sizes)
      if (auto v = llvm::dyn_cast_if_present<Value>(sz))
        sz = Value(B.create<arith::SelectOp>(CurLoc, anyBad, constIndex(0), v));
  }
  auto srcT = llvm::cast<mlir::MemRefType>(mem.getType());
  auto vt = memref::SubViewOp::inferRankReducedResultType(shape, srcT, offsets, sizes, strides);
  Value view = B.create<memref::SubViewOp>(CurLoc, llvm::cast<mlir::MemRefType>(vt), mem, offsets,
                                           sizes, strides);
  mlir::MemRefType want = memrefType(Ctx, F.typeOf(s));
  if (std::find(isNew.begin(), isNew.end(), true) != isNew.end())
    return insertNewAxes(view, isNew, want);
  if (view.getType() != want)
    view = B.create<memref::CastOp>(CurLoc, want, view);
  return view;
}

/// `view` with an axis of length 1 inserted wherever `isNew` says (one
/// entry per dimension of the result, of type `want`). The new axes get
/// the strides a C-contiguous array would have there, so that a view that
/// was contiguous stays so.
Value FunctionGen::insertNewAxes(Value view, llvm::ArrayRef<bool> isNew, mlir::MemRefType want) {
  auto meta = B.create<memref::ExtractStridedMetadataOp>(CurLoc, view);
  SmallVector<Value> sizes, strides;
  unsigned from = 0;
  for (bool n : isNew) {
    sizes.push_back(n ? constIndex(1) : meta.getSizes()[from]);
    strides.push_back(n ? Value() : meta.getStrides()[from]);
    from += n ? 0 : 1;
  }
  for (size_t j = isNew.size(); j-- > 0;)
    if (!strides[j])
      strides[j] = j + 1 == isNew.size()
                       ? constIndex(1)
                       : B.create<arith::MulIOp>(CurLoc, strides[j + 1], sizes[j + 1]).getResult();
  SmallVector<mlir::OpFoldResult> sizeOfr(sizes.begin(), sizes.end()),
      strideOfr(strides.begin(), strides.end());
  // Static strides of the result type (the innermost one of a C array).
  SmallVector<int64_t> wantStrides = mlir::getStridesAndOffset(want).first;
  for (size_t j = 0; j < strideOfr.size(); ++j)
    if (!mlir::ShapedType::isDynamic(wantStrides[j]))
      strideOfr[j] = B.getIndexAttr(wantStrides[j]);
  return B.create<memref::ReinterpretCastOp>(CurLoc, want, meta.getBaseBuffer(),
                                             mlir::OpFoldResult(meta.getOffset()), sizeOfr,
                                             strideOfr);
}

Value FunctionGen::reshapeView(Value src, const Type &st, SmallVector<Value> extents,
                               const Type &rt) {
  auto i64 = ScalarKind::I64;
  auto cmp = [&](arith::CmpIPredicate p, Value a, Value b) {
    return B.create<arith::CmpIOp>(CurLoc, p, a, b).getResult();
  };
  auto mul = [&](Value a, Value b) { return B.create<arith::MulIOp>(CurLoc, a, b).getResult(); };
  auto select = [&](Value c, Value a, Value b) {
    return B.create<arith::SelectOp>(CurLoc, c, a, b).getResult();
  };
  const unsigned r = st.rank();
  Value n = elementCount(src, r);
  Value n64 = B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), n);
  // The product of the extents given, how many are -1, and any below -1.
  Value one = constInt(1, i64), minusOne = constInt(-1, i64), zero = constInt(0, i64);
  Value known = one, unknown = zero, negative = constBool(false);
  for (Value e : extents) {
    Value isUnknown = cmp(arith::CmpIPredicate::eq, e, minusOne);
    known = mul(known, select(isUnknown, one, e));
    unknown = B.create<arith::AddIOp>(CurLoc, unknown,
                                      B.create<arith::ExtUIOp>(CurLoc, B.getI64Type(), isUnknown));
    negative = B.create<arith::OrIOp>(CurLoc, negative,
                                      cmp(arith::CmpIPredicate::slt, e, minusOne));
  }
  Value knownIsZero = cmp(arith::CmpIPredicate::eq, known, zero);
  Value divisor = select(knownIsZero, one, known);
  Value inferred = B.create<arith::DivSIOp>(CurLoc, n64, divisor);
  Value fits = select(cmp(arith::CmpIPredicate::eq, unknown, zero),
                      cmp(arith::CmpIPredicate::eq, known, n64),
                      B.create<arith::AndIOp>(
                          CurLoc, logicalNot(knownIsZero),
                          cmp(arith::CmpIPredicate::eq,
                              B.create<arith::RemSIOp>(CurLoc, n64, divisor), zero)));
  Value several = cmp(arith::CmpIPredicate::sgt, unknown, one);
  raiseIf(several, KernelFaultKind::Raise, "ValueError: can only specify one unknown dimension",
          {});
  Value bad = B.create<arith::OrIOp>(
      CurLoc, several, B.create<arith::OrIOp>(CurLoc, negative, logicalNot(fits)));
  std::string shapeText = "(";
  for (size_t i = 0; i < extents.size(); ++i)
    shapeText += fmt::format("{}{}i", i ? ", " : "", kRaisedValue);
  shapeText += extents.size() == 1 ? ",)" : ")";
  SmallVector<Value> values = {n64};
  values.append(extents.begin(), extents.end());
  raiseIf(B.create<arith::AndIOp>(CurLoc, logicalNot(several), bad), KernelFaultKind::Raise,
          fmt::format("ValueError: cannot reshape array of size {}i into shape {}", kRaisedValue,
                      shapeText),
          values);
  Value contiguous = evenlySpaced(src, r, n);
  Value data = src;
  if (MG.Gpu) {
    // GPU threads cannot copy into a new array.
    raiseIf(logicalNot(contiguous), KernelFaultKind::Raise,
            "ValueError: reshape in GPU code needs an array whose elements are evenly spaced "
            "in C order (a copy would be a new array)",
            {});
    bad = B.create<arith::OrIOp>(CurLoc, bad, logicalNot(contiguous));
  } else {
    data = cOrderData(src, st, contiguous);
  }
  // The new shape (empty where it was wrong).
  SmallVector<Value> sizes;
  for (Value e : extents) {
    e = select(cmp(arith::CmpIPredicate::eq, e, minusOne), inferred, e);
    e = select(bad, zero, e);
    sizes.push_back(B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), e));
  }
  return withCShape(data, sizes, rt);
}

Value FunctionGen::elementCount(Value mem, unsigned r) {
  Value n = constIndex(1);
  for (unsigned d = 0; d < r; ++d)
    n = B.create<arith::MulIOp>(CurLoc, n, B.create<memref::DimOp>(CurLoc, mem, d));
  return n;
}

Value FunctionGen::evenlySpaced(Value src, unsigned r, Value n) {
  auto eq = [&](Value a, Value b) {
    return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, a, b).getResult();
  };
  auto meta = B.create<memref::ExtractStridedMetadataOp>(CurLoc, src);
  Value dense = constBool(true), expected = constIndex(1);
  for (unsigned d = r; d-- > 0;) {
    Value size = meta.getSizes()[d], stride = meta.getStrides()[d];
    Value ok = B.create<arith::OrIOp>(CurLoc, eq(size, constIndex(1)), eq(stride, expected));
    dense = B.create<arith::AndIOp>(CurLoc, dense, ok);
    expected = B.create<arith::MulIOp>(CurLoc, expected, size);
  }
  return B.create<arith::OrIOp>(CurLoc, eq(n, constIndex(0)), dense);
}

Value FunctionGen::cOrderData(Value src, const Type &st, Value evenly) {
  mlir::MemRefType anyM =
      memrefType(Ctx, Type::array(st.scalarKind(), st.rank(), Type::Layout::Any));
  return emitIf(
      evenly, {anyM},
      [&]() -> SmallVector<Value> { return {B.create<memref::CastOp>(CurLoc, anyM, src)}; },
      [&]() -> SmallVector<Value> {
        Value copy = materialize(leaf(src, st));
        return {B.create<memref::CastOp>(CurLoc, anyM, copy)};
      })[0];
}

Value FunctionGen::withCShape(Value data, llvm::ArrayRef<Value> sizes, const Type &rt) {
  SmallVector<Value> strides(sizes.size());
  for (size_t i = sizes.size(); i-- > 0;)
    strides[i] = i + 1 == sizes.size()
                     ? constIndex(1)
                     : B.create<arith::MulIOp>(CurLoc, strides[i + 1], sizes[i + 1]).getResult();
  auto meta = B.create<memref::ExtractStridedMetadataOp>(CurLoc, data);
  SmallVector<mlir::OpFoldResult> sizeOfr(sizes.begin(), sizes.end()),
      strideOfr(strides.begin(), strides.end());
  strideOfr.back() = B.getIndexAttr(1);
  return B.create<memref::ReinterpretCastOp>(CurLoc, memrefType(Ctx, rt), meta.getBaseBuffer(),
                                             mlir::OpFoldResult(meta.getOffset()), sizeOfr,
                                             strideOfr);
}

Value FunctionGen::flatView(Value src, const Type &st) {
  Type flat = Type::array(st.scalarKind(), 1, Type::Layout::C);
  mlir::MemRefType flatM = memrefType(Ctx, flat);
  if (st.rank() == 1 && st.layout() == Type::Layout::C)
    return src.getType() == flatM ? src : B.create<memref::CastOp>(CurLoc, flatM, src);
  Value n = elementCount(src, st.rank());
  return withCShape(cOrderData(src, st, evenlySpaced(src, st.rank(), n)), {n}, flat);
}

Value FunctionGen::cumulative(const CallInfo &info, CGValue src, const Type &rt) {
  Value mem = src.single();
  Type st = src.type;
  ScalarKind sk = st.scalarKind(), rk = rt.scalarKind();
  unsigned ax = 0;
  if (info.axis < 0) {
    mem = flatView(mem, st);
    st = Type::array(sk, 1, Type::Layout::C);
  } else {
    ax = static_cast<unsigned>(info.axis);
  }
  SmallVector<Value> shape, outer;
  for (unsigned d = 0; d < st.rank(); ++d) {
    shape.push_back(B.create<memref::DimOp>(CurLoc, mem, d));
    outer.push_back(d == ax ? constIndex(1) : shape.back());
  }
  Value out = MG.allocArray(B, CurLoc, rt, shape);
  ReduceOp op = info.builtin == Builtin::CumSum ? ReduceOp::Add : ReduceOp::Mul;
  // Each lane along the axis in order, a running total carried by the loop.
  forEach(outer, [&](mlir::ValueRange ivs) {
    auto lane = B.create<scf::ForOp>(CurLoc, constIndex(0), shape[ax], constIndex(1),
                                     mlir::ValueRange{reduceIdentity(op, rk)});
    OpBuilder::InsertionGuard g(B);
    B.setInsertionPointToStart(lane.getBody());
    SmallVector<Value> idx(ivs.begin(), ivs.end());
    idx[ax] = lane.getInductionVar();
    Value x = castScalar(loadElement(mem, idx, sk), sk, rk);
    Value total = reduceCombine(op, lane.getRegionIterArgs()[0], x, rk);
    storeElement(total, out, idx, rk);
    B.create<scf::YieldOp>(CurLoc, total);
  });
  return out;
}

void FunctionGen::raiseJoinMismatch(Value differs, bool newAxis, unsigned d, unsigned ax,
                                    Value first, Value index, Value extent) {
  raiseIf(differs, KernelFaultKind::Raise,
          newAxis ? fmt::format("ValueError: all input arrays must have the same shape, but "
                                "along dimension {} the array at index 0 has size {}i and the "
                                "array at index {}i has size {}i",
                                d < ax ? d : d - 1, kRaisedValue, kRaisedValue, kRaisedValue)
                  : fmt::format("ValueError: all the input array dimensions except for the "
                                "concatenation axis must match exactly, but along dimension "
                                "{}, the array at index 0 has size {}i and the array at index "
                                "{}i has size {}i",
                                d, kRaisedValue, kRaisedValue, kRaisedValue),
          {first, index, extent});
}

Value FunctionGen::joinedList(const CallInfo *info, const CGValue &list, const Type &rt) {
  ScalarKind rk = rt.scalarKind();
  const unsigned R = rt.rank();
  const Type item = list.type.listItem();
  const ScalarKind k = item.scalarKind();
  const bool flat = info && info->axis < 0;
  const bool newAxis = !info || info->newAxis;
  const unsigned ax = flat ? 0 : info ? static_cast<unsigned>(info->axis) : 0;
  SmallVector<Value> data = listData(list);
  Value n = toIndex(list.leaves.back(), ScalarKind::I64);
  Value none = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, n, constIndex(0));
  if (info)
    raiseIf(none, KernelFaultKind::Raise,
            info->builtin == Builtin::Stack ? "ValueError: need at least one array to stack"
                                            : "ValueError: need at least one array to "
                                              "concatenate",
            {});
  // Item i as an array of rank R: flattened, with the new axis, or as it is.
  auto part = [&](Value i) {
    Value m = loadItem(data, i, item).single();
    if (flat)
      return flatView(m, item);
    if (newAxis) {
      SmallVector<bool> isNew(R, false);
      isNew[ax] = true;
      return insertNewAxes(m, isNew, memrefType(Ctx, Type::array(k, R, Type::Layout::Any)));
    }
    return m;
  };
  auto dim = [&](Value m, unsigned d) { return B.create<memref::DimOp>(CurLoc, m, d).getResult(); };
  // The first item's extents (none: 0), then the others' checked against
  // them and summed along the axis.
  auto first = B.create<scf::IfOp>(CurLoc, SmallVector<mlir::Type>(R, B.getIndexType()), none,
                                   /*withElse=*/true);
  {
    OpBuilder::InsertionGuard g(B);
    B.setInsertionPointToStart(first.thenBlock());
    B.create<scf::YieldOp>(CurLoc, SmallVector<Value>(R, constIndex(0)));
    B.setInsertionPointToStart(first.elseBlock());
    Value m = part(constIndex(0));
    SmallVector<Value> ext;
    for (unsigned d = 0; d < R; ++d)
      ext.push_back(dim(m, d));
    B.create<scf::YieldOp>(CurLoc, ext);
  }
  SmallVector<Value> shape(first.getResults().begin(), first.getResults().end());
  SmallVector<Value> sum = carryLoop(
      constIndex(0), n, {constIndex(0), constBool(false)}, [&](Value i, SmallVector<Value> acc) {
    Value m = part(i);
    Value bad = acc[1];
    for (unsigned d = 0; d < R; ++d) {
      if (d == ax)
        continue;
      Value other = dim(m, d);
      Value differs = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, other, shape[d]);
      raiseJoinMismatch(differs, newAxis, d, ax, shape[d], i, other);
      bad = B.create<arith::OrIOp>(CurLoc, bad, differs);
    }
    Value total = B.create<arith::AddIOp>(CurLoc, acc[0], dim(m, ax));
    return SmallVector<Value>{total, bad};
  });
  Value bad = sum[1];
  // (Where an error returns, in a parallel region: an empty result.)
  shape[ax] = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), sum[0]);
  Value out = MG.allocArray(B, CurLoc, rt, shape);
  Value rows = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), n);
  carryLoop(constIndex(0), rows, {constIndex(0)}, [&](Value i, SmallVector<Value> acc) {
    Value m = part(i);
    Value offset = acc[0];
    SmallVector<Value> partShape;
    for (unsigned d = 0; d < R; ++d)
      partShape.push_back(dim(m, d));
    forEach(partShape, [&](mlir::ValueRange ivs) {
      SmallVector<Value> from(ivs.begin(), ivs.end()), to = from;
      to[ax] = B.create<arith::AddIOp>(CurLoc, from[ax], offset);
      storeElement(castScalar(loadElement(m, from, k), k, rk), out, to, rk);
    });
    return SmallVector<Value>{B.create<arith::AddIOp>(CurLoc, offset, partShape[ax])};
  });
  return out;
}

Value FunctionGen::joined(const CallInfo &info, const CGValue &parts, const Type &rt) {
  if (parts.type.isArrayList())
    return joinedList(&info, parts, rt);
  ScalarKind rk = rt.scalarKind();
  const unsigned R = rt.rank();
  // Each part as an array of rank R: flattened (axis=None), with the new
  // axis (stack), or as it is.
  SmallVector<Value> mems;
  SmallVector<ScalarKind> kinds;
  const auto &types = parts.type.elements();
  for (size_t i = 0; i < types.size(); ++i) {
    Value m = parts.leaves[i];
    Type t = types[i];
    if (info.axis < 0) {
      m = flatView(m, t);
    } else if (info.newAxis) {
      SmallVector<bool> isNew(R, false);
      isNew[info.axis] = true;
      m = insertNewAxes(m, isNew, memrefType(Ctx, Type::array(t.scalarKind(), R,
                                                               Type::Layout::Any)));
    }
    mems.push_back(m);
    kinds.push_back(t.scalarKind());
  }
  const unsigned ax = info.axis < 0 ? 0 : static_cast<unsigned>(info.axis);
  // The other extents must agree with the first array's.
  auto dim = [&](Value m, unsigned d) { return B.create<memref::DimOp>(CurLoc, m, d).getResult(); };
  SmallVector<Value> shape;
  for (unsigned d = 0; d < R; ++d)
    shape.push_back(dim(mems[0], d));
  Value total = shape[ax];
  Value bad = constBool(false);
  for (size_t i = 1; i < mems.size(); ++i) {
    for (unsigned d = 0; d < R; ++d) {
      if (d == ax)
        continue;
      Value other = dim(mems[i], d);
      Value differs = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, other, shape[d]);
      raiseJoinMismatch(differs, info.newAxis, d, ax, shape[d],
                        constIndex(static_cast<int64_t>(i)), other);
      bad = B.create<arith::OrIOp>(CurLoc, bad, differs);
    }
    total = B.create<arith::AddIOp>(CurLoc, total, dim(mems[i], ax));
  }
  // (Where an error returns, in a parallel region: an empty result.)
  shape[ax] = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), total);
  Value out = MG.allocArray(B, CurLoc, rt, shape);
  Value offset = constIndex(0);
  for (size_t i = 0; i < mems.size(); ++i) {
    SmallVector<Value> partShape;
    for (unsigned d = 0; d < R; ++d)
      partShape.push_back(d == ax ? dim(mems[i], d)
                                  : B.create<arith::SelectOp>(CurLoc, bad, constIndex(0),
                                                              dim(mems[i], d)).getResult());
    forEach(partShape, [&](mlir::ValueRange ivs) {
      SmallVector<Value> from(ivs.begin(), ivs.end()), to = from;
      to[ax] = B.create<arith::AddIOp>(CurLoc, from[ax], offset);
      storeElement(castScalar(loadElement(mems[i], from, kinds[i]), kinds[i], rk), out, to, rk);
    });
    offset = B.create<arith::AddIOp>(CurLoc, offset, partShape[ax]);
  }
  return out;
}

CGValue FunctionGen::quantiles(const CallInfo &info, CGValue src, const Type &rt) {
  ScalarKind sk = src.type.scalarKind(), rk = rt.scalarKind();
  auto f64 = ScalarKind::F64;
  // q as a fraction in [0, 1] (checked); the median is q = 1/2. Several q
  // (CallInfo::flags 1): an array's elements or a tuple's, each checked
  // where it is used.
  bool several = info.flags & 1;
  CGValue qv;
  if (info.builtin != Builtin::Median)
    qv = expr(*info.operands[1]);
  auto fraction = [&](Value q) {
    bool pct = info.builtin == Builtin::Percentile;
    Value outside = B.create<arith::OrIOp>(
        CurLoc,
        B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::ULT, q, constFloat(0.0, f64)),
        B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UGT, q,
                                constFloat(pct ? 100.0 : 1.0, f64)));
    raiseIf(outside, KernelFaultKind::Raise,
            pct ? "ValueError: Percentiles must be in the range [0, 100]"
                : "ValueError: Quantiles must be in the range [0, 1]",
            {});
    q = B.create<arith::SelectOp>(CurLoc, outside, constFloat(0.0, f64), q);
    if (pct)
      q = B.create<arith::DivFOp>(CurLoc, q, constFloat(100.0, f64));
    return q;
  };
  Value q = constFloat(0.5, f64);
  if (info.builtin != Builtin::Median && !several)
    q = fraction(castScalar(qv.single(), qv.type.scalarKind(), f64));
  // The number of q, and the i-th as a fraction.
  Value nq = constIndex(1);
  std::function<Value(Value)> qAt = [&](Value) { return q; };
  if (several && qv.type.isArray()) {
    nq = B.create<memref::DimOp>(CurLoc, qv.single(), 0);
    ScalarKind qk = qv.type.scalarKind();
    qAt = [&, qk](Value i) {
      return fraction(castScalar(loadElement(qv.single(), {i}, qk), qk, f64));
    };
  } else if (several) { // a tuple of numbers
    nq = constIndex(static_cast<int64_t>(qv.leaves.size()));
    qAt = [&](Value i) {
      Value v = constFloat(0.0, f64);
      for (size_t j = qv.leaves.size(); j-- > 0;) {
        Value is = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, i,
                                           constIndex(static_cast<int64_t>(j)));
        Value x = castScalar(qv.leaves[j], qv.type.elements()[j].scalarKind(), f64);
        v = B.create<arith::SelectOp>(CurLoc, is, x, v);
      }
      return fraction(v);
    };
  }
  // The sorted elements (NaN last) along the axis, or all of them.
  CallInfo sortInfo = info;
  sortInfo.builtin = Builtin::Sort;
  unsigned srank = info.axis < 0 ? 1 : src.type.rank();
  Value sortedMem = sorted(sortInfo, src, Type::array(sk, srank, Type::Layout::C));
  unsigned ax = info.axis < 0 ? 0 : static_cast<unsigned>(info.axis);
  Value nAll = B.create<memref::DimOp>(CurLoc, sortedMem, ax);
  bool median = info.builtin == Builtin::Median;
  // One lane: NaN if it is empty or holds a NaN, else the value at
  // q * (n - 1), interpolated as NumPy does.
  auto laneValue = [&](SmallVector<Value> idx, Value q) -> Value {
    Value n = nAll;
    if (info.skipNan && isFloat(sk)) {
      // np.nanmedian and the like: the elements before the first NaN.
      auto count = B.create<scf::ForOp>(CurLoc, constIndex(0), nAll, constIndex(1),
                                        mlir::ValueRange{constIndex(0)});
      {
        OpBuilder::InsertionGuard g(B);
        B.setInsertionPointToStart(count.getBody());
        SmallVector<Value> at = idx;
        at[ax] = count.getInductionVar();
        Value x = loadElement(sortedMem, at, sk);
        Value isNum = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::ORD, x, x);
        Value k = count.getRegionIterArgs()[0];
        B.create<scf::YieldOp>(
            CurLoc, mlir::ValueRange{B.create<arith::SelectOp>(
                        CurLoc, isNum, B.create<arith::AddIOp>(CurLoc, k, constIndex(1)), k)});
      }
      n = count.getResult(0);
    }
    Value empty = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, n, constIndex(0));
    mlir::Type rT = scalarType(Ctx, rk);
    return emitIf(
        empty, {rT}, [&]() -> SmallVector<Value> { return {constFloat(NAN, rk)}; },
        [&]() -> SmallVector<Value> {
          Value last = B.create<arith::SubIOp>(CurLoc, n, constIndex(1));
          Value pos = B.create<arith::MulFOp>(
              CurLoc, q, castScalar(B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), last),
                                    ScalarKind::I64, f64));
          Value fl = B.create<math::FloorOp>(CurLoc, pos);
          Value t = castScalar(B.create<arith::SubFOp>(CurLoc, pos, fl), f64, rk);
          Value lo = B.create<arith::IndexCastOp>(
              CurLoc, B.getIndexType(), castScalar(fl, f64, ScalarKind::I64));
          Value hi = B.create<arith::MinSIOp>(
              CurLoc, B.create<arith::AddIOp>(CurLoc, lo, constIndex(1)), last);
          auto at = [&](Value i) {
            idx[ax] = i;
            return castScalar(loadElement(sortedMem, idx, sk), sk, rk);
          };
          Value a = at(lo), b = at(hi), top = at(last);
          Value diff = B.create<arith::SubFOp>(CurLoc, b, a);
          Value v;
          if (median) {
            // The middle element, or the mean of the middle two.
            Value mean = B.create<arith::DivFOp>(CurLoc, B.create<arith::AddFOp>(CurLoc, a, b),
                                                 constFloat(2.0, rk));
            Value whole =
                B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, t, constFloat(0.0, rk));
            v = B.create<arith::SelectOp>(CurLoc, whole, a, mean);
          } else {
            // a + (b - a) t below the middle, b - (b - a)(1 - t) above.
            Value up = B.create<arith::SubFOp>(
                CurLoc, b,
                B.create<arith::MulFOp>(
                    CurLoc, diff, B.create<arith::SubFOp>(CurLoc, constFloat(1.0, rk), t)));
            Value down = B.create<arith::AddFOp>(CurLoc, a,
                                                 B.create<arith::MulFOp>(CurLoc, diff, t));
            Value high =
                B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OGE, t, constFloat(0.5, rk));
            v = B.create<arith::SelectOp>(CurLoc, high, up, down);
          }
          Value nan = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, top, top);
          return {B.create<arith::SelectOp>(CurLoc, nan, top, v)};
        })[0];
  };
  CGValue r;
  r.type = rt;
  if (!rt.isArray()) {
    r.leaves.push_back(laneValue({constIndex(0)}, q));
  } else {
    // The result's axes: the q first (several), then the lanes' (axis=k).
    SmallVector<Value> shape;
    if (several)
      shape.push_back(nq);
    for (unsigned d = 0; d < src.type.rank() && info.axis >= 0; ++d)
      if (d != ax)
        shape.push_back(B.create<memref::DimOp>(CurLoc, sortedMem, d));
    Value out = MG.allocArray(B, CurLoc, rt, shape);
    forEach(shape, [&](mlir::ValueRange ivs) {
      SmallVector<Value> idx;
      size_t j = several ? 1 : 0;
      if (info.axis < 0)
        idx.push_back(constIndex(0));
      else
        for (unsigned d = 0; d < src.type.rank(); ++d)
          idx.push_back(d == ax ? constIndex(0) : ivs[j++]);
      Value qi = several ? qAt(ivs[0]) : q;
      storeElement(laneValue(idx, qi), out, SmallVector<Value>(ivs.begin(), ivs.end()), rk);
    });
    r.leaves.push_back(out);
  }
  B.create<memref::DeallocOp>(CurLoc, sortedMem);
  return r;
}

Value FunctionGen::closeness(const CallInfo &info, const Type &rt) {
  const auto &ops = info.operands;
  ScalarKind pk = info.operandKind;
  auto param = [&](size_t i, double otherwise) {
    if (!ops[i])
      return constFloat(otherwise, pk);
    CGValue v = expr(*ops[i]);
    return castScalar(v.single(), v.type.scalarKind(), pk);
  };
  Value rtol = param(2, 1e-05), atol = param(3, 1e-08);
  Value equalNan = constBool(false);
  if (ops[4])
    equalNan = expr(*ops[4]).single();
  // |a - b| <= atol + rtol * |b| where both are finite, else a == b (equal
  // infinities); NaNs are close to each other only with equal_nan.
  auto close = [this, pk, rtol, atol, equalNan](Value x, ScalarKind xk, Value y, ScalarKind yk) {
    x = castScalar(x, xk, pk);
    y = castScalar(y, yk, pk);
    auto absf = [&](Value v) { return B.create<math::AbsFOp>(CurLoc, v).getResult(); };
    auto cmp = [&](arith::CmpFPredicate p, Value a, Value b) {
      return B.create<arith::CmpFOp>(CurLoc, p, a, b).getResult();
    };
    Value inf = constFloat(INFINITY, pk);
    Value finite = B.create<arith::AndIOp>(CurLoc, cmp(arith::CmpFPredicate::OLT, absf(x), inf),
                                           cmp(arith::CmpFPredicate::OLT, absf(y), inf));
    Value diff = absf(B.create<arith::SubFOp>(CurLoc, x, y));
    Value tol =
        B.create<arith::AddFOp>(CurLoc, atol, B.create<arith::MulFOp>(CurLoc, rtol, absf(y)));
    Value near = B.create<arith::SelectOp>(CurLoc, finite,
                                           cmp(arith::CmpFPredicate::OLE, diff, tol),
                                           cmp(arith::CmpFPredicate::OEQ, x, y));
    Value bothNan = B.create<arith::AndIOp>(CurLoc, cmp(arith::CmpFPredicate::UNO, x, x),
                                            cmp(arith::CmpFPredicate::UNO, y, y));
    return B.create<arith::OrIOp>(CurLoc, near,
                                  B.create<arith::AndIOp>(CurLoc, bothNan, equalNan))
        .getResult();
  };
  const Type &at = F.typeOf(*ops[0]), &bt = F.typeOf(*ops[1]);
  if (!at.isArray() && !bt.isArray()) {
    CGValue a = expr(*ops[0]), b = expr(*ops[1]);
    return close(a.single(), at.scalarKind(), b.single(), bt.scalarKind());
  }
  unsigned rank = std::max(at.isArray() ? at.rank() : 0u, bt.isArray() ? bt.rank() : 0u);
  ScalarKind ak = at.scalarKind(), bk = bt.scalarKind();
  LazyArray both = elementwise(Type::array(ScalarKind::Bool, rank, Type::Layout::C),
                               {lazy(*ops[0]), lazy(*ops[1])},
                               [close, ak, bk](const SmallVector<Value> &v) {
                                 return close(v[0], ak, v[1], bk);
                               });
  if (rt.isArray())
    return materialize(both);
  return reduce(both, Builtin::All, ScalarKind::Bool);
}

Value FunctionGen::sortsBefore(Value x, Value y, ScalarKind k) {
  if (!isFloat(k))
    return compare1(ast::CmpOpKind::Lt, x, k, y, k);
  Value lt = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OLT, x, y);
  Value yNan = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, y, y);
  Value xNum = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::ORD, x, x);
  return B.create<arith::OrIOp>(CurLoc, lt, B.create<arith::AndIOp>(CurLoc, yNan, xNum));
}

Value FunctionGen::searchSorted(Value mem, ScalarKind mk, Value n, Value v, ScalarKind vk,
                                bool right, Value sideAtRunTime) {
  ScalarKind ck = promote(mk, vk);
  Value key = castScalar(v, vk, ck);
  mlir::Type indexT = B.getIndexType();
  auto loop = B.create<scf::WhileOp>(CurLoc, mlir::TypeRange{indexT, indexT},
                                     mlir::ValueRange{constIndex(0), n});
  {
    OpBuilder::InsertionGuard g(B);
    Block *before = B.createBlock(&loop.getBefore(), {}, {indexT, indexT}, {CurLoc, CurLoc});
    Value lo = before->getArgument(0), hi = before->getArgument(1);
    B.create<scf::ConditionOp>(
        CurLoc, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult, lo, hi),
        mlir::ValueRange{lo, hi});
    Block *after = B.createBlock(&loop.getAfter(), {}, {indexT, indexT}, {CurLoc, CurLoc});
    lo = after->getArgument(0);
    hi = after->getArgument(1);
    Value mid = B.create<arith::DivUIOp>(CurLoc, B.create<arith::AddIOp>(CurLoc, lo, hi),
                                         constIndex(2));
    Value x = castScalar(loadElement(mem, {mid}, mk), mk, ck);
    // left: go right while mem[mid] < v; right: while not v < mem[mid].
    Value goRight =
        sideAtRunTime
            ? B.create<arith::SelectOp>(CurLoc, sideAtRunTime, logicalNot(sortsBefore(key, x, ck)),
                                        sortsBefore(x, key, ck))
        : right ? logicalNot(sortsBefore(key, x, ck))
                : sortsBefore(x, key, ck);
    Value next = B.create<arith::AddIOp>(CurLoc, mid, constIndex(1));
    B.create<scf::YieldOp>(CurLoc,
                           mlir::ValueRange{B.create<arith::SelectOp>(CurLoc, goRight, next, lo),
                                            B.create<arith::SelectOp>(CurLoc, goRight, hi, mid)});
  }
  return loop.getResult(0);
}

Value FunctionGen::diagonalOffset(const ast::Expr *offset) {
  if (!offset)
    return constIndex(0);
  CGValue v = expr(*offset);
  return toIndex(castScalar(v.single(), v.type.scalarKind(), ScalarKind::I64), ScalarKind::I64);
}

FunctionGen::LazyArray FunctionGen::diagonal(Value mem, ScalarKind k, const ast::Expr *offset) {
  Value kk = diagonalOffset(offset), zero = constIndex(0);
  Value rows = B.create<memref::DimOp>(CurLoc, mem, 0);
  Value cols = B.create<memref::DimOp>(CurLoc, mem, 1);
  // Rows i0 = max(0, -k) on, columns j0 = max(0, k) on.
  Value i0 = B.create<arith::MaxSIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, zero, kk), zero);
  Value j0 = B.create<arith::MaxSIOp>(CurLoc, kk, zero);
  Value len = B.create<arith::MaxSIOp>(
      CurLoc,
      B.create<arith::MinSIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, rows, i0),
                               B.create<arith::SubIOp>(CurLoc, cols, j0)),
      zero);
  LazyArray diag;
  diag.type = Type::array(k, 1, Type::Layout::C);
  diag.shape = {len};
  diag.prepare = [](mlir::ValueRange) {};
  diag.element = [this, mem, i0, j0, k](mlir::ValueRange iv) {
    Value i = B.create<arith::AddIOp>(CurLoc, i0, iv[0]);
    Value j = B.create<arith::AddIOp>(CurLoc, j0, iv[0]);
    return loadElement(mem, {i, j}, k);
  };
  return diag;
}

Value FunctionGen::productOf(Value x, Value y, ScalarKind k) {
  return isBool(k) ? B.create<arith::AndIOp>(CurLoc, x, y).getResult()
                   : arith2(ast::BinOpKind::Mul, x, y, k, CurLoc);
}

Value FunctionGen::innerProduct(LazyArray x, LazyArray y, ScalarKind ok, bool conjugateX) {
  ScalarKind xk = x.type.scalarKind(), yk = y.type.scalarKind();
  LazyArray prod = elementwise(Type::array(ok, 1, Type::Layout::C), {std::move(x), std::move(y)},
                               [this, xk, yk, ok, conjugateX](const SmallVector<Value> &v) {
                                 Value a = castScalar(v[0], xk, ok);
                                 if (conjugateX && isComplex(ok))
                                   a = B.create<complex::ConjOp>(CurLoc, a);
                                 return productOf(a, castScalar(v[1], yk, ok), ok);
                               });
  return reduce(prod, isBool(ok) ? Builtin::Any : Builtin::Sum, ok);
}

Value FunctionGen::flippedView(Value src, llvm::ArrayRef<unsigned> axes, const Type &rt) {
  // Each reversed axis starts at its last element and steps backwards.
  auto meta = B.create<memref::ExtractStridedMetadataOp>(CurLoc, src);
  Value offset = meta.getOffset();
  SmallVector<mlir::OpFoldResult> sizes, strides;
  for (unsigned d = 0; d < rt.rank(); ++d) {
    Value size = meta.getSizes()[d], stride = meta.getStrides()[d];
    sizes.push_back(size);
    if (!llvm::is_contained(axes, d)) {
      strides.push_back(stride);
      continue;
    }
    Value last = B.create<arith::MaxSIOp>(
        CurLoc, B.create<arith::SubIOp>(CurLoc, size, constIndex(1)), constIndex(0));
    offset =
        B.create<arith::AddIOp>(CurLoc, offset, B.create<arith::MulIOp>(CurLoc, last, stride));
    strides.push_back(B.create<arith::SubIOp>(CurLoc, constIndex(0), stride).getResult());
  }
  return B.create<memref::ReinterpretCastOp>(CurLoc, memrefType(Ctx, rt), meta.getBaseBuffer(),
                                             mlir::OpFoldResult(offset), sizes, strides);
}

CGValue FunctionGen::asArray(const CGValue &v) {
  if (v.type.isArray())
    return v;
  ScalarKind k = v.type.scalarKind();
  CGValue a;
  a.type = Type::array(k, 1, Type::Layout::C);
  Value mem = MG.allocArray(B, CurLoc, a.type, {constIndex(1)});
  storeElement(v.single(), mem, {constIndex(0)}, k);
  a.leaves.push_back(mem);
  return a;
}

CGValue FunctionGen::rearrangedCall(const CallInfo &info, const Type &rt) {
  const auto &ops = info.operands;
  CGValue r;
  r.type = rt;
  const ScalarKind rk = rt.scalarKind(), i64 = ScalarKind::I64;
  auto dim = [&](Value m, unsigned d) { return B.create<memref::DimOp>(CurLoc, m, d).getResult(); };
  auto dims = [&](Value m, unsigned rank) {
    SmallVector<Value> s;
    for (unsigned d = 0; d < rank; ++d)
      s.push_back(dim(m, d));
    return s;
  };
  auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) {
    return B.create<arith::CmpIOp>(CurLoc, p, x, y).getResult();
  };
  auto add = [&](Value x, Value y) { return B.create<arith::AddIOp>(CurLoc, x, y).getResult(); };
  auto sub = [&](Value x, Value y) { return B.create<arith::SubIOp>(CurLoc, x, y).getResult(); };
  auto mul = [&](Value x, Value y) { return B.create<arith::MulIOp>(CurLoc, x, y).getResult(); };
  auto select = [&](Value c, Value x, Value y) {
    return B.create<arith::SelectOp>(CurLoc, c, x, y).getResult();
  };
  // An optional bool operand (false where not given).
  auto flag = [&](size_t i) {
    if (i >= ops.size() || !ops[i])
      return constBool(false);
    return expr(*ops[i]).single();
  };
  const char *negativeRepeats = "ValueError: repeats may not contain negative values.";
  switch (info.builtin) {
  case Builtin::Repeat: {
    CGValue src = asArray(expr(*ops[0]));
    Value mem = src.single();
    unsigned ax = 0;
    if (info.axis < 0)
      mem = flatView(mem, src.type);
    else
      ax = static_cast<unsigned>(info.axis);
    const unsigned R = rt.rank();
    SmallVector<Value> shape = dims(mem, R);
    Value n = shape[ax];
    // The count of element i along the axis: one number, or repeats[i]
    // (a length-1 array broadcasts).
    CGValue rep = expr(*ops[1]);
    ScalarKind ck = rep.type.scalarKind();
    Value counts = rep.type.isArray() ? rep.single() : Value();
    Value total;
    std::function<Value(Value)> countAt;
    if (!counts) {
      Value c = castScalar(rep.single(), ck, i64);
      Value neg = cmp(arith::CmpIPredicate::slt, c, constInt(0, i64));
      raiseIf(neg, KernelFaultKind::Raise, negativeRepeats, {});
      Value ci = toIndex(select(neg, constInt(0, i64), c), i64);
      countAt = [ci](Value) { return ci; };
      total = mul(n, ci);
    } else {
      Value m = dim(counts, 0);
      Value one = cmp(arith::CmpIPredicate::eq, m, constIndex(1));
      Value bad = B.create<arith::AndIOp>(CurLoc, logicalNot(one),
                                          cmp(arith::CmpIPredicate::ne, m, n));
      raiseIf(bad, KernelFaultKind::Raise,
              fmt::format("ValueError: operands could not be broadcast together with shape "
                          "({}i,) ({}i,)",
                          kRaisedValue, kRaisedValue),
              {n, m});
      countAt = [this, counts, ck, one, i64, select](Value i) {
        Value at = select(one, constIndex(0), i);
        Value c = castScalar(loadElement(counts, {at}, ck), ck, i64);
        c = B.create<arith::MaxSIOp>(CurLoc, c, constInt(0, i64));
        return toIndex(c, i64);
      };
      // The total (and whether a count is negative) before the copy.
      Value sum = entryAlloca(B.getIndexType()), negative = entryAlloca(B.getI1Type());
      B.create<memref::StoreOp>(CurLoc, constIndex(0), sum);
      B.create<memref::StoreOp>(CurLoc, constBool(false), negative);
      Value len = select(bad, constIndex(0), n);
      forEach({len}, [&](mlir::ValueRange i) {
        Value at = select(one, constIndex(0), i[0]);
        Value c = castScalar(loadElement(counts, {at}, ck), ck, i64);
        B.create<memref::StoreOp>(
            CurLoc,
            B.create<arith::OrIOp>(CurLoc, B.create<memref::LoadOp>(CurLoc, negative),
                                   cmp(arith::CmpIPredicate::slt, c, constInt(0, i64))),
            negative);
        B.create<memref::StoreOp>(CurLoc, add(B.create<memref::LoadOp>(CurLoc, sum), countAt(i[0])),
                                  sum);
      });
      Value neg = B.create<memref::LoadOp>(CurLoc, negative);
      raiseIf(neg, KernelFaultKind::Raise, negativeRepeats, {});
      n = len;
      total = B.create<memref::LoadOp>(CurLoc, sum);
    }
    SmallVector<Value> outShape = shape, inner = shape;
    outShape[ax] = total;
    inner[ax] = constIndex(1);
    Value out = MG.allocArray(B, CurLoc, rt, outShape);
    // Slice i of the axis goes to positions pos .. pos + count(i) - 1.
    Value pos = entryAlloca(B.getIndexType());
    B.create<memref::StoreOp>(CurLoc, constIndex(0), pos);
    ScalarKind sk = src.type.scalarKind();
    forEach({n}, [&](mlir::ValueRange i) {
      Value p = B.create<memref::LoadOp>(CurLoc, pos);
      Value c = countAt(i[0]);
      forEach({c}, [&](mlir::ValueRange t) {
        forEach(inner, [&](mlir::ValueRange ivs) {
          SmallVector<Value> from(ivs.begin(), ivs.end()), to = from;
          from[ax] = i[0];
          to[ax] = add(p, t[0]);
          storeElement(loadElement(mem, from, sk), out, to, rk);
        });
      });
      B.create<memref::StoreOp>(CurLoc, add(p, c), pos);
    });
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Tile: {
    // out[idx] = A[idx mod A.shape], A's shape and reps padded with
    // leading ones to the result's rank.
    CGValue src = asArray(expr(*ops[0]));
    const unsigned R = rt.rank(), sr = src.type.rank();
    CGValue reps = expr(*ops[1]);
    std::vector<Type> repTypes;
    reps.type.collectLeaves(repTypes);
    SmallVector<Value> srcShape(R, constIndex(1)), outShape;
    for (unsigned d = 0; d < sr; ++d)
      srcShape[R - sr + d] = dim(src.single(), d);
    Value neg = constBool(false);
    SmallVector<Value> counts(R, constIndex(1));
    for (size_t j = 0; j < repTypes.size(); ++j) {
      Value c = castScalar(reps.leaves[j], repTypes[j].scalarKind(), i64);
      Value isNeg = cmp(arith::CmpIPredicate::slt, c, constInt(0, i64));
      neg = B.create<arith::OrIOp>(CurLoc, neg, isNeg);
      counts[R - repTypes.size() + j] = toIndex(select(isNeg, constInt(0, i64), c), i64);
    }
    raiseIf(neg, KernelFaultKind::Raise, negativeRepeats, {});
    for (unsigned d = 0; d < R; ++d)
      outShape.push_back(mul(srcShape[d], counts[d]));
    Value out = MG.allocArray(B, CurLoc, rt, outShape);
    ScalarKind sk = src.type.scalarKind();
    forEach(outShape, [&](mlir::ValueRange ivs) {
      SmallVector<Value> from;
      for (unsigned d = R - sr; d < R; ++d)
        from.push_back(B.create<arith::RemUIOp>(CurLoc, ivs[d], srcShape[d]));
      storeElement(loadElement(src.single(), from, sk), out,
                   SmallVector<Value>(ivs.begin(), ivs.end()), rk);
    });
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Cross: {
    CGValue a = expr(*ops[0]), b = expr(*ops[1]);
    const unsigned R = rt.rank(), ra = a.type.rank(), rb = b.type.rank();
    SmallVector<Value> sa = dims(a.single(), ra), sb = dims(b.single(), rb);
    Value three = constIndex(3);
    Value bad = B.create<arith::OrIOp>(CurLoc, cmp(arith::CmpIPredicate::ne, sa.back(), three),
                                       cmp(arith::CmpIPredicate::ne, sb.back(), three));
    raiseIf(bad, KernelFaultKind::Raise,
            "ValueError: incompatible dimensions for cross product (dimension must be 3)", {});
    SmallVector<Value> la(sa.begin(), sa.end() - 1), lb(sb.begin(), sb.end() - 1);
    SmallVector<Value> lead = broadcastShape({la, lb}, R - 1);
    Value fails = broadcastFails(la, lb, lead);
    raiseIf(fails, KernelFaultKind::Broadcast, "", shapePair(sa, sb));
    SmallVector<Value> outShape = lead;
    outShape.push_back(three);
    Value out = MG.allocArray(B, CurLoc, rt, outShape);
    Value va = MG.broadcastView(B, CurLoc, a.single(), ra, lead, 1);
    Value vb = MG.broadcastView(B, CurLoc, b.single(), rb, lead, 1);
    // One more loop of one trip, none where a check failed and returned.
    SmallVector<Value> loops = lead;
    loops.push_back(select(B.create<arith::OrIOp>(CurLoc, bad, fails), constIndex(0),
                           constIndex(1)));
    ScalarKind ka = a.type.scalarKind(), kb = b.type.scalarKind();
    forEach(loops, [&](mlir::ValueRange ivs) {
      SmallVector<Value> at(ivs.begin(), ivs.end());
      at.pop_back();
      auto comp = [&](Value m, ScalarKind mk, int64_t c) {
        SmallVector<Value> idx = at;
        idx.push_back(constIndex(c));
        return castScalar(loadElement(m, idx, mk), mk, rk);
      };
      Value x[3], y[3];
      for (int c = 0; c < 3; ++c) {
        x[c] = comp(va, ka, c);
        y[c] = comp(vb, kb, c);
      }
      auto term = [&](int i, int j) {
        return arith2(ast::BinOpKind::Sub,
                      arith2(ast::BinOpKind::Mul, x[i], y[j], rk, CurLoc),
                      arith2(ast::BinOpKind::Mul, x[j], y[i], rk, CurLoc), rk, CurLoc);
      };
      Value z[3] = {term(1, 2), term(2, 0), term(0, 1)};
      for (int c = 0; c < 3; ++c) {
        SmallVector<Value> idx = at;
        idx.push_back(constIndex(c));
        storeElement(z[c], out, idx, rk);
      }
    });
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Append: {
    // np.concatenate((arr, values), axis), numbers as 1-element arrays.
    CGValue a = asArray(expr(*ops[0])), v = asArray(expr(*ops[1]));
    CGValue parts;
    parts.type = Type::tuple({a.type, v.type});
    parts.leaves = {a.single(), v.single()};
    r.leaves.push_back(joined(info, parts, rt));
    return r;
  }
  case Builtin::Convolve: {
    CGValue a = expr(*ops[0]), v = expr(*ops[1]);
    ScalarKind ka = a.type.scalarKind(), kv = v.type.scalarKind();
    Value n = dim(a.single(), 0), m = dim(v.single(), 0);
    Value lo = B.create<arith::MinUIOp>(CurLoc, n, m), hi = B.create<arith::MaxUIOp>(CurLoc, n, m);
    Value zero = constIndex(0), one = constIndex(1);
    Value noA = cmp(arith::CmpIPredicate::eq, hi, zero);
    raiseIf(noA, KernelFaultKind::Raise, "ValueError: a cannot be empty", {});
    Value noV = cmp(arith::CmpIPredicate::eq, lo, zero);
    raiseIf(noV, KernelFaultKind::Raise, "ValueError: v cannot be empty", {});
    // The full convolution has n + m - 1 elements; "same" keeps the
    // max(n, m) in its middle, "valid" the max - min + 1 where both overlap.
    Value start = zero, len = sub(add(n, m), one);
    if (info.mode == 1) {
      start = B.create<arith::DivUIOp>(CurLoc, sub(lo, one), constIndex(2));
      len = hi;
    } else if (info.mode == 2) {
      start = sub(lo, one);
      len = add(sub(hi, lo), one);
    }
    len = select(noV, zero, len);
    Value out = MG.allocArray(B, CurLoc, rt, {len});
    Value acc0 = zeroOf(Type::scalar(rk));
    forEach({len}, [&](mlir::ValueRange i) {
      // out[i] = sum over j of a[j] * v[s - j], s = start + i.
      Value s = add(start, i[0]);
      Value jlo = select(cmp(arith::CmpIPredicate::uge, s, m), add(sub(s, m), one), zero);
      Value jhi = B.create<arith::MinUIOp>(CurLoc, n, add(s, one));
      auto loop = B.create<scf::ForOp>(CurLoc, jlo, jhi, one, mlir::ValueRange{acc0});
      {
        OpBuilder::InsertionGuard g(B);
        Block *body = loop.getBody();
        if (!body->empty() && body->back().hasTrait<mlir::OpTrait::IsTerminator>())
          body->back().erase();
        B.setInsertionPointToEnd(body);
        Value j = loop.getInductionVar();
        Value x = castScalar(loadElement(a.single(), {j}, ka), ka, rk);
        Value y = castScalar(loadElement(v.single(), {sub(s, j)}, kv), kv, rk);
        Value sum = arith2(ast::BinOpKind::Add, loop.getRegionIterArgs()[0],
                           arith2(ast::BinOpKind::Mul, x, y, rk, CurLoc), rk, CurLoc);
        B.create<scf::YieldOp>(CurLoc, sum);
      }
      storeElement(loop.getResult(0), out, {i[0]}, rk);
    });
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Digitize: {
    CGValue bins = expr(*ops[1]);
    ScalarKind bk = bins.type.scalarKind();
    Value mem = bins.single(), n = dim(mem, 0);
    // Which way the bins go (NumPy's check: each step one way, equal
    // neighbours allowed; NaN goes neither way).
    Value up = entryAlloca(B.getI1Type()), down = entryAlloca(B.getI1Type());
    B.create<memref::StoreOp>(CurLoc, constBool(true), up);
    B.create<memref::StoreOp>(CurLoc, constBool(true), down);
    Value steps = select(cmp(arith::CmpIPredicate::ugt, n, constIndex(1)),
                         sub(n, constIndex(1)), constIndex(0));
    forEach({steps}, [&](mlir::ValueRange i) {
      Value x = loadElement(mem, {i[0]}, bk);
      Value y = loadElement(mem, {add(i[0], constIndex(1))}, bk);
      for (auto [flagMem, op] : {std::pair{up, ast::CmpOpKind::Le},
                                 std::pair{down, ast::CmpOpKind::Ge}})
        B.create<memref::StoreOp>(
            CurLoc,
            B.create<arith::AndIOp>(CurLoc, B.create<memref::LoadOp>(CurLoc, flagMem),
                                    compare1(op, x, bk, y, bk)),
            flagMem);
    });
    Value inc = B.create<memref::LoadOp>(CurLoc, up);
    Value dec = B.create<memref::LoadOp>(CurLoc, down);
    raiseIf(logicalNot(B.create<arith::OrIOp>(CurLoc, inc, dec)), KernelFaultKind::Raise,
            "ValueError: bins must be monotonically increasing or decreasing", {});
    // right=False: searchsorted(bins, x, side="right"); decreasing bins
    // count from the end of the reversed ones.
    Type anyT = Type::array(bk, 1, Type::Layout::Any);
    Value table = B.create<arith::SelectOp>(
        CurLoc, inc, B.create<memref::CastOp>(CurLoc, memrefType(Ctx, anyT), mem),
        flippedView(mem, {0u}, anyT));
    Value sideRight = logicalNot(flag(2));
    const Type &xt = F.typeOf(*ops[0]);
    ScalarKind xk = xt.scalarKind();
    auto bin = [this, table, n, bk, xk, inc, sideRight](Value x) {
      Value p = searchSorted(table, bk, n, x, xk, false, sideRight);
      return B.create<arith::SelectOp>(CurLoc, inc, p, B.create<arith::SubIOp>(CurLoc, n, p))
          .getResult();
    };
    if (xt.isScalar()) {
      r.leaves.push_back(B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(),
                                                      bin(expr(*ops[0]).single())));
      return r;
    }
    r.leaves.push_back(materialize(
        elementwise(rt, {lazy(*ops[0])}, [this, bin](const SmallVector<Value> &x) {
          return B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), bin(x[0])).getResult();
        })));
    return r;
  }
  case Builtin::Isin: {
    // A sorted copy of the test elements, then a binary search for each.
    CGValue tests = asArray(expr(*ops[1]));
    ScalarKind tk = tests.type.scalarKind();
    CallInfo sortInfo = info;
    sortInfo.builtin = Builtin::Sort;
    sortInfo.axis = -1;
    Value table = sorted(sortInfo, tests, Type::array(tk, 1, Type::Layout::C));
    Value m = dim(table, 0);
    Value invert = flag(3);
    const Type &xt = F.typeOf(*ops[0]);
    ScalarKind xk = xt.scalarKind();
    auto member = [this, table, m, tk, xk, invert](Value x) {
      Value p = searchSorted(table, tk, m, x, xk, false);
      Value inside = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ult, p, m);
      Value found = emitIf(
          inside, {B.getI1Type()},
          [&] {
            Value y = loadElement(table, {p}, tk);
            return SmallVector<Value>{compare1(ast::CmpOpKind::Eq, x, xk, y, tk)};
          },
          [&] { return SmallVector<Value>{constBool(false)}; })[0];
      return B.create<arith::XOrIOp>(CurLoc, found, invert).getResult();
    };
    if (xt.isScalar())
      r.leaves.push_back(member(expr(*ops[0]).single()));
    else
      r.leaves.push_back(materialize(elementwise(
          rt, {lazy(*ops[0])}, [member](const SmallVector<Value> &x) { return member(x[0]); })));
    B.create<memref::DeallocOp>(CurLoc, table);
    return r;
  }
  case Builtin::Triu:
  case Builtin::Tril: {
    CGValue src = expr(*ops[0]);
    ScalarKind sk = src.type.scalarKind();
    const unsigned R = rt.rank();
    Value k = constInt(0, i64);
    if (ops.size() > 1 && ops[1]) {
      CGValue kv = expr(*ops[1]);
      k = castScalar(kv.single(), kv.type.scalarKind(), i64);
    }
    SmallVector<Value> shape = dims(src.single(), R);
    Value out = MG.allocArray(B, CurLoc, rt, shape);
    bool upper = info.builtin == Builtin::Triu;
    Value zero = zeroOf(Type::scalar(rk));
    forEach(shape, [&](mlir::ValueRange ivs) {
      SmallVector<Value> at(ivs.begin(), ivs.end());
      // The diagonal of (i, j) is j - i.
      Value d = sub(indexToI64(ivs[R - 1]), indexToI64(ivs[R - 2]));
      Value keep = cmp(upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle, d, k);
      storeElement(select(keep, castScalar(loadElement(src.single(), at, sk), sk, rk), zero), out,
                   at, rk);
    });
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Diag:
  case Builtin::Diagflat: {
    CGValue src = expr(*ops[0]);
    ScalarKind sk = src.type.scalarKind();
    const ast::Expr *offset = ops.size() > 1 ? ops[1] : nullptr;
    if (info.mode) {
      // A matrix of side n + |k| with v on diagonal k, which starts at row
      // max(0, -k), column max(0, k).
      Value k = diagonalOffset(offset), zero = constIndex(0);
      Value i0 = B.create<arith::MaxSIOp>(CurLoc, sub(zero, k), zero);
      Value j0 = B.create<arith::MaxSIOp>(CurLoc, k, zero);
      Value v = flatView(src.single(), src.type);
      Value n = dim(v, 0), side = add(n, add(i0, j0));
      Value out = MG.allocArray(B, CurLoc, rt, {side, side});
      Value z = zeroOf(Type::scalar(rk));
      forEach({side, side}, [&](mlir::ValueRange ij) { storeElement(z, out, {ij[0], ij[1]}, rk); });
      forEach({n}, [&](mlir::ValueRange i) {
        storeElement(loadElement(v, {i[0]}, sk), out, {add(i0, i[0]), add(j0, i[0])}, rk);
      });
      r.leaves.push_back(out);
      return r;
    }
    r.leaves.push_back(materialize(diagonal(src.single(), sk, offset)));
    return r;
  }
  case Builtin::Kron: {
    // out[i * nb + j] = a[i] * b[j] on every axis (ranks padded with
    // leading ones).
    CGValue a = expr(*ops[0]), b = expr(*ops[1]);
    const unsigned R = rt.rank(), ra = a.type.rank(), rb = b.type.rank();
    ScalarKind ak = a.type.scalarKind(), bk = b.type.scalarKind(), ok = info.operandKind;
    SmallVector<Value> sa = dims(a.single(), ra), sb = dims(b.single(), rb), pb, shape;
    for (unsigned d = 0; d < R; ++d) {
      Value x = d < R - ra ? constIndex(1) : sa[d - (R - ra)];
      pb.push_back(d < R - rb ? constIndex(1) : sb[d - (R - rb)]);
      shape.push_back(mul(x, pb.back()));
    }
    Value out = MG.allocArray(B, CurLoc, rt, shape);
    forEach(shape, [&](mlir::ValueRange ivs) {
      SmallVector<Value> ia, ib;
      for (unsigned d = 0; d < R; ++d) {
        if (d >= R - ra)
          ia.push_back(B.create<arith::DivUIOp>(CurLoc, ivs[d], pb[d]));
        if (d >= R - rb)
          ib.push_back(B.create<arith::RemUIOp>(CurLoc, ivs[d], pb[d]));
      }
      Value x = castScalar(loadElement(a.single(), ia, ak), ak, ok);
      Value y = castScalar(loadElement(b.single(), ib, bk), bk, ok);
      storeElement(productOf(x, y, ok), out, SmallVector<Value>(ivs.begin(), ivs.end()), rk);
    });
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Delete: {
    // Which positions along the axis stay (obj's marked), their list, then
    // the elements at them.
    CGValue a = expr(*ops[0]);
    Value src = info.axis < 0 ? flatView(a.single(), a.type) : a.single();
    const unsigned ax = info.axis < 0 ? 0 : static_cast<unsigned>(info.axis), R = rt.rank();
    SmallVector<Value> shape = dims(src, R);
    Value n = shape[ax], zero = constIndex(0), one = constIndex(1);
    const ScalarKind u8 = ScalarKind::U8;
    Value keep = MG.allocArray(B, CurLoc, Type::array(u8, 1, Type::Layout::C), {n});
    forEach({n}, [&](mlir::ValueRange i) { storeElement(constInt(1, u8), keep, {i[0]}, u8); });
    CGValue o = expr(*ops[1]);
    ScalarKind ok = o.type.scalarKind();
    Value n64 = indexToI64(n);
    // Drops position `p` (an int64; negative ones count from the end).
    auto drop = [&](Value p) {
      Value q = castScalar(p, ok, i64);
      Value neg = cmp(arith::CmpIPredicate::slt, q, constInt(0, i64));
      Value w = select(neg, B.create<arith::AddIOp>(CurLoc, q, n64), q);
      Value bad = B.create<arith::OrIOp>(CurLoc, cmp(arith::CmpIPredicate::slt, w, constInt(0, i64)),
                                         cmp(arith::CmpIPredicate::sge, w, n64));
      raiseIf(bad, KernelFaultKind::Raise,
              fmt::format("IndexError: index {}i is out of bounds for axis {} with size {}i",
                          kRaisedValue, ax, kRaisedValue),
              {q, n64});
      ifThen(logicalNot(bad), [&] { storeElement(constInt(0, u8), keep, {toIndex(w, i64)}, u8); });
    };
    if (!o.type.isArray()) {
      drop(o.single());
    } else if (isBool(ok)) {
      Value m = o.single(), len = dim(m, 0);
      Value differ = cmp(arith::CmpIPredicate::ne, len, n);
      raiseIf(differ, KernelFaultKind::Raise,
              fmt::format("ValueError: boolean array argument obj to delete must be one "
                          "dimensional and match the axis length of {}i",
                          kRaisedValue),
              {n64});
      ifThen(logicalNot(differ), [&] {
        forEach({n}, [&](mlir::ValueRange i) {
          Value gone = loadElement(m, {i[0]}, ok);
          storeElement(select(gone, constInt(0, u8), constInt(1, u8)), keep, {i[0]}, u8);
        });
      });
    } else {
      Value m = o.single();
      forEach({dim(m, 0)}, [&](mlir::ValueRange i) { drop(loadElement(m, {i[0]}, ok)); });
    }
    Value count = entryAlloca(B.getIndexType());
    B.create<memref::StoreOp>(CurLoc, zero, count);
    Value at = MG.allocArray(B, CurLoc, Type::array(i64, 1, Type::Layout::C), {n});
    forEach({n}, [&](mlir::ValueRange i) {
      Value c = B.create<memref::LoadOp>(CurLoc, count);
      Value stays = cmp(arith::CmpIPredicate::ne, loadElement(keep, {i[0]}, u8),
                        constInt(0, u8));
      ifThen(stays, [&] { storeElement(indexToI64(i[0]), at, {c}, i64); });
      B.create<memref::StoreOp>(CurLoc, select(stays, add(c, one), c), count);
    });
    SmallVector<Value> outShape = shape;
    outShape[ax] = B.create<memref::LoadOp>(CurLoc, count);
    Value out = MG.allocArray(B, CurLoc, rt, outShape);
    const ScalarKind ak = a.type.scalarKind();
    forEach(outShape, [&](mlir::ValueRange ivs) {
      SmallVector<Value> from(ivs.begin(), ivs.end());
      from[ax] = toIndex(loadElement(at, {ivs[ax]}, i64), i64);
      storeElement(loadElement(src, from, ak), out, SmallVector<Value>(ivs.begin(), ivs.end()),
                   rk);
    });
    B.create<memref::DeallocOp>(CurLoc, keep);
    B.create<memref::DeallocOp>(CurLoc, at);
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Insert: {
    // NumPy's np.insert: m slices of the values go in along the axis, the
    // j-th before position P[j] of arr (equal positions in their order), so
    // arr's element i moves to i + #{j: P[j] <= i} and value j (of rank r
    // among the sorted positions) goes to P[j] + r.
    CGValue a = expr(*ops[0]);
    Value src = info.axis < 0 ? flatView(a.single(), a.type) : a.single();
    const unsigned ax = info.axis < 0 ? 0 : static_cast<unsigned>(info.axis), R = rt.rank();
    const bool oneIndex = info.flags & 1;
    SmallVector<Value> shape = dims(src, R);
    Value n = shape[ax], zero = constIndex(0), one = constIndex(1);
    Value n64 = indexToI64(n);
    CGValue o = expr(*ops[1]);
    CGValue v = expr(*ops[2]);
    const ScalarKind ak = a.type.scalarKind(), vk = v.type.scalarKind(), ok = o.type.scalarKind();
    // The values as an R-dimensional view: missing leading axes of extent
    // 1; for one integer position, NumPy moves the first axis to `ax`
    // (np.insert(m, 1, [1, 2, 3], axis=1) inserts a column).
    Value vals;
    SmallVector<Value> vshape(R, one);
    if (v.type.isArray()) {
      const unsigned vr = v.type.rank();
      auto md = B.create<memref::ExtractStridedMetadataOp>(CurLoc, v.single());
      SmallVector<Value> sz(R, one), st(R, zero);
      for (unsigned d = 0; d < vr; ++d) {
        sz[R - vr + d] = md.getSizes()[d];
        st[R - vr + d] = md.getStrides()[d];
      }
      if (oneIndex && ax > 0) { // np.moveaxis(values, 0, ax)
        Value s0 = sz[0], t0 = st[0];
        sz.erase(sz.begin());
        st.erase(st.begin());
        sz.insert(sz.begin() + ax, s0);
        st.insert(st.begin() + ax, t0);
      }
      int64_t dyn = mlir::ShapedType::kDynamic;
      auto layout = mlir::StridedLayoutAttr::get(Ctx, dyn, SmallVector<int64_t>(R, dyn));
      auto t = mlir::MemRefType::get(SmallVector<int64_t>(R, dyn), storageType(Ctx, vk), layout);
      SmallVector<mlir::OpFoldResult> szf(sz.begin(), sz.end()), stf(st.begin(), st.end());
      vals = B.create<memref::ReinterpretCastOp>(CurLoc, t, md.getBaseBuffer(),
                                                 mlir::OpFoldResult(md.getOffset()), szf, stf);
      vshape = sz;
    }
    // How many slices go in: one position takes the values' extent along
    // the axis; k positions take one each (a single one as one position).
    Value k = oneIndex ? one : dim(o.single(), 0);
    Value m = oneIndex ? vshape[ax]
                       : select(cmp(arith::CmpIPredicate::eq, k, one), vshape[ax], k);
    SmallVector<Value> target = shape;
    target[ax] = m;
    Value bad = constBool(false);
    for (unsigned d = 0; d < R && v.type.isArray(); ++d) {
      Value fits =
          B.create<arith::OrIOp>(CurLoc, cmp(arith::CmpIPredicate::eq, vshape[d], target[d]),
                                 cmp(arith::CmpIPredicate::eq, vshape[d], one));
      raiseIf(logicalNot(fits), KernelFaultKind::Raise,
              fmt::format("ValueError: could not broadcast the values of insert(): extent {}i "
                          "along axis {} into {}i",
                          kRaisedValue, d, kRaisedValue),
              {vshape[d], target[d]});
      bad = B.create<arith::OrIOp>(CurLoc, bad, logicalNot(fits));
    }
    m = select(bad, zero, m); // (where a raise returned: nothing goes in)
    target[ax] = m;
    if (vals)
      vals = MG.broadcastView(B, CurLoc, vals, R, target);
    // The positions, checked (negative ones count from the end).
    Value pos = MG.allocArray(B, CurLoc, Type::array(i64, 1, Type::Layout::C), {m});
    forEach({m}, [&](mlir::ValueRange j) {
      Value q = oneIndex ? o.single()
                         : loadElement(o.single(), {select(cmp(arith::CmpIPredicate::eq, k, one),
                                                           zero, j[0])},
                                       ok);
      q = castScalar(q, ok, i64);
      Value neg = cmp(arith::CmpIPredicate::slt, q, constInt(0, i64));
      Value w = select(neg, add(q, n64), q);
      Value out =
          B.create<arith::OrIOp>(CurLoc, cmp(arith::CmpIPredicate::slt, w, constInt(0, i64)),
                                 cmp(arith::CmpIPredicate::sgt, w, n64));
      raiseIf(out, KernelFaultKind::Raise,
              fmt::format("IndexError: index {}i is out of bounds for axis {} with size {}i",
                          kRaisedValue, ax, kRaisedValue),
              {q, n64});
      storeElement(select(out, constInt(0, i64), w), pos, {j[0]}, i64);
    });
    // Their order (stable), each value's destination, and how many go in
    // at or before each position of arr.
    CGValue posv;
    posv.type = Type::array(i64, 1, Type::Layout::C);
    posv.leaves.push_back(pos);
    CallInfo order = info;
    order.builtin = Builtin::Argsort;
    order.axis = -1;
    Value rankOf = sorted(order, posv, posv.type);
    Value dest = MG.allocArray(B, CurLoc, posv.type, {m});
    Value before = MG.allocArray(B, CurLoc, posv.type, {add(n, one)});
    forEach({add(n, one)}, [&](mlir::ValueRange i) {
      storeElement(constInt(0, i64), before, {i[0]}, i64);
    });
    forEach({m}, [&](mlir::ValueRange r) {
      Value j = toIndex(loadElement(rankOf, {r[0]}, i64), i64);
      Value p = loadElement(pos, {j}, i64);
      storeElement(add(p, indexToI64(r[0])), dest, {j}, i64);
      Value at = toIndex(p, i64);
      storeElement(add(loadElement(before, {at}, i64), constInt(1, i64)), before, {at}, i64);
    });
    Value running = entryAlloca(B.getI64Type());
    B.create<memref::StoreOp>(CurLoc, constInt(0, i64), running);
    forEach({n}, [&](mlir::ValueRange i) {
      Value c = add(B.create<memref::LoadOp>(CurLoc, running), loadElement(before, {i[0]}, i64));
      B.create<memref::StoreOp>(CurLoc, c, running);
      storeElement(c, before, {i[0]}, i64);
    });
    SmallVector<Value> outShape = shape;
    outShape[ax] = add(n, m);
    Value out = MG.allocArray(B, CurLoc, rt, outShape);
    forEach(shape, [&](mlir::ValueRange ivs) {
      SmallVector<Value> from(ivs.begin(), ivs.end()), to = from;
      to[ax] = add(from[ax], toIndex(loadElement(before, {from[ax]}, i64), i64));
      storeElement(castScalar(loadElement(src, from, ak), ak, rk), out, to, rk);
    });
    forEach(target, [&](mlir::ValueRange ivs) {
      SmallVector<Value> from(ivs.begin(), ivs.end()), to = from;
      to[ax] = toIndex(loadElement(dest, {from[ax]}, i64), i64);
      Value x = vals ? loadElement(vals, from, vk) : v.single();
      storeElement(castScalar(x, vk, rk), out, to, rk);
    });
    for (Value t : {pos, rankOf, dest, before})
      B.create<memref::DeallocOp>(CurLoc, t);
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Vdot: {
    // sum(conj(a.ravel()) * b.ravel()): bools as or of ands.
    CGValue a = asArray(expr(*ops[0])), b = asArray(expr(*ops[1]));
    Value fa = flatView(a.single(), a.type), fb = flatView(b.single(), b.type);
    raiseIf(cmp(arith::CmpIPredicate::ne, dim(fa, 0), dim(fb, 0)), KernelFaultKind::Raise,
            "ValueError: vectors have different lengths", {});
    auto flat = [](const CGValue &v) {
      return Type::array(v.type.scalarKind(), 1, Type::Layout::Any);
    };
    r.leaves.push_back(innerProduct(leaf(fa, flat(a)), leaf(fb, flat(b)), info.operandKind, true));
    return r;
  }
  default:
    break;
  }
  llvm_unreachable("not a rearranging builtin");
}

CGValue FunctionGen::lookupCall(const CallInfo &info, const Type &rt) {
  const auto &ops = info.operands;
  CGValue r;
  r.type = rt;
  auto f64 = ScalarKind::F64, i64 = ScalarKind::I64;
  auto flat = [&](const ast::Expr &e, ScalarKind &k) {
    CGValue v = expr(e);
    k = v.type.scalarKind();
    return flatView(v.single(), v.type);
  };
  auto len = [&](Value m) { return B.create<memref::DimOp>(CurLoc, m, 0).getResult(); };
  auto idx64 = [&](Value i) { return B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), i); };
  switch (info.builtin) {
  case Builtin::Unique: {
    // The sorted elements without repeats (NaNs count as one unless
    // equal_nan=False: CallInfo::flags 8); with return_index,
    // return_inverse or return_counts (flags 1, 2, 4) the elements are
    // visited in the order of a stable argsort, so a group's first index
    // is its first occurrence.
    const int flags = info.flags;
    const bool extra = flags & 7;
    CGValue src = expr(*ops[0]);
    ScalarKind k = src.type.scalarKind();
    Value flat, perm, sortedMem;
    if (extra) {
      CallInfo order = info;
      order.builtin = Builtin::Argsort;
      order.axis = -1;
      perm = sorted(order, src, Type::array(i64, 1, Type::Layout::C));
      flat = flatView(src.single(), src.type);
    } else {
      CallInfo sortInfo = info;
      sortInfo.builtin = Builtin::Sort;
      sortInfo.axis = -1;
      sortedMem = sorted(sortInfo, src, Type::array(k, 1, Type::Layout::C));
    }
    Value n = len(extra ? perm : sortedMem);
    auto position = [&](Value i) { // where the i-th smallest element is
      return toIndex(loadElement(perm, {i}, i64), i64);
    };
    auto valueAt = [&](Value i) {
      return extra ? loadElement(flat, {position(i)}, k) : loadElement(sortedMem, {i}, k);
    };
    auto isNew = [&](Value i) {
      // i == 0, or the i-th element differs from the one before (NaN equal
      // to NaN unless equal_nan=False).
      Value first = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, i, constIndex(0));
      Value prevI = B.create<arith::SelectOp>(CurLoc, first, i,
                                              B.create<arith::SubIOp>(CurLoc, i, constIndex(1)));
      Value x = valueAt(i), y = valueAt(prevI);
      Value same = compare1(ast::CmpOpKind::Eq, x, k, y, k);
      if (isFloat(k) && !(flags & 8))
        same = B.create<arith::OrIOp>(
            CurLoc, same,
            B.create<arith::AndIOp>(
                CurLoc, B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, x, x),
                B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, y, y)));
      return B.create<arith::OrIOp>(CurLoc, first, logicalNot(same)).getResult();
    };
    Value count = entryAlloca(B.getIndexType());
    B.create<memref::StoreOp>(CurLoc, constIndex(0), count);
    forEach({n}, [&](mlir::ValueRange i) {
      Value c = B.create<memref::LoadOp>(CurLoc, count);
      B.create<memref::StoreOp>(
          CurLoc,
          B.create<arith::SelectOp>(CurLoc, isNew(i[0]),
                                    B.create<arith::AddIOp>(CurLoc, c, constIndex(1)), c),
          count);
    });
    Value groups = B.create<memref::LoadOp>(CurLoc, count);
    Type ut = extra ? rt.elements()[0] : rt, i64s = Type::array(i64, 1, Type::Layout::C);
    Value out = MG.allocArray(B, CurLoc, ut, {groups});
    Value first = flags & 1 ? MG.allocArray(B, CurLoc, i64s, {groups}) : Value();
    Value inverse = flags & 2 ? MG.allocArray(B, CurLoc, i64s, {n}) : Value();
    Value counts = flags & 4 ? MG.allocArray(B, CurLoc, i64s, {groups}) : Value();
    B.create<memref::StoreOp>(CurLoc, constIndex(0), count);
    forEach({n}, [&](mlir::ValueRange i) {
      ifThen(isNew(i[0]), [&] {
        Value c = B.create<memref::LoadOp>(CurLoc, count);
        storeElement(valueAt(i[0]), out, {c}, k);
        if (first)
          storeElement(idx64(position(i[0])), first, {c}, i64);
        if (counts)
          storeElement(constInt(0, i64), counts, {c}, i64);
        B.create<memref::StoreOp>(CurLoc, B.create<arith::AddIOp>(CurLoc, c, constIndex(1)),
                                  count);
      });
      if (!inverse && !counts)
        return;
      Value g = B.create<arith::SubIOp>(CurLoc, B.create<memref::LoadOp>(CurLoc, count),
                                        constIndex(1));
      if (inverse)
        storeElement(idx64(g), inverse, {position(i[0])}, i64);
      if (counts)
        storeElement(B.create<arith::AddIOp>(CurLoc, loadElement(counts, {g}, i64),
                                             constInt(1, i64)),
                     counts, {g}, i64);
    });
    B.create<memref::DeallocOp>(CurLoc, extra ? perm : sortedMem);
    if (!extra) {
      r.leaves.push_back(out);
      return r;
    }
    r.leaves.push_back(out);
    if (first)
      r.leaves.push_back(first);
    if (inverse) {
      // NumPy 2: shaped as the input, so that unique[inverse] is the input.
      unsigned rank = src.type.rank();
      if (rank > 1) {
        SmallVector<Value> shape;
        for (unsigned d = 0; d < rank; ++d)
          shape.push_back(B.create<memref::DimOp>(CurLoc, src.single(), d));
        inverse = withCShape(inverse, shape, Type::array(i64, rank, Type::Layout::C));
      }
      r.leaves.push_back(inverse);
    }
    if (counts)
      r.leaves.push_back(counts);
    return r;
  }
  case Builtin::Searchsorted: {
    CGValue a = expr(*ops[0]);
    ScalarKind ak = a.type.scalarKind();
    Value n = len(a.single());
    const Type &vt = F.typeOf(*ops[1]);
    if (vt.isScalar()) {
      CGValue v = expr(*ops[1]);
      r.leaves.push_back(
          idx64(searchSorted(a.single(), ak, n, v.single(), vt.scalarKind(), info.sideRight)));
      return r;
    }
    LazyArray v = lazy(*ops[1]);
    ScalarKind vk = vt.scalarKind();
    Value mem = a.single();
    bool right = info.sideRight;
    r.leaves.push_back(materialize(
        elementwise(rt, {v}, [this, idx64, mem, ak, n, vk, right](const SmallVector<Value> &x) {
          return idx64(searchSorted(mem, ak, n, x[0], vk, right)).getResult();
        })));
    return r;
  }
  case Builtin::Bincount: {
    ScalarKind xk, wk = f64;
    Value x = flat(*ops[0], xk);
    Value w = ops[1] ? flat(*ops[1], wk) : Value();
    Value n = len(x);
    if (w)
      raiseIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, len(w), n),
              KernelFaultKind::Raise,
              "ValueError: The weights and list don't have the same length.", {});
    // The largest value (and whether one is negative), then the counts.
    Value top = entryAlloca(B.getI64Type()), negative = entryAlloca(B.getI1Type());
    B.create<memref::StoreOp>(CurLoc, constInt(-1, i64), top);
    B.create<memref::StoreOp>(CurLoc, constBool(false), negative);
    forEach({n}, [&](mlir::ValueRange i) {
      Value v = castScalar(loadElement(x, {i[0]}, xk), xk, i64);
      B.create<memref::StoreOp>(
          CurLoc, B.create<arith::MaxSIOp>(CurLoc, B.create<memref::LoadOp>(CurLoc, top), v),
          top);
      B.create<memref::StoreOp>(
          CurLoc,
          B.create<arith::OrIOp>(CurLoc, B.create<memref::LoadOp>(CurLoc, negative),
                                 B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, v,
                                                         constInt(0, i64))),
          negative);
    });
    Value neg = B.create<memref::LoadOp>(CurLoc, negative);
    raiseIf(neg, KernelFaultKind::Raise,
            "ValueError: 'list' argument must have no negative elements", {});
    Value size = B.create<arith::AddIOp>(CurLoc, B.create<memref::LoadOp>(CurLoc, top),
                                         constInt(1, i64));
    if (ops[2]) {
      CGValue m = expr(*ops[2]);
      size = B.create<arith::MaxSIOp>(CurLoc, size,
                                      castScalar(m.single(), m.type.scalarKind(), i64));
    }
    ScalarKind rk = rt.scalarKind();
    Value count = B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(),
                                               B.create<arith::SelectOp>(CurLoc, neg,
                                                                         constInt(0, i64), size));
    Value out = MG.allocArray(B, CurLoc, rt, {count});
    forEach({count}, [&](mlir::ValueRange i) {
      storeElement(zeroOf(Type::scalar(rk)), out, {i[0]}, rk);
    });
    forEach({n}, [&](mlir::ValueRange i) {
      Value v = castScalar(loadElement(x, {i[0]}, xk), xk, i64);
      Value ok = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::sge, v, constInt(0, i64));
      ifThen(ok, [&] {
        Value at = B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), v);
        Value add = w ? castScalar(loadElement(w, {i[0]}, wk), wk, rk) : constInt(1, rk);
        storeElement(arith2(ast::BinOpKind::Add, loadElement(out, {at}, rk), add, rk, CurLoc),
                     out, {at}, rk);
      });
    });
    r.leaves.push_back(out);
    return r;
  }
  case Builtin::Histogram: {
    ScalarKind ak;
    Value a = flat(*ops[0], ak);
    Value n = len(a);
    const Type &bt = ops[1] ? F.typeOf(*ops[1]) : Type::scalar(i64);
    Value edges, nb;
    if (bt.isArray()) {
      // Given edges (as float64).
      ScalarKind ek;
      Value e = flat(*ops[1], ek);
      edges = materialize(converted(leaf(e, Type::array(ek, 1, Type::Layout::Any)), f64));
      Value ne = len(edges);
      raiseIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, ne, constIndex(2)),
              KernelFaultKind::Raise, "ValueError: `bins` must have at least 2 edges", {});
      nb = B.create<arith::MaxSIOp>(CurLoc, B.create<arith::SubIOp>(CurLoc, ne, constIndex(1)),
                                    constIndex(0));
    } else {
      Value bins = constInt(10, i64);
      if (ops[1]) {
        CGValue bv = expr(*ops[1]);
        bins = castScalar(bv.single(), bv.type.scalarKind(), i64);
      }
      Value bad =
          B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, bins, constInt(1, i64));
      raiseIf(bad, KernelFaultKind::Raise, "ValueError: `bins` must be positive, when an integer",
              {});
      bins = B.create<arith::SelectOp>(CurLoc, bad, constInt(1, i64), bins);
      nb = B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(), bins);
      // The range: given, else the data's (min, max); an empty one widens
      // to (x - 0.5, x + 0.5).
      Value lo, hi;
      if (ops[2]) {
        CGValue rv = expr(*ops[2]);
        std::vector<Type> leaves;
        rv.type.collectLeaves(leaves);
        lo = castScalar(rv.leaves[0], leaves[0].scalarKind(), f64);
        hi = castScalar(rv.leaves[1], leaves[1].scalarKind(), f64);
        raiseIf(B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OGT, lo, hi),
                KernelFaultKind::Raise,
                "ValueError: max must be larger than min in range parameter.", {});
      } else {
        Type at = Type::array(ak, 1, Type::Layout::Any);
        auto asF64 = [&](Builtin which) {
          return castScalar(reduce(leaf(a, at), which, ak, false, EmptyMinMax::Handled), ak,
                            f64);
        };
        Value empty = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, n, constIndex(0));
        lo = B.create<arith::SelectOp>(CurLoc, empty, constFloat(0.0, f64),
                                       asF64(Builtin::ReduceMin));
        hi = B.create<arith::SelectOp>(CurLoc, empty, constFloat(1.0, f64),
                                       asF64(Builtin::ReduceMax));
        Value finite = B.create<arith::AndIOp>(
            CurLoc,
            B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OLT,
                                    B.create<math::AbsFOp>(CurLoc, lo), constFloat(INFINITY, f64)),
            B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OLT,
                                    B.create<math::AbsFOp>(CurLoc, hi), constFloat(INFINITY, f64)));
        raiseIf(logicalNot(finite), KernelFaultKind::Raise,
                fmt::format("ValueError: autodetected range of [{0}d, {0}d] is not finite",
                            kRaisedValue),
                {B.create<arith::BitcastOp>(CurLoc, B.getI64Type(), lo),
                 B.create<arith::BitcastOp>(CurLoc, B.getI64Type(), hi)});
      }
      Value same = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, lo, hi);
      lo = B.create<arith::SelectOp>(CurLoc, same,
                                     B.create<arith::SubFOp>(CurLoc, lo, constFloat(0.5, f64)), lo);
      hi = B.create<arith::SelectOp>(CurLoc, same,
                                     B.create<arith::AddFOp>(CurLoc, hi, constFloat(0.5, f64)), hi);
      // np.linspace(lo, hi, bins + 1), its last edge exactly hi.
      Value ne = B.create<arith::AddIOp>(CurLoc, nb, constIndex(1));
      edges = MG.allocArray(B, CurLoc, Type::array(f64, 1, Type::Layout::C), {ne});
      Value step = B.create<arith::DivFOp>(CurLoc, B.create<arith::SubFOp>(CurLoc, hi, lo),
                                           castScalar(bins, i64, f64));
      forEach({ne}, [&](mlir::ValueRange i) {
        Value fi = castScalar(idx64(i[0]), i64, f64);
        Value e = B.create<arith::AddFOp>(CurLoc, lo, B.create<arith::MulFOp>(CurLoc, fi, step));
        Value last = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, i[0], nb);
        storeElement(B.create<arith::SelectOp>(CurLoc, last, hi, e), edges, {i[0]}, f64);
      });
    }
    // Counts: bin j holds edges[j] <= x < edges[j + 1], the last one also
    // its right edge; values outside (and NaN) are left out.
    Value counts = MG.allocArray(B, CurLoc, Type::array(i64, 1, Type::Layout::C), {nb});
    forEach({nb}, [&](mlir::ValueRange i) {
      storeElement(constInt(0, i64), counts, {i[0]}, i64);
    });
    Value ne = B.create<arith::AddIOp>(CurLoc, nb, constIndex(1));
    Value first = loadElement(edges, {constIndex(0)}, f64);
    Value lastEdge = loadElement(edges, {nb}, f64);
    forEach({n}, [&](mlir::ValueRange i) {
      Value x = castScalar(loadElement(a, {i[0]}, ak), ak, f64);
      Value inside = B.create<arith::AndIOp>(
          CurLoc, B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OGE, x, first),
          B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OLE, x, lastEdge));
      ifThen(inside, [&] {
        Value j = B.create<arith::SubIOp>(CurLoc, searchSorted(edges, f64, ne, x, f64, true),
                                          constIndex(1));
        j = B.create<arith::MinUIOp>(CurLoc, j,
                                     B.create<arith::SubIOp>(CurLoc, nb, constIndex(1)));
        storeElement(B.create<arith::AddIOp>(CurLoc, loadElement(counts, {j}, i64),
                                             constInt(1, i64)),
                     counts, {j}, i64);
      });
    });
    r.leaves.push_back(counts);
    r.leaves.push_back(edges);
    return r;
  }
  default: { // Interp
    ScalarKind xpk, fpk;
    Value xp = flat(*ops[1], xpk), fp = flat(*ops[2], fpk);
    Value n = len(xp);
    raiseIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, len(fp), n),
            KernelFaultKind::Raise, "ValueError: fp and xp are not of the same length.", {});
    Value empty = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, n, constIndex(0));
    raiseIf(empty, KernelFaultKind::Raise, "ValueError: array of sample points is empty", {});
    Value last = B.create<arith::SubIOp>(
        CurLoc, B.create<arith::MaxSIOp>(CurLoc, B.create<arith::MinSIOp>(CurLoc, n, len(fp)),
                                         constIndex(1)),
        constIndex(1));
    auto X = [&](Value i) { return castScalar(loadElement(xp, {i}, xpk), xpk, f64); };
    auto Y = [&](Value i) { return castScalar(loadElement(fp, {i}, fpk), fpk, f64); };
    auto param = [&](size_t i, Value otherwise) {
      if (!ops[i])
        return otherwise;
      CGValue v = expr(*ops[i]);
      return castScalar(v.single(), v.type.scalarKind(), f64);
    };
    // (Where the checks above return, in a parallel region: NaN.)
    Value bad = B.create<arith::OrIOp>(
        CurLoc, empty, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, len(fp), n));
    Value safeLast = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), last);
    Value leftV = param(3, Value()), rightV = param(4, Value());
    auto one = [&, leftV, rightV](Value x) -> Value {
      return emitIf(bad, {B.getF64Type()},
                    [&]() -> SmallVector<Value> { return {constFloat(NAN, f64)}; },
                    [&]() -> SmallVector<Value> {
        Value x0 = X(constIndex(0)), xl = X(safeLast);
        Value lv = leftV ? leftV : Y(constIndex(0));
        Value rv = rightV ? rightV : Y(safeLast);
        // j with xp[j] <= x < xp[j + 1] (clamped into the table).
        Value j = B.create<arith::SubIOp>(CurLoc, searchSorted(xp, xpk, n, x, f64, true),
                                          constIndex(1));
        Value lastStart = B.create<arith::MaxSIOp>(
            CurLoc, B.create<arith::SubIOp>(CurLoc, safeLast, constIndex(1)), constIndex(0));
        j = B.create<arith::MinSIOp>(CurLoc, B.create<arith::MaxSIOp>(CurLoc, j, constIndex(0)),
                                     lastStart);
        Value j1 = B.create<arith::MinSIOp>(
            CurLoc, B.create<arith::AddIOp>(CurLoc, j, constIndex(1)), safeLast);
        Value xj = X(j), xj1 = X(j1), yj = Y(j), yj1 = Y(j1);
        Value slope = B.create<arith::DivFOp>(CurLoc, B.create<arith::SubFOp>(CurLoc, yj1, yj),
                                              B.create<arith::SubFOp>(CurLoc, xj1, xj));
        auto isNan = [&](Value v) {
          return B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNO, v, v).getResult();
        };
        // NumPy: slope (x - xp[j]) + fp[j]; if NaN, from the other end; if
        // still NaN and fp[j] == fp[j + 1], fp[j].
        auto along = [&](Value from, Value at) {
          Value dx = B.create<arith::SubFOp>(CurLoc, x, from);
          return B.create<arith::AddFOp>(CurLoc, B.create<arith::MulFOp>(CurLoc, slope, dx), at)
              .getResult();
        };
        Value v = along(xj, yj), v2 = along(xj1, yj1);
        v = B.create<arith::SelectOp>(CurLoc, isNan(v), v2, v);
        Value flatPart = B.create<arith::AndIOp>(
            CurLoc, isNan(v), B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, yj, yj1));
        v = B.create<arith::SelectOp>(CurLoc, flatPart, yj, v);
        v = B.create<arith::SelectOp>(
            CurLoc, B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, x, xj), yj, v);
        v = B.create<arith::SelectOp>(
            CurLoc, B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, x, xl),
            Y(safeLast), v);
        v = B.create<arith::SelectOp>(
            CurLoc, B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OGT, x, xl), rv, v);
        v = B.create<arith::SelectOp>(
            CurLoc, B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OLT, x, x0), lv, v);
        return {B.create<arith::SelectOp>(CurLoc, isNan(x), x, v)};
      })[0];
    };
    const Type &xt = F.typeOf(*ops[0]);
    if (xt.isScalar()) {
      CGValue x = expr(*ops[0]);
      r.leaves.push_back(one(castScalar(x.single(), xt.scalarKind(), f64)));
      return r;
    }
    ScalarKind xk = xt.scalarKind();
    r.leaves.push_back(materialize(elementwise(
        rt, {lazy(*ops[0])}, [this, one, xk, f64](const SmallVector<Value> &v) {
          return one(castScalar(v[0], xk, f64));
        })));
    return r;
  }
  }
}

Value FunctionGen::elementAddress(Value mem, mlir::ValueRange idx) {
  auto mt = llvm::cast<mlir::MemRefType>(mem.getType());
  int64_t bytes = elementBytes(mt);
  auto md = B.create<memref::ExtractStridedMetadataOp>(CurLoc, mem);
  Value at = md.getOffset();
  for (size_t d = 0; d < idx.size(); ++d)
    at = B.create<arith::AddIOp>(CurLoc, at,
                                 B.create<arith::MulIOp>(CurLoc, idx[d], md.getStrides()[d]));
  Value base = B.create<memref::ExtractAlignedPointerAsIndexOp>(CurLoc, mem);
  Value addr = B.create<arith::AddIOp>(CurLoc, base,
                                       B.create<arith::MulIOp>(CurLoc, at, constIndex(bytes)));
  return B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), addr);
}

void FunctionGen::forEachLane(
    llvm::ArrayRef<Value> arrays, llvm::ArrayRef<ScalarKind> kinds, unsigned ax,
    const std::function<void(llvm::ArrayRef<Value> addresses, Value n)> &body) {
  const unsigned rank = llvm::cast<mlir::MemRefType>(arrays[0].getType()).getRank();
  SmallVector<Value> shape, outer;
  for (unsigned d = 0; d < rank; ++d) {
    shape.push_back(B.create<memref::DimOp>(CurLoc, arrays[0], d));
    outer.push_back(d == ax ? constIndex(1) : shape.back());
  }
  Value n = shape[ax];
  Value n64 = B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), n);
  // Lanes are contiguous along a last axis whose stride is 1 in the type.
  auto unitLast = [](Value a) {
    SmallVector<int64_t> strides;
    int64_t offset;
    auto mt = llvm::cast<mlir::MemRefType>(a.getType());
    return mlir::succeeded(mlir::getStridesAndOffset(mt, strides, offset)) &&
           !strides.empty() && strides.back() == 1;
  };
  bool contiguous = ax + 1 == rank && llvm::all_of(arrays, unitLast);
  SmallVector<Value> temps;
  if (!contiguous)
    for (size_t i = 0; i < arrays.size(); ++i)
      temps.push_back(MG.allocArray(B, CurLoc, Type::array(kinds[i], 1, Type::Layout::C), {n}));
  auto copyLane = [&](const SmallVector<Value> &at, bool in) {
    forEach({n}, [&](mlir::ValueRange j) {
      SmallVector<Value> idx = at;
      idx[ax] = j[0];
      for (size_t i = 0; i < arrays.size(); ++i) {
        if (in)
          storeElement(loadElement(arrays[i], idx, kinds[i]), temps[i], {j[0]}, kinds[i]);
        else
          storeElement(loadElement(temps[i], {j[0]}, kinds[i]), arrays[i], idx, kinds[i]);
      }
    });
  };
  forEach(outer, [&](mlir::ValueRange ivs) {
    SmallVector<Value> at(ivs.begin(), ivs.end());
    SmallVector<Value> addresses;
    if (contiguous) {
      for (Value a : arrays)
        addresses.push_back(elementAddress(a, at));
      body(addresses, n64);
      return;
    }
    copyLane(at, true);
    for (Value t : temps)
      addresses.push_back(elementAddress(t, {constIndex(0)}));
    body(addresses, n64);
    copyLane(at, false);
  });
  for (Value t : temps)
    B.create<memref::DeallocOp>(CurLoc, t);
}

//===----------------------------------------------------------------------===//
// np.linalg
//===----------------------------------------------------------------------===//

CGValue FunctionGen::linalgCall(const CallInfo &info, const Type &rt) {
  using LF = LinalgFunction;
  const auto lf = static_cast<LF>(info.mode);
  const auto &ops = info.operands;
  CGValue r;
  r.type = rt;
  const ScalarKind wk = info.operandKind, f64 = ScalarKind::F64, i64 = ScalarKind::I64;
  auto i32 = [&](int64_t v) { return B.create<arith::ConstantIntOp>(CurLoc, v, 32).getResult(); };
  auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) {
    return B.create<arith::CmpIOp>(CurLoc, p, x, y).getResult();
  };
  auto dims = [&](Value m) {
    SmallVector<Value> s;
    for (int64_t d = 0; d < llvm::cast<mlir::MemRefType>(m.getType()).getRank(); ++d)
      s.push_back(B.create<memref::DimOp>(CurLoc, m, d));
    return s;
  };
  // A C-ordered copy of `e` in kind `k`, which the runtime may overwrite.
  auto workCopy = [&](const ast::Expr &e, ScalarKind k) {
    return materialize(converted(lazy(e), k));
  };
  Value a = workCopy(*ops[0], isInteger(wk) || isBool(wk) ? i64 : wk);
  SmallVector<Value> shape = dims(a);
  const unsigned rank = shape.size();
  SmallVector<Value> lead(shape.begin(), shape.end() - std::min(rank, 2u));
  Value m = rank >= 2 ? shape[rank - 2] : constIndex(1), n = shape[rank - 1];
  // A new C-ordered array of the stack's shape followed by `tail` (one
  // element where that is empty: a number's).
  auto stackOut = [&](ScalarKind k, llvm::ArrayRef<Value> tail) {
    SmallVector<Value> s = lead;
    s.append(tail.begin(), tail.end());
    if (s.empty())
      s.push_back(constIndex(1));
    return MG.allocArray(B, CurLoc, Type::array(k, s.size(), Type::Layout::C), s);
  };
  // The address of the matrix (or number) at stack position `ivs` of `mem`.
  auto addr = [&](Value mem, mlir::ValueRange ivs) {
    SmallVector<Value> idx(ivs.begin(), ivs.end());
    while (idx.size() < static_cast<size_t>(llvm::cast<mlir::MemRefType>(mem.getType()).getRank()))
      idx.push_back(constIndex(0));
    return elementAddress(mem, idx);
  };
  auto call = [&](llvm::StringRef name, mlir::ValueRange args, mlir::Type result = {}) {
    return MG.callRuntime(B, CurLoc, name, args,
                          result ? mlir::TypeRange(result) : mlir::TypeRange(B.getI32Type()));
  };
  auto fails = [&](Value status, int32_t code, llvm::StringRef text) {
    raiseIf(cmp(arith::CmpIPredicate::eq, status, i32(code)), KernelFaultKind::Raise, text, {});
  };
  // `mem` (kind `from`) as the result `t`: converted where the kinds differ,
  // the number loaded where `t` is one.
  auto result = [&](Value mem, ScalarKind from, const Type &t) {
    if (t.isScalar()) {
      Value v = castScalar(loadElement(mem, {constIndex(0)}, from), from, t.scalarKind());
      B.create<memref::DeallocOp>(CurLoc, mem);
      r.leaves.push_back(v);
      return;
    }
    if (from == t.scalarKind()) {
      r.leaves.push_back(mem);
      return;
    }
    r.leaves.push_back(
        materialize(converted(leaf(mem, Type::array(from, t.rank(), Type::Layout::C)),
                              t.scalarKind())));
    B.create<memref::DeallocOp>(CurLoc, mem);
  };
  auto part = [&](size_t i) { return rt.isTuple() ? rt.elements()[i] : rt; };
  // Functions of square matrices: n is 0 after the error, where a raise
  // returns (no host call), so that the runtime reads nothing.
  bool square = lf <= LF::Eigvalsh;
  if (square) {
    Value bad = cmp(arith::CmpIPredicate::ne, m, n);
    raiseIf(bad, KernelFaultKind::Raise,
            "LinAlgError: Last 2 dimensions of the array must be square", {});
    n = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), n);
    m = n;
  }
  Value m64 = indexToI64(m), n64 = indexToI64(n);
  Value cplx = i32(isComplex(wk) ? 1 : 0), none = constInt(0, i64);
  const char *svdFailed = "LinAlgError: SVD did not converge";
  switch (lf) {
  case LF::Det: {
    Value out = stackOut(wk, {});
    forEach(lead, [&](mlir::ValueRange ivs) {
      call("_stn_linalg_det", {addr(a, ivs), n64, cplx, addr(out, ivs)});
    });
    result(out, wk, rt);
    break;
  }
  case LF::Slogdet: {
    Value sign = stackOut(wk, {}), logdet = stackOut(f64, {});
    forEach(lead, [&](mlir::ValueRange ivs) {
      call("_stn_linalg_slogdet", {addr(a, ivs), n64, cplx, addr(sign, ivs), addr(logdet, ivs)});
    });
    result(sign, wk, part(0));
    result(logdet, f64, part(1));
    break;
  }
  case LF::Inv:
  case LF::Cholesky: {
    Value out = stackOut(wk, {n, n});
    forEach(lead, [&](mlir::ValueRange ivs) {
      if (lf == LF::Inv) {
        fails(call("_stn_linalg_inv", {addr(a, ivs), n64, cplx, addr(out, ivs)}),
              LinalgStatus::Singular, "LinAlgError: Singular matrix");
        return;
      }
      Value upper = i32(info.flags & LinalgUpper ? 1 : 0);
      fails(call("_stn_linalg_cholesky", {addr(a, ivs), n64, cplx, upper, addr(out, ivs)}),
            LinalgStatus::NotPositiveDefinite, "LinAlgError: Matrix is not positive definite");
    });
    result(out, wk, rt);
    break;
  }
  case LF::MatrixPower: {
    CGValue p = expr(*ops[1]);
    Value p64 = castScalar(p.single(), p.type.scalarKind(), i64);
    bool integral = isInteger(wk) || isBool(wk);
    ScalarKind ck = integral ? i64 : wk;
    LinalgPowerKind pk = isBool(wk)      ? LinalgPowerKind::Bool
                         : integral      ? LinalgPowerKind::Integer
                         : isComplex(wk) ? LinalgPowerKind::Complex
                                         : LinalgPowerKind::Real;
    Value out = stackOut(ck, {n, n});
    forEach(lead, [&](mlir::ValueRange ivs) {
      Value st = call("_stn_linalg_matrix_power",
                      {addr(a, ivs), n64, p64, i32(static_cast<int>(pk)), addr(out, ivs)});
      fails(st, LinalgStatus::Singular, "LinAlgError: Singular matrix");
      fails(st, LinalgStatus::NegativeIntegerPower,
            "ValueError: matrix_power of an integer matrix to a negative power: NumPy makes it "
            "a float matrix, whose type stn needs when it compiles (write the power as a "
            "constant, or convert the matrix with .astype(np.float64))");
    });
    result(out, ck, rt);
    break;
  }
  case LF::Eig:
  case LF::Eigvals: {
    Value w = stackOut(wk, {n});
    Value v = lf == LF::Eig ? stackOut(wk, {n, n}) : Value();
    forEach(lead, [&](mlir::ValueRange ivs) {
      Value st = call("_stn_linalg_eig", {addr(a, ivs), n64, cplx, addr(w, ivs),
                                          v ? addr(v, ivs) : none});
      fails(st, LinalgStatus::NoConvergence, "LinAlgError: Eigenvalues did not converge");
      fails(st, LinalgStatus::DomainChange,
            "ValueError: eig() argument must not cause a domain change: this real matrix has "
            "complex eigenvalues (stn, as Numba, keeps real results for real matrices; pass "
            "a.astype(np.complex128) for complex ones)");
    });
    result(w, wk, part(0));
    if (v)
      result(v, wk, part(1));
    break;
  }
  case LF::Eigh:
  case LF::Eigvalsh: {
    Value w = stackOut(f64, {n});
    Value v = lf == LF::Eigh ? stackOut(wk, {n, n}) : Value();
    Value upper = i32(info.flags & LinalgUpper ? 1 : 0);
    forEach(lead, [&](mlir::ValueRange ivs) {
      fails(call("_stn_linalg_eigh",
                 {addr(a, ivs), n64, cplx, upper, addr(w, ivs), v ? addr(v, ivs) : none}),
            LinalgStatus::NoConvergence, "LinAlgError: Eigenvalues did not converge");
    });
    result(w, f64, part(0));
    if (v)
      result(v, wk, part(1));
    break;
  }
  case LF::Svd: {
    bool full = info.flags & LinalgFullMatrices, uv = info.flags & LinalgComputeUV;
    Value k = B.create<arith::MinSIOp>(CurLoc, m, n);
    Value s = stackOut(f64, {k});
    Value u = uv ? stackOut(wk, {m, full ? m : k}) : Value();
    Value vt = uv ? stackOut(wk, {full ? n : k, n}) : Value();
    forEach(lead, [&](mlir::ValueRange ivs) {
      fails(call("_stn_linalg_svd", {addr(a, ivs), m64, n64, cplx, i32(full),
                                     u ? addr(u, ivs) : none, addr(s, ivs),
                                     vt ? addr(vt, ivs) : none}),
            LinalgStatus::NoConvergence, svdFailed);
    });
    if (!uv) {
      result(s, f64, rt);
      break;
    }
    result(u, wk, part(0));
    result(s, f64, part(1));
    result(vt, wk, part(2));
    break;
  }
  case LF::Qr: {
    bool complete = info.flags & LinalgComplete, rOnly = info.flags & LinalgROnly;
    Value k = B.create<arith::MinSIOp>(CurLoc, m, n);
    Value q = rOnly ? Value() : stackOut(wk, {m, complete ? m : k});
    Value rr = stackOut(wk, {complete ? m : k, n});
    forEach(lead, [&](mlir::ValueRange ivs) {
      call("_stn_linalg_qr", {addr(a, ivs), m64, n64, cplx, i32(complete),
                              q ? addr(q, ivs) : none, addr(rr, ivs)});
    });
    if (q)
      result(q, wk, part(0));
    result(rr, wk, part(rOnly ? 0 : 1));
    break;
  }
  case LF::Pinv: {
    Value rcond = constFloat(1e-15, f64);
    if (ops[1]) {
      CGValue c = expr(*ops[1]);
      rcond = castScalar(c.single(), c.type.scalarKind(), f64);
    }
    Value out = stackOut(wk, {n, m});
    forEach(lead, [&](mlir::ValueRange ivs) {
      fails(call("_stn_linalg_pinv", {addr(a, ivs), m64, n64, cplx, rcond, addr(out, ivs)}),
            LinalgStatus::NoConvergence, svdFailed);
    });
    result(out, wk, rt);
    break;
  }
  case LF::MatrixRank: {
    Value tol = constFloat(-1.0, f64);
    if (ops[1] && !F.typeOf(*ops[1]).isNone()) {
      CGValue c = expr(*ops[1]);
      tol = castScalar(c.single(), c.type.scalarKind(), f64);
    }
    Value out = stackOut(i64, {});
    forEach(lead, [&](mlir::ValueRange ivs) {
      Value v = call("_stn_linalg_rank",
                     {addr(a, ivs), m64, n64, cplx, tol, i32(rank == 1 ? 1 : 0)}, B.getI64Type());
      SmallVector<Value> at(ivs.begin(), ivs.end());
      if (at.empty())
        at.push_back(constIndex(0));
      storeElement(v, out, at, i64);
    });
    result(out, i64, rt);
    break;
  }
  case LF::Cond: {
    Value empty = B.create<arith::OrIOp>(CurLoc, cmp(arith::CmpIPredicate::eq, m, constIndex(0)),
                                         cmp(arith::CmpIPredicate::eq, n, constIndex(0)));
    raiseIf(empty, KernelFaultKind::Raise, "LinAlgError: cond is not defined on empty arrays", {});
    auto order = static_cast<NormOrder>(info.flags);
    Value p = constFloat(0, f64);
    if (order == NormOrder::Number) {
      CGValue c = expr(*ops[1]);
      p = castScalar(c.single(), c.type.scalarKind(), f64);
    }
    Value out = stackOut(f64, {});
    forEach(lead, [&](mlir::ValueRange ivs) {
      Value st = call("_stn_linalg_cond", {addr(a, ivs), m64, n64, cplx,
                                           i32(static_cast<int>(order)), p, addr(out, ivs)});
      raiseNormStatus(st);
      fails(st, LinalgStatus::NotSquare,
            "LinAlgError: Last 2 dimensions of the array must be square");
    });
    result(out, f64, rt);
    break;
  }
  case LF::Solve: {
    // b as one vector for every matrix (1-d), or a stack of (M, K)
    // matrices broadcast with a's.
    Value b = workCopy(*ops[1], wk);
    SmallVector<Value> bs = dims(b);
    const unsigned br = bs.size();
    Value bm = br == 1 ? bs[0] : bs[br - 2];
    Value kk = br == 1 ? constIndex(1) : bs[br - 1];
    SmallVector<Value> blead(bs.begin(), bs.end() - std::min(br, 2u));
    unsigned R = br == 1 ? rank - 2 : std::max(rank, br) - 2;
    SmallVector<Value> outLead = br == 1 ? lead : broadcastShape({lead, blead}, R);
    if (br > 1) {
      SmallVector<Value> sa = shape;
      raiseIf(broadcastFails(lead, blead, outLead), KernelFaultKind::Broadcast, "",
              shapePair(sa, bs));
    }
    Value bad = cmp(arith::CmpIPredicate::ne, bm, n);
    raiseIf(bad, KernelFaultKind::Raise,
            fmt::format("ValueError: solve: Input operand 1 has a mismatch in its core dimension "
                        "0, with gufunc signature (m,m),(m{})->(m{}) (size {}i is different "
                        "from {}i)",
                        br == 1 ? "" : ",n", br == 1 ? "" : ",n", kRaisedValue, kRaisedValue),
            {bm, n});
    n = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), n);
    n64 = indexToI64(n);
    SmallVector<Value> outShape = outLead;
    outShape.push_back(bm);
    if (br > 1)
      outShape.push_back(kk);
    Value out = MG.allocArray(B, CurLoc, Type::array(wk, outShape.size(), Type::Layout::C),
                              outShape);
    // out = b broadcast; each matrix of a copied to a scratch the solver
    // overwrites (one matrix of a may serve several of b).
    Value bv = MG.broadcastView(B, CurLoc, b, br, outLead, br == 1 ? 1 : 2);
    forEach(outShape, [&](mlir::ValueRange ivs) {
      SmallVector<Value> at(ivs.begin(), ivs.end());
      storeElement(loadElement(bv, at, wk), out, at, wk);
    });
    Value av = MG.broadcastView(B, CurLoc, a, rank, outLead, 2);
    Value scratch = MG.allocArray(B, CurLoc, Type::array(wk, 2, Type::Layout::C), {n, n});
    forEach(outLead, [&](mlir::ValueRange ivs) {
      forEach({n, n}, [&](mlir::ValueRange ij) {
        SmallVector<Value> at(ivs.begin(), ivs.end());
        at.append(ij.begin(), ij.end());
        storeElement(loadElement(av, at, wk), scratch, {ij[0], ij[1]}, wk);
      });
      fails(call("_stn_linalg_solve",
                 {addr(scratch, {}), n64, addr(out, ivs), indexToI64(kk), cplx}),
            LinalgStatus::Singular, "LinAlgError: Singular matrix");
    });
    B.create<memref::DeallocOp>(CurLoc, scratch);
    B.create<memref::DeallocOp>(CurLoc, b);
    result(out, wk, rt);
    break;
  }
  case LF::Lstsq: {
    Value b = workCopy(*ops[1], wk);
    SmallVector<Value> bs = dims(b);
    const bool vector = bs.size() == 1;
    Value kk = vector ? constIndex(1) : bs[1];
    Value bad = cmp(arith::CmpIPredicate::ne, bs[0], m);
    raiseIf(bad, KernelFaultKind::Raise, "LinAlgError: Incompatible dimensions", {});
    m = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), m);
    m64 = indexToI64(m);
    Value rcond = constFloat(-1.0, f64);
    if (ops[2] && !F.typeOf(*ops[2]).isNone()) {
      CGValue c = expr(*ops[2]);
      rcond = castScalar(c.single(), c.type.scalarKind(), f64);
    }
    Value k = B.create<arith::MinSIOp>(CurLoc, m, n);
    SmallVector<Value> xs = {n};
    if (!vector)
      xs.push_back(kk);
    Value x = MG.allocArray(B, CurLoc, Type::array(wk, xs.size(), Type::Layout::C), xs);
    auto vec = [&](ScalarKind vk, Value len) {
      return MG.allocArray(B, CurLoc, Type::array(vk, 1, Type::Layout::C), {len});
    };
    Value res = vec(f64, kk), rk = vec(i64, constIndex(1)), s = vec(f64, k);
    fails(call("_stn_linalg_lstsq", {addr(a, {}), m64, n64, addr(b, {}), indexToI64(kk), cplx,
                                     rcond, addr(x, {}), addr(res, {}), addr(rk, {}), addr(s, {})}),
          LinalgStatus::NoConvergence, "LinAlgError: SVD did not converge in Linear Least Squares");
    // The squared residuals exist where a has full column rank and more
    // rows than columns; else they are an empty array.
    Value rankV = loadElement(rk, {constIndex(0)}, i64);
    Value have = B.create<arith::AndIOp>(CurLoc, cmp(arith::CmpIPredicate::eq, rankV, n64),
                                         cmp(arith::CmpIPredicate::sgt, m, n));
    Value resLen = B.create<arith::SelectOp>(CurLoc, have, kk, constIndex(0));
    Value residuals = vec(f64, resLen);
    forEach({resLen}, [&](mlir::ValueRange i) {
      storeElement(loadElement(res, {i[0]}, f64), residuals, {i[0]}, f64);
    });
    for (Value t : {b, res, rk})
      B.create<memref::DeallocOp>(CurLoc, t);
    result(x, wk, part(0));
    result(residuals, f64, part(1));
    r.leaves.push_back(rankV);
    result(s, f64, part(3));
    B.create<memref::DeallocOp>(CurLoc, a);
    return r;
  }
  }
  B.create<memref::DeallocOp>(CurLoc, a);
  return r;
}

FunctionGen::LazyArray FunctionGen::laneOf(const LazyArray &a, unsigned axis,
                                           SmallVector<Value> outer) {
  LazyArray line;
  line.type = Type::array(a.type.scalarKind(), 1, Type::Layout::C);
  line.shape = {a.shape[axis]};
  line.prepare = [](mlir::ValueRange) {};
  line.element = [&a, outer = std::move(outer), axis](mlir::ValueRange iv) {
    SmallVector<Value> full(outer.begin(), outer.end());
    full.insert(full.begin() + axis, iv[0]);
    return a.element(full);
  };
  return line;
}

Value FunctionGen::vectorNorm(LazyArray a, ScalarKind k, Value p) {
  const ScalarKind ak = a.type.scalarKind(), f64 = ScalarKind::F64;
  const Type t = Type::array(k, a.type.rank(), Type::Layout::C);
  // The elements mapped by `f`, in kind k.
  auto mapped = [&](std::function<Value(Value)> f) {
    return elementwise(t, {a}, [f](const SmallVector<Value> &v) { return f(v[0]); });
  };
  auto magnitude = [this, ak, k](Value x) -> Value {
    if (isComplex(ak))
      return castScalar(B.create<complex::AbsOp>(CurLoc, x), complexPart(ak), k);
    return B.create<math::AbsFOp>(CurLoc, castScalar(x, ak, k));
  };
  auto square = [this, ak, k](Value x) {
    auto mul = [&](Value y) { return arith2(ast::BinOpKind::Mul, y, y, k, CurLoc); };
    if (!isComplex(ak))
      return mul(castScalar(x, ak, k));
    Value re = B.create<complex::ReOp>(CurLoc, x), im = B.create<complex::ImOp>(CurLoc, x);
    return arith2(ast::BinOpKind::Add, mul(re), mul(im), k, CurLoc);
  };
  auto sumOf = [&](std::function<Value(Value)> f) { return reduce(mapped(f), Builtin::Sum, k); };
  auto twoNorm = [&]() -> Value { return B.create<math::SqrtOp>(CurLoc, sumOf(square)); };
  if (!p)
    return twoNorm();
  // NumPy's orders, chosen when the kernel runs (constant ones fold).
  auto choose = [&](Value cond, const std::function<Value()> &then,
                    const std::function<Value()> &otherwise) {
    return emitIf(cond, {scalarType(Ctx, k)}, [&] { return SmallVector<Value>{then()}; },
                  [&] { return SmallVector<Value>{otherwise()}; })[0];
  };
  auto is = [&](double v) -> Value {
    return B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::OEQ, p, constFloat(v, f64));
  };
  const double inf = std::numeric_limits<double>::infinity();
  auto extreme = [&](Builtin b) { return reduce(mapped(magnitude), b, k); };
  auto nonzero = [&](Value x) -> Value { // a NaN counts, as NumPy's x != 0
    Value ne = B.create<arith::CmpFOp>(CurLoc, arith::CmpFPredicate::UNE, magnitude(x),
                                       constFloat(0, k));
    return B.create<arith::SelectOp>(CurLoc, ne, constFloat(1, k), constFloat(0, k));
  };
  auto general = [&]() -> Value { // sum(|x|^p)^(1/p)
    Value pk = castScalar(p, f64, k);
    Value sum = sumOf([&](Value x) { return B.create<math::PowFOp>(CurLoc, magnitude(x), pk); });
    Value inv = B.create<arith::DivFOp>(CurLoc, constFloat(1, k), pk);
    return B.create<math::PowFOp>(CurLoc, sum, inv);
  };
  return choose(is(inf), [&] { return extreme(Builtin::ReduceMax); }, [&] {
    return choose(is(-inf), [&] { return extreme(Builtin::ReduceMin); }, [&] {
      return choose(is(0), [&] { return sumOf(nonzero); }, [&] {
        return choose(is(1), [&] { return sumOf(magnitude); }, [&] {
          return choose(is(2), twoNorm, general);
        });
      });
    });
  });
}

void FunctionGen::raiseNormStatus(Value status) {
  auto fails = [&](int32_t code, llvm::StringRef text) {
    Value c = B.create<arith::ConstantIntOp>(CurLoc, code, 32);
    raiseIf(B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, status, c),
            KernelFaultKind::Raise, text, {});
  };
  fails(LinalgStatus::InvalidNormOrder, "ValueError: Invalid norm order for matrices.");
  fails(LinalgStatus::EmptyMaximum,
        "ValueError: zero-size array to reduction operation maximum which has no identity");
  fails(LinalgStatus::EmptyMinimum,
        "ValueError: zero-size array to reduction operation minimum which has no identity");
  fails(LinalgStatus::NoConvergence, "LinAlgError: SVD did not converge");
}

CGValue FunctionGen::normCall(const CallInfo &info, const Type &rt) {
  const auto &ops = info.operands;
  const ScalarKind k = info.operandKind, f64 = ScalarKind::F64;
  const auto order = static_cast<NormOrder>(info.mode);
  const std::vector<unsigned> &axes = info.permutation;
  const bool keep = info.flags & 1;
  CGValue r;
  r.type = rt;
  Value p;
  if (order == NormOrder::Number) {
    CGValue o = expr(*ops[1]);
    p = castScalar(o.single(), o.type.scalarKind(), f64);
  }
  const Type xt = F.typeOf(*ops[0]);
  const unsigned rank = xt.rank();
  // The axes kept, in order; the result's element for their indices `ivs`
  // is at `ivs` with a 0 for each reduced axis (keepdims) or at `ivs`.
  SmallVector<unsigned> kept;
  for (unsigned d = 0; d < rank; ++d)
    if (!axes.empty() && !llvm::is_contained(axes, d))
      kept.push_back(d);
  // `vals` (one per kept axis) with `fill` for each reduced axis where
  // keepdims keeps it.
  auto withReduced = [&](mlir::ValueRange vals, Value fill) {
    SmallVector<Value> out;
    for (unsigned d = 0, i = 0; d < rank; ++d) {
      if (i < kept.size() && kept[i] == d)
        out.push_back(vals[i++]);
      else if (keep)
        out.push_back(fill);
    }
    return out;
  };
  auto place = [&](mlir::ValueRange ivs) { return withReduced(ivs, constIndex(0)); };
  // A new array of the result's shape (extents of the kept axes `sizes`).
  auto resultArray = [&](mlir::ValueRange sizes) {
    return MG.allocArray(B, CurLoc, rt, withReduced(sizes, constIndex(1)));
  };
  if (axes.size() < 2) {
    // A vector norm of all the elements (flattened), or along one axis.
    LazyArray x = lazy(*ops[0]);
    if (axes.empty() || !rt.isArray() || kept.empty()) {
      Value v = vectorNorm(x, k, axes.empty() ? Value() : p);
      if (!rt.isArray()) {
        r.leaves.push_back(v);
        return r;
      }
      Value out = resultArray({});
      storeElement(v, out, place({}), k);
      r.leaves.push_back(out);
      return r;
    }
    const unsigned axis = axes[0];
    x.prepare(x.shape);
    SmallVector<Value> sizes;
    for (unsigned d : kept)
      sizes.push_back(x.shape[d]);
    Value out = resultArray(sizes);
    forEach(sizes, [&](mlir::ValueRange ivs) {
      storeElement(vectorNorm(laneOf(x, axis, SmallVector<Value>(ivs.begin(), ivs.end())), k, p),
                   out, place(ivs), k);
    });
    r.leaves.push_back(out);
    return r;
  }
  // Matrix norms: the kept axes, then the row and column axes, copied in
  // C order as float64 (complex128) matrices the runtime reads.
  CGValue x = expr(*ops[0]);
  SmallVector<unsigned> perm(kept.begin(), kept.end());
  perm.append({axes[0], axes[1]});
  const Type view = Type::array(xt.scalarKind(), rank, Type::Layout::Any);
  const bool cplx = isComplex(xt.scalarKind());
  Value a = materialize(converted(leaf(permutedView(x.single(), perm, view), view),
                                  cplx ? ScalarKind::C128 : f64));
  SmallVector<Value> sizes;
  for (unsigned d = 0; d < rank; ++d)
    sizes.push_back(B.create<memref::DimOp>(CurLoc, a, d));
  Value m64 = indexToI64(sizes[rank - 2]), n64 = indexToI64(sizes[rank - 1]);
  sizes.resize(rank - 2);
  Value vals = MG.allocArray(B, CurLoc, Type::array(f64, 1, Type::Layout::C), {constIndex(1)});
  Value out = rt.isArray() ? resultArray(sizes) : Value();
  auto i32 = [&](int64_t v) { return B.create<arith::ConstantIntOp>(CurLoc, v, 32).getResult(); };
  forEach(sizes, [&](mlir::ValueRange ivs) {
    SmallVector<Value> at(ivs.begin(), ivs.end());
    at.append({constIndex(0), constIndex(0)});
    Value st = MG.callRuntime(B, CurLoc, "_stn_linalg_matrix_norm",
                              {elementAddress(a, at), m64, n64, i32(cplx ? 1 : 0),
                               i32(static_cast<int>(order)), p ? p : constFloat(0, f64),
                               elementAddress(vals, {constIndex(0)})},
                              mlir::TypeRange(B.getI32Type()));
    raiseNormStatus(st);
    if (out)
      storeElement(castScalar(loadElement(vals, {constIndex(0)}, f64), f64, k), out, place(ivs),
                   k);
  });
  if (!out)
    r.leaves.push_back(castScalar(loadElement(vals, {constIndex(0)}, f64), f64, k));
  else
    r.leaves.push_back(out);
  B.create<memref::DeallocOp>(CurLoc, a);
  B.create<memref::DeallocOp>(CurLoc, vals);
  return r;
}

void FunctionGen::sortLanes(Value mem, ScalarKind k, unsigned ax) {
  Value kind = B.create<arith::ConstantIntOp>(CurLoc, static_cast<int64_t>(k), 32);
  forEachLane({mem}, {k}, ax, [&](llvm::ArrayRef<Value> a, Value n) {
    MG.callRuntime(B, CurLoc, "_stn_sort", {a[0], n, kind}, {});
  });
}

Value FunctionGen::sorted(const CallInfo &info, CGValue src, const Type &rt) {
  Value mem = src.single();
  Type st = src.type;
  ScalarKind sk = st.scalarKind();
  // A C-ordered copy to sort in (sort) or to read the keys from (argsort);
  // flattened, a 1-d view of it.
  Value copy = materialize(leaf(mem, st));
  unsigned ax = 0;
  if (info.axis < 0) {
    copy = withCShape(copy, {elementCount(copy, st.rank())}, Type::array(sk, 1, Type::Layout::C));
    st = Type::array(sk, 1, Type::Layout::C);
  } else {
    ax = static_cast<unsigned>(info.axis);
  }
  Type ct = Type::array(sk, st.rank(), Type::Layout::C);
  auto kindArg = [&](ScalarKind k) {
    return B.create<arith::ConstantIntOp>(CurLoc, static_cast<int64_t>(k), 32).getResult();
  };
  if (info.builtin == Builtin::Sort) {
    sortLanes(copy, sk, ax);
    if (ct == rt)
      return copy;
    return B.create<memref::CastOp>(CurLoc, memrefType(Ctx, rt), copy);
  }
  SmallVector<Value> shape;
  for (unsigned d = 0; d < st.rank(); ++d)
    shape.push_back(B.create<memref::DimOp>(CurLoc, copy, d));
  Value index = MG.allocArray(B, CurLoc, rt, shape);
  forEachLane({copy, index}, {sk, ScalarKind::I64}, ax, [&](llvm::ArrayRef<Value> a, Value n) {
    MG.callRuntime(B, CurLoc, "_stn_argsort", {a[0], a[1], n, kindArg(sk)}, {});
  });
  B.create<memref::DeallocOp>(CurLoc, copy);
  return index;
}

Value FunctionGen::permutedView(Value src, llvm::ArrayRef<unsigned> perm, const Type &rt) {
  mlir::MemRefType want = memrefType(Ctx, rt);
  bool identity = true;
  for (unsigned d = 0; d < perm.size(); ++d)
    identity = identity && perm[d] == d;
  if (identity)
    return src.getType() == want ? src : B.create<memref::CastOp>(CurLoc, want, src).getResult();
  auto meta = B.create<memref::ExtractStridedMetadataOp>(CurLoc, src);
  SmallVector<mlir::OpFoldResult> sizes, strides;
  for (unsigned d : perm) {
    sizes.push_back(meta.getSizes()[d]);
    strides.push_back(meta.getStrides()[d]);
  }
  return B.create<memref::ReinterpretCastOp>(CurLoc, want, meta.getBaseBuffer(),
                                             mlir::OpFoldResult(meta.getOffset()), sizes,
                                             strides);
}

/// target[...] = v: a scalar fills the view; an array is broadcast into it
/// (assignArray).
void FunctionGen::assignSlice(const ast::Subscript &target, const CGValue &v) {
  if (v.type.isScalar()) {
    Value view = sliceView(target);
    Type vt = F.typeOf(target);
    ScalarKind k = vt.scalarKind();
    SmallVector<Value> shape;
    for (unsigned d = 0; d < vt.rank(); ++d)
      shape.push_back(B.create<memref::DimOp>(CurLoc, view, d));
    Value x = castScalar(v.single(), v.type.scalarKind(), k);
    forEach(shape, [&](mlir::ValueRange ivs) {
      storeElement(x, view, SmallVector<Value>(ivs.begin(), ivs.end()), k);
    });
    return;
  }
  LazyArray src = leaf(v.single(), v.type);
  if (AssigningFresh)
    src.reads.clear(); // a new array overlaps nothing
  assignArray(target, std::move(src));
}

/// target[...] = src for an array value (a whole elementwise expression is
/// one LazyArray, not yet stored anywhere): broadcast into the view,
/// directly unless the view overlaps an array the value reads.
void FunctionGen::assignArray(const ast::Subscript &target, LazyArray src, Value view) {
  if (!view)
    view = sliceView(target);
  ScalarKind k = F.typeOf(target).scalarKind();
  SmallVector<Value> shape;
  for (unsigned d = 0; d < F.typeOf(target).rank(); ++d)
    shape.push_back(B.create<memref::DimOp>(CurLoc, view, d));
  if (!src.shape.empty() && src.shape.size() <= shape.size()) {
    // The value must broadcast to the target (NumPy's rule); where the
    // raise returns (in a parallel region) nothing is copied.
    SourceRange saved = CurRange;
    CurRange = target.range();
    Value bad = broadcastFails(src.shape, {}, shape);
    auto *n = dyn_cast<ast::Name>(target.value.get());
    raiseIf(bad, KernelFaultKind::AssignShape,
            n ? llvm::StringRef(n->id) : llvm::StringRef("array"), shapePair(src.shape, shape));
    for (Value &d : shape)
      d = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), d);
    CurRange = saved;
  }
  storeInto(std::move(src), view, shape, k);
}


//===----------------------------------------------------------------------===//
// Boolean masks and in-place updates
//===----------------------------------------------------------------------===//

void FunctionGen::ifThen(Value cond, const std::function<void()> &body) {
  auto ifOp = B.create<scf::IfOp>(CurLoc, mlir::TypeRange{}, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard g(B);
  B.setInsertionPoint(ifOp.getThenRegion().front().getTerminator());
  body();
}

/// a[mask]: the selected elements in C order, as a new 1-d array.
Value FunctionGen::maskGather(const ast::Subscript &s) {
  CGValue base = expr(*s.value);
  LazyArray src = leaf(base.single(), base.type);
  src.prepare(src.shape);
  auto *n = dyn_cast<ast::Name>(s.value.get());
  Value bad;
  return compress(lazy(*s.index), src.shape, F.typeOf(s),
                  n ? llvm::StringRef(n->id) : llvm::StringRef("array"),
                  [&](mlir::ValueRange ivs) { return src.element(ivs); }, bad);
}

Value FunctionGen::maskMismatch(const LazyArray &mask, SmallVector<Value> &shape,
                                llvm::StringRef name) {
  Value bad = constBool(false);
  for (size_t d = 0; d < shape.size(); ++d) {
    Value wrong =
        B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, mask.shape[d], shape[d]);
    raiseIf(wrong, KernelFaultKind::MaskLength, name,
            {constIndex(static_cast<int64_t>(d)), shape[d], mask.shape[d]});
    bad = B.create<arith::OrIOp>(CurLoc, bad, wrong);
  }
  for (Value &e : shape)
    e = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), e);
  return bad;
}

Value FunctionGen::compress(LazyArray mask, SmallVector<Value> shape, const Type &outType,
                            llvm::StringRef name,
                            const std::function<Value(mlir::ValueRange)> &value, Value &bad) {
  bad = maskMismatch(mask, shape, name);
  // The count first (a reduction over the mask), then the copy.
  Value count = B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(),
                                             reduce(mask, Builtin::Sum, ScalarKind::I64));
  Value out = MG.allocArray(B, CurLoc, outType, {count});
  mask.prepare(shape);
  Value next = entryAlloca(B.getIndexType());
  B.create<memref::StoreOp>(CurLoc, constIndex(0), next);
  ScalarKind mk = mask.type.scalarKind(), k = outType.scalarKind();
  forEach(shape, [&](mlir::ValueRange ivs) {
    ifThen(castScalar(mask.element(ivs), mk, ScalarKind::Bool), [&] {
      Value j = B.create<memref::LoadOp>(CurLoc, next);
      storeElement(value(ivs), out, {j}, k);
      B.create<memref::StoreOp>(CurLoc, B.create<arith::AddIOp>(CurLoc, j, constIndex(1)), next);
    });
  });
  return out;
}

/// a[mask] = v: a scalar goes to every selected element, a 1-d array's
/// elements to the selected ones in order.
void FunctionGen::maskStore(const ast::Subscript &s, const CGValue &v) {
  CGValue base = expr(*s.value);
  Type bt = base.type;
  Value dest = base.single();
  LazyArray mask = lazy(*s.index);
  SmallVector<Value> shape;
  for (unsigned d = 0; d < bt.rank(); ++d)
    shape.push_back(B.create<memref::DimOp>(CurLoc, dest, d));
  auto *name = dyn_cast<ast::Name>(s.value.get());
  SourceRange saved = CurRange;
  CurRange = s.range();
  maskMismatch(mask, shape, name ? llvm::StringRef(name->id) : llvm::StringRef("array"));
  Value src, copied, n, single;
  if (v.type.isArray()) {
    // A copy only where v shares memory with the target.
    n = B.create<memref::DimOp>(CurLoc, v.single(), 0);
    src = snapshot(v.single(), v.type, dest, {n}, copied);
    // NumPy: as many values as selected elements, or one for all of them.
    single = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::eq, n, constIndex(1));
    Value count = B.create<arith::IndexCastOp>(CurLoc, B.getIndexType(),
                                               reduce(mask, Builtin::Sum, ScalarKind::I64));
    Value bad = B.create<arith::AndIOp>(
        CurLoc, B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, n, count),
        logicalNot(single));
    raiseIf(bad, KernelFaultKind::AssignShape,
            name ? llvm::StringRef(name->id) : llvm::StringRef("array"),
            shapePair({n}, {count}));
  }
  CurRange = saved;
  mask.prepare(shape);
  ScalarKind mk = mask.type.scalarKind(), k = bt.scalarKind();
  Value next = entryAlloca(B.getIndexType());
  B.create<memref::StoreOp>(CurLoc, constIndex(0), next);
  forEach(shape, [&](mlir::ValueRange ivs) {
    Value m = castScalar(mask.element(ivs), mk, ScalarKind::Bool);
    ifThen(m, [&] {
      SmallVector<Value> at(ivs.begin(), ivs.end());
      if (!src) {
        storeElement(castScalar(v.single(), v.type.scalarKind(), k), dest, at, k);
        return;
      }
      // Elements beyond the value's length are left alone (a raised error
      // that returned, in a parallel region).
      Value j = B.create<memref::LoadOp>(CurLoc, next);
      Value inRange = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, j, n);
      inRange = B.create<arith::OrIOp>(CurLoc, inRange, single);
      ifThen(inRange, [&] {
        Value x = loadElement(src, {B.create<arith::SelectOp>(CurLoc, single, constIndex(0), j)},
                              v.type.scalarKind());
        storeElement(castScalar(x, v.type.scalarKind(), k), dest, at, k);
      });
      B.create<memref::StoreOp>(CurLoc, B.create<arith::AddIOp>(CurLoc, j, constIndex(1)), next);
    });
  });
  if (src)
    ifThen(copied, [&] { B.create<memref::DeallocOp>(CurLoc, src); });
}

//===----------------------------------------------------------------------===//
// Integer-array (fancy) indexing
//===----------------------------------------------------------------------===//

FunctionGen::FancyIndex FunctionGen::fancyIndex(const ast::Subscript &s, bool forStore) {
  FancyIndex fi;
  CGValue base = expr(*s.value);
  fi.base = base.single();
  fi.baseType = base.type;
  auto *n = dyn_cast<ast::Name>(s.value.get());
  fi.name = n ? n->id : "array";
  fi.range = s.range();
  const unsigned rank = base.type.rank();
  const unsigned at = F.fancy.at(&s);
  std::vector<TypedFunction::SubscriptItem> items = F.arraySubscript(s, rank);
  SourceRange saved = CurRange;
  CurRange = s.range();
  // Per item of the subscript: a slice of axis `axis` of the base (lo + i *
  // step over a result axis), a new axis (a result axis of length 1), an
  // integer, or one of the index arrays.
  struct Axis {
    enum { Slice, New, Int, Array } kind;
    unsigned axis = 0;
    const ast::Expr *expr = nullptr;
    Value lo, step, index, extent;
    size_t array = 0;
  };
  auto axes = std::make_shared<std::vector<Axis>>(items.size());
  auto arrays = std::make_shared<std::vector<LazyArray>>();
  SmallVector<Value> sliceShape;
  Value bad = constBool(false);
  unsigned d = 0;
  for (size_t j = 0; j < items.size(); ++j) {
    Axis &ax = (*axes)[j];
    ax.expr = items[j].expr;
    if (items[j].newAxis) {
      ax.kind = Axis::New;
      sliceShape.push_back(constIndex(1));
      continue;
    }
    ax.axis = d++;
    ax.extent = B.create<memref::DimOp>(CurLoc, fi.base, ax.axis);
    if (!ax.expr || isa<ast::Slice>(ax.expr)) {
      ax.kind = Axis::Slice;
      Value count;
      if (ax.expr) {
        sliceBounds(*static_cast<const ast::Slice *>(ax.expr), ax.extent, ax.lo, count, ax.step);
      } else {
        ax.lo = constIndex(0);
        ax.step = constIndex(1);
        count = ax.extent;
      }
      sliceShape.push_back(count);
      continue;
    }
    Type it = F.typeOf(*ax.expr);
    if (it.isScalar()) {
      // An integer next to index arrays: checked like them.
      ax.kind = Axis::Int;
      CGValue v = expr(*ax.expr);
      Value given = toIndex(v.single(), v.type.scalarKind());
      Value i =
          isNonNegative(*ax.expr) ? given : wrapIndex(given, v.type.scalarKind(), ax.extent);
      Value out =
          indexOutOfBounds(s, fi.base, rank, ax.axis, i, given, KernelFaultKind::IndexArray);
      bad = B.create<arith::OrIOp>(CurLoc, bad, out);
      ax.index = i;
      continue;
    }
    ax.kind = Axis::Array;
    ax.array = arrays->size();
    if (isBool(it.scalarKind())) {
      Value wrongLength;
      Value pos = maskPositions(*ax.expr, ax.axis, ax.extent, fi.name, wrongLength);
      if (wrongLength)
        bad = B.create<arith::OrIOp>(CurLoc, bad, wrongLength);
      fi.temporaries.push_back({pos, Value()});
      arrays->push_back(leaf(pos, Type::array(ScalarKind::I64, 1, Type::Layout::C)));
      continue;
    }
    LazyArray ia;
    if (!forStore) {
      ia = lazy(*ax.expr);
    } else if (isElementwise(*ax.expr)) {
      // Computed into a new array before anything is stored.
      Value copy = materialize(lazy(*ax.expr));
      fi.temporaries.push_back({copy, Value()});
      ia = leaf(copy, Type::array(it.scalarKind(), it.rank(), Type::Layout::C));
    } else {
      Value mem = expr(*ax.expr).single();
      SmallVector<Value> own;
      for (unsigned k = 0; k < it.rank(); ++k)
        own.push_back(B.create<memref::DimOp>(CurLoc, mem, k));
      Value copied;
      Value snap = snapshot(mem, it, fi.base, own, copied);
      fi.temporaries.push_back({snap, copied});
      ia = leaf(snap, Type::array(it.scalarKind(), it.rank(), Type::Layout::Any));
    }
    arrays->push_back(std::move(ia));
  }
  // The index arrays broadcast together (NumPy's IndexError otherwise).
  const unsigned bRank = F.typeOf(s).rank() - static_cast<unsigned>(sliceShape.size());
  std::vector<SmallVector<Value>> shapes;
  for (auto &ia : *arrays)
    shapes.push_back(ia.shape);
  SmallVector<Value> bShape = broadcastShape(shapes, bRank);
  for (size_t j = 1; j < arrays->size(); ++j) {
    Value fails = broadcastFails(shapes[0], shapes[j], bShape);
    raiseIf(fails, KernelFaultKind::IndexShapes, "", shapePair(shapes[0], shapes[j]));
    bad = B.create<arith::OrIOp>(CurLoc, bad, fails);
  }
  // A gather checks every index in a pass of its own before it reads an
  // element: the count of bad ones (a loop that vectorizes), and only where
  // it is not 0 a loop that raises with the first. So the loop that reads
  // the elements has no checks: on a random gather it is short enough to
  // keep many cache misses in flight (bench/gather.cpp: 1.04x the time of
  // a C++ loop with the check inline, against 1.33x with it inline here).
  // A store checks each index where it stores (stores do not wait for
  // their cache misses; a second pass over the indices would cost more).
  for (size_t j = 0; j < axes->size() && !forStore; ++j) {
    const Axis &ax = (*axes)[j];
    if (ax.kind != Axis::Array || isBool(F.typeOf(*ax.expr).scalarKind()))
      continue; // a boolean index's positions are in bounds
    LazyArray ia = (*arrays)[ax.array];
    ScalarKind k = ia.type.scalarKind();
    Value extent = ax.extent;
    LazyArray outside = elementwise(
        Type::array(ScalarKind::Bool, ia.type.rank(), Type::Layout::C), {ia},
        [this, k, extent](const SmallVector<Value> &v) -> Value {
          return B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::uge,
                                         wrapIndex(toIndex(v[0], k), k, extent), extent);
        });
    Value count = reduce(outside, Builtin::Sum, ScalarKind::I64);
    Value any = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, count,
                                        constInt(0, ScalarKind::I64));
    ifThen(any, [&] {
      ia.prepare(ia.shape);
      forEach(ia.shape, [&](mlir::ValueRange ivs) {
        Value given = toIndex(ia.element(ivs), k);
        indexOutOfBounds(s, fi.base, rank, ax.axis, wrapIndex(given, k, extent), given,
                         KernelFaultKind::IndexArray);
      });
    });
    bad = B.create<arith::OrIOp>(CurLoc, bad, any);
  }
  for (auto &ia : *arrays)
    ia.prepare(bShape);
  // The indexed shape: the broadcast shape at `at` among the slices' axes.
  fi.shape.assign(sliceShape.begin(), sliceShape.begin() + at);
  fi.shape.append(bShape.begin(), bShape.end());
  fi.shape.append(sliceShape.begin() + at, sliceShape.end());
  // Where a check raised and returned (in a parallel region), nothing is
  // selected.
  for (Value &e : fi.shape)
    e = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), e);
  CurRange = saved;
  Value baseMem = fi.base;
  const ast::Subscript *sub = &s;
  bool inlineChecks = forStore;
  SourceRange range = fi.range;
  fi.select = [this, axes, arrays, at, bRank, rank, baseMem, sub, inlineChecks,
               range](mlir::ValueRange ivs, const FancyIndex::Use &use) {
    SmallVector<Value> idx;
    Value anyBad;
    SmallVector<Value> bIvs(ivs.begin() + at, ivs.begin() + at + bRank);
    unsigned sliceAxis = 0;
    for (const Axis &ax : *axes) {
      if (ax.kind == Axis::New) {
        ++sliceAxis; // its index is 0
        continue;
      }
      if (ax.kind == Axis::Slice) {
        Value iv = ivs[sliceAxis < at ? sliceAxis : sliceAxis + bRank];
        ++sliceAxis;
        idx.push_back(B.create<arith::AddIOp>(CurLoc, ax.lo,
                                              B.create<arith::MulIOp>(CurLoc, iv, ax.step)));
        continue;
      }
      if (ax.kind == Axis::Int) {
        idx.push_back(ax.index);
        continue;
      }
      LazyArray &ia = (*arrays)[ax.array];
      ScalarKind k = ia.type.scalarKind();
      Value given = toIndex(ia.element(bIvs), k);
      Value i = wrapIndex(given, k, ax.extent);
      if (inlineChecks) {
        SourceRange outer = CurRange;
        CurRange = range;
        Value out =
            indexOutOfBounds(*sub, baseMem, rank, ax.axis, i, given, KernelFaultKind::IndexArray);
        anyBad = anyBad ? B.create<arith::OrIOp>(CurLoc, anyBad, out) : out;
        CurRange = outer;
      }
      idx.push_back(i);
    }
    // Where a check raised and returned (in a parallel region), nothing is
    // written.
    if (anyBad)
      ifThen(logicalNot(anyBad), [&] { use(baseMem, idx); });
    else
      use(baseMem, idx);
  };
  return fi;
}

Value FunctionGen::wrapIndex(Value i, ScalarKind k, Value extent) {
  if (!isSignedInt(k))
    return i;
  Value neg = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::slt, i, constIndex(0));
  return B.create<arith::SelectOp>(CurLoc, neg, B.create<arith::AddIOp>(CurLoc, i, extent), i);
}

Value FunctionGen::maskPositions(const ast::Expr &m, unsigned axis, Value n,
                                 llvm::StringRef name, Value &bad) {
  LazyArray mask = lazy(m);
  // maskMismatch would name axis 0 of the 1-d mask: check it here.
  bad = B.create<arith::CmpIOp>(CurLoc, arith::CmpIPredicate::ne, mask.shape[0], n);
  raiseIf(bad, KernelFaultKind::MaskLength, name, {constIndex(axis), n, mask.shape[0]});
  Value unused;
  return compress(
      mask, {mask.shape[0]}, Type::array(ScalarKind::I64, 1, Type::Layout::C), name,
      [&](mlir::ValueRange ivs) -> Value {
        return B.create<arith::IndexCastOp>(CurLoc, B.getI64Type(), ivs[0]);
      },
      unused);
}

/// a[idx]: the selected elements as a new array (each written once, so the
/// copy may be split over the team).
Value FunctionGen::fancyGather(FancyIndex &fi, const Type &resultType) {
  Value out = MG.allocArray(B, CurLoc, resultType, fi.shape);
  ScalarKind k = fi.baseType.scalarKind();
  storeEach(fi.shape, [&](mlir::ValueRange ivs) {
    fi.select(ivs, [&](Value mem, const SmallVector<Value> &at) {
      storeElement(loadElement(mem, at, k), out, SmallVector<Value>(ivs.begin(), ivs.end()), k);
    });
  });
  return out;
}

/// The array `v` broadcast to the shape `fi` selects (a copy where it
/// shares memory with the target: `copied` says so), or null for a number.
/// A shape that does not broadcast raises NumPy's error; where the raise
/// returns (parallel regions), nothing is selected.
Value FunctionGen::fancyValues(FancyIndex &fi, const CGValue &v, Value &copied) {
  if (!v.type.isArray())
    return Value();
  SmallVector<Value> vs;
  for (unsigned d = 0; d < v.type.rank(); ++d)
    vs.push_back(B.create<memref::DimOp>(CurLoc, v.single(), d));
  SourceRange saved = CurRange;
  CurRange = fi.range;
  Value bad = broadcastFails(vs, {}, fi.shape);
  raiseIf(bad, KernelFaultKind::IndexValue, fi.name, shapePair(vs, fi.shape));
  for (Value &e : fi.shape)
    e = B.create<arith::SelectOp>(CurLoc, bad, constIndex(0), e);
  CurRange = saved;
  return snapshot(v.single(), v.type, fi.base, fi.shape, copied);
}

/// a[idx] = v: a scalar goes to every selected element; an array is
/// broadcast to the indexed shape (copied first only where it shares memory
/// with the target), then stored element by element in order, so that
/// where an index repeats the last value stays, as in NumPy.
void FunctionGen::fancyStore(FancyIndex &fi, const CGValue &v) {
  ScalarKind k = fi.baseType.scalarKind(), vk = v.type.scalarKind();
  Value copied;
  Value src = fancyValues(fi, v, copied);
  forEach(fi.shape, [&](mlir::ValueRange ivs) {
    fi.select(ivs, [&](Value mem, const SmallVector<Value> &at) {
      Value x =
          src ? loadElement(src, SmallVector<Value>(ivs.begin(), ivs.end()), vk) : v.single();
      storeElement(castScalar(x, vk, k), mem, at, k);
    });
  });
  if (src)
    ifThen(copied, [&] { B.create<memref::DeallocOp>(CurLoc, src); });
}

Value FunctionGen::snapshot(Value mem, const Type &t, Value dest, const SmallVector<Value> &shape,
                            Value &copied) {
  Value view = MG.broadcastView(B, CurLoc, mem, t.rank(), shape);
  copied = overlapsAny(dest, {mem});
  ScalarKind k = t.scalarKind();
  return emitIf(
      copied, {view.getType()},
      [&]() -> SmallVector<Value> {
        Type vt = Type::array(k, static_cast<unsigned>(shape.size()), Type::Layout::Any);
        Value copy = materialize(leaf(view, vt));
        return {B.create<memref::CastOp>(CurLoc, view.getType(), copy)};
      },
      [&]() -> SmallVector<Value> { return {view}; })[0];
}

void FunctionGen::releaseFancy(FancyIndex &fi) {
  for (auto &[t, cond] : fi.temporaries) {
    if (cond)
      ifThen(cond, [&] { B.create<memref::DeallocOp>(CurLoc, t); });
    else
      B.create<memref::DeallocOp>(CurLoc, t);
  }
  fi.temporaries.clear();
}

/// a op= v on an array (or a slice of one): in place, as NumPy does. The
/// result is computed into a temporary first so that overlapping operands
/// (a += a[::-1]) give NumPy's answer.
/// How `a` combines the current value `l` with `r` (both of kind `k`):
/// its operator, or np.maximum / np.minimum for those ufuncs' .at.
Value FunctionGen::augCombine(const ast::AugAssign &a, Value l, Value r, ScalarKind k,
                              Location at) {
  if (!a.atMinMax())
    return arith2(a.op, l, r, k, at);
  bool mn = a.atUfunc == "minimum";
  if (isFloat(k)) // NaN-propagating, as np.maximum
    return mn ? Value(B.create<arith::MinimumFOp>(at, l, r))
              : Value(B.create<arith::MaximumFOp>(at, l, r));
  if (isSignedInt(k))
    return mn ? Value(B.create<arith::MinSIOp>(at, l, r))
              : Value(B.create<arith::MaxSIOp>(at, l, r));
  return mn ? Value(B.create<arith::MinUIOp>(at, l, r)) : Value(B.create<arith::MaxUIOp>(at, l, r));
}

/// np.add.at(a, idx, v) with index arrays: unlike a[idx] += v, each index
/// updates its element in turn, so an element indexed twice gets both
/// updates (NumPy's unbuffered ufunc.at). v broadcasts to the shape of the
/// indices' result, as for a[idx] = v.
void FunctionGen::ufuncAtFancy(const ast::AugAssign &a, const ast::Subscript &s) {
  FancyIndex fi = fancyIndex(s, /*forStore=*/true);
  CGValue v = expr(*a.value);
  ScalarKind ck = fi.baseType.scalarKind(), vk = v.type.scalarKind();
  std::string err;
  auto rule = arrayBinaryRule(a.op, ck, true, false, vk, v.type.isArray(), F.isWeak(*a.value),
                              err);
  ScalarKind ok = rule->operand;
  Location at = loc(a.opRange);
  Value copied;
  Value src = fancyValues(fi, v, copied);
  forEach(fi.shape, [&](mlir::ValueRange ivs) {
    fi.select(ivs, [&](Value mem, const SmallVector<Value> &idx) {
      Value x =
          src ? loadElement(src, SmallVector<Value>(ivs.begin(), ivs.end()), vk) : v.single();
      Value y = castScalar(x, vk, ok);
      Value cur = castScalar(loadElement(mem, idx, ck), ck, ok);
      storeElement(castScalar(augCombine(a, cur, y, ok, at), ok, ck), mem, idx, ck);
    });
  });
  if (src)
    ifThen(copied, [&] { B.create<memref::DeallocOp>(CurLoc, src); });
  releaseFancy(fi);
}

void FunctionGen::augAssignArray(const ast::AugAssign &a) {
  Value dest;
  Type dt;
  // a[mask] op= v, a[idx] op= v: the selected elements are gathered,
  // combined and stored back (as in NumPy, an element indexed twice is
  // updated once).
  const ast::Subscript *gathered = nullptr;
  std::optional<FancyIndex> fi;
  if (auto *n = dyn_cast<ast::Name>(a.target.get())) {
    CGValue cur = readChecked(*n);
    dest = cur.single();
    dt = cur.type;
  } else {
    auto *s = static_cast<const ast::Subscript *>(a.target.get());
    dt = F.typeOf(*s);
    if (F.fancy.count(s) && a.isUfuncAt()) {
      ufuncAtFancy(a, *s);
      return;
    }
    if (F.fancy.count(s)) {
      gathered = s;
      fi = fancyIndex(*s, /*forStore=*/true);
      dest = fancyGather(*fi, dt);
    } else if (F.masks.count(s)) {
      gathered = s;
      dest = maskGather(*s);
    } else if (!F.typeOf(*s->value).isArray()) {
      dest = expr(*s).single(); // xs[i] += 1, d[k] += 1: into the item's elements
    } else {
      dest = sliceView(*s);
    }
  }
  LazyArray cur = leaf(dest, dt), val = lazy(*a.value);
  std::string err;
  auto rule = arrayBinaryRule(a.op, dt.scalarKind(), true, false, val.type.scalarKind(),
                              val.type.isArray(), F.isWeak(*a.value), err);
  ScalarKind ck = dt.scalarKind(), vk = val.type.scalarKind(), ok = rule->operand;
  Location at = loc(a.opRange);
  Type rt = Type::array(ck, dt.rank(), Type::Layout::C);
  auto combine = [this, &a, ck, vk, ok, at](const SmallVector<Value> &v) {
    return castScalar(augCombine(a, castScalar(v[0], ck, ok), castScalar(v[1], vk, ok), ok, at),
                      ok, ck);
  };
  LazyArray e = elementwise(rt, {cur, val}, combine);
  if (gathered) {
    CGValue res;
    res.type = rt;
    res.leaves.push_back(materialize(e));
    if (fi) {
      fancyStore(*fi, res);
      releaseFancy(*fi);
    } else {
      maskStore(*gathered, res);
    }
    B.create<memref::DeallocOp>(CurLoc, res.single());
    B.create<memref::DeallocOp>(CurLoc, dest);
    return;
  }
  // Each element of dest is read once, where it is then written: only the
  // value's arrays can make the update need a temporary (a[1:] += a[:-1]).
  e.reads = val.reads;
  SmallVector<Value> shape;
  for (unsigned d = 0; d < dt.rank(); ++d)
    shape.push_back(B.create<memref::DimOp>(CurLoc, dest, d));
  storeInto(std::move(e), dest, shape, ck);
}

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> generateMLIR(mlir::MLIRContext &ctx,
                                               const TypedFunction &entry,
                                               DiagnosticEngine &diags,
                                               GPUIntrinsicEmitter *gpu, CodegenLog *log) {
  loadStnDialects(ctx);
  ModuleGen gen(ctx, diags);
  gen.Gpu = gpu;
  gen.Log = log;
  return gen.run(entry);
}

mlir::MemRefType mlirArrayType(mlir::MLIRContext &ctx, const Type &t) {
  return memrefType(&ctx, t);
}

mlir::Type mlirStorageType(mlir::MLIRContext &ctx, ScalarKind k) { return storageType(&ctx, k); }

SmallVector<mlir::Value> messageArguments(OpBuilder &b, mlir::Location loc, llvm::StringRef text,
                                          llvm::ArrayRef<mlir::Value> values) {
  size_t n = std::min<size_t>(values.size(), kMaxFaultValues);
  SmallVector<mlir::Value> args = {
      messageText(b, loc, text), b.create<arith::ConstantIntOp>(loc, static_cast<int64_t>(n), 64)};
  args.append(values.begin(), values.begin() + n);
  while (args.size() < 2 + static_cast<size_t>(kMaxFaultValues))
    args.push_back(b.create<arith::ConstantIntOp>(loc, 0, 64));
  return args;
}

mlir::Value messageText(OpBuilder &b, mlir::Location loc, llvm::StringRef text) {
  auto module = b.getInsertionBlock()->getParentOp()->getParentOfType<mlir::ModuleOp>();
  std::string name = "__stn_text_" + llvm::utohexstr(llvm::hash_value(text));
  if (auto g = module.lookupSymbol<mlir::LLVM::GlobalOp>(name))
    return b.create<mlir::LLVM::AddressOfOp>(loc, g);
  std::string cstr = text.str();
  cstr.push_back('\0');
  return mlir::LLVM::createGlobalString(loc, b, name, cstr, mlir::LLVM::Linkage::Internal);
}

} // namespace stn
