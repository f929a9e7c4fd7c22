// tl -> LLVM dialect + inline PTX for sm_90a (Hopper).
//
// One KernelLowering per tl kernel builds a fresh `llvm.func` (docs/abi.md
// parameter list) and emits the launch body into it, thread by thread:
//
//  * Layout inference gives every fragment a distribution over the block's
//    threads: `Wgmma` for T.gemm accumulators (and fragments used element by
//    element alongside them), `Distributed` (runs of `vec` contiguous
//    elements dealt round-robin to the threads) for the rest, `Replicated`
//    (every thread holds all of it) for fragments indexed by a subset of a
//    loop's variables, e.g. a row statistic. A fragment is a per-thread array
//    (`llvm.alloca`) indexed by compile-time slot numbers, which SROA turns
//    into registers.
//  * A T.Pipelined loop whose body copies global tiles into the shared
//    operands of a T.gemm becomes a warp-specialised pipeline: one producer
//    warp issues TMA loads (`cp.async.bulk.tensor`) into `num_stages` shared
//    buffers guarded by full/empty mbarriers, the declared threads consume
//    them with `wgmma.mma_async`. Shared operands use the 128-byte swizzle
//    that both TMA and the wgmma descriptors understand.
//  * Everything else is plain SIMT code: element-parallel loops over the
//    owner thread's slots, cooperative copies with 16-byte vectors where the
//    addresses allow, block reductions with warp shuffles and shared memory.
//
// Ops or shapes this lowering does not handle are reported at their
#include "KernelLowering.h"

#include "llvm/ADT/ScopeExit.h"

using namespace mlir;

