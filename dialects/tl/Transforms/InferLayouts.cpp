// tl-infer-layouts: a layout for every register-resident buffer, every
// element-parallel loop and every MMA operand tile in shared memory.
//
// Register buffers (fragments, locals, tmem accumulators) get a linear layout
// (tl/IR/LinearLayout.h) in their memref type's memory space; tl.parallel
// loops get the layout that distributes their points (`layout` attribute);
// shared buffers that feed an MMA get the swizzled layout TMA and the MMA
// descriptors share. The decisions:
//
//  1. Anchors. A T.gemm accumulator takes the MMA's accumulator layout
//     (sm_90a: the wgmma D fragment, warpgroups split along M or N by the
//     gemm's warp policy; sm_100a: what tcgen05.ld 32x32b delivers); a
//     register A operand takes the layout the MMA reads it in.
//  2. Groups. Buffers of the same shape indexed by all the variables of one
//     T.Parallel loop run point for point and share a layout; so do the two
//     sides of a fragment-to-fragment copy.
//  3. Derived layouts. A reduction's destination is its source's layout with
//     the reduced dimension projected away (a row statistic); a buffer
//     indexed by some of a loop's variables takes the projection of the
//     loop's layout (the broadcast back). Repeated to a fixed point.
//     A buffer some of whose dimensions a loop indexes with its variables
//     and the others with anything else (a serial loop's variable) takes
//     the projection for the former, and each thread holds the latter whole.
//  4. Defaults. Anything left is blocked: 16-byte runs along the last
//     dimension over the block's threads. Locals, and buffers indexed by
//     no loop variable at all, are replicated in every thread.
//  5. Conversions. Where a use needs another layout than the buffer has (a
//     projection that does not line up with a loop, an MMA operand produced
//     in another layout), an explicit tl.convert_layout through a temporary
//     is inserted.
//  6. Budget. A register buffer a thread would hold more than
//     kMaxRegisterWords 32-bit words of is refused, at its allocation and
//     the access that made every thread hold it whole: it could not live in
//     registers, and unrolling accesses to it makes compiles explode.
#include "tl/IR/TlOps.h"
#include "tl/Transforms/LayoutEmitter.h"
#include "tl/Transforms/Passes.h"

#include "ViewLayouts.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLINFERLAYOUTS
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

constexpr int64_t kWarpgroup = 128;
// Beyond this a register buffer is refused (checkRegisterBudget).
constexpr int64_t kMaxRegisterWords = 256;

bool isRegisterScope(Value v) {
  auto s = getMemScope(v.getType());
  return s == MemScope::Fragment || s == MemScope::Local || s == MemScope::Tmem;
}

int64_t elemBytes(Type t) { return std::max<int64_t>(1, getElementBits(t) / 8); }

/// How a load/store inside a tl.parallel indexes a buffer.
struct Access {
  enum Kind { Full, Slice, Irregular } kind = Irregular;
  // Slice: the loop dimensions used as indices, in order, and the buffer
  // dimension each indexes. Buffer dimensions indexed by anything else
  // (a serial loop's variable, a constant) are held whole by each thread.
  SmallVector<unsigned> kept, at;
};

Access classify(ValueRange indices, MemRefType type, ParallelOp par) {
  Access a;
  if (!par)
    return a;
  LoopIndexing li =
      matchLoopIndices(indices, type.getShape(), par.getInductionVars(), par.getExtents());
  if (li.kept.empty())
    return a;
  a.kept = li.kept;
  a.at = li.at;
  bool whole = li.kept.size() == indices.size();
  a.kind = whole && li.kept.size() == par.getInductionVars().size() ? Access::Full : Access::Slice;
  return a;
}

/// `layout` restricted to the tile dimensions `kept` (in order).
LinearLayout project(const LinearLayout &layout, ArrayRef<unsigned> kept) {
  LinearLayout l = layout;
  for (int64_t d = layout.getRank() - 1; d >= 0; --d)
    if (!llvm::is_contained(kept, static_cast<unsigned>(d)))
      l = l.dropOutDim(d);
  return l.withoutRedundantRegisters();
}

