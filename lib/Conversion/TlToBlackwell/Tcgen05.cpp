// The sm_100a (Blackwell) parts of the NVIDIA GPU lowering: tensor memory
// planning, tcgen05.mma issue (dense and block-scaled), tcgen05.cp of block
// scales, tcgen05.ld/st between TMEM and a fragment's registers, and the MMA
// warp of a warp-specialised pipeline. Everything else (layouts, TMA producer,
// mbarriers, persistent tiles, SIMT code) is the shared machinery of
// lib/Conversion/TlToHopper; docs/blackwell.md describes the whole path.
#include "../TlToHopper/KernelLowering.h"

#include "tlc/Target/NVIDIA/Tcgen05.h"

#include "mlir/IR/Matchers.h"

namespace tlc {
namespace nvgpu {

namespace {
constexpr int64_t kTmemColumnsMax = 512;
constexpr int64_t kRegisterBudget = 224; // of 232 after setmaxnreg / 255 without

int64_t nextPow2(int64_t v) {
  int64_t p = 1;
  while (p < v)
    p *= 2;
  return p;
}

// tcgen05 operand format of a tl element type, or nullopt.
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
// The MMA kind a (checked) gemm issues: block-scaled FP8/FP4, FP8, or 16-bit.
tcgen05::Kind kindOf(tl::GemmOp op) {
  if (op.getScaleA())
    return tcgen05::Kind::MXF8F6F4;
  Type a = cast<MemRefType>(op.getA().getType()).getElementType();
  return isNarrowFloat(a) ? tcgen05::Kind::F8F6F4 : tcgen05::Kind::F16;
}
} // namespace

Value KernelLowering::smemAddr32(Value offset) {
  Value smem32 = LLVM::PtrToIntOp::create(b_, loc(), b_.getI32Type(), sharedBase());
  return arith::AddIOp::create(b_, loc(), smem32, toI32(offset));
}

Value KernelLowering::smemAddr32(int64_t offset) { return smemAddr32(cIndex(offset)); }

// TMEM address (lane << 16 | column) relative to the allocation's base.
Value KernelLowering::tmemAddress(Value laneBase, Value column) {
  Value a = arith::AddIOp::create(b_, loc(), tmemBase_, toI32(column));
  if (laneBase)
    a = arith::AddIOp::create(b_, loc(), a,
                              arith::ShLIOp::create(b_, loc(), toI32(laneBase), cI32(16)));
  return a;
}

// Completion of this thread's earlier tcgen05 ops arrives on the barrier; a
// CTA pair's leader signals the barrier at the same offset in both blocks.
void KernelLowering::commitTo(Value barrierOffset) {
  if (pairM_) {
    asmVoid(
        {smemAddr32(barrierOffset), arith::ConstantOp::create(b_, loc(), b_.getI16IntegerAttr(3))},
        "tcgen05.commit.cta_group::2.mbarrier::arrive::one.shared::cluster.multicast::cluster."
        "b64 [$0], $1;",
        "r,h,~{memory}");
    return;
  }
  asmVoid({smemAddr32(barrierOffset)},
          "tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.b64 [$0];",
          "r,~{memory}");
}

//===----------------------------------------------------------------------===//
// Planning
//===----------------------------------------------------------------------===//

LogicalResult KernelLowering::planTensorMemory() {
  if (!isTcgen05())
    return success();
  // The warp-specialised pipeline's gemm: exactly one in the loop body.
  if (pipe_) {
    SmallVector<tl::GemmOp> gemms;
    for (Operation &inner : pipe_->op.getBodyBlock())
      if (auto g = dyn_cast<tl::GemmOp>(&inner))
        gemms.push_back(g);
    if (gemms.size() == 1) {
      wsGemm_ = gemms.front();
    } else {
      pipe_.reset();
      warpSpecialised_ = false;
    }
  }
  if (wsGemm_) {
    tl::PipelinedOp loop = pipe_->op;
    WalkResult others = launch_.walk([&](tl::GemmOp g) {
      return g == wsGemm_ ? WalkResult::advance() : WalkResult::interrupt();
    });
    if (others.wasInterrupted())
      return wsGemm_.emitError("on sm_100a a kernel with a pipelined T.gemm may hold no other "
                               "T.gemm yet (they would share the MMA barriers)");
    DenseSet<Operation *> producerOps;
    for (tl::CopyOp c : pipe_->tmaCopies)
      producerOps.insert(c);
    for (tl::CopyOp c : pipe_->producerCopies)
      producerOps.insert(c);
    consumersInLoop_ = false;
    for (Operation &inner : loop.getBodyBlock()) {
      if (isa<tl::YieldOp>(&inner) || producerOps.contains(&inner) || &inner == wsGemm_)
        continue;
      if (isa<arith::ArithDialect, math::MathDialect>(inner.getDialect()) &&
          isMemoryEffectFree(&inner))
        continue;
      consumersInLoop_ = true;
    }
    Value c = wsGemm_.getC();
    Block &body = launch_.getBodyBlock();
    bool inLoop = false, after = false;
    tl::FillOp clear;
    for (Operation *user : c.getUsers()) {
      if (user == wsGemm_.getOperation())
        continue;
      if (loop->isAncestor(user)) {
        inLoop = true;
        continue;
      }
      Operation *top = body.findAncestorOpInBlock(*user);
      if (top && loop->isBeforeInBlock(top)) {
        after = true;
        continue;
      }
      auto fill = dyn_cast<tl::FillOp>(user);
      if (fill && top == user && !clear && matchPattern(fill.getValue(), m_AnyZeroFloat())) {
        clear = fill;
        continue;
      }
      return user->emitError("on sm_100a the accumulator of a pipelined T.gemm lives in tensor "
                             "memory: before the loop it may only be cleared (T.clear)");
    }
    ringOverIters_ = inLoop;
    if (inLoop && after)
      return wsGemm_.emitError("on sm_100a a pipelined T.gemm accumulator is read either inside "
                               "its loop (a fresh product per iteration) or after it, not both");
    if (inLoop && !wsGemm_.getClearAccum())
      return wsGemm_.emitError("on sm_100a a T.gemm accumulator read inside its pipelined loop "
                               "needs clear_accum=True: each iteration's product passes through "
                               "tensor memory");
    if (!wsGemm_.getClearAccum()) {
      if (!clear)
        return wsGemm_.emitError("on sm_100a an accumulating T.gemm in a pipelined loop needs "
                                 "T.clear of its accumulator before the loop (the clear becomes "
                                 "the first MMA's overwrite of tensor memory)");
      foldedFills_.insert(clear);
    }
  }

  if (pairM_) {
    // A CTA pair computes 256 rows with one MMA stream from the leader: the
    // loop may only feed that gemm, through TMA.
    if (!wsGemm_)
      return launch_.emitError("a CTA pair (cluster=(1, 2, 1)) needs a pipelined loop feeding one "
                               "T.gemm from TMA copies");
    if (wsGemm_.getScaleA() || ringOverIters_ || consumersInLoop_ || !pipe_->producerCopies.empty())
      return wsGemm_.emitError(
          "a CTA pair (cluster=(1, 2, 1)) is generated for an accumulating, non-block-scaled "
          "T.gemm whose pipelined loop holds only its TMA copies so far");
    auto bT = cast<MemRefType>(wsGemm_.getB().getType());
    bool bByTma =
        llvm::any_of(pipe_->tmaCopies, [&](tl::CopyOp c) { return c.getDst() == wsGemm_.getB(); });
    if (!bByTma || bT.getShape()[0] % 16 != 0)
      return wsGemm_.emitError("a CTA pair splits B between its blocks: B must be loaded by TMA "
                               "with a multiple of 16 rows");
  }

  // Tensor-memory residents: T.alloc_tmem buffers and T.gemm accumulators.
  SmallVector<Value> residents;
  SmallVector<tl::GemmOp> scaled;
  launch_.walk([&](Operation *op) {
    if (auto a = dyn_cast<tl::AllocTmemOp>(op))
      residents.push_back(a.getResult());
    if (auto g = dyn_cast<tl::GemmOp>(op)) {
      if (!llvm::is_contained(residents, g.getC()))
        residents.push_back(g.getC());
      if (g.getScaleA())
        scaled.push_back(g);
    }
  });
  for (Value v : residents) {
    auto it = layouts_.find(v);
    if (it == layouts_.end() || it->second.kind != LayoutKind::Tmem)
      return v.getDefiningOp()->emitError(
          "on sm_100a a tensor-memory buffer is read and written through its T.gemm accumulator "
          "layout only (128 rows, a row per thread)");
  }
  auto plan = [&](int64_t wsRing) -> int64_t {
    tmem_.clear();
    scaleTmem_.clear();
    int64_t top = 0;
    for (Value v : residents) {
      TmemBuf t;
      t.columns = cast<MemRefType>(v.getType()).getShape()[1];
      t.ring = wsGemm_ && v == wsGemm_.getC() ? wsRing : 1;
      t.column = top;
      top += t.columns * t.ring;
      tmem_[v] = t;
    }
    for (tl::GemmOp g : scaled) {
      for (Value s : {g.getScaleA(), g.getScaleB()}) {
        if (scaleTmem_.count(s))
          continue;
        auto t = cast<MemRefType>(s.getType());
        ScaleTmem st;
        st.columnsPerGroup = 4 * llvm::divideCeil(t.getShape()[0], 128);
        st.groups = llvm::divideCeil(t.getShape()[1], 4);
        st.copyColumns = st.groups * st.columnsPerGroup;
        st.column = top;
        top += 2 * st.copyColumns;
        scaleTmem_[s] = st;
      }
    }
    return top;
  };
  int64_t need = plan(2);
  if (need > kTmemColumnsMax && wsGemm_)
    need = plan(1);
  if (need > kTmemColumnsMax) {
    std::string parts;
    for (Value v : residents) {
      auto t = cast<MemRefType>(v.getType());
      parts += llvm::formatv("{0}{1}x{2} accumulator x{3}", parts.empty() ? "" : ", ",
                             t.getShape()[0], t.getShape()[1], tmem_[v].ring)
                   .str();
    }
    if (!scaleTmem_.empty())
      parts += ", block scales";
    Operation *at = residents.empty() ? launch_.getOperation() : residents.front().getDefiningOp();
    return at->emitError(llvm::formatv(
        "tensor memory: this kernel needs {0} 32-bit columns ({1}); sm_100a has {2} per block; "
        "use a narrower tile (BN)",
        need, parts, kTmemColumnsMax));
  }
  if (need)
    tmemColumns_ = std::max<int64_t>(32, nextPow2(need));
  return success();
}

// MMA accumulators and the fragments laid out like them stay in registers for
// a whole tile: refuse tiles whose per-thread share cannot fit instead of
// letting ptxas spill them to local memory. (Other fragments are streamed by
// loops and left to the register allocator.)
LogicalResult KernelLowering::checkRegisterBudget() {
  int64_t total = 0, biggest = 0;
  Value big;
  for (auto &[v, l] : layouts_) {
    if (l.kind != LayoutKind::Wgmma && l.kind != LayoutKind::Tmem)
      continue;
    int64_t bits = tl::getElementBits(cast<MemRefType>(v.getType()).getElementType());
    int64_t regs = l.slots() * (bits > 32 ? 2 : 1);
    total += regs;
    if (regs > biggest) {
      biggest = regs;
      big = v;
    }
  }
  if (total <= kRegisterBudget || !big)
    return success();
  return big.getDefiningOp()->emitError(llvm::formatv(
      "fragments need {0} registers per thread ({1} for this one) with {2} threads on {3}; "
      "the budget is {4}: use more threads or a smaller tile",
      total, biggest, threads_, options_.chip, kRegisterBudget));
}

//===----------------------------------------------------------------------===//
// Tensor memory: allocation and register transfers
//===----------------------------------------------------------------------===//

void KernelLowering::emitTmemAlloc() {
  Value isWarp0 = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ult, tid_, cIndex(32));
  auto ifOp = scf::IfOp::create(b_, loc(), isWarp0, false);
  {
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    // With cta_group::2, warp 0 of each block of the pair takes part.
    asmVoid({smemAddr32(tmemSlot_)},
            llvm::formatv("tcgen05.alloc.{0}.sync.aligned.shared::cta.b32 [$0], {1};", ctaGroup(),
                          tmemColumns_)
                .str(),
            "r,~{memory}");
    asmVoid({},
            llvm::formatv("tcgen05.relinquish_alloc_permit.{0}.sync.aligned;", ctaGroup()).str(),
            "~{memory}");
  }
  asmVoid({}, "tcgen05.fence::before_thread_sync;", "~{memory}");
}

// At the end: everyone's TMEM accesses (and, in a cluster, every peer's
// signals) are done before warp 0 frees the columns.
void KernelLowering::emitTmemDealloc() {
  asmVoid({}, "tcgen05.fence::before_thread_sync;", "~{memory}");
  if (clusterX_ > 1)
    clusterSync();
  else
    asmVoid({}, "bar.sync 0;", "~{memory}");
  asmVoid({}, "tcgen05.fence::after_thread_sync;", "~{memory}");
  Value isWarp0 = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ult, tid_, cIndex(32));
  auto ifOp = scf::IfOp::create(b_, loc(), isWarp0, false);
  OpBuilder::InsertionGuard g(b_);
  b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  asmVoid({tmemBase_},
          llvm::formatv("tcgen05.dealloc.{0}.sync.aligned.b32 $0, {1};", ctaGroup(), tmemColumns_)
              .str(),
          "r,~{memory}");
}

