// TlToCPU: lowers tl kernels to plain scf/memref/arith/math/func (plus a few
// llvm ops for the entry wrapper) for the host CPU. See docs/cpu-target.md.
#ifndef TLC_CONVERSION_TLTOCPU_H
#define TLC_CONVERSION_TLTOCPU_H

#include "mlir/Pass/Pass.h"

#include <memory>

namespace tlc {

/// The pass `--tl-lower-to-cpu` (on builtin.module): every `tl.kernel`
/// function becomes `void NAME(void **args, int64_t block_begin, int64_t
/// block_end)` per docs/abi.md, running its blocks serially; narrow float
/// types are stored as i8 codes and converted with exact integer emulation.
std::unique_ptr<mlir::Pass> createTlLowerToCPUPass();

/// The pass `--tl-cpu-thread-loops` (on builtin.module): in launches that use
/// `tl.thread_id`, the block's threads become loops split at barriers
/// (docs/cpu-target.md, "Thread-level code"). Runs before --tl-lower-to-cpu.
std::unique_ptr<mlir::Pass> createTlCPUThreadLoopsPass();

/// The pass `--tl-cpu-warp-exchange` (on builtin.module): warp shuffles,
/// votes and match (tl.warp) as exchanges through shared memory between
/// barriers. Runs before --tl-cpu-thread-loops.
std::unique_ptr<mlir::Pass> createTlCPUWarpExchangePass();

/// Registers `--tl-lower-to-cpu` with the global pass registry (tl-opt).
void registerTlToCPUPasses();

/// Registers `--tl-cpu-thread-loops` (called by registerTlToCPUPasses).
void registerTlCPUThreadLoopsPass();

/// Registers `--tl-cpu-warp-exchange` (called by registerTlToCPUPasses).
void registerTlCPUWarpExchangePass();

} // namespace tlc

#endif // TLC_CONVERSION_TLTOCPU_H