/// The layout of a buffer of `shape` whose dimensions `at` are placed as
/// `proj` places its own and whose other dimensions each thread holds
/// whole, in its highest register slots (row-major among themselves).
LinearLayout embed(const LinearLayout &proj, ArrayRef<int64_t> shape, ArrayRef<unsigned> at) {
  if (at.size() == shape.size())
    return proj;
  LinearLayout l(shape);
  for (LinearLayout::InDim d : {LinearLayout::Register, LinearLayout::Lane, LinearLayout::Warp})
    for (const LinearLayout::Coords &b : proj.getBases(d)) {
      LinearLayout::Coords c(shape.size(), 0);
      for (auto [k, p] : llvm::enumerate(at))
        c[p] = b[k];
      l.addBasis(d, c);
    }
  for (int64_t p = shape.size() - 1; p >= 0; --p) {
    if (llvm::is_contained(at, static_cast<unsigned>(p)))
      continue;
    for (int64_t v = 1; v < LinearLayout::padPow2(shape[p]); v *= 2) {
      LinearLayout::Coords c(shape.size(), 0);
      c[p] = v;
      l.addBasis(LinearLayout::Register, c);
    }
  }
  return l;
}

bool isReplicatedLayout(const LinearLayout &l) {
  for (LinearLayout::InDim d : {LinearLayout::Lane, LinearLayout::Warp})
    for (const LinearLayout::Coords &b : l.getBases(d))
      if (llvm::any_of(b, [](int64_t x) { return x != 0; }))
        return false;
  return true;
}

struct LaunchInference {
  LaunchInference(LaunchOp launch, StringRef chip, int64_t threads)
      : launch(launch), chip(chip), threads(threads) {}
  LaunchOp launch;
  StringRef chip;
  int64_t threads;

  SmallVector<Value> buffers; // register buffers in program order
  llvm::EquivalenceClasses<void *> groups;
  // Forced replicated (locals, irregular access), with the op that forced it.
  DenseMap<Value, Operation *> replicated;
  // Layout per group leader.
  DenseMap<void *, LinearLayout> groupLayout;
  struct SliceUse {
    Value buf;
    ParallelOp par;
    SmallVector<unsigned> kept, at;
    bool reads = false, writes = false;
  };
  SmallVector<SliceUse> sliceUses;
  llvm::MapVector<Operation *, SmallVector<Value>> fullMembers; // per tl.parallel

  void *key(Value v) { return v.getAsOpaquePointer(); }
  void *leader(Value v) { return groups.getLeaderValue(key(v)); }
  std::optional<LinearLayout> layoutOf(Value v) {
    auto it = groupLayout.find(leader(v));
    if (it == groupLayout.end())
      return std::nullopt;
    return it->second;
  }

  bool tcgen05() const { return chip == "sm_100a"; }

  LogicalResult run();
  LogicalResult collect();
  LogicalResult anchor();
  bool propagate();
  /// Lays out the first buffer (in program order) without a layout; false
  /// when every buffer has one.
  bool defaults();
  LogicalResult setGroup(Value v, const LinearLayout &l, Operation *why);
  FailureOr<LinearLayout> accumulatorLayout(GemmOp g);
  FailureOr<LinearLayout> operandALayout(GemmOp g, const LinearLayout &acc);
  LogicalResult insertConversions();
  LogicalResult assignSharedLayouts();
  void writeTypes();
  /// The layout that distributes `par`: its full members', or a default.
  LinearLayout loopLayout(ParallelOp par);
  LogicalResult checkRegisterBudget();
  Value makeTemp(OpBuilder &b, Location loc, Value like, const LinearLayout &l);
};