namespace tlc {
namespace nvgpu {

Value KernelLowering::asmOp(Type result, ValueRange operands, StringRef text,
                            StringRef constraints) {
  auto op = LLVM::InlineAsmOp::create(
      b_, loc(), result ? TypeRange{result} : TypeRange{}, operands, text, constraints,
      /*has_side_effects=*/true, /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr::get(ctx_, LLVM::AsmDialect::AD_ATT), ArrayAttr());
  return result ? op.getResult(0) : Value();
}

Type KernelLowering::registerType(Type elem) {
  if (isNarrowFloat(elem) || elem.isInteger(1))
    return b_.getI8Type();
  return elem;
}

//===----------------------------------------------------------------------===//
// Layout inference
//===----------------------------------------------------------------------===//

// Whether `v` is computed (through pure ops) from `arg`.
bool dependsOn(Value v, Value arg) {
  if (v == arg)
    return true;
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  return llvm::any_of(def->getOperands(), [&](Value o) { return dependsOn(o, arg); });
}

bool indicesAreIvs(ValueRange indices, tl::ParallelOp par) {
  auto ivs = par.getInductionVars();
  if (indices.size() != ivs.size())
    return false;
  for (auto [i, iv] : llvm::zip(indices, ivs))
    if (i != iv)
      return false;
  return true;
}

LogicalResult KernelLowering::inferLayouts() {
  SmallVector<Value> fragments;
  launch_.walk([&](Operation *op) {
    if (isa<tl::AllocFragmentOp, tl::AllocLocalOp, tl::AllocTmemOp>(op))
      fragments.push_back(op->getResult(0));
  });
  llvm::EquivalenceClasses<void *> groups;
  DenseSet<Value> replicated, wgmma;
  for (Value f : fragments) {
    groups.insert(f.getAsOpaquePointer());
    if (scopeOf(f) == tl::MemScope::Local)
      replicated.insert(f);
  }

  launch_.walk([&](tl::ParallelOp par) {
    Value first;
    auto extents = par.getExtents();
    par.getBody().walk([&](Operation *op) {
      Value buf;
      ValueRange idx;
      if (auto ld = dyn_cast<memref::LoadOp>(op)) {
        buf = ld.getMemRef();
        idx = ld.getIndices();
      } else if (auto st = dyn_cast<memref::StoreOp>(op)) {
        buf = st.getMemRef();
        idx = st.getIndices();
      } else {
        return;
      }
      if (scopeOf(buf) != tl::MemScope::Fragment && scopeOf(buf) != tl::MemScope::Tmem)
        return;
      auto type = cast<MemRefType>(buf.getType());
      if (op->getParentOfType<tl::ParallelOp>() == par && indicesAreIvs(idx, par) &&
          type.getShape() == extents) {
        if (first)
          groups.unionSets(first.getAsOpaquePointer(), buf.getAsOpaquePointer());
        else
          first = buf;
      } else {
        replicated.insert(buf);
      }
    });
  });
  launch_.walk([&](tl::GemmOp g) { wgmma.insert(g.getC()); });
  launch_.walk([&](tl::AllocTmemOp a) { wgmma.insert(a.getResult()); });
  launch_.walk([&](tl::ReduceOp r) {
    if (scopeOf(r.getDst()) == tl::MemScope::Fragment)
      replicated.insert(r.getDst());
  });
  launch_.walk([&](tl::TopKOp t) {
    replicated.insert(t.getValues());
    replicated.insert(t.getIndices());
  });

  for (auto it = groups.begin(); it != groups.end(); ++it) {
    if (!(*it)->isLeader())
      continue;
    SmallVector<Value> members;
    for (auto m = groups.member_begin(**it); m != groups.member_end(); ++m)
      members.push_back(Value::getFromOpaquePointer(*m));
    bool anyRep = llvm::any_of(members, [&](Value v) { return replicated.contains(v); });
    bool anyMma = llvm::any_of(members, [&](Value v) { return wgmma.contains(v); });
    auto type = cast<MemRefType>(members.front().getType());
    Layout l;
    l.shape.assign(type.getShape().begin(), type.getShape().end());
    l.threads = threads_;
    if (anyMma) {
      if (anyRep) {
        for (Value v : members)
          if (replicated.contains(v))
            return v.getDefiningOp()->emitError(
                "this fragment is a T.gemm accumulator (or used element-wise with one) and is "
                "also indexed like a per-row value; give the row value its own fragment");
      }
      int64_t wgs = threads_ / kWarpgroup;
      if (isTcgen05()) {
        // tcgen05 M=128: a row per thread of each warpgroup, the columns
        // split between the warpgroups.
        if (type.getRank() != 2 || threads_ % kWarpgroup != 0 || type.getShape()[0] != 128 ||
            type.getShape()[1] % (16 * wgs) || type.getShape()[1] > 256 ||
            !type.getElementType().isF32())
          return members.front().getDefiningOp()->emitError(llvm::formatv(
              "T.gemm accumulator of shape {0}x{1} with {2} threads is not supported on sm_100a: "
              "tcgen05 with cta_group::1 needs f32, 128 rows, 16 <= columns <= 256 in steps of "
              "16 x (threads / 128), and threads a multiple of 128",
              type.getShape()[0], type.getRank() > 1 ? type.getShape()[1] : 0, threads_));
        l.kind = LayoutKind::Tmem;
        for (Value v : members)
          layouts_[v] = l;
        continue;
      }
      if (type.getRank() != 2 || threads_ % kWarpgroup != 0 || type.getShape()[0] % (64 * wgs) ||
          type.getShape()[1] % 8 || type.getShape()[1] > 256 || !type.getElementType().isF32())
        return members.front().getDefiningOp()->emitError(llvm::formatv(
            "T.gemm accumulator of shape {0}x{1} with {2} threads is not supported on sm_90a: it "
            "needs f32, rows a multiple of 64 x (threads / 128), 8 <= columns <= 256 in steps of "
            "8, and threads a multiple of 128",
            type.getShape()[0], type.getRank() > 1 ? type.getShape()[1] : 0, threads_));
      l.kind = LayoutKind::Wgmma;
      l.mTiles = type.getShape()[0] / (64 * wgs);
    } else if (anyRep) {
      l.kind = LayoutKind::Replicated;
    } else {
      // 16-byte runs of the narrowest element the fragments are copied from/to.
      int64_t minBytes = 16;
      for (Value v : members) {
        minBytes = std::min(minBytes, storageBytes(cast<MemRefType>(v.getType()).getElementType()));
        for (Operation *user : v.getUsers())
          if (auto copy = dyn_cast<tl::CopyOp>(user)) {
            Value other = copy.getSrc() == v ? copy.getDst() : copy.getSrc();
            minBytes = std::min(minBytes,
                                storageBytes(cast<MemRefType>(other.getType()).getElementType()));
          }
      }
      int64_t vec = 16 / std::max<int64_t>(minBytes, 1);
      int64_t inner = l.shape.empty() ? 1 : l.shape.back();
      while (vec > 1 && (inner % vec != 0 || l.numel() < vec))
        vec /= 2;
      l.kind = LayoutKind::Distributed;
      l.vec = vec;
    }
    for (Value v : members)
      layouts_[v] = l;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Pipelines and shared memory
//===----------------------------------------------------------------------===//

LogicalResult KernelLowering::planPipeline() {
  for (Operation &op : launch_.getBodyBlock()) {
    auto pipe = dyn_cast<tl::PipelinedOp>(&op);
    if (!pipe)
      continue;
    PipelinePlan plan;
    plan.op = pipe;
    plan.stages = std::max<int64_t>(1, pipe.getNumStages());
    DenseSet<Value> gemmOperands;
    bool hasGemm = false;
    for (Operation &inner : pipe.getBodyBlock())
      if (auto g = dyn_cast<tl::GemmOp>(&inner)) {
        hasGemm = true;
        gemmOperands.insert(g.getA());
        gemmOperands.insert(g.getB());
      }
    if (!hasGemm)
      continue;
    for (Operation &inner : pipe.getBodyBlock()) {
      auto copy = dyn_cast<tl::CopyOp>(&inner);
      if (!copy || !scopeOf(copy.getSrc()) || *scopeOf(copy.getSrc()) != tl::MemScope::Global ||
          scopeOf(copy.getDst()) != tl::MemScope::Shared)
        continue;
      auto srcT = cast<MemRefType>(copy.getSrc().getType());
      auto dstT = cast<MemRefType>(copy.getDst().getType());
      bool tmaOk = gemmOperands.contains(copy.getDst()) && srcT.getRank() == 2 &&
                   dstT.getRank() == 2 && copy.getDstOffsets().empty() &&
                   srcT.getElementType() == dstT.getElementType() &&
                   copy.getSrcSizes() == dstT.getShape() && dstT.getShape()[0] <= 256 &&
                   (!isFP4(dstT.getElementType()) || isTcgen05()) &&
                   (dstT.getShape()[1] * storageBytes(dstT.getElementType())) % 128 == 0;
      if (tmaOk)
        plan.tmaCopies.push_back(copy);
      else if (!gemmOperands.contains(copy.getDst()))
        plan.producerCopies.push_back(copy);
    }
    if (plan.tmaCopies.empty())
      continue;
    // In a cluster along x, a tile whose source does not depend on the x
    // block id is the same for the whole cluster: multicast it.
    for (tl::CopyOp c : plan.tmaCopies) {
      bool same = clusterX_ > 1 && !pairM_ &&
                  cast<MemRefType>(c.getDst().getType()).getShape()[0] % (8 * clusterX_) == 0;
      for (Value off : c.getSrcOffsets())
        if (dependsOn(off, launch_.getBlockIds()[0]))
          same = false;
      plan.multicast.push_back(same);
    }
    plan.asyncPlainCopies = !plan.producerCopies.empty();
    for (tl::CopyOp c : plan.producerCopies) {
      Type se = cast<MemRefType>(c.getSrc().getType()).getElementType();
      Type de = cast<MemRefType>(c.getDst().getType()).getElementType();
      int64_t bytes = storageBytes(se);
      if (se != de || isNarrowFloat(se) || (bytes != 4 && bytes != 8 && bytes != 16))
        plan.asyncPlainCopies = false;
    }
    // The producer owns the buffers it fills: if anything else writes one
    // (another copy, a store, a fill), keep the plain schedule.
    DenseSet<Operation *> producerOps;
    for (tl::CopyOp c : plan.tmaCopies)
      producerOps.insert(c);
    for (tl::CopyOp c : plan.producerCopies)
      producerOps.insert(c);
    bool sharedWriters = false;
    for (Operation *c : producerOps) {
      Value buf = cast<tl::CopyOp>(c).getDst();
      for (Operation *user : buf.getUsers()) {
        if (producerOps.contains(user))
          continue;
        if (isa<memref::StoreOp, tl::FillOp>(user) ||
            (isa<tl::CopyOp>(user) && cast<tl::CopyOp>(user).getDst() == buf))
          sharedWriters = true;
      }
    }
    if (sharedWriters)
      continue;
    pipe_ = plan;
    warpSpecialised_ = threads_ % kWarpgroup == 0 && threads_ / kWarpgroup <= 2;
    if (!warpSpecialised_) {
      pipe_.reset();
      continue;
    }
    break; // one pipeline per kernel
  }
  return success();
}

LogicalResult KernelLowering::planSharedMemory() {
  DenseSet<Value> operandBufs, stagedBufs, scaleBufs;
  launch_.walk([&](tl::GemmOp g) {
    operandBufs.insert(g.getA());
    operandBufs.insert(g.getB());
    if (g.getScaleA() && isTcgen05()) {
      scaleBufs.insert(g.getScaleA());
      scaleBufs.insert(g.getScaleB());
    }
  });
  if (pipe_) {
    for (tl::CopyOp c : pipe_->tmaCopies)
      stagedBufs.insert(c.getDst());
    for (tl::CopyOp c : pipe_->producerCopies)
      stagedBufs.insert(c.getDst());
  }
  int64_t top = 0;
  WalkResult walk = launch_.walk([&](tl::AllocSharedOp alloc) -> WalkResult {
    SharedBuf s;
    s.type = alloc.getType();
    Type elem = s.type.getElementType();
    s.bytes = tl::getBufferBytes(s.type);
    s.swizzle128 = operandBufs.contains(alloc.getResult());
    if (s.swizzle128) {
      // FP4 operands of tcgen05 sit unpacked (16 elements per 16 bytes, as
      // TMA's 16U4_ALIGN16B writes them), so a row takes a byte per element.
      if (s.type.getRank() != 2 || (s.type.getShape()[1] * storageBytes(elem)) % 128 != 0 ||
          (isFP4(elem) && !isTcgen05()))
        return alloc.emitError(llvm::formatv(
            "T.gemm operand in shared memory must be 2-D with rows of a multiple of 128 bytes on "
            "{0} (here {1} bytes); use BK = 128 / sizeof(dtype) or a multiple",
            options_.chip, s.type.getRank() == 2 ? s.type.getShape()[1] * storageBytes(elem) : 0));
      if (s.type.getShape()[0] % 8 != 0)
        return alloc.emitError("T.gemm operand in shared memory needs a multiple of 8 rows");
    }
    if (s.swizzle128 && isFP4(elem))
      s.bytes = s.type.getShape()[0] * s.type.getShape()[1];
    if (scaleBufs.contains(alloc.getResult())) {
      if (s.type.getRank() != 2 || !isa<Float8E8M0FNUType>(elem))
        return alloc.emitError("block scales of a tcgen05 T.gemm must be a 2-D ue8m0 shared "
                               "buffer (rows, K / 32); f32 scales are an sm_90a promotion idiom");
      s.scaleTile = true;
      s.bytes = llvm::divideCeil(s.type.getShape()[1], 4) *
                llvm::divideCeil(s.type.getShape()[0], 128) * 512;
    }
    s.stages = stagedBufs.contains(alloc.getResult()) ? pipe_->stages : 1;
    s.bytes = llvm::alignTo(s.bytes, s.swizzle128 ? 1024 : 16);
    top = llvm::alignTo(top, s.swizzle128 ? 1024 : 128);
    s.offset = top;
    top += s.bytes * s.stages;
    shared_[alloc.getResult()] = s;
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  // Scratch for block reductions: one f32/i64 slot per (warp, output).
  int64_t scratch = 0;
  launch_.walk([&](tl::ReduceOp r) {
    int64_t outs = cast<MemRefType>(r.getDst().getType()).getNumElements();
    scratch = std::max(scratch, outs * (threads_ / kWarpSize) * 8);
  });
  if (scratch) {
    top = llvm::alignTo(top, 16);
    reduceScratch_ = top;
    reduceScratchBytes_ = scratch;
    top += scratch;
  }
  if (pipe_) {
    top = llvm::alignTo(top, 8);
    pipe_->barrierOffset = top;
    top += 16 * pipe_->stages;
  }
  if (tmemColumns_) {
    // accFull[ring] + accEmpty[ring] (warp-specialised) or one MMA barrier,
    // then the word tcgen05.alloc writes the TMEM base address to.
    top = llvm::alignTo(top, 8);
    mmaBarOffset_ = top;
    top += wsGemm_ ? 16 * tmem_[wsGemm_.getC()].ring : 8;
    tmemSlot_ = top;
    top += 8;
  }
  sharedTop_ = top;
  if (top > options_.smemLimit)
    return launch_.emitError(llvm::formatv(
        "kernel needs {0} bytes of shared memory on {1} (stages and swizzle padding included); "
        "the limit is {2}",
        top, options_.chip, options_.smemLimit));
  return success();
}

//===----------------------------------------------------------------------===//
// Memory helpers
//===----------------------------------------------------------------------===//

Value KernelLowering::sharedBase() {
  auto ptr3 = LLVM::LLVMPointerType::get(ctx_, 3);
  return LLVM::AddressOfOp::create(b_, loc(), ptr3, "__tl_smem");
}

Value KernelLowering::sharedPtr(Value byteOffset) {
  return LLVM::GEPOp::create(b_, loc(), LLVM::LLVMPointerType::get(ctx_, 3), b_.getI8Type(),
                             sharedBase(), ValueRange{toI64(byteOffset)});
}

Value linearize(OpBuilder &b, Location loc, ArrayRef<Value> coords, ArrayRef<Value> dims) {
  Value lin;
  for (size_t i = 0; i < coords.size(); ++i) {
    if (!lin) {
      lin = coords[i];
      continue;
    }
    lin = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, lin, dims[i]), coords[i]);
  }
  if (!lin)
    lin = arith::ConstantIndexOp::create(b, loc, 0);
  return lin;
}

// Byte offset of element `coords` of shared buffer `buffer` from the dynamic
// shared base, for the current pipeline stage; swizzled operand buffers
// follow TMA's 128-byte swizzle in column chunks of 128 bytes.
// Byte offset of a shared buffer's current stage (stage 0 outside a pipeline).
Value KernelLowering::sharedBufferBase(Value buffer) {
  const SharedBuf &s = shared_.lookup(buffer);
  Value base = cIndex(s.offset);
  if (s.stages > 1 && stage_)
    base = addI(base, mulI(stage_, cIndex(s.bytes)));
  return base;
}

// Row-major element index of `coords` in a shared buffer.
Value KernelLowering::sharedLinear(Value buffer, ArrayRef<Value> coords) {
  SmallVector<Value> dims;
  for (int64_t d : cast<MemRefType>(buffer.getType()).getShape())
    dims.push_back(cIndex(d));
  return linearize(b_, loc(), coords, dims);
}

Value KernelLowering::sharedByteOffset(Value buffer, ArrayRef<Value> coords) {
  const SharedBuf &s = shared_.lookup(buffer);
  Type elem = s.type.getElementType();
  Value base = sharedBufferBase(buffer);
  if (s.scaleTile) {
    int64_t blocks = llvm::divideCeil(s.type.getShape()[0], 128);
    Value row = coords[0], chunk = coords[1];
    Value off = mulI(arith::DivUIOp::create(b_, loc(), chunk, cIndex(4)), cIndex(blocks * 512));
    off = addI(off, mulI(arith::DivUIOp::create(b_, loc(), row, cIndex(128)), cIndex(512)));
    off = addI(off, mulI(arith::RemUIOp::create(b_, loc(), row, cIndex(32)), cIndex(16)));
    off = addI(off,
               mulI(arith::DivUIOp::create(
                        b_, loc(), arith::RemUIOp::create(b_, loc(), row, cIndex(128)), cIndex(32)),
                    cIndex(4)));
    off = addI(off, arith::RemUIOp::create(b_, loc(), chunk, cIndex(4)));
    return addI(base, off);
  }
  if (!s.swizzle128) {
    Value lin = sharedLinear(buffer, coords);
    if (isFP4(elem))
      return addI(base, arith::DivUIOp::create(b_, loc(), lin, cIndex(2)));
    return addI(base, mulI(lin, cIndex(storageBytes(elem))));
  }
  int64_t rows = s.type.getShape()[0];
  int64_t esz = storageBytes(elem);
  Value row = coords[0];
  Value colByte = mulI(coords[1], cIndex(esz));
  Value chunk = arith::DivUIOp::create(b_, loc(), colByte, cIndex(128));
  Value inChunk = arith::RemUIOp::create(b_, loc(), colByte, cIndex(128));
  Value unit = arith::DivUIOp::create(b_, loc(), inChunk, cIndex(16));
  Value unitSw =
      arith::XOrIOp::create(b_, loc(), unit, arith::RemUIOp::create(b_, loc(), row, cIndex(8)));
  Value off = mulI(chunk, cIndex(rows * 128));
  off = addI(off, mulI(row, cIndex(128)));
  off = addI(off, mulI(unitSw, cIndex(16)));
  off = addI(off, arith::RemUIOp::create(b_, loc(), inChunk, cIndex(16)));
  return addI(base, off);
}

Value KernelLowering::globalLinear(const TensorArg &t, ArrayRef<Value> coords) {
  return linearize(b_, loc(), coords, t.dims);
}

// Loads element `linear` of an array of `elem` at ptrBase (byte-addressed for
// packed FP4). Narrow floats come back as i8 codes, bool as i1.
Value KernelLowering::loadElement(Value ptrBase, Type elem, Value linear, unsigned addrSpace) {
  auto ptrT = LLVM::LLVMPointerType::get(ctx_, addrSpace);
  if (isFP4(elem)) {
    Value byteIdx = arith::DivUIOp::create(b_, loc(), linear, cIndex(2));
    Value p =
        LLVM::GEPOp::create(b_, loc(), ptrT, b_.getI8Type(), ptrBase, ValueRange{toI64(byteIdx)});
    Value byte = LLVM::LoadOp::create(b_, loc(), b_.getI8Type(), p);
    Value odd = arith::IndexCastOp::create(b_, loc(), b_.getI8Type(),
                                           arith::RemUIOp::create(b_, loc(), linear, cIndex(2)));
    Value shift = arith::MulIOp::create(
        b_, loc(), odd, arith::ConstantOp::create(b_, loc(), b_.getI8IntegerAttr(4)));
    Value shifted = arith::ShRUIOp::create(b_, loc(), byte, shift);
    return arith::AndIOp::create(b_, loc(), shifted,
                                 arith::ConstantOp::create(b_, loc(), b_.getI8IntegerAttr(15)));
  }
  Type reg = registerType(elem);
  Type mem = elem.isInteger(1) ? b_.getI8Type() : reg;
  Value p = LLVM::GEPOp::create(b_, loc(), ptrT, mem, ptrBase, ValueRange{toI64(linear)});
  Value v = LLVM::LoadOp::create(b_, loc(), mem, p);
  if (elem.isInteger(1))
    return arith::TruncIOp::create(b_, loc(), b_.getI1Type(), v);
  return v;
}

void KernelLowering::storeElement(Value ptrBase, Type elem, Value linear, Value value,
                                  unsigned addrSpace) {
  auto ptrT = LLVM::LLVMPointerType::get(ctx_, addrSpace);
  if (isFP4(elem)) {
    // Two threads may own the two nibbles of one byte: clear and set the
    // nibble with 32-bit atomics on the containing word.
    Value byteIdx = arith::DivUIOp::create(b_, loc(), linear, cIndex(2));
    Value wordIdx = arith::DivUIOp::create(b_, loc(), byteIdx, cIndex(4));
    Value bitPos = addI(mulI(arith::RemUIOp::create(b_, loc(), byteIdx, cIndex(4)), cIndex(8)),
                        mulI(arith::RemUIOp::create(b_, loc(), linear, cIndex(2)), cIndex(4)));
    Value shift = toI32(bitPos);
    Value p =
        LLVM::GEPOp::create(b_, loc(), ptrT, b_.getI32Type(), ptrBase, ValueRange{toI64(wordIdx)});
    Value nib = arith::AndIOp::create(
        b_, loc(), arith::ExtUIOp::create(b_, loc(), b_.getI32Type(), value), cI32(15));
    Value mask = arith::XOrIOp::create(b_, loc(), arith::ShLIOp::create(b_, loc(), cI32(15), shift),
                                       cI32(-1));
    LLVM::AtomicRMWOp::create(b_, loc(), LLVM::AtomicBinOp::_and, p, mask,
                              LLVM::AtomicOrdering::monotonic);
    LLVM::AtomicRMWOp::create(b_, loc(), LLVM::AtomicBinOp::_or, p,
                              arith::ShLIOp::create(b_, loc(), nib, shift),
                              LLVM::AtomicOrdering::monotonic);
    return;
  }
  Type reg = registerType(elem);
  Type mem = elem.isInteger(1) ? b_.getI8Type() : reg;
  if (elem.isInteger(1))
    value = arith::ExtUIOp::create(b_, loc(), b_.getI8Type(), value);
  Value p = LLVM::GEPOp::create(b_, loc(), ptrT, mem, ptrBase, ValueRange{toI64(linear)});
  LLVM::StoreOp::create(b_, loc(), value, p);
}

Value KernelLowering::fragSlotPtr(const FragBuf &f, Value slot) {
  return LLVM::GEPOp::create(b_, loc(), LLVM::LLVMPointerType::get(ctx_), f.storeType, f.base,
                             ValueRange{toI64(slot)});
}

// Loads from a shared or global buffer (fragments go through slots).
Value KernelLowering::loadFromBuffer(Value buffer, ArrayRef<Value> coords) {
  Type elem = cast<MemRefType>(buffer.getType()).getElementType();
  if (tensors_.count(buffer)) {
    const TensorArg &t = tensors_[buffer];
    return loadElement(t.ptr, elem, globalLinear(t, coords), 1);
  }
  if (isFP4(elem)) // nibble addressing from the buffer's (stage) base
    return loadElement(sharedPtr(sharedBufferBase(buffer)), elem, sharedLinear(buffer, coords), 3);
  return loadElement(sharedPtr(sharedByteOffset(buffer, coords)), elem, cIndex(0), 3);
}

void KernelLowering::storeToBuffer(Value buffer, ArrayRef<Value> coords, Value value) {
  Type elem = cast<MemRefType>(buffer.getType()).getElementType();
  if (tensors_.count(buffer)) {
    const TensorArg &t = tensors_[buffer];
    storeElement(t.ptr, elem, globalLinear(t, coords), value, 1);
    return;
  }
  if (isFP4(elem)) {
    storeElement(sharedPtr(sharedBufferBase(buffer)), elem, sharedLinear(buffer, coords), value, 3);
    return;
  }
  storeElement(sharedPtr(sharedByteOffset(buffer, coords)), elem, cIndex(0), value, 3);
}

//===----------------------------------------------------------------------===//
// Conversions (tl.cast semantics, docs/dialect.md §8)
//===----------------------------------------------------------------------===//

Value KernelLowering::zeroOf(Type t) {
  if (auto ft = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(b_, loc(), b_.getFloatAttr(ft, 0.0));
  return arith::ConstantOp::create(b_, loc(), b_.getIntegerAttr(t, 0));
}

Value KernelLowering::convert(Value v, Type from, Type to) {
  if (from == to)
    return v;
  Type f32 = b_.getF32Type();
  auto bitsToF32 = [&](Value bits) { return arith::BitcastOp::create(b_, loc(), f32, bits); };
  // Narrow sources -> f32 first.
  if (isNarrowFloat(from)) {
    Value asF32;
    Value code32 = arith::ExtUIOp::create(b_, loc(), b_.getI32Type(), v);
    if (isa<Float8E4M3FNType, Float8E5M2Type>(from)) {
      Value code16 = arith::ExtUIOp::create(b_, loc(), b_.getI16Type(), v);
      std::string text = llvm::formatv(
          "{{ .reg .b32 t; .reg .b16 lo, hi; cvt.rn.f16x2.{0}x2 t, $1; mov.b32 {{lo, hi}, t; "
          "cvt.f32.f16 $0, lo; }",
          isa<Float8E4M3FNType>(from) ? "e4m3" : "e5m2");
      asF32 = asmOp(f32, {code16}, text, "=f,h");
    } else if (isa<Float8E8M0FNUType>(from)) {
      Value isNan = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, code32, cI32(255));
      Value isZero = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, code32, cI32(0));
      Value bits = arith::ShLIOp::create(b_, loc(), code32, cI32(23));
      bits = arith::SelectOp::create(b_, loc(), isZero, cI32(0x00400000), bits);
      bits = arith::SelectOp::create(b_, loc(), isNan, cI32(0x7FC00000), bits);
      asF32 = bitsToF32(bits);
    } else { // e2m1
      Value mag = arith::AndIOp::create(b_, loc(), code32, cI32(7));
      Value e = arith::ShRUIOp::create(b_, loc(), mag, cI32(1));
      Value m = arith::AndIOp::create(b_, loc(), mag, cI32(1));
      Value normal = arith::OrIOp::create(
          b_, loc(), arith::ShLIOp::create(b_, loc(), addI(e, cI32(126)), cI32(23)),
          arith::ShLIOp::create(b_, loc(), m, cI32(22)));
      Value sub = arith::SelectOp::create(
          b_, loc(), arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ne, m, cI32(0)),
          cI32(0x3F000000), cI32(0));
      Value isSub = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, e, cI32(0));
      Value bits = arith::SelectOp::create(b_, loc(), isSub, sub, normal);
      Value sign = arith::ShLIOp::create(
          b_, loc(), arith::AndIOp::create(b_, loc(), code32, cI32(8)), cI32(28));
      asF32 = bitsToF32(arith::OrIOp::create(b_, loc(), bits, sign));
    }
    return convert(asF32, f32, to);
  }
  if (isNarrowFloat(to)) {
    Value x = convert(v, from, f32);
    Value bits = arith::BitcastOp::create(b_, loc(), b_.getI32Type(), x);
    if (isa<Float8E4M3FNType, Float8E5M2Type>(to)) {
      std::string text = llvm::formatv(
          "{{ .reg .b16 t; cvt.rn.satfinite.{0}x2.f32 t, $1, $1; cvt.u32.u16 $0, t; }",
          isa<Float8E4M3FNType>(to) ? "e4m3" : "e5m2");
      Value r = asmOp(b_.getI32Type(), {x}, text, "=r,f");
      return arith::TruncIOp::create(b_, loc(), b_.getI8Type(), r);
    }
    if (isa<Float8E8M0FNUType>(to)) {
      // Smallest power of two >= x (LowPrecision f32ToUE8M0Ceil).
      Value expo = arith::AndIOp::create(
          b_, loc(), arith::ShRUIOp::create(b_, loc(), bits, cI32(23)), cI32(255));
      Value mant = arith::AndIOp::create(b_, loc(), bits, cI32(0x7FFFFF));
      Value mantNZ = arith::ExtUIOp::create(
          b_, loc(), b_.getI32Type(),
          arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ne, mant, cI32(0)));
      Value normal = arith::MinUIOp::create(b_, loc(), addI(expo, mantNZ), cI32(254));
      Value subnormal = arith::ExtUIOp::create(
          b_, loc(), b_.getI32Type(),
          arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ugt, bits, cI32(0x00400000)));
      Value code = arith::SelectOp::create(
          b_, loc(), arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, expo, cI32(0)),
          subnormal, normal);
      Value isNan = arith::CmpFOp::create(b_, loc(), arith::CmpFPredicate::UNO, x, x);
      Value nonPos = arith::CmpFOp::create(b_, loc(), arith::CmpFPredicate::OLE, x, zeroOf(f32));
      code = arith::SelectOp::create(b_, loc(), nonPos, cI32(0), code);
      code = arith::SelectOp::create(b_, loc(), isNan, cI32(255), code);
      return arith::TruncIOp::create(b_, loc(), b_.getI8Type(), code);
    }
    // e2m1: round to nearest even on {0, .5, 1, 1.5, 2, 3, 4, 6}, saturate; NaN -> 7.
    Value a = math::AbsFOp::create(b_, loc(), x);
    // Thresholds between neighbouring codes, from the top; ties go to the even
    // code (<= where the lower neighbour is even, < where it is odd).
    struct Step {
      float t;
      bool le;
      int64_t code;
    };
    const Step steps[] = {{5.0f, true, 6},  {3.5f, false, 5},  {2.5f, true, 4}, {1.75f, false, 3},
                          {1.25f, true, 2}, {0.75f, false, 1}, {0.25f, true, 0}};
    Value code = cI32(7);
    for (const Step &st : steps)
      code = arith::SelectOp::create(
          b_, loc(),
          arith::CmpFOp::create(b_, loc(),
                                st.le ? arith::CmpFPredicate::OLE : arith::CmpFPredicate::OLT, a,
                                arith::ConstantOp::create(b_, loc(), b_.getF32FloatAttr(st.t))),
          cI32(st.code), code);
    Value sign = arith::AndIOp::create(b_, loc(), arith::ShRUIOp::create(b_, loc(), bits, cI32(28)),
                                       cI32(8));
    code = arith::OrIOp::create(b_, loc(), code, sign);
    Value isNan = arith::CmpFOp::create(b_, loc(), arith::CmpFPredicate::UNO, x, x);
    code = arith::SelectOp::create(b_, loc(), isNan, cI32(7), code);
    return arith::TruncIOp::create(b_, loc(), b_.getI8Type(), code);
  }
  auto fromF = dyn_cast<FloatType>(from);
  auto toF = dyn_cast<FloatType>(to);
  if (fromF && toF) {
    if (fromF.getWidth() < toF.getWidth())
      return arith::ExtFOp::create(b_, loc(), to, v);
    if (fromF.getWidth() > toF.getWidth())
      return arith::TruncFOp::create(b_, loc(), to, v);
    // bf16 <-> f16 through f32.
    return convert(convert(v, from, f32), f32, to);
  }
  if (fromF && to.isInteger()) {
    if (to.isInteger(1))
      return arith::CmpFOp::create(b_, loc(), arith::CmpFPredicate::UNE, v, zeroOf(from));
    return arith::FPToSIOp::create(b_, loc(), to, v);
  }
  if (from.isInteger() && toF) {
    if (from.isInteger(1))
      return arith::UIToFPOp::create(b_, loc(), to, v);
    return arith::SIToFPOp::create(b_, loc(), to, v);
  }
  if (from.isInteger() && to.isInteger()) {
    unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
    if (fw < tw)
      return from.isInteger(1) ? Value(arith::ExtUIOp::create(b_, loc(), to, v))
                               : Value(arith::ExtSIOp::create(b_, loc(), to, v));
    if (tw == 1)
      return arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ne, v, zeroOf(from));
    return arith::TruncIOp::create(b_, loc(), to, v);
  }
  return v;
}

