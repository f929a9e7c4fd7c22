// Semantic analysis driver: module constants, compile-time parameters (with
// -D overrides), kernel signatures and dynamic sizes, scopes and statements.
// Expressions live in SemaExpr.cpp and the T.* builtins in SemaBuiltins.cpp.
#include "SemaImpl.h"

#include "ConstEval.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

namespace tlc {

const Expr *CallInfo::arg(const std::string &name) const {
  for (size_t i = 0; i < paramNames.size() && i < args.size(); ++i)
    if (name == paramNames[i])
      return args[i];
  return nullptr;
}

std::vector<int64_t> RegionInfo::shape() const {
  std::vector<int64_t> s;
  for (size_t i = 0; i < sizes.size(); ++i)
    if (kept[i])
      s.push_back(sizes[i]);
  return s;
}

bool analyze(Module &module, const SemaOptions &options, DiagnosticEngine &diags,
             SemaResult &result) {
  sema::Sema s(module, options, diags, result);
  return s.run() && !diags.hasErrors();
}

namespace sema {

//===----------------------------------------------------------------------===//
// Scopes
//===----------------------------------------------------------------------===//

Symbol *Sema::lookup(const std::string &name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    auto found = it->find(name);
    if (found != it->end())
      return found->second;
  }
  return nullptr;
}

Symbol *Sema::define(const std::string &name, SymbolKind kind, SourceLoc loc, SemaValue value) {
  if (name == "T" || name == "range") {
    error(loc, "'" + name + "' is reserved and cannot be bound");
    return nullptr;
  }
  if (Symbol *prev = lookup(name)) {
    error(loc, "'" + name + "' is already defined");
    if (prev->loc.valid())
      note(prev->loc, "'" + name + "' was first defined here");
    return nullptr;
  }
  auto sym = std::make_unique<Symbol>();
  sym->name = name;
  sym->kind = kind;
  sym->loc = loc;
  sym->value = std::move(value);
  Symbol *raw = sym.get();
  result_.symbols.push_back(std::move(sym));
  scopes_.back()[name] = raw;
  return raw;
}

//===----------------------------------------------------------------------===//
// Module
//===----------------------------------------------------------------------===//

bool Sema::run() {
  pushScope(); // module scope
  declareConstants();
  declareMacros();

  std::vector<KernelDef *> selected;
  std::set<std::string> kernelNames;
  for (KernelDef &k : module_.kernels) {
    if (!kernelNames.insert(k.name).second) {
      error(k.loc, "kernel '" + k.name + "' is already defined");
      continue;
    }
    if (options_.kernel.empty() || options_.kernel == k.name)
      selected.push_back(&k);
  }
  if (!options_.kernel.empty() && selected.empty()) {
    std::string names;
    for (const KernelDef &k : module_.kernels)
      names += (names.empty() ? "" : ", ") + k.name;
    error({}, "--kernel " + options_.kernel + ": no kernel of that name in this file (it has: " +
                  (names.empty() ? "none" : names) + ")");
    return false;
  }

  // A -D that names no compile-time parameter is most likely a typo.
  for (const auto &[name, value] : options_.defines) {
    bool used = false;
    for (KernelDef *k : selected)
      for (const CompileParam &cp : k->compileParams)
        used |= cp.name == name;
    if (!used)
      error({}, "-D " + name + "=" + value + ": no compile-time parameter named '" + name +
                    "' in " + (options_.kernel.empty() ? "any kernel" : "kernel " + options_.kernel));
  }

  result_.kernels.reserve(selected.size());
  for (KernelDef *k : selected)
    analyzeKernel(*k);
  popScope();
  return !diags_.hasErrors();
}

namespace {
/// A scalar type annotation: int, float, bool, T.dtype or a dtype.
struct ScalarTypeSpec {
  enum Kind { Int, Float, Bool, DTypeParam, Typed } kind = Typed;
  DType dtype = DType::I32;
  std::string str() const {
    switch (kind) {
    case Int: return "int";
    case Float: return "float";
    case Bool: return "bool";
    case DTypeParam: return "T.dtype";
    case Typed: return std::string("T.") + dtypeName(dtype);
    }
    return "?";
  }
};

std::optional<ScalarTypeSpec> scalarTypeOf(const TypeExpr &t, DiagnosticEngine &diags) {
  const Expr *e = t.elementType.get();
  SourceLoc loc = e ? e->loc : t.loc;
  if (t.isTensor || !e) {
    diags.error(loc, "expected a scalar type (int, float, bool, T.dtype or a dtype)");
    return std::nullopt;
  }
  ScalarTypeSpec spec;
  if (auto *n = dyn_cast<NameExpr>(e)) {
    if (n->name == "int")
      spec.kind = ScalarTypeSpec::Int;
    else if (n->name == "float")
      spec.kind = ScalarTypeSpec::Float, spec.dtype = DType::F32;
    else if (n->name == "bool")
      spec.kind = ScalarTypeSpec::Bool, spec.dtype = DType::Bool;
    else {
      diags.error(loc, "unknown type '" + n->name +
                           "' (expected int, float, bool, T.dtype or a dtype such as T.float32)");
      return std::nullopt;
    }
    return spec;
  }
  if (auto *a = dyn_cast<AttributeExpr>(e)) {
    std::string dotted = a->dottedName();
    if (dotted == "T.dtype") {
      spec.kind = ScalarTypeSpec::DTypeParam;
      return spec;
    }
    if (dotted.rfind("T.", 0) == 0)
      if (auto dt = parseDType(dotted.substr(2))) {
        spec.dtype = *dt;
        return spec;
      }
    diags.error(loc, "unknown type '" + dotted + "'");
    return std::nullopt;
  }
  diags.error(loc, "expected a scalar type (int, float, bool, T.dtype or a dtype)");
  return std::nullopt;
}

/// Converts constant `v` to the annotated type; "" on success, else what was wrong.
std::string coerceConst(ConstValue &v, const ScalarTypeSpec &spec) {
  bool isDt = std::holds_alternative<DType>(v);
  switch (spec.kind) {
  case ScalarTypeSpec::DTypeParam:
    return isDt ? "" : "a dtype";
  case ScalarTypeSpec::Bool:
    return consteval::isBool(v) ? "" : "a bool";
  case ScalarTypeSpec::Int:
    return consteval::isInt(v) ? "" : "an int";
  case ScalarTypeSpec::Float:
    if (consteval::isInt(v)) {
      v = static_cast<double>(std::get<int64_t>(v));
      return "";
    }
    return consteval::isFloat(v) ? "" : "a float";
  case ScalarTypeSpec::Typed:
    if (spec.dtype == DType::Bool)
      return consteval::isBool(v) ? "" : "a bool";
    if (isInteger(spec.dtype))
      return consteval::isInt(v) ? "" : "an int";
    if (consteval::isInt(v)) {
      v = static_cast<double>(std::get<int64_t>(v));
      return "";
    }
    return consteval::isFloat(v) ? "" : "a float";
  }
  return "a value";
}

/// Parses a -D value for a parameter of type `spec`.
std::optional<ConstValue> parseDefine(const std::string &text, const ScalarTypeSpec &spec) {
  auto parseInt = [&]() -> std::optional<ConstValue> {
    std::string t;
    for (char c : text)
      if (c != '_')
        t += c;
    if (t.empty())
      return std::nullopt;
    errno = 0;
    char *end = nullptr;
    long long v = std::strtoll(t.c_str(), &end, 0);
    if (errno || *end)
      return std::nullopt;
    return ConstValue(static_cast<int64_t>(v));
  };
  auto parseFloat = [&]() -> std::optional<ConstValue> {
    if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])))
      return std::nullopt;
    char *end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (*end || !std::isfinite(v))
      return std::nullopt;
    return ConstValue(v);
  };
  switch (spec.kind) {
  case ScalarTypeSpec::Int:
    return parseInt();
  case ScalarTypeSpec::Float:
    return parseFloat();
  case ScalarTypeSpec::Bool:
    if (text == "True" || text == "true" || text == "1")
      return ConstValue(true);
    if (text == "False" || text == "false" || text == "0")
      return ConstValue(false);
    return std::nullopt;
  case ScalarTypeSpec::DTypeParam: {
    std::string t = text.rfind("T.", 0) == 0 ? text.substr(2) : text;
    if (auto dt = parseDType(t))
      return ConstValue(*dt);
    return std::nullopt;
  }
  case ScalarTypeSpec::Typed:
    if (spec.dtype == DType::Bool) {
      ScalarTypeSpec b;
      b.kind = ScalarTypeSpec::Bool;
      return parseDefine(text, b);
    }
    return isInteger(spec.dtype) ? parseInt() : parseFloat();
  }
  return std::nullopt;
}
} // namespace

