// tl.gemm on sm_100a: tcgen05.mma, and the waits for it.
//
// One thread of the role (its first) issues the MMAs of a gemm, after
// tcgen05.fence::after_thread_sync (whatever the role synchronised on, a
// stage's barrier or its stores to tensor memory, is then ordered before
// them): K / kStep tcgen05.mma.cta_group::1 into the accumulator's tensor
// memory, the first one overwriting it for clear_accum. Kinds: kind::f16
// (bf16, f16; K = 16), kind::f8f6f4 (e4m3, e5m2; K = 32) and, with block
// scales, kind::mxf8f6f4.block_scale.scale_vec::1X (FP8 and unpacked FP4;
// K = 32, one ue8m0 per 32 K, the SF ids of the instruction descriptor
// picking the byte of the scale word). A comes from shared memory or from
// tensor memory (packed), B from shared memory; shared operands are K-major
// or, for 16-bit and FP8 types, MN-major (FlashAttention's V[K, N]): the
// descriptors (128/64/32-byte swizzle, fixed bit 46) and the instruction
// descriptors come from tlc/Target/NVIDIA/Tcgen05.h. The MMAs
// complete asynchronously: tl.mma_commit (a stage back to its producer)
// and tl.mma_wait on a barrier (everyone waits for them) are tcgen05.commit
// by the same thread.
#include "Common.h"

#include "tlc/Target/NVIDIA/Tcgen05.h"

namespace tlc::nvvm {

namespace {

std::optional<tcgen05::Format> formatOf(Type t) {
  if (t.isBF16())
    return tcgen05::Format::BF16;
  if (t.isF16())
    return tcgen05::Format::F16;
  if (isa<Float8E4M3FNType>(t))
    return tcgen05::Format::E4M3;
  if (isa<Float8E5M2Type>(t))
    return tcgen05::Format::E5M2;
  if (isa<Float4E2M1FNType>(t))
    return tcgen05::Format::E2M1;
  return std::nullopt;
}

std::optional<tcgen05::Swizzle> swizzleOf(int64_t bytes) {
  switch (bytes) {
  case 128:
    return tcgen05::Swizzle::B128;
  case 64:
    return tcgen05::Swizzle::B64;
  case 32:
    return tcgen05::Swizzle::B32;
  default:
    return std::nullopt;
  }
}

/// An operand in shared memory: descriptors of its K steps. K-major tiles
/// ([M or N, K]) step along their columns inside a swizzle atom; MN-major
/// tiles ([K, M or N], 16-bit or FP8) step along their rows, 8-row groups
/// SBO apart, the swizzle atoms along M or N LBO apart.
struct SharedOperand {
  SharedTileRef ref;
  int64_t eb = 1;
  bool mnMajor = false;
  uint64_t fixed = 0; // the descriptor without its start address

  /// The descriptor of the tile from K index `k`.
  Value descriptor(OpBuilder &b, Location loc, int64_t k) const {
    Value e = mnMajor ? ref.elementOffset(b, loc, cIndex(b, loc, k), cIndex(b, loc, 0))
                      : ref.elementOffset(b, loc, cIndex(b, loc, 0), cIndex(b, loc, k));
    Value addr = arith::AddIOp::create(
        b, loc, LLVM::PtrToIntOp::create(b, loc, b.getI64Type(), ref.base),
        toI64(b, loc, arith::MulIOp::create(b, loc, e, cIndex(b, loc, eb))));
    Value start = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, addr, cI64(b, loc, 4)),
                                        cI64(b, loc, 0x3FFF));
    return arith::OrIOp::create(b, loc, start, cI64(b, loc, static_cast<int64_t>(fixed)));
  }
};

