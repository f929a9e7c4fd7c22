// Semantic analysis of expressions: names, constants and folding, dtype
// promotion (language.md §3), element accesses and tile-operand regions (§6).
#include "SemaImpl.h"

#include "ConstEval.h"

#include <map>

namespace tlc::sema {

//===----------------------------------------------------------------------===//
// SemaValue helpers
//===----------------------------------------------------------------------===//

SemaValue makeConst(ConstValue c) {
  SemaValue v;
  v.kind = SemaValue::Constant;
  if (consteval::isFloat(c))
    v.dtype = DType::F32;
  else if (consteval::isBool(c))
    v.dtype = DType::Bool;
  v.constant = std::move(c);
  return v;
}
SemaValue makeIndex() {
  SemaValue v;
  v.kind = SemaValue::Index;
  v.dtype = DType::I32;
  return v;
}
SemaValue makeScalar(DType t) {
  SemaValue v;
  v.kind = SemaValue::Scalar;
  v.dtype = t;
  return v;
}
SemaValue makeBuffer(std::shared_ptr<BufferType> b) {
  SemaValue v;
  v.kind = SemaValue::Buffer;
  v.dtype = b->dtype;
  v.buffer = std::move(b);
  return v;
}
SemaValue makeNone() {
  SemaValue v;
  v.kind = SemaValue::None;
  return v;
}

bool isConstInt(const SemaValue &v) {
  return v.kind == SemaValue::Constant && v.constant && consteval::isInt(*v.constant);
}
bool isConstFloat(const SemaValue &v) {
  return v.kind == SemaValue::Constant && v.constant && consteval::isFloat(*v.constant);
}
bool isConstBool(const SemaValue &v) {
  return v.kind == SemaValue::Constant && v.constant && consteval::isBool(*v.constant);
}
bool isRuntimeNumber(const SemaValue &v) {
  return v.kind == SemaValue::Index || v.kind == SemaValue::Scalar || v.kind == SemaValue::Element;
}
bool isNumeric(const SemaValue &v) {
  return isConstInt(v) || isConstFloat(v) || isConstBool(v) || isRuntimeNumber(v);
}
bool isIntegral(const SemaValue &v) {
  if (isConstInt(v) || isConstBool(v) || v.kind == SemaValue::Index)
    return true;
  return (v.kind == SemaValue::Scalar || v.kind == SemaValue::Element) &&
         (isInteger(v.dtype) || v.dtype == DType::Bool);
}

std::string shapeToString(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += i ? ", " : "";
    s += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    s += ",";
  return s + ")";
}

std::string describe(const SemaValue &v) {
  switch (v.kind) {
  case SemaValue::Unknown: return "an invalid expression";
  case SemaValue::Constant:
    return v.constant ? consteval::describe(*v.constant) : "a constant";
  case SemaValue::Index: return "a run-time index value";
  case SemaValue::Scalar: return std::string("a run-time ") + dtypeName(v.dtype) + " value";
  case SemaValue::Element: return std::string("a ") + dtypeName(v.dtype) + " element";
  case SemaValue::Buffer:
    return std::string("a ") + (v.buffer ? scopeName(v.buffer->scope) : "") + " buffer";
  case SemaValue::Region: return "a buffer region";
  case SemaValue::Barrier: return "a barrier";
  case SemaValue::Module: return "a namespace";
  case SemaValue::Builtin: return "a builtin";
  case SemaValue::None: return "no value";
  case SemaValue::Shape: return "a shape " + shapeToString(v.regionShape);
  }
  return "a value";
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

SemaValue Sema::expr(Expr &e) {
  SemaValue v;
  switch (e.kind) {
  case ExprKind::IntLit:
    v = makeConst(static_cast<IntLitExpr &>(e).value);
    break;
  case ExprKind::FloatLit:
    v = makeConst(static_cast<FloatLitExpr &>(e).value);
    break;
  case ExprKind::BoolLit:
    v = makeConst(static_cast<BoolLitExpr &>(e).value);
    break;
  case ExprKind::StringLit:
    v = makeConst(static_cast<StringLitExpr &>(e).value);
    break;
  case ExprKind::Name:
    v = nameExpr(static_cast<NameExpr &>(e));
    break;
  case ExprKind::Attribute:
    v = attributeExpr(static_cast<AttributeExpr &>(e));
    break;
  case ExprKind::Call:
    v = callExpr(static_cast<CallExpr &>(e));
    break;
  case ExprKind::Subscript:
    v = subscriptExpr(static_cast<SubscriptExpr &>(e));
    break;
  case ExprKind::Slice:
    error(e.loc, "a slice a:b is only allowed as an index of a tile operand");
    break;
  case ExprKind::Tuple:
    v = tupleExpr(static_cast<TupleExpr &>(e));
    break;
  case ExprKind::Unary:
    v = unaryExpr(static_cast<UnaryExpr &>(e));
    break;
  case ExprKind::Binary:
    v = binaryExpr(static_cast<BinaryExpr &>(e));
    break;
  case ExprKind::IfExp:
    v = ifExpExpr(static_cast<IfExpExpr &>(e));
    break;
  }
  e.sema = v;
  return v;
}

SemaValue Sema::nameExpr(NameExpr &e) {
  SemaValue v;
  if (e.name == "T") {
    v.kind = SemaValue::Module;
    return v;
  }
  if (e.name == "range") {
    v.kind = SemaValue::Builtin;
    return v;
  }
  Symbol *sym = lookup(e.name);
  if (!sym) {
    if (e.name == "int" || e.name == "float" || e.name == "bool")
      error(e.loc, "'" + e.name + "' is a type, not a value here; use a dtype such as T.float32");
    else
      error(e.loc, "unknown name '" + e.name + "'");
    return v;
  }
  if (sym->kind == SymbolKind::Macro) {
    error(e.loc, "macro '" + e.name + "' can only be called, as a statement");
    return v;
  }
  e.symbol = sym;
  return sym->value;
}

SemaValue Sema::attributeExpr(AttributeExpr &e) {
  SemaValue v;
  std::string dotted = e.dottedName();
  if (dotted.rfind("T.", 0) != 0) {
    SemaValue base = expr(*e.base);
    if (base.kind != SemaValue::Unknown)
      error(e.loc, "attribute '." + e.attr + "' is not defined on " + describe(base) +
                       "; only the T namespace has attributes");
    return v;
  }
  std::string rest = dotted.substr(2);
  if (auto dt = parseDType(rest))
    return makeConst(*dt);
  if (rest == "arch")
    return makeConst(ConstValue(options_.effectiveArch()));
  if (rest == "GemmWarpPolicy") {
    v.kind = SemaValue::Module;
    return v;
  }
  if (rest.rfind("GemmWarpPolicy.", 0) == 0) {
    std::string p = rest.substr(15);
    if (p == "Square" || p == "FullRow" || p == "FullCol") {
      v.kind = SemaValue::Builtin;
      v.constant = ConstValue(p);
      return v;
    }
    error(e.loc, "unknown warp policy '" + dotted +
                     "' (expected T.GemmWarpPolicy.Square, FullRow or FullCol)");
    return v;
  }
  if (findBuiltin(dotted)) {
    v.kind = SemaValue::Builtin;
    return v;
  }
  if (rest == "dtype") {
    error(e.loc, "T.dtype is a parameter type, not a value");
    return v;
  }
  error(e.loc, "'" + dotted + "' is not a dtype or a T.* builtin");
  std::string close = closestBuiltin(dotted);
  if (!close.empty())
    note(e.loc, "did you mean '" + close + "'?");
  return v;
}

SemaValue Sema::tupleExpr(TupleExpr &e) {
  for (ExprPtr &el : e.elements)
    expr(*el);
  error(e.loc, "a tuple is only allowed as a shape or a cluster size");
  return {};
}

bool Sema::checkIndex(Expr &e, const std::string &what) {
  SemaValue v = expr(e);
  if (v.kind == SemaValue::Unknown)
    return false;
  if (isConstInt(v)) {
    int64_t c = std::get<int64_t>(*v.constant);
    if (c < 0) {
      error(e.loc, what + " is negative (" + std::to_string(c) + ")");
      return false;
    }
    return true;
  }
  if (v.kind == SemaValue::Index)
    return true;
  if ((v.kind == SemaValue::Scalar || v.kind == SemaValue::Element) && isInteger(v.dtype))
    return true;
  error(e.loc, what + " must be an int index, found " + describe(v));
  return false;
}

SemaValue Sema::subscriptExpr(SubscriptExpr &e) {
  SemaValue base = expr(*e.base);
  SemaValue v;
  if (base.kind == SemaValue::Unknown)
    return v;
  std::string baseName = exprToString(*e.base);
  if (base.kind == SemaValue::Barrier) {
    if (e.indices.size() != 1 || isa<SliceExpr>(e.indices[0].get())) {
      error(e.loc, "a barrier array takes one index: " + baseName + "[i]");
      return v;
    }
    if (!checkIndex(*e.indices[0], "barrier index"))
      return v;
    SemaValue idx = e.indices[0]->sema;
    int64_t count = base.buffer ? base.buffer->barrierCount : 0;
    if (isConstInt(idx) && std::get<int64_t>(*idx.constant) >= count) {
      error(e.indices[0]->loc, "barrier index " + std::to_string(std::get<int64_t>(*idx.constant)) +
                                   " is out of bounds for '" + baseName + "' (" +
                                   std::to_string(count) + " barriers)");
      return v;
    }
    v = base;
    return v;
  }
  if (base.kind != SemaValue::Buffer || !base.buffer) {
    error(e.base->loc, "'" + baseName + "' is " + describe(base) + " and cannot be indexed");
    return v;
  }
  // `buf[i]` of a rank-2 buffer is a view, except where an element is
  // meant (a store target, an element-wise loop body): there it is a rank
  // mismatch.
  bool sliced = isPartialView(e) && !inParallel() && !storeTarget_;
  for (ExprPtr &idx : e.indices)
    sliced |= isa<SliceExpr>(idx.get());
  if (sliced) {
    std::optional<RegionInfo> r = region(e, "region of '" + baseName + "'", nullptr);
    if (!r)
      return v;
    // A sub-buffer of an on-chip buffer is a view; a region of a tensor is
    // only a T.copy operand.
    return base.buffer->scope == MemScope::Global ? e.sema : viewValue(e, *r);
  }
  const BufferType &buf = *base.buffer;
  if (e.indices.size() != buf.shape.size()) {
    error(e.loc, "'" + baseName + "' has rank " + std::to_string(buf.shape.size()) +
                     " but is indexed with " + std::to_string(e.indices.size()) + " index" +
                     (e.indices.size() == 1 ? "" : "es"));
    return v;
  }
  bool ok = true;
  for (size_t d = 0; d < e.indices.size(); ++d) {
    Expr &idx = *e.indices[d];
    if (!checkIndex(idx, "index " + std::to_string(d) + " of '" + baseName + "'")) {
      ok = false;
      continue;
    }
    if (isConstInt(idx.sema) && buf.shape[d].isStatic() &&
        std::get<int64_t>(*idx.sema.constant) >= buf.shape[d].size) {
      error(idx.loc, "index " + std::to_string(std::get<int64_t>(*idx.sema.constant)) +
                         " is out of bounds for dimension " + std::to_string(d) + " of '" +
                         baseName + "' (size " + std::to_string(buf.shape[d].size) + ")");
      ok = false;
    }
  }
  if (!ok)
    return v;
  v.kind = SemaValue::Element;
  v.dtype = buf.dtype;
  v.buffer = base.buffer;
  return v;
}

SemaValue Sema::unaryExpr(UnaryExpr &e) {
  SemaValue x = expr(*e.operand);
  SemaValue v;
  if (x.kind == SemaValue::Unknown)
    return v;
  if (x.kind == SemaValue::Constant && x.constant) {
    std::string err;
    std::optional<ConstValue> r = consteval::foldUnary(e.op, *x.constant, err);
    if (!r) {
      error(e.loc, err);
      return v;
    }
    v = makeConst(*r);
    if (consteval::isFloat(*r) && isFloat(x.dtype))
      v.dtype = x.dtype; // keeps the dtype of -T.infinity(T.bfloat16)
    return v;
  }
  if (e.op == UnaryOp::Not) {
    if ((x.kind == SemaValue::Scalar || x.kind == SemaValue::Element) && x.dtype == DType::Bool)
      return makeScalar(DType::Bool);
    error(e.operand->loc, "operand of 'not' must be bool, found " + describe(x));
    return v;
  }
  const char *what = e.op == UnaryOp::Neg ? "unary '-'" : e.op == UnaryOp::Pos ? "unary '+'" : "'~'";
  if (!checkArithOperand(x, e.operand->loc, what))
    return v;
  if (e.op == UnaryOp::Invert && !isIntegral(x)) {
    error(e.operand->loc, std::string("operand of '~' must be an integer, found ") + describe(x));
    return v;
  }
  if (x.kind == SemaValue::Index)
    return makeIndex();
  return makeScalar(x.dtype);
}

bool Sema::checkArithOperand(const SemaValue &v, SourceLoc loc, const std::string &what) {
  if (v.kind == SemaValue::Unknown)
    return false;
  if (!isNumeric(v)) {
    error(loc, what + ": expected a number, found " + describe(v));
    return false;
  }
  if ((v.kind == SemaValue::Scalar || v.kind == SemaValue::Element) && isNarrowFloat(v.dtype)) {
    error(loc, what + ": " + dtypeName(v.dtype) +
                   " values must be converted with T.cast before arithmetic");
    return false;
  }
  return true;
}

/// Promotion of two run-time-or-constant numbers (language.md §3). Constants
/// are weakly typed: they take the other operand's type where it fits.
static OperandType promoteTypes(const SemaValue &a, const SemaValue &b) {
  auto indexLike = [](const SemaValue &v) {
    return v.kind == SemaValue::Index || isConstInt(v) || isConstBool(v);
  };
  OperandType t;
  if (indexLike(a) && indexLike(b)) {
    t.isIndex = true;
    return t;
  }
  bool wa = a.kind == SemaValue::Constant, wb = b.kind == SemaValue::Constant;
  auto dt = [](const SemaValue &v) {
    if (isConstFloat(v))
      return DType::F32;
    if (v.kind == SemaValue::Constant || v.kind == SemaValue::Index)
      return DType::I32;
    return v.dtype;
  };
  DType da = dt(a), db = dt(b);
  if (wa && wb) {
    t.dtype = (isFloat(da) || isFloat(db)) ? DType::F32 : DType::I32;
    return t;
  }
  if (wa || wb) {
    DType weak = wa ? da : db, strong = wa ? db : da;
    t.dtype = (isFloat(weak) && !isFloat(strong)) ? DType::F32 : strong;
    return t;
  }
  bool fa = isFloat(da), fb = isFloat(db);
  if (fa && fb) {
    if (da == db)
      t.dtype = da;
    else if (dtypeBits(da) != dtypeBits(db))
      t.dtype = dtypeBits(da) > dtypeBits(db) ? da : db;
    else
      t.dtype = DType::F32; // f16 with bf16
    return t;
  }
  if (fa || fb) {
    t.dtype = fa ? da : db;
    return t;
  }
  if (da == db)
    t.dtype = da;
  else if (da == DType::Bool || db == DType::Bool)
    t.dtype = da == DType::Bool ? db : da;
  else if (dtypeBits(da) != dtypeBits(db))
    t.dtype = dtypeBits(da) > dtypeBits(db) ? da : db;
  else if (isUnsigned(da) != isUnsigned(db))
    t.dtype = isUnsigned(da) ? da : db; // C: int32 with uint32 is uint32
  else
    t.dtype = DType::I32;
  return t;
}

std::optional<OperandType> Sema::promote(const Expr &a, const Expr &b, const std::string &what) {
  if (!checkArithOperand(a.sema, a.loc, what) || !checkArithOperand(b.sema, b.loc, what))
    return std::nullopt;
  return promoteTypes(a.sema, b.sema);
}

std::optional<OperandType> Sema::promoteValues(const SemaValue &a, SourceLoc la,
                                               const SemaValue &b, SourceLoc lb,
                                               const std::string &what) {
  if (!checkArithOperand(a, la, what) || !checkArithOperand(b, lb, what))
    return std::nullopt;
  return promoteTypes(a, b);
}

static bool isComparison(BinaryOp op) {
  return op == BinaryOp::Lt || op == BinaryOp::Le || op == BinaryOp::Gt || op == BinaryOp::Ge ||
         op == BinaryOp::Eq || op == BinaryOp::Ne;
}

namespace {
bool isArchExpr(const Expr &e) {
  auto *a = dyn_cast<AttributeExpr>(&e);
  return a && a->dottedName() == "T.arch";
}
} // namespace

bool Sema::checkArchComparison(const BinaryExpr &e) {
  // `T.arch == "sm100a"` would silently take the other branch: the string
  // compared with T.arch must name an architecture tlc knows.
  bool archL = isArchExpr(*e.lhs), archR = isArchExpr(*e.rhs);
  if (archL == archR || (e.op != BinaryOp::Eq && e.op != BinaryOp::Ne))
    return true;
  const Expr &other = archL ? *e.rhs : *e.lhs;
  if (!other.sema.constant || !std::holds_alternative<std::string>(*other.sema.constant))
    return true; // foldBinary reports the type mismatch
  const std::string &name = std::get<std::string>(*other.sema.constant);
  for (const char *known : kKnownArchs)
    if (name == known)
      return true;
  std::string list;
  for (const char *known : kKnownArchs)
    list += (list.empty() ? "\"" : ", \"") + std::string(known) + "\"";
  error(other.loc, "unknown architecture \"" + name + "\" compared with T.arch (expected one of " +
                       list + ")");
  return false;
}

SemaValue Sema::binaryExpr(BinaryExpr &e) {
  SemaValue l = expr(*e.lhs);
  SemaValue r = expr(*e.rhs);
  SemaValue v;
  if (l.kind == SemaValue::Unknown || r.kind == SemaValue::Unknown)
    return v;
  std::string what = std::string("operator '") + consteval::opSpelling(e.op) + "'";
  if (l.kind == SemaValue::Constant && r.kind == SemaValue::Constant && l.constant && r.constant) {
    if (!checkArchComparison(e))
      return v;
    std::string err;
    std::optional<ConstValue> c = consteval::foldBinary(e.op, *l.constant, *r.constant, err);
    if (!c) {
      error(e.opLoc, err);
      return v;
    }
    return makeConst(*c);
  }
  if (e.op == BinaryOp::And || e.op == BinaryOp::Or) {
    auto isBoolV = [](const SemaValue &x) {
      return isConstBool(x) ||
             ((x.kind == SemaValue::Scalar || x.kind == SemaValue::Element) && x.dtype == DType::Bool);
    };
    if (!isBoolV(l) || !isBoolV(r)) {
      const Expr &bad = isBoolV(l) ? *e.rhs : *e.lhs;
      error(bad.loc, "operands of '" + std::string(consteval::opSpelling(e.op)) +
                         "' must be bool, found " + describe(bad.sema));
      return v;
    }
    // A constant operand decides or drops out.
    if (isConstBool(l) || isConstBool(r)) {
      const SemaValue &c = isConstBool(l) ? l : r;
      bool cv = std::get<bool>(*c.constant);
      if (cv == (e.op == BinaryOp::Or))
        return makeConst(cv);
    }
    return makeScalar(DType::Bool);
  }
  std::optional<OperandType> t = promote(*e.lhs, *e.rhs, what);
  if (!t)
    return v;
  bool intTy = t->isIndex || !isFloat(t->dtype);
  if (e.op == BinaryOp::Div && intTy) {
    error(e.opLoc, "'/' is not defined on integers (" + describe(l) + " / " + describe(r) +
                       "); use '//' for floor division or T.cast to a float");
    return v;
  }
  bool bitwise = e.op == BinaryOp::Shl || e.op == BinaryOp::Shr || e.op == BinaryOp::BitAnd ||
                 e.op == BinaryOp::BitOr || e.op == BinaryOp::BitXor;
  if (bitwise && !intTy) {
    error(e.opLoc, what + " is not defined on " + dtypeName(t->dtype) + " values");
    return v;
  }
  if (e.op == BinaryOp::Pow && intTy) {
    error(e.opLoc, "'**' on run-time integers is not supported; multiply explicitly");
    return v;
  }
  result_.operandTypes[&e] = *t;
  if (isComparison(e.op))
    return makeScalar(DType::Bool);
  if (t->isIndex)
    return makeIndex();
  return makeScalar(t->dtype);
}

SemaValue Sema::ifExpExpr(IfExpExpr &e) {
  SemaValue c = expr(*e.cond);
  // With a compile-time condition the other side is dead: names only.
  std::optional<bool> taken;
  if (isConstBool(c))
    taken = std::get<bool>(*c.constant);
  deadDepth_ += taken == false;
  SemaValue a = expr(*e.thenValue);
  deadDepth_ -= taken == false;
  deadDepth_ += taken == true;
  SemaValue b = expr(*e.elseValue);
  deadDepth_ -= taken == true;
  SemaValue v;
  if (taken)
    return *taken ? a : b;
  if (c.kind == SemaValue::Unknown || a.kind == SemaValue::Unknown || b.kind == SemaValue::Unknown)
    return v;
  if (isConstBool(c))
    return std::get<bool>(*c.constant) ? a : b;
  if (!((c.kind == SemaValue::Scalar || c.kind == SemaValue::Element) && c.dtype == DType::Bool)) {
    error(e.cond->loc, "the condition of `if ... else` must be bool, found " + describe(c));
    return v;
  }
  std::optional<OperandType> t = promote(*e.thenValue, *e.elseValue, "`if ... else`");
  if (!t)
    return v;
  result_.operandTypes[&e] = *t;
  return t->isIndex ? makeIndex() : makeScalar(t->dtype);
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

std::optional<int64_t> Sema::constInt(Expr &e, const std::string &what, bool report) {
  SemaValue v = expr(e);
  if (v.kind == SemaValue::Unknown)
    return std::nullopt;
  if (isConstInt(v))
    return std::get<int64_t>(*v.constant);
  if (!report)
    return std::nullopt;
  if (v.kind == SemaValue::Constant && v.constant)
    error(e.loc, what + " must be an int constant, found " + describe(v));
  else
    error(e.loc, what + " must be a compile-time constant, found " + describe(v));
  return std::nullopt;
}

std::optional<bool> Sema::constBool(Expr &e, const std::string &what) {
  SemaValue v = expr(e);
  if (v.kind == SemaValue::Unknown)
    return std::nullopt;
  if (isConstBool(v))
    return std::get<bool>(*v.constant);
  error(e.loc, what + " must be True or False, found " + describe(v));
  return std::nullopt;
}

std::optional<DType> Sema::constDType(Expr &e, const std::string &what) {
  SemaValue v = expr(e);
  if (v.kind == SemaValue::Unknown)
    return std::nullopt;
  if (v.kind == SemaValue::Constant && v.constant && std::holds_alternative<DType>(*v.constant))
    return std::get<DType>(*v.constant);
  error(e.loc, what + " must be a dtype such as T.float32, found " + describe(v));
  return std::nullopt;
}

bool Sema::isShapeExpr(const Expr &e) const {
  if (isa<TupleExpr>(&e))
    return true;
  if (auto *i = dyn_cast<IfExpExpr>(&e))
    return isShapeExpr(*i->thenValue) || isShapeExpr(*i->elseValue);
  if (auto *n = dyn_cast<NameExpr>(&e)) {
    Symbol *s = lookup(n->name);
    return s && s->value.kind == SemaValue::Shape;
  }
  return false;
}

std::optional<std::vector<int64_t>> Sema::constShape(Expr &e, const std::string &what) {
  // `(M, N) if cond else (N, M)`: a compile-time condition picks the shape.
  if (auto *i = dyn_cast<IfExpExpr>(&e)) {
    SemaValue c = expr(*i->cond);
    if (c.kind == SemaValue::Unknown)
      return std::nullopt;
    if (!isConstBool(c)) {
      error(i->cond->loc, "the condition of a conditional shape must be a compile-time bool, "
                          "found " + describe(c));
      return std::nullopt;
    }
    bool taken = std::get<bool>(*c.constant);
    return constShape(taken ? *i->thenValue : *i->elseValue, what);
  }
  if (auto *n = dyn_cast<NameExpr>(&e)) {
    if (Symbol *s = lookup(n->name); s && s->value.kind == SemaValue::Shape) {
      n->symbol = s;
      n->sema = s->value;
      return s->value.regionShape;
    }
  }
  std::vector<Expr *> dims;
  if (auto *t = dyn_cast<TupleExpr>(&e)) {
    for (ExprPtr &el : t->elements)
      dims.push_back(el.get());
  } else {
    dims.push_back(&e);
  }
  if (dims.empty()) {
    error(e.loc, what + " must have at least one dimension");
    return std::nullopt;
  }
  std::vector<int64_t> shape;
  bool ok = true;
  for (size_t i = 0; i < dims.size(); ++i) {
    std::optional<int64_t> d = constInt(*dims[i], "dimension " + std::to_string(i) + " of " + what);
    if (!d) {
      ok = false;
      continue;
    }
    if (*d <= 0) {
      error(dims[i]->loc, "dimension " + std::to_string(i) + " of " + what +
                              " must be positive, found " + std::to_string(*d));
      ok = false;
      continue;
    }
    shape.push_back(*d);
  }
  if (!ok)
    return std::nullopt;
  return shape;
}

//===----------------------------------------------------------------------===//
// Regions
//===----------------------------------------------------------------------===//

namespace {
/// An index expression as constant + Σ coeff·atom, so that slice extents such
/// as (a + BM) - a fold even when `a` is a run-time value.
struct Linear {
  int64_t constant = 0;
  std::map<std::string, int64_t> terms;
  bool overflow = false; // huge coefficients: give up, the extent is "not constant"
  bool isConstant() const {
    if (overflow)
      return false;
    for (auto &[k, c] : terms)
      if (c != 0)
        return false;
    return true;
  }
  void addScaled(const Linear &y, int64_t s) {
    int64_t t = 0;
    overflow |= y.overflow || __builtin_mul_overflow(y.constant, s, &t) ||
                __builtin_add_overflow(constant, t, &constant);
    for (auto &[k, c] : y.terms)
      overflow |= __builtin_mul_overflow(c, s, &t) || __builtin_add_overflow(terms[k], t, &terms[k]);
  }
};

Linear linearize(const Expr &e) {
  Linear l;
  if (isConstInt(e.sema)) {
    l.constant = std::get<int64_t>(*e.sema.constant);
    return l;
  }
  if (auto *b = dyn_cast<BinaryExpr>(&e)) {
    if (b->op == BinaryOp::Add || b->op == BinaryOp::Sub) {
      Linear x = linearize(*b->lhs);
      x.addScaled(linearize(*b->rhs), b->op == BinaryOp::Add ? 1 : -1);
      return x;
    }
    if (b->op == BinaryOp::Mul && (isConstInt(b->lhs->sema) || isConstInt(b->rhs->sema))) {
      bool lc = isConstInt(b->lhs->sema);
      int64_t f = std::get<int64_t>(*(lc ? b->lhs : b->rhs)->sema.constant);
      l.addScaled(linearize(lc ? *b->rhs : *b->lhs), f);
      return l;
    }
  }
  if (auto *u = dyn_cast<UnaryExpr>(&e)) {
    if (u->op == UnaryOp::Neg) {
      l.addScaled(linearize(*u->operand), -1);
      return l;
    }
  }
  // A name bound to an index expression (`H1 = H0 + 64`) stands for it.
  if (auto *n = dyn_cast<NameExpr>(&e); n && n->symbol && n->symbol->definition)
    return linearize(*n->symbol->definition);
  l.terms[exprToString(e)] = 1;
  return l;
}
} // namespace

RegionForm Sema::regionForm(Expr &e) {
  auto *sub = dyn_cast<SubscriptExpr>(&e);
  if (!sub)
    return RegionForm::Whole;
  for (ExprPtr &i : sub->indices)
    if (isa<SliceExpr>(i.get()) || isGatherIndex(*i))
      return RegionForm::Sliced;
  // `ring[s]` of an on-chip buffer: the trailing dimensions are whole.
  if (isPartialView(e))
    return RegionForm::Sliced;
  return RegionForm::StartIndex;
}

bool Sema::isGatherIndex(Expr &e) {
  // `rows` (a 1-D buffer) or `Idx[b, s, a:a+n]` (a slice along the last
  // dimension of a tensor).
  auto *sub = dyn_cast<SubscriptExpr>(&e);
  auto *name = dyn_cast<NameExpr>(sub ? sub->base.get() : &e);
  Symbol *sym = name ? lookup(name->name) : nullptr;
  if (!sym || (sym->kind != SymbolKind::Buffer && sym->kind != SymbolKind::TensorParam) ||
      !sym->value.buffer)
    return false;
  if (!sub)
    return sym->value.buffer->shape.size() == 1;
  if (sub->indices.empty() || !isa<SliceExpr>(sub->indices.back().get()))
    return false;
  for (size_t i = 0; i + 1 < sub->indices.size(); ++i)
    if (isa<SliceExpr>(sub->indices[i].get()))
      return false;
  return true;
}

bool Sema::isPartialView(Expr &e) {
  auto *sub = dyn_cast<SubscriptExpr>(&e);
  auto *name = sub ? dyn_cast<NameExpr>(sub->base.get()) : nullptr;
  Symbol *sym = name ? lookup(name->name) : nullptr;
  if (!sym || sym->kind != SymbolKind::Buffer || !sym->value.buffer)
    return false;
  const BufferType &buf = *sym->value.buffer;
  return buf.scope != MemScope::Global && !sub->indices.empty() &&
         sub->indices.size() < buf.shape.size();
}

std::optional<RegionInfo> Sema::region(Expr &e, const std::string &what,
                                       const std::vector<int64_t> *other) {
  RegionInfo info;
  auto *sub = dyn_cast<SubscriptExpr>(&e);
  Expr &baseExpr = sub ? *sub->base : e;
  SemaValue base = expr(baseExpr);
  if (base.kind == SemaValue::Unknown)
    return std::nullopt;
  if (base.kind == SemaValue::Buffer && base.buffer && !isa<NameExpr>(&baseExpr)) {
    error(e.loc, what + " must name a buffer or a region of one; bind '" + exprToString(baseExpr) +
                     "' to a name first (X = " + exprToString(baseExpr) + ")");
    return std::nullopt;
  }
  if (base.kind != SemaValue::Buffer || !base.buffer || !isa<NameExpr>(&baseExpr)) {
    error(e.loc, what + " must be a buffer or a region of one, found " + describe(base));
    return std::nullopt;
  }
  const BufferType &buf = *base.buffer;
  std::string name = static_cast<NameExpr &>(baseExpr).name;
  info.base = &baseExpr;
  info.symbol = static_cast<NameExpr &>(baseExpr).symbol;
  info.buffer = base.buffer;
  size_t rank = buf.shape.size();

  if (!sub) {
    for (size_t d = 0; d < rank; ++d) {
      info.offsets.push_back(nullptr);
      info.sizes.push_back(buf.shape[d].size);
      info.kept.push_back(true);
    }
  } else {
    // On-chip buffers may leave trailing dimensions out (`ring[s]`,
    // `tile[0:64]`): they are taken whole.
    bool partial = buf.scope != MemScope::Global && sub->indices.size() < rank;
    if (sub->indices.size() != rank && !partial) {
      error(e.loc, what + ": '" + name + "' has rank " + std::to_string(rank) + " but " +
                       std::to_string(sub->indices.size()) + " index" +
                       (sub->indices.size() == 1 ? " is" : "es are") + " given");
      return std::nullopt;
    }
    RegionForm form = regionForm(e);
    size_t leading = 0;
    if (form == RegionForm::StartIndex) {
      if (!other) {
        error(e.loc, what + ": a start-index region " + name +
                         "[i, ...] takes its shape from the other operand, and there is none "
                         "here; write slices such as " + name + "[a:a+N, ...]");
        return std::nullopt;
      }
      if (other->size() > rank) {
        error(e.loc, what + ": the other operand has rank " + std::to_string(other->size()) +
                         ", more than the rank " + std::to_string(rank) + " of '" + name + "'");
        return std::nullopt;
      }
      leading = rank - other->size();
    }
    bool ok = true;
    for (size_t d = 0; d < rank; ++d) {
      if (d >= sub->indices.size()) {
        info.offsets.push_back(nullptr);
        info.sizes.push_back(buf.shape[d].size);
        info.kept.push_back(true);
        continue;
      }
      Expr &idx = *sub->indices[d];
      std::string dimWhat = "index " + std::to_string(d) + " of '" + name + "'";
      auto *slice = dyn_cast<SliceExpr>(&idx);
      if (!slice && isGatherIndex(idx)) {
        ok &= gatherDimension(idx, d, buf, dimWhat, info);
        continue;
      }
      if (!slice) {
        ok &= checkIndex(idx, dimWhat);
        info.offsets.push_back(&idx);
        bool keep = form == RegionForm::StartIndex && d >= leading;
        info.sizes.push_back(keep ? (*other)[d - leading] : 1);
        info.kept.push_back(keep);
        continue;
      }
      if (slice->lower && !checkIndex(*slice->lower, "start of slice " + std::to_string(d) + " of '" + name + "'")) {
        ok = false;
        continue;
      }
      if (slice->upper && !checkIndex(*slice->upper, "end of slice " + std::to_string(d) + " of '" + name + "'")) {
        ok = false;
        continue;
      }
      int64_t extent = 0;
      if (!slice->upper) {
        if (!buf.shape[d].isStatic()) {
          error(slice->loc, "slice " + std::to_string(d) + " of '" + name +
                                "' needs an end: the dimension has a dynamic size");
          ok = false;
          continue;
        }
        Linear lo;
        if (slice->lower)
          lo = linearize(*slice->lower);
        if (!lo.isConstant()) {
          error(slice->loc, "slice " + std::to_string(d) + " of '" + name +
                                "' must have a constant extent; write a:a+N");
          ok = false;
          continue;
        }
        extent = buf.shape[d].size - lo.constant;
      } else {
        Linear hi = linearize(*slice->upper);
        if (slice->lower)
          hi.addScaled(linearize(*slice->lower), -1);
        if (!hi.isConstant()) {
          error(slice->loc, "slice " + std::to_string(d) + " of '" + name +
                                "' must have a compile-time constant extent (b - a); write a:a+N");
          ok = false;
          continue;
        }
        extent = hi.constant;
      }
      if (extent <= 0) {
        error(slice->loc, "slice " + std::to_string(d) + " of '" + name + "' is empty (extent " +
                              std::to_string(extent) + ")");
        ok = false;
        continue;
      }
      info.offsets.push_back(slice->lower.get());
      info.sizes.push_back(extent);
      info.kept.push_back(true);
    }
    if (!ok)
      return std::nullopt;
  }
  SemaValue rv;
  rv.kind = sub ? SemaValue::Region : SemaValue::Buffer;
  rv.dtype = buf.dtype;
  rv.buffer = base.buffer;
  rv.regionShape = info.shape();
  e.sema = rv;
  if (!checkRegionBounds(info, e))
    return std::nullopt;
  result_.regions[&e] = info;
  return info;
}

bool Sema::checkRegionBounds(const RegionInfo &r, Expr &e) {
  if (r.buffer->scope == MemScope::Global)
    return true; // out-of-bounds parts of global regions read as zero
  std::string name = exprToString(*r.base);
  for (size_t d = 0; d < r.sizes.size(); ++d) {
    int64_t dimSize = r.buffer->shape[d].size;
    if (dimSize < 0)
      continue;
    const Expr *off = r.offsets[d];
    SourceLoc loc = off ? off->loc : e.loc;
    if (r.sizes[d] > dimSize) {
      error(loc, "region of size " + std::to_string(r.sizes[d]) + " does not fit dimension " +
                     std::to_string(d) + " of " + scopeName(r.buffer->scope) + " buffer '" + name +
                     "' (size " + std::to_string(dimSize) + ")");
      return false;
    }
    if (off && isConstInt(off->sema)) {
      int64_t o = std::get<int64_t>(*off->sema.constant);
      if (o < 0) {
        error(loc, "region start " + std::to_string(o) + " is negative in dimension " +
                       std::to_string(d) + " of " + scopeName(r.buffer->scope) + " buffer '" +
                       name + "' (a negative index does not count from the end in .tl)");
        return false;
      }
      if (o + r.sizes[d] > dimSize) {
        error(loc, "region [" + std::to_string(o) + ":" + std::to_string(o + r.sizes[d]) +
                       "] is out of bounds of dimension " + std::to_string(d) + " of " +
                       scopeName(r.buffer->scope) + " buffer '" + name + "' (size " +
                       std::to_string(dimSize) + ")");
        return false;
      }
    }
  }
  return true;
}

} // namespace tlc::sema
