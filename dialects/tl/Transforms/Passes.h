// Passes over the `tl` dialect (declared in Passes.td).
#ifndef TL_TRANSFORMS_PASSES_H
#define TL_TRANSFORMS_PASSES_H

#include "tl/IR/TlDialect.h"

#include "mlir/Pass/Pass.h"

namespace mlir::tl {

#define GEN_PASS_DECL
#include "tl/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tl/Transforms/Passes.h.inc"

} // namespace mlir::tl

#endif // TL_TRANSFORMS_PASSES_H
