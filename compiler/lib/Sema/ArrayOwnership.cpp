//===- ArrayOwnership.cpp - Array variables a kernel may free early -------===//
//
// See ArrayOwnership.h. A use of an array variable keeps it unique when the
// value only flows into something that copies or consumes it: an element
// access, arithmetic or a builtin (which produce new arrays or scalars), an
// in-place update, a slice of it in one of those places, `return`, or a
// kernel whose result holds no array. Arrays put into a list of arrays (or
// a dict of them) are kept by it. Any other use (`w = v`, `w = v[1:]`,
// `(v, 1)`, `helper(v)` returning an array, `for row in v`, `x if c else v`)
// could keep a second reference, and the variable is never freed early.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/ArrayOwnership.h"

#include "llvm/Support/Casting.h"

#include <functional>

using llvm::dyn_cast;
using llvm::isa;

namespace stn {

namespace {

bool holdsArray(const Type &t) {
  if (t.isArray() || t.keepsArrays())
    return true;
  if (t.isTuple() || t.isFunction()) // (a function value: its captures)
    for (auto &e : t.elements())
      if (holdsArray(e))
        return true;
  return false;
}

class UniquenessWalk {
public:
  explicit UniquenessWalk(const TypedFunction &f) : F(f) {}

  std::set<std::string> run() {
    for (auto &[name, t] : F.vars)
      if (t.isArray())
        Unique.insert(name);
    block(F.def->body);
    return Unique;
  }

private:
  const TypedFunction &F;
  std::set<std::string> Unique;

  /// A place where the value of `e` may be kept: every array variable it
  /// can evaluate to (or be a view of) stops being unique.
  void escapes(const ast::Expr &e) {
    if (auto *n = dyn_cast<ast::Name>(&e)) {
      Unique.erase(n->id);
      return;
    }
    if (auto *s = dyn_cast<ast::Subscript>(&e)) {
      if (F.typeOf(*s).isArray() && !F.copiesElements(*s)) // a view
        escapes(*s->value);
      else
        consumed(*s->value);
      index(*s);
      return;
    }
    if (auto *i = dyn_cast<ast::IfExp>(&e)) {
      expr(*i->cond);
      escapes(*i->body);
      escapes(*i->orelse);
      return;
    }
    if (auto *t = dyn_cast<ast::Tuple>(&e)) {
      for (auto &x : t->elts)
        escapes(*x);
      return;
    }
    if (auto *l = dyn_cast<ast::List>(&e)) {
      for (auto &x : l->elts)
        escapes(*x);
      return;
    }
    expr(e); // arithmetic and calls make new values
  }

  /// A place that reads the array and keeps nothing of it.
  void consumed(const ast::Expr &e) {
    if (isa<ast::Name>(&e))
      return;
    if (auto *s = dyn_cast<ast::Subscript>(&e)) {
      consumed(*s->value); // a slice read here is consumed as well
      index(*s);
      return;
    }
    escapes(e);
  }

  void index(const ast::Subscript &s) {
    for (const ast::Expr *i : ast::subscriptIndices(s)) {
      if (auto *sl = dyn_cast<ast::Slice>(i)) {
        for (auto *p : {sl->lower.get(), sl->upper.get(), sl->step.get()})
          if (p)
            expr(*p);
      } else {
        consumed(*i); // an index or a mask
      }
    }
  }

  /// An expression whose own value is used by its parent as a new value.
  void expr(const ast::Expr &e) {
    switch (e.kind()) {
    case ast::Expr::Kind::Name:
      return; // a bare name in a consuming place (handled by callers)
    case ast::Expr::Kind::Attribute: {
      auto &a = static_cast<const ast::Attribute &>(e);
      holdsArray(F.typeOf(a)) ? escapes(*a.value) : consumed(*a.value); // .shape, .size
      return;
    }
    case ast::Expr::Kind::Subscript: {
      auto &s = static_cast<const ast::Subscript &>(e);
      if (F.typeOf(s).isArray())
        escapes(*s.value);
      else
        consumed(*s.value);
      index(s);
      return;
    }
    case ast::Expr::Kind::Call: {
      auto &c = static_cast<const ast::Call &>(e);
      auto it = F.calls.find(&c);
      bool builtin = it != F.calls.end() && it->second.kind == CallInfo::Kind::Builtin;
      // A kernel may return a view of its arguments; a view builtin returns one.
      // enumerate, zip and reversed give a loop the rows of their arrays.
      bool keeps = (!builtin || isViewBuiltin(it->second.builtin)) && holdsArray(F.typeOf(c));
      keeps = keeps || (builtin && isIterationBuiltin(it->second.builtin));
      // list(v) (its rows) and xs.append(v), xs.insert(i, v) of a list of
      // arrays keep v.
      if (builtin && isListBuiltin(it->second.builtin)) {
        auto *a = dyn_cast<ast::Attribute>(c.func.get());
        keeps = keeps || holdsArray(F.typeOf(c)) || (a && F.typeOf(*a->value).keepsArrays());
      }
      // A method's receiver: `v.sum()`, `v.astype(...)`.
      if (auto *a = dyn_cast<ast::Attribute>(c.func.get()))
        keeps ? escapes(*a->value) : consumed(*a->value);
      for (auto &arg : c.args)
        keeps ? escapes(*arg) : consumed(*arg);
      for (auto &kw : c.keywords)
        keeps ? escapes(*kw.value) : consumed(*kw.value);
      return;
    }
    case ast::Expr::Kind::BinOp: {
      auto &b = static_cast<const ast::BinOp &>(e);
      consumed(*b.lhs);
      consumed(*b.rhs);
      return;
    }
    case ast::Expr::Kind::UnaryOp:
      consumed(*static_cast<const ast::UnaryOp &>(e).operand);
      return;
    case ast::Expr::Kind::Compare:
      for (auto &o : static_cast<const ast::Compare &>(e).operands)
        consumed(*o);
      return;
    case ast::Expr::Kind::BoolOp:
      for (auto &o : static_cast<const ast::BoolOp &>(e).values)
        consumed(*o);
      return;
    case ast::Expr::Kind::IfExp: {
      auto &i = static_cast<const ast::IfExp &>(e);
      consumed(*i.cond);
      escapes(*i.body);
      escapes(*i.orelse);
      return;
    }
    case ast::Expr::Kind::Tuple:
    case ast::Expr::Kind::List:
      escapes(e);
      return;
    case ast::Expr::Kind::ListComp: {
      // As a for loop: its targets get views of the iterables' rows.
      auto &l = static_cast<const ast::ListComp &>(e);
      for (auto &g : l.generators) {
        escapes(*g.iter);
        target(*g.target);
        for (auto &c : g.ifs)
          consumed(*c);
      }
      if (F.typeOf(l).isArrayList())
        escapes(*l.elt); // [v for ...], [m[i] for ...]: the list keeps them
      else
        consumed(*l.elt);
      if (l.value && F.typeOf(l).keepsArrays())
        escapes(*l.value); // {k: v for ...}: the dict keeps them
      else if (l.value)
        consumed(*l.value);
      return;
    }
    case ast::Expr::Kind::Dict: {
      // Keys are numbers (Sema): read, not held; array values are held.
      auto &d = static_cast<const ast::Dict &>(e);
      for (auto &k : d.keys)
        consumed(*k);
      for (auto &v : d.values)
        F.typeOf(d).keepsArrays() ? escapes(*v) : consumed(*v);
      return;
    }
    case ast::Expr::Kind::Closure:
      // A local function as a value holds the arrays it reads.
      for (auto &x : static_cast<const ast::Closure &>(e).captures)
        escapes(*x);
      return;
    default:
      return;
    }
  }