void Sema::declareConstants() {
  for (ConstantDef &c : module_.constants) {
    if (!c.value)
      continue;
    SemaValue v = expr(*c.value);
    if (v.kind == SemaValue::Unknown)
      continue;
    if (v.kind != SemaValue::Constant || !v.constant) {
      error(c.value->loc, "module constant '" + c.name + "' must be a compile-time constant, found " +
                              describe(v));
      continue;
    }
    ConstValue value = *v.constant;
    if (c.type) {
      std::optional<ScalarTypeSpec> spec = scalarTypeOf(*c.type, diags_);
      if (!spec)
        continue;
      std::string want = coerceConst(value, *spec);
      if (!want.empty()) {
        error(c.value->loc, "module constant '" + c.name + "' is declared " + spec->str() +
                                " but its value is " + consteval::describe(value) +
                                " (expected " + want + ")");
        continue;
      }
    }
    c.symbol = define(c.name, SymbolKind::Constant, c.loc, makeConst(value));
  }
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

void Sema::analyzeKernel(KernelDef &k) {
  result_.kernels.emplace_back();
  kernel_ = &result_.kernels.back();
  kernel_->def = &k;
  launch_ = nullptr;
  sharedBudgetReported_ = false;
  pushScope();
  bool ok = compileParams(k);
  ok = params(k) && ok;
  if (ok) {
    for (StmtPtr &s : k.body) {
      if (auto *w = dyn_cast<WithStmt>(s.get()); w && w->isNoBoundsCheck()) {
        error(w->loc, "`with T.no_bounds_check():` goes inside the `with T.Kernel(...)` block");
        continue;
      }
      if (auto *w = dyn_cast<WithStmt>(s.get())) {
        if (launch_) {
          // Another block: a kernel of its own, launched after the previous
          // one (the manifest's sequence), with the same parameters.
          kernel_->launch = launch_;
          KernelInfo next;
          next.def = &k;
          next.part = kernel_->part + 1;
          next.compileParams = kernel_->compileParams;
          next.dynamicDims = kernel_->dynamicDims;
          result_.kernels.push_back(std::move(next));
          kernel_ = &result_.kernels.back();
          launch_ = nullptr;
          sharedBudgetReported_ = false;
          for (const KernelDef &other : module_.kernels)
            if (other.name == kernel_->name()) {
              error(w->loc, "T.Kernel block " + std::to_string(kernel_->part + 1) + " of '" +
                                k.name + "' becomes kernel '" + kernel_->name() +
                                "', which is already the name of a kernel");
              note(other.loc, "the kernel is here");
            }
        }
        withStmt(*w);
        continue;
      }
      if (isa<PassStmt>(s.get()))
        continue;
      error(s->loc, "a kernel body is made of `with T.Kernel(...)` blocks; this statement is "
                    "outside them");
    }
    if (!launch_)
      error(k.loc, "kernel '" + k.name + "' has no `with T.Kernel(...)` block");
  }
  kernel_->launch = launch_;
  popScope();
  kernel_ = nullptr;
}

bool Sema::compileParams(KernelDef &k) {
  bool ok = true;
  for (CompileParam &cp : k.compileParams) {
    std::optional<ScalarTypeSpec> spec = scalarTypeOf(cp.type, diags_);
    if (!spec) {
      ok = false;
      continue;
    }
    if (spec->kind == ScalarTypeSpec::Typed) {
      error(cp.type.elementType ? cp.type.elementType->loc : cp.loc,
            "compile-time parameter '" + cp.name + "' must be int, float, bool or T.dtype, found " +
                spec->str());
      ok = false;
      continue;
    }
    std::optional<ConstValue> value;
    auto def = options_.defines.find(cp.name);
    if (def != options_.defines.end()) {
      value = parseDefine(def->second, *spec);
      if (!value) {
        error(cp.loc, "-D " + cp.name + "=" + def->second + ": expected " +
                          (spec->kind == ScalarTypeSpec::Int     ? "an int"
                           : spec->kind == ScalarTypeSpec::Float ? "a float"
                           : spec->kind == ScalarTypeSpec::Bool  ? "a bool (True or False)"
                                                                 : "a dtype such as bfloat16") +
                          " for compile-time parameter '" + cp.name + ": " + spec->str() + "'");
        ok = false;
        continue;
      }
      // Still check the default, so a broken default is not hidden by -D.
      if (cp.defaultValue)
        expr(*cp.defaultValue);
    } else if (cp.defaultValue) {
      SemaValue v = expr(*cp.defaultValue);
      if (v.kind == SemaValue::Unknown) {
        ok = false;
        continue;
      }
      if (v.kind != SemaValue::Constant || !v.constant) {
        error(cp.defaultValue->loc, "the default of compile-time parameter '" + cp.name +
                                        "' must be a compile-time constant, found " + describe(v));
        ok = false;
        continue;
      }
      value = *v.constant;
    } else {
      error(cp.loc, "compile-time parameter '" + cp.name + "' has no default; set it with -D " +
                        cp.name + "=VALUE");
      ok = false;
      continue;
    }
    std::string want = coerceConst(*value, *spec);
    if (!want.empty()) {
      error(cp.defaultValue ? cp.defaultValue->loc : cp.loc,
            "compile-time parameter '" + cp.name + ": " + spec->str() + "' needs " + want +
                ", found " + consteval::describe(*value));
      ok = false;
      continue;
    }
    kernel_->compileParams[cp.name] = *value;
    cp.symbol = define(cp.name, SymbolKind::CompileParam, cp.loc, makeConst(*value));
    ok &= cp.symbol != nullptr;
  }
  return ok;
}

namespace {
void collectNames(const Expr *e, std::vector<const NameExpr *> &out) {
  if (!e)
    return;
  switch (e->kind) {
  case ExprKind::Name:
    out.push_back(static_cast<const NameExpr *>(e));
    return;
  case ExprKind::Binary: {
    auto *b = static_cast<const BinaryExpr *>(e);
    collectNames(b->lhs.get(), out);
    collectNames(b->rhs.get(), out);
    return;
  }
  case ExprKind::Unary:
    collectNames(static_cast<const UnaryExpr *>(e)->operand.get(), out);
    return;
  case ExprKind::Call:
    for (const ExprPtr &a : static_cast<const CallExpr *>(e)->args)
      collectNames(a.get(), out);
    return;
  case ExprKind::Tuple:
    for (const ExprPtr &a : static_cast<const TupleExpr *>(e)->elements)
      collectNames(a.get(), out);
    return;
  default:
    return;
  }
}
} // namespace

bool Sema::params(KernelDef &k) {
  bool ok = true;
  // Pass 1: bare names that are not constants bind dynamic sizes, each at
  // its first appearance.
  for (size_t p = 0; p < k.params.size(); ++p) {
    Param &param = k.params[p];
    if (!param.type.isTensor)
      continue;
    for (size_t d = 0; d < param.type.dims.size(); ++d) {
      auto *n = dyn_cast<NameExpr>(param.type.dims[d].get());
      if (!n || lookup(n->name))
        continue;
      SemaValue v = makeIndex();
      Symbol *sym = define(n->name, SymbolKind::DynamicDim, n->loc, v);
      if (!sym) {
        ok = false;
        continue;
      }
      sym->boundByParam = static_cast<int>(p);
      sym->boundByDim = static_cast<int>(d);
      kernel_->dynamicDims.push_back(sym);
    }
  }
  // Pass 2: types of every parameter.
  for (size_t p = 0; p < k.params.size(); ++p) {
    Param &param = k.params[p];
    SemaValue value;
    if (param.type.isTensor) {
      auto buf = std::make_shared<BufferType>();
      buf->scope = MemScope::Global;
      bool good = true;
      if (param.type.dims.empty()) {
        error(param.type.loc, "tensor parameter '" + param.name + "' needs at least one dimension");
        good = false;
      }
      for (size_t d = 0; d < param.type.dims.size(); ++d) {
        std::optional<Dim> dim = tensorDim(*param.type.dims[d], param.name, d);
        if (!dim) {
          good = false;
          continue;
        }
        buf->shape.push_back(*dim);
      }
      std::optional<DType> dt;
      if (param.type.elementType)
        dt = constDType(*param.type.elementType, "the element type of tensor '" + param.name + "'");
      if (!dt)
        good = false;
      else
        buf->dtype = *dt;
      if (!good) {
        ok = false;
        continue;
      }
      value.kind = SemaValue::Buffer;
      value.dtype = buf->dtype;
      value.buffer = buf;
    } else {
      std::optional<ScalarTypeSpec> spec = scalarTypeOf(param.type, diags_);
      if (!spec) {
        ok = false;
        continue;
      }
      if (spec->kind == ScalarTypeSpec::DTypeParam) {
        error(param.type.loc, "T.dtype is a compile-time type; put '" + param.name +
                                  "' in the [...] parameter list");
        ok = false;
        continue;
      }
      // A 32-bit int parameter is an index value (usable in loops and indices).
      value = spec->dtype == DType::I32 ? makeIndex() : makeScalar(spec->dtype);
    }
    param.symbol = define(param.name,
                          param.type.isTensor ? SymbolKind::TensorParam : SymbolKind::ScalarParam,
                          param.loc, value);
    if (!param.symbol) {
      ok = false;
      continue;
    }
    param.symbol->paramIndex = static_cast<int>(p);
  }
  return ok;
}

std::optional<Dim> Sema::tensorDim(Expr &e, const std::string &tensor, size_t dimIdx) {
  std::vector<const NameExpr *> names;
  collectNames(&e, names);
  for (const NameExpr *n : names)
    if (!lookup(n->name) && n->name != "T") {
      error(n->loc, "dynamic size '" + n->name +
                        "' must appear as a bare dimension of some tensor parameter to be bound");
      return std::nullopt;
    }
  SemaValue v = expr(e);
  Dim dim;
  if (v.kind == SemaValue::Constant && v.constant && consteval::isInt(*v.constant)) {
    dim.size = std::get<int64_t>(*v.constant);
    if (dim.size <= 0) {
      error(e.loc, "dimension " + std::to_string(dimIdx) + " of tensor '" + tensor +
                       "' must be positive, found " + std::to_string(dim.size));
      return std::nullopt;
    }
    return dim;
  }
  if (v.kind == SemaValue::Index) {
    // Constants and compile-time parameters by value: the runtime binds
    // only the dynamic sizes ("S * H" with H = 4 is "S * 4").
    dim.symbol = exprToString(e, [&](const std::string &name) -> std::optional<std::string> {
      const Symbol *s = lookup(name);
      if (s && s->value.kind == SemaValue::Constant && s->value.constant &&
          consteval::isInt(*s->value.constant))
      {
        int64_t c = std::get<int64_t>(*s->value.constant);
        return c < 0 ? "(" + std::to_string(c) + ")" : std::to_string(c);
      }
      return std::nullopt;
    });
    return dim;
  }
  if (v.kind != SemaValue::Unknown)
    error(e.loc, "dimension " + std::to_string(dimIdx) + " of tensor '" + tensor +
                     "' must be an int expression over constants and dynamic sizes, found " +
                     describe(v));
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

void Sema::block(Block &b) {
  for (StmtPtr &s : b)
    stmt(*s);
}

void Sema::stmt(Stmt &s) {
  switch (s.kind) {
  case StmtKind::Expr:
    return exprStmt(static_cast<ExprStmt &>(s));
  case StmtKind::Assign:
    return assignStmt(static_cast<AssignStmt &>(s));
  case StmtKind::AugAssign:
    return augAssignStmt(static_cast<AugAssignStmt &>(s));
  case StmtKind::For:
    return forStmt(static_cast<ForStmt &>(s));
  case StmtKind::If:
    return ifStmt(static_cast<IfStmt &>(s));
  case StmtKind::With:
    if (static_cast<WithStmt &>(s).isNoBoundsCheck())
      return noBoundsCheckStmt(static_cast<WithStmt &>(s));
    error(s.loc, "`with T.Kernel(...)` blocks are the statements of a kernel body; they do not nest");
    if (launch_)
      note(launch_->loc, "the kernel's T.Kernel is here");
    return;
  case StmtKind::Pass:
    return;
  case StmtKind::Break:
  case StmtKind::Continue:
    return jumpStmt(static_cast<JumpStmt &>(s));
  }
}

// `with T.no_bounds_check():` -- the body's element accesses of global
// tensors are not guarded. Like Python's `with`, it opens no scope.
void Sema::noBoundsCheckStmt(WithStmt &s) {
  auto *call = static_cast<CallExpr *>(s.context.get());
  if (!call->args.empty() || !call->kwargs.empty())
    error(call->loc, "T.no_bounds_check() takes no arguments");
  block(s.body);
}

void Sema::jumpStmt(JumpStmt &s) {
  const char *word = s.isBreak() ? "break" : "continue";
  if (loops_.empty()) {
    error(s.loc, std::string("'") + word + "' outside a loop");
    return;
  }
  const std::string &loop = loops_.back();
  if (loop == "T.Parallel")
    error(s.loc, std::string("'") + word +
                     "' cannot leave a T.Parallel loop: its points run on different threads in "
                     "no fixed order; use a condition (if ...) on the body instead");
  else if (loop == "T.Pipelined")
    error(s.loc, std::string("'") + word +
                     "' cannot leave a T.Pipelined loop: the compiler overlaps its iterations; "
                     "use range(...) or T.serial(...) for a loop that exits early");
}

void Sema::withStmt(WithStmt &s) {
  launch_ = &s;
  auto *call = dyn_cast<CallExpr>(s.context.get());
  if (!call || call->calleeName() != "T.Kernel") {
    error(s.context ? s.context->loc : s.loc, "expected `with T.Kernel(...)`");
    return;
  }
  SemaValue v = callExpr(*call, BuiltinUse::Kernel);
  auto info = result_.calls.find(call);
  size_t rank = info != result_.calls.end() ? info->second.varargs.size() : 0;
  pushScope();
  if (v.kind != SemaValue::Unknown && !s.vars.empty() && s.vars.size() != rank) {
    error(s.vars[0].loc, "T.Kernel has a " + std::to_string(rank) + "-D grid but `as` binds " +
                             std::to_string(s.vars.size()) + " name" +
                             (s.vars.size() == 1 ? "" : "s") + " (one block index per grid dimension)");
  }
  for (LoopVar &var : s.vars)
    var.symbol = define(var.name, SymbolKind::BlockIndex, var.loc, makeIndex());
  block(s.body);
  popScope();
}

void Sema::forStmt(ForStmt &s) {
  auto *call = dyn_cast<CallExpr>(s.iter.get());
  std::string name = call ? call->calleeName() : "";
  const BuiltinSpec *spec = name.empty() ? nullptr : findBuiltin(name);
  if (!call || !spec || spec->use != BuiltinUse::Loop) {
    error(s.iter ? s.iter->loc : s.loc,
          "a for loop iterates over range(...), T.serial(...), T.unroll(...), T.Pipelined(...) "
          "or T.Parallel(...)" +
              (name.empty() ? std::string() : ", found '" + name + "'"));
    return;
  }
  SemaValue v = callExpr(*call, BuiltinUse::Loop);
  bool parallel = name == "T.Parallel";
  if (v.kind != SemaValue::Unknown) {
    size_t want = parallel ? result_.calls[call].varargs.size() : 1;
    if (s.vars.size() != want)
      error(s.vars.empty() ? s.loc : s.vars[0].loc,
            name + " " + (parallel ? "has " + std::to_string(want) + " extents" : "is one-dimensional") +
                " but the loop binds " + std::to_string(s.vars.size()) + " name" +
                (s.vars.size() == 1 ? "" : "s"));
  }
  pushScope();
  for (LoopVar &var : s.vars)
    var.symbol = define(var.name, SymbolKind::LoopVar, var.loc, makeIndex());
  parallelDepth_ += parallel;
  loops_.push_back(name);
  block(s.body);
  loops_.pop_back();
  parallelDepth_ -= parallel;
  popScope();
}

void Sema::ifStmt(IfStmt &s) {
  SemaValue c = expr(*s.cond);
  bool isBool = isConstBool(c) || ((c.kind == SemaValue::Scalar || c.kind == SemaValue::Element) &&
                                   c.dtype == DType::Bool);
  if (c.kind != SemaValue::Unknown && !isBool)
    error(s.cond->loc, "the condition of `" + std::string(s.isElif ? "elif" : "if") +
                           "` must be bool, found " + describe(c));
  // A compile-time condition: the branch not taken is still checked, but it
  // uses no resources and may hold another target's code (`if use_tmem:`).
  std::optional<bool> taken;
  if (isConstBool(c))
    taken = std::get<bool>(*c.constant);
  pushScope();
  deadDepth_ += taken == false;
  block(s.thenBody);
  deadDepth_ -= taken == false;
  popScope();
  pushScope();
  deadDepth_ += taken == true;
  block(s.elseBody);
  deadDepth_ -= taken == true;
  popScope();
}

void Sema::assignStmt(AssignStmt &s) {
  if (auto *sub = dyn_cast<SubscriptExpr>(s.target.get())) {
    SemaValue v = expr(*s.value);
    storeCheck(*sub, v, s.value->loc);
    return;
  }
  auto *n = dyn_cast<NameExpr>(s.target.get());
  if (!n) {
    error(s.target->loc, "can only assign to a name or to an element buf[i, ...]");
    return;
  }
  if (isShapeExpr(*s.value)) {
    std::optional<std::vector<int64_t>> shape = constShape(*s.value, "shape '" + n->name + "'");
    if (!shape)
      return;
    SemaValue v;
    v.kind = SemaValue::Shape;
    v.regionShape = *shape;
    s.defined = define(n->name, SymbolKind::Value, n->loc, v);
    n->symbol = s.defined;
    n->sema = v;
    return;
  }
  SemaValue v = expr(*s.value);
  SymbolKind kind = SymbolKind::Value;
  switch (v.kind) {
  case SemaValue::Unknown:
    // Bind anyway so later uses do not cascade into "unknown name" errors.
    break;
  case SemaValue::Constant:
  case SemaValue::Index:
  case SemaValue::Scalar:
    break;
  case SemaValue::Element:
    v.kind = SemaValue::Scalar; // a loaded value
    v.buffer.reset();
    break;
  case SemaValue::Buffer:
    kind = SymbolKind::Buffer;
    break;
  case SemaValue::Barrier:
    kind = SymbolKind::Barrier;
    break;
  case SemaValue::Region:
    error(s.value->loc, "a region cannot be bound to a name; pass it to a tile operation directly");
    return;
  case SemaValue::None:
    error(s.value->loc, "this expression produces no value to bind to '" + n->name + "'");
    return;
  default:
    error(s.value->loc, "cannot bind " + describe(v) + " to a name");
    return;
  }
  if (v.kind == SemaValue::Constant && v.constant &&
      std::holds_alternative<std::string>(*v.constant) && kind == SymbolKind::Value) {
    error(s.value->loc, "strings can only be compared (== and !=) or passed to T.print");
    return;
  }
  s.defined = define(n->name, kind, n->loc, v);
  if (s.defined && v.kind == SemaValue::Index)
    s.defined->definition = s.value.get();
  n->symbol = s.defined;
  n->sema = v;
}

void Sema::storeCheck(Expr &target, const SemaValue &value, SourceLoc valueLoc) {
  storeTarget_ = true;
  SemaValue t = expr(target);
  storeTarget_ = false;
  if (t.kind == SemaValue::Unknown)
    return;
  if (t.kind != SemaValue::Element) {
    error(target.loc, "can only store to one element buf[i, ...], found " + describe(t));
    return;
  }
  if (value.kind == SemaValue::Unknown)
    return;
  bool ok = (value.kind == SemaValue::Constant && value.constant &&
             (consteval::asDouble(*value.constant).has_value())) ||
            value.kind == SemaValue::Index || value.kind == SemaValue::Scalar ||
            value.kind == SemaValue::Element;
  if (!ok)
    error(valueLoc, "cannot store " + describe(value) + " into an element of type " +
                        dtypeName(t.dtype));
}

void Sema::augAssignStmt(AugAssignStmt &s) {
  storeTarget_ = true;
  SemaValue t = expr(*s.target);
  storeTarget_ = false;
  SemaValue v = expr(*s.value);
  if (t.kind == SemaValue::Unknown || v.kind == SemaValue::Unknown)
    return;
  if (t.kind != SemaValue::Element) {
    error(s.target->loc, std::string("'") + consteval::opSpelling(s.op) +
                             "=' needs an element buf[i, ...] as its target, found " + describe(t));
    return;
  }
  std::string what = std::string("'") + consteval::opSpelling(s.op) + "='";
  if (!checkArithOperand(t, s.target->loc, what) || !checkArithOperand(v, s.value->loc, what))
    return;
  std::optional<OperandType> ty = promote(*s.target, *s.value, what);
  if (ty)
    result_.operandTypes[s.target.get()] = *ty;
  if (ty && s.op == BinaryOp::Div && (ty->isIndex || !isFloat(ty->dtype)))
    error(s.loc, "'/=' is not defined on integers; use an explicit `x = x // y`");
}

void Sema::exprStmt(ExprStmt &s) {
  auto *call = dyn_cast<CallExpr>(s.expr.get());
  if (!call) {
    expr(*s.expr);
    error(s.expr->loc, "this expression has no effect");
    return;
  }
  if (Symbol *macro = calledMacro(*call)) {
    macroCall(*call, *macro);
    return;
  }
  SemaValue v = expr(*call);
  std::string name = call->calleeName();
  if (v.kind == SemaValue::Unknown || v.kind == SemaValue::None || name == "T.atomic_add")
    return;
  if (name == "T.gemm") {
    error(call->loc, "T.gemm without C returns a new fragment; bind it (part = T.gemm(...)) or "
                     "pass the accumulator C");
    return;
  }
  error(call->loc, "the value of " + name + "(...) is unused");
}

void Sema::countSharedMemory(CallExpr &call, int64_t bytes) {
  if (inDeadCode())
    return;
  kernel_->sharedMemoryBytes += bytes;
  int64_t budget = options_.sharedMemoryBudget;
  if (budget <= 0 || kernel_->sharedMemoryBytes <= budget || sharedBudgetReported_)
    return;
  sharedBudgetReported_ = true;
  error(call.loc, "shared memory use reaches " + std::to_string(kernel_->sharedMemoryBytes) +
                      " bytes with this allocation (" + std::to_string(bytes) +
                      " bytes), over the budget of " + std::to_string(budget) + " bytes on " +
                      options_.target);
}

} // namespace sema
} // namespace tlc
