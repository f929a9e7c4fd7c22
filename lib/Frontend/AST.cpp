// Helpers on AST nodes: operator spellings, dotted names of attribute chains,
// call keyword lookup, and printing an expression back as source text.
#include "tlc/Frontend/AST.h"

namespace tlc {

const char *toString(UnaryOp op) {
  switch (op) {
  case UnaryOp::Neg:
    return "-";
  case UnaryOp::Pos:
    return "+";
  case UnaryOp::Not:
    return "not";
  case UnaryOp::Invert:
    return "~";
  }
  return "?";
}

const char *toString(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::FloorDiv:
    return "//";
  case BinaryOp::Mod:
    return "%";
  case BinaryOp::Pow:
    return "**";
  case BinaryOp::Shl:
    return "<<";
  case BinaryOp::Shr:
    return ">>";
  case BinaryOp::BitAnd:
    return "&";
  case BinaryOp::BitOr:
    return "|";
  case BinaryOp::BitXor:
    return "^";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::And:
    return "and";
  case BinaryOp::Or:
    return "or";
  }
  return "?";
}

int precedence(BinaryOp op) {
  switch (op) {
  case BinaryOp::Or:
    return 2;
  case BinaryOp::And:
    return 3;
  case BinaryOp::Lt:
  case BinaryOp::Le:
  case BinaryOp::Gt:
  case BinaryOp::Ge:
  case BinaryOp::Eq:
  case BinaryOp::Ne:
    return 5;
  case BinaryOp::BitOr:
    return 6;
  case BinaryOp::BitXor:
    return 7;
  case BinaryOp::BitAnd:
    return 8;
  case BinaryOp::Shl:
  case BinaryOp::Shr:
    return 9;
  case BinaryOp::Add:
  case BinaryOp::Sub:
    return 10;
  case BinaryOp::Mul:
  case BinaryOp::Div:
  case BinaryOp::FloorDiv:
  case BinaryOp::Mod:
    return 11;
  case BinaryOp::Pow:
    return 13;
  }
  return 0;
}

std::string AttributeExpr::dottedName() const {
  std::string prefix;
  if (const auto *n = dyn_cast<NameExpr>(base.get()))
    prefix = n->name;
  else if (const auto *a = dyn_cast<AttributeExpr>(base.get()))
    prefix = a->dottedName();
  if (prefix.empty())
    return "";
  return prefix + "." + attr;
}

bool WithStmt::isNoBoundsCheck() const {
  const auto *call = dyn_cast<CallExpr>(context.get());
  return call && call->calleeName() == "T.no_bounds_check";
}

std::string CallExpr::calleeName() const {
  if (const auto *n = dyn_cast<NameExpr>(callee.get()))
    return n->name;
  if (const auto *a = dyn_cast<AttributeExpr>(callee.get()))
    return a->dottedName();
  return "";
}

const KeywordArg *CallExpr::kwarg(const std::string &name) const {
  for (const KeywordArg &k : kwargs)
    if (k.name == name)
      return &k;
  return nullptr;
}

namespace {

// Levels as in precedence(); unary minus is 12, postfix/atoms 14, `not` 4,
// the conditional expression 1.
constexpr int kPostfix = 14;
constexpr int kUnary = 12;

int exprPrecedence(const Expr &e) {
  switch (e.kind) {
  case ExprKind::IfExp:
    return 1;
  case ExprKind::Binary:
    return precedence(static_cast<const BinaryExpr &>(e).op);
  case ExprKind::Unary:
    return static_cast<const UnaryExpr &>(e).op == UnaryOp::Not ? 4 : kUnary;
  case ExprKind::Slice:
    return 0;
  default:
    return kPostfix;
  }
}

void print(const Expr *e, int minPrec, std::string &out);

// Set while exprToString(e, nameText) runs: replacement text for names.
thread_local const std::function<std::optional<std::string>(const std::string &)> *nameHook =
    nullptr;

void printList(const std::vector<ExprPtr> &items, std::string &out) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i)
      out += ", ";
    print(items[i].get(), 1, out);
  }
}

