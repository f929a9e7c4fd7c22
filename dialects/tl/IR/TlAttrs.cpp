// Attributes and enums of the `tl` dialect, and the memref helpers that read
// a buffer's #tl.scope and size.
#include "tl/IR/TlDialect.h"
#include "tl/IR/TlOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tl;

#include "tl/IR/TlEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "tl/IR/TlAttrs.cpp.inc"

void TlDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "tl/IR/TlAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// #tl.layout
//===----------------------------------------------------------------------===//

namespace {

constexpr LinearLayout::InDim kInDims[] = {LinearLayout::Register, LinearLayout::Lane,
                                           LinearLayout::Warp, LinearLayout::Offset};

SmallVector<int64_t> flattenBases(ArrayRef<LinearLayout::Coords> bases) {
  SmallVector<int64_t> flat;
  for (const LinearLayout::Coords &b : bases)
    flat.append(b.begin(), b.end());
  return flat;
}

} // namespace

LayoutAttr LayoutAttr::get(MLIRContext *ctx, const LinearLayout &layout) {
  return get(ctx, layout.getOutShape(), flattenBases(layout.getBases(LinearLayout::Register)),
             flattenBases(layout.getBases(LinearLayout::Lane)),
             flattenBases(layout.getBases(LinearLayout::Warp)),
             flattenBases(layout.getBases(LinearLayout::Offset)));
}

LinearLayout LayoutAttr::getLayout() const {
  LinearLayout l(getShape());
  size_t rank = getShape().size();
  ArrayRef<int64_t> flat[] = {getReg(), getLane(), getWarp(), getOffset()};
  for (LinearLayout::InDim d : kInDims)
    for (size_t i = 0; rank && i + rank <= flat[d].size(); i += rank)
      l.addBasis(d, flat[d].slice(i, rank));
  return l;
}

LogicalResult LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<int64_t> shape, ArrayRef<int64_t> reg,
                                 ArrayRef<int64_t> lane, ArrayRef<int64_t> warp,
                                 ArrayRef<int64_t> offset) {
  if (shape.empty())
    return emitError() << "a layout needs at least one tile dimension";
  for (int64_t s : shape)
    if (s < 1 || !llvm::isPowerOf2_64(s))
      return emitError() << "layout tile dimensions must be powers of two, got " << s;
  for (auto [name, flat] : {std::pair{"reg", reg}, std::pair{"lane", lane},
                            std::pair{"warp", warp}, std::pair{"offset", offset}}) {
    if (flat.size() % shape.size())
      return emitError() << "layout '" << name << "' bases must have " << shape.size()
                         << " coordinates each";
    for (size_t i = 0; i < flat.size(); ++i)
      if (flat[i] < 0 || flat[i] >= shape[i % shape.size()])
        return emitError() << "layout '" << name << "' basis coordinate " << flat[i]
                           << " is outside the tile dimension of size "
                           << shape[i % shape.size()];
  }
  if (!offset.empty() && (!reg.empty() || !lane.empty() || !warp.empty()))
    return emitError() << "a layout maps either registers/lanes/warps or offsets, not both";
  return success();
}

Attribute LayoutAttr::parse(AsmParser &parser, Type) {
  SmallVector<int64_t> shape;
  SmallVector<int64_t> flat[4];
  auto parseInt = [&](SmallVector<int64_t> &out) -> ParseResult {
    int64_t v;
    if (parser.parseInteger(v))
      return failure();
    out.push_back(v);
    return success();
  };
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                     [&] { return parseInt(shape); }))
    return {};
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    int dim = llvm::StringSwitch<int>(key)
                  .Case("reg", 0)
                  .Case("lane", 1)
                  .Case("warp", 2)
                  .Case("offset", 3)
                  .Default(-1);
    if (dim < 0) {
      parser.emitError(loc) << "expected 'reg', 'lane', 'warp' or 'offset', got '" << key << "'";
      return {};
    }
    if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
          return parser.parseCommaSeparatedList(AsmParser::Delimiter::Paren,
                                                [&] { return parseInt(flat[dim]); });
        }))
      return {};
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<LayoutAttr>(parser.getContext(), shape, flat[0], flat[1], flat[2],
                                       flat[3]);
}

