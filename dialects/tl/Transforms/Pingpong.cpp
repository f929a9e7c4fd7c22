// tl-pingpong: two consumer warpgroups take turns on the tensor cores
// (FlashAttention 3's inter-warpgroup "ping-pong" schedule, sm_90a).
//
// In a warp-specialised launch whose consumer role is two warpgroups that
// run a pipelined loop of several MMAs and element-wise work (attention:
// S = Q K^T, the softmax, O += P V), both warpgroups issue their MMAs at the same time
// and then both compute their softmax while the tensor cores idle. Here each
// group of MMA issues (consecutive tl.gemm ops with only index arithmetic,
// views and barrier waits between them) is bracketed by a pair of named
// barriers, so warpgroup w issues its group only after the other one issued
// its previous group:
//
//   tl.named_barrier %mine threads(256)             // wait for my turn
//   tl.gemm ... ; tl.gemm ...
//   tl.named_barrier %other threads(256) {arrive}   // the other's turn
//
// with %mine = B + w and %other = B + 1 - w. Warpgroup 1 arrives once at
// warpgroup 0's barrier when the role starts (before the persistent tile
// loop), so warpgroup 0 goes first; from then on each barrier completes
// with one warpgroup waiting and the other arriving. The softmax of one
// warpgroup then runs while the other's MMAs use the tensor cores. Both
// warpgroups run the same control flow (block-uniform bounds), so every
// wait is matched by an arrival; the other role (the producer) never takes
// part. A synchronous gemm that closes a group becomes asynchronous, with
// its wait (tl.mma_wait pending(0)) after the arrival, so the other
// warpgroup need not wait for it to finish.
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLPINGPONG
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

/// The first of the two named barriers (0 is the block's, 1.. the roles').
constexpr int64_t kFirstBarrier = 8;
constexpr int64_t kWarpgroup = 128;

/// Ops that may sit between two MMA issues of one group.
bool isGlue(Operation &op) {
  return isa<arith::ArithDialect>(op.getDialect()) || isa<ViewOp, BarrierWaitOp>(op);
}

/// Runs of MMA issues in `block` (and blocks nested in it), in order.
void collectGroups(Block &block, SmallVectorImpl<SmallVector<GemmOp>> &groups) {
  SmallVector<GemmOp> cur;
  bool onlyGlue = true; // since the last gemm of `cur`
  auto close = [&] {
    if (!cur.empty())
      groups.push_back(cur);
    cur.clear();
  };
  for (Operation &op : block) {
    if (auto g = dyn_cast<GemmOp>(&op)) {
      if (!onlyGlue)
        close();
      cur.push_back(g);
      onlyGlue = true;
      continue;
    }
    if (isGlue(op))
      continue;
    close();
    onlyGlue = true;
    for (Region &r : op.getRegions())
      for (Block &b : r)
        collectGroups(b, groups);
  }
  close();
}

/// Whether `region` holds a pipelined loop of several MMAs with element-wise
/// or reduction work (attention: S = Q K^T, the softmax, O += P V), which
/// one warpgroup can do while the other's MMAs run. A GEMM's main loop (one
/// MMA, perhaps with its promotion) is left alone: both warpgroups keep
/// their MMAs in flight together there, and the extra live registers of an
/// asynchronous promotion would spill.
bool hasMixedLoop(Region &region) {
  bool found = false;
  region.walk([&](PipelinedOp loop) {
    int64_t gemms = 0;
    bool work = false;
    loop.walk([&](Operation *op) {
      gemms += isa<GemmOp>(op);
      work |= isa<ParallelOp, ReduceOp>(op);
    });
    found |= gemms >= 2 && work;
  });
  return found;
}

struct Pingpong : public tl::impl::TlPingpongBase<Pingpong> {
  using TlPingpongBase::TlPingpongBase;

  void runOnOperation() override {
    getOperation().walk([&](WarpSpecializeOp ws) {
      for (unsigned i = 0; i < ws.getBodies().size(); ++i) {
        Region &role = ws.getBodies()[i];
        if (ws.getRoles()[i] != 2 * kWarpgroup || !hasMixedLoop(role))
          continue;
        // Barrier ids are the kernel author's where the kernel names any
        // (T.sync_threads(id, count)): leave such a launch alone.
        bool named = false;
        ws->getParentOp()->walk([&](NamedBarrierOp) { named = true; });
        if (!named)
          apply(role, ws.getRoleBegin(i));
      }
    });
  }

  void apply(Region &role, int64_t firstThread) {
    Block &entry = role.front();
    Location loc = role.getParentOp()->getLoc();
    OpBuilder b = OpBuilder::atBlockBegin(&entry);
    auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
    Value tid = ThreadIdOp::create(b, loc, 0);
    Value rel = arith::SubIOp::create(b, loc, tid, c(firstThread));
    Value wg = arith::DivUIOp::create(b, loc, rel, c(kWarpgroup));
    Value mine = arith::AddIOp::create(b, loc, c(kFirstBarrier), wg);
    Value other = arith::SubIOp::create(b, loc, c(kFirstBarrier + 1), wg);
    // Warpgroup 1 lets warpgroup 0 go first.
    Value second = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, wg, c(1));
    auto first = scf::IfOp::create(b, loc, second, /*withElse=*/false);
    {
      OpBuilder fb = OpBuilder::atBlockTerminator(first.thenBlock());
      NamedBarrierOp::create(fb, loc, other, 2 * kWarpgroup, /*arrive=*/true);
    }

    SmallVector<SmallVector<GemmOp>> groups;
    collectGroups(entry, groups);
    for (ArrayRef<GemmOp> group : groups) {
      b.setInsertionPoint(group.front());
      NamedBarrierOp::create(b, loc, mine, 2 * kWarpgroup, /*arrive=*/false);
      b.setInsertionPointAfter(group.back());
      NamedBarrierOp::create(b, loc, other, 2 * kWarpgroup, /*arrive=*/true);
      // A group of synchronous MMAs completes after the arrival instead.
      if (llvm::none_of(group, [](GemmOp g) { return g.getAsync(); })) {
        SmallVector<Value> regs;
        for (GemmOp g : group) {
          g.setAsync(true);
          for (Value v : {g.getA(), g.getC()}) {
            auto s = getMemScope(v.getType());
            if ((s == MemScope::Fragment || s == MemScope::Local) && !llvm::is_contained(regs, v))
              regs.push_back(v);
          }
        }
        MmaWaitOp::create(b, loc, b.getI64IntegerAttr(0), regs);
      }
    }
  }
};

} // namespace
