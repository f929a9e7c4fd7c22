// tl-distribute-parallel: every tl.parallel becomes the code each thread
// runs for the points its layout gives it, and element accesses to register
// buffers become accesses to register slots.
//
// For a loop with layout L, register slot s of a thread covers the point
// L(s, lane, warp): the body is emitted once per slot with the induction
// variables replaced by those coordinates (index arithmetic on the thread
// index). Points past the loop's extents (layouts are padded to powers of
// two) are skipped when no thread has them and guarded when some do. Where
// L replicates points over lanes or warps, stores to shared or global
// memory and atomics run in the first replica only (the whole body does,
// when it writes no register buffer).
//
// Register buffers are accessed by slot: a buffer indexed by all the loop
// variables in L's layout uses slot s; one indexed by some of them (a row
// statistic) uses the slot of its layout that holds the projected point in
// the same thread, fixed per s (tl-infer-layouts made sure one exists),
// plus, for dimensions indexed by anything else (a serial loop's variable),
// which each thread holds whole, that index shifted to their slot bits (such
// loops are marked tl.unroll when small, so slots end up constants); a
// replicated buffer (every thread holds all of it) uses the row-major slot
// of its indices, computed at run time when they are.
#include "tl/IR/TlOps.h"
#include "tl/Transforms/LayoutEmitter.h"
#include "tl/Transforms/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLDISTRIBUTEPARALLEL
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

bool isRegisterBuffer(Value v) {
  auto s = getMemScope(v.getType());
  return s == MemScope::Fragment || s == MemScope::Local || s == MemScope::Tmem;
}

bool isReplicated(const LinearLayout &l) {
  for (LinearLayout::InDim d : {LinearLayout::Lane, LinearLayout::Warp})
    for (const LinearLayout::Coords &b : l.getBases(d))
      if (llvm::any_of(b, [](int64_t x) { return x != 0; }))
        return false;
  return true;
}

