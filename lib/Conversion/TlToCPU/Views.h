// tl.view and tl.reshape on the CPU target (Views.cpp); private to
// lib/Conversion/TlToCPU.
#pragma once

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"

namespace tlc::cpu {

/// Rewrites every tl.view and tl.reshape of `func` (whose allocations are
/// memref.alloc already) into memref views of the same memory.
mlir::LogicalResult lowerViews(mlir::func::FuncOp func, mlir::RewriterBase &rewriter);

} // namespace tlc::cpu
