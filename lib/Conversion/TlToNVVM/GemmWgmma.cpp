// tl.gemm on sm_90a: wgmma.mma_async.
//
// The accumulator's layout (a wgmma D fragment per warpgroup, tl-infer-
// layouts) says which rows and columns each warpgroup owns: it issues one
// m64nNk16 (k32 for FP8) per 64-row tile and K step, N being its share of
// the columns. Shared operands are described by their swizzled layouts:
// K-major tiles (A[M, K], B[N, K]) and, for 16-bit types, MN-major tiles
// (B[K, N], transposed A[K, M]) with the transpose bits of the instruction.
// A may come from registers (16-bit types): its layout is the accumulator
// layout of an M x K tile, packed two elements per register.
#include "Common.h"

namespace tlc::nvvm {

namespace {

std::string mmaTypeName(Type t) {
  if (t.isBF16())
    return "bf16";
  if (t.isF16())
    return "f16";
  if (isa<Float8E4M3FNType>(t))
    return "e4m3";
  if (isa<Float8E5M2Type>(t))
    return "e5m2";
  return "";
}

/// A shared MMA operand: where its elements are, element bytes and swizzle
/// span.
struct SharedOperand {
  SharedTileRef ref;
  int64_t eb = 2;
  int64_t swizzle = 128; // bytes per row within a chunk
};

FailureOr<SharedOperand> sharedOperand(ConversionPatternRewriter &rewriter, tl::GemmOp op,
                                       Value orig, Value conv, StringRef what, bool mnMajor) {
  FailureOr<SharedTileRef> ref = resolveSharedTile(rewriter, op, orig, conv, what, mnMajor);
  if (failed(ref))
    return failure();
  SharedOperand s{*ref, storageBytes(ref->type.getElementType()), tl::getSwizzleBytes(ref->type)};
  if (!s.swizzle)
    return op.emitError() << "the " << what << " operand's shared layout is not a swizzled MMA tile";
  return s;
}

/// wgmma's descriptor of the tile starting at byte `offset` (index) of `s`:
/// start address, leading/stride byte offsets, swizzle mode.
Value descriptor(OpBuilder &b, Location loc, const SharedOperand &s, Value offset, int64_t lbo,
                 int64_t sbo) {
  Value addr = arith::AddIOp::create(b, loc,
                                     LLVM::PtrToIntOp::create(b, loc, b.getI64Type(), s.ref.base),
                                     toI64(b, loc, offset));
  Value start = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, addr, cI64(b, loc, 4)),
                                      cI64(b, loc, 0x3FFF));
  int64_t mode = s.swizzle == 128 ? 1 : s.swizzle == 64 ? 2 : 3;
  int64_t hi = ((lbo >> 4) & 0x3FFF) << 16 | ((sbo >> 4) & 0x3FFF) << 32 | (mode << 62);
  return arith::OrIOp::create(b, loc, start, cI64(b, loc, hi));
}

/// Byte offset (index) of element (r, c) of a shared operand.
Value byteOffset(OpBuilder &b, Location loc, const SharedOperand &s, Value r, int64_t c) {
  Value e = s.ref.elementOffset(b, loc, r, cIndex(b, loc, c));
  return arith::MulIOp::create(b, loc, e, cIndex(b, loc, s.eb));
}
Value byteOffset(OpBuilder &b, Location loc, const SharedOperand &s, int64_t r, Value c) {
  Value e = s.ref.elementOffset(b, loc, cIndex(b, loc, r), c);
  return arith::MulIOp::create(b, loc, e, cIndex(b, loc, s.eb));
}

