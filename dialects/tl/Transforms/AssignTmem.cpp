// tl-assign-tmem (sm_100a): what tcgen05 keeps in tensor memory (TMEM)
// becomes explicit tl.alloc_tmem buffers and copies.
//
//  1. Accumulators. A T.gemm accumulator allocated as a fragment becomes a
//     tl.alloc_tmem of the same shape and layout (the tcgen05.ld 32x32b
//     layout tl-infer-layouts gave it, which says how registers see it). A
//     fill of it stays a fill of TMEM, and a copy of it to memory on its own
//     reads TMEM directly (the lowering streams it in column pieces). The
//     other uses between two MMAs that write it (T.Parallel loops,
//     reductions, copies to fragments) form a segment that works on a
//     register fragment of the same layout: copied from TMEM before the
//     segment and, where the segment writes it and the value is read again
//     (FlashAttention's rescale of O), back after it.
//  2. Register A operands (FlashAttention's P): tcgen05 reads A from shared
//     or tensor memory, so the fragment is copied to a TMEM buffer right
//     before the gemm.
//  3. Block scales: copied from their shared tile to TMEM right before the
//     gemm (tcgen05.cp). A stage of a pipeline ring goes to the same slot of
//     a TMEM ring: the copy of a later stage reuses a slot only after the
//     producer has refilled that stage, i.e. after the MMAs that read the
//     slot last completed (their commit released the stage).
//  4. Columns. Every TMEM buffer of the launch gets its first column
//     (`tl.offset`, in program order) and the launch the columns it
//     allocates (`tl.tmem_columns`, a power of two of at least 32); more
//     than the 512 of a block is an error that lists the buffers.
//
// Runs after tl-pipeline (the scale rings follow its stages) and before
// tl-pipeline-mma, which inserts the waits for the MMAs.
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLASSIGNTMEM
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

constexpr int64_t kTmemColumns = 512;

bool hasOperand(Operation *op, Value v) { return llvm::is_contained(op->getOperands(), v); }

bool usesInside(Operation *op, Value v) {
  bool found = false;
  op->walk([&](Operation *inner) {
    if (hasOperand(inner, v))
      found = true;
    return found ? WalkResult::interrupt() : WalkResult::advance();
  });
  return found;
}

/// The whole of `buf` is the destination region of `copy`.
bool coversDst(CopyOp copy, Value buf) {
  auto t = cast<MemRefType>(buf.getType());
  for (Value o : copy.getDstOffsets())
    if (getConstantIntValue(o) != std::optional<int64_t>(0))
      return false;
  return ArrayRef<int64_t>(copy.getDstSizes()) == t.getShape();
}

/// Uses of a TMEM accumulator the hardware or the lowering handles on TMEM
/// itself: the MMAs and fills.
bool isTmemUse(Operation *op, Value t) {
  if (isa<GemmOp>(op))
    return hasOperand(op, t);
  if (auto f = dyn_cast<FillOp>(op))
    return f.getDst() == t;
  return false;
}

bool containsTmemUse(Operation *op, Value t) {
  bool found = false;
  op->walk([&](Operation *inner) {
    if (inner != op && isTmemUse(inner, t))
      found = true;
  });
  return found;
}

bool writes(Operation *op, Value v) {
  bool w = false;
  op->walk([&](Operation *inner) {
    if (auto st = dyn_cast<memref::StoreOp>(inner))
      w |= st.getMemRef() == v;
    else if (auto c = dyn_cast<CopyOp>(inner))
      w |= c.getDst() == v;
    else if (auto f = dyn_cast<FillOp>(inner))
      w |= f.getDst() == v;
    else if (auto r = dyn_cast<ReduceOp>(inner))
      w |= r.getDst() == v;
    else if (auto t = dyn_cast<TopKOp>(inner))
      w |= t.getValues() == v || t.getIndices() == v;
    else if (auto a = dyn_cast<AtomicAddOp>(inner))
      w |= a.getDst() == v;
    else if (auto ss = dyn_cast<SlotStoreOp>(inner))
      w |= ss.getBuffer() == v;
  });
  return w;
}

enum class Access { None, Read, Overwrite };

