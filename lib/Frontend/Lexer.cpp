// Tokeniser for .tl source (docs/language.md §1): Python-style tokens with
// NEWLINE/INDENT/DEDENT from an indentation stack, implicit line joining inside
// brackets, backslash continuation, and clang-style errors for bad input.
#include "tlc/Frontend/Lexer.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace tlc {

const char *tokenKindName(TokenKind kind) {
  switch (kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Newline:
    return "end of line";
  case TokenKind::Indent:
    return "indent";
  case TokenKind::Dedent:
    return "dedent";
  case TokenKind::Identifier:
    return "identifier";
  case TokenKind::Keyword:
    return "keyword";
  case TokenKind::Integer:
    return "integer";
  case TokenKind::Float:
    return "float";
  case TokenKind::String:
    return "string";
  case TokenKind::Operator:
    return "operator";
  case TokenKind::Error:
    return "invalid token";
  }
  return "token";
}

std::string describeToken(const Token &tok) {
  switch (tok.kind) {
  case TokenKind::Eof:
  case TokenKind::Newline:
  case TokenKind::Indent:
  case TokenKind::Dedent:
  case TokenKind::Error:
    return tokenKindName(tok.kind);
  case TokenKind::String:
    return "string literal";
  default:
    return "'" + tok.text + "'";
  }
}

bool isKeyword(std::string_view word) {
  static const char *const kKeywords[] = {"def",  "with", "as",  "for",  "in",
                                          "if",   "elif", "else", "and", "or",
                                          "not",  "pass", "True", "False", "range"};
  for (const char *k : kKeywords)
    if (word == k)
      return true;
  return false;
}