/// wgmma.wait_group `pending` with the registers of `bufs` (f32
/// accumulators, 16-bit A operands as 32-bit pairs) tied through it, so
/// nothing touches them before the wait.
void waitGroup(OpBuilder &b, Location loc, ArrayRef<std::pair<Value, MemRefType>> bufs,
               int64_t pending) {
  SmallVector<Value> vals;
  SmallVector<Type> types;
  SmallVector<std::tuple<Value, Type, int64_t>> where;
  for (auto [buf, type] : bufs) {
    Type reg = registerType(type.getElementType());
    int64_t slots = tl::getBufferLayout(type)->getInSize(tl::LinearLayout::Register);
    for (int64_t r = 0; r < slots; ++r) {
      vals.push_back(LLVM::LoadOp::create(b, loc, reg, slotPtr(b, loc, buf, reg, r)));
      types.push_back(reg);
      where.push_back({buf, reg, r});
    }
  }
  if (vals.empty()) {
    asmVoid(b, loc, {}, llvm::formatv("wgmma.wait_group.sync.aligned {0};", pending).str(),
            "~{memory}");
    return;
  }
  auto st = LLVM::LLVMStructType::getLiteral(b.getContext(), types);
  std::string cons;
  for (Type t : types)
    cons += t.isF32() ? "=f," : t.getIntOrFloatBitWidth() == 16 ? "=h," : "=r,";
  for (size_t r = 0; r < vals.size(); ++r)
    cons += std::to_string(r) + (r + 1 < vals.size() ? "," : "");
  Value w = asmOp(b, loc, st, vals, llvm::formatv("wgmma.wait_group.sync.aligned {0};", pending).str(),
                  cons);
  for (auto [i, loc3] : llvm::enumerate(where)) {
    auto [buf, reg, r] = loc3;
    LLVM::StoreOp::create(b, loc, LLVM::ExtractValueOp::create(b, loc, w, ArrayRef<int64_t>{int64_t(i)}),
                          slotPtr(b, loc, buf, reg, r));
  }
}

struct WgmmaLowering : public OpConversionPattern<tl::GemmOp> {
  WgmmaLowering(TypeConverter &tc, MLIRContext *ctx, const NVIDIATarget &t)
      : OpConversionPattern(tc, ctx), target(t) {}

