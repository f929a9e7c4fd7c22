// tl-verify-shared-memory: per-launch shared-memory and TMEM budget check.
// Shared memory is summed in program order so the error lands on the
// allocation that crosses the budget, as the language reference promises.
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLVERIFYSHAREDMEMORY
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

/// mbarrier objects are 64-bit.
constexpr int64_t kBarrierBytes = 8;

struct VerifySharedMemory
    : public tl::impl::TlVerifySharedMemoryBase<VerifySharedMemory> {
  using TlVerifySharedMemoryBase::TlVerifySharedMemoryBase;

  void runOnOperation() override {
    getOperation().walk([&](LaunchOp launch) {
      if (failed(checkLaunch(launch)))
        signalPassFailure();
    });
  }

  LogicalResult checkLaunch(LaunchOp launch) {
    int64_t smem = 0, columns = 0;
    WalkResult result = launch.walk([&](Operation *op) {
      if (auto alloc = dyn_cast<AllocSharedOp>(op)) {
        smem += getBufferBytes(alloc.getResult().getType());
        if (budget > 0 && smem > budget) {
          alloc.emitError("shared memory of this block reaches ")
              << smem << " bytes, over the budget of " << static_cast<int64_t>(budget) << " bytes";
          return WalkResult::interrupt();
        }
      } else if (auto bar = dyn_cast<AllocBarrierOp>(op)) {
        // mbarriers are 8-byte aligned; round the running total up first.
        smem = (smem + kBarrierBytes - 1) / kBarrierBytes * kBarrierBytes +
               bar.getResult().getType().getCount() * kBarrierBytes;
        if (budget > 0 && smem > budget) {
          bar.emitError("shared memory of this block reaches ")
              << smem << " bytes, over the budget of " << static_cast<int64_t>(budget) << " bytes";
          return WalkResult::interrupt();
        }
      } else if (auto tmem = dyn_cast<AllocTmemOp>(op)) {
        columns += getTmemColumns(tmem.getResult().getType());
        if (columns > tmemColumns) {
          tmem.emitError("tensor memory of this block reaches ")
              << columns << " columns, over the " << static_cast<int64_t>(tmemColumns) << " available";
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return failure();
    Builder builder(launch.getContext());
    launch->setAttr(kSmemBytesAttrName, builder.getI64IntegerAttr(smem));
    launch->setAttr(kTmemColumnsAttrName, builder.getI64IntegerAttr(columns));
    return success();
  }
};

} // namespace
