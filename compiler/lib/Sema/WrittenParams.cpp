//===- WrittenParams.cpp - Which array arguments a kernel writes ----------===//
//
// See WrittenParams.h.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/WrittenParams.h"

#include "stn/Compiler/ArrayOwnership.h"

#include "llvm/Support/Casting.h"

#include <map>
#include <set>
#include <string>

using llvm::dyn_cast;
using llvm::isa;

namespace stn {

namespace {

using Writes = std::vector<std::optional<ParamWrite>>;

/// The writes of the functions analysed so far. A recursive call, of a
/// function whose analysis is under way, gets its writes from the previous
/// round (`seeds`); writtenParameters repeats rounds until they agree.
struct Memo {
  std::map<const TypedFunction *, Writes> done, seeds;
  std::set<const TypedFunction *> active;
  bool usedSeed = false;
};

Writes analyze(const TypedFunction &f, Memo &memo);

/// The writes of a Jit (or GPU device) function's body.
class BodyWalk {
public:
  BodyWalk(const TypedFunction &f, Memo &memo)
      : F(f), M(memo) {}

  Writes run() {
    const auto &params = F.def->params;
    // Aliases first (a fixed point: `b = a; c = b[1:]`), then the writes.
    for (size_t i = 0; i < params.size(); ++i)
      Aliases[params[i].name].insert(i);
    for (bool changed = true; changed;) {
      changed = false;
      aliasBlock(F.def->body, changed);
    }
    Result.assign(F.argTypes.size(), std::nullopt);
    writeBlock(F.def->body);
    return Result;
  }

private:
  const TypedFunction &F;
  Memo &M;
  /// Variable -> the parameters whose arrays it may refer to.
  std::map<std::string, std::set<size_t>> Aliases;
  Writes Result;

  /// The parameters whose memory `e` may evaluate to (or be a view of).
  std::set<size_t> mayBe(const ast::Expr &e) {
    std::set<size_t> out;
    if (isFreshArray(F, e))
      return out;
    if (auto *n = dyn_cast<ast::Name>(&e)) {
      auto it = Aliases.find(n->id);
      if (it != Aliases.end())
        out = it->second;
      return out;
    }
    if (auto *s = dyn_cast<ast::Subscript>(&e))
      return mayBe(*s->value);
    if (auto *i = dyn_cast<ast::IfExp>(&e)) {
      out = mayBe(*i->body);
      auto o = mayBe(*i->orelse);
      out.insert(o.begin(), o.end());
      return out;
    }
    if (auto *t = dyn_cast<ast::Tuple>(&e)) {
      for (auto &x : t->elts) {
        auto o = mayBe(*x);
        out.insert(o.begin(), o.end());
      }
      return out;
    }
    if (F.typeOf(e).keepsArrays()) {
      // A list of arrays holds what its items may be: [a, b], [r for r in
      // m], xs + ys, xs[1:], xs.copy(), list(m), sorted(xs, key=f).
      auto add = [&](const ast::Expr &x) {
        auto o = mayBe(x);
        out.insert(o.begin(), o.end());
      };
      if (auto *l = dyn_cast<ast::List>(&e))
        for (auto &x : l->elts)
          add(*x);
      if (auto *d = dyn_cast<ast::Dict>(&e))
        for (auto &x : d->values)
          add(*x);
      if (auto *lc = dyn_cast<ast::ListComp>(&e))
        add(lc->value ? *lc->value : *lc->elt);
      if (auto *b = dyn_cast<ast::BinOp>(&e)) {
        add(*b->lhs);
        add(*b->rhs);
      }
      if (auto *c = dyn_cast<ast::Call>(&e)) {
        for (auto &a : c->args)
          add(*a);
        if (auto *at = dyn_cast<ast::Attribute>(c->func.get()))
          add(*at->value);
      }
      return out;
    }
    if (auto *c = dyn_cast<ast::Call>(&e); c && isa<ast::Attribute>(c->func.get())) {
      // xs.pop(): an array the list held.
      auto it = F.calls.find(c);
      auto *at = static_cast<const ast::Attribute *>(c->func.get());
      if (it != F.calls.end() && it->second.kind == CallInfo::Kind::Builtin &&
          isListBuiltin(it->second.builtin) && F.typeOf(*at->value).keepsArrays())
        return mayBe(*at->value); // (d.get(k), d.pop(k), ... of a dict of arrays)
    }
    if (auto *cl = dyn_cast<ast::Closure>(&e)) { // a function value: its captures
      for (auto &x : cl->captures) {
        auto o = mayBe(*x);
        out.insert(o.begin(), o.end());
      }
      return out;
    }
    if (auto *a = dyn_cast<ast::Attribute>(&e); a && F.typeOf(*a).isArray())
      return mayBe(*a->value); // a.T
    if (auto *c = dyn_cast<ast::Call>(&e)) {
      // A kernel returning an array may return a view of any argument; a
      // view builtin returns one of its first operand; enumerate, zip and
      // reversed give rows of their arrays.
      auto it = F.calls.find(c);
      if (it != F.calls.end() && it->second.kind == CallInfo::Kind::Builtin &&
          isViewBuiltin(it->second.builtin) && !it->second.operands.empty())
        return mayBe(*it->second.operands[0]);
      bool iteration = it != F.calls.end() && it->second.kind == CallInfo::Kind::Builtin &&
                       isIterationBuiltin(it->second.builtin);
      if (it != F.calls.end() && (it->second.kind == CallInfo::Kind::Kernel || iteration)) {
        for (auto &a : c->args) {
          auto o = mayBe(*a);
          out.insert(o.begin(), o.end());
        }
        for (auto &kw : c->keywords) {
          auto o = mayBe(*kw.value);
          out.insert(o.begin(), o.end());
        }
      }
    }
    return out;
  }