LogicalResult LaunchInference::collect() {
  launch.walk([&](Operation *op) {
    if (isa<AllocFragmentOp, AllocLocalOp, AllocTmemOp>(op)) {
      Value v = op->getResult(0);
      buffers.push_back(v);
      groups.insert(key(v));
      if (isa<AllocLocalOp>(op))
        replicated.try_emplace(v, op);
    }
  });
  auto note = [&](Operation *op, Value buf, ValueRange idx, bool write) {
    // A reshaped local reads its source's slots (ViewLayouts.cpp).
    if (!isRegisterScope(buf) || buf.getDefiningOp<ReshapeOp>())
      return;
    auto par = op->getParentOfType<ParallelOp>();
    Access a = classify(idx, cast<MemRefType>(buf.getType()), par);
    switch (a.kind) {
    case Access::Full: {
      auto &members = fullMembers[par];
      if (!members.empty())
        groups.unionSets(key(members.front()), key(buf));
      if (!llvm::is_contained(members, buf))
        members.push_back(buf);
      break;
    }
    case Access::Slice: {
      for (SliceUse &u : sliceUses)
        if (u.buf == buf && u.par == par && u.kept == a.kept && u.at == a.at) {
          u.reads |= !write;
          u.writes |= write;
          return;
        }
      sliceUses.push_back({buf, par, a.kept, a.at, !write, write});
      break;
    }
    case Access::Irregular:
      replicated.try_emplace(buf, op);
      break;
    }
  };
  launch.walk([&](Operation *op) {
    if (auto ld = dyn_cast<memref::LoadOp>(op))
      note(op, ld.getMemRef(), ld.getIndices(), false);
    else if (auto st = dyn_cast<memref::StoreOp>(op))
      note(op, st.getMemRef(), st.getIndices(), true);
    else if (auto c = dyn_cast<CopyOp>(op)) {
      // A whole fragment copied to another of its shape: point for point.
      if (isRegisterScope(c.getSrc()) && isRegisterScope(c.getDst()) &&
          cast<MemRefType>(c.getSrc().getType()).getShape() ==
              cast<MemRefType>(c.getDst().getType()).getShape())
        groups.unionSets(key(c.getSrc()), key(c.getDst()));
    } else if (auto t = dyn_cast<TopKOp>(op)) {
      for (Value v : {t.getSrc(), t.getValues(), t.getIndices()})
        if (isRegisterScope(v))
          replicated.try_emplace(v, op);
    }
  });
  // A buffer one loop indexes in two ways, one of them through dimensions
  // indexed otherwise than by the loop's variables, is held whole by every
  // thread: no one layout serves both.
  for (SliceUse &u : sliceUses) {
    bool extended = static_cast<int64_t>(u.at.size()) != cast<MemRefType>(u.buf.getType()).getRank();
    if (!extended)
      continue;
    bool alsoOtherwise = llvm::is_contained(fullMembers[u.par], u.buf);
    for (SliceUse &w : sliceUses)
      alsoOtherwise |= &w != &u && w.buf == u.buf && w.par == u.par;
    if (alsoOtherwise)
      replicated.try_emplace(u.buf, u.par);
  }
  // Parallel loops with no full-shape member still need every register
  // buffer they touch to exist as a group.
  launch.walk([&](ParallelOp par) { (void)fullMembers[par]; });
  return success();
}

FailureOr<LinearLayout> LaunchInference::accumulatorLayout(GemmOp g) {
  auto c = cast<MemRefType>(g.getC().getType());
  int64_t wgs = threads / kWarpgroup;
  if (c.getRank() != 2 || threads % kWarpgroup != 0)
    return g.emitError("T.gemm needs a 2-D accumulator and a thread count that is a multiple of "
                       "128 (whole warpgroups), got ")
           << threads << " threads";
  int64_t M = c.getShape()[0], N = c.getShape()[1];
  if (tcgen05()) {
    if (auto l = LinearLayout::tmem32x32b(M, N, wgs))
      return *l;
    return g.emitError("T.gemm accumulator of shape ")
           << M << "x" << N << " with " << threads
           << " threads is not supported on sm_100a: tcgen05 with cta_group::1 needs 128 rows "
              "and columns that split evenly (a power of two each) over the warpgroups";
  }
  // Warpgroups along M for FullRow (each owns whole rows, so row reductions
  // stay inside a warpgroup) and Square (wider wgmma instructions); along N
  // for FullCol. Fall back to the other split when the preferred one does
  // not fit wgmma's 64-row tiles and 256-column limit.
  SmallVector<int64_t> order;
  for (int64_t m = wgs; m >= 1; m /= 2)
    order.push_back(m);
  if (g.getPolicy() == GemmPolicy::FullCol)
    std::reverse(order.begin(), order.end());
  for (int64_t alongM : order)
    if (auto l = LinearLayout::wgmmaAccumulator(M, N, wgs, alongM))
      return *l;
  return g.emitError("T.gemm accumulator of shape ")
         << M << "x" << N << " cannot be spread over " << wgs
         << " warpgroup(s) on sm_90a: each warpgroup needs a multiple of 64 rows and 8 to 256 "
            "columns (a power of two when the warpgroups split the columns)";
}

