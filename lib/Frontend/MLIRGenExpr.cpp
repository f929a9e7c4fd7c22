// MLIRGen of expressions: names, element loads, operators with the
// language's integer semantics, and value-producing builtins.
#include "MLIRGenImpl.h"

namespace tlc::mlirgen {

Value MLIRGenImpl::gen(const Expr &e) {
  Location l = loc(e.loc);
  if (e.sema.kind == SemaValue::Constant && e.sema.constant)
    return constant(l, *e.sema.constant, naturalType(e.sema));
  switch (e.kind) {
  case ExprKind::Name: {
    auto &n = static_cast<const NameExpr &>(e);
    auto it = n.symbol ? values_.find(n.symbol) : values_.end();
    if (it == values_.end()) {
      fail(e.loc, "internal error: no value for '" + n.name + "'");
      return {};
    }
    return it->second;
  }
  case ExprKind::Subscript: {
    auto &s = static_cast<const SubscriptExpr &>(e);
    if (e.sema.kind != SemaValue::Element) {
      fail(e.loc, "internal error: a region used as a value");
      return {};
    }
    Value buf = bufferOf(*s.base);
    if (!buf)
      return {};
    return markUnchecked(memref::LoadOp::create(b_, l, buf, indices(s)));
  }
  case ExprKind::Unary: return unary(static_cast<const UnaryExpr &>(e));
  case ExprKind::Binary: return binary(static_cast<const BinaryExpr &>(e));
  case ExprKind::IfExp: {
    auto &i = static_cast<const IfExpExpr &>(e);
    const SemaValue &c = i.cond->sema;
    if (c.kind == SemaValue::Constant && c.constant && std::holds_alternative<bool>(*c.constant))
      return gen(std::get<bool>(*c.constant) ? *i.thenValue : *i.elseValue);
    Type t = opType(sema_.operandTypes.at(&e));
    Value cond = genAs(*i.cond, b_.getI1Type());
    Value a = genAs(*i.thenValue, t), bv = genAs(*i.elseValue, t);
    if (!cond || !a || !bv)
      return {};
    return arith::SelectOp::create(b_, l, cond, a, bv);
  }
  case ExprKind::Call: return callValue(static_cast<const CallExpr &>(e));
  default:
    fail(e.loc, "internal error: unexpected expression in MLIRGen");
    return {};
  }
}

Value MLIRGenImpl::unary(const UnaryExpr &u) {
  Location l = loc(u.loc);
  Type t = naturalType(u.sema);
  Value x = genAs(*u.operand, t);
  if (!x)
    return {};
  switch (u.op) {
  case UnaryOp::Pos: return x;
  case UnaryOp::Neg:
    if (mlir::isa<mlir::FloatType>(t))
      return arith::NegFOp::create(b_, l, x);
    return arith::SubIOp::create(b_, l, constant(l, ConstValue(int64_t(0)), t), x);
  case UnaryOp::Not:
    return arith::XOrIOp::create(b_, l, x, constant(l, ConstValue(true), t));
  case UnaryOp::Invert:
    return arith::XOrIOp::create(b_, l, x, constant(l, ConstValue(int64_t(-1)), t));
  }
  return {};
}

/// Python floor division and modulo on signed integers (or index).
Value MLIRGenImpl::floorMod(Location l, Value a, Value bv) {
  Type t = a.getType();
  Value r = arith::RemSIOp::create(b_, l, a, bv);
  Value zero = constant(l, ConstValue(int64_t(0)), t);
  std::optional<int64_t> divisor = mlir::getConstantIntValue(bv);
  if (divisor && *divisor > 0) {
    // The common `i % BM`: only a negative remainder needs the fix-up.
    Value neg = arith::CmpIOp::create(b_, l, arith::CmpIPredicate::slt, r, zero);
    return arith::SelectOp::create(b_, l, neg, arith::AddIOp::create(b_, l, r, bv), r);
  }
  Value rNonZero = arith::CmpIOp::create(b_, l, arith::CmpIPredicate::ne, r, zero);
  Value rNeg = arith::CmpIOp::create(b_, l, arith::CmpIPredicate::slt, r, zero);
  Value bNeg = arith::CmpIOp::create(b_, l, arith::CmpIPredicate::slt, bv, zero);
  Value signsDiffer = arith::XOrIOp::create(b_, l, rNeg, bNeg);
  Value fix = arith::AndIOp::create(b_, l, rNonZero, signsDiffer);
  Value adjusted = arith::AddIOp::create(b_, l, r, bv);
  return arith::SelectOp::create(b_, l, fix, adjusted, r);
}

Value MLIRGenImpl::arith(Location l, BinaryOp op, Value a, Value bv, Type t, bool isUnsigned) {
  bool f = mlir::isa<mlir::FloatType>(t);
  if (isUnsigned) {
    switch (op) {
    case BinaryOp::FloorDiv: return arith::DivUIOp::create(b_, l, a, bv);
    case BinaryOp::Mod: return arith::RemUIOp::create(b_, l, a, bv);
    case BinaryOp::Shr: return arith::ShRUIOp::create(b_, l, a, bv);
    case BinaryOp::Lt: return arith::CmpIOp::create(b_, l, arith::CmpIPredicate::ult, a, bv);
    case BinaryOp::Le: return arith::CmpIOp::create(b_, l, arith::CmpIPredicate::ule, a, bv);
    case BinaryOp::Gt: return arith::CmpIOp::create(b_, l, arith::CmpIPredicate::ugt, a, bv);
    case BinaryOp::Ge: return arith::CmpIOp::create(b_, l, arith::CmpIPredicate::uge, a, bv);
    default: break;
    }
  }
  switch (op) {
  case BinaryOp::Add: return f ? (Value)arith::AddFOp::create(b_, l, a, bv) : (Value)arith::AddIOp::create(b_, l, a, bv);
  case BinaryOp::Sub: return f ? (Value)arith::SubFOp::create(b_, l, a, bv) : (Value)arith::SubIOp::create(b_, l, a, bv);
  case BinaryOp::Mul: return f ? (Value)arith::MulFOp::create(b_, l, a, bv) : (Value)arith::MulIOp::create(b_, l, a, bv);
  case BinaryOp::Div: return arith::DivFOp::create(b_, l, a, bv);
  case BinaryOp::FloorDiv:
    if (f)
      return math::FloorOp::create(b_, l, arith::DivFOp::create(b_, l, a, bv));
    return arith::FloorDivSIOp::create(b_, l, a, bv);
  case BinaryOp::Mod:
    if (f) {
      Value q = math::FloorOp::create(b_, l, arith::DivFOp::create(b_, l, a, bv));
      return arith::SubFOp::create(b_, l, a, arith::MulFOp::create(b_, l, q, bv));
    }
    return floorMod(l, a, bv);
  case BinaryOp::Pow: return math::PowFOp::create(b_, l, a, bv);
  case BinaryOp::Shl: return arith::ShLIOp::create(b_, l, a, bv);
  case BinaryOp::Shr: return arith::ShRSIOp::create(b_, l, a, bv);
  case BinaryOp::BitAnd: return arith::AndIOp::create(b_, l, a, bv);
  case BinaryOp::BitOr: return arith::OrIOp::create(b_, l, a, bv);
  case BinaryOp::BitXor: return arith::XOrIOp::create(b_, l, a, bv);
  default: break;
  }
  if (isComparison(op)) {
    if (f) {
      arith::CmpFPredicate p = op == BinaryOp::Lt   ? arith::CmpFPredicate::OLT
                               : op == BinaryOp::Le ? arith::CmpFPredicate::OLE
                               : op == BinaryOp::Gt ? arith::CmpFPredicate::OGT
                               : op == BinaryOp::Ge ? arith::CmpFPredicate::OGE
                               : op == BinaryOp::Eq ? arith::CmpFPredicate::OEQ
                                                    : arith::CmpFPredicate::UNE;
      return arith::CmpFOp::create(b_, l, p, a, bv);
    }
    arith::CmpIPredicate p = op == BinaryOp::Lt   ? arith::CmpIPredicate::slt
                             : op == BinaryOp::Le ? arith::CmpIPredicate::sle
                             : op == BinaryOp::Gt ? arith::CmpIPredicate::sgt
                             : op == BinaryOp::Ge ? arith::CmpIPredicate::sge
                             : op == BinaryOp::Eq ? arith::CmpIPredicate::eq
                                                  : arith::CmpIPredicate::ne;
    return arith::CmpIOp::create(b_, l, p, a, bv);
  }
  return {};
}

Value MLIRGenImpl::binary(const BinaryExpr &e) {
  Location l = loc(e.opLoc.valid() ? e.opLoc : e.loc);
  if (e.op == BinaryOp::And || e.op == BinaryOp::Or) {
    // A constant operand that does not decide the result drops out.
    const Expr *lhs = e.lhs.get(), *rhs = e.rhs.get();
    if (lhs->sema.kind == SemaValue::Constant)
      return genAs(*rhs, b_.getI1Type());
    if (rhs->sema.kind == SemaValue::Constant)
      return genAs(*lhs, b_.getI1Type());
    Value a = genAs(*lhs, b_.getI1Type()), bv = genAs(*rhs, b_.getI1Type());
    if (!a || !bv)
      return {};
    if (e.op == BinaryOp::And)
      return arith::AndIOp::create(b_, l, a, bv);
    return arith::OrIOp::create(b_, l, a, bv);
  }
  auto ty = sema_.operandTypes.find(&e);
  if (ty == sema_.operandTypes.end()) {
    fail(e.loc, "internal error: unanalysed binary expression");
    return {};
  }
  Type t = opType(ty->second);
  bool u = !ty->second.isIndex && isUnsigned(ty->second.dtype);
  Value a = genAs(*e.lhs, t, u), bv = genAs(*e.rhs, t, u);
  if (!a || !bv)
    return {};
  return arith(l, e.op, a, bv, t, u);
}

/// Value-producing builtin calls (and allocations).
Value MLIRGenImpl::callValue(const CallExpr &call) {
  auto found = sema_.calls.find(&call);
  if (found == sema_.calls.end()) {
    fail(call.loc, "internal error: unanalysed call");
    return {};
  }
  const CallInfo &info = found->second;
  const std::string &n = info.builtin;
  Location l = loc(call.loc);
  if (n.rfind("T.alloc_", 0) == 0 && n != "T.alloc_barrier") {
    if (!call.sema.buffer)
      return {};
    mlir::MemRefType type = bufferType(*call.sema.buffer);
    if (n == "T.alloc_shared")
      return tl::AllocSharedOp::create(b_, l, type);
    if (n == "T.alloc_fragment")
      return tl::AllocFragmentOp::create(b_, l, type);
    if (n == "T.alloc_local")
      return tl::AllocLocalOp::create(b_, l, type);
    return tl::AllocTmemOp::create(b_, l, type);
  }
  if (n == "T.alloc_barrier") {
    auto type = tl::BarrierType::get(&ctx_, call.sema.buffer->barrierCount);
    return tl::AllocBarrierOp::create(b_, l, type,
                                      static_cast<uint64_t>(constInt(info.args[0], 1)));
  }
  if (n == "T.gemm")
    return gemm(call, info, Value());
  if (n == "T.reshape" || n == "T.view") {
    Value src = bufferOf(*info.args[0]);
    if (!src || !call.sema.buffer)
      return {};
    return tl::ReshapeOp::create(b_, l, bufferType(*call.sema.buffer), src);
  }
  if (n == "T.atomic_add")
    return atomicAdd(call, info);
  if (isWarpBuiltin(n))
    return warpBuiltin(call, info);
  if (n == "T.thread_id")
    return tl::ThreadIdOp::create(b_, l, constInt(info.args[0], 0));
  if (n == "T.block_id")
    return tl::BlockIdOp::create(b_, l, constInt(info.args[0], 0));
  if (n == "T.warp_id" || n == "T.lane_id") {
    Value tid = tl::ThreadIdOp::create(b_, l, int64_t(0));
    if (n == "T.warp_id")
      return arith::DivUIOp::create(b_, l, tid, index(l, 32));
    return arith::RemUIOp::create(b_, l, tid, index(l, 32));
  }
  Type t = naturalType(call.sema);
  if (n == "T.exp" || n == "T.exp2" || n == "T.log" || n == "T.log2" || n == "T.sqrt" ||
      n == "T.rsqrt" || n == "T.tanh" || n == "T.abs" || n == "T.ceil" || n == "T.floor" ||
      n == "T.round" || n == "T.sigmoid" || n == "T.softplus") {
    Value x = genAs(*info.args[0], t);
    if (!x)
      return {};
    if (n == "T.exp") return math::ExpOp::create(b_, l, x);
    if (n == "T.exp2") return math::Exp2Op::create(b_, l, x);
    if (n == "T.log") return math::LogOp::create(b_, l, x);
    if (n == "T.log2") return math::Log2Op::create(b_, l, x);
    if (n == "T.sqrt") return math::SqrtOp::create(b_, l, x);
    if (n == "T.rsqrt") return math::RsqrtOp::create(b_, l, x);
    if (n == "T.tanh") return math::TanhOp::create(b_, l, x);
    if (n == "T.ceil") return math::CeilOp::create(b_, l, x);
    if (n == "T.floor") return math::FloorOp::create(b_, l, x);
    if (n == "T.round") return math::RoundEvenOp::create(b_, l, x);
    if (n == "T.abs") {
      if (mlir::isa<mlir::FloatType>(t))
        return math::AbsFOp::create(b_, l, x);
      return math::AbsIOp::create(b_, l, x);
    }
    Value one = constant(l, ConstValue(1.0), t);
    if (n == "T.sigmoid") {
      // 1 / (1 + exp(-x))
      Value e = math::ExpOp::create(b_, l, arith::NegFOp::create(b_, l, x));
      return arith::DivFOp::create(b_, l, one, arith::AddFOp::create(b_, l, one, e));
    }
    // softplus(x) = max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|.
    Value zero = constant(l, ConstValue(0.0), t);
    Value pos = arith::MaximumFOp::create(b_, l, x, zero);
    Value negAbs = arith::NegFOp::create(b_, l, math::AbsFOp::create(b_, l, x));
    Value tail = math::Log1pOp::create(b_, l, math::ExpOp::create(b_, l, negAbs));
    return arith::AddFOp::create(b_, l, pos, tail);
  }
  if (n == "T.max" || n == "T.min" || n == "T.clamp") {
    const OperandType &oty = sema_.operandTypes.at(&call);
    Type ot = opType(oty);
    bool f = mlir::isa<mlir::FloatType>(ot);
    bool u = !oty.isIndex && isUnsigned(oty.dtype);
    auto mx = [&](Value a, Value bv) -> Value {
      if (f)
        return arith::MaximumFOp::create(b_, l, a, bv);
      return u ? (Value)arith::MaxUIOp::create(b_, l, a, bv) : (Value)arith::MaxSIOp::create(b_, l, a, bv);
    };
    auto mn = [&](Value a, Value bv) -> Value {
      if (f)
        return arith::MinimumFOp::create(b_, l, a, bv);
      return u ? (Value)arith::MinUIOp::create(b_, l, a, bv) : (Value)arith::MinSIOp::create(b_, l, a, bv);
    };
    Value a = genAs(*info.args[0], ot, u), bv = genAs(*info.args[1], ot, u);
    if (!a || !bv)
      return {};
    if (n == "T.max")
      return mx(a, bv);
    if (n == "T.min")
      return mn(a, bv);
    Value hi = genAs(*info.args[2], ot, u);
    return hi ? mn(mx(a, bv), hi) : Value();
  }
  if (n == "T.if_then_else") {
    const Expr &c = *info.args[0];
    if (c.sema.kind == SemaValue::Constant && c.sema.constant)
      return gen(std::get<bool>(*c.sema.constant) ? *info.args[1] : *info.args[2]);
    Type ot = opType(sema_.operandTypes.at(&call));
    Value cond = genAs(c, b_.getI1Type());
    Value a = genAs(*info.args[1], ot), bv = genAs(*info.args[2], ot);
    if (!cond || !a || !bv)
      return {};
    return arith::SelectOp::create(b_, l, cond, a, bv);
  }
  if (n == "T.ceildiv") {
    Value a = genAs(*info.args[0], t), bv = genAs(*info.args[1], t);
    if (!a || !bv)
      return {};
    return arith::CeilDivSIOp::create(b_, l, a, bv);
  }
  if (n == "T.byte_perm") {
    Type i32 = b_.getI32Type();
    Value a = genAs(*info.args[0], i32), bv = genAs(*info.args[1], i32),
          sel = genAs(*info.args[2], i32);
    if (!a || !bv || !sel)
      return {};
    return tl::BytePermOp::create(b_, l, i32, a, bv, sel);
  }
  if (n == "T.cast") {
    const Expr &x = *info.args[0];
    return genAs(x, t, call.sema.kind == SemaValue::Scalar && isUnsigned(call.sema.dtype));
  }
  if (n == "T.reinterpret") {
    // Same-width bit cast; constants take float32 / int32 (Sema checked).
    const Expr &x = *info.args[0];
    Value v;
    if (x.sema.kind == SemaValue::Constant) {
      bool f = x.sema.constant && std::holds_alternative<double>(*x.sema.constant);
      v = genAs(x, f ? Type(b_.getF32Type()) : Type(b_.getI32Type()));
    } else if (x.sema.kind == SemaValue::Index) {
      v = genAs(x, b_.getI32Type());
    } else {
      v = gen(x);
    }
    if (!v)
      return {};
    return v.getType() == t ? v : (Value)arith::BitcastOp::create(b_, l, t, v);
  }
  if (n == "T.quantize") {
    // T.cast(x / scale, dtype), the division in f32.
    Type f32 = b_.getF32Type();
    Value x = genAs(*info.args[0], f32), s = genAs(*info.args[1], f32);
    if (!x || !s)
      return {};
    return convert(l, arith::DivFOp::create(b_, l, x, s), t);
  }
  if (n == "T.dequantize") {
    // T.cast(q, f32) * T.cast(scale, f32)
    Type f32 = b_.getF32Type();
    Value q = genAs(*info.args[0], f32), s = genAs(*info.args[1], f32);
    if (!q || !s)
      return {};
    return arith::MulFOp::create(b_, l, q, s);
  }
  fail(call.loc, n + " cannot be used as a value here");
  return {};
}

} // namespace tlc::mlirgen
