// ParserImpl.h: the recursive-descent parser class, shared by Parser.cpp
// (module, kernels, statements, recovery) and ParserExpr.cpp
// (expressions). Private to lib/Frontend.
#pragma once

#include "tlc/Frontend/Parser.h"

#include "tlc/Frontend/Lexer.h"

#include <algorithm>
#include <optional>
#include <unordered_set>

namespace tlc::parse {


/// Thrown after an error has been reported; caught at statement boundaries.
struct ParseError {};

/// Deepest nesting of brackets/operators, and of blocks, the parser accepts.
constexpr int kMaxNesting = 200;
constexpr int kMaxBlockNesting = 100;
constexpr const char *kTooLong =
    "expression too long or nested too deeply; split it over several statements";

enum class TypeContext { Constant, CompileParam, Param };

class Parser {
public:
  // The lexer reports into a side engine; its diagnostics are replayed as the
  // parser reaches them, so all messages come out in source order.
  Parser(const SourceFile &file, DiagnosticEngine &diags)
      : diags_(diags), lexDiags_(file), toks_(lex(file, lexDiags_)) {}

  std::unique_ptr<Module> parseModule();

private:
  // --- Token access --------------------------------------------------------
  const Token &tok() const { return toks_[pos_]; }
  const Token &peekTok(size_t ahead = 1) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  const Token &advance() {
    const Token &t = toks_[pos_];
    if (pos_ + 1 < toks_.size())
      ++pos_;
    return t;
  }
  static bool isOpTok(const Token &t, const char *op) {
    return t.kind == TokenKind::Operator && t.text == op;
  }
  static bool isKwTok(const Token &t, const char *kw) {
    return t.kind == TokenKind::Keyword && t.text == kw;
  }
  bool isOp(const char *op) const { return isOpTok(tok(), op); }
  bool isKw(const char *kw) const { return isKwTok(tok(), kw); }
  bool acceptOp(const char *op) {
    if (!isOp(op))
      return false;
    advance();
    return true;
  }
  bool at(TokenKind k) const { return tok().kind == k; }
  bool tooManyErrors() const { return diags_.numErrors() > DiagnosticEngine::kMaxErrors; }

  // --- Errors --------------------------------------------------------------
  /// Reports `msg` at `t` (unless the lexer already reported an error there).
  void report(const Token &t, const std::string &msg) {
    flushLexerDiagnostics(t.loc);
    if (t.kind != TokenKind::Error)
      diags_.error(t.loc, msg);
  }
  void error(SourceLoc loc, const std::string &msg) {
    flushLexerDiagnostics(loc);
    diags_.error(loc, msg);
  }
  /// Replays lexer diagnostics located at or before `loc` (all if invalid).
  void flushLexerDiagnostics(SourceLoc loc) {
    const std::vector<Diagnostic> &lexed = lexDiags_.diagnostics();
    while (nextLexDiag_ < lexed.size()) {
      const Diagnostic &d = lexed[nextLexDiag_];
      if (loc.valid() && (d.loc.line > loc.line || (d.loc.line == loc.line && d.loc.col > loc.col)))
        return;
      diags_.report(d.severity, d.loc, d.message);
      ++nextLexDiag_;
    }
  }
  /// Reports `msg` at `t` and unwinds to the enclosing statement. Running
  /// into the end of the file inside brackets is reported at the bracket.
  [[noreturn]] void fail(const Token &t, const std::string &msg) {
    // Inside brackets the lexer emits NEWLINE/DEDENT only when the file ends
    // or a statement keyword shows that a bracket was never closed.
    bool lineEnded = t.kind == TokenKind::Eof || t.kind == TokenKind::Dedent ||
                     t.kind == TokenKind::Newline;
    if (lineEnded && !openBrackets_.empty()) {
      const Token &opener = *openBrackets_.back();
      report(opener, "'" + opener.text + "' was never closed");
      throw ParseError{};
    }
    // A syntax error right before a lexical one is a consequence of it
    // (an accented name such as "caf\u00e9 = 1"): the lexer says what is wrong.
    bool beforeLexError = &t == &tok() && peekTok().kind == TokenKind::Error;
    if (!beforeLexError)
      report(t, msg);
    throw ParseError{};
  }
  [[noreturn]] void failUnexpected(const Token &t);
  [[noreturn]] void failExpected(const Token &t, const std::string &what);
  void expectCloser(const Token &opener, const char *closer, const char *expected);
  void expectNewline();
  void expectBlockColon(const char *what);
  void synchronize();
  void skipIndentedBlock();

