// tl-pipeline-mma: keep MMAs in flight instead of waiting for each one.
//
// sm_90a (wgmma): an accumulating T.gemm whose accumulator nothing else in
// its pipelined loop touches (a GEMM's main loop) is issued asynchronously;
// the wait that follows it lets one group stay in flight (tl.mma_wait
// pending(1)), so the MMAs of iteration i overlap the wait for iteration
// i+1's tiles. The stage the MMA read is released one iteration later, when
// its group is known to be done; after the loop, a wait for the last group
// and the release of the last stage. Runs after tl-pipeline, on the
// consumer side.
//
// sm_100a (tcgen05): MMAs and copies from shared to tensor memory are
// issued by one thread and completed by the tensor core later; stages they
// read go back to the producer by tl.mma_commit (tl-pipeline). Every T.gemm
// becomes asynchronous, and a wait (tl.mma_wait on a barrier the issuing
// thread commits to, its phase from a per-thread count of waits) goes where
// threads next touch what the MMAs use while some may be in flight: before
// tensor memory is read or written from registers (or filled), before a
// shared buffer an MMA reads is written or released, and at the end of the
// launch. One wait covers every MMA issued before it (tcgen05.commit tracks
// all of the thread's earlier operations), so a pipelined accumulating loop
// waits once, after the loop. The other way round, an MMA must not
// overwrite tensor memory other threads are still reading: where threads
// have read it since the role last synchronised, a tl.sync_threads goes
// before the next MMA (which also keeps them within one phase of the wait
// barrier).
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLPIPELINEMMA
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

/// The running-count read at the top of a pipelined loop's body.
memref::LoadOp counterRead(PipelinedOp loop) {
  for (Operation &op : loop.getBodyBlock())
    if (auto ld = dyn_cast<memref::LoadOp>(&op); ld && op.hasAttr(kPipelineStateAttrName))
      return ld;
  return {};
}

/// The arrivals right after `g` (before any other MMA or wait) that release
/// a stage `g` reads.
SmallVector<BarrierArriveOp> releasesAfter(GemmOp g) {
  SmallVector<BarrierArriveOp> out;
  for (Operation *op = g->getNextNode(); op; op = op->getNextNode()) {
    if (auto a = dyn_cast<BarrierArriveOp>(op)) {
      out.push_back(a);
      continue;
    }
    if (isa<GemmOp, MmaWaitOp, BarrierWaitOp>(op))
      break;
  }
  return out;
}

void deferAccumulatingGemm(PipelinedOp loop, GemmOp g, memref::LoadOp cnt) {
  Location loc = g.getLoc();
  Value acc = g.getC();
  struct Release {
    Value barrier;
    bool perWarp;
    int64_t stages;
  };
  SmallVector<Release> releases;
  SmallVector<BarrierArriveOp> arrives = releasesAfter(g);
  for (BarrierArriveOp a : arrives)
    releases.push_back({a.getBarrier(), a.getPerWarp(),
                        cast<BarrierType>(a.getBarrier().getType()).getCount()});
  g.setAsync(true);
  OpBuilder b(loop.getContext());
  auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
  auto releasePrevious = [&](Value it, Value when) {
    auto ifOp = scf::IfOp::create(b, loc, when, /*withElse=*/false);
    OpBuilder ib = OpBuilder::atBlockTerminator(ifOp.thenBlock());
    for (const Release &r : releases) {
      Value prev = arith::RemUIOp::create(
          ib, loc, arith::AddIOp::create(ib, loc, it, arith::ConstantIndexOp::create(ib, loc, r.stages - 1)),
          arith::ConstantIndexOp::create(ib, loc, r.stages));
      BarrierArriveOp::create(ib, loc, r.barrier, prev, r.perWarp);
    }
  };
  // In the loop: the previous iteration's group is done once one is left.
  b.setInsertionPoint(arrives.empty() ? g->getNextNode() : arrives.front());
  MmaWaitOp::create(b, loc, b.getI64IntegerAttr(1), ValueRange{acc});
  if (!releases.empty()) {
    Value notFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                           loop.getInductionVar(), loop.getLowerBound());
    releasePrevious(arith::IndexCastOp::create(b, loc, b.getIndexType(), cnt.getResult()),
                    notFirst);
  }
  for (BarrierArriveOp a : arrives)
    a.erase();
  // After the loop: the last group, and the stage it read.
  b.setInsertionPointAfter(loop);
  MmaWaitOp::create(b, loc, b.getI64IntegerAttr(0), ValueRange{acc});
  if (releases.empty())
    return;
  Value ran = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, loop.getLowerBound(),
                                    loop.getUpperBound());
  Value end = memref::LoadOp::create(b, loc, cnt.getMemRef(), ValueRange{c(0)});
  releasePrevious(arith::IndexCastOp::create(b, loc, b.getIndexType(), end), ran);
}

