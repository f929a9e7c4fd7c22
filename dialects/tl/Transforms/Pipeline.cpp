// tl-pipeline: a T.Pipelined loop's global -> shared copies become
// asynchronous copies into rings of `num_stages` buffers, guarded by
// mbarriers, with every wait and arrival an explicit op.
//
// Copies are grouped by their first reader: the copies whose destinations
// the same op reads first (a GEMM's A and B tiles) form one stream with one
// pair of barrier arrays, full[stages] and empty[stages]; a loop that reads
// K before V (attention) gets two streams, so the first MMA can start before
// V lands. For iteration i, stage s = i % stages and phase p = (i / stages) % 2:
//
//   producer side (tagged `tl.producer`; tl-warp-specialize moves it to a
//   warp of its own, without it the same threads run it first):
//     tl.barrier_wait empty[s], p ^ 1          the slot is free
//     if tl.elect: expect_tx(full[s], bytes) + TMA copies completing on full[s]
//     if tl.elect {warp}: cp.async copies, each lane arriving on full[s]
//                                              ({warp, warps = 4}: a stream
//                                              with gathers, four warps)
//   consumer side:
//     tl.barrier_wait full[s], p               before the stream's first reader
//     ... readers use tl.view ring[s] ...
//     tl.barrier_arrive empty[s] {per_warp}    after the stream's last reader
//                                              (per thread where threads load
//                                              a stage cp.async fills)
//     tl.mma_commit empty[s]                   sm_100a: after the last T.gemm
//                                              reader instead (tcgen05 MMAs
//                                              read the stage asynchronously);
//                                              a stage only MMAs read is
//                                              waited for by their issuing
//                                              thread (tl.elect) alone
//
// A copy goes through TMA when its source is a kernel tensor and the box
// fits a tensor map (at most 256 per dimension, 16-byte rows, the swizzle of
// the destination's layout; one map per swizzle chunk of columns); the maps
// are recorded on the kernel (`tl.tma_maps`) for the manifest. Otherwise a
// copy of 4, 8 or 16-byte elements uses cp.async (on sm_100a also rows of
// 8-bit elements, 4 to 16 bytes at a time: the block scales); a gather
// (T.copy(KV[b, Idx[b, s, t*BI:t*BI+BI], 0:D], KV_s): rows named by a slice
// of a global index tensor) uses cp.async in 16, 8 or 4-byte pieces, issued
// by up to four warps (`tl.copy_warps`), a group of lanes per row; any
// other copy (a gather whose
// rows are in shared memory included) stays synchronous where it was. A loop
// whose destinations are written by anything else, or read after the loop,
// is left alone (a plain loop).
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

#include "llvm/ADT/SetVector.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLPIPELINE
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

constexpr int64_t kWarpSize = 32;
/// The most warps that issue one stream's cp.async copies (a warpgroup).
constexpr int64_t kMaxCopyWarps = 4;

struct AsyncCopy {
  CopyOp op;
  AllocSharedOp dst;
  bool tma = false;
  DictionaryAttr map; // TMA: the tensor map (box of one chunk)
  int64_t bytes = 0;  // TMA: transaction bytes of the whole tile
};

struct Stream {
  SmallVector<AsyncCopy> copies;
  Operation *firstReader = nullptr;
  // The last reader that is a tcgen05 MMA (sm_100a: it reads the stage
  // asynchronously, so the stage goes back by tcgen05.commit) and the last
  // other reader (the consumers' warps arrive once done).
  Operation *lastMmaReader = nullptr, *lastOtherReader = nullptr;
  // Some reader loads the stage with the threads' own loads (not a T.gemm)
  // and cp.async fills it: every consumer thread then releases it (below).
  bool threadReads = false;
  // Warps issuing the stream's cp.async copies (tl.elect {warp, warps}).
  int64_t copyWarps = 1;
};

