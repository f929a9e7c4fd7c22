// Warp exchanges: tl.warp as shfl.sync (bfly / down / up / idx), vote.sync
// (any / all / ballot) and match.any.sync over the full warp (mask ~0).
#include "Common.h"

namespace tlc::nvvm {

namespace {

namespace nv = mlir::NVVM;

struct WarpLowering : public OpConversionPattern<tl::WarpOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::WarpOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type i32 = rewriter.getI32Type();
    Value full = arith::ConstantOp::create(rewriter, loc, rewriter.getIntegerAttr(i32, -1));
    StringRef k = op.getKind();
    Value v = adaptor.getValue();
    Value r;
    if (k == "any" || k == "all")
      r = nv::VoteSyncOp::create(rewriter, loc, rewriter.getI1Type(), full, v,
                                 k == "any" ? nv::VoteSyncKind::any : nv::VoteSyncKind::all);
    else if (k == "ballot")
      r = nv::VoteSyncOp::create(rewriter, loc, i32, full, v, nv::VoteSyncKind::ballot);
    else if (k == "match_any")
      r = nv::MatchSyncOp::create(rewriter, loc, i32, full, v, nv::MatchSyncKind::any);
    else {
      nv::ShflKind kind = k == "shfl_xor"    ? nv::ShflKind::bfly
                          : k == "shfl_down" ? nv::ShflKind::down
                          : k == "shfl_up"   ? nv::ShflKind::up
                                             : nv::ShflKind::idx;
      // c = 0x1f for the whole warp (0 for shfl.up, whose clamp is the low bound).
      Value clamp = arith::ConstantOp::create(
          rewriter, loc, rewriter.getIntegerAttr(i32, kind == nv::ShflKind::up ? 0 : 0x1f));
      r = nv::ShflOp::create(rewriter, loc, v.getType(), full, v, adaptor.getLane(), clamp, kind,
                             mlir::UnitAttr());
    }
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateWarpPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                          const NVIDIATarget &) {
  patterns.add<WarpLowering>(tc, patterns.getContext());
}

} // namespace tlc::nvvm