FailureOr<SharedOperand> sharedOperand(ConversionPatternRewriter &rewriter, tl::GemmOp op,
                                       Value orig, Value conv, StringRef what, bool mnMajor) {
  FailureOr<SharedTileRef> ref = resolveSharedTile(rewriter, op, orig, conv, what, mnMajor);
  if (failed(ref))
    return failure();
  MemRefType t = ref->type;
  int64_t span = tl::getSwizzleBytes(t);
  std::optional<tcgen05::Swizzle> sw = swizzleOf(span);
  if (!sw)
    return op.emitError() << "the " << what
                          << " operand in shared memory needs a swizzled MMA layout (run "
                             "tl-infer-layouts)";
  int64_t eb = storageBytes(t.getElementType());
  tcgen05::Result<tcgen05::OperandStrides> strides = tcgen05::kMajorSwizzledStrides(*sw);
  if (mnMajor) {
    // Atoms along M or N: the next swizzle chunk of columns (or none).
    int64_t atom = span;
    if (t.getShape()[t.getRank() - 1] * eb > span)
      atom = *ref->strideOffset(0, span / eb) * eb;
    strides = tcgen05::mnMajorSwizzledStrides(*sw, static_cast<uint32_t>(atom));
  }
  if (!strides)
    return op.emitError("tcgen05 descriptor: " + strides.error);
  tcgen05::Result<uint64_t> fixed =
      tcgen05::smemDescriptorConstantPart(strides.value.lboBytes, strides.value.sboBytes, *sw);
  if (!fixed)
    return op.emitError("tcgen05 descriptor: " + fixed.error);
  // FP4 sits unpacked, a byte per element (TMA's 16U4_ALIGN16B).
  return SharedOperand{*ref, eb, mnMajor, fixed.value};
}

struct Tcgen05GemmLowering : public OpConversionPattern<tl::GemmOp> {
  Tcgen05GemmLowering(TypeConverter &tc, MLIRContext *ctx, const NVIDIATarget &t)
      : OpConversionPattern(tc, ctx), target(t) {}

