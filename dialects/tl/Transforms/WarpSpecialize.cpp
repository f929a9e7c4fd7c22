// tl-warp-specialize: the stage-filling side of the pipelined loops
// (tl-pipeline's `tl.producer` ops) moves to a warpgroup of its own.
//
// The launch body becomes a tl.warp_specialize with two roles: the declared
// threads (consumers) run the body without the producer ops; an extra
// warpgroup (producer) runs, for each pipelined loop, a loop over the same
// iterations holding only those ops, with the values they need (copy
// offsets, loop bounds, even bounds read from tensors) recomputed there.
// Register budgets: the producer keeps few registers and gives the rest to
// the consumers (setmaxnreg), within the 64K of the SM. Buffers and
// barriers stay where they were, outside the roles, shared by both.
//
// A launch is left alone when a producer op needs a value only the
// consumers have (a register or shared-memory read), or when its threads are
// not whole warpgroups.
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLWARPSPECIALIZE
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

constexpr int64_t kWarpgroup = 128;

bool isProducer(Operation *op) { return op->hasAttr(kProducerAttrName); }

/// Whether the producer may recompute `op` (to get one of its results):
/// pure index arithmetic, tensor sizes, block ids, and reads of global
/// tensors.
bool recomputable(Operation *op) {
  if (isa<arith::ConstantOp, memref::DimOp, BlockIdOp, ElectOp, ViewOp>(op))
    return true;
  if (auto ld = dyn_cast<memref::LoadOp>(op))
    return getMemScope(ld.getMemRef().getType()) == MemScope::Global;
  if (isa<arith::ArithDialect>(op->getDialect()) && isMemoryEffectFree(op) &&
      op->getNumRegions() == 0)
    return true;
  return false;
}

struct Specializer {
  LaunchOp launch;
  int64_t producerRegs;

  /// Clones into `b` what `v` needs that the producer does not have yet.
  LogicalResult need(OpBuilder &b, Value v, IRMapping &map, Region &producer) {
    if (map.contains(v))
      return success();
    // Values defined outside the launch, and the launch's block ids, are
    // visible everywhere.
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (!launch->isAncestor(arg.getOwner()->getParentOp()) ||
          arg.getOwner() == &launch.getBodyBlock())
        return success();
      return failure(); // a loop variable the producer does not have: leave the launch alone
    }
    Operation *def = v.getDefiningOp();
    if (!launch->isAncestor(def))
      return success();
    if (isa<AllocSharedOp, AllocBarrierOp, AllocLocalOp>(def) &&
        def->getParentOp() == launch.getOperation())
      return success(); // shared between the roles (locals: one per thread)
    if (def->hasAttr(kPipelineStateAttrName)) {
      // The count read at the top of the loop: cloned there already.
      return map.contains(v) ? success() : failure();
    }
    if (!recomputable(def))
      return failure();
    for (Value o : def->getOperands())
      if (failed(need(b, o, map, producer)))
        return failure();
    b.clone(*def, map);
    return success();
  }

  /// Clones producer op `op` (and what it needs) into `b`.
  LogicalResult cloneProducerOp(OpBuilder &b, Operation *op, IRMapping &map, Region &producer) {
    SmallVector<Value> needed;
    // Operands of the op and of what it nests that are defined outside it.
    op->walk([&](Operation *inner) {
      for (Value o : inner->getOperands())
        if (!op->isAncestor(o.getParentRegion()->getParentOp()))
          needed.push_back(o);
    });
    for (Value v : needed)
      if (failed(need(b, v, map, producer)))
        return failure();
    b.clone(*op, map);
    return success();
  }

  LogicalResult run();
};

