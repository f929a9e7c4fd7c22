// Shared MMA operand tiles, for the wgmma and tcgen05 lowerings: an operand
// is a laid-out buffer, or a tl.view of one. A view with a layout of its own
// (a ring's stage, a whole swizzle chunk of columns) is addressed from its
// own start; one without (a K-slice inside a swizzle atom) through the
// buffer it is a view of, so its descriptors start inside the atom, which
// the hardware allows for K-major tiles in 16-byte steps (the swizzle is a
// function of the address bits, and a start on a multiple of 8 rows leaves
// the row bits of the XOR at zero).
#include "Common.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace tlc::nvvm {

Value SharedTileRef::elementOffset(OpBuilder &b, Location loc, Value r, Value c) const {
  SmallVector<Value> coords(origin.begin(), origin.end());
  coords[dims[0]] = arith::AddIOp::create(b, loc, coords[dims[0]], r);
  coords[dims[1]] = arith::AddIOp::create(b, loc, coords[dims[1]], c);
  return tl::emitLayoutOffset(b, loc, layout, coords);
}

std::optional<int64_t> SharedTileRef::strideOffset(int64_t r, int64_t c) const {
  SmallVector<int64_t> coords(type.getRank(), 0);
  coords[dims[0]] = r;
  coords[dims[1]] = c;
  return layout.offsetOf(coords);
}

FailureOr<SharedTileRef> resolveSharedTile(ConversionPatternRewriter &rewriter, Operation *op,
                                           Value orig, Value conv, StringRef what, bool mnMajor) {
  Location loc = op->getLoc();
  auto t = cast<MemRefType>(orig.getType());
  SharedTileRef ref;
  if (t.getRank() != 2)
    return op->emitError() << "the " << what << " operand of T.gemm must be 2-D";
  // Walk up layout-less views, carrying the operand's origin and dimensions
  // into each source's coordinates.
  Value cur = orig;
  SmallVector<Value> origin{cIndex(rewriter, loc, 0), cIndex(rewriter, loc, 0)};
  SmallVector<std::optional<int64_t>> constOrigin{0, 0};
  unsigned dims[2] = {0, 1};
  while (!tl::getBufferLayout(cur.getType())) {
    auto view = cur.getDefiningOp<tl::ViewOp>();
    if (!view)
      return op->emitError() << "the " << what
                             << " operand in shared memory has no swizzled layout (run "
                                "tl-infer-layouts)";
    SmallVector<unsigned> kept = view.getKeptDims();
    SmallVector<Value> o;
    SmallVector<std::optional<int64_t>> co;
    for (auto [d, off] : llvm::enumerate(view.getOffsets())) {
      Value v = rewriter.getRemappedValue(off);
      std::optional<int64_t> c = getConstantIntValue(off);
      auto it = llvm::find(kept, d);
      if (it != kept.end()) {
        unsigned k = it - kept.begin();
        v = arith::AddIOp::create(rewriter, loc, v, origin[k]);
        c = c && constOrigin[k] ? std::optional<int64_t>(*c + *constOrigin[k]) : std::nullopt;
      }
      o.push_back(v);
      co.push_back(c);
    }
    for (unsigned &d : dims)
      d = kept[d];
    origin = std::move(o);
    constOrigin = std::move(co);
    cur = view.getSrc();
  }
  ref.type = cast<MemRefType>(cur.getType());
  ref.layout = *tl::getBufferLayout(ref.type);
  ref.base = cur == orig ? conv : rewriter.getRemappedValue(cur);
  ref.origin = std::move(origin);
  ref.dims[0] = dims[0];
  ref.dims[1] = dims[1];
  int64_t swizzle = tl::getSwizzleBytes(ref.type);
  if (cur == orig || !swizzle)
    return ref;
  // A start the descriptors can take: 8-row groups (the swizzle's row bits
  // zero), 16-byte steps along the rows, whole swizzle spans along M or N
  // of an MN-major tile.
  unsigned rank = ref.type.getRank();
  Type elem = ref.type.getElementType();
  int64_t eb = isa<Float4E2M1FNType>(elem) ? 1 : std::max<int64_t>(1, tl::getElementBits(elem) / 8);
  std::optional<int64_t> row = constOrigin[rank - 2], col = constOrigin[rank - 1];
  bool ok = (!row || *row % 8 == 0) && (!col || (*col * eb) % 16 == 0) &&
            (!mnMajor || !col || (*col * eb) % swizzle == 0);
  if (!ok)
    return op->emitError() << "the " << what << " operand of T.gemm is a view starting at row "
                           << (row ? std::to_string(*row) : "?") << ", column "
                           << (col ? std::to_string(*col) : "?")
                           << " of its swizzled tile; an MMA reads views that start on a "
                              "multiple of 8 rows and of 16 bytes"
                           << (mnMajor ? ", and (MN-major) of the " + std::to_string(swizzle) +
                                             "-byte swizzle span along its columns"
                                       : std::string());
  return ref;
}

} // namespace tlc::nvvm
