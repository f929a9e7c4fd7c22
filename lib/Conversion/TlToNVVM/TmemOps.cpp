// Tensor memory (sm_100a): the buffers tl-assign-tmem placed there and the
// copies in and out of it.
//
//  * tl.alloc_tmem: the kernel's TMEM base (which tcgen05.alloc wrote to the
//    frame's shared word) plus the buffer's first column; a view of a ring
//    of block scales adds its slot's columns.
//  * tmem <-> registers: tcgen05.ld / tcgen05.st .32x32b in pieces of at
//    most 32 registers. Warp w reaches TMEM lanes 32 (w % 4) .. + 31, a lane
//    per thread (its row), register j is column j of the piece: exactly the
//    buffer's 32x32b layout. Loads are waited (tcgen05.wait::ld) with their
//    registers tied through the wait, so nothing reads them early; stores
//    are waited (wait::st) and published to the issuing thread
//    (tcgen05.fence::before_thread_sync, the role's barrier). 16- and 8-bit
//    elements (an MMA's A operand) are packed two or four to a column, as
//    the MMA reads them.
//  * tmem -> global or shared: streamed, each piece stored right after it
//    is loaded, so a wide accumulator never sits in registers whole.
//  * tl.fill of tmem: stores of the value.
//  * shared -> tmem (block scales): tcgen05.cp 32x128b.warpx4 by the issuing
//    thread, one per 128 rows per scale word (docs/blackwell-encodings.md, 6).
#include "Common.h"

#include "tlc/Target/NVIDIA/Tcgen05.h"