void print(const Expr *e, int minPrec, std::string &out) {
  if (!e) {
    out += "<null>";
    return;
  }
  bool parens = exprPrecedence(*e) < minPrec;
  if (parens)
    out += "(";
  switch (e->kind) {
  case ExprKind::IntLit:
    out += std::to_string(static_cast<const IntLitExpr *>(e)->value);
    break;
  case ExprKind::FloatLit:
    out += constToString(static_cast<const FloatLitExpr *>(e)->value);
    break;
  case ExprKind::BoolLit:
    out += static_cast<const BoolLitExpr *>(e)->value ? "True" : "False";
    break;
  case ExprKind::StringLit:
    out += constToString(static_cast<const StringLitExpr *>(e)->value);
    break;
  case ExprKind::Name: {
    const std::string &name = static_cast<const NameExpr *>(e)->name;
    std::optional<std::string> text = nameHook ? (*nameHook)(name) : std::nullopt;
    out += text ? *text : name;
    break;
  }
  case ExprKind::Attribute: {
    const auto *a = static_cast<const AttributeExpr *>(e);
    print(a->base.get(), kPostfix, out);
    out += "." + a->attr;
    break;
  }
  case ExprKind::Call: {
    const auto *c = static_cast<const CallExpr *>(e);
    print(c->callee.get(), kPostfix, out);
    out += "(";
    printList(c->args, out);
    for (size_t i = 0; i < c->kwargs.size(); ++i) {
      if (i || !c->args.empty())
        out += ", ";
      out += c->kwargs[i].name + "=";
      print(c->kwargs[i].value.get(), 1, out);
    }
    out += ")";
    break;
  }
  case ExprKind::Subscript: {
    const auto *s = static_cast<const SubscriptExpr *>(e);
    print(s->base.get(), kPostfix, out);
    out += "[";
    for (size_t i = 0; i < s->indices.size(); ++i) {
      if (i)
        out += ", ";
      print(s->indices[i].get(), 0, out);
    }
    out += "]";
    break;
  }
  case ExprKind::Slice: {
    const auto *s = static_cast<const SliceExpr *>(e);
    if (s->lower)
      print(s->lower.get(), 1, out);
    out += s->lower && s->upper ? " : " : ":";
    if (s->upper)
      print(s->upper.get(), 1, out);
    break;
  }
  case ExprKind::Tuple: {
    const auto *t = static_cast<const TupleExpr *>(e);
    out += "(";
    printList(t->elements, out);
    if (t->elements.size() == 1)
      out += ",";
    out += ")";
    break;
  }
  case ExprKind::Unary: {
    const auto *u = static_cast<const UnaryExpr *>(e);
    if (u->op == UnaryOp::Not) {
      out += "not ";
      print(u->operand.get(), 4, out);
    } else {
      out += toString(u->op);
      print(u->operand.get(), kUnary, out);
    }
    break;
  }
  case ExprKind::Binary: {
    const auto *b = static_cast<const BinaryExpr *>(e);
    int p = precedence(b->op);
    int lhsMin = p, rhsMin = p + 1;
    if (b->op == BinaryOp::Pow) {
      lhsMin = kPostfix;
      rhsMin = kUnary;
    } else if (p == 5) {
      lhsMin = p + 1; // comparisons do not chain
    }
    print(b->lhs.get(), lhsMin, out);
    out += " ";
    out += toString(b->op);
    out += " ";
    print(b->rhs.get(), rhsMin, out);
    break;
  }
  case ExprKind::IfExp: {
    const auto *i = static_cast<const IfExpExpr *>(e);
    print(i->thenValue.get(), 2, out);
    out += " if ";
    print(i->cond.get(), 2, out);
    out += " else ";
    print(i->elseValue.get(), 1, out);
    break;
  }
  }
  if (parens)
    out += ")";
}

} // namespace

std::string exprToString(const Expr &e) {
  std::string out;
  print(&e, 0, out);
  return out;
}

std::string exprToString(
    const Expr &e, const std::function<std::optional<std::string>(const std::string &)> &nameText) {
  nameHook = &nameText;
  std::string out;
  print(&e, 0, out);
  nameHook = nullptr;
  return out;
}

