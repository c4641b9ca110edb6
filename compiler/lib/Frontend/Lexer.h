//===- Lexer.h - Tokens of .stn files (private to the front end) -*- C++ -*-===//
//
// The lexer turns a byte range of a SourceFile into a complete token vector
// before parsing starts. Lexing up front keeps the parser's lookahead and
// error recovery simple (any token can be peeked at), and .stn files are
// small.
//
// In layout mode (whole files) the lexer applies Python's rules: NEWLINE at
// the end of each logical line, INDENT/DEDENT from leading whitespace,
// implicit joining inside brackets, backslash continuation. In expression
// mode (signature strings) newlines are plain whitespace and no layout
// tokens are produced.
//
// Lexical errors are appended to a diagnostic list owned by the parser, which
// sorts all errors of one parse by position before reporting them.
//
//===----------------------------------------------------------------------===//

#ifndef STN_LIB_FRONTEND_LEXER_H
#define STN_LIB_FRONTEND_LEXER_H

#include "stn/Compiler/Diagnostics.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stn::frontend {

enum class Tok : uint8_t {
  Eof,
  Newline,
  Indent,
  Dedent,
  Name,
  Int,
  Float,
  Imag,
  String,
  FString,
  /// A character the lexer rejected (already reported). Kept as a token so
  /// that the parser abandons the statement without a second error.
  Unknown,
  // Keywords.
  KwFalse, KwNone, KwTrue, KwAnd, KwAs, KwAssert, KwAsync, KwAwait, KwBreak,
  KwClass, KwContinue, KwDef, KwDel, KwElif, KwElse, KwExcept, KwFinally,
  KwFor, KwFrom, KwGlobal, KwIf, KwImport, KwIn, KwIs, KwLambda, KwNonlocal,
  KwNot, KwOr, KwPass, KwRaise, KwReturn, KwTry, KwWhile, KwWith, KwYield,
  // Delimiters.
  LParen, RParen, LBracket, RBracket, LBrace, RBrace,
  Colon, Comma, Semi, Dot, Ellipsis, Arrow, At, Equal, ColonEqual,
  // Operators.
  Plus, Minus, Star, Slash, DoubleSlash, Percent, DoubleStar,
  Amp, Pipe, Caret, Tilde, LShift, RShift,
  Less, Greater, LessEqual, GreaterEqual, EqEqual, NotEqual,
  // Augmented assignment.
  PlusEqual, MinusEqual, StarEqual, SlashEqual, DoubleSlashEqual,
  PercentEqual, DoubleStarEqual, AmpEqual, PipeEqual, CaretEqual,
  LShiftEqual, RShiftEqual, AtEqual,
};

/// How a token is written in source, for messages ("'('", "newline").
const char *tokSpelling(Tok k);

struct Token {
  Tok kind = Tok::Eof;
  SourceRange range;
  uint64_t intValue = 0;   ///< Int
  bool isUnsigned = false; ///< Int above INT64_MAX
  double floatValue = 0;   ///< Float, Imag
  std::string strValue;    ///< String (escapes processed)
};

/// A byte span in which the parser should stay quiet because the lexer
/// already explained what went wrong there: everything after a bracket
/// that was never closed, or a closer without a matching opener.
struct QuietSpan {
  SourceRange span;
  /// For an unclosed bracket: the offset of the innermost open bracket and
  /// the index of the lexer's "was never closed" diagnostic. CPython reports
  /// a syntax error found on the bracket's own line instead of the unclosed
  /// bracket (`def f(:` is "invalid syntax" at ':'); the parser does the
  /// same by dropping that diagnostic. UINT32_MAX when not applicable.
  uint32_t opener = UINT32_MAX;
  size_t diagIndex = 0;
};

/// The lexer's output: tokens plus the spans where the parser stays quiet.
struct LexResult {
  std::vector<Token> tokens;
  std::vector<QuietSpan> quietSpans; ///< sorted by offset, disjoint
  /// Lines nested deeper than the indentation limit: they produce no
  /// INDENT tokens, so their block structure is lost and the parser would
  /// only report follow-on errors there. Rare; may contain quietSpans.
  std::vector<SourceRange> quietRegions;
};

/// Lexes [begin, end) of `file`. Ranges are absolute offsets into the file.
/// The token vector always ends with Eof; in layout mode every non-empty
/// logical line ends with Newline and all indentation levels are closed by
/// Dedent tokens before Eof.
LexResult lex(const std::shared_ptr<const SourceFile> &file, uint32_t begin,
              uint32_t end, bool layout, std::vector<Diagnostic> &diags);

} // namespace stn::frontend

#endif // STN_LIB_FRONTEND_LEXER_H