FailureOr<LinearLayout> LaunchInference::operandALayout(GemmOp g, const LinearLayout &acc) {
  auto a = cast<MemRefType>(g.getA().getType());
  int64_t M = acc.getOutShape()[0];
  int64_t K = a.getShape()[g.getTransposeA() ? 0 : 1];
  if (g.getTransposeA())
    return g.emitError("an A operand in registers cannot be transposed");
  if (tcgen05()) {
    // tcgen05 reads A from tensor memory: written there row per TMEM lane.
    if (auto l = LinearLayout::tmem32x32b(M, K, threads / kWarpgroup))
      return *l;
    return g.emitError("a register A operand of ") << M << "x" << K
                                                   << " does not fit tensor memory's 128 lanes";
  }
  if (getElementBits(a.getElementType()) != 16)
    return g.emitError("wgmma reads A from registers only for 16-bit operands (bf16, f16)");
  // The 16-bit A fragment of wgmma is the accumulator layout of an M x K
  // tile; warpgroups that split the accumulator along N all need every row
  // they share, so their warp bits replicate.
  int64_t wgs = threads / kWarpgroup;
  int64_t alongM = 1;
  unsigned rowBits = 0;
  for (const LinearLayout::Coords &w : acc.getBases(LinearLayout::Warp))
    if (w[0] != 0)
      ++rowBits;
  alongM = int64_t{1} << (rowBits - 2); // two warp bits inside a warpgroup
  auto l = LinearLayout::wgmmaAccumulator(M, K, alongM, alongM);
  if (!l)
    return g.emitError("register A operand of ") << M << "x" << K << " does not fit wgmma";
  LinearLayout r = *l;
  for (int64_t n = alongM; n < wgs; n *= 2)
    r.addBasis(LinearLayout::Warp, {0, 0});
  return r;
}

LogicalResult LaunchInference::setGroup(Value v, const LinearLayout &l, Operation *why) {
  void *k = leader(v);
  auto it = groupLayout.find(k);
  if (it == groupLayout.end()) {
    groupLayout[k] = l;
    return success();
  }
  if (it->second == l)
    return success();
  // Conflicting anchors inside one group: the first (an accumulator) wins;
  // the other use gets a conversion (insertConversions).
  (void)why;
  return success();
}

