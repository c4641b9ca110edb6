//===- Parser.cpp - Recursive-descent parser for .stn files ---------------===//
//
// A hand-written recursive-descent parser over the token vector produced by
// Lexer.cpp. Each parsing function is named after the rule of Python's
// grammar it implements, and the rule (simplified to what stn accepts) is
// written above it, as in chibicc.
//
// Design notes:
//  * Python constructs that stn does not compile (lambda, comprehensions,
//    classes, try, ...) are still parsed, or at least consumed whole, and
//    recorded as ast::Unsupported / ast::UnsupportedStmt. Sema then says
//    "Python feature X is not supported", which is a better message than a
//    syntax error for valid Python.
//  * Errors: a parsing function that fails reports one error and returns
//    null; the enclosing statement is abandoned and parsing resumes at the
//    next NEWLINE (and skips the indented block of a broken compound
//    statement header), so independent errors in one file are all reported.
//    Only one error is kept per source position, and none inside the spans
//    where the lexer already explained the problem (an unclosed bracket).
//  * All diagnostics of one parse (lexer and parser) are sorted by position
//    before they reach the DiagnosticEngine, so they read top to bottom.
//  * Nesting is capped (kMaxDepth) so that hostile input such as 100000
//    '(' cannot overflow the stack; indentation depth is capped by the lexer.
//  * The height of every expression tree is capped too (kMaxHeight): a long
//    operator chain such as `x + x + ... + x` is parsed by a loop, but it is
//    a left-deep tree that Sema and the code generator walk recursively
//    (found by fuzzing: 1000 terms overflowed a 1 MiB thread stack, 20000
//    terms the main thread's 8 MiB).
//  * The AST never contains a null where a node is required: a statement
//    whose header failed to parse is dropped (its errors are reported).
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/Parser.h"

#include "Lexer.h"
#include "LocalFunctions.h"

#include "llvm/Support/Casting.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <iterator>
#include <set>

namespace stn {
namespace {

using namespace ast;
using frontend::Tok;
using frontend::Token;
using llvm::dyn_cast;
using llvm::isa;

constexpr unsigned kMaxDepth = 200;

/// The highest expression tree the parser builds (see Expr::height). The
/// later stages' recursion costs up to 1.5 KiB of stack per level in the
/// release build and 10 KiB under AddressSanitizer (measured on operator
/// chains): 256 levels keep a whole compilation inside a 1 MiB thread stack,
/// and inside the main thread's 8 MiB under ASan, with room to spare.
constexpr unsigned kMaxHeight = 256;

/// The height of `e` computed from its children's heights (already set, as
/// the tree is built bottom-up); see Expr::height.
unsigned heightFromChildren(const Expr &e) {
  auto h = [](const ExprPtr &c) -> unsigned { return c ? c->height() : 0; };
  unsigned m = 0;
  switch (e.kind()) {
  case Expr::Kind::Attribute:
    return 1 + h(llvm::cast<Attribute>(e).value);
  case Expr::Kind::Subscript: {
    auto &x = llvm::cast<Subscript>(e);
    return 1 + std::max(h(x.value), h(x.index));
  }
  case Expr::Kind::Slice: {
    auto &x = llvm::cast<Slice>(e);
    return 1 + std::max({h(x.lower), h(x.upper), h(x.step)});
  }
  case Expr::Kind::Call: {
    auto &x = llvm::cast<Call>(e);
    m = h(x.func);
    for (auto &a : x.args)
      m = std::max(m, h(a));
    for (auto &k : x.keywords)
      m = std::max(m, h(k.value));
    return 1 + m;
  }
  case Expr::Kind::BinOp: {
    auto &x = llvm::cast<BinOp>(e);
    return 1 + std::max(h(x.lhs), h(x.rhs));
  }
  case Expr::Kind::UnaryOp:
    return 1 + h(llvm::cast<UnaryOp>(e).operand);
  case Expr::Kind::Compare: {
    auto &x = llvm::cast<Compare>(e);
    for (auto &o : x.operands)
      m = std::max(m, h(o));
    return m + static_cast<unsigned>(x.ops.size());
  }
  case Expr::Kind::BoolOp: {
    auto &x = llvm::cast<BoolOp>(e);
    for (auto &v : x.values)
      m = std::max(m, h(v));
    return m + static_cast<unsigned>(x.values.size()) - 1;
  }
  case Expr::Kind::IfExp: {
    auto &x = llvm::cast<IfExp>(e);
    return 1 + std::max({h(x.cond), h(x.body), h(x.orelse)});
  }
  case Expr::Kind::Tuple:
    for (auto &x : llvm::cast<Tuple>(e).elts)
      m = std::max(m, h(x));
    return 1 + m;
  case Expr::Kind::List:
    for (auto &x : llvm::cast<List>(e).elts)
      m = std::max(m, h(x));
    return 1 + m;
  case Expr::Kind::Dict:
    forEachChild(e, [&](const Expr &c) { m = std::max(m, c.height()); });
    return 1 + m;
  case Expr::Kind::ListComp: {
    // One nested loop per clause around the element.
    auto &x = llvm::cast<ListComp>(e);
    forEachChild(e, [&](const Expr &c) { m = std::max(m, c.height()); });
    return m + static_cast<unsigned>(x.generators.size());
  }
  default:
    return 1;
  }
}

/// Where a "too complex" error points: the operator, attribute or bracket
/// that made the tree too high rather than the whole expression.
SourceRange heightErrorRange(const Expr &e) {
  SourceRange r = e.range();
  switch (e.kind()) {
  case Expr::Kind::BinOp:
    return llvm::cast<BinOp>(e).opRange;
  case Expr::Kind::Attribute:
    return llvm::cast<Attribute>(e).attrRange;
  case Expr::Kind::Compare:
    return llvm::cast<Compare>(e).opRanges.back();
  case Expr::Kind::BoolOp:
    return llvm::cast<BoolOp>(e).values.back()->range();
  case Expr::Kind::Call:
  case Expr::Kind::Subscript:
    return r.end > r.begin ? SourceRange(r.end - 1, r.end) : r; // the closing bracket
  default:
    return r;
  }
}

/// Like clang's -ferror-limit: past this many errors in one file, the rest
/// are noise (and each repeats its source line), so they are dropped.
constexpr size_t kMaxErrors = 50;

bool isLayout(Tok k) {
  return k == Tok::Newline || k == Tok::Indent || k == Tok::Dedent || k == Tok::Eof;
}

/// Tokens that can begin an expression (used to tell a trailing comma from
/// a separator, and to suggest a missing comma).
bool startsExpression(Tok k) {
  switch (k) {
  case Tok::Name: case Tok::Int: case Tok::Float: case Tok::Imag:
  case Tok::String: case Tok::FString: case Tok::KwTrue: case Tok::KwFalse:
  case Tok::KwNone: case Tok::LParen: case Tok::LBracket: case Tok::LBrace:
  case Tok::Minus: case Tok::Plus: case Tok::Tilde: case Tok::KwNot:
  case Tok::KwLambda: case Tok::KwAwait: case Tok::Star: case Tok::Ellipsis:
    return true;
  default:
    return false;
  }
}

bool isOpener(Tok k) { return k == Tok::LParen || k == Tok::LBracket || k == Tok::LBrace; }
bool isCloser(Tok k) { return k == Tok::RParen || k == Tok::RBracket || k == Tok::RBrace; }

bool augAssignOp(Tok k, BinOpKind &op) {
  switch (k) {
  case Tok::PlusEqual: op = BinOpKind::Add; return true;
  case Tok::MinusEqual: op = BinOpKind::Sub; return true;
  case Tok::StarEqual: op = BinOpKind::Mul; return true;
  case Tok::SlashEqual: op = BinOpKind::Div; return true;
  case Tok::DoubleSlashEqual: op = BinOpKind::FloorDiv; return true;
  case Tok::PercentEqual: op = BinOpKind::Mod; return true;
  case Tok::DoubleStarEqual: op = BinOpKind::Pow; return true;
  case Tok::AmpEqual: op = BinOpKind::BitAnd; return true;
  case Tok::PipeEqual: op = BinOpKind::BitOr; return true;
  case Tok::CaretEqual: op = BinOpKind::BitXor; return true;
  case Tok::LShiftEqual: op = BinOpKind::LShift; return true;
  case Tok::RShiftEqual: op = BinOpKind::RShift; return true;
  case Tok::AtEqual: op = BinOpKind::MatMul; return true;
  default: return false;
  }
}

/// How Python names an expression that cannot be assigned to.
const char *describeNonTarget(const Expr &e) {
  switch (e.kind()) {
  case Expr::Kind::IntLit: case Expr::Kind::FloatLit: case Expr::Kind::ImagLit:
  case Expr::Kind::StrLit:
    return "literal";
  case Expr::Kind::BoolLit:
    return llvm::cast<BoolLit>(e).value ? "True" : "False";
  case Expr::Kind::NoneLit: return "None";
  case Expr::Kind::EllipsisLit: return "ellipsis";
  case Expr::Kind::Call: return "function call";
  case Expr::Kind::Compare: return "comparison";
  case Expr::Kind::IfExp: return "conditional expression";
  case Expr::Kind::Slice: return "slice";
  case Expr::Kind::Tuple: return "tuple";
  case Expr::Kind::List: return llvm::cast<List>(e).braces ? "set display" : "list";
  case Expr::Kind::ListComp:
    return llvm::cast<ListComp>(e).isDict()  ? "dict comprehension"
           : llvm::cast<ListComp>(e).isSet() ? "set comprehension"
                                             : "list comprehension";
  case Expr::Kind::Dict: return "dict display";
  default: return "expression";
  }
}

class Parser {
public:
  Parser(std::shared_ptr<const SourceFile> file, frontend::LexResult lexed,
         std::vector<Diagnostic> &diags, uint32_t begin)
      : File(std::move(file)), Toks(std::move(lexed.tokens)), Diags(diags),
        PrevEnd(begin) {
    // Both lists come out of the lexer sorted by offset and disjoint.
    for (frontend::QuietSpan &q : lexed.quietSpans)
      (q.opener == UINT32_MAX ? QuietTokens : Unclosed).push_back(q);
    QuietRegions = std::move(lexed.quietRegions);
  }

  std::unique_ptr<Module> parseFile();
  ExprPtr parseSignature();

private:
  std::shared_ptr<const SourceFile> File;
  std::vector<Token> Toks;
  std::vector<frontend::QuietSpan> Unclosed;    ///< after unclosed brackets
  std::vector<frontend::QuietSpan> QuietTokens; ///< rejected characters, stray closers
  std::vector<SourceRange> QuietRegions;        ///< too deeply indented code
  std::vector<Diagnostic> &Diags;
  size_t Pos = 0;
  uint32_t PrevEnd;           ///< end of the last consumed non-layout token
  unsigned Depth = 0;         ///< expression nesting, see kMaxDepth
  unsigned Comprehensions = 0; ///< numbers the renamed targets (ListComp)
  uint32_t LastErrorAt = UINT32_MAX;

  //===--- Tokens ---------------------------------------------------------===//

  const Token &tok() const { return Toks[Pos]; }
  const Token &peekTok(size_t k = 1) const {
    return Toks[std::min(Pos + k, Toks.size() - 1)];
  }
  bool at(Tok k) const { return tok().kind == k; }
  void advance() {
    if (!isLayout(tok().kind))
      PrevEnd = tok().range.end;
    if (Pos + 1 < Toks.size())
      ++Pos;
  }
  bool consumeIf(Tok k) {
    if (!at(k))
      return false;
    advance();
    return true;
  }
  std::string_view view(const Token &t) const {
    return std::string_view(File->text()).substr(t.range.begin, t.range.end - t.range.begin);
  }
  std::string text(const Token &t) const { return std::string(view(t)); }
  unsigned lineOf(uint32_t offset) const { return File->lineCol(offset).first; }
  bool atEndOfSimpleStmt() const {
    return at(Tok::Newline) || at(Tok::Semi) || at(Tok::Eof);
  }

  //===--- Diagnostics ----------------------------------------------------===//

  static frontend::QuietSpan *findSpan(std::vector<frontend::QuietSpan> &spans,
                                       uint32_t offset) {
    auto it = std::upper_bound(spans.begin(), spans.end(), offset,
                               [](uint32_t o, const frontend::QuietSpan &q) {
                                 return o < q.span.begin;
                               });
    if (it == spans.begin() || offset >= std::prev(it)->span.end)
      return nullptr;
    return &*std::prev(it);
  }

  void error(SourceRange r, std::string msg, std::string hint = {}) {
    if (findSpan(QuietTokens, r.begin))
      return;
    for (const SourceRange &q : QuietRegions)
      if (r.begin >= q.begin && r.begin < q.end)
        return;
    if (frontend::QuietSpan *q = findSpan(Unclosed, r.begin)) {
      // Inside an unclosed bracket, an error at a real token on the
      // bracket's own line is the better message (CPython agrees); errors
      // caused by the line ending early are explained by the bracket.
      if (q->opener == UINT32_MAX || isLayout(tok().kind) ||
          lineOf(r.begin) != lineOf(q->opener) || q->diagIndex >= Diags.size())
        return;
      Diags[q->diagIndex].message.clear(); // dropped by flush()
      q->opener = UINT32_MAX;
    }
    if (r.begin == LastErrorAt)
      return;
    LastErrorAt = r.begin;
    Diags.push_back(Diagnostic{Severity::Error, File, r, std::move(msg), std::move(hint)});
  }

