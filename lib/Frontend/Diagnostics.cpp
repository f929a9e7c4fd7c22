// Implementation of SourceFile line lookup and clang-style diagnostic printing.
#include "tlc/Frontend/Diagnostics.h"

#include <ostream>

namespace tlc {

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n')
      lineStarts_.push_back(i + 1);
}

std::string_view SourceFile::lineText(uint32_t line) const {
  if (line == 0 || line > lineStarts_.size())
    return {};
  size_t begin = lineStarts_[line - 1];
  size_t end = text_.find('\n', begin);
  if (end == std::string::npos)
    end = text_.size();
  if (end > begin && text_[end - 1] == '\r')
    --end;
  return std::string_view(text_).substr(begin, end - begin);
}

static const char *severityName(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

std::string DiagnosticEngine::format(const Diagnostic &d) const {
  std::string out = file_.path();
  if (d.loc.valid())
    out += ":" + std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col);
  out += ": ";
  out += severityName(d.severity);
  out += ": ";
  out += d.message;
  out += "\n";
  if (!d.loc.valid())
    return out;
  std::string_view line = file_.lineText(d.loc.line);
  // Print the line with control bytes made visible-safe, and a caret under
  // the column; tabs are kept so the caret lines up in a terminal.
  std::string shown;
  std::string caret;
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    shown += (c < 0x20 && c != '\t') ? ' ' : static_cast<char>(c);
    if (i + 1 < d.loc.col)
      caret += (c == '\t') ? '\t' : ' ';
  }
  for (size_t i = line.size(); i + 1 < d.loc.col && caret.size() < 4096; ++i)
    caret += ' ';
  out += shown + "\n" + caret + "^\n";
  return out;
}

void DiagnosticEngine::report(Severity severity, SourceLoc loc,
                              std::string message) {
  if (severity == Severity::Error) {
    if (numErrors_ >= kMaxErrors) {
      ++numErrors_;
      return;
    }
    ++numErrors_;
  }
  diags_.push_back({severity, loc, std::move(message)});
  if (out_) {
    *out_ << format(diags_.back());
    if (severity == Severity::Error && numErrors_ == kMaxErrors)
      *out_ << file_.path() << ": note: too many errors, stopping\n";
  }
}

} // namespace tlc
