//===- OptimizationReport.cpp - What the compiler did to a kernel ---------===//
//
// Collects the loop and SLP vectorizers' optimization remarks from an
// LLVMContext and formats them, with MLIRGen's CodegenLog, as the report of
// `stn ir --emit=diagnostics` (see OptimizationReport.h and docs/cli.md).
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/OptimizationReport.h"

#include "llvm/IR/DiagnosticHandler.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/Path.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

namespace stn {

namespace {

//===----------------------------------------------------------------------===//
// Collecting LLVM's remarks
//===----------------------------------------------------------------------===//

constexpr const char *kLoopVectorize = "loop-vectorize";
constexpr const char *kSLPVectorize = "slp-vectorizer";

bool isReportedPass(llvm::StringRef pass) {
  return pass == kLoopVectorize || pass == kSLPVectorize;
}

/// Enables the vectorizers' remarks and keeps them; other remarks are
/// dropped, other diagnostics (LLVM's warnings and errors) printed as usual.
class RemarkCollector : public llvm::DiagnosticHandler {
public:
  explicit RemarkCollector(std::vector<OptimizationRemark> &out) : Out(out) {}

  bool isAnalysisRemarkEnabled(llvm::StringRef pass) const override {
    return isReportedPass(pass);
  }
  bool isMissedOptRemarkEnabled(llvm::StringRef pass) const override {
    return isReportedPass(pass);
  }
  bool isPassedOptRemarkEnabled(llvm::StringRef pass) const override {
    return isReportedPass(pass);
  }
  bool isAnyRemarkEnabled() const override { return true; }

  bool handleDiagnostics(const llvm::DiagnosticInfo &di) override {
    auto *opt = llvm::dyn_cast<llvm::DiagnosticInfoOptimizationBase>(&di);
    if (!opt)
      return false;
    if (!isReportedPass(opt->getPassName()))
      return true;
    OptimizationRemark r;
    r.kind = opt->isPassed()   ? OptimizationRemark::Kind::Passed
             : opt->isMissed() ? OptimizationRemark::Kind::Missed
                               : OptimizationRemark::Kind::Analysis;
    r.pass = opt->getPassName().str();
    r.name = opt->getRemarkName().str();
    r.message = opt->getMsg();
    r.function = opt->getFunction().getName().str();
    if (opt->isLocationAvailable()) {
      r.file = opt->getAbsolutePath();
      r.line = opt->getLocation().getLine();
      r.column = opt->getLocation().getColumn();
    }
    Out.push_back(std::move(r));
    return true;
  }

private:
  std::vector<OptimizationRemark> &Out;
};

//===----------------------------------------------------------------------===//
// The kernels' syntax trees
//===----------------------------------------------------------------------===//

/// Parents of the expressions of one function, and its prange loops.
struct TreeIndex {
  std::map<const ast::Expr *, const ast::Expr *> parent; ///< null: a statement's
  std::map<const ast::Expr *, const ast::Stmt *> stmt;   ///< the enclosing statement
  std::vector<const ast::For *> loops;

  void block(const ast::Block &b) {
    for (auto &s : b)
      statement(*s);
  }

  void statement(const ast::Stmt &s) {
    auto ex = [&](const ast::ExprPtr &e) {
      if (e)
        expr(*e, nullptr, &s);
    };
    switch (s.kind()) {
    case ast::Stmt::Kind::ExprStmt:
      ex(llvm::cast<ast::ExprStmt>(s).value);
      break;
    case ast::Stmt::Kind::Assign: {
      auto &a = llvm::cast<ast::Assign>(s);
      for (auto &t : a.targets)
        ex(t);
      ex(a.value);
      break;
    }
    case ast::Stmt::Kind::AugAssign: {
      auto &a = llvm::cast<ast::AugAssign>(s);
      ex(a.target);
      ex(a.value);
      break;
    }
    case ast::Stmt::Kind::If: {
      auto &i = llvm::cast<ast::If>(s);
      ex(i.cond);
      block(i.body);
      block(i.orelse);
      break;
    }
    case ast::Stmt::Kind::For: {
      auto &f = llvm::cast<ast::For>(s);
      loops.push_back(&f);
      ex(f.target);
      ex(f.iter);
      block(f.body);
      block(f.orelse);
      break;
    }
    case ast::Stmt::Kind::While: {
      auto &w = llvm::cast<ast::While>(s);
      ex(w.cond);
      block(w.body);
      block(w.orelse);
      break;
    }
    case ast::Stmt::Kind::Return:
      ex(llvm::cast<ast::Return>(s).value);
      break;
    case ast::Stmt::Kind::Raise:
      ex(llvm::cast<ast::Raise>(s).exc);
      break;
    case ast::Stmt::Kind::Assert:
      ex(llvm::cast<ast::Assert>(s).test);
      ex(llvm::cast<ast::Assert>(s).msg);
      break;
    default:
      break;
    }
  }