namespace {
// Power-of-two pieces of `n` columns, at most 32 per tcgen05.ld/st.
SmallVector<std::pair<int64_t, int64_t>> columnPieces(int64_t n) {
  SmallVector<std::pair<int64_t, int64_t>> pieces;
  int64_t at = 0;
  while (at < n) {
    int64_t w = 32;
    while (w > n - at)
      w /= 2;
    pieces.push_back({at, w});
    at += w;
  }
  return pieces;
}
} // namespace

// TMEM address of slot `slot` of the calling warp's rows of `f` (Tmem
// layout) stored from `column`: the warp's 32-lane quarter (warp % 4) and
// its warpgroup's share of the columns.
Value KernelLowering::rowAddress(const FragBuf &f, Value column, int64_t slot) {
  Value warpInWg = arith::RemUIOp::create(
      b_, loc(), arith::DivUIOp::create(b_, loc(), tid_, cIndex(kWarpSize)), cIndex(4));
  Value wg = arith::DivUIOp::create(b_, loc(), tid_, cIndex(kWarpgroup));
  Value col = addI(addI(column, mulI(wg, cIndex(f.layout.slots()))), cIndex(slot));
  return tmemAddress(mulI(warpInWg, cIndex(32)), col);
}

// The calling thread's row of `f` (Tmem layout) <- TMEM columns starting at
// `column`; every thread of the warpgroup takes part (.sync.aligned). With
// `zeroIf` set, the registers get zero instead (an empty k-loop).
void KernelLowering::tmemLoadFragment(const FragBuf &f, Value column, Value zeroIf) {
  for (auto [at, w] : columnPieces(f.layout.slots()))
    tmemLoadSlots(f, column, zeroIf, at, w);
}