namespace tlc::nvvm {

namespace {

constexpr int64_t kPieceRegisters = 32;

bool isTmem(Type t) { return tl::getMemScope(t) == tl::MemScope::Tmem; }
bool isRegisterScope(Type t) {
  auto s = tl::getMemScope(t);
  return s == tl::MemScope::Fragment || s == tl::MemScope::Local;
}

/// Power-of-two pieces of `n` registers, at most 32 each: (first, count).
SmallVector<std::pair<int64_t, int64_t>> pieces(int64_t n) {
  SmallVector<std::pair<int64_t, int64_t>> out;
  for (int64_t at = 0; at < n;) {
    int64_t w = kPieceRegisters;
    while (w > n - at)
      w /= 2;
    out.push_back({at, w});
    at += w;
  }
  return out;
}

/// Elements of `elem` per 32-bit TMEM column.
int64_t perColumn(Type elem) { return 32 / std::min<int64_t>(32, tl::getElementBits(elem)); }

/// `count` 32-bit registers from TMEM at `addr` (one tcgen05.ld .32x32b),
/// waited, as i32 values.
SmallVector<Value> tmemLoad(OpBuilder &b, Location loc, Value addr, int64_t count) {
  std::string text = llvm::formatv("tcgen05.ld.sync.aligned.32x32b.x{0}.b32 {{", count).str();
  std::string cons, waitCons;
  for (int64_t j = 0; j < count; ++j) {
    text += (j ? ", $" : "$") + std::to_string(j);
    cons += "=r,";
    waitCons += "=r,";
  }
  text += llvm::formatv("}, [${0}];", count).str();
  cons += "r,~{memory}";
  for (int64_t j = 0; j < count; ++j)
    waitCons += std::to_string(j) + (j + 1 < count ? "," : "");
  Type i32 = b.getI32Type();
  Type resT = count == 1 ? i32
                         : Type(LLVM::LLVMStructType::getLiteral(
                               b.getContext(), SmallVector<Type>(count, i32)));
  auto unpack = [&](Value res) {
    SmallVector<Value> vals;
    for (int64_t j = 0; j < count; ++j)
      vals.push_back(count == 1 ? res
                                : Value(LLVM::ExtractValueOp::create(b, loc, res,
                                                                     ArrayRef<int64_t>{j})));
    return vals;
  };
  Value res = asmOp(b, loc, resT, {addr}, text, cons);
  // The registers go through the wait: no use can be scheduled before it.
  Value waited = asmOp(b, loc, resT, unpack(res), "tcgen05.wait::ld.sync.aligned;", waitCons);
  return unpack(waited);
}

/// One tcgen05.st .32x32b of `vals` (i32) to TMEM at `addr`.
void tmemStore(OpBuilder &b, Location loc, Value addr, ArrayRef<Value> vals) {
  std::string text =
      llvm::formatv("tcgen05.st.sync.aligned.32x32b.x{0}.b32 [$0], {{", vals.size()).str();
  std::string cons = "r";
  SmallVector<Value> operands{addr};
  for (auto [j, v] : llvm::enumerate(vals)) {
    text += (j ? ", $" : "$") + std::to_string(j + 1);
    cons += ",r";
    operands.push_back(v);
  }
  text += "};";
  asmVoid(b, loc, operands, text, cons + ",~{memory}");
}

/// After a thread's stores to TMEM: wait for them and publish them to the
/// thread that issues the MMAs reading them.
void publishStores(OpBuilder &b, Location loc, Operation *op) {
  asmVoid(b, loc, {}, "tcgen05.wait::st.sync.aligned;", "~{memory}");
  asmVoid(b, loc, {}, "tcgen05.fence::before_thread_sync;", "~{memory}");
  syncThreadsOf(b, loc, op);
}

/// The 32-bit word holding elements `e0 .. e0 + per - 1` of a thread's part
/// (`value(j)` gives element j in its register type).
Value packWord(OpBuilder &b, Location loc, Type elem, int64_t per,
               function_ref<Value(int64_t)> value) {
  if (per == 1)
    return LLVM::BitcastOp::create(b, loc, b.getI32Type(), value(0));
  int64_t bits = 32 / per;
  Value word = cI32(b, loc, 0);
  for (int64_t k = 0; k < per; ++k) {
    Value v = value(k);
    Value raw = LLVM::BitcastOp::create(b, loc, b.getIntegerType(bits), v);
    Value wide = arith::ExtUIOp::create(b, loc, b.getI32Type(), raw);
    if (k)
      wide = arith::ShLIOp::create(b, loc, wide, cI32(b, loc, k * bits));
    word = arith::OrIOp::create(b, loc, word, wide);
  }
  return word;
}

/// Stores the calling thread's part of the TMEM tile `t` (type `type`),
/// element j of the part given by `value(j)` (register type of the tile's
/// elements).
LogicalResult storeRow(OpBuilder &b, Location loc, Operation *op, Value t, MemRefType type,
                       function_ref<Value(int64_t)> value) {
  FailureOr<TmemRow> row = tmemRow(b, loc, op, type);
  if (failed(row))
    return failure();
  Type elem = type.getElementType();
  int64_t per = perColumn(elem);
  if (row->slots % per)
    return op->emitError("a thread's part of this tensor-memory tile is not whole 32-bit columns");
  Value col = arith::DivUIOp::create(b, loc, row->column, cI32(b, loc, per));
  for (auto [at, w] : pieces(row->slots / per)) {
    SmallVector<Value> words;
    for (int64_t j = 0; j < w; ++j)
      words.push_back(packWord(b, loc, elem, per,
                               [&](int64_t k) { return value((at + j) * per + k); }));
    Value c = arith::AddIOp::create(b, loc, col, cI32(b, loc, at));
    tmemStore(b, loc, tmemAddress(b, loc, t, row->lane, c), words);
  }
  publishStores(b, loc, op);
  return success();
}

struct AllocTmemLowering : public OpConversionPattern<tl::AllocTmemOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::AllocTmemOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto off = op->getAttrOfType<IntegerAttr>(tl::kOffsetAttrName);
    auto fn = op->getParentOfType<LLVM::LLVMFuncOp>();
    auto slot = fn ? fn->getAttrOfType<IntegerAttr>(kTmemSlotAttrName) : IntegerAttr();
    if (!off || !slot)
      return op.emitError("tensor-memory buffer without a column (run tl-assign-tmem first)");
    Location loc = op.getLoc();
    Value p = LLVM::GEPOp::create(rewriter, loc, LLVM::LLVMPointerType::get(op.getContext(), 3),
                                  rewriter.getI8Type(), sharedBase(rewriter, loc),
                                  ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(slot.getInt())});
    Value base = LLVM::LoadOp::create(rewriter, loc, rewriter.getI32Type(), p);
    rewriter.replaceOp(op, arith::AddIOp::create(rewriter, loc, base,
                                                 cI32(rewriter, loc, off.getInt())));
    return success();
  }
};

