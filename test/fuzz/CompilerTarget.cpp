//===- CompilerTarget.cpp - The .stn pipeline on arbitrary bytes ----------===//
//
// Body of the stn-fuzz-compiler target (see FuzzTargets.h). It drives the
// compiler the way the engine and `stn ir` do, stopping before LLVM code
// generation (O3 and instruction selection are slow and belong to LLVM, not
// to us): parse, load, specialize for a few signatures, lower each
// specialization to the LLVM dialect. Inputs that reach far take a few
// milliseconds per lowering, so the number of lowerings per input is capped.
//
//===----------------------------------------------------------------------===//

#include "FuzzTargets.h"

#include "stn/Compiler/Parser.h"
#include "stn/Compiler/Pipeline.h"
#include "stn/Compiler/Sema.h"

#include <string>
#include <vector>

namespace stn::fuzz {

namespace {

/// At most this many specializations are lowered per input: a file with a
/// hundred kernels should not turn one execution into seconds.
constexpr unsigned MaxLowerings = 12;

/// Argument-type signatures tried for a kernel with `n` parameters: the same
/// type everywhere for the common scalar and array types (float and integer
/// arrays take different paths through reductions, casts and NEP 50
/// promotion), the usual "array plus sizes" shape, and a mix of the rarer
/// kinds (complex, bool, narrow and unsigned integers, f32).
std::vector<std::vector<Type>> fixedSignatures(size_t n) {
  auto all = [n](Type t) { return std::vector<Type>(n, t); };
  std::vector<std::vector<Type>> sigs;
  sigs.push_back(all(Type::scalar(ScalarKind::F64)));
  if (n == 0)
    return sigs;
  sigs.push_back(all(Type::scalar(ScalarKind::I64)));
  sigs.push_back(all(Type::array(ScalarKind::F64, 1)));
  sigs.push_back(all(Type::array(ScalarKind::F64, 2, Type::Layout::C)));
  sigs.push_back(all(Type::array(ScalarKind::I64, 1, Type::Layout::C)));
  if (n > 1) {
    auto s = all(Type::scalar(ScalarKind::I64));
    s[0] = Type::array(ScalarKind::F32, 1, Type::Layout::C);
    sigs.push_back(std::move(s));
    s = all(Type::array(ScalarKind::U8, 2));
    s[1] = Type::array(ScalarKind::I32, 1);
    sigs.push_back(std::move(s));
  }
  static const ScalarKind mixed[] = {ScalarKind::C128, ScalarKind::I32, ScalarKind::Bool,
                                     ScalarKind::U8, ScalarKind::F32};
  std::vector<Type> s;
  for (size_t i = 0; i < n; ++i)
    s.push_back(Type::scalar(mixed[i % std::size(mixed)]));
  sigs.push_back(std::move(s));
  return sigs;
}

} // namespace

CompilerStats runCompiler(const uint8_t *data, size_t size) {
  CompilerStats stats;
  auto file = std::make_shared<const SourceFile>(
      "fuzz.stn", std::string(reinterpret_cast<const char *>(data), size));

  // Front end alone, as `stn ir --emit=ast` runs it.
  {
    DiagnosticEngine diags;
    auto module = parseModule(file, diags);
    (void)diags.format();
    if (!module || diags.hasErrors())
      return stats;
    stats.parsed = true;
    (void)ast::printModule(*module);
    for (auto &f : module->functions)
      (void)ast::printFunction(*f, *file);
  }

  DiagnosticEngine diags;
  auto program = Program::load(file, diags);
  (void)diags.format();
  if (!program)
    return stats;
  stats.loaded = true;
  stats.kernels = static_cast<unsigned>(program->kernels().size());

  for (const KernelDecl &k : program->kernels()) {
    std::vector<std::vector<Type>> sigs;
    // Explicit signatures first, then the fixed ones routed through
    // matchSignature as the engine does for a call.
    for (auto &sig : k.signatures)
      sigs.push_back(sig.args);
    for (auto &args : fixedSignatures(k.def->params.size())) {
      if (k.signatures.empty()) {
        sigs.push_back(std::move(args));
        continue;
      }
      std::string error;
      if (const Signature *s = program->matchSignature(k, args, error))
        sigs.push_back(s->args);
    }
    for (auto &args : sigs) {
      DiagnosticEngine sdiags;
      TypedFunction *tf = program->specialize(k, args, sdiags);
      (void)sdiags.format();
      if (!tf)
        continue;
      ++stats.specialized;
      (void)printTyped(*tf);
      if (stats.lowered >= MaxLowerings)
        continue;
      ++stats.lowered;
      std::string out;
      DiagnosticEngine ldiags;
      (void)emitStage(*tf, IRStage::Lowered, CodegenOptions{}, out, ldiags);
      (void)ldiags.format();
    }
  }
  return stats;
}

} // namespace stn::fuzz