/// How `op` first touches `t`: overwriting all of it (at `op` itself: a
/// clearing MMA, a fill, a whole copy into it) or anything else (a read, as
/// far as we know; a nested overwrite may not run).
Access firstAccess(Operation *op, Value t) {
  Access a = Access::None;
  op->walk<WalkOrder::PreOrder>([&](Operation *inner) {
    if (!hasOperand(inner, t))
      return WalkResult::advance();
    a = Access::Read;
    if (inner == op) {
      if (auto g = dyn_cast<GemmOp>(op); g && g.getC() == t && g.getClearAccum() &&
                                         g.getA() != t && g.getB() != t)
        a = Access::Overwrite;
      else if (auto f = dyn_cast<FillOp>(op); f && f.getDst() == t)
        a = Access::Overwrite;
      else if (auto c = dyn_cast<CopyOp>(op); c && c.getDst() == t && c.getSrc() != t &&
                                              coversDst(c, t))
        a = Access::Overwrite;
    }
    return WalkResult::interrupt();
  });
  return a;
}

/// Whether the value `t` holds after `op` may be read later.
bool liveAfter(Operation *op, Value t) {
  Block *block = op->getBlock();
  for (Operation *o = op->getNextNode(); o; o = o->getNextNode()) {
    Access a = firstAccess(o, t);
    if (a == Access::Read)
      return true;
    if (a == Access::Overwrite)
      return false;
  }
  Operation *parent = block->getParentOp();
  if (!parent || isa<LaunchOp>(parent))
    return false;
  // A loop body: the next iteration runs from the top of the body.
  if (isa<PipelinedOp, scf::ForOp, scf::WhileOp>(parent)) {
    for (Operation &o : *block) {
      if (&o == op)
        break;
      Access a = firstAccess(&o, t);
      if (a == Access::Read)
        return true;
      if (a == Access::Overwrite)
        break;
    }
  }
  return liveAfter(parent, t);
}

struct LaunchTmem {
  LaunchOp launch;

  LogicalResult run();
  FailureOr<Value> convertAccumulator(AllocFragmentOp frag);
  void segments(Block &block, Value t, Value &regs);
  void flush(SmallVectorImpl<Operation *> &seg, Value t, Value &regs);
  Value registerCopyOf(Value t);
  LogicalResult registerOperandA(GemmOp g, DenseMap<Value, Value> &copies);
  LogicalResult scales(GemmOp g);
  LogicalResult assignColumns();
};

Value LaunchTmem::registerCopyOf(Value t) {
  auto type = cast<MemRefType>(t.getType());
  OpBuilder b = OpBuilder::atBlockBegin(&launch.getBodyBlock());
  MemRefType rt = getScopedMemRefType(type.getShape(), type.getElementType(), MemScope::Fragment);
  if (std::optional<LinearLayout> l = getBufferLayout(type))
    rt = withBufferLayout(rt, *l);
  return AllocFragmentOp::create(b, t.getLoc(), rt).getResult();
}

/// Element-wise uses of `t` between the MMAs that write it work on a
/// register copy (`regs`, made on first need).
void LaunchTmem::flush(SmallVectorImpl<Operation *> &seg, Value t, Value &regs) {
  if (seg.empty())
    return;
  Operation *first = seg.front(), *last = seg.back();
  // A lone copy from or to TMEM is already the explicit form.
  if (seg.size() == 1)
    if (auto c = dyn_cast<CopyOp>(first); c && (c.getSrc() == t) != (c.getDst() == t)) {
      seg.clear();
      return;
    }
  if (!regs)
    regs = registerCopyOf(t);
  auto type = cast<MemRefType>(t.getType());
  bool written = llvm::any_of(seg, [&](Operation *op) { return writes(op, t); });
  // Does the segment read the value TMEM had (or only overwrite it)?
  bool reads = firstAccess(first, t) != Access::Overwrite;
  OpBuilder b(first);
  Location loc = first->getLoc();
  if (reads)
    CopyOp::create(b, loc, t, ValueRange{}, type.getShape(), regs, ValueRange{}, type.getShape(),
                   Value(), Value());
  bool back = written && liveAfter(last, t);
  for (Operation *op : seg)
    op->walk([&](Operation *inner) { inner->replaceUsesOfWith(t, regs); });
  if (back) {
    b.setInsertionPointAfter(last);
    CopyOp::create(b, loc, regs, ValueRange{}, type.getShape(), t, ValueRange{}, type.getShape(),
                   Value(), Value());
  }
  seg.clear();
}

