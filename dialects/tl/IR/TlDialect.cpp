// Registration of the `tl` dialect.
#include "tl/IR/TlDialect.h"
#include "tl/IR/TlOps.h"

using namespace mlir;
using namespace mlir::tl;

#include "tl/IR/TlDialect.cpp.inc"

void TlDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "tl/IR/TlOps.cpp.inc"
      >();
}
