// Views of on-chip buffers: tl.view (a box of a buffer) and tl.reshape (a
// whole buffer read in another shape or element type), their verifiers, and
// what their layouts are (the rules are listed in docs/dialect.md).
#include "tl/IR/TlOps.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "llvm/Support/MathExtras.h"

#include <functional>

using namespace mlir;
using namespace mlir::tl;

std::optional<SmallVector<unsigned>> mlir::tl::getViewKeptDims(ArrayRef<int64_t> sizes,
                                                               ArrayRef<int64_t> result) {
  // Ranks are small: try keeping each unit dimension before dropping it.
  SmallVector<unsigned> kept;
  std::function<bool(size_t, size_t)> match = [&](size_t i, size_t j) -> bool {
    if (i == sizes.size())
      return j == result.size();
    if (j < result.size() && sizes[i] == result[j]) {
      kept.push_back(i);
      if (match(i + 1, j + 1))
        return true;
      kept.pop_back();
    }
    return sizes[i] == 1 && match(i + 1, j);
  };
  if (!match(0, 0))
    return std::nullopt;
  return kept;
}

std::optional<LinearLayout> mlir::tl::restrictViewLayout(const LinearLayout &layout,
                                                         ArrayRef<std::optional<int64_t>> offsets,
                                                         ArrayRef<int64_t> sizes,
                                                         ArrayRef<unsigned> kept) {
  unsigned rank = layout.getRank();
  if (offsets.size() != rank || sizes.size() != rank ||
      layout.getInBits(LinearLayout::Offset) != layout.getOutBits())
    return std::nullopt;
  ArrayRef<int64_t> padded = layout.getOutShape();
  // The box: a power of two per kept dimension (or the whole padded
  // dimension), at an origin that is a multiple of it.
  SmallVector<int64_t> box;
  unsigned bits = 0;
  for (unsigned d : kept) {
    int64_t p = LinearLayout::padPow2(sizes[d]);
    if (p > padded[d] || (p != sizes[d] && !(offsets[d] && *offsets[d] == 0)))
      return std::nullopt;
    if (!offsets[d] || *offsets[d] % p != 0)
      return std::nullopt;
    box.push_back(p);
    bits += llvm::Log2_64(p);
  }
  // The lowest `bits` offsets must cover the box and nothing else.
  LinearLayout r(box);
  ArrayRef<LinearLayout::Coords> bases = layout.getBases(LinearLayout::Offset);
  for (unsigned b = 0; b < bits; ++b) {
    LinearLayout::Coords c;
    for (unsigned d = 0; d < rank; ++d) {
      auto it = llvm::find(kept, d);
      if (it == kept.end()) {
        if (bases[b][d] != 0)
          return std::nullopt;
        continue;
      }
      if (bases[b][d] >= box[it - kept.begin()])
        return std::nullopt;
      c.push_back(bases[b][d]);
    }
    r.addBasis(LinearLayout::Offset, c);
  }
  if (r.invertOffsets().empty() && r.getOutBits() != 0)
    return std::nullopt;
  // The origin's offset must have no bit below `bits`, so that it adds to
  // the box's offsets without carries: constant origins by value, run-time
  // ones (the stage of a ring) for every value their dimension can take.
  uint64_t low = (uint64_t{1} << bits) - 1;
  SmallVector<int64_t> origin(rank, 0);
  for (unsigned d = 0; d < rank; ++d) {
    if (offsets[d]) {
      origin[d] = *offsets[d];
      continue;
    }
    if (llvm::is_contained(kept, d))
      return std::nullopt;
    for (int64_t v = 1; v < padded[d]; v *= 2) {
      SmallVector<int64_t> c(rank, 0);
      c[d] = v;
      std::optional<int64_t> off = layout.offsetOf(c);
      if (!off || (static_cast<uint64_t>(*off) & low))
        return std::nullopt;
    }
  }
  std::optional<int64_t> off = layout.offsetOf(origin);
  if (!off || (static_cast<uint64_t>(*off) & low))
    return std::nullopt;
  return r;
}

bool mlir::tl::isContiguousBox(ArrayRef<int64_t> shape, ArrayRef<int64_t> sizes) {
  size_t d = sizes.size();
  while (d > 0 && sizes[d - 1] == shape[d - 1])
    --d;
  for (size_t i = 0; i + 1 < d; ++i)
    if (sizes[i] != 1)
      return false;
  return true;
}

