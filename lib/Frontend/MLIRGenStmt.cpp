// MLIRGen of statements: assignments, stores, loops (with break/continue)
// and if/else.
#include "MLIRGenImpl.h"

namespace tlc::mlirgen {

void MLIRGenImpl::block(const Block &stmts) {
  for (const StmtPtr &s : stmts) {
    if (failed_)
      return;
    stmt(*s);
  }
}

void MLIRGenImpl::stmt(const Stmt &s) {
  switch (s.kind) {
  case StmtKind::Expr: {
    auto &e = static_cast<const ExprStmt &>(s);
    if (auto *call = dyn_cast<CallExpr>(e.expr.get())) {
      if (auto it = sema_.macroCalls.find(call); it != sema_.macroCalls.end())
        return macroCall(*call, it->second);
      callStmt(*call);
    }
    return;
  }
  case StmtKind::Assign: return assign(static_cast<const AssignStmt &>(s));
  case StmtKind::AugAssign: return augAssign(static_cast<const AugAssignStmt &>(s));
  case StmtKind::For: return forStmt(static_cast<const ForStmt &>(s));
  case StmtKind::If: return ifStmt(static_cast<const IfStmt &>(s));
  case StmtKind::With: {
    auto &w = static_cast<const WithStmt &>(s);
    if (!w.isNoBoundsCheck()) {
      fail(s.loc, "internal error: nested T.Kernel");
      return;
    }
    ++uncheckedDepth_;
    block(w.body);
    --uncheckedDepth_;
    return;
  }
  case StmtKind::Pass: return;
  case StmtKind::Break:
  case StmtKind::Continue:
    // Loops with jumps lower their bodies themselves (jumpSeq below); a
    // jump never reaches the plain statement walk.
    fail(s.loc, "internal error: break/continue outside a loop that lowers jumps");
    return;
  }
}

void MLIRGenImpl::assign(const AssignStmt &s) {
  if (auto *sub = dyn_cast<SubscriptExpr>(s.target.get())) {
    store(*sub, [&](Type elem) { return genAs(*s.value, elem, isUnsigned(sub->sema.dtype)); });
    return;
  }
  if (!s.defined)
    return;
  const SemaValue &v = s.defined->value;
  if (v.kind == SemaValue::Constant || v.kind == SemaValue::Shape)
    return; // uses fold to the constant
  Value value;
  if (v.kind == SemaValue::Buffer || v.kind == SemaValue::Barrier) {
    value = bufferOf(*s.value);
  } else {
    value = gen(*s.value);
    if (value && v.kind == SemaValue::Scalar)
      value = convert(loc(s.value->loc), value, dtypeType(v.dtype));
  }
  if (!value)
    return;
  values_[s.defined] = value;
  // An allocation carries the name it is bound to, for messages about it.
  if (mlir::Operation *def = value.getDefiningOp();
      def && mlir::isa<tl::AllocSharedOp, tl::AllocFragmentOp, tl::AllocLocalOp, tl::AllocTmemOp>(def) &&
      !isa<mlir::NameLoc>(def->getLoc()))
    def->setLoc(mlir::NameLoc::get(b_.getStringAttr(s.defined->name), def->getLoc()));
}

llvm::SmallVector<Value> MLIRGenImpl::indices(const SubscriptExpr &sub) {
  llvm::SmallVector<Value> idx;
  for (const ExprPtr &i : sub.indices)
    idx.push_back(genIndex(*i));
  return idx;
}

void MLIRGenImpl::augAssign(const AugAssignStmt &s) {
  auto *sub = dyn_cast<SubscriptExpr>(s.target.get());
  auto ty = sema_.operandTypes.find(s.target.get());
  if (!sub || ty == sema_.operandTypes.end()) {
    fail(s.loc, "internal error: unanalysed augmented assignment");
    return;
  }
  Location l = loc(s.loc);
  Type t = opType(ty->second);
  store(*sub, [&](Type elem) -> Value {
    Value buf = bufferOf(*sub->base);
    Value old = markUnchecked(memref::LoadOp::create(b_, l, buf, indices(*sub)));
    bool opUnsigned = !ty->second.isIndex && isUnsigned(ty->second.dtype);
    bool elemUnsigned = isUnsigned(sub->sema.dtype);
    Value rhs = genAs(*s.value, t, opUnsigned);
    if (!rhs)
      return {};
    Value r = arith(l, s.op, convertSigned(l, old, t, elemUnsigned, opUnsigned), rhs, t,
                    opUnsigned);
    return r ? convertSigned(l, r, elem, opUnsigned, elemUnsigned) : Value();
  });
}

void MLIRGenImpl::forStmt(const ForStmt &s) {
  auto *call = dyn_cast<CallExpr>(s.iter.get());
  const CallInfo &info = sema_.calls.at(call);
  Location l = loc(s.loc);
  if (info.builtin == "T.Parallel") {
    llvm::SmallVector<int64_t> extents;
    for (const Expr *e : info.varargs)
      extents.push_back(std::get<int64_t>(*e->sema.constant));
    auto op = tl::ParallelOp::create(b_, l, extents);
    mlir::OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(op.getBodyBlock().getTerminator());
    for (size_t i = 0; i < s.vars.size(); ++i)
      values_[s.vars[i].symbol] = op.getBodyBlock().getArgument(i);
    block(s.body);
    return;
  }
  if (info.builtin == "T.Pipelined") {
    const auto &a = info.varargs;
    Value lb = a.size() == 2 ? genIndex(*a[0]) : index(l, 0);
    Value ub = genIndex(*a.back());
    int64_t stages = info.args[0] ? std::get<int64_t>(*info.args[0]->sema.constant) : 1;
    if (stages == 0) {
      // num_stages=0: no software pipelining (TileLang's meaning), a plain
      // serial loop whose copies are synchronous on every target.
      auto loop = scf::ForOp::create(b_, l, lb, ub, index(l, 1));
      mlir::OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPointToStart(loop.getBody());
      values_[s.vars[0].symbol] = loop.getInductionVar();
      block(s.body);
      return;
    }
    auto op = tl::PipelinedOp::create(b_, l, lb, ub, index(l, 1), stages);
    mlir::OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(op.getBodyBlock().getTerminator());
    values_[s.vars[0].symbol] = op.getInductionVar();
    block(s.body);
    return;
  }
  // range / T.serial / T.unroll
  const auto &a = info.varargs;
  Value lb = a.size() >= 2 ? genIndex(*a[0]) : index(l, 0);
  Value ub = genIndex(*a[a.size() >= 2 ? 1 : 0]);
  int64_t step = a.size() == 3 ? std::get<int64_t>(*a[2]->sema.constant) : 1;
  // A negative step counts ceil((lb - ub) / -step) iterations down from lb.
  Value first = lb, last = ub, normStep;
  if (step > 0) {
    normStep = index(l, step);
  } else {
    Value span = arith::SubIOp::create(b_, l, lb, ub);
    Value n = arith::CeilDivSIOp::create(b_, l, span, index(l, -step));
    last = arith::MaxSIOp::create(b_, l, n, index(l, 0));
    first = index(l, 0);
    normStep = index(l, 1);
  }
  auto bindVar = [&](Value iv) {
    if (step < 0)
      iv = arith::AddIOp::create(b_, l, lb, arith::MulIOp::create(b_, l, iv, index(l, step)));
    values_[s.vars[0].symbol] = iv;
  };
  if (hasJump(s.body, /*breakOnly=*/true)) {
    breakLoop(s, first, last, normStep, bindVar);
    return;
  }
  auto op = scf::ForOp::create(b_, l, first, last, normStep);
  if (info.builtin == "T.unroll")
    op->setAttr(tl::kUnrollAttrName, b_.getUnitAttr());
  mlir::OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPointToStart(op.getBody());
  bindVar(op.getInductionVar());
  if (hasJump(s.body, /*breakOnly=*/false))
    jumpSeq(s.body, 0); // `continue` only: the rest of the iteration is skipped
  else
    block(s.body);
}

bool MLIRGenImpl::hasJump(const Stmt &s, bool breakOnly) {
  switch (s.kind) {
  case StmtKind::Break: return true;
  case StmtKind::Continue: return !breakOnly;
  case StmtKind::If: {
    auto &i = static_cast<const IfStmt &>(s);
    const SemaValue &c = i.cond->sema;
    if (c.kind == SemaValue::Constant && c.constant && std::holds_alternative<bool>(*c.constant))
      return hasJump(std::get<bool>(*c.constant) ? i.thenBody : i.elseBody, breakOnly);
    return hasJump(i.thenBody, breakOnly) || hasJump(i.elseBody, breakOnly);
  }
  default: return false; // a nested loop owns the jumps inside it
  }
}

bool MLIRGenImpl::hasJump(const Block &b, bool breakOnly) {
  for (const StmtPtr &s : b)
    if (hasJump(*s, breakOnly))
      return true;
  return false;
}

/// A loop that `break` can leave: scf.while over the (normalised) induction
/// variable and a "not broken" flag, so the loop stops at the break.
void MLIRGenImpl::breakLoop(const ForStmt &s, Value first, Value last, Value step,
                            llvm::function_ref<void(Value)> bindVar) {
  Location l = loc(s.loc);
  Value go = arith::ConstantOp::create(b_, l, b_.getBoolAttr(true));
  scf::WhileOp::create(
      b_, l, mlir::TypeRange{b_.getIndexType()}, mlir::ValueRange{first, go},
      [&](mlir::OpBuilder &ob, Location bl, mlir::ValueRange args) {
        Value inRange =
            arith::CmpIOp::create(ob, bl, arith::CmpIPredicate::slt, args[0], last);
        Value cond = arith::AndIOp::create(ob, bl, inRange, args[1]);
        scf::ConditionOp::create(ob, bl, cond, mlir::ValueRange{args[0]});
      },
      [&](mlir::OpBuilder &ob, Location bl, mlir::ValueRange args) {
        mlir::OpBuilder::InsertionGuard guard(b_);
        b_.setInsertionPointToStart(ob.getInsertionBlock());
        bindVar(args[0]);
        Value broke = jumpSeq(s.body, 0).second;
        if (failed_ || !broke)
          broke = arith::ConstantOp::create(b_, bl, b_.getBoolAttr(false));
        Value next = arith::AddIOp::create(b_, bl, args[0], step);
        Value notBroke = arith::XOrIOp::create(
            b_, bl, broke, arith::ConstantOp::create(b_, bl, b_.getBoolAttr(true)));
        scf::YieldOp::create(b_, bl, mlir::ValueRange{next, notBroke});
      });
}

/// Generates stmts[from..] of a loop body that may `break` or `continue`.
/// Returns (left, broke): whether control left the statements through a
/// jump, and whether that jump was a `break`. The statements after one that
/// may jump run under `if not left`.
std::pair<Value, Value> MLIRGenImpl::jumpSeq(const Block &stmts, size_t from) {
  Location l = loc(from < stmts.size() ? stmts[from]->loc : SourceLoc{1, 1});
  auto flag = [&](bool v) -> Value {
    return arith::ConstantOp::create(b_, l, b_.getBoolAttr(v));
  };
  for (size_t j = from; j < stmts.size(); ++j) {
    if (failed_)
      break;
    const Stmt &s = *stmts[j];
    if (s.kind == StmtKind::Break || s.kind == StmtKind::Continue)
      return {flag(true), flag(s.kind == StmtKind::Break)};
    if (!hasJump(s, /*breakOnly=*/false)) {
      stmt(s);
      continue;
    }
    // An if with a jump inside: run its branches, then the rest under a
    // condition on whether they jumped.
    auto &is = static_cast<const IfStmt &>(s);
    Location il = loc(is.loc);
    std::pair<Value, Value> r;
    const SemaValue &c = is.cond->sema;
    if (c.kind == SemaValue::Constant && c.constant && std::holds_alternative<bool>(*c.constant)) {
      r = jumpSeq(std::get<bool>(*c.constant) ? is.thenBody : is.elseBody, 0);
    } else {
      Value cond = genAs(*is.cond, b_.getI1Type());
      if (!cond)
        break;
      Type i1 = b_.getI1Type();
      auto op = scf::IfOp::create(b_, il, mlir::TypeRange{i1, i1}, cond, /*withElse=*/true);
      for (int side = 0; side < 2; ++side) {
        mlir::OpBuilder::InsertionGuard guard(b_);
        b_.setInsertionPointToStart(side == 0 ? op.thenBlock() : op.elseBlock());
        auto [left, broke] = jumpSeq(side == 0 ? is.thenBody : is.elseBody, 0);
        if (!left)
          return {};
        scf::YieldOp::create(b_, il, mlir::ValueRange{left, broke});
      }
      r = {op.getResult(0), op.getResult(1)};
    }
    if (!r.first || j + 1 == stmts.size())
      return r;
    if (auto known = mlir::getConstantIntValue(r.first); known && *known)
      return r; // the rest is unreachable
    Type i1 = b_.getI1Type();
    Value stay = arith::XOrIOp::create(b_, il, r.first, flag(true));
    auto rest = scf::IfOp::create(b_, il, mlir::TypeRange{i1, i1}, stay, /*withElse=*/true);
    {
      mlir::OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPointToStart(rest.thenBlock());
      auto [left, broke] = jumpSeq(stmts, j + 1);
      if (!left)
        return {};
      scf::YieldOp::create(b_, il, mlir::ValueRange{left, broke});
      b_.setInsertionPointToStart(rest.elseBlock());
      scf::YieldOp::create(b_, il, mlir::ValueRange{r.first, r.second});
    }
    return {rest.getResult(0), rest.getResult(1)};
  }
  return {flag(false), flag(false)};
}

/// A @T.macro call: the parameters take the arguments' values (evaluated
/// once, here), then the analysed copy of the body is generated with
/// locations that record the call site (CallSiteLoc), so errors from later
/// passes point into the macro and at the call.
void MLIRGenImpl::macroCall(const CallExpr &call, const MacroExpansion &ex) {
  for (size_t i = 0; i < ex.params.size(); ++i) {
    const Symbol *p = ex.params[i];
    const Expr &arg = *ex.args[i];
    if (!p)
      continue;
    const SemaValue &v = p->value;
    Value value;
    if (v.kind == SemaValue::Constant)
      continue; // uses fold to the constant
    if (v.kind == SemaValue::Buffer || v.kind == SemaValue::Barrier)
      value = bufferOf(arg);
    else if (v.kind == SemaValue::Index)
      value = genIndex(arg);
    else
      value = genAs(arg, dtypeType(v.dtype));
    if (!value)
      return;
    values_[p] = value;
  }
  callSites_.push_back(loc(call.loc));
  block(*ex.body);
  callSites_.pop_back();
}

void MLIRGenImpl::ifStmt(const IfStmt &s) {
  const SemaValue &c = s.cond->sema;
  if (c.kind == SemaValue::Constant && c.constant && std::holds_alternative<bool>(*c.constant)) {
    block(std::get<bool>(*c.constant) ? s.thenBody : s.elseBody);
    return;
  }
  Value cond = genAs(*s.cond, b_.getI1Type());
  if (!cond)
    return;
  auto op = scf::IfOp::create(b_, loc(s.loc), cond, /*withElseRegion=*/!s.elseBody.empty());
  {
    mlir::OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(op.thenBlock()->getTerminator());
    block(s.thenBody);
  }
  if (!s.elseBody.empty()) {
    mlir::OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(op.elseBlock()->getTerminator());
    block(s.elseBody);
  }
}

} // namespace tlc::mlirgen
