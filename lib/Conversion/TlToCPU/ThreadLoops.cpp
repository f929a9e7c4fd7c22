// --tl-cpu-thread-loops: thread-level code -> loops over the block's threads.
//
// The CPU target runs a thread block as one host thread. Code written per
// thread (T.thread_id, T.sync_threads, per-thread locals) is turned into
// loops over the block's threads by region formation, as MCUDA/POCL-style
// compilers do (docs/cpu-target.md, "Thread-level code"):
//
//  - every op of the launch body is classified: a *split point*
//    (tl.sync_threads, tl.barrier_wait), a *collective* op the threads run
//    together (tl.parallel; tl.copy/fill/gemm/reduce/topk without a local
//    operand), *uniform control* (scf.for/scf.if/tl.pipelined holding a
//    split point or a collective op: it stays at block level and its body is
//    processed the same way), *block-level* pure arithmetic on values that
//    do not depend on the thread (computed once), or *per-thread* code;
//  - each maximal run of per-thread ops becomes one
//    `scf.for %t = 0 to threads {tl.thread_loop}`; tl.thread_id becomes %t;
//  - a per-thread value used in another thread loop is recomputed there when
//    it is pure, else kept per thread in a `memref<threads x T>` array (one
//    store where it is defined, one load per thread loop that reads it); a
//    block-level use (a loop bound, a condition, a tile-op operand) reads
//    thread 0's slot, which is an error if the value depends on the thread
//    index;
//  - tl.alloc_local buffers get a leading dimension of `threads`; a
//    per-thread use sees its own slot (tl.view), a collective use thread 0's;
//  - a split point or collective op under control flow whose condition or
//    bounds depend on the thread index is a located error.
//
// Launches without tl.thread_id are left alone (every thread would do the
// same, so the one-thread model of --tl-lower-to-cpu is already exact).
#include "tlc/Conversion/TlToCPU.h"

#include "tl/IR/TlOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Pass/Pass.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

using namespace mlir;
using namespace mlir::tl;