void LayoutAttr::print(AsmPrinter &printer) const {
  printer << "<" << getLayout().str() << ">";
}

namespace mlir::tl {

std::optional<LinearLayout> getBufferLayout(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref)
    return std::nullopt;
  auto scope = dyn_cast_or_null<MemScopeAttr>(memref.getMemorySpace());
  if (!scope || !scope.getLayout())
    return std::nullopt;
  return scope.getLayout().getLayout();
}

MemRefType withBufferLayout(MemRefType type, const LinearLayout &layout) {
  auto scope = cast<MemScopeAttr>(type.getMemorySpace());
  MLIRContext *ctx = type.getContext();
  return MemRefType::get(type.getShape(), type.getElementType(), type.getLayout(),
                         MemScopeAttr::get(ctx, scope.getValue(), LayoutAttr::get(ctx, layout)));
}

std::optional<MemScope> getMemScope(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref)
    return std::nullopt;
  auto scope = dyn_cast_or_null<MemScopeAttr>(memref.getMemorySpace());
  if (!scope)
    return std::nullopt;
  return scope.getValue();
}

MemRefType getScopedMemRefType(ArrayRef<int64_t> shape, Type elementType,
                               MemScope scope) {
  MLIRContext *ctx = elementType.getContext();
  return MemRefType::get(shape, elementType, MemRefLayoutAttrInterface(),
                         MemScopeAttr::get(ctx, scope));
}

unsigned getElementBits(Type elementType) {
  if (elementType.isInteger(1))
    return 8;
  return elementType.getIntOrFloatBitWidth();
}

std::string describeDType(Type t) {
  if (t.isBF16())
    return "bfloat16";
  if (t.isF16())
    return "float16";
  if (t.isF32())
    return "float32";
  if (t.isF64())
    return "float64";
  if (isa<Float8E4M3FNType>(t))
    return "float8_e4m3";
  if (isa<Float8E5M2Type>(t))
    return "float8_e5m2";
  if (isa<Float4E2M1FNType>(t))
    return "float4_e2m1";
  if (isa<Float8E8M0FNUType>(t))
    return "ue8m0";
  if (t.isInteger(1))
    return "bool";
  if (auto i = dyn_cast<IntegerType>(t))
    return "int" + std::to_string(i.getWidth());
  if (t.isIndex())
    return "int";
  std::string s;
  llvm::raw_string_ostream(s) << t;
  return s;
}

std::string describeBuffer(Value buffer) {
  // Through views and reshapes to the allocation the name was given to.
  while (Operation *def = buffer.getDefiningOp()) {
    if (auto name = dyn_cast<NameLoc>(def->getLoc()))
      return "'" + name.getName().str() + "'";
    if (def->getNumOperands() == 0 || !isa<ViewOp, ReshapeOp>(def))
      break;
    buffer = def->getOperand(0);
  }
  if (auto arg = dyn_cast<BlockArgument>(buffer))
    if (auto name = dyn_cast<NameLoc>(arg.getLoc()))
      return "'" + name.getName().str() + "'";
  return "this buffer";
}

int64_t getBufferBytes(MemRefType type) {
  int64_t bits = type.getNumElements() * getElementBits(type.getElementType());
  return (bits + 7) / 8;
}

