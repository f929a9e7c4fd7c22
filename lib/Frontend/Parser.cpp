// Recursive-descent parser for .tl (docs/language.md §2 and §5): tokens in,
// AST out. Expressions follow Python's precedence. A syntax error is reported
// once, then the parser skips to the next statement at the same indentation
// and carries on, so one run reports several independent errors. Nesting is
// bounded so hostile input cannot exhaust the stack.
#include "ParserImpl.h"

namespace tlc::parse {

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

} // namespace tlc::parse

namespace tlc {

std::unique_ptr<Module> parseModule(const SourceFile &file, DiagnosticEngine &diags) {
  return parse::Parser(file, diags).parseModule();
}

} // namespace tlc
