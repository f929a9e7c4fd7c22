// Recursive-descent parser for .tl (docs/language.md §2 and §5): tokens in,
// AST out. Expressions follow Python's precedence. A syntax error is reported
// once, then the parser skips to the next statement at the same indentation
// and carries on, so one run reports several independent errors. Nesting is
// bounded so hostile input cannot exhaust the stack.
#include "tlc/Frontend/Parser.h"

#include "tlc/Frontend/Lexer.h"

#include <algorithm>
#include <optional>
#include <unordered_set>

namespace tlc {

namespace {

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

//===----------------------------------------------------------------------===//
// Errors and recovery
//===----------------------------------------------------------------------===//

bool isCloser(const Token &t) {
  return t.kind == TokenKind::Operator && (t.text == ")" || t.text == "]" || t.text == "}");
}

void Parser::failUnexpected(const Token &t) {
  if (t.kind == TokenKind::Indent)
    fail(t, "unexpected indent");
  if (isCloser(t))
    fail(t, "unmatched '" + t.text + "'");
  if (isOpTok(t, ":"))
    fail(t, "unexpected ':'; slices are only allowed inside subscripts");
  if (t.kind == TokenKind::Newline || t.kind == TokenKind::Eof)
    fail(t, std::string("unexpected ") + tokenKindName(t.kind));
  fail(t, "unexpected token " + describeToken(t));
}

void Parser::failExpected(const Token &t, const std::string &what) {
  fail(t, "expected " + what + ", found " + describeToken(t));
}

// A missing closer is reported at the opener when the file ends (the usual
// cause is a forgotten ')' that swallowed the rest of the file), otherwise at
// the offending token with a note at the opener.
void Parser::expectCloser(const Token &opener, const char *closer, const char *expected) {
  if (acceptOp(closer))
    return;
  const Token &t = tok();
  if (t.kind == TokenKind::Error)
    throw ParseError{};
  // Inside brackets the lexer emits no line structure, so a DEDENT here
  // means the file ended too.
  if (t.kind == TokenKind::Eof || t.kind == TokenKind::Dedent || t.kind == TokenKind::Newline)
    fail(t, "'" + opener.text + "' was never closed");
  if (isCloser(t)) {
    report(t, "closing '" + t.text + "' does not match '" + opener.text + "'");
  } else if (isOpTok(t, ":")) {
    report(t, "slices are only allowed inside subscripts");
  } else {
    report(t, std::string("expected ") + expected + ", found " + describeToken(t));
  }
  if (t.kind != TokenKind::Error)
    diags_.note(opener.loc, "to match this '" + opener.text + "'");
  throw ParseError{};
}

void Parser::expectNewline() {
  if (at(TokenKind::Newline)) {
    advance();
    return;
  }
  const Token &t = tok();
  if (isOpTok(t, ","))
    fail(t, "unexpected ','; bare tuples and tuple assignment are not supported");
  if (isOpTok(t, "="))
    fail(t, "unexpected '='; chained assignment is not supported");
  failUnexpected(t);
}

// The ':' that opens a block. When only the colon is missing (the line ends
// right there) the error is reported and the block is parsed anyway.
void Parser::expectBlockColon(const char *what) {
  if (acceptOp(":"))
    return;
  std::string msg = std::string("expected ':' after ") + what;
  if (at(TokenKind::Newline)) {
    report(tok(), msg);
    return;
  }
  fail(tok(), msg);
}

void Parser::skipIndentedBlock() {
  int depth = 0;
  do {
    if (at(TokenKind::Indent))
      ++depth;
    else if (at(TokenKind::Dedent))
      --depth;
    else if (at(TokenKind::Eof))
      return;
    advance();
  } while (depth > 0);
}

// Skips the rest of the logical line, and the indented block it opens if
// any, so parsing resumes at the next statement of the same block.
void Parser::synchronize() {
  while (true) {
    const Token &t = tok();
    if (t.kind == TokenKind::Eof || t.kind == TokenKind::Dedent)
      return;
    if (t.kind == TokenKind::Indent) {
      skipIndentedBlock();
      return;
    }
    advance();
    if (t.kind == TokenKind::Newline) {
      if (at(TokenKind::Indent))
        skipIndentedBlock();
      return;
    }
  }
}

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

std::unique_ptr<Module> Parser::parseModule() {
  auto m = std::make_unique<Module>();
  while (!at(TokenKind::Eof)) {
    if (tooManyErrors())
      break;
    if (at(TokenKind::Indent)) {
      report(tok(), "unexpected indent");
      skipIndentedBlock();
      continue;
    }
    if (at(TokenKind::Dedent) || at(TokenKind::Newline)) {
      advance();
      continue;
    }
    try {
      parseTopLevel(*m);
    } catch (const ParseError &) {
      synchronize();
    }
  }
  flushLexerDiagnostics({});
  return m;
}

void Parser::parseTopLevel(Module &m) {
  const Token &t = tok();
  if (isOpTok(t, "@"))
    return parseKernel(m, &t);
  if (isKwTok(t, "def"))
    return parseKernel(m, nullptr);
  if (t.kind == TokenKind::Identifier &&
      (isOpTok(peekTok(), "=") || isOpTok(peekTok(), ":")))
    return parseConstant(m);
  if (t.kind == TokenKind::Keyword &&
      (t.text == "with" || t.text == "for" || t.text == "if" || t.text == "pass"))
    fail(t, "'" + t.text + "' statements are only allowed inside a kernel");
  if (t.kind == TokenKind::Error)
    throw ParseError{};
  fail(t, "expected a module constant (NAME = value) or a @T.kernel definition, found " +
              describeToken(t));
}

void Parser::parseConstant(Module &m) {
  ConstantDef c;
  c.name = tok().text;
  c.loc = tok().loc;
  advance();
  if (acceptOp(":"))
    c.type = parseType(TypeContext::Constant, "constant '" + c.name + "'");
  if (!acceptOp("="))
    failExpected(tok(), "'=' and a value for constant '" + c.name + "'");
  c.value = parseExpr();
  expectNewline();
  m.constants.push_back(std::move(c));
  m.order.push_back(true);
}

void Parser::parseKernel(Module &m, const Token *decorator) {
  KernelDef k;
  if (decorator) {
    k.decoratorLoc = decorator->loc;
    advance(); // '@'
    const Token &nameTok = tok();
    if (nameTok.kind != TokenKind::Identifier)
      failExpected(nameTok, "a decorator name after '@'");
    std::string name = advance().text;
    while (isOp(".") && peekTok().kind == TokenKind::Identifier) {
      advance();
      name += "." + advance().text;
    }
    if (name == "T.macro")
      return parseMacro(m, *decorator);
    if (name != "T.kernel")
      report(nameTok, "unknown decorator '@" + name + "'; use @T.kernel or @T.macro");
    if (isOp("("))
      fail(tok(), "@T.kernel takes no arguments");
    expectNewline();
    if (!isKw("def"))
      failExpected(tok(), "'def' after @T.kernel");
  } else {
    report(tok(), "a kernel needs the @T.kernel decorator on the line before 'def'");
  }
  const Token &defTok = advance();
  k.loc = defTok.loc;
  if (!at(TokenKind::Identifier))
    failExpected(tok(), "a kernel name after 'def'");
  k.name = advance().text;

  if (isOp("[")) {
    const Token &opener = advance();
    BracketGuard bracket(*this, opener);
    if (isOp("]"))
      fail(tok(), "empty compile-time parameter list; drop the '[]'");
    while (true) {
      parseCompileParam(k);
      if (!acceptOp(",") || isOp("]"))
        break;
    }
    expectCloser(opener, "]", "',' or ']' in the compile-time parameter list");
  }
  if (!isOp("("))
    failExpected(tok(), "'(' and the parameter list of kernel '" + k.name + "'");
  {
    const Token &opener = advance();
    BracketGuard bracket(*this, opener);
    while (!isOp(")")) {
      parseParam(k);
      if (!acceptOp(","))
        break;
    }
    expectCloser(opener, ")", "',' or ')' in the parameter list");
  }
  if (isOp("->"))
    fail(tok(), "kernels return nothing; remove the return annotation");
  expectBlockColon("the kernel signature");
  parseBlock(k.body, "kernel", defTok);
  m.kernels.push_back(std::move(k));
  m.order.push_back(false);
}

void Parser::parseMacro(Module &m, const Token &decorator) {
  MacroDef d;
  d.decoratorLoc = decorator.loc;
  if (isOp("(")) {
    // Reported, then skipped, so the `def` below still parses as the macro.
    report(tok(), "@T.macro takes no arguments");
    while (!at(TokenKind::Newline) && !at(TokenKind::Eof))
      advance();
  }
  expectNewline();
  if (!isKw("def"))
    failExpected(tok(), "'def' after @T.macro");
  const Token &defTok = advance();
  d.loc = defTok.loc;
  if (!at(TokenKind::Identifier))
    failExpected(tok(), "a macro name after 'def'");
  d.name = advance().text;
  if (isOp("["))
    fail(tok(), "a macro has no compile-time parameter list; pass constants as arguments");
  if (!isOp("("))
    failExpected(tok(), "'(' and the parameter list of macro '" + d.name + "'");
  {
    const Token &opener = advance();
    BracketGuard bracket(*this, opener);
    while (!isOp(")")) {
      if (!at(TokenKind::Identifier))
        failExpected(tok(), "a parameter name");
      d.params.push_back({tok().text, tok().loc, nullptr});
      advance();
      if (isOp(":"))
        fail(tok(), "macro parameters are untyped: each takes the kind of its argument");
      if (isOp("="))
        fail(tok(), "macro parameters cannot have defaults");
      if (!acceptOp(","))
        break;
    }
    expectCloser(opener, ")", "',' or ')' in the parameter list");
  }
  if (isOp("->"))
    fail(tok(), "macros return nothing; remove the return annotation");
  expectBlockColon("the macro signature");
  parseBlock(d.body, "macro", defTok);
  m.macros.push_back(std::move(d));
}

void Parser::parseCompileParam(KernelDef &k) {
  if (!at(TokenKind::Identifier))
    failExpected(tok(), "a compile-time parameter name");
  CompileParam p;
  p.name = tok().text;
  p.loc = tok().loc;
  advance();
  if (!acceptOp(":"))
    failExpected(tok(), "':' and a type (int, float, bool or T.dtype) after compile-time "
                        "parameter '" + p.name + "'");
  p.type = parseType(TypeContext::CompileParam, "compile-time parameter '" + p.name + "'");
  if (acceptOp("="))
    p.defaultValue = parseExpr();
  k.compileParams.push_back(std::move(p));
}

void Parser::parseParam(KernelDef &k) {
  if (!at(TokenKind::Identifier))
    failExpected(tok(), "a parameter name");
  Param p;
  p.name = tok().text;
  p.loc = tok().loc;
  advance();
  if (!acceptOp(":"))
    failExpected(tok(), "':' and a type after parameter '" + p.name + "'");
  p.type = parseType(TypeContext::Param, "parameter '" + p.name + "'");
  if (isOp("="))
    fail(tok(), "parameter '" + p.name +
                    "' cannot have a default; make it a compile-time parameter in [...]");
  k.params.push_back(std::move(p));
}

void Parser::checkDType(const Expr &e) {
  if (isa<NameExpr>(&e))
    return; // a T.dtype compile-time parameter; Sema resolves it
  if (const auto *a = dyn_cast<AttributeExpr>(&e)) {
    std::string name = a->dottedName();
    if (name.rfind("T.", 0) == 0 && name.find('.', 2) == std::string::npos) {
      if (!parseDType(name.substr(2)))
        error(e.loc, "unknown dtype '" + name + "'");
      return;
    }
  }
  error(e.loc, "expected a dtype such as T.bfloat16, found '" + exprToString(e) + "'");
}

// Types are parsed as postfix expressions and then checked for the shapes
// the grammar allows; a wrong type is reported without stopping the parse.
TypeExpr Parser::parseType(TypeContext ctx, const std::string &owner) {
  TypeExpr type;
  type.loc = tok().loc;
  ExprPtr e;
  {
    DepthGuard guard(*this, tok(), "type");
    e = parsePostfix();
  }
  auto bad = [&](const std::string &msg) { error(e->loc, msg); };

  if (ctx == TypeContext::CompileParam) {
    const auto *n = dyn_cast<NameExpr>(e.get());
    const auto *a = dyn_cast<AttributeExpr>(e.get());
    bool ok = (n && (n->name == "int" || n->name == "float" || n->name == "bool")) ||
              (a && a->dottedName() == "T.dtype");
    if (!ok)
      bad("the type of " + owner + " must be int, float, bool or T.dtype, not '" +
          exprToString(*e) + "'");
    type.elementType = std::move(e);
    return type;
  }

  if (auto *sub = dyn_cast<SubscriptExpr>(e.get())) {
    const auto *base = dyn_cast<AttributeExpr>(sub->base.get());
    if (base && base->dottedName() == "T.Tensor") {
      type.isTensor = true;
      if (ctx != TypeContext::Param) {
        bad("a tensor type is only allowed for kernel parameters");
      } else if (sub->indices.size() != 2) {
        bad("T.Tensor expects a shape and a dtype: T.Tensor[(M, K), T.bfloat16]");
      } else if (auto *shape = dyn_cast<TupleExpr>(sub->indices[0].get())) {
        if (shape->elements.empty())
          bad("a tensor shape needs at least one dimension");
        type.dims = std::move(shape->elements);
        checkDType(*sub->indices[1]);
        type.elementType = std::move(sub->indices[1]);
      } else {
        error(sub->indices[0]->loc,
                     "a tensor shape is a parenthesised tuple such as (M, K) or (N,)");
      }
      if (!type.elementType)
        type.elementType = std::move(e);
      return type;
    }
  }
  if (const auto *a = dyn_cast<AttributeExpr>(e.get())) {
    std::string name = a->dottedName();
    if (name == "T.Tensor")
      bad("T.Tensor needs a shape and a dtype: T.Tensor[(M, K), T.bfloat16]");
    else if (name == "T.dtype")
      bad("'T.dtype' is only allowed for compile-time parameters");
    else
      checkDType(*e);
  } else if (!isa<NameExpr>(e.get())) {
    bad("expected a type such as int, T.float32 or T.Tensor[(M, K), T.bfloat16], found '" +
        exprToString(*e) + "'");
  }
  type.elementType = std::move(e);
  return type;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

void Parser::parseBlock(Block &out, const char *what, const Token &header) {
  if (!at(TokenKind::Newline))
    fail(tok(), std::string("expected a new line after ':'; the body of the ") + what +
                    " goes on the following lines, indented");
  advance();
  if (!at(TokenKind::Indent)) {
    report(tok(), std::string("expected an indented block after the ") + what +
                      " on line " + std::to_string(header.loc.line));
    return;
  }
  DepthGuard guard(*this, tok(), "blocks", blockDepth_, kMaxBlockNesting);
  advance();
  while (!at(TokenKind::Dedent) && !at(TokenKind::Eof)) {
    if (tooManyErrors()) {
      pos_ = toks_.size() - 1;
      return;
    }
    parseStatementInto(out);
  }
  advance();
}

void Parser::parseStatementInto(Block &out) {
  int depth = depth_, blockDepth = blockDepth_;
  try {
    if (StmtPtr s = parseStatement())
      out.push_back(std::move(s));
  } catch (const ParseError &) {
    synchronize();
    depth_ = depth;
    blockDepth_ = blockDepth;
  }
}

const std::unordered_set<std::string> &unsupportedStatements() {
  static const std::unordered_set<std::string> kWords = {
      "return", "while", "import", "from",  "class",
      "lambda", "del",   "global", "nonlocal", "try",   "except", "finally",
      "raise",  "assert", "yield", "async",   "await"};
  return kWords;
}

StmtPtr Parser::parseStatement() {
  const Token &t = tok();
  if (t.kind == TokenKind::Indent) {
    report(t, "unexpected indent");
    skipIndentedBlock();
    return nullptr;
  }
  if (t.kind == TokenKind::Keyword) {
    if (t.text == "for")
      return parseFor();
    if (t.text == "with")
      return parseWith();
    if (t.text == "if")
      return parseIf();
    if (t.text == "pass") {
      advance();
      expectNewline();
      return std::make_unique<PassStmt>(t.loc);
    }
    if (t.text == "elif" || t.text == "else")
      fail(t, "'" + t.text + "' without a matching 'if'");
    if (t.text == "def")
      fail(t, "kernels are defined at the top level of a file, not inside a block");
  }
  if (isOpTok(t, "@"))
    fail(t, "decorators are only allowed before a kernel at the top level");
  if (t.kind == TokenKind::Identifier && (t.text == "break" || t.text == "continue") &&
      (peekTok().kind == TokenKind::Newline || peekTok().kind == TokenKind::Eof ||
       peekTok().kind == TokenKind::Dedent)) {
    advance();
    expectNewline();
    return std::make_unique<JumpStmt>(t.loc, t.text == "break");
  }
  if (t.kind == TokenKind::Identifier && unsupportedStatements().count(t.text)) {
    const Token &next = peekTok();
    if (next.kind != TokenKind::Operator || next.text == "(" || next.text == "-")
      fail(t, "'" + t.text + "' is not supported in .tl");
  }
  return parseSimpleStatement();
}

StmtPtr Parser::parseSimpleStatement() {
  SourceLoc loc = tok().loc;
  ExprPtr e = parseExpr();
  const Token &t = tok();
  if (isOpTok(t, "=")) {
    switch (e->kind) {
    case ExprKind::Name:
      if (static_cast<const NameExpr *>(e.get())->name == "range")
        error(e->loc, "cannot assign to 'range'");
      break;
    case ExprKind::Subscript:
      break;
    case ExprKind::Tuple:
      error(e->loc, "tuple assignment is not supported; assign one name per statement");
      break;
    case ExprKind::Call:
      error(e->loc, "cannot assign to a function call");
      break;
    case ExprKind::Attribute:
      error(e->loc, "cannot assign to an attribute");
      break;
    case ExprKind::IntLit:
    case ExprKind::FloatLit:
    case ExprKind::BoolLit:
    case ExprKind::StringLit:
      error(e->loc, "cannot assign to a literal");
      break;
    default:
      error(e->loc, "cannot assign to an expression; the target must be a name or "
                           "a buffer element buf[i]");
    }
    advance();
    ExprPtr value = parseExpr();
    expectNewline();
    return std::make_unique<AssignStmt>(loc, std::move(e), std::move(value));
  }
  if (t.kind == TokenKind::Operator &&
      (t.text == "+=" || t.text == "-=" || t.text == "*=" || t.text == "/=")) {
    BinaryOp op = t.text == "+=" ? BinaryOp::Add
                  : t.text == "-=" ? BinaryOp::Sub
                  : t.text == "*=" ? BinaryOp::Mul
                                   : BinaryOp::Div;
    if (const auto *n = dyn_cast<NameExpr>(e.get()))
      error(e->loc, "cannot rebind '" + n->name + "'; use a T.alloc_local buffer");
    else if (!isa<SubscriptExpr>(e.get()))
      error(e->loc, "the target of '" + t.text +
                               "' must be a buffer element such as buf[i]");
    advance();
    ExprPtr value = parseExpr();
    expectNewline();
    return std::make_unique<AugAssignStmt>(loc, op, std::move(e), std::move(value));
  }
  if (isOpTok(t, ":") && isOpTok(peekTok(), "="))
    fail(t, "':=' is not supported; assign with '=' on a line of its own");
  if (isOpTok(t, ":") && isa<NameExpr>(e.get()))
    fail(t, "type annotations on local names are not supported; a name takes the type of "
            "its value");
  if (t.kind == TokenKind::Operator && t.text.size() >= 2 && t.text.back() == '=' &&
      t.text != "==" && t.text != "<=" && t.text != ">=" && t.text != "!=")
    fail(t, "augmented assignment '" + t.text + "' is not supported; use +=, -=, *= or /=");
  expectNewline();
  return std::make_unique<ExprStmt>(loc, std::move(e));
}

std::vector<LoopVar> Parser::parseTargets(const char *what) {
  std::vector<LoopVar> vars;
  auto name = [&]() {
    if (!at(TokenKind::Identifier))
      failExpected(tok(), std::string("a name in the ") + what);
    vars.push_back({tok().text, tok().loc, nullptr});
    advance();
  };
  if (isOp("(")) {
    const Token &opener = advance();
    BracketGuard bracket(*this, opener);
    while (true) {
      name();
      if (!acceptOp(",") || isOp(")"))
        break;
    }
    expectCloser(opener, ")", "',' or ')' in the name list");
    return vars;
  }
  name();
  while (acceptOp(","))
    name();
  return vars;
}

StmtPtr Parser::parseFor() {
  const Token &forTok = advance();
  auto s = std::make_unique<ForStmt>(forTok.loc);
  s->vars = parseTargets("loop variables");
  if (!isKw("in"))
    failExpected(tok(), "'in' after the loop variables");
  advance();
  s->iter = parseExpr();
  if (!isa<CallExpr>(s->iter.get()))
    error(s->iter->loc, "expected a loop such as range(n), T.serial(n), "
                               "T.Pipelined(n, num_stages=s) or T.Parallel(m, n) after 'in'");
  expectBlockColon("the for header");
  parseBlock(s->body, "'for' statement", forTok);
  return s;
}

StmtPtr Parser::parseWith() {
  const Token &withTok = advance();
  ExprPtr ctx = parseExpr();
  bool noBoundsCheck = false;
  if (const auto *call = dyn_cast<CallExpr>(ctx.get())) {
    noBoundsCheck = call->calleeName() == "T.no_bounds_check";
    if (call->calleeName() != "T.Kernel" && !noBoundsCheck)
      error(ctx->loc, "only 'with T.Kernel(...)' and 'with T.no_bounds_check()' are supported, "
                      "not '" + exprToString(*call->callee) + "'");
  } else {
    error(ctx->loc, "expected T.Kernel(...) or T.no_bounds_check() after 'with'");
  }
  auto s = std::make_unique<WithStmt>(withTok.loc, std::move(ctx));
  if (noBoundsCheck) {
    // No names: `with T.no_bounds_check():`.
    if (isKw("as"))
      fail(tok(), "'with T.no_bounds_check()' binds no names; remove 'as ...'");
    expectBlockColon("with T.no_bounds_check()");
    parseBlock(s->body, "'with' statement", withTok);
    return s;
  }
  if (!isKw("as"))
    failExpected(tok(), "'as' and the block index names after T.Kernel(...)");
  advance();
  s->vars = parseTargets("block index names");
  expectBlockColon("the with header");
  parseBlock(s->body, "'with' statement", withTok);
  return s;
}

StmtPtr Parser::parseIf() {
  const Token &ifTok = advance();
  ExprPtr cond = parseExpr();
  auto s = std::make_unique<IfStmt>(ifTok.loc, std::move(cond));
  expectBlockColon("the if condition");
  parseBlock(s->thenBody, "'if' statement", ifTok);
  IfStmt *last = s.get();
  // Each elif is an IfStmt nested in the previous one's else branch.
  ChainGuard chain(*this, blockDepth_, kMaxBlockNesting, "blocks nested too deeply");
  while (isKw("elif")) {
    chain.link(tok());
    const Token &elifTok = advance();
    ExprPtr c = parseExpr();
    auto elif = std::make_unique<IfStmt>(elifTok.loc, std::move(c));
    elif->isElif = true;
    IfStmt *next = elif.get();
    last->elseBody.push_back(std::move(elif));
    last = next;
    expectBlockColon("the elif condition");
    parseBlock(last->thenBody, "'elif' statement", elifTok);
  }
  if (isKw("else")) {
    const Token &elseTok = advance();
    if (isKw("if"))
      fail(tok(), "expected ':' after 'else'; write 'elif' for an else-if");
    expectBlockColon("'else'");
    parseBlock(last->elseBody, "'else' statement", elseTok);
  }
  return s;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

ExprPtr Parser::parseExpr() {
  DepthGuard guard(*this, tok(), "expression");
  ExprPtr e = parseOr();
  if (!isKw("if"))
    return e;
  advance();
  ExprPtr cond = parseOr();
  if (!isKw("else"))
    failExpected(tok(), "'else' in the conditional expression");
  advance();
  ExprPtr other = parseExpr();
  SourceLoc loc = e->loc;
  return std::make_unique<IfExpExpr>(loc, std::move(e), std::move(cond), std::move(other));
}

ExprPtr Parser::parseOr() {
  ExprPtr lhs = parseAnd();
  ChainGuard chain(*this, depth_, kMaxNesting, kTooLong);
  while (isKw("or")) {
    chain.link(tok());
    SourceLoc opLoc = advance().loc;
    ExprPtr rhs = parseAnd();
    SourceLoc loc = lhs->loc;
    lhs = std::make_unique<BinaryExpr>(loc, BinaryOp::Or, std::move(lhs), std::move(rhs), opLoc);
  }
  return lhs;
}

ExprPtr Parser::parseAnd() {
  ExprPtr lhs = parseNot();
  ChainGuard chain(*this, depth_, kMaxNesting, kTooLong);
  while (isKw("and")) {
    chain.link(tok());
    SourceLoc opLoc = advance().loc;
    ExprPtr rhs = parseNot();
    SourceLoc loc = lhs->loc;
    lhs = std::make_unique<BinaryExpr>(loc, BinaryOp::And, std::move(lhs), std::move(rhs), opLoc);
  }
  return lhs;
}

ExprPtr Parser::parseNot() {
  if (!isKw("not"))
    return parseComparison();
  DepthGuard guard(*this, tok(), "expression");
  SourceLoc loc = advance().loc;
  ExprPtr operand = parseNot();
  return std::make_unique<UnaryExpr>(loc, UnaryOp::Not, std::move(operand));
}

std::optional<BinaryOp> comparisonOp(const Token &t) {
  if (t.kind != TokenKind::Operator)
    return std::nullopt;
  if (t.text == "<")
    return BinaryOp::Lt;
  if (t.text == "<=")
    return BinaryOp::Le;
  if (t.text == ">")
    return BinaryOp::Gt;
  if (t.text == ">=")
    return BinaryOp::Ge;
  if (t.text == "==")
    return BinaryOp::Eq;
  if (t.text == "!=")
    return BinaryOp::Ne;
  return std::nullopt;
}

ExprPtr Parser::parseComparison() {
  ExprPtr lhs = parseBinary(6);
  std::optional<BinaryOp> op = comparisonOp(tok());
  if (!op)
    return lhs;
  SourceLoc opLoc = advance().loc;
  ExprPtr rhs = parseBinary(6);
  if (comparisonOp(tok()))
    fail(tok(), "comparisons cannot be chained; combine them with 'and'");
  SourceLoc loc = lhs->loc;
  return std::make_unique<BinaryExpr>(loc, *op, std::move(lhs), std::move(rhs), opLoc);
}

/// The binary operators handled by precedence climbing (| down to * / // %).
std::optional<BinaryOp> arithmeticOp(const Token &t) {
  if (t.kind != TokenKind::Operator)
    return std::nullopt;
  static const std::pair<const char *, BinaryOp> kOps[] = {
      {"|", BinaryOp::BitOr},  {"^", BinaryOp::BitXor},  {"&", BinaryOp::BitAnd},
      {"<<", BinaryOp::Shl},   {">>", BinaryOp::Shr},    {"+", BinaryOp::Add},
      {"-", BinaryOp::Sub},    {"*", BinaryOp::Mul},     {"/", BinaryOp::Div},
      {"//", BinaryOp::FloorDiv}, {"%", BinaryOp::Mod},
  };
  for (const auto &[spelling, op] : kOps)
    if (t.text == spelling)
      return op;
  return std::nullopt;
}

ExprPtr Parser::parseBinary(int minPrec) {
  ExprPtr lhs = parseUnary();
  ChainGuard chain(*this, depth_, kMaxNesting, kTooLong);
  while (true) {
    std::optional<BinaryOp> op = arithmeticOp(tok());
    if (!op || precedence(*op) < minPrec)
      return lhs;
    chain.link(tok());
    SourceLoc opLoc = advance().loc;
    ExprPtr rhs = parseBinary(precedence(*op) + 1);
    SourceLoc loc = lhs->loc;
    lhs = std::make_unique<BinaryExpr>(loc, *op, std::move(lhs), std::move(rhs), opLoc);
  }
}

ExprPtr Parser::parseUnary() {
  const Token &t = tok();
  UnaryOp op;
  if (isOpTok(t, "-"))
    op = UnaryOp::Neg;
  else if (isOpTok(t, "+"))
    op = UnaryOp::Pos;
  else if (isOpTok(t, "~"))
    op = UnaryOp::Invert;
  else
    return parsePower();
  DepthGuard guard(*this, t, "expression");
  advance();
  ExprPtr operand = parseUnary();
  return std::make_unique<UnaryExpr>(t.loc, op, std::move(operand));
}

// `**` binds tighter than a unary operator on its left (-2**2 == -(2**2))
// and is right-associative, with a unary operand allowed on its right.
ExprPtr Parser::parsePower() {
  ExprPtr base = parsePostfix();
  if (!isOp("**"))
    return base;
  DepthGuard guard(*this, tok(), "expression");
  SourceLoc opLoc = advance().loc;
  ExprPtr exponent = parseUnary();
  SourceLoc loc = base->loc;
  return std::make_unique<BinaryExpr>(loc, BinaryOp::Pow, std::move(base), std::move(exponent),
                                      opLoc);
}

ExprPtr Parser::parsePostfix() {
  ExprPtr e = parseAtom();
  ChainGuard chain(*this, depth_, kMaxNesting, kTooLong);
  while (true) {
    if (isOp("(") || isOp("[") || isOp("."))
      chain.link(tok());
    if (isOp("(")) {
      SourceLoc loc = e->loc;
      auto call = std::make_unique<CallExpr>(loc, std::move(e));
      parseCallArgs(*call);
      e = std::move(call);
    } else if (isOp("[")) {
      SourceLoc loc = e->loc;
      auto sub = std::make_unique<SubscriptExpr>(loc, std::move(e));
      parseSubscriptIndices(*sub);
      e = std::move(sub);
    } else if (isOp(".")) {
      advance();
      if (!at(TokenKind::Identifier))
        failExpected(tok(), "an attribute name after '.'");
      SourceLoc loc = e->loc;
      e = std::make_unique<AttributeExpr>(loc, std::move(e), advance().text);
    } else {
      return e;
    }
  }
}

void Parser::parseCallArgs(CallExpr &call) {
  const Token &opener = advance();
  BracketGuard bracket(*this, opener);
  std::unordered_set<std::string> seen; // keeps many keywords linear
  while (!isOp(")")) {
    if (at(TokenKind::Identifier) && isOpTok(peekTok(), "=")) {
      KeywordArg kw;
      kw.name = tok().text;
      kw.loc = tok().loc;
      if (!seen.insert(kw.name).second)
        report(tok(), "keyword argument '" + kw.name + "' is given twice");
      advance();
      advance();
      kw.value = parseExpr();
      call.kwargs.push_back(std::move(kw));
    } else {
      if (!call.kwargs.empty())
        report(tok(), "positional argument follows keyword argument");
      call.args.push_back(parseExpr());
    }
    if (!acceptOp(","))
      break;
  }
  expectCloser(opener, ")", "',' or ')' in the argument list");
}

void Parser::parseSubscriptIndices(SubscriptExpr &sub) {
  const Token &opener = advance();
  BracketGuard bracket(*this, opener);
  if (isOp("]"))
    fail(tok(), "expected an index between '[' and ']'");
  while (!isOp("]")) {
    ExprPtr lower;
    SourceLoc loc = tok().loc;
    if (!isOp(":"))
      lower = parseExpr();
    if (isOp(":")) {
      advance();
      ExprPtr upper;
      if (!isOp(",") && !isOp("]") && !isOp(":"))
        upper = parseExpr();
      if (isOp(":"))
        fail(tok(), "slice steps are not supported");
      sub.indices.push_back(std::make_unique<SliceExpr>(loc, std::move(lower), std::move(upper)));
    } else {
      sub.indices.push_back(std::move(lower));
    }
    if (!acceptOp(","))
      break;
  }
  expectCloser(opener, "]", "',' or ']' in the subscript");
}

ExprPtr Parser::parseParenthesized() {
  const Token &opener = advance();
  BracketGuard bracket(*this, opener);
  if (acceptOp(")"))
    return std::make_unique<TupleExpr>(opener.loc);
  ExprPtr first = parseExpr();
  if (!isOp(",")) {
    expectCloser(opener, ")", "',' or ')'");
    return first;
  }
  auto tuple = std::make_unique<TupleExpr>(opener.loc);
  tuple->elements.push_back(std::move(first));
  while (acceptOp(",")) {
    if (isOp(")"))
      break;
    tuple->elements.push_back(parseExpr());
  }
  expectCloser(opener, ")", "',' or ')' in the tuple");
  return tuple;
}

ExprPtr Parser::parseAtom() {
  const Token &t = tok();
  switch (t.kind) {
  case TokenKind::Identifier:
    advance();
    return std::make_unique<NameExpr>(t.loc, t.text);
  case TokenKind::Integer:
    advance();
    return std::make_unique<IntLitExpr>(t.loc, t.intValue);
  case TokenKind::Float:
    advance();
    return std::make_unique<FloatLitExpr>(t.loc, t.floatValue);
  case TokenKind::String: {
    // Adjacent string literals concatenate, as in Python.
    std::string value;
    while (at(TokenKind::String))
      value += advance().text;
    return std::make_unique<StringLitExpr>(t.loc, std::move(value));
  }
  case TokenKind::Keyword:
    if (t.text == "True" || t.text == "False") {
      advance();
      return std::make_unique<BoolLitExpr>(t.loc, t.text == "True");
    }
    if (t.text == "range") { // a keyword so it cannot be rebound; a name here
      advance();
      return std::make_unique<NameExpr>(t.loc, t.text);
    }
    break;
  case TokenKind::Operator:
    if (t.text == "(")
      return parseParenthesized();
    if (t.text == "[")
      fail(t, "lists are not supported; use a tuple such as (a, b)");
    if (t.text == "{")
      fail(t, "'{' is not supported; .tl has no dicts or sets");
    if (isCloser(t))
      fail(t, "unmatched '" + t.text + "'");
    break;
  case TokenKind::Error:
    throw ParseError{};
  default:
    break;
  }
  failExpected(t, "an expression");
}

} // namespace

std::unique_ptr<Module> parseModule(const SourceFile &file, DiagnosticEngine &diags) {
  return Parser(file, diags).parseModule();
}

} // namespace tlc
