// Thread/block indices, buffer allocation and views, element loads and
// stores of global and shared buffers, and register-slot accesses.
#include "Common.h"

namespace tlc::nvvm {

namespace {

struct ThreadIdLowering : public OpConversionPattern<tl::ThreadIdOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::ThreadIdOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (op.getDim() != 0) {
      rewriter.replaceOp(op, cIndex(rewriter, op.getLoc(), 0));
      return success();
    }
    rewriter.replaceOp(op, threadIdx(rewriter, op.getLoc()));
    return success();
  }
};

struct ElectLowering : public OpConversionPattern<tl::ElectOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::ElectOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value rel = arith::SubIOp::create(rewriter, loc, threadIdx(rewriter, loc),
                                      cIndex(rewriter, loc, firstThreadOf(op)));
    rewriter.replaceOp(op, arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult, rel,
                                                 cIndex(rewriter, loc,
                                                        op.getWarp() ? kWarpSize * op.getWarps().value_or(1)
                                                                     : 1)));
    return success();
  }
};

struct BlockIdLowering : public OpConversionPattern<tl::BlockIdOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::BlockIdOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value v;
    switch (op.getDim()) {
    case 0:
      v = NVVM::BlockIdXOp::create(rewriter, loc, rewriter.getI32Type());
      break;
    case 1:
      v = NVVM::BlockIdYOp::create(rewriter, loc, rewriter.getI32Type());
      break;
    default:
      v = NVVM::BlockIdZOp::create(rewriter, loc, rewriter.getI32Type());
    }
    rewriter.replaceOp(op, toIndex(rewriter, loc, v));
    return success();
  }
};

struct DimLowering : public OpConversionPattern<memref::DimOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(memref::DimOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto type = dyn_cast<MemRefType>(op.getSource().getType());
    auto idx = getConstantIntValue(op.getIndex());
    if (!type || tl::getMemScope(type) != tl::MemScope::Global || !idx)
      return rewriter.notifyMatchFailure(op, "needs a global tensor and a constant dimension");
    Value d = LLVM::ExtractValueOp::create(rewriter, op.getLoc(), adaptor.getSource(),
                                           ArrayRef<int64_t>{*idx + 1});
    rewriter.replaceOp(op, toIndex(rewriter, op.getLoc(), d));
    return success();
  }
};

template <typename AllocOp>
struct SharedAllocLowering : public OpConversionPattern<AllocOp> {
  using OpConversionPattern<AllocOp>::OpConversionPattern;
  LogicalResult matchAndRewrite(AllocOp op, typename AllocOp::Adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto off = op->template getAttrOfType<IntegerAttr>(tl::kOffsetAttrName);
    if (!off)
      return op.emitError("shared buffer without an offset (run tl-allocate-shared first)");
    Location loc = op.getLoc();
    Value p = LLVM::GEPOp::create(rewriter, loc, LLVM::LLVMPointerType::get(op.getContext(), 3),
                                  rewriter.getI8Type(), sharedBase(rewriter, loc),
                                  ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(off.getInt())});
    rewriter.replaceOp(op, p);
    return success();
  }
};

template <typename AllocOp>
struct RegisterAllocLowering : public OpConversionPattern<AllocOp> {
  using OpConversionPattern<AllocOp>::OpConversionPattern;
  LogicalResult matchAndRewrite(AllocOp op, typename AllocOp::Adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto type = cast<MemRefType>(op.getType());
    std::optional<tl::LinearLayout> l = tl::getBufferLayout(type);
    if (!l)
      return op.emitError("register buffer without a layout (run tl-infer-layouts first)");
    // In the entry block, so the slots stay one array SROA can split.
    auto fn = op->template getParentOfType<LLVM::LLVMFuncOp>();
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPointToStart(&fn.getBody().front());
    Location loc = op.getLoc();
    Value n = LLVM::ConstantOp::create(rewriter, loc, rewriter.getI64Type(),
                                       rewriter.getI64IntegerAttr(l->getInSize(tl::LinearLayout::Register)));
    Type reg = registerType(type.getElementType());
    Value a = LLVM::AllocaOp::create(rewriter, loc, LLVM::LLVMPointerType::get(op.getContext()),
                                     reg, n, 16);
    // An initial value: stored in the entry block, before any role split.
    if (auto local = dyn_cast<tl::AllocLocalOp>(op.getOperation()); local && local.getInit()) {
      rewriter.setInsertionPointAfter(a.getDefiningOp());
      Value init = LLVM::ConstantOp::create(rewriter, loc, reg, *local.getInit());
      for (int64_t s = 0; s < l->getInSize(tl::LinearLayout::Register); ++s)
        LLVM::StoreOp::create(rewriter, loc, init, slotPtr(rewriter, loc, a, reg, s));
    }
    rewriter.replaceOp(op, a);
    return success();
  }
};

