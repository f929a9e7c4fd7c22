// Types of the `tl` dialect: !tl.barrier<N>.
#include "tl/IR/TlDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tl;

#define GET_TYPEDEF_CLASSES
#include "tl/IR/TlTypes.cpp.inc"

LogicalResult BarrierType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t count) {
  if (count < 1)
    return emitError() << "!tl.barrier count must be at least 1, got " << count;
  return success();
}

void TlDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "tl/IR/TlTypes.cpp.inc"
      >();
}