// Slots [first, first + count) of the calling thread's row (count a power of
// two of at most 32): one tcgen05.ld, then tcgen05.wait::ld with the
// registers tied through it, so no use can be scheduled before the wait.
void KernelLowering::tmemLoadSlots(const FragBuf &f, Value column, Value zeroIf, int64_t first,
                                   int64_t count) {
  {
    int64_t at = first, w = count;
    std::string text = llvm::formatv("tcgen05.ld.sync.aligned.32x32b.x{0}.b32 {{", w).str();
    std::string cons, waitCons;
    for (int64_t j = 0; j < w; ++j) {
      text += (j ? ", $" : "$") + std::to_string(j);
      cons += "=r,";
      waitCons += "=r,";
    }
    text += llvm::formatv("}, [${0}];", w).str();
    cons += "r,~{memory}";
    for (int64_t j = 0; j < w; ++j)
      waitCons += std::to_string(j) + (j + 1 < w ? "," : "");
    SmallVector<Type> fields(w, b_.getI32Type());
    Type resT = w == 1 ? Type(b_.getI32Type()) : LLVM::LLVMStructType::getLiteral(ctx_, fields);
    auto unpack = [&](Value res) {
      SmallVector<Value> vals;
      for (int64_t j = 0; j < w; ++j)
        vals.push_back(
            w == 1 ? res
                   : Value(LLVM::ExtractValueOp::create(b_, loc(), res, ArrayRef<int64_t>{j})));
      return vals;
    };
    Value res = asmOp(resT, {rowAddress(f, column, at)}, text, cons);
    Value waited = asmOp(resT, unpack(res), "tcgen05.wait::ld.sync.aligned;", waitCons);
    for (auto [j, v] : llvm::enumerate(unpack(waited))) {
      v = LLVM::BitcastOp::create(b_, loc(), b_.getF32Type(), v);
      if (zeroIf)
        v = arith::SelectOp::create(b_, loc(), zeroIf, zeroOf(b_.getF32Type()), v);
      LLVM::StoreOp::create(b_, loc(), v, fragSlotPtr(f, at + j));
    }
  }
}

