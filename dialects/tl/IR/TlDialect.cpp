// Registration of the `tl` dialect.
#include "tl/IR/TlDialect.h"
#include "tl/IR/TlOps.h"

#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::tl;

#include "tl/IR/TlDialect.cpp.inc"

namespace {

// Printed IR names layouts once at the top (`#frag = #tl.scope<fragment,
// #tl.layout<...>>`) instead of repeating them in every memref type.
struct TlOpAsmInterface : public OpAsmDialectInterface {
  using OpAsmDialectInterface::OpAsmDialectInterface;
  AliasResult getAlias(Attribute attr, raw_ostream &os) const override {
    if (auto scope = dyn_cast<MemScopeAttr>(attr)) {
      if (!scope.getLayout())
        return AliasResult::NoAlias;
      switch (scope.getValue()) {
      case MemScope::Fragment:
        os << "frag";
        break;
      case MemScope::Local:
        os << "local";
        break;
      case MemScope::Shared:
        os << "smem";
        break;
      case MemScope::Tmem:
        os << "tmem";
        break;
      case MemScope::Global:
        os << "global";
        break;
      }
      return AliasResult::FinalAlias;
    }
    if (isa<LayoutAttr>(attr)) {
      os << "layout";
      return AliasResult::FinalAlias;
    }
    return AliasResult::NoAlias;
  }
};

} // namespace

void TlDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "tl/IR/TlOps.cpp.inc"
      >();
  addInterfaces<TlOpAsmInterface>();
}
