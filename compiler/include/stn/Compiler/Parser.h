//===- Parser.h - Lexer and recursive-descent parser for .stn ---*- C++ -*-===//
//
// Turns a SourceFile into an ast::Module. Python's layout rules apply:
// INDENT/DEDENT from leading whitespace, implicit line joining inside
// brackets, backslash continuation, comments, docstrings. Syntax errors are
// reported to the DiagnosticEngine (file:line:col with a caret); the parser
// recovers at the next statement so that several errors can be reported,
// and it never aborts on bad input.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_PARSER_H
#define STN_COMPILER_PARSER_H

#include "stn/Compiler/AST.h"

namespace stn {

/// Parses a whole file. Always returns a module (possibly partial); check
/// `diags.hasErrors()`.
std::unique_ptr<ast::Module> parseModule(std::shared_ptr<const SourceFile> file,
                                         DiagnosticEngine &diags);

/// Parses one expression (or a comma-separated list, returned as a Tuple)
/// from the bytes [begin, end) of `file`; ranges in the result are offsets
/// into `file`. Used for signature strings such as "f8[:,:](f8[:,:])" and
/// `stn ir --sig`. Returns null on a syntax error (reported to `diags`).
ast::ExprPtr parseExpression(std::shared_ptr<const SourceFile> file,
                             DiagnosticEngine &diags, uint32_t begin,
                             uint32_t end);

} // namespace stn

#endif // STN_COMPILER_PARSER_H