LogicalResult Specializer::run() {
  int64_t threads = launch.getThreads();
  if (threads % kWarpgroup)
    return success();
  Block &body = launch.getBodyBlock();
  // Producer ops at the top of the body or in a loop at the top.
  SmallVector<Operation *> tops;
  for (Operation &op : body.without_terminator()) {
    bool has = op.hasAttr(kPipelineStateAttrName);
    op.walk([&](Operation *inner) { has |= isProducer(inner); });
    if (has)
      tops.push_back(&op);
  }
  if (tops.empty())
    return success();

  MLIRContext *ctx = launch.getContext();
  Location loc = launch.getLoc();
  // Build the producer region first, into a detached block; give up (leave
  // the launch as it is) if it needs a consumer-only value.
  auto holder = std::make_unique<Region>();
  Block *pblock = new Block();
  holder->push_back(pblock);
  // (The region has no parent op yet: the builder takes the context.)
  OpBuilder pb(ctx);
  pb.setInsertionPointToEnd(pblock);
  IRMapping map;
  for (Operation *top : tops) {
    if (top->hasAttr(kPipelineStateAttrName)) {
      // A running count both roles keep (a prologue copy's).
      for (Value o : top->getOperands())
        if (failed(need(pb, o, map, *holder)))
          return success();
      pb.clone(*top, map);
      continue;
    }
    if (isProducer(top)) {
      if (failed(cloneProducerOp(pb, top, map, *holder)))
        return success();
      continue;
    }
    auto loop = dyn_cast<PipelinedOp>(top);
    if (!loop)
      return success(); // producer ops nested somewhere else: leave it
    for (Value v : {loop.getLowerBound(), loop.getUpperBound(), loop.getStep()})
      if (failed(need(pb, v, map, *holder)))
        return success();
    auto ploop = scf::ForOp::create(pb, loop.getLoc(), map.lookupOrDefault(loop.getLowerBound()),
                                    map.lookupOrDefault(loop.getUpperBound()),
                                    map.lookupOrDefault(loop.getStep()));
    map.map(loop.getInductionVar(), ploop.getInductionVar());
    OpBuilder lb(ctx);
    lb.setInsertionPoint(ploop.getBody()->getTerminator());
    // The producer's own iteration count, and its stage copies.
    for (Operation &op : loop.getBodyBlock().without_terminator()) {
      if (op.hasAttr(kPipelineStateAttrName)) {
        for (Value o : op.getOperands())
          if (failed(need(lb, o, map, *holder)))
            return success();
        lb.clone(op, map);
        continue;
      }
      if (isProducer(&op) && failed(cloneProducerOp(lb, &op, map, *holder)))
        return success();
    }
  }
  YieldOp::create(pb, loc);

  // The consumers: the body without the producer ops and the shared
  // allocations (which stay outside the roles).
  OpBuilder b(ctx);
  b.setInsertionPoint(body.getTerminator());
  // Register budgets: at launch every thread of the (threads + 128)-thread
  // block has the same share of the 64K registers (a multiple of 8, at most
  // 255); setmaxnreg.dec in the producer returns (launch - producerRegs) per
  // producer thread to the block's pool, and the consumers' setmaxnreg.inc
  // may take no more than that back: 168 -> 232 for two consumer
  // warpgroups, 96 -> 104 for four. With one consumer warpgroup the launch
  // share is already above 232, so the consumers keep it.
  int64_t launchRegs = std::min<int64_t>(255, 65536 / (threads + kWarpgroup)) / 8 * 8;
  int64_t pooled = (launchRegs - producerRegs) * kWarpgroup;
  int64_t consumerRegs =
      std::min<int64_t>(232, (launchRegs + pooled / threads) / 8 * 8);
  if (consumerRegs <= launchRegs)
    consumerRegs = 0;
  int64_t producerBudget = producerRegs < launchRegs ? producerRegs : 0;
  auto ws = WarpSpecializeOp::create(
      b, loc, b.getDenseI64ArrayAttr({threads, kWarpgroup}),
      b.getDenseI64ArrayAttr({consumerRegs, producerBudget}), 2);
  Block *cblock = new Block();
  ws.getBodies()[0].push_back(cblock);
  ws.getBodies()[1].takeBody(*holder);
  SmallVector<Operation *> move;
  for (Operation &op : body.without_terminator()) {
    if (&op == ws.getOperation())
      continue;
    if (isa<AllocSharedOp, AllocBarrierOp, AllocFragmentOp, AllocLocalOp, AllocTmemOp>(op))
      continue;
    move.push_back(&op);
  }
  for (Operation *op : move)
    op->moveBefore(cblock, cblock->end());
  OpBuilder::atBlockEnd(cblock).create<YieldOp>(loc);
  // Drop the producer ops from the consumers (innermost first).
  SmallVector<Operation *> dead;
  cblock->walk([&](Operation *op) {
    if (isProducer(op))
      dead.push_back(op);
  });
  for (Operation *op : llvm::reverse(dead))
    op->erase();
  // Producer ops that remain in the producer region lose the tag.
  ws.getBodies()[1].walk([](Operation *op) {
    op->removeAttr(kProducerAttrName);
    op->removeAttr(kPipelineStateAttrName);
  });
  launch.setThreads(threads + kWarpgroup);
  return success();
}

struct WarpSpecialize : public tl::impl::TlWarpSpecializeBase<WarpSpecialize> {
  using TlWarpSpecializeBase::TlWarpSpecializeBase;

  void runOnOperation() override {
    SmallVector<LaunchOp> launches;
    getOperation().walk([&](LaunchOp l) { launches.push_back(l); });
    for (LaunchOp l : launches) {
      Specializer s{l, producerRegs};
      if (failed(s.run()))
        return signalPassFailure();
    }
  }
};

} // namespace
