// tl-persistent: warp-specialised launches walk their grid themselves.
//
// The runtime launches at most one block per SM (`persistent` in the
// manifest, docs/abi.md); each role of each block runs a loop over rounds of
// nblocks logical tiles, taking tile b of even rounds and tile nblocks-1-b of
// odd ones (a serpentine walk, which evens out tiles of unequal work), and
// computes its block indices from the tile:
// 2-D grids in groups of 8 rows of tiles (so the blocks resident at one
// time share operand tiles in L2), other grids in order, x fastest. With a
// cluster of cx blocks along x the loop walks groups of cx adjacent x tiles
// by cluster id and the block's rank picks its tile in the group (a tile
// past the grid computes on zero-filled loads and stores nothing).
//
// Because the pipeline's iteration counts and barrier phases live in
// per-thread counters (tl-pipeline), the producer runs into the next tile's
// loads while the consumers finish the current tile's epilogue.
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLPERSISTENT
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

constexpr int64_t kGroupRows = 8;

/// Block indices of logical tile `t` (see the file comment).
SmallVector<Value> mapTile(OpBuilder &b, Location loc, Value t, ArrayRef<Value> grid, int64_t cx) {
  auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
  SmallVector<Value> ids;
  if (grid.size() == 2) {
    Value gx = cx > 1 ? Value(arith::CeilDivUIOp::create(b, loc, grid[0], c(cx))) : grid[0];
    Value gy = grid[1];
    Value groupSize = arith::MulIOp::create(b, loc, gx, c(kGroupRows));
    Value group = arith::DivUIOp::create(b, loc, t, groupSize);
    Value inGroup = arith::RemUIOp::create(b, loc, t, groupSize);
    Value firstY = arith::MulIOp::create(b, loc, group, c(kGroupRows));
    Value rows = arith::MinUIOp::create(b, loc, arith::SubIOp::create(b, loc, gy, firstY),
                                        c(kGroupRows));
    ids.push_back(arith::DivUIOp::create(b, loc, inGroup, rows));
    ids.push_back(arith::AddIOp::create(b, loc, firstY, arith::RemUIOp::create(b, loc, inGroup, rows)));
  } else {
    Value rem = t;
    for (size_t d = 0; d < grid.size(); ++d) {
      Value g = grid[d];
      if (d == 0 && cx > 1)
        g = arith::CeilDivUIOp::create(b, loc, g, c(cx));
      if (d + 1 == grid.size()) {
        ids.push_back(rem);
      } else {
        ids.push_back(arith::RemUIOp::create(b, loc, rem, g));
        rem = arith::DivUIOp::create(b, loc, rem, g);
      }
    }
  }
  if (cx > 1)
    ids[0] = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, ids[0], c(cx)),
                                   SpecialRegOp::create(b, loc, "cluster_ctarank"));
  return ids;
}

struct Persistent : public tl::impl::TlPersistentBase<Persistent> {
  using TlPersistentBase::TlPersistentBase;

  void runOnOperation() override {
    getOperation().walk([&](LaunchOp launch) {
      WarpSpecializeOp ws;
      for (Operation &op : launch.getBodyBlock())
        if (auto w = dyn_cast<WarpSpecializeOp>(&op))
          ws = w;
      if (!ws)
        return;
      int64_t cx = 1;
      if (auto cl = launch.getCluster(); cl && !cl->empty())
        cx = (*cl)[0];
      SmallVector<Value> grid(launch.getGrid().begin(), launch.getGrid().end());
      for (Region &role : ws.getBodies())
        wrap(role, launch, grid, cx);
      launch->setAttr(kPersistentAttrName, UnitAttr::get(launch.getContext()));
    });
  }

  void wrap(Region &role, LaunchOp launch, ArrayRef<Value> grid, int64_t cx) {
    Block &body = role.front();
    Location loc = launch.getLoc();
    OpBuilder b = OpBuilder::atBlockBegin(&body);
    Value nblk = SpecialRegOp::create(b, loc, cx > 1 ? "nclusterid.x" : "nctaid.x");
    Value first = SpecialRegOp::create(b, loc, cx > 1 ? "clusterid.x" : "ctaid.x");
    Value total = arith::ConstantIndexOp::create(b, loc, 1);
    for (auto [d, g] : llvm::enumerate(grid)) {
      Value e = g;
      if (d == 0 && cx > 1)
        e = arith::CeilDivUIOp::create(b, loc, g, arith::ConstantIndexOp::create(b, loc, cx));
      total = arith::MulIOp::create(b, loc, total, e);
    }
    // Round r gives block `first` the tile r * nblk + first when r is even
    // and r * nblk + (nblk - 1 - first) when it is odd (serpentine), so a
    // block that had a heavy tile in one round gets a light one in the next
    // where the work per tile varies along the walk (causal attention:
    // query tiles further down see more keys).
    auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
    Value rounds = arith::CeilDivUIOp::create(b, loc, total, nblk);
    Value mirror = arith::SubIOp::create(b, loc, arith::SubIOp::create(b, loc, nblk, c(1)), first);
    auto loop = scf::ForOp::create(b, loc, c(0), rounds, c(1));
    b.setInsertionPointToStart(loop.getBody());
    Value r = loop.getInductionVar();
    Value odd = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                      arith::AndIOp::create(b, loc, r, c(1)), c(0));
    Value pos = arith::SelectOp::create(b, loc, odd, mirror, first);
    Value tile = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, r, nblk), pos);
    Value inGrid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, tile, total);
    auto guard = scf::IfOp::create(b, loc, inGrid, /*withElseRegion=*/false);
    // Everything the role did now runs per tile.
    SmallVector<Operation *> move;
    for (Operation &op : body.without_terminator())
      if (&op != loop.getOperation() && loop->isBeforeInBlock(&op))
        move.push_back(&op);
    Block *lbody = guard.thenBlock();
    for (Operation *op : move)
      op->moveBefore(lbody->getTerminator());
    b.setInsertionPointToStart(lbody);
    SmallVector<Value> ids = mapTile(b, loc, tile, grid, cx);
    for (auto [arg, id] : llvm::zip(launch.getBlockIds(), ids))
      arg.replaceUsesWithIf(id, [&](OpOperand &use) { return loop->isAncestor(use.getOwner()); });
    SmallVector<BlockIdOp> bidOps;
    loop.walk([&](BlockIdOp op) { bidOps.push_back(op); });
    for (BlockIdOp op : bidOps) {
      op.getResult().replaceAllUsesWith(ids[std::min<size_t>(op.getDim(), ids.size() - 1)]);
      op.erase();
    }
  }
};

} // namespace