  LogicalResult matchAndRewrite(tl::GemmOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (!target.tcgen05())
      return failure();
    Location loc = op.getLoc();
    auto aT = cast<MemRefType>(op.getA().getType());
    auto bT = cast<MemRefType>(op.getB().getType());
    auto cT = cast<MemRefType>(op.getC().getType());
    if (tl::getMemScope(cT) != tl::MemScope::Tmem || !cT.getElementType().isF32())
      return op.emitError("on sm_100a T.gemm accumulates f32 in tensor memory (run "
                          "tl-assign-tmem)");
    if (!op.getAsync())
      return op.emitError("internal: a tcgen05 T.gemm completes asynchronously (run "
                          "tl-pipeline-mma for sm_100a)");
    bool aMN = op.getTransposeA(), bMN = !op.getTransposeB();
    bool aTmem = tl::getMemScope(aT) == tl::MemScope::Tmem;
    if (!aTmem && tl::getMemScope(aT) != tl::MemScope::Shared)
      return op.emitError("tcgen05 reads A from shared or tensor memory (run tl-assign-tmem)");
    Type ae = aT.getElementType(), be = bT.getElementType();
    std::optional<tcgen05::Format> fa = formatOf(ae), fb = formatOf(be);
    bool scaled = static_cast<bool>(op.getScaleA());
    bool narrowA = isNarrowFloat(ae), narrowB = isNarrowFloat(be);
    if (!fa || !fb || narrowA != narrowB || (!narrowA && ae != be))
      return op.emitError("tcgen05 takes bf16 x bf16, f16 x f16, and 8- or 4-bit floats (e4m3, "
                          "e5m2, e2m1) on both sides");
    if ((isFP4(ae) || isFP4(be)) && !scaled)
      return op.emitError("float4_e2m1 operands need the block-scaled T.gemm on sm_100a");
    if ((aMN || bMN) && (isFP4(ae) || isFP4(be) || scaled))
      return op.emitError("tcgen05 reads FP4 and block-scaled operands K-major only: A[M, K] and "
                          "B[N, K] with transpose_B=True");
    if (aTmem && aMN)
      return op.emitError("an A operand in tensor memory cannot be transposed");
    if (aTmem && (isFP4(ae) || scaled))
      return op.emitError("A from tensor memory is generated for 16- and 8-bit operands without "
                          "block scales");
    tcgen05::Kind kind = scaled ? tcgen05::Kind::MXF8F6F4
                         : narrowA ? tcgen05::Kind::F8F6F4
                                   : tcgen05::Kind::F16;
    int64_t M = cT.getShape()[0], N = cT.getShape()[1], K = aT.getShape()[aMN ? 0 : 1];
    if (M != 128)
      return op.emitError("tcgen05 with cta_group::1 computes 128-row tiles: use BM = 128");
    std::string shape = tcgen05::validateShape(kind, M, N, 1);
    if (!shape.empty())
      return op.emitError("tcgen05.mma: " + shape);
    int64_t kStep = tcgen05::mmaK(kind);
    if (K % kStep)
      return op.emitError("tcgen05 T.gemm needs K a multiple of ") << kStep << ", got " << K;
    if (scaled && op.getScaleBlock() != std::optional<uint64_t>(32))
      return op.emitError("tcgen05 block scaling (kind::mxf8f6f4) takes one scale per 32 K; "
                          "expand coarser scales to 32-wide blocks (runtime/ScaleLayout)");
    if (scaled && (tl::getMemScope(op.getScaleA().getType()) != tl::MemScope::Tmem ||
                   tl::getMemScope(op.getScaleB().getType()) != tl::MemScope::Tmem))
      return op.emitError("tcgen05 reads block scales from tensor memory (run tl-assign-tmem)");

    FailureOr<SharedOperand> bOp = sharedOperand(rewriter, op, op.getB(), adaptor.getB(), "B", bMN);
    if (failed(bOp))
      return failure();
    std::optional<SharedOperand> aOp;
    if (!aTmem) {
      FailureOr<SharedOperand> s = sharedOperand(rewriter, op, op.getA(), adaptor.getA(), "A", aMN);
      if (failed(s))
        return failure();
      aOp = *s;
    }
    // Instruction descriptors: one per scale byte (SF ids) when scaled.
    auto idesc = [&](int64_t sfId) -> FailureOr<Value> {
      tcgen05::InstrDesc d;
      d.kind = kind;
      d.a = *fa;
      d.b = *fb;
      d.m = M;
      d.n = N;
      d.aMNMajor = aMN;
      d.bMNMajor = bMN;
      d.sfaId = sfId;
      d.sfbId = sfId;
      tcgen05::Result<uint32_t> enc = tcgen05::instrDescriptor(d);
      if (!enc)
        return op.emitError("tcgen05.mma: " + enc.error);
      return cI32(rewriter, loc, static_cast<int32_t>(enc.value));
    };
    if (op->hasAttr("tlc_fence")) {
      // Operands written by ordinary stores: visible to the async proxy.
      asmVoid(rewriter, loc, {}, "fence.proxy.async.shared::cta;", "~{memory}");
      syncThreadsOf(rewriter, loc, op);
    }
    auto ifOp = scf::IfOp::create(rewriter, loc, isIssuingThread(rewriter, loc, op), false);
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    asmVoid(rewriter, loc, {}, "tcgen05.fence::after_thread_sync;", "~{memory}");
    int64_t aColsPerStep = kStep * tl::getElementBits(ae) / 32;
    for (int64_t k = 0; k < K; k += kStep) {
      Value a = aOp ? aOp->descriptor(rewriter, loc, k)
                    : arith::AddIOp::create(rewriter, loc, adaptor.getA(),
                                            cI32(rewriter, loc, (k / kStep) * aColsPerStep))
                          .getResult();
      Value bDesc = bOp->descriptor(rewriter, loc, k);
      Value enable = cI32(rewriter, loc, (op.getClearAccum() && k == 0) ? 0 : 1);
      std::string aText = aOp ? "$1" : "[$1]";
      std::string aCons = aOp ? "l" : "r";
      if (!scaled) {
        FailureOr<Value> id = idesc(0);
        if (failed(id))
          return failure();
        asmVoid(rewriter, loc, {adaptor.getC(), a, bDesc, *id, enable},
                llvm::formatv("{{\n.reg .pred p;\nsetp.ne.b32 p, $4, 0;\n"
                              "tcgen05.mma.cta_group::1.{0} [$0], {1}, $2, $3, p;\n}",
                              tcgen05::kindName(kind), aText)
                    .str(),
                "r," + aCons + ",l,r,r,~{memory}");
        continue;
      }
      // Scale chunk s = k / 32: byte s % 4 of the word in column group s / 4.
      int64_t s = k / 32;
      FailureOr<Value> id = idesc(s % 4);
      if (failed(id))
        return failure();
      auto sfCol = [&](Value t, MemRefType type) {
        int64_t perGroup = 4 * ((type.getShape()[0] + 127) / 128);
        return arith::AddIOp::create(rewriter, loc, t, cI32(rewriter, loc, (s / 4) * perGroup))
            .getResult();
      };
      Value sfa = sfCol(adaptor.getScaleA(), cast<MemRefType>(op.getScaleA().getType()));
      Value sfb = sfCol(adaptor.getScaleB(), cast<MemRefType>(op.getScaleB().getType()));
      asmVoid(rewriter, loc, {adaptor.getC(), a, bDesc, *id, sfa, sfb, enable},
              "{\n.reg .pred p;\nsetp.ne.b32 p, $6, 0;\n"
              "tcgen05.mma.cta_group::1.kind::mxf8f6f4.block_scale.scale_vec::1X "
              "[$0], $1, $2, $3, [$4], [$5], p;\n}",
              "r,l,l,r,r,r,r,~{memory}");
    }
    rewriter.eraseOp(op);
    return success();
  }

