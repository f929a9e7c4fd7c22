// tl-stage-shared: rewrites the tile ops whose GPU lowering works on shared
// memory into that form, with shared (or register) temporaries and copies
// the rest of the pipeline already lowers. It runs first in the GPU
// pipeline, so the temporaries get layouts, liveness-shared bytes and
// budget checks like any buffer the user allocated.
//
//  * tl.reduce of a shared source into a register buffer reduces into a
//    shared temporary, then copies it to the destination (copying the
//    destination in first when the reduction accumulates); of a register
//    source into a shared buffer, through a fragment temporary the
//    register reduction writes.
//  * tl.topk with register operands: they go through shared temporaries
//    (the GPU selects top-k between shared buffers).
//  * tl.fill of a view of a fragment (`T.fill(acc[0:2, :], v)`): a
//    tl.parallel over the whole fragment that stores the value at the
//    points inside the view, so the fragment keeps its layout and each
//    thread writes its own slots; of a view of a local buffer: a serial
//    loop nest over the view; of a shared view that is not one run of
//    memory (`T.fill(X_s[:, 0:16], v)`): a tl.parallel over the view.
//  * tl.copy of a region of a fragment or local buffer (`T.copy(X[..],
//    acc[0:32, :])`): the same, a masked tl.parallel over the fragment (a
//    loop nest for a local) moving the region's elements, with T.copy's
//    bounds rule on global tensors.
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <functional>
#include <numeric>