  void expr(const ast::Expr &e, const ast::Expr *up, const ast::Stmt *s) {
    parent[&e] = up;
    stmt[&e] = s;
    auto sub = [&](const ast::ExprPtr &c) {
      if (c)
        expr(*c, &e, s);
    };
    switch (e.kind()) {
    case ast::Expr::Kind::Attribute:
      sub(llvm::cast<ast::Attribute>(e).value);
      break;
    case ast::Expr::Kind::Subscript:
      sub(llvm::cast<ast::Subscript>(e).value);
      sub(llvm::cast<ast::Subscript>(e).index);
      break;
    case ast::Expr::Kind::Slice: {
      auto &x = llvm::cast<ast::Slice>(e);
      sub(x.lower);
      sub(x.upper);
      sub(x.step);
      break;
    }
    case ast::Expr::Kind::Call: {
      auto &c = llvm::cast<ast::Call>(e);
      sub(c.func);
      for (auto &a : c.args)
        sub(a);
      for (auto &k : c.keywords)
        sub(k.value);
      break;
    }
    case ast::Expr::Kind::BinOp:
      sub(llvm::cast<ast::BinOp>(e).lhs);
      sub(llvm::cast<ast::BinOp>(e).rhs);
      break;
    case ast::Expr::Kind::UnaryOp:
      sub(llvm::cast<ast::UnaryOp>(e).operand);
      break;
    case ast::Expr::Kind::Compare:
      for (auto &o : llvm::cast<ast::Compare>(e).operands)
        sub(o);
      break;
    case ast::Expr::Kind::BoolOp:
      for (auto &o : llvm::cast<ast::BoolOp>(e).values)
        sub(o);
      break;
    case ast::Expr::Kind::IfExp: {
      auto &x = llvm::cast<ast::IfExp>(e);
      sub(x.cond);
      sub(x.body);
      sub(x.orelse);
      break;
    }
    case ast::Expr::Kind::Tuple:
      for (auto &o : llvm::cast<ast::Tuple>(e).elts)
        sub(o);
      break;
    case ast::Expr::Kind::List:
      for (auto &o : llvm::cast<ast::List>(e).elts)
        sub(o);
      break;
    case ast::Expr::Kind::ListComp:
    case ast::Expr::Kind::Dict:
      ast::forEachChild(e, [&](const ast::Expr &c) { expr(c, &e, s); });
      break;
    default:
      break;
    }
  }
};

/// The source text of `r`, on one line, shortened to about 60 characters.
std::string sourceText(const SourceFile &file, SourceRange r) {
  const std::string &t = file.text();
  std::string s;
  bool space = false;
  for (uint32_t i = r.begin; i < r.end && i < t.size(); ++i) {
    char c = t[i];
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ' || c == '\\') {
      space = !s.empty();
      continue;
    }
    if (space)
      s += ' ';
    space = false;
    s += c;
  }
  if (s.size() > 60)
    s = s.substr(0, 57) + "...";
  return s;
}

//===----------------------------------------------------------------------===//
// The report
//===----------------------------------------------------------------------===//

/// One line of the report, sorted by source position.
struct Line {
  std::string file;
  unsigned line = 0, column = 0;
  int order = 0; ///< among lines at one position: stn's facts, then LLVM's
  std::string text;
  bool operator<(const Line &o) const {
    return std::tie(line, column, order, text) < std::tie(o.line, o.column, o.order, o.text);
  }
};

class ReportBuilder {
public:
  ReportBuilder(const TypedFunction &f, const CodegenLog &log,
                const std::vector<OptimizationRemark> &remarks, unsigned optLevel)
      : F(f), Log(log), Remarks(remarks), OptLevel(optLevel) {}

