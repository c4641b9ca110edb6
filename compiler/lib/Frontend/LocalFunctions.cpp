//===- LocalFunctions.cpp - Nested defs and lambdas as module functions ---===//
//
// A function defined inside a kernel (a `def` in its body, a `lambda`) is
// compiled as a function of the module: Python's scoping is syntactic, so
// the names a local function reads from the functions around it are known
// here, before any type. Each becomes a trailing parameter of the lifted
// function, and each use passes the variable's value at that point:
//
//   def f(a, s):                    def f(a, s):
//       def g(x):                       for i in range(len(a)):
//           return x * s                    a[i] = f.<locals>.g(a[i], s)
//       for i in range(len(a)):     def f.<locals>.g(x, s):
//           a[i] = g(a[i])              return x * s
//
// This is Python's late binding (a closure reads the variable when it
// runs, not when it is defined) as long as the local function runs while
// the function that defines it does, which holds because a local function
// can only be called, or passed as `key=`, there: it is not a value that
// can be returned or stored. Scopes follow Python's rules: a name assigned
// anywhere in a function (or a parameter) is local to it; a name read but
// not bound is looked up in the enclosing functions, innermost first, then
// at module level (constants, functions, modules: never captured).
//
// A local function that calls another local function (or itself) needs
// that one's captures too, so the captures are computed to a fixed point.
//
//===----------------------------------------------------------------------===//

#include "LocalFunctions.h"

#include "llvm/Support/Casting.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace stn::frontend {
namespace {

using namespace ast;
using llvm::dyn_cast;
using llvm::isa;

struct Scope;

/// A local function: where it is defined and what it reads from outside.
struct LocalFn {
  std::unique_ptr<FunctionDef> def; ///< moved to the module at the end
  std::string written;              ///< the name the code uses ("" for a lambda)
  SourceRange at;                   ///< the def statement or the lambda
  SourceRange nameAt;               ///< its name where it is defined
  Scope *definedIn = nullptr;
  std::unique_ptr<Scope> scope;     ///< its own body
  std::vector<std::string> captures;
};

/// A name read in a scope's own code (not in the local functions in it),
/// by the slot that holds it; `call` is the call whose callee it is.
struct Use {
  ExprPtr *slot;
  Call *call;
};

/// An anonymous lambda in a scope's own code.
struct AnonLambda {
  ExprPtr *slot;
  Call *call; ///< `(lambda x: ...)(3)`: the call, else null
  LocalFn *fn;
};

struct Scope {
  FunctionDef *def = nullptr;
  Scope *parent = nullptr;
  std::set<std::string> vars;            ///< parameters, assigned names, loop targets
  std::map<std::string, LocalFn *> fns;  ///< the named local functions defined here
  std::vector<std::unique_ptr<LocalFn>> owned; ///< every local function defined here
  std::vector<Use> uses;
  std::vector<AnonLambda> lambdas;
};

/// What a name read in a scope refers to: a variable of `scope`, a local
/// function `fn`, or (both null) a module-level name.
struct Binding {
  Scope *scope = nullptr;
  LocalFn *fn = nullptr;
};

Binding lookup(Scope *s, const std::string &name) {
  for (; s; s = s->parent) {
    if (s->vars.count(name))
      return {s, nullptr};
    if (auto it = s->fns.find(name); it != s->fns.end())
      return {nullptr, it->second};
  }
  return {};
}

class Lifter {
public:
  Lifter(Module &m, std::vector<Diagnostic> &out) : M(m), Out(out) {}

  void run() {
    std::vector<std::unique_ptr<Scope>> tops;
    for (auto &f : M.functions)
      tops.push_back(build(*f, nullptr));
    computeCaptures();
    for (auto &s : tops)
      rewrite(*s);
    for (auto &s : tops)
      moveToModule(*s);
  }

private:
  Module &M;
  std::vector<Diagnostic> &Out;
  std::vector<LocalFn *> All;

