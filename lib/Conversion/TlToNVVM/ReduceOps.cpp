// tl.reduce and tl.convert_layout, both driven by the layouts' bases.
//
// A reduction along dimension d of a register buffer with layout L:
//  1. each thread combines its slots that hold the same output element
//     (register bits of L that only move along d);
//  2. butterfly shuffles over the lane bits of L that move along d;
//  3. across warps (warp bits that move along d) through shared scratch:
//     each warp's partials, then every thread combines the partials of the
//     warps that differ from its own only in those bits.
// The destination is L with d projected away (what tl-infer-layouts gives
// it), or replicated, in which case the results go through shared scratch
// to every thread.
//
// A layout conversion is a register permutation when both layouts place
// elements in the same lanes and warps; otherwise the tile goes through
// shared scratch.
#include "Common.h"

namespace tlc::nvvm {

namespace {

/// Stores v to ptr, only where `cond` holds (unconditionally without one):
/// one replica of a value writes it to shared scratch.
void storeIf(OpBuilder &b, Location loc, Value cond, Value v, Value ptr) {
  if (!cond) {
    LLVM::StoreOp::create(b, loc, v, ptr);
    return;
  }
  auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  LLVM::StoreOp::create(b, loc, v, ptr);
}

bool isReplicated(const tl::LinearLayout &l) {
  for (auto in : {tl::LinearLayout::Lane, tl::LinearLayout::Warp})
    for (auto &b : l.getBases(in))
      if (llvm::any_of(b, [](int64_t x) { return x != 0; }))
        return false;
  return true;
}

Value identity(OpBuilder &b, Location loc, tl::ReduceKind kind, Type t) {
  double v = 0;
  if (kind == tl::ReduceKind::Max)
    v = -std::numeric_limits<double>::infinity();
  if (kind == tl::ReduceKind::Min)
    v = std::numeric_limits<double>::infinity();
  if (auto ft = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, v));
  unsigned w = t.getIntOrFloatBitWidth();
  if (kind == tl::ReduceKind::Max)
    return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, APInt::getSignedMinValue(w)));
  if (kind == tl::ReduceKind::Min)
    return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, APInt::getSignedMaxValue(w)));
  return zeroOf(b, loc, t);
}

Value combine(OpBuilder &b, Location loc, tl::ReduceKind kind, Value x, Value y) {
  bool f = isa<FloatType>(x.getType());
  switch (kind) {
  case tl::ReduceKind::Max:
  case tl::ReduceKind::AbsMax:
    return f ? Value(arith::MaxNumFOp::create(b, loc, x, y)) : Value(arith::MaxSIOp::create(b, loc, x, y));
  case tl::ReduceKind::Min:
    return f ? Value(arith::MinNumFOp::create(b, loc, x, y)) : Value(arith::MinSIOp::create(b, loc, x, y));
  default:
    return f ? Value(arith::AddFOp::create(b, loc, x, y)) : Value(arith::AddIOp::create(b, loc, x, y));
  }
}

Value shuffleXor(OpBuilder &b, Location loc, Value v, int64_t mask) {
  Type t = v.getType();
  if (t.isF32() || t.isInteger(32))
    return asmOp(b, loc, t, {v, cI32(b, loc, mask)},
                 "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", t.isF32() ? "=f,f,r" : "=r,r,r");
  Value bits = t.isInteger(64) ? v : arith::BitcastOp::create(b, loc, b.getI64Type(), v).getResult();
  Value sh = asmOp(b, loc, b.getI64Type(), {bits, cI32(b, loc, mask)},
                   "{ .reg .b32 lo, hi; mov.b64 {lo, hi}, $1; "
                   "shfl.sync.bfly.b32 lo, lo, $2, 0x1f, 0xffffffff; "
                   "shfl.sync.bfly.b32 hi, hi, $2, 0x1f, 0xffffffff; mov.b64 $0, {lo, hi}; }",
                   "=l,l,r");
  return t.isInteger(64) ? sh : Value(arith::BitcastOp::create(b, loc, t, sh));
}

/// The accumulation type: f32 for 16/32-bit floats, the integer otherwise.
Type accType(Type elem) {
  if (isa<FloatType>(elem) && elem.getIntOrFloatBitWidth() <= 32)
    return Float32Type::get(elem.getContext());
  return elem;
}