namespace {

bool isIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentChar(char c) { return isIdentStart(c) || isDigit(c); }
bool isHexDigit(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Operators, longest first so that maximal munch is a linear scan. The
// augmented forms the language does not support (`//=`, `%=`, ...) are still
// lexed as one token so the parser can say precisely what is wrong.
const char *const kOperators[] = {
    "**=", "//=", "<<=", ">>=", "**", "//", "<<", ">>", "<=", ">=", "==", "!=",
    "+=",  "-=",  "*=",  "/=",  "%=", "&=", "|=", "^=", "->", "+",  "-",  "*",
    "/",   "%",   "&",   "|",   "^",  "~",  "<",  ">",  "=",  ".",  ",",  ":",
    "(",   ")",   "[",   "]",   "{",  "}",  "@",
};

class Lexer {
public:
  Lexer(const SourceFile &file, DiagnosticEngine &diags)
      : src_(file.text()), diags_(diags) {}

  std::vector<Token> run();

private:
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  bool atEnd() const { return pos_ >= src_.size(); }
  SourceLoc here() const { return {line_, static_cast<uint32_t>(pos_ - lineStart_ + 1)}; }
  void newLine() {
    ++line_;
    lineStart_ = pos_;
  }

  Token &push(TokenKind kind, SourceLoc loc, std::string text = {}) {
    Token t;
    t.kind = kind;
    t.loc = loc;
    t.text = std::move(text);
    toks_.push_back(std::move(t));
    return toks_.back();
  }
  void error(SourceLoc loc, std::string msg, std::string text = {}) {
    diags_.error(loc, std::move(msg));
    push(TokenKind::Error, loc, std::move(text));
  }
  /// True once the current logical line has produced a token.
  bool lineHasTokens() const {
    return !toks_.empty() && toks_.back().kind != TokenKind::Newline &&
           toks_.back().kind != TokenKind::Indent && toks_.back().kind != TokenKind::Dedent;
  }

  void lexIndentation();
  /// True if the line at pos_ starts with a keyword that cannot continue an
  /// expression (`def with for pass elif`) or with a decorator `@`.
  bool lineStartsStatement() const {
    size_t p = pos_;
    while (p < src_.size() && (src_[p] == ' ' || src_[p] == '\t'))
      ++p;
    if (p < src_.size() && src_[p] == '@')
      return true;
    size_t end = p;
    while (end < src_.size() && isIdentChar(src_[end]))
      ++end;
    std::string_view word(src_.data() + p, end - p);
    return word == "def" || word == "with" || word == "for" || word == "pass" ||
           word == "elif";
  }
  void lexNumber();
  void lexString();
  void lexIdentifier();
  bool lexOperator();
  /// A closer ends the innermost bracket of its kind and any opened inside
  /// it (the parser reports the mismatch); a closer with no opener of its
  /// kind is left to the parser and changes nothing here.
  void closeBracket(char closer) {
    char opener = closer == ')' ? '(' : closer == ']' ? '[' : '{';
    if (openCount(opener) == 0)
      return; // no opener of this kind: nothing to pop, and no scan
    while (!brackets_.empty()) {
      char top = brackets_.back();
      popBracket();
      if (top == opener)
        return;
    }
  }
  void pushBracket(char opener) {
    brackets_.push_back(opener);
    ++openCount(opener);
  }
  void popBracket() {
    --openCount(brackets_.back());
    brackets_.pop_back();
  }
  void clearBrackets() {
    brackets_.clear();
    openCounts_[0] = openCounts_[1] = openCounts_[2] = 0;
  }
  int &openCount(char opener) {
    return openCounts_[opener == '(' ? 0 : opener == '[' ? 1 : 2];
  }
  void lexBadCharacters();

  const std::string &src_;
  DiagnosticEngine &diags_;
  std::vector<Token> toks_;
  std::vector<uint32_t> indents_{0};
  size_t pos_ = 0;
  size_t lineStart_ = 0;
  uint32_t line_ = 1;
  /// Open brackets, innermost last: inside them newlines and indentation
  /// are not tokens (implicit line joining).
  std::vector<char> brackets_;
  int openCounts_[3] = {0, 0, 0}; // of '(', '[', '{' in brackets_
  bool reportedTab_ = false;
};

// Measures the indentation of the line starting at pos_, skips blank and
// comment-only lines entirely, and emits INDENT/DEDENT against the stack.
void Lexer::lexIndentation() {
  while (!atEnd()) {
    uint32_t width = 0;
    SourceLoc tabLoc;
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\f' || peek() == '\r')) {
      if (peek() == '\t') {
        if (!tabLoc.valid())
          tabLoc = here();
        width = (width / 8 + 1) * 8; // as Python counts them
      } else if (peek() == ' ') {
        ++width;
      }
      ++pos_;
    }
    if (peek() == '#') {
      while (!atEnd() && peek() != '\n')
        ++pos_;
    }
    if (peek() == '\n') { // blank or comment-only line: no tokens at all
      ++pos_;
      newLine();
      continue;
    }
    if (atEnd())
      return;
    // Reported once per file (a tab-indented file would otherwise drown
    // every other message), and only on lines with code.
    if (tabLoc.valid() && !reportedTab_) {
      diags_.error(tabLoc, "tab in indentation; indent with spaces");
      reportedTab_ = true;
    }
    SourceLoc loc = here(); // INDENT/DEDENT sit at the line's first token
    if (width > indents_.back()) {
      indents_.push_back(width);
      push(TokenKind::Indent, loc);
      return;
    }
    while (width < indents_.back()) {
      indents_.pop_back();
      push(TokenKind::Dedent, loc);
    }
    if (width != indents_.back())
      diags_.error(here(), "unindent does not match any outer indentation level");
    return;
  }
}

void Lexer::lexNumber() {
  SourceLoc loc = here();
  size_t start = pos_;
  auto invalid = [&](const char *what) {
    while (isIdentChar(peek()) || peek() == '.')
      ++pos_;
    error(loc, std::string("invalid ") + what + " literal '" +
                   src_.substr(start, pos_ - start) + "'",
          src_.substr(start, pos_ - start));
  };

  // Hexadecimal integers.
  if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
    pos_ += 2;
    uint64_t value = 0;
    bool overflow = false;
    size_t digits = 0;
    while (isHexDigit(peek()) || (peek() == '_' && isHexDigit(peek(1)) && digits > 0)) {
      char c = peek();
      ++pos_;
      if (c == '_')
        continue;
      unsigned d = isDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
      if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / 16)
        overflow = true;
      else
        value = value * 16 + d;
      ++digits;
    }
    if (digits == 0 || isIdentChar(peek()))
      return invalid("hexadecimal");
    if (overflow)
      return error(loc, "integer literal '" + src_.substr(start, pos_ - start) +
                            "' does not fit in 64 bits");
    Token &t = push(TokenKind::Integer, loc, src_.substr(start, pos_ - start));
    t.intValue = static_cast<int64_t>(value);
    return;
  }

  // Decimal integer or float: digits ['.' digits] [exponent], or '.' digits.
  std::string clean;
  auto digitRun = [&]() {
    while (isDigit(peek()) || (peek() == '_' && isDigit(peek(1)) && !clean.empty() &&
                               isDigit(clean.back()))) {
      if (peek() != '_')
        clean += peek();
      ++pos_;
    }
  };
  bool isFloat = false;
  digitRun();
  if (peek() == '.' && !(clean.empty() && !isDigit(peek(1)))) {
    isFloat = true;
    clean += '.';
    ++pos_;
    if (isDigit(peek()))
      digitRun();
  }
  if ((peek() == 'e' || peek() == 'E') &&
      (isDigit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && isDigit(peek(2))))) {
    isFloat = true;
    clean += 'e';
    ++pos_;
    if (peek() == '+' || peek() == '-')
      clean += src_[pos_++];
    digitRun();
  }
  if (isIdentChar(peek()) || (peek() == '.' && isFloat && isDigit(peek(1))))
    return invalid("decimal");
  std::string spelling = src_.substr(start, pos_ - start);

  if (isFloat) {
    errno = 0;
    double v = std::strtod(clean.c_str(), nullptr);
    if (errno == ERANGE && (v > 1.0 || v < -1.0))
      return error(loc, "float literal '" + spelling + "' is out of range");
    Token &t = push(TokenKind::Float, loc, spelling);
    t.floatValue = v;
    return;
  }
  if (clean.size() > 1 && clean[0] == '0' &&
      clean.find_first_not_of('0') != std::string::npos)
    return error(loc, "leading zeros in decimal integer literals are not allowed; use 0x for hex",
                 spelling);
  uint64_t value = 0;
  for (char c : clean) {
    unsigned d = c - '0';
    if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / 10)
      return error(loc, "integer literal '" + spelling + "' does not fit in 64 bits", spelling);
    value = value * 10 + d;
  }
  Token &t = push(TokenKind::Integer, loc, spelling);
  t.intValue = static_cast<int64_t>(value);
}

