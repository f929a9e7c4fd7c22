// Tokeniser for .tl source: Python-style tokens with INDENT/DEDENT/NEWLINE.
#ifndef TLC_FRONTEND_LEXER_H
#define TLC_FRONTEND_LEXER_H

#include "tlc/Frontend/Diagnostics.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tlc {

enum class TokenKind {
  Eof,
  Newline,
  Indent,
  Dedent,
  Identifier,
  Keyword, // text holds the keyword
  Integer,
  Float,
  String,
  Operator, // text holds the operator spelling ("+", "//", "+=", "(", ...)
  Error,    // a lexing error was reported at this position
};

struct Token {
  TokenKind kind = TokenKind::Eof;
  std::string text; // identifier/keyword/operator spelling; decoded string value
  int64_t intValue = 0;
  double floatValue = 0.0;
  SourceLoc loc;
};

/// Splits the whole file into tokens. Lexical errors are reported to `diags`;
/// text that cannot become a token (a bad character or literal) becomes an
/// Error token, so the parser can skip it silently. The result always ends
/// with Eof, after a NEWLINE and the DEDENTs that close every open block.
std::vector<Token> lex(const SourceFile &file, DiagnosticEngine &diags);

/// "end of line", "identifier", ... for messages.
const char *tokenKindName(TokenKind kind);
/// How a token is named in a diagnostic: "'foo'", "'+='", "end of line".
std::string describeToken(const Token &tok);
/// True for the reserved words of docs/language.md §1.
bool isKeyword(std::string_view word);

} // namespace tlc

#endif // TLC_FRONTEND_LEXER_H
