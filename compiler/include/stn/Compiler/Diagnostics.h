//===- Diagnostics.h - Source buffers and the diagnostics engine -*- C++ -*-===//
//
// One engine for every stage (lexer, parser, resolver, type checker, code
// generation). A diagnostic points at a byte range of a source buffer and is
// printed as
//
//   file.stn:L:C: error: message
//     <source line>
//     ^~~~~
//   note/hint lines
//
// The engine collects diagnostics; it never prints or exits by itself.
//
//===----------------------------------------------------------------------===//

#ifndef STN_COMPILER_DIAGNOSTICS_H
#define STN_COMPILER_DIAGNOSTICS_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stn {

/// A half-open byte range [begin, end) in one source buffer.
struct SourceRange {
  uint32_t begin = 0;
  uint32_t end = 0;
  SourceRange() = default;
  SourceRange(uint32_t b, uint32_t e) : begin(b), end(e) {}
  static SourceRange merge(SourceRange a, SourceRange b) {
    return {a.begin < b.begin ? a.begin : b.begin, a.end > b.end ? a.end : b.end};
  }
};

/// A named source buffer with a line table (1-based lines and columns).
class SourceFile {
public:
  SourceFile(std::string name, std::string text);
  const std::string &name() const { return Name; }
  const std::string &text() const { return Text; }
  /// 1-based line and column of a byte offset.
  std::pair<unsigned, unsigned> lineCol(uint32_t offset) const;
  /// The text of a 1-based line, without its newline.
  std::string_view lineText(unsigned line) const;

private:
  std::string Name;
  std::string Text;
  std::vector<uint32_t> LineStarts;
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  std::shared_ptr<const SourceFile> file; ///< may be null (no location)
  SourceRange range;
  std::string message;
  std::string hint; ///< optional "hint: ..." line printed after the caret
};

/// Collects diagnostics from every stage.
class DiagnosticEngine {
public:
  void report(Severity sev, std::shared_ptr<const SourceFile> file,
              SourceRange range, std::string message, std::string hint = {});
  void error(std::shared_ptr<const SourceFile> file, SourceRange range,
             std::string message, std::string hint = {}) {
    report(Severity::Error, std::move(file), range, std::move(message),
           std::move(hint));
  }
  void warning(std::shared_ptr<const SourceFile> file, SourceRange range,
               std::string message, std::string hint = {}) {
    report(Severity::Warning, std::move(file), range, std::move(message),
           std::move(hint));
  }
  void note(std::shared_ptr<const SourceFile> file, SourceRange range,
            std::string message) {
    report(Severity::Note, std::move(file), range, std::move(message));
  }

  bool hasErrors() const { return NumErrors != 0; }
  unsigned numErrors() const { return NumErrors; }
  const std::vector<Diagnostic> &diagnostics() const { return Diags; }
  void clear() {
    Diags.clear();
    NumErrors = 0;
  }

  /// Formats every diagnostic ("file:L:C: error: msg", source line, caret).
  std::string format() const;
  static std::string format(const Diagnostic &d);

private:
  std::vector<Diagnostic> Diags;
  unsigned NumErrors = 0;
};

/// Returns the candidate closest to `name` by edit distance, or "" if none is
/// close enough to suggest ("did you mean ...?").
std::string closestMatch(std::string_view name,
                         const std::vector<std::string> &candidates);

} // namespace stn

#endif // STN_COMPILER_DIAGNOSTICS_H
