// Attributes and enums of the `tl` dialect, and the memref helpers that read
// a buffer's #tl.scope and size.
#include "tl/IR/TlDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
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

namespace mlir::tl {

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

int64_t getBufferBytes(MemRefType type) {
  int64_t bits = type.getNumElements() * getElementBits(type.getElementType());
  return (bits + 7) / 8;
}

int64_t getTmemColumns(MemRefType type) {
  int64_t bits = type.getDimSize(1) * getElementBits(type.getElementType());
  return (bits + 31) / 32;
}

} // namespace mlir::tl