  void bind(const ast::Expr &target, const std::set<size_t> &from, bool &changed) {
    if (from.empty())
      return;
    if (auto *n = dyn_cast<ast::Name>(&target)) {
      auto &set = Aliases[n->id];
      size_t before = set.size();
      set.insert(from.begin(), from.end());
      changed |= set.size() != before;
    } else if (auto *t = dyn_cast<ast::Tuple>(&target)) {
      for (auto &x : t->elts)
        bind(*x, from, changed);
    } else if (auto *l = dyn_cast<ast::List>(&target)) {
      for (auto &x : l->elts)
        bind(*x, from, changed);
    }
  }

  /// The targets of the comprehensions in `e`: views of their iterables'
  /// rows, as a for loop's.
  void aliasExpr(const ast::Expr *e, bool &changed) {
    if (!e)
      return;
    if (auto *l = dyn_cast<ast::ListComp>(e))
      for (auto &g : l->generators)
        bind(*g.target, mayBe(*g.iter), changed);
    // xs.append(a), xs.insert(i, a), xs.extend(ys) of a list of arrays:
    // xs may hold a (or what ys holds).
    if (auto *c = dyn_cast<ast::Call>(e))
      if (auto *at = dyn_cast<ast::Attribute>(c->func.get());
          at && isa<ast::Name>(at->value.get()) && F.typeOf(*at->value).keepsArrays())
        for (auto &a : c->args)
          bind(*at->value, mayBe(*a), changed);
    ast::forEachChild(*e, [&](const ast::Expr &c) { aliasExpr(&c, changed); });
  }

  void aliasBlock(const ast::Block &b, bool &changed) {
    for (auto &s : b) {
      if (auto *e = dyn_cast<ast::ExprStmt>(s.get()))
        aliasExpr(e->value.get(), changed);
      else if (auto *a = dyn_cast<ast::Assign>(s.get()))
        aliasExpr(a->value.get(), changed);
      else if (auto *aa = dyn_cast<ast::AugAssign>(s.get()))
        aliasExpr(aa->value.get(), changed);
      else if (auto *r = dyn_cast<ast::Return>(s.get()))
        aliasExpr(r->value.get(), changed);
      else if (auto *i = dyn_cast<ast::If>(s.get()))
        aliasExpr(i->cond.get(), changed);
      else if (auto *w = dyn_cast<ast::While>(s.get()))
        aliasExpr(w->cond.get(), changed);
      else if (auto *fo = dyn_cast<ast::For>(s.get()))
        aliasExpr(fo->iter.get(), changed);
      if (auto *aa = dyn_cast<ast::AugAssign>(s.get());
          aa && F.typeOf(*aa->target).keepsArrays()) // xs += ys, d |= e
        bind(*aa->target, mayBe(*aa->value), changed);
      if (auto *a = dyn_cast<ast::Assign>(s.get())) {
        if (a->value)
          for (auto &t : a->targets) {
            bind(*t, mayBe(*a->value), changed);
            // xs[i] = a, xs[i:j] = ys of a list of arrays: xs may hold a.
            if (auto *sub = dyn_cast<ast::Subscript>(t.get());
                sub && isa<ast::Name>(sub->value.get()) && F.typeOf(*sub->value).keepsArrays())
              bind(*sub->value, mayBe(*a->value), changed);
          }
      } else if (auto *i = dyn_cast<ast::If>(s.get())) {
        aliasBlock(i->body, changed);
        aliasBlock(i->orelse, changed);
      } else if (auto *w = dyn_cast<ast::While>(s.get())) {
        aliasBlock(w->body, changed);
        aliasBlock(w->orelse, changed);
      } else if (auto *fo = dyn_cast<ast::For>(s.get())) {
        bind(*fo->target, mayBe(*fo->iter), changed); // rows of an array are views
        aliasBlock(fo->body, changed);
        aliasBlock(fo->orelse, changed);
      }
    }
  }