struct SpecialRegLowering : public OpConversionPattern<tl::SpecialRegOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::SpecialRegOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Value v = asmOp(rewriter, op.getLoc(), rewriter.getI32Type(), {},
                    ("mov.u32 $0, %" + op.getName() + ";").str(), "=r");
    rewriter.replaceOp(op, toIndex(rewriter, op.getLoc(), v));
    return success();
  }
};

std::string getSwizzleSpanText(MemRefType t) { return std::to_string(tl::getSwizzleBytes(t)); }

/// tl.reshape: the same shared pointer or per-thread array, read in the new
/// shape (tl-infer-layouts gave it the matching layout).
struct ReshapeLowering : public OpConversionPattern<tl::ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::ReshapeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto scope = tl::getMemScope(op.getSrc().getType());
    if (scope != tl::MemScope::Shared && scope != tl::MemScope::Local)
      return op.emitError("T.reshape of a fragment is not supported by the GPU lowering yet");
    rewriter.replaceOp(op, adaptor.getSrc());
    return success();
  }
};

struct ViewLowering : public OpConversionPattern<tl::ViewOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::ViewOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto srcT = cast<MemRefType>(op.getSrc().getType());
    if (tl::getMemScope(srcT) != tl::MemScope::Shared)
      return op.emitError("views of register buffers are not supported by the GPU lowering yet");
    // A box that is not a restriction of its source's layout (a K-slice
    // inside a swizzle atom) has no layout of its own: T.gemm addresses it
    // through its source (MmaOperands.cpp); nothing else can.
    if (tl::getBufferLayout(srcT) && !tl::getBufferLayout(op.getResult().getType()))
      for (Operation *user : op->getUsers())
        if (!isa<tl::GemmOp, tl::ViewOp>(user))
          return op.emitError("this view of a swizzled shared tile (laid out for T.gemm) "
                              "starts inside a swizzle atom; on the GPU only T.gemm can read "
                              "such a view. Take whole chunks of ")
                 << getSwizzleSpanText(srcT)
                 << " bytes per row, or give the other operation a region (T.copy(src, "
                    "tile[:, a:b]))";
    // A view of a buffer without a layout is addressed row-major in its own
    // shape from its first element: the box must be contiguous (whole
    // trailing dimensions after the first partial one, unit ones before).
    if (!tl::getBufferLayout(srcT) && !tl::isContiguousBox(srcT.getShape(), op.getSizes()))
      for (Operation *user : op->getUsers())
        if (!isa<tl::ViewOp>(user))
          return op.emitError("on the GPU a view of a shared buffer that has no swizzled layout "
                              "must be contiguous (a stage `buf[s]`, whole rows `buf[a:b, :]`); "
                              "give T.copy a region instead (T.copy(src, buf[:, a:b]))");
    Location loc = op.getLoc();
    SmallVector<Value> origin(adaptor.getOffsets().begin(), adaptor.getOffsets().end());
    // The origin's element offset: by the layout (the view lies on whole
    // units of it, so its own offsets add on), or row-major.
    Value ptr = sharedElementPtr(rewriter, loc, adaptor.getSrc(), srcT, origin);
    rewriter.replaceOp(op, ptr);
    return success();
  }
};

