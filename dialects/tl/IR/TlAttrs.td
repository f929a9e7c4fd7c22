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

// A linear layout (tl/IR/LinearLayout.h): basis vectors of the register,
// lane and warp bits (register layouts) or of the offset bits (memory
// layouts), each a coordinate per tile dimension, over a tile of `shape`
// (powers of two).
//   #tl.layout<[64, 16], reg = [(0, 1), (8, 0), (0, 8)],
//              lane = [(0, 2), (0, 4), (1, 0), (2, 0), (4, 0)], warp = [(16, 0), (32, 0)]>
def Tl_LayoutAttr : AttrDef<Tl_Dialect, "Layout"> {
  let mnemonic = "layout";
  let summary = "linear layout: hardware indices to tile coordinates";
  // Bases flattened row by row (bits x rank).
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        ArrayRefParameter<"int64_t">:$reg,
                        ArrayRefParameter<"int64_t">:$lane,
                        ArrayRefParameter<"int64_t">:$warp,
                        ArrayRefParameter<"int64_t">:$offset);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    static LayoutAttr get(::mlir::MLIRContext *ctx, const LinearLayout &layout);
    LinearLayout getLayout() const;
  }];
}

// The memory space of a memref: `memref<128x64xbf16, #tl.scope<shared>>`,
// with the buffer's layout once layout inference has chosen one:
// `memref<128x128xf32, #tl.scope<fragment, #tl.layout<...>>>`.
def Tl_MemScopeAttr : AttrDef<Tl_Dialect, "MemScope"> {
  let mnemonic = "scope";
  let summary = "memory scope of a tl buffer, and its layout";
  let parameters = (ins EnumParameter<Tl_MemScope>:$value,
                        OptionalParameter<"LayoutAttr">:$layout);
  let assemblyFormat = "`<` $value (`,` $layout^)? `>`";
  let builders = [
    AttrBuilder<(ins "MemScope":$value), [{
      return $_get($_ctxt, value, LayoutAttr());
    }]>
  ];
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
