//===- Interchange.cpp - Find loop nests to scalar-expand and interchange -===//
//
// See Interchange.h. This file only decides whether a nest may be
// transformed; MLIRGen.cpp (genInterchanged) emits the transformed nest and
// the run-time overlap test.
//
// Why the conditions below are enough. The transformed code evaluates, for
// every j, `init` once, then `update` once per k in ascending order, then
// `store`, exactly like the original; it only interleaves the work of
// different j. That is unobservable when
//   - the statements have no side effects besides assigning tmp, j, k and
//     the one store (no calls except a few pure builtins, no operation that
//     can raise: no division, modulo, power or shift; no bounds checks);
//   - nothing the interleaving moves reads memory that the stores write:
//     arrays read by `init` and `update` are not the stored array (by name
//     here, by address range at run time);
//   - `init` does not read tmp or k (whose values depend on the previous j)
//     and the inner loop's bounds read none of tmp, j, k (so they are the
//     same for every j and may be evaluated once).
// The locals end with the values of the original: after the last store
// loop tmp and j hold the last j's values, and k is only assigned when the
// outer loop runs at least once.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/Interchange.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>

namespace stn {

namespace {

using llvm::dyn_cast;
using llvm::isa;

/// `for name in range(a)` / `range(a, b)`, run serially, without `else`.
const ast::Name *simpleRangeLoop(const TypedFunction &f, const ast::For &s) {
  auto *target = dyn_cast<ast::Name>(s.target.get());
  auto it = f.loops.find(&s);
  if (!target || it == f.loops.end() || it->second.kind != ForInfo::Kind::Range ||
      it->second.runsParallel || !s.orelse.empty())
    return nullptr;
  auto *call = dyn_cast<ast::Call>(s.iter.get());
  if (!call || !call->keywords.empty() || call->args.empty() || call->args.size() > 2)
    return nullptr;
  return target;
}

/// Checks that expressions are pure and cannot raise, and collects the
/// arrays whose elements they read.
class PureChecker {
public:
  PureChecker(const TypedFunction &f, std::set<std::string> forbidden)
      : F(f), Forbidden(std::move(forbidden)) {}

  std::vector<std::string> reads;

  bool check(const ast::Expr &e) {
    if (F.constOf(e))
      return true;
    switch (e.kind()) {
    case ast::Expr::Kind::IntLit:
    case ast::Expr::Kind::FloatLit:
    case ast::Expr::Kind::BoolLit:
      return true;
    case ast::Expr::Kind::Name: {
      auto &n = static_cast<const ast::Name &>(e);
      return !Forbidden.count(n.id) && F.typeOf(e).isScalar();
    }
    case ast::Expr::Kind::BinOp: {
      auto &b = static_cast<const ast::BinOp &>(e);
      switch (b.op) {
      case ast::BinOpKind::Add:
      case ast::BinOpKind::Sub:
      case ast::BinOpKind::Mul:
      case ast::BinOpKind::BitAnd:
      case ast::BinOpKind::BitOr:
      case ast::BinOpKind::BitXor:
        return F.typeOf(e).isScalar() && check(*b.lhs) && check(*b.rhs);
      default:
        return false; // may raise (division by zero, negative shift) or slow
      }
    }
    case ast::Expr::Kind::UnaryOp: {
      auto &u = static_cast<const ast::UnaryOp &>(e);
      return F.typeOf(e).isScalar() && check(*u.operand);
    }
    case ast::Expr::Kind::Subscript:
      return subscript(static_cast<const ast::Subscript &>(e));
    case ast::Expr::Kind::Call:
      return call(static_cast<const ast::Call &>(e));
    default:
      return false;
    }
  }

private:
  bool arrayName(const ast::Expr &e, std::string &name) {
    auto *n = dyn_cast<ast::Name>(&e);
    if (!n || Forbidden.count(n->id))
      return false;
    auto it = F.vars.find(n->id);
    if (it == F.vars.end() || !it->second.isArray())
      return false;
    name = n->id;
    return true;
  }

  bool subscript(const ast::Subscript &s) {
    if (F.copiesElements(s) || !F.typeOf(s).isScalar())
      return false;
    // `a.shape[d]` with a constant d: metadata, no memory read.
    if (auto *at = dyn_cast<ast::Attribute>(s.value.get())) {
      std::string arr;
      auto ti = F.tupleIndex.find(&s);
      return at->attr == "shape" && arrayName(*at->value, arr) && ti != F.tupleIndex.end() &&
             ti->second >= 0;
    }
    std::string arr;
    if (!arrayName(*s.value, arr))
      return false;
    auto idx = ast::subscriptIndices(s);
    if (idx.size() != F.typeOf(*s.value).rank())
      return false;
    for (const ast::Expr *i : idx) {
      if (isa<ast::Slice>(i) || !F.typeOf(*i).isScalar() || !isInteger(F.typeOf(*i).scalarKind()))
        return false;
      if (!check(*i))
        return false;
    }
    if (std::find(reads.begin(), reads.end(), arr) == reads.end())
      reads.push_back(arr);
    return true;
  }