  void wrote(const std::set<size_t> &params, SourceRange at) {
    for (size_t p : params)
      if (p < Result.size() && !Result[p])
        Result[p] = ParamWrite{&F, at};
  }

  /// A store target: writes the arrays its base may be.
  void store(const ast::Expr &target, SourceRange at) {
    if (auto *s = dyn_cast<ast::Subscript>(&target))
      wrote(mayBe(*s->value), at);
    else if (auto *t = dyn_cast<ast::Tuple>(&target))
      for (auto &x : t->elts)
        store(*x, at);
    else if (auto *l = dyn_cast<ast::List>(&target))
      for (auto &x : l->elts)
        store(*x, at);
  }

  void writeExpr(const ast::Expr &e) {
    if (auto *c = dyn_cast<ast::Call>(&e)) {
      auto it = F.calls.find(c);
      if (it != F.calls.end() && it->second.kind == CallInfo::Kind::Kernel && it->second.callee) {
        const Writes &w = analyzeMemo(*it->second.callee);
        // @jit callees: the arguments by parameter (keywords bound, null
        // for default values).
        const auto &bound = it->second.operands;
        size_t n = bound.empty() ? c->args.size() : bound.size();
        // Called through a function value, the captured values (the last
        // parameters, null here) are the value's.
        size_t written = it->second.callee->def->writtenParams();
        for (size_t i = 0; i < n && i < w.size(); ++i) {
          const ast::Expr *a = bound.empty() ? c->args[i].get() : bound[i];
          if (!a && i >= written && it->second.calleeValue)
            a = it->second.calleeValue;
          if (w[i] && a)
            wrote(mayBe(*a), c->range());
        }
        if (it->second.callee->hasOut && !w.empty() && w.back())
          for (auto &kw : c->keywords)
            if (kw.name == "out")
              wrote(mayBe(*kw.value), c->range());
      }
      // a.sort() sorts a in place.
      if (it != F.calls.end() && it->second.kind == CallInfo::Kind::Builtin &&
          it->second.builtin == Builtin::Sort && it->second.receiver)
        wrote(mayBe(*it->second.receiver), c->range());
      for (auto &a : c->args)
        writeExpr(*a);
      for (auto &kw : c->keywords)
        writeExpr(*kw.value);
      if (auto *at = dyn_cast<ast::Attribute>(c->func.get()))
        writeExpr(*at->value);
      return;
    }
    switch (e.kind()) {
    case ast::Expr::Kind::BinOp: {
      auto &b = static_cast<const ast::BinOp &>(e);
      writeExpr(*b.lhs);
      writeExpr(*b.rhs);
      return;
    }
    case ast::Expr::Kind::UnaryOp:
      writeExpr(*static_cast<const ast::UnaryOp &>(e).operand);
      return;
    case ast::Expr::Kind::Compare:
      for (auto &o : static_cast<const ast::Compare &>(e).operands)
        writeExpr(*o);
      return;
    case ast::Expr::Kind::BoolOp:
      for (auto &o : static_cast<const ast::BoolOp &>(e).values)
        writeExpr(*o);
      return;
    case ast::Expr::Kind::IfExp: {
      auto &i = static_cast<const ast::IfExp &>(e);
      writeExpr(*i.cond);
      writeExpr(*i.body);
      writeExpr(*i.orelse);
      return;
    }
    case ast::Expr::Kind::Subscript: {
      auto &s = static_cast<const ast::Subscript &>(e);
      writeExpr(*s.value);
      writeExpr(*s.index);
      return;
    }
    case ast::Expr::Kind::Tuple:
      for (auto &x : static_cast<const ast::Tuple &>(e).elts)
        writeExpr(*x);
      return;
    case ast::Expr::Kind::Attribute:
      writeExpr(*static_cast<const ast::Attribute &>(e).value);
      return;
    default: // list displays and comprehensions
      ast::forEachChild(e, [&](const ast::Expr &c) { writeExpr(c); });
      return;
    }
  }

