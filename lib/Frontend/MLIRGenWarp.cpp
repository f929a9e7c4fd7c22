// MLIRGen of the warp-level builtins (T.shfl_*, T.any_sync / T.all_sync /
// T.ballot_sync, T.match_any_sync). They are emitted as NVVM ops (shfl.sync,
// vote.sync, match.sync over the full warp) directly: the tl dialect has no
// warp-exchange op yet, and Sema refuses them on the CPU target, which does
// not run a block's threads. When thread-level CPU execution lands, these
// become tl ops with a lowering per target.
#include "MLIRGenImpl.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace tlc::mlirgen {

namespace nvvm = mlir::NVVM;

bool MLIRGenImpl::isWarpBuiltin(const std::string &n) {
  return n == "T.shfl_xor" || n == "T.shfl_down" || n == "T.shfl_up" || n == "T.shfl_sync" ||
         n == "T.any_sync" || n == "T.all_sync" || n == "T.ballot_sync" ||
         n == "T.match_any_sync";
}

Value MLIRGenImpl::warpBuiltin(const CallExpr &call, const CallInfo &info) {
  const std::string &n = info.builtin;
  Location l = loc(call.loc);
  Type i32 = b_.getI32Type();
  Value full = arith::ConstantOp::create(b_, l, b_.getIntegerAttr(i32, -1));
  const Expr &x = *info.args[0];
  if (n == "T.any_sync" || n == "T.all_sync" || n == "T.ballot_sync") {
    Value pred = genAs(x, b_.getI1Type());
    if (!pred)
      return {};
    if (n == "T.ballot_sync")
      return nvvm::VoteSyncOp::create(b_, l, i32, full, pred, nvvm::VoteSyncKind::ballot);
    return nvvm::VoteSyncOp::create(b_, l, b_.getI1Type(), full, pred,
                                    n == "T.any_sync" ? nvvm::VoteSyncKind::any
                                                      : nvvm::VoteSyncKind::all);
  }
  // Index values travel as int32; float32 as is; the rest as their bits.
  bool isIndex = call.sema.kind == SemaValue::Index ||
                 x.sema.kind == SemaValue::Index || x.sema.kind == SemaValue::Constant;
  Value v = isIndex ? genAs(x, i32) : gen(x);
  if (!v)
    return {};
  if (n == "T.match_any_sync") {
    if (mlir::isa<mlir::FloatType>(v.getType()))
      v = arith::BitcastOp::create(b_, l, i32, v);
    return nvvm::MatchSyncOp::create(b_, l, i32, full, v, nvvm::MatchSyncKind::any);
  }
  Value lane = genAs(*info.args[1], i32);
  if (!lane)
    return {};
  nvvm::ShflKind kind = n == "T.shfl_xor"    ? nvvm::ShflKind::bfly
                        : n == "T.shfl_down" ? nvvm::ShflKind::down
                        : n == "T.shfl_up"   ? nvvm::ShflKind::up
                                             : nvvm::ShflKind::idx;
  // c = 0x1f for the whole warp (0 for shfl.up, whose clamp is the low bound).
  Value clamp = arith::ConstantOp::create(
      b_, l, b_.getIntegerAttr(i32, kind == nvvm::ShflKind::up ? 0 : 0x1f));
  Value r = nvvm::ShflOp::create(b_, l, v.getType(), full, v, lane, clamp, kind, mlir::UnitAttr());
  if (isIndex)
    return arith::IndexCastOp::create(b_, l, b_.getIndexType(), r);
  return r;
}

} // namespace tlc::mlirgen
