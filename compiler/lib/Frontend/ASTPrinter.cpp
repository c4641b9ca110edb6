//===- ASTPrinter.cpp - S-expression dump of the AST (--emit=ast) ---------===//
//
// `stn ir FILE --emit=ast` prints the parser's output so that lit tests can
// FileCheck it. The format is deterministic and line-oriented: one
// statement per line, children indented by two spaces, closing parentheses
// at the end of the last line of the construct.
//
//   (module
//     (import numpy as np)                  import x [as y]
//     (from numba import jit njit as nj)    from x import a, b as c
//     (global TPB (int 16))                 module-level NAME = expr
//     (def f (params a (b : (name int)) (c = (int 1)))
//       (decorators (name jit) (call (name jit) (kw nopython (bool True))))
//       (returns (name f8))                 only if present
//       (docstring "...")                   only if present
//       <statements>)
//     <other top-level statements>)
//
// Top-level items are printed in source order (the Module keeps them in
// separate lists). Statements:
//   (expr E)  (assign T... V [(annotation A)])  (aug-assign OP T V)
//   (if C <body> [(else <body>)])   an elif is an (if ...) inside (else ...)
//   (for T ITER <body> [(else <body>)])  (while C <body> [(else <body>)])
//   (return [V])  (break)  (continue)  (pass)  (unsupported-stmt "what")
// Expressions:
//   (int 3) (int 18446744073709551615 unsigned) (float 0.5) (imag 2)
//   (bool True) (none) (str "escaped\n") (name x) (attr V name)
//   (subscript V INDEX) (slice LOWER UPPER STEP)  absent parts print as _
//   (call F ARGS... (kw NAME V)...) (binop OP L R) (unary OP X)
//   (compare A OP B OP C ...) (and A B ...) (or A B ...)
//   (ifexp COND BODY ORELSE) (tuple ...) (list ...) (unsupported "what")
// Floats use the shortest text that reads back to the same double.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/AST.h"

#include "llvm/Support/Casting.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

namespace stn::ast {

using llvm::cast;
using llvm::dyn_cast;

const char *spelling(BinOpKind k) {
  switch (k) {
  case BinOpKind::Add: return "+";
  case BinOpKind::Sub: return "-";
  case BinOpKind::Mul: return "*";
  case BinOpKind::Div: return "/";
  case BinOpKind::FloorDiv: return "//";
  case BinOpKind::Mod: return "%";
  case BinOpKind::Pow: return "**";
  case BinOpKind::BitAnd: return "&";
  case BinOpKind::BitOr: return "|";
  case BinOpKind::BitXor: return "^";
  case BinOpKind::LShift: return "<<";
  case BinOpKind::RShift: return ">>";
  case BinOpKind::MatMul: return "@";
  }
  return "?";
}

const char *spelling(UnaryOpKind k) {
  switch (k) {
  case UnaryOpKind::Neg: return "-";
  case UnaryOpKind::Pos: return "+";
  case UnaryOpKind::Invert: return "~";
  case UnaryOpKind::Not: return "not";
  }
  return "?";
}

const char *spelling(CmpOpKind k) {
  switch (k) {
  case CmpOpKind::Eq: return "==";
  case CmpOpKind::Ne: return "!=";
  case CmpOpKind::Lt: return "<";
  case CmpOpKind::Le: return "<=";
  case CmpOpKind::Gt: return ">";
  case CmpOpKind::Ge: return ">=";
  case CmpOpKind::Is: return "is";
  case CmpOpKind::IsNot: return "is not";
  case CmpOpKind::In: return "in";
  case CmpOpKind::NotIn: return "not in";
  }
  return "?";
}

const char *spelling(BoolOpKind k) {
  return k == BoolOpKind::And ? "and" : "or";
}

const FunctionDef *Module::findFunction(std::string_view name) const {
  // As in Python, a later definition of the same name wins.
  for (auto it = functions.rbegin(); it != functions.rend(); ++it)
    if ((*it)->name == name)
      return it->get();
  return nullptr;
}

namespace {

class Printer {
public:
  std::string Out;