namespace {

constexpr llvm::StringLiteral kThreadLoopAttr = "tl.thread_loop";

bool isLocal(Value v) { return getMemScope(v.getType()) == MemScope::Local; }

/// Tile ops: the block's threads run them together, unless they touch a
/// local (per-thread) buffer, in which case each thread runs its own.
bool isTileOp(Operation *op) { return isa<CopyOp, FillOp, GemmOp, ReduceOp, TopKOp>(op); }

bool isCollective(Operation *op) {
  if (isa<ParallelOp>(op))
    return true;
  return isTileOp(op) && llvm::none_of(op->getOperands(), isLocal);
}

/// Ops that end a region: every thread reaches them before any goes on.
/// A warp-level exchange (a shuffle) plugs in here: rewritten beforehand
/// into `store v -> xchg[tid]`, a split point and `load xchg[src]`
/// (docs/cpu-target.md).
/// Barriers split the threads' code; a named barrier (`T.sync_threads(id,
/// count)`) is taken as the whole block's: every thread reaches it (one
/// under a thread-dependent condition is an error), so a stronger barrier
/// keeps the same order of memory effects. Arrivals do not wait: nothing to
/// split.
bool isSplitPoint(Operation *op) {
  if (auto nb = dyn_cast<NamedBarrierOp>(op))
    return !nb.getArrive();
  return isa<SyncThreadsOp, BarrierWaitOp>(op);
}

/// The first split point or collective op inside `op` (or `op` itself).
Operation *firstSync(Operation *op) {
  Operation *found = nullptr;
  op->walk<WalkOrder::PreOrder>([&](Operation *o) {
    if (isSplitPoint(o) || isCollective(o)) {
      found = o;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

std::string describe(Operation *op) {
  if (isa<SyncThreadsOp>(op))
    return "T.sync_threads()";
  if (isa<NamedBarrierOp>(op))
    return "T.sync_threads(barrier_id, thread_count)";
  if (isa<BarrierWaitOp>(op))
    return "T.barrier_wait";
  if (isa<ParallelOp>(op))
    return "T.Parallel";
  if (isa<CopyOp>(op))
    return "T.copy";
  if (isa<FillOp>(op))
    return "T.fill";
  if (isa<GemmOp>(op))
    return "T.gemm";
  if (isa<ReduceOp>(op))
    return "the reduction";
  if (isa<TopKOp>(op))
    return "T.topk";
  return "this operation";
}

class ThreadLoops {
public:
  explicit ThreadLoops(LaunchOp launch) : launch(launch), numThreads(launch.getThreads()) {}
  LogicalResult run();

private:
  LaunchOp launch;
  int64_t numThreads;
  bool ok = true;
  llvm::DenseSet<Value> varying;           // computed from the thread index
  llvm::DenseSet<Operation *> perThread;   // top-level ops of thread loops
  SmallVector<scf::ForOp> loops;
  llvm::DenseMap<Value, Value> slots;      // per-thread arrays of values
  llvm::DenseMap<std::pair<Value, Operation *>, Value> transported;
  llvm::DenseMap<Operation *, Operation *> topCursor; // last value brought into each thread loop

  void analyse();
  bool isVarying(Value v) const { return varying.contains(v); }
  bool blockLevelPure(Operation *op) const;
  void formRegions(Block &block);
  void checkCollective(Operation *op);
  void reportVaryingUse(Operation *user, Value v);
  void checkControl(Operation *op);
  void makeThreadLoop(ArrayRef<Operation *> run);
  void transportValues();
  Value transport(Value v, Operation *user);
  Value slotOf(Value v);
  void privatiseLocals();
  void replaceThreadIds();

  static scf::ForOp enclosingThreadLoop(Operation *op);
  Value tidFor(OpBuilder &b, Operation *user);
};

scf::ForOp ThreadLoops::enclosingThreadLoop(Operation *op) {
  for (Operation *p = op->getParentOp(); p && !isa<LaunchOp>(p); p = p->getParentOp())
    if (p->hasAttr(kThreadLoopAttr))
      return cast<scf::ForOp>(p);
  return {};
}

/// The thread index seen at `user`: its thread loop's, thread 0 outside.
Value ThreadLoops::tidFor(OpBuilder &b, Operation *user) {
  if (scf::ForOp loop = enclosingThreadLoop(user))
    return loop.getInductionVar();
  return arith::ConstantIndexOp::create(b, user->getLoc(), 0);
}

// --- which values depend on the thread index ------------------------------

void ThreadLoops::analyse() {
  bool changed = true;
  auto mark = [&](Value v) {
    if (varying.insert(v).second)
      changed = true;
  };
  while (changed) {
    changed = false;
    launch.getBody().walk([&](Operation *op) {
      if (isa<ThreadIdOp>(op))
        mark(op->getResult(0));
      if (auto a = dyn_cast<AtomicAddOp>(op); a && a.getPrev())
        mark(a.getPrev()); // each thread gets another previous value
      if (llvm::any_of(op->getOperands(), [&](Value v) { return isVarying(v); })) {
        for (Value r : op->getResults())
          mark(r);
        if (auto f = dyn_cast<scf::ForOp>(op))
          for (BlockArgument a : f.getBody()->getArguments())
            mark(a);
        if (auto p = dyn_cast<PipelinedOp>(op))
          mark(p.getInductionVar());
      }
      if (auto y = dyn_cast<scf::YieldOp>(op)) {
        Operation *parent = op->getParentOp();
        for (auto [i, v] : llvm::enumerate(y.getOperands())) {
          if (!isVarying(v) || i >= parent->getNumResults())
            continue;
          mark(parent->getResult(i));
          if (auto f = dyn_cast<scf::ForOp>(parent))
            mark(f.getRegionIterArgs()[i]);
        }
      }
    });
  }
}

/// Pure arithmetic on values every thread shares: computed once, at block
/// level, where tile ops, loop bounds and every thread loop can see it.
bool ThreadLoops::blockLevelPure(Operation *op) const {
  if (op->getNumRegions() != 0 || !isMemoryEffectFree(op))
    return false;
  if (llvm::any_of(op->getResults(), [&](Value v) { return isVarying(v) || isLocal(v); }))
    return false;
  for (Value v : op->getOperands()) {
    if (isVarying(v) || isLocal(v))
      return false;
    if (Operation *def = v.getDefiningOp(); def && perThread.contains(def))
      return false;
  }
  return true;
}

// --- region formation ---------------------------------------------------------

/// `user` runs once per block but reads `v`, which differs between threads.
void ThreadLoops::reportVaryingUse(Operation *user, Value v) {
  InFlightDiagnostic d = user->emitError(describe(user));
  d << " runs once for the whole block on the CPU target, but uses a value computed from "
       "T.thread_id";
  if (Operation *def = v.getDefiningOp())
    d.attachNote(def->getLoc()) << "the value is computed here";
  ok = false;
}

void ThreadLoops::checkCollective(Operation *op) {
  for (Value v : op->getOperands())
    if (isVarying(v)) {
      reportVaryingUse(op, v);
      return;
    }
  // Values from outside a T.Parallel body are shared by its points.
  op->walk([&](Operation *inner) {
    if (inner == op)
      return;
    if (isa<ThreadIdOp>(inner)) {
      inner->emitError("T.thread_id inside T.Parallel is not supported by the CPU target: "
                       "the points of T.Parallel belong to no particular thread there");
      ok = false;
      return;
    }
    for (Value v : inner->getOperands())
      if (isVarying(v) && !op->isAncestor(v.getParentRegion()->getParentOp())) {
        inner->emitError("this use inside ")
            << describe(op) << " of a value computed from T.thread_id is not supported by the "
            << "CPU target (T.Parallel points belong to no particular thread there)";
        ok = false;
        return;
      }
  });
}

void ThreadLoops::checkControl(Operation *op) {
  Operation *sync = firstSync(op);
  SmallVector<Value> conds;
  StringRef what;
  if (auto f = dyn_cast<scf::ForOp>(op)) {
    conds = {f.getLowerBound(), f.getUpperBound(), f.getStep()};
    what = "a loop whose bounds depend";
  } else if (auto p = dyn_cast<PipelinedOp>(op)) {
    conds = {p.getLowerBound(), p.getUpperBound(), p.getStep()};
    what = "a loop whose bounds depend";
  } else if (auto i = dyn_cast<scf::IfOp>(op)) {
    conds = {i.getCondition()};
    what = "a condition that depends";
  } else {
    sync->emitError(describe(sync))
        << " inside '" << op->getName() << "' is not supported by the CPU target";
    ok = false;
    return;
  }
  if (llvm::any_of(conds, [&](Value v) { return isVarying(v); })) {
    InFlightDiagnostic d = sync->emitError(describe(sync));
    d << " is under " << what
      << " on T.thread_id: every thread of the block must reach it (the CPU target runs the "
         "threads as loops split at barriers)";
    d.attachNote(op->getLoc()) << "the thread-dependent control flow is here";
    ok = false;
    return;
  }
  if (op->getNumResults() != 0) {
    op->emitError("control flow with results around ")
        << describe(sync) << " is not supported by the CPU target";
    ok = false;
  }
}

void ThreadLoops::makeThreadLoop(ArrayRef<Operation *> run) {
  if (run.empty())
    return;
  Operation *last = run.back();
  OpBuilder b(last);
  Location loc = run.front()->getLoc();
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value n = arith::ConstantIndexOp::create(b, loc, numThreads);
  Value c1 = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(b, loc, c0, n, c1);
  loop->setAttr(kThreadLoopAttr, b.getUnitAttr());
  for (Operation *op : run)
    op->moveBefore(loop.getBody()->getTerminator());
  loops.push_back(loop);
}

void ThreadLoops::formRegions(Block &block) {
  SmallVector<Operation *> run;
  auto flush = [&]() {
    makeThreadLoop(run);
    run.clear();
  };
  for (Operation &opRef : llvm::make_early_inc_range(block.without_terminator())) {
    Operation *op = &opRef;
    if (isSplitPoint(op)) {
      flush();
      if (isa<SyncThreadsOp, NamedBarrierOp>(op))
        op->erase(); // the end of the region is the barrier
      continue;
    }
    if (isa<AllocSharedOp, AllocFragmentOp, AllocLocalOp, AllocTmemOp, AllocBarrierOp>(op))
      continue;
    if (isCollective(op)) {
      flush();
      checkCollective(op);
      continue;
    }
    if (op->getNumRegions() != 0 && firstSync(op)) {
      flush();
      checkControl(op);
      for (Region &r : op->getRegions())
        for (Block &blk : r)
          formRegions(blk);
      continue;
    }
    if (blockLevelPure(op))
      continue;
    perThread.insert(op);
    run.push_back(op);
  }
  flush();
}

// --- values that cross regions -------------------------------------------------

/// The per-thread array holding `v` (stored right after its definition).
Value ThreadLoops::slotOf(Value v) {
  auto it = slots.find(v);
  if (it != slots.end())
    return it->second;
  Operation *def = v.getDefiningOp();
  if (!MemRefType::isValidElementType(v.getType()) || isa<MemRefType>(v.getType())) {
    def->emitError("a value of type ")
        << v.getType() << " used across T.sync_threads() cannot be kept per thread";
    ok = false;
    return {};
  }
  OpBuilder b(launch);
  Location loc = def->getLoc();
  auto type = MemRefType::get({numThreads}, v.getType());
  Value arr = memref::AllocOp::create(b, loc, type, b.getI64IntegerAttr(64));
  b.setInsertionPointAfter(launch);
  memref::DeallocOp::create(b, loc, arr);
  b.setInsertionPointAfter(def);
  memref::StoreOp::create(b, loc, v, arr, ValueRange{enclosingThreadLoop(def).getInductionVar()});
  slots[v] = arr;
  return arr;
}

/// `v` (defined in one thread loop) as seen at `user`, outside that loop.
Value ThreadLoops::transport(Value v, Operation *user) {
  scf::ForOp target = enclosingThreadLoop(user);
  auto key = std::make_pair(v, target ? target.getOperation() : user);
  if (auto it = transported.find(key); it != transported.end())
    return it->second;
  Operation *def = v.getDefiningOp();
  if (!target && isVarying(v)) {
    reportVaryingUse(user, v);
    return {};
  }
  // Values brought into a thread loop go at its top, in the order they are
  // made (operands before their users, earlier ones before later ones).
  OpBuilder b(user);
  auto placeAtTop = [&] {
    if (!target)
      return b.setInsertionPoint(user);
    if (Operation *last = topCursor.lookup(target.getOperation()))
      b.setInsertionPointAfter(last);
    else
      b.setInsertionPointToStart(target.getBody());
  };
  auto advance = [&](Operation *made) {
    if (target)
      topCursor[target.getOperation()] = made;
  };
  Value result;
  if (isMemoryEffectFree(def) && def->getNumRegions() == 0) {
    // Recompute pure values (thread indices included) instead of storing.
    scf::ForOp source = enclosingThreadLoop(def);
    SmallVector<Value> operands;
    for (Value o : def->getOperands()) {
      Operation *od = o.getDefiningOp();
      operands.push_back(od && enclosingThreadLoop(od) == source ? transport(o, user) : o);
      if (!operands.back())
        return {};
    }
    placeAtTop();
    Operation *clone = b.clone(*def);
    clone->setOperands(operands);
    advance(clone);
    result = clone->getResult(cast<OpResult>(v).getResultNumber());
  } else {
    placeAtTop();
    Value arr = slotOf(v);
    if (!arr)
      return {};
    Value tid = target ? Value(target.getInductionVar())
                       : Value(arith::ConstantIndexOp::create(b, user->getLoc(), 0));
    result = memref::LoadOp::create(b, def->getLoc(), arr, ValueRange{tid});
    advance(result.getDefiningOp());
  }
  transported[key] = result;
  return result;
}

void ThreadLoops::transportValues() {
  for (scf::ForOp loop : loops) {
    for (Operation &op : loop.getBody()->without_terminator()) {
      for (Value r : op.getResults()) {
        SmallVector<OpOperand *> outside;
        for (OpOperand &use : r.getUses())
          if (!loop->isProperAncestor(use.getOwner()))
            outside.push_back(&use);
        for (OpOperand *use : outside)
          if (Value t = transport(r, use->getOwner()))
            use->set(t);
      }
    }
  }
}

// --- per-thread buffers and thread indices -------------------------------------

void ThreadLoops::privatiseLocals() {
  SmallVector<AllocLocalOp> allocs;
  launch.walk([&](AllocLocalOp a) { allocs.push_back(a); });
  for (AllocLocalOp a : allocs) {
    auto type = cast<MemRefType>(a.getType());
    SmallVector<int64_t> shape{numThreads};
    llvm::append_range(shape, type.getShape());
    auto privType = MemRefType::get(shape, type.getElementType(), MemRefLayoutAttrInterface(),
                                    type.getMemorySpace());
    OpBuilder b(a);
    auto priv = AllocLocalOp::create(b, a.getLoc(), privType);
    priv->setAttrs(a->getAttrs());
    SmallVector<int64_t> sizes{1};
    llvm::append_range(sizes, type.getShape());
    for (OpOperand &use : llvm::make_early_inc_range(a.getResult().getUses())) {
      Operation *user = use.getOwner();
      OpBuilder ub(user);
      SmallVector<Value> offsets{tidFor(ub, user)};
      for (size_t d = 0; d < type.getShape().size(); ++d)
        offsets.push_back(arith::ConstantIndexOp::create(ub, user->getLoc(), 0));
      use.set(ViewOp::create(ub, user->getLoc(), type, priv, offsets, sizes));
    }
    a.erase();
  }
}

void ThreadLoops::replaceThreadIds() {
  SmallVector<ThreadIdOp> ids;
  launch.walk([&](ThreadIdOp op) { ids.push_back(op); });
  for (ThreadIdOp op : ids) {
    scf::ForOp loop = enclosingThreadLoop(op);
    if (!loop)
      continue; // reported by checkCollective
    Value repl = loop.getInductionVar();
    if (op.getDim() != 0) {
      // Blocks are one-dimensional: the other thread indices are 0.
      OpBuilder b(op);
      repl = arith::ConstantIndexOp::create(b, op.getLoc(), 0);
    }
    op.getResult().replaceAllUsesWith(repl);
    op.erase();
  }
}

LogicalResult ThreadLoops::run() {
  bool hasThreadId = false;
  launch.walk([&](ThreadIdOp) { hasThreadId = true; });
  if (!hasThreadId)
    return success();
  analyse();
  formRegions(launch.getBodyBlock());
  if (!ok)
    return failure();
  transportValues();
  if (!ok)
    return failure();
  privatiseLocals();
  replaceThreadIds();
  return success(ok);
}

struct TlCPUThreadLoopsPass
    : public PassWrapper<TlCPUThreadLoopsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TlCPUThreadLoopsPass)

  StringRef getArgument() const final { return "tl-cpu-thread-loops"; }
  StringRef getDescription() const final {
    return "Run thread-level code (T.thread_id, T.sync_threads) on the CPU target as loops "
           "over the block's threads, split at barriers";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, memref::MemRefDialect, scf::SCFDialect>();
  }
  void runOnOperation() override {
    SmallVector<LaunchOp> launches;
    getOperation().walk([&](LaunchOp l) { launches.push_back(l); });
    bool failedAny = false;
    for (LaunchOp l : launches)
      if (failed(ThreadLoops(l).run()))
        failedAny = true;
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace

namespace tlc {

std::unique_ptr<Pass> createTlCPUThreadLoopsPass() {
  return std::make_unique<TlCPUThreadLoopsPass>();
}

void registerTlCPUThreadLoopsPass() { PassRegistration<TlCPUThreadLoopsPass>(); }

} // namespace tlc