/// A view of a TMEM buffer: a slot of a ring of block scales (the slot's
/// columns), or a box of a tile at whole 32-bit columns.
struct TmemViewLowering : public OpConversionPattern<tl::ViewOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::ViewOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto srcT = cast<MemRefType>(op.getSrc().getType());
    if (!isTmem(srcT))
      return rewriter.notifyMatchFailure(op, "not tensor memory");
    Location loc = op.getLoc();
    auto resT = cast<MemRefType>(op.getResult().getType());
    Value addr = adaptor.getSrc();
    if (isa<Float8E8M0FNUType>(srcT.getElementType())) {
      if (srcT.getRank() != 3 || op.getSizes()[0] != 1 ||
          ArrayRef<int64_t>(op.getSizes()).drop_front() != srcT.getShape().drop_front())
        return op.emitError("a view of tensor-memory block scales is one slot of a ring");
      int64_t perSlot = tl::getTmemColumns(resT);
      Value slot = toI32(rewriter, loc, adaptor.getOffsets()[0]);
      addr = arith::AddIOp::create(rewriter, loc, addr,
                                   arith::MulIOp::create(rewriter, loc, slot,
                                                         cI32(rewriter, loc, perSlot)));
      rewriter.replaceOp(op, addr);
      return success();
    }
    if (srcT.getRank() != 2)
      return op.emitError("a view of a tensor-memory tile needs a 2-D tile");
    int64_t per = perColumn(srcT.getElementType());
    Value lane = toI32(rewriter, loc, adaptor.getOffsets()[0]);
    Value col = arith::DivUIOp::create(rewriter, loc, toI32(rewriter, loc, adaptor.getOffsets()[1]),
                                       cI32(rewriter, loc, per));
    rewriter.replaceOp(op, tmemAddress(rewriter, loc, addr, lane, col));
    return success();
  }
};

/// tmem -> registers of the same layout.
LogicalResult lowerTmemToRegisters(tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                                   ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  auto srcT = cast<MemRefType>(op.getSrc().getType());
  auto dstT = cast<MemRefType>(op.getDst().getType());
  if (tl::getBufferLayout(srcT) != tl::getBufferLayout(dstT) || srcT.getShape() != dstT.getShape())
    return op.emitError("a copy out of tensor memory into registers needs the whole tile in its "
                        "layout (tl-assign-tmem makes such copies)");
  if (tl::getElementBits(srcT.getElementType()) != 32)
    return op.emitError("reading 16- or 8-bit elements out of tensor memory is not generated");
  FailureOr<TmemRow> row = tmemRow(rewriter, loc, op, srcT);
  if (failed(row))
    return failure();
  Type se = srcT.getElementType(), de = dstT.getElementType();
  for (auto [at, w] : pieces(row->slots)) {
    Value c = arith::AddIOp::create(rewriter, loc, row->column, cI32(rewriter, loc, at));
    SmallVector<Value> vals =
        tmemLoad(rewriter, loc, tmemAddress(rewriter, loc, adaptor.getSrc(), row->lane, c), w);
    for (auto [j, v] : llvm::enumerate(vals)) {
      Value e = LLVM::BitcastOp::create(rewriter, loc, registerType(se), v);
      LLVM::StoreOp::create(rewriter, loc, convertScalar(rewriter, loc, e, se, de),
                            slotPtr(rewriter, loc, adaptor.getDst(), registerType(de), at + j));
    }
  }
  // Before the role synchronises for an MMA that overwrites what was read.
  asmVoid(rewriter, loc, {}, "tcgen05.fence::before_thread_sync;", "~{memory}");
  rewriter.eraseOp(op);
  return success();
}

