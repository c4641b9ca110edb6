//===- TypedPrinter.cpp - Print a specialization with its types -----------===//
//
// `stn ir --emit=typed` output. Python-like text in which every name is
// written `name:T` and every compound expression `(expr : T)`, preceded by
// the specialization's signature and its locals, followed by the callees it
// uses (each once). Example:
//
//   func hypot__f64__f64(x: f64, y: f64) -> f64
//     var x: f64
//     var y: f64
//     return (sqrt((square(x:f64) : f64) + ...) : f64)
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/Sema.h"

#include "llvm/Support/Casting.h"

#include <fmt/format.h>

#include <set>

using llvm::dyn_cast;

namespace stn {
namespace {

class TypedPrinter {
public:
  explicit TypedPrinter(const TypedFunction &f) : F(f) {}

  std::string function() {
    std::string s = fmt::format("{} {}(", F.kind == KernelKind::Jit ? "func" : kernelKindName(F.kind),
                                F.symbol);
    for (size_t i = 0; i < F.argTypes.size(); ++i) {
      std::string name = i < F.def->params.size() && !(F.kind == KernelKind::Gufunc)
                             ? F.def->params[i].name
                             : (F.hasOut && i + 1 == F.argTypes.size() ? "out" : F.def->params[i].name);
      s += fmt::format("{}{}: {}", i ? ", " : "", name, F.argTypes[i].str());
    }
    s += fmt::format(") -> {}\n", F.resultType.str());
    switch (F.kind) {
    case KernelKind::Jit:
    case KernelKind::Gpu:
      break;
    case KernelKind::Stencil: {
      std::string nb;
      for (auto &[lo, hi] : F.stencil.neighborhood)
        nb += fmt::format("{}({}, {})", nb.empty() ? "" : ", ", lo, hi);
      s += fmt::format("  # neighborhood ({}), boundary {}, body returns {}, output {}\n", nb,
                       boundaryModeName(F.decl->stencil.boundary), scalarName(F.stencil.bodyKind),
                       scalarName(F.stencil.outKind));
      break;
    }
    case KernelKind::Ufunc:
      return s + fmt::format("  # applies {} to every element of the {}-d broadcast shape\n",
                             F.core->symbol, F.ufuncRank);
    case KernelKind::Gufunc:
      return s + fmt::format("  # layout \"{}\": {} over {} outer dimension(s), output {}\n",
                             F.decl->layout.text, F.core->symbol, F.gufunc.outerRank,
                             scalarName(F.gufunc.outKind));
    }
    for (auto &[name, t] : F.vars)
      s += fmt::format("  var {}: {}\n", name, t.str());
    block(F.def->body, 1, s);
    return s;
  }

private:
  std::string ty(const ast::Expr &e) { return F.typeOf(e).str(); }
  std::string annotate(const ast::Expr &e, const std::string &text) {
    return fmt::format("({} : {})", text, ty(e));
  }

  /// Expressions separated by ", ".
  std::string elements(const std::vector<ast::ExprPtr> &es) {
    std::string s;
    for (size_t i = 0; i < es.size(); ++i)
      s += fmt::format("{}{}", i ? ", " : "", expr(*es[i]));
    return s;
  }

