//===- LocalFunctions.h - Local functions as module functions ---*- C++ -*-===//
//
// Private to the front end: parseModule calls liftLocalFunctions on a
// module that parsed without errors.
//
//===----------------------------------------------------------------------===//

#ifndef STN_LIB_FRONTEND_LOCALFUNCTIONS_H
#define STN_LIB_FRONTEND_LOCALFUNCTIONS_H

#include "stn/Compiler/AST.h"
#include "stn/Compiler/Diagnostics.h"

#include <vector>

namespace stn::frontend {

/// Moves every function defined inside another (a `def` in a body, a
/// `lambda`) to the module, under Python's qualified name
/// (`outer.<locals>.inner`), and rewrites its uses: a call passes, after
/// the written arguments, the variables of the functions around it that
/// the local function reads (Call::captured, FunctionDef::captures); a use
/// that is not a call becomes an ast::Closure. Errors (a local function
/// used before its def, defined twice, also assigned as a variable, with
/// decorators, or reading a variable that the caller shadows) go to `out`.
void liftLocalFunctions(ast::Module &m, std::vector<Diagnostic> &out);

} // namespace stn::frontend

#endif // STN_LIB_FRONTEND_LOCALFUNCTIONS_H