  NVIDIATarget target;
};

/// The 32-bit shared address of barrier `index` of an mbarrier array.
Value barrierAddr(OpBuilder &b, Location loc, Value array, Value index) {
  Value p = LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3),
                                b.getI64Type(), array, ValueRange{toI64(b, loc, index)});
  return sharedAddr32(b, loc, p);
}

struct MmaCommitLowering : public OpConversionPattern<tl::MmaCommitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::MmaCommitOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value addr = barrierAddr(rewriter, loc, adaptor.getBarrier(), adaptor.getIndex());
    auto ifOp = scf::IfOp::create(rewriter, loc, isIssuingThread(rewriter, loc, op), false);
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    tcgen05Commit(rewriter, loc, addr);
    rewriter.eraseOp(op);
    return success();
  }
};

/// The issuing thread commits its MMAs to the barrier; everyone waits for
/// the phase and orders its later tcgen05 operations (tensor-memory loads)
/// after it.
struct MmaWaitBarrierLowering : public OpConversionPattern<tl::MmaWaitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::MmaWaitOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (!op.getBarrier())
      return op.emitError("on sm_100a tl.mma_wait waits on a barrier the MMAs are committed to "
                          "(run tl-pipeline-mma for sm_100a)");
    Location loc = op.getLoc();
    Value addr = barrierAddr(rewriter, loc, adaptor.getBarrier(), adaptor.getBarrierIndex());
    {
      auto ifOp = scf::IfOp::create(rewriter, loc, isIssuingThread(rewriter, loc, op), false);
      OpBuilder::InsertionGuard g(rewriter);
      rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      tcgen05Commit(rewriter, loc, addr);
    }
    mbarrierWait(rewriter, loc, addr, adaptor.getParity());
    asmVoid(rewriter, loc, {}, "tcgen05.fence::after_thread_sync;", "~{memory}");
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateTcgen05Patterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                             const NVIDIATarget &target) {
  if (!target.tcgen05())
    return;
  patterns.add<Tcgen05GemmLowering>(tc, patterns.getContext(), target);
  patterns.add<MmaCommitLowering, MmaWaitBarrierLowering>(tc, patterns.getContext());
}

} // namespace tlc::nvvm
