// `tlc --emit=ast`: prints the AST as an indented tree, one node per line
// with its `@line:col`, operators, callee names, keyword names and literal
// values, and optionally Sema's annotations in braces. Front-end lit tests
// check this text, so keep it stable.
#include "tlc/Frontend/AST.h"
#include "tlc/Frontend/Sema.h"

#include <ostream>

namespace tlc {

namespace {

std::string locString(SourceLoc loc) {
  return " @" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

std::string semaString(const SemaValue &v) {
  switch (v.kind) {
  case SemaValue::Unknown:
    return "";
  case SemaValue::Constant:
    return v.constant ? "const " + constToString(*v.constant) : "const";
  case SemaValue::Index:
    return "index";
  case SemaValue::Scalar:
    return std::string("scalar ") + dtypeName(v.dtype);
  case SemaValue::Buffer:
    return v.buffer ? "buffer " + v.buffer->str() : "buffer";
  case SemaValue::Region: {
    std::string s = "region [";
    for (size_t i = 0; i < v.regionShape.size(); ++i)
      s += (i ? ", " : "") + std::to_string(v.regionShape[i]);
    s += "]";
    if (v.buffer)
      s += " of " + v.buffer->str();
    return s;
  }
  case SemaValue::Element:
    return std::string("element ") + dtypeName(v.dtype);
  case SemaValue::Barrier:
    return "barrier";
  case SemaValue::Module:
    return "module";
  case SemaValue::Builtin:
    return "builtin";
  case SemaValue::None:
    return "none";
  case SemaValue::Shape:
    return "shape";
  }
  return "";
}

std::string joinVars(const std::vector<LoopVar> &vars) {
  std::string s;
  for (size_t i = 0; i < vars.size(); ++i)
    s += (i ? ", " : "") + vars[i].name;
  return s;
}

class Dumper {
public:
  Dumper(std::ostream &os, bool withSema) : os_(os), withSema_(withSema) {}

  void module(const Module &m) {
    os_ << "Module\n";
    size_t nextConst = 0, nextKernel = 0;
    for (bool isConst : m.order) {
      if (isConst && nextConst < m.constants.size())
        constant(m.constants[nextConst++], 1);
      else if (!isConst && nextKernel < m.kernels.size())
        kernel(m.kernels[nextKernel++], 1);
    }
    for (const MacroDef &d : m.macros) {
      line(1, "Macro " + d.name + "(" + joinVars(d.params) + ")" + locString(d.loc));
      block("Body", d.body, 2);
    }
  }

private:
  void line(int depth, const std::string &text) {
    os_ << std::string(2 * depth, ' ') << text << "\n";
  }
  std::string annotation(const SemaValue &v) const {
    if (!withSema_)
      return "";
    std::string s = semaString(v);
    return s.empty() ? "" : " {" + s + "}";
  }
  std::string symbolAnnotation(const Symbol *sym) const {
    return sym ? annotation(sym->value) : "";
  }

  static std::string typeString(const TypeExpr &t) {
    if (!t.isTensor)
      return t.elementType ? exprToString(*t.elementType) : "?";
    std::string s = "T.Tensor[(";
    for (size_t i = 0; i < t.dims.size(); ++i)
      s += (i ? ", " : "") + (t.dims[i] ? exprToString(*t.dims[i]) : std::string("?"));
    if (t.dims.size() == 1)
      s += ",";
    s += "), ";
    s += t.elementType ? exprToString(*t.elementType) : "?";
    return s + "]";
  }

  void constant(const ConstantDef &c, int depth) {
    std::string s = "Constant " + c.name;
    if (c.type)
      s += ": " + typeString(*c.type);
    if (c.value)
      s += " = " + exprToString(*c.value);
    line(depth, s + locString(c.loc) + symbolAnnotation(c.symbol));
  }

  void kernel(const KernelDef &k, int depth) {
    line(depth, "Kernel " + k.name + locString(k.loc));
    for (const CompileParam &p : k.compileParams) {
      std::string s = "CompileParam " + p.name + ": " + typeString(p.type);
      if (p.defaultValue)
        s += " = " + exprToString(*p.defaultValue);
      line(depth + 1, s + locString(p.loc) + symbolAnnotation(p.symbol));
    }
    for (const Param &p : k.params)
      line(depth + 1, "Param " + p.name + ": " + typeString(p.type) + locString(p.loc) +
                          symbolAnnotation(p.symbol));
    block("Body", k.body, depth + 1);
  }

  void block(const char *label, const Block &b, int depth) {
    line(depth, label);
    for (const StmtPtr &s : b)
      stmt(s.get(), depth + 1);
  }

  void stmt(const Stmt *s, int depth) {
    if (!s)
      return;
    switch (s->kind) {
    case StmtKind::Expr:
      expr(static_cast<const ExprStmt *>(s)->expr.get(), depth);
      return;
    case StmtKind::Assign: {
      const auto *a = static_cast<const AssignStmt *>(s);
      line(depth, "Assign" + locString(s->loc));
      expr(a->target.get(), depth + 1);
      expr(a->value.get(), depth + 1);
      return;
    }
    case StmtKind::AugAssign: {
      const auto *a = static_cast<const AugAssignStmt *>(s);
      line(depth, std::string("AugAssign ") + toString(a->op) + "=" + locString(s->loc));
      expr(a->target.get(), depth + 1);
      expr(a->value.get(), depth + 1);
      return;
    }
    case StmtKind::For: {
      const auto *f = static_cast<const ForStmt *>(s);
      line(depth, "For " + joinVars(f->vars) + locString(s->loc));
      expr(f->iter.get(), depth + 1);
      block("Body", f->body, depth + 1);
      return;
    }
    case StmtKind::If: {
      const auto *i = static_cast<const IfStmt *>(s);
      line(depth, std::string(i->isElif ? "Elif" : "If") + locString(s->loc));
      expr(i->cond.get(), depth + 1);
      block("Then", i->thenBody, depth + 1);
      if (!i->elseBody.empty())
        block("Else", i->elseBody, depth + 1);
      return;
    }
    case StmtKind::With: {
      const auto *w = static_cast<const WithStmt *>(s);
      line(depth, (w->vars.empty() ? std::string("With") : "With as " + joinVars(w->vars)) +
                      locString(s->loc));
      expr(w->context.get(), depth + 1);
      block("Body", w->body, depth + 1);
      return;
    }
    case StmtKind::Pass:
      line(depth, "Pass" + locString(s->loc));
      return;
    case StmtKind::Break:
      line(depth, "Break" + locString(s->loc));
      return;
    case StmtKind::Continue:
      line(depth, "Continue" + locString(s->loc));
      return;
    }
  }

  void expr(const Expr *e, int depth) {
    if (!e) {
      line(depth, "<null>");
      return;
    }
    std::string tail = locString(e->loc) + annotation(e->sema);
    switch (e->kind) {
    case ExprKind::IntLit:
      line(depth, "IntLit " + std::to_string(static_cast<const IntLitExpr *>(e)->value) + tail);
      return;
    case ExprKind::FloatLit:
      line(depth, "FloatLit " + constToString(static_cast<const FloatLitExpr *>(e)->value) + tail);
      return;
    case ExprKind::BoolLit:
      line(depth, std::string("BoolLit ") +
                      (static_cast<const BoolLitExpr *>(e)->value ? "True" : "False") + tail);
      return;
    case ExprKind::StringLit:
      line(depth,
           "StringLit " + constToString(static_cast<const StringLitExpr *>(e)->value) + tail);
      return;
    case ExprKind::Name:
      line(depth, "Name " + static_cast<const NameExpr *>(e)->name + tail);
      return;
    case ExprKind::Attribute: {
      const auto *a = static_cast<const AttributeExpr *>(e);
      std::string dotted = a->dottedName();
      if (!dotted.empty()) {
        line(depth, "Attribute " + dotted + tail);
        return;
      }
      line(depth, "Attribute ." + a->attr + tail);
      expr(a->base.get(), depth + 1);
      return;
    }
    case ExprKind::Call: {
      const auto *c = static_cast<const CallExpr *>(e);
      std::string name = c->calleeName();
      line(depth, "Call" + (name.empty() ? "" : " " + name) + tail);
      if (name.empty())
        expr(c->callee.get(), depth + 1);
      for (const ExprPtr &arg : c->args)
        expr(arg.get(), depth + 1);
      for (const KeywordArg &kw : c->kwargs) {
        line(depth + 1, "Kwarg " + kw.name + locString(kw.loc));
        expr(kw.value.get(), depth + 2);
      }
      return;
    }
    case ExprKind::Subscript: {
      const auto *s = static_cast<const SubscriptExpr *>(e);
      line(depth, "Subscript" + tail);
      expr(s->base.get(), depth + 1);
      for (const ExprPtr &i : s->indices)
        expr(i.get(), depth + 1);
      return;
    }
    case ExprKind::Slice: {
      const auto *s = static_cast<const SliceExpr *>(e);
      std::string shape = std::string(s->lower ? "lower" : "") + ":" + (s->upper ? "upper" : "");
      line(depth, "Slice " + shape + tail);
      if (s->lower)
        expr(s->lower.get(), depth + 1);
      if (s->upper)
        expr(s->upper.get(), depth + 1);
      return;
    }
    case ExprKind::Tuple: {
      const auto *t = static_cast<const TupleExpr *>(e);
      line(depth, "Tuple" + tail);
      for (const ExprPtr &el : t->elements)
        expr(el.get(), depth + 1);
      return;
    }
    case ExprKind::Unary: {
      const auto *u = static_cast<const UnaryExpr *>(e);
      line(depth, std::string("Unary ") + toString(u->op) + tail);
      expr(u->operand.get(), depth + 1);
      return;
    }
    case ExprKind::Binary: {
      const auto *b = static_cast<const BinaryExpr *>(e);
      line(depth, std::string("Binary ") + toString(b->op) + tail);
      expr(b->lhs.get(), depth + 1);
      expr(b->rhs.get(), depth + 1);
      return;
    }
    case ExprKind::IfExp: {
      const auto *i = static_cast<const IfExpExpr *>(e);
      line(depth, "IfExp" + tail);
      expr(i->thenValue.get(), depth + 1);
      expr(i->cond.get(), depth + 1);
      expr(i->elseValue.get(), depth + 1);
      return;
    }
    }
  }

  std::ostream &os_;
  bool withSema_;
};

} // namespace

void dumpAST(const Module &module, std::ostream &os, bool withSema) {
  Dumper(os, withSema).module(module);
}

} // namespace tlc