  /// Where an "expected X" error points: the offending token, or just
  /// after the previous token when the line ended instead (a missing ':' is
  /// best shown at the end of its line, not at the start of the next one).
  SourceRange expectedLoc() const {
    const Token &t = tok();
    if (Pos > 0 && isLayout(t.kind))
      return SourceRange(PrevEnd, PrevEnd);
    return t.range;
  }
  /// The first real token at or after the current one (for errors reported
  /// at an INDENT or DEDENT, which have empty ranges).
  SourceRange nextRealTokenRange() const {
    for (size_t i = Pos; i < Toks.size(); ++i)
      if (!isLayout(Toks[i].kind) || Toks[i].kind == Tok::Eof)
        return Toks[i].range;
    return tok().range;
  }
  void expectCloser(Tok closer, uint32_t openBegin) {
    auto [line, col] = File->lineCol(openBegin);
    char open = closer == Tok::RParen ? '(' : closer == Tok::RBracket ? '[' : '{';
    char close = closer == Tok::RParen ? ')' : closer == Tok::RBracket ? ']' : '}';
    std::string hint;
    if (startsExpression(tok().kind) && lineOf(tok().range.begin) == lineOf(PrevEnd))
      hint = "perhaps you forgot a comma?";
    error(expectedLoc(),
          std::string("expected '") + close + "' to close '" + open + "' opened at " +
              std::to_string(line) + ":" + std::to_string(col),
          std::move(hint));
  }
  bool expectColon(const std::string &msg) {
    if (consumeIf(Tok::Colon))
      return true;
    error(expectedLoc(), msg,
          at(Tok::Equal) ? "maybe you meant '==' instead of '='?" : "");
    return false;
  }

  /// RAII nesting counter for the recursive expression rules.
  struct DepthGuard {
    Parser &P;
    bool ok;
    explicit DepthGuard(Parser &p) : P(p), ok(++p.Depth <= kMaxDepth) {
      if (!ok)
        P.error(P.tok().range, "expression nested too deeply");
    }
    ~DepthGuard() { --P.Depth; }
  };

  /// Sets the height of a node whose children are complete (Expr::height)
  /// and enforces kMaxHeight: a taller tree is an error and null, so no
  /// stage ever sees (or recursively destroys) an arbitrarily deep tree.
  ExprPtr sized(ExprPtr e) {
    if (!e)
      return e;
    unsigned h = heightFromChildren(*e);
    e->setHeight(h);
    if (h <= kMaxHeight)
      return e;
    error(heightErrorRange(*e),
          "expression too complex: more than " + std::to_string(kMaxHeight) +
              " nested operations",
          "split it into several statements with temporary variables");
    return nullptr;
  }

  //===--- Recovery -------------------------------------------------------===//

  void skipRestOfLine() {
    while (!at(Tok::Newline) && !at(Tok::Eof))
      advance();
  }
  void skipToEndOfStatement(size_t firstTok);
  void parseIndentedBlockInto(Block &out);
  bool skipBalancedTo(Tok closer);
  bool skipHeaderToColon();
  void skipBlock();

  //===--- Statements -----------------------------------------------------===//

  void parseStatement(Block &out);
  void parseSimpleStmts(Block &out);
  bool parseSimpleStmt(Block &out);
  bool parseExprOrAssign(Block &out);
  bool checkTarget(const Expr &e, bool isAssign);
  StmtPtr ufuncAt(ExprPtr &call, SourceRange range);
  StmtPtr ufuncOut(ExprPtr &call, SourceRange range);
  ExprPtr ufuncOperator(SourceRange range, const Expr &func, std::vector<ExprPtr> &args);
  bool parseImportName(Block &out);
  bool parseImportFrom(Block &out);
  bool parseDottedName(std::string &out);
  Block parseBlock(const std::string &what, unsigned headerLine, bool quiet = false);
  Block parseElseBlock();
  StmtPtr parseIfStmt();
  StmtPtr parseForStmt();
  StmtPtr parseWhileStmt();
  void parseDefinition(Module *topLevel, Block &out);
  std::vector<ExprPtr> parseDecorators();
  std::unique_ptr<FunctionDef> parseFuncDef(std::vector<ExprPtr> decorators);
  bool parseParameters(FunctionDef &f);
  bool parseParameterList(std::vector<Param> &params, Tok closer);
  StmtPtr parseUnsupportedCompound(const char *what);
  void parseClause(const char *keyword, bool skipBody);
  StmtPtr parseAsync();
  bool looksLikeMatch() const;

  //===--- Expressions ----------------------------------------------------===//

