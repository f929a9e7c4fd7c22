// tl-rotate-mma: overlap a loop's trailing accumulating MMA with the next
// iteration's work (FlashAttention 3's intra-warpgroup pipelining).
//
// A consumer loop (after tl-warp-specialize) of the form
//
//   k:  ... G1 = gemm (fresh product S) ... X(S) ... wait V[k]; G2: O += P @ V[k]; release V[k]
//
// where X reads S and, from some op on, writes P or O, becomes
//
//   prologue (first iteration, as before without its G2)
//   k:  ... G1(k) async; wait V[k-1]; G2(k-1) async; wait until G1 is done;
//       X(k) up to its first touch of P or O; wait until G2 is done; release V[k-1];
//       the rest of X(k)
//   epilogue: wait V[last]; G2(last); release V[last]
//
// so the tensor cores run G2(k-1) while the threads compute X(k) (the
// softmax). The first iteration is peeled rather than guarded: a branch
// around an MMA in flight would make ptxas serialise it. Stages of the
// previous iteration come from the running count (tl-pipeline's counter).
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLROTATEMMA
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

/// 32-bit registers per thread the overlapped MMAs' buffers may take.
constexpr int64_t kMaxLiveMmaRegisters = 160;

bool touches(Operation *op, ArrayRef<Value> bufs) {
  bool t = false;
  op->walk([&](Operation *inner) {
    for (Value o : inner->getOperands())
      t |= llvm::is_contained(bufs, o);
  });
  return t;
}

struct Rotation {
  PipelinedOp loop;
  memref::LoadOp cnt;
  GemmOp g1, g2;
  BarrierWaitOp waitV;   // before G2
  BarrierArriveOp relV;  // after G2
  ViewOp viewV;          // G2's B: the stage view of V's ring
  Operation *touch = nullptr;
  BarrierArriveOp relK;  // G1's release (right after it)

  static std::optional<Rotation> match(PipelinedOp loop);
  void apply();
};

std::optional<Rotation> Rotation::match(PipelinedOp loop) {
  Rotation r;
  r.loop = loop;
  Block &body = loop.getBodyBlock();
  bool producer = false;
  loop.walk([&](Operation *op) { producer |= op->hasAttr(kProducerAttrName); });
  if (producer)
    return std::nullopt; // not split from its producer yet
  for (Operation &op : body)
    if (auto ld = dyn_cast<memref::LoadOp>(&op); ld && op.hasAttr(kPipelineStateAttrName)) {
      r.cnt = ld;
      break;
    }
  if (!r.cnt)
    return std::nullopt;
  // G2: the last gemm, followed only by its release and the count update.
  for (Operation &op : llvm::reverse(body.without_terminator())) {
    if (op.hasAttr(kPipelineStateAttrName) || isa<arith::ConstantOp>(op))
      continue;
    if (auto a = dyn_cast<BarrierArriveOp>(&op); a && !r.relV) {
      r.relV = a;
      continue;
    }
    r.g2 = dyn_cast<GemmOp>(&op);
    break;
  }
  if (!r.g2 || !r.relV || r.g2.getClearAccum() || r.g2.getAsync())
    return std::nullopt;
  auto regScope = [](Value v) {
    auto s = getMemScope(v.getType());
    return s == MemScope::Fragment || s == MemScope::Local;
  };
  if (!regScope(r.g2.getA()) || !regScope(r.g2.getC()))
    return std::nullopt;
  r.waitV = dyn_cast_or_null<BarrierWaitOp>(r.g2->getPrevNode());
  r.viewV = r.g2.getB().getDefiningOp<ViewOp>();
  if (!r.waitV || !r.viewV || r.waitV.getBarrier().getType() != r.relV.getBarrier().getType() ||
      r.viewV->getBlock() != &body)
    return std::nullopt;
  // G1: a gemm producing a fresh product earlier in the body, released
  // right after it.
  for (Operation &op : body) {
    if (&op == r.g2.getOperation())
      break;
    if (auto g = dyn_cast<GemmOp>(&op); g && g.getClearAccum() && !g.getAsync()) {
      r.g1 = g;
      r.relK = dyn_cast_or_null<BarrierArriveOp>(g->getNextNode());
      break;
    }
  }
  if (!r.g1)
    return std::nullopt;
  // The first op after G1 that touches G2's operands.
  SmallVector<Value> ops2{r.g2.getA(), r.g2.getC()};
  for (Operation *op = r.g1->getNextNode(); op && op != r.waitV.getOperation();
       op = op->getNextNode())
    if (touches(op, ops2)) {
      r.touch = op;
      break;
    }
  if (!r.touch)
    return std::nullopt;
  // Nothing between G1 and the touch point may touch them either (checked
  // by construction), and G1 must not use them.
  if (touches(r.g1, ops2))
    return std::nullopt;
  // Overlapping keeps S, P and O live at once: skip when their registers
  // would not leave room for the rest (of 232 per consumer thread; measured
  // with ptxas: FlashAttention at D = 128 fits, D = 256 spills).
  int64_t regs = 0;
  for (Value v : {r.g1.getC(), r.g2.getA(), r.g2.getC()}) {
    auto t = cast<MemRefType>(v.getType());
    std::optional<LinearLayout> l = getBufferLayout(t);
    if (!l)
      return std::nullopt;
    regs += l->getInSize(LinearLayout::Register) * getElementBits(t.getElementType()) / 32;
  }
  if (regs > kMaxLiveMmaRegisters)
    return std::nullopt;
  return r;
}