/// The later of two ops of one block (either may be null).
Operation *later(Operation *a, Operation *b) {
  if (!a || !b)
    return a ? a : b;
  return a->isBeforeInBlock(b) ? b : a;
}

/// The op of `block` that contains `op`.
Operation *topIn(Block &block, Operation *op) {
  while (op && op->getBlock() != &block)
    op = op->getParentOp();
  return op;
}

/// The tensor map of a TMA copy, or null when the copy cannot use TMA.
DictionaryAttr tmaMap(CopyOp copy, AllocSharedOp dst, bool tcgen05) {
  auto arg = dyn_cast<BlockArgument>(copy.getSrc());
  auto fn = copy->getParentOfType<func::FuncOp>();
  if (!arg || !fn || arg.getOwner() != &fn.getBody().front())
    return {};
  auto srcT = cast<MemRefType>(copy.getSrc().getType());
  MemRefType dstT = dst.getType();
  Type elem = dstT.getElementType();
  if (srcT.getElementType() != elem || dstT.getRank() > 2 || !copy.getDstOffsets().empty())
    return {};
  bool fp4 = isa<Float4E2M1FNType>(elem);
  if (fp4 && !tcgen05)
    return {};
  // The box: the source sizes; its non-unit dimensions are the tile's.
  SmallVector<int64_t> box(copy.getSrcSizes().begin(), copy.getSrcSizes().end());
  SmallVector<int64_t> tile;
  for (int64_t s : box)
    if (s != 1)
      tile.push_back(s);
  if (ArrayRef<int64_t>(tile) != dstT.getShape() && !(tile.empty() && dstT.getNumElements() == 1))
    return {};
  int64_t eb = fp4 ? 1 : getElementBits(elem) / 8;
  if (eb < 1)
    return {};
  std::string swizzle = "none";
  int64_t chunkCols = dstT.getShape().back();
  if (int64_t span = getSwizzleBytes(dstT)) {
    swizzle = std::to_string(span) + "B";
    chunkCols = span / eb;
  }
  // The box's innermost dimension is the tensor's (contiguous) one and the
  // tile's last: TMA moves 16-byte multiples of it. A strided gather (a
  // column of a row-major tensor) is left to cp.async.
  if ((chunkCols * eb) % 16 != 0 || srcT.getShape().back() == 1 ||
      copy.getSrcSizes().back() != dstT.getShape().back())
    return {};
  box.back() = chunkCols;
  for (int64_t b : box)
    if (b < 1 || b > 256)
      return {};
  Builder b(copy.getContext());
  SmallVector<NamedAttribute> fields{
      b.getNamedAttr("param", b.getI64IntegerAttr(arg.getArgNumber())),
      b.getNamedAttr("dtype", b.getStringAttr(describeDType(elem))),
      b.getNamedAttr("box", b.getDenseI64ArrayAttr(box)),
      b.getNamedAttr("swizzle", b.getStringAttr(swizzle))};
  if (fp4)
    fields.push_back(b.getNamedAttr("unpack_fp4", b.getUnitAttr()));
  return b.getDictionaryAttr(fields);
}

/// Whether cp.async can fill `dst` from the copy's source: elements of 4, 8
/// or 16 bytes one by one; on sm_100a also rows of 8-bit elements (FP8, the
/// ue8m0 block scales, whose 4-byte rows are too narrow for TMA) in 4, 8 or
/// 16-byte pieces.
bool cpAsyncOk(CopyOp copy, AllocSharedOp dst, bool tcgen05) {
  auto srcT = cast<MemRefType>(copy.getSrc().getType());
  Type se = srcT.getElementType();
  unsigned bits = getElementBits(se);
  if (bits < 32 && !tcgen05)
    return false;
  return getCpAsyncVectorBytes(srcT, copy.getSrcSizes(), dst.getType(), copy.getDstSizes()) > 0;
}