  std::string expr(const ast::Expr &e) {
    using K = ast::Expr::Kind;
    switch (e.kind()) {
    case K::IntLit:
      return std::to_string(static_cast<const ast::IntLit &>(e).value);
    case K::FloatLit:
      return fmt::format("{}", static_cast<const ast::FloatLit &>(e).value);
    case K::ImagLit:
      return fmt::format("{}j", static_cast<const ast::ImagLit &>(e).value);
    case K::BoolLit:
      return static_cast<const ast::BoolLit &>(e).value ? "True" : "False";
    case K::NoneLit:
      return "None";
    case K::EllipsisLit:
      return "...";
    case K::StrLit:
      return fmt::format("'{}'", static_cast<const ast::StrLit &>(e).value);
    case K::Name: {
      auto &n = static_cast<const ast::Name &>(e);
      if (F.constOf(e))
        return fmt::format("{}:const {}", n.id, ty(e));
      return fmt::format("{}:{}", n.id, ty(e));
    }
    case K::Attribute: {
      auto &a = static_cast<const ast::Attribute &>(e);
      return annotate(e, expr(*a.value) + "." + a.attr);
    }
    case K::Subscript: {
      auto &s = static_cast<const ast::Subscript &>(e);
      std::string idx;
      if (auto *t = dyn_cast<ast::Tuple>(s.index.get()))
        idx = elements(t->elts);
      else
        idx = expr(*s.index);
      return annotate(e, fmt::format("{}[{}]", expr(*s.value), idx));
    }
    case K::Slice:
      return "<slice>";
    case K::Call: {
      auto &c = static_cast<const ast::Call &>(e);
      std::string callee;
      auto it = F.calls.find(&c);
      if (it != F.calls.end() && it->second.kind == CallInfo::Kind::Kernel)
        callee = it->second.callee->symbol;
      else if (it != F.calls.end() && it->second.builtin == Builtin::Cast)
        callee = numpyName(it->second.operandKind);
      else if (it != F.calls.end())
        callee = builtinName(it->second.builtin);
      else
        callee = "?";
      std::string args = elements(c.args);
      if (it != F.calls.end() && it->second.builtin == Builtin::Conjugate)
        if (auto *a = dyn_cast<ast::Attribute>(c.func.get()))
          args = expr(*a->value);
      if (it != F.calls.end() && isListBuiltin(it->second.builtin) && it->second.receiver)
        callee = fmt::format("{}.{}", expr(*it->second.receiver), callee);
      if (it != F.calls.end() && it->second.kind == CallInfo::Kind::Kernel)
        for (auto &kw : c.keywords) // keywords as written (out=, bound parameters)
          args += fmt::format("{}{}={}", args.empty() ? "" : ", ", kw.name, expr(*kw.value));
      return annotate(e, fmt::format("{}({})", callee, args));
    }
    case K::BinOp: {
      auto &b = static_cast<const ast::BinOp &>(e);
      return annotate(e, fmt::format("{} {} {}", expr(*b.lhs), spelling(b.op), expr(*b.rhs)));
    }
    case K::UnaryOp: {
      auto &u = static_cast<const ast::UnaryOp &>(e);
      const char *sp = spelling(u.op);
      return annotate(e, fmt::format("{}{}{}", sp, u.op == ast::UnaryOpKind::Not ? " " : "",
                                     expr(*u.operand)));
    }
    case K::Compare: {
      auto &c = static_cast<const ast::Compare &>(e);
      std::string s = expr(*c.operands[0]);
      for (size_t i = 0; i < c.ops.size(); ++i)
        s += fmt::format(" {} {}", spelling(c.ops[i]), expr(*c.operands[i + 1]));
      return annotate(e, s);
    }
    case K::BoolOp: {
      auto &b = static_cast<const ast::BoolOp &>(e);
      std::string s;
      for (size_t i = 0; i < b.values.size(); ++i)
        s += (i ? fmt::format(" {} ", spelling(b.op)) : "") + expr(*b.values[i]);
      return annotate(e, s);
    }
    case K::IfExp: {
      auto &i = static_cast<const ast::IfExp &>(e);
      return annotate(e, fmt::format("{} if {} else {}", expr(*i.body), expr(*i.cond),
                                     expr(*i.orelse)));
    }
    case K::Tuple: {
      auto &t = static_cast<const ast::Tuple &>(e);
      if (!F.typeOf(t).isValid()) // a row of np.array's nested lists
        return fmt::format("({})", elements(t.elts));
      return annotate(e, elements(t.elts));
    }
    case K::List: // np.array's nested lists; their numbers are typed
      if (static_cast<const ast::List &>(e).braces) // a set display
        return annotate(e, "{" + elements(static_cast<const ast::List &>(e).elts) + "}");
      return fmt::format("[{}]", elements(static_cast<const ast::List &>(e).elts));
    case K::ListComp: {
      auto &l = static_cast<const ast::ListComp &>(e);
      std::string s = expr(*l.elt);
      if (l.value)
        s += ": " + expr(*l.value);
      for (const ast::Comprehension &g : l.generators) {
        s += fmt::format(" for {} in {}", expr(*g.target), expr(*g.iter));
        for (auto &c : g.ifs)
          s += " if " + expr(*c);
      }
      return annotate(e, l.generator           ? "(" + s + ")"
                         : l.value || l.set ? "{" + s + "}"
                                            : "[" + s + "]");
    }
    case K::Dict: {
      auto &d = static_cast<const ast::Dict &>(e);
      std::string s;
      for (size_t i = 0; i < d.keys.size(); ++i)
        s += fmt::format("{}{}: {}", i ? ", " : "", expr(*d.keys[i]), expr(*d.values[i]));
      return annotate(e, "{" + s + "}");
    }
    case K::Closure: {
      auto &c = static_cast<const ast::Closure &>(e);
      return fmt::format("<function {}({})>", c.function, elements(c.captures));
    }
    case K::Lambda: // lifted by the parser: none are left
    case K::Unsupported:
      return "<unsupported>";
    }
    return "?";
  }

  void line(int depth, const std::string &text, std::string &out) {
    out += std::string(2 * depth, ' ') + text + "\n";
  }

  void block(const ast::Block &b, int depth, std::string &out) {
    if (b.empty())
      line(depth, "pass", out);
    for (auto &s : b) {
      stmt(*s, depth, out);
      if (F.endsBlock.count(s.get())) {
        if (&s != &b.back())
          line(depth, "# the rest is unreachable (not checked)", out);
        return;
      }
    }
  }

