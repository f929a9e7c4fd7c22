// Source buffers and clang-style diagnostics for the .tl front end:
// "file:line:col: error: message", the source line, and a caret under the column.
#ifndef TLC_FRONTEND_DIAGNOSTICS_H
#define TLC_FRONTEND_DIAGNOSTICS_H

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace tlc {

/// A position in a source file: 1-based line and column (column counts bytes).
/// line == 0 means "no location".
struct SourceLoc {
  uint32_t line = 0;
  uint32_t col = 0;
  bool valid() const { return line != 0; }
};

/// One source file held in memory. Offsets of line starts are precomputed so
/// that diagnostics can print the offending line.
class SourceFile {
public:
  SourceFile(std::string path, std::string text);
  const std::string &path() const { return path_; }
  const std::string &text() const { return text_; }
  /// The text of 1-based line `line`, without its newline ("" if out of range).
  std::string_view lineText(uint32_t line) const;
  uint32_t numLines() const { return static_cast<uint32_t>(lineStarts_.size()); }

private:
  std::string path_;
  std::string text_;
  std::vector<size_t> lineStarts_;
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity;
  SourceLoc loc;
  std::string message;
};

/// Collects diagnostics and prints them as they arrive. The front end never
/// throws or aborts on bad input: it reports here and carries on or stops.
class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceFile &file, std::ostream *out = nullptr)
      : file_(file), out_(out) {}

  void error(SourceLoc loc, std::string message) {
    report(Severity::Error, loc, std::move(message));
  }
  void warning(SourceLoc loc, std::string message) {
    report(Severity::Warning, loc, std::move(message));
  }
  void note(SourceLoc loc, std::string message) {
    report(Severity::Note, loc, std::move(message));
  }
  void report(Severity severity, SourceLoc loc, std::string message);

  unsigned numErrors() const { return numErrors_; }
  bool hasErrors() const { return numErrors_ != 0; }
  const std::vector<Diagnostic> &diagnostics() const { return diags_; }
  const SourceFile &file() const { return file_; }

  /// Formats one diagnostic the way it is printed (with source line and caret).
  std::string format(const Diagnostic &d) const;

  /// After this many errors further errors are dropped (with one note), so a
  /// pathological input cannot produce unbounded output.
  static constexpr unsigned kMaxErrors = 50;

private:
  const SourceFile &file_;
  std::ostream *out_;
  std::vector<Diagnostic> diags_;
  unsigned numErrors_ = 0;
};

} // namespace tlc

#endif // TLC_FRONTEND_DIAGNOSTICS_H
