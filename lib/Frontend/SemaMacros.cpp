// @T.macro device helpers: declaration at module level, and the expansion of
// each call statement (a copy of the body analysed in the macro's own scope,
// its parameters bound to the call's arguments). Errors inside a body point
// at the body's line and carry a note at every enclosing call site.
#include "SemaImpl.h"

#include <algorithm>
#include <set>

namespace tlc::sema {

void Sema::declareMacros() {
  for (MacroDef &m : module_.macros) {
    std::set<std::string> seen;
    for (const LoopVar &p : m.params)
      if (!seen.insert(p.name).second)
        error(p.loc, "macro '" + m.name + "' has two parameters named '" + p.name + "'");
    for (const KernelDef &k : module_.kernels)
      if (k.name == m.name) {
        error(m.loc, "'" + m.name + "' is both a kernel and a macro");
        note(k.loc, "the kernel is here");
      }
    Symbol *sym = define(m.name, SymbolKind::Macro, m.loc, SemaValue{});
    if (sym)
      sym->macro = &m;
  }
}

Symbol *Sema::calledMacro(const CallExpr &call) const {
  auto *n = dyn_cast<NameExpr>(call.callee.get());
  if (!n)
    return nullptr;
  Symbol *sym = lookup(n->name);
  return sym && sym->kind == SymbolKind::Macro ? sym : nullptr;
}

void Sema::macroCall(CallExpr &call, Symbol &macroSym) {
  const MacroDef &m = *macroSym.macro;
  auto *callee = static_cast<NameExpr *>(call.callee.get());
  callee->symbol = &macroSym;
  size_t n = m.params.size();
  std::vector<Expr *> bound(n, nullptr);
  bool ok = true;
  for (size_t i = 0; i < call.args.size(); ++i) {
    if (i < n) {
      bound[i] = call.args[i].get();
      continue;
    }
    error(call.args[i]->loc, "macro '" + m.name + "' takes " + std::to_string(n) +
                                 " argument" + (n == 1 ? "" : "s") + ", got " +
                                 std::to_string(call.args.size()));
    note(m.loc, "macro '" + m.name + "' is defined here");
    ok = false;
    break;
  }
  for (KeywordArg &kw : call.kwargs) {
    auto it = std::find_if(m.params.begin(), m.params.end(),
                           [&](const LoopVar &p) { return p.name == kw.name; });
    if (it == m.params.end()) {
      error(kw.loc, "macro '" + m.name + "' has no parameter '" + kw.name + "'");
      ok = false;
      continue;
    }
    size_t i = it - m.params.begin();
    if (bound[i]) {
      error(kw.loc, "argument '" + kw.name + "' of macro '" + m.name + "' is given twice");
      ok = false;
      continue;
    }
    bound[i] = kw.value.get();
  }
  for (size_t i = 0; i < n; ++i)
    if (!bound[i] && ok) {
      error(call.loc, "macro '" + m.name + "' is missing argument '" + m.params[i].name + "'");
      ok = false;
    }
  // The arguments are evaluated where the call is, once each.
  std::vector<SemaValue> values(n);
  for (size_t i = 0; i < n; ++i) {
    if (!bound[i])
      continue;
    SemaValue v = expr(*bound[i]);
    switch (v.kind) {
    case SemaValue::Unknown: ok = false; break;
    case SemaValue::Element:
      v.kind = SemaValue::Scalar;
      v.buffer.reset();
      break;
    case SemaValue::Constant:
    case SemaValue::Index:
    case SemaValue::Scalar:
    case SemaValue::Buffer:
    case SemaValue::Barrier: break;
    default:
      error(bound[i]->loc, "cannot pass " + describe(v) + " to macro parameter '" +
                               m.params[i].name + "'" +
                               (v.kind == SemaValue::Region
                                    ? "; pass the buffer, or a view of an on-chip buffer"
                                    : ""));
      ok = false;
    }
    values[i] = v;
  }
  if (!ok)
    return;
  for (const auto &[outer, site] : expansions_)
    if (outer == &m) {
      error(call.loc, "macro '" + m.name + "' calls itself; recursive macros are not supported");
      return;
    }

  MacroExpansion ex;
  ex.macro = &m;
  ex.body = std::make_unique<Block>(cloneBlock(m.body));
  // The body sees the module's names and its parameters only.
  auto savedScopes = std::move(scopes_);
  auto savedLoops = std::move(loops_);
  scopes_.clear();
  scopes_.push_back(savedScopes.front());
  loops_.clear();
  expansions_.push_back({&m, call.loc});
  pushScope();
  for (size_t i = 0; i < n; ++i) {
    const SemaValue &v = values[i];
    SymbolKind kind = v.kind == SemaValue::Buffer    ? SymbolKind::Buffer
                      : v.kind == SemaValue::Barrier ? SymbolKind::Barrier
                                                     : SymbolKind::Value;
    ex.params.push_back(define(m.params[i].name, kind, m.params[i].loc, v));
    ex.args.push_back(bound[i]);
  }
  block(*ex.body);
  expansions_.pop_back();
  scopes_ = std::move(savedScopes);
  loops_ = std::move(savedLoops);
  result_.macroCalls[&call] = std::move(ex);
}

} // namespace tlc::sema