  std::string build();

private:
  const TypedFunction &F;
  const CodegenLog &Log;
  const std::vector<OptimizationRemark> &Remarks;
  unsigned OptLevel;
  std::vector<Line> Lines;
  std::map<const TypedFunction *, TreeIndex> Trees;

  const TreeIndex &tree(const TypedFunction *fn) {
    auto it = Trees.find(fn);
    if (it != Trees.end())
      return it->second;
    TreeIndex &t = Trees[fn];
    if (fn->def)
      t.block(fn->def->body);
    return t;
  }

  void add(const TypedFunction *fn, SourceRange r, int order, std::string text) {
    auto [line, col] = fn->file->lineCol(r.begin);
    Lines.push_back({fn->file->name(), line, col, order, std::move(text)});
  }

  std::vector<const TypedFunction *> functions();
  void parallelLoops();
  void plainPranges();
  void parallelDrivers();
  void fusedExpressions();
  void vectorization();
  std::string fileFor(const std::string &path);
};

/// `F` and every kernel it calls (cores of ufuncs, gufuncs and stencils too).
std::vector<const TypedFunction *> ReportBuilder::functions() {
  std::vector<const TypedFunction *> all{&F};
  std::set<const TypedFunction *> seen{&F};
  for (size_t i = 0; i < all.size(); ++i) {
    std::vector<const TypedFunction *> next(all[i]->callees.begin(), all[i]->callees.end());
    if (all[i]->core)
      next.push_back(all[i]->core);
    for (auto *g : next)
      if (g && seen.insert(g).second)
        all.push_back(g);
  }
  return all;
}

void ReportBuilder::parallelLoops() {
  std::set<const ast::For *> seen;
  for (auto &p : Log.parallelLoops) {
    if (!seen.insert(p.loop).second)
      continue;
    auto it = p.fn->loops.find(p.loop);
    if (it == p.fn->loops.end())
      continue;
    const ForInfo &info = it->second;
    std::string var;
    if (auto *n = llvm::dyn_cast<ast::Name>(p.loop->target.get()))
      var = n->id;
    std::string text =
        fmt::format("parallel loop (prange over {}): chunks of iterations (at most 4 per "
                    "thread) taken from an atomic counter by every thread",
                    var);
    std::vector<std::string> reds;
    for (auto &r : info.reductions)
      reds.push_back(fmt::format("{} ({})", r.var, reduceOpName(r.op)));
    if (!reds.empty())
      text += fmt::format("; reduction{} {}", reds.size() > 1 ? "s" : "",
                          fmt::join(reds, ", "));
    if (!info.privates.empty())
      text += fmt::format("; private {}", fmt::join(info.privates, ", "));
    int64_t work = std::max<int64_t>(p.workPerIteration, 1);
    int64_t minIters = (p.minParallelWork + work - 1) / work;
    text += fmt::format("; runs on one thread below {} iterations (about {} operations each)",
                        minIters, work);
    add(p.fn, p.loop->range(), 0, std::move(text));
  }
}

/// prange loops that run as a plain range, and why.
void ReportBuilder::plainPranges() {
  for (auto *fn : functions()) {
    const TreeIndex &t = tree(fn);
    for (auto *loop : t.loops) {
      auto it = fn->loops.find(loop);
      if (it == fn->loops.end() || !it->second.parallel || it->second.runsParallel)
        continue;
      bool parallelKernel = fn->decl && fn->decl->options.parallel;
      add(fn, loop->range(), 0,
          parallelKernel ? "prange runs serially: it is nested in a parallel loop"
                         : "prange runs serially: the kernel is not parallel=True");
    }
  }
}

/// Drivers of ufuncs, gufuncs and stencils with target="parallel".
void ReportBuilder::parallelDrivers() {
  for (auto *fn : functions()) {
    if (!fn->decl || fn->decl->options.target != "parallel" || fn->kind == KernelKind::Jit ||
        !fn->def)
      continue;
    add(fn, fn->def->nameRange, 0,
        fmt::format("target=\"parallel\": the outer loop of the {} driver is split over "
                    "threads",
                    kernelKindName(fn->kind)));
  }
}

bool isReduction(const TypedFunction &fn, const ast::Expr *e, std::string &name) {
  auto *c = llvm::dyn_cast_or_null<ast::Call>(e);
  if (!c)
    return false;
  auto it = fn.calls.find(c);
  if (it == fn.calls.end() || it->second.kind != CallInfo::Kind::Builtin)
    return false;
  Builtin b = it->second.builtin;
  if ((b >= Builtin::Sum && b <= Builtin::All) || b == Builtin::Dot) {
    name = builtinName(b);
    return true;
  }
  return false;
}

void ReportBuilder::fusedExpressions() {
  // MLIRGen logs every elementwise node; the roots are those whose parent
  // is not one (children are always fused into their elementwise parent).
  std::map<const TypedFunction *, std::set<const ast::Expr *>> nodes;
  std::map<const ast::Expr *, bool> parallel;
  std::vector<std::pair<const TypedFunction *, const ast::Expr *>> order;
  for (auto &x : Log.fusedExpressions) {
    if (nodes[x.fn].insert(x.root).second)
      order.push_back({x.fn, x.root});
    parallel[x.root] = x.parallel;
  }
  std::map<const ast::Expr *, unsigned> ops;
  std::vector<std::pair<const TypedFunction *, const ast::Expr *>> roots;
  for (auto [fn, e] : order) {
    const TreeIndex &t = tree(fn);
    const ast::Expr *root = e;
    while (true) {
      auto it = t.parent.find(root);
      if (it == t.parent.end() || !it->second || !nodes[fn].count(it->second))
        break;
      root = it->second;
    }
    if (ops[root]++ == 0)
      roots.push_back({fn, root});
  }
  for (auto [fn, root] : roots) {
    const TreeIndex &t = tree(fn);
    unsigned n = ops[root];
    auto *aug0 = llvm::dyn_cast_or_null<ast::AugAssign>(t.stmt.count(root) ? t.stmt.at(root)
                                                                            : nullptr);
    if (aug0 && aug0->value.get() == root && !t.parent.at(root))
      ++n; // the update's own operation joins the loop
    std::string text = fmt::format("array expression '{}': {}", sourceText(*fn->file, root->range()),
                                   n == 1 ? "one operation in one loop nest"
                                          : fmt::format("{} operations fused into one loop nest", n));
    const ast::Expr *up = t.parent.count(root) ? t.parent.at(root) : nullptr;
    const ast::Stmt *s = t.stmt.count(root) ? t.stmt.at(root) : nullptr;
    std::string reduction;
    auto *aug = llvm::dyn_cast_or_null<ast::AugAssign>(s);
    auto *assign = llvm::dyn_cast_or_null<ast::Assign>(s);
    // A method call (`(a - b).max()`) is a Call of an Attribute of the root.
    const ast::Expr *method = nullptr;
    if (auto *attr = llvm::dyn_cast_or_null<ast::Attribute>(up);
        attr && attr->value.get() == root && t.parent.count(up)) {
      auto *c = llvm::dyn_cast_or_null<ast::Call>(t.parent.at(up));
      if (c && c->func.get() == up)
        method = c;
    }
    if (isReduction(*fn, up, reduction) || isReduction(*fn, method, reduction)) {
      text += fmt::format(", consumed by {}() without an intermediate array", reduction);
    } else if (up && llvm::isa<ast::Subscript>(up) &&
               llvm::cast<ast::Subscript>(up)->index.get() == root) {
      text += ", used as a boolean mask without an intermediate array";
    } else if (aug && !up && aug->value.get() == root) {
      std::string target = sourceText(*fn->file, aug->target->range());
      auto *ts = llvm::dyn_cast<ast::Subscript>(aug->target.get());
      if (ts && fn->copiesElements(*ts))
        text += fmt::format(" with the update '{} {}=', into a temporary array that is then "
                            "copied into {}",
                            target, ast::spelling(aug->op), target);
      else
        text += fmt::format(" with the update '{} {}=', written into {} (through a temporary "
                            "array only where {} shares memory with an array the expression "
                            "reads)",
                            target, ast::spelling(aug->op), target, target);
    } else if (assign && !up && assign->value.get() == root && !assign->targets.empty() &&
               llvm::isa<ast::Subscript>(assign->targets.front().get())) {
      auto *ts = llvm::cast<ast::Subscript>(assign->targets.front().get());
      std::string target = sourceText(*fn->file, ts->range());
      if (assign->targets.size() == 1 && !fn->copiesElements(*ts))
        text += fmt::format(", written into {} (through a temporary array only where {} "
                            "shares memory with an array the expression reads)",
                            target, target);
      else
        text += fmt::format(", into a new array, then copied into {}", target);
    } else {
      text += ", into a new array";
      if (parallel[root])
        text += " (its outer axis split over threads)";
    }
    add(fn, root->range(), 1, std::move(text));
  }
}

/// The name under which `path` (a DIFile's absolute path, from a
/// FileLineColLoc) is printed: the kernel file's name as given.
std::string ReportBuilder::fileFor(const std::string &path) {
  for (auto *fn : functions()) {
    const std::string &n = fn->file->name();
    if (path == n || llvm::sys::path::filename(path) == llvm::sys::path::filename(n))
      return n;
  }
  return path;
}

/// LLVM's text without what only applies to C and C++ (pragmas,
/// __restrict__), on one line.
std::string cleanMessage(const std::string &msg) {
  std::string flat;
  for (char c : msg) // LLVM's line breaks end sentences
    flat += c != '\n' ? std::string(1, c) : !flat.empty() && flat.back() == '.' ? " " : ". ";
  std::string out;
  size_t i = 0;
  while (i < flat.size()) {
    size_t end = flat.find(". ", i);
    end = end == std::string::npos ? flat.size() : end + 1;
    std::string sentence = flat.substr(i, end - i);
    i = end;
    while (i < flat.size() && flat[i] == ' ')
      ++i;
    if (sentence.find("#pragma") != std::string::npos ||
        sentence.find("__restrict__") != std::string::npos ||
        sentence.find("Erroneous results") != std::string::npos)
      continue;
    if (!out.empty())
      out += ' ';
    out += sentence;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.'))
    out.pop_back();
  return out;
}

void ReportBuilder::vectorization() {
  // Where the parallel loops are: loops LLVM reports there are the chunk
  // loop (in the region OpenMP outlines) and the loop that combines the
  // reduction partials (after the region).
  std::set<std::pair<unsigned, unsigned>> parallelAt;
  for (auto &p : Log.parallelLoops)
    parallelAt.insert(p.fn->file->lineCol(p.loop->range().begin));
  auto position = [&](const OptimizationRemark &r, unsigned line, unsigned column) {
    return fileFor(r.file) == fileFor(Remarks.front().file) && line && column
               ? fmt::format("{}:{}", line, column)
               : fmt::format("{}:{}:{}", fileFor(r.file), line, column);
  };
  auto emit = [&](const OptimizationRemark &r, std::string text) {
    if (r.file.empty())
      return; // generated code without a source line (the entry wrapper)
    if (parallelAt.count({r.line, r.column}))
      text = (r.function.find("omp_par") != std::string::npos ? "chunk loop: "
                                                               : "combining the partial results: ") +
             text;
    Lines.push_back({fileFor(r.file), r.line, r.column, 2, std::move(text)});
  };
  static const std::regex widthRe(R"(vectorization width: (\d+), interleaved count: (\d+))");
  static const std::regex interleaveRe(R"(interleaved count: (\d+))");
  static const std::regex slpRe(R"(tree size (\d+))");
  // The loop vectorizer reports a loop's reasons (analysis remarks at the
  // instruction at fault) before its verdict (at the loop).
  std::map<std::string, std::vector<const OptimizationRemark *>> pending; // by function
  auto reasons = [&](const OptimizationRemark &verdict, const std::string &extra) {
    std::vector<std::string> why;
    for (auto *x : pending[verdict.function]) {
      std::string m = cleanMessage(x->message);
      if (m.rfind("loop not vectorized: ", 0) == 0)
        m = m.substr(21);
      if (m.find("interleaving") != std::string::npos || m.empty())
        continue;
      if (!x->file.empty() && (x->line != verdict.line || x->column != verdict.column))
        m += fmt::format(" (at {})", position(*x, x->line, x->column));
      if (std::find(why.begin(), why.end(), m) == why.end())
        why.push_back(m);
    }
    if (!extra.empty())
      why.push_back(extra);
    pending[verdict.function].clear();
    return why.empty() ? std::string("loop not vectorized")
                       : fmt::format("loop not vectorized: {}", fmt::join(why, "; "));
  };
  for (auto &r : Remarks) {
    std::smatch m;
    if (r.pass == kSLPVectorize) {
      if (r.kind == OptimizationRemark::Kind::Passed)
        emit(r, std::regex_search(r.message, m, slpRe)
                    ? fmt::format("straight-line code vectorized (SLP, {} operations)",
                                  m[1].str())
                    : std::string("straight-line code vectorized (SLP)"));
      continue;
    }
    if (r.kind == OptimizationRemark::Kind::Analysis) {
      pending[r.function].push_back(&r);
    } else if (r.kind == OptimizationRemark::Kind::Passed) {
      pending[r.function].clear();
      if (r.name == "Vectorized" && std::regex_search(r.message, m, widthRe))
        emit(r, fmt::format("loop vectorized: width {}, interleaved {}", m[1].str(),
                            m[2].str()));
      else if (r.name == "Interleaved" && std::regex_search(r.message, m, interleaveRe))
        emit(r, fmt::format("loop not vectorized (not beneficial), interleaved {}",
                            m[1].str()));
      else
        emit(r, cleanMessage(r.message));
    } else if (r.name == "MissedDetails") {
      emit(r, reasons(r, ""));
    } else if (r.message.find("interleaving") == std::string::npos) {
      std::string why = cleanMessage(r.message);
      if (why.rfind("loop not vectorized: ", 0) == 0)
        why = why.substr(21);
      emit(r, reasons(r, why));
    }
  }
}

std::string ReportBuilder::build() {
  parallelLoops();
  plainPranges();
  parallelDrivers();
  fusedExpressions();
  vectorization();
  std::stable_sort(Lines.begin(), Lines.end());
  Lines.erase(std::unique(Lines.begin(), Lines.end(),
                          [](const Line &a, const Line &b) {
                            return a.file == b.file && a.line == b.line &&
                                   a.column == b.column && a.text == b.text;
                          }),
              Lines.end());
  std::vector<std::string> args;
  for (auto &t : F.argTypes)
    args.push_back(t.str());
  auto [line, col] = F.file->lineCol(F.def->range.begin);
  std::string out = fmt::format("kernel {}({}) at {}:{}:{}\n", F.def->name,
                                fmt::join(args, ", "), F.file->name(), line, col);
  if (OptLevel < 2)
    out += fmt::format("  note: no loop or SLP vectorization at optimization level {}\n",
                       OptLevel);
  // Lines of the kernel's own file first, then those of imported files.
  std::stable_partition(Lines.begin(), Lines.end(),
                        [&](const Line &l) { return l.file == F.file->name(); });
  for (auto &l : Lines)
    out += fmt::format("  {}:{}:{}: {}\n", l.file, l.line, l.column, l.text);
  if (Lines.empty())
    out += "  no parallel loops, array expressions or vectorizable loops\n";
  return out;
}

} // namespace

void collectOptimizationRemarks(llvm::LLVMContext &ctx, std::vector<OptimizationRemark> &out) {
  ctx.setDiagnosticHandler(std::make_unique<RemarkCollector>(out));
}

std::string formatOptimizationReport(const TypedFunction &f, const CodegenLog &log,
                                     const std::vector<OptimizationRemark> &remarks,
                                     unsigned optLevel) {
  return ReportBuilder(f, log, remarks, optLevel).build();
}

} // namespace stn