namespace {
/// The element counts of `layout`'s tile and of `shape`; nullopt when `shape`
/// is not all powers of two.
std::optional<std::pair<int64_t, int64_t>> tileSizes(const LinearLayout &layout,
                                                     ArrayRef<int64_t> shape) {
  int64_t from = 1, to = 1;
  for (int64_t s : layout.getOutShape())
    from *= s;
  for (int64_t s : shape) {
    if (!llvm::isPowerOf2_64(s))
      return std::nullopt;
    to *= s;
  }
  return std::make_pair(from, to);
}
} // namespace

std::optional<LinearLayout> mlir::tl::reshapeLayout(const LinearLayout &layout,
                                                    ArrayRef<int64_t> shape) {
  std::optional<std::pair<int64_t, int64_t>> sizes = tileSizes(layout, shape);
  if (!sizes || sizes->first != sizes->second)
    return std::nullopt;
  LinearLayout r(shape);
  for (unsigned d = 0; d < LinearLayout::kNumInDims; ++d)
    for (const LinearLayout::Coords &b : layout.getBases(static_cast<LinearLayout::InDim>(d)))
      r.addBasis(static_cast<LinearLayout::InDim>(d), r.unflatten(layout.flatten(b)));
  return r;
}

std::optional<LinearLayout> mlir::tl::reinterpretLayout(const LinearLayout &layout,
                                                        int64_t srcBits, ArrayRef<int64_t> shape,
                                                        int64_t resBits) {
  if (layout.isRegisterLayout() || srcBits % 8 || resBits % 8 ||
      !llvm::isPowerOf2_64(srcBits / 8) || !llvm::isPowerOf2_64(resBits / 8))
    return std::nullopt;
  unsigned sb = llvm::Log2_64(srcBits / 8), rb = llvm::Log2_64(resBits / 8);
  std::optional<std::pair<int64_t, int64_t>> sizes = tileSizes(layout, shape);
  if (!sizes || (sizes->first << sb) != (sizes->second << rb))
    return std::nullopt;
  // Each offset bit of the byte-level layout, as the flattened byte address
  // (row-major, in bytes) of the element it reaches.
  SmallVector<uint64_t> bytes;
  for (unsigned i = 0; i < sb; ++i)
    bytes.push_back(uint64_t{1} << i);
  for (const LinearLayout::Coords &b : layout.getBases(LinearLayout::Offset))
    bytes.push_back(layout.flatten(b) << sb);
  if (bytes.size() < rb)
    return std::nullopt;
  uint64_t low = (uint64_t{1} << rb) - 1;
  for (unsigned i = 0; i < rb; ++i)
    if (bytes[i] != (uint64_t{1} << i))
      return std::nullopt;
  LinearLayout r(shape);
  for (size_t i = rb; i < bytes.size(); ++i) {
    if (bytes[i] & low)
      return std::nullopt;
    r.addBasis(LinearLayout::Offset, r.unflatten(bytes[i] >> rb));
  }
  return r;
}

namespace {

LogicalResult verifyInLaunch(Operation *op) {
  if (!op->getParentOfType<LaunchOp>())
    return op->emitOpError("must be nested in a tl.launch");
  return success();
}

bool isOnChip(Type t, bool withTmem) {
  std::optional<MemScope> s = getMemScope(t);
  return s && (*s == MemScope::Shared || *s == MemScope::Fragment || *s == MemScope::Local ||
               (withTmem && *s == MemScope::Tmem));
}

} // namespace

SmallVector<unsigned> ViewOp::getKeptDims() {
  auto resT = cast<MemRefType>(getResult().getType());
  return getViewKeptDims(getSizes(), resT.getShape()).value_or(SmallVector<unsigned>{});
}

