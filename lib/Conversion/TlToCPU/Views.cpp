// tl.view and tl.reshape on the CPU: views become memref.subview of their
// source (strided memrefs every later loop indexes as usual); reshapes of a
// whole buffer become collapse/expand_shape, and reshapes to another element
// type views of the same bytes (the allocation becomes an i8 buffer seen
// through memref.view).
#include "Views.h"

#include "tl/IR/TlOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::tl;

namespace tlc::cpu {

namespace {

/// Whether `v` (an allocation) is read as another element type through a
/// chain of reshapes.
bool reinterpreted(Value v) {
  for (Operation *user : v.getUsers())
    if (auto r = dyn_cast<ReshapeOp>(user)) {
      auto st = cast<MemRefType>(r.getSrc().getType());
      auto rt = cast<MemRefType>(r.getResult().getType());
      if (st.getElementType() != rt.getElementType() || reinterpreted(r.getResult()))
        return true;
    }
  return false;
}

/// The i8 buffer behind `v` (an allocation turned into bytes), if any.
Value bytesOf(Value v) {
  while (true) {
    if (auto view = v.getDefiningOp<memref::ViewOp>())
      return view.getSource();
    if (auto e = v.getDefiningOp<memref::ExpandShapeOp>())
      v = e.getSrc();
    else if (auto c = v.getDefiningOp<memref::CollapseShapeOp>())
      v = c.getSrc();
    else
      return {};
  }
}

/// Bytes of a buffer on the CPU (a byte per bool or FP4 element there).
int64_t cpuBytes(MemRefType t) {
  int64_t bits = getElementBits(t.getElementType());
  return t.getNumElements() * std::max<int64_t>(8, bits) / 8;
}

} // namespace

LogicalResult lowerViews(func::FuncOp func, RewriterBase &rewriter) {
  // Allocations read as another element type hold bytes.
  SmallVector<memref::AllocOp> allocs;
  func.walk([&](memref::AllocOp a) {
    if (reinterpreted(a.getResult()))
      allocs.push_back(a);
  });
  for (memref::AllocOp a : allocs) {
    MemRefType t = a.getType();
    OpBuilder b(a);
    Location loc = a.getLoc();
    auto bytesT = MemRefType::get({cpuBytes(t)}, b.getI8Type(), MemRefLayoutAttrInterface(),
                                  t.getMemorySpace());
    Value bytes = memref::AllocOp::create(b, loc, bytesT, a.getAlignmentAttr());
    Value typed = memref::ViewOp::create(b, loc, t, bytes,
                                         arith::ConstantIndexOp::create(b, loc, 0), ValueRange{});
    for (OpOperand &use : llvm::make_early_inc_range(a.getResult().getUses()))
      use.set(isa<memref::DeallocOp>(use.getOwner()) ? bytes : typed);
    rewriter.eraseOp(a);
  }

  SmallVector<Operation *> ops;
  func.walk([&](Operation *op) {
    if (isa<ViewOp, ReshapeOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    auto resT = cast<MemRefType>(op->getResult(0).getType());
    Value repl;
    if (auto view = dyn_cast<ViewOp>(op)) {
      auto srcT = cast<MemRefType>(view.getSrc().getType());
      SmallVector<OpFoldResult> offsets, sizes, strides;
      for (auto [off, size] : llvm::zip(view.getOffsets(), view.getSizes())) {
        offsets.push_back(off);
        sizes.push_back(b.getIndexAttr(size));
        strides.push_back(b.getIndexAttr(1));
      }
      auto subT = memref::SubViewOp::inferRankReducedResultType(resT.getShape(), srcT, offsets,
                                                                sizes, strides);
      repl = memref::SubViewOp::create(b, loc, cast<MemRefType>(subT), view.getSrc(), offsets,
                                       sizes, strides);
    } else {
      auto reshape = cast<ReshapeOp>(op);
      Value src = reshape.getSrc();
      auto srcT = cast<MemRefType>(src.getType());
      if (srcT.getElementType() != resT.getElementType()) {
        Value bytes = bytesOf(src);
        if (!bytes)
          return op->emitError("internal: no byte buffer behind a reinterpreting reshape");
        repl = memref::ViewOp::create(b, loc, resT, bytes, arith::ConstantIndexOp::create(b, loc, 0),
                                      ValueRange{});
      } else {
        // Through the flat buffer: collapse to 1-D, expand to the new shape.
        Value flat = src;
        if (srcT.getRank() != 1) {
          ReassociationIndices all;
          for (int64_t d = 0; d < srcT.getRank(); ++d)
            all.push_back(d);
          flat = memref::CollapseShapeOp::create(b, loc, src, {all});
        }
        repl = flat;
        if (resT.getRank() != 1) {
          ReassociationIndices all;
          for (int64_t d = 0; d < resT.getRank(); ++d)
            all.push_back(d);
          repl = memref::ExpandShapeOp::create(b, loc, resT, flat, {all});
        }
      }
    }
    rewriter.replaceOp(op, repl);
  }
  return success();
}

} // namespace tlc::cpu
