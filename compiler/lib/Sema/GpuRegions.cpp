//===- GpuRegions.cpp - prange nests of @jit(target="cuda") kernels -------===//
//
// See GpuRegions.h.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/GpuRegions.h"

#include "llvm/Support/Casting.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>

using llvm::dyn_cast;

namespace stn {

namespace {

/// Calls `fn` on `e` and every expression inside it.
void forEachExpr(const ast::Expr *e, const std::function<void(const ast::Expr &)> &fn) {
  if (!e)
    return;
  fn(*e);
  ast::forEachChild(*e, [&](const ast::Expr &c) { forEachExpr(&c, fn); });
}

/// Calls `fn` on every expression of the statements of `b` (loop targets
/// and assignment targets included), recursively.
void forEachExpr(const ast::Block &b, const std::function<void(const ast::Expr &)> &fn) {
  for (auto &sp : b) {
    const ast::Stmt &s = *sp;
    if (auto *es = dyn_cast<ast::ExprStmt>(&s)) {
      forEachExpr(es->value.get(), fn);
    } else if (auto *a = dyn_cast<ast::Assign>(&s)) {
      for (auto &t : a->targets)
        forEachExpr(t.get(), fn);
      forEachExpr(a->value.get(), fn);
    } else if (auto *aa = dyn_cast<ast::AugAssign>(&s)) {
      forEachExpr(aa->target.get(), fn);
      forEachExpr(aa->value.get(), fn);
    } else if (auto *i = dyn_cast<ast::If>(&s)) {
      forEachExpr(i->cond.get(), fn);
      forEachExpr(i->body, fn);
      forEachExpr(i->orelse, fn);
    } else if (auto *w = dyn_cast<ast::While>(&s)) {
      forEachExpr(w->cond.get(), fn);
      forEachExpr(w->body, fn);
      forEachExpr(w->orelse, fn);
    } else if (auto *f = dyn_cast<ast::For>(&s)) {
      forEachExpr(f->target.get(), fn);
      forEachExpr(f->iter.get(), fn);
      forEachExpr(f->body, fn);
      forEachExpr(f->orelse, fn);
    } else if (auto *r = dyn_cast<ast::Return>(&s)) {
      forEachExpr(r->value.get(), fn);
    } else if (auto *ra = dyn_cast<ast::Raise>(&s)) {
      forEachExpr(ra->exc.get(), fn);
    } else if (auto *as = dyn_cast<ast::Assert>(&s)) {
      forEachExpr(as->test.get(), fn);
      forEachExpr(as->msg.get(), fn);
    }
  }
}

/// Names assigned as a whole (`x = ...`, `x += ...`, loop variables) in `b`.
void assignedNames(const ast::Block &b, std::set<std::string> &out) {
  std::function<void(const ast::Expr &)> target = [&](const ast::Expr &t) {
    if (auto *n = dyn_cast<ast::Name>(&t))
      out.insert(n->id);
    else if (auto *tu = dyn_cast<ast::Tuple>(&t))
      for (auto &e : tu->elts)
        target(*e);
    else if (auto *l = dyn_cast<ast::List>(&t))
      for (auto &e : l->elts)
        target(*e);
  };
  for (auto &sp : b) {
    const ast::Stmt &s = *sp;
    if (auto *a = dyn_cast<ast::Assign>(&s)) {
      for (auto &t : a->targets)
        target(*t);
    } else if (auto *aa = dyn_cast<ast::AugAssign>(&s)) {
      target(*aa->target);
    } else if (auto *i = dyn_cast<ast::If>(&s)) {
      assignedNames(i->body, out);
      assignedNames(i->orelse, out);
    } else if (auto *w = dyn_cast<ast::While>(&s)) {
      assignedNames(w->body, out);
      assignedNames(w->orelse, out);
    } else if (auto *f = dyn_cast<ast::For>(&s)) {
      target(*f->target);
      assignedNames(f->body, out);
      assignedNames(f->orelse, out);
    }
  }
}

bool readsAny(const ast::Expr &e, const std::set<std::string> &names) {
  bool hit = false;
  forEachExpr(&e, [&](const ast::Expr &x) {
    if (auto *n = dyn_cast<ast::Name>(&x))
      hit |= names.count(n->id) != 0;
  });
  return hit;
}

unsigned leafSlots(const Type &t) {
  if (t.isTuple()) {
    unsigned n = 0;
    for (auto &e : t.elements())
      n += leafSlots(e);
    return n;
  }
  if (t.isArray())
    return 3 + 2 * t.rank();
  return t.isScalar() ? 1 : 0;
}

/// Whether a scalar or array leaf of `t` satisfies `pred`.
bool anyLeaf(const Type &t, bool (*pred)(const Type &)) {
  std::vector<Type> leaves;
  t.collectLeaves(leaves);
  return std::any_of(leaves.begin(), leaves.end(), pred);
}

bool hasComplexLeaf(const Type &t) {
  return anyLeaf(t, [](const Type &l) { return l.isScalar() && isComplex(l.scalarKind()); });
}

class RegionPlanner {
public:
  RegionPlanner(TypedFunction &f, DiagnosticEngine &diags) : F(f), Diags(diags) {}