namespace mlir::tl {
#define GEN_PASS_DEF_TLSTAGESHARED
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

/// On a shared buffer tl-stage-shared made: what it is, for the budget
/// report of tl-allocate-shared (the two passes spell it alike).
constexpr llvm::StringLiteral kStagedAsAttrName = "tlc_staged_as";

std::optional<MemScope> scopeOf(Value v) { return getMemScope(v.getType()); }
bool isRegister(Value v) {
  auto s = scopeOf(v);
  return s == MemScope::Fragment || s == MemScope::Local;
}
bool isShared(Value v) { return scopeOf(v) == MemScope::Shared; }

/// A fresh buffer of `like`'s shape and element type in `scope`; `why`
/// names a shared temporary in tl-allocate-shared's budget report.
Value allocLike(OpBuilder &b, Location loc, Value like, MemScope scope, StringRef why = {}) {
  auto t = cast<MemRefType>(like.getType());
  Type nt = getScopedMemRefType(t.getShape(), t.getElementType(), scope);
  if (scope == MemScope::Shared) {
    auto alloc = AllocSharedOp::create(b, loc, nt);
    if (!why.empty())
      alloc->setAttr(kStagedAsAttrName, b.getStringAttr(why));
    return alloc.getResult();
  }
  if (scope == MemScope::Fragment)
    return AllocFragmentOp::create(b, loc, nt).getResult();
  return AllocLocalOp::create(b, loc, nt).getResult();
}

/// A whole-buffer copy between two on-chip buffers of one shape.
void copyWhole(OpBuilder &b, Location loc, Value src, Value dst) {
  auto shape = cast<MemRefType>(src.getType()).getShape();
  CopyOp::create(b, loc, src, ValueRange{}, shape, dst, ValueRange{}, shape, Value(), Value());
}

void stageReduce(ReduceOp op) {
  Value src = op.getSrc(), dst = op.getDst();
  MemScope tmpScope;
  if (isShared(src) && isRegister(dst))
    tmpScope = MemScope::Shared;
  else if (isRegister(src) && isShared(dst))
    tmpScope = MemScope::Fragment;
  else
    return;
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value tmp = allocLike(b, loc, dst, tmpScope,
                        "the shared temporary this reduction writes before its register destination");
  if (!op.getClear())
    copyWhole(b, loc, dst, tmp);
  op.getDstMutable().assign(tmp);
  b.setInsertionPointAfter(op);
  copyWhole(b, loc, tmp, dst);
}

void stageTopK(TopKOp op) {
  if (!isRegister(op.getSrc()) && !isRegister(op.getValues()) && !isRegister(op.getIndices()))
    return;
  OpBuilder b(op);
  Location loc = op.getLoc();
  if (isRegister(op.getSrc())) {
    Value tmp = allocLike(b, loc, op.getSrc(), MemScope::Shared,
                          "the shared copy of T.topk's register source");
    copyWhole(b, loc, op.getSrc(), tmp);
    op.getSrcMutable().assign(tmp);
  }
  SmallVector<std::pair<Value, Value>> outs;
  for (OpOperand *o : {&op.getValuesMutable(), &op.getIndicesMutable()}) {
    Value v = o->get();
    if (!isRegister(v))
      continue;
    Value tmp = allocLike(b, loc, v, MemScope::Shared,
                          "the shared copy of a register result of T.topk");
    o->assign(tmp);
    outs.push_back({tmp, v});
  }
  b.setInsertionPointAfter(op);
  for (auto [tmp, v] : outs)
    copyWhole(b, loc, tmp, v);
}

/// The box a chain of views cuts from its root buffer: an offset and a size
/// per root dimension.
struct Box {
  Value root;
  SmallVector<Value> offsets;
  SmallVector<int64_t> sizes;
  SmallVector<ViewOp> chain; // outermost (the fill's operand) first
};

std::optional<Box> boxOf(OpBuilder &b, Location loc, Value v) {
  SmallVector<ViewOp> chain;
  Value root = v;
  while (auto view = root.getDefiningOp<ViewOp>()) {
    chain.push_back(view);
    root = view.getSrc();
  }
  if (chain.empty())
    return std::nullopt;
  // From the root outwards: the box of the current view in root coordinates,
  // and which root dimension each of the view's dimensions is.
  Box box;
  box.root = root;
  box.chain = chain;
  auto rootT = cast<MemRefType>(root.getType());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  box.offsets.assign(rootT.getRank(), zero);
  box.sizes.assign(rootT.getShape().begin(), rootT.getShape().end());
  SmallVector<unsigned> rootDimOf;
  for (unsigned d = 0; d < rootT.getRank(); ++d)
    rootDimOf.push_back(d);
  for (ViewOp view : llvm::reverse(chain)) {
    SmallVector<unsigned> kept = view.getKeptDims();
    ArrayRef<int64_t> sizes = view.getSizes();
    for (auto [d, off] : llvm::enumerate(view.getOffsets())) {
      unsigned r = rootDimOf[d];
      box.offsets[r] = arith::AddIOp::create(b, loc, box.offsets[r], off);
      box.sizes[r] = sizes[d];
    }
    SmallVector<unsigned> next;
    for (unsigned k : kept)
      next.push_back(rootDimOf[k]);
    rootDimOf = next;
  }
  return box;
}

void stageFill(FillOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value dst = op.getDst();
  if (!dst.getDefiningOp<ViewOp>())
    return;
  Value root = dst;
  while (auto view = root.getDefiningOp<ViewOp>())
    root = view.getSrc();
  auto rootT = cast<MemRefType>(root.getType());
  bool shared = isShared(root);
  if (!isRegister(root) && !shared)
    return;
  std::optional<Box> box = boxOf(b, loc, dst);
  // A shared view that is one run of memory is filled in place (FillLowering).
  if (shared && isContiguousBox(rootT.getShape(), box->sizes))
    return;
  Value value = op.getValue();
  if (shared) {
    // Elsewhere (a column range): a parallel loop over the box.
    auto par = ParallelOp::create(b, loc, box->sizes);
    OpBuilder pb(par.getBodyBlock().getTerminator());
    SmallVector<Value> at;
    for (auto [d, iv] : llvm::enumerate(par.getInductionVars()))
      at.push_back(arith::AddIOp::create(pb, loc, box->offsets[d], iv));
    memref::StoreOp::create(pb, loc, value, root, at);
  } else if (scopeOf(root) == MemScope::Local) {
    // Every thread holds the whole buffer: store the box's elements.
    SmallVector<Value> lbs, ubs, steps;
    for (int64_t s : box->sizes) {
      lbs.push_back(arith::ConstantIndexOp::create(b, loc, 0));
      ubs.push_back(arith::ConstantIndexOp::create(b, loc, s));
      steps.push_back(arith::ConstantIndexOp::create(b, loc, 1));
    }
    scf::buildLoopNest(b, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location l, ValueRange iv) {
      SmallVector<Value> at;
      for (auto [i, x] : llvm::enumerate(iv))
        at.push_back(arith::AddIOp::create(nb, l, box->offsets[i], x));
      memref::StoreOp::create(nb, l, value, root, at);
    });
  } else {
    // A fragment: each thread stores its own slots that lie in the box.
    auto par = ParallelOp::create(b, loc, rootT.getShape());
    OpBuilder pb(par.getBodyBlock().getTerminator());
    Value inside;
    for (auto [d, iv] : llvm::enumerate(par.getInductionVars())) {
      if (box->sizes[d] == rootT.getDimSize(d))
        continue; // the whole dimension (the offset is 0: views are in bounds)
      Value end = arith::AddIOp::create(pb, loc, box->offsets[d],
                                        arith::ConstantIndexOp::create(pb, loc, box->sizes[d]));
      Value c = arith::AndIOp::create(
          pb, loc, arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::sge, iv, box->offsets[d]),
          arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::slt, iv, end));
      inside = inside ? arith::AndIOp::create(pb, loc, inside, c).getResult() : c;
    }
    if (inside) {
      auto ifOp = scf::IfOp::create(pb, loc, inside, /*withElseRegion=*/false);
      pb.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    }
    memref::StoreOp::create(pb, loc, value, root, par.getInductionVars());
  }
  SmallVector<ViewOp> chain = box->chain;
  op.erase();
  for (ViewOp v : chain)
    if (v->use_empty())
      v.erase();
}

