// Layouts of views for tl-infer-layouts: the shared tiles T.gemm reads
// through tl.view (a K-slice `A_s[:, 0:32]`, a stage `KV_s[s]` of a 3-D
// ring) get the swizzled MMA layout on their root buffer, and every tl.view
// and tl.reshape result is retyped for its source's layout (the rules are in
// docs/dialect.md, "Views").
#include "ViewLayouts.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::tl {

Value getViewRoot(Value v) {
  while (auto view = v.getDefiningOp<ViewOp>())
    v = view.getSrc();
  return v;
}

FailureOr<LinearLayout> mmaSharedLayout(MemRefType type, Operation *where) {
  Type elem = type.getElementType();
  // tcgen05 reads FP4 tiles unpacked, a byte per element (TMA 16U4_ALIGN16B).
  int64_t bits = isa<Float4E2M1FNType>(elem) ? 8 : getElementBits(elem);
  int64_t rank = type.getRank();
  if (rank < 2)
    return where->emitError("an MMA operand in shared memory must be 2-D (or a stack of 2-D "
                            "tiles such as a ring's stages)");
  int64_t rows = type.getShape()[rank - 2], cols = type.getShape()[rank - 1];
  int64_t rowBytes = cols * bits / 8;
  std::optional<LinearLayout> tile;
  for (int64_t swz : {128, 64, 32})
    if (rowBytes % swz == 0 && (tile = LinearLayout::swizzledShared(rows, cols, bits, swz)))
      break;
  if (!tile)
    return where->emitError("T.gemm operand in shared memory must have a power-of-two number of "
                            "rows (at least 8) and rows of a multiple of 32 bytes, a power of "
                            "two; got ")
           << rows << " rows of " << rowBytes << " bytes";
  if (rank == 2)
    return *tile;
  // Leading dimensions (stages) sit above the tile, the last one lowest.
  SmallVector<int64_t> padded;
  for (int64_t d = 0; d < rank - 2; ++d)
    padded.push_back(LinearLayout::padPow2(type.getShape()[d]));
  SmallVector<int64_t> out(padded);
  out.append(tile->getOutShape().begin(), tile->getOutShape().end());
  LinearLayout r(out);
  for (const LinearLayout::Coords &c : tile->getBases(LinearLayout::Offset)) {
    LinearLayout::Coords nc(rank - 2, 0);
    nc.append(c.begin(), c.end());
    r.addBasis(LinearLayout::Offset, nc);
  }
  for (int64_t d = rank - 3; d >= 0; --d)
    for (int64_t s = 1; s < padded[d]; s *= 2) {
      LinearLayout::Coords nc(rank, 0);
      nc[d] = s;
      r.addBasis(LinearLayout::Offset, nc);
    }
  return r;
}

namespace {

MemRefType withLayout(MemRefType t, const std::optional<LinearLayout> &l) {
  MemRefType bare = getScopedMemRefType(t.getShape(), t.getElementType(), *getMemScope(t));
  return l ? withBufferLayout(bare, *l) : bare;
}

LogicalResult retypeView(ViewOp view) {
  auto srcT = cast<MemRefType>(view.getSrc().getType());
  auto resT = cast<MemRefType>(view.getResult().getType());
  MemScope scope = *getMemScope(srcT);
  if (scope == MemScope::Fragment || scope == MemScope::Local)
    return view.emitError("views of register buffers (fragments and locals) are not supported "
                          "by the GPU lowering yet; use the whole buffer, or a shared one");
  if (scope != MemScope::Shared)
    return success(); // tensor memory: tl-assign-tmem makes its own
  std::optional<LinearLayout> srcL = getBufferLayout(srcT);
  std::optional<LinearLayout> l;
  if (srcL) {
    SmallVector<std::optional<int64_t>> offsets;
    for (Value o : view.getOffsets())
      offsets.push_back(getConstantIntValue(o));
    l = restrictViewLayout(*srcL, offsets, view.getSizes(), view.getKeptDims());
  }
  view.getResult().setType(withLayout(resT, l));
  return success();
}

LogicalResult retypeReshape(ReshapeOp r) {
  auto srcT = cast<MemRefType>(r.getSrc().getType());
  auto resT = cast<MemRefType>(r.getResult().getType());
  MemScope scope = *getMemScope(srcT);
  std::optional<LinearLayout> srcL = getBufferLayout(srcT);
  if (scope == MemScope::Fragment)
    return r.emitError("T.reshape of a fragment is not supported by the GPU lowering yet (its "
                       "layout is chosen by the compiler); copy it to a shared buffer of the "
                       "shape you need");
  if (!srcL) {
    r.getResult().setType(withLayout(resT, std::nullopt));
    return success();
  }
  // Shared tiles laid out for the MMA, and locals (every thread holds the
  // whole buffer, row-major slots): the same elements in the new shape.
  std::optional<LinearLayout> l = reshapeLayout(*srcL, resT.getShape());
  if (scope == MemScope::Local && l) {
    // Slot i of every thread is element i: any dtype aliases the slots' bytes.
    int64_t threads = srcL->getInSize(LinearLayout::Lane) * srcL->getInSize(LinearLayout::Warp);
    l = LinearLayout::replicated(resT.getShape(), threads);
  } else if (srcT.getElementType() != resT.getElementType()) {
    // Shared: the same bytes, each new element whole under the source's
    // swizzle (a word of a tile swizzled in 16-byte units).
    l = reinterpretLayout(*srcL, getElementBits(srcT.getElementType()), resT.getShape(),
                          getElementBits(resT.getElementType()));
  }
  if (!l) {
    if (scope == MemScope::Local)
      return r.emitError("on the GPU a local buffer is reshaped (or viewed as another dtype) only "
                         "between shapes whose dimensions are powers of two");
    return r.emitError("this shared buffer is laid out for T.gemm (swizzled); it can be read in "
                       "another shape only in power-of-two dimensions, and as another dtype only "
                       "where each new element is whole in the swizzle (at most 16 bytes, whole "
                       "elements of the old dtype)");
  }
  r.getResult().setType(withLayout(resT, l));
  return success();
}

} // namespace

LogicalResult checkRegisterViews(LaunchOp launch) {
  WalkResult w = launch.walk([&](Operation *op) {
    if (auto v = dyn_cast<ViewOp>(op)) {
      MemScope s = *getMemScope(v.getSrc().getType());
      if (s == MemScope::Fragment || s == MemScope::Local)
        return failed(retypeView(v)) ? WalkResult::interrupt() : WalkResult::advance();
    }
    if (auto r = dyn_cast<ReshapeOp>(op))
      if (*getMemScope(r.getSrc().getType()) == MemScope::Fragment)
        return failed(retypeReshape(r)) ? WalkResult::interrupt() : WalkResult::advance();
    return WalkResult::advance();
  });
  return failure(w.wasInterrupted());
}

LogicalResult retypeViews(LaunchOp launch) {
  WalkResult w = launch.walk([&](Operation *op) {
    if (auto v = dyn_cast<ViewOp>(op))
      return failed(retypeView(v)) ? WalkResult::interrupt() : WalkResult::advance();
    if (auto r = dyn_cast<ReshapeOp>(op))
      return failed(retypeReshape(r)) ? WalkResult::interrupt() : WalkResult::advance();
    return WalkResult::advance();
  });
  return failure(w.wasInterrupted());
}

} // namespace mlir::tl