  void error(SourceRange r, std::string msg, std::string hint = {}) {
    Out.push_back(Diagnostic{Severity::Error, M.file, r, std::move(msg), std::move(hint)});
  }

  /// The scope of `def`'s body (and, recursively, of the local functions
  /// in it); nested defs and `name = lambda ...` become Pass statements.
  std::unique_ptr<Scope> build(FunctionDef &def, Scope *parent) {
    auto s = std::make_unique<Scope>();
    s->def = &def;
    s->parent = parent;
    block(*s, def.body);
    for (auto &p : def.params)
      s->vars.insert(p.name);
    collectAssigned(def.body, s->vars);
    for (auto &[name, fn] : s->fns)
      if (s->vars.count(name))
        error(fn->nameAt,
              fmt::format("'{}' is a local function of '{}' and also a variable there", name,
                          def.name),
              "give the function or the variable another name");
    return s;
  }

  LocalFn *newFunction(Scope &s, std::unique_ptr<FunctionDef> def, std::string written,
                       SourceRange at, SourceRange nameAt) {
    auto fn = std::make_unique<LocalFn>();
    fn->written = written;
    fn->at = at;
    fn->nameAt = nameAt;
    fn->definedIn = &s;
    // Python's __qualname__; a second lambda of one function is told apart.
    std::string base = s.def->name + ".<locals>.";
    std::string leaf = written.empty() ? "<lambda>" : written;
    std::string name = base + leaf;
    for (unsigned n = 2; taken(name); ++n)
      name = base + (written.empty() ? fmt::format("<lambda#{}>", n) : leaf + "#" +
                                                                           std::to_string(n));
    def->name = name;
    def->enclosing = s.def->name;
    fn->def = std::move(def);
    LocalFn *raw = fn.get();
    if (!written.empty()) {
      if (s.fns.count(written))
        error(nameAt,
              fmt::format("local function '{}' is defined twice in '{}'", written, s.def->name),
              "stn compiles one definition per name: give the second one another name");
      else
        s.fns[written] = raw;
    }
    s.owned.push_back(std::move(fn));
    All.push_back(raw);
    raw->scope = build(*raw->def, &s);
    return raw;
  }

  bool taken(const std::string &name) const {
    return std::any_of(All.begin(), All.end(),
                       [&](const LocalFn *f) { return f->def->name == name; });
  }

  LocalFn *lambdaFunction(Scope &s, Lambda &l, const std::string &written,
                          SourceRange nameAt) {
    auto def = std::make_unique<FunctionDef>();
    def->range = l.range();
    def->nameRange = SourceRange(l.range().begin, l.range().begin + 6); // `lambda`
    def->params = std::move(l.params);
    SourceRange body = l.body->range();
    def->body.push_back(std::make_unique<Return>(body, std::move(l.body)));
    return newFunction(s, std::move(def), written, l.range(), nameAt);
  }

  void block(Scope &s, Block &b) {
    for (StmtPtr &st : b) {
      if (auto *d = dyn_cast<LocalDef>(st.get())) {
        if (!d->def->decorators.empty())
          error(d->def->decorators.front()->range(),
                fmt::format("local function '{}' cannot have decorators", d->def->name),
                "it is compiled with the function it is defined in: remove the decorator");
        std::string written = d->def->name;
        SourceRange at = d->range(), nameAt = d->def->nameRange;
        newFunction(s, std::move(d->def), written, at, nameAt);
        st = std::make_unique<Pass>(at);
        continue;
      }
      if (auto *a = dyn_cast<Assign>(st.get())) {
        if (a->targets.size() == 1 && !a->annotation && a->value &&
            isa<Name>(a->targets[0].get()) && isa<Lambda>(a->value.get())) {
          std::string written = llvm::cast<Name>(*a->targets[0]).id;
          SourceRange at = a->range();
          lambdaFunction(s, llvm::cast<Lambda>(*a->value), written, a->targets[0]->range());
          st = std::make_unique<Pass>(at);
          continue;
        }
      }
      stmt(s, *st);
    }
  }