//===----------------------------------------------------------------------===//
// Layout coordinates
//===----------------------------------------------------------------------===//

// Whether coordinate `dim` of slot `slot` is the same in every thread (what
// layoutCoords folds to a constant).
bool layoutCoordIsStatic(const Layout &l, int64_t slot, int64_t dim) {
  if (l.kind == LayoutKind::Replicated)
    return true;
  if (l.kind == LayoutKind::Wgmma || l.kind == LayoutKind::Tmem)
    return false;
  int64_t T = l.threads, V = l.vec;
  int64_t lo = (slot / V) * T * V + slot % V, hi = lo + (T - 1) * V;
  if (lo >= l.numel())
    return true; // never emitted
  int64_t stride = 1;
  for (int64_t d = l.shape.size() - 1; d > dim; --d)
    stride *= l.shape[d];
  return lo / stride == hi / stride;
}

SmallVector<Value> KernelLowering::layoutCoords(const Layout &l, int64_t slot, Value &valid,
                                                bool &skip) {
  valid = Value();
  skip = false;
  SmallVector<Value> coords;
  int64_t rank = l.shape.size();
  if (l.kind == LayoutKind::Replicated) {
    int64_t rem = slot;
    coords.resize(rank);
    for (int64_t d = rank - 1; d >= 0; --d) {
      coords[d] = cIndex(rem % l.shape[d]);
      rem /= l.shape[d];
    }
    return coords;
  }
  if (l.kind == LayoutKind::Wgmma) {
    int64_t perTile = l.shape[1] / 2;
    int64_t m = slot / perTile, r = slot % perTile;
    Value wg = arith::DivUIOp::create(b_, loc(), tid_, cIndex(kWarpgroup));
    Value t = threadInWarpgroup();
    Value warp = arith::DivUIOp::create(b_, loc(), t, cIndex(kWarpSize));
    Value lane = arith::RemUIOp::create(b_, loc(), t, cIndex(kWarpSize));
    Value row = mulI(wg, cIndex(l.mTiles * 64));
    row = addI(row, cIndex(m * 64 + ((r / 2) % 2) * 8));
    row = addI(row, mulI(warp, cIndex(16)));
    row = addI(row, arith::DivUIOp::create(b_, loc(), lane, cIndex(4)));
    Value col = addI(mulI(arith::RemUIOp::create(b_, loc(), lane, cIndex(4)), cIndex(2)),
                     cIndex((r / 4) * 8 + (r % 2)));
    return {row, col};
  }
  if (l.kind == LayoutKind::Tmem) {
    Value row = arith::RemUIOp::create(b_, loc(), tid_, cIndex(kWarpgroup));
    Value wg = arith::DivUIOp::create(b_, loc(), tid_, cIndex(kWarpgroup));
    return {row, addI(mulI(wg, cIndex(l.slots())), cIndex(slot))};
  }
  // Distributed: flat = g*T*V + tid*V + e.
  int64_t T = l.threads, V = l.vec, n = l.numel();
  int64_t g = slot / V, e = slot % V;
  int64_t lo = g * T * V + e, hi = lo + (T - 1) * V;
  if (lo >= n) {
    skip = true;
    return coords;
  }
  Value flat = addI(mulI(tid_, cIndex(V)), cIndex(lo));
  if (hi >= n)
    valid = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ult, flat, cIndex(n));
  coords.resize(rank);
  int64_t stride = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    int64_t ext = l.shape[d];
    if (lo / stride == hi / stride) {
      coords[d] = cIndex((lo / stride) % ext);
    } else {
      Value q = arith::DivUIOp::create(b_, loc(), flat, cIndex(stride));
      coords[d] = d == 0 ? q : Value(arith::RemUIOp::create(b_, loc(), q, cIndex(ext)));
    }
    stride *= ext;
  }
  return coords;
}

//===----------------------------------------------------------------------===//
// Barriers and reductions
//===----------------------------------------------------------------------===//

void KernelLowering::blockBarrier() {
  if (warpSpecialised_)
    asmVoid({}, llvm::formatv("bar.sync 1, {0};", threads_).str(), "~{memory}");
  else
    asmVoid({}, "bar.sync 0;", "~{memory}");
}

Value KernelLowering::identity(tl::ReduceKind kind, Type t) {
  double v = 0;
  switch (kind) {
  case tl::ReduceKind::Sum:
  case tl::ReduceKind::AbsMax:
    v = 0;
    break;
  case tl::ReduceKind::Max:
    v = -std::numeric_limits<double>::infinity();
    break;
  case tl::ReduceKind::Min:
    v = std::numeric_limits<double>::infinity();
    break;
  default:
    v = 0;
  }
  if (auto ft = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(b_, loc(), b_.getFloatAttr(ft, v));
  if (kind == tl::ReduceKind::Max)
    return arith::ConstantOp::create(
        b_, loc(), b_.getIntegerAttr(t, APInt::getSignedMinValue(t.getIntOrFloatBitWidth())));
  if (kind == tl::ReduceKind::Min)
    return arith::ConstantOp::create(
        b_, loc(), b_.getIntegerAttr(t, APInt::getSignedMaxValue(t.getIntOrFloatBitWidth())));
  return zeroOf(t);
}

Value KernelLowering::combine(tl::ReduceKind kind, Value a, Value c) {
  bool isF = isa<FloatType>(a.getType());
  switch (kind) {
  case tl::ReduceKind::Sum:
    return isF ? Value(arith::AddFOp::create(b_, loc(), a, c))
               : Value(arith::AddIOp::create(b_, loc(), a, c));
  case tl::ReduceKind::Max:
  case tl::ReduceKind::AbsMax:
    return isF ? Value(arith::MaxNumFOp::create(b_, loc(), a, c))
               : Value(arith::MaxSIOp::create(b_, loc(), a, c));
  case tl::ReduceKind::Min:
    return isF ? Value(arith::MinNumFOp::create(b_, loc(), a, c))
               : Value(arith::MinSIOp::create(b_, loc(), a, c));
  default:
    return isF ? Value(arith::AddFOp::create(b_, loc(), a, c))
               : Value(arith::AddIOp::create(b_, loc(), a, c));
  }
}

Value KernelLowering::emitWarpAllReduce(Value v, tl::ReduceKind kind) {
  Type t = v.getType();
  for (int64_t mask = 16; mask >= 1; mask /= 2) {
    Value other;
    if (t.isF32() || t.isInteger(32)) {
      other = asmOp(t, {v, cI32(mask)}, "shfl.sync.bfly.b32 $0, $1, $2, 0x1f, 0xffffffff;",
                    t.isF32() ? "=f,f,r" : "=r,r,r");
    } else {
      // 64-bit values: two 32-bit shuffles.
      Value bits = t.isInteger(64) ? v : arith::BitcastOp::create(b_, loc(), b_.getI64Type(), v);
      Value sh = asmOp(b_.getI64Type(), {bits, cI32(mask)},
                       "{ .reg .b32 lo, hi; mov.b64 {lo, hi}, $1; "
                       "shfl.sync.bfly.b32 lo, lo, $2, 0x1f, 0xffffffff; "
                       "shfl.sync.bfly.b32 hi, hi, $2, 0x1f, 0xffffffff; mov.b64 $0, {lo, hi}; }",
                       "=l,l,r");
      other = t.isInteger(64) ? sh : Value(arith::BitcastOp::create(b_, loc(), t, sh));
    }
    v = combine(kind, v, other);
  }
  return v;
}

//===----------------------------------------------------------------------===//
// Op emission
//===----------------------------------------------------------------------===//

LogicalResult KernelLowering::emitBlock(Block &block) {
  for (Operation &op : block) {
    if (isa<tl::YieldOp, scf::YieldOp>(&op))
      continue;
    if (failed(emitOp(&op)))
      return failure();
  }
  return success();
}

LogicalResult KernelLowering::emitOp(Operation *op) {
  loc_ = op->getLoc();
  if (op == pendingReader_)
    return emitPendingTmemRead(op);
  if (isa<tl::AllocSharedOp, tl::AllocFragmentOp, tl::AllocLocalOp, tl::AllocTmemOp>(op))
    return success(); // planned up front
  if (auto c = dyn_cast<tl::CopyOp>(op))
    return emitCopy(c);
  if (auto f = dyn_cast<tl::FillOp>(op))
    return emitFill(f);
  if (auto g = dyn_cast<tl::GemmOp>(op))
    return emitGemm(g);
  if (auto r = dyn_cast<tl::ReduceOp>(op))
    return emitReduce(r);
  if (auto p = dyn_cast<tl::ParallelOp>(op))
    return emitParallel(p);
  if (auto p = dyn_cast<tl::PipelinedOp>(op))
    return emitPipelined(p);
  if (auto c = dyn_cast<tl::CastOp>(op))
    return emitCast(c);
  if (auto a = dyn_cast<tl::AtomicAddOp>(op))
    return emitAtomicAdd(a);
  if (isa<tl::SyncThreadsOp>(op)) {
    blockBarrier();
    return success();
  }
  if (auto t = dyn_cast<tl::ThreadIdOp>(op)) {
    if (t.getDim() != 0)
      map_.map(t.getResult(), cIndex(0));
    else
      map_.map(t.getResult(), tid_);
    return success();
  }
  if (auto bid = dyn_cast<tl::BlockIdOp>(op)) {
    map_.map(bid.getResult(), blockIds_[std::min<int64_t>(bid.getDim(), blockIds_.size() - 1)]);
    return success();
  }
  if (isa<tl::PrintOp>(op))
    return success(); // device printf is not lowered; prints are debugging aids
  if (auto ld = dyn_cast<memref::LoadOp>(op))
    return emitLoad(ld);
  if (auto st = dyn_cast<memref::StoreOp>(op))
    return emitStore(st);
  if (auto dim = dyn_cast<memref::DimOp>(op)) {
    auto idx = getConstantIntValue(dim.getIndex());
    auto it = tensors_.find(dim.getSource());
    if (!idx || it == tensors_.end())
      return op->emitError("memref.dim needs a kernel tensor and a constant dimension");
    map_.map(dim.getResult(), it->second.dims[*idx]);
    return success();
  }
  if (auto forOp = dyn_cast<scf::ForOp>(op)) {
    if (forOp.getNumResults() != 0)
      return op->emitError("loops carrying values are not supported by the GPU lowering yet");
    auto newFor = scf::ForOp::create(b_, loc(), map_.lookupOrDefault(forOp.getLowerBound()),
                                     map_.lookupOrDefault(forOp.getUpperBound()),
                                     map_.lookupOrDefault(forOp.getStep()));
    map_.map(forOp.getInductionVar(), newFor.getInductionVar());
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(newFor.getBody()->getTerminator());
    return emitBlock(*forOp.getBody());
  }
  if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
    if (ifOp.getNumResults() != 0) {
      // Value-yielding ifs: a new scf.if whose regions yield the mapped values.
      auto newIf = scf::IfOp::create(b_, loc(), ifOp.getResultTypes(),
                                     map_.lookupOrDefault(ifOp.getCondition()), true);
      for (auto [oldR, newR] : {std::pair{&ifOp.getThenRegion(), &newIf.getThenRegion()},
                                std::pair{&ifOp.getElseRegion(), &newIf.getElseRegion()}}) {
        OpBuilder::InsertionGuard guard(b_);
        Block &nb = newR->front();
        b_.setInsertionPointToEnd(&nb);
        if (!nb.empty())
          nb.getTerminator()->erase();
        if (failed(emitBlock(oldR->front())))
          return failure();
        auto y = cast<scf::YieldOp>(oldR->front().getTerminator());
        SmallVector<Value> vals;
        for (Value v : y.getOperands())
          vals.push_back(map_.lookupOrDefault(v));
        scf::YieldOp::create(b_, loc(), vals);
      }
      for (auto [o, n] : llvm::zip(ifOp.getResults(), newIf.getResults()))
        map_.map(o, n);
      return success();
    }
    auto newIf = scf::IfOp::create(b_, loc(), map_.lookupOrDefault(ifOp.getCondition()),
                                   !ifOp.getElseRegion().empty());
    {
      OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPoint(newIf.thenBlock()->getTerminator());
      if (failed(emitBlock(*ifOp.thenBlock())))
        return failure();
    }
    if (!ifOp.getElseRegion().empty()) {
      OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPoint(newIf.elseBlock()->getTerminator());
      if (failed(emitBlock(*ifOp.elseBlock())))
        return failure();
    }
    return success();
  }
  if (isa<math::MathDialect>(op->getDialect()))
    return emitMath(op);
  if (isa<arith::ArithDialect>(op->getDialect())) {
    for (Type t : op->getResultTypes())
      if (isNarrowFloat(t))
        return op->emitError("arithmetic on 8/4-bit float values; convert with T.cast first");
    Operation *clone = b_.clone(*op, map_);
    (void)clone;
    return success();
  }
  return op->emitError() << "'" << op->getName() << "' is not supported by the " << options_.chip
                         << " lowering yet";
}

LogicalResult KernelLowering::emitCast(tl::CastOp op) {
  if (isa<VectorType>(op.getIn().getType()))
    return op.emitError("vector tl.cast is not supported by the GPU lowering yet");
  map_.map(op.getOut(),
           convert(map_.lookupOrDefault(op.getIn()), op.getIn().getType(), op.getOut().getType()));
  return success();
}

LogicalResult KernelLowering::emitMath(Operation *op) {
  auto operand = [&](unsigned i) { return map_.lookupOrDefault(op->getOperand(i)); };
  Type t = op->getResult(0).getType();
  if (!t.isF32()) {
    // f16/bf16/f64 math: the generic LLVM lowering.
    b_.clone(*op, map_);
    return success();
  }
  auto unary = [&](StringRef text) {
    map_.map(op->getResult(0), asmOp(t, {operand(0)}, text, "=f,f"));
    return success();
  };
  auto fconst = [&](double v) {
    return arith::ConstantOp::create(b_, loc(), b_.getF32FloatAttr(static_cast<float>(v)));
  };
  if (isa<math::Exp2Op>(op))
    return unary("ex2.approx.ftz.f32 $0, $1;");
  if (isa<math::ExpOp>(op)) {
    Value s = arith::MulFOp::create(b_, loc(), operand(0), fconst(1.4426950408889634));
    map_.map(op->getResult(0), asmOp(t, {s}, "ex2.approx.ftz.f32 $0, $1;", "=f,f"));
    return success();
  }
  if (isa<math::Log2Op>(op))
    return unary("lg2.approx.f32 $0, $1;");
  if (isa<math::LogOp>(op)) {
    Value l = asmOp(t, {operand(0)}, "lg2.approx.f32 $0, $1;", "=f,f");
    map_.map(op->getResult(0), arith::MulFOp::create(b_, loc(), l, fconst(0.6931471805599453)));
    return success();
  }
  if (isa<math::RsqrtOp>(op))
    return unary("rsqrt.approx.f32 $0, $1;");
  if (isa<math::TanhOp>(op))
    return unary("tanh.approx.f32 $0, $1;");
  if (isa<math::SinOp>(op))
    return unary("sin.approx.f32 $0, $1;");
  if (isa<math::CosOp>(op))
    return unary("cos.approx.f32 $0, $1;");
  if (isa<math::SqrtOp>(op))
    return unary("sqrt.rn.f32 $0, $1;");
  b_.clone(*op, map_); // floor, ceil, abs, fma, ...: LLVM intrinsics NVPTX supports
  return success();
}

FailureOr<Value> KernelLowering::fragAccessSlot(Operation *op, Value buffer, ValueRange indices) {
  const FragBuf &f = frags_[buffer];
  if (par_ && f.layout == *par_->layout && indices.size() == par_->ivs.size() &&
      llvm::equal(indices, par_->ivs))
    return fragSlotPtr(f, par_->slot);
  if (f.layout.kind == LayoutKind::Replicated) {
    SmallVector<Value> coords, dims;
    for (Value i : indices)
      coords.push_back(map_.lookupOrDefault(i));
    for (int64_t d : f.type.getShape())
      dims.push_back(cIndex(d));
    return fragSlotPtr(f, linearize(b_, loc(), coords, dims));
  }
  return op->emitError("fragment accessed with indices that do not match its thread layout: index "
                       "it with the T.Parallel loop variables over its full shape");
}

