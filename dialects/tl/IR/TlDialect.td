// The `tl` dialect definition: tile-level kernels of the .tl language.
#ifndef TL_IR_TLDIALECT_TD
#define TL_IR_TLDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Tl_Dialect : Dialect {
  let name = "tl";
  let cppNamespace = "::mlir::tl";
  let summary = "Tile-level kernels of the .tl language";
  let description = [{
    The `tl` dialect represents .tl kernels after the front end: a kernel is a
    `func.func` marked `tl.kernel` whose body holds one `tl.launch`. Buffers
    are builtin memrefs whose memory space is a `#tl.scope<...>` attribute;
    tile operations (copy, gemm, reduce, ...) act on whole buffers or static
    regions of them. See docs/dialect.md.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  // tl.kernel / tl.arg_dims / tl.params on func.func, tl.unroll on scf.for.
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class Tl_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tl_Dialect, mnemonic, traits>;

#endif // TL_IR_TLDIALECT_TD
