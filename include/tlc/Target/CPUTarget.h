// The CPU back end after TlToCPU: LLVM dialect, LLVM IR, a host object file
// and a shared object linked by the system C compiler. See docs/cpu-target.md.
#ifndef TLC_TARGET_CPUTARGET_H
#define TLC_TARGET_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace tlc {

/// Lowers every tl kernel of `module` (in place) down to the LLVM dialect,
/// element accesses of global tensors guarded (or, with `checkBounds`,
/// checked: an out-of-range access prints a report and aborts).
/// Errors are emitted through the context's diagnostic handler.
mlir::LogicalResult lowerToLLVMDialectForCPU(mlir::ModuleOp module, bool checkBounds = false);

/// Translates an LLVM-dialect module to textual LLVM IR (not yet optimised).
mlir::FailureOr<std::string> emitCPULLVMIR(mlir::ModuleOp module, std::string &error);

/// Translates, optimises (-O3) and compiles an LLVM-dialect module into an
/// x86-64 ELF relocatable object (PIC), returned as bytes.
mlir::FailureOr<std::string> emitCPUObject(mlir::ModuleOp module, std::string &error);

/// Links `objectBytes` into the shared object `soPath` with `cc -shared`
/// (the C compiler on PATH, or $TLC_CC). False with `error` set on failure.
bool linkCPUSharedObject(llvm::StringRef objectBytes, llvm::StringRef soPath, std::string &error);

} // namespace tlc

#endif // TLC_TARGET_CPUTARGET_H