  ExprPtr parseStarExpressions();
  ExprPtr parseStarExpression();
  ExprPtr parseTargetList();
  ExprPtr parseNamedExpression();
  ExprPtr parseExpression();
  ExprPtr parseLambda();
  ExprPtr parseYield();
  ExprPtr parseDisjunction();
  ExprPtr parseConjunction();
  ExprPtr parseInversion();
  ExprPtr parseComparison();
  ExprPtr parseBitwiseOr();
  ExprPtr parseBitwiseXor();
  ExprPtr parseBitwiseAnd();
  ExprPtr parseShiftExpr();
  ExprPtr parseSum();
  ExprPtr parseTerm();
  ExprPtr parseFactor();
  ExprPtr parsePower();
  ExprPtr parseAwaitPrimary();
  ExprPtr parsePrimary();
  ExprPtr parseCall(ExprPtr func, uint32_t begin);
  ExprPtr parseSubscript(ExprPtr value, uint32_t begin);
  ExprPtr parseSlice();
  ExprPtr parseAtom();
  ExprPtr parseStrings();
  bool parseFString(const Token &t, std::string &value, std::vector<ExprPtr> &parts,
                    const std::function<void(SourceRange)> &flush);
  static uint32_t decodeEscape(std::string_view src, uint32_t i, std::string &out);
  ExprPtr parseParenAtom();
  ExprPtr parseListAtom();
  ExprPtr parseBraceAtom();
  ExprPtr parseComprehension(ExprPtr elt, uint32_t begin, uint32_t openBegin, Tok closer,
                             bool generator, ExprPtr value = nullptr);
  ExprPtr finishBinary(ExprPtr lhs, uint32_t begin, BinOpKind op,
                       ExprPtr (Parser::*next)());
};

//===----------------------------------------------------------------------===//
// Recovery helpers
//===----------------------------------------------------------------------===//

/// Abandons the statement that started at token `firstTok`: skips to the end
/// of its line, and when it was (or looked like) a compound statement header
/// also parses its indented block, so the block's lines do not produce
/// "unexpected indent" errors of their own.
void Parser::skipToEndOfStatement(size_t firstTok) {
  skipRestOfLine();
  bool endsWithColon = Pos > 0 && Toks[Pos - 1].kind == Tok::Colon;
  Tok first = Toks[firstTok].kind;
  bool compound = first == Tok::KwIf || first == Tok::KwElif || first == Tok::KwElse ||
                  first == Tok::KwFor || first == Tok::KwWhile || first == Tok::KwDef ||
                  first == Tok::KwClass || first == Tok::KwWith || first == Tok::KwTry ||
                  first == Tok::KwExcept || first == Tok::KwFinally ||
                  first == Tok::KwAsync;
  consumeIf(Tok::Newline);
  if ((endsWithColon || compound) && at(Tok::Indent)) {
    Block discarded;
    parseIndentedBlockInto(discarded);
  }
}

/// Parses INDENT statement* DEDENT (the current token is the INDENT).
void Parser::parseIndentedBlockInto(Block &out) {
  advance(); // INDENT
  while (!at(Tok::Dedent) && !at(Tok::Eof)) {
    size_t before = Pos;
    parseStatement(out);
    if (Pos == before) // never loop without progress, whatever the input
      advance();
  }
  consumeIf(Tok::Dedent);
}

/// Skips balanced tokens up to (not past) `closer` at nesting depth 0.
/// Returns false if a line end or a different closer came first.
bool Parser::skipBalancedTo(Tok closer) {
  int depth = 0;
  while (!at(Tok::Eof) && !at(Tok::Newline)) {
    Tok k = tok().kind;
    if (depth == 0 && isCloser(k))
      return k == closer;
    if (isOpener(k))
      ++depth;
    else if (isCloser(k))
      --depth;
    advance();
  }
  return false;
}

/// Skips the header of a compound statement that stn does not parse in
/// detail (class, with, try, except, match); stops at its ':'.
bool Parser::skipHeaderToColon() {
  int depth = 0;
  while (!at(Tok::Eof) && !at(Tok::Newline)) {
    Tok k = tok().kind;
    if (depth == 0 && k == Tok::Colon)
      return true;
    if (isOpener(k))
      ++depth;
    else if (isCloser(k) && depth > 0)
      --depth;
    advance();
  }
  return false;
}

/// Skips a block without parsing it (`match` bodies hold `case` patterns,
/// which are not statements).
void Parser::skipBlock() {
  if (!at(Tok::Newline)) {
    skipRestOfLine();
    consumeIf(Tok::Newline);
    return;
  }
  advance();
  if (!at(Tok::Indent))
    return;
  int depth = 0;
  do {
    if (at(Tok::Indent))
      ++depth;
    else if (at(Tok::Dedent))
      --depth;
    advance();
  } while (depth > 0 && !at(Tok::Eof));
}

//===----------------------------------------------------------------------===//
// Module and statements
//===----------------------------------------------------------------------===//

/// file: statement* ENDMARKER
std::unique_ptr<Module> Parser::parseFile() {
  auto m = std::make_unique<Module>();
  m->file = File;
  bool first = true;
  while (!at(Tok::Eof)) {
    size_t before = Pos;
    Block stmts;
    if (at(Tok::At) || at(Tok::KwDef))
      parseDefinition(m.get(), stmts);
    else
      parseStatement(stmts);
    if (Pos == before)
      advance();
    for (StmtPtr &s : stmts) {
      bool isFirst = first;
      first = false;
      if (isa<Import>(s.get())) {
        m->imports.emplace_back(static_cast<Import *>(s.release()));
        continue;
      }
      if (auto *a = dyn_cast<Assign>(s.get())) {
        if (a->targets.size() == 1 && !a->annotation && a->value &&
            isa<Name>(a->targets[0].get())) {
          m->globals.push_back(GlobalAssign{llvm::cast<Name>(*a->targets[0]).id,
                                            a->range(), std::move(a->value)});
          continue;
        }
      }
      // A module docstring documents the file; it is not code.
      if (auto *es = dyn_cast<ExprStmt>(s.get()); es && isFirst && isa<StrLit>(es->value.get()))
        continue;
      m->other.push_back(std::move(s));
    }
    if (!m->functions.empty())
      first = false;
  }
  return m;
}

/// statement: compound_stmt | simple_stmts
/// compound_stmt: if_stmt | for_stmt | while_stmt | funcdef | decorated
///              | class_def | try_stmt | with_stmt | match_stmt | async_stmt
void Parser::parseStatement(Block &out) {
  auto push = [&](StmtPtr s) {
    if (s)
      out.push_back(std::move(s));
  };
  switch (tok().kind) {
  case Tok::Eof:
    return;
  case Tok::Newline:
  case Tok::Dedent:
    advance();
    return;
  case Tok::Indent:
    error(nextRealTokenRange(), "unexpected indent");
    parseIndentedBlockInto(out);
    return;
  case Tok::KwIf:
    return push(parseIfStmt());
  case Tok::KwFor:
    return push(parseForStmt());
  case Tok::KwWhile:
    return push(parseWhileStmt());
  case Tok::KwDef:
  case Tok::At:
    return parseDefinition(nullptr, out);
  case Tok::KwClass:
    return push(parseUnsupportedCompound("classes"));
  case Tok::KwWith:
    return push(parseUnsupportedCompound("with statements"));
  case Tok::KwTry:
    return push(parseUnsupportedCompound("try/except"));
  case Tok::KwAsync:
    return push(parseAsync());
  case Tok::KwElif:
  case Tok::KwElse:
  case Tok::KwExcept:
  case Tok::KwFinally: {
    const char *msg = at(Tok::KwElif)     ? "'elif' without a matching 'if'"
                      : at(Tok::KwElse)   ? "'else' without a matching 'if', 'for' or 'while'"
                      : at(Tok::KwExcept) ? "'except' without a matching 'try'"
                                          : "'finally' without a matching 'try'";
    error(tok().range, msg, "check the indentation of this line");
    std::string keyword = text(tok());
    parseClause(keyword.c_str(), /*skipBody=*/false); // for errors in its block
    return;
  }
  case Tok::Name:
    if (looksLikeMatch())
      return push(parseUnsupportedCompound("match statements"));
    break;
  default:
    break;
  }
  parseSimpleStmts(out);
}

/// `match` is a soft keyword: `match x:` starts a match statement, while
/// `match = 3` or `match(x)` are ordinary code.
bool Parser::looksLikeMatch() const {
  if (view(tok()) != "match")
    return false;
  Tok next = peekTok().kind;
  if (!startsExpression(next) || next == Tok::Star)
    return false;
  size_t i = Pos + 1;
  while (i < Toks.size() && Toks[i].kind != Tok::Newline && Toks[i].kind != Tok::Eof)
    ++i;
  return i > Pos + 1 && Toks[i - 1].kind == Tok::Colon;
}

/// simple_stmts: simple_stmt (';' simple_stmt)* [';'] NEWLINE
void Parser::parseSimpleStmts(Block &out) {
  size_t first = Pos;
  while (true) {
    if (!parseSimpleStmt(out))
      return skipToEndOfStatement(first);
    if (consumeIf(Tok::Semi)) {
      if (at(Tok::Newline) || at(Tok::Eof))
        break;
      continue;
    }
    break;
  }
  if (consumeIf(Tok::Newline) || at(Tok::Eof))
    return;
  std::string hint;
  if (Toks[first].kind == Tok::Name && view(Toks[first]) == "print" && Pos == first + 1)
    hint = "missing parentheses in call to 'print'; did you mean print(...)?";
  error(tok().range, "invalid syntax", std::move(hint));
  skipToEndOfStatement(first);
}

/// simple_stmt: assignment | star_expressions | return_stmt | import_stmt
///            | 'pass' | 'break' | 'continue'
///            | del_stmt | global_stmt | nonlocal_stmt | raise_stmt | assert_stmt
bool Parser::parseSimpleStmt(Block &out) {
  const Token &t = tok();
  uint32_t begin = t.range.begin;
  switch (t.kind) {
  case Tok::KwPass:
    advance();
    out.push_back(std::make_unique<Pass>(t.range));
    return true;
  case Tok::KwBreak:
    advance();
    out.push_back(std::make_unique<Break>(t.range));
    return true;
  case Tok::KwContinue:
    advance();
    out.push_back(std::make_unique<Continue>(t.range));
    return true;
  case Tok::KwReturn: {
    // return_stmt: 'return' [star_expressions]
    advance();
    ExprPtr value;
    if (!atEndOfSimpleStmt()) {
      value = parseStarExpressions();
      if (!value)
        return false;
    }
    out.push_back(std::make_unique<Return>(SourceRange(begin, PrevEnd), std::move(value)));
    return true;
  }
  case Tok::KwImport:
    return parseImportName(out);
  case Tok::KwFrom:
    return parseImportFrom(out);
  case Tok::KwGlobal:
  case Tok::KwNonlocal: {
    // global_stmt: 'global' NAME (',' NAME)*
    const char *what = t.kind == Tok::KwGlobal ? "global declarations" : "nonlocal declarations";
    advance();
    do {
      if (!at(Tok::Name)) {
        error(expectedLoc(), "expected a name");
        return false;
      }
      advance();
    } while (consumeIf(Tok::Comma));
    out.push_back(std::make_unique<UnsupportedStmt>(SourceRange(begin, PrevEnd), what));
    return true;
  }
  case Tok::KwDel: {
    // del_stmt: 'del' del_targets
    advance();
    // `del x[i]` is the call `x.__delitem__(i)` (Sema: a dict entry or a
    // list item, or a list slice), one statement per target, in order.
    ExprPtr targets = parseStarExpressions();
    if (!targets)
      return false;
    std::vector<ExprPtr> flat;
    std::function<void(ExprPtr)> add = [&](ExprPtr e) {
      if (auto *t = dyn_cast<Tuple>(e.get())) {
        for (ExprPtr &x : t->elts)
          add(std::move(x));
      } else if (auto *l = dyn_cast<List>(e.get()); l && !l->braces) {
        for (ExprPtr &x : l->elts)
          add(std::move(x));
      } else {
        flat.push_back(std::move(e));
      }
    };
    add(std::move(targets));
    for (ExprPtr &e : flat) {
      auto *s = dyn_cast<Subscript>(e.get());
      if (!s) {
        out.push_back(std::make_unique<UnsupportedStmt>(
            e->range(), isa<Name>(e.get()) ? "del of a variable" : "del of this target"));
        continue;
      }
      SourceRange r = s->range();
      std::vector<ExprPtr> args;
      args.push_back(std::move(s->index));
      auto method = std::make_unique<Attribute>(r, std::move(s->value), "__delitem__", r);
      auto call = std::make_unique<Call>(r, std::move(method), std::move(args),
                                         std::vector<Keyword>{});
      out.push_back(std::make_unique<ExprStmt>(r, std::move(call)));
    }
    return true;
  }
  case Tok::KwRaise: {
    // raise_stmt: 'raise' [expression ['from' expression]]
    advance();
    ExprPtr exc;
    if (!atEndOfSimpleStmt()) {
      exc = parseExpression();
      if (!exc)
        return false;
      if (consumeIf(Tok::KwFrom)) {
        if (!parseExpression())
          return false;
        out.push_back(std::make_unique<UnsupportedStmt>(SourceRange(begin, PrevEnd),
                                                        "'raise ... from' (exception chaining)"));
        return true;
      }
    }
    out.push_back(std::make_unique<Raise>(SourceRange(begin, PrevEnd), std::move(exc)));
    return true;
  }
  case Tok::KwAssert: {
    // assert_stmt: 'assert' expression [',' expression]
    advance();
    ExprPtr test = parseExpression();
    if (!test)
      return false;
    ExprPtr msg;
    if (consumeIf(Tok::Comma)) {
      msg = parseExpression();
      if (!msg)
        return false;
    }
    out.push_back(
        std::make_unique<Assert>(SourceRange(begin, PrevEnd), std::move(test), std::move(msg)));
    return true;
  }
  case Tok::KwIf: case Tok::KwFor: case Tok::KwWhile: case Tok::KwDef:
  case Tok::KwClass: case Tok::KwTry: case Tok::KwWith: case Tok::KwAsync:
  case Tok::KwElif: case Tok::KwElse: case Tok::KwExcept: case Tok::KwFinally:
  case Tok::At:
    // Only simple statements may follow a ':' on the same line.
    error(t.range, "invalid syntax",
          "a compound statement must start on its own line");
    return false;
  default:
    return parseExprOrAssign(out);
  }
}

/// assignment: single_target ':' expression ['=' annotated_rhs]
///           | (star_targets '=')+ (yield_expr | star_expressions)
///           | single_target augassign (yield_expr | star_expressions)
/// expression_stmt: star_expressions
bool Parser::parseExprOrAssign(Block &out) {
  uint32_t begin = tok().range.begin;
  ExprPtr first = parseStarExpressions();
  if (!first)
    return false;

  if (at(Tok::Colon)) {
    if (isa<Tuple>(first.get()) || isa<List>(first.get())) {
      error(first->range(), std::string("only single target (not ") +
                                describeNonTarget(*first) + ") can be annotated");
      return false;
    }
    if (!isa<Name>(first.get()) && !isa<Attribute>(first.get()) &&
        !isa<Subscript>(first.get())) {
      error(first->range(), "illegal target for annotation");
      return false;
    }
    advance();
    ExprPtr annotation = parseExpression();
    if (!annotation)
      return false;
    ExprPtr value;
    if (consumeIf(Tok::Equal)) {
      value = parseStarExpressions();
      if (!value)
        return false;
    }
    std::vector<ExprPtr> targets;
    targets.push_back(std::move(first));
    out.push_back(std::make_unique<Assign>(SourceRange(begin, PrevEnd), std::move(targets),
                                           std::move(value), std::move(annotation)));
    return true;
  }

  if (at(Tok::Equal)) {
    std::vector<ExprPtr> targets;
    ExprPtr value = std::move(first);
    while (consumeIf(Tok::Equal)) {
      targets.push_back(std::move(value));
      value = parseStarExpressions();
      if (!value)
        return false;
    }
    for (const ExprPtr &t : targets)
      if (!checkTarget(*t, /*isAssign=*/true))
        return false;
    out.push_back(std::make_unique<Assign>(SourceRange(begin, PrevEnd), std::move(targets),
                                           std::move(value)));
    return true;
  }

  BinOpKind op;
  if (augAssignOp(tok().kind, op)) {
    if (!isa<Name>(first.get()) && !isa<Attribute>(first.get()) &&
        !isa<Subscript>(first.get())) {
      error(first->range(), std::string("'") + describeNonTarget(*first) +
                                "' is an illegal expression for augmented assignment");
      return false;
    }
    SourceRange opRange = tok().range;
    advance();
    ExprPtr value = parseStarExpressions();
    if (!value)
      return false;
    out.push_back(std::make_unique<AugAssign>(SourceRange(begin, PrevEnd), std::move(first),
                                              op, opRange, std::move(value)));
    return true;
  }

  // A bare unsupported expression (yield, lambda, await) is reported as an
  // unsupported statement.
  if (auto *u = dyn_cast<Unsupported>(first.get())) {
    out.push_back(std::make_unique<UnsupportedStmt>(u->range(), u->what));
    return true;
  }
  if (auto at = ufuncAt(first, SourceRange(begin, PrevEnd))) {
    out.push_back(std::move(at));
    return true;
  }
  if (auto into = ufuncOut(first, SourceRange(begin, PrevEnd))) {
    out.push_back(std::move(into));
    return true;
  }
  out.push_back(std::make_unique<ExprStmt>(SourceRange(begin, PrevEnd), std::move(first)));
  return true;
}

/// `M.add.at(a, idx, v)` as a statement: NumPy's unbuffered in-place
/// ufunc, an AugAssign of `a[idx]` marked with its module and ufunc (Sema
/// checks that M is numpy). Null (and `call` untouched) for anything else.
StmtPtr Parser::ufuncAt(ExprPtr &call, SourceRange range) {
  static const std::pair<const char *, BinOpKind> Ufuncs[] = {
      {"add", BinOpKind::Add},           {"subtract", BinOpKind::Sub},
      {"multiply", BinOpKind::Mul},      {"divide", BinOpKind::Div},
      {"true_divide", BinOpKind::Div},   {"floor_divide", BinOpKind::FloorDiv},
      {"remainder", BinOpKind::Mod},     {"mod", BinOpKind::Mod},
      {"power", BinOpKind::Pow},         {"bitwise_and", BinOpKind::BitAnd},
      {"bitwise_or", BinOpKind::BitOr},  {"bitwise_xor", BinOpKind::BitXor},
      {"left_shift", BinOpKind::LShift}, {"right_shift", BinOpKind::RShift},
      {"maximum", BinOpKind::Add},       {"minimum", BinOpKind::Add}};
  auto *c = dyn_cast<Call>(call.get());
  auto *at = c ? dyn_cast<Attribute>(c->func.get()) : nullptr;
  auto *ufunc = at && at->attr == "at" ? dyn_cast<Attribute>(at->value.get()) : nullptr;
  auto *module = ufunc ? dyn_cast<Name>(ufunc->value.get()) : nullptr;
  if (!module || c->args.size() != 3 || !c->keywords.empty())
    return nullptr;
  const auto *entry = std::find_if(std::begin(Ufuncs), std::end(Ufuncs),
                                   [&](const auto &u) { return ufunc->attr == u.first; });
  if (entry == std::end(Ufuncs))
    return nullptr;
  SourceRange opRange = at->range();
  std::string moduleName = module->id, ufuncName = ufunc->attr;
  ExprPtr target = sized(std::make_unique<Subscript>(c->range(), std::move(c->args[0]),
                                                     std::move(c->args[1])));
  auto stmt = std::make_unique<AugAssign>(range, std::move(target), entry->second, opRange,
                                          std::move(c->args[2]));
  stmt->atModule = moduleName;
  stmt->atUfunc = ufuncName;
  call.reset();
  return stmt;
}

/// star_targets: star_target (',' star_target)* [',']
/// star_target: NAME | t_primary '.' NAME | t_primary '[' slices ']'
///            | '(' star_targets ')' | '[' star_targets ']' | '*' star_target
bool Parser::checkTarget(const Expr &e, bool isAssign) {
  switch (e.kind()) {
  case Expr::Kind::Name:
  case Expr::Kind::Attribute:
  case Expr::Kind::Subscript:
  case Expr::Kind::Unsupported: // e.g. `a, *b = ...`: Sema reports it
    return true;
  case Expr::Kind::Tuple:
    for (const ExprPtr &elt : llvm::cast<Tuple>(e).elts)
      if (!checkTarget(*elt, isAssign))
        return false;
    return true;
  case Expr::Kind::List:
    if (llvm::cast<List>(e).braces)
      break; // a set display
    for (const ExprPtr &elt : llvm::cast<List>(e).elts)
      if (!checkTarget(*elt, isAssign))
        return false;
    return true;
  default:
    break;
  }
  bool literal = isa<IntLit>(e) || isa<FloatLit>(e) || isa<ImagLit>(e) ||
                 isa<StrLit>(e) || isa<BoolLit>(e) || isa<NoneLit>(e);
  error(e.range(), std::string("cannot assign to ") + describeNonTarget(e),
        isAssign && !literal ? "maybe you meant '==' instead of '='?" : "");
  return false;
}

/// dotted_name: NAME ('.' NAME)*
bool Parser::parseDottedName(std::string &out) {
  if (!at(Tok::Name)) {
    error(expectedLoc(), "expected module name");
    return false;
  }
  out += text(tok());
  advance();
  while (at(Tok::Dot) && peekTok().kind == Tok::Name) {
    advance();
    out += '.';
    out += text(tok());
    advance();
  }
  return true;
}

/// import_name: 'import' dotted_as_names
/// dotted_as_names: dotted_name ['as' NAME] (',' dotted_name ['as' NAME])*
bool Parser::parseImportName(Block &out) {
  // The first module's range starts at 'import', later ones at their name.
  uint32_t itemBegin = tok().range.begin;
  advance();
  while (true) {
    std::string module, alias;
    if (!parseDottedName(module))
      return false;
    if (consumeIf(Tok::KwAs)) {
      if (!at(Tok::Name)) {
        error(expectedLoc(), "expected name after 'as'");
        return false;
      }
      alias = text(tok());
      advance();
    }
    out.push_back(std::make_unique<Import>(SourceRange(itemBegin, PrevEnd), std::move(module),
                                           std::move(alias),
                                           std::vector<std::pair<std::string, std::string>>{}));
    if (!consumeIf(Tok::Comma))
      return true;
    itemBegin = tok().range.begin;
  }
}

/// import_from: 'from' ('.' | '...')* dotted_name 'import' import_from_targets
///            | 'from' ('.' | '...')+ 'import' import_from_targets
/// import_from_targets: '(' import_as_names [','] ')' | import_as_names | '*'
/// import_as_names: NAME ['as' NAME] (',' NAME ['as' NAME])*
bool Parser::parseImportFrom(Block &out) {
  uint32_t begin = tok().range.begin;
  advance();
  std::string module;
  while (at(Tok::Dot) || at(Tok::Ellipsis)) {
    module += at(Tok::Dot) ? "." : "...";
    advance();
  }
  if (at(Tok::Name) || module.empty())
    if (!parseDottedName(module))
      return false;
  if (!at(Tok::KwImport)) {
    error(expectedLoc(), "expected 'import' after module name");
    return false;
  }
  advance();
  std::vector<std::pair<std::string, std::string>> names;
  if (at(Tok::Star)) {
    names.emplace_back("*", "");
    advance();
  } else {
    uint32_t openBegin = tok().range.begin;
    bool paren = consumeIf(Tok::LParen);
    do {
      if (paren && at(Tok::RParen) && !names.empty())
        break;
      if (!at(Tok::Name)) {
        error(expectedLoc(), "expected name to import");
        return false;
      }
      std::string name = text(tok()), alias;
      advance();
      if (consumeIf(Tok::KwAs)) {
        if (!at(Tok::Name)) {
          error(expectedLoc(), "expected name after 'as'");
          return false;
        }
        alias = text(tok());
        advance();
      }
      names.emplace_back(std::move(name), std::move(alias));
      if (!paren && at(Tok::Comma) && peekTok().kind != Tok::Name) {
        advance();
        error(SourceRange(PrevEnd - 1, PrevEnd),
              "trailing comma not allowed without surrounding parentheses");
        return false;
      }
    } while (consumeIf(Tok::Comma));
    if (paren && !consumeIf(Tok::RParen)) {
      expectCloser(Tok::RParen, openBegin);
      return false;
    }
  }
  out.push_back(std::make_unique<Import>(SourceRange(begin, PrevEnd), std::move(module), "",
                                         std::move(names)));
  return true;
}

/// block: NEWLINE INDENT statement+ DEDENT | simple_stmts
///
/// `what` names the owner for "expected an indented block after ..."; in
/// `quiet` mode (after a broken header) a missing block is not reported
/// again.
Block Parser::parseBlock(const std::string &what, unsigned headerLine, bool quiet) {
  Block body;
  if (at(Tok::Newline)) {
    uint32_t newlineAt = tok().range.begin;
    advance();
    if (at(Tok::Indent)) {
      parseIndentedBlockInto(body);
      return body;
    }
    if (!quiet) {
      SourceRange where = nextRealTokenRange();
      if (at(Tok::Eof) || where.begin == where.end)
        where = SourceRange(newlineAt, newlineAt);
      error(where, "expected an indented block after " + what + " on line " +
                       std::to_string(headerLine));
    }
    return body;
  }
  if (at(Tok::Eof) || at(Tok::Indent) || at(Tok::Dedent)) {
    if (!quiet)
      error(expectedLoc(), "expected an indented block after " + what + " on line " +
                               std::to_string(headerLine));
    return body;
  }
  parseSimpleStmts(body);
  return body;
}

/// else_block: 'else' ':' block
Block Parser::parseElseBlock() {
  unsigned line = lineOf(tok().range.begin);
  advance();
  if (expectColon("expected ':' after 'else'"))
    return parseBlock("'else' statement", line);
  skipRestOfLine();
  return parseBlock("", line, /*quiet=*/true);
}

/// if_stmt: 'if' named_expression ':' block elif_stmt
///        | 'if' named_expression ':' block [else_block]
/// elif_stmt: 'elif' named_expression ':' block elif_stmt
///          | 'elif' named_expression ':' block [else_block]
///
/// The elif chain is parsed in a loop, not by recursion, so that a long
/// generated chain cannot exhaust the stack; the nested If nodes are built
/// afterwards from the innermost one out.
StmtPtr Parser::parseIfStmt() {
  struct Clause {
    uint32_t begin;
    ExprPtr cond; // null if the clause's header was broken
    Block body;
  };
  std::vector<Clause> clauses;
  do {
    std::string kw = at(Tok::KwIf) ? "if" : "elif";
    Clause c;
    c.begin = tok().range.begin;
    unsigned line = lineOf(c.begin);
    advance();
    c.cond = parseNamedExpression();
    if (c.cond && expectColon("expected ':' after '" + kw + "' condition")) {
      c.body = parseBlock("'" + kw + "' statement", line);
    } else {
      c.cond = nullptr;
      skipRestOfLine();
      c.body = parseBlock("", line, /*quiet=*/true);
    }
    clauses.push_back(std::move(c));
  } while (at(Tok::KwElif));

  Block orelse;
  if (at(Tok::KwElse))
    orelse = parseElseBlock();
  uint32_t end = PrevEnd;
  for (auto it = clauses.rbegin(); it != clauses.rend(); ++it) {
    if (!it->cond) {
      // A broken elif drops out of the chain; a broken if drops the chain.
      if (it + 1 == clauses.rend())
        return nullptr;
      continue;
    }
    auto node = std::make_unique<If>(SourceRange(it->begin, end), std::move(it->cond),
                                     std::move(it->body), std::move(orelse));
    orelse.clear();
    orelse.push_back(std::move(node));
  }
  StmtPtr result = std::move(orelse.front());
  return result;
}

/// for_stmt: 'for' star_targets 'in' star_expressions ':' block [else_block]
StmtPtr Parser::parseForStmt() {
  uint32_t begin = tok().range.begin;
  unsigned line = lineOf(begin);
  advance();
  ExprPtr target = parseTargetList();
  ExprPtr iter;
  bool ok = target && checkTarget(*target, /*isAssign=*/false);
  if (ok && !at(Tok::KwIn)) {
    error(expectedLoc(), "expected 'in' after 'for' target");
    ok = false;
  }
  if (ok) {
    advance();
    iter = parseStarExpressions();
    ok = iter && expectColon("expected ':' after 'for' iterable");
  }
  Block body;
  if (ok) {
    body = parseBlock("'for' statement", line);
  } else {
    skipRestOfLine();
    body = parseBlock("", line, /*quiet=*/true);
  }
  Block orelse;
  if (at(Tok::KwElse))
    orelse = parseElseBlock();
  if (!ok)
    return nullptr;
  return std::make_unique<For>(SourceRange(begin, PrevEnd), std::move(target), std::move(iter),
                               std::move(body), std::move(orelse));
}

/// while_stmt: 'while' named_expression ':' block [else_block]
StmtPtr Parser::parseWhileStmt() {
  uint32_t begin = tok().range.begin;
  unsigned line = lineOf(begin);
  advance();
  ExprPtr cond = parseNamedExpression();
  Block body;
  bool ok = cond && expectColon("expected ':' after 'while' condition");
  if (ok) {
    body = parseBlock("'while' statement", line);
  } else {
    skipRestOfLine();
    body = parseBlock("", line, /*quiet=*/true);
  }
  Block orelse;
  if (at(Tok::KwElse))
    orelse = parseElseBlock();
  if (!ok)
    return nullptr;
  return std::make_unique<While>(SourceRange(begin, PrevEnd), std::move(cond), std::move(body),
                                 std::move(orelse));
}

/// decorated: decorators (funcdef | class_def | async_funcdef)
///
/// At module level (`topLevel` set) a function goes into the module; inside
/// a function it is a LocalDef (liftLocalFunctions moves it to the module).
void Parser::parseDefinition(Module *topLevel, Block &out) {
  uint32_t begin = tok().range.begin;
  std::vector<ExprPtr> decorators = parseDecorators();
  if (at(Tok::KwDef)) {
    std::unique_ptr<FunctionDef> f = parseFuncDef(std::move(decorators));
    if (topLevel) {
      // A def without a name was reported; there is nothing to look up.
      if (!f->name.empty())
        topLevel->functions.push_back(std::move(f));
    }
    else if (!f->name.empty())
      out.push_back(std::make_unique<LocalDef>(SourceRange(begin, PrevEnd), std::move(f)));
    return;
  }
  if (at(Tok::KwClass) || at(Tok::KwAsync))
    return parseStatement(out);
  error(expectedLoc(), "expected 'def' after decorator");
}

/// decorators: ('@' named_expression NEWLINE)+
std::vector<ExprPtr> Parser::parseDecorators() {
  std::vector<ExprPtr> decorators;
  while (at(Tok::At)) {
    size_t first = Pos;
    advance();
    ExprPtr e = parseNamedExpression();
    if (!e) {
      skipToEndOfStatement(first);
      continue;
    }
    if (!at(Tok::Newline)) {
      error(tok().range, "expected newline after decorator");
      skipToEndOfStatement(first);
      continue;
    }
    advance();
    decorators.push_back(std::move(e));
  }
  return decorators;
}

/// funcdef: 'def' NAME '(' [parameters] ')' ['->' expression] ':' block
std::unique_ptr<FunctionDef> Parser::parseFuncDef(std::vector<ExprPtr> decorators) {
  auto f = std::make_unique<FunctionDef>();
  f->decorators = std::move(decorators);
  uint32_t begin = tok().range.begin;
  unsigned line = lineOf(begin);
  advance(); // def
  bool ok = false;
  if (!at(Tok::Name)) {
    error(expectedLoc(), "expected function name after 'def'");
  } else {
    f->name = text(tok());
    f->nameRange = tok().range;
    advance();
    if (!at(Tok::LParen))
      error(expectedLoc(), "expected '(' after function name");
    else
      ok = parseParameters(*f);
  }
  if (ok && consumeIf(Tok::Arrow)) {
    f->returns = parseExpression();
    ok = f->returns != nullptr;
  }
  if (ok)
    ok = expectColon("expected ':' after function signature");
  if (ok) {
    f->body = parseBlock("function definition", line);
  } else {
    skipRestOfLine();
    f->body = parseBlock("", line, /*quiet=*/true);
  }
  // docstring: the first statement, if it is a string literal
  if (!f->body.empty())
    if (auto *es = dyn_cast<ExprStmt>(f->body.front().get()))
      if (auto *s = dyn_cast<StrLit>(es->value.get())) {
        f->docstring = s->value;
        f->body.erase(f->body.begin());
      }
  f->range = SourceRange(begin, PrevEnd);
  return f;
}

/// parameters: '(' [param (',' param)* [',']] ')'
bool Parser::parseParameters(FunctionDef &f) {
  uint32_t openBegin = tok().range.begin;
  advance(); // (
  if (!parseParameterList(f.params, Tok::RParen))
    return false;
  if (!at(Tok::RParen)) {
    expectCloser(Tok::RParen, openBegin);
    return false;
  }
  advance();
  return true;
}

/// The parameters of a def up to its ')' or of a lambda up to its ':'
/// (`closer`, not consumed):
///   param: NAME [':' expression] ['=' expression]   (a lambda's: no ':')
///
/// `*args`, `**kwargs`, `*` and `/` are Python syntax that stn kernels
/// cannot support (they need tuples/dicts of unknown size): reported here,
/// then skipped so that the rest of the signature is still checked.
bool Parser::parseParameterList(std::vector<Param> &params, Tok closer) {
  bool sawDefault = false;
  bool annotations = closer != Tok::Colon;
  while (!at(closer)) {
    if (at(Tok::Star) || at(Tok::DoubleStar) || at(Tok::Slash)) {
      uint32_t b = tok().range.begin;
      bool named = !at(Tok::Slash);
      advance();
      if (named && at(Tok::Name)) {
        advance();
        if (annotations && consumeIf(Tok::Colon) && !parseExpression())
          return false;
      }
      error(SourceRange(b, PrevEnd), "variadic parameters are not supported in stn kernels");
    } else if (at(Tok::Name)) {
      Param p;
      p.name = text(tok());
      p.range = tok().range;
      advance();
      if (annotations && consumeIf(Tok::Colon)) {
        p.annotation = parseExpression();
        if (!p.annotation)
          return false;
      }
      if (consumeIf(Tok::Equal)) {
        p.defaultValue = parseExpression();
        if (!p.defaultValue)
          return false;
        sawDefault = true;
      } else if (sawDefault) {
        error(p.range, "parameter without a default follows parameter with a default");
      }
      for (const Param &q : params)
        if (q.name == p.name) {
          error(p.range, "duplicate argument '" + p.name + "' in function definition");
          break;
        }
      params.push_back(std::move(p));
    } else {
      error(expectedLoc(), closer == Tok::Colon ? "expected ':' after lambda parameters"
                                                : "expected parameter name");
      return false;
    }
    if (!consumeIf(Tok::Comma))
      break;
  }
  return true;
}

/// One clause of a statement stn does not support: keyword, a header that
/// is skipped up to ':', and a block that is parsed (for its syntax errors)
/// and discarded.
void Parser::parseClause(const char *keyword, bool skipBody) {
  uint32_t begin = tok().range.begin;
  unsigned line = lineOf(begin);
  advance();
  if (!skipHeaderToColon()) {
    error(expectedLoc(), std::string("expected ':'"));
    parseBlock("", line, /*quiet=*/true);
    return;
  }
  advance(); // ':'
  if (skipBody) {
    skipBlock();
    return;
  }
  std::string what = std::string("'") + keyword + "' statement";
  if (std::string_view(keyword) == "class")
    what = "class definition";
  parseBlock(what, line);
}

/// class_def: 'class' NAME ['(' [arguments] ')'] ':' block
/// with_stmt: 'with' ','.with_item+ ':' block
/// try_stmt: 'try' ':' block (except_block+ [else_block] [finally_block] | finally_block)
/// match_stmt: "match" subject_expr ':' NEWLINE INDENT case_block+ DEDENT
StmtPtr Parser::parseUnsupportedCompound(const char *what) {
  uint32_t begin = tok().range.begin;
  Tok first = tok().kind;
  std::string keyword = text(tok());
  parseClause(keyword.c_str(), /*skipBody=*/first == Tok::Name);
  if (first == Tok::KwTry) {
    while (at(Tok::KwExcept) || at(Tok::KwElse) || at(Tok::KwFinally)) {
      std::string clause = text(tok());
      parseClause(clause.c_str(), false);
    }
  }
  return std::make_unique<UnsupportedStmt>(SourceRange(begin, PrevEnd), what);
}

/// async_stmt: 'async' (funcdef | with_stmt | for_stmt)
StmtPtr Parser::parseAsync() {
  uint32_t begin = tok().range.begin;
  advance();
  if (at(Tok::KwDef)) {
    parseFuncDef({});
  } else if (at(Tok::KwFor) || at(Tok::KwWith)) {
    std::string keyword = text(tok());
    parseClause(keyword.c_str(), false);
  } else {
    error(expectedLoc(), "expected 'def', 'for' or 'with' after 'async'");
    return nullptr;
  }
  return std::make_unique<UnsupportedStmt>(SourceRange(begin, PrevEnd), "async functions");
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// star_expressions: star_expression (',' star_expression)* [',']
///                 | yield_expr
ExprPtr Parser::parseStarExpressions() {
  if (at(Tok::KwYield))
    return parseYield();
  uint32_t begin = tok().range.begin;
  ExprPtr first = parseStarExpression();
  if (!first || !at(Tok::Comma))
    return first;
  std::vector<ExprPtr> elts;
  elts.push_back(std::move(first));
  while (consumeIf(Tok::Comma)) {
    if (!startsExpression(tok().kind))
      break; // trailing comma
    ExprPtr e = parseStarExpression();
    if (!e)
      return nullptr;
    elts.push_back(std::move(e));
  }
  return sized(std::make_unique<Tuple>(SourceRange(begin, PrevEnd), std::move(elts)));
}

/// star_expression: '*' bitwise_or | expression
ExprPtr Parser::parseStarExpression() {
  if (!at(Tok::Star))
    return parseExpression();
  uint32_t begin = tok().range.begin;
  advance();
  if (!parseBitwiseOr())
    return nullptr;
  return std::make_unique<Unsupported>(SourceRange(begin, PrevEnd), "starred expressions");
}

/// star_targets (for loops): star_target (',' star_target)* [',']
///
/// Targets are parsed at bitwise_or level so that the `in` of the loop is
/// not taken for a comparison.
ExprPtr Parser::parseTargetList() {
  uint32_t begin = tok().range.begin;
  auto parseOne = [&]() -> ExprPtr {
    if (!at(Tok::Star))
      return parseBitwiseOr();
    uint32_t b = tok().range.begin;
    advance();
    if (!parseBitwiseOr())
      return nullptr;
    return std::make_unique<Unsupported>(SourceRange(b, PrevEnd), "starred expressions");
  };
  ExprPtr first = parseOne();
  if (!first || !at(Tok::Comma))
    return first;
  std::vector<ExprPtr> elts;
  elts.push_back(std::move(first));
  while (consumeIf(Tok::Comma)) {
    if (!startsExpression(tok().kind))
      break;
    ExprPtr e = parseOne();
    if (!e)
      return nullptr;
    elts.push_back(std::move(e));
  }
  return sized(std::make_unique<Tuple>(SourceRange(begin, PrevEnd), std::move(elts)));
}

/// named_expression: NAME ':=' expression | expression
ExprPtr Parser::parseNamedExpression() {
  if (!at(Tok::Name) || peekTok().kind != Tok::ColonEqual)
    return parseExpression();
  uint32_t begin = tok().range.begin;
  advance();
  advance();
  if (!parseExpression())
    return nullptr;
  return std::make_unique<Unsupported>(SourceRange(begin, PrevEnd),
                                       "assignment expressions (:=)");
}

/// expression: disjunction 'if' disjunction 'else' expression
///           | disjunction
///           | lambdef
ExprPtr Parser::parseExpression() {
  DepthGuard guard(*this);
  if (!guard.ok)
    return nullptr;
  if (at(Tok::KwLambda))
    return parseLambda();
  uint32_t begin = tok().range.begin;
  ExprPtr body = parseDisjunction();
  if (!body || !at(Tok::KwIf))
    return body;
  advance();
  ExprPtr cond = parseDisjunction();
  if (!cond)
    return nullptr;
  if (!at(Tok::KwElse)) {
    error(expectedLoc(), "expected 'else' after 'if' expression");
    return nullptr;
  }
  advance();
  ExprPtr orelse = parseExpression();
  if (!orelse)
    return nullptr;
  return sized(std::make_unique<IfExp>(SourceRange(begin, PrevEnd), std::move(cond),
                                       std::move(body), std::move(orelse)));
}

/// lambdef: 'lambda' [lambda_params] ':' expression
ExprPtr Parser::parseLambda() {
  uint32_t begin = tok().range.begin;
  advance();
  std::vector<Param> params;
  if (!parseParameterList(params, Tok::Colon))
    return nullptr;
  if (!at(Tok::Colon)) {
    error(expectedLoc(), "expected ':' after lambda parameters");
    return nullptr;
  }
  advance();
  ExprPtr body = parseExpression();
  if (!body)
    return nullptr;
  auto l = std::make_unique<Lambda>(SourceRange(begin, PrevEnd), std::move(params),
                                    std::move(body));
  l->setHeight(l->body->height() + 1);
  return l;
}

/// yield_expr: 'yield' 'from' expression | 'yield' [star_expressions]
ExprPtr Parser::parseYield() {
  uint32_t begin = tok().range.begin;
  advance();
  if (consumeIf(Tok::KwFrom)) {
    if (!parseExpression())
      return nullptr;
  } else if (startsExpression(tok().kind)) {
    if (!parseStarExpressions())
      return nullptr;
  }
  return std::make_unique<Unsupported>(SourceRange(begin, PrevEnd), "generators (yield)");
}

/// disjunction: conjunction ('or' conjunction)*
ExprPtr Parser::parseDisjunction() {
  uint32_t begin = tok().range.begin;
  ExprPtr first = parseConjunction();
  if (!first || !at(Tok::KwOr))
    return first;
  std::vector<ExprPtr> values;
  values.push_back(std::move(first));
  while (consumeIf(Tok::KwOr)) {
    ExprPtr e = parseConjunction();
    if (!e)
      return nullptr;
    values.push_back(std::move(e));
  }
  return sized(std::make_unique<BoolOp>(SourceRange(begin, PrevEnd), BoolOpKind::Or,
                                        std::move(values)));
}

/// conjunction: inversion ('and' inversion)*
ExprPtr Parser::parseConjunction() {
  uint32_t begin = tok().range.begin;
  ExprPtr first = parseInversion();
  if (!first || !at(Tok::KwAnd))
    return first;
  std::vector<ExprPtr> values;
  values.push_back(std::move(first));
  while (consumeIf(Tok::KwAnd)) {
    ExprPtr e = parseInversion();
    if (!e)
      return nullptr;
    values.push_back(std::move(e));
  }
  return sized(std::make_unique<BoolOp>(SourceRange(begin, PrevEnd), BoolOpKind::And,
                                        std::move(values)));
}

/// inversion: 'not' inversion | comparison
ExprPtr Parser::parseInversion() {
  if (!at(Tok::KwNot))
    return parseComparison();
  DepthGuard guard(*this);
  if (!guard.ok)
    return nullptr;
  uint32_t begin = tok().range.begin;
  advance();
  ExprPtr operand = parseInversion();
  if (!operand)
    return nullptr;
  return sized(std::make_unique<UnaryOp>(SourceRange(begin, PrevEnd), UnaryOpKind::Not,
                                         std::move(operand)));
}

/// comparison: bitwise_or (compare_op bitwise_or)*
/// compare_op: '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not' 'in'
///           | 'is' | 'is' 'not'
ExprPtr Parser::parseComparison() {
  uint32_t begin = tok().range.begin;
  ExprPtr first = parseBitwiseOr();
  if (!first)
    return nullptr;
  std::vector<CmpOpKind> ops;
  std::vector<SourceRange> opRanges;
  std::vector<ExprPtr> operands;
  operands.push_back(std::move(first));
  while (true) {
    CmpOpKind op;
    SourceRange r = tok().range;
    switch (tok().kind) {
    case Tok::EqEqual: op = CmpOpKind::Eq; break;
    case Tok::NotEqual: op = CmpOpKind::Ne; break;
    case Tok::Less: op = CmpOpKind::Lt; break;
    case Tok::LessEqual: op = CmpOpKind::Le; break;
    case Tok::Greater: op = CmpOpKind::Gt; break;
    case Tok::GreaterEqual: op = CmpOpKind::Ge; break;
    case Tok::KwIn: op = CmpOpKind::In; break;
    case Tok::KwIs:
      op = CmpOpKind::Is;
      if (peekTok().kind == Tok::KwNot) {
        op = CmpOpKind::IsNot;
        advance();
        r.end = tok().range.end;
      }
      break;
    case Tok::KwNot:
      if (peekTok().kind != Tok::KwIn)
        goto done;
      op = CmpOpKind::NotIn;
      advance();
      r.end = tok().range.end;
      break;
    default:
      goto done;
    }
    advance();
    {
      ExprPtr rhs = parseBitwiseOr();
      if (!rhs)
        return nullptr;
      ops.push_back(op);
      opRanges.push_back(r);
      operands.push_back(std::move(rhs));
    }
  }
done:
  if (ops.empty())
    return std::move(operands.front());
  return sized(std::make_unique<Compare>(SourceRange(begin, PrevEnd), std::move(ops),
                                         std::move(opRanges), std::move(operands)));
}

/// Consumes a binary operator and its right operand (parsed by `next`).
ExprPtr Parser::finishBinary(ExprPtr lhs, uint32_t begin, BinOpKind op,
                             ExprPtr (Parser::*next)()) {
  SourceRange opRange = tok().range;
  advance();
  ExprPtr rhs = (this->*next)();
  if (!rhs)
    return nullptr;
  return sized(std::make_unique<BinOp>(SourceRange(begin, PrevEnd), op, opRange,
                                       std::move(lhs), std::move(rhs)));
}

/// bitwise_or: bitwise_or '|' bitwise_xor | bitwise_xor
ExprPtr Parser::parseBitwiseOr() {
  uint32_t begin = tok().range.begin;
  ExprPtr lhs = parseBitwiseXor();
  while (lhs && at(Tok::Pipe))
    lhs = finishBinary(std::move(lhs), begin, BinOpKind::BitOr, &Parser::parseBitwiseXor);
  return lhs;
}

/// bitwise_xor: bitwise_xor '^' bitwise_and | bitwise_and
ExprPtr Parser::parseBitwiseXor() {
  uint32_t begin = tok().range.begin;
  ExprPtr lhs = parseBitwiseAnd();
  while (lhs && at(Tok::Caret))
    lhs = finishBinary(std::move(lhs), begin, BinOpKind::BitXor, &Parser::parseBitwiseAnd);
  return lhs;
}

/// bitwise_and: bitwise_and '&' shift_expr | shift_expr
ExprPtr Parser::parseBitwiseAnd() {
  uint32_t begin = tok().range.begin;
  ExprPtr lhs = parseShiftExpr();
  while (lhs && at(Tok::Amp))
    lhs = finishBinary(std::move(lhs), begin, BinOpKind::BitAnd, &Parser::parseShiftExpr);
  return lhs;
}

/// shift_expr: shift_expr ('<<' | '>>') sum | sum
ExprPtr Parser::parseShiftExpr() {
  uint32_t begin = tok().range.begin;
  ExprPtr lhs = parseSum();
  while (lhs && (at(Tok::LShift) || at(Tok::RShift)))
    lhs = finishBinary(std::move(lhs), begin,
                       at(Tok::LShift) ? BinOpKind::LShift : BinOpKind::RShift,
                       &Parser::parseSum);
  return lhs;
}

/// sum: sum ('+' | '-') term | term
ExprPtr Parser::parseSum() {
  uint32_t begin = tok().range.begin;
  ExprPtr lhs = parseTerm();
  while (lhs && (at(Tok::Plus) || at(Tok::Minus)))
    lhs = finishBinary(std::move(lhs), begin,
                       at(Tok::Plus) ? BinOpKind::Add : BinOpKind::Sub, &Parser::parseTerm);
  return lhs;
}

/// term: term ('*' | '/' | '//' | '%' | '@') factor | factor
ExprPtr Parser::parseTerm() {
  uint32_t begin = tok().range.begin;
  ExprPtr lhs = parseFactor();
  while (lhs) {
    BinOpKind op;
    switch (tok().kind) {
    case Tok::Star: op = BinOpKind::Mul; break;
    case Tok::Slash: op = BinOpKind::Div; break;
    case Tok::DoubleSlash: op = BinOpKind::FloorDiv; break;
    case Tok::Percent: op = BinOpKind::Mod; break;
    case Tok::At: op = BinOpKind::MatMul; break;
    default: return lhs;
    }
    lhs = finishBinary(std::move(lhs), begin, op, &Parser::parseFactor);
  }
  return lhs;
}

/// factor: ('+' | '-' | '~') factor | power
ExprPtr Parser::parseFactor() {
  UnaryOpKind op;
  switch (tok().kind) {
  case Tok::Plus: op = UnaryOpKind::Pos; break;
  case Tok::Minus: op = UnaryOpKind::Neg; break;
  case Tok::Tilde: op = UnaryOpKind::Invert; break;
  default: return parsePower();
  }
  DepthGuard guard(*this);
  if (!guard.ok)
    return nullptr;
  uint32_t begin = tok().range.begin;
  advance();
  ExprPtr operand = parseFactor();
  if (!operand)
    return nullptr;
  return sized(std::make_unique<UnaryOp>(SourceRange(begin, PrevEnd), op, std::move(operand)));
}

/// power: await_primary '**' factor | await_primary
///
/// The right operand is a factor, which makes `**` right-associative and
/// lets it bind tighter than a unary minus on its left: -2**2 == -(2**2).
ExprPtr Parser::parsePower() {
  uint32_t begin = tok().range.begin;
  ExprPtr base = parseAwaitPrimary();
  if (!base || !at(Tok::DoubleStar))
    return base;
  DepthGuard guard(*this); // a ** b ** c ... nests to the right
  if (!guard.ok)
    return nullptr;
  return finishBinary(std::move(base), begin, BinOpKind::Pow, &Parser::parseFactor);
}

/// await_primary: 'await' primary | primary
ExprPtr Parser::parseAwaitPrimary() {
  if (!at(Tok::KwAwait))
    return parsePrimary();
  uint32_t begin = tok().range.begin;
  advance();
  if (!parsePrimary())
    return nullptr;
  return std::make_unique<Unsupported>(SourceRange(begin, PrevEnd), "await");
}

/// primary: primary '.' NAME | primary '(' [arguments] ')'
///        | primary '[' slices ']' | atom
ExprPtr Parser::parsePrimary() {
  uint32_t begin = tok().range.begin;
  ExprPtr e = parseAtom();
  while (e) {
    if (at(Tok::Dot)) {
      advance();
      if (!at(Tok::Name)) {
        error(expectedLoc(), "expected attribute name after '.'");
        return nullptr;
      }
      SourceRange attrRange = tok().range;
      std::string attr = text(tok());
      advance();
      e = sized(std::make_unique<Attribute>(SourceRange(begin, PrevEnd), std::move(e),
                                            std::move(attr), attrRange));
    } else if (at(Tok::LParen)) {
      e = parseCall(std::move(e), begin);
    } else if (at(Tok::LBracket)) {
      e = parseSubscript(std::move(e), begin);
    } else {
      break;
    }
  }
  return e;
}

/// arguments: argument (',' argument)* [',']
/// argument: NAME '=' expression | '*' expression | '**' expression
///         | named_expression [for_if_clauses]
ExprPtr Parser::parseCall(ExprPtr func, uint32_t begin) {
  uint32_t openBegin = tok().range.begin;
  advance(); // (
  std::vector<ExprPtr> args;
  std::vector<Keyword> keywords;
  while (!at(Tok::RParen)) {
    uint32_t argBegin = tok().range.begin;
    if (at(Tok::Star) || at(Tok::DoubleStar)) {
      advance();
      if (!parseExpression())
        return nullptr;
      args.push_back(std::make_unique<Unsupported>(SourceRange(argBegin, PrevEnd),
                                                   "argument unpacking"));
    } else if (at(Tok::Name) && peekTok().kind == Tok::Equal) {
      Keyword kw;
      kw.name = text(tok());
      kw.nameRange = tok().range;
      advance();
      advance();
      kw.value = parseExpression();
      if (!kw.value)
        return nullptr;
      for (const Keyword &other : keywords)
        if (other.name == kw.name) {
          error(kw.nameRange, "keyword argument repeated: " + kw.name);
          break;
        }
      keywords.push_back(std::move(kw));
    } else {
      ExprPtr e = parseNamedExpression();
      if (!e)
        return nullptr;
      if (at(Tok::KwFor) && args.empty() && keywords.empty()) {
        // f(x for x in a): the sole argument (a parenthesized one anywhere).
        e = parseComprehension(std::move(e), argBegin, openBegin, Tok::RParen,
                               /*generator=*/true);
        if (!e)
          return nullptr;
      } else if (at(Tok::KwFor) || at(Tok::KwAsync)) {
        bool async = at(Tok::KwAsync);
        if (!skipBalancedTo(Tok::RParen))
          break;
        if (!async) {
          error(SourceRange(argBegin, PrevEnd),
                "a generator expression must be parenthesized when it is not the only "
                "argument");
          return nullptr;
        }
        e = std::make_unique<Unsupported>(SourceRange(argBegin, PrevEnd),
                                          "asynchronous comprehensions");
      }
      if (!keywords.empty())
        error(e->range(), "positional argument follows keyword argument");
      args.push_back(std::move(e));
    }
    if (!consumeIf(Tok::Comma))
      break;
  }
  if (!at(Tok::RParen)) {
    expectCloser(Tok::RParen, openBegin);
    return nullptr;
  }
  advance();
  SourceRange range(begin, PrevEnd);
  if (keywords.empty())
    if (ExprPtr op = ufuncOperator(range, *func, args))
      return op;
  return sized(std::make_unique<Call>(range, std::move(func), std::move(args),
                                      std::move(keywords)));
}

namespace {
// NumPy's ufuncs that are operators (np.add is +), by arity.
static const std::pair<const char *, BinOpKind> Binary[] = {
    {"add", BinOpKind::Add},           {"subtract", BinOpKind::Sub},
    {"multiply", BinOpKind::Mul},      {"divide", BinOpKind::Div},
    {"true_divide", BinOpKind::Div},   {"floor_divide", BinOpKind::FloorDiv},
    {"remainder", BinOpKind::Mod},     {"mod", BinOpKind::Mod},
    {"bitwise_and", BinOpKind::BitAnd}, {"bitwise_or", BinOpKind::BitOr},
    {"bitwise_xor", BinOpKind::BitXor}, {"left_shift", BinOpKind::LShift},
    {"right_shift", BinOpKind::RShift}};
static const std::pair<const char *, CmpOpKind> Comparisons[] = {
    {"equal", CmpOpKind::Eq},         {"not_equal", CmpOpKind::Ne},
    {"less", CmpOpKind::Lt},          {"less_equal", CmpOpKind::Le},
    {"greater", CmpOpKind::Gt},       {"greater_equal", CmpOpKind::Ge}};
static const std::pair<const char *, UnaryOpKind> Unary[] = {
    {"negative", UnaryOpKind::Neg},   {"positive", UnaryOpKind::Pos},
    {"invert", UnaryOpKind::Invert},  {"bitwise_not", UnaryOpKind::Invert}};
static const std::pair<const char *, BinOpKind> Logical[] = {
    {"logical_and", BinOpKind::BitAnd}, {"logical_or", BinOpKind::BitOr},
    {"logical_xor", BinOpKind::BitXor}};

/// The number of operands of the operator ufunc `name` (np.add: 2), or 0.
unsigned operatorUfuncArity(const std::string &name) {
  auto in = [&](const auto &table) {
    return std::any_of(std::begin(table), std::end(table),
                       [&](const auto &u) { return name == u.first; });
  };
  if (in(Binary) || in(Comparisons) || in(Logical))
    return 2;
  if (in(Unary) || name == "logical_not")
    return 1;
  return 0;
}
} // namespace

/// `M.f(args..., out=x)`, and an operator ufunc's positional out
/// (`M.add(a, b, x)`), as a statement: `x[...] = M.f(args...)`, NumPy's
/// result written into the array x. `out=None` is dropped. Null (and `call`
/// untouched) for any other statement.
StmtPtr Parser::ufuncOut(ExprPtr &call, SourceRange range) {
  auto *c = dyn_cast<Call>(call.get());
  auto *at = c ? dyn_cast<Attribute>(c->func.get()) : nullptr;
  if (!at || !isa<Name>(at->value.get()))
    return nullptr;
  ExprPtr out;
  auto kw = std::find_if(c->keywords.begin(), c->keywords.end(),
                         [](const Keyword &k) { return k.name == "out"; });
  if (kw != c->keywords.end()) {
    out = std::move(kw->value);
    c->keywords.erase(kw);
  } else if (c->keywords.empty() && operatorUfuncArity(at->attr) &&
             c->args.size() == operatorUfuncArity(at->attr) + 1) {
    out = std::move(c->args.back());
    c->args.pop_back();
  } else {
    return nullptr;
  }
  ExprPtr value;
  if (c->keywords.empty())
    value = ufuncOperator(c->range(), *c->func, c->args);
  if (!value)
    value = std::move(call);
  call.reset();
  if (isa<NoneLit>(out.get()))
    return std::make_unique<ExprStmt>(range, std::move(value));
  SourceRange outRange = out->range();
  ExprPtr whole = sized(std::make_unique<EllipsisLit>(outRange));
  ExprPtr target =
      sized(std::make_unique<Subscript>(outRange, std::move(out), std::move(whole)));
  std::vector<ExprPtr> targets;
  targets.push_back(std::move(target));
  return std::make_unique<Assign>(range, std::move(targets), std::move(value));
}

/// `M.add(a, b)` and the other NumPy ufuncs that are operators, as those
/// operators (UfuncSpelling); null, leaving `args` as they are, for any
/// other call. The logical ufuncs compare their operands with 0 first.
ExprPtr Parser::ufuncOperator(SourceRange range, const Expr &func, std::vector<ExprPtr> &args) {
  auto *at = dyn_cast<Attribute>(&func);
  auto *module = at ? dyn_cast<Name>(at->value.get()) : nullptr;
  if (!module)
    return nullptr;
  const std::string &name = at->attr;
  // math.remainder is IEEE's remainder, not `%` (Sema's math functions).
  if (module->id == "math" && name == "remainder")
    return nullptr;
  UfuncSpelling spelling{module->id, name, func.range()};
  auto find = [&](const auto &table) {
    const auto *e = std::find_if(std::begin(table), std::end(table),
                                 [&](const auto &u) { return name == u.first; });
    return e == std::end(table) ? nullptr : e;
  };
  // `x != 0` (logical_not: `x == 0`) over x's range.
  auto truth = [&](ExprPtr x, CmpOpKind op) {
    SourceRange r = x->range();
    std::vector<ExprPtr> operands;
    operands.push_back(std::move(x));
    operands.push_back(sized(std::make_unique<IntLit>(r, 0)));
    return sized(std::make_unique<Compare>(r, std::vector<CmpOpKind>{op},
                                           std::vector<SourceRange>{r}, std::move(operands)));
  };
  if (args.size() == 2) {
    if (const auto *b = find(Binary)) {
      auto op = std::make_unique<BinOp>(range, b->second, func.range(), std::move(args[0]),
                                        std::move(args[1]));
      op->ufunc = spelling;
      return sized(std::move(op));
    }
    if (const auto *l = find(Logical)) {
      auto op = std::make_unique<BinOp>(range, l->second, func.range(),
                                        truth(std::move(args[0]), CmpOpKind::Ne),
                                        truth(std::move(args[1]), CmpOpKind::Ne));
      op->ufunc = spelling;
      return sized(std::move(op));
    }
    if (const auto *c = find(Comparisons)) {
      std::vector<ExprPtr> operands;
      operands.push_back(std::move(args[0]));
      operands.push_back(std::move(args[1]));
      auto op = std::make_unique<Compare>(range, std::vector<CmpOpKind>{c->second},
                                          std::vector<SourceRange>{func.range()},
                                          std::move(operands));
      op->ufunc = spelling;
      return sized(std::move(op));
    }
  }
  if (args.size() == 1) {
    if (const auto *u = find(Unary)) {
      auto op = std::make_unique<UnaryOp>(range, u->second, std::move(args[0]));
      op->ufunc = spelling;
      return sized(std::move(op));
    }
    if (name == "logical_not") {
      ExprPtr c = truth(std::move(args[0]), CmpOpKind::Eq);
      static_cast<Compare &>(*c).ufunc = spelling;
      return c;
    }
  }
  return nullptr;
}

/// slices: slice | slice (',' slice)* [',']
ExprPtr Parser::parseSubscript(ExprPtr value, uint32_t begin) {
  uint32_t openBegin = tok().range.begin;
  advance(); // [
  uint32_t indexBegin = tok().range.begin;
  ExprPtr index = parseSlice();
  if (!index)
    return nullptr;
  if (at(Tok::Comma)) {
    std::vector<ExprPtr> elts;
    elts.push_back(std::move(index));
    while (consumeIf(Tok::Comma)) {
      if (at(Tok::RBracket))
        break;
      ExprPtr e = parseSlice();
      if (!e)
        return nullptr;
      elts.push_back(std::move(e));
    }
    index = sized(std::make_unique<Tuple>(SourceRange(indexBegin, PrevEnd), std::move(elts)));
    if (!index)
      return nullptr;
  }
  if (!at(Tok::RBracket)) {
    expectCloser(Tok::RBracket, openBegin);
    return nullptr;
  }
  advance();
  return sized(std::make_unique<Subscript>(SourceRange(begin, PrevEnd), std::move(value),
                                           std::move(index)));
}

/// slice: [expression] ':' [expression] [':' [expression]]
///      | named_expression | starred_expression
ExprPtr Parser::parseSlice() {
  uint32_t begin = tok().range.begin;
  if (at(Tok::Star))
    return parseStarExpression();
  ExprPtr lower, upper, step;
  if (!at(Tok::Colon)) {
    lower = parseNamedExpression();
    if (!lower || !at(Tok::Colon))
      return lower;
  }
  advance(); // :
  if (startsExpression(tok().kind)) {
    upper = parseExpression();
    if (!upper)
      return nullptr;
  }
  if (consumeIf(Tok::Colon) && startsExpression(tok().kind)) {
    step = parseExpression();
    if (!step)
      return nullptr;
  }
  return sized(std::make_unique<Slice>(SourceRange(begin, PrevEnd), std::move(lower),
                                       std::move(upper), std::move(step)));
}

/// atom: NAME | 'True' | 'False' | 'None' | strings | NUMBER | '...'
///     | (tuple | group | genexp) | (list | listcomp)
///     | (dict | set | dictcomp | setcomp)
ExprPtr Parser::parseAtom() {
  const Token &t = tok();
  switch (t.kind) {
  case Tok::Name:
    advance();
    return std::make_unique<Name>(t.range, text(t));
  case Tok::Int:
    advance();
    return std::make_unique<IntLit>(t.range, t.intValue, t.isUnsigned);
  case Tok::Float:
    advance();
    return std::make_unique<FloatLit>(t.range, t.floatValue);
  case Tok::Imag:
    advance();
    return std::make_unique<ImagLit>(t.range, t.floatValue);
  case Tok::KwTrue:
  case Tok::KwFalse:
    advance();
    return std::make_unique<BoolLit>(t.range, t.kind == Tok::KwTrue);
  case Tok::KwNone:
    advance();
    return std::make_unique<NoneLit>(t.range);
  case Tok::String:
  case Tok::FString:
    return parseStrings();
  case Tok::Ellipsis:
    advance();
    return std::make_unique<EllipsisLit>(t.range);
  case Tok::LParen:
    return parseParenAtom();
  case Tok::LBracket:
    return parseListAtom();
  case Tok::LBrace:
    return parseBraceAtom();
  default:
    error(expectedLoc(), "expected expression");
    return nullptr;
  }
}

/// strings: STRING+   (adjacent literals concatenate)
///
/// With an f-string among them the result is the call `f-string(parts...)`
/// (a name no source can spell): string literals for the text, and for each
/// replacement field `{x!r:spec}` the call `f-string field(x, spec, conv)`
/// (spec and conv as string literals, empty where absent). Sema shows them
/// where a message is made (print(), raise, assert); `{x=}` adds the text
/// "x=" before its field, as Python does.
ExprPtr Parser::parseStrings() {
  uint32_t begin = tok().range.begin;
  bool fstring = false;
  std::string value;
  std::vector<ExprPtr> parts;
  auto flush = [&](SourceRange r) {
    if (!value.empty())
      parts.push_back(std::make_unique<StrLit>(r, std::move(value)));
    value.clear();
  };
  while (at(Tok::String) || at(Tok::FString)) {
    if (at(Tok::FString)) {
      fstring = true;
      Token t = tok();
      advance();
      if (!parseFString(t, value, parts, flush))
        return nullptr;
      continue;
    }
    value += tok().strValue;
    advance();
  }
  SourceRange all(begin, PrevEnd);
  if (!fstring)
    return std::make_unique<StrLit>(all, std::move(value));
  flush(all);
  return std::make_unique<Call>(all, std::make_unique<Name>(all, "f-string"), std::move(parts),
                                std::vector<Keyword>{});
}

/// The text and fields of f-string token `t`, read from the source (the
/// lexer keeps an f-string's backslashes): literal text goes to `value`,
/// each field to `parts` after `flush` has moved the text before it there.
bool Parser::parseFString(const Token &t, std::string &value, std::vector<ExprPtr> &parts,
                          const std::function<void(SourceRange)> &flush) {
  std::string_view src = File->text();
  uint32_t i = t.range.begin, end = t.range.end;
  bool raw = false;
  while (i < end && src[i] != '"' && src[i] != '\'') {
    raw |= src[i] == 'r' || src[i] == 'R';
    ++i;
  }
  if (i >= end)
    return true; // (no quote: the lexer made no such token)
  char q = src[i];
  uint32_t quotes = i + 2 < end && src[i + 1] == q && src[i + 2] == q ? 3 : 1;
  i += quotes;
  if (end - i >= quotes && src.substr(end - quotes, quotes) == std::string(quotes, q))
    end -= quotes; // (an unterminated literal was reported by the lexer)
  uint32_t textBegin = i;
  while (i < end) {
    char c = src[i];
    if (c == '}') {
      if (i + 1 < end && src[i + 1] == '}') {
        value += '}';
        i += 2;
        continue;
      }
      error(SourceRange(i, i + 1), "f-string: single '}' is not allowed");
      return false;
    }
    if (c == '\\' && !raw && i + 1 < end) {
      if (src[i + 1] == 'N' && i + 2 < end && src[i + 2] == '{') {
        size_t close = src.find('}', i);
        error(SourceRange(i, std::min<uint32_t>(close == std::string_view::npos
                                                    ? end
                                                    : static_cast<uint32_t>(close) + 1,
                                                end)),
              "f-string: \\N{...} escapes are not supported",
              "write the character itself");
        return false;
      }
      i = decodeEscape(src, i, value);
      continue;
    }
    if (c != '{') {
      value += c;
      ++i;
      continue;
    }
    if (i + 1 < end && src[i + 1] == '{') {
      value += '{';
      i += 2;
      continue;
    }
    // A field: the expression runs to the first '}', ':', '!' or '=' (of
    // `{x=}`) outside brackets and strings.
    uint32_t open = i, exprBegin = i + 1, j = exprBegin;
    int depth = 0;
    char inString = 0;
    for (; j < end; ++j) {
      char d = src[j];
      if (inString) {
        if (d == inString)
          inString = 0;
        continue;
      }
      if (d == '\'' || d == '"') {
        inString = d;
      } else if (d == '(' || d == '[' || d == '{') {
        ++depth;
      } else if (d == ')' || d == ']' || (d == '}' && depth > 0)) {
        --depth;
      } else if (depth == 0) {
        char next = j + 1 < end ? src[j + 1] : 0;
        char prev = src[j - 1];
        if (d == '}' || d == ':' || (d == '!' && next != '='))
          break;
        if (d == '=' && next != '=' && !std::strchr("=!<>", prev) &&
            (next == '}' || next == '!' || next == ':' || next == ' '))
          break;
      }
    }
    uint32_t exprEnd = j;
    if (std::string_view(src.substr(exprBegin, exprEnd - exprBegin))
            .find_first_not_of(" \t\n\r") == std::string_view::npos) {
      error(SourceRange(open, std::min(j + 1, end)), "f-string: empty expression not allowed");
      return false;
    }
    std::string selfDoc;
    if (j < end && src[j] == '=') {
      ++j;
      while (j < end && src[j] == ' ')
        ++j;
      selfDoc = std::string(src.substr(exprBegin, j - exprBegin));
    }
    std::string conv, spec;
    if (j < end && src[j] == '!') {
      if (j + 1 >= end || !std::strchr("rsa", src[j + 1])) {
        error(SourceRange(j, std::min(j + 2, end)),
              "f-string: invalid conversion character: expected 's', 'r', or 'a'");
        return false;
      }
      conv = src[j + 1];
      j += 2;
    }
    uint32_t specBegin = j;
    if (j < end && src[j] == ':') {
      ++j;
      while (j < end && src[j] != '}') {
        if (src[j] == '{') {
          error(SourceRange(j, j + 1),
                "f-string: a format spec with a nested field ({...}) is not supported");
          return false;
        }
        spec += src[j++];
      }
    }
    if (j >= end || src[j] != '}') {
      error(SourceRange(open, j), "f-string: expecting '}'");
      return false;
    }
    if (!conv.empty() && specBegin < j) {
      error(SourceRange(specBegin, j), "f-string: a format spec after !" + conv +
                                           " is not supported",
            "numbers show the same with and without !r: drop it");
      return false;
    }
    value += selfDoc;
    flush(SourceRange(textBegin, open));
    frontend::LexResult lexed =
        frontend::lex(File, exprBegin, exprEnd, /*layout=*/false, Diags);
    Parser sub(File, std::move(lexed), Diags, exprBegin);
    ExprPtr x = sub.parseSignature();
    if (!x)
      return false;
    SourceRange field(open, j + 1);
    std::vector<ExprPtr> args;
    args.push_back(std::move(x));
    args.push_back(std::make_unique<StrLit>(field, spec));
    args.push_back(std::make_unique<StrLit>(field, conv));
    parts.push_back(std::make_unique<Call>(field,
                                           std::make_unique<Name>(field, "f-string field"),
                                           std::move(args), std::vector<Keyword>{}));
    i = j + 1;
    textBegin = i;
  }
  return true;
}

/// Decodes the escape sequence at src[i] (a backslash) of an f-string's
/// text into `out`, as the lexer does for other strings; returns the
/// position after it. Unknown escapes are kept verbatim, as in Python.
uint32_t Parser::decodeEscape(std::string_view src, uint32_t i, std::string &out) {
  char c = src[i + 1];
  static const char *const from = "nrt0abfv\\'\"";
  static const char *const to = "\n\r\t\0\a\b\f\v\\'\"";
  if (const char *p = std::strchr(from, c); p && c) {
    out += to[p - from];
    return i + 2;
  }
  if (c == '\n')
    return i + 2; // a line continuation
  if (c == 'x' && i + 3 < src.size() && std::isxdigit(static_cast<unsigned char>(src[i + 2])) &&
      std::isxdigit(static_cast<unsigned char>(src[i + 3]))) {
    out += static_cast<char>(std::stoi(std::string(src.substr(i + 2, 2)), nullptr, 16));
    return i + 4;
  }
  out += '\\';
  out += c;
  return i + 2;
}

/// tuple: '(' [star_named_expression ',' [star_named_expressions]] ')'
/// group: '(' (yield_expr | named_expression) ')'
/// genexp: '(' named_expression for_if_clauses ')'
ExprPtr Parser::parseParenAtom() {
  uint32_t openBegin = tok().range.begin;
  advance();
  if (consumeIf(Tok::RParen))
    return std::make_unique<Tuple>(SourceRange(openBegin, PrevEnd), std::vector<ExprPtr>{});
  ExprPtr first = at(Tok::KwYield) ? parseYield()
                  : at(Tok::Star)  ? parseStarExpression()
                                   : parseNamedExpression();
  if (!first)
    return nullptr;
  if (at(Tok::KwFor))
    return parseComprehension(std::move(first), openBegin, openBegin, Tok::RParen,
                              /*generator=*/true);
  if (at(Tok::KwAsync)) {
    if (!skipBalancedTo(Tok::RParen)) {
      expectCloser(Tok::RParen, openBegin);
      return nullptr;
    }
    advance();
    return std::make_unique<Unsupported>(SourceRange(openBegin, PrevEnd),
                                         "asynchronous comprehensions");
  }
  if (consumeIf(Tok::RParen)) {
    // A group keeps the range of what is inside the parentheses, as in
    // Python's own AST; enclosing nodes start at the '('.
    return first;
  }
  std::vector<ExprPtr> elts;
  elts.push_back(std::move(first));
  if (at(Tok::Comma)) {
    while (consumeIf(Tok::Comma)) {
      if (at(Tok::RParen))
        break;
      ExprPtr e = at(Tok::Star) ? parseStarExpression() : parseNamedExpression();
      if (!e)
        return nullptr;
      elts.push_back(std::move(e));
    }
  }
  if (!at(Tok::RParen)) {
    expectCloser(Tok::RParen, openBegin);
    return nullptr;
  }
  advance();
  return sized(std::make_unique<Tuple>(SourceRange(openBegin, PrevEnd), std::move(elts)));
}

/// list: '[' [star_named_expressions] ']'
/// listcomp: '[' named_expression for_if_clauses ']'
ExprPtr Parser::parseListAtom() {
  uint32_t openBegin = tok().range.begin;
  advance();
  std::vector<ExprPtr> elts;
  if (!at(Tok::RBracket)) {
    ExprPtr first = at(Tok::Star) ? parseStarExpression() : parseNamedExpression();
    if (!first)
      return nullptr;
    if (at(Tok::KwFor))
      return parseComprehension(std::move(first), openBegin, openBegin, Tok::RBracket,
                                /*generator=*/false);
    if (at(Tok::KwAsync)) {
      if (!skipBalancedTo(Tok::RBracket)) {
        expectCloser(Tok::RBracket, openBegin);
        return nullptr;
      }
      advance();
      return std::make_unique<Unsupported>(SourceRange(openBegin, PrevEnd),
                                           "asynchronous comprehensions");
    }
    elts.push_back(std::move(first));
    while (consumeIf(Tok::Comma)) {
      if (at(Tok::RBracket))
        break;
      ExprPtr e = at(Tok::Star) ? parseStarExpression() : parseNamedExpression();
      if (!e)
        return nullptr;
      elts.push_back(std::move(e));
    }
  }
  if (!at(Tok::RBracket)) {
    expectCloser(Tok::RBracket, openBegin);
    return nullptr;
  }
  advance();
  return sized(std::make_unique<List>(SourceRange(openBegin, PrevEnd), std::move(elts)));
}

namespace {
/// Renames the reads of `from` in `e` (at any depth) to `to`.
void renameName(Expr &e, const std::string &from, const std::string &to) {
  if (auto *n = llvm::dyn_cast<Name>(&e)) {
    if (n->id == from)
      n->id = to;
    return;
  }
  // A lambda in the comprehension reads its targets too, unless a
  // parameter of the lambda has the name.
  if (auto *l = llvm::dyn_cast<Lambda>(&e)) {
    for (Param &p : l->params)
      if (p.defaultValue)
        renameName(*p.defaultValue, from, to);
    if (std::none_of(l->params.begin(), l->params.end(),
                     [&](const Param &p) { return p.name == from; }))
      renameName(*l->body, from, to);
    return;
  }
  forEachChild(e, [&](const Expr &c) { renameName(const_cast<Expr &>(c), from, to); });
}
} // namespace

/// for_if_clauses: ('for' star_targets 'in' disjunction ('if' disjunction)*)+
/// after `elt`, up to `closer` (the bracket opened at `openBegin`), which a
/// list comprehension or a parenthesized generator expression includes
/// (`begin` is then the bracket) and a call's sole argument does not (the
/// call consumes it). Each clause's target names become `name@N`
/// (ListComp) in its scope: its own conditions, the later clauses and the
/// element; the first iterable is read outside.
ExprPtr Parser::parseComprehension(ExprPtr elt, uint32_t begin, uint32_t openBegin, Tok closer,
                                   bool generator, ExprPtr value) {
  std::vector<Comprehension> gens;
  while (at(Tok::KwFor)) {
    advance();
    Comprehension g;
    g.target = parseTargetList();
    if (!g.target || !checkTarget(*g.target, /*isAssign=*/false))
      return nullptr;
    if (!at(Tok::KwIn)) {
      error(expectedLoc(), "expected 'in' after 'for' target");
      return nullptr;
    }
    advance();
    g.iter = parseDisjunction();
    if (!g.iter)
      return nullptr;
    while (consumeIf(Tok::KwIf)) {
      ExprPtr c = parseDisjunction();
      if (!c)
        return nullptr;
      g.ifs.push_back(std::move(c));
    }
    gens.push_back(std::move(g));
  }
  if (at(Tok::KwAsync)) {
    error(tok().range, "asynchronous comprehensions are not supported");
    return nullptr;
  }
  if (!at(closer)) {
    if (generator && closer == Tok::RParen && at(Tok::Comma))
      error(tok().range, "a generator expression must be parenthesized when it is not the "
                         "only argument");
    else
      expectCloser(closer, openBegin);
    return nullptr;
  }
  if (begin == openBegin)
    advance();
  // Innermost clause first, so that a name bound again by a later clause
  // is renamed in that clause's scope before the earlier binding's.
  for (size_t i = gens.size(); i-- > 0;) {
    std::set<std::string> names;
    collectTargets(*gens[i].target, names);
    for (const std::string &n : names) {
      std::string to = n + "@" + std::to_string(++Comprehensions);
      renameName(*gens[i].target, n, to);
      for (auto &c : gens[i].ifs)
        renameName(*c, n, to);
      for (size_t j = i + 1; j < gens.size(); ++j) {
        renameName(*gens[j].iter, n, to);
        for (auto &c : gens[j].ifs)
          renameName(*c, n, to);
      }
      renameName(*elt, n, to);
      if (value)
        renameName(*value, n, to);
    }
  }
  auto l = std::make_unique<ListComp>(SourceRange(begin, PrevEnd), std::move(elt),
                                      std::move(gens), generator);
  l->value = std::move(value);
  return sized(std::move(l));
}

/// dict: '{' [double_starred_kvpairs] '}'
/// set: '{' star_named_expressions '}'
/// dictcomp: '{' kvpair for_if_clauses '}'
/// setcomp: '{' named_expression for_if_clauses '}'
///
/// The contents are first scanned (at depth 0, a ':' or '**' means dict, a
/// 'for' means comprehension). Dict displays and comprehensions are parsed
/// (Dict, ListComp with a value); `**` unpacking is unsupported and
/// skipped. A set display is parsed as a List with braces (decorator
/// options take one: fastmath={"nnan", "ninf"}), a set comprehension as a
/// ListComp with `set`.
ExprPtr Parser::parseBraceAtom() {
  uint32_t openBegin = tok().range.begin;
  advance();
  size_t contentPos = Pos;
  uint32_t openEnd = PrevEnd;
  bool dict = at(Tok::RBrace) || at(Tok::DoubleStar);
  bool unpacks = false, comprehension = false;
  int depth = 0;
  bool inLambda = false;
  while (!at(Tok::Eof) && !at(Tok::Newline)) {
    Tok k = tok().kind;
    if (depth == 0 && isCloser(k))
      break;
    if (isOpener(k))
      ++depth;
    else if (isCloser(k))
      --depth;
    else if (depth == 0 && k == Tok::KwLambda)
      inLambda = true;
    else if (depth == 0 && k == Tok::DoubleStar)
      unpacks = true;
    else if (depth == 0 && k == Tok::Colon && !comprehension) {
      if (inLambda)
        inLambda = false;
      else
        dict = true;
    } else if (depth == 0 && k == Tok::KwFor)
      comprehension = true;
    advance();
  }
  if (!at(Tok::RBrace)) {
    expectCloser(Tok::RBrace, openBegin);
    return nullptr;
  }
  if (dict && unpacks) {
    advance();
    return std::make_unique<Unsupported>(SourceRange(openBegin, PrevEnd),
                                         "dict unpacking with '**'");
  }
  // Parse it again, as elements (or key: value pairs).
  Pos = contentPos;
  PrevEnd = openEnd;
  std::vector<ExprPtr> elts, values;
  while (!at(Tok::RBrace)) {
    ExprPtr e = !dict && at(Tok::Star) ? parseStarExpression()
                : dict                 ? parseExpression()
                                       : parseNamedExpression();
    if (!e)
      return nullptr;
    if (!dict && comprehension && elts.empty() && at(Tok::KwFor)) {
      ExprPtr l = parseComprehension(std::move(e), openBegin, openBegin, Tok::RBrace,
                                     /*generator=*/false);
      if (auto *lc = llvm::dyn_cast_or_null<ListComp>(l.get()))
        lc->set = true;
      return l;
    }
    if (dict) {
      if (!at(Tok::Colon)) {
        error(expectedLoc(), "expected ':' after a dict key");
        return nullptr;
      }
      advance();
      ExprPtr v = parseExpression();
      if (!v)
        return nullptr;
      if (comprehension && elts.empty() && at(Tok::KwFor))
        return parseComprehension(std::move(e), openBegin, openBegin, Tok::RBrace,
                                  /*generator=*/false, std::move(v));
      values.push_back(std::move(v));
    }
    elts.push_back(std::move(e));
    if (!consumeIf(Tok::Comma))
      break;
  }
  if (!at(Tok::RBrace)) {
    expectCloser(Tok::RBrace, openBegin);
    return nullptr;
  }
  advance();
  if (dict)
    return sized(std::make_unique<Dict>(SourceRange(openBegin, PrevEnd), std::move(elts),
                                        std::move(values)));
  return sized(std::make_unique<List>(SourceRange(openBegin, PrevEnd), std::move(elts),
                                      /*braces=*/true));
}

/// signature: expression (',' expression)* [',']
ExprPtr Parser::parseSignature() {
  if (at(Tok::Eof)) {
    error(tok().range, "expected expression");
    return nullptr;
  }
  ExprPtr e = parseStarExpressions();
  if (!e)
    return nullptr;
  if (!at(Tok::Eof)) {
    error(tok().range, "invalid syntax");
    return nullptr;
  }
  return e;
}

/// Hands one parse's diagnostics to the engine in source order.
void flush(std::vector<Diagnostic> &pending, DiagnosticEngine &diags) {
  std::stable_sort(pending.begin(), pending.end(),
                   [](const Diagnostic &a, const Diagnostic &b) {
                     return a.range.begin < b.range.begin;
                   });
  size_t reported = 0;
  for (Diagnostic &d : pending) {
    if (d.message.empty())
      continue;
    if (reported == kMaxErrors) {
      diags.error(nullptr, SourceRange(), "too many errors emitted, stopping now");
      break;
    }
    diags.report(d.severity, std::move(d.file), d.range, std::move(d.message),
                 std::move(d.hint));
    ++reported;
  }
}

} // namespace

std::unique_ptr<ast::Module> parseModule(std::shared_ptr<const SourceFile> file,
                                         DiagnosticEngine &diags) {
  std::vector<Diagnostic> pending;
  frontend::LexResult lexed =
      frontend::lex(file, 0, static_cast<uint32_t>(file->text().size()), /*layout=*/true,
                    pending);
  Parser parser(file, std::move(lexed), pending, 0);
  std::unique_ptr<ast::Module> m = parser.parseFile();
  if (std::none_of(pending.begin(), pending.end(),
                   [](const Diagnostic &d) { return !d.message.empty(); }))
    frontend::liftLocalFunctions(*m, pending);
  flush(pending, diags);
  return m;
}

ast::ExprPtr parseExpression(std::shared_ptr<const SourceFile> file,
                             DiagnosticEngine &diags, uint32_t begin, uint32_t end) {
  std::vector<Diagnostic> pending;
  frontend::LexResult lexed = frontend::lex(file, begin, end, /*layout=*/false, pending);
  Parser parser(file, std::move(lexed), pending, begin);
  ast::ExprPtr e = parser.parseSignature();
  bool failed = std::any_of(pending.begin(), pending.end(),
                            [](const Diagnostic &d) { return !d.message.empty(); });
  flush(pending, diags);
  return failed ? nullptr : std::move(e);
}

} // namespace stn