LogicalResult KernelLowering::emitLoad(memref::LoadOp op) {
  Value buf = op.getMemRef();
  if (frags_.count(buf)) {
    auto p = fragAccessSlot(op, buf, op.getIndices());
    if (failed(p))
      return failure();
    map_.map(op.getResult(), LLVM::LoadOp::create(b_, loc(), frags_[buf].storeType, *p));
    return success();
  }
  SmallVector<Value> coords;
  for (Value i : op.getIndices())
    coords.push_back(map_.lookupOrDefault(i));
  if (!tensors_.count(buf) && !shared_.count(buf))
    return op.emitError("load from a buffer the GPU lowering does not know");
  map_.map(op.getResult(), loadFromBuffer(buf, coords));
  return success();
}

LogicalResult KernelLowering::emitStore(memref::StoreOp op) {
  Value buf = op.getMemRef();
  Value value = map_.lookupOrDefault(op.getValueToStore());
  if (frags_.count(buf)) {
    auto p = fragAccessSlot(op, buf, op.getIndices());
    if (failed(p))
      return failure();
    LLVM::StoreOp::create(b_, loc(), value, *p);
    return success();
  }
  SmallVector<Value> coords;
  for (Value i : op.getIndices())
    coords.push_back(map_.lookupOrDefault(i));
  if (!tensors_.count(buf) && !shared_.count(buf))
    return op.emitError("store to a buffer the GPU lowering does not know");
  storeToBuffer(buf, coords, value);
  return success();
}

LogicalResult KernelLowering::emitAtomicAdd(tl::AtomicAddOp op) {
  if (isa<VectorType>(op.getValue().getType()) || !tensors_.count(op.getDst()))
    return op.emitError("the GPU lowering supports scalar atomic adds to global tensors only");
  const TensorArg &t = tensors_[op.getDst()];
  SmallVector<Value> coords;
  for (Value i : op.getIndices())
    coords.push_back(map_.lookupOrDefault(i));
  Type elem = t.type.getElementType();
  Value p = LLVM::GEPOp::create(b_, loc(), LLVM::LLVMPointerType::get(ctx_, 1), elem, t.ptr,
                                ValueRange{toI64(globalLinear(t, coords))});
  Value v = map_.lookupOrDefault(op.getValue());
  auto kind = isa<FloatType>(elem) ? LLVM::AtomicBinOp::fadd : LLVM::AtomicBinOp::add;
  Value old = LLVM::AtomicRMWOp::create(b_, loc(), kind, p, v, LLVM::AtomicOrdering::monotonic);
  if (op.getPrev())
    map_.map(op.getPrev(), old);
  return success();
}

//===----------------------------------------------------------------------===//
// tl.parallel
//===----------------------------------------------------------------------===//

LogicalResult KernelLowering::emitParallel(tl::ParallelOp op) {
  auto extents = op.getExtents();
  // Driver: a non-replicated fragment indexed by the loop variables.
  const Layout *driver = nullptr;
  bool writesShared = false, writesGlobal = false;
  op.getBody().walk([&](Operation *inner) {
    Value buf;
    ValueRange idx;
    bool isStore = false;
    if (auto ld = dyn_cast<memref::LoadOp>(inner)) {
      buf = ld.getMemRef();
      idx = ld.getIndices();
    } else if (auto st = dyn_cast<memref::StoreOp>(inner)) {
      buf = st.getMemRef();
      idx = st.getIndices();
      isStore = true;
    } else if (auto at = dyn_cast<tl::AtomicAddOp>(inner)) {
      writesGlobal = true;
      return;
    } else {
      return;
    }
    if (isStore && shared_.count(buf))
      writesShared = true;
    if (isStore && tensors_.count(buf))
      writesGlobal = true;
    if (!driver && frags_.count(buf) && frags_[buf].layout.kind != LayoutKind::Replicated &&
        indicesAreIvs(idx, op))
      driver = &frags_[buf].layout;
  });

  auto emitBodyAt = [&](ArrayRef<Value> coords) -> LogicalResult {
    for (auto [iv, c] : llvm::zip(op.getInductionVars(), coords))
      map_.map(iv, c);
    return emitBlock(op.getBodyBlock());
  };

  if (driver) {
    ParallelCtx ctx;
    ctx.layout = driver;
    ctx.ivs.assign(op.getInductionVars().begin(), op.getInductionVars().end());
    auto saved = par_;
    for (int64_t s = 0; s < driver->slots(); ++s) {
      if (slotHi_ >= 0 && (s < slotLo_ || s >= slotHi_))
        continue; // another piece of a streamed TMEM read
      Value valid;
      bool skip;
      SmallVector<Value> coords = layoutCoords(*driver, s, valid, skip);
      if (skip)
        continue;
      ctx.slot = s;
      par_ = ctx;
      if (valid) {
        auto ifOp = scf::IfOp::create(b_, loc(), valid, false);
        OpBuilder::InsertionGuard guard(b_);
        b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
        if (failed(emitBodyAt(coords)))
          return failure();
      } else if (failed(emitBodyAt(coords))) {
        return failure();
      }
    }
    par_ = saved;
    if (writesShared)
      blockBarrier();
    return success();
  }

  int64_t n = numElements(extents);
  auto delinearize = [&](Value flat) {
    SmallVector<Value> coords(extents.size());
    Value rem = flat;
    for (int64_t d = extents.size() - 1; d >= 0; --d) {
      coords[d] = arith::RemUIOp::create(b_, loc(), rem, cIndex(extents[d]));
      rem = arith::DivUIOp::create(b_, loc(), rem, cIndex(extents[d]));
    }
    return coords;
  };
  if (writesShared || writesGlobal) {
    // Each point once, dealt round-robin to the threads.
    if (writesShared)
      blockBarrier();
    auto loop = scf::ForOp::create(b_, loc(), tid_, cIndex(n), cIndex(threads_));
    {
      OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPoint(loop.getBody()->getTerminator());
      if (failed(emitBodyAt(delinearize(loop.getInductionVar()))))
        return failure();
    }
    if (writesShared)
      blockBarrier();
    return success();
  }
  // Only replicated fragments / locals written: every thread runs every point.
  if (n <= 512) {
    for (int64_t i = 0; i < n; ++i) {
      SmallVector<Value> coords;
      int64_t rem = i;
      coords.resize(extents.size());
      for (int64_t d = extents.size() - 1; d >= 0; --d) {
        coords[d] = cIndex(rem % extents[d]);
        rem /= extents[d];
      }
      if (failed(emitBodyAt(coords)))
        return failure();
    }
    return success();
  }
  auto loop = scf::ForOp::create(b_, loc(), cIndex(0), cIndex(n), cIndex(1));
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(loop.getBody()->getTerminator());
  return emitBodyAt(delinearize(loop.getInductionVar()));
}

//===----------------------------------------------------------------------===//
// tl.fill
//===----------------------------------------------------------------------===//

LogicalResult KernelLowering::emitFill(tl::FillOp op) {
  Value dst = op.getDst();
  if (foldedFills_.contains(op))
    return success(); // the first tcgen05.mma of each tile overwrites instead
  Value v = map_.lookupOrDefault(op.getValue());
  if (frags_.count(dst)) {
    const FragBuf &f = frags_[dst];
    for (int64_t s = 0; s < f.layout.slots(); ++s)
      LLVM::StoreOp::create(b_, loc(), v, fragSlotPtr(f, s));
    return success();
  }
  if (shared_.count(dst)) {
    auto type = cast<MemRefType>(dst.getType());
    blockBarrier();
    auto loop =
        scf::ForOp::create(b_, loc(), tid_, cIndex(type.getNumElements()), cIndex(threads_));
    {
      OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPoint(loop.getBody()->getTerminator());
      SmallVector<Value> coords(type.getRank());
      Value rem = loop.getInductionVar();
      for (int64_t d = type.getRank() - 1; d >= 0; --d) {
        coords[d] = arith::RemUIOp::create(b_, loc(), rem, cIndex(type.getShape()[d]));
        rem = arith::DivUIOp::create(b_, loc(), rem, cIndex(type.getShape()[d]));
      }
      storeToBuffer(dst, coords, v);
    }
    blockBarrier();
    return success();
  }
  return op.emitError("T.fill of a global tensor is not supported by the GPU lowering; use a "
                      "T.Parallel loop");
}

//===----------------------------------------------------------------------===//
// tl.copy
//===----------------------------------------------------------------------===//

// Maps a point of the copy's squeezed box to full coordinates of one side.
SmallVector<Value> expandCoords(OpBuilder &b, Location loc, ArrayRef<Value> offsets,
                                ArrayRef<int64_t> sizes, ArrayRef<Value> q) {
  SmallVector<Value> out;
  size_t qi = 0;
  // Sizes of 1 are dropped dimensions unless the box has as many dimensions
  // as q (then every dimension consumes a coordinate).
  bool consumeAll = sizes.size() == q.size();
  for (size_t d = 0; d < sizes.size(); ++d) {
    Value off = offsets.empty() ? Value() : offsets[d];
    Value c;
    if (consumeAll || sizes[d] != 1) {
      c = q[qi++];
    } else {
      c = arith::ConstantIndexOp::create(b, loc, 0);
    }
    out.push_back(off ? Value(arith::AddIOp::create(b, loc, off, c)) : c);
  }
  return out;
}

LogicalResult KernelLowering::emitCopy(tl::CopyOp op) {
  Value src = op.getSrc(), dst = op.getDst();
  if (auto it = tmaStores_.find(op); it != tmaStores_.end()) {
    // Make the tile's ordinary stores visible to the async proxy, then one
    // thread stores it with TMA and waits until the tile may be reused.
    asmVoid({}, "fence.proxy.async.shared::cta;", "~{memory}");
    blockBarrier();
    Value isT0 = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, tid_, cIndex(0));
    auto ifOp = scf::IfOp::create(b_, loc(), isT0, false);
    {
      OpBuilder::InsertionGuard g(b_);
      b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      Value mapPtr =
          newFunc_.getArgument(newFunc_.getNumArguments() - info_.tma.size() + it->second);
      Value mapAddr = LLVM::PtrToIntOp::create(b_, loc(), b_.getI64Type(), mapPtr);
      Value smem = arith::AddIOp::create(
          b_, loc(), LLVM::PtrToIntOp::create(b_, loc(), b_.getI32Type(), sharedBase()),
          cI32(shared_[src].offset));
      SmallVector<Value> off;
      for (Value v : op.getDstOffsets())
        off.push_back(map_.lookupOrDefault(v));
      if (off.empty())
        off = {cIndex(0), cIndex(0)};
      asmVoid({mapAddr, smem, toI32(off[1]), toI32(off[0])},
              "cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [$0, {$2, $3}], [$1];",
              "l,r,r,r,~{memory}");
      asmVoid({}, "cp.async.bulk.commit_group;", "~{memory}");
      asmVoid({}, "cp.async.bulk.wait_group.read 0;", "~{memory}");
    }
    blockBarrier();
    return success();
  }
  auto srcT = cast<MemRefType>(src.getType());
  auto dstT = cast<MemRefType>(dst.getType());
  SmallVector<Value> srcOff, dstOff;
  for (Value v : op.getSrcOffsets())
    srcOff.push_back(map_.lookupOrDefault(v));
  for (Value v : op.getDstOffsets())
    dstOff.push_back(map_.lookupOrDefault(v));
  auto srcSizes = op.getSrcSizes();
  auto dstSizes = op.getDstSizes();
  SmallVector<int64_t> box;
  for (int64_t s : dstSizes)
    if (s != 1)
      box.push_back(s);
  if (box.empty())
    box.push_back(1);
  int64_t boxRank = box.size();
  auto squeeze = [&](ArrayRef<int64_t> sizes) {
    SmallVector<int64_t> s;
    for (int64_t x : sizes)
      if (x != 1)
        s.push_back(x);
    if (s.empty())
      s.push_back(1);
    return s;
  };
  if (squeeze(srcSizes) != box)
    return op.emitError("copy regions of different shapes are not supported by the GPU lowering");
  Type srcE = srcT.getElementType(), dstE = dstT.getElementType();

  // In-bounds predicate of a global-side access (null when not global).
  auto inBounds = [&](Value buf, ArrayRef<Value> coords, int64_t lastExtent) -> Value {
    auto it = tensors_.find(buf);
    if (it == tensors_.end())
      return Value();
    Value ok;
    for (size_t d = 0; d < coords.size(); ++d) {
      Value c = coords[d];
      if (d + 1 == coords.size() && lastExtent > 1)
        c = addI(c, cIndex(lastExtent - 1));
      Value lt = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ult, c, it->second.dims[d]);
      ok = ok ? Value(arith::AndIOp::create(b_, loc(), ok, lt)) : lt;
    }
    return ok;
  };
  auto boxQ = [&](ArrayRef<Value> coordsOfSide, ArrayRef<int64_t> sizes) {
    // Squeezed coordinates of a side's full coordinates (relative, no offsets).
    SmallVector<Value> q;
    bool consumeAll = sizes.size() == box.size();
    for (size_t d = 0; d < sizes.size(); ++d)
      if (consumeAll || sizes[d] != 1)
        q.push_back(coordsOfSide[d]);
    return q;
  };

  bool srcFrag = frags_.count(src), dstFrag = frags_.count(dst);
  if (srcFrag && dstFrag)
    return op.emitError("fragment-to-fragment copies are not supported; use T.Parallel");

  // Fragment side drives: each thread moves its own slots.
  if ((srcFrag || dstFrag) && !(srcFrag && frags_[src].layout.kind == LayoutKind::Replicated &&
                                (tensors_.count(dst) || shared_.count(dst)))) {
    Value fragV = srcFrag ? src : dst;
    if ((srcFrag ? srcOff : dstOff).size() && llvm::any_of(srcFrag ? srcOff : dstOff, [](Value v) {
          return getConstantIntValue(v) != std::optional<int64_t>(0);
        }))
      return op.emitError("copies into or out of part of a fragment are not supported");
    const FragBuf &f = frags_[fragV];
    Value other = srcFrag ? dst : src;
    Type otherE = srcFrag ? dstE : srcE;
    ArrayRef<int64_t> otherSizes = srcFrag ? dstSizes : srcSizes;
    SmallVector<Value> &otherOff = srcFrag ? dstOff : srcOff;
    int64_t run = f.layout.kind == LayoutKind::Replicated ? 1 : f.layout.run();
    auto otherRank = cast<MemRefType>(other.getType()).getRank();
    // Vectorise runs when the fragment's last dimension is the other side's
    // contiguous last dimension.
    bool lastContig = otherSizes.back() != 1 && f.type.getShape().back() != 1 && otherRank >= 1;
    if (!lastContig || isFP4(otherE) || isFP4(f.type.getElementType()))
      run = 1;
    bool otherGlobal = tensors_.count(other);
    bool writesShared = shared_.count(dst);
    if (writesShared)
      blockBarrier();
    for (int64_t s = 0; s < f.layout.slots(); s += run) {
      if (slotHi_ >= 0 && (s < slotLo_ || s >= slotHi_))
        continue; // another piece of a streamed TMEM read
      Value valid;
      bool skip;
      SmallVector<Value> fc = layoutCoords(f.layout, s, valid, skip);
      if (skip)
        continue;
      std::optional<OpBuilder::InsertionGuard> guard;
      if (valid) {
        guard.emplace(b_);
        auto ifOp = scf::IfOp::create(b_, loc(), valid, false);
        b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      }
      SmallVector<Value> q = boxQ(fc, f.type.getShape());
      SmallVector<Value> oc = expandCoords(b_, loc(), otherOff, otherSizes, q);
      auto scalarPath = [&](int64_t count) {
        for (int64_t e = 0; e < count; ++e) {
          SmallVector<Value> oce = oc;
          oce.back() = addI(oce.back(), cIndex(e));
          Value ok = inBounds(other, oce, 1);
          Value slotPtr = fragSlotPtr(f, s + e);
          if (srcFrag) {
            Value v = LLVM::LoadOp::create(b_, loc(), f.storeType, slotPtr);
            Value cv = convert(v, f.type.getElementType(), otherE);
            if (ok) {
              auto ifOp = scf::IfOp::create(b_, loc(), ok, false);
              OpBuilder::InsertionGuard g(b_);
              b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
              storeToBuffer(other, oce, cv);
            } else {
              storeToBuffer(other, oce, cv);
            }
          } else {
            Value v;
            if (ok) {
              auto ifOp = scf::IfOp::create(b_, loc(), TypeRange{registerType(otherE)}, ok, true);
              {
                OpBuilder::InsertionGuard g(b_);
                b_.setInsertionPointToStart(ifOp.thenBlock());
                scf::YieldOp::create(b_, loc(), loadFromBuffer(other, oce));
                b_.setInsertionPointToStart(ifOp.elseBlock());
                scf::YieldOp::create(b_, loc(), zeroOf(registerType(otherE)));
              }
              v = ifOp.getResult(0);
            } else {
              v = loadFromBuffer(other, oce);
            }
            LLVM::StoreOp::create(b_, loc(), convert(v, otherE, f.type.getElementType()), slotPtr);
          }
        }
      };
      if (run == 1) {
        scalarPath(1);
        continue;
      }
      // Vector path: whole run in bounds and aligned (global), or shared.
      Type vecT = VectorType::get({run}, registerType(otherE));
      Value fast;
      Value linear;
      if (otherGlobal) {
        const TensorArg &t = tensors_[other];
        linear = globalLinear(t, oc);
        Value aligned = arith::CmpIOp::create(
            b_, loc(), arith::CmpIPredicate::eq,
            arith::RemUIOp::create(b_, loc(), linear, cIndex(run)), cIndex(0));
        fast = arith::AndIOp::create(b_, loc(), aligned, inBounds(other, oc, run));
      } else {
        fast = arith::ConstantOp::create(b_, loc(), b_.getBoolAttr(true));
      }
      auto ifOp = scf::IfOp::create(b_, loc(), fast, true);
      {
        OpBuilder::InsertionGuard g(b_);
        b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
        Value ptr;
        if (otherGlobal) {
          ptr = LLVM::GEPOp::create(b_, loc(), LLVM::LLVMPointerType::get(ctx_, 1),
                                    registerType(otherE), tensors_[other].ptr,
                                    ValueRange{toI64(linear)});
        } else {
          ptr = sharedPtr(sharedByteOffset(other, oc));
        }
        int64_t align = run * storageBytes(otherE);
        if (srcFrag) {
          Value vec = LLVM::UndefOp::create(b_, loc(), vecT);
          for (int64_t e = 0; e < run; ++e) {
            Value v = LLVM::LoadOp::create(b_, loc(), f.storeType, fragSlotPtr(f, s + e));
            vec = LLVM::InsertElementOp::create(
                b_, loc(), vec, convert(v, f.type.getElementType(), otherE), cI32(e));
          }
          LLVM::StoreOp::create(b_, loc(), vec, ptr, align);
        } else {
          Value vec = LLVM::LoadOp::create(b_, loc(), vecT, ptr, align);
          for (int64_t e = 0; e < run; ++e) {
            Value v = LLVM::ExtractElementOp::create(b_, loc(), vec, cI32(e));
            LLVM::StoreOp::create(b_, loc(), convert(v, otherE, f.type.getElementType()),
                                  fragSlotPtr(f, s + e));
          }
        }
        b_.setInsertionPoint(ifOp.elseBlock()->getTerminator());
        scalarPath(run);
      }
    }
    if (writesShared)
      blockBarrier();
    return success();
  }

  // Cooperative copy between global/shared (or from a replicated fragment):
  // each element once, round-robin over the threads.
  int64_t n = numElements(box);
  bool writesShared = shared_.count(dst);
  if (writesShared)
    blockBarrier();
  auto loop = scf::ForOp::create(b_, loc(), tid_, cIndex(n), cIndex(threads_));
  {
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(loop.getBody()->getTerminator());
    SmallVector<Value> q(boxRank);
    Value rem = loop.getInductionVar();
    for (int64_t d = boxRank - 1; d >= 0; --d) {
      q[d] = arith::RemUIOp::create(b_, loc(), rem, cIndex(box[d]));
      rem = arith::DivUIOp::create(b_, loc(), rem, cIndex(box[d]));
    }
    Value v;
    if (srcFrag) {
      const FragBuf &f = frags_[src];
      SmallVector<Value> dims;
      for (int64_t d : f.type.getShape())
        dims.push_back(cIndex(d));
      SmallVector<Value> fc = expandCoords(b_, loc(), {}, f.type.getShape(), q);
      v = LLVM::LoadOp::create(b_, loc(), f.storeType,
                               fragSlotPtr(f, linearize(b_, loc(), fc, dims)));
    } else {
      SmallVector<Value> sc = expandCoords(b_, loc(), srcOff, srcSizes, q);
      Value ok = inBounds(src, sc, 1);
      if (ok) {
        auto ifOp = scf::IfOp::create(b_, loc(), TypeRange{registerType(srcE)}, ok, true);
        OpBuilder::InsertionGuard g(b_);
        b_.setInsertionPointToStart(ifOp.thenBlock());
        scf::YieldOp::create(b_, loc(), loadFromBuffer(src, sc));
        b_.setInsertionPointToStart(ifOp.elseBlock());
        scf::YieldOp::create(b_, loc(), zeroOf(registerType(srcE)));
        v = ifOp.getResult(0);
      } else {
        v = loadFromBuffer(src, sc);
      }
    }
    v = convert(v, srcE, dstE);
    SmallVector<Value> dc = expandCoords(b_, loc(), dstOff, dstSizes, q);
    Value ok = inBounds(dst, dc, 1);
    if (ok) {
      auto ifOp = scf::IfOp::create(b_, loc(), ok, false);
      OpBuilder::InsertionGuard g(b_);
      b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      storeToBuffer(dst, dc, v);
    } else {
      storeToBuffer(dst, dc, v);
    }
  }
  if (writesShared)
    blockBarrier();
  return success();
}

