// tl -> LLVM dialect (+ inline PTX) for NVIDIA GPUs, and LLVM -> PTX.
//
// lowerTlKernelsToNVVM rewrites every tl kernel of a module into an
// `llvm.func` with the `nvvm.kernel` attribute, following docs/abi.md for the
// parameter list. What the runtime needs to launch it (threads, shared bytes,
// tensor maps) is returned per kernel for the manifest.
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tlc {

struct GpuTmaMap {
  int64_t param = 0;             // index into the kernel's .tl parameters
  std::string dtype;             // language dtype name
  std::vector<int64_t> box;      // outermost first, elements
  std::string swizzle = "128B";  // none | 32B | 64B | 128B
  // Packed float4 in global memory, 16 values per 16 bytes in shared memory
  // (CU_TENSOR_MAP_DATA_TYPE_16U4_ALIGN16B), as tcgen05's f8f6f4 kinds read it.
  bool unpackFP4 = false;
};

struct GpuKernelInfo {
  std::string name;
  int64_t threads = 0;           // launch block size (incl. a producer warpgroup)
  int64_t sharedBytes = 0;       // dynamic shared memory
  std::vector<int64_t> cluster{1, 1, 1};
  std::vector<GpuTmaMap> tma;
  bool warpSpecialized = false;
  bool persistent = false;       // launched with <= one block per SM (docs/abi.md)
};

struct GpuTargetOptions {
  std::string chip = "sm_90a";   // sm_90a | sm_100a
  int64_t smemLimit = 232448;    // bytes per block (227 KiB on sm_90/sm_100)
};

// Lowers every tl kernel in `module` in place. Errors are emitted as MLIR
// diagnostics at the offending op's location; returns failure after any.
mlir::LogicalResult lowerTlKernelsToNVVM(mlir::ModuleOp module,
                                         const GpuTargetOptions &options,
                                         std::vector<GpuKernelInfo> &kernels);

// Registers `--tl-lower-to-nvvm` (for tl-opt).
void registerTlToHopperPasses();

// LLVM dialect module -> LLVM IR text / PTX text. Returns failure with a
// diagnostic at the module's location.
mlir::LogicalResult translateToLLVMIR(mlir::ModuleOp module, std::string &out);
mlir::LogicalResult translateToPTX(mlir::ModuleOp module, const std::string &chip,
                                   std::string &out);

} // namespace tlc
