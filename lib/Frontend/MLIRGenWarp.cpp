// MLIRGen of the warp-level builtins (T.shfl_*, T.any_sync / T.all_sync /
// T.ballot_sync, T.match_any_sync) as tl.warp ops: the GPU lowers them to
// shfl.sync / vote.sync / match.sync, the CPU target to exchanges through
// shared memory (tl-cpu-warp-exchange).
#include "MLIRGenImpl.h"


namespace tlc::mlirgen {

bool MLIRGenImpl::isWarpBuiltin(const std::string &n) {
  return n == "T.shfl_xor" || n == "T.shfl_down" || n == "T.shfl_up" || n == "T.shfl_sync" ||
         n == "T.any_sync" || n == "T.all_sync" || n == "T.ballot_sync" ||
         n == "T.match_any_sync";
}

Value MLIRGenImpl::warpBuiltin(const CallExpr &call, const CallInfo &info) {
  const std::string &n = info.builtin;
  Location l = loc(call.loc);
  Type i32 = b_.getI32Type();
  const Expr &x = *info.args[0];
  auto warp = [&](llvm::StringRef kind, Type result, Value v, Value lane) -> Value {
    return tl::WarpOp::create(b_, l, result, b_.getStringAttr(kind), v, lane);
  };
  if (n == "T.any_sync" || n == "T.all_sync" || n == "T.ballot_sync") {
    Value pred = genAs(x, b_.getI1Type());
    if (!pred)
      return {};
    if (n == "T.ballot_sync")
      return warp("ballot", i32, pred, Value());
    return warp(n == "T.any_sync" ? "any" : "all", b_.getI1Type(), pred, Value());
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
    return warp("match_any", i32, v, Value());
  }
  Value lane = genAs(*info.args[1], i32);
  if (!lane)
    return {};
  llvm::StringRef kind = n == "T.shfl_xor"    ? "shfl_xor"
                         : n == "T.shfl_down" ? "shfl_down"
                         : n == "T.shfl_up"   ? "shfl_up"
                                              : "shfl_idx";
  Value r = warp(kind, v.getType(), v, lane);
  if (isIndex)
    return arith::IndexCastOp::create(b_, l, b_.getIndexType(), r);
  return r;
}

} // namespace tlc::mlirgen
