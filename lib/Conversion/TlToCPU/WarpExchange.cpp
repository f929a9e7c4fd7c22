// tl-cpu-warp-exchange: warp exchanges (tl.warp: shuffles, votes, match) on
// the CPU target, which runs a block's threads as loops split at barriers
// (tl-cpu-thread-loops). Each exchange becomes a round through a per-block
// array in shared memory, one slot per thread:
//
//   xch[t] = v;  barrier;  r = f(xch[warp base + 0..31]);  barrier
//
// A shuffle reads one slot (lane ^ m, lane + d, lane - d or the source lane
// mod 32; a source outside the warp, or past the block's last thread, gives
// the thread's own value, as shfl.sync does); a vote or match walks the 32
// slots of the warp. The barriers make the exchange a split point of the
// thread loops; the second one lets the next round reuse nothing stale. As
// for any barrier, every thread of the block must reach the exchange (a
// located error from tl-cpu-thread-loops otherwise).
#include "tlc/Conversion/TlToCPU.h"

#include "tl/IR/TlOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;
using namespace mlir::tl;

namespace tlc {
namespace {

constexpr int64_t kWarp = 32;

Value cIdx(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

void lowerExchange(WarpOp op) {
  auto launch = op->getParentOfType<LaunchOp>();
  int64_t threads = launch.getThreads();
  Location loc = op.getLoc();
  StringRef kind = op.getKind();
  Type vt = op.getValue().getType();
  // Bools travel as bytes.
  Type slotT = vt.isInteger(1) ? IntegerType::get(op.getContext(), 8) : vt;
  OpBuilder top(launch.getContext());
  top.setInsertionPointToStart(&launch.getBodyBlock());
  Value xch = AllocSharedOp::create(top, loc,
                                    getScopedMemRefType({threads}, slotT, MemScope::Shared));

  OpBuilder b(op);
  Value t = ThreadIdOp::create(b, loc, 0);
  Value v = op.getValue();
  if (slotT != vt)
    v = arith::ExtUIOp::create(b, loc, slotT, v);
  memref::StoreOp::create(b, loc, v, xch, ValueRange{t});
  SyncThreadsOp::create(b, loc);
  // The thread index again on this side of the barrier (a new thread loop).
  t = ThreadIdOp::create(b, loc, 0);
  Value c32 = cIdx(b, loc, kWarp), nThreads = cIdx(b, loc, threads);
  Value lane = arith::RemUIOp::create(b, loc, t, c32);
  Value base = arith::SubIOp::create(b, loc, t, lane);
  auto slot = [&](Value laneIdx) { // xch[base + laneIdx]
    Value i = arith::AddIOp::create(b, loc, base, laneIdx);
    return memref::LoadOp::create(b, loc, xch, ValueRange{i}).getResult();
  };
  Value result;
  if (kind.starts_with("shfl_")) {
    Value arg = arith::IndexCastOp::create(b, loc, b.getIndexType(), op.getLane());
    Value src, inWarp;
    if (kind == "shfl_xor") {
      src = arith::XOrIOp::create(b, loc, lane, arg);
      inWarp = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, src, c32);
    } else if (kind == "shfl_down") {
      src = arith::AddIOp::create(b, loc, lane, arg);
      inWarp = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, src, c32);
    } else if (kind == "shfl_up") {
      // lane - d, in range when d <= lane (both unsigned).
      src = arith::SubIOp::create(b, loc, lane, arg);
      inWarp = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, arg, lane);
    } else {
      src = arith::RemUIOp::create(b, loc, arg, c32);
      inWarp = arith::ConstantIntOp::create(b, loc, 1, 1);
    }
    Value global = arith::AddIOp::create(b, loc, base, src);
    Value inBlock = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, global, nThreads);
    Value ok = arith::AndIOp::create(b, loc, inWarp, inBlock);
    // Read a valid slot in any case, then choose.
    Value safe = arith::SelectOp::create(b, loc, ok, src, lane);
    Value got = slot(safe);
    result = arith::SelectOp::create(b, loc, ok, got, v);
  } else {
    // Votes and match over the warp's lanes that exist in the block.
    Type i32 = b.getI32Type();
    Value init = kind == "all" ? Value(arith::ConstantIntOp::create(b, loc, i32, 1))
                               : Value(arith::ConstantIntOp::create(b, loc, i32, 0));
    Value rest = arith::SubIOp::create(b, loc, nThreads, base);
    Value lanes = arith::MinUIOp::create(b, loc, rest, c32);
    auto loop = scf::ForOp::create(b, loc, cIdx(b, loc, 0), lanes, cIdx(b, loc, 1), init);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(loop.getBody());
      Value i = loop.getInductionVar(), acc = loop.getRegionIterArgs()[0];
      Value x = slot(i);
      Value bit = arith::ShLIOp::create(b, loc, arith::ConstantIntOp::create(b, loc, i32, 1),
                                        arith::IndexCastOp::create(b, loc, i32, i));
      Value next;
      if (kind == "match_any") {
        Value eq = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, v);
        next = arith::OrIOp::create(
            b, loc, acc,
            arith::SelectOp::create(b, loc, eq, bit, arith::ConstantIntOp::create(b, loc, i32, 0)));
      } else {
        Value set = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x,
                                          arith::ConstantIntOp::create(b, loc, slotT, 0));
        Value s32 = arith::ExtUIOp::create(b, loc, i32, set);
        if (kind == "any")
          next = arith::OrIOp::create(b, loc, acc, s32);
        else if (kind == "all")
          next = arith::AndIOp::create(b, loc, acc, s32);
        else // ballot
          next = arith::OrIOp::create(b, loc, acc,
                                      arith::SelectOp::create(
                                          b, loc, set, bit, arith::ConstantIntOp::create(b, loc, i32, 0)));
      }
      scf::YieldOp::create(b, loc, next);
    }
    result = loop.getResult(0);
    if (kind == "any" || kind == "all")
      result = arith::TruncIOp::create(b, loc, b.getI1Type(), result);
  }
  SyncThreadsOp::create(b, loc);
  op.getResult().replaceAllUsesWith(result);
  op.erase();
}

struct TlCPUWarpExchangePass
    : public PassWrapper<TlCPUWarpExchangePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TlCPUWarpExchangePass)

  StringRef getArgument() const final { return "tl-cpu-warp-exchange"; }
  StringRef getDescription() const final {
    return "Warp shuffles, votes and match on the CPU target as exchanges through shared "
           "memory between barriers";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, memref::MemRefDialect, scf::SCFDialect>();
  }
  void runOnOperation() override {
    SmallVector<WarpOp> ops;
    getOperation().walk([&](WarpOp op) { ops.push_back(op); });
    for (WarpOp op : ops)
      lowerExchange(op);
  }
};

} // namespace

std::unique_ptr<Pass> createTlCPUWarpExchangePass() {
  return std::make_unique<TlCPUWarpExchangePass>();
}

void registerTlCPUWarpExchangePass() { PassRegistration<TlCPUWarpExchangePass>(); }

} // namespace tlc