  void writeBlock(const ast::Block &b) {
    for (auto &s : b) {
      if (auto *e = dyn_cast<ast::ExprStmt>(s.get())) {
        writeExpr(*e->value);
      } else if (auto *a = dyn_cast<ast::Assign>(s.get())) {
        if (a->value)
          writeExpr(*a->value);
        for (auto &t : a->targets)
          store(*t, s->range());
      } else if (auto *aa = dyn_cast<ast::AugAssign>(s.get())) {
        writeExpr(*aa->value);
        // `a += 1` on an array updates it in place.
        if (isa<ast::Name>(aa->target.get()) && F.typeOf(*aa->target).isArray())
          wrote(mayBe(*aa->target), s->range());
        store(*aa->target, s->range());
      } else if (auto *i = dyn_cast<ast::If>(s.get())) {
        writeExpr(*i->cond);
        writeBlock(i->body);
        writeBlock(i->orelse);
      } else if (auto *w = dyn_cast<ast::While>(s.get())) {
        writeExpr(*w->cond);
        writeBlock(w->body);
        writeBlock(w->orelse);
      } else if (auto *fo = dyn_cast<ast::For>(s.get())) {
        writeExpr(*fo->iter);
        writeBlock(fo->body);
        writeBlock(fo->orelse);
      } else if (auto *r = dyn_cast<ast::Return>(s.get())) {
        if (r->value)
          writeExpr(*r->value);
      } else if (auto *as = dyn_cast<ast::Assert>(s.get())) {
        writeExpr(*as->test);
      } else if (auto *ra = dyn_cast<ast::Raise>(s.get())) {
        if (auto *c = llvm::dyn_cast_or_null<ast::Call>(ra->exc.get()))
          for (auto &arg : c->args)
            writeExpr(*arg);
      }
    }
  }

  Writes analyzeMemo(const TypedFunction &callee) {
    if (auto it = M.done.find(&callee); it != M.done.end())
      return it->second;
    if (M.active.count(&callee)) { // a recursive call
      M.usedSeed = true;
      auto s = M.seeds.find(&callee);
      return s != M.seeds.end() ? s->second : Writes(callee.argTypes.size());
    }
    M.active.insert(&callee);
    Writes w = analyze(callee, M);
    M.active.erase(&callee);
    return M.done[&callee] = std::move(w);
  }
};

Writes analyze(const TypedFunction &f, Memo &memo) {
  Writes w(f.argTypes.size());
  if (!f.def)
    return w;
  SourceRange name = f.def->nameRange;
  switch (f.kind) {
  case KernelKind::Stencil:
  case KernelKind::Ufunc:
    // Only the out= array is written.
    if (f.hasOut && !w.empty())
      w.back() = ParamWrite{&f, name};
    return w;
  case KernelKind::Gufunc: {
    // out=, and output parameters after the layout's inputs (the core
    // function writes them); the inputs only where the core writes them.
    size_t inputs = f.decl ? f.decl->layout.inputs.size() : w.size();
    for (size_t i = inputs; i < w.size(); ++i)
      w[i] = ParamWrite{&f, name};
    if (f.core && !f.decl->stencilCore) {
      Writes core = BodyWalk(*f.core, memo).run();
      for (size_t i = 0; i < inputs && i < core.size() && i < w.size(); ++i)
        if (core[i])
          w[i] = core[i];
    }
    return w;
  }
  default:
    return BodyWalk(f, memo).run();
  }
}

} // namespace

std::vector<std::optional<ParamWrite>> writtenParameters(const TypedFunction &f) {
  Memo memo;
  auto written = [](const std::map<const TypedFunction *, Writes> &m) {
    std::map<const TypedFunction *, std::vector<bool>> out;
    for (auto &[g, w] : m)
      for (auto &p : w)
        out[g].push_back(p.has_value());
    return out;
  };
  // Writes only grow from round to round, so the rounds end.
  for (;;) {
    memo.done.clear();
    memo.usedSeed = false;
    memo.active = {&f};
    Writes w = analyze(f, memo);
    if (!memo.usedSeed)
      return w;
    memo.done[&f] = w;
    if (written(memo.done) == written(memo.seeds))
      return w;
    memo.seeds = memo.done;
  }
}

} // namespace stn