// The calling thread's row of `f` -> TMEM columns starting at `column`.
void KernelLowering::tmemStoreFragment(const FragBuf &f, Value column) {
  for (auto [at, w] : columnPieces(f.layout.slots())) {
    std::string text = llvm::formatv("tcgen05.st.sync.aligned.32x32b.x{0}.b32 [$0], {{", w).str();
    std::string cons = "r";
    SmallVector<Value> operands{rowAddress(f, column, at)};
    for (int64_t j = 0; j < w; ++j) {
      text += (j ? ", $" : "$") + std::to_string(j + 1);
      cons += ",r";
      Value v = LLVM::LoadOp::create(b_, loc(), f.storeType, fragSlotPtr(f, at + j));
      operands.push_back(LLVM::BitcastOp::create(b_, loc(), b_.getI32Type(), v));
    }
    text += "};";
    asmVoid(operands, text, cons + ",~{memory}");
  }
  asmVoid({}, "tcgen05.wait::st.sync.aligned;", "~{memory}");
}

//===----------------------------------------------------------------------===//
// MMA issue
//===----------------------------------------------------------------------===//

FailureOr<Value> KernelLowering::instrDescriptor(tl::GemmOp op, int64_t sfaId, int64_t sfbId) {
  auto aT = cast<MemRefType>(op.getA().getType());
  auto bT = cast<MemRefType>(op.getB().getType());
  tcgen05::InstrDesc d;
  d.a = *formatOf(aT.getElementType());
  d.b = *formatOf(bT.getElementType());
  d.m = aT.getShape()[0] * (pairM_ ? 2 : 1); // a CTA pair: both blocks' rows
  d.n = bT.getShape()[0];
  d.ctaGroup = pairM_ ? 2 : 1;
  d.kind = kindOf(op);
  d.accum = tcgen05::Accum::F32;
  d.sfaId = sfaId;
  d.sfbId = sfbId;
  tcgen05::Result<uint32_t> enc = tcgen05::instrDescriptor(d);
  if (!enc)
    return op.emitError("tcgen05.mma: " + enc.error);
  return cI32(static_cast<int32_t>(enc.value));
}