  void stmt(Scope &s, Stmt &st) {
    auto e = [&](ExprPtr &x) {
      if (x)
        expr(s, x, nullptr);
    };
    switch (st.kind()) {
    case Stmt::Kind::ExprStmt:
      e(llvm::cast<ExprStmt>(st).value);
      break;
    case Stmt::Kind::Assign: {
      auto &a = llvm::cast<Assign>(st);
      e(a.value);
      for (auto &t : a.targets)
        e(t);
      break;
    }
    case Stmt::Kind::AugAssign:
      e(llvm::cast<AugAssign>(st).value);
      e(llvm::cast<AugAssign>(st).target);
      break;
    case Stmt::Kind::If:
      // An elif chain is Ifs nested in `orelse`: walked in a loop, as the
      // parser builds it (chains of thousands would exhaust the stack).
      for (If *i = &llvm::cast<If>(st);;) {
        e(i->cond);
        block(s, i->body);
        if (i->orelse.size() == 1 && isa<If>(i->orelse[0].get())) {
          i = llvm::cast<If>(i->orelse[0].get());
          continue;
        }
        block(s, i->orelse);
        break;
      }
      break;
    case Stmt::Kind::For: {
      auto &f = llvm::cast<For>(st);
      e(f.iter);
      e(f.target);
      block(s, f.body);
      block(s, f.orelse);
      break;
    }
    case Stmt::Kind::While: {
      auto &w = llvm::cast<While>(st);
      e(w.cond);
      block(s, w.body);
      block(s, w.orelse);
      break;
    }
    case Stmt::Kind::Return:
      e(llvm::cast<Return>(st).value);
      break;
    case Stmt::Kind::Raise:
      e(llvm::cast<Raise>(st).exc);
      break;
    case Stmt::Kind::Assert:
      e(llvm::cast<Assert>(st).test);
      e(llvm::cast<Assert>(st).msg);
      break;
    default:
      break;
    }
  }

  void expr(Scope &s, ExprPtr &slot, Call *call) {
    if (isa<Name>(slot.get())) {
      s.uses.push_back({&slot, call});
      return;
    }
    if (auto *l = dyn_cast<Lambda>(slot.get())) {
      s.lambdas.push_back({&slot, call, lambdaFunction(s, *l, "", l->range())});
      return;
    }
    if (auto *c = dyn_cast<Call>(slot.get())) {
      expr(s, c->func, c);
      for (auto &a : c->args)
        expr(s, a, nullptr);
      for (auto &k : c->keywords)
        expr(s, k.value, nullptr);
      return;
    }
    if (auto *lc = dyn_cast<ListComp>(slot.get()))
      for (auto &g : lc->generators)
        collectTargets(*g.target, s.vars);
    forEachChildSlot(*slot, [&](ExprPtr &c) { expr(s, c, nullptr); });
  }

  /// Whether `b` is a strict ancestor of `s`.
  static bool outside(const Scope *b, const Scope *s) {
    for (const Scope *p = s->parent; p; p = p->parent)
      if (p == b)
        return true;
    return false;
  }

  /// Adds to `need` the names read in `s` and the scopes in it that are
  /// variables of scopes outside `fn`.
  void needs(Scope &s, const LocalFn &fn, std::vector<std::string> &need) {
    auto add = [&](const std::string &n) {
      if (std::find(need.begin(), need.end(), n) == need.end())
        need.push_back(n);
    };
    auto viaFunction = [&](const LocalFn &h) {
      for (const std::string &c : h.captures)
        if (Binding b = lookup(h.definedIn, c); b.scope && outside(b.scope, fn.scope.get()))
          add(c);
    };
    for (const Use &u : s.uses) {
      const std::string &id = llvm::cast<Name>(**u.slot).id;
      Binding b = lookup(&s, id);
      if (b.scope && outside(b.scope, fn.scope.get()))
        add(id);
      else if (b.fn)
        viaFunction(*b.fn);
    }
    for (const AnonLambda &l : s.lambdas)
      viaFunction(*l.fn);
    for (auto &child : s.owned)
      needs(*child->scope, fn, need);
  }

