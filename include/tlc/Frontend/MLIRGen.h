// Lowers an analysed .tl AST to the `tl` MLIR dialect. Every op gets a
// FileLineColLoc from its AST node, so later passes still point at the user's line.
#ifndef TLC_FRONTEND_MLIRGEN_H
#define TLC_FRONTEND_MLIRGEN_H

#include "tlc/Frontend/Sema.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace tlc {

/// Builds one `func.func` (attribute `tl.kernel`) per analysed kernel.
/// Returns null after reporting to `diags` if something cannot be lowered.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context, const Module &module,
                                          const SemaResult &sema, DiagnosticEngine &diags);

} // namespace tlc

#endif // TLC_FRONTEND_MLIRGEN_H