void LaunchTmem::segments(Block &block, Value t, Value &regs) {
  SmallVector<Operation *> seg;
  SmallVector<Operation *> ops;
  for (Operation &op : block)
    ops.push_back(&op);
  for (Operation *op : ops) {
    if (isTmemUse(op, t)) {
      flush(seg, t, regs);
      continue;
    }
    if (containsTmemUse(op, t)) {
      flush(seg, t, regs);
      for (Region &r : op->getRegions())
        for (Block &inner : r)
          segments(inner, t, regs);
      continue;
    }
    if (usesInside(op, t))
      seg.push_back(op);
  }
  flush(seg, t, regs);
}

FailureOr<Value> LaunchTmem::convertAccumulator(AllocFragmentOp frag) {
  MemRefType type = frag.getType();
  if (!type.getElementType().isF32())
    return frag.emitError("on sm_100a a T.gemm accumulator is f32 (tcgen05 f16 accumulators are "
                          "not generated)");
  std::optional<LinearLayout> l = getBufferLayout(type);
  if (!l)
    return frag.emitError("a T.gemm accumulator without a layout (run tl-infer-layouts)");
  OpBuilder b(frag);
  MemRefType tt = withBufferLayout(
      getScopedMemRefType(type.getShape(), type.getElementType(), MemScope::Tmem), *l);
  Value t = AllocTmemOp::create(b, frag.getLoc(), tt).getResult();
  frag.getResult().replaceAllUsesWith(t);
  frag.erase();
  return t;
}

LogicalResult LaunchTmem::registerOperandA(GemmOp g, DenseMap<Value, Value> &copies) {
  Value a = g.getA();
  if (getMemScope(a.getType()) == MemScope::Shared || getMemScope(a.getType()) == MemScope::Tmem)
    return success();
  auto type = cast<MemRefType>(a.getType());
  std::optional<LinearLayout> l = getBufferLayout(type);
  if (!l)
    return g.emitError("a register A operand without a layout (run tl-infer-layouts)");
  unsigned bits = getElementBits(type.getElementType());
  if (bits != 8 && bits != 16)
    return g.emitError("tcgen05 reads a register A operand from tensor memory, packed: it must "
                       "be 16-bit (bf16, f16) or 8-bit (e4m3, e5m2)");
  Value &t = copies[a];
  if (!t) {
    OpBuilder ab = OpBuilder::atBlockBegin(&launch.getBodyBlock());
    MemRefType tt = withBufferLayout(
        getScopedMemRefType(type.getShape(), type.getElementType(), MemScope::Tmem), *l);
    t = AllocTmemOp::create(ab, g.getLoc(), tt).getResult();
  }
  OpBuilder b(g);
  CopyOp::create(b, g.getLoc(), a, ValueRange{}, type.getShape(), t, ValueRange{},
                 type.getShape(), Value(), Value());
  g.getAMutable().assign(t);
  return success();
}

LogicalResult LaunchTmem::scales(GemmOp g) {
  OpBuilder b(g);
  Location loc = g.getLoc();
  auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
  for (OpOperand *operand : {&g.getScaleAMutable()[0], &g.getScaleBMutable()[0]}) {
    Value s = operand->get();
    if (getMemScope(s.getType()) != MemScope::Shared)
      return g.emitError("on sm_100a block scales come from shared memory (tcgen05.cp copies "
                         "them to tensor memory)");
    auto type = cast<MemRefType>(s.getType());
    // A stage of a ring: the same slot of a TMEM ring.
    Value slot;
    int64_t slots = 1;
    if (auto view = s.getDefiningOp<ViewOp>()) {
      auto srcT = cast<MemRefType>(view.getSrc().getType());
      if (srcT.getRank() == 3 && view.getSizes()[0] == 1) {
        slot = view.getOffsets()[0];
        slots = srcT.getShape()[0];
      }
    }
    MemRefType whole = slot ? getScopedMemRefType({slots, type.getShape()[0], type.getShape()[1]},
                                                  type.getElementType(), MemScope::Tmem)
                            : getScopedMemRefType(type.getShape(), type.getElementType(),
                                                  MemScope::Tmem);
    Value t;
    {
      OpBuilder ab = OpBuilder::atBlockBegin(&launch.getBodyBlock());
      t = AllocTmemOp::create(ab, loc, whole).getResult();
    }
    if (failed(verify(t.getDefiningOp())))
      return failure();
    Value dst = t;
    if (slot)
      dst = ViewOp::create(b, loc, getScopedMemRefType(type.getShape(), type.getElementType(),
                                                       MemScope::Tmem),
                           t, ValueRange{slot, c(0), c(0)},
                           ArrayRef<int64_t>{1, type.getShape()[0], type.getShape()[1]})
                .getResult();
    CopyOp::create(b, loc, s, ValueRange{}, type.getShape(), dst, ValueRange{}, type.getShape(),
                   Value(), Value());
    operand->assign(dst);
  }
  return success();
}

