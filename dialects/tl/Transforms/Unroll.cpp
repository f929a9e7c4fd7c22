// tl-unroll: scf.for loops marked `tl.unroll` are replaced by their
// iterations.
//
// Two sources mark loops: T.unroll in the source (MLIRGen), and
// tl-distribute-parallel for serial loops whose variable indexes register
// slots (a fragment dimension a thread holds whole), which must be constant
// to stay in registers. Loops are unrolled innermost first; one whose
// unrolled body would exceed kMaxUnrolledOps operations is refused at its
// location rather than left to blow up the compile.
#include "tl/IR/TlOps.h"
#include "tl/Transforms/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"

namespace mlir::tl {
#define GEN_PASS_DEF_TLUNROLL
#include "tl/Transforms/Passes.h.inc"
} // namespace mlir::tl

using namespace mlir;
using namespace mlir::tl;

namespace {

constexpr int64_t kMaxUnrolledOps = 1 << 16;

struct Unroll : public tl::impl::TlUnrollBase<Unroll> {
  using TlUnrollBase::TlUnrollBase;

  void runOnOperation() override {
    SmallVector<scf::ForOp> loops;
    getOperation().walk<WalkOrder::PostOrder>([&](scf::ForOp f) {
      if (f->hasAttr(kUnrollAttrName))
        loops.push_back(f);
    });
    bool ok = true;
    for (scf::ForOp f : loops) {
      std::optional<int64_t> trip;
      if (std::optional<APInt> n = f.getStaticTripCount())
        trip = n->getSExtValue();
      if (!trip) {
        f.emitError("T.unroll needs a loop whose trip count is known when compiling");
        ok = false;
        continue;
      }
      int64_t body = 0;
      f.getBody()->walk([&](Operation *) { ++body; });
      if (*trip * body > kMaxUnrolledOps) {
        f.emitError("unrolling this loop would produce about ")
            << *trip * body << " operations (" << *trip << " iterations of " << body
            << "); the limit is " << kMaxUnrolledOps << ": use T.serial, or unroll an inner loop";
        ok = false;
        continue;
      }
      f->removeAttr(kUnrollAttrName);
      if (failed(loopUnrollFull(f))) {
        f.emitError("this loop could not be unrolled");
        ok = false;
      }
    }
    if (!ok)
      signalPassFailure();
  }
};

} // namespace