//===----------------------------------------------------------------------===//
// tl.reduce
//===----------------------------------------------------------------------===//

LogicalResult KernelLowering::emitReduce(tl::ReduceOp op) {
  Value src = op.getSrc(), dst = op.getDst();
  if (!frags_.count(src) || !frags_.count(dst))
    return op.emitError("the GPU lowering reduces fragments only");
  const FragBuf &fs = frags_[src];
  const FragBuf &fd = frags_[dst];
  Type t = fs.storeType;
  if (!(t.isF32() || t.isInteger(32)))
    return op.emitError("the GPU lowering reduces f32 and i32 fragments only");
  int64_t dim = op.getDim();
  auto kind = op.getKind();
  int64_t outs = fd.type.getNumElements();
  SmallVector<int64_t> outShape;
  for (int64_t d = 0; d < fs.type.getRank(); ++d)
    if (d != dim)
      outShape.push_back(fs.type.getShape()[d]);
  if (numElements(outShape) != outs)
    return op.emitError("reduction output size does not match the source");

  // 1. Per-thread partials: registers when the output index is known at
  //    compile time, else a local array.
  SmallVector<Value> partial(outs);
  FragBuf tmp;
  Value tmpBase;
  bool dynamic = false;
  for (int64_t s = 0; s < fs.layout.slots() && !dynamic; ++s)
    for (int64_t d = 0; d < fs.type.getRank(); ++d)
      if (d != dim && !layoutCoordIsStatic(fs.layout, s, d))
        dynamic = true;
  {
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPointToStart(allocaBlock_);
    tmpBase = LLVM::AllocaOp::create(b_, loc(), LLVM::LLVMPointerType::get(ctx_), t, cI64(outs), 4);
  }
  for (int64_t o = 0; o < outs; ++o) {
    partial[o] = identity(kind, t);
    if (dynamic)
      LLVM::StoreOp::create(b_, loc(), partial[o],
                            LLVM::GEPOp::create(b_, loc(), LLVM::LLVMPointerType::get(ctx_), t,
                                                tmpBase, ValueRange{cI64(o)}));
  }
  for (int64_t s = 0; s < fs.layout.slots(); ++s) {
    Value valid;
    bool skip;
    SmallVector<Value> c = layoutCoords(fs.layout, s, valid, skip);
    if (skip)
      continue;
    Value x = LLVM::LoadOp::create(b_, loc(), t, fragSlotPtr(fs, s));
    if (kind == tl::ReduceKind::AbsMax)
      x = math::AbsFOp::create(b_, loc(), x);
    if (valid)
      x = arith::SelectOp::create(b_, loc(), valid, x, identity(kind, t));
    SmallVector<Value> oc, dims;
    for (int64_t d = 0; d < (int64_t)c.size(); ++d)
      if (d != dim) {
        oc.push_back(c[d]);
        dims.push_back(cIndex(fs.type.getShape()[d]));
      }
    if (!dynamic) {
      int64_t o = 0;
      for (size_t i = 0; i < oc.size(); ++i)
        o = o * outShape[i] + *getConstantIntValue(oc[i]);
      partial[o] = combine(kind, partial[o], x);
    } else {
      Value p = LLVM::GEPOp::create(b_, loc(), LLVM::LLVMPointerType::get(ctx_), t, tmpBase,
                                    ValueRange{toI64(linearize(b_, loc(), oc, dims))});
      Value cur = LLVM::LoadOp::create(b_, loc(), t, p);
      LLVM::StoreOp::create(b_, loc(), combine(kind, cur, x), p);
    }
  }
  // 2. Warp butterflies, then across warps through shared memory.
  int64_t warps = threads_ / kWarpSize;
  Value lane = laneId(), warp = warpId();
  blockBarrier();
  for (int64_t o = 0; o < outs; ++o) {
    Value v = dynamic ? Value(LLVM::LoadOp::create(
                            b_, loc(), t,
                            LLVM::GEPOp::create(b_, loc(), LLVM::LLVMPointerType::get(ctx_), t,
                                                tmpBase, ValueRange{cI64(o)})))
                      : partial[o];
    v = emitWarpAllReduce(v, kind);
    Value isLane0 = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, lane, cIndex(0));
    auto ifOp = scf::IfOp::create(b_, loc(), isLane0, false);
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    Value off =
        addI(cIndex(reduceScratch_), mulI(addI(mulI(warp, cIndex(outs)), cIndex(o)), cIndex(4)));
    LLVM::StoreOp::create(b_, loc(), v, sharedPtr(off));
  }
  blockBarrier();
  for (int64_t o = 0; o < outs; ++o) {
    Value r = identity(kind, t);
    for (int64_t w = 0; w < warps; ++w)
      r = combine(kind, r,
                  LLVM::LoadOp::create(b_, loc(), t,
                                       sharedPtr(cIndex(reduceScratch_ + (w * outs + o) * 4))));
    Value p = fragSlotPtr(fd, o);
    if (!op.getClear())
      r = combine(kind, LLVM::LoadOp::create(b_, loc(), t, p), r);
    LLVM::StoreOp::create(b_, loc(), r, p);
  }
  blockBarrier();
  return success();
}

//===----------------------------------------------------------------------===//
// tl.gemm -> wgmma
//===----------------------------------------------------------------------===//

LogicalResult KernelLowering::emitGemm(tl::GemmOp op) {
  if (isTcgen05()) {
    if (failed(checkTcgen05Gemm(op)))
      return failure();
    if (warpSpecialised_ && op == wsGemm_)
      return success(); // issued by the MMA warp (emitMmaIssuer)
    return emitGemmTcgen05Plain(op);
  }
  if (op.getScaleA() || op.getScaleB())
    return op.emitError("block-scaled T.gemm needs sm_100a (tcgen05); on sm_90a scale the FP8 "
                        "partial products in a T.Parallel loop instead");
  if (!shared_.count(op.getA()) || !shared_.count(op.getB()) || !frags_.count(op.getC()))
    return op.emitError("on sm_90a T.gemm needs A and B in shared memory and C in a fragment");
  if (op.getTransposeA() || !op.getTransposeB())
    return op.emitError("on sm_90a T.gemm supports K-major operands only (A[M, K], B[N, K] with "
                        "transpose_B=True) so far");
  auto aT = cast<MemRefType>(op.getA().getType());
  auto bT = cast<MemRefType>(op.getB().getType());
  const FragBuf &c = frags_[op.getC()];
  Type ae = aT.getElementType(), be = bT.getElementType();
  std::string atype, btype;
  int64_t kStep = 0;
  auto mmaName = [](Type t) -> std::string {
    if (t.isBF16())
      return "bf16";
    if (t.isF16())
      return "f16";
    if (isa<Float8E4M3FNType>(t))
      return "e4m3";
    if (isa<Float8E5M2Type>(t))
      return "e5m2";
    return "";
  };
  atype = mmaName(ae);
  btype = mmaName(be);
  bool fp8 = isa<Float8E4M3FNType, Float8E5M2Type>(ae);
  if (atype.empty() || btype.empty() || (fp8 != isa<Float8E4M3FNType, Float8E5M2Type>(be)) ||
      (!fp8 && ae != be))
    return op.emitError("wgmma supports bf16 x bf16, f16 x f16 and fp8 (e4m3/e5m2) x fp8 operands");
  kStep = fp8 ? 32 : 16;
  int64_t M = aT.getShape()[0], K = aT.getShape()[1], N = bT.getShape()[0];
  if (c.layout.kind != LayoutKind::Wgmma || c.layout.shape[0] != M || c.layout.shape[1] != N ||
      bT.getShape()[1] != K || K % kStep)
    return op.emitError("T.gemm shapes do not match the accumulator");
  int64_t esz = storageBytes(ae);
  int64_t chunkK = 128 / esz; // K elements per 128-byte swizzle chunk

  if (!pipe_ || !stage_) {
    // Operands written by ordinary stores: make them visible to the async proxy.
    asmVoid({}, "fence.proxy.async.shared::cta;", "~{memory}");
    blockBarrier();
  }
  // Shared addresses in the shared window (64-bit for the descriptor math).
  Value smemAddr = LLVM::PtrToIntOp::create(b_, loc(), b_.getI64Type(), sharedBase());
  auto descriptor = [&](Value byteOffset) {
    // start address >> 4 in bits 0-13, LBO = 1 (16 B), SBO = 1024 B >> 4 in
    // bits 32-45, 128-byte swizzle in bits 62-63.
    Value addr = addI(smemAddr, toI64(byteOffset));
    Value start = arith::AndIOp::create(b_, loc(), arith::ShRUIOp::create(b_, loc(), addr, cI64(4)),
                                        cI64(0x3FFF));
    int64_t hi = (int64_t{1} << 16) | (int64_t{64} << 32) | (int64_t{1} << 62);
    return arith::OrIOp::create(b_, loc(), start, cI64(hi)).getResult();
  };
  Value wg = arith::DivUIOp::create(b_, loc(), tid_, cIndex(kWarpgroup));
  Value aBase = sharedBufferBase(op.getA()), bBase = sharedBufferBase(op.getB());
  int64_t n = N;
  int64_t regs = n / 2;
  asmVoid({}, "wgmma.fence.sync.aligned;", "~{memory}");
  for (int64_t m = 0; m < c.layout.mTiles; ++m) {
    // This warpgroup's 64-row tile: rows (wg * mTiles + m) * 64.
    Value rowTile = addI(mulI(wg, cIndex(c.layout.mTiles)), cIndex(m));
    Value aTile = addI(aBase, mulI(rowTile, cIndex(64 * 128)));
    SmallVector<Value> acc;
    for (int64_t r = 0; r < regs; ++r)
      acc.push_back(LLVM::LoadOp::create(b_, loc(), b_.getF32Type(), fragSlotPtr(c, m * regs + r)));
    for (int64_t k = 0; k < K; k += kStep) {
      int64_t chunk = k / chunkK, within = (k % chunkK) * esz;
      Value aOff = addI(aTile, cIndex(chunk * M * 128 + within));
      Value bOff = addI(bBase, cIndex(chunk * N * 128 + within));
      Value descA = descriptor(aOff), descB = descriptor(bOff);
      Value scaleD = cI32((op.getClearAccum() && k == 0) ? 0 : 1);
      std::string text;
      llvm::raw_string_ostream os(text);
      os << "{\n.reg .pred p;\nsetp.ne.b32 p, $" << regs + 2 << ", 0;\n"
         << "wgmma.mma_async.sync.aligned.m64n" << n << "k" << kStep << ".f32." << atype << "."
         << btype << " {";
      for (int64_t r = 0; r < regs; ++r)
        os << (r ? ", " : "") << "$" << r;
      os << "}, $" << regs << ", $" << regs + 1 << ", p, 1, 1";
      if (!fp8)
        os << ", 0, 0";
      os << ";\n}";
      std::string cons;
      for (int64_t r = 0; r < regs; ++r)
        cons += "=f,";
      cons += "l,l,r";
      for (int64_t r = 0; r < regs; ++r)
        cons += "," + std::to_string(r);
      SmallVector<Value> operands{descA, descB, scaleD};
      operands.append(acc.begin(), acc.end());
      SmallVector<Type> fields(regs, b_.getF32Type());
      auto structT = LLVM::LLVMStructType::getLiteral(ctx_, fields);
      Value res = asmOp(structT, operands, text, cons);
      for (int64_t r = 0; r < regs; ++r)
        acc[r] = LLVM::ExtractValueOp::create(b_, loc(), res, ArrayRef<int64_t>{r});
    }
    asmVoid({}, "wgmma.commit_group.sync.aligned;", "~{memory}");
    for (int64_t r = 0; r < regs; ++r)
      LLVM::StoreOp::create(b_, loc(), acc[r], fragSlotPtr(c, m * regs + r));
  }
  if (!skipGemmWait_)
    wgmmaWait(c, deferWait_ ? 1 : 0);
  return success();
}

//===----------------------------------------------------------------------===//
// tl.pipelined
//===----------------------------------------------------------------------===//

// wgmma.wait_group N with the accumulator registers tied through it, so
// nothing reads them before the wait.
void KernelLowering::wgmmaWait(const FragBuf &c, int64_t pending) {
  int64_t n = c.layout.slots();
  SmallVector<Value> acc;
  for (int64_t r = 0; r < n; ++r)
    acc.push_back(LLVM::LoadOp::create(b_, loc(), c.storeType, fragSlotPtr(c, r)));
  SmallVector<Type> fields(n, c.storeType);
  auto structT = LLVM::LLVMStructType::getLiteral(ctx_, fields);
  std::string cons;
  for (int64_t r = 0; r < n; ++r)
    cons += "=f,";
  for (int64_t r = 0; r < n; ++r)
    cons += std::to_string(r) + (r + 1 < n ? "," : "");
  Value waited =
      asmOp(structT, acc, llvm::formatv("wgmma.wait_group.sync.aligned {0};", pending).str(), cons);
  for (int64_t r = 0; r < n; ++r)
    LLVM::StoreOp::create(b_, loc(),
                          LLVM::ExtractValueOp::create(b_, loc(), waited, ArrayRef<int64_t>{r}),
                          fragSlotPtr(c, r));
}

