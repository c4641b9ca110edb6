//===- Lexer.cpp - Python-style tokenizer for .stn files ------------------===//
//
// Follows CPython's tokenizer where it matters to users: the same literal
// forms, the same layout rules (tabs advance to the next multiple of 8,
// blank and comment-only lines produce nothing, brackets join lines) and
// the same wording for errors, so that messages look familiar to people
// coming from Python and Numba.
//
// Recovery: a bracket that is never closed would otherwise swallow the rest
// of the file into one logical line and every later error would be lost.
// When a line that can only be a statement (`return ...`, `def ...`,
// `if ...:`) appears while brackets are open, the lexer reports the
// innermost open bracket as never closed, drops the bracket stack and ends
// the logical line there. The tokens in between are covered by a "quiet
// span" so the parser does not add a second, confusing error about them.
//
//===----------------------------------------------------------------------===//

#include "Lexer.h"

#include "llvm/ADT/StringSwitch.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace stn::frontend {

const char *tokSpelling(Tok k) {
  switch (k) {
  case Tok::Eof: return "end of file";
  case Tok::Newline: return "newline";
  case Tok::Indent: return "indent";
  case Tok::Dedent: return "dedent";
  case Tok::Name: return "name";
  case Tok::Int: return "integer literal";
  case Tok::Float: return "float literal";
  case Tok::Imag: return "imaginary literal";
  case Tok::String: return "string literal";
  case Tok::FString: return "f-string";
  case Tok::Unknown: return "unknown character";
  case Tok::KwFalse: return "'False'";
  case Tok::KwNone: return "'None'";
  case Tok::KwTrue: return "'True'";
  case Tok::KwAnd: return "'and'";
  case Tok::KwAs: return "'as'";
  case Tok::KwAssert: return "'assert'";
  case Tok::KwAsync: return "'async'";
  case Tok::KwAwait: return "'await'";
  case Tok::KwBreak: return "'break'";
  case Tok::KwClass: return "'class'";
  case Tok::KwContinue: return "'continue'";
  case Tok::KwDef: return "'def'";
  case Tok::KwDel: return "'del'";
  case Tok::KwElif: return "'elif'";
  case Tok::KwElse: return "'else'";
  case Tok::KwExcept: return "'except'";
  case Tok::KwFinally: return "'finally'";
  case Tok::KwFor: return "'for'";
  case Tok::KwFrom: return "'from'";
  case Tok::KwGlobal: return "'global'";
  case Tok::KwIf: return "'if'";
  case Tok::KwImport: return "'import'";
  case Tok::KwIn: return "'in'";
  case Tok::KwIs: return "'is'";
  case Tok::KwLambda: return "'lambda'";
  case Tok::KwNonlocal: return "'nonlocal'";
  case Tok::KwNot: return "'not'";
  case Tok::KwOr: return "'or'";
  case Tok::KwPass: return "'pass'";
  case Tok::KwRaise: return "'raise'";
  case Tok::KwReturn: return "'return'";
  case Tok::KwTry: return "'try'";
  case Tok::KwWhile: return "'while'";
  case Tok::KwWith: return "'with'";
  case Tok::KwYield: return "'yield'";
  case Tok::LParen: return "'('";
  case Tok::RParen: return "')'";
  case Tok::LBracket: return "'['";
  case Tok::RBracket: return "']'";
  case Tok::LBrace: return "'{'";
  case Tok::RBrace: return "'}'";
  case Tok::Colon: return "':'";
  case Tok::Comma: return "','";
  case Tok::Semi: return "';'";
  case Tok::Dot: return "'.'";
  case Tok::Ellipsis: return "'...'";
  case Tok::Arrow: return "'->'";
  case Tok::At: return "'@'";
  case Tok::Equal: return "'='";
  case Tok::ColonEqual: return "':='";
  case Tok::Plus: return "'+'";
  case Tok::Minus: return "'-'";
  case Tok::Star: return "'*'";
  case Tok::Slash: return "'/'";
  case Tok::DoubleSlash: return "'//'";
  case Tok::Percent: return "'%'";
  case Tok::DoubleStar: return "'**'";
  case Tok::Amp: return "'&'";
  case Tok::Pipe: return "'|'";
  case Tok::Caret: return "'^'";
  case Tok::Tilde: return "'~'";
  case Tok::LShift: return "'<<'";
  case Tok::RShift: return "'>>'";
  case Tok::Less: return "'<'";
  case Tok::Greater: return "'>'";
  case Tok::LessEqual: return "'<='";
  case Tok::GreaterEqual: return "'>='";
  case Tok::EqEqual: return "'=='";
  case Tok::NotEqual: return "'!='";
  case Tok::PlusEqual: return "'+='";
  case Tok::MinusEqual: return "'-='";
  case Tok::StarEqual: return "'*='";
  case Tok::SlashEqual: return "'/='";
  case Tok::DoubleSlashEqual: return "'//='";
  case Tok::PercentEqual: return "'%='";
  case Tok::DoubleStarEqual: return "'**='";
  case Tok::AmpEqual: return "'&='";
  case Tok::PipeEqual: return "'|='";
  case Tok::CaretEqual: return "'^='";
  case Tok::LShiftEqual: return "'<<='";
  case Tok::RShiftEqual: return "'>>='";
  case Tok::AtEqual: return "'@='";
  }
  return "token";
}