ExprPtr cloneExpr(const Expr &e) {
  auto opt = [](const ExprPtr &p) { return p ? cloneExpr(*p) : ExprPtr(); };
  switch (e.kind) {
  case ExprKind::IntLit:
    return std::make_unique<IntLitExpr>(e.loc, static_cast<const IntLitExpr &>(e).value);
  case ExprKind::FloatLit:
    return std::make_unique<FloatLitExpr>(e.loc, static_cast<const FloatLitExpr &>(e).value);
  case ExprKind::BoolLit:
    return std::make_unique<BoolLitExpr>(e.loc, static_cast<const BoolLitExpr &>(e).value);
  case ExprKind::StringLit:
    return std::make_unique<StringLitExpr>(e.loc, static_cast<const StringLitExpr &>(e).value);
  case ExprKind::Name:
    return std::make_unique<NameExpr>(e.loc, static_cast<const NameExpr &>(e).name);
  case ExprKind::Attribute: {
    auto &a = static_cast<const AttributeExpr &>(e);
    return std::make_unique<AttributeExpr>(e.loc, cloneExpr(*a.base), a.attr);
  }
  case ExprKind::Call: {
    auto &c = static_cast<const CallExpr &>(e);
    auto r = std::make_unique<CallExpr>(e.loc, cloneExpr(*c.callee));
    for (const ExprPtr &a : c.args)
      r->args.push_back(cloneExpr(*a));
    for (const KeywordArg &k : c.kwargs)
      r->kwargs.push_back({k.name, k.loc, opt(k.value)});
    return r;
  }
  case ExprKind::Subscript: {
    auto &s = static_cast<const SubscriptExpr &>(e);
    auto r = std::make_unique<SubscriptExpr>(e.loc, cloneExpr(*s.base));
    for (const ExprPtr &i : s.indices)
      r->indices.push_back(cloneExpr(*i));
    return r;
  }
  case ExprKind::Slice: {
    auto &s = static_cast<const SliceExpr &>(e);
    return std::make_unique<SliceExpr>(e.loc, opt(s.lower), opt(s.upper));
  }
  case ExprKind::Tuple: {
    auto &t = static_cast<const TupleExpr &>(e);
    auto r = std::make_unique<TupleExpr>(e.loc);
    for (const ExprPtr &x : t.elements)
      r->elements.push_back(cloneExpr(*x));
    return r;
  }
  case ExprKind::Unary: {
    auto &u = static_cast<const UnaryExpr &>(e);
    return std::make_unique<UnaryExpr>(e.loc, u.op, cloneExpr(*u.operand));
  }
  case ExprKind::Binary: {
    auto &b = static_cast<const BinaryExpr &>(e);
    return std::make_unique<BinaryExpr>(e.loc, b.op, cloneExpr(*b.lhs), cloneExpr(*b.rhs),
                                        b.opLoc);
  }
  case ExprKind::IfExp: {
    auto &i = static_cast<const IfExpExpr &>(e);
    return std::make_unique<IfExpExpr>(e.loc, cloneExpr(*i.thenValue), cloneExpr(*i.cond),
                                       cloneExpr(*i.elseValue));
  }
  }
  return nullptr;
}

Block cloneBlock(const Block &b) {
  Block r;
  for (const StmtPtr &s : b)
    r.push_back(cloneStmt(*s));
  return r;
}

StmtPtr cloneStmt(const Stmt &s) {
  switch (s.kind) {
  case StmtKind::Expr:
    return std::make_unique<ExprStmt>(s.loc, cloneExpr(*static_cast<const ExprStmt &>(s).expr));
  case StmtKind::Assign: {
    auto &a = static_cast<const AssignStmt &>(s);
    return std::make_unique<AssignStmt>(s.loc, cloneExpr(*a.target), cloneExpr(*a.value));
  }
  case StmtKind::AugAssign: {
    auto &a = static_cast<const AugAssignStmt &>(s);
    return std::make_unique<AugAssignStmt>(s.loc, a.op, cloneExpr(*a.target),
                                           cloneExpr(*a.value));
  }
  case StmtKind::For: {
    auto &f = static_cast<const ForStmt &>(s);
    auto r = std::make_unique<ForStmt>(s.loc);
    for (const LoopVar &v : f.vars)
      r->vars.push_back({v.name, v.loc, nullptr});
    r->iter = cloneExpr(*f.iter);
    r->body = cloneBlock(f.body);
    return r;
  }
  case StmtKind::If: {
    auto &i = static_cast<const IfStmt &>(s);
    auto r = std::make_unique<IfStmt>(s.loc, cloneExpr(*i.cond));
    r->thenBody = cloneBlock(i.thenBody);
    r->elseBody = cloneBlock(i.elseBody);
    r->isElif = i.isElif;
    return r;
  }
  case StmtKind::With: {
    auto &w = static_cast<const WithStmt &>(s);
    auto r = std::make_unique<WithStmt>(s.loc, cloneExpr(*w.context));
    for (const LoopVar &v : w.vars)
      r->vars.push_back({v.name, v.loc, nullptr});
    r->body = cloneBlock(w.body);
    return r;
  }
  case StmtKind::Pass:
    return std::make_unique<PassStmt>(s.loc);
  case StmtKind::Break:
  case StmtKind::Continue:
    return std::make_unique<JumpStmt>(s.loc, s.kind == StmtKind::Break);
  }
  return nullptr;
}

} // namespace tlc