  void expr(const Expr *e);
  void stmt(const Stmt &s, unsigned indent);
  void block(const Block &b, unsigned indent) {
    for (const StmtPtr &s : b) {
      Out += '\n';
      stmt(*s, indent);
    }
  }
  void elseBlock(const Block &b, unsigned indent) {
    if (b.empty())
      return;
    Out += '\n';
    Out.append(indent, ' ');
    Out += "(else";
    block(b, indent + 2);
    Out += ')';
  }
  void function(const FunctionDef &f, unsigned indent);
  void import(const Import &imp, unsigned indent);
};

void Printer::expr(const Expr *e) {
  if (!e) {
    Out += '_';
    return;
  }
  switch (e->kind()) {
  case Expr::Kind::IntLit: {
    auto &n = cast<IntLit>(*e);
    Out += fmt::format("(int {}{})", n.value, n.isUnsigned ? " unsigned" : "");
    return;
  }
  case Expr::Kind::FloatLit:
    Out += fmt::format("(float {})", cast<FloatLit>(*e).value);
    return;
  case Expr::Kind::ImagLit:
    Out += fmt::format("(imag {})", cast<ImagLit>(*e).value);
    return;
  case Expr::Kind::BoolLit:
    Out += cast<BoolLit>(*e).value ? "(bool True)" : "(bool False)";
    return;
  case Expr::Kind::NoneLit:
    Out += "(none)";
    return;
  case Expr::Kind::EllipsisLit:
    Out += "(ellipsis)";
    return;
  case Expr::Kind::StrLit:
    Out += "(str " + quoted(cast<StrLit>(*e).value) + ")";
    return;
  case Expr::Kind::Name:
    Out += "(name " + cast<Name>(*e).id + ")";
    return;
  case Expr::Kind::Attribute: {
    auto &a = cast<Attribute>(*e);
    Out += "(attr ";
    expr(a.value.get());
    Out += " " + a.attr + ")";
    return;
  }
  case Expr::Kind::Subscript: {
    auto &s = cast<Subscript>(*e);
    Out += "(subscript ";
    expr(s.value.get());
    Out += ' ';
    expr(s.index.get());
    Out += ')';
    return;
  }
  case Expr::Kind::Slice: {
    auto &s = cast<Slice>(*e);
    Out += "(slice ";
    expr(s.lower.get());
    Out += ' ';
    expr(s.upper.get());
    Out += ' ';
    expr(s.step.get());
    Out += ')';
    return;
  }
  case Expr::Kind::Call: {
    auto &c = cast<Call>(*e);
    Out += "(call ";
    expr(c.func.get());
    size_t written = c.args.size() - c.captured;
    for (size_t i = 0; i < c.args.size(); ++i) {
      Out += i == written ? " (captured " : " ";
      expr(c.args[i].get());
    }
    if (c.captured)
      Out += ')';
    for (const Keyword &k : c.keywords) {
      Out += " (kw " + k.name + " ";
      expr(k.value.get());
      Out += ')';
    }
    Out += ')';
    return;
  }
  case Expr::Kind::BinOp: {
    auto &b = cast<BinOp>(*e);
    Out += std::string("(binop ") + spelling(b.op) + " ";
    expr(b.lhs.get());
    Out += ' ';
    expr(b.rhs.get());
    Out += ')';
    return;
  }
  case Expr::Kind::UnaryOp: {
    auto &u = cast<UnaryOp>(*e);
    Out += std::string("(unary ") + spelling(u.op) + " ";
    expr(u.operand.get());
    Out += ')';
    return;
  }
  case Expr::Kind::Compare: {
    auto &c = cast<Compare>(*e);
    Out += "(compare";
    for (size_t i = 0; i < c.operands.size(); ++i) {
      if (i > 0 && i - 1 < c.ops.size())
        Out += std::string(" ") + spelling(c.ops[i - 1]);
      Out += ' ';
      expr(c.operands[i].get());
    }
    Out += ')';
    return;
  }
  case Expr::Kind::BoolOp: {
    auto &b = cast<BoolOp>(*e);
    Out += std::string("(") + spelling(b.op);
    for (const ExprPtr &v : b.values) {
      Out += ' ';
      expr(v.get());
    }
    Out += ')';
    return;
  }
  case Expr::Kind::IfExp: {
    auto &i = cast<IfExp>(*e);
    Out += "(ifexp ";
    expr(i.cond.get());
    Out += ' ';
    expr(i.body.get());
    Out += ' ';
    expr(i.orelse.get());
    Out += ')';
    return;
  }
  case Expr::Kind::Tuple:
  case Expr::Kind::List: {
    bool isTuple = e->kind() == Expr::Kind::Tuple;
    const auto &elts = isTuple ? cast<Tuple>(*e).elts : cast<List>(*e).elts;
    Out += isTuple ? "(tuple" : cast<List>(*e).braces ? "(set" : "(list";
    for (const ExprPtr &x : elts) {
      Out += ' ';
      expr(x.get());
    }
    Out += ')';
    return;
  }
  case Expr::Kind::Dict: {
    auto &d = cast<Dict>(*e);
    Out += "(dict";
    for (size_t i = 0; i < d.keys.size(); ++i) {
      Out += " (";
      expr(d.keys[i].get());
      Out += ' ';
      expr(d.values[i].get());
      Out += ')';
    }
    Out += ')';
    return;
  }
  case Expr::Kind::ListComp: {
    // The targets as renamed (`x@1`: local to the comprehension).
    auto &l = cast<ListComp>(*e);
    Out += l.generator ? "(genexpr "
           : l.isDict() ? "(dictcomp "
           : l.isSet()  ? "(setcomp "
                        : "(listcomp ";
    expr(l.elt.get());
    if (l.isDict()) {
      Out += ' ';
      expr(l.value.get());
    }
    for (const Comprehension &g : l.generators) {
      Out += " (for ";
      expr(g.target.get());
      Out += ' ';
      expr(g.iter.get());
      for (const ExprPtr &c : g.ifs) {
        Out += " (if ";
        expr(c.get());
        Out += ')';
      }
      Out += ')';
    }
    Out += ')';
    return;
  }
  case Expr::Kind::Lambda: {
    auto &l = cast<Lambda>(*e);
    Out += "(lambda (params";
    for (const Param &p : l.params)
      Out += " " + p.name;
    Out += ") ";
    expr(l.body.get());
    Out += ')';
    return;
  }
  case Expr::Kind::Closure: {
    auto &c = cast<Closure>(*e);
    Out += "(closure " + c.function;
    for (const ExprPtr &a : c.captures) {
      Out += ' ';
      expr(a.get());
    }
    Out += ')';
    return;
  }
  case Expr::Kind::Unsupported:
    Out += "(unsupported " + quoted(cast<Unsupported>(*e).what) + ")";
    return;
  }
}

void Printer::import(const Import &imp, unsigned indent) {
  Out.append(indent, ' ');
  if (!imp.isFrom()) {
    Out += "(import " + imp.module;
    if (!imp.alias.empty())
      Out += " as " + imp.alias;
    Out += ')';
    return;
  }
  Out += "(from " + imp.module + " import";
  for (const auto &[name, alias] : imp.names) {
    Out += " " + name;
    if (!alias.empty())
      Out += " as " + alias;
  }
  Out += ')';
}

void Printer::stmt(const Stmt &s, unsigned indent) {
  switch (s.kind()) {
  case Stmt::Kind::Import:
    return import(cast<Import>(s), indent);
  default:
    break;
  }
  Out.append(indent, ' ');
  switch (s.kind()) {
  case Stmt::Kind::ExprStmt:
    Out += "(expr ";
    expr(cast<ExprStmt>(s).value.get());
    Out += ')';
    return;
  case Stmt::Kind::Assign: {
    auto &a = cast<Assign>(s);
    Out += "(assign";
    for (const ExprPtr &t : a.targets) {
      Out += ' ';
      expr(t.get());
    }
    Out += ' ';
    expr(a.value.get());
    if (a.annotation) {
      Out += " (annotation ";
      expr(a.annotation.get());
      Out += ')';
    }
    Out += ')';
    return;
  }
  case Stmt::Kind::AugAssign: {
    auto &a = cast<AugAssign>(s);
    if (a.isUfuncAt())
      Out += "(ufunc-at " + a.atModule + "." + a.atUfunc + " ";
    else
      Out += std::string("(aug-assign ") + spelling(a.op) + "= ";
    expr(a.target.get());
    Out += ' ';
    expr(a.value.get());
    Out += ')';
    return;
  }
  case Stmt::Kind::If: {
    // An elif chain is a chain of Ifs nested in `orelse`; walk it in a loop
    // so that a long generated chain does not recurse once per clause.
    const If *i = &cast<If>(s);
    unsigned closers = 0;
    while (true) {
      Out += "(if ";
      expr(i->cond.get());
      block(i->body, indent + 2);
      ++closers;
      if (i->orelse.size() != 1 || !llvm::isa<If>(i->orelse.front().get())) {
        elseBlock(i->orelse, indent + 2);
        break;
      }
      Out += '\n';
      Out.append(indent + 2, ' ');
      Out += "(else\n";
      ++closers;
      indent += 4;
      Out.append(indent, ' ');
      i = cast<If>(i->orelse.front().get());
    }
    Out.append(closers, ')');
    return;
  }
  case Stmt::Kind::For: {
    auto &f = cast<For>(s);
    Out += "(for ";
    expr(f.target.get());
    Out += ' ';
    expr(f.iter.get());
    block(f.body, indent + 2);
    elseBlock(f.orelse, indent + 2);
    Out += ')';
    return;
  }
  case Stmt::Kind::While: {
    auto &w = cast<While>(s);
    Out += "(while ";
    expr(w.cond.get());
    block(w.body, indent + 2);
    elseBlock(w.orelse, indent + 2);
    Out += ')';
    return;
  }
  case Stmt::Kind::Break:
    Out += "(break)";
    return;
  case Stmt::Kind::Continue:
    Out += "(continue)";
    return;
  case Stmt::Kind::Pass:
    Out += "(pass)";
    return;
  case Stmt::Kind::Return: {
    auto &r = cast<Return>(s);
    if (!r.value) {
      Out += "(return)";
      return;
    }
    Out += "(return ";
    expr(r.value.get());
    Out += ')';
    return;
  }
  case Stmt::Kind::Raise: {
    auto &r = cast<Raise>(s);
    if (!r.exc) {
      Out += "(raise)";
      return;
    }
    Out += "(raise ";
    expr(r.exc.get());
    Out += ')';
    return;
  }
  case Stmt::Kind::Assert: {
    auto &a = cast<Assert>(s);
    Out += "(assert ";
    expr(a.test.get());
    if (a.msg) {
      Out += ' ';
      expr(a.msg.get());
    }
    Out += ')';
    return;
  }
  case Stmt::Kind::Unsupported:
    Out += "(unsupported-stmt " + quoted(cast<UnsupportedStmt>(s).what) + ")";
    return;
  case Stmt::Kind::LocalDef:
    Out += "(local-def " + cast<LocalDef>(s).def->name + ")";
    return;
  case Stmt::Kind::Import:
    return; // handled above
  }
}

void Printer::function(const FunctionDef &f, unsigned indent) {
  Out.append(indent, ' ');
  Out += "(def " + f.name + " (params";
  for (size_t i = 0; i < f.params.size(); ++i) {
    const Param &p = f.params[i];
    if (i == f.writtenParams())
      Out += ") (captures";
    if (!p.annotation && !p.defaultValue) {
      Out += " " + p.name;
      continue;
    }
    Out += " (" + p.name;
    if (p.annotation) {
      Out += " : ";
      expr(p.annotation.get());
    }
    if (p.defaultValue) {
      Out += " = ";
      expr(p.defaultValue.get());
    }
    Out += ')';
  }
  Out += ')';
  std::string pad(indent + 2, ' ');
  if (!f.decorators.empty()) {
    Out += "\n" + pad + "(decorators";
    for (const ExprPtr &d : f.decorators) {
      Out += ' ';
      expr(d.get());
    }
    Out += ')';
  }
  if (f.returns) {
    Out += "\n" + pad + "(returns ";
    expr(f.returns.get());
    Out += ')';
  }
  if (!f.docstring.empty())
    Out += "\n" + pad + "(docstring " + quoted(f.docstring) + ")";
  block(f.body, indent + 2);
  Out += ')';
}

} // namespace

std::string quoted(const std::string &s, char quote) {
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == static_cast<unsigned char>(quote) || c == '\\')
      out += {'\\', static_cast<char>(c)};
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else if (c < 0x20 || c == 0x7F)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return out + quote;
}