  bool run() {
    if (F.resultType.hasArrayLeaf()) {
      error(F.def->nameRange,
            fmt::format("target=\"cuda\" kernel '{}' returns an array; its arrays live in GPU "
                        "memory during the call",
                        F.def->name),
            "write the result into an array argument");
      return false;
    }
    findRegions(F.def->body);
    for (size_t r = 0; r < F.gpuRegions.size() && Ok; ++r)
      makeKernel(r);
    return Ok;
  }

private:
  TypedFunction &F;
  DiagnosticEngine &Diags;
  bool Ok = true;

  void error(SourceRange at, std::string msg, std::string hint = "") {
    Diags.error(F.file, at, std::move(msg), std::move(hint));
    Ok = false;
  }

  const ForInfo *infoOf(const ast::Stmt &s) {
    auto it = F.loops.find(&s);
    return it == F.loops.end() ? nullptr : &it->second;
  }

  void findRegions(const ast::Block &b) {
    for (auto &sp : b) {
      const ast::Stmt &s = *sp;
      if (auto *f = dyn_cast<ast::For>(&s)) {
        const ForInfo *info = infoOf(s);
        if (info && info->runsParallel) {
          addRegion(*f, *info);
          continue;
        }
        findRegions(f->body);
        findRegions(f->orelse);
      } else if (auto *i = dyn_cast<ast::If>(&s)) {
        findRegions(i->body);
        findRegions(i->orelse);
      } else if (auto *w = dyn_cast<ast::While>(&s)) {
        findRegions(w->body);
        findRegions(w->orelse);
      }
    }
  }

  void addRegion(const ast::For &outer, const ForInfo &info) {
    GpuRegion r;
    r.loops.push_back(&outer);
    r.reductions = info.reductions;
    std::set<std::string> targets;
    auto targetOf = [](const ast::For &f) { return llvm::cast<ast::Name>(f.target.get())->id; };
    targets.insert(targetOf(outer));
    // A prange that is the whole body of the last loop joins the grid when
    // its bounds do not depend on the loops outside it.
    while (r.loops.size() < 3) {
      const ast::For &last = *r.loops.back();
      if (last.body.size() != 1)
        break;
      auto *inner = dyn_cast<ast::For>(last.body.front().get());
      const ForInfo *ii = inner ? infoOf(*inner) : nullptr;
      if (!ii || !ii->parallel || ii->kind != ForInfo::Kind::Range || !inner->orelse.empty() ||
          readsAny(*inner->iter, targets))
        break;
      r.loops.push_back(inner);
      targets.insert(targetOf(*inner));
    }
    // Free variables: what the innermost body reads (conservatively, every
    // local it names) other than the grid's loop variables and the
    // reductions. Arrays assigned inside are views made there.
    const ast::Block &body = r.loops.back()->body;
    std::set<std::string> named, assignedInside, reductions;
    forEachExpr(body, [&](const ast::Expr &e) {
      if (auto *n = dyn_cast<ast::Name>(&e))
        named.insert(n->id);
    });
    assignedNames(body, assignedInside);
    for (auto &red : r.reductions)
      reductions.insert(red.var);
    for (const std::string &n : named) {
      auto v = F.vars.find(n);
      // A comprehension's target is bound where it is read, in the region.
      if (v == F.vars.end() || targets.count(n) || reductions.count(n) ||
          ast::isComprehensionTarget(n))
        continue;
      if (assignedInside.count(n) && !v->second.isScalar())
        continue;
      if (v->second.isNone()) // no value to pass (`w is None` is known)
        continue;
      r.freeVars.push_back(n);
      if (F.optionals.count(n)) // and whether it holds None
        r.freeVars.push_back(noneFlag(n));
    }
    F.gpuRegions.push_back(std::move(r));
  }