LogicalResult LaunchInference::anchor() {
  WalkResult r = launch.walk([&](GemmOp g) -> WalkResult {
    if (!isRegisterScope(g.getC()))
      return WalkResult::advance();
    auto acc = accumulatorLayout(g);
    if (failed(acc))
      return WalkResult::interrupt();
    if (replicated.contains(g.getC())) {
      g.getC().getDefiningOp()->emitError(
          "this buffer is a T.gemm accumulator and is also indexed element by element with "
          "something other than the T.Parallel loop variables; give that use its own buffer");
      return WalkResult::interrupt();
    }
    (void)setGroup(g.getC(), *acc, g);
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    return failure();
  launch.walk([&](AllocTmemOp t) {
    auto type = t.getType();
    if (type.getRank() == 2)
      if (auto l = LinearLayout::tmem32x32b(type.getShape()[0], type.getShape()[1],
                                            std::max<int64_t>(1, threads / kWarpgroup)))
        (void)setGroup(t.getResult(), *l, t);
  });
  // Register A operands: anchor only where their group has no layout yet
  // (an accumulator anchor wins; a mismatch becomes a conversion).
  r = launch.walk([&](GemmOp g) -> WalkResult {
    if (!isRegisterScope(g.getA()) || !layoutOf(g.getC()))
      return WalkResult::advance();
    auto l = operandALayout(g, *layoutOf(g.getC()));
    if (failed(l))
      return WalkResult::interrupt();
    if (!layoutOf(g.getA()) && !replicated.contains(g.getA()))
      (void)setGroup(g.getA(), *l, g);
    return WalkResult::advance();
  });
  return failure(r.wasInterrupted());
}

bool LaunchInference::propagate() {
  bool changed = false;
  launch.walk([&](ReduceOp red) {
    if (!isRegisterScope(red.getSrc()) || !isRegisterScope(red.getDst()) ||
        replicated.contains(red.getDst()) || layoutOf(red.getDst()))
      return;
    auto src = layoutOf(red.getSrc());
    if (!src)
      return;
    SmallVector<unsigned> kept;
    for (unsigned d = 0; d < src->getRank(); ++d)
      if (d != red.getDim())
        kept.push_back(d);
    groupLayout[leader(red.getDst())] = project(*src, kept);
    changed = true;
  });
  for (SliceUse &u : sliceUses) {
    if (replicated.contains(u.buf) || layoutOf(u.buf))
      continue;
    // A loop with full members waits for their layout; one without any is
    // laid out by default, and what it indexes follows.
    auto &members = fullMembers[u.par];
    if (!members.empty() && !layoutOf(members.front()))
      continue;
    groupLayout[leader(u.buf)] = embed(project(loopLayout(u.par), u.kept),
                                       cast<MemRefType>(u.buf.getType()).getShape(), u.at);
    changed = true;
  }
  return changed;
}

bool LaunchInference::defaults() {
  for (Value v : buffers) {
    if (layoutOf(v))
      continue;
    auto type = cast<MemRefType>(v.getType());
    bool rep = false;
    for (void *m : groups.members(key(v)))
      rep |= replicated.contains(Value::getFromOpaquePointer(m));
    if (rep) {
      groupLayout[leader(v)] = LinearLayout::replicated(type.getShape(), threads);
      return true;
    }
    // 16-byte runs of the narrowest element the group is copied from or to.
    int64_t minBytes = 16;
    for (void *mk : groups.members(key(v))) {
      Value m = Value::getFromOpaquePointer(mk);
      minBytes = std::min(minBytes, elemBytes(cast<MemRefType>(m.getType()).getElementType()));
      for (Operation *user : m.getUsers())
        if (auto copy = dyn_cast<CopyOp>(user)) {
          Value other = copy.getSrc() == m ? copy.getDst() : copy.getSrc();
          minBytes = std::min(minBytes,
                              elemBytes(cast<MemRefType>(other.getType()).getElementType()));
        }
    }
    int64_t vec = 16 / minBytes;
    int64_t inner = LinearLayout::padPow2(type.getShape().back());
    int64_t numel = 1;
    for (int64_t s : LinearLayout::padShape(type.getShape()))
      numel *= s;
    while (vec > 1 && (inner % vec != 0 || numel < vec * threads))
      vec /= 2;
    groupLayout[leader(v)] = LinearLayout::blocked(type.getShape(), threads, vec);
    return true;
  }
  return false;
}

Value LaunchInference::makeTemp(OpBuilder &b, Location loc, Value like, const LinearLayout &l) {
  auto type = cast<MemRefType>(like.getType());
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(&launch.getBodyBlock());
  auto tmpType = withBufferLayout(
      getScopedMemRefType(type.getShape(), type.getElementType(), MemScope::Fragment), l);
  return AllocFragmentOp::create(b, loc, tmpType).getResult();
}

LogicalResult LaunchInference::insertConversions() {
  OpBuilder b(launch.getContext());
  // Projections read or written by a loop that places them elsewhere.
  for (SliceUse &u : sliceUses) {
    if (replicated.contains(u.buf))
      continue;
    LinearLayout driver = loopLayout(u.par);
    LinearLayout have = *layoutOf(u.buf);
    if (isReplicatedLayout(have) || alignAlongLoop(driver, u.kept, u.at, have))
      continue;
    Location loc = u.par.getLoc();
    Value tmp = makeTemp(b, loc, u.buf,
                         embed(project(driver, u.kept),
                               cast<MemRefType>(u.buf.getType()).getShape(), u.at));
    b.setInsertionPoint(u.par);
    if (u.reads)
      ConvertLayoutOp::create(b, loc, u.buf, tmp);
    if (u.writes) {
      b.setInsertionPointAfter(u.par);
      ConvertLayoutOp::create(b, loc, tmp, u.buf);
    }
    u.par.getBody().walk([&](Operation *op) {
      for (OpOperand &o : op->getOpOperands())
        if (o.get() == u.buf)
          o.set(tmp);
    });
  }
  // Reductions into a destination laid out otherwise than their projection.
  SmallVector<ReduceOp> reduces;
  launch.walk([&](ReduceOp r) { reduces.push_back(r); });
  for (ReduceOp red : reduces) {
    if (!isRegisterScope(red.getSrc()) || !isRegisterScope(red.getDst()))
      continue;
    SmallVector<unsigned> kept;
    LinearLayout src = *layoutOf(red.getSrc());
    for (unsigned d = 0; d < src.getRank(); ++d)
      if (d != red.getDim())
        kept.push_back(d);
    LinearLayout want = project(src, kept);
    LinearLayout have = *layoutOf(red.getDst());
    if (have == want || isReplicatedLayout(have))
      continue;
    Value dst = red.getDst();
    Value tmp = makeTemp(b, red.getLoc(), dst, want);
    b.setInsertionPoint(red);
    if (!red.getClear())
      ConvertLayoutOp::create(b, red.getLoc(), dst, tmp);
    red.getDstMutable().set(tmp);
    b.setInsertionPointAfter(red);
    ConvertLayoutOp::create(b, red.getLoc(), tmp, dst);
  }
  // Register A operands produced in another layout.
  SmallVector<GemmOp> gemms;
  launch.walk([&](GemmOp g) { gemms.push_back(g); });
  for (GemmOp g : gemms) {
    if (!isRegisterScope(g.getA()) || !layoutOf(g.getC()))
      continue;
    auto want = operandALayout(g, *layoutOf(g.getC()));
    if (failed(want))
      return failure();
    if (*layoutOf(g.getA()) == *want)
      continue;
    Value tmp = makeTemp(b, g.getLoc(), g.getA(), *want);
    b.setInsertionPoint(g);
    ConvertLayoutOp::create(b, g.getLoc(), g.getA(), tmp);
    g.getAMutable().set(tmp);
  }
  return success();
}

LogicalResult LaunchInference::assignSharedLayouts() {
  // MMA operand tiles: the chunked, swizzled layout TMA writes and the MMA
  // descriptors read (128-byte swizzle where rows allow).
  // Operands that are views (a K-slice, a ring's stage) lay out the buffer
  // they are views of.
  llvm::SetVector<Value> operands;
  WalkResult w = launch.walk([&](GemmOp g) -> WalkResult {
    for (Value v : {g.getA(), g.getB()}) {
      if (getMemScope(v.getType()) != MemScope::Shared)
        continue;
      Value root = getViewRoot(v);
      if (root.getDefiningOp<ReshapeOp>())
        return g.emitError("a T.reshape or T.view of a shared buffer cannot be a T.gemm operand "
                           "on the GPU; allocate the tile in the shape the MMA reads");
      operands.insert(root);
    }
    return WalkResult::advance();
  });
  if (w.wasInterrupted())
    return failure();
  for (Value v : operands) {
    auto alloc = v.getDefiningOp<AllocSharedOp>();
    if (!alloc || getBufferLayout(v.getType()))
      continue;
    FailureOr<LinearLayout> l = mmaSharedLayout(alloc.getType(), alloc);
    if (failed(l))
      return failure();
    alloc.getResult().setType(withBufferLayout(alloc.getType(), *l));
  }
  if (!tcgen05())
    return success();
  // tcgen05 block scales: the tile tcgen05.cp copies to tensor memory (in
  // program order, so the first bad one is reported).
  llvm::SetVector<Value> scales;
  launch.walk([&](GemmOp g) {
    for (Value v : {g.getScaleA(), g.getScaleB()})
      if (v && getMemScope(v.getType()) == MemScope::Shared)
        scales.insert(v);
  });
  for (Value v : scales) {
    auto alloc = v.getDefiningOp<AllocSharedOp>();
    if (!alloc || getBufferLayout(v.getType()))
      continue;
    MemRefType type = alloc.getType();
    if (!isa<Float8E8M0FNUType>(type.getElementType()) || type.getRank() != 2)
      return alloc.emitError("block scales of a tcgen05 T.gemm must be a 2-D ue8m0 shared "
                             "buffer (rows, K / 32)");
    std::optional<LinearLayout> l =
        LinearLayout::tcgen05ScaleStaging(type.getShape()[0], type.getShape()[1]);
    if (!l)
      return alloc.emitError("tcgen05 block scales need a power-of-two number of rows (at least "
                             "128) and of K / 32 columns (at least 4, one 32-bit word per row); "
                             "got ")
             << type.getShape()[0] << "x" << type.getShape()[1];
    alloc.getResult().setType(withBufferLayout(type, *l));
  }
  return success();
}

LogicalResult LaunchInference::checkRegisterBudget() {
  bool ok = true;
  for (Value v : buffers) {
    auto l = layoutOf(v);
    auto type = cast<MemRefType>(v.getType());
    if (!l || getMemScope(type) == MemScope::Tmem)
      continue;
    int64_t bits = std::max<int64_t>(32, getElementBits(type.getElementType()));
    int64_t words = l->getInSize(LinearLayout::Register) * bits / 32;
    if (words <= kMaxRegisterWords)
      continue;
    std::string shape;
    for (int64_t d : type.getShape())
      shape += (shape.empty() ? "" : "x") + std::to_string(d);
    auto diag = v.getDefiningOp()->emitError()
                << describeBuffer(v) << " (" << shape << " " << describeDType(type.getElementType())
                << ") would take " << words
                << " registers in every thread (a thread has at most 255); ";
    auto it = replicated.find(v);
    if (it != replicated.end() && !isa<AllocLocalOp>(it->second)) {
      diag << "every thread holds all of it because of an access whose indices are not "
              "T.Parallel loop variables. Index it with the loop's variables, or put it in "
              "shared memory";
      if (isa<ParallelOp>(it->second))
        diag.attachNote(it->second->getLoc())
            << "this T.Parallel loop indexes it both by its variables and otherwise";
      else
        diag.attachNote(it->second->getLoc()) << "the access";
    } else {
      diag << "put it in shared memory, split it, or use more threads";
    }
    ok = false;
  }
  return success(ok);
}

LinearLayout LaunchInference::loopLayout(ParallelOp par) {
  auto &members = fullMembers[par];
  if (!members.empty())
    if (std::optional<LinearLayout> l = layoutOf(members.front()))
      return *l;
  // No register buffer drives it: runs of 16 bytes of the narrowest element
  // it stores, so a thread's points share address arithmetic.
  int64_t minBytes = 16;
  par.getBody().walk([&](memref::StoreOp st) {
    minBytes =
        std::min(minBytes, elemBytes(cast<MemRefType>(st.getMemRef().getType()).getElementType()));
  });
  int64_t vec = 16 / minBytes;
  int64_t numel = 1;
  for (int64_t e : LinearLayout::padShape(par.getExtents()))
    numel *= e;
  while (vec > 1 &&
         (LinearLayout::padPow2(par.getExtents().back()) % vec != 0 || numel < vec * threads))
    vec /= 2;
  return LinearLayout::blocked(par.getExtents(), threads, vec);
}

void LaunchInference::writeTypes() {
  for (Value v : buffers)
    if (auto l = layoutOf(v))
      v.setType(withBufferLayout(cast<MemRefType>(v.getType()), *l));
  for (auto &[op, members] : fullMembers) {
    auto par = cast<ParallelOp>(op);
    par.setLayoutAttr(LayoutAttr::get(par.getContext(), loopLayout(par)));
  }
}

LogicalResult LaunchInference::run() {
  if (failed(checkRegisterViews(launch)) || failed(collect()) || failed(anchor()))
    return failure();
  // One default at a time, so that what it implies (projections, reductions)
  // propagates before the next buffer falls back to a default.
  do {
    while (propagate()) {
    }
  } while (defaults());
  if (failed(checkRegisterBudget()))
    return failure();
  // Temporaries made by conversions are laid out on creation.
  writeTypes();
  if (failed(insertConversions()) || failed(assignSharedLayouts()))
    return failure();
  return retypeViews(launch);
}

struct InferLayouts : public tl::impl::TlInferLayoutsBase<InferLayouts> {
  using TlInferLayoutsBase::TlInferLayoutsBase;

  void runOnOperation() override {
    getOperation().walk([&](LaunchOp launch) {
      LaunchInference inf(launch, chip, static_cast<int64_t>(launch.getThreads()));
      if (failed(inf.run()))
        signalPassFailure();
    });
  }
};

} // namespace
