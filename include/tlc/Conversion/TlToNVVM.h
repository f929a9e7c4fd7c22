// tl -> LLVM dialect + NVVM for NVIDIA GPUs (sm_90a, sm_100a), and
// LLVM -> PTX.
//
// lowerTlKernelsToNVVM runs the GPU pipeline of tl passes (docs/architecture.md:
// layouts, pipelining, warp specialisation, thread distribution, shared-memory
// allocation) and the lowering to the LLVM dialect on every tl kernel of a
// module; what the runtime needs to launch each kernel (threads, shared
// bytes, tensor maps) is returned for the manifest (docs/abi.md).
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <memory>
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
  /// Optional schedule passes left out (ablations, debugging): any of
  /// kOptionalGpuPasses.
  std::vector<std::string> disabledPasses;
  /// Opt-in schedule passes run as well: any of kOptInGpuPasses.
  std::vector<std::string> enabledPasses;
  /// `tlc --check-bounds`: an out-of-range element access of a global
  /// tensor prints a report (device printf) and traps instead of being
  /// guarded.
  bool checkBounds = false;
};

/// The GPU passes that only schedule (the kernel is correct without them):
/// tl-rotate-mma, tl-pingpong, tl-persistent.
extern const char *const kOptionalGpuPasses[3];

/// The schedule passes left out unless asked for (`tlc --enable-pass`):
/// tl-pingpong, measured slower than without it on an H100 (docs/perf.md).
extern const char *const kOptInGpuPasses[1];

/// The GPU pipeline of tl passes and the lowering, for a pass manager on a
/// module of tl kernels.
void buildTlToNVVMPipeline(mlir::OpPassManager &pm, const GpuTargetOptions &options);

/// Runs that pipeline on `module` in place. Errors are emitted as MLIR
/// diagnostics at the offending op's location; returns failure after any.
/// With `printIR`, prints the IR after every pass to stderr.
mlir::LogicalResult lowerTlKernelsToNVVM(mlir::ModuleOp module, const GpuTargetOptions &options,
                                         std::vector<GpuKernelInfo> &kernels,
                                         bool printIR = false);

/// The last step alone: `--tl-lower-to-nvvm[=chip=...]`.
std::unique_ptr<mlir::Pass> createTlLowerToNVVMPass(llvm::StringRef chip);
/// Registers `--tl-lower-to-nvvm` and the `--tl-gpu-pipeline` (for tl-opt).
void registerTlToNVVMPasses();

/// LLVM dialect module -> LLVM IR text / PTX text. Returns failure with a
/// diagnostic at the module's location.
mlir::LogicalResult translateToLLVMIR(mlir::ModuleOp module, std::string &out);
mlir::LogicalResult translateToPTX(mlir::ModuleOp module, const std::string &chip,
                                   std::string &out);

} // namespace tlc