int64_t getSwizzleBytes(MemRefType type) {
  std::optional<LinearLayout> l = getBufferLayout(type);
  if (!l || l->getRank() < 2 || l->getOutShape()[l->getRank() - 2] < 8)
    return 0;
  int64_t eb = isa<Float4E2M1FNType>(type.getElementType())
                   ? 1
                   : std::max<unsigned>(1, getElementBits(type.getElementType()) / 8);
  // Row 8 starts a fresh swizzle pattern (its byte address bits 7.. are a
  // multiple of 8 rows), so its offset is 8 rows of the span.
  SmallVector<int64_t> coords(l->getRank(), 0);
  coords[l->getRank() - 2] = 8;
  std::optional<int64_t> off = l->offsetOf(coords);
  int64_t span = off ? *off * eb / 8 : 0;
  // Other offset layouts (tcgen05's block-scale tiles) are no swizzle.
  return span == 32 || span == 64 || span == 128 ? span : 0;
}

namespace {
/// Whether pieces of v elements along the last dimension of `dst` (layout `l`,
/// or none) are contiguous and v-aligned.
bool piecesContiguous(MemRefType dst, const std::optional<LinearLayout> &l, int64_t v) {
  if (!l)
    return dst.getShape().back() % v == 0;
  unsigned rank = l->getRank();
  for (unsigned d = 0; d < rank; ++d)
    for (int64_t c = 1; c < l->getOutShape()[d]; c *= 2) {
      SmallVector<int64_t> coords(rank, 0);
      coords[d] = c;
      std::optional<int64_t> off = l->offsetOf(coords);
      bool inPiece = d + 1 == rank && c < v;
      if (!off || (inPiece ? *off != c : *off % v != 0))
        return false;
    }
  return true;
}

/// Bytes of the element type both sides of a copy share, 0 when they differ
/// or cp.async cannot move it (FP4, bool).
int64_t copyElementBytes(MemRefType src, MemRefType dst) {
  Type e = src.getElementType();
  if (e != dst.getElementType() || isa<Float4E2M1FNType>(e) || e.isInteger(1))
    return 0;
  return getElementBits(e) / 8;
}
} // namespace

int64_t getCpAsyncVectorBytes(MemRefType src, ArrayRef<int64_t> srcSizes, MemRefType dst,
                              ArrayRef<int64_t> dstSizes) {
  int64_t eb = copyElementBytes(src, dst);
  if (eb == 4 || eb == 8 || eb == 16)
    return eb;
  if (eb != 1 || srcSizes.empty() || dstSizes.empty() ||
      srcSizes.back() != dstSizes.back() || srcSizes.back() == 1)
    return 0;
  std::optional<LinearLayout> l = getBufferLayout(dst);
  for (int64_t v : {16, 8, 4})
    if (dstSizes.back() % v == 0 && piecesContiguous(dst, l, v))
      return v;
  return 0;
}

int64_t getGatherVectorBytes(MemRefType src, ArrayRef<int64_t> srcSizes, MemRefType dst,
                             ArrayRef<int64_t> dstSizes) {
  int64_t eb = copyElementBytes(src, dst);
  if (eb < 1 || srcSizes.empty() || dstSizes.empty() || srcSizes.back() != dstSizes.back())
    return 0;
  std::optional<LinearLayout> l = getBufferLayout(dst);
  for (int64_t bytes : {16, 8, 4}) {
    if (bytes < eb || bytes % eb)
      continue;
    int64_t v = bytes / eb;
    if (dstSizes.back() % v == 0 && piecesContiguous(dst, l, v))
      return bytes;
  }
  return 0;
}

int64_t getTmemColumns(MemRefType type) {
  if (isa<Float8E8M0FNUType>(type.getElementType())) {
    // Block scales: a column per 32 rows of each 128, four words deep
    // (tcgen05.cp 32x128b.warpx4), per four chunks, per ring slot.
    int64_t r = type.getRank();
    int64_t slots = r == 3 ? type.getDimSize(0) : 1;
    int64_t rows = type.getDimSize(r - 2), chunks = type.getDimSize(r - 1);
    return slots * ((rows + 127) / 128) * 4 * ((chunks + 3) / 4);
  }
  int64_t bits = type.getDimSize(1) * getElementBits(type.getElementType());
  return (bits + 31) / 32;
}

} // namespace mlir::tl