LogicalResult ViewOp::verify() {
  if (!isOnChip(getSrc().getType(), /*withTmem=*/true))
    return emitOpError("source must be in shared, fragment, local or tmem memory");
  auto srcT = cast<MemRefType>(getSrc().getType());
  auto resT = cast<MemRefType>(getResult().getType());
  ArrayRef<int64_t> sizes = getSizes();
  if (getOffsets().size() != static_cast<size_t>(srcT.getRank()) ||
      sizes.size() != static_cast<size_t>(srcT.getRank()))
    return emitOpError("needs one offset and one size per source dimension (")
           << srcT.getRank() << ")";
  SmallVector<std::optional<int64_t>> offsets;
  for (auto [i, off] : llvm::enumerate(getOffsets())) {
    if (sizes[i] < 1 || sizes[i] > srcT.getShape()[i])
      return emitOpError("size ") << sizes[i] << " of dimension " << i
                                  << " does not fit the source's " << srcT.getShape()[i];
    offsets.push_back(getConstantIntValue(off));
    if (offsets.back() && (*offsets.back() < 0 || *offsets.back() + sizes[i] > srcT.getShape()[i]))
      return emitOpError("the box of dimension ") << i << " is out of bounds";
  }
  std::optional<SmallVector<unsigned>> kept = getViewKeptDims(sizes, resT.getShape());
  if (!kept || srcT.getElementType() != resT.getElementType() ||
      getMemScope(srcT) != getMemScope(resT))
    return emitOpError("result must be a buffer of the box's shape (unit dimensions dropped), "
                       "element type and scope");
  std::optional<LinearLayout> srcL = getBufferLayout(srcT), resL = getBufferLayout(resT);
  if (!srcL) {
    if (resL)
      return emitOpError("a view of a buffer without a layout has none");
    return verifyInLaunch(*this);
  }
  if (getMemScope(srcT) == MemScope::Shared) {
    std::optional<LinearLayout> want = restrictViewLayout(*srcL, offsets, sizes, *kept);
    if (want && resL != want)
      return emitOpError("the view's layout must be its source's layout restricted to the box: ")
             << want->str();
    if (!want && resL)
      return emitOpError("a box that is not a restriction of its source's layout has no layout "
                         "(it is addressed through its source)");
    return verifyInLaunch(*this);
  }
  // Register and tensor-memory buffers: the view keeps the source's layout
  // on the kept dimensions.
  if (!resL)
    return emitOpError("a view of a laid-out buffer has the restriction of its layout");
  auto srcBases = srcL->getBases(LinearLayout::Offset);
  auto resBases = resL->getBases(LinearLayout::Offset);
  bool ok = resBases.size() <= srcBases.size() && kept->size() == resL->getRank();
  for (size_t b = 0; ok && b < resBases.size(); ++b)
    for (unsigned d = 0; ok && d < srcL->getRank(); ++d) {
      auto it = llvm::find(*kept, d);
      int64_t want = it == kept->end() ? 0 : resBases[b][it - kept->begin()];
      ok = srcBases[b][d] == want;
    }
  if (!ok)
    return emitOpError("the view's layout must be its source's layout restricted to the box");
  return verifyInLaunch(*this);
}

LogicalResult ReshapeOp::verify() {
  if (!isOnChip(getSrc().getType(), /*withTmem=*/false))
    return emitOpError("source must be in shared, fragment or local memory");
  auto srcT = cast<MemRefType>(getSrc().getType());
  auto resT = cast<MemRefType>(getResult().getType());
  if (getMemScope(srcT) != getMemScope(resT))
    return emitOpError("result must be in the source's scope");
  if (getSrc().getDefiningOp<ViewOp>())
    return emitOpError("source must be a whole buffer, not a tl.view of one");
  Type se = srcT.getElementType(), re = resT.getElementType();
  int64_t srcBits = srcT.getNumElements() * getElementBits(se);
  int64_t resBits = resT.getNumElements() * getElementBits(re);
  if (srcBits != resBits)
    return emitOpError("result must have the source's size in bits (")
           << srcBits << "), got " << resBits;
  if (se != re) {
    if (getMemScope(srcT) == MemScope::Fragment)
      return emitOpError("a fragment's elements cannot be read as another element type");
    for (Type t : {se, re})
      if (t.isInteger(1) || isa<Float4E2M1FNType>(t))
        return emitOpError("bools and FP4 elements cannot be reinterpreted as another type");
  }
  std::optional<LinearLayout> srcL = getBufferLayout(srcT), resL = getBufferLayout(resT);
  if (static_cast<bool>(srcL) != static_cast<bool>(resL))
    return emitOpError("a reshape of a laid-out buffer has its layout read in the new shape, and "
                       "a reshape of one without a layout has none");
  if (srcL) {
    std::optional<LinearLayout> want =
        se == re ? reshapeLayout(*srcL, resT.getShape())
                 : reinterpretLayout(*srcL, getElementBits(se), resT.getShape(), getElementBits(re));
    if (!want || *want != *resL)
      return emitOpError("the result's layout must be the source's read in the new shape");
  }
  return verifyInLaunch(*this);
}
