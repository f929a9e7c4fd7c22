// The previous, single-walk NVIDIA lowering (being replaced by the pass
// pipeline of TlToNVVM.h): kept only until the new lowering covers all it did.
#pragma once

#include "tlc/Conversion/TlToNVVM.h"

namespace tlc {

mlir::LogicalResult lowerTlKernelsToNVVMLegacy(mlir::ModuleOp module,
                                               const GpuTargetOptions &options,
                                               std::vector<GpuKernelInfo> &kernels);

// Registers `--tl-lower-to-nvvm-legacy` (for tl-opt).
void registerTlToHopperPasses();

} // namespace tlc
