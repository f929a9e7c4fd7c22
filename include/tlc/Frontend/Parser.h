// Recursive-descent parser: tokens -> AST (tlc::Module).
#ifndef TLC_FRONTEND_PARSER_H
#define TLC_FRONTEND_PARSER_H

#include "tlc/Frontend/AST.h"

#include <memory>

namespace tlc {

/// Parses a whole .tl file. Syntax errors are reported to `diags` with their
/// location; the parser recovers at statement boundaries where it can. The
/// returned module is usable only if `diags.hasErrors()` is false.
std::unique_ptr<Module> parseModule(const SourceFile &file, DiagnosticEngine &diags);

} // namespace tlc

#endif // TLC_FRONTEND_PARSER_H