/// A ring of `stages` copies of `alloc`'s buffer, its layout extended by the
/// stage index above the tile's offset bits.
AllocSharedOp makeRing(OpBuilder &b, AllocSharedOp alloc, int64_t stages) {
  MemRefType t = alloc.getType();
  SmallVector<int64_t> shape{stages};
  shape.append(t.getShape().begin(), t.getShape().end());
  MemRefType ringT = getScopedMemRefType(shape, t.getElementType(), MemScope::Shared);
  if (std::optional<LinearLayout> l = getBufferLayout(t)) {
    SmallVector<int64_t> padded{LinearLayout::padPow2(stages)};
    padded.append(l->getOutShape().begin(), l->getOutShape().end());
    LinearLayout r(padded);
    for (const LinearLayout::Coords &c : l->getBases(LinearLayout::Offset)) {
      LinearLayout::Coords nc{0};
      nc.append(c.begin(), c.end());
      r.addBasis(LinearLayout::Offset, nc);
    }
    for (int64_t s = 1; s < padded[0]; s *= 2) {
      LinearLayout::Coords nc(padded.size(), 0);
      nc[0] = s;
      r.addBasis(LinearLayout::Offset, nc);
    }
    ringT = withBufferLayout(ringT, r);
  }
  return AllocSharedOp::create(b, alloc.getLoc(), ringT);
}

struct PipelineLoop {
  PipelinedOp loop;
  LaunchOp launch;
  bool tcgen05;
  int64_t consumerWarps;
  SmallVector<Attribute> &tmaMaps;

  LogicalResult run();
};