/// registers -> tmem of the same layout (converting the dtype).
LogicalResult lowerRegistersToTmem(tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                                   ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  auto srcT = cast<MemRefType>(op.getSrc().getType());
  auto dstT = cast<MemRefType>(op.getDst().getType());
  if (tl::getBufferLayout(srcT) != tl::getBufferLayout(dstT) || srcT.getShape() != dstT.getShape())
    return op.emitError("a copy of registers into tensor memory needs the whole tile in its "
                        "layout (tl-assign-tmem makes such copies)");
  Type se = srcT.getElementType(), de = dstT.getElementType();
  if (failed(storeRow(rewriter, loc, op, adaptor.getDst(), dstT, [&](int64_t j) {
        Value v = LLVM::LoadOp::create(rewriter, loc, registerType(se),
                                       slotPtr(rewriter, loc, adaptor.getSrc(), registerType(se), j));
        return convertScalar(rewriter, loc, v, se, de);
      })))
    return failure();
  rewriter.eraseOp(op);
  return success();
}

/// tmem -> global or shared memory, a piece at a time.
LogicalResult lowerTmemToMemory(tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  auto srcT = cast<MemRefType>(op.getSrc().getType());
  if (tl::getElementBits(srcT.getElementType()) != 32)
    return op.emitError("reading 16- or 8-bit elements out of tensor memory is not generated");
  FailureOr<TmemRow> row = tmemRow(rewriter, loc, op, srcT);
  if (failed(row))
    return failure();
  Type reg = registerType(srcT.getElementType());
  // The pieces' registers: an array in the entry block (SROA splits it; each
  // slot lives from its load to its store).
  Value regs;
  {
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPointToStart(&op->getParentOfType<LLVM::LLVMFuncOp>().getBody().front());
    Value n = LLVM::ConstantOp::create(rewriter, loc, rewriter.getI64Type(),
                                       rewriter.getI64IntegerAttr(row->slots));
    regs = LLVM::AllocaOp::create(rewriter, loc, LLVM::LLVMPointerType::get(op.getContext()), reg,
                                  n, 16);
  }
  bool shared = tl::getMemScope(op.getDst().getType()) == tl::MemScope::Shared;
  if (shared)
    syncThreadsOf(rewriter, loc, op);
  for (auto [at, w] : pieces(row->slots)) {
    Value c = arith::AddIOp::create(rewriter, loc, row->column, cI32(rewriter, loc, at));
    SmallVector<Value> vals =
        tmemLoad(rewriter, loc, tmemAddress(rewriter, loc, adaptor.getSrc(), row->lane, c), w);
    for (auto [j, v] : llvm::enumerate(vals))
      LLVM::StoreOp::create(rewriter, loc, LLVM::BitcastOp::create(rewriter, loc, reg, v),
                            slotPtr(rewriter, loc, regs, reg, at + j));
    if (failed(emitRegisterMemoryCopy(op, adaptor, rewriter, regs, srcT, /*toMemory=*/true, at,
                                      at + w)))
      return failure();
  }
  asmVoid(rewriter, loc, {}, "tcgen05.fence::before_thread_sync;", "~{memory}");
  if (shared)
    syncThreadsOf(rewriter, loc, op);
  rewriter.eraseOp(op);
  return success();
}

