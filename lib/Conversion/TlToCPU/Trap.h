// tl.trap on the CPU target (Trap.cpp); private to lib/Conversion/TlToCPU.
#pragma once

#include "tl/IR/TlOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"

namespace tlc::cpu {

/// Replaces `op` with a report on stderr (`dprintf(2, ...)`, `{}` as the
/// values in decimal, prefixed "tlc: error: ") and `abort()`.
void lowerTrap(mlir::tl::TrapOp op, mlir::ModuleOp module, mlir::RewriterBase &rewriter);

} // namespace tlc::cpu
