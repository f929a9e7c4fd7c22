// Passes over the `tl` dialect.
#ifndef TL_TRANSFORMS_PASSES_TD
#define TL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TlVerifySharedMemory : Pass<"tl-verify-shared-memory", "func::FuncOp"> {
  let summary = "Check per-launch shared-memory and tensor-memory budgets";
  let description = [{
    Sums the bytes of every `tl.alloc_shared` (FP4 packed two per byte) and
    `tl.alloc_barrier` (8 bytes per mbarrier) in each `tl.launch`, and the
    32-bit columns of every `tl.alloc_tmem`. Reports an error at the
    allocation that crosses a budget, and records the totals on the launch as
    `tl.smem_bytes` / `tl.tmem_columns` (i64) for later passes and the
    kernel manifest.
  }];
  let options = [
    Option<"budget", "budget", "int64_t", /*default=*/"232448",
           "Shared-memory budget per block in bytes (default 227 KiB); 0 = unlimited">,
    Option<"tmemColumns", "tmem-columns", "int64_t", /*default=*/"512",
           "Tensor-memory columns per block">
  ];
}

#endif // TL_TRANSFORMS_PASSES_TD