  void computeCaptures() {
    for (bool changed = true; changed;) {
      changed = false;
      for (LocalFn *fn : All) {
        std::vector<std::string> need = fn->captures;
        needs(*fn->scope, *fn, need);
        if (need.size() != fn->captures.size()) {
          fn->captures = std::move(need);
          changed = true;
        }
      }
    }
    for (LocalFn *fn : All) {
      for (const std::string &c : fn->captures)
        fn->def->params.push_back(Param{c, fn->def->nameRange, nullptr, nullptr});
      fn->def->captures = static_cast<unsigned>(fn->captures.size());
    }
  }

  /// The values a use of `fn` in `s` at `r` passes; empty after an error.
  std::optional<std::vector<ExprPtr>> captureArgs(Scope &s, const LocalFn &fn, SourceRange r) {
    std::vector<ExprPtr> args;
    for (const std::string &c : fn.captures) {
      Binding here = lookup(&s, c), there = lookup(fn.definedIn, c);
      if (here.scope != there.scope) {
        error(r,
              fmt::format("'{}' reads the variable '{}' of '{}', but '{}', which uses it "
                          "here, has its own '{}'",
                          fn.def->name, c, there.scope ? there.scope->def->name : "?",
                          s.def->name, c),
              fmt::format("rename one of the two '{}'", c));
        return std::nullopt;
      }
      args.push_back(std::make_unique<Name>(r, c));
    }
    return args;
  }

  /// Replaces the use of `fn` in `slot` (the callee of `call`, if set).
  void use(Scope &s, ExprPtr &slot, Call *call, const LocalFn &fn) {
    SourceRange r = slot->range();
    if (fn.definedIn == &s && !fn.written.empty() && r.begin < fn.at.begin) {
      error(r, fmt::format("local function '{}' is used before its definition", fn.written),
            "define it above its first use");
      return;
    }
    auto args = captureArgs(s, fn, r);
    if (!args)
      return;
    if (call) {
      slot = std::make_unique<Name>(r, fn.def->name);
      Appends.emplace_back(call, std::move(*args));
      return;
    }
    slot = std::make_unique<Closure>(r, fn.def->name, std::move(*args));
  }

  void rewrite(Scope &s) {
    for (const Use &u : s.uses)
      if (Binding b = lookup(&s, llvm::cast<Name>(**u.slot).id); b.fn)
        use(s, *u.slot, u.call, *b.fn);
    for (const AnonLambda &l : s.lambdas)
      use(s, *l.slot, l.call, *l.fn);
    // Only now, as a call's arguments may hold slots of the uses above.
    for (auto &[call, args] : Appends) {
      call->captured = static_cast<unsigned>(args.size());
      for (auto &a : args)
        call->args.push_back(std::move(a));
    }
    Appends.clear();
    for (auto &child : s.owned)
      rewrite(*child->scope);
  }

  /// The captured values to append to calls once the slots are rewritten.
  std::vector<std::pair<Call *, std::vector<ExprPtr>>> Appends;

  /// Appends the local functions of `s` to the module, outer ones first.
  void moveToModule(Scope &s) {
    for (auto &child : s.owned) {
      Scope *inner = child->scope.get();
      M.functions.push_back(std::move(child->def));
      moveToModule(*inner);
    }
  }
};

} // namespace

void liftLocalFunctions(Module &m, std::vector<Diagnostic> &out) { Lifter(m, out).run(); }

} // namespace stn::frontend