Value scratchPtr(OpBuilder &b, Location loc, Operation *op, Type elem, Value index) {
  auto off = op->getAttrOfType<IntegerAttr>(tl::kScratchAttrName);
  Value base = LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3),
                                   b.getI8Type(), sharedBase(b, loc),
                                   ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(off.getInt())});
  return LLVM::GEPOp::create(b, loc, base.getType(), elem, base, ValueRange{toI64(b, loc, index)});
}

Value flatIndex(OpBuilder &b, Location loc, ArrayRef<Value> coords, ArrayRef<int64_t> padded) {
  SmallVector<Value> dims;
  for (int64_t p : padded)
    dims.push_back(cIndex(b, loc, p));
  return linearize(b, loc, coords, dims);
}

/// A reduction of a shared buffer into a shared buffer (tl-stage-shared
/// routes register destinations through one). `g` lanes (a power of two up
/// to a warp) share each output element, each combining a strided part of
/// the reduced dimension, then butterfly shuffles within the g lanes; the
/// outputs are dealt to the groups of g threads in rounds that every thread
/// runs, so all lanes of a warp take part in every shuffle.
LogicalResult lowerSharedReduce(tl::ReduceOp op, tl::ReduceOp::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  auto srcT = cast<MemRefType>(op.getSrc().getType());
  auto dstT = cast<MemRefType>(op.getDst().getType());
  if (tl::getMemScope(dstT) != tl::MemScope::Shared)
    return op.emitError("a reduction of a shared buffer into a register buffer reaches the "
                        "lowering only through a shared temporary (internal: run "
                        "tl-stage-shared)");
  unsigned dim = op.getDim();
  tl::ReduceKind kind = op.getKind();
  Type se = srcT.getElementType(), de = dstT.getElementType();
  Type at = accType(se);
  if (!isa<FloatType>(at) && !at.isInteger(32) && !at.isInteger(64))
    return op.emitError("the GPU lowering reduces float, int32 and int64 buffers");
  ArrayRef<int64_t> shape = srcT.getShape();
  int64_t len = shape[dim];
  SmallVector<int64_t> outShape;
  for (auto [d, n] : llvm::enumerate(shape))
    if (d != dim)
      outShape.push_back(n);
  int64_t outs = 1;
  for (int64_t n : outShape)
    outs *= n;
  int64_t threads = threadsOf(op);
  int64_t g = 1;
  while (g < kWarpSize && g < len && outs * g * 2 <= threads)
    g *= 2;
  int64_t groups = threads / g, rounds = (outs + groups - 1) / groups;
  syncThreadsOf(rewriter, loc, op);
  Value tid = arith::SubIOp::create(rewriter, loc, threadIdx(rewriter, loc),
                                    cIndex(rewriter, loc, firstThreadOf(op)));
  Value part = arith::RemUIOp::create(rewriter, loc, tid, cIndex(rewriter, loc, g));
  Value grp = arith::DivUIOp::create(rewriter, loc, tid, cIndex(rewriter, loc, g));
  auto roundLoop = scf::ForOp::create(rewriter, loc, cIndex(rewriter, loc, 0),
                                      cIndex(rewriter, loc, rounds), cIndex(rewriter, loc, 1));
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(roundLoop.getBody()->getTerminator());
  Value o = arith::AddIOp::create(
      rewriter, loc,
      arith::MulIOp::create(rewriter, loc, roundLoop.getInductionVar(),
                            cIndex(rewriter, loc, groups)),
      grp);
  Value valid = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult, o,
                                      cIndex(rewriter, loc, outs));
  // Out-of-range groups read a valid element and discard the result.
  Value oc = arith::MinUIOp::create(rewriter, loc, o, cIndex(rewriter, loc, outs - 1));
  SmallVector<Value> outCoords(outShape.size());
  for (int64_t d = static_cast<int64_t>(outShape.size()) - 1; d >= 0; --d) {
    outCoords[d] = arith::RemUIOp::create(rewriter, loc, oc, cIndex(rewriter, loc, outShape[d]));
    oc = arith::DivUIOp::create(rewriter, loc, oc, cIndex(rewriter, loc, outShape[d]));
  }
  Value srcBase = adaptor.getSrc(), dstBase = adaptor.getDst();
  auto scan = scf::ForOp::create(
      rewriter, loc, part, cIndex(rewriter, loc, len), cIndex(rewriter, loc, g),
      ValueRange{identity(rewriter, loc, kind, at)},
      [&](OpBuilder &b, Location l, Value j, ValueRange acc) {
        SmallVector<Value> c(outCoords);
        c.insert(c.begin() + dim, j);
        Value x = convertScalar(b, l, loadShared(b, l, srcBase, srcT, c), se, at);
        if (kind == tl::ReduceKind::AbsMax || kind == tl::ReduceKind::AbsSum)
          x = isa<FloatType>(at) ? Value(math::AbsFOp::create(b, l, x))
                                 : Value(math::AbsIOp::create(b, l, x));
        scf::YieldOp::create(b, l, ValueRange{combine(b, l, kind, acc[0], x)});
      });
  Value r = scan.getResult(0);
  for (int64_t m = 1; m < g; m *= 2)
    r = combine(rewriter, loc, kind, r, shuffleXor(rewriter, loc, r, m));
  Value leader = arith::AndIOp::create(
      rewriter, loc, valid,
      arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, part,
                            cIndex(rewriter, loc, 0)));
  auto ifOp = scf::IfOp::create(rewriter, loc, leader, /*withElseRegion=*/false);
  rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  SmallVector<Value> dc(outCoords);
  if (dc.empty())
    dc.push_back(cIndex(rewriter, loc, 0));
  if (!op.getClear())
    r = combine(rewriter, loc, kind,
                convertScalar(rewriter, loc, loadShared(rewriter, loc, dstBase, dstT, dc), de, at),
                r);
  storeShared(rewriter, loc, dstBase, dstT, dc, convertScalar(rewriter, loc, r, at, de));
  rewriter.setInsertionPointAfter(roundLoop);
  syncThreadsOf(rewriter, loc, op);
  rewriter.eraseOp(op);
  return success();
}