void KernelLowering::waitBarrier(Value barrierOffset, Value parity) {
  Value addr = toI32(barrierOffset);
  Value smem32 = LLVM::PtrToIntOp::create(b_, loc(), b_.getI32Type(), sharedBase());
  addr = arith::AddIOp::create(b_, loc(), smem32, addr);
  asmVoid({addr, toI32(parity)},
          "{\n.reg .pred p;\nTL_WAIT_${:uid}:\n"
          "mbarrier.try_wait.parity.shared::cta.b64 p, [$0], $1;\n"
          "@!p bra TL_WAIT_${:uid};\n}",
          "r,r,~{memory}");
}

void KernelLowering::arriveBarrier(Value barrierOffset) {
  Value smem32 = LLVM::PtrToIntOp::create(b_, loc(), b_.getI32Type(), sharedBase());
  Value addr = arith::AddIOp::create(b_, loc(), smem32, toI32(barrierOffset));
  asmVoid({addr}, "mbarrier.arrive.shared::cta.b64 _, [$0];", "r,~{memory}");
}

Value KernelLowering::peerAddr(Value offset, int64_t rank) {
  return asmOp(b_.getI32Type(), {smemAddr32(offset), cI32(rank)},
               "mapa.shared::cluster.u32 $0, $1, $2;", "=r,r,r");
}

Value KernelLowering::clusterRank() {
  Value r = asmOp(b_.getI32Type(), {}, "mov.u32 $0, %cluster_ctarank;", "=r");
  return arith::IndexCastOp::create(b_, loc(), b_.getIndexType(), r);
}

// A consumer warp's release of a pipeline stage. In a cluster the stage's
// multicast tiles were written by every block's producer, so each block's
// empty barrier hears from every block's consumers (remote arrivals through
// mapa; the barrier's count is multiplied by the cluster size). The arrivals
// keep the default .release.cta semantics: the consumers only read the stage,
// and a cluster-scope release on every k-block halved the H100's throughput.
void KernelLowering::releaseStage(Value barrierOffset) {
  if (clusterX_ == 1) {
    arriveBarrier(barrierOffset);
    return;
  }
  Value smem32 = LLVM::PtrToIntOp::create(b_, loc(), b_.getI32Type(), sharedBase());
  Value addr = arith::AddIOp::create(b_, loc(), smem32, toI32(barrierOffset));
  for (int64_t r = 0; r < clusterX_; ++r)
    asmVoid({addr, cI32(r)},
            "{\n.reg .b32 ra;\nmapa.shared::cluster.u32 ra, $0, $1;\n"
            "mbarrier.arrive.shared::cluster.b64 _, [ra];\n}",
            "r,r,~{memory}");
}

KernelLowering::PipeIter KernelLowering::pipeIter(Value k, Value lb, Value st) {
  int64_t S = pipe_->stages;
  PipeIter p;
  p.it = arith::DivSIOp::create(b_, loc(), arith::SubIOp::create(b_, loc(), k, lb), st);
  p.git = globalIter(p.it);
  p.stage = arith::RemUIOp::create(b_, loc(), p.git, cIndex(S));
  p.phase = arith::AndIOp::create(b_, loc(), arith::DivUIOp::create(b_, loc(), p.git, cIndex(S)),
                                  cIndex(1));
  return p;
}

Value KernelLowering::fullBarrier(Value stage) {
  return addI(cIndex(pipe_->barrierOffset), mulI(stage, cIndex(8)));
}

Value KernelLowering::emptyBarrier(Value stage) {
  return addI(cIndex(pipe_->barrierOffset + 8 * pipe_->stages), mulI(stage, cIndex(8)));
}

void KernelLowering::warpArrive(Value barrierOffset, bool stageRelease, Value when) {
  asmVoid({}, "bar.warp.sync 0xffffffff;", "~{memory}");
  Value cond = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, laneId(), cIndex(0));
  if (when)
    cond = arith::AndIOp::create(b_, loc(), cond, when);
  auto ifOp = scf::IfOp::create(b_, loc(), cond, false);
  OpBuilder::InsertionGuard g(b_);
  b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  if (stageRelease)
    releaseStage(barrierOffset);
  else
    arriveBarrier(barrierOffset);
}

// Every thread of every block of the cluster; also orders the barrier
// initialisation (fence.mbarrier_init) before remote use.
void KernelLowering::clusterSync() {
  asmVoid({}, "barrier.cluster.arrive.release.aligned;", "~{memory}");
  asmVoid({}, "barrier.cluster.wait.acquire.aligned;", "~{memory}");
}

LogicalResult KernelLowering::emitPipelined(tl::PipelinedOp op) {
  if (pipe_ && pipe_->op == op)
    return isTcgen05() ? emitTcgen05ConsumerLoop(op) : emitWarpSpecialisedLoop(op);
  // Any other pipelined loop runs as a plain loop.
  auto loop = scf::ForOp::create(b_, loc(), map_.lookupOrDefault(op.getLowerBound()),
                                 map_.lookupOrDefault(op.getUpperBound()),
                                 map_.lookupOrDefault(op.getStep()));
  map_.map(op.getInductionVar(), loop.getInductionVar());
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(loop.getBody()->getTerminator());
  return emitBlock(op.getBodyBlock());
}

LogicalResult KernelLowering::emitWarpSpecialisedLoop(tl::PipelinedOp op) {
  Value lb = map_.lookupOrDefault(op.getLowerBound());
  Value ub = map_.lookupOrDefault(op.getUpperBound());
  Value st = map_.lookupOrDefault(op.getStep());
  int64_t S = pipe_->stages;
  DenseSet<Operation *> producerOps;
  for (tl::CopyOp c : pipe_->tmaCopies)
    producerOps.insert(c);
  for (tl::CopyOp c : pipe_->producerCopies)
    producerOps.insert(c);
  // Defer the wgmma wait when the loop's only use of the accumulator is the
  // accumulating T.gemm itself.
  tl::GemmOp gemm;
  for (Operation &inner : op.getBodyBlock())
    if (auto g = dyn_cast<tl::GemmOp>(&inner))
      gemm = gemm ? tl::GemmOp() : g;
  deferWait_ = false;
  if (gemm && gemm.getClearAccum()) {
    // A fresh product per iteration consumed by the ops after the gemm (the
    // FP8 promotion): overlap those ops with the next iteration's wgmmas.
    SmallVector<Operation *> rest;
    bool seenGemm = false, ok = true;
    for (Operation &inner : op.getBodyBlock()) {
      if (isa<tl::YieldOp>(&inner) || producerOps.contains(&inner))
        continue;
      if (&inner == gemm.getOperation()) {
        seenGemm = true;
        continue;
      }
      // Pure index/scalar ops before the gemm are re-emitted with the rest;
      // any other work before it keeps the simple schedule.
      if (!seenGemm && !(isa<arith::ArithDialect, math::MathDialect>(inner.getDialect()) &&
                         isMemoryEffectFree(&inner)))
        ok = false;
      rest.push_back(&inner);
    }
    Value c = gemm.getC();
    for (Operation *user : c.getUsers())
      if (!op->isAncestor(user))
        ok = false;
    if (ok && !rest.empty())
      return emitOverlappedLoop(op, gemm, rest);
  }
  if (gemm && !gemm.getClearAccum()) {
    bool otherUse = false;
    for (Operation *user : gemm.getC().getUsers())
      if (user != gemm.getOperation() && op->isAncestor(user))
        otherUse = true;
    deferWait_ = !otherUse;
  }
  Value tripCount = arith::MaxSIOp::create(
      b_, loc(),
      arith::CeilDivSIOp::create(b_, loc(), arith::SubIOp::create(b_, loc(), ub, lb), st),
      cIndex(0));
  lastTripCount_ = tripCount;
  auto loop = scf::ForOp::create(b_, loc(), lb, ub, st);
  {
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPoint(loop.getBody()->getTerminator());
    map_.map(op.getInductionVar(), loop.getInductionVar());
    PipeIter pi = pipeIter(loop.getInductionVar(), lb, st);
    stage_ = pi.stage;
    waitBarrier(fullBarrier(pi.stage), pi.phase);
    for (Operation &inner : op.getBodyBlock()) {
      if (isa<tl::YieldOp>(&inner) || producerOps.contains(&inner))
        continue;
      if (failed(emitOp(&inner)))
        return failure();
    }
    // Release a stage: one arrival per consumer warp. With a deferred wait the
    // group of the previous iteration has just completed, so that stage.
    if (deferWait_)
      warpArrive(
          emptyBarrier(arith::RemUIOp::create(b_, loc(), addI(pi.git, cIndex(S - 1)), cIndex(S))),
          true, arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::sgt, pi.it, cIndex(0)));
    else
      warpArrive(emptyBarrier(pi.stage), true);
  }
  stage_ = Value();
  if (deferWait_) {
    wgmmaWait(frags_[gemm.getC()], 0);
    // The last iteration's stage is still held: release it for the next tile.
    Value lastStage =
        arith::RemUIOp::create(b_, loc(), addI(globalIter(tripCount), cIndex(S - 1)), cIndex(S));
    warpArrive(emptyBarrier(lastStage), true,
               arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::sgt, tripCount, cIndex(0)));
  }
  deferWait_ = false;
  return success();
}

// Software-pipelined consumer loop for `gemm` (clear_accum) followed by ops
// that read its product: iteration i issues its wgmmas into one of two
// product buffers, then waits for iteration i-1's group (wait_group 1) and
// runs the following ops on the other buffer, then releases i-1's stage. The
// loop is unrolled by two so each copy names its buffers statically.
LogicalResult KernelLowering::emitOverlappedLoop(tl::PipelinedOp op, tl::GemmOp gemm,
                                                 ArrayRef<Operation *> rest) {
  Value lb = map_.lookupOrDefault(op.getLowerBound());
  Value ub = map_.lookupOrDefault(op.getUpperBound());
  Value st = map_.lookupOrDefault(op.getStep());
  int64_t S = pipe_->stages;
  Value cBuf = gemm.getC();
  FragBuf p0 = frags_[cBuf];
  FragBuf p1 = p0;
  {
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPointToStart(allocaBlock_);
    p1.base = LLVM::AllocaOp::create(b_, loc(), LLVM::LLVMPointerType::get(ctx_), p0.storeType,
                                     cI64(p0.layout.slots()), 16);
  }
  // n = max(0, ceil((ub - lb) / st)) iterations (st > 0).
  Value span = arith::SubIOp::create(b_, loc(), ub, lb);
  Value n =
      arith::MaxSIOp::create(b_, loc(), arith::CeilDivSIOp::create(b_, loc(), span, st), cIndex(0));
  lastTripCount_ = n;
  auto issue = [&](Value it, const FragBuf &buf) -> LogicalResult {
    Value git = globalIter(it);
    stage_ = arith::RemUIOp::create(b_, loc(), git, cIndex(S));
    Value phase = arith::AndIOp::create(
        b_, loc(), arith::DivUIOp::create(b_, loc(), git, cIndex(S)), cIndex(1));
    waitBarrier(addI(cIndex(pipe_->barrierOffset), mulI(stage_, cIndex(8))), phase);
    map_.map(op.getInductionVar(), addI(lb, mulI(it, st)));
    frags_[cBuf] = buf;
    skipGemmWait_ = true;
    LogicalResult r = emitOp(gemm);
    skipGemmWait_ = false;
    frags_[cBuf] = p0;
    stage_ = Value();
    return r;
  };
  auto finish = [&](Value it, const FragBuf &buf, int64_t pending) -> LogicalResult {
    wgmmaWait(buf, pending);
    stage_ = arith::RemUIOp::create(b_, loc(), globalIter(it), cIndex(S));
    map_.map(op.getInductionVar(), addI(lb, mulI(it, st)));
    frags_[cBuf] = buf;
    for (Operation *o : rest)
      if (failed(emitOp(o)))
        return failure();
    frags_[cBuf] = p0;
    warpArrive(emptyBarrier(stage_), true);
    stage_ = Value();
    return success();
  };
  auto ifThen = [&](Value cond, auto &&body) -> LogicalResult {
    auto ifOp = scf::IfOp::create(b_, loc(), cond, false);
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    return body();
  };
  auto lt = [&](Value a, Value c) {
    return arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::slt, a, c);
  };
  // Iteration 0, then full pairs (1, 2), (3, 4), ... with no branch inside
  // the loop (a conditional half would merge in-flight accumulators through a
  // phi, which makes ptxas serialise the wgmmas), then the tail.
  // One region for n > 0 (two separate guards would leave ptxas a path with
  // a pending group reaching the epilogue, and it serialises every wgmma).
  return ifThen(lt(cIndex(0), n), [&]() -> LogicalResult {
    if (failed(issue(cIndex(0), p0)))
      return failure();
    Value pairs = arith::DivSIOp::create(b_, loc(), arith::SubIOp::create(b_, loc(), n, cIndex(1)),
                                         cIndex(2));
    auto loop = scf::ForOp::create(b_, loc(), cIndex(0), pairs, cIndex(1));
    {
      OpBuilder::InsertionGuard guard(b_);
      b_.setInsertionPoint(loop.getBody()->getTerminator());
      Value j = addI(mulI(loop.getInductionVar(), cIndex(2)), cIndex(1));
      Value jm1 = arith::SubIOp::create(b_, loc(), j, cIndex(1));
      Value jp1 = addI(j, cIndex(1));
      if (failed(issue(j, p1)) || failed(finish(jm1, p0, 1)) || failed(issue(jp1, p0)) ||
          failed(finish(j, p1, 1)))
        return failure();
    }
    // Issued so far: 0 .. 2*pairs (the last in p0); n even: one more in p1.
    Value lastP0 = mulI(pairs, cIndex(2));
    Value nEven = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq,
                                        arith::RemUIOp::create(b_, loc(), n, cIndex(2)), cIndex(0));
    auto ifOp = scf::IfOp::create(b_, loc(), nEven, true);
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    Value lastIt = addI(lastP0, cIndex(1));
    if (failed(issue(lastIt, p1)) || failed(finish(lastP0, p0, 1)) || failed(finish(lastIt, p1, 0)))
      return failure();
    b_.setInsertionPoint(ifOp.elseBlock()->getTerminator());
    return finish(lastP0, p0, 0);
  });
}

// Re-materialises a pure value of the launch body for the producer branch.
Value KernelLowering::cloneProducerValue(Value v, IRMapping &m) {
  if (Value r = m.lookupOrNull(v))
    return r;
  Operation *def = v.getDefiningOp();
  if (!def)
    return Value();
  if (auto dim = dyn_cast<memref::DimOp>(def)) {
    auto idx = getConstantIntValue(dim.getIndex());
    auto it = tensors_.find(dim.getSource());
    if (!idx || it == tensors_.end())
      return Value();
    m.map(v, it->second.dims[*idx]);
    return it->second.dims[*idx];
  }
  if (!isa<arith::ArithDialect>(def->getDialect()) || def->getNumRegions() != 0)
    return Value();
  for (Value operand : def->getOperands())
    if (!cloneProducerValue(operand, m))
      return Value();
  Operation *c = b_.clone(*def, m);
  return c->getResult(cast<OpResult>(v).getResultNumber());
}