// One k-block of `op` issued by the calling (single) thread: tcgen05.cp of
// the block scales (if any) then K / kStep tcgen05.mma into the accumulator
// at TMEM column `dColumn`. The first MMA overwrites the accumulator unless
// `enableFirst` (i1) is set; later ones accumulate.
LogicalResult KernelLowering::emitTcgen05Mmas(tl::GemmOp op, Value dColumn, Value enableFirst,
                                              Value scaleSet) {
  auto aT = cast<MemRefType>(op.getA().getType());
  auto bT = cast<MemRefType>(op.getB().getType());
  Type ae = aT.getElementType();
  bool scaled = static_cast<bool>(op.getScaleA());
  int64_t kStep = tcgen05::mmaK(kindOf(op));
  int64_t M = aT.getShape()[0], K = aT.getShape()[1], N = bT.getShape()[0];
  int64_t esz = storageBytes(ae); // FP4 operands sit unpacked, a byte per element
  int64_t chunkK = 128 / esz;
  Value smem64 = LLVM::PtrToIntOp::create(b_, loc(), b_.getI64Type(), sharedBase());
  auto descriptor = [&](Value byteOffset, tcgen05::Swizzle sw, int64_t sbo) {
    // Start address, LBO and the fixed bits from the encoder; the runtime
    // start address is or-ed into bits 0-13.
    uint64_t fixed = tcgen05::smemDescriptorConstantPart(16, sbo, sw).value;
    Value addr = addI(smem64, toI64(byteOffset));
    Value start = arith::AndIOp::create(b_, loc(), arith::ShRUIOp::create(b_, loc(), addr, cI64(4)),
                                        cI64(0x3FFF));
    return arith::OrIOp::create(b_, loc(), start, cI64(static_cast<int64_t>(fixed))).getResult();
  };
  Value aBase = sharedBufferBase(op.getA()), bBase = sharedBufferBase(op.getB());
  Value dAddr = tmemAddress(Value(), dColumn);

  // Block scales: shared staging tile -> TMEM, one 32x128b.warpx4 copy per
  // 128 rows and 4 chunks (each copy fills 4 columns of all 128 lanes).
  Value sfa, sfb;
  if (scaled) {
    auto copyScales = [&](Value buf) -> Value {
      const ScaleTmem &st = scaleTmem_[buf];
      auto t = cast<MemRefType>(buf.getType());
      int64_t blocks = llvm::divideCeil(t.getShape()[0], 128);
      Value setCol = addI(cIndex(st.column), mulI(scaleSet, cIndex(st.copyColumns)));
      Value sBase = sharedBufferBase(buf);
      for (int64_t g = 0; g < st.groups; ++g)
        for (int64_t blk = 0; blk < blocks; ++blk) {
          Value src = addI(sBase, cIndex((g * blocks + blk) * 512));
          Value dst = tmemAddress(Value(), addI(setCol, cIndex(g * st.columnsPerGroup + 4 * blk)));
          asmVoid({dst, descriptor(src, tcgen05::Swizzle::None, 128)},
                  "tcgen05.cp.cta_group::1.32x128b.warpx4 [$0], $1;", "r,l,~{memory}");
        }
      return setCol;
    };
    sfa = copyScales(op.getScaleA());
    sfb = copyScales(op.getScaleB());
  }
  for (int64_t k = 0; k < K; k += kStep) {
    int64_t chunk = k / chunkK, within = (k % chunkK) * esz;
    Value descA =
        descriptor(addI(aBase, cIndex(chunk * M * 128 + within)), tcgen05::Swizzle::B128, 1024);
    Value descB =
        descriptor(addI(bBase, cIndex(chunk * N * 128 + within)), tcgen05::Swizzle::B128, 1024);
    Value enable =
        k == 0 ? enableFirst : arith::ConstantOp::create(b_, loc(), b_.getBoolAttr(true));
    Value enable32 = arith::ExtUIOp::create(b_, loc(), b_.getI32Type(), enable);
    if (!scaled) {
      auto idesc = instrDescriptor(op, 0, 0);
      if (failed(idesc))
        return failure();
      asmVoid({dAddr, descA, descB, *idesc, enable32},
              llvm::formatv("{{\n.reg .pred p;\nsetp.ne.b32 p, $4, 0;\n"
                            "tcgen05.mma.{0}.{1} [$0], $1, $2, $3, p;\n}",
                            ctaGroup(), tcgen05::kindName(kindOf(op)))
                  .str(),
              "r,l,l,r,r,~{memory}");
      continue;
    }
    // Scale chunk s = k / 32 sits in byte s % 4 of column group s / 4.
    int64_t s = k / 32;
    auto idesc = instrDescriptor(op, s % 4, s % 4);
    if (failed(idesc))
      return failure();
    const ScaleTmem &sa = scaleTmem_[op.getScaleA()], &sb = scaleTmem_[op.getScaleB()];
    Value aCol = addI(sfa, cIndex((s / 4) * sa.columnsPerGroup));
    Value bCol = addI(sfb, cIndex((s / 4) * sb.columnsPerGroup));
    asmVoid({dAddr, descA, descB, *idesc, tmemAddress(Value(), aCol), tmemAddress(Value(), bCol),
             enable32},
            "{\n.reg .pred p;\nsetp.ne.b32 p, $6, 0;\n"
            "tcgen05.mma.cta_group::1.kind::mxf8f6f4.block_scale.scale_vec::1X "
            "[$0], $1, $2, $3, [$4], [$5], p;\n}",
            "r,l,l,r,r,r,r,~{memory}");
  }
  return success();
}

