// frontend_fuzzer: libFuzzer target for the .tl front end. Every input goes
// through the lexer and parser (diagnostics formatted with source line and
// caret), the AST dump, and, when the parse is clean and this build has
// Sema, semantic analysis and the annotated dump — the path `tlc --emit=ast
// --dump-sema` takes. The front end reports bad input as diagnostics, so any
// crash, sanitizer report, hang or escaping exception is a bug.
#include "tlc/Frontend/AST.h"
#include "tlc/Frontend/Parser.h"
#ifdef TLC_FUZZ_WITH_SEMA
#include "tlc/Frontend/Sema.h"
#endif

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::ostream null(nullptr); // formats everything, writes nothing
  tlc::SourceFile file("fuzz.tl", std::string(reinterpret_cast<const char *>(data), size));
  tlc::DiagnosticEngine diags(file, &null);
  std::unique_ptr<tlc::Module> module = tlc::parseModule(file, diags);
  if (!module)
    return 0;
  tlc::dumpAST(*module, null, /*withSema=*/false);
  if (diags.hasErrors())
    return 0;
#ifdef TLC_FUZZ_WITH_SEMA
  tlc::SemaOptions options;
  tlc::SemaResult result;
  if (tlc::analyze(*module, options, diags, result))
    tlc::dumpAST(*module, null, /*withSema=*/true);
#endif
  return 0;
}