LogicalResult LaunchTmem::assignColumns() {
  SmallVector<AllocTmemOp> bufs;
  launch.walk([&](AllocTmemOp a) { bufs.push_back(a); });
  if (bufs.empty())
    return success();
  int64_t top = 0;
  SmallVector<int64_t> cols;
  for (AllocTmemOp a : bufs) {
    MemRefType t = a.getType();
    int64_t n = getTmemColumns(t);
    // Tiles start on 32 columns (what one tcgen05.ld piece covers), scale
    // words on 4 (what one tcgen05.cp fills).
    int64_t align = isa<Float8E8M0FNUType>(t.getElementType()) ? 4 : 32;
    top = llvm::alignTo(top, align);
    a->setAttr(kOffsetAttrName, IntegerAttr::get(IntegerType::get(a.getContext(), 64), top));
    cols.push_back(n);
    top += n;
  }
  if (top > kTmemColumns) {
    auto describe = [](MemRefType t) {
      std::string d;
      llvm::raw_string_ostream os(d);
      llvm::interleave(t.getShape(), os, "x");
      os << "x" << t.getElementType();
      return d;
    };
    std::string list;
    for (auto [a, n] : llvm::zip(bufs, cols))
      list += (list.empty() ? "" : ", ") + describe(a.getType()) + ": " + std::to_string(n);
    InFlightDiagnostic diag = bufs.front().emitError()
                              << "tensor memory: this kernel needs " << top << " 32-bit columns ("
                              << list << "); sm_100a has " << kTmemColumns
                              << " per block; use a narrower tile (BN)";
    for (auto [a, n] : llvm::zip(bufs, cols))
      diag.attachNote(a.getLoc()) << "this buffer: " << n << " columns (" << describe(a.getType())
                                  << ")";
    return failure();
  }
  int64_t alloc = std::max<int64_t>(32, static_cast<int64_t>(llvm::PowerOf2Ceil(top)));
  launch->setAttr(kTmemColumnsAttrName,
                  IntegerAttr::get(IntegerType::get(launch.getContext(), 64), alloc));
  return success();
}

LogicalResult LaunchTmem::run() {
  SmallVector<GemmOp> gemms;
  launch.walk([&](GemmOp g) { gemms.push_back(g); });
  // 1. Accumulators (fragments, or T.alloc_tmem buffers already).
  llvm::SetVector<Value> accs;
  for (GemmOp g : gemms)
    accs.insert(g.getC());
  for (Value acc : accs) {
    Value t = acc;
    if (auto frag = acc.getDefiningOp<AllocFragmentOp>()) {
      FailureOr<Value> converted = convertAccumulator(frag);
      if (failed(converted))
        return failure();
      t = *converted;
    } else if (!acc.getDefiningOp<AllocTmemOp>()) {
      return emitError(acc.getLoc(), "on sm_100a a T.gemm accumulator must be a fragment or a "
                                     "T.alloc_tmem buffer of the kernel");
    }
    Value regs;
    segments(launch.getBodyBlock(), t, regs);
  }
  // 2. Register A operands, 3. block scales.
  DenseMap<Value, Value> copies;
  for (GemmOp g : gemms) {
    if (failed(registerOperandA(g, copies)))
      return failure();
    if (g.getScaleA() && failed(scales(g)))
      return failure();
  }
  // 4. Columns.
  return assignColumns();
}

struct AssignTmem : public tl::impl::TlAssignTmemBase<AssignTmem> {
  using TlAssignTmemBase::TlAssignTmemBase;

  void runOnOperation() override {
    getOperation().walk([&](LaunchOp launch) {
      LaunchTmem lt{launch};
      if (failed(lt.run()))
        signalPassFailure();
    });
  }
};

} // namespace