void Lexer::lexString() {
  SourceLoc loc = here();
  char quote = peek();
  ++pos_;
  std::string value;
  while (true) {
    if (atEnd() || peek() == '\n' || (peek() == '\r' && peek(1) == '\n'))
      return error(loc, "unterminated string literal");
    char c = src_[pos_++];
    if (c == quote)
      break;
    if (c != '\\') {
      value += c;
      continue;
    }
    SourceLoc escLoc{line_, static_cast<uint32_t>(pos_ - lineStart_)};
    char e = peek();
    switch (e) {
    case 'n':
      value += '\n';
      break;
    case 't':
      value += '\t';
      break;
    case '\\':
    case '\'':
    case '"':
      value += e;
      break;
    default:
      if (atEnd() || e == '\n' || e == '\r')
        return error(loc, "unterminated string literal");
      diags_.error(escLoc, std::string("unknown escape sequence '\\") +
                               (e >= 0x20 && e < 0x7f ? std::string(1, e) : "?") +
                               "' (use \\n, \\t, \\\\, \\' or \\\")");
      value += e;
      break;
    }
    ++pos_;
  }
  push(TokenKind::String, loc, std::move(value));
}

void Lexer::lexIdentifier() {
  SourceLoc loc = here();
  size_t start = pos_;
  while (isIdentChar(peek()))
    ++pos_;
  std::string word = src_.substr(start, pos_ - start);
  TokenKind kind = isKeyword(word) ? TokenKind::Keyword : TokenKind::Identifier;
  push(kind, loc, std::move(word));
}

bool Lexer::lexOperator() {
  for (const char *op : kOperators) {
    size_t n = std::strlen(op);
    if (src_.compare(pos_, n, op) != 0)
      continue;
    SourceLoc loc = here();
    pos_ += n;
    if (n == 1 && std::strchr("([{", op[0]))
      pushBracket(op[0]);
    else if (n == 1 && std::strchr(")]}", op[0]))
      closeBracket(op[0]);
    push(TokenKind::Operator, loc, op);
    return true;
  }
  return false;
}