struct ReduceLowering : public OpConversionPattern<tl::ReduceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::ReduceOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto srcT = cast<MemRefType>(op.getSrc().getType());
    auto dstT = cast<MemRefType>(op.getDst().getType());
    if (tl::getMemScope(srcT) == tl::MemScope::Shared)
      return lowerSharedReduce(op, adaptor, rewriter);
    std::optional<tl::LinearLayout> ls = tl::getBufferLayout(srcT), ld = tl::getBufferLayout(dstT);
    if (!ls || !ld || !ls->isRegisterLayout())
      return op.emitError("the GPU lowering reduces register buffers (fragments) only");
    unsigned dim = op.getDim();
    tl::ReduceKind kind = op.getKind();
    Type se = srcT.getElementType(), de = dstT.getElementType();
    Type at = accType(se);
    if (!isa<FloatType>(at) && !at.isInteger(32) && !at.isInteger(64))
      return op.emitError("the GPU lowering reduces float, i32 and i64 buffers");
    // The projection of the source layout: where each thread's results are.
    tl::LinearLayout proj = ls->dropOutDim(dim).withoutRedundantRegisters();
    bool direct = *ld == proj;
    if (!direct && !isReplicated(*ld))
      return op.emitError("reduction destination laid out neither as the projection of its "
                          "source nor replicated (internal: tl-infer-layouts converts it)");
    for (auto in : {tl::LinearLayout::Lane, tl::LinearLayout::Warp})
      for (auto &b : ls->getBases(in))
        if (b[dim] != 0 && llvm::count_if(b, [](int64_t x) { return x != 0; }) > 1)
          return op.emitError("a lane or warp of the source layout moves along the reduced and "
                              "another dimension at once; convert the source first");
    tl::HwIndex hw = hwIndex(rewriter, loc);
    // 1. Per-thread partials, one per slot of the projection.
    int64_t outSlots = proj.getInSize(tl::LinearLayout::Register);
    SmallVector<Value> partial(outSlots, identity(rewriter, loc, kind, at));
    Type sreg = registerType(se);
    for (int64_t s = 0; s < ls->getInSize(tl::LinearLayout::Register); ++s) {
      tl::LinearLayout::Coords reg = ls->apply(tl::LinearLayout::Register, s);
      int cls = tl::classifySlot(*ls, srcT.getShape(), reg);
      if (cls == 1)
        continue;
      Value x = LLVM::LoadOp::create(rewriter, loc, sreg, slotPtr(rewriter, loc, adaptor.getSrc(), sreg, s));
      x = convertScalar(rewriter, loc, x, se, at);
      if (kind == tl::ReduceKind::AbsMax || kind == tl::ReduceKind::AbsSum)
        x = isa<FloatType>(at) ? Value(math::AbsFOp::create(rewriter, loc, x))
                               : Value(math::AbsIOp::create(rewriter, loc, x));
      if (cls == 0) {
        SmallVector<Value> c = tl::emitSlotCoords(rewriter, loc, *ls, s, hw);
        SmallVector<Value> dims;
        for (int64_t d : srcT.getShape())
          dims.push_back(cIndex(rewriter, loc, d));
        x = arith::SelectOp::create(rewriter, loc, inBounds(rewriter, loc, c, dims), x,
                                    identity(rewriter, loc, kind, at));
      }
      tl::LinearLayout::Coords p = reg;
      p.erase(p.begin() + dim);
      int64_t o = *proj.solveRegister(p);
      partial[o] = combine(rewriter, loc, kind, partial[o], x);
    }
    // 2. Lanes that hold other elements of the same output.
    for (auto [k, b] : llvm::enumerate(ls->getBases(tl::LinearLayout::Lane)))
      if (b[dim] != 0)
        for (Value &p : partial)
          p = combine(rewriter, loc, kind, p, shuffleXor(rewriter, loc, p, int64_t{1} << k));
    // 3. Warps.
    int64_t warpMask = 0;
    for (auto [k, b] : llvm::enumerate(ls->getBases(tl::LinearLayout::Warp)))
      if (b[dim] != 0)
        warpMask |= int64_t{1} << k;
    SmallVector<int64_t> dstPadded = tl::LinearLayout::padShape(dstT.getShape());
    int64_t dstNumel = 1;
    for (int64_t x : dstPadded)
      dstNumel *= x;
    auto outCoords = [&](int64_t o) { return tl::emitSlotCoords(rewriter, loc, proj, o, hw); };
    // Only one of the threads that hold the same value writes it to scratch
    // (the others would write the same bits to the same place: a race).
    if (warpMask) {
      // Per warp: the lanes whose replicated lane bits (in the projection)
      // are zero.
      int64_t laneRepl = 0;
      for (auto [k, c] : llvm::enumerate(proj.getBases(tl::LinearLayout::Lane)))
        if (llvm::all_of(c, [](int64_t x) { return x == 0; }))
          laneRepl |= int64_t{1} << k;
      Value laneLeader;
      if (laneRepl)
        laneLeader = arith::CmpIOp::create(
            rewriter, loc, arith::CmpIPredicate::eq,
            arith::AndIOp::create(rewriter, loc, hw.lane, cIndex(rewriter, loc, laneRepl)),
            cIndex(rewriter, loc, 0));
      syncThreadsOf(rewriter, loc, op);
      for (int64_t o = 0; o < outSlots; ++o) {
        Value idx = arith::AddIOp::create(
            rewriter, loc,
            arith::MulIOp::create(rewriter, loc, hw.warp, cIndex(rewriter, loc, dstNumel)),
            flatIndex(rewriter, loc, outCoords(o), dstPadded));
        storeIf(rewriter, loc, laneLeader, partial[o], scratchPtr(rewriter, loc, op, at, idx));
      }
      syncThreadsOf(rewriter, loc, op);
      for (int64_t o = 0; o < outSlots; ++o) {
        Value flat = flatIndex(rewriter, loc, outCoords(o), dstPadded);
        Value r = identity(rewriter, loc, kind, at);
        // The warps that differ from this one only in the bits of warpMask,
        // in a fixed order so every thread combines identically.
        Value wClear = arith::AndIOp::create(rewriter, loc, hw.warp, cIndex(rewriter, loc, ~warpMask));
        for (int64_t m = 0; m <= warpMask; ++m) {
          if ((m & ~warpMask) != 0)
            continue;
          Value w = arith::OrIOp::create(rewriter, loc, wClear, cIndex(rewriter, loc, m));
          Value idx = arith::AddIOp::create(
              rewriter, loc, arith::MulIOp::create(rewriter, loc, w, cIndex(rewriter, loc, dstNumel)),
              flat);
          r = combine(rewriter, loc, kind, r,
                      LLVM::LoadOp::create(rewriter, loc, at, scratchPtr(rewriter, loc, op, at, idx)));
        }
        partial[o] = r;
      }
      syncThreadsOf(rewriter, loc, op);
    }
    // 4. Results.
    Type dreg = registerType(de);
    auto finish = [&](Value r, Value slot) {
      Value p = slotPtr(rewriter, loc, adaptor.getDst(), dreg, slot);
      Value v = convertScalar(rewriter, loc, r, at, de);
      if (!op.getClear())
        v = convertScalar(rewriter, loc,
                          combine(rewriter, loc, kind,
                                  convertScalar(rewriter, loc, LLVM::LoadOp::create(rewriter, loc, dreg, p), de, at),
                                  r),
                          at, de);
      LLVM::StoreOp::create(rewriter, loc, v, p);
    };
    if (direct) {
      for (int64_t o = 0; o < outSlots; ++o)
        finish(partial[o], cIndex(rewriter, loc, o));
    } else {
      // Replicated destination: every thread reads every result, which one
      // replica of each writes.
      syncThreadsOf(rewriter, loc, op);
      Value leader = tl::emitReplicaLeader(rewriter, loc, proj, hw);
      for (int64_t o = 0; o < outSlots; ++o)
        storeIf(rewriter, loc, leader, partial[o],
                scratchPtr(rewriter, loc, op, at,
                           flatIndex(rewriter, loc, outCoords(o), dstPadded)));
      syncThreadsOf(rewriter, loc, op);
      for (int64_t e = 0; e < dstNumel; ++e)
        finish(LLVM::LoadOp::create(rewriter, loc, at,
                                    scratchPtr(rewriter, loc, op, at, cIndex(rewriter, loc, e))),
               cIndex(rewriter, loc, e));
      syncThreadsOf(rewriter, loc, op);
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct ConvertLayoutLowering : public OpConversionPattern<tl::ConvertLayoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::ConvertLayoutOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto srcT = cast<MemRefType>(op.getSrc().getType());
    auto dstT = cast<MemRefType>(op.getDst().getType());
    tl::LinearLayout ls = *tl::getBufferLayout(srcT), ld = *tl::getBufferLayout(dstT);
    Type reg = registerType(srcT.getElementType());
    int64_t dstSlots = ld.getInSize(tl::LinearLayout::Register);
    // Registers only: the same lanes and warps hold the same elements.
    bool sameThreads = ls.getBases(tl::LinearLayout::Lane) == ld.getBases(tl::LinearLayout::Lane) &&
                       ls.getBases(tl::LinearLayout::Warp) == ld.getBases(tl::LinearLayout::Warp);
    if (sameThreads) {
      SmallVector<int64_t> from;
      for (int64_t s = 0; s < dstSlots && sameThreads; ++s) {
        auto r = ls.solveRegister(ld.apply(tl::LinearLayout::Register, s));
        sameThreads = r.has_value();
        from.push_back(r.value_or(0));
      }
      if (sameThreads) {
        SmallVector<Value> vals;
        for (int64_t s = 0; s < dstSlots; ++s)
          vals.push_back(LLVM::LoadOp::create(rewriter, loc, reg,
                                              slotPtr(rewriter, loc, adaptor.getSrc(), reg, from[s])));
        for (int64_t s = 0; s < dstSlots; ++s)
          LLVM::StoreOp::create(rewriter, loc, vals[s], slotPtr(rewriter, loc, adaptor.getDst(), reg, s));
        rewriter.eraseOp(op);
        return success();
      }
    }
    // Through shared scratch, row-major over the padded tile.
    SmallVector<int64_t> padded = tl::LinearLayout::padShape(srcT.getShape());
    tl::HwIndex hw = hwIndex(rewriter, loc);
    syncThreadsOf(rewriter, loc, op);
    // One replica of a replicated source writes each element.
    Value leader = tl::emitReplicaLeader(rewriter, loc, ls, hw);
    for (int64_t s = 0; s < ls.getInSize(tl::LinearLayout::Register); ++s) {
      Value v = LLVM::LoadOp::create(rewriter, loc, reg, slotPtr(rewriter, loc, adaptor.getSrc(), reg, s));
      Value idx = flatIndex(rewriter, loc, tl::emitSlotCoords(rewriter, loc, ls, s, hw), padded);
      storeIf(rewriter, loc, leader, v, scratchPtr(rewriter, loc, op, reg, idx));
    }
    syncThreadsOf(rewriter, loc, op);
    for (int64_t s = 0; s < dstSlots; ++s) {
      Value idx = flatIndex(rewriter, loc, tl::emitSlotCoords(rewriter, loc, ld, s, hw), padded);
      Value v = LLVM::LoadOp::create(rewriter, loc, reg, scratchPtr(rewriter, loc, op, reg, idx));
      LLVM::StoreOp::create(rewriter, loc, v, slotPtr(rewriter, loc, adaptor.getDst(), reg, s));
    }
    syncThreadsOf(rewriter, loc, op);
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateReducePatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                            const NVIDIATarget &) {
  patterns.add<ReduceLowering, ConvertLayoutLowering>(tc, patterns.getContext());
}

} // namespace tlc::nvvm
