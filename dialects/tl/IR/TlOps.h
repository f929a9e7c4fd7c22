// The operations of the `tl` dialect (generated from TlOps.td).
#ifndef TL_IR_TLOPS_H
#define TL_IR_TLOPS_H

#include "tl/IR/TlDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "tl/IR/TlOps.h.inc"

#endif // TL_IR_TLOPS_H