Value cIndex(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Row-major slot of `indices` in a replicated buffer (its register bits
/// are the flattened bits of the padded shape, last dimension lowest).
Value replicatedSlot(OpBuilder &b, Location loc, MemRefType type, ValueRange indices) {
  SmallVector<int64_t> padded = LinearLayout::padShape(type.getShape());
  Value slot;
  for (auto [d, idx] : llvm::enumerate(indices)) {
    slot = slot ? Value(arith::AddIOp::create(
                      b, loc, arith::MulIOp::create(b, loc, slot, cIndex(b, loc, padded[d])), idx))
                : idx;
  }
  return slot ? slot : cIndex(b, loc, 0);
}

/// How one element access inside a loop resolves to a slot.
struct Resolution {
  enum Kind { SameSlot, Projected, Replicated } kind = Replicated;
  // Projected: the loop dimensions used as indices and the buffer dimension
  // each indexes; every other buffer dimension p is held whole by each
  // thread, its index i adding i << shift[p] to the slot.
  SmallVector<unsigned> kept, at;
  SmallVector<int64_t> shift; // per buffer dimension; -1 for those in `at`
};

struct Distributor {
  ParallelOp par;
  LinearLayout layout;
  DenseMap<Operation *, Resolution> access;

  LogicalResult classify() {
    auto ivs = par.getInductionVars();
    WalkResult r = par.getBody().walk([&](Operation *op) -> WalkResult {
      Value buf;
      ValueRange idx;
      if (auto ld = dyn_cast<memref::LoadOp>(op)) {
        buf = ld.getMemRef();
        idx = ld.getIndices();
      } else if (auto st = dyn_cast<memref::StoreOp>(op)) {
        buf = st.getMemRef();
        idx = st.getIndices();
      } else {
        return WalkResult::advance();
      }
      if (!isRegisterBuffer(buf))
        return WalkResult::advance();
      auto type = cast<MemRefType>(buf.getType());
      std::optional<LinearLayout> bl = getBufferLayout(type);
      if (!bl)
        return op->emitError("register buffer without a layout (run tl-infer-layouts first)");
      Resolution res;
      // Loop variables in increasing order index buffer dimensions of their
      // extent; anything else is an index into a dimension held whole.
      if (op->getParentOfType<ParallelOp>() == par) {
        LoopIndexing li = matchLoopIndices(idx, type.getShape(), ivs, par.getExtents());
        res.kept = li.kept;
        res.at = li.at;
      }
      bool whole = res.kept.size() == idx.size();
      if (whole && res.kept.size() == ivs.size() && *bl == layout) {
        res.kind = Resolution::SameSlot;
      } else if (!res.kept.empty() && isCompatible(res, *bl)) {
        res.kind = Resolution::Projected;
      } else if (isReplicated(*bl)) {
        res.kind = Resolution::Replicated;
      } else {
        return op->emitError("this element access does not line up with the layout of the "
                             "T.Parallel loop around it (internal: tl-infer-layouts should have "
                             "inserted a layout conversion)");
      }
      access[op] = res;
      return WalkResult::advance();
    });
    return failure(r.wasInterrupted());
  }

  /// Whether `buf` holds, in the thread that runs each loop point, the
  /// elements `res` indexes there; fills res.shift (alignAlongLoop).
  bool isCompatible(Resolution &res, const LinearLayout &buf) {
    std::optional<SmallVector<int64_t>> shift = alignAlongLoop(layout, res.kept, res.at, buf);
    if (!shift)
      return false;
    res.shift = std::move(*shift);
    return true;
  }

  /// Slot of `buf` accessed by original op `orig` (cloned as `clone`) for
  /// driver slot `s`.
  Value slotFor(OpBuilder &b, Location loc, Operation *orig, Value buf, ValueRange cloneIdx,
                int64_t s) {
    const Resolution &res = access[orig];
    auto type = cast<MemRefType>(buf.getType());
    switch (res.kind) {
    case Resolution::SameSlot:
      return cIndex(b, loc, s);
    case Resolution::Projected: {
      LinearLayout::Coords full = layout.apply(LinearLayout::Register, s);
      LinearLayout::Coords proj(type.getRank(), 0);
      for (auto [k, p] : llvm::zip(res.kept, res.at))
        proj[p] = full[k];
      Value slot = cIndex(b, loc, *getBufferLayout(type)->solveRegister(proj));
      for (auto [p, shift] : llvm::enumerate(res.shift)) {
        if (shift < 0)
          continue;
        Value i = cloneIdx[p];
        if (shift)
          i = arith::ShLIOp::create(b, loc, i, cIndex(b, loc, shift));
        slot = arith::AddIOp::create(b, loc, slot, i);
      }
      return slot;
    }
    case Resolution::Replicated:
      return replicatedSlot(b, loc, type, cloneIdx);
    }
    return Value();
  }

  LogicalResult run();
};

/// Wraps `op` (no results) in scf.if(cond).
void guard(OpBuilder &b, Operation *op, Value cond) {
  b.setInsertionPoint(op);
  auto ifOp = scf::IfOp::create(b, op->getLoc(), cond, /*withElse=*/false);
  op->moveBefore(ifOp.thenBlock()->getTerminator());
}

bool writesMemory(Operation *op) {
  if (auto st = dyn_cast<memref::StoreOp>(op))
    return !isRegisterBuffer(st.getMemRef());
  if (auto at = dyn_cast<AtomicAddOp>(op))
    return !at.getPrev();
  return false;
}

/// Whether every effect of the loop's body is a write to shared or global
/// memory (no register buffer written, no atomic whose old value is used):
/// replicas other than the first then have nothing to do.
bool onlyMemoryEffects(ParallelOp par) {
  bool registers = false;
  par.getBody().walk([&](Operation *op) {
    if (auto st = dyn_cast<memref::StoreOp>(op))
      registers |= isRegisterBuffer(st.getMemRef());
    else if (auto at = dyn_cast<AtomicAddOp>(op))
      registers |= bool(at.getPrev());
  });
  return !registers;
}

/// Whether the loop stores to (or atomically updates) shared memory.
bool writesShared(ParallelOp par) {
  bool w = false;
  par.getBody().walk([&](Operation *op) {
    Value buf;
    if (auto st = dyn_cast<memref::StoreOp>(op))
      buf = st.getMemRef();
    else if (auto at = dyn_cast<AtomicAddOp>(op))
      buf = at.getDst();
    w |= buf && getMemScope(buf.getType()) == MemScope::Shared;
  });
  return w;
}

/// Serial loops inside the distributed copies `roots` of a loop body
/// whose variable reaches a register-slot index: slots must be constants
/// for the buffer to stay in registers, so small ones are marked for
/// tl-unroll.
void markSlotLoops(ArrayRef<Operation *> roots) {
  constexpr int64_t kMaxAutoUnroll = 4096; // operations after unrolling
  for (Operation *root : roots)
    root->walk([&](Operation *op) {
      Value slot;
      if (auto ld = dyn_cast<SlotLoadOp>(op))
        slot = ld.getSlot();
      else if (auto st = dyn_cast<SlotStoreOp>(op))
        slot = st.getSlot();
      if (!slot || getConstantIntValue(slot))
        return;
      for (Operation *p = op->getParentOp(); p && root->isAncestor(p); p = p->getParentOp()) {
        auto f = dyn_cast<scf::ForOp>(p);
        if (!f)
          continue;
        std::optional<APInt> trip = f.getStaticTripCount();
        int64_t body = 0;
        f.getBody()->walk([&](Operation *) { ++body; });
        if (trip && trip->getSExtValue() * body <= kMaxAutoUnroll)
          f->setAttr(kUnrollAttrName, UnitAttr::get(f.getContext()));
      }
    });
}

LogicalResult Distributor::run() {
  if (failed(classify()))
    return failure();
  Location loc = par.getLoc();
  OpBuilder b(par);
  // A loop that writes shared memory waits for the threads still reading
  // what it overwrites, and its results for every thread that reads them.
  if (writesShared(par)) {
    SyncThreadsOp::create(b, loc);
    OpBuilder after(par->getContext());
    after.setInsertionPointAfter(par);
    SyncThreadsOp::create(after, loc);
  }
  Value tid = ThreadIdOp::create(b, loc, 0);
  HwIndex hw = emitHwIndex(b, loc, tid);
  Value leader = emitReplicaLeader(b, loc, layout, hw);
  // A replicated loop whose only effects are memory writes runs in its first
  // replica alone: the other replicas' loads would only race with the
  // first's stores (an in-place update of a shared tile) and feed nothing.
  // Otherwise every replica computes and only the first writes memory.
  const bool leaderOnly = leader && onlyMemoryEffects(par);
  ArrayRef<int64_t> extents = par.getExtents();
  SmallVector<Operation *> allCloned;
  for (int64_t s = 0; s < layout.getInSize(LinearLayout::Register); ++s) {
    LinearLayout::Coords regPart = layout.apply(LinearLayout::Register, s);
    int cls = classifySlot(layout, extents, regPart);
    if (cls == 1)
      continue;
    OpBuilder::InsertionGuard g(b);
    SmallVector<Value> coords = emitSlotCoords(b, loc, layout, s, hw);
    if (cls == 0) {
      Value valid;
      for (auto [d, c] : llvm::enumerate(coords)) {
        if (extents[d] == layout.getOutShape()[d])
          continue;
        Value lt = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, c,
                                         cIndex(b, loc, extents[d]));
        valid = valid ? Value(arith::AndIOp::create(b, loc, valid, lt)) : lt;
      }
      auto ifOp = scf::IfOp::create(b, loc, valid, /*withElse=*/false);
      b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    }
    if (leaderOnly) {
      auto ifOp = scf::IfOp::create(b, loc, leader, /*withElse=*/false);
      b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    }
    IRMapping map;
    for (auto [iv, c] : llvm::zip(par.getInductionVars(), coords))
      map.map(iv, c);
    SmallVector<Operation *> cloned;
    for (Operation &op : par.getBodyBlock().without_terminator())
      cloned.push_back(b.clone(op, map));
    // Only ops with regions can hold loops (loads and stores among the
    // clones are replaced below).
    for (Operation *c : cloned)
      if (c->getNumRegions())
        allCloned.push_back(c);
    if (leader && !leaderOnly) {
      SmallVector<Operation *> writers;
      for (Operation *c : cloned)
        c->walk([&](Operation *op) {
          if (writesMemory(op))
            writers.push_back(op);
        });
      for (Operation *w : writers)
        guard(b, w, leader);
    }
    // Element accesses of register buffers -> slot accesses.
    for (auto &[orig, res] : access) {
      Operation *clone = map.lookupOrNull(orig);
      if (!clone)
        continue;
      OpBuilder cb(clone);
      if (auto ld = dyn_cast<memref::LoadOp>(clone)) {
        Value slot = slotFor(cb, ld.getLoc(), orig, ld.getMemRef(), ld.getIndices(), s);
        Value v = SlotLoadOp::create(cb, ld.getLoc(), ld.getMemRef(), slot);
        ld.getResult().replaceAllUsesWith(v);
        ld.erase();
      } else if (auto st = dyn_cast<memref::StoreOp>(clone)) {
        Value slot = slotFor(cb, st.getLoc(), orig, st.getMemRef(), st.getIndices(), s);
        SlotStoreOp::create(cb, st.getLoc(), st.getValueToStore(), st.getMemRef(), slot);
        st.erase();
      }
    }
  }
  markSlotLoops(allCloned);
  par.erase();
  return success();
}

/// Element accesses of register buffers outside any loop: the buffer is
/// replicated, its slot the row-major index.
LogicalResult lowerStrayAccesses(Operation *root) {
  SmallVector<Operation *> ops;
  root->walk([&](Operation *op) {
    if (auto ld = dyn_cast<memref::LoadOp>(op); ld && isRegisterBuffer(ld.getMemRef()))
      ops.push_back(op);
    if (auto st = dyn_cast<memref::StoreOp>(op); st && isRegisterBuffer(st.getMemRef()))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    OpBuilder b(op);
    Value buf = isa<memref::LoadOp>(op) ? cast<memref::LoadOp>(op).getMemRef()
                                        : cast<memref::StoreOp>(op).getMemRef();
    auto type = cast<MemRefType>(buf.getType());
    std::optional<LinearLayout> l = getBufferLayout(type);
    if (!l)
      return op->emitError("register buffer without a layout (run tl-infer-layouts first)");
    if (!isReplicated(*l))
      return op->emitError("element access to a distributed register buffer outside a "
                           "T.Parallel loop (internal: tl-infer-layouts replicates such buffers)");
    if (auto ld = dyn_cast<memref::LoadOp>(op)) {
      Value v = SlotLoadOp::create(b, ld.getLoc(), buf,
                                   replicatedSlot(b, ld.getLoc(), type, ld.getIndices()));
      ld.getResult().replaceAllUsesWith(v);
      ld.erase();
    } else {
      auto st = cast<memref::StoreOp>(op);
      SlotStoreOp::create(b, st.getLoc(), st.getValueToStore(), buf,
                          replicatedSlot(b, st.getLoc(), type, st.getIndices()));
      st.erase();
    }
  }
  return success();
}

struct DistributeParallel : public tl::impl::TlDistributeParallelBase<DistributeParallel> {
  using TlDistributeParallelBase::TlDistributeParallelBase;

  void runOnOperation() override {
    // Innermost loops first (a loop inside a loop is unusual but legal).
    SmallVector<ParallelOp> loops;
    getOperation().walk<WalkOrder::PostOrder>([&](ParallelOp p) { loops.push_back(p); });
    for (ParallelOp p : loops) {
      if (!p.getLayout()) {
        p.emitError("T.Parallel loop without a layout (run tl-infer-layouts first)");
        return signalPassFailure();
      }
      Distributor d{p, p.getLayout()->getLayout(), {}};
      if (failed(d.run()))
        return signalPassFailure();
    }
    if (failed(lowerStrayAccesses(getOperation())))
      signalPassFailure();
  }
};

} // namespace