  /// The target of an assignment.
  void target(const ast::Expr &t) {
    if (isa<ast::Name>(&t))
      return;
    if (auto *s = dyn_cast<ast::Subscript>(&t)) {
      consumed(*s->value); // v[i] = x, v[1:] = w: in place
      index(*s);
      return;
    }
    if (auto *tu = dyn_cast<ast::Tuple>(&t))
      for (auto &x : tu->elts)
        target(*x);
    if (auto *l = dyn_cast<ast::List>(&t))
      for (auto &x : l->elts)
        target(*x);
  }

  void block(const ast::Block &b) {
    for (auto &s : b)
      stmt(*s);
  }

  void stmt(const ast::Stmt &s) {
    if (auto *e = dyn_cast<ast::ExprStmt>(&s)) {
      consumed(*e->value);
    } else if (auto *a = dyn_cast<ast::Assign>(&s)) {
      if (a->value)
        escapes(*a->value);
      for (auto &t : a->targets)
        target(*t);
    } else if (auto *aa = dyn_cast<ast::AugAssign>(&s)) {
      target(*aa->target);
      consumed(*aa->value);
    } else if (auto *i = dyn_cast<ast::If>(&s)) {
      consumed(*i->cond);
      block(i->body);
      block(i->orelse);
    } else if (auto *w = dyn_cast<ast::While>(&s)) {
      consumed(*w->cond);
      block(w->body);
      block(w->orelse);
    } else if (auto *f = dyn_cast<ast::For>(&s)) {
      // `for x in v` binds views of v's rows (or its elements): escapes.
      escapes(*f->iter);
      target(*f->target);
      block(f->body);
      block(f->orelse);
    } else if (auto *ra = dyn_cast<ast::Raise>(&s)) {
      if (ra->exc)
        consumed(*ra->exc);
    } else if (auto *as = dyn_cast<ast::Assert>(&s)) {
      consumed(*as->test);
      if (as->msg)
        consumed(*as->msg);
    } else if (auto *r = dyn_cast<ast::Return>(&s)) {
      // The value returned leaves with the call; a tuple of names is fine.
      if (r->value) {
        if (auto *t = dyn_cast<ast::Tuple>(r->value.get())) {
          for (auto &x : t->elts)
            consumed(*x);
        } else {
          consumed(*r->value);
        }
      }
    }
  }
};

} // namespace

std::set<std::string> uniqueArrayVariables(const TypedFunction &f) {
  if (!f.def)
    return {};
  return UniquenessWalk(f).run();
}

bool isFreshArray(const TypedFunction &f, const ast::Expr &e) {
  if (!f.typeOf(e).isArray())
    return false;
  if (isa<ast::BinOp>(&e) || isa<ast::UnaryOp>(&e) || isa<ast::Compare>(&e))
    return true; // materialized into a new array (MLIRGen's array expressions)
  if (f.copiesElements(e))
    return true; // a[mask], a[idx]
  if (auto *c = dyn_cast<ast::Call>(&e)) {
    auto it = f.calls.find(c);
    if (it == f.calls.end())
      return false;
    if (it->second.kind == CallInfo::Kind::Builtin) // a.reshape(...) is a view of a;
      return !isViewBuiltin(it->second.builtin) &&  // xs.pop() an array a list held
             !isListBuiltin(it->second.builtin);
    // A stencil, ufunc or gufunc called without out= returns a new array
    // (a @jit kernel may return one of its arguments).
    const TypedFunction *callee = it->second.callee;
    return callee && !callee->hasOut &&
           (callee->kind == KernelKind::Stencil || callee->kind == KernelKind::Ufunc ||
            callee->kind == KernelKind::Gufunc);
  }
  return false;
}

} // namespace stn