/// Block scales: shared staging tile -> TMEM, by the issuing thread.
LogicalResult lowerScalesToTmem(tl::CopyOp op, tl::CopyOp::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) {
  Location loc = op.getLoc();
  auto srcT = cast<MemRefType>(op.getSrc().getType());
  auto dstT = cast<MemRefType>(op.getDst().getType());
  if (!isa<Float8E8M0FNUType>(srcT.getElementType()) || srcT.getElementType() != dstT.getElementType() ||
      srcT.getShape() != dstT.getShape() || srcT.getRank() != 2)
    return op.emitError("shared -> tensor memory copies are of ue8m0 block scales, whole tiles");
  std::optional<tl::LinearLayout> l = tl::getBufferLayout(srcT);
  if (!l || l != tl::LinearLayout::tcgen05ScaleStaging(srcT.getShape()[0], srcT.getShape()[1]))
    return op.emitError("block scales in shared memory need the tcgen05.cp staging layout (run "
                        "tl-infer-layouts for sm_100a)");
  int64_t blocks = srcT.getShape()[0] / 128, groups = srcT.getShape()[1] / 4;
  tcgen05::Result<uint64_t> fixed =
      tcgen05::smemDescriptorConstantPart(16, 128, tcgen05::Swizzle::None);
  if (!fixed)
    return op.emitError("tcgen05.cp descriptor: " + fixed.error);
  Value src = LLVM::PtrToIntOp::create(rewriter, loc, rewriter.getI64Type(), adaptor.getSrc());
  auto ifOp = scf::IfOp::create(rewriter, loc, isIssuingThread(rewriter, loc, op), false);
  OpBuilder::InsertionGuard g(rewriter);
  rewriter.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  asmVoid(rewriter, loc, {}, "tcgen05.fence::after_thread_sync;", "~{memory}");
  for (int64_t grp = 0; grp < groups; ++grp)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      Value addr = arith::AddIOp::create(rewriter, loc, src,
                                         cI64(rewriter, loc, (grp * blocks + blk) * 512));
      Value start = arith::AndIOp::create(
          rewriter, loc, arith::ShRUIOp::create(rewriter, loc, addr, cI64(rewriter, loc, 4)),
          cI64(rewriter, loc, 0x3FFF));
      Value desc = arith::OrIOp::create(rewriter, loc, start,
                                        cI64(rewriter, loc, static_cast<int64_t>(fixed.value)));
      Value dst = arith::AddIOp::create(rewriter, loc, adaptor.getDst(),
                                        cI32(rewriter, loc, grp * 4 * blocks + 4 * blk));
      asmVoid(rewriter, loc, {dst, desc}, "tcgen05.cp.cta_group::1.32x128b.warpx4 [$0], $1;",
              "r,l,~{memory}");
    }
  rewriter.eraseOp(op);
  return success();
}

struct TmemCopyLowering : public OpConversionPattern<tl::CopyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::CopyOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Type s = op.getSrc().getType(), d = op.getDst().getType();
    if (!isTmem(s) && !isTmem(d))
      return rewriter.notifyMatchFailure(op, "no tensor memory");
    if (isTmem(s) && isTmem(d))
      return op.emitError("a copy between two tensor-memory buffers is not generated");
    for (Value v : isTmem(s) ? op.getSrcOffsets() : op.getDstOffsets())
      if (getConstantIntValue(v) != std::optional<int64_t>(0))
        return op.emitError("copies into or out of part of a tensor-memory buffer are not "
                            "generated");
    if (isTmem(s) && isRegisterScope(d))
      return lowerTmemToRegisters(op, adaptor, rewriter);
    if (isTmem(d) && isRegisterScope(s))
      return lowerRegistersToTmem(op, adaptor, rewriter);
    if (isTmem(s))
      return lowerTmemToMemory(op, adaptor, rewriter);
    if (tl::getMemScope(s) == tl::MemScope::Shared)
      return lowerScalesToTmem(op, adaptor, rewriter);
    return op.emitError("tensor memory is filled from registers or, for block scales, from "
                        "shared memory");
  }
};