  void makeKernel(size_t index) {
    GpuRegion &r = F.gpuRegions[index];
    auto kernel = std::make_shared<TypedFunction>(F);
    kernel->gpuRegions.clear();
    kernel->symbol = fmt::format("{}__gpu{}", F.symbol, index);
    kernel->regionHost = &F;
    kernel->regionIndex = static_cast<int>(index);
    kernel->resultType = Type::none();
    kernel->hasOut = false;
    kernel->argTypes.clear();
    for (const std::string &v : r.freeVars)
      gpuRegionFreeParams(F.vars.at(v), kernel->argTypes);
    for (size_t d = 0; d < r.loops.size(); ++d)
      for (int k = 0; k < 3; ++k)
        kernel->argTypes.push_back(Type::scalar(ScalarKind::I64));
    for (const Reduction &red : r.reductions) {
      ScalarKind k = F.vars.at(red.var).scalarKind();
      if (isComplex(k) && red.op != ReduceOp::Add) {
        error(red.firstUpdate,
              fmt::format("complex products in a GPU loop (target=\"cuda\") are not supported "
                          "yet ('{}'): only sums of complex values are",
                          red.var),
              "multiply in a host loop, or sum the logarithms and take the exponential after the loop");
        return;
      }
      // The result cell, typed and as an integer of the same width (for
      // compare-and-swap loops, which LLVM has only for integers); a
      // complex sum has one cell per part, each reduced on its own.
      ScalarKind cell = isComplex(k) ? complexPart(k) : k;
      ScalarKind bits = cell == ScalarKind::F64   ? ScalarKind::I64
                        : cell == ScalarKind::F32 ? ScalarKind::I32
                        : cell == ScalarKind::Bool ? ScalarKind::U8
                                                   : cell;
      for (int part = 0; part < (isComplex(k) ? 2 : 1); ++part) {
        kernel->argTypes.push_back(Type::array(cell, 1, Type::Layout::C));
        kernel->argTypes.push_back(Type::array(bits, 1, Type::Layout::C));
      }
    }
    // The kernels the nest calls (and, through ModuleGen, theirs).
    kernel->callees.clear();
    std::set<const TypedFunction *> seen;
    forEachExpr(r.loops.back()->body, [&](const ast::Expr &e) {
      auto it = F.calls.find(&e);
      if (it == F.calls.end())
        return;
      // A kernel called, or the key function of min()/max(key=...).
      TypedFunction *callee =
          it->second.kind == CallInfo::Kind::Kernel ? it->second.callee : it->second.keyFn;
      if (callee && seen.insert(callee).second)
        kernel->callees.push_back(callee);
    });
    r.kernel = std::move(kernel);
  }
};

} // namespace

bool planGpuRegions(TypedFunction &f, DiagnosticEngine &diags) {
  return RegionPlanner(f, diags).run();
}

void gpuRegionFreeParams(const Type &t, std::vector<Type> &params) {
  if (!hasComplexLeaf(t)) {
    params.push_back(t);
    return;
  }
  std::vector<Type> leaves;
  t.collectLeaves(leaves);
  for (const Type &leaf : leaves) {
    bool complex = leaf.isScalar() && isComplex(leaf.scalarKind());
    for (int part = 0; part < (complex ? 2 : 1); ++part)
      params.push_back(complex ? Type::scalar(complexPart(leaf.scalarKind())) : leaf);
  }
}

unsigned gpuRegionReductionCells(const GpuRegion &r, const TypedFunction &host) {
  unsigned n = 0;
  for (const Reduction &red : r.reductions)
    n += isComplex(host.vars.at(red.var).scalarKind()) ? 2 : 1;
  return n;
}

unsigned gpuRegionParamSlots(const TypedFunction &kernel) {
  if (!kernel.regionHost || kernel.regionIndex < 0)
    return 0;
  // Two arrays per reduction cell (GpuRegions.h).
  size_t reductions = 2 * gpuRegionReductionCells(
                              kernel.regionHost->gpuRegions[kernel.regionIndex], *kernel.regionHost);
  unsigned n = 0;
  for (size_t i = 0; i + reductions < kernel.argTypes.size(); ++i)
    n += leafSlots(kernel.argTypes[i]);
  return n;
}

} // namespace stn