  void stmt(const ast::Stmt &s, int depth, std::string &out) {
    using K = ast::Stmt::Kind;
    switch (s.kind()) {
    case K::ExprStmt:
      line(depth, expr(*static_cast<const ast::ExprStmt &>(s).value), out);
      return;
    case K::Assign: {
      auto &a = static_cast<const ast::Assign &>(s);
      if (!a.value)
        return;
      std::string t;
      for (auto &target : a.targets)
        t += expr(*target) + " = ";
      line(depth, t + expr(*a.value), out);
      return;
    }
    case K::AugAssign: {
      auto &a = static_cast<const ast::AugAssign &>(s);
      if (a.isUfuncAt()) // unbuffered: once per index, duplicates too
        line(depth,
             fmt::format("{}.{}.at: {} <- {}", a.atModule, a.atUfunc, expr(*a.target),
                         expr(*a.value)),
             out);
      else
        line(depth, fmt::format("{} {}= {}", expr(*a.target), spelling(a.op), expr(*a.value)),
             out);
      return;
    }
    case K::If: {
      auto &i = static_cast<const ast::If &>(s);
      if (auto p = F.prunedIfs.find(&s); p != F.prunedIfs.end()) {
        // Known from the types: only the branch that runs was checked.
        line(depth, fmt::format("if {}:  # always {}", expr(*i.cond), p->second), out);
        if (p->second) {
          block(i.body, depth + 1, out);
        } else {
          line(depth + 1, "# not checked", out);
          if (!i.orelse.empty()) {
            line(depth, "else:", out);
            block(i.orelse, depth + 1, out);
          }
        }
        return;
      }
      line(depth, fmt::format("if {}:", expr(*i.cond)), out);
      block(i.body, depth + 1, out);
      if (!i.orelse.empty()) {
        line(depth, "else:", out);
        block(i.orelse, depth + 1, out);
      }
      return;
    }
    case K::For: {
      auto &f = static_cast<const ast::For &>(s);
      auto it = F.loops.find(&f);
      std::string iter;
      if (auto *c = dyn_cast<ast::Call>(f.iter.get());
          c && it != F.loops.end() && it->second.kind == ForInfo::Kind::Range) {
        iter = fmt::format("{}({})", it->second.parallel ? "prange" : "range", elements(c->args));
      } else {
        iter = expr(*f.iter);
      }
      std::string note;
      if (it != F.loops.end() && it->second.runsParallel) {
        // What the parallel loop does with the variables it assigns.
        note = "  # parallel";
        for (auto &r : it->second.reductions)
          note += fmt::format(", reduction {}({})", r.var, reduceOpName(r.op));
        for (auto &p : it->second.privates)
          note += fmt::format(", private {}", p);
      }
      line(depth, fmt::format("for {} in {}:{}", expr(*f.target), iter, note), out);
      block(f.body, depth + 1, out);
      if (!f.orelse.empty()) {
        line(depth, "else:", out);
        block(f.orelse, depth + 1, out);
      }
      return;
    }
    case K::While: {
      auto &w = static_cast<const ast::While &>(s);
      line(depth, fmt::format("while {}:", expr(*w.cond)), out);
      block(w.body, depth + 1, out);
      if (!w.orelse.empty()) {
        line(depth, "else:", out);
        block(w.orelse, depth + 1, out);
      }
      return;
    }
    case K::Return: {
      auto &r = static_cast<const ast::Return &>(s);
      line(depth, r.value ? "return " + expr(*r.value) : "return", out);
      return;
    }
    case K::Raise: {
      // The exception class and a tuple message are no typed expressions:
      // print the class as written, and the arguments' types.
      auto &r = static_cast<const ast::Raise &>(s);
      auto *c = llvm::dyn_cast_or_null<ast::Call>(r.exc.get());
      auto *cls = llvm::dyn_cast_or_null<ast::Name>(c ? c->func.get() : r.exc.get());
      std::string text = "raise";
      if (cls)
        text += fmt::format(" {}", cls->id);
      if (c)
        text += fmt::format("({})", elements(c->args));
      line(depth, text, out);
      return;
    }
    case K::Assert: {
      auto &a = static_cast<const ast::Assert &>(s);
      std::string text = "assert " + expr(*a.test);
      if (auto *t = llvm::dyn_cast_or_null<ast::Tuple>(a.msg.get()))
        text += fmt::format(", ({}{})", elements(t->elts), t->elts.size() == 1 ? "," : "");
      else if (a.msg)
        text += ", " + expr(*a.msg);
      line(depth, text, out);
      return;
    }
    case K::Break:
      line(depth, "break", out);
      return;
    case K::Continue:
      line(depth, "continue", out);
      return;
    case K::Pass:
      line(depth, "pass", out);
      return;
    case K::Import:
    case K::LocalDef: // lifted by the parser: none are left
    case K::Unsupported:
      return;
    }
  }

  const TypedFunction &F;
};

void collect(const TypedFunction &f, std::vector<const TypedFunction *> &order,
             std::set<const TypedFunction *> &seen) {
  if (!seen.insert(&f).second)
    return;
  order.push_back(&f);
  for (auto *c : f.callees)
    collect(*c, order, seen);
}

} // namespace

std::string printTyped(const TypedFunction &f) {
  std::vector<const TypedFunction *> order;
  std::set<const TypedFunction *> seen;
  collect(f, order, seen);
  std::string out;
  for (size_t i = 0; i < order.size(); ++i) {
    if (i)
      out += "\n";
    out += TypedPrinter(*order[i]).function();
  }
  return out;
}

} // namespace stn