LogicalResult KernelLowering::emitProducer() {
  PipelinePlan &plan = *pipe_;
  tl::PipelinedOp op = plan.op;
  IRMapping m;
  for (auto [orig, id] : llvm::zip(launch_.getBlockIds(), blockIds_))
    m.map(orig, id);
  auto need = [&](Value v) -> FailureOr<Value> {
    Value r = cloneProducerValue(v, m);
    if (!r)
      return op.emitError("the TMA producer needs a value that is not a pure index computation of "
                          "the block ids, sizes and loop variable");
    return r;
  };
  auto lb = need(op.getLowerBound());
  auto ub = need(op.getUpperBound());
  auto st = need(op.getStep());
  if (failed(lb) || failed(ub) || failed(st))
    return failure();
  Value lane = arith::RemUIOp::create(b_, loc(), tid_, cIndex(kWarpSize));
  Value isLane0 = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, lane, cIndex(0));
  lastTripCount_ = arith::MaxSIOp::create(
      b_, loc(),
      arith::CeilDivSIOp::create(b_, loc(), arith::SubIOp::create(b_, loc(), *ub, *lb), *st),
      cIndex(0));
  auto loop = scf::ForOp::create(b_, loc(), *lb, *ub, *st);
  OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(loop.getBody()->getTerminator());
  m.map(op.getInductionVar(), loop.getInductionVar());
  PipeIter pi = pipeIter(loop.getInductionVar(), *lb, *st);
  Value stage = pi.stage;
  Value emptyParity = arith::XOrIOp::create(b_, loc(), pi.phase, cIndex(1));
  Value fullBar = fullBarrier(stage);
  waitBarrier(emptyBarrier(stage), emptyParity);

  // Plain copies by the whole producer warp (e.g. per-row scales).
  Value savedStage = stage_;
  stage_ = stage;
  for (tl::CopyOp c : plan.producerCopies) {
    SmallVector<Value> srcOff;
    for (Value v : c.getSrcOffsets()) {
      auto r = need(v);
      if (failed(r))
        return failure();
      srcOff.push_back(*r);
    }
    SmallVector<int64_t> box;
    for (int64_t s : c.getDstSizes())
      if (s != 1)
        box.push_back(s);
    if (box.empty())
      box.push_back(1);
    int64_t n = numElements(box);
    auto inner = scf::ForOp::create(b_, loc(), lane, cIndex(n), cIndex(kWarpSize));
    OpBuilder::InsertionGuard g2(b_);
    b_.setInsertionPoint(inner.getBody()->getTerminator());
    SmallVector<Value> q(box.size());
    Value rem = inner.getInductionVar();
    for (int64_t d = box.size() - 1; d >= 0; --d) {
      q[d] = arith::RemUIOp::create(b_, loc(), rem, cIndex(box[d]));
      rem = arith::DivUIOp::create(b_, loc(), rem, cIndex(box[d]));
    }
    SmallVector<Value> sc = expandCoords(b_, loc(), srcOff, c.getSrcSizes(), q);
    SmallVector<Value> dc = expandCoords(b_, loc(), {}, c.getDstSizes(), q);
    const TensorArg &t = tensors_[c.getSrc()];
    Value ok;
    for (size_t d = 0; d < sc.size(); ++d) {
      Value lt = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ult, sc[d], t.dims[d]);
      ok = ok ? Value(arith::AndIOp::create(b_, loc(), ok, lt)) : lt;
    }
    Type se = cast<MemRefType>(c.getSrc().getType()).getElementType();
    Type de = cast<MemRefType>(c.getDst().getType()).getElementType();
    if (plan.asyncPlainCopies) {
      // cp.async with a source size of 0 for out-of-bounds elements (zero
      // fill); the source address is then the tensor's base, never read.
      int64_t bytes = storageBytes(se);
      Value lin = arith::SelectOp::create(b_, loc(), ok, globalLinear(t, sc), cIndex(0));
      Value src = LLVM::GEPOp::create(b_, loc(), LLVM::LLVMPointerType::get(ctx_, 1), se, t.ptr,
                                      ValueRange{toI64(lin)});
      Value srcAddr = LLVM::PtrToIntOp::create(b_, loc(), b_.getI64Type(), src);
      Value dstAddr = arith::AddIOp::create(
          b_, loc(), LLVM::PtrToIntOp::create(b_, loc(), b_.getI32Type(), sharedBase()),
          toI32(sharedByteOffset(c.getDst(), dc)));
      Value srcSize = arith::SelectOp::create(b_, loc(), ok, cI32(bytes), cI32(0));
      asmVoid({dstAddr, srcAddr, srcSize},
              llvm::formatv("cp.async.ca.shared.global [$0], [$1], {0}, $2;", bytes).str(),
              "r,l,r,~{memory}");
      continue;
    }
    auto ifOp = scf::IfOp::create(b_, loc(), TypeRange{registerType(se)}, ok, true);
    {
      OpBuilder::InsertionGuard g3(b_);
      b_.setInsertionPointToStart(ifOp.thenBlock());
      scf::YieldOp::create(b_, loc(), loadFromBuffer(c.getSrc(), sc));
      b_.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(b_, loc(), zeroOf(registerType(se)));
    }
    storeToBuffer(c.getDst(), dc, convert(ifOp.getResult(0), se, de));
  }
  stage_ = savedStage;
  // With plain copies every producer lane arrives on the full barrier (its
  // own stores released by its own arrival); lane 0 also announces the bytes.
  Value smem32 = LLVM::PtrToIntOp::create(b_, loc(), b_.getI32Type(), sharedBase());
  Value fullAddr = arith::AddIOp::create(b_, loc(), smem32, toI32(fullBar));
  if (plan.asyncPlainCopies) {
    // Every lane's barrier arrival fires when its cp.asyncs have landed.
    asmVoid({fullAddr}, "cp.async.mbarrier.arrive.noinc.shared::cta.b64 [$0];", "r,~{memory}");
  } else if (!plan.producerCopies.empty()) {
    // tcgen05.cp reads block scales through the async proxy.
    if (isTcgen05())
      asmVoid({}, "fence.proxy.async.shared::cta;", "~{memory}");
    auto others = scf::IfOp::create(
        b_, loc(), arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ne, lane, cIndex(0)),
        false);
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPoint(others.thenBlock()->getTerminator());
    arriveBarrier(fullBar);
  }
  auto ifOp = scf::IfOp::create(b_, loc(), isLane0, false);
  b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  if (pairM_) {
    // CTA pair: both blocks' loads complete on the leader's full barrier,
    // which expects both A tiles and the two halves of B.
    Value rank = clusterRank();
    Value leader = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, rank, cIndex(0));
    auto lead = scf::IfOp::create(b_, loc(), leader, false);
    {
      OpBuilder::InsertionGuard g(b_);
      b_.setInsertionPoint(lead.thenBlock()->getTerminator());
      int64_t bytes = 0;
      for (tl::CopyOp c : plan.tmaCopies) {
        auto t = cast<MemRefType>(c.getDst().getType());
        bytes += t.getNumElements() * storageBytes(t.getElementType()) *
                 (c.getDst() == wsGemm_.getB() ? 1 : 2);
      }
      asmVoid({fullAddr, cI32(bytes)}, "mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;",
              "r,r,~{memory}");
    }
    fullAddr = peerAddr(fullBar, 0);
  } else {
    asmVoid({fullAddr, cI32(plan.txBytes)},
            "mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r,~{memory}");
  }
  for (auto [i, c] : llvm::enumerate(plan.tmaCopies)) {
    const SharedBuf &s = shared_[c.getDst()];
    int64_t rows = s.type.getShape()[0], cols = s.type.getShape()[1];
    int64_t esz = storageBytes(s.type.getElementType());
    int64_t chunkCols = 128 / esz;
    SmallVector<Value> off;
    for (Value v : c.getSrcOffsets()) {
      auto r = need(v);
      if (failed(r))
        return failure();
      off.push_back(*r);
    }
    if (off.empty()) {
      off.push_back(cIndex(0));
      off.push_back(cIndex(0));
    }
    Value mapPtr =
        newFunc_.getArgument(newFunc_.getNumArguments() - info_.tma.size() + plan.tmaMapIndex[i]);
    Value mapAddr = LLVM::PtrToIntOp::create(b_, loc(), b_.getI64Type(), mapPtr);
    Value dstBase = addI(cIndex(s.offset), mulI(stage, cIndex(s.bytes)));
    if (plan.multicast[i]) {
      // This block's slice of rows, written at the same offset in every block
      // of the cluster and announced on each one's full barrier (the same
      // offset too). 8-row multiples keep the 128-byte swizzle phase.
      int64_t slice = rows / clusterX_;
      Value rank = clusterRank();
      dstBase = addI(dstBase, mulI(rank, cIndex(slice * 128)));
      Value row = toI32(addI(off[0], mulI(rank, cIndex(slice))));
      Value mask = arith::ConstantOp::create(b_, loc(), b_.getI16IntegerAttr((1 << clusterX_) - 1));
      for (int64_t ch = 0; ch < cols / chunkCols; ++ch) {
        Value dst =
            arith::AddIOp::create(b_, loc(), smem32, toI32(addI(dstBase, cIndex(ch * rows * 128))));
        Value col = toI32(addI(off[1], cIndex(ch * chunkCols)));
        asmVoid({dst, mapAddr, fullAddr, col, row, mask},
                "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes."
                "multicast::cluster [$0], [$1, {$3, $4}], [$2], $5;",
                "r,l,r,r,r,h,~{memory}");
      }
      continue;
    }
    Value row = toI32(off[0]);
    if (pairM_ && c.getDst() == wsGemm_.getB()) // this block's half of the B rows
      row = toI32(addI(off[0], mulI(clusterRank(), cIndex(rows / 2))));
    for (int64_t ch = 0; ch < cols / chunkCols; ++ch) {
      Value dst =
          arith::AddIOp::create(b_, loc(), smem32, toI32(addI(dstBase, cIndex(ch * rows * 128))));
      Value col = toI32(addI(off[1], cIndex(ch * chunkCols)));
      asmVoid({dst, mapAddr, fullAddr, col, row},
              llvm::formatv("cp.async.bulk.tensor.2d{0}.shared::cluster.global.mbarrier::"
                            "complete_tx::bytes [$0], [$1, {{$3, $4}], [$2];",
                            pairM_ ? ".cta_group::2" : "")
                  .str(),
              "r,l,r,r,r,~{memory}");
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

// Block ids of logical tile `linear` of the launch grid (x fastest). A 2-D
// grid is walked in groups of kGroup block rows so that concurrently resident
// blocks share A and B tiles in L2 (blocks are independent, so any bijection
// on the grid is allowed).
void KernelLowering::mapTile(Value linear) {
  auto grid = launch_.getGrid();
  SmallVector<Value> ids;
  if (grid.size() == 2) {
    constexpr int64_t kGroup = 8;
    // A cluster walks groups of clusterX_ adjacent x tiles (`linear` counts
    // those groups); the block's rank picks its tile in the group.
    Value gx = map_.lookupOrDefault(grid[0]);
    if (clusterX_ > 1 && !pairM_)
      gx = arith::CeilDivUIOp::create(b_, loc(), gx, cIndex(clusterX_));
    Value gy = map_.lookupOrDefault(grid[1]);
    if (pairM_) // CTA pairs walk groups of 2 M tiles
      gy = arith::CeilDivUIOp::create(b_, loc(), gy, cIndex(2));
    Value groupSize = mulI(gx, cIndex(kGroup));
    Value group = arith::DivUIOp::create(b_, loc(), linear, groupSize);
    Value inGroup = arith::RemUIOp::create(b_, loc(), linear, groupSize);
    Value firstY = mulI(group, cIndex(kGroup));
    Value rows = arith::MinUIOp::create(b_, loc(), arith::SubIOp::create(b_, loc(), gy, firstY),
                                        cIndex(kGroup));
    ids.push_back(arith::DivUIOp::create(b_, loc(), inGroup, rows));
    ids.push_back(addI(firstY, arith::RemUIOp::create(b_, loc(), inGroup, rows)));
    if (pairM_)
      ids[1] = addI(mulI(ids[1], cIndex(2)), clusterRank());
    else if (clusterX_ > 1)
      ids[0] = addI(mulI(ids[0], cIndex(clusterX_)), clusterRank());
  } else {
    Value rem = linear;
    for (size_t d = 0; d < grid.size(); ++d) {
      Value g = map_.lookupOrDefault(grid[d]);
      if (d + 1 == grid.size()) {
        ids.push_back(rem);
      } else {
        ids.push_back(arith::RemUIOp::create(b_, loc(), rem, g));
        rem = arith::DivUIOp::create(b_, loc(), rem, g);
      }
    }
  }
  blockIds_.assign(ids.begin(), ids.end());
  for (auto [i, arg] : llvm::enumerate(launch_.getBlockIds()))
    map_.map(arg, ids[i]);
}

LogicalResult KernelLowering::run() {
  tl::LaunchOp launch;
  int launches = 0;
  func_.walk([&](tl::LaunchOp l) {
    launch = l;
    ++launches;
  });
  if (launches != 1)
    return func_.emitError("a kernel needs exactly one T.Kernel launch");
  launch_ = launch;
  threads_ = launch.getThreads();
  if (threads_ % kWarpSize != 0)
    return launch.emitError("the GPU lowering needs a thread count that is a multiple of 32");
  if (launch.getCluster()) {
    auto c = *launch.getCluster();
    int64_t rest = 1;
    for (size_t i = 1; i < c.size(); ++i)
      rest *= c[i];
    bool pairY = c.size() >= 2 && c[0] == 1 && c[1] == 2 && (c.size() < 3 || c[2] == 1);
    if (pairY && isTcgen05() && launch.getGrid().size() == 2) {
      clusterX_ = 2;
      pairM_ = true;
    } else if (!c.empty() && c[0] > 1) {
      if (rest != 1 || (c[0] != 2 && c[0] != 4) || launch.getGrid().size() != 2)
        return launch.emitError()
               << "on " << options_.chip
               << " a thread-block cluster is (2, 1, 1) or (4, 1, 1) over a 2-D grid: the blocks "
                  "of a cluster share the operand tiles that do not depend on the x block id";
      clusterX_ = c[0];
    } else if (rest != 1) {
      return launch.emitError() << "on " << options_.chip
                                << " a thread-block cluster is (2, 1, 1) or (4, 1, 1)"
                                << (isTcgen05() ? ", or (1, 2, 1) for tcgen05 CTA pairs," : "")
                                << " so far";
    }
  }
  info_.name = func_.getName().str();
  if (failed(inferLayouts()) || failed(checkRegisterBudget()) || failed(planPipeline()) ||
      failed(planTensorMemory()) || failed(planSharedMemory()))
    return failure();
  totalThreads_ = warpSpecialised_ ? threads_ + kWarpgroup : threads_;
  if (clusterX_ > 1 && !warpSpecialised_)
    return launch.emitError("thread-block clusters need a warp-specialised GEMM pipeline (a "
                            "T.Pipelined loop copying global tiles into the operands of one "
                            "T.gemm), which this kernel does not have");

  // --- signature (docs/abi.md)
  auto ptr1 = LLVM::LLVMPointerType::get(ctx_, 1);
  auto ptr0 = LLVM::LLVMPointerType::get(ctx_);
  SmallVector<Type> params;
  struct ParamSlot {
    int64_t tlIndex;
    int64_t first;
  };
  SmallVector<ParamSlot> slots;
  auto argTypes = func_.getArgumentTypes();
  for (auto [i, t] : llvm::enumerate(argTypes)) {
    slots.push_back({(int64_t)i, (int64_t)params.size()});
    if (auto mt = dyn_cast<MemRefType>(t)) {
      params.push_back(ptr1);
      for (int64_t d : mt.getShape())
        if (ShapedType::isDynamic(d))
          params.push_back(b_.getI64Type());
    } else if (t.isInteger(1)) {
      params.push_back(b_.getI8Type());
    } else if (t.isIndex()) {
      params.push_back(b_.getI64Type());
    } else {
      params.push_back(t);
    }
  }
  if (pipe_) {
    for (auto [ci, c] : llvm::enumerate(pipe_->tmaCopies)) {
      auto arg = dyn_cast<BlockArgument>(c.getSrc());
      if (!arg || arg.getOwner() != &func_.getBody().front())
        return c.emitError("a TMA copy must read a kernel tensor parameter");
      auto dstT = cast<MemRefType>(c.getDst().getType());
      int64_t esz = storageBytes(dstT.getElementType());
      GpuTmaMap map;
      map.param = arg.getArgNumber();
      map.dtype = manifestDtypeName(dstT.getElementType());
      int64_t rowsPerLoad = dstT.getShape()[0] / (pipe_->multicast[ci] ? clusterX_ : 1);
      if (pairM_ && c.getDst() == wsGemm_.getB())
        rowsPerLoad /= 2; // each block of a CTA pair loads half of B
      map.box = {rowsPerLoad, 128 / esz};
      map.swizzle = "128B";
      // FP4 for tcgen05: packed in global memory, a byte per element in
      // shared memory (CU_TENSOR_MAP_DATA_TYPE_16U4_ALIGN16B).
      map.unpackFP4 = isFP4(dstT.getElementType());
      pipe_->tmaMapIndex.push_back(info_.tma.size());
      info_.tma.push_back(map);
      pipe_->txBytes += dstT.getShape()[0] * dstT.getShape()[1] * esz;
      params.push_back(ptr0);
    }
  }
  // Whole 2-D unswizzled shared tiles stored to a kernel tensor: TMA stores
  // (out-of-range parts of the box are not written, as tl.copy requires).
  launch_.walk([&](tl::CopyOp c) {
    auto arg = dyn_cast<BlockArgument>(c.getDst());
    if (!arg || arg.getOwner() != &func_.getBody().front() || !shared_.count(c.getSrc()))
      return;
    const SharedBuf &sb = shared_[c.getSrc()];
    auto dstT = cast<MemRefType>(c.getDst().getType());
    Type e = sb.type.getElementType();
    if (sb.swizzle128 || sb.stages > 1 || sb.type.getRank() != 2 || dstT.getRank() != 2 ||
        e != dstT.getElementType() || isFP4(e) || !c.getSrcOffsets().empty() ||
        c.getDstSizes() != sb.type.getShape() || sb.type.getShape()[0] > 256 ||
        sb.type.getShape()[1] > 256 || (sb.type.getShape()[1] * storageBytes(e)) % 16 != 0 ||
        sb.offset % 128 != 0)
      return;
    GpuTmaMap map;
    map.param = arg.getArgNumber();
    map.dtype = manifestDtypeName(e);
    map.box = {sb.type.getShape()[0], sb.type.getShape()[1]};
    map.swizzle = "none";
    tmaStores_[c] = info_.tma.size();
    info_.tma.push_back(map);
    params.push_back(ptr0);
  });
  b_.setInsertionPoint(func_);
  auto fnType = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx_), params);
  std::string name = func_.getName().str();
  std::string tmpName = "__tl_lowering_" + name;
  newFunc_ = LLVM::LLVMFuncOp::create(b_, func_.getLoc(), tmpName, fnType);
  newFunc_->setAttr("nvvm.kernel", b_.getUnitAttr());
  newFunc_->setAttr("nvvm.maxntid", b_.getDenseI32ArrayAttr({(int32_t)totalThreads_, 1, 1}));
  newFunc_->setAttr("nvvm.minctasm", b_.getI32IntegerAttr(1));
  int64_t firstTma = params.size() - info_.tma.size();
  for (int64_t i = firstTma; i < (int64_t)params.size(); ++i) {
    newFunc_.setArgAttr(i, "llvm.byval",
                        TypeAttr::get(LLVM::LLVMArrayType::get(b_.getI8Type(), 128)));
    newFunc_.setArgAttr(i, "llvm.align", b_.getI64IntegerAttr(64));
    newFunc_.setArgAttr(i, "nvvm.grid_constant", b_.getUnitAttr());
  }
  Block *entry = newFunc_.addEntryBlock(b_);
  allocaBlock_ = entry;
  b_.setInsertionPointToEnd(entry);
  loc_ = launch.getLoc();

  // --- arguments
  for (auto [i, t] : llvm::enumerate(argTypes)) {
    Value orig = func_.getArgument(i);
    int64_t p = slots[i].first;
    if (auto mt = dyn_cast<MemRefType>(t)) {
      TensorArg ta;
      ta.ptr = entry->getArgument(p++);
      ta.type = mt;
      ta.paramIndex = i;
      for (int64_t d : mt.getShape()) {
        if (ShapedType::isDynamic(d))
          ta.dims.push_back(
              arith::IndexCastOp::create(b_, loc(), b_.getIndexType(), entry->getArgument(p++)));
        else
          ta.dims.push_back(cIndex(d));
      }
      tensors_[orig] = ta;
    } else if (t.isInteger(1)) {
      map_.map(orig, arith::TruncIOp::create(b_, loc(), b_.getI1Type(), entry->getArgument(p)));
    } else if (t.isIndex()) {
      map_.map(orig,
               arith::IndexCastOp::create(b_, loc(), b_.getIndexType(), entry->getArgument(p)));
    } else {
      map_.map(orig, entry->getArgument(p));
    }
  }
  // Values computed before the launch (grid sizes etc.).
  for (Operation &op : func_.getBody().front()) {
    if (&op == launch.getOperation())
      break;
    if (failed(emitOp(&op)))
      return failure();
  }
  loc_ = launch.getLoc();
  Value tidRaw = arith::IndexCastOp::create(b_, loc(), b_.getIndexType(),
                                            NVVM::ThreadIdXOp::create(b_, loc(), b_.getI32Type()));
  tid_ = tidRaw;
  Value bids[3] = {
      arith::IndexCastOp::create(b_, loc(), b_.getIndexType(),
                                 NVVM::BlockIdXOp::create(b_, loc(), b_.getI32Type())),
      arith::IndexCastOp::create(b_, loc(), b_.getIndexType(),
                                 NVVM::BlockIdYOp::create(b_, loc(), b_.getI32Type())),
      arith::IndexCastOp::create(b_, loc(), b_.getIndexType(),
                                 NVVM::BlockIdZOp::create(b_, loc(), b_.getI32Type()))};
  if (!warpSpecialised_) {
    for (auto [i, arg] : llvm::enumerate(launch.getBlockIds())) {
      blockIds_.push_back(bids[i]);
      map_.map(arg, bids[i]);
    }
  }
  // Fragments: per-thread arrays.
  for (auto &[v, l] : layouts_) {
    FragBuf f;
    f.layout = l;
    f.type = cast<MemRefType>(v.getType());
    f.storeType = registerType(f.type.getElementType());
    f.base = LLVM::AllocaOp::create(b_, loc(), ptr0, f.storeType, cI64(l.slots()), 16);
    frags_[v] = f;
  }
  if (tmemColumns_ && !warpSpecialised_) {
    mmaPhase_ = LLVM::AllocaOp::create(b_, loc(), ptr0, b_.getI32Type(), cI64(1), 4);
    LLVM::StoreOp::create(b_, loc(), cI32(0), mmaPhase_);
  }

  // Persistent schedule: block b runs logical tiles b, b + nctaid, ...; the
  // pipeline's iteration count carries across tiles so stages and barrier
  // phases continue where the previous tile left them.
  Value totalTiles = cIndex(1);
  for (auto [d, g] : llvm::enumerate(launch.getGrid())) {
    Value extent = map_.lookupOrDefault(g);
    if ((d == 0 && clusterX_ > 1 && !pairM_) || (d == 1 && pairM_)) // tile groups of a cluster
      extent = arith::CeilDivUIOp::create(b_, loc(), extent, cIndex(clusterX_));
    totalTiles = mulI(totalTiles, extent);
  }
  Value nctaid = arith::IndexCastOp::create(b_, loc(), b_.getIndexType(),
                                            NVVM::GridDimXOp::create(b_, loc(), b_.getI32Type()));
  Value firstTile = bids[0];
  if (clusterX_ > 1) {
    auto special = [&](StringRef reg) {
      Value v = asmOp(b_.getI32Type(), {}, ("mov.u32 $0, " + reg + ";").str(), "=r");
      return arith::IndexCastOp::create(b_, loc(), b_.getIndexType(), v).getResult();
    };
    firstTile = special("%clusterid.x");
    nctaid = special("%nclusterid.x");
  }
  // `tidBase`: the first hardware thread of the role (its tid_ is relative).
  auto tileLoop = [&](int64_t tidBase, auto &&body) -> LogicalResult {
    // Carried: pipeline iterations of earlier tiles, and this block's tile count.
    auto loop = scf::ForOp::create(b_, loc(), firstTile, totalTiles, nctaid,
                                   ValueRange{cIndex(0), cIndex(0)});
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPointToEnd(loop.getBody());
    mapTile(loop.getInductionVar());
    tileCount_ = loop.getRegionIterArgs()[1];
    iterBase_ = loop.getRegionIterArgs()[0];
    // sm_100a: re-read the thread index in every tile (a volatile read LLVM
    // cannot hoist), so the tile-invariant per-slot addresses and bounds of
    // the epilogue are not hoisted out of the tile loop and held in registers
    // across the whole pipeline.
    Value savedTid = tid_;
    if (isTcgen05()) {
      Value fresh = asmOp(b_.getI32Type(), {}, "mov.u32 $0, %tid.x;", "=r");
      tid_ = arith::SubIOp::create(b_, loc(),
                                   arith::IndexCastOp::create(b_, loc(), b_.getIndexType(), fresh),
                                   cIndex(tidBase));
    }
    llvm::scope_exit restoreTid([&] { tid_ = savedTid; });
    lastTripCount_ = Value();
    if (failed(body()))
      return failure();
    if (!lastTripCount_)
      return launch.emitError("internal error: persistent pipeline without a trip count");
    scf::YieldOp::create(b_, loc(),
                         ValueRange{addI(iterBase_, lastTripCount_), addI(tileCount_, cIndex(1))});
    iterBase_ = Value();
    return success();
  };
  // Registers per thread after setmaxnreg: the producer warpgroup gives up
  // what the consumers take, within the SM's 64K. On sm_100a the producer
  // warpgroup also runs the MMA warp (descriptors, scale copies), which
  // spills below about 80.
  int64_t producerRegs = isTcgen05() ? 80 : 40;
  int64_t consumerRegs = std::min<int64_t>(
      232, ((65536 - kWarpgroup * producerRegs) / std::max<int64_t>(threads_, 1)) / 8 * 8);
  if (warpSpecialised_) {
    // Barrier init by thread 0, then the role split.
    Value isT0 = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, tid_, cIndex(0));
    {
      auto ifOp = scf::IfOp::create(b_, loc(), isT0, false);
      OpBuilder::InsertionGuard g(b_);
      b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      Value smem32 = LLVM::PtrToIntOp::create(b_, loc(), b_.getI32Type(), sharedBase());
      int64_t S = pipe_->stages;
      for (int64_t s = 0; s < 2 * S; ++s) {
        Value addr = arith::AddIOp::create(b_, loc(), smem32, cI32(pipe_->barrierOffset + 8 * s));
        int64_t full = pipe_->asyncPlainCopies         ? kWarpSize + 1
                       : pipe_->producerCopies.empty() ? 1
                                                       : kWarpSize;
        // tcgen05: the MMA warp's commit frees a stage, plus one arrival per
        // consumer warp when the consumers also read it.
        int64_t emptyCount = !isTcgen05()       ? threads_ / kWarpSize
                             : consumersInLoop_ ? threads_ / kWarpSize + 1
                                                : 1;
        // Multicast stages hear from every block's consumers; a CTA pair's
        // from the leader's MMA commit, multicast to both blocks.
        int64_t count = s < S ? full : pairM_ ? emptyCount : emptyCount * clusterX_;
        asmVoid({addr, cI32(count)}, "mbarrier.init.shared::cta.b64 [$0], $1;", "r,r,~{memory}");
      }
      if (tmemColumns_) {
        // accFull (one tcgen05.commit) and accEmpty (one arrival per consumer warp).
        int64_t R = tmem_[wsGemm_.getC()].ring;
        for (int64_t s = 0; s < 2 * R; ++s)
          asmVoid({smemAddr32(mmaBarOffset_ + 8 * s),
                   cI32(s < R ? 1 : threads_ / kWarpSize * (pairM_ ? 2 : 1))},
                  "mbarrier.init.shared::cta.b64 [$0], $1;", "r,r,~{memory}");
      }
      asmVoid({}, "fence.mbarrier_init.release.cluster;", "~{memory}");
      asmVoid({}, "fence.proxy.async.shared::cta;", "~{memory}");
    }
    if (tmemColumns_)
      emitTmemAlloc();
    if (clusterX_ > 1)
      clusterSync(); // the peers' barriers are initialised before any multicast
    else
      asmVoid({}, "bar.sync 0;", "~{memory}");
    if (tmemColumns_) {
      asmVoid({}, "tcgen05.fence::after_thread_sync;", "~{memory}");
      tmemBase_ = LLVM::LoadOp::create(b_, loc(), b_.getI32Type(), sharedPtr(cIndex(tmemSlot_)));
    }
    Value isProducer =
        arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::uge, tid_, cIndex(threads_));
    auto roles = scf::IfOp::create(b_, loc(), isProducer, true);
    {
      OpBuilder::InsertionGuard g(b_);
      b_.setInsertionPoint(roles.thenBlock()->getTerminator());
      bool setmax = threads_ <= 2 * kWarpgroup;
      if (setmax)
        asmVoid({}, llvm::formatv("setmaxnreg.dec.sync.aligned.u32 {0};", producerRegs).str(),
                "~{memory}");
      Value local = arith::SubIOp::create(b_, loc(), tid_, cIndex(threads_));
      Value isFirstWarp =
          arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ult, local, cIndex(kWarpSize));
      auto w = scf::IfOp::create(b_, loc(), isFirstWarp, isTcgen05());
      b_.setInsertionPoint(w.thenBlock()->getTerminator());
      Value saved = tid_;
      tid_ = local;
      if (failed(tileLoop(threads_, [&] { return emitProducer(); })))
        return failure();
      if (isTcgen05()) {
        // The second warp of the extra warpgroup issues the tcgen05 MMAs.
        b_.setInsertionPoint(w.elseBlock()->getTerminator());
        Value isMmaWarp = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::ult, local,
                                                cIndex(2 * kWarpSize));
        auto mw = scf::IfOp::create(b_, loc(), isMmaWarp, false);
        b_.setInsertionPoint(mw.thenBlock()->getTerminator());
        tid_ = arith::SubIOp::create(b_, loc(), local, cIndex(kWarpSize));
        if (failed(tileLoop(threads_ + kWarpSize, [&] { return emitMmaIssuer(); })))
          return failure();
      }
      tid_ = saved;
    }
    OpBuilder::InsertionGuard g(b_);
    b_.setInsertionPoint(roles.elseBlock()->getTerminator());
    if (threads_ <= 2 * kWarpgroup)
      asmVoid({}, llvm::formatv("setmaxnreg.inc.sync.aligned.u32 {0};", consumerRegs).str(),
              "~{memory}");
    if (failed(tileLoop(0, [&] { return emitBlock(launch.getBodyBlock()); })))
      return failure();
  } else {
    if (tmemColumns_) {
      Value isT0 = arith::CmpIOp::create(b_, loc(), arith::CmpIPredicate::eq, tid_, cIndex(0));
      {
        auto ifOp = scf::IfOp::create(b_, loc(), isT0, false);
        OpBuilder::InsertionGuard g(b_);
        b_.setInsertionPoint(ifOp.thenBlock()->getTerminator());
        asmVoid({smemAddr32(mmaBarOffset_), cI32(1)}, "mbarrier.init.shared::cta.b64 [$0], $1;",
                "r,r,~{memory}");
        asmVoid({}, "fence.mbarrier_init.release.cluster;", "~{memory}");
      }
      emitTmemAlloc();
      asmVoid({}, "bar.sync 0;", "~{memory}");
      asmVoid({}, "tcgen05.fence::after_thread_sync;", "~{memory}");
      tmemBase_ = LLVM::LoadOp::create(b_, loc(), b_.getI32Type(), sharedPtr(cIndex(tmemSlot_)));
    }
    if (failed(emitBlock(launch.getBodyBlock())))
      return failure();
  }
  b_.setInsertionPointToEnd(entry);
  if (tmemColumns_)
    emitTmemDealloc(); // after a cluster barrier when there is a cluster
  else if (clusterX_ > 1)
    clusterSync(); // no block leaves while a peer may still signal its barriers
  LLVM::ReturnOp::create(b_, loc(), ValueRange{});

  info_.threads = totalThreads_;
  // Persistent launches are 1-D: a cluster's blocks are adjacent along x
  // whatever tiles they take (a CTA pair takes two M tiles).
  info_.cluster = {clusterX_, 1, 1};
  info_.sharedBytes = sharedTop_;
  info_.warpSpecialized = warpSpecialised_;
  info_.persistent = warpSpecialised_;
  return success();
}

} // namespace nvgpu