/// Whether a copy operand is a proper region of its buffer (not all of it).
bool isPartialRegion(Value buf, OperandRange offsets, ArrayRef<int64_t> sizes) {
  auto t = cast<MemRefType>(buf.getType());
  if (t.getNumElements() != std::accumulate(sizes.begin(), sizes.end(), int64_t{1},
                                            std::multiplies<int64_t>()))
    return true;
  for (Value o : offsets) {
    auto c = getConstantIntValue(o);
    if (!c || *c != 0)
      return true;
  }
  return false;
}

/// A copy between a region of a register buffer and memory (or another
/// register buffer taken whole): a fragment goes through a tl.parallel over
/// the whole fragment (so it keeps its layout) that moves the points inside
/// the region; a local through a serial loop nest over the region. Global
/// regions keep T.copy's rule: out-of-bounds elements read as zero and are
/// not written.
void stageRegisterRegionCopy(CopyOp op) {
  bool srcReg = isRegister(op.getSrc()), dstReg = isRegister(op.getDst());
  if (op.getBarrier() || op.getTma())
    return;
  bool srcPart = srcReg && isPartialRegion(op.getSrc(), op.getSrcOffsets(), op.getSrcSizes());
  bool dstPart = dstReg && isPartialRegion(op.getDst(), op.getDstOffsets(), op.getDstSizes());
  if (!srcPart && !dstPart)
    return;
  // The register side that is a region drives the loop; the other side is
  // addressed relative to it.
  bool toMemory = srcPart;
  Value reg = toMemory ? op.getSrc() : op.getDst();
  Value mem = toMemory ? op.getDst() : op.getSrc();
  SmallVector<Value> regOff(toMemory ? op.getSrcOffsets() : op.getDstOffsets());
  SmallVector<Value> memOff(toMemory ? op.getDstOffsets() : op.getSrcOffsets());
  ArrayRef<int64_t> regSizes = toMemory ? op.getSrcSizes() : op.getDstSizes();
  ArrayRef<int64_t> memSizes = toMemory ? op.getDstSizes() : op.getSrcSizes();
  auto regT = cast<MemRefType>(reg.getType());
  auto memT = cast<MemRefType>(mem.getType());
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  if (regOff.empty())
    regOff.assign(regT.getRank(), zero);
  if (memOff.empty())
    memOff.assign(memT.getRank(), zero);
  SmallVector<unsigned> regDims, memDims; // the non-unit dimensions, paired in order
  for (auto [d, n] : llvm::enumerate(regSizes))
    if (n != 1)
      regDims.push_back(d);
  for (auto [d, n] : llvm::enumerate(memSizes))
    if (n != 1)
      memDims.push_back(d);
  if (regDims.size() != memDims.size())
    return; // the verifier's business
  bool global = scopeOf(mem) == MemScope::Global;
  SmallVector<Value> memExtent;
  if (global)
    for (int64_t d = 0; d < memT.getRank(); ++d)
      memExtent.push_back(memref::DimOp::create(b, loc, mem, d));
  Type regElem = regT.getElementType(), memElem = memT.getElementType();
  // The body for register coordinates `c` inside the region.
  auto body = [&](OpBuilder &ib, Location l, ArrayRef<Value> c) {
    SmallVector<Value> mc(memOff);
    for (auto [rd, md] : llvm::zip(regDims, memDims))
      mc[md] = arith::AddIOp::create(ib, l, memOff[md],
                                     arith::SubIOp::create(ib, l, c[rd], regOff[rd]));
    Value inb;
    if (global)
      for (auto [d, x] : llvm::enumerate(mc)) {
        Value ok = arith::CmpIOp::create(ib, l, arith::CmpIPredicate::slt, x, memExtent[d]);
        inb = inb ? arith::AndIOp::create(ib, l, inb, ok).getResult() : ok;
      }
    auto convertTo = [&](OpBuilder &cb, Value v, Type to) {
      return v.getType() == to ? v : CastOp::create(cb, l, to, v).getResult();
    };
    if (toMemory) {
      OpBuilder sb = ib;
      if (inb) {
        auto ifOp = scf::IfOp::create(ib, l, inb, /*withElseRegion=*/false);
        sb.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      }
      Value v = memref::LoadOp::create(sb, l, reg, c);
      memref::StoreOp::create(sb, l, convertTo(sb, v, memElem), mem, mc);
      return;
    }
    Value v;
    if (inb) {
      auto ifOp = scf::IfOp::create(ib, l, TypeRange{memElem}, inb, /*withElseRegion=*/true);
      OpBuilder tb = OpBuilder::atBlockBegin(ifOp.thenBlock());
      scf::YieldOp::create(tb, l, ValueRange{memref::LoadOp::create(tb, l, mem, mc)});
      OpBuilder eb = OpBuilder::atBlockBegin(ifOp.elseBlock());
      Value zeroElem = arith::ConstantOp::create(eb, l, cast<TypedAttr>(eb.getZeroAttr(memElem)));
      scf::YieldOp::create(eb, l, ValueRange{zeroElem});
      v = ifOp.getResult(0);
    } else {
      v = memref::LoadOp::create(ib, l, mem, mc);
    }
    memref::StoreOp::create(ib, l, convertTo(ib, v, regElem), reg, c);
  };
  if (scopeOf(reg) == MemScope::Local) {
    SmallVector<Value> lbs, ubs, steps;
    for (int64_t n : regSizes) {
      lbs.push_back(zero);
      ubs.push_back(arith::ConstantIndexOp::create(b, loc, n));
      steps.push_back(arith::ConstantIndexOp::create(b, loc, 1));
    }
    scf::buildLoopNest(b, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location l, ValueRange iv) {
      SmallVector<Value> c;
      for (auto [d, x] : llvm::enumerate(iv))
        c.push_back(arith::AddIOp::create(nb, l, regOff[d], x));
      body(nb, l, c);
    });
  } else {
    auto par = ParallelOp::create(b, loc, regT.getShape());
    OpBuilder pb(par.getBodyBlock().getTerminator());
    SmallVector<Value> c(par.getInductionVars().begin(), par.getInductionVars().end());
    Value inside;
    for (auto [d, iv] : llvm::enumerate(c)) {
      if (regSizes[d] == regT.getDimSize(d))
        continue;
      Value end = arith::AddIOp::create(pb, loc, regOff[d],
                                        arith::ConstantIndexOp::create(pb, loc, regSizes[d]));
      Value in = arith::AndIOp::create(
          pb, loc, arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::sge, iv, regOff[d]),
          arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::slt, iv, end));
      inside = inside ? arith::AndIOp::create(pb, loc, inside, in).getResult() : in;
    }
    if (inside) {
      auto ifOp = scf::IfOp::create(pb, loc, inside, /*withElseRegion=*/false);
      pb.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    }
    body(pb, loc, c);
  }
  op.erase();
}

struct TlStageShared : public tl::impl::TlStageSharedBase<TlStageShared> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<ReduceOp, TopKOp, FillOp, CopyOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (auto r = dyn_cast<ReduceOp>(op))
        stageReduce(r);
      else if (auto t = dyn_cast<TopKOp>(op))
        stageTopK(t);
      else if (auto c = dyn_cast<CopyOp>(op))
        stageRegisterRegionCopy(c);
      else
        stageFill(cast<FillOp>(op));
    }
  }
};

} // namespace