void Rotation::apply() {
  MLIRContext *ctx = loop.getContext();
  Location loc = loop.getLoc();
  Block &body = loop.getBodyBlock();
  OpBuilder b(ctx);
  auto c = [&](OpBuilder &bb, int64_t v) {
    return arith::ConstantIndexOp::create(bb, loc, v).getResult();
  };
  int64_t stages = cast<BarrierType>(relV.getBarrier().getType()).getCount();
  Value lb = loop.getLowerBound(), ub = loop.getUpperBound(), step = loop.getStep();

  // 1. The first iteration, peeled: the body without G2's wait/G2/release.
  b.setInsertionPoint(loop);
  Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, lb, ub);
  auto pro = scf::IfOp::create(b, loc, any, /*withElse=*/false);
  {
    OpBuilder pb = OpBuilder::atBlockTerminator(pro.thenBlock());
    IRMapping map;
    map.map(loop.getInductionVar(), lb);
    for (Operation &op : body.without_terminator()) {
      if (&op == waitV.getOperation() || &op == g2.getOperation() || &op == relV.getOperation())
        continue;
      pb.clone(op, map);
    }
  }
  // 2. The loop starts one iteration later; the previous iteration's G2
  //    is issued after G1, asynchronously.
  b.setInsertionPoint(loop);
  loop.getLowerBoundMutable().assign(arith::AddIOp::create(b, loc, lb, step));
  b.setInsertionPointAfter(g1);
  g1.setAsync(true);
  Value it = arith::IndexCastOp::create(b, loc, b.getIndexType(), cnt.getResult());
  Value prevIt = arith::SubIOp::create(b, loc, it, c(b, 1));
  Value prev = arith::RemUIOp::create(b, loc, prevIt, c(b, stages));
  Value prevPhase =
      arith::AndIOp::create(b, loc, arith::DivUIOp::create(b, loc, prevIt, c(b, stages)), c(b, 1));
  IRMapping vmap;
  vmap.map(viewV.getOffsets().front(), prev);
  Value prevV = b.clone(*viewV, vmap)->getResult(0);
  BarrierWaitOp::create(b, loc, waitV.getBarrier(), prev, prevPhase);
  auto g2prev = cast<GemmOp>(b.clone(*g2));
  g2prev.getBMutable().assign(prevV);
  g2prev.setAsync(true);
  auto g1done = MmaWaitOp::create(b, loc, b.getI64IntegerAttr(1), ValueRange{g1.getC()});
  // G1's release waits for it.
  if (relK)
    relK->moveAfter(g1done);
  // 3. Before X touches P or O: G2(k-1) is done; release its stage.
  b.setInsertionPoint(touch);
  MmaWaitOp::create(b, loc, b.getI64IntegerAttr(0), ValueRange{g2.getA(), g2.getC()});
  BarrierArriveOp::create(b, loc, relV.getBarrier(), prev, relV.getPerWarp());
  // 4. The last iteration's G2, after the loop.
  b.setInsertionPointAfter(loop);
  auto epi = scf::IfOp::create(b, loc, any, /*withElse=*/false);
  {
    OpBuilder eb = OpBuilder::atBlockTerminator(epi.thenBlock());
    Value end = memref::LoadOp::create(eb, loc, cnt.getMemRef(), ValueRange{c(eb, 0)});
    Value lastIt = arith::SubIOp::create(
        eb, loc, arith::IndexCastOp::create(eb, loc, eb.getIndexType(), end), c(eb, 1));
    Value last = arith::RemUIOp::create(eb, loc, lastIt, c(eb, stages));
    Value lastPhase = arith::AndIOp::create(
        eb, loc, arith::DivUIOp::create(eb, loc, lastIt, c(eb, stages)), c(eb, 1));
    IRMapping emap;
    emap.map(viewV.getOffsets().front(), last);
    for (Value o : viewV.getOffsets().drop_front())
      if (!o.getDefiningOp() || o.getParentBlock() == &body)
        emap.map(o, c(eb, 0));
    Value lastV = eb.clone(*viewV, emap)->getResult(0);
    BarrierWaitOp::create(eb, loc, waitV.getBarrier(), last, lastPhase);
    auto g2last = cast<GemmOp>(eb.clone(*g2));
    g2last.getBMutable().assign(lastV);
    BarrierArriveOp::create(eb, loc, relV.getBarrier(), last, relV.getPerWarp());
  }
  waitV.erase();
  relV.erase();
  g2.erase();
}

struct RotateMma : public tl::impl::TlRotateMmaBase<RotateMma> {
  using TlRotateMmaBase::TlRotateMmaBase;
  void runOnOperation() override {
    SmallVector<PipelinedOp> loops;
    getOperation().walk([&](PipelinedOp l) { loops.push_back(l); });
    for (PipelinedOp l : loops)
      if (std::optional<Rotation> r = Rotation::match(l))
        r->apply();
  }
};

} // namespace
