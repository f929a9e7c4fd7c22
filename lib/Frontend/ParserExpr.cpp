// The expression half of the .tl parser (ParserImpl.h): Python's precedence,
// from conditional expressions down to atoms, with nesting bounded.
#include "ParserImpl.h"

namespace tlc::parse {

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

} // namespace tlc::parse
