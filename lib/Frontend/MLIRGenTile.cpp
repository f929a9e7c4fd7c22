// MLIRGen of buffers and tile operations: views, regions, barriers and the
// statement-level builtins (T.copy, T.gemm, reductions, atomics, ...).
#include "MLIRGenImpl.h"

namespace tlc::mlirgen {

/// The memref (or !tl.barrier) a buffer-valued expression denotes,
/// generating the allocation if it is one.
Value MLIRGenImpl::bufferOf(const Expr &e) {
  if (auto *n = dyn_cast<NameExpr>(&e)) {
    auto it = n->symbol ? values_.find(n->symbol) : values_.end();
    if (it == values_.end()) {
      fail(e.loc, "internal error: no value for '" + n->name + "'");
      return {};
    }
    return it->second;
  }
  if (auto *call = dyn_cast<CallExpr>(&e))
    return callValue(*call);
  if (isa<SubscriptExpr>(&e))
    return view(e);
  fail(e.loc, "internal error: expected a buffer");
  return {};
}

/// A view of an on-chip buffer (`ring[s]`, `tile[:, 0:64]`): tl.view of
/// the box, the region's dropped dimensions left out of its shape.
Value MLIRGenImpl::view(const Expr &e) {
  auto it = sema_.regions.find(&e);
  if (it == sema_.regions.end() || !e.sema.buffer) {
    fail(e.loc, "internal error: unanalysed view");
    return {};
  }
  const RegionInfo &info = it->second;
  Value src = bufferOf(*info.base);
  if (!src)
    return {};
  Location l = loc(e.loc);
  llvm::SmallVector<Value> offsets;
  llvm::SmallVector<int64_t> sizes(info.sizes.begin(), info.sizes.end());
  for (const Expr *o : info.offsets)
    offsets.push_back(o ? genIndex(*o) : index(l, 0));
  return tl::ViewOp::create(b_, l, bufferType(*e.sema.buffer), src, offsets, sizes);
}

MLIRGenImpl::Region MLIRGenImpl::region(const Expr &e) {
  Region r;
  auto it = sema_.regions.find(&e);
  if (it == sema_.regions.end()) {
    fail(e.loc, "internal error: unanalysed tile operand");
    return r;
  }
  const RegionInfo &info = it->second;
  r.buffer = bufferOf(*info.base);
  bool anyOffset = false;
  for (const Expr *o : info.offsets)
    anyOffset |= o != nullptr;
  for (size_t d = 0; d < info.sizes.size(); ++d) {
    r.sizes.push_back(info.sizes[d]);
    if (anyOffset)
      r.offsets.push_back(info.offsets[d] ? genIndex(*info.offsets[d]) : index(loc(e.loc), 0));
  }
  return r;
}

/// A barrier operand (`bar[i]` or a one-barrier array): value and index.
std::pair<Value, Value> MLIRGenImpl::barrier(const Expr &e) {
  Location l = loc(e.loc);
  if (auto *sub = dyn_cast<SubscriptExpr>(&e))
    return {bufferOf(*sub->base), genIndex(*sub->indices[0])};
  return {bufferOf(e), index(l, 0)};
}

bool MLIRGenImpl::constBool(const Expr *e, bool dflt) {
  if (!e || !e->sema.constant || !std::holds_alternative<bool>(*e->sema.constant))
    return dflt;
  return std::get<bool>(*e->sema.constant);
}

int64_t MLIRGenImpl::constInt(const Expr *e, int64_t dflt) {
  if (!e || !e->sema.constant || !std::holds_alternative<int64_t>(*e->sema.constant))
    return dflt;
  return std::get<int64_t>(*e->sema.constant);
}

/// Statement-level builtin calls.
void MLIRGenImpl::callStmt(const CallExpr &call) {
  const CallInfo &info = callInfo(call);
  const std::string &n = info.builtin;
  Location l = loc(call.loc);
  if (n == "T.copy") {
    Region src = region(*info.args[0]);
    Region dst = region(*info.args[1]);
    Value bar, barIdx;
    if (info.args[2])
      std::tie(bar, barIdx) = barrier(*info.args[2]);
    if (!src.buffer || !dst.buffer)
      return;
    Value rows;
    int64_t gatherDim = -1;
    const RegionInfo &si = sema_.regions.find(info.args[0])->second;
    llvm::SmallVector<Value> rowsOffsets;
    if (si.gatherRows) {
      if (isa<SubscriptExpr>(si.gatherRows)) {
        // A slice of a tensor: its buffer and an offset per dimension.
        Region rr = region(*si.gatherRows);
        rows = rr.buffer;
        rowsOffsets = rr.offsets;
        while (rows && rowsOffsets.size() < rr.sizes.size())
          rowsOffsets.push_back(index(l, 0));
      } else {
        rows = bufferOf(*si.gatherRows);
      }
      gatherDim = si.gatherDim;
      if (!rows)
        return;
    }
    tl::CopyOp::create(b_, l, src.buffer, src.offsets, src.sizes, dst.buffer, dst.offsets,
                       dst.sizes, bar, barIdx, rows, gatherDim, rowsOffsets);
    return;
  }
  if (n == "T.clear" || n == "T.fill") {
    Value buf = bufferOf(*info.args[0]);
    if (!buf)
      return;
    Type elem = mlir::cast<mlir::MemRefType>(buf.getType()).getElementType();
    Value v = n == "T.clear" ? constant(l, ConstValue(int64_t(0)), elem) : genAs(*info.args[1], elem);
    if (v)
      tl::FillOp::create(b_, l, buf, v);
    return;
  }
  if (n == "T.gemm") {
    gemm(call, info, Value());
    return;
  }
  if (n.rfind("T.reduce_", 0) == 0) {
    Value src = bufferOf(*info.args[0]);
    Value dst = bufferOf(*info.args[1]);
    if (!src || !dst)
      return;
    std::string kind = n.substr(9);
    tl::ReduceKind k = kind == "sum"      ? tl::ReduceKind::Sum
                       : kind == "max"    ? tl::ReduceKind::Max
                       : kind == "min"    ? tl::ReduceKind::Min
                       : kind == "abssum" ? tl::ReduceKind::AbsSum
                                          : tl::ReduceKind::AbsMax;
    int64_t rank = mlir::cast<mlir::MemRefType>(src.getType()).getRank();
    int64_t dim = constInt(info.args[2], -1);
    if (dim < 0)
      dim += rank;
    tl::ReduceOp::create(b_, l, k, src, dst, static_cast<uint64_t>(dim),
                         constBool(info.args[3], true));
    return;
  }
  if (n == "T.topk") {
    Value src = bufferOf(*info.args[0]);
    Value vals = bufferOf(*info.args[1]);
    Value idx = bufferOf(*info.args[2]);
    if (!src || !vals || !idx)
      return;
    tl::TopKOp::create(b_, l, src, vals, idx, static_cast<uint64_t>(constInt(info.args[3], 1)),
                       uint64_t(1));
    return;
  }
  if (n == "T.atomic_add") {
    atomicAdd(call, info);
    return;
  }
  if (n == "T.barrier_arrive" || n == "T.barrier_expect_tx" || n == "T.barrier_wait") {
    auto [bar, idx] = barrier(*info.args[0]);
    if (!bar)
      return;
    if (n == "T.barrier_arrive")
      tl::BarrierArriveOp::create(b_, l, bar, idx);
    else if (n == "T.barrier_expect_tx")
      tl::BarrierExpectTxOp::create(b_, l, bar, idx, genIndex(*info.args[1]));
    else
      tl::BarrierWaitOp::create(b_, l, bar, idx, genIndex(*info.args[1]));
    return;
  }
  if (n == "T.sync_threads") {
    if (!info.args[0]) {
      tl::SyncThreadsOp::create(b_, l);
      return;
    }
    // A named barrier: `thread_count` threads meet at barrier `barrier_id`.
    Value id = genIndex(*info.args[0]);
    if (id)
      tl::NamedBarrierOp::create(b_, l, id, constInt(info.args[1], 32), /*arrive=*/false);
    return;
  }
  if (n == "T.use_swizzle")
    return; // applied to the block indices by launch()
  if (n == "T.assert") {
    // A constant condition was checked by Sema; a run-time one becomes a
    // cf.assert whose message names the source line (the CPU target prints
    // it and aborts; the GPU targets print it and trap).
    const Expr &c = *info.args[0];
    if (c.sema.kind == SemaValue::Constant)
      return;
    Value cond = genAs(c, b_.getI1Type());
    if (!cond)
      return;
    std::string msg = "assertion failed";
    if (info.args[1] && info.args[1]->sema.constant)
      msg = std::get<std::string>(*info.args[1]->sema.constant);
    std::string where = diags_.file().path() + ":" + std::to_string(call.loc.line) + ":" +
                        std::to_string(call.loc.col);
    mlir::cf::AssertOp::create(b_, l, cond, where + ": T.assert failed: " + msg);
    return;
  }
  if (n == "T.print") {
    std::string msg;
    if (info.args[1] && info.args[1]->sema.constant)
      msg = std::get<std::string>(*info.args[1]->sema.constant);
    const Expr &x = *info.args[0];
    Value v;
    if (x.sema.kind == SemaValue::Buffer)
      v = bufferOf(x);
    else
      v = genAs(x, naturalType(x.sema));
    if (v)
      tl::PrintOp::create(b_, l, msg, v);
    return;
  }
  // Value builtins used as statements (atomics with return_prev) or
  // allocations whose result is dropped.
  callValue(call);
}

Value MLIRGenImpl::gemm(const CallExpr &call, const CallInfo &info, Value c) {
  Location l = loc(call.loc);
  Value a = bufferOf(*info.args[0]);
  Value bb = bufferOf(*info.args[1]);
  if (!a || !bb)
    return {};
  bool ta = constBool(info.args[3], false), tb = constBool(info.args[4], false);
  bool clear = constBool(info.args[5], false);
  if (info.args[2]) {
    c = bufferOf(*info.args[2]);
  } else {
    // `part = T.gemm(A, B)`: a fresh fragment, overwritten by the product.
    auto at = mlir::cast<mlir::MemRefType>(a.getType());
    auto bt = mlir::cast<mlir::MemRefType>(bb.getType());
    int64_t m = ta ? at.getDimSize(1) : at.getDimSize(0);
    int64_t n = tb ? bt.getDimSize(0) : bt.getDimSize(1);
    DType accum = call.sema.buffer ? call.sema.buffer->dtype : DType::F32;
    auto type = tl::getScopedMemRefType({m, n}, dtypeType(accum), tl::MemScope::Fragment);
    c = tl::AllocFragmentOp::create(b_, l, type);
    clear = true;
  }
  if (!c)
    return {};
  tl::GemmPolicy policy = tl::GemmPolicy::Square;
  if (const Expr *p = info.args[6]; p && p->sema.constant) {
    const std::string &name = std::get<std::string>(*p->sema.constant);
    policy = name == "FullRow" ? tl::GemmPolicy::FullRow
             : name == "FullCol" ? tl::GemmPolicy::FullCol
                                 : tl::GemmPolicy::Square;
  }
  Value sa, sb;
  mlir::IntegerAttr block;
  if (info.args[7]) {
    sa = bufferOf(*info.args[7]);
    sb = bufferOf(*info.args[8]);
    block = b_.getI64IntegerAttr(constInt(info.args[9], 32));
  }
  tl::GemmOp::create(b_, l, a, bb, c, sa, sb, ta, tb, clear, policy, block);
  return c;
}

Value MLIRGenImpl::atomicAdd(const CallExpr &call, const CallInfo &info) {
  Location l = loc(call.loc);
  const Expr &dst = *info.args[0];
  bool returnPrev = constBool(info.args[2], false);
  auto it = sema_.regions.find(&dst);
  if (it == sema_.regions.end()) {
    fail(dst.loc, "internal error: unanalysed atomic destination");
    return {};
  }
  const RegionInfo &r = it->second;
  Value buf = bufferOf(*r.base);
  if (!buf)
    return {};
  Type elem = mlir::cast<mlir::MemRefType>(buf.getType()).getElementType();
  llvm::SmallVector<Value> idx;
  for (const Expr *o : r.offsets)
    idx.push_back(o ? genIndex(*o) : index(l, 0));
  Value value;
  bool vector = false;
  for (bool k : r.kept)
    vector |= k;
  if (vector) {
    Value local = bufferOf(*info.args[1]);
    if (!local)
      return {};
    auto lt = mlir::cast<mlir::MemRefType>(local.getType());
    int64_t lanes = lt.getNumElements();
    llvm::SmallVector<Value> zeros(lt.getRank(), index(l, 0));
    // Lane by lane (element loads every target lowers), gathered into a
    // vector of the lanes.
    llvm::SmallVector<Value> lanesV;
    for (int64_t i = 0; i < lanes; ++i) {
      llvm::SmallVector<Value> at(zeros);
      for (int64_t d = lt.getRank() - 1, rem = i; d >= 0; --d) {
        at[d] = index(l, rem % lt.getDimSize(d));
        rem /= lt.getDimSize(d);
      }
      lanesV.push_back(mlir::memref::LoadOp::create(b_, l, local, at));
    }
    auto vt = mlir::VectorType::get({lanes}, elem);
    value = mlir::vector::FromElementsOp::create(b_, l, vt, lanesV);
  } else {
    value = genAs(*info.args[1], elem);
  }
  if (!value)
    return {};
  auto op = markUnchecked(tl::AtomicAddOp::create(b_, l, returnPrev ? value.getType() : Type(), buf, idx,
                                    value, returnPrev));
  return returnPrev ? op.getPrev() : Value();
}

} // namespace tlc::mlirgen