LogicalResult PipelineLoop::run() {
  Block &body = loop.getBodyBlock();
  int64_t stages = std::max<int64_t>(1, loop.getNumStages());
  // Candidate copies: global -> a whole shared buffer, at the top of the body.
  SmallVector<AsyncCopy> copies;
  DenseSet<Operation *> copyOps;
  for (Operation &op : body) {
    auto copy = dyn_cast<CopyOp>(&op);
    if (!copy || copy.getBarrier() || getMemScope(copy.getSrc().getType()) != MemScope::Global)
      continue;
    // A gather streams through cp.async (a row address per piece) when its
    // rows come from global memory, which the producer can read on its own;
    // rows in shared memory are written by the consumers: it stays synchronous.
    bool gather = static_cast<bool>(copy.getRows());
    if (gather && getMemScope(copy.getRows().getType()) != MemScope::Global)
      continue;
    auto dst = copy.getDst().getDefiningOp<AllocSharedOp>();
    if (!dst || dst->getParentOp() != launch.getOperation())
      continue;
    AsyncCopy ac{copy, dst};
    if (gather) {
      if (!getGatherVectorBytes(cast<MemRefType>(copy.getSrc().getType()), copy.getSrcSizes(),
                                dst.getType(), copy.getDstSizes()))
        continue;
    } else if (DictionaryAttr m = tmaMap(copy, dst, tcgen05)) {
      ac.tma = true;
      ac.map = m;
      ac.bytes = getBufferBytes(dst.getType());
      if (isa<Float4E2M1FNType>(dst.getType().getElementType()))
        ac.bytes = dst.getType().getNumElements(); // unpacked, a byte each
    } else if (!cpAsyncOk(copy, dst, tcgen05)) {
      continue;
    }
    copies.push_back(ac);
    copyOps.insert(copy);
  }
  if (copies.empty())
    return success();
  // A destination and the views of it (K-slices of a tile, reshapes): a
  // reader of any of them reads the stage.
  auto aliases = [](Value root) {
    SetVector<Value> set;
    set.insert(root);
    for (size_t i = 0; i < set.size(); ++i)
      for (Operation *user : set[i].getUsers())
        if (isa<ViewOp, ReshapeOp>(user) && user->getOperand(0) == set[i])
          set.insert(user->getResult(0));
    return set;
  };
  // The destinations must be filled by these copies only, and read only in
  // this loop.
  for (AsyncCopy &c : copies)
    for (Value a : aliases(c.dst.getResult()))
      for (Operation *user : a.getUsers()) {
        if (copyOps.contains(user))
          continue;
        if (!loop->isAncestor(user))
          return success();
        if (isa<memref::StoreOp, FillOp, AtomicAddOp>(user) ||
            (isa<CopyOp>(user) && cast<CopyOp>(user).getDst() == a))
          return success();
      }
  // Streams by first reader.
  llvm::MapVector<Operation *, Stream> streams;
  for (AsyncCopy &c : copies) {
    Operation *first = nullptr, *lastMma = nullptr, *lastOther = nullptr;
    bool threadReads = false;
    SetVector<Value> stageValues = aliases(c.dst.getResult());
    for (Operation &op : body) {
      if (copyOps.contains(&op))
        continue;
      // Taking a view reads nothing; what reads the view does.
      if (isa<ViewOp, ReshapeOp>(op))
        continue;
      bool reads = false;
      op.walk([&](Operation *inner) {
        for (Value v : inner->getOperands())
          reads |= stageValues.contains(v);
      });
      if (!reads)
        continue;
      if (!first)
        first = &op;
      // On sm_100a every T.gemm is a tcgen05 MMA.
      if (tcgen05 && isa<GemmOp>(op))
        lastMma = &op;
      else
        lastOther = &op;
      threadReads |= !isa<GemmOp>(op);
    }
    if (!first)
      return success(); // a copy nothing reads: leave the loop alone
    Stream &s = streams[first];
    s.firstReader = first;
    s.lastMmaReader = later(s.lastMmaReader, lastMma);
    s.lastOtherReader = later(s.lastOtherReader, lastOther);
    s.threadReads |= threadReads;
    s.copies.push_back(c);
  }

  MLIRContext *ctx = loop.getContext();
  Location loc = loop.getLoc();
  OpBuilder b(ctx);
  // Rings and barriers at the top of the launch.
  b.setInsertionPoint(copies.front().dst);
  DenseMap<Operation *, AllocSharedOp> ring;
  for (AsyncCopy &c : copies)
    if (!ring.count(c.dst))
      ring[c.dst] = makeRing(b, c.dst, stages);
  struct Barriers {
    Value full, empty;
  };
  SmallVector<Barriers> bars;
  for (auto &[first, s] : streams) {
    int64_t cpAsyncCopies = llvm::count_if(s.copies, [](const AsyncCopy &c) { return !c.tma; });
    bool anyTma = llvm::any_of(s.copies, [](const AsyncCopy &c) { return c.tma; });
    // A stream with gathers is issued by up to four warps (the producer
    // warpgroup once warp-specialised): a gathered tile is thousands of
    // cp.async pieces, more than one warp issues in the time the consumers
    // take per tile. Other cp.async copies (scale columns) by one warp.
    bool gathers = llvm::any_of(s.copies, [](AsyncCopy c) { return !c.tma && c.op.getRows(); });
    s.copyWarps = gathers ? std::min<int64_t>(kMaxCopyWarps, consumerWarps) : 1;
    // Every lane of the copying warps arrives once per cp.async copy (the
    // .noinc arrival counts against the expected count).
    int64_t fullCount = (anyTma ? 1 : 0) + cpAsyncCopies * kWarpSize * s.copyWarps;
    // Released by one tcgen05.commit after the MMAs, and by each consumer
    // warp after the other readers (wgmma), or by each consumer thread where
    // threads load the stage themselves: a warp's lane-0 arrival orders the
    // other lanes' loads only through bar.warp.sync, which compute-sanitizer
    // does not model (it reports the next round's cp.async as a race).
    // (TMA writes are invisible to it, so only cp.async streams need this.)
    s.threadReads &= cpAsyncCopies > 0;
    int64_t releasers = s.threadReads ? consumerWarps * kWarpSize : consumerWarps;
    int64_t emptyCount = (s.lastMmaReader ? 1 : 0) + (s.lastOtherReader ? releasers : 0);
    auto barT = BarrierType::get(ctx, stages);
    Value full = AllocBarrierOp::create(b, loc, barT, b.getI64IntegerAttr(fullCount)).getResult();
    Value empty =
        AllocBarrierOp::create(b, loc, barT, b.getI64IntegerAttr(emptyCount)).getResult();
    bars.push_back({full, empty});
  }

  // Stage and phase of this iteration.
  b.setInsertionPointToStart(&body);
  auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
  // The running iteration count (across every loop this block runs, so a
  // persistent kernel's stages and phases continue from tile to tile): a
  // per-thread counter, read at the top of the body and bumped at the end.
  Value counter;
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(copies.front().dst);
    auto i32 = b.getI32Type();
    MemRefType ct = withBufferLayout(getScopedMemRefType({1}, i32, MemScope::Local),
                                     LinearLayout::replicated({1}, consumerWarps * kWarpSize));
    counter = AllocLocalOp::create(b, loc, ct, b.getIntegerAttr(i32, 0)).getResult();
  }
  auto state = [&](Operation *op) { op->setAttr(kPipelineStateAttrName, UnitAttr::get(ctx)); };
  Value cnt = memref::LoadOp::create(b, loc, counter, ValueRange{c(0)});
  state(cnt.getDefiningOp());
  Value it = arith::IndexCastOp::create(b, loc, b.getIndexType(), cnt);
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(body.getTerminator());
    Value next = arith::AddIOp::create(b, loc, cnt,
                                       arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(1)));
    state(next.getDefiningOp());
    state(memref::StoreOp::create(b, loc, next, counter, ValueRange{c(0)}));
  }
  Value stage = arith::RemUIOp::create(b, loc, it, c(stages));
  Value phase = arith::AndIOp::create(b, loc, arith::DivUIOp::create(b, loc, it, c(stages)), c(1));
  Value emptyPhase = arith::XOrIOp::create(b, loc, phase, c(1));
  SmallVector<Operation *> stageOps{it.getDefiningOp(), stage.getDefiningOp(),
                                    phase.getDefiningOp(), emptyPhase.getDefiningOp()};
  // Views of this stage, for every reader in the body.
  DenseMap<Operation *, Value> view;
  for (auto &[old, r] : ring) {
    MemRefType t = cast<AllocSharedOp>(old).getType();
    SmallVector<Value> offs{stage};
    SmallVector<int64_t> sizes{1};
    for (int64_t d : t.getShape()) {
      offs.push_back(c(0));
      sizes.push_back(d);
    }
    view[old] = ViewOp::create(b, loc, t, r.getResult(), offs, sizes).getResult();
  }
  auto tag = [&](Operation *op) { op->setAttr(kProducerAttrName, UnitAttr::get(ctx)); };
  unsigned si = 0;
  for (auto &[first, s] : streams) {
    Barriers br = bars[si++];
    // Producer: wait for the slot, then the copies of the stream (where the
    // last of them was, so every offset they compute is available).
    b.setInsertionPoint(s.copies.back().op);
    tag(BarrierWaitOp::create(b, loc, br.empty, stage, emptyPhase));
    int64_t tx = 0;
    for (AsyncCopy &ac : s.copies)
      if (ac.tma)
        tx += ac.bytes;
    if (tx) {
      Value one = ElectOp::create(b, loc, false);
      auto ifOp = scf::IfOp::create(b, loc, one, /*withElse=*/false);
      tag(ifOp);
      OpBuilder ib = OpBuilder::atBlockTerminator(ifOp.thenBlock());
      tag(one.getDefiningOp());
      BarrierExpectTxOp::create(ib, loc, br.full, stage,
                                arith::ConstantIndexOp::create(ib, loc, tx), /*arrive=*/true);
      for (AsyncCopy &ac : s.copies) {
        if (!ac.tma)
          continue;
        int64_t index = tmaMaps.size();
        tmaMaps.push_back(ac.map);
        // One map per chunk of columns: the same map serves every chunk.
        ac.op->moveBefore(ifOp.thenBlock()->getTerminator());
        ac.op.getBarrierMutable().assign(br.full);
        ac.op.getBarrierIndexMutable().assign(stage);
        ac.op.setTmaAttr(b.getI64IntegerAttr(index));
      }
      // The builder pointed before the stream's last copy; if that copy went into the `if`,
      // so did the insertion point: what follows goes after the `if`, not inside it.
      b.setInsertionPointAfter(ifOp);
    }
    if (llvm::any_of(s.copies, [](const AsyncCopy &a) { return !a.tma; })) {
      Value warp = ElectOp::create(b, loc, true, s.copyWarps);
      tag(warp.getDefiningOp());
      auto ifOp = scf::IfOp::create(b, loc, warp, /*withElse=*/false);
      tag(ifOp);
      for (AsyncCopy &ac : s.copies) {
        if (ac.tma)
          continue;
        ac.op->moveBefore(ifOp.thenBlock()->getTerminator());
        ac.op.getBarrierMutable().assign(br.full);
        ac.op.getBarrierIndexMutable().assign(stage);
        if (s.copyWarps > 1)
          ac.op->setAttr(kCopyWarpsAttrName, b.getI64IntegerAttr(s.copyWarps));
        // tcgen05 reads the stage through the async proxy (descriptors,
        // tcgen05.cp): the copying lanes fence before they arrive.
        if (s.lastMmaReader)
          ac.op->setAttr(kAsyncProxyAttrName, b.getUnitAttr());
      }
    }
    // Consumer: wait before the first reader, release after the last. A
    // stage only MMAs read is waited for by the thread that issues them: the
    // others neither read it nor hold up its release, so they could fall
    // behind its barrier phases.
    b.setInsertionPoint(s.firstReader);
    if (s.lastOtherReader) {
      BarrierWaitOp::create(b, loc, br.full, stage, phase);
    } else {
      auto ifOp = scf::IfOp::create(b, loc, ElectOp::create(b, loc, false), /*withElse=*/false);
      OpBuilder ib = OpBuilder::atBlockTerminator(ifOp.thenBlock());
      BarrierWaitOp::create(ib, loc, br.full, stage, phase);
    }
    if (s.lastMmaReader) {
      b.setInsertionPointAfter(s.lastMmaReader);
      MmaCommitOp::create(b, loc, br.empty, stage);
    }
    if (s.lastOtherReader) {
      b.setInsertionPointAfter(s.lastOtherReader);
      BarrierArriveOp::create(b, loc, br.empty, stage, /*per_warp=*/!s.threadReads);
    }
  }
  // Readers use the stage's views; copies write them.
  for (AsyncCopy &ac : copies)
    ac.op.getDstMutable().assign(view[ac.dst]);
  for (auto &[old, r] : ring) {
    Value v = view[old];
    old->getResult(0).replaceUsesWithIf(v, [&](OpOperand &use) {
      return loop->isAncestor(use.getOwner()) && use.getOwner() != v.getDefiningOp();
    });
  }
  for (auto &[old, r] : ring)
    old->erase();
  (void)stageOps;
  return success();
}

