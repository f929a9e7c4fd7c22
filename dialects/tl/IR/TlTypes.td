// Types of the `tl` dialect. Buffers are builtin memrefs; the only tl type is
// the mbarrier array.
#ifndef TL_IR_TLTYPES_TD
#define TL_IR_TLTYPES_TD

include "tl/IR/TlDialect.td"
include "mlir/IR/AttrTypeBase.td"

def Tl_BarrierType : TypeDef<Tl_Dialect, "Barrier"> {
  let mnemonic = "barrier";
  let summary = "an array of mbarriers in shared memory";
  let description = [{
    `!tl.barrier<N>` is an array of `N` mbarrier objects (8 bytes each) in
    the block's shared memory, created by `tl.alloc_barrier` and addressed
    as `%bar[%i]` by the barrier ops.
  }];
  let parameters = (ins "int64_t":$count);
  let assemblyFormat = "`<` $count `>`";
  let genVerifyDecl = 1;
}

#endif // TL_IR_TLTYPES_TD
