// tl-check-collectives: tile operations are block-collective.
//
// The GPU lowering of T.copy, T.gemm, T.fill, the reductions, T.topk,
// T.Parallel, layout conversions and T.sync_threads() spreads the work over
// every thread of the block (each thread takes its slots of the layout, a
// warpgroup issues its part of the MMA, all threads meet at the barrier).
// Under an `if` or a loop whose condition or bounds depend on T.thread_id,
// only some threads would run it: part of the result would never be
// computed, or the block would hang. This pass finds the values computed
// from the thread index (through arithmetic, loop-carried values, values
// stored into and loaded back from per-thread buffers, and the previous
// values of atomics) and refuses such ops, with a note at the control flow.
// The CPU target's thread loops make the same check (ThreadLoops.cpp).
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLCHECKCOLLECTIVES
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

bool isCollective(Operation *op) {
  return isa<CopyOp, GemmOp, FillOp, ReduceOp, TopKOp, ParallelOp, ConvertLayoutOp,
             SyncThreadsOp>(op);
}

bool isPerThreadBuffer(Value buf) {
  auto s = getMemScope(buf.getType());
  return s && (*s == MemScope::Local || *s == MemScope::Fragment);
}

/// Values of `launch` computed from the thread index.
DenseSet<Value> varyingValues(LaunchOp launch) {
  DenseSet<Value> varying, varyingBuffers;
  bool changed = true;
  auto mark = [&](DenseSet<Value> &set, Value v) {
    if (set.insert(v).second)
      changed = true;
  };
  auto isVarying = [&](Value v) { return varying.contains(v); };
  while (changed) {
    changed = false;
    launch.getBody().walk([&](Operation *op) {
      if (isa<ThreadIdOp>(op))
        mark(varying, op->getResult(0));
      if (auto a = dyn_cast<AtomicAddOp>(op); a && a.getPrev())
        mark(varying, a.getPrev());
      if (auto st = dyn_cast<memref::StoreOp>(op))
        if (isPerThreadBuffer(st.getMemRef()) &&
            (isVarying(st.getValueToStore()) || llvm::any_of(st.getIndices(), isVarying)))
          mark(varyingBuffers, st.getMemRef());
      if (auto ld = dyn_cast<memref::LoadOp>(op))
        if (varyingBuffers.contains(ld.getMemRef()))
          mark(varying, ld.getResult());
      if (llvm::any_of(op->getOperands(), isVarying)) {
        for (Value r : op->getResults())
          mark(varying, r);
        if (auto f = dyn_cast<scf::ForOp>(op))
          for (BlockArgument a : f.getBody()->getArguments())
            mark(varying, a);
        if (auto p = dyn_cast<PipelinedOp>(op))
          mark(varying, p.getInductionVar());
      }
      if (auto y = dyn_cast<scf::YieldOp>(op)) {
        Operation *parent = op->getParentOp();
        for (auto [i, v] : llvm::enumerate(y.getOperands())) {
          if (!isVarying(v) || i >= parent->getNumResults())
            continue;
          mark(varying, parent->getResult(i));
          if (auto f = dyn_cast<scf::ForOp>(parent))
            mark(varying, f.getRegionIterArgs()[i]);
        }
      }
      if (auto c = dyn_cast<scf::ConditionOp>(op))
        if (isVarying(c.getCondition()))
          for (Value r : op->getParentOp()->getResults())
            mark(varying, r);
    });
  }
  return varying;
}

/// The innermost control flow around `op` (inside `launch`) whose condition
/// or bounds depend on the thread index, if any.
Operation *varyingControl(Operation *op, LaunchOp launch, const DenseSet<Value> &varying) {
  auto isVarying = [&](Value v) { return varying.contains(v); };
  for (Operation *p = op->getParentOp(); p && p != launch; p = p->getParentOp()) {
    if (auto i = dyn_cast<scf::IfOp>(p); i && isVarying(i.getCondition()))
      return p;
    if (auto f = dyn_cast<scf::ForOp>(p);
        f && llvm::any_of(ValueRange{f.getLowerBound(), f.getUpperBound(), f.getStep()},
                          isVarying))
      return p;
    if (auto pl = dyn_cast<PipelinedOp>(p);
        pl && llvm::any_of(ValueRange{pl.getLowerBound(), pl.getUpperBound(), pl.getStep()},
                           isVarying))
      return p;
    if (auto w = dyn_cast<scf::WhileOp>(p)) {
      bool v = false;
      w.getBefore().walk([&](scf::ConditionOp c) { v |= isVarying(c.getCondition()); });
      if (v)
        return p;
    }
  }
  return nullptr;
}

struct CheckCollectives : public tl::impl::TlCheckCollectivesBase<CheckCollectives> {
  using TlCheckCollectivesBase::TlCheckCollectivesBase;

  void runOnOperation() override {
    bool ok = true;
    getOperation().walk([&](LaunchOp launch) {
      DenseSet<Value> varying = varyingValues(launch);
      launch.getBody().walk([&](Operation *op) {
        if (!isCollective(op))
          return;
        // Only the outermost: what a T.Parallel contains is reported once.
        for (Operation *p = op->getParentOp(); p && p != launch; p = p->getParentOp())
          if (isCollective(p))
            return;
        Operation *control = varyingControl(op, launch, varying);
        if (!control)
          return;
        InFlightDiagnostic d = op->emitOpError(
            "cannot run under control flow that depends on T.thread_id: all the threads of the "
            "block carry it out together, so each of them must reach it (put the condition "
            "inside, on the elements, or give each role its own buffers and element loops)");
        d.attachNote(control->getLoc()) << "the thread-dependent control flow is here";
        ok = false;
      });
    });
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