using nvgpu::KernelLowering;

LogicalResult lowerTlKernelsToNVVMLegacy(ModuleOp module, const GpuTargetOptions &options,
                                         std::vector<GpuKernelInfo> &kernels) {
  MLIRContext *ctx = module.getContext();
  ctx->loadDialect<LLVM::LLVMDialect, NVVM::NVVMDialect, scf::SCFDialect, arith::ArithDialect,
                   math::MathDialect>();
  SmallVector<func::FuncOp> funcs;
  for (auto f : module.getOps<func::FuncOp>())
    if (f->hasAttr("tl.kernel"))
      funcs.push_back(f);
  bool ok = true;
  for (func::FuncOp f : funcs) {
    GpuKernelInfo info;
    KernelLowering lowering(f, options, info);
    if (failed(lowering.run())) {
      ok = false;
      continue;
    }
    kernels.push_back(info);
  }
  if (!ok)
    return failure();
  // Swap the new functions in under the kernel names.
  OpBuilder b(ctx);
  b.setInsertionPointToStart(module.getBody());
  LLVM::GlobalOp::create(b, module.getLoc(), LLVM::LLVMArrayType::get(b.getI8Type(), 0),
                         /*isConstant=*/false, LLVM::Linkage::External, "__tl_smem", Attribute(),
                         /*alignment=*/1024, /*addrSpace=*/3);
  for (func::FuncOp f : funcs) {
    std::string name = f.getName().str();
    f.erase();
    module.lookupSymbol<LLVM::LLVMFuncOp>("__tl_lowering_" + name).setSymName(name);
  }
  return success();
}

namespace {

// `tl-opt --tl-lower-to-nvvm[=chip=sm_90a]`: the same lowering as tlc's GPU
// path, stopping at the LLVM dialect (before PTX).
struct TlLowerToNVVMPass : public PassWrapper<TlLowerToNVVMPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TlLowerToNVVMPass)

  TlLowerToNVVMPass() = default;
  TlLowerToNVVMPass(const TlLowerToNVVMPass &other) : PassWrapper(other) {}

  StringRef getArgument() const final { return "tl-lower-to-nvvm-legacy"; }
  StringRef getDescription() const final {
    return "Lower tl kernels to LLVM-dialect GPU kernels (inline PTX for TMA, mbarrier, wgmma)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<LLVM::LLVMDialect, NVVM::NVVMDialect, scf::SCFDialect, arith::ArithDialect,
                    math::MathDialect>();
  }
  void runOnOperation() override {
    GpuTargetOptions options;
    options.chip = chip;
    std::vector<GpuKernelInfo> kernels;
    if (failed(lowerTlKernelsToNVVMLegacy(getOperation(), options, kernels)))
      signalPassFailure();
  }

  Option<std::string> chip{*this, "chip", llvm::cl::desc("sm_90a or sm_100a"),
                           llvm::cl::init("sm_90a")};
};

} // namespace

void registerTlToHopperPasses() { PassRegistration<TlLowerToNVVMPass>(); }

} // namespace tlc