/// The buffer a view (of a view ...) looks into.
Value rootOf(Value v) {
  while (auto view = v.getDefiningOp<ViewOp>())
    v = view.getSrc();
  return v;
}

/// Whether nothing in `loop` but barrier-tracked stage copies writes the
/// buffers `g` reads.
bool operandsStable(PipelinedOp loop, GemmOp g) {
  DenseSet<Value> reads;
  for (Value v : {g.getA(), g.getB()})
    reads.insert(rootOf(v));
  WalkResult r = loop.getBody().walk([&](Operation *op) {
    Value dst;
    if (auto c = dyn_cast<CopyOp>(op)) {
      if (c.getBarrier())
        return WalkResult::advance();
      dst = c.getDst();
    } else if (auto f = dyn_cast<FillOp>(op)) {
      dst = f.getDst();
    } else if (auto st = dyn_cast<memref::StoreOp>(op)) {
      dst = st.getMemRef();
    } else if (auto a = dyn_cast<AtomicAddOp>(op)) {
      dst = a.getDst();
    }
    return dst && reads.contains(rootOf(dst)) ? WalkResult::interrupt() : WalkResult::advance();
  });
  return !r.wasInterrupted();
}

/// Where the waits for tcgen05 operations go (see the file comment).
struct Tcgen05Sync {
  LaunchOp launch;
  DenseSet<Value> operands; // shared buffers the tensor core reads
  Value barrier, counter;

  static bool isTmem(Value v) { return getMemScope(v.getType()) == MemScope::Tmem; }

  /// An operation the tensor core performs asynchronously.
  static bool isTensorOp(Operation *op) {
    if (isa<GemmOp>(op))
      return true;
    auto c = dyn_cast<CopyOp>(op);
    return c && isTmem(c.getDst()) && getMemScope(c.getSrc().getType()) == MemScope::Shared;
  }

  bool writesOperand(Value buf) { return operands.contains(rootOf(buf)); }

  /// Whether `op` itself needs the tensor core's earlier operations done.
  bool needs(Operation *op) {
    if (op->hasAttr(kProducerAttrName))
      return false; // the producer's stage writes wait on their barriers
    if (isTensorOp(op))
      return false;
    if (auto c = dyn_cast<CopyOp>(op)) {
      if (c.getBarrier())
        return false;
      return isTmem(c.getSrc()) || isTmem(c.getDst()) || writesOperand(c.getDst());
    }
    if (auto f = dyn_cast<FillOp>(op))
      return isTmem(f.getDst()) || writesOperand(f.getDst());
    if (auto st = dyn_cast<memref::StoreOp>(op))
      return writesOperand(st.getMemRef());
    if (auto a = dyn_cast<AtomicAddOp>(op))
      return writesOperand(a.getDst());
    if (isa<BarrierArriveOp>(op))
      return true; // releases a stage some MMA may still read
    return llvm::any_of(op->getOperands(), [](Value v) { return isTmem(v); }) &&
           !isa<ViewOp>(op);
  }

  bool contains(Operation *op, function_ref<bool(Operation *)> pred) {
    bool found = false;
    op->walk([&](Operation *inner) {
      if (inner->hasAttr(kProducerAttrName))
        return WalkResult::skip();
      if (pred(inner))
        found = true;
      return found ? WalkResult::interrupt() : WalkResult::advance();
    });
    return found;
  }

