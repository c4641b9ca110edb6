//===- FuzzTargets.h - What the fuzz targets run, shared with the tests ---===//
//
// The bodies of the libFuzzer targets (test/fuzz/*Fuzzer.cpp) live here so
// that test/unit/FuzzRegressionTest.cpp can replay every saved crasher
// through exactly the same code without libFuzzer. Each function takes
// arbitrary bytes, must never crash, hang or leak, and reports user errors
// only as diagnostics or stn::Error.
//
//===----------------------------------------------------------------------===//

#ifndef STN_TEST_FUZZ_FUZZTARGETS_H
#define STN_TEST_FUZZ_FUZZTARGETS_H

#include <cstddef>
#include <cstdint>

namespace stn::fuzz {

/// What one input reached, for tests that check the harness itself.
struct CompilerStats {
  bool parsed = false;          ///< parsed without syntax errors
  bool loaded = false;          ///< Program::load succeeded
  unsigned kernels = 0;         ///< kernels in the loaded program
  unsigned specialized = 0;     ///< signatures that type-checked
  unsigned lowered = 0;         ///< specializations lowered to the LLVM dialect
};

/// The .stn pipeline up to, not including, LLVM code generation: lexer and
/// parser (and the AST printer), Program::load, then for every kernel a few
/// fixed argument-type signatures chosen by its parameter count plus its
/// explicit signatures, each specialization printed (--emit=typed) and
/// lowered (MLIRGen + verify + lowering to the LLVM dialect, --emit=lowered).
/// Every diagnostic is formatted, as the CLI would print it.
CompilerStats runCompiler(const uint8_t *data, size_t size);

/// readNpy on the bytes (through an in-memory file); when they parse, the
/// array is written back with writeNpy, read again and compared.
/// Returns true if the bytes were a valid .npy file.
bool runNpy(const uint8_t *data, size_t size);

} // namespace stn::fuzz

#endif // STN_TEST_FUZZ_FUZZTARGETS_H
