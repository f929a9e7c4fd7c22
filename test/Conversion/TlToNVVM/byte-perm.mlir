// tl-lower-to-nvvm: tl.byte_perm is prmt.b32 in its index mode, the selector
// masked to 3 bits a nibble first (prmt's bit 3 would replicate a sign).
// RUN: tl-opt %s --tl-lower-to-nvvm --canonicalize | FileCheck %s

// CHECK-LABEL: llvm.func @byte_perm
// CHECK: %[[M:.*]] = arith.constant 30583 : i32
// CHECK: %[[S:.*]] = arith.andi %[[SEL:.*]], %[[M]] : i32
// CHECK: %[[R:.*]] = llvm.inline_asm asm_dialect = att "prmt.b32 $0, $1, $2, $3;", "=r,r,r,r" %[[A:.*]], %[[B:.*]], %[[S]] : (i32, i32, i32) -> i32
// CHECK: llvm.store %[[R]]
func.func @byte_perm(%Y: memref<?xi32, #tl.scope<global>>, %a: i32, %b: i32, %sel: i32) attributes {tl.kernel, tl.arg_dims = [["N"], unit, unit, unit]} {
  %c1 = arith.constant 1 : index
  tl.launch grid(%c1) threads(32) blocks(%bx) {
    %c0 = arith.constant 0 : index
    %r = tl.byte_perm %a, %b, %sel : i32
    memref.store %r, %Y[%c0] : memref<?xi32, #tl.scope<global>>
  }
  return
}