  bool call(const ast::Call &c) {
    auto it = F.calls.find(&c);
    if (it == F.calls.end() || it->second.kind != CallInfo::Kind::Builtin ||
        it->second.receiver || !c.keywords.empty() || !F.typeOf(c).isScalar())
      return false;
    switch (it->second.builtin) {
    case Builtin::Len: {
      std::string arr;
      return c.args.size() == 1 && arrayName(*c.args[0], arr);
    }
    case Builtin::Abs:
    case Builtin::Min:
    case Builtin::Max:
    case Builtin::Float:
      for (auto &a : c.args)
        if (!check(*a))
          return false;
      return !c.args.empty();
    default:
      return false;
    }
  }

  const TypedFunction &F;
  std::set<std::string> Forbidden;
};

/// `name = value` with one plain Name target.
const ast::Assign *assignsName(const ast::Stmt &s, const std::string &name) {
  auto *a = dyn_cast<ast::Assign>(&s);
  if (!a || !a->value || a->annotation || a->targets.size() != 1)
    return nullptr;
  auto *n = dyn_cast<ast::Name>(a->targets[0].get());
  return n && n->id == name ? a : nullptr;
}

} // namespace

bool interchangeEnabled() {
  static const bool enabled = [] {
    const char *v = std::getenv("STN_INTERCHANGE");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return enabled;
}

std::optional<InterchangePlan> findInterchange(const TypedFunction &f, const ast::For &loop) {
  if (f.kind != KernelKind::Jit || f.onGpu() || !f.decl || f.decl->options.boundscheck)
    return std::nullopt;
  const ast::Name *j = simpleRangeLoop(f, loop);
  if (!j || loop.body.size() != 3)
    return std::nullopt;

  InterchangePlan p;
  p.outer = &loop;

  // tmp = <init>
  auto *init = dyn_cast<ast::Assign>(loop.body[0].get());
  auto *accName = init && init->targets.size() == 1
                      ? dyn_cast<ast::Name>(init->targets[0].get())
                      : nullptr;
  if (!accName || !assignsName(*init, accName->id))
    return std::nullopt;
  p.init = init;
  p.acc = accName->id;
  auto accIt = f.vars.find(p.acc);
  if (accIt == f.vars.end() || !accIt->second.isScalar())
    return std::nullopt;
  ScalarKind ak = accIt->second.scalarKind();
  if (!isInteger(ak) && !isFloat(ak))
    return std::nullopt;

  // for k in range(...): <update>
  auto *inner = dyn_cast<ast::For>(loop.body[1].get());
  const ast::Name *k = inner ? simpleRangeLoop(f, *inner) : nullptr;
  if (!k || inner->body.size() != 1)
    return std::nullopt;
  p.inner = inner;
  if (k->id == j->id || k->id == p.acc || j->id == p.acc)
    return std::nullopt;

  PureChecker reads(f, {});
  // The inner bounds are evaluated once instead of once per j.
  PureChecker bounds(f, {p.acc, j->id, k->id});
  for (auto &a : llvm::cast<ast::Call>(inner->iter.get())->args)
    if (!bounds.check(*a))
      return std::nullopt;
  PureChecker initCheck(f, {p.acc, k->id});
  if (!initCheck.check(*init->value))
    return std::nullopt;

  const ast::Stmt &u = *inner->body[0];
  if (auto *aa = dyn_cast<ast::AugAssign>(&u)) {
    auto *n = dyn_cast<ast::Name>(aa->target.get());
    if (!n || n->id != p.acc)
      return std::nullopt;
    switch (aa->op) {
    case ast::BinOpKind::Add:
    case ast::BinOpKind::Sub:
    case ast::BinOpKind::Mul:
    case ast::BinOpKind::BitAnd:
    case ast::BinOpKind::BitOr:
    case ast::BinOpKind::BitXor:
      break;
    default:
      return std::nullopt;
    }
    if (!reads.check(*aa->value))
      return std::nullopt;
  } else if (auto *as = assignsName(u, p.acc)) {
    if (!reads.check(*as->value))
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  p.update = &u;

  // C[idx] = <expr>
  auto *store = dyn_cast<ast::Assign>(loop.body[2].get());
  if (!store || !store->value || store->annotation || store->targets.size() != 1)
    return std::nullopt;
  auto *sub = dyn_cast<ast::Subscript>(store->targets[0].get());
  auto *base = sub ? dyn_cast<ast::Name>(sub->value.get()) : nullptr;
  if (!base || f.copiesElements(*sub) || !f.typeOf(*sub).isScalar())
    return std::nullopt;
  auto baseIt = f.vars.find(base->id);
  if (baseIt == f.vars.end() || !baseIt->second.isArray())
    return std::nullopt;
  auto idx = ast::subscriptIndices(*sub);
  if (idx.size() != baseIt->second.rank())
    return std::nullopt;
  PureChecker storeCheck(f, {});
  for (const ast::Expr *i : idx)
    if (isa<ast::Slice>(i) || !storeCheck.check(*i))
      return std::nullopt;
  if (!storeCheck.check(*store->value))
    return std::nullopt;
  p.store = store;
  p.target = base->id;

  for (auto *c : {&bounds, &initCheck, &reads})
    for (auto &r : c->reads)
      if (std::find(p.reads.begin(), p.reads.end(), r) == p.reads.end())
        p.reads.push_back(r);
  // Reading the stored array itself: the original reads values the nest
  // has just written.
  if (std::find(p.reads.begin(), p.reads.end(), p.target) != p.reads.end())
    return std::nullopt;
  return p;
}

} // namespace stn