/// Copies before a pipelined loop that fill a tile the loop reads (the
/// query tile of attention): asynchronous too, one slot, filled by the
/// producer once per pass over the launch body (per tile when persistent)
/// and released after its last reader.
void pipelinePrologueCopies(PipelinedOp loop, LaunchOp launch, bool tcgen05,
                            int64_t consumerWarps, SmallVector<Attribute> &tmaMaps) {
  MLIRContext *ctx = loop.getContext();
  Block &body = launch.getBodyBlock();
  SmallVector<CopyOp> copies;
  for (Operation &op : body) {
    if (&op == loop.getOperation())
      break;
    auto copy = dyn_cast<CopyOp>(&op);
    // Gathers before the loop stay synchronous (no tensor map takes them).
    if (!copy || copy.getBarrier() || copy.getRows() ||
        getMemScope(copy.getSrc().getType()) != MemScope::Global)
      continue;
    auto dst = copy.getDst().getDefiningOp<AllocSharedOp>();
    if (!dst || dst->getParentOp() != launch.getOperation())
      continue;
    // Only read after the copy, and read by the loop.
    bool ok = true, readByLoop = false;
    for (Operation *user : dst.getResult().getUsers()) {
      if (user == copy.getOperation())
        continue;
      Operation *top = topIn(body, user);
      if (!top || !copy->isBeforeInBlock(top) ||
          isa<memref::StoreOp, FillOp, AtomicAddOp>(user) ||
          (isa<CopyOp>(user) && cast<CopyOp>(user).getDst() == dst.getResult()))
        ok = false;
      readByLoop |= top == loop.getOperation();
    }
    if (ok && readByLoop && tmaMap(copy, dst, tcgen05))
      copies.push_back(copy);
  }
  for (CopyOp copy : copies) {
    auto dst = copy.getDst().getDefiningOp<AllocSharedOp>();
    Location loc = copy.getLoc();
    OpBuilder b(ctx);
    b.setInsertionPoint(dst);
    auto i32 = b.getI32Type();
    MemRefType ct = withBufferLayout(getScopedMemRefType({1}, i32, MemScope::Local),
                                     LinearLayout::replicated({1}, consumerWarps * kWarpSize));
    Value counter = AllocLocalOp::create(b, loc, ct, b.getIntegerAttr(i32, 0)).getResult();
    auto barT = BarrierType::get(ctx, 1);
    Value full = AllocBarrierOp::create(b, loc, barT, b.getI64IntegerAttr(1)).getResult();
    Value empty =
        AllocBarrierOp::create(b, loc, barT, b.getI64IntegerAttr(consumerWarps)).getResult();
    auto tag = [&](Operation *op, StringRef name) { op->setAttr(name, UnitAttr::get(ctx)); };
    b.setInsertionPoint(copy);
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    Value n = memref::LoadOp::create(b, loc, counter, ValueRange{c0});
    tag(n.getDefiningOp(), kPipelineStateAttrName);
    Value ni = arith::IndexCastOp::create(b, loc, b.getIndexType(), n);
    Value phase = arith::AndIOp::create(b, loc, ni, arith::ConstantIndexOp::create(b, loc, 1));
    Value emptyPhase = arith::XOrIOp::create(b, loc, phase, arith::ConstantIndexOp::create(b, loc, 1));
    tag(BarrierWaitOp::create(b, loc, empty, c0, emptyPhase), kProducerAttrName);
    Value one = ElectOp::create(b, loc, false);
    tag(one.getDefiningOp(), kProducerAttrName);
    auto ifOp = scf::IfOp::create(b, loc, one, /*withElse=*/false);
    tag(ifOp, kProducerAttrName);
    {
      OpBuilder ib = OpBuilder::atBlockTerminator(ifOp.thenBlock());
      int64_t bytes = getBufferBytes(dst.getType());
      BarrierExpectTxOp::create(ib, loc, full, c0, arith::ConstantIndexOp::create(ib, loc, bytes),
                                /*arrive=*/true);
    }
    copy->moveBefore(ifOp.thenBlock()->getTerminator());
    copy.getBarrierMutable().assign(full);
    copy.getBarrierIndexMutable().assign(c0);
    copy.setTmaAttr(b.getI64IntegerAttr(tmaMaps.size()));
    tmaMaps.push_back(tmaMap(copy, dst, tcgen05));
    b.setInsertionPointAfter(ifOp);
    Value next = arith::AddIOp::create(b, loc, n, arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(1)));
    tag(next.getDefiningOp(), kPipelineStateAttrName);
    tag(memref::StoreOp::create(b, loc, next, counter, ValueRange{c0}), kPipelineStateAttrName);
    // The consumers: wait before the first reader, release after the last.
    Operation *first = nullptr, *last = nullptr;
    for (Operation &op : body) {
      bool reads = false;
      op.walk([&](Operation *inner) {
        reads |= inner != copy.getOperation() &&
                 llvm::is_contained(inner->getOperands(), dst.getResult());
      });
      if (!reads || &op == ifOp.getOperation())
        continue;
      if (!first)
        first = &op;
      last = &op;
    }
    b.setInsertionPoint(first);
    BarrierWaitOp::create(b, loc, full, c0, phase);
    b.setInsertionPointAfter(last);
    BarrierArriveOp::create(b, loc, empty, c0, /*per_warp=*/true);
  }
}