  /// Keeps the stack of open brackets for "'(' was never closed".
  struct BracketGuard {
    Parser &p;
    BracketGuard(Parser &p, const Token &opener) : p(p) { p.openBrackets_.push_back(&opener); }
    ~BracketGuard() { p.openBrackets_.pop_back(); }
  };

  /// Bounds recursion: `counter` is depth_ for expressions, blockDepth_ for
  /// nested blocks; past `limit` the statement is abandoned with an error.
  struct DepthGuard {
    Parser &p;
    int &counter;
    DepthGuard(Parser &p, const Token &t, const char *what)
        : DepthGuard(p, t, what, p.depth_, kMaxNesting) {}
    DepthGuard(Parser &p, const Token &t, const char *what, int &counter, int limit)
        : p(p), counter(counter) {
      if (++counter > limit) {
        --counter;
        p.fail(t, std::string(what) + " nested too deeply");
      }
    }
    ~DepthGuard() { --counter; }
  };

  /// Left-associative chains (a + b + c, f(x)[i].y, elif ...) build trees
  /// as deep as they are long without recursing here; each link counts as
  /// one level so later recursive passes (Sema, the dump, destructors) stay
  /// within the same bound.
  struct ChainGuard {
    Parser &p;
    int &counter;
    int limit;
    const char *what;
    int links = 0;
    ChainGuard(Parser &p, int &counter, int limit, const char *what)
        : p(p), counter(counter), limit(limit), what(what) {}
    void link(const Token &t) {
      if (counter + 1 > limit)
        p.fail(t, what);
      ++counter;
      ++links;
    }
    ~ChainGuard() { counter -= links; }
  };

  // --- Top level -----------------------------------------------------------
  void parseTopLevel(Module &m);
  void parseConstant(Module &m);
  void parseKernel(Module &m, const Token *decorator);
  void parseMacro(Module &m, const Token &decorator);
  void parseCompileParam(KernelDef &k);
  void parseParam(KernelDef &k);
  TypeExpr parseType(TypeContext ctx, const std::string &owner);
  void checkDType(const Expr &e);

  // --- Statements ----------------------------------------------------------
  void parseBlock(Block &out, const char *what, const Token &header);
  void parseStatementInto(Block &out);
  StmtPtr parseStatement();
  StmtPtr parseSimpleStatement();
  StmtPtr parseFor();
  StmtPtr parseWith();
  StmtPtr parseIf();
  std::vector<LoopVar> parseTargets(const char *what);

  // --- Expressions ---------------------------------------------------------
  ExprPtr parseExpr();
  ExprPtr parseOr();
  ExprPtr parseAnd();
  ExprPtr parseNot();
  ExprPtr parseComparison();
  ExprPtr parseBinary(int minPrec);
  ExprPtr parseUnary();
  ExprPtr parsePower();
  ExprPtr parsePostfix();
  ExprPtr parseAtom();
  ExprPtr parseParenthesized();
  void parseCallArgs(CallExpr &call);
  void parseSubscriptIndices(SubscriptExpr &sub);

  DiagnosticEngine &diags_;
  DiagnosticEngine lexDiags_;
  size_t nextLexDiag_ = 0;
  std::vector<Token> toks_;
  std::vector<const Token *> openBrackets_;
  size_t pos_ = 0;
  int depth_ = 0;
  int blockDepth_ = 0;
};

/// Whether `t` closes a bracket.
bool isCloser(const Token &t);

} // namespace tlc::parse
