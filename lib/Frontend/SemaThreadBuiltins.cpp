// Checkers of the builtins that are about threads and control rather than
// tiles: T.assert, T.use_swizzle and the warp-level exchange builtins
// (T.shfl_*, votes, T.match_any_sync). Registered in SemaBuiltins.cpp's table.
#include "SemaImpl.h"

namespace tlc::sema {

namespace {
std::string calleeOf(const CallExpr &call) { return call.calleeName(); }
} // namespace

SemaValue Sema::checkAssert(CallExpr &call, BoundArgs &args) {
  Expr &c = *args.get(0);
  SemaValue v = expr(c);
  std::string msg = "assertion failed";
  if (Expr *m = args.get(1)) {
    SemaValue mv = expr(*m);
    if (!(mv.kind == SemaValue::Constant && mv.constant &&
          std::holds_alternative<std::string>(*mv.constant))) {
      error(m->loc, "the message of T.assert must be a string, found " + describe(mv));
      return {};
    }
    msg = std::get<std::string>(*mv.constant);
  }
  if (v.kind == SemaValue::Unknown)
    return {};
  if (isConstBool(v)) {
    // Checked now; nothing is left for run time.
    if (!std::get<bool>(*v.constant))
      error(c.loc, "T.assert failed: " + msg);
    return makeNone();
  }
  if (!((v.kind == SemaValue::Scalar || v.kind == SemaValue::Element) && v.dtype == DType::Bool)) {
    error(c.loc, "the condition of T.assert must be bool, found " + describe(v));
    return {};
  }
  (void)call;
  return makeNone();
}

SemaValue Sema::checkUseSwizzle(CallExpr &call, BoundArgs &args) {
  // A statement of the T.Kernel block itself, after allocations only: it
  // changes what the block indices bound by `as` mean for the whole block,
  // so nothing before it may have used them.
  bool placed = false;
  if (launch_ && expansions_.empty())
    for (const StmtPtr &st : launch_->body) {
      if (auto *es = dyn_cast<ExprStmt>(st.get()); es && es->expr.get() == &call) {
        placed = true;
        break;
      }
      auto *as = dyn_cast<AssignStmt>(st.get());
      auto *value = as ? dyn_cast<CallExpr>(as->value.get()) : nullptr;
      auto info = value ? result_.calls.find(value) : result_.calls.end();
      if (info == result_.calls.end() || info->second.builtin.rfind("T.alloc_", 0) != 0)
        break;
    }
  if (!placed) {
    error(call.loc, "T.use_swizzle must be a statement of the T.Kernel block before anything "
                    "but allocations (it changes what the block indices mean for the whole "
                    "block)");
    return {};
  }
  if (Expr *e = args.get(1))
    if (!constBool(*e, "enable of T.use_swizzle"))
      return {};
  auto info = result_.calls.find(dyn_cast<CallExpr>(launch_->context.get()));
  if (info != result_.calls.end() && info->second.varargs.size() != 2) {
    error(call.loc, "T.use_swizzle remaps a 2-D grid; this T.Kernel has a " +
                        std::to_string(info->second.varargs.size()) + "-D grid");
    return {};
  }
  std::optional<int64_t> p = constInt(*args.get(0), "panel_size of T.use_swizzle");
  if (!p)
    return {};
  if (*p < 1) {
    error(args.get(0)->loc, "panel_size of T.use_swizzle must be at least 1, found " +
                                std::to_string(*p));
    return {};
  }
  return makeNone();
}

//===----------------------------------------------------------------------===//
// Warp-level builtins
//===----------------------------------------------------------------------===//

bool Sema::checkWarpContext(CallExpr &call) {
  std::string name = calleeOf(call);
  if (inParallel()) {
    error(call.loc, name + " exchanges values between the threads of a warp; call it outside "
                           "T.Parallel, on per-thread values");
    return false;
  }
  return true;
}

SemaValue Sema::checkShuffle(CallExpr &call, BoundArgs &args) {
  Expr &x = *args.get(0);
  SemaValue v = expr(x);
  std::string name = calleeOf(call);
  bool lane = checkIndex(*args.get(1), std::string("the lane argument of ") + name);
  if (v.kind == SemaValue::Unknown || !lane)
    return {};
  if (v.kind == SemaValue::Index || isConstInt(v)) {
    if (!checkWarpContext(call))
      return {};
    return makeIndex();
  }
  bool ok = (v.kind == SemaValue::Scalar || v.kind == SemaValue::Element) &&
            (v.dtype == DType::F32 || v.dtype == DType::I32 || v.dtype == DType::U32);
  if (!ok) {
    error(x.loc, name + " moves 32-bit values (float32, int32, uint32 or an index), found " +
                     describe(v) + "; use T.cast or T.reinterpret first");
    return {};
  }
  if (!checkWarpContext(call))
    return {};
  return makeScalar(v.dtype);
}

SemaValue Sema::checkVote(CallExpr &call, BoundArgs &args) {
  Expr &p = *args.get(0);
  SemaValue v = expr(p);
  std::string name = calleeOf(call);
  if (v.kind == SemaValue::Unknown)
    return {};
  bool isBool = isConstBool(v) || ((v.kind == SemaValue::Scalar || v.kind == SemaValue::Element) &&
                                   v.dtype == DType::Bool);
  if (!isBool) {
    error(p.loc, "the predicate of " + name + " must be bool, found " + describe(v));
    return {};
  }
  if (!checkWarpContext(call))
    return {};
  return makeScalar(name == "T.ballot_sync" ? DType::U32 : DType::Bool);
}

SemaValue Sema::checkMatchAny(CallExpr &call, BoundArgs &args) {
  Expr &x = *args.get(0);
  SemaValue v = expr(x);
  if (v.kind == SemaValue::Unknown)
    return {};
  bool ok = v.kind == SemaValue::Index || isConstInt(v) ||
            ((v.kind == SemaValue::Scalar || v.kind == SemaValue::Element) &&
             (v.dtype == DType::F32 || v.dtype == DType::I32 || v.dtype == DType::U32 ||
              v.dtype == DType::I64 || v.dtype == DType::U64));
  if (!ok) {
    error(x.loc, "T.match_any_sync compares 32- or 64-bit values (int32/uint32/float32, "
                 "int64/uint64 or an index), found " + describe(v));
    return {};
  }
  if (!checkWarpContext(call))
    return {};
  return makeScalar(DType::U32);
}

} // namespace tlc::sema