namespace {

bool isIdentStart(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(int c) { return c >= '0' && c <= '9'; }
bool isIdentChar(int c) { return isIdentStart(c) || isDigit(c); }
bool isHexDigit(int c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hexValue(int c) {
  if (isDigit(c))
    return c - '0';
  return (c | 0x20) - 'a' + 10;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

Tok keywordKind(std::string_view word) {
  return llvm::StringSwitch<Tok>(llvm::StringRef(word.data(), word.size()))
      .Case("False", Tok::KwFalse)
      .Case("None", Tok::KwNone)
      .Case("True", Tok::KwTrue)
      .Case("and", Tok::KwAnd)
      .Case("as", Tok::KwAs)
      .Case("assert", Tok::KwAssert)
      .Case("async", Tok::KwAsync)
      .Case("await", Tok::KwAwait)
      .Case("break", Tok::KwBreak)
      .Case("class", Tok::KwClass)
      .Case("continue", Tok::KwContinue)
      .Case("def", Tok::KwDef)
      .Case("del", Tok::KwDel)
      .Case("elif", Tok::KwElif)
      .Case("else", Tok::KwElse)
      .Case("except", Tok::KwExcept)
      .Case("finally", Tok::KwFinally)
      .Case("for", Tok::KwFor)
      .Case("from", Tok::KwFrom)
      .Case("global", Tok::KwGlobal)
      .Case("if", Tok::KwIf)
      .Case("import", Tok::KwImport)
      .Case("in", Tok::KwIn)
      .Case("is", Tok::KwIs)
      .Case("lambda", Tok::KwLambda)
      .Case("nonlocal", Tok::KwNonlocal)
      .Case("not", Tok::KwNot)
      .Case("or", Tok::KwOr)
      .Case("pass", Tok::KwPass)
      .Case("raise", Tok::KwRaise)
      .Case("return", Tok::KwReturn)
      .Case("try", Tok::KwTry)
      .Case("while", Tok::KwWhile)
      .Case("with", Tok::KwWith)
      .Case("yield", Tok::KwYield)
      .Default(Tok::Name);
}

/// True for the prefixes Python allows before a string quote.
bool isStringPrefix(std::string_view p, bool &raw, bool &fstring) {
  if (p.empty() || p.size() > 2)
    return false;
  bool r = false, b = false, u = false, f = false;
  for (char c : p) {
    switch (c | 0x20) {
    case 'r': if (r) return false; r = true; break;
    case 'b': if (b) return false; b = true; break;
    case 'u': if (u) return false; u = true; break;
    case 'f': if (f) return false; f = true; break;
    default: return false;
    }
  }
  if (u && p.size() > 1)
    return false; // `ur''` is Python 2 only
  if (b && f)
    return false;
  raw = r;
  fstring = f;
  return true;
}

/// Words that start a statement and can never appear inside an expression,
/// so seeing one at the start of a line inside brackets means a bracket was
/// left open.
bool isStatementOnlyKeyword(std::string_view w) {
  return w == "def" || w == "class" || w == "return" || w == "pass" ||
         w == "break" || w == "continue" || w == "import" || w == "from" ||
         w == "del" || w == "global" || w == "nonlocal" || w == "assert" ||
         w == "raise" || w == "try" || w == "except" || w == "finally" ||
         w == "while" || w == "with" || w == "elif";
}

/// Words that start a statement when the line ends with ':' (they can also
/// appear inside expressions: conditional expressions, comprehensions).
bool isHeaderKeyword(std::string_view w) {
  return w == "if" || w == "for" || w == "else" || w == "async";
}

class Lexer {
public:
  Lexer(const std::shared_ptr<const SourceFile> &file, uint32_t begin,
        uint32_t end, bool layout, std::vector<Diagnostic> &diags)
      : File(file), Buf(file->text().data()), Pos(begin), End(end),
        Layout(layout), Diags(diags) {
    Indents.push_back({0, true});
  }

  LexResult run();

private:
  struct Bracket {
    char c;
    uint32_t offset;
  };
  struct Level {
    unsigned col;
    bool real;             ///< false for levels invented during recovery: no DEDENT
    bool tooDeep = false;  ///< past the indentation limit
  };

  const std::shared_ptr<const SourceFile> &File;
  const char *Buf;
  uint32_t Pos, End;
  bool Layout;
  std::vector<Diagnostic> &Diags;
  LexResult Out;
  std::vector<Bracket> Brackets;
  std::vector<Level> Indents;
  bool AtLineStart = true;
  bool LineHasTokens = false;
  uint32_t TooDeepFrom = 0; ///< start of the current too-deep region

  int peek(unsigned k = 0) const {
    return Pos + k < End ? static_cast<unsigned char>(Buf[Pos + k]) : -1;
  }
  bool atNewline(uint32_t p) const {
    return p < End && (Buf[p] == '\n' || Buf[p] == '\r');
  }
  /// Skips one line ending (\n, \r\n or \r) at Pos.
  void skipNewline() {
    if (Buf[Pos] == '\r' && Pos + 1 < End && Buf[Pos + 1] == '\n')
      Pos += 2;
    else
      ++Pos;
  }

  void error(uint32_t b, uint32_t e, std::string msg, std::string hint = {}) {
    Diags.push_back(Diagnostic{Severity::Error, File, SourceRange(b, e),
                               std::move(msg), std::move(hint)});
  }
  Token &push(Tok k, uint32_t b, uint32_t e) {
    if (k != Tok::Newline && k != Tok::Indent && k != Tok::Dedent &&
        k != Tok::Eof)
      LineHasTokens = true;
    Token t;
    t.kind = k;
    t.range = SourceRange(b, e);
    Out.tokens.push_back(std::move(t));
    return Out.tokens.back();
  }

  bool startLine();
  bool bracketLeftOpen();
  void reportUnclosed(uint32_t quietEnd);
  void lexToken();
  void lexName();
  void lexNumber();
  void lexString(uint32_t start, bool raw, bool fstring, bool bytes);
  void lexEscape(std::string &value, bool bytes);
  void lexOperator();
  void unexpectedChar();
  /// Emits an Unknown token for rejected bytes [b, e) and keeps the parser
  /// quiet about it: the lexer's message is the one that explains it.
  void rejected(uint32_t b, uint32_t e) {
    push(Tok::Unknown, b, e);
    Out.quietSpans.push_back(QuietSpan{SourceRange(b, e)});
  }
};

LexResult Lexer::run() {
  while (true) {
    if (Layout && AtLineStart && Brackets.empty() && !startLine())
      break;
    while (Pos < End && (Buf[Pos] == ' ' || Buf[Pos] == '\t' || Buf[Pos] == '\f'))
      ++Pos;
    if (Pos >= End)
      break;
    char c = Buf[Pos];
    if (c == '#') {
      while (Pos < End && !atNewline(Pos))
        ++Pos;
      continue;
    }
    if (c == '\n' || c == '\r') {
      uint32_t nl = Pos;
      skipNewline();
      if (!Layout)
        continue;
      if (!Brackets.empty()) {
        if (!bracketLeftOpen())
          continue;
        reportUnclosed(nl + 1);
      }
      if (LineHasTokens)
        push(Tok::Newline, nl, nl + 1);
      LineHasTokens = false;
      AtLineStart = true;
      continue;
    }
    if (c == '\\') {
      if (Pos + 1 >= End) {
        ++Pos;
        continue;
      }
      if (atNewline(Pos + 1)) {
        ++Pos;
        skipNewline();
        continue;
      }
      error(Pos, Pos + 1, "unexpected character after line continuation character");
      rejected(Pos, Pos + 1);
      ++Pos;
      continue;
    }
    lexToken();
  }

  if (!Brackets.empty())
    reportUnclosed(End + 1);
  if (Layout) {
    if (Indents.back().tooDeep)
      Out.quietRegions.push_back(SourceRange(TooDeepFrom, End + 1));
    if (LineHasTokens)
      push(Tok::Newline, End, End);
    for (; Indents.size() > 1; Indents.pop_back())
      if (Indents.back().real)
        push(Tok::Dedent, End, End);
  }
  push(Tok::Eof, End, End);
  return std::move(Out);
}

/// Measures the indentation of the next non-blank line and emits INDENT or
/// DEDENT tokens. Returns false at end of input.
bool Lexer::startLine() {
  unsigned col;
  while (true) {
    col = 0;
    while (Pos < End) {
      char c = Buf[Pos];
      if (c == ' ')
        ++col;
      else if (c == '\t')
        col = (col / 8 + 1) * 8;
      else if (c == '\f')
        col = 0; // CPython resets the column at a form feed
      else
        break;
      ++Pos;
    }
    if (Pos >= End)
      return false;
    if (Buf[Pos] == '#')
      while (Pos < End && !atNewline(Pos))
        ++Pos;
    if (Pos >= End)
      return false;
    if (!atNewline(Pos))
      break;
    skipNewline(); // blank or comment-only line: no tokens at all
  }
  AtLineStart = false;

  if (col > Indents.back().col) {
    // CPython's limit; it also bounds the parser's block recursion.
    if (Indents.size() >= 100) {
      if (!Indents.back().tooDeep) {
        error(Pos, Pos, "too many levels of indentation");
        TooDeepFrom = Pos;
      }
      Indents.push_back({col, false, true});
      return true;
    }
    Indents.push_back({col, true});
    push(Tok::Indent, Pos, Pos);
    return true;
  }
  while (col < Indents.back().col) {
    if (Indents.back().real)
      push(Tok::Dedent, Pos, Pos);
    bool leavesTooDeep = Indents.back().tooDeep &&
                         !Indents[Indents.size() - 2].tooDeep;
    Indents.pop_back();
    if (leavesTooDeep)
      Out.quietRegions.push_back(SourceRange(TooDeepFrom, Pos));
  }
  if (col != Indents.back().col) {
    error(Pos, Pos, "unindent does not match any outer indentation level");
    // Treat the line as belonging to the enclosing block, and remember its
    // column so that the lines after it do not repeat the error.
    Indents.push_back({col, false});
  }
  return true;
}

/// Called at a line break inside brackets: decides whether the next line is
/// obviously a new statement, i.e. a bracket was left open.
bool Lexer::bracketLeftOpen() {
  uint32_t p = Pos;
  // Find the next line that has content.
  while (true) {
    while (p < End && (Buf[p] == ' ' || Buf[p] == '\t' || Buf[p] == '\f'))
      ++p;
    if (p >= End)
      return false;
    if (Buf[p] == '#')
      while (p < End && !atNewline(p))
        ++p;
    if (p >= End)
      return false;
    if (!atNewline(p))
      break;
    p += (Buf[p] == '\r' && p + 1 < End && Buf[p + 1] == '\n') ? 2 : 1;
  }
  uint32_t wordBegin = p;
  while (p < End && isIdentChar(static_cast<unsigned char>(Buf[p])))
    ++p;
  std::string_view word(Buf + wordBegin, p - wordBegin);
  if (word.empty() || (p < End && isIdentChar(static_cast<unsigned char>(Buf[p]))))
    return false;
  if (isStatementOnlyKeyword(word))
    return true;
  if (!isHeaderKeyword(word))
    return false;
  // `if x:` / `for i in r:` / `else:` on a line of its own is a statement
  // header: find the line's last significant character, ignoring a comment.
  char quote = 0;
  char last = 0;
  for (; p < End && !atNewline(p); ++p) {
    char c = Buf[p];
    if (quote) {
      if (c == '\\')
        ++p;
      else if (c == quote)
        quote = 0;
      continue;
    }
    if (c == '#')
      break;
    if (c == '\'' || c == '"')
      quote = c;
    if (c != ' ' && c != '\t')
      last = c;
  }
  return last == ':';
}

void Lexer::reportUnclosed(uint32_t quietEnd) {
  const Bracket &inner = Brackets.back();
  error(inner.offset, inner.offset + 1,
        std::string("'") + inner.c + "' was never closed");
  Out.quietSpans.push_back(QuietSpan{SourceRange(Brackets.front().offset, quietEnd),
                                     inner.offset, Diags.size() - 1});
  Brackets.clear();
}

void Lexer::lexToken() {
  int c = peek();
  if (isIdentStart(c))
    return lexName();
  if (isDigit(c) || (c == '.' && isDigit(peek(1))))
    return lexNumber();
  if (c == '"' || c == '\'')
    return lexString(Pos, false, false, false);
  lexOperator();
}

void Lexer::lexName() {
  uint32_t start = Pos;
  while (Pos < End && isIdentChar(static_cast<unsigned char>(Buf[Pos])))
    ++Pos;
  std::string_view word(Buf + start, Pos - start);
  bool raw = false, fstring = false;
  if ((peek() == '"' || peek() == '\'') && isStringPrefix(word, raw, fstring)) {
    bool bytes = word.find_first_of("bB") != std::string_view::npos;
    return lexString(start, raw, fstring, bytes);
  }
  push(keywordKind(word), start, Pos);
}

void Lexer::lexNumber() {
  uint32_t start = Pos;
  // Swallows the rest of a malformed literal so that it yields one error
  // and one token.
  auto swallow = [&]() {
    while (Pos < End && (isIdentChar(static_cast<unsigned char>(Buf[Pos])) ||
                         Buf[Pos] == '.'))
      ++Pos;
    push(Tok::Int, start, Pos);
  };
  auto finishBad = [&](const char *msg) {
    swallow();
    error(start, Pos, msg);
  };

  if (peek() == '0' && peek(1) != -1 && std::strchr("xXoObB", peek(1))) {
    int prefix = peek(1) | 0x20;
    unsigned base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : 2;
    const char *what = base == 16 ? "invalid hexadecimal literal"
                       : base == 8 ? "invalid octal literal"
                                   : "invalid binary literal";
    Pos += 2;
    uint64_t value = 0;
    bool any = false, overflow = false;
    while (true) {
      int d = peek();
      // One '_' may separate digits, and may follow the base prefix.
      if (d == '_' && isHexDigit(peek(1))) {
        ++Pos;
        continue;
      }
      if (!isHexDigit(d))
        break;
      unsigned v = hexValue(d);
      if (v >= base) {
        if (!isDigit(d))
          break;
        uint32_t at = Pos;
        swallow();
        error(at, at + 1, std::string("invalid digit '") + static_cast<char>(d) +
                              "' in " + (base == 8 ? "octal" : "binary") + " literal");
        return;
      }
      overflow |= __builtin_mul_overflow(value, static_cast<uint64_t>(base), &value);
      overflow |= __builtin_add_overflow(value, static_cast<uint64_t>(v), &value);
      any = true;
      ++Pos;
    }
    if (!any || isIdentChar(peek()) || peek() == '.')
      return finishBad(what);
    Token &t = push(Tok::Int, start, Pos);
    if (overflow) {
      error(start, Pos, "integer literal too large");
      return;
    }
    t.intValue = value;
    t.isUnsigned = value > static_cast<uint64_t>(INT64_MAX);
    return;
  }

  // Decimal integer, float or imaginary. Collect the digits without the
  // '_' separators for conversion.
  std::string digits;
  bool badUnderscore = false;
  auto readDigits = [&]() {
    while (true) {
      int d = peek();
      if (isDigit(d)) {
        digits += static_cast<char>(d);
        ++Pos;
      } else if (d == '_') {
        if (!isDigit(peek(1)) || digits.empty() || !isDigit(Buf[Pos - 1]))
          badUnderscore = true;
        ++Pos;
      } else {
        break;
      }
    }
  };
  readDigits();
  size_t intLen = digits.size();
  bool isFloat = false;
  if (peek() == '.') {
    isFloat = true;
    digits += '.';
    ++Pos;
    if (peek() == '_')
      badUnderscore = true;
    readDigits();
  }
  int e = peek();
  if ((e == 'e' || e == 'E') &&
      (isDigit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && isDigit(peek(2))))) {
    isFloat = true;
    digits += 'e';
    ++Pos;
    if (peek() == '+' || peek() == '-') {
      digits += static_cast<char>(peek());
      ++Pos;
    }
    readDigits();
  }
  bool imag = false;
  if (peek() == 'j' || peek() == 'J') {
    imag = true;
    ++Pos;
  }
  if (isIdentChar(peek())) {
    // `1if x else y` is accepted by CPython; anything else glued to a number
    // is a typo.
    uint32_t w = Pos;
    while (w < End && isIdentChar(static_cast<unsigned char>(Buf[w])))
      ++w;
    std::string_view word(Buf + Pos, w - Pos);
    if (word != "and" && word != "or" && word != "if" && word != "else" &&
        word != "in" && word != "is" && word != "not" && word != "for")
      return finishBad("invalid decimal literal");
  }
  if (badUnderscore)
    return finishBad("invalid decimal literal");

  if (isFloat || imag) {
    double value = 0;
    auto res = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (res.ec == std::errc::result_out_of_range) {
      // from_chars reports overflow instead of returning inf like Python;
      // huge literals mean infinity, tiny ones zero.
      value = digits.find("e-") != std::string::npos ? 0.0 : HUGE_VAL;
    }
    Token &t = push(imag ? Tok::Imag : Tok::Float, start, Pos);
    t.floatValue = value;
    return;
  }

  Token &t = push(Tok::Int, start, Pos);
  if (intLen > 1 && digits[0] == '0' &&
      digits.find_first_not_of('0') != std::string::npos) {
    error(start, Pos,
          "leading zeros in decimal integer literals are not permitted; use an "
          "0o prefix for octal integers");
    return;
  }
  uint64_t value = 0;
  bool overflow = false;
  for (char d : digits) {
    overflow |= __builtin_mul_overflow(value, uint64_t(10), &value);
    overflow |= __builtin_add_overflow(value, uint64_t(d - '0'), &value);
  }
  if (overflow) {
    error(start, Pos, "integer literal too large",
          "integer literals must fit in 64 bits (at most 18446744073709551615)");
    return;
  }
  t.intValue = value;
  t.isUnsigned = value > static_cast<uint64_t>(INT64_MAX);
}

void Lexer::lexEscape(std::string &value, bool bytes) {
  // Pos is at the backslash and a character follows it.
  uint32_t at = Pos;
  int n = peek(1);
  Pos += 2;
  switch (n) {
  case '\n':
    return; // backslash-newline continues the string on the next line
  case '\r':
    if (peek() == '\n')
      ++Pos;
    return;
  case '\\': value += '\\'; return;
  case '\'': value += '\''; return;
  case '"': value += '"'; return;
  case 'a': value += '\a'; return;
  case 'b': value += '\b'; return;
  case 'f': value += '\f'; return;
  case 'n': value += '\n'; return;
  case 'r': value += '\r'; return;
  case 't': value += '\t'; return;
  case 'v': value += '\v'; return;
  default:
    break;
  }
  if (n >= '0' && n <= '7') {
    uint32_t v = n - '0';
    for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i, ++Pos)
      v = v * 8 + (peek() - '0');
    if (bytes)
      value += static_cast<char>(v & 0xFF);
    else
      appendUtf8(value, v);
    return;
  }
  unsigned width = n == 'x' ? 2 : (n == 'u' && !bytes) ? 4 : (n == 'U' && !bytes) ? 8 : 0;
  if (width) {
    uint32_t v = 0;
    unsigned i = 0;
    for (; i < width && isHexDigit(peek()); ++i, ++Pos)
      v = v * 16 + hexValue(peek());
    if (i != width) {
      error(at, Pos, std::string("truncated \\") + static_cast<char>(n) +
                         std::string(width, 'X') + " escape");
      return;
    }
    if (bytes)
      value += static_cast<char>(v);
    else if (v > 0x10FFFF)
      error(at, Pos, "illegal Unicode character in escape");
    else
      appendUtf8(value, v);
    return;
  }
  // Unknown escapes (and \N{...}) are kept verbatim, as Python does.
  value += '\\';
  value += static_cast<char>(n);
}

void Lexer::lexString(uint32_t start, bool raw, bool fstring, bool bytes) {
  char q = Buf[Pos];
  bool triple = peek(1) == q && peek(2) == q;
  Pos += triple ? 3 : 1;
  std::string value;
  while (true) {
    if (Pos >= End) {
      error(start, triple ? start + 3 : End,
            triple ? "unterminated triple-quoted string literal"
                   : "unterminated string literal");
      break;
    }
    char c = Buf[Pos];
    if (c == q) {
      if (!triple) {
        ++Pos;
        break;
      }
      if (peek(1) == q && peek(2) == q) {
        Pos += 3;
        break;
      }
      value += c;
      ++Pos;
      continue;
    }
    if ((c == '\n' || c == '\r') && !triple) {
      error(start, Pos, "unterminated string literal");
      break;
    }
    if (c == '\\' && Pos + 1 < End) {
      if (raw || fstring) {
        // Raw strings keep the backslash, but it still protects the quote.
        value += c;
        value += Buf[Pos + 1];
        Pos += 2;
      } else {
        lexEscape(value, bytes);
      }
      continue;
    }
    if (c == '\r') {
      // Newlines inside triple-quoted strings read as '\n' whatever the
      // file's line endings are.
      value += '\n';
      ++Pos;
      if (peek() == '\n')
        ++Pos;
      continue;
    }
    value += c;
    ++Pos;
  }
  Token &t = push(fstring ? Tok::FString : Tok::String, start, Pos);
  t.strValue = std::move(value);
}

void Lexer::lexOperator() {
  uint32_t start = Pos;
  int c = peek(), c1 = peek(1), c2 = peek(2);
  auto op = [&](Tok k, unsigned len) {
    Pos += len;
    push(k, start, Pos);
  };
  switch (c) {
  case '(':
  case '[':
  case '{':
    Brackets.push_back({static_cast<char>(c), start});
    return op(c == '(' ? Tok::LParen : c == '[' ? Tok::LBracket : Tok::LBrace, 1);
  case ')':
  case ']':
  case '}': {
    char open = c == ')' ? '(' : c == ']' ? '[' : '{';
    if (Brackets.empty()) {
      error(start, start + 1, std::string("unmatched '") + static_cast<char>(c) + "'");
      Out.quietSpans.push_back(QuietSpan{SourceRange(start, start + 1)});
    } else {
      if (Brackets.back().c != open) {
        std::string msg = std::string("closing parenthesis '") + static_cast<char>(c) +
                          "' does not match opening parenthesis '" +
                          Brackets.back().c + "'";
        unsigned openLine = File->lineCol(Brackets.back().offset).first;
        if (openLine != File->lineCol(start).first)
          msg += " on line " + std::to_string(openLine);
        error(start, start + 1, std::move(msg));
        Out.quietSpans.push_back(QuietSpan{SourceRange(start, start + 1)});
      }
      Brackets.pop_back();
    }
    return op(c == ')' ? Tok::RParen : c == ']' ? Tok::RBracket : Tok::RBrace, 1);
  }
  case ':':
    return c1 == '=' ? op(Tok::ColonEqual, 2) : op(Tok::Colon, 1);
  case ',':
    return op(Tok::Comma, 1);
  case ';':
    return op(Tok::Semi, 1);
  case '~':
    return op(Tok::Tilde, 1);
  case '.':
    return (c1 == '.' && c2 == '.') ? op(Tok::Ellipsis, 3) : op(Tok::Dot, 1);
  case '-':
    return c1 == '>' ? op(Tok::Arrow, 2) : c1 == '=' ? op(Tok::MinusEqual, 2) : op(Tok::Minus, 1);
  case '+':
    return c1 == '=' ? op(Tok::PlusEqual, 2) : op(Tok::Plus, 1);
  case '*':
    if (c1 == '*')
      return c2 == '=' ? op(Tok::DoubleStarEqual, 3) : op(Tok::DoubleStar, 2);
    return c1 == '=' ? op(Tok::StarEqual, 2) : op(Tok::Star, 1);
  case '/':
    if (c1 == '/')
      return c2 == '=' ? op(Tok::DoubleSlashEqual, 3) : op(Tok::DoubleSlash, 2);
    return c1 == '=' ? op(Tok::SlashEqual, 2) : op(Tok::Slash, 1);
  case '%':
    return c1 == '=' ? op(Tok::PercentEqual, 2) : op(Tok::Percent, 1);
  case '@':
    return c1 == '=' ? op(Tok::AtEqual, 2) : op(Tok::At, 1);
  case '&':
    return c1 == '=' ? op(Tok::AmpEqual, 2) : op(Tok::Amp, 1);
  case '|':
    return c1 == '=' ? op(Tok::PipeEqual, 2) : op(Tok::Pipe, 1);
  case '^':
    return c1 == '=' ? op(Tok::CaretEqual, 2) : op(Tok::Caret, 1);
  case '<':
    if (c1 == '<')
      return c2 == '=' ? op(Tok::LShiftEqual, 3) : op(Tok::LShift, 2);
    return c1 == '=' ? op(Tok::LessEqual, 2) : op(Tok::Less, 1);
  case '>':
    if (c1 == '>')
      return c2 == '=' ? op(Tok::RShiftEqual, 3) : op(Tok::RShift, 2);
    return c1 == '=' ? op(Tok::GreaterEqual, 2) : op(Tok::Greater, 1);
  case '=':
    return c1 == '=' ? op(Tok::EqEqual, 2) : op(Tok::Equal, 1);
  case '!':
    if (c1 == '=')
      return op(Tok::NotEqual, 2);
    break;
  default:
    break;
  }
  unexpectedChar();
}

void Lexer::unexpectedChar() {
  uint32_t start = Pos;
  unsigned char c = static_cast<unsigned char>(Buf[Pos]);
  if (c < 0x80) {
    ++Pos;
    char buf[64];
    if (c == 0)
      std::snprintf(buf, sizeof buf, "source code cannot contain null bytes");
    else if (c < 0x20 || c == 0x7F)
      std::snprintf(buf, sizeof buf, "invalid non-printable character U+%04X", c);
    else
      std::snprintf(buf, sizeof buf, "unexpected character '%c'", c);
    error(start, Pos, buf);
    rejected(start, Pos);
    return;
  }
  // Decode one UTF-8 sequence so the message shows the character and the
  // caret covers all of its bytes.
  unsigned len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  unsigned i = 1;
  for (; i < len && Pos + i < End &&
         (static_cast<unsigned char>(Buf[Pos + i]) & 0xC0) == 0x80;
       ++i)
    cp = (cp << 6) | (static_cast<unsigned char>(Buf[Pos + i]) & 0x3F);
  Pos += i;
  char buf[32];
  std::snprintf(buf, sizeof buf, " (U+%04X)", cp);
  error(start, Pos,
        "unexpected character '" + std::string(Buf + start, Pos - start) + "'" + buf,
        "stn source must be ASCII outside of strings and comments");
  rejected(start, Pos);
}

} // namespace

LexResult lex(const std::shared_ptr<const SourceFile> &file, uint32_t begin,
              uint32_t end, bool layout, std::vector<Diagnostic> &diags) {
  end = std::min<uint32_t>(end, static_cast<uint32_t>(file->text().size()));
  begin = std::min(begin, end);
  // Editors on Windows may start a file with a UTF-8 byte order mark;
  // Python ignores it, and so do we.
  if (begin == 0 && file->text().compare(0, 3, "\xEF\xBB\xBF") == 0 && end >= 3)
    begin = 3;
  return Lexer(file, begin, end, layout, diags).run();
}

} // namespace stn::frontend
