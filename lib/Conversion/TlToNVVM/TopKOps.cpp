// tl.topk on the GPU: row-wise top-k between shared buffers (tl-stage-shared
// routes fragment and local operands through shared temporaries).
//
// One warp per row (rows dealt to the warps in turn). The k results come
// out largest first by k selection rounds: in each round every lane scans
// its columns (j = lane, lane + 32, ...) for the best element that ranks
// after the previous round's pick, in the order "larger value first, then
// lower index" (the CPU target's and docs/language.md's order: ties go to
// the lower index), then the warp agrees on the best of the 32 candidates
// with butterfly shuffles. Values compare as f32, like the CPU target.
// Cost: k * ceil(C / 32) shared loads per lane and no scratch; rows of any
// length and any k <= C work. Rows holding NaN give an unspecified order.
#include "Common.h"

namespace tlc::nvvm {

namespace {

Value shfl(OpBuilder &b, Location loc, Value v, int64_t mask) {
  Type t = v.getType();
  return asmOp(b, loc, t, {v, cI32(b, loc, mask)},
               "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;", t.isF32() ? "=f,f,r" : "=r,r,r");
}

struct TopKLowering : public OpConversionPattern<tl::TopKOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::TopKOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto srcT = cast<MemRefType>(op.getSrc().getType());
    auto valT = cast<MemRefType>(op.getValues().getType());
    auto idxT = cast<MemRefType>(op.getIndices().getType());
    for (MemRefType t : {srcT, valT, idxT})
      if (tl::getMemScope(t) != tl::MemScope::Shared)
        return op.emitError("T.topk reaches the GPU lowering with shared operands only "
                            "(internal: run tl-stage-shared)");
    int64_t dim = op.getDim(), k = op.getK();
    int64_t rows = srcT.getDimSize(1 - dim), n = srcT.getDimSize(dim);
    Type se = srcT.getElementType();
    Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type();
    int64_t warps = threadsOf(op) / kWarpSize;
    Value src = adaptor.getSrc(), vals = adaptor.getValues(), idxs = adaptor.getIndices();
    auto at = [&](Value r, Value j) {
      return dim == 1 ? SmallVector<Value>{r, j} : SmallVector<Value>{j, r};
    };
    syncThreadsOf(rewriter, loc, op);
    Value tid = arith::SubIOp::create(rewriter, loc, threadIdx(rewriter, loc),
                                      cIndex(rewriter, loc, firstThreadOf(op)));
    Value lane = arith::RemUIOp::create(rewriter, loc, tid, cIndex(rewriter, loc, kWarpSize));
    Value warp = arith::DivUIOp::create(rewriter, loc, tid, cIndex(rewriter, loc, kWarpSize));
    auto rowLoop = scf::ForOp::create(rewriter, loc, warp, cIndex(rewriter, loc, rows),
                                      cIndex(rewriter, loc, warps));
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(rowLoop.getBody()->getTerminator());
    Value r = rowLoop.getInductionVar();
    Value none = cI32(rewriter, loc, -1);
    Value zeroF = arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(0));
    auto slt = [&](OpBuilder &b, Location l, Value a, Value c) {
      return arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, a, c).getResult();
    };
    auto fcmp = [&](OpBuilder &b, Location l, arith::CmpFPredicate p, Value a, Value c) {
      return arith::CmpFOp::create(b, l, p, a, c).getResult();
    };
    auto orOp = [&](OpBuilder &b, Location l, Value a, Value c) {
      return arith::OrIOp::create(b, l, a, c).getResult();
    };
    auto andOp = [&](OpBuilder &b, Location l, Value a, Value c) {
      return arith::AndIOp::create(b, l, a, c).getResult();
    };
    scf::ForOp::create(
        rewriter, loc, cIndex(rewriter, loc, 0), cIndex(rewriter, loc, k),
        cIndex(rewriter, loc, 1), ValueRange{zeroF, none},
        [&](OpBuilder &b, Location l, Value t, ValueRange prev) {
          Value pv = prev[0], pi = prev[1];
          Value noPrev = slt(b, l, pi, cI32(b, l, 0));
          // This lane's best element ranking after (pv, pi).
          auto scan = scf::ForOp::create(
              b, l, lane, cIndex(b, l, n), cIndex(b, l, kWarpSize), ValueRange{zeroF, none},
              [&](OpBuilder &sb, Location sl, Value j, ValueRange best) {
                Value x = convertScalar(sb, sl, loadShared(sb, sl, src, srcT, at(r, j)), se, f32);
                Value ji = toI32(sb, sl, j);
                Value after = orOp(
                    sb, sl, noPrev,
                    orOp(sb, sl, fcmp(sb, sl, arith::CmpFPredicate::OLT, x, pv),
                         andOp(sb, sl, fcmp(sb, sl, arith::CmpFPredicate::OEQ, x, pv),
                               slt(sb, sl, pi, ji))));
                // Columns rise within a lane: an equal value never wins.
                Value better = orOp(sb, sl, slt(sb, sl, best[1], cI32(sb, sl, 0)),
                                    fcmp(sb, sl, arith::CmpFPredicate::OGT, x, best[0]));
                Value take = andOp(sb, sl, after, better);
                scf::YieldOp::create(sb, sl,
                                     ValueRange{arith::SelectOp::create(sb, sl, take, x, best[0]),
                                                arith::SelectOp::create(sb, sl, take, ji, best[1])});
              });
          Value bv = scan.getResult(0), bi = scan.getResult(1);
          // The warp's best: larger value, then lower index.
          for (int64_t m = 1; m < kWarpSize; m *= 2) {
            Value ov = shfl(b, l, bv, m), oi = shfl(b, l, bi, m);
            Value otherWins = andOp(
                b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, oi, cI32(b, l, 0)),
                orOp(b, l, slt(b, l, bi, cI32(b, l, 0)),
                     orOp(b, l, fcmp(b, l, arith::CmpFPredicate::OGT, ov, bv),
                          andOp(b, l, fcmp(b, l, arith::CmpFPredicate::OEQ, ov, bv),
                                slt(b, l, oi, bi)))));
            bv = arith::SelectOp::create(b, l, otherWins, ov, bv);
            bi = arith::SelectOp::create(b, l, otherWins, oi, bi);
          }
          Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, lane, cIndex(b, l, 0));
          auto ifOp = scf::IfOp::create(b, l, first, /*withElseRegion=*/false);
          {
            OpBuilder::InsertionGuard g(b);
            b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
            // The selected element itself (exact in its dtype); index 0 is
            // read only when a NaN left nothing to pick.
            Value col = toIndex(b, l, arith::MaxSIOp::create(b, l, bi, cI32(b, l, 0)));
            storeShared(b, l, vals, valT, at(r, t), loadShared(b, l, src, srcT, at(r, col)));
            storeShared(b, l, idxs, idxT, at(r, t), bi);
          }
          scf::YieldOp::create(b, l, ValueRange{bv, bi});
        });
    rewriter.setInsertionPointAfter(rowLoop);
    syncThreadsOf(rewriter, loc, op);
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateTopKPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                          const NVIDIATarget &) {
  patterns.add<TopKLowering>(tc, patterns.getContext());
}

} // namespace tlc::nvvm
