// tl-pipeline-mma: keep MMAs in flight across iterations of a pipelined
// loop instead of waiting for each one.
//
// An accumulating T.gemm whose accumulator nothing else in the loop touches
// (a GEMM's main loop) is issued asynchronously; the wait that follows it
// lets one group stay in flight (tl.mma_wait pending(1)), so the MMAs of
// iteration i overlap the wait for iteration i+1's tiles. The stage the
// MMA read is released one iteration later, when its group is known to be
// done; after the loop, a wait for the last group and the release of the
// last stage. Runs after tl-pipeline, on the consumer side.
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

struct PipelineMma : public tl::impl::TlPipelineMmaBase<PipelineMma> {
  using TlPipelineMmaBase::TlPipelineMmaBase;

  void runOnOperation() override {
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
        // The accumulator must be the gemm's alone inside the loop.
        bool alone = llvm::all_of(g.getC().getUsers(), [&](Operation *u) {
          return u == g.getOperation() || !loop->isAncestor(u);
        });
        if (alone)
          deferAccumulatingGemm(loop, g, cnt);
      }
    }
  }
};

} // namespace