struct LoadLowering : public OpConversionPattern<memref::LoadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(memref::LoadOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto type = cast<MemRefType>(op.getMemRef().getType());
    Location loc = op.getLoc();
    SmallVector<Value> idx(adaptor.getIndices().begin(), adaptor.getIndices().end());
    switch (tl::getMemScope(type).value_or(tl::MemScope::Global)) {
    case tl::MemScope::Global: {
      GlobalView g = unpackGlobal(rewriter, loc, adaptor.getMemref(), type.getRank());
      rewriter.replaceOp(op, loadGlobal(rewriter, loc, g, type.getElementType(), idx));
      return success();
    }
    case tl::MemScope::Shared:
      rewriter.replaceOp(op, loadShared(rewriter, loc, adaptor.getMemref(), type, idx));
      return success();
    default:
      return op.emitError("element access to a register buffer outside the slot form (run "
                          "tl-distribute-parallel first)");
    }
  }
};

struct StoreLowering : public OpConversionPattern<memref::StoreOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(memref::StoreOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto type = cast<MemRefType>(op.getMemRef().getType());
    Location loc = op.getLoc();
    SmallVector<Value> idx(adaptor.getIndices().begin(), adaptor.getIndices().end());
    switch (tl::getMemScope(type).value_or(tl::MemScope::Global)) {
    case tl::MemScope::Global: {
      GlobalView g = unpackGlobal(rewriter, loc, adaptor.getMemref(), type.getRank());
      storeGlobal(rewriter, loc, g, type.getElementType(), idx, adaptor.getValue());
      rewriter.eraseOp(op);
      return success();
    }
    case tl::MemScope::Shared:
      storeShared(rewriter, loc, adaptor.getMemref(), type, idx, adaptor.getValue());
      rewriter.eraseOp(op);
      return success();
    default:
      return op.emitError("element access to a register buffer outside the slot form (run "
                          "tl-distribute-parallel first)");
    }
  }
};

struct SlotLoadLowering : public OpConversionPattern<tl::SlotLoadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::SlotLoadOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Type reg = registerType(op.getResult().getType());
    Location loc = op.getLoc();
    Value p = slotPtr(rewriter, loc, adaptor.getBuffer(), reg, adaptor.getSlot());
    Value v = LLVM::LoadOp::create(rewriter, loc, reg, p);
    if (op.getResult().getType().isInteger(1))
      v = arith::TruncIOp::create(rewriter, loc, rewriter.getI1Type(), v);
    rewriter.replaceOp(op, v);
    return success();
  }
};

struct SlotStoreLowering : public OpConversionPattern<tl::SlotStoreOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::SlotStoreOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Type elem = op.getValue().getType();
    Location loc = op.getLoc();
    Value v = adaptor.getValue();
    if (elem.isInteger(1))
      v = arith::ExtUIOp::create(rewriter, loc, rewriter.getI8Type(), v);
    Value p = slotPtr(rewriter, loc, adaptor.getBuffer(), registerType(elem), adaptor.getSlot());
    LLVM::StoreOp::create(rewriter, loc, v, p);
    rewriter.eraseOp(op);
    return success();
  }
};

/// A T.Pipelined loop tl-pipeline left alone runs as a plain loop.
struct PipelinedAsLoop : public OpConversionPattern<tl::PipelinedOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::PipelinedOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto loop = scf::ForOp::create(rewriter, op.getLoc(), adaptor.getLowerBound(),
                                   adaptor.getUpperBound(), adaptor.getStep());
    Block &body = op.getBodyBlock();
    rewriter.eraseOp(body.getTerminator());
    rewriter.inlineBlockBefore(&body, loop.getBody()->getTerminator(),
                               ValueRange{loop.getInductionVar()});
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateThreadAndMemoryPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                                     const NVIDIATarget &) {
  patterns.add<ThreadIdLowering, ElectLowering, SpecialRegLowering, BlockIdLowering, DimLowering,
               SharedAllocLowering<tl::AllocSharedOp>, SharedAllocLowering<tl::AllocBarrierOp>,
               RegisterAllocLowering<tl::AllocFragmentOp>, RegisterAllocLowering<tl::AllocLocalOp>,
               ViewLowering, ReshapeLowering, LoadLowering, StoreLowering, SlotLoadLowering,
               SlotStoreLowering,
               PipelinedAsLoop>(
      tc, patterns.getContext());
}

} // namespace tlc::nvvm
