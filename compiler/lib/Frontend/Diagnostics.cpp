//===- Diagnostics.cpp - Source line tables and diagnostic formatting -----===//
//
// Every stage reports through one DiagnosticEngine; this file turns byte
// offsets into 1-based line:column pairs and renders the clang-like text
//
//   file.stn:3:9: error: message
//       x = (a +
//           ^~~
//   hint: ...
//
// Columns count bytes, not characters, so they agree with the ranges the
// lexer records. The caret line copies the source line's tabs and spaces up
// to the caret, which keeps the caret aligned whatever the terminal's tab
// width is.
//
//===----------------------------------------------------------------------===//

#include "stn/Compiler/Diagnostics.h"


#include <algorithm>

namespace stn {

SourceFile::SourceFile(std::string name, std::string text)
    : Name(std::move(name)), Text(std::move(text)) {
  LineStarts.push_back(0);
  for (uint32_t i = 0, e = static_cast<uint32_t>(Text.size()); i != e; ++i)
    if (Text[i] == '\n')
      LineStarts.push_back(i + 1);
}

std::pair<unsigned, unsigned> SourceFile::lineCol(uint32_t offset) const {
  // Offsets past the end (e.g. an end-of-file token) clamp to the end so a
  // bad range can never index outside the table.
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(Text.size()));
  auto it = std::upper_bound(LineStarts.begin(), LineStarts.end(), offset);
  unsigned line = static_cast<unsigned>(it - LineStarts.begin());
  return {line, offset - LineStarts[line - 1] + 1};
}

std::string_view SourceFile::lineText(unsigned line) const {
  if (line == 0 || line > LineStarts.size())
    return {};
  uint32_t begin = LineStarts[line - 1];
  uint32_t end = line < LineStarts.size() ? LineStarts[line] - 1
                                          : static_cast<uint32_t>(Text.size());
  std::string_view text(Text.data() + begin, end - begin);
  // CRLF files: the '\r' is part of the line ending, not of the line.
  if (!text.empty() && text.back() == '\r')
    text.remove_suffix(1);
  return text;
}

void DiagnosticEngine::report(Severity sev, std::shared_ptr<const SourceFile> file,
                              SourceRange range, std::string message,
                              std::string hint) {
  if (sev == Severity::Error)
    ++NumErrors;
  Diags.push_back(Diagnostic{sev, std::move(file), range, std::move(message),
                             std::move(hint)});
}

static const char *severityName(Severity sev) {
  switch (sev) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

std::string DiagnosticEngine::format(const Diagnostic &d) {
  std::string out;
  if (!d.file) {
    out += severityName(d.severity);
    out += ": ";
    out += d.message;
    out += '\n';
  } else {
    auto [line, col] = d.file->lineCol(d.range.begin);
    out += d.file->name();
    out += ':' + std::to_string(line) + ':' + std::to_string(col) + ": ";
    out += severityName(d.severity);
    out += ": ";
    out += d.message;
    out += '\n';

    std::string_view text = d.file->lineText(line);
    out.append(text.data(), text.size());
    out += '\n';
    for (unsigned i = 0; i + 1 < col; ++i)
      out += (i < text.size() && (text[i] == '\t' || text[i] == ' ')) ? text[i]
                                                                        : ' ';
    out += '^';
    // Underline the rest of the range, but only as far as this line goes: a
    // multi-line range (a whole statement) gets a caret on its first line.
    uint32_t lineEnd = d.range.begin - (col - 1) + static_cast<uint32_t>(text.size());
    uint32_t end = std::min(d.range.end, lineEnd);
    if (end > d.range.begin + 1)
      out.append(end - d.range.begin - 1, '~');
    out += '\n';
  }
  if (!d.hint.empty()) {
    out += "hint: ";
    out += d.hint;
    out += '\n';
  }
  return out;
}

std::string DiagnosticEngine::format() const {
  std::string out;
  for (const Diagnostic &d : Diags)
    out += format(d);
  return out;
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and transpositions of adjacent characters each cost 1, so the common
/// typo "vlaue" is one edit away from "value".
static unsigned typoDistance(std::string_view a, std::string_view b) {
  size_t n = a.size(), m = b.size();
  std::vector<std::vector<unsigned>> d(n + 1, std::vector<unsigned>(m + 1));
  for (size_t i = 0; i <= n; ++i)
    d[i][0] = static_cast<unsigned>(i);
  for (size_t j = 0; j <= m; ++j)
    d[0][j] = static_cast<unsigned>(j);
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string closestMatch(std::string_view name,
                         const std::vector<std::string> &candidates) {
  // About a third of the name's length keeps suggestions plausible: "lenn"
  // -> "len", "vlaues" -> "values", but a two-letter name is not "close" to
  // every other two-letter name.
  if (name.size() > 64)
    return {};
  unsigned limit = std::max<unsigned>(1, static_cast<unsigned>(name.size() + 1) / 3);
  std::string best;
  unsigned bestDistance = limit + 1;
  for (const std::string &cand : candidates) {
    if (cand == name || cand.size() > name.size() + limit ||
        cand.size() + limit < name.size())
      continue;
    unsigned d = typoDistance(name, cand);
    if (d < bestDistance) {
      bestDistance = d;
      best = cand;
    }
  }
  return best;
}

} // namespace stn