  void insertWait(OpBuilder &b, Location loc) {
    if (!barrier) {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&launch.getBodyBlock());
      MLIRContext *ctx = launch.getContext();
      barrier = AllocBarrierOp::create(b, loc, BarrierType::get(ctx, 1), b.getI64IntegerAttr(1))
                    .getResult();
      auto i32 = b.getI32Type();
      MemRefType ct = withBufferLayout(getScopedMemRefType({1}, i32, MemScope::Local),
                                       LinearLayout::replicated({1}, launch.getThreads()));
      counter = AllocLocalOp::create(b, loc, ct, b.getIntegerAttr(i32, 0)).getResult();
    }
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value n = memref::LoadOp::create(b, loc, counter, ValueRange{c0});
    Value parity = arith::AndIOp::create(b, loc,
                                         arith::IndexCastOp::create(b, loc, b.getIndexType(), n),
                                         arith::ConstantIndexOp::create(b, loc, 1));
    MmaWaitOp::create(b, loc, b.getI64IntegerAttr(0), ValueRange{}, barrier, c0, parity);
    Value next = arith::AddIOp::create(b, loc, n,
                                       arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(1)));
    memref::StoreOp::create(b, loc, next, counter, ValueRange{c0});
  }

  /// Where the walk stands: some tensor-core operation may be in flight
  /// (`pending`); threads have read tensor memory since the role last
  /// synchronised (`touched`), so the issuing thread must not let an MMA
  /// overwrite it yet.
  struct State {
    bool pending = false, touched = false;
    State operator|(State o) const { return {pending || o.pending, touched || o.touched}; }
    bool operator==(const State &o) const {
      return pending == o.pending && touched == o.touched;
    }
  };

  /// A copy or fill by which threads write tensor memory: its lowering ends
  /// with the role's barrier.
  static bool storesTmem(Operation *op) {
    if (auto c = dyn_cast<CopyOp>(op))
      return isTmem(c.getDst()) && !isTensorOp(op);
    if (auto f = dyn_cast<FillOp>(op))
      return isTmem(f.getDst());
    return false;
  }
  static bool readsTmem(Operation *op) {
    auto c = dyn_cast<CopyOp>(op);
    return c && isTmem(c.getSrc());
  }

  /// Walks `block` from state `st`, inserting the waits and barriers when
  /// `insert`; returns the state at its end.
  State process(Block &block, State st, bool insert) {
    SmallVector<Operation *> ops;
    for (Operation &op : block)
      ops.push_back(&op);
    for (Operation *op : ops) {
      if (op->hasAttr(kProducerAttrName))
        continue;
      if (isa<SyncThreadsOp>(op)) {
        st.touched = false;
        continue;
      }
      if (isTensorOp(op)) {
        if (auto g = dyn_cast<GemmOp>(op); g && insert)
          g.setAsync(true);
        if (st.touched && insert) {
          OpBuilder b(op);
          SyncThreadsOp::create(b, op->getLoc());
        }
        st = {true, false};
        continue;
      }
      if (op->getNumRegions() && contains(op, isTensorOp)) {
        if (isa<PipelinedOp, scf::ForOp, scf::WhileOp>(op)) {
          // The body runs again from what its end left; it may also not run.
          Block &body = op->getRegion(0).front();
          State atEnd = process(body, st, false);
          atEnd = process(body, st | atEnd, false);
          atEnd = process(body, st | atEnd, insert);
          st = st | atEnd;
          continue;
        }
        State out;
        for (Region &r : op->getRegions())
          for (Block &b : r)
            out = out | process(b, st, insert);
        if (auto ifOp = dyn_cast<scf::IfOp>(op); ifOp && ifOp.getElseRegion().empty())
          out = out | st;
        st = out;
        continue;
      }
      bool nested = op->getNumRegions() > 0;
      bool need = nested ? contains(op, [&](Operation *o) { return needs(o); }) : needs(op);
      if (need && st.pending) {
        if (insert) {
          OpBuilder b(op);
          insertWait(b, op->getLoc());
        }
        st.pending = false;
      }
      if (!nested && storesTmem(op))
        st.touched = false;
      else if (nested ? contains(op, readsTmem) : readsTmem(op))
        st.touched = true;
    }
    return st;
  }

  void run() {
    launch.walk([&](Operation *op) {
      if (auto g = dyn_cast<GemmOp>(op)) {
        for (Value v : {g.getA(), g.getB()})
          if (getMemScope(v.getType()) == MemScope::Shared)
            operands.insert(rootOf(v));
      } else if (auto c = dyn_cast<CopyOp>(op); c && isTensorOp(op)) {
        operands.insert(rootOf(c.getSrc()));
      }
    });
    // The launch body may run again for the block's next tile
    // (tl-persistent): its start sees what its end leaves, less the wait
    // inserted there.
    Block &body = launch.getBodyBlock();
    State end = process(body, State{}, false);
    State start{false, end.touched};
    if (process(body, start, true).pending) {
      OpBuilder b(body.getTerminator());
      insertWait(b, launch.getLoc());
    }
  }
};

struct PipelineMma : public tl::impl::TlPipelineMmaBase<PipelineMma> {
  using TlPipelineMmaBase::TlPipelineMmaBase;

  void runOnOperation() override {
    if (chip == "sm_100a") {
      getOperation().walk([](LaunchOp launch) { Tcgen05Sync{launch}.run(); });
      return;
    }
    SmallVector<PipelinedOp> loops;
    getOperation().walk([&](PipelinedOp loop) { loops.push_back(loop); });
    for (PipelinedOp loop : loops) {
      memref::LoadOp cnt = counterRead(loop);
      if (!cnt)
        continue; // not pipelined by tl-pipeline
      SmallVector<GemmOp> gemms;
      for (Operation &op : loop.getBodyBlock())
        if (auto g = dyn_cast<GemmOp>(&op); g && !g.getClearAccum() && !g.getAsync())
          gemms.push_back(g);
      for (GemmOp g : gemms) {
        // The accumulator must be the gemm's alone inside the loop, and its
        // shared operands must change only through the pipeline's stages:
        // a copy without a barrier (one tl-pipeline could not stage, say a
        // 512-row tile past TMA's box limit) would overwrite a tile the MMA
        // left in flight still reads.
        bool alone = llvm::all_of(g.getC().getUsers(), [&](Operation *u) {
          return u == g.getOperation() || !loop->isAncestor(u);
        });
        if (alone && operandsStable(loop, g))
          deferAccumulatingGemm(loop, g, cnt);
      }
    }
  }
};

} // namespace