struct TmemFillLowering : public OpConversionPattern<tl::FillOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(tl::FillOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto type = cast<MemRefType>(op.getDst().getType());
    if (!isTmem(type))
      return rewriter.notifyMatchFailure(op, "not tensor memory");
    Value v = adaptor.getValue();
    if (failed(storeRow(rewriter, op.getLoc(), op, adaptor.getDst(), type,
                        [&](int64_t) { return v; })))
      return failure();
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

FailureOr<TmemRow> tmemRow(OpBuilder &b, Location loc, Operation *op, MemRefType type) {
  std::optional<tl::LinearLayout> l = tl::getBufferLayout(type);
  auto bad = [&]() {
    return op->emitError("a tensor-memory tile is read and written through the tcgen05.ld 32x32b "
                         "layout (a row per thread, 128 rows; tl-infer-layouts gives it)");
  };
  if (!l || l->getRank() != 2 || l->getOutShape()[0] != 128)
    return bad();
  using LL = tl::LinearLayout;
  auto lanes = l->getBases(LL::Lane), warps = l->getBases(LL::Warp), regs = l->getBases(LL::Register);
  if (lanes.size() != 5 || warps.size() < 2)
    return bad();
  for (unsigned i = 0; i < 5; ++i)
    if (lanes[i] != LL::Coords{int64_t{1} << i, 0})
      return bad();
  if (warps[0] != LL::Coords{32, 0} || warps[1] != LL::Coords{64, 0})
    return bad();
  for (unsigned i = 2; i < warps.size(); ++i)
    if (warps[i][0] != 0)
      return bad();
  for (unsigned i = 0; i < regs.size(); ++i)
    if (regs[i] != LL::Coords{0, int64_t{1} << i})
      return bad();
  Value tid = arith::SubIOp::create(b, loc, threadIdx(b, loc), cIndex(b, loc, firstThreadOf(op)));
  Value warp = arith::DivUIOp::create(b, loc, tid, cIndex(b, loc, kWarpSize));
  TmemRow row;
  row.lane = toI32(b, loc, arith::MulIOp::create(
                               b, loc, arith::RemUIOp::create(b, loc, warp, cIndex(b, loc, 4)),
                               cIndex(b, loc, 32)));
  SmallVector<LL::Coords> wgBases;
  for (unsigned i = 0; i < warps.size(); ++i)
    wgBases.push_back(i < 2 ? LL::Coords{0, 0} : warps[i]);
  row.column = toI32(b, loc, tl::emitLinearMap(b, loc, wgBases, 2, warp)[1]);
  // Slots past the tile's columns (a width that is not a power of two)
  // hold nothing: a single warpgroup's slot s is column s.
  row.slots = std::min<int64_t>(l->getInSize(LL::Register), type.getShape()[1]);
  return row;
}

Value tmemAddress(OpBuilder &b, Location loc, Value base, Value lane, Value column) {
  Value a = arith::AddIOp::create(b, loc, base, column);
  return arith::AddIOp::create(b, loc, a, arith::ShLIOp::create(b, loc, lane, cI32(b, loc, 16)));
}

void tcgen05Commit(OpBuilder &b, Location loc, Value addr32) {
  asmVoid(b, loc, {addr32},
          "tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.b64 [$0];",
          "r,~{memory}");
}

Value isIssuingThread(OpBuilder &b, Location loc, Operation *op) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, threadIdx(b, loc),
                               cIndex(b, loc, firstThreadOf(op)));
}

void populateTmemPatterns(TlTypeConverter &tc, RewritePatternSet &patterns,
                          const NVIDIATarget &target) {
  if (!target.tcgen05())
    return;
  // Before the generic copy/fill/view patterns, which leave tensor memory
  // to these.
  patterns.add<AllocTmemLowering, TmemViewLowering, TmemCopyLowering, TmemFillLowering>(
      tc, patterns.getContext(), /*benefit=*/2);
}

} // namespace tlc::nvvm