std::string printExpr(const Expr &e) {
  Printer p;
  p.expr(&e);
  return std::move(p.Out);
}

std::string printFunction(const FunctionDef &f, const SourceFile &) {
  Printer p;
  p.function(f, 0);
  p.Out += '\n';
  return std::move(p.Out);
}

std::string printModule(const Module &m) {
  // The module keeps imports, globals, functions and other statements in
  // separate lists; print them interleaved in source order.
  struct Item {
    uint32_t offset;
    std::function<void(Printer &)> print;
  };
  std::vector<Item> items;
  for (const auto &imp : m.imports)
    items.push_back({imp->range().begin, [&imp](Printer &p) { p.import(*imp, 2); }});
  for (const GlobalAssign &g : m.globals)
    items.push_back({g.range.begin, [&g](Printer &p) {
                       p.Out += "  (global " + g.name + " ";
                       p.expr(g.value.get());
                       p.Out += ')';
                     }});
  for (const auto &f : m.functions) {
    uint32_t offset = f->range.begin;
    for (const ExprPtr &d : f->decorators)
      offset = std::min(offset, d->range().begin);
    items.push_back({offset, [&f](Printer &p) { p.function(*f, 2); }});
  }
  for (const StmtPtr &s : m.other)
    items.push_back({s->range().begin, [&s](Printer &p) { p.stmt(*s, 2); }});
  std::stable_sort(items.begin(), items.end(),
                   [](const Item &a, const Item &b) { return a.offset < b.offset; });

  Printer p;
  p.Out = "(module";
  for (const Item &item : items) {
    p.Out += '\n';
    item.print(p);
  }
  p.Out += ")\n";
  return std::move(p.Out);
}

} // namespace stn::ast