// What tcgen05 (cta_group::1, M = 128) takes; each refusal names the fix.
LogicalResult KernelLowering::checkTcgen05Gemm(tl::GemmOp op) {
  if (!shared_.count(op.getA()) || !shared_.count(op.getB()) || !frags_.count(op.getC()))
    return op.emitError("on sm_100a T.gemm needs A and B in shared memory and C in a fragment or "
                        "tensor memory (A from tensor memory is not generated yet)");
  if (op.getTransposeA() || !op.getTransposeB())
    return op.emitError("on sm_100a T.gemm supports K-major operands only (A[M, K], B[N, K] with "
                        "transpose_B=True) so far");
  auto aT = cast<MemRefType>(op.getA().getType());
  auto bT = cast<MemRefType>(op.getB().getType());
  Type ae = aT.getElementType(), be = bT.getElementType();
  auto fa = formatOf(ae), fb = formatOf(be);
  bool scaled = static_cast<bool>(op.getScaleA());
  bool narrowA = isNarrowFloat(ae), narrowB = isNarrowFloat(be);
  if (!fa || !fb || narrowA != narrowB || (!narrowA && ae != be))
    return op.emitError("tcgen05 takes bf16 x bf16, f16 x f16, and 8/4-bit floats (e4m3, e5m2, "
                        "e2m1) on both sides");
  if ((isFP4(ae) || isFP4(be)) && !scaled)
    return op.emitError("float4_e2m1 operands need the block-scaled T.gemm on sm_100a");
  int64_t M = aT.getShape()[0], K = aT.getShape()[1], N = bT.getShape()[0];
  if (M != 128 || frags_[op.getC()].layout.kind != LayoutKind::Tmem)
    return op.emitError("tcgen05 with cta_group::1 computes 128-row tiles: use BM = 128");
  std::string shape = tcgen05::validateShape(kindOf(op), pairM_ ? 2 * M : M, N, pairM_ ? 2 : 1);
  if (!shape.empty())
    return op.emitError("tcgen05.mma: " + shape);
  if (scaled) {
    if (op.getScaleBlock() && *op.getScaleBlock() != 32)
      return op.emitError(llvm::formatv(
          "tcgen05 block scaling (kind::mxf8f6f4) takes one scale per 32 K, not {0}; expand "
          "coarser scales to 32-wide blocks (runtime/ScaleLayout)",
          *op.getScaleBlock()));
    for (Value s : {op.getScaleA(), op.getScaleB()}) {
      if (!shared_.count(s) || !shared_[s].scaleTile)
        return op.emitError("tcgen05 block scales must be ue8m0 buffers in shared memory");
      if (cast<MemRefType>(s.getType()).getShape()[1] != K / 32)
        return op.emitError("tcgen05 block scales need K / 32 columns");
    }
  }
  return success();
}

// A T.gemm outside a warp-specialised pipeline: the fragment's registers are
// the accumulator; they go to TMEM (unless cleared), thread 0 issues the MMAs
// and commits to the block's MMA barrier, everyone waits and reads back.
LogicalResult KernelLowering::emitGemmTcgen05Plain(tl::GemmOp op) {
  const FragBuf &f = frags_[op.getC()];
  const TmemBuf &t = tmem_[op.getC()];
  if (!op.getClearAccum())
    tmemStoreFragment(f, cIndex(t.column));
  asmVoid({}, "fence.proxy.async.shared::cta;", "~{memory}");
  asmVoid({}, "tcgen05.fence::before_thread_sync;", "~{memory}");
  blockBarrier();
  asmVoid({}, "tcgen05.fence::after_thread_sync;", "~{memory}");
  Value isT0 = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, tid_, cIndex(0));
  {
    auto ifOp = scf::IfOp::create(b_, loc(), isT0, false);
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    Value enable = arith::ConstantOp::create(b_, loc(), b_.getBoolAttr(!op.getClearAccum()));
    if (failed(emitTcgen05Mmas(op, cIndex(t.column), enable, cIndex(0))))
      return failure();
    commitTo(cIndex(mmaBarOffset_));
  }
  Value phase = LLVM::LoadOp::create(b_, loc(), b_.getI32Type(), mmaPhase_);
  waitBarrier(cIndex(mmaBarOffset_), phase);
  LLVM::StoreOp::create(b_, loc(), arith::XOrIOp::create(b_, loc(), phase, cI32(1)), mmaPhase_);
  asmVoid({}, "tcgen05.fence::after_thread_sync;", "~{memory}");
  tmemLoadFragment(f, cIndex(t.column), Value());
  return success();
}

//===----------------------------------------------------------------------===//
// Warp-specialised pipeline: the MMA warp and the consumers' side
//===----------------------------------------------------------------------===//

