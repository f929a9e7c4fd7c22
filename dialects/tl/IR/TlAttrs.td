// Enums and attributes of the `tl` dialect: memory scopes, GEMM warp
// policies and reduction kinds.
#ifndef TL_IR_TLATTRS_TD
#define TL_IR_TLATTRS_TD

include "tl/IR/TlDialect.td"
include "mlir/IR/EnumAttr.td"

// The memory space of a memref: `memref<128x64xbf16, #tl.scope<shared>>`.
def Tl_MemScope : I32EnumAttr<"MemScope", "memory scope of a tl buffer", [
    I32EnumAttrCase<"Global", 0, "global">,
    I32EnumAttrCase<"Shared", 1, "shared">,
    I32EnumAttrCase<"Fragment", 2, "fragment">,
    I32EnumAttrCase<"Local", 3, "local">,
    I32EnumAttrCase<"Tmem", 4, "tmem">
  ]> {
  let cppNamespace = "::mlir::tl";
  let genSpecializedAttr = 0;
}

def Tl_MemScopeAttr : EnumAttr<Tl_Dialect, Tl_MemScope, "scope"> {
  let assemblyFormat = "`<` $value `>`";
}

// How tl.gemm spreads the warps of a block over the C tile. Printed as a bare
// keyword in op syntax (`policy = full_row`).
def Tl_GemmPolicy : I32EnumAttr<"GemmPolicy", "warp partition of a tile GEMM", [
    I32EnumAttrCase<"Square", 0, "square">,
    I32EnumAttrCase<"FullRow", 1, "full_row">,
    I32EnumAttrCase<"FullCol", 2, "full_col">
  ]> {
  let cppNamespace = "::mlir::tl";
}

def Tl_ReduceKind : I32EnumAttr<"ReduceKind", "tile reduction kind", [
    I32EnumAttrCase<"Sum", 0, "sum">,
    I32EnumAttrCase<"Max", 1, "max">,
    I32EnumAttrCase<"Min", 2, "min">,
    I32EnumAttrCase<"AbsSum", 3, "abssum">,
    I32EnumAttrCase<"AbsMax", 4, "absmax">
  ]> {
  let cppNamespace = "::mlir::tl";
}

#endif // TL_IR_TLATTRS_TD
