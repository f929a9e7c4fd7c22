// Exact emulation of the .tl dtype conversions in generated code (integer
// bit manipulation and decode tables), bit-identical to
// runtime/src/LowPrecision.cpp. Internal to TlToCPU.
#ifndef TLC_LIB_CONVERSION_TLTOCPU_LOWPRECISION_H
#define TLC_LIB_CONVERSION_TLTOCPU_LOWPRECISION_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace tlc::cpu {

/// f8E4M3FN, f8E5M2, f4E2M1FN or f8E8M0FNU: types LLVM has no arithmetic for;
/// the CPU target stores them as i8 codes.
bool isNarrowFloat(mlir::Type type);

/// Emits the conversion of the scalar `value` to `dstType` with tl.cast's
/// rules (docs/dialect.md, runtime/include/tlrt/LowPrecision.h). Narrow float
/// values are exchanged with the rest of the IR through
/// builtin.unrealized_conversion_cast from/to i8 (low nibble for e2m1), which
/// the pass folds away once it stores narrow floats as i8. Decode tables are
/// private memref.globals created in `module` on first use.
mlir::Value emitConvert(mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module,
                        mlir::Value value, mlir::Type dstType);

} // namespace tlc::cpu

#endif // TLC_LIB_CONVERSION_TLTOCPU_LOWPRECISION_H