// The MMA warp's loop over one tile (inside the persistent tile loop); lane 0
// issues, the warp follows the barriers together.
LogicalResult KernelLowering::emitMmaIssuer() {
  PipelinePlan &plan = *pipe_;
  tl::PipelinedOp op = plan.op;
  IRMapping m;
  for (auto [orig, id] : llvm::zip(launch_.getBlockIds(), blockIds_))
    m.map(orig, id);
  Value lb = cloneProducerValue(op.getLowerBound(), m);
  Value ub = cloneProducerValue(op.getUpperBound(), m);
  Value st = cloneProducerValue(op.getStep(), m);
  if (!lb || !ub || !st)
    return op.emitError("the MMA warp needs loop bounds that are pure index computations of the "
                        "block ids and sizes");
  Value c = wsGemm_.getC();
  const TmemBuf &tb = tmem_[c];
  int64_t R = tb.ring, N = tb.columns;
  auto accFull = [&](Value i) { return addI(cIndex(mmaBarOffset_), mulI(i, cIndex(8))); };
  auto accEmpty = [&](Value i) { return addI(cIndex(mmaBarOffset_ + 8 * R), mulI(i, cIndex(8))); };
  Value lane = arith::RemUIOp::create(b_, loc(), tid_, cIndex(kWarpSize));
  Value isLane0 = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, lane, cIndex(0));
  Value trip = arith::MaxSIOp::create(
      b_, loc(),
      arith::CeilDivSIOp::create(b_, loc(), arith::SubIOp::create(b_, loc(), ub, lb), st),
      cIndex(0));
  lastTripCount_ = trip;
  // A CTA pair's MMAs are issued by the leader (rank 0) for both blocks.
  std::optional<OpBuilder::InsertionGuard> leaderOnly;
  if (pairM_) {
    Value leader =
        arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, clusterRank(), cIndex(0));
    auto ifOp = scf::IfOp::create(b_, loc(), leader, false);
    leaderOnly.emplace(b_);
    b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  }
  // Ring slot `count % R` (its (count / R)-th use): wait until the consumers
  // have drained it, return its TMEM column.
  auto claimSlot = [&](Value count, Value &slot) {
    slot = arith::RemUIOp::create(b_, loc(), count, cIndex(R));
    Value use = arith::DivUIOp::create(b_, loc(), count, cIndex(R));
    waitBarrier(accEmpty(slot),
                arith::XOrIOp::create(b_, loc(), arith::AndIOp::create(b_, loc(), use, cIndex(1)),
                                      cIndex(1)));
    return addI(cIndex(tb.column), mulI(slot, cIndex(N)));
  };
  Value slot, dTile;
  if (!ringOverIters_) {
    dTile = claimSlot(tileCount_, slot);
    asmVoid({}, "tcgen05.fence::after_thread_sync;", "~{memory}");
  }
  auto loop = scf::ForOp::create(b_, loc(), lb, ub, st);
  {
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(loop.getBody()->getTerminator());
    m.map(op.getInductionVar(), loop.getInductionVar());
    PipeIter pi = pipeIter(loop.getInductionVar(), lb, st);
    Value it = pi.it, git = pi.git, stage = pi.stage;
    Value dCol = dTile, pslot;
    if (ringOverIters_)
      dCol = claimSlot(git, pslot);
    waitBarrier(fullBarrier(stage), pi.phase);
    asmVoid({}, "tcgen05.fence::after_thread_sync;", "~{memory}");
    auto ifOp = scf::IfOp::create(b_, loc(), isLane0, false);
    {
      OpBuilder::InsertionGuard g(b_);
      b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      Value savedStage = stage_;
      stage_ = stage;
      Value enable = arith::ConstantOp::create(b_, loc(), b_.getBoolAttr(false));
      if (!wsGemm_.getClearAccum())
        enable = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::sgt, it, cIndex(0));
      Value set = arith::RemUIOp::create(b_, loc(), git, cIndex(2));
      if (failed(emitTcgen05Mmas(wsGemm_, dCol, enable, set)))
        return failure();
      stage_ = savedStage;
      // The stage is free once these MMAs have read it; the product is ready
      // once they have written it.
      // With a cluster, every block's producer may overwrite this stage in
      // all blocks (multicast), so the commit arrives on all of them.
      Value emptyBar = emptyBarrier(stage);
      if (clusterX_ > 1 && !pairM_)
        asmVoid({smemAddr32(emptyBar),
                 arith::ConstantOp::create(b_, loc(), b_.getI16IntegerAttr((1 << clusterX_) - 1))},
                "tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.multicast::"
                "cluster.b64 [$0], $1;",
                "r,h,~{memory}");
      else
        commitTo(emptyBar);
      if (ringOverIters_)
        commitTo(accFull(pslot));
    }
    asmVoid({}, "bar.warp.sync 0xffffffff;", "~{memory}");
  }
  if (!ringOverIters_) {
    auto ifOp = scf::IfOp::create(b_, loc(), isLane0, false);
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    commitTo(accFull(slot));
  }
  return success();
}

// The op of `block` after `after` that is the only one there reading the
// accumulator `c`, when it can be emitted in column pieces (a copy of `c` to
// a global tensor, or an element-wise loop); otherwise null.
Operation *KernelLowering::soleReader(Value c, Operation *after, Block &block) {
  Operation *reader = nullptr;
  for (Operation *user : c.getUsers()) {
    Operation *top = block.findAncestorOpInBlock(*user);
    if (!top || top == after || !after->isBeforeInBlock(top))
      continue;
    if (reader && reader != top)
      return nullptr;
    reader = top;
  }
  if (auto copy = dyn_cast_or_null<tl::CopyOp>(reader))
    return copy.getSrc() == c && tensors_.count(copy.getDst()) ? reader : nullptr;
  return isa_and_nonnull<tl::ParallelOp>(reader) ? reader : nullptr;
}

// Emits `reader` in 32-column pieces, each loaded from TMEM just before its
// part of the op, so at most one piece of the accumulator is live in
// registers beyond what the op itself keeps.
LogicalResult KernelLowering::emitStreamedTmemRead(Operation *reader, const FragBuf &f,
                                                   Value column, Value zeroIf) {
  for (auto [at, w] : columnPieces(f.layout.slots())) {
    tmemLoadSlots(f, column, zeroIf, at, w);
    slotLo_ = at;
    slotHi_ = at + w;
    LogicalResult r = emitOp(reader);
    slotLo_ = 0;
    slotHi_ = -1;
    if (failed(r))
      return failure();
  }
  return success();
}