struct Pipeline : public tl::impl::TlPipelineBase<Pipeline> {
  using TlPipelineBase::TlPipelineBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    SmallVector<Attribute> maps;
    if (auto existing = fn->getAttrOfType<ArrayAttr>(kTmaMapsAttrName))
      maps.assign(existing.begin(), existing.end());
    SmallVector<std::pair<PipelinedOp, LaunchOp>> loops;
    fn.walk([&](PipelinedOp p) {
      auto launch = dyn_cast<LaunchOp>(p->getParentOp());
      if (launch)
        loops.push_back({p, launch});
    });
    for (auto [p, launch] : loops) {
      int64_t warps = static_cast<int64_t>(launch.getThreads()) / kWarpSize;
      PipelineLoop pl{p, launch, chip == "sm_100a", warps, maps};
      if (failed(pl.run()))
        return signalPassFailure();
      bool pipelined = false;
      for (Operation &op : p.getBodyBlock())
        pipelined |= op.hasAttr(kPipelineStateAttrName);
      if (pipelined)
        pipelinePrologueCopies(p, launch, chip == "sm_100a", warps, maps);
    }
    assignTmaStores(fn, maps);
    if (!maps.empty())
      fn->setAttr(kTmaMapsAttrName, ArrayAttr::get(fn.getContext(), maps));
  }

  /// A whole shared tile copied to a kernel tensor is a TMA store (one
  /// thread, after the tile's writes are visible to the async proxy).
  void assignTmaStores(func::FuncOp fn, SmallVector<Attribute> &maps) {
    fn.walk([&](CopyOp copy) {
      auto src = copy.getSrc().getDefiningOp<AllocSharedOp>();
      auto arg = dyn_cast<BlockArgument>(copy.getDst());
      if (!src || !arg || arg.getOwner() != &fn.getBody().front() || copy.getTma() ||
          !copy.getSrcOffsets().empty())
        return;
      MemRefType st = src.getType();
      auto dt = cast<MemRefType>(copy.getDst().getType());
      Type e = st.getElementType();
      if (e != dt.getElementType() || isa<Float4E2M1FNType>(e) || getBufferLayout(st) ||
          ArrayRef<int64_t>(copy.getDstSizes()).drop_while([](int64_t x) { return x == 1; }) !=
              st.getShape() ||
          copy.getDstSizes().back() != st.getShape().back())
        return;
      int64_t eb = getElementBits(e) / 8;
      if (eb < 1 || (st.getShape().back() * eb) % 16 != 0)
        return;
      for (int64_t b : copy.getDstSizes())
        if (b > 256)
          return;
      Builder b(copy.getContext());
      maps.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("param", b.getI64IntegerAttr(arg.getArgNumber())),
           b.getNamedAttr("dtype", b.getStringAttr(describeDType(e))),
           b.getNamedAttr("box", b.getDenseI64ArrayAttr(copy.getDstSizes())),
           b.getNamedAttr("swizzle", b.getStringAttr("none"))}));
      copy.setTmaAttr(b.getI64IntegerAttr(maps.size() - 1));
    });
  }
};

} // namespace
