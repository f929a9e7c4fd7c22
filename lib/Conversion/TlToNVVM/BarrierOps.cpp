// Synchronisation: block and role barriers, mbarrier arrivals, transaction
// counts and phase waits, and warp-specialised roles (a branch per role on
// the thread index, each starting with setmaxnreg when it asks for a budget).
#include "Common.h"

namespace tlc::nvvm {

namespace {

/// The 32-bit shared address of barrier `index` of an mbarrier array.
Value barrierAddr(OpBuilder &b, Location loc, Value array, Value index) {
  Value p = LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3),
                                b.getI64Type(), array, ValueRange{toI64(b, loc, index)});
  return sharedAddr32(b, loc, p);
}

struct SyncThreadsLowering : public OpConversionPattern<tl::SyncThreadsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::SyncThreadsOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    syncThreadsOf(rewriter, op.getLoc(), op);
    rewriter.eraseOp(op);
    return success();
  }
};

struct NamedBarrierLowering : public OpConversionPattern<tl::NamedBarrierOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::NamedBarrierOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    std::string text = llvm::formatv("{0} $0, {1};", op.getArrive() ? "bar.arrive" : "bar.sync",
                                     op.getThreads())
                           .str();
    asmVoid(rewriter, loc, {toI32(rewriter, loc, adaptor.getId())}, text, "r,~{memory}");
    rewriter.eraseOp(op);
    return success();
  }
};

struct ArriveLowering : public OpConversionPattern<tl::BarrierArriveOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::BarrierArriveOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value addr = barrierAddr(rewriter, loc, adaptor.getBarrier(), adaptor.getIndex());
    if (!op.getPerWarp()) {
      mbarrierArrive(rewriter, loc, addr);
      rewriter.eraseOp(op);
      return success();
    }
    // One arrival per warp: the lanes converge, lane 0 arrives.
    asmVoid(rewriter, loc, {}, "bar.warp.sync 0xffffffff;", "~{memory}");
    Value lane = arith::RemUIOp::create(rewriter, loc, threadIdx(rewriter, loc),
                                        cIndex(rewriter, loc, kWarpSize));
    Value first = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, lane,
                                        cIndex(rewriter, loc, 0));
    auto ifOp = scf::IfOp::create(rewriter, loc, first, false);
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    mbarrierArrive(rewriter, loc, addr);
    rewriter.eraseOp(op);
    return success();
  }
};

struct ExpectTxLowering : public OpConversionPattern<tl::BarrierExpectTxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::BarrierExpectTxOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value addr = barrierAddr(rewriter, loc, adaptor.getBarrier(), adaptor.getIndex());
    if (op.getArrive())
      mbarrierArriveExpectTx(rewriter, loc, addr, adaptor.getBytes());
    else
      asmVoid(rewriter, loc, {addr, toI32(rewriter, loc, adaptor.getBytes())},
              "mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [$0], $1;", "r,r,~{memory}");
    rewriter.eraseOp(op);
    return success();
  }
};

struct WaitLowering : public OpConversionPattern<tl::BarrierWaitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::BarrierWaitOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    mbarrierWait(rewriter, loc, barrierAddr(rewriter, loc, adaptor.getBarrier(), adaptor.getIndex()),
                 adaptor.getParity());
    rewriter.eraseOp(op);
    return success();
  }
};

/// Role i runs on threads [first_i, first_i + n_i): a chain of branches on
/// the thread index, the last role in the final else.
struct WarpSpecializeLowering : public OpConversionPattern<tl::WarpSpecializeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::WarpSpecializeOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ArrayRef<int64_t> roles = op.getRoles(), regs = op.getRegs();
    int64_t total = 0;
    for (int64_t n : roles)
      total += n;
    // Registers each thread has at launch (nvvm.maxntid = total, 1 block/SM).
    int64_t launchRegs = std::min<int64_t>(255, 65536 / total) / 8 * 8;
    Value tid = threadIdx(rewriter, loc);
    unsigned n = roles.size();
    for (unsigned i = 0; i < n; ++i) {
      int64_t first = op.getRoleBegin(i);
      Region &body = op.getBodies()[i];
      auto emitBody = [&](Block *dest) {
        OpBuilder::InsertionGuard g(rewriter);
        rewriter.setInsertionPointToStart(dest);
        if (regs[i])
          asmVoid(rewriter, loc, {},
                  llvm::formatv("setmaxnreg.{0}.sync.aligned.u32 {1};",
                                regs[i] < launchRegs ? "dec" : "inc", regs[i])
                      .str(),
                  "~{memory}");
        Block &src = body.front();
        rewriter.eraseOp(src.getTerminator());
        rewriter.inlineBlockBefore(&src, dest->getTerminator());
      };
      if (i + 1 == n) {
        // The last role: what is left (the else of the previous branch).
        auto ifOp = scf::IfOp::create(rewriter, loc,
                                      arith::ConstantOp::create(rewriter, loc, rewriter.getBoolAttr(true)),
                                      false);
        ifOp->setAttr(kRoleAttrName, rewriter.getDenseI64ArrayAttr(
                                         {int64_t(i), first, roles[i]}));
        emitBody(ifOp.thenBlock());
        break;
      }
      Value lo = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::uge, tid,
                                       cIndex(rewriter, loc, first));
      Value hi = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult, tid,
                                       cIndex(rewriter, loc, first + roles[i]));
      auto ifOp = scf::IfOp::create(rewriter, loc, arith::AndIOp::create(rewriter, loc, lo, hi),
                                    /*withElse=*/true);
      ifOp->setAttr(kRoleAttrName,
                    rewriter.getDenseI64ArrayAttr({int64_t(i), first, roles[i]}));
      emitBody(ifOp.thenBlock());
      rewriter.setInsertionPoint(ifOp.elseBlock()->getTerminator());
    }
    rewriter.eraseOp(op);
    return success();
  }
};

/// T.print has no GPU lowering yet: say so at the call, in the user's words.
struct PrintRefusal : public OpConversionPattern<tl::PrintOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::PrintOp op, OpAdaptor,
                                ConversionPatternRewriter &) const override {
    return op.emitError("T.print is not supported by the GPU targets yet");
  }
};

} // namespace

void populateBarrierPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                             const NVIDIATarget &) {
  patterns.add<PrintRefusal, SyncThreadsLowering, NamedBarrierLowering, ArriveLowering, ExpectTxLowering, WaitLowering,
               WarpSpecializeLowering>(tc, patterns.getContext());
}

} // namespace tlc::nvvm