  LogicalResult matchAndRewrite(tl::GemmOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    if (target.tcgen05())
      return failure();
    Location loc = op.getLoc();
    if (op.getScaleA() || op.getScaleB())
      return op.emitError("block-scaled T.gemm needs sm_100a (tcgen05); on sm_90a scale the FP8 "
                          "partial products in a T.Parallel loop instead");
    auto aT = cast<MemRefType>(op.getA().getType());
    auto bT = cast<MemRefType>(op.getB().getType());
    auto cT = cast<MemRefType>(op.getC().getType());
    bool aReg = tl::getMemScope(aT) != tl::MemScope::Shared;
    if (tl::getMemScope(bT) != tl::MemScope::Shared ||
        (tl::getMemScope(cT) != tl::MemScope::Fragment))
      return op.emitError("on sm_90a T.gemm needs B in shared memory and C in a fragment");
    Type ae = aT.getElementType(), be = bT.getElementType();
    std::string an = mmaTypeName(ae), bn = mmaTypeName(be);
    bool fp8 = isa<Float8E4M3FNType, Float8E5M2Type>(ae);
    if (an.empty() || bn.empty() || fp8 != isa<Float8E4M3FNType, Float8E5M2Type>(be) ||
        (!fp8 && ae != be))
      return op.emitError("wgmma supports bf16 x bf16, f16 x f16 and fp8 (e4m3/e5m2) x fp8 "
                          "operands");
    bool transA = op.getTransposeA(), transB = !op.getTransposeB(); // MN-major B
    if (fp8 && (transA || transB))
      return op.emitError("wgmma reads FP8 operands K-major only: A[M, K] and B[N, K] with "
                          "transpose_B=True");
    if (aReg && fp8)
      return op.emitError("wgmma reads A from registers only for 16-bit operands");
    int64_t kStep = fp8 ? 32 : 16;
    int64_t M = cT.getShape()[0], N = cT.getShape()[1];
    int64_t K = aT.getShape()[transA ? 0 : 1];
    if (K % kStep)
      return op.emitError("T.gemm needs K a multiple of ") << kStep << ", got " << K;
    tl::LinearLayout cl = *tl::getBufferLayout(cT);
    // Warpgroups: warp bits past the first two; where they move the tile.
    int64_t wgs = int64_t{1} << (cl.getInBits(tl::LinearLayout::Warp) - 2);
    int64_t wgRowsSpan = 1, wgColsSpan = 1;
    for (unsigned k = 2; k < cl.getInBits(tl::LinearLayout::Warp); ++k) {
      auto bvec = cl.getBases(tl::LinearLayout::Warp)[k];
      if (bvec[0])
        wgRowsSpan *= 2;
      else
        wgColsSpan *= 2;
    }
    int64_t mw = M / wgRowsSpan, nw = N / wgColsSpan;
    int64_t mTiles = mw / 64;
    if (mw % 64 || nw % 8 || nw > 256)
      return op.emitError("T.gemm accumulator tile per warpgroup is ")
             << mw << "x" << nw << ", not a wgmma shape";
    Value tid = arith::SubIOp::create(rewriter, loc, threadIdx(rewriter, loc),
                                      cIndex(rewriter, loc, firstThreadOf(op)));
    Value warp = arith::DivUIOp::create(rewriter, loc, tid, cIndex(rewriter, loc, kWarpSize));
    // This warpgroup's first row and column: the warp bits above 2.
    SmallVector<tl::LinearLayout::Coords> wgBases;
    for (unsigned k = 0; k < cl.getInBits(tl::LinearLayout::Warp); ++k)
      wgBases.push_back(k < 2 ? tl::LinearLayout::Coords{0, 0} : cl.getBases(tl::LinearLayout::Warp)[k]);
    SmallVector<Value> wgOrigin = tl::emitLinearMap(rewriter, loc, wgBases, 2, warp);
    Value rowBase = wgOrigin[0], colBase = wgOrigin[1];

    FailureOr<SharedOperand> bOp =
        sharedOperand(rewriter, op, op.getB(), adaptor.getB(), "B", transB);
    if (failed(bOp))
      return failure();
    std::optional<SharedOperand> aOp;
    std::optional<tl::LinearLayout> al;
    if (aReg) {
      al = tl::getBufferLayout(aT);
    } else {
      auto s = sharedOperand(rewriter, op, op.getA(), adaptor.getA(), "A", transA);
      if (failed(s))
        return failure();
      aOp = *s;
    }
    if (op->hasAttr("tlc_fence")) {
      // Operands written by ordinary stores: visible to the async proxy.
      asmVoid(rewriter, loc, {}, "fence.proxy.async.shared::cta;", "~{memory}");
      syncThreadsOf(rewriter, loc, op);
    }
    Type f32 = rewriter.getF32Type();
    Value acc = adaptor.getC();
    // A in registers: packed before the fence, so no register wgmma reads
    // is written between the fence and the MMAs.
    DenseMap<std::pair<int64_t, int64_t>, SmallVector<Value>> aRegs;
    if (!aOp)
      for (int64_t mt = 0; mt < mTiles; ++mt)
        for (int64_t k = 0; k < K; k += kStep)
          for (int64_t q = 0; q < 4; ++q) {
            Type half = registerType(ae);
            auto vt = VectorType::get({2}, half);
            Value pair = LLVM::UndefOp::create(rewriter, loc, vt);
            for (int64_t e = 0; e < 2; ++e) {
              int64_t idx = q * 2 + e;
              int64_t row = mt * 64 + ((idx >> 1) & 1) * 8;
              int64_t col = k + (idx & 1) + ((idx >> 2) & 1) * 8;
              int64_t slot = *al->solveRegister({row, col});
              Value v = LLVM::LoadOp::create(rewriter, loc, half,
                                             slotPtr(rewriter, loc, adaptor.getA(), half, slot));
              pair = LLVM::InsertElementOp::create(rewriter, loc, pair, v, cI32(rewriter, loc, e));
            }
            aRegs[{mt, k}].push_back(
                LLVM::BitcastOp::create(rewriter, loc, rewriter.getI32Type(), pair));
          }
    asmVoid(rewriter, loc, {}, "wgmma.fence.sync.aligned;", "~{memory}");
    int64_t regs = nw / 2;
    for (int64_t mt = 0; mt < mTiles; ++mt) {
      // Accumulator slots of this 64-row tile, in wgmma's register order.
      SmallVector<int64_t> cSlots;
      for (int64_t r = 0; r < regs; ++r)
        cSlots.push_back(*cl.solveRegister({mt * 64 + ((r / 2) % 2) * 8, (r % 2) + (r / 4) * 8}));
      SmallVector<Value> accv;
      for (int64_t s : cSlots)
        accv.push_back(LLVM::LoadOp::create(rewriter, loc, f32, slotPtr(rewriter, loc, acc, f32, s)));
      Value tileRow = arith::AddIOp::create(rewriter, loc, rowBase, cIndex(rewriter, loc, mt * 64));
      for (int64_t k = 0; k < K; k += kStep) {
        SmallVector<Value> operands;
        std::string aText;
        std::string aCons;
        if (aOp) {
          Value off = transA ? byteOffset(rewriter, loc, *aOp, k, tileRow)
                             : byteOffset(rewriter, loc, *aOp, tileRow, k);
          int64_t lbo = transA ? *aOp->ref.strideOffset(0, aOp->swizzle / aOp->eb) * aOp->eb : 16;
          operands.push_back(descriptor(rewriter, loc, *aOp, off, lbo, 8 * aOp->swizzle));
          aText = "$" + std::to_string(regs);
          aCons = "l";
        } else {
          // Four registers of two 16-bit elements: (row, col), (row + 8,
          // col), (row, col + 8), (row + 8, col + 8) pairs.
          aText = "{";
          for (int64_t q = 0; q < 4; ++q) {
            operands.push_back(aRegs[{mt, k}][q]);
            aText += (q ? ", $" : "$") + std::to_string(regs + q);
            aCons += q ? ",r" : "r";
          }
          aText += "}";
        }
        Value bOff = transB ? byteOffset(rewriter, loc, *bOp, k, colBase)
                            : byteOffset(rewriter, loc, *bOp, colBase, k);
        int64_t bLbo = transB ? *bOp->ref.strideOffset(0, bOp->swizzle / bOp->eb) * bOp->eb : 16;
        operands.push_back(descriptor(rewriter, loc, *bOp, bOff, bLbo, 8 * bOp->swizzle));
        int64_t bIdx = operands.size() - 1 + regs;
        operands.push_back(cI32(rewriter, loc, (op.getClearAccum() && k == 0) ? 0 : 1));
        int64_t pIdx = operands.size() - 1 + regs;
        std::string text;
        llvm::raw_string_ostream os(text);
        os << "{\n.reg .pred p;\nsetp.ne.b32 p, $" << pIdx << ", 0;\n"
           << "wgmma.mma_async.sync.aligned.m64n" << nw << "k" << kStep << ".f32." << an << "."
           << bn << " {";
        for (int64_t r = 0; r < regs; ++r)
          os << (r ? ", " : "") << "$" << r;
        os << "}, " << aText << ", $" << bIdx << ", p, 1, 1";
        if (!fp8) {
          if (aOp)
            os << ", " << (transA ? 1 : 0);
          os << ", " << (transB ? 1 : 0);
        }
        os << ";\n}";
        std::string cons;
        for (int64_t r = 0; r < regs; ++r)
          cons += "=f,";
        cons += aCons + ",l,r";
        for (int64_t r = 0; r < regs; ++r)
          cons += "," + std::to_string(r);
        operands.append(accv.begin(), accv.end());
        auto st = LLVM::LLVMStructType::getLiteral(op.getContext(), SmallVector<Type>(regs, f32));
        Value res = asmOp(rewriter, loc, st, operands, text, cons);
        for (int64_t r = 0; r < regs; ++r)
          accv[r] = LLVM::ExtractValueOp::create(rewriter, loc, res, ArrayRef<int64_t>{r});
      }
      for (auto [r, s] : llvm::enumerate(cSlots))
        LLVM::StoreOp::create(rewriter, loc, accv[r], slotPtr(rewriter, loc, acc, f32, s));
    }
    asmVoid(rewriter, loc, {}, "wgmma.commit_group.sync.aligned;", "~{memory}");
    if (!op.getAsync())
      waitGroup(rewriter, loc, {{acc, cT}}, 0);
    rewriter.eraseOp(op);
    return success();
  }

  NVIDIATarget target;
};

struct MmaWaitLowering : public OpConversionPattern<tl::MmaWaitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::MmaWaitOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    SmallVector<std::pair<Value, MemRefType>> bufs;
    for (auto [orig, conv] : llvm::zip(op.getAccumulators(), adaptor.getAccumulators()))
      bufs.push_back({conv, cast<MemRefType>(orig.getType())});
    waitGroup(rewriter, op.getLoc(), bufs, op.getPending());
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void populateWgmmaPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                           const NVIDIATarget &target) {
  patterns.add<WgmmaLowering>(tc, patterns.getContext(), target);
  if (!target.tcgen05())
    patterns.add<MmaWaitLowering>(tc, patterns.getContext());
}

} // namespace tlc::nvvm