// Wait until the MMA warp has filled accumulator slot `slot` for its `use`-th
// time; returns the slot's TMEM column.
Value KernelLowering::waitAccumulator(Value slot, Value use) {
  waitBarrier(addI(cIndex(mmaBarOffset_), mulI(slot, cIndex(8))),
              arith::AndIOp::create(b_, loc(), use, cIndex(1)));
  asmVoid({}, "tcgen05.fence::after_thread_sync;", "~{memory}");
  const TmemBuf &tb = tmem_[wsGemm_.getC()];
  return addI(cIndex(tb.column), mulI(slot, cIndex(tb.columns)));
}

// The consumers are done with accumulator slot `slot`: one arrival per warp
// on the MMA warp's accEmpty barrier (the leader's, for a CTA pair).
void KernelLowering::releaseAccumulator(Value slot) {
  asmVoid({}, "tcgen05.fence::before_thread_sync;", "~{memory}");
  int64_t R = tmem_[wsGemm_.getC()].ring;
  Value bar = addI(cIndex(mmaBarOffset_ + 8 * R), mulI(slot, cIndex(8)));
  if (!pairM_) {
    warpArrive(bar, false);
    return;
  }
  asmVoid({}, "bar.warp.sync 0xffffffff;", "~{memory}");
  Value isLane0 = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, laneId(), cIndex(0));
  auto ifOp = scf::IfOp::create(b_, loc(), isLane0, false);
  OpBuilder::InsertionGuard g(b_);
  b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  asmVoid({peerAddr(bar, 0)}, "mbarrier.arrive.shared::cluster.b64 _, [$0];", "r,~{memory}");
}

// The pending read of the pipelined gemm's accumulator slot: wait for the
// MMA warp's commit, stream the reader, hand the slot back.
LogicalResult KernelLowering::emitPendingTmemRead(Operation *reader) {
  pendingReader_ = nullptr;
  Value c = wsGemm_.getC();
  const FragBuf &f = frags_[c];
  Value slot = pendingSlot_;
  Value column = waitAccumulator(slot, pendingUse_);
  if (failed(emitStreamedTmemRead(reader, f, column, pendingZeroIf_)))
    return failure();
  releaseAccumulator(slot);
  return success();
}

// The consumers' side of a warp-specialised tcgen05 pipeline: per k-block
// (when the loop body has work for them) wait for the stage, take the
// iteration's product out of TMEM when it is consumed in the loop, run the
// body, release the stage; after an accumulating loop, take the tile's
// accumulator out of TMEM and hand the TMEM columns back to the MMA warp.
// When one op reads the accumulator (the usual epilogue copy, or the FP8
// promotion loop), it is emitted in 32-column pieces as they arrive from TMEM.
LogicalResult KernelLowering::emitTcgen05ConsumerLoop(tl::PipelinedOp op) {
  Value lb = map_.lookupOrDefault(op.getLowerBound());
  Value ub = map_.lookupOrDefault(op.getUpperBound());
  Value st = map_.lookupOrDefault(op.getStep());
  Value c = wsGemm_.getC();
  const FragBuf &f = frags_[c];
  const TmemBuf &tb = tmem_[c];
  int64_t R = tb.ring;
  Value trip = arith::MaxSIOp::create(
      b_, loc(),
      arith::CeilDivSIOp::create(b_, loc(), arith::SubIOp::create(b_, loc(), ub, lb), st),
      cIndex(0));
  lastTripCount_ = trip;
  DenseSet<Operation *> producerOps;
  for (tl::CopyOp cp : pipe_->tmaCopies)
    producerOps.insert(cp);
  for (tl::CopyOp cp : pipe_->producerCopies)
    producerOps.insert(cp);
  // Read the slot of ring use `count` now (whole fragment), or leave it to `reader`.
  auto acquire = [&](Value count, Value zeroIf, Operation *reader) {
    Value slot = arith::RemUIOp::create(b_, loc(), count, cIndex(R));
    Value use = arith::DivUIOp::create(b_, loc(), count, cIndex(R));
    pendingSlot_ = slot;
    pendingUse_ = use;
    pendingZeroIf_ = zeroIf;
    if (reader) {
      pendingReader_ = reader;
      return;
    }
    tmemLoadFragment(f, waitAccumulator(slot, use), zeroIf);
    releaseAccumulator(slot);
  };
  if (consumersInLoop_) {
    auto loop = scf::ForOp::create(b_, loc(), lb, ub, st);
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(loop.getBody()->getTerminator());
    map_.map(op.getInductionVar(), loop.getInductionVar());
    PipeIter pi = pipeIter(loop.getInductionVar(), lb, st);
    Value git = pi.git;
    stage_ = pi.stage;
    waitBarrier(fullBarrier(pi.stage), pi.phase);
    if (ringOverIters_)
      acquire(git, Value(), soleReader(c, wsGemm_, op.getBodyBlock()));
    for (Operation &inner : op.getBodyBlock()) {
      if (isa<tl::YieldOp>(&inner) || producerOps.contains(&inner) || &inner == wsGemm_)
        continue;
      if (failed(emitOp(&inner)))
        return failure();
    }
    warpArrive(emptyBarrier(stage_), true);
    stage_ = Value();
  }
  if (!ringOverIters_) {
    Value empty = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, trip, cIndex(0));
    acquire(tileCount_, empty, soleReader(c, op, launch_.getBodyBlock()));
  }
  return success();
}

} // namespace nvgpu
} // namespace tlc