// A run of bytes that cannot start a token is one error, so a stray UTF-8
// character (several bytes) or "$$$" is reported once.
void Lexer::lexBadCharacters() {
  SourceLoc loc = here();
  unsigned char c = static_cast<unsigned char>(peek());
  size_t start = pos_;
  auto startsToken = [&](char ch) {
    return isIdentChar(ch) || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
           ch == '#' || ch == '\'' || ch == '"' || ch == '\\' || ch == '.' || ch == '!' ||
           (ch != '\0' && std::strchr("+-*/%&|^~<>=,:()[]{}@", ch) != nullptr);
  };
  ++pos_;
  // Non-ASCII letters glued to ASCII ones (an accented word) are one would-be
  // identifier: one error.
  auto bad = [&](char ch) {
    return !startsToken(ch) || (c >= 0x80 && (static_cast<unsigned char>(ch) >= 0x80 ||
                                             isIdentChar(ch)));
  };
  while (!atEnd() && bad(peek()))
    ++pos_;
  std::string msg = "unexpected character ";
  if (c >= 0x20 && c < 0x7f) {
    msg += "'" + std::string(1, static_cast<char>(c)) + "'";
  } else {
    char buf[16];
    std::snprintf(buf, sizeof buf, "(byte 0x%02x)", c);
    msg += buf;
  }
  if (c >= 0x80)
    msg += "; identifiers are ASCII, other characters belong in comments and strings";
  error(loc, msg, src_.substr(start, pos_ - start));
}

std::vector<Token> Lexer::run() {
  // A UTF-8 byte order mark (some editors write one) is not content.
  if (src_.compare(0, 3, "\xEF\xBB\xBF") == 0) {
    pos_ = 3;
    lineStart_ = 3;
  }
  lexIndentation();
  while (!atEnd()) {
    char c = peek();
    if (c == '\n') {
      ++pos_;
      SourceLoc nl{line_, static_cast<uint32_t>(pos_ - lineStart_)};
      newLine();
      // A forgotten closing bracket would swallow the rest of the file; a
      // line that can only start a statement ends the open brackets instead
      // (the parser reports the unclosed one) and parsing resumes there.
      if (!brackets_.empty() && lineStartsStatement())
        clearBrackets();
      if (brackets_.empty() && lineHasTokens())
        push(TokenKind::Newline, nl);
      if (brackets_.empty())
        lexIndentation();
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\f' || c == '\r') {
      ++pos_;
      continue;
    }
    if (c == '#') {
      while (!atEnd() && peek() != '\n')
        ++pos_;
      continue;
    }
    if (c == '\\') {
      size_t n = peek(1) == '\r' ? 2 : 1;
      if (peek(n) == '\n') {
        pos_ += n + 1;
        newLine();
        continue;
      }
      if (pos_ + n >= src_.size()) { // a trailing backslash joins with nothing
        pos_ += n;
        continue;
      }
      error(here(), "unexpected character after line continuation character");
      ++pos_;
      continue;
    }
    if (isDigit(c) || (c == '.' && isDigit(peek(1)))) {
      lexNumber();
      continue;
    }
    if (isIdentStart(c)) {
      lexIdentifier();
      continue;
    }
    if (c == '\'' || c == '"') {
      lexString();
      continue;
    }
    if (lexOperator())
      continue;
    lexBadCharacters();
  }
  SourceLoc end = here();
  // Inside an unclosed bracket the line never ended: no NEWLINE, so the
  // parser meets the end of file and reports the bracket that was not closed.
  if (lineHasTokens() && brackets_.empty())
    push(TokenKind::Newline, end);
  while (indents_.size() > 1) {
    indents_.pop_back();
    push(TokenKind::Dedent, end);
  }
  push(TokenKind::Eof, end);
  return std::move(toks_);
}

} // namespace

std::vector<Token> lex(const SourceFile &file, DiagnosticEngine &diags) {
  return Lexer(file, diags).run();
}

} // namespace tlc
